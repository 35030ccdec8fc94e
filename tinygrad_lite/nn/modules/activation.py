"""Activation layers: each wraps the function of the same name in ``nn.functional``.

They hold no parameters; as layers they can sit in a ``Sequential`` and show up in the model's repr.
``inplace=True`` writes the result into the input, as in PyTorch (see ``F.relu``).
"""
from ...shapes import as_int, check_number
from .. import functional as F
from .module import Module


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
