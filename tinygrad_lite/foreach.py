r"""PyTorch's ``torch._foreach_*`` functions: one operation applied to each tensor of a list.

PyTorch runs them as one kernel over many tensors (its "multi-tensor" optimizers and model averaging use them); the
idiom reached user code through EMA helpers, such as timm's ``ModelEmaV3``:

    torch._foreach_lerp_(ema_params, model_params, 1 - decay)      # e <- e + (1 - decay) (p - e), for each pair

Here each is a loop over the list that calls the tensor method of the same name, so it means exactly what the
method means (broadcasting, type promotion, errors, autograd for the ones that are not in place). The second
argument may be a list of tensors (one per tensor), a list of numbers (one per tensor), a number, or one tensor
(for all), as in PyTorch. In place, ``_foreach_add_(xs, ys)`` changes each x and returns the list ``xs``, as PyTorch's.

    binary:    add, sub (with ``alpha=``), mul, div, pow, maximum, minimum, clamp_min, clamp_max, copy_ (in place)
    three:     addcmul, addcdiv (``value=`` a number or one per tensor), lerp (a number or tensors as the weight)
    one:       abs, neg, sqrt, exp, log, sign, reciprocal, sigmoid, sin, cos, ... (below), zero_ (in place)
    reduction: norm(tensors, ord=2), one 0-d tensor per tensor
"""
import builtins
import numbers

from .tensor import Tensor, vector_norm

UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor", "frac", "lgamma",
         "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan",
         "tanh", "trunc")
BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "clamp_min", "clamp_max")


def _checked(name, tensors):
    """``tensors``, refused unless a list (or tuple) of tensors."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"_foreach_{name}(): expected a list of tensors first, got {type(tensors).__name__}")
    for i, t in enumerate(tensors):  # (a parameter that got no gradient: its .grad is None)
        if not isinstance(t, Tensor):
            raise TypeError(f"_foreach_{name}(): expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


def _per_tensor(name, tensors, other):
    """``other`` spread over the list: one entry per tensor (a list of tensors or of numbers) or the same for all."""
    _checked(name, tensors)
    if isinstance(other, (list, tuple)):
        if len(other) != len(tensors):
            raise RuntimeError(f"_foreach_{name}(): tensor lists must have the same number of tensors, got "
                               f"{len(tensors)} and {len(other)}")
        return list(other)
    if isinstance(other, (Tensor, numbers.Number)):
        return [other] * len(tensors)
    raise TypeError(f"_foreach_{name}(): expected a list, a tensor or a number, got {type(other).__name__}")


def _binary(name, in_place):
    label = name + "_" * in_place

    def apply(self, other, *, alpha=None):
        results = []
        for t, o in zip(self, _per_tensor(label, self, other)):
            if name in ("clamp_min", "clamp_max"):  # (the tensor method's spelling: clamp(min=o), clamp(max=o))
                results.append(getattr(t, "clamp_" if in_place else "clamp")(**{name[6:]: o}))
                continue
            if name in ("maximum", "minimum") and not isinstance(o, Tensor):  # (the methods take tensors only)
                o = t.new_tensor(o)
            method = getattr(t, name + "_" if in_place else name)
            results.append(method(o) if alpha is None else method(o, alpha=alpha))
        return self if in_place else results
    apply.__name__ = f"_foreach_{name}{'_' if in_place else ''}"
    return apply


def _unary(name, in_place):
    def apply(self):
        results = [getattr(t, name + "_" if in_place else name)() for t in _checked(name + "_" * in_place, self)]
        return self if in_place else results
    apply.__name__ = f"_foreach_{name}{'_' if in_place else ''}"
    return apply


def _three(name, in_place):
    label = name + "_" * in_place

    def apply(self, tensor1, tensor2, value=1, *, scalars=None):  # (one number per tensor: positional, or scalars=)
        values = _per_tensor(label, self, value if scalars is None else scalars)
        results = [getattr(t, name + "_" if in_place else name)(a, b, value=v) for t, a, b, v in
                   zip(self, _per_tensor(label, self, tensor1), _per_tensor(label, self, tensor2), values)]
        return self if in_place else results
    apply.__name__ = f"_foreach_{name}{'_' if in_place else ''}"
    return apply


def _lerp(in_place):
    label = "lerp" + "_" * in_place

    def apply(self, ends, weight):
        results = [(t.lerp_ if in_place else t.lerp)(e, w)
                   for t, e, w in zip(self, _per_tensor(label, self, ends), _per_tensor(label, self, weight))]
        return self if in_place else results
    apply.__name__ = f"_foreach_lerp{'_' if in_place else ''}"
    return apply


def _foreach_norm(self, ord=2, dtype=None):
    """The ``ord``-norm of each tensor (all of its numbers as one vector): a list of 0-d tensors."""
    return [vector_norm(t, ord, dtype=dtype) for t in _checked("norm", self)]


def _foreach_zero_(self):
    for t in _checked("zero_", self):
        t.zero_()
    return self


def _foreach_copy_(self, src, non_blocking=False):
    for t, s in zip(_checked("copy_", self), _per_tensor("copy_", self, src)):
        t.copy_(s)
    return self


FUNCTIONS = {"_foreach_norm": _foreach_norm, "_foreach_zero_": _foreach_zero_, "_foreach_copy_": _foreach_copy_,
             "_foreach_lerp": _lerp(False), "_foreach_lerp_": _lerp(True)}
for _in_place in (False, True):
    _mark = "_" if _in_place else ""
    FUNCTIONS.update({f"_foreach_{n}{_mark}": _binary(n, _in_place) for n in BINARY})
    FUNCTIONS.update({f"_foreach_{n}{_mark}": _unary(n, _in_place) for n in UNARY})
    FUNCTIONS.update({f"_foreach_{n}{_mark}": _three(n, _in_place) for n in ("addcmul", "addcdiv")})
__all__ = builtins.sorted(FUNCTIONS)
globals().update(FUNCTIONS)
