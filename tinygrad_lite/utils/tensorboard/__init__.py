"""TensorBoard logging at PyTorch's path: ``from tinygrad_lite.utils.tensorboard import SummaryWriter`` gives the
course's own ``SummaryWriter``, with the names and signatures of PyTorch's (``torch.utils.tensorboard``) for the
calls a training run logs, writing the same files.

Needs the optional ``tensorboard`` package (``pip install tensorboard``, or the extra
``tinygrad_lite[tensorboard]``), which is imported only when a ``SummaryWriter`` is made: importing this module,
or the library, never needs it.
"""
from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
