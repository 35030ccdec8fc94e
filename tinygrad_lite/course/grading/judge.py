"""Judging a kernel's answers, in the grader's own process, with the pipeline a check uses (``pipeline.py``).

For each exercise the grader makes the hidden cases from the same seed the kernel got, with the exercise's own
``cases(rng)``, and a ``Reference`` of them (once per lesson, shared by every submission: the reference's answers,
gradients and known mistakes are computed once). Each case's record, as the kernel wrote it, is judged by
``pipeline.judge_case``, the function a check judges with: the same verdicts, messages and hint tiers. What is
grading's own is presentation: a hint for a name that only the learner's other cells defined (only exercise cells
are graded), and the mask that keeps the hidden cases' numbers out of the learner's feedback: ``mask_hidden``,
called once on a grade's results before any report is written (the reports only read what it leaves).

Which numbers are hidden: a message is made of the course's own text (the literal strings of the exercise modules,
``checks.py``, ``pipeline.py``: hints, case labels, the words around a formatted value) and of values formatted
into it from a case (an input, the reference's answer, the learner's answer on it, an argument). ``mask_numbers``
keeps a number only where the course's own text has it, in the same words (``template_windows``): "each row
sums to 1.", "1e-5", "its inf makes the gradient nan" survive, while the lr a case passes or the value its answer
"should be", formatted into the message from the case, does not. It never guesses from the look of a number; a
number it cannot place is masked. (Docstrings are not the course's text in this sense: one may show a message with
made-up values.)

The kernel's answers are data from an untrusted process: an answer that does not decode is a failed case, and a
fact the grader needs but the kernel did not report (the gradients of a differentiable exercise) fails the case.
"""
import ast
import functools
import re
from pathlib import Path

from .. import checks, pipeline
from ..pipeline import NOT_RUN, Reference, _tensor, where  # noqa: F401  (the grader's names for them)

GRADING_ERROR_HINTS = (
    checks.ErrorHint(r"^NameError: name '(\w+)' is not defined",
                     "only your exercise cells are graded, with the instructor's copy of every other cell: a helper "
                     "or an import of your own that lives in another cell is not there. Put what your function needs "
                     "inside its exercise cell"),
)


def judge_exercise(exercise, reference, records):
    """Every case of one exercise: ([case verdicts], the count passed). ``records``: {case index: record}."""
    return pipeline.judge_exercise(exercise, reference, records, GRADING_ERROR_HINTS)


# A number as a message writes a value: a decimal (0.25, .5, -3.0), e-notation (1e-5, 2.5E+03), inf or nan. Whole
# numbers (counts, shapes, steps) are no hidden values; "1." at the end of a sentence is the whole number 1 and a
# full stop, and the "00." of an exercise id is no number either.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+|\.\d+|\d+(?=[eE][-+]?\d))(?:[eE][-+]?\d+)?"
                     r"|(?<![\w.])[-+]?(?:inf|nan)\b")
# In a hidden case's hint, a whole number counts too: "your answer is 10 times too large" names the size of a
# hidden input, and masked ("… times too large") one mistake reads alike in every case, so it is said once.
_NUMBER_OR_WHOLE = re.compile(_NUMBER.pattern + r"|(?<![\w.])\d+(?![\w])(?!\.\d)")
CONTEXT = 10  # characters of the course's own text beside a number that place it there
_COURSE = Path(__file__).resolve().parents[1]  # tinygrad_lite/course: where every message's own text is written


def _windows(text, start, end):
    """The number ``text[start:end]`` with the CONTEXT characters before it, and with the CONTEXT after it (each
    side only where ``text`` has that many)."""
    return [side for side in _around(text, start, end) if side is not None]


def template_windows(whole=False):
    """Every number that the course's own text writes, with its words beside it (``_windows``): from the string
    literals of the course's modules (``course_strings``), read once per process with ``ast``.

    A value formatted into a message from a case has course text on both sides of it, but that text ends where the
    value begins (f"... should be {right}, yours ..."): no literal holds "should be" followed by that value, so it
    is masked, however the exercise module formatted it. A number of the course's own ("each row sums to 1.") sits
    in the same words in the message as in its literal, and stays. (Without the sources, e.g. a build that ships
    only bytecode, nothing is placed and every number is masked: the safe side.)"""
    return _template_windows(bool(whole))


@functools.cache
def _template_windows(whole):
    windows = set()
    for text in _course_texts():
        for match in (_NUMBER_OR_WHOLE if whole else _NUMBER).finditer(text):
            windows.update(_sides(text, *match.span()) if whole else _windows(text, *match.span()))
    return frozenset(windows)


@functools.cache
def _course_texts():
    """The string literals of the course's modules that may become a message (``course_strings``), parsed once."""
    texts = []
    for path in sorted(_COURSE.rglob("*.py")):
        try:
            texts += course_strings(ast.parse(path.read_text(encoding="utf-8")))
        except (OSError, SyntaxError, ValueError):
            continue
    return tuple(texts)


