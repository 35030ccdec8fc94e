r"""Lesson 02, loss functions: the checks of the learner's mse, huber, bce_with_logits, log_softmax, cross_entropy.

The learner's functions take tinygrad_lite tensors (float32, as in the notebook) and return a tensor; the reference
of each is the library's own function from ``tinygrad_lite.nn.functional``, which is tested against PyTorch
elsewhere. The hidden cases are chosen so that the usual mistakes show: 2-D inputs and several batch sizes (a sum
in place of a mean), negative errors and errors on both sides of delta, several deltas (Huber), logits of +-1000
(exp overflows in a naive formula), logits far apart (log(softmax) underflows to -inf), a largest logit that is
not the row's first (a shift by another logit overflows), rows far apart (one maximum for the whole tensor), 1-D
and 3-D inputs (the wrong dim).

Besides the numbers, every check judges what a loss must be: a tensor of the inputs' dtype (not a numpy array, a
list or a Python number), connected to the graph of its inputs, with the reference's gradients, its inputs left
unchanged. Each exercise has one case of float64 inputs (issue 32), compared at float64's precision: PyTorch keeps
float64, so a ``.float()`` fails there, and a float32 tensor inside that promotes back (a target's ``.float()``)
gets a hint; its logits reach float64's own edges (e^z overflows float64 above 709.8).
BCE, log-softmax and cross-entropy are about numerical stability: an overflow or invalid-value warning inside the
learner's function fails them. Log-softmax (and cross-entropy, made of it) is compared in log space, with an
absolute tolerance: z - logsumexp(z) at |z| = 1000 is right to about 1e-4 in float32.

Each hint comes in two tiers: the first names the concept; the second, shown when the same mistake comes back,
is more concrete. Neither is the finished line.
"""
import numpy as np

from ... import Tensor, arange, log_softmax, logsumexp, nn, where
from ...nn import functional as F
from ...ops.activation import LogSoftmax as LogSoftmaxOp
from ..checks import Case, ErrorHint, Exercise, Mistake, register
from ._common import (
    FLOAT32_DIGITS,
    FLOAT32_RESULT,
    TensorAnswer,
    _by_dtype,
    _cast_to,
    _classes,
    _double,
    _f32,
    _float32_digits,
    _mistake,
)


def _hint(first, again):
    """A hint in two tiers, as ``_mistake(wrong, *_hint(...))`` takes them: the concept first, then (shown only
    when the same mistake comes back) a more concrete pointer."""
    return first, again


# what every exercise of this lesson returns: a tensor of the inputs' dtype (float32, or float64 in the case that has
# float64 inputs), connected to the graph of its inputs
LOSS = TensorAnswer()
# a float32 result on the float64 case (issue 32): a .float() or a float32 tensor made inside; hinted first
CAST_TO_FLOAT32 = _cast_to("float32", "float64", *FLOAT32_RESULT)
# a float64 result with float32's digits there: a float32 tensor inside (a target.float(), a mask's .float() times
# delta) that promotes back
FLOAT32_INSIDE = _float32_digits(*FLOAT32_DIGITS)
# the float64 case is compared at float64's precision; the losses are means of numbers of about 1 (the
# log-probabilities of log_softmax about 1000, whose rounding in float64 is about 1e-13)
AT_FLOAT64 = {"rtol64": 1e-12, "atol64": 1e-12}

# errors that learners of this lesson meet (the generic ones, a Python `if` on a tensor, numpy's axis=/keepdims=
# and numpy functions on tensors, are in registry.py)
NO_KEEPDIM = ErrorHint(
    r"shapes \((\d+), \d+\) and \(\1,\) cannot be broadcast",
    "a reduction over the last dim of an (N, C) tensor gives shape (N,), and (N,) lines up with the *last* dim "
    "of (N, C), not with the rows: keep the reduced dim with size 1 so that there is one value per row",
    more="pass keepdim=True to the reduction: its result then has shape (N, 1) and broadcasts along each row")
ONE_HOT_COLUMNS = ErrorHint(
    r"shapes \((\d+), \d+\) and \(\1, \d+\) cannot be broadcast",
    "two (N, columns) tensors whose numbers of columns differ. If one of them is a one-hot matrix of target: "
    "one_hot(target) makes as many columns as the largest class in this batch plus one, which is fewer than C "
    "when the batch lacks the last classes",
    more="give one_hot the number of classes, num_classes=C, the logits' dim 1")
MAX_PAIR = ErrorHint(
    r"got the \(values, indices\) pair that max\(\.\.\.\) returns",
    "max(dim=...) returns a pair (values, indices), as in PyTorch, and a pair is not a tensor: take the values "
    "only",
    more="use .values of the pair, or amax(dim=...), which returns the values only")


# -------------------------------------------------------------------- 02.mse
def _mse_cases(rng):
    return [
        Case((_f32([2.5, 0.0, 2.0, 8.0]), _f32([3.0, -0.5, 2.0, 7.0])), "4 predictions", visible=True),
        Case((_f32(rng.standard_normal(10)), _f32(rng.standard_normal(10))), "10 random predictions"),
        Case((_f32(rng.standard_normal((4, 3))), _f32(rng.standard_normal((4, 3)))), "a 4x3 batch: 3 outputs each"),
        Case((_f32(100 * rng.standard_normal(6)), _f32(100 * rng.standard_normal(6))), "large values"),
        Case((_f32([-1.0, -2.0, -3.0]), _f32([1.0, 2.0, 3.0])), "all errors negative"),
        Case((_f32([1.5, -0.5, 2.0]), _f32([1.45, -0.45, 2.1])), "nearly perfect predictions: a small loss"),
        # the gradient there is 0; a detour through a root, such as sqrt(mse) ** 2, makes it nan (grad_jitter is 0)
        Case((_f32([0.5, -1.0, 3.0]), _f32([0.5, -1.0, 3.0])), "perfect predictions: the loss is 0",
             trivial="the loss of perfect predictions is 0, which a function that always gives 0 gives too; the "
                     "case is there for the gradient at that 0"),
        # issue 32: PyTorch keeps float64, so a .float() (or a float32 tensor made inside) must show
        Case((_double(rng.standard_normal((3, 4))), _double(rng.standard_normal((3, 4)))),
             "float64 predictions and targets: the loss is float64, compared at float64's precision"),
    ]


