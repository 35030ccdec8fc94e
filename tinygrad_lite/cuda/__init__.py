"""``tinygrad_lite.cuda``: is a GPU usable? Mirrors the small part of ``torch.cuda`` that scripts use.

The GPU is reached through CuPy, an optional extra (``INSTALL_CUPY``): nothing imports it until a "cuda" tensor
or one of these functions asks for it, and then only once (``device.cupy_or_error``, which calls ``find_cupy``).
The usual device-agnostic line::

    device = "cuda" if torch.cuda.is_available() else "cpu"

``tinygrad_lite.cuda.amp`` holds PyTorch's deprecated ``torch.cuda.amp.autocast`` and ``GradScaler`` spellings
(``amp.py``), loaded on first use.
"""
import importlib
import re

from .. import device as _device
from ..coverage import not_covered as _not_covered
from .. import random as _random

MIN_CUPY = (13, 0)  # the oldest CuPy with what the library calls (tests/test_cupy_contract.py checks 13.6 and 14.2)
TESTED_CUPY = "14.2.0"  # the CuPy the course is tested with: constraints.txt pins it; the README, environment.yml
INSTALL_CUPY = f"pip install cupy-cuda12x=={TESTED_CUPY}"  # and this hint name it (test_cupy_contract.py checks)


def find_cupy():
    """(CuPy, None) when it imports and sees a GPU, else (None, the reason and the fix). Asked once per process:
    ``tinygrad_lite.cuda.is_available()`` sits in loops (a timer's synchronize guard), so its answer is kept, as
    PyTorch keeps its own; a CuPy installed while the process runs is seen after a restart."""
    try:
        import cupy  # optional: imported the first time a "cuda" tensor is asked for
    except Exception as e:  # noqa: BLE001  (ImportError, or a broken install: any of its errors)
        return None, (f"device 'cuda' needs CuPy and an NVIDIA GPU: {INSTALL_CUPY} (or use device='cpu'; check "
                      f"tinygrad_lite.cuda.is_available() first). Cause: {e}")
    version = getattr(cupy, "__version__", "0")
    if _version_tuple(version) < MIN_CUPY:
        return None, (f"device 'cuda' needs CuPy {'.'.join(map(str, MIN_CUPY))} or newer, and this is CuPy "
                      f"{version}: {INSTALL_CUPY} (or use device='cpu')")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001  (CuPy installed without a usable GPU or driver: any of its errors)
        return None, (f"device 'cuda' needs an NVIDIA GPU and its driver; CuPy {version} is installed but cannot use "
                      f"one (use device='cpu'; check tinygrad_lite.cuda.is_available() first). Cause: {e}")
    if count == 0:
        return None, ("device 'cuda': CuPy is installed but sees no GPU; use device='cpu' "
                      "(check tinygrad_lite.cuda.is_available() first)")
    return cupy, None


