"""Exercise checks that teach: ``check("03.relu_backward", relu_backward)``.

A check runs the learner's function on the visible example and on hidden cases (generated from a seed, so the
same every time) and judges, case by case, through the pipeline that grading uses too (``pipeline.py``: one
function records what the learner's code did on a case, another judges that record), in this order:

0. write it yourself: an answer that is, subclasses, refers to or calls the library's own implementation of what
   the exercise asks for (``Exercise.forbid``) fails, naming it; and where the exercise names its building blocks
   (``Exercise.allow``, vocabulary and catalog in ``blocks.py``), an answer that uses any other library function
   that computes something (the library's, PyTorch's, numpy's or scipy's) fails where it would pass, naming it and
   the blocks (a failing answer gets that sentence besides its failure);
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

Check policy. A check exists to teach. It must fail every answer a learner writes in good faith that is wrong: the
slips, the misreadings, the numerical traps, the named mistakes, the mutants of the solution, a result of the wrong
type or detached from the graph, an input changed in place; and it must refuse the library's or PyTorch's own
implementation where the text says to write it. It does not try to detect deliberate circumvention (an
automatic-differentiation engine of one's own, symbolic or extended-precision derivatives, finite differences
crafted to reach the tolerance): a learner who builds those has learned more than the exercise asks, and an
instructor who grades relies on hidden cases, the sandbox and reading the code. A guard is kept only if it uses
public APIs, refuses no right answer in any style the course teaches, and costs a learner no more than a sentence of
text.

Where things are, from the bottom up (each imports only those before it): ``registry.py`` (what an exercise is:
Case, Mistake, ErrorHint, Exercise, the REGISTRY), ``compare.py`` (compare_arrays, compare_log, diagnose),
``encoding.py`` (an answer as JSON and back: Encoder, decode) and ``verdict.py`` (what judging says of a case:
Verdict, GradedCase), ``pipeline.py`` (recording and judging one case), then this module (a check in the learner's
notebook), the lessons' ``exercises/`` and ``grading/`` (a class), which imports them all and none of which imports
it. The one import the other way: ``registry`` imports ``exercises/`` when an exercise is first looked up, so that
every lesson's is registered (tests/test_layering.py holds this order). The names of the first two are this
module's too, where the exercises import them.
"""
import functools
import json
import os
import textwrap
from collections import Counter
from dataclasses import dataclass

from . import display, pipeline, syntax

# What an exercise is (registry.py) and how answers are compared (compare.py) live below the judging pipeline; their
# names are also this module's, where the lessons' exercise modules and the notebooks have always found them.
from .compare import as_numpy, compare_arrays, compare_log, diagnose  # noqa: F401
from .display import ERROR, FAILED, NOT_ATTEMPTED, PASSED  # noqa: F401  (the statuses, for callers)
from .registry import (  # noqa: F401
    GENERIC_ERROR_HINTS,
    GENERIC_HINTS,
    REGISTRY,
    Case,
    ErrorHint,
    Exercise,
    Mistake,
    get_exercise,
    register,
)

RESULTS_ENV = "TINYGRAD_LITE_CHECK_RESULTS"
_SYMBOL = display.SYMBOL
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
        return wrapped_text(f"{_SYMBOL[self.status]} {self.message}")

    @property
    def html(self):
        return display.result_html(self.status, self.title or self.message.splitlines()[0], self.details, self.hints)

    def as_dict(self):
        return {"exercise": self.exercise, "status": self.status, "passed_cases": self.passed_cases,
                "total_cases": self.total_cases, "message": self.message}


TEXT_WIDTH = 100  # columns of a verdict's plain text: what fits a laptop-wide terminal or notebook


def wrapped_text(text, indent=""):
    """``text`` with ``indent`` before each line, each line wrapped by ``_wrapped``: a verdict's message as a check
    cell's text shows it, and as ``tinygrad-lite check -v`` prints it (indented two columns)."""
    return "\n".join(_wrapped(indent + line) for line in text.splitlines())


