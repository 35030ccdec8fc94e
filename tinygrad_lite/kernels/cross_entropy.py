r"""Cross-entropy on a GPU: ``CrossEntropy`` (``ops/cross_entropy.py``) as a few fused kernels.

The formulas are ``ops/cross_entropy.py``'s, computed in the same order, with the classes along the last dim (rows
z_n of C scores, one per position; the target's weights a_n of the same shape):

    target weights (class indices y_n, label smoothing eps, class weights w; ``make_target_weights``, one kernel):
                   a_{n,c} = [c = y_n] (1 - eps) w_{y_n} + [y_n counts] (eps / C) w_c
    forward        t_n = \max_c z_{n,c},   l_n = \log \sum_c e^{z_{n,c} - t_n}         (``make_log_sum_exp``)
                   logp_{n,c} = (z_{n,c} - t_n) - l_n                                (``make_log_softmax``)
                   'none': loss_n = -\sum_c a_{n,c} logp_{n,c}                       (``make_row_loss``)
                   'sum', 'mean': S = -\sum_{n,c} a_{n,c} logp_{n,c}, L = S or S / D  (``make_total``,
                                                                                      ``make_reduced``)
    backward       dL/dz_{n,c} = g_n (e^{logp_{n,c}} \sum_k a_{n,k} - a_{n,c})       (``make_logits_gradient``;
                   0 g_n where \sum_k a_{n,k} = 0, an ignored target's row, whatever D: 'mean' over targets that
                   are all ignored, whose loss is 0/0, has a zero gradient, as the CPU's and PyTorch's)

where the CPU builds a from about fifteen array ops and runs the loss as a dozen more, each a kernel launch on a
GPU (with 10 classes the arrays are small, and the launches are the cost). The one difference of order: 'sum' and
'mean' add every a logp in one reduction, where the CPU adds each row's and then the rows (equal to rounding).

Targets out of range (class indices: ``nn/functional/loss.py`` counts them on the GPU, ``bad``) make the loss and
every gradient nan, in the same kernels (``make_reduced``, ``make_logits_gradient``): the loss is poisoned where the
CPU would raise at once, and reading it raises the CPU's error.
"""
import numpy as np

from ..device import array_module_of, on_device_of
from ..ops.cross_entropy import CrossEntropy
from . import counting, fused


def target_weights(t, keep, weight, dim, classes, label_smoothing, dtype):
    """The weights a_{n,c} (the input's shape, classes along ``dim``) and the 'mean' denominator D = \\sum_n w_{y_n}
    (a 0-d array, on the GPU) for class indices ``t`` (int64, the positions' shape); ``keep``: t != ignore_index."""
    xp = array_module_of(t)
    along = [1] * (t.ndim + 1)
    along[dim] = classes  # the shape of a per-class vector, along the classes
    with on_device_of(t):
        each_class = counting(xp, classes, tuple(along), np.int64)
    w = w_y = None
    if weight is None:
        denominator = keep.sum(dtype=dtype)
    else:
        w = weight.astype(dtype)
        w_y = w[xp.where(keep, t, 0)] * keep  # w_{y_n}, 0 where y_n is ignored
        denominator = w_y.sum()
        w_y, w = xp.expand_dims(w_y, dim), w.reshape(along)
    number = np.dtype(dtype).type
    a = fused(xp, make_target_weights)(xp.expand_dims(t, dim), each_class, xp.expand_dims(keep, dim), w_y, w,
                                       number(1 - label_smoothing),
                                       number(label_smoothing / classes) if label_smoothing > 0 else None)
    return a, denominator


