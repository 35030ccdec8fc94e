"""Exercise checks that teach: ``check("03.relu_backward", relu_backward)``.

A check runs the learner's function on the visible example and on hidden cases (generated from a seed, so the
same every time) and judges, case by case, through the pipeline that grading uses too (``pipeline.py``: one
function records what the learner's code did on a case, another judges that record), in this order:

0. write it yourself: an answer that is, subclasses, refers to or calls the library's own implementation of what
   the exercise asks for (``Exercise.forbid``) fails, naming it;
1. it runs: a stub's ``NotImplementedError`` is "not attempted"; a call into another exercise that is still a
   stub says which one to solve first; any other exception is an "error" that quotes the learner's own line;
2. no overflow or invalid-value warning from numpy inside it, for an exercise about numerical stability;
3. the kind of answer the exercise declares (``answers.py``): a Tensor of the right dtype, a numpy array, a
   Python number, a tuple of those; a numpy array, a list or a float where a Tensor was due is refused, saying why;
4. the numbers, against the reference, with the exercise's tolerances (``compare_log`` for tiny values);
5. the inputs are left unchanged (a function that writes into its input fails, naming the input);
6. for a differentiable exercise (``grad=True``): the inputs made to require grad, the result must be connected
   to them (not rebuilt from numpy, not detached), and the gradients of a random weighted sum of the result must
   equal the reference's.

A failure says which case, expected vs got (shape, dtype, the worst element) and, when the answer matches a known
mistake, a hint: the concept first; a more concrete hint only when the same mistake comes back (``Mistake.more``).
Generic hints (wrong sign, a constant factor, mean vs sum, a transpose, a missing broadcast sum, overflow) are
opt-in per exercise (``generic_hints``), so each fires only where its mistake can happen.

A check never raises, so "Run All" goes on; it shows its verdict (an HTML box in Jupyter, text elsewhere, see
display.py) and returns a ``CheckResult``, truthy when passed. ``use(exercise_id, fn)`` gives later cells the
learner's function once it passes, else the library's reference, labelled as such at each use. When the
environment variable ``TINYGRAD_LITE_CHECK_RESULTS`` names a file, each verdict is appended to it as a JSON line:
that is how ``tinygrad-lite check`` and grading collect them.
"""
import functools
import inspect
import json
import os
import textwrap
import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import display
from .display import ERROR, FAILED, NOT_ATTEMPTED, PASSED  # noqa: F401  (the statuses, for callers)

RESULTS_ENV = "TINYGRAD_LITE_CHECK_RESULTS"
_SYMBOL = display.SYMBOL
GENERIC_HINTS = ("sign", "factor", "mean_vs_sum", "transpose", "broadcast_sum", "overflow")


@dataclass
class Case:
    """One input to check: the arguments, a short description shown when it fails, and whether the notebook shows it.

    ``trivial``: why a trivial answer cannot help passing this case by its nature, e.g. "a healthy run: its answer is
    'nothing went wrong', which a function that always says so gives too", or a classification whose answer is one
    of a few labels. Such a case still catches the answers that get it wrong, but earns no points in grading
    (``pipeline.score`` counts informative cases only), and tests/test_trivial_answers.py accepts it only with
    this reason (every other hidden case must tell a trivial answer apart)."""
    args: tuple
    label: str = ""
    kwargs: dict = field(default_factory=dict)
    visible: bool = False
    trivial: str = ""


def _as_tiers(hint, more):
    return (hint,) + ((more,) if isinstance(more, str) else tuple(more))


@dataclass
class Mistake:
    """A known wrong answer: when the learner's output equals ``wrong(*args)``, the ``hint`` explains the mistake.

    ``hint`` names the concept (never the finished line of code); ``more`` (a string or a tuple of them) is a more
    concrete hint, shown besides it only when the same mistake comes back in the same kernel. Instead of ``wrong``,
    ``match(got, expected, case) -> bool`` may recognise the mistake (``got`` and ``expected`` as numpy arrays, or
    tuples of them; ``case`` the Case, its arguments as the cases made them), e.g. "a constant below some bound".
    """
    wrong: object = None
    hint: str = ""
    more: object = ()
    match: object = None

    def tiers(self):
        return _as_tiers(self.hint, self.more)


