"""``torch.cpu.amp``: PyTorch's deprecated spellings of ``autocast`` and ``GradScaler`` for "cpu".

As in PyTorch 2.13, each warns (a FutureWarning, at the script's line) that the spelling is deprecated and names
the current one, ``torch.amp.autocast("cpu", ...)`` or ``torch.amp.GradScaler("cpu", ...)``, then works as that
one does. PyTorch's CPU autocast defaults to bfloat16, which numpy lacks: without ``dtype=`` it raises, asking for
``dtype=tl.float16`` (``amp/autocast_mode.py``).
"""
from ..amp.deprecated import DeprecatedAutocast, DeprecatedGradScaler


class autocast(DeprecatedAutocast):
    """``torch.cpu.amp.autocast(enabled, dtype, cache_enabled)``: ``amp.autocast("cpu", ...)``, after a
    FutureWarning."""
    device = "cpu"


class GradScaler(DeprecatedGradScaler):
    """``torch.cpu.amp.GradScaler(...)``: ``amp.GradScaler("cpu", ...)``, after a FutureWarning."""
    device = "cpu"


__all__ = ["GradScaler", "autocast"]
