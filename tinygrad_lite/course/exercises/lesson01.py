r"""Lesson 01, the forward pass: the checks of dense_forward, relu, sigmoid, mlp_forward (``kinds.tensor_function``)
and kaiming_normal_std (``kinds.number``).

The learner's functions take float32 tensors, as in the notebook, and return a tensor of their dtype connected to
its inputs' graph (kaiming_normal_std a Python float); the references are the library's own ``nn.functional`` and
``nn.init`` formulas, tested against PyTorch elsewhere. Gradients are compared too, so a result rebuilt from numpy,
detached, or with a nan gradient fails. Each tensor exercise has one float64 case (issue 32), where a ``.float()``
or a float32 tensor made inside fails. The hidden cases are chosen so that the usual mistakes show (each
exercise's cases say how).
"""
import math

import numpy as np

from ... import Tensor, nn, relu, sigmoid, where
from ...nn import functional as F
from ...ops import activation as op
from ..checks import Case, ErrorHint, compare_log
from .kinds import (
    CAST_TO_FLOAT32,
    Within,
    as_float64,
    double,
    f32,
    is_float64,
    mistake,
    number,
    recognised,
    tensor_function,
)

# -------------------------------------------------------------------- 01.dense_forward
DENSE_EXAMPLE = (
    [[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]],                                       # x: N = 2 samples with 3 features
    [[0.5, -1.0, 0.0], [0.0, 1.0, 1.0], [2.0, 0.0, -0.5], [-1.0, 1.0, 0.5]],   # W: (out, in) = (4, 3), a row a neuron
    [0.25, 1.0, -1.0, 0.5],                 # b: (out,) = (4,), no bias 0: adding b[0] alone shows
)


def _dense_case(rng, n, n_in, n_out, label, scale=1.0, make=f32):
    return Case((make(scale * rng.standard_normal((n, n_in))), make(rng.standard_normal((n_out, n_in))),
                 make(rng.standard_normal(n_out))), label)


def _dense_cases(rng):
    cases = [
        Case(tuple(f32(a) for a in DENSE_EXAMPLE), "x_ex, W_ex and b_ex", visible=True),
        _dense_case(rng, 8, 5, 3, "a batch of 8, 5 features in, 3 out"),
        _dense_case(rng, 1, 4, 6, "a batch of one sample, 4 in, 6 out"),
        _dense_case(rng, 16, 2, 10, "2 features in, 10 out: more outputs than inputs"),
        _dense_case(rng, 5, 64, 7, "64 features in, 7 out, large inputs", scale=100.0),
        _dense_case(rng, 6, 3, 5, "float64 inputs, 3 in, 5 out: the result is float64, compared at float64's "
                                  "precision", make=double),
    ]
    # every weight but one is rectangular (out != in), so x @ W fails loudly, a result in the column convention
    # (out, N) is recognised, and W.reshape(in, out) (not a transpose) gives wrong numbers. The square one (review),
    # where x @ W fits the shapes and only its numbers are wrong (an answer that transposes only when the shapes
    # demand it fails there), is drawn last, so that the other cases keep their numbers; the float64 case stays last
    square = _dense_case(rng, 4, 6, 6, "a square weight, 6 in and 6 out: without the transpose the shapes fit "
                                       "too, and only the numbers are wrong")
    return cases[:-1] + [square, cases[-1]]


def _one_bias_for_all(got, expected, case):
    """The weighted sums plus one number for every output (b[0], b.sum(), b.mean() ...), where the biases differ."""
    x, W, b = (as_float64(a) for a in case.args)
    got = as_float64(got)
    if got.shape != (x.shape[0], W.shape[0]) or np.ptp(b) < 1e-3:
        return False
    added = got - x @ W.T
    return bool(np.ptp(added) <= 1e-4 * max(1.0, float(np.abs(got).max())) and abs(added.flat[0]) > 1e-4)


COLUMN_CONVENTION = (
    "W @ x.T is the textbook's column convention, y = W x + b for one sample stored as a column: it gives one "
    "column per sample, shape (out, N). Here the samples are the rows of x, and the result needs one row per "
    "sample, shape (N, out), so that b (out,) lines up with its last dim",
    "transpose both sides of y = W x: with samples as rows the input comes first and the weight is transposed, "
    "as in section 2's formula Y = X W^T + b")

tensor_function(
    "01.dense_forward", lambda x, W, b: F.linear(x, W, b), _dense_cases,
    judge=Within(1e-5, 1e-5), judge64=Within(1e-12, 1e-12), points=1,
    mistakes=[
        mistake(lambda x, W, b: x @ W.T,
                "the bias is missing: every neuron adds its own bias after its weighted sum, and your outputs are "
                "the weighted sums alone (b is never used)",
                "b has shape (out,), one number per neuron: added to a result of shape (N, out) it lines up with "
                "the last dim and is broadcast over the N rows, so one addition gives every sample its biases"),
        # (an error, and no match, where W is not square; before the reshape: on the square case W.reshape(in, out)
        # is W itself)
        mistake(lambda x, W, b: x @ W + b,
                "your layer multiplies x by W itself on this case, whose W is square (out = in): the shapes fit "
                "either way, but W's rows are the neurons' weights, and the product you wrote pairs each sample "
                "with W's columns instead",
                "section 2's formula Y = X W^T + b holds for every W, square or not: the transpose is never "
                "decided by the shapes"),
        mistake(lambda x, W, b: x @ W.reshape(W.shape[1], W.shape[0]) + b,
                "W.reshape(in, out) has the shape of the transpose but not its numbers: reshape reads the elements "
                "row by row, in the order W prints them, and only regroups them into new rows",
                "a transpose swaps rows and columns, so that column j holds neuron j's weights (W.T in section 2's "
                "printout); a reshape never does that"),
        recognised(_one_bias_for_all,
                   "you added one and the same number to every output: each neuron (each column of the result) "
                   "has its own bias, and b holds one per neuron",
                   "b has shape (out,): added whole to a result of shape (N, out), it lines up with the last dim, "
                   "so that column j gets b[j]"),
        mistake(lambda x, W, b: x @ W.T - b,
                "the bias is added to the weighted sum, not subtracted: z = w . x + b",
                "look at the operator between the matrix product and b"),
        mistake(lambda x, W, b: W @ x.T + b.reshape(-1, 1), *COLUMN_CONVENTION),
        # the port bug of section 2: x reshaped to (in, N) where the column convention needs x.T (review 0001)
        mistake(lambda x, W, b: (W @ x.reshape(x.shape[1], x.shape[0]) + b.reshape(-1, 1)).T,
                "you reshaped x to (in, N) where the samples had to become columns: reshape reads the numbers row "
                "by row, in the order x prints them, and only regroups them, so each column your product takes "
                "for one sample holds pieces of several real samples (section 2, 'A mistake to recognise in ports')",
                "a transpose, not a reshape, turns rows into columns; simpler still, keep x as (N, in), one "
                "sample per row, and follow section 2's formula Y = X W^T + b"),
        mistake(lambda x, W, b: F.relu(x @ W.T + b),
                "your layer applies a ReLU: a dense layer's output is the weighted sums plus the biases, negative "
                "ones included. The activation is a separate step, which mlp_forward applies between layers",
                "leave out the clamp (or relu, or where) at the end"),
    ],
    forbid=(F.linear, nn.Linear),  # the library's dense layer: the exercise is to write it
    allow=("arithmetic", "matmul", "sum"),  # the text's building blocks: any other library function is refused
    error_hints=[
        # W @ x.T is (out, N); b (out,) lines up with its last dim N, not with out: "shapes (4, 2) and (4,)"
        ErrorHint(r"shapes \((\d+), \d+\) and \(\1,\) cannot be broadcast", *COLUMN_CONVENTION),
    ],
)