@dataclass
class ErrorHint:
    """A hint for an error verdict: shown when ``pattern`` (a regular expression) is found in the learner's error,
    written "ExceptionType: message" (e.g. r"Boolean value of a tensor"). Tiers as for a Mistake."""
    pattern: str
    hint: str
    more: object = ()

    def tiers(self):
        return _as_tiers(self.hint, self.more)


GENERIC_ERROR_HINTS = (
    ErrorHint(r"Boolean value of a tensor",
              "a Python `if`, `and`, `or` or max(x, 0) needs one True or False, but a comparison of tensors gives "
              "one per element: work on every element at once, with a mask, where or clamp"),
    ErrorHint(r"does not support ufuncs",
              "numpy's functions (np.exp, np.maximum, ...) do not take tensors: use the tensor's own operations, "
              "which keep the graph"),
    ErrorHint(r"unexpected keyword argument '(axis|keepdims)'",
              "numpy says axis= and keepdims=; tensors say dim= and keepdim="),
)


@dataclass
class Exercise:
    """What a check needs to know about one exercise.

    ``cases(rng)`` returns the Cases (visible first); ``reference`` computes the right answers; ``mistakes`` are
    exercise-specific wrong answers with hints; ``compare(got, expected, case)`` may replace the numeric
    comparison and return a failure text or None. ``points`` is the one place a lesson's points live.

    ``answer``: the kind of result (``answers.TensorAnswer()`` ...; None checks the numbers only).
    ``grad``: True (every floating-point tensor argument) or a tuple of argument names: run each case a second
    time with those inputs requiring grad, check that the result is connected to them and compare the gradients
    of a random weighted sum of it with the reference's (``grad_rtol``, ``grad_atol``; ``grad_hint`` is shown when
    the values are right and the gradients are not, before the generic hint; or ``grad_hint(got, want, case)``, given
    the gradient ``got`` of the first input whose gradient differs from ``want``, returns a hint that replaces the
    generic one, or "" to leave the generic one alone). For that run the inputs are moved by a tiny random amount
    (``grad_jitter`` times max(1, |x|); 0 turns it off), so that no input sits exactly on a kink, such as relu's at
    0, where right formulas may legitimately differ (relu gives 0 there, clamp(min=0) gives 1).
    ``stability``: True (or a tuple of "overflow", "invalid", "divide"): numpy's floating-point warnings of those
    kinds inside the learner's function fail the exercise (it is about computing without overflow).
    ``stability_hint``: a hint (a string, or a tuple of tiers) shown with that failure when no Mistake matches,
    e.g. for right values computed through an overflowing branch of ``where``.
    ``generic_hints``: the generic hints (GENERIC_HINTS) that fit this exercise's mistakes (none by default: a
    generic hint fires only where its mistake can happen, e.g. "broadcast_sum" for a gradient).
    ``vary``: the arguments the hidden cases must vary so that ignoring one fails (None: every argument of the
    reference that has a default); ``tests/lesson_helpers.py`` checks it.
    ``error_hints``: ErrorHints for errors this exercise's learners hit (tried before GENERIC_ERROR_HINTS).
    ``call(fn, args, kwargs)``: how to get the answer to judge from a function (default: its return value), used
    alike for the learner's function, the reference and the mistakes, e.g. the gradients a backward function
    leaves on its arguments. ``check_inputs``: False when changing the arguments is the exercise's point.
    ``forbid``: "write it yourself": the library's own implementations of what the exercise asks for (classes or
    functions, e.g. ``(optim.Adam, optim.AdamW)``). An answer that is one of them, subclasses one, or calls one
    while it runs (a wrapper) fails with a message that says so. The building blocks the exercise allows (e.g.
    ``optim.Optimizer``) are simply not listed. An entry may also be the dotted name of PyTorch's counterpart
    ("torch.optim.Adam"): the answer must not hand the work to PyTorch either (``pipeline.forbidden_objects``).
    ``battery(rng)``: extra Cases for mutation testing only (``mutation.py``): other shapes, dtypes, states, devices
    and modes on which a wrong variant of the solution may behave differently from the reference. They are never
    part of the check; a variant that fails on them but passes the check is a hole in the check's cases.
    """
    id: str
    reference: object
    cases: object
    mistakes: tuple = ()
    points: int = 1
    rtol: float = 1e-5
    atol: float = 1e-7
    compare: object = None
    answer: object = None
    grad: object = False
    grad_rtol: float = 1e-4
    grad_atol: float = 1e-6
    grad_hint: object = ""
    grad_jitter: float = 1e-3
    stability: object = False
    stability_hint: object = ()
    generic_hints: tuple = ()
    vary: object = None
    error_hints: tuple = ()
    call: object = None
    check_inputs: bool = True
    forbid: tuple = ()
    battery: object = None

    @property
    def name(self):
        return self.id.split(".", 1)[1]

    def all_cases(self):
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))  # the same hidden cases every run
        return list(self.cases(rng))

    def hint_kinds(self):
        return tuple(self.generic_hints)

    def run(self, fn, args, kwargs):
        """The answer of ``fn`` on these arguments, as this exercise judges it."""
        return fn(*args, **kwargs) if self.call is None else self.call(fn, args, kwargs)

    def warning_kinds(self):
        if not self.stability:
            return ()
        return ("overflow", "invalid") if self.stability is True else tuple(self.stability)

    def defaulted_parameters(self):
        """{name: default} of the reference's parameters that have a default (e.g. delta=1.0, h=1e-5)."""
        try:
            params = inspect.signature(self.reference).parameters.values()
        except (TypeError, ValueError):
            return {}
        return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


