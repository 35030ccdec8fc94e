"""Every op against PyTorch in float64: forward values and the gradient of every input (rtol 1e-8).

Hypothesis draws the shapes (0-d, size-1 dims, broadcasting, up to 4 dims), dims and keepdim flags; the
numbers come from a numpy generator seeded by hypothesis, so ties and kinks are hit only where a test puts
them on purpose (clamp at its bounds, maximum/minimum ties, max/amax ties, comparisons).
"""
import math
import operator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import (
    assert_same,
    away_from_zero,
    broadcast_shapes,
    compare,
    dims,
    leaves,
    normal,
    positive,
    seeds,
    shapes,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_lite as tg
from tinygrad_lite.ops.activation import GELU, LeakyReLU

FEW = settings(max_examples=20)


def lib(x):
    """The library a tensor belongs to (so one lambda can call ``tg.cat`` or ``torch.cat`` as needed)."""
    return torch if isinstance(x, torch.Tensor) else tg


# ==================================================================== binary arithmetic with broadcasting
BINARY = {
    "add": (operator.add, normal, normal),
    "sub": (operator.sub, normal, normal),
    "mul": (operator.mul, normal, normal),
    "truediv": (operator.truediv, normal, away_from_zero),
    "pow": (operator.pow, positive, normal),
    "add_fn": (lambda x, y: lib(x).add(x, y), normal, normal),
    "add_alpha": (lambda x, y: x.add(y, alpha=2.5), normal, normal),
    "sub_alpha": (lambda x, y: lib(x).sub(x, y, alpha=-3), normal, normal),
    "mul_fn": (lambda x, y: lib(x).mul(x, y), normal, normal),
    "div_fn": (lambda x, y: lib(x).div(x, y), normal, away_from_zero),
    "pow_fn": (lambda x, y: lib(x).pow(x, y), positive, normal),
    "pow_method": (lambda x, y: x.pow(y), positive, normal),
    "mod": (operator.mod, normal, away_from_zero),  # a % b: gradient 1 for a, -floor(a / b) for b
    "remainder_fn": (lambda x, y: lib(x).remainder(x, y), normal, away_from_zero),
    "fmod_fn": (lambda x, y: lib(x).fmod(x, y), normal, away_from_zero),
}


@pytest.mark.parametrize("name", BINARY)
@given(shapes=broadcast_shapes(2), seed=seeds)
def test_binary_broadcasting(name, shapes, seed):
    fn, make_x, make_y = BINARY[name]
    compare(fn, None, [make_x(seed, shapes[0]), make_y(seed + 1, shapes[1])], seed=seed)


@pytest.mark.parametrize("requires_grad", [(True, False), (False, True)])
@given(shapes=broadcast_shapes(2), seed=seeds)
@FEW
def test_binary_one_input_without_grad(requires_grad, shapes, seed):
    compare(lambda x, y: x * y + x / y - y ** 2, None,
            [normal(seed, shapes[0]), away_from_zero(seed + 1, shapes[1])], requires_grad=requires_grad, seed=seed)


@given(shapes=broadcast_shapes(3), seed=seeds)
@FEW
def test_same_tensor_used_twice_and_broadcast(shapes, seed):
    """Gradients from several uses of one input (and of its broadcasts) add up."""
    compare(lambda x, y, z: x * y + x * z - (y * x).exp() * z, None,
            [normal(seed + k, s) for k, s in enumerate(shapes)], seed=seed)


# ==================================================================== Python numbers, both sides of the operator
SCALAR = {
    "2 - x": (lambda x: 2 - x, normal),
    "x - 2.5": (lambda x: x - 2.5, normal),
    "1 + x": (lambda x: 1 + x, normal),
    "x + 0.5": (lambda x: x + 0.5, normal),
    "3 * x": (lambda x: 3 * x, normal),
    "x * -0.5": (lambda x: x * -0.5, normal),
    "2 / x": (lambda x: 2 / x, away_from_zero),
    "x / 3": (lambda x: x / 3, normal),
    "2 ** x": (lambda x: 2 ** x, normal),
    "0.5 ** x": (lambda x: 0.5 ** x, normal),
    "x ** 3": (lambda x: x ** 3, normal),
    "x ** 2": (lambda x: x ** 2, normal),
    "x ** 1": (lambda x: x ** 1, normal),
    "x ** 0": (lambda x: x ** 0, normal),
    "x ** -2": (lambda x: x ** -2, away_from_zero),
    "x ** 0.5": (lambda x: x ** 0.5, positive),
    "x ** -1.5": (lambda x: x ** -1.5, positive),
    "x ** 2.5": (lambda x: x ** 2.5, positive),
    "-x": (lambda x: -x, normal),
    "neg": (lambda x: x.neg(), normal),
    "square": (lambda x: x.square(), normal),
    "x.pow(3)": (lambda x: x.pow(3), normal),
}


@pytest.mark.parametrize("name", SCALAR)
@given(shape=shapes(), seed=seeds)
@FEW
def test_python_number_operands(name, shape, seed):
    fn, make = SCALAR[name]
    compare(fn, None, [make(seed, shape)], seed=seed)


PROMOTION_CASES = [(expr, dtype, "int64") for expr in ["x + 2", "2 * x", "x / 2", "2 / x", "x ** 2", "2 ** x",
                                                        "x - 2.5", "x * 2.5", "x + True"]
                   for dtype in ["int64", "int32", "bool", "float32", "float64"]
                   if not (dtype == "bool" and ("-" in expr or "**" in expr))]  # PyTorch refuses those for bool
PROMOTION_CASES += [(expr, dtype, other) for expr in ["x + y", "x * y", "x / y", "y - x"]
                    for dtype in ["int64", "int32", "bool", "float32", "float64"]
                    for other in ["int64", "float32", "float64_0d", "int32_0d"]
                    if not (dtype == "bool" and "-" in expr)]


@pytest.mark.parametrize("expr, dtype, other", PROMOTION_CASES)
def test_result_dtype_follows_pytorch_promotion(expr, dtype, other):
    """Type promotion: category first, Python numbers and 0-d tensors are weak (result dtypes and values)."""
    xs = np.array([[1, 2, 3], [3, 1, 2]])
    ys = np.array(3) if other.endswith("_0d") else np.array([2, 1, 3])
    odt = other.removesuffix("_0d")
    ours = eval(expr, {"x": tg.tensor(xs).to(getattr(tg, dtype)), "y": tg.tensor(ys).to(getattr(tg, odt))})
    theirs = eval(expr, {"x": torch.tensor(xs).to(getattr(torch, dtype)),
                         "y": torch.tensor(ys).to(getattr(torch, odt))})
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64), rtol=1e-6)


