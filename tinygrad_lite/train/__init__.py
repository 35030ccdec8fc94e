"""The training toolkit beyond PyTorch's API."""
from .checkpoint import load_checkpoint, save_checkpoint
from .early_stopping import EarlyStopping
from .loggers import CSVLogger, TensorBoardLogger
from .lr_finder import LRFinderResult, lr_find
from .trainer import (Callback, Checkpoint, EarlyStop, GradientClipping, History, LRScheduler, Trainer,
                      fit, plot_history)
