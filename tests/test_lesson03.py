"""Lesson 03 (the backward pass): the answers learners write for each exercise, the lesson's special cases,
and ``draw_graph``.

``tests/test_lessons.py`` runs the generic tests on the data here: ``SOLUTIONS`` and ``ALSO_RIGHT`` pass; every
row of ``WRONG`` fails, and of ``ERRORS`` is an error, with the texts it lists (a Mistake's hint, a generic hint,
or what the answer kind refuses: a Tensor or a list where a numpy array is due, an input changed in place, an
ignored argument); every hint tier is reached by a row. This file adds what is lesson 03's own: the state a
product's backward must leave (it ADDS into .grad), the hidden cases that make ignoring ``h`` or overwriting a
gradient fail, the notebook showing each visible example with the check's numbers, no finished line of code in
an exercise text or a first hint, the zero-grad plot behaving as the notebook says, and ``draw_graph``.
"""
import ast
import copy
import re
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from lesson_helpers import (
    ALLOWS,
    assert_error,
    assert_fails_with,
    define,
    exercise_cells,
    finished_lines_shown,
    notebooks,
    verdict,
)
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path as MplPath

import tinygrad_lite as tl
from tinygrad_lite import nn
from tinygrad_lite.autograd.engine import graph_order
from tinygrad_lite.course import draw_graph
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.exercises.lesson03 import (
    GraphNode,
    after_backward,
    product,
    sum_to_shape,
)
from tinygrad_lite.course.graph import _layout
from tinygrad_lite.course.notebooks import meta, read_notebook

LESSON = "03_backward_pass"
SOLUTION, RELEASED = notebooks(LESSON)
IDS = ["03.value_mul_backward", "03.topological_order", "03.mul_backward", "03.relu_backward", "03.matmul_backward",
       "03.linear_backward", "03.numerical_grad"]
NAMES = {"np": np, "sum_to_shape": sum_to_shape}  # what the notebook's earlier cells define


# -------------------------------------------------------------------- solutions, as a learner would write them
def value_mul_backward(a, b, out):
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


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


SOLUTIONS = {"03.value_mul_backward": value_mul_backward, "03.topological_order": topological_order,
             "03.mul_backward": mul_backward, "03.relu_backward": relu_backward,
             "03.matmul_backward": matmul_backward, "03.linear_backward": linear_backward,
             "03.numerical_grad": numerical_grad}


# -------------------------------------------------------------------- other right answers
def value_mul_backward_in_steps(a, b, out):
    share_a, share_b = b.data * out.grad, a.data * out.grad  # both shares first: also right when a is b
    a.grad = a.grad + share_a
    b.grad = b.grad + share_b


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


