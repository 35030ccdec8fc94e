"""Utilities, at PyTorch's module paths: ``tinygrad_lite.utils.data`` is ``torch.utils.data``."""
from . import data
