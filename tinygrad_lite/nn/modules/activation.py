"""Activation layers: each wraps the function of the same name in ``nn.functional``.

They hold no parameters (but ``PReLU``, whose slope is learned); as layers they can sit in a ``Sequential`` and
show up in the model's repr. ``inplace=True`` writes the result into the input, as in PyTorch (see ``F.relu``).
"""
from ...creation import empty
from ...shapes import as_int, check_number, check_size
from ...tensor import Tensor
from .. import functional as F
from .. import init as _init
from ..parameter import Parameter
from .module import Module


def _inplace_repr(inplace, first=False):
    """PyTorch's way of showing ``inplace``: only when True, after the other settings."""
    return ("inplace=True" if first else ", inplace=True") if inplace else ""


class ReLU(Module):
    """max(x, 0), elementwise."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, else negative_slope * x: a small slope instead of 0 keeps gradients flowing for x < 0."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = check_number("LeakyReLU", "negative_slope", negative_slope), inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + e^{-x}): squashes to (0, 1)."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh x: squashes to (-1, 1)."""

    def forward(self, input):
        return F.tanh(input)


class Softplus(Module):
    """(1/beta) ln(1 + e^{beta x}): a smooth ReLU, linear where beta x > threshold (see ``F.softplus``)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = check_number("Softplus", "beta", beta)
        self.threshold = check_number("Softplus", "threshold", threshold)

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class GELU(Module):
    """x Phi(x) with Phi the standard normal CDF; ``approximate='tanh'`` for the tanh formula."""

    def __init__(self, approximate="none"):
        super().__init__()
        if not isinstance(approximate, str) or approximate not in ("none", "tanh"):
            raise RuntimeError(f"GELU(): approximate argument must be either none or tanh, got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x sigmoid(x) (also called swish); see ``F.silu``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softmax(Module):
    """Probabilities along ``dim``. Give the dim (usually 1 or -1): with None PyTorch's legacy guess is used."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = None if dim is None else as_int(dim, "Softmax", "dim")

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably; pair it with nn.NLLLoss."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = None if dim is None else as_int(dim, "LogSoftmax", "dim")

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


# ---------------------------------------------------------------- the activations of nn/functional/activation.py
class ELU(Module):
    """x for x > 0, else alpha (e^x - 1): smooth, and negative down to -alpha (see ``F.elu``)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = check_number("ELU", "alpha", alpha), inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace)


class SELU(Module):
    """1.0507 * elu(x, 1.6733): keeps activations at mean 0, variance 1 without batch norm (see ``F.selu``)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace, first=True)


class CELU(Module):
    """x for x > 0, else alpha (e^{x/alpha} - 1): elu with slope 1 at 0 for every alpha (see ``F.celu``)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = check_number("CELU", "alpha", alpha), inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace)


class Hardtanh(Module):
    """x clamped to [min_val, max_val], with gradient 0 at the bounds (see ``F.hardtanh``)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val = check_number(type(self).__name__, "min_val", min_val)
        self.max_val = check_number(type(self).__name__, "max_val", max_val)
        if self.min_val > self.max_val:
            raise ValueError(f"{type(self).__name__}: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace_repr(self.inplace)


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): ``Hardtanh(0, 6)``, as PyTorch's is."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace, first=True)


class Hardsigmoid(Module):
    """relu6(x + 3) / 6: a sigmoid made of three straight pieces (see ``F.hardsigmoid``)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardsigmoid(input, self.inplace)


class Hardswish(Module):
    """x * relu6(x + 3) / 6: silu's shape without an exponential (see ``F.hardswish``)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardswish(input, self.inplace)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed without overflow (see ``F.logsigmoid``)."""

    def forward(self, input):
        return F.logsigmoid(input)


class Softsign(Module):
    """x / (1 + |x|): squashes to (-1, 1) (see ``F.softsign``)."""

    def forward(self, input):
        return F.softsign(input)


class Mish(Module):
    """x tanh(softplus(x)): smooth and non-monotonic, like silu (see ``F.mish``)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.mish(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace, first=True)


class Tanhshrink(Module):
    """x - tanh(x) (see ``F.tanhshrink``)."""

    def forward(self, input):
        return F.tanhshrink(input)


class Softshrink(Module):
    """Moves every value lambd towards 0, and stops at 0 (see ``F.softshrink``)."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = check_number("Softshrink", "lambd", lambd)

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Module):
    """x where |x| > lambd, else 0 (see ``F.hardshrink``)."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = check_number("Hardshrink", "lambd", lambd)

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Threshold(Module):
    """x where x > threshold, else value (see ``F.threshold``)."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = check_number("Threshold", "threshold", threshold)
        self.value, self.inplace = check_number("Threshold", "value", value), inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + _inplace_repr(self.inplace)


class Softmin(Module):
    """softmax(-x) along ``dim``: the smallest values get the largest probabilities."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = None if dim is None else as_int(dim, "Softmin", "dim")

    def forward(self, input):
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class GLU(Module):
    """a * sigmoid(b) for the two halves a, b of the input along ``dim`` (see ``F.glu``)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = as_int(dim, "GLU", "dim")

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """x for x > 0, else a * x with the slope a learned: one slope (``num_parameters=1``) or one per channel
    (dim 1 of the input), each starting at ``init``. Leave it out of weight decay: decay pulls the slopes to 0,
    which turns it into a ReLU."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = check_size("PReLU", "num_parameters", num_parameters)
        if isinstance(init, Tensor) and init.numel() != 1:
            raise RuntimeError(f"PReLU: init is the starting slope, one number; got a tensor of shape "
                               f"{tuple(init.shape)}")
        self.init = init if isinstance(init, Tensor) else check_number("PReLU", "init", init)
        self.weight = Parameter(empty(self.num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        _init.constant_(self.weight, float(self.init))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU (``F.rrelu``): in training a slope drawn from Uniform(lower, upper) for each negative
    value, in evaluation their mean."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{', inplace=True' if self.inplace else ''}"


class Softmax2d(Module):
    """Softmax over the channels of each position of an image (dim -3 of (N, C, H, W) or (C, H, W))."""

    def forward(self, input):
        F._check_tensor(self, input)
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)
