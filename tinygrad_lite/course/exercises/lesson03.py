"""Lesson 03, the backward pass: the checks of its seven exercises.

- ``03.value_mul_backward``: a product's backward on scalar Values, which must ADD each share into ``.grad``: the
  cases give an input's ``.grad`` a share from another op first, and use one Value as both factors (``a * a``), so
  that overwriting with ``=`` fails. The state the call leaves is judged (the inputs' ``.grad``; ``.data`` and
  ``out.grad`` must not change).
- ``03.topological_order``: every node of a scalar graph after all of its inputs. Many orders are right, so the check
  validates the order (each node once, every reachable node, inputs first) rather than comparing it with one.
- ``03.mul_backward``, ``03.relu_backward``, ``03.matmul_backward``, ``03.linear_backward``: the gradients of one
  op's inputs, as numpy arrays, given the inputs and the upstream gradient ``grad`` = dL/d(output). Broadcasting is
  this lesson's topic, so its hint (a broadcast input gets the sum of its copies' gradients) lives here, as mistakes
  of the exercises with a broadcast input. Gradients keep their inputs' dtype, as PyTorch's do: the cases are float64,
  judged at float64's precision, and one of each is float32 (issue 32), where a float64 array made inside
  (``np.zeros(shape)``, ``.astype(float)``) shows.
- ``03.numerical_grad``: central differences, compared with the same differences computed here at the same ``h``.
  Every argument varies: the function, the array (one of integers, one 2-D), and ``h`` (the default, by keyword, by
  position, and coarse steps where the central difference is visibly not the exact derivative, so that an ``h`` of
  one's own fails).

The references use numpy and do not depend on the learner's code. Hints come in tiers: the first names the concept,
the second (when the same mistake comes again) is more concrete; neither is the finished line of code.
"""
import copy
import operator
from functools import partialmethod

import numpy as np

from ... import Tensor, autograd
from ...autograd.engine import unbroadcast
from ...autograd.gradcheck import numeric_jacobians
from ...ops.activation import ReLU as ReLUOp
from ...ops.elementwise import Mul as MulOp
from ...ops.matmul import Linear as LinearOp
from ...ops.matmul import MatMul as MatMulOp
from ..checks import Case, ErrorHint
from .kinds import (
    AnyAnswer,
    ArrayAnswer,
    TupleAnswer,
    Within,
    an,
    array_function,
    cast_to,
    driven,
    is_number,
    mistake,
    recognised,
)

