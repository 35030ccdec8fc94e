"""The PyTorch idioms learners copy from tutorials, against PyTorch in float64 (values and gradients, rtol 1e-8).

Rounding, ``//`` and ``%``, prod, scans, sort/topk/argsort, gather, bincount, one-argument ``where``, numpy's
``axis=``/``keepdims=`` names, clamp with tensor bounds, norms and ``F.normalize``, ``mm``, ``out=``, ``Variable``,
the legacy typed constructors, ``new_*``, default devices, ``backends``, ``grad_fn.next_functions`` and the
optimizers' implementation flags. Edge cases: ties, zeros, negative operands, empty inputs; and bad arguments.
"""
import inspect
import math
import operator
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import assert_same, away_from_zero, broadcast_shapes, compare, dims, leaves, normal, seeds, shapes
from hypothesis import assume, given
from hypothesis import strategies as st
from registry import OPTIMIZERS as REGISTERED_OPTIMIZERS
from registry import SETTINGS

import tinygrad_lite as tg
import tinygrad_lite.nn.functional as F

FEW = dict(max_examples=20)


def lib(x):
    return torch if isinstance(x, torch.Tensor) else tg


def with_halves(seed, shape):
    """Values with many exact halves (0.5, -1.5, 2.5 ...) and integers, where rounding rules differ."""
    rng = np.random.default_rng(seed)
    return np.round(rng.standard_normal(shape) * 4) / 2 + rng.choice([0.0, 1e-3, -1e-3], shape) * (rng.random(shape)
                                                                                                     < 0.3)


# ==================================================================== rounding: gradient 0, as PyTorch
ROUNDING = ["floor", "ceil", "trunc", "round", "sign"]


@pytest.mark.parametrize("name", ROUNDING)
@given(shape=shapes(), seed=seeds)
def test_rounding_values_and_zero_gradient(name, shape, seed):
    x = with_halves(seed, shape)
    compare(lambda t: getattr(t, name)(), None, [x], seed=seed)
    compare(lambda t: getattr(lib(t), name)(t) * 2 + t, None, [x], seed=seed)


@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2])
def test_round_decimals_half_to_even(decimals):
    x = [0.5, 1.5, 2.5, -0.5, -2.5, 1.2345, 2.675, -7.25, 125.0, 1250.0, 15.0, 0.125, 1e-9]
    compare(lambda t: t.round(decimals=decimals), None, [x])
    compare(lambda t: lib(t).round(t, decimals=decimals), None, [x])


@pytest.mark.parametrize("name", ROUNDING)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_rounding_integer_inputs_keep_dtype(name, dtype):
    if dtype == "bool" and name in ("floor", "ceil", "trunc", "round"):
        pytest.skip("PyTorch refuses bool here")
    values = [[-3, 0, 2], [1, 1, 0]] if dtype != "bool" else [[True, False, True], [False, False, True]]
    assert_same(getattr(tg.tensor(values, dtype=getattr(tg, dtype)), name)(),
                getattr(torch.tensor(values, dtype=getattr(torch, dtype)), name)())


def test_round_gives_binary_accuracy():
    """The idiom: accuracy of sigmoid outputs against 0/1 labels."""
    p, y = [0.1, 0.5, 0.51, 0.9, 0.49], [0.0, 1.0, 1.0, 1.0, 0.0]
    ours = (tg.tensor(p).round() == tg.tensor(y)).float().mean()
    theirs = (torch.tensor(p).round() == torch.tensor(y)).float().mean()
    assert ours.item() == theirs.item() == pytest.approx(0.8)  # 0.5 rounds to 0 (half to even)


# ==================================================================== // and %: Python's signs; fmod: C's
DIVISION = {
    "%": (operator.mod, normal, away_from_zero),
    "remainder": (lambda a, b: lib(a).remainder(a, b), normal, away_from_zero),
    "remainder method": (lambda a, b: a.remainder(b), normal, away_from_zero),
    "fmod": (lambda a, b: lib(a).fmod(a, b), normal, away_from_zero),
    "fmod method": (lambda a, b: a.fmod(b), normal, away_from_zero),
}


@pytest.mark.parametrize("name", DIVISION)
@given(shapes=broadcast_shapes(2), seed=seeds)
def test_remainder_and_fmod(name, shapes, seed):
    fn, make_a, make_b = DIVISION[name]
    compare(fn, None, [make_a(seed, shapes[0]) * 5, make_b(seed + 1, shapes[1])], seed=seed)


@given(shapes=broadcast_shapes(2), seed=seeds)
def test_floor_divide_values_and_zero_gradient(shapes, seed):
    """PyTorch computes a // b but has no derivative for it; ours is 0, the derivative of a step function."""
    a, b = normal(seed, shapes[0]) * 5, away_from_zero(seed + 1, shapes[1])
    compare(operator.floordiv, None, [a, b], seed=seed, backward=False)
    compare(lambda x, y: lib(x).floor_divide(x, y), None, [a, b], seed=seed, backward=False)
    (x, y), _ = leaves([a, b])
    (x // y).sum().backward()
    assert not x.grad.numpy().any() and not y.grad.numpy().any()
    assert x.grad.shape == x.shape and y.grad.shape == y.shape


@pytest.mark.parametrize("expr", ["x // 2", "x % 2", "x // -3", "x % -3", "7 // x", "7 % x", "-7 // x", "-7 % x",
                                  "x // y", "x % y", "lib.fmod(x, y)", "x // 2.5", "x % -1.5", "5.5 // x",
                                  "2.5 % x", "lib.remainder(x, y)", "lib.floor_divide(x, y)", "x.fmod(-2)"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "float64", "float32"])
def test_integer_division_negative_operands(expr, dtype):
    """-7 // 2 = -4 and -7 % 2 = 1 (the divisor's sign), in every dtype; results and dtypes as PyTorch."""
    xs, ys = [[-7, 7, -8, 8, 0, 3], [-1, 1, 5, -5, 9, -9]], [[2, -2, 3, -3, 4, -4], [3, 3, -7, -7, 2, 2]]
    if expr[0] in "-0123456789" and dtype.startswith("int"):
        return  # x holds a 0: integer division by zero raises (next test)
    ours = eval(expr, {"x": tg.tensor(xs, dtype=getattr(tg, dtype)), "y": tg.tensor(ys, dtype=getattr(tg, dtype)),
                       "lib": tg})
    theirs = eval(expr, {"x": torch.tensor(xs, dtype=getattr(torch, dtype)),
                         "y": torch.tensor(ys, dtype=getattr(torch, dtype)), "lib": torch})
    assert_same(ours, theirs, expr)  # (7 // x with a float 0 in x: inf or nan, as PyTorch)


@pytest.mark.parametrize("expr", ["7 // x", "7 % x", "x // 0", "x % 0", "lib.fmod(x, 0)"])
def test_integer_division_by_zero_raises_like_pytorch(expr):
    for L in (tg, torch):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            eval(expr, {"x": L.tensor([3, 0, -2]), "lib": L})


def test_float_division_by_zero_gives_inf_and_nan_like_pytorch():
    for expr in ["x // 0.0", "x % 0.0", "lib.fmod(x, 0.0)", "x // y", "x % y"]:
        env = lambda L: {"x": L.tensor([3.0, 0.0, -2.0], dtype=L.float64),  # noqa: E731
                         "y": L.tensor([0.0, 0.0, -0.0], dtype=L.float64), "lib": L}
        a, b = eval(expr, env(tg)), eval(expr, env(torch))
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=expr)


