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
