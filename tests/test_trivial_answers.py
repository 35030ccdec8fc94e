"""No credit for trivial answers (issue 19, item 4): a hidden case tells a working answer from a trivial one.

A case is informative when none of these trivial answers passes its comparison (``pipeline.Reference.trivial``):
zeros shaped like the right answer, ones, a constant (where the right answer is one value repeated), one of the
case's arguments returned unchanged, and the answer of the example shown in the notebook, hard-coded. Grading
gives points only for informative cases (``pipeline.score``); the example shown in the notebook is never one (its
answer is in the notebook).

- the rules, on small exercises of this file;
- every hidden case of every exercise of lessons 00-10 is informative, with the check's cases and with the cases
  of another seed (grading draws its own); a failure lists each case and the trivial answer that passes it. A case
  that cannot be otherwise (a healthy run, whose answer "nothing went wrong" a function that always says so gives
  too, or a classification whose answer is one of a few labels) says why, with ``Case(trivial=...)``: it earns no
  points in grading;
- a real ``tinygrad-lite grade`` of lesson 01 gives ``relu = lambda x: x * 0`` none of relu's points.
"""
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite.course import cli
from tinygrad_lite.course.answers import TensorAnswer
from tinygrad_lite.course.checks import PASSED, REGISTRY, Case, Exercise, get_exercise
from tinygrad_lite.course.grading import sandbox as sandboxes
from tinygrad_lite.course.pipeline import Reference, score, where
from tinygrad_lite.course.verdict import GradedCase

ROOT = Path(__file__).resolve().parents[1]
get_exercise("00.row_normalize")  # registers every lesson's exercises
COURSE = sorted(i for i in REGISTRY if i[:2].isdigit() and int(i[:2]) <= 10)
OTHER_SEED = 1


def _f32(a):
    return tl.tensor(np.asarray(a, dtype=np.float32))


def _trivial(reference):
    return {i: reference.trivial(i) for i in range(len(reference.cases)) if reference.trivial(i)}


# -------------------------------------------------------------------- the rules
def test_each_trivial_answer_is_recognised_and_a_working_answers_case_is_not():
    cases = [Case((_f32([1.0, -2.0, 3.0]),), "the example", visible=True),
             Case((_f32([-1.0, -2.0, -0.5]),), "all negative: zeros pass"),
             Case((_f32([0.0, 0.0, 0.0]),), "zeros: zeros pass, and the input too"),
             Case((_f32([0.5, 1.0, 2.0]),), "all positive: the input passes"),
             Case((_f32([1.0, -2.0, 3.0]),), "the example's input again: its answer passes"),
             Case((_f32([-1.0, 2.0, -3.0]),), "a working answer only")]
    relu = Exercise("99.relu", reference=lambda x: x.clamp(min=0), cases=lambda rng: cases, answer=TensorAnswer())
    assert _trivial(Reference.for_check(relu)) == {
        0: "the example's answer, which the notebook shows", 1: "zeros", 2: "zeros",
        3: "its argument `x` returned unchanged", 4: "the example's answer, hard-coded"}
    ones = Exercise("99.ones", reference=lambda x: x * 0 + 1, answer=TensorAnswer(),
                    cases=lambda rng: [Case((_f32([1.0, 2.0]),))])
    constant = Exercise("99.constant", reference=lambda x: x * 0 + 0.25, answer=TensorAnswer(),
                        cases=lambda rng: [Case((_f32([1.0, 2.0]),))])
    one_number = Exercise("99.mean", reference=lambda x: x.mean(), answer=TensorAnswer(),
                          cases=lambda rng: [Case((_f32([1.0, 2.0]),))])
    assert _trivial(Reference.for_check(ones)) == {0: "ones"}
    assert _trivial(Reference.for_check(constant)) == {0: "a constant"}
    assert _trivial(Reference.for_check(one_number)) == {}, "one number is no constant: the answer must know it"


def _verdicts(statuses, informative):
    return [GradedCase(s, "x", informative=i) for s, i in zip(statuses, informative)]


def test_points_count_only_the_informative_cases():
    assert score(4, _verdicts([PASSED] * 3, [False, True, True])) == 4.0
    assert score(4, _verdicts([PASSED, PASSED, "failed", "failed"], [False, False, True, True])) == 0.0
    assert score(4, _verdicts([PASSED, PASSED, "failed"], [False, True, True])) == 2.0
    assert score(3, _verdicts([PASSED, "failed", PASSED, PASSED], [True, False, True, True])) == 2.25, \
        "failing a case that a trivial answer passes still costs"


# -------------------------------------------------------------------- every exercise of the course
@pytest.mark.parametrize("exercise_id", COURSE)
def test_no_hidden_case_is_passed_by_a_trivial_answer(exercise_id):
    exercise = get_exercise(exercise_id)
    found = []
    for seeds, reference in (("the check's cases", Reference.for_check(exercise)),
                             (f"the cases of seed {OTHER_SEED}", Reference(exercise, OTHER_SEED, 0))):
        n = len(reference.cases)
        hidden = [(i, case) for i, case in enumerate(reference.cases) if not case.visible]
        found += [f"{where(case, i, n)}, of {seeds}: {reference.trivial(i)} would pass it"
                  for i, case in hidden if reference.trivial(i) and not case.trivial]
        found += [f"{where(case, i, n)}, of {seeds}: says a trivial answer passes it ({case.trivial}), but none does"
                  for i, case in hidden if case.trivial and not reference.trivial(i)]
    assert found == [], ("hidden cases that a trivial answer passes (they earn no points; change the case, or say why "
                         "it cannot be otherwise with Case(trivial=...)):\n" + "\n".join(found))


# -------------------------------------------------------------------- a real grading run
def _sandbox():
    try:
        return sandboxes.choose("auto").mode, ""
    except RuntimeError as e:
        return None, str(e)


@pytest.mark.xdist_group("grading-trivial-relu")
def test_relu_times_zero_earns_no_relu_points_in_grading(tmp_path):
    mode, why = _sandbox()
    if mode is None:
        pytest.skip(f"no grading kernel can start here: {why}")
    lesson = "01_forward_pass"
    nb = json.loads((ROOT / "solutions" / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["metadata"].get("tinygrad_lite", {}).get("exercise") == "01.relu")
    cell["source"] = "def relu(x):\n    return x * 0\n"
    folder, out = tmp_path / "class", tmp_path / "out"
    (folder / "zero").mkdir(parents=True)
    (folder / "zero" / f"{lesson}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (out / ".work").mkdir(parents=True)
    (out / ".work" / "secret").write_text(f"{zlib.crc32(b'relu')}\n")  # fixed hidden cases
    assert cli.main(["grade", str(folder), "--out", str(out), "--jobs", "1"]) == 0
    result, = json.loads((out / "results.json").read_text(encoding="utf-8"))["submissions"]
    relu = next(e for e in result["exercises"] if e["id"] == "01.relu")
    assert relu["points"] == 0 and relu["status"] == "failed", relu
    assert relu["max"] > 0 and relu["total_cases"] >= 5
    feedback = (out / "feedback" / "zero" / f"{lesson}.md").read_text(encoding="utf-8")
    assert "Points are earned only by the cases that no trivial answer" in " ".join(feedback.split())
