r"""The numbers of log Gamma, digamma and polygamma, elementwise on an array: numpy has none of them.

``ops/special.py`` makes ops of them (each one's derivative is the next: lgamma' = psi, psi' = psi^(1),
psi^(n)' = psi^(n+1)); this file only computes values, with array operations alone, so that the same code runs
on numpy and on CuPy. Each function is computed in float64 and returned in the input's dtype, in three steps:

1. **Reflection** moves x < 0 to 1 - x > 1 (for psi^(n), n >= 1, only x < -100: its cot polynomial cancels badly
   for large n, so above that the recurrence of step 2 starts from x itself):
       lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x),
       psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^{n+1} P_n(cot(pi x)),
   where P_n is the polynomial with d^n/du^n cot(u) = P_n(cot u): P_0(c) = c, P_{k+1}(c) = -(1 + c^2) P_k'(c)
   (n = 0 is the digamma function psi). Gamma has poles at 0, -1, -2...: lgamma is +inf there, psi^(n)
   is -inf at 0 and nan at the negative integers for n = 0, and (-1)^{n+1} inf for n >= 1.
2. **Recurrence** moves x up, to w = x + K >= 10 + 2n, where the series below converge fast:
       Gamma(x + 1) = x Gamma(x)  gives  lgamma(x) = lgamma(x + K) - \sum_{i<K} log(x + i),
       psi^(n)(x) = psi^(n)(x + K) + (-1)^{n+1} n! \sum_{i<K} (x + i)^{-(n+1)}   (psi: - \sum_{i<K} 1 / (x + i)).
3. **Stirling's series** (asymptotic, with the Bernoulli numbers B_2k) for large w:
       lgamma(w) ~ (w - 1/2) log w - w + log(2 pi) / 2 + \sum_k B_2k / (2k (2k - 1) w^{2k-1}),
       psi(w) ~ log w - 1 / (2w) - \sum_k B_2k / (2k w^{2k}),
       psi^(n)(w) ~ (-1)^{n+1} [(n-1)! / w^n + n! / (2 w^{n+1}) + \sum_k B_2k (2k+n-1)! / ((2k)! w^{2k+n})].
   Nine terms leave an error below 1e-15 of the value at w = 10.

At +inf: lgamma and psi are inf, psi^(n) is 0 (PyTorch's kernel gives nan for n >= 2 there); at -inf, nan
(lgamma: inf, as PyTorch's).
"""
import math
from fractions import Fraction

import numpy as np

from .device import array_module_of

FAR_BELOW = 100  # (polygamma below -FAR_BELOW: by reflection; above it by the recurrence alone)
BERNOULLI = [Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30), Fraction(5, 66),
             Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510), Fraction(43867, 798)]  # B_2, B_4, ..., B_18


def lgamma_numbers(x):
    """log |Gamma(x)| elementwise, in x's dtype."""
    xp = array_module_of(x)
    z = x.astype(xp.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w, logs = _shifted_up(xp, xp.where(z < 0, 1 - z, z), 10, lambda v: xp.log(v))
        series = sum(float(b / (2 * k * (2 * k - 1))) / w ** (2 * k - 1) for k, b in enumerate(BERNOULLI, 1))
        value = (w - 0.5) * xp.log(w) - w + 0.5 * math.log(2 * math.pi) + series - logs
        reflected = math.log(math.pi) - xp.log(xp.abs(xp.sin(math.pi * _from_nearest_integer(xp, z)))) - value
        value = xp.where(z < 0, reflected, value)
        value = xp.where(xp.isinf(z), xp.inf, value)  # (+-inf: inf, as PyTorch's)
    return value.astype(x.dtype)


def polygamma_numbers(n, x):
    """psi^(n)(x) elementwise, in x's dtype: the digamma function psi for n = 0, its n-th derivative for n >= 1."""
    xp = array_module_of(x)
    z = x.astype(xp.float64)
    sign = (-1) ** (n + 1)
    # psi^(n) for n >= 1 reflects only far below 0: the reflection's cot polynomial cancels badly for large n, and
    # the recurrence from -100 upwards adds at most a few hundred terms of one sign pattern
    reflect = (z < 0) if n == 0 else (z < -FAR_BELOW)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w, recurrence = _shifted_up(xp, xp.where(reflect, 1 - z, z), 10 + 2 * n,
                                    lambda v: 1 / v if n == 0 else v ** -(n + 1))
        if n == 0:
            series = sum(float(b / (2 * k)) / w ** (2 * k) for k, b in enumerate(BERNOULLI, 1))
            value = xp.log(w) - 0.5 / w - series - recurrence
        else:
            series = sum(float(b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)) / w ** (2 * k + n)
                         for k, b in enumerate(BERNOULLI, 1))
            value = sign * (math.factorial(n - 1) / w ** n + math.factorial(n) / (2 * w ** (n + 1)) + series
                            + math.factorial(n) * recurrence)
        r = _from_nearest_integer(xp, z)
        cot = xp.cos(math.pi * r) / xp.sin(math.pi * r)
        reflected = (-1) ** n * value - math.pi ** (n + 1) * _cot_derivative(xp, n, cot)
        value = xp.where(reflect, reflected, value)
        pole = (z <= 0) & (z == xp.floor(z))
        at_zero = xp.where(xp.signbit(z), xp.inf, -xp.inf)  # (psi(+0) = -inf, psi(-0) = +inf, as PyTorch's)
        at_pole = (xp.where(z == 0, at_zero, xp.nan) if n == 0 else sign * xp.inf)
        value = xp.where(pole, at_pole, value)
        value = xp.where(xp.isposinf(z), xp.inf if n == 0 else 0.0, xp.where(xp.isneginf(z), xp.nan, value))
    return value.astype(x.dtype)


