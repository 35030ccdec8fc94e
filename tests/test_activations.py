"""(session 42) The activations composed in nn/functional/activation.py, and Expm1, against PyTorch: values and
gradients over a grid that holds every joint (0, -3, 3, lambd, the threshold) and large |x|, in float32 and
float64; in place; the layers' reprs; PReLU's learned slope; errors; autocast on the stand-in GPU.

(The registry's table, tests/registry.py, runs each of them through the suite's shared checks too: float64
values and gradients, the GPU stand-in, autocast's dtypes.)"""
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_lite as tl
import tinygrad_lite.nn as nn
import tinygrad_lite.nn.functional as F

GRID = np.concatenate([np.linspace(-8, 8, 397), [0.0, -0.0, 3.0, -3.0, 0.5, -0.5, 0.1, 6.0, -1.0, 1.0, 1e-4, -1e-4,
                                                 -1e-7, 25.0, -25.0, 40.0, -40.0, 2.9999999, -2.9999999, np.nan]])
CALLS = {
    "elu": lambda F, x: F.elu(x), "elu-alpha": lambda F, x: F.elu(x, 0.3), "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, 2.0), "hardtanh": lambda F, x: F.hardtanh(x),
    "hardtanh-bounds": lambda F, x: F.hardtanh(x, -0.5, 3.0), "relu6": lambda F, x: F.relu6(x),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x), "hardswish": lambda F, x: F.hardswish(x),
    "logsigmoid": lambda F, x: F.logsigmoid(x), "softsign": lambda F, x: F.softsign(x), "mish": lambda F, x: F.mish(x),
    "tanhshrink": lambda F, x: F.tanhshrink(x), "softshrink": lambda F, x: F.softshrink(x),
    "softshrink-0": lambda F, x: F.softshrink(x, 0.0), "hardshrink": lambda F, x: F.hardshrink(x),
    "hardshrink-negative": lambda F, x: F.hardshrink(x, -1.0), "threshold": lambda F, x: F.threshold(x, 0.1, -2.0),
    "softmin": lambda F, x: F.softmin(x[:414].reshape(-1, 6), dim=1), "glu": lambda F, x: F.glu(x[:414].reshape(-1, 6)),
    "glu-dim-0": lambda F, x: F.glu(x[:414].reshape(6, -1), 0), "expm1": lambda F, x: x.expm1(),
}
# float64: PyTorch's own rounding differs from the exact formula in these (hardsigmoid's slope 1/6 is a float32
# constant there; tanhshrink's x - tanh x cancels near 0, where the two tanh differ in the last bit; expm1's
# gradient is e^x here, (e^x - 1) + 1 there, which cancels for x far below 0)
LOOSER_FLOAT64 = {"hardsigmoid": dict(rtol=1e-7, atol=0), "tanhshrink": dict(rtol=1e-12, atol=1e-15),
                  "expm1": dict(rtol=1e-12, atol=1e-16)}
# float32: glu's gradient through sigmoid(b) (1 - sigmoid(b)) cancels for large b in both libraries, differently
LOOSER_FLOAT32 = {"glu": dict(rtol=1e-5, atol=2e-6), "glu-dim-0": dict(rtol=1e-5, atol=2e-6)}


def both(name, dtype):
    x = GRID.astype(dtype)
    ours, theirs = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = CALLS[name](F, ours), CALLS[name](TF, theirs)
    g = np.random.default_rng(0).normal(size=tuple(y_theirs.shape)).astype(dtype)
    y_ours.backward(tl.tensor(g))
    y_theirs.backward(torch.tensor(g))
    return (y_ours.detach().numpy(), ours.grad.numpy()), (y_theirs.detach().numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(CALLS))
def test_values_and_gradients_match_pytorch(name, dtype):
    (value, grad), (expected_value, expected_grad) = both(name, np.dtype(dtype))
    tol = LOOSER_FLOAT32.get(name, dict(rtol=1e-5, atol=1e-7)) if dtype == "float32" else \
        LOOSER_FLOAT64.get(name, dict(rtol=1e-12, atol=0))
    np.testing.assert_allclose(value, expected_value, equal_nan=True, **tol, err_msg="value")
    # (the gradient at a nan input is not compared: PyTorch's backwards give it by whichever branch nan's false
    # comparison selects, which the value does not depend on)
    finite = ~np.isnan(GRID)
    np.testing.assert_allclose(grad[finite], expected_grad[finite], **tol, err_msg="gradient")
    assert value.dtype == expected_value.dtype


def test_expm1_is_accurate_where_exp_minus_1_is_not():
    x = tl.tensor([-1e-4, 1e-6, -30.0], requires_grad=True)
    y = x.expm1()
    y.sum().backward()
    exact = np.expm1(np.array([-1e-4, 1e-6, -30.0], np.float32))
    assert np.array_equal(y.detach().numpy(), exact)  # (exp(x) - 1 keeps 3 digits at -1e-4)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(np.float32([-1e-4, 1e-6, -30.0])), rtol=1e-7)
    assert "Expm1Backward" in repr(y.grad_fn) and tl.expm1(x.detach()).shape == (3,)


