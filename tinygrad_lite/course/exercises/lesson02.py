r"""Lesson 02, loss functions: the checks of the learner's mse, huber, bce_with_logits, log_softmax, cross_entropy,
each a ``kinds.tensor_function``.

The learner's functions take float32 tensors, as in the notebook, and return a tensor; the reference of each is the
library's own function from ``tinygrad_lite.nn.functional``, tested against PyTorch elsewhere. The hidden cases are
chosen so that the usual mistakes show: 2-D inputs and several batch sizes (a sum in place of a mean), negative
errors and errors on both sides of delta, several deltas (Huber), logits of +-1000 (exp overflows in a naive
formula), logits far apart (log(softmax) underflows to -inf), a largest logit that is not the row's first (a shift
by another logit overflows), rows far apart (one maximum for the whole tensor), 1-D and 3-D inputs (the wrong dim).

Besides the numbers, every check judges what a loss must be: a tensor of the inputs' dtype (not a numpy array, a
list or a Python number), connected to the graph of its inputs, with the reference's gradients, its inputs left
unchanged. Each exercise has one float64 case (issue 32): a ``.float()`` fails there, a float32 tensor inside that
promotes back (a target's ``.float()``) gets a hint, and its logits reach float64's own edges (e^z overflows
float64 above 709.8). BCE, log-softmax and cross-entropy are about numerical stability: an overflow or
invalid-value warning inside the learner's function fails them. Log-softmax (and cross-entropy, made of it) is
compared in log space, with an absolute tolerance: z - logsumexp(z) at |z| = 1000 is right to about 1e-4 in float32.
"""
import numpy as np

from ... import Tensor, arange, log_softmax, logsumexp, nn, where
from ...nn import functional as F
from ...ops.activation import LogSoftmax as LogSoftmaxOp
from ..checks import Case, ErrorHint
from .kinds import CAST_TO_FLOAT32, Within, as_float64, classes, double, f32, mistake, recognised, tensor_function

# the judging tolerances; the float64 case at float64's precision: the losses are means of numbers of about 1, the
# log-probabilities of log_softmax about 1000, whose rounding in float64 is about 1e-13
FLOAT32_LOSS, FLOAT64_LOSS = Within(1e-5, 1e-6), Within(1e-12, 1e-12)
FLOAT32_LOG_SPACE, FLOAT64_LOG_SPACE = Within(1e-5, 1e-4), Within(1e-12, 1e-10)

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
    "max(dim=...) returns a pair (values, indices), as in PyTorch, and a pair is not a tensor: take the values only",
    more="use .values of the pair, or amax(dim=...), which returns the values only")


# -------------------------------------------------------------------- 02.mse
def _mse_cases(rng):
    return [
        Case((f32([2.5, 0.0, 2.0, 8.0]), f32([3.0, -0.5, 2.0, 7.0])), "4 predictions", visible=True),
        Case((f32(rng.standard_normal(10)), f32(rng.standard_normal(10))), "10 random predictions"),
        Case((f32(rng.standard_normal((4, 3))), f32(rng.standard_normal((4, 3)))), "a 4x3 batch: 3 outputs each"),
        Case((f32(100 * rng.standard_normal(6)), f32(100 * rng.standard_normal(6))), "large values"),
        Case((f32([-1.0, -2.0, -3.0]), f32([1.0, 2.0, 3.0])), "all errors negative"),
        Case((f32([1.5, -0.5, 2.0]), f32([1.45, -0.45, 2.1])), "nearly perfect predictions: a small loss"),
        # the gradient there is 0; a detour through a root, such as sqrt(mse) ** 2, makes it nan (grad_jitter is 0)
        Case((f32([0.5, -1.0, 3.0]), f32([0.5, -1.0, 3.0])), "perfect predictions: the loss is 0",
             trivial="the loss of perfect predictions is 0, which a function that always gives 0 gives too; the "
                     "case is there for the gradient at that 0"),
        Case(_large_and_close(rng), LARGE_AND_CLOSE),
        Case((double(rng.standard_normal((3, 4))), double(rng.standard_normal((3, 4)))),
             "float64 predictions and targets: the loss is float64, compared at float64's precision"),
    ]


LARGE_AND_CLOSE = "large values, each prediction within about 0.01 of its target: a loss of about 1e-4"


def _large_and_close(rng):
    """Targets of size 100 to 1000 and predictions about 0.01 from them, float32: squaring each difference keeps
    the loss's digits; x*x - 2*x*y + y*y subtracts numbers near 1e6 to leave about 1e-4, and loses them."""
    target = rng.uniform(100, 1000, 8)
    return f32(target + 0.01 * rng.standard_normal(8)), f32(target)


NEGATIVE_LOSS = (
    "your loss is negative, and a loss never is: every per-element penalty is >= 0, and so is their mean. Look "
    "for a stray minus sign",
    "compare the sign of each piece of your formula with the formula in the exercise")
SHAPE_ONE = (
    "a loss is a single number, shape (), not a tensor of shape (1,) holding one number: e.g. from .mean() over "
    "everything, without keepdim, reshape or wrapping it in a list",
    "take the mean over all elements with no dim and no keepdim, and return that 0-d tensor as it is")
BY_ROWS = "divide by the count of every element (rows times columns), not by the count of rows"


def _mae(x, y):
    return (x - y).abs().mean()


def _mse_n1(x, y):
    return (x - y).square().sum() / (x.numel() - 1)


def _same_as(got, expected, case, wrong):
    """``got`` is what ``wrong`` gives on the case (and that is not the right answer)."""
    with np.errstate(all="ignore"):
        value = as_float64(wrong(*case.args))
    return bool(np.shape(got) == value.shape and np.allclose(got, value, rtol=1e-5, atol=1e-6)
                and not np.allclose(value, expected, rtol=1e-5, atol=1e-6))


