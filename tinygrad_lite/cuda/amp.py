"""``torch.cuda.amp``: PyTorch's deprecated spellings of ``autocast`` and ``GradScaler`` for "cuda", still in most
mixed-precision scripts (``from torch.cuda.amp import autocast, GradScaler``).

As in PyTorch 2.13, each warns (a FutureWarning, at the script's line) that the spelling is deprecated and names
the current one, ``torch.amp.autocast("cuda", ...)`` or ``torch.amp.GradScaler("cuda", ...)``, then works as that
one does: on a machine without a GPU both warn again and turn themselves off, as PyTorch's do.
"""
from .. import amp
from .. import dtypes as dt
from ..amp.deprecated import warn_deprecated


class autocast(amp.autocast):
    """``torch.cuda.amp.autocast(enabled, dtype, cache_enabled)``: ``amp.autocast("cuda", ...)``, after a
    FutureWarning."""

    def __init__(self, enabled=True, dtype=dt.float16, cache_enabled=True):
        warn_deprecated("cuda", "autocast")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """``torch.cuda.amp.GradScaler(...)``: ``amp.GradScaler("cuda", ...)``, after a FutureWarning."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        warn_deprecated("cuda", "GradScaler")
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)


__all__ = ["GradScaler", "autocast"]