# ==================================================================== unary functions
UNARY = {
    "abs": normal, "neg": normal, "exp": normal, "log": positive, "log1p": lambda s, sh: positive(s, sh, -0.5, 2),
    "sqrt": positive, "rsqrt": positive, "sin": normal, "cos": normal, "relu": normal, "sigmoid": normal,
    "tanh": normal,
    "square": normal, "floor": normal, "ceil": normal, "trunc": normal, "round": normal, "sign": normal,
}


@pytest.mark.parametrize("form", ["method", "function"])
@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes(), seed=seeds)
@FEW
def test_unary(name, form, shape, seed):
    if form == "method":
        fn = lambda x: getattr(x, name)()  # noqa: E731
    else:
        fn = lambda x: getattr(lib(x), name)(x)  # noqa: E731
    compare(fn, None, [UNARY[name](seed, shape)], seed=seed)


def test_abs_of_python_abs_and_large_inputs():
    compare(lambda x: abs(x), None, [[-2.0, 3.0, -0.5]])
    compare(lambda x: x.sigmoid(), None, [[-800.0, -40.0, 0.0, 40.0, 800.0]])  # no overflow warnings or nan
    compare(lambda x: x.tanh(), None, [[-400.0, 400.0, 1e-9]])


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_kinks_at_zero_follow_pytorch(x):
    """At x = 0: d|x|/dx = 0 and d relu(x)/dx = 0, as in PyTorch."""
    compare(lambda t: t.abs() + t.relu() + lib(t).relu(t * 2), None, [[x, 1.0, -1.0]])


# ==================================================================== activations in ops/activation.py
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@given(shape=shapes(), seed=seeds)
@FEW
def test_gelu(approximate, shape, seed):
    x = normal(seed, shape) * 3
    compare(lambda t: GELU.apply(t, approximate=approximate), lambda t: F.gelu(t, approximate=approximate), [x],
            seed=seed)


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.5])
@given(shape=shapes(), seed=seeds)
@FEW
def test_leaky_relu(slope, shape, seed):
    x = normal(seed, shape)
    compare(lambda t: LeakyReLU.apply(t, negative_slope=slope), lambda t: F.leaky_relu(t, negative_slope=slope),
            [x], seed=seed)


def test_leaky_relu_and_gelu_defaults_and_zero():
    compare(lambda t: LeakyReLU.apply(t), F.leaky_relu, [[0.0, -1.0, 2.0]])
    compare(lambda t: GELU.apply(t), F.gelu, [[0.0, -8.0, 8.0, 1e-3]])


# ==================================================================== softmax and log_softmax
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("form", ["method", "function"])
@given(shape=shapes(), data=st.data(), seed=seeds)
def test_softmax(name, form, shape, data, seed):
    n = max(len(shape), 1)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    x = normal(seed, shape) * 5
    if form == "method":
        fn = lambda t: getattr(t, name)(dim)  # noqa: E731
    else:
        fn = lambda t: getattr(lib(t), name)(t, dim=dim)  # noqa: E731
    compare(fn, None, [x], seed=seed)


def test_softmax_large_values_are_stable():
    x = [[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1e4]]
    for name in ("softmax", "log_softmax"):
        compare(lambda t, name=name: getattr(t, name)(-1), None, [x])
        compare(lambda t, name=name: getattr(t, name)(0), None, [x])
    for lib in (tg, torch):  # dtype=, in every form PyTorch takes it
        x = lib.tensor([[1.0, 2.0]])
        for out in (lib.softmax(x, 1, dtype=lib.float64), x.log_softmax(1, dtype=lib.float64),
                    lib.nn.functional.softmax(x, 1, dtype=lib.float64)):
            assert out.dtype == lib.float64