# -------------------------------------------------------------------- 01.relu
RELU_EXAMPLE = [[-2.0, -0.5, 0.0, 1.5], [3.0, -1.0, 0.25, -4.0]]


def _all_negative_but_one(rng, shape):
    """Negative values, but one positive one at a random place: an answer of zeros does not pass."""
    x = -rng.uniform(0.1, 5.0, shape)
    x[tuple(int(rng.integers(n)) for n in shape)] = rng.uniform(0.5, 5.0)
    return f32(x)


def _relu_cases(rng):
    return [
        Case((f32(RELU_EXAMPLE),), "relu_ex", visible=True),
        Case((f32(rng.standard_normal((5, 7))),), "a batch of 5 rows with 7 values each"),
        Case((f32(rng.standard_normal(10)),), "a 1-D tensor of 10 values"),
        Case((_all_negative_but_one(rng, (3, 3)),), "all negative but one value: only that output is not 0"),
        Case((f32(rng.standard_normal((2, 3, 4))),), "a 3-D tensor: the shape must not change"),
        Case((f32(1e6 * rng.standard_normal((4, 4))),), "large values, up to a few million"),
        # a comparison with a small threshold (x > 1e-6 "against float noise") zeroes these (review 7, 0001)
        Case((f32([[1e-7, -1e-7, 3e-12, -3e-12, 1.0], [1e-20, -1e-20, 1e-37, -1e-37, -1.0]]),),
             "tiny positive and negative values, down to 1e-37"),
        # issue 32, the edges of float32: (x + |x|) / 2 overflows for x above 1.7e38 (float32's largest is 3.4e38:
        # x + |x| is 2x), and x / 2 + |x| / 2 rounds float32's smallest number, 1.4e-45, to 0. relu gives x, exactly
        Case((f32([[3e38, -3e38, 2e38, -1.7e38, 1.0], [1.4e-45, -1.4e-45, 4.2e-45, -2.0, 1e-40]]),),
             "values near float32's largest (3e38) and smallest (1.4e-45)"),
        # the same edges in float64's range
        Case((double(np.concatenate([rng.standard_normal(6), [1.5e308, -1.5e308, 1e308, 5e-324, -5e-324, 1e-310]])
                     .reshape(3, 4)),),
             "float64 values, up to 1.5e308 and down to 5e-324: the result is float64, compared at float64's "
             "precision"),
    ]


ELEMENTWISE = ("look for an operation that works on each element on its own and keeps the shape: a comparison with 0 "
               "gives a mask shaped like x, tl.where picks element by element, and a clamp bounds every element")

KEEP_WHERE_MASK = "the mask says where to keep x and where to put 0: combine it with the values of x"


def _is_mask(kind):
    """The answer is the mask x > 0 itself, as booleans (``kind`` bool) or as 0.0 and 1.0 (``kind`` float)."""
    def match(got, expected, case):
        mask = as_float64(case.args[0]) > 0
        right_kind = got.dtype == np.bool_ if kind is bool else got.dtype.kind == "f"
        return bool(right_kind and got.shape == mask.shape and np.array_equal(got.astype(bool), mask)
                    and np.isin(got, (0, 1)).all())
    return match


def _on_x(test):
    """A mistake's match by ``test(got, x)``: the answer and the input, as float64 arrays of the same shape."""
    def match(got, expected, case):
        x, got = as_float64(case.args[0]), as_float64(got)
        return got.shape == x.shape and bool(test(got, x))
    return match


@_on_x
def _is_leaky(got, x):
    """x where x > 0 and a * x elsewhere, for one slope a other than 0 and 1."""
    if not np.allclose(got[x > 0], x[x > 0], rtol=1e-5) or not (x < 0).any():
        return False
    slopes = got[x < 0] / x[x < 0]  # (atol=0: the tiny "slopes" of a constant, 1e-12 / x, are not one slope)
    return np.allclose(slopes, slopes[0], rtol=1e-4, atol=0.0) and 0 < abs(slopes[0]) < 1


@_on_x
def _is_floored(got, x):
    """max(x, c) for one small c > 0: a clamp at a small floor (clamp(min=1e-12)) instead of at 0."""
    if not (x <= 0).any():
        return False
    c = got[x <= 0].flat[0]
    return 0 < c < 1e-2 and np.array_equal(got, np.maximum(x, c))


@_on_x
def _is_thresholded(got, x):
    """x where x > t and 0 elsewhere, for some t > 0 that some positive x do not exceed."""
    zeroed, kept = (x > 0) & (got == 0), (x > 0) & (got == x)
    return (zeroed.any() and (zeroed | kept | ((x <= 0) & (got == 0))).all()
            and (not kept.any() or x[zeroed].max() < x[kept].min()))


