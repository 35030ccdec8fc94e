r"""The numbers of erf, erfc and erfinv, elementwise on an array: numpy has none of them.

``ops/special.py`` makes ops of them (their derivatives are elementary); this file only computes values.

- erf and erfc: Python's ``math.erf`` and ``math.erfc`` one element at a time on the CPU (exact, about 0.4 us
  each), CuPy's ``cupyx.scipy.special`` on a GPU.
- erfinv(y), for -1 <= y <= 1: Winitzki's closed-form estimate (about 3 digits), then three Newton steps on
  erf(z) = |y|, each z -= (erf(z) - |y|) / erf'(z), with erf'(z) = (2 / sqrt(pi)) e^{-z^2}. Where |y| > 1/2 the
  difference erf(z) - |y| is computed as (1 - |y|) - erfc(z), so that y near 1 keeps its digits (1 - y is exact
  there, and erf(z) - y would cancel). +-inf at +-1, nan beyond. It agrees with PyTorch's to about 1e-12.
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


def erfinv_numbers(y):
    """erf^{-1}(y) elementwise, in y's dtype (see the module's docstring)."""
    if array_module_of(y) is not np:
        import cupyx.scipy.special  # optional: only for CuPy arrays, so CuPy is installed
        return cupyx.scipy.special.erfinv(y)
    a = np.abs(y).astype(np.float64)
    tail = a > 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        ln = np.log1p(-a * a)
        b = 2 / (math.pi * 0.147) + ln / 2
        z = np.sqrt(np.sqrt(b * b - ln / 0.147) - b)  # Winitzki's estimate
        for _ in range(3):
            miss = np.where(tail, (1 - a) - erf_numbers(z, "erfc"), erf_numbers(z) - a)  # erf(z) - |y|
            z = z - miss / (2 / math.sqrt(math.pi) * np.exp(-z * z))
        return (np.sign(y) * np.where(a == 1, np.inf, np.where(a > 1, np.nan, z))).astype(y.dtype)