def _shifted_up(xp, v, at_least, term):
    """(v + K, \\sum_{i<K} term(v + i)), with K the smallest count that brings each v to ``at_least`` or above."""
    total = xp.zeros_like(v)
    for _ in range(int(at_least) + FAR_BELOW + 2):  # (v >= -FAR_BELOW here)
        small = v < at_least
        if not small.any():
            break
        total = total + xp.where(small, term(xp.where(small, v, 1.0)), 0.0)
        v = xp.where(small, v + 1, v)
    return v, total


def _from_nearest_integer(xp, z):
    """r = z - round(z), in [-1/2, 1/2]: |sin(pi z)| = |sin(pi r)| and cot(pi z) = cot(pi r) (the period is 1), and
    pi r keeps the digits that pi z loses for large z, and is exactly 0 at the integers."""
    return z - xp.round(z)


def _cot_derivative(xp, n, c):
    """P_n(c), with d^n/du^n cot(u) = P_n(cot u) (the module docstring's recursion), by its coefficients."""
    coefficients = [0, 1]  # P_0(c) = c: coefficients of c^0, c^1, ...
    for _ in range(n):
        derivative = [i * a for i, a in enumerate(coefficients)][1:]  # P'
        times = [0] * (len(derivative) + 2)  # -(1 + c^2) P'
        for i, a in enumerate(derivative):
            times[i] -= a
            times[i + 2] -= a
        coefficients = times
    return sum(a * c ** i for i, a in enumerate(coefficients) if a)


INCOMPLETE_STEPS = 5000  # (the most terms either expansion below takes; a = 1e5 near x = a needs about 1,200)


def gammainc_numbers(a, x, upper=False):
    r"""The regularised incomplete gamma function P(a, x) = (1 / Gamma(a)) \int_0^x t^{a-1} e^{-t} dt (the Gamma(a)
    distribution's cdf at x), or with ``upper`` Q(a, x) = 1 - P(a, x), for a > 0 and x >= 0 (nan elsewhere), in
    the broadcast dtype of a and x. Both come from F = x^a e^{-x} / Gamma(a) and one of two expansions, each summed
    until its next term no longer changes it:
    - where x < a + 1, the series P = F \sum_{n>=0} x^n / (a (a + 1) ... (a + n));
    - elsewhere the continued fraction Q = F / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...))),
      evaluated forwards by Lentz's method;
    and the other one as 1 minus it. P(a, 0) = 0, P(a, inf) = 1; a = 0 gives the limit P = 1 for x > 0."""
    xp = array_module_of(a)
    dtype = np.result_type(a.dtype, x.dtype)
    a, x = (v.astype(xp.float64) for v in xp.broadcast_arrays(a, x))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        front = xp.exp(a * xp.log(x) - x - lgamma_numbers(a))
        series, total, fraction = _expansions(xp, a, x)[:3]
        lower, upper_part = front * total, front * fraction
        P = xp.where(series, lower, 1 - upper_part)
        P = xp.where(x == 0, 0.0, xp.where(xp.isinf(x) & (x > 0), 1.0, P))
        P = xp.where((a == 0) & (x > 0), 1.0, P)
        P = xp.where((a < 0) | (x < 0) | xp.isnan(a) | xp.isnan(x), xp.nan, P)
        Q = xp.where(series, 1 - lower, upper_part)
        Q = xp.where(x == 0, 1.0, xp.where(xp.isinf(x) & (x > 0), 0.0, Q))
        Q = xp.where((a == 0) & (x > 0), 0.0, Q)
        Q = xp.where((a < 0) | (x < 0) | xp.isnan(a) | xp.isnan(x), xp.nan, Q)
    return (Q if upper else P).astype(dtype)