NEGATIVE_LOSS = _hint(
    "your loss is negative, and a loss never is: every per-element penalty is >= 0, and so is their mean. Look "
    "for a stray minus sign",
    "compare the sign of each piece of your formula with the formula in the exercise")
ONE_NUMBER = _hint(
    "a loss is a single number, shape (): you returned one value per element. Average them all",
    "end with a mean over everything (no dim argument): that gives shape (), a 0-d tensor")
SHAPE_ONE = _hint(
    "a loss is a single number, shape (), not a tensor of shape (1,) holding one number: e.g. from .mean() over "
    "everything, without keepdim, reshape or wrapping it in a list",
    "take the mean over all elements with no dim and no keepdim, and return that 0-d tensor as it is")

def _mae(x, y):
    return (x - y).abs().mean()


def _mse_n1(x, y):
    return (x - y).square().sum() / (x.numel() - 1)


def _is(got, expected, case, wrong):
    """``got`` is what ``wrong`` gives on the case (and that is not the right answer)."""
    with np.errstate(all="ignore"):
        value = np.asarray(wrong(*case.args).detach().numpy(), dtype=np.float64)
    return bool(np.shape(got) == value.shape and np.allclose(got, value, rtol=1e-5, atol=1e-6)
                and not np.allclose(value, expected, rtol=1e-5, atol=1e-6))


def _mean_over_one_dim(got, case):
    """``got`` is the mean of the squared errors over one dim of a 2-D (or more) input, not over all of them."""
    x, y = (np.asarray(a.numpy(), dtype=np.float64) for a in case.args[:2])
    if np.ndim(got) == 0 or x.ndim < 2:
        return False
    return any(np.shape(got) == np.shape(m) and np.allclose(got, m, rtol=1e-5, atol=1e-6)
               for m in (((x - y) ** 2).mean(axis=k) for k in range(x.ndim)))


# The regression losses of the lesson's table (and Huber's cousin SmoothL1): the text refuses them all inside the
# answers of 02.mse and 02.huber, since each of them computes the other (mse is 2 * huber with a huge delta,
# huber is delta * smooth_l1_loss with beta = delta)
REGRESSION_LOSSES = (F.mse_loss, nn.MSELoss, F.l1_loss, nn.L1Loss, F.huber_loss, nn.HuberLoss, F.smooth_l1_loss,
                     nn.SmoothL1Loss)


register(Exercise(
    "02.mse",
    reference=lambda x, y: F.mse_loss(x, y),
    cases=_mse_cases,
    compare=_by_dtype(1e-5, 1e-6, **AT_FLOAT64),
    mistakes=[
        CAST_TO_FLOAT32,
        FLOAT32_INSIDE,
        _mistake(lambda x, y: -F.mse_loss(x, y), *NEGATIVE_LOSS),
        _mistake(lambda x, y: (x - y).square(), *ONE_NUMBER),
        _mistake(lambda x, y: F.mse_loss(x, y).reshape(1), *SHAPE_ONE),
        # on the visible example the L1 loss and a sum of squares over N - 1 are the same number, 0.5
        Mistake(match=lambda got, expected, case: _is(got, expected, case, _mae) and _is(got, expected, case, _mse_n1),
                hint="that is the mean *absolute* error (L1 loss), or, the same number on this example, a sum of "
                     "squares divided by N - 1. MSE squares each difference (not its size) and divides the sum of "
                     "the squares by N, the number of elements",
                more="square each difference, then take the mean over every element"),
        _mistake(_mae, *_hint(
            "that is the mean *absolute* error (L1 loss): MSE squares each difference instead of taking its size",
            "replace the absolute value by the square of each difference")),
        _mistake(_mse_n1, *_hint(
            "you divided the sum of the squares by N - 1 (as for a sample variance): a mean over N elements "
            "divides by N",
            "divide by N, the number of elements, not by N - 1")),
        Mistake(match=lambda got, expected, case: _mean_over_one_dim(got, case),
                hint="you averaged over one dim only, which leaves one number per row (or per column). A loss is "
                     "one number, shape (): the mean over every element",
                more="take the mean without a dim argument"),
        _mistake(lambda x, y: (x - y).mean(), *_hint(
            "positive and negative errors cancel in your mean: each difference must be squared before averaging",
            "square the differences first, then take the mean of the squares")),
        _mistake(lambda x, y: (x - y).mean().square(), *_hint(
            "you squared the mean error: MSE is the mean of the squared errors. Errors of +1 and -1 average to 0, "
            "yet each of them costs 1",
            "square each difference first, then average")),
        _mistake(lambda x, y: (x - y).square().mean().sqrt(), *_hint(
            "that is the root of the MSE (RMSE): the MSE itself has no square root",
            "leave out the square root at the end")),
        _mistake(lambda x, y: (x - y).square().sum() / len(x), *_hint(
            "you divided by len(input), the number of rows: a mean over all elements divides by the number of "
            "elements",
            "divide by the count of every element (rows times columns), not by the count of rows")),
    ],
    answer=LOSS, grad=True, generic_hints=("factor", "mean_vs_sum"),
    forbid=REGRESSION_LOSSES,  # the library's losses of the table: the exercise is to write MSE
    allow=("arithmetic", "mean", "sum"),  # the text's building blocks: any other library function is refused
    tolerate=("sqrt",),  # sqrt(mse) ** 2 is a mistake with its own hint (its gradient at 0), never a right answer
    # MSE has no kink (abs(d) ** 2 gets the slope 0 at d = 0 right too): its gradient is compared at the inputs as
    # they are, so that the perfect predictions keep their loss of exactly 0
    grad_jitter=0.0,
    points=1, rtol=1e-5, atol=1e-6,
))


