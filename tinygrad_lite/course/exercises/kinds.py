"""The kinds of exercise, declared once: what a lesson's checks module writes is cases plus mistake rows.

A lesson module (``lessonNN.py``) registers each exercise with one of these constructors, which fill in what every
exercise of that kind shares, so that the lesson states only what is its own: the reference, the cases, the
mistake rows (``mistake(...)`` or ``recognised(...)`` with their two-tier hints), the tolerances and the building
blocks. Each constructor returns the registered ``registry.Exercise`` (the record the judging pipeline reads).

- ``tensor_function``: a function of tensors that returns a Tensor (or a tuple of them) connected to its inputs'
  graph, e.g. mse, relu, a dense layer. Its float64 case comes with the kind: the answer is compared at float64's
  precision there, and the kind's two dtype mistakes (``CAST_TO_FLOAT32``, ``FLOAT32_INSIDE``) lead its rows.
- ``array_function``: a function of numpy arrays that returns an array (or a tuple of them), e.g. a backward
  function; the same float64 rule, with the array's dtype mistakes given by the lesson.
- ``number``: a function that returns a plain Python number.
- ``driven``: an answer judged by what happens when the check drives it (a class such as an optimizer, scheduler
  or early stopper, or a function with effects such as a training loop). ``drive(fn, args, kwargs)`` sets the case
  up, runs the learner's code and observes it, and returns a ``Run``: the numbers to judge, or the problem found.
  ``returned_number`` says what a wrong returned number is (None, a tensor, a list, a numpy scalar), each with the
  exercise's own ending; ``global_rng_kept`` leaves the global random generator as the driver found it.

Tolerances have one name per use: ``judge`` (and ``judge64``, for the float64 case) decide pass or fail;
``match`` decides whether a failing answer is a known mistake (the wrong answer's numbers within it), by default
the judging tolerance. A ``Within`` is ``|got - want| <= atol + rtol * |want|``.

Case inputs: ``f32`` (a float32 Tensor, as the notebooks make them), ``double`` (a float64 Tensor: the float64
case), ``classes`` (int64 class indices); ``as_float64`` reads any answer as a float64 numpy array.
"""
import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ... import tensor
from ...random import get_rng_state, set_rng_state
from ..answers import (  # noqa: F401  (the answer kinds, for the lessons)
    AnyAnswer,
    ArrayAnswer,
    NumberAnswer,
    Run,
    RunAnswer,
    TensorAnswer,
    TupleAnswer,
    an,
    is_tensor,
    type_name,
)
from ..checks import Exercise, Mistake, compare_arrays, register
from ..compare import FLOAT32_ROUNDING


# -------------------------------------------------------------------- tolerances
@dataclass(frozen=True)
class Within:
    """A tolerance: ``got`` passes against ``want`` when ``|got - want| <= atol + rtol * |want|``."""
    rtol: float
    atol: float = 0.0

    def holds(self, got, want):
        """Whether every number of ``got`` is within this tolerance of ``want`` (nan only where ``want`` has one)."""
        return bool(np.shape(got) == np.shape(want) and np.allclose(got, want, rtol=self.rtol, atol=self.atol,
                                                                    equal_nan=True))


# float64 rounds at 1.1e-16: right formulas that differ only in their rounding agree far closer than this, a value
# rounded to float32 on the way (7 significant digits) does not (issue 32)
F64_RTOL = 1e-12
AT_FLOAT64 = Within(F64_RTOL, 0.0)
AT_FLOAT32 = Within(1e-5, 1e-7)  # the default judging tolerance: right float32 answers computed in another order agree
EXACT_NUMBER = Within(1e-12, 0.0)  # a plain Python number: float64's precision


def judged(float32, float64=AT_FLOAT64):
    """An Exercise's ``compare``: within ``float32`` (a Within), or within ``float64`` where the reference's answer is
    float64 (the case with float64 inputs, judged at float64's precision)."""
    def compare(got, expected, case):
        within = float64 if is_float64(expected) else float32
        return compare_arrays(got, expected, within.rtol, within.atol)
    return compare


def _first(value):
    return value[0] if isinstance(value, (tuple, list)) and len(value) else value


def is_float64(expected):
    """Whether the reference's answer (an array, or a tuple of them: its first one) is float64."""
    return getattr(_first(expected), "dtype", None) == np.float64


def first_difference(got, expected, within):
    """The index (a tuple) of the first number of ``got`` that is not within ``within`` of ``expected`` (the same
    shape), in reading order, or None when every one is (nan matches nan)."""
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~((np.abs(g - e) <= within.atol + within.rtol * np.abs(e)) | (np.isnan(g) & np.isnan(e)) | (g == e))
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad.ravel())), bad.shape))


# -------------------------------------------------------------------- case inputs
def f32(a):
    """A float32 tinygrad_lite Tensor of ``a`` (a nested list, a numpy array or a number)."""
    return tensor(np.asarray(a, dtype=np.float32))


