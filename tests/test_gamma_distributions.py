"""Gamma, Exponential, Chi2, Beta, Dirichlet, Laplace, LogNormal and StudentT against PyTorch in float64: moments,
log_prob, entropy, cdf/icdf where both have them, shapes, KL divergences and the gradients of all of them in the
parameters; their samples (the library's own numbers) against the moments; rsample's gradients (the implicit
reparameterisation) against PyTorch's cdf and the moments."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl


def distributions(L):
    D = L.distributions
    a = L.tensor([0.5, 2.0, 7.0], dtype=L.float64, requires_grad=True)
    b = L.tensor([1.5, 0.7, 3.0], dtype=L.float64, requires_grad=True)
    x, u = L.tensor([0.3, 1.2, 2.5], dtype=L.float64), L.tensor([0.2, 0.6, 0.9], dtype=L.float64)
    made = {"Gamma": (D.Gamma(a, b), x), "Exponential": (D.Exponential(b), x), "Chi2": (D.Chi2(a), x),
            "Beta": (D.Beta(a, b), u), "Laplace": (D.Laplace(a, b), x), "LogNormal": (D.LogNormal(a, b), x),
            "StudentT": (D.StudentT(b + 1, a, b), x),
            "Dirichlet": (D.Dirichlet(L.stack([a, b, a * b], -1)), L.stack([u / 2, u / 4, 1 - 0.75 * u], -1))}
    return made, (a, b), (x, u)


def seen(L):
    made, leaves, (x, u) = distributions(L)
    found, total = {}, 0
    for name, (d, value) in made.items():
        parts = [d.mean, d.variance, d.mode, d.log_prob(value), d.entropy()]
        if name in ("Exponential", "Laplace", "LogNormal"):
            parts += [d.cdf(x), d.icdf(u)]
        found[name] = [p.detach().numpy() for p in parts] + [(tuple(d.batch_shape), tuple(d.event_shape),
                                                               tuple(d.sample((4,)).shape))]
        total = total + parts[3].sum() + parts[4].sum()
    D, (a, b) = L.distributions, leaves
    others = {"Gamma": D.Gamma(b, a), "Beta": D.Beta(b, a), "Dirichlet": D.Dirichlet(L.stack([b, a, a + 1], -1)),
              "Exponential": D.Exponential(a), "Laplace": D.Laplace(b, a)}
    for name, q in others.items():
        kl = D.kl_divergence(made[name][0], q)
        found["KL " + name] = [kl.detach().numpy()]
        total = total + kl.sum()
    total.backward()
    found["gradients"] = [a.grad.numpy(), b.grad.numpy()]
    return found


def test_every_number_and_gradient_matches_pytorch():
    ours, theirs = seen(tl), seen(torch)
    for name in theirs:
        for k, (p, q) in enumerate(zip(ours[name], theirs[name])):
            if isinstance(q, tuple):
                assert p == q, name
            else:
                np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{name} {k}")


@pytest.mark.parametrize("name", ["Gamma", "Beta", "Exponential", "Laplace", "LogNormal", "StudentT", "Chi2",
                                  "Dirichlet"])
def test_samples_have_the_moments(name):
    tl.manual_seed(0)
    made, _, _ = distributions(tl)
    d = made[name][0]
    with tl.no_grad():
        draws = d.sample((100000,))
        np.testing.assert_allclose(draws.mean(0).numpy(), d.mean.detach().numpy(), rtol=0.03, atol=0.01)
        if name not in ("StudentT", "LogNormal"):  # (heavy tails: the sample variance converges slowly)
            np.testing.assert_allclose(draws.var(0).numpy(), d.variance.detach().numpy(), rtol=0.06, atol=0.01)


def test_rsample_differentiates_the_draw_in_every_parameter():
    made, (a, b), _ = distributions(tl)
    for name in ("Gamma", "Beta", "Dirichlet", "StudentT", "Chi2", "Laplace"):
        d = made[name][0]
        assert d.has_rsample
        assert not d.sample((3,)).requires_grad
        (d.rsample((5,)) ** 2).sum().backward()
        assert a.grad is not None and bool(a.grad.isfinite().all()), name
        a.grad = b.grad = None
    assert tl.distributions.Gamma(tl.tensor([0.01]), tl.tensor([1.0])).sample((1000,)).min().item() > 0


def test_a_gamma_draws_slope_in_the_concentration_is_the_implicit_derivative_of_pytorchs_cdf():
    """dz/da = -(dP/da) / (dP/dz) at draws z of Gamma(a, 1): dP/da by a central difference of PyTorch's own
    gammainc, the density in closed form. PyTorch's kernel (a fitted approximation) agrees to a few parts in 1e5."""
    from tinygrad_lite.gamma_numbers import standard_gamma_grad_numbers  # (the numbers themselves, in float64)
    rng = np.random.default_rng(0)
    a = np.repeat([0.02, 0.3, 1.0, 2.5, 9.0, 60.0, 2000.0], 6)
    z = np.maximum(rng.gamma(a), 1e-300)
    # (round r60: at an integer a, past x = a + 1, the continued fraction ends while its slope in a does not)
    a, z = np.concatenate([a, [1.0, 1.0, 2.0, 3.0, 3.0]]), np.concatenate([z, [2.0008, 6.0, 4.5, 4.2, 12.0]])
    ours = standard_gamma_grad_numbers(a, z)
    h = 1e-6 * a
    cdf = lambda s: torch.special.gammainc(torch.tensor(s), torch.tensor(z)).numpy()  # noqa: E731
    density = np.exp((a - 1) * np.log(z) - z - torch.lgamma(torch.tensor(a)).numpy())
    implicit = -(cdf(a + h) - cdf(a - h)) / (2 * h) / density
    np.testing.assert_allclose(ours, implicit, rtol=1e-6)
    theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(z)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=3e-4)
    tails = standard_gamma_grad_numbers(np.array([0.5, 2.0, 1e6]), np.array([800.0, 1e-300, 1e6 + 4000]))
    assert np.isfinite(tails).all() and tails[0] > 0 and tails[1] > 0  # (no underflow far in the tails)
    assert standard_gamma_grad_numbers(np.float32([1.5]), np.float32([0.7])).dtype == np.float32


