"""Lesson 00, welcome and tensors: the checks of its three exercises, each a ``kinds.tensor_function``.

Each exercise is about shapes: which dim a reduction runs over, whether the reduced dim is kept, and how
broadcasting lines two shapes up from the right. The answer is a tensor connected to its inputs' graph (gradients
are compared), so a detour through numpy, a list or ``.item()`` is refused with the reason. The inputs are float32,
as in the notebook, but for one float64 case per exercise (issue 32), compared at float64's precision: PyTorch
keeps float64, so a ``.float()`` or a float32 tensor made inside fails there, with a hint. The references use
tinygrad_lite's own tensor ops (tested against PyTorch), so that ``use`` can hand them to later cells in place of an
unsolved exercise. The mistakes are computed in numpy (``in_numpy``); one that cannot be computed for a case (a
broadcast that only works for square inputs) raises, and the check skips it there.
"""
import numpy as np

from ... import nn
from ..checks import Case, compare_arrays
from .kinds import CAST_TO_FLOAT32, Within, as_float64, double, f32, is_float64, mistake, recognised, tensor_function


def in_numpy(wrong, hint, more=()):
    """A mistake row whose wrong answer ``wrong`` is computed in numpy, on the inputs as float64 arrays."""
    return mistake(lambda *args: f32(wrong(*(as_float64(a) for a in args))), hint, more)


def _shrunk(got, expected, axis, denominators):
    """``got`` is ``expected`` times a factor k that is the same along ``axis`` (one k per row for axis 1, per
    column for axis 0), 0 < k <= 1, below 1 somewhere, and below 1 only where the right ``denominators`` (one per
    row or column) are tiny: a denominator made larger than it should be, by an epsilon added to it or a clamp
    from below. (A wrong denominator of another kind, such as N - 1 for N, shrinks ordinary ones too.)"""
    got, expected = as_float64(got), as_float64(expected)
    if got.shape != expected.shape or got.ndim != 2:
        return False
    with np.errstate(all="ignore"):
        big = np.abs(expected) > 1e-3
        ratio = np.where(big, got / expected, np.nan)
        if not big.any(axis=axis).all() or not np.isfinite(ratio[big]).all():
            return False
        k_min, k_max = np.nanmin(ratio, axis=axis), np.nanmax(ratio, axis=axis)
    same = np.abs(k_max - k_min) <= 1e-4 * np.abs(k_max)
    shrunk = k_min < 1 - 2e-6  # (F.normalize's eps of 1e-12 shrinks shares of rows summing to 1e-7 by 1e-5)
    tiny = np.abs(as_float64(denominators)) < 1e-4
    return bool(same.all() and (k_min > 0).all() and (k_max <= 1 + 1e-4).all() and shrunk.any()
                and tiny[shrunk].all())


# -------------------------------------------------------------------- 00.row_normalize
ROW_NORMALIZE_EXAMPLE = [[1.0, 2.0, 1.0], [0.0, 3.0, 1.0], [2.0, 2.0, 4.0]]


def row_normalize_reference(scores):
    """p[i, j] = s[i, j] / sum_k s[i, k]: every row divided by its own sum, so each row sums to 1."""
    return scores / scores.sum(dim=1, keepdim=True)


def _large_with_zeros(rng, n=6, c=3):
    """Scores up to 1e5 with about a third of them 0, but never a whole row of zeros (its sum would be 0)."""
    scores = rng.uniform(1e3, 1e5, size=(n, c))
    zero = rng.random((n, c)) < 0.35
    zero[np.arange(n), rng.integers(0, c, size=n)] = False  # keep one score per row
    return np.where(zero, 0.0, scores)