def _mean_over_one_dim(got, expected, case):
    """``got`` is the mean of the squared errors over one dim of a 2-D (or more) input, not over all of them."""
    x, y = (as_float64(a) for a in case.args[:2])
    if np.ndim(got) == 0 or x.ndim < 2:
        return False
    return any(np.shape(got) == np.shape(m) and np.allclose(got, m, rtol=1e-5, atol=1e-6)
               for m in (((x - y) ** 2).mean(axis=k) for k in range(x.ndim)))


# The regression losses of the lesson's table (and Huber's cousin SmoothL1): the text refuses them all inside the
# answers of 02.mse and 02.huber, since each of them computes the other (mse is 2 * huber with a huge delta,
# huber is delta * smooth_l1_loss with beta = delta)
REGRESSION_LOSSES = (F.mse_loss, nn.MSELoss, F.l1_loss, nn.L1Loss, F.huber_loss, nn.HuberLoss, F.smooth_l1_loss,
                     nn.SmoothL1Loss)

tensor_function(
    "02.mse", lambda x, y: F.mse_loss(x, y), _mse_cases, judge=FLOAT32_LOSS, judge64=FLOAT64_LOSS, points=1,
    generic_hints=("factor", "mean_vs_sum"),
    mistakes=[
        mistake(lambda x, y: -F.mse_loss(x, y), *NEGATIVE_LOSS),
        mistake(lambda x, y: (x - y).square(),
                "a loss is a single number, shape (): you returned one value per element. Average them all",
                "end with a mean over everything (no dim argument): that gives shape (), a 0-d tensor"),
        mistake(lambda x, y: F.mse_loss(x, y).reshape(1), *SHAPE_ONE),
        # on the visible example the L1 loss and a sum of squares over N - 1 are the same number, 0.5
        recognised(lambda got, expected, case: all(_same_as(got, expected, case, wrong) for wrong in (_mae, _mse_n1)),
                   "that is the mean *absolute* error (L1 loss), or, the same number on this example, a sum of "
                   "squares divided by N - 1. MSE squares each difference (not its size) and divides the sum of "
                   "the squares by N, the number of elements",
                   "square each difference, then take the mean over every element"),
        mistake(_mae, "that is the mean *absolute* error (L1 loss): MSE squares each difference instead of taking "
                      "its size", "replace the absolute value by the square of each difference"),
        mistake(_mse_n1, "you divided the sum of the squares by N - 1 (as for a sample variance): a mean over N "
                         "elements divides by N", "divide by N, the number of elements, not by N - 1"),
        recognised(_mean_over_one_dim,
                   "you averaged over one dim only, which leaves one number per row (or per column). A loss is "
                   "one number, shape (): the mean over every element",
                   "take the mean without a dim argument"),
        mistake(lambda x, y: (x - y).mean(),
                "positive and negative errors cancel in your mean: each difference must be squared before averaging",
                "square the differences first, then take the mean of the squares"),
        mistake(lambda x, y: (x - y).mean().square(),
                "you squared the mean error: MSE is the mean of the squared errors. Errors of +1 and -1 average to 0, "
                "yet each of them costs 1",
                "square each difference first, then average"),
        mistake(lambda x, y: (x - y).square().mean().sqrt(),
                "that is the root of the MSE (RMSE): the MSE itself has no square root",
                "leave out the square root at the end"),
        mistake(lambda x, y: (x - y).square().sum() / len(x),
                "you divided by len(input), the number of rows: a mean over all elements divides by the number of "
                "elements", BY_ROWS),
        recognised(lambda got, expected, case: case.label == LARGE_AND_CLOSE,
                   "your loss lost its digits where the predictions are large and close to their targets: a formula "
                   "such as x*x - 2*x*y + y*y is right on paper, but in float32 (about 7 significant digits) it "
                   "subtracts numbers near 1e6 to leave about 1e-4, and what is left is mostly rounding "
                   "(catastrophic cancellation, as in lesson 00's variance)",
                   "subtract first, then square each difference: the difference of two close numbers is exact "
                   "in float32, and its square keeps its digits"),
    ],
    forbid=REGRESSION_LOSSES,  # the library's losses of the table: the exercise is to write MSE
    allow=("arithmetic", "mean", "sum"),  # the text's building blocks: any other library function is refused
    tolerate=("sqrt",),  # sqrt(mse) ** 2 is a mistake with its own hint (its gradient at 0), never a right answer
    # MSE has no kink (abs(d) ** 2 gets the slope 0 at d = 0 right too): its gradient is compared at the inputs as
    # they are, so that the perfect predictions keep their loss of exactly 0
    grad_jitter=0.0,
)


# -------------------------------------------------------------------- 02.huber
def _both_sides(rng, shape, delta):
    """Errors of about 2 (most beyond ``delta``), two of them below ``delta``: each piece is used."""
    x = 2 * rng.standard_normal(shape)
    x.flat[:2] = [0.4 * delta, -0.7 * delta]
    return f32(x)


def _huber_cases(rng):
    return [
        Case((f32([2.5, 0.0, 2.0, 8.0]), f32([3.0, -0.5, 2.0, 4.0])), "delta = 1, one large error", visible=True),
        Case((f32(2 * rng.standard_normal(12)), f32(2 * rng.standard_normal(12))), "delta = 1, random errors"),
        Case((_both_sides(rng, (4, 3), 0.5), f32(np.zeros((4, 3)))),
             "delta = 0.5, a 4x3 batch, errors on both sides of delta", {"delta": 0.5}),
        Case((f32([-5.0, -1.0, 0.5, 3.0, 6.0]), f32(np.zeros(5))), "delta = 2, large negative errors",
             {"delta": 2.0}),
        Case((f32(0.1 * rng.standard_normal(8)), f32(0.1 * rng.standard_normal(8))), "delta = 3, only small errors",
             {"delta": 3.0}),
        # Huber is smooth at an error of 0 (slope 0), so the gradient is compared there too (no jitter): every
        # right formula has slope 0 there (its quadratic piece multiplies by d = 0), sqrt(d * d) for |d| gives nan
        Case((f32([1.0, -2.0, 0.5, 3.0, 1.5, -0.25, 0.0, 4.0]), f32([1.0, -2.0, 1.25, 0.5, 0.25, -0.25, 0.0, 4.0])),
             "delta = 1, five predictions exactly right: errors of exactly 0"),
        Case((double(_both_sides(rng, 7, 0.8).numpy()) + double(0.01 * rng.standard_normal(7)), double(np.zeros(7))),
             "delta = 0.8, float64 errors on both sides of delta: the loss is float64, compared at float64's "
             "precision", {"delta": 0.8}),
    ]


