"""Exercise checks that teach: ``check("03.relu_backward", relu_backward)``.

A check runs the learner's function on the visible example and on hidden cases (generated from a seed, so the
same every time), compares each answer with the reference implementation, and prints one of four verdicts:

- passed, with the number of cases;
- failed: the first failing case, expected vs got (shape, dtype, the worst element and its index, the largest
  difference) and a hint when the answer matches a known mistake (wrong sign, a constant factor, mean vs sum,
  a transposed matrix, a missing sum over a broadcast dim, softmax without subtracting the max);
- not attempted yet: the function still raises the stub's ``NotImplementedError``;
- error: the learner's code raised; a short traceback points at the learner's own line.

A check never raises, so "Run All" goes on, and it returns a ``CheckResult`` that is truthy when passed.
``use(exercise_id, fn)`` gives later cells the learner's function once it passes, the library's reference
until then (saying so once). When the environment variable ``TINYGRAD_LITE_CHECK_RESULTS`` names a file, each
verdict is also appended to it as a JSON line: that is how ``tinygrad-lite check`` and grading collect them.
"""
import copy
import json
import os
import sys
import traceback
import zlib
from dataclasses import dataclass, field

import numpy as np

RESULTS_ENV = "TINYGRAD_LITE_CHECK_RESULTS"
PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"
_SYMBOL = {PASSED: "✔", FAILED: "✘", NOT_ATTEMPTED: "…", ERROR: "✘"}


@dataclass
class Case:
    """One input to check: the arguments, a short description shown when it fails, and whether the notebook shows it."""
    args: tuple
    label: str = ""
    kwargs: dict = field(default_factory=dict)
    visible: bool = False


@dataclass
class Mistake:
    """A known wrong answer: when the learner's output equals ``wrong(*args)``, the ``hint`` explains the mistake."""
    wrong: object
    hint: str


@dataclass
class Exercise:
    """What a check needs to know about one exercise.

    ``cases(rng)`` returns the Cases (visible first); ``reference`` computes the right answers; ``mistakes`` are
    exercise-specific wrong answers with hints (the generic ones in ``diagnose`` are always tried too);
    ``compare(got, expected, case)`` may replace the numeric comparison and return a failure text or None.
    """
    id: str
    reference: object
    cases: object
    mistakes: tuple = ()
    points: int = 1
    rtol: float = 1e-5
    atol: float = 1e-7
    compare: object = None

    @property
    def name(self):
        return self.id.split(".", 1)[1]

    def all_cases(self):
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))  # the same hidden cases every run
        return list(self.cases(rng))


REGISTRY = {}


def register(exercise):
    """Add an exercise to the registry (lesson modules in ``course/exercises`` call this at import)."""
    if exercise.id in REGISTRY:
        raise ValueError(f"exercise id {exercise.id!r} is registered twice")
    REGISTRY[exercise.id] = exercise
    return exercise


def get_exercise(exercise_id):
    from . import exercises  # noqa: F401  (importing it registers every lesson's exercises)
    try:
        return REGISTRY[exercise_id]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise KeyError(f"unknown exercise id {exercise_id!r}; known ids: {known}") from None


@dataclass
class CheckResult:
    exercise: str
    status: str
    message: str
    passed_cases: int = 0
    total_cases: int = 0

    def __bool__(self):
        return self.status == PASSED

    def __repr__(self):
        return f"CheckResult({self.exercise!r}, {self.status!r}, {self.passed_cases}/{self.total_cases} cases)"

    def _ipython_display_(self):
        pass  # check() has printed the message already; showing the result again would only repeat it

    def as_dict(self):
        return {"exercise": self.exercise, "status": self.status, "passed_cases": self.passed_cases,
                "total_cases": self.total_cases, "message": self.message}


