"""An honest stand-in for CuPy, so that the "cuda" paths can be tested on a machine without a GPU.

``FakeCuPy`` answers the calls tinygrad_lite makes of CuPy, with numpy doing the arithmetic. Its arrays are NOT numpy
arrays (they wrap one), and they behave like CuPy's where it matters for device bugs:

- an op that mixes one with a plain numpy array raises TypeError, as CuPy does ("Unsupported type");
- ``np.asarray(gpu_array)`` raises TypeError, as CuPy does: the only way back to the host is ``.get()``;
- reductions return 0-d device arrays, not numpy scalars;
- each array lives on one GPU (``FakeCuPy(devices=2)`` has two): new arrays go to the current device
  (``with cupy.cuda.Device(1):``), results to their inputs' device, and an op that mixes arrays of two GPUs
  raises ValueError, as CuPy does;
- every host -> device copy (``cupy.asarray`` of host data) and device -> host copy (``.get()``) is counted.

So a code path that forgets the device (makes a numpy array where the tensor lives on the GPU, or reads a GPU array
as numpy) fails here as it would on a GPU. What it cannot show: CuPy functions that numpy has but CuPy lacks,
numerical differences of GPU kernels, asynchronous execution and speed. tests/test_cuda.py runs on real CuPy.
"""
import math
import types
import weakref

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

_wrappers = weakref.WeakValueDictionary()  # id(numpy array) -> its wrapper, so that a.base is b keeps working


def wrap(x, device=None):
    """A device array for a numpy result (0-d for a numpy scalar); tuples and lists element by element. It lives on
    ``device`` (the current device if None)."""
    if isinstance(x, np.generic):
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        found = _wrappers.get(id(x))
        if found is not None and found._a is x:
            return found
        found = ndarray(x, _current[-1] if device is None else device)
        _wrappers[id(x)] = found
        return found
    if isinstance(x, (tuple, list)):
        return type(x)(wrap(v, device) for v in x)
    return x


def device_of(*args):
    """The one device of the GPU arrays in ``args`` (nested); ValueError, as CuPy's, if they are on two."""
    found = set()

    def visit(x):
        if isinstance(x, ndarray):
            found.add(x._device)
        elif isinstance(x, (tuple, list)):
            for v in x:
                visit(v)
        elif isinstance(x, dict):
            for v in x.values():
                visit(v)
    visit(args)
    if len(found) > 1:
        a, b = sorted(found)[:2]
        raise ValueError(f"Array device must be same as the current device: array device = {b} while current = {a}")
    return found.pop() if found else None


