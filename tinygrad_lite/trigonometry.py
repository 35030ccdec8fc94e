r"""The rest of PyTorch's elementwise math: inverse trigonometric and hyperbolic functions, and a few relatives.

Two are ops of the engine, because no composition of elementary functions gives them (``ops/elementwise.py``):
``asin`` and ``atan2`` (and so ``atan(x)``, which is atan2(x, 1)). The others are composed of ops, so the chain rule
gives their gradients:

- ``acos(x) = 2 atan2(\sqrt{1 - x}, \sqrt{1 + x})``, exact near 1 where pi/2 - asin(x) would cancel;
- ``sinh(x) = (e^x - e^{-x}) / 2`` (with expm1, so that small x keeps its digits), ``cosh(x) = 1 + 2 sinh(x / 2)^2``;
- ``asinh(x) = \log(x + \sqrt{x^2 + 1})``, ``acosh(x) = 2 asinh(\sqrt{(x - 1) / 2})``, ``atanh(x) = \log((1 + x) /
  (1 - x)) / 2``, each written with log1p so that x near 0 (or near 1 for acosh) keeps its digits;
- ``hypot(x, y) = \sqrt{x^2 + y^2}``, ``logaddexp(a, b) = \log(e^a + e^b)`` (as max(a, b) + log1p(e^{-|a - b|}), which
  never overflows), ``logaddexp2``, ``exp2(x) = 2^x``, ``reciprocal(x) = 1 / x``, ``deg2rad``, ``rad2deg``,
  ``sinc(x) = \sin(\pi x) / (\pi x)`` (1 at 0), ``copysign``, ``heaviside``, ``signbit`` and ``sgn``;
- PyTorch's numpy-style aliases: ``arcsin``, ``arccos``, ``arctan``, ``arctan2``, ``arcsinh``, ``arccosh``,
  ``arctanh``.

PyTorch computes each as one function, rounded once; a composition of float32 ops would round at every step. So
float32 and float16 inputs are computed in the next wider type and rounded once at the end (as ``tan`` in
composed_math.py): the result then agrees with PyTorch's to its last bit or one unit of it. Integers are computed
in the default float type. Inside autocast each is one op (``as_one_op``). Every function is also a tensor method,
with an in-place form for the one-input ones (``x.atanh_()``).
"""
import math
import numbers

import numpy as np

from . import dtypes as dt
from .amp.autocast_mode import as_one_op
from .device import array_module_of
from .functions import _check_tensor, with_out
from .inplace_methods import in_place
from .ops.elementwise import Asin, Atan2
from .shapes import check_broadcast
from .tensor import Tensor, where

_WIDER = {dt.float32: dt.float64, dt.float16: dt.float32}


def _computed(name, formula, *inputs, widen=True):
    """``formula`` of the inputs (tensors or numbers; at least one tensor), in their common float type, computed
    one type wider and rounded once (see the module's docstring), or in that type (``widen=False``)."""
    for what, value in zip(("input", "other"), inputs):
        if not isinstance(value, (Tensor, numbers.Real)) or isinstance(value, bool):
            raise TypeError(f"{name}(): argument '{what}' must be a Tensor or a number, got {type(value).__name__}")
    like = next((t for t in inputs if isinstance(t, Tensor)), None)
    if like is None:
        raise TypeError(f"{name}(): argument 'input' must be a Tensor")
    kind = dt.result_type(*inputs)
    kind = kind if kind.is_floating_point else dt.get_default_dtype()
    tensors = [t.to(kind) if isinstance(t, Tensor) else like.new_full((), t, dtype=kind) for t in inputs]
    if len(tensors) == 2:
        check_broadcast(name, tensors[0].shape, tensors[1].shape)
    tensors, region = as_one_op(name, *tensors)
    with region:
        kind = tensors[0].dtype
        wide = _WIDER.get(kind) if widen else None
        if wide is None:
            return formula(*tensors)
        return formula(*(t.to(wide) for t in tensors)).to(kind)


def _positive_half(x, f):
    """f of an odd function (f(-x) = -f(x)) computed on |x| and given x's sign back: its formula then only meets
    x >= 0. |x| is taken with ``where``, whose gradient at 0 is 1 (abs's would be 0)."""
    negative = x < 0
    value = f(where(negative, -x, x))
    return where(negative, -value, value)


def asin(input):
    """arcsin x, for -1 <= x <= 1 (nan beyond)."""
    _check_tensor("asin", input)
    return _computed("asin", Asin.apply, input)


def acos(input):
    """arccos x = 2 atan2(sqrt(1 - x), sqrt(1 + x)), for -1 <= x <= 1."""
    _check_tensor("acos", input)
    return _computed("acos", lambda x: 2 * Atan2.apply((1 - x).sqrt(), (1 + x).sqrt()), input)


