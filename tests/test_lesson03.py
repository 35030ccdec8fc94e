"""Lesson 03 (the backward pass): its exercise checks, its notebooks' exercise cells, and ``draw_graph``.

For every exercise: the solution passes, the stub is "not attempted", a crash is an "error" that quotes the
learner's line, and each known mistake (and the generic hints that apply: wrong sign, constant factor, transposed,
missing broadcast sum) fails with its hint. The wrong versions are written here as a learner would write them, in
one list, and every Mistake hint of every exercise is produced by at least one of them.
"""
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

import tinygrad_lite as tl  # noqa: E402
from lesson_helpers import (assert_error, assert_fails_with, assert_is_a_stub, assert_not_attempted,  # noqa: E402
                            assert_passes, cell_function, exercise_cells, hints_not_reached, notebooks,
                            stub)
from tinygrad_lite import nn  # noqa: E402
from tinygrad_lite.course import draw_graph  # noqa: E402
from tinygrad_lite.course.checks import get_exercise  # noqa: E402
from tinygrad_lite.course.exercises.lesson03 import GraphNode, sum_to_shape  # noqa: E402
from tinygrad_lite.course.graph import _layout  # noqa: E402
from tinygrad_lite.tensor import graph_order  # noqa: E402

SOLUTION, LESSON = notebooks("03_backward_pass")
IDS = ["03.topological_order", "03.mul_backward", "03.relu_backward", "03.matmul_backward", "03.linear_backward",
       "03.numerical_grad"]
NAMES = {"np": np, "sum_to_shape": sum_to_shape}  # what the notebook's earlier cells define


# -------------------------------------------------------------------- solutions, as a learner would write them
def topological_order(root):
    order, seen = [], set()

    def visit(v):
        if v in seen:
            return
        seen.add(v)
        for p in v.inputs:
            visit(p)
        order.append(v)
    visit(root)
    return order