def double(a):
    """A float64 tinygrad_lite Tensor of ``a``: the inputs of a case judged at float64's precision."""
    return tensor(np.asarray(a, dtype=np.float64))


def classes(a):
    """An int64 Tensor of class indices."""
    return tensor(np.asarray(a, dtype=np.int64))


def as_float64(a):
    """``a`` as a float64 numpy array: a Tensor (detached first), or anything numpy takes."""
    if hasattr(a, "detach") and hasattr(a, "numpy"):
        a = a.detach().numpy()
    return np.asarray(a, dtype=np.float64)


# -------------------------------------------------------------------- a model's state, flattened
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")  # batch norm's, in a state_dict beside the weights


def differing_entries(got, expected, entries, same):
    """The names of a state_dict's ``entries`` (name -> tensor or array, in order) whose numbers differ between
    ``got`` and ``expected``, two states flattened (each entry's numbers after the previous one's), by
    ``same(a, b)``."""
    bounds = np.cumsum([math.prod(tuple(value.shape)) for value in entries.values()])[:-1]
    return [name for name, a, b in zip(entries, np.split(got, bounds), np.split(expected, bounds)) if not same(a, b)]


def only_buffers(names):
    """Whether ``names`` (state_dict keys) are some of batch norm's buffers, and no weight."""
    return bool(names) and all(name.split(".")[-1] in BUFFERS for name in names)


# -------------------------------------------------------------------- mistake rows
def mistake(answer, hint, more=()):
    """A mistake row: the learner's answer equals what ``answer`` (a wrong version of the reference, same arguments)
    gives. ``hint`` names the concept; ``more`` is the more concrete hint for when the mistake comes back. The
    wrong version runs without numpy's warnings (a wrong formula may overflow or divide 0 by 0)."""
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return answer(*args, **kwargs)
    return Mistake(quiet, hint, more)


def recognised(match, hint, more=()):
    """A mistake row recognised by ``match(got, expected, case) -> bool`` rather than by a wrong version's numbers."""
    return Mistake(hint=hint, more=more, match=match)


def cast_to(have, want, hint, more=()):
    """A mistake row: the reference's answer (or a part of it, for a tuple) is ``want`` ("float64") and the learner's
    is ``have`` ("float32"): a cast (``.float()``, ``dtype=tl.float32``, ``np.float32``) or an array made in the
    other dtype."""
    def parts(value):
        return list(value) if isinstance(value, (tuple, list)) else [value]

    def match(got, expected, case):
        return any(getattr(g, "dtype", None) == np.dtype(have) and getattr(e, "dtype", None) == np.dtype(want)
                   for g, e in zip(parts(got), parts(expected)))
    return recognised(match, hint, more)


def float32_digits(hint, more=()):
    """A mistake row: on a float64 case, the learner's float64 answer is off by float32's rounding (more than
    F64_RTOL of the answer's size, at most 1e-6 of it): a float32 tensor inside, which promotes back to float64."""
    def match(got, expected, case):
        got, expected = _first(got), _first(expected)
        if not (is_float64(expected) and getattr(got, "dtype", None) == np.float64 and got.shape == expected.shape
                and np.isfinite(got).all() and np.isfinite(expected).all() and expected.size):
            return False
        error, size = float(np.abs(got - expected).max()), max(float(np.abs(expected).max()), 1e-300)
        return F64_RTOL * size < error <= 1e-6 * size
    return recognised(match, hint, more)


# the hint of a float32 tensor answered on a float64 case
FLOAT32_RESULT = (
    "this case's inputs are float64, and your result is float32: your code converts to float32 somewhere (.float(), "
    "dtype=tl.float32, np.float32, or a tensor it makes with the default float32 that ends up in the result), which "
    "keeps about 7 significant digits where float64 keeps about 16. Like PyTorch's, a function of float64 tensors "
    "returns float64: compute in the dtype of the inputs",
    "leave out the conversion, and make any tensor you create with the dtype of the input (dtype=x.dtype, or "
    "zeros_like / ones_like / full_like of it)")
# the two dtype mistakes of a tensor function's float64 case: a float32 result, and a float64 result with float32's
# digits (a float32 tensor inside that promotes back; the hint is the check's own for float32's rounding)
CAST_TO_FLOAT32 = cast_to("float32", "float64", *FLOAT32_RESULT)
FLOAT32_INSIDE = float32_digits(*FLOAT32_ROUNDING)
DTYPE_MISTAKES = (CAST_TO_FLOAT32, FLOAT32_INSIDE)