# The op backwards are written by hand, in numpy: an autograd (the library's or PyTorch's, function transforms and
# forward mode included: an elementwise op's jvp is its vjp) computes the same numbers without any backward. Not a
# catalogued block of blocks.py, it is forbidden by name; so is the library's own op (its backward called on an
# instance of one's own; the text points to ops/ to compare with it): the whole class, as 01.relu forbids ReLUOp, since
# one object is watched once (the learner makes an op only to use it; the library's own ops are not the learner's).
AUTOGRAD = (Tensor.backward, autograd.grad, autograd.backward, "torch.Tensor.backward", "torch.autograd.grad",
            "torch.autograd.backward") + tuple(
    f"torch.func.{name}" for name in ("jacfwd", "jacrev", "jvp", "vjp", "grad", "grad_and_value", "linearize")) + tuple(
    f"torch.autograd.functional.{name}" for name in ("jacobian", "vjp", "jvp"))


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the dims that broadcasting added or stretched, so that it gets ``shape``: the engine's
    ``unbroadcast`` (the notebook writes the same function under this name)."""
    return unbroadcast(np.asarray(grad), tuple(shape))


BROADCAST_SUM = (
    "your gradient has the shape of the op's output, not of its input. An input that was broadcast was used once per "
    "copy, and by the sum over consumers it gets the SUM of the gradients of all its copies",
    "sum over the dims that broadcasting added in front or stretched from size 1, so that the gradient gets the "
    "input's own shape: sum_to_shape(g, shape) does exactly that")


# -------------------------------------------------------------------- 03.value_mul_backward
class GraphNode:
    """A node of a test graph: a label and the nodes it was computed from (``inputs``, as the lesson's Value has).
    Labels need not be unique (``2 * x + 2 * y`` holds two constants labelled 2): nodes are told apart by ``_uid``
    (``_numbered``: it survives the check's copies of its cases, and is the same in the grader's process as in the
    learner's kernel). ``op``: empty for a leaf, else its label, so that a walk that tests ``v.op`` works too."""

    def __init__(self, label, inputs=(), data=None, grad=0.0):
        self.label, self.inputs, self.data, self.grad, self._uid = label, tuple(inputs), data, grad, None
        self.op = label if self.inputs else ""

    def __repr__(self):
        return f"GraphNode({self.label!r})"


class Value(GraphNode):
    """The test Value, with the notebook's attributes and arithmetic: a share computed from the Values themselves
    (``b * out.grad``, not ``b.data * out.grad``) becomes a Value, as in the notebook, and the check says so."""

    def _op(self, other, f, op):
        other_data = other.data if isinstance(other, GraphNode) else other
        out = Value(f"{self.label}{op}{getattr(other, 'label', other)}", [self], f(self.data, other_data))
        out.op = op
        return out

    __add__ = __radd__ = partialmethod(_op, f=operator.add, op="+")
    __mul__ = __rmul__ = partialmethod(_op, f=operator.mul, op="*")

    def __repr__(self):
        return f"Value({self.label}: data={self.data:g}, grad={self.grad:g})"


def value_mul_backward_reference(a, b, out):
    """out = a * b. ``+=``: a may hold shares from other ops already, and when a is b (a * a) it gets both shares."""
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def product(a_data, b_data, out_grad, a_grad=0.0, b_grad=0.0, same=False):
    """The arguments (a, b, out) of a product's backward, a.grad and b.grad preset; ``same``: out = a * a."""
    a = Value("a", data=float(a_data), grad=float(a_grad))
    b = a if same else Value("b", data=float(b_data), grad=float(b_grad))
    return a, b, Value("a*a" if same else "a*b", [a, b], data=a.data * b.data, grad=float(out_grad))


def after_backward(fn, args, kwargs=None):
    """Call a product's backward ``fn(a, b, out)`` and return the state it leaves: what the check judges."""
    a, b, out = args
    returned = fn(a, b, out, **(kwargs or {}))
    return {"a.grad": a.grad, "b.grad": b.grad, "a.data": a.data, "b.data": b.data, "out.data": out.data,
            "out.grad": out.grad, "returned": returned, "same": a is b}


def _grad_keys(state):
    return ("a.grad",) if state["same"] else ("a.grad", "b.grad")


def _same_grads(got, other):  # (numbers only)
    return all(is_number(got[k]) and np.isclose(got[k], other[k], rtol=1e-9, atol=1e-12) for k in _grad_keys(other))


def _unchanged(got, case):
    """Whether the call left the gradients as the case made them (it did nothing, or added 0)."""
    start = {"a.grad": case.args[0].grad, "b.grad": case.args[1].grad}
    return all(is_number(got[k]) and got[k] == start[k] for k in _grad_keys(got))


def _value_mul_compare(got, expected, case):
    """None when the state after the learner's call matches ``expected``; otherwise what differs."""
    for key in ("a.data", "b.data", "out.data"):
        if got[key] != expected[key]:
            return (f"your function changed {key} from {expected[key]:g} to {got[key]!r}: the backward pass only "
                    "reads the values (.data); what it changes is .grad")
    if got["out.grad"] != expected["out.grad"]:
        return (f"your function changed out.grad from {expected['out.grad']:g} to {got['out.grad']!r}: it only "
                "reads out.grad and sends it on; what it changes is a.grad and b.grad")
    keys = _grad_keys(expected)
    for key in keys:
        if not is_number(got[key]) or isinstance(got[key], np.floating) and not isinstance(got[key], float):
            return (f"{key} became {an(type(got[key]).__name__)}; the gradients of Values are plain Python numbers: "
                    "compute each share from numbers (.data and .grad), with no Value, array or numpy scalar on the "
                    "way (np.float32(...) also rounds the share to float32)")
    if _same_grads(got, expected):
        return None
    a, b, out = case.args
    start = f"a.grad = {a.grad:g} (b is a: out = a * a)" if a is b else f"a.grad = {a.grad:g} and b.grad = {b.grad:g}"
    if _unchanged(got, case):
        if got["returned"] is not None:
            return (f"your function returned {got['returned']!r} and left the gradients as they were. A "
                    "_backward returns nothing: it puts each share into the input's .grad itself")
        return (f"a.grad and b.grad are unchanged after your function ({start}): it must add each input's "
                "share, computed from the values .data and out.grad, into that input's .grad")
    want = ", ".join(f"{k} = {expected[k]:g}" for k in keys)
    have = ", ".join(f"{k} = {got[k]:g}" for k in keys)
    return (f"the gradients started at {start}, with a.data = {a.data:g}, b.data = {b.data:g} and "
            f"out.grad = {out.grad:g}. Expected {want} after your function; got {have}")


def _value_mul_cases(rng):
    def r():
        return float(np.round(rng.uniform(-4, 4), 3))
    return [
        Case(product(2.0, -3.0, 1.5, a_grad=0.5), visible=True),
        Case(product(r(), r(), r()), "both gradients start at 0"),
        Case(product(r(), r(), r(), b_grad=0.5), "b.grad already holds 0.5, a share from another op that uses b"),
        Case(product(r(), r(), r(), a_grad=-1.25, b_grad=2.0), "both inputs already hold shares from other ops"),
        # a * a with a share already first: there adding one share only and overwriting leave different states
        Case(product(r(), r(), r(), a_grad=0.75, same=True), "out = a * a, and a.grad already holds 0.75"),
        Case(product(3.0, 3.0, 1.0, same=True), "out = a * a: one Value is both factors"),
        Case(product(0.0, r(), r(), a_grad=1.0, b_grad=-1.0), "a.data = 0: b's share is 0, a's is not"),
        Case(product(2.5, 2.5, r(), a_grad=0.5), "a and b are two Values that hold the same number"),
        Case(product(r(), r(), 0.0, a_grad=0.5, b_grad=-0.5), "out.grad = 0, as when the product is multiplied by "
             "0 further on: nothing arrives, so the shares are 0"),
    ]


def _state_mistake(wrongs, hint, more=(), unless=()):
    """A mistake recognised by the gradients it leaves, those of ``wrongs`` (one wrong backward or a tuple; not the
    right ones nor the untouched ones, which say nothing, nor those of ``unless``, which leave the same state)."""
    wrongs = wrongs if isinstance(wrongs, tuple) else (wrongs,)

    def leaves(fns, got, case):
        return any(_same_grads(got, after_backward(fn, copy.deepcopy(case.args))) for fn in fns)

    def match(got, expected, case):
        if _same_grads(got, expected) or _unchanged(got, case):
            return False
        return leaves(wrongs, got, case) and not leaves(unless, got, case)
    return recognised(match, hint, more)


def _shares(share, assign=""):
    """A wrong product backward: ``share(other factor, this factor, out)`` into a.grad, then b.grad, added (+=), or
    assigned (=) for the factors named in ``assign``."""
    def backward(a, b, out):
        a.grad = share(b, a, out) + (0.0 if "a" in assign else a.grad)
        b.grad = share(a, b, out) + (0.0 if "b" in assign else b.grad)
    return backward


OVERWRITES = tuple(_shares(lambda other, this, out: other.data * out.grad, assign) for assign in ("ab", "a", "b"))


def _one_share_for_a_times_a(a, b, out):
    if a is b:  # "one Value, one share": a * a sends a only one of its two shares
        a.grad += a.data * out.grad
    else:
        value_mul_backward_reference(a, b, out)


def _a_times_a_by_value(a, b, out):
    if a.data == b.data:  # "a is b" tested by the values: two Values with equal data taken for one
        a.grad += 2 * a.data * out.grad
    else:
        value_mul_backward_reference(a, b, out)


driven(
    "03.value_mul_backward", value_mul_backward_reference, _value_mul_cases, after_backward,
    answer=AnyAnswer(), compare=_value_mul_compare, generic_hints=(), points=1,
    check_inputs=False,  # changing a.grad and b.grad is the point; _value_mul_compare checks the rest
    mistakes=[
        _state_mistake(OVERWRITES, "a gradient is a sum of shares: an input's .grad may already hold the shares of "
                       "other ops that use it, and in a * a one Value receives the shares of both factors. Your "
                       "function replaced what was in .grad instead of adding to it",
                       "update each .grad with += (as every _backward in the table does), never with =",
                       unless=(_one_share_for_a_times_a,)),
        _state_mistake(_one_share_for_a_times_a, "in a * a, a is both factors, so it receives both shares: "
                       "d(a * a)/da = 2a. Your function gave it only one",
                       "no special case is needed when a is b: two separate += statements, one per factor, run one "
                       "after the other, already give a both shares. A tuple assignment (a.grad, b.grad = ..., ...) "
                       "does not: it reads both old values first, and when a is b its second write replaces the first",
                       unless=OVERWRITES),
        _state_mistake(_a_times_a_by_value, "a and b are two Values here that hold the same number: each is a node "
                       "of its own and gets its own share. Only one Value used twice (a * a, where a is b) gets both",
                       "no special case is needed: two += statements, one per factor, are right for a * a too (and "
                       "a special case would test the Values themselves, a is b, never their .data)"),
        _state_mistake(_shares(lambda other, this, out: this.data * out.grad), "each input's share uses the local "
                       "derivative with respect to THAT input: d(a * b)/da is b, the other factor",
                       "a's share is built from b.data and out.grad, and b's from a.data and out.grad"),
        _state_mistake(_shares(lambda other, this, out: other.data), "you sent the local derivatives alone; the chain "
                       "rule multiplies each by the gradient that arrives from the output, out.grad",
                       "each share is a local derivative times out.grad"),
        _state_mistake(_shares(lambda other, this, out: other.data * out.data), "out.data is the product's value; the "
                       "gradient flowing back from the loss is out.grad",
                       "use out.grad where you used out.data"),
        _state_mistake(_shares(lambda other, this, out: other.grad * out.grad), "the local derivative of a * b with "
                       "respect to a is b's value, b.data; b.grad is b's gradient, which has nothing to do with it",
                       "use the inputs' .data (the values) in the shares, and .grad only to add into"),
    ],
)


# -------------------------------------------------------------------- 03.topological_order
def topological_order_reference(root):
    """Every node ``root`` depends on, each after its inputs: a depth-first search, as ``engine.graph_order``'s."""
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


class _CountingNode(GraphNode):
    """A GraphNode whose ``inputs`` (a property: it wins over the instance's own, in ``vars``) counts its reads:
    the case's nodes have this class while ``_called_twice`` runs the function."""
    reads = 0

    @property
    def inputs(self):
        _CountingNode.reads += 1
        return self.__dict__["inputs"]


def _called_twice(fn, args, kwargs):
    """What the check judges: the lists of two calls on one graph (``backward`` walks the graph at each run, so a set
    or list kept from one call to the next shows on the second), how often they read a node's ``inputs`` (once per
    path, exponentially often, for a walk that never skips a visited node), and the nodes whose ``.grad`` (each node
    gets one of its own first) or ``.data`` they changed."""
    nodes = topological_order_reference(args[0])
    classes = [type(n) for n in nodes]
    for n in nodes:
        if type(n) is GraphNode:
            n.__class__ = _CountingNode
    _CountingNode.reads = 0
    saved = [(n.grad, n.data) for n in nodes]
    marks = [i + 0.25 for i in range(len(nodes))]
    for n, mark in zip(nodes, marks):
        n.grad = mark

    def kept(now, was):  # the same object, or an equal number
        return now is was or (type(now) in (float, int) and type(was) in (float, int) and now == was)
    try:
        first = fn(*args, **kwargs)
        second = fn(*args, **kwargs)
        changed = [n.label for n, mark, (_, data) in zip(nodes, marks, saved)
                   if not (kept(n.grad, mark) and kept(n.data, data))]
    finally:
        for n, cls, (grad, data) in zip(nodes, classes, saved):
            n.__class__, n.grad, n.data = cls, grad, data
    return {"first": first, "second": second, "inputs_read": _CountingNode.reads, "changed": changed}


def _topological_problem(got, case):
    """(kind, text): what is wrong with ``got`` (``_called_twice``'s record, or a list); (None, None) if nothing. Both
    lists must be topological orders, and the calls may read inputs a few times per node and edge, not per path."""
    if not isinstance(got, dict):
        return _order_problem(got, case)
    kind, text = _order_problem(got["first"], case)
    if kind is not None:
        return kind, text
    kind, text = _order_problem(got["second"], case)
    if kind is not None:  # (a walk that went nowhere on the second call only kept its visited set: no isinstance)
        text = text.replace(WENT_NOWHERE, "")
        return "second call", ("your first call on this graph returned a right order, but a second call on the same "
                               f"graph (backward walks the graph each time it runs) went wrong: {text}")
    if got.get("changed"):
        names = ", ".join(got["changed"][:6]) + (", ..." if len(got["changed"]) > 6 else "")
        return "changed", (f"your order is right, but your function changed the .grad (or .data) of "
                           f"{len(got['changed'])} of the graph's nodes ({names}): it should only list the nodes "
                           "and leave them as they are")
    nodes = topological_order_reference(case.args[0])
    edges = sum(len(n.inputs) for n in nodes)
    if got["inputs_read"] > 8 * (len(nodes) + edges):
        return "revisits", (f"your order is right, but the two calls read the inputs of this graph's {len(nodes)} "
                            f"nodes {got['inputs_read']} times: your walk visits a node again through every path that "
                            "reaches it, and the number of paths doubles with each level of a chain like v = v * v")
    return None, None


WENT_NOWHERE = (". Your walk did not go from the root to its inputs. If it tests isinstance(v, Value) (or type(v)): "
                "the check's test nodes have the Value's .inputs but are not Values, so such a test skips them all; "
                "walk through .inputs only")


def _order_problem(got, case):
    """(kind, text): what is wrong with ``got`` as a topological order of the case's graph; (None, None) if
    nothing. Nodes are told apart by ``_uid`` (two may share a label) and named by their label."""
    def unwrap(item):  # as_numpy made each node of the answer a 0-d object array
        return item.item() if isinstance(item, np.ndarray) and item.dtype == object and item.ndim == 0 else item
    root = case.args[0]
    nodes = topological_order_reference(root)
    graph = {n._uid: [p._uid for p in n.inputs] for n in nodes}
    got = unwrap(got)
    if got is None:
        return "none", "expected a list of nodes, got None: did you forget to return the list?"
    if not isinstance(got, (list, tuple)):
        return "type", f"expected a list of nodes, got {type(got).__name__}: collect the nodes in a list and return it"
    items = [unwrap(g) for g in got]
    if not all(hasattr(n, "label") and hasattr(n, "inputs") and hasattr(n, "_uid") for n in items):
        kinds = sorted({type(n).__name__ for n in items if not hasattr(n, "inputs")}) or ["other objects"]
        return "items", (f"the list should hold the nodes themselves (objects with .inputs, like Value), but it "
                         f"holds {', '.join(kinds)}: append the node, not its data or its label")
    keys = [f"id {id(n)}" if n._uid is None else n._uid for n in items]  # (a node of no case: extra)
    name = {n._uid: n.label for n in nodes} | {k: n.label for k, n in zip(keys, items) if k not in graph}
    this_graph = next(iter(graph)).split(".")[0] + "."
    copies = {}
    for k, n in zip(keys, items):
        copies.setdefault(k, set()).add(id(n))
    stale = list(dict.fromkeys(k for k in keys if not k.startswith(("id ", this_graph)) or len(copies[k]) > 1))
    if stale:  # another copy of a node (a check makes a new copy each run), or a node of another case's graph
        return "earlier call", (f"your list holds nodes that this call was not given: "
                                f"{', '.join(name[k] for k in stale)} (the nodes of a graph that an earlier call "
                                "was given)")
    times, order = len(keys) // len(graph), keys[:len(graph)]
    if times > 1 and keys == order * times and sorted(order) == sorted(graph):  # one whole order after another
        return "earlier call", (f"your list holds this graph's order {times} times, one after another: the list "
                                "of an earlier call, still there, with this call's nodes added to it")
    if repeated := [k for k in dict.fromkeys(keys) if keys.count(k) > 1]:
        return "repeated", (f"node {name[repeated[0]]} appears {keys.count(repeated[0])} times in your list; each "
                            "node must appear exactly once")
    if missing := [k for k in graph if k not in keys]:
        def count(n):
            return f"{n} node" if n == 1 else f"{n} nodes"
        text = (f"your list has {count(len(keys))} but the graph has {count(len(graph))}: missing "
                f"{', '.join(name[k] for k in missing)}")
        if missing == [root._uid]:  # every node but the root (a test that skips it, or a walk from its inputs)
            return "no root", text + " (the root itself)"
        listed = {name[k] for k in keys}
        if all(name[k] in listed for k in missing):
            return "same label", text + (" (your list holds another node with the same label: two different nodes may "
                                         "carry one label)")
        if all(not graph[k] for k in missing):
            return "leaves", text + " (each of them a leaf: a node with no inputs)"
        if not keys or keys == [root._uid]:  # the walk went nowhere (no mistake row: the text says why)
            return "went nowhere", text + WENT_NOWHERE
        if len(set(keys)) == 1 and not graph[keys[0]]:  # one leaf: e.g. `return visit(p)` inside the loop
            return "one leaf", text + f" (your walk reached the leaf {name[keys[0]]} and listed no other node)"
        for end, which in ((0, "FIRST"), (-1, "LAST")):  # the path through one input of each node (v.inputs[0])
            path, node = [], root._uid
            while node is not None:
                path.append(node)
                node = graph[node][end] if graph[node] else None
            if sorted(keys) == sorted(path):
                return "one input", text + f" (your list is the path from the root through each node's {which} input)"
        return "missing", text
    if extra := [k for k in keys if k not in graph]:
        return "extra", f"your list has nodes that the root does not depend on: {', '.join(name[k] for k in extra)}"
    position = {k: i for i, k in enumerate(keys)}
    edges = [(p, n) for n in graph for p in graph[n]]
    if edges and all(position[p] > position[n] for p, n in edges):
        return "reversed", ("in your list every node comes before its inputs (the root first): the opposite of a "
                            "topological order, which lists every node after its inputs (the root last); backward then "
                            "walks that list in reverse")
    for p, n in edges:
        if position[p] > position[n]:
            return "order", (f"node {name[n]} comes before its input {name[p]} (positions {position[n]} and "
                             f"{position[p]} in your list); every node must come after all of its inputs")
    return None, None


def _chain(n, square=False):
    """v_i = v_(i-1) * c_i, n times; ``square``: v_i = v_(i-1) * v_(i-1), 2**n paths from the root to v0."""
    node = GraphNode("v0")
    for i in range(1, n + 1):
        node = GraphNode(f"v{i}", [node, node] if square else [node, GraphNode(f"c{i}")])
    return node


def _random_dag(rng, n):
    """n nodes, each computed from one or two earlier ones; the last is the root (some nodes do not feed it)."""
    nodes = [GraphNode("n0"), GraphNode("n1"), GraphNode("n2")]
    for i in range(3, n):
        k = int(rng.integers(1, 3))
        picks = rng.choice(len(nodes), size=k, replace=False)
        nodes.append(GraphNode(f"n{i}", [nodes[j] for j in sorted(picks, reverse=bool(rng.integers(2)))]))
    return GraphNode("root", [nodes[-1], nodes[-2]])


def _numbered(root, graph):
    """``root``, each node of its graph with the ``_uid`` "graph.i" (``graph`` tells cases apart, for a list that
    holds an earlier call's nodes) and, where it has none, the value i + 0.5: remembering nodes by value then fails
    only where a case makes two equal on purpose (the two 2s of 2 * x + 2 * y)."""
    for i, node in enumerate(topological_order_reference(root)):
        node._uid = f"{graph}.{i}"
        if node.data is None:
            node.data = i + 0.5
    return root


def _topological_cases(rng):
    # the notebook's neuron, out = tanh(x1*w1 + x2*w2 + b), labelled as the notebook labels it
    x1, w1, x2, w2, b = (GraphNode(s) for s in ("x1", "w1", "x2", "w2", "b"))
    s = GraphNode("x1*w1+x2*w2", [GraphNode("x1*w1", [x1, w1]), GraphNode("x2*w2", [x2, w2])])
    neuron = GraphNode("out", [GraphNode("n", [s, b])])
    x = GraphNode("x")
    xx = GraphNode("x*x", [x, x])
    a = GraphNode("a")
    relu_a, tanh_a = GraphNode("relu(a)", [a]), GraphNode("tanh(a)", [a])
    # 2 * x + 2 * y as the notebook's Value builds it: each 2 becomes its own Value labelled "2"
    twos = GraphNode("2", data=2.0), GraphNode("2", data=2.0)
    two_x_two_y = GraphNode("2*x+2*y", [GraphNode("2*x", [twos[0], GraphNode("x")]),
                                        GraphNode("2*y", [twos[1], GraphNode("y")])])
    return [
        Case((_numbered(neuron, 0),), visible=True),
        Case((_numbered(GraphNode("x*x+x", [xx, x]), 1),), "x*x + x: x is used three times"),
        Case((_numbered(GraphNode("d", [relu_a, tanh_a]), 2),), "a diamond: a feeds two ops that meet again"),
        Case((_numbered(two_x_two_y, 3),), "2 * x + 2 * y: two different constants, both labelled 2"),
        Case((_numbered(_chain(40), 4),), "a chain of 40 multiplications"),
        Case((_numbered(_chain(16, square=True), 7),), "v = v * v, 16 times: each node is both inputs of the next"),
        Case((_numbered(_random_dag(rng, 30), 5),), "a random graph of 30 nodes, some not used by the root"),
        Case((_numbered(_random_dag(rng, 60), 6),), "a random graph of 60 nodes"),
    ]


def _order_mistake(kind, hint, more):  # the row of a kind of problem that _topological_problem finds
    return recognised(lambda got, expected, case: _topological_problem(got, case)[0] == kind, hint, more)


driven(
    "03.topological_order", topological_order_reference, _topological_cases, _called_twice,
    compare=lambda got, expected, case: _topological_problem(got, case)[1],
    answer=AnyAnswer(), generic_hints=(), points=2,  # many orders are right: the compare judges the list
    mistakes=[_order_mistake(*row) for row in (
        ("repeated", "a node used by two ops (like x in x*x + x) is reached once through each of them: remember which "
         "nodes you have visited, and skip a node you have seen before",
         "keep a set of the visited nodes; a node goes into it when it is first visited"),
        ("same label", "two different nodes may carry the same label (2 * x + 2 * y has two constants labelled 2), and "
         "some nodes have no label at all: remember the visited nodes themselves, not their labels (or values)",
         "a set of the node objects tells two nodes apart even when their labels and values are equal: put the node "
         "itself in your set of visited nodes"),
        ("leaves", "the leaves belong in the list too: the inputs and weights, which no op computed, are nodes whose "
         "gradients backward must fill in (a leaf is a node with no inputs)",
         "append every node you visit, the ones without inputs included"),
        ("one leaf", "each visit must go on to every input of its node, and then append the node itself. A return "
         "inside the loop over the inputs (return visit(p), say) ends the visit at its first input, before the node is "
         "appended",
         "call visit on each input without returning, and append the node after the loop"),
        ("no root", "every node but the root itself is in your list: the root belongs in the order too, at its end, "
         "after all of its inputs (backward sets its gradient to 1 and starts from it)",
         "append the root as you append every other node, once the visits of its inputs have returned: a walk that "
         "starts at the root's inputs, or a test that skips the root, leaves it out"),
        ("one input", "your walk went on from each node to one of its inputs only: an op with two inputs (x * w, "
         "a + b) needs both of them before it, and so do their own inputs",
         "loop over ALL of a node's inputs (for p in v.inputs), visiting each, before you append the node"),
        ("missing", "visit the inputs of every node you reach, and their inputs in turn, not only the inputs of the "
         "root",
         "the visit of a node calls the visit of each of its inputs (recursion)"),
        ("earlier call", "your list still holds the nodes of an earlier call: a list or set made once and kept from "
         "one call to the next (a default argument such as order=[], or a global) grows with every call. Each call "
         "needs a new, empty one",
         "a default value is made once, when `def` runs, not at each call: create the list and the set inside the "
         "function's body"),
        ("second call", "your function keeps something from one call to the next (a set or list made once, outside the "
         "function or as a default argument): a second call on the same graph finds its nodes already marked as "
         "visited. Each call needs a new, empty one",
         "create the set of visited nodes and the list inside the function's body"),
        ("revisits", "a node reached through two paths (v in v * v, or both sides of a diamond) must be visited once: "
         "keep a set of the visited nodes and skip a node that is in it, instead of visiting it again (and removing or "
         "moving the repeats afterwards)",
         "test whether a node is in your visited set before visiting its inputs"),
        ("changed", "topological_order only lists the nodes: backward resets the computed nodes' .grad itself, and the "
         "leaves' .grad must keep what earlier backward passes added to it (section 11), so a walk that sets .grad (to "
         "0, or the root's to 1) loses it",
         "remove the lines of your function that assign to a node's .grad or .data"),
        ("reversed", "a node may go into the list only once all of its inputs are in it",
         "append a node after the visits of its inputs have returned, not before them, and return the list in the "
         "order the nodes went into it: a list with every node before its inputs comes from appending before the "
         "visits, or from reversing a right order at the end (backward does the reversing itself)"),
        ("order", "a node may go into the list only once the visits of all of its inputs have finished. Reversing "
         "another walk's list (a breadth-first walk from the root, or a depth-first one that lists each node before "
         "its inputs) does not give such an order in general, and neither does an explicit stack that marks a node "
         "visited when it is PUSHED: a node still waiting on the stack is then skipped when another path reaches "
         "it, and a node that uses it goes into the list first",
         "use a depth-first visit that appends a node after it has visited all of its inputs (with a stack: mark a "
         "node visited when it is popped to be expanded, and append it when it is popped the second time)"),
    )],
)


# -------------------------------------------------------------------- the op backwards: what the four share
IN_FLOAT32 = ("you turned the inputs into float32: it keeps about 7 significant digits where float64 keeps about 16, "
              "so the gradients differ from about their 8th significant digit on. Keep the precision of the float64 "
              "inputs",
              "leave out the conversion to float32 (np.asarray(x) keeps x's float64)")
# a float32 gradient on a float64 case, however it came (before the other mistakes, which a rounding may match), and
# a float64 gradient on the float32 case (issue 32)
FLOAT32_GRADIENT = cast_to("float32", "float64", *IN_FLOAT32)
FLOAT64_GRADIENT = cast_to(
    "float64", "float32",
    "the inputs are float32 in this case, and your gradient is float64: an array made inside with numpy's default "
    "float64 (np.zeros(shape), np.ones(shape), .astype(float), dtype=float) turned it into float64. A gradient has the "
    "dtype of its input, as PyTorch's .grad does, so that the engine can add it into the input's gradient and the "
    "optimizer update the float32 weight with it",
    "numpy's promotion rule decides the dtype: an operation on a float32 array stays float32 when the other operand is "
    "float32 too, a boolean array or a plain Python number; it becomes float64 when the other operand is float64 (an "
    "array made with numpy's default dtype, or a numpy float64 number) or an int64 array. Find the operand of yours "
    "that is float64 and make it in the inputs' dtype (section 4's contract)")
# these backward functions are sums of products of float64 numbers: a right answer agrees with the reference to
# about 1e-15 relative, one that went through float32 only to about 1e-8 (the default rtol of 1e-5 would pass it).
# The float32 case (issue 32) at float32's precision: its sums may be added in another order
EXACT = Within(1e-10, 1e-12)
OP_BACKWARD = {"judge": Within(1e-5, 1e-6), "judge64": EXACT, "dtype_mistakes": (FLOAT32_GRADIENT, FLOAT64_GRADIENT)}


def _float32(*arrays):  # (drawn in float64, as the other cases)
    return tuple(np.asarray(a, dtype=np.float32) for a in arrays)


def _in_float32(reference):
    """The mistake of the reference on float32 copies of its inputs (grad kept): right to 7 digits only."""
    def wrong(*args):
        *inputs, grad = args
        return reference(*(np.asarray(a, dtype=np.float32) for a in inputs), grad)
    return mistake(wrong, *IN_FLOAT32)


# -------------------------------------------------------------------- 03.mul_backward
def mul_backward_reference(x, y, grad):
    """z = x * y (broadcast), in the inputs' dtype."""
    x, y = np.asarray(x), np.asarray(y)
    return sum_to_shape(grad * y, x.shape), sum_to_shape(grad * x, y.shape)


def _mul_cases(rng):
    def r(*shape):
        return rng.standard_normal(shape)

    def one_row(shape):  # an upstream gradient that is 0 everywhere but in one row
        grad = np.zeros(shape)
        grad[int(rng.integers(shape[0]))] = rng.standard_normal(shape[1:])
        return grad

    def with_zeros(x, y, grad):  # two entries of x and one of y set to 0, as value_mul's check has a.data = 0
        x[0, 1] = x[2, 3] = y[2] = 0.0
        return x, y, grad
    return [
        Case((np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([10.0, -1.0, 0.5]),
              np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])), visible=True),
        Case((r(4, 5), r(4, 5), r(4, 5)), "same shapes, no broadcasting"),
        Case((r(3, 4), r(3, 1), r(3, 4)), "y is a column (3, 1), stretched over 4 columns"),
        Case((r(1, 5), r(4, 1), r(4, 5)), "both broadcast: (1, 5) * (4, 1)"),
        Case((np.array(1.5), r(3, 4), r(3, 4)), "x is a single number (a 0-d array)"),
        Case((r(6, 3), r(3), one_row((6, 3))), "an upstream gradient that is 0 but in one row"),
        Case((100 * r(5, 3), r(3), r(5, 3)), "large values"),
        # (review of issue 46) a local derivative written as z / x (grad * (x * y) / x) is right wherever x != 0
        Case(with_zeros(r(3, 4), r(4), r(3, 4)), "zeros in x and in y, y (4,) broadcast over 3 rows"),
        # issue 32: a float32 op's gradients are float32 (PyTorch's .grad of a float32 tensor is); the last case
        Case(_float32(r(3, 4), r(4), r(3, 4)), "float32 arrays, y (4,) broadcast over 3 rows: the gradients are "
             "float32, like the inputs"),
    ]