def topological_order_iterative(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif v not in seen:
            seen.add(v)
            stack += [(v, True)] + [(p, False) for p in v.inputs]
    return order


def mul_backward(x, y, grad):
    return sum_to_shape(grad * y, np.shape(x)), sum_to_shape(grad * x, np.shape(y))


def relu_backward(x, grad):
    return grad * (x > 0)


def matmul_backward(x, w, grad):
    return grad @ w.T, x.T @ grad


def linear_backward(x, weight, grad):
    return grad @ weight, grad.T @ x, grad.sum(axis=0)


def numerical_grad(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


SOLUTIONS = {"03.topological_order": topological_order, "03.mul_backward": mul_backward,
             "03.relu_backward": relu_backward, "03.matmul_backward": matmul_backward,
             "03.linear_backward": linear_backward, "03.numerical_grad": numerical_grad}


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_passes(exercise_id):
    assert_passes(exercise_id, SOLUTIONS[exercise_id], min_cases=6)


def test_an_iterative_topological_order_passes_too():
    assert_passes("03.topological_order", topological_order_iterative)


@pytest.mark.parametrize("exercise_id", IDS)
def test_stub_is_not_attempted(exercise_id):
    assert_not_attempted(exercise_id, stub, "not attempted")


@pytest.mark.parametrize("exercise_id", IDS)
def test_a_crash_is_an_error_that_quotes_the_learners_line(exercise_id):
    def crashing(*args, **kwargs):
        shapes = [np.shape(a) for a in args]
        return shapes[0] + undefined_name  # noqa: F821  (the learner's bug)
    assert_error(exercise_id, crashing, "return shapes[0] + undefined_name", "NameError")


# -------------------------------------------------------------------- 03.topological_order
def test_topological_order_duplicates():
    def no_seen_set(root):
        order = []

        def visit(v):
            for p in v.inputs:
                visit(p)
            order.append(v)
        visit(root)
        return order
    result = assert_fails_with("03.topological_order", no_seen_set, "keep a set of the nodes you have visited")
    assert "node x appears 3 times" in result.message


def test_topological_order_reversed():
    def preorder(root):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                order.append(v)  # before the inputs: the root comes first
                for p in v.inputs:
                    visit(p)
        visit(root)
        return order
    assert_fails_with("03.topological_order", preorder, "your list is reversed")


def test_topological_order_node_before_its_input():
    def breadth_first_backwards(root):  # not a topological order in general
        order, queue, seen = [], [root], {root}
        while queue:
            v = queue.pop(0)
            order.append(v)
            for p in v.inputs:
                if p not in seen:
                    seen.add(p)
                    queue.append(p)
        return order[::-1]
    assert_fails_with("03.topological_order", breadth_first_backwards, "comes before its input")


def test_topological_order_missing_nodes_and_wrong_types():
    assert_fails_with("03.topological_order", lambda root: [*root.inputs, root], "missing")
    assert_fails_with("03.topological_order", lambda root: [v.label for v in topological_order(root)],
                      "the list should hold the nodes themselves")
    assert_fails_with("03.topological_order", lambda root: set(topological_order(root)),
                      "expected a list of nodes, got set")
    assert_fails_with("03.topological_order", lambda root: None, "did you forget to return")


def test_topological_order_visible_example_is_the_notebooks_neuron():
    case = get_exercise("03.topological_order").all_cases()[0]
    assert case.visible
    assert [n.label for n in topological_order(case.args[0])] == [
        "x1", "w1", "x1*w1", "x2", "w2", "x2*w2", "x1*w1+x2*w2", "b", "n", "out"]


def test_topological_order_nodes_are_plain_graph_nodes():
    a = GraphNode("a")
    assert [n.label for n in topological_order(GraphNode("r", [a, a]))] == ["a", "r"]


# -------------------------------------------------------------------- wrong versions, as a learner would write them
def square_only(wrong):
    """``wrong`` where x, w and grad are square (there its shapes fit), the right answer elsewhere."""
    def fn(x, w, g):
        return wrong(x, w, g) if x.shape[1] == w.shape[1] == g.shape[1] else matmul_backward(x, w, g)
    return fn


def mul_without_broadcast_sum(x, y, g):
    return g * y, g * x  # no sum over the broadcast dim


def linear_bias_not_summed(x, w, g):
    return g @ w, g.T @ x, g


def linear_x_grad_transposed_when_square(x, w, g):
    return (g @ w.T if w.shape[0] == w.shape[1] else g @ w), g.T @ x, g.sum(axis=0)


def central(f, x, h, divide):
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out[i] = divide(f(up) - f(down), h)
    return out


def forward_difference(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up = x.copy()
        up[i] += h
        out[i] = (f(up) - f(x)) / h
    return out


def x_not_restored(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        out[i] = (plus - f(x)) / (2 * h)
    return out


# each wrong version and the text its verdict must hold: its Mistake's hint, or a generic hint that applies
# (wrong sign, constant factor, transposed, missing broadcast sum). 03.topological_order has no Mistakes: its wrong
# versions are tested in its own section above.
WRONG = [
    # 03.mul_backward
    ("03.mul_backward", lambda x, y, g: (sum_to_shape(g * x, np.shape(x)), sum_to_shape(g * y, np.shape(y))),
     "times the OTHER input"),
    ("03.mul_backward", lambda x, y, g: (y, x), "multiplies them by the upstream gradient"),
    ("03.mul_backward", mul_without_broadcast_sum, "sum over the broadcast dims"),  # generic
    ("03.mul_backward", lambda x, y, g: (sum_to_shape(g * y, np.shape(x)), (g * x).mean(axis=0)),
     "2 times too small"),  # generic
    # 03.relu_backward
    ("03.relu_backward", lambda x, g: g * (x >= 0), "use x > 0, not x >= 0"),
    ("03.relu_backward", lambda x, g: (x > 0).astype(float), "multiply it by the upstream gradient"),
    ("03.relu_backward", lambda x, g: g * np.maximum(x, 0), "you multiplied by relu(x) itself"),
    ("03.relu_backward", lambda x, g: np.maximum(g, 0), "you applied relu to the gradient"),
    ("03.relu_backward", lambda x, g: g * (x < 0), "the mask is the wrong way round"),
    # 03.matmul_backward (without the transpose, only square matrices give an answer of the right shape)
    ("03.matmul_backward", lambda x, w, g: (x.T @ g, g @ w.T), "the two gradients are swapped"),
    ("03.matmul_backward", square_only(lambda x, w, g: (g @ w, x.T @ g)), "grad @ w.T"),
    ("03.matmul_backward", square_only(lambda x, w, g: (g @ w.T, x @ g)), "x.T @ grad"),
    ("03.matmul_backward", lambda x, w, g: (g @ w.T, g.T @ x), "transpose of the right one"),  # generic
    ("03.matmul_backward", lambda x, w, g: (w @ g.T, x.T @ g), "transpose of the right one"),  # generic
    ("03.matmul_backward", lambda x, w, g: (g @ w.T, x.T @ g / len(x)), "times too small"),  # generic
    # 03.linear_backward
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g.mean(axis=0)),
     "the bias gradient is the SUM over the batch"),
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g.sum(axis=1)), "you summed over the features (axis 1)"),
    ("03.linear_backward", lambda x, w, g: (g @ w, x.T @ g, g.sum(axis=0)), "x.T @ grad is its transpose"),
    ("03.linear_backward", linear_x_grad_transposed_when_square, "the gradient of x is grad @ W (no transpose)"),
    ("03.linear_backward", linear_bias_not_summed, "sum over the broadcast dims"),  # generic
    # 03.numerical_grad
    ("03.numerical_grad", forward_difference, "one-sided difference"),
    ("03.numerical_grad", lambda f, x, h=1e-5: central(f, x, h, lambda d, h: d / h), "are 2h apart"),
    ("03.numerical_grad", lambda f, x, h=1e-5: central(f, x, h, lambda d, h: d / 2 * h), "with parentheses"),
    ("03.numerical_grad", lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / (2 * h), "nudged every element of x at once"),
    ("03.numerical_grad", x_not_restored, "put x[i] back"),
    ("03.numerical_grad", lambda f, x, h=1e-5: central(f, x, h, lambda d, h: -d / (2 * h)), "wrong sign"),  # generic
    ("03.numerical_grad", lambda f, x, h=1e-5: central(f, x, h, lambda d, h: d / (4 * h)),
     "constant factor"),  # generic
]


