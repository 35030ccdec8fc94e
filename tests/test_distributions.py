"""``tinygrad_lite.distributions`` against ``torch.distributions``: log_prob, entropy, the moments and
kl_divergence, in float64 with the parameters' gradients; shapes of samples; PyTorch's argument checks; and what a
sample must be (its samples are the library's generator's, not PyTorch's, so they are checked by their statistics)."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
LOC, SCALE = RNG.standard_normal((2, 3)), RNG.random((2, 3)) + 0.2
LOGITS, WEIGHTS = RNG.standard_normal((2, 4)), RNG.random((2, 4))
VALUES = RNG.standard_normal((5, 2, 3))


def _run(lib, case):
    """(result, the gradients of loc, scale, logits and weights) for a loss weighing each number differently."""
    params = [lib.tensor(a, requires_grad=True) for a in (LOC, SCALE, LOGITS, WEIGHTS)]
    out = CASES[case](lib.distributions, lambda v, **k: lib.tensor(v, **k), *params)
    if out.requires_grad:
        (out * lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))).sum().backward()
    return [out.detach().numpy()] + [None if t.grad is None else t.grad.numpy() for t in params]


CASES = {
    "Normal.log_prob": lambda D, t, m, s, lg, w: D.Normal(m, s).log_prob(t(VALUES)),
    "Normal: entropy, moments": lambda D, t, m, s, lg, w: D.Normal(m, s).entropy() + D.Normal(m, s).stddev
    + D.Normal(m, s).variance + D.Normal(m, s).mean,
    "Normal of numbers": lambda D, t, m, s, lg, w: D.Normal(0.0, 2.0).log_prob(t([0.5, -1.0])),
    "Normal rsample's gradient": lambda D, t, m, s, lg, w: D.Normal(m, s).rsample((3,)) * 0 + m,
    "kl Normal": lambda D, t, m, s, lg, w: D.kl_divergence(D.Normal(m, s), D.Normal(m.flip(0), s.flip(1))),
    "Categorical(logits).log_prob": lambda D, t, m, s, lg, w: D.Categorical(logits=lg).log_prob(
        t([[1, 3], [0, 0], [2, 1]])),
    "Categorical(probs).log_prob": lambda D, t, m, s, lg, w: D.Categorical(probs=w).log_prob(t([1, 3])),
    "Categorical.entropy": lambda D, t, m, s, lg, w: D.Categorical(logits=lg).entropy()
    + D.Categorical(probs=w * t([1.0, 0, 1, 1], dtype=w.dtype)).entropy(),
    "Categorical: probs and logits": lambda D, t, m, s, lg, w: D.Categorical(logits=lg).probs
    + D.Categorical(probs=w).logits,
    "kl Categorical": lambda D, t, m, s, lg, w: D.kl_divergence(D.Categorical(logits=lg), D.Categorical(probs=w)),
    "Bernoulli(logits)": lambda D, t, m, s, lg, w: D.Bernoulli(logits=lg).log_prob(
        t([[1.0, 0, 0, 1]], dtype=lg.dtype)) + D.Bernoulli(logits=lg).entropy(),
    "Bernoulli(probs)": lambda D, t, m, s, lg, w: D.Bernoulli(probs=w).log_prob(t([[1.0, 0, 0, 1]], dtype=w.dtype))
    + D.Bernoulli(probs=w).entropy() + D.Bernoulli(probs=w).variance,
    "kl Bernoulli": lambda D, t, m, s, lg, w: D.kl_divergence(D.Bernoulli(probs=w), D.Bernoulli(logits=lg)),
    "Uniform": lambda D, t, m, s, lg, w: D.Uniform(m, m + s).log_prob(m + s / 2) + D.Uniform(m, m + s).entropy()
    + D.Uniform(m, m + s).variance + D.kl_divergence(D.Uniform(m, m + s), D.Uniform(m - 1, m + s + 1)),
    "Uniform outside, unchecked": lambda D, t, m, s, lg, w: D.Uniform(m, m + s, validate_args=False).log_prob(m - 1),
    "Independent": lambda D, t, m, s, lg, w: D.Independent(D.Normal(m, s), 1).log_prob(t(VALUES))
    + D.Independent(D.Normal(m, s), 1).entropy()
    + D.kl_divergence(D.Independent(D.Normal(m, s), 1), D.Independent(D.Normal(0 * m, 1 + 0 * s), 1)),
}


@pytest.mark.parametrize("case", CASES)
def test_each_matches_pytorch_in_value_and_gradient(case):
    for a, b in zip(_run(tl, case), _run(torch, case)):
        assert (a is None) == (b is None) and (a is None or (a.shape == b.shape and np.allclose(a, b, atol=1e-12)))


def test_shapes_reprs_and_the_samples_statistics():
    D = tl.distributions
    m, s = tl.tensor(LOC), tl.tensor(SCALE)
    assert D.Normal(m, s).sample((4,)).shape == (4, 2, 3) and D.Normal(0.0, 1.0).sample().shape == ()
    independent = D.Independent(D.Normal(m, s), 1)
    assert (independent.batch_shape, independent.event_shape) == ((2,), (3,))
    categorical = D.Categorical(logits=tl.tensor(LOGITS))
    assert categorical.sample((3, 5)).shape == (3, 5, 2) and categorical.sample().dtype == tl.int64
    for ours, theirs in ((D.Normal(0.0, 2.0), torch.distributions.Normal(0.0, 2.0)),
                         (independent, torch.distributions.Independent(torch.distributions.Normal(
                             torch.tensor(LOC), torch.tensor(SCALE)), 1))):
        assert repr(ours).replace("tinygrad_lite", "torch") == repr(theirs)
    tl.manual_seed(0)
    draws = D.Normal(tl.tensor([1.0, -2.0]), tl.tensor([0.5, 2.0])).sample((20000,)).numpy()
    assert np.allclose(draws.mean(0), [1.0, -2.0], atol=0.05) and np.allclose(draws.std(0), [0.5, 2.0], rtol=0.03)
    picks = D.Categorical(probs=tl.tensor([0.2, 0.5, 0.3])).sample((20000,)).numpy()
    assert np.allclose(np.bincount(picks, minlength=3) / 20000, [0.2, 0.5, 0.3], atol=0.015)
    coins = D.Bernoulli(probs=tl.tensor([0.1, 0.9])).sample((20000,)).numpy()
    assert set(np.unique(coins)) == {0.0, 1.0} and np.allclose(coins.mean(0), [0.1, 0.9], atol=0.015)
    uniform = D.Uniform(tl.tensor(-1.0), tl.tensor(3.0)).rsample((20000,)).numpy()
    assert uniform.min() >= -1 and uniform.max() < 3 and abs(uniform.mean() - 1) < 0.05


BAD = {
    "a negative scale": lambda D, t: D.Normal(0.0, -1.0),
    "a nan loc": lambda D, t: D.Normal(t([float("nan")]), t([1.0])),
    "a nan value": lambda D, t: D.Normal(0.0, 1.0).log_prob(t(float("nan"))),
    "a class out of range": lambda D, t: D.Categorical(logits=t(LOGITS)).log_prob(t([4, 0])),
    "negative probabilities": lambda D, t: D.Categorical(probs=t([-0.2, 0.8])),
    "neither probs nor logits": lambda D, t: D.Categorical(),
    "a probability above 1": lambda D, t: D.Bernoulli(probs=t([1.5])),
    "a coin value of 0.5": lambda D, t: D.Bernoulli(probs=t([0.3])).log_prob(t([0.5])),
    "a value outside the Uniform": lambda D, t: D.Uniform(0.0, 1.0).log_prob(t(2.0)),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_raise_pytorchs_value_error(case):
    for lib in (torch, tl):
        with pytest.raises(ValueError):
            BAD[case](lib.distributions, lib.tensor)
    with pytest.raises(NotImplementedError, match="no closed form"):
        tl.distributions.kl_divergence(tl.distributions.Normal(0.0, 1.0), tl.distributions.Uniform(0.0, 1.0))


def test_subclasses_expand_enumerate_and_the_edges_of_a_support():
    """A subclass of Normal takes Normal's KL formula, as in PyTorch; the Uniform's support is closed (high has
    density 0, no error); a fair coin has no mode (nan); expand, enumerate_support and the Uniform's cdf."""
    outcomes = []
    for lib in (tl, torch):
        D = lib.distributions

        class MyNormal(D.Normal):
            pass
        outcomes.append([
            D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item(),
            D.Uniform(lib.tensor([0.0, 1.0]), lib.tensor([2.0, 5.0])).log_prob(lib.tensor([2.0, 5.0])).tolist(),
            D.Bernoulli(probs=lib.tensor([0.5, 0.3, 0.7])).mode.tolist(),
            tuple(D.Normal(lib.tensor([0.0, 1.0]), 1.0).expand([3, 2]).sample().shape),
            D.Categorical(logits=lib.zeros(2, 3)).enumerate_support().tolist(),
            D.Bernoulli(probs=lib.tensor([0.2, 0.7])).enumerate_support().tolist(),
            D.Uniform(lib.tensor(0.0), lib.tensor(2.0)).cdf(lib.tensor([0.0, 1.0, 2.0])).tolist()])
    assert str(outcomes[0]) == str(outcomes[1])