# ==================================================================== reductions
def _call_dim(name, dim, keepdim):
    if dim is None and not keepdim:
        return lambda t: getattr(t, name)()
    return lambda t: getattr(t, name)(dim, keepdim=keepdim)


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(shape=shapes(), data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_sum_mean(name, shape, data, keepdim, seed):
    dim = data.draw(dims(len(shape)), label="dim")
    compare(_call_dim(name, dim, keepdim), None, [normal(seed, shape)], seed=seed)


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(shape=shapes(min_dims=1), data=st.data(), seed=seeds)
@FEW
def test_sum_mean_functions_and_list_dims(name, shape, data, seed):
    dim = data.draw(dims(len(shape), allow_none=False), label="dim")
    dim = list(dim) if isinstance(dim, tuple) else dim
    compare(lambda t: getattr(lib(t), name)(t, dim=dim, keepdim=True), None, [normal(seed, shape)], seed=seed)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("ties", [False, True])
@given(shape=shapes(), data=st.data(), keepdim=st.booleans(), seed=seeds)
@FEW
def test_amax_amin(name, ties, shape, data, keepdim, seed):
    """With ties the gradient is shared equally among the tied extremes, as in PyTorch."""
    dim = data.draw(dims(len(shape)), label="dim")
    x = np.round(normal(seed, shape)) if ties else normal(seed, shape)
    if dim is None:
        fn = lambda t: getattr(t, name)(keepdim=keepdim)  # noqa: E731
    else:
        fn = lambda t: getattr(t, name)(dim, keepdim)  # noqa: E731
    compare(fn, None, [x], seed=seed)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("ties", [False, True])
@given(shape=shapes(), seed=seeds)
@FEW
def test_max_min_of_all_elements(name, ties, shape, seed):
    x = np.round(normal(seed, shape)) if ties else normal(seed, shape)
    compare(lambda t, name=name: getattr(t, name)(), None, [x], seed=seed)
    compare(lambda t: getattr(lib(t), name)(t), None, [x], seed=seed)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("ties", [False, True])
@given(shape=shapes(min_dims=1), data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_max_min_along_dim(name, ties, shape, data, keepdim, seed):
    """max(dim) returns (values, indices); the gradient goes to the index returned (the first one on ties).

    (0-d inputs: see test_max_min_along_dim_of_zero_dim_tensor.)
    """
    n = max(len(shape), 1)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    x = np.round(normal(seed, shape)) if ties else normal(seed, shape)
    ours, theirs = compare(lambda t, name=name: getattr(t, name)(dim, keepdim), None, [x], seed=seed)
    compare(lambda t: getattr(lib(t), name)(t, dim, keepdim=keepdim), None, [x], seed=seed)
    ours_t = getattr(tg.tensor(x), name)(dim, keepdim=keepdim)
    assert_same(ours_t.values, theirs[0].detach(), "values")
    assert_same(ours_t.indices, theirs[1], "indices")
    values, indices = ours_t
    assert_same(indices, theirs[1], "indices (unpacked)")


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(shape=shapes(), data=st.data(), keepdim=st.booleans(), ties=st.booleans(), seed=seeds)
def test_argmax_argmin(name, shape, data, keepdim, ties, seed):
    dim = data.draw(dims(len(shape), allow_tuple=False), label="dim")
    x = np.round(normal(seed, shape)) if ties else normal(seed, shape)
    ours, theirs = leaves([x], requires_grad=False)
    assert_same(getattr(ours[0], name)(dim, keepdim), getattr(theirs[0], name)(dim, keepdim))
    assert_same(getattr(tg, name)(ours[0], dim=dim, keepdim=keepdim),
                getattr(torch, name)(theirs[0], dim=dim, keepdim=keepdim))


@pytest.mark.parametrize("name", ["var", "std"])
@given(shape=shapes(), data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_var_std(name, shape, data, keepdim, seed):
    dim = data.draw(dims(len(shape)), label="dim")
    reduced = range(len(shape)) if dim is None else [dim] if isinstance(dim, int) else dim
    n = math.prod(shape[d] for d in reduced) if shape else 1
    style = data.draw(st.sampled_from(["default", "unbiased", "correction"]), label="style")
    if style == "default":
        assume(n > 1)
        fn = lambda t: getattr(t, name)(dim, keepdim=keepdim)  # noqa: E731
    elif style == "unbiased":
        unbiased = data.draw(st.booleans(), label="unbiased")
        assume(n > unbiased)
        fn = lambda t: getattr(t, name)(dim, unbiased, keepdim)  # noqa: E731
    else:
        correction = data.draw(st.sampled_from([0, 1, 2]), label="correction")
        assume(n > correction)
        fn = lambda t: getattr(t, name)(dim, correction=correction, keepdim=keepdim)  # noqa: E731
    compare(fn, None, [normal(seed, shape)], seed=seed)
    compare(lambda t: getattr(lib(t), name)(t), None, [normal(seed, (3, 4))], seed=seed)


def test_std_of_constant_values_has_zero_gradient():
    """Where the spread is 0, PyTorch's std gradient is 0 (not nan from 0 * inf)."""
    compare(lambda t: t.std(), None, [[1.5, 1.5, 1.5]])
    compare(lambda t: t.std(0, correction=0), None, [[[1.0, 2.0]]])
    compare(lambda t: t.std(1, keepdim=True), None, [[[1.0, 1.0], [1.0, 3.0]]])


def test_every_reduction_states_its_math_and_pytorchs_defaults_in_help():
    """help(x.std) must confirm what lesson 10 relies on: the divisor N - 1 by default (correction=1), as PyTorch."""
    for name in ("sum mean var std max min amax amin argmax argmin prod logsumexp norm all any cumsum "
                 "cumprod").split():
        doc = getattr(tg.Tensor, name).__doc__
        assert doc and len(doc) > 60, f"Tensor.{name} has no docstring that states its math"
    for name in ("var", "std"):
        doc = getattr(tg.Tensor, name).__doc__
        assert "correction=1" in doc and "N - 1" in doc and "unbiased=False" in doc, doc
        ours, theirs = leaves([[1.0, 2.0, 4.0]], requires_grad=False)
        assert_same(getattr(ours[0], name)(), getattr(theirs[0], name)())


@pytest.mark.parametrize("dim", [0, -1, (0,), (-1,)])
def test_zero_dim_tensor_accepts_dim_0_and_minus_1(dim):
    """PyTorch lets a 0-d tensor be reduced along dim 0 or -1 (it is its own result)."""
    for name in ("sum", "mean", "amax", "amin", "logsumexp"):
        compare(lambda t, name=name: getattr(t, name)(dim, keepdim=True), None, [1.5])
        compare(lambda t, name=name: getattr(t, name)(dim), None, [1.5])
    compare(lambda t: t.var(dim, correction=0) + t.std(dim, correction=0) + t.squeeze(dim), None, [1.5])
    if isinstance(dim, int):
        for name in ("softmax", "log_softmax", "argmax", "argmin"):
            compare(lambda t, name=name: getattr(t, name)(dim), None, [1.5])
        compare(lambda t: t.transpose(dim, 0) + t.flatten(dim, -1).sum() + t.unsqueeze(dim).sum(), None, [1.5])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim_of_zero_dim_tensor(name, keepdim):
    compare(lambda t, name=name: getattr(t, name)(-1, keepdim), None, [1.5])


@given(shape=shapes(), data=st.data(), keepdim=st.booleans(), seed=seeds)
def test_logsumexp(shape, data, keepdim, seed):
    dim = data.draw(dims(len(shape), allow_none=False), label="dim")
    x = normal(seed, shape) * 10
    compare(lambda t: t.logsumexp(dim, keepdim=keepdim), None, [x], seed=seed)
    compare(lambda t: lib(t).logsumexp(t, dim, keepdim), None, [x + 800], seed=seed)  # stable for large inputs


# ==================================================================== shapes
@st.composite
def reshape_targets(draw, shape):
    """A shape with the same number of elements as ``shape``, maybe with one -1."""
    n = math.prod(shape)
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    factors = draw(st.permutations(factors))
    target = []
    for f in factors:
        if target and draw(st.booleans()):
            target[-1] *= f
        else:
            target.append(f)
    for _ in range(draw(st.integers(0, 2))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


@pytest.mark.parametrize("name", ["reshape", "view"])
@given(shape=shapes(), data=st.data(), seed=seeds)
def test_reshape_view(name, shape, data, seed):
    target = data.draw(reshape_targets(shape), label="target")
    compare(lambda t, name=name: getattr(t, name)(target), None, [normal(seed, shape)], seed=seed)
    if target:  # PyTorch needs at least one size in the unpacked form
        compare(lambda t, name=name: getattr(t, name)(*target), None, [normal(seed, shape)], seed=seed)
    if name == "reshape":
        compare(lambda t: lib(t).reshape(t, target), None, [normal(seed, shape)], seed=seed)


@given(shape=shapes(), data=st.data(), seed=seeds)
def test_flatten(shape, data, seed):
    n = max(len(shape), 1)
    start = data.draw(st.integers(-n, n - 1), label="start")
    end = data.draw(st.integers(-n, n - 1), label="end")
    assume(start % n <= end % n)
    compare(lambda t: t.flatten(start, end), None, [normal(seed, shape)], seed=seed)
    compare(lambda t: lib(t).flatten(t, start_dim=start), None, [normal(seed, shape)], seed=seed)
    compare(lambda t: t.flatten(), None, [normal(seed, shape)], seed=seed)


@given(shape=shapes(), data=st.data(), seed=seeds)
def test_transpose_permute(shape, data, seed):
    n = max(len(shape), 1)
    d0, d1 = data.draw(st.integers(-n, n - 1), label="d0"), data.draw(st.integers(-n, n - 1), label="d1")
    x = normal(seed, shape)
    compare(lambda t: t.transpose(d0, d1), None, [x], seed=seed)
    compare(lambda t: lib(t).transpose(t, d0, d1), None, [x], seed=seed)
    order = data.draw(st.permutations(range(len(shape))), label="order")
    order = [d - len(shape) if data.draw(st.booleans()) else d for d in order]
    if order:  # PyTorch needs at least one dim in the unpacked form
        compare(lambda t: t.permute(*order), None, [x], seed=seed)
    compare(lambda t: t.permute(order), None, [x], seed=seed)
    compare(lambda t: lib(t).permute(t, order), None, [x], seed=seed)


@given(shape=shapes(max_dims=2), seed=seeds)
@FEW
def test_T_and_t(shape, seed):
    x = normal(seed, shape)
    if len(shape) == 2:  # PyTorch deprecates .T for other numbers of dims
        compare(lambda t: t.T, None, [x], seed=seed)
    compare(lambda t: t.t(), None, [x], seed=seed)
    compare(lambda t: lib(t).t(t) * 2, None, [x], seed=seed)


@given(shape=shapes(max_side=2), data=st.data(), seed=seeds)
def test_squeeze_unsqueeze(shape, data, seed):
    x = normal(seed, shape)
    compare(lambda t: t.squeeze(), None, [x], seed=seed)
    n = max(len(shape), 1)
    d = data.draw(st.integers(-n, n - 1), label="squeeze dim")
    compare(lambda t: t.squeeze(d), None, [x], seed=seed)
    ds = data.draw(dims(len(shape), allow_none=False), label="squeeze dims")
    compare(lambda t: lib(t).squeeze(t, ds), None, [x], seed=seed)
    u = data.draw(st.integers(-len(shape) - 1, len(shape)), label="unsqueeze dim")
    compare(lambda t: t.unsqueeze(u), None, [x], seed=seed)
    compare(lambda t: lib(t).unsqueeze(t, u).unsqueeze(0), None, [x], seed=seed)


@given(shapes=broadcast_shapes(2), data=st.data(), seed=seeds)
def test_expand(shapes, data, seed):
    """expand to a shape the input broadcasts to; -1 keeps a size; the gradient is summed over the copies."""
    small, other = shapes
    target = list(np.broadcast_shapes(small, other))
    lead = len(target) - len(small)
    for i in range(len(small)):
        if small[i] == target[lead + i] and data.draw(st.booleans(), label="-1"):
            target[lead + i] = -1
    x, y = normal(seed, small), normal(seed + 1, other)
    if target:  # PyTorch needs at least one size in the unpacked form
        compare(lambda t: t.expand(*target), None, [x], seed=seed)
    compare(lambda t: t.expand(target), None, [x], seed=seed)
    compare(lambda t, u: t.expand_as(t + u) * u, None, [x, y], seed=seed)


# ==================================================================== indexing
def _idx(*items):
    """An index whose integer arrays and masks become tensors of the right library."""
    def build(L):
        out = tuple(L.tensor(i) if isinstance(i, np.ndarray) else i for i in items)
        return out[0] if len(out) == 1 else out
    return build


INDICES = {
    "int": _idx(1),
    "negative int": _idx(-1),
    "slice": _idx(slice(1, 3)),
    "slice with step": _idx(slice(None, None, 2)),
    "slices with steps": _idx(slice(1, None, 2), slice(None, 4, 3)),
    "negative slice bounds": _idx(slice(-3, -1), slice(-4, None, 2)),
    "out of range slice": _idx(slice(2, 100)),
    "empty slice": _idx(slice(3, 1)),
    "int and slice": _idx(2, slice(None, None, 2)),
    "ints": _idx(-1, 2, 0),
    "None": _idx(None),
    "None in the middle": _idx(slice(None), None, 1),
    "Ellipsis": _idx(Ellipsis, 0),
    "Ellipsis and None": _idx(1, Ellipsis, None),
    "Ellipsis between": _idx(0, Ellipsis, slice(1, 3)),
    "int array": _idx(np.array([3, 0, 1])),
    "repeated int array": _idx(np.array([0, 0, 2, 0])),
    "negative int array": _idx(np.array([-1, 1, -1])),
    "list index": _idx([1, 1, 0]),
    "2-D int array": _idx(np.array([[0, 1], [1, 1]])),
    "arrays in two dims": _idx(np.array([0, 1, 1]), np.array([2, 2, 4])),
    "broadcast arrays": _idx(np.array([[0], [3]]), np.array([1, 1, 4])),
    "array then slice": _idx(np.array([2, 2]), slice(1, None, 2)),
    "slice then repeated array": _idx(slice(None), np.array([4, 4, 4, 0])),
    "array, None, slice": _idx(np.array([1, 3, 1]), None, slice(None, 2)),
    "Ellipsis then array": _idx(Ellipsis, np.array([2, 0, 2])),
    "int, array": _idx(-2, np.array([0, 0, 3])),
    "separated arrays": _idx(np.array([0, 1]), slice(None), np.array([2, 2])),
    "0-d int tensor": _idx(np.array(2)),
    "mask": lambda L: L.tensor(np.arange(60).reshape(4, 5, 3) % 3 == 1),
    "mask on first dim": _idx(np.array([True, False, True, True])),
    "mask on first two dims": _idx(np.arange(20).reshape(4, 5) % 4 == 0),
    "slice then mask": _idx(slice(1, None), np.array([True, False, False, True, True])),
    "mask then slice": _idx(np.array([False, True, True, False]), slice(None, None, 2), 1),
    "all-false mask": _idx(np.zeros(4, dtype=bool)),
    # an int apart from the arrays: PyTorch applies it first, numpy would put the arrays' dims first (indexing.py)
    "int, slice, array": _idx(1, slice(None), np.array([2, 0])),
    "int, slice, 2-D array": _idx(0, slice(1, None), np.array([[2], [0]])),
    "slice, int, array": _idx(slice(None), 3, np.array([1, 1, 0])),
    "int, Ellipsis, array": _idx(-1, Ellipsis, np.array([0, 2])),
    "None, int, slice, array": _idx(None, 2, slice(None), np.array([1, 0])),
    "0-d tensor, slice, array": _idx(np.array(1), slice(None), np.array([2, 0])),
    "int, slice, mask": _idx(1, slice(None), np.array([True, False, True])),
    "array, slice, int": _idx(np.array([1, 2]), slice(None), 0),
    "int, slice, tuple": _idx(1, slice(None), (2, 0)),
    "int, slice, range": _idx(0, slice(None), range(1, 3)),
    "bool, int, slice, array": _idx(True, 1, slice(None), np.array([2, 0])),
    "arrays apart by an Ellipsis of no dims": _idx(slice(None), np.array([0, 2]), Ellipsis, np.array([1, 2])),
}


@pytest.mark.parametrize("name", INDICES)
def test_indexing(name):
    build = INDICES[name]
    x = normal(len(name), (4, 5, 3))
    compare(lambda t: t[build(lib(t))], None, [x])


@st.composite
def basic_indices(draw, shape):
    """A random tuple of ints (maybe negative), slices with positive steps, None and at most one Ellipsis."""
    items, k = [], 0
    ellipsis_at = draw(st.integers(0, len(shape))) if draw(st.booleans()) else None
    while k < len(shape):
        if k == ellipsis_at:
            items.append(Ellipsis)
            k = len(shape) - draw(st.integers(0, len(shape) - k))
            ellipsis_at = None
            continue
        n = shape[k]
        kind = draw(st.sampled_from(["int", "slice", "None", "stop"]))
        if kind == "stop":
            break
        if kind == "None":
            items.append(None)
            continue
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.none() | st.integers(-n - 1, n + 1)
            items.append(slice(draw(bound), draw(bound), draw(st.none() | st.integers(1, 3))))
        k += 1
    return tuple(items)


@given(shape=shapes(), data=st.data(), seed=seeds)
def test_indexing_basic_random(shape, data, seed):
    index = data.draw(basic_indices(shape), label="index")
    compare(lambda t: t[index], None, [normal(seed, shape)], seed=seed)


@given(shape=shapes(min_dims=1), data=st.data(), seed=seeds)
def test_indexing_integer_arrays_accumulate(shape, data, seed):
    """An integer array that repeats positions: each use adds to the gradient."""
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    picks = data.draw(st.lists(st.integers(-shape[dim], shape[dim] - 1), min_size=1, max_size=8), label="picks")
    front = (slice(None),) * dim
    compare(lambda t: t[front + (lib(t).tensor(picks),)], None, [normal(seed, shape)], seed=seed)
    compare(lambda t: t[front + (picks,)] * 2, None, [normal(seed, shape)], seed=seed)


@given(shape=shapes(min_dims=1), data=st.data(), seed=seeds)
@FEW
def test_indexing_boolean_masks(shape, data, seed):
    k = data.draw(st.integers(1, len(shape)), label="mask dims")
    mask = np.random.default_rng(seed).random(shape[:k]) < 0.5
    compare(lambda t: t[lib(t).tensor(mask)], None, [normal(seed, shape)], seed=seed)
    compare(lambda t: t[t.detach() > 0], None, [normal(seed, shape)], seed=seed)


@pytest.mark.parametrize("name", [n for n in INDICES if "int," in n or n.endswith(", int") or "0-d tensor," in n])
def test_setitem_with_an_int_apart_from_the_arrays_writes_where_pytorch_does(name):
    """``x[0, :, [2, 0]] = v`` takes v in PyTorch's order of x[0, :, [2, 0]], a Tensor (with gradients) or an array."""
    build, x = INDICES[name], normal(len(name), (4, 5, 3))
    shape = tuple(torch.tensor(x)[build(torch)].shape)
    v = normal(7, shape)

    def written(t, value):
        t = t * 1
        t[build(lib(t))] = value(lib(t))
        return t
    compare(lambda t, w: written(t, lambda L: w), None, [x, v])
    # an array that broadcasts over the first dim (ours takes a numpy array; PyTorch, a tensor of it)
    compare(lambda t: written(t, lambda L: v[-1] if L is tg else torch.tensor(v[-1])), None, [x])


def test_index_then_reuse_accumulates():
    compare(lambda t: t[0] * t[1] + t[[0, 0]].sum(0) + t[..., -1:], None, [normal(3, (3, 4))])


# ==================================================================== cat and stack
@given(data=st.data(), seed=seeds)
def test_cat(data, seed):
    shape = data.draw(shapes(min_dims=1), label="shape")
    n = len(shape)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4), label="sizes along dim")
    arrays = []
    for k, size in enumerate(sizes):
        s = list(shape)
        s[dim] = size
        arrays.append(normal(seed + k, tuple(s)))
    compare(lambda *ts: lib(ts[0]).cat(ts, dim=dim), None, arrays, seed=seed)
    compare(lambda *ts: lib(ts[0]).cat(list(ts), dim) * 3, None, arrays, seed=seed)
    compare(lambda *ts: lib(ts[0]).concat(ts, dim=dim), None, arrays, seed=seed)


def test_cat_with_input_without_grad_and_reused_input():
    a, b = normal(1, (2, 3)), normal(2, (4, 3))
    compare(lambda x, y: lib(x).cat([x, y, x], 0), None, [a, b], requires_grad=[True, False])
    compare(lambda x, y: lib(x).cat([y.T, x.T], -1), None, [a, b])


@given(shape=shapes(), data=st.data(), seed=seeds)
def test_stack(shape, data, seed):
    count = data.draw(st.integers(1, 4), label="count")
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    arrays = [normal(seed + k, shape) for k in range(count)]
    compare(lambda *ts: lib(ts[0]).stack(ts, dim=dim), None, arrays, seed=seed)
    compare(lambda *ts: lib(ts[0]).stack(list(ts), dim), None, arrays, seed=seed)


# ==================================================================== where, clamp, maximum, minimum
@given(shapes=broadcast_shapes(3), seed=seeds)
def test_where_tensor_branches(shapes, seed):
    cond = np.random.default_rng(seed).random(shapes[0]) < 0.5
    compare(lambda x, y: lib(x).where(lib(x).tensor(cond), x, y), None,
            [normal(seed, shapes[1]), normal(seed + 1, shapes[2])], seed=seed)


@pytest.mark.parametrize("which", ["scalar other", "scalar input"])
@given(shapes=broadcast_shapes(2), seed=seeds)
@FEW
def test_where_scalar_branch(which, shapes, seed):
    cond = np.random.default_rng(seed).random(shapes[0]) < 0.5
    if which == "scalar other":
        fn = lambda x: lib(x).where(lib(x).tensor(cond), x, 0.1)  # noqa: E731
    else:
        fn = lambda x: lib(x).where(lib(x).tensor(cond), -2.5, x)  # noqa: E731
    compare(fn, None, [normal(seed, shapes[1])], seed=seed)


@given(shapes=broadcast_shapes(2), seed=seeds)
@FEW
def test_masked_fill(shapes, seed):
    mask = np.random.default_rng(seed).random(shapes[0]) < 0.5
    assume(np.broadcast_shapes(shapes[0], shapes[1]) == tuple(shapes[1]))  # PyTorch does not grow the input
    compare(lambda x: x.masked_fill(lib(x).tensor(mask), 0.1), None, [normal(seed, shapes[1])], seed=seed)


def test_where_picks_with_comparison_condition():
    compare(lambda x, y: lib(x).where(x > y, x * 2, y - 1), None, [normal(0, (3, 1)), normal(1, (4,))])


@pytest.mark.parametrize("bounds", [(-0.5, None), (None, 0.5), (-0.5, 0.5), (0.5, -0.5), (0, 0)])
@pytest.mark.parametrize("form", ["kwargs", "positional", "function", "clip"])
@given(shape=shapes(), seed=seeds)
@FEW
def test_clamp(bounds, form, shape, seed):
    """Values exactly at a bound keep their gradient (1), as in PyTorch; values beyond it get 0."""
    lo, hi = bounds
    x = normal(seed, shape)
    flat = x.reshape(-1)
    if flat.size:  # put some values exactly on the bounds
        if lo is not None:
            flat[::3] = lo
        if hi is not None:
            flat[1::3] = hi
    fns = {"kwargs": lambda t: t.clamp(min=lo, max=hi), "positional": lambda t: t.clamp(lo, hi),
           "function": lambda t: lib(t).clamp(t, lo, hi), "clip": lambda t: t.clip(min=lo, max=hi)}
    compare(fns[form], None, [x], seed=seed)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("ties", [False, True])
@given(shapes=broadcast_shapes(2), seed=seeds)
def test_maximum_minimum(name, ties, shapes, seed):
    """On ties the gradient is split in half between the two inputs, as in PyTorch."""
    x, y = normal(seed, shapes[0]), normal(seed + 1, shapes[1])
    if ties:
        x, y = np.round(x), np.round(y)
    compare(lambda a, b: getattr(lib(a), name)(a, b), None, [x, y], seed=seed)
    compare(lambda a, b: getattr(a, name)(b), None, [x, y], seed=seed)
    compare(lambda a, b: getattr(a, name[:3])(b), None, [x, y], seed=seed)  # x.max(y) is maximum


def test_maximum_exact_tie_splits_gradient():
    compare(lambda a, b: lib(a).maximum(a, b) + lib(a).minimum(a, b) * 3, None, [[1.0, 2.0, 3.0], [1.0, 5.0, 3.0]])


@pytest.mark.parametrize("fn", [
    lambda x: x.relu(), lambda x: lib(x).maximum(x, lib(x).zeros_like(x)), lambda x: x.minimum(lib(x).zeros_like(x)),
    lambda x: x.max(), lambda x: x.reshape(2, 2).max(dim=1).values, lambda x: x.sign(), lambda x: x.clamp(-0.5, 0.5),
    lambda x: x.reshape(2, 2).amax(1), lambda x: x.amin()],
    ids=["relu", "maximum", "minimum", "max", "max_dim", "sign", "clamp", "amax", "amin"])
def test_a_nan_input_gets_pytorchs_value_and_gradient(fn):
    """A nan in the input: relu, maximum, minimum and max pass the gradient to it, as PyTorch's (so the nan shows
    in the gradients, not hidden as a 0), amax and amin make the whole slice's gradient nan, clamp gives it none,
    and sign(nan) is 0."""
    compare(fn, None, [[math.nan, 1.0, -2.0, 0.25]])


@pytest.mark.parametrize("fn", [lambda x: x.max(), lambda x: x.amax(), lambda x: x.amax(1), lambda x: x.max(1).values,
                                lambda x: x.relu(), lambda x: lib(x).maximum(x, x.detach() * 0 + 2)],
                         ids=["max", "amax", "amax_dim", "max_dim", "relu", "maximum"])
def test_an_inf_upstream_gradient_reaches_what_pytorchs_reaches(fn):
    """An inf gradient from above: max, max(dim), relu and maximum leave 0 where their input had no say (PyTorch
    masks); amax multiplies by its mask, so PyTorch's 0 * inf is nan there, and ours is too."""
    results = []
    for make in (tg.tensor, torch.tensor):
        x = make([[1.0, 5.0, 3.0], [-1.0, 2.0, 2.0]], requires_grad=True)
        y = fn(x)
        y.backward(make(np.full(tuple(y.shape), math.inf)))
        results.append(np.asarray(x.grad.tolist()))
    np.testing.assert_array_equal(*results)


# ==================================================================== comparisons
COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]
OPERATORS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
             "ge": operator.ge}


