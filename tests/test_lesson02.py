"""Lesson 02 (loss functions): its right answers, its wrong answers with the message each must get, and its texts.

tests/test_lessons.py runs the generic checks of every lesson on the data here (SOLUTIONS pass, ALSO_RIGHT pass,
WRONG fail with their texts, ERRORS are errors with theirs, every hint tier is reached, the generic wrong answers
derived from SOLUTIONS are refused, the notebook's cells and the released stubs). This file adds what is lesson
02's own: the misfires of issue 7 no longer happen, the example each exercise is checked on first is shown next to
it with its answer, and no hint or exercise text holds a finished line of the solution.
"""
import numpy as np
import pytest
from lesson_helpers import (
    ALLOWS,
    assert_fails_with,
    exercise_cells,
    notebooks,
    verdict,
)

import tinygrad_lite as tl
from tinygrad_lite import nn
from tinygrad_lite.course.checks import FAILED, as_numpy, compare_arrays, diagnose, get_exercise
from tinygrad_lite.course.notebooks import meta, read_notebook

LESSON = "02_loss_functions"
SOLUTION, RELEASED = notebooks(LESSON)
IDS = ["02.mse", "02.huber", "02.bce_with_logits", "02.log_softmax", "02.cross_entropy"]
F = nn.functional
NAMES = {"np": np, "tl": tl, "nn": nn, "F": F}  # what the notebook has imported before its exercise cells


# -------------------------------------------------------------------- right answers, written as a learner would
def mse(input, target):  # noqa: A002
    return ((input - target) ** 2).mean()


def huber(input, target, delta=1.0):  # noqa: A002
    d = (input - target).abs()
    return tl.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)).mean()


def bce_with_logits(logits, target):
    m = logits.clamp(min=0)
    return (m - logits * target + ((-m).exp() + (logits - m).exp()).log()).mean()


def log_softmax(logits):
    shifted = logits - logits.amax(dim=-1, keepdim=True)
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def cross_entropy(logits, target):
    return -log_softmax(logits)[tl.arange(len(target)), target].mean()


SOLUTIONS = {"02.mse": mse, "02.huber": huber, "02.bce_with_logits": bce_with_logits,
             "02.log_softmax": log_softmax, "02.cross_entropy": cross_entropy}


def _huber_by_clipping(x, y, delta=1.0):
    d = (x - y).abs()
    q = d.clamp(max=delta)          # the part of the error inside the quadratic zone
    return (0.5 * q ** 2 + delta * (d - q)).mean()


def _cross_entropy_loop(z, t):
    logp = log_softmax(z)
    return -sum(logp[n, int(t[n].item())] for n in range(len(t))) / len(t)


def _mse_in_place_on_a_difference(input, target):  # noqa: A002
    d = input - target   # a new tensor: squaring it in place leaves the caller's tensors as they are
    d.mul_(d.clone())
    return d.mean()


def _huber_masks(x, y, delta=1.0):
    d = (x - y).abs()
    small = (d < delta).to(d.dtype)  # 1 where the quadratic piece applies, 0 elsewhere, in the inputs' dtype
    return (small * 0.5 * d ** 2 + (1 - small) * delta * (d - 0.5 * delta)).mean()


def _huber_float32_masks(x, y, delta=1.0):
    d = (x - y).abs()
    small = (d < delta).float()  # float32 whatever d's dtype: (1 - small) * delta rounds delta to float32
    return (small * 0.5 * d ** 2 + (1 - small) * delta * (d - 0.5 * delta)).mean()


def _bce_two_softplus_terms(x, y):
    def softplus(z):  # log(1 + e^z), stably: shifted by m = max(z, 0), which cancels (right slope at 0 too)
        m = z.relu()
        return m + ((-m).exp() + (z - m).exp()).log()
    return (y * softplus(-x) + (1 - y) * softplus(x)).mean()


def _bce_where_for_minus_abs(x, y):
    """The textbook form with -|x| written as a where whose pick at 0 matches clamp's (slope -1 and 1 there)."""
    return (x.clamp(min=0) - x * y + tl.where(x >= 0, -x, x).exp().log1p()).mean()


def _log_softmax_with_logsumexp_written_out(z):
    m = z.max(dim=-1, keepdim=True).values.detach()  # a constant shift: the gradient is the same
    return z - (m + (z - m).exp().sum(dim=-1, keepdim=True).log())


ALSO_RIGHT = [
    ("02.mse", lambda x, y: (x - y).square().sum() / x.numel()),
    ("02.mse", lambda x, y: ((x - y) * (x - y)).mean()),
    ("02.mse", lambda x, y: tl.mean(tl.pow(tl.sub(x, y), 2))),  # the functional forms
    ("02.mse", _mse_in_place_on_a_difference),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() <= delta, 0.5 * (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)).mean()),
    ("02.huber", _huber_by_clipping),
    ("02.huber", _huber_masks),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + tl.log(tl.exp(-m) + tl.exp(x - m))).mean())(
        tl.maximum(x, tl.zeros_like(x)))),
    ("02.bce_with_logits", _bce_two_softplus_terms),
    ("02.bce_with_logits", _bce_where_for_minus_abs),
    ("02.log_softmax", lambda z: (lambda m: z - m - tl.log(tl.sum(tl.exp(z - m), dim=-1, keepdim=True)))(
        tl.amax(z, dim=-1, keepdim=True))),  # the functional forms (the library's logsumexp is forbidden)
    ("02.log_softmax", lambda z: z - z.max(dim=-1, keepdim=True).values
     - (z - z.max(dim=-1, keepdim=True).values).exp().sum(dim=-1, keepdim=True).log()),
    ("02.log_softmax", _log_softmax_with_logsumexp_written_out),
    ("02.cross_entropy", lambda z, t: -(log_softmax(z) * F.one_hot(t, z.shape[1]).float()).sum(dim=1).mean()),
    ("02.cross_entropy", lambda z, t: -z.log_softmax(dim=1).gather(1, t.unsqueeze(1)).mean()),  # the method is fine
    ("02.cross_entropy", _cross_entropy_loop),
]


# -------------------------------------------------------------------- wrong answers and the message each must get
def _pick(logp, target):
    return logp[tl.arange(len(target)), target]


def _naive_log_softmax(z):
    return z - z.exp().sum(dim=-1, keepdim=True).log()


def _log_softmax_global_max(z):
    shifted = z - z.amax()
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def _log_softmax_max_pair(z):
    shifted = z - z.max(dim=-1, keepdim=True)       # the (values, indices) pair, not the values
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def _bce_textbook_clamped(eps):
    def wrong(x, y):
        p = x.sigmoid().clamp(eps, 1 - eps)
        return -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    return wrong


def _bce_both_branches(x, y):
    """Right values, but tl.where computes both branches: exp(-x) overflows for x = -1000 (and its gradient is nan)."""
    positive = x - x * y + (-x).exp().log1p()
    negative = -x * y + x.exp().log1p()
    return tl.where(x >= 0, positive, negative).mean()


def _mse_in_place(input, target):  # noqa: A002
    input -= target  # noqa: A001  (writes into the caller's predictions)
    return (input ** 2).mean()


