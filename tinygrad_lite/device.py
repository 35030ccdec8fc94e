"""Devices: ``"cpu"`` keeps arrays in numpy, ``"cuda"`` keeps them in CuPy.

Every op is written against the numpy API. CuPy arrays implement the same API (and numpy's ufuncs and
functions dispatch to CuPy when handed CuPy arrays), so the same op code runs on both devices.

CuPy is optional: it is imported the first time a "cuda" tensor is asked for (``cupy_or_error``), never before.
It must be CuPy 13 or newer (``cuda.find_cupy`` says so). CuPy refuses to mix its
arrays with numpy ones; ``check_same_device`` turns that refusal into PyTorch's error, which names the two devices
and the fix. A GPU played on the CPU (tinygrad_lite.course.stand_in_gpu.py), a numpy-backed stand-in
with CuPy's API and refusals, goes into ``_cupy`` to run every "cuda" path on a machine without a GPU (the tests,
and lessons 08 and 09).
"""
import contextlib
import sys

import numpy as np


class device:
    """Where a tensor's numbers live: ``device("cpu")``, ``device("cuda")`` or ``device("cuda:1")``."""

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        else:
            type, index = parse(type, index)
        self.type, self.index = type, index

    def __eq__(self, other):
        """Same type and same index, as PyTorch compares devices: ``device("cpu:0") != device("cpu")`` and
        ``device("cuda") != device("cuda:0")`` (no index means "the current one", which is not a number). A tensor's
        ``.device`` on a GPU always has its index (``cuda:0``).

        Differs on purpose: a string is read as a place, ``t.device == "cuda"`` is True for a tensor on the current
        GPU and ``t.device == "cpu"`` for one on the CPU (``same_place``); PyTorch compares a device with a string
        as unequal, always."""
        if isinstance(other, str):
            return same_place(self, other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"


def parse(spec, index=None):
    """Split a device string such as ``"cuda:1"`` into ("cuda", 1), with a clear error for anything else. A number
    alone is a GPU's index, as in PyTorch: ``device(1)`` is ``cuda:1``."""
    if isinstance(spec, int) and not isinstance(spec, bool) and spec >= 0 and index is None:
        return "cuda", spec
    if not isinstance(spec, str):
        raise TypeError(f"device(): expected a device string such as 'cpu', 'cuda' or 'cuda:1' (or a device), got "
                        f"{type(spec).__name__} {spec!r}")
    kind, colon, number = spec.partition(":")
    if kind not in ("cpu", "cuda"):
        hint = (" ('gpu' is called 'cuda')" if kind.strip().lower() in ("gpu", "cuda", "nvidia") else
                f" (the {kind!r} device is not covered by tinygrad_lite, whose tensors always hold numbers, on the "
                "CPU or an NVIDIA GPU)" if kind in ("meta", "mps", "xpu", "xla", "hip", "ipu", "mtia") else "")
        raise RuntimeError(f"device(): expected one of cpu, cuda device type at start of device string: {spec!r}"
                           f"{hint}; e.g. 'cpu', 'cuda' or 'cuda:0'")
    if colon:
        if index is not None or not number.isdigit() or not number.isascii():
            raise RuntimeError(f"device(): invalid device string {spec!r}: after the colon comes the device index, "
                               f"a whole number >= 0 without spaces, e.g. '{kind}:0'")
        index = int(number)
    elif index is not None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"device(): argument 'index' must be an int, got {type(index).__name__} {index!r}")
        if index < 0:
            raise RuntimeError(f"device(): the device index must not be negative, got {index}")
    return kind, index


def cuda_device(index=None):
    """The GPU that ``x.cuda(index)`` and ``model.cuda(index)`` mean: the current one for None, else an index
    (1), a string ("cuda:1") or a device."""
    place = device("cuda") if index is None else device(index)
    if place.type != "cuda":
        raise RuntimeError(f"cuda(): invalid device {place}, it must be a GPU ('cuda', 'cuda:1' or an index)")
    return place


CPU = device("cpu")
_default_device = CPU


def set_default_device(device):
    """Where new tensors are made when no ``device=`` is given (``torch.set_default_device``); None is the CPU.
    ``"cuda"`` needs CuPy and a GPU, checked when the first tensor is made (as in PyTorch)."""
    global _default_device
    _default_device = CPU if device is None else type(CPU)(device)  # (type(CPU): the class the argument hides)


