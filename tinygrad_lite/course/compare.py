"""Comparing an answer with the reference's, and telling the learner how they differ: ``compare_arrays`` (shape,
dtype, how many values differ and the worst of them), ``compare_log`` (tiny positive values compared in log space)
and ``diagnose`` (the generic mistakes an exercise opts in to: a wrong sign, a constant factor, a mean for a sum, a
transpose, a missing broadcast sum, an overflow). Used by the judging pipeline (``pipeline.py``) and by the
exercises' own comparisons; it knows nothing of exercises or checks (``registry.py`` is below it only for the names
of the generic hints).
"""
import numpy as np

from .registry import GENERIC_HINTS


def as_numpy(value):
    """Tensors (ours or PyTorch's), numpy arrays and numbers become numpy arrays; tuples and lists stay sequences."""
    if isinstance(value, (tuple, list)):  # a named tuple (e.g. what x.max(0) returns) becomes a plain tuple
        return [as_numpy(v) for v in value] if isinstance(value, list) else tuple(as_numpy(v) for v in value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return np.asarray(value.detach().numpy())
    if value is None or isinstance(value, (str, dict)):
        return value
    try:
        return np.asarray(value)
    except Exception:  # noqa: BLE001  (an object numpy cannot hold: compare it as it is)
        return value


def _describe(a):
    return f"shape {tuple(a.shape)} {a.dtype}"


def compare_arrays(got, expected, rtol, atol, what="the result", names=()):
    """None when ``got`` matches ``expected``; otherwise a few lines that say how they differ. A tuple's results
    are called "result 0", "result 1"..., with the name ``names`` gives each, e.g. "result 1 (dgamma)"."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"expected {len(expected)} results (a tuple), got {type(got).__name__}" + (
                f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        for i, (g, e) in enumerate(zip(got, expected)):
            failure = compare_arrays(g, e, rtol, atol, f"result {i}" + (f" ({names[i]})" if i < len(names) else ""))
            if failure:
                return failure
        return None
    if got is None:
        return f"expected {_describe(expected)}, got None: did you forget to return the result?"
    if not isinstance(got, np.ndarray) or got.dtype == object:
        return f"expected {_describe(expected)}, got {type(got).__name__}"
    if got.shape != expected.shape:
        return f"{what}: expected {_describe(expected)}, got {_describe(got)}"
    if expected.dtype.kind == "b" or got.dtype.kind == "b":
        wrong = got != expected
        diff = wrong.astype(float)
    else:
        g, e = got.astype(np.float64), expected.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(g - e)
            close = (diff <= atol + rtol * np.abs(e)) & np.isfinite(e)  # rtol * inf would accept anything
        wrong = ~(close | (g == e) | (np.isnan(g) & np.isnan(e)))  # nan matches nan, inf matches inf of its sign
        diff = np.where(np.isnan(diff), np.inf, diff)
    return _difference(got, expected, wrong, diff, what)


def _difference(got, expected, wrong, diff, what, unit=""):
    if not wrong.any():
        return None
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.where(wrong, diff, -1))), got.shape))
    index = f" at index {list(worst)}" if got.ndim else ""
    shown_expected, shown_got = _numbers_apart(expected[worst], got[worst])
    n = int(wrong.sum())
    count = "its one value differs" if wrong.size == 1 else f"{n} of {wrong.size} values differ{'s' * (n == 1)}"
    return (f"{what}: expected {_describe(expected)}, got {_describe(got)}; {count}. Worst{index}: expected "
            f"{shown_expected}, got {shown_got} ({unit}difference {float(diff[worst]):.3g})")


def compare_log(got, expected, log_tol=1e-3, rtol=1e-5, atol=0.0, what="the result"):
    """Like ``compare_arrays``, but positive values are compared in log space: |log(got) - log(expected)| <=
    ``log_tol``. For results whose point is that tiny values survive (sigmoid(-100) = 3.8e-44, not 0, not
    9e-14 from a clamp): a relative tolerance alone would accept any tiny number, an absolute one even 0.
    Values that are not positive are compared with ``rtol``/``atol``; a float32 subnormal (below 1.2e-38, stored
    with few digits) may differ by a few of its steps."""
    failure = compare_arrays(got, expected, 0.0, np.inf, what)  # types, shapes and nan only
    if failure or not isinstance(got, np.ndarray) or got.dtype.kind not in "fiu":
        return failure
    g, e = got.astype(np.float64), expected.astype(np.float64)
    positive = e > 0
    step = float(np.finfo(expected.dtype).smallest_subnormal) if expected.dtype.kind == "f" else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_diff = np.abs(np.log(np.where(g > 0, g, np.nan)) - np.log(np.where(positive, e, 1.0)))
        log_diff = np.where(np.isnan(log_diff), np.inf, log_diff)
        ok_pos = (log_diff <= log_tol) | (np.abs(g - e) <= 4 * step)
        ok_other = (np.abs(g - e) <= atol + rtol * np.abs(e)) | (g == e)
    wrong = np.where(positive, ~ok_pos, ~ok_other)
    diff = np.where(positive, log_diff, np.abs(g - e))
    return _difference(got, expected, wrong, diff, what, unit="log-space ")


def _number(value):
    value = value.item()
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _numbers_apart(expected, got):
    """The two numbers at 6 significant digits, or at as many more as it takes for them to look different (a
    difference in the 7th digit printed as "0.292893" twice would read as no difference at all)."""
    e, g = expected.item(), got.item()
    if not (isinstance(e, float) and isinstance(g, float)) or e == g:
        return _number(expected), _number(got)
    for digits in range(6, 18):
        a, b = f"{e:.{digits}g}", f"{g:.{digits}g}"
        if a != b:
            return a, b
    return repr(e), repr(g)


class Diagnosed(str):
    """The failure message of an exercise's own ``compare`` that already names the cause of the wrong numbers (e.g.
    lesson 10's variance computed as mean(x**2) - mean(x)**2 on a case with a large mean). The check then adds no
    generic hint (float32's rounding, a sign, a factor ...): one would name a second, different cause for the same
    numbers. The exercise's own Mistakes still apply (``pipeline.judge_case``)."""


# -------------------------------------------------------------------- float32's rounding in a float64 answer
# The one hint, course-wide, for an answer that is right but for float32's rounding (a value that went through
# float32 on its way to a float64 or Python float answer). The check gives it when no more specific mistake matched
# (``pipeline.hints``); the lessons' own Mistakes for it use the same text (``exercises/kinds.FLOAT32_INSIDE``).
FLOAT32_CAUSES = (
    "Somewhere on the way a number went through float32 (about 7 significant digits; float64, and a Python float, "
    "keep about 16, and a number below about 1e-38 loses its digits or becomes 0 in float32): a .float(), a tensor "
    "made from a Python number or a list without a dtype (tl.tensor(0.5), like torch.tensor(0.5), is float32 by "
    "default), np.float32, or a float32 buffer or accumulator (np.empty(n, np.float32), np.zeros(n, "
    "dtype=np.float32), total = np.float32(0)). Converting back to float64 later does not bring the lost digits back")
FLOAT32_FIX = (
    "Keep the dtype of the inputs all the way: make any tensor you need with dtype=x.dtype (or zeros_like / "
    "full_like of an input), keep plain numbers as Python floats (a factor made of Python numbers needs no "
    "tensor), and take a number out of a float64 tensor with .item(), which gives a Python float with all its "
    "digits")
FLOAT32_LEAD = ("your answer carries float32's rounding: it is off from the right one by about 1e-8 to 1e-6 of its "
                "size, what rounding a number to float32 leaves (a small number added 'for safety', an epsilon, "
                "can shift a result by as much: if you added one, take it out first)")
FLOAT32_ROUNDING = (f"{FLOAT32_LEAD}. {FLOAT32_CAUSES}. {FLOAT32_FIX}",)
FLOAT32_TYPE = (f"a float32 where a float64 or a Python float is expected: your number was made or kept in float32. "
                f"{FLOAT32_CAUSES}. {FLOAT32_FIX}",)
# where the check stopped at a number named a float32 (a run's problem): whether digits were lost is not known there
FLOAT32_TYPE_OF_A_RUN = (
    "a float32 where a Python float is expected: .item() of a tensor, or float() of a numpy number, gives a Python "
    "float. A number built up in float32 (a total started as np.float32(0), a .float(), a tensor of the default "
    "dtype) also kept only float32's 7 significant digits on the way: keep totals in Python floats, and tensors in "
    "the inputs' dtype",)
F64_NOISE = 1e-12  # float64 rounds at 1.1e-16: right formulas that differ only in their rounding agree far closer
F32_ROUNDING = 1e-6  # float32 rounds at 6e-8: a few roundings, carried through a formula, stay below this


def _systematic(got, expected):
    """Whether several differing numbers are all off the same way: one constant added (an epsilon) or one factor
    applied, the same to a part in 1000. Rounding to float32 scatters its errors in sign and size; so such an
    answer is not float32's rounding, even when its errors are as small."""
    if got.size < 2:
        return False
    shift, ratio = got - expected, np.where(expected != 0, got / np.where(expected != 0, expected, 1.0), np.nan)
    same_shift = bool(np.ptp(shift) <= 1e-3 * np.abs(shift).max())
    finite = ratio[np.isfinite(ratio)]
    same_ratio = finite.size == got.size and bool(np.ptp(finite) <= 1e-3 * np.abs(finite - 1).max())
    return same_shift or same_ratio


def _float_parts(got, expected):
    """[(got part, expected part)] of two answers of the same structure (tuples, lists, dicts), None where they do
    not pair up."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return None
        pairs = []
        for g, e in zip(got, expected):
            more = _float_parts(g, e)
            if more is None:
                return None
            pairs += more
        return pairs
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return None
        return _float_parts([got[k] for k in sorted(expected, key=str)], [expected[k] for k in sorted(expected,
                                                                                                   key=str)])
    got, expected = as_numpy(got), as_numpy(expected)
    if not (isinstance(got, np.ndarray) and isinstance(expected, np.ndarray) and got.shape == expected.shape):
        return None
    if got.dtype.kind not in "fiub" or expected.dtype.kind not in "fiub":
        return None
    return [(got, expected)]


def float32_rounding(got, expected):
    """(the right number, the learner's) where the learner's float64 answer (arrays, Python floats, or tuples of
    them) differs from the reference's float64 answer by float32's rounding only: every number within F32_ROUNDING
    of its size (of the answer's typical size, for a number near 0) or equal to the right one rounded to float32
    (a tiny number that float32 rounds to 0), and some number further off than float64's own rounding (F64_NOISE).
    None otherwise: an answer with any other difference (a wrong value, shape or count), or a float32 one."""
    pairs = _float_parts(got, expected)
    if not pairs or any(g.dtype.kind == "f" and g.dtype != np.float64 or e.dtype.kind == "f" and e.dtype !=
                        np.float64 for g, e in pairs) or not any(e.dtype == np.float64 for _, e in pairs):
        return None
    first, apart = None, False  # (the numbers that differ most in the first part that differs, as compare_arrays)
    with np.errstate(all="ignore"):
        for g, e in pairs:
            g, e = g.astype(np.float64).ravel(), e.astype(np.float64).ravel()
            same = (g == e) | (np.isnan(g) & np.isnan(e))
            if same.all():
                continue
            if not (np.isfinite(g[~same]).all() and np.isfinite(e[~same]).all()):
                return None
            sizes = np.abs(e[np.isfinite(e) & (e != 0)])
            typical = float(np.median(sizes)) if sizes.size else 0.0
            scale = np.maximum(np.abs(e), typical)
            error = np.where(same, 0.0, np.abs(g - e))
            rounded = e.astype(np.float32).astype(np.float64)
            as_float32 = (rounded == g) | (np.abs(g - rounded) <= np.spacing(np.abs(rounded).astype(np.float32)))
            if not np.all(same | (error <= F32_ROUNDING * scale) | as_float32):
                return None
            if _systematic(g[~same], e[~same]):
                return None
            relative = np.where(same, 0.0, error / np.maximum(scale, 1e-300))
            apart = apart or bool(np.any(relative > F64_NOISE))
            if first is None:
                k = int(np.argmax(error))
                first = (e[k], g[k])
    return first if apart else None


def float32_hint(got, expected):
    """The tiers of FLOAT32_ROUNDING for an answer that ``float32_rounding`` recognises (the first with the two
    numbers that differ most, printed with the digits that tell them apart); None for any other answer."""
    found = float32_rounding(got, expected)
    if found is None:
        return None
    right, yours = _numbers_apart(np.float64(found[0]), np.float64(found[1]))
    return (f"{FLOAT32_LEAD} (with enough digits to tell them apart: the right number is {right}, yours {yours}). "
            f"{FLOAT32_CAUSES}. {FLOAT32_FIX}",)


# -------------------------------------------------------------------- recognising common mistakes
def _unbroadcast(grad, shape):
    from ..autograd.engine import unbroadcast  # the engine's own backward of broadcasting, not a copy
    return unbroadcast(grad, shape)


def _counts(arrays):
    """The sizes a mean over some of these arrays may divide by: each dim above 1, and each array's size."""
    return {n for a in arrays if isinstance(a, np.ndarray) for n in (*a.shape, a.size) if n > 1}


def diagnose(got, expected, inputs=(), kinds=GENERIC_HINTS, example=()):
    """A generic hint when ``got`` is a recognisable distortion of ``expected``; None otherwise.

    ``kinds`` are the generic hints that may fire (an exercise opts in to those that fit its mistakes, see
    GENERIC_HINTS). ``inputs`` (the case's arguments, optional) tell the sizes a mean may run over when the answer
    has no dims of its own, e.g. a loss: one number averaged over the N elements of its input. ``example``: the
    arguments of the notebook's example, when it comes before this case (a count copied from it, such as a
    hard-coded N, then shows as a ratio of this case's count to the example's).
    """
    kinds = set(kinds)
    if not isinstance(got, np.ndarray) or not isinstance(expected, np.ndarray) or got.dtype.kind not in "fiu":
        return None
    e = expected.astype(np.float64)
    if ("transpose" in kinds and got.ndim == 2 and got.shape == expected.shape[::-1]  # (a square one too)
            and np.allclose(got.T, e, rtol=1e-5, atol=1e-7)):
        return ("your answer is the transpose of the right one: check the order of the factors in your matrix "
                "product (and, for a layer's weight, its layout (out, in))")
    if got.shape != expected.shape:
        if "mean_vs_sum" in kinds and e.ndim == 0 and got.ndim:  # a loss (one number) left with dims
            if got.size == 1:
                return (f"your answer has shape {got.shape}; the right one is a single number of shape () (a 0-d "
                        "tensor). A keepdim=True, a dim of size 1 left over (gather's (N, 1) result), a reshape or "
                        "brackets around the result add that dim: reduce over everything, with no keepdim")
            return (f"your answer has shape {got.shape}: {got.size} numbers where the right answer is a single "
                    "number of shape (). A mean (or sum) over one dim only, or none at all, leaves one number per "
                    "row, column or element: take the mean over all of them, with no dim argument")
        if "broadcast_sum" in kinds and got.ndim >= e.ndim:
            try:
                summed = _unbroadcast(got.astype(np.float64), e.shape)
            except (ValueError, IndexError):
                return None
            if summed.shape == e.shape and np.allclose(summed, e, rtol=1e-5, atol=1e-7):
                return (f"your gradient has the broadcast shape {got.shape}; the input had shape {e.shape}. An input "
                        "that was broadcast (repeated) gets the sum of the gradients of its copies: sum over the "
                        "broadcast dims (those that broadcasting added or stretched)")
        return None
    g = got.astype(np.float64)
    if np.isfinite(e).all() and not np.isfinite(g).all():
        if "overflow" in kinds:
            return ("your result has inf or nan where the right answer is finite: exp of a large number overflows "
                    "to inf, and a sum of exps that all underflow to 0 gives log(0) = -inf. Subtract the maximum "
                    "first: exp(x - m), with m the largest of the numbers exponentiated, is never above 1, one term "
                    "is exp(0) = 1 so the sum is at least 1, and the shift cancels out (the log-sum-exp trick)")
        return None
    if not np.isfinite(g).all():
        return None
    big = np.abs(e) > 1e-12
    if not big.any():
        return None
    if "sign" in kinds and np.allclose(g, -e, rtol=1e-5, atol=1e-7):
        return "your answer has the wrong sign: check for a minus sign (the derivative of -x is -1, of 1 - x is -1)"
    ratios = g[big] / e[big]
    r = ratios.mean()
    if np.allclose(ratios, r, rtol=1e-4) and np.allclose(g[~big], 0, atol=1e-7) and not np.isclose(r, 1):
        if "mean_vs_sum" in kinds:
            counts = _counts([expected, *inputs])
            for n in sorted(counts - {1}):  # (a ratio near 1 is no count: 1.00003 is a small offset)
                if np.isclose(r, n, rtol=1e-4):
                    return (f"your answer is {n} times too large: a sum where a mean was needed, a mean divided by "
                            f"too small a count, or a stray factor {n}? A mean divides the sum by the number of "
                            "elements it averages, every one of them (one dim's size falls short when it averages "
                            "over several)")
                if np.isclose(r, 1 / n, rtol=1e-4):
                    return (f"your answer is {n} times too small: a mean where a sum was needed, or dividing by "
                            f"{n} twice?")
            # a count copied from the notebook's example: tried after the counts themselves, which say more
            pairs = [(n, m) for n in sorted(counts) for m in sorted(_counts(example)) if m != n]
            for n, m in pairs:
                if np.isclose(r, n / m, rtol=1e-4):
                    return (f"your answer is {n}/{m} times the right one: this case has {n} where the example in "
                            f"the notebook has {m}. Is {m} written into your formula as a number? Read the count "
                            "from the input (x.numel(), len(x), x.shape[0]), so that it holds for any size")
        if "factor" not in kinds or np.isclose(r, 0) or np.isclose(r, 1, rtol=1e-3):
            return None  # 0 times the right answer is no factor to look for, nor 1.0003 times (a small offset)
        if big.sum() == 1 and not np.isclose(r, 2, rtol=1e-4) and not np.isclose(r, 0.5, rtol=1e-4):
            return None  # one number is always some factor times another: only a factor of 2 says something
        return (f"your answer is off by a constant factor ({r:.4g} times the right one): look for a missing or extra "
                "constant (a 2, a 1/2, a division by a count) or a term that scales every value alike")
    return None