# ==================================================================== prod: exact gradients with zeros
@given(shape=shapes(), data=st.data(), keepdim=st.booleans(), zeros=st.integers(0, 3), seed=seeds)
def test_prod(shape, data, keepdim, zeros, seed):
    x = normal(seed, shape)
    flat = x.reshape(-1)
    if flat.size:
        flat[np.random.default_rng(seed).integers(0, flat.size, zeros)] = 0.0
    compare(lambda t: t.prod(), None, [x], seed=seed)
    dim = data.draw(dims(len(shape), allow_none=False, allow_tuple=False), label="dim")
    compare(lambda t: t.prod(dim, keepdim=keepdim), None, [x], seed=seed)
    compare(lambda t: lib(t).prod(t, dim=dim, keepdim=keepdim), None, [x], seed=seed)


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [2.0, 0.0, 3.0, 0.0], [0.0], [], [[0.0, 2.0], [3.0, 0.0]]])
def test_prod_zeros_and_empty(x):
    compare(lambda t: t.prod(), None, [x])
    compare(lambda t: t.prod(0), None, [x])


def test_prod_of_integers_is_int64():
    for values, dtype in [([1, 2, 3], "int32"), ([True, True], "bool"), ([[2, 3], [4, 5]], "int64")]:
        assert_same(tg.tensor(values, dtype=getattr(tg, dtype)).prod(),
                    torch.tensor(values, dtype=getattr(torch, dtype)).prod())
        assert_same(tg.tensor(values, dtype=getattr(tg, dtype)).prod(0),
                    torch.tensor(values, dtype=getattr(torch, dtype)).prod(0))


# ==================================================================== cumsum and cumprod
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@given(shape=shapes(), data=st.data(), zeros=st.integers(0, 2), seed=seeds)
def test_scans(name, shape, data, zeros, seed):
    n = max(len(shape), 1)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    x = normal(seed, shape)
    flat = x.reshape(-1)
    if flat.size:
        flat[np.random.default_rng(seed).integers(0, flat.size, zeros)] = 0.0
    compare(lambda t: getattr(t, name)(dim), None, [x], seed=seed)
    compare(lambda t: getattr(lib(t), name)(t, dim=dim), None, [x], seed=seed)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans_edge_cases(name):
    compare(lambda t: getattr(t, name)(0), None, [[0.0, 0.0, 2.0, 3.0]])
    compare(lambda t: getattr(t, name)(0), None, [[]])
    compare(lambda t: getattr(t, name)(1), None, [np.zeros((2, 0))])
    compare(lambda t: getattr(t, name)(-1), None, [1.5])
    for values, dtype in [([1, 2, 3], "int32"), ([True, True, False], "bool"), ([[2, -3], [4, 5]], "int64")]:
        assert_same(getattr(tg.tensor(values, dtype=getattr(tg, dtype)), name)(0),
                    getattr(torch.tensor(values, dtype=getattr(torch, dtype)), name)(0))
    assert_same(getattr(tg.tensor([1, 2, 3]), name)(0, dtype=tg.float64),
                getattr(torch.tensor([1, 2, 3]), name)(0, dtype=torch.float64))


# ==================================================================== sort, argsort, topk, gather
@pytest.mark.parametrize("descending", [False, True])
@given(shape=shapes(min_dims=1), data=st.data(), ties=st.booleans(), seed=seeds)
def test_sort_and_argsort(descending, shape, data, ties, seed):
    """Values and gradients; with ties, indices as PyTorch's stable sort (ours is always stable)."""
    n = len(shape)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    x = np.round(normal(seed, shape)) if ties else normal(seed, shape)
    ours, theirs = compare(lambda t: t.sort(dim=dim, descending=descending, stable=True), None, [x], seed=seed)
    compare(lambda t: lib(t).sort(t, dim=dim, descending=descending, stable=True).values, None, [x], seed=seed)
    compare(lambda t: lib(t).argsort(t, dim=dim, descending=descending, stable=True), None, [x], seed=seed)
    sorted_ours = tg.tensor(x).sort(dim, descending)
    assert_same(sorted_ours.values, theirs[0].detach(), "values")
    assert_same(sorted_ours.indices, theirs[1], "indices")
    if not ties:
        compare(lambda t: t.sort(dim, descending), None, [x], seed=seed)
        compare(lambda t: t.argsort(dim, descending), None, [x], seed=seed)


def test_sort_edge_cases():
    x = [3.0, 1.0, 3.0, 2.0, 1.0, 3.0]
    compare(lambda t: t.sort(descending=True, stable=True), None, [x])
    compare(lambda t: t.sort(stable=True), None, [x])
    compare(lambda t: t.sort(), None, [[]])
    compare(lambda t: t.sort(), None, [2.5])
    compare(lambda t: t.argsort(), None, [2.5])
    compare(lambda t: t.sort(stable=True), None, [[np.inf, -np.inf, 0.0, -1.0]])
    for values in ([3, 1, 2, 1], [True, False, True]):
        ours, theirs = tg.tensor(values).sort(stable=True), torch.tensor(values).sort(stable=True)
        assert_same(ours.values, theirs.values)
        assert_same(ours.indices, theirs.indices)
    assert type(tg.tensor([1.0]).sort()).__name__ == "sort" and type(tg.tensor([1.0]).topk(1)).__name__ == "topk"


@pytest.mark.parametrize("largest", [True, False])
@given(shape=shapes(min_dims=1), data=st.data(), seed=seeds)
def test_topk(largest, shape, data, seed):
    n = len(shape)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    k = data.draw(st.integers(0, shape[dim]), label="k")
    x = normal(seed, shape)
    compare(lambda t: t.topk(k, dim, largest=largest), None, [x], seed=seed)
    compare(lambda t: lib(t).topk(t, k, dim=dim, largest=largest, sorted=True).values, None, [x], seed=seed)


def test_topk_with_ties_picks_equal_values_and_sends_the_gradient_there():
    """PyTorch leaves open which of several equal values topk picks; ours picks the lowest indices."""
    x = [1.0, 3.0, 3.0, 2.0, 3.0]
    compare(lambda t: t.topk(3).values.sum(), None, [x])  # all three 3s: the gradient goes to each of them
    values, indices = tg.tensor(x).topk(2)
    assert values.tolist() == [3.0, 3.0] and indices.tolist() == [1, 2]
    smallest = tg.tensor(x).topk(2, largest=False)
    assert smallest.values.tolist() == [1.0, 2.0] and smallest.indices.tolist() == [0, 3]


def test_topk_accuracy_idiom():
    """Top-5 accuracy as in the ImageNet example: pred = output.topk(5, 1).indices.t(); correct = pred.eq(...)."""
    out = normal(0, (8, 10))
    target = np.random.default_rng(1).integers(0, 10, 8)
    results = []
    for L in (tg, torch):
        output, tgt = L.tensor(out), L.tensor(target)
        _, pred = output.topk(5, 1, True, True)
        pred = pred.t()
        correct = pred.eq(tgt.view(1, -1).expand_as(pred))
        results.append([correct[:k].reshape(-1).float().sum(0, keepdim=True).item() for k in (1, 5)])
    assert results[0] == results[1]


@given(shape=shapes(min_dims=1), data=st.data(), seed=seeds)
def test_gather(shape, data, seed):
    n = len(shape)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    ishape = tuple(data.draw(st.integers(1, s), label="size") if i != dim % n else data.draw(st.integers(0, 5))
                   for i, s in enumerate(shape))
    index = np.random.default_rng(seed).integers(0, shape[dim], ishape)
    compare(lambda t: t.gather(dim, lib(t).tensor(index)), None, [normal(seed, shape)], seed=seed)
    compare(lambda t: lib(t).gather(t, dim, lib(t).tensor(index)), None, [normal(seed, shape)], seed=seed)


