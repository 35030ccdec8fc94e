r"""``Distribution``: what every probability distribution offers, with PyTorch's names (``torch.distributions``).

A distribution has a **batch shape** (independent distributions side by side: one Normal per pixel) and an **event
shape** (the shape of one draw: () for a number, (k,) for a vector that ``Independent`` makes one event).
``sample(sample_shape)`` returns a tensor of shape sample_shape + batch_shape + event_shape; ``log_prob(value)``
the log-density (or log-probability) of each event, of shape sample_shape + batch_shape.

Two ways to draw, which matter for training:

- ``sample()`` draws without a graph: the numbers are data. Policy gradients (REINFORCE) use it, then
  differentiate ``log_prob(sample)`` (the score function).
- ``rsample()`` draws by reparameterisation, x = loc + scale * eps with eps ~ N(0, 1) drawn without a graph, so x is
  a differentiable function of the parameters (a VAE's encoder learns through it). Only distributions with
  ``has_rsample`` offer it.

Arguments are checked as PyTorch checks them (``validate_args``, on by default): a parameter outside its
constraint (a negative scale, probabilities that are not a distribution) and a value outside the support given to
``log_prob`` raise ValueError. The constraints are objects (constraints.py): ``arg_constraints`` maps each
parameter's name to its constraint (Normal's: loc ``real``, scale ``positive``), ``support`` is the region of the
values (a property where it depends on the parameters, as Uniform's interval(low, high)); their reprs are the
names the errors show. The random numbers come from the library's generator (``manual_seed``), so a sample
is not PyTorch's for the same seed; everything else is computed as PyTorch computes it.
"""
import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..tensor import Size, Tensor
from .constraints import is_dependent

__all__ = ["Distribution"]


def broadcast_all(*values):
    """The parameters as tensors of one shape: numbers become tensors of the others' dtype and device (float32
    when all are numbers), as PyTorch's ``broadcast_all``."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    made = [v if isinstance(v, Tensor) else tensor(float(v), dtype=None if like is None else like.dtype,
                                                   device=None if like is None else like.device) for v in values]
    shape = Size(np.broadcast_shapes(*(tuple(t.shape) for t in made)))
    return [t.expand(shape) if t.shape != shape else t for t in made]


def floating(value, like):
    """``value`` as a floating tensor: an integer or bool one in ``like``'s dtype, a floating one as it is, so that
    a float64 value scored by float32 parameters gives float64, as PyTorch's type promotion does."""
    return value if value.dtype.is_floating_point else value.to(like.dtype)


def _probs_or_logits(name, probs, logits):
    """The one of ``probs`` and ``logits`` given (a Tensor), with PyTorch's errors for none, both, or a non-tensor."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    given = probs if probs is not None else logits
    if not isinstance(given, Tensor):
        raise TypeError(f"{name}: {'probs' if probs is not None else 'logits'} must be a Tensor, got "
                        f"{type(given).__name__}")
    return given


def one_probability(distribution, probs, logits, validate_args):
    """Set up a distribution of one probability (Bernoulli, Geometric) from ``probs`` or ``logits``: exactly one
    (a number made a tensor), kept under its name, which ``_parameters`` lists, and checked against
    ``arg_constraints``; the other is derived on first use (``derived_binary_parameter``)."""
    if (probs is None) == (logits is None):
        _probs_or_logits(type(distribution).__name__, probs, logits)  # (raises PyTorch's error)
    name, given = ("probs", probs) if probs is not None else ("logits", logits)
    (given,) = broadcast_all(given) if not isinstance(given, Tensor) else (given,)
    setattr(distribution, name, given)
    distribution._parameters = (name,)
    Distribution.__init__(distribution, given.shape, validate_args=validate_args)
    distribution._check_parameter(name)  # (the one given; the other, derived, is valid)


def derived_binary_parameter(distribution, name):
    """``__getattr__`` of a distribution of one probability given as ``probs`` or ``logits`` (Bernoulli, Binomial,
    Geometric ...): the one not given, derived on first use and kept: probs = sigmoid(logits), or
    logits = log p - log(1 - p) of the clamped p (finite at p = 0 or 1), as PyTorch's ``probs_to_logits``."""
    if name == "probs":
        distribution.probs = distribution.logits.sigmoid()
        return distribution.probs
    if name == "logits":
        distribution.logits = probs_to_logits(distribution.probs, is_binary=True)
        return distribution.logits
    raise AttributeError(f"'{type(distribution).__name__}' object has no attribute {name!r}")


def _own_constraints(distribution):
    """The distribution's ``arg_constraints`` (empty where a subclass does not define them)."""
    try:
        return distribution.arg_constraints
    except NotImplementedError:
        return {}


def _constraint_of(distribution, name):
    """``name``'s constraint: in the distribution's ``arg_constraints``, else in those of the classes it derives
    from (a subclass written for PyTorch, ``class BetaProportion(Beta)``, lists its own parameters only); or None."""
    own = _own_constraints(distribution)
    if name in own:  # (a property where the constraints depend on the parameters: Uniform's low < high)
        return own[name]
    for cls in type(distribution).__mro__:
        found = cls.__dict__.get("arg_constraints")
        if isinstance(found, dict) and name in found:
            return found[name]
    return None


