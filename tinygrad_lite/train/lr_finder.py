"""The learning-rate range test: find a good learning rate in one short run (Smith, "Cyclical Learning Rates for
Training Neural Networks", 2017; popularized by fastai's ``lr_find``).

Train for ``num_steps`` batches while the lr grows exponentially from ``start_lr`` to ``end_lr``::

    lr_i = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))        i = 0, 1, ..., num_steps - 1

and record the loss of each batch. Too small an lr barely moves the loss; a good one makes it fall fast; too large
a one makes it blow up. Plotted against log(lr), the loss is flat, then falls, then shoots up. The suggestion is the
lr where the (smoothed) loss falls fastest: large enough to learn quickly, safely below the blow-up.

The per-batch loss is noisy, so we smooth it with an exponential moving average, bias-corrected like Adam's
moments (``beta = 1 - smooth``)::

    avg_i = beta * avg_{i-1} + (1 - beta) * loss_i,   avg_{-1} = 0,   smoothed_i = avg_i / (1 - beta ** (i + 1))

The test trains the real model, so ``lr_find`` saves the model's and the optimizer's state first and restores
them at the end (also when it stops early or raises): afterwards you train from exactly where you were.

It works with any model and optimizer that have PyTorch's ``state_dict`` / ``load_state_dict``, ``parameters``,
``param_groups``, ``zero_grad`` and ``step``: ours and PyTorch's alike.
"""
import copy
import math
import warnings
from dataclasses import dataclass

import numpy as np


@dataclass
class LRFinderResult:
    """What ``lr_find`` measured.

    ``lrs[i]`` is the lr used for batch ``i``; ``raw_losses[i]`` that batch's loss, computed *before* the update
    with ``lrs[i]`` (so it shows the effect of the smaller lrs before it); ``losses[i]`` the smoothed loss.
    ``suggestion`` is the lr of steepest descent of ``losses`` against ``log10(lr)``: with ``k = num_steps // 20``
    (at least 1), the slope at step ``i`` is ``(losses[i+k] - losses[i-k]) / (log10 lrs[i+k] - log10 lrs[i-k])``,
    measured across a tenth of the run so that batch-to-batch noise cannot win, for the steps up to the lowest
    smoothed loss; the suggestion is ``lrs[i]`` at the most negative slope. It is None (with a warning) when the
    loss fell over fewer than ``2k`` steps. ``diverged`` says whether the run stopped early because the loss blew up.
    """
    lrs: list
    losses: list
    raw_losses: list
    suggestion: float | None
    diverged: bool

    def plot(self, ax=None, show_raw=True):
        """Plot the smoothed loss (and, faintly, each batch's loss) against the lr on a log axis, with the
        suggestion marked. Draws on ``ax`` if given, else on a new figure; returns the Axes.
        """
        import matplotlib.pyplot as plt  # (here: only plotting needs it, and it is slow to import)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if show_raw:
            ax.plot(self.lrs, self.raw_losses, color="0.75", linewidth=0.8, label="loss of each batch")
        ax.plot(self.lrs, self.losses, color="C0", linewidth=2, label="smoothed loss")
        if self.suggestion is not None:
            i = self.lrs.index(self.suggestion)
            ax.plot(self.suggestion, self.losses[i], "o", color="C3", markersize=8,
                    label=f"suggestion: lr = {self.suggestion:.2g} (steepest descent)")
        ax.set_xscale("log")
        if self.losses:  # show the curve up to its minimum: the blow-up after it would squash the interesting part
            low, high = min(self.losses), max(self.losses[:int(np.argmin(self.losses)) + 1])
            margin = 0.1 * (high - low) or 0.1 * abs(high) or 0.1
            ax.set_ylim(low - margin, high + 3 * margin)
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("loss")
        ax.set_title("Learning-rate range test")
        ax.legend(loc="lower left")
        return ax


