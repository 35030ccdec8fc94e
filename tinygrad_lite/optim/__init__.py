"""``tinygrad_lite.optim``: optimizers and learning-rate schedules, as ``torch.optim``.

Start with ``optimizer.py`` (what all optimizers share: parameter groups, ``step``, ``zero_grad``, state_dict),
then one file per update rule: ``sgd.py``, ``adam.py`` (and ``adamw.py``), ``rmsprop.py``, ``adagrad.py``; and
(less common) ``nadam.py``, ``radam.py``, ``adamax.py``, ``adadelta.py``, ``rprop.py``, ``asgd.py``; ``lbfgs.py``,
a quasi-Newton method whose ``step`` takes a closure (with ``line_search.py``).
``lr_scheduler`` changes the learning rate during training; ``swa_utils`` keeps an average of the weights (SWA,
EMA).
"""
from ..coverage import missing_names as _missing_names
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .nadam import NAdam
from .radam import RAdam
from .adamax import Adamax
from .adadelta import Adadelta
from .rprop import Rprop
from .asgd import ASGD
from .lbfgs import LBFGS
from . import lr_scheduler, swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax", "Adadelta",
           "Rprop", "ASGD", "LBFGS", "lr_scheduler", "swa_utils"]


__getattr__ = _missing_names(__name__)  # (a name this module lacks: what the library has instead)
