"""A GPU played on the CPU: a stand-in for CuPy, with numpy doing the work, held to the real CuPy's API.

Inside ``with stand_in_gpu():`` tinygrad_lite's "cuda" device runs on this stand-in. ``x.to("cuda")`` copies x
into a stand-in GPU array, every op on such arrays returns one on the GPU, and the library's own device rules
apply as they would on a real GPU: an op that mixes a CPU tensor with a "cuda" one raises PyTorch's "Expected
all tensors to be on the same device" error. The stand-in's arrays behave like CuPy's where device bugs show:

- an op that mixes one with a numpy (host) array raises TypeError, as CuPy does;
- ``np.asarray(gpu_array)`` raises TypeError, as CuPy does: the way back to the host is ``.get()`` (or a read of
  one number: ``float()``, ``bool()``, ``.item()``);
- reductions return 0-d device arrays, not numpy scalars;
- float16 matrix products add up in float32 and are rounded once, as cuBLAS's under CuPy (numpy's may round as
  they go);
- an out-of-range integer-array index wraps around, silently, as CuPy's does (numpy raises);
- only what the real CuPy has is there: the functions, methods and keywords of ``cupy_api.json``, read from a real
  CuPy by tests/cupy_api.py (a function CuPy lacks is an AttributeError, a keyword its function does not take a
  TypeError, a numpy function CuPy does not implement numpy's TypeError), and no protocol CuPy's ndarray lacks
  (tests/test_cupy_contract.py holds both to the installed CuPy);
- each array lives on one GPU (``StandInCuPy(devices=2)`` has two; the lessons' has one): new arrays go to the
  current device (``with cupy.cuda.Device(1):``), results to their inputs' device, and an op that mixes arrays of
  two GPUs raises ValueError, as CuPy does;
- every copy between host and device is counted, with the line that made it (``transfers``): host data turned
  into a GPU array (``asarray``, a host index array), and every read of GPU numbers on the host (``get``,
  ``float``, ``bool``, ``item``, ``tolist``, printing).
- ``cupy.fuse`` runs the fused function with numpy, refusing what CuPy's fuse cannot compile (an argument's
  ``.shape``, indexing, an ``if`` on a value, two reductions, an in-place output smaller than the kernel or in a
  kernel that reduces: see ``_Fused``), and counts the calls of each fused kernel, so that a test sees which fused
  path ran;
- every op that would launch a GPU kernel is counted by name (``_launches``): an elementwise op, a reduction, a
  matrix product, a copy or fill, indexing with an array, a fused kernel; a new view of the same numbers
  (``reshape``, ``moveaxis``, basic slicing...) and an ``astype`` that changes nothing are not. On a GPU each launch
  costs the host about 10 us, so a step's count is what its host time is made of (tests/test_devices.py keeps the
  capstone step's within a budget).

So a code path that forgets the device (makes a numpy array where the tensor lives on the GPU, reads a GPU array
as numpy, calls what CuPy lacks) fails here as it would on a GPU, and a training step that copies between host and
device at every step shows it in the counts. What it cannot show: numerical differences of GPU kernels,
asynchronous execution and speed (benchmarks/gpu_check.sh runs the real thing where a GPU is lent).

Inside ``with no_gpu():`` the machine has no GPU at all (``tl.cuda.is_available()`` is False, "cuda" raises the
library's error), whatever this machine has: a check's CPU case then behaves the same everywhere, and code that
hard-codes "cuda" fails on it as on a laptop.

It lives in the package because the checks of lessons 08 and 09 run in the learner's kernel; tests/fake_cupy.py
hands the same stand-in to the test suite, on which tests/test_devices.py runs every "cuda" path of the library.
"""
import collections
import contextlib
import importlib
import json
import sys
import types
import weakref
from pathlib import Path

import numpy as np

API = json.loads(Path(__file__).with_name("cupy_api.json").read_text())
MODULES, NDARRAY = API["modules"], API["ndarray"]

_wrappers = weakref.WeakValueDictionary()  # id(numpy array) -> its wrapper, so that `a.base is b` keeps working
_current = [0]                             # the current GPU, the innermost `with cupy.cuda.Device(i):` last