class CrossEntropyCuda(CrossEntropy):
    r"""``CrossEntropy`` of logits on a GPU: L = reduce_n(-\sum_c a_{n,c} logp_{n,c}); dL/dz = g_n (softmax(z)
    \sum_k a_{n,k} - a), as fused kernels (see the module). Like the CPU's, it saves its log-probabilities, not z.
    ``bad`` (a count of targets out of range on the GPU, or None) makes the loss and its gradient nan where it is not
    0: the CPU's op has no such argument (the CPU checks the targets before)."""

    def forward(self, x, a, dim, reduction, denominator, logits=True, bad=None):
        xp, number = array_module_of(x), x.dtype.type
        z, a = _rows(x, dim), _rows(a, dim)
        top = z.max(axis=1, keepdims=True)
        lse = fused(xp, make_log_sum_exp)(z, top).reshape(top.shape)
        logp = fused(xp, make_log_softmax)(z, top, lse)
        self.save_for_backward(logp, a)
        self.dim, self.shape, self.reduction, self.denominator = dim, x.shape, reduction, denominator
        self.bad, self.nan = bad, number(np.nan)
        if reduction == "none":
            loss = fused(xp, make_row_loss)(a, logp).reshape(_positions(x.shape, dim))
            return loss if bad is None else fused(xp, make_reduced)(loss, None, bad, self.nan)
        total = fused(xp, make_total)(a, logp)  # (one reduction over every position: the sum of the l_n)
        denominator = denominator if reduction == "mean" else None
        if denominator is None and bad is None:
            return total.astype(x.dtype, copy=False)
        with np.errstate(invalid="ignore"):  # (0/0 when every target is ignored: nan, as PyTorch's)
            return fused(xp, make_reduced)(total, denominator, bad, self.nan).astype(x.dtype, copy=False)

    def backward(self, g):
        logp, a = self.saved_tensors
        xp = array_module_of(logp)
        g = g.reshape(-1, 1) if self.reduction == "none" else g
        grad = fused(xp, make_logits_gradient)(g, self.denominator if self.reduction == "mean" else None, logp, a,
                                               a.sum(axis=1, keepdims=True), self.bad, self.nan)
        grad = grad.reshape(_positions(self.shape, self.dim) + (self.shape[self.dim],))
        return xp.ascontiguousarray(xp.moveaxis(grad, -1, self.dim))  # (the classes back in their dim)


def _rows(x, dim):
    """``x`` as rows of classes: the classes moved last, one row per position (a view where no copy is needed)."""
    return array_module_of(x).moveaxis(x, dim, -1).reshape(-1, x.shape[dim])


def _positions(shape, dim):
    return tuple(shape[:dim]) + tuple(shape[dim + 1:])


def make_target_weights(xp):
    r"""a = [c = y_n] ((1 - eps) w_{y_n}) + [y_n counts] ((eps / C) w_c) (w_{y_n} is [y_n counts] without class
    weights; the second term only with label smoothing: ``off`` = eps / C, else None)."""
    def target_weights(t, each_class, keep, w_y, w, on, off):
        a = (t == each_class) * (on * (keep if w_y is None else w_y))
        if off is not None:
            a = a + keep * (off if w is None else off * w)
        return a
    return target_weights


def make_log_sum_exp(xp):
    r"""l_n = \log \sum_c e^{z_{n,c} - t_n} (t_n = \max_c z_{n,c}: every e^{...} <= 1)."""
    return lambda z, top: xp.log(xp.sum(xp.exp(z - top), axis=1))


def make_log_softmax(xp):
    r"""logp = (z - t) - l."""
    return lambda z, top, lse: (z - top) - lse


def make_row_loss(xp):
    r"""loss_n = -\sum_c a_{n,c} logp_{n,c}."""
    return lambda a, logp: -xp.sum(a * logp, axis=1)


def make_total(xp):
    r"""S = -\sum_{n,c} a_{n,c} logp_{n,c}: the sum of the l_n, as one reduction over them all."""
    return lambda a, logp: -xp.sum(a * logp)


def make_reduced(xp):
    r"""L = S / D ('mean'; D None for 'sum'), made nan where ``bad`` (a count on the GPU; None: no check) is not 0.
    For 'none' the same kernel poisons the l_n (S the l_n, D None)."""
    def reduced(total, denominator, bad, nan):
        loss = total if denominator is None else total / denominator
        return loss if bad is None else xp.where(bad > 0, nan, loss)
    return reduced


def make_logits_gradient(xp):
    r"""dL/dz = g (e^{logp} \sum_k a_k - a), with g / D for 'mean' (D: the denominator; None otherwise); 0 g in a
    row whose weights are all 0 (an ignored target); nan everywhere where ``bad`` (None: no check) is not 0."""
    def logits_gradient(g, denominator, logp, a, a_sum, bad, nan):
        scaled = g if denominator is None else g / denominator
        grad = xp.where(a_sum == 0, g * 0, scaled * (xp.exp(logp) * a_sum - a))
        return grad if bad is None else xp.where(bad > 0, nan, grad)
    return logits_gradient


def make_out_of_range(xp):
    r"""How many class-index targets are out of range: \sum_n [y_n \ne ignore_index and (y_n < 0 or y_n \ge C)], one
    reduction (``nn/functional/loss.py``'s check on a GPU, which reads nothing back)."""
    return lambda t, ignore_index, classes: xp.sum((t != ignore_index) & ((t < 0) | (t >= classes)))


def make_poison(xp):
    r"""The factor that poisons a loss when targets are out of range: nan if ``bad`` > 0, else 1 (``nan`` and ``one``
    given in the loss's dtype)."""
    return lambda bad, nan, one: xp.where(bad > 0, nan, one)