def numerical_grad_with_copies(f, x, h=1e-5):
    x = np.asarray(x, dtype=float)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def numerical_grad_flat(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    flat, grad = x.reshape(-1), np.zeros(x.size)
    for k in range(x.size):
        old = flat[k]
        flat[k] = old + h
        plus = f(x)
        flat[k] = old - h
        grad[k] = (plus - f(x)) / (2 * h)
        flat[k] = old
    return grad.reshape(x.shape)


def value_mul_backward_by_pairs(a, b, out):
    for v, other in ((a, b), (b, a)):   # each input with the other factor; a * a: both turns go to a
        v.grad += other.data * out.grad


def topological_order_kahn(root):
    """Kahn's algorithm: collect the graph, then list a node once all of its inputs are listed."""
    nodes, stack = [], [root]
    while stack:
        v = stack.pop()
        if all(v is not n for n in nodes):
            nodes.append(v)
            stack += list(v.inputs)
    waiting = {id(v): len({id(p) for p in v.inputs}) for v in nodes}
    users = {id(v): [] for v in nodes}
    for v in nodes:
        for p in {id(p): p for p in v.inputs}.values():
            users[id(p)].append(v)
    ready, order = [v for v in nodes if waiting[id(v)] == 0], []
    while ready:
        v = ready.pop()
        order.append(v)
        for u in users[id(v)]:
            waiting[id(u)] -= 1
            if waiting[id(u)] == 0:
                ready.append(u)
    return order


def topological_order_moved_to_the_end(root):
    """Breadth-first from the root, a node met again moved to the end; reversed, that lists inputs first. Wrong
    since review 0203b: the queue holds a node once per path to it, 2**16 entries for v = v * v done 16 times."""
    order, queue = [], [root]
    while queue:
        v = queue.pop(0)
        if v in order:
            order.remove(v)
        order.append(v)
        queue += list(v.inputs)
    return order[::-1]


def reduce_to_shape(g, shape):
    """sum_to_shape written out: the dims broadcasting added in front, then those it stretched from 1."""
    g = np.asarray(g)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def matmul_backward_by_rows(x, w, grad):
    dw = np.zeros_like(w)               # w's dtype: float32 for a float32 layer
    for x_i, g_i in zip(x, grad):       # each row of the batch adds its outer product
        dw += np.outer(x_i, g_i)
    return grad @ w.T, dw


def linear_backward_by_rows(x, weight, grad):
    dx = np.stack([g_i @ weight for g_i in grad])
    dw = sum(np.outer(g_i, x_i) for x_i, g_i in zip(x, grad))
    return dx, dw, grad.sum(axis=0)


def relu_backward_on_a_copy(x, grad):
    out = np.array(grad)                # a copy: zeroing it leaves the caller's grad as it is
    out[x <= 0] = 0.0
    return out


ALSO_RIGHT = [
    ("03.value_mul_backward", value_mul_backward_in_steps),
    ("03.value_mul_backward", value_mul_backward_by_pairs),
    ("03.topological_order", topological_order_iterative),
    ("03.topological_order", topological_order_kahn),
    ("03.mul_backward", lambda x, y, g: (sum_to_shape(np.multiply(g, y), np.shape(x)),
                                         sum_to_shape(np.multiply(g, x), np.shape(y)))),
    ("03.relu_backward", lambda x, grad: np.where(x > 0, grad, 0)),
    ("03.mul_backward", lambda x, y, g: (reduce_to_shape(g * y, np.shape(x)), reduce_to_shape(g * x, np.shape(y)))),
    ("03.relu_backward", lambda x, grad: grad * np.heaviside(x, 0)),
    ("03.relu_backward", relu_backward_on_a_copy),
    ("03.matmul_backward", lambda x, w, g: [np.dot(g, w.T), np.dot(x.T, g)]),  # a list of the two is fine
    ("03.matmul_backward", matmul_backward_by_rows),
    ("03.matmul_backward", lambda x, w, g: (np.einsum("ij,kj->ik", g, w), np.einsum("ip,ij->pj", x, g))),
    ("03.linear_backward", lambda x, w, g: (g @ w, (x.T @ g).T, np.sum(g, axis=0))),
    ("03.linear_backward", linear_backward_by_rows),
    ("03.linear_backward", lambda x, w, g: (np.einsum("no,oi->ni", g, w), np.einsum("no,ni->oi", g, x),
                                            np.einsum("no->o", g))),
    ("03.numerical_grad", numerical_grad_with_copies),
    ("03.numerical_grad", numerical_grad_flat),
]


# -------------------------------------------------------------------- wrong versions, as learners write them
# 03.value_mul_backward
def vm_overwrite(a, b, out):
    a.grad = b.data * out.grad
    b.grad = a.data * out.grad


def vm_overwrite_one(a, b, out):
    a.grad += b.data * out.grad
    b.grad = a.data * out.grad


def vm_own_factor(a, b, out):
    a.grad += a.data * out.grad
    b.grad += b.data * out.grad


def vm_local_only(a, b, out):
    a.grad += b.data
    b.grad += a.data


def vm_out_data(a, b, out):
    a.grad += b.data * out.data
    b.grad += a.data * out.data


def vm_other_grad(a, b, out):
    a.grad += b.grad * out.grad
    b.grad += a.grad * out.grad


def vm_returns_shares(a, b, out):
    return b.data * out.grad, a.data * out.grad


def vm_does_nothing(a, b, out):
    share_a, share_b = b.data * out.grad, a.data * out.grad  # computed, never added  # noqa: F841


def vm_resets_out_grad(a, b, out):
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad
    out.grad = 0.0  # "used up"


def vm_changes_data(a, b, out):
    a.data += b.data * out.grad  # .data for .grad
    b.grad += a.data * out.grad


def vm_uses_values(a, b, out):
    a.grad += b * out.grad   # the Value b, not the number b.data
    b.grad += a * out.grad


# 03.topological_order
def topo_no_seen_set(root):
    order = []

    def visit(v):
        for p in v.inputs:
            visit(p)
        order.append(v)
    visit(root)
    return order


def topo_leaves_by_op(root):  # (review 0203) a leaf is a node without an op, as in the notebook's Value
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            if v.op:
                for p in v.inputs:
                    visit(p)
            order.append(v)
    visit(root)
    return order


ALSO_RIGHT += [("03.topological_order", topo_leaves_by_op)]


def topo_preorder(root):
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            order.append(v)  # before the inputs: the root comes first
            for p in v.inputs:
                visit(p)
    visit(root)
    return order


def topo_breadth_first_backwards(root):  # not a topological order in general
    order, queue, seen = [], [root], {root}
    while queue:
        v = queue.pop(0)
        order.append(v)
        for p in v.inputs:
            if p not in seen:
                seen.add(p)
                queue.append(p)
    return order[::-1]


def topo_generator(root):
    seen = set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for p in v.inputs:
                yield from visit(p)
            yield v
    return visit(root)


# 03.mul_backward
def mul_without_broadcast_sum(x, y, g):
    return g * y, g * x  # no sum over the broadcast dims


def mul_sums_everything(x, y, g):
    dx, dy = g * y, g * x
    if dx.shape != np.shape(x):
        dx = dx.sum()
    if dy.shape != np.shape(y):
        dy = dy.sum()
    return dx, dy


def mul_sums_axis0(x, y, g):
    dx, dy = g * y, g * x
    if dx.shape != np.shape(x):
        dx = dx.sum(axis=0)
    if dy.shape != np.shape(y):
        dy = dy.sum(axis=0)
    return dx, dy


def mul_grad_in_place(x, y, grad):
    dy = sum_to_shape(grad * x, np.shape(y))
    grad *= y                       # reuses grad's memory: the caller's grad is changed
    return sum_to_shape(grad, np.shape(x)), dy


def mul_tensors(x, y, grad):
    x, y, grad = tl.tensor(x), tl.tensor(y), tl.tensor(grad)
    return grad * y, grad * x


def mul_item(x, y, grad):
    dx, dy = sum_to_shape(grad * y, np.shape(x)), sum_to_shape(grad * x, np.shape(y))
    return (dx.item() if dx.ndim == 0 else dx), dy   # a single number for a 0-d x


# 03.relu_backward
def relu_grad_in_place(x, grad):
    grad[x <= 0] = 0                # zeroes the caller's upstream gradient
    return grad


def relu_x_in_place(x, grad):
    x[x < 0] = 0                    # the forward input, changed
    return grad * (x > 0)


def relu_list(x, grad):
    return [[g if v > 0 else 0.0 for v, g in zip(row_x, row_g)] for row_x, row_g in zip(x, grad)]


# 03.matmul_backward
def square_only(wrong):
    """``wrong`` where x, w and grad are square (there its shapes fit), the right answer elsewhere."""
    def fn(x, w, g):
        return wrong(x, w, g) if x.shape[1] == w.shape[1] == g.shape[1] else matmul_backward(x, w, g)
    return fn


# 03.linear_backward
def linear_x_grad_transposed_when_square(x, w, g):
    return (g @ w.T if w.shape[0] == w.shape[1] else g @ w), g.T @ x, g.sum(axis=0)


# 03.numerical_grad
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


def own_step(f, x, h=1e-5):
    eps = 1e-5                      # a step of its own; h is never used
    return central(f, x, eps, lambda d, h: d / (2 * h))


def plain_copy(f, x, h=1e-5):
    x = x.copy()                    # keeps an integer x integer
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def result_like_x(f, x, h=1e-5):
    grad = np.zeros_like(x)         # an integer array when x is one
    x = np.array(x, dtype=float)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def no_copy(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(x.shape):
        x[i] += h                   # the caller's array, nudged ...
        plus = f(x)
        x[i] -= 2 * h
        minus = f(x)
        x[i] += h                   # ... and "restored", up to rounding
        grad[i] = (plus - minus) / (2 * h)
    return grad


def unit_vector_in_place(f, x, h=1e-5):
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = 1.0
        x += h * e                  # in place, on the caller's x
        plus = f(x)
        x -= 2 * h * e
        minus = f(x)
        x += h * e
        grad[i] = (plus - minus) / (2 * h)
    return grad


def unit_vector_on_a_plain_copy(f, x, h=1e-5):
    x = x.copy()                    # a copy that keeps an integer x integer: x += h * e cannot be stored
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(x.shape):
        old = x[i]
        e = np.zeros(x.shape)
        e[i] = 1.0
        x += h * e
        plus = f(x)
        x -= 2 * h * e
        minus = f(x)
        x[i] = old                  # (put back exactly: on a float x this is right)
        grad[i] = (plus - minus) / (2 * h)
    return grad


def plain_copy_restored_by_arithmetic(f, x, h=1e-5):
    x = x.copy()                    # the caller's x is safe; an integer x stays integer, so each nudge is cut
    grad = np.zeros(np.shape(x))
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h               # down from the nudged value, which an integer x has cut
        minus = f(x)
        x[i] = old                  # (put back exactly: on a float x this is right)
        grad[i] = (plus - minus) / (2 * h)
    return grad


def as_list(f, x, h=1e-5):
    return [numerical_grad(f, x, h)[i] for i in range(len(x))]


WRONG = [
    # 03.value_mul_backward
    ("03.value_mul_backward", vm_overwrite, "instead of adding to it"),
    ("03.value_mul_backward", vm_overwrite_one, "instead of adding to it"),
    ("03.value_mul_backward", vm_own_factor, "with respect to THAT input"),
    ("03.value_mul_backward", vm_local_only, "you sent the local derivatives alone"),
    ("03.value_mul_backward", vm_out_data, "out.data is the product's value"),
    ("03.value_mul_backward", vm_other_grad, "b.grad is b's gradient"),
    ("03.value_mul_backward", vm_returns_shares, "and left the gradients as they were"),
    ("03.value_mul_backward", vm_does_nothing, "a.grad and b.grad are unchanged after your function"),
    ("03.value_mul_backward", vm_resets_out_grad, "changed out.grad"),
    ("03.value_mul_backward", vm_changes_data, "changed a.data"),
    ("03.value_mul_backward", vm_uses_values, "became a Value"),
    # 03.topological_order
    ("03.topological_order", topo_no_seen_set, "appears 3 times", "remember which nodes you have visited"),
    ("03.topological_order", topo_preorder, "every node comes before its inputs (the root first)",
     "only once all of its inputs are in it"),
    ("03.topological_order", topo_breadth_first_backwards, "comes before its input", "a breadth-first walk"),
    ("03.topological_order", lambda root: [*root.inputs, root], "missing", "and their inputs in turn"),
    ("03.topological_order", lambda root: [v.label for v in topological_order(root)],
     "the list should hold the nodes themselves"),
    ("03.topological_order", lambda root: set(topological_order(root)), "expected a list of nodes, got set"),
    ("03.topological_order", lambda root: None, "did you forget to return"),
    ("03.topological_order", topo_generator, "expected a list of nodes, got generator"),
    # 03.mul_backward
    ("03.mul_backward", lambda x, y, g: (sum_to_shape(g * x, np.shape(x)), sum_to_shape(g * y, np.shape(y))),
     "with respect to THAT input"),
    ("03.mul_backward", lambda x, y, g: (y, x), "you returned the local derivatives alone"),
    ("03.mul_backward", mul_without_broadcast_sum, "the SUM of the gradients of all its copies"),
    ("03.mul_backward", lambda x, y, g: (sum_to_shape(g * y, np.shape(x)), (g * x).mean(axis=0)),
     "not their mean"),
    ("03.mul_backward", mul_sums_everything, "Sum only over the dims that broadcasting"),
    ("03.mul_backward", mul_sums_axis0, "which dims to sum"),
    ("03.mul_backward", mul_grad_in_place, "changed its input `grad` in place"),
    ("03.mul_backward", mul_tensors, "this exercise works on numpy arrays"),
    ("03.mul_backward", mul_item, "hidden case 5", "you returned a Python float", ".item()"),
    ("03.mul_backward", lambda x, y, g: sum_to_shape(g * y, np.shape(x)), "results"),
    # 03.relu_backward
    ("03.relu_backward", lambda x, g: g * (x >= 0), "the inputs that are exactly 0"),
    ("03.relu_backward", lambda x, g: (x > 0).astype(float), "you returned relu's local derivative"),
    ("03.relu_backward", lambda x, g: g * np.maximum(x, 0), "you multiplied by relu(x)"),
    ("03.relu_backward", lambda x, g: np.maximum(g, 0), "you applied relu to the gradient"),
    ("03.relu_backward", lambda x, g: g * (x < 0), "the mask is the wrong way round"),
    ("03.relu_backward", relu_grad_in_place, "changed its input `grad` in place"),
    ("03.relu_backward", relu_x_in_place, "changed its input `x` in place"),
    ("03.relu_backward", relu_list, "where a numpy array was expected"),
    ("03.relu_backward", lambda x, g: tl.tensor(g) * (tl.tensor(x) > 0), "this exercise works on numpy arrays"),
    # 03.matmul_backward (without the transpose, only square matrices give an answer of the right shape)
    ("03.matmul_backward", lambda x, w, g: (x.T @ g, g @ w.T), "the two gradients are swapped"),
    ("03.matmul_backward", square_only(lambda x, w, g: (g @ w, x.T @ g)), "w's SECOND index"),
    ("03.matmul_backward", square_only(lambda x, w, g: (g @ w.T, x @ g)), "x's FIRST index"),
    ("03.matmul_backward", lambda x, w, g: (g @ w.T, g.T @ x), "your dL/dw is the transpose"),
    ("03.matmul_backward", lambda x, w, g: (w @ g.T, x.T @ g), "your dL/dx is the transpose"),
    ("03.matmul_backward", lambda x, w, g: (g @ w.T, x.T @ g / len(x)), "times too small"),  # generic
    ("03.matmul_backward", lambda x, w, g: (tl.tensor(g) @ tl.tensor(w).T, tl.tensor(x).T @ tl.tensor(g)),
     "this exercise works on numpy arrays"),
    # 03.linear_backward
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g.mean(axis=0)),
     "the bias gradient is the SUM over the batch"),
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g.sum(axis=1)), "you summed over the output features"),
    ("03.linear_backward", lambda x, w, g: (g @ w, x.T @ g, g.sum(axis=0)), "your dL/dweight is the transpose"),
    ("03.linear_backward", linear_x_grad_transposed_when_square, "and (W.T).T is W"),
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g), "the SUM of the gradients of all its copies"),
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g.sum(axis=0, keepdims=True)),
     "The summed dim must go away"),
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x), "you returned 2 results; 3 were expected"),
    # 03.numerical_grad
    ("03.numerical_grad", forward_difference, "one-sided difference"),
    ("03.numerical_grad", lambda f, x, h=1e-5: central(f, x, h, lambda d, h: d / h), "are 2h apart"),
    ("03.numerical_grad", lambda f, x, h=1e-5: central(f, x, h, lambda d, h: d / 2 * h), "(a / 2) * h"),
    ("03.numerical_grad", lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / (2 * h), "nudged every element of x at once"),
    ("03.numerical_grad", x_not_restored, "must get its old value back"),
    ("03.numerical_grad", own_step, "`h` changes nothing in your result"),
    ("03.numerical_grad", plain_copy, "x.copy()"),
    ("03.numerical_grad", result_like_x, "and so does your result"),
    ("03.numerical_grad", no_copy, "the example shown", "changed its input `x` in place"),  # restored up to rounding
    ("03.numerical_grad", plain_copy_restored_by_arithmetic, "hidden case 9",
     "an integer array stores every value written into it cut"),
    ("03.numerical_grad", as_list, "where a numpy array was expected"),
    ("03.numerical_grad", lambda f, x, h=1e-5: central(f, x, h, lambda d, h: -d / (2 * h)), "wrong sign"),  # generic
    ("03.numerical_grad", lambda f, x, h=1e-5: central(f, x, h, lambda d, h: d / (4 * h)),
     "constant factor"),  # generic
]