def test_gather_picks_log_probabilities():
    """The idiom: the log-probability of each target class, logp.gather(1, y.unsqueeze(1))."""
    y = np.array([2, 0, 1, 2])
    compare(lambda t: t.log_softmax(1).gather(1, lib(t).tensor(y).unsqueeze(1)).mean(), None, [normal(3, (4, 3))])


# ==================================================================== bincount, where(cond), nonzero
@pytest.mark.parametrize("values", [[0, 2, 2, 5, 1], [], [3], [0, 0, 0]])
@pytest.mark.parametrize("minlength", [0, 3, 8])
def test_bincount(values, minlength):
    assert_same(tg.bincount(tg.tensor(values, dtype=tg.int64), minlength=minlength),
                torch.bincount(torch.tensor(values, dtype=torch.int64), minlength=minlength))
    w = normal(len(values), (len(values),))
    for dtype in ("float64", "float32"):
        assert_same(tg.tensor(values, dtype=tg.int64).bincount(tg.tensor(w, dtype=getattr(tg, dtype)), minlength),
                    torch.tensor(values, dtype=torch.int64).bincount(torch.tensor(w, dtype=getattr(torch, dtype)),
                                                                     minlength))
    assert_same(tg.tensor(values, dtype=tg.int64).bincount(tg.tensor(values, dtype=tg.int64)),
                torch.tensor(values, dtype=torch.int64).bincount(torch.tensor(values, dtype=torch.int64)))


def test_bincount_gradient_with_respect_to_the_weights():
    """dL/dw_i = g[x_i] (PyTorch has no derivative here; this is the exact one)."""
    bins = tg.tensor([0, 2, 2, 4])
    w = tg.tensor([0.5, 1.0, -2.0, 3.0], dtype=tg.float64, requires_grad=True)
    g = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0, 1e5])
    bins.bincount(w, minlength=6).backward(tg.tensor(g))
    np.testing.assert_array_equal(w.grad.numpy(), g[[0, 2, 2, 4]])


@given(shape=shapes(), seed=seeds)
def test_where_with_condition_only_and_nonzero(shape, seed):
    mask = np.random.default_rng(seed).random(shape) < 0.5
    ours, theirs = tg.where(tg.tensor(mask)), torch.where(torch.tensor(mask))
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert_same(a, b)
    assert_same(tg.tensor(mask).nonzero(), torch.tensor(mask).nonzero())
    assert_same(tg.nonzero(tg.tensor(mask * 1.5)), torch.nonzero(torch.tensor(mask * 1.5)))
    for a, b in zip(tg.tensor(mask).nonzero(as_tuple=True), torch.tensor(mask).nonzero(as_tuple=True)):
        assert_same(a, b)


def test_where_method():
    compare(lambda x, y: x.where(x > y, y), None, [normal(0, (3, 4)), normal(1, (4,))])


def test_where_condition_only_indexes_back():
    x = normal(0, (3, 4))
    compare(lambda t: t[lib(t).where(t > 0)], None, [x])


# ==================================================================== numpy's axis= and keepdims=
NUMPY_NAMES = {
    "sum": lambda t: t.sum(axis=1, keepdims=True),
    "sum fn": lambda t: lib(t).sum(t, axis=(0, 2)),
    "mean": lambda t: t.mean(axis=-1),
    "mean keepdims": lambda t: lib(t).mean(t, axis=0, keepdims=True),
    "max": lambda t: t.max(axis=1, keepdims=True),
    "min": lambda t: t.min(axis=0),
    "amax": lambda t: t.amax(axis=(1, 2), keepdims=True),
    "amin": lambda t: t.amin(axis=2),
    "std": lambda t: t.std(axis=1),
    "var": lambda t: t.var(axis=0, keepdims=True),
    "prod": lambda t: t.prod(axis=1),
    "argmax": lambda t: t.argmax(axis=2, keepdims=True),
    "argmin": lambda t: t.argmin(axis=0),
    "cumsum": lambda t: t.cumsum(axis=1),
    "logsumexp": lambda t: t.logsumexp(axis=1),
    "softmax": lambda t: t.softmax(axis=-1),
    "norm": lambda t: t.norm(dim=1, keepdim=True),
    "cat": lambda t: lib(t).cat([t, t], axis=1),
    "stack": lambda t: lib(t).stack([t, t], axis=-1),
}


@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_numpy_argument_names(name):
    compare(NUMPY_NAMES[name], None, [normal(5, (2, 3, 4))])


def test_numpy_and_pytorch_name_together_is_an_error():
    with pytest.raises(TypeError, match="sum.*both 'dim' and its alias 'axis'"):
        tg.ones(2, 3).sum(dim=0, axis=1)


NO_DIMS = {
    "sum": lambda t: t.sum(dim=()), "sum []": lambda t: t.sum(dim=[], keepdim=True),
    "sum of bools": lambda t: (t > 0).sum(dim=()), "mean fn": lambda t: lib(t).mean(t, ()),
    "mean keepdim": lambda t: t.mean(dim=(), keepdim=True), "var": lambda t: t.var(dim=()),
    "std": lambda t: t.std(dim=[], keepdim=True), "amax": lambda t: t.amax(dim=[]),
    "norm": lambda t: t.norm(dim=()), "vector_norm": lambda t: lib(t).linalg.vector_norm(t, 3, dim=(), keepdim=True),
    "logsumexp keepdim": lambda t: t.logsumexp(dim=(), keepdim=True), "squeeze": lambda t: t.squeeze(()),
}


EVERY_DIM = {"var": lambda t: t.var(), "std": lambda t: t.std(dim=(0, 1, 2), keepdim=True)}


@pytest.mark.parametrize("name", NO_DIMS)
def test_an_empty_tuple_of_dims_reduces_every_dim_as_pytorch(name):
    """PyTorch reads ``dim=()`` (or ``[]``) of a reduction as every dim: ``x.sum(dim=())`` is ``x.sum()``, without a
    warning; squeeze(()) changes nothing. (PyTorch's backward of var and std over ``dim=()`` gives inf, so those are
    compared with its var and std over every dim named.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(NO_DIMS[name], EVERY_DIM.get(name), [normal(8, (2, 1, 3))])


# ==================================================================== clamp with tensor bounds
@given(shapes=broadcast_shapes(3), seed=seeds, ties=st.booleans())
def test_clamp_tensor_bounds(shapes, seed, ties):
    """Gradients go to x, min or max by PyTorch's rule, also where min > max and on exact ties."""
    assume(np.broadcast_shapes(*shapes) == tuple(shapes[0]))  # PyTorch's backward fails when x is the smaller one
    x, lo, hi = (normal(seed + k, s) for k, s in enumerate(shapes))
    if ties:
        x, lo, hi = np.round(x), np.round(lo), np.round(hi)
    compare(lambda a, b, c: lib(a).clamp(a, b, c), None, [x, lo, hi], seed=seed)
    compare(lambda a, b, c: a.clamp(min=b, max=c), None, [x, lo, hi], seed=seed)
    compare(lambda a, b: a.clamp(min=b), None, [x, lo], seed=seed)
    compare(lambda a, c: lib(a).clamp(a, max=c), None, [x, hi], seed=seed)
    compare(lambda a, b, c: a.clip(b, c), None, [x, lo, hi], seed=seed)


