r"""Cross-entropy (log-softmax and the negative log-likelihood) as one op, with the closed-form backward.

Every option of ``cross_entropy`` and ``nll_loss`` (class indices or probabilities, label smoothing, class weights,
ignore_index) only changes how much each log-probability counts. So the caller turns the target into one array
a_{n,c} of the input's shape (``_fused`` in ``nn/functional/loss.py``), and the loss of position n is

    l_n = -\sum_c a_{n,c} logp_{n,c}         logp = log_softmax(z) along the classes (or the input itself, for nll)

    class indices y_n:   a_{n,c} = (1 - eps) w_{y_n} [c = y_n] + (eps / C) w_c      (0 for every c if y_n is ignored)
    probabilities q_n:   a_{n,c} = w_c ((1 - eps) q_{n,c} + eps / C)
    (w_c = 1 without class weights, eps = 0 without label smoothing)

then reduced: 'none' keeps the l_n, 'sum' adds them, 'mean' divides their sum by D (the sum of w_{y_n} over the
targets that count, for class indices; the number of positions, for probabilities).

    forward                                   backward (g_n = dL/dl_n: g for 'none', g or g / D reduced; p = e^{logp})
    logp_{n,c} = z_{n,c} - \log \sum_k e^{z_{n,k}}   dL/dz_{n,c} = g_n (p_{n,c} \sum_k a_{n,k} - a_{n,c})
    l_n = -\sum_c a_{n,c} logp_{n,c}                (nll: dL/dlogp_{n,c} = -g_n a_{n,c})

For one class index without weights or smoothing this is the familiar softmax minus one-hot.
"""
import numpy as np

from ..autograd.function import Function
from .activation import classes_back, classes_first


class CrossEntropy(Function):
    r"""L = reduce_n(-\sum_c a_{n,c} logp_{n,c}); dL/dz = g_n (softmax(z) \sum_k a_{n,k} - a): see the module.

    ``x`` holds logits (``logits=True``: cross_entropy) or log-probabilities (``logits=False``: nll_loss), with
    the classes along ``dim``; ``a`` (the target weights, an array of x's shape) and ``denominator`` (D) are
    constants. Like PyTorch's log_softmax it saves its log-probabilities, not x, so nothing of x's is at risk.
    """
    def forward(self, x, a, dim, reduction, denominator, logits):
        f, a = classes_first(x, dim), classes_first(a, dim)  # the classes along dim 0: (C, N, d1, ...)
        if logits:
            f = f - f.max(axis=0)                             # shifted by the max: every e^f <= 1
            f -= np.log(np.exp(f).sum(axis=0))                # minus the log-sum-exp: log-probabilities
        # l_n, one per position (N, d1, ...); 0 - s rather than -s, so that an ignored position's 0 is not -0
        loss = 0 - (a * f).sum(axis=0)
        self.save_for_backward(f if logits else None, a)
        self.dim, self.shape, self.reduction, self.denominator = dim, x.shape, reduction, denominator
        if reduction == "none":
            return loss
        total = loss.sum()
        return (total if reduction == "sum" else total / denominator).astype(x.dtype)

    def backward(self, g):
        logp, a = self.saved_tensors
        if self.reduction == "mean":
            g = g / self.denominator
        if logp is None:                                      # nll: the input was logp itself
            grad = -g * a
        else:
            grad = g * (np.exp(logp) * a.sum(axis=0) - a)
        return classes_back(grad, self.dim, self.shape)
