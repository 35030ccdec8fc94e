"""Constraints as objects (distributions/constraints.py, constraint_registry.py) against torch.distributions: every
distribution's ``support`` and ``arg_constraints`` (their reprs, and what they are on the class); each constraint's
``check`` on a set of values, its repr, ``is_discrete`` and ``event_dim``; ``biject_to`` and ``transform_to`` (the
transforms' values, inverses, log-Jacobians, domains and codomains); the errors the argument checks now write from
the constraints; and the refusals (a dependent constraint's check, a constraint without a transform)."""
import importlib
import math

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

nan, inf = math.nan, math.inf


def family(L, name):
    """The distribution class ``name`` of library ``L`` (the two relaxed ones PyTorch exports from their modules)."""
    if hasattr(L.distributions, name):
        return getattr(L.distributions, name)
    module = {"LogitRelaxedBernoulli": "relaxed_bernoulli", "ExpRelaxedCategorical": "relaxed_categorical"}[name]
    return getattr(importlib.import_module(f"{L.__name__}.distributions.{module}"), name)


def instances(L):
    """One instance (or more: probs and logits) of every distribution class, made alike in both libraries."""
    D, t = L.distributions, L.tensor
    p, s, loc = t([0.3, 0.7]), t([1.0, 2.0]), t([0.0, 1.0])
    Of = lambda name: family(L, name)  # noqa: E731
    return {
        "Normal": [D.Normal(loc, s)], "Cauchy": [D.Cauchy(loc, s)], "Laplace": [D.Laplace(loc, s)],
        "Gumbel": [D.Gumbel(loc, s)], "StudentT": [D.StudentT(s, loc, s)], "LogNormal": [D.LogNormal(loc, s)],
        "HalfNormal": [D.HalfNormal(s)], "HalfCauchy": [D.HalfCauchy(s)], "Gamma": [D.Gamma(s, s)],
        "Exponential": [D.Exponential(s)], "Chi2": [D.Chi2(s)], "InverseGamma": [D.InverseGamma(s, s)],
        "Weibull": [D.Weibull(s, s)], "Pareto": [D.Pareto(s, s)], "Beta": [D.Beta(s, s)],
        "Kumaraswamy": [D.Kumaraswamy(s, s)], "Dirichlet": [D.Dirichlet(s)], "Uniform": [D.Uniform(loc, s + 1)],
        "Categorical": [D.Categorical(p), D.Categorical(logits=p)],
        "Bernoulli": [D.Bernoulli(p), D.Bernoulli(logits=p)],
        "Geometric": [D.Geometric(p), D.Geometric(logits=p)], "Poisson": [D.Poisson(s)],
        "Binomial": [D.Binomial(t([3.0, 4.0]), p), D.Binomial(5, logits=p)],
        "NegativeBinomial": [D.NegativeBinomial(s, p), D.NegativeBinomial(s, logits=p)],
        "Multinomial": [D.Multinomial(5, p), D.Multinomial(2, logits=p)],
        "OneHotCategorical": [D.OneHotCategorical(p), D.OneHotCategorical(logits=p)],
        "OneHotCategoricalStraightThrough": [D.OneHotCategoricalStraightThrough(p)],
        "MultivariateNormal": [D.MultivariateNormal(loc, L.eye(2)), D.MultivariateNormal(loc, scale_tril=L.eye(2))],
        "Independent": [D.Independent(D.Normal(loc, s), 1), D.Independent(D.Normal(loc, s), 0),
                        D.Independent(D.Exponential(s.reshape(1, 2)), 2)],
        "MixtureSameFamily": [D.MixtureSameFamily(D.Categorical(p), D.Normal(loc, s)),
                              D.MixtureSameFamily(D.Categorical(p), D.Independent(D.Gamma(s.expand(2, 2), s), 1))],
        "TransformedDistribution": [
            D.TransformedDistribution(D.Normal(loc, s), [D.transforms.TanhTransform()]),
            D.TransformedDistribution(D.Normal(loc, s), []),
            D.TransformedDistribution(D.Independent(D.Normal(loc, s), 1), D.transforms.ExpTransform()),
            D.TransformedDistribution(D.Normal(loc, s), [D.transforms.SigmoidTransform(),
                                                         D.transforms.AffineTransform(1.0, 2.0)])],
        "RelaxedBernoulli": [D.RelaxedBernoulli(t(0.5), p), D.RelaxedBernoulli(t(0.5), logits=p)],
        "LogitRelaxedBernoulli": [Of("LogitRelaxedBernoulli")(t(0.5), p)],
        "RelaxedOneHotCategorical": [D.RelaxedOneHotCategorical(t(0.5), p)],
        "ExpRelaxedCategorical": [Of("ExpRelaxedCategorical")(t(0.5), logits=p)],
    }


