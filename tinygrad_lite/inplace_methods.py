"""The in-place forms of the elementwise methods: ``x.exp_()`` is ``x.copy_(x.exp())``, recorded in the graph as
any in-place op (``Tensor._apply_``, autograd/inplace.py), so a backward through it differentiates exp and a value
saved earlier for a backward is known to be overwritten.

The result keeps x's dtype, as PyTorch's in-place ops do: an integer or bool x cannot take a float result
(``x.exp_()`` on int64 raises PyTorch's "result type Float can't be cast" error), and a float16 x takes a float32
result rounded. ``x = x.exp()`` is often the clearer way to write the same; these exist so that scripts written
with them run. ``in_place`` makes such a method of any function; special.py, trigonometry.py and scatter.py use it
for theirs (``x.erf_()``, ``x.atan2_(y)``, ``x.scatter_(...)``).

The in-place forms of the view methods (``x.unsqueeze_(0)``, ``x.squeeze_()``, ``x.t_()``, ``x.transpose_(0, 1)``)
change how x shows its numbers, not the numbers (``shape_in_place``).
"""
import inspect

from . import composed, composed_math  # noqa: F401 (their Tensor methods: swapaxes, log2, tan, clamp_min ...)
from .autograd.inplace import record_inplace, records_inplace, reshaped_in_place
from .tensor import Tensor

# (the out-of-place method each in-place one calls; those that make a float of an integer are refused on integers)
FLOAT_RESULT = ("exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "sigmoid", "tanh", "sin", "cos",
                "tan", "frac", "true_divide", "float_power")
SAME_KIND = ("neg", "floor", "ceil", "round", "trunc", "sign", "square", "pow", "clamp_min", "clamp_max", "fmod",
             "remainder", "floor_divide", "nan_to_num")


def in_place(name, function, *, bool_ok=True):
    """The method ``x.name_(*args)``: ``function(x, *args)`` written into x by ``Tensor._apply_`` (recorded in the
    graph when x, or a tensor the function is given, requires grad), in x's dtype. A float result cannot go into an
    integer or bool x (PyTorch's error); ``bool_ok=False`` refuses a bool x outright. The method's signature is
    the function's, so that a call that does not fit it is Python's own TypeError."""
    def method(self, *args, **kwargs):
        if not bool_ok and self.dtype.name == "bool":
            raise RuntimeError(f"{name}_(): not implemented for 'Bool' tensors, as in PyTorch: x.float() first")

        def compute(x):
            result = function(x, *args, **kwargs)
            if result.dtype.is_floating_point and not self.dtype.is_floating_point:
                raise RuntimeError(f"{name}_(): result type Float can't be cast to the desired output type "
                                   f"{self.dtype.name}; write x = x.{name}(...) (a new float tensor) instead")
            return result
        return self._apply_(name + "_", compute)
    method.__name__ = name + "_"
    method.__doc__ = f"In place: ``x.{name}_(...)`` is ``x.copy_(x.{name}(...))``, in x's dtype."
    signature = inspect.signature(function)
    first, *rest = signature.parameters.values()
    method.__signature__ = signature.replace(parameters=[first.replace(name="self"), *rest])
    return method


for _name in FLOAT_RESULT + SAME_KIND:
    if not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", in_place(_name, getattr(Tensor, _name), bool_ok=_name in FLOAT_RESULT))


def shape_in_place(name, function):
    """The method ``x.name_(*args)`` of a function that makes a view (``x.t()``, ``x.squeeze(0)``): x itself then
    shows its numbers as ``function(x, *args)`` shows them, under a new shape or in another order of its dims; the
    numbers stay where they are. In the graph (x requires grad) it is recorded as that view of x as it was."""
    def method(self, *args, **kwargs):
        view = function(self.detach(), *args, **kwargs)  # (checks the arguments, as the function does)
        recorded = records_inplace(self, name + "_")
        if self._base is not None and self._base.array is self._base_array:  # a view: it becomes that view of
            return reshaped_in_place(self, lambda inner: function(inner, *args, **kwargs))  # itself (inplace.py)
        if recorded:
            return record_inplace(self, name + "_", lambda before: function(before, *args, **kwargs),
                                  writes_into_input=True, new_shape=True)
        self.array = view.array  # the same memory, seen through another shape or order
        self._bump_version()
        return self
    method.__name__ = name + "_"
    method.__doc__ = f"In place: x becomes ``x.{name}(...)``, a view of its own numbers (only the shape changes)."
    return method


for _name in ("unsqueeze", "squeeze", "t", "transpose", "swapaxes", "swapdims"):
    setattr(Tensor, _name + "_", shape_in_place(_name, getattr(Tensor, _name)))