# -------------------------------------------------------------------- 02.huber
def _both_sides(rng, shape, delta):
    """Errors of about 2 (most beyond ``delta``), two of them below ``delta``: each piece is used."""
    x = 2 * rng.standard_normal(shape)
    x.flat[:2] = [0.4 * delta, -0.7 * delta]
    return _f32(x)


def _huber_cases(rng):
    return [
        Case((_f32([2.5, 0.0, 2.0, 8.0]), _f32([3.0, -0.5, 2.0, 4.0])), "delta = 1, one large error", visible=True),
        Case((_f32(2 * rng.standard_normal(12)), _f32(2 * rng.standard_normal(12))), "delta = 1, random errors"),
        Case((_both_sides(rng, (4, 3), 0.5), _f32(np.zeros((4, 3)))),
             "delta = 0.5, a 4x3 batch, errors on both sides of delta", {"delta": 0.5}),
        Case((_f32([-5.0, -1.0, 0.5, 3.0, 6.0]), _f32(np.zeros(5))), "delta = 2, large negative errors",
             {"delta": 2.0}),
        Case((_f32(0.1 * rng.standard_normal(8)), _f32(0.1 * rng.standard_normal(8))), "delta = 3, only small errors",
             {"delta": 3.0}),
        # Huber is smooth at an error of 0 (slope 0), so the gradient is compared there too (no jitter): every
        # right formula has slope 0 there (its quadratic piece multiplies by d = 0), sqrt(d * d) for |d| gives nan
        Case((_f32([1.0, -2.0, 0.5, 3.0, 1.5, -0.25, 0.0, 4.0]), _f32([1.0, -2.0, 1.25, 0.5, 0.25, -0.25, 0.0, 4.0])),
             "delta = 1, five predictions exactly right: errors of exactly 0"),
        # issue 32: PyTorch keeps float64, so a .float() (or a float32 tensor made inside) must show
        Case((_double(_both_sides(rng, 7, 0.8).numpy()) + _double(0.01 * rng.standard_normal(7)),
              _double(np.zeros(7))),
             "delta = 0.8, float64 errors on both sides of delta: the loss is float64, compared at float64's "
             "precision", {"delta": 0.8}),
    ]


def _huber_elementwise(x, y, delta=1.0):
    d = (x - y).abs()
    return where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


def _huber_one_piece(x, y, delta, all_small):
    """One piece for every element, chosen by one Python `if` on the whole tensor."""
    d = (x - y).abs()
    return (0.5 * d * d).mean() if all_small(d < delta) else (delta * (d - 0.5 * delta)).mean()


def _huber_one_piece_if_all(x, y, delta=1.0):
    return _huber_one_piece(x, y, delta, lambda small: bool(small.all()))


def _huber_one_piece_if_any(x, y, delta=1.0):
    return _huber_one_piece(x, y, delta, lambda small: bool(small.any()))


