"""The inverse trigonometric and hyperbolic functions and their relatives (trigonometry.py, the ops Asin and
Atan2) against PyTorch: values in float64 to 1e-13 and in float32 to a unit in the last place, gradients in
float64, the edges (+-1, +-inf, nan, -0.0), two-input ones with broadcasting, in place, out= and the aliases."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

LINE = np.concatenate([np.linspace(-3, 3, 31), [1e-8, -1e-8, 50.0]])
UNIT = np.concatenate([np.linspace(-0.95, 0.95, 20), [1e-8, 1 - 1e-6]])
ABOVE_ONE = np.concatenate([np.linspace(1.05, 5, 12), [1 + 1e-6, 100.0]])
DOMAINS = {"asin": UNIT, "acos": UNIT, "atan": LINE, "sinh": LINE, "cosh": LINE, "asinh": LINE, "acosh": ABOVE_ONE,
           "atanh": UNIT, "exp2": LINE, "reciprocal": LINE, "deg2rad": LINE, "rad2deg": LINE}
EDGES = {"asin": [1.0, -1.0, 1.5, np.nan], "acos": [1.0, -1.0, -1.5], "atan": [np.inf, -np.inf, -0.0],
         "asinh": [np.inf, -np.inf, 1e200, -0.0], "acosh": [1.0, 0.5, np.inf], "atanh": [1.0, -1.0, 2.0],
         "sinh": [np.inf, -710.0], "cosh": [-np.inf, 710.0], "reciprocal": [0.0, -0.0, np.inf]}


def _both(name, points, dtype="float64", grad=True):
    results = []
    for lib in (tl, torch):
        x = lib.tensor(points.astype(dtype), requires_grad=grad)
        y = getattr(lib, name)(x)
        if grad:
            y.backward(lib.ones_like(y))
        results.append((y.detach().numpy(), x.grad.numpy() if grad else None))
    return results


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, at the singular points: see the README)
@pytest.mark.parametrize("name", DOMAINS)
def test_each_function_matches_pytorch(name):
    (ours, our_grad), (theirs, their_grad) = _both(name, DOMAINS[name])
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-9)
    (ours, _), (theirs, _) = _both(name, DOMAINS[name], "float32", grad=False)
    close = np.abs(ours - theirs) <= np.spacing(np.abs(theirs))  # one unit in float32's last place
    assert (close | (ours == theirs)).all()
    if name in EDGES:
        (ours, _), (theirs, _) = _both(name, np.array(EDGES[name]), grad=False)
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, equal_nan=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_two_input_functions_the_rest_and_the_spellings():
    y, x = np.linspace(-2, 2, 9), np.array([1.0, -1.0, 0.0, -0.0, 2.0, -3.0, 0.5, np.inf, -np.inf])
    for name in ("atan2", "hypot", "logaddexp", "logaddexp2"):
        results = []
        for lib in (tl, torch):
            a, b = lib.tensor(y, requires_grad=True), lib.tensor(x)
            out = getattr(lib, name)(a, b)
            out.backward(lib.ones_like(out))
            results.append((out.detach().numpy(), a.grad.numpy()))
        for ours, theirs in zip(*results):
            np.testing.assert_allclose(ours, theirs, rtol=1e-13, equal_nan=True)
    signed = [lib.copysign(lib.tensor([1.5, -2.0, 3.0]), lib.tensor([-0.0, 1.0, -1.0])).tolist() for lib in (tl, torch)]
    assert signed[0] == signed[1] == [-1.5, 2.0, -3.0]
    spelled = []
    for lib in (tl, torch):  # (broadcasting, numbers, sinc, heaviside, signbit, integers, in place, out=, aliases)
        out = lib.empty(3)
        lib.atan2(lib.tensor([1.0, 2.0, 3.0]), lib.tensor(2.0), out=out)
        done = lib.tensor([0.5, -0.25]).atanh_()
        spelled.append([lib.hypot(lib.ones(2, 1), lib.ones(3)).shape == (2, 3), out.tolist(), done.tolist(),
                        lib.sinc(lib.tensor([0.0, 0.5])).tolist(), lib.tensor([1, 2]).exp2().dtype == lib.float32,
                        lib.heaviside(lib.tensor([-1.0, 0.0, 2.0]), lib.tensor([0.5])).tolist(),
                        lib.signbit(lib.tensor([-0.0, 0.0, -1.0])).tolist(), lib.sgn(lib.tensor([-2.0, 0.0])).tolist()])
    assert spelled[0] == spelled[1]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_edges_round_r30_found():
    """hypot neither overflows nor underflows, and is inf beside a nan; atan2's gradient is 0 at the origin; sinh
    and cosh keep their gradients at inf; a float function in place on an integer tensor is refused."""
    results = []
    for lib in (tl, torch):
        big = lib.tensor([1e300, 1e-300, np.inf, np.nan], dtype=lib.float64, requires_grad=True)
        length = lib.hypot(big, lib.tensor([1e300, 1e-300, np.nan, -np.inf], dtype=lib.float64))
        length[:2].sum().backward()
        point = lib.zeros(2, dtype=lib.float64, requires_grad=True)
        lib.atan2(point[0], point[1]).backward()
        far = lib.tensor([np.inf, -np.inf, 800.0], dtype=lib.float64, requires_grad=True)
        (lib.cosh(far) + lib.sinh(far)).sum().backward()
        results.append([length.detach().numpy(), big.grad.numpy()[:2], point.grad.numpy(), far.grad.numpy()])
        with pytest.raises(RuntimeError, match="can't be cast"):
            lib.tensor([1, 0]).atan_()
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-15)