def described(d):
    return repr(d.support), [(name, repr(c)) for name, c in d.arg_constraints.items()]


def on_the_class(cls):
    """What ``support`` is on the class: a constant's repr, or a dependent's static facts."""
    support = cls.support
    if tl.distributions.constraints.is_dependent(support) or torch.distributions.constraints.is_dependent(support):
        facts = []
        for fact in ("is_discrete", "event_dim"):
            try:
                facts.append(getattr(support, fact))
            except NotImplementedError:
                facts.append("unknown")
        return ("dependent", type(support).__name__, *facts)
    return type(support).__name__, repr(support), support.is_discrete, support.event_dim


def test_every_distribution_has_pytorchs_support_and_arg_constraints():
    ours, theirs = instances(tl), instances(torch)
    exported = {name for name in tl.distributions.__all__ if isinstance(getattr(tl.distributions, name), type)
                and issubclass(getattr(tl.distributions, name), tl.distributions.Distribution)} - {"Distribution"}
    inner = {"LogitRelaxedBernoulli", "ExpRelaxedCategorical"}  # (in their modules only, as PyTorch's)
    assert exported == set(ours) - inner, exported ^ (set(ours) - inner)  # (each exported class is compared)
    for name in ours:
        for a, b in zip(ours[name], theirs[name]):
            assert described(a) == described(b), (name, described(a), described(b))
            assert (a.support.is_discrete, a.support.event_dim) == (b.support.is_discrete, b.support.event_dim), name
        assert on_the_class(family(tl, name)) == on_the_class(family(torch, name)), name
        assert isinstance(family(tl, name).arg_constraints, dict) == isinstance(family(torch, name).arg_constraints,
                                                                                dict), name


def test_the_base_class_defines_neither_as_pytorchs():
    for L in (tl, torch):
        d = L.distributions.Distribution(validate_args=False)
        for name in ("arg_constraints", "support"):
            with pytest.raises(NotImplementedError):
                getattr(d, name)


def constraints_of(L):
    """Constraints with their values to check: numbers (event_dim 0), vectors (1) and matrices (2)."""
    C, t = L.distributions.constraints, L.tensor
    numbers = t([-inf, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, inf, nan])
    vectors = t([[0.2, 0.8, 0.0], [0.5, 0.6, -0.1], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [2.0, 1.0, 0.0],
                 [1.0, 1.0, 1.0], [0.3, 0.3, 0.4], [nan, 0.0, 1.0], [0.0, 0.5, 0.5]])
    matrices = t([[[1.0, 0.0], [0.5, 2.0]], [[1.0, 0.3], [0.3, 1.0]], [[-1.0, 0.0], [0.0, 1.0]],
                  [[1.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.6, 0.8]],
                  [[0.6, 0.0], [0.0, 1.0]], [[2.0, 1.0], [1.0, 2.0]]])
    bound = t([0.0, 1.0, -1.0])
    number_checks = [C.real, C.positive, C.nonnegative, C.greater_than(1.0), C.greater_than_eq(-1.0),
                     C.less_than(2.0), C.interval(-1.0, 2.0), C.half_open_interval(-1.0, 2.0), C.unit_interval,
                     C.boolean, C.nonnegative_integer, C.positive_integer, C.integer_interval(-1, 2),
                     C.integer_interval(0, 3.5)]
    broadcast_checks = [C.greater_than(bound), C.interval(bound, bound + 2), C.integer_interval(0, bound + 2),
                        C.less_than(bound)]
    vector_checks = [C.simplex, C.one_hot, C.real_vector, C.multinomial(2), C.independent(C.nonnegative, 1),
                     C.independent(C.unit_interval, 1), C.MixtureSameFamilyConstraint(C.real_vector),
                     C.MixtureSameFamilyConstraint(C.positive), C.cat([C.real, C.positive], dim=-1, lengths=[1, 2]),
                     C.stack([C.unit_interval, C.real, C.nonnegative], dim=-1)]
    matrix_checks = [C.lower_triangular, C.lower_cholesky, C.corr_cholesky, C.square, C.symmetric,
                     C.positive_semidefinite, C.positive_definite, C.independent(C.real_vector, 1)]
    return ([(c, numbers) for c in number_checks] + [(c, numbers.reshape(4, 3)) for c in broadcast_checks]
            + [(c, vectors) for c in vector_checks] + [(c, matrices) for c in matrix_checks])