def vm_one_share_for_a_times_a(a, b, out):
    if a is b:                      # "one Value, one share"
        a.grad += a.data * out.grad
    else:
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad


def vm_quotient(a, b, out):
    a.grad += out.data / a.data * out.grad   # b = out / a: right, until a factor is 0
    b.grad += out.data / b.data * out.grad


def topo_seen_labels(root):
    order, seen = [], set()

    def visit(v):
        if v.label not in seen:     # two different nodes may have one label
            seen.add(v.label)
            for p in v.inputs:
                visit(p)
            order.append(v)
    visit(root)
    return order


def topo_seen_values(root):
    order, seen = [], set()

    def visit(v):
        if v.data not in seen:      # nor are two nodes with one value the same node
            seen.add(v.data)
            for p in v.inputs:
                visit(p)
            order.append(v)
    visit(root)
    return order


def topo_default_list(root, order=[], seen=set()):  # noqa: B006  (the mistake: made once, shared by every call)
    if root not in seen:
        seen.add(root)
        for p in root.inputs:
            topo_default_list(p, order, seen)
        order.append(root)
    return order


_KEPT_ORDER = []


def topo_global_list(root):
    """A new visited set at each call, but one list for every call (a learner's, in review: it was told to keep a
    visited set, which it had)."""
    seen = set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for p in v.inputs:
                visit(p)
            _KEPT_ORDER.append(v)
    visit(root)
    return _KEPT_ORDER


def topo_without_leaves(root):
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for p in v.inputs:
                visit(p)
            if v.inputs:            # only the nodes an op computed
                order.append(v)
    visit(root)
    return order


def numerical_grad_float32(f, x, h=1e-5):
    x = np.array(x, dtype=np.float32)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_grad_half_steps(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h / 2
        plus = f(x)
        x[i] = old - h / 2
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / h
    return grad


def numerical_grad_by_rows(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros(x.shape)
    for i in range(len(x)):         # a whole row at a time when x is 2-D
        old = x[i].copy()
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_grad_flat(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros(x.size)         # one entry per element, but flat: not x's shape
    for k in range(x.size):
        old = x.flat[k]
        x.flat[k] = old + h
        plus = f(x)
        x.flat[k] = old - h
        minus = f(x)
        x.flat[k] = old
        grad[k] = (plus - minus) / (2 * h)
    return grad


# (review 0203) the op's backward handed to the library's autograd: the numbers are right, the backward unwritten
def mul_by_autograd(x, y, grad):
    xt, yt = tl.tensor(x, requires_grad=True), tl.tensor(y, requires_grad=True)
    (xt * yt).backward(tl.tensor(grad))
    return xt.grad.numpy(), yt.grad.numpy()


def relu_by_autograd(x, grad):
    t = tl.tensor(x, requires_grad=True)
    t.relu().backward(tl.tensor(grad))
    return t.grad.numpy()


def matmul_by_autograd_grad(x, w, grad):
    xt, wt = tl.tensor(x, requires_grad=True), tl.tensor(w, requires_grad=True)
    return tuple(g.numpy() for g in tl.autograd.grad(xt @ wt, [xt, wt], tl.tensor(grad)))


def linear_by_autograd(x, w, grad):
    xt, wt = tl.tensor(x, requires_grad=True), tl.tensor(w, requires_grad=True)
    bt = tl.zeros(w.shape[0], requires_grad=True)
    nn.functional.linear(xt, wt, bt).backward(tl.tensor(grad))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def topo_reversed_preorder(root):  # (review 0203) a preorder, reversed: not a topological order in general
    return topo_preorder(root)[::-1]


def numerical_grad_own_default_h(f, x, h=1e-3):  # (review 0203) right, with another default step
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


WRONG += [
    ("03.mul_backward", mul_by_autograd, "write it yourself", "Tensor.backward"),
    ("03.relu_backward", relu_by_autograd, "write it yourself", "Tensor.backward"),
    ("03.matmul_backward", matmul_by_autograd_grad, "write it yourself", "autograd.grad"),
    ("03.linear_backward", linear_by_autograd, "write it yourself", "Tensor.backward"),
    ("03.topological_order", topo_reversed_preorder, "comes before its input", "a depth-first one that lists"),
    ("03.numerical_grad", numerical_grad_own_default_h, "your signature gives h the default 0.001"),
]


# more wrong answers, as learners write them (issue 19): each fails, with a hint where the mistake is a known one
WRONG += [
    ("03.value_mul_backward", vm_one_share_for_a_times_a, "hidden case 5", "it receives both shares"),
    ("03.value_mul_backward", lambda a, b, out: vm_one_share_for_a_times_a(a, b, out) if a.grad == 0 or a is not b
     else value_mul_backward(a, b, out), "hidden case 6", "Expected a.grad = 6 after your function; got a.grad = 3"),
    ("03.topological_order", topo_seen_labels, "hidden case 4", "missing 2", "may carry the same label"),
    ("03.topological_order", topo_seen_values, "hidden case 4", "may carry the same label"),
    ("03.topological_order", topo_default_list, "the nodes of an earlier call"),  # (fails at once when run again)
    ("03.topological_order", topo_global_list, "one after another", "the nodes of an earlier call"),
    ("03.topological_order", topo_without_leaves, "each of them a leaf", "the leaves belong in the list too"),
    ("03.mul_backward", lambda x, y, g: (sum_to_shape(g * g * y, np.shape(x)), sum_to_shape(g * g * x, np.shape(y))),
     "the example shown in the notebook"),  # grad squared
    ("03.relu_backward", lambda x, g: g * np.heaviside(x, 0.5), "exactly 0", "lets (some of) the gradient through"),
    ("03.relu_backward", lambda x, g: g * np.sign(x), "the example shown in the notebook", "expected 0, got -5",
     "np.sign(x) is -1 where x < 0"),  # (the hint since review 0203b)
    ("03.relu_backward", lambda x, g: np.abs(g) * (x > 0), "the example shown in the notebook"),
    ("03.relu_backward", lambda x, g: (g * (x > 0)).astype(int), "the example shown in the notebook", "an int64"),
    ("03.matmul_backward", lambda x, w, g: (g.sum(axis=1, keepdims=True) * w.sum(axis=1), x.T @ g),
     "the example shown in the notebook"),
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g.sum()), "one number, the sum of every entry"),
    ("03.linear_backward", lambda x, w, g: (g.T @ x, g @ w, g.sum(axis=0)), "your first two results are swapped"),
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g[0]), "result 2", "the example shown in the notebook",
     "the first example's gradient alone"),  # (the hint since review 0203b)
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x / len(x), g.sum(axis=0) / len(x)), "times too small"),
    ("03.numerical_grad", numerical_grad_float32, "a float32 copy of x"),
    ("03.numerical_grad", numerical_grad_half_steps, "by h/2 each way"),
    ("03.numerical_grad", numerical_grad_by_rows, "hidden case 2", "range(len(x)) runs over the first dim only"),
    ("03.numerical_grad", numerical_grad_flat, "hidden case 2", "expected shape (3, 4) float64, got shape (12,)"),
    # (review 6 of 0203) right estimates, returned rounded to float32: within rtol 1e-5, refused as in mul_backward
    ("03.numerical_grad", lambda f, x, h=1e-5: numerical_grad(f, x, h).astype(np.float32),
     "the example shown in the notebook", "you returned a float32 array; a float64 array was expected",
     "up to 6e-08 relative"),
]

