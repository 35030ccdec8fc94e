"""``tinygrad_lite.optim``: optimizers and learning-rate schedules, as ``torch.optim``.

Start with ``optimizer.py`` (what all optimizers share: parameter groups, ``step``, ``zero_grad``, state_dict),
then one file per update rule: ``sgd.py``, ``adam.py`` (and ``adamw.py``), ``rmsprop.py``, ``adagrad.py``.
``lr_scheduler`` changes the learning rate during training.
"""
from ..coverage import not_covered as _not_covered
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]


def __getattr__(name):  # (a name this module lacks: the error says what the library has instead, coverage.py)
    raise _not_covered(__name__, name)