@pytest.mark.parametrize("exercise_id, wrong, hint", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_a_wrong_version_fails_with_its_hint(exercise_id, wrong, hint):
    assert_fails_with(exercise_id, wrong, "Hint: ", hint)


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_mistake_hint_is_triggered_by_a_wrong_version(exercise_id):
    assert not hints_not_reached(exercise_id, WRONG), "no wrong version reaches these hints"


# -------------------------------------------------------------------- what some verdicts say besides the hint
def test_a_missing_broadcast_sum_names_the_result():
    result = assert_fails_with("03.mul_backward", mul_without_broadcast_sum, "sum over the broadcast dims")
    assert "result 1" in result.message
    result = assert_fails_with("03.linear_backward", linear_bias_not_summed, "sum over the broadcast dims")
    assert "result 2" in result.message


def test_matmul_backward_without_the_transpose_is_an_error_on_non_square_shapes():
    assert_error("03.matmul_backward", lambda x, w, g: (g @ w, x.T @ g),  # shapes only fit when square
                 "ValueError", "(g @ w, x.T @ g)")  # the learner's line


def test_linear_backward_wrong_arity():
    assert_fails_with("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x), "expected 3 results")


def test_numerical_grad_not_restoring_x_fails_on_a_hidden_case():
    result = assert_fails_with("03.numerical_grad", x_not_restored, "put x[i] back")
    assert "hidden case" in result.message  # separable functions do not notice; x @ A @ x does


def test_numerical_grad_uses_h():
    """A hidden case passes h=1e-4; the reference agrees with the exact gradient either way."""
    cases = get_exercise("03.numerical_grad").all_cases()
    assert any(case.kwargs.get("h") == 1e-4 for case in cases)
    f, x = cases[0].args
    exact = 2 * x * np.sin(x) + x ** 2 * np.cos(x)
    np.testing.assert_allclose(numerical_grad(f, x), exact, rtol=1e-8)


# -------------------------------------------------------------------- the notebooks' exercise cells
def test_notebooks_have_the_six_exercises_in_order():
    assert list(exercise_cells(SOLUTION)) == IDS
    assert list(exercise_cells(LESSON)) == IDS


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_cell_passes(exercise_id):
    assert_passes(exercise_id, cell_function(exercise_cells(SOLUTION)[exercise_id], exercise_id, NAMES))


@pytest.mark.parametrize("exercise_id", IDS)
def test_released_stub_is_not_attempted(exercise_id):
    cell = exercise_cells(LESSON)[exercise_id]
    assert_is_a_stub(cell)
    assert_not_attempted(exercise_id, cell_function(cell, exercise_id, NAMES))


# -------------------------------------------------------------------- draw_graph
@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def boxes(ax):
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)]


def arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def arrow_points(arrow):
    """The points an arrow is drawn through, in data coordinates (its shaft, then its head)."""
    path = arrow.get_path()
    return path.vertices[path.codes != MplPath.CLOSEPOLY]


