"""Lesson 02 (loss functions): the exercises' checks accept right answers and explain wrong ones.

For each exercise: the solution passes, a stub is "not attempted", a crash is an "error" that shows the learner's
line, and each typical wrong version fails with the hint that explains it. Every Mistake hint of the lesson is
produced by at least one wrong version here. The solution code in the notebook passes, the released lesson's stub
is "not attempted", and the numbers the notebook quotes for the visible examples are the references' numbers.
"""
import numpy as np
import pytest

import tinygrad_lite as tl
from lesson_helpers import (assert_error, assert_fails_with, assert_is_a_stub, assert_not_attempted, assert_passes,
                            cell_function, check_source, exercise_cells, exercises_with_checks, hints_not_reached,
                            notebooks, stub, verdict)
from tinygrad_lite import nn
from tinygrad_lite.course.checks import FAILED, PASSED, compare_arrays, diagnose, get_exercise
from tinygrad_lite.course.notebooks import exercise_ids, meta, read_notebook

SOLUTION, LESSON = notebooks("02_loss_functions")
IDS = ["02.mse", "02.huber", "02.bce_with_logits", "02.log_softmax", "02.cross_entropy"]
F = nn.functional
NAMES = {"np": np, "tl": tl, "nn": nn, "F": F}  # what the notebook has imported before its exercise cells


# -------------------------------------------------------------------- right answers, written as a learner would
def mse(input, target):  # noqa: A002
    return ((input - target) ** 2).mean()


def huber(input, target, delta=1.0):  # noqa: A002
    d = (input - target).abs()
    return tl.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)).mean()


def bce_with_logits(logits, target):
    return (logits.clamp(min=0) - logits * target + (-logits.abs()).exp().log1p()).mean()


def log_softmax(logits):
    shifted = logits - logits.amax(dim=-1, keepdim=True)
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def cross_entropy(logits, target):
    return -log_softmax(logits)[tl.arange(len(target)), target].mean()


SOLUTIONS = {"02.mse": mse, "02.huber": huber, "02.bce_with_logits": bce_with_logits,
             "02.log_softmax": log_softmax, "02.cross_entropy": cross_entropy}


def _pick(logp, target):
    return logp[tl.arange(len(target)), target]


def _naive_log_softmax(z):
    return z - z.exp().sum(dim=-1, keepdim=True).log()


