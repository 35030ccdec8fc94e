"""The counts (``Poisson``, ``Binomial``, ``NegativeBinomial``, ``Multinomial``, drawn by count_draws.py),
``OneHotCategorical`` and its straight-through form, ``MixtureSameFamily`` and the Gumbel-softmax pair
(``RelaxedBernoulli``, ``RelaxedOneHotCategorical``) against torch.distributions: log_prob, mean, variance, mode,
entropy, cdf and the gradients of all of them in every parameter (float64); the draws' frequencies against the
exact probabilities; the KL pairs, supports, expand and PyTorch's argument checks."""
import math

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
RATE, PROB, LOGIT = RNG.uniform(0.5, 20, (2, 3)), RNG.uniform(0.05, 0.95, (2, 3)), RNG.standard_normal((2, 3))
CLASSES = RNG.standard_normal((2, 4))
COUNTS = np.array([[1.0, 2, 0, 4], [0, 0, 7, 0]])
SIMPLEX = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1]])


def cases(lib, r, p, lg, k):
    """name -> (distribution, a value in its support) for the library ``lib`` (tl or torch)."""
    D, f64 = lib.distributions, lambda a: lib.tensor(a, dtype=lib.float64)
    return {
        "Poisson": (D.Poisson(r), f64(np.round(RATE * 1.3))),
        "Binomial(probs)": (D.Binomial(f64(np.full((2, 3), 12.0)), probs=p), f64(np.round(PROB * 12))),
        "Binomial(logits)": (D.Binomial(12, logits=lg), f64(np.round(PROB * 12))),
        "NegativeBinomial(probs)": (D.NegativeBinomial(r, probs=p * 0.9), f64(np.round(RATE))),
        "NegativeBinomial(logits)": (D.NegativeBinomial(r, logits=lg), f64(np.round(RATE / 3))),
        "Multinomial(logits)": (D.Multinomial(7, logits=k), f64(COUNTS)),
        "Multinomial(probs)": (D.Multinomial(7, probs=k.softmax(-1)), f64(COUNTS)),
        "OneHotCategorical": (D.OneHotCategorical(logits=k), f64(np.eye(4)[[1, 3]])),
        "OneHotCategoricalStraightThrough": (D.OneHotCategoricalStraightThrough(probs=k.softmax(-1)),
                                             f64(np.eye(4)[[2, 0]])),
        "MixtureSameFamily": (D.MixtureSameFamily(D.Categorical(logits=k[:, :3]), D.Normal(lg, r)),
                              f64([0.3, -1.2])),
        "MixtureSameFamily of vectors": (D.MixtureSameFamily(D.Categorical(logits=k[0, :2]),
                                                             D.Independent(D.Normal(lg, r), 1)),
                                         f64([[0.3, -1.2, 0.5]])),
        "RelaxedBernoulli": (D.RelaxedBernoulli(f64(0.7), logits=lg), f64(PROB)),
        "RelaxedOneHotCategorical": (D.RelaxedOneHotCategorical(f64(0.6), logits=k), f64(SIMPLEX)),
    }


def everything(lib, name):
    """The distribution's numbers (None where it has none) and the gradients of a weighted sum of them."""
    r, p, lg, k = (lib.tensor(a, requires_grad=True) for a in (RATE, PROB, LOGIT, CLASSES))
    distribution, value = cases(lib, r, p, lg, k)[name]
    numbers = [distribution.log_prob(value)]
    for what in ("mean", "variance", "mode", "entropy", "cdf"):
        try:
            found = getattr(distribution, what)
            numbers.append(found(value) if what == "cdf" else found() if what == "entropy" else found)
        except NotImplementedError:
            numbers.append(None)
    total = sum((x * lib.tensor(np.cos(np.arange(x.numel())).reshape(x.shape))).sum()
                for x in numbers if x is not None and x.requires_grad)
    grads = lib.autograd.grad(total, [r, p, lg, k], allow_unused=True)
    return ([None if x is None else x.detach().numpy() for x in numbers], [None if g is None else g.numpy()
                                                                          for g in grads],
            tuple(distribution.batch_shape), tuple(distribution.event_shape))