def checked(L):
    return [(repr(c), c.is_discrete, c.event_dim, c.check(value).numpy().tolist()) for c, value in constraints_of(L)]


def test_each_constraint_checks_and_names_itself_as_pytorchs():
    ours, theirs = checked(tl), checked(torch)
    assert len(ours) == len(theirs) == 36
    for a, b in zip(ours, theirs):
        assert a == b, (a, b)


def test_a_square_check_fails_the_symmetric_ones_for_the_whole_batch():
    for L in (tl, torch):
        C = L.distributions.constraints
        assert C.positive_definite.check(L.ones(2, 2, 3)).tolist() == [False, False]
        with pytest.raises(ValueError, match="Expected value.dim\\(\\) >= 1 but got 0"):
            C.real_vector.check(L.tensor(1.0))


def test_the_constants_and_classes_are_pytorchs():
    C, T = tl.distributions.constraints, torch.distributions.constraints
    assert sorted(C.__all__) == sorted(T.__all__)
    for name in C.__all__:
        ours, theirs = getattr(C, name), getattr(T, name)
        assert isinstance(ours, type) == isinstance(theirs, type), name
        if isinstance(ours, type) or callable(ours) and not isinstance(ours, C.Constraint):
            assert ours.__name__ == theirs.__name__, name
        else:
            assert (type(ours).__name__, repr(ours)) == (type(theirs).__name__, repr(theirs)), name
    for L in (tl, torch):
        C = L.distributions.constraints
        assert isinstance(C.unit_interval, C.interval) and isinstance(C.positive, C.greater_than)
        assert not isinstance(C.nonnegative, C.greater_than)


def dependents(L):
    C, D = L.distributions.constraints, L.distributions
    made = C.dependent(is_discrete=True, event_dim=1)
    facts = [C.is_dependent(C.dependent), C.is_dependent(C.real), C.is_dependent(D.Uniform.support),
             C.is_dependent(D.Uniform(0.0, 1.0).support), made.is_discrete, made.event_dim, repr(C.dependent),
             repr(D.Binomial.support), D.Binomial.support.is_discrete, D.Binomial.support.event_dim]
    raised = []
    for attempt in (lambda: C.dependent.check(L.zeros(1)), lambda: C.dependent.is_discrete,
                    lambda: C.dependent.event_dim, lambda: D.Independent.support.event_dim):
        with pytest.raises(Exception) as error:
            attempt()
        raised.append((type(error.value).__name__, str(error.value)))
    return facts, raised


def test_dependent_constraints_as_pytorchs():
    assert dependents(tl) == dependents(torch)