def _wrapped(line):
    """``line`` broken at spaces into lines of at most TEXT_WIDTH columns (a longer word stays whole), each
    continuation indented two columns more than the line."""
    if len(line) <= TEXT_WIDTH:
        return line
    indent = line[:len(line) - len(line.lstrip())]
    return textwrap.fill(line.strip(), TEXT_WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def _result(exercise_id, status, title, details=(), hints=(), passed=0, total=0):
    details, hints = tuple(d for d in details if d), tuple(h for h in hints if h)
    return CheckResult(exercise_id, status, display.result_text(status, title, details, hints), passed, total,
                       title, details, hints)


_SEEN = Counter()  # (exercise id, mistake index) -> how often check() has seen that mistake in this kernel


_REFERENCES = {}  # id(exercise) -> (exercise, its check's Reference), see check_reference


def check_reference(exercise):
    """The ``pipeline.Reference`` of ``exercise``'s check, made once per process. A check's cases come from fixed
    seeds, and what the verdicts need from them (the reference's answers and gradients, the known mistakes'
    answers) is computed on copies of the cases: the same on every run. So a check run again, by the learner after
    a fix or by a test with many wrong answers, computes only the learner's side. (Keyed by the exercise object
    itself: an exercise rebuilt with other settings gets its own.)"""
    kept = _REFERENCES.get(id(exercise))
    if kept is None or kept[0] is not exercise:
        kept = _REFERENCES[id(exercise)] = (exercise, pipeline.Reference.for_check(exercise))
    return kept[1]


def run_check(exercise, fn, seen=None, reference=None, records=None, replay=None):
    """Check ``fn`` against ``exercise``; returns a CheckResult (never raises).

    Case by case, in order, through the judging pipeline (``pipeline.py``) that grading uses: the learner's code
    runs and what happened is recorded, the record goes through JSON as in grading, and is judged; the check
    stops at the first case that does not pass. ``seen`` counts how often each mistake was seen (for the hint
    tiers); by default a fresh count, so a plain run_check always shows the first tier. ``check`` passes the
    kernel's count. ``reference``: a ``pipeline.Reference`` of the check's cases (by default the one
    ``check_reference`` keeps for the process). ``records``: a
    dict that receives each case's record ({case index: record, as read back from JSON}), e.g. for a test that
    judges them again as grading does. ``replay``: the records of an earlier run of the same answer, judged again
    instead of running the answer on those cases: the verdict of a run again of an answer that does the same each
    time (a test that asks for the later hint tiers of a mistake).
    """
    seen = Counter() if seen is None else seen
    reference = check_reference(exercise) if reference is None else reference
    broken = getattr(fn, syntax.ATTRIBUTE, None)
    if isinstance(broken, str):  # the stand-in for a cell that does not parse (syntax.py): say what is wrong there
        return _result(exercise.id, ERROR, f"{exercise.id}: {broken}", (), (), 0, len(reference.cases))
    recorder = pipeline.Recorder()
    n = len(reference.cases)
    for i, case in enumerate(reference.cases):
        try:
            reference.raw(i)  # the reference first, before the learner's code could change any global state
            record = replay[i] if replay and i in replay else pipeline.roundtrip(
                recorder.record(exercise, fn, case, reference.grad_seed_of(i)))
            if records is not None:
                records[i] = record
        except Exception as exc:  # noqa: BLE001  (a check must never raise, whatever the learner's code did)
            here = pipeline.where(case, i, n)
            return _result(exercise.id, ERROR, f"{exercise.id}: the check could not run your answer on {here}:",
                           (f"{type(exc).__name__}: {exc}",), (), i, n)
        verdict = pipeline.judge_safely(exercise, reference, i, record, seen)
        if verdict.status != PASSED:
            return _result(exercise.id, verdict.status, verdict.title, verdict.details, verdict.hints, i, n)
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
    counted towards the hint tiers, so the learner's first try with that mistake still gets the first hint, and its
    verdict is shown but not recorded, so ``tinygrad-lite check`` never reports it as the exercise's."""
    try:
        exercise = get_exercise(exercise_id)
    except KeyError as e:
        result = _result(exercise_id, ERROR, f"{exercise_id}: {e.args[0]}")
    else:
        result = run_check(exercise, fn, Counter() if demo else _SEEN)
    if not quiet:
        show(result)
        if not demo:
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