register(Exercise(
    "02.huber",
    reference=lambda x, y, delta=1.0: F.huber_loss(x, y, delta=delta),
    cases=_huber_cases,
    compare=_by_dtype(1e-5, 1e-6, **AT_FLOAT64),
    mistakes=[
        CAST_TO_FLOAT32,
        FLOAT32_INSIDE,
        _mistake(lambda x, y, delta=1.0: -F.huber_loss(x, y, delta=delta), *NEGATIVE_LOSS),
        _mistake(_huber_elementwise, *_hint(
            "a loss is a single number, shape (): you returned one loss per element. Average them all",
            "end with a mean over everything (no dim argument)")),
        _mistake(lambda x, y, delta=1.0: F.huber_loss(x, y, delta=delta).reshape(1), *SHAPE_ONE),
        # the quadratic piece everywhere: the linear piece forgotten, or chosen away by a Python `if` on .any()
        # (which gives the same numbers on every case), so the hint names both (review of issue 32)
        _mistake(lambda x, y, delta=1.0: (0.5 * (x - y).square()).mean(), *_hint(
            "your loss is the quadratic piece, d^2 / 2, for every element, also where |d| > delta: beyond delta "
            "Huber must grow linearly, as delta * (|d| - delta/2), which is what makes it gentle with outliers. "
            "(If a Python `if` on (|d| < delta).any() chose the piece, it chose once for the whole tensor)",
            "pick the piece for each element: tl.where(|d| < delta, quadratic piece, linear piece)")),
        *(_mistake(wrong, *_hint(
            "a Python `if` decides once for the whole tensor: with (|d| < delta).all() or .any() every element "
            "takes the same piece. Huber picks the piece element by element, so a batch with small and large "
            "errors uses both",
            "tl.where(condition, a, b) chooses between a and b for each element")) for wrong in (
              _huber_one_piece_if_all, _huber_one_piece_if_any)),
        _mistake(lambda x, y, delta=1.0: _huber_elementwise(x, y, 1.0).mean(), *_hint(
            "your result does not change with `delta`: the switch from the squared to the linear piece happens "
            "at |d| = delta, and the linear piece is scaled by delta",
            "use the argument delta, not a fixed 1, both in the condition and in the linear piece")),
        _mistake(lambda x, y, delta=1.0: where((x - y).abs() < 1.0, 0.5 * (x - y).square(),
                                              delta * ((x - y).abs() - 0.5 * delta)).mean(), *_hint(
            "the switch between the two pieces happens at |d| = delta, not at 1: with delta = 1 the slip does not "
            "show, with other deltas it does",
            "compare |d| with the argument delta")),
        _mistake(lambda x, y, delta=1.0: where((x - y).abs() < delta, 0.5 * (x - y).square(),
                                              (x - y).abs() - 0.5).mean(), *_hint(
            "the linear piece must use delta too: delta * (|d| - delta/2). Yours is the piece for delta = 1",
            "use the argument delta in the linear piece, in both places")),
        _mistake(lambda x, y, delta=1.0: where((x - y).abs() < delta, 0.5 * (x - y).square(),
                                              (x - y).abs() - 0.5 * delta).mean(), *_hint(
            "the linear piece grows with slope delta, not 1: it is delta times (|d| - delta/2), so that it meets "
            "the quadratic piece at |d| = delta with the same slope",
            "multiply the linear piece by delta")),
        _mistake(lambda x, y, delta=1.0: where((x - y).abs() < delta, delta * ((x - y).abs() - 0.5 * delta),
                                              0.5 * (x - y).square()).mean(), *_hint(
            "the two pieces are swapped: small errors (|d| < delta) take the square, large ones the linear piece, "
            "which is what makes Huber gentle with outliers",
            "in tl.where(condition, a, b), a is taken where the condition holds")),
        _mistake(lambda x, y, delta=1.0: (_huber_elementwise(x, y, delta) / delta).mean(), *_hint(
            "you divided by delta: that is smooth_l1_loss(beta=delta), Huber's cousin. Huber's pieces have no "
            "division",
            "leave out the division by delta; compare the two pieces with the formula in the exercise")),
        _mistake(lambda x, y, delta=1.0: where((x - y).abs() < delta, 0.5 * (x - y).square(),
                                              delta * (x - y).abs()).mean(), *_hint(
            "your two pieces do not meet at |d| = delta, where both must equal delta^2 / 2: the linear piece "
            "lacks its constant, so large errors cost too much",
            "the linear piece is delta times (|d| - delta/2): the delta/2 is subtracted inside")),
        _mistake(lambda x, y, delta=1.0: where((x - y).abs() < delta, 0.5 * (x - y).square(),
                                              delta * (x - y).abs() - 0.5 * delta).mean(), *_hint(
            "check the brackets of the linear piece: at |d| = delta it must give delta^2 / 2, the value of the "
            "quadratic piece there. With delta = 1 the slip does not show; with other deltas it does",
            "delta/2 must be subtracted from |d| before the product with delta; yours is subtracted after it")),
        _mistake(lambda x, y, delta=1.0: where((x - y).abs() < delta, (x - y).square(),
                                              delta * ((x - y).abs() - 0.5 * delta)).mean(), *_hint(
            "the quadratic piece is *half* the square: with the 1/2 its slope reaches exactly delta where the "
            "linear piece takes over",
            "multiply the squared piece by 0.5")),
        _mistake(lambda x, y, delta=1.0: where((x - y) < delta, 0.5 * (x - y).square(),
                                              delta * ((x - y) - 0.5 * delta)).mean(), *_hint(
            "a large negative error must cost as much as a large positive one: work with the size of the error, "
            "|d|, not the signed difference",
            "take the absolute value of input - target before comparing it with delta and in the linear piece")),
    ],
    answer=LOSS, grad=True, generic_hints=("factor", "mean_vs_sum"),
    forbid=REGRESSION_LOSSES,  # the library's Huber loss, its cousin SmoothL1, and the other losses of the table
    allow=("arithmetic", "where", "clamp", "max", "min", "relu", "mean", "sum"),  # (relu: a clamp at 0)
    # the loss is smooth at an error of 0, so its gradient is compared at errors of exactly 0 too (no jitter; no
    # case has an error of exactly delta, where right formulas differ: clamp(max=delta) plus
    # delta * (d - delta).clamp(min=0) gets slope 2 delta there, as each clamp passes slope 1 at its boundary)
    grad_jitter=0.0,
    grad_hint=lambda got, want, case: _huber_grad_hint(got, want, case),
    points=2, rtol=1e-5, atol=1e-6,
))


def _huber_grad_hint(got, want, case):
    """The hint for a gradient that differs from Huber's where an error is exactly 0 (or is nan): what goes wrong
    there; elsewhere "" (the generic hint: a .detach(), a clamp ... cuts the path)."""
    try:
        d = np.asarray(case.args[0].numpy(), dtype=np.float64) - np.asarray(case.args[1].numpy(), dtype=np.float64)
    except (AttributeError, IndexError, TypeError, ValueError):
        return ""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != d.shape or want.shape != d.shape:
        return ""
    with np.errstate(invalid="ignore"):
        off = ~np.isclose(got, want, rtol=1e-4, atol=1e-6)
    if not (np.isnan(got).any() or (off & (d == 0)).any()):
        return ""
    return ("Huber is smooth: its slope is d where |d| < delta and +-delta beyond, so 0 where a prediction is "
            "exactly right (an error of exactly 0, which the check includes). A nan there comes from |d| written as "
            "sqrt(d * d): sqrt has an infinite slope at 0, and autograd's chain rule gives inf * 0 = nan. Take "
            "the size of the error with abs (autograd takes its slope at 0 as 0), never as the root of a square")