def transform_cases(L):
    C, t = L.distributions.constraints, L.tensor
    x = t([[-3.0, -0.5, 0.0, 0.7, 2.5], [1.0, -1.0, 0.25, 4.0, -2.0]], dtype=L.float64)
    bound = t([1.0, -2.0, 0.5, 3.0, 0.0], dtype=L.float64)
    return x, [C.real, C.positive, C.nonnegative, C.greater_than(2.0), C.greater_than_eq(-1.0), C.less_than(1.5),
               C.interval(-1.0, 3.0), C.half_open_interval(0.0, 1.0), C.unit_interval, C.interval(bound, bound + 2),
               C.greater_than(bound), C.less_than(bound), C.real_vector, C.independent(C.positive, 1),
               C.independent(C.interval(-2.0, 2.0), 2), C.simplex]


def transformed(L, registry):
    x, cases = transform_cases(L)
    found = []
    for constraint in cases:
        transform = registry(constraint)
        y = transform(x)
        parts = [type(p).__name__ for p in getattr(transform, "parts", None) or []]
        row = [repr(constraint).replace("tinygrad_lite.", "torch."), type(transform).__name__, parts,
               repr(transform.domain), repr(transform.codomain), transform.bijective, y.numpy(),
               transform.inv(y).numpy(), constraint.check(y).numpy().tolist()]
        if transform.bijective:
            row.append(transform.log_abs_det_jacobian(x, y).numpy())
        found.append(row)
    return found


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_biject_to_and_transform_to_as_pytorchs(registry):
    ours = transformed(tl, getattr(tl.distributions, registry))
    theirs = transformed(torch, getattr(torch.distributions, registry))
    for a, b in zip(ours, theirs, strict=True):
        assert a[:6] == b[:6] and a[8] == b[8], (a[:6], b[:6])
        for u, v in zip(a[6:8] + a[9:], b[6:8] + b[9:], strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12, err_msg=a[0])


def test_optimising_through_transform_to_keeps_the_parameter_valid():
    """A free number u moved by SGD; scale = transform_to(positive)(u) stays positive (the docstring's use)."""
    results = []
    for L in (tl, torch):
        D = L.distributions
        u = L.tensor([-2.0, 0.0, 1.0], dtype=L.float64, requires_grad=True)
        optimiser = L.optim.SGD([u], lr=0.1)
        data = L.tensor([0.3, -1.0, 2.0], dtype=L.float64)
        for _ in range(5):
            optimiser.zero_grad()
            scale = D.transform_to(D.Normal.arg_constraints["scale"])(u)
            (-D.Normal(0.0, scale).log_prob(data).sum()).backward()
            optimiser.step()
        results.append(u.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def refusals(L):
    C, D = L.distributions.constraints, L.distributions
    attempts = [lambda: D.biject_to(C.lower_cholesky), lambda: D.biject_to(C.positive_definite),
                lambda: D.transform_to(C.boolean), lambda: D.biject_to(C.nonnegative_integer),
                lambda: D.transform_to(C.dependent), lambda: D.biject_to(C.one_hot),
                lambda: D.transform_to.register(3.0, lambda c: None),
                lambda: D.biject_to(C.MixtureSameFamilyConstraint(C.real))]
    found = []
    for attempt in attempts:
        with pytest.raises(Exception) as error:
            attempt()
        found.append((type(error.value).__name__, str(error.value).split(":")[0]))
    return found


def test_what_has_no_transform_is_refused_as_pytorch_refuses_it():
    assert refusals(tl) == refusals(torch)
    with pytest.raises(NotImplementedError, match="PositiveDefiniteTransform, which it would give, is not covered"):
        tl.distributions.transform_to(tl.distributions.constraints.positive_definite)


def test_a_registered_constraint_class_gets_its_transform():
    C, D = tl.distributions.constraints, tl.distributions

    class _Above(C.Constraint):
        def __init__(self, bound):
            self.bound = bound

        def check(self, value):
            return value > self.bound

    registry = type(D.biject_to)()
    registry.register(_Above)(lambda c: D.ComposeTransform([D.ExpTransform(), D.AffineTransform(c.bound, 1.0)]))
    y = registry(_Above(5.0))(tl.tensor([0.0, 1.0]))
    assert np.allclose(y.numpy(), [6.0, 5.0 + math.e]) and repr(_Above(1.0)) == "Above()"
    with pytest.raises(NotImplementedError, match="Cannot transform _Above constraints"):
        D.biject_to(_Above(5.0))


def transforms_described(L):
    T = L.distributions.transforms
    parts = [T.ExpTransform(), T.SigmoidTransform(), T.TanhTransform(), T.SoftplusTransform(),
             T.AffineTransform(0.0, 2.0), T.AffineTransform(0.0, 2.0, event_dim=2), T.ExpTransform().inv,
             T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0, event_dim=1)]),
             T.ComposeTransform([T.StickBreakingTransform(), T.ExpTransform().inv]), T.ComposeTransform([]),
             T.IndependentTransform(T.SigmoidTransform(), 2), T.SoftmaxTransform(), T.StickBreakingTransform(),
             T.StickBreakingTransform().inv]
    return [(type(p).__name__, repr(p.domain), repr(p.codomain), p.bijective) for p in parts]