def _row_normalize_cases(rng):
    cases = [
        Case((f32(ROW_NORMALIZE_EXAMPLE),), visible=True),
        Case((f32(rng.uniform(0.1, 5.0, size=(8, 5))),), "8 examples, 5 classes"),
        Case((f32(rng.uniform(0.1, 5.0, size=(4, 4))),), "a square batch, 4 examples and 4 classes"),
        Case((f32(rng.uniform(0.1, 5.0, size=(1, 6))),), "a single example"),
        Case((f32(rng.uniform(0.05, 0.45, size=(7, 2))),), "two classes, small scores: each row sums to under 1"),
        Case((f32(_large_with_zeros(rng)),), "large scores with some zeros"),
        # an epsilon added to the row sums, or a clamp of them, changes every share here (review 0001)
        Case((f32(rng.uniform(1e-9, 3e-8, size=(5, 4))),), "tiny scores: each row sums to under 1.2e-7"),
        # a clamp at 1e-12 or 1e-15 gives the plain sum's shares above (reviews 6 and 7, 0001). As low as right
        # answers stay exact: the sum's square (division's gradient) and 1/sum^2 (the reciprocal's) stay normal
        # float32 numbers for sums above about 1.1e-19; these sum to 4e-19 .. 4e-18
        Case((f32(rng.uniform(1e-19, 1e-18, size=(3, 4))),), "tinier scores: each row sums to under 4e-18"),
        Case((double(_large_with_zeros(rng, 5, 4) / 1e4),),
             "float64 scores, some of them 0: the result is float64, compared at float64's precision"),
    ]
    # issue 46: a row of scores between 1e-100 and 5e-100, which float64 holds and divides exactly, shows a clamp of
    # the sums at a "tiny" floor (float32's smallest normal 1.2e-38, or 1e-30), which float32's cases cannot. After
    # the case above, so that an answer through float32 (which makes that row 0) gets its hint there
    scores = _large_with_zeros(rng, 5, 4) / 1e4
    scores[-1] = rng.uniform(1e-100, 5e-100, size=4)
    return cases + [Case((double(scores),), "float64 scores, and a row that sums to about 1e-99")]


tensor_function(
    "00.row_normalize", row_normalize_reference, _row_normalize_cases, dtype_mistakes=(CAST_TO_FLOAT32,),
    points=1, generic_hints=("factor",),
    grad_jitter=0.0,  # no kink to step off, and a jitter of 1e-3 would swamp the case of tiny scores
    mistakes=[
        recognised(lambda got, expected, case: _shrunk(got, expected, 1, as_float64(case.args[0]).sum(axis=1)),
                   "your shares are too small on rows whose scores are tiny: a small number added to the row sums "
                   "(an epsilon), or a clamp of them from below, makes the denominator larger than the sum. Divide "
                   "by the plain sum: each row then sums to 1, whatever the scale of its scores",
                   "with scores of about 1e-8 a row sums to about 1e-7, so an epsilon of 1e-8, for one, is already a "
                   "tenth of it; hidden cases have rows that sum to under 4e-18, and a float64 row that sums to "
                   "about 1e-99, below any 'tiny' floor of float32's. No row of scores here sums to 0, so nothing "
                   "needs guarding"),
        in_numpy(lambda s: s / s.sum(axis=0, keepdims=True),
                 "you divided each column by its column sum. Each row is one example and must sum to 1: the sums "
                 "you divide by must run along each row.",
                 more="a reduction along dim d adds up the numbers that differ only in their index d; the numbers "
                      "of one row differ in their column index, dim 1."),
        in_numpy(lambda s: s / s.sum(),
                 "you divided by the sum of the whole matrix, so all the rows together sum to 1. Each row needs its "
                 "own sum.",
                 more="give the reduction a dim, so that you get one sum per row (N numbers), and keep that dim so "
                      "that those sums line up with the rows when you divide."),
        in_numpy(lambda s: s / s.sum(axis=1),  # (N, C) / (N,): only broadcasts (wrongly) when N == C
                 "a broadcasting surprise: the row sums lay along the last dim (shape (N,), or (1, N) after a "
                 "transpose), so lined up from the right they pair with the columns: column j was divided by "
                 "the sum of row j.",
                 more="keep the reduced dim (keepdim=True): sums of shape (N, 1) stretch along each row."),
        in_numpy(lambda s: np.exp(s) / np.exp(s).sum(axis=1, keepdims=True),
                 "you applied softmax (exp, then normalise). The scores here are already non-negative: divide them "
                 "by their row sums directly, without exp."),
        in_numpy(lambda s: s / s.max(axis=1, keepdims=True),
                 "you divided each row by its largest score, so the largest becomes 1. Probabilities are shares "
                 "of a whole: each row must sum to 1, so divide by what the row adds up to."),
        in_numpy(lambda s: s / np.sqrt((s ** 2).sum(axis=1, keepdims=True)),
                 "you divided each row by its length (the square root of the sum of squares, the L2 norm), which "
                 "makes the squares sum to 1. Probabilities themselves must sum to 1: divide by the plain sum."),
    ],
    forbid=(nn.functional.normalize,),  # normalize(p=1, dim=1) is nearly this exercise (its eps clamps the sum)
    allow=("arithmetic", "sum", "mean"),  # the text's building blocks: any other library function is refused
    tolerate=("clamp",),  # a clamp of the sums is a mistake with its own hint (tiny rows), never a right answer
)


