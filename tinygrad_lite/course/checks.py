"""Exercise checks that teach: ``check("03.relu_backward", relu_backward)``.

A check runs the learner's function on the visible example and on hidden cases (generated from a seed, so the
same every time) and judges, case by case, in this order:

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
import copy
import functools
import inspect
import json
import os
import re
import traceback
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import display
from .answers import TensorAnswer, is_tensor, tensor_parts
from .display import ERROR, FAILED, NOT_ATTEMPTED, PASSED

RESULTS_ENV = "TINYGRAD_LITE_CHECK_RESULTS"
_SYMBOL = display.SYMBOL
GENERIC_HINTS = ("sign", "factor", "mean_vs_sum", "transpose", "broadcast_sum", "overflow")


@dataclass
class Case:
    """One input to check: the arguments, a short description shown when it fails, and whether the notebook shows it."""
    args: tuple
    label: str = ""
    kwargs: dict = field(default_factory=dict)
    visible: bool = False


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
    the values are right and the gradients are not). For that run the inputs are moved by a tiny random amount
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
    ``optim.Optimizer``) are simply not listed.
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
    grad_hint: str = ""
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
        """The plain text shown in a terminal and stored for nbval: the symbol, then the message."""
        return f"{_SYMBOL[self.status]} {self.message}"

    @property
    def html(self):
        return display.result_html(self.status, self.title or self.message.splitlines()[0], self.details, self.hints)

    def as_dict(self):
        return {"exercise": self.exercise, "status": self.status, "passed_cases": self.passed_cases,
                "total_cases": self.total_cases, "message": self.message}


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
    return (f"{what}: expected {_describe(expected)}, got {_describe(got)}; {int(wrong.sum())} of {wrong.size} "
            f"values differ. Worst{index}: expected {_number(expected[worst])}, got {_number(got[worst])} "
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
            return ("your result has inf or nan where the right answer is finite: exp overflows for large inputs. "
                    "Subtract the maximum first: exp(x - m), with m the maximum, is never above 1, and the shift "
                    "cancels out (the log-sum-exp trick)")
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
            for n in sorted(counts):
                if np.isclose(r, n, rtol=1e-4):
                    return (f"your answer is {n} times too large: a sum where a mean was needed? (dividing by "
                            f"N = {n}, the number of elements averaged, makes it a mean)")
                if np.isclose(r, 1 / n, rtol=1e-4):
                    return (f"your answer is {n} times too small: a mean where a sum was needed, or dividing by "
                            f"N = {n} twice?")
        if "factor" not in kinds:
            return None
        if big.sum() == 1 and not np.isclose(r, 2, rtol=1e-4) and not np.isclose(r, 0.5, rtol=1e-4):
            return None  # one number is always some factor times another: only a factor of 2 says something
        return (f"your answer is off by a constant factor ({r:.4g} times the right one): look for a missing or extra "
                "constant, e.g. the 2 in d(x^2)/dx = 2x or the 1/2 in front of a squared error")
    return None


def _diagnose_first_wrong(got, expected, inputs, exercise):
    """diagnose() of the answer, or of its first wrong result when it is a tuple (e.g. the gradients dx, dw)."""
    kinds = exercise.hint_kinds()
    if not kinds:
        return None
    if not isinstance(expected, (tuple, list)):
        return diagnose(got, expected, inputs, kinds)
    if isinstance(got, (tuple, list)) and len(got) == len(expected):
        for g, e in zip(got, expected):
            if compare_arrays(g, e, exercise.rtol, exercise.atol):
                return diagnose(g, e, inputs, kinds)
    return None


# -------------------------------------------------------------------- running the learner's code
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../tinygrad_lite
_STUB_MESSAGE = re.compile(r"^(\d+\.\w+)")  # release's stubs raise NotImplementedError("01.relu: ...")


def _learner_traceback(exc):
    """The last lines of the traceback that are the learner's own code (not tinygrad_lite's), then the error."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR) and f.line]
    lines = [f"line {f.lineno} in {f.name}: {f.line}" for f in own[-3:]]
    return "\n".join(lines + [f"{type(exc).__name__}: {exc}"])


