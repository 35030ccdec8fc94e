"""``tinygrad_lite.autograd``: the graph machinery's public face.

``Function`` (write your own differentiable op), ``grad`` (gradients without touching ``.grad``),
``gradcheck`` (compare autograd with finite differences), and the grad-mode switches.
"""
from .engine import run_backward
from .function import Function
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck
from .variable import Variable


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a tuple; ``.grad`` is left alone."""
    from ..dtypes import as_array
    from ..tensor import Tensor
    if create_graph:
        raise NotImplementedError("grad: create_graph=True (gradients of gradients) is not supported")
    out = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        if out.numel() != 1:
            raise RuntimeError(f"grad: grad can be implicitly created only for scalar outputs, got shape "
                               f"{tuple(out.shape)}; pass grad_outputs")
        g = as_array(1.0, out.dtype, out.device).reshape(out.shape)
    else:
        go = grad_outputs[0] if isinstance(grad_outputs, (tuple, list)) else grad_outputs
        g = as_array(go, out.dtype, out.device)
    if not out.requires_grad:
        raise RuntimeError("grad: the output does not require grad (no input on its path requires grad)")
    found = run_backward(out, g, retain_graph=bool(retain_graph), inputs=inputs)
    result = []
    for i, t in enumerate(inputs):
        if id(t) not in found and not allow_unused:
            raise RuntimeError(f"grad: input {i} was not used to compute the output; pass allow_unused=True to get "
                               "None for it")
        result.append(Tensor._make(found[id(t)].copy(), None) if id(t) in found else None)
    return tuple(result)


__all__ = ["Function", "Variable", "grad", "gradcheck", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode"]
