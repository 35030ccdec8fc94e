"""The rest of PyTorch's activations, each composed of ops the engine already differentiates.

``relu``, ``leaky_relu``, ``gelu``, ``silu`` and ``softmax`` live in ``__init__.py``: they are what the lessons use.
``softplus`` is here, where ``mish`` is made of it, with the others a PyTorch script may call:

- the exponential units, negative for x < 0 and saturating there: ``elu``, ``selu`` (self-normalising), ``celu``;
- the piecewise-linear ones, which cost no exponential: ``hardtanh``, ``relu6``, ``hardsigmoid``, ``hardswish``;
- smooth ones: ``logsigmoid``, ``softsign``, ``mish``, ``tanhshrink``;
- the ones that zero small values: ``softshrink``, ``hardshrink``, ``threshold``;
- ``softmin``, ``glu`` (half of the features gate the other half) and ``prelu`` (a learned negative slope);
- ``gumbel_softmax``: a differentiable sample of a category (softmax of the logits plus Gumbel noise).

None has a backward of its own: each is a few elementwise ops and a ``where``, so the chain rule gives its
gradient, as composed.py's ops get theirs. Three details keep them equal to PyTorch's:

- each piece is chosen with PyTorch's own comparison (``x > 0`` or ``x <= 0``), so that at a joint (x = 0 for
  ``elu``, x = -3 and 3 for ``hardswish``) the gradient is the one PyTorch's backward gives;
- ``where`` computes the piece it drops too, so that piece is kept finite (``expm1`` of ``x`` clamped to x <= 0): a
  gradient of 0 times inf would be nan;
- PyTorch runs each as one op, so autocast sees only its input (``_one_op``): the ops inside run in the input's
  dtype, where autocast on a GPU would have run ``exp`` in float32.
"""
import functools
import warnings

from ...amp.autocast_mode import as_one_op
from ...autograd.grad_mode import no_grad
from ...autograd.higher_order import read_for_a_mask
from ...creation import arange, rand
from ...shapes import check_number, dim_index
from ...tensor import Tensor, where
from ._checks import _check_floating, _check_inplace, _check_tensor, _in_place, _softmax_dim

__all__ = ["elu", "selu", "celu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid", "softsign", "mish",
           "tanhshrink", "softshrink", "hardshrink", "threshold", "softmin", "glu", "prelu",
           "gumbel_softmax", "elu_", "selu_", "celu_", "hardtanh_", "threshold_"]  # (and softplus)

SELU_ALPHA = 1.6732632423543772848170429916717  # the constants of "Self-Normalizing Neural Networks" (2017)
SELU_SCALE = 1.0507009873554804934193349852946


def _one_op(name):
    """Run the composed function as autocast runs one op called ``name`` (``amp.autocast_mode.as_one_op``): its
    tensor arguments cast by autocast's lists (``prelu`` is on the float16 list, the others on none), the ops inside
    with autocast off."""
    def wrap(function):
        @functools.wraps(function)
        def op(input, *args, **kwargs):
            if not isinstance(input, Tensor):  # (the function's own check names the mistake)
                return function(input, *args, **kwargs)
            (input, *args), region = as_one_op(name, input, *args)
            with region:
                return function(input, *args, **kwargs)
        return op
    return wrap


# -------------------------------------------------------------------- exponential units
def _exponential_unit(x, alpha, scale=1.0, input_scale=1.0):
    r"""scale * x for x > 0, else scale * \alpha (e^{x * input_scale} - 1), PyTorch's one formula for the three."""
    return where(x > 0, x * scale, (x.clamp(max=0) * input_scale).expm1() * (alpha * scale))


@_one_op("elu")
def elu(input, alpha=1.0, inplace=False):
    r"""x for x > 0, else \alpha (e^x - 1) (Clevert et al., 2016): like ReLU for x > 0, but smooth and negative
    below, saturating at -\alpha, which pulls the mean activation towards 0. d/dx = 1 for x > 0, else \alpha e^x."""
    _check_floating("elu", input, NotImplementedError)
    check_number("elu", "alpha", alpha)
    _check_inplace("elu", inplace)
    if inplace:
        return _in_place(input, "elu", lambda x: elu(x, alpha))
    return _exponential_unit(input, alpha)


