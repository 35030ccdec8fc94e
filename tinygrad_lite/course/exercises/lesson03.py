"""Lesson 03, the backward pass: the checks of its six exercises.

- ``03.topological_order``: list every node of a scalar graph after all of its inputs. Many orders are right,
  so the check validates the order (each node once, every reachable node, inputs first) instead of comparing
  it with one answer; the hidden graphs are made of ``GraphNode`` objects, which have the same ``inputs``
  attribute as the lesson's ``Value``.
- ``03.mul_backward``, ``03.relu_backward``, ``03.matmul_backward``, ``03.linear_backward``: the gradients of
  the inputs of one op, given the inputs and the upstream gradient ``grad`` = dL/d(output).
- ``03.numerical_grad``: the gradient of a scalar function by central differences, compared with the same
  differences computed here (they agree with the exact gradient to about 1e-9); a one-sided difference is off by
  about h/2 times the second derivative, far beyond the tolerance, and fails.

The references use numpy in float64 and do not depend on the learner's code.
"""
import numpy as np

from tinygrad_lite.course import Case, Exercise, Mistake, register


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the dims that broadcasting added or stretched, so that it gets ``shape``."""
    grad = np.asarray(grad)
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


# -------------------------------------------------------------------- 03.topological_order
class GraphNode:
    """A node of a test graph: a label and the nodes it was computed from (``inputs``), like the lesson's Value."""

    def __init__(self, label, inputs=(), data=0.0):
        self.label, self.inputs, self.data, self.grad = label, tuple(inputs), data, 0.0

    def __repr__(self):
        return f"GraphNode({self.label!r})"


def topological_order_reference(root):
    """Every node ``root`` depends on (through ``.inputs``), each after all of its inputs; ``root`` is last.

    An iterative depth-first search, as in ``tinygrad_lite.tensor.graph_order``: a node is appended once all
    of its inputs have been.
    """
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node.inputs) if id(p) not in seen)
    return order


def _unwrap(item):
    """``as_numpy`` turns each node of the answer into a 0-d object array; take the node back out."""
    return item.item() if isinstance(item, np.ndarray) and item.dtype == object and item.ndim == 0 else item


def _topological_compare(got, expected, case):
    """None when ``got`` is a topological order of the case's graph; otherwise what is wrong, with a hint."""
    root = case.args[0]
    graph = {n.label: [p.label for p in n.inputs] for n in topological_order_reference(root)}
    got = _unwrap(got)
    if got is None:
        return "expected a list of nodes, got None: did you forget to return the list?"
    if not isinstance(got, (list, tuple)):
        return f"expected a list of nodes, got {type(got).__name__}: collect the nodes in a list and return it"
    items = [_unwrap(g) for g in got]
    if not all(hasattr(n, "label") and hasattr(n, "inputs") for n in items):
        kinds = sorted({type(n).__name__ for n in items if not hasattr(n, "inputs")})
        return (f"the list should hold the nodes themselves (objects with .inputs, like Value), but it holds "
                f"{', '.join(kinds)}: append the node, not its data or its label")
    labels = [n.label for n in items]
    repeated = [label for label in dict.fromkeys(labels) if labels.count(label) > 1]
    if repeated:
        return (f"node {repeated[0]} appears {labels.count(repeated[0])} times in your list; each node must appear "
                "exactly once.\n  Hint: keep a set of the nodes you have visited and skip a node you have already "
                "seen: a node used by two ops (like x in x*x + x) is reached once through each of them")
    missing = [label for label in graph if label not in labels]
    if missing:
        return (f"your list has {len(labels)} nodes but the graph has {len(graph)}: missing {', '.join(missing)}.\n"
                "  Hint: visit the inputs of every node you reach (recursively), not only the inputs of the root")
    extra = [label for label in labels if label not in graph]
    if extra:
        return f"your list has nodes that the root does not depend on: {', '.join(extra)}"
    position = {label: i for i, label in enumerate(labels)}
    edges = [(p, n) for n in graph for p in graph[n]]
    if edges and all(position[p] > position[n] for p, n in edges):
        return ("your list is reversed: the root comes first. topological_order must list every node after its "
                "inputs (the root last); backward then walks that list in reverse.\n  Hint: append a node after "
                "visiting its inputs, not before (or reverse the list before returning it)")
    for p, n in edges:
        if position[p] > position[n]:
            return (f"node {n} comes before its input {p} (positions {position[n]} and {position[p]} in your list); "
                    "every node must come after all of its inputs.\n  Hint: append a node only after the "
                    "recursive calls on its inputs have returned")
    return None


