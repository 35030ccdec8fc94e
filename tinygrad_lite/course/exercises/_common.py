"""What every lesson's checks share: building inputs, writing wrong versions, and the answer kinds.

Import style in a lesson module (``lessonNN.py``)::

    import numpy as np

    from ... import tensor                      # the library, relative like this
    from ..checks import Case, Exercise, register
    from ._common import ArrayAnswer, TensorAnswer, _f32, _mistake, _np

Inputs are float32 tensors made by ``_f32`` (as the notebooks make them); wrong versions are written with
tensor ops or numpy, wrapped in ``_mistake`` so that a wrong formula may overflow without printing warnings.
"""
import numpy as np

from ... import tensor
from ..answers import AnyAnswer, ArrayAnswer, NumberAnswer, Run, RunAnswer, TensorAnswer, TupleAnswer
from ..checks import Mistake, compare_arrays
from ..compare import FLOAT32_ROUNDING

__all__ = ["AnyAnswer", "ArrayAnswer", "NumberAnswer", "Run", "RunAnswer", "TensorAnswer", "TupleAnswer", "_classes",
           "_f32", "_f64", "_mistake", "_np", "F64_RTOL", "FLOAT32_DIGITS", "FLOAT32_RESULT", "_by_dtype", "_cast_to",
           "_double", "_float32_digits", "_is_float64"]


def _f32(a):
    """A float32 tinygrad_lite Tensor of ``a`` (a nested list, a numpy array or a number)."""
    return tensor(np.asarray(a, dtype=np.float32))


def _f64(a):
    """A float64 numpy array of ``a`` (a Tensor, which may require grad, or anything numpy takes)."""
    return _np(a)


def _np(a):
    """``a`` as a float64 numpy array: a Tensor (detached first), or anything numpy takes."""
    if hasattr(a, "detach") and hasattr(a, "numpy"):
        a = a.detach().numpy()
    return np.asarray(a, dtype=np.float64)


def _classes(a):
    """An int64 Tensor of class indices."""
    return tensor(np.asarray(a, dtype=np.int64))


def _mistake(wrong, hint, more=()):
    """A Mistake whose wrong answer is computed without numpy's warnings (a wrong formula may overflow or divide
    0 by 0). ``hint`` names the concept; ``more`` is the more concrete hint for when the mistake comes back."""
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return wrong(*args, **kwargs)
    return Mistake(quiet, hint, more)


# -------------------------------------------------------------------- the float64 case of a numerical exercise
# Every numerical exercise has a case with float64 inputs (issue 32): PyTorch keeps float64 through every op, so the
# answer must be float64 there (the answer kinds compare dtypes), and it is judged at float64's precision, where a
# value rounded to float32 on the way (7 significant digits) no longer passes.
F64_RTOL = 1e-12  # float64 rounds at 1.1e-16: right formulas that differ in their rounding agree far closer


def _double(a):
    """A float64 tinygrad_lite Tensor of ``a``: the inputs of a case judged at float64's precision."""
    return tensor(np.asarray(a, dtype=np.float64))


def _first(value):
    return value[0] if isinstance(value, (tuple, list)) and len(value) else value


def _is_float64(expected):
    """Whether the reference's answer (an array, or a tuple of them: its first one) is float64."""
    return getattr(_first(expected), "dtype", None) == np.float64


def _by_dtype(rtol, atol, rtol64=F64_RTOL, atol64=0.0):
    """An Exercise's ``compare``: within ``rtol``/``atol`` (float32's tolerance), or within ``rtol64``/``atol64``
    where the reference's answer is float64 (a case with float64 inputs, judged at float64's precision)."""
    def compare(got, expected, case):
        if _is_float64(expected):
            return compare_arrays(got, expected, rtol64, atol64)
        return compare_arrays(got, expected, rtol, atol)
    return compare


# the hint of a float32 tensor answered on a float64 case (``_cast_to("float32", "float64", *FLOAT32_RESULT)``)
FLOAT32_RESULT = (
    "this case's inputs are float64, and your result is float32: your code converts to float32 somewhere (.float(), "
    "dtype=tl.float32, np.float32, or a tensor it makes with the default float32 that ends up in the result), which "
    "keeps about 7 significant digits where float64 keeps about 16. Like PyTorch's, a function of float64 tensors "
    "returns float64: compute in the dtype of the inputs",
    "leave out the conversion, and make any tensor you create with the dtype of the input (dtype=x.dtype, or "
    "zeros_like / ones_like / full_like of it)")


def _cast_to(have, want, hint, more=()):
    """A Mistake: the reference's answer (or a part of it, for a tuple) is ``want`` ("float64") and the learner's is
    ``have`` ("float32"): a cast (``.float()``, ``dtype=tl.float32``, ``np.float32``, ``.astype(float)``) or an array
    made in the other dtype."""
    def parts(value):
        return list(value) if isinstance(value, (tuple, list)) else [value]

    def match(got, expected, case):
        return any(getattr(g, "dtype", None) == np.dtype(have) and getattr(e, "dtype", None) == np.dtype(want)
                   for g, e in zip(parts(got), parts(expected)))
    return Mistake(hint=hint, more=more, match=match)


# the hint of a float64 answer with float32's digits on a float64 case (``_float32_digits(*FLOAT32_DIGITS)``): the
# check's own hint for float32's rounding (compare.FLOAT32_ROUNDING), which it gives where no Mistake matched
FLOAT32_DIGITS = FLOAT32_ROUNDING


def _float32_digits(hint, more=()):
    """A Mistake: on a float64 case, the learner's float64 answer is off by float32's rounding (more than F64_RTOL
    of the answer's size, at most 1e-6 of it): a float32 tensor inside, which promotes back to float64."""
    def match(got, expected, case):
        got, expected = _first(got), _first(expected)
        if not (_is_float64(expected) and getattr(got, "dtype", None) == np.float64 and got.shape == expected.shape
                and np.isfinite(got).all() and np.isfinite(expected).all() and expected.size):
            return False
        error, size = float(np.abs(got - expected).max()), max(float(np.abs(expected).max()), 1e-300)
        return F64_RTOL * size < error <= 1e-6 * size
    return Mistake(hint=hint, more=more, match=match)
