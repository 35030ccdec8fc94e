"""``tinygrad_lite.autograd``: the graph machinery's public face.

``Function`` (write your own differentiable op), ``grad`` (gradients without touching ``.grad``; with
``create_graph=True`` gradients that can be differentiated again), ``gradcheck`` and ``gradgradcheck`` (compare
autograd's first and second derivatives with finite differences), ``functional`` (Jacobians, Hessians and their
products with vectors), and the grad-mode switches. Anomaly detection
(``detect_anomaly``, ``set_detect_anomaly(True)``) is not covered and raises, saying how to find a nan gradient.
"""
import contextlib
import warnings

from ..coverage import missing_names as _missing_names
from . import functional
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .engine import run_backward
from .function import Function
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck
from .variable import Variable

_for_some_inputs = [0]  # backward passes running for chosen inputs only (grad, backward(inputs=))


@contextlib.contextmanager
def asking_for_inputs():
    """Around a backward pass that returns or fills the gradients of chosen inputs only. A re-entrant checkpoint
    (``utils/checkpoint.py``), whose backward adds into every leaf's ``.grad``, refuses to run inside one."""
    _for_some_inputs[0] += 1
    try:
        yield
    finally:
        _for_some_inputs[0] -= 1


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a tuple; ``.grad`` is left alone.

    With several outputs (a list) their contributions add up, as when ``backward`` runs from several roots:
    the result is the gradient of sum_k <grad_outputs[k], outputs[k]>. ``grad_outputs`` holds one gradient per
    output (None for a one-number output: 1). Only the ops between the outputs and the inputs run, and a tensor
    that ``retain_grad()`` was called on gets its ``.grad`` on the way, as in PyTorch. An input the outputs do not
    depend on is an error, or None with ``allow_unused=True``, or zeros with ``materialize_grads=True``.
    With ``create_graph=True`` the gradients are results of recorded ops, which can be differentiated again
    (``higher_order.py``); the graph is then kept unless ``retain_graph=False``.
    """
    from ..tensor import Tensor, as_array  # (here: tensor.py builds on this package, so it cannot come first)
    if not only_inputs:  # (PyTorch's old argument, kept for old scripts: it ignores it, with this warning)
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.", stacklevel=2)
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True (a batch of grad_outputs at once, PyTorch's vmap) is "
                                  "not supported: call grad once per row of grad_outputs, with retain_graph=True")
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: materialize_grads=True gives zeros for the unused inputs, so allow_unused cannot be "
                         "False; leave it out")
    outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
    if not all(isinstance(o, Tensor) for o in outputs):  # (PyTorch: a TypeError too)
        raise TypeError(f"grad(): outputs must be tensors (or a sequence of them), got "
                        f"{', '.join(type(o).__name__ for o in outputs if not isinstance(o, Tensor))}")
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty: name the tensors whose gradients you want")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad: grad_outputs has {len(grad_outputs)} gradients for {len(outputs)} outputs; give "
                           "one per output, in the same order (None for an output holding one number)")
    grads = []
    for k, (out, go) in enumerate(zip(outputs, grad_outputs)):
        which = f"output {k}" if len(outputs) > 1 else "the output"
        if not out.requires_grad:
            raise RuntimeError(f"grad: {which} does not require grad (no input on its path requires grad)")
        if go is None:
            if out.numel() != 1:
                raise RuntimeError(f"grad: grad can be implicitly created only for scalar outputs, but {which} has "
                                   f"shape {tuple(out.shape)}; pass grad_outputs")
            grads.append(as_array(1.0, out.dtype, out.device).reshape(out.shape))
        else:
            g = as_array(go, out.dtype, out.device)
            if g.shape != out.array.shape:
                raise RuntimeError(f"grad: grad_outputs for {which} has shape {tuple(g.shape)}, but {which} has "
                                   f"shape {tuple(out.shape)}; they must match")
            keep = create_graph and isinstance(go, Tensor) and go.dtype is out.dtype  # (its graph too)
            grads.append(go if keep else g)
    for i, t in enumerate(inputs):  # (PyTorch: "One of the differentiated Tensors does not require grad")
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient to ask for (even with "
                               "allow_unused=True): make it with requires_grad=True, or leave it out of inputs")
    retain_graph = bool(create_graph if retain_graph is None else retain_graph)  # (PyTorch's default)
    with asking_for_inputs():
        found = run_backward(outputs, grads, retain_graph=retain_graph, inputs=inputs, create_graph=create_graph)
    result = []
    for i, t in enumerate(inputs):
        if id(t) not in found and not (allow_unused or materialize_grads):
            raise RuntimeError(f"grad: input {i} was not used to compute the output; pass allow_unused=True to get "
                               "None for it (or materialize_grads=True for zeros)")
        unused = t.detach().new_zeros(t.shape) if materialize_grads else None
        if id(t) in found and create_graph:  # a Tensor of the graph already (a copy if it is a root's gradient)
            result.append(found[id(t)].clone() if any(found[id(t)] is g for g in grads) else found[id(t)])
        else:
            result.append(Tensor._make(found[id(t)].copy(), None) if id(t) in found else unused)
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``backward`` from several roots at once (``torch.autograd.backward``): their contributions to each leaf's
    ``.grad`` add up. ``grad_tensors`` holds one gradient per root (None for a root holding one number)."""
    from ..tensor import Tensor, as_array  # (here: tensor.py builds on this package, so it cannot come first)
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    grad_tensors = list(grad_tensors) if isinstance(grad_tensors, (tuple, list)) else [grad_tensors]
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"autograd.backward: {len(grad_tensors)} gradients for {len(tensors)} tensors; give one "
                           "per tensor, in the same order (None for a tensor holding one number)")
    grads = []
    for k, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.backward: tensor {k} does not require grad and has no grad_fn")
        if g is None and t.numel() != 1:
            raise RuntimeError(f"autograd.backward: grad can be implicitly created only for scalar outputs, but "
                               f"tensor {k} has shape {tuple(t.shape)}; pass grad_tensors")
        given = g
        g = as_array(1.0 if g is None else g, t.dtype, t.device)
        grads.append(g.reshape(t.shape) if g.size == 1 else g)
        if grads[-1].shape != t.array.shape:
            raise RuntimeError(f"autograd.backward: grad_tensors[{k}] has shape {tuple(g.shape)}, tensor {k} has "
                               f"{tuple(t.shape)}; they must match")
        if create_graph and isinstance(given, Tensor) and given.shape == t.shape and given.dtype is t.dtype:
            grads[-1] = given  # (its graph is kept)
    retain_graph = bool(create_graph if retain_graph is None else retain_graph)  # (PyTorch's default)
    if inputs is None:
        run_backward(tensors, grads, retain_graph=retain_graph, create_graph=create_graph)
    else:
        backward_into(inputs, tensors, grads, retain_graph, "autograd.backward", create_graph)