# -------------------------------------------------------------------- 00.standardize
# 5 examples, 3 features: dividing by D = 3 is not dividing by N - 1 = 4, so each mistake gets its own hint
STANDARDIZE_EXAMPLE = [[150.0, 50.0, 1.0], [160.0, 60.0, 0.0], [170.0, 80.0, 1.0], [180.0, 70.0, 0.0],
                       [190.0, 90.0, 1.0]]


def standardize_reference(x):
    """z = (x - mean) / std per column: mean and population std (divide by N) over the batch dim 0."""
    return (x - x.mean(dim=0, keepdim=True)) / x.std(dim=0, keepdim=True, correction=0)


def _standardize_cases(rng):
    def features(n, d):
        scales = rng.uniform(0.5, 20.0, size=d)
        offsets = rng.uniform(-50.0, 50.0, size=d)
        return f32(rng.normal(size=(n, d)) * scales + offsets)

    return [
        Case((f32(STANDARDIZE_EXAMPLE),), visible=True),
        Case((features(32, 5),), "32 examples, 5 features on different scales"),
        Case((features(10, 1),), "a single feature"),
        Case((features(6, 6),), "a square batch, 6 examples and 6 features"),
        Case((f32([[1.0, -4.0, 10.0], [3.0, -2.0, 30.0]]),), "two examples: each becomes -1 or +1"),
        Case((f32(-rng.uniform(1.0, 100.0, size=(7, 3))),), "negative values"),
        # an epsilon added to the variance (batch norm's 1e-5) or to the std, or a clamp of the std, changes every
        # value of a feature whose std is itself tiny (review 0001)
        Case((f32(np.concatenate([rng.normal(size=(8, 1)) * 1e-7 + 3e-7, rng.normal(size=(8, 2)) * 4.0 + 10.0],
                                 axis=1)),),
             "a feature with a tiny spread (std about 1e-7) beside two ordinary ones"),
        # a clamp of the std at 1e-8 or 1e-12, or 1e-12 added to it, changes nothing above (reviews 6 and 7, 0001).
        # As low as right answers stay exact: the squared deviations and the variance (about 1e-36) stay normal
        # float32 numbers (above 1.2e-38) for a std above about 1e-19
        Case((f32(np.concatenate([rng.normal(size=(6, 1)) * 4.0 - 7.0, rng.normal(size=(6, 1)) * 1e-18 - 5e-18],
                                 axis=1)),),
             "a feature with a tinier spread (std about 1e-18) beside an ordinary one"),
        # issue 32, loss of every digit: E[x^2] - E[x]^2 subtracts numbers of about 1e14, 8e6 apart in float32, to
        # get a variance of about 4e4. The values are 1e7 plus multiples of 8, so that every sum of the right
        # formula (8 rows) is exact in float32: its answer is exact too
        Case((f32(np.stack([1e7 + 8.0 * rng.integers(-40, 41, 8), -1e7 + 8.0 * rng.integers(-40, 41, 8)], axis=1)),),
             "two features near 1e7 and -1e7 whose values differ by a few hundred"),
        # (not the trap above in float64: that needs values near 1e10, where PyTorch's own float64 std is off by 2e-9)
        Case((double(rng.normal(size=(8, 3)) * [2.0, 30.0, 0.5] + [100.0, -20.0, 0.0]),),
             "float64 features: the result is float64, compared at float64's precision"),
    ]


def _textbook_variance(x):  # the variance as E[x^2] - E[x]^2, in float32: right on paper, but it cancels
    mean = x.mean(dim=0, keepdim=True)
    return (x - mean) / ((x * x).mean(dim=0, keepdim=True) - mean * mean).sqrt()