def _divided_by_an_input(got, expected, case):
    """nan or inf on a case whose x or y holds zeros: a local derivative computed as a division by an input."""
    if not any((np.asarray(a) == 0).any() for a in case.args[:2]):
        return False
    parts = got if isinstance(got, tuple) else (got,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "fc" and not np.isfinite(p).all() for p in parts)


def _each_input(to_shape):
    """A wrong mul backward: grad times the other input, brought to the input's shape by ``to_shape(g, shape)``."""
    return lambda x, y, g: (to_shape(g * y, np.shape(x)), to_shape(g * x, np.shape(y)))


array_function(
    "03.mul_backward", mul_backward_reference, _mul_cases, **OP_BACKWARD, match=EXACT,
    answer=TupleAnswer(ArrayAnswer("reference"), ArrayAnswer("reference")), generic_hints=("sign", "factor"),
    forbid=AUTOGRAD + (MulOp,),  # the library's autograd (or PyTorch's), or its op's own backward
    allow=("arithmetic", "sum"),  # the text's building blocks (sum_to_shape is made of them)
    points=2,
    mistakes=[
        _in_float32(mul_backward_reference),
        recognised(_divided_by_an_input, "your gradient is nan or inf where an input is 0: a division by an input (the "
                   "local derivative written as z / x) fails there. The local derivative of x * y with respect to x is "
                   "y itself",
                   "no division is needed: multiply grad by the other input"),
        mistake(lambda x, y, g: (sum_to_shape(g * x, np.shape(x)), sum_to_shape(g * y, np.shape(y))),
                "each input's gradient uses the local derivative with respect to THAT input: d(x*y)/dx is y, the other "
                "input",
                "dL/dx is built from grad and y, and dL/dy from grad and x"),
        mistake(lambda x, y, g: (np.asarray(y, dtype=float), np.asarray(x, dtype=float)),
                "you returned the local derivatives alone; the chain rule multiplies each one by the upstream gradient "
                "grad",
                "each gradient is a local derivative times grad (elementwise), then brought to its input's shape"),
        mistake(lambda x, y, g: (sum_to_shape(np.ones_like(g) * y, np.shape(x)),
                                 sum_to_shape(np.ones_like(g) * x, np.shape(y))),
                "your gradients do not depend on grad: they are what ones in grad's place give (the local derivatives, "
                "only broadcast and summed), where the chain rule multiplies them by the upstream gradient grad",
                "each gradient is grad times the other input (elementwise), then brought to its input's shape"),
        mistake(_each_input(lambda d, shape: d), *BROADCAST_SUM),
        mistake(_each_input(lambda d, shape: sum_to_shape(d, shape) * (np.prod(shape, dtype=float) / max(d.size, 1))),
                "a broadcast input gets the SUM of the gradients of its copies, not their mean: each copy moves the "
                "output on its own, and the effects add up",
                "replace the mean over the broadcast dims by a sum (sum_to_shape)"),
        mistake(_each_input(lambda d, shape: d if d.shape == shape else d.sum()), "you summed the gradient of a "
                "broadcast input over every dim, down to one number. Sum only over the dims that broadcasting added or "
                "stretched: the result keeps the input's own shape",
                "sum_to_shape(g, shape) sums over exactly those dims"),
        mistake(_each_input(lambda d, shape: d if d.shape == shape else d.sum(axis=0)), "which dims to sum depends on "
                "the shapes: broadcasting adds dims in front and stretches dims of size 1 wherever they are, so a "
                "fixed axis 0 is right only for some inputs",
                "compare the input's shape with grad's, dim by dim from the right: sum over the extra dims in front "
                "and over each dim where the input has size 1 (sum_to_shape does both)"),
    ],
)