def wrap(x, device=None):
    """A GPU array for a numpy result (0-d for a numpy scalar), on ``device`` (the current GPU if None); tuples and
    lists element by element."""
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
        values = [wrap(v, device) for v in x]
        return type(x)(*values) if hasattr(x, "_fields") else type(x)(values)  # (a named tuple: QR's (Q, R))
    return x


def device_of(*args):
    """The one GPU of the arrays in ``args`` (nested), None if there are none; ValueError if they are on two."""
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
    """The numpy arrays inside ``x`` (nested tuples, lists, dicts); a numpy (host) array is refused, as CuPy does."""
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
    """An index for numpy. Host arrays and lists in it are copied to the GPU first, as CuPy does (counted)."""
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    if isinstance(index, ndarray):
        return index._a
    if isinstance(index, (np.ndarray, list)):
        _count("to_device", "an index made of host data")
    return index


def _wrap_around(index, shape):
    """An integer-array index taken modulo its axis's length: CuPy wraps an out-of-range index around, silently,
    where numpy raises (an index with None or ... is left to numpy)."""
    parts = index if isinstance(index, tuple) else (index,)
    if any(p is None or p is Ellipsis for p in parts):
        return index
    wrapped = tuple(np.mod(p, shape[axis]) if isinstance(p, np.ndarray) and p.dtype.kind in "iu" and axis < len(shape)
                    and shape[axis] else p for axis, p in enumerate(parts))
    return wrapped if isinstance(index, tuple) else wrapped[0]


def _cupy_semantics(name, args, kwargs):
    """numpy's arguments where CuPy's function behaves otherwise: take_along_axis wraps its indices around."""
    if name == "take_along_axis":
        a, indices, *rest = args
        axis = kwargs.get("axis", rest[0] if rest else -1)
        if axis is not None and isinstance(indices, np.ndarray) and a.shape[axis]:
            args = (a, np.mod(indices, a.shape[axis]), *rest)
    return args


def _matmul(a, b, **kwargs):
    """CuPy's matmul (``a @ b``, ``cupy.matmul``): float16 matrices are multiplied by cuBLAS with float32
    accumulation (``CUBLAS_COMPUTE_32F``, CuPy's default compute type for float16) and the result is rounded to
    float16 once; numpy's float16 matmul may round as it goes. Other dtypes: numpy's."""
    if a.dtype == b.dtype == np.float16 and not kwargs:
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(np.float16)
    return np.matmul(a, b, **kwargs)


def _check_keywords(where, name, keywords, kwargs):
    """TypeError, as Python's, for a keyword the real CuPy function does not take."""
    if isinstance(keywords, list):
        for key in kwargs:
            if key not in keywords:
                raise TypeError(f"{name}() got an unexpected keyword argument '{key}' (CuPy's {where}{name} takes "
                                f"{', '.join(keywords) or 'no keywords'}; numpy's may take more)")


class Transfers:
    """The copies between host and device: how many each way, and where each was made (file:line)."""

    def __init__(self):
        self.to_device = self.to_host = 0
        self.log = []

    def __repr__(self):
        return f"Transfers(to_device={self.to_device}, to_host={self.to_host})"


def _count(direction, what):
    stand_in = StandInCuPy.current
    if stand_in is None:
        return
    setattr(stand_in.transfers, direction, getattr(stand_in.transfers, direction) + 1)
    frame, where = sys._getframe(1), []
    while frame is not None and len(where) < 3:  # the three innermost lines outside the stand-in and numpy
        if frame.f_code.co_filename != __file__ and "numpy" not in frame.f_code.co_filename:
            where.append(f"{frame.f_code.co_filename}:{frame.f_lineno}")
        frame = frame.f_back
    stand_in.transfers.log.append((direction, what, " < ".join(where)))


# functions and methods that make a new view of the same numbers, or only change their description: no kernel
_VIEWS = {"reshape", "view", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "broadcast_to",
          "ravel", "atleast_1d", "atleast_2d", "asarray", "empty", "empty_like", "diagonal"}


def _launch(name):
    """Count one kernel launch of the current stand-in (``_launches``), under the op's name."""
    stand_in = StandInCuPy.current
    if stand_in is not None and not stand_in._fusing:  # (the ops inside a fused kernel are that kernel)
        stand_in._launches[name] += 1


