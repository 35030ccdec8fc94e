r"""The other in-place random fillings of PyTorch's tensors, each a transform of uniform numbers u in [0, 1) drawn
on the tensor's device (``uniform_``, random.py), so that the same seed gives the same numbers here every time (not
PyTorch's numbers):

- ``exponential_(lambd)``: -log(1 - u) / lambda, the waiting time of a Poisson process of rate lambda (mean
  1/lambda);
- ``geometric_(p)``: ceil(log(1 - u) / log(1 - p)), the number of trials up to the first success (1, 2, ...);
- ``log_normal_(mean, std)``: e^z with z ~ Normal(mean, std) (``normal_``), so its log has that mean and std;
- ``cauchy_(median, sigma)``: median + sigma tan(pi (u - 1/2)), heavy tailed (no mean);
- ``random_(from, to)``: integers from ``from`` to ``to`` - 1, each as likely (``randint``'s numbers).
"""
import math

import numpy as np

from . import dtypes as dt
from .creation import randint
from .shapes import as_int, check_number
from .tensor import Tensor

__all__ = []


def exponential_(self, lambd=1.0, *, generator=None):
    check_number("exponential_", "lambd", lambd)
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    u = self.new_empty(self.shape).uniform_(generator=generator)
    return self.copy_(-(-u).log1p() / lambd)


def geometric_(self, p, *, generator=None):
    check_number("geometric_", "p", p)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    u = self.new_empty(self.shape, dtype=self.dtype if self.dtype.is_floating_point else dt.float64)
    u.uniform_(generator=generator)
    return self.copy_(((-u).log1p() / math.log1p(-p)).ceil().clamp(min=1).to(self.dtype))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    check_number("log_normal_", "mean", mean), check_number("log_normal_", "std", std)
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return self.copy_(self.new_empty(self.shape).normal_(mean, std, generator=generator).exp())


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    check_number("cauchy_", "median", median), check_number("cauchy_", "sigma", sigma)
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    u = self.new_empty(self.shape).uniform_(generator=generator)
    return self.copy_(median + sigma * (math.pi * (u - 0.5)).tan())


def random_(self, from_=0, to=None, *, generator=None):
    """Integers in [from, to) (``x.random_(10)``: [0, 10)), as PyTorch's; without ``to``, up to the largest
    integer the dtype holds exactly (2^24 for float32, 2^53 for float64, the type's maximum for integers)."""
    from_ = as_int(from_, "random_", "from")
    to = None if to is None else as_int(to, "random_", "to")
    if to is None:
        from_, to = 0, from_ if from_ else _largest(self)
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
    return self.copy_(randint(from_, to, tuple(self.shape), generator=generator, device=self.device))


def _largest(t):
    if t.dtype.is_floating_point:
        return 2 ** {"float16": 11, "float32": 24, "float64": 53}[t.dtype.name] + 1
    return int(np.iinfo(t.dtype.np).max) if t.dtype.name != "bool" else 2


for _method in (exponential_, geometric_, log_normal_, cauchy_, random_):
    setattr(Tensor, _method.__name__, _method)
