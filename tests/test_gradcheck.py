"""Finite differences agree with autograd for every differentiable op, and ``gradcheck`` itself does its job.

The first half runs ``tinygrad_lite.gradcheck`` (central differences, float64) on a small instance of each op.
The second half tests gradcheck: it passes correct ops, and for a deliberately wrong backward it fails with a
message naming the input, the element, and the analytic and numeric values; it rejects float32 inputs, and
handles tuple outputs, non-tensor arguments and inputs that do not require grad.
"""
import re

import numpy as np
import pytest
import torch
from helpers import away_from_zero, broadcast_shapes, normal, positive, seeds
from hypothesis import given, settings

import tinygrad_lite as tg
from tinygrad_lite.autograd import Function
from tinygrad_lite.autograd.gradcheck import GradcheckError
from tinygrad_lite.ops.activation import GELU, LeakyReLU


def t64(array, requires_grad=True):
    return tg.tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad)


N, P, A = normal, positive, away_from_zero  # value makers: any, positive, away from 0


def mask(shape, seed=0):
    return tg.tensor(np.random.default_rng(seed).random(shape) < 0.5)


# name -> (function, [(value maker, shape), ...]); values stay away from kinks and ties
CASES = {
    "add (broadcast)": (lambda x, y: x + y, [(N, (2, 3)), (N, (3,))]),
    "sub (broadcast)": (lambda x, y: x - y, [(N, (2, 1)), (N, (1, 3))]),
    "mul (broadcast)": (lambda x, y: x * y, [(N, (2, 3)), (N, ())]),
    "div (broadcast)": (lambda x, y: x / y, [(N, (3,)), (A, (2, 1))]),
    "pow (tensor ** tensor)": (lambda x, y: x ** y, [(P, (2, 3)), (N, (3,))]),
    "2 - x": (lambda x: 2 - x, [(N, (3,))]),
    "2 / x": (lambda x: 2 / x, [(A, (3,))]),
    "2 ** x": (lambda x: 2 ** x, [(N, (3,))]),
    "x ** 3": (lambda x: x ** 3, [(N, (3,))]),
    "x ** 0.5": (lambda x: x ** 0.5, [(P, (3,))]),
    "neg": (lambda x: -x, [(N, (2, 2))]),
    "abs": (lambda x: x.abs(), [(A, (2, 2))]),
    "exp": (lambda x: x.exp(), [(N, (2, 2))]),
    "log": (lambda x: x.log(), [(P, (2, 2))]),
    "log1p": (lambda x: x.log1p(), [(P, (2, 2))]),
    "sqrt": (lambda x: x.sqrt(), [(P, (2, 2))]),
    "sin": (lambda x: x.sin(), [(N, (2, 2))]),
    "cos": (lambda x: x.cos(), [(N, (2, 2))]),
    "relu": (lambda x: x.relu(), [(A, (2, 2))]),
    "sigmoid": (lambda x: x.sigmoid(), [(N, (2, 2))]),
    "tanh": (lambda x: x.tanh(), [(N, (2, 2))]),
    "gelu": (lambda x: GELU.apply(x), [(N, (2, 2))]),
    "gelu tanh": (lambda x: GELU.apply(x, approximate="tanh"), [(N, (2, 2))]),
    "leaky_relu": (lambda x: LeakyReLU.apply(x, negative_slope=0.1), [(A, (2, 2))]),
    "softmax": (lambda x: x.softmax(-1), [(N, (2, 3))]),
    "log_softmax": (lambda x: x.log_softmax(0), [(N, (2, 3))]),
    "sum": (lambda x: x.sum((0, -1), keepdim=True), [(N, (2, 3, 2))]),
    "mean": (lambda x: x.mean(1), [(N, (2, 3))]),
    "max()": (lambda x: x.max(), [(N, (2, 3))]),
    "min()": (lambda x: x.min(), [(N, (2, 3))]),
    "amax": (lambda x: x.amax(-1), [(N, (2, 3))]),
    "amin": (lambda x: x.amin((0, 1), keepdim=True), [(N, (2, 3))]),
    "max(dim) (values, indices)": (lambda x: x.max(1), [(N, (2, 3))]),
    "min(dim) (values, indices)": (lambda x: x.min(0, keepdim=True), [(N, (2, 3))]),
    "var": (lambda x: x.var(1), [(N, (2, 3))]),
    "var correction=0": (lambda x: x.var(correction=0), [(N, (2, 3))]),
    "std": (lambda x: x.std(0, keepdim=True), [(N, (3, 2))]),
    "logsumexp": (lambda x: x.logsumexp(-1), [(N, (2, 3))]),
    "reshape": (lambda x: x.reshape(3, -1), [(N, (2, 3))]),
    "flatten": (lambda x: x.flatten(1), [(N, (2, 2, 2))]),
    "transpose": (lambda x: x.transpose(0, -1), [(N, (2, 3, 2))]),
    "permute": (lambda x: x.permute(2, 0, 1), [(N, (2, 3, 2))]),
    "T": (lambda x: x.T, [(N, (2, 3))]),
    "squeeze / unsqueeze": (lambda x: x.squeeze(1).unsqueeze(-1), [(N, (2, 1, 3))]),
    "expand": (lambda x: x.expand(2, 3, -1), [(N, (3, 1))]),
    "index with slices, None, ...": (lambda x: x[1:, None, ..., ::2], [(N, (3, 4))]),
    "index with repeated ints": (lambda x: x[[0, 2, 0, 0]], [(N, (3, 2))]),
    "index with a mask": (lambda x: x[mask((3, 2))], [(N, (3, 2))]),
    "cat": (lambda x, y: tg.cat([x, y, x], dim=-1), [(N, (2, 1)), (N, (2, 3))]),
    "stack": (lambda x, y: tg.stack([x, y], dim=1), [(N, (2, 3)), (N, (2, 3))]),
    "where": (lambda x, y: tg.where(mask((2, 3)), x, y), [(N, (2, 3)), (N, (3,))]),
    "where with a number": (lambda x: tg.where(mask((2, 3)), 1.5, x), [(N, (3,))]),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), [(N, (3, 3))]),
    "maximum": (lambda x, y: tg.maximum(x, y), [(N, (2, 3)), (N, (3,))]),
    "minimum": (lambda x, y: tg.minimum(x, y), [(N, (2, 1)), (N, (3,))]),
    "matmul 1-D @ 1-D": (lambda x, y: x @ y, [(N, (3,)), (N, (3,))]),
    "matmul 1-D @ 2-D": (lambda x, y: x @ y, [(N, (3,)), (N, (3, 2))]),
    "matmul 2-D @ 1-D": (lambda x, y: x @ y, [(N, (2, 3)), (N, (3,))]),
    "matmul 2-D @ 2-D": (lambda x, y: x @ y, [(N, (2, 3)), (N, (3, 2))]),
    "matmul batched @ 2-D": (lambda x, y: x @ y, [(N, (2, 2, 3)), (N, (3, 2))]),
    "matmul broadcast batches": (lambda x, y: x @ y, [(N, (2, 1, 2, 3)), (N, (2, 3, 1))]),
    "matmul 1-D @ batched": (lambda x, y: x @ y, [(N, (3,)), (N, (2, 3, 2))]),
}