def atan(input):
    """arctan x = atan2(x, 1)."""
    _check_tensor("atan", input)
    return _computed("atan", lambda x: Atan2.apply(x, x.new_ones(())), input)


def atan2(input, other):
    """The angle of the point (other, input), that is of (x, y) = (other, input), in [-pi, pi]."""
    _check_tensor("atan2", input)
    return _computed("atan2", Atan2.apply, input, other)


def sinh(input):
    _check_tensor("sinh", input)
    return _computed("sinh", _sinh, input)


def _sinh(x):
    """(e^x - e^{-x}) / 2: with expm1 for |x| < 1 (no cancellation); e^{x - ln 2} - e^{-x - ln 2} up to 20 (no
    overflow of e^x just below where sinh itself overflows); beyond, e^{|x| - ln 2} with x's sign (e^{-|x|} is
    below the last digit, and its gradient would be 0 * inf at inf). Each branch is fed only its own numbers."""
    size = x.abs()
    near, far = size < 1, size >= 20
    small, middle, large = where(near, x, 0.0), where(near | far, 1.0, x), where(far, size, 20.0)
    half = math.log(2)
    value = where(near, (small.expm1() - (-small).expm1()) / 2, (middle - half).exp() - (-middle - half).exp())
    return where(far, where(x < 0, -1.0, 1.0) * (large - half).exp(), value)


def cosh(input):
    """1 + 2 sinh(x / 2)^2: the same number as (e^x + e^{-x}) / 2, and a gradient, sinh x, without the cancellation
    of e^x - e^{-x} near 0."""
    _check_tensor("cosh", input)
    return _computed("cosh", lambda x: 1 + 2 * _sinh(x / 2) ** 2, input)


def _asinh_of_positive(a):
    """asinh(a) for a >= 0: log1p(a + a^2 / (1 + sqrt(1 + a^2))); beyond 2^28, log(2a) (the rest is below the last
    digit, and a^2 would overflow)."""
    large = a > 2.0 ** 28
    small = where(large, 0.0, a)  # (each branch only meets its own numbers, and so does its gradient)
    near = (small + small * small / (1 + (1 + small * small).sqrt())).log1p()
    return where(large, where(large, a, 1.0).log() + math.log(2), near)


def asinh(input):
    """log(x + sqrt(x^2 + 1)), odd: computed on |x| (``_asinh_of_positive``) with x's sign."""
    _check_tensor("asinh", input)
    return _computed("asinh", lambda x: _positive_half(x, _asinh_of_positive), input)


def acosh(input):
    """log(x + sqrt(x^2 - 1)) = 2 asinh(sqrt((x - 1) / 2)), for x >= 1: exact near 1, and its gradient is inf at 1
    (as PyTorch's) rather than the nan of a product with a zero."""
    _check_tensor("acosh", input)
    return _computed("acosh", lambda x: 2 * _asinh_of_positive(((x - 1) / 2).sqrt()), input)


def atanh(input):
    """log((1 + x) / (1 - x)) / 2 = (log1p(x) - log1p(-x)) / 2, for -1 < x < 1 (+-inf at +-1)."""
    _check_tensor("atanh", input)
    return _computed("atanh", lambda x: (x.log1p() - (-x).log1p()) / 2, input)


def _hypot(x, y):
    """m sqrt((x / m)^2 + (y / m)^2), m = max(|x|, |y|): no overflow of x^2 (1e300) nor underflow (1e-300); 0 at
    the origin; inf where either is inf, even beside a nan (IEEE's rule)."""
    top = x.abs().maximum(y.abs())
    zero, infinite = top == 0, x.isinf() | y.isinf()
    scale = where(zero | infinite, 1.0, top).detach()  # (the result does not depend on the scale: no gradient)
    length = scale * ((x / scale) ** 2 + (y / scale) ** 2).sqrt()
    return where(infinite, math.inf, where(zero, 0.0, length))


def hypot(input, other):
    """sqrt(x^2 + y^2), the length of (x, y)."""
    _check_tensor("hypot", input)
    return _computed("hypot", _hypot, input, other)


def _log_add(base):
    """log_b(b^a + b^c) as big + log_b(1 + b^{small - big}), with big and small the larger and the smaller of a and
    c (a where they tie). Each of the two pieces is a smooth function of a and c, so its derivatives, the second
    ones too, are exact even at a tie (max(a, c) + |a - c| would have a kink there in each term). Where a = c is
    infinite the result is a + log_b 2, with no inf - inf computed (and the gradient shared, as at any tie)."""
    def formula(a, c):
        first_is_big = a >= c
        tied_infinities = (a == c) & a.isinf()
        big = where(tied_infinities, (a + c) / 2, where(first_is_big, a, c))
        small = where(first_is_big, c, a)
        gap = where(tied_infinities, 0.0, small) - where(tied_infinities, 0.0, big)  # (<= 0)
        tail = gap.exp().log1p() if base == math.e else (2 ** gap).log1p() / math.log(2)
        return big + tail
    return formula


