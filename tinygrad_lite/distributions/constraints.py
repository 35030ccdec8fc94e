r"""``constraints`` (``torch.distributions.constraints``): the region of values a number, a vector or a matrix must
lie in, as objects that can check a value and name themselves.

A constraint serves three purposes, the same as in PyTorch:

- **what a parameter may be**: each distribution lists its parameters' constraints in ``arg_constraints`` (a dict,
  name -> constraint): Normal's ``scale`` is ``positive``, Categorical's ``probs`` a ``simplex``. A distribution
  checks its parameters against them when it is made (``validate_args``, distribution.py), and the ValueError
  names the constraint by its repr (``GreaterThan(lower_bound=0.0)``).
- **what a value may be**: a distribution's ``support``, against which ``log_prob`` (and ``cdf``) check the value:
  ``real`` for a Normal, ``nonnegative_integer`` for a Poisson. Where it depends on the parameters it is a
  property (``dependent_property``): Uniform(low, high)'s is ``interval(low, high)``.
- **optimising in an unconstrained space**: ``biject_to(c)`` and ``transform_to(c)`` (constraint_registry.py) give a
  transform from the whole real line onto the region of ``c``, so that an optimiser moves a free number u while
  the parameter is transform(u) and stays valid: ``transform_to(positive)(u)`` is e^u, always positive.

``check(value)`` returns a bool tensor: True where the value lies in the region. ``event_dim`` is how many of the
rightmost dims form one event, checked together (0: each number on its own; 1: a vector, as a point of the simplex;
2: a matrix), so the result has value.shape[:-event_dim]. ``is_discrete`` says whether the region is a set of
separate points (integers, {0, 1}, one-hot vectors). A parametrised constraint is a class, called to make one
(``interval(0.0, 2.0)``) and usable with isinstance (``isinstance(c, constraints.interval)``); the others are
instances (``constraints.positive``). ``dependent`` stands for a parameter whose valid values depend on others
(it cannot be checked on its own); ``is_dependent(c)`` tells it apart. The reprs are PyTorch's, word for word.
"""
from .. import dtypes as dt
from ..autograd.grad_mode import no_grad
from ..creation import full
from ..factorisations import eigvalsh
from ..functions import cat as _cat
from ..functions import finfo, isclose
from ..functions import stack as _stack
from ..tensor import vector_norm
from ..triangular import cholesky_ex

__all__ = ["Constraint", "boolean", "cat", "corr_cholesky", "dependent", "dependent_property", "greater_than",
           "greater_than_eq", "independent", "integer_interval", "interval", "half_open_interval", "is_dependent",
           "less_than", "lower_cholesky", "lower_triangular", "MixtureSameFamilyConstraint", "multinomial",
           "nonnegative", "nonnegative_integer", "one_hot", "positive", "positive_semidefinite", "positive_definite",
           "positive_integer", "real", "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval"]


class Constraint:
    """A region of values: ``check(value)`` is a bool tensor, one entry per event (the value's shape without its
    last ``event_dim`` dims), True where the event lies in the region."""

    is_discrete = False  # (a continuous region unless a subclass says otherwise)
    event_dim = 0  # (each number on its own unless a subclass says otherwise)

    def check(self, value):
        raise NotImplementedError(f"{type(self).__name__}.check is not defined: a constraint subclass defines it")

    def __repr__(self):  # (the class's name without its leading underscore: _GreaterThanEq -> GreaterThanEq())
        return type(self).__name__.lstrip("_") + "()"


class _Bounded(Constraint):
    """A constraint with bounds (numbers or tensors), shown by name in its repr: Interval(lower_bound=0.0, ...);
    the three below take one bound, the other, or both."""

    _bounds = ()

    def __repr__(self):
        shown = ", ".join(f"{name}={getattr(self, name)}" for name in self._bounds)
        return f"{type(self).__name__.lstrip('_')}({shown})"


class _LowerBounded(_Bounded):
    _bounds = ("lower_bound",)

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound


class _UpperBounded(_Bounded):
    _bounds = ("upper_bound",)

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound


class _TwoBounded(_Bounded):
    _bounds = ("lower_bound", "upper_bound")

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound


# ---------------------------------------------------------------------------------------------------------------
# Placeholders: a constraint that cannot be checked on its own