# -------------------------------------------------------------------- turning answers into comparable arrays
def as_numpy(value):
    """Tensors (ours or PyTorch's), numpy arrays and numbers become numpy arrays; tuples and lists stay sequences."""
    if isinstance(value, (tuple, list)):  # a named tuple (e.g. what x.max(0) returns) becomes a plain tuple
        return [as_numpy(v) for v in value] if isinstance(value, list) else tuple(as_numpy(v) for v in value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return np.asarray(value.detach().numpy())
    if value is None or isinstance(value, (str, dict)):
        return value
    return np.asarray(value)


def _describe(a):
    return f"shape {tuple(a.shape)} {a.dtype}"


def compare_arrays(got, expected, rtol, atol, what="the result"):
    """None when ``got`` matches ``expected``; otherwise a few lines that say how they differ."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"expected {len(expected)} results (a tuple), got {type(got).__name__}" + (
                f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        for i, (g, e) in enumerate(zip(got, expected)):
            failure = compare_arrays(g, e, rtol, atol, f"result {i}")
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
        with np.errstate(invalid="ignore"):
            diff = np.abs(g - e)
            close = (diff <= atol + rtol * np.abs(e)) & np.isfinite(e)  # rtol * inf would accept anything
        wrong = ~(close | (g == e) | (np.isnan(g) & np.isnan(e)))  # nan matches nan, inf matches inf of its sign
        diff = np.where(np.isnan(diff), np.inf, diff)
    if not wrong.any():
        return None
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.where(wrong, diff, -1))), got.shape))
    index = f" at index {list(worst)}" if got.ndim else ""
    return (f"{what}: expected {_describe(expected)}, got {_describe(got)}; {int(wrong.sum())} of {wrong.size} "
            f"values differ. Worst{index}: expected {_number(expected[worst])}, got {_number(got[worst])} "
            f"(difference {float(diff[worst]):.3g})")


def _number(value):
    value = value.item()
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


# -------------------------------------------------------------------- recognising common mistakes
def diagnose(got, expected, inputs=()):
    """A hint when ``got`` is a recognisable distortion of ``expected``; None otherwise.

    ``inputs`` (the case's arguments, optional) tell the sizes a mean may run over when the answer has no dims
    of its own, e.g. a loss: one number averaged over the N elements of its input.
    """
    if not isinstance(got, np.ndarray) or not isinstance(expected, np.ndarray) or got.dtype.kind not in "fiu":
        return None
    e = expected.astype(np.float64)
    if got.shape != expected.shape:
        if got.ndim == 2 and got.shape == expected.shape[::-1] and np.allclose(got.T, e, rtol=1e-5, atol=1e-7):
            return ("your answer is the transpose of the right one: check the order of the factors in your matrix "
                    "product (for example x.T @ g versus g.T @ x) and the layout (out, in) of the weight")
        try:
            extra = got.ndim - e.ndim
            stretched = tuple(extra + i for i, n in enumerate(e.shape) if n == 1 and got.shape[extra + i] != 1)
            axes = tuple(range(extra)) + stretched
            if axes and np.allclose(got.sum(axis=axes).reshape(e.shape), e, rtol=1e-5, atol=1e-7):
                return (f"your gradient has the broadcast shape {got.shape}; the input had shape {e.shape}. An input "
                        "that was broadcast (repeated) gets the sum of the gradients of its copies: sum over the "
                        "broadcast dims, e.g. grad.sum(axis=0)")
        except (ValueError, IndexError):
            pass
        return None
    g = got.astype(np.float64)
    if np.isfinite(e).all() and not np.isfinite(g).all():
        return ("your result has inf or nan where the right answer is finite: exp overflows for large inputs. "
                "Subtract the maximum first (softmax(x) = softmax(x - max(x)), log-sum-exp trick)")
    if not np.isfinite(g).all():
        return None
    big = np.abs(e) > 1e-12
    if not big.any():
        return None
    if np.allclose(g, -e, rtol=1e-5, atol=1e-7):
        return "your answer has the wrong sign: check for a minus sign (the derivative of -x is -1, of 1 - x is -1)"
    ratios = g[big] / e[big]
    r = ratios.mean()
    if np.allclose(ratios, r, rtol=1e-4) and np.allclose(g[~big], 0, atol=1e-7) and not np.isclose(r, 1):
        counts = {n for n in expected.shape if n > 1} | {expected.size}
        for a in inputs:
            if isinstance(a, np.ndarray) and a.ndim:
                counts |= {n for n in a.shape if n > 1} | {a.size}
        for n in sorted(counts):
            if np.isclose(r, n, rtol=1e-4):
                return (f"your answer is {n} times too large: a sum where a mean was needed? (dividing by N = {n}, "
                        "the number of elements averaged, makes it a mean)")
            if np.isclose(r, 1 / n, rtol=1e-4):
                return (f"your answer is {n} times too small: a mean where a sum was needed, or dividing by "
                        f"N = {n} twice?")
        if big.sum() == 1 and not np.isclose(r, 2, rtol=1e-4) and not np.isclose(r, 0.5, rtol=1e-4):
            return None  # one number is always some factor times another: only a factor of 2 says something
        return (f"your answer is off by a constant factor ({r:.4g} times the right one): look for a missing or extra "
                "constant, e.g. the 2 in d(x^2)/dx = 2x or the 1/2 in front of a squared error")
    return None


def _diagnose_first_wrong(got, expected, inputs, exercise):
    """diagnose() of the answer, or of its first wrong result when it is a tuple (e.g. the gradients dx, dw)."""
    if not isinstance(expected, (tuple, list)):
        return diagnose(got, expected, inputs)
    if isinstance(got, (tuple, list)) and len(got) == len(expected):
        for g, e in zip(got, expected):
            if compare_arrays(g, e, exercise.rtol, exercise.atol):
                return diagnose(g, e, inputs)
    return None


# -------------------------------------------------------------------- running a check
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../tinygrad_lite


def _learner_traceback(exc):
    """The last lines of the traceback that are the learner's own code (not tinygrad_lite's), then the error."""
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # [0] is _call, below
    own = [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR) and f.line]
    lines = [f"  line {f.lineno} in {f.name}: {f.line}" for f in own[-3:]]
    return "\n".join(lines + [f"  {type(exc).__name__}: {exc}"])


def _argument_shapes(fn, case):
    """A line naming the shape of each array argument, e.g. "The inputs were x (4, 3), w (3, 5)"."""
    import inspect
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    shapes = [f"{names[k] if k < len(names) else f'argument {k}'} {tuple(a.shape)}"
              for k, a in enumerate(case.args) if hasattr(a, "shape")]
    return f"\n  The inputs were: {', '.join(shapes)}" if shapes else ""


def _call(fn, case):
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)  # the learner may modify their inputs
    return fn(*args, **kwargs)


def run_check(exercise, fn):
    """Check ``fn`` against ``exercise``; returns a CheckResult (never raises)."""
    cases = exercise.all_cases()
    for i, case in enumerate(cases):
        where = "the example shown in the notebook" if case.visible else f"hidden case {i + 1} of {len(cases)}"
        if case.label:
            where += f" ({case.label})"
        try:
            got = as_numpy(_call(fn, case))
        except NotImplementedError:
            return CheckResult(exercise.id, NOT_ATTEMPTED, f"{exercise.id}: not attempted yet. Replace the `raise "
                               "NotImplementedError` in the exercise cell with your code, run that cell, then run "
                               "this check again.", 0, len(cases))
        except Exception as exc:  # noqa: BLE001  (the learner's code may raise anything)
            return CheckResult(exercise.id, ERROR, f"{exercise.id}: your code raised an error on {where}:\n"
                               f"{_learner_traceback(exc)}{_argument_shapes(fn, case)}", i, len(cases))
        expected = as_numpy(_call(exercise.reference, case))
        if exercise.compare is not None:
            failure = exercise.compare(got, expected, case)
        else:
            failure = compare_arrays(got, expected, exercise.rtol, exercise.atol)
        if failure:
            hint = None
            for mistake in exercise.mistakes:
                try:
                    wrong = as_numpy(_call(mistake.wrong, case))
                except Exception:  # noqa: BLE001  (a mistake that cannot happen here, e.g. shapes that do not fit)
                    continue
                if compare_arrays(got, wrong, exercise.rtol, exercise.atol) is None:
                    hint = mistake.hint
                    break
            if not hint:
                hint = _diagnose_first_wrong(got, expected, [as_numpy(a) for a in case.args], exercise)
            message = f"{exercise.id}: failed on {where}.\n  {failure}"
            if hint:
                message += f"\n  Hint: {hint}"
            return CheckResult(exercise.id, FAILED, message, i, len(cases))
    hidden = sum(not c.visible for c in cases)
    return CheckResult(exercise.id, PASSED, f"{exercise.id}: passed ({len(cases)} cases, {hidden}"
                       " of them hidden)", len(cases), len(cases))


def _record(result):
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result.as_dict()) + "\n")


def check(exercise_id, fn, quiet=False):
    """Check the learner's ``fn`` for ``exercise_id``, print the verdict, and return it (truthy when passed)."""
    try:
        exercise = get_exercise(exercise_id)
    except KeyError as e:
        result = CheckResult(exercise_id, ERROR, f"{exercise_id}: {e.args[0]}")
    else:
        result = run_check(exercise, fn)
    if not quiet:
        print(f"{_SYMBOL[result.status]} {result.message}")
        _record(result)
    return result


_told = set()


def use(exercise_id, fn):
    """The learner's ``fn`` if it passes its check, else the library's reference (saying so once per exercise)."""
    exercise = get_exercise(exercise_id)
    if run_check(exercise, fn):
        return fn
    if exercise_id not in _told:
        _told.add(exercise_id)
        print(f"(Using the library's {exercise.name} in place of yours until exercise {exercise_id} passes.)",
              file=sys.stdout)
    return exercise.reference