# -------------------------------------------------------------------- 03.relu_backward
def relu_backward_reference(x, grad):
    """z = max(x, 0): dL/dx = grad where x > 0, else 0 (0 at x = 0 exactly, as in PyTorch)."""
    return np.where(np.asarray(x) > 0, grad, 0.0)


def _relu_cases(rng):
    def all_but_one(shape, sign):  # values of one sign, at least 0.1 away from 0, but one of the other sign
        x = sign * (rng.random(shape) + 0.1)
        x[np.unravel_index(int(rng.integers(x.size)), x.shape)] *= -1
        return x

    def near_zero():  # however small, a positive input lets the gradient through; 5e-324 is float64's smallest
        x = np.concatenate([[5e-324, 1e-300], np.geomspace(1e-9, 0.05, 8)])
        return rng.permutation(np.concatenate([x, -x]))

    def tiny32():  # two positive entries below float32's smallest normal number 1.2e-38 (one its smallest), one < 0
        x = rng.standard_normal((3, 4)).astype(np.float32)
        x.flat[[1, 6, 9]] = np.array([1e-40, 1.4e-45, -1e-40], dtype=np.float32)
        return x
    with_zeros = rng.standard_normal((4, 5))
    with_zeros[rng.random((4, 5)) < 0.3] = 0.0
    return [
        Case((np.array([[-1.5, 0.0, 2.0], [0.5, -0.2, 0.0]]), np.array([[1.0, 2.0, 3.0], [-4.0, 5.0, -6.0]])),
             visible=True),
        Case((rng.standard_normal((4, 5)), rng.standard_normal((4, 5))), "a 4 x 5 batch"),
        Case((all_but_one((3, 3), -1.0), rng.standard_normal((3, 3))),
             "all inputs negative but one: the gradient passes at that one only"),
        Case((all_but_one(6, 1.0), rng.standard_normal(6)),
             "all inputs positive but one: the gradient passes unchanged except there"),
        Case((with_zeros, rng.standard_normal((4, 5))), "many inputs exactly 0"),
        Case((1e3 * rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))), "large values, 3 dims"),
        Case((near_zero(), rng.standard_normal(20)), "inputs close to 0 on both sides, 5e-324 (float64's smallest "
             "number) to 0.05 away"),
        # issue 32: a float32 op's gradient is float32 (PyTorch's .grad of a float32 tensor is); the edge of its
        # dtype: inputs below float32's smallest normal number are still positive (a threshold such as 1e-12 or
        # np.finfo(x.dtype).tiny blocks them)
        Case(_float32(tiny32(), rng.standard_normal((3, 4))),
             "float32 arrays, three inputs near float32's smallest numbers (1e-40, 1.4e-45, -1e-40): the gradient is "
             "float32, like the inputs"),
    ]