class _Device:
    """``cupy.cuda.Device(i)``: ``with`` it, new arrays go to GPU i; ``Device()`` is the current GPU, as CuPy's."""

    def __init__(self, index=None):
        self.id = _current[-1] if index is None else int(index)

    def __enter__(self):
        count = StandInCuPy.current.devices if StandInCuPy.current else 1
        if not 0 <= self.id < count:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal (cuda:{self.id}): this machine has "
                               f"{count} GPU{'s' if count > 1 else ''}")
        _current.append(self.id)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False

    def synchronize(self):
        if StandInCuPy.current:
            StandInCuPy.current.synchronized += 1

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


def _ufunc_operator(ufunc, reflected=False, inplace=False):
    if inplace:
        return lambda self, other: ufunc(self, other, out=(self,))
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


# the operators of CuPy's ndarray and the ufuncs they call; only those the real class has are given (CuPy has no
# __imatmul__, for one: `a @= b` makes a new array there, as it does here)
_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "matmul": np.matmul, "truediv": np.true_divide,
           "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "lshift": np.left_shift,
           "rshift": np.right_shift, "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
           "divmod": np.divmod}
_COMPARE = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal, "eq": np.equal,
            "ne": np.not_equal}
_UNARY = {"neg": np.negative, "pos": np.positive, "abs": np.absolute, "invert": np.invert}


class _Pointer:
    """Where an array's first number is (CuPy's ``MemoryPointer``, of which the library reads ``ptr`` alone)."""
    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr


class ndarray:
    """A stand-in GPU array: numpy numbers behind CuPy's rules, on one of the stand-in's GPUs."""
    __slots__ = ("_a", "_device", "__weakref__")
    __array_priority__ = 100  # (CuPy's: numpy hands `host_array + gpu_array` to this class, which refuses it)

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
    data = property(lambda self: _Pointer(self._a.__array_interface__["data"][0]))  # (CuPy's MemoryPointer: .ptr)
    device = property(lambda self: _Device(self._device))

    # ---------------------------------------------------------------- the ways to the host (each one counted)
    def get(self, stream=None, order="C", out=None, blocking=True):
        """The numbers copied to the host, as a numpy array."""
        _count("to_host", "get()")
        return self._a.copy(order=order)

    def item(self):
        _count("to_host", "item()")
        return self._a.item()

    def tolist(self):
        _count("to_host", "tolist()")
        return self._a.tolist()

    def __float__(self):
        _count("to_host", "float()")
        return float(self._a)

    def __int__(self):
        _count("to_host", "int()")
        return int(self._a)

    def __complex__(self):
        _count("to_host", "complex()")
        return complex(self._a)

    def __bool__(self):
        _count("to_host", "bool()")
        return bool(self._a)

    def __repr__(self):
        _count("to_host", "repr()")
        return f"stand_in_gpu.array({self._a!r})"

    def __str__(self):
        _count("to_host", "str()")
        return str(self._a)

    def __format__(self, spec):
        _count("to_host", "format()")
        return format(self._a, spec)

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                        "NumPy array explicitly.")

    def __reduce__(self):  # pickling copies the numbers to the host, and unpickling back to a GPU
        _count("to_host", "pickle")
        return _unpickle, (self._a.copy(),)

    def __copy__(self):
        return wrap(self._a.copy(), self._device)

    def __deepcopy__(self, memo):
        return wrap(self._a.copy(), self._device)

    # ---------------------------------------------------------------- numpy's protocols, as CuPy implements them
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc.__name__ not in MODULES["cupy"] or method not in ("__call__", *API["ufunc_methods"]):
            return NotImplemented
        if method == "at":  # ufunc.at(a, index, values): the index may be host data, as in indexing
            a, index, *values = inputs
            return ufunc.at(unwrap(a, "at"), _unwrap_index(index), *unwrap(values, "at"))
        out = kwargs.get("out")
        device = device_of(inputs, kwargs)
        _launch(ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}")
        played = _matmul if ufunc is np.matmul and method == "__call__" else getattr(ufunc, method)
        result = played(*unwrap(inputs, ufunc.__name__), **unwrap(kwargs, ufunc.__name__))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return wrap(result, device)

    def __array_function__(self, func, types, args, kwargs):
        """numpy.f(gpu_array) runs cupy.f, as CuPy's own __array_function__ does; NotImplemented (numpy then raises
        TypeError) where CuPy has no such function."""
        module = ".".join(["cupy", *func.__module__.split(".")[1:]])
        keywords = MODULES.get(module, {}).get(func.__name__)
        if keywords is None or keywords in ("value", "module"):
            return NotImplemented
        _check_keywords(module + ".", func.__name__, keywords, kwargs)
        device = device_of(args, kwargs)
        args, kwargs = unwrap(args, func.__name__), unwrap(kwargs, func.__name__)
        _launch_unless_view(func.__name__, args)
        return wrap(func(*_cupy_semantics(func.__name__, args, kwargs), **kwargs), device)

    def __getitem__(self, index):
        device_of(self, index)  # (an index array of another GPU is refused, as by CuPy's gathering kernel)
        index = _unwrap_index(index)
        if any(isinstance(i, np.ndarray) for i in (index if isinstance(index, tuple) else (index,))):
            _launch("take")  # (an array as index gathers into a new array; a slice is a view)
        return wrap(self._a[_wrap_around(index, self.shape)], self._device)

    def __setitem__(self, index, value):
        device_of(self, index, value)
        _launch("setitem")
        self._a[_wrap_around(_unwrap_index(index), self.shape)] = unwrap(value, "setitem")

    def __getattr__(self, name):
        """The methods of CuPy's ndarray that numpy's has too, with CuPy's keywords."""
        keywords = NDARRAY.get(name)
        if keywords is None or name.startswith("__") or not hasattr(self._a, name):
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'" if keywords is None else
                                 f"the stand-in GPU does not play cupy.ndarray.{name}")
        attribute = getattr(self._a, name)
        if not callable(attribute):
            return wrap(attribute, self._device)

        def method(*args, **kwargs):
            _check_keywords("ndarray.", name, keywords, kwargs)
            device = device_of(self, args, kwargs)
            if not (name == "astype" and kwargs.get("copy") is False
                    and np.dtype(kwargs.get("dtype", args[0] if args else None)) == self.dtype):
                _launch_unless_view(name, (self._a,))
            return wrap(attribute(*unwrap(args, name), **unwrap(kwargs, name)), device)
        return method

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (wrap(row, self._device) for row in self._a)


