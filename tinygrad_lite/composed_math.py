"""Math composed of the engine's ops: PyTorch's functions that are a line or two of others.

- elementwise: ``clamp_min``, ``clamp_max``, ``tan`` (sin / cos), ``frac``, ``logit``, ``xlogy``, ``nan_to_num``,
  and the logical ``logical_and``, ``logical_or``, ``logical_xor`` (nonzero is True, as in Python);
- reductions: ``count_nonzero``, ``nansum`` and ``nanmean`` (which skip nans), ``std_mean`` and ``var_mean``,
  ``cov`` and ``corrcoef``; and from a sort, ``median`` and ``quantile``;
- products of vectors and matrices: ``dot``, ``outer``, ``mv``, ``addmm`` and ``addmv``; and ``cdist``, the
  distances between two sets of points.

None has a backward of its own: the chain rule through the ops they are made of gives their gradients, as in
composed.py. A ``where`` that drops a branch still differentiates it, so a dropped branch is kept finite
(``xlogy`` takes the log of 1 where x is 0 and log y would be infinite or nan). Autocast treats each as PyTorch's
one op of that name: its arguments cast once by autocast's lists (``addmm`` to float16; ``cdist`` and ``quantile``
to float32, ``tan`` too on a GPU; ``dot`` promoted, not lowered), the ops inside left alone. (PyTorch's GPU autocast
also lowers ``mv`` and ``addmv``, its CPU autocast does not; our lists are the same for both devices there.)
"""
import math
import numbers

import numpy as np

from . import dtypes as dt
from . import return_types
from .amp.autocast_mode import as_one_op, autocast_args
from .device import array_module_of
from .functions import _check_tensor, finfo, stack, with_out
from .shapes import check_broadcast, check_number, dim_index, dim_indices
from .tensor import Tensor, _numpy_names, where


def _floating(op, input, error=RuntimeError):
    _check_tensor(op, input)
    if not input.is_floating_point():
        raise error(f"{op}(): expected a floating point tensor, got {input.dtype}; convert it with .float()")


# -------------------------------------------------------------------- elementwise
def tan(input):
    r"""\tan x = \sin x / \cos x. d/dx = 1 / \cos^2 x (= 1 + \tan^2 x); integers are computed in the default float.
    float32 and float16 are computed in a wider type and rounded once, as a tan of their own would be: the ratio of a
    rounded sine and a rounded cosine is often a unit of the last place off."""
    _check_tensor("tan", input)
    (input,), region = as_one_op("tan", input)
    with region:
        x = input if input.is_floating_point() else input.to(dt.get_default_dtype())
        wide = {dt.float32: dt.float64, dt.float16: dt.float32}.get(x.dtype)
        if wide is None:
            return x.sin() / x.cos()
        x_wide = x.to(wide)
        return (x_wide.sin() / x_wide.cos()).to(x.dtype)


def _log_base(name, input, base):
    r"""\log_b x = \ln x / \ln b, d/dx = 1 / (x \ln b); float32 and float16 computed in a wider type and rounded
    once (as ``tan``), integers in the default float."""
    _check_tensor(name, input)
    (input,), region = as_one_op(name, input)
    with region:
        x = input if input.is_floating_point() else input.to(dt.get_default_dtype())
        wide = {dt.float32: dt.float64, dt.float16: dt.float32}.get(x.dtype)
        if wide is None:
            return x.log() / math.log(base)
        return (x.to(wide).log() / math.log(base)).to(x.dtype)


def log10(input):
    """The logarithm in base 10 (a PSNR's decibels: 10 log10(1 / mse))."""
    return _log_base("log10", input, 10)


def log2(input):
    """The logarithm in base 2 (bits)."""
    return _log_base("log2", input, 2)


def clamp_min(input, min):
    """``clamp(input, min=min)``: every item at least ``min`` (``x.clamp_min(1e-12)`` before a log or a division)."""
    _check_tensor("clamp_min", input)
    return input.clamp(min=min)


