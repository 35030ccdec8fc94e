r"""Lesson 02, loss functions: the checks of the learner's mse, huber, bce_with_logits, log_softmax, cross_entropy.

The learner's functions take tinygrad_lite tensors (float32, as in the notebook) and return a tensor; the reference
of each is the library's own function from ``tinygrad_lite.nn.functional``, which is tested against PyTorch
elsewhere. The hidden cases are chosen so that the usual mistakes show: 2-D inputs and several batch sizes (a sum
in place of a mean), negative errors and errors on both sides of delta (Huber), logits of +-1000 (exp overflows
in a naive formula), logits far apart (log(softmax) underflows to -inf), 1-D and 3-D inputs (the wrong dim).
"""
import numpy as np

from ... import arange, tensor, where
from ...nn import functional as F
from ..checks import Case, Exercise, Mistake, register


def _f32(a):
    return tensor(np.asarray(a, dtype=np.float32))


def _classes(a):
    return tensor(np.asarray(a, dtype=np.int64))


# -------------------------------------------------------------------- 02.mse
def _mse_cases(rng):
    return [
        Case((_f32([2.5, 0.0, 2.0, 8.0]), _f32([3.0, -0.5, 2.0, 7.0])), "4 predictions", visible=True),
        Case((_f32(rng.standard_normal(10)), _f32(rng.standard_normal(10))), "10 random predictions"),
        Case((_f32(rng.standard_normal((4, 3))), _f32(rng.standard_normal((4, 3)))), "a 4x3 batch: 3 outputs each"),
        Case((_f32(100 * rng.standard_normal(6)), _f32(100 * rng.standard_normal(6))), "large values"),
        Case((_f32([-1.0, -2.0, -3.0]), _f32([1.0, 2.0, 3.0])), "all errors negative"),
        Case((_f32([1.5, -0.5]), _f32([1.5, -0.5])), "perfect predictions: the loss is 0"),
    ]


register(Exercise(
    "02.mse",
    reference=lambda input, target: F.mse_loss(input, target),
    cases=_mse_cases,
    mistakes=[
        Mistake(lambda x, y: (x - y).square(),
                "return one number, the mean of the squared errors (.mean() at the end), not one loss per element"),
        Mistake(lambda x, y: (x - y).abs().mean(),
                "that is the mean *absolute* error (L1 loss): square each difference, (input - target) ** 2"),
        Mistake(lambda x, y: (x - y).mean(),
                "square each difference before averaging: without the square, positive and negative errors cancel"),
        Mistake(lambda x, y: (x - y).square().mean().sqrt(),
                "that is the root of the MSE (RMSE): the MSE itself has no square root"),
    ],
    points=1, rtol=1e-5, atol=1e-6,
))


# -------------------------------------------------------------------- 02.huber
def _huber_cases(rng):
    return [
        Case((_f32([2.5, 0.0, 2.0, 8.0]), _f32([3.0, -0.5, 2.0, 4.0])), "delta = 1, one large error", visible=True),
        Case((_f32(2 * rng.standard_normal(12)), _f32(2 * rng.standard_normal(12))), "delta = 1, random errors"),
        Case((_f32(2 * rng.standard_normal((4, 3))), _f32(np.zeros((4, 3)))), "delta = 0.5, a 4x3 batch",
             {"delta": 0.5}),
        Case((_f32([-5.0, -1.0, 0.5, 3.0, 6.0]), _f32(np.zeros(5))), "delta = 2, large negative errors",
             {"delta": 2.0}),
        Case((_f32(0.1 * rng.standard_normal(8)), _f32(0.1 * rng.standard_normal(8))), "delta = 3, only small errors",
             {"delta": 3.0}),
    ]


def _huber_elementwise(x, y, delta=1.0):
    d = (x - y).abs()
    return where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