@pytest.mark.parametrize("name", COMPARISONS)
@given(shapes=broadcast_shapes(2), seed=seeds)
@FEW
def test_comparisons(name, shapes, seed):
    """Boolean results with broadcasting; small integer values make ties common."""
    rng = np.random.default_rng(seed)
    x, y = rng.integers(-1, 2, shapes[0]).astype(np.float64), rng.integers(-1, 2, shapes[1]).astype(np.float64)
    ours, theirs = leaves([x, y], requires_grad=True)
    for f in (OPERATORS[name], lambda a, b: getattr(a, name)(b), lambda a, b: getattr(lib(a), name)(a, b)):
        out = f(*ours)
        assert_same(out, f(*theirs), name)
        assert not out.requires_grad
    for scalar in (0, 0.5, -1.0, True):
        assert_same(OPERATORS[name](ours[0], scalar), OPERATORS[name](theirs[0], scalar), f"{name} {scalar}")
        assert_same(OPERATORS[name](scalar, ours[0]), OPERATORS[name](scalar, theirs[0]), f"{scalar} {name}")


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_with_python_float_keeps_float64_precision(name):
    """A Python float compared with a float64 tensor is not rounded to float32 first."""
    x = np.array([0.1, 0.1 + 1e-12, 0.1 - 1e-12, 0.3])
    ours, theirs = leaves([x], requires_grad=False)
    assert_same(OPERATORS[name](ours[0], 0.1), OPERATORS[name](theirs[0], 0.1))


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_between_dtypes(name):
    i = np.array([[0, 1, 2], [3, -1, 2]])
    f = np.array([0.5, 1.0, 2.0])
    op = OPERATORS[name]
    assert_same(op(tg.tensor(i), tg.tensor(f)), op(torch.tensor(i), torch.tensor(f)))
    assert_same(op(tg.tensor(i), 1.5), op(torch.tensor(i), 1.5))
    assert_same(op(tg.tensor(i), 2), op(torch.tensor(i), 2))
    assert_same(op(tg.tensor(i > 0), tg.tensor(i > 1)), op(torch.tensor(i > 0), torch.tensor(i > 1)))