@pytest.mark.parametrize("name", CASES)
def test_gradcheck_each_op(name):
    fn, makers = CASES[name]
    inputs = [t64(make(k, shape)) for k, (make, shape) in enumerate(makers)]
    assert tg.gradcheck(fn, inputs)


@given(shapes=broadcast_shapes(2, max_dims=3, max_side=3), seed=seeds)
@settings(max_examples=10)
def test_gradcheck_broadcast_arithmetic(shapes, seed):
    x, y = t64(normal(seed, shapes[0])), t64(away_from_zero(seed + 1, shapes[1]))
    assert tg.gradcheck(lambda a, b: a * b - a / b + (a + b).tanh(), (x, y))


# ==================================================================== gradcheck itself
class WrongSquare(Function):
    """z = x^2 with a backward that is right everywhere except at element (1, 0), where it is 1.5 times too big."""
    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, g):
        x, = self.saved_tensors
        gx = 2 * g * x
        gx[1, 0] *= 1.5
        return gx


class MulWrongSecond(Function):
    """z = x y with dz/dy wrong (it should be x)."""
    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved_tensors
        return g * y, g * (x + 1)


def torch_style_square(lib, right=True):
    """The same custom Function written PyTorch's way, for either library."""
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 2 * x if right else g * x
    return Square