def _version_tuple(version):
    """(13, 6) for "13.6.0" or "13.6.0rc1"; (0, 0) where it starts with no numbers."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    try:
        _device.cupy_or_error()
        return True
    except RuntimeError:
        return False


def is_bf16_supported(including_emulation=True):
    """False: this library has no bfloat16 on any device (numpy and so CuPy's arrays here lack it), so a script that
    asks before choosing its autocast dtype picks float16 (``torch.cuda.is_bf16_supported``)."""
    return False


def device_count():
    """How many GPUs CuPy sees (0 without CuPy or without a GPU)."""
    if not is_available():
        return 0
    return _device.cupy_or_error().cuda.runtime.getDeviceCount()


def current_device():
    """The index of the GPU new ``"cuda"`` tensors go to (always 0 here: ``"cuda"`` means ``"cuda:0"``)."""
    _device.cupy_or_error()
    return 0


def manual_seed(seed):
    """Seed the current GPU's random numbers (``tinygrad_lite.manual_seed`` seeds the CPU's and every GPU's). They
    are drawn on the GPU (``random.py``), so one seed gives other numbers there than on the CPU, as in PyTorch."""
    _random.seed_cuda(seed, 0)


def manual_seed_all(seed):
    """Seed every GPU's random numbers."""
    _random.seed_cuda(seed)


def get_rng_state(device="cuda"):
    """The state of a GPU's generator, a uint8 tensor (its seed and offset: ``random.py``); save it beside
    ``tinygrad_lite.get_rng_state()`` to replay a run's GPU draws (dropout masks) exactly."""
    return _gpu_generator(device).get_state()


def set_rng_state(new_state, device="cuda"):
    _gpu_generator(device).set_state(new_state)


def get_rng_state_all():
    """The states of the generators of all GPUs that have drawn so far, by GPU index; [] without a GPU, as
    PyTorch's (whose list has one per GPU)."""
    if not is_available():
        return []
    return [_random.cuda_generator(i).get_state() for i in range(max(_random._cuda_generators, default=-1) + 1)]


def set_rng_state_all(new_states):
    for index, state in enumerate(new_states):
        _random.cuda_generator(index).set_state(state)


def _index(device):
    return device if isinstance(device, int) else _device.device(device).index or 0


def _gpu_generator(device):
    """The default generator of GPU ``device``, which must be there: without a GPU, or for cuda:5 on a machine with
    one, the usual error, before a generator is made for it (checkpoints list every GPU's generator)."""
    index = _index(device)
    with _device.creating_on(_device.device("cuda", index)):
        return _random.cuda_generator(index)


def versions():
    """What the "cuda" device runs on (ours; PyTorch shows its build's CUDA as ``torch.version.cuda``): CuPy's
    version, and the CUDA runtime's and the driver's as "major.minor", e.g. ``{"cupy": "14.2.0", "cuda_runtime":
    "12.9", "cuda_driver": "13.0"}``. Raises the usual error without CuPy or a GPU."""
    cupy = _device.cupy_or_error()
    runtime = cupy.cuda.runtime

    def major_minor(number):  # CUDA encodes 12.9 as 12090
        return f"{number // 1000}.{number % 1000 // 10}" if number else None
    return {"cupy": cupy.__version__, "cuda_runtime": major_minor(runtime.runtimeGetVersion()),
            "cuda_driver": major_minor(runtime.driverGetVersion())}


def synchronize(device=None):
    """Wait until the GPU has finished all the work queued so far.

    GPU calls are asynchronous: ``y = x @ x`` returns as soon as the work is queued, so a timer stopped right after
    measures the queueing, not the multiply. Call ``synchronize()`` before reading the clock. As in PyTorch, this
    needs a GPU: on a CPU-only machine it raises (guard it with ``if device == "cuda"``).
    """
    cupy = _device.cupy_or_error()
    index = 0 if device is None else _device.device(device).index or 0
    cupy.cuda.Device(index).synchronize()


def get_device_name(device=None):
    """The GPU's name, e.g. "NVIDIA H100 80GB HBM3" (``torch.cuda.get_device_name``)."""
    cupy = _device.cupy_or_error()
    index = 0 if device is None else device if isinstance(device, int) else _device.device(device).index or 0
    name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else name


def memory_allocated(device=None):
    """Bytes of GPU memory held by tensors now (CuPy's memory pool: blocks in use); 0 without a GPU, as PyTorch's."""
    return _device.cupy_or_error().get_default_memory_pool().used_bytes() if is_available() else 0


def empty_cache():
    """Give the memory pool's unused blocks back to the GPU (what ``nvidia-smi`` shows drops; tensors stay)."""
    if is_available():
        _device.cupy_or_error().get_default_memory_pool().free_all_blocks()


def __getattr__(name):
    """``tl.cuda.amp`` is loaded on first use: it builds on ``tinygrad_lite.amp``, which imports this module (PyTorch's
    ``torch.cuda`` imports its ``amp`` at once; ``import tinygrad_lite.cuda.amp`` works too). Another name
    (``Event``, ``max_memory_allocated``...) says that it is not covered (``coverage.py``)."""
    if name == "amp":
        return importlib.import_module(f"{__name__}.amp")
    if name in _INSTEAD:  # the two a GPU script most often asks for
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}: {_INSTEAD[name]}", name=name)
    raise _not_covered(__name__, name)


_INSTEAD = {"Event": "time GPU work with time.perf_counter() after tl.cuda.synchronize(), before and after the work "
                     "(lesson 08 does)",
            "max_memory_allocated": "tl.cuda.memory_allocated() gives the bytes tensors hold now; no peak is kept"}
