"""Cauchy, HalfNormal, HalfCauchy, Gumbel, Weibull, Pareto, Geometric, InverseGamma and Kumaraswamy against
torch.distributions in float64, for broadcast batch shapes: log_prob, cdf/icdf, entropy, mean, mode, variance,
stddev, expand and the gradients of a weighted sum of them in every parameter (and in the value); rsample's draws
(the library's own numbers) against the mean and the median, and their pathwise gradients against the gradients of
those; the argument checks' errors; the documented differences (Kumaraswamy's and Weibull's modes, Gumbel's cdf in the
far tails)."""
import math

import numpy as np
import pytest
import torch

import tinygrad_lite as tl
from tinygrad_lite.distributions.cauchy import Cauchy
from tinygrad_lite.distributions.geometric import Geometric
from tinygrad_lite.distributions.gumbel import Gumbel
from tinygrad_lite.distributions.half_cauchy import HalfCauchy
from tinygrad_lite.distributions.half_normal import HalfNormal
from tinygrad_lite.distributions.inverse_gamma import InverseGamma
from tinygrad_lite.distributions.kumaraswamy import Kumaraswamy
from tinygrad_lite.distributions.pareto import Pareto
from tinygrad_lite.distributions.weibull import Weibull

OURS = {d.__name__: d for d in (Cauchy, HalfNormal, HalfCauchy, Gumbel, Weibull, Pareto, Geometric, InverseGamma,
                                Kumaraswamy)}
ALL = ("log_prob", "cdf", "icdf", "entropy", "mean", "mode", "variance", "stddev")
# name: (class, parameters (keyword, numbers) broadcasting to batch shape (2, 3), value of shape (3,), what is
# differentiated, what is compared by value only (infinite or nan, or a documented difference in the gradient))
CASES = {
    "Cauchy": ("Cauchy", [("loc", [[-1.0], [0.5]]), ("scale", [0.5, 1.0, 2.5])], [-2.0, 0.3, 4.0],
               ("log_prob", "cdf", "icdf", "entropy", "mode"), ("mean", "variance", "stddev")),
    "HalfNormal": ("HalfNormal", [("scale", [[0.5, 1.0, 1.7], [2.0, 0.3, 1.1]])], [0.2, 1.0, 3.0], ALL, ()),
    "HalfCauchy": ("HalfCauchy", [("scale", [[0.5, 1.0, 1.7], [2.0, 0.3, 1.1]])], [0.2, 1.0, 3.0],
                   ("log_prob", "cdf", "icdf", "entropy", "mode"), ("mean", "variance", "stddev")),
    "Gumbel": ("Gumbel", [("loc", [[-1.0], [0.5]]), ("scale", [0.5, 1.0, 2.5])], [-2.0, 0.3, 4.0], ALL, ()),
    "Weibull": ("Weibull", [("scale", [[0.5], [1.7]]), ("concentration", [1.3, 2.0, 3.5])], [0.2, 1.0, 3.0], ALL, ()),
    "Weibull k<1": ("Weibull", [("scale", [[0.5], [1.7]]), ("concentration", [0.4, 0.7, 0.9])], [0.2, 1.0, 3.0],
                    ("log_prob", "cdf", "icdf", "entropy", "mean", "variance", "stddev"), ("mode",)),
    "Pareto": ("Pareto", [("scale", [[0.5], [2.0]]), ("alpha", [2.5, 3.0, 6.0])], [2.5, 3.0, 7.0], ALL, ()),
    "Pareto alpha<=2": ("Pareto", [("scale", [[0.5], [2.0]]), ("alpha", [0.5, 1.0, 2.0])], [2.5, 3.0, 7.0],
                        ("log_prob", "cdf", "icdf", "entropy", "mode"), ("mean", "variance", "stddev")),
    "Geometric": ("Geometric", [("probs", [[0.2, 0.5, 0.9], [0.05, 0.7, 0.35]])], [0.0, 1.0, 4.0],
                  ("log_prob", "entropy", "mean", "mode", "variance", "stddev"), ()),
    "Geometric logits": ("Geometric", [("logits", [[-2.0, 0.0, 1.5], [3.0, -0.5, 0.2]])], [0.0, 1.0, 4.0],
                         ("log_prob", "entropy", "mean", "mode", "variance", "stddev"), ()),
    "InverseGamma": ("InverseGamma", [("concentration", [[2.5], [4.0]]), ("rate", [0.5, 1.0, 3.0])],
                     [0.2, 1.0, 3.0], ("log_prob", "entropy", "mean", "mode", "variance", "stddev"), ()),
    "InverseGamma a<=2": ("InverseGamma", [("concentration", [[0.5], [1.5]]), ("rate", [0.5, 1.0, 3.0])],
                          [0.2, 1.0, 3.0], ("log_prob", "entropy", "mode"), ("mean", "variance", "stddev")),
    "Kumaraswamy": ("Kumaraswamy", [("concentration1", [[0.6], [2.0]]), ("concentration0", [0.5, 1.5, 3.0])],
                    [0.1, 0.5, 0.95], ("log_prob", "cdf", "icdf", "entropy", "mean", "variance", "stddev"), ()),
}
PROBABILITIES = [0.1, 0.5, 0.93]