def neuron():
    x = tl.tensor([1.0, 2.0, 3.0])
    w = tl.tensor([0.5, -1.0, 0.25], requires_grad=True)
    b = tl.tensor(0.1, requires_grad=True)
    return x, w, b, ((x * w).sum() + b).tanh()


def test_draw_graph_one_box_per_tensor_and_op():
    x, w, b, y = neuron()
    ax = draw_graph(y, names={"x": x, "w": w, "b": b, "y": y})
    assert isinstance(ax, plt.Axes)
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted(["x (3,)", "w (3,)", "b ()", "y ()", "(3,)", "()", "()", "Mul", "Sum", "Add", "Tanh"])
    assert len(boxes(ax)) == 11 and len(arrows(ax)) == 10
    for arrow in arrows(ax):  # the forward pass runs from left to right
        xs = arrow_points(arrow)[:, 0]
        assert xs[0] == xs.min() < xs.max()
    right_edge = {round(b.get_x() + b.get_width(), 6) for b in boxes(ax)}
    y_box = boxes(ax)[[t.get_text() for t in ax.texts].index("y ()")]
    assert round(y_box.get_x() + y_box.get_width(), 6) == max(right_edge)  # the output is rightmost


def test_draw_graph_on_given_axes_with_named_parameters_and_constants():
    tl.manual_seed(0)
    model = nn.Linear(3, 2)
    loss = (model(tl.randn(4, 3)) * 2).sum()
    fig, ax = plt.subplots()
    assert draw_graph(loss, ax=ax, names=model.named_parameters(), legend=False) is ax
    texts = [t.get_text() for t in ax.texts]
    assert {"weight (2, 3)", "bias (2,)", "(4, 3)", "Linear", "2"} <= set(texts)
    assert ax.get_legend() is None


def test_draw_graph_repeated_input_and_single_leaf():
    a = tl.tensor(3.0, requires_grad=True)
    ax = draw_graph(a * a + a, names={"a": a})
    assert len(boxes(ax)) == 5  # a, Mul, a*a, Add, result
    assert len(arrows(ax)) == 5  # a -> Mul drawn once, even though Mul uses a twice
    ax = draw_graph(a)
    assert [t.get_text() for t in ax.texts] == ["()"] and len(boxes(ax)) == 1


def test_draw_graph_long_arrows_pass_between_boxes():
    """A side branch joining late gets waypoints, so its arrow does not run behind other boxes."""
    w = tl.tensor([1.0, 2.0], requires_grad=True)
    loss = (w.exp().sin().cos().tanh()).sum() + (w * w).sum()
    ax = draw_graph(loss)
    box_extents = [b.get_extents() for b in boxes(ax)]
    runs = 0
    for arrow in arrows(ax):
        points = arrow_points(arrow)
        for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
            if abs(y1 - y0) < 1e-12 and x1 - x0 > 0.2:  # a straight run through a column
                runs += 1
                mid = ax.transData.transform(((x0 + x1) / 2, y0))
                assert not any(e.contains(*mid) for e in box_extents)
    assert runs >= 5  # w -> Mul crosses the columns of Exp ... Tanh


def test_draw_graph_200_op_chain_is_quick():
    x = tl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200):
        y = y * 1.01
    start = time.perf_counter()
    ax = draw_graph(y)
    elapsed = time.perf_counter() - start
    assert len(boxes(ax)) == 200 + 201 + 200  # ops, tensors, and the constant 1.01 of every Mul
    assert elapsed < 10, f"draw_graph took {elapsed:.1f} s for a 200-op chain"


def test_graph_walk_and_layout_handle_deep_graphs_without_recursion():
    x = tl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y + 1.0
    tensors = graph_order(y, everything=True)
    assert tensors[-1] is y and tensors[0] is x
    nodes, routes, pos = _layout(tensors)
    assert len(nodes) == 3000 + 3001 + 3000
    assert pos[id(y)][0] == max(c for c, _ in pos.values())


def test_draw_graph_rejects_bad_input():
    with pytest.raises(TypeError, match="draw_graph: expected a tinygrad_lite Tensor"):
        draw_graph(np.zeros(3))
    x, w, b, y = neuron()
    with pytest.raises(TypeError, match=r"names\['w'\] must be a tinygrad_lite Tensor"):
        draw_graph(y, names={"w": np.zeros(3)})
    with pytest.raises(TypeError, match="names must be a dict"):
        draw_graph(y, names=[w])