# -------------------------------------------------------------------- 02.bce_with_logits
def _bce_cases(rng):
    return [
        Case((_f32([2.0, -1.0, -0.5, 3.0]), _f32([1.0, 0.0, 1.0, 0.0])), "4 logits", visible=True),
        Case((_f32(2 * rng.standard_normal(10)), _f32(rng.integers(0, 2, 10))), "10 random logits"),
        Case((_f32(3 * rng.standard_normal((4, 3))), _f32(rng.integers(0, 2, (4, 3)))),
             "a 4x3 batch: 3 yes/no labels per sample"),
        Case((_f32([1000.0, -1000.0, 30.0, -30.0, 200.0, -200.0]), _f32([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])),
             "large logits: confident, right and wrong"),
        Case((_f32(rng.standard_normal(6)), _f32(rng.uniform(0, 1, 6))), "soft targets between 0 and 1"),
        # a zero-initialised output layer gives logits of exactly 0: the slope there is sigma(0) - y = 1/2 - y
        Case((_f32([0.0, 0.0, 0.0, 0.0, 1.5, -1.5]), _f32([1.0, 0.0, 0.3, 0.5, 1.0, 0.0])),
             "logits of exactly 0, as a zero-initialised layer gives"),
        # issue 32: PyTorch keeps float64 (a .float() must show), and float64's own edge: e^x overflows it for
        # x > 709.8, so the naive formulas break at logits of +-800 as they do at +-100 in float32
        Case((_double(np.concatenate([[800.0, -800.0, 750.0, -750.0], 2 * rng.standard_normal(4)])),
              _double(np.concatenate([[0.0, 1.0, 1.0, 0.0], rng.uniform(0, 1, 4)]))),
             "float64 logits up to +-800, confident and wrong, and soft targets: the loss is float64, compared at "
             "float64's precision"),
    ]


def _bce_naive(x, y):
    p = x.sigmoid()
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def _bce_clamped(eps):
    def wrong(x, y):
        p = x.sigmoid().clamp(eps, 1 - eps)
        return -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    return wrong


def _bce_plus_eps(eps):
    def wrong(x, y):
        p = x.sigmoid()
        return -(y * (p + eps).log() + (1 - y) * (1 - p + eps).log()).mean()
    return wrong


BCE_CAPPED = _hint(
    "clamping the probability (or adding a small eps before the log) hides the -inf, but it caps the loss: a "
    "confident wrong answer with logit 1000 must cost about 1000, yours costs about -log(eps). Work from the "
    "logits, never from the probability",
    "use the boxed stable form of the exercise: it has no probability and no log of one")

BCE_KINK = ("the loss is smooth: its slope is sigma(x) - y everywhere, 1/2 - y at x = 0, where the check compares "
    "the gradient too. At exactly 0, max(x, 0) and |x| have kinks, and autograd picks one slope for each "
    "(clamp and where pass the slope of the side they pick, abs gives 0, relu 0): a sum of such pieces "
    "gets a wrong slope at 0 unless the picks cancel. In the log-sum-exp form they do: m = max(x, 0) is "
    "only a shift, subtracted inside the exps and added back outside: log(1 + e^x) = "
    "m + log(e^(-m) + e^(x - m)) with m = max(x, 0) is right at 0 whatever slope autograd gives m")


def _bce_grad_hint(got, want, case):
    """The hint about kinks at x = 0 only where it applies: the case has logits of exactly 0 and the gradient is
    right at every other logit (else "": the generic hint, which names .detach() and its kin)."""
    x = np.asarray(case.args[0].numpy())
    if got.shape != want.shape or x.shape != want.shape or not (x == 0).any():
        return ""
    close = np.isclose(got, want, rtol=1e-4, atol=1e-6 * max(1.0, float(np.max(np.abs(want), initial=0.0))))
    return BCE_KINK if close[x != 0].all() else ""


