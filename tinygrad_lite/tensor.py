"""The Tensor: PyTorch's tensor API on top of the ops and the engine.

A Tensor wraps an n-dimensional array (numpy on the CPU, CuPy on a GPU) in ``.array``. When it is the result of
an op on tensors that require grad, it also remembers that op in ``.grad_fn``: a ``Function`` node that
knows the op's inputs and how to send a gradient back to them. The nodes form a graph from the leaves
(the tensors you made, like weights) to the output (the loss); ``loss.backward()`` hands it to the engine.

Read ``autograd/function.py`` (what an op is), ``ops/`` (each forward beside its backward),
``autograd/engine.py`` (the backward pass) and ``autograd/inplace.py`` (in-place changes: version counters,
and recording ``x += 1`` in the graph) first: this file is PyTorch's API over them. It also turns data into
arrays by PyTorch's rules (``as_array``: Python floats become float32, ints int64).
"""
import builtins
import copy
import functools
import math
import numbers
import operator
import types
import warnings

import numpy as np

from . import dtypes as dt
from . import memory_formats, random, return_types
from ._tensor_str import tensor_repr
from .amp.autocast_mode import autocast_args, bfloat16
from .autograd import backward_into, function
from .autograd.engine import run_backward
from .autograd.hooks import register_tensor_hook
from .autograd.inplace import fresh, record_inplace, records_inplace
from .coverage import not_covered as _not_covered
from .device import (
    array_module_of,
    check_same_device,
    creating_on,
    cuda_device,
    device_of,
    is_gpu_array,
    move,
    on_device_of,
    same_device,
    same_place,
)
from .device import device as Device
from .indexing import in_numpy_order, torch_order
from .kernels.activation import ReLUCuda
from .messages import in_tensor_words, ragged
from .ops.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .ops.elementwise import (
    Abs,
    Add,
    Cast,
    Clamp,
    ClampTensor,
    Clone,
    Cos,
    Div,
    Exp,
    Expm1,
    Log,
    Log1p,
    Maximum,
    Mul,
    Neg,
    Pow,
    Reciprocal,
    Rsub,
    Sin,
    Sqrt,
    Sub,
    ToDevice,
    Where,
)
from .ops.gather import Bincount, Gather
from .ops.matmul import MatMul
from .ops.movement import Expand, Index, Permute, Reshape, SetItem
from .ops.norm import VectorNorm
from .ops.reduce import Amax, MaxAlongDim, Mean, Prod, Sum
from .ops.rounding import Ceil, Floor, FloorDivide, Fmod, Remainder, Round, Sign, Trunc
from .ops.scan import CumProd, CumSum
from .shapes import (
    as_int,
    check_broadcast,
    check_flag,
    check_number,
    check_reducible,
    dim_index,
    dim_indices,
    shape_args,
    size_args,
    sizes_or_keyword,
)
from .warning_level import callers_level, warn_once


class Size(tuple):
    """A tensor's shape: a tuple of ints (``torch.Size``). As PyTorch's, a slice of it, a Size joined with a tuple
    (``x.shape[1:]``, ``x.shape + (1,)``, ``(1,) + x.shape``) and a repeated one (``2 * x.shape``) are Sizes, and
    numpy's integers become Python ints (``Size(np.array([2, 3]))``)."""

    def __new__(cls, sizes=()):
        return tuple.__new__(cls, (operator.index(n) for n in sizes))

    def __mul__(self, times):
        return Size(tuple(self) * times) if isinstance(times, int) else NotImplemented

    __rmul__ = __mul__

    def __getitem__(self, index):
        got = tuple.__getitem__(self, index)
        return Size(got) if isinstance(index, slice) else got

    def __add__(self, other):
        return Size(tuple(self) + other) if isinstance(other, tuple) else NotImplemented

    def __radd__(self, other):
        return Size(other + tuple(self)) if isinstance(other, tuple) else NotImplemented

    def __repr__(self):
        return f"tinygrad_lite.Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


# -------------------------------------------------------------------- data to arrays (tensor(), Tensor())
def as_array(data, dtype=None, device=None, op="tensor"):
    """Turn numbers, (nested) lists, numpy/CuPy arrays or Tensors into an array of a supported dtype.

    Python floats become the default float type (float32) and Python ints become int64, as in PyTorch;
    numpy arrays and numpy numbers keep their dtype, also inside lists (``_elements``).
    """
    if isinstance(data, Tensor):
        arr = data.array
    elif isinstance(data, (np.ndarray, np.generic)) or is_gpu_array(data):
        arr = data  # a numpy or CuPy array (or numpy scalar): keep its dtype
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{op}(): unsupported array dtype {arr.dtype}"
                            f"{' (strings)' if arr.dtype.kind in 'US' else ''}; tinygrad_lite holds numbers: "
                            f"{', '.join(d.name for d in dt.ALL)}")
    else:
        element_dtype, tensors = _elements(data) if isinstance(data, (list, tuple)) else (None, [])
        data = _values_of(data, tensors, op) if tensors else data
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{op}(): could not turn {type(data).__name__} into an array: "
                             f"{ragged(data) or e}") from None
        if arr.dtype == np.uint64 or arr.dtype.hasobject:  # Python ints beyond int64, or things that are not numbers
            arr = _wide_python_ints(arr, dtype, op)
        if dtype is None and arr.dtype.kind in "biuf":
            dtype = element_dtype  # None unless numpy numbers, arrays or tensors are among the elements
        if arr.dtype.kind == "f":  # (with a dtype given, convert once below, straight from the exact Python floats)
            arr = arr.astype(dt.get_default_dtype().np) if dtype is None else arr
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "O" and op in ("tensor", "as_tensor"):  # None, a dict, a set, a generator among the
            # data given to tensor(): PyTorch's RuntimeError (an op's operand x - None stays a TypeError, as there)
            bad = next((v for v in arr.ravel().tolist() if not isinstance(v, (int, float))), data)
            raise RuntimeError(f"{op}(): expected numbers, got {type(bad).__name__}: there is no dtype for it "
                               "(PyTorch: 'Could not infer dtype'). Pass numbers, or lists, tuples or arrays of them"
                               + (", e.g. list(...) of a generator" if isinstance(bad, types.GeneratorType) else ""))
        elif arr.dtype.kind in "US":  # (PyTorch: "too many dimensions 'str'")
            what = "a string" if isinstance(data, str) else f"{type(data).__name__} holding strings"
            raise TypeError(f"{op}(): expected numbers, got {what}; a tensor holds numbers only (turn labels into "
                            "class indices first)")
        elif arr.dtype.kind != "b":  # (numpy's "object" dtype says nothing to a learner)
            of_dtype = f" of dtype {arr.dtype}" if arr.dtype.kind != "O" else ""
            raise TypeError(f"{op}(): expected numbers, got {type(data).__name__}{of_dtype}")
        if dtype is not None:
            dt.check_fits(arr, dt.as_dtype(dtype), op)
    d = dt.as_dtype(dtype) if dtype is not None else dt.from_numpy_dtype(arr.dtype)
    arr = dt.cast(arr, d.np) if arr.dtype != d.np else arr
    if isinstance(arr, np.generic):
        arr = np.asarray(arr)
    return move(arr, device) if device is not None else arr


def _warn_scalar_of_graph():
    """PyTorch's warning when a tensor that requires grad becomes a Python number (``float(loss)``,
    ``tensor([loss1, loss2])``): the number is cut off from the graph."""
    warn_once("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior. "
              "Consider using tensor.detach() first.")


def _values_of(data, tensors, op):
    """The (nested) list ``data`` with each of its ``tensors`` read as one number, as PyTorch reads it: a one-element
    tensor (of any shape, on any device) stands for its ``item()``, with PyTorch's warning when it requires grad
    (``tensor([loss1, loss2])``), and a larger one is an error (``stack`` joins tensors). The dtype comes from the
    tensors all the same (``_elements``)."""
    big = next((t for t in tensors if t.numel() != 1), None)
    if big is not None:
        raise ValueError(f"{op}(): the list holds a tensor of shape {tuple(big.shape)}; in a list, only a one-element "
                         "tensor stands for a number (as in PyTorch). To join tensors, use torch.stack(the_list)")
    if builtins.any(t.requires_grad for t in tensors):
        _warn_scalar_of_graph()

    def values(items):
        return [values(x) if isinstance(x, (list, tuple)) else x.item() if isinstance(x, Tensor) else x for x in items]
    return values(data)


def _elements(data):
    """What a nested list holds: PyTorch's dtype for lists that hold numpy numbers, numpy arrays or tensors among
    their numbers (None for Python numbers only, ``as_array``'s rules), and the tensors in it. The dtype: each
    element's own (a Python float the default float type, an int int64, a bool bool), promoted together by
    category and width (``promote_types``): ``tensor([0.5, np.float64(1)])`` is float64, ``tensor([np.float16(1),
    2])`` float16, ``tensor([np.float16(1), 2.0])`` float32."""
    found, typed, todo, tensors = set(), False, [data], []
    while todo:
        items = todo.pop()
        for kind in set(map(type, items)):
            if issubclass(kind, (list, tuple)):
                todo += [x for x in items if type(x) is kind]
            elif kind in (builtins.bool, builtins.int, builtins.float):
                found.add(dt.python_scalar_dtype(kind()))
            elif issubclass(kind, np.generic):
                found.add(dt.as_dtype(kind))
                typed = True
            elif issubclass(kind, (np.ndarray, Tensor)):
                found.update(dt.as_dtype(x.dtype) for x in items if type(x) is kind)
                tensors += [x for x in items if type(x) is kind] if issubclass(kind, Tensor) else []
                typed = True
    return (functools.reduce(dt.promote_types, found) if typed else None), tensors


def _wide_python_ints(arr, dtype, op):
    """numpy keeps Python ints beyond int64 as uint64 or as objects; PyTorch raises for them unless the target is a
    float type. Objects that are not numbers at all (None, strings, dicts) are left for the caller to reject."""
    values = arr.ravel().tolist()
    big = [v for v in values if isinstance(v, int) and not isinstance(v, builtins.bool) and not -2**63 <= v < 2**63]
    if not big:
        return arr.astype(np.int64) if arr.dtype == np.uint64 else arr
    floats = builtins.any(isinstance(v, float) for v in values)  # a float among them makes it all floats
    if floats or (dtype is not None and dt.as_dtype(dtype).is_floating_point):
        return np.array(values, dtype=np.float64).reshape(arr.shape)
    raise ValueError(f"{op}(): the integer {big[0]} is too large for int64, which holds -2**63 to 2**63 - 1 "
                     "(PyTorch: 'Overflow when unpacking long long'). Store it as a float "
                     "(dtype=tinygrad_lite.float64), or check how it got so large")


