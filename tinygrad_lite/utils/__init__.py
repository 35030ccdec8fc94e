"""Utilities, at PyTorch's module paths: ``tinygrad_lite.utils.data`` is ``torch.utils.data``,
``tinygrad_lite.utils.tensorboard`` is ``torch.utils.tensorboard`` (which imports the ``tensorboard`` package only
when a writer is made), ``tinygrad_lite.utils.checkpoint`` is ``torch.utils.checkpoint`` (activations recomputed in
backward instead of kept)."""
from . import checkpoint, data, tensorboard