def lr_find(model, loss_fn, batches, optimizer, start_lr=1e-7, end_lr=10, num_steps=100, smooth=0.05,
            diverge_threshold=4.0):
    """Run the learning-rate range test; return an ``LRFinderResult`` (``lrs``, ``losses``, ``suggestion``, ``plot()``).

    Each step: set every param group's lr to ``lr_i``, compute ``loss_fn(model(x), y)`` on the next ``(x, y)`` of
    ``batches``, ``zero_grad``, ``backward``, ``optimizer.step()``. ``batches`` is a DataLoader or any re-iterable
    of ``(x, y)`` pairs (a list); it is started again when it runs out before ``num_steps``. The test stops early
    when the smoothed loss exceeds ``diverge_threshold`` times the lowest smoothed loss so far (that step is kept),
    or when a loss is inf or nan (that step is dropped). The model's and optimizer's state_dicts and the
    parameters' ``.grad`` are restored at the end. Losses are assumed positive (any usual training loss).

    Typical use: ``result = lr_find(model, loss_fn, train_loader, optimizer); result.plot()``, then train with an
    lr near ``result.suggestion`` (or a little below the minimum of the curve).
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_find: need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if not isinstance(num_steps, int) or num_steps < 2:
        raise ValueError(f"lr_find: num_steps must be an integer >= 2, got {num_steps!r}")
    if not 0 < smooth <= 1:
        raise ValueError(f"lr_find: smooth must be in (0, 1] (1 means no smoothing), got {smooth}")
    if not diverge_threshold > 1:
        raise ValueError(f"lr_find: diverge_threshold must be > 1 (stop when the loss exceeds this many times its "
                         f"best), got {diverge_threshold}")
    params = list(model.parameters())
    saved_model = {key: value.clone() for key, value in model.state_dict().items()}
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    saved_grads = [None if p.grad is None else p.grad.clone() for p in params]
    lrs, raw, smoothed, avg, best, diverged = [], [], [], 0.0, math.inf, False
    beta = 1.0 - smooth
    try:
        stream = _cycle(batches)
        for i in range(num_steps):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = next(stream)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            value = float(loss.item())
            if not math.isfinite(value):
                diverged = True
                break
            avg = beta * avg + (1 - beta) * value
            lrs.append(lr)
            raw.append(value)
            smoothed.append(avg / (1 - beta ** (i + 1)))
            best = min(best, smoothed[-1])
            if smoothed[-1] > diverge_threshold * best:
                diverged = True
                break
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        for p, grad in zip(params, saved_grads):
            p.grad = grad
    return LRFinderResult(lrs, smoothed, raw, _steepest_descent(lrs, smoothed, max(1, num_steps // 20)), diverged)


def _cycle(batches):
    """Yield ``(x, y)`` pairs from ``batches`` forever, starting it again each time it runs out."""
    while True:
        count = 0
        for batch in batches:
            if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
                raise TypeError(f"lr_find: each batch must be an (x, y) pair, got {type(batch).__name__}"
                                + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
            count += 1
            yield batch
        if count == 0:
            raise ValueError("lr_find: batches gave no batches (on a second pass, an iterator or generator is "
                             "empty: pass a list of (x, y) pairs or a DataLoader, which can be read again)")


def _steepest_descent(lrs, losses, k):
    """The lr at the centre of the steepest fall of ``losses`` across 2k steps, up to the lowest loss, or None."""
    end = int(np.argmin(losses)) + 1 if losses else 0  # only the falling part: the climb after it is no candidate
    if end < 2 * k + 1:
        warnings.warn(f"lr_find: the smoothed loss fell over only {max(end - 1, 0)} steps, too few to suggest a "
                      f"learning rate (the slope is measured across {2 * k} steps); lower start_lr, or raise "
                      "num_steps", UserWarning, stacklevel=3)
        return None
    x, loss = np.log10(lrs[:end]), np.asarray(losses[:end])
    slopes = (loss[2 * k:] - loss[:-2 * k]) / (x[2 * k:] - x[:-2 * k])  # the slope centred on step k, k + 1, ...
    return lrs[k + int(np.argmin(slopes))]
