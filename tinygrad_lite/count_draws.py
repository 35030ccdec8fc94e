r"""Random counts: ``poisson(rates)`` and ``binomial(count, prob)`` (``torch.poisson``, ``torch.binomial``), drawn
with the library's generator on the tensors' device, without a graph (the ``Poisson``, ``Binomial`` and
``NegativeBinomial`` distributions sample with them). Each is exact, by the two methods numpy and PyTorch use:

- a small mean (below 10): **inversion**, counting up from 0. Poisson: multiply uniforms u_1 u_2 ... until the
  product falls below e^{-rate}; the count is how many it took minus one. Binomial: walk the probabilities
  f(0), f(1), ... (f(k + 1) = f(k) (n - k) / (k + 1) p / (1 - p)) until their sum passes one uniform.
- a larger mean: **transformed rejection** (Hoermann's PTRS for Poisson, 1993; BTRS for binomial, 1993): a
  candidate k = floor((2 a / u_s + b) U + c) from two uniforms, whose distribution is a tight hat over the true
  one; it is kept when a second uniform V falls under the ratio of the true probability of k to the hat's
  (log f(k) from ``lgamma``). About 1.2 candidates are drawn per count.

Every element loops until it is accepted; the loops run on whole tensors, so each round is a few array operations.
"""
from .autograd.grad_mode import no_grad
from .autograd.higher_order import reads
from .creation import rand
from .functions import _check_tensor
from .special import lgamma
from .tensor import where

__all__ = ["poisson", "binomial"]


def _uniform(like, generator):
    return rand(tuple(like.shape), dtype=like.dtype, device=like.device, generator=generator)


def poisson(input, generator=None):
    """A count from Poisson(rate) for each rate of ``input`` (a floating tensor of rates >= 0), of its dtype."""
    _check_tensor("poisson", input)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"poisson: expected a floating-point tensor of rates, got {input.dtype}")
    with no_grad():
        rate = input.detach()
        if bool((rate < 0).any().item()) or bool(rate.isnan().any().item()):
            raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
        small = rate < 10
        result = where(small, _inverted_poisson(where(small, rate, 0.0), generator),
                       _rejected_poisson(where(small, 10.0, rate), generator))
        result = where(rate == 0, 0.0, result)
    return reads(result, input)  # (linked to a rate that requires grad, with a gradient of 0, as PyTorch's)


def _inverted_poisson(rate, generator):
    threshold, product = (-rate).exp(), rate * 0 + 1
    count, pending = rate * 0, rate == rate
    while bool(pending.any().item()):
        product = product * _uniform(rate, generator)
        passed = pending & (product <= threshold)
        count = where(pending & ~passed, count + 1, count)
        pending = pending & ~passed
    return count


def _rejected_poisson(rate, generator):
    """PTRS, for rates >= 10."""
    root, log_rate = rate.sqrt(), rate.log()
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    log_inverse_alpha = (1.1239 + 1.1328 / (b - 3.4)).log()
    v_r = 0.9277 - 3.6224 / (b - 2)
    result, pending = rate * 0, rate == rate
    while bool(pending.any().item()):
        U, V = _uniform(rate, generator) - 0.5, _uniform(rate, generator)
        us = 0.5 - U.abs()
        k = ((2 * a / us + b) * U + rate + 0.43).floor()
        quick = (us >= 0.07) & (V <= v_r)
        fair = (k >= 0) & ~((us < 0.013) & (V > us))
        exact = V.log() + log_inverse_alpha - (a / (us * us) + b).log() <= -rate + k * log_rate - lgamma(
            where(k >= 0, k, 0.0) + 1)
        accept = pending & (quick | (fair & exact))
        result, pending = where(accept, k, result), pending & ~accept
    return result


def binomial(count, prob, generator=None):
    """A count from Binomial(count, prob) for each pair of ``count`` (trials, whole numbers >= 0) and ``prob``,
    broadcast, of their floating dtype."""
    _check_tensor("binomial", count, "count")
    _check_tensor("binomial", prob, "prob")
    if not (count.dtype.is_floating_point and prob.dtype == count.dtype):
        raise RuntimeError(f"binomial: expected count and prob of one floating dtype, got {count.dtype} and "
                           f"{prob.dtype}")
    with no_grad():
        n, p = count.detach() + prob.detach() * 0, prob.detach() + count.detach() * 0  # (broadcast)
        flipped = p > 0.5  # (drawn for 1 - p, then n - k: the methods want p <= 1/2)
        q = where(flipped, 1 - p, p)
        small = n * q < 10
        k = where(small, _inverted_binomial(where(small, n, 0.0), q, generator),
                  _rejected_binomial(where(small, 100.0, n), where(small, 0.5, q), generator))
        k = where(flipped, n - k, k)
    return reads(k, count, prob)


def _inverted_binomial(n, p, generator):
    u = _uniform(n, generator)
    odds = p / where(p < 1, 1 - p, 1.0)
    term = where(p < 1, (n * (-p).log1p()).exp(), where(n == 0, 1.0, 0.0))  # f(0) = (1 - p)^n
    total, k, pending = term, n * 0, (u > term) & (n > 0)
    while bool(pending.any().item()):
        term = term * (n - k) / (k + 1) * odds
        k = where(pending, k + 1, k)
        total = total + term
        pending = pending & (u > total) & (k < n)
    return k


def _log_pmf(k, n, p):
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * p.log() + (n - k) * (-p).log1p()


def _rejected_binomial(n, p, generator):
    """BTRS, for n p >= 10 and p <= 1/2 (the acceptance test with log f(k) - log f(mode) from lgamma)."""
    spread = (n * p * (1 - p)).sqrt()
    b = 1.15 + 2.53 * spread
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c, v_r = n * p + 0.5, 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spread
    mode = ((n + 1) * p).floor()
    result, pending = n * 0, n == n
    while bool(pending.any().item()):
        U, V = _uniform(n, generator) - 0.5, _uniform(n, generator)
        us = 0.5 - U.abs()
        k = ((2 * a / us + b) * U + c).floor()
        inside = (k >= 0) & (k <= n)
        quick = (us >= 0.07) & (V <= v_r)
        safe_k = where(inside, k, mode)  # (a k outside [0, n] is refused; its pmf is not read)
        exact = (V * alpha / (a / (us * us) + b)).log() <= _log_pmf(safe_k, n, p) - _log_pmf(mode, n, p)
        accept = pending & inside & (quick | exact)
        result, pending = where(accept, k, result), pending & ~accept
    return result