def _standardized(x, axis=0, ddof=0, center=True, power=1.0):
    centered = x - x.mean(axis=axis, keepdims=True) if center else x
    return centered / x.std(axis=axis, ddof=ddof, keepdims=True) ** power


tensor_function(
    "00.standardize", standardize_reference, _standardize_cases,
    judge=Within(1e-4, 1e-4), judge64=Within(1e-12, 1e-12), points=2, generic_hints=("sign", "factor"),
    grad_rtol=1e-3, grad_atol=1e-4,  # as the values: an eps of 1e-5 added to the variance passes both, or neither
    mistakes=[
        recognised(lambda got, expected, case: _shrunk(got, expected, 0, as_float64(case.args[0]).std(axis=0)),
                   "your values are too small in a column whose spread is tiny: a small number added to the "
                   "variance or the std (an epsilon, as batch normalisation adds), or a clamp of the std from "
                   "below, makes the denominator larger than the std. This exercise asks for the exact formula, "
                   "divided by the std itself with nothing added",
                   more="a hidden case has a feature with std about 1e-7, so variance about 1e-14: an epsilon added "
                        "to the std changes it unless far smaller than 1e-7, and one added under the square root "
                        "unless far smaller than 1e-14 (batch normalisation's 1e-5 there, for one, divides by about "
                        "3e-3 instead of 1e-7); another hidden feature has std about 1e-18"),
        mistake(_textbook_variance,
                "your variance looks like E[x^2] - E[x]^2: right on paper, but in float32 (and in float64, for "
                "values large against their spread) it subtracts two large, nearly equal numbers, and the digits "
                "that differ are lost (cancellation)",
                more="average the squared deviations from the mean instead: they are small numbers to begin with"),
        in_numpy(lambda x: _standardized(x, ddof=1),
                 "you divided by the sample standard deviation, with N - 1 in its denominator (Bessel's "
                 "correction, what std gives by default). Standardising a batch uses the population std, with N.",
                 more="std takes a `correction` argument: 0 divides by N."),
        in_numpy(lambda x: _standardized(x, axis=1),
                 "you standardised each row (the features of one example). Standardise each column (one feature "
                 "across the batch): the statistics run over the batch dim.",
                 more="the batch dim is dim 0: the N examples differ in their index along it."),
        in_numpy(lambda x: _standardized(x, axis=None),
                 "you used one mean and one std for all the numbers at once. Each column (feature) needs its own.",
                 more="give mean and std the dim of the batch, so that you get one number per column."),
        in_numpy(lambda x: _standardized(x, center=False),
                 "you divided by the std but did not subtract the column mean first: in the formula, the "
                 "numerator is each value's distance from its column's mean."),
        in_numpy(lambda x: _standardized(x, power=2.0),
                 "you divided by the variance (the std squared). Divide by the std, the square root of the variance."),
        in_numpy(lambda x: (x - x.mean()) / x.std(axis=0, keepdims=True),
                 "you subtracted one mean, of all the numbers at once, from every column. Each column (feature) "
                 "needs its own mean, as it has its own std.",
                 more="give the mean the dim of the batch, as you did for the std."),
        in_numpy(lambda x: (x - x.mean(axis=0, keepdims=True)) / x.std(),
                 "you divided every column by one std, of all the numbers at once. Each column (feature) needs its "
                 "own std, as it has its own mean.",
                 more="give the std the dim of the batch, as you did for the mean."),
        in_numpy(lambda x: (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0)),
                 "that is min-max scaling, which maps each column onto [0, 1]. Standardising shifts each column "
                 "by its mean and divides by its std: the result has mean 0 and std 1."),
    ],
    forbid=(nn.functional.batch_norm, nn.BatchNorm1d),  # batch_norm in training mode with eps=0 is this exercise
    allow=("arithmetic", "mean", "std", "sum", "sqrt"),  # (norm, layer_norm, scipy's zscore ... are refused)
    tolerate=("clamp",),  # a clamp of the std is a mistake with its own hint (tiny spreads), never a right answer
)