# ==================================================================== matmul
MATMUL_SHAPES = {
    "1-D @ 1-D": lambda b, n, k, m: ((k,), (k,)),
    "1-D @ 2-D": lambda b, n, k, m: ((k,), (k, m)),
    "2-D @ 1-D": lambda b, n, k, m: ((n, k), (k,)),
    "2-D @ 2-D": lambda b, n, k, m: ((n, k), (k, m)),
    "batched @ batched": lambda b, n, k, m: ((b, n, k), (b, k, m)),
    "batched @ 2-D": lambda b, n, k, m: ((b, n, k), (k, m)),
    "2-D @ batched": lambda b, n, k, m: ((n, k), (b, k, m)),
    "broadcast batch dims": lambda b, n, k, m: ((2, 1, n, k), (b, k, m)),
    "broadcast batch dims both ways": lambda b, n, k, m: ((b, 1, n, k), (1, 3, k, m)),
    "1-D @ batched": lambda b, n, k, m: ((k,), (2, b, k, m)),
    "batched @ 1-D": lambda b, n, k, m: ((b, 2, n, k), (k,)),
}


@pytest.mark.parametrize("case", MATMUL_SHAPES)
@pytest.mark.parametrize("form", ["@", "matmul", "method"])
@given(sizes=st.tuples(*[st.integers(1, 4)] * 4), seed=seeds)
@FEW
def test_matmul(case, form, sizes, seed):
    sa, sb = MATMUL_SHAPES[case](*sizes)
    fn = {"@": operator.matmul, "matmul": lambda a, b: lib(a).matmul(a, b), "method": lambda a, b: a.matmul(b)}[form]
    compare(fn, None, [normal(seed, sa), normal(seed + 1, sb)], seed=seed)