def _huber_in_place(input, target, delta=1.0):  # noqa: A002
    d = input.sub_(target).abs()
    return tl.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)).mean()


def _log_softmax_in_place(logits):
    logits -= logits.amax(dim=-1, keepdim=True)      # the caller's logits are shifted too
    return logits - logits.exp().sum(dim=-1, keepdim=True).log()


def _cross_entropy_in_place(logits, target):
    logits -= logits.amax(dim=1, keepdim=True)
    logp = logits - logits.exp().sum(dim=1, keepdim=True).log()
    return -_pick(logp, target).mean()


def _bce_in_place(logits, target):
    xy = target.mul_(logits)                         # the caller's targets now hold x * y
    m = logits.clamp(min=0)
    return (m - xy + ((-m).exp() + (logits - m).exp()).log()).mean()


NOT_A_TENSOR, NO_GRAPH, IN_PLACE = "where a tensor was expected", "not connected to the graph", "in place"
UNSTABLE = "numpy warned inside your function: overflow"


def _log_softmax_clamped_shift(z):  # bce_with_logits' shift, max(z, 0), for log-sum-exp
    m = z.amax(dim=-1, keepdim=True).clamp(min=0)
    return z - m - (z - m).exp().sum(dim=-1, keepdim=True).log()


WRONG = [
    # 02.mse: not a tensor, no graph, written into its input
    ("02.mse", lambda x, y: ((x.detach().numpy() - y.detach().numpy()) ** 2).mean(), NOT_A_TENSOR, "has no graph"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean().item(), NOT_A_TENSOR, "Python number"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean().detach().numpy(), "numpy.ndarray", "has no graph"),
    ("02.mse", lambda x, y: ((x - y) ** 2).tolist(), "you returned a list"),
    ("02.mse", lambda x, y: tl.tensor(((x.detach().numpy() - y.detach().numpy()) ** 2).mean()), NO_GRAPH),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean().detach(), NO_GRAPH),
    ("02.mse", _mse_in_place, IN_PLACE, "`input`"),
    # 02.mse: the loss itself
    ("02.mse", lambda x, y: ((x - y) ** 2).sum(), "4 times too large: a sum where a mean was needed"),
    ("02.mse", lambda x, y: 0.5 * ((x - y) ** 2).mean(), "off by a constant factor (0.5 times"),
    ("02.mse", lambda x, y: -((x - y) ** 2).mean(), "your loss is negative, and a loss never is"),
    ("02.huber", lambda x, y, delta=1.0: -huber(x, y, delta), "your loss is negative, and a loss never is"),
    ("02.mse", lambda x, y: (x - y) ** 2, "a loss is a single number, shape (): you returned one value per"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean().reshape(1), "a loss is a single number, shape (), not a tensor"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean(dim=0, keepdim=True) if x.ndim == 1 else ((x - y) ** 2).mean(),
     "e.g. from .mean() over everything"),
    ("02.mse", lambda x, y: (x - y).abs().mean(), "mean *absolute* error (L1 loss), or, the same number"),
    ("02.mse", lambda x, y: (x - y).mean(), "positive and negative errors cancel"),
    ("02.mse", lambda x, y: (x - y).mean() ** 2, "you squared the mean error"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean() ** 0.5, "root of the MSE (RMSE)"),
    ("02.mse", lambda x, y: ((x - y) ** 2).sum() / len(x), "you divided by len(input), the number of rows"),
    ("02.mse", lambda x, y: (x ** 2).mean(), "expected"),                               # the target ignored
    # 02.huber
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta).detach().numpy(), "numpy.ndarray", "has no graph"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta).item(), NOT_A_TENSOR),
    ("02.huber", lambda x, y, delta=1.0: tl.tensor(huber(x, y, delta).detach().numpy()), NO_GRAPH),
    ("02.huber", _huber_in_place, IN_PLACE, "`input`"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta) * x.numel(), "4 times too large: a sum"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta) * x.numel() / len(x), "you divided by len(input)"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta) * x.numel() / x.shape[-1], "4 times too large",
     "a mean divided by too small a count"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)),
     "you returned one loss per element"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta).reshape(1), "a loss is a single number, shape (), not"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y), "your result does not change with `delta`"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta) / delta, "that is smooth_l1_loss(beta=delta)"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  delta * (x - y).abs()).mean(),
     "your two pieces do not meet at |d| = delta"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  delta * (x - y).abs() - 0.5 * delta).mean(),
     "check the brackets of the linear piece"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)).mean(),
     "the quadratic piece is *half* the square"),
    ("02.huber", lambda x, y, delta=1.0: tl.where(x - y < delta, 0.5 * (x - y) ** 2,
                                                  delta * (x - y - 0.5 * delta)).mean(),
     "a large negative error must cost as much as a large positive one"),
    # 02.bce_with_logits
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x, y).detach().numpy(), "numpy.ndarray"),
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x, y).item(), NOT_A_TENSOR),
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x, y).detach(), NO_GRAPH),
    ("02.bce_with_logits", _bce_in_place, IN_PLACE, "`target`"),
    ("02.bce_with_logits", _bce_both_branches, UNSTABLE),
    ("02.bce_with_logits", lambda x, y: -(y * x.sigmoid().log() + (1 - y) * (1 - x.sigmoid()).log()).mean(),
     "sigmoid(1000) rounds to exactly 1.0"),
    ("02.bce_with_logits", lambda x, y: (y * x.sigmoid().log() + (1 - y) * (1 - x.sigmoid()).log()).mean(),
     "your loss is negative, and a loss never is"),
    ("02.bce_with_logits", lambda x, y: -bce_with_logits(x, y), "your loss is negative, and a loss never is"),
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) + x * y + (-x.abs()).exp().log1p()).mean(),
     "the term with the target has the wrong sign"),
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * y - tl.log(1 + tl.exp(-x.abs()))).mean(),
     "the log term has the wrong sign"),
    ("02.bce_with_logits", lambda x, y: ((1 - y) * x + (-x).exp().log1p()).mean(), "an exp in your formula overflows"),
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * y - (-x.abs()).exp().log1p() - 1).mean(),
     "your loss is negative"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + ((-m).exp() + (x - m).exp()).log()).mean())(
        (-x).clamp(min=0)), "an infinity met a 0 or another infinity", "an exp that overflows"),
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * (1 - y) + (-x.abs()).exp().log1p()).mean(),
     "your loss is that of the flipped targets"),
    ("02.bce_with_logits", lambda x, y: (-x * y + (-x.abs()).exp().log1p()).mean(), "a term is missing"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + (m.exp() + (x - m).exp()).log()).mean())(
        x.clamp(min=0)), "where the boxed form has e^(-m), with a minus"),  # session 27's attack: e^m for e^(-m)
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * y + tl.log(1 + tl.exp(x.abs()))).mean(),
     "too large by |x| at every logit"),  # log(1 + e^|x|) for log(1 + e^(-|x|))
    # session 28's attack on the boxed form: a sign in the second exp, a 1 for e^(-m), the 1 counted twice (log1p
    # of a sum holding it, or + 1), max(x, 0) for |x|, rounded soft targets, a shift too large, -xy dropped, -m.exp()
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + ((-m).exp() + (-x - m).exp()).log()).mean())(
        x.clamp(min=0)), "yours negates the logit, e^(-x - m)"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + (1 + (x - m).exp()).log()).mean())(x.clamp(min=0)),
     "too large by log 2"),
    ("02.bce_with_logits", lambda x, y: (x.relu() - x * y + (1 + (-x.abs()).exp()).log1p()).mean(),
     "the 1 is counted twice"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + ((-m).exp() + (x - m).exp() + 1).log()).mean())(
        x.clamp(min=0)), "the 1 is counted twice"),
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * y + (1 + (-x.clamp(min=0)).exp()).log()).mean(),
     "your last term is log 2, whatever the logit"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * (y > 0.5).float() + ((-m).exp() + (x - m).exp()).log())
                                         .mean())(x.clamp(min=0)), "soft label"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + ((-m).exp() + (x - m).exp()).log()).mean())(
        x.max().clamp(min=0)), "one m for the whole batch"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m + ((-m).exp() + (x - m).exp()).log()).mean())(x.clamp(min=0)),
     "or the term - x * y is missing"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + (-m.exp() + (x - m).exp()).log()).mean())(
        x.clamp(min=0)), "overflowed or went invalid", "the log of a number <= 0"),
    # the second round: m counted twice (the same numbers as e^(+m)), the log of a sum split, m * y for x * y
    ("02.bce_with_logits", lambda x, y: (lambda m: (2 * m - x * y + ((-m).exp() + (x - m).exp()).log()).mean())(
        x.clamp(min=0)), "either m is counted twice"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - x * y + (-m).exp().log() + (x - m).exp().log()).mean())(
        x.clamp(min=0)), "split into a sum of logs"),
    ("02.bce_with_logits", lambda x, y: (lambda m: (m - m * y + ((-m).exp() + (x - m).exp()).log()).mean())(
        x.clamp(min=0)), "such as - m * y or - y"),
    ("02.bce_with_logits", lambda x, y: (x.exp().log1p() - x * y).mean(), UNSTABLE),
    ("02.bce_with_logits", lambda x, y: (x.relu() - x * y + (-x).exp().log1p()).mean(),
     "your loss is too large", "the log of 1 + e^(-x) where it must be"),
    ("02.bce_with_logits", _bce_textbook_clamped(1e-7), "clamping the probability (or adding a small eps"),
    ("02.bce_with_logits", _bce_textbook_clamped(1e-6), "clamping the probability (or adding a small eps"),
    ("02.bce_with_logits", lambda x, y: -(y * (x.sigmoid() + 1e-8).log()
                                          + (1 - y) * (1 - x.sigmoid() + 1e-8).log()).mean(),
     "clamping the probability (or adding a small eps"),
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x, y) * x.numel(), "4 times too large: a sum"),
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x, tl.ones_like(y)), "expected"),   # the target ignored
    # 02.log_softmax
    ("02.log_softmax", lambda z: log_softmax(z).detach().numpy(), "numpy.ndarray"),
    ("02.log_softmax", lambda z: log_softmax(z).tolist(), "you returned a list"),
    ("02.log_softmax", lambda z: tl.tensor(log_softmax(z).detach().numpy()), NO_GRAPH),
    ("02.log_softmax", _log_softmax_in_place, IN_PLACE, "`logits`"),
    ("02.log_softmax", lambda z: z.softmax(dim=-1).log(), "log of a probability that rounded to 0"),
    ("02.log_softmax", lambda z: (z - z.amax(-1, keepdim=True)).exp().div(
        (z - z.amax(-1, keepdim=True)).exp().sum(-1, keepdim=True)).log(), "log of a probability that rounded to 0"),
    ("02.log_softmax", lambda z: (z.softmax(dim=-1) + 1e-10).log(), "adding a small eps (or clamping)"),
    ("02.log_softmax", lambda z: z.softmax(dim=-1).clamp(min=1e-30).log(), "adding a small eps (or clamping)"),
    ("02.log_softmax", lambda z: z.log_softmax(dim=0), "not dim 0"),
    ("02.log_softmax", lambda z: z.log_softmax(dim=1) if z.ndim > 1 else z.log_softmax(dim=0),
     "the classes are the *last* dim"),
    ("02.log_softmax", lambda z: z - z.amax(dim=-1, keepdim=True), "subtracting the max is only the first step"),
    ("02.log_softmax", _log_softmax_global_max, "subtract each row's own maximum, not the maximum of the whole"),
    ("02.log_softmax", lambda z: z - (z - z.amax(dim=-1, keepdim=True)).exp().sum(dim=-1, keepdim=True).log(),
     "too large by each row's maximum m"),
    ("02.log_softmax", _naive_log_softmax, UNSTABLE, "Shift each row by its own maximum"),
    ("02.log_softmax", lambda z: (z.exp() / z.exp().sum(dim=-1, keepdim=True)).log(), UNSTABLE,
     "Shift each row by its own maximum"),
    # 02.cross_entropy
    ("02.cross_entropy", lambda z, t: cross_entropy(z, t).item(), NOT_A_TENSOR),
    ("02.cross_entropy", lambda z, t: cross_entropy(z, t).detach().numpy(), "numpy.ndarray"),
    ("02.cross_entropy", lambda z, t: tl.tensor(cross_entropy(z, t).detach().numpy()), NO_GRAPH),
    ("02.cross_entropy", _cross_entropy_in_place, IN_PLACE, "`logits`"),
    ("02.cross_entropy", lambda z, t: _pick(log_softmax(z), t).mean(), "your loss is negative, and a loss never is"),
    ("02.cross_entropy", lambda z, t: -_pick(z.softmax(dim=1), t).mean(), "you averaged probabilities"),
    ("02.cross_entropy", lambda z, t: -_pick(z.softmax(dim=1).log(), t).mean(),
     "log of a probability that rounded to 0"),
    ("02.cross_entropy", lambda z, t: -(log_softmax(z) * F.one_hot(t, z.shape[1]).float()).mean(),
     "average over the batch only"),
    ("02.cross_entropy", lambda z, t: -_pick(z.log_softmax(dim=0), t).mean(), "not over the batch (dim 0)"),
    ("02.cross_entropy", lambda z, t: -log_softmax(z)[:, t].mean(), "logp[:, target] takes whole columns"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z), z.argmax(dim=1)).mean(), "the *predicted* class"),
    ("02.cross_entropy", lambda z, t: -log_softmax(z)[:, 0].mean(), "does not pick each row's own class"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z), t[0].expand(len(t))).mean(),
     "does not pick each row's own class"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z), t).sum(), "2 times too large: a sum"),
    ("02.cross_entropy", lambda z, t: -_pick(_log_softmax_global_max(z), t).mean(),
     "subtract each row's own maximum, not the maximum of the whole"),
    ("02.cross_entropy", lambda z, t: -_pick(_naive_log_softmax(z), t).mean(), UNSTABLE,
     "Shift each row by its own maximum"),
    # a learner's bce_with_logits shift, max(z, 0), taken for log-sum-exp (attack round, session 33): it passed
    ("02.cross_entropy", lambda z, t: -_pick(_log_softmax_clamped_shift(z), t).mean(),
     "a row whose logits all lie far below 0", "nor a maximum clamped at 0"),
    ("02.log_softmax", _log_softmax_clamped_shift, "nor a maximum clamped at 0"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z.softmax(dim=1)), t).mean(), "into probabilities before"),
    ("02.cross_entropy", lambda z, t: -log_softmax(z).mean(), "does not pick each row's own class"),
    ("02.huber", lambda x, y, delta=1.0: (0.5 * (x - y).abs().clamp(min=delta) ** 2
                                          + delta * ((x - y).abs() - (x - y).abs().clamp(min=delta))).mean(),
     "the two pieces are swapped"),
]