def get_default_device():
    return _default_device


_cupy = None  # CuPy, imported the first time "cuda" is asked for (tests/fake_cupy.py puts a stand-in here)
_no_cupy = None  # why CuPy could not be had, once that is known: asking again is then as cheap as a True answer


def cupy_or_error():
    """CuPy (imported now if it was not yet), or an error that explains how to get a GPU set-up."""
    global _cupy, _no_cupy
    if _cupy is None:
        if _no_cupy is None:  # not tried yet (a failed import is not cached by Python: trying costs ~40 us each time)
            from .cuda import find_cupy  # (cuda.py, which imports this module, says what CuPy it needs)
            _cupy, _no_cupy = find_cupy()
        if _cupy is None:
            raise RuntimeError(_no_cupy)
    return _cupy


def is_gpu_array(x):
    """Is ``x`` a CuPy array (or the stand-in's)? Answered from its class, so a CuPy that sees no GPU, or one the
    library has not imported yet, answers too; never imports CuPy."""
    for cupy in (_cupy, sys.modules.get("cupy")):
        if cupy is not None and isinstance(x, cupy.ndarray):
            return True
    return False


def check_same_device(op, tensors, arrays=()):
    """Raise PyTorch's error when ``tensors`` (an op's inputs) live on different devices; the fix is ``.to``.
    ``arrays``: what else the op takes (a condition, an index), of which the GPU arrays must be on that device too
    (an index of host numbers may index a GPU tensor)."""
    devices = list(dict.fromkeys([str(device_of(t.array)) for t in tensors] +
                                 [str(device_of(a)) for a in arrays if is_gpu_array(a)]))
    if len(devices) > 1:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{devices[0]} and {devices[1]} (in {op}). Move them to one device first: "
                           f"x.to(other.device), or model.to(device) and batch.to(device)")


def array_module(dev):
    """numpy for the CPU, CuPy for CUDA: the module whose functions make arrays on ``dev``."""
    return np if device(dev).type == "cpu" else cupy_or_error()


@contextlib.contextmanager
def creating_on(dev):
    """The array module of ``dev``, with new arrays made on it: ``with creating_on("cuda:1") as xp: xp.zeros(3)``
    makes the zeros on GPU 1 (CuPy makes new arrays on the *current* GPU), without copying anything from the host."""
    dev = device(dev)
    if dev.type == "cpu":
        yield np
        return
    cupy = cupy_or_error()
    with cupy.cuda.Device(dev.index or 0):
        yield cupy


_ON_THE_HOST = contextlib.nullcontext()  # (reusable: nothing to set up or undo)


def on_device_of(array):
    """A context in which new arrays are made on ``array``'s GPU. CuPy makes an array (``asarray(2.0)``, ``ones``)
    on the *current* GPU, GPU 0 unless told; a constant for an op on cuda:1 must be made with cuda:1 current.
    On the CPU there is nothing to do."""
    if type(array).__module__.startswith("numpy"):
        return _ON_THE_HOST
    return cupy_or_error().cuda.Device(array.device.id)


def array_module_of(array):
    """The module that owns ``array`` (numpy or CuPy) without importing CuPy for numpy arrays."""
    return np if type(array).__module__.startswith("numpy") else cupy_or_error()


def same_device(a, b):
    """Do the arrays ``a`` and ``b`` live on one device: the CPU, or one GPU (cuda:0 and cuda:1 are two)?"""
    return type(a) is type(b) and (type(a) is np.ndarray or a.device.id == b.device.id)


def device_of(array):
    return CPU if type(array).__module__.startswith("numpy") else device("cuda", array.device.id)


def same_place(dev, other):
    """Do ``dev`` and ``other`` name the same memory? Unlike ``==``, "cuda" (the current GPU, which is GPU 0 here)
    and "cuda:0" do, and so do "cpu" and "cpu:0": the question ``.to(device)`` asks before it copies."""
    dev, other = device(dev), device(other)
    return (dev.type, dev.index or 0) == (other.type, other.index or 0)


def move(array, dev):
    """Copy ``array`` to ``dev`` (a no-op when it is already there)."""
    dev = device(dev)
    if same_place(device_of(array), dev):
        return array
    if dev.type == "cpu":
        return array.get()
    cupy = cupy_or_error()
    with cupy.cuda.Device(dev.index or 0):
        return cupy.asarray(array)