def logaddexp(input, other):
    """log(e^a + e^b), computed without overflow."""
    _check_tensor("logaddexp", input)
    return _computed("logaddexp", _log_add(math.e), input, other)


def logaddexp2(input, other):
    """log2(2^a + 2^b), computed without overflow."""
    _check_tensor("logaddexp2", input)
    return _computed("logaddexp2", _log_add(2), input, other)


def exp2(input):
    _check_tensor("exp2", input)
    return _computed("exp2", lambda x: 2 ** x, input)


def reciprocal(input):
    _check_tensor("reciprocal", input)
    return _computed("reciprocal", lambda x: 1 / x, input)


def deg2rad(input):
    _check_tensor("deg2rad", input)
    return _computed("deg2rad", lambda x: x * (math.pi / 180), input)


def rad2deg(input):
    _check_tensor("rad2deg", input)
    return _computed("rad2deg", lambda x: x * (180 / math.pi), input)


def sinc(input):
    """sin(pi x) / (pi x), 1 at x = 0. Near 0 (|pi x| < 1/100) its Taylor series 1 - s^2/6 + s^4/120 - s^6/5040,
    s = pi x: the quotient's gradient, cos(s)/s - sin(s)/s^2, would cancel there. float16 is computed in float32,
    float32 and float64 in their own type, as PyTorch's are (so pi x rounds as PyTorch's does)."""
    _check_tensor("sinc", input)

    def formula(x):
        s = x * math.pi
        near = s.abs() < 0.01
        far, close = where(near, 1.0, s), where(near, s, 0.0)  # (each branch fed only its own numbers)
        series = 1 - close ** 2 / 6 + close ** 4 / 120 - close ** 6 / 5040
        return where(near, series, far.sin() / far)
    if input.dtype == dt.float16:
        return _computed("sinc", formula, input)
    return _computed("sinc", formula, input, widen=False)


def signbit(input):
    """True where the sign bit is set: negative numbers and -0.0 (a bool tensor)."""
    _check_tensor("signbit", input)
    array = input.array
    return Tensor._make(array < 0 if array.dtype.kind in "iub" else array_module_of(array).signbit(array), None)


def copysign(input, other):
    """|input| with the sign of ``other`` (its sign bit: -0.0 counts as negative)."""
    _check_tensor("copysign", input)
    if isinstance(other, Tensor):
        negative = signbit(other)
    elif isinstance(other, numbers.Real) and not isinstance(other, bool):
        negative = Tensor._make(np.asarray(math.copysign(1.0, other) < 0), None)
    else:
        raise TypeError(f"copysign(): argument 'other' must be a Tensor or a number, got {type(other).__name__}")
    kind = dt.result_type(input, other)
    kind = kind if kind.is_floating_point else dt.get_default_dtype()
    return _computed("copysign", lambda x: where(negative, -x.abs(), x.abs()), input.to(kind))


def heaviside(input, values):
    """0 where input < 0, 1 where input > 0, ``values`` where it is 0 (no gradient, as in PyTorch)."""
    _check_tensor("heaviside", input)
    _check_tensor("heaviside", values, "values")
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes: {input.dtype.name} "
                           f"and {values.dtype.name}")
    return where(input == 0, values, (input > 0).to(input.dtype)).detach()


def sgn(input):
    """The sign (-1, 0 or 1); for real numbers, ``sign``."""
    _check_tensor("sgn", input)
    return input.sign()


arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh = asin, acos, atan, atan2, asinh, acosh, atanh
_UNARY = (asin, acos, atan, sinh, cosh, asinh, acosh, atanh, exp2, reciprocal, deg2rad, rad2deg, sinc, sgn)
_BINARY = (atan2, hypot, logaddexp, logaddexp2, copysign)
__all__ = [f.__name__ for f in _UNARY + _BINARY] + ["heaviside", "signbit", "arcsin", "arccos", "arctan", "arctan2",
                                                    "arcsinh", "arccosh", "arctanh"]


for _name in __all__:
    _function = globals()[_name]
    setattr(Tensor, _name, _function)
    if _function in _UNARY + (atan2, hypot, copysign):
        setattr(Tensor, _name + "_", in_place(_name, _function))
# the functions take out=, as PyTorch's (the methods do not)
for _name in __all__:
    globals()[_name] = with_out(globals()[_name])