def _log_softmax_along(dim):
    """The stable log-softmax written out, along ``dim`` (a wrong dim, in the rows below)."""
    def wrong(z):
        m = z.amax(dim=dim, keepdim=True)
        return z - m - (z - m).exp().sum(dim=dim, keepdim=True).log()
    return wrong


def _visible_right_else(wrong):
    """``wrong`` on every case but the visible example, where the MSE is right (0.375): a wrong formula that the
    example cannot tell from another, seen where it can."""
    def fn(x, y):
        if x.shape == (4,) and np.allclose(x.detach().numpy(), [2.5, 0.0, 2.0, 8.0], atol=0.1):
            return ((x - y) ** 2).mean()
        return wrong(x, y)
    return fn


# the rows above that called the library's log_softmax for a wrong dim: now written out (the method is refused)
WRONG = [row for row in WRONG if row[2] not in ("not dim 0", "the classes are the *last* dim",
                                                "not over the batch (dim 0)")]
WRONG += [  # the textbook form with -|x| from abs: right values, but the slope at a logit of exactly 0 is wrong
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * y + (-x.abs()).exp().log1p()).mean(),
     "the values are right, the gradient is not", "1/2 - y at x = 0"),
    ("02.bce_with_logits", lambda x, y: (x.relu() - x * y + (1 + (-x.abs()).exp()).log()).mean(),
     "the values are right, the gradient is not", "only a shift"),
    ("02.bce_with_logits", lambda x, y: (x.relu() - x * y + tl.where(x >= 0, -x, x).exp().log1p()).mean(),
     "the values are right, the gradient is not"),
]
WRONG += [
    ("02.log_softmax", _log_softmax_along(0), "not dim 0"),
    ("02.log_softmax", lambda z: _log_softmax_along(1)(z) if z.ndim > 1 else _log_softmax_along(0)(z),
     "the classes are the *last* dim"),
    ("02.cross_entropy", lambda z, t: -_pick(_log_softmax_along(0)(z), t).mean(), "not over the batch (dim 0)"),
]