# -------------------------------------------------------------------- wrong answers and the hint each must get
WRONG = [
    # 02.mse
    ("02.mse", lambda x, y: ((x - y) ** 2).sum(), "4 times too large: a sum where a mean was needed"),
    ("02.mse", lambda x, y: 0.5 * ((x - y) ** 2).mean(), "off by a constant factor (0.5 times"),
    ("02.mse", lambda x, y: -((x - y) ** 2).mean(), "wrong sign"),
    ("02.mse", lambda x, y: (x - y) ** 2, "return one number, the mean of the squared errors"),
    ("02.mse", lambda x, y: (x - y).abs().mean(), "mean *absolute* error"),
    ("02.mse", lambda x, y: (x - y).mean(), "square each difference before averaging"),
    ("02.mse", lambda x, y: ((x - y) ** 2).mean() ** 0.5, "root of the MSE (RMSE)"),
    # 02.huber
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta) * x.numel(), "4 times too large: a sum"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)),
     "return one number, the mean of the per-element losses"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y), "use the `delta` argument"),
    ("02.huber", lambda x, y, delta=1.0: huber(x, y, delta) / delta, "that is smooth_l1_loss(beta=delta)"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, 0.5 * (x - y) ** 2,
                                                  delta * (x - y).abs()).mean(),
     "without the - delta/2 the two pieces do not meet"),
    ("02.huber", lambda x, y, delta=1.0: tl.where((x - y).abs() < delta, (x - y) ** 2,
                                                  delta * ((x - y).abs() - 0.5 * delta)).mean(),
     "the quadratic piece is 0.5 * d^2"),
    ("02.huber", lambda x, y, delta=1.0: tl.where(x - y < delta, 0.5 * (x - y) ** 2,
                                                  delta * (x - y - 0.5 * delta)).mean(),
     "use the absolute error |d|"),
    # 02.bce_with_logits
    ("02.bce_with_logits", lambda x, y: -(y * x.sigmoid().log() + (1 - y) * (1 - x.sigmoid()).log()).mean(),
     "sigmoid(1000) rounds to exactly 1.0"),
    ("02.bce_with_logits", lambda x, y: -(y * (1 / (1 + (-x).exp())).log()
                                          + (1 - y) * (1 - 1 / (1 + (-x).exp())).log()).mean(),
     "sigmoid(1000) rounds to exactly 1.0"),
    ("02.bce_with_logits", lambda x, y: (x.exp().log1p() - x * y).mean(), "log(1 + exp(x)) overflows"),
    ("02.bce_with_logits", lambda x, y: (x.relu() - x * y + (-x).exp().log1p()).mean(),
     "with the absolute value |x| = x.abs()"),
    ("02.bce_with_logits", lambda x, y: -bce_with_logits(x, y), "wrong sign"),
    ("02.bce_with_logits", lambda x, y: bce_with_logits(x, y) * x.numel(), "4 times too large: a sum"),
    # 02.log_softmax
    ("02.log_softmax", lambda z: z.softmax(dim=-1).log(), "log(softmax(x)) underflows"),
    ("02.log_softmax", lambda z: (z - z.amax(-1, keepdim=True)).exp().div(
        (z - z.amax(-1, keepdim=True)).exp().sum(-1, keepdim=True)).log(), "log(softmax(x)) underflows"),
    ("02.log_softmax", lambda z: z.log_softmax(dim=0), "not dim 0"),
    ("02.log_softmax", lambda z: z - z.amax(dim=-1, keepdim=True), "subtracting the max is only the first step"),
    ("02.log_softmax", _naive_log_softmax, "Subtract the maximum first"),
    ("02.log_softmax", lambda z: (z.exp() / z.exp().sum(dim=-1, keepdim=True)).log(), "Subtract the maximum first"),
    # 02.cross_entropy
    ("02.cross_entropy", lambda z, t: _pick(log_softmax(z), t).mean(), "forgot the minus sign"),
    ("02.cross_entropy", lambda z, t: -_pick(z.softmax(dim=1), t).mean(), "not probabilities (softmax)"),
    ("02.cross_entropy", lambda z, t: -(log_softmax(z) * F.one_hot(t, z.shape[1]).float()).mean(),
     "average over the batch only"),
    ("02.cross_entropy", lambda z, t: -_pick(z.log_softmax(dim=0), t).mean(), "not over the batch (dim=0)"),
    ("02.cross_entropy", lambda z, t: -log_softmax(z)[:, t].mean(), "logp[:, target] picks whole columns"),
    ("02.cross_entropy", lambda z, t: -_pick(log_softmax(z), t).sum(), "2 times too large: a sum"),
    ("02.cross_entropy", lambda z, t: -_pick(_naive_log_softmax(z), t).mean(), "Subtract the maximum first"),
]


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_solution_passes(exercise_id):
    assert_passes(exercise_id, SOLUTIONS[exercise_id], min_cases=5)


@pytest.mark.parametrize("exercise_id", IDS)
def test_a_stub_is_not_attempted(exercise_id):
    assert_not_attempted(exercise_id, stub, "not attempted yet")


@pytest.mark.parametrize("exercise_id", IDS)
def test_a_crash_is_an_error_that_shows_the_learners_line(exercise_id):
    def crashes(*args, **kwargs):
        values = args[0].numpy()
        return values.no_such_method()  # the learner's line
    assert_error(exercise_id, crashes, "values.no_such_method()", "AttributeError")


