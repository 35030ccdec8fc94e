"""What an exercise is, for its check and for the grader: its cases (``Case``), its known mistakes with their hints
(``Mistake``, ``ErrorHint``), everything a check needs to know of it (``Exercise``), and the registry of every
lesson's exercises, which the lesson modules in ``course/exercises`` fill when they are imported.

The bottom of the course's checking code: it imports nothing of the course. Above it, ``compare.py`` compares an
answer with the reference's and recognises generic mistakes; ``pipeline.py`` records what the learner's code did on
a case and judges that record; ``checks.py`` runs a check in the learner's notebook and ``grading/`` runs the same
judging for a class.
"""
import inspect
import zlib
from dataclasses import dataclass, field

import numpy as np

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
    ``in_place_hint``: a hint (a string, or a tuple of tiers) shown with the failure "your function changed its
    input in place" when the numbers are right, for the way this exercise's learners do it (e.g. a copy that is
    not one).
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
    ``allow``: "write it yourself" as an allowlist: the building blocks the exercise's text lets the answer use,
    named from the vocabulary of ``blocks.py`` ("arithmetic", "exp", "log", "max", "sum", ...; or the block of a
    library function allowed on purpose, e.g. "log_softmax"). Every other catalogued callable of the library, of
    PyTorch, numpy or scipy that computes something (``blocks.catalog``) is refused: an answer that calls one while
    it runs, refers to one or is one fails where it would pass, with a sentence that names it and the blocks (and
    gets that sentence besides its failure where it fails anyway). Shapes, indexing, making tensors and dtypes are
    always allowed. None (the default): no allowlist; ``forbid`` still applies, and takes precedence.
    ``tolerate``: blocks the check does not refuse although the text does not name them: the library functions whose
    use is a known wrong answer with a hint of its own, which no right answer can come from (the log of a softmax
    in log_softmax underflows, a clamp of the row sums changes tiny ones). Refused, such an answer would get the
    refusal on the example, where its numbers are still right, instead of the hint that teaches its mistake.
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
    in_place_hint: object = ()
    generic_hints: tuple = ()
    vary: object = None
    error_hints: tuple = ()
    call: object = None
    check_inputs: bool = True
    forbid: tuple = ()
    allow: tuple = None
    tolerate: tuple = ()
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


def _registered():
    """The REGISTRY with every lesson's exercises in it. The one import against the course's layering
    (tests/test_layering.py): the lessons' exercise modules import this module to register, and a caller that
    names an exercise (``check("03.relu_backward", ...)``, a stub's message) needs them all registered first, so
    they are imported here, when first needed."""
    from . import exercises  # noqa: F401  (importing it registers every lesson's exercises)
    return REGISTRY


def exercise_named(name):
    """The id of the registered exercise whose function or class is called ``name`` (the first by id), or None."""
    registry = _registered()
    return next((i for i in sorted(registry) if registry[i].name == name), None)


def get_exercise(exercise_id):
    try:
        return _registered()[exercise_id]
    except KeyError:
        raise KeyError(unknown_exercise(exercise_id)) from None


def unknown_exercise(exercise_id):
    """The message for an id the registry does not know: the closest ids ("did you mean ...?") and at most the ids
    of the lesson it names."""
    import difflib
    ratio = {i: difflib.SequenceMatcher(None, str(exercise_id), i).ratio()
             for i in difflib.get_close_matches(str(exercise_id), list(REGISTRY), n=3, cutoff=0.6)}
    close = [i for i in ratio if ratio[i] >= max(ratio.values()) - 0.1]
    lesson = str(exercise_id).split(".", 1)[0]
    same = sorted(i for i in REGISTRY if i.split(".", 1)[0] == lesson)
    message = f"unknown exercise id {exercise_id!r}"
    if close:
        message += f"; did you mean {' or '.join(map(repr, close))}?"
    if same:
        message += f"{' Lesson' if close else '; lesson'} {lesson}'s exercises: {', '.join(same)}"
    elif not close:
        lessons = sorted({i.split(".", 1)[0] for i in REGISTRY})
        message += f"; an id is a lesson's number, a dot and the function's name, e.g. {min(REGISTRY, default='')!r}"
        message += f" (lessons {', '.join(lessons)})" if lessons else ""
    return message