@pytest.mark.parametrize("requires_grad", [(True, False), (False, True)])
def test_matmul_one_side_without_grad(requires_grad):
    compare(operator.matmul, None, [normal(0, (3, 2, 4)), normal(1, (4, 5))], requires_grad=requires_grad)


def test_mm_and_bmm():
    compare(lambda a, b: lib(a).mm(a, b), None, [normal(0, (3, 4)), normal(1, (4, 2))])
    compare(lambda a, b: lib(a).bmm(a, b), None, [normal(0, (2, 3, 4)), normal(1, (2, 4, 2))])


def test_linear_layer_expression():
    """x @ W.T + b: the expression every Linear layer computes, gradients for all three."""
    compare(lambda x, w, b: (x @ w.T + b).tanh().sum(), None, [normal(0, (5, 3)), normal(1, (4, 3)), normal(2, (4,))])


# ==================================================================== conversions and introspection
@given(shape=shapes(), seed=seeds)
@FEW
def test_size_dim_numel_shape(shape, seed):
    ours, theirs = leaves([normal(seed, shape)])
    a, b = ours[0], theirs[0]
    assert tuple(a.size()) == tuple(b.size()) and tuple(a.shape) == tuple(b.shape)
    assert isinstance(a.shape, tuple) and a.shape == b.shape
    assert a.dim() == b.dim() and a.ndim == b.ndim
    assert a.numel() == b.numel() and tg.numel(a) == torch.numel(b)
    for d in range(-a.ndim, a.ndim):
        assert a.size(d) == b.size(d)
    if a.ndim:
        assert len(a) == len(b)