@_one_op("selu")
def selu(input, inplace=False):
    r"""\lambda \cdot elu(x, \alpha) with \alpha = 1.6733 and \lambda = 1.0507 (Klambauer et al., 2017): chosen so
    that activations of mean 0 and variance 1 keep them through a layer whose weights have variance 1/fan_in (init
    with ``nn.init.kaiming_normal_(w, nonlinearity='linear')``), without batch norm."""
    _check_floating("selu", input, NotImplementedError)
    _check_inplace("selu", inplace)
    if inplace:
        return _in_place(input, "selu", selu)
    return _exponential_unit(input, SELU_ALPHA, SELU_SCALE)


@_one_op("celu")
def celu(input, alpha=1.0, inplace=False):
    r"""x for x > 0, else \alpha (e^{x/\alpha} - 1) (Barron, 2017): elu whose slope at 0 is 1 for every \alpha, so
    it is continuously differentiable. d/dx = 1 for x > 0, else e^{x/\alpha}."""
    _check_floating("celu", input, NotImplementedError)
    check_number("celu", "alpha", alpha)
    if alpha == 0:
        raise RuntimeError("celu(): alpha must not be 0 (the formula divides x by it); the default is 1.0")
    _check_inplace("celu", inplace)
    if inplace:
        return _in_place(input, "celu", lambda x: celu(x, alpha))
    return _exponential_unit(input, alpha, input_scale=1.0 / alpha)


# -------------------------------------------------------------------- piecewise linear
@_one_op("hardtanh")
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    r"""x clamped to [min_val, max_val]: tanh's shape made of three straight pieces. d/dx = 1 strictly inside the
    interval, else 0: at x = min_val or max_val exactly the gradient is 0, as PyTorch's (``clamp``'s is 1 there)."""
    _check_tensor("hardtanh", input)
    check_number("hardtanh", "min_val", min_val), check_number("hardtanh", "max_val", max_val)
    if min_val > max_val:
        raise ValueError(f"hardtanh(): min_val ({min_val}) cannot be greater than max_val ({max_val})")
    _check_inplace("hardtanh", inplace)
    if inplace:
        return _in_place(input, "hardtanh", lambda x: hardtanh(x, min_val, max_val))
    if not input.is_floating_point():  # (integers keep their dtype, the bounds cut to integers, as PyTorch's)
        return input.clamp(int(min_val), int(max_val))
    return read_for_a_mask(where((input > min_val) & (input < max_val), input, input.detach().clamp(min_val, max_val)))


def relu6(input, inplace=False):
    r"""min(max(x, 0), 6): a ReLU capped at 6 (MobileNet's), ``hardtanh(x, 0, 6)``."""
    _check_tensor("relu6", input)
    return hardtanh(input, 0.0, 6.0, inplace)


@_one_op("hardsigmoid")
def hardsigmoid(input, inplace=False):
    r"""relu6(x + 3) / 6: 0 below -3, 1 above 3, the straight line x/6 + 1/2 between; a sigmoid without the
    exponential. d/dx = 1/6 for -3 < x < 3, else 0."""
    _check_floating("hardsigmoid", input, NotImplementedError)
    _check_inplace("hardsigmoid", inplace)
    if inplace:
        return _in_place(input, "hardsigmoid", hardsigmoid)
    # (compared with -3 and 3 as PyTorch does: x + 3 can round to 6 for x just below 3)
    return where(input <= -3, 0.0, where(input >= 3, 1.0, (input + 3) / 6))


@_one_op("hardswish")
def hardswish(input, inplace=False):
    r"""x \cdot relu6(x + 3) / 6 (MobileNetV3): silu's shape without the exponential. 0 for x <= -3, x for x >= 3,
    x (x + 3) / 6 between; d/dx = 0, then x/3 + 1/2 strictly between -3 and 3, then 1 (PyTorch's choice at the
    joints)."""
    _check_floating("hardswish", input, NotImplementedError)
    _check_inplace("hardswish", inplace)
    if inplace:
        return _in_place(input, "hardswish", hardswish)
    return where(input <= -3, 0.0, where(input < 3, input * (input + 3) / 6, input))


# -------------------------------------------------------------------- smooth
def softplus(input, beta=1.0, threshold=20.0):
    r"""A smooth ReLU: \frac{1}{\beta} \ln(1 + e^{\beta x}), elementwise; always positive, and close to max(x, 0)
    far from 0 (the larger \beta, the closer).

    Where \beta x > threshold it is x itself, as in PyTorch: there the two differ by less than float precision,
    and e^{\beta x} would overflow. The slope is d/dx = \sigma(\beta x), the sigmoid (1 in the linear part).
    """
    _check_floating("softplus", input)
    check_number("softplus", "beta", beta), check_number("softplus", "threshold", threshold)
    bx = input * beta
    # the clamp keeps e^{bx} finite in the branch where() discards, so that its gradient (0 there) stays 0, not nan
    return where(bx > threshold, input, bx.clamp(max=threshold).exp().log1p() / beta)


