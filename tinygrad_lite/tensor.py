"""The Tensor and the reverse-mode autograd engine.

A Tensor wraps an n-dimensional array (numpy on the CPU, CuPy on a GPU) in ``.array``. When it is the result of
an op on tensors that require grad, it also remembers that op in ``.grad_fn``: a ``Function`` node that
knows the op's inputs and how to send a gradient back to them. The nodes form a graph from the leaves
(the tensors you made, like weights) to the output (the loss).

``loss.backward()`` applies the chain rule to that graph. If the output L depends on a tensor t through the
ops that consumed t, then dL/dt is the sum over those consumers c of (dL/dc)(dc/dt). So we visit tensors in
reverse topological order (every consumer before the tensors it consumed), and each op's backward turns the
gradient of its output into gradients of its inputs. A leaf adds what arrives into ``.grad``.

The ops themselves live in ``tinygrad_lite/ops/``, each forward beside its backward.
"""
import builtins
import warnings
from collections import namedtuple

import numpy as np

from . import dtypes as dt
from .autograd.grad_mode import is_grad_enabled
from .device import array_module_of, device_of, move
from .device import device as Device
from .random import rng
from ._tensor_str import tensor_repr
from .dtypes import as_array
from .shapes import check_broadcast, dim_index, dim_indices, shape_args


class Size(tuple):
    """A tensor's shape: a tuple of ints (``torch.Size``)."""

    def __repr__(self):
        return f"tinygrad_lite.Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


return_types_max = namedtuple("max", ["values", "indices"])
return_types_min = namedtuple("min", ["values", "indices"])


