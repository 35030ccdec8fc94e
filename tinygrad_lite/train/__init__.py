"""The training toolkit beyond PyTorch's API."""
from .checkpoint import load_checkpoint, save_checkpoint  # noqa: F401
from .early_stopping import EarlyStopping  # noqa: F401
from .lr_finder import LRFinderResult, lr_find  # noqa: F401
from .trainer import (Callback, Checkpoint, EarlyStop, GradientClipping, History, LRScheduler, Trainer,  # noqa: F401
                      fit, plot_history)