def _relu_answer(test):
    """A match: ``test(x, got, right)`` holds for ``got``, an array of x's shape (``right``: where it is within
    1e-5)."""
    def match(got, expected, case):
        x = np.asarray(case.args[0])
        if not isinstance(got, np.ndarray) or got.shape != x.shape:
            return False
        with np.errstate(all="ignore"):
            return bool(test(x, got, np.isclose(got, expected, rtol=1e-5, atol=1e-7)))
    return match


def _blocks_small_positives(x, got, right):
    """Right but where 0 < x < 0.1, blocked at some such x (a threshold above 0, e.g. x > 0.01)."""
    small = (x > 0) & (x < 0.1)
    return right[~small].all() and not right[small].all() and np.allclose(got[small & ~right], 0)


array_function(
    "03.relu_backward", relu_backward_reference, _relu_cases,
    **OP_BACKWARD,  # relu's gradient only selects: exact in either dtype
    match=Within(1e-5, 1e-7), generic_hints=("sign",), points=1,
    forbid=AUTOGRAD + (ReLUOp,),  # the library's autograd (or PyTorch's), or its op's own backward
    # the text's building blocks: a mask from a comparison, or where, clamp, max/min (relu(x) > 0 is a mask too)
    allow=("arithmetic", "where", "clamp", "max", "min", "relu"),
    mistakes=[
        # nan or inf where x == 0 and right elsewhere: a 0/1 factor written as a division by x (max(x, 0) / x)
        recognised(_relu_answer(lambda x, got, right: got.dtype.kind in "fc" and right[x != 0].all()
                                and not np.isfinite(got[x == 0]).all()),
                   "your gradient is nan or inf where x is exactly 0: a division by x (such as max(x, 0) / x, 0 / 0 "
                   "there) fails at 0. Multiply grad by 0 or 1, not by a function of x's size",
                   "decide between 0 and 1 with a comparison of x with 0: no division is needed"),
        # right wherever x != 0, wrong somewhere where x == 0 (x >= 0, a Heaviside step of 0.5 ...)
        recognised(_relu_answer(lambda x, got, right: right[x != 0].all() and not right[x == 0].all()),
                   "look at the inputs that are exactly 0: there relu's gradient is taken to be 0 (PyTorch's choice, "
                   "and ours), and yours lets (some of) the gradient through",
                   "the comparison that picks where the gradient passes must be strict: 0 itself is blocked"),
        recognised(_relu_answer(_blocks_small_positives), "relu passes its input wherever x > 0, however small x is, "
                   "so its gradient passes there too: yours is blocked at some small positive inputs",
                   "compare x with 0 itself, not with a small threshold"),
        mistake(lambda x, g: (x > 0).astype(float), "you returned relu's local derivative (1 or 0) alone; the chain "
                "rule multiplies it by the upstream gradient grad",
                "multiply your 0/1 mask by grad, element by element"),
        mistake(lambda x, g: g * np.maximum(x, 0), "you multiplied by relu(x), the forward output; the local "
                "derivative of relu is 1 where x > 0 and 0 elsewhere, whatever the size of x",
                "where x > 0 the gradient passes unchanged, not scaled by x"),
        mistake(lambda x, g: g * np.clip(x, 0, 1), "where 0 < x < 1 you multiplied grad by x: np.clip(x, 0, 1) is x "
                "there, not 1. relu's local derivative is 1 wherever x > 0, whatever the size of x",
                "multiply grad by 0 or 1, decided by the sign of x, not by a function of x's size"),
        mistake(lambda x, g: np.maximum(g, 0), "you applied relu to the gradient. Which entries pass is decided by the "
                "forward input x (was it positive?), not by the sign of grad",
                "build the mask from x; a negative grad passes unchanged where x > 0"),
        mistake(lambda x, g: g * np.sign(x), "np.sign(x) is -1 where x < 0, so your answer sends -grad back where relu "
                "blocks the gradient: relu's local derivative is 1 where x > 0 and 0 elsewhere, never -1",
                "what you need is a choice per element between passing grad and blocking it: no sign flips anywhere"),
        mistake(lambda x, g: np.where(x < 0, g, 0.0), "the mask is the wrong way round: the gradient passes where relu "
                "passes its input, x > 0, and is blocked where relu outputs 0",
                "swap the two sides of your comparison"),
    ],
)


# -------------------------------------------------------------------- 03.matmul_backward
def matmul_backward_reference(x, w, grad):
    """z = x @ w, x (n, k), w (k, m), grad (n, m): dL/dx = grad @ w.T (n, k), dL/dw = x.T @ grad (k, m)."""
    return grad @ w.T, x.T @ grad


def _matmul_cases(rng):
    def r(*shape):
        return rng.standard_normal(shape)
    return [
        Case((np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0]]),
              np.array([[1.0, 0.0, -1.0, 2.0], [0.5, 1.0, 0.0, -2.0], [0.0, 2.0, 1.0, 1.0]]),
              np.array([[1.0, -1.0, 0.5, 0.0], [0.0, 2.0, 1.0, -1.0]])), visible=True),
        Case((r(5, 4), r(4, 3), r(5, 3)), "(5, 4) @ (4, 3)"),
        Case((r(1, 6), r(6, 2), r(1, 2)), "a single row: (1, 6) @ (6, 2)"),
        Case((r(3, 3), r(3, 3), r(3, 3)), "square matrices: transposes do not change the shapes here"),
        Case((r(8, 5), r(5, 1), r(8, 1)), "one output column: (8, 5) @ (5, 1)"),
        Case((50 * r(4, 7), r(7, 3), r(4, 3)), "large values"),
        # issue 32: a float32 op's gradients are float32 (PyTorch's .grad of a float32 tensor is)
        Case(_float32(r(3, 5), r(5, 2), r(3, 2)), "float32 arrays, (3, 5) @ (5, 2): the gradients are float32, like "
             "the inputs"),
    ]


SHAPES_FIRST = "write the shapes under each factor: (n, m) @ (m, k) is (n, k), the shape of x"
SHAPES_DO_NOT_FIT = ErrorHint(
    r"matmul: Input operand \d+ has a mismatch in its core dimension",
    "the two factors of a matrix product do not fit: (a, b) @ (c, d) needs b == c. Write the shape under each factor, "
    "and remember that each gradient must come out with the shape of its own input",
    "one factor needs a transpose (.T); the shapes tell which")