# -------------------------------------------------------------------- what a driven answer returned
@contextmanager
def global_rng_kept():
    """``with global_rng_kept(): ...`` puts the library's global random generator back as it was, whatever the code
    inside does with it: a driver that seeds or draws leaves the notebook's later cells their numbers."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def is_number(value):
    """A real number: a Python int or float, or a numpy integer or floating scalar (not a bool)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def is_python_number(value):
    """A plain Python int or float (a numpy float64 is a float too; a bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def returned_number(value, who, *, none, other, tensor=None, sequence=None, numpy=None):
    """None when ``value``, what the learner's code returned, is a plain Python number (a bool is not); otherwise
    the sentence that says what it returned, and what to return: ``who`` names the code ("your train_step"), and
    each kind of wrong value gets the exercise's own ending (``tensor``, ``sequence`` for a list, tuple or array,
    ``numpy`` for a numpy scalar, each ``other`` when not given; ``none`` for None):
    "{who} returned None{none}", "{who} returned a {type}{tensor}", "{who} returned a numpy {type}, not a Python
    float{numpy}", "{who} returned a {type}{other}"."""
    if value is None:
        return f"{who} returned None{none}"
    if is_python_number(value):
        return None
    if is_tensor(value) or type_name(value).startswith("torch."):
        return f"{who} returned {an(type_name(value))}{tensor or other}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return f"{who} returned {an(type_name(value))}{sequence or other}"
    if is_number(value):
        return f"{who} returned a numpy {type(value).__name__}, not a Python float{numpy or other}"
    return f"{who} returned {an(type_name(value))}{other}"


# -------------------------------------------------------------------- the kinds
def _exercise(id, reference, cases, mistakes, judge, match, compare, **fields):
    if compare is None and match is not None and match != judge:  # judged within judge, not within match
        compare = judged(judge, judge)
    match = judge if match is None else match
    return register(Exercise(id, reference=reference, cases=cases, mistakes=tuple(mistakes), compare=compare,
                             rtol=match.rtol, atol=match.atol, **fields))


def _sized(compare, unread):
    """``compare``, after the check that the answer has the reference's size (a model changed by the learner's code,
    for one, records another number of numbers)."""
    def judge(got, expected, case):
        if isinstance(got, np.ndarray) and isinstance(expected, np.ndarray) and got.shape != expected.shape:
            return f"the check could not read {unread} (got {got.size} numbers, {expected.size} expected)"
        return compare(got, expected, case)
    return judge


def tensor_function(id, reference, cases, mistakes=(), *, judge=AT_FLOAT32, judge64=AT_FLOAT64, match=None,
                    compare=None, dtype_mistakes=DTYPE_MISTAKES, answer=None, grad=True, **fields):
    """A function of tensors whose answer is a Tensor of the inputs' dtype connected to their graph (``answer``
    another kind, e.g. a TupleAnswer of TensorAnswers). Judged within ``judge``, the float64 case within
    ``judge64`` (unless ``compare`` judges); mistakes matched within ``match`` (default ``judge``); the kind's dtype
    mistakes lead the lesson's rows. Other fields as ``registry.Exercise`` (grad, allow, forbid, ...)."""
    return _exercise(id, reference, cases, tuple(dtype_mistakes) + tuple(mistakes), judge, match,
                     compare or judged(judge, judge64), answer=answer or TensorAnswer(), grad=grad, **fields)


def array_function(id, reference, cases, mistakes=(), *, judge=AT_FLOAT32, judge64=AT_FLOAT64, match=None,
                   compare=None, dtype_mistakes=(), answer=None, **fields):
    """A function of numpy arrays whose answer is an array of the reference's dtype (``answer`` another kind, e.g. a
    TupleAnswer of ArrayAnswers); tolerances and dtype mistakes as for ``tensor_function``."""
    return _exercise(id, reference, cases, tuple(dtype_mistakes) + tuple(mistakes), judge, match,
                     compare or judged(judge, judge64), answer=answer or ArrayAnswer("reference"), **fields)


def number(id, reference, cases, mistakes=(), *, judge=EXACT_NUMBER, match=None, compare=None,
           tensor_ok=False, **fields):
    """A function whose answer is a plain Python number, judged within ``judge`` (float64's precision by default)."""
    return _exercise(id, reference, cases, mistakes, judge, match, compare,
                     answer=NumberAnswer(tensor_ok=tensor_ok), **fields)


def driven(id, reference, cases, drive, mistakes=(), *, judge=AT_FLOAT32, match=None, compare=None,
           base=None, must_define=(), answer=None, unread=None, **fields):
    """An answer judged by driving it: ``drive(fn, args, kwargs)`` builds the case's set-up, runs the learner's class
    or function (and, alike, the reference and each wrong version) and returns a ``Run`` of the numbers observed, or
    ``Run.failed(problem)``. ``base``/``must_define``: a class answer must subclass ``base`` and define one of
    ``must_define`` itself (``RunAnswer``). Judged by ``compare`` or within ``judge``; mistakes matched within
    ``match`` (default ``judge``). With ``unread`` (what the Run is, e.g. "your run"), ``compare`` sees only Runs of
    the reference's size: one of another size is a run the check could not read; without, ``compare`` judges the
    sizes itself (a run that may stop early, a gradient that a learner filled in)."""
    if compare is not None and unread is not None:
        compare = _sized(compare, unread)
    return _exercise(id, reference, cases, mistakes, judge, match, compare, call=drive,
                     answer=answer or RunAnswer(base=base, must_define=must_define), **fields)