@pytest.mark.parametrize("exercise_id, wrong, hint", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_a_wrong_version_fails_with_its_hint(exercise_id, wrong, hint):
    assert_fails_with(exercise_id, wrong, "Hint: ", hint)


def test_every_mistake_hint_is_triggered_by_a_wrong_version():
    for exercise_id in IDS:
        assert not hints_not_reached(exercise_id, WRONG), exercise_id


def test_the_mistakes_differ_from_the_reference_on_some_case():
    """A Mistake equal to the reference on every case could never be told apart: each must fail the check."""
    for exercise_id in IDS:
        for mistake in get_exercise(exercise_id).mistakes:
            assert verdict(exercise_id, mistake.wrong).status == FAILED, (exercise_id, mistake.hint)


def test_an_answer_as_a_numpy_array_or_float_passes():
    assert verdict("02.mse", lambda x, y: float(((x.numpy() - y.numpy()) ** 2).mean())).status == PASSED
    assert verdict("02.log_softmax", lambda z: log_softmax(z).numpy()).status == PASSED


def test_the_visible_examples_give_the_numbers_the_notebook_quotes():
    quoted = {"02.mse": 0.375, "02.huber": 0.9375, "02.bce_with_logits": 1.0455, "02.cross_entropy": 2.0351}
    text = "\n".join(cell.source for cell in read_notebook(SOLUTION).cells)
    for exercise_id, number in quoted.items():
        exercise = get_exercise(exercise_id)
        case = exercise.all_cases()[0]
        assert case.visible
        value = exercise.reference(*case.args, **case.kwargs).item()
        assert value == pytest.approx(number, abs=5e-5), exercise_id
        assert f"{number}" in text, f"the notebook should quote {number} for {exercise_id}"


# -------------------------------------------------------------------- the notebooks
def _exercise_cells(path):
    nb = read_notebook(path)
    assert meta(nb) == {"lesson": "02_loss_functions"}
    return exercise_cells(nb)


def test_the_notebook_has_the_exercises_each_followed_by_its_check():
    for cell, check_cell in exercises_with_checks(SOLUTION):
        info = meta(cell)
        assert info["points"] >= 1 and info["task"]
        assert meta(check_cell) == {"check": info["exercise"]}
        assert check_cell.source == check_source(info["exercise"])
    assert exercise_ids(read_notebook(SOLUTION)) == IDS
    assert sum(get_exercise(i).points for i in IDS) == sum(meta(_exercise_cells(SOLUTION)[i])["points"] for i in IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_notebooks_solution_passes(exercise_id):
    assert_passes(exercise_id, cell_function(_exercise_cells(SOLUTION)[exercise_id], exercise_id, NAMES))


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_released_lessons_stub_is_not_attempted(exercise_id):
    cell = _exercise_cells(LESSON)[exercise_id]
    assert_is_a_stub(cell)
    assert_not_attempted(exercise_id, cell_function(cell, exercise_id, NAMES))


def test_the_solution_notebook_is_executed_without_errors():
    nb = read_notebook(SOLUTION)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "execute the solution notebook to store its outputs"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    checks = [o.text for c in code if "check" in meta(c) for o in c.outputs if o.output_type == "stream"]
    assert len(checks) == len(IDS) and all("passed" in t for t in checks)


# -------------------------------------------------------------------- what this lesson needs from the checker
def test_a_loss_summed_instead_of_averaged_is_recognised_from_the_input_size():
    expected = np.array(0.375)
    assert diagnose(np.array(1.5), expected) is None  # a single number alone says nothing about N
    assert "4 times too large" in diagnose(np.array(1.5), expected, [np.zeros(4), np.zeros(4)])
    assert "12 times too large" in diagnose(np.array(4.5), expected, [np.zeros((4, 3))])


def test_a_single_wrong_number_gets_no_made_up_constant_factor():
    expected = np.array(0.375)
    assert diagnose(np.array(0.612), expected, [np.zeros(4)]) is None
    assert "constant factor (0.5 times" in diagnose(np.array(0.1875), expected, [np.zeros(4)])


def test_equal_infinities_match():
    assert compare_arrays(np.array([np.inf, -np.inf, 1.0]), np.array([np.inf, -np.inf, 1.0]), 1e-5, 1e-7) is None
    assert compare_arrays(np.array([np.inf]), np.array([-np.inf]), 1e-5, 1e-7) is not None
    assert compare_arrays(np.array([np.inf]), np.array([1.0]), 1e-5, 1e-7) is not None
    assert compare_arrays(np.array([1.0]), np.array([np.inf]), 1e-5, 1e-7) is not None  # inf tolerates nothing