def _huber_pieces(x, y, delta, small=lambda d, delta: 0.5 * d * d, large=lambda d, delta: delta * (d - 0.5 * delta),
                  at=None, size=Tensor.abs):
    """Huber's loss of each element, ``small`` where size(x - y) < ``at`` (delta by default), ``large`` elsewhere:
    each wrong answer below changes one of them."""
    d = size(x - y)
    return where(d < (delta if at is None else at), small(d, delta), large(d, delta))


def _huber_one_piece(all_small):
    """One piece for every element, chosen by one Python `if` on the whole tensor."""
    def wrong(x, y, delta=1.0):
        d = (x - y).abs()
        return (0.5 * d * d).mean() if all_small(d < delta) else (delta * (d - 0.5 * delta)).mean()
    return wrong


def _huber_grad_hint(got, want, case):
    """The hint for a gradient that differs from Huber's where an error is exactly 0 (or is nan): what goes wrong
    there; elsewhere "" (the generic hint: a .detach(), a clamp ... cuts the path)."""
    try:
        d = as_float64(case.args[0]) - as_float64(case.args[1])
    except (AttributeError, IndexError, TypeError, ValueError):
        return ""
    got, want = as_float64(got), as_float64(want)
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


tensor_function(
    "02.huber", lambda x, y, delta=1.0: F.huber_loss(x, y, delta=delta), _huber_cases,
    judge=FLOAT32_LOSS, judge64=FLOAT64_LOSS, points=2, generic_hints=("factor", "mean_vs_sum"),
    mistakes=[
        # |d| in the condition only: the linear piece of a negative error is negative (before the sign's row)
        *(mistake(lambda x, y, delta=1.0, _d=d: where(_d(x, y).abs() < delta, 0.5 * _d(x, y) ** 2,
                                                       delta * (_d(x, y) - 0.5 * delta)).mean(),
                  "your linear piece uses the signed error d (input - target, or target - input): where d is below "
                  "-delta, delta * (d - delta/2) is negative, and that element's loss falls as its error grows. You "
                  "took |d| in the condition; the linear piece needs it too",
                  "write the linear piece as delta * (|d| - delta/2), with the absolute error")
          for d in (lambda x, y: x - y, lambda x, y: y - x)),
        mistake(lambda x, y, delta=1.0: -F.huber_loss(x, y, delta=delta), *NEGATIVE_LOSS),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta),
                "a loss is a single number, shape (): you returned one loss per element. Average them all",
                "end with a mean over everything (no dim argument)"),
        mistake(lambda x, y, delta=1.0: F.huber_loss(x, y, delta=delta).reshape(1), *SHAPE_ONE),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta).sum() / len(x),
                "you divided by len(input), the number of rows: the loss is the mean over every element, so it "
                "divides by the number of elements", BY_ROWS),
        # the quadratic piece everywhere: the linear piece forgotten, or chosen away by a Python `if` on .any()
        # (which gives the same numbers on every case), so the hint names both (review of issue 32)
        mistake(lambda x, y, delta=1.0: (0.5 * (x - y).square()).mean(),
                "your loss is the quadratic piece, d^2 / 2, for every element, also where |d| > delta: beyond delta "
                "Huber must grow linearly, as delta * (|d| - delta/2), which is what makes it gentle with outliers. "
                "(If a Python `if` on (|d| < delta).any() chose the piece, it chose once for the whole tensor)",
                "pick the piece for each element: tl.where(|d| < delta, quadratic piece, linear piece)"),
        *(mistake(_huber_one_piece(all_small),
                  "a Python `if` decides once for the whole tensor: with (|d| < delta).all() or .any() every element "
                  "takes the same piece. Huber picks the piece element by element, so a batch with small and large "
                  "errors uses both",
                  "tl.where(condition, a, b) chooses between a and b for each element")
          for all_small in (lambda small: bool(small.all()), lambda small: bool(small.any()))),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, 1.0).mean(),
                "your result does not change with `delta`: the switch from the squared to the linear piece happens "
                "at |d| = delta, and the linear piece is scaled by delta",
                "use the argument delta, not a fixed 1, both in the condition and in the linear piece"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, at=1.0).mean(),
                "the switch between the two pieces happens at |d| = delta, not at 1: with delta = 1 the slip does "
                "not show, with other deltas it does",
                "compare |d| with the argument delta"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, large=lambda d, delta: d - 0.5).mean(),
                "the linear piece must use delta too: delta * (|d| - delta/2). Yours is the piece for delta = 1",
                "use the argument delta in the linear piece, in both places"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, large=lambda d, delta: d - 0.5 * delta).mean(),
                "the linear piece grows with slope delta, not 1: it is delta times (|d| - delta/2), so that it meets "
                "the quadratic piece at |d| = delta with the same slope",
                "multiply the linear piece by delta"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, small=lambda d, delta: delta * (d - 0.5 * delta),
                                                      large=lambda d, delta: 0.5 * d * d).mean(),
                "the two pieces are swapped: small errors (|d| < delta) take the square, large ones the linear "
                "piece, which is what makes Huber gentle with outliers",
                "check which piece goes with which side of delta: in tl.where(condition, a, b), a is taken where the "
                "condition holds, and clamp(max=delta) caps |d| at delta (clamp(min=delta) lifts it to delta)"),
        mistake(lambda x, y, delta=1.0: (_huber_pieces(x, y, delta) / delta).mean(),
                "you divided by delta: that is smooth_l1_loss(beta=delta), Huber's cousin. Huber's pieces have no "
                "division",
                "leave out the division by delta; compare the two pieces with the formula in the exercise"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, large=lambda d, delta: delta * (d + 0.5 * delta))
                .mean(),
                "the linear piece subtracts delta/2: delta * (|d| - delta/2). With + the two pieces do not meet at "
                "|d| = delta (yours gives 3 delta^2 / 2 there, the quadratic piece delta^2 / 2)",
                "check the sign before delta/2 in the linear piece"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, large=lambda d, delta: delta * d).mean(),
                "your two pieces do not meet at |d| = delta, where both must equal delta^2 / 2: the quadratic "
                "piece is d^2 / 2 and the linear one delta * (|d| - delta/2). Check each of yours there",
                "put |d| = delta into each of your two pieces: both must give delta^2 / 2"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, large=lambda d, delta: delta * d - 0.5 * delta)
                .mean(),
                "check the brackets of the linear piece: at |d| = delta it must give delta^2 / 2, the value of the "
                "quadratic piece there. With delta = 1 the slip does not show; with other deltas it does",
                "delta/2 must be subtracted from |d| before the product with delta; yours is subtracted after it"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, small=lambda d, delta: d * d).mean(),
                "the quadratic piece is *half* the square: with the 1/2 its slope reaches exactly delta where the "
                "linear piece takes over",
                "multiply the squared piece by 0.5"),
        mistake(lambda x, y, delta=1.0: _huber_pieces(x, y, delta, size=lambda d: d).mean(),
                "a large negative error must cost as much as a large positive one: work with the size of the error, "
                "|d|, not the signed difference",
                "take the absolute value of input - target before comparing it with delta and in the linear piece"),
        recognised(lambda got, expected, case: np.ndim(got) == 0 and -np.inf < float(as_float64(got)) < 0,
                   *NEGATIVE_LOSS),
    ],
    forbid=REGRESSION_LOSSES,  # the library's Huber loss, its cousin SmoothL1, and the other losses of the table
    allow=("arithmetic", "where", "clamp", "max", "min", "relu", "mean", "sum"),  # (relu: a clamp at 0)
    # smooth at an error of 0: the gradient is compared at errors of exactly 0 too (no jitter; no case has an error
    # of exactly delta, where right formulas differ: clamp(max=delta) plus delta * (d - delta).clamp(min=0) gets
    # slope 2 delta there, as each clamp passes slope 1 at its boundary)
    grad_jitter=0.0, grad_hint=_huber_grad_hint,
)


