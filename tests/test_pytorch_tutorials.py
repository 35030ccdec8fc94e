"""Acceptance: ``import tinygrad_lite as torch`` runs PyTorch code.

Each script below does what one of PyTorch's introductory autograd tutorials does (written afresh here). It takes
the library as an argument called ``torch``, so the very same code runs once with PyTorch and once with
tinygrad_lite. Random starting values are drawn with numpy and passed in, so both runs start from identical
numbers. Every quantity the tutorial prints or inspects (values, gradients, flags) is recorded and the two runs
must agree.
"""
import math

import numpy as np
import pytest
import torch as real_torch

import tinygrad_lite

LIBRARIES = {"torch": real_torch, "tinygrad_lite": tinygrad_lite}


class Recorder:
    """Collects what a tutorial would print: tensors become numpy arrays (with their dtype), the rest stays."""

    def __init__(self, torch):
        self.torch, self.values = torch, {}

    def __call__(self, key, value):
        assert key not in self.values, f"recorded {key!r} twice"
        if isinstance(value, self.torch.Tensor):
            value = (str(value.dtype).split(".")[-1], tuple(value.shape), value.detach().numpy().copy())
        self.values[key] = value


def run_both(script, *args, **kwargs):
    """Run ``script(torch, record, ...)`` with each library; returns {library name: recorded values}."""
    results = {}
    for name, lib in LIBRARIES.items():
        record = Recorder(lib)
        script(lib, record, *args, **kwargs)
        results[name] = record.values
    return results


def assert_runs_agree(results, rtol=1e-6, atol=1e-6, loose=()):
    """Every recorded quantity matches between the runs; keys in ``loose`` map to their own (rtol, atol)."""
    theirs, ours = results["torch"], results["tinygrad_lite"]
    assert ours.keys() == theirs.keys()
    for key, expected in theirs.items():
        got = ours[key]
        r, a = loose.get(key, (rtol, atol)) if isinstance(loose, dict) else (rtol, atol)
        if isinstance(expected, tuple) and len(expected) == 3 and isinstance(expected[2], np.ndarray):
            assert got[0] == expected[0], f"{key}: dtype {got[0]} vs PyTorch's {expected[0]}"
            assert got[1] == expected[1], f"{key}: shape {got[1]} vs PyTorch's {expected[1]}"
            np.testing.assert_allclose(got[2], expected[2], rtol=r, atol=a, err_msg=key)
        elif isinstance(expected, float):
            assert isinstance(got, float), f"{key}: {type(got).__name__}"
            np.testing.assert_allclose(got, expected, rtol=r, atol=a, err_msg=key)
        else:
            assert type(got) is type(expected) and got == expected, f"{key}: {got!r} vs PyTorch's {expected!r}"


def op_name(grad_fn):
    """PyTorch's node class MulBackward0 and ours, Mul (shown as <MulBackward>), both read as 'MulBackward'."""
    name = type(grad_fn).__name__.rstrip("0123456789")
    return name if name.endswith("Backward") else name + "Backward"


def bce_with_logits(torch, logits, targets):
    """The loss from torch.nn.functional when the library has it, else the same formula written out:
    mean over elements of max(z, 0) - z * y + log(1 + exp(-|z|))."""
    functional = getattr(getattr(torch, "nn", None), "functional", None)
    if functional is not None and hasattr(functional, "binary_cross_entropy_with_logits"):
        return functional.binary_cross_entropy_with_logits(logits, targets)
    return (logits.clamp(min=0) - logits * targets + (-logits.abs()).exp().log1p()).mean()