EPS = RNG.standard_normal((2, 3))
TRANSFORMED = {  # (the transforms, from the distributions module D; a value, or None: score a squashed sample)
    "tanh, cached (Soft Actor-Critic)": (lambda D: [D.TanhTransform(cache_size=1)], None),
    "tanh, a value": (lambda D: D.TanhTransform(), np.tanh(EPS) * 0.9),
    "exp": (lambda D: [D.ExpTransform()], np.exp(EPS)),
    "sigmoid": (lambda D: [D.SigmoidTransform()], 1 / (1 + np.exp(-EPS))),
    "softplus": (lambda D: [D.transforms.SoftplusTransform()], np.log1p(np.exp(EPS))),
    "tanh then affine": (lambda D: [D.TanhTransform(cache_size=1), D.AffineTransform(0.5, 2.0)], None),
    "affine over an event": (lambda D: [D.AffineTransform(1.0, 3.0, event_dim=1)], EPS),
    "composed": (lambda D: [D.ComposeTransform([D.AffineTransform(0.1, 0.5), D.TanhTransform()])], np.tanh(EPS) / 2),
}


@pytest.mark.parametrize("case", TRANSFORMED)
def test_a_transformed_distribution_scores_as_pytorchs(case):
    """log_prob and its gradients through the inverse transforms and their log-Jacobians; a cached transform
    scores its own output through the x it came from (no atanh of a rounded tanh)."""
    make, value = TRANSFORMED[case]
    results = []
    for lib in (tl, torch):
        D = lib.distributions
        loc, scale = lib.tensor(LOC, requires_grad=True), lib.tensor(SCALE, requires_grad=True)
        squashed = D.TransformedDistribution(D.Normal(loc, scale), make(D))
        if value is None:
            value = loc + scale * lib.tensor(EPS)
            for transform in squashed.transforms:
                value = transform(value)
        score = squashed.log_prob(value if isinstance(value, lib.Tensor) else lib.tensor(value))
        score.sum().backward()
        results.append([score.detach().numpy(), loc.grad.numpy(), scale.grad.numpy(), tuple(squashed.event_shape)])
        value = TRANSFORMED[case][1]
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_the_multivariate_normal_and_cholesky_match_pytorch():
    """log_prob, entropy, KL, variance and covariance, with gradients to loc and the covariance (through
    linalg.cholesky, whose gradient is symmetric as PyTorch's), from a covariance, its factor, or one covariance
    for a batch; triangular solves both ways; a covariance that is not positive-definite."""
    weights = np.random.default_rng(1).standard_normal((2, 3, 3))
    covariance = weights @ weights.transpose(0, 2, 1) + 2 * np.eye(3)
    values = np.random.default_rng(2).standard_normal((5, 2, 3))
    for given in ("covariance", "factor", "one for the batch"):
        results = []
        for lib in (tl, torch):
            D = lib.distributions
            loc, cov = lib.tensor(LOC, requires_grad=True), lib.tensor(covariance, requires_grad=True)
            if given == "covariance":
                made = D.MultivariateNormal(loc, covariance_matrix=cov)
            elif given == "factor":
                made = D.MultivariateNormal(loc, scale_tril=lib.linalg.cholesky(cov))
            else:
                made = D.MultivariateNormal(loc, covariance_matrix=cov[0])
            other = D.MultivariateNormal(loc.detach() / 2, covariance_matrix=cov.detach() * 2)
            total = made.log_prob(lib.tensor(values)).sum() + made.entropy().sum() + made.variance.sum() \
                + D.kl_divergence(made, other).sum() + made.covariance_matrix.sum()
            total.backward()
            triangle = lib.linalg.cholesky(cov.detach())
            solved = [lib.linalg.solve_triangular(triangle, lib.tensor(weights), upper=False),
                      lib.linalg.solve_triangular(triangle.mT, lib.tensor(weights), upper=True, left=False)]
            results.append([total.item(), loc.grad.numpy(), cov.grad.numpy(), *(s.numpy() for s in solved),
                            tuple(made.rsample((4,)).shape)])
        for ours, theirs in zip(*results):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    for lib in (tl, torch):
        with pytest.raises(ValueError, match="PositiveDefinite"):
            lib.distributions.MultivariateNormal(lib.zeros(2), lib.tensor([[1.0, 2.0], [2.0, 1.0]]))


