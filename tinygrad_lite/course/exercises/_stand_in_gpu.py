"""A GPU played on the CPU, for the checks of lessons 08 and 09: a stand-in for CuPy, with numpy doing the work.

Inside ``with stand_in_gpu():`` tinygrad_lite's "cuda" device runs on this stand-in. ``x.to("cuda")`` copies x
into a stand-in GPU array, every op on such arrays returns one on the GPU, and the library's own device rules
apply as they would on a real GPU: an op that mixes a CPU tensor with a "cuda" one raises PyTorch's "Expected
all tensors to be on the same device" error. The stand-in's arrays behave like CuPy's where device bugs show:

- an op that mixes one with a numpy (host) array raises TypeError, as CuPy does;
- ``np.asarray(gpu_array)`` raises TypeError, as CuPy does: the only way back to the host is ``.get()``;
- there is one GPU, ``cuda:0`` (``"cuda:1"`` is an error, as on a machine with one GPU);
- reductions return 0-d device arrays, not numpy scalars.

So a training step that forgets to move its batch, moves it elsewhere, or reads a GPU array as numpy
fails here as it would on a GPU, while a right one runs, whatever ops it applies to the batch on the way (a
view, a cast, a scaling). What it cannot show: speed, asynchronous execution, numerical differences of GPU
kernels.

Inside ``with no_gpu():`` the machine has no GPU at all (``tl.cuda.is_available()`` is False, "cuda" raises the
library's error), whatever this machine has: a check's CPU case then behaves the same everywhere, and code that
hard-codes "cuda" fails on it as on a laptop.

(tests/fake_cupy.py is the test suite's stand-in, on which tests/test_devices.py runs every "cuda" path of the
library. This one lives in the package because a check runs in the learner's kernel, where tests/ is not.)
"""
import contextlib
import importlib
import types
import weakref

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

_wrappers = weakref.WeakValueDictionary()  # id(numpy array) -> its wrapper, so that `a.base is b` keeps working


def wrap(x):
    """A GPU array for a numpy result (0-d for a numpy scalar); tuples and lists element by element."""
    if isinstance(x, np.generic):
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        found = _wrappers.get(id(x))
        if found is not None and found._a is x:
            return found
        found = ndarray(x)
        _wrappers[id(x)] = found
        return found
    if isinstance(x, (tuple, list)):
        return type(x)(wrap(v) for v in x)
    return x