def _parameter_names(fn, n):
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return names + [f"argument {k}" for k in range(len(names), n)]


def _argument_shapes(fn, case):
    """A line naming the shape of each array argument, e.g. "The inputs were: x (4, 3), w (3, 5)"."""
    names = _parameter_names(fn, len(case.args))
    shapes = [f"{names[k]} {tuple(a.shape)}" for k, a in enumerate(case.args) if hasattr(a, "shape")]
    return f"The inputs were: {', '.join(shapes)}" if shapes else ""


class _Warnings:
    """Record numpy's floating-point warnings of the given kinds ("overflow", "invalid", "divide") in a block."""

    def __init__(self, kinds):
        self.kinds, self.seen = tuple(kinds), []

    def __enter__(self):
        if self.kinds:
            self._catch = warnings.catch_warnings(record=True)
            self._log = self._catch.__enter__()
            warnings.simplefilter("always", RuntimeWarning)
            self._err = np.errstate(**{k: "warn" for k in ("over", "invalid", "divide")})
            self._err.__enter__()
        return self

    def __exit__(self, *exc):
        if self.kinds:
            self._err.__exit__(*exc)
            self._catch.__exit__(*exc)
            words = {"overflow": "overflow", "invalid": "invalid value", "divide": "divide by zero"}
            self.seen = list(dict.fromkeys(str(w.message) for w in self._log if issubclass(w.category, RuntimeWarning)
                                           and any(words[k] in str(w.message) for k in self.kinds)))
        return False


def _quietly(fn, args, kwargs, exercise=None):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs) if exercise is None else exercise.run(fn, args, kwargs)


def _stub_origin(exc, fn):
    """Where a NotImplementedError came from: ("own", None) from ``fn`` itself (an unsolved exercise), ("library",
    None) from inside tinygrad_lite, else ("other", (exercise id or None, function name)) from another function,
    e.g. mlp_forward calling a dense_forward that is still a stub."""
    frames = traceback.extract_tb(exc.__traceback__)
    code = getattr(inspect.unwrap(fn), "__code__", None)
    last = frames[-1] if frames else None
    if last is None or code is None or (last.filename == code.co_filename and last.name == code.co_name):
        return "own", None
    match = _STUB_MESSAGE.match(str(exc))
    if os.path.abspath(last.filename).startswith(_PACKAGE_DIR) and not match:
        return "library", None
    exercise_id = match.group(1) if match else None
    if exercise_id is None:
        from . import exercises  # noqa: F401
        exercise_id = next((i for i in sorted(REGISTRY) if REGISTRY[i].name == last.name), None)
    return "other", (exercise_id, last.name)


def _float_tensors(value, path, out):
    """Collect (path, tensor) for every floating-point tensor in ``value`` (nested in lists and tuples too)."""
    if is_tensor(value):
        if np.dtype(value.detach().numpy().dtype).kind == "f":
            out.append((path, value))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _float_tensors(v, f"{path}[{i}]", out)
    return out


def _grad_inputs(exercise, args, kwargs, names):
    """Make the chosen float tensors among ``args``/``kwargs`` require grad; return [(name, tensor)].

    The choice (``exercise.grad``: True, or names of the reference's parameters) is made by position, so the
    learner's parameters may have other names; ``names`` (the learner's, when known) label the messages."""
    ref_names = _parameter_names(exercise.reference, len(args))
    found = []
    for k, a in enumerate(args):
        for path, t in _float_tensors(a, "", []):
            found.append((ref_names[k], names[k] + path, t))
    for name, a in kwargs.items():
        for path, t in _float_tensors(a, "", []):
            found.append((name, name + path, t))
    if exercise.grad is not True:
        wanted = set(exercise.grad)
        found = [f for f in found if f[0] in wanted]
    return [(name, t) for _, name, t in found]


