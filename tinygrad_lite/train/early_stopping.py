"""``EarlyStopping``: stop training when the validation metric stops improving, and keep the best weights.

After a while the training loss keeps falling while the validation loss turns back up: the model has started to
learn the training set by heart (it overfits). Early stopping watches the validation metric once per epoch and
stops once it has not improved for ``patience`` epochs in a row; with ``restore_best_weights`` it keeps a copy of
the weights of the best epoch, to put back at the end.

With b the best value so far, a new value v is an improvement when

    mode "min" (a loss):        v < b - min_delta
    mode "max" (an accuracy):   v > b + min_delta

so an improvement must *exceed* ``min_delta``; smaller changes count as none. ``wait`` counts the epochs since
the last improvement (an improvement resets it to 0), and ``step`` returns True once ``wait`` reaches ``patience``.
A NaN or infinite value returns True at once: the training has diverged.

In a hand-written loop::

    stopper = EarlyStopping(patience=3)
    for epoch in range(100):
        train_one_epoch(model)
        if stopper.step(evaluate(model), model):  # True: 3 epochs in a row without improvement
            break
    stopper.restore(model)                         # back to the weights of the best epoch

PyTorch has no early stopping; the names and meanings follow Keras' and Lightning's ``EarlyStopping``.
Deliberate difference from Keras: ``step`` never changes your model; you call ``restore`` when you want the
best weights back.
"""
import math
from collections import OrderedDict
from collections.abc import Mapping


class EarlyStopping:
    """Tell a training loop when to stop: ``step(value)`` returns True after ``patience`` epochs without improvement.

    Attributes: ``best`` (the best value so far), ``best_epoch`` (the 0-based count of the ``step`` call that saw
    it; None before the first), ``wait`` (epochs since then), ``should_stop`` (what ``step`` last returned).
    """

    def __init__(self, monitor="val_loss", mode="min", patience=5, min_delta=0.0, restore_best_weights=True,
                 verbose=False):
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' (for a loss) or 'max' (for an accuracy), got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0 (epochs to wait), got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}; it is a size, mode sets the "
                             "direction")
        self.monitor, self.mode, self.patience, self.min_delta = monitor, mode, patience, float(min_delta)
        self.restore_best_weights, self.verbose = restore_best_weights, verbose
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.wait, self.epoch, self.should_stop = None, 0, 0, False
        self.best_state = None  # a copy of model.state_dict() at the best epoch

    def is_improvement(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value, model=None):
        """Record this epoch's ``value`` (a number, a 1-element tensor, or a dict holding ``monitor``).

        Pass ``model`` to have its weights copied whenever the value improves. Returns True when training
        should stop; once True, it stays True.
        """
        value = self._number(value)
        epoch, self.epoch = self.epoch, self.epoch + 1
        if not math.isfinite(value):
            self.should_stop = True
            self._say(f"{self.monitor} is {value} at epoch {epoch}: the training diverged; stopping")
        elif self.is_improvement(value):
            self._say(f"{self.monitor} improved from {self.best:.6g} to {value:.6g} at epoch {epoch}")
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights and model is not None:  # copies: training goes on changing the originals
                # detach().clone(): a copy without a graph, for our tensors and PyTorch's alike (lesson 09)
                self.best_state = OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
        else:
            self.wait += 1
            self._say(f"{self.monitor} did not improve for {self.wait} epoch(s) (best {self.best:.6g} at epoch "
                      f"{self.best_epoch})")
            if self.wait >= self.patience and not self.should_stop:
                self.should_stop = True
                self._say(f"no improvement for {self.patience} epochs: stopping")
        return self.should_stop

    def restore(self, model):
        """Load the weights of the best epoch into ``model``."""
        if not self.restore_best_weights:
            raise RuntimeError("EarlyStopping.restore: no weights were kept because restore_best_weights=False; "
                               "create it with EarlyStopping(..., restore_best_weights=True)")
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore: no weights kept yet; pass the model to every step, "
                               "stopper.step(val_loss, model), so that the best epoch's weights are copied")
        model.load_state_dict(self.best_state)

    def state_dict(self):
        """The progress so far (not the settings), for a checkpoint: ``save_checkpoint(..., stopper=s.state_dict())``.

        ``load_state_dict`` puts it back into an EarlyStopping made with the same settings.
        """
        return {"mode": self.mode, "best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "epoch": self.epoch, "should_stop": self.should_stop, "best_state": self.best_state}

    def load_state_dict(self, state_dict):
        if state_dict["mode"] != self.mode:
            raise ValueError(f"EarlyStopping.load_state_dict: the saved state is for mode={state_dict['mode']!r}, "
                             f"this one has mode={self.mode!r}")
        self.best, self.best_epoch, self.wait = state_dict["best"], state_dict["best_epoch"], state_dict["wait"]
        self.epoch, self.should_stop, self.best_state = (state_dict["epoch"], state_dict["should_stop"],
                                                         state_dict["best_state"])

    def _number(self, value):
        if isinstance(value, Mapping):
            if self.monitor not in value:
                raise KeyError(f"EarlyStopping.step: monitor={self.monitor!r} is not among the values passed "
                               f"({sorted(value)}); pass the number itself or set monitor= to one of them")
            value = value[self.monitor]
        if isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
            raise TypeError(f"EarlyStopping.step: expected one number such as val_loss.item(), got "
                            f"{type(value).__name__}")
        return float(value)

    def _say(self, message):
        if self.verbose:
            print(f"EarlyStopping: {message}")

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, mode={self.mode!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, best={self.best:.6g}, wait={self.wait})")