def test_clamp_tensor_bounds_cases():
    x, lo, hi = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 2.0], [1.0, 1.0, 3.0, 3.0, 4.0, 6.0, 1.0, 1.0], \
        [2.0, 1.0, 2.0, 3.0, 3.0, 5.0, 1.0, 1.0]
    compare(lambda a, b, c: a.clamp(b, c), None, [x, lo, hi])
    compare(lambda a, b, c: a.clamp(b, c), None, [x, lo, hi], requires_grad=[True, False, True])
    compare(lambda a, b, c: a.clamp(b, c), None, [x, lo, hi], requires_grad=[False, True, True])


def test_clamp_tensor_bound_dtypes_and_scalar_mix():
    ours = tg.tensor([1, 5, 9]).clamp(tg.tensor([2.5, 2.5, 2.5]), tg.tensor([7.0, 7.0, 7.0]))
    theirs = torch.tensor([1, 5, 9]).clamp(torch.tensor([2.5, 2.5, 2.5]), torch.tensor([7.0, 7.0, 7.0]))
    assert_same(ours, theirs)
    mixed = tg.tensor([1.0, 5.0, 9.0]).clamp(tg.tensor([2.0, 6.0, 0.0]), 7.0)  # PyTorch refuses; ours reads it
    assert mixed.tolist() == [2.0, 6.0, 7.0]
    with pytest.raises(RuntimeError, match="clamp: shapes"):
        tg.ones(3).clamp(tg.ones(2), None)


# ==================================================================== norms
NORM_CASES = {
    "default": lambda t: t.norm(),
    "fn": lambda t: lib(t).norm(t),
    "p=1": lambda t: t.norm(p=1),
    "p=3 dim": lambda t: t.norm(3, dim=1),
    "p=0.5 dim keepdim": lambda t: t.norm(0.5, dim=-1, keepdim=True),
    "p=inf dim": lambda t: t.norm(float("inf"), dim=0),
    "p=-inf": lambda t: t.norm(float("-inf")),
    "p=0": lambda t: t.norm(0, dim=1),
    "fro dims": lambda t: lib(t).norm(t, "fro", dim=(0, 1), keepdim=True),
    "fro dim": lambda t: t.norm("fro", dim=1),
    "p=2 keepdim": lambda t: t.norm(2, dim=(0, 2), keepdim=True),
    "vector_norm": lambda t: lib(t).linalg.vector_norm(t),
    "vector_norm dims": lambda t: lib(t).linalg.vector_norm(t, ord=1.5, dim=(1, 2)),
    "vector_norm inf": lambda t: lib(t).linalg.vector_norm(t, ord=math.inf, dim=-1, keepdim=True),
    "linalg.norm": lambda t: lib(t).linalg.norm(t),
    "linalg.norm dim": lambda t: lib(t).linalg.norm(t, dim=2),
    "linalg.norm matrix fro": lambda t: lib(t).linalg.norm(t, dim=(1, 2)),
    "linalg.norm matrix inf": lambda t: lib(t).linalg.norm(t, ord=math.inf, dim=(0, 2)),
    "matrix_norm 1": lambda t: lib(t).linalg.matrix_norm(t, ord=1),
    "matrix_norm -1": lambda t: lib(t).linalg.matrix_norm(t, ord=-1, keepdim=True),
    "matrix_norm -inf": lambda t: lib(t).linalg.matrix_norm(t, ord=-math.inf),
    "matrix_norm fro": lambda t: lib(t).linalg.matrix_norm(t),
    "matrix_norm 2, -2 and nuc (singular values)": lambda t: lib(t).linalg.matrix_norm(t, ord=2)
    + lib(t).linalg.matrix_norm(t, ord=-2, dim=(0, 2)).sum() + lib(t).linalg.norm(t, "nuc", dim=(2, 1), keepdim=True),
}


@pytest.mark.parametrize("name", NORM_CASES)
@pytest.mark.parametrize("data", ["random", "ties and zeros"])
def test_norms(name, data):
    x = normal(len(name), (3, 4, 2))
    if data != "random":
        x = np.round(x)  # ties in |x| (inf norms share), exact zeros (kinks)
    compare(NORM_CASES[name], None, [x])


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 0, math.inf, -math.inf, "fro"])
def test_norm_of_zero_vector_has_zero_gradient(p):
    """PyTorch's norm gradient at the zero vector is 0 (not nan): clipping an all-zero gradient stays finite."""
    compare(lambda t: t.norm(p), None, [[0.0, 0.0, 0.0]])
    compare(lambda t: t.norm(p, dim=1), None, [[[0.0, 0.0], [3.0, -4.0]]])


def test_matrix_norms_of_a_2d_input():
    x = normal(2, (3, 4))
    for order in (None, "fro", 1, -1, math.inf, -math.inf, 2, -2, "nuc"):
        compare(lambda t, order=order: lib(t).linalg.norm(t, ord=order), None, [x])
    compare(lambda t: lib(t).linalg.norm(t, ord=3), None, [x[0]])  # 1-D with an ord: the vector norm


def test_norm_of_empty_and_0d():
    compare(lambda t: t.norm(), None, [[]])
    compare(lambda t: t.norm(1), None, [np.zeros((0, 3))])
    compare(lambda t: t.norm(), None, [-2.5])
    with pytest.raises(RuntimeError, match="vector_norm.*empty"):
        tg.zeros(0).norm(math.inf)


@pytest.mark.parametrize("order", [2, 3, 1, math.inf, 0])
def test_a_float16_norm_is_summed_in_float32_as_pytorch(order):
    """PyTorch accumulates a float16 norm in float32 and rounds once: ours neither overflows (the sum of 300 squares
    of about 30 is beyond float16's 65504) nor loses more precision. Gradients too."""
    x = (normal(9, (300,)) * 30).astype(np.float16)
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    norms = [tg.linalg.vector_norm(ours, order), torch.linalg.vector_norm(theirs, order)]
    assert norms[0].dtype == tg.float16 and norms[0].item() == norms[1].item() and math.isfinite(norms[0].item())
    assert ours.reshape(3, 100).norm(dim=1).tolist() == theirs.reshape(3, 100).norm(dim=1).tolist()
    norms[0].backward(), norms[1].backward()
    if order != 0:  # (PyTorch leaves the gradient of the count of non-zeros None; ours is 0)
        assert ours.grad.dtype == tg.float16  # (PyTorch's is computed in float16: ours, rounded once, within 1 ulp)
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=2e-3, atol=1e-7)


def test_clip_by_norm_idiom():
    """Manual clipping: g * min(1, max_norm / ||g||), the gradient-clipping lesson's formula."""
    compare(lambda g: g * (1.0 / (g.norm() + 1e-6)).clamp(max=1.0), None, [normal(4, (5,)) * 3])


# ==================================================================== F.normalize
@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 1), (2.0, 0), (3.0, -1), (math.inf, 1)])
def test_normalize(p, dim):
    x = normal(6, (4, 3))
    x[1] = 0.0  # a zero row: eps keeps it at 0
    compare(lambda t: F.normalize(t, p=p, dim=dim), lambda t: TF.normalize(t, p=p, dim=dim), [x])
    compare(lambda t: F.normalize(t * 1e-13, p=p, dim=dim, eps=1e-12),
            lambda t: TF.normalize(t * 1e-13, p=p, dim=dim, eps=1e-12), [x])


def test_normalize_default_and_3d():
    compare(F.normalize, TF.normalize, [normal(7, (2, 3, 4))])
    compare(lambda t: F.normalize(t, dim=0), lambda t: TF.normalize(t, dim=0), [normal(7, (5,))])