_SEEN_BY_EVERY_CALL = set()


def topo_global_seen(root):  # (review 0203b) a visited set made once, kept between calls
    order = []

    def visit(v):
        if v in _SEEN_BY_EVERY_CALL:
            return
        _SEEN_BY_EVERY_CALL.add(v)
        for p in v.inputs:
            visit(p)
        order.append(v)
    visit(root)
    return order


def topo_every_path(root):  # (review 0203b) no visited set, repeats removed at the end: a valid order, in 2**n
    order = []

    def visit(v):
        for p in v.inputs:
            visit(p)
        order.append(v)
    visit(root)
    return list(dict.fromkeys(order))


def numerical_grad_with_default(h0):  # (review 0203b) right, with a smaller or larger default step
    def numerical_grad(f, x, h=h0):
        return numerical_grad_own_default_h(f, x, h)
    return numerical_grad


# review 0203b: wrong answers that passed
WRONG += [
    ("03.topological_order", topo_global_seen, "a second call on the same graph", "from one call to the next"),
    ("03.topological_order", topo_every_path, "hidden case 6", "must be visited once"),
    # (it was a right answer until review 0203b: its order is valid, but the queue holds one entry per path)
    ("03.topological_order", topological_order_moved_to_the_end, "hidden case 6", "must be visited once"),
    ("03.mul_backward", lambda x, y, g: tuple(a.astype(np.float32) for a in mul_backward(x, y, g)),
     "result 0: you returned a float32 array", "keep the precision"),
    ("03.relu_backward", lambda x, g: relu_backward(x, g).astype(np.float32), "float32 array", "keep the precision"),
    ("03.matmul_backward", lambda x, w, g: tuple(a.astype(np.float32) for a in matmul_backward(x, w, g)),
     "float32 array", "keep the precision"),
    ("03.linear_backward", lambda x, w, g: tuple(a.astype(np.float32) for a in linear_backward(x, w, g)),
     "float32 array", "keep the precision"),
    ("03.relu_backward", lambda x, g: g * (x > 0.05), "hidden case 7", "however small x is"),
    ("03.relu_backward", lambda x, g: g * (x > 1e-6), "hidden case 7", "however small x is"),
    # (compared at float64's precision, issue 32: a default of 1e-4 or 1e-8 shows on the first cases without h)
    ("03.numerical_grad", numerical_grad_with_default(1e-4), "hidden case 6 of 11",
     "your signature gives h the default 0.0001"),
    ("03.numerical_grad", numerical_grad_with_default(1e-8), "hidden case 2 of 11",
     "your signature gives h the default 1e-08"),
]