def legacy_array(args, dtype=None, device=None):
    """The array of the legacy constructor ``Tensor(...)``, as ``torch.Tensor``.

    ``Tensor(data)`` holds numbers of the default float type (float32), whatever their type: ``Tensor([1, 2])`` is
    float, unlike ``tensor([1, 2])`` (int64). ``Tensor()`` is empty; ``Tensor(2, 3)`` (only ints) is a 2x3 tensor
    of zeros (PyTorch leaves it uninitialised). ``Tensor(a_tensor)`` is that tensor's data, dtype unchanged.
    With a ``dtype`` (ours; ``torch.Tensor`` takes none) ``Tensor(data, dtype=d)`` is ``tensor(data, dtype=d)``.
    """
    if dtype is not None or (len(args) == 1 and isinstance(args[0], Tensor)):
        if len(args) != 1:
            raise TypeError(f"Tensor(): expected one data argument, got {len(args)}")
        return as_array(args[0], dtype, device)
    if not args:
        args = (0,)  # Tensor() is empty, as in PyTorch
    if builtins.all(isinstance(a, numbers.Integral) and not isinstance(a, builtins.bool) for a in args) or \
            (len(args) == 1 and isinstance(args[0], Size)):
        array = np.zeros(size_args(args, "Tensor"), dt.get_default_dtype().np)
        return move(array, device) if device is not None else array
    if len(args) > 1:
        raise TypeError(f"Tensor(): expected sizes (Tensor(2, 3)) or one sequence of numbers (Tensor([1, 2])), got "
                        f"{len(args)} arguments of types {', '.join(type(a).__name__ for a in args)}")
    data = args[0]
    if isinstance(data, (numbers.Number, np.generic)):
        raise TypeError(f"Tensor(): data must be a sequence (got {type(data).__name__}); for a tensor holding one "
                        f"number use tinygrad_lite.tensor({data!r})")
    return as_array(data, dt.get_default_dtype(), device)