def test_each_transform_names_its_domain_and_codomain_as_pytorchs():
    ours, theirs = transforms_described(tl), transforms_described(torch)
    assert [o[1:] for o in ours] == [t[1:] for t in theirs]


def bad_values(L):
    """Errors the checks now write from the constraint objects."""
    D, t = L.distributions, L.tensor
    attempts = [lambda: D.Uniform(t([0.0, 1.0]), t([2.0, 0.5])), lambda: D.Uniform(0.0, 1.0).log_prob(t(2.0)),
                lambda: D.Uniform(t([0.0]), t([1.0])).cdf(t([-1.0])), lambda: D.Bernoulli(logits=t([nan])),
                lambda: D.Multinomial(3, t([0.5, 0.5])).log_prob(t([3.0, 2.0])),
                lambda: D.NegativeBinomial(t([-1.0]), t([0.5])), lambda: D.Binomial(t([inf]), t([0.5])),
                lambda: D.Binomial(t([3.0, 4.0]), t([0.5, 0.5])).log_prob(t([5.0, 2.0])),
                lambda: D.Laplace(0.0, 1.0).cdf(t([nan])), lambda: D.Categorical(t([0.5, 0.5])).log_prob(t([0.5])),
                lambda: D.Dirichlet(t([1.0, 0.0])),
                lambda: D.MultivariateNormal(L.zeros(2), t([[1.0, 2.0], [2.0, 1.0]])),
                lambda: D.MultivariateNormal(L.zeros(2), scale_tril=t([[1.0, 0.0], [0.0, -1.0]])),
                lambda: D.TransformedDistribution(D.Normal(t([0.0]), t([1.0])), D.transforms.TanhTransform()).log_prob(
                    t([2.0])),
                lambda: D.Pareto(t([1.0, 2.0]), t([1.0, 1.0])).log_prob(t([0.5, 3.0]))]
    found = []
    for attempt in attempts:
        with pytest.raises(ValueError) as error:
            attempt()
        found.append(str(error.value).replace("tinygrad_lite.", "torch."))
    return found


def test_the_checks_errors_name_the_constraints_as_pytorchs():
    for ours, theirs in zip(bad_values(tl), bad_values(torch), strict=True):
        assert ours == theirs


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's, for the log of -1)
def test_validate_args_false_skips_the_checks():
    for L in (tl, torch):
        D, t = L.distributions, L.tensor
        assert D.Uniform(0.0, 1.0, validate_args=False).log_prob(t(2.0)).item() == -inf
        assert D.Binomial(t([inf]), t([0.5]), validate_args=False).total_count.item() == inf
        assert math.isnan(D.Bernoulli(logits=t([nan]), validate_args=False).logits.item())
        assert D.TransformedDistribution(D.Normal(0.0, 1.0, validate_args=False), D.transforms.ExpTransform(),
                                         validate_args=False).log_prob(t(-1.0)).isnan().item()


