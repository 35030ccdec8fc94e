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
"""
import math

import numpy as np

from ..nn.functional.activation import softplus
from ..tensor import Tensor
from .distribution import broadcast_all

__all__ = ["Transform", "ExpTransform", "SigmoidTransform", "TanhTransform", "AffineTransform", "SoftplusTransform",
           "ComposeTransform"]


def _sum_rightmost(t, dims):
    """t summed over its last ``dims`` dims (t itself for 0)."""
    return t.sum(tuple(range(-dims, 0))) if dims > 0 else t


class Transform:
    """An invertible map: ``t(x)`` is y, ``t.inv(y)`` is x, ``log_abs_det_jacobian(x, y)`` is log|dy/dx|.
    ``event_dim``: how many of the last dims make one event (0: elementwise)."""

    event_dim = 0
    bijective = True

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

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError(f"{type(self).__name__}.log_abs_det_jacobian is not covered by tinygrad_lite")

    def __repr__(self):
        return f"{type(self).__name__}()"


class _Inverse(Transform):
    """The inverse of a transform, with the Jacobian's sign flipped."""

    def __init__(self, forward):
        super().__init__()
        self._forward, self.event_dim = forward, forward.event_dim

    def __call__(self, y):
        return self._forward._inv_call(y)

    def _inv_call(self, x):
        return self._forward(x)

    @property
    def inv(self):
        return self._forward

    def log_abs_det_jacobian(self, y, x):
        return -self._forward.log_abs_det_jacobian(x, y)


class ExpTransform(Transform):
    """y = e^x.   log|dy/dx| = x."""
    _call = staticmethod(lambda x: x.exp())
    _inverse = staticmethod(lambda y: y.log())

    def log_abs_det_jacobian(self, x, y):
        return x


def _clipped(y):
    """y kept within [the smallest normal number, 1 - eps] of its dtype, as PyTorch's sigmoid transform keeps it,
    so that log y and log(1 - y) stay finite."""
    kind = np.finfo(y.array.dtype)
    return y.clamp(min=float(kind.tiny), max=1 - float(kind.eps))


class SigmoidTransform(Transform):
    """y = 1 / (1 + e^{-x}), clipped.   log|dy/dx| = log y (1 - y) = -softplus(-x) - softplus(x)."""
    _call = staticmethod(lambda x: _clipped(x.sigmoid()))

    def _inverse(self, y):
        y = _clipped(y)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh x.   log|dy/dx| = log(1 - tanh^2 x) = 2 (log 2 - x - softplus(-2x))."""
    _call = staticmethod(lambda x: x.tanh())
    _inverse = staticmethod(lambda y: (y.log1p() - (-y).log1p()) / 2)  # atanh, unclamped (use cache_size=1)

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class SoftplusTransform(Transform):
    """y = log(1 + e^x).   log|dy/dx| = -softplus(-x)."""
    _call = staticmethod(lambda x: softplus(x))
    _inverse = staticmethod(lambda y: y + (-(-y).expm1()).log())  # x = log(e^y - 1) = y + log(1 - e^{-y})

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)


class AffineTransform(Transform):
    """y = loc + scale x.   log|dy/dx| = log|scale|, per element (summed over ``event_dim`` dims)."""

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale if isinstance(self.scale, Tensor) else broadcast_all(self.scale, x)[0]
        return _sum_rightmost(scale.abs().log().expand(x.shape), self.event_dim)


class ComposeTransform(Transform):
    """The transforms in ``parts`` applied in order; the log-Jacobians add up."""

    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size)
        self.parts = list(parts)
        self.event_dim = max((p.event_dim for p in self.parts), default=0)

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