@given(shape=shapes(), seed=seeds)
@FEW
def test_numpy_and_tolist(shape, seed):
    x = normal(seed, shape)
    ours, theirs = leaves([x], requires_grad=False)
    assert ours[0].tolist() == theirs[0].tolist()
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    assert ours[0].numpy().dtype == np.float64
    assert ours[0].long().tolist() == theirs[0].long().tolist()
    assert ours[0].bool().tolist() == theirs[0].bool().tolist()


def test_numpy_requires_detach_like_pytorch():
    ours, theirs = leaves([[1.0, 2.0]])
    with pytest.raises(RuntimeError, match="detach"):
        ours[0].numpy()
    with pytest.raises(RuntimeError):
        theirs[0].numpy()
    np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy())


@pytest.mark.parametrize("value", [2.5, -3.0, 0.1, 7, 0, True])
def test_item_float_int_bool(value):
    ours, theirs = tg.tensor(value), torch.tensor(value)
    assert ours.item() == theirs.item() and type(ours.item()) is type(theirs.item())
    assert float(ours) == float(theirs) and int(ours) == int(theirs) and bool(ours) == bool(theirs)
    one = tg.tensor([[value]], dtype=tg.float64)
    assert one.item() == torch.tensor([[value]], dtype=torch.float64).item()
    assert isinstance(one.item(), float)


def test_item_of_float64_is_exact():
    x = np.array([0.1])
    assert tg.tensor(x).item() == torch.tensor(x).item() == 0.1
    assert tg.tensor([0.1], dtype=tg.float64).item() == torch.tensor([0.1], dtype=torch.float64).item()


def test_item_of_many_elements_fails_clearly():
    with pytest.raises(RuntimeError, match="2 elements"):
        tg.tensor([1.0, 2.0]).item()


CONVERSIONS = ["float", "double", "long", "int", "bool"]


@pytest.mark.parametrize("name", CONVERSIONS)
def test_dtype_conversion_methods(name):
    x = np.array([[-2.7, -0.5, 0.0], [0.5, 1.5, 3.9]])
    for src in ("float64", "float32", "int64", "bool"):
        ours = tg.tensor(x).to(getattr(tg, src))
        theirs = torch.tensor(x).to(getattr(torch, src))
        assert_same(getattr(ours, name)(), getattr(theirs, name)(), f"{src}.{name}()")


@pytest.mark.parametrize("target", ["float32", "float64", "int64", "int32", "bool", "float16", "uint8"])
def test_to_and_type(target):
    x = np.array([[-2.7, -0.5, 0.0], [0.5, 1.5, 3.9]])
    ours, theirs = tg.tensor(x), torch.tensor(x)
    if target == "uint8":
        ours, theirs = ours.abs(), theirs.abs()
    assert_same(ours.to(getattr(tg, target)), theirs.to(getattr(torch, target)))
    assert_same(ours.to(dtype=getattr(tg, target)), theirs.to(dtype=getattr(torch, target)))
    assert_same(ours.type(getattr(tg, target)), theirs.type(getattr(torch, target)))
    converted_ours, converted_theirs = ours.to(getattr(tg, target)), theirs.to(getattr(torch, target))
    assert converted_ours.type().split(".")[-1] == converted_theirs.type().split(".")[-1]
    assert_same(ours.to(converted_ours), theirs.to(converted_theirs))  # .to(other_tensor) takes its dtype
    assert ours.to(tg.float64) is ours  # no conversion needed: the same tensor, as in PyTorch


@pytest.mark.parametrize("name", ["float", "double", "to_float32", "half"])
def test_gradient_flows_through_float_casts(name):
    """A cast is differentiable: the gradient comes back converted to the input's dtype."""
    cast = {"float": lambda t: t.float(), "double": lambda t: t.double(), "half": lambda t: t.half(),
            "to_float32": lambda t: t.to(lib(t).float32)}[name]
    x = np.array([[0.25, -1.5], [2.0, 0.125]])  # exactly representable in float16 and float32
    ours, theirs = leaves([x])
    out_ours, out_theirs = (cast(ours[0]) * 3).sum(), (cast(theirs[0]) * 3).sum()
    out_ours.backward()
    out_theirs.backward()
    assert_same(ours[0].grad, theirs[0].grad)


def test_repr_types_and_default_dtype():
    assert tg.tensor([1.5]).dtype.name == "float32" == str(torch.tensor([1.5]).dtype).removeprefix("torch.")
    assert tg.tensor([1]).dtype.name == "int64"
    assert tg.tensor(np.array([1.5])).dtype.name == "float64"
    assert tg.tensor([True]).type() == "tinygrad_lite.BoolTensor"
    assert tg.tensor([1.0]).double().type() == "tinygrad_lite.DoubleTensor"


