r"""The losses the lessons do not use, composed of the library's ops (no backward of their own), with PyTorch's
names, arguments, defaults and formulas. Each loss l_n is per element (or per sample), then reduced: 'mean'
(the default), 'sum' or 'none'.

- ``margin_ranking_loss(x1, x2, y)``: l = max(0, -y (x1 - x2) + margin), y = 1 when x1 should rank higher, -1 when
  x2 should.
- ``hinge_embedding_loss(x, y)``: l = x where y = 1, max(0, margin - x) where y = -1 (x a distance: small for
  similar pairs, at least the margin for dissimilar ones).
- ``soft_margin_loss(x, y)``: l = log(1 + e^{-y x}), a two-class logistic loss with labels -1 and 1.
- ``multilabel_soft_margin_loss(x, y)``: per sample, the mean over the C classes of the binary cross-entropy of
  sigmoid(x) against y in {0, 1}.
- ``cosine_embedding_loss(x1, x2, y)``: l = 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.
- ``triplet_margin_loss(a, p, n)``: l = max(0, d(a, p) - d(a, n) + margin), d the p-norm distance: the anchor
  nearer to the positive than to the negative by a margin (``swap``: d(a, n) replaced by d(p, n) where smaller).
- ``triplet_margin_with_distance_loss(a, p, n, distance_function=d)``: the same with any distance d (pairwise
  distance by default), such as 1 - cosine similarity.
- ``multi_margin_loss(x, y)``: per sample, (1 / C) sum over the classes i other than y of max(0, margin - x_y +
  x_i)^p (p 1 or 2, the term scaled by weight[y]): a multi-class hinge loss, as a support vector machine's.
- ``multilabel_margin_loss(x, y)``: y lists a sample's classes (ended by the first -1); per sample, (1 / C) sum
  over its listed classes j and the classes i not listed of max(0, 1 - (x_j - x_i)).
- ``gaussian_nll_loss(mean, y, var)``: l = (log var + (y - mean)^2 / var) / 2 (+ log(2 pi) / 2 with ``full``), the
  negative log-likelihood of y under a normal distribution the model predicts; var is clamped at ``eps`` without
  stopping its gradient, as PyTorch's.
- ``poisson_nll_loss(x, y)``: l = e^x - y x (``log_input``, x the log of the rate) or x - y log(x + eps), with
  Stirling's approximation of log(y!) added for y > 1 with ``full``.
"""
import math

from ...amp.autocast_mode import autocast_args
from ...autograd.grad_mode import no_grad
from ...creation import arange, full_like
from ...shapes import check_broadcast, check_number
from ...tensor import where
from ._checks import _check_tensor
from .activation import logsigmoid, softplus
from .loss import _reduce, _reduction

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
           "cosine_embedding_loss", "triplet_margin_loss", "gaussian_nll_loss", "poisson_nll_loss",
           "pairwise_distance", "multi_margin_loss", "multilabel_margin_loss", "triplet_margin_with_distance_loss"]


def _checked(name, reduction, *tensors, inputs=1, size_average=None, reduce=None):
    """(the reduction to apply, the tensors), after checking that each is a tensor and the first ``inputs`` of them
    (the model's outputs) floating point; a target may hold integers (labels 1 and -1, counts), as in PyTorch.
    Inside autocast the tensors are cast as PyTorch casts this loss's (float32, for the losses on its list)."""
    reduction = _reduction(name, reduction, size_average, reduce)
    for i, t in enumerate(tensors):
        _check_tensor(name, t)
        if i < inputs and not t.dtype.is_floating_point:
            raise RuntimeError(f"{name}: expected floating-point inputs, got {t.dtype.name}: convert with .float()")
    return reduction, autocast_args(name, *tensors)


