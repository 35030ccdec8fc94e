r"""Transforms: invertible maps y = f(x) that turn one distribution into another (``TransformedDistribution``).

If x has density p(x) and y = f(x) with f invertible, then y has density p(f^{-1}(y)) / |f'(x)|, so

    log p_Y(y) = log p_X(x) - log |det df/dx|,      x = f^{-1}(y)

``log_abs_det_jacobian(x, y)`` is that last term, elementwise for the transforms here (summed over event dims by
the distribution). Soft Actor-Critic's policy is the common use: a Normal squashed by tanh into [-1, 1], whose log
density subtracts log(1 - tanh(x)^2), computed as 2 (log 2 - x - softplus(-2x)), which stays finite where tanh(x)
rounds to +-1.

``cache_size=1`` keeps the last (x, y) pair: ``inv(y)`` of the very y that ``f(x)`` returned gives back x itself,
not atanh(tanh(x)), which loses the digits of a large x (atanh(1.0) is inf). Sampling an action with rsample and
then scoring it with log_prob is exactly that case.

Each transform names the region it maps from and onto, ``domain`` and ``codomain`` (constraints.py, PyTorch's):
ExpTransform maps ``real`` onto ``positive``. A TransformedDistribution's support is its last transform's codomain,
and ``biject_to`` / ``transform_to`` (constraint_registry.py) pick a transform by its codomain. Three more serve
them: ``IndependentTransform`` (another transform with more dims read as one event), ``SoftmaxTransform`` (a vector
onto the simplex by softmax: not one-to-one, so no log-Jacobian) and ``StickBreakingTransform`` (K numbers onto the
simplex of K + 1, one-to-one: each y_i takes the share sigmoid(x_i - log(K + 1 - i)) of what the earlier ones left,
the last y what remains; log|det| = sum_i (log sigmoid(z_i) - z_i + log y_i), z_i = x_i - log(K + 1 - i)).
``identity_transform`` is ComposeTransform([]).
"""
import math

import numpy as np

from ..functions import cat
from ..nn.functional.activation import logsigmoid, softplus
from ..tensor import Tensor
from . import constraints
from .distribution import broadcast_all

__all__ = ["Transform", "ExpTransform", "SigmoidTransform", "TanhTransform", "AffineTransform", "SoftplusTransform",
           "ComposeTransform", "IndependentTransform", "SoftmaxTransform", "StickBreakingTransform",
           "identity_transform", "PowerTransform", "AbsTransform", "CumulativeDistributionTransform",
           "LowerCholeskyTransform"]


def _sum_rightmost(t, dims):
    """t summed over its last ``dims`` dims (t itself for 0; all of it when it has fewer, as PyTorch's)."""
    if dims <= 0:
        return t
    return t.reshape(tuple(t.shape[:-dims]) + (-1,)).sum(-1) if t.ndim >= dims else t.sum()


