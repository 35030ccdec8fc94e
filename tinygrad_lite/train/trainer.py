"""``fit``: the training loop you write by hand in the lessons, packaged once, with callbacks.

At its core it is exactly the loop of the lessons::

    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with no_grad():
            ... average the loss and metrics over val_loader ...

Everything else is a ``Callback`` that the loop calls at fixed moments (the events): ``on_fit_begin``,
``on_epoch_begin``, ``on_batch_begin``, ``on_after_backward`` (between backward and step: where clipping
goes), ``on_batch_end``, ``on_epoch_end`` (the epoch's numbers are in ``trainer.logs``) and ``on_fit_end``.
A callback sets ``trainer.stop_training = True`` to end the run after the current epoch.

PyTorch has no fit loop of its own; this one is ours, in the spirit of Keras' ``fit`` and fastai's callbacks.
"""
import math

from ..autograd.grad_mode import no_grad
from ..metrics import RunningMean
from ..nn.utils import clip_grad_norm_
from .checkpoint import save_checkpoint


class Callback:
    """Base class: override the events you need. Each receives the ``Trainer`` running the loop."""

    def on_fit_begin(self, trainer): pass
    def on_epoch_begin(self, trainer): pass
    def on_batch_begin(self, trainer): pass
    def on_after_backward(self, trainer): pass
    def on_batch_end(self, trainer): pass
    def on_epoch_end(self, trainer): pass
    def on_fit_end(self, trainer): pass


class History(dict):
    """What ``fit`` returns: a list of one number per epoch for each name (``history["val_loss"]``, ...)."""

    def append(self, logs):
        for name, value in logs.items():
            self.setdefault(name, []).append(value)

    def plot(self, names=None, ax=None):
        return plot_history(self, names, ax)


def _batch_size(y):
    return len(y) if hasattr(y, "__len__") else 1


class Trainer:
    """Runs ``fit``/``evaluate`` for one model. Attributes the callbacks may read or change:

    ``model``, ``loss_fn``, ``optimizer``, ``metrics`` ({name: fn(output, target) -> number}), ``epoch``,
    ``start_epoch`` (the first epoch of this ``fit``: above 0 in a run resumed from a checkpoint),
    ``train_loader`` (during ``fit``), ``batch`` (the (x, y) being processed), ``output``, ``loss``, ``logs``
    (this epoch's numbers), ``history``, ``stop_training``.
    """

    def __init__(self, model, loss_fn, optimizer, metrics=None, callbacks=(), device=None, progress=True):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.metrics, self.callbacks = dict(metrics or {}), list(callbacks)
        self.device, self.progress = device, progress
        self.history, self.logs, self.epoch, self.stop_training = History(), {}, 0, False
        self.train_loader, self.start_epoch = None, 0
        if device is not None:
            model.to(device)

    def _event(self, name):
        for callback in self.callbacks:
            getattr(callback, name)(self)

    def _to_device(self, batch):
        return batch if self.device is None else tuple(t.to(self.device) for t in batch)

    def train_one_epoch(self, loader):
        """One pass over ``loader`` in training mode; returns {"train_loss": mean loss, "train_<metric>": ...}."""
        self.model.train()
        means = {name: RunningMean() for name in ["loss", *self.metrics]}
        bar = _progress_bar(loader, f"epoch {self.epoch + 1}", self.progress)
        for self.batch in bar:
            self._event("on_batch_begin")
            x, y = self._to_device(self.batch)
            self.output = self.model(x)
            self.loss = self.loss_fn(self.output, y)
            self.optimizer.zero_grad()
            self.loss.backward()
            self._event("on_after_backward")
            self.optimizer.step()
            n = _batch_size(y)
            means["loss"].update(self.loss.item(), n)
            with no_grad():
                for name, fn in self.metrics.items():
                    means[name].update(float(fn(self.output, y)), n)
            if hasattr(bar, "set_postfix"):  # the running loss and metrics, next to the bar
                bar.set_postfix({name: f"{m.mean:.4f}" for name, m in means.items()}, refresh=False)
            self._event("on_batch_end")
        return {f"train_{name}": m.mean for name, m in means.items()}

    @no_grad()
    def evaluate(self, loader, prefix="val"):
        """Mean loss and metrics over ``loader`` in eval mode, without gradients: {"val_loss": ..., ...}."""
        self.model.eval()
        means = {name: RunningMean() for name in ["loss", *self.metrics]}
        for batch in loader:
            x, y = self._to_device(batch)
            output = self.model(x)
            n = _batch_size(y)
            means["loss"].update(self.loss_fn(output, y).item(), n)
            for name, fn in self.metrics.items():
                means[name].update(float(fn(output, y)), n)
        return {f"{prefix}_{name}": m.mean for name, m in means.items()}

    def fit(self, train_loader, epochs, val_loader=None, start_epoch=0):
        """Train from ``start_epoch`` (0, or where a loaded checkpoint left off) up to ``epochs``; returns the
        History."""
        self.stop_training, self.train_loader, self.start_epoch = False, train_loader, start_epoch
        self._event("on_fit_begin")
        for self.epoch in range(start_epoch, epochs):
            self.logs = {"epoch": self.epoch, "lr": self.optimizer.param_groups[0]["lr"]}
            self._event("on_epoch_begin")
            self.logs.update(self.train_one_epoch(train_loader))
            if val_loader is not None:
                self.logs.update(self.evaluate(val_loader))
            self._event("on_epoch_end")  # callbacks may add to logs (e.g. the gradient norm) before it is kept
            self.history.append(self.logs)
            if self.progress:
                numbers = "  ".join(f"{k} {v:.4g}" for k, v in self.logs.items() if k != "epoch")
                print(f"epoch {self.epoch + 1}/{epochs}  {numbers}")
            if self.stop_training:
                break
        self._event("on_fit_end")
        return self.history