def clamp_max(input, max):
    """``clamp(input, max=max)``: every item at most ``max``."""
    _check_tensor("clamp_max", input)
    return input.clamp(max=max)


def frac(input):
    """The fractional part, x - trunc(x), with the sign of x (frac(-1.5) is -0.5). Gradient 1."""
    _floating("frac", input, NotImplementedError)  # (PyTorch's kind: no integer kernel)
    return input - input.trunc()


def logit(input, eps=None):
    r"""\log(p / (1 - p)), the inverse of the sigmoid: a probability back to a score. With ``eps``, p is clamped to
    [eps, 1 - eps] first, so that 0 and 1 give finite scores (their gradient is then 0 outside the interval).
    Integers are computed in the default float type."""
    _check_tensor("logit", input)
    p = input if input.is_floating_point() else input.to(dt.get_default_dtype())
    if eps is not None:
        eps = float(check_number("logit", "eps", eps))
        p = p.clamp(eps, 1 - eps)
    edge = (p == 0) | (p == 1)  # log(p / (1 - p)), as PyTorch computes it, and at 0 and 1 log p - log(1 - p), whose
    inside, at_edge = where(edge, 0.5, p), where(edge, p, 0.5)  # gradient is inf there (the quotient's is nan)
    return where(edge, at_edge.log() - (-at_edge).log1p(), (inside / (1 - inside)).log())