# ------------------------------------------------------------------------------------------------ autograd basics
def autograd_basics(torch, record, w0, b0):
    """A one-layer network, its loss, and the gradients of the loss with respect to its parameters."""
    x = torch.ones(5)  # the input
    y = torch.zeros(3)  # the wanted output
    w = torch.tensor(w0, requires_grad=True)  # stands in for randn(5, 3, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = bce_with_logits(torch, z, y)
    record("z", z)
    record("loss", loss)
    record("loss.item", loss.item())
    record("z.grad_fn", op_name(z.grad_fn))
    record("loss.has_grad_fn", loss.grad_fn is not None)
    record("w.requires_grad", w.requires_grad)
    record("z.requires_grad", z.requires_grad)
    record("w.is_leaf", w.is_leaf)
    record("z.is_leaf", z.is_leaf)

    loss.backward()
    record("w.grad", w.grad)
    record("b.grad", b.grad)

    # stop tracking: under no_grad, and with detach
    z = torch.matmul(x, w) + b
    record("tracked", z.requires_grad)
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    record("under_no_grad", z.requires_grad)
    z = torch.matmul(x, w) + b
    z_det = z.detach()
    record("detached", z_det.requires_grad)
    record("z_det", z_det)

    # vector-Jacobian products: a non-scalar output needs the gradient argument
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    record("out", out)
    out.backward(torch.ones_like(out), retain_graph=True)
    record("first call", inp.grad.clone())
    out.backward(torch.ones_like(out), retain_graph=True)
    record("second call", inp.grad.clone())  # accumulated: twice the first
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    record("call after zeroing", inp.grad.clone())


def test_autograd_basics_runs_the_same_on_both():
    w0 = np.random.randn(5, 3).astype(np.float32)
    b0 = np.random.randn(3).astype(np.float32)
    results = run_both(autograd_basics, w0, b0)
    assert_runs_agree(results, rtol=1e-6, atol=1e-7)
    ours = results["tinygrad_lite"]
    np.testing.assert_allclose(ours["second call"][2], 2 * ours["first call"][2])
    np.testing.assert_allclose(ours["call after zeroing"][2], ours["first call"][2])
    assert ours["z.grad_fn"] == "AddBackward"
    assert ours["under_no_grad"] is False and ours["detached"] is False


def test_the_fallback_loss_formula_agrees_with_torch():
    logits = np.random.randn(7).astype(np.float32) * 3
    targets = (np.random.rand(7) > 0.5).astype(np.float32)
    expected = real_torch.nn.functional.binary_cross_entropy_with_logits(real_torch.tensor(logits),
                                                                        real_torch.tensor(targets))

    class NoFunctional:  # a stand-in library without nn.functional, so the formula is used
        nn = None

    formula = bce_with_logits(NoFunctional, tinygrad_lite.tensor(logits), tinygrad_lite.tensor(targets))
    np.testing.assert_allclose(formula.item(), expected.item(), rtol=1e-6)


# ------------------------------------------------------------------------------------------------ a gentle introduction
def gentle_introduction(torch, record, x0, y0, z0):
    """Q = 3a^3 - b^2 and its gradients, then which results are tracked."""
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    b = torch.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    record("Q", Q)
    record("Q.grad_fn", op_name(Q.grad_fn))
    external_grad = torch.tensor([1.0, 1.0])  # Q is a vector: say how its elements weigh in
    Q.backward(gradient=external_grad)
    record("a.grad", a.grad)
    record("b.grad", b.grad)
    record("a.grad == 9a^2", (9 * a ** 2 == a.grad).tolist())
    record("b.grad == -2b", (-2 * b == b.grad).tolist())
    record("all", bool((9 * a ** 2 == a.grad).all()))

    # only results computed from something that requires grad are tracked
    x = torch.tensor(x0)  # stands in for rand(5, 5)
    y = torch.tensor(y0)
    z = torch.tensor(z0, requires_grad=True)
    s = x + y
    record("x + y requires grad", s.requires_grad)
    s = x + z
    record("x + z requires grad", s.requires_grad)

    # freezing: a parameter that does not require grad gets no gradient
    frozen = torch.tensor(x0, requires_grad=True)
    frozen.requires_grad_(False)
    trained = torch.tensor(y0, requires_grad=True)
    (frozen * trained).sum().backward()
    record("frozen.grad is None", frozen.grad is None)
    record("trained.grad", trained.grad)


def test_gentle_introduction_runs_the_same_on_both():
    x0, y0, z0 = (np.random.rand(5, 5).astype(np.float32) for _ in range(3))
    results = run_both(gentle_introduction, x0, y0, z0)
    assert_runs_agree(results, rtol=0, atol=0)
    ours = results["tinygrad_lite"]
    assert ours["a.grad == 9a^2"] == [True, True] and ours["b.grad == -2b"] == [True, True]
    assert ours["x + y requires grad"] is False and ours["x + z requires grad"] is True