def test_what_round_r55_found_in_the_transforms():
    """Transforms compare as PyTorch's (by kind, or by their parameters; unhashable), carry sign, forward_shape,
    inverse_shape and with_cache, print their parts; stick-breaking's extra number reaches a TransformedDistribution's
    event shape; IndependentTransform sums a log-Jacobian with fewer dims than it reinterprets."""
    results = []
    for L in (tl, torch):
        D, T, C = L.distributions, L.distributions.transforms, L.distributions.constraints
        positive = D.biject_to(C.positive)
        results.append([T.SoftmaxTransform() == T.SoftmaxTransform(), T.ExpTransform() != T.ExpTransform(),
                        positive == D.biject_to(C.positive), T.ExpTransform().inv == T.ExpTransform().inv,
                        T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0),
                        T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 3.0), positive.sign,
                        T.AffineTransform(0.0, -2.0).sign, tuple(T.StickBreakingTransform().forward_shape((2, 3))),
                        tuple(T.StickBreakingTransform().inv.forward_shape((2, 4))),
                        tuple(D.TransformedDistribution(D.Normal(L.zeros(2, 3), 1.0),
                                                        [T.StickBreakingTransform()]).event_shape),
                        T.IndependentTransform(T.ExpTransform(), 2).log_abs_det_jacobian(
                            L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0])).item(),
                        T.ExpTransform().with_cache(1)._cache_size, repr(positive), repr(T.SoftmaxTransform().inv)])
        with pytest.raises(TypeError, match="unhashable"):
            hash(T.ExpTransform())
        with pytest.raises(NotImplementedError):
            _ = T.SoftmaxTransform().sign
    assert results[0] == results[1]


def custom_classes(L):
    """A transform and a distribution written for PyTorch by subclassing, as research code writes them."""
    D, C = L.distributions, L.distributions.constraints
    utils = importlib.import_module(L.__name__ + ".distributions.utils")

    class Double(D.Transform):  # on vectors: its event_dim comes from its domain
        domain = codomain = C.real_vector
        bijective = True

        def _call(self, x):
            return 2 * x

        def _inverse(self, y):
            return y / 2

        def log_abs_det_jacobian(self, x, y):
            return L.full(x.shape[:-1], math.log(4.0))

    class Expo(D.Distribution):
        arg_constraints = {"rate": C.positive}
        support = C.positive

        def __init__(self, rate, validate_args=None):
            self.rate, = utils.broadcast_all(rate)
            super().__init__(self.rate.shape, validate_args=validate_args)

        def expand(self, batch_shape, _instance=None):
            new = self._get_checked_instance(Expo, _instance)
            new.rate = self.rate.expand(batch_shape)
            super(Expo, new).__init__(batch_shape, validate_args=False)
            return new

        def log_prob(self, value):
            if self._validate_args:
                self._validate_sample(value)
            return self.rate.log() - self.rate * value

        @utils.lazy_property
        def doubled(self):
            return 2 * self.rate

    return Double, Expo, utils


def test_subclasses_written_for_pytorch_behave_as_pytorchs():
    """Round r58: a Transform subclass on vectors had event_dim 0 (its log-Jacobian summed over the batch: silent);
    a Distribution subclass's parameters went unchecked, and it had no repr, _validate_sample,
    _get_checked_instance or distributions.utils."""
    seen = []
    for L in (tl, torch):
        Double, Expo, utils = custom_classes(L)
        base = L.distributions.MultivariateNormal(L.zeros(2), L.eye(2))
        flows = [L.distributions.TransformedDistribution(base, parts) for parts in ([Double()], [Double(), Double()])]
        e = Expo(L.tensor([1.0, 2.0]))
        seen.append([Double().event_dim, *(f.log_prob(L.ones(3, 2)).numpy() for f in flows),
                     e.log_prob(L.tensor([0.5, 1.0])).numpy(), tuple(e.expand((3, 2)).batch_shape),
                     e.doubled.numpy(), utils.probs_to_logits(L.tensor([0.25]), is_binary=True).numpy(),
                     utils.logits_to_probs(L.tensor([0.0, 1.0])).numpy(), repr(e).split("(")[0]])
        with pytest.raises(ValueError, match="Expected parameter rate"):
            Expo(-L.ones(2))
        with pytest.raises(ValueError, match="Expected value argument"):
            e.log_prob(L.tensor([-1.0, 1.0]))
    for ours, theirs in zip(*seen):
        if isinstance(ours, np.ndarray):
            np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        else:
            assert ours == theirs


