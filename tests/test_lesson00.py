"""Lesson 00 (welcome and tensors): its exercises' checks, and the notebook cells that hold them.

For each exercise: the solution passes; the released stub is "not attempted"; code that raises is an "error"
that shows the learner's line; and each wrong version a learner is likely to write fails with the hint that
explains it. Every exercise-specific hint is reached by at least one wrong version.
"""
import numpy as np
import pytest

import tinygrad_lite as tl
from lesson_helpers import (assert_error, assert_fails_with, assert_is_a_stub, assert_not_attempted, assert_passes,
                            cell_function, check_source, define, exercise_cells, exercises_with_checks,
                            hints_not_reached, notebooks, run_example_cells, stub)
from tinygrad_lite.course import check
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.notebooks import exercise_ids, meta, read_notebook

SOLUTION, LESSON = notebooks("00_welcome_and_tensors")
NAMES = {"np": np, "tl": tl}  # what the notebook has imported before its exercise cells


# -------------------------------------------------------------------- right answers
def row_normalize(scores):
    return scores / scores.sum(dim=1, keepdim=True)


def standardize(x):
    return (x - x.mean(dim=0, keepdim=True)) / x.std(dim=0, keepdim=True, correction=0)


def pairwise_sq_distances(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1)


SOLUTIONS = {"00.row_normalize": row_normalize, "00.standardize": standardize,
             "00.pairwise_sq_distances": pairwise_sq_distances}

OTHER_RIGHT_ANSWERS = [
    ("00.row_normalize", lambda s: (s.T / s.sum(dim=1)).T),
    ("00.row_normalize", lambda s: tl.tensor(s.numpy() / s.numpy().sum(axis=1, keepdims=True))),  # numpy is fine
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.std(dim=0, unbiased=False)),  # keepdim not needed on dim 0
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / ((x - x.mean(dim=0)) ** 2).mean(dim=0).sqrt()),
    ("00.pairwise_sq_distances", lambda a, b: ((a.unsqueeze(1) - b.unsqueeze(0)) ** 2).sum(dim=2)),
    ("00.pairwise_sq_distances",  # the matrix-product route loses a little precision; the check allows it
     lambda a, b: (a ** 2).sum(dim=1, keepdim=True) + (b ** 2).sum(dim=1) - 2 * a @ b.T),
]

# -------------------------------------------------------------------- wrong answers, and the hint each must get
WRONG = [
    # 00.row_normalize
    ("00.row_normalize", lambda s: s / s.sum(dim=0, keepdim=True), "divided each column by its column sum"),
    ("00.row_normalize", lambda s: s / s.sum(), "sum of the whole matrix"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1), "a broadcasting surprise"),
    ("00.row_normalize", lambda s: s.softmax(dim=1), "you applied softmax"),
    ("00.row_normalize", lambda s: s.exp() / s.exp().sum(dim=1, keepdim=True), "you applied softmax"),
    ("00.row_normalize", lambda s: 0.5 * s / s.sum(dim=1, keepdim=True), "constant factor (0.5 times"),
    # 00.standardize
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.std(dim=0), "sample standard deviation"),
    ("00.standardize", lambda x: (x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, keepdim=True, correction=0),
     "you standardised each row"),
    ("00.standardize", lambda x: (x - x.mean()) / x.std(correction=0), "one mean and one std for all the numbers"),
    ("00.standardize", lambda x: x / x.std(dim=0, correction=0), "did not subtract the column mean"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.var(dim=0, correction=0), "divided by the variance"),
    ("00.standardize", lambda x: (x.mean(dim=0) - x) / x.std(dim=0, correction=0), "wrong sign"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / (2 * x.std(dim=0, correction=0)),
     "constant factor (0.5 times"),
    # 00.pairwise_sq_distances
    ("00.pairwise_sq_distances", lambda a, b: (a[:, None, :] - b[None, :, :]).sum(dim=-1), "without squaring"),
    ("00.pairwise_sq_distances", lambda a, b: (a[:, None, :] - b[None, :, :]).abs().sum(dim=-1), "L1 distance"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1).sqrt(),
     "Euclidean distance"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=1),
     "summed over dim 1"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=0),
     "summed over dim 0"),
    ("00.pairwise_sq_distances", lambda a, b: ((b[:, None, :] - a[None, :, :]) ** 2).sum(dim=-1),
     "one row per point of b"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).mean(dim=-1),
     "2 times too small: a mean where a sum was needed"),
]


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_solution_passes_every_case(exercise_id):
    assert_passes(exercise_id, SOLUTIONS[exercise_id], min_cases=5)


