r"""Gradient clipping: keep one bad batch from throwing the weights far away.

``clip_grad_norm_`` treats all gradients as one long vector g and rescales it when it is too long:

    total = \|g\|_p = ( \sum_i \|g_i\|_p^p )^{1/p}          (the p-norm of the per-parameter p-norms)
    g  <-  g \cdot \min(1, max\_norm / (total + 10^{-6}))

so the direction is kept and only the length is capped. ``clip_grad_value_`` instead clamps every element to
[-clip_value, clip_value], which can change the direction. Both modify ``.grad`` in place, as in PyTorch,
and are meant to be called between ``loss.backward()`` and ``optimizer.step()``.
"""
import math

import numpy as np

from ...autograd.grad_mode import no_grad
from ...device import array_module_of
from ...dtypes import get_default_dtype
from ...tensor import Tensor


def _grads(parameters, op="clip_grad_norm_"):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: the parameters must be tinygrad_lite Tensors, one is a {type(p).__module__}."
                            f"{type(p).__qualname__}; pass model.parameters() of a tinygrad_lite model (a PyTorch "
                            f"model's parameters go to torch.nn.utils.{op})")
        if p.grad is not None:
            grads.append(p.grad)
    return grads


def _vector_norm(array, p):
    r"""\|x\|_p of all the elements of ``array``: (sum |x|^p)^(1/p); inf gives max |x|, 0 the count of non-zeros."""
    a = array if p == 2 else np.abs(array)  # (x^2 = |x|^2: the usual 2-norm skips a pass)
    if p == math.inf:
        return a.max() if a.size else a.dtype.type(0)
    if p == -math.inf:
        return a.min()
    if p == 0:
        return a.dtype.type((a != 0).sum())
    return (a ** p).sum() ** (1 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The p-norm of the p-norms of ``tensors`` (as if they were one long vector), as a 0-d tensor."""
    norm_type = float(norm_type)
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return Tensor(0.0, dtype=get_default_dtype())
    norms = np.stack([_vector_norm(t.array, norm_type) for t in tensors])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}, "
                           "so it cannot be clipped: some gradient holds nan or inf (a loss that overflowed, a log "
                           "of 0, a learning rate too high?). Pass error_if_nonfinite=False to scale anyway.")
    return Tensor._make(array_module_of(tensors[0].array).asarray(total), None)  # (on the gradients' device)


@no_grad()
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of ``parameters`` so their total ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d tensor): worth logging, its spikes show unstable training.
    ``foreach`` is accepted for compatibility and ignored.
    """
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        # min(1, max_norm / (total + 1e-6)) in float64, computed where the gradients are: on a GPU nothing is read
        # back, so the GPU never waits for the CPU to decide
        coef = np.minimum(float(max_norm) / (total.array.astype(np.float64) + 1e-6), 1.0)
        with np.errstate(invalid="ignore"):  # an inf gradient times 0 is nan, silently, as in PyTorch
            for g in grads:
                g.mul_(Tensor._make(array_module_of(coef).asarray(coef, dtype=g.array.dtype), None))
    return total


@no_grad()
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value] in place. ``foreach`` is ignored."""
    clip_value = float(clip_value)
    for g in _grads(parameters, "clip_grad_value_"):
        g.clamp_(-clip_value, clip_value)