class Transform:
    """An invertible map: ``t(x)`` is y, ``t.inv(y)`` is x, ``log_abs_det_jacobian(x, y)`` is log|dy/dx|.
    ``event_dim``: how many of the last dims make one event (0: elementwise). ``domain`` and ``codomain``: the
    regions it maps from and onto (``real`` unless a subclass says otherwise); ``bijective``: whether it is
    one-to-one, so that ``inv`` and the log-Jacobian exist (False unless a subclass says so, as in PyTorch)."""

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    @property
    def event_dim(self):
        """Set by the transform, or else its domain's event dims (which must be its codomain's, as PyTorch asks):
        a subclass that maps ``real_vector`` onto itself works on vectors (1)."""
        if "_event_dim" in self.__dict__:
            return self._event_dim
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @event_dim.setter
    def event_dim(self, value):
        self._event_dim = value

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: cache_size must be 0 or 1, got {cache_size!r}")
        self._cache_size, self._cached = cache_size, None

    def __call__(self, x):
        if self._cache_size and self._cached is not None and self._cached[0] is x:
            return self._cached[1]
        y = self._call(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    def _inv_call(self, y):
        if self._cache_size and self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    @property
    def inv(self):
        """The inverse map, as a Transform (``t.inv(y)``)."""
        return _Inverse(self)

    @property
    def sign(self):
        """+1 or -1: whether the map (of one number to one number) increases or decreases."""
        raise NotImplementedError(f"{type(self).__name__}.sign: the map has no single sign")

    def with_cache(self, cache_size=1):
        """The same transform, keeping its last (x, y) pair (``cache_size=1``) or not."""
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def forward_shape(self, shape):
        """The shape of y for an x of ``shape`` (the same, unless the map changes it)."""
        return shape

    def inverse_shape(self, shape):
        return shape

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError(f"{type(self).__name__}.log_abs_det_jacobian is not covered by tinygrad_lite")

    def __eq__(self, other):  # (a transform of parameters compares them; the others are equal to their own kind)
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return f"{type(self).__name__}()"


class _Inverse(Transform):
    """The inverse of a transform, with the Jacobian's sign flipped."""

    def __init__(self, forward):
        super().__init__()
        self._forward, self.event_dim = forward, forward.event_dim

    domain = property(lambda self: self._forward.codomain)
    codomain = property(lambda self: self._forward.domain)
    bijective = property(lambda self: self._forward.bijective)

    def __call__(self, y):
        return self._forward._inv_call(y)

    def _inv_call(self, x):
        return self._forward(x)

    @property
    def inv(self):
        return self._forward

    sign = property(lambda self: self._forward.sign)

    def forward_shape(self, shape):
        return self._forward.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._forward.forward_shape(shape)

    def log_abs_det_jacobian(self, y, x):
        return -self._forward.log_abs_det_jacobian(x, y)

    def __eq__(self, other):
        return isinstance(other, _Inverse) and self._forward == other._forward

    def __repr__(self):
        return f"_InverseTransform({self._forward!r})"


class _Increasing(Transform):
    """An elementwise transform that increases (sign +1), equal to any other of its kind (it has no parameters)."""
    sign = 1

    def __eq__(self, other):
        return type(other) is type(self)


class ExpTransform(_Increasing):
    """y = e^x.   log|dy/dx| = x."""
    bijective, domain, codomain = True, constraints.real, constraints.positive
    _call = staticmethod(lambda x: x.exp())
    _inverse = staticmethod(lambda y: y.log())

    def log_abs_det_jacobian(self, x, y):
        return x


def _clipped(y):
    """y kept within [the smallest normal number, 1 - eps] of its dtype, as PyTorch's sigmoid transform keeps it,
    so that log y and log(1 - y) stay finite."""
    kind = np.finfo(y.array.dtype)
    return y.clamp(min=float(kind.tiny), max=1 - float(kind.eps))


class SigmoidTransform(_Increasing):
    """y = 1 / (1 + e^{-x}), clipped.   log|dy/dx| = log y (1 - y) = -softplus(-x) - softplus(x)."""
    bijective, domain, codomain = True, constraints.real, constraints.unit_interval
    _call = staticmethod(lambda x: _clipped(x.sigmoid()))

    def _inverse(self, y):
        y = _clipped(y)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(_Increasing):
    """y = tanh x.   log|dy/dx| = log(1 - tanh^2 x) = 2 (log 2 - x - softplus(-2x))."""
    bijective, domain, codomain = True, constraints.real, constraints.interval(-1.0, 1.0)
    _call = staticmethod(lambda x: x.tanh())
    _inverse = staticmethod(lambda y: (y.log1p() - (-y).log1p()) / 2)  # atanh, unclamped (use cache_size=1)

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class SoftplusTransform(_Increasing):
    """y = log(1 + e^x).   log|dy/dx| = -softplus(-x)."""
    bijective, domain, codomain = True, constraints.real, constraints.positive
    _call = staticmethod(lambda x: softplus(x))
    _inverse = staticmethod(lambda y: y + (-(-y).expm1()).log())  # x = log(e^y - 1) = y + log(1 - e^{-y})

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)