REGISTRY = {}


def register(exercise):
    """Add an exercise to the registry (lesson modules in ``course/exercises`` call this at import)."""
    if exercise.id in REGISTRY:
        raise ValueError(f"exercise id {exercise.id!r} is registered twice")
    unknown = set(exercise.hint_kinds()) - set(GENERIC_HINTS)
    if unknown:
        raise ValueError(f"exercise {exercise.id}: unknown generic hints {sorted(unknown)}; known: {GENERIC_HINTS}")
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
    """A verdict: ``status`` (passed, failed, not attempted, error), the ``message`` in plain text (its first line
    ``title``, then ``details`` and ``hints``), and how many cases passed."""
    exercise: str
    status: str
    message: str
    passed_cases: int = 0
    total_cases: int = 0
    title: str = ""
    details: tuple = ()
    hints: tuple = ()

    def __bool__(self):
        return self.status == PASSED

    def __repr__(self):
        return f"CheckResult({self.exercise!r}, {self.status!r}, {self.passed_cases}/{self.total_cases} cases)"

    def _ipython_display_(self):
        pass  # check() has shown the verdict already; showing the result again would only repeat it

    @property
    def text(self):
        """The plain text shown in a terminal and stored for nbval: the symbol, then the message, each line wrapped
        at word boundaries within TEXT_WIDTH columns (continuations indented two more), as the HTML box wraps.
        ``message`` itself stays unwrapped: tests and the gradebook search it for phrases."""
        return "\n".join(_wrapped(line) for line in f"{_SYMBOL[self.status]} {self.message}".splitlines())

    @property
    def html(self):
        return display.result_html(self.status, self.title or self.message.splitlines()[0], self.details, self.hints)

    def as_dict(self):
        return {"exercise": self.exercise, "status": self.status, "passed_cases": self.passed_cases,
                "total_cases": self.total_cases, "message": self.message}


TEXT_WIDTH = 100  # columns of a verdict's plain text: what fits a laptop-wide terminal or notebook


