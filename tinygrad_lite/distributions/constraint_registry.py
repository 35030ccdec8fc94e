r"""``biject_to`` and ``transform_to`` (``torch.distributions.constraint_registry``): from a constraint to a transform
that maps the whole real line onto its region, to optimise (or sample) a constrained number through a free one.

    scale = transform_to(Normal.arg_constraints["scale"])(u)      # e^u: positive whatever u the optimiser picks
    u = transform_to(constraints.positive).inv(scale)             # back: log(scale)

Both look the transform up by the constraint's class (constraints.py), registered with ``register``. They differ
where a region has several maps: ``biject_to(c)`` is one-to-one, with a log-Jacobian (what a sampler such as
Hamiltonian Monte Carlo needs, to move in the free space and correct the density), ``transform_to(c)`` need not be
(what an optimiser needs). Only for the simplex do they differ here: StickBreakingTransform (K free numbers for
K + 1 probabilities) and SoftmaxTransform (K numbers for K, one of them redundant).

Registered, as in PyTorch: ``real`` -> identity_transform; ``positive``, ``nonnegative``, ``greater_than(b)``,
``greater_than_eq(b)`` -> exp then + b (one class, so ``positive`` too is ComposeTransform([Exp, Affine(0.0, 1)]),
as PyTorch's registry makes it); ``less_than(b)`` -> exp then b - y; ``interval(a, b)`` and
``half_open_interval(a, b)`` -> sigmoid then a + (b - a) y, a plain SigmoidTransform where a = 0 and b = 1 are
numbers (``unit_interval``); ``independent(c, n)`` -> IndependentTransform of c's; ``simplex`` -> as above. The
transforms PyTorch has for ``positive_definite``, ``positive_semidefinite``,
``corr_cholesky``, ``cat`` and ``stack`` are not in the library: those raise NotImplementedError, as an
unregistered constraint does (naming its class), and say so.
"""
from numbers import Number

from . import constraints, transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]

# the constraints whose transform PyTorch's registries have and the library's transforms.py lacks
_NOT_COVERED = {constraints._PositiveDefinite:
                "PositiveDefiniteTransform", constraints._PositiveSemidefinite: "PositiveDefiniteTransform",
                constraints._CorrCholesky: "CorrCholeskyTransform", constraints._Cat: "CatTransform",
                constraints._Stack: "StackTransform"}


class ConstraintRegistry:
    """Constraint classes -> functions that make the transform for a constraint of that class."""

    def __init__(self):
        self._registry = {}

    def register(self, constraint, factory=None):
        """Register ``factory`` (constraint -> Transform) for ``constraint``'s class (a Constraint subclass, or an
        instance standing for its class). Without ``factory``, a decorator: ``@biject_to.register(MyConstraint)``."""
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, constraints.Constraint):
            raise TypeError(f"Expected constraint to be either a Constraint subclass or instance, but got {constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint):
        """The transform from the real line onto ``constraint``'s region (NotImplementedError where none is
        registered for its class)."""
        factory = self._registry.get(type(constraint))
        if factory is None:
            missing = _NOT_COVERED.get(type(constraint))
            hint = "" if missing is None else (f": PyTorch's {missing}, which it would give, is not covered by "
                                               "tinygrad_lite")
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints{hint}")
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _both(*kinds):
    """Register the decorated factory in both registries, for each of ``kinds``."""
    def decorate(factory):
        for kind in kinds:
            biject_to.register(kind, factory)
            transform_to.register(kind, factory)
        return factory
    return decorate


@_both(constraints.real)
def _to_real(constraint):
    return transforms.identity_transform


@_both(constraints.greater_than, constraints.greater_than_eq)  # (positive and nonnegative are of these classes)
def _to_greater_than(constraint):
    return transforms.ComposeTransform([transforms.ExpTransform(), transforms.AffineTransform(constraint.lower_bound,
                                                                                              1)])


@_both(constraints.less_than)
def _to_less_than(constraint):
    return transforms.ComposeTransform([transforms.ExpTransform(), transforms.AffineTransform(constraint.upper_bound,
                                                                                              -1)])


@_both(constraints.interval, constraints.half_open_interval)
def _to_interval(constraint):
    low, high = constraint.lower_bound, constraint.upper_bound
    if isinstance(low, Number) and isinstance(high, Number) and low == 0 and high == 1:
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform([transforms.SigmoidTransform(), transforms.AffineTransform(low, high - low)])


@biject_to.register(constraints.independent)
def _biject_to_independent(constraint):
    return transforms.IndependentTransform(biject_to(constraint.base_constraint), constraint.reinterpreted_batch_ndims)


@transform_to.register(constraints.independent)
def _transform_to_independent(constraint):
    return transforms.IndependentTransform(transform_to(constraint.base_constraint),
                                           constraint.reinterpreted_batch_ndims)


@biject_to.register(constraints.simplex)
def _biject_to_simplex(constraint):
    return transforms.StickBreakingTransform()


@transform_to.register(constraints.simplex)
def _transform_to_simplex(constraint):
    return transforms.SoftmaxTransform()


@transform_to.register(constraints.lower_cholesky)
def _transform_to_lower_cholesky(constraint):  # (biject_to has none, as in PyTorch: no log-Jacobian)
    return transforms.LowerCholeskyTransform()
