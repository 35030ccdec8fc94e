"""Small synthetic data sets: 2-D classification problems and a 1-D regression problem.

Every function returns ``(X, y)`` tensors:

- classification (``xor``, ``two_moons``, ``two_spirals``): X of shape (n, 2) in the default float dtype
  (float32), y of shape (n,) with class labels 0 or 1 as int64, ready for ``nn.CrossEntropyLoss``
  (for ``nn.BCEWithLogitsLoss`` use ``y.float()``). The two classes have n // 2 and n - n // 2 points, and
  the points come in a random order, so any slice ``X[:k]`` is a fair sample.
- regression (``noisy_sine``): X and y both of shape (n, 1) in the default float dtype, ready for
  ``nn.Linear(1, ...)`` and ``nn.MSELoss``.

``noise`` is the standard deviation of Gaussian noise added to each coordinate (to y, for ``noisy_sine``).

Repeatable: the numbers come from a numpy generator seeded with ``seed`` (0 by default), so the same call
always gives the same data, whatever else has drawn random numbers. Pass ``seed=None`` to draw from the global
generator instead (then ``tinygrad_lite.manual_seed`` controls them), or ``generator=`` a
``tinygrad_lite.Generator`` of your own.
"""
import math

import numpy as np

from .. import dtypes as dt
from ..random import rng
from ..tensor import Tensor


def _rng(name, n, noise, seed, generator):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{name}: n is the number of points and must be a positive integer, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"{name}: noise is a standard deviation and must be >= 0, got {noise!r}")
    if generator is not None or seed is None:
        return rng(generator)
    return np.random.default_rng(seed)


def _two_classes(points, n, noise, g):
    """Stack the class-0 and class-1 points, add noise, shuffle, and make tensors."""
    X = np.concatenate(points) + noise * g.standard_normal((n, 2))
    y = np.repeat([0, 1], [len(p) for p in points])
    order = g.permutation(n)
    return Tensor(X[order], dtype=dt.get_default_dtype()), Tensor(y[order], dtype=dt.int64)


def xor(n=200, noise=0.1, *, seed=0, generator=None):
    """Points near the four corners of the unit square, labelled by XOR: y = x1 xor x2.

    Corners (0, 0) and (1, 1) are class 0, corners (0, 1) and (1, 0) class 1; no straight line separates them.
    The corners are used in turn, so each gets n/4 points (give or take one); ``xor(4, noise=0)`` is the truth table.
    """
    g = _rng("xor", n, noise, seed, generator)
    corner = np.arange(n) % 4  # 0, 1, 2, 3, 0, 1, ...: corners 0 and 1 are class 0, corners 2 and 3 class 1
    points = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])[corner]
    return _two_classes([points[corner < 2], points[corner >= 2]], n, noise, g)


def two_moons(n=200, noise=0.1, *, seed=0, generator=None):
    """Two interleaving half circles of radius 1 (scikit-learn's ``make_moons``).

    Class 0: (cos t, sin t) for t evenly spaced in [0, pi], the upper moon centred at (0, 0).
    Class 1: (1 - cos t, 0.5 - sin t), the lower moon centred at (1, 0.5). Without noise, x1 lies in [-1, 2]
    and x2 in [-0.5, 1].
    """
    g = _rng("two_moons", n, noise, seed, generator)
    t0, t1 = np.linspace(0, math.pi, n - n // 2), np.linspace(0, math.pi, n // 2)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    return _two_classes([upper, lower], n, noise, g)


def two_spirals(n=200, noise=0.05, *, turns=1.5, seed=0, generator=None):
    """Two interleaved spiral arms, the classic hard problem for a small network.

    Class 0: radius r = t and angle theta = 2 pi * turns * t, for t uniform in [0, 1]:
    the point (r cos theta, r sin theta). Class 1 is the same arm turned by half a circle: (-x1, -x2).
    Without noise every point lies in the unit disc.
    """
    if not turns > 0:
        raise ValueError(f"two_spirals: turns must be > 0, got {turns!r}")
    g = _rng("two_spirals", n, noise, seed, generator)
    t = g.random(n)
    theta = 2 * math.pi * turns * t
    arm = np.stack([t * np.cos(theta), t * np.sin(theta)], axis=1)
    return _two_classes([arm[:n - n // 2], -arm[n - n // 2:]], n, noise, g)


def noisy_sine(n=100, noise=0.1, x_range=(-math.pi, math.pi), *, seed=0, generator=None):
    """A regression problem: x uniform in ``x_range``, y = sin(x) + noise * N(0, 1).

    X and y have shape (n, 1). The x values come in random order: sort them before drawing a line,
    e.g. ``order = X[:, 0].numpy().argsort()``, then plot ``X[order]`` against ``y[order]``.
    """
    g = _rng("noisy_sine", n, noise, seed, generator)
    low, high = x_range
    if not low < high:
        raise ValueError(f"noisy_sine: x_range must be (low, high) with low < high, got {x_range!r}")
    x = g.uniform(low, high, (n, 1))
    y = np.sin(x) + noise * g.standard_normal((n, 1))
    return Tensor(x, dtype=dt.get_default_dtype()), Tensor(y, dtype=dt.get_default_dtype())
