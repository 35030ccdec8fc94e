"""Lazy layers: ``nn.LazyLinear(10)`` learns its input size from the first batch it sees.

A Linear layer needs ``in_features`` to make its weight, but the size that reaches it depends on every layer before
it (a convolution stack's flattened output). A lazy layer is made with the sizes it can know (``out_features``), and
its parameters are ``UninitializedParameter``s: no shape yet. At its first forward pass it reads the size from the
input (the last dim for Linear, the channel dim for convolutions and batch norms), gives its parameters their
shapes and draws them as the plain layer would, and becomes that layer: a ``LazyLinear`` is then a ``Linear``.
So run one batch through a model with lazy layers before you make its optimizer, initialise it or count its
parameters (d2l.ai's models do: ``net(X)`` first). Loading a state_dict gives the parameters the saved shapes.
"""
from ... import dtypes as dt
from ...autograd.grad_mode import no_grad
from ...creation import tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, yes_or_no
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm
from .linear import Linear

__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class LazyModuleMixin:
    """What the lazy layers share: a forward pre-hook that, at the first call, sizes the parameters from the input
    (``initialize_parameters``, each layer's own), then removes itself and turns the layer into ``cls_to_become``."""
    cls_to_become = None
    _learned = "in_features"  # the size read from the first input (0 until then)

    def _lazy_start(self):
        self.register_forward_pre_hook(LazyModuleMixin._infer_parameters)  # (found again by its function, not by a
        # handle: a handle copied with the module, by copy.deepcopy, would remove the original's hook)

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this layer (not of its children) still waits for its shape."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def reset_parameters(self):
        if not self.has_uninitialized_params() and getattr(self, self._learned) != 0:  # (once the shapes are known)
            super().reset_parameters()

    @staticmethod
    def _infer_parameters(module, args):
        with no_grad():
            module.initialize_parameters(*args)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        for key, hook in list(module._forward_pre_hooks.items()):
            if hook is LazyModuleMixin._infer_parameters:
                del module._forward_pre_hooks[key]
        module.__class__ = module.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` with ``in_features`` read from the input's last dim at the first forward."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._lazy_start()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        if self.in_features == 0:  # (its weight came from a state_dict)
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f"The in_features inferred from input: {input.shape[-1]} is not equal to "
                                     f"in_features from self.weight: {self.weight.shape[-1]}")
            self.in_features = input.shape[-1]


class _LazyConv(LazyModuleMixin):
    """A convolution whose ``in_channels`` is read from the input's channel dim (dim 1, or 0 for one image without a
    batch dim) at the first forward."""
    _learned = "in_channels"

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, *rest, bias=True, device=None, dtype=None,
                 **options):
        super().__init__(0, 0, kernel_size, stride, padding, *rest, bias=False, **options)
        self.out_channels = out_channels
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._lazy_start()

    def initialize_parameters(self, input):
        if input.ndim not in (self.d + 1, self.d + 2):
            raise RuntimeError(f"{self._get_name()}: expected {self.d + 1}D (unbatched) or {self.d + 2}D (batched) "
                               f"input, but got input of size: {list(input.shape)}")
        if self.in_channels == 0:  # (also when the weight came from a state_dict: the repr reads it)
            self.in_channels = input.shape[0 if input.ndim == self.d + 1 else 1]
        if self.has_uninitialized_params():
            if self.in_channels % self.groups:
                raise ValueError(f"{self._get_name()}: in_channels must be divisible by groups (in_channels="
                                 f"{self.in_channels} from the input, groups={self.groups})")
            outer = (self.in_channels, self.out_channels // self.groups) if self.transposed else \
                (self.out_channels, self.in_channels // self.groups)
            self.weight.materialize(outer + self.kernel_size)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


class LazyConv1d(_LazyConv, Conv1d):
    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConv, ConvTranspose1d):
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConv, ConvTranspose2d):
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConv, ConvTranspose3d):
    cls_to_become = ConvTranspose3d


class _LazyNorm(LazyModuleMixin):
    """A batch or instance norm whose ``num_features`` is read from the input's channel dim (dim 1) at the first
    forward."""
    _learned = "num_features"

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *,
                 bias=True):
        super().__init__(0, eps, momentum, False, False)
        affine, track_running_stats, bias = yes_or_no(type(self).__name__, affine=affine,
                                                      track_running_stats=track_running_stats, bias=bias)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype) if bias else None
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=dt.int64, device=device)
        self._lazy_start()

    def initialize_parameters(self, input):
        if self.num_features == 0 and (self.has_uninitialized_params() or isinstance(self, _BatchNorm)):
            self.num_features = input.shape[1]  # (a batch norm's input check reads it even without parameters)
        if self.has_uninitialized_params():
            for t in (*self._parameters.values(), *self._buffers.values()):
                if is_lazy(t):
                    t.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNorm, _BatchNorm):  # (not a BatchNorm1d until its first forward, as PyTorch's)
    cls_to_become = BatchNorm1d
    _dims, _layout = BatchNorm1d._dims, BatchNorm1d._layout


class LazyBatchNorm2d(_LazyNorm, _BatchNorm):
    cls_to_become = BatchNorm2d
    _dims, _layout = BatchNorm2d._dims, BatchNorm2d._layout


class LazyBatchNorm3d(_LazyNorm, _BatchNorm):
    cls_to_become = BatchNorm3d
    _dims, _layout = BatchNorm3d._dims, BatchNorm3d._layout


class LazyInstanceNorm1d(_LazyNorm, _InstanceNorm):
    """As PyTorch's, unlike ``InstanceNorm1d``, it learns a weight and a bias and tracks running statistics by
    default; and it reads dim 1 of the input, so its first batch must have a batch dim (N, C, L)."""
    cls_to_become, d = InstanceNorm1d, 1


class LazyInstanceNorm2d(_LazyNorm, _InstanceNorm):
    """``InstanceNorm2d`` sized by its first batch (N, C, H, W); ``affine`` and ``track_running_stats`` default
    to True, as in PyTorch."""
    cls_to_become, d = InstanceNorm2d, 2


class LazyInstanceNorm3d(_LazyNorm, _InstanceNorm):
    """``InstanceNorm3d`` sized by its first batch (N, C, D, H, W); ``affine`` and ``track_running_stats`` default
    to True, as in PyTorch."""
    cls_to_become, d = InstanceNorm3d, 3