# ------------------------------------------------------------------------------------------------ polynomial fit
def polynomial_fit(torch, record, coefficients, steps=2000, learning_rate=1e-6):
    """Fit y = a + b x + c x^2 + d x^3 to sin(x) on [-pi, pi] by gradient descent, with autograd's gradients."""
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in coefficients)  # randn((), ...)
    record("x", x)
    record("y", y)
    for step in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if step % 100 == 99:
            record(f"loss at {step}", loss.item())
        loss.backward()
        if step == 0:
            record("first a.grad", a.grad)
            record("first d.grad", d.grad)
        with torch.no_grad():  # plain updates, not part of the graph
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
        if step == 0:
            record("still leaves", all(p.is_leaf and p.requires_grad and p.grad is None for p in (a, b, c, d)))
    for label, p in zip("abcd", (a, b, c, d)):
        record(label, p)
        record(f"{label}.item", p.item())


def test_polynomial_fit_runs_the_same_on_both():
    coefficients = np.random.randn(4).astype(np.float32)
    results = run_both(polynomial_fit, coefficients)
    # 2000 float32 steps: summation order differs (numpy's pairwise sum vs PyTorch's), so allow a few ulps of drift
    assert_runs_agree(results, rtol=2e-5, atol=1e-6)
    ours = results["tinygrad_lite"]
    assert ours["still leaves"] is True
    assert ours["loss at 1999"] < ours["loss at 99"]


def legendre_polynomial_3(torch):
    """The tutorial's custom autograd Function, written PyTorch's way, for whichever module plays ``torch``."""

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return 0.5 * (5 * t ** 3 - 3 * t)

        @staticmethod
        def backward(ctx, grad_output):
            (t,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * t ** 2 - 1)

    return LegendrePolynomial3


def polynomial_fit_with_custom_function(torch, record, steps=2000, learning_rate=5e-6):
    """The same fit through a hand-written autograd Function: y = a + b P3(c + d x), with P3 the Legendre
    polynomial of degree 3, P3(t) = (5 t^3 - 3 t) / 2, and its derivative P3'(t) = 1.5 (5 t^2 - 1)."""

    LegendrePolynomial3 = legendre_polynomial_3(torch)
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    # starting values close to the answer, so that the fit converges (as the tutorial chooses them)
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    for step in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if step == 0:
            record("first y_pred", y_pred)
            record("y_pred tracked", y_pred.requires_grad)
        if step % 100 == 99:
            record(f"loss at {step}", loss.item())
        loss.backward()
        if step == 0:
            record("first grads", [p.grad.item() for p in (a, b, c, d)])
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    for label, p in zip("abcd", (a, b, c, d)):
        record(label, p)


def test_custom_function_fit_runs_the_same_on_both():
    results = run_both(polynomial_fit_with_custom_function)
    theirs, ours = results["torch"], results["tinygrad_lite"]
    # dL/da and dL/dc start near 0: sums of 2000 terms of size ~1 that cancel, so float32 rounding (~1e-4) is all
    # that is left of them and the order of summation decides it; compare against the size of the terms
    np.testing.assert_allclose(ours.pop("first grads"), theirs.pop("first grads"), rtol=1e-5, atol=1e-3)
    assert_runs_agree(results, rtol=2e-5, atol=1e-6)
    assert ours["loss at 1999"] < ours["loss at 99"]


@pytest.mark.parametrize("name", ["torch", "tinygrad_lite"])
def test_custom_function_matches_finite_differences(name):
    """The hand-written backward is right: check it with each library's own gradcheck, in float64."""
    lib = LIBRARIES[name]

    Legendre3 = legendre_polynomial_3(lib)
    t = lib.tensor(np.random.randn(6), dtype=lib.float64, requires_grad=True)
    gradcheck = lib.autograd.gradcheck if name == "torch" else lib.gradcheck
    assert gradcheck(Legendre3.apply, (t,))
