"""A grade as data (``grading/graded.py``, issue 48): ``GradedSubmission`` and ``GradedExercise`` cross into JSON with
exactly the keys a stored grade and results.json have always had, and come back from them, an old run's too.
"""
import copy
import json

from tinygrad_lite.course.grading.graded import GradedExercise, GradedSubmission
from tinygrad_lite.course.verdict import GradedCase

# A stored grade as grader.py wrote it before grades were typed (OUTDIR/.work/done/KEY.json, keys sorted).
OLD_STORED = json.loads("""{"exercises": [{"cases": [{"detail": "passed", "details": [], "hints": [], "index": 0,
 "informative": false, "status": "passed", "title": "passed", "trivial": "zeros", "visible": true, "where":
 "the example shown in the notebook"}, {"detail": "wrong", "details": ["wrong"], "hints": ["a hint"], "index": 1,
 "informative": true, "status": "failed", "title": "x: failed", "trivial": null, "visible": false, "where":
 "hidden case 2 of 2"}], "flags": [], "hints": ["a hint"], "id": "00.row_normalize", "left_out": [["the example
 shown in the notebook", "zeros", true]], "max": 1.0, "notes": [], "passed_cases": 1, "points": 0.5, "reason":
 "hidden case 2 of 2: failed", "status": "partial", "total_cases": 2}, {"cases": [], "flags": [], "hints": [], "id":
 "00.standardize", "max": 2.0, "notes": [], "passed_cases": 0, "points": 0.0, "reason": "no exercise cell",
 "status": "missing", "total_cases": 6}], "incidents": [], "learner": "ada", "lesson": "00_welcome_and_tensors",
 "max": 5.0, "notes": ["a note"], "path": "ada/00_welcome_and_tensors.ipynb", "sha256": "00", "status": "graded",
 "total": 0.5}""".replace("\n", " "))


def test_an_old_stored_grade_comes_back_typed_and_goes_out_the_same():
    graded = GradedSubmission.from_json(copy.deepcopy(OLD_STORED))
    assert graded.learner == "ada" and graded.total == 0.5 and graded.reason is None and graded.late is None
    first, second = graded.exercises
    assert isinstance(first, GradedExercise) and first.status == "partial" and first.override is None
    assert all(isinstance(case, GradedCase) for case in first.cases) and first.cases[1].hints == ["a hint"]
    assert second.left_out is None and second.cases == []
    assert graded.to_json() == OLD_STORED  # exactly its keys: no optional field that does not apply
    assert json.loads(json.dumps(graded.to_json())) == OLD_STORED


def test_what_applies_after_judging_is_written_and_read_back():
    graded = GradedSubmission.from_json(copy.deepcopy(OLD_STORED))
    exercise = graded.exercises[0]
    exercise.judged_points, exercise.points, exercise.override = 0.5, 1.0, {"points": 1.0, "reason": "ok"}
    exercise.mistakes = ["a hint"]
    graded.name, graded.on_roster, graded.late_days, graded.penalty = "Ada L", False, 0, 0.0
    graded.overrides = [{"exercise": "00.row_normalize", "judged": 0.5, "points": 1.0, "reason": "ok"}]
    data = graded.to_json()
    assert {"name", "on_roster", "late_days", "penalty", "overrides"} <= set(data)
    assert not {"email", "sis_id", "late", "reason", "assignment", "others", "feedback"} & set(data)
    assert data["on_roster"] is False and data["late_days"] == 0  # (set, though falsy: they apply)
    assert {"judged_points", "override", "mistakes"} <= set(data["exercises"][0])
    assert GradedSubmission.from_json(json.loads(json.dumps(data))) == graded