class Tensor:
    __array_ufunc__ = None  # make numpy hand `np_scalar * tensor` back to Tensor.__rmul__
    _backward_hooks = None  # register_hook makes a dict of this tensor's hooks (autograd/hooks.py)

    def __init__(self, *data, dtype=None, device=None, requires_grad=False):
        """The legacy constructor, as ``torch.Tensor``: ``Tensor([1, 2])`` holds floats, ``Tensor(2, 3)`` is 2x3 zeros.

        ``tinygrad_lite.tensor(data)`` is the usual way to make one (ints stay int64); see ``legacy_array``.
        """
        self.array = legacy_array(data, dtype, device)
        self.grad_fn, self._grad, self._retains_grad, self._requires_grad = None, None, False, False
        self._version_counter = [0]  # in-place changes so far, in a list that views of the same numbers share
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, array, grad_fn):
        """Fast internal constructor for op results; ``grad_fn`` is None when no graph is recorded."""
        t = object.__new__(Tensor)
        t.array = np.asarray(array) if isinstance(array, np.generic) else array
        t.grad_fn, t._grad, t._retains_grad, t._requires_grad = grad_fn, None, False, grad_fn is not None
        t._version_counter = [0]
        return t

    # ---------------------------------------------------------------- what a tensor is
    shape = property(lambda self: tuple.__new__(Size, self.array.shape))  # (the array's ints: no check needed)
    dtype = property(lambda self: dt.from_numpy_dtype(self.array.dtype))
    device = property(lambda self: device_of(self.array))
    ndim = property(lambda self: self.array.ndim)
    is_leaf = property(lambda self: not self.requires_grad or self.grad_fn is None)  # (a view brought up to date)
    is_cuda = property(lambda self: self.device.type == "cuda")

    @property
    def T(self):
        """The dims in reverse order: a matrix transposed. PyTorch deprecates it on tensors that are not 2-D, with a
        warning (here too): ``x.mT`` transposes each matrix of a batch."""
        if self.ndim != 2:
            warn_once("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                      "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
                      "matrices or `x.permute(*range(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.")
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        """The last two dims swapped: each matrix of a batch transposed (``mH`` too: there are no complex numbers)."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D "
                               "tensor.")
        return self.transpose(-2, -1)
    mH = mT

    def size(self, dim=None):
        if dim is not None and self.ndim == 0:
            raise IndexError(f"size: dim {dim} was asked of a 0-d tensor, which has no dims; use .size() or .shape")
        return self.shape if dim is None else self.shape[dim_index(dim, self.ndim, "size")]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    nelement = numel
    itemsize = property(lambda self: self.array.itemsize, doc="Bytes per number (also x.element_size())")
    nbytes = property(lambda self: self.array.nbytes, doc="Bytes of all the numbers: numel() * itemsize")

    def element_size(self): return self.array.itemsize

    def is_floating_point(self):
        return self.dtype.is_floating_point

    @property
    def requires_grad(self):  # (a view of a tensor changed in place since: its graph first, autograd/inplace.py)
        return self._requires_grad if self._base is None or self._made_in_no_grad else fresh(self)._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = check_flag("requires_grad_", "requires_grad", flag)
        if flag and not self.dtype.is_floating_point:
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, this one is {self.dtype}; "
                               "convert first with .float()")
        if not self.is_leaf:  # the result of an op requires grad because its inputs do: not a flag to set
            raise RuntimeError(f"you can only change requires_grad flags of leaf tensors; this one is the result of "
                               f"an op ({self.grad_fn.name()}), so it requires grad exactly when that op's inputs do. "
                               "For its numbers cut from the graph use .detach(); for a new leaf that requires grad, "
                               ".detach().requires_grad_()")
        self._requires_grad = builtins.bool(flag)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return self; on the result of an op, True is accepted (as in PyTorch:
        it already requires grad) and False refused."""
        if not (requires_grad is True and not self.is_leaf):
            self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The gradient d(output)/d(self) summed over backward calls; None until the first backward."""
        if self._grad is None and not self.is_leaf and not self._retains_grad:
            warnings.warn("reading .grad of a non-leaf tensor (the result of an op): it is not kept. Call "
                          ".retain_grad() on it before backward(), or read the .grad of a leaf.", stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                            f"{type(value).__name__}; wrap it first: x.grad = torch.tensor(values, dtype=x.dtype)")
        if value is not None and value.dtype is not self.dtype:
            raise RuntimeError(f"assigned grad has dtype {value.dtype}, the tensor has {self.dtype}; they must match: "
                               "x.grad = g.to(x.dtype)")
        if value is not None and tuple(value.shape) != tuple(self.shape):
            raise RuntimeError(f"assigned grad has shape {tuple(value.shape)}, the tensor has {tuple(self.shape)}")
        if value is not None and not same_device(value.array, self.array):
            raise RuntimeError(f"assigned grad is on {value.device}, the tensor on {self.device}; they must match: "
                               "x.grad = g.to(x.device)")
        self._grad = value

    @property
    def data(self):
        """The same numbers without the graph: a tensor sharing this one's array, with requires_grad False.

        Deliberate difference from PyTorch: changes made through ``.data`` (or by assigning to it) count as
        in-place changes of this tensor, so a backward that needs the old numbers raises instead of silently
        using the new ones. Between training steps, ``.data`` updates work as in PyTorch.
        """
        return self.detach()

    @data.setter
    def data(self, value):
        self.array = as_array(value)
        self._bump_version()

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to the leaf's ``.grad``.

        ``gradient`` is d(final)/d(self); it may be left out only when self holds one number (a loss).
        The graph's saved values are freed afterwards unless ``retain_graph=True``. With ``inputs`` (tensors), only
        their ``.grad`` is filled (``autograd.backward_into``). With ``create_graph=True`` the backward pass is
        recorded too, so that ``.grad`` can be differentiated again (``autograd/higher_order.py``); the graph is
        then kept unless ``retain_graph=False``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn, so there is nothing "
                               "to differentiate. Did you create the weights with requires_grad=True, or compute "
                               "this inside tl.no_grad()?")
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(f"backward: grad can be implicitly created only for scalar outputs, but this "
                                   f"tensor has shape {tuple(self.shape)}. Reduce it to one number first "
                                   "(loss.mean() or loss.sum()), or pass out.backward(torch.ones_like(out)).")
            with on_device_of(self.array):  # (on cuda:1 too: CuPy makes new arrays on the current GPU)
                grad = array_module_of(self.array).ones(self.array.shape, self.array.dtype)  # dL/dL = 1
        else:
            if isinstance(gradient, Tensor) and not same_device(gradient.array, self.array):
                raise RuntimeError(f"backward: gradient is on {gradient.device}, the tensor on {self.device}; they "
                                   "must match: pass gradient.to(out.device)")
            grad = as_array(gradient, self.dtype, self.device)
            if grad.shape != self.array.shape:
                raise RuntimeError(f"backward: gradient has shape {grad.shape}, the tensor has {self.array.shape}; "
                                   "they must match")
            if create_graph and isinstance(gradient, Tensor) and gradient.dtype is self.dtype:
                grad = gradient  # (its graph is kept: differentiating the result reaches it too)
        retain_graph = builtins.bool(create_graph if retain_graph is None else retain_graph)  # (PyTorch's default)
        if inputs is not None:
            return backward_into(inputs, [self], [grad], retain_graph, "backward", create_graph)
        run_backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)  # autograd/engine.py

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time backward has computed this tensor's gradient; a Tensor it returns replaces
        that gradient (on a leaf, before it is added into ``.grad``). Returns a handle: ``handle.remove()``.
        See ``autograd/hooks.py``."""
        return register_tensor_hook(self, hook)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor too (useful to inspect intermediate gradients)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad, so it will get no gradient to "
                               "keep (computed under no_grad, or from tensors that do not require grad)")
        if not self.is_leaf:
            self._retains_grad = True

    @property
    def retains_grad(self):
        """Whether ``retain_grad()`` made this non-leaf tensor keep its ``.grad`` (False for a leaf, as PyTorch)."""
        return self._retains_grad

    def _accumulate(self, g, shared):
        """Add the gradient ``g`` (of this tensor's shape and dtype) into ``.grad``.

        The first time, ``.grad`` takes g itself, or a copy if someone else holds g (``shared``): otherwise zeroing
        this .grad in place would also zero the other holder's. After that g is added in place, as PyTorch does: no
        new array per backward when gradients are accumulated over several batches (the version counter moves, so
        a graph that saved this .grad notices). A read-only .grad (one you assigned) gets a new array instead.
        """
        if self._grad is None:
            self._grad = Tensor._make(g.copy() if shared else g, None)
        elif getattr(self._grad.array.flags, "writeable", True):
            self._grad.array += g
            self._grad._bump_version()
        else:
            self._grad.array = self._grad.array + g

    _not_deep_copied = ("_backward_hooks",)  # (Parameter adds "_grad")

    def __deepcopy__(self, memo):
        """``copy.deepcopy``: a tensor with its own copy of the numbers (and of ``.grad``), as PyTorch's: hooks are not
        copied (and a Parameter's ``.grad`` is not either). Only a leaf, as in PyTorch: a result of ops in the graph
        would take the graph along (``x.detach()`` first)."""
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only tensors created explicitly by the user (graph leaves) can be deep-copied"
                               ", as in PyTorch; this one is the result of an op in the graph. Copy its numbers with "
                               "x.detach().clone(), or deep-copy the model (its parameters are leaves)")
        new = object.__new__(type(self))
        memo[id(self)] = new
        state = {key: None if key in self._not_deep_copied else value for key, value in self.__dict__.items()}
        new.__dict__.update(copy.deepcopy(state, memo))
        return new

    def detach(self):
        """A tensor that shares this one's numbers (and so its version counter) but is cut from the graph."""
        t = Tensor._make(self.array, None)
        t._version_counter = self._version_counter
        return t

    def detach_(self):
        self.grad_fn, self._requires_grad = None, False
        return self

    def clone(self, *, memory_format=memory_formats.preserve_format):
        """A copy, recorded in the graph. ``memory_format``: preserve_format and contiguous_format give the same
        row-major copy here; channels_last is refused (``memory_formats.py``)."""
        memory_formats.check_memory_format("clone", memory_format)
        return Clone.apply(self)

    def contiguous(self, *, memory_format=memory_formats.contiguous_format):
        """Self if its numbers lie in memory in row-major order; else a row-major copy (recorded as a clone)."""
        memory_formats.check_memory_format("contiguous", memory_format)
        return self if self.is_contiguous() else Clone.apply(self)

    def is_contiguous(self, memory_format=memory_formats.contiguous_format):
        return memory_formats.is_contiguous(self, memory_format)

    # ---------------------------------------------------------------- arithmetic, with PyTorch's type promotion
    def _lift(self, other, ints_too=False, op="tensor"):
        """Python numbers stay numbers (exact, and 'weak' in type promotion); numpy arrays become tensors; a list or
        a tuple is refused, as PyTorch refuses it. So is a bool in a subtraction (``op`` "sub" or "sub_": ``-``,
        ``-=``, ``sub``, ``sub_``, ``1 - x``): a bool tensor on either side or a Python bool, as in PyTorch, and
        also a numpy bool or bool array, which PyTorch reads as numbers there (README: where we differ from PyTorch)."""
        other = other.item() if isinstance(other, np.generic) else other
        return_types.refuse_pair(other, op)  # (the (values, indices) pair of max(dim): take .values)
        if isinstance(other, (list, tuple)):  # (PyTorch refuses them too; x == [1, 2] would be False there)
            raise TypeError(f"{op}: the other operand is a Python {type(other).__name__}, not a tensor; make it one "
                            "first: torch.tensor([...])")
        numbers = (builtins.float,) if ints_too else (builtins.int, builtins.float)
        other = other if isinstance(other, (Tensor, *numbers)) else _as_tensor(other, self.device, op)
        bools = type(other) is builtins.bool or dt.bool in (self.dtype, getattr(other, "dtype", None))
        if bools and op in ("sub", "sub_"):
            raise RuntimeError(_BOOL_MINUS.format("Subtraction, the `-` operator, with"))
        return other

    def _binary(self, op, other, reverse=False, float_result=False):
        if self.array.dtype.kind == "f" and op is not Pow and (not reverse or op is Mul or op is Add):  # the
            if isinstance(other, Tensor) and other.array.dtype is self.array.dtype:  # common cases, read first:
                if other.array.shape != self.array.shape:  # x * w, one float dtype
                    check_broadcast(op.__name__.lower(), self.array.shape, other.array.shape)
                return op.apply(self, other)
            if type(other) is builtins.float:  # x * 0.5 (or 0.5 * x, which is x * 0.5 as in PyTorch): the number
                return op.apply(self, _operand(other, self.dtype, self))  # takes the tensor's dtype, a 0-d constant
        other = self._lift(other, op=op.__name__.lower())  # (refuses a bool in a subtraction, as in PyTorch)
        a, b = (other, self) if reverse and op not in (Add, Mul) else (self, other)  # 2 * x is x * 2, as PyTorch has it
        if op is Pow:
            a, b = autocast_args("pow", a, b)  # float32 inside autocast("cuda") (amp/)
        dtype = dt.result_type(a, b)
        if float_result and not dtype.is_floating_point:
            dtype = dt.get_default_dtype()
        if type(other) is builtins.int and not dtype.is_floating_point:
            dt.check_fits(other, dtype, op.__name__.lower())  # (int64 + 2**63 would wrap)
            if op is Pow and not reverse and other < 0:  # (PyTorch's check, for a number as the exponent)
                raise RuntimeError("pow: integers to negative integer powers are not allowed (PyTorch refuses them "
                                   f"too): 2 ** {other} is no integer. Make the base a float first, x.float() ** y")
        a, b = _operand(a, dtype, self), _operand(b, dtype, self)
        if a.array.shape != b.array.shape:
            check_broadcast(op.__name__.lower(), a.array.shape, b.array.shape)
        if op is Sub and reverse and not isinstance(other, Tensor):  # 1 - x: PyTorch's rsub, with x as its one input
            return Rsub.apply(b, a.array)
        if op is Div and reverse and not isinstance(other, Tensor):  # 3 / x is reciprocal(x) * 3, as in PyTorch
            return Reciprocal.apply(b) * a
        if op is Pow and not isinstance(other, Tensor):  # x ** 2, 2 ** x: the number is no input, as in PyTorch
            return Pow.apply(a.array, b, number_first=True) if reverse else Pow.apply(a, b.array, number_first=False)
        return op.apply(a, b)

    def __add__(self, other): return self._binary(Add, other)
    def __radd__(self, other): return self._binary(Add, other, reverse=True)
    def __sub__(self, other): return self._binary(Sub, other)
    def __rsub__(self, other): return self._binary(Sub, other, reverse=True)
    def __mul__(self, other): return self._binary(Mul, other)
    def __rmul__(self, other): return self._binary(Mul, other, reverse=True)
    def __truediv__(self, other): return self._binary(Div, other, float_result=True)
    def __rtruediv__(self, other): return self._binary(Div, other, reverse=True, float_result=True)
    def __pow__(self, other): return self._binary(Pow, other)
    def __rpow__(self, other): return self._binary(Pow, other, reverse=True)
    def __neg__(self):
        if self.dtype == dt.bool:
            raise RuntimeError(_BOOL_MINUS.format("Negation, the `-` operator, on"))
        return Neg.apply(self)
    def __abs__(self): return Abs.apply(self)
    def __pos__(self):  # +x is x itself, as in PyTorch
        if self.dtype == dt.bool:
            raise RuntimeError(_BOOL_MINUS.format("The unary `+` operator, on"))
        return self
    def __matmul__(self, other): return matmul(self, other)
    def __rmatmul__(self, other): return matmul(_as_tensor(other), self)

    def add(self, other, alpha=1):
        other, alpha = _number_first("add", other, alpha)
        return self + _scaled(self._lift(other, op="add"), alpha, "add")

    def sub(self, other, alpha=1):
        other, alpha = _number_first("sub", other, alpha)
        return self - _scaled(self._lift(other, op="sub"), alpha, "sub")
    def mul(self, other): return self * other
    def pow(self, exponent): return self ** exponent
    def matmul(self, other): return matmul(self, other)

    def addcmul(self, tensor1, tensor2, *old, value=1): return self._addc("addcmul", tensor1, tensor2, value, old)
    def addcdiv(self, tensor1, tensor2, *old, value=1): return self._addc("addcdiv", tensor1, tensor2, value, old)

    def lerp(self, end, weight):
        """Linear interpolation, self + weight (end - self): Adam's m.lerp_(g, 1 - beta1) is m + (1 - beta1)(g - m).
        As PyTorch's kernel, a weight of size 0.5 or more computes end - (end - self)(1 - weight), the same number
        on paper, rounded nearer ``end``. ``weight`` is a number or a tensor."""
        diff = _tensor_arg(end, "lerp", "end") - self
        from_self, from_end = self + weight * diff, end - diff * (1 - weight)
        if isinstance(weight, Tensor):
            return where(weight.abs() < 0.5, from_self, from_end)
        return from_self if abs(weight) < 0.5 else from_end

    def _addc(self, name, tensor1, tensor2, value, old, inplace=False):
        """``addcmul``: self + value * tensor1 * tensor2; ``addcdiv``: self + value * tensor1 / tensor2 (the steps of
        Adam and RMSprop written by hand). Computed left to right, as PyTorch's kernels do. ``value`` is a number,
        or a 0-d tensor that does not require grad, which stands for its number (as in PyTorch). ``old``: the
        third argument of PyTorch's deprecated order, ``addcmul_(value, tensor1, tensor2)``."""
        if len(old) == 1 and isinstance(tensor1, numbers.Number):
            _warn_deprecated_overload(name, "Number value, Tensor tensor1, Tensor tensor2",
                                      "Tensor tensor1, Tensor tensor2, *, Number value = 1")
            value, tensor1, tensor2 = tensor1, tensor2, old[0]
        t1, t2 = _tensor_arg(tensor1, name, "tensor1"), _tensor_arg(tensor2, name, "tensor2")
        value = check_number(name, "value", _number(value))
        divides = name.startswith("addcdiv")
        if divides and not (t1.is_floating_point() or t2.is_floating_point()):
            raise RuntimeError(f"{name}: tensor1 and tensor2 are both integer ({t1.dtype}, {t2.dtype}), and PyTorch "
                               "no longer divides integers here; convert one of them first: tensor1.float()")
        try:
            term = t1 * value / t2 if divides else t1 * value * t2
            return self.add_(term) if inplace else self + term
        except RuntimeError as e:
            raise RuntimeError(f"{name}: {e}") from None

    def mm(self, mat2):
        """The product of two matrices, both 2-D (``torch.mm``; ``matmul`` and ``@`` also take 1-D and batches)."""
        if self.ndim != 2 or not isinstance(mat2, Tensor) or mat2.ndim != 2:
            other = tuple(mat2.shape) if isinstance(mat2, Tensor) else type(mat2).__name__
            raise RuntimeError(f"mm: both arguments must be 2-D matrices (tensors), got {tuple(self.shape)} and "
                               f"{other}; use matmul (or @) for vectors and batches")
        return matmul(self, mat2)
    def maximum(self, other): return self._binary(Maximum, _tensor_arg(other, "maximum", "other"))
    def minimum(self, other):  # min(x, y) = -max(-x, -y): maximum's half-and-half split of ties carries over
        other = _tensor_arg(other, "minimum", "other")
        d = dt.result_type(self, other)
        if d.is_floating_point:
            return -(-self.to(d)).maximum(-other.to(d))
        return where(self <= other, self, other)  # integers have no gradient, and -x would wrap for uint8

    # comparisons make boolean tensors; they have no gradient. A Python float stays exact (x == 0.1 for float64 x)
    def _compare(self, ufunc, other):
        if isinstance(other, (list, tuple)) and ufunc in (np.equal, np.not_equal):
            return_types.refuse_pair(other, ufunc.__name__)  # (the pair of max(dim): take .values, README)
            return NotImplemented  # (x == [1, 2] is False, as in PyTorch: a tensor equals no list)
        if not isinstance(other, (Tensor, numbers.Number, np.ndarray, np.generic, list, tuple)) \
                and not is_gpu_array(other):  # x == None is False, x != "cpu" True, x < None Python's TypeError,
            return NotImplemented             # as in PyTorch (a tensor equals no other kind of object)
        other = self._lift(other, ints_too=True, op=ufunc.__name__)  # ints become tensors: uint8 == -100 wraps
        dtype = dt.result_type(self, other)
        if isinstance(other, Tensor) and other.shape != self.shape:
            check_broadcast(ufunc.__name__, self.shape, other.shape)
        try:
            return Tensor._make(ufunc(_operand(self, dtype, self).array, _operand(other, dtype, self).array), None)
        except TypeError:  # (CuPy refuses numpy arrays: name the two devices instead)
            check_same_device(ufunc.__name__, [x for x in (self, other) if isinstance(x, Tensor)])
            raise

    def __eq__(self, other): return self._compare(np.equal, other)
    def __ne__(self, other): return self._compare(np.not_equal, other)
    def __lt__(self, other): return self._compare(np.less, other)
    def __le__(self, other): return self._compare(np.less_equal, other)
    def __gt__(self, other): return self._compare(np.greater, other)
    def __ge__(self, other): return self._compare(np.greater_equal, other)

    def _compare_method(self, ufunc, other):
        """``x.eq(y)`` and its siblings: as ``x == y``, but an operand that no tensor compares with is an error."""
        result = self._compare(ufunc, other)
        if result is NotImplemented:
            raise TypeError(f"{ufunc.__name__}(): other must be a tensor or a number, got {type(other).__name__}")
        return result
    def eq(self, other): return self._compare_method(np.equal, other)
    def ne(self, other): return self._compare_method(np.not_equal, other)
    def lt(self, other): return self._compare_method(np.less, other)
    def le(self, other): return self._compare_method(np.less_equal, other)
    def gt(self, other): return self._compare_method(np.greater, other)
    def ge(self, other): return self._compare_method(np.greater_equal, other)
    __hash__ = object.__hash__  # tensors are hashable by identity, as in PyTorch
    def __invert__(self): return Tensor._make(~self.array, None)
    def logical_not(self): return Tensor._make(np.logical_not(self.array), None)
    def isnan(self): return Tensor._make(np.isnan(self.array), None)
    def isinf(self): return Tensor._make(np.isinf(self.array), None)
    def isfinite(self): return Tensor._make(np.isfinite(self.array), None)

    # ---------------------------------------------------------------- elementwise functions
    def neg(self): return -self
    def abs(self): return Abs.apply(self)
    def exp(self): return Exp.apply(self._floating("exp"))
    def log(self): return Log.apply(self._floating("log"))
    def log1p(self): return Log1p.apply(self._floating("log1p"))
    def expm1(self): return Expm1.apply(self._floating("expm1"))
    def sqrt(self): return Sqrt.apply(self._floating("sqrt"))
    def reciprocal(self): return Reciprocal.apply(self._floating("reciprocal"))
    def rsqrt(self):
        r"""1 / \sqrt{x}, as PyTorch's ``x.rsqrt()``; its gradient -x^{-3/2} / 2 comes from sqrt's and division's."""
        return 1 / self._floating("rsqrt").sqrt()
    def sin(self): return Sin.apply(self._floating("sin"))
    def cos(self): return Cos.apply(self._floating("cos"))
    def square(self): return self * self
    def relu(self): return (ReLUCuda if is_gpu_array(self.array) else ReLU).apply(self)  # (kernels/activation.py)
    def sigmoid(self): return Sigmoid.apply(self._floating("sigmoid"))
    def tanh(self): return Tanh.apply(self._floating("tanh"))
    def softmax(self, dim, dtype=None):
        r"""e^{x_i} / \sum_j e^{x_j} along ``dim``. ``dtype``: convert to it first (e.g. float64 for a softmax computed
        more precisely, float32 for an integer tensor), as PyTorch's."""
        return self._softmax(Softmax, "softmax", dim, dtype)

    def log_softmax(self, dim, dtype=None):
        r"""x_i - \log \sum_j e^{x_j} along ``dim``; ``dtype`` as softmax's."""
        return self._softmax(LogSoftmax, "log_softmax", dim, dtype)

    def _softmax(self, op, name, dim, dtype):
        """softmax and log_softmax of a floating point tensor, as PyTorch's, which has no integer kernel for them: an
        integer or bool tensor is refused (exp converts it; these do not). An empty one passes as it is."""
        d, x = dim_index(dim, self.ndim, name), (self if dtype is None else self.to(dtype=dtype))
        if x.numel() and not x.dtype.is_floating_point:
            raise NotImplementedError(f"{name}: not implemented for {x.dtype} tensors (PyTorch has no kernel for them "
                                      f"either); convert first: x.float().{name}({dim}), or pass dtype=torch.float32")
        return op.apply(autocast_args(name, x)[0], dim=d) if x.numel() else x.clone()

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return _clamp_tensor(self, min, max)
        if not self.dtype.is_floating_point and any(isinstance(b, (builtins.float, np.floating)) for b in (min, max)):
            self = self.to(dt.get_default_dtype())  # an integer tensor and a float bound: float32, as PyTorch promotes
        min, max = (_clamp_bound(self, name, bound) for name, bound in (("min", min), ("max", max)))
        return Clamp.apply(self, min=min, max=max)
    clip = clamp

    # ---------------------------------------------------------------- rounding and integer division (ops/rounding.py)
    def floor(self): return Floor.apply(self)
    def ceil(self): return Ceil.apply(self)
    def trunc(self): return Trunc.apply(self)
    def round(self, decimals=0):
        decimals = as_int(decimals, "round", "decimals")
        if not -2**31 <= decimals < 2**31:
            raise RuntimeError(f"round: decimals={decimals} is out of range (at most 2**31 - 1 either way)")
        return Round.apply(self, decimals=decimals)

    def sign(self): return Sign.apply(self)
    fix = trunc
    def __floordiv__(self, other): return self._binary(FloorDivide, other)
    def __rfloordiv__(self, other): return self._binary(FloorDivide, other, reverse=True)
    def __mod__(self, other): return self._binary(Remainder, other)
    def __rmod__(self, other): return self._binary(Remainder, other, reverse=True)
    def floor_divide(self, other): return self._binary(FloorDivide, other)
    def remainder(self, other): return self._binary(Remainder, other)
    def fmod(self, other): return self._binary(Fmod, other)

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` is True; the result keeps x's dtype, as PyTorch's (0.5 into int64 gives 0; inf or
        1e30 into int64 is an error)."""
        if isinstance(value, (builtins.int, builtins.float)):
            dt.check_fits(value, self.dtype, "masked_fill")
        if isinstance(mask, Tensor) and mask.dtype != dt.bool:
            raise RuntimeError(f"masked_fill: the mask must be a bool tensor, got {mask.dtype}; write mask.bool()")
        return where(mask, value, self).to(self.dtype)

    def where(self, condition, other):
        """``x.where(cond, y)`` is ``torch.where(cond, x, y)``."""
        return where(condition, self, other)

    def _floating(self, name):
        """Integer inputs of float functions (exp, log, ...) are computed in the default float type, as in PyTorch;
        inside autocast, the ops on its float32 list (exp, log, softmax... on "cuda") get float32 (amp/)."""
        x = self if self.dtype.is_floating_point else self.to(dt.get_default_dtype())
        return autocast_args(name, x)[0]

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        r"""\sum_i x_i over ``dim`` (an int or a tuple of ints; all elements when None), as ``torch.sum``.

        ``keepdim=True`` keeps each reduced dim with size 1. bool and integer inputs sum to int64 (as PyTorch; an
        explicit ``dtype`` converts first, and an integer one is summed in, wrapping around as PyTorch's); float16 is
        summed in float32 and rounded once. dz/dx_i = 1."""
        keepdim = check_flag("sum", "keepdim", keepdim)
        x = self.to(dtype=dtype) if dtype is not None else autocast_args("sum", self)[0]  # (an explicit dtype wins)
        if not x.dtype.is_floating_point:  # counting: bool and int sums are int64, as in PyTorch
            counts = x.array.sum(axis=dim_indices(dim, x.ndim, "sum"), keepdims=keepdim,
                                 dtype=np.int64 if dtype is None else x.dtype.np)  # (dtype=: wraps as PyTorch's)
            return Tensor._make(counts, None)
        return Sum.apply(x, dim=dim_indices(dim, x.ndim, "sum"), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        r"""\frac{1}{N} \sum_i x_i over ``dim`` (all elements when None), N the number of elements reduced.

        As ``torch.mean``: floating point inputs only (for an integer or bool tensor convert first, ``x.float()``,
        or pass ``dtype=``). dz/dx_i = 1/N."""
        keepdim = check_flag("mean", "keepdim", keepdim)
        x = self.to(dtype=dtype) if dtype is not None else self
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"mean: could not infer the output dtype; the input is {x.dtype}, an integer or bool "
                               "type. Convert first: x.float().mean() (e.g. accuracy = (pred == y).float().mean())")
        return Mean.apply(x, dim=dim_indices(dim, x.ndim, "mean"), keepdim=keepdim)

    def max(self, dim=None, keepdim=False, *, other=None):
        """The largest value, as ``torch.max``, in three forms:

        - ``max()``: the largest element, a 0-d tensor; tied maxima share the gradient equally (as PyTorch).
        - ``max(dim, keepdim=False)``: the named pair ``(values, indices)`` along ``dim`` (``return_types.max``),
          not a tensor: take ``.values`` to compute with it. Among ties the first index; the gradient goes to it.
        - ``max(other)``: the elementwise ``maximum`` of two tensors."""
        keepdim = check_flag("max", "keepdim", keepdim)
        if isinstance(dim, Tensor) or other is not None:
            return self.maximum(dim if other is None else other)
        if dim is None:
            check_reducible("max", self.shape, None)
            return Amax.apply(self, dim=None, keepdim=False)
        d = dim_index(dim, self.ndim, "max")
        check_reducible("max", self.shape, (d,))
        if self.ndim == 0:  # PyTorch accepts dim 0 or -1 here: the value itself, at index 0
            return self.reshape(1).max(0)
        return return_types.max(MaxAlongDim.apply(self, dim=d, keepdim=keepdim), self.argmax(d, keepdim))

    def _flip(self):
        """An order-reversing map: -x for floats, ~x for integers and bools (where -x would wrap for uint8)."""
        return -self if self.dtype.is_floating_point else ~self

    def min(self, dim=None, keepdim=False, *, other=None):
        """The smallest value, as ``torch.min``: ``min()``, ``min(dim, keepdim=False)`` (the named pair
        ``(values, indices)``: take ``.values``) and ``min(other)`` (``minimum``), as ``max``'s three forms.

        The minimum is the maximum of the flipped values: min(x) = -max(-x)."""
        keepdim = check_flag("min", "keepdim", keepdim)
        if isinstance(dim, Tensor) or other is not None:
            return self.minimum(dim if other is None else other)
        check_reducible("min", self.shape, None if dim is None else (dim_index(dim, self.ndim, "min"),))
        if dim is None:
            return self._flip().max()._flip()
        values, _ = self._flip().max(dim, keepdim)
        return return_types.min(values._flip(), self.argmin(dim, keepdim))

    def amax(self, dim=(), keepdim=False):
        r"""\max_i x_i over ``dim`` (an int or a tuple; all dims when ``()``, the default, or None), values only.

        As ``torch.amax``: unlike ``max(dim)``, no indices, and tied maxima share the gradient equally."""
        keepdim = check_flag("amax", "keepdim", keepdim)
        dims = dim_indices(dim, self.ndim, "amax")
        check_reducible("amax", self.shape, dims)
        return Amax.apply(self, dim=dims, keepdim=keepdim, spread=True)

    def amin(self, dim=(), keepdim=False):
        r"""\min_i x_i over ``dim`` (all dims by default), values only, as ``torch.amin``: ``-amax(-x)``."""
        keepdim = check_flag("amin", "keepdim", keepdim)
        check_reducible("amin", self.shape, dim_indices(dim, self.ndim, "amin"))
        return self._flip().amax(dim, keepdim)._flip()

    def argmax(self, dim=None, keepdim=False):
        """The index (int64) of the largest value along ``dim``; of the flattened tensor when None. Among ties the
        first. No gradient."""
        keepdim = check_flag("argmax", "keepdim", keepdim)
        d = None if dim is None else dim_index(dim, self.ndim, "argmax")
        check_reducible("argmax", self.shape, None if d is None else (d,), IndexError)
        return Tensor._make(np.argmax(self.array, axis=d, keepdims=keepdim).astype(np.int64), None)

    def argmin(self, dim=None, keepdim=False):
        """The index (int64) of the smallest value along ``dim``; of the flattened tensor when None. Among ties the
        first. No gradient."""
        keepdim = check_flag("argmin", "keepdim", keepdim)
        d = None if dim is None else dim_index(dim, self.ndim, "argmin")
        check_reducible("argmin", self.shape, None if d is None else (d,), IndexError)
        return Tensor._make(np.argmin(self.array, axis=d, keepdims=keepdim).astype(np.int64), None)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        r"""Variance over ``dim`` (all elements when None): \sum_i (x_i - \bar x)^2 / (N - correction).

        As ``torch.var``, the default is ``correction=1``: the unbiased sample variance, divisor N - 1 (Bessel's
        correction). ``unbiased=False`` or ``correction=0`` divides by N (numpy's ``np.var`` default, ddof=0).
        A divisor N - correction <= 0 gives inf or nan, with PyTorch's warning. float16 is computed in float32 and
        rounded once, as PyTorch does: a float16 sum of squares overflows past 65504 (10,000 values of spread 3 do)."""
        return self._var(dim, unbiased, keepdim, correction, "var")

    def _var(self, dim, unbiased, keepdim, correction, op):
        if correction is None:
            correction = 0 if unbiased is False else 1
        dims = dim_indices(dim, self.ndim, op)
        if not self.dtype.is_floating_point:
            raise RuntimeError(f"{op}(): std and var need a floating point tensor, got {self.dtype}; convert it first "
                               "with .float()")
        if self.dtype is dt.float16 or (self.dtype is dt.float32 and type(self.array) is np.ndarray):  # wider, as
            wide = self.float() if self.dtype is dt.float16 else self.double()  # PyTorch's kernels: squares of 1e20
            return wide._var(dims, None, keepdim, correction, op).to(self.dtype)  # fit in float64, not in float32
        n = self.numel() if dims is None else int(np.prod([self.shape[d] for d in dims]))
        if n - correction <= 0:  # (one sample with correction=1: nan, and PyTorch's words for why)
            warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                          "reduction factor (input numel divided by output numel).", stacklevel=callers_level())
        with np.errstate(divide="ignore", invalid="ignore"):
            return ((self - self.mean(dims, True)) ** 2).sum(dims, keepdim=keepdim) / builtins.max(n - correction, 0)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        r"""Standard deviation: \sqrt{var}, with ``var``'s arguments, so \sqrt{\sum_i (x_i - \bar x)^2 / (N - 1)} by
        default.

        As ``torch.std``, the default is ``correction=1`` (unbiased, divisor N - 1); ``unbiased=False`` or
        ``correction=0`` gives the population std, divisor N (numpy's ``np.std`` default). Where the std is 0 the
        gradient is 0, as PyTorch's."""
        if self.dtype is dt.float16 or (self.dtype is dt.float32 and type(self.array) is np.ndarray):  # (as var's,
            wide = self.float() if self.dtype is dt.float16 else self.double()  # and the square root too, rounded once)
            return wide.std(dim, unbiased, keepdim, correction=correction).to(self.dtype)
        v = self._var(dim, unbiased, keepdim, correction, "std")
        return where(v == 0, 0.0, where(v == 0, 1.0, v).sqrt())  # where v = 0, PyTorch's gradient is 0, not 0 * inf

    def logsumexp(self, dim, keepdim=False):
        r"""\log \sum_i \exp(x_i) over ``dim`` (required, as in ``torch.logsumexp``: an int or a tuple).

        Computed stably as m + \log \sum_i \exp(x_i - m) with m the max (a constant for the gradient), so large x
        do not overflow. dz/dx_i = softmax(x)_i."""
        dims = dim_indices(dim, self.ndim, "logsumexp")  # (checked here, so that an error names logsumexp)
        x = autocast_args("logsumexp", self)[0]
        m = x.detach().amax(dims, keepdim=True)
        m = where(m.isfinite(), m, 0.0)
        out = (x - m).exp().sum(dims, keepdim=True).log() + m
        return out if keepdim else out.squeeze(dims)

    def all(self, dim=None, keepdim=False):
        """True where every element (along ``dim``, an int or a tuple; of the whole tensor when None) is non-zero: a
        bool tensor."""
        keepdim = check_flag("all", "keepdim", keepdim)
        return Tensor._make(np.all(self.array, axis=dim_indices(dim, self.ndim, "all"), keepdims=keepdim), None)

    def any(self, dim=None, keepdim=False):
        """True where at least one element (along ``dim``, an int or a tuple; of the whole tensor when None) is
        non-zero."""
        keepdim = check_flag("any", "keepdim", keepdim)
        return Tensor._make(np.any(self.array, axis=dim_indices(dim, self.ndim, "any"), keepdims=keepdim), None)

    def prod(self, dim=None, keepdim=False, dtype=None):
        r"""\prod_i x_i over all elements, or along one ``dim``, as ``torch.prod``; bool and integer inputs give
        int64. dz/dx_i = \prod_{k \ne i} x_k (ops/reduce.py: exact gradients with zeros in the input)."""
        keepdim = check_flag("prod", "keepdim", keepdim)
        x = self.to(dt.as_dtype(dtype, "prod")) if dtype is not None else autocast_args("prod", self)[0]
        d = None if dim is None or x.ndim == 0 else dim_index(dim, x.ndim, "prod")
        if not x.dtype.is_floating_point:  # integer and bool products are int64, as in PyTorch
            return Tensor._make(x.array.prod(axis=d, keepdims=keepdim, dtype=np.int64 if dtype is None else x.dtype.np),
                                None)
        return Prod.apply(x, dim=d, keepdim=keepdim)

    def cumsum(self, dim, *, dtype=None):
        """Running sums along ``dim``: out[i] = x[0] + ... + x[i] (ops/scan.py)."""
        return self._scan(CumSum, "cumsum", dim, dtype)

    def cumprod(self, dim, *, dtype=None):
        """Running products along ``dim``: out[i] = x[0] * ... * x[i] (ops/scan.py)."""
        return self._scan(CumProd, "cumprod", dim, dtype)

    def _scan(self, op, name, dim, dtype):
        x = self.to(dt.as_dtype(dtype, name)) if dtype is not None else autocast_args(name, self)[0]
        d = dim_index(dim, x.ndim, name)
        if x.ndim == 0:
            return x.reshape(1)._scan(op, name, 0, None).reshape(())
        if not x.dtype.is_floating_point:  # integer and bool scans are int64, as in PyTorch
            ufunc = np.cumsum if op is CumSum else np.cumprod
            return Tensor._make(ufunc(x.array, axis=d, dtype=np.int64 if dtype is None else x.dtype.np), None)
        return op.apply(x, dim=d)

    def argsort(self, dim=-1, descending=False, stable=False):
        """The indices that sort ``dim``. Always stable: equal values keep their order (PyTorch promises that only
        with ``stable=True``; without it, its order of ties may differ from ours)."""
        d = dim_index(dim, self.ndim, "argsort")
        if self.ndim == 0:
            return Tensor._make(np.zeros((), np.int64), None)
        xp, a = array_module_of(self.array), self.array
        if not descending:
            order = xp.argsort(a, axis=d, kind="stable")
        else:  # sort the reversed values stably and reverse back: descending, with ties still in their first order
            order = a.shape[d] - 1 - xp.flip(xp.argsort(xp.flip(a, d), axis=d, kind="stable"), d)
        return Tensor._make(order.astype(np.int64), None)

    def sort(self, dim=-1, descending=False, stable=False):
        """(values, indices) sorted along ``dim``; the gradient of each value goes back to where it came from."""
        indices = self.argsort(dim, descending, stable)
        return return_types.sort(self.gather(dim, indices) if self.ndim else self.clone(), indices)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The ``k`` largest (or smallest) values along ``dim`` and their indices, as (values, indices).

        Among equal values the lower index comes first (PyTorch leaves the choice among ties open). The result is
        always sorted, also with ``sorted=False``."""
        d = dim_index(dim, self.ndim, "topk")
        n = self.shape[d] if self.ndim else 1
        k = as_int(k, "topk", "k")
        if not 0 <= k <= n:
            raise RuntimeError(f"topk: k ({k}) is out of range: dim {dim} has {n} elements, so k must be 0 to {n}")
        if self.ndim == 0:
            return return_types.topk(self.clone(), Tensor._make(np.zeros((), np.int64), None))
        indices = self.argsort(d, descending=largest)[(slice(None),) * d + (slice(0, k),)]
        return return_types.topk(self.gather(d, indices), indices)

    def gather(self, dim, index):
        """out[..., i, ...] = self[..., index[..., i, ...], ...] along ``dim`` (``torch.gather``; ops/gather.py)."""
        d = dim_index(dim, self.ndim, "gather")
        idx = index.array if isinstance(index, Tensor) else np.asarray(index)
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"gather: index must be an integer tensor (torch.long), got {idx.dtype}")
        if isinstance(index, Tensor):
            check_same_device("gather", [self, index])
        shape, ishape = tuple(self.shape), idx.shape
        if idx.ndim != builtins.max(self.ndim, 1) or builtins.any(
                i != d and ishape[i] > shape[i] for i in range(self.ndim)):
            raise RuntimeError(f"gather: index shape {ishape} does not fit input shape {shape}: it needs the same "
                               f"number of dims, and no dim other than {d} may be larger than the input's")
        n = shape[d] if self.ndim else 1
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise RuntimeError(f"gather: index out of range: indices must be 0 to {n - 1} along dim {d}, got "
                               f"{int(idx.min())} to {int(idx.max())}")
        x = self if self.ndim else self.reshape(1)
        x = x[tuple(slice(None) if i == d else slice(0, m) for i, m in enumerate(ishape))]
        out = Gather.apply(x, index=idx.astype(np.int64), dim=d)
        return out if self.ndim else out.reshape(())

    def nonzero(self, *, as_tuple=False):
        """The indices of the non-zero elements: an (n, ndim) tensor, or one 1-D tensor per dim with as_tuple."""
        as_tuple = check_flag("nonzero", "as_tuple", as_tuple)
        a = self.array.reshape(1) if self.ndim == 0 else self.array
        found = [Tensor._make(i.astype(np.int64), None) for i in array_module_of(a).nonzero(a)]
        if as_tuple:
            return tuple(found)
        return Tensor._make(np.stack([i.array for i in found], axis=1)[:, :self.ndim], None)

    def bincount(self, weights=None, minlength=0):
        """How often each value 0, 1, 2, ... occurs in this 1-D integer tensor; with ``weights``, their sums per value
        (ops/gather.py; differentiable with respect to the weights, which PyTorch's is not)."""
        minlength = as_int(minlength, "bincount", "minlength")
        if self.ndim != 1 or self.dtype.is_floating_point or self.dtype is dt.bool:
            raise RuntimeError(f"bincount: only supports 1-d non-negative integral inputs, got a {self.ndim}-d "
                               f"{self.dtype} tensor; use x.long() on whole-number floats, x.flatten() for more dims")
        if self.numel() and self.array.min() < 0:
            raise RuntimeError(f"bincount: the input has negative values ({int(self.array.min())}); only counts of "
                               "non-negative integers are defined")
        if minlength < 0:
            raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
        length = builtins.max(int(self.array.max()) + 1 if self.numel() else 0, minlength)
        if weights is None or self.numel() == 0:  # (an empty input gives int64 zeros even with weights, as PyTorch)
            return Tensor._make(np.bincount(self.array, minlength=length).astype(np.int64), None)
        weights = _as_tensor(weights, self.device)
        check_same_device("bincount", [self, weights])
        if weights.shape != self.shape:
            raise RuntimeError(f"bincount: weights should have the same shape as the input, got {tuple(weights.shape)}"
                               f" and {tuple(self.shape)}")
        weights = weights if weights.dtype in (dt.float32, dt.float64) else weights.double()  # as PyTorch
        return Bincount.apply(weights, bins=self.array, length=length)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """torch.norm: "fro" (the default) is the 2-norm of the elements over ``dim`` (all when None); a number p is
        the vector p-norm over ``dim``. Matrix norms are ``linalg.matrix_norm``'s."""
        x = self if dtype is not None else autocast_args("norm", self)[0]
        if isinstance(p, str) and not (p == "fro" and (dim is None or isinstance(dim, builtins.int) or len(dim) <= 2)):
            kind = NotImplementedError if p == "nuc" else RuntimeError
            raise kind(f"norm: p={p!r} over dims {dim} is a matrix norm that Tensor.norm does not compute; use "
                       "linalg.matrix_norm (or p='fro' over at most 2 dims, or a number p)")
        return vector_norm(x, 2 if p is None or p == "fro" else p, dim, keepdim, dtype=dtype)

    # ---------------------------------------------------------------- shapes
    def reshape(self, *sizes, shape=None):
        shape = shape_args(sizes_or_keyword(sizes, shape, "shape", "reshape"))
        if builtins.any(n < -1 for n in shape):  # (numpy takes any negative size for -1; PyTorch refuses)
            raise RuntimeError(f"reshape: invalid size {min(shape)} in shape {list(shape)}: -1 stands for the one "
                               "size to infer, the others are 0 or more")
        if shape.count(-1) > 1:  # (PyTorch: "only one dimension can be inferred")
            raise RuntimeError(f"reshape: shape {list(shape)} has {shape.count(-1)} sizes of -1; only one size can "
                               "be inferred: give the others")
        try:
            return Reshape.apply(self, shape=shape)
        except ValueError:
            raise RuntimeError(f"reshape: shape {list(shape)} is invalid for a tensor of shape {tuple(self.shape)} "
                               f"({self.numel()} elements); the sizes must multiply to {self.numel()}") from None

    def view(self, *sizes, size=None):
        """The same numbers under a new shape, sharing memory: writing through the view changes self.

        Possible only where the layout of self's numbers in memory allows it. After a transpose, permute, expand or
        a slice that skips elements it may not: then, as PyTorch, we raise, where ``reshape`` would copy.
        """
        try:
            out = self.reshape(*sizes_or_keyword(sizes, size, "size", "view"))
        except RuntimeError as error:  # (reshape's message, under view's name)
            raise RuntimeError(str(error).replace("reshape", "view", 1)) from None
        if out._version_counter is not self._version_counter and self.numel() > 0:  # not a view of self: a copy
            raise RuntimeError(f"view: shape {list(out.shape)} cannot be a view of this tensor of shape "
                               f"{tuple(self.shape)}: its numbers are not laid out in memory in an order that shape "
                               "can read without copying (it is a transpose, permute, expand or slice of another "
                               "tensor). Use .reshape(...), which copies when it must, or .contiguous().view(...)")
        return out

    def view_as(self, other):
        return self.view(_tensor_arg(other, "view_as", "other").shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            dim_index(start_dim, 1, "flatten"), dim_index(end_dim, 1, "flatten")  # (0 and -1 only, as PyTorch's)
            return self.reshape(1)
        s, e = dim_index(start_dim, self.ndim, "flatten"), dim_index(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
        if s == e:  # (nothing to join: the tensor itself, as PyTorch's)
            return self
        joined = int(np.prod(self.shape[s:e + 1], dtype=np.int64))  # (not -1: with a 0 in the shape, -1 is ambiguous)
        return self.reshape(*self.shape[:s], joined, *self.shape[e + 1:])

    def squeeze(self, dim=None):
        dims = range(self.ndim) if dim is None else dim_indices(dim, self.ndim, "squeeze") or ()
        return self.reshape(*[n for i, n in enumerate(self.shape) if not (i in dims and n == 1)])

    def unsqueeze(self, dim):
        d = dim_index(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(*self.shape[:d], 1, *self.shape[d:])

    def expand(self, *sizes, size=None):
        sizes = shape_args(sizes_or_keyword(sizes, size, "size", "expand"), "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's number of "
                               f"dims ({self.ndim})")
        if builtins.any(n == -1 for n in sizes[:lead]):
            raise RuntimeError(f"expand: -1 is not allowed for a new leading dim (sizes {list(sizes)}, tensor shape "
                               f"{list(self.shape)}); give its size")
        if builtins.any(n < -1 for n in sizes):
            raise RuntimeError(f"expand: sizes must be >= 0 (or -1 to keep a dim), got {list(sizes)}")
        target = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
        for i, n in enumerate(self.shape):
            if n != 1 and n != target[i + lead]:
                raise RuntimeError(f"expand: the expanded size ({target[i + lead]}) must match the existing size "
                                   f"({n}) at non-singleton dim {i}. Target sizes {list(sizes)}, tensor sizes "
                                   f"{list(self.shape)}; only dims of size 1 can be expanded")
        return Expand.apply(self, shape=target)

    def expand_as(self, other):
        return self.expand(_tensor_arg(other, "expand_as", "other").shape)

    def permute(self, *order, dims=None):
        order = shape_args(sizes_or_keyword(order, dims, "dims", "permute"), "permute")
        if len(order) != self.ndim:
            raise RuntimeError(f"permute: the tensor has {self.ndim} dims (shape {tuple(self.shape)}), but the order "
                               f"({', '.join(map(str, order))}) names {len(order)}; give each dim once")
        dims = tuple(dim_index(d, self.ndim, "permute") for d in order)
        if sorted(dims) != list(range(self.ndim)):
            raise RuntimeError(f"permute: dims {list(dims)} must be a reordering of 0..{self.ndim - 1}")
        return Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        order = list(range(builtins.max(self.ndim, 1)))  # a 0-d tensor accepts dims 0 and -1, as in PyTorch
        d0, d1 = dim_index(dim0, self.ndim, "transpose"), dim_index(dim1, self.ndim, "transpose")
        order[d0], order[d1] = order[d1], order[d0]
        return Permute.apply(self, dims=tuple(order[:self.ndim]))

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t: expects a tensor with <= 2 dims, got {self.ndim}; use transpose(dim0, dim1)")
        return self.permute(*reversed(range(self.ndim)))

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, index):
        try:
            index = _index(index)
            out = Index.apply(self, index=index)
        except (IndexError, OverflowError, ValueError) as e:  # (numpy's IndexError, or an index beyond int64)
            raise IndexError(f"index: {in_tensor_words(e, index)} (tensor shape {tuple(self.shape)})") from None
        order = torch_order(index, self.ndim, out.ndim)  # (integers beside index arrays: indexing.py)
        return out if order is None else out.permute(order)

    def __setitem__(self, index, value):
        """``x[index] = value``. Recorded in the graph (op ``SetItem``) when x or value requires grad, as in PyTorch."""
        try:
            index = _index(index)
            value = in_numpy_order(self.shape, index, value)
            if records_inplace(self, "setitem", value):
                self._record_write("setitem", value, index)
                return
            array = value.array if isinstance(value, Tensor) else value
            self.array[index] = array.reshape(()) if getattr(array, "size", 0) == 1 else array  # ((1,) fills one)
        except (IndexError, ValueError, TypeError, OverflowError) as e:  # an index or a value that does not fit
            check_same_device("setitem", [x for x in (self, value) if isinstance(x, Tensor)],
                              index if isinstance(index, tuple) else [index])
            # PyTorch's types: a bad index an IndexError, a list or a string as the value a TypeError, and a value
            # of the wrong shape (numpy: could not broadcast) or a nan into integers a RuntimeError
            kind = (IndexError if isinstance(e, IndexError) else TypeError if isinstance(e, TypeError) or
                    isinstance(value, (str, list, tuple)) else RuntimeError)
            of_value = f"; the value has shape {tuple(value.shape)}" if isinstance(value, Tensor) else ""
            raise kind(f"setitem: {in_tensor_words(e, index, writing=True)} (the tensor has shape "
                       f"{tuple(self.shape)} and dtype {self.dtype}{of_value})") from None
        self._bump_version()

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __contains__(self, element):
        """``element in x``: whether any number of x equals ``element`` (a number or a tensor that broadcasts)."""
        if not isinstance(element, (Tensor, numbers.Number)):
            raise RuntimeError(f"in: `element in x` compares element with x's numbers, so it must be a number or a "
                               f"tensor, not {type(element).__name__}")
        return builtins.bool((self == element).any())

    # ---------------------------------------------------------------- in-place updates
    # An in-place op changes the numbers in self.array, which other tensors may share (views, detach) and ops may
    # have saved for backward. So it bumps the version counter they share: Function.saved_tensors checks it.
    # When grad mode is on and self or the other operand requires grad, the change is also recorded, as in
    # PyTorch: self becomes the result of the op applied to its earlier state. autograd/inplace.py explains both.
    _previous = None  # after a recorded in-place op: a tensor holding self's state before it (inplace.input_as_used)
    _chain = None     # self's earlier states, listed by inplace.input_as_used (for its search)
    _base = None      # for a view made by an op (a slice, reshape, transpose): the tensor whose numbers it shows

    @property
    def _version(self):
        """How many in-place changes this tensor's numbers have had (PyTorch's ``x._version``)."""
        return self._version_counter[0]

    def _bump_version(self):
        self._version_counter[0] += 1

    def _record_write(self, name, value, index):
        """Record ``self[index] = value`` (the op SetItem, which writes into self's own array)."""
        value = _as_tensor(value, self.device)
        return record_inplace(self, name, lambda before: SetItem.apply(before, value, index=index),
                              writes_into_input=True)

    def _inplace(self, name, ufunc, other):
        other = self._lift(other, op=name)  # (a list is refused, as by +; a bool in sub_, as by -)
        if records_inplace(self, name, other):
            op = {"add_": Add, "sub_": Sub, "mul_": Mul, "div_": Div}[name]
            return record_inplace(self, name, lambda before: before._binary(op, other, float_result=op is Div))
        value = other.array if isinstance(other, Tensor) else other
        try:
            ufunc(self.array, value, out=self.array, casting="same_kind")
        except TypeError:  # (CuPy refuses numpy arrays: name the two devices first)
            if isinstance(other, Tensor):
                check_same_device(name, [self, other])
            raise RuntimeError(f"{name}: the result type can't be cast to the tensor's dtype {self.dtype}; "
                               "convert the tensor first (e.g. .float())") from None
        except (ValueError, OverflowError) as e:
            raise RuntimeError(f"{name}: cannot update a tensor of shape {tuple(self.shape)} in place: {e}") from None
        self._bump_version()
        return self

    def __iadd__(self, other): return self._inplace("add_", np.add, other)
    def __isub__(self, other): return self._inplace("sub_", np.subtract, other)
    def __imul__(self, other): return self._inplace("mul_", np.multiply, other)
    def __itruediv__(self, other): return self._inplace("div_", np.true_divide, other)
    def add_(self, other, alpha=1):
        other, alpha = _number_first("add_", other, alpha)
        return self._inplace("add_", np.add, _scaled(self._lift(other, op="add_"), alpha, "add_"))

    def sub_(self, other, alpha=1):
        other, alpha = _number_first("sub_", other, alpha)
        return self._inplace("sub_", np.subtract, _scaled(self._lift(other, op="sub_"), alpha, "sub_"))
    def mul_(self, other): return self._inplace("mul_", np.multiply, other)
    def div_(self, other): return self._inplace("div_", np.true_divide, other)

    def copy_(self, src):
        array = as_array(src, op="copy_")
        if not _broadcasts_to(array.shape, self.array.shape):
            raise RuntimeError(f"copy_: the source of shape {tuple(array.shape)} does not fit a tensor of shape "
                               f"{tuple(self.shape)} (it must broadcast to that shape)")
        if records_inplace(self, "copy_", src):  # x[...] = src: the gradient goes to src, none to the old x
            return self._record_write("copy_", src, ...)
        self.array[...] = move(array, self.device)
        self._bump_version()
        return self

    def fill_(self, value):
        if records_inplace(self, "fill_", value):
            return self.copy_(value)
        if np.ndim(value) != 0:
            raise RuntimeError(f"fill_ only supports a 0-dimension value tensor, got one of shape {np.shape(value)}")
        if not isinstance(value, (Tensor, builtins.int, builtins.float, np.number, np.bool_)):
            raise TypeError(f"fill_(): value must be a number, got {type(value).__name__} {value!r:.40}")
        value = value.item() if isinstance(value, Tensor) else value
        dt.check_fits(value, self.dtype, "fill_")
        self.array[...] = value
        self._bump_version()
        return self

    def zero_(self):
        return self.fill_(0)

    def clamp_(self, min=None, max=None):
        if not self.dtype.is_floating_point and any(isinstance(b, (builtins.float, np.floating)) or isinstance(
                b, Tensor) and b.dtype.is_floating_point for b in (min, max)):
            raise RuntimeError(f"clamp_: a float bound makes a float result, which can't be cast to the tensor's "
                               f"dtype {self.dtype} in place (PyTorch refuses it too); use clamp() or int bounds")
        return self._apply_("clamp_", lambda t: t.clamp(min, max))

    def _apply_(self, name, op):
        """The in-place version of the out-of-place ``op``: self takes ``op(self)``'s numbers in its own memory. An
        argument of op that requires grad (``buf.clamp_(max=w)``) puts the change in the graph, as self's flag does."""
        result = None if self._requires_grad else op(self.detach())  # (does it require grad through an argument?)
        if records_inplace(self, name, result):
            return record_inplace(self, name, op)
        return self.copy_(op(self.detach()) if result is None else result)

    def abs_(self): return self._apply_("abs_", Tensor.abs)
    def relu_(self): return self._apply_("relu_", Tensor.relu)
    def masked_fill_(self, mask, value): return self._apply_("masked_fill_", lambda t: t.masked_fill(mask, value))
    def lerp_(self, end, weight): return self._apply_("lerp_", lambda t: t.lerp(end, weight))
    def addcmul_(self, tensor1, tensor2, *old, value=1):
        return self._addc("addcmul_", tensor1, tensor2, value, old, inplace=True)

    def addcdiv_(self, tensor1, tensor2, *old, value=1):
        return self._addc("addcdiv_", tensor1, tensor2, value, old, inplace=True)

    # random fillings, drawn on the tensor's device (random.py): the CPU's and a GPU's numbers differ for one seed
    def uniform_(self, a=0.0, b=1.0, generator=None):
        check_number("uniform_", "from", a), check_number("uniform_", "to", b)
        if a > b:
            raise RuntimeError(f"uniform_ expects a range [from, to) with from <= to, got from={a} > to={b}")
        return self.copy_(random.uniform(self.shape, a, b, device=self.device, dtype=self.dtype.np,
                                         generator=generator))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        check_number("normal_", "mean", mean), check_number("normal_", "std", std, low=0)
        return self.copy_(random.normal(self.shape, mean, std, device=self.device, dtype=self.dtype.np,
                                        generator=generator))

    def bernoulli_(self, p=0.5, generator=None):
        """Fill with 1 with probability ``p`` (a number, or a tensor of probabilities that broadcasts to this one), else
        with 0."""
        if isinstance(p, Tensor):
            check_same_device("bernoulli_", [self, p])
            if not p.dtype.is_floating_point or not _broadcasts_to(p.shape, self.shape):
                raise RuntimeError(f"bernoulli_: p must be a number or a floating tensor of probabilities that "
                                   f"broadcasts to the shape {tuple(self.shape)}, got {p.dtype.name} of shape "
                                   f"{tuple(p.shape)}")
            p = p.array
        else:
            check_number("bernoulli_", "p", p, 0, 1)
        floats = self.dtype.np if self.dtype.is_floating_point else np.float32  # (an int tensor takes the 0s and 1s)
        u = random.uniform(self.shape, device=self.device, dtype=floats, generator=generator, op="bernoulli_")
        return self.copy_(u < p)

    # ---------------------------------------------------------------- conversion
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
        """Convert dtype and/or move device: ``.to("cuda")``, ``.to(torch.float64)``, ``.to(other_tensor)``.
        ``memory_format``: as ``clone``'s (the results are row-major here)."""
        memory_formats.check_memory_format("to", memory_format)
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, dt.dtype) or builtins.any(a is t for t in (builtins.float, builtins.int, builtins.bool)):
                dtype = a
            elif isinstance(a, (str, Device)):
                device = a
            elif type(a) is builtins.int and a >= 0:  # a GPU's index, as in PyTorch: x.to(1) is x.to("cuda:1")
                device = Device(a)
            else:
                raise TypeError(f"to(): expected a dtype (e.g. torch.float64), a device ('cpu', 'cuda') or a tensor, "
                                f"got {type(a).__name__} {a!r:.60}")
        out = self
        if dtype is not None and dt.as_dtype(dtype) is not self.dtype:
            out = Cast.apply(out, dtype=dt.as_dtype(dtype).np)
        if device is not None and not same_place(device_of(out.array), device):
            out = ToDevice.apply(out, device=device)
        return out.clone() if copy and out is self else out

    def cpu(self): return self.to("cpu")
    def cuda(self, device=None, non_blocking=False, memory_format=None):
        return self.to(cuda_device(device), non_blocking=non_blocking, memory_format=memory_format)
    def float(self, memory_format=None): return self.to(dt.float32, memory_format=memory_format)
    def double(self, memory_format=None): return self.to(dt.float64, memory_format=memory_format)
    def half(self, memory_format=None): return self.to(dt.float16, memory_format=memory_format)
    def bfloat16(self): return self.to(bfloat16)  # (raises: numpy has no bfloat16, amp/autocast_mode.py)
    def long(self, memory_format=None): return self.to(dt.int64, memory_format=memory_format)
    def int(self, memory_format=None): return self.to(dt.int32, memory_format=memory_format)
    def bool(self, memory_format=None): return self.to(dt.bool, memory_format=memory_format)
    def type_as(self, other): return self.to(_tensor_arg(other, "type_as", "other").dtype)

    # new tensors like this one: this one's dtype and device unless told otherwise (``x.new_zeros(3)``)
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        array = as_array(data, self.dtype if dtype is None else dtype, self.device if device is None else device,
                         op="new_tensor")
        return Tensor._make(array.copy(), None).requires_grad_(requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        d = self.dtype if dtype is None else dt.as_dtype(dtype, "new_full")
        dt.check_fits(fill_value, d, "new_full")
        with creating_on(device or self.device) as xp:  # (made where it lives: no copy from the host)
            array = xp.full(size_args((size,), "new_full"), fill_value, d.np)
        return Tensor._make(array, None).requires_grad_(requires_grad)

    def new_zeros(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        sizes = size_args(sizes_or_keyword(sizes, size, "size", "new_zeros"), "new_zeros")
        return self.new_full(sizes, 0, dtype, device, requires_grad)

    def new_ones(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        sizes = size_args(sizes_or_keyword(sizes, size, "size", "new_ones"), "new_ones")
        return self.new_full(sizes, 1, dtype, device, requires_grad)

    new_empty = new_zeros  # PyTorch leaves `new_empty` uninitialised; ours are zeros

    def type(self, dtype=None):
        """The legacy type name ("tinygrad_lite.FloatTensor"); or the tensor converted to ``dtype``, which may also be
        a legacy class or its name, as old tutorials write: ``x.type(torch.FloatTensor)``,
        ``x.type("torch.LongTensor")``."""
        if dtype is None:
            return f"tinygrad_lite{'.cuda' if self.device.type == 'cuda' else ''}.{self.dtype.legacy_name}Tensor"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):  # the name says the device too, as in PyTorch
            device = "cuda" if ".cuda." in dtype else "cpu"
            return self.to(device=device, dtype=dt.from_legacy_name(dtype, dtype))
        elif isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), dt.dtype):  # FloatTensor (legacy.py)
            dtype = dtype.dtype
        return self.to(dtype=dtype)

    def numpy(self, force=False):
        """The numbers as a numpy array, sharing memory with this CPU tensor.

        As in PyTorch, a tensor on the GPU is refused (a numpy array lives in the CPU's memory, so it would be a
        copy that writes never reach): call ``.cpu()`` first. ``force=True`` is ``detach().cpu().numpy()``."""
        if force:
            return move(self.array, "cpu")
        if self.device.type != "cpu":
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the "
                            "tensor to host memory first.")
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self.array

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def item(self):
        """The single number in this tensor as a Python number."""
        return self._single_number(RuntimeError, "item")

    def _single_number(self, error, op):  # (float(x) and int(x) raise a ValueError here, as PyTorch's)
        if self.numel() != 1:
            raise error(f"{op}: a tensor with {self.numel()} elements (shape {tuple(self.shape)}) cannot be "
                        "converted to a Python number; reduce it first (e.g. .sum(), .mean()) or index it")
        value = self.array.item()
        if value != value and "_explain_nan" in self.__dict__:  # nan, from a GPU's check that failed? (loss.py)
            self._explain_nan()
        return value

    def tolist(self):
        return move(self.array, "cpu").tolist()

    def __float__(self):
        if self.requires_grad:
            _warn_scalar_of_graph()
        return builtins.float(self._single_number(ValueError, "float()"))
    def __int__(self): return builtins.int(self._single_number(ValueError, "int()"))

    def __index__(self):
        if self.dtype.is_floating_point:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of a tensor with {self.numel()} values is ambiguous; "
                               "use .any() or .all()")
        return builtins.bool(self.item())

    def __format__(self, spec):
        """A 0-d tensor formats as its number (f"{loss:.4f}" gives 0.2500, as in PyTorch); other tensors only without a
        format spec, as their repr: a spec for them is a TypeError, as in PyTorch (whose message this is)."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string passed to Tensor.__format__: {spec!r} is for one number, and "
                            f"this tensor has shape {tuple(self.shape)}; format x.item() (one number) or the numbers "
                            "of x.tolist()")
        return repr(self)

    def __getattr__(self, name):  # (only for a name the tensor does not have: what the library has instead)
        if name[:1] == "_":  # (private and special names, which numpy and Python probe often: at once)
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'", name=name, obj=self)
        raise _not_covered("Tensor", name, self)

    def __repr__(self):
        return tensor_repr(self)


def _numpy_names(method):
    """Let ``method`` take numpy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as PyTorch does."""
    def accepting(*args, **kwargs):
        if kwargs:
            for numpy_name, name in (("axis", "dim"), ("keepdims", "keepdim")):
                if numpy_name in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{method.__name__}(): got both '{name}' and its alias '{numpy_name}'")
                    kwargs[name] = kwargs.pop(numpy_name)
        return method(*args, **kwargs)
    accepting.__name__, accepting.__qualname__, accepting.__doc__ = method.__name__, method.__qualname__, method.__doc__
    accepting.__wrapped__ = method
    return accepting


for _name in ("sum mean prod max min amax amin argmax argmin var std logsumexp norm cumsum cumprod softmax "
              "log_softmax sort argsort topk squeeze unsqueeze all any gather size").split():
    setattr(Tensor, _name, _numpy_names(getattr(Tensor, _name)))


function.Tensor = Tensor  # Function.apply wraps the ops' results in Tensors (autograd/function.py)


# -------------------------------------------------------------------- helpers for argument checking
def _operand(x, dtype, like):
    """A Tensor of ``dtype`` on ``like``'s device: Python numbers become constants, tensors are cast if needed."""
    if isinstance(x, Tensor):
        return x if x.array.dtype == dtype.np else x.to(dtype)
    if type(like.array) is np.ndarray:
        return Tensor._make(dt.cast(np.asarray(x), dtype.np), None)
    with on_device_of(like.array):  # on like's GPU (cuda:1 too), not on the current one; filled there, not copied
        return Tensor._make(array_module_of(like.array).full((), x, dtype=dtype.np), None)


def _clamp_bound(x, name, bound):
    """A number bound of ``clamp``: checked; an int too large for x's dtype is refused (a float x takes it as float)."""
    if bound is None:
        return None
    check_number("clamp", name, bound)
    if type(bound) is builtins.int and not x.dtype.is_floating_point:
        dt.check_fits(bound, x.dtype if x.dtype.category == dt.INT else dt.int64, "clamp")
    return builtins.float(bound) if type(bound) is builtins.int and x.dtype.is_floating_point else bound


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


# PyTorch's words for - on a bool tensor (a mask): ~mask or logical_not() inverts it
_BOOL_MINUS = ("{} a bool tensor is not supported (PyTorch refuses it too). To invert a mask use `~` or "
               "logical_not(), to compare two masks `^` or logical_xor(); for numbers, convert first: mask.float()")


def _tensor_arg(x, op, name):
    """``x``, which must be a Tensor (``view_as``, ``type_as`` ... take one): a clear TypeError otherwise."""
    if not isinstance(x, Tensor):
        return_types.refuse_pair(x, op)
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(x).__name__}")
    return x


def _number_first(op, other, alpha):
    """``add``/``sub`` given PyTorch's deprecated order, ``p.data.add_(-lr, d_p)`` (optimizers written before
    PyTorch 1.5): (other, alpha) put right, with PyTorch's warning."""
    if isinstance(other, numbers.Number) and isinstance(alpha, Tensor):
        _warn_deprecated_overload(op, "Number alpha, Tensor other", "Tensor other, *, Number alpha = 1")
        return alpha, other
    return other, alpha


def _warn_deprecated_overload(op, old, new):
    warn_once(f"This overload of {op} is deprecated:\n\t{op}({old})\nConsider using one of the following "
              f"signatures instead:\n\t{op}({new})")


def _scaled(other, alpha, op):
    """``alpha * other`` for ``add``/``sub`` (``x.add(y, alpha=2)`` is x + 2 y); alpha must be a number (or a 0-d
    tensor standing for one, ``_number``)."""
    alpha = _number(alpha)
    if isinstance(alpha, (builtins.int, builtins.float)) and alpha == 1:
        return other
    check_number(op, "alpha", alpha)
    try:
        return other * alpha
    except RuntimeError as e:
        raise RuntimeError(f"{op}(): alpha={alpha}: {e}") from None


def _number(value):
    """Where an op takes a number (``alpha``, ``value``), a 0-d tensor that does not require grad stands for its
    number, as in PyTorch: ``p.addcdiv_(m, denom, value=-lr / bias_correction)`` with a tensor ``step`` works. A
    tensor that requires grad (its gradient would be lost) or holds several numbers is refused by the caller."""
    return value.item() if isinstance(value, Tensor) and value.ndim == 0 and not value.requires_grad else value


def _as_tensor(x, device=None, op="tensor"):
    """``x`` as a Tensor: a tensor stays itself; numbers, lists and arrays follow ``tensor()``'s dtype rules. The
    (values, indices) pair of ``max(dim)`` and the like is refused (``return_types``), not stacked into a tensor."""
    if isinstance(x, Tensor):
        return x
    return_types.refuse_pair(x, op)
    return Tensor._make(as_array(x, device=device, op=op), None)


def _index(index):
    """Tensors inside an index become arrays (integer arrays pick elements, boolean masks select).

    Copies of their arrays: the op keeps the index for its backward, and an in-place change of the index tensor
    before backward must not move the gradient to other elements.
    """
    if isinstance(index, tuple):  # (a tuple, range or bool inside it is an advanced index: an array, for indexing.py)
        return tuple(np.asarray(i) if isinstance(i, (tuple, range, builtins.bool)) else _index(i) for i in index)
    if isinstance(index, Tensor):  # (a 0-d integer tensor is an integer, as in PyTorch: x[i] is then a view)
        if index.array.dtype == np.uint8 and index.ndim:  # a byte mask (deprecated in PyTorch, which warns;
            return index.array != 0                       # it was read as positions 0 and 1 here: silent)
        return index.array.copy() if index.ndim or index.dtype.is_floating_point or index.array.dtype == bool \
            else builtins.int(index.array)
    if isinstance(index, list):
        return np.asarray(index)
    if isinstance(index, slice) and isinstance(index.step, builtins.int) and index.step <= 0:  # (numpy's x[::-1])
        raise ValueError("step must be greater than zero; to reverse a dim, as x[::-1] does in numpy, use x.flip(dim)")
    return builtins.int(index) if isinstance(index, np.ndarray) and index.ndim == 0 and index.dtype.kind in "iu" \
        else index  # (a 0-d integer array is an integer too)


# -------------------------------------------------------------------- functions over tensors

def matmul(input, other):
    """Matrix product with numpy's rules for 1-D and batched operands (as torch.matmul)."""
    a, b = autocast_args("matmul", _as_tensor(input, op="matmul"), _as_tensor(other, op="matmul"))  # (autocast)
    return MatMul.apply(a, b)


def where(condition, input, other):
    """Pick ``input`` where condition is True, else ``other``; the gradient flows to the picked one."""
    cond = _as_tensor(condition, op="where").array.copy()  # Where keeps it for backward: a copy, as in _index
    if cond.dtype == np.uint8:  # (PyTorch takes it, deprecated, with a warning)
        warnings.warn("where: a uint8 condition is deprecated, as in PyTorch; use a bool tensor",
                      stacklevel=callers_level())
        cond = cond.astype(bool)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where: the condition must be a bool tensor, got {cond.dtype}; write cond.bool()")
    input, other = (x if isinstance(x, (Tensor, builtins.int, builtins.float)) else _as_tensor(x, op="where")
                    for x in (input, other))
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else None
    dtype = dt.result_type(input, other)  # (two numbers too: where(c, 1, 0.5) is float32)
    like = like if like is not None else Tensor._make(cond, None)  # (two numbers: made on the condition's device)
    check_same_device("where", [Tensor._make(cond, None), like])  # (a CPU condition for GPU tensors, cuda:0 and 1)
    shapes = [x.array.shape for x in (input, other) if isinstance(x, Tensor)]  # (numbers broadcast with any shape)
    check_broadcast("where", cond.shape, *shapes)
    for x in (input, other):
        if type(x) is builtins.int and not dtype.is_floating_point:  # (a float dtype takes any int, as inf)
            dt.check_fits(x, dtype, "where")
    return Where.apply(_operand(input, dtype, like), _operand(other, dtype, like), cond=cond)


def _clamp_tensor(x, lo, hi):
    """``clamp`` with tensor bounds: x, lo and hi are promoted to one dtype and broadcast together."""
    lo, hi = (b if isinstance(b, Tensor) else _clamp_bound(x, name, b) for name, b in (("min", lo), ("max", hi)))
    bounds = [b for b in (lo, hi) if b is not None]
    check_broadcast("clamp", tuple(x.shape), *(np.shape(b.array if isinstance(b, Tensor) else b) for b in bounds))
    dtype = dt.result_type(x, *bounds)
    lo, hi = (None if b is None else _operand(b, dtype, x) for b in (lo, hi))
    return ClampTensor.apply(_operand(x, dtype, x), lo, hi)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    r"""The vector ``ord``-norm of the tensor ``x`` over ``dim`` (all elements when None), by the op ``VectorNorm``
    (ops/norm.py): ``Tensor.norm``'s, and ``linalg.vector_norm``'s once it has checked that x is a Tensor.

    A float16 norm is computed in float32 and rounded once, as PyTorch computes it: in float16, \sum_i x_i^2
    overflows (65504 is float16's largest number) as soon as 256 elements are 16 or more."""
    name = "linalg.vector_norm"
    x = x.to(dt.as_dtype(dtype, name)) if dtype is not None else x
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating point tensor as input, got {x.dtype}; convert it first "
                           "with .float()")
    if isinstance(ord, builtins.bool) or not isinstance(ord, numbers.Real):
        raise RuntimeError(f"{name}: ord must be a number (2, 1, 0, 3.5, inf, -inf), got {ord!r}; the names 'fro' and "
                           "'nuc' are matrix norms (linalg.matrix_norm)")
    ord = builtins.float(ord)
    dims = dim_indices(dim, x.ndim, name)
    dims = None if dims is None or (x.ndim and len(dims) == x.ndim) else dims
    reduced = x.numel() if dims is None else math.prod(x.shape[d] for d in dims)
    if reduced == 0 and (ord < 0 or math.isinf(ord)):
        raise RuntimeError(f"{name}: cannot compute the {ord} norm over an empty dimension (shape "
                           f"{tuple(x.shape)}), because it has no identity")
    if x.ndim == 0:
        dims = None
    wide = x.float() if x.dtype is dt.float16 else x
    out = VectorNorm.apply(wide, ord=ord, dim=dims, keepdim=keepdim and dims is not None)
    if keepdim and dims is None:
        out = out.reshape((1,) * x.ndim)
    return out.to(x.dtype)