def standard_gamma_grad_numbers(a, x):
    r"""dx/da for a draw x of Gamma(a, 1) with its quantile u = P(a, x) held fixed: the gradient of PyTorch's
    ``Gamma.rsample`` in the concentration (an implicit reparameterisation: x = P^{-1}(a, u), u uniform).
    Differentiating P(a, x) = u in a gives dx/da = -(dP/da) / (dP/dx), where dP/dx = x^{a-1} e^{-x} / Gamma(a) = F / x
    is the density. With P = F S (the series, where x < a + 1) or 1 - P = Q = F H (the continued fraction,
    elsewhere) and dF/da = F (log x - psi(a)), F cancels:
        dx/da = -x ((log x - psi(a)) S + dS/da)   (series),       dx/da = x ((log x - psi(a)) H + dH/da)   (fraction),
    so nothing underflows far in the tails. Accurate to about 1e-11 (float64, against 40-digit mpmath). PyTorch's
    kernel evaluates the same derivative from fitted approximations: within about 1e-4 of it where draws fall, and
    a few percent off far in the upper tail (a = 1/2, x = 800: 7.93 for 8.64)."""
    xp = array_module_of(x)
    a, z = (v.astype(xp.float64) for v in xp.broadcast_arrays(a, x))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        series, total, fraction, d_total, d_fraction = _expansions(xp, a, z)
        slope = xp.log(z) - polygamma_numbers(0, a)
        grad = xp.where(series, -z * (slope * total + d_total), z * (slope * fraction + d_fraction))
    return grad.astype(x.dtype)


def _expansions(xp, a, x):
    r"""(series, S, H, dS/da, dH/da): ``series`` where x < a + 1; there the series' sum S = \sum_n x^n / (a (a + 1)
    ... (a + n)), elsewhere the continued fraction's value H (each is 0 where the other is the one; see
    ``gammainc_numbers``). Each quantity's derivative in a is carried beside it, step by step (forward mode)."""
    series = x < a + 1
    # the series: term_n = term_{n-1} x / (a + n), so d term_n = (d term_{n-1} x - term_n) / (a + n)
    term = xp.where(series, 1 / a, 0.0)
    d_term = -term / a
    total, d_total, n = term, d_term, 0
    while n < INCOMPLETE_STEPS and bool((xp.abs(term) > xp.abs(total) * 1e-17).any()):
        n += 1
        term = term * x / (a + n)
        d_term = (d_term * x - term) / (a + n)
        total, d_total = total + term, d_total + d_term
    # the continued fraction (Lentz: h = 1 / b_0, then h *= d c step by step; b_i = x + 2i + 1 - a, a_i = -i (i - a))
    tiny = 1e-300
    b = xp.where(series, 1.0, x + 1 - a)
    c, d = xp.full_like(b, 1 / tiny), 1 / b
    d_c, d_d = xp.zeros_like(b), d * d  # (db/da = -1, so d(1/b)/da = 1 / b^2)
    h, d_h, i, done = d, d_d, 0, series
    while i < INCOMPLETE_STEPS and not bool(done.all()):  # (each one stops when its step is 1 to a few ulps, one
        i += 1                                             # can stay off by 2 or 3 for good, and so is its slope)
        an, b = -i * (i - a), b + 2  # (d an/da = i)
        d, d_d = an * d + b, i * d + an * d_d - 1
        kept = xp.abs(d) >= tiny
        d = 1 / xp.where(kept, d, tiny)
        d_d = xp.where(kept, -d_d * d * d, 0.0)
        c, d_c = b + an / c, -1 + (i * c - an * d_c) / (c * c)
        kept = xp.abs(c) >= tiny
        c, d_c = xp.where(kept, c, tiny), xp.where(kept, d_c, 0.0)
        step, d_step = xp.where(done, 1.0, d * c), xp.where(done, 0.0, d_d * c + d * d_c)
        h, d_h = h * step, d_h * step + h * d_step
        # (at an integer a the fraction ends, a_i = 0 at i = a, while its derivative in a goes on: both must settle)
        settled = (xp.abs(step - 1) <= 1e-15) & (xp.abs(d_step) <= 1e-15 * xp.maximum(1.0, xp.abs(d_h / h)))
        done = done | settled | xp.isnan(step)
    return series, total, xp.where(series, 0.0, h), d_total, xp.where(series, 0.0, d_h)
