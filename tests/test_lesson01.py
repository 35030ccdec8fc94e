"""Lesson 01, the forward pass: the checks of its five exercises, called directly (no notebook is executed).

For every exercise: the solution passes, the stub is "not attempted", a crash is an "error" that shows the
learner's line, and each known wrong version fails with its hint (every Mistake of the lesson is triggered, and
the generic hints that matter here too). The solution code in the notebook passes, the released lesson's stubs
are "not attempted", and the notebook's example cells hold the numbers of each check's visible case.
"""
import math

import numpy as np
import pytest

import tinygrad_lite as tl
from lesson_helpers import (assert_error, assert_fails_with, assert_is_a_stub, assert_not_attempted, assert_passes,
                            define, exercise_cells, function_name, hints_not_reached, notebooks, run_example_cells,
                            stub, verdict)
from tinygrad_lite import nn
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.notebooks import meta, read_notebook

SOLUTION, LESSON = notebooks("01_forward_pass")
NAMES = {"tl": tl, "nn": nn, "np": np}  # what the notebook has imported before its exercise cells
IDS = ["01.dense_forward", "01.relu", "01.sigmoid", "01.mlp_forward", "01.kaiming_normal_std"]


# -------------------------------------------------------------------- right answers, written as a learner would
def dense_forward(x, W, b):
    return x @ W.T + b


def relu(x):
    return x.clamp(min=0)


def sigmoid(x):
    e = tl.exp(-x.abs())
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))


def mlp_forward(x, layers):
    for i, (W, b) in enumerate(layers):
        x = dense_forward(x, W, b)
        if i < len(layers) - 1:
            x = relu(x)
    return x


def kaiming_normal_std(weight_shape):
    return math.sqrt(2 / weight_shape[1])


SOLUTIONS = {"01.dense_forward": dense_forward, "01.relu": relu, "01.sigmoid": sigmoid,
             "01.mlp_forward": mlp_forward, "01.kaiming_normal_std": kaiming_normal_std}

# other right answers, to make sure the checks do not insist on one way of writing them
ALSO_RIGHT = [
    ("01.dense_forward", lambda x, W, b: (W @ x.T).T + b),
    ("01.dense_forward", lambda x, W, b: tl.matmul(x, W.transpose(0, 1)) + b.unsqueeze(0)),
    ("01.relu", lambda x: x * (x > 0)),
    ("01.relu", lambda x: tl.where(x > 0, x, 0.0)),
    ("01.relu", lambda x: tl.maximum(x, tl.zeros_like(x))),
    ("01.sigmoid", lambda x: tl.sigmoid(x)),
    ("01.sigmoid", lambda x: tl.exp(-tl.log1p(tl.exp(-x.abs())) - x.clamp(max=0).abs())),  # exp(-softplus(-x))
    ("01.kaiming_normal_std", lambda s: nn.init.calculate_gain("relu") / s[1] ** 0.5),
    ("01.kaiming_normal_std", lambda s: tl.tensor(2.0 / s[1]).sqrt()),
]


def _mlp_relu_after_last(x, layers):
    return relu(mlp_forward(x, layers))


def _mlp_without_relu(x, layers):
    for W, b in layers:
        x = x @ W.T + b
    return x


def _mlp_relu_first(x, layers):
    return mlp_forward(relu(x), layers)


def _mlp_without_bias(x, layers):
    return mlp_forward(x, [(W, tl.zeros_like(b)) for W, b in layers])


# -------------------------------------------------------------------- wrong answers and the hint each must get
WRONG = [
    ("01.dense_forward", lambda x, W, b: x @ W.T, "the bias is missing"),
    ("01.dense_forward", lambda x, W, b: x @ W.reshape(W.shape[1], W.shape[0]) + b, "reshape keeps the elements"),
    ("01.dense_forward", lambda x, W, b: x @ W.T - b, "added, not subtracted"),
    ("01.dense_forward", lambda x, W, b: W @ x.T + b.reshape(-1, 1), "transpose of the right one"),  # generic
    ("01.relu", lambda x: x.max(0), "x.max(0)"),
    ("01.relu", lambda x: x.max(), "single largest value"),
    ("01.relu", lambda x: x.clamp(max=0), "min(x, 0)"),
    ("01.relu", lambda x: x > 0, "is the mask"),
    ("01.relu", lambda x: x.abs(), "abs(x)"),
    ("01.relu", lambda x: -x.clamp(min=0), "wrong sign"),  # generic
    ("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x)), "exp(-x)) overflows for very negative x"),
    ("01.sigmoid", lambda x: 0.5 * (1 + tl.tanh(x / 2)), "1 + tanh(x / 2) is exactly 0"),
    ("01.sigmoid", lambda x: tl.exp(x) / (1 + tl.exp(x)), "inf / inf is nan"),
    ("01.sigmoid", lambda x: 1 / (1 + tl.exp(x)), "sigmoid(-x)"),
    ("01.sigmoid", lambda x: tl.where(x >= 0, tl.exp(-x.abs()) / (1 + tl.exp(-x.abs())),
                                      1 / (1 + tl.exp(-x.abs()))), "branches of your tl.where are swapped"),
    ("01.sigmoid", lambda x: 0.5 + 0.5 * (tl.exp(x) - 1) / (tl.exp(x) + 1), "inf or nan"),  # generic
    ("01.mlp_forward", _mlp_relu_after_last, "no ReLU after the last layer"),
    ("01.mlp_forward", _mlp_without_relu, "collapse into a single linear map"),
    ("01.mlp_forward", _mlp_relu_first, "ReLU to the input x itself"),
    ("01.mlp_forward", _mlp_without_bias, "the biases are missing"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(2 / s[0]), "fan_out = weight_shape[0]"),
    ("01.kaiming_normal_std", lambda s: 1 / math.sqrt(s[1]), "gain sqrt(2)"),
    ("01.kaiming_normal_std", lambda s: 2 / s[1], "return the standard deviation"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(2 / (s[0] + s[1])), "Xavier/Glorot's std"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(6 / s[1]), "*uniform*"),
    ("01.kaiming_normal_std", lambda s: 2 / math.sqrt(s[1]), "the factor 2 belongs to the variance"),
]


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_passes_every_case(exercise_id):
    assert_passes(exercise_id, SOLUTIONS[exercise_id], min_cases=5)