for _name, _ufunc in _BINARY.items():
    for _dunder, _kind in ((f"__{_name}__", {}), (f"__r{_name}__", {"reflected": True}),
                           (f"__i{_name}__", {"inplace": True})):
        if _dunder in NDARRAY:
            setattr(ndarray, _dunder, _ufunc_operator(_ufunc, **_kind))
for _name, _ufunc in _COMPARE.items():
    setattr(ndarray, f"__{_name}__", _ufunc_operator(_ufunc))
for _name, _ufunc in _UNARY.items():
    setattr(ndarray, f"__{_name}__", lambda self, _ufunc=_ufunc: _ufunc(self))
ndarray.__hash__ = None  # (defining __eq__ makes instances unhashable, as CuPy's are)


def _unpickle(array):
    _count("to_device", "unpickle")
    return wrap(array)


# ------------------------------------------------------------------------------------------------ cupy.fuse
_REDUCTIONS = {"sum", "prod", "amax", "amin", "max", "min", "all", "any"}  # what CuPy's fuse can reduce with
_ELEMENTWISE = {"where", "clip", "copy"}                                    # its functions that are not ufuncs


class _Fused:
    """``cupy.fuse(function)``: CuPy compiles the function's array ops into one kernel (the first call for each set
    of argument dtypes); the stand-in runs the same function with numpy, on proxies of its arguments (``_Traced``)
    that refuse what CuPy's fuse cannot compile, so that a function that passes here traces on a GPU too:

    - arguments: GPU arrays, numbers and None (a host array or a list is a TypeError); with no GPU array among them
      the plain function runs, as CuPy's;
    - inside: arithmetic, the module's ufuncs (``cupy.sqrt``: numpy's own do not trace on a GPU, which the stand-in,
      whose ufuncs are numpy's, cannot tell) and ``where``, ``clip``, ``copy``, ``.astype``; no ``.shape``, no
      indexing, no ``if`` on a value, no array that is not an argument;
    - an argument updated in place (``x += 1``, ``cupy.maximum(a, b, out=a)``, ``x[...] = y``) must have the
      kernel's shape, the broadcast of all the array arguments (a smaller one is refused, as CuPy refuses it), in a
      kernel that does not reduce (CuPy would trace it, and drop the write: ``_Trace.refuse_write_and_reduction``);
    - one reduction at most (``cupy.sum(..., axis=k)``, without keepdims), after which only a unary ufunc may
      follow (``cupy.log(cupy.sum(...))``); an elementwise result has the kernel's shape, whatever it was computed
      from, and is a new array.

    Each call is counted under the kernel's name in the stand-in's ``_fused_calls`` (tests/fake_cupy.py reads it):
    that is how a test sees that a fused path ran. ``_written`` keeps the positions of the arguments the last call
    wrote in place (tests/test_cupy_contract.py compares them with the real CuPy's kernel).
    """

    def __init__(self, function, kernel_name, stand_in):
        self.function, self.stand_in = function, stand_in
        self.name = kernel_name or function.__name__
        self.__name__, self.__doc__, self.__wrapped__ = function.__name__, function.__doc__, function
        self._written = ()

    def __call__(self, *args):
        if not any(isinstance(a, ndarray) for a in args):
            return self.function(*args)  # (CuPy's too: without a GPU array there is nothing to compile)
        for a in args:
            if a is not None and not isinstance(a, (ndarray, np.generic, bool, int, float, complex)):
                types_ = ", ".join(type(a).__name__ for a in args)
                raise TypeError(f"Invalid argument type for '{self.name}': ({types_}): a fused kernel takes GPU "
                                "arrays, numbers and None")
        device = device_of(args)
        self.stand_in._fused_calls[self.name] += 1
        self.stand_in._launches["fuse:" + self.name] += 1
        trace = _Trace([a for a in args if isinstance(a, ndarray)])
        self.stand_in._fusing += 1
        try:
            with np.errstate(all="ignore"):  # (a GPU kernel never warns: 0/0 is nan there, silently)
                result = self.function(*(trace.proxy(a) for a in args))
        finally:
            self.stand_in._fusing -= 1
        self._written = tuple(i for i, a in enumerate(args) if isinstance(a, ndarray) and id(a._a) in trace.written)
        return wrap(trace.output(result, self.name), device)

    def __repr__(self):
        return f"<Fusion '{self.name}'>"