def xlogy(input, other):
    r"""x \log y, defined as 0 where x = 0 (unless y is nan), as in the entropy terms p \log p and p \log q: a zero
    probability adds nothing, even where q is 0. ``input`` or ``other`` may be a number."""
    for what, value in (("input", input), ("other", other)):
        if not isinstance(value, (Tensor, numbers.Real)):
            raise TypeError(f"xlogy(): argument '{what}' must be a Tensor or a number, not {type(value).__name__}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlogy(): at least one argument must be a Tensor, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    like = input if isinstance(input, Tensor) else other
    kind = dt.result_type(input, other)
    kind = kind if kind.is_floating_point else dt.get_default_dtype()
    x, y = (t.to(kind) if isinstance(t, Tensor) else like.new_full((), t, dtype=kind) for t in (input, other))
    check_broadcast("xlogy", x.shape, y.shape)
    # where x is 0 and log y is not a finite number (y <= 0 or inf), the log of 1 instead: the product is 0 there
    # (not 0 * inf), and so are both gradients; elsewhere x log y, whose gradient in x is log y, at x = 0 too, as
    # PyTorch's (a nan y stays nan)
    unusable = (x == 0) & ~((y > 0) & y.isfinite()) & ~y.isnan()
    return x * where(unusable, 1.0, y).log()


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """``input`` with nan replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default the largest and
    the lowest finite number of the dtype). Gradient 1 where the input is finite, 0 where it was replaced."""
    _check_tensor("nan_to_num", input)
    if not input.is_floating_point():
        return input.clone()
    info = finfo(input.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        check_number("nan_to_num", name, value)
    infinite = input.isinf()
    out = where(input.isnan(), nan, input)
    out = where(infinite & (input > 0), posinf, out)
    return where(infinite & (input < 0), neginf, out)


def _check_dims_arg(op, dim, ndim):
    """``dim`` (None, an int or a sequence of ints) checked here, so that an error names ``op``."""
    if dim is not None:
        dim_indices(dim if isinstance(dim, (tuple, list)) else (dim,), ndim, op)


def _check_flag(op, name, value):
    """A True/False argument (keepdim): a clear TypeError for a tensor or an array, whose truth is ambiguous."""
    if not isinstance(value, (bool, int)) or hasattr(value, "__array__"):
        raise TypeError(f"{op}(): argument '{name}' must be True or False, not {type(value).__name__}")


def _truths(op, input, other):
    """``input`` and ``other`` as bool tensors (nonzero is True), checked to broadcast together."""
    _check_tensor(op, input), _check_tensor(op, other, "other")
    check_broadcast(op, input.shape, other.shape)
    return [t if t.dtype is dt.bool else t != 0 for t in (input, other)]


def logical_and(input, other):
    """True where both are nonzero (nan counts as nonzero, as in Python): a bool tensor."""
    a, b = _truths("logical_and", input, other)
    return a & b


def logical_or(input, other):
    """True where either is nonzero: a bool tensor."""
    a, b = _truths("logical_or", input, other)
    return a | b


def logical_xor(input, other):
    """True where exactly one is nonzero: a bool tensor."""
    a, b = _truths("logical_xor", input, other)
    return a ^ b


# -------------------------------------------------------------------- reductions
def count_nonzero(input, dim=None):
    """How many items are not 0 (over ``dim``, an int or a tuple, or all): an int64 tensor."""
    _check_tensor("count_nonzero", input)
    _check_dims_arg("count_nonzero", dim, input.ndim)
    return (input != 0).sum(dim) if dim is not None else (input != 0).sum()


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """``sum`` with nans counted as 0. Gradient 1 where the input is not nan, 0 where it is."""
    _check_tensor("nansum", input)
    _check_dims_arg("nansum", dim, input.ndim)
    if not input.is_floating_point():
        return input.sum(dim, keepdim, dtype=dtype)
    return where(input.isnan(), 0.0, input).sum(dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the items that are not nan (nan where all are): ``nansum`` over their count."""
    _floating("nanmean", input)
    _check_dims_arg("nanmean", dim, input.ndim)
    if dtype is not None:
        input = input.to(dt.as_dtype(dtype, "nanmean"))
    counted = (~input.isnan()).sum(dim, keepdim) if dim is not None else (~input.isnan()).sum()
    return nansum(input, dim, keepdim) / counted


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(input.std(...), input.mean(...))`` over the same dims, as a tuple: see ``Tensor.std``."""
    _check_tensor("std_mean", input)
    if isinstance(dim, bool):  # (std_mean(x, True): the old unbiased= by position)
        dim, unbiased = None, dim
    _check_dims_arg("std_mean", dim, input.ndim)
    mean = input.mean() if dim is None else input.mean(dim, keepdim)
    return input.std(dim, unbiased, keepdim, correction=correction), mean


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(input.var(...), input.mean(...))`` over the same dims, as a tuple: see ``Tensor.var``."""
    _check_tensor("var_mean", input)
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    _check_dims_arg("var_mean", dim, input.ndim)
    mean = input.mean() if dim is None else input.mean(dim, keepdim)
    return input.var(dim, unbiased, keepdim, correction=correction), mean


def median(input, dim=None, keepdim=False):
    """The middle value: of all the items (a 0-d tensor), or along ``dim`` as (values, indices)
    (``return_types.median``). With an even count it is the lower of the two middle values, as PyTorch's (numpy's
    median averages them); a nan in the slice makes it nan (at the first nan's index). From a stable sort: its
    gradient goes to the item it came from (among equal values the first, which is also the index given)."""
    return _median(input, dim, keepdim, "median")


def nanmedian(input, dim=None, keepdim=False):
    """``median`` of the items that are not nan (nan where all are), as ``torch.nanmedian``."""
    return _median(input, dim, keepdim, "nanmedian")


def _median(input, dim, keepdim, name):
    _check_tensor(name, input)
    _check_flag(name, "keepdim", keepdim)
    x = input.reshape(-1) if dim is None or input.ndim == 0 else input
    d = 0 if dim is None or input.ndim == 0 else dim_index(dim, input.ndim, name)
    n = x.shape[d]
    if n == 0:
        if dim is None:
            return input.new_full((), float("nan")) if input.is_floating_point() else input.sum() * 0
        raise IndexError(f"{name}(): dim {d} of {tuple(input.shape)} is empty: the median of no numbers is undefined")
    values, indices = x.sort(d, stable=True)  # (numpy sorts nan last: the first nan is at n - number of nans)
    nans = x.isnan().sum(d, keepdim=True)
    if name == "nanmedian":  # the lower middle of the numbers before the nans (the first nan where all are)
        position = ((n - nans - 1) // 2).clamp(min=0)
    else:
        position = where(nans > 0, n - nans, (n - 1) // 2)
    value, index = values.gather(d, position), indices.gather(d, position)
    if dim is None:  # (the gradient shared evenly by the items equal to the median, as PyTorch's)
        return _shared_by_ties(x, value.reshape(()))
    if input.ndim == 0 or not keepdim:
        value, index = value.reshape(input.shape if input.ndim == 0 else value.shape[:d] + value.shape[d + 1:]), \
            index.reshape(input.shape if input.ndim == 0 else index.shape[:d] + index.shape[d + 1:])
    return return_types.median(value, index)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` and where it last occurs, as (values, indices) (``return_types.mode``);
    among equally frequent values the smallest, as PyTorch's. Its gradient goes to that last occurrence."""
    _check_tensor("mode", input)
    _check_flag("mode", "keepdim", keepdim)
    x = input.reshape(1) if input.ndim == 0 else input
    d = dim_index(dim, x.ndim, "mode")
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"mode(): dim {d} of {tuple(input.shape)} is empty: an empty slice has no mode")
    xp = array_module_of(x.array)
    rows = xp.moveaxis(x.array, d, -1).reshape(-1, n)  # one row per slice
    ordered = xp.sort(rows, axis=1)
    starts = xp.concatenate([xp.ones((rows.shape[0], 1), dtype=bool), ordered[:, 1:] != ordered[:, :-1]], axis=1)
    # each sorted item's run of equal values, numbered across all the rows, so one sorted array holds them all
    run = (xp.cumsum(starts, axis=1) + xp.arange(rows.shape[0])[:, None] * (n + 1)).reshape(-1)
    counts = (xp.searchsorted(run, run, side="right") - xp.searchsorted(run, run, side="left")).reshape(rows.shape)
    best = xp.argmax(counts, axis=1)[:, None]  # the first item of the most frequent run: the smallest value
    value = xp.take_along_axis(ordered, best, 1)
    last = n - 1 - xp.argmax((rows == value)[:, ::-1], axis=1)  # its last occurrence in the slice
    index = Tensor._make(last.reshape(x.shape[:d] + x.shape[d + 1:]).astype(np.int64), None).unsqueeze(d)
    values = x.gather(d, index)
    if input.ndim == 0:
        return return_types.mode(values.reshape(()), index.reshape(()))
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return return_types.mode(values, index)


def _shared_by_ties(items, value, dim=None):
    """``value`` (a max or a median of ``items``), its gradient given to every item equal to it: evenly over the ties
    (``dim`` None) or in full to each (along ``dim``, as cdist's max). Adds a term that is exactly 0 in value (the
    ties minus the value) and carries that gradient; an infinite or nan value keeps its plain gradient."""
    if not items.is_floating_point() or not bool(value.isfinite().all()):  # (integers have no gradient)
        return value
    level = value.detach() if dim is None else value.detach().unsqueeze(dim)
    ties = items == level
    zeros = where(ties, items - level, 0.0)
    if dim is None:
        return value.detach() + zeros.sum() / ties.sum()
    return value.detach() + zeros.sum(dim)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantile (a number in [0, 1], or a 1-D tensor of them: one result per q, along a new first dim) of
    all the items, or along ``dim``. Between the two sorted items around position q (n - 1), ``interpolation``
    chooses: "linear" (the default), "lower", "higher", "nearest" (half to even, as PyTorch's), "midpoint".
    Built from a sort and two gathers, so its gradient goes to those two items."""
    _floating("quantile", input)
    _check_flag("quantile", "keepdim", keepdim)
    if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise RuntimeError(f"quantile(): interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"got {interpolation!r}")
    if not isinstance(q, (Tensor, numbers.Real, list, tuple)):
        raise TypeError(f"quantile(): argument 'q' must be a number or a tensor of them, not {type(q).__name__}")
    qs = q if isinstance(q, Tensor) else input.new_tensor(q)
    if qs.ndim > 1:
        raise RuntimeError(f"quantile(): q must be a number or a 1-D tensor, got shape {tuple(qs.shape)}")
    if not bool(((qs >= 0) & (qs <= 1)).all()):  # (nan too)
        raise RuntimeError(f"quantile(): q must be in the range [0, 1], got {qs.tolist()}")
    input, = autocast_args("quantile", input)  # (float32 inside a CPU autocast, as PyTorch's)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else dim_index(dim, input.ndim, "quantile")
    n = x.shape[d] if x.ndim else 1
    if n == 0:
        raise RuntimeError("quantile(): the input is empty: the quantile of no numbers is undefined")
    ordered = x.sort(d).values if x.ndim else x.reshape(1)
    d = d if x.ndim else 0
    position = qs.to(input.dtype).reshape(-1) * (n - 1)
    low, high = position.floor(), position.ceil()
    if interpolation == "nearest":
        low = high = position.round()
    elif interpolation == "lower":
        high = low
    elif interpolation == "higher":
        low = high
    has_nan = ordered.isnan().any(d)  # (a nan in a slice makes its quantiles nan, as PyTorch's)
    results = []
    for k in range(position.shape[0]):
        lo, hi = int(low[k]), int(high[k])
        take = (slice(None),) * d
        a, b = ordered[take + (lo,)], ordered[take + (hi,)]
        weight = 0.5 if interpolation == "midpoint" else (position[k] - lo).item()
        out = where(has_nan, float("nan"), a if lo == hi else a.lerp(b, weight))  # (PyTorch's lerp: -inf stays)
        if keepdim:
            out = out.unsqueeze(d) if dim is not None else out.reshape((1,) * input.ndim)
        results.append(out)
    return stack(results) if qs.ndim == 1 else results[0]


# -------------------------------------------------------------------- products
def _check_dims(op, **tensors):
    for what, (t, ndim) in tensors.items():
        _check_tensor(op, t, what)
        if t.ndim != ndim:
            kind = {1: "a vector (1-D)", 2: "a matrix (2-D)"}[ndim]
            raise RuntimeError(f"{op}(): {what} must be {kind}, got shape {tuple(t.shape)}")


def _same_dtype(op, a, b):
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}(): expected both tensors to have the same dtype, got {a.dtype} and {b.dtype}; "
                           "convert one with .to(other.dtype)")


def dot(input, tensor):
    r"""\sum_i x_i y_i of two vectors of the same length: a 0-d tensor."""
    _check_dims("dot", input=(input, 1), tensor=(tensor, 1))
    _same_dtype("dot", input, tensor)
    if input.shape != tensor.shape:
        raise RuntimeError(f"dot(): the vectors must have the same length, got {input.shape[0]} and {tensor.shape[0]}")
    (input, tensor), region = as_one_op("dot", input, tensor)
    with region:
        return input @ tensor


def outer(input, vec2):
    r"""The matrix x_i y_j of two vectors: ``x.reshape(-1, 1) * y``."""
    return _outer("outer", input, vec2)


def ger(input, vec2):
    """PyTorch's old name for ``outer``."""
    return _outer("ger", input, vec2)


def _outer(op, input, vec2):
    _check_dims(op, input=(input, 1), vec2=(vec2, 1))
    return input.reshape(-1, 1) * vec2


def mv(input, vec):
    """A matrix times a vector: the vector of the rows' dot products with ``vec``."""
    _check_dims("mv", input=(input, 2), vec=(vec, 1))
    _same_dtype("mv", input, vec)
    _check_inner("mv", input, vec)
    (input, vec), region = as_one_op("mv", input, vec)
    with region:
        return input @ vec


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The distance between every row of ``x1`` (P, M) and every row of ``x2`` (R, M), as a (P, R) matrix (batched
    over leading dims); ``p`` the norm (2: Euclidean, 1: Manhattan, inf). Computed as the norm of the differences
    (PyTorch uses a matrix product for large Euclidean inputs, which agrees to rounding); the gradient at a zero
    distance is 0, as PyTorch's."""
    _floating("cdist", x1), _floating("cdist", x2)
    x1, x2 = autocast_args("cdist", x1, x2)  # (float32 inside autocast, as PyTorch's)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist(): x1 and x2 must be (.., P, M) and (.., R, M) with the same M (the features), got "
                           f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    check_broadcast("cdist", x1.shape[:-2], x2.shape[:-2])
    check_number("cdist", "p", p)
    if p < 0:
        raise RuntimeError(f"cdist(): p must be non-negative (the norm), got {p}")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"cdist(): {compute_mode!r} is not a valid value for compute_mode (the three modes compute "
                         "the same distances here)")
    differences = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == math.inf:  # (each coordinate that ties for the largest gets the full gradient, as PyTorch's)
        return _shared_by_ties(differences.abs(), differences.abs().amax(-1), dim=-1)
    return differences.norm(p=p, dim=-1)


def _scaled_sum(op, input, product, beta, alpha):
    """beta * input + alpha * product, skipping the factors that are 1; with beta 0, input is ignored (its nans
    and infs too), as PyTorch's addmm ignores it."""
    check_number(op, "beta", beta), check_number(op, "alpha", alpha)
    check_broadcast(op, input.shape, product.shape)
    product = product if alpha == 1 else product * alpha
    if beta == 0:  # input ignored, its nans and infs too, but its gradient 0 (not None), as PyTorch's
        return product + (input * 0).nan_to_num(0.0, 0.0, 0.0) if input.is_floating_point() else product
    return product + (input if beta == 1 else input * beta)


def _check_inner(op, matrix, other):
    """The columns of ``matrix`` must match the rows (or the length) of ``other``, with the sizes in the error."""
    if matrix.shape[1] != other.shape[0]:
        raise RuntimeError(f"{op}(): sizes do not match: {tuple(matrix.shape)} times {tuple(other.shape)} needs "
                           f"{matrix.shape[1]} == {other.shape[0]}")


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2): a Linear layer's ``bias + x @ W.T`` in one call (input broadcasts)."""
    _check_dims("addmm", mat1=(mat1, 2), mat2=(mat2, 2))
    _check_tensor("addmm", input)
    _check_inner("addmm", mat1, mat2)
    (input, mat1, mat2), region = as_one_op("addmm", input, mat1, mat2)
    with region:
        return _scaled_sum("addmm", input, mat1 @ mat2, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    _check_dims("addmv", mat=(mat, 2), vec=(vec, 1))
    _check_tensor("addmv", input)
    _check_inner("addmv", mat, vec)
    (input, mat, vec), region = as_one_op("addmv", input, mat, vec)
    with region:
        return _scaled_sum("addmv", input, mat @ vec, beta, alpha)


def _check_batches(op, batch1, batch2):
    _check_tensor(op, batch1, "batch1"), _check_tensor(op, batch2, "batch2")
    if batch1.ndim != 3 or batch2.ndim != 3 or batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"{op}(): expected batch1 (b, n, m) and batch2 (b, m, p), two 3-D tensors with the same b "
                           f"and m, but got {tuple(batch1.shape)} and {tuple(batch2.shape)}")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2): a product per matrix of the batch, (b, n, m) @ (b, m, p), with
    ``input`` added (it broadcasts to (b, n, p)); attention's scores plus their mask in one call."""
    _check_batches("baddbmm", batch1, batch2)
    _check_tensor("baddbmm", input)
    (input, batch1, batch2), region = as_one_op("baddbmm", input, batch1, batch2)
    with region:
        return _scaled_sum("baddbmm", input, batch1 @ batch2, beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_i batch1[i] @ batch2[i]: the batch's products summed into one (n, p) matrix."""
    _check_batches("addbmm", batch1, batch2)
    _check_tensor("addbmm", input)
    (input, batch1, batch2), region = as_one_op("addbmm", input, batch1, batch2)
    with region:
        return _scaled_sum("addbmm", input, (batch1 @ batch2).sum(0), beta, alpha)


def cov(input, *, correction=1, fweights=None, aweights=None):
    r"""The covariance matrix of the variables in the rows of ``input`` (observations in its columns; a 1-D input
    is one variable): C = (X - \bar{X})(X - \bar{X})^T / (N - correction)."""
    _check_tensor("cov", input)
    if input.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} "
                         "dimensions")
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov(): fweights and aweights are not covered by tinygrad_lite")
    check_number("cov", "correction", correction)
    x = input if input.is_floating_point() else input.to(dt.get_default_dtype())
    x = x.reshape(1, -1) if x.ndim < 2 else x
    centered = x - x.mean(1, keepdim=True)
    c = centered @ centered.mT / max(x.shape[1] - correction, 0)
    return c.reshape(()) if c.shape[0] == 1 else c  # (one variable: a number, as PyTorch's)