@pytest.mark.parametrize("name", ["elu", "selu", "celu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "mish",
                                  "threshold"])
def test_in_place_matches_pytorch(name):
    def call(F, x):
        args = (0.1, -2.0) if name == "threshold" else ()
        return getattr(F, name)(x, *args, inplace=True)
    ours, theirs = tl.tensor(GRID[:-1], requires_grad=True), torch.tensor(GRID[:-1], requires_grad=True)
    y_ours, y_theirs = call(F, ours * 1), call(TF, theirs * 1)
    (y_ours * y_ours).sum().backward()
    (y_theirs * y_theirs).sum().backward()
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), rtol=1e-12)
    # (PyTorch's in-place elu differentiates from its output, out + alpha, which cancels far below 0)
    rtol = LOOSER_FLOAT64["hardsigmoid"]["rtol"] if name == "hardsigmoid" else 1e-12
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol, atol=1e-15)


def layers(n):
    return [n.ELU(), n.ELU(0.5, True), n.SELU(), n.SELU(True), n.CELU(2.0), n.Hardtanh(), n.Hardtanh(-2, 2, True),
            n.ReLU6(), n.ReLU6(True), n.Hardsigmoid(), n.Hardswish(True), n.LogSigmoid(), n.Softsign(), n.Mish(),
            n.Mish(True), n.Tanhshrink(), n.Softshrink(), n.Softshrink(0.1), n.Hardshrink(), n.Threshold(0.1, 20),
            n.Threshold(0.1, 20.0, True), n.Softmin(1), n.Softmin(), n.GLU(), n.GLU(1), n.PReLU(), n.PReLU(3, 0.1)]


def test_layers_print_and_compute_as_pytorchs():
    x = GRID[:414].reshape(-1, 3)  # (a GLU along dim 1 of 3 is odd: it runs along -1 of a reshaped copy below)
    for ours, theirs in zip(layers(nn), layers(torch.nn), strict=True):
        assert repr(ours) == repr(theirs)
        if isinstance(theirs, (torch.nn.GLU, torch.nn.Softmin)) and theirs.dim is None:
            continue
        if isinstance(theirs, torch.nn.PReLU):  # (its weight and the input must have one dtype, as in PyTorch)
            ours, theirs = ours.double(), theirs.double()
        y = x.reshape(-1, 6) if isinstance(theirs, torch.nn.GLU) else x
        with torch.no_grad():
            expected = theirs(torch.tensor(y)).numpy()
        np.testing.assert_allclose(ours(tl.tensor(y)).detach().numpy(), expected, rtol=1e-12, atol=1e-15,
                                   err_msg=repr(ours))  # (atol: tanhshrink cancels near 0)
    assert isinstance(nn.ReLU6(), nn.Hardtanh) and nn.ReLU6().max_val == 6.0