# -------------------------------------------------------------------- 00.pairwise_sq_distances
PAIRWISE_EXAMPLE_A = [[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]
PAIRWISE_EXAMPLE_B = [[0.0, 0.0], [3.0, 4.0], [1.0, 1.0], [-1.0, 0.0]]


def pairwise_sq_distances_reference(a, b):
    """d[i, j] = sum_k (a[i, k] - b[j, k])^2 for a of shape (N, D) and b of shape (M, D): shape (N, M)."""
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1)


def _pairwise_cases(rng):
    same = f32(rng.normal(size=(5, 3)))
    tiny = f32(1e-9 * rng.normal(size=(6, 3)))  # squared distances of about 1e-18, far above float32's 1.2e-38
    cases = [
        Case((f32(PAIRWISE_EXAMPLE_A), f32(PAIRWISE_EXAMPLE_B)), visible=True),
        Case((f32(rng.normal(size=(6, 4))), f32(rng.normal(size=(9, 4)))), "6 points against 9, in 4-D"),
        Case((f32(rng.normal(size=(1, 5))), f32(rng.normal(size=(7, 5)))), "one point against 7"),
        Case((same, same), "a set against itself: zeros on the diagonal"),
        Case((f32(rng.normal(size=(8, 1))), f32(rng.normal(size=(3, 1)))), "points on a line (D = 1)"),
        Case((f32(rng.uniform(-10.0, 10.0, size=(4, 6))), f32(rng.uniform(-10.0, 10.0, size=(5, 6)))),
             "coordinates up to 10"),
        # an epsilon added to the distances, or a clamp of them from below, changes every one of these: even
        # F.normalize's 1e-12 is a million times the distances here (review 0001, rounds 1 and 4)
        Case((tiny, tiny[:3]), "points about 1e-9 apart, against 3 of themselves: tiny distances and zeros"),
    ]
    a = 3.0 * rng.normal(size=(5, 3))  # the last two points of a are the first two of b (distance exactly 0)
    return cases + [Case((double(a), double(np.concatenate([a[3:], rng.normal(size=(2, 3))]))),
                         "float64 points, two of them in both sets: the result is float64, compared at float64's "
                         "precision")]


def _pairwise_compare(got, expected, case):
    """The values to within float32 rounding of the route through |a|^2 + |b|^2 - 2 a.b (which the text accepts):
    its error grows with |a|^2 + |b|^2, so the absolute tolerance is that scale times 1e-5 (at least 1e-40), not a
    fixed number, and an epsilon added to distances of 1e-18 shows. A float64 case: within float64's rounding of
    that route (1e-13 times the scale)."""
    a, b = (as_float64(t) for t in case.args)
    scale = float((a ** 2).sum(axis=1).max() + (b ** 2).sum(axis=1).max())
    rtol, atol = (1e-11, 1e-13 * scale) if is_float64(expected) else (1e-4, max(1e-5 * scale, 1e-40))
    failure = compare_arrays(got, expected, rtol, atol)
    values, zero = as_float64(got), np.asarray(expected) == 0
    if failure is None and values.shape == zero.shape and zero.sum() > 1 and (values[zero] == values.min()).all() \
            and values.min() > 0:  # every exact 0 raised to one positive number: an epsilon or a clamp, however small
        return (f"every distance that is exactly 0 (a point against itself) came out as {values.min():.4g}, the "
                f"smallest value of your result: a number added to the distances, or a clamp from below")
    return failure


def _raised_from_below(got, expected, case):
    """The distances plus one small positive number, or clamped from below at one: an epsilon "for safety"."""
    got, expected = as_float64(got), as_float64(expected)
    if got.shape != expected.shape or not got.size:
        return False
    added = got - expected
    tol = 1e-6 * max(1e-40, float(np.abs(expected).max()))
    shifted = np.ptp(added) <= tol and added.flat[0] > tol
    floor = float(got.min())
    clamped = floor > 0 and (expected < floor).any() and np.allclose(got, np.maximum(expected, floor), rtol=1e-5,
                                                                     atol=tol)
    return bool(shifted or clamped)


def _diff(a, b):
    return a[:, None, :] - b[None, :, :]


