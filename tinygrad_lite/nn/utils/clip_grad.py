r"""Gradient clipping: keep one bad batch from throwing the weights far away.

``clip_grad_norm_`` treats all gradients as one long vector g and rescales it when it is too long:

    total = \|g\|_p = ( \sum_i \|g_i\|_p^p )^{1/p}          (the p-norm of the per-parameter p-norms)
    g  <-  g \cdot \min(1, max\_norm / (total + 10^{-6}))

so the direction is kept and only the length is capped. ``clip_grad_value_`` instead clamps every element to
[-clip_value, clip_value], which can change the direction. Both modify ``.grad`` in place, as in PyTorch,
and are meant to be called between ``loss.backward()`` and ``optimizer.step()``.

On "cuda" (gradients of one float dtype on one GPU) the total is one reduction over all the gradients side by side
(``_total_norm_fused``: one concatenation, one fused kernel), and min(1, max_norm / (total + 1e-6)) one more fused
kernel: nothing is read back to the host, and a step launches a handful of kernels instead of four per parameter.
"""
import contextlib
import math
import warnings

import numpy as np

from ... import kernels
from ...autograd.grad_mode import no_grad
from ...device import array_module_of, device_of, move, on_device_of, same_device
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
    r"""\|x\|_p of all the elements of ``array``: (sum |x|^p)^(1/p); inf gives max |x|, 0 the count of non-zeros.

    A float16 array's norm is computed in float32 and rounded once, as PyTorch's vector_norm computes it (in float16
    the sum of squares overflows at 65504: 256 gradients of 16 would make the total inf and the clipped gradient 0)."""
    if array.dtype == np.float16:
        return _vector_norm(array.astype(np.float32), p).astype(np.float16)
    a = array if p == 2 else np.abs(array)  # (x^2 = |x|^2: the usual 2-norm skips a pass)
    if p == math.inf:
        return a.max() if a.size else array_module_of(a).zeros((), a.dtype)
    if p == -math.inf:
        return a.min()
    if p == 0:
        return (a != 0).sum().astype(a.dtype)  # (the count, in a's dtype: on a GPU too)
    return (a ** p).sum() ** (1 / p)


def _fusable(arrays, p):
    """Can the total norm of ``arrays`` be one fused reduction? On a GPU, for float32 or float64 arrays of one dtype
    on one device, not all empty, and a norm of order p > 0 (inf included)."""
    first = arrays[0]
    return (type(first) is not np.ndarray and first.dtype in (np.float32, np.float64) and p > 0
            and all(same_device(a, first) and a.dtype == first.dtype for a in arrays) and any(a.size for a in arrays))


def _total_norm_fused(arrays, p):
    r"""\|g\|_p of all the numbers of ``arrays`` as one fused reduction over them side by side (a 0-d array on their
    GPU): (\sum |x|^p)^{1/p}, \sqrt{\sum x^2} for p = 2, max |x| for p = inf. The same number as ``_vector_norm`` of
    the per-array norms, to rounding: the p-th powers of the per-array norms add up to the sum over all elements."""
    xp = array_module_of(arrays[0])
    flat = xp.concatenate([a.reshape(-1) for a in arrays])
    if p in (2, math.inf):
        return kernels.fused(xp, make_norm, p)(flat, None)
    return kernels.fused(xp, make_norm, None)(flat, p) ** (1 / p)  # (fused: the sum of |x|^p; then one number's root)