class _Trace:
    """One call of a fused function: the kernel's shape (the broadcast of its array arguments), its reduction."""

    def __init__(self, arrays):
        self.shape = np.broadcast_shapes(*(a.shape for a in arrays))
        self.reduced, self.written = False, set()  # (the ids of the arguments' arrays written in place)

    def proxy(self, argument):
        if argument is None:
            return None
        return _Traced(argument._a if isinstance(argument, ndarray) else argument, self, argument=True)

    def output(self, result, name):
        if result is None:
            return None
        if isinstance(result, tuple):
            return tuple(self.output(r, name) for r in result)
        if not isinstance(result, _Traced):
            raise TypeError(f"Fusion function can't return {type(result)} ('{name}' returns a fused value, a tuple of "
                            "them, or None)")
        if result.reduced:
            return np.asarray(result.value)
        return np.array(np.broadcast_to(result.value, self.shape))  # a new array, of the kernel's shape

    def check_output(self, target):
        """An argument written in place must have the kernel's shape (else the output operand does not broadcast),
        and the kernel must not reduce (``refuse_write_and_reduction``)."""
        if target.value.shape != self.shape:
            raise ValueError(f"non-broadcastable output operand: an argument of shape {target.value.shape} updated in "
                             f"place in a fused kernel of shape {self.shape}")
        self.written.add(id(target.value))
        self.refuse_write_and_reduction()

    def refuse_write_and_reduction(self):
        """CuPy's fuse makes a function that reduces one reduction kernel, whose map step takes the arguments by
        value: an argument written in place there traces, is even declared non-const, and is silently never
        written (CuPy 14.2's generated code; tests/test_cupy_contract.py shows it). So the stand-in refuses it."""
        if self.written and self.reduced:
            raise ValueError("a fused kernel that reduces cannot also write an argument in place: CuPy's fuse makes "
                             "it a reduction kernel, which reads its arguments by value, so the write would be lost "
                             "on a GPU, silently. Write in a kernel of its own")


def _value(x):
    """The numbers behind a value inside a fused function: a proxy's, or a constant (not an array from outside)."""
    if isinstance(x, _Traced):
        return x.value
    if isinstance(x, (ndarray, np.ndarray)):
        raise TypeError("a fused function can use only its arguments' arrays (pass the array as an argument)")
    return x


