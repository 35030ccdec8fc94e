"""Utilities, at PyTorch's module paths: ``tinygrad_lite.utils.data`` is ``torch.utils.data``,
``tinygrad_lite.utils.tensorboard`` is ``torch.utils.tensorboard`` (which imports the ``tensorboard`` package only
when a writer is made)."""
from . import data, tensorboard