def make_norm(xp, order):
    r"""The fused reduction of ``_total_norm_fused``: \sqrt{\sum x^2} (order 2), max |x| (order inf), else (order
    None) \sum |x|^p, p an argument."""
    if order == 2:
        return lambda x, p: xp.sqrt(xp.sum(x * x))
    if order == math.inf:
        return lambda x, p: xp.max(xp.abs(x))
    return lambda x, p: xp.sum(xp.abs(x) ** p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of the p-norms of ``tensors`` (as if they were one long vector), as a 0-d tensor."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    with on_device_of(tensors[0].array) if tensors else contextlib.nullcontext():
        return _total_norm(tensors, norm_type, error_if_nonfinite)[0]


def _total_norm(tensors, norm_type, error_if_nonfinite):
    """(``get_total_norm``'s total, whether it was one fused reduction on a GPU: see ``_fusable``)."""
    norm_type = float(norm_type)
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return Tensor(0.0, dtype=get_default_dtype()), False
    arrays = [t.array for t in tensors]
    fusable = _fusable(arrays, norm_type)
    if fusable:
        total = _total_norm_fused(arrays, norm_type)
    else:
        home = device_of(arrays[0])  # (a model split over two GPUs: each norm joins the first one's device)
        norms = np.stack([move(_vector_norm(a, norm_type), home) for a in arrays])
        total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}, "
                           "so it cannot be clipped: some gradient holds nan or inf (a loss that overflowed, a log "
                           "of 0, a learning rate too high?). Pass error_if_nonfinite=False to scale anyway.")
    return Tensor._make(array_module_of(tensors[0].array).asarray(total), None), fusable  # (on the gradients' device)


@no_grad()
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients of ``parameters`` so their total ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d tensor): worth logging, its spikes show unstable training.
    ``foreach`` is accepted for compatibility and ignored.
    """
    grads = _grads(parameters)
    if not grads:
        return _total_norm(grads, norm_type, error_if_nonfinite)[0]
    with on_device_of(grads[0].array):  # (CuPy makes new arrays on the current GPU: here, the gradients' one)
        return _clip(grads, max_norm, norm_type, error_if_nonfinite)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The old name of ``clip_grad_norm_``, deprecated (with PyTorch's warning)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def _clip(grads, max_norm, norm_type, error_if_nonfinite):
    """clip_grad_norm_'s work, on the gradients' device."""
    total, fusable = _total_norm(grads, norm_type, error_if_nonfinite)
    # min(1, max_norm / (total + 1e-6)) in float64, computed where the gradients are: on a GPU nothing is read back,
    # so the GPU never waits for the CPU to decide (there one fused kernel, which casts it to the gradients' dtype)
    if fusable:  # (the scaling as one multiply per gradient, in place: a Tensor op's checks cost the host more)
        xp = array_module_of(total.array)
        coef = kernels.fused(xp, make_clip_coefficient, grads[0].array.dtype)(total.array, float(max_norm))
        for g in grads:
            xp.multiply(g.array, coef, out=g.array)
            g._bump_version()
        return total
    _scale(grads, max_norm, total)
    return total


@no_grad()
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` by min(1, max_norm / (total_norm + 1e-6)) for a ``total_norm`` computed
    before (``get_total_norm``): ``clip_grad_norm_`` in two halves, as PyTorch splits it, so that a script can
    combine the norms of several models (or processes) in between."""
    grads = _grads(parameters, "clip_grads_with_norm_")
    if grads:
        total = total_norm if isinstance(total_norm, Tensor) else Tensor(float(total_norm))
        with on_device_of(grads[0].array):
            _scale(grads, max_norm, total)


def _scale(grads, max_norm, total):
    """Each gradient times min(1, max_norm / (total + 1e-6)), in place."""
    coef = np.minimum(float(max_norm) / (total.array.astype(np.float64) + 1e-6), 1.0)
    # the factor in each gradient's dtype, as PyTorch's; a float16 gradient's in the total's (float32 when other
    # gradients are float32), so that its product is computed in float32 and rounded once, as in PyTorch
    scales = [move(array_module_of(coef).asarray(coef, dtype=total.array.dtype if g.array.dtype == np.float16
                                                 else g.array.dtype), device_of(g.array)) for g in grads]
    with np.errstate(invalid="ignore"):  # an inf gradient times 0 is nan, silently, as in PyTorch
        for g, scale in zip(grads, scales):
            g.mul_(Tensor._make(scale, None))


@no_grad()
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value] in place. ``foreach`` is ignored."""
    clip_value = float(clip_value)
    for g in _grads(parameters, "clip_grad_value_"):
        g.clamp_(-clip_value, clip_value)


def make_clip_coefficient(xp, dtype):
    r"""min(1, max_norm / (total + 10^{-6})) in float64, then cast to the gradients' ``dtype``, as one fused kernel on
    the GPU (``clip_grad_norm_``)."""
    return lambda total, max_norm: xp.minimum(max_norm / (total.astype(xp.float64) + 1e-6), 1.0).astype(dtype)