@_on_x
def _is_capped(got, x):
    """max(x, 0) clipped from above at some c > 0 that some x exceed (relu6, clamp(0, 1) ...)."""
    c = got.max()
    return (got > 0).any() and (x > c).any() and np.allclose(got, np.clip(x, 0, c), rtol=1e-5, atol=1e-7)


KEEP_EVERY_POSITIVE = ("ReLU keeps every x > 0 as it is, however small (hidden cases go down to float32's smallest "
                       "number, 1.4e-45, and float64's, 5e-324), so compare with 0 itself, not with a small threshold")
HALVES = ("(x + |x|) / 2 (or x (sign(x) + 1) / 2) is max(x, 0) on paper, but a computer's numbers have a largest and "
          "a smallest: x + |x| is 2x, which overflows to inf for x above half the largest number (1.7e38 in float32, "
          "9e307 in float64), and halving x first rounds the smallest positive numbers (float32's 1.4e-45) to 0. "
          "ReLU only compares and selects, so it is exact for every x: relu(3e38) is 3e38",
          "build it from a comparison with 0, where or a clamp: each element is either x itself or 0, with no "
          "arithmetic on x that could overflow or round")


def _relu_grad_hint(got, want, case):
    """The gradient differs only where x is 0 or nearly so, and is 0 there: a small threshold, seen on the inputs
    moved a little (0 moved a little above 0 is a small positive x, which ReLU keeps with slope 1)."""
    x = as_float64(case.args[0])
    if got.shape != x.shape or want.shape != x.shape:
        return ""
    bad = ~np.isclose(got, want, rtol=1e-4, atol=1e-6)
    if bad.any() and (np.abs(x[bad]) <= 1e-2).all() and (got[bad] == 0).all():
        return ("the gradient differs only where x is 0 or nearly 0. For this comparison the inputs are moved a "
                "little, so such an x can become a small positive number, and there your result is 0, with slope 0 "
                "(a small threshold in the comparison?): " + KEEP_EVERY_POSITIVE)
    return ""


tensor_function(
    "01.relu", lambda x: F.relu(x), _relu_cases, dtype_mistakes=(CAST_TO_FLOAT32,),
    judge=Within(1e-5, 0.0),  # relu's outputs are exact: 0 or x itself (a clamp at 1e-8 is not relu)
    points=1, generic_hints=("sign",), grad_hint=_relu_grad_hint,
    mistakes=[
        # issue 32: the edges of the dtype (before the threshold, which a halved 1.4e-45 rounded to 0 also matches)
        mistake(lambda x: (x + x.abs()) / 2, *HALVES),
        mistake(lambda x: x / 2 + x.abs() / 2, *HALVES),
        *(mistake(wrong, "x.max(0) is a reduction, like np.max(x, 0): it keeps only the largest value along dim 0 "
                  "(and a tensor's max(dim) returns the values and their indices), so the shape shrinks. ReLU "
                  "compares every element with 0 on its own", ELEMENTWISE)
          for wrong in (lambda x: x.max(0), lambda x: x.max(0).values)),
        mistake(lambda x: x.max(),
                "x.max() is one number, the largest of the whole tensor. ReLU compares every element with 0 on its "
                "own, and keeps the shape", ELEMENTWISE),
        mistake(lambda x: x.clamp(max=0),
                "you kept the negative values and set the positive ones to 0: that is min(x, 0). ReLU is max(x, 0)",
                "clamp's min= is a lower bound (nothing stays below it) and max= an upper bound: which of the two "
                "does ReLU put on x?"),
        recognised(_is_mask(bool), "x > 0 is the mask (True where x is positive), not the values", KEEP_WHERE_MASK),
        recognised(_is_mask(float), "(x > 0).float() is 1 wherever x is positive; ReLU keeps the value of x itself "
                                    "there", KEEP_WHERE_MASK),
        mistake(lambda x: x.abs(),
                "abs(x) turns the negative values positive; ReLU sets them to 0",
                "the positive values stay and the negative ones become 0: an operation that bounds every element "
                "from below does exactly that"),
        recognised(_is_floored,
                   "the negative values (and 0) must become exactly 0; yours all become the same small positive "
                   "number, as a clamp with a small min (min=1e-12) gives: ReLU's lower bound is 0 itself",
                   "bound the elements from below at 0 exactly: a floor \"against zeros\" changes every negative "
                   "output, and every positive x below the floor too"),
        recognised(_is_leaky,
                   "the negative values must become exactly 0; yours become a small multiple of x (that is leaky "
                   "ReLU, a cousin of ReLU)",
                   "where x is negative the output is the constant 0, whatever x is"),
        recognised(_is_thresholded, "some small positive values became 0: " + KEEP_EVERY_POSITIVE + " (and compare x "
                   "itself: arithmetic before the comparison, such as x * 0.5 > 0, rounds the smallest positive x "
                   "to 0 first)",
                   "a comparison of x with 0 is exact for every float: no rounding makes a negative x compare above "
                   "0, and none makes a positive one compare equal to it"),
        recognised(_is_capped, "the large values are capped: ReLU has no upper bound, every positive value stays as "
                               "it is", "bound the elements from below only, at 0"),
    ],
    error_hints=[
        ErrorHint(r"Boolean value of a tensor",
                  "a Python `if` (or Python's max(x, 0), `and`, `or`) needs one True or False, but x > 0 on a "
                  "tensor gives one per element: work on all the elements at once, with tensor operations",
                  ELEMENTWISE),
    ],
    # the library's relu, as a function, a method or a module; all of them run its op (op.ReLU), listed last. Its
    # leaky_relu with slope 0 is relu too (review 0001)
    forbid=(F.relu, relu, Tensor.relu, nn.ReLU, op.ReLU, F.leaky_relu, nn.LeakyReLU, op.LeakyReLU),
    allow=("arithmetic", "clamp", "where", "max", "min"),  # the text's building blocks
)


# -------------------------------------------------------------------- 01.sigmoid
SIGMOID_EXAMPLE = [-100.0, -20.0, -5.0, -1.0, 0.0, 1.0, 5.0, 100.0]


