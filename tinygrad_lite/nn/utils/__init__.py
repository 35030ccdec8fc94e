"""``nn.utils``: gradient clipping (PyTorch's) and gradient statistics (ours, for diagnosing training)."""
from .clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from .grad_stats import GradStats, grad_stats

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "grad_stats", "GradStats"]
