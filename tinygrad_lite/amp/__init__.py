"""``tinygrad_lite.amp``: automatic mixed precision, as ``torch.amp``.

``autocast`` runs matrix multiplies in float16 and losses and reductions in float32 (``autocast_mode.py``);
``GradScaler`` scales the loss so that small float16 gradients survive (``grad_scaler.py``); ``custom_fwd`` and
``custom_bwd`` decorate a custom Function's forward and backward for autocast.
"""
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available, round_to_bfloat16
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "round_to_bfloat16"]