# -------------------------------------------------------------------- 02.bce_with_logits
def _bce_cases(rng):
    return [
        Case((f32([2.0, -1.0, -0.5, 3.0]), f32([1.0, 0.0, 1.0, 0.0])), "4 logits", visible=True),
        Case((f32(2 * rng.standard_normal(10)), f32(rng.integers(0, 2, 10))), "10 random logits"),
        Case((f32(3 * rng.standard_normal((4, 3))), f32(rng.integers(0, 2, (4, 3)))),
             "a 4x3 batch: 3 yes/no labels per sample"),
        Case((f32([1000.0, -1000.0, 30.0, -30.0, 200.0, -200.0]), f32([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])),
             "large logits: confident, right and wrong"),
        Case((f32(rng.standard_normal(6)), f32(rng.uniform(0, 1, 6))), "soft targets between 0 and 1"),
        # a zero-initialised output layer gives logits of exactly 0: the slope there is sigma(0) - y = 1/2 - y
        Case((f32([0.0, 0.0, 0.0, 0.0, 1.5, -1.5]), f32([1.0, 0.0, 0.3, 0.5, 1.0, 0.0])),
             "logits of exactly 0, as a zero-initialised layer gives"),
        # the naive formulas break at float64 logits of +-800 as they do at +-100 in float32
        Case((double(np.concatenate([[800.0, -800.0, 750.0, -750.0], 2 * rng.standard_normal(4)])),
              double(np.concatenate([[0.0, 1.0, 1.0, 0.0], rng.uniform(0, 1, 4)]))),
             "float64 logits up to +-800, confident and wrong, and soft targets: the loss is float64, compared at "
             "float64's precision"),
    ]


def _bce_of_probability(clamp=0.0, eps=0.0):
    """The textbook BCE of p = sigmoid(x), clamped to [clamp, 1 - clamp], with ``eps`` added inside each log."""
    def wrong(x, y):
        p = x.sigmoid().clamp(clamp, 1 - clamp) if clamp else x.sigmoid()
        return -(y * (p + eps).log() + (1 - y) * (1 - p + eps).log()).mean()
    return wrong


