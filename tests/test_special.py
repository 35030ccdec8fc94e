"""``erf``, ``erfc``, ``erfinv`` (ops/special.py, special_numbers.py) and ``tinygrad_lite.special`` against
PyTorch: values and gradients in float64 over the whole line (the tails, +-inf, nan, +-1 for the inverse), float32
to a unit in the last place, integer inputs, the in-place and special.* spellings."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

POINTS = np.concatenate([np.linspace(-7, 7, 57), [np.inf, -np.inf, np.nan, 0.0, 1e-300]])
PROBABILITIES = np.concatenate([np.linspace(-1, 1, 41), 1 - np.logspace(-15, -1, 15), [1.5, np.nan]])


@pytest.mark.parametrize("name, points", [("erf", POINTS), ("erfc", POINTS), ("erfinv", PROBABILITIES)])
def test_values_and_gradients_match_pytorch(name, points):
    results = []
    for lib in (tl, torch):
        x = lib.tensor(points, requires_grad=True)
        y = getattr(lib, name)(x)
        y.backward(lib.ones_like(y))
        results.append((y.detach().numpy(), x.grad.numpy()))
    (ours, our_grad), (theirs, their_grad) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, equal_nan=True)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-10, equal_nan=True)
    x32 = points[np.isfinite(points)].astype(np.float32)
    ours, theirs = getattr(tl, name)(tl.tensor(x32)).numpy(), getattr(torch, name)(torch.tensor(x32)).numpy()
    finite = np.isfinite(theirs)  # (1 - 1e-15 is 1 in float32: erfinv gives inf in both)
    assert np.array_equal(ours[~finite], theirs[~finite], equal_nan=True)
    assert (np.abs(ours[finite] - theirs[finite]) <= 2 * np.spacing(np.abs(theirs[finite]))).all()  # 2 ulp


def test_the_other_spellings_integers_and_the_normal_distribution():
    p = np.linspace(0.05, 0.95, 7)
    for name in ("expit", "ndtr", "ndtri", "logit", "erf", "erfc", "erfinv", "expm1", "log1p"):
        np.testing.assert_allclose(getattr(tl.special, name)(tl.tensor(p)).numpy(),
                                   getattr(torch.special, name)(torch.tensor(p)).numpy(), rtol=1e-12)
    assert tl.tensor([1, 2]).erf().dtype == tl.float32 and tl.tensor([0.5]).erfinv_().item() == pytest.approx(
        torch.tensor([0.5]).erfinv().item())
    results = []
    for lib in (tl, torch):
        loc = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        normal = lib.distributions.Normal(loc, lib.tensor([2.0, 0.5], dtype=lib.float64))
        p = normal.cdf(lib.tensor([1.0, -1.2], dtype=lib.float64))
        p.sum().backward()
        x = normal.icdf(lib.tensor([0.3, 0.9], dtype=lib.float64))
        results.append(np.concatenate([p.detach().numpy(), loc.grad.numpy(), x.detach().numpy()]))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_ndtri_keeps_the_tails_digits_and_the_functions_take_out():
    tiny = np.array([1e-300, 1e-17, 1e-8, 0.5, 1 - 1e-12, 0.0, 1.0])
    np.testing.assert_allclose(tl.special.ndtri(tl.tensor(tiny)).numpy(),
                               torch.special.ndtri(torch.tensor(tiny)).numpy(), rtol=1e-13)
    out = tl.empty(2)
    assert tl.erf(tl.tensor([0.0, 1.0]), out=out) is out and out.tolist() == pytest.approx([0.0, 0.8427007])
    with pytest.raises(RuntimeError, match="can't be cast"):
        tl.tensor([1, 0]).erfinv_()


GAMMA_POINTS = np.concatenate([np.linspace(-7.8, 9.7, 71), [1e-8, 0.5, 1.0, 2.0, 25.5, 171.5, 1e5, -1e-8, -20.5]])
GAMMA_POINTS = GAMMA_POINTS[(GAMMA_POINTS > 0) | (GAMMA_POINTS != np.round(GAMMA_POINTS))]  # (no poles: below)
POLES_AND_EDGES = np.array([0.0, -1.0, -2.0, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", ["lgamma", "digamma", "polygamma 1", "polygamma 2", "polygamma 4"])
def test_the_gamma_family_matches_pytorch_in_values_and_gradients(name):
    """float64 over the line (negative numbers through the reflection formula); PyTorch's trigamma (the gradient
    of digamma, polygamma 1) is accurate to about 1e-9 only, ours to about 1e-14: hence its tolerance."""
    results = []
    for lib in (tl, torch):
        x = lib.tensor(GAMMA_POINTS, requires_grad=True)
        y = lib.polygamma(int(name[-1]), x) if name.startswith("poly") else getattr(lib, name)(x)
        y.backward(lib.ones_like(y))
        results.append((y.detach().numpy(), x.grad.numpy()))
    (ours, our_grad), (theirs, their_grad) = results
    trigamma = name == "polygamma 1"
    np.testing.assert_allclose(ours, theirs, rtol=1e-8 if trigamma else 1e-11, atol=1e-12)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-8 if name in ("digamma", "polygamma 1") else 1e-10,
                               atol=1e-12)


def test_the_gamma_family_at_its_poles_and_infinities():
    """lgamma is +inf at the poles (and at +-inf), as PyTorch's; digamma -inf at 0 and nan at -1, -2..., as
    PyTorch's; polygamma(n) takes its limits there: (-1)^{n+1} inf at the poles, 0 at +inf."""
    x = tl.tensor(POLES_AND_EDGES)
    assert np.array_equal(tl.lgamma(x).numpy(), torch.lgamma(torch.tensor(POLES_AND_EDGES)).numpy(),
                          equal_nan=True)
    assert np.array_equal(tl.digamma(x).numpy(), torch.digamma(torch.tensor(POLES_AND_EDGES)).numpy(),
                          equal_nan=True)
    np.testing.assert_array_equal(tl.polygamma(1, x).numpy(), [np.inf] * 3 + [0.0, np.nan, np.nan])
    np.testing.assert_array_equal(tl.polygamma(2, x).numpy(), [-np.inf] * 3 + [0.0, np.nan, np.nan])