@_one_op("log_sigmoid")
def logsigmoid(input):
    r"""\log \sigma(x) = -softplus(-x), computed without overflow for large |x|. d/dx = 1 - \sigma(x) = \sigma(-x).
    ``F.logsigmoid(z)`` is the log-probability of the positive class from a logit z: ``-logsigmoid(z)`` is
    binary cross-entropy for a target of 1."""
    _check_floating("logsigmoid", input, NotImplementedError)
    # min(x, 0) - ln(1 + e^{-|x|}) as PyTorch computes it, one branch for each sign; e^{...} of at most 1 in both
    return where(input < 0, input - input.clamp(max=0).exp().log1p(), -(-input.clamp(min=0)).exp().log1p())


@_one_op("softsign")
def softsign(input):
    r"""x / (1 + |x|): squashes to (-1, 1) like tanh, but approaches its bounds polynomially, not exponentially.
    d/dx = 1 / (1 + |x|)^2."""
    _check_tensor("softsign", input)
    return input / (input.abs() + 1)  # (integers: a float result, from the division)


@_one_op("mish")
def mish(input, inplace=False):
    r"""x \tanh(softplus(x)) (Misra, 2019): smooth and non-monotonic like silu, negative down to about -0.31."""
    _check_floating("mish", input, NotImplementedError)
    _check_inplace("mish", inplace)
    if inplace:
        return _in_place(input, "mish", mish)
    return input * softplus(input).tanh()


@_one_op("tanhshrink")
def tanhshrink(input):
    r"""x - \tanh x: near 0 (where tanh x is close to x) almost 0, far from 0 close to x -+ 1."""
    _check_floating("tanhshrink", input, NotImplementedError)
    return input - input.tanh()


# -------------------------------------------------------------------- zeroing small values
@_one_op("softshrink")
def softshrink(input, lambd=0.5):
    r"""x - \lambda for x > \lambda, x + \lambda for x < -\lambda, 0 between: moves every value \lambda towards 0
    and stops at 0 (the proximal step of an L1 penalty). d/dx = 1 outside the band, 0 inside."""
    _check_floating("softshrink", input, NotImplementedError)
    check_number("softshrink", "lambd", lambd)
    if lambd < 0:
        raise RuntimeError(f"softshrink(): lambd must be at least 0 (the half-width of the band set to 0), got {lambd}")
    return read_for_a_mask(where(input > lambd, input - lambd, where(input < -lambd, input + lambd, input * 0)))


@_one_op("hardshrink")
def hardshrink(input, lambd=0.5):
    r"""x where |x| > \lambda, else 0: keeps the large values as they are. d/dx = 1 outside the band, 0 inside."""
    _check_floating("hardshrink", input, NotImplementedError)
    check_number("hardshrink", "lambd", lambd)  # (a negative lambd is an empty band: x itself, as in PyTorch)
    return read_for_a_mask(where((input >= -lambd) & (input <= lambd), 0.0, input))


@_one_op("threshold")
def threshold(input, threshold, value, inplace=False):
    r"""x where x > threshold, else ``value``: ``threshold(x, 0, 0)`` is relu. d/dx = 1 where x > threshold, else
    0."""
    _check_tensor("threshold", input)
    check_number("threshold", "threshold", threshold), check_number("threshold", "value", value)
    if not input.is_floating_point():  # (integers keep their dtype, value cut to an integer, as PyTorch's)
        value = int(value)
    _check_inplace("threshold", inplace)
    if inplace:
        return _in_place(input, "threshold", lambda x: _threshold(x, threshold, value))
    return _threshold(input, threshold, value)


def _threshold(x, threshold, value):
    return read_for_a_mask(where(x <= threshold, value, x))