def _chain(n, name="v"):
    node = GraphNode(f"{name}0")
    for i in range(1, n + 1):
        node = GraphNode(f"{name}{i}", [node, GraphNode(f"c{i}")])
    return node


def _random_dag(rng, n):
    """n nodes, each computed from one or two earlier ones; the last is the root (some nodes do not feed it)."""
    nodes = [GraphNode("n0"), GraphNode("n1"), GraphNode("n2")]
    for i in range(3, n):
        k = int(rng.integers(1, 3))
        picks = rng.choice(len(nodes), size=k, replace=False)
        nodes.append(GraphNode(f"n{i}", [nodes[j] for j in sorted(picks, reverse=bool(rng.integers(2)))]))
    return GraphNode("root", [nodes[-1], nodes[-2]])


def neuron_example():
    """The graph of the notebook's neuron: out = tanh(x1*w1 + x2*w2 + b), labelled as the notebook labels it."""
    x1, w1, x2, w2, b = (GraphNode(s) for s in ("x1", "w1", "x2", "w2", "b"))
    x1w1 = GraphNode("x1*w1", [x1, w1])
    x2w2 = GraphNode("x2*w2", [x2, w2])
    s = GraphNode("x1*w1+x2*w2", [x1w1, x2w2])
    n = GraphNode("n", [s, b])
    return GraphNode("out", [n])


def _topological_cases(rng):
    x = GraphNode("x")
    xx = GraphNode("x*x", [x, x])
    a = GraphNode("a")
    b, c = GraphNode("relu(a)", [a]), GraphNode("tanh(a)", [a])
    return [
        Case((neuron_example(),), visible=True),
        Case((GraphNode("x*x+x", [xx, x]),), "x*x + x: x is used three times"),
        Case((GraphNode("d", [b, c]),), "a diamond: a feeds two ops that meet again"),
        Case((GraphNode("lonely"),), "a single leaf: the list is just [root]"),
        Case((_chain(40),), "a chain of 40 multiplications"),
        Case((_random_dag(rng, 30),), "a random graph of 30 nodes, some not used by the root"),
        Case((_random_dag(rng, 60),), "a random graph of 60 nodes"),
    ]


register(Exercise(
    "03.topological_order",
    reference=topological_order_reference,
    cases=_topological_cases,
    compare=_topological_compare,
    points=2,
))


