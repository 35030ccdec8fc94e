"""The argument checks that nn.functional's functions share, and the ``inplace=True`` of an activation."""
import warnings

from ...return_types import refuse_pair
from ...tensor import Tensor


def _check_tensor(name, input, what="input"):
    """``name``: a function's name ("linear"), or a layer, which its repr names ("Linear(in_features=4, ...)")."""
    if not isinstance(input, Tensor):
        where = f"{name}()" if isinstance(name, str) and "(" not in name else str(name)
        refuse_pair(input, where)
        kind = type(input)
        if kind.__name__ == "Tensor":  # another library's Tensor (torch.Tensor): name both libraries
            raise TypeError(f"{where}: argument '{what}' must be a tinygrad_lite Tensor, not a "
                            f"{kind.__module__.split('.')[0]}.Tensor; a tinygrad_lite function takes only "
                            "tinygrad_lite Tensors: build the inputs with the same library as the function")
        raise TypeError(f"{where}: argument '{what}' must be a Tensor, not {kind.__name__}; "
                        "convert it first with tinygrad_lite.tensor(x)")


def _check_floating(name, input, error=RuntimeError):
    """``input`` must be a floating-point tensor. ``error``: the kind PyTorch raises for an integer one (its kernels
    "not implemented for 'Long'" raise NotImplementedError, a RuntimeError)."""
    _check_tensor(name, input)
    if not input.is_floating_point():
        raise error(f"{name}(): expected a floating point tensor, got {input.dtype}; convert it with .float()")


def _check_inplace(name, inplace):
    """``inplace`` read as PyTorch reads it, by its truth (1, None ...); a tensor, whose truth is ambiguous, is
    named as the argument at fault."""
    if isinstance(inplace, Tensor) or hasattr(inplace, "__array__"):
        raise TypeError(f"{name}(): argument 'inplace' must be True or False, not {type(inplace).__name__}")


def _in_place(input, name, op):
    """``op(input)`` written into ``input``, returned: the ``inplace=True`` of an activation or dropout. The graph
    records it as an in-place op (``Tensor._apply_``), so a later backward differentiates the op, and a tensor saved
    earlier for a backward is known to be overwritten (PyTorch's error, if that backward runs)."""
    return input._apply_(name + "_", op)


def _softmax_dim(name, ndim, stacklevel):
    """PyTorch's legacy choice when no dim is given (with its warning): dim 0 for 0-, 1- and 3-d inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  "an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1