def backward_into(inputs, roots, grads, retain_graph, op, create_graph=False):
    """``backward(inputs=...)``: the gradients of ``roots`` (given ``grads``, one per root) with respect to ``inputs``
    only, added into their ``.grad`` (a non-leaf's too, as PyTorch's); no other tensor's ``.grad`` changes. An input
    the roots do not depend on keeps its ``.grad``."""
    from ..tensor import Tensor  # (here: tensor.py builds on this package, so it cannot come first)
    inputs = list({id(t): t for t in ([inputs] if isinstance(inputs, Tensor) else inputs)}.values())
    if not inputs:
        raise RuntimeError(f"{op}: inputs cannot be empty: list the tensors whose .grad to fill, or leave it out")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"{op}: inputs[{i}] does not require grad, so it can get no gradient; make it with "
                               "requires_grad=True, or leave it out of inputs")
    with asking_for_inputs():
        found = run_backward(roots, grads, retain_graph=retain_graph, inputs=inputs, create_graph=create_graph)
    for t in inputs:
        if id(t) in found and not t._retains_grad:  # (one that retains its grad got it in run_backward)
            if create_graph:
                from .higher_order import accumulate  # (here: it builds on tensor.py, which builds on this package)
                accumulate(t, found[id(t)], {id(found[id(t)])})
            else:
                t._accumulate(found[id(t)], shared=True)


__all__ = ["Function", "Variable", "grad", "backward", "gradcheck", "gradgradcheck", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_inference_mode_enabled", "detect_anomaly",
           "set_detect_anomaly"]
__getattr__ = _missing_names(__name__)  # (a name this module lacks, such as forward_ad: not covered)