def _reshaped(got, expected, case):
    """A result that is a transposed product regrouped by reshape, or made with a reshaped factor (not a transpose)."""
    x, w, g = case.args
    forms = [((w @ g.T).reshape(x.shape), g @ w.reshape(w.shape[::-1])),
             ((g.T @ x).reshape(w.shape), x.reshape(x.shape[::-1]) @ g)]
    return any(np.shape(r) == f.shape and np.allclose(r, f) and not np.allclose(f, e)
               for r, e, fs in zip(got, expected, forms) for f in fs)


# what the two matrix products' backwards share (forbid: the library's autograd or PyTorch's, or its ops' own backward)
MATMUL_BACKWARD = {**OP_BACKWARD, "match": EXACT, "generic_hints": ("transpose", "mean_vs_sum", "sign", "factor"),
                   "error_hints": [SHAPES_DO_NOT_FIT], "forbid": AUTOGRAD + (MatMulOp, LinearOp)}

array_function(
    "03.matmul_backward", matmul_backward_reference, _matmul_cases, **MATMUL_BACKWARD,
    answer=TupleAnswer(ArrayAnswer("reference"), ArrayAnswer("reference")),
    allow=("arithmetic", "matmul", "sum"),  # the text's building blocks (a sum of outer products is right too)
    points=2,
    mistakes=[
        _in_float32(matmul_backward_reference),
        mistake(lambda x, w, g: (x.T @ g, g @ w.T), "the two gradients are swapped: return (dL/dx, dL/dw), in the "
                "order of the inputs (x, w)"),
        mistake(lambda x, w, g: (w.T, x.T), "you returned local derivatives alone (w.T for x, x.T for w), without the "
                "upstream gradient grad: the chain rule multiplies grad by them, here with a matrix product. Each "
                "result must then have the shape of its own input", SHAPES_FIRST),
        mistake(lambda x, w, g: (np.ones_like(g) @ w.T, x.T @ np.ones_like(g)), "your gradients do not depend on "
                "grad: they are what a matrix of ones in grad's place gives (sums of w's and of x's entries: the "
                "gradients of a loss that is the plain sum of the outputs), where the chain rule has the upstream "
                "gradient grad in each product",
                "each gradient is a matrix product with grad itself"),
        mistake(lambda x, w, g: (g @ w, x.T @ g), "dL/dx has a wrong arrangement of w (the shapes only fit here "
                "because w is square). In dL/dx[i, p] = sum_j G[i, j] W[p, j], the summed index j is w's SECOND index",
                SHAPES_FIRST),
        mistake(lambda x, w, g: (g @ w.T, x @ g), "dL/dw has a wrong arrangement of x (the shapes only fit here "
                "because x is square). In dL/dw[p, j] = sum_i X[i, p] G[i, j], the summed index i is x's FIRST index",
                "write the shapes under each factor: dL/dw must be (k, m), and x is (n, k), grad (n, m)"),
        mistake(lambda x, w, g: (g @ w.T, g.T @ x), "your dL/dw is the transpose of the right one: it must have w's "
                "shape (k, m), and yours is (m, k). The order of the factors matters",
                "x is (n, k) and grad is (n, m): the product with shape (k, m) has x's transpose first"),
        mistake(lambda x, w, g: (w @ g.T, x.T @ g), "your dL/dx is the transpose of the right one: it must have x's "
                "shape (n, k), and yours is (k, n). The order of the factors matters",
                "grad is (n, m) and w is (k, m): the product with shape (n, k) has grad first"),
        recognised(_reshaped, "a reshape is no transpose: it keeps the numbers in their row-by-row order and only "
                   "regroups them into the new shape, so the shapes fit and the numbers do not",
                   "swap the axes with .T (lesson 01's W.T); the shapes under each factor tell which one needs it"),
    ],
)


# -------------------------------------------------------------------- 03.linear_backward
def linear_backward_reference(x, weight, grad):
    """y = x @ weight.T + bias, x (n, in), weight (out, in), grad (n, out):
    dL/dx = grad @ weight (n, in), dL/dweight = grad.T @ x (out, in), dL/dbias = grad summed over the batch (out,)."""
    return grad @ weight, grad.T @ x, grad.sum(axis=0)


def _linear_cases(rng):
    def r(*shape):
        return rng.standard_normal(shape)
    return [
        Case((np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 1.0], [2.0, 0.5, -1.0], [1.0, 1.0, 1.0]]),
              np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]),
              np.array([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0], [-1.0, 1.0]])), visible=True),
        Case((r(5, 4), r(3, 4), r(5, 3)), "a batch of 5, 4 features in, 3 out"),
        Case((r(1, 3), r(2, 3), r(1, 2)), "a batch of a single example"),
        Case((r(6, 2), r(5, 2), r(6, 5)), "2 features in, 5 out"),
        Case((r(4, 4), r(4, 4), r(4, 4)), "everything square: transposes do not change the shapes here"),
        Case((r(32, 3), r(2, 3), r(32, 2)), "a batch of 32"),
        Case((r(4, 3), r(1, 3), r(4, 1)), "a single output feature (a regression head): the bias has shape (1,)"),
        # issue 32: a float32 layer's gradients are float32 (PyTorch's .grad of a float32 tensor is)
        Case(_float32(r(6, 3), r(2, 3), r(6, 2)), "float32 arrays, a batch of 6, 3 features in, 2 out: the gradients "
             "are float32, like the inputs"),
    ]


array_function(
    "03.linear_backward", linear_backward_reference, _linear_cases, **MATMUL_BACKWARD,
    answer=TupleAnswer(ArrayAnswer("reference"), ArrayAnswer("reference"), ArrayAnswer("reference")),
    allow=("arithmetic", "matmul", "sum"),  # the text's building blocks (F.linear, the forward, is refused)
    points=3,
    mistakes=[
        _in_float32(linear_backward_reference),
        mistake(lambda x, w, g: (g @ w, g.T @ x, g.mean(axis=0)), "the bias gradient is the SUM over the batch, not "
                "the mean: the same bias is added to every example, so each example sends its own gradient to it and "
                "they add up. (If the loss is a mean, its 1/N is already inside grad.)",
                "replace the mean over the batch by a sum"),
        mistake(lambda x, w, g: (g @ w, g.T @ x, g.sum(axis=1)), "the bias was broadcast over the batch (the rows), so "
                "its gradient sums over the batch; you summed over the output features, which leaves one number per "
                "example",
                "sum over axis 0, the batch axis: one number per output feature remains, like the bias"),
        mistake(lambda x, w, g: (g @ w, g.T @ x, g), *BROADCAST_SUM),
        mistake(lambda x, w, g: (g @ w, g.T @ x, g.sum(axis=0, keepdims=True)), "your bias gradient has shape (1, "
                "out); the bias has shape (out,). The summed dim must go away",
                "sum without keepdims"),
        mistake(lambda x, w, g: (g @ w, g.T @ x, g.sum(axis=0, keepdims=True).squeeze()),
                "your bias gradient has shape (), and the bias of a layer with one output feature has shape (1,): "
                "squeeze() drops every dim of size 1, the output dim too, not only the summed one",
                "sum over the batch axis without keepdims: only that axis goes away"),
        mistake(lambda x, w, g: (g @ w.T, g.T @ x, g.sum(axis=0)),  # right only in shape, and only for a square weight
                "dL/dx has a wrong arrangement of the weight (the shapes only fit here because it is square). "
                "y = x @ W.T is the matmul with W.T in the place of w, and (W.T).T is W",
                "grad is (n, out) and the weight (out, in): the product with shape (n, in) needs no transpose"),
        mistake(lambda x, w, g: (g @ w, g.T @ x, g[0]), "your bias gradient is the first example's gradient alone: the "
                "same bias is added to every example of the batch, so each example sends its own gradient to it and "
                "they add up",
                "sum grad over the batch axis, axis 0"),
        mistake(lambda x, w, g: (g @ w, g.T @ x, g.sum()), "your bias gradient is one number, the sum of every entry "
                "of grad. The bias has one entry per output feature, and each gets the sum over the batch of its own "
                "column of grad",
                "sum over the batch axis only, axis 0"),
        mistake(lambda x, w, g: (g.T @ x, g @ w, g.sum(axis=0)), "your first two results are swapped: return (dL/dx, "
                "dL/dweight, dL/dbias), in the order of the inputs x, weight, bias"),
        mistake(lambda x, w, g: (g @ w, x.T @ g, g.sum(axis=0)), "your dL/dweight is the transpose of the right one: "
                "it must have the weight's layout (out, in), and yours is (in, out)",
                "from y[i, o] = sum_j x[i, j] W[o, j]: dL/dW[o, j] sums grad[i, o] x[i, j] over the batch i; order the "
                "factors so that o comes first"),
    ],
)


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
    return _central_differences(f, np.array(x, dtype=np.float64), h)