def corrcoef(input):
    r"""Pearson's correlation coefficients of the rows of ``input``: C_ij / \sqrt{C_ii C_jj}, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal().sqrt()
    return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1, 1)


# ---------------------------------------------------------------- (session 49) more of PyTorch's small functions
def fmax(input, other):
    """The larger of the two, elementwise, ignoring nan: a nan loses to a number (``maximum`` would give nan)."""
    _check_tensor("fmax", input), _check_tensor("fmax", other, "other")
    check_broadcast("fmax", input.shape, other.shape)
    return where((input >= other) | other.isnan(), input, other)  # (a tie's gradient to input, as PyTorch's)


def fmin(input, other):
    """The smaller of the two, elementwise, ignoring nan."""
    _check_tensor("fmin", input), _check_tensor("fmin", other, "other")
    check_broadcast("fmin", input.shape, other.shape)
    return where((input <= other) | other.isnan(), input, other)


def float_power(input, exponent):
    """input ** exponent computed in float64 (PyTorch's: the result is float64 whatever the inputs)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power(): one of input and exponent must be a Tensor, got {type(input).__name__} and "
                        f"{type(exponent).__name__}")
    for name, value in (("input", input), ("exponent", exponent)):
        if not isinstance(value, Tensor):
            check_number("float_power", name, value)
    base = input.double() if isinstance(input, Tensor) else input
    power = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(base, Tensor):
        return power.new_tensor(float(base)) ** power
    return base ** power