def test_cholesky_reads_the_lower_triangle_and_raises_linalg_error():
    """A non-symmetric matrix: only its lower triangle counts, as in PyTorch (and the gradient is still PyTorch's);
    a batch with a matrix that is not positive-definite raises linalg.LinAlgError naming its batch element."""
    matrix = np.array([[4.0, 1.0, 0.3], [0.5, 5.0, 1.0], [0.2, 0.7, 6.0]])
    weights = np.random.default_rng(3).standard_normal((3, 3))
    results = []
    for lib in (tl, torch):
        a = lib.tensor(matrix, requires_grad=True)
        (lib.linalg.cholesky(a) * lib.tensor(weights)).sum().backward()
        results.append((lib.linalg.cholesky(a).detach().numpy(), a.grad.numpy()))
        with pytest.raises(lib.linalg.LinAlgError, match="Batch element 1"):
            lib.linalg.cholesky(lib.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_cholesky_solve_inverse_ex_and_the_missing_moments():
    rng = np.random.default_rng(4)
    weights = rng.standard_normal((2, 3, 3))
    matrix, right = weights @ weights.transpose(0, 2, 1) + np.eye(3), rng.standard_normal((2, 3, 2))
    bad = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])
    results = []
    for lib in (tl, torch):
        a = lib.tensor(matrix, requires_grad=True)
        factor = lib.linalg.cholesky(a)
        solved, inverse = lib.cholesky_solve(lib.tensor(right), factor), lib.cholesky_inverse(factor)
        (solved.sum() + inverse.sum()).backward()
        _, info = lib.linalg.cholesky_ex(lib.tensor(bad))
        results.append([solved.detach().numpy(), inverse.detach().numpy(), a.grad.numpy(), info.numpy()])
        squashed = lib.distributions.TransformedDistribution(lib.distributions.Normal(0.0, 1.0),
                                                             [lib.distributions.ExpTransform()])
        with pytest.raises(NotImplementedError):
            getattr(squashed, "mean")  # noqa: B009 (a property that raises)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