def _jitter(inputs, amount, seed):
    """Move each input tensor by a tiny random amount, the same for the learner's and the reference's copies, then
    make it require grad."""
    rng = np.random.default_rng(seed)
    for _, t in inputs:
        if amount:
            array = t.detach().numpy()
            noise = amount * rng.uniform(-1.0, 1.0, array.shape) * np.maximum(1.0, np.abs(array))
            array[...] = (array + noise).astype(array.dtype)
        t.requires_grad_(True)


def _changed_inputs(before, after, names):
    """The names of the arguments whose numbers differ after the call (compared with a pristine copy)."""
    def differs(b, a):
        if is_tensor(b) and is_tensor(a):
            b, a = b.detach().numpy(), a.detach().numpy()
        if isinstance(b, np.ndarray) and isinstance(a, np.ndarray):
            if b.shape != a.shape:
                return True
            if b.dtype.kind in "fc":
                with np.errstate(invalid="ignore"):
                    return not np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
            return not np.array_equal(a, b)
        if isinstance(b, (list, tuple)) and isinstance(a, (list, tuple)):
            return len(b) != len(a) or any(differs(x, y) for x, y in zip(b, a))
        return False
    return [name for name, b, a in zip(names, before, after) if differs(b, a)]


def _weighted_sum(parts, seed):
    """sum_k (part_k * w_k).sum() with fixed random weights w_k: one number whose gradient reaches every output."""
    from .. import tensor as make_tensor
    rng = np.random.default_rng(seed)
    total = None
    for _, t in parts:
        array = t.detach().numpy()
        w = make_tensor(rng.standard_normal(array.shape).astype(array.dtype))
        term = (t * w).sum()
        total = term if total is None else total + term
    return total


# -------------------------------------------------------------------- running a check
class _Verdict(Exception):
    """Raised inside run_check to stop at the first verdict (a failure, an error, not attempted)."""

    def __init__(self, status, title, details=(), hints=()):
        super().__init__(title)
        self.status, self.title, self.details, self.hints = status, title, details, hints


def _tiers(exercise, index, tiers, seen):
    """The hints to show for mistake ``index``: the concept; the more concrete ones as the mistake comes back."""
    key = (exercise.id, index)
    seen[key] += 1
    return tiers[:min(seen[key], len(tiers))]


def _hints(exercise, got, case, expected, seen, generic=True):
    """The hints for a wrong answer: a known mistake's (in tiers), an ignored argument, or a generic one."""
    for index, mistake in enumerate(exercise.mistakes):
        try:
            if mistake.match is not None:
                matched = bool(mistake.match(got, expected, case))
            else:
                wrong = as_numpy(_quietly(mistake.wrong, *copy.deepcopy((case.args, case.kwargs)), exercise))
                # a mistake that gives the right answer on this case cannot be told apart here (e.g. a right
                # value returned as the wrong type must not get that mistake's hint)
                matched = (compare_arrays(got, wrong, exercise.rtol, exercise.atol) is None
                           and compare_arrays(wrong, expected, exercise.rtol, exercise.atol) is not None)
        except Exception:  # noqa: BLE001  (a mistake that cannot happen here, e.g. shapes that do not fit)
            continue
        if matched:
            return _tiers(exercise, index, mistake.tiers(), seen)
    ignored = _ignored_argument(exercise, got, case, expected)
    if ignored:
        return (ignored,)
    if generic:
        hint = _diagnose_first_wrong(got, expected, [as_numpy(a) for a in case.args], exercise)
        if hint:
            return (hint,)
    return ()


def _ignored_argument(exercise, got, case, expected):
    """A hint when ``got`` is what the reference gives with one argument left at its default although the case
    passes another value: the learner's function ignores that argument. (Not when the default gives the right
    answer on this case anyway: then ignoring the argument cannot be told apart from a right answer.)"""
    try:
        bound = inspect.signature(exercise.reference).bind(*case.args, **case.kwargs)
    except (TypeError, ValueError):
        return None
    for name, default in exercise.defaulted_parameters().items():
        if name not in bound.arguments or _same(bound.arguments[name], default):
            continue
        args = dict(bound.arguments, **{name: default})
        try:
            answer = as_numpy(_quietly(exercise.reference, (), copy.deepcopy(args), exercise))
        except Exception:  # noqa: BLE001
            continue
        if (compare_arrays(got, answer, exercise.rtol, exercise.atol) is None
                and compare_arrays(answer, expected, exercise.rtol, exercise.atol) is not None):
            return (f"your answer is what {name}={default!r} gives, but this case passes {name}="
                    f"{bound.arguments[name]!r}: use the argument `{name}` itself, not a fixed value")
    return None


