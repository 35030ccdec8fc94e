"""What a grade holds above its cases: a ``GradedExercise``, one exercise of a submission as the grader judged it, and
a ``GradedSubmission``, one notebook's grade (or a roster learner's missing one), with its exercises.

``grader.py`` makes them: ``Grader.begin`` a GradedSubmission with what is known before any kernel runs (its
learner, lesson, file, the lesson's maximum, or why it is final without one: unreadable, unknown or wrong lesson),
``Grader._judge`` a GradedExercise of each exercise (its points, status, reason, the cases passed of the total, its
GradedCases from ``verdict.py``, the hints, flags and notes), and ``Grader.conclude`` the submission's total,
incidents and status. After judging, ``adjust.py`` sets whose it is (``name``, ``email``, ``sis_id``,
``on_roster``), the instructor's overrides and the late rule; ``judge.mask_hidden`` the ``mistakes`` of each judged
exercise; ``report.write_all`` the path of its ``feedback``.

Some fields hold only where they apply (``OPTIONAL``: the instructor's override of an exercise, the late penalty of
a submission, ...): None means "does not apply", and ``to_json`` leaves such a field out. So a grade crosses into
JSON (a stored grade in ``OUTDIR/.work/done``, results.json) with ``to_json``, with exactly the keys results.json
has always had, and comes back with ``from_json`` (an old run's stored grade too). The two dicts that an override
leaves, an exercise's ``override`` ({"points", "reason"}) and each of a submission's ``overrides`` ({"exercise",
"judged", "points", "reason"}), stay JSON data as they are written.
"""
from dataclasses import dataclass, field

from ..verdict import GradedCase, record_fields, record_to_json

OPTIONAL = {"optional": True}  # a field's metadata: None means it does not apply, and it is left out of the JSON


def _optional():
    return field(default=None, metadata=OPTIONAL)


@dataclass
class GradedExercise:
    """One exercise of a submission, as judged (see the module's docstring). ``status``: "passed", "partial",
    "failed", "error", "not attempted", an incident ("timed out", "kernel died", ...), or, with no answer to judge,
    "missing", "refused" or "undefined" (``reason`` says why)."""
    id: str
    max: float
    points: float = 0.0
    status: str = None
    reason: str = ""
    passed_cases: int = 0
    total_cases: int = 0
    cases: list = field(default_factory=list)  # [GradedCase]; none when there was no answer to judge
    hints: list = field(default_factory=list)  # every case's hints, once each (the instructor's: not masked)
    flags: list = field(default_factory=list)  # what to review in its cell (``layout.scan``)
    notes: list = field(default_factory=list)
    left_out: list = _optional()  # [[where, trivial answer, visible]] of the cases that earn no points
    mistakes: list = _optional()  # each case's first hint, masked, once each (``judge.mask_hidden``)
    judged_points: float = _optional()  # the points judged, where an override replaced them
    override: dict = _optional()  # {"points", "reason"}: the instructor's override (``adjust.py``)

    def to_json(self):
        """The exercise as JSON-safe data: its fields that apply, its cases as ``GradedCase.to_json`` gives them."""
        data = record_to_json(self)
        data["cases"] = [case.to_json() for case in self.cases]
        return data

    @classmethod
    def from_json(cls, data):
        """The exercise ``to_json`` gave ``data`` for, its cases GradedCases again."""
        exercise = cls(**record_fields(cls, data))
        exercise.cases = [GradedCase.from_json(case) for case in exercise.cases]
        return exercise


@dataclass
class GradedSubmission:
    """One notebook's grade, or a roster learner's missing one (see the module's docstring). ``status``: "graded",
    "flagged" (a cell to review), "incident" (an exercise stopped by one), or, with no exercise judged,
    "unreadable", "unknown lesson", "wrong lesson", "missing" or "not graded" (a fault of the grading machines);
    ``reason`` says why."""
    learner: str
    lesson: str = ""
    path: str = ""
    sha256: str = ""
    status: str = "graded"
    notes: list = field(default_factory=list)
    exercises: list = field(default_factory=list)  # [GradedExercise], in the lesson's order
    total: float = 0.0
    max: float = 0.0
    incidents: list = field(default_factory=list)  # "exercise id: reason" of each exercise an incident stopped
    reason: str = _optional()
    assignment: str = _optional()  # the lesson a notebook of another lesson was handed in for (``--lesson``)
    others: list = _optional()  # the learner's other notebooks of the lesson, not graded
    name: str = _optional()  # from the roster, else from the LMS's export
    email: str = _optional()
    sis_id: str = _optional()
    on_roster: bool = _optional()  # with a roster only
    judged_total: float = _optional()  # the total judged, where an override or the late penalty changed it
    overrides: list = _optional()  # [{"exercise", "judged", "points", "reason"}] of the overrides applied
    late_days: float = _optional()  # when anything in the run tells lateness
    penalty: float = _optional()
    late: str = _optional()  # how late, and the penalty, as the feedback says it
    feedback: str = _optional()  # its feedback file in OUTDIR (``report.write_all``)

    @property
    def counts_for(self):
        """The lesson it counts for: its notebook's, except for a notebook of another lesson handed in for
        ``--lesson`` (status "wrong lesson"), whose 0 counts for the lesson it was handed in for."""
        return self.assignment or self.lesson

    def to_json(self):
        """The submission as JSON-safe data: its fields that apply, its exercises as ``GradedExercise.to_json``
        gives them."""
        data = record_to_json(self)
        data["exercises"] = [exercise.to_json() for exercise in self.exercises]
        return data

    @classmethod
    def from_json(cls, data):
        """The submission ``to_json`` gave ``data`` for (a stored grade, a submission of results.json), its
        exercises GradedExercises again."""
        submission = cls(**record_fields(cls, data))
        submission.exercises = [GradedExercise.from_json(exercise) for exercise in submission.exercises]
        return submission
