r"""The numbers of erf, erfc and erfinv, elementwise on an array: numpy has none of them.

``ops/special.py`` makes ops of them (their derivatives are elementary); this file only computes values.

- erf and erfc: Python's ``math.erf`` and ``math.erfc`` one element at a time on the CPU (exact, about 0.4 us
  each), CuPy's ``cupyx.scipy.special`` on a GPU.
- erfinv(y), for -1 <= y <= 1: Winitzki's closed-form estimate (about 3 digits), then Newton's method on
  erf(z) = |y|, z -= (erf(z) - |y|) / erf'(z), with erf'(z) = (2 / sqrt(pi)) e^{-z^2}; where |y| > 1/2, on
  log erfc(z) = log(1 - |y|) instead, so that y near 1 keeps its digits (1 - y is exact there, and erf(z) - y
  would cancel) and the far tail converges (log erfc is nearly a parabola). +-inf at +-1, nan beyond.
- erfcinv(q) = erfinv(1 - q), for 0 <= q <= 2, the same way with the tail's size taken from q itself, so that
  q = 1e-300 (the inverse normal CDF of a tiny probability, ``special.ndtri``) keeps its digits.
"""
import math

import numpy as np

from .device import array_module_of


def erf_numbers(x, name="erf"):
    """``math.erf`` (or ``math.erfc``, ``name="erfc"``) elementwise, in x's dtype."""
    if array_module_of(x) is np:
        return np.vectorize(getattr(math, name), otypes=[x.dtype])(x)
    import cupyx.scipy.special  # optional: only for CuPy arrays, so CuPy is installed
    return getattr(cupyx.scipy.special, name)(x)


def erfinv_numbers(y, complement=False):
    """erf^{-1}(y) elementwise, in y's dtype (see the module's docstring); ``complement``: erfc^{-1}(y), for
    0 <= y <= 2, whose tails (y near 0 or 2) keep their digits."""
    if array_module_of(y) is not np:
        import cupyx.scipy.special  # optional: only for CuPy arrays, so CuPy is installed
        return (cupyx.scipy.special.erfcinv if complement else cupyx.scipy.special.erfinv)(y)
    wide = y.astype(np.float64)
    if complement:  # erfc^{-1}(q) = erf^{-1}(1 - q): a = |1 - q|, and 1 - a (the tail's size) exactly q or 2 - q
        sign, a, t = np.sign(1 - wide), np.abs(1 - wide), np.where(wide < 1, wide, 2 - wide)
        outside = (wide < 0) | (wide > 2)
    else:
        sign, a = np.sign(wide), np.abs(wide)
        t, outside = 1 - a, a > 1
    tail = a > 0.5
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        ln = np.where(tail, np.log(t) + np.log(2 - t), np.log1p(-a * a))  # log(1 - a^2) = log(t (2 - t))
        b = 2 / (math.pi * 0.147) + ln / 2
        z = np.sqrt(np.sqrt(b * b - ln / 0.147) - b)  # Winitzki's estimate
        for _ in range(4):  # Newton: on erf(z) = a near 0, on log erfc(z) = log t in the tail
            slope = 2 / math.sqrt(math.pi) * np.exp(-z * z)
            rest = erf_numbers(z, "erfc")
            z = np.where(tail, z + (np.log(rest) - np.log(t)) * rest / slope, z - (erf_numbers(z) - a) / slope)
        z = np.where(t == 0, np.inf, np.where(outside, np.nan, z))
        return (sign * z).astype(y.dtype)