# ==================================================================== F.cosine_similarity
def test_cosine_similarity_broadcasts_and_clamps_each_norm_as_pytorch():
    """Issue 34, item 16. A zero row (each norm is clamped at eps on its own, so 0 and a finite gradient), a
    broadcast pair whose dim counts in the broadcast shape, dim=0, a large eps, mixed float32/float64."""
    x, y = normal(8, (4, 3)), normal(9, (4, 3))
    x[1] = 0.0
    compare(F.cosine_similarity, TF.cosine_similarity, [x, y])
    compare(lambda a, b: F.cosine_similarity(a, b, dim=-1, eps=0.5), lambda a, b: TF.cosine_similarity(a, b, -1, 0.5),
            [x, y])
    compare(lambda a, b: F.cosine_similarity(a, b, dim=0), lambda a, b: TF.cosine_similarity(a, b, dim=0), [x, y])
    compare(lambda a, b: F.cosine_similarity(a, b, dim=1), lambda a, b: TF.cosine_similarity(a, b, dim=1),
            [normal(1, (2, 1, 3)), normal(2, (4, 1))])
    assert_same(F.cosine_similarity(tg.ones(2, 3), tg.ones(3, dtype=tg.float64), dim=-1),
                TF.cosine_similarity(torch.ones(2, 3), torch.ones(3, dtype=torch.float64), dim=-1))
    for mistake, kind in ((lambda lib: lib.nn.functional.cosine_similarity(lib.ones(2, 3), lib.ones(2, 4)),
                           RuntimeError),
                          (lambda lib: lib.nn.functional.cosine_similarity(lib.ones(2, 3, dtype=lib.int64),
                                                                           lib.ones(2, 3, dtype=lib.int64)),
                           RuntimeError)):
        for library in (tg, torch):
            with pytest.raises(kind):
                mistake(library)


# ==================================================================== mm
def test_mm_method_and_function():
    compare(lambda a, b: a.mm(b), None, [normal(0, (3, 4)), normal(1, (4, 2))])
    compare(lambda a, b: lib(a).mm(a, b), None, [normal(0, (1, 1)), normal(1, (1, 5))])
    compare(lambda a, b: lib(a).bmm(a, b), None, [normal(0, (2, 3, 4)), normal(1, (2, 4, 5))])


@pytest.mark.parametrize("shapes", [((3,), (3, 2)), ((2, 3), (3,)), ((2, 2, 3), (3, 2))])
def test_mm_wants_matrices(shapes):
    a, b = (tg.ones(s) for s in shapes)
    with pytest.raises(RuntimeError, match="mm: both arguments must be 2-D"):
        a.mm(b)
    with pytest.raises(RuntimeError, match="mm: both arguments must be 2-D"):
        tg.mm(a, b)
    with pytest.raises(RuntimeError):
        torch.mm(torch.ones(shapes[0]), torch.ones(shapes[1]))


def test_bmm_wants_equal_batches():
    with pytest.raises(RuntimeError, match="bmm: expects two 3-D tensors"):
        tg.bmm(tg.ones(2, 3, 4), tg.ones(3, 4, 5))


def test_the_methods_pytorch_has_beside_its_functions():
    """x.bmm, x.allclose, x.isclose, x.equal, p.bernoulli() and x.nelement() (a second sweep of PyTorch scripts)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 2))
    for L in (torch, tg):
        x, y = L.tensor(a, requires_grad=True), L.tensor(b)
        x.bmm(y).sum().backward()
        got = (x.bmm(y).detach().numpy(), x.grad.numpy(), x.allclose(x + 1e-9), x.equal(x.detach().clone()),
               x.isclose(x + 1e-3).numpy(), x.nelement(), L.tensor([0.0, 1.0]).bernoulli().numpy())
        if L is torch:
            want = got
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


@pytest.mark.parametrize("rounding_mode", [None, "floor", "trunc"])
@pytest.mark.parametrize("a, b", [([-7, 7, -8, 8, 5, -5, 0], [2, -2, 2, 3, -3, -3, 4]), ([-7, 7, -8, 0], 2),
                                  ([-7.5, 7.25, -8.0, 0.5], [2.0, -2.0, 2.5, -3.0]), ([-7.5, 7.25], 2.5)])
def test_div_rounding_mode_as_pytorch(a, b, rounding_mode):
    """torch.div(a, b, rounding_mode=...) (the idiom of older code for integer division), the method and ``divide``:
    the same numbers and dtype; integers stay integers when rounded."""
    def run(L):
        x, y = L.tensor(a), (L.tensor(b) if isinstance(b, list) else b)
        results = [L.div(x, y, rounding_mode=rounding_mode), x.div(y, rounding_mode=rounding_mode),
                   L.divide(x, y, rounding_mode=rounding_mode)]
        return [(r.numpy(), str(r.dtype).split(".")[-1]) for r in results]
    for (ours, our_dtype), (theirs, their_dtype) in zip(run(tg), run(torch)):
        np.testing.assert_array_equal(ours, theirs)
        assert our_dtype == their_dtype
    with pytest.raises(RuntimeError, match="div: rounding_mode must be None, 'trunc' or 'floor', got 'round'"):
        tg.tensor(a).div(2, rounding_mode="round")


@pytest.mark.parametrize("expression", [
    "torch.tensor([1, 2]) & torch.tensor([3, 1])", "torch.tensor([1, 2]) | 4", "5 & torch.tensor([1, 4])",
    "torch.tensor([1, 2]) ^ torch.tensor([3, 3])", "torch.tensor([True, False]) & torch.tensor([1, 3])",
    "torch.tensor([True, False]) & True", "True ^ torch.tensor([True, False])",
    "torch.tensor([1, 2], dtype=torch.uint8) & 255", "(torch.tensor([1., -1.]) > 0) | (torch.tensor([2., 3.]) > 2)"])
def test_and_or_xor_are_bitwise_on_integers_and_logical_on_bools(expression):
    """``&``, ``|`` and ``^`` are PyTorch's bitwise operators: ``tensor([1, 2]) & tensor([3, 1])`` is [1, 0] (it was
    [True, True], the logical and, here). Floats are refused, as PyTorch refuses them."""
    ours, theirs = eval(expression, {"torch": tg}), eval(expression, {"torch": torch})
    assert ours.tolist() == theirs.tolist() and str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    with pytest.raises(NotImplementedError, match="&: bitwise ops take integer or bool tensors"):
        tg.tensor([1.0, 2.0]) & tg.tensor([1.0, 0.0])


def test_bitwise_in_place_changes_the_tensor_itself():
    for L in (torch, tg):
        mask, counts = L.tensor([True, False]), L.tensor([3, 1])
        held_mask, held_counts = mask, counts
        mask &= L.tensor([True, True])
        counts |= 4
        counts ^= L.tensor([1, 1])
        assert held_mask.tolist() == [True, False] and held_counts.tolist() == [6, 4] and counts is held_counts


@pytest.mark.parametrize("expression", [
    "torch.tensor([torch.tensor([1.]), torch.tensor([2.])])", "torch.tensor([[torch.tensor([[3]]), 4]])",
    "torch.tensor([torch.tensor(1., dtype=torch.float64), 2.])", "torch.tensor((torch.tensor(1), torch.tensor(2)))",
    "torch.full((20000,), 0.05, dtype=torch.float16).cumsum(0)[-4:]",
    "torch.nn.functional.mse_loss(torch.tensor([0.2, 0.7]), torch.tensor([False, True]))",
    "torch.nn.functional.huber_loss(torch.tensor([0.2, 0.7]), torch.tensor([False, True]))",
    "torch.nn.functional.mse_loss(torch.tensor([0.2, 0.9], dtype=torch.float16), torch.tensor([False, True]))",
    "torch.nn.functional.mse_loss(torch.tensor([False, True]), torch.tensor([0.2, 0.9]))"])
def test_values_as_pytorch_reads_them(expression):
    """A one-element tensor in a list is a number (shape (2,), not (2, 1)); a float16 running sum is summed in float32
    (in float16 it would stop at 128); a bool target counts as 0 and 1 in the losses that take one."""
    ours, theirs = eval(expression, {"torch": tg}), eval(expression, {"torch": torch})
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64), rtol=1e-6)


def test_masked_fill_in_place_as_pytorch():
    """masked_fill_ changes the tensor's own memory, keeps its dtype, is recorded in the graph (the filled places get
    no gradient), and refuses a leaf that requires grad, as PyTorch's."""
    mask = [[True, False, False], [False, True, False]]
    results = []
    for L in (torch, tg):
        w = L.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        h = w * 3
        same = h.masked_fill_(L.tensor(mask), -1.0) is h
        (h * h).sum().backward()
        counts = L.tensor([[1, 2, 3], [4, 5, 6]])
        counts.masked_fill_(L.tensor(mask), 0)
        with pytest.raises(RuntimeError, match="leaf"):
            L.ones(2, requires_grad=True).masked_fill_(L.tensor([True, False]), 0.0)
        results.append((same, h.detach().numpy(), w.grad.numpy(), counts.numpy(), str(counts.dtype).split(".")[1]))
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_array_equal(ours, theirs)


