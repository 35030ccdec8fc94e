"""Gamma, Exponential, Chi2, Beta, Dirichlet, Laplace, LogNormal and StudentT against PyTorch in float64: moments,
log_prob, entropy, cdf/icdf where both have them, shapes, KL divergences and the gradients of all of them in the
parameters; their samples (the library's own numbers) against the moments; the documented difference in rsample."""
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


def test_rsample_is_offered_where_it_is_differentiable_in_every_parameter():
    made, (a, b), _ = distributions(tl)
    made["Laplace"][0].rsample((5,)).sum().backward()
    assert a.grad is not None and b.grad is not None
    for name in ("Gamma", "Beta", "Dirichlet", "StudentT"):
        assert not made[name][0].has_rsample
        with pytest.raises(NotImplementedError, match="rsample"):
            made[name][0].rsample()
    assert tl.distributions.Gamma(tl.tensor([0.01]), tl.tensor([1.0])).sample((1000,)).min().item() > 0


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