def _sigmoid_cases(rng):
    return [
        Case((f32(SIGMOID_EXAMPLE),), "sigmoid_ex", visible=True),
        Case((f32(np.where(rng.random((4, 5)) < 0.3, 0.0, rng.standard_normal((4, 5)))),),
             "a 4x5 batch of values around 0, some of them exactly 0"),
        Case((f32(rng.uniform(-500.0, 500.0, 12)),), "large positive and negative values, up to +-500"),
        # exp(-x) overflows float32 below -88.7, and the naive 1 / (1 + exp(-x)) returns exactly 0 where the true
        # value is tiny but positive (sigmoid(-100) = 3.78e-44, a float32 subnormal)
        Case((f32(rng.uniform(-100.0, -89.0, (2, 3))),), "very negative values, -100 to -89: tiny results"),
        Case((f32(np.concatenate([rng.uniform(-1000.0, -200.0, 5), [-60.0, 2.0]])),),
             "extremely negative values (their results round to 0), with -60 and 2"),
        Case((f32(rng.standard_normal((2, 3, 4))),), "a 3-D tensor: the shape must not change"),
        # float64's own edge: exp(-x) overflows it for x < -709.8, where sigmoid(x) is still a positive float64
        # (sigmoid(-740) = 4.2e-322, a subnormal)
        Case((double(np.concatenate([[-744.0, -740.0, -720.0, -709.0, 0.0, 710.0, 800.0],
                                     rng.standard_normal(5) * 3.0])),),
             "float64 values, from -744 to 800: the result is float64, compared at float64's precision"),
    ]


def _sigmoid_compare(got, expected, case):
    """Positive results in log space (a tiny value must be neither 0 nor a clamped 9e-14), with a word on values
    lost to 0 (their exp overflowed). The float64 case at float64's precision."""
    tol = 1e-12 if is_float64(expected) else 1e-4
    failure = compare_log(got, expected, log_tol=tol, rtol=min(tol, 1e-5), atol=0.0)
    if not failure or not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return failure
    lost = (expected > 0) & (got == 0)
    if lost.any():
        where_ = np.unravel_index(int(np.argmax(lost)), lost.shape)
        x = float(np.asarray(case.args[0].numpy())[where_])
        value = float(expected[where_])
        failure += (f". sigmoid({x:.6g}) = {value:.4g}{' is tiny but not 0,' if value < 1e-6 else ','} and you "
                    f"returned exactly 0 ({int(lost.sum())} of {lost.size} values are 0 where they should not be)")
    return failure


def _clamped(got, expected, case):
    """A clamp of x before exp: every wrong value is one and the same number, too large, for x beyond the bound
    (sigmoid(-30) = 9.4e-14 for every x < -30)."""
    x = as_float64(case.args[0])
    got, expected = got.astype(np.float64), expected.astype(np.float64)
    off = np.abs(np.log(np.maximum(got, 1e-300)) - np.log(np.maximum(expected, 1e-300))) > 1e-3
    if not off.any() or not (got[off] > expected[off]).all() or not np.all(x[off] < 0):
        return False
    values = got[off]
    if not np.allclose(values, values[0], rtol=1e-5, atol=0.0) or not 0 < values[0] < 0.5:
        return False
    bound = math.log(values[0] / (1 - values[0]))  # the x whose sigmoid it is
    return bool(np.all(x[off] < bound))


def _one_minus_when_negative(got, expected, case):
    """The answer is sigmoid(x) for x >= 0 and 1 - sigmoid(|x|) for x < 0 (exact on paper, but it cancels to 0 in
    float32), to within 1e-6 (tighter than the check's: float32 formulas that differ only in their rounding must be
    told apart), and that is not the right answer. On a float64 case, to within 1e-9: a right formula computed in
    float32 there (e.g. a .float() before exp) is float32's rounding, which the check's float32 hint names."""
    x = case.args[0]
    e = (-x.abs()).exp()
    wrong = as_float64(where(x >= 0, 1 / (1 + e), 1 - 1 / (1 + e)))
    rtol = 1e-9 if is_float64(expected) else 1e-6
    got, expected = as_float64(got), as_float64(expected)
    return bool(got.shape == wrong.shape and np.allclose(got, wrong, rtol=rtol, atol=0)
                and not np.allclose(wrong, expected, rtol=1e-5, atol=0))


def _where_formulas(e_of):
    """The section's two formulas picked by tl.where, with ``e_of(x)`` as e in place of e^(-|x|)."""
    def wrong(x):
        e = e_of(x)
        return where(x >= 0, 1 / (1 + e), e / (1 + e))
    return wrong


NO_OVERFLOW = ("take exp only of numbers that are never positive: with e = exp(-|x|), which lies in [0, 1], the "
               "section above gives one formula for x >= 0 and one for x < 0, and tl.where picks between them")
SIGMOID_OF_MINUS_X = (
    "you computed sigmoid(-x) = 1 - sigmoid(x): the output must grow with x (sigmoid(5) is close to 1, sigmoid(-5) "
    "close to 0)",
    "check the sign in the exponent, and whether the two branches of your tl.where are swapped")
MISSING_ABS = (
    "your e overflows: the two formulas are safe only if every exp gets a number that is never positive, for every "
    "element (tl.where computes both branches everywhere). Look at what your e is for very negative x",
    "the formulas above use e = e^(-|x|): the absolute value keeps the exponent at or below 0 on both sides")
SMOOTH = ("sigmoid is smooth, and its slope sigma(x) (1 - sigma(x)) is never 0: 1/4 at x = 0, where the check "
          "compares the gradient too (of a randomly weighted sum of your outputs, so the numbers above are these "
          "slopes times the weights)")


