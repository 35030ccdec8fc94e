"""Judging a kernel's answers, in the grader's own process, with the pipeline a check uses (``pipeline.py``).

For each exercise the grader makes the hidden cases from the same seed the kernel got, with the exercise's own
``cases(rng)``, and a ``Reference`` of them (once per lesson, shared by every submission: the reference's answers,
gradients and known mistakes are computed once). Each case's record, as the kernel wrote it, is judged by
``pipeline.judge_case``, the function a check judges with: the same verdicts, messages and hint tiers. What is
grading's own is presentation: a hint for a name that only the learner's other cells defined (only exercise cells
are graded), and ``for_learner``, which keeps the hidden cases' numbers out of the learner's feedback.

The kernel's answers are data from an untrusted process: an answer that does not decode is a failed case, and a
fact the grader needs but the kernel did not report (the gradients of a differentiable exercise) fails the case.
"""
import re

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


_NUMBER = re.compile(r"(?<![\w.])[-+]?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][-+]?\d+)?|(?<![\w.])[-+]?(inf|nan)\b")


def mask_numbers(text):
    """The text with its decimal numbers replaced by "…" (whole numbers, such as counts and shapes, stay)."""
    return _NUMBER.sub("…", text)


def for_learner(verdict):
    """A verdict's detail as the learner may see it: for a hidden case, without the numbers (no hidden input or
    reference value leaves the grader) and cut short."""
    detail = verdict["detail"]
    if not verdict["visible"]:
        detail = re.sub(r"Worst( at index \[[^\]]*\])?: expected .*?\)", "", detail)
        detail = mask_numbers(detail)
    lines = detail.strip().splitlines()
    return "\n".join(line[:300] for line in lines[:12])