class _Traced:
    """A value inside a fused function: what CuPy's fuse allows of it (see ``_Fused``), computed with numpy."""
    __slots__ = ("value", "trace", "argument", "reduced")
    __array_priority__ = 200

    def __init__(self, value, trace, argument=False, reduced=False):
        self.value, self.trace, self.argument, self.reduced = value, trace, argument, reduced

    dtype = property(lambda self: np.result_type(self.value))
    ndim = property(lambda self: np.ndim(self.value))

    @property
    def shape(self):
        raise AttributeError("a fused function cannot read .shape (CuPy's fuse traces values without shapes): pass "
                             "what it needs as an argument")

    def _apply(self, ufunc, inputs, out=None):
        traced = [x for x in inputs if isinstance(x, _Traced)]
        if any(x.reduced for x in traced) and (len(inputs) > 1 or out is not None):
            raise ValueError(f"Shape mismatch: after a reduction a fused kernel can only apply a unary function to "
                             f"its result ({ufunc.__name__} of the reduced value and another one)")
        if MODULES["cupy"].get(ufunc.__name__) != "ufunc":
            raise TypeError(f"{ufunc.__name__} is not one of CuPy's ufuncs")
        values = [_value(x) for x in inputs]
        if out is None:
            return _Traced(ufunc(*values), self.trace, reduced=any(x.reduced for x in traced))
        if not isinstance(out, _Traced):
            raise TypeError("a fused kernel writes in place only into its own values")
        if out.argument and isinstance(out.value, np.ndarray):  # an array argument: written in the caller's array
            self.trace.check_output(out)
            ufunc(*values, out=out.value)
        else:  # a value computed inside (or a number argument): a variable of the kernel, which takes the new value
            out.value = ufunc(*values)
        return out

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if method != "__call__" or kwargs:
            raise TypeError(f"a fused function calls ufuncs plainly: not {ufunc.__name__}.{method} or keywords "
                            f"{sorted(kwargs)}")
        if out is not None and len(out) != 1:
            raise TypeError("a fused ufunc call writes one output")
        return self._apply(ufunc, inputs, None if out is None else out[0])

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name in _REDUCTIONS:
            if kwargs.get("keepdims"):
                raise NotImplementedError(f"cupy.{name} does not support `keepdims` in fusion yet.")
            if self.trace.reduced or any(isinstance(a, _Traced) and a.reduced for a in args):
                raise ValueError("Shape mismatch: a fused kernel makes one reduction at most")
            a, *rest = args
            self.trace.reduced = True
            self.trace.refuse_write_and_reduction()
            full = np.broadcast_to(_value(a), self.trace.shape)  # (the kernel reduces over its own shape)
            return _Traced(func(full, *rest, **kwargs), self.trace, reduced=True)
        if name in _ELEMENTWISE:
            if any(isinstance(a, _Traced) and a.reduced for a in args):
                raise ValueError("Shape mismatch: after a reduction a fused kernel only applies a unary ufunc")
            values = [_value(a) for a in args]
            return _Traced(func(*values, **kwargs), self.trace)
        raise TypeError(f"Argument 'a' has incorrect type: cupy.{name} is not allowed in a fused function (its "
                        f"ufuncs, where, clip, copy and one reduction are)")

    def astype(self, dtype, copy=True):
        return _Traced(np.asarray(self.value).astype(dtype), self.trace, reduced=self.reduced)

    def copy(self):
        return _Traced(np.copy(self.value), self.trace, reduced=self.reduced)

    def __setitem__(self, index, value):
        if index is not Ellipsis and index != slice(None):
            raise ValueError("The fusion supports `[...]` or `[:]`.")
        self._apply(np.positive, (value,), out=self)

    def __bool__(self):
        raise TypeError("Can't cast to bool: a fused function cannot branch on a value (use cupy.where)")

    def __float__(self):
        raise TypeError("Cannot convert to Python scalar in cupy.fuse")

    __int__ = __complex__ = __index__ = __float__

    def __repr__(self):
        return f"<a value inside a fused kernel, dtype={self.dtype}>"


def _traced_operator(ufunc, reflected=False, inplace=False):
    if inplace:
        return lambda self, other: self._apply(ufunc, (self, other), out=self)
    if reflected:
        return lambda self, other: self._apply(ufunc, (other, self))
    return lambda self, other: self._apply(ufunc, (self, other))