BCE_CAPPED = (
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


tensor_function(
    "02.bce_with_logits", lambda logits, target: F.binary_cross_entropy_with_logits(logits, target), _bce_cases,
    # the gradient that trains a model, the logits', is compared; a target's (PyTorch has one) would refuse a rounded
    # target on the example, before the soft targets that name that mistake (attack of session 37)
    judge=FLOAT32_LOSS, judge64=FLOAT64_LOSS, points=2, grad=("logits",),
    generic_hints=("factor", "mean_vs_sum", "overflow"),
    mistakes=[
        mistake(_bce_of_probability(),
                "your loss is nan for large logits: an infinity met a 0 or another infinity. The textbook formula "
                "does that (sigmoid(1000) rounds to exactly 1.0, log(1 - 1) is -inf, and 0 * -inf is nan), and so "
                "does an exp that overflows to inf (inf - inf, inf * 0 and inf / inf are nan). Never form the "
                "probability or the exp of a large number: work from the logits, with the boxed stable form",
                "in the boxed form exp only ever sees -m and x - m, both <= 0, so nothing overflows and no log of a "
                "rounded probability is taken"),
        mistake(lambda x, y: -F.binary_cross_entropy_with_logits(x, y),
                "your loss is negative, and a loss never is: BCE is *minus* the log of the probability given to the "
                "right answer, and the log of a probability is <= 0. Check the signs",
                "compare the sign of each of your terms with the boxed stable form"),
        mistake(lambda x, y: (x.clamp(min=0) + x * y + (-x.abs()).exp().log1p()).mean(),
                "the term with the target has the wrong sign: the more the logit agrees with the target, the lower "
                "the loss must be",
                "the product of logit and target is subtracted"),
        mistake(lambda x, y: F.binary_cross_entropy_with_logits(x, 1 - y),
                "your loss is that of the flipped targets (1 - target), on this example at least (so is a term with "
                "the target other than - x * y, such as - m * y or - y): a logit that agrees with its target must cost "
                "less than one that disagrees. The target multiplies the logit, x * y, in the subtracted term",
                "compare your term with the target in it with the boxed stable form: it is - x * y"),
        mistake(lambda x, y: (x.clamp(min=0) - x * y - (-x.abs()).exp().log1p()).mean(),
                "the log term has the wrong sign: log(1 + e^(-|x|)) is added, never subtracted (at a logit of 0 "
                "the loss is log 2 whatever the target: the cost of a coin flip)",
                "add log(1 + exp(-|x|)), as in the boxed stable form"),
        mistake(lambda x, y: (-x * y + (-x.abs()).exp().log1p()).mean(),
                "a term is missing: your loss is too small for positive logits. The stable form has three terms",
                "add m = max(x, 0): x for a positive logit, 0 for a negative one (clamp does it)"),
        mistake(lambda x, y: (x.exp().log1p() - x * y).mean(),
                "an exp in your formula overflows: e^x is inf for x > 88 in float32 (e^(-x) for x < -88), so "
                "log(1 + e^x), written as it is or with e^(-x), is inf for large logits. The boxed form shifts it "
                "by m = max(x, 0) so that exp only ever sees a number <= 0",
                "log(1 + e^x) = m + log(e^(-m) + e^(x - m)) for any m: with m = max(x, 0) both exps get a number <= 0"),
        # two slips give the same numbers (log(1 + e^-x) = |x| + log(1 + e^-|x|) for x < 0): one hint for both
        mistake(lambda x, y: (x.clamp(min=0) - x * y + (-x).exp().log1p()).mean(),
                "your loss is too large (on the example, as much as |x| at the negative logits adds): either the "
                "first term is |x| where it must be m = max(x, 0) (0 for a negative logit), or the last term is the "
                "log of 1 + e^(-x) where it must be that of 1 + e^x, which the boxed form writes as "
                "log(e^(-m) + e^(x - m)) (e^(-x) also overflows for x < -88), or the term - x * y is missing",
                "the boxed form has m = max(x, 0) first, then - x * y, and log(e^(-m) + e^(x - m)) last: compare each "
                "of your terms with it"),
        mistake(lambda x, y: (lambda m: (m - x * y + (m.exp() + (x - m).exp()).log()).mean())(x.clamp(min=0)),
                "your loss is too large by m = max(x, 0) at every logit: either m is counted twice, or the first "
                "exp inside the log is e^(+m) where the boxed form has e^(-m), with a minus (e^(+m) also overflows "
                "for large logits). With m = max(x, 0), e^(-m) and e^(x - m) both get a number <= 0",
                "m once, then - x * y, then log(e^(-m) + e^(x - m)): compare each of your terms with the boxed form"),
        mistake(lambda x, y: (x.clamp(min=0) - x * y + x.abs().exp().log1p()).mean(),
                "your loss is too large by |x| at every logit: the last term of the max(x, 0) form is "
                "log(1 + e^(-|x|)), with a minus in the exponent (log(1 + e^|x|) is |x| more, and e^|x| overflows "
                "for |x| > 88 in float32)",
                "the exponent must be <= 0 for every logit: -|x|, or the boxed form's -m and x - m"),
        mistake(lambda x, y: (lambda m: (m - x * y + ((-m).exp() + (-x - m).exp()).log()).mean())(x.clamp(min=0)),
                "the second exp inside the log is e^(x - m), the logit minus m: yours negates the logit, e^(-x - m), "
                "which takes x off each element's loss (adds |x| at a negative logit), and e^(-x) overflows for "
                "x < -88",
                "log(e^(-m) + e^(x - m)): compare the sign in each exponent with the boxed form"),
        mistake(lambda x, y: (x.clamp(min=0) - x * y + (x - x.clamp(min=0)).exp().log1p()).mean(),
                "for positive logits your loss is too large by log 2: inside the log the first exp is e^(-m), which "
                "is 1 only where m = 0 (a negative logit); for a positive logit m = x, and the sum is e^(-x) + 1",
                "keep e^(-m) inside the log: log(e^(-m) + e^(x - m))"),
        mistake(lambda x, y: (x.clamp(min=0) - x * y + (1 + (-x.abs()).exp()).log1p()).mean(),
                "your last term is the log of 2 + e^(-|x|): the 1 is counted twice. log1p(z) is log(1 + z) and adds "
                "its own 1, and in the boxed form one of e^(-m) and e^(x - m) already is e^0 = 1",
                "either log(1 + e^(-|x|)) or log1p(e^(-|x|)); in the boxed form, the log of the sum of its two exps"),
        mistake(lambda x, y: (lambda m: (m - x * y + ((-m).exp() + (x - m).exp()).log()).mean())(x.abs()),
                "your shift m is too large for some logits: both exps inside the log then underflow to 0, and the "
                "log of 0 is -inf. That happens with m = |x| at a logit of -1000, or with one m for the whole batch "
                "(its largest logit) at a logit far below it. m = max(x, 0), one for each logit, keeps the larger "
                "of its two exps at exactly e^0 = 1",
                "one m per logit, max(x, 0): 0 for a negative logit, the logit itself for a positive one"),
        # (the same numbers: log(e^(-|x|)) = -|x| and log(e^(-m)) + log(e^(x - m)) = x - 2m are equal everywhere)
        mistake(lambda x, y: (x.clamp(min=0) - x * y + (-x.abs()).exp().log()).mean(),
                "your last term comes out as -|x|: either it is log(e^(-|x|)), where the term is log(1 + e^(-|x|)) "
                "with the 1 (log1p(z) is log(1 + z), log is not), or the log of the sum is split into a sum of "
                "logs, log(e^(-m)) + log(e^(x - m)), which is just x - 2m = -|x|",
                "log1p(e^(-|x|)); in the boxed form, add the two exps first, then take one log of the sum"),
        mistake(lambda x, y: (x.clamp(min=0) - x * y + (-x.clamp(min=0)).exp().log1p()).mean(),
                "for negative logits your last term is log 2, whatever the logit: in log(1 + e^(-|x|)) the exponent "
                "holds the absolute value |x|, and e^(-max(x, 0)) is e^0 = 1 for every negative logit",
                "in the boxed form the last term is log(e^(-m) + e^(x - m)): the two exps, then one log of their sum"),
        mistake(lambda x, y: F.binary_cross_entropy_with_logits(x, (y > 0.5).float()),
                "your loss is right for targets of 0 and 1 but not for soft targets: a target may be any probability "
                "in [0, 1] (a soft label), and it goes into the formula as it is, not rounded to 0 or 1",
                "use target as it is given: no rounding, no comparison with 0.5"),
        mistake(lambda x, y: (x.clamp(min=0) - x * y + (-x.abs()).exp().log1p()).sum() / len(x),
                "you divided by len(logits), the number of rows: the loss is the mean over every element, so it "
                "divides by the number of elements", BY_ROWS),
        mistake(lambda x, y: F.binary_cross_entropy(x.sigmoid(), y),
                "you turned the logits into probabilities and used the loss on probabilities: at logits of +-1000 "
                "the sigmoid rounds to exactly 0 or 1, and the library then caps each log at -100, so a confident "
                "wrong answer costs 100 instead of about 1000. Work from the logits, with the boxed stable form",
                "the boxed form never forms a probability: write it with clamp, exp and log"),
        *(mistake(_bce_of_probability(clamp=eps), *BCE_CAPPED) for eps in (1e-5, 1e-6, 1e-7)),  # 1 - 1e-8 is 1.0
        *(mistake(_bce_of_probability(eps=eps), *BCE_CAPPED) for eps in (1e-5, 1e-6, 1e-7, 1e-8, 1e-10, 1e-12)),
        recognised(lambda got, expected, case: np.ndim(got) == 0 and -np.inf < float(as_float64(got)) < 0,
                   *NEGATIVE_LOSS),
    ],
    stability=True,
    stability_hint=("a step inside your function overflowed or went invalid (the warning names it: an exp of a large "
                    "number, or the log of a number <= 0, such as -m.exp(), which is -(e^m)). If a tl.where picks a "
                    "safe formula for each element: where computes both of its branches for every element before it "
                    "chooses, so the branch it does not pick still overflows. Use one formula that is safe everywhere, "
                    "the boxed stable one",
                    "in the boxed form exp only ever sees -m and x - m, both <= 0, and log a sum of two positive "
                    "exps (mind that -m.exp() is -(e^m): the exp of -m is (-m).exp())"),
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
    grad_hint=_bce_grad_hint,
)


# -------------------------------------------------------------------- 02.log_softmax
def _log_softmax_cases(rng):
    return [
        Case((f32([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]),), "2 samples, 3 classes", visible=True),
        Case((f32(rng.standard_normal((4, 5))),), "4 samples, 5 classes"),
        Case((f32(rng.standard_normal(6)),), "one sample, shape (6,)"),
        Case((f32(rng.standard_normal((2, 3, 4))),), "shape (2, 3, 4): classes are the last dim"),
        # the largest logit is not the first (a shift by z[0] overflows), nor the largest |z| (a shift by -1000
        # underflows), and one row only (the whole tensor's maximum is right here; the next cases show it wrong)
        Case((f32([-5.0, 100.0, -1000.0, 90.0]),), "one sample whose largest logit is not its first"),
        Case((f32([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -999.0]]),), "large logits, +-1000"),
        Case((f32([[1000.0, 0.0, -5.0], [50.0, -60.0, 0.0]]),), "logits far apart: tiny probabilities"),
        Case((f32(rng.standard_normal((1, 5))),), "a batch of one sample, shape (1, 5): the result keeps that shape"),
        # float64's own edges: e^z overflows it for z > 709.8, and a probability below 5e-324 rounds to 0 (here
        # e^-1800), so log(softmax) gives -inf
        Case((double([[800.0, 801.5, -1000.0, 790.0], [-3.0, 0.5, 2.0, -1.25]]),),
             "float64 logits up to 801.5 and 1800 apart: the result is float64, compared at float64's precision"),
    ]