def unwrap(x, what):
    """The numpy arrays inside ``x`` (nested tuples, lists, dicts); a plain numpy array is refused, as CuPy does."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type {type(x)} in {what}: a numpy (host) array mixed with a GPU array")
    if isinstance(x, (tuple, list)):
        return type(x)(unwrap(v, what) for v in x)
    if isinstance(x, dict):
        return {k: unwrap(v, what) for k, v in x.items()}
    return x


def unwrap_index(index):
    """Indices may be host arrays or lists (CuPy copies them over); GPU arrays are unwrapped."""
    if isinstance(index, tuple):
        return tuple(unwrap_index(i) for i in index)
    return index._a if isinstance(index, ndarray) else index


class Transfers:
    def __init__(self):
        self.to_device = self.to_host = 0


_current = [0]  # the current device, innermost ``with cupy.cuda.Device(i):`` last


class _Device:
    def __init__(self, index):
        if not 0 <= index < FakeCuPy.device_count:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {index} (this stand-in has "
                               f"{FakeCuPy.device_count} GPU(s))")
        self.id = index

    def __enter__(self):
        _current.append(self.id)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False

    def synchronize(self):
        FakeCuPy.synchronized += 1


class ndarray(NDArrayOperatorsMixin):
    """A "GPU" array: numpy numbers behind CuPy's rules."""
    __slots__ = ("_a", "_device", "__weakref__")

    def __init__(self, array, device=0):
        self._a, self._device = array, device

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: wrap(self._a.T, self._device))
    base = property(lambda self: None if self._a.base is None else wrap(self._a.base, self._device))
    device = property(lambda self: _Device(self._device))

    def __array_namespace__(self, api_version=None):
        """The array API's "which module owns this array" (CuPy >= 13 has it; tinygrad_lite's as_array checks it)."""
        return FakeCuPy.current

    def get(self):
        """The numbers copied to the host, as a numpy array (the one way back, as in CuPy)."""
        FakeCuPy.transfers.to_host += 1
        return self._a.copy()

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                        "NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if method == "at":  # ufunc.at(a, index, values): the index may be host data, as in indexing
            a, index, *values = inputs
            return ufunc.at(unwrap(a, "at"), unwrap_index(index), *unwrap(values, "at"))
        device = device_of(inputs, kwargs)
        result = getattr(ufunc, method)(*unwrap(inputs, ufunc.__name__), **unwrap(kwargs, ufunc.__name__))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return wrap(result, device)

    def __array_function__(self, func, types, args, kwargs):
        device = device_of(args, kwargs)
        return wrap(func(*unwrap(args, func.__name__), **unwrap(kwargs, func.__name__)), device)

    def __getitem__(self, index):
        return wrap(self._a[unwrap_index(index)], self._device)

    def __setitem__(self, index, value):
        device_of(self, value)
        self._a[unwrap_index(index)] = unwrap(value, "setitem")

    def __getattr__(self, name):
        if name.startswith("__"):  # (numpy's __array_interface__ would let np.asarray read the numbers silently)
            raise AttributeError(name)
        attribute = getattr(self._a, name)
        if not callable(attribute):
            return wrap(attribute, self._device)

        def method(*args, **kwargs):
            device = device_of(self, args, kwargs)
            return wrap(attribute(*unwrap(args, name), **unwrap(kwargs, name)), device)
        return method

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (wrap(row, self._device) for row in self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __bool__(self):
        return bool(self._a)

    def __index__(self):
        return self._a.__index__()

    def __repr__(self):
        return f"fake_cupy.array({self._a!r})"

    def __reduce__(self):
        raise TypeError("a GPU array cannot be pickled directly; use .get()")


class FakeCuPy(types.ModuleType):
    """The module: numpy's functions on device arrays, plus the CuPy parts tinygrad_lite uses."""
    transfers = Transfers()
    synchronized = 0
    device_count = 1
    ndarray = ndarray

    def __init__(self, devices=1):
        super().__init__("cupy")
        FakeCuPy.transfers, FakeCuPy.synchronized, FakeCuPy.current = Transfers(), 0, self
        FakeCuPy.device_count, _current[:] = devices, [0]
        runtime = types.SimpleNamespace(getDeviceCount=lambda: FakeCuPy.device_count,
                                        getDeviceProperties=lambda index: {"name": b"Stand-in GPU (numpy)"})
        self.cuda = types.SimpleNamespace(Device=lambda index=0: _Device(index), runtime=runtime)
        pool = types.SimpleNamespace(used_bytes=lambda: 0, free_all_blocks=lambda: None)
        self.get_default_memory_pool = lambda: pool

    def asarray(self, data, dtype=None):
        """Host data copied to the current GPU (counted); a device array stays itself (or is cast), or is copied to
        the current GPU if it is on another one."""
        if isinstance(data, ndarray):
            if data._device != _current[-1]:
                return ndarray(data._a.astype(dtype or data.dtype, copy=True), _current[-1])
            return data if dtype is None or data.dtype == dtype else data.astype(dtype)
        FakeCuPy.transfers.to_device += 1
        return wrap(np.array(data, dtype=dtype), _current[-1])

    array = asarray

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        function = getattr(np, name)
        if not callable(function) or isinstance(function, (np.ufunc, type)):
            return function  # a ufunc dispatches to ndarray.__array_ufunc__ by itself; dtypes are numpy's

        def on_device(*args, **kwargs):  # on its arguments' device, or the current one (zeros, ones, arange...)
            device = device_of(args, kwargs)
            return wrap(function(*unwrap(args, name), **unwrap(kwargs, name)), device)
        return on_device


def fake_cupyx():
    """``cupyx.scipy.special`` with ``erf`` (GELU's exact form uses it)."""
    special = types.ModuleType("cupyx.scipy.special")
    special.erf = lambda x: wrap(np.vectorize(math.erf, otypes=[x.dtype])(x._a), x._device)
    scipy = types.ModuleType("cupyx.scipy")
    scipy.special = special
    cupyx = types.ModuleType("cupyx")
    cupyx.scipy = scipy
    return {"cupyx": cupyx, "cupyx.scipy": scipy, "cupyx.scipy.special": special}