# -------------------------------------------------------------------- 03.mul_backward
def mul_backward_reference(x, y, grad):
    """z = x * y (broadcast): dL/dx = sum_to_shape(grad * y, x.shape), dL/dy = sum_to_shape(grad * x, y.shape)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return sum_to_shape(grad * y, x.shape), sum_to_shape(grad * x, y.shape)


MUL_EXAMPLE = (np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([10.0, -1.0, 0.5]),
               np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]]))


def _mul_cases(rng):
    def r(*shape):
        return rng.standard_normal(shape)
    return [
        Case(tuple(a.copy() for a in MUL_EXAMPLE), visible=True),
        Case((r(4, 5), r(4, 5), r(4, 5)), "same shapes, no broadcasting"),
        Case((r(3, 4), r(3, 1), r(3, 4)), "y is a column (3, 1), stretched over 4 columns"),
        Case((r(1, 5), r(4, 1), r(4, 5)), "both broadcast: (1, 5) * (4, 1)"),
        Case((np.array(1.5), r(3, 4), r(3, 4)), "x is a single number (a 0-d array)"),
        Case((r(6, 3), r(3), np.zeros((6, 3))), "a zero upstream gradient"),
        Case((100 * r(5, 3), r(3), r(5, 3)), "large values"),
    ]


register(Exercise(
    "03.mul_backward",
    reference=mul_backward_reference,
    cases=_mul_cases,
    points=2,
    mistakes=[
        Mistake(lambda x, y, g: (sum_to_shape(g * x, np.shape(x)), sum_to_shape(g * y, np.shape(y))),
                "each input's gradient is the upstream gradient times the OTHER input: d(x*y)/dx = y, so "
                "dL/dx = grad * y and dL/dy = grad * x"),
        Mistake(lambda x, y, g: (np.asarray(y, dtype=float), np.asarray(x, dtype=float)),
                "you returned the local derivatives y and x alone; the chain rule multiplies them by the upstream "
                "gradient: dL/dx = grad * y"),
    ],
))


# -------------------------------------------------------------------- 03.relu_backward
def relu_backward_reference(x, grad):
    """z = max(x, 0): dL/dx = grad where x > 0, else 0 (0 at x = 0 exactly, as in PyTorch)."""
    return np.where(np.asarray(x) > 0, grad, 0.0)


RELU_EXAMPLE = (np.array([[-1.5, 0.0, 2.0], [0.5, -0.2, 0.0]]), np.array([[1.0, 2.0, 3.0], [-4.0, 5.0, -6.0]]))


def _relu_cases(rng):
    with_zeros = rng.standard_normal((4, 5))
    with_zeros[rng.random((4, 5)) < 0.3] = 0.0
    return [
        Case(tuple(a.copy() for a in RELU_EXAMPLE), visible=True),
        Case((rng.standard_normal((4, 5)), rng.standard_normal((4, 5))), "a 4 x 5 batch"),
        Case((-rng.random((3, 3)) - 0.1, rng.standard_normal((3, 3))), "all inputs negative: no gradient passes"),
        Case((rng.random(6) + 0.1, rng.standard_normal(6)), "all inputs positive: the gradient passes unchanged"),
        Case((with_zeros, rng.standard_normal((4, 5))), "many inputs exactly 0"),
        Case((1e3 * rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))), "large values, 3 dims"),
    ]


register(Exercise(
    "03.relu_backward",
    reference=relu_backward_reference,
    cases=_relu_cases,
    points=1,
    mistakes=[
        Mistake(lambda x, g: np.where(x >= 0, g, 0.0),
                "at x = 0 exactly, ReLU's gradient is taken to be 0 (PyTorch's choice, and ours): use x > 0, "
                "not x >= 0"),
        Mistake(lambda x, g: (x > 0).astype(float),
                "you returned the local derivative (1 where x > 0) alone; multiply it by the upstream gradient: "
                "grad * (x > 0)"),
        Mistake(lambda x, g: g * np.maximum(x, 0),
                "you multiplied by relu(x) itself; the local derivative of relu is 1 where x > 0 and 0 elsewhere, "
                "so the result is grad * (x > 0)"),
        Mistake(lambda x, g: np.maximum(g, 0),
                "you applied relu to the gradient; which entries pass is decided by the forward input x: "
                "grad * (x > 0)"),
        Mistake(lambda x, g: np.where(x < 0, g, 0.0),
                "the mask is the wrong way round: the gradient passes where x > 0 (there relu(x) = x) and is "
                "blocked where x < 0"),
    ],
))


# -------------------------------------------------------------------- 03.matmul_backward
def matmul_backward_reference(x, w, grad):
    """z = x @ w, x (n, k), w (k, m), grad (n, m): dL/dx = grad @ w.T (n, k), dL/dw = x.T @ grad (k, m)."""
    return grad @ w.T, x.T @ grad


MATMUL_EXAMPLE = (np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0]]),
                  np.array([[1.0, 0.0, -1.0, 2.0], [0.5, 1.0, 0.0, -2.0], [0.0, 2.0, 1.0, 1.0]]),
                  np.array([[1.0, -1.0, 0.5, 0.0], [0.0, 2.0, 1.0, -1.0]]))


def _matmul_cases(rng):
    def r(*shape):
        return rng.standard_normal(shape)
    return [
        Case(tuple(a.copy() for a in MATMUL_EXAMPLE), visible=True),
        Case((r(5, 4), r(4, 3), r(5, 3)), "(5, 4) @ (4, 3)"),
        Case((r(1, 6), r(6, 2), r(1, 2)), "a single row: (1, 6) @ (6, 2)"),
        Case((r(3, 3), r(3, 3), r(3, 3)), "square matrices: transposes do not change the shapes here"),
        Case((r(8, 5), r(5, 1), r(8, 1)), "one output column: (8, 5) @ (5, 1)"),
        Case((50 * r(4, 7), r(7, 3), r(4, 3)), "large values"),
    ]


register(Exercise(
    "03.matmul_backward",
    reference=matmul_backward_reference,
    cases=_matmul_cases,
    points=2,
    mistakes=[
        Mistake(lambda x, w, g: (x.T @ g, g @ w.T),
                "the two gradients are swapped: return (dL/dx, dL/dw), in the order of the inputs (x, w)"),
        Mistake(lambda x, w, g: (g @ w, x.T @ g),
                "dL/dx needs the transpose of w: grad @ w.T. Check the shapes: grad is (n, m) and w.T is (m, k), "
                "so grad @ w.T is (n, k), the shape of x"),
        Mistake(lambda x, w, g: (g @ w.T, x @ g),
                "dL/dw needs the transpose of x: x.T @ grad. Check the shapes: x.T is (k, n) and grad is (n, m), "
                "so x.T @ grad is (k, m), the shape of w"),
    ],
))


# -------------------------------------------------------------------- 03.linear_backward
def linear_backward_reference(x, weight, grad):
    """y = x @ weight.T + bias, x (n, in), weight (out, in), grad (n, out):
    dL/dx = grad @ weight (n, in), dL/dweight = grad.T @ x (out, in), dL/dbias = grad summed over the batch (out,)."""
    return grad @ weight, grad.T @ x, grad.sum(axis=0)


LINEAR_EXAMPLE = (np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 1.0], [2.0, 0.5, -1.0], [1.0, 1.0, 1.0]]),
                  np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]),
                  np.array([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0], [-1.0, 1.0]]))


def _linear_cases(rng):
    def r(*shape):
        return rng.standard_normal(shape)
    return [
        Case(tuple(a.copy() for a in LINEAR_EXAMPLE), visible=True),
        Case((r(5, 4), r(3, 4), r(5, 3)), "a batch of 5, 4 features in, 3 out"),
        Case((r(1, 3), r(2, 3), r(1, 2)), "a batch of a single example"),
        Case((r(6, 2), r(5, 2), r(6, 5)), "2 features in, 5 out"),
        Case((r(4, 4), r(4, 4), r(4, 4)), "everything square: transposes do not change the shapes here"),
        Case((r(32, 3), r(2, 3), r(32, 2)), "a batch of 32"),
    ]


register(Exercise(
    "03.linear_backward",
    reference=linear_backward_reference,
    cases=_linear_cases,
    points=3,
    mistakes=[
        Mistake(lambda x, w, g: (g @ w, g.T @ x, g.mean(axis=0)),
                "the bias gradient is the SUM over the batch, not the mean: the same bias is added to every "
                "example, so each example sends its own gradient to it and they add up. (If the loss is a mean, "
                "its 1/N is already inside grad.)"),
        Mistake(lambda x, w, g: (g @ w, g.T @ x, g.sum(axis=1)),
                "sum the bias gradient over the batch (axis 0), which leaves one number per output feature; "
                "you summed over the features (axis 1)"),
        Mistake(lambda x, w, g: (g @ w.T, g.T @ x, g.sum(axis=0)),
                "for y = x @ W.T the gradient of x is grad @ W (no transpose): grad is (n, out), W is (out, in), "
                "so grad @ W is (n, in), the shape of x"),
        Mistake(lambda x, w, g: (g @ w, x.T @ g, g.sum(axis=0)),
                "dL/dW = grad.T @ x, of shape (out, in) like W; x.T @ grad is its transpose, of shape (in, out). "
                "From y[i, o] = sum_j x[i, j] W[o, j]: dL/dW[o, j] = sum_i grad[i, o] x[i, j]"),
    ],
))


# -------------------------------------------------------------------- 03.numerical_grad
class ScalarFunction:
    """A scalar function of an array for the checks, printed as its formula."""

    def __init__(self, text, f):
        self.text, self.f = text, f

    def __call__(self, x):
        return float(self.f(np.asarray(x, dtype=np.float64)))

    def __repr__(self):
        return f"f(x) = {self.text}"


def numerical_grad_reference(f, x, h=1e-5):
    """g[i] = (f(x + h e_i) - f(x - h e_i)) / (2h) for every element i of x, computed in float64."""
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


SQUARE_SIN = ScalarFunction("sum(x**2 * sin(x))", lambda x: np.sum(x ** 2 * np.sin(x)))
NUMERICAL_EXAMPLE = np.array([0.5, -1.0, 2.0])


def _numerical_cases(rng):
    c, a = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    weighted_tanh = ScalarFunction("sum(tanh(x) * C)", lambda x: np.sum(np.tanh(x) * c))
    quadratic = ScalarFunction("x @ A @ x", lambda x: x @ a @ x)
    logsumexp = ScalarFunction("log(sum(exp(x)))", lambda x: np.log(np.sum(np.exp(x))))
    wavy = ScalarFunction("sum(sin(x)) + 0.05 * sum(x**2)", lambda x: np.sum(np.sin(x)) + 0.05 * np.sum(x ** 2))
    return [
        Case((SQUARE_SIN, NUMERICAL_EXAMPLE.copy()), visible=True),
        Case((weighted_tanh, rng.standard_normal((3, 4))), "a 3 x 4 matrix input"),
        Case((quadratic, rng.standard_normal(4)), "a quadratic form x @ A @ x, where every x_i affects every term"),
        Case((logsumexp, rng.standard_normal(5)), "log-sum-exp, with h = 1e-4", {"h": 1e-4}),
        Case((wavy, 10 * rng.standard_normal(6)), "large inputs"),
        Case((SQUARE_SIN, np.array([0.0, 0.0, 1.0])), "zeros in x"),
    ]


def _nudged(f, x, h, step):
    """grad[i] = step(f, x, i, h) for every element i of (a float copy of) x."""
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        out[i] = step(f, x, i, h)
    return out


def _shifted(x, i, d):
    y = x.copy()
    y[i] += d
    return y


def _forward(f, x, h=1e-5):
    return _nudged(f, x, h, lambda f, x, i, h: (f(_shifted(x, i, h)) - f(x)) / h)


def _backward(f, x, h=1e-5):
    return _nudged(f, x, h, lambda f, x, i, h: (f(x) - f(_shifted(x, i, -h))) / h)


def _over_h(f, x, h=1e-5):
    return _nudged(f, x, h, lambda f, x, i, h: (f(_shifted(x, i, h)) - f(_shifted(x, i, -h))) / h)


def _precedence(f, x, h=1e-5):
    return _nudged(f, x, h, lambda f, x, i, h: (f(_shifted(x, i, h)) - f(_shifted(x, i, -h))) / 2 * h)


def _all_at_once(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    return np.asarray((f(x + h) - f(x - h)) / (2 * h))


def _not_restored(f, x, h=1e-5):
    """x[i] += h, f, x[i] -= 2h, f, and x[i] is never put back: later elements see earlier ones moved by -h."""
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        out[i] = (plus - f(x)) / (2 * h)
    return out


ONE_SIDED = ("you used a one-sided difference. Nudge x[i] both ways and divide by the distance between the two "
             "points: (f(x + h e_i) - f(x - h e_i)) / (2h). Its error shrinks like h^2; a one-sided difference's "
             "only like h")

register(Exercise(
    "03.numerical_grad",
    reference=numerical_grad_reference,
    cases=_numerical_cases,
    points=2,
    rtol=1e-5,
    atol=1e-7,
    mistakes=[
        Mistake(_forward, ONE_SIDED),
        Mistake(_backward, ONE_SIDED),
        Mistake(_over_h, "the two points x + h and x - h are 2h apart: divide their difference by 2 * h, not by h"),
        Mistake(_precedence, "`... / 2 * h` means (... / 2) * h in Python; write `/ (2 * h)` with parentheses"),
        Mistake(_all_at_once, "you nudged every element of x at once, which measures the sum of all the partial "
                              "derivatives. Nudge one element at a time: loop over np.ndindex(x.shape)"),
        Mistake(_not_restored, "after the two evaluations, put x[i] back to its old value (x[i] = old): otherwise "
                               "the next elements are measured at a point that has moved"),
    ],
))