class AffineTransform(Transform):
    """y = loc + scale x.   log|dy/dx| = log|scale|, per element (summed over ``event_dim`` dims)."""
    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.independent(constraints.real, self.event_dim) if self.event_dim else constraints.real

    codomain = domain

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale if isinstance(self.scale, Tensor) else broadcast_all(self.scale, x)[0]
        return _sum_rightmost(scale.abs().log().expand(x.shape), self.event_dim)

    @property
    def sign(self):
        return self.scale.sign() if isinstance(self.scale, Tensor) else (self.scale > 0) - (self.scale < 0)

    def __eq__(self, other):
        if not isinstance(other, AffineTransform):
            return False
        return all(bool((mine == theirs).all()) if isinstance(mine, Tensor) or isinstance(theirs, Tensor)
                   else mine == theirs for mine, theirs in ((self.loc, other.loc), (self.scale, other.scale)))


class PowerTransform(Transform):
    """y = x^p on x > 0.   log|dy/dx| = log|p y / x|.   (InverseGamma is a Gamma through PowerTransform(-1).)"""
    bijective, domain, codomain = True, constraints.positive, constraints.positive

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size)
        self.exponent, = broadcast_all(exponent)

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    sign = property(lambda self: self.exponent.sign())

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and bool(self.exponent.eq(other.exponent).all())


class AbsTransform(Transform):
    """y = |x|: not one-to-one (``inv`` gives back the positive x), so it has no log-Jacobian."""
    domain, codomain = constraints.real, constraints.positive
    _call = staticmethod(lambda x: x.abs())
    _inverse = staticmethod(lambda y: y)

    def __eq__(self, other):
        return isinstance(other, AbsTransform)


class CumulativeDistributionTransform(Transform):
    """y = F(x), the cdf of ``distribution``: onto [0, 1], increasing.   log|dy/dx| = log f(x), its density."""
    bijective, codomain, sign = True, constraints.unit_interval, 1

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size)
        self.distribution = distribution

    domain = property(lambda self: self.distribution.support)

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)


class LowerCholeskyTransform(Transform):
    """A square matrix onto a lower-triangular one with a positive diagonal (a Cholesky factor): the part below
    the diagonal kept, the diagonal exponentiated. No log-Jacobian, as in PyTorch (it serves ``transform_to``)."""
    domain, codomain = constraints.independent(constraints.real, 2), constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y):
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()

    def __eq__(self, other):
        return isinstance(other, LowerCholeskyTransform)