register(Exercise(
    "02.huber",
    reference=lambda input, target, delta=1.0: F.huber_loss(input, target, delta=delta),
    cases=_huber_cases,
    mistakes=[
        Mistake(_huber_elementwise,
                "return one number, the mean of the per-element losses (.mean() at the end)"),
        Mistake(lambda x, y, delta=1.0: _huber_elementwise(x, y, 1.0).mean(),
                "use the `delta` argument: the switch from squared to absolute error happens at |error| = delta, "
                "and the linear piece has slope delta"),
        Mistake(lambda x, y, delta=1.0: (_huber_elementwise(x, y, delta) / delta).mean(),
                "you divided by delta: that is smooth_l1_loss(beta=delta). Huber's pieces are 0.5 d^2 and "
                "delta * (|d| - delta/2), with no division"),
        Mistake(lambda x, y, delta=1.0: where((x - y).abs() < delta, 0.5 * (x - y).square(),
                                              delta * (x - y).abs()).mean(),
                "the linear piece is delta * (|d| - delta/2): without the - delta/2 the two pieces do not meet at "
                "|d| = delta, and large errors cost too much"),
        Mistake(lambda x, y, delta=1.0: where((x - y).abs() < delta, (x - y).square(),
                                              delta * ((x - y).abs() - 0.5 * delta)).mean(),
                "the quadratic piece is 0.5 * d^2 (with the 1/2 its slope d reaches delta exactly where the linear "
                "piece takes over)"),
        Mistake(lambda x, y, delta=1.0: where((x - y) < delta, 0.5 * (x - y).square(),
                                              delta * ((x - y) - 0.5 * delta)).mean(),
                "use the absolute error |d| = |input - target| in both the comparison with delta and the linear "
                "piece: a large negative error must cost as much as a large positive one"),
    ],
    points=2, rtol=1e-5, atol=1e-6,
))


# -------------------------------------------------------------------- 02.bce_with_logits
def _bce_cases(rng):
    return [
        Case((_f32([2.0, -1.0, 0.0, 3.0]), _f32([1.0, 0.0, 1.0, 0.0])), "4 logits", visible=True),
        Case((_f32(2 * rng.standard_normal(10)), _f32(rng.integers(0, 2, 10))), "10 random logits"),
        Case((_f32(3 * rng.standard_normal((4, 3))), _f32(rng.integers(0, 2, (4, 3)))),
             "a 4x3 batch: 3 yes/no labels per sample"),
        Case((_f32([1000.0, -1000.0, 30.0, -30.0, 200.0, -200.0]), _f32([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])),
             "large logits: confident, right and wrong"),
        Case((_f32(rng.standard_normal(6)), _f32(rng.uniform(0, 1, 6))), "soft targets between 0 and 1"),
    ]


def _bce_naive(x, y):
    p = x.sigmoid()
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


register(Exercise(
    "02.bce_with_logits",
    reference=lambda logits, target: F.binary_cross_entropy_with_logits(logits, target),
    cases=_bce_cases,
    mistakes=[
        Mistake(_bce_naive,
                "the textbook formula breaks for large logits: sigmoid(1000) rounds to exactly 1.0, log(1 - 1) is "
                "-inf, and 0 * -inf is nan. Use the stable form max(x, 0) - x*y + log(1 + exp(-|x|)), which "
                "never takes exp of a positive number"),
        Mistake(lambda x, y: ((x.exp()).log1p() - x * y).mean(),
                "log(1 + exp(x)) overflows: exp(x) is inf for x > 88 in float32. Write it as "
                "max(x, 0) + log(1 + exp(-|x|)); check that the exp gets -|x| (the absolute value), not -x"),
        Mistake(lambda x, y: (x.maximum(0) - x * y + (-x).exp().log1p()).mean(),
                "the last term is log(1 + exp(-|x|)), with the absolute value |x| = x.abs(): with -x it is wrong "
                "for negative logits (and exp(-x) overflows for x < -88)"),
    ],
    points=2, rtol=1e-5, atol=1e-6,
))


