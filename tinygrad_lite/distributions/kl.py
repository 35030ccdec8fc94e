r"""``kl_divergence(p, q)``: KL(p || q) = E_p[log p(x) - log q(x)], in closed form for the pairs registered here.

- two Normals: log(s_q / s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2 (a VAE's regulariser with q = N(0, 1));
- two Categoricals: sum_k p_k (log p_k - log q_k), inf where q_k = 0 < p_k;
- two Bernoullis: the same over {0, 1};
- two Uniforms: log((h_q - l_q) / (h_p - l_p)) when q's interval holds p's, else inf;
- two Independents over the same dims: the sum of their bases' divergences over the event dims;
- (session 49) two Gammas, Betas, Dirichlets, Exponentials, Laplaces or LogNormals, an Exponential and a Gamma
  either way, by PyTorch's formulas (lgamma and digamma for the gamma family);
- (session 50) two OneHotCategoricals (their Categoricals'), two Poissons: r_p log(r_p / r_q) - (r_p - r_q), two
  Binomials of the same number of trials: n (p log(p / q) + log(1 - p) - log(1 - q)) (inf where p's n exceeds
  q's; a larger n for q is not covered, as in PyTorch), two Geometrics; across families, -H(p) - E_p[log q]: a
  Bernoulli from a Poisson, a Gamma or an Exponential from a Normal (by the first two moments of p), and inf for
  a Poisson from a Bernoulli or a Binomial (whose support is finite).

``register_kl(P, Q)`` adds a pair, as PyTorch's decorator does; a pair not registered raises NotImplementedError.
"""
import math

from ..special import digamma, lgamma
from ..tensor import where
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .dirichlet import Dirichlet
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .independent import Independent
from .laplace import Laplace
from .log_normal import LogNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .uniform import Uniform

__all__ = ["kl_divergence", "register_kl"]
EULER = 0.57721566490153286061  # (the Euler-Mascheroni constant, -digamma(1))

_KL = {}


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(P, Q)`` makes the function the KL divergence of a P from a Q."""
    def register(function):
        _KL[type_p, type_q] = function
        return function
    return register


def _closest(type_p, type_q):
    """The registered pair for the most specific classes of p and q (a subclass of Normal uses Normal's formula
    unless it has its own): the pair whose classes come first in p's and q's method resolution orders."""
    matches = [(type_p.__mro__.index(a), type_q.__mro__.index(b), (a, b)) for a, b in _KL
               if issubclass(type_p, a) and issubclass(type_q, b)]
    return _KL[min(matches)[2]] if matches else None


def kl_divergence(p, q):
    """KL(p || q), one number per element of the batch."""
    function = _closest(type(p), type(q))
    if function is None:
        raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} || {type(q).__name__} "
                                  f"here (registered: {', '.join(f'{a.__name__}/{b.__name__}' for a, b in _KL)})")
    return function(p, q)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    ratio = (p.scale / q.scale) ** 2
    return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = where((q.probs == 0).expand_as(t), float("inf"), t)
    return where((p.probs == 0).expand_as(t), 0.0, t).sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (-q.logits).exp().log1p() - p.probs * (-p.logits).exp().log1p()  # p log(p / q)
    t1 = where(q.probs == 0, float("inf"), t1)
    t1 = where(p.probs == 0, 0.0, t1)
    t2 = (1 - p.probs) * q.logits.exp().log1p() - (1 - p.probs) * p.logits.exp().log1p()  # (1-p) log((1-p)/(1-q))
    t2 = where(q.probs == 1, float("inf"), t2)
    t2 = where(p.probs == 1, 0.0, t2)
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return where((q.low > p.low) | (q.high < p.high), float("inf"), result)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: two Independents must read the same number of dims as one event")
    return p._sum_event_dims(kl_divergence(p.base_dist, q.base_dist))


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    a, b, c, d = p.concentration, p.rate, q.concentration, q.rate
    return c * (b / d).log() + lgamma(c) - lgamma(a) + (a - c) * digamma(a) + (d - b) * (a / b)


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    total_p, total_q = p.concentration1 + p.concentration0, q.concentration1 + q.concentration0
    return (lgamma(q.concentration1) + lgamma(q.concentration0) + lgamma(total_p)
            - lgamma(p.concentration1) - lgamma(p.concentration0) - lgamma(total_q)
            + (p.concentration1 - q.concentration1) * digamma(p.concentration1)
            + (p.concentration0 - q.concentration0) * digamma(p.concentration0)
            + (total_q - total_p) * digamma(total_p))


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    total_p, total_q = p.concentration.sum(-1), q.concentration.sum(-1)
    spread = (p.concentration - q.concentration) * (digamma(p.concentration) - digamma(total_p).unsqueeze(-1))
    return lgamma(total_p) - lgamma(total_q) - (lgamma(p.concentration) - lgamma(q.concentration)).sum(-1) + \
        spread.sum(-1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - ratio.log() - 1


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    ratio, apart = p.scale / q.scale, (p.loc - q.loc).abs()
    return -ratio.log() + apart / q.scale + ratio * (-apart / p.scale).exp() - 1


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio = q.rate / p.rate
    return -q.concentration * ratio.log() + ratio + lgamma(q.concentration) + q.concentration * EULER - (1 + EULER)


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):  # (e^X from e^Y: the same as X from Y, the map being one to one)
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if bool((p.total_count < q.total_count).any().item()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return where(p.total_count > q.total_count, float("inf"), kl)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def _kl_poisson_finite(p, q):  # (p puts mass on every count, q on finitely many)
    return p.rate * 0 + float("inf")


def _normal_cross_entropy(q, mean, second_moment):
    """-E_p[log q] for a Normal q, from p's mean and E_p[x^2]."""
    variance = q.scale ** 2
    return 0.5 * (2 * math.pi * variance).log() + (second_moment - 2 * q.loc * mean + q.loc ** 2) / (2 * variance)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    a, b = p.concentration, p.rate
    return -p.entropy() + _normal_cross_entropy(q, a / b, a * (a + 1) / b ** 2)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    return -p.entropy() + _normal_cross_entropy(q, 1 / p.rate, 2 / p.rate ** 2)