OVERFLOW = (
    "exp of a large logit overflows: exp(1000) is inf in float32, and inf / inf or inf - inf is nan. Shift each "
    "row by its own maximum before exp: the shift cancels out (the log-sum-exp trick)",
    "with m the maximum of each row, only exp(z - m) <= 1 is ever computed, and log(sum(exp(z))) is m plus the "
    "log of the sum of those")
GLOBAL_MAX = (
    "subtract each row's own maximum, not the maximum of the whole tensor, nor a maximum clamped at 0 (the shift of "
    "bce_with_logits): a row whose logits lie far below the shift underflows entirely (every exp is 0, and log(0) "
    "= -inf)",
    "reduce over the last dim only, and keep it (keepdim), so that the (N, 1) column of maxima broadcasts "
    "against the (N, C) logits; no clamp: a row's maximum is negative when all its logits are")
CAPPED_LOG = (
    "adding a small eps (or clamping) before the log hides log(0) = -inf, but caps every log-probability at "
    "about log(eps): a log-probability of -1000 must come out as -1000. Stay in log space",
    "never take the log of a probability: use the log-sum-exp trick of the log_softmax exercise")
CAPS = (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-20, 1e-30)  # the eps of an eps added, or a clamp, before the log


def _log_softmax_by_max(z, m):
    shifted = z - m
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def _shifted(x):
    return x - x.amax(-1, keepdim=True)


