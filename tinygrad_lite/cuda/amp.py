"""``torch.cuda.amp``: PyTorch's deprecated spellings of ``autocast`` and ``GradScaler`` for "cuda", still in most
mixed-precision scripts (``from torch.cuda.amp import autocast, GradScaler``).

As in PyTorch 2.13, each warns (a FutureWarning, at the script's line) that the spelling is deprecated and names
the current one, ``torch.amp.autocast("cuda", ...)`` or ``torch.amp.GradScaler("cuda", ...)``, then works as that
one does: on a machine without a GPU both warn again and turn themselves off, as PyTorch's do.
"""
from .. import dtypes as dt
from ..amp.deprecated import DeprecatedAutocast, DeprecatedGradScaler


class autocast(DeprecatedAutocast):
    """``torch.cuda.amp.autocast(enabled, dtype, cache_enabled)``: ``amp.autocast("cuda", ...)``, after a
    FutureWarning."""
    device = "cuda"
    default_dtype = dt.float16


class GradScaler(DeprecatedGradScaler):
    """``torch.cuda.amp.GradScaler(...)``: ``amp.GradScaler("cuda", ...)``, after a FutureWarning."""
    device = "cuda"


__all__ = ["GradScaler", "autocast"]