@pytest.mark.parametrize("exercise_id, fn", ALSO_RIGHT)
def test_other_right_answers_pass(exercise_id, fn):
    assert_passes(exercise_id, fn)


@pytest.mark.parametrize("exercise_id", IDS)
def test_stub_is_not_attempted(exercise_id):
    assert_not_attempted(exercise_id, stub, "not attempted")


@pytest.mark.parametrize("exercise_id", IDS)
def test_crash_is_an_error_that_shows_the_learners_line(exercise_id):
    def crashes(*args):
        width = len(args) - 10
        return args[width]  # IndexError: the learner's own line
    assert_error(exercise_id, crashes, "return args[width]", "IndexError", "the example shown in the notebook")


def test_x_at_W_is_an_error_that_says_to_transpose():
    assert_error("01.dense_forward", lambda x, W, b: x @ W + b, "cannot be multiplied", "x @ W.T")


@pytest.mark.parametrize("exercise_id, fn, hint", WRONG)
def test_wrong_version_fails_with_its_hint(exercise_id, fn, hint):
    assert_fails_with(exercise_id, fn, "Hint:", hint)


def test_every_mistake_hint_is_triggered_by_a_wrong_version():
    for exercise_id in IDS:
        assert not hints_not_reached(exercise_id, WRONG), exercise_id


def test_sigmoid_that_loses_tiny_values_says_where():
    result = verdict("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x)))
    assert "sigmoid(-100) = 3.784e-44 is tiny but not 0" in result.message
    assert "the example shown in the notebook" in result.message


def test_mistakes_and_references_never_raise_on_any_case():
    for exercise_id in IDS:
        exercise = get_exercise(exercise_id)
        for case in exercise.all_cases():
            exercise.reference(*case.args)
            for mistake in exercise.mistakes:
                mistake.wrong(*case.args)


def test_hidden_cases_are_the_same_every_time():
    for exercise_id in IDS:
        first, again = get_exercise(exercise_id).all_cases(), get_exercise(exercise_id).all_cases()
        assert [c.label for c in first] == [c.label for c in again]
        for a, b in zip(first, again):
            np.testing.assert_array_equal(np.asarray(_flat(a.args)), np.asarray(_flat(b.args)))


def _flat(value):
    if isinstance(value, (tuple, list)):
        return np.concatenate([np.ravel(_flat(v)) for v in value]) if value else np.zeros(0)
    return np.ravel(value.numpy()) if isinstance(value, tl.Tensor) else np.ravel(value)


# -------------------------------------------------------------------- the notebooks
def test_solution_notebook_code_passes():
    cells = exercise_cells(SOLUTION)
    assert sorted(cells) == sorted(IDS)
    namespace = dict(NAMES)  # one namespace, as in the notebook: mlp_forward may call dense_forward and relu
    for cell in cells.values():
        define(cell.source, namespace)
    for exercise_id in IDS:
        assert_passes(exercise_id, namespace[function_name(exercise_id)])


def test_released_lesson_stubs_are_not_attempted():
    cells = exercise_cells(LESSON)
    assert sorted(cells) == sorted(IDS)
    namespace = dict(NAMES)
    for exercise_id, cell in cells.items():
        assert_is_a_stub(cell)
        define(cell.source, namespace)
        assert_not_attempted(exercise_id, namespace[function_name(exercise_id)])


@pytest.mark.parametrize("exercise_id, names", [
    ("01.dense_forward", ["x_ex", "W_ex", "b_ex"]),
    ("01.relu", ["relu_ex"]),
    ("01.sigmoid", ["sigmoid_ex"]),
    ("01.mlp_forward", ["mlp_x_ex", "mlp_layers_ex"]),
])
def test_visible_case_is_the_example_in_the_notebook(exercise_id, names):
    namespace = run_example_cells(SOLUTION, [f"{name} = " for name in names], dict(NAMES))
    visible = get_exercise(exercise_id).all_cases()[0]
    assert visible.visible
    np.testing.assert_array_equal(_flat([namespace[n] for n in names]), _flat(list(visible.args)))


def test_points_and_order_in_the_notebook_match_the_registry():
    marked = [(meta(c)["exercise"], meta(c)["points"]) for c in read_notebook(SOLUTION).cells if "exercise" in meta(c)]
    assert marked == [(i, get_exercise(i).points) for i in IDS]