def numerical_grad_five_point(f, x, h=1e-5):  # (review 0203b) a more accurate stencil, not the one asked
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        values = []
        for step in (2 * h, h, -h, -2 * h):
            moved = x.copy()
            moved[i] += step
            values.append(f(moved))
        grad[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad


def numerical_grad_all_at_once(f, x, h=1e-5):  # (review 0203b) every element nudged at once
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    grad[...] = (f(x + h) - f(x - h)) / (2 * h)
    return grad


# review 0203b: mistakes that got only numbers, now with a hint each
WRONG += [
    ("03.matmul_backward", lambda x, w, g: (w.T, x.T), "got shape (4, 3)", "local derivatives alone"),
    ("03.numerical_grad", numerical_grad_all_at_once, "the example shown", "you nudged every element of x at once"),
    ("03.numerical_grad", numerical_grad_five_point, "h = 0.05", "another stencil than the central difference"),
]

ERRORS = [
    ("03.value_mul_backward", vm_quotient, "hidden case 7", "ZeroDivisionError", "a.data = 0"),
    # without the transpose, the shapes fit only when square: an error that quotes the learner's line
    ("03.matmul_backward", lambda x, w, g: (g @ w, x.T @ g), "ValueError", "(g @ w, x.T @ g)", "do not fit"),
    ("03.linear_backward", lambda x, w, g: (g @ w.T, g.T @ x, g.sum(axis=0)), "ValueError", "do not fit"),
    # a copy without a float dtype: on an integer x, x += h * e cannot be stored
    ("03.numerical_grad", unit_vector_on_a_plain_copy, "hidden case 9", "UFuncTypeError",
     "work on a float64 copy of x"),
]



def numerical_grad_no_copy_of_float64(f, x, h=1e-5):
    """(review 3) asarray makes no copy of a float64 x, and the nudge is undone by arithmetic: x comes back
    rounded (5.6e-17 off on the example)."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        minus = f(x)
        x[i] += h
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_grad_no_copy_restored_exactly(f, x, h=1e-5):
    """No copy of a float64 x, but the old value is put back: the caller's x is left exactly as it was."""
    x = np.asarray(x, dtype=np.float64)
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


def numerical_grad_float32_kept(f, x, h=1e-5):
    """(review 3) a copy that keeps a float32 x in float32 (integers made float64)."""
    x = x.astype(np.float64) if x.dtype.kind in "iu" else x.copy()
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


class NotebookValue:
    """The notebook's Value class, as a learner's isinstance test names it: the check's test nodes are not its
    instances."""


def topo_isinstance_filter(root):  # (review 3) the trap the text names: the check's nodes are not Values
    order, seen = [], set()

    def visit(v):
        if v in seen or not isinstance(v, NotebookValue):
            return
        seen.add(v)
        for p in v.inputs:
            visit(p)
        order.append(v)
    visit(root)
    return order


# review 3: the caller's x must come back bit for bit; a float32 x; a layer with one output
WRONG += [
    ("03.numerical_grad", numerical_grad_no_copy_of_float64, "the example shown", "changed its input `x` in place"),
    # no float copy: x += h * e, then -= and += again, leaves the caller's x rounded (on an integer x it raises)
    ("03.numerical_grad", unit_vector_in_place, "the example shown", "changed its input `x` in place"),
    ("03.numerical_grad", numerical_grad_float32_kept, "hidden case 11 of 11 (x is a float32 array)",
     "a float32 copy of x"),
    ("03.topological_order", topo_isinstance_filter, "Your walk did not go from the root to its inputs",
     "isinstance(v, Value)"),
    ("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g.sum(axis=0, keepdims=True).squeeze()),
     "hidden case 7 of 8", "got shape ()", "squeeze() drops every dim of size 1"),
]
# issue 46: the caller's x nudged while f ran is wrong even when put back exactly (the text asks for a copy)
WRONG += [("03.numerical_grad", numerical_grad_no_copy_restored_exactly, "the example shown",
           "changed its input `x` in place", "nudged while f ran")]


def numerical_grad_relative_step(scale):  # (review 2 of issue 46) a step h * scale(|x[i]|), not h itself
    def numerical_grad(f, x, h=1e-5):
        x = np.array(x, dtype=np.float64)
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            step = h * scale(abs(old))
            x[i] = old + step
            f_plus = f(x)
            x[i] = old - step
            f_minus = f(x)
            x[i] = old
            grad[i] = (f_plus - f_minus) / (2 * step)
        return grad
    return numerical_grad


# review 2 of issue 46: a relu factor that depends on x's size; a step relative to x[i]
WRONG += [
    ("03.relu_backward", lambda x, g: g * np.clip(x, 0, 1), "the example shown", "np.clip(x, 0, 1) is x there"),
    ("03.relu_backward", lambda x, g: g * np.maximum(x, 0) / x, "the example shown", "nan or inf where x is exactly 0",
     "not by a function of x's size"),
    ("03.numerical_grad", numerical_grad_relative_step(lambda a: max(1.0, a)), "hidden case 8",
     "your step depends on the size of x[i]"),
    ("03.numerical_grad", numerical_grad_relative_step(lambda a: a if a else 1.0), "hidden case 7",
     "your step depends on the size of x[i]"),
    ("03.numerical_grad", numerical_grad_relative_step(lambda a: a), "hidden case 6",
     "your step depends on the size of x[i]"),
    ("03.numerical_grad", numerical_grad_relative_step(lambda a: 1.0 + a), "hidden case 7",
     "your step depends on the size of x[i]"),
]


def test_the_exercises_are_in_the_notebooks_in_this_order():
    assert list(exercise_cells(SOLUTION)) == IDS
    assert list(exercise_cells(RELEASED)) == IDS




# -------------------------------------------------------------------- 03.value_mul_backward
def state_after(fn, *args, **kwargs):
    return after_backward(fn, product(*args, **kwargs))


def test_value_mul_reference_adds_into_grad():
    assert state_after(value_mul_backward, 2.0, -3.0, 1.5)["a.grad"] == -4.5
    assert state_after(value_mul_backward, 2.0, -3.0, 1.5, a_grad=0.5)["a.grad"] == -4.0
    got = state_after(value_mul_backward, 2.0, -3.0, 1.5, a_grad=0.5, b_grad=1.0)
    assert (got["a.grad"], got["b.grad"]) == (-4.0, 4.0)
    assert state_after(value_mul_backward, 3.0, None, 1.0, same=True)["a.grad"] == 6.0  # d(a*a)/da = 2a
    assert state_after(value_mul_backward, 3.0, None, 1.0, a_grad=1.0, same=True)["a.grad"] == 7.0


def test_value_mul_overwrite_fails_on_the_visible_example_saying_how_the_gradients_started():
    result = assert_fails_with("03.value_mul_backward", vm_overwrite, "the example shown in the notebook")
    assert "started at a.grad = 0.5 and b.grad = 0" in result.message
    result = assert_fails_with("03.value_mul_backward", vm_overwrite_one, "hidden case 3", "instead of adding")
    assert "started at a.grad = 0 and b.grad = 0.5" in result.message


def test_value_mul_hints_do_not_fire_on_a_right_answer_or_an_untouched_state():
    for mistake in get_exercise("03.value_mul_backward").mistakes:
        for case in get_exercise("03.value_mul_backward").all_cases():
            right = after_backward(value_mul_backward, copy.deepcopy(case.args))
            untouched = after_backward(lambda a, b, out: None, copy.deepcopy(case.args))
            assert not mistake.match(right, right, case) and not mistake.match(untouched, right, case)


def test_value_mul_cases_cover_preset_grads_and_a_times_a():
    cases = get_exercise("03.value_mul_backward").all_cases()
    assert cases[0].visible and sum(c.visible for c in cases) == 1
    assert any(c.args[0] is c.args[1] for c in cases)                            # a * a
    assert any(c.args[0] is c.args[1] and c.args[0].grad != 0 for c in cases)    # a * a with a share already
    assert any(c.args[0] is not c.args[1] and c.args[0].grad != 0 and c.args[1].grad != 0 for c in cases)
    assert any(c.args[0].data == 0 and c.args[2].grad != 0 for c in cases)       # a zero factor: b's share is 0


# -------------------------------------------------------------------- 03.topological_order
def test_topological_order_duplicates_say_how_often():
    result = assert_fails_with("03.topological_order", topo_no_seen_set, "remember which nodes")
    assert "node x appears 3 times" in result.message


def test_topological_order_visible_example_is_the_notebooks_neuron():
    case = get_exercise("03.topological_order").all_cases()[0]
    assert case.visible
    assert [n.label for n in topological_order(case.args[0])] == [
        "x1", "w1", "x1*w1", "x2", "w2", "x2*w2", "x1*w1+x2*w2", "b", "n", "out"]


def test_topological_order_nodes_are_plain_graph_nodes():
    a = GraphNode("a")
    assert [n.label for n in topological_order(GraphNode("r", [a, a]))] == ["a", "r"]


# -------------------------------------------------------------------- the array backward exercises
def test_a_missing_broadcast_sum_names_the_result():
    result = assert_fails_with("03.mul_backward", mul_without_broadcast_sum, "SUM of the gradients")
    assert "result 1" in result.message
    result = assert_fails_with("03.linear_backward", lambda x, w, g: (g @ w, g.T @ x, g), "SUM of the gradients")
    assert "result 2" in result.message


def test_matmul_backward_without_the_transpose_is_an_error_on_non_square_shapes():
    assert_error("03.matmul_backward", lambda x, w, g: (g @ w, x.T @ g),  # shapes only fit when square
                 "ValueError", "(g @ w, x.T @ g)")  # the learner's line


def test_in_place_versions_give_the_right_numbers():
    """The in-place wrong versions fail for changing their input, not for their numbers."""
    x, y, g = (np.array(a) for a in ([[1.0, 2.0], [3.0, 4.0]], [10.0, -1.0], [[1.0, 0.5], [-1.0, 2.0]]))
    np.testing.assert_array_equal(mul_grad_in_place(x, y, g.copy())[0], mul_backward(x, y, g)[0])
    np.testing.assert_array_equal(relu_grad_in_place(x - 2, g.copy()), relu_backward(x - 2, g))
    np.testing.assert_array_equal(relu_x_in_place((x - 2).copy(), g), relu_backward(x - 2, g))


# -------------------------------------------------------------------- 03.numerical_grad
def test_numerical_grad_cases_vary_every_argument():
    cases = get_exercise("03.numerical_grad").all_cases()
    steps = {c.kwargs.get("h", c.args[2] if len(c.args) > 2 else 1e-5) for c in cases}
    assert {1e-5, 1e-4, 0.05, 0.02, 0.1} <= steps
    assert any(len(c.args) > 2 for c in cases) and any("h" in c.kwargs for c in cases)  # by position and by name
    assert len({repr(c.args[0]) for c in cases}) >= 6
    assert any(np.asarray(c.args[1]).dtype.kind == "i" for c in cases)
    assert any(np.ndim(c.args[1]) == 2 for c in cases)


def test_numerical_grad_ignoring_h_fails_on_a_coarse_step():
    """On a coarse step the central difference differs from the exact derivative, so an h of one's own fails."""
    assert_fails_with("03.numerical_grad", own_step, "hidden case", "h = 0.05", "`h` changes nothing in your result")
    f, x = [c for c in get_exercise("03.numerical_grad").all_cases() if c.kwargs.get("h") == 0.05][0].args
    exact = 3 * np.cos(3 * x)
    coarse = numerical_grad(f, x, 0.05)
    assert np.abs(coarse - exact).max() > 1e-3 > 1e-7 > np.abs(numerical_grad(f, x) - exact).max()


def test_numerical_grad_not_restoring_x_fails_on_a_hidden_case():
    result = assert_fails_with("03.numerical_grad", x_not_restored, "must get its old value back")
    assert "hidden case" in result.message  # separable functions do not notice; x @ A @ x does


def test_numerical_grad_reference_is_exact_to_1e_8_on_the_example():
    f, x = get_exercise("03.numerical_grad").all_cases()[0].args
    exact = 2 * x * np.sin(x) + x ** 2 * np.cos(x)
    np.testing.assert_allclose(numerical_grad(f, x), exact, rtol=1e-8)


# -------------------------------------------------------------------- the notebooks
def markdown_before(notebook, exercise_id):
    """The markdown cells between the previous code cell and the exercise cell, joined."""
    cells = read_notebook(notebook).cells
    index = next(i for i, c in enumerate(cells) if meta(c).get("exercise") == exercise_id)
    texts = []
    for cell in reversed(cells[:index]):
        if cell.cell_type != "markdown":
            break
        texts.insert(0, cell.source)
    return "\n".join(texts)


def shown(text):
    """``{name: array}`` of each line ``name = [...]`` (or ``name = 1.5``) in the code blocks of a markdown text."""
    values = {}
    for block in re.findall(r"```\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            match = re.match(r"\s*([\w/]+)\s*=\s*(\[.*\]|-?[\d.]+)\s*(#.*)?$", line)
            if match:
                values[match.group(1)] = np.array(ast.literal_eval(match.group(2)), dtype=float)
    return values


SHOWN = {  # exercise: (the names of its arguments, the names of its results) as the notebook shows them
    "03.mul_backward": (["x", "y", "grad"], ["dL/dx", "dL/dy"]),
    "03.relu_backward": (["x", "grad"], ["dL/dx"]),
    "03.matmul_backward": (["x", "w", "grad"], ["dL/dx", "dL/dw"]),
    "03.linear_backward": (["x", "weight", "grad"], ["dL/dx", "dL/dweight", "dL/dbias"]),
}


@pytest.mark.parametrize("exercise_id", list(SHOWN))
def test_the_notebook_shows_each_visible_example_with_its_answer(exercise_id):
    arg_names, result_names = SHOWN[exercise_id]
    exercise = get_exercise(exercise_id)
    case = exercise.all_cases()[0]
    assert case.visible
    values = shown(markdown_before(SOLUTION, exercise_id))
    for name, arg in zip(arg_names, case.args):
        np.testing.assert_array_equal(values[name], arg, err_msg=name)
    expected = exercise.reference(*case.args)
    for name, result in zip(result_names, expected if isinstance(expected, tuple) else (expected,)):
        np.testing.assert_allclose(values[name], result, err_msg=name)


def test_the_notebook_shows_the_value_mul_and_numerical_grad_examples():
    text = markdown_before(SOLUTION, "03.value_mul_backward")
    a, b, out = get_exercise("03.value_mul_backward").all_cases()[0].args
    for shown_text in (f"a = Value({a.data})", f"b = Value({b.data})", f"out.grad = {out.grad}",
                       f"a.grad = {a.grad}", f"b.grad = {b.grad}",
                       f"`a.grad = {a.grad + b.data * out.grad}`", f"`b.grad = {b.grad + a.data * out.grad}`"):
        assert shown_text in text, shown_text
    text = markdown_before(SOLUTION, "03.numerical_grad")
    f, x = get_exercise("03.numerical_grad").all_cases()[0].args
    assert "`x = [0.5, -1, 2]`" in text and "`[0.6988, 2.2232, 1.9726]`" in text
    np.testing.assert_array_equal(x, [0.5, -1, 2])
    np.testing.assert_array_equal(np.round(numerical_grad(f, x), 4), [0.6988, 2.2232, 1.9726])


def test_no_exercise_text_or_hint_holds_the_finished_line():
    """Nothing the learner reads before an exercise's check (every cell above it, the exercise cell) and no hint
    of any tier holds a finished line of its solution."""
    finished = ["grad * (x > 0)", "(x > 0) * grad", "grad @ w.T", "x.T @ grad", "grad @ weight", "grad.T @ x",
                "grad.sum(axis=0)", "b.data * out.grad", "a.data * out.grad", "sum_to_shape(grad * y",
                "(f_plus - f_minus) / (2 * h)", "order.append(v)"]
    assert finished_lines_shown(RELEASED, IDS, finished) == []


def test_the_zero_grad_plot_behaves_as_the_notebook_says():
    cell = next(c for c in read_notebook(SOLUTION).cells if c.cell_type == "code" and "def fit(zero_grad" in c.source)
    names = define(cell.source, {"np": np, "tl": tl, "plt": plt})
    zeroed_losses, zeroed_grads = names["fit"](zero_grad=True)
    losses, grads = names["fit"](zero_grad=False)
    assert abs(zeroed_losses[-1] - 0.01) < 0.002 and abs(zeroed_grads[-1]) < 1e-3
    assert 1.9 < abs(grads[0]) < 2.2 and 4.4 < max(abs(g) for g in grads) < 5  # "from about 2 to about 4.5"
    assert max(losses[-20:]) > 1 and min(losses[-20:]) < 0.1  # it bounces and never settles


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


# review 4: topological_order only lists the nodes; numerical_grad puts back the value it saved
def topo_resetting_grads(root):  # zeroes every node's .grad: the leaves lose what earlier passes added
    order, seen = [], set()

    def visit(v):
        if v in seen:
            return
        seen.add(v)
        v.grad = 0.0
        for p in v.inputs:
            visit(p)
        order.append(v)

    visit(root)
    return order


def topo_resetting_leaves(root):
    order = topological_order(root)
    for v in order:
        if not v.inputs:
            v.grad = 0.0
    return order


def topo_seeding_the_root(root):
    order = topological_order(root)
    root.grad = 1.0
    return order


def numerical_grad_undone_by_arithmetic(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        up = f(x)
        x[i] -= 2 * h
        down = f(x)
        x[i] += h
        g[i] = (up - down) / (2 * h)
    return g


def numerical_grad_undone_in_two_steps(f, x, h=1e-5):
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] = x[i] + h
        up = f(x)
        x[i] = x[i] - h
        x[i] = x[i] - h
        down = f(x)
        x[i] = x[i] + h
        g[i] = (up - down) / (2 * h)
    return g


# (review of issue 46) a failure the check finds, worded as such: no longer "your code raised an error"
WRONG += [
    ("03.numerical_grad", numerical_grad_undone_by_arithmetic, "the example shown in the notebook",
     "x[0] came back changed by rounding", "f was given x[0] = 0.49999999999999994 where the caller's x holds 0.5",
     "Save the old value"),
    ("03.numerical_grad", numerical_grad_undone_in_two_steps, "came back changed by rounding", "Save the old value"),
]
WRONG += [
    ("03.topological_order", topo_resetting_grads, "the example shown in the notebook",
     "changed the .grad (or .data) of 10 of the graph's nodes", "only lists the nodes"),
    ("03.topological_order", topo_resetting_leaves, "changed the .grad (or .data) of 5 of the graph's nodes"),
    ("03.topological_order", topo_seeding_the_root, "changed the .grad (or .data) of 1 of the graph's nodes (out)"),
]


def _through_float32(fn):
    def wrong(*args):
        *inputs, grad = args
        return fn(*(np.asarray(a, dtype=np.float32) for a in inputs), grad)
    return wrong


# review 4: an answer that went through float32 is right to 7 digits only, and the check says so
WRONG += [
    (exercise_id, _through_float32(SOLUTIONS[exercise_id]), "hidden case 2", "you turned the inputs into float32")
    for exercise_id in ("03.mul_backward", "03.matmul_backward", "03.linear_backward")
]


def _mul_backward_as_float(x, y, grad):
    g = np.asarray(grad, dtype=float)  # numpy's default float64, whatever grad's dtype
    return sum_to_shape(g * y, np.shape(x)), sum_to_shape(g * x, np.shape(y))


def _matmul_backward_rows_into_zeros(x, w, grad):
    dw = np.zeros(w.shape)  # float64, numpy's default, whatever w's dtype
    for x_i, g_i in zip(x, grad):
        dw += np.outer(x_i, g_i)
    return grad @ w.T, dw


def _linear_backward_bias_by_rows(x, weight, grad):
    db = np.zeros(grad.shape[1])  # float64, numpy's default, whatever grad's dtype
    for g_i in grad:
        db += g_i
    return grad @ weight, grad.T @ x, db


# issue 32: the float32 case of each op backward. A gradient keeps its input's dtype (PyTorch's .grad does): an
# array made with numpy's default float64 inside turns a float32 gradient into float64
FLOAT64_WRONG = [
    ("03.mul_backward", _mul_backward_as_float, "hidden case 9 of 9", "result 0: you returned a float64 array; a "
     "float32 array was expected", "numpy's default float64"),
    ("03.relu_backward", lambda x, g: g * (x > 0).astype(float), "hidden case 8 of 8",
     "you returned a float64 array; a float32 array was expected", "the dtype of its input"),
    ("03.relu_backward", lambda x, g: np.where(x > 0, g, np.zeros(x.shape)), "hidden case 8 of 8",
     "numpy's default float64"),
    ("03.matmul_backward", _matmul_backward_rows_into_zeros, "hidden case 7 of 7", "result 1: you returned a float64 "
     "array", "numpy's default float64"),
    ("03.linear_backward", _linear_backward_bias_by_rows, "hidden case 8 of 8", "result 2: you returned a float64 "
     "array", "numpy's default float64"),
]
WRONG += FLOAT64_WRONG


@pytest.mark.parametrize("exercise_id, fn", [row[:2] for row in FLOAT64_WRONG])
def test_a_float64_array_made_inside_fails_only_the_float32_case(exercise_id, fn):
    """Issue 32: an answer that makes its gradient in numpy's default float64 passes every float64 case and fails
    the float32 one, the last."""
    result = verdict(exercise_id, fn)
    assert result.passed_cases == result.total_cases - 1, result.message


def _fixed_step_in_the_body(step):  # (review 7 of 0203) the default h=1e-5 kept, the argument h never used
    def numerical_grad(f, x, h=1e-5):
        return central(f, x, step, lambda d, h: d / (2 * h))
    return numerical_grad


WRONG += [
    # agrees with h=1e-5 to the tolerance: the message says so, and not that the answer used h=1e-5
    ("03.numerical_grad", _fixed_step_in_the_body(1e-6), "agrees, to the check's tolerance, with what h=1e-05",
     "`h` changes nothing in your result"),
    # a step of 1e-7 rounds more (about 1e-16 |f| / h): at float64's precision (issue 32) it shows where the case
    # leaves h at its default
    ("03.numerical_grad", _fixed_step_in_the_body(1e-7), "hidden case 5 of 11", "a step other than h=1e-5",
     "the argument h itself"),
    # differs from h=1e-5 on a case called without h: the message does not say the default was changed
    ("03.numerical_grad", _fixed_step_in_the_body(1e-3), "a step other than h=1e-5", "the argument h itself"),
]


# issue 32 (b): the op backwards and numerical_grad name their building blocks (Exercise.allow); an autograd by
# another name (PyTorch's function transforms: an elementwise op's jvp is its vjp) and the library's own central
# differences are refused by name
def _torch(a):
    import torch  # (inside: these tests import PyTorch only where an answer uses it)
    return torch.from_numpy(np.asarray(a))


def relu_by_jvp(x, grad):
    import torch
    return torch.func.jvp(torch.relu, (_torch(x),), (_torch(grad),))[1].numpy()


def matmul_by_jacfwd(x, w, grad):
    import torch
    xt, wt, gt = _torch(x), _torch(w), _torch(grad)
    jx, jw = torch.func.jacfwd(lambda a, b: a @ b, argnums=(0, 1))(xt, wt)  # (n, m, n, k) and (n, m, k, m)
    return torch.einsum("ij,ijkl->kl", gt, jx).numpy(), torch.einsum("ij,ijkl->kl", gt, jw).numpy()


def linear_dx_by_f_linear(x, weight, grad):
    dx = nn.functional.linear(tl.tensor(grad), tl.tensor(weight).T).numpy()  # grad @ weight, through the forward
    return dx, grad.T @ x, grad.sum(axis=0)


def numerical_grad_by_gradcheck_helper(f, x, h=1e-5):
    from tinygrad_lite.autograd.gradcheck import numeric_jacobians
    x = np.array(x, dtype=np.float64)
    t = tl.tensor(x, requires_grad=True)
    jacobian = numeric_jacobians(lambda t: tl.tensor(np.array([f(t.numpy())])), (t,), h)[0][0]
    return jacobian.reshape(x.shape)


WRONG += [
    ("03.relu_backward", relu_by_jvp, "write it yourself", "torch.func.jvp"),
    ("03.matmul_backward", matmul_by_jacfwd, "write it yourself", "torch.func.jacfwd"),
    ("03.linear_backward", linear_dx_by_f_linear, "you called tinygrad_lite.nn.functional.linear",
     ALLOWS + ", matrix products (@, matmul), sum;"),
    ("03.numerical_grad", numerical_grad_by_gradcheck_helper, "write it yourself", "numeric_jacobians"),
    # issue 32 (c): at the edge of the dtype a positive input is still positive: a threshold of safety blocks the
    # gradient at 1e-300 and 5e-324 (float64's smallest number), or below float32's smallest normal number
    ("03.relu_backward", lambda x, g: g * (x > 1e-12), "hidden case 7", "however small x is"),
    ("03.relu_backward", lambda x, g: g * (x > np.finfo(x.dtype).tiny), "hidden case 7", "however small x is"),
]


def mul_backward_by_unbroadcast(x, y, grad):  # the engine's unbroadcast, which the text names
    from tinygrad_lite.autograd.engine import unbroadcast
    return unbroadcast(grad * y, np.shape(x)), unbroadcast(grad * x, np.shape(y))


def relu_backward_through_relu(x, grad):  # a mask from the library's relu: allowed
    return grad * (tl.relu(tl.tensor(x)).numpy() > 0)


def matmul_backward_by_einsum(x, w, grad):
    return np.einsum("ij,pj->ip", grad, w), np.einsum("ip,ij->pj", x, grad)


def matmul_backward_in_torch(x, w, grad):
    xt, wt, gt = _torch(x), _torch(w), _torch(grad)
    return (gt @ wt.T).numpy(), (xt.T @ gt).numpy()


def linear_backward_bias_by_ones(x, weight, grad):
    return grad @ weight, grad.T @ x, np.ones(len(grad), dtype=grad.dtype) @ grad


ALSO_RIGHT += [
    ("03.mul_backward", mul_backward_by_unbroadcast),
    ("03.relu_backward", relu_backward_through_relu),
    ("03.relu_backward", lambda x, g: np.where(x > 0, g, np.zeros_like(g))),
    ("03.matmul_backward", matmul_backward_by_einsum),
    ("03.matmul_backward", matmul_backward_in_torch),
    ("03.linear_backward", linear_backward_bias_by_ones),
]


# issue 32 review: the text points to ops/ to compare one's backward with the library's: calling an op's own
# backward directly (an instance of the op, its forward run on the arrays) hands the exercise to the library (the
# op's class is refused; 03.relu_backward's row also runs after 01.relu's check, which forbids the same class)
def mul_by_the_ops_backward(x, y, grad):
    from tinygrad_lite.ops.elementwise import Mul
    f = Mul()
    f.needs_input_grad = (True, True)
    f.forward(np.asarray(x), np.asarray(y))
    gx, gy = f.backward(grad)
    return sum_to_shape(gx, np.shape(x)), sum_to_shape(gy, np.shape(y))


def relu_by_the_ops_backward(x, grad):
    from tinygrad_lite.ops.activation import ReLU
    f = ReLU()
    f.needs_input_grad = (True,)
    f.forward(x)
    return f.backward(grad)


def matmul_by_the_ops_backward(x, w, grad):
    from tinygrad_lite.ops.matmul import MatMul
    f = MatMul()
    f.needs_input_grad = (True, True)
    f.forward(x, w)
    return f.backward(grad)


def linear_by_the_ops_backward(x, weight, grad):
    from tinygrad_lite.ops.matmul import Linear
    f = Linear()
    f.needs_input_grad, f.inputs = (True, True), (x, weight)
    f.forward(x, weight)
    dx, dw = f.backward(grad)
    return dx, dw, grad.sum(axis=0)


def linear_by_the_matmul_ops_backward(x, weight, grad):
    from tinygrad_lite.ops.matmul import MatMul
    f = MatMul()
    f.needs_input_grad = (True, True)
    f.forward(x, weight.T)
    dx, dw_t = f.backward(grad)
    return dx, dw_t.T, grad.sum(axis=0)


def numerical_grad_by_torch_gradcheck(f, x, h=1e-5):
    import torch
    from torch.autograd.gradcheck import get_numerical_jacobian
    x = np.array(x, dtype=np.float64)
    def fx(inputs):  # (this deprecated helper hands fn the tuple of inputs)
        return torch.tensor([f(inputs[0].detach().numpy())], dtype=torch.float64)
    jacobian = get_numerical_jacobian(fx, (torch.from_numpy(x.copy()).requires_grad_(),), eps=h)
    return jacobian[0].numpy().reshape(x.shape)


def numerical_grad_by_torch_private_gradcheck(f, x, h=1e-5):
    import torch
    from torch.autograd.gradcheck import _get_numerical_jacobian
    x = np.array(x, dtype=np.float64)
    t = torch.from_numpy(x.copy()).requires_grad_()
    jacobian = _get_numerical_jacobian(lambda t: torch.tensor([f(t.detach().numpy())], dtype=torch.float64), (t,),
                                       eps=h)
    return jacobian[0][0].numpy().reshape(x.shape)


OPS_BACKWARD = "write it yourself"
WRONG += [
    ("03.mul_backward", mul_by_the_ops_backward, OPS_BACKWARD, ".Mul"),
    ("03.relu_backward", relu_by_the_ops_backward, OPS_BACKWARD, ".ReLU"),
    ("03.matmul_backward", matmul_by_the_ops_backward, OPS_BACKWARD, ".MatMul"),
    ("03.linear_backward", linear_by_the_ops_backward, OPS_BACKWARD, ".Linear"),
    ("03.linear_backward", linear_by_the_matmul_ops_backward, OPS_BACKWARD, ".MatMul"),
    ("03.numerical_grad", numerical_grad_by_torch_gradcheck, OPS_BACKWARD, "get_numerical_jacobian"),
    ("03.numerical_grad", numerical_grad_by_torch_private_gradcheck, OPS_BACKWARD, "_get_numerical_jacobian"),
]


def numerical_grad_nudged_points_aliased(f, x, h=1e-5):
    """(issue 46's review) two names for one array: the nudge down overwrites the nudge up before f sees it."""
    base = np.array(x, dtype=np.float64)
    grad = np.zeros_like(base)
    for i in np.ndindex(base.shape):
        xp = base.copy()
        xm = xp
        old = xp[i]
        xp[i] = old + h
        xm[i] = old - h
        grad[i] = (f(xp) - f(xm)) / (2 * h)
        xp[i] = old
    return grad


WRONG += [("03.numerical_grad", numerical_grad_nudged_points_aliased, "the example shown", "every estimate is 0",
           "second name for the same array")]


# review of issue 46: a wrong answer that passed (no zeros in x or y), and two messages that were not true
def mul_local_derivative_as_quotient(x, y, grad):
    z = x * y
    return sum_to_shape(grad * z / x, np.shape(x)), sum_to_shape(grad * z / y, np.shape(y))  # z / x is y, but 0/0


def topo_return_inside_the_loop(root):
    order, seen = [], set()

    def visit(v):
        if v in seen:
            return
        seen.add(v)
        for p in v.inputs:
            return visit(p)         # ends the visit at the first input, before the append
        order.append(v)
    visit(root)
    return order


WRONG += [
    ("03.mul_backward", mul_local_derivative_as_quotient, "hidden case 8 of 9", "zeros in x and in y",
     "got nan", "nan or inf where an input is 0"),
    ("03.topological_order", topo_return_inside_the_loop, "your list has 1 node but the graph has 10 nodes",
     "your walk reached the leaf x1 and listed no other node", "A return inside the loop over the inputs"),
]


def test_the_check_words_a_rounded_x_as_a_failure_not_an_error():
    result = assert_fails_with("03.numerical_grad", numerical_grad_undone_by_arithmetic, "changed by rounding")
    assert "raised an error" not in result.message and "ExactnessError" not in result.message


# learner-attack 0304: hints that named a mistake the answer did not make
def numerical_grad_in_x_dtype(f, x, h=1e-5):
    """Central differences in float64, returned in a float32 x's dtype (as the op backwards keep theirs)."""
    dtype = np.asarray(x).dtype
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
    return grad.astype(dtype) if dtype.kind == "f" else grad


def numerical_grad_result_in_x_float_dtype(f, x, h=1e-5):
    """The result made with a float x's own dtype (float32 for a float32 x)."""
    dtype = np.asarray(x).dtype
    grad = np.zeros_like(x, dtype=dtype if dtype.kind == "f" else np.float64)
    x = np.array(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def topo_without_the_root(root):
    order, seen = [], set()

    def visit(v):
        if v in seen:
            return
        seen.add(v)
        for p in v.inputs:
            visit(p)
        if v is not root:
            order.append(v)
    visit(root)
    return order


def topo_reversed_at_the_end(root):
    return topological_order(root)[::-1]  # a right order, reversed: the root first


def topo_stack_seen_at_push(root):
    """A learner's explicit stack that marks a node seen when it is pushed (a node waiting on the stack is skipped
    when another path reaches it, and its user goes into the list first)."""
    order, seen, stack = [], {root}, [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        for child in node.inputs:
            if child not in seen:
                seen.add(child)
                stack.append((child, False))
    return order


def vm_float32_shares(a, b, out):
    a.grad += np.float32(b.data * out.grad)  # each share rounded to float32 on the way
    b.grad += np.float32(a.data * out.grad)


def vm_tuple_assignment(a, b, out):
    a.grad, b.grad = a.grad + b.data * out.grad, b.grad + a.data * out.grad  # reads both old values first


WRONG += [
    ("03.numerical_grad", numerical_grad_in_x_dtype, "hidden case 11 of 11 (x is a float32 array)",
     "you returned a float32 array", "returns a float64 array whatever x's dtype"),
    ("03.numerical_grad", numerical_grad_result_in_x_float_dtype, "hidden case 11 of 11",
     "returns a float64 array whatever x's dtype"),
    ("03.topological_order", topo_without_the_root, "missing out (the root itself)",
     "every node but the root itself", "the root belongs in the order too"),
    ("03.topological_order", topo_reversed_at_the_end, "every node comes before its inputs",
     "only once all of its inputs are in it"),
    ("03.value_mul_backward", vm_tuple_assignment, "hidden case 5", "Your function gave it only one"),
    ("03.topological_order", topo_stack_seen_at_push, "marks a node visited when it is PUSHED"),
    ("03.value_mul_backward", vm_float32_shares, "became a float32", "np.float32(...) also rounds"),
]


@pytest.mark.parametrize("exercise_id, fn, absent, texts", [
    ("03.numerical_grad", numerical_grad_in_x_dtype, "holds integers",
     ["no conversion to x's dtype at the end"]),
    ("03.topological_order", topo_without_the_root, "and their inputs in turn",
     ["a test that skips the root"]),
    ("03.topological_order", topo_reversed_at_the_end, None, ["or from reversing a right order at the end"]),
    ("03.value_mul_backward", vm_tuple_assignment, None,
     ["A tuple assignment (a.grad, b.grad = ..., ...)", "its second write replaces the first"]),
])
def test_both_tiers_name_the_slip_made(exercise_id, fn, absent, texts):
    """Learner-attack 0304: the second tier covers the slip made (a reversal at the end, a tuple assignment), and
    neither tier names one that was not (integers in a float32 case, a walk that stops at the root's inputs)."""
    message = verdict(exercise_id, fn, times=2).message
    for text in texts:
        assert text in message, message
    assert absent is None or absent not in message, message


def _topological_order_one_input(end):
    """(attack of session 32) the walk goes on to one input of each node, v.inputs[end]."""
    def topological_order(root):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                if v.inputs:
                    visit(v.inputs[end])
                order.append(v)
        visit(root)
        return order
    return topological_order


_topological_order_first_inputs, _topological_order_last_inputs = (_topological_order_one_input(0),
                                                                   _topological_order_one_input(-1))


WRONG += [  # attack of session 32
    ("03.topological_order", _topological_order_first_inputs, "the path from the root through each node's FIRST",
     "one of its inputs only"),
    ("03.topological_order", _topological_order_last_inputs, "through each node's LAST input"),
    ("03.mul_backward", lambda x, y, grad: (sum_to_shape(np.ones_like(grad) * y, np.shape(x)),
                                            sum_to_shape(np.ones_like(grad) * x, np.shape(y))),
     "your gradients do not depend on grad"),
    ("03.matmul_backward", lambda x, w, grad: (np.ones_like(grad) @ w.T, x.T @ np.ones_like(grad)),
     "a matrix of ones in grad's place"),
]


def _value_mul_same_by_value(a, b, out):
    """(attack of session 37) "a is b" tested by the values: two Values with equal data get one double share."""
    if a.data == b.data:
        a.grad += 2 * a.data * out.grad
    else:
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad


def _value_mul_root_default(a, b, out):
    """(attack of session 37) an upstream gradient of 0 taken for "no gradient yet": 1 is used instead."""
    g = out.grad if out.grad else 1.0
    a.grad += b.data * g
    b.grad += a.data * g


def _numerical_grad_put_back(f, x, h=1e-5):
    """(attack of session 37) no nudge down (x[i] put back instead): f(x + h e_i) - f(x), divided by 2h."""
    x = np.array(x, dtype=np.float64)
    nudges = h * np.eye(x.size).reshape(-1, *x.shape)  # one element moved by h in each
    return np.array([(f(x + d) - f(x)) / (2 * h) for d in nudges]).reshape(x.shape)


WRONG += [  # attack of session 37
    ("03.value_mul_backward", _value_mul_same_by_value, "two Values that hold the same number",
     "each is a node of its own"),
    ("03.value_mul_backward", _value_mul_root_default, "out.grad = 0", "nothing arrives"),
    ("03.numerical_grad", _numerical_grad_put_back, "the example shown", "divided by 2h"),
    ("03.matmul_backward", lambda x, w, grad: (2 * (grad @ w.T), x.T @ grad), "2 times too large",
     "a stray factor 2"),
]


def _numerical_grad_float32(f, x, h=1e-5):
    """(attack of session 37, round 2) the right estimates, returned as float32."""
    return numerical_grad(f, x, h).astype(np.float32)


WRONG += [  # its refusal says the fix; the generic float32 hint ("keep the dtype of the inputs") is not added
    ("03.numerical_grad", _numerical_grad_float32, "return your float64 estimates as they are"),
]


def test_a_float32_result_of_numerical_grad_gets_no_hint_to_keep_the_inputs_dtype():
    """(attack of session 37, round 2) x may be float32 or integers, and the result must be float64 anyway."""
    message = verdict("03.numerical_grad", _numerical_grad_float32, times=2).message
    assert "float64 array was expected" in message and "Keep the dtype of the inputs" not in message

WRONG += [  # attack of session 37, round 2: a reshape where a transpose belongs (lesson 01 names it for W)
    ("03.matmul_backward", lambda x, w, grad: (grad @ w.T, (grad.T @ x).reshape(w.shape)), "a reshape is no transpose"),
    ("03.matmul_backward", lambda x, w, grad: ((w @ grad.T).reshape(x.shape), x.T @ grad), "a reshape is no transpose"),
    ("03.matmul_backward", lambda x, w, grad: (grad @ w.reshape(w.shape[1], w.shape[0]), x.T @ grad),
     "a reshape is no transpose"),
]
