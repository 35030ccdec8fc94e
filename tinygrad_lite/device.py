"""Devices: ``"cpu"`` keeps arrays in numpy, ``"cuda"`` keeps them in CuPy.

Every op is written against the numpy API. CuPy arrays implement the same API (and numpy's ufuncs and
functions dispatch to CuPy when handed CuPy arrays), so the same op code runs on both devices.
"""
import numpy as np


class device:
    """Where a tensor's numbers live: ``device("cpu")``, ``device("cuda")`` or ``device("cuda:1")``."""

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, str) and ":" in type:
            type, _, idx = type.partition(":")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        self.type, self.index = type, index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index or 0) == (other.type, other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"


CPU = device("cpu")


def cupy_or_error():
    """Import CuPy, or explain how to get a GPU set-up."""
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
        return cupy
    except Exception as e:  # ImportError, or CuPy installed without a usable GPU
        raise RuntimeError(
            "device 'cuda' needs CuPy and an NVIDIA GPU: pip install cupy-cuda12x "
            f"(or use device='cpu'; check tinygrad_lite.cuda.is_available() first). Cause: {e}") from None


def array_module(dev):
    """numpy for the CPU, CuPy for CUDA: the module whose functions make arrays on ``dev``."""
    return np if device(dev).type == "cpu" else cupy_or_error()


def array_module_of(array):
    """The module that owns ``array`` (numpy or CuPy) without importing CuPy for numpy arrays."""
    return np if type(array).__module__.startswith("numpy") else cupy_or_error()


def device_of(array):
    if type(array).__module__.startswith("numpy"):
        return CPU
    return device("cuda", array.device.id)


def move(array, dev):
    """Copy ``array`` to ``dev`` (a no-op when it is already there)."""
    dev = device(dev)
    if device_of(array) == dev:
        return array
    if dev.type == "cpu":
        return array.get()
    cupy = cupy_or_error()
    with cupy.cuda.Device(dev.index or 0):
        return cupy.asarray(array)