class Tensor:
    __array_ufunc__ = None  # make numpy hand `np_scalar * tensor` back to Tensor.__rmul__

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        """Wrap ``data``. ``tinygrad_lite.tensor(data)`` is the usual way to make one."""
        self.array = as_array(data, dtype, device)
        self.grad_fn, self._grad, self._retains_grad, self._requires_grad = None, None, False, False
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, array, grad_fn):
        """Fast internal constructor for op results; ``grad_fn`` is None when no graph is recorded."""
        t = object.__new__(Tensor)
        t.array = np.asarray(array) if isinstance(array, np.generic) else array
        t.grad_fn, t._grad, t._retains_grad, t._requires_grad = grad_fn, None, False, grad_fn is not None
        return t

    # ---------------------------------------------------------------- what a tensor is
    shape = property(lambda self: Size(self.array.shape))
    dtype = property(lambda self: dt.from_numpy_dtype(self.array.dtype))
    device = property(lambda self: device_of(self.array))
    ndim = property(lambda self: self.array.ndim)
    is_leaf = property(lambda self: self.grad_fn is None)
    is_cuda = property(lambda self: self.device.type == "cuda")
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim_index(dim, self.ndim, "size")]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    def is_floating_point(self):
        return self.dtype.is_floating_point

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not self.dtype.is_floating_point:
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, this one is {self.dtype}; "
                               "convert first with .float()")
        if not self.is_leaf and not flag:
            raise RuntimeError("you can only change requires_grad flags of leaf tensors; use .detach() instead")
        self._requires_grad = builtins.bool(flag)

    def requires_grad_(self, requires_grad=True):
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
        if value is not None and tuple(value.shape) != tuple(self.shape):
            raise RuntimeError(f"assigned grad has shape {tuple(value.shape)}, the tensor has {tuple(self.shape)}")
        self._grad = value

    @property
    def data(self):
        """The same numbers without the graph: a tensor sharing this one's array, with requires_grad False."""
        return self.detach()

    @data.setter
    def data(self, value):
        self.array = as_array(value)

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to the leaf's ``.grad``.

        ``gradient`` is d(final)/d(self); it may be left out only when self holds one number (a loss).
        The graph's saved values are freed afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn, so there is nothing "
                               "to differentiate. Did you create the weights with requires_grad=True, or compute "
                               "this inside torch.no_grad()?")
        if create_graph:
            raise NotImplementedError("backward: create_graph=True (gradients of gradients) is not supported: our "
                                      "backward passes work on arrays, not on tensors")
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(f"backward: grad can be implicitly created only for scalar outputs, but this "
                                   f"tensor has shape {tuple(self.shape)}. Reduce it to one number first "
                                   "(loss.mean() or loss.sum()), or pass out.backward(torch.ones_like(out)).")
            grad = array_module_of(self.array).ones_like(self.array)
        else:
            grad = as_array(gradient, self.dtype, self.device)
            if grad.shape != self.array.shape:
                raise RuntimeError(f"backward: gradient has shape {grad.shape}, the tensor has {self.array.shape}; "
                                   "they must match")
        run_backward(self, grad, retain_graph=builtins.bool(retain_graph))

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor too (useful to inspect intermediate gradients)."""
        if not self.is_leaf:
            self._retains_grad = True

    def _accumulate(self, g, shared):
        if self._grad is None:  # copy a shared g, or zeroing this .grad in place would also zero the other holder's
            self._grad = Tensor._make(g.copy() if shared else g, None)
        else:
            self._grad.array = self._grad.array + g

    def detach(self):
        """A tensor that shares this one's numbers but is cut from the graph."""
        return Tensor._make(self.array, None)

    def detach_(self):
        self.grad_fn, self._requires_grad = None, False
        return self

    def clone(self):
        return Clone.apply(self)

    def contiguous(self):
        return self

    # ---------------------------------------------------------------- arithmetic, with PyTorch's type promotion
    def _lift(self, other, ints_too=False):
        """Python numbers stay numbers (exact, and 'weak' in type promotion); lists and arrays become tensors."""
        other = other.item() if isinstance(other, np.generic) else other
        numbers = (builtins.float,) if ints_too else (builtins.int, builtins.float)
        return other if isinstance(other, (Tensor, *numbers)) else Tensor(other, device=self.device)

    def _binary(self, op, other, reverse=False, float_result=False):
        other = self._lift(other)
        a, b = (other, self) if reverse else (self, other)
        dtype = dt.result_type(a, b)
        if float_result and not dtype.is_floating_point:
            dtype = dt.get_default_dtype()
        a, b = _operand(a, dtype, self), _operand(b, dtype, self)
        if a.array.shape != b.array.shape:
            check_broadcast(op.__name__.lower(), a.array.shape, b.array.shape)
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
    def __neg__(self): return Neg.apply(self)
    def __abs__(self): return Abs.apply(self)
    def __matmul__(self, other): return matmul(self, other)
    def __rmatmul__(self, other): return matmul(Tensor(other), self)

    def add(self, other, alpha=1): return self + other * alpha if alpha != 1 else self + other
    def sub(self, other, alpha=1): return self - other * alpha if alpha != 1 else self - other
    def mul(self, other): return self * other
    def div(self, other): return self / other
    def pow(self, exponent): return self ** exponent
    def matmul(self, other): return matmul(self, other)
    def maximum(self, other): return self._binary(Maximum, other)
    def minimum(self, other):  # min(x, y) = -max(-x, -y): maximum's half-and-half split of ties carries over
        if dt.result_type(self, self._lift(other)).is_floating_point:
            return -(-self).maximum(-other)
        return where(self <= other, self, other)  # integers have no gradient, and -x would wrap for uint8

    # comparisons make boolean tensors; they have no gradient. A Python float stays exact (x == 0.1 for float64 x)
    def _compare(self, ufunc, other):
        other = self._lift(other, ints_too=True)  # ints become tensors: uint8 == -100 wraps, as in PyTorch
        dtype = dt.result_type(self, other)
        return Tensor._make(ufunc(_operand(self, dtype, self).array, _operand(other, dtype, self).array), None)

    def __eq__(self, other): return self._compare(np.equal, other)
    def __ne__(self, other): return self._compare(np.not_equal, other)
    def __lt__(self, other): return self._compare(np.less, other)
    def __le__(self, other): return self._compare(np.less_equal, other)
    def __gt__(self, other): return self._compare(np.greater, other)
    def __ge__(self, other): return self._compare(np.greater_equal, other)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    __hash__ = object.__hash__  # tensors are hashable by identity, as in PyTorch
    def __and__(self, other): return self._compare(np.logical_and, other)
    def __or__(self, other): return self._compare(np.logical_or, other)
    def __invert__(self): return Tensor._make(~self.array, None)
    def logical_not(self): return Tensor._make(np.logical_not(self.array), None)
    def isnan(self): return Tensor._make(np.isnan(self.array), None)
    def isfinite(self): return Tensor._make(np.isfinite(self.array), None)

    # ---------------------------------------------------------------- elementwise functions
    def neg(self): return Neg.apply(self)
    def abs(self): return Abs.apply(self)
    def exp(self): return Exp.apply(self._floating("exp"))
    def log(self): return Log.apply(self._floating("log"))
    def log1p(self): return Log1p.apply(self._floating("log1p"))
    def sqrt(self): return Sqrt.apply(self._floating("sqrt"))
    def sin(self): return Sin.apply(self._floating("sin"))
    def cos(self): return Cos.apply(self._floating("cos"))
    def square(self): return self * self
    def relu(self): return ReLU.apply(self)
    def sigmoid(self): return Sigmoid.apply(self._floating("sigmoid"))
    def tanh(self): return Tanh.apply(self._floating("tanh"))
    def softmax(self, dim): return Softmax.apply(self._floating("softmax"), dim=dim_index(dim, self.ndim, "softmax"))
    def log_softmax(self, dim):
        return LogSoftmax.apply(self._floating("log_softmax"), dim=dim_index(dim, self.ndim, "log_softmax"))

    def clamp(self, min=None, max=None):  # noqa: A002  (PyTorch's argument names)
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            raise TypeError("clamp: min and max must be numbers here; for tensors use torch.maximum/torch.minimum")
        return Clamp.apply(self, min=min, max=max)
    clip = clamp

    def masked_fill(self, mask, value):
        return where(mask, value, self)

    def _floating(self, name):
        """Integer inputs of float functions (exp, log, ...) are computed in the default float type, as in PyTorch."""
        return self if self.dtype.is_floating_point else self.to(dt.get_default_dtype())

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if not x.dtype.is_floating_point:  # counting: bool and int sums are int64, as in PyTorch
            return Tensor._make(x.array.sum(axis=dim_indices(dim, x.ndim, "sum"), keepdims=keepdim, dtype=np.int64), None)
        return Sum.apply(x, dim=dim_indices(dim, x.ndim, "sum"), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"mean: could not infer the output dtype; the input is {x.dtype}, an integer or bool "
                               "type. Convert first: x.float().mean() (e.g. accuracy = (pred == y).float().mean())")
        return Mean.apply(x, dim=dim_indices(dim, x.ndim, "mean"), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """max() is the largest element; max(dim) is (values, indices) along dim; max(tensor) is maximum."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return Amax.apply(self, dim=None, keepdim=False)
        d = dim_index(dim, self.ndim, "max")
        if self.ndim == 0:  # PyTorch accepts dim 0 or -1 here: the value itself, at index 0
            return self.reshape(1).max(0)
        return return_types_max(MaxAlongDim.apply(self, dim=d, keepdim=keepdim), self.argmax(d, keepdim))

    def _flip(self):
        """An order-reversing map: -x for floats, ~x for integers and bools (where -x would wrap for uint8)."""
        return -self if self.dtype.is_floating_point else ~self

    def min(self, dim=None, keepdim=False):
        """The minimum is the maximum of the flipped values: min(x) = -max(-x)."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self._flip().max()._flip()
        values, _ = self._flip().max(dim, keepdim)
        return return_types_min(values._flip(), self.argmin(dim, keepdim))

    def amax(self, dim=(), keepdim=False):
        return Amax.apply(self, dim=dim_indices(dim if dim != () else None, self.ndim, "amax"), keepdim=keepdim)

    def amin(self, dim=(), keepdim=False):
        return self._flip().amax(dim, keepdim)._flip()

    def argmax(self, dim=None, keepdim=False):
        d = None if dim is None else dim_index(dim, self.ndim, "argmax")
        return Tensor._make(np.argmax(self.array, axis=d, keepdims=keepdim).astype(np.int64), None)

    def argmin(self, dim=None, keepdim=False):
        d = None if dim is None else dim_index(dim, self.ndim, "argmin")
        return Tensor._make(np.argmin(self.array, axis=d, keepdims=keepdim).astype(np.int64), None)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Variance: sum((x - mean)^2) / (N - correction). ``correction=1`` (the default) is Bessel's correction."""
        if correction is None:
            correction = 0 if unbiased is False else 1
        dims = dim_indices(dim, self.ndim, "var")
        n = self.numel() if dims is None else int(np.prod([self.shape[d] for d in dims]))
        return ((self - self.mean(dims, True)) ** 2).sum(dims, keepdim=keepdim) / builtins.max(n - correction, 0)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        v = self.var(dim, unbiased, keepdim, correction=correction)
        return where(v == 0, 0.0, where(v == 0, 1.0, v).sqrt())  # where v = 0, PyTorch's gradient is 0, not 0 * inf

    def logsumexp(self, dim, keepdim=False):
        """log(sum(exp(x))) computed stably as m + log(sum(exp(x - m))) with m the max (treated as a constant)."""
        m = self.detach().amax(dim, keepdim=True)
        m = where(m.isfinite(), m, 0.0)
        out = (self - m).exp().sum(dim, keepdim=True).log() + m
        return out if keepdim else out.squeeze(dim)

    def all(self, dim=None):
        return Tensor._make(np.all(self.array, axis=dim), None)

    def any(self, dim=None):
        return Tensor._make(np.any(self.array, axis=dim), None)

    # ---------------------------------------------------------------- shapes
    def reshape(self, *shape):
        shape = shape_args(shape)
        try:
            return Reshape.apply(self, shape=shape)
        except ValueError:
            raise RuntimeError(f"reshape: shape {list(shape)} is invalid for a tensor of shape {tuple(self.shape)} "
                               f"({self.numel()} elements); the sizes must multiply to {self.numel()}") from None
    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = dim_index(start_dim, self.ndim, "flatten"), dim_index(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
        return self.reshape(*self.shape[:s], -1, *self.shape[e + 1:])

    def squeeze(self, dim=None):
        dims = range(self.ndim) if dim is None else dim_indices(dim, self.ndim, "squeeze")
        return self.reshape(*[n for i, n in enumerate(self.shape) if not (i in dims and n == 1)])

    def unsqueeze(self, dim):
        d = dim_index(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(*self.shape[:d], 1, *self.shape[d:])

    def expand(self, *sizes):
        sizes = shape_args(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's number of "
                               f"dims ({self.ndim})")
        target = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
        for i, n in enumerate(self.shape):
            if n != 1 and n != target[i + lead]:
                raise RuntimeError(f"expand: the expanded size ({target[i + lead]}) must match the existing size "
                                   f"({n}) at non-singleton dim {i}. Target sizes {list(sizes)}, tensor sizes "
                                   f"{list(self.shape)}; only dims of size 1 can be expanded")
        return Expand.apply(self, shape=target)

    def expand_as(self, other):
        return self.expand(other.shape)

    def permute(self, *dims):
        dims = tuple(dim_index(d, self.ndim, "permute") for d in shape_args(dims))
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
        return self.T

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, index):
        try:
            return Index.apply(self, index=_index(index))
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor shape {tuple(self.shape)})") from None

    def __setitem__(self, index, value):
        self._check_inplace("setitem")
        self.array[_index(index)] = value.array if isinstance(value, Tensor) else value

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    # ---------------------------------------------------------------- in-place updates (never recorded)
    def _check_inplace(self, name, other=None):
        if is_grad_enabled() and (self.requires_grad or getattr(other, "requires_grad", False)):
            if self.is_leaf:
                raise RuntimeError(f"{name}: a leaf tensor that requires grad is being used in an in-place operation. "
                                   "Update weights inside `with torch.no_grad():`, or use an out-of-place op")
            raise RuntimeError(f"{name}: in-place ops on tensors recorded in the autograd graph are not supported "
                               "(PyTorch allows some); write it out of place, e.g. x = x + y instead of x += y")

    def _inplace(self, name, ufunc, other):
        self._check_inplace(name, other)
        value = other.array if isinstance(other, Tensor) else other
        try:
            ufunc(self.array, value, out=self.array, casting="same_kind")
        except TypeError:
            raise RuntimeError(f"{name}: the result type can't be cast to the tensor's dtype {self.dtype}; "
                               "convert the tensor first (e.g. .float())") from None
        except ValueError as e:
            raise RuntimeError(f"{name}: cannot update a tensor of shape {tuple(self.shape)} in place: {e}") from None
        return self

    def __iadd__(self, other): return self._inplace("add_", np.add, other)
    def __isub__(self, other): return self._inplace("sub_", np.subtract, other)
    def __imul__(self, other): return self._inplace("mul_", np.multiply, other)
    def __itruediv__(self, other): return self._inplace("div_", np.true_divide, other)
    def add_(self, other, alpha=1): return self._inplace("add_", np.add, other * alpha if alpha != 1 else other)
    def sub_(self, other, alpha=1): return self._inplace("sub_", np.subtract, other * alpha if alpha != 1 else other)
    def mul_(self, other): return self._inplace("mul_", np.multiply, other)
    def div_(self, other): return self._inplace("div_", np.true_divide, other)

    def copy_(self, src):
        self._check_inplace("copy_", src)
        self.array[...] = move(as_array(src), self.device)
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self.array[...] = value.item() if isinstance(value, Tensor) else value
        return self

    def zero_(self):
        return self.fill_(0)

    def clamp_(self, min=None, max=None):  # noqa: A002
        return self.copy_(self.detach().clamp(min, max))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return self.copy_(rng(generator).uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return self.copy_(rng(generator).normal(mean, std, self.shape))

    # ---------------------------------------------------------------- conversion
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """Convert dtype and/or move device: ``.to("cuda")``, ``.to(torch.float64)``, ``.to(other_tensor)``."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, dt.dtype) or a in (builtins.float, builtins.int, builtins.bool):
                dtype = a
            else:
                device = a
        out = self
        if dtype is not None and dt.as_dtype(dtype) is not self.dtype:
            out = Cast.apply(out, dtype=dt.as_dtype(dtype).np)
        if device is not None and device_of(out.array) != Device(device):
            out = ToDevice.apply(out, device=device)
        return out.clone() if copy and out is self else out

    def cpu(self): return self.to("cpu")
    def cuda(self, device=None): return self.to("cuda" if device is None else f"cuda:{device}")
    def float(self): return self.to(dt.float32)
    def double(self): return self.to(dt.float64)
    def half(self): return self.to(dt.float16)
    def long(self): return self.to(dt.int64)
    def int(self): return self.to(dt.int32)
    def bool(self): return self.to(dt.bool)
    def type_as(self, other): return self.to(other.dtype)

    def type(self, dtype=None):
        return f"tinygrad_lite.{self.dtype.legacy_name}Tensor" if dtype is None else self.to(dtype)

    def numpy(self, force=False):
        """The numbers as a numpy array (sharing memory on the CPU)."""
        if self.requires_grad and not force:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return move(self.array, "cpu")

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def item(self):
        """The single number in this tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(f"item: a tensor with {self.numel()} elements (shape {tuple(self.shape)}) cannot be "
                               "converted to a Python number; reduce it first (e.g. .sum(), .mean()) or index it")
        return self.array.item()

    def tolist(self):
        return move(self.array, "cpu").tolist()

    def __float__(self): return builtins.float(self.item())
    def __int__(self): return builtins.int(self.item())

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
        """A 0-d tensor formats as its number (f"{loss}" gives 0.25, as in PyTorch); others print as repr."""
        return format(self.item(), spec) if self.ndim == 0 or (self.numel() == 1 and spec) else repr(self)

    def __repr__(self):
        return tensor_repr(self)


# -------------------------------------------------------------------- the backward pass
def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of broadcasting.

    If x has shape (3,) and was broadcast to (4, 3) in ``x + y``, each x[j] was used 4 times, so
    dL/dx[j] is the sum of the 4 gradients that arrived: we sum over the dims broadcasting added or stretched.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


def graph_order(root, everything=False):
    """Every tensor ``root`` depends on through recorded ops, each listed after all of its inputs.

    A depth-first search with an explicit stack (no recursion, so a graph thousands of ops deep is fine):
    a tensor is emitted only when everything below it has been. Backward needs only the tensors that
    require grad; ``everything=True`` keeps the others too (data, constants), e.g. to draw the graph.
    """
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        if t.grad_fn is not None:
            stack.extend((p, False) for p in reversed(t.grad_fn.inputs) if everything or p.requires_grad)
    return order


def run_backward(root, grad, retain_graph=False, inputs=None):
    """Send ``grad`` = dL/d(root) back through the graph, applying the chain rule op by op.

    Visiting tensors in reverse topological order means every consumer of a tensor has added its share
    to ``grads[t]`` before t itself is processed. With ``inputs`` (a list of tensors) the gradients
    of those tensors are returned instead of being added to ``.grad`` (that is ``autograd.grad``).
    """
    grads = {id(root): grad}
    held = {id(grad)}  # arrays someone else holds: the caller's gradient, and those already stored in a .grad
    wanted = None if inputs is None else {id(t) for t in inputs}
    found = {}
    for t in reversed(graph_order(root)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if wanted is not None:
            if id(t) in wanted:
                found[id(t)] = g
        elif t.grad_fn is None or t._retains_grad:
            t._accumulate(g, shared=g.base is not None or id(g) in held)  # (a view shares its base's memory)
            held.add(id(g))
        fn = t.grad_fn
        if fn is None:
            continue
        for parent, pg in zip(fn.inputs, fn.input_grads(g)):
            if pg is None or not parent.requires_grad:
                continue
            if pg.shape != parent.array.shape:
                pg = unbroadcast(pg, parent.array.shape)
            if pg.dtype != parent.array.dtype:
                pg = pg.astype(parent.array.dtype)
            grads[id(parent)] = grads[id(parent)] + pg if id(parent) in grads else pg
        if not retain_graph:
            fn.release()
    return found


# -------------------------------------------------------------------- helpers for argument checking
def _operand(x, dtype, like):
    """A Tensor of ``dtype`` on ``like``'s device: Python numbers become constants, tensors are cast if needed."""
    if isinstance(x, Tensor):
        return x if x.array.dtype == dtype.np else x.to(dtype)
    return Tensor._make(array_module_of(like.array).asarray(x, dtype=dtype.np), None)


def _index(index):
    """Tensors inside an index become arrays (integer arrays pick elements, boolean masks select)."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, list):
        return np.asarray(index)
    return index


# -------------------------------------------------------------------- ops, and functions over tensors
from .ops.elementwise import (Abs, Add, Cast, Clamp, Clone, Cos, Div, Exp, Log, Log1p, Maximum,  # noqa: E402
                              Mul, Neg, Pow, Sin, Sqrt, Sub, ToDevice, Where)
from .ops.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh  # noqa: E402
from .ops.reduce import Amax, MaxAlongDim, Mean, Sum  # noqa: E402
from .ops.movement import Cat, Expand, Index, Permute, Reshape  # noqa: E402
from .ops.matmul import MatMul  # noqa: E402


def matmul(a, b):
    """Matrix product with numpy's rules for 1-D and batched operands (as torch.matmul)."""
    return MatMul.apply(a if isinstance(a, Tensor) else Tensor(a), b if isinstance(b, Tensor) else Tensor(b))


def where(condition, input, other):  # noqa: A002
    """Pick ``input`` where condition is True, else ``other``; the gradient flows to the picked one."""
    cond = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else Tensor(input)
    dtype = dt.result_type(input, other) if isinstance(input, Tensor) or isinstance(other, Tensor) else like.dtype
    return Where.apply(_operand(input, dtype, like), _operand(other, dtype, like), cond=cond)