@pytest.mark.parametrize("shape, slopes", [((4, 3), 3), ((4, 3, 5), 3), ((5,), 1), ((), 1), ((4, 3), 1)])
def test_prelu_learns_its_slopes_as_pytorchs(shape, slopes):
    x = np.random.default_rng(1).normal(size=shape)
    ours, theirs = nn.PReLU(slopes, init=0.2).double(), torch.nn.PReLU(slopes, init=0.2).double()
    assert list(ours.state_dict()) == ["weight"] and ours.weight.shape == (slopes,)
    a, b = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(a), theirs(b)
    assert tuple(y_ours.shape) == tuple(y_theirs.shape)
    (y_ours ** 2).sum().backward()
    (y_theirs ** 2).sum().backward()
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, error, fragment", [
    (lambda: F.hardtanh(tl.ones(2), 1.0, -1.0), ValueError, "min_val"),
    (lambda: nn.Hardtanh(1.0, -1.0), ValueError, "min_val"),
    (lambda: F.celu(tl.ones(2), 0.0), RuntimeError, "alpha must not be 0"),
    (lambda: F.softshrink(tl.ones(2), -1.0), RuntimeError, "lambd must be at least 0"),
    (lambda: F.glu(tl.ones(3)), RuntimeError, "even size.*has size 3"),
    (lambda: F.glu(tl.ones(())), RuntimeError, "0-d"),
    (lambda: F.prelu(tl.ones(2, 3), tl.ones(2)), RuntimeError, "2 slopes but input \\(2, 3\\) has 3 channels"),
    (lambda: F.prelu(tl.ones(2, 3), tl.ones(1, 3)), RuntimeError, "0-d or 1-d"),
    (lambda: F.prelu(tl.ones(2, 3, dtype=tl.float64), tl.ones(3)), RuntimeError, "float64.*float32.*one dtype"),
    (lambda: F.elu(tl.ones(2, dtype=tl.int64)), RuntimeError, "floating point"),
    (lambda: F.mish([1.0]), TypeError, "must be a Tensor"),
    (lambda: F.elu(tl.ones(2), alpha="1"), TypeError, "alpha"),
])
def test_bad_arguments_say_what_is_wrong(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.relu6(L.tensor([-3, 2, 7])), lambda L: L.nn.functional.hardtanh(L.tensor([-3, 0, 2])),
    lambda L: L.nn.functional.threshold(L.tensor([-3, 1, 2]), 1, 5.7), lambda L: L.nn.functional.softsign(
        L.tensor([-3, 1])), lambda L: L.selu(L.tensor([-1.0, 2.0])), lambda L: L.celu(L.tensor([-1.0]), 2.0),
    lambda L: L.threshold(L.tensor([0.5, 2.0]), 1.0, 0.0), lambda L: L.tensor([-1.0, 0.3]).hardshrink(0.5),
    lambda L: L.tensor([-1.0, 0.3]).prelu(L.tensor([0.2])), lambda L: L.nn.PReLU(init=L.tensor(0.1)).weight,
    lambda L: L.nn.functional.elu_(L.tensor([-1.0, 2.0])), lambda L: L.nn.functional.relu_(L.tensor([-1.0, 2.0])),
    lambda L: L.nn.functional.leaky_relu_(L.tensor([-1.0])), lambda L: L.nn.functional.hardtanh_(L.tensor([-3.0])),
    lambda L: L.nn.functional.threshold_(L.tensor([0.0, 3.0]), 1.0, -1.0), lambda L: L.relu_(L.tensor([-1.0, 2.0])),
    lambda L: L.selu_(L.tensor([-1.0])), lambda L: L.celu_(L.tensor([-1.0])),
    lambda L: L.threshold_(L.tensor([0.0, 3.0]), 1.0, -1.0),
])
def test_integers_aliases_and_in_place_names_as_pytorchs(call):
    ours, theirs = call(tl), call(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_integer_inputs_of_the_exponential_units_raise_pytorchs_not_implemented_error():
    for name in ("elu", "hardshrink", "mish", "glu", "logsigmoid"):
        with pytest.raises(NotImplementedError, match=name):
            getattr(F, name)(tl.tensor([1, 2]))


def test_softmin_without_dim_warns_as_pytorch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        F.softmin(tl.ones(2, 2))


def test_each_is_one_op_to_autocast_on_a_gpu():
    """(the stand-in GPU) PyTorch's autocast leaves these in the input's dtype (its exp inside is not cast to
    float32 as a lone exp is), except prelu, which it runs in float16."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from fake_cupy import FakeCuPy
    with FakeCuPy(devices=1).install(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        half = tl.tensor(GRID[:414].reshape(-1, 6), device="cuda", dtype=tl.float16)
        single = tl.tensor(GRID[:414].reshape(-1, 6), device="cuda", dtype=tl.float32)
        with tl.amp.autocast("cuda"):
            for name in ("elu", "selu", "celu", "logsigmoid", "mish", "softsign", "hardswish", "glu"):
                assert getattr(F, name)(half).dtype is tl.float16, name
                assert getattr(F, name)(single).dtype is tl.float32, name
            assert half.exp().dtype is tl.float32  # (a lone exp is on the float32 list)
            assert F.softmin(half, 1).dtype is tl.float32  # (PyTorch's softmin is softmax(-x): on that list)
            assert F.prelu(single, tl.tensor([0.25], device="cuda")).dtype is tl.float16


def test_gumbel_softmax_samples_the_softmax_and_a_hard_sample_passes_the_soft_gradient():
    """Its noise is the library's (PyTorch's samples differ for the same seed), so the test checks what a sample
    must be: rows that sum to 1, one-hot with ``hard``, categories drawn as often as softmax(logits) says, and the
    hard sample's gradient equal to the soft one's for the same noise (the straight-through estimator)."""
    F, logits = tl.nn.functional, tl.tensor([1.0, 2.0, 0.5])
    tl.manual_seed(0)
    picks = F.gumbel_softmax(logits.repeat(20000, 1), hard=True)
    assert set(np.unique(picks.numpy())) == {0.0, 1.0} and np.all(picks.numpy().sum(1) == 1)
    assert np.allclose(picks.numpy().mean(0), logits.softmax(0).numpy(), atol=0.015)
    weights = tl.tensor(np.arange(12.0).reshape(4, 3))
    grads = []
    for hard in (False, True):
        tl.manual_seed(1)
        x = tl.tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True)
        sample = F.gumbel_softmax(x, tau=0.5, hard=hard, dim=1)
        (sample * weights).sum().backward()
        grads.append(x.grad.numpy())
        assert np.allclose(sample.detach().numpy().sum(1), 1)
    assert np.allclose(grads[0], grads[1]) and np.abs(grads[0]).sum() > 0
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(logits, eps=1e-5)