class _Dependent(Constraint):
    """A parameter or a support that depends on other values (no check of its own). ``is_discrete`` and
    ``event_dim`` are known only where given: ``dependent(is_discrete=True, event_dim=1)`` makes one that says."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete, self._event_dim = is_discrete, event_dim

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        return _Dependent(is_discrete=self._is_discrete if is_discrete is NotImplemented else is_discrete,
                          event_dim=self._event_dim if event_dim is NotImplemented else event_dim)

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    """Whether ``constraint`` is a placeholder (``dependent``, or a ``dependent_property`` read on the class), which
    cannot be checked: a loop over ``arg_constraints`` skips those."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property whose value is a constraint computed from the instance (Uniform's support, interval(low, high)),
    and which, read on the class (``Uniform.support``), is a ``dependent`` placeholder. Used as a decorator, bare
    (``@dependent_property``) or with the static facts (``@dependent_property(is_discrete=False, event_dim=0)``)."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn):  # (the decorator's second step: @dependent_property(...) then the function)
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


# ---------------------------------------------------------------------------------------------------------------
# Wrappers of other constraints


class _IndependentConstraint(Constraint):
    """``base_constraint`` with its last ``reinterpreted_batch_ndims`` dims read as part of one event: the event is
    valid where all its entries are (``real_vector`` is independent(real, 1))."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"independent: base_constraint must be a Constraint, got {type(base_constraint).__name__}")
        n = reinterpreted_batch_ndims
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"independent: reinterpreted_batch_ndims must be an int >= 0, got {n!r}")
        self.base_constraint, self.reinterpreted_batch_ndims = base_constraint, n

    is_discrete = property(lambda self: self.base_constraint.is_discrete)
    event_dim = property(lambda self: self.base_constraint.event_dim + self.reinterpreted_batch_ndims)

    def check(self, value):
        result, n = self.base_constraint.check(value), self.reinterpreted_batch_ndims
        if result.dim() < n:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.dim()}")
        return result.reshape(tuple(result.shape[:result.dim() - n]) + (-1,)).all(-1)

    def __repr__(self):
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class MixtureSameFamilyConstraint(Constraint):
    """The support of a ``MixtureSameFamily``: its components' support, checked on the value with the components'
    dim put back (before the event dims), valid where every component's check is."""

    def __init__(self, base_constraint):
        if not isinstance(base_constraint, Constraint):
            raise TypeError("MixtureSameFamilyConstraint: base_constraint must be a Constraint, got "
                            f"{type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    is_discrete = property(lambda self: self.base_constraint.is_discrete)
    event_dim = property(lambda self: self.base_constraint.event_dim)

    def check(self, value):
        if value.dim() < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.dim()}")
        result = self.base_constraint.check(value.unsqueeze(-1 - self.event_dim))
        kept = value.dim() - self.event_dim
        return result.reshape(tuple(result.shape[:kept]) + (-1,)).all(-1)

    def __repr__(self):
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


class _Cat(Constraint):
    """The constraints of ``cseq`` applied to consecutive pieces of dim ``dim`` (of sizes ``lengths``, 1 each by
    default), as ``cat`` would join them."""

    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq = list(cseq)
        if not all(isinstance(c, Constraint) for c in self.cseq):
            raise TypeError("cat: every element of cseq must be a Constraint")
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"cat: lengths ({len(self.lengths)}) must match cseq ({len(self.cseq)})")
        self.dim = dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))
    event_dim = property(lambda self: max(c.event_dim for c in self.cseq))

    def check(self, value):
        if not -value.dim() <= self.dim < value.dim():
            raise IndexError(f"cat: dim {self.dim} out of range for a value with {value.dim()} dimensions")
        pieces, start = [], 0
        for constraint, length in zip(self.cseq, self.lengths):
            pieces.append(constraint.check(value.narrow(self.dim, start, length)))
            start += length
        return _cat(pieces, self.dim)


class _Stack(Constraint):
    """The constraints of ``cseq`` applied to the slices of dim ``dim``, one each, as ``stack`` would join them."""

    def __init__(self, cseq, dim=0):
        self.cseq = list(cseq)
        if not all(isinstance(c, Constraint) for c in self.cseq):
            raise TypeError("stack: every element of cseq must be a Constraint")
        self.dim = dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))

    @property
    def event_dim(self):
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value):
        if not -value.dim() <= self.dim < value.dim():
            raise IndexError(f"stack: dim {self.dim} out of range for a value with {value.dim()} dimensions")
        slices = [value.select(self.dim, i) for i in range(value.shape[self.dim])]
        return _stack([c.check(v) for v, c in zip(slices, self.cseq)], self.dim)