def _clamped_shift(x):  # bce_with_logits' max(z, 0) taken for the log-sum-exp shift
    return _log_softmax_by_max(x, x.amax(-1, keepdim=True).clamp(min=0))


tensor_function(
    "02.log_softmax", lambda logits: F.log_softmax(logits, dim=-1), _log_softmax_cases,
    dtype_mistakes=(CAST_TO_FLOAT32,), judge=FLOAT32_LOG_SPACE, judge64=FLOAT64_LOG_SPACE, points=2, stability=True,
    generic_hints=("overflow",), error_hints=[NO_KEEPDIM, MAX_PAIR],
    mistakes=[
        mistake(lambda x: x - x.exp().sum(-1, keepdim=True).log(), *OVERFLOW),
        mistake(lambda x: (x.exp() / x.exp().sum(-1, keepdim=True)).log(), *OVERFLOW),
        mistake(lambda x: x.softmax(-1).log(),
                "log of a probability that rounded to 0: in float32 a probability below about 1e-45 is exactly 0 "
                "and log(0) = -inf, although its log (say -1000) is an ordinary number. Never form the "
                "probabilities and then take their log: stay in log space",
                "the formula of the log_softmax exercise computes only exp(z - m) <= 1 and the log of a sum that is "
                "at least 1, so no log of 0 can happen"),
        *(mistake(lambda x, eps=eps: (x.softmax(-1) + eps).log(), *CAPPED_LOG) for eps in CAPS),
        *(mistake(lambda x, eps=eps: x.softmax(-1).clamp(min=eps).log(), *CAPPED_LOG) for eps in CAPS),
        mistake(lambda x: x.log_softmax(0),
                "normalise along the last dim (the classes), not dim 0: exp of each row must sum to 1",
                "reduce with dim=-1"),
        mistake(lambda x: x.log_softmax(1 if x.ndim == 3 else -1),  # dim 1 is the last on 2-D
                "the classes are the *last* dim: with shape (N, T, C), dim 1 is T",
                "reduce with dim=-1, which is the last dim whatever the number of dims"),
        mistake(lambda x: _shifted(x).exp() / _shifted(x).exp().sum(-1, keepdim=True),
                "you returned the probabilities (the softmax), each between 0 and 1; the exercise asks for their "
                "logs, which are <= 0, computed without ever forming the probabilities",
                "log p = (z - m) - log(sum(exp(z - m))): no division, a subtraction in log space"),
        mistake(lambda x: _shifted(x) + _shifted(x).exp().sum(-1, keepdim=True).log(),
                "the log of the sum is subtracted, not added: log p = log(exp(s) / sum(exp(s))), and the log of a "
                "quotient is the difference of the logs. The largest of your log-probabilities is positive, and the "
                "log of a probability never is",
                "(z - m) minus the log of the sum of the exps of (z - m)"),
        mistake(_shifted,
                "subtracting the max is only the first step: exp of your result does not sum to 1 in each row",
                "also subtract the log of the sum of the exps of the shifted logits"),
        mistake(lambda x: _log_softmax_by_max(x, x.amax()), *GLOBAL_MAX),
        mistake(_clamped_shift, *GLOBAL_MAX),
        mistake(lambda x: _log_softmax_by_max(x, x.amax(0, keepdim=True)),
                "your shift m is the max over dim 0 (down the columns), not along the last dim: a shift cancels only "
                "if it is one number per row, the same for every class of that row, and yours differs from class to "
                "class",
                "take m = the max along dim=-1, with keepdim=True, and sum along dim=-1 too"),
        mistake(lambda x: _shifted(x) - _shifted(x).exp().sum(0, keepdim=True).log(),
                "you summed the exps over dim 0, the rows, rather than along the last dim, the classes: each row's "
                "probabilities must sum to 1 over its own classes",
                "sum with dim=-1, keepdim=True"),
        mistake(lambda x: x - _shifted(x).exp().sum(-1, keepdim=True).log(),
                "your log-probabilities are too large by each row's maximum m: the log of the sum of exp(z) is "
                "m + log(sum(exp(z - m))), so the m you took out must come back (or use z - m in both places)",
                "log p = (z - m) - log(sum(exp(z - m))): subtract m from the logits as well"),
    ],
    # the library's, its op, and its logsumexp (the stable log of the sum of exps is this exercise's trick)
    forbid=(F.log_softmax, log_softmax, Tensor.log_softmax, nn.LogSoftmax, LogSoftmaxOp, Tensor.logsumexp, logsumexp,
            "torch.logsumexp", "torch.Tensor.logsumexp", "torch.special.logsumexp"),
    allow=("arithmetic", "exp", "log", "max", "sum"),  # (numpy's logaddexp, scipy's logsumexp ... are refused)
    # the log of a softmax (clamped or not), and a shift by the mean, are mistakes with hints of their own (a
    # probability that underflows to 0, a log capped at log(eps), exp overflowing), never a right answer
    tolerate=("softmax", "clamp", "mean"),
)