def _around(text, start, end):
    """(the number ``text[start:end]`` with the CONTEXT characters before it, with the CONTEXT after it), each None
    where ``text`` has fewer."""
    return (text[start - CONTEXT:end] if start >= CONTEXT else None,
            text[start:end + CONTEXT] if end + CONTEXT <= len(text) else None)


def _sides(text, start, end):
    """For ``whole``: the number with both its sides where ``text`` has them, else the one side it has, marked as
    all there is (the literal ends beside the number: "... became 0: " + more text)."""
    before, after = _around(text, start, end)
    if before is not None and after is not None:
        return [(before, after)]
    return [("before", before)] if before is not None else [("after", after)] if after is not None else []


def _whole_placed(known, text, start, end):
    """Whether a number of ``text`` stands in the course's own words, for ``whole``: both its sides as in one
    literal, or the one side a literal has where it ends (or starts) beside the number. One side of a number in
    the middle of a literal is not enough: "10 times too short" must not place "your answer is 10 times too
    large"."""
    before, after = _around(text, start, end)
    return (before, after) in known or ("before", before) in known or ("after", after) in known


def course_strings(tree):
    """The string literals of a module's ``ast`` that may become a message: every str constant and literal part of an
    f-string, but not a docstring (nor any string that stands alone as a statement). A docstring never reaches a
    learner, and where it shows what a message looks like, its made-up values would place the same values in a
    real message."""
    nodes = list(ast.walk(tree))
    alone = {id(node.value) for node in nodes if isinstance(node, ast.Expr)}
    # nor a case's label (Case(args, "with min_lr=0.01")): it may name the case's inputs, and a number placed by it
    # would stay in the details that show those inputs (``mask_case`` masks the label's own numbers)
    labels = {id(arg) for node in nodes if isinstance(node, ast.Call)
              and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Case"
              for arg in node.args[1:2] + [k.value for k in node.keywords if k.arg == "label"]}
    return [node.value for node in nodes if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in alone and id(node) not in labels]


def hidden_numbers(text):
    """The numbers of ``text`` that the course's own text does not place (see ``template_windows``): values
    formatted from a case, or from anything else (a learner's error message)."""
    known = template_windows()
    return [m.group() for m in _NUMBER.finditer(text) if not any(w in known for w in _windows(text, *m.span()))]


def mask_numbers(text, whole=False):
    """The text with each number formatted into it replaced by "…": only the course's own numbers, in their own
    words, stay (and whole numbers, such as counts and shapes, unless ``whole``: a hint's). Used for a hidden
    case's message and hints, and to group one mistake's hints across cases ("off by a constant factor (… times
    the right one)")."""
    known = template_windows(whole)

    def masked(match):
        placed = (_whole_placed(known, text, *match.span()) if whole
                  else any(w in known for w in _windows(text, *match.span())))
        return match.group() if placed else "…"
    return (_NUMBER_OR_WHOLE if whole else _NUMBER).sub(masked, text)


def for_learner(detail, visible):
    """A case's ``detail`` as the learner may see it: for a hidden case (not ``visible``), without its worst element
    and with every number formatted from the case masked (``mask_numbers``: no hidden input or reference value
    leaves the grader, while the course's own words and numbers stay), and cut short."""
    if not visible:
        detail = re.sub(r"Worst( at index \[[^\]]*\])?: expected .*?\)", "", detail)
        # without its worst value, "expected shape (3,) float32, got shape (3,) float32" would read as a complaint
        detail = re.sub(r"expected (shape \([^)]*\) \w+), got \1; ", r"\1, as expected; ", detail)
        detail = mask_numbers(detail)
    lines = detail.strip().splitlines()
    return "\n".join(line[:300] for line in lines[:12])


def mask_case(case):
    """Set what the learner may see of one GradedCase: ``shown``, its detail (``for_learner``), ``shown_where``,
    its label (a hidden one without its numbers), and ``masked_hints``, each hint with its numbers masked (what a
    hidden case shows, and how the feedback tells one hint from another across cases). Returns ``case``."""
    case.shown = for_learner(case.detail, case.visible)
    case.masked_hints = [mask_numbers(hint, whole=True) for hint in case.hints]
    # a hidden case's label is the course's text, but it may name the case's inputs ("with min_lr=0.01"): its
    # numbers (all but whole ones: "hidden case 2 of 7") go too
    case.shown_where = case.where if case.visible else _NUMBER.sub("…", case.where)
    return case


def mask_hidden(results):
    """Mask the hidden cases' numbers in a grade's ``results`` (GradedSubmissions), once, before any report is
    written: each case gets what the learner may see of it (``mask_case``), and each judged exercise its
    ``mistakes`` for the class summary (the first hint of each case that has one, masked, so that one generic
    mistake, "off by a constant factor (… times the right one)", counts as one). What the instructor gets
    (results.json) keeps every number. Returns ``results``."""
    for result in results:
        for entry in result.exercises:
            cases = [mask_case(case) for case in entry.cases]
            if cases:  # (an exercise with no answer to judge, missing or refused, has neither cases nor mistakes)
                entry.mistakes = list(dict.fromkeys(c.masked_hints[0] for c in cases if c.hints))
    return results