def clamp_probs(probs):
    """Probabilities kept within [eps, 1 - eps] of their dtype, so that their logs are finite (PyTorch's
    ``distributions.utils.clamp_probs``)."""
    eps = float(np.finfo(probs.array.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log p - log(1 - p) for one probability (``is_binary``), else log p, of the clamped probabilities (PyTorch's
    ``distributions.utils.probs_to_logits``)."""
    clamped = clamp_probs(probs)
    return clamped.log() - (-clamped).log1p() if is_binary else clamped.log()


class Distribution:
    """The base class: batch and event shapes, sampling, and the checks. Subclasses define ``log_prob``,
    ``rsample`` or ``sample``, ``entropy``, ``mean``, ``mode`` and ``variance`` as far as they exist."""

    has_rsample = False
    _validate_default = True  # PyTorch's default (``__debug__``); set_default_validate_args changes it

    @staticmethod
    def set_default_validate_args(value):
        """Whether distributions made from now on check their arguments (True by default, as in PyTorch)."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_default = value

    @property
    def arg_constraints(self):
        """Each parameter's name -> its constraint (constraints.py); a subclass defines it, as in PyTorch."""
        raise NotImplementedError(f"{type(self).__name__} does not define arg_constraints")

    @property
    def support(self):
        """The constraint the values lie in (constraints.py); a subclass defines it, as in PyTorch."""
        raise NotImplementedError(f"{type(self).__name__} does not define support")

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        """With ``validate_args``, the parameters already set (a subclass written for PyTorch sets its own, then
        calls this) are checked against ``arg_constraints``. The library's own distributions check theirs
        themselves, once each, in the order of PyTorch's messages."""
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        self._validate_args = Distribution._validate_default if validate_args is None else validate_args
        if self._validate_args and not type(self).__module__.startswith(__package__):
            for name, constraint in _own_constraints(self).items():
                if isinstance(self.__dict__.get(name), Tensor) and not is_dependent(constraint):
                    self._check_parameter(name)

    batch_shape = property(lambda self: self._batch_shape)
    event_shape = property(lambda self: self._event_shape)

    def _extended_shape(self, sample_shape=()):
        """sample_shape + batch_shape + event_shape: the shape of a sample."""
        if not isinstance(sample_shape, (tuple, list, Size)):
            raise TypeError(f"{type(self).__name__}.sample: sample_shape must be a tuple or torch.Size, such as (3,), "
                            f"got {type(sample_shape).__name__}")
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        """A draw of shape sample_shape + batch_shape + event_shape, without a graph."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no rsample (has_rsample is False): draw with "
                                  "sample() and differentiate log_prob(sample) instead")

    def sample_n(self, n):
        return self.sample((n,))

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__}.log_prob is not covered by tinygrad_lite")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__}.entropy is not covered by tinygrad_lite")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.cdf is not covered by tinygrad_lite")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__}.icdf is not covered by tinygrad_lite")

    def enumerate_support(self, expand=True):
        raise NotImplementedError(f"{type(self).__name__}.enumerate_support: its support is not finite (or not "
                                  "covered here), as in PyTorch")

    def perplexity(self):
        return self.entropy().exp()

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__}.mean is not defined here, as in PyTorch")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__}.mode is not defined here, as in PyTorch")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__}.variance is not defined here, as in PyTorch")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _check_parameter(self, name, values=None, constraint=None):
        """PyTorch's ValueError (with ``validate_args``) when the parameter ``name`` (its ``values``: the attribute
        of that name unless given) does not satisfy ``constraint`` (``arg_constraints[name]`` unless given)."""
        if not self._validate_args:
            return
        values = getattr(self, name) if values is None else values
        constraint = _constraint_of(self, name) if constraint is None else constraint
        if constraint is None:  # (a subclass's own arg_constraints leave out its parent's parameters)
            return
        with no_grad():
            valid = bool(constraint.check(values).all())
        if not valid:
            raise self._parameter_error(name, values, constraint)

    def _parameter_error(self, name, values, constraint):
        return ValueError(f"Expected parameter {name} (Tensor of shape {tuple(values.shape)}) of distribution "
                          f"{self!r} to satisfy the constraint {constraint!r}, but found invalid values:\n{values}")

    def _check_value(self, value, support=None):
        """The value given to log_prob (or cdf) must be a Tensor, and (with ``validate_args``) lie in ``support``
        (the distribution's unless given): PyTorch's ValueError otherwise."""
        if not isinstance(value, Tensor):
            raise ValueError(f"{type(self).__name__}.log_prob: the value must be a Tensor, got {type(value).__name__}")
        if not self._validate_args:
            return
        support = self.support if support is None else support
        with no_grad():
            valid = bool(support.check(value).all())
        if not valid:
            raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within the "
                             f"support ({support!r}) of the distribution {self!r}, but found invalid values:\n{value}")

    _validate_sample = _check_value  # (PyTorch's name, which subclasses written for PyTorch call)

    def _get_checked_instance(self, cls, _instance=None):
        """A new, uninitialised instance of this distribution's class, for ``expand`` (PyTorch's helper): a subclass
        with its own ``__init__`` must define its own ``expand``."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                                      "__init__() method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        shown = []
        for name in getattr(self, "_parameters", None) or _own_constraints(self):
            if name in self.__dict__:
                value = self.__dict__[name]
                shown.append(f"{name}: {value if value.numel() == 1 else value.shape}")
        return f"{type(self).__name__}({', '.join(shown)})"