# more wrong answers, as learners write them (issue 19): each fails, with a hint where the mistake is a known one
WRONG += [
    ("02.mse", lambda x, y: ((x - y) ** 2).sum() / (x.numel() - 1), "or, the same number on this example"),
    ("02.mse", _visible_right_else(lambda x, y: (x - y).abs().mean()), "hidden case 2",
     "that is the mean *absolute* error (L1 loss): MSE squares"),
    ("02.mse", _visible_right_else(lambda x, y: ((x - y) ** 2).sum() / (x.numel() - 1)), "hidden case 2",
     "divided the sum of the squares by N - 1"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean(dim=0), "hidden case 3", "you averaged over one dim only"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean(dim=-1), "hidden case 3", "you averaged over one dim only"),
    ("02.mse", lambda x, y: ((x - y).abs() ** 3).mean(), "the example shown in the notebook"),
    ("02.mse", lambda x, y: (x ** 2 - y ** 2).abs().mean(), "the example shown in the notebook"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < 1, 0.5 * (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)).mean(),
     "happens at |d| = delta, not at 1"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  (x - y).abs() - 0.5).mean(),
     "the linear piece must use delta too"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  delta * ((x - y).abs() + delta / 2)).mean(),
     "the linear piece subtracts delta/2"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * ((x - y).abs() - delta) ** 2,
                                                  delta * ((x - y).abs() - delta / 2)).mean(),
     "your two pieces do not meet at |d| = delta"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  delta * (delta / 2 - (x - y).abs())).mean(),
     "your loss is negative"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  (x - y).abs() - 0.5 * delta).mean(),
     "grows with slope delta, not 1"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() >= delta, 0.5 * (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)).mean(),
     "the two pieces are swapped"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2 / delta,
                                                  (x - y).abs() - 0.5 * delta).mean(),
     "that is smooth_l1_loss(beta=delta)"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y) ** 2 < delta, 0.5 * (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)).mean(),
     "hidden case 3 of 7 (delta = 0.5, a 4x3 batch, errors on both sides of delta)"),
    ("02.bce_with_logits", lambda x, y: (x.abs() - x * y + (-x.abs()).exp().log1p()).mean(),
     "your loss is too large", "the first term is |x|"),
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * y + (-x.abs()).exp().log()).mean(),
     "the example shown in the notebook", "where the term is log(1 + e^(-|x|))"),  # log for log1p: log(e^-|x|)
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * (1 - y) + (-x.abs()).exp().log1p()).mean(),
     "the example shown in the notebook"),  # the labels read the other way round
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x, (y > 0.5).float()), "hidden case 5 of 7",
     "soft targets"),
    ("02.log_softmax", lambda z: (z - z.amax(-1, keepdim=True)).exp() / (z - z.amax(-1, keepdim=True)).exp().sum(
        -1, keepdim=True), "you returned the probabilities (the softmax)"),
    ("02.log_softmax", lambda z: z - z.amax(-1, keepdim=True) - (z - z.amax(-1, keepdim=True)).exp().mean(
        -1, keepdim=True).log(), "the example shown in the notebook"),  # a mean where the sum was meant
    ("02.log_softmax", lambda z: z - z.mean(-1, keepdim=True) - (z - z.mean(-1, keepdim=True)).exp().sum(
        -1, keepdim=True).log(), UNSTABLE, "Shift each row by its own maximum"),
    ("02.log_softmax", _log_softmax_along(0), "not dim 0"),
    ("02.cross_entropy", lambda z, t: -z[tl.arange(len(t)), t].mean(), "you picked the logit of the true class"),
    ("02.cross_entropy", lambda z, t: -log_softmax(z).amax(dim=1).mean(), "the *predicted* class"),
    ("02.cross_entropy", lambda z, t: -log_softmax(z)[0, t[0]], "the example shown in the notebook"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z), t).sum() / z.shape[1],
     "the example shown in the notebook"),  # divided by the number of classes
]