def _sigmoid_grad_hint(got, want, case):
    """The hint for a gradient that differs from sigmoid's: at x = 0 only, what goes wrong there (the slope of
    -|x| at 0 taken from abs, sqrt(x * x), or from the other side by a second where whose condition disagrees at 0);
    elsewhere "" (the generic hint: nan from an overflow in a branch, a detach ...)."""
    x = np.asarray(case.args[0].numpy())
    got, want = as_float64(got), as_float64(want)
    if got.shape != x.shape:
        return ""
    with np.errstate(invalid="ignore"):
        off = ~np.isclose(got, want, rtol=1e-4, atol=1e-6)
    if not off.any() or not (x[off] == 0).all():
        return ""
    g, w = got[off], want[off]
    if np.isfinite(g).all() and np.allclose(g, -w, rtol=1e-4, atol=1e-6):
        return ("your slope at x = 0 has the wrong sign, -1/4 instead of 1/4: at x = 0 your two tl.where pick "
                "opposite sides (e.g. x > 0 in one condition and x >= 0 in the other), so the e of one side goes "
                "into the formula of the other side. Make both conditions pick the same side at 0")
    if not np.isfinite(g).all():
        return (SMOOTH + ". Autograd takes the slope of sqrt(x * x) at exactly 0 as nan (0 * inf), so an -|x| built "
                "from it gives sigma'(0) = nan. Written with tl.where, -|x| takes the slope of the branch it picks")
    if (g == 0).all():
        return (SMOOTH + ". An -|x| built from abs, from an elementwise min (or max) of x and -x, or from two "
                "clamps at 0 has slope 0 at x = 0: autograd takes the slope of abs at exactly 0 as 0 (sign(0) = 0), "
                "a min splits it at the tie, (1 + (-1)) / 2, and clamp(max=0) - clamp(min=0) passes slope 1 through "
                "each clamp at its bound, 1 - 1. So sigma'(0) comes out 0. Written with tl.where, -|x| takes the "
                "slope of the branch it picks")
    return (SMOOTH + ". At x = 0 your formula's slope differs: a step that bends at 0 (abs, a clamp at 0, or a "
            "tl.where whose two sides have different slopes there) decides it. Both sides of sigmoid's formulas "
            "have the same slope at 0, as long as e and the result are taken from the same side")


tensor_function(
    "01.sigmoid", lambda x: F.sigmoid(x), _sigmoid_cases, dtype_mistakes=(CAST_TO_FLOAT32,),
    compare=_sigmoid_compare, match=Within(1e-5, 0.0),  # (atol 0: a tiny value is not 0)
    points=2, stability=True,
    # an overflow that matches no mistake: most often right values from a where over the two naive formulas
    stability_hint=(
        "an overflow anywhere in your function fails this exercise, even in values that are thrown away: "
        "tl.where(cond, a, b) computes both a and b for every element before it picks, so a formula that "
        "overflows for some x overflows there even where it is not picked (and its inf makes the gradient nan). "
        "A wider dtype does not help either: in float64, exp overflows beyond about e^709",
        "write both branches so that they are safe for every x: " + NO_OVERFLOW),
    grad_jitter=0.0,  # smooth: the gradient is compared at exactly x = 0 too (sigmoid_ex holds 0)
    grad_hint=_sigmoid_grad_hint,
    mistakes=[
        mistake(lambda x: 1 / (1 + (-x).exp()),
                "an exp or a division overflowed: for very negative x you return 0 instead of a tiny positive number. "
                "1 / (1 + exp(-x)) overflows for very negative x, as does any exp of a large positive number (exp(|x|) "
                "too) or 1 / e of a tiny e: exp(100) is inf in float32 (the largest float32 is about 3.4e38, e^88.7)",
                NO_OVERFLOW),
        recognised(_one_minus_when_negative,
                   "for negative x you computed 1 - sigmoid(|x|): right on paper, but sigmoid(|x|) is close to 1, "
                   "and in float32 1 minus a number close to 1 loses the small result (for x below about -17, "
                   "sigmoid(|x|) rounds to exactly 1 and 1 - 1 = 0)",
                   "for x < 0 use the section's formula that divides instead of subtracting: with e = e^(-|x|), "
                   "a tiny e gives a tiny result"),
        mistake(lambda x: 0.5 * (1 + (0.5 * x).tanh()),
                "0.5 * (1 + tanh(x / 2)) is exact on paper, but in float32 a tanh near -1 is a multiple of about "
                "6e-8, and so is the sum 1 + tanh(x / 2): the tiny result has almost no digits left (below about "
                "x = -15 it can be off by a few percent or more), and below about -20 it is exactly 0", NO_OVERFLOW),
        mistake(lambda x: x.exp() / (1 + x.exp()),
                "exp(x) / (1 + exp(x)) overflows for large positive x: exp(100) is inf in float32, and inf / inf "
                "is nan", NO_OVERFLOW),
        mistake(lambda x: 1 / (1 + x.exp()), *SIGMOID_OF_MINUS_X),
        mistake(lambda x: F.sigmoid(-x), *SIGMOID_OF_MINUS_X),  # the same, computed without overflow
        mistake(_where_formulas(lambda x: (-x).exp()), *MISSING_ABS),
        mistake(_where_formulas(lambda x: x.exp()), *MISSING_ABS),
        recognised(_clamped,
                   "you clamped x before exp: that stops the overflow, but every x beyond the bound gets the "
                   "sigmoid of the bound (sigmoid(-30) = 9.4e-14, where sigmoid(-100) = 3.7e-44)",
                   "no clamp is needed: " + NO_OVERFLOW),
    ],
    # the library's sigmoid, and its op; and its softmax, which is sigmoid on the pair (0, x) (review 0001); and
    # softplus and BCE with logits, whose overflow-safe -log(sigmoid) gives exp(-softplus(-x)) = sigmoid(x) (round 4)
    forbid=(F.sigmoid, sigmoid, Tensor.sigmoid, nn.Sigmoid, op.Sigmoid, F.softmax, F.log_softmax, Tensor.softmax,
            Tensor.log_softmax, nn.Softmax, nn.LogSoftmax, op.Softmax, op.LogSoftmax, F.softplus,
            F.binary_cross_entropy_with_logits),
    allow=("arithmetic", "exp", "where", "clamp", "log", "max", "min"),  # (tanh, logsigmoid, expit ... are refused)
)


# -------------------------------------------------------------------- 01.mlp_forward
MLP_EXAMPLE = (
    [[1.0, -1.0], [0.5, 2.0], [-1.5, 0.0]],                                # x: a batch of 3 samples with 2 features
    [([[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]], [0.0, -0.5, 0.5]),         # layer 1: W (3, 2), b (3,)
     ([[1.0, -2.0, 0.5], [-1.0, 1.0, 1.0]], [0.5, -1.0])],                # layer 2: W (2, 3), b (2,)
)