@pytest.mark.parametrize("exercise_id, fn", OTHER_RIGHT_ANSWERS)
def test_other_correct_formulations_pass(exercise_id, fn):
    assert_passes(exercise_id, fn)


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_stub_is_not_attempted(exercise_id):
    assert_not_attempted(exercise_id, stub, "not attempted yet")


def test_code_that_raises_is_an_error_that_shows_the_learners_line():
    def row_normalize_typo(scores):
        totals = scores.sum(dim=2)  # there is no dim 2
        return scores / totals

    assert_error("00.row_normalize", row_normalize_typo, "totals = scores.sum(dim=2)", "IndexError",
                 "the example shown in the notebook")


def test_a_broadcast_that_cannot_work_is_an_error_that_explains_the_shapes():
    assert_error("00.pairwise_sq_distances", lambda a, b: ((a - b) ** 2).sum(dim=-1),
                 "(3, 2) and (4, 2) cannot be broadcast")


@pytest.mark.parametrize("exercise_id, wrong, hint", WRONG)
def test_wrong_version_fails_with_its_hint(exercise_id, wrong, hint):
    assert_fails_with(exercise_id, wrong, "Hint:", hint, "expected shape")


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_every_exercise_hint_is_reached_by_a_wrong_version(exercise_id):
    assert not hints_not_reached(exercise_id, WRONG), "no wrong version reaches these hints"


def test_a_wrong_answer_only_on_a_hidden_case_names_that_case():
    def no_keepdim_fails_only_when_square(x):  # right on the visible (4, 3) example, not on the square batch
        if x.shape[0] != x.shape[1]:
            return standardize(x)
        return (x - x.mean(dim=1)) / x.std(dim=1, correction=0)

    assert_fails_with("00.standardize", no_keepdim_fails_only_when_square,
                      "hidden case 4 of 6 (a square batch, 6 examples and 6 features)")


def test_inputs_are_float32_tensors_and_the_learner_may_modify_them():
    def modifies_its_input(scores):
        total = scores.sum(dim=1, keepdim=True)
        scores /= total  # in place, on the check's copy
        return scores

    assert_passes("00.row_normalize", modifies_its_input)
    for exercise_id in SOLUTIONS:
        for case in get_exercise(exercise_id).all_cases():
            assert all(isinstance(a, tl.Tensor) and a.dtype == tl.float32 for a in case.args)


def test_check_prints_the_verdict(capsys):
    assert check("00.row_normalize", row_normalize)
    assert "✔ 00.row_normalize: passed (6 cases, 5 of them hidden)" in capsys.readouterr().out


# -------------------------------------------------------------------- the notebooks
def test_the_notebook_has_the_registered_exercises_each_followed_by_its_check():
    ids = exercise_ids(read_notebook(SOLUTION))
    assert ids == ["00.row_normalize", "00.standardize", "00.pairwise_sq_distances"]
    for cell, check_cell in exercises_with_checks(SOLUTION):
        eid = meta(cell)["exercise"]
        assert meta(cell)["points"] == get_exercise(eid).points
        assert meta(check_cell).get("check") == eid
        assert check_cell.source.strip() == check_source(eid)


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_the_solution_cell_in_the_notebook_passes(exercise_id):
    assert_passes(exercise_id, cell_function(exercise_cells(SOLUTION)[exercise_id], exercise_id, NAMES))


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_the_released_stub_is_not_attempted(exercise_id):
    cell = exercise_cells(LESSON)[exercise_id]
    assert_is_a_stub(cell)
    assert_not_attempted(exercise_id, cell_function(cell, exercise_id, NAMES))


def test_the_visible_cases_are_the_examples_the_notebook_shows():
    namespace = run_example_cells(SOLUTION, ("scores =", "features =", "pts_a ="), dict(NAMES))
    shown = {"00.row_normalize": [namespace["scores"]], "00.standardize": [namespace["features"]],
             "00.pairwise_sq_distances": [namespace["pts_a"], namespace["pts_b"]]}
    for exercise_id, tensors in shown.items():
        visible = [c for c in get_exercise(exercise_id).all_cases() if c.visible]
        assert len(visible) == 1
        for got, want in zip(visible[0].args, tensors):
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_the_failing_demo_in_the_welcome_fails_with_the_hint_the_text_promises():
    demo = next(c for c in read_notebook(SOLUTION).cells if "def row_normalize_wrong" in c.source)
    fn = define(demo.source.split("check(")[0], dict(NAMES))["row_normalize_wrong"]
    assert_fails_with("00.row_normalize", fn, "sum of the whole matrix")