def _same(a, b):
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001  (arrays and tensors: not a plain default value)
        return False


def _error_hints(exercise, exc, seen):
    text = f"{type(exc).__name__}: {exc}"
    for index, error_hint in enumerate(tuple(exercise.error_hints) + GENERIC_ERROR_HINTS):
        if re.search(error_hint.pattern, text):
            return _tiers(exercise, ("error", index), error_hint.tiers(), seen)
    return ()


def _call(fn, exercise, case, args, kwargs, where, seen, expected=None):
    """Run the learner's ``fn``; returns its result, or raises _Verdict (not attempted, error, unstable)."""
    with _Warnings(exercise.warning_kinds()) as caught:
        try:
            return_value = exercise.run(fn, args, kwargs)
        except NotImplementedError as exc:
            origin, info = _stub_origin(exc, fn)
            if origin == "own" or (origin == "other" and info[0] == exercise.id):  # e.g. a lambda around the stub
                raise _Verdict(NOT_ATTEMPTED, f"{exercise.id}: not attempted yet. Replace the `raise "
                               "NotImplementedError` in the exercise cell with your code, run that cell, then run "
                               "this check again.") from None
            if origin == "other":
                other_id, name = info
                which = f"exercise {other_id}" if other_id else f"{name}"
                fallback = (f" or, meanwhile, let the library's version stand in: {name} = use(\"{other_id}\", "
                            f"{name})" if other_id else "")
                raise _Verdict(ERROR, f"{exercise.id}: your {exercise.name} calls {name}, which is not written "
                               f"yet (it still raises NotImplementedError). Solve {which} first{fallback}, then "
                               "run this check again.") from None
            raise _Verdict(ERROR, f"{exercise.id}: your code raised an error on {where}:",
                           (_learner_traceback(exc), _argument_shapes(fn, case))) from None
        except Exception as exc:  # noqa: BLE001  (the learner's code may raise anything)
            raise _Verdict(ERROR, f"{exercise.id}: your code raised an error on {where}:",
                           (_learner_traceback(exc), _argument_shapes(fn, case)),
                           _error_hints(exercise, exc, seen)) from None
    if caught.seen:
        got = as_numpy(return_value)
        hints = _hints(exercise, got, case, expected, seen, generic=False)
        if not hints and exercise.stability_hint:
            tiers = (exercise.stability_hint,) if isinstance(exercise.stability_hint, str) else exercise.stability_hint
            hints = _tiers(exercise, "stability", tuple(tiers), seen)
        raise _Verdict(FAILED, f"{exercise.id}: failed on {where}.",
                       (f"numpy warned inside your function: {'; '.join(caught.seen)}. An intermediate value "
                        "overflowed or became invalid (e.g. exp of a large number), even where the final numbers "
                        "may look right. This exercise is about computing it without that: no step may overflow.",),
                       hints)
    return return_value