def unwrap(x, what):
    """The numpy arrays inside ``x``; a numpy (host) array is refused, as CuPy refuses it."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type {type(x)} in {what}: a numpy (host) array mixed with a GPU array")
    if isinstance(x, (tuple, list)):
        return type(x)(unwrap(v, what) for v in x)
    if isinstance(x, dict):
        return {k: unwrap(v, what) for k, v in x.items()}
    return x


def _unwrap_index(index):
    """Indices may be host arrays or lists (CuPy copies them over); GPU arrays are unwrapped."""
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    return index._a if isinstance(index, ndarray) else index


class _Device:
    """``cupy.cuda.Device(i)``: there is one GPU, number 0."""

    def __init__(self, index=0):
        self.id = int(index)

    def __enter__(self):
        if self.id != 0:
            raise RuntimeError(f"CUDA error: invalid device ordinal (cuda:{self.id}): this machine has one GPU, "
                               "cuda:0")
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        pass


class ndarray(NDArrayOperatorsMixin):
    """A stand-in GPU array: numpy numbers behind CuPy's rules."""
    __slots__ = ("_a", "__weakref__")

    def __init__(self, array):
        self._a = array

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: wrap(self._a.T))
    base = property(lambda self: None if self._a.base is None else wrap(self._a.base))
    device = property(lambda self: _Device(0))

    def __array_namespace__(self, api_version=None):
        return StandInCuPy.current

    def get(self):
        """The numbers copied to the host, as a numpy array (the one way back, as in CuPy)."""
        return self._a.copy()

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                        "NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if method == "at":  # ufunc.at(a, index, values): the index may be host data, as in indexing
            a, index, *values = inputs
            return ufunc.at(unwrap(a, "at"), _unwrap_index(index), *unwrap(values, "at"))
        result = getattr(ufunc, method)(*unwrap(inputs, ufunc.__name__), **unwrap(kwargs, ufunc.__name__))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        return wrap(func(*unwrap(args, func.__name__), **unwrap(kwargs, func.__name__)))

    def __getitem__(self, index):
        return wrap(self._a[_unwrap_index(index)])

    def __setitem__(self, index, value):
        self._a[_unwrap_index(index)] = unwrap(value, "setitem")

    def __getattr__(self, name):
        if name.startswith("__"):  # (numpy's __array_interface__ would let np.asarray read the numbers silently)
            raise AttributeError(name)
        attribute = getattr(self._a, name)
        if not callable(attribute):
            return wrap(attribute)

        def method(*args, **kwargs):
            return wrap(attribute(*unwrap(args, name), **unwrap(kwargs, name)))
        return method

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (wrap(row) for row in self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __bool__(self):
        return bool(self._a)

    def __index__(self):
        return self._a.__index__()

    def __repr__(self):
        return f"stand_in_gpu.array({self._a!r})"

    def __reduce__(self):
        raise TypeError("a GPU array cannot be pickled directly; use .get()")


class StandInCuPy(types.ModuleType):
    """The module: numpy's functions on stand-in GPU arrays, plus the parts of CuPy that tinygrad_lite uses."""
    ndarray = ndarray
    current = None  # the instance in use (set by stand_in_gpu)

    def __init__(self):
        super().__init__("cupy")
        runtime = types.SimpleNamespace(getDeviceCount=lambda: 1,
                                        getDeviceProperties=lambda index: {"name": b"GPU played on the CPU"})
        self.cuda = types.SimpleNamespace(Device=_Device, runtime=runtime)
        pool = types.SimpleNamespace(used_bytes=lambda: 0, free_all_blocks=lambda: None)
        self.get_default_memory_pool = lambda: pool

    def asarray(self, data, dtype=None):
        """Host data copied to the GPU; a GPU array stays itself (or is cast)."""
        if isinstance(data, ndarray):
            return data if dtype is None or data.dtype == dtype else data.astype(dtype)
        return wrap(np.array(data, dtype=dtype))

    array = asarray

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        function = getattr(np, name)
        if not callable(function) or isinstance(function, (np.ufunc, type)):
            return function  # a ufunc dispatches to ndarray.__array_ufunc__ by itself; dtypes are numpy's

        def on_device(*args, **kwargs):
            return wrap(function(*unwrap(args, name), **unwrap(kwargs, name)))
        return on_device


def _device_module():
    return importlib.import_module("tinygrad_lite.device")  # (tinygrad_lite.device is the device class)


@contextlib.contextmanager
def stand_in_gpu():
    """Inside the block, tinygrad_lite's "cuda" device is the stand-in GPU (one: ``cuda:0``)."""
    module = _device_module()
    saved = module._cupy, StandInCuPy.current
    module._cupy = StandInCuPy.current = StandInCuPy()  # device.cupy_or_error() hands it out from now on
    try:
        yield module._cupy
    finally:
        module._cupy, StandInCuPy.current = saved


def _no_gpu_error():
    raise RuntimeError("device 'cuda' needs CuPy and an NVIDIA GPU: pip install cupy-cuda12x (or use device='cpu'; "
                       "check tinygrad_lite.cuda.is_available() first). Cause: this case plays a machine without a "
                       "GPU")


@contextlib.contextmanager
def no_gpu():
    """Inside the block the machine has no GPU: "cuda" raises the library's error, is_available() is False."""
    module = _device_module()
    saved = module._cupy, module.cupy_or_error
    module._cupy, module.cupy_or_error = None, _no_gpu_error
    try:
        yield
    finally:
        module._cupy, module.cupy_or_error = saved


def on_gpu(tensor):
    """Is ``tensor`` on the stand-in GPU?"""
    return isinstance(getattr(tensor, "array", None), ndarray)