def test_printing_ignores_numpys_global_print_options():
    """A notebook's np.set_printoptions(suppress=True) must not print 1e-05 as 0.0000 in a tensor (PyTorch's
    printing has options of its own): the numbers print as PyTorch prints them, whatever numpy is set to."""
    values = [1e-05, 1.0]
    odd = [float("nan"), float("inf"), 0.5]
    with np.printoptions(suppress=True, threshold=5, precision=2, edgeitems=1, nanstr="NaN", infstr="INF",
                         formatter={"float": lambda v: f"<{v:.1f}>"}, legacy="1.13"):
        printed = repr(tg.tensor(values)), repr(tg.arange(10)), repr(tg.tensor(odd))
        assert np.array2string(np.array([0.5])) == "[<0.5>]"  # (numpy's own, as the notebook set them)
    assert printed == (repr(torch.tensor(values)), repr(torch.arange(10)), repr(torch.tensor(odd))) == (
        "tensor([1.0000e-05, 1.0000e+00])", "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])",
        "tensor([   nan,    inf, 0.5000])")


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int64", "bool"])
def test_min_of_integer_and_bool_tensors_does_not_wrap(dtype):
    """min is computed as max of flipped values; for integers the flip must not overflow (-x wraps for uint8)."""
    values = [0, 1, 1] if dtype == "bool" else [0, 5, 1] if dtype == "uint8" else [-128, 5, 1]
    ours, theirs = tg.tensor(values, dtype=getattr(tg, dtype)), torch.tensor(values, dtype=getattr(torch, dtype))
    assert ours.min().item() == theirs.min().item() and ours.amin().item() == theirs.amin().item()
    assert ours.min(0).values.item() == theirs.min(0).values.item()
    assert ours.min(0).indices.item() == theirs.min(0).indices.item()
    other = [1, 1, 0] if dtype == "bool" else [3, 3, 3]
    assert ours.minimum(tg.tensor(other, dtype=ours.dtype)).tolist() == \
        torch.minimum(theirs, torch.tensor(other, dtype=theirs.dtype)).tolist()


# ==================================================================== found by a differential fuzz against PyTorch
@pytest.mark.parametrize("fn", [lambda L, x: x.relu(), lambda L, x: x.clamp(min=0), lambda L, x: x.clamp(max=0).neg(),
                                lambda L, x: x.clamp(min=L.zeros(2)), lambda L, x: L.maximum(x, L.zeros(2)),
                                lambda L, x: L.minimum(x.neg(), L.zeros(2)).neg(), lambda L, x: x.amax() * x / x])
def test_an_inf_gradient_reaching_a_picked_away_input_leaves_0_there_not_nan(fn):
    """sqrt's gradient at 0 is inf: where relu, clamp or max did not pick x, x's gradient is 0 as in PyTorch (not
    inf * 0 = nan, which one optimizer step would spread to every weight)."""
    grads = []
    for L in (tg, torch):
        x = L.tensor([-1.0, 4.0], requires_grad=True)
        with np.errstate(all="ignore"):
            fn(L, x).sqrt().sum().backward()
        grads.append(x.grad.detach().numpy())
    np.testing.assert_array_equal(np.abs(grads[0]), np.abs(grads[1]))


def test_masked_fill_keeps_the_dtype_and_clamp_of_an_int_tensor_by_a_float_is_float32_as_pytorch():
    for L in (tg, torch):
        t = L.tensor([0, 1, 2])
        filled = t.masked_fill(t > 1, 0.5)
        assert str(filled.dtype).endswith("int64") and filled.tolist() == [0, 1, 0]
        assert L.tensor([True, False]).masked_fill(L.tensor([True, True]), 0.0).tolist() == [False, False]
        assert str(t.clamp(min=0.5).dtype).endswith("float32") and t.clamp(min=0.5).tolist() == [0.5, 1, 2]
        assert str(t.clamp(min=1).dtype).endswith("int64")
    compare(lambda x: x.masked_fill(x > 0, 2.0), None, [normal(1, (3, 4))])


def test_pow_takes_a_number_as_its_base_and_setitem_on_a_0d_tensor_in_the_graph_has_a_gradient():
    compare(lambda x: lib(x).pow(2.0, x), None, [normal(2, (3,))])

    def overwritten(x):
        y = x * 1
        y[...] = 3.0
        return y * x
    compare(overwritten, None, [np.array(2.0)])


def test_flatten_with_an_empty_dim_and_cat_of_0d_tensors_as_pytorch():
    for L in (tg, torch):
        assert tuple(L.zeros(0, 3).flatten(1).shape) == (0, 3) and tuple(L.zeros(2, 0, 3).flatten(0, 1).shape) == (0, 3)
        with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 0\) cannot be concatenated"):
            L.cat([L.tensor(1.0), L.tensor(2.0)])


def test_min_gradients_and_ignored_losses_print_0_not_minus_0_as_pytorch():
    for L in (tg, torch):
        x = L.tensor([3.0, 1.0, 2.0], requires_grad=True)
        x.min().backward()
        assert repr(x.grad) == "tensor([0., 1., 0.])"
        z = L.tensor([[1.0, 2.0], [0.0, 1.0]])
        losses = L.nn.functional.cross_entropy(z, L.tensor([0, -100]), reduction="none")
        assert repr(losses).startswith("tensor([1.3133, 0.0000])"), repr(losses)


def test_masked_fill_refuses_a_value_an_int_tensor_cannot_hold_and_linear_takes_0_features():
    for L in (tg, torch):
        with pytest.raises(RuntimeError, match="cannot be converted"):
            L.tensor([1, 2]).masked_fill(L.tensor([True, False]), float("inf"))
    for shape in [(2, 0), (0,), (2, 2, 0)]:
        compare(lambda x, w: lib(x).nn.functional.linear(x, w), None, [np.zeros(shape), np.zeros((3, 0))])


def test_finfo_iinfo_bfloat16_and_is_bf16_supported_as_pytorch_where_they_can_be():
    for L in (tg, torch):
        assert repr(L.finfo(L.float32)) == repr(torch.finfo(torch.float32))
        assert L.finfo(L.float16).eps == 2 ** -10 and L.finfo().dtype == "float32"
        assert L.iinfo(L.int64).max == 2 ** 63 - 1 and L.iinfo(L.uint8).min == 0
    with pytest.raises(TypeError, match="use iinfo"):
        tg.finfo(tg.int64)
    with pytest.raises(RuntimeError, match="numpy .and so this library. does not have"):
        tg.ones(2).bfloat16()
    assert tg.cuda.is_bf16_supported() is False


def test_setitem_with_an_int_apart_from_an_array_takes_extra_leading_ones_as_pytorch():
    for L in (tg, torch):
        x = L.zeros(2, 3, 4)
        x[0, :, [2, 0]] = L.ones(1, 3, 2)
        assert x.sum().item() == 6 and x[0, :, 2].tolist() == [1, 1, 1]