def _check_case(exercise, fn, case, where, seen):
    """Judge one case; raises _Verdict at the first problem."""
    pristine = copy.deepcopy((case.args, case.kwargs))
    args, kwargs = copy.deepcopy(pristine)
    raw_expected = _quietly(exercise.reference, *copy.deepcopy(pristine), exercise)
    expected = as_numpy(raw_expected)
    raw = _call(fn, exercise, case, args, kwargs, where, seen, expected)
    got = as_numpy(raw)
    refusal = exercise.answer.refuse(raw, raw_expected) if exercise.answer is not None else None
    if refusal:
        raise _Verdict(FAILED, f"{exercise.id}: failed on {where}.", (refusal,),
                       _hints(exercise, got, case, expected, seen, generic=False))
    if exercise.compare is not None:
        failure = exercise.compare(got, expected, case)
    else:
        failure = compare_arrays(got, expected, exercise.rtol, exercise.atol)
    if failure:
        raise _Verdict(FAILED, f"{exercise.id}: failed on {where}.", (failure,),
                       _hints(exercise, got, case, expected, seen))
    names = _parameter_names(fn, len(args))
    changed = _changed_inputs(pristine[0], args, names) + _changed_inputs(
        [pristine[1][k] for k in sorted(kwargs)], [kwargs[k] for k in sorted(kwargs)], sorted(kwargs))
    if changed and exercise.check_inputs:
        name = changed[0]
        raise _Verdict(FAILED, f"{exercise.id}: failed on {where}.",
                       (f"your function changed its input `{name}` in place (e.g. {name} /= ..., {name}[...] = ... "
                        f"or {name}.add_(...)): the caller's {name} changes too, so whatever uses it afterwards "
                        "(the next layer, the loss, a second call) sees wrong numbers. Leave the inputs as they are "
                        "and compute a new result, out of place (x = x / total makes a new tensor; x /= total "
                        "changes the caller's).",))
    if exercise.grad and tensor_parts(exercise.answer or TensorAnswer(), raw_expected):
        _check_graph(exercise, fn, case, where, pristine, seen)


def _check_graph(exercise, fn, case, where, pristine, seen):
    """Run the case again with the inputs requiring grad: the result must be connected to them, and the gradients
    of a random weighted sum of it must be the reference's."""
    answer = exercise.answer or TensorAnswer()
    names = _parameter_names(fn, len(pristine[0]))
    args, kwargs = copy.deepcopy(pristine)
    inputs = _grad_inputs(exercise, args, kwargs, names)
    if not inputs:
        return
    seed = zlib.crc32(f"{exercise.id} {where}".encode())
    _jitter(inputs, exercise.grad_jitter, seed)
    title = f"{exercise.id}: failed on {where}, with inputs that require grad (as a network's weights do)."
    try:
        raw = _call(fn, exercise, case, args, kwargs, where, seen)
    except _Verdict as verdict:
        if verdict.status != ERROR:
            raise
        details = list(verdict.details)
        if "numpy()" in details[0]:
            details.append(f"numpy has no graph: stay with tensor ops on the inputs, so that loss.backward() can "
                           f"reach {inputs[0][0]}")
        raise _Verdict(FAILED, title, ["your function works on plain tensors, but raised here:"] + details) from None
    parts = tensor_parts(answer, raw)
    if not parts:
        raise _Verdict(FAILED, title, (answer.refuse(raw, None) or "the result is not a tensor",))
    for index, part in parts:
        if not part.requires_grad:
            what = "your result" if index is None else f"result {index}"
            raise _Verdict(FAILED, title, (
                f"{what} is not connected to the graph: requires_grad is False and grad_fn is None although the "
                f"inputs require grad. It was rebuilt from numpy (tl.tensor(... .numpy())), detached (.detach(), "
                f".item()) or computed under no_grad, so loss.backward() cannot reach {inputs[0][0]}: stay with "
                "tensor ops",))
    ref_args, ref_kwargs = copy.deepcopy(pristine)
    ref_inputs = _grad_inputs(exercise, ref_args, ref_kwargs, names)
    _jitter(ref_inputs, exercise.grad_jitter, seed)
    ref_parts = tensor_parts(answer, _quietly(exercise.reference, ref_args, ref_kwargs, exercise))
    try:
        with np.errstate(all="ignore"):
            _weighted_sum(parts, seed).backward()
    except Exception as exc:  # noqa: BLE001
        raise _Verdict(FAILED, title, ("the backward pass through your result failed:",
                                       _learner_traceback(exc))) from None
    with np.errstate(all="ignore"):
        _weighted_sum(ref_parts, seed).backward()
    for (name, t), (_, r) in zip(inputs, ref_inputs):
        if r.grad is None:
            continue
        expected = r.grad.numpy()
        if t.grad is None:
            raise _Verdict(FAILED, title, (f"no gradient reached `{name}`: your result does not depend on it through "
                                           "tensor ops (was it used, and kept in the graph?)",))
        got = t.grad.numpy()
        atol = exercise.grad_atol * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
        failure = compare_arrays(got, expected, exercise.grad_rtol, atol, f"the gradient with respect to `{name}`")
        if failure:
            if not np.isfinite(got).all():
                hint = ("the gradient has inf or nan: some step of your formula overflows, even where its value is "
                        "not used. where(cond, a, b) computes (and differentiates) both a and b everywhere, so "
                        "each branch must stay finite for every input")
            elif np.any((got == 0) & (expected != 0)):
                hint = ("the gradient is 0 where it should not be: a clamp, a rounding or a comparison in your "
                        "formula cuts the path from the result back to the input")
            else:
                hint = ("part of your formula does not pass the gradient back: a .detach(), a number taken out with "
                        ".item() or a tensor rebuilt from numpy inside the formula is a constant to backward")
            raise _Verdict(FAILED, f"{exercise.id}: failed on {where}: the values are right, the gradient is not.",
                           (failure,), tuple(h for h in (exercise.grad_hint, hint) if h))