def _wrapped(line):
    """``line`` broken at spaces into lines of at most TEXT_WIDTH columns (a longer word stays whole)."""
    if len(line) <= TEXT_WIDTH:
        return line
    indent = line[:len(line) - len(line.lstrip())]
    return textwrap.fill(line.strip(), TEXT_WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def _result(exercise_id, status, title, details=(), hints=(), passed=0, total=0):
    details, hints = tuple(d for d in details if d), tuple(h for h in hints if h)
    return CheckResult(exercise_id, status, display.result_text(status, title, details, hints), passed, total,
                       title, details, hints)


# -------------------------------------------------------------------- turning answers into comparable arrays
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
    return (f"{what}: expected {_describe(expected)}, got {_describe(got)}; {int(wrong.sum())} of {wrong.size} "
            f"values differ. Worst{index}: expected {shown_expected}, got {shown_got} "
            f"({unit}difference {float(diff[worst]):.3g})")


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


# -------------------------------------------------------------------- recognising common mistakes
def _unbroadcast(grad, shape):
    from ..autograd.engine import unbroadcast  # the engine's own backward of broadcasting, not a copy
    return unbroadcast(grad, shape)


def diagnose(got, expected, inputs=(), kinds=GENERIC_HINTS):
    """A generic hint when ``got`` is a recognisable distortion of ``expected``; None otherwise.

    ``kinds`` are the generic hints that may fire (an exercise opts in to those that fit its mistakes, see
    GENERIC_HINTS). ``inputs`` (the case's arguments, optional) tell the sizes a mean may run over when the answer
    has no dims of its own, e.g. a loss: one number averaged over the N elements of its input.
    """
    kinds = set(kinds)
    if not isinstance(got, np.ndarray) or not isinstance(expected, np.ndarray) or got.dtype.kind not in "fiu":
        return None
    e = expected.astype(np.float64)
    if got.shape != expected.shape:
        if ("transpose" in kinds and got.ndim == 2 and got.shape == expected.shape[::-1]
                and np.allclose(got.T, e, rtol=1e-5, atol=1e-7)):
            return ("your answer is the transpose of the right one: check the order of the factors in your matrix "
                    "product and the layout (out, in) of the weight")
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
            counts = {n for n in expected.shape if n > 1} | {expected.size}
            for a in inputs:
                if isinstance(a, np.ndarray) and a.ndim:
                    counts |= {n for n in a.shape if n > 1} | {a.size}
            for n in sorted(counts - {1}):  # (a ratio near 1 is no count: 1.00003 is a small offset)
                if np.isclose(r, n, rtol=1e-4):
                    return (f"your answer is {n} times too large: a sum where a mean was needed? (dividing by "
                            f"{n}, the number of elements averaged, makes it a mean)")
                if np.isclose(r, 1 / n, rtol=1e-4):
                    return (f"your answer is {n} times too small: a mean where a sum was needed, or dividing by "
                            f"{n} twice?")
        if "factor" not in kinds or np.isclose(r, 0) or np.isclose(r, 1, rtol=1e-3):
            return None  # 0 times the right answer is no factor to look for, nor 1.0003 times (a small offset)
        if big.sum() == 1 and not np.isclose(r, 2, rtol=1e-4) and not np.isclose(r, 0.5, rtol=1e-4):
            return None  # one number is always some factor times another: only a factor of 2 says something
        return (f"your answer is off by a constant factor ({r:.4g} times the right one): look for a missing or extra "
                "constant (a 2, a 1/2, a division by a count) or a term that scales every value alike")
    return None


_SEEN = Counter()  # (exercise id, mistake index) -> how often check() has seen that mistake in this kernel


_REFERENCES = {}  # id(exercise) -> (exercise, its check's Reference), see check_reference


def check_reference(exercise):
    """The ``pipeline.Reference`` of ``exercise``'s check, made once per process. A check's cases come from fixed
    seeds, and what the verdicts need from them (the reference's answers and gradients, the known mistakes'
    answers) is computed on copies of the cases: the same on every run. So a check run again, by the learner after
    a fix or by a test with many wrong answers, computes only the learner's side. (Keyed by the exercise object
    itself: an exercise rebuilt with other settings gets its own.)"""
    from . import pipeline
    kept = _REFERENCES.get(id(exercise))
    if kept is None or kept[0] is not exercise:
        kept = _REFERENCES[id(exercise)] = (exercise, pipeline.Reference.for_check(exercise))
    return kept[1]


def run_check(exercise, fn, seen=None, reference=None, records=None):
    """Check ``fn`` against ``exercise``; returns a CheckResult (never raises).

    Case by case, in order, through the judging pipeline (``pipeline.py``) that grading uses: the learner's code
    runs and what happened is recorded, the record goes through JSON as in grading, and is judged; the check
    stops at the first case that does not pass. ``seen`` counts how often each mistake was seen (for the hint
    tiers); by default a fresh count, so a plain run_check always shows the first tier. ``check`` passes the
    kernel's count. ``reference``: a ``pipeline.Reference`` of the check's cases (by default the one
    ``check_reference`` keeps for the process). ``records``: a
    dict that receives each case's record ({case index: record, as read back from JSON}), e.g. for a test that
    judges them again as grading does.
    """
    from . import pipeline
    seen = Counter() if seen is None else seen
    reference = check_reference(exercise) if reference is None else reference
    recorder = pipeline.Recorder()
    n = len(reference.cases)
    for i, case in enumerate(reference.cases):
        try:
            reference.raw(i)  # the reference first, before the learner's code could change any global state
            record = pipeline.roundtrip(recorder.record(exercise, fn, case, reference.grad_seed_of(i)))
            if records is not None:
                records[i] = record
        except Exception as exc:  # noqa: BLE001  (a check must never raise, whatever the learner's code did)
            here = pipeline.where(case, i, n)
            return _result(exercise.id, ERROR, f"{exercise.id}: the check could not run your answer on {here}:",
                           (f"{type(exc).__name__}: {exc}",), (), i, n)
        verdict = pipeline.judge_safely(exercise, reference, i, record, seen)
        if verdict["status"] != PASSED:
            return _result(exercise.id, verdict["status"], verdict["title"], verdict["details"], verdict["hints"],
                           i, n)
    hidden = sum(not c.visible for c in reference.cases)
    return _result(exercise.id, PASSED, f"{exercise.id}: passed ({n} cases, {hidden} of them hidden)",
                   passed=n, total=n)


def _record(result):
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result.as_dict()) + "\n")


