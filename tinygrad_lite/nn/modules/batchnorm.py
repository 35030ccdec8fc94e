r"""``BatchNorm1d`` (and ``2d``, ``3d``): normalise each feature over the batch, then let the network rescale it.

In training, each channel c is normalised with the batch's own mean and (biased) variance,
    y = (x - \mu_c) / \sqrt{\sigma_c^2 + eps} * weight_c + bias_c,
and the layer keeps running estimates of \mu and \sigma^2 (buffers ``running_mean``, ``running_var``) for
evaluation, when there may be no batch to average over: ``model.eval()`` switches to them. See
``F.batch_norm`` for the update formulas. ``BatchNorm2d`` normalises each channel of images (N, C, H, W) over the
batch and all positions, ``BatchNorm3d`` of volumes (N, C, D, H, W): the same layer, for inputs of more dims.
"""
from ... import dtypes as dt
from ...creation import ones, tensor, zeros
from ...shapes import check_number, check_size
from ...tensor import Tensor
from .. import functional as F
from .module import Module
from .normalization import affine_parameters, reset_affine


def yes_or_no(layer, **flags):
    """The flags, refusing a tensor (whose truth is ambiguous) with the flag's name; like PyTorch, any other value
    counts by its truth."""
    for name, value in flags.items():
        if isinstance(value, Tensor):
            raise TypeError(f"{layer}(): argument '{name}' must be a bool, got a Tensor")
    return flags.values()


class _NormBase(Module):
    """What batch and instance norm share (PyTorch's ``_NormBase``): ``num_features`` channels, the learned
    ``weight`` and ``bias`` (``affine``), the running statistics (``track_running_stats``), reset and repr."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device, dtype, bias):
        super().__init__()
        name = type(self).__name__
        num_features, eps = check_size(name, "num_features", num_features), check_number(name, "eps", eps, low=0)
        if momentum is not None:
            check_number(name, "momentum", momentum, low=0, high=1)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        affine, track_running_stats, bias = yes_or_no(name, affine=affine, track_running_stats=track_running_stats,
                                                      bias=bias)
        self.affine, self.track_running_stats = affine, track_running_stats
        affine_parameters(self, num_features, affine, bias, device, dtype)
        tracked = track_running_stats  # (buffers of None otherwise, as PyTorch registers them)
        self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype) if tracked else None)
        self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", tensor(0, dtype=dt.int64, device=device) if tracked else None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        reset_affine(self)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """What ``BatchNorm1d``, ``2d`` and ``3d`` share (PyTorch's ``_BatchNorm``, the class ``isinstance`` tests of
    "any batch norm" name, as ``swa_utils.update_bn`` does): the options, the input check and forward. Each
    subclass says which inputs it takes (``_dims``, ``_layout``); a ``BatchNorm2d`` is not a ``BatchNorm1d``."""
    _dims, _layout = (2, 3), "(N, C) or (N, C, L)"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

    def _check_input(self, input):
        kind = type(self).__name__
        name = f"{kind}({self.num_features})"
        F._check_tensor(name, input)
        if input.ndim not in self._dims:
            raise ValueError(f"{name}: expected {' or '.join(f'{d}D' for d in self._dims)} input (got {input.ndim}D "
                             f"input of shape {tuple(input.shape)}); {kind} takes {self._layout}")
        if input.shape[1] != self.num_features:
            hint = ("num_features must equal the number of features the previous layer produces (its "
                    f"{'out_features' if self._dims == (2, 3) else 'out_channels'}).")
            if input.ndim == 3 and input.shape[2] == self.num_features and self._dims == (2, 3):
                hint = "The input looks like (N, L, C); BatchNorm1d wants channels in dim 1: pass x.transpose(1, 2)."
            raise RuntimeError(f"{name}: expected {self.num_features} channels in dim 1 of the input, got "
                               f"{input.shape[1]} (input shape {tuple(input.shape)}). {hint}")

    def forward(self, input):
        self._check_input(input)
        update = self.training and self.track_running_stats
        momentum = self.momentum
        if update and momentum is None:
            momentum = 1.0 / (int(self.num_batches_tracked) + 1)  # cumulative average over the batches seen
        use_batch_stats = self.training or self.running_mean is None
        out = F.batch_norm(input, self.running_mean if update or not self.training else None,
                           self.running_var if update or not self.training else None,
                           self.weight, self.bias, use_batch_stats, 0.0 if momentum is None else momentum, self.eps)
        if update:
            self.num_batches_tracked.add_(1)  # after the call, so that a rejected batch is not counted
        return out


class BatchNorm1d(_BatchNorm):
    """Batch normalisation for inputs (N, C) or (N, C, L), with C = ``num_features`` channels in dim 1.

    - ``momentum``: weight of the new batch in the running averages; ``None`` gives the cumulative average
      (every batch so far counts equally: momentum = 1 / num_batches_tracked).
    - ``affine``: learn a per-channel ``weight`` (init 1) and ``bias`` (init 0).
    - ``track_running_stats``: keep ``running_mean`` (init 0), ``running_var`` (init 1) and ``num_batches_tracked``
      (int64); without them eval mode normalises with the batch's statistics too.
    """


class BatchNorm2d(_BatchNorm):
    """Batch normalisation for images (N, C, H, W): each of the C = ``num_features`` channels normalised over the
    batch and every position (n = N H W numbers per channel). The options are ``BatchNorm1d``'s."""
    _dims, _layout = (4,), "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation for volumes (N, C, D, H, W), each channel over the batch and every position."""
    _dims, _layout = (5,), "(N, C, D, H, W)"


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose statistics, under ``DistributedDataParallel``, PyTorch averages over every process's
    batch. Training runs in one process here (``distributed``), where PyTorch's is plain batch norm too: so is this
    one, over an input of any number of dims (N, C, ...). ``convert_sync_batchnorm(model)`` swaps each batch norm of
    a model for one of these, keeping its very parameters and running statistics, as PyTorch's does."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input(self, input):
        F._check_tensor(f"SyncBatchNorm({self.num_features})", input)
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"SyncBatchNorm({self.num_features}): expected {self.num_features} channels in dim 1 of "
                               f"the input, got {input.shape[1]} (input shape {tuple(input.shape)})")

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every batch norm in it (itself included) replaced by a SyncBatchNorm holding the same
        parameters, running statistics and training mode."""
        converted = module
        if isinstance(module, _BatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            if module.affine:
                converted.weight, converted.bias = module.weight, module.bias
            converted.running_mean, converted.running_var = module.running_mean, module.running_var
            converted.num_batches_tracked, converted.training = module.num_batches_tracked, module.training
            if hasattr(module, "qconfig"):
                converted.qconfig = module.qconfig
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