def test_the_gamma_family_in_float32_second_derivatives_spellings_and_errors():
    x32 = np.linspace(0.25, 6.0, 24, dtype=np.float32)
    for name in ("lgamma", "digamma"):
        ours, theirs = getattr(tl, name)(tl.tensor(x32)).numpy(), getattr(torch, name)(torch.tensor(x32)).numpy()
        assert ours.dtype == np.float32  # (ours rounded from float64; PyTorch's computed in float32, a few ulp off)
        np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=1e-6)
    derivatives = []
    for lib in (tl, torch):  # d^3/dx^3 lgamma = polygamma(2, x), through create_graph twice
        x = lib.tensor([0.7, 3.2], dtype=lib.float64, requires_grad=True)
        first, = lib.autograd.grad(lib.lgamma(x).sum(), x, create_graph=True)
        second, = lib.autograd.grad(first.sum(), x, create_graph=True)
        third, = lib.autograd.grad(second.sum(), x)
        derivatives.append(third.numpy())
    np.testing.assert_allclose(derivatives[0], derivatives[1], rtol=1e-10)
    assert tl.autograd.gradcheck(lambda x: tl.special.multigammaln(x, 3), tl.tensor([1.3, 4.0], dtype=tl.float64,
                                                                                     requires_grad=True))
    for name, ours, theirs in [("mvlgamma", tl.mvlgamma(tl.tensor([2.5, 3.0]), 3), torch.mvlgamma(
            torch.tensor([2.5, 3.0]), 3)), ("gammaln", tl.special.gammaln(tl.tensor([0.5])), torch.special.gammaln(
            torch.tensor([0.5]))), ("psi", tl.special.psi(tl.tensor([2.0])), torch.special.psi(torch.tensor([2.0]))),
            ("method", tl.tensor([1.5]).polygamma(2), torch.tensor([1.5]).polygamma(2)),
            ("in place", tl.tensor([4.0]).lgamma_(), torch.tensor([4.0]).lgamma_()),
            ("integers", tl.digamma(tl.tensor([1, 2])), torch.digamma(torch.tensor([1, 2])))]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, err_msg=name)
        assert ours.dtype.name == str(theirs.dtype).split(".")[1], name
    for lib in (tl, torch):
        with pytest.raises(RuntimeError, match="negative n"):
            lib.polygamma(-1, lib.ones(1))
        with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
            lib.mvlgamma(lib.tensor([0.5]), 0)
    np.testing.assert_allclose(tl.mvlgamma(tl.tensor([-0.5, 0.2]), 2).numpy(), torch.mvlgamma(torch.tensor(
        [-0.5, 0.2]), 2).numpy(), rtol=1e-6)