# ---------------------------------------------------------------------------------------------------------------
# Numbers, one at a time (event_dim 0)


class _Real(Constraint):
    """The extended real line [-inf, inf]: everything but nan."""

    def check(self, value):
        return value == value  # (False for nan only)


class _GreaterThan(_LowerBounded):
    """(lower_bound, inf]."""

    def check(self, value):
        return value > self.lower_bound


class _GreaterThanEq(_LowerBounded):
    """[lower_bound, inf]."""

    def check(self, value):
        return value >= self.lower_bound


class _LessThan(_UpperBounded):
    """[-inf, upper_bound)."""

    def check(self, value):
        return value < self.upper_bound


class _Interval(_TwoBounded):
    """[lower_bound, upper_bound], both ends in."""

    def check(self, value):
        return (value >= self.lower_bound) & (value <= self.upper_bound)


class _HalfOpenInterval(_TwoBounded):
    """[lower_bound, upper_bound): the upper end out."""

    def check(self, value):
        return (value >= self.lower_bound) & (value < self.upper_bound)


class _Boolean(Constraint):
    """The two values 0 and 1."""
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _IntegerInterval(_TwoBounded):
    """The whole numbers of [lower_bound, upper_bound]."""
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound) & (value <= self.upper_bound)


class _IntegerGreaterThan(_LowerBounded):
    """The whole numbers from lower_bound up (inf is not one: inf % 1 is nan)."""
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound)


# ---------------------------------------------------------------------------------------------------------------
# Vectors (event_dim 1)


class _Simplex(Constraint):
    """Probability vectors along the last dim: every entry >= 0, summing to 1 (within 1e-6)."""
    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    """One-hot vectors along the last dim: entries 0 or 1, exactly one 1."""
    is_discrete = True
    event_dim = 1

    def check(self, value):
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _Multinomial(_UpperBounded):
    """Counts along the last dim: every entry >= 0, summing to at most ``upper_bound`` (PyTorch checks no more than
    that, and its repr shows no bound: Multinomial())."""
    is_discrete = True
    event_dim = 1
    __repr__ = Constraint.__repr__

    def check(self, value):
        return (value >= 0).all(-1) & (value.sum(-1) <= self.upper_bound)


# ---------------------------------------------------------------------------------------------------------------
# Matrices (event_dim 2)


def _all_of_each_matrix(mask):
    return mask.reshape(tuple(mask.shape[:-2]) + (-1,)).all(-1)


class _LowerTriangular(Constraint):
    """Square matrices with zeros above the diagonal."""
    event_dim = 2

    def check(self, value):
        return _all_of_each_matrix(value.tril() == value)


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal: a Cholesky factor (MultivariateNormal's scale_tril)."""
    event_dim = 2

    def check(self, value):
        return _all_of_each_matrix(value.tril() == value) & (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)


class _CorrCholesky(Constraint):
    """Cholesky factors of correlation matrices: lower-triangular, positive diagonal, each row of length 1 (within
    10 n eps of the dtype)."""
    event_dim = 2

    def check(self, value):
        tolerance = finfo(value.dtype).eps * value.shape[-1] * 10
        unit_rows = ((vector_norm(value.detach(), dim=-1) - 1.0).abs() <= tolerance).all(-1)
        return _LowerCholesky().check(value) & unit_rows


class _Square(Constraint):
    """Square matrices (one answer for the whole batch: the shape's)."""
    event_dim = 2

    def check(self, value):
        return full(tuple(value.shape[:-2]), value.shape[-2] == value.shape[-1], dtype=dt.bool, device=value.device)


class _Symmetric(_Square):
    """Square matrices equal to their transpose (within isclose's tolerance, atol 1e-6)."""

    def check(self, value):
        square = super().check(value)
        return isclose(value, value.mT, atol=1e-6).all(-1).all(-1) if bool(square.all()) else square


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices whose eigenvalues are all >= 0."""

    def check(self, value):
        symmetric = super().check(value)
        return (eigvalsh(value) >= 0).all(-1) if bool(symmetric.all()) else symmetric


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices that have a Cholesky factor (all eigenvalues > 0): a covariance."""

    def check(self, value):
        symmetric = super().check(value)
        if not bool(symmetric.all()):
            return symmetric
        with no_grad():
            return cholesky_ex(value).info == 0


# ---------------------------------------------------------------------------------------------------------------
# PyTorch's public names: classes for the parametrised ones, instances for the others

dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