tensor_function(
    "00.pairwise_sq_distances", pairwise_sq_distances_reference, _pairwise_cases, dtype_mistakes=(CAST_TO_FLOAT32,),
    points=2, generic_hints=("mean_vs_sum",), grad_rtol=1e-3, grad_atol=1e-3,
    compare=_pairwise_compare, match=Within(1e-4, 1e-3),  # (judged by _pairwise_compare, whose tolerance scales)
    allow=("arithmetic", "sum", "matmul", "clamp", "max", "where", "relu"),  # (relu, where: a clamp at 0 spelt
    # otherwise; norm, cdist, pairwise_distance ... are refused)
    tolerate=("sqrt",),  # sqrt(d) ** 2 is a mistake with its own hint (its gradient at 0), never a right answer
    mistakes=[
        recognised(_raised_from_below,
                   "you added a small number to the distances (an epsilon), or clamped them from below: a point's "
                   "squared distance to itself is exactly 0, and that of two close points is tiny. Nothing here "
                   "divides by a distance, so nothing needs guarding",
                   more="on points about 1e-9 apart the squared distances are about 1e-18, which an epsilon of "
                        "1e-12 would outweigh; and any epsilon or clamp, however small, turns the exact zeros (a "
                        "point's distance to itself) into its value"),
        in_numpy(lambda a, b: _diff(a, b).sum(axis=-1),
                 "you summed the differences without squaring them, so positive and negative ones cancel. "
                 "Square each difference, then sum over the coordinates."),
        in_numpy(lambda a, b: _diff(a, b).sum(axis=-1) ** 2,
                 "you squared the sum of the differences, (sum_k (a_ik - b_jk))^2: differences of opposite signs "
                 "cancel before the square. The squared distance is the sum of the squared differences: square "
                 "each coordinate's difference, then add them up",
                 more="the order matters: square the (N, M, D) differences first, then reduce over D"),
        in_numpy(lambda a, b: np.abs(_diff(a, b)).sum(axis=-1),
                 "you summed absolute differences (the L1 distance). Square the differences instead."),
        in_numpy(lambda a, b: np.sqrt((_diff(a, b) ** 2).sum(axis=-1)),
                 "you took the square root, which gives the Euclidean distance. The exercise asks for the squared "
                 "distance: leave out the sqrt."),
        in_numpy(lambda a, b: (_diff(a, b) ** 2).sum(axis=1),
                 "you summed over dim 1, which runs over the M points of b. Sum over the coordinates instead: "
                 "which dim of the (N, M, D) differences holds them?"),
        in_numpy(lambda a, b: (_diff(a, b) ** 2).sum(axis=0),
                 "you summed over dim 0, which runs over the N points of a. Sum over the coordinates instead: "
                 "which dim of the (N, M, D) differences holds them?"),
        in_numpy(lambda a, b: a @ b.T,
                 "a @ b.T gives the dot products a_i . b_j, which measure how much two points point the same way, "
                 "not how far apart they are. The distance is built from the differences a_i - b_j.",
                 more="|a_i - b_j|^2 = |a_i|^2 + |b_j|^2 - 2 a_i . b_j: the dot product is only one of its terms."),
        in_numpy(lambda a, b: (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - a @ b.T,
                 "the cross term of |a_i - b_j|^2 = |a_i|^2 + |b_j|^2 - 2 a_i . b_j has a factor 2: "
                 "(a - b)^2 = a^2 - 2ab + b^2."),
        in_numpy(lambda a, b: (_diff(a, b) ** 2).sum(axis=-1).T,
                 "your matrix is (M, N), one row per point of b. The answer has one row per point of a: the points "
                 "of a belong on dim 0 and those of b on dim 1."),
        in_numpy(lambda a, b: ((a[:, None, :] + b[None, :, :]) ** 2).sum(axis=-1),
                 "your distances are |a_i + b_j|^2: the points were added, or the cross term has the wrong sign. "
                 "The squared distance is |a_i - b_j|^2 = |a_i|^2 + |b_j|^2 - 2 a_i . b_j."),
        recognised(lambda got, expected, case: bool((as_float64(got) < -1e-3 * np.abs(as_float64(expected)).max()
                                                     ).any()),
                   "some of your squared distances are negative, and a sum of squares never is: check the sign of "
                   "each of your terms",
                   "the squared distance is sum_k (a_ik - b_jk)^2, or expanded, |a_i|^2 + |b_j|^2 - 2 a_i . b_j"),
    ],
)