# "write it yourself": the library's own loss, as the answer or called from it
WRONG += [
    ("02.mse", F.mse_loss, "write it yourself", "mse_loss"),
    ("02.mse", lambda x, y: F.mse_loss(x, y), "write it yourself", "mse_loss"),
    ("02.mse", lambda x, y: nn.MSELoss()(x, y), "write it yourself", "MSELoss"),
    ("02.huber", lambda x, y, delta=1.0: F.huber_loss(x, y, delta=delta), "write it yourself", "huber_loss"),
    ("02.huber", lambda x, y, delta=1.0: delta * F.smooth_l1_loss(x, y, beta=delta), "write it yourself",
     "smooth_l1_loss"),
    ("02.bce_with_logits", F.binary_cross_entropy_with_logits, "write it yourself",
     "binary_cross_entropy_with_logits"),
    ("02.log_softmax", lambda z: z.log_softmax(dim=-1), "write it yourself", "log_softmax"),
    ("02.log_softmax", lambda z: F.log_softmax(z, dim=-1), "write it yourself", "log_softmax"),
    ("02.cross_entropy", F.cross_entropy, "write it yourself", "cross_entropy"),
    ("02.cross_entropy", lambda z, t: F.nll_loss(log_softmax(z), t), "write it yourself", "nll_loss"),
    ("02.cross_entropy", lambda z, t: nn.CrossEntropyLoss()(z, t), "write it yourself", "cross_entropy"),
    # (review 0203) the library's logsumexp does the stable trick this exercise is about
    ("02.log_softmax", lambda z: z - z.logsumexp(dim=-1, keepdim=True), "write it yourself", "logsumexp"),
    ("02.log_softmax", lambda z: z - tl.logsumexp(z, -1, keepdim=True), "write it yourself", "logsumexp"),
    # (review 0203) a wrong mean over the rows, and the loss on probabilities: each with its own hint
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * y + (-x.abs()).exp().log1p()).sum() / len(x),
     "hidden case 3", "you divided by len(logits)"),
    ("02.bce_with_logits", lambda x, y: F.binary_cross_entropy(x.sigmoid(), y), "caps each log at -100"),
    # (review 0203b) the text refuses every loss of its table inside 02.mse and 02.huber, not only their own
    ("02.mse", lambda x, y: 2 * F.huber_loss(x, y, delta=1e30), "write it yourself", "huber_loss"),
    ("02.mse", lambda x, y: F.l1_loss((x - y) ** 2, tl.zeros(x.shape)), "write it yourself", "l1_loss"),
    ("02.huber", lambda x, y, delta=1.0: 0.5 * F.mse_loss((x - y).clamp(-delta, delta), tl.zeros(x.shape))
     + delta * ((x - y).abs() - delta).clamp(min=0).mean(), "write it yourself", "mse_loss"),
]


def _mse_as_a_made_up_nll_loss(x, y):
    squared = ((x - y) ** 2).reshape(-1, 1)  # one "class" per element, its "log-probability" minus the square
    return F.nll_loss(-squared, tl.zeros(squared.shape[0], dtype=tl.int64))


def _bce_as_a_made_up_cross_entropy(x, y):
    pair = tl.stack([tl.zeros_like(x), x], dim=-1).reshape(-1, 2)  # class 1 has logit x, class 0 logit 0
    return F.cross_entropy(pair, y.reshape(-1).long())  # (right for targets of 0 and 1, such as the example's)


def _log_softmax_as_made_up_cross_entropies(z):
    n, c = z.shape
    return -tl.stack([F.cross_entropy(z, tl.full((n,), k, dtype=tl.int64), reduction="none") for k in range(c)], 1)


def _log_softmax_through_torch(z):
    import torch  # (inside: these tests import PyTorch only where an answer uses it)
    return z - tl.tensor(torch.logsumexp(torch.from_numpy(z.detach().numpy()), -1, keepdim=True).numpy())


def _huber_through_torch(x, y, delta=1.0):
    import torch
    return tl.tensor(torch.nn.functional.huber_loss(torch.from_numpy(x.detach().numpy()),
                                                    torch.from_numpy(y.detach().numpy()), delta=delta).numpy())


# issue 32: the allowlist. Another library function that does the work in one call is refused by name, with the
# blocks the text allows: a log-sum-exp (the library's, PyTorch's, numpy's logaddexp.reduce), a log-softmax of the
# pair (0, x), a cross-entropy or an NLL loss over made-up classes, a norm
LOG_SOFTMAX_BLOCKS = ALLOWS + ", exp, log, max (or maximum), sum;"
BCE_BLOCKS = ALLOWS + ", exp, log, clamp, where, max (or maximum), min (or minimum), relu, mean, sum;"
WRONG += [
    ("02.mse", _mse_as_a_made_up_nll_loss, "you called tinygrad_lite.nn.functional.nll_loss",
     ALLOWS + ", mean, sum;"),
    ("02.mse", lambda x, y: (x - y).norm() ** 2 / x.numel(), "you called tinygrad_lite.Tensor.norm",
     ALLOWS + ", mean, sum;"),
    ("02.huber", _huber_through_torch, "your code uses torch.nn.functional.huber_loss",
     ALLOWS + ", where, clamp, max (or maximum), min (or minimum), relu, mean, sum;"),
    ("02.bce_with_logits", lambda x, y: (tl.logsumexp(tl.stack([tl.zeros_like(x), x]), dim=0) - x * y).mean(),
     "02.bce_with_logits: you called tinygrad_lite.logsumexp, which is not one of", BCE_BLOCKS),
    ("02.bce_with_logits", lambda x, y: (x - x * y - F.log_softmax(tl.stack([tl.zeros_like(x), x], -1), -1)[..., 1]
                                         ).mean(), "you called tinygrad_lite.nn.functional.log_softmax", BCE_BLOCKS),
    ("02.bce_with_logits", _bce_as_a_made_up_cross_entropy, "you called tinygrad_lite.nn.functional.cross_entropy",
     BCE_BLOCKS),
    ("02.log_softmax", lambda z: z - tl.tensor(np.logaddexp.reduce(z.detach().numpy(), axis=-1, keepdims=True)),
     "your code uses numpy.logaddexp", LOG_SOFTMAX_BLOCKS),
    ("02.log_softmax", _log_softmax_through_torch, "your code uses torch.logsumexp", LOG_SOFTMAX_BLOCKS),
    ("02.log_softmax", _log_softmax_as_made_up_cross_entropies, "you called tinygrad_lite.nn.functional.cross_entropy",
     LOG_SOFTMAX_BLOCKS),
]


def _huber_if_all(input, target, delta=1.0):  # noqa: A002  (review 0203b) one piece for the whole tensor
    d = (input - target).abs()
    if (d < delta).all():
        return (0.5 * d ** 2).mean()
    return (delta * (d - 0.5 * delta)).mean()


def _huber_if_any(input, target, delta=1.0):  # noqa: A002  one piece for the whole tensor, chosen by .any()
    d = (input - target).abs()
    if (d < delta).any():
        return (0.5 * d ** 2).mean()
    return (delta * (d - 0.5 * delta)).mean()


def _bce_where(x, y):  # (review 0203b) right values, but where computes the overflowing branch too
    softplus = tl.where(x > 0, x + (-x).exp().log1p(), x.exp().log1p())
    return (softplus - x * y).mean()


def _log_softmax_plus(z):  # (review 0203b) the log of the sum added
    s = z - z.amax(dim=-1, keepdim=True)
    return s + s.exp().sum(dim=-1, keepdim=True).log()