register(Exercise(
    "02.bce_with_logits",
    reference=lambda logits, target: F.binary_cross_entropy_with_logits(logits, target),
    cases=_bce_cases,
    compare=_by_dtype(1e-5, 1e-6, **AT_FLOAT64),
    mistakes=[
        CAST_TO_FLOAT32,
        FLOAT32_INSIDE,
        _mistake(_bce_naive, *_hint(
            "the textbook formula breaks for large logits: sigmoid(1000) rounds to exactly 1.0, log(1 - 1) is "
            "-inf, and 0 * -inf is nan. Never form the probability: work from the logits, with the boxed stable "
            "form",
            "in the boxed form exp only ever sees -m and x - m, both <= 0, so nothing overflows and no log of a "
            "rounded probability is taken")),
        _mistake(lambda x, y: -F.binary_cross_entropy_with_logits(x, y), *_hint(
            "your loss is negative, and a loss never is: BCE is *minus* the log of the probability given to the "
            "right answer, and the log of a probability is <= 0. Check the signs",
            "compare the sign of each of your terms with the boxed stable form")),
        _mistake(lambda x, y: (x.clamp(min=0) + x * y + (-x.abs()).exp().log1p()).mean(), *_hint(
            "the term with the target has the wrong sign: the more the logit agrees with the target, the lower "
            "the loss must be",
            "the product of logit and target is subtracted")),
        _mistake(lambda x, y: (-x * y + (-x.abs()).exp().log1p()).mean(), *_hint(
            "a term is missing: your loss is too small for positive logits. The stable form has three terms",
            "add m = max(x, 0): x for a positive logit, 0 for a negative one (clamp does it)")),
        _mistake(lambda x, y: (x.exp().log1p() - x * y).mean(), *_hint(
            "log(1 + exp(x)) overflows: exp(x) is inf for x > 88 in float32. The boxed form shifts it by "
            "m = max(x, 0) so that exp only ever sees a number <= 0",
            "log(1 + e^x) = m + log(e^(-m) + e^(x - m)) for any m: with m = max(x, 0) both exps get a number <= 0")),
        # two slips give the same numbers (log(1 + e^-x) = |x| + log(1 + e^-|x|) for x < 0): one hint for both
        _mistake(lambda x, y: (x.clamp(min=0) - x * y + (-x).exp().log1p()).mean(), *_hint(
            "for negative logits your loss is too large by |x|: either the first term is |x| where it must be "
            "m = max(x, 0) (0 for a negative logit), or the last term is the log of 1 + e^(-x) where it must be "
            "that of 1 + e^x, which the boxed form writes as log(e^(-m) + e^(x - m)) (e^(-x) also overflows for "
            "x < -88)",
            "the boxed form has m = max(x, 0) first and log(e^(-m) + e^(x - m)) last: compare each of your terms "
            "with it")),
        _mistake(lambda x, y: (x.clamp(min=0) - x * y + (-x.abs()).exp().log1p()).sum() / len(x), *_hint(
            "you divided by len(logits), the number of rows: the loss is the mean over every element, so it "
            "divides by the number of elements",
            "divide by the count of every element (rows times columns), not by the count of rows")),
        _mistake(lambda x, y: F.binary_cross_entropy(x.sigmoid(), y), *_hint(
            "you turned the logits into probabilities and used the loss on probabilities: at logits of +-1000 the "
            "sigmoid rounds to exactly 0 or 1, and the library then caps each log at -100, so a confident wrong "
            "answer costs 100 instead of about 1000. Work from the logits, with the boxed stable form",
            "the boxed form never forms a probability: write it with clamp, exp and log")),
        *(_mistake(_bce_clamped(eps), *BCE_CAPPED) for eps in (1e-5, 1e-6, 1e-7)),  # 1 - 1e-8 is 1.0: naive
        *(_mistake(_bce_plus_eps(eps), *BCE_CAPPED) for eps in (1e-5, 1e-6, 1e-7, 1e-8, 1e-10, 1e-12)),
    ],
    answer=LOSS, grad=("logits",), stability=True, generic_hints=("factor", "mean_vs_sum", "overflow"),
    stability_hint=("exp overflowed inside your function. If a tl.where picks a safe formula for each element: "
                    "where computes both of its branches for every element before it chooses, so the branch it "
                    "does not pick still overflows. Use one formula that is safe everywhere, the boxed stable one",
                    "in the boxed form exp only ever sees -m and x - m, both <= 0"),
    # the library's loss, and its softplus, log(1 + e^x) computed stably: the part of the loss this exercise is about
    forbid=(F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss, F.softplus, nn.Softplus,
            "torch.nn.functional.softplus", "torch.nn.Softplus"),
    # (a logsumexp or log_softmax over (0, x), a cross-entropy over a made-up class, logsigmoid ... are refused)
    allow=("arithmetic", "exp", "log", "clamp", "where", "max", "min", "relu", "mean", "sum"),
    # the textbook route through sigmoid (and the library's BCE on probabilities) is a mistake with hints of its
    # own: sigmoid(+-1000) rounds to 1 or 0, BCE caps each log at -100; neither can give a right answer
    tolerate=("sigmoid", "binary_cross_entropy"),
    # the loss is smooth, so its gradient is compared at exactly x = 0 too (no jitter): there max(x, 0) and |x|
    # have kinks, and only a form whose kinks cancel (the shift m of the log-sum-exp form) gets sigma(0) - y
    grad_jitter=0.0,
    grad_hint=lambda got, want, case: _bce_grad_hint(got, want, case),
    points=2, rtol=1e-5, atol=1e-6,
))


# -------------------------------------------------------------------- 02.log_softmax
def _log_softmax_cases(rng):
    return [
        Case((_f32([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]),), "2 samples, 3 classes", visible=True),
        Case((_f32(rng.standard_normal((4, 5))),), "4 samples, 5 classes"),
        Case((_f32(rng.standard_normal(6)),), "one sample, shape (6,)"),
        Case((_f32(rng.standard_normal((2, 3, 4))),), "shape (2, 3, 4): classes are the last dim"),
        # the largest logit is not the first (a shift by z[0] overflows), nor the largest |z| (a shift by -1000
        # underflows), and one row only (the whole tensor's maximum is right here; the next cases show it wrong)
        Case((_f32([-5.0, 100.0, -1000.0, 90.0]),), "one sample whose largest logit is not its first"),
        Case((_f32([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -999.0]]),), "large logits, +-1000"),
        Case((_f32([[1000.0, 0.0, -5.0], [50.0, -60.0, 0.0]]),), "logits far apart: tiny probabilities"),
        # issue 32: PyTorch keeps float64 (a .float() must show), and float64's own edges: e^z overflows it for
        # z > 709.8, and a probability below 5e-324 rounds to 0 (here e^-1800), so log(softmax) gives -inf
        Case((_double([[800.0, 801.5, -1000.0, 790.0], [-3.0, 0.5, 2.0, -1.25]]),),
             "float64 logits up to 801.5 and 1800 apart: the result is float64, compared at float64's precision"),
    ]


OVERFLOW = _hint(
    "exp of a large logit overflows: exp(1000) is inf in float32, and inf / inf or inf - inf is nan. Shift each "
    "row by its own maximum before exp: the shift cancels out (the log-sum-exp trick)",
    "with m the maximum of each row, only exp(z - m) <= 1 is ever computed, and log(sum(exp(z))) is m plus the "
    "log of the sum of those")
GLOBAL_MAX = _hint(
    "subtract each row's own maximum, not the maximum of the whole tensor: a row whose logits lie far below the "
    "overall maximum underflows entirely (every exp is 0, and log(0) = -inf)",
    "reduce over the last dim only, and keep it (keepdim), so that the (N, 1) column of maxima broadcasts "
    "against the (N, C) logits")