def test_gradients_of_draws_average_to_the_gradient_of_the_mean():
    """An unbiased pathwise gradient: the average over draws of d(draw)/d(parameter) is d(mean)/d(parameter)."""
    tl.manual_seed(0)
    D, n = tl.distributions, 40000
    a, b = tl.tensor([0.4, 3.0], dtype=tl.float64, requires_grad=True), tl.tensor([2.0, 0.5], dtype=tl.float64,
                                                                                     requires_grad=True)
    cases = {"Gamma": (lambda: D.Gamma(a, b), lambda: a / b), "Beta": (lambda: D.Beta(a, b), lambda: a / (a + b)),
             "Dirichlet": (lambda: D.Dirichlet(tl.stack([a, b, a * b], -1)),
                           lambda: (a / (a + b + a * b))),
             "InverseGamma": (lambda: D.InverseGamma(a + 2, b), lambda: b / (a + 1)),
             "StudentT": (lambda: D.StudentT(a + 8, b), lambda: (a + 8) / (a + 6))}  # (E (y - loc)^2: below)
    for name, (make, mean) in cases.items():
        d = make()
        draws = d.rsample((n,))
        if name == "Dirichlet":
            draws = draws[..., 0]
        elif name == "StudentT":  # E (y - loc)^2 = df / (df - 2)
            draws = (draws - b) ** 2
        grads = tl.autograd.grad(draws.mean(0).sum(), [a, b], allow_unused=True)
        expected = tl.autograd.grad(mean().sum(), [a, b], allow_unused=True)
        for g, e in zip(grads, expected):
            if e is not None:
                np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=0.05, atol=0.01, err_msg=name)


def test_draws_with_small_concentrations_stay_inside_the_support():
    """Round r60: Beta(0.1, 0.1) drew exact 0s and 1s (infinite log_prob, nan gradients), as PyTorch's clamped
    sampler never does; and two Gamma draws both at the smallest number made the quotient's gradient inf."""
    tl.manual_seed(0)
    a = tl.full((20000,), 0.1, requires_grad=True)
    d = tl.distributions.Beta(a, a)
    x = d.rsample()
    log_p = d.log_prob(x)
    log_p.sum().backward()
    assert bool(((x > 0) & (x < 1)).all()) and bool(log_p.isfinite().all()) and bool(a.grad.isfinite().all())
    z = tl.distributions.Dirichlet(tl.full((5000, 4), 0.01, dtype=tl.float64)).rsample()
    assert bool(((z > 0) & (z < 1)).all())


def test_the_slope_itself_is_not_differentiated_again_as_in_pytorch():
    for L in (tl, torch):
        a = L.tensor([2.0, 0.5], requires_grad=True)
        b = L.tensor([1.0, 2.0], requires_grad=True)
        x = L.distributions.Gamma(a, b).rsample()
        ga, = L.autograd.grad(x.sum(), a, create_graph=True)
        with pytest.raises(NotImplementedError, match="_standard_gamma_grad"):
            ga.sum().backward()
        gb, = L.autograd.grad(L.distributions.Gamma(a, b).rsample().sum(), b, create_graph=True)
        gb.sum().backward()  # (through the rate: d/db (z / b) = -z / b^2, differentiable again)
        assert a.grad is not None and b.grad is not None


def r51(L):
    """Round r51's findings: the modes where every concentration is below 1 (PyTorch's first corner), the supports
    and parameters checked."""
    D, t = L.distributions, L.tensor
    modes = [D.Beta(t([0.5, 0.3, 2.0, 0.3]), t([0.5, 0.3, 3.0, 0.5])).mode, D.Dirichlet(t([0.5, 0.9, 0.3])).mode,
             D.Dirichlet(t([[2.0, 3.0, 4.0], [0.5, 0.2, 0.1]])).mode]
    errors = []
    for make in (lambda: D.LogNormal(0.0, 1.0).log_prob(t([0.0])), lambda: D.Laplace(t([float("nan")]), 1.0),
                 lambda: D.StudentT(2.0, t([float("nan")]), 1.0), lambda: D.Chi2(t([0.0]))):
        with pytest.raises(ValueError) as error:
            make()
        errors.append(str(error.value).split(" (")[0])
    return [m.tolist() for m in modes], errors


def test_round_r51_findings_match_pytorch():
    assert r51(tl) == r51(torch)


def cross_family(L):
    D = L.distributions
    a = L.tensor([0.5, 2.0, 7.0], dtype=L.float64, requires_grad=True)
    b = L.tensor([1.5, 0.7, 3.0], dtype=L.float64, requires_grad=True)
    divergences = [D.kl_divergence(D.Exponential(b), D.Gamma(a, b * 2)), D.kl_divergence(D.Gamma(a, b),
                   D.Exponential(a)), D.kl_divergence(D.LogNormal(a, b), D.LogNormal(b, a))]
    sum(k.sum() for k in divergences).backward()
    return [k.detach().numpy() for k in divergences] + [a.grad.numpy(), b.grad.numpy()]


def test_the_cross_family_divergences_match_pytorch():
    for p, q in zip(cross_family(tl), cross_family(torch)):
        np.testing.assert_allclose(p, q, rtol=1e-9)