# -------------------------------------------------------------------- 02.cross_entropy
def _cross_entropy_cases(rng):
    return [
        Case((f32([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]), classes([0, 2])), "2 samples, 3 classes", visible=True),
        Case((f32(rng.standard_normal((8, 5))), classes(rng.integers(0, 5, 8))), "8 samples, 5 classes"),
        Case((f32(rng.standard_normal((1, 4))), classes([3])), "a batch of one sample"),
        Case((f32(3 * rng.standard_normal((5, 10))), classes(rng.integers(0, 10, 5))), "5 samples, 10 classes"),
        # exp overflows here (a naive formula fails), but no probability is tiny (log(softmax) still works) ...
        Case((f32([[1000.0, 1001.0, 1002.0, 999.0], [998.0, 1000.0, 999.0, 1001.0]]), classes([0, 3])),
             "logits around 1000"),
        # ... and here a probability underflows to 0 (log(softmax) fails), but nothing overflows: two hints apart
        Case((f32([[0.0, -200.0, 5.0], [10.0, -150.0, 0.0]]), classes([1, 1])),
             "a true class far below the others: a tiny probability"),
        Case((f32([[1000.0, 1001.0, 1002.0, 999.0], [-1000.0, 0.0, 1000.0, 5.0], [0.0, 0.0, 0.0, 0.0]]),
              classes([2, 0, 1])), "large logits, +-1000"),
        Case((f32([[-1000.0, -1001.0, -1002.0], [0.5, 2.5, -1.0]]), classes([0, 2])),
             "a row whose logits all lie far below 0"),
        # float64's own edges: e^z overflows it for z > 709.8, and the true class of the second row has probability
        # e^-1600, which rounds to 0
        Case((double([[800.0, 801.0, 799.5], [800.0, -800.0, 0.0], [0.3, -1.2, 2.5]]), classes([0, 1, 2])),
             "float64 logits up to 801, a true class 1600 below its row's largest: the loss is float64, compared at "
             "float64's precision"),
    ]


def _picked(logp, target):
    return logp[arange(len(target)), target]


tensor_function(
    "02.cross_entropy", lambda logits, target: F.cross_entropy(logits, target), _cross_entropy_cases,
    dtype_mistakes=(CAST_TO_FLOAT32,), judge=FLOAT32_LOG_SPACE, judge64=FLOAT64_LOG_SPACE,  # as for log_softmax
    points=2, grad=("logits",), stability=True, generic_hints=("mean_vs_sum", "overflow"),
    error_hints=[NO_KEEPDIM, MAX_PAIR, ONE_HOT_COLUMNS],
    mistakes=[
        mistake(lambda z, t: _picked(z.log_softmax(1), t).mean(),
                "your loss is negative, and a loss never is: it is *minus* the log-probability of the true class "
                "(a log-probability is <= 0)",
                "put a minus sign in front of the mean"),
        mistake(lambda z, t: -_picked(z.softmax(1), t).mean(),
                "you averaged probabilities: the loss is minus the *log*-probability of the true class",
                "pick from the log-softmax of the logits, not from their softmax"),
        # before the naive formula: both give inf on the last case, which the naive one never reaches
        mistake(lambda z, t: -_picked(_log_softmax_by_max(z, z.amax()), t).mean(), *GLOBAL_MAX),
        mistake(lambda z, t: -_picked(_clamped_shift(z), t).mean(), *GLOBAL_MAX),
        mistake(lambda z, t: -_picked(z.softmax(1).log_softmax(1), t).mean(),
                "you turned the logits into probabilities before the cross-entropy: it takes the raw logits, and "
                "its log-softmax does the normalising. Probabilities, all within [0, 1], give every class nearly "
                "the same log-probability, so the loss hardly responds to the model",
                "give the logits themselves to the log-softmax, with no softmax before it"),
        mistake(lambda z, t: -_picked(z - z.exp().sum(1, keepdim=True).log(), t).mean(), *OVERFLOW),
        mistake(lambda z, t: -_picked(z.softmax(1).log(), t).mean(),
                "log of a probability that rounded to 0: in float32 a probability below about 1e-45 is exactly 0 "
                "and log(0) = -inf, although the true log-probability (say -200) is an ordinary number. Stay in log "
                "space: never take the log of a softmax",
                "use a log_softmax (yours, or the library's method), which never forms the probabilities"),
        mistake(lambda z, t: -(z.log_softmax(1) * F.one_hot(t, z.shape[1])).mean(),
                "average over the batch only: one log-probability per sample (N numbers). A mean over all N x C "
                "entries also divides by the number of classes C",
                "pick one entry per row (or sum over the classes first), then take the mean of the N numbers"),
        mistake(lambda z, t: -_picked(z.log_softmax(0), t).mean(),
                "the log-softmax must run over the classes (dim 1, each row), not over the batch (dim 0)",
                "use dim=1 (or dim=-1) in the log-softmax"),
        mistake(lambda z, t: -z.log_softmax(1)[:, t].mean(),
                "logp[:, target] takes whole columns (an N x N block), not one entry per row: pair each row number "
                "with its class, as in the indexing example above the exercise",
                "index with two integer tensors of length N: the row numbers 0, 1, ..., N-1, and target"),
        mistake(lambda z, t: -_picked(z.log_softmax(1), z.argmax(1)).mean(),
                "you picked the log-probability of the *predicted* class (the largest logit): the loss uses the true "
                "class, given by `target`",
                "pick each row's entry at target[n], not at the argmax"),
        mistake(lambda z, t: -_picked(z.log_softmax(1), t - 1).mean(),
                "the classes are numbered from 0, like Python's indices: target[n] already is the column of sample "
                "n's true class, with no shift by 1",
                "index with target itself"),
        mistake(lambda z, t: -_picked(z, t).mean(),
                "you picked the logit of the true class itself; the loss uses its log-probability, the log-softmax "
                "of the logits, which also depends on the other classes' logits",
                "first turn the logits into log-probabilities (your log_softmax), then pick"),
        *(mistake(wrong,
                  "your loss does not pick each row's own class: in row n it must take the log-probability of class "
                  "target[n], and yours takes one column for every row, or no pick at all",
                  "index the log-probabilities with the row numbers and `target`")
          for wrong in (lambda z, t: -z.log_softmax(1)[:, 0].mean(), lambda z, t: -z.log_softmax(1).mean())),
    ],
    # the library's cross-entropy, and its second half (picking and averaging); its log_softmax method is allowed
    forbid=(F.cross_entropy, nn.CrossEntropyLoss, F.nll_loss, nn.NLLLoss),
    allow=("arithmetic", "exp", "log", "max", "sum", "mean", "log_softmax", "logsumexp", "where"),
    tolerate=("softmax", "clamp"),  # the log of a softmax (clamped or not) is a mistake with its own hint
)