def numbers_in(message, name):
    return float(re.search(rf"{name} (-?[0-9.e+-]+)", message).group(1))


def test_gradcheck_names_input_element_and_both_values():
    x = t64([[0.5, -1.0], [2.0, 3.0]])
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(WrongSquare.apply, (x,))
    message = str(info.value)
    assert "input 0" in message
    assert "element (1, 0)" in message
    assert numbers_in(message, "analytic") == pytest.approx(6.0)  # 1.5 * 2 * x[1, 0]
    assert numbers_in(message, "numeric") == pytest.approx(4.0, rel=1e-6)  # 2 * x[1, 0]
    assert isinstance(info.value, RuntimeError)  # as torch.autograd.gradcheck.GradcheckError


def test_gradcheck_names_the_second_input():
    x, y = t64([1.0, 2.0, 3.0]), t64([-1.0, 0.5, 4.0])
    with pytest.raises(GradcheckError, match=r"input 1 at element \(0,\)") as info:
        tg.gradcheck(MulWrongSecond.apply, (x, y))
    assert numbers_in(str(info.value), "analytic") == pytest.approx(2.0)  # x[0] + 1
    assert numbers_in(str(info.value), "numeric") == pytest.approx(1.0, rel=1e-6)  # x[0]


def test_gradcheck_returns_false_without_raising():
    x = t64([[0.5, -1.0], [2.0, 3.0]])
    assert tg.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False
    assert tg.gradcheck(lambda t: t * t, (x,), raise_exception=False) is True


@pytest.mark.parametrize("right", [True, False])
def test_gradcheck_agrees_with_pytorch_gradcheck_on_custom_functions(right):
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    switches = {"fast_mode": True, "nondet_tol": 1e-12, "check_undefined_grad": False, "masked": None}
    ours = tg.gradcheck(torch_style_square(tg, right).apply, (t64(x),), raise_exception=False, **switches)
    theirs = torch.autograd.gradcheck(torch_style_square(torch, right).apply,
                                      (torch.tensor(x, requires_grad=True),), raise_exception=False, **switches)
    assert ours == theirs == right
    for switch in ("check_batched_grad", "check_forward_ad"):  # (no vmap, no forward-mode AD here)
        with pytest.raises(NotImplementedError, match="backward-mode gradients only"):
            tg.gradcheck(lambda t: t * t, (t64(x),), **{switch: True})


def test_gradcheck_catches_a_small_relative_error():
    class SlightlyWrongExp(Function):
        def forward(self, x):
            self.z = np.exp(x)
            return self.z

        def backward(self, g):
            return g * self.z * 1.01

    assert not tg.gradcheck(SlightlyWrongExp.apply, (t64([0.1, 1.0, 2.0]),), raise_exception=False)


def test_gradcheck_warns_about_float32_inputs_and_checks_them_as_pytorchs():
    """float32 differences are too coarse: a warning that says to pass float64, then the check, which fails (or
    returns False with raise_exception=False), as PyTorch's (its warning: "is not a double precision")."""
    for lib in (tg, torch):
        x32 = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.warns(UserWarning, match="double" if lib is torch else r"input 0 .*float32, not float64"):
            assert lib.autograd.gradcheck(lib.sin, (x32,), raise_exception=False) is False
    with pytest.warns(UserWarning, match="input 1"):
        tg.gradcheck(lambda a, b: a * b, (t64([1.0, 2.0]), tg.tensor([1.0, 2.0], requires_grad=True)),
                     raise_exception=False)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        tg.gradcheck(lambda t: t * 2, (t64([1.0], requires_grad=False),))


