"""TensorBoard logging at PyTorch's path: ``from tinygrad_lite.utils.tensorboard import SummaryWriter`` is
``from torch.utils.tensorboard import SummaryWriter``.

Needs the optional ``tensorboard`` package (``pip install "tinygrad_lite[tensorboard]"``), which is imported only
when a ``SummaryWriter`` is made: importing this module, or the library, never needs it.
"""
from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