def _flags(name, **flags):
    """True/False options: a clear TypeError for anything else (a tensor's truth is ambiguous)."""
    for what, value in flags.items():
        if not isinstance(value, (bool, int)) or hasattr(value, "__array__"):
            raise TypeError(f"{name}: {what} must be True or False, got {type(value).__name__}")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin), target 1 or -1; the three broadcast together."""
    reduction, (input1, input2, target) = _checked("margin_ranking_loss", reduction, input1, input2, target,
                                                   inputs=2, size_average=size_average, reduce=reduce)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f"margin_ranking_loss: all input tensors should have same dimension but got sizes: input1: "
                           f"{tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: {tuple(target.shape)}")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1 (and the sum of both elsewhere, as
    PyTorch's formula gives for other targets)."""
    reduction, (input, target) = _checked("hinge_embedding_loss", reduction, input, target,
                                          size_average=size_average, reduce=reduce)
    apart = where(target != 1, (margin - input).clamp(min=0), 0.0)
    return _reduce(apart + where(target != -1, input, 0.0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), computed as softplus(-target * input), which does not overflow."""
    reduction, (input, target) = _checked("soft_margin_loss", reduction, input, target, size_average=size_average,
                                          reduce=reduce)
    return _reduce(softplus(-target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample (N, C): the mean over the classes of -(y log sigmoid(x) + (1 - y) log sigmoid(-x)), each class's
    term scaled by ``weight`` (C) if given."""
    reduction, (input, target) = _checked("multilabel_soft_margin_loss", reduction, input, target,
                                          size_average=size_average, reduce=reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / input.shape[-1], reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1; rows of (N, D) inputs (or
    two vectors; they broadcast), cos with 1e-12 added to each squared length, as PyTorch's."""
    reduction, (input1, input2, target) = _checked("cosine_embedding_loss", reduction, input1, input2, target,
                                                   inputs=2, size_average=size_average, reduce=reduce)
    dim = target.ndim
    if dim not in (0, 1) or not input1.ndim == input2.ndim == dim + 1:
        raise RuntimeError(f"cosine_embedding_loss: expected input1 and input2 (N, D) with a target (N,), or (D,) "
                           f"with a number, got {tuple(input1.shape)}, {tuple(input2.shape)} and "
                           f"{tuple(target.shape)}")
    check_broadcast("cosine_embedding_loss", input1.shape, input2.shape, tuple(target.shape) + (1,) * dim)
    lengths = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cos = (input1 * input2).sum(dim) / lengths.sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (eps keeps the gradient finite where the two are equal)."""
    _check_tensor("pairwise_distance", x1), _check_tensor("pairwise_distance", x2, "x2")
    dim = max(x1.ndim, x2.ndim) - 1
    return (x1 - x2 + eps).norm(p=p, dim=dim, keepdim=keepdim) if dim >= 0 else (x1 - x2 + eps).abs()


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, d(anchor, positive) - d(anchor, negative) + margin), d = pairwise_distance with ``p`` and ``eps``."""
    reduction, (anchor, positive, negative) = _checked("triplet_margin_loss", reduction, anchor, positive,
                                                       negative, inputs=3, size_average=size_average, reduce=reduce)
    _flags("triplet_margin_loss", swap=swap)
    if check_number("triplet_margin_loss", "margin", margin) <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(f"triplet_margin_loss: the anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got {anchor.ndim}, {positive.ndim} and "
                           f"{negative.ndim}")
    near, far = pairwise_distance(anchor, positive, p, eps), pairwise_distance(anchor, negative, p, eps)
    if swap:
        far = far.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + near - far).clamp(min=0), reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """(log var + (target - input)^2 / var) / 2, var clamped at ``eps`` (its gradient passes unchanged, as
    PyTorch's in-place clamp under no_grad lets it); var may lack the last dim, or have one dim of size 1 where the
    input's is larger (one variance shared along it)."""
    reduction, (input, target) = _checked("gaussian_nll_loss", reduction, input, target)
    _flags("gaussian_nll_loss", full=full)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        var = full_like(input, float(var))
    _check_tensor("gaussian_nll_loss", var, "var")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif var.ndim != input.ndim or sum(v for i, v in zip(input.shape, var.shape) if i != v) != 1:
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} for input "
                             f"{tuple(input.shape)}: the same shape, the shape without its last dim, or that with "
                             "one dim of size 1 (PyTorch's rule)")
    check_number("gaussian_nll_loss", "eps", eps, low=0)
    with no_grad():
        if bool((var < 0).any()):
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        lift = var.clamp(min=eps) - var
    var = var + lift  # (the clamp's value, the identity's gradient)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    return _reduce(loss + 0.5 * math.log(2 * math.pi) if full else loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """e^input - target input (``log_input``) or input - target log(input + eps); with ``full``, plus Stirling's
    target log target - target + log(2 pi target) / 2 where target > 1."""
    reduction, (input, target) = _checked("poisson_nll_loss", reduction, input, target, size_average=size_average,
                                          reduce=reduce)
    _flags("poisson_nll_loss", log_input=log_input, full=full)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        safe = where(target > 1, target, 1.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(0, d(anchor, positive) - d(anchor, negative) + margin) for any distance ``d`` (a function of two
    tensors giving one distance per sample; ``pairwise_distance`` when None)."""
    reduction = _reduction("triplet_margin_with_distance_loss", reduction)
    for t in (anchor, positive, negative):
        _check_tensor("triplet_margin_with_distance_loss", t)
    _flags("triplet_margin_with_distance_loss", swap=swap)
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(f"triplet_margin_with_distance_loss: the anchor, positive, and negative tensors are "
                           f"expected to have the same number of dimensions, but got {anchor.ndim}, {positive.ndim} "
                           f"and {negative.ndim}")
    if check_number("triplet_margin_with_distance_loss", "margin", margin) <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    distance = pairwise_distance if distance_function is None else distance_function
    near, far = distance(anchor, positive), distance(anchor, negative)
    if swap:
        far = far.minimum(distance(positive, negative))
    return _reduce((margin + near - far).clamp(min=0), reduction)