@pytest.mark.parametrize("name", list(cases(tl, *(tl.tensor(a) for a in (RATE, PROB, LOGIT, CLASSES)))))
def test_numbers_and_gradients_match_pytorch(name):
    ours, theirs = everything(tl, name), everything(torch, name)
    assert ours[2:] == theirs[2:], f"{name}: batch and event shapes"
    for kind, mine, pytorchs in (("number", ours[0], theirs[0]), ("gradient", ours[1], theirs[1])):
        for i, (a, b) in enumerate(zip(mine, pytorchs)):
            assert (a is None) == (b is None), f"{name}: {kind} {i} exists in one library only"
            # (PyTorch's Multinomial entropy takes log n! of an integer tensor, in float32: ours is float64's)
            rtol = 1e-6 if name.startswith("Multinomial") and kind == "number" and i == 4 else 1e-9
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-11, equal_nan=True, err_msg=f"{name} {kind} {i}")


def frequencies(draws, support):
    return np.array([(draws == k).mean() for k in support])


def test_the_draws_follow_the_exact_probabilities():
    """40,000 draws per parameter: the frequency of each value within 5 standard errors of its probability, for
    both of each sampler's methods (inversion for a mean below 10, transformed rejection above)."""
    tl.manual_seed(0)
    n = 40_000
    for rate in (0.7, 6.0, 35.0):
        draws = tl.poisson(tl.full((n,), rate, dtype=tl.float64)).numpy()
        support = np.arange(int(rate + 6 * math.sqrt(rate)) + 3)
        exact = np.exp(support * math.log(rate) - rate - np.array([math.lgamma(k + 1) for k in support]))
        assert np.all(np.abs(frequencies(draws, support) - exact) < 5 * np.sqrt(exact * (1 - exact) / n) + 1e-4)
    for trials, prob in ((8, 0.3), (60, 0.45), (60, 0.8)):
        draws = tl.binomial(tl.full((n,), float(trials), dtype=tl.float64), tl.full((n,), prob, dtype=tl.float64))
        support = np.arange(trials + 1)
        exact = np.array([math.comb(trials, k) * prob ** k * (1 - prob) ** (trials - k) for k in support])
        assert np.all(np.abs(frequencies(draws.numpy(), support) - exact) < 5 * np.sqrt(exact * (1 - exact) / n) + 1e-4)
    assert tl.poisson(tl.zeros(3)).tolist() == [0.0] * 3
    edges = tl.binomial(tl.tensor([0.0, 7.0, 7.0]), tl.tensor([0.5, 0.0, 1.0])).tolist()
    assert edges == [0.0, 0.0, 7.0]


def test_samples_have_the_right_shapes_means_and_supports():
    tl.manual_seed(1)
    D = tl.distributions
    counts = D.Multinomial(10, probs=tl.tensor([[0.2, 0.3, 0.5]] * 2)).sample((500,))
    assert counts.shape == (500, 2, 3) and (counts.sum(-1) == 10).all().item()
    np.testing.assert_allclose(counts.mean(0).numpy(), [[2, 3, 5]] * 2, atol=0.25)
    negative = D.NegativeBinomial(tl.tensor([3.0]), probs=tl.tensor([0.4])).sample((20_000,))
    assert abs(negative.mean().item() - 2.0) < 0.06 and abs(negative.var().item() - 2.0 / 0.6) < 0.2
    one_hot = D.OneHotCategorical(probs=tl.tensor([0.1, 0.6, 0.3])).sample((4000,))
    assert ((one_hot.sum(-1) == 1).all().item() and abs(one_hot.mean(0)[1].item() - 0.6) < 0.03)
    mixture = D.MixtureSameFamily(D.Categorical(probs=tl.tensor([0.25, 0.75])),
                                  D.Normal(tl.tensor([-5.0, 5.0]), tl.tensor([1.0, 1.0])))
    drawn = mixture.sample((8000,))
    assert drawn.shape == (8000,) and abs((drawn > 0).float().mean().item() - 0.75) < 0.02
    relaxed = D.RelaxedOneHotCategorical(tl.tensor(0.1), logits=tl.tensor([0.0, 2.0, 0.0]))
    drawn = relaxed.rsample((4000,))
    assert np.allclose(drawn.sum(-1).numpy(), 1, atol=1e-6) and abs((drawn.argmax(-1) == 1).float().mean().item()
                                                                   - math.e ** 2 / (2 + math.e ** 2)) < 0.03
    bernoulli = D.RelaxedBernoulli(tl.tensor(0.5), probs=tl.tensor([0.8]))
    assert abs((bernoulli.rsample((4000,)) > 0.5).float().mean().item() - 0.8) < 0.03


