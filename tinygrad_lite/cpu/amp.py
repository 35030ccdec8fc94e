"""``torch.cpu.amp``: PyTorch's deprecated spellings of ``autocast`` and ``GradScaler`` for "cpu".

As in PyTorch 2.13, each warns (a FutureWarning, at the script's line) that the spelling is deprecated and names
the current one, ``torch.amp.autocast("cpu", ...)`` or ``torch.amp.GradScaler("cpu", ...)``, then works as that
one does. PyTorch's CPU autocast defaults to bfloat16, which numpy lacks: without ``dtype=`` it raises, asking for
``dtype=tl.float16`` (``amp/autocast_mode.py``).
"""
from .. import amp
from ..amp.deprecated import warn_deprecated


class autocast(amp.autocast):
    """``torch.cpu.amp.autocast(enabled, dtype, cache_enabled)``: ``amp.autocast("cpu", ...)``, after a
    FutureWarning."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warn_deprecated("cpu", "autocast")
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """``torch.cpu.amp.GradScaler(...)``: ``amp.GradScaler("cpu", ...)``, after a FutureWarning."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        warn_deprecated("cpu", "GradScaler")
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)


__all__ = ["GradScaler", "autocast"]