LOG_OF_ZERO = _hint(
    "log of a probability that rounded to 0: in float32 a probability below about 1e-45 is exactly 0 and "
    "log(0) = -inf, although its log (say -1000) is an ordinary number. Never form the probabilities and then "
    "take their log: stay in log space",
    "the formula of the log_softmax exercise computes only exp(z - m) <= 1 and the log of a sum that is at least "
    "1, so no log of 0 can happen")
CAPPED_LOG = _hint(
    "adding a small eps (or clamping) before the log hides log(0) = -inf, but caps every log-probability at "
    "about log(eps): a log-probability of -1000 must come out as -1000. Stay in log space",
    "never take the log of a probability: use the log-sum-exp trick of the log_softmax exercise")


def _log_softmax_by_max(z, m):
    shifted = z - m
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def _eps_log(eps):
    return lambda z: (z.softmax(-1) + eps).log()


def _clamp_log(eps):
    return lambda z: z.softmax(-1).clamp(min=eps).log()


register(Exercise(
    "02.log_softmax",
    reference=lambda logits: F.log_softmax(logits, dim=-1),
    cases=_log_softmax_cases,
    compare=_by_dtype(1e-5, 1e-4, rtol64=1e-12, atol64=1e-10),  # log space: 1e-13 at |z| = 1000 in float64
    mistakes=[
        CAST_TO_FLOAT32,
        _mistake(lambda x: x - x.exp().sum(-1, keepdim=True).log(), *OVERFLOW),
        _mistake(lambda x: (x.exp() / x.exp().sum(-1, keepdim=True)).log(), *OVERFLOW),
        _mistake(lambda x: x.softmax(-1).log(), *LOG_OF_ZERO),
        *(_mistake(make(eps), *CAPPED_LOG) for make in (_eps_log, _clamp_log)
          for eps in (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-20, 1e-30)),
        _mistake(lambda x: x.log_softmax(0), *_hint(
            "normalise along the last dim (the classes), not dim 0: exp of each row must sum to 1",
            "reduce with dim=-1")),
        _mistake(lambda x: x.log_softmax(1 if x.ndim == 3 else -1), *_hint(  # dim 1 is the last on 2-D
            "the classes are the *last* dim: with shape (N, T, C), dim 1 is T",
            "reduce with dim=-1, which is the last dim whatever the number of dims")),
        _mistake(lambda x: (x - x.amax(-1, keepdim=True)).exp() / (x - x.amax(-1, keepdim=True)).exp().sum(
            -1, keepdim=True), *_hint(
            "you returned the probabilities (the softmax), each between 0 and 1; the exercise asks for their logs, "
            "which are <= 0, computed without ever forming the probabilities",
            "log p = (z - m) - log(sum(exp(z - m))): no division, a subtraction in log space")),
        _mistake(lambda x: (x - x.amax(-1, keepdim=True)) + (x - x.amax(-1, keepdim=True)).exp().sum(
            -1, keepdim=True).log(), *_hint(
            "the log of the sum is subtracted, not added: log p = log(exp(s) / sum(exp(s))), and the log of a "
            "quotient is the difference of the logs. The largest of your log-probabilities is positive, and the "
            "log of a probability never is",
            "(z - m) minus the log of the sum of the exps of (z - m)")),
        _mistake(lambda x: x - x.amax(-1, keepdim=True), *_hint(
            "subtracting the max is only the first step: exp of your result does not sum to 1 in each row",
            "also subtract the log of the sum of the exps of the shifted logits")),
        _mistake(lambda x: _log_softmax_by_max(x, x.amax()), *GLOBAL_MAX),
        _mistake(lambda x: x - (x - x.amax(-1, keepdim=True)).exp().sum(-1, keepdim=True).log(), *_hint(
            "your log-probabilities are too large by each row's maximum m: the log of the sum of exp(z) is "
            "m + log(sum(exp(z - m))), so the m you took out must come back (or use z - m in both places)",
            "log p = (z - m) - log(sum(exp(z - m))): subtract m from the logits as well")),
    ],
    answer=LOSS, grad=True, stability=True, generic_hints=("overflow",), error_hints=[NO_KEEPDIM, MAX_PAIR],
    # the library's, its op, and its logsumexp (the stable log of the sum of exps is this exercise's trick)
    forbid=(F.log_softmax, log_softmax, Tensor.log_softmax, nn.LogSoftmax, LogSoftmaxOp, Tensor.logsumexp, logsumexp,
            "torch.logsumexp", "torch.Tensor.logsumexp", "torch.special.logsumexp"),
    allow=("arithmetic", "exp", "log", "max", "sum"),  # (numpy's logaddexp, scipy's logsumexp ... are refused)
    # the log of a softmax (clamped or not), and a shift by the mean, are mistakes with hints of their own (a
    # probability that underflows to 0, a log capped at log(eps), exp overflowing), never a right answer
    tolerate=("softmax", "clamp", "mean"),
    points=2, rtol=1e-5, atol=1e-4,  # log space: z - logsumexp(z) at |z| = 1000 is within 1e-4
))