def _layers(rng, sizes, scale=1.0, make=f32):
    return [(make(scale * rng.standard_normal((n_out, n_in))), make(rng.standard_normal(n_out)))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def _mlp_cases(rng):
    x, layers = MLP_EXAMPLE  # (one-layer networks have no ReLU at all; negative outputs show a ReLU after the last)
    cases = [
        Case((f32(x), [(f32(W), f32(b)) for W, b in layers]), "mlp_x_ex and mlp_layers_ex", visible=True),
        Case((f32(rng.standard_normal((6, 4))), _layers(rng, [4, 8, 8, 3])), "3 layers, 4 -> 8 -> 8 -> 3"),
        Case((f32(rng.standard_normal((5, 3))), _layers(rng, [3, 2])), "a single layer: no ReLU at all"),
        Case((f32(rng.standard_normal((1, 5))), _layers(rng, [5, 7, 4])), "a batch of one sample, 5 -> 7 -> 4"),
        Case((f32(rng.standard_normal((10, 2))), _layers(rng, [2, 16, 16, 16, 2], scale=0.5)),
             "4 layers, 2 -> 16 -> 16 -> 16 -> 2"),
    ]
    # one (W, b) object three times in `layers`, a layer applied 3 times (tied weights): the last layer is the last
    # by its position, so an answer that recognises it by identity (W is layers[-1][0]) or by equality leaves out
    # every ReLU here (review 3, 0001)
    shared = _layers(rng, [4, 4])[0]
    cases.append(Case((f32(rng.standard_normal((6, 4))), [shared] * 3),
                      "one layer applied 3 times: the same (W, b) pair is every entry of `layers`, 4 -> 4 -> 4 -> 4"))
    return cases + [Case((double(rng.standard_normal((4, 3))), _layers(rng, [3, 5, 2], make=double)),
                         "float64 inputs, 3 -> 5 -> 2: the result is float64, compared at float64's precision")]


def mlp_reference(x, layers):
    """h = relu(h W^T + b) for every layer but the last, which is h W^T + b (no activation: the raw scores)."""
    for i, (W, b) in enumerate(layers):
        x = F.linear(x, W, b)
        if i < len(layers) - 1:
            x = F.relu(x)
    return x


def _mlp_wrong(act_after=lambda i, layers: i < len(layers) - 1, activation=F.relu, last=None,
               bias=lambda i, layers: True, relu_input=False):
    """The MLP with one thing changed: ``activation`` (instead of ReLU) after layer i where ``act_after(i,
    layers)`` (instead of before the last), the bias of layer i only where ``bias(i, layers)``, ``last`` applied
    to the output, or a ReLU on the input."""
    def wrong(x, layers):
        if relu_input:
            x = F.relu(x)
        for i, (W, b) in enumerate(layers):
            x = x @ W.T + b if bias(i, layers) else x @ W.T
            if act_after(i, layers):
                x = activation(x)
        return last(x) if last else x
    return wrong


NO_LAST_ACTIVATION = "no activation at all after the last layer: its outputs go out as they are"

tensor_function(
    "01.mlp_forward", mlp_reference, _mlp_cases, dtype_mistakes=(CAST_TO_FLOAT32,),
    judge=Within(1e-5, 1e-5), judge64=Within(1e-12, 1e-12), points=2,
    mistakes=[
        # before "the ReLU is missing": on the shared layers an identity test leaves out every ReLU, only there
        mistake(_mlp_wrong(act_after=lambda i, layers: layers[i][0] is not layers[-1][0]),
                "here the same (W, b) pair is every entry of `layers` (one layer applied 3 times, shared weights), "
                "and no ReLU ran: your function seems to recognise the last layer by its weights (with `is` or "
                "`==`) or their shape, so every use of the last layer's pair counts as the last layer",
                "the last layer is the last by its position in the list, whatever its weights: count the layers"),
        mistake(_mlp_wrong(act_after=lambda i, layers: True),
                "your last layer has a ReLU too: its outputs are raw scores (logits), which must be able to be "
                "negative. The ReLU goes between layers only",
                "apply it after every layer except the last: compare the layer's position with the number of layers"),
        mistake(_mlp_wrong(act_after=lambda i, layers: False),
                "the ReLU between the layers is missing: without it the layers collapse into a single linear map",
                "after every layer but the last, apply your relu (negative values become 0)"),
        mistake(_mlp_wrong(relu_input=True),
                "you applied a ReLU to the input x itself; the activation comes after a layer's weighted sums, "
                "not before the first layer",
                "with L layers there are L - 1 ReLUs: one after each of layers 1 to L - 1, none on x and none on "
                "the output"),
        mistake(_mlp_wrong(bias=lambda i, layers: False),
                "the biases are missing: each layer adds its b after its weighted sums",
                "each pair (W, b) is one dense layer, exactly what your dense_forward computes"),
        mistake(lambda x, layers: F.relu(F.linear(x, *layers[0])) if len(layers) > 1 else F.linear(x, *layers[0]),
                "your output is the first layer's, after its ReLU: the layers after it did not run. Is the "
                "`return` inside the loop, or does the loop stop before the last layer? Every layer must run",
                "the return belongs after the loop (one indentation level to the left), and the loop goes over "
                "every (W, b) in `layers`, the last one too"),
        mistake(_mlp_wrong(act_after=lambda i, layers: i > 0),
                "your ReLUs sit after every layer but the first: the first layer's outputs go into the second "
                "without an activation, and the last layer's outputs (the raw scores) lose their negative values",
                "count the layers from 0: a ReLU follows layer i for every i before the last one"),
        mistake(_mlp_wrong(bias=lambda i, layers: i < len(layers) - 1),
                "the last layer has lost its bias: every layer, the last one too, adds its b after its weighted "
                "sums; only the ReLU is left out after the last layer",
                "compare what you do for the last layer with what you do for the others: only the ReLU differs"),
        mistake(_mlp_wrong(last=lambda z: F.softmax(z, dim=1)),
                "your outputs are probabilities: a softmax after the last layer. The MLP returns the raw scores "
                "(logits) of the last layer, and the loss turns them into probabilities itself (lesson 02); a "
                "softmax here followed by -sum t log p gives nan or inf as soon as a probability rounds to 0",
                NO_LAST_ACTIVATION),
        mistake(_mlp_wrong(last=F.sigmoid),
                "your outputs went through a sigmoid after the last layer: the MLP returns the raw scores (logits), "
                "and a loss that applies its own sigmoid or softmax would then squash them twice", NO_LAST_ACTIVATION),
        *(mistake(_mlp_wrong(activation=activation),
                  "between the layers you applied another activation than ReLU (a sigmoid, tanh or leaky ReLU): the "
                  "exercise asks for your relu after every layer but the last",
                  "ReLU is max(x, 0): negative values become exactly 0 and positive ones pass unchanged")
          for activation in (F.sigmoid, F.tanh, F.leaky_relu, lambda z: F.leaky_relu(z, 0.1),
                             lambda z: F.leaky_relu(z, 0.2))),
        mistake(_mlp_wrong(activation=lambda z: z.max(0).values),
                "between the layers you took h.max(0), a reduction (the largest value of each column), so the shape "
                "shrinks. ReLU compares every element with 0 on its own",
                "h.clamp(min=0) does, and so does your relu once its own check passes"),
        mistake(lambda x, layers: x,
                "your result is x itself: no layer changed h. The cell gives `h = x` and `return h`; in between, "
                "each layer must replace h with its output (h = ...)",
                "loop over the pairs in `layers`, and assign each layer's output back to h"),
        mistake(lambda x, layers: F.linear(x, *layers[0]),
                "only the first layer was applied: the output comes from the last layer, after every (W, b) in "
                "`layers` has been applied in turn",
                "loop over the pairs, feeding each layer's output into the next, starting from x"),
    ],
    # the blocks of dense_forward and relu (which it may call), and the library's layer and relu (the text allows
    # them: the exercise is the chaining); another activation (leaky_relu, tanh, gelu ...) is refused
    allow=("arithmetic", "matmul", "sum", "clamp", "where", "max", "min", "linear", "relu"),
    error_hints=[
        # the second layer met x (or an h never reassigned), or the layers ran in another order
        ErrorHint(r"matmul: shapes .* cannot be multiplied",
                  "a layer got an input whose last dim is not the in of its W: does each layer multiply by W's "
                  "transpose (W is stored as (out, in), as your dense_forward takes it), is h reassigned at every "
                  "layer (h = ...), is h (not x) what the next layer gets, and do the layers run in the list's order? "
                  "(If the traceback ends in your own dense_forward, the error is there: make 01.dense_forward "
                  "pass first.)",
                  "layer k's input is layer k-1's output, times W's transpose: h starts as x, and each step of the "
                  "loop replaces it"),
    ],
)


# -------------------------------------------------------------------- 01.kaiming_normal_std
KAIMING_EXAMPLE = (32, 128)  # the weight of nn.Linear(128, 32): (out_features, in_features)


def kaiming_std_reference(weight_shape):
    """std = gain / sqrt(fan_in) with ReLU's gain sqrt(2) and fan_in = in_features = weight_shape[1]."""
    _, fan_in = weight_shape
    return math.sqrt(2.0) / math.sqrt(fan_in)


EXAMPLE_STD = kaiming_std_reference(KAIMING_EXAMPLE)


def _kaiming_cases(rng):
    shapes = []
    while len(shapes) < 4:
        shape = tuple(int(n) for n in rng.integers(1, 1025, 2))
        answers = [kaiming_std_reference(shape), EXAMPLE_STD] + [m.wrong(shape) for m in KAIMING_MISTAKES if m.wrong]
        # every known wrong formula gives another number (each mistake gets its own hint): keep them apart
        if min(abs(a - b) / b for i, a in enumerate(answers) for b in answers[:i]) > 1e-3:
            shapes.append(shape)
    return ([Case((KAIMING_EXAMPLE,), "weight_shape (32, 128), the weight of nn.Linear(128, 32)", visible=True)]
            # (a hidden case's label is shown to the learner: it names no drawn number, the shape being the input)
            + [Case((s,), f"random layer shape {k} of 4 (1 to 1024 inputs and outputs)")
               for k, s in enumerate(shapes, 1)]
            + [Case(((10, 784),), "784 inputs, 10 outputs"), Case(((512, 3),), "3 inputs, 512 outputs")])


def _equals(number):
    """A mistake's match: the answer is one number, equal to ``number(weight_shape)`` (to within float64 rounding)."""
    return lambda got, expected, case: bool(np.ndim(got) == 0 and np.isclose(float(got), number(case.args[0]),
                                                                              rtol=1e-9, atol=0))


ONE_INPUT_MORE = _equals(lambda s: math.sqrt(2.0 / (s[1] + 1)))  # fan_in + 1 (or an odd fan_in / 2 rounded up)
ROOT_OF_THE_VARIANCE = "the standard deviation is the square root of the variance, of all of it"

# a weight_shape s is (out_features, in_features): fan_in is s[1], fan_out s[0]
KAIMING_MISTAKES = [
    # (no `wrong`: _kaiming_cases keeps mistakes apart by ratio; a float 0, as (2 // n) ** 0.5 gives, not int())
    recognised(lambda got, expected, case: bool(np.asarray(got).dtype.kind == "f" and np.ndim(got) == 0 and got == 0),
               "your std is 0: 2 // fan_in is integer (floor) division, which is 0 for every fan_in above 2, and "
               "so is its root",
               "divide with /, which gives a float: sqrt(2 / fan_in)"),
    mistake(lambda s: math.sqrt(2.0 / s[0]),
            "your std is that of weight_shape[0], the number of outputs (fan_out), on this shape (the first entry, "
            "or a max() or min() of the shape that picks it here). A Linear weight has PyTorch's layout "
            "(out_features, in_features); Kaiming's fan_in is the number of inputs each neuron sums over",
            "fan_in is the second entry of the shape: the in_features of nn.Linear(in_features, out_features)"),
    mistake(lambda s: 1.0 / math.sqrt(s[1]),
            "1 / sqrt(fan_in) keeps the variance for a linear layer, but ReLU zeroes half of its inputs and halves "
            "the signal's second moment: Kaiming compensates with a gain",
            "the gain for ReLU is sqrt(2) (nn.init.calculate_gain('relu')), and it multiplies the std"),
    mistake(lambda s: 2.0 / math.sqrt(s[1]),
            "the factor 2 belongs to the variance, Var(W) = 2 / fan_in, not to the std (ReLU's gain sqrt(2) put "
            "in front of a std that already has the 2 in it gives this number too: it counts the 2 twice)",
            ROOT_OF_THE_VARIANCE + ": sqrt(2 / fan_in), the 2 under the root once and nothing in front of it"),
    mistake(lambda s: 2.0 / s[1],
            "2 / fan_in is the variance of the weights; the exercise asks for their standard deviation",
            ROOT_OF_THE_VARIANCE),
    mistake(lambda s: math.sqrt(2.0 / (s[1] + s[0])),
            "that is Xavier/Glorot's std, which averages fan_in and fan_out (made for tanh). Kaiming/He, for ReLU, "
            "uses fan_in only",
            "section 5: Kaiming's variance is 2 / fan_in"),
    mistake(lambda s: math.sqrt(6.0 / s[1]),
            "that is the bound a of Kaiming's *uniform* U(-a, a), sqrt(3) times the std; the normal version's std "
            "is asked for",
            "a uniform U(-a, a) has variance a^2 / 3: the std is the bound divided by sqrt(3)"),
    mistake(lambda s: math.sqrt(1.0 / (3 * s[1])),
            "that is the std of nn.Linear's own default init, U(-1/sqrt(in), 1/sqrt(in)), which section 7 shows is "
            "smaller than Kaiming's: the exercise asks for Kaiming's normal std for ReLU",
            "section 5: Kaiming's variance is 2 / fan_in"),
    mistake(lambda s: 5.0 / 3.0 / math.sqrt(s[1]),
            "your gain is tanh's, 5/3 (nn.init.calculate_gain('tanh')); this layer is followed by a ReLU, whose "
            "gain is sqrt(2)",
            "the gain for ReLU is nn.init.calculate_gain('relu')"),
    mistake(lambda s: math.sqrt(6.0 / (s[1] + s[0])),
            "that is the bound a of Xavier/Glorot's *uniform* U(-a, a), made for tanh, with fan_out in it. Kaiming's "
            "normal std, for ReLU, uses fan_in only, and a std is not a bound",
            "section 5: Kaiming's variance is 2 / fan_in, and the std is its square root"),
    recognised(lambda got, expected, case: (_equals(lambda s: math.sqrt(1.0 / (s[1] // 2)) if s[1] > 1 else 0.0)(
               got, expected, case) and got != expected),  # (the same number for an even fan_in)
               "fan_in // 2 is integer (floor) division: for an odd fan_in it drops the half, so your std is off "
               "there (2 / fan_in is not 1 / (fan_in // 2) then)",
               "divide with /, which gives a float: sqrt(2 / fan_in)"),
    mistake(lambda s: math.sqrt(2.0 / (s[0] * s[1])),
            "you divided by the number of weights in the matrix (out * in); fan_in is the number of inputs one "
            "neuron sums over",
            "fan_in is one entry of the shape, the in_features"),
    mistake(lambda s: math.sqrt(2.0) / s[1],
            ROOT_OF_THE_VARIANCE + ": of the 2 and of fan_in",
            "divide sqrt(2) by the square root of fan_in, not by fan_in itself"),
    # issue 32: a Python float keeps float64's 16 digits, and the check compares at that precision; the std
    # computed in float32 (a tensor's default dtype, np.float32) keeps 7. Before the "close" hint below
    recognised(lambda got, expected, case: bool(np.ndim(got) == 0 and got != expected
                                                and abs(float(got) / expected - 1) < 2.5e-7),
               "your number has float32's 7 significant digits (it differs from the right one by about 1e-8 of "
               "it): it went through float32, a tensor's default dtype (tl.tensor(...) of a Python number) or "
               "np.float32. A Python float keeps about 16 digits, as PyTorch's init computes it, and the check "
               "compares at that precision",
               "compute it with Python's math on Python numbers (math.sqrt, **): .item() or float() of a float32 "
               "value does not bring back the digits it lost"),
    # two near misses that the "close" hint below would misname (review 0001); matches, not wrong functions, since
    # the cases need not be chosen to keep them apart (their ratio to the answer is the same for every shape)
    recognised(lambda got, expected, case: ONE_INPUT_MORE(got, expected, case) and case.args[0][1] % 2 == 1,
               "your std is sqrt(2 / (fan_in + 1)) on this odd fan_in: either you counted one input too many (the "
               "bias: fan_in is the in_features alone), or you rounded fan_in / 2 up (ceil, round)",
               "fan_in is the second entry of weight_shape, as it is, and 2 / fan_in is a true division"),
    recognised(ONE_INPUT_MORE,
               "you counted one input too many: fan_in is the number of inputs each neuron sums over, the "
               "in_features, without the bias",
               "fan_in is the second entry of weight_shape, as it is"),
    recognised(_equals(lambda s: math.sqrt(2.0 / (1 + 0.01 ** 2) / s[1])),
               "that is the gain for leaky ReLU with slope 0.01, sqrt(2 / (1 + 0.01^2)); the exercise asks for "
               "plain ReLU's gain",
               "ReLU's gain is nn.init.calculate_gain('relu')"),
    recognised(lambda got, expected, case: bool(np.ndim(got) == 0 and 0 < abs(got / expected - 1) < 0.1),
               "your number is close to the right one but not equal to it: it looks rounded, or measured as the "
               "std of weights drawn at random (a sample's std only comes near the formula's). Compute it "
               "exactly, from the formula",
               "the std follows from fan_in and ReLU's gain alone: no tensor, no rounding"),
    # a hidden case answered with the example's number: a match, not a wrong function, so that it never fires on
    # the example itself (where that number is right)
    recognised(lambda got, expected, case: not case.visible and np.isclose(got, EXAMPLE_STD, rtol=1e-9, atol=0),
               "your function returns the example's answer for every shape: the std must be computed from weight_shape",
               "read fan_in from weight_shape, which is (out_features, in_features)"),
]

# compared at float64's precision (issue 32, the kind's default): a std computed in float32 is off by ~1e-8
number("01.kaiming_normal_std", kaiming_std_reference, _kaiming_cases, KAIMING_MISTAKES, points=1)