_SEEN = Counter()  # (exercise id, mistake index) -> how often check() has seen that mistake in this kernel


def run_check(exercise, fn, seen=None):
    """Check ``fn`` against ``exercise``; returns a CheckResult (never raises).

    ``seen`` counts how often each mistake was seen (for the hint tiers); by default a fresh count, so a plain
    run_check always shows the first tier. ``check`` passes the kernel's count.
    """
    seen = Counter() if seen is None else seen
    cases = exercise.all_cases()
    for i, case in enumerate(cases):
        where = "the example shown in the notebook" if case.visible else f"hidden case {i + 1} of {len(cases)}"
        if case.label:
            where += f" ({case.label})"
        try:
            _check_case(exercise, fn, case, where, seen)
        except _Verdict as v:
            return _result(exercise.id, v.status, v.title, v.details, v.hints, i, len(cases))
        except Exception as exc:  # noqa: BLE001  (a check must never raise, whatever the learner returned)
            return _result(exercise.id, ERROR, f"{exercise.id}: the check could not judge the answer on {where}:",
                           (f"{type(exc).__name__}: {exc}",), (), i, len(cases))
    hidden = sum(not c.visible for c in cases)
    return _result(exercise.id, PASSED, f"{exercise.id}: passed ({len(cases)} cases, {hidden} of them hidden)",
                   passed=len(cases), total=len(cases))


def _record(result):
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result.as_dict()) + "\n")


def show(result):
    """Show a verdict: an HTML box in a Jupyter kernel (with the plain text alongside), the text elsewhere."""
    display.publish(result.text, result.html)


def check(exercise_id, fn, quiet=False):
    """Check the learner's ``fn`` for ``exercise_id``, show the verdict, and return it (truthy when passed)."""
    try:
        exercise = get_exercise(exercise_id)
    except KeyError as e:
        result = _result(exercise_id, ERROR, f"{exercise_id}: {e.args[0]}")
    else:
        result = run_check(exercise, fn, _SEEN)
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
        why = "is not written yet" if status == NOT_ATTEMPTED else "does not pass its check yet"
        self.label = (f"the library's {exercise.name} stands in for yours here: yours ({exercise.id}) {why}")
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
    """Who wrote ``fn``, for a table or a plot legend: "your mse", or "the library's mse (yours does not pass
    yet)" for a Fallback."""
    if is_fallback(fn):
        why = "not written yet" if "not written" in fn.label else "does not pass yet"
        return f"the library's {fn.exercise.name} (yours {why})"
    return f"your {getattr(fn, '__name__', 'function')}"


def use(exercise_id, fn):
    """The learner's ``fn`` if it passes its check, else a ``Fallback``: the library's reference, labelled at
    each use."""
    exercise = get_exercise(exercise_id)
    result = run_check(exercise, fn)
    return fn if result else Fallback(exercise, result.status)