for _name, _ufunc in _BINARY.items():
    if _name in ("matmul", "divmod"):  # (no matmul in a fused kernel, as in CuPy's)
        continue
    setattr(_Traced, f"__{_name}__", _traced_operator(_ufunc))
    setattr(_Traced, f"__r{_name}__", _traced_operator(_ufunc, reflected=True))
    setattr(_Traced, f"__i{_name}__", _traced_operator(_ufunc, inplace=True))
for _name, _ufunc in _COMPARE.items():
    setattr(_Traced, f"__{_name}__", _traced_operator(_ufunc))
_Traced.__neg__ = lambda self: self._apply(np.negative, (self,))
_Traced.__invert__ = lambda self: self._apply(np.invert, (self,))
_Traced.__hash__ = None


class _Namespace(types.SimpleNamespace):
    """A submodule of the stand-in (cupy.linalg, cupy.fft): numpy's functions, where CuPy has them."""

    def __init__(self, name, numpy_module):
        super().__init__()
        self._name, self._numpy = name, numpy_module

    def __getattr__(self, attr):
        return _function(self._name, attr, self._numpy)


def _function(module, name, numpy_module):
    """``cupy.NAME`` played by numpy's function: on its arguments' GPU (or the current one), with CuPy's keywords;
    AttributeError where CuPy has no such name."""
    keywords = MODULES[module].get(name)
    if keywords is None or name.startswith("_"):
        raise AttributeError(f"module '{module}' has no attribute '{name}'")
    function = _matmul if (module, name) == ("cupy", "matmul") else getattr(numpy_module, name, None)
    if function is None or keywords == "module":  # (cupy.random is CuPy's own generator, not numpy's)
        raise AttributeError(f"the stand-in GPU does not play {module}.{name}")
    if keywords in ("ufunc", "value") or not callable(function):
        return function  # a ufunc dispatches to ndarray.__array_ufunc__ by itself; dtypes are numpy's

    def on_device(*args, **kwargs):
        _check_keywords(module + ".", name, keywords, kwargs)
        device = device_of(args, kwargs)
        args, kwargs = unwrap(args, name), unwrap(kwargs, name)
        _launch_unless_view(name, args)
        return wrap(function(*_cupy_semantics(name, args, kwargs), **kwargs), device)
    on_device.__name__ = name
    return on_device


def _launch_unless_view(name, args):
    """Count a launch for the function or method ``name`` (its unwrapped arguments ``args``), unless it makes a view
    (``_VIEWS``) or is ``ascontiguousarray`` of a contiguous array (itself, then)."""
    if name in _VIEWS:
        return
    if name == "ascontiguousarray" and args and getattr(args[0], "flags", None) is not None \
            and args[0].flags.c_contiguous:
        return
    _launch(name)