def test_the_incomplete_gamma_functions_match_pytorch_and_make_the_gamma_cdf():
    """gammainc and gammaincc (P and Q) over a grid of a and x from the series' region to the continued fraction's,
    their edges (x = 0, inf, a = 0, negative arguments), the gradient in x (the Gamma density) and its own
    derivative, Gamma.cdf and Chi2.cdf, igamma/igammac, float32 with float64; the refusals of a gradient in a and of
    integers. PyTorch's kernel is good to about 1e-9 here (ours to about 1e-13 against a 40-digit reference)."""
    a_grid, x_grid = np.meshgrid(np.array([0.05, 0.5, 1.0, 2.5, 10.0, 60.0]), np.array([1e-3, 0.4, 3.0, 11.0, 70.0]))
    edges = (np.array([0.0, 2.0, 2.0, 3.0, -1.0, 3.0]), np.array([1.0, 0.0, np.inf, -1.0, 1.0, np.nan]))
    results = []
    for lib in (tl, torch):
        a = lib.tensor(a_grid.ravel())
        x = lib.tensor(x_grid.ravel(), requires_grad=True)
        p, q = lib.special.gammainc(a, x), lib.special.gammaincc(a, x)
        first, = lib.autograd.grad((p * 2 + q).sum(), x, create_graph=True)
        second, = lib.autograd.grad(first.sum(), x)
        gamma = lib.distributions.Gamma(lib.tensor([0.5, 2.0, 10.0]), lib.tensor(2.0, dtype=lib.float64))
        results.append([p.detach().numpy(), q.detach().numpy(), first.detach().numpy(), second.numpy(),
                        lib.special.gammainc(*(lib.tensor(e) for e in edges)).numpy(),
                        lib.special.gammaincc(*(lib.tensor(e) for e in edges)).numpy(),
                        gamma.cdf(lib.tensor([0.1, 1.0, 3.0])).numpy(),
                        lib.distributions.Chi2(lib.tensor([1.0, 4.0])).cdf(lib.tensor([0.5, 9.0])).numpy(),
                        lib.igamma(lib.tensor([2.0], dtype=lib.float32), lib.tensor([1.5])).numpy(),
                        lib.tensor([2.0]).igammac(lib.tensor([1.5])).numpy()])
        a_grad = lib.tensor([2.0], requires_grad=True)
        with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input' is not implemented"):
            lib.special.gammainc(a_grad, lib.tensor([1.5])).backward()
        with pytest.raises(NotImplementedError):
            lib.special.gammainc(lib.tensor([2]), lib.tensor([1]))
    for ours, theirs in zip(*results):  # (float32 ones within their rounding)
        rtol = 2e-8 if ours.dtype == np.float64 else 1e-6
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-14, equal_nan=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's 0 / 0 in log1p's backward at y = -1: nan, as PyTorch)
def test_exp2_xlog1py_entr_and_round_match_pytorch():
    """Values everywhere (entr's 0 and -inf; xlog1py's 0 where x = 0, log1p(y) -inf or nan); gradients where entr
    is differentiable (x > 0; its gradient at 0 and below is 0 here, inf and nan in PyTorch)."""
    results = []
    for lib in (tl, torch):
        x = lib.tensor([0.0, -1.0, 2.0, 0.5])
        values = lib.special.entr(x) + lib.special.exp2(x) + lib.special.xlog1py(x, lib.tensor([-1.0, 3.0, 0.2, 1.0]))
        x = lib.tensor([3.0, 0.25, 2.0, 0.5], requires_grad=True)
        y = lib.tensor([-1.0, 3.0, 0.2, 1.0], requires_grad=True)
        (lib.special.entr(x) + lib.special.exp2(x) + lib.special.xlog1py(x * lib.tensor([0.0, 1, 1, 1]), y)).sum(
            ).backward()
        results.append([values.numpy(), x.grad.numpy(), y.grad.numpy(),
                        lib.special.xlog1py(lib.tensor([0.0]), lib.tensor([float("nan")])).numpy(),
                        lib.special.round(lib.tensor([2.5, -1.5, 0.125]), decimals=2).numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, equal_nan=True)