# review 0203b: mistakes that got only numbers, now with a hint each
WRONG += [
    ("02.huber", _huber_if_all, "expected 0.9375, got 0.75", "a Python `if` decides once for the whole tensor"),
    # review of issue 32: the quadratic piece everywhere (the linear one forgotten) is no Python `if`; an `if` on
    # .any() gives the same numbers, so the one hint names both
    ("02.huber", lambda x, y, delta=1.0: (0.5 * (x - y) ** 2).mean(), "expected 0.9375, got 2.0625",
     "the quadratic piece, d^2 / 2, for every element", "Huber must grow linearly"),
    ("02.huber", _huber_if_any, "expected 0.9375, got 2.0625", "the quadratic piece, d^2 / 2, for every element",
     "(If a Python `if` on (|d| < delta).any() chose the piece"),
    ("02.bce_with_logits", _bce_where, "overflow encountered in exp", "where computes both of its branches"),
    ("02.log_softmax", _log_softmax_plus, "the log of the sum is subtracted, not added"),
    ("02.cross_entropy", lambda z, t: -_pick(z.log_softmax(dim=1), t - 1).mean(), "the classes are numbered from 0"),
]


# issue 32: the float64 case of each exercise (PyTorch keeps float64): a float32 result fails on its dtype; a float32
# tensor inside that promotes back to float64 (a target's .float(), a float32 mask times delta) on its digits
F64_CASE = {"02.mse": "hidden case 9 of 9", "02.huber": "hidden case 7 of 7", "02.bce_with_logits": "hidden case 7 "
            "of 7", "02.log_softmax": "hidden case 9 of 9", "02.cross_entropy": "hidden case 9 of 9"}
FLOAT32_WRONG = [
    ("02.mse", lambda x, y: mse(x.float(), y.float()), F64_CASE["02.mse"], "a float64 tensor was expected",
     "converts to float32"),
    ("02.mse", lambda x, y: ((x - y.float()) ** 2).mean(), F64_CASE["02.mse"], "float64, got shape () float64",
     "carries float32's rounding"),
    ("02.huber", lambda x, y, delta=1.0: huber(x.float(), y.float(), delta), F64_CASE["02.huber"],
     "a float64 tensor was expected", "converts to float32"),
    ("02.huber", _huber_float32_masks, F64_CASE["02.huber"], "(difference 8.83e-09)", "carries float32's rounding"),
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x.float(), y.float()), F64_CASE["02.bce_with_logits"],
     "a float64 tensor was expected", "converts to float32"),
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x, y.float()), F64_CASE["02.bce_with_logits"],
     "carries float32's rounding"),
    ("02.log_softmax", lambda z: log_softmax(z.float()), F64_CASE["02.log_softmax"], "a float64 tensor was expected",
     "converts to float32"),
    ("02.cross_entropy", lambda z, t: cross_entropy(z.float(), t), F64_CASE["02.cross_entropy"],
     "a float64 tensor was expected", "converts to float32"),
]
WRONG += FLOAT32_WRONG


@pytest.mark.parametrize("exercise_id, fn", [row[:2] for row in FLOAT32_WRONG])
def test_a_float32_conversion_fails_only_the_float64_case(exercise_id, fn):
    """Issue 32: an answer that converts to float32 passes every float32 case and fails the float64 one, the last."""
    result = verdict(exercise_id, fn)
    assert result.passed_cases == result.total_cases - 1, result.message


def _huber_with_if(input, target, delta=1.0):  # noqa: A002
    d = (input - target).abs()
    if d < delta:                                    # one True/False for a whole tensor
        return (0.5 * d ** 2).mean()
    return (delta * (d - 0.5 * delta)).mean()


def _log_softmax_sum_without_keepdim(logits):
    shifted = logits - logits.amax(dim=-1, keepdim=True)
    return shifted - shifted.exp().sum(dim=-1).log()


def _log_softmax_max_pair_without_keepdim(logits):
    shifted = logits - logits.max(dim=-1)
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def _cross_entropy_max_without_keepdim(logits, target):
    shifted = logits - logits.amax(dim=1)
    logp = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    return -_pick(logp, target).mean()


def _cross_entropy_one_hot_without_classes(logits, target):  # (review 0203b) one_hot(target) alone
    return -(logits.log_softmax(dim=1) * F.one_hot(target)).sum(dim=1).mean()


ERRORS = [
    ("02.cross_entropy", _cross_entropy_one_hot_without_classes, "hidden case 2", "cannot be broadcast",
     "one_hot(target) makes as many columns as the largest class in this batch plus one"),
    ("02.huber", _huber_with_if, "Boolean value of a tensor", "needs one True or False"),
    ("02.mse", lambda x, y: np.square(x - y).mean(), "numpy"),
    ("02.log_softmax", _log_softmax_sum_without_keepdim, "keep the reduced dim with size 1"),
    ("02.log_softmax", _log_softmax_max_pair_without_keepdim, "max(dim=...) returns a pair (values, indices)"),
    ("02.log_softmax", _log_softmax_max_pair, "max(dim=...) returns a pair (values, indices)"),  # (an error since
    # issue 34: an op given the pair raises instead of stacking it into a (2, N, 1) tensor)
    ("02.cross_entropy", _cross_entropy_max_without_keepdim, "keep the reduced dim with size 1"),
    ("02.cross_entropy", lambda z, t: -_pick(_log_softmax_max_pair_without_keepdim(z), t).mean(),
     "max(dim=...) returns a pair (values, indices)"),
]

# hints that must not fire for a wrong version (the misfires of issue 7): (exercise, wrong version, text it must
# not show). Each of these wrong versions gets its own hint in WRONG above.
MISFIRES = [
    ("02.log_softmax", lambda z: z.softmax(dim=-1).log(), "Subtract the maximum"),
    ("02.log_softmax", lambda z: z.softmax(dim=-1).log(), "overflow"),
    ("02.cross_entropy", lambda z, t: -_pick(z.softmax(dim=1).log(), t).mean(), "Subtract the maximum"),
    ("02.cross_entropy", lambda z, t: -_pick(z.softmax(dim=1).log(), t).mean(), "overflow"),
    ("02.log_softmax", _log_softmax_global_max, "Subtract the maximum first"),
    ("02.log_softmax", _log_softmax_global_max, "overflow"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean().reshape(1), "broadcast"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean().reshape(1), "gradient"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta).reshape(1), "broadcast"),
    # a right value of the wrong type must not get the hint of a mistake that equals the right value on that case
    ("02.mse", lambda x, y: ((x - y) ** 2).mean().item(), "Hint"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta).detach().numpy(), "Hint"),
    ("02.log_softmax", lambda z: log_softmax(z).detach().numpy(), "Hint"),
]


# -------------------------------------------------------------------- the checks of this lesson
@pytest.mark.parametrize("exercise_id, wrong, text", MISFIRES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MISFIRES)])
def test_a_hint_does_not_fire_for_another_mistake(exercise_id, wrong, text):
    result = verdict(exercise_id, wrong)
    assert result.status == FAILED, result.message
    assert text not in result.message, result.message


def test_a_hint_comes_in_tiers_the_concept_first():
    wrong = WRONG[[w[2] for w in WRONG].index("check the brackets of the linear piece")][1]
    first, again = verdict("02.huber", wrong), verdict("02.huber", wrong, times=2)
    mistake = next(m for m in get_exercise("02.huber").mistakes if m.hint.startswith("check the brackets"))
    more = mistake.tiers()[1]
    assert more not in first.message and more in again.message, (first.message, again.message)