# -------------------------------------------------------------------- 02.cross_entropy
def _cross_entropy_cases(rng):
    return [
        Case((_f32([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]), _classes([0, 2])), "2 samples, 3 classes", visible=True),
        Case((_f32(rng.standard_normal((8, 5))), _classes(rng.integers(0, 5, 8))), "8 samples, 5 classes"),
        Case((_f32(rng.standard_normal((1, 4))), _classes([3])), "a batch of one sample"),
        Case((_f32(3 * rng.standard_normal((5, 10))), _classes(rng.integers(0, 10, 5))), "5 samples, 10 classes"),
        # exp overflows here (a naive formula fails), but no probability is tiny (log(softmax) still works) ...
        Case((_f32([[1000.0, 1001.0, 1002.0, 999.0], [998.0, 1000.0, 999.0, 1001.0]]), _classes([0, 3])),
             "logits around 1000"),
        # ... and here a probability underflows to 0 (log(softmax) fails), but nothing overflows: two hints apart
        Case((_f32([[0.0, -200.0, 5.0], [10.0, -150.0, 0.0]]), _classes([1, 1])),
             "a true class far below the others: a tiny probability"),
        Case((_f32([[1000.0, 1001.0, 1002.0, 999.0], [-1000.0, 0.0, 1000.0, 5.0], [0.0, 0.0, 0.0, 0.0]]),
              _classes([2, 0, 1])), "large logits, +-1000"),
        # issue 32: PyTorch keeps float64 (a .float() must show), and float64's own edges: e^z overflows it for
        # z > 709.8, and the true class of the second row has probability e^-1600, which rounds to 0
        Case((_double([[800.0, 801.0, 799.5], [800.0, -800.0, 0.0], [0.3, -1.2, 2.5]]), _classes([0, 1, 2])),
             "float64 logits up to 801, a true class 1600 below its row's largest: the loss is float64, compared at "
             "float64's precision"),
    ]


def _picked(logp, target):
    return logp[arange(len(target)), target]


register(Exercise(
    "02.cross_entropy",
    reference=lambda logits, target: F.cross_entropy(logits, target),
    cases=_cross_entropy_cases,
    compare=_by_dtype(1e-5, 1e-4, rtol64=1e-12, atol64=1e-10),  # as for log_softmax
    mistakes=[
        CAST_TO_FLOAT32,
        _mistake(lambda z, t: _picked(z.log_softmax(1), t).mean(), *_hint(
            "your loss is negative, and a loss never is: it is *minus* the log-probability of the true class "
            "(a log-probability is <= 0)",
            "put a minus sign in front of the mean")),
        _mistake(lambda z, t: -_picked(z.softmax(1), t).mean(), *_hint(
            "you averaged probabilities: the loss is minus the *log*-probability of the true class",
            "pick from the log-softmax of the logits, not from their softmax")),
        # before the naive formula: both give inf on the last case, which the naive one never reaches
        _mistake(lambda z, t: -_picked(_log_softmax_by_max(z, z.amax()), t).mean(), *GLOBAL_MAX),
        _mistake(lambda z, t: -_picked(z - z.exp().sum(1, keepdim=True).log(), t).mean(), *OVERFLOW),
        _mistake(lambda z, t: -_picked(z.softmax(1).log(), t).mean(), *_hint(
            "log of a probability that rounded to 0: in float32 a probability below about 1e-45 is exactly 0 and "
            "log(0) = -inf, although the true log-probability (say -200) is an ordinary number. Stay in log "
            "space: never take the log of a softmax",
            "use a log_softmax (yours, or the library's method), which never forms the probabilities")),
        _mistake(lambda z, t: -(z.log_softmax(1) * F.one_hot(t, z.shape[1])).mean(), *_hint(
            "average over the batch only: one log-probability per sample (N numbers). A mean over all N x C "
            "entries also divides by the number of classes C",
            "pick one entry per row (or sum over the classes first), then take the mean of the N numbers")),
        _mistake(lambda z, t: -_picked(z.log_softmax(0), t).mean(), *_hint(
            "the log-softmax must run over the classes (dim 1, each row), not over the batch (dim 0)",
            "use dim=1 (or dim=-1) in the log-softmax")),
        _mistake(lambda z, t: -z.log_softmax(1)[:, t].mean(), *_hint(
            "logp[:, target] takes whole columns (an N x N block), not one entry per row: pair each row number "
            "with its class, as in the indexing example above the exercise",
            "index with two integer tensors of length N: the row numbers 0, 1, ..., N-1, and target")),
        _mistake(lambda z, t: -_picked(z.log_softmax(1), z.argmax(1)).mean(), *_hint(
            "you picked the log-probability of the *predicted* class (the largest logit): the loss uses the true "
            "class, given by `target`",
            "pick each row's entry at target[n], not at the argmax")),
        _mistake(lambda z, t: -_picked(z.log_softmax(1), t - 1).mean(), *_hint(
            "the classes are numbered from 0, like Python's indices: target[n] already is the column of sample "
            "n's true class, with no shift by 1",
            "index with target itself")),
        _mistake(lambda z, t: -_picked(z, t).mean(), *_hint(
            "you picked the logit of the true class itself; the loss uses its log-probability, the log-softmax "
            "of the logits, which also depends on the other classes' logits",
            "first turn the logits into log-probabilities (your log_softmax), then pick")),
        _mistake(lambda z, t: -z.log_softmax(1)[:, 0].mean(), *_hint(
            "your loss does not depend on `target`: it must pick, in each row, the log-probability of that "
            "sample's true class",
            "index the log-probabilities with the row numbers and `target`")),
    ],
    answer=LOSS, grad=("logits",), stability=True, generic_hints=("mean_vs_sum", "overflow"),
    error_hints=[NO_KEEPDIM, MAX_PAIR, ONE_HOT_COLUMNS],
    # the library's cross-entropy, and its second half (picking and averaging); its log_softmax method is allowed
    forbid=(F.cross_entropy, nn.CrossEntropyLoss, F.nll_loss, nn.NLLLoss),
    allow=("arithmetic", "exp", "log", "max", "sum", "mean", "log_softmax", "logsumexp"),
    tolerate=("softmax", "clamp"),  # the log of a softmax (clamped or not) is a mistake with its own hint
    points=2, rtol=1e-5, atol=1e-4,  # as for log_softmax
))
