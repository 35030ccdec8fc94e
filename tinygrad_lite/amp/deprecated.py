"""The FutureWarning of PyTorch's deprecated mixed-precision spellings, ``torch.cuda.amp`` and ``torch.cpu.amp``
(``tinygrad_lite/cuda/amp.py``, ``tinygrad_lite/cpu/amp.py``)."""
import warnings

from . import GradScaler, autocast  # (this module is loaded after the package: by cuda/amp.py and cpu/amp.py)


def warn_deprecated(device, name):
    """Warn, at the line of the caller's caller (the script), that ``<device>.amp.<name>`` is deprecated, naming the
    spelling to use instead, as PyTorch 2.13's own warning does."""
    warnings.warn(f"`tinygrad_lite.{device}.amp.{name}(args...)` is deprecated, as `torch.{device}.amp.{name}` is in "
                  f"PyTorch. Please use `tinygrad_lite.amp.{name}('{device}', args...)` (PyTorch: "
                  f"`torch.amp.{name}('{device}', args...)`) instead.", FutureWarning, stacklevel=3)


class DeprecatedAutocast(autocast):
    """``<device>.amp.autocast(enabled, dtype, cache_enabled)``: ``amp.autocast(device, ...)`` after the warning; a
    subclass names its ``device`` and its ``default_dtype`` (PyTorch's, for that spelling)."""
    device, default_dtype = None, None

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warn_deprecated(self.device, "autocast")
        super().__init__(self.device, dtype=self.default_dtype if dtype is None else dtype, enabled=enabled,
                         cache_enabled=cache_enabled)


class DeprecatedGradScaler(GradScaler):
    """``<device>.amp.GradScaler(...)``: ``amp.GradScaler(device, ...)`` after the warning; a subclass names its
    ``device``."""
    device = None

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        warn_deprecated(self.device, "GradScaler")
        super().__init__(self.device, init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)