def fit(model, train_loader, loss_fn, optimizer, epochs, val_loader=None, metrics=None, callbacks=(), device=None,
        progress=True, start_epoch=0):
    """Train ``model`` for ``epochs`` epochs and return the History (see ``Trainer``)."""
    trainer = Trainer(model, loss_fn, optimizer, metrics, callbacks, device, progress)
    return trainer.fit(train_loader, epochs, val_loader, start_epoch)


def _progress_bar(loader, description, enabled):
    """A tqdm bar over the batches (a notebook widget in Jupyter), or the plain loader when disabled."""
    if not enabled:
        return loader
    try:
        from tqdm.auto import tqdm  # optional (the course's extra): without it, no bar
    except ImportError:
        return loader
    return tqdm(loader, desc=description, leave=False)


def plot_history(history, names=None, ax=None):
    """Plot per-epoch curves: losses on one axes, other metrics (accuracy ...) on a second one if present."""
    import matplotlib.pyplot as plt  # (here: only plotting needs it, and it is slow to import)
    names = names or [n for n in history if n not in ("epoch", "lr")]
    losses = [n for n in names if n.endswith("loss")]
    others = [n for n in names if n not in losses]
    if ax is None:
        _, axes = plt.subplots(1, 2 if losses and others else 1, figsize=(10 if losses and others else 5, 3.5))
        axes = list(axes) if hasattr(axes, "__len__") else [axes]
    else:
        axes = [ax] * 2
    for axis, group, label in ((axes[0], losses or others, "loss" if losses else "value"),
                               (axes[-1], others if losses else [], "metric")):
        for name in group:
            axis.plot(range(1, len(history[name]) + 1), history[name], marker="o", markersize=3, label=name)
        if group:
            axis.set_xlabel("epoch")
            axis.set_ylabel(label)
            axis.legend()
            axis.grid(alpha=0.3)
    return axes[0]