def more_transforms(L):
    """Round r58: PowerTransform, AbsTransform, CumulativeDistributionTransform, LowerCholeskyTransform (through
    transform_to(lower_cholesky)) and TransformedDistribution's cdf and icdf, through increasing and decreasing maps."""
    D, T = L.distributions, L.distributions.transforms
    x = L.tensor([0.3, 1.2, 2.5], dtype=L.float64, requires_grad=True)
    seen = []
    for t in (T.PowerTransform(L.tensor(-1.0, dtype=L.float64)), T.PowerTransform(L.tensor(2.5, dtype=L.float64)),
              T.CumulativeDistributionTransform(D.Normal(L.tensor(0.5, dtype=L.float64),
                                                         L.tensor(2.0, dtype=L.float64)))):
        y = t(x)
        seen += [y, t.inv(y), t.log_abs_det_jacobian(x, y), t.sign, t.bijective]
    seen += [T.AbsTransform()(-x), T.AbsTransform().inv(x), T.AbsTransform() == T.AbsTransform()]
    m = L.tensor([[0.5, 9.0], [-1.0, 0.2]], dtype=L.float64)
    lower = D.transform_to(D.constraints.lower_cholesky)
    seen += [lower(m), lower.inv(lower(m)), bool(D.constraints.lower_cholesky.check(lower(m)))]
    gamma = D.Gamma(L.tensor(2.0, dtype=L.float64), L.tensor(3.0, dtype=L.float64))
    inverse_gamma = D.TransformedDistribution(gamma, T.PowerTransform(L.tensor(-1.0, dtype=L.float64)))
    log_normal = D.TransformedDistribution(D.Normal(L.tensor(0.2, dtype=L.float64), L.tensor(0.7, dtype=L.float64)),
                                           [T.ExpTransform(), T.AffineTransform(1.0, -2.0)])
    u = L.tensor([0.1, 0.5, 0.8], dtype=L.float64)
    seen += [inverse_gamma.cdf(x), inverse_gamma.log_prob(x), log_normal.cdf(-x - 1), log_normal.icdf(u),
             log_normal.log_prob(-x - 1)]
    total = sum(v.sum() for v in seen if isinstance(v, L.Tensor) and v.requires_grad)
    seen.append(L.autograd.grad(total, x)[0])
    return [v.detach().numpy() if isinstance(v, L.Tensor) else v for v in seen]


def test_power_abs_cdf_and_cholesky_transforms_and_transformed_cdfs_match_pytorch():
    for ours, theirs in zip(more_transforms(tl), more_transforms(torch), strict=True):
        if isinstance(ours, np.ndarray):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
        else:
            assert ours == theirs


def test_a_subclass_of_a_library_distribution_with_its_own_arg_constraints():
    """Round r60: a subclass that lists only its own parameters (BetaProportion(Beta)) raised KeyError on its
    parent's, whose constraints are still the parent's."""
    seen = []
    for L in (tl, torch):
        D, C = L.distributions, L.distributions.constraints

        class BetaProportion(D.Beta):
            arg_constraints = {"precision": C.positive}

            def __init__(self, mean, precision, validate_args=None):
                self.precision = precision
                super().__init__(mean * precision, (1 - mean) * precision, validate_args=validate_args)

        class Shares(D.Dirichlet):
            arg_constraints = {"weights": C.positive}

            def __init__(self, weights):
                self.weights = weights
                super().__init__(weights)

        seen.append([BetaProportion(L.tensor(0.3), L.tensor(4.0)).log_prob(L.tensor(0.2)).item(),
                     Shares(L.tensor([1.0, 2.0])).log_prob(L.tensor([0.3, 0.7])).item()])
        with pytest.raises(ValueError, match="Expected parameter"):
            BetaProportion(L.tensor(0.3), L.tensor(-4.0))
    np.testing.assert_allclose(seen[0], seen[1], rtol=1e-6)