class ComposeTransform(Transform):
    """The transforms in ``parts`` applied in order; the log-Jacobians add up."""

    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size)
        self.parts = list(parts)
        self.event_dim = max((p.event_dim for p in self.parts), default=0)

    bijective = property(lambda self: all(p.bijective for p in self.parts))

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        """The first part's domain, with as many dims per event as the chain needs (walking back from the end)."""
        if not self.parts:
            return constraints.real
        domain, event_dim = self.parts[0].domain, self.parts[-1].codomain.event_dim
        for part in reversed(self.parts):
            event_dim = max(event_dim + part.domain.event_dim - part.codomain.event_dim, part.domain.event_dim)
        return constraints.independent(domain, event_dim - domain.event_dim) if event_dim > domain.event_dim else domain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        """The last part's codomain, with as many dims per event as the chain needs (walking from the start)."""
        if not self.parts:
            return constraints.real
        codomain, event_dim = self.parts[-1].codomain, self.parts[0].domain.event_dim
        for part in self.parts:
            event_dim = max(event_dim + part.codomain.event_dim - part.domain.event_dim, part.codomain.event_dim)
        if event_dim > codomain.event_dim:
            return constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    def _call(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def _inverse(self, y):
        for part in reversed(self.parts):
            y = part.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        total = x.new_zeros(x.shape[:x.ndim - self.event_dim] if self.event_dim else x.shape)
        for part in self.parts:
            y = part(x)
            total = total + _sum_rightmost(part.log_abs_det_jacobian(x, y), self.event_dim - part.event_dim)
            x = y
        return total

    @property
    def sign(self):
        sign = 1
        for part in self.parts:
            sign = sign * part.sign
        return sign

    def forward_shape(self, shape):
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    def __repr__(self):
        inner = ",\n".join(f"    {part!r}" for part in self.parts)
        return f"ComposeTransform(\n{inner}\n)" if self.parts else "ComposeTransform(\n)"


identity_transform = ComposeTransform([])  # (x itself, log|det| 0: biject_to(real))


class IndependentTransform(Transform):
    """``base_transform`` with its last ``reinterpreted_batch_ndims`` dims more read as one event: the same map, its
    log-Jacobian summed over those dims."""

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        super().__init__(cache_size)
        self.base_transform, self.reinterpreted_batch_ndims = base_transform, reinterpreted_batch_ndims
        self.event_dim = base_transform.event_dim + reinterpreted_batch_ndims

    bijective = property(lambda self: self.base_transform.bijective)
    domain = property(lambda self: constraints.independent(self.base_transform.domain,
                                                           self.reinterpreted_batch_ndims))
    codomain = property(lambda self: constraints.independent(self.base_transform.codomain,
                                                             self.reinterpreted_batch_ndims))

    def _call(self, x):
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y):
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return _sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    sign = property(lambda self: self.base_transform.sign)

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)

    def __repr__(self):
        return f"IndependentTransform({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class SoftmaxTransform(Transform):
    """y = softmax(x) along the last dim (e^x normalised): onto the simplex, but not one-to-one (x + c gives the same
    y), so there is no log-Jacobian; the inverse gives log y, one of the x that map to y."""
    event_dim, domain, codomain = 1, constraints.real_vector, constraints.simplex

    def _call(self, x):
        probs = (x - x.max(-1, keepdim=True).values).exp()
        return probs / probs.sum(-1, keepdim=True)

    _inverse = staticmethod(lambda y: y.log())

    def __eq__(self, other):
        return isinstance(other, SoftmaxTransform)


def _stick_offsets(x, k):
    """log(K + 1 - i) for i = 1 .. k: the shift that makes x = 0 the simplex's centre."""
    return (k + 1 - x.new_ones(k).cumsum(-1)).log()


class StickBreakingTransform(Transform):
    """K numbers onto the simplex of K + 1 (module docstring): one-to-one, with a log-Jacobian; it mixes the
    coordinates, so PyTorch keeps it for samplers (biject_to) and Softmax for optimisers (transform_to)."""
    bijective, event_dim, domain, codomain = True, 1, constraints.real_vector, constraints.simplex

    def _call(self, x):
        z = _clipped((x - _stick_offsets(x, x.shape[-1])).sigmoid())
        left = (1 - z).cumprod(-1)  # (what the first i shares leave)
        ones = x.new_ones(tuple(x.shape[:-1]) + (1,))
        return cat([z, ones], -1) * cat([ones, left], -1)

    def _inverse(self, y):
        shares = y[..., :-1]
        left = (1 - shares.cumsum(-1)).clamp(min=float(np.finfo(y.array.dtype).tiny))
        return shares.log() - left.log() + _stick_offsets(y, shares.shape[-1])

    def log_abs_det_jacobian(self, x, y):
        z = x - _stick_offsets(x, x.shape[-1])
        return (-z + logsigmoid(z) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        return tuple(shape[:-1]) + (shape[-1] - 1,)

    def __eq__(self, other):
        return isinstance(other, StickBreakingTransform)