# ==================================================================== out=
OUT_CASES = {
    "add": lambda L, a, b, out: L.add(a, b, out=out),
    "sub": lambda L, a, b, out: L.sub(a, b, out=out),
    "mul": lambda L, a, b, out: L.mul(a, b, out=out),
    "div": lambda L, a, b, out: L.div(a, b, out=out),
    "matmul": lambda L, a, b, out: L.matmul(a, b.T, out=out),
    "mm": lambda L, a, b, out: L.mm(a, b.T, out=out),
    "exp": lambda L, a, b, out: L.exp(a, out=out),
    "log": lambda L, a, b, out: L.log(a.abs(), out=out),
    "sqrt": lambda L, a, b, out: L.sqrt(a.abs(), out=out),
    "sum": lambda L, a, b, out: L.sum(a, 1, out=out),
    "mean": lambda L, a, b, out: L.mean(a, 0, keepdim=True, out=out),
    "prod": lambda L, a, b, out: L.prod(a, 1, out=out),
    "cumsum": lambda L, a, b, out: L.cumsum(a, 1, out=out),
    "cat": lambda L, a, b, out: L.cat([a, b], 0, out=out),
    "stack": lambda L, a, b, out: L.stack([a, b], out=out),
    "where": lambda L, a, b, out: L.where(a > b, a, b, out=out),
    "clamp": lambda L, a, b, out: L.clamp(a, -0.5, 0.5, out=out),
    "maximum": lambda L, a, b, out: L.maximum(a, b, out=out),
    "round": lambda L, a, b, out: L.round(a, out=out),
    "floor": lambda L, a, b, out: L.floor(a, out=out),
    "sigmoid": lambda L, a, b, out: L.sigmoid(a, out=out),
    "tanh": lambda L, a, b, out: L.tanh(a, out=out),
    "pow": lambda L, a, b, out: L.pow(a, 2, out=out),
    "norm": lambda L, a, b, out: L.norm(a, dim=1, out=out),
    "remainder": lambda L, a, b, out: L.remainder(a, b, out=out),
    "zeros": lambda L, a, b, out: L.zeros(2, 3, out=out),
    "ones": lambda L, a, b, out: L.ones((3,), out=out),
    "full": lambda L, a, b, out: L.full((2,), 1.5, out=out),
    "arange": lambda L, a, b, out: L.arange(0, 5, 0.5, out=out),
    "linspace": lambda L, a, b, out: L.linspace(0, 1, 5, out=out),
    "eye": lambda L, a, b, out: L.eye(3, out=out),
}