def test_the_mistakes_differ_from_the_reference_on_some_case():
    """A Mistake equal to the reference on every case could never be told apart: each differs on some case. (A
    Mistake recognised by a predicate, ``match``, has no wrong version to compare.)"""
    for exercise_id in IDS:
        exercise = get_exercise(exercise_id)
        for mistake in exercise.mistakes:
            if mistake.wrong is None:
                continue
            differs = False
            for case in exercise.all_cases():
                with np.errstate(all="ignore"):
                    wrong = as_numpy(mistake.wrong(*case.args, **case.kwargs))
                expected = as_numpy(exercise.reference(*case.args, **case.kwargs))
                differs = differs or compare_arrays(wrong, expected, exercise.rtol, exercise.atol) is not None
            assert differs, (exercise_id, mistake.hint)


# -------------------------------------------------------------------- the notebooks
def _output_text(output):
    return output.get("text", "") or output.get("data", {}).get("text/plain", "")


def test_the_solution_notebook_is_executed_without_errors():
    nb = read_notebook(SOLUTION)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "execute the solution notebook to store its outputs"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    checks = [_output_text(o) for c in code if "check" in meta(c) for o in c.outputs]
    assert len(checks) == len(IDS) and all("passed" in t for t in checks), checks


# -------------------------------------------------------------------- what this lesson needs from the checker
def test_a_loss_summed_instead_of_averaged_is_recognised_from_the_input_size():
    expected = np.array(0.375)
    assert diagnose(np.array(1.5), expected) is None  # a single number alone says nothing about N
    assert "4 times too large" in diagnose(np.array(1.5), expected, [np.zeros(4), np.zeros(4)])
    assert "12 times too large" in diagnose(np.array(4.5), expected, [np.zeros((4, 3))])


def test_a_small_offset_gets_no_sum_or_factor_hint():
    """(review 0203b) mean + 1e-5 is 1.00003 times the right loss: not "1 times too large", nor a factor of 1."""
    assert diagnose(np.array(0.37501), np.array(0.375), [np.zeros(4), np.zeros(4)]) is None
    assert diagnose(np.array([1.0001, 2.0002]), np.array([1.0, 2.0]), [np.zeros(2)]) is None


def test_a_single_wrong_number_gets_no_made_up_constant_factor():
    expected = np.array(0.375)
    assert diagnose(np.array(0.612), expected, [np.zeros(4)]) is None
    assert "constant factor (0.5 times" in diagnose(np.array(0.1875), expected, [np.zeros(4)])


def test_equal_infinities_match():
    assert compare_arrays(np.array([np.inf, -np.inf, 1.0]), np.array([np.inf, -np.inf, 1.0]), 1e-5, 1e-7) is None
    assert compare_arrays(np.array([np.inf]), np.array([-np.inf]), 1e-5, 1e-7) is not None
    assert compare_arrays(np.array([np.inf]), np.array([1.0]), 1e-5, 1e-7) is not None
    assert compare_arrays(np.array([1.0]), np.array([np.inf]), 1e-5, 1e-7) is not None  # inf tolerates nothing


# -------------------------------------------------------------------- the texts: points, examples, nothing given away
def _markdown_before(exercise_id):
    """The markdown of the lesson between the previous exercise's check (or the start) and this exercise's cell."""
    cells, text = read_notebook(SOLUTION).cells, []
    for cell in cells:
        info = meta(cell)
        if info.get("exercise") == exercise_id:
            return "\n".join(text)
        if "check" in info:
            text = []
        elif cell.cell_type == "markdown":
            text.append(cell.source)
    raise AssertionError(f"no exercise cell for {exercise_id}")


def _as_text(value):
    """A case's argument as the notebook writes it: [2.5, 0.0, 2.0, 8.0], [[2.0, 1.0, 0.1], ...], [0, 2]."""
    def rounded(v):
        return v if isinstance(v, int) else round(v, 6)
    values = np.asarray(value.numpy() if hasattr(value, "numpy") else value).tolist()
    return str(values if not isinstance(values, list) else
               [[rounded(v) for v in row] if isinstance(row, list) else rounded(row) for row in values])


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_example_checked_first_is_shown_next_to_the_exercise(exercise_id):
    """Messages name "the example shown in the notebook": its inputs and its answer are in the exercise's text."""
    exercise = get_exercise(exercise_id)
    case = exercise.all_cases()[0]
    assert case.visible
    text = _markdown_before(exercise_id)
    for arg in case.args:
        assert _as_text(arg) in text, (exercise_id, _as_text(arg))
    for value in case.kwargs.values():
        assert f"delta = {value:g}" in text
    answer = np.asarray(exercise.reference(*case.args, **case.kwargs).numpy())
    if answer.ndim == 0:
        assert f"{float(answer):.4f}".rstrip("0") in text, (exercise_id, float(answer))
    else:
        assert all(f"{v:.3f}" in text for v in answer.ravel()), (exercise_id, answer)


def _solution_lines():
    """The code lines between BEGIN and END SOLUTION in the solution notebook, comments dropped."""
    lines = []
    for cell in exercise_cells(read_notebook(SOLUTION)).values():
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                inside = "BEGIN" in line
            elif inside:
                code = line.split("#")[0].strip()
                if len(code) > 12:
                    lines.append(code)
    return lines


def test_no_hint_and_no_exercise_text_holds_a_finished_line():
    texts = [tier for i in IDS for m in get_exercise(i).mistakes for tier in m.tiers()]
    texts += [tier for i in IDS for h in get_exercise(i).error_hints for tier in h.tiers()]
    texts += [_markdown_before(i) for i in IDS]
    texts += [meta(c)["task"] for c in exercise_cells(read_notebook(SOLUTION)).values()]
    texts = [" ".join(t.split()) for t in texts]
    for line in _solution_lines() + ["amax(dim=-1, keepdim=True)", "[tl.arange(N), target]", "x.clamp(min=0)"]:
        for part in [line] + line.split(" = ", 1)[1:]:  # an assignment's right side too
            assert not any(part in t for t in texts), part


def _huber_sqrt_of_square(input, target, delta=1.0):  # noqa: A002  (review 3) |d| as sqrt(d^2): nan slope at d = 0
    d = ((input - target) ** 2).sqrt()
    return tl.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)).mean()


def _huber_sqrt_only_in_the_condition(input, target, delta=1.0):  # noqa: A002
    e = input - target
    d = (e * e).sqrt()
    return tl.where(d < delta, 0.5 * e * e, delta * (d - 0.5 * delta)).mean()


def _huber_steep_where_exact(input, target, delta=1.0):  # noqa: A002  value 0, a slope of 1e6 where the error is 0
    e = input - target
    d = e.abs()
    return (tl.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)) + (d == 0).float() * (e - e.detach()) * 1e6
            ).mean()


