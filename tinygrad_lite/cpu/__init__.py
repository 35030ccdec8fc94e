"""``tinygrad_lite.cpu``: the part of ``torch.cpu`` that scripts use, its deprecated ``amp`` spellings
(``torch.cpu.amp.autocast``, ``torch.cpu.amp.GradScaler``: ``amp.py``)."""
from . import amp