def test_gradcheck_skips_inputs_that_do_not_require_grad():
    x = t64([[0.5, -1.0], [2.0, 3.0]])
    constant32 = tg.tensor([[1.0, 2.0]])  # float32 is fine for an input that is not checked
    assert tg.gradcheck(lambda a, c: a * c, (x, constant32))
    assert tg.gradcheck(lambda a, n: a ** n, (x, 3))  # a Python number among the inputs
    # a wrong gradient for an input that does not require grad is not checked ...
    assert tg.gradcheck(MulWrongSecond.apply, (x, t64([[1.0, 2.0], [3.0, 4.0]], requires_grad=False)))
    # ... and an input that is not used has zero gradients on both sides
    assert tg.gradcheck(lambda a, b: a * 2, (x, t64([1.0, 2.0])))


def test_gradcheck_handles_tuple_outputs():
    x, y = t64([[0.5, -1.0], [2.0, 3.0]]), t64([1.5, -0.5])
    assert tg.gradcheck(lambda a, b: (a.sin(), a * b, b.exp()), (x, y))
    assert tg.gradcheck(lambda a: a.max(0), (x,))  # (values, int64 indices)
    with pytest.raises(GradcheckError, match=r"input 0 at element \(1, 0\) \(output 1"):
        tg.gradcheck(lambda a: (a.cos(), WrongSquare.apply(a)), (x,))


def test_gradcheck_handles_0d_and_non_contiguous_inputs_and_restores_them():
    scalar = t64(1.25)
    assert tg.gradcheck(lambda s: s.exp() * 3, (scalar,))
    base = np.random.default_rng(0).standard_normal((3, 4))
    strided = tg.from_numpy(base.T).requires_grad_()  # a transposed view: not contiguous
    assert tg.gradcheck(lambda t: t.sin() * t, (strided,))
    sliced = tg.from_numpy(base[:, ::2]).requires_grad_()
    assert tg.gradcheck(lambda t: t.sum(0) ** 2, (sliced,))
    np.testing.assert_array_equal(strided.detach().numpy(), base.T)  # the nudges were undone exactly
    assert scalar.item() == 1.25


def test_gradcheck_leaves_grad_untouched():
    x = t64([1.0, 2.0])
    tg.gradcheck(lambda t: t * t, (x,))
    assert x.grad is None


@pytest.mark.parametrize("x_shape", [(5,), (4, 5), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_fused_linear_op(x_shape, bias):
    """nn.functional.linear runs as one op (ops/matmul.py Linear) with its own backward: check it for 1-D, 2-D and
    batched inputs, with and without bias."""
    rs = np.random.default_rng(3)
    x = tg.tensor(rs.standard_normal(x_shape), requires_grad=True)
    w = tg.tensor(rs.standard_normal((3, 5)), requires_grad=True)
    b = tg.tensor(rs.standard_normal(3), requires_grad=True) if bias else None
    inputs = (x, w, b) if bias else (x, w)
    assert tg.gradcheck(lambda *a: tg.nn.functional.linear(*a), inputs)


def test_a_number_returned_is_refused_before_the_input_is_touched_and_a_raising_fn_leaves_it_as_it_was():
    """Round r63: fn returning .item() left x nudged by eps (x[0] = 1.000001), and so did an fn that raised."""
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with pytest.raises(TypeError, match="fn must return a tensor"):
        tg.autograd.gradcheck(lambda a: (a ** 2).sum().item(), (x,))
    assert x.tolist() == [1.0, 2.0]

    def raises_when_nudged(a):
        if a[0].item() != 1.0:
            raise ValueError("nudged")
        return a * 2

    with pytest.raises(ValueError, match="nudged"):
        tg.autograd.gradcheck(raises_when_nudged, (x,))
    assert x.tolist() == [1.0, 2.0]
