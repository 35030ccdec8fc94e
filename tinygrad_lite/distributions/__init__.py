"""``tinygrad_lite.distributions`` (``torch.distributions``): probability distributions to sample from and score.

Each is composed of the library's ops, so ``log_prob``, ``entropy``, ``rsample`` and ``kl_divergence`` are
differentiable in the parameters. Read ``distribution.py`` first (batch and event shapes, sample vs rsample, the
argument checks), then a distribution (``normal.py``).

Covered: ``Normal``, ``Categorical``, ``Bernoulli``, ``Uniform``, ``Independent`` and ``kl_divergence`` between
two of a kind (``kl.py``; a subclass takes its parent's formula), with ``expand`` and ``enumerate_support``;
``MultivariateNormal`` (on ``linalg.cholesky``); ``TransformedDistribution`` with the tanh, sigmoid, exp, softplus
and affine transforms (``transforms.py``); (session 49) on the gamma function's family (``special.py``):
``Gamma``, ``Exponential``, ``Chi2``, ``Dirichlet``, ``Beta``, ``Laplace``, ``LogNormal``, ``StudentT`` (a file
each, PyTorch's module names), whose ``rsample`` is offered only where it is differentiable in every
parameter here (Exponential, Laplace, LogNormal); (session 50) the counts ``Poisson``, ``Binomial``,
``NegativeBinomial``, ``Multinomial`` (drawn by ``count_draws.py``), ``OneHotCategorical`` (and its straight-through
form), ``MixtureSameFamily``, the Gumbel-softmax pair ``RelaxedBernoulli`` and ``RelaxedOneHotCategorical``, and
``Cauchy``, ``HalfNormal``, ``HalfCauchy``, ``Gumbel``, ``Weibull``, ``Pareto``, ``Geometric``, ``InverseGamma``,
``Kumaraswamy``.
Constraints as objects (``constraints.py``, PyTorch's, with their reprs): every distribution's ``arg_constraints``
and ``support``, which its argument checks use; ``biject_to`` and ``transform_to`` (``constraint_registry.py``), with
the ``IndependentTransform``, ``SoftmaxTransform`` and ``StickBreakingTransform`` they need.
Not covered: the other distributions (LowRankMultivariateNormal, VonMises, Wishart ...), the other transforms
(ReshapeTransform, CatTransform, StackTransform, CorrCholeskyTransform ...), so ``biject_to``/``transform_to`` of
positive_definite, positive_semidefinite, corr_cholesky, cat and stack (they raise NotImplementedError).
"""
from ..coverage import missing_names as _missing_names
from .bernoulli import Bernoulli
from .categorical import Categorical
from .beta import Beta
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .exponential import Exponential
from .gamma import Gamma
from .laplace import Laplace
from .binomial import Binomial
from .cauchy import Cauchy
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .inverse_gamma import InverseGamma
from .kumaraswamy import Kumaraswamy
from .pareto import Pareto
from .weibull import Weibull
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .negative_binomial import NegativeBinomial
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli  # (its LogitRelaxedBernoulli stays in its module, as PyTorch's)
from .relaxed_categorical import RelaxedOneHotCategorical  # (and ExpRelaxedCategorical)
from .log_normal import LogNormal
from .studentT import StudentT
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .normal import Normal
from .multivariate_normal import MultivariateNormal
from . import constraints, transforms, utils
from .constraint_registry import biject_to, transform_to
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, CumulativeDistributionTransform,
                         ExpTransform, IndependentTransform, LowerCholeskyTransform, PowerTransform, SigmoidTransform,
                         SoftmaxTransform, SoftplusTransform, StickBreakingTransform, TanhTransform, Transform)
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform

__all__ = ["Distribution", "Normal", "Categorical", "Bernoulli", "Uniform", "Independent", "kl_divergence",
           "register_kl", "MultivariateNormal", "TransformedDistribution", "transforms", "Transform", "ExpTransform",
           "SigmoidTransform", "TanhTransform", "AffineTransform", "SoftplusTransform", "ComposeTransform", "Gamma",
           "PowerTransform", "AbsTransform", "CumulativeDistributionTransform", "LowerCholeskyTransform",
           "Exponential", "Chi2", "Dirichlet", "Beta", "Laplace", "LogNormal", "StudentT", "Poisson", "Binomial",
           "NegativeBinomial", "Multinomial", "OneHotCategorical", "OneHotCategoricalStraightThrough",
           "MixtureSameFamily", "RelaxedBernoulli", "RelaxedOneHotCategorical", "Cauchy", "HalfNormal", "HalfCauchy",
           "Gumbel", "Weibull", "Pareto", "Geometric", "InverseGamma", "Kumaraswamy", "constraints", "biject_to",
           "transform_to", "IndependentTransform", "SoftmaxTransform", "StickBreakingTransform"]


__getattr__ = _missing_names(__name__)  # (a name this package lacks: what the library has instead)