def true_divide(dividend, divisor):
    """``div``: true division (a float result for integers too)."""
    _check_tensor("true_divide", dividend, "dividend")
    if not isinstance(divisor, (Tensor, numbers.Number)):
        raise TypeError(f"true_divide(): argument 'divisor' must be a Tensor or a number, not {type(divisor).__name__}")
    return dividend.div(divisor)


def dist(input, other, p=2):
    """The p-norm of input - other (all elements): the distance between two points."""
    _check_tensor("dist", input), _check_tensor("dist", other, "other")
    check_number("dist", "p", p)
    return (input - other).norm(p)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a vector x: columns x^{N-1}, ..., x, 1 (increasing=True: 1, x, ..., x^{N-1})."""
    _check_tensor("vander", x)
    if x.ndim != 1:
        raise RuntimeError(f"vander(): x must be a one-dimensional tensor, got {x.ndim} dims")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    powers = x.new_tensor(np.arange(n) if increasing else np.arange(n)[::-1].copy(), dtype=dt.int64)
    column = x if x.dtype.is_floating_point or x.dtype == dt.bool else x.to(dt.int64)
    return column.unsqueeze(1) ** powers if n else x.new_zeros((x.shape[0], 0))


def trapezoid(y, x=None, *, dx=None, dim=-1):
    r"""The integral of y along ``dim`` by the trapezoid rule: \sum_i (y_i + y_{i+1}) / 2 (x_{i+1} - x_i), with
    the spacing given by ``x`` (the points) or ``dx`` (one step; 1 by default)."""
    return _trapezoids(y, x, dx, dim, "trapezoid").sum(dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running integrals of ``trapezoid``: one fewer than the points along ``dim``."""
    return _trapezoids(y, x, dx, dim, "cumulative_trapezoid").cumsum(dim)