# -------------------------------------------------------------------- 02.log_softmax
def _log_softmax_cases(rng):
    return [
        Case((_f32([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]),), "2 samples, 3 classes", visible=True),
        Case((_f32(rng.standard_normal((4, 5))),), "4 samples, 5 classes"),
        Case((_f32(rng.standard_normal(6)),), "one sample, shape (6,)"),
        Case((_f32(rng.standard_normal((2, 3, 4))),), "shape (2, 3, 4): classes are the last dim"),
        Case((_f32([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -999.0]]),), "large logits, +-1000"),
        Case((_f32([[1000.0, 0.0, -5.0], [50.0, -60.0, 0.0]]),), "logits far apart: tiny probabilities"),
    ]


register(Exercise(
    "02.log_softmax",
    reference=lambda logits: F.log_softmax(logits, dim=-1),
    cases=_log_softmax_cases,
    mistakes=[
        Mistake(lambda x: x.softmax(-1).log(),
                "log(softmax(x)) underflows: a probability below ~1e-45 rounds to 0 in float32 and log(0) = -inf. "
                "Never form the probabilities: compute x - m - log(sum(exp(x - m))), m the max of each row"),
        Mistake(lambda x: x.log_softmax(0),
                "normalise along the last dim (dim=-1, the classes), not dim 0: exp of each row must sum to 1"),
        Mistake(lambda x: x - x.amax(-1, keepdim=True),
                "subtracting the max is only the first step: also subtract log(sum(exp(x - m))) so that the "
                "probabilities exp(result) sum to 1"),
    ],
    points=2, rtol=1e-5, atol=1e-6,
))


# -------------------------------------------------------------------- 02.cross_entropy
def _cross_entropy_cases(rng):
    return [
        Case((_f32([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]), _classes([0, 2])), "2 samples, 3 classes", visible=True),
        Case((_f32(rng.standard_normal((8, 5))), _classes(rng.integers(0, 5, 8))), "8 samples, 5 classes"),
        Case((_f32(rng.standard_normal((1, 4))), _classes([3])), "a batch of one sample"),
        Case((_f32(3 * rng.standard_normal((5, 10))), _classes(rng.integers(0, 10, 5))), "5 samples, 10 classes"),
        Case((_f32([[1000.0, 1001.0, 1002.0, 999.0], [-1000.0, 0.0, 1000.0, 5.0], [0.0, 0.0, 0.0, 0.0]]),
              _classes([2, 0, 1])), "large logits, +-1000"),
    ]


def _picked(logp, target):
    return logp[arange(len(target)), target]


register(Exercise(
    "02.cross_entropy",
    reference=lambda logits, target: F.cross_entropy(logits, target),
    cases=_cross_entropy_cases,
    mistakes=[
        Mistake(lambda z, t: _picked(z.log_softmax(1), t).mean(),
                "forgot the minus sign: the loss is -log p(true class). log p <= 0, so the loss must be >= 0"),
        Mistake(lambda z, t: -_picked(z.softmax(1), t).mean(),
                "use log-probabilities (log_softmax), not probabilities (softmax): the loss is -log p"),
        Mistake(lambda z, t: -(z.log_softmax(1) * F.one_hot(t, z.shape[1])).mean(),
                "average over the batch only: pick one log-probability per sample (N numbers) and take their "
                "mean. A mean over all N x C entries also divides by the number of classes C"),
        Mistake(lambda z, t: -_picked(z.log_softmax(0), t).mean(),
                "log_softmax must run over the classes (dim=1, each row), not over the batch (dim=0)"),
        Mistake(lambda z, t: -z.log_softmax(1)[:, t].mean(),
                "logp[:, target] picks whole columns (an N x N block). Pick one entry per row: "
                "logp[tl.arange(N), target], the row numbers paired with the classes"),
    ],
    points=2, rtol=1e-5, atol=1e-6,
))