# -------------------------------------------------------------------- along a dim, and learned
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    r"""softmax(-x) along ``dim``: the smallest values get the largest probabilities."""
    _check_tensor("softmin", input)
    if dtype is not None:
        input = input.to(dtype=dtype)
    return (-input).softmax(_softmax_dim("softmin", input.ndim, _stacklevel) if dim is None else dim)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    r"""A differentiable sample of one category per row: softmax((logits + g) / tau) along ``dim``, g = -log(-log
    U) with U uniform on (0, 1) (Gumbel noise; PyTorch draws it as -log(E), E exponential, the same distribution),
    so argmax(logits + g) is a sample from softmax(logits). A small ``tau`` makes the result nearly one-hot.
    ``hard``: the exact one-hot vector of the argmax, whose gradient is the soft sample's (the straight-through
    estimator: one_hot - y.detach() + y). The noise comes from the library's generator, so the samples differ from
    PyTorch's for the same seed. ``eps`` is deprecated and unused, as in PyTorch."""
    _check_floating("gumbel_softmax", logits)
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    check_number("gumbel_softmax", "tau", tau)
    d = dim_index(dim, max(logits.ndim, 1), "gumbel_softmax")
    with no_grad():
        uniform = rand(logits.shape, dtype=logits.dtype, device=logits.device).clamp(min=1e-20)
        noise = -(-uniform.log()).log()  # (U near 1 gives -log(U) = 0 and noise inf: a certain pick, as PyTorch's)
    soft = ((logits + noise) / tau).softmax(d)
    if not hard:
        return soft
    sizes = [1] * soft.ndim
    sizes[d] = soft.shape[d] if soft.ndim else 1
    classes = arange(sizes[d], device=soft.device).reshape(sizes) if soft.ndim else arange(1, device=soft.device)[0]
    one_hot = (classes == soft.argmax(d, keepdim=True)).to(soft.dtype)
    return one_hot - soft.detach() + soft


@_one_op("glu")
def glu(input, dim=-1):
    r"""a \cdot \sigma(b), where a and b are the two halves of ``input`` along ``dim`` (the gated linear unit,
    Dauphin et al., 2017): the second half decides how much of the first passes. The output is half as long."""
    _check_floating("glu", input, NotImplementedError)
    if input.ndim == 0:
        raise RuntimeError("glu(): a 0-d tensor cannot be split in two halves; give a tensor with the dim to halve")
    d = dim_index(dim, input.ndim, "glu")
    if input.shape[d] % 2:
        raise RuntimeError(f"glu(): the dim to halve must have an even size, but dim {dim} of {tuple(input.shape)} "
                           f"has size {input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


@_one_op("prelu")
def prelu(input, weight):
    r"""x for x > 0, else a \cdot x, with the slope a learned (He et al., 2015): ``weight`` holds one slope, or one
    per channel (dim 1 of ``input``). d/dx = 1 for x > 0, else a; d/da = 0 for x > 0, else x."""
    _check_floating("prelu", input, NotImplementedError)
    _check_tensor("prelu", weight, "weight")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1:
        raise RuntimeError(f"prelu(): weight must be 0-d or 1-d (one slope, or one per channel), got shape "
                           f"{tuple(weight.shape)}")
    if weight.dtype != input.dtype:  # (PyTorch refuses to promote here too)
        raise RuntimeError(f"prelu(): input is {input.dtype} but weight is {weight.dtype}; they must have one dtype: "
                           f"convert the input (x.to(weight.dtype)) or the layer (prelu.to(x.dtype))")
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"prelu(): weight has {weight.numel()} slopes but input {tuple(input.shape)} has "
                           f"{channels} channel{'s' * (channels != 1)} (dim 1, or 1 for a tensor of fewer dims); give "
                           f"one slope, or one per channel (nn.PReLU(num_parameters={channels}))")
    # the slopes along dim 1 (broadcast over the dims after it); a tensor of fewer dims has one slope, as a number
    weight = weight.reshape([-1] + [1] * (input.ndim - 2)) if input.ndim >= 2 else weight.reshape(())
    return read_for_a_mask(where(input > 0, input, weight * input))


Tensor.hardshrink, Tensor.prelu = hardshrink, prelu  # (x.hardshrink(0.5), x.prelu(weight), as PyTorch's)


# -------------------------------------------------------------------- in place, under PyTorch's other names
def elu_(input, alpha=1.0):
    """``elu(input, alpha, inplace=True)``."""
    return elu(input, alpha, inplace=True)


def selu_(input):
    """``selu(input, inplace=True)``."""
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    """``celu(input, alpha, inplace=True)``."""
    return celu(input, alpha, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """``hardtanh(input, min_val, max_val, inplace=True)``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    """``threshold(input, threshold, value, inplace=True)``."""
    return globals()["threshold"](input, threshold, value, inplace=True)  # (the argument hides the function)