def _class_targets(name, input, target, per_sample):
    """Check a classification loss's (N, C) or (C,) input against its integer target: ``per_sample`` (N,) or ()
    class indices, else one (N, C) or (C,) list of classes per sample."""
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise RuntimeError(f"{name}: expected a non-empty (N, C) or (C,) input, got shape {tuple(input.shape)}")
    if target.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"{name}: the target must hold class indices (int64), got {target.dtype.name}: convert it "
                           "with .long()")
    expected = tuple(input.shape[:-1]) if per_sample else tuple(input.shape)
    one_sample = per_sample and input.ndim == 1 and tuple(target.shape) == (1,)  # (PyTorch takes () or (1,))
    if tuple(target.shape) != expected and not one_sample:
        raise RuntimeError(f"{name}: the target should have shape {expected} for an input of shape "
                           f"{tuple(input.shape)}, got {tuple(target.shape)}")
    low = -1 if not per_sample else 0
    if target.numel() and (int(target.min()) < low or int(target.max()) >= input.shape[-1]):
        raise RuntimeError(f"{name}: target out of range: classes are 0 to {input.shape[-1] - 1}"
                           + ("" if per_sample else ", and -1 ends a sample's list"))


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """(1 / C) sum_{i != y} (weight[y]) max(0, margin - x_y + x_i)^p per sample, ``p`` 1 or 2."""
    reduction, (input, target) = _checked("multi_margin_loss", reduction, input, target,
                                          size_average=size_average, reduce=reduce)
    if check_number("multi_margin_loss", "p", p) not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got {p}")
    check_number("multi_margin_loss", "margin", margin)
    _class_targets("multi_margin_loss", input, target, per_sample=True)
    target = target.reshape(()) if input.ndim == 1 else target
    right = input.gather(-1, target.unsqueeze(-1))  # x_y, (N, 1)
    terms = (margin - right + input).clamp(min=0) ** p
    if weight is not None:
        terms = terms * weight[target].unsqueeze(-1)
    others = target.unsqueeze(-1) != arange(input.shape[-1], device=input.device)  # (i != y)
    return _reduce(where(others, terms, 0.0).sum(-1) / input.shape[-1], reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """(1 / C) sum over the listed classes j and the unlisted classes i of max(0, 1 - (x_j - x_i)) per sample;
    a sample's list of classes is its target row up to the first -1 (a class listed twice counts twice)."""
    reduction, (input, target) = _checked("multilabel_margin_loss", reduction, input, target,
                                          size_average=size_average, reduce=reduce)
    _class_targets("multilabel_margin_loss", input, target, per_sample=False)
    listed = (target >= 0).long().cumprod(-1).bool()  # (before the first -1)
    safe = where(listed, target, 0)
    classes = arange(input.shape[-1], device=input.device)
    chosen = ((safe.unsqueeze(-1) == classes) & listed.unsqueeze(-1)).any(-2)  # (N, C): is a target
    picked = input.gather(-1, safe)  # x_j for each list entry, (N, C)
    hinge = (1 - (picked.unsqueeze(-1) - input.unsqueeze(-2))).clamp(min=0)  # [n, j, i]
    keep = listed.unsqueeze(-1) & ~chosen.unsqueeze(-2)
    return _reduce(where(keep, hinge, 0.0).sum((-2, -1)) / input.shape[-1], reduction)