def _central_differences(f, work, h, indices=np.ndindex):
    """The central difference for each of ``indices(work.shape)``, nudged in place and put back one at a time (the
    reference passes a float64 copy of x; the mistakes pass others)."""
    grad = np.zeros(work.shape)
    for i in indices(work.shape):
        old = work[i].copy()
        work[i] = old + h
        plus = f(work)
        work[i] = old - h
        minus = f(work)
        work[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


SQUARE_SIN = ScalarFunction("sum(x**2 * sin(x))", lambda x: np.sum(x ** 2 * np.sin(x)))


def _numerical_cases(rng):
    c, a = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    weighted_tanh = ScalarFunction("sum(tanh(x) * C)", lambda x: np.sum(np.tanh(x) * c))
    quadratic = ScalarFunction("x @ A @ x", lambda x: x @ a @ x)
    logsumexp = ScalarFunction("log(sum(exp(x)))", lambda x: np.log(np.sum(np.exp(x))))
    wavy = ScalarFunction("sum(sin(x)) + 0.05 * sum(x**2)", lambda x: np.sum(np.sin(x)) + 0.05 * np.sum(x ** 2))
    sin3 = ScalarFunction("sum(sin(3 * x))", lambda x: np.sum(np.sin(3 * x)))
    quartic = ScalarFunction("sum(x**4) / 4", lambda x: np.sum(x ** 4) / 4)
    cubic = ScalarFunction("sum(x**3) + sum(x)", lambda x: np.sum(x ** 3) + np.sum(x))
    cubed_at_zero = ScalarFunction("1e12 * sum(x**3)", lambda x: 1e12 * np.sum(x ** 3))
    return [
        Case((SQUARE_SIN, np.array([0.5, -1.0, 2.0])), visible=True),
        Case((weighted_tanh, rng.standard_normal((3, 4))), "a 3 x 4 matrix input"),
        Case((quadratic, rng.standard_normal(4)), "a quadratic form x @ A @ x, where every x_i affects every term"),
        Case((logsumexp, rng.standard_normal(5)), "log-sum-exp, with h = 1e-4", {"h": 1e-4}),
        Case((wavy, 10 * rng.standard_normal(6)), "large inputs"),
        Case((SQUARE_SIN, np.array([0.0, 0.0, 1.0])), "zeros in x"),
        Case((sin3, rng.standard_normal(4)), "a coarse step h = 0.05", {"h": 0.05}),
        Case((quartic, rng.standard_normal((2, 3)), 0.02), "h = 0.02, given as the third argument"),
        Case((cubic, np.array([1, -2, 3, 0])), "x is an array of integers, h = 0.1", {"h": 0.1}),
        Case((cubed_at_zero, np.array([0.0, 1e-3, 0.0, -2e-3])), "x**3 at and near 0: at 0 its slope is 0, and the "
             "central difference of 1e12 * x**3 is 1e12 * h**2, which shows the h used"),
        # a float32 working copy (x.copy() of a float32 x) rounds x[i] +- 1e-5 to 7 digits: errors of about 1e-3
        Case((SQUARE_SIN, rng.standard_normal(5).astype(np.float32)), "x is a float32 array"),
    ]


ROUNDED = "x came back changed by rounding"


class ExactnessError(ValueError):
    """Raised by ``_Watching``; ``_x_left_bit_for_bit`` judges ``{ROUNDED: text}``, which ``_Float64Estimates``
    refuses with its text."""


class _Watching(ScalarFunction):
    """The case's f, which also checks each x it is given: an element not being nudged that is a few units in the
    last place off was put back by arithmetic (x[i] += h ... x[i] -= 2h ... x[i] += h), which rounds (0.5 comes back
    as 0.49999999999999994). One off by much more (by h: never put back) is left to the mistakes; the caller's x
    itself, nudged in place, is reported as an input changed in place."""

    def __init__(self, f, x):
        super().__init__(f.text, f.f)
        self.x0, self.callers, self.nudged_callers = np.array(x, dtype=np.float64), x, False

    def __call__(self, x):
        seen = np.asarray(x, dtype=np.float64)
        if isinstance(x, np.ndarray) and np.shares_memory(x, self.callers) and (seen != self.x0).any():
            self.nudged_callers = True  # the caller's own x, nudged in place: reported after the call
        if seen.shape == self.x0.shape and x is not self.callers:
            off = (seen != self.x0) & (np.abs(seen - self.x0) <= 4 * np.spacing(np.abs(self.x0)))
            if off.any():
                i = tuple(int(k) for k in np.argwhere(off)[0])
                where = i[0] if len(i) == 1 else i
                raise ExactnessError(
                    f"x[{where}] came back changed by rounding: after its nudges, f was given x[{where}] = "
                    f"{float(seen[i])!r} where the caller's x holds {float(self.x0[i])!r} (adding h and taking it "
                    "away again rounds). Save the old value of x[i] before the nudges, and assign it back after them")
        return super().__call__(x)


def _x_left_bit_for_bit(fn, args, kwargs):
    """What the check judges: the result of ``fn``, after which the caller's x must be as it was, bit for bit: an
    undone nudge (x[i] += h, x[i] -= 2h, x[i] += h) is off by rounding (5.6e-17 on the notebook's example), which the
    generic test of the inputs (rtol 1e-9) cannot see, so each element off in any bit is made nan, which it reports
    as an input changed in place; so is an x nudged while f ran, even if put back exactly (issue 46)."""
    x = args[1] if len(args) > 1 else None
    before = x.copy() if isinstance(x, np.ndarray) and x.dtype.kind == "f" else None
    watching = _Watching(args[0], x) if args and isinstance(args[0], ScalarFunction) and isinstance(x, np.ndarray) \
        else None
    try:
        result = fn(*((watching, *args[1:]) if watching else args), **kwargs)
    except ExactnessError as rounded:  # a failure the check found, not an error of the learner's code
        result = {ROUNDED: str(rounded)}
    if before is not None and x.shape == before.shape:
        moved = (x != before) & ~(np.isnan(x) & np.isnan(before))
        if watching and watching.nudged_callers:
            moved.flat[0] = True
        x[moved] = np.nan
    return result


class _Float64Estimates(ArrayAnswer):
    """An array whose floating-point results are float64, as the text asks and the lesson's other exercises do
    (mul_backward refuses float32 too); integer results are left to the mistakes, whose hints name the integer x.
    Its refusal of a float32 array says the fix: the generic float32 hint ("keep the inputs' dtype") would not."""
    says_float32_fix = True

    def refuse(self, got, expected=None):
        if isinstance(got, dict) and isinstance(got.get(ROUNDED), str):  # (_x_left_bit_for_bit)
            return got[ROUNDED]
        failure = super().refuse(got, expected)
        if failure is None and got.dtype.kind == "f" and got.dtype.itemsize < 8:
            unit = float(np.finfo(got.dtype).eps) / 2  # the largest relative rounding error: 6e-8 for float32
            return (f"you returned a {got.dtype.name} array; a float64 array was expected: rounding the estimates "
                    f"to {got.dtype.name} changes them by up to {unit:.0e} relative, far more than the error of "
                    "about 1e-11 that central differences can reach in float64 (section 12). Gradient checks use "
                    "float64: return your float64 estimates as they are")
        return failure


def _shifted(x, i, d):
    y = x.copy()
    y[i] += d
    return y


def _elementwise(estimate):
    """A wrong numerical_grad: grad[i] = estimate(f, x, i, h) for each element of a float64 copy of x."""
    def numerical_grad(f, x, h=1e-5):
        x = np.array(x, dtype=np.float64)
        out = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            out[i] = estimate(f, x, i, h)
        return out
    return numerical_grad


def _relative_step(scale):
    """Central differences with a step scaled by the size of x[i] (h * scale(|x[i]|)), not h itself."""
    def estimate(f, x, i, h):
        s = h * scale(abs(x[i]))
        return (f(_shifted(x, i, s)) - f(_shifted(x, i, -s))) / (2 * s)
    return _elementwise(estimate)


def _in_x_dtype(kinds):
    """A wrong numerical_grad: the right estimates in x's own dtype, on a case whose x has one of the numpy dtype
    ``kinds`` ("iu": integers, cut to whole numbers; "f": a float32 x's float32). On the other cases it cannot
    happen (it raises), so that each hint names the dtype the case's x has."""
    def numerical_grad(f, x, h=1e-5):
        dtype = np.asarray(x).dtype
        if dtype.kind not in kinds:
            raise ValueError(f"x is {dtype}: this mistake needs an x of the kinds {kinds!r}")
        return numerical_grad_reference(f, x, h).astype(dtype)
    return numerical_grad


def _all_at_once(f, x, h):
    """One estimate for all of x: every element nudged at once."""
    x = np.array(x, dtype=np.float64)
    return (f(x + h) - f(x - h)) / (2 * h)


@_elementwise
def _not_restored(f, x, i, h):
    """x[i] += h, f, x[i] -= 2h, f, and x[i] is never put back: later elements see earlier ones moved by -h."""
    x[i] += h
    plus = f(x)
    x[i] -= 2 * h
    return (plus - f(x)) / (2 * h)


def _divided_as_a_over_2_times_h(got, expected, case):
    """(f(x + h) - f(x - h)) / 2 * h's answer, matched relative to its values, about h^2 times the right ones (at the
    judging atol, zeros would match it too and get this hint for another mistake; review of issue 46)."""
    wrong = _elementwise(lambda f, x, i, h: (f(_shifted(x, i, h)) - f(_shifted(x, i, -h))) / 2 * h)(
        *case.args, **case.kwargs)
    got, wrong = np.asarray(got, dtype=np.float64), np.asarray(wrong, dtype=np.float64)
    return bool(got.shape == wrong.shape and np.abs(wrong).max(initial=0.0) > 0
                and np.allclose(got, wrong, rtol=1e-6, atol=0.0))


def _all_zero_where_not(got, expected, case):
    """Every estimate 0 where the right ones are not: f saw no difference between the two nudges."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return bool(got.shape == expected.shape and (got == 0).all() and (np.abs(expected) > 1e-6).any())


# (a default changed, or a fixed step in the body whatever h is: on a case called without h, the two look alike)
OWN_DEFAULT_H = ("your estimates agree with central differences at a step other than h=1e-5, the default in the "
                 "exercise's signature, which this case uses: most of the check's cases call your function without h. "
                 "Keep that default as given, and compute with the argument h itself, not a fixed step",
                 "keep the signature of the exercise as it is, default value of h included, and use h in the formula")
ONE_SIDED = ("you used a one-sided difference, whose error shrinks only like h. The central difference nudges x[i] "
             "both ways, and its error shrinks like h^2",
             "evaluate f at x[i] + h and at x[i] - h, and divide the difference by the distance between those two "
             "points")
INTEGER_X = ErrorHint(
    r"Cannot cast ufunc '\w+' output from dtype\('float64'\) to dtype\('int",
    "x holds integers in this case, and an integer array cannot hold x[i] + h: work on a float64 copy of x (which also "
    "leaves the caller's x as it was)",
    "np.array(x, dtype=...) makes a copy with the dtype you give it")

array_function(
    "03.numerical_grad", numerical_grad_reference, _numerical_cases,
    call=_x_left_bit_for_bit,  # the caller's x must come back exactly, not up to rounding
    # and be left alone while f runs (issue 46: np.asarray makes no copy of a float64 x)
    in_place_hint=("the caller's x was nudged while f ran, even if every element was put back afterwards: x[i] = ... "
                   "on the array you were given, or on one that shares its memory, changes the caller's (and f may "
                   "read it). Nudge a float64 copy of x instead",
                   "np.asarray(x, dtype=...) and x.astype(..., copy=False) return x itself when it already has the "
                   "dtype asked for; np.array(x, dtype=...) always makes a copy"),
    answer=_Float64Estimates(), generic_hints=("sign", "factor"), error_hints=[INTEGER_X],
    # the library's own central differences (gradcheck's helper), and PyTorch's, public or not (its central
    # differences in one call); the text's building blocks: arithmetic on numpy arrays and calls of f (numpy's own
    # functions are not catalogued: copies, np.ndindex, np.zeros_like pass)
    forbid=(numeric_jacobians, "torch.autograd.gradcheck.get_numerical_jacobian",
            "torch.autograd.gradcheck._get_numerical_jacobian"),
    allow=("arithmetic",), points=2,
    # float64's precision (issue 32), as far as central differences allow: right ways to write them (x[i] + h on a
    # copy, f(x + h e_i), a division by the distance (x[i] + h) - (x[i] - h)) differ by about 1e-16 |x| / h, 1e-10
    # of the estimate for |x| up to 30; rounding to float32 on the way changes them by about 1e-7
    judge=Within(1e-8, 1e-9), judge64=Within(1e-8, 1e-9),
    mistakes=[
        mistake(_elementwise(lambda f, x, i, h: (f(_shifted(x, i, h)) - f(x)) / h), *ONE_SIDED),
        mistake(_elementwise(lambda f, x, i, h: (f(x) - f(_shifted(x, i, -h))) / h), *ONE_SIDED),
        mistake(_elementwise(lambda f, x, i, h: (f(_shifted(x, i, h)) - f(x)) / (2 * h)), "your difference spans "
                "only h, from x[i] to x[i] + h, yet is divided by 2h: the central difference's second point is x[i] - "
                "h, nudged down (was x[i] put back instead?)", ONE_SIDED[1]),
        mistake(_elementwise(lambda f, x, i, h: (f(_shifted(x, i, h)) - f(_shifted(x, i, -h))) / h),
                "the two points x + h and x - h are 2h apart: the difference is divided by that distance",
                "divide by 2 * h, not by h"),
        recognised(_divided_as_a_over_2_times_h, "check the division: in Python, a / 2 * h means (a / 2) * h",
                   "put the whole denominator in parentheses"),
        recognised(_all_zero_where_not, "every estimate is 0: f gave the same number for the nudge up and the nudge "
                   "down. Were the two nudged points one array? `xm = xp` or `xp = x` gives a second name for the same "
                   "array, not a copy, so the second nudge overwrote the first before f saw it",
                   "make each nudged point its own array (a copy), or nudge one copy, evaluate f, then nudge it the "
                   "other way and evaluate f again"),
        # (a step relative to |x[i]|: h * |x[i]| gives 0 / 0 where x[i] is 0, unless it falls back to h there)
        *(mistake(_relative_step(scale), "your step depends on the size of x[i] (h scaled by |x[i]|, or by "
                  "max(1, |x[i]|) or 1 + |x[i]|): the exercise's central difference nudges every element by h itself, "
                  "whatever its size, and with a coarse h the two differ",
                  "use h as given, not scaled by x")
          for scale in (lambda a: a, lambda a: a if a else 1.0, lambda a: max(1.0, a), lambda a: 1.0 + a)),
        *(mistake(lambda f, x, h=default: numerical_grad_reference(f, x, h), *OWN_DEFAULT_H)
          for default in (1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-7, 1e-8, 1e-9)),
        mistake(lambda f, x, h=1e-5: _central_differences(f, np.array(x, dtype=np.float32), h),
                "your nudged values were rounded to float32, which keeps about 7 digits: a float32 copy of x, or "
                "x[i] + h computed from the caller's float32 x (a float32 number plus a Python float stays float32 in "
                "numpy), so the difference f(x + h) - f(x - h) loses most of its digits. Gradient checks use float64",
                "make a float64 copy of x (np.float64), and compute the nudged values from the copy"),
        mistake(lambda f, x, h=1e-5: _central_differences(f, np.array(x, dtype=np.float64), h / 2),  # / (2 * h/2)
                "you nudged x[i] by h/2 each way: the exercise's central difference nudges it by h up and by h down, "
                "and divides by the distance 2h. With a coarse h the two give different numbers",
                "evaluate f at x[i] + h and at x[i] - h"),
        # for i in range(len(x)): x[i] += h ...: on a 2-D x each step nudges a whole row (and fills a row of the result)
        mistake(lambda f, x, h=1e-5: _central_differences(f, np.array(x, dtype=np.float64), h, lambda s: range(s[0])),
                "range(len(x)) runs over the first dim only: for a 2-D x, x[i] is a whole row, and your nudge moved "
                "every element of that row at once. Each element needs its own nudge",
                "np.ndindex(x.shape) yields the index of every element, for any number of dims"),
        *(mistake(wrong, "you nudged every element of x at once, which measures the sum of all the partial "
                  "derivatives, not the one of x[i]. Each element needs its own two evaluations of f, with only that "
                  "element moved",
                  "loop over the indices of x (np.ndindex(x.shape)) and move one element at a time")
          for wrong in (lambda f, x, h=1e-5: np.asarray(_all_at_once(f, x, h)),  # returned as it is, or written into
                        lambda f, x, h=1e-5: np.full(np.shape(x), _all_at_once(f, x, h)))),  # each entry
        mistake(_not_restored, "after the two evaluations for x[i], x[i] must get its old value back: otherwise the "
                "next elements are measured at a point that has moved",
                "keep the old value of x[i] and put it back before the next element"),
        # x.copy() of an integer x is an integer array: x[i] = old + h is stored rounded, and every difference is 0
        mistake(lambda f, x, h=1e-5: _central_differences(f, np.array(x), h), "x holds integers in this case, and so "
                "does any array made from it without a dtype (x itself, x.copy()): x[i] = old + h is then stored "
                "rounded back to a whole number, and f never sees the nudge. Work on a float64 copy of x",
                "np.array(x, dtype=...) makes a copy with the dtype you give it"),
        # np.zeros_like(x) of an integer x: every estimate stored into it is cut to a whole number
        mistake(_in_x_dtype("iu"),
                "x holds integers in this case, and so does your result: an array made like x (np.zeros_like) stores "
                "each estimate cut to a whole number. Make the result a float64 array",
                "create the result from your float64 copy of x, not from x itself"),
        # right estimates returned in a float32 x's dtype: x's dtype kept at the end (.astype), or a result made like
        # the caller's x (the refusal says float64 was expected; this says why x's dtype is not the rule here)
        mistake(_in_x_dtype("f"),
                "x is float32 in this case, and so is your result: numerical_grad returns a float64 array whatever "
                "x's dtype, as the exercise says. Its estimates are worked out in a float64 copy of x, and rounding "
                "them to float32 keeps about 7 of their digits, too few for a gradient check: keeping the input's "
                "dtype is the rule for the op backwards' gradients, not for these estimates",
                "return the float64 array the estimates were stored in: no conversion to x's dtype at the end, and a "
                "result made from your float64 copy of x, not from the caller's x nor with its dtype"),
        # the fourth-order stencil, more accurate, not the one asked (after the integer mistakes: on the integer case, a
        # result cut to whole numbers equals this stencil's)
        mistake(_elementwise(lambda f, x, i, h: (-f(_shifted(x, i, 2 * h)) + 8 * f(_shifted(x, i, h))
                                                 - 8 * f(_shifted(x, i, -h)) + f(_shifted(x, i, -2 * h))) / (12 * h)),
                "you used another stencil than the central difference (f(x + h) - f(x - h)) / 2h, which is what the "
                "exercise asks for and what gradient checks use. With a coarse h the two give different numbers",
                "evaluate f only at x[i] + h and x[i] - h"),
        recognised(lambda got, expected, case: np.asarray(case.args[1]).dtype.kind in "iu",
                   "x holds integers in this case: an integer array stores every value written into it cut to a whole "
                   "number, so x[i] + h cannot be held by x itself or by an array made from it without a dtype. Work "
                   "on a float64 copy of x (which also leaves the caller's x as it was)",
                   "np.array(x, dtype=...) makes a copy with the dtype you give it; make the result float64 too"),
    ],
)