def trapz(y, x=None, *, dx=None, dim=-1):
    """``trapezoid``, by PyTorch's older name."""
    return _trapezoids(y, x, dx, dim, "trapz").sum(dim)


def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) along ``dim``, without overflow: out_i = logaddexp(out_{i-1}, x_i), one step a position
    (a loop of the library's ``logaddexp``, whose gradient is the softmax weight of each term)."""
    _check_tensor("logcumsumexp", input)
    x = input if input.ndim else input.reshape(1)
    d = dim_index(dim, x.ndim, "logcumsumexp")
    if x.shape[d] == 0:
        return input.clone()
    running = [x.select(d, 0)]
    for i in range(1, x.shape[d]):
        running.append(running[-1].logaddexp(x.select(d, i)))
    out = stack(running, dim=d)
    return out if input.ndim else out.reshape(())


def _trapezoids(y, x, dx, dim, name):
    _check_tensor(name, y, "y")
    if x is not None:
        _check_tensor(name, x, "x")
    if dx is not None:
        check_number(name, "dx", dx)
    if y.ndim == 0:
        raise IndexError(f"{name}(): y must have at least one dim (the points to integrate along dim)")
    d = dim_index(dim, y.ndim, name)
    n = y.shape[d]
    heights = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2 if n else y
    if x is None:
        return heights * (1 if dx is None else dx)
    widths = x.narrow(-1 if x.ndim == 1 else d, 1, n - 1) - x.narrow(-1 if x.ndim == 1 else d, 0, n - 1)
    if x.ndim == 1 and y.ndim > 1:
        widths = widths.reshape([-1 if k == d else 1 for k in range(y.ndim)])
    return heights * widths


nansum, nanmean, count_nonzero = _numpy_names(nansum), _numpy_names(nanmean), _numpy_names(count_nonzero)
for _function in (clamp_min, clamp_max, tan, log10, log2, frac, logit, xlogy, nan_to_num, logical_and, logical_or,
                  logical_xor, count_nonzero, nansum, nanmean, median, nanmedian, mode, quantile, dot, outer, mv, addmm,
                  addmv, baddbmm, addbmm, cov, corrcoef, fmax, fmin, float_power, true_divide, dist, logcumsumexp):
    setattr(Tensor, _function.__name__, _function)
Tensor.ger = ger
# the functions take out=, as PyTorch's (the methods do not): torch.addmm(b, x, w, out=y)
tan, frac, logit, xlogy, nan_to_num, logical_and, logical_or, logical_xor, nanmean, quantile, dot, outer, ger, mv, \
    addmm, addmv, baddbmm, addbmm = (with_out(f) for f in (tan, frac, logit, xlogy, nan_to_num, logical_and,
                                                           logical_or, logical_xor, nanmean, quantile, dot, outer, ger,
                                                           mv, addmm, addmv, baddbmm, addbmm))
fmax, fmin, float_power, true_divide, logcumsumexp = (with_out(f) for f in (fmax, fmin, float_power, true_divide,
                                                                             logcumsumexp))
