r"""``LayerNorm``: normalise each sample over its last dims, then let the network rescale it.

For normalized_shape (D_1, ..., D_k), each sample's last k dims (m = D_1 ... D_k values) are normalised with their
own mean and (biased) variance,
    y = (x - \mu) / \sqrt{\sigma^2 + eps} * weight + bias,
where ``weight`` (init 1) and ``bias`` (init 0) have shape normalized_shape. Where ``BatchNorm1d`` averages each
feature over the batch, LayerNorm averages each sample over its features: it needs no batch, so it works for a
batch of one and for sequences of any length, and it computes the same thing in training and evaluation (no
running statistics). See ``F.layer_norm``.
"""
import numbers

from ...creation import ones, zeros
from ...shapes import check_number, check_size
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def affine_parameters(module, shape, learned, bias, device, dtype):
    """Give a normalisation layer its ``weight`` (ones) and ``bias`` (zeros) of ``shape``, learned parameters; or
    None for each one not ``learned`` (``bias=False``: no bias)."""
    module.register_parameter("weight", Parameter(ones(shape, device=device, dtype=dtype)) if learned else None)
    module.register_parameter("bias", Parameter(zeros(shape, device=device, dtype=dtype)) if learned and bias
                              else None)


def normalized_shape_of(owner, normalized_shape):
    """``normalized_shape`` (an int: the last dim only; or a tuple or list of sizes) as a tuple of ints."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{owner}(): normalized_shape must be an int or a tuple of ints, got "
                        f"{type(normalized_shape).__name__}")
    return tuple(check_size(owner, "normalized_shape", n) for n in shape)


def reset_affine(module):
    """Back to weight 1 and bias 0 (what is learned of them)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:  # (RMSNorm has no bias at all)
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Layer normalisation over the last dims, whose shape is ``normalized_shape`` (an int: the last dim only).

    - ``elementwise_affine``: learn a ``weight`` (init 1) and, with ``bias=True``, a ``bias`` (init 0) of shape
      normalized_shape, one number per normalised position.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_of("LayerNorm", normalized_shape)
        self.eps = check_number("LayerNorm", "eps", eps, low=0)
        self.elementwise_affine = elementwise_affine
        affine_parameters(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def reset_parameters(self):
        reset_affine(self)

    def forward(self, input):
        F._check_tensor(self, input)
        shape, k = self.normalized_shape, len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
            hint = ("normalized_shape must be the shape of the input's last dims: for (batch, features) inputs, the "
                    "number of features the previous layer produces (its out_features).")
            if k == 1 and input.ndim == 3 and input.shape[1] == shape[0]:
                hint = ("The input looks like (N, C, L); LayerNorm normalises the last dim: pass x.transpose(1, 2), "
                        "or normalise over (C, L).")
            raise RuntimeError(f"{self}: expected an input of shape [*, {', '.join(map(str, shape))}] (its last dims "
                               f"equal to normalized_shape), got an input of shape {list(input.shape)}. {hint}")
        return F.layer_norm(input, shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation (``F.group_norm``): the ``num_channels`` channels of each sample (N, C, *) in
    ``num_groups`` groups, each normalised over its channels and positions; ``affine``: learn a ``weight`` (init 1)
    and a ``bias`` (init 0) per channel. No running statistics: training and evaluation compute the same."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        num_groups, num_channels = check_size("GroupNorm", "num_groups", num_groups), \
            check_size("GroupNorm", "num_channels", num_channels)
        if num_groups == 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups (got num_channels="
                             f"{num_channels}, num_groups={num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = check_number("GroupNorm", "eps", eps, low=0), affine
        affine_parameters(self, num_channels, affine, bias, device, dtype)

    def reset_parameters(self):
        reset_affine(self)

    def forward(self, input):
        F._check_tensor(self, input)
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(f"{self}: expected {self.num_channels} channels in dim 1 of the input, got input of "
                               f"shape {tuple(input.shape)}; num_channels must equal the out_channels of the layer "
                               "before")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the last dims (``F.rms_norm``): x / sqrt(mean(x^2) + eps) * weight, with
    a learned ``weight`` (init 1) of shape normalized_shape when ``elementwise_affine``; no mean, no bias.
    ``eps=None``: the input dtype's machine epsilon, as PyTorch's."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_of("RMSNorm", normalized_shape)
        self.eps = None if eps is None else check_number("RMSNorm", "eps", eps, low=0)
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", Parameter(ones(self.normalized_shape, device=device, dtype=dtype))
                                if elementwise_affine else None)  # (and no bias at all, as PyTorch's)

    def reset_parameters(self):
        reset_affine(self)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """AlexNet's normalisation across channels (``F.local_response_norm``): each channel divided by
    (k + alpha * the mean square of the ``size`` channels around it)^beta. No parameters."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