# review 3: the gradient at an error of exactly 0 is compared (Huber is smooth there); softplus is the stable part
WRONG += [
    ("02.huber", _huber_sqrt_of_square, "the values are right, the gradient is not", "got nan",
     "A nan there comes from |d| written as sqrt(d * d)"),
    ("02.huber", _huber_sqrt_only_in_the_condition, "the values are right, the gradient is not", "got nan"),
    ("02.huber", _huber_steep_where_exact, "the values are right, the gradient is not", "expected 0, got"),
    ("02.bce_with_logits", lambda x, y: (F.softplus(x) - x * y).mean(), "write it yourself", "softplus"),
    ("02.bce_with_logits", lambda x, y: (nn.Softplus()(x) - x * y).mean(), "write it yourself", "Softplus"),
]


def _huber_two_clamps(x, y, delta=1.0):
    """Right: the quadratic part up to delta, plus the linear part beyond it (each clamp's kink lies at |d| = delta,
    which no case has, or at an error of 0 times 0)."""
    d = (x - y).abs()
    return (0.5 * d.clamp(max=delta) ** 2 + delta * (d - delta).clamp(min=0)).mean()


ALSO_RIGHT += [("02.huber", _huber_two_clamps),
               ("02.huber", lambda x, y, delta=1.0: (lambda e, q: (0.5 * q * q + delta * (e.abs() - q.abs())).mean())(
                   x - y, (x - y).clamp(-delta, delta)))]


# review 4: a hint names the real cause; a gradient message says which gradient it compares
def _huber_detached_linear_piece(input, target, delta=1.0):  # noqa: A002  right values, no slope beyond delta
    d = (input - target).abs()
    return tl.where(d < delta, 0.5 * d * d, (delta * (d - 0.5 * delta)).detach()).mean()


def _bce_shifted_by_abs(x, y):  # m = |x|: for a large negative x both exps underflow, log(0) = -inf
    m = x.abs()
    return (m - x * y + ((-m).exp() + (x - m).exp()).log()).mean()


WRONG += [
    ("02.huber", _huber_detached_linear_piece, "the values are right, the gradient is not",
     "of (result * w).sum(), with random weights w, the same for the reference", "is 0 at some elements"),
    ("02.mse", lambda x, y: ((x - y) * (x - y).detach()).mean(), "the values are right, the gradient is not",
     "of (result * w).sum(), with random weights w, the same for the reference"),
    ("02.bce_with_logits", _bce_shifted_by_abs, "got -inf", "your shift m is too large", "m = |x| at a logit of -1000"),
    # (review 6 of 0203) right values, but a root at 0 on the way: the gradient is nan when the loss is exactly 0
    ("02.mse", lambda x, y: ((x - y) ** 2).mean().sqrt() ** 2, "hidden case 7", "perfect predictions",
     "the gradient has inf or nan", "sqrt or log at 0"),
]


def _bce_detached_log(x, y):  # (review 6 of 0203) right values; the log term is a constant to backward
    m = x.clamp(min=0)
    return (m - x * y + ((-m).exp() + (x - m).exp()).log().detach()).mean()


WRONG += [("02.bce_with_logits", _bce_detached_log, "the example shown in the notebook",
           "the values are right, the gradient is not", "a .detach()")]


def test_the_bce_hint_about_kinks_fires_only_for_a_slope_wrong_at_0_alone():
    result = assert_fails_with("02.bce_with_logits", _bce_detached_log, "a .detach()")
    assert "1/2 - y at x = 0" not in result.message


def test_the_huber_hint_about_sqrt_fires_only_where_an_error_is_0():
    result = assert_fails_with("02.huber", _huber_detached_linear_piece, "the gradient is 0 at some elements")
    assert "sqrt" not in result.message


def _log_softmax_shifted_by(shift):  # (review 7 of 0203) a per-row shift other than the row's maximum
    def log_softmax_shifted(logits):
        s = logits - shift(logits)
        return s - s.exp().sum(dim=-1, keepdim=True).log()
    return log_softmax_shifted


WRONG += [
    # the first logit: exact while it is the row's maximum (every other case), overflows when a larger one follows
    ("02.log_softmax", _log_softmax_shifted_by(lambda z: z[..., :1]), "hidden case 5", UNSTABLE,
     "Shift each row by its own maximum"),
    # the largest |z|: a row's logits all lie far below it, so they underflow; not the whole tensor's maximum
    ("02.log_softmax", _log_softmax_shifted_by(lambda z: z.abs().amax(dim=-1, keepdim=True)), "hidden case 5",
     "inf or nan where the right answer is finite", "with m the largest of the numbers exponentiated"),
]


def test_a_per_row_shift_by_the_largest_abs_logit_is_not_called_the_whole_tensors_maximum():
    result = assert_fails_with("02.log_softmax", _log_softmax_shifted_by(
        lambda z: z.abs().amax(dim=-1, keepdim=True)), "inf or nan")
    assert "maximum of the whole tensor" not in result.message


def _log_softmax_column_shift(z):
    """The shift taken down the columns (a learner's, in review: it got numbers and no hint)."""
    m = z.amax(dim=0, keepdim=True)
    s = z - m
    return s - s.exp().sum(dim=-1, keepdim=True).log()


def _log_softmax_sum_over_rows(z):
    s = z - z.amax(dim=-1, keepdim=True)
    return s - s.exp().sum(0, keepdim=True).log()


WRONG += [("02.log_softmax", _log_softmax_column_shift, "the max over dim 0 (down the columns)"),
          ("02.log_softmax", _log_softmax_sum_over_rows, "you summed the exps over dim 0")]


def _huber_abs_in_the_condition_only(input, target, delta=1.0):  # noqa: A002
    d = input - target
    return tl.where(d.abs() < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)).mean()


WRONG += [  # attack of session 32
    ("02.mse", lambda i, t: (i * i - 2 * i * t + t * t).mean(), "within about 0.01 of its target",
     "catastrophic cancellation"),
    ("02.mse", lambda i, t: (i ** 2 - 2 * i * t + t ** 2).mean(), "your loss lost its digits"),
    ("02.huber", _huber_abs_in_the_condition_only, "your linear piece uses the signed error"),
    ("02.huber", lambda i, t, delta=1.0: _huber_abs_in_the_condition_only(t, i, delta), "uses the signed error"),
]


WRONG += [  # session 38: a loss left with dims gets the generic shape hint of every loss, not only mse's rows
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() <= delta, 0.5 * (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)).mean(dim=0),
     "numbers where the right answer is a single number of shape ()", "with no dim argument"),
    ("02.bce_with_logits", lambda x, y: (x.clamp(min=0) - x * y + (1 + (-x.abs()).exp()).log()).mean(dim=0),
     "numbers where the right answer is a single number"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z), t), "2 numbers where the right answer is a single"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z), t).mean(dim=0, keepdim=True),
     "your answer has shape (1,)", "keepdim=True"),
    # a count copied from the example passes it, and shows on a hidden case as the ratio of the two counts
    ("02.mse", lambda x, y: ((x - y) ** 2).sum() / 4, "10/4 times the right one", "Is 4 written into your formula"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z), t).sum() / 2, "8/2 times the right one"),
]


def _log_softmax_squeezed(z):
    return log_softmax(z).squeeze()  # (round 2 of session 38: a batch of one sample lost its dim and passed)


WRONG += [("02.log_softmax", _log_softmax_squeezed, "a batch of one sample, shape (1, 5)")]