def family(L, name):
    return OURS[name] if L is tl else getattr(torch.distributions, name)


def quantity(d, what, x, u):
    return {"log_prob": lambda: d.log_prob(x), "cdf": lambda: d.cdf(x), "icdf": lambda: d.icdf(u),
            "entropy": d.entropy}.get(what, lambda: getattr(d, what))()


def evaluate(L, case):
    """Every quantity's numbers, the shapes, and the gradients of a weighted sum of the differentiable ones."""
    name, params, value, differentiated, by_value = CASES[case]
    leaves = {k: L.tensor(v, dtype=L.float64, requires_grad=True) for k, v in params}
    x = L.tensor(value, dtype=L.float64, requires_grad=True)
    u = L.tensor(PROBABILITIES, dtype=L.float64, requires_grad=True)
    d = family(L, name)(**leaves)
    found, total = {}, 0
    for what in differentiated + by_value:
        q = quantity(d, what, x, u)
        found[what] = q.detach().numpy()
        if what in differentiated:
            weights = L.tensor(np.linspace(0.5, 1.5, q.numel()).reshape(tuple(q.shape)), dtype=L.float64)
            total = total + (q * weights).sum()
    total.backward()
    for k, leaf in list(leaves.items()) + [("value", x), ("probability", u)]:
        found["grad " + k] = np.zeros(tuple(leaf.shape)) if leaf.grad is None else leaf.grad.numpy()
    bigger = d.expand((4, 2, 3))
    found["expand"] = [bigger.log_prob(x).detach().numpy(), bigger.entropy().detach().numpy()]
    found["shapes"] = (tuple(d.batch_shape), tuple(d.event_shape), tuple(d.sample((5,)).shape),
                       tuple(bigger.batch_shape), tuple(bigger.sample((5,)).shape))
    return found


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, where PyTorch's numbers are inf or nan)
@pytest.mark.parametrize("case", list(CASES))
def test_numbers_gradients_and_shapes_match_pytorch(case):
    ours, theirs = evaluate(tl, case), evaluate(torch, case)
    assert ours.keys() == theirs.keys()
    assert ours.pop("shapes") == theirs.pop("shapes")
    for key, expected in theirs.items():
        np.testing.assert_allclose(ours[key], expected, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{case} {key}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, where PyTorch's numbers are inf or nan)
def test_the_values_that_are_infinite_or_nan_are_pytorchs():
    """(Covered above too; spelled out here: the mean and variance that do not exist.)"""
    t, i, n = tl.tensor, math.inf, math.nan
    assert Cauchy(t([0.0, 1.0]), t([1.0, 2.0])).mean.tolist() == pytest.approx([n, n], nan_ok=True)
    assert Cauchy(0.0, 1.0).variance.tolist() == i and HalfCauchy(t([1.0])).mean.tolist() == [i]
    assert Pareto(t([1.0, 1.0, 1.0]), t([0.5, 1.5, 3.0])).variance.tolist() == [i, i, 3 / 4]
    assert InverseGamma(t([0.5, 1.5, 3.0]), t([1.0, 1.0, 1.0])).mean.tolist() == [i, 2.0, 0.5]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, where PyTorch's numbers are inf or nan)
def test_geometric_at_probability_one_matches_pytorch():
    def seen(L):
        p = L.tensor([1.0, 1.0, 0.5], dtype=L.float64, requires_grad=True)
        d = family(L, "Geometric")(probs=p)
        lp = d.log_prob(L.tensor([0.0, 2.0, 3.0], dtype=L.float64))
        lp[lp.isfinite()].sum().backward()
        return [lp.detach().numpy(), d.entropy().detach().numpy(), d.logits.detach().numpy(), p.grad.numpy(),
                d.sample((6,)).numpy()[:, :2]]
    for a, b in zip(seen(tl), seen(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_kumaraswamy_mode_is_the_density_maximum():
    """Deliberate difference: PyTorch 2.13's Kumaraswamy.mode is nan for every valid a, b (pytorch#173912)."""
    a = tl.tensor([0.5, 1.0, 0.5, 1.0, 3.0, 1.0, 3.0, 2.0], dtype=tl.float64, requires_grad=True)
    b = tl.tensor([0.5, 0.5, 1.0, 1.0, 1.0, 3.0, 5.0, 0.7], dtype=tl.float64, requires_grad=True)
    mode = Kumaraswamy(a, b).mode
    np.testing.assert_allclose(mode.detach().numpy(), [math.nan] * 4 + [1.0, 0.0, 0.5227579585747102, math.nan],
                               rtol=1e-12, equal_nan=True)
    d = Kumaraswamy(tl.tensor([3.0, 2.0]), tl.tensor([5.0, 4.0]))
    m = d.mode
    assert (d.log_prob(m) > d.log_prob(m - 1e-3)).all() and (d.log_prob(m) > d.log_prob(m + 1e-3)).all()
    mode[6].backward()
    ta, tb = torch.tensor(3.0, dtype=torch.float64, requires_grad=True), torch.tensor(5.0, dtype=torch.float64,
                                                                                        requires_grad=True)
    (((ta - 1) / (ta * tb - 1)) ** (1 / ta)).backward()
    assert a.grad[6].item() == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad[6].item() == pytest.approx(tb.grad.item(), rel=1e-12)
    assert np.isfinite(a.grad.numpy()).all() and np.isfinite(b.grad.numpy()).all()


def test_weibull_mode_is_nan_below_concentration_one():
    """Deliberate difference: PyTorch 2.13 gives nan for most k < 1 but 2.0 at scale 2, k = 0.5 (pytorch#198186)."""
    k = tl.tensor([0.5, 0.25, 0.7, 1.0, 2.0])
    assert Weibull(tl.tensor(2.0), k).mode.tolist()[:3] == pytest.approx([math.nan] * 3, nan_ok=True)
    np.testing.assert_allclose(Weibull(tl.tensor(2.0), k).mode.numpy()[3:],
                               torch.distributions.Weibull(torch.tensor(2.0), torch.tensor([1.0, 2.0])).mode.numpy())


RSAMPLED = {  # name: parameters (shape (2,)), whether the mean exists
    "Cauchy": ([[-1.0, 2.0], [0.5, 3.0]], False), "HalfNormal": ([[0.5, 2.0]], True),
    "HalfCauchy": ([[0.5, 2.0]], False), "Gumbel": ([[-1.0, 2.0], [0.5, 3.0]], True),
    "Weibull": ([[0.5, 2.0], [0.7, 3.0]], True), "Pareto": ([[0.5, 2.0], [3.0, 5.0]], True),
    "Kumaraswamy": ([[0.6, 2.0], [0.5, 3.0]], True)}


@pytest.mark.parametrize("name", list(RSAMPLED))
def test_rsample_has_the_mean_and_median_and_their_gradients(name):
    tl.manual_seed(0)
    numbers, has_mean = RSAMPLED[name]
    n = 20000

    def made():
        leaves = [tl.tensor(v, dtype=tl.float64, requires_grad=True) for v in numbers]
        return OURS[name](*leaves), leaves

    d, leaves = made()
    assert d.has_rsample
    draws = d.rsample((n,))
    assert tuple(draws.shape) == (n, 2) and draws.requires_grad
    # the median is icdf(1/2), within a few standard errors 1 / (2 density(median) sqrt(n))
    median = draws.median(0).values
    truth = d.icdf(tl.tensor([0.5, 0.5], dtype=tl.float64))
    error = 1 / (2 * d.log_prob(truth).exp() * math.sqrt(n))
    assert ((median - truth).abs() <= 4 * error).all(), (median, truth)
    # the pathwise gradient: a draw x made from noise held fixed moves with the parameters as the quantile icdf(p)
    # at its own level p = cdf(x) does (x = icdf(p) for any sampler monotone in its noise), so the gradients of a
    # sum of draws and of those quantiles agree to rounding (draws in the far tails left out: their p loses digits)
    levels = d.cdf(draws).detach()
    middle = ((levels > 0.01) & (levels < 0.99)).to(tl.float64)
    (draws * middle).sum().backward()
    pathwise = [leaf.grad.numpy().copy() for leaf in leaves]
    d, leaves = made()
    (d.icdf(levels) * middle).sum().backward()
    for p, q in zip(pathwise, leaves):
        np.testing.assert_allclose(p, q.grad.numpy(), rtol=1e-8, err_msg=f"{name} pathwise gradient")
        assert np.isfinite(p).all() and (p != 0).all()
    if not has_mean:
        return
    d, leaves = made()
    draws = d.rsample((n,))
    error = (d.variance / n).sqrt()
    assert ((draws.mean(0) - d.mean).abs() <= 4 * error).all(), (draws.mean(0), d.mean)
    draws.mean(0).sum().backward()
    pathwise = [leaf.grad.numpy().copy() for leaf in leaves]
    d, leaves = made()
    d.mean.sum().backward()
    for p, q in zip(pathwise, leaves):
        np.testing.assert_allclose(p, q.grad.numpy(), rtol=0.05, atol=1e-3, err_msg=f"{name} mean gradient")


@pytest.mark.parametrize("name, made", [
    ("Geometric", lambda t: Geometric(t([0.2, 0.7]))),
    ("InverseGamma", lambda t: InverseGamma(t([5.0, 8.0]), t([1.0, 2.0])))])
def test_samples_of_families_without_icdf_have_the_mean(name, made):
    tl.manual_seed(0)
    d = made(lambda v: tl.tensor(v, dtype=tl.float64))
    assert d.has_rsample == (name == "InverseGamma")  # (its rsample's gradients: test_gamma_distributions.py)
    draws = d.sample((20000,))
    assert tuple(draws.shape) == (20000, 2) and not draws.requires_grad
    assert ((draws.mean(0) - d.mean).abs() <= 4 * (d.variance / 20000).sqrt()).all()
    if name == "Geometric":
        assert (draws == draws.floor()).all() and (draws >= 0).all()


def test_inverse_gamma_cdf_is_pytorchs_and_icdf_is_refused_by_both():
    """cdf(y) = Q(a, b / y), computed as the upper incomplete gamma function itself: in float32 PyTorch's 1 - P loses
    digits where the cdf is small (4.888e-6 for 4.894e-6 below), this one keeps them."""
    y = np.array([0.2, 1.0, 3.0, 40.0])
    ours, theirs = ([L.distributions.InverseGamma(L.tensor([2.0, 0.5, 7.0, 1.0], dtype=dtype),
                                                  L.tensor([3.0, 1.0, 0.5, 2.0], dtype=dtype))
                     .cdf(L.tensor(y, dtype=dtype)).numpy() for dtype in (L.float64, L.float32)] for L in (tl, torch))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[0][0], 16 * math.exp(-15), rtol=1e-12)  # Q(2, 15) = e^-15 (1 + 15)
    np.testing.assert_allclose(ours[1], ours[0], rtol=1e-6)
    for L in (tl, torch):
        with pytest.raises(NotImplementedError):
            L.distributions.InverseGamma(L.tensor([2.0]), L.tensor([3.0])).icdf(L.tensor([0.5]))


def test_gumbel_cdf_in_the_far_tails():
    """Deliberate difference: PyTorch raises there (its base uniform's check); here the cdf is 0 or 1."""
    x = tl.tensor([-8.0, 40.0], dtype=tl.float64)
    assert Gumbel(tl.tensor(0.0, dtype=tl.float64), 1.0).cdf(x).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="support"):
        torch.distributions.Gumbel(torch.tensor(0.0, dtype=torch.float64), 1.0).cdf(torch.tensor([-8.0, 40.0],
                                                                                                   dtype=torch.float64))
    p = tl.tensor([0.0, 1.0], dtype=tl.float64)
    theirs = torch.distributions.Gumbel(torch.tensor(0.0, dtype=torch.float64), 1.0).icdf(torch.tensor([0.0, 1.0],
                                                                                                        dtype=torch.float64))
    np.testing.assert_allclose(Gumbel(tl.tensor(0.0, dtype=tl.float64), 1.0).icdf(p).numpy(), theirs.numpy())


def bad_arguments(L):
    """What each rejected argument raises: the exception's type and its message (the library's names made
    PyTorch's)."""
    t, Of = L.tensor, (lambda name: family(L, name))
    nan = math.nan
    attempts = [
        lambda: Of("Cauchy")(t([0.0]), t([0.0])), lambda: Of("Cauchy")(t([nan]), t([1.0])),
        lambda: Of("Cauchy")(t([0.0]), t([1.0])).log_prob(t([nan])),
        lambda: Of("Cauchy")(t([0.0]), t([1.0])).cdf(t([nan])),
        lambda: Of("HalfNormal")(t([-1.0])), lambda: Of("HalfNormal")(t([1.0])).log_prob(t([-1.0])),
        lambda: Of("HalfNormal")(t([1.0])).cdf(t([-1.0])),
        lambda: Of("HalfCauchy")(t([0.0])), lambda: Of("HalfCauchy")(t([1.0])).log_prob(t([-1.0])),
        lambda: Of("HalfCauchy")(t([1.0])).cdf(t([-1.0])),
        lambda: Of("Gumbel")(t([0.0]), t([0.0])), lambda: Of("Gumbel")(t([nan]), t([1.0])),
        lambda: Of("Gumbel")(t([0.0]), t([1.0])).log_prob(t([nan])),
        lambda: Of("Weibull")(t([-1.0]), t([1.0])), lambda: Of("Weibull")(t([1.0]), t([0.0])),
        lambda: Of("Weibull")(t([1.0]), t([1.0])).log_prob(t([0.0])),
        lambda: Of("Weibull")(t([1.0]), t([1.5])).cdf(t([-1.0])),
        lambda: Of("Pareto")(t([1.0, 2.0]), t([1.0, -1.0])), lambda: Of("Pareto")(t([1.0, -2.0]), t([1.0, 1.0])),
        lambda: Of("Pareto")(t([1.0, 2.0]), t([1.0, 1.0])).log_prob(t([0.5, 3.0])),
        lambda: Of("Pareto")(t([1.0, 2.0]), t([1.0, 1.0])).cdf(t([0.5, 3.0])),
        lambda: Of("Geometric")(t([0.0, 0.5])), lambda: Of("Geometric")(t([1.5])),
        lambda: Of("Geometric")(logits=t([nan])), lambda: Of("Geometric")(),
        lambda: Of("Geometric")(t([0.5]), t([0.0])),
        lambda: Of("Geometric")(t([0.5])).log_prob(t([0.5])), lambda: Of("Geometric")(t([0.5])).log_prob(t([-1.0])),
        lambda: Of("InverseGamma")(t([1.0]), t([-1.0])), lambda: Of("InverseGamma")(t([0.0]), t([1.0])),
        lambda: Of("InverseGamma")(t([1.0]), t([1.0])).log_prob(t([0.0])),
        lambda: Of("Kumaraswamy")(t([1.0]), t([-1.0])), lambda: Of("Kumaraswamy")(t([-1.0]), t([1.0])),
        lambda: Of("Kumaraswamy")(t([1.0]), t([1.0])).log_prob(t([1.5])),
    ]
    found = []
    for attempt in attempts:
        with pytest.raises(Exception) as error:
            attempt()
        found.append((type(error.value).__name__, str(error.value).replace("tinygrad_lite.", "torch.")))
    return found


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, where PyTorch's numbers are inf or nan)
def test_argument_checks_match_pytorch():
    for ours, theirs in zip(bad_arguments(tl), bad_arguments(torch)):
        assert ours[0] == theirs[0], (ours, theirs)
        assert ours[1] == theirs[1], (ours, theirs)


def test_a_number_as_the_value_is_rejected_as_pytorch_rejects_it():
    """(The message is the library's base class's, which says what it got.)"""
    for L in (tl, torch):
        for name, args in [("Cauchy", (0.0, 1.0)), ("HalfNormal", (1.0,)), ("Gumbel", (0.0, 1.0)),
                           ("Pareto", (1.0, 2.0)), ("Kumaraswamy", (1.0, 2.0)), ("Geometric", (0.5,)),
                           ("InverseGamma", (2.0, 1.0)), ("Weibull", (1.0, 2.0)), ("HalfCauchy", (1.0,))]:
            with pytest.raises(ValueError, match="must be a Tensor"):
                family(L, name)(*args).log_prob(2.0)


def test_kumaraswamy_cdf_outside_the_interval_raises_as_pytorch():
    """PyTorch checks the value through its base uniform; so does the library, with PyTorch's message (the
    interval's bounds as numbers)."""
    for L in (tl, torch):
        with pytest.raises(ValueError, match="Expected value argument .* Uniform"):
            family(L, "Kumaraswamy")(L.tensor([1.0]), L.tensor([1.0])).cdf(L.tensor([-0.5]))


def test_validate_args_false_lets_everything_through():
    def seen(L):
        t, Of, nan = L.tensor, (lambda name: family(L, name)), math.nan
        made = [Of("HalfNormal")(t([-1.0]), validate_args=False).scale,
                Of("Gumbel")(t([0.0]), t([1.0]), validate_args=False).log_prob(t([nan])),
                Of("HalfCauchy")(t([1.0]), validate_args=False).log_prob(t([-1.0])),
                Of("Geometric")(t([0.5]), validate_args=False).log_prob(t([0.5])),
                Of("Cauchy")(t([nan]), t([-1.0]), validate_args=False).loc]
        return [m.numpy() for m in made]
    for a, b in zip(seen(tl), seen(torch)):
        np.testing.assert_allclose(a, b, equal_nan=True)


def test_numbers_as_parameters_give_a_scalar_distribution():
    for name, args in [("Cauchy", (0.0, 2.0)), ("HalfNormal", (2.0,)), ("HalfCauchy", (2.0,)), ("Gumbel", (0.0, 2.0)),
                       ("Weibull", (2.0, 1.5)), ("Pareto", (2.0, 3.0)), ("Geometric", (0.3,)),
                       ("InverseGamma", (3.0, 2.0)), ("Kumaraswamy", (2.0, 3.0))]:
        ours, theirs = OURS[name](*args), getattr(torch.distributions, name)(*args)
        assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) == ()
        assert tuple(ours.sample((3,)).shape) == tuple(theirs.sample((3,)).shape) == (3,)
        assert str(ours.mean.dtype).split(".")[-1] == str(theirs.mean.dtype).split(".")[-1] == "float32"
        np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-6)