class StandInCuPy(types.ModuleType):
    """The module: numpy's functions on stand-in GPU arrays, where CuPy has them, plus the parts of CuPy's own API
    that tinygrad_lite uses (``cuda.Device``, ``cuda.runtime``, the memory pool)."""
    ndarray = ndarray
    current = None  # the stand-in in use (set by install)

    def __init__(self, devices=1, name="GPU played on the CPU"):
        super().__init__("cupy")
        self.__version__ = API["cupy_version"]
        self.devices, self.transfers, self.synchronized = devices, Transfers(), 0
        self._fused_calls = collections.Counter()  # fused kernel name -> calls (``fuse``; tests/fake_cupy.py reads it)
        self._launches = collections.Counter()     # op name -> kernel launches (``_launch``; tests/fake_cupy.py too)
        self._fusing = 0                           # > 0 while a fused function runs (its ops are not launches)
        runtime = types.SimpleNamespace(
            getDeviceCount=lambda: self.devices, runtimeGetVersion=lambda: 0, driverGetVersion=lambda: 0,
            getDeviceProperties=lambda index: {"name": name.encode(), "major": 0, "minor": 0})
        self.cuda = types.SimpleNamespace(Device=_Device, runtime=runtime)
        pool = types.SimpleNamespace(used_bytes=lambda: 0, free_all_blocks=lambda: None)
        self.get_default_memory_pool = lambda: pool
        self.linalg, self.fft = _Namespace("cupy.linalg", np.linalg), _Namespace("cupy.fft", np.fft)

    def asarray(self, a, dtype=None, order=None, copy=None, blocking=False):
        """Host data copied to the current GPU (counted); a GPU array stays itself (or is cast), or is copied to the
        current GPU if it is on another one."""
        if isinstance(a, ndarray):
            if a._device != _current[-1]:
                return ndarray(a._a.astype(dtype or a.dtype, copy=True), _current[-1])
            return a if dtype is None or a.dtype == dtype else a.astype(dtype)
        _count("to_device", "asarray() of host data")
        return wrap(np.array(a, dtype=dtype), _current[-1])

    def array(self, obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, blocking=False):
        if isinstance(obj, ndarray) and obj._device == _current[-1]:
            return wrap(np.array(obj._a, dtype=dtype, copy=copy))
        return self.asarray(obj, dtype)

    def asnumpy(self, a, stream=None, order="C", out=None, blocking=True):
        return a.get() if isinstance(a, ndarray) else np.asarray(a)

    def fuse(self, *args, **kwargs):
        """``cupy.fuse``, in the real decorator's three forms: ``@cupy.fuse``, ``@cupy.fuse()`` and
        ``@cupy.fuse(kernel_name="name")``. The fused function runs with numpy, held to what CuPy's fuse compiles
        (``_Fused``), and each call is counted."""
        if len(args) == 1 and not kwargs and callable(args[0]):
            return _Fused(args[0], None, self)

        def decorate(function, kernel_name=None):
            return _Fused(function, kernel_name, self)
        return lambda function: decorate(function, *args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _function("cupy", name, np)

    @contextlib.contextmanager
    def install(self):
        """Inside the block tinygrad_lite's "cuda" device is this stand-in (with cupyx's erf, for exact GELU)."""
        module = _device_module()
        saved = module._cupy, module._no_cupy, StandInCuPy.current, {n: sys.modules.get(n) for n in _cupyx()}
        module._cupy, module._no_cupy, StandInCuPy.current = self, None, self
        sys.modules.update(_cupyx())
        _current[:] = [0]
        try:
            yield self
        finally:
            module._cupy, module._no_cupy, StandInCuPy.current = saved[:3]
            for name, old in saved[3].items():
                if old is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = old


def _special(name):
    """``cupyx.scipy.special``'s ``name`` ("erf", "erfc", "erfinv") on the stand-in's arrays, computed as the
    library computes it on the CPU (special_numbers.py)."""
    def on_device(x):
        numbers = importlib.import_module("tinygrad_lite.special_numbers")  # (as _device_module: no import cycle)
        if name in ("erfinv", "erfcinv"):
            values = numbers.erfinv_numbers(x._a, complement=name == "erfcinv")
        else:
            values = numbers.erf_numbers(x._a, name)
        return wrap(values, x._device)
    return on_device


def _cupyx():
    """``cupyx.scipy.special`` with ``erf``, ``erfc``, ``erfinv`` and ``erfcinv`` (exact GELU, torch.erf,
    Normal.cdf, special.ndtri)."""
    special = types.ModuleType("cupyx.scipy.special")
    special.erf, special.erfc, special.erfinv = _special("erf"), _special("erfc"), _special("erfinv")
    special.erfcinv = _special("erfcinv")
    scipy = types.ModuleType("cupyx.scipy")
    scipy.special = special
    cupyx = types.ModuleType("cupyx")
    cupyx.scipy = scipy
    return {"cupyx": cupyx, "cupyx.scipy": scipy, "cupyx.scipy.special": special}


def _device_module():
    return importlib.import_module("tinygrad_lite.device")  # (tinygrad_lite.device is the device class)


@contextlib.contextmanager
def stand_in_gpu():
    """Inside the block, tinygrad_lite's "cuda" device is the stand-in GPU (one: ``cuda:0``)."""
    with StandInCuPy().install() as stand_in:
        yield stand_in


def _no_gpu_error():
    install = importlib.import_module("tinygrad_lite.cuda").INSTALL_CUPY
    raise RuntimeError(f"device 'cuda' needs CuPy and an NVIDIA GPU: {install} (or use device='cpu'; check "
                       "tinygrad_lite.cuda.is_available() first). Cause: this case plays a machine without a GPU")


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


__all__ = ["StandInCuPy", "no_gpu", "on_gpu", "stand_in_gpu"]