def show(result):
    """Show a verdict: an HTML box in a Jupyter kernel (with the plain text alongside), the text elsewhere."""
    display.publish(result.text, result.html)


def check(exercise_id, fn, quiet=False, demo=False):
    """Check the learner's ``fn`` for ``exercise_id``, show the verdict, and return it (truthy when passed).

    ``demo=True``: a lesson's own demonstration of a failing answer, whose mistake is not the learner's: it is not
    counted towards the hint tiers, so the learner's first try with that mistake still gets the first hint."""
    try:
        exercise = get_exercise(exercise_id)
    except KeyError as e:
        result = _result(exercise_id, ERROR, f"{exercise_id}: {e.args[0]}")
    else:
        result = run_check(exercise, fn, Counter() if demo else _SEEN)
    if not quiet:
        show(result)
        _record(result)
    return result


# -------------------------------------------------------------------- the library's version standing in
class Fallback:
    """The library's reference standing in for an exercise the learner has not solved yet.

    Calling it calls the reference, and shows a label where it is used: once per cell that uses it in Jupyter
    (each time such a cell runs), once per fallback elsewhere.
    """

    def __init__(self, exercise, status):
        self.exercise, self.reference = exercise, exercise.reference
        # Said in the past tense, of the moment the cell ran: the label stays on screen after the learner's answer
        # passes, and must still be true then (with what to do about it).
        self.why = "was not written" if status == NOT_ATTEMPTED else "had not passed"  # (when the cell ran)
        head = f"the library's {exercise.name} stands in for yours here:"
        tail = f"yours ({exercise.id}) {self.why} when this cell ran: rerun it once yours passes"
        # one line when it fits the notebook's 100 columns (with the "↪ " in front), else the reason below it
        self.label = f"{head} {tail}" if len(head) + len(tail) + 3 <= 100 else f"{head}\n  {tail}"
        self._labelled = set()
        functools.update_wrapper(self, exercise.reference, assigned=("__doc__",))
        self.__name__ = exercise.name

    def show_label(self):
        cell = display.execution_count() if display.in_kernel() else "terminal"
        if cell not in self._labelled:
            self._labelled.add(cell)
            display.publish(f"↪ {self.label}", display.fallback_html(self.label))

    def __call__(self, *args, **kwargs):
        self.show_label()
        return self.reference(*args, **kwargs)

    def __repr__(self):
        return f"<the library's {self.exercise.name}, standing in for {self.exercise.id}>"


def is_fallback(fn):
    """True when ``fn`` is the library's version standing in (what ``use`` returns for an unsolved exercise)."""
    return isinstance(fn, Fallback)


def whose(fn):
    """Who wrote ``fn``, for a table or a plot legend: "your mse", or "the library's mse (yours had not passed)" for
    a Fallback (in the past tense: the printed line stays true after the learner's answer passes)."""
    if is_fallback(fn):
        return f"the library's {fn.exercise.name} (yours {fn.why})"
    return f"your {getattr(fn, '__name__', 'function')}"


# Set by a grading kernel (grading/kernel.py): there ``use`` runs no check and always hands out the reference. The
# grader judges every exercise on its hidden cases anyway, and a learner's function that loops or crashes would
# otherwise cost its time limit twice: once in the setup cell that calls ``use``, once in its own exercise.
STAND_IN_ONLY = False


def use(exercise_id, fn):
    """The learner's ``fn`` if it passes its check, else a ``Fallback``: the library's reference, labelled at
    each use."""
    exercise = get_exercise(exercise_id)
    if STAND_IN_ONLY:
        return Fallback(exercise, "graded separately")
    result = run_check(exercise, fn)
    return fn if result else Fallback(exercise, result.status)