@pytest.mark.parametrize("name", OUT_CASES)
@pytest.mark.parametrize("out_shape", ["matching", "empty", "other"])
def test_out_writes_into_out_and_returns_it(name, out_shape):
    a, b = normal(1, (2, 3)), normal(2, (2, 3))
    results = []
    for L in (tg, torch):
        expected = OUT_CASES[name](L, L.tensor(a), L.tensor(b), None)
        shape = {"matching": tuple(expected.shape), "empty": (0,), "other": (7,)}[out_shape]
        out = L.zeros(shape, dtype=L.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # resizing a non-empty out warns, in both libraries
            returned = OUT_CASES[name](L, L.tensor(a), L.tensor(b), out)
        assert returned is out
        results.append(out)
    assert_same(*results)


def test_out_resizing_warns_only_when_out_had_elements():
    with pytest.warns(UserWarning, match="resized"):
        tg.add(tg.ones(3), 1, out=tg.zeros(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.add(tg.ones(3), 1, out=tg.zeros(0))


def test_out_keeps_memory_and_dtype():
    array = np.zeros(3)
    out = tg.from_numpy(array)
    tg.mul(tg.tensor([1.0, 2.0, 3.0]), 2, out=out)
    assert array.tolist() == [2.0, 4.0, 6.0] and out.dtype is tg.float64  # written in place, in out's dtype
    assert_same(tg.arange(5, out=tg.zeros(0, dtype=tg.int64)), torch.arange(5, out=torch.zeros(0, dtype=torch.int64)))
    assert_same(tg.add(tg.tensor([1, 2]), 1, out=tg.zeros(2, dtype=tg.float32)),
                torch.add(torch.tensor([1, 2]), 1, out=torch.zeros(2, dtype=torch.float32)))
    assert tg.randn(4, out=tg.zeros(0, dtype=tg.float64)).dtype is tg.float64


def test_out_refuses_a_float_result_in_an_integer_tensor():
    for L in (tg, torch):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            L.add(L.ones(3), 1, out=L.zeros(3, dtype=L.int64))


def test_out_refuses_autograd_like_pytorch():
    for L in (tg, torch):
        w = L.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
            L.mul(w, 2, out=L.zeros(3))
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
            L.add(L.ones(3), 1, out=L.zeros(3, requires_grad=True))
        with L.no_grad():
            out = L.zeros(3)
            L.mul(w, 2, out=out)
            assert out.tolist() == [2.0, 2.0, 2.0] and not out.requires_grad


def test_out_bumps_the_version_of_a_saved_tensor():
    """out= changes its tensor in place: a graph that saved the old numbers must refuse to use them."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0])
    y = (w * x).sum()
    tg.add(tg.ones(2), 1, out=x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_out_must_be_a_tensor():
    with pytest.raises(TypeError, match="add\\(\\): argument 'out' must be a Tensor"):
        tg.add(tg.ones(2), 1, out=np.zeros(2))


# ==================================================================== Variable and the legacy typed constructors
def test_variable_returns_a_tensor():
    from tinygrad_lite.autograd import Variable
    data = tg.tensor([1.0, 2.0])
    v = Variable(data, requires_grad=True)
    assert isinstance(v, tg.Tensor) and v.requires_grad and v.is_leaf and isinstance(data, Variable)
    assert not Variable(data).requires_grad and not isinstance(np.zeros(2), Variable)
    (v * v).sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]
    data[0] = 5.0
    assert v.tolist() == [5.0, 2.0]  # shares the numbers, as PyTorch's Variable(tensor) does
    assert Variable().shape == torch.autograd.Variable().shape
    for V in (Variable, torch.autograd.Variable):
        with pytest.raises(TypeError, match="Variable data has to be a tensor|Variable: data has to be a tensor"):
            V([1.0, 2.0])
    with pytest.warns(UserWarning, match="volatile"):
        Variable(data, volatile=True)


LEGACY = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor", "HalfTensor",
          "ShortTensor", "CharTensor"]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("args", [([1, 0, 2],), ([[1.7, -0.2], [3.0, 0.0]],), ((2, 3),), (2, 3), (4,), (),
                                  ("size",), (np.array([1.5, 2.0]),)])
def test_legacy_typed_constructors(name, args):
    if isinstance(args[0] if args else None, str):
        args_ours, args_theirs = (tg.Size([2, 3]),), (torch.Size([2, 3]),)
    else:
        args_ours = args_theirs = args
    if name in ("ByteTensor",) and any(isinstance(a, list) and a and isinstance(a[0], list) for a in args):
        pytest.skip("negative floats into uint8: platform-dependent")
    ours, theirs = getattr(tg, name)(*args_ours), getattr(torch, name)(*args_theirs)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    is_data = bool(args) and not all(isinstance(a, int) for a in args) and not isinstance(args[0], str)
    if is_data:  # (sizes give uninitialised numbers in PyTorch)
        assert_same(ours, theirs)
    assert isinstance(ours, getattr(tg, name))
    assert not isinstance(ours.float() if name != "FloatTensor" else ours.double(), getattr(tg, name))


def test_legacy_constructor_errors():
    with pytest.raises(TypeError, match="FloatTensor\\(\\): expected a float32 tensor, got int64"):
        tg.FloatTensor(tg.tensor([1, 2]))
    with pytest.raises(TypeError, match="LongTensor\\(\\): data must be a sequence"):
        tg.LongTensor(2.5)
    with pytest.raises(TypeError):
        tg.FloatTensor([1.0], 2)
    same = tg.tensor([1.0, 2.0])
    assert tg.FloatTensor(same).tolist() == [1.0, 2.0]


# ==================================================================== new_*, empty_like
NEW = {
    "new_tensor": lambda t: t.new_tensor([1, 2, 3]),
    "new_tensor dtype": lambda t: t.new_tensor([1.5, 2.5], dtype=lib(t).float32),
    "new_zeros": lambda t: t.new_zeros(2, 3),
    "new_zeros tuple": lambda t: t.new_zeros((2,)),
    "new_ones": lambda t: t.new_ones((3, 1)),
    "new_ones dtype": lambda t: t.new_ones(2, dtype=lib(t).int64),
    "new_full": lambda t: t.new_full((2, 2), 7),
    "new_full float": lambda t: t.new_full([3], -0.5),
    "new_empty shape": lambda t: t.new_empty(2, 5).shape,
    "empty_like": lambda t: lib(t).empty_like(t).shape,
    "empty_like dtype": lambda t: lib(t).empty_like(t, dtype=lib(t).int32).dtype,
}


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_new_tensors_follow_this_ones_dtype(name, dtype):
    ours, theirs = NEW[name](tg.zeros(2, dtype=getattr(tg, dtype))), NEW[name](torch.zeros(2, dtype=getattr(torch,
                                                                                                           dtype)))
    if isinstance(theirs, torch.Tensor):
        assert_same(ours, theirs)
    elif isinstance(theirs, torch.dtype):
        assert ours.name == str(theirs).removeprefix("torch.")
    else:
        assert tuple(ours) == tuple(theirs)


def test_new_tensor_copies_and_takes_requires_grad():
    source = tg.tensor([1.0, 2.0])
    t = source.new_tensor(source, requires_grad=True)
    source[0] = 9.0
    assert t.tolist() == [1.0, 2.0] and t.requires_grad and t.is_leaf
    assert tg.ones(2).new_zeros(3, requires_grad=True).requires_grad


# ==================================================================== devices and backends
def test_default_device():
    assert str(tg.get_default_device()) == str(torch.get_default_device()) == "cpu"
    tg.set_default_device("cpu")
    try:
        assert tg.zeros(2).device == tg.device("cpu") and tg.tensor([1]).device.type == "cpu"
        with pytest.raises(RuntimeError, match="expected one of cpu, cuda"):
            tg.set_default_device("tpu")
    finally:
        tg.set_default_device(None)
    assert tg.get_default_device() == tg.device("cpu")


def test_backends():
    assert tg.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert tg.backends.mps.is_built() is False
    tg.backends.cudnn.deterministic = True
    tg.backends.cudnn.benchmark = False
    assert tg.backends.cudnn.is_available() is False
    device = "mps" if tg.backends.mps.is_available() else "cpu"
    assert tg.ones(2, device=device).device.type == "cpu"


def test_the_seed_everything_switches_as_pytorch(monkeypatch):
    """use_deterministic_algorithms and set_float32_matmul_precision are stored and read back as PyTorch's (they change
    nothing on the CPU, ours or PyTorch's); set_num_threads limits numpy's BLAS through threadpoolctl, and without it
    says that it changed nothing."""
    for lib in (tg, torch):
        assert lib.are_deterministic_algorithms_enabled() is False and lib.get_float32_matmul_precision() == "highest"
        try:
            lib.use_deterministic_algorithms(True, warn_only=True)
            assert lib.are_deterministic_algorithms_enabled() and lib.is_deterministic_algorithms_warn_only_enabled()
            lib.set_float32_matmul_precision("high")
            with pytest.warns(UserWarning, match="fast is not one of 'highest', 'high', or 'medium'"):
                lib.set_float32_matmul_precision("fast")  # ignored, with a warning
            assert lib.get_float32_matmul_precision() == "high"
        finally:
            lib.use_deterministic_algorithms(False)
            lib.set_float32_matmul_precision("highest")
        with pytest.raises(TypeError, match=r"deterministic_algorithms\(\): argument 'mode' .*must be bool"):
            lib.use_deterministic_algorithms(1)
        for bad, message in ((0, "expects a positive integer"), (2.0, "expects an int, but got float"),
                             (True, "expects an int, but got bool")):
            with pytest.raises(RuntimeError, match=f"set_num_threads {message}"):
                lib.set_num_threads(bad)
        with pytest.raises(RuntimeError, match="set_float32_matmul_precision expects a str, but got int"):
            lib.set_float32_matmul_precision(1)
    assert isinstance(tg.get_num_threads(), int) and tg.get_num_threads() >= 1
    monkeypatch.setattr(tg.settings, "_threadpoolctl", lambda: None)  # threadpoolctl not installed
    with pytest.warns(UserWarning, match=r"set_num_threads\(1\) changed nothing.*pip install threadpoolctl.*"
                                         r"OMP_NUM_THREADS"):
        tg.set_num_threads(1)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert tg.get_num_threads() == 3  # what the environment gave numpy's BLAS at its start
    calls = []

    class FakeThreadpoolctl:  # the two calls of threadpoolctl's that the library makes
        @staticmethod
        def threadpool_limits(limits=None, user_api=None):
            calls.append((limits, user_api))

        @staticmethod
        def threadpool_info():
            return [{"user_api": "blas", "num_threads": calls[-1][0]}, {"user_api": "openmp", "num_threads": 8}]
    monkeypatch.setattr(tg.settings, "_threadpoolctl", lambda: FakeThreadpoolctl)
    tg.set_num_threads(2)
    assert calls == [(2, "blas")] and tg.get_num_threads() == 2


# ==================================================================== grad_fn.next_functions
def _structure(fn, depth=3):
    """A graph node as nested (op name, children), without PyTorch's "Backward0" suffix; "leaf" for AccumulateGrad."""
    if fn is None:
        return None
    if hasattr(fn, "variable"):
        return "leaf"
    name = fn.name().rstrip("0123456789").removesuffix("Backward")
    children = tuple((_structure(f, depth - 1), i) for f, i in fn.next_functions) if depth else ()
    return name, children


def test_next_functions_like_pytorch():
    results = []
    for L in (tg, torch):
        w = L.tensor([1.0, 2.0], requires_grad=True)
        b = L.tensor(0.5, requires_grad=True)
        x = L.tensor([3.0, 4.0])
        loss = ((w * x).sum() + b).exp()
        results.append(_structure(loss.grad_fn, depth=4))
        leaf = loss.grad_fn.next_functions[0][0].next_functions[1][0]
        assert leaf.variable is b and leaf.name() == "torch::autograd::AccumulateGrad" and leaf.next_functions == ()
        mul = loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
        assert mul.next_functions[1] == (None, 0)  # x needs no gradient
        assert mul.next_functions[0][0].variable is w
        assert mul.name().startswith("MulBackward")
    assert results[0] == results[1]


def test_next_functions_reuses_one_node_per_leaf():
    w = tg.tensor([1.0], requires_grad=True)
    y = w * 2 + w
    add_inputs = y.grad_fn.next_functions
    assert add_inputs[1][0] is add_inputs[0][0].next_functions[0][0]  # the same AccumulateGrad for w


# ==================================================================== optimizers: PyTorch's implementation flags
# every optimizer that optim exports, with its settings (registry.py) and the implementation flags that PyTorch's
# optimizer of that name accepts (of foreach, fused, capturable, differentiable)
OPTIMIZERS = {name: (SETTINGS[name], [flag for flag in ("foreach", "fused", "capturable", "differentiable")
                                      if flag in inspect.signature(getattr(torch.optim, name)).parameters])
              for name in REGISTERED_OPTIMIZERS}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_implementation_flags_are_accepted_and_change_nothing(name):
    kwargs, flags = OPTIMIZERS[name]
    finals = []
    for extra in ({}, {f: (True if f in ("foreach", "capturable") else False) for f in flags},
                  {f: (True if f == "fused" else None if f == "foreach" else False) for f in flags}):
        w = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
        opt = getattr(tg.optim, name)([w], **kwargs, **extra)
        for _ in range(3):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        finals.append(w.tolist())
    assert finals[0] == finals[1] == finals[2]
    torch_opt = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs, foreach=False)
    assert torch_opt is not None


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_flags_that_cannot_be_honoured_raise(name):
    w = tg.tensor([1.0], requires_grad=True)
    kwargs, flags = OPTIMIZERS[name]
    with pytest.raises(NotImplementedError, match=f"{name}: differentiable=True"):
        getattr(tg.optim, name)([w], **kwargs, differentiable=True)
    if "fused" in flags:
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
            getattr(tg.optim, name)([w], **kwargs, fused=True, foreach=True)


# ==================================================================== bad arguments: clear errors naming the function
BAD = [
    (lambda: tg.ones(3).topk(4), RuntimeError, "topk: k \\(4\\) is out of range"),
    (lambda: tg.ones(3).topk(-1), RuntimeError, "topk: k"),
    (lambda: tg.ones(3).topk(1.5), TypeError, "topk\\(\\): argument 'k' must be an int"),
    (lambda: tg.ones(2, 3).sort(dim=2), IndexError, "argsort: dim 2 is out of range"),
    (lambda: tg.ones(3).gather(0, tg.tensor([3])), RuntimeError, "gather: index out of range"),
    (lambda: tg.ones(3).gather(0, tg.tensor([-1])), RuntimeError, "gather: index out of range"),
    (lambda: tg.ones(3).gather(0, tg.tensor([0.0])), RuntimeError, "gather: index must be an integer"),
    (lambda: tg.ones(2, 3).gather(1, tg.tensor([0, 1])), RuntimeError, "gather: index shape"),
    (lambda: tg.tensor([1.0, 2.0]).bincount(), RuntimeError, "bincount: only supports 1-d non-negative integral"),
    (lambda: tg.tensor([[1, 2]]).bincount(), RuntimeError, "bincount: only supports 1-d"),
    (lambda: tg.tensor([1, -2]).bincount(), RuntimeError, "bincount: the input has negative values"),
    (lambda: tg.tensor([1, 2]).bincount(minlength=-1), RuntimeError, "bincount: minlength should be >= 0"),
    (lambda: tg.tensor([1, 2]).bincount(tg.ones(3)), RuntimeError, "bincount: weights should have the same shape"),
    (lambda: tg.tensor([1, 2]).norm(), RuntimeError, "vector_norm: expected a floating point tensor"),
    (lambda: tg.linalg.vector_norm(tg.ones(2), ord="fro"), RuntimeError, "vector_norm: ord must be a number"),
    (lambda: tg.linalg.matrix_norm(tg.ones(2, 2), ord="spectral"), RuntimeError, "matrix_norm: ord must be 'fro'"),
    (lambda: tg.linalg.matrix_norm(tg.ones(2)), RuntimeError, "matrix_norm: the input must have at least 2 dims"),
    (lambda: tg.linalg.norm(tg.ones(2, 2, 2), ord=1), RuntimeError, "linalg.norm: with ord=1 and no dim"),
    (lambda: tg.linalg.norm([1.0, 2.0]), TypeError, "argument 'input' must be a Tensor"),
    (lambda: tg.ones(2).cumsum(1), IndexError, "cumsum: dim 1 is out of range"),
    (lambda: tg.ones(2).prod(3), IndexError, "prod: dim 3 is out of range"),
    (lambda: tg.where(tg.ones(2) > 0, tg.ones(2)), TypeError, "where\\(\\): give both input and other"),
    (lambda: tg.where([True, False]), TypeError, "where\\(\\): argument 'condition' must be a Tensor"),
    (lambda: F.normalize(tg.tensor([1, 2])), RuntimeError, "normalize\\(\\): expected a floating point"),
    (lambda: F.normalize(tg.tensor(1.0)), IndexError, "normalize: dim 1 is out of range"),
    (lambda: tg.round([1.5]), TypeError, "round\\(\\): argument 'input' must be a Tensor"),
    (lambda: tg.ones(2).round(decimals=1.5), TypeError, "round\\(\\): argument 'decimals' must be an int"),
    (lambda: tg.ones(2).round(decimals=2**40), RuntimeError, "round: decimals=.* is out of range"),
    (lambda: tg.ones(2).prod(dtype="abc"), TypeError, "dtype"),
    (lambda: tg.optim.SGD([tg.ones(1, requires_grad=True)], foreach="yes"), TypeError, "SGD: foreach must be"),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_arguments_give_clear_errors(case):
    call, error, message = BAD[case]
    with pytest.raises(error, match=message):
        call()


def test_sizes_in_bytes_and_a_masked_rows_softmax_as_pytorchs():
    """(session 48, from scripts of the r45 round) element_size/itemsize/nbytes and torch.is_floating_point; a
    softmax over a row of -inf only (an attention row with every key masked) is nan without numpy's warning."""
    for lib in (tg, torch):
        x = lib.ones(3, 2, dtype=lib.float16)
        assert (x.element_size(), x.itemsize, x.nbytes) == (2, 2, 12)
        assert lib.is_floating_point(x) and not lib.is_floating_point(lib.ones(2, dtype=lib.int64))
        row = lib.tensor([[-math.inf, -math.inf], [0.0, 1.0]])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            soft, log_soft = lib.softmax(row, 1), lib.log_softmax(row, 1)
        assert soft[0].isnan().all() and log_soft[0].isnan().all() and not soft[1].isnan().any()