def test_rsample_gradients_reach_the_parameters():
    """Gumbel-softmax and the straight-through estimator: a loss of a draw trains the logits (the straight-through
    gradient is the probabilities', as if the draw were p)."""
    tl.manual_seed(2)
    D = tl.distributions
    logits = tl.tensor([0.5, -0.5, 1.0], requires_grad=True)
    D.RelaxedOneHotCategorical(tl.tensor(0.5), logits=logits).rsample((3,))[:, 0].sum().backward()
    assert logits.grad.abs().sum().item() > 0
    probs = tl.tensor([0.2, 0.3, 0.5], requires_grad=True)
    weights = tl.tensor([1.0, 2.0, 3.0])
    (D.OneHotCategoricalStraightThrough(probs=probs).rsample() * weights).sum().backward()
    p = probs.detach().numpy()  # (d/dp of (p / sum p) . w: the normalisation's Jacobian)
    expected = (weights.numpy() - (p * weights.numpy()).sum() / p.sum()) / p.sum()
    np.testing.assert_allclose(probs.grad.numpy(), expected, rtol=1e-6)


def test_kl_supports_expand_and_pytorchs_checks():
    D, results = tl.distributions, []
    for lib in (tl, torch):
        L = lib.distributions
        pairs = [(L.Poisson(lib.tensor([3.0, 1.0])), L.Poisson(lib.tensor([5.0, 1.5]))),
                 (L.Binomial(10, lib.tensor([0.3, 0.9])), L.Binomial(10, lib.tensor([0.6, 0.5]))),
                 (L.OneHotCategorical(logits=lib.tensor(CLASSES)), L.OneHotCategorical(probs=lib.tensor(SIMPLEX)))]
        binomial = L.Binomial(3, lib.tensor([0.2, 0.7]))
        results.append([lib.distributions.kl_divergence(p, q).numpy() for p, q in pairs] +
                       [binomial.enumerate_support().numpy(), binomial.entropy().numpy(),
                        L.OneHotCategorical(logits=lib.tensor(CLASSES)).enumerate_support().shape,
                        L.Poisson(lib.tensor([2.0])).expand((3, 1)).batch_shape,
                        L.Multinomial(4, probs=lib.tensor(SIMPLEX)).expand((5, 2)).batch_shape,
                        L.MixtureSameFamily(L.Categorical(logits=lib.tensor(CLASSES)),
                                            L.Normal(lib.tensor(CLASSES), 1.0)).expand((3, 2)).batch_shape])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6)
    with pytest.raises(ValueError, match="rate"):
        D.Poisson(tl.tensor([-1.0]))
    with pytest.raises(ValueError, match="total_count"):
        D.Binomial(tl.tensor([2.5]), probs=tl.tensor([0.5]))
    with pytest.raises(ValueError, match="support"):
        D.Binomial(3, probs=tl.tensor([0.5])).log_prob(tl.tensor([4.0]))
    with pytest.raises(ValueError, match="OneHot"):
        D.OneHotCategorical(probs=tl.tensor([0.5, 0.5])).log_prob(tl.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(tl.zeros(2), 1.0))
    with pytest.raises(ValueError, match=r"does not equal `component_distribution.batch_shape\[-1\]`"):
        D.MixtureSameFamily(D.Categorical(logits=tl.zeros(3)), D.Normal(tl.zeros(2), 1.0))
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        D.Multinomial(tl.tensor(3), probs=tl.tensor([0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(3, tl.tensor([0.5])), D.Binomial(5, tl.tensor([0.5])))
    with pytest.raises(RuntimeError, match="non-negative"):
        tl.poisson(tl.tensor([-1.0]))


def test_what_round_r53_found():
    """Mixture weights without the components' batch broadcast; KL across families; the top-level draws linked to
    a parameter that requires grad (gradient 0); Multinomial's lax support; a float64 value scored by float32
    parameters gives float64; OneHotCategorical's event size and the relaxed supports checked."""
    results = []
    for lib in (tl, torch):
        D, f64 = lib.distributions, lambda a, lib=lib: lib.tensor(a, dtype=lib.float64)
        mixture = D.MixtureSameFamily(D.Categorical(logits=f64([0.3, -0.2])), D.Normal(f64(CLASSES[:, :2]), 1.0))
        kls = [(D.Bernoulli(f64([0.3, 0.9])), D.Poisson(f64([2.0, 0.5]))),
               (D.Poisson(f64([2.0])), D.Bernoulli(f64([0.5]))), (D.Poisson(f64([2.0])), D.Binomial(5, f64([0.5]))),
               (D.Gamma(f64([2.0, 0.5]), f64([1.5, 3.0])), D.Normal(f64([0.3, -1.0]), f64([1.2, 0.4]))),
               (D.Exponential(f64([1.5, 0.2])), D.Normal(f64([0.3, 2.0]), f64([1.2, 3.0]))),
               (D.Geometric(f64([0.3, 0.6])), D.Geometric(f64([0.5, 0.2])))]
        rate = lib.tensor([2.0], requires_grad=True)
        lib.poisson(rate).sum().backward()
        multinomial = D.Multinomial(3, probs=lib.tensor([0.2, 0.3, 0.5])).log_prob(lib.tensor([0.5, 0.5, 2.0]))
        results.append([mixture.log_prob(f64([0.1, -0.4])).numpy(), mixture.mean.numpy(), mixture.variance.numpy(),
                        *[D.kl_divergence(p, q).numpy() for p, q in kls], rate.grad.numpy(), multinomial.numpy()])
        assert D.Poisson(lib.tensor([3.0])).log_prob(f64([2.0])).dtype == lib.float64
        with pytest.raises(ValueError, match="right-most size of value must match event_shape"):
            D.OneHotCategorical(probs=lib.tensor([0.2, 0.3, 0.5])).log_prob(lib.tensor([0.0, 1.0]))
        with pytest.raises(ValueError, match="support"):
            D.RelaxedBernoulli(lib.tensor(0.5), probs=lib.tensor([0.3])).log_prob(lib.tensor([1.5]))
        with pytest.raises(NotImplementedError):
            D.Poisson(lib.tensor([1.0])).enumerate_support()
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    D = tl.distributions
    mixture = D.MixtureSameFamily(D.Categorical(logits=tl.tensor([0.3, -0.2])), D.Normal(tl.zeros(3, 2), 1.0))
    assert mixture.sample((5,)).shape == (5, 3)  # (PyTorch's gather fails on such a mixture; its log_prob works)
    with pytest.raises(ValueError, match="Simplex"):
        D.RelaxedOneHotCategorical(tl.tensor(0.5), probs=tl.tensor([0.5, 0.5])).log_prob(tl.tensor([0.9, 0.9]))