# -------------------------------------------------------------------- built-in callbacks
class LRScheduler(Callback):
    """Step an ``lr_scheduler`` after every epoch (or every batch, with ``interval="batch"``, e.g. OneCycleLR).

    ``ReduceLROnPlateau`` is given the epoch's ``monitor`` value (``val_loss`` by default).
    """

    def __init__(self, scheduler, interval="epoch", monitor="val_loss"):
        if interval not in ("epoch", "batch"):
            raise ValueError(f"LRScheduler: interval must be 'epoch' or 'batch', got {interval!r}")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor

    def on_batch_end(self, trainer):
        if self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, trainer):
        if self.interval != "epoch":
            return
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            if self.monitor not in trainer.logs:
                raise KeyError(f"LRScheduler: ReduceLROnPlateau watches {self.monitor!r}, which this epoch did not "
                               f"produce (logs: {sorted(trainer.logs)}); pass val_loader to fit, or monitor=...")
            self.scheduler.step(trainer.logs[self.monitor])
        else:
            self.scheduler.step()


class GradientClipping(Callback):
    """Clip the gradient norm after each backward (``clip_grad_norm_``); logs the epoch's largest norm before
    clipping."""

    def __init__(self, max_norm, norm_type=2.0):
        self.max_norm, self.norm_type = max_norm, norm_type

    def on_epoch_begin(self, trainer):
        self.largest = 0.0

    def on_after_backward(self, trainer):
        norm = clip_grad_norm_(trainer.model.parameters(), self.max_norm, self.norm_type).item()
        self.largest = max(self.largest, norm) if math.isfinite(norm) else norm

    def on_epoch_end(self, trainer):
        trainer.logs["max_grad_norm"] = self.largest


class EarlyStop(Callback):
    """Stop when ``stopper`` (an ``EarlyStopping``) says so; at the end, restore its best weights if it kept them."""

    def __init__(self, stopper):
        self.stopper = stopper

    def on_epoch_end(self, trainer):
        if self.stopper.monitor not in trainer.logs:
            raise KeyError(f"EarlyStop: the EarlyStopping monitors {self.stopper.monitor!r}, which this epoch did not "
                           f"produce (logs: {sorted(trainer.logs)}); pass val_loader to fit, or monitor=...")
        if self.stopper.step(trainer.logs[self.stopper.monitor], trainer.model):
            trainer.stop_training = True

    def on_fit_end(self, trainer):
        if self.stopper.restore_best_weights and self.stopper.best_state is not None:
            self.stopper.restore(trainer.model)


class Checkpoint(Callback):
    """Save a checkpoint (model, optimizer, scheduler, epoch, RNG state) to ``path`` after each epoch, or only when
    ``monitor`` improves (``save_best_only``). List it after ``LRScheduler`` in ``callbacks``, so that the saved
    scheduler has already taken this epoch's step and a resumed run carries on exactly. When the training loader
    is a ``DataLoader(..., generator=g)``, ``g``'s state is saved too (``"loader_rng_state"``): resume with
    ``load_checkpoint(..., loader=train_loader)``."""

    def __init__(self, path, scheduler=None, monitor="val_loss", mode="min", save_best_only=False):
        if mode not in ("min", "max"):
            raise ValueError(f"Checkpoint: mode must be 'min' or 'max', got {mode!r}")
        self.path, self.scheduler, self.monitor, self.mode = path, scheduler, monitor, mode
        self.save_best_only, self.best = save_best_only, None

    def on_epoch_end(self, trainer):
        value = trainer.logs.get(self.monitor)
        if self.save_best_only:
            if value is None:
                raise KeyError(f"Checkpoint: cannot keep the best by {self.monitor!r}, which this epoch did not "
                               "produce; pass val_loader to fit, or monitor=...")
            better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
            if not better:
                return
            self.best = value
        loader = getattr(trainer, "train_loader", None)
        loader = loader if hasattr(loader, "sampler") else None  # a DataLoader (not any iterable of batches)
        save_checkpoint(self.path, trainer.model, trainer.optimizer, self.scheduler, epoch=trainer.epoch,
                        loader=loader, logs={k: v for k, v in trainer.logs.items() if isinstance(v, (int, float))})
