"""Lesson 07, early stopping and checkpointing: the checks of its three exercises, all ``driven`` (the pattern of
lesson 04): a driver builds and runs the learner's code and returns a ``Run``, the numbers to judge.

- ``07.EarlyStopping``: a class with ``step(value, model)`` (True: stop) and ``restore(model)``. ``drive_stopper``
  plays a training loop on a tiny model whose weights and buffer it overwrites in place each epoch. Keeping the
  last weights, a reference to the live weights instead of a copy, or the parameters without the buffers, restores
  the wrong epoch, and a restore that makes the model share memory with the kept copy (``p.data =``) lets the
  training after it change the copy. The cases hold ties, improvements smaller than ``min_delta`` (and one of
  exactly ``min_delta``, in exact binary numbers), accuracies (``mode="max"``), negative scores, a best epoch that
  is the first one (in both modes), NaN and +-inf at the first, a middle and the last epoch, patience 1, a run that
  never stops, and a restore into a newly built model.
- ``07.save_run``: write a checkpoint (model, optimizer, scheduler, epoch, the global RNG state, the state of the
  loader's own generator, the loss as a number). ``drive_save`` trains a small run with dropout (global generator)
  and a ``DataLoader(..., generator=g)`` (its shuffling draws from ``g`` only) up to a hidden epoch, calls the
  learner's ``save_run``, compares each entry of the file with the state at the save, then resumes a fresh run
  from it and trains to the end: the weights must equal the uninterrupted run's bit for bit. A checkpoint with the
  global RNG state only fails: the fresh run's ``g`` starts from its seed again and replays epoch 0's shuffle.
- ``07.resume_run``: the other half: load a checkpoint (written by ``save_checkpoint`` with ``loader=``) into a
  fresh model, optimizer, scheduler and loader, restore both generators, and return the epoch to start from (the
  saved one + 1, an int: a tensor is refused). ``drive_resume`` checks each piece right after the call (the
  loader's: the state of the generator its sampler shuffles with, so a new Generator assigned to
  ``loader.generator`` does not count), then trains to the end, bit for bit.

The hidden runs vary the optimizer (Adam, SGD with Nesterov momentum, AdamW, RMSprop), the scheduler (StepLR,
ExponentialLR, CosineAnnealingLR, MultiStepLR, ReduceLROnPlateau), the epoch of the interruption (the first, a
middle one, the last but one), the seed, dropout and the batch size. The references are the library's own
(``train.EarlyStopping``, ``save_checkpoint``, ``load_checkpoint``), and each exercise forbids its own: an answer
that is, subclasses or calls it fails ("write it yourself"). So no driver calls a forbidden object itself:
drive_save and drive_resume save and load with ``save``/``load``, except that drive_resume writes its checkpoint
with ``save_checkpoint``, which only 07.save_run forbids. Every driver leaves the global random generator as it
found it, so a check cell does not change the numbers of the notebook's later cells.
"""
import math
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from ... import load, manual_seed, nn, no_grad, optim, save, tensor
from ...datasets import two_moons
from ...optim import lr_scheduler
from ...random import Generator, get_rng_state, set_rng_state
from ...tensor import Tensor
from ...train import EarlyStopping, load_checkpoint, save_checkpoint
from ...utils.data import DataLoader, TensorDataset
from ..checks import Case, ErrorHint
from .kinds import Run, Within, an, driven, global_rng_kept, mistake, recognised, type_name

# -------------------------------------------------------------------- 07.EarlyStopping
FLOAT64_MARK = 2.0 ** -24  # exact in float64 beside any epoch; float32 rounds epoch + mark (epoch >= 1) to the epoch
NEW_MODEL_EPOCH = -7  # what a model built for restore holds before restore (no epoch of any run)
TRAINED_ON_EPOCH = -3  # what the driver writes into the model after the first restore (training goes on)
TWIN_EPOCH = 100  # a second model, run alongside by a second stopper, holds TWIN_EPOCH + its epoch
BEST = Within(1e-9, 1e-12)  # self.best against the reference's (and a wrong version's numbers against the answer's)


class EpochWeights(nn.Module):
    """A stand-in model whose weight, bias and buffer hold the number of the epoch that last wrote them. The buffer
    stands for batch norm's running statistics: part of ``state_dict()``, not of ``parameters()``.
    ``dtype="float64"``: its tensors hold the epoch plus FLOAT64_MARK, a number float32 rounds away (issue 32): a
    copy kept in float32 restores the epoch's weights without their last digits."""

    def __init__(self, epoch=0, dtype="float32"):
        super().__init__()
        self.mark = FLOAT64_MARK if dtype == "float64" else 0.0
        self.weight = nn.Parameter(tensor([[0.0]], dtype=dtype))
        self.bias = nn.Parameter(tensor([0.0], dtype=dtype))
        self.register_buffer("running_mean", tensor([0.0], dtype=dtype))
        self.set_epoch(epoch)

    def set_epoch(self, epoch):
        """Write ``epoch`` into the weights and the buffer in place, as ``optimizer.step()`` changes the weights
        (and a forward pass in training mode the running statistics)."""
        with no_grad():
            for t in (self.weight, self.bias, self.running_mean):
                t.fill_(float(epoch) + self.mark)

    def epochs(self):
        """(the epoch of the parameters, nan when weight and bias disagree; the epoch of the buffer)."""
        weight, bias = float(self.weight.detach().numpy().ravel()[0]), float(self.bias.detach().numpy().ravel()[0])
        return ((weight - self.mark if weight == bias else math.nan),
                float(self.running_mean.numpy().ravel()[0]) - self.mark)


def drive_stopper(cls, args, kwargs):
    """Play a training loop with ``cls(**kwargs)``: before each ``step(value, model)`` (one per value of
    ``args[0]``) write the epoch into the model in place, stop at the first True (a step once more with the same
    value, no improvement, must return True again: ``>=`` patience, not ``==``), then ``restore``; then write
    TRAINED_ON_EPOCH into the restored model (training goes on from the best weights) and call ``restore`` again,
    which must bring the best weights back unchanged. Returns Run [stop epoch (-1: never), best, best_epoch (-1:
    None), the epoch of the restored parameters, the epoch of the restored buffer, the same two after the second
    restore, 1 when the stopper held an array that shares memory with the model's live state at the stop (a
    "copy" that is ``state_dict()``, ``detach()`` or ``numpy()`` of the live tensors) else 0]. That last number
    only picks the hint: it tells such an answer apart from one that never restores (both restore the last
    epoch's weights).

    restore is called only when ``best_epoch`` is not None (some epoch improved, so weights were kept).
    ``args[1]`` (optional) changes the loop: ``{"restore": False}`` calls no restore (the run stops before any
    improvement: whatever best_epoch says, no weights were kept); ``{"restore_into": "new"}`` hands restore a
    freshly built model (holding NEW_MODEL_EPOCH), as when the best weights go into a rebuilt model;
    ``{"twin": other_values}`` runs a second stopper (the same kwargs) on a second model alongside, stepped after
    the first in each epoch, its weights holding TWIN_EPOCH + epoch: two stoppers must not share their kept copy
    (state on the class instead of on self); ``{"dtype": "float64"}`` plays the loop with a float64 model."""
    values, options = args[0], (args[1] if len(args) > 1 else {})
    stopper = cls(**kwargs)
    dtype = options.get("dtype", "float32")
    model = EpochWeights(dtype=dtype)
    twin_values = options.get("twin")
    twin, twin_model = (cls(**kwargs), EpochWeights(TWIN_EPOCH)) if twin_values else (None, None)
    stopped = -1
    for epoch, value in enumerate(values):
        model.set_epoch(epoch)
        decision = stopper.step(value, model)
        if twin is not None and epoch < len(twin_values):
            twin_model.set_epoch(TWIN_EPOCH + epoch)
            twin.step(twin_values[epoch], twin_model)
        if not isinstance(decision, (bool, np.bool_)):
            return Run.failed(f"step returned {decision!r}, of type {type(decision).__name__}, at epoch {epoch}: it "
                              "must return True (stop now) or False (go on), e.g. the result of a comparison")
        if decision:
            stopped = epoch
            break
    if stopped >= 0 and not stopper.step(values[stopped], model):  # the same value once more: no improvement either
        return Run.failed(f"step returned True at epoch {stopped}, then False when called once more with the same "
                          "value. That call is one more epoch without improvement: patience epochs or more in a row "
                          "have still not improved, so step must return True again (a loop that logs one more "
                          "epoch before it breaks must not be told to go on). Compare the count with patience using "
                          ">= (not ==), and leave the count as it is when you stop (no reset to 0, no flag that "
                          "lets the next call go on)")
    if missing := [name for name in ("best", "best_epoch") if not hasattr(stopper, name)]:
        return Run.failed(f"your EarlyStopping has no attribute {missing[0]!r}: keep the best value so far in "
                          "self.best and the epoch that gave it in self.best_epoch (counting step calls from 0)")
    best, best_epoch = stopper.best, stopper.best_epoch
    numbers = [stopped]
    for name, number in (("best", best), ("best_epoch", best_epoch)):
        if number is None:
            numbers.append(math.nan if name == "best" else -1)
        elif isinstance(number, (str, bytes)) or not hasattr(number, "__float__"):
            return Run.failed(f"self.{name} is {number!r}; it must be a number")
        else:
            numbers.append(float(number))
    aliased = float(_shares_memory(stopper, model))
    if not options.get("restore", True) or best_epoch is None:  # nothing kept: nothing to restore
        return Run.of(numbers + [math.nan] * 4 + [aliased])
    target = EpochWeights(NEW_MODEL_EPOCH, dtype) if options.get("restore_into") == "new" else model
    held = list(target.parameters())
    stopper.restore(target)
    if any(a is not b for a, b in zip(held, target.parameters())):
        return Run.failed("restore(model) replaced the model's parameters with new tensors. Load the kept copy "
                          "into the model's own tensors, in place (load_state_dict does): an optimizer built for "
                          "the model holds those tensors, and would go on updating the old ones")
    restored = list(target.epochs())
    target.set_epoch(TRAINED_ON_EPOCH)
    stopper.restore(target)
    return Run.of(numbers + restored + list(target.epochs()) + [aliased])


def _arrays_in(value, depth=0):
    """The numpy arrays that ``value`` holds: its own, a tensor's, or those in a dict, list or tuple (a few levels
    deep; a model, or any other object, is not searched)."""
    if isinstance(value, Tensor):
        yield value.array
    elif isinstance(value, np.ndarray):
        yield value
    elif depth < 3 and isinstance(value, (dict, list, tuple)):
        for item in (value.values() if isinstance(value, dict) else value):
            yield from _arrays_in(item, depth + 1)


def _shares_memory(stopper, model):
    """Whether an attribute of ``stopper`` holds an array that shares memory with the model's live state."""
    live = [t.array for t in model.state_dict().values()]
    kept = [a for value in getattr(stopper, "__dict__", {}).values() for a in _arrays_in(value)]
    return any(isinstance(k, np.ndarray) and isinstance(a, np.ndarray) and np.shares_memory(k, a)
               for k in kept for a in live)


def _where(case):
    settings = ", ".join(f"{k}={v!r}" for k, v in case.kwargs.items())
    options = case.args[1] if len(case.args) > 1 else {}
    into = " (restore gets a newly built model)" if options.get("restore_into") else ""
    if options.get("dtype") == "float64":
        into = " (a float64 model)"
    if options.get("twin"):
        into = (f" (a second EarlyStopping, made with the same settings for a second model, steps alongside "
                f"with the values {list(options['twin'])})")
    return f"values {list(case.args[0])} with {settings}{into}"


def _epoch_text(epoch):
    return "never stopped" if epoch < 0 else f"stopped at epoch {int(epoch)}"


def _restored_text(epoch, what="weights"):
    if np.isnan(epoch):
        return f"{what} from two different epochs, or none (restore was not called: self.best_epoch is None)"
    if epoch == NEW_MODEL_EPOCH:
        return f"the {what} it was built with: nothing was loaded into it"
    if epoch == TRAINED_ON_EPOCH:
        return f"the {what} that training wrote into it after the first restore"
    if epoch != round(epoch):
        return (f"the {what} of epoch {round(epoch)} without their last digits (off by {abs(epoch - round(epoch)):.2g}"
                "): rounded to float32 on the way")
    if epoch >= TWIN_EPOCH:
        return (f"the {what} of epoch {int(epoch - TWIN_EPOCH)} of the OTHER model, whose own EarlyStopping ran "
                "alongside")
    return f"the {what} of epoch {int(epoch)}"


def _stopper_compare(got, expected, case):
    """A sentence for the first of [stop epoch, best, best_epoch, restored] that differs; None if none. The last
    number (a kept copy that shares memory with the model) only picks the hint: the restored weights show the
    harm."""
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    stop, best, best_epoch, restored, buffer = e[:5]
    if g[0] != stop:
        return (f"{_where(case)}: the loop should have {_epoch_text(stop)} (step returns True there), "
                f"but yours {_epoch_text(g[0])}")
    if best_epoch < 0:
        return None  # stopped before any improvement: nothing kept, nothing to restore
    if not BEST.holds(g[1], best):
        return (f"{_where(case)}: at the end self.best should be {best:g} (at epoch {int(best_epoch)}), yours is "
                f"{g[1]:g}")
    if g[2] != best_epoch:
        yours = "None" if g[2] < 0 else f"{g[2]:g}"
        return f"{_where(case)}: self.best_epoch should be {int(best_epoch)} (epochs count from 0), yours is {yours}"
    if g[3] != restored:
        return (f"{_where(case)}: after restore(model) the model should hold the weights of epoch {int(restored)}, "
                f"the best one; it holds {_restored_text(g[3])}")
    if g[4] != buffer:
        return (f"{_where(case)}: after restore(model) the parameters are those of epoch {int(restored)}, but the "
                f"buffer running_mean holds {_restored_text(g[4], 'values')}. A model's state is more than its "
                "parameters: buffers such as batch norm's running statistics change during training too, and "
                "state_dict() holds them besides the weights")
    if g[5] != restored or g[6] != buffer:
        what, epoch = ("weights", g[5]) if g[5] != restored else ("buffer running_mean", g[6])
        return (f"{_where(case)}: restore(model) put back the weights of epoch {int(restored)}; then the check "
                "trained on (it changed the model's tensors in place, as optimizer.step() does) and called "
                f"restore(model) again. The {what} should be those of epoch {int(restored)} again; the model holds "
                f"{_restored_text(epoch, 'values' if what != 'weights' else what)}")
    return None


class _Stopper:
    """A right EarlyStopping written the plain way, one rule per method; each wrong version changes one."""
    first_epoch = 0

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = self.previous = self.starting_best()
        self.best_epoch, self.wait, self.epoch, self.saved = None, 0, self.first_epoch, None

    def starting_best(self):
        return math.inf if self.mode == "min" else -math.inf

    def beats(self, value, than):
        return value < than - self.min_delta if self.mode == "min" else value > than + self.min_delta

    def improved(self, value):
        return self.beats(value, self.best)

    def diverged(self, value):
        return not math.isfinite(value)

    def bad_epochs(self, value, improved):
        """The count of epochs in a row without improvement, ``value``'s included."""
        return 0 if improved else self.wait + 1

    def stops(self):
        return self.wait >= self.patience

    def copy(self, model):
        return {k: v.clone() for k, v in model.state_dict().items()}

    def step(self, value, model):
        epoch, self.epoch = self.epoch, self.epoch + 1
        if self.diverged(value):
            return True
        improved = self.improved(value)
        wait = self.bad_epochs(value, improved)
        if improved:
            self.best, self.best_epoch, self.saved = value, epoch, self.copy(model)
        self.wait = wait
        return self.stops()

    def restore(self, model):
        model.load_state_dict(self.saved)


def _stopper_with(**changes):
    """A wrong EarlyStopping: the right one with the methods (or class attributes) ``changes``."""
    return type("WrongStopper", (_Stopper,), changes)


def _beats_previous(self, value):
    """Whether ``value`` beats the previous epoch's value (instead of the best so far), which it then becomes."""
    better, self.previous = self.beats(value, self.previous), value
    return better


def _beats_when(if_min, if_max):
    """A wrong test of an improvement: ``if_min(value, than, min_delta)`` in mode "min", ``if_max`` in "max"."""
    def beats(self, value, than):
        return (if_min if self.mode == "min" else if_max)(value, than, self.min_delta)
    return _stopper_with(beats=beats)


def _ignoring(name, default):
    """The right class with the argument ``name`` ignored (always its default)."""
    return _stopper_with(__init__=lambda self, **kwargs: _Stopper.__init__(self, **{**kwargs, name: default}))


class _RestoreShares(_Stopper):
    """restore rebinds each tensor's storage to the kept one (p.data = kept): the model and the copy share memory."""

    def restore(self, model):
        for name, tensor_ in (*model.named_parameters(), *model.named_buffers()):
            tensor_.data = self.saved[name]


class _SharedCopy(_Stopper):
    """The kept copy lives in a dict on the class, changed in place: every instance shares it."""
    kept = {}

    def copy(self, model):
        self.kept.update(super().copy(model))
        return self.kept


class _RestoresIntoStepModel(_Stopper):
    """restore loads the copy into the model step saw, not into the one it receives."""

    def copy(self, model):
        self.model = model
        return super().copy(model)

    def restore(self, model):
        super().restore(self.model)


class _CopiesEveryEpoch(_Stopper):
    """Copies the weights at every epoch (a finite value), not only on an improvement."""

    def step(self, value, model):
        stop = super().step(value, model)
        self.saved = self.copy(model) if math.isfinite(value) else self.saved
        return stop


class _ParametersOnly(_Stopper):
    """Copies and restores the parameters only: a buffer (batch norm's running statistics) keeps its last value."""

    def copy(self, model):
        return {name: p.detach().clone() for name, p in model.named_parameters()}

    def restore(self, model):
        with no_grad():
            for name, p in model.named_parameters():
                p.copy_(self.saved[name])


class _NegatedBest(_Stopper):
    """Mode "max" as a loss of -value: the decisions are right, but self.best holds -value."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, "min")
        self.maximise = mode == "max"

    def step(self, value, model):
        return super().step(-value if self.maximise else value, model)


def _best_follows_every_better_value(got, expected, case):
    """The right stop, but self.best is the most extreme value seen so far, also one that did not beat the best
    by min_delta."""
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape or g[0] != e[0] or g[1] == e[1] or case.kwargs.get("min_delta", 0) == 0:
        return False
    seen = [v for v in case.args[0][:int(e[0]) + 1 if e[0] >= 0 else None] if math.isfinite(v)]
    return BEST.holds(g[1], min(seen) if case.kwargs.get("mode", "min") == "min" else max(seen))


def _stopped(values, label, patience=None, min_delta=0.0, mode="min", options=None, **fields):
    """A case: the loop's ``values`` with these settings (``patience`` None: the default) and the driver's
    ``options`` (``drive_stopper``)."""
    settings = ({} if patience is None else {"patience": patience}) | {"min_delta": min_delta, "mode": mode}
    return Case((values,) if options is None else (values, options), label, settings, **fields)


def stopper_cases(rng):
    def wiggle(values):  # the same story with other numbers: no answer can be learnt by heart
        return tuple(float(np.round(v + rng.uniform(-0.004, 0.004), 4)) for v in values)
    return [
        _stopped(EXAMPLE_LOSSES, "", 3, visible=True),
        _stopped((1.0, 0.8, 0.795, 0.79, 0.785, 0.6, 0.59, 0.595), "improvements smaller than min_delta count as none",
                 3, 0.02),
        _stopped((0.5, 0.62, 0.7, 0.7, 0.71, 0.69, 0.7, 0.68, 0.72), "accuracies: larger is better; a tie is no "
                 "improvement", 2, mode="max"),
        _stopped((0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.3), "the same value again and again is no improvement", 4),
        _stopped((0.9, 0.7, 0.8, math.nan, 0.5, 0.4), "a NaN: the training diverged", 3),
        _stopped(wiggle([1.0, 0.9, 0.95, 0.8, 0.85, 0.7, 0.75, 0.6]), "it keeps improving: it never stops", 2),
        _stopped((1.0, 1.1, 1.2, 0.9, 1.0, 1.1, 0.8, 0.9, 1.0, 1.1, 1.2), "each improvement starts the wait again", 3,
                 0.05),
        _stopped((-2.0, -1.5, -1.2, -1.3, -1.25, -1.4, -1.3, -1.35, -1.5), "scores below 0, larger is better", 4,
                 mode="max"),
        _stopped((0.3, 0.35, 0.36, 0.5, 0.51, 0.515, 0.52), "accuracies with min_delta", 2, 0.02, "max"),
        _stopped((0.5, 0.6, 0.7, 0.8), "the first epoch is the best, and it never stops", 5),
        _stopped((0.3, 0.35, 0.4, 0.45, 0.5), "the first epoch is the best", 3, 0.01),
        _stopped((0.9, 0.85, 0.8, 0.82, 0.81), "accuracies, the first epoch is the best", 3, mode="max"),
        _stopped((math.nan, 0.5, 0.4), "NaN at the first epoch: no epoch to keep", 2, options={"restore": False},
                 trivial="the run diverges at its first epoch: its answer is to stop at once with nothing kept, "
                         "which a stopper that always stops at once gives too"),
        _stopped((0.9, 0.8, math.inf, 0.7, 0.6), "an inf loss: the training diverged", 3),
        _stopped((0.9, 0.8, -math.inf, 0.5), "a loss of -inf is no improvement: the training diverged", 3),
        _stopped((0.5, 0.6, 0.7, math.inf), "accuracies, inf at the last epoch: diverged, not improved", 5,
                 mode="max"),
        _stopped((0.6, 0.7, math.nan, 0.8), "accuracies, then a NaN", 2, mode="max"),
        _stopped((0.5, 0.6, 0.6, 0.7), "patience = 1: the first epoch without improvement stops", 1, mode="max"),
        _stopped((1.0, 0.5, 0.25, 0.125, 0.75), "an improvement by exactly min_delta is none (exact numbers)", 2, 0.25),
        _stopped(wiggle([0.8, 0.6, 0.65, 0.5, 0.55, 0.58, 0.6]), "restore loads the best weights into a newly "
                 "built model", 3, options={"restore_into": "new"}),
        _stopped((0.5, 0.47, 0.46, 0.455, 0.43), "min_delta is a margin in the loss's units, not a fraction of the "
                 "best", 2, 0.05),
        _stopped((0.5, 0.53, 0.54, 0.56, 0.6), "accuracies: min_delta is a margin in the accuracy's units", 2, 0.05,
                 "max"),
        _stopped((0.9, 0.6, 0.7, 0.8, 0.85, 0.9), "two stoppers, for two models, side by side", 4,
                 options={"twin": (0.9, 0.8, 0.7, 0.6, 0.5, 0.4)}),
        _stopped((3e12, 4e10, 6e9, 7e9, 8e9, 9e9, 1e10, 2e10, 3e10), "an untrained model's loss can be huge; the "
                 "default patience"),
        # issue 32: a float64 model gets its best weights back to the last bit (a copy in float32 rounds them)
        _stopped((0.9, 0.7, 0.75, 0.6, 0.62, 0.64), "a float64 model", 2, options={"dtype": "float64"}),
    ]


EXAMPLE_LOSSES = (0.92, 0.71, 0.6, 0.57, 0.575, 0.55, 0.56, 0.58, 0.61, 0.66, 0.7)

COMPARES_WITH_PREVIOUS = (
    "your class compares each value with the PREVIOUS epoch's: after a bad epoch, a value that is only a little "
    "better than that one counts as an improvement, although it does not beat the best so far, and the count of "
    "bad epochs starts again. An improvement beats the best value seen so far (by more than min_delta)",
    "compare the new value with self.best, which only an improvement changes, and reset the count only then")


driven(
    "07.EarlyStopping", EarlyStopping, stopper_cases, drive_stopper, unread="your run",
    forbid=(EarlyStopping,),  # the library's: the exercise is to write it
    # the text's building blocks: comparisons and arithmetic on the values (copies of the weights by clone or
    # deepcopy, state_dict and load_state_dict are plumbing); the trainer's EarlyStop callback ... are refused
    allow=("arithmetic", "max", "min"), compare=_stopper_compare, match=BEST, vary=("patience", "min_delta", "mode"),
    points=3,
    error_hints=[
        ErrorHint(r"Missing key\(s\) in state_dict",
                  "the copy you kept lacks entries of the model's state_dict (the model is the same one, so this "
                  "is no other architecture, and strict=False would only hide it): a model's state holds "
                  "buffers, such as batch norm's running statistics, besides its parameters",
                  "copy every tensor of model.state_dict(), not only the parameters, and load that copy"),
        ErrorHint(r"expected a dict-like state_dict, got NoneType",
                  "restore found no kept copy (None). Either none was made: the weights are copied when the value "
                  "improves, and the first epoch is an improvement like any other (over a starting best of +inf, or "
                  "-inf), so by the time restore runs a copy exists; or restore threw it away after loading it, and "
                  "was called again (training may go on from the best weights and restore them later): keep the copy",
                  "start self.best at +inf (mode 'min') or -inf (mode 'max') and copy the weights in the "
                  "improvement branch, the first epoch included; restore loads the copy and keeps it"),
    ],
    mistakes=[
        mistake(_stopper_with(  # the first epoch's weights are not copied (it is the first improvement)
                    copy=lambda self, model: _Stopper.copy(self, model) if self.epoch > 1 else None,
                    restore=lambda self, model: None if self.saved is None else _Stopper.restore(self, model)),
                "the first epoch is an improvement like any other (over the starting best: +inf for a loss, -inf "
                "for an accuracy), so its weights must be copied too. Here the first epoch is the best one, and "
                "restore had no copy of it to put back",
                "start self.best at +inf (mode 'min') or -inf (mode 'max'): then the first value goes through "
                "the same improvement branch as every later one, copy included"),
        mistake(_RestoresIntoStepModel,
                "restore(model) must load the best weights into the model it receives: here it is a model built "
                "afresh to receive them, not the one step saw, and yours still holds its own weights",
                "use restore's argument, not a model kept from step"),
        mistake(_ParametersOnly,
                "the parameters came back, the buffers did not: a model's state also holds buffers (batch norm's "
                "running mean and variance), which change during training like the weights. Keep and restore the "
                "whole state_dict()",
                "model.state_dict() holds parameters and buffers alike: keep a copy of all of it (section 4 says "
                "why a copy), and restore all of it"),
        mistake(_stopper_with(starting_best=lambda self: math.inf),
                "in mode 'max' larger is better, so the best must start at -inf: nothing is larger than +inf, "
                "and with +inf as the starting best no accuracy ever counts as an improvement",
                "set the starting best from mode: +inf for 'min', -inf for 'max'"),
        mistake(_stopper_with(starting_best=lambda self: math.inf if self.mode == "min" else 0.0),
                "in mode 'max' the best must start at -inf, not 0: a score can be negative (a log-likelihood, a "
                "negated loss), and the first value must always count as an improvement",
                "start at -math.inf for mode 'max'"),
        mistake(_NegatedBest,
                "your decisions are right, but in mode 'max' self.best holds the negated value: self.best is "
                "read by the training loop (and printed, and plotted) as the best accuracy itself",
                "keep the value as it was given in self.best; turn only the comparison around for mode 'max'"),
        mistake(_stopper_with(diverged=lambda self, value: math.isnan(value)),
                "an infinite value means the training diverged too, like NaN: step should return True at once "
                "(an inf loss is no epoch without improvement, and -inf is no improvement)",
                "one test tells a finite number from nan, inf and -inf alike: the exercise text lists it among "
                "the useful functions"),
        mistake(_stopper_with(copy=lambda self, model: {k: tensor(v.tolist()) for k, v in model.state_dict().items()}),
                "this case's model is float64, and the weights restore put back lost their last digits: your copy "
                "is float32 (a .float(), a tensor made from v.tolist() or a number, which gets the default "
                "float32, or a numpy float32 array), and load_state_dict turns it back into float64 without the "
                "digits float32 dropped. A copy keeps each tensor's dtype",
                "copy each tensor of model.state_dict() with .clone() (or copy.deepcopy the whole dict): a clone "
                "has the dtype, and the values, of the tensor it copies"),
        mistake(_stopper_with(copy=lambda self, model: model.state_dict()),
                "your kept copy of the best weights is no copy: it shares memory with the model's live weights "
                "(model.state_dict() holds the model's own tensors, detached but sharing their memory, and so "
                "do dict(model.state_dict()), v.detach() and v.numpy()). The optimizer changes those in place, "
                "so your 'copy' changed with every later epoch, and restore put back the LAST epoch's weights. "
                "A copy has memory of its own: clone each tensor (or copy.deepcopy the whole dict)",
                "whenever the value improves, put a .clone() of each tensor of model.state_dict() into a new dict "
                "on self; restore loads that dict into the model it receives with load_state_dict"),
        mistake(_RestoreShares,
                "the first restore gave the best weights, the second did not: restore must load the kept copy "
                "each time it is called (not only step, at the stop), and the copy must stay separate. A model "
                "that shares its memory with the copy (given another tensor's storage: p.data = ...) changes the "
                "copy as training goes on. Restoring copies the kept numbers into the model's own tensors",
                "section 4 and the exercise text say how restore loads the copy, in place, as load_state_dict "
                "does: it copies numbers and shares no memory"),
        mistake(_CopiesEveryEpoch,
                "your copy of the weights is taken at every epoch, so the copy restore brought back is the LAST "
                "epoch's, not the best one's: the best weights are kept only when the value improves, and left "
                "alone at the epochs without improvement",
                "make the copy inside the improvement branch, next to self.best and self.best_epoch"),
        mistake(_stopper_with(restore=lambda self, model: None),
                "after restore(model) the model holds the weights of the LAST epoch it saw, not those of the best "
                "epoch. Training goes on changing the weights after the best epoch, so the best ones exist only if you "
                "keep a copy of them when the value improves, and restore must put that copy back into the model",
                "keep a copy of each tensor (clone it: model.state_dict() shares the model's memory), then load it "
                "into the model that restore receives with load_state_dict (model = ... only rebinds a local name, "
                "and assigning to .data of the tensors that state_dict() returns changes nothing)"),
        mistake(_beats_when(lambda v, than, d: v <= than - d, lambda v, than, d: v >= than + d),
                "a value equal to the best is not an improvement: an improvement must beat the best by MORE than "
                "min_delta, so a plateau of equal values counts as epochs without improvement",
                "use a strict comparison (< for a loss, > for an accuracy)"),
        mistake(_stopper_with(bad_epochs=lambda self, value, improved: self.wait + (not improved)),
                "your loop stopped too early: patience counts the epochs IN A ROW without improvement (an improvement "
                "starts the count again from 0), and step returns True at the p-th of them, not before",
                "set the counter of bad epochs back to 0 whenever the value improves, and compare it with "
                "patience itself"),
        mistake(_stopper_with(bad_epochs=lambda self, value, improved:  # reset by any gain over the best
                              0 if (value < self.best if self.mode == "min" else value > self.best) else self.wait + 1),
                "your count of bad epochs went back to 0 at a value better than the best by less than min_delta. "
                "Such a value is no improvement: it leaves best where it was and counts as a bad epoch, so a "
                "run that creeps down by less than min_delta per epoch still stops",
                "reset the counter in the same branch that updates best: only when the value beats the best by "
                "more than min_delta"),
        mistake(_stopper_with(stops=lambda self: self.wait > 0),
                "your loop stopped at the first epoch without improvement: patience is the number of such epochs IN "
                "A ROW that early stopping waits for, so a noisy validation loss that rises once and then falls "
                "again does not end the run",
                "count the epochs without improvement, and return True only when the count reaches patience"),
        mistake(_stopper_with(stops=lambda self: self.wait > self.patience),
                "your loop stopped one epoch late: with patience=p, step returns True at the p-th epoch in a row "
                "without improvement, not after p + 1 (ReduceLROnPlateau's rule, lesson 05), nor at a fixed count",
                "compare the counter with self.patience (the argument, not a number) using >=, right after counting "
                "this epoch"),
        mistake(_beats_when(lambda v, than, d: v < than - d, lambda v, than, d: v > than),
                "in mode 'max' an improvement must rise above best + min_delta; yours accepts values that do not "
                "clear that margin (min_delta left out, or subtracted, in mode 'max')",
                "for mode 'max' add min_delta to the best, and count a value as an improvement only when it is "
                "larger than that"),
        mistake(_beats_when(lambda v, than, d: v < than + d, lambda v, than, d: v > than - d),
                "min_delta is a margin an improvement must clear: below best - min_delta for a loss (mode "
                "'min'), above best + min_delta for an accuracy (mode 'max'). Yours accepts values that do not "
                "clear it: better than the best by less than min_delta, or even up to min_delta WORSE than it",
                "for mode 'min' subtract min_delta from the best; for mode 'max' add it"),
        recognised(_best_follows_every_better_value,
                   "only an improvement (by more than min_delta) changes self.best: a value a little better than the "
                   "best, but not by min_delta, counts as no improvement and leaves best where it was",
                   "update best, best_epoch and the copy of the weights together, in the branch of a real improvement"),
        mistake(_stopper_with(diverged=lambda self, value: False),
                "a NaN (or inf) value means the training diverged: step should return True at once. Every "
                "comparison with NaN is False, so yours counted it as one more epoch without improvement",
                "look for a diverged value first, before any comparison with the best (every comparison with "
                "NaN is False); the exercise text lists a function that tells finite numbers from the rest"),
        mistake(_stopper_with(first_epoch=1),
                "epochs count from 0 here: the first call of step is epoch 0, as range(epochs) counts them",
                "keep a counter of step calls that starts at 0 and store its value before increasing it"),
        mistake(_ignoring("mode", "min"),
                "mode='max' means larger is better (an accuracy): yours treats every value as a loss. Use the "
                "argument mode, for the starting best value and for the comparison",
                "for mode 'max' the best starts at -inf and an improvement is a value above best + min_delta"),
        mistake(_beats_when(lambda v, than, d: v < than - d, lambda v, than, d: v < than - d),
                "in mode 'max' larger is better: your starting best is right (-inf), but your comparison is a "
                "loss's (a value below the best), so no accuracy ever beats -inf and every epoch counts as one "
                "without improvement. The comparison must follow mode too",
                "for mode 'max' an improvement is a value above best + min_delta"),
        mistake(_SharedCopy,
                "two EarlyStopping objects, one per model, overwrote each other's kept weights: your copy lives "
                "in one place shared by every instance (an attribute of the class changed in place, a variable "
                "of the module, or a file with a fixed name). Each stopper needs its own copy",
                "create the container of the kept weights in __init__, as an attribute of self (or assign a "
                "new dict to self when you keep a copy)"),
        mistake(_stopper_with(starting_best=lambda self: 1e9 if self.mode == "min" else -1e9),
                "your starting best is a large number, not infinity: here every loss is larger than it (an "
                "untrained model's loss can be 1e12), so no epoch counted as an improvement. Only infinity is "
                "beaten by every finite value",
                "start self.best at math.inf for mode 'min' and -math.inf for mode 'max'"),
        mistake(_beats_when(lambda v, than, d: v < than * (1 - d), lambda v, than, d: v > than * (1 + d)),
                "min_delta is a margin in the units of the value itself: an improvement must beat the best by "
                "more than min_delta (below best - min_delta for a loss, above best + min_delta for an "
                "accuracy), whatever the size of the best; yours scales it with the best, as a fraction",
                "subtract min_delta from the best (or add it, for mode 'max'); do not multiply"),
        mistake(_ignoring("min_delta", 0.0),
                "your class ignores min_delta: an improvement must beat the best by more than min_delta, so "
                "tiny improvements count as none",
                "use self.min_delta in the comparison with the best"),
        mistake(_stopper_with(improved=_beats_previous), *COMPARES_WITH_PREVIOUS),
        mistake(_stopper_with(bad_epochs=lambda self, value, improved:  # reset by a gain over the previous value
                              0 if _beats_previous(self, value) else self.wait + 1), *COMPARES_WITH_PREVIOUS),
        mistake(_beats_when(lambda v, than, d: abs(v - than) > d, lambda v, than, d: abs(v - than) > d),
                "your loop counts a change in EITHER direction as an improvement (as |value - best| > min_delta "
                "does): a value worse than the best by more than min_delta becomes the new best and starts the count "
                "again, so the loop never stops while the values keep moving. An improvement has a direction: below "
                "best - min_delta for a loss (mode 'min'), above best + min_delta for an accuracy (mode 'max')",
                "drop the abs: compare the value with best - min_delta in mode 'min', best + min_delta in 'max'"),
        mistake(_ignoring("patience", 5),
                "your class ignores the patience it is given: use the argument patience, not a fixed number"),
    ],
)


# -------------------------------------------------------------------- 07.save_run and 07.resume_run
@dataclass
class RunSpec:
    """A small training run: what the checks of save_run and resume_run train, interrupt and resume."""
    seed: int = 0
    epochs: int = 6
    stop_at: int = 2          # the epoch after which the run is saved (and "crashes")
    optimizer: str = "adam"
    scheduler: str = "step"
    dropout: float = 0.2
    batch_size: int = 8
    n: int = 32
    shuffle_seed: int = 7     # the seed of the loader's own generator (the same in the "new process")
    batchnorm: bool = False   # a BatchNorm1d after the first Linear: buffers in state_dict(), not in parameters()
    dtype: str = "float32"    # "float64": the model and the data in float64 (issue 32: the checkpoint keeps dtypes)

    def __repr__(self):
        model = ", a model with BatchNorm1d" if self.batchnorm else ""
        model += ", a float64 model and data" if self.dtype == "float64" else ""
        return (f"a run of {self.epochs} epochs with {OPTIMIZERS[self.optimizer][0]} and "
                f"{SCHEDULERS[self.scheduler][0]}{model}, saved after epoch {self.stop_at}")


OPTIMIZERS = {
    "adam": ("Adam(lr=0.01)", lambda p: optim.Adam(p, lr=0.01)),
    "sgd": ("SGD(lr=0.1, momentum=0.9, nesterov=True)", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "adamw": ("AdamW(lr=0.01, weight_decay=0.05)", lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.05)),
    "rmsprop": ("RMSprop(lr=0.005)", lambda p: optim.RMSprop(p, lr=0.005)),
}
SCHEDULERS = {
    "step": ("StepLR(step_size=2, gamma=0.5)", lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "exponential": ("ExponentialLR(gamma=0.8)", lambda o: lr_scheduler.ExponentialLR(o, gamma=0.8)),
    "cosine": ("CosineAnnealingLR(T_max=5)", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5)),
    "multistep": ("MultiStepLR(milestones=[1, 3])", lambda o: lr_scheduler.MultiStepLR(o, [1, 3], gamma=0.3)),
    "plateau": ("ReduceLROnPlateau(patience=0)", lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5)),
}


def build_run(spec):
    """A fresh model, optimizer, scheduler and data loader for ``spec`` (the weights come from the global RNG)."""
    norm = [nn.BatchNorm1d(12)] if spec.batchnorm else []
    model = nn.Sequential(nn.Linear(2, 12), *norm, nn.ReLU(), nn.Dropout(spec.dropout), nn.Linear(12, 2))
    X, y = two_moons(spec.n, noise=0.2, seed=spec.seed)  # its own generator: the global RNG is not used
    if spec.dtype == "float64":
        model, X = model.double(), X.double()
    optimizer = OPTIMIZERS[spec.optimizer][1](model.parameters())
    scheduler = SCHEDULERS[spec.scheduler][1](optimizer)
    generator = Generator().manual_seed(spec.shuffle_seed)  # the shuffling draws from it, not from the global one
    loader = DataLoader(TensorDataset(X, y), batch_size=spec.batch_size, shuffle=True, generator=generator)
    return model, optimizer, scheduler, loader


def shuffler(loader):
    """The generator ``loader`` shuffles with: its sampler's (``loader.generator`` is the same object, unless
    something assigned another one to it afterwards, which changes nothing in the shuffling)."""
    return loader.sampler.generator


def train_epoch(model, optimizer, scheduler, loader):
    """One epoch: shuffled mini-batches, dropout on; then the scheduler steps (with the epoch's loss for a plateau
    scheduler). Returns the last batch's loss, a tensor still attached to its graph."""
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        loss = nn.functional.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total, count = total + loss.item() * len(yb), count + len(yb)
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        scheduler.step(total / count)
    else:
        scheduler.step()
    return loss


def _snapshot(value):
    """A deep copy of a state (tensors become numpy arrays), to compare with what a file holds."""
    if isinstance(value, Tensor):
        return value.detach().numpy().copy()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_snapshot(v) for v in value]
    return value


ROUNDED = 0.5  # a resume_run flag: the piece was put back, but its float64 tensors rounded to float32 on the way


def state_match(a, b):
    """How two states (nested dicts, lists, tuples, tensors, arrays, numbers) compare: 1 when equal bit for bit;
    ROUNDED when ``a`` differs only in that some of b's float64 arrays hold in it their values rounded to float32
    (in either dtype): a state put back after a .float() (issue 32); else 0."""
    a, b = _snapshot(a), _snapshot(b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
            return 0
        if a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            return 1
        return ROUNDED * bool(b.dtype == np.float64 and a.dtype.kind == "f" and not np.array_equal(a, b, equal_nan=True)
                              and np.array_equal(a, b.astype(np.float32).astype(np.float64), equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return min((state_match(a[k], b[k]) for k in a), default=1)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return min((state_match(x, y) for x, y in zip(a, b)), default=1)
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return 0
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return 1
    try:
        return int(bool(a == b))
    except Exception:  # noqa: BLE001
        return 0


def same_state(a, b):
    """Whether two states are equal, bit for bit."""
    return state_match(a, b) == 1


def run_state(model, optimizer, scheduler, loader):
    """The pieces of a run's state that a checkpoint holds, in ORDER."""
    return {"model": model.state_dict(), "scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict(),
            "rng_state": get_rng_state(), "loader_rng_state": shuffler(loader).get_state()}


def train_until_saved(spec, save_fn, path):
    """Train ``spec`` up to and including epoch ``stop_at``, then call ``save_fn(path, model, optimizer, scheduler,
    loader=, epoch=, loss=)``. Returns the state at the save (snapshots), with "changed": the pieces (and "mode")
    that save_fn changed."""
    manual_seed(spec.seed)
    model, optimizer, scheduler, loader = build_run(spec)
    for _ in range(spec.stop_at + 1):
        loss = train_epoch(model, optimizer, scheduler, loader)
    at_save, training = _snapshot(run_state(model, optimizer, scheduler, loader)), model.training
    grads = _grads(model)
    save_fn(path, model, optimizer, scheduler, loader=loader, epoch=spec.stop_at, loss=loss)
    at_save["changed"] = ([key for key, now in run_state(model, optimizer, scheduler, loader).items()
                           if not same_state(now, at_save[key])] + ["mode"] * (model.training != training)
                          + ["grads"] * (not _same_grads(_grads(model), grads)))
    return at_save


def _grads(model):
    return [None if p.grad is None else p.grad.detach().numpy().copy() for p in model.parameters()]


def _same_grads(a, b):
    return all((x is None) == (y is None) and (x is None or np.array_equal(x, y, equal_nan=True)) for x, y in zip(a, b))


_CHANGED = {
    "model": "the model's state (its weights or buffers)",
    "optimizer": "the optimizer's state",
    "scheduler": "the scheduler's state (did it step?)",
    "rng_state": "the state of the global random generator (it drew from it or reseeded it)",
    "loader_rng_state": "the state of the loader's generator (iterating the loader, even to look at one batch, draws "
                        "the next epoch's order from it)",
    "mode": "the model's mode (train/eval)",
    "grads": "the parameters' gradients (a zero_grad() or a backward pass in it: a run that adds up gradients over "
             "several batches before it steps would lose them)",
}


def fresh_process(spec):
    """What a new process has before resuming: the same kind of run, built from other random numbers, and a
    global generator somewhere else; the loader's generator is seeded as in the first process (the same code
    builds it), so without its saved state it would shuffle the next epoch as the first."""
    manual_seed(spec.seed + 1000)
    model, optimizer, scheduler, loader = build_run(spec)
    manual_seed(spec.seed + 2000)
    return model, optimizer, scheduler, loader


def finish(spec, model, optimizer, scheduler, loader, start):
    """Train from epoch ``start`` to the end; the final weights (float64)."""
    for _ in range(int(start), spec.epochs):
        train_epoch(model, optimizer, scheduler, loader)
    return np.concatenate([p.detach().numpy().astype(np.float64).ravel() for p in model.parameters()])


def uninterrupted(spec):
    """The final weights of ``spec`` trained in one go: what a resumed run must reproduce bit for bit."""
    with global_rng_kept():
        manual_seed(spec.seed)
        model, optimizer, scheduler, loader = build_run(spec)
        return finish(spec, model, optimizer, scheduler, loader, 0)


def save_run_reference(path, model, optimizer, scheduler, loader, epoch, loss):
    """The library's ``save_checkpoint``: model, optimizer and scheduler state, the epoch, the global RNG state,
    the state of the loader's generator, and the loss as a number (``loss.item()``, not the tensor, which is
    attached to its graph)."""
    save_checkpoint(path, model, optimizer, scheduler, epoch=epoch, loader=loader, loss=float(loss.item()))


def resume_run_reference(path, model, optimizer, scheduler, loader):
    """The library's ``load_checkpoint`` (model, optimizer, scheduler, the global RNG state and the loader's
    generator's); the checkpoint was written after its epoch ended, so the run goes on at the next one:
    ``epoch + 1``."""
    return load_checkpoint(path, model, optimizer, scheduler, loader=loader)["epoch"] + 1


KEYS = ("model", "optimizer", "scheduler", "rng_state", "loader_rng_state")
# the order in which the checks name a wrong piece: the scheduler before the optimizer (a scheduler's step changes
# the optimizer's lr too)
ORDER = ("model", "scheduler", "optimizer", "rng_state", "loader_rng_state")
EXACT = Within(0.0, 0.0)  # a resumed run equals the uninterrupted one bit for bit


def drive_save(save_fn, args, kwargs):
    """Train a run, save it with the learner's ``save_fn`` after epoch ``stop_at``, read the file, resume from it
    with the library and train to the end. Run: [one 0/1 per KEYS entry (equal to the state at the save), the
    epoch, 1 when the loss is a number, the loss, then the final weights]."""
    spec = args[0]
    with global_rng_kept(), tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.ckpt")
        at_save = train_until_saved(spec, save_fn, path)
        if not os.path.exists(path):
            return Run.failed(f"your save_run wrote no file at the path it was given ({os.path.basename(path)!r}); "
                              "write the checkpoint there with tl.save")
        try:
            saved = load(path)
        except Exception as exc:  # noqa: BLE001  (torch.save, pickle, a text file ...)
            # (the check's temporary folder named by its file name alone: the message is the same on every run)
            error = str(exc).replace(path, os.path.basename(path))
            return Run.failed(f"the file your save_run wrote cannot be read with tl.load: {error}")
        if not isinstance(saved, dict):
            return Run.failed(f"your checkpoint file holds {an(type(saved).__name__)}; save one dict, with the "
                              "entries the exercise lists")
        if at_save["changed"]:  # the saved entries then differ from the run's state for that reason alone: no hint
            return Run.failed(f"your save_run changed {_CHANGED[at_save['changed'][0]]}. Saving only reads the run: "
                              "the run goes on after the save as if nothing happened, so a run that saves every "
                              "epoch must give the same numbers as one that never saves")
        for key in ("rng_state", "loader_rng_state"):  # (set_rng_state and set_state take that tensor alone)
            state = saved.get(key)
            if (isinstance(state, tuple) and state[:1] == ("MT19937",)) or getattr(state, "dtype", None) == np.uint32:
                return Run.failed(f"the checkpoint's {key!r} is numpy's random state (np.random.get_state()), a "
                                  "generator this run never draws from: the shuffling (and dropout) draw from "
                                  "tinygrad_lite's generators. Save tl.get_rng_state() and the loader's "
                                  "generator.get_state(), each a uint8 tensor")
            if isinstance(state, (np.ndarray, list, tuple)):  # (the numbers of a state, in a container)
                return Run.failed(f"the checkpoint's {key!r} is {an(type_name(saved[key]))}, not the uint8 tensor that "
                                  "get_rng_state() and a generator's get_state() return: a resume hands it to "
                                  "set_rng_state (or set_state), which takes only that tensor. Save the state as it "
                                  "comes, without .numpy() or .tolist()")
        flags = [float(key in saved and same_state(saved[key], at_save[key])) for key in KEYS]
        epoch, problem = saved.get("epoch"), None
        if flags[0] and not all(isinstance(v, Tensor) for v in saved["model"].values()):
            problem = ("the checkpoint's 'model' entry holds other things than tensors (numpy arrays?): store "
                       "model.state_dict() as it is, the dict of tensors that load_state_dict takes")
        if isinstance(epoch, float):
            problem = (f"the checkpoint's 'epoch' is a float ({epoch!r}); store the epoch as the int it was "
                       "given: the resumed loop runs range(start, epochs), which takes ints only")
        elif "epoch" in saved and (isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer))):
            shown = repr(epoch) if len(repr(epoch)) <= 40 else "..."
            problem = (f"the checkpoint's 'epoch' is {an(type(epoch).__name__)} ({shown}); store the epoch as the "
                       "int it was given: the resume adds 1 to it, and the loop runs range(start, epochs)")
        loss = saved.get("loss")
        loss_is_number = isinstance(loss, (int, float)) and not isinstance(loss, bool)
        numbers = flags + [float(epoch) if isinstance(epoch, (int, float)) else math.nan, float(loss_is_number),
                           float(loss) if loss_is_number or isinstance(loss, Tensor) and loss.numel() == 1
                           else math.nan]
        model, optimizer, scheduler, loader = fresh_process(spec)  # resumed with the entries that are right
        put_back = {"model": model.load_state_dict, "optimizer": optimizer.load_state_dict,  # (a wrong one is
                    "scheduler": scheduler.load_state_dict, "rng_state": set_rng_state,  # left out, as if missing)
                    "loader_rng_state": shuffler(loader).set_state}
        for flag, key in zip(flags, KEYS):
            if flag:
                put_back[key](saved[key])
        start = int(epoch) + 1 if isinstance(epoch, (int, float)) and not math.isnan(epoch) else 0
        return Run.of(numbers + list(finish(spec, model, optimizer, scheduler, loader, max(0, start))), problem)


def _counting_passes(loader_class):
    """A subclass of the loader's class that counts the passes over it (``iter(loader)``) in ``_passes``."""
    class Counted(loader_class):
        def __iter__(self):
            self.__dict__["_passes"] = self.__dict__.get("_passes", 0) + 1
            return super().__iter__()
    return Counted


def drive_resume(resume_fn, args, kwargs):
    """Train a run, save it after epoch ``stop_at`` with the library, then in a "fresh process" call the learner's
    ``resume_fn(path, model, optimizer, scheduler, loader)`` and train from the epoch it returns to the end.
    Run: [start, then one 0/1 per loaded piece (KEYS: model, optimizer, scheduler, the global RNG, the loader's
    generator), then the final weights]."""
    spec = args[0]
    with global_rng_kept(), tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.ckpt")
        train_until_saved(spec, save_run_reference, path)
        saved = load(path)
        model, optimizer, scheduler, loader = fresh_process(spec)
        held = list(model.parameters())
        built, loader.__class__ = loader.__class__, _counting_passes(loader.__class__)
        try:
            start = resume_fn(path, model, optimizer, scheduler, loader=loader, **kwargs)
        finally:
            passes, loader.__class__ = loader.__dict__.pop("_passes", 0), built
        now = list(model.parameters())
        if len(now) != len(held) or any(a is not b for a, b in zip(held, now)):
            return Run.failed(
                "your resume_run replaced the model's parameters with new tensors (new Parameter objects, put in with "
                "setattr or model.weight = ...), instead of loading the saved values into the tensors the model "
                "already has. The optimizer was built for the model and holds those tensors: the resumed run's steps "
                "would go on updating the old ones, which the model no longer uses. Load the checkpoint's 'model' "
                "entry into the model's own tensors, in place (load_state_dict does)")
        if not all(m.training for m in model.modules()):
            return Run.failed(
                "your resume_run left the model (or a layer of it) in eval mode: the run goes on training, and the "
                "model was in training mode when it was saved, as a new one is. model.eval() is for predicting with "
                "a loaded model, not for resuming its training: a loop that sets the mode once, at its start, would "
                "go on with dropout off. Leave the mode as it is")
        shown = repr(start) if len(repr(start)) <= 60 else an(type(start).__name__)
        if isinstance(start, Tensor):
            return Run.failed(f"your resume_run returned a tensor, {shown}; it must return the epoch to start "
                              "from as a Python int, as the checkpoint holds the epoch: the training loop runs "
                              "range(start, epochs), and the epoch is printed, compared and saved again as a "
                              "plain number, not as a tensor")
        if not isinstance(start, (int, np.integer)) or isinstance(start, bool):
            return Run.failed(f"your resume_run returned {shown}; it must return the epoch to start from, an int "
                              "(the training loop then runs range(start, epochs))")
        now = run_state(model, optimizer, scheduler, loader)  # only the optimizer's piece is flagged ROUNDED
        flags = [float((state_match if key == "optimizer" else same_state)(now[key], saved[key])) for key in KEYS]
        if passes and all(flags):  # (a pass that moved the state away from the saved one: the rows below say so)
            return Run.failed(
                f"your resume_run went through the loader ({passes} pass{'es' if passes > 1 else ''}): each pass "
                "draws an epoch's order from the loader's generator. Replaying epochs reaches the saved state only "
                "when every epoch drew exactly one order from it and nothing else drew from it, and costs a pass "
                "over the data per epoch. Put the saved state into loader.generator with set_state instead, and "
                "take no batch from the loader")
        problem = None
        if loader.generator is not shuffler(loader):
            problem = ("after your resume_run, loader.generator is not the generator the loader shuffles with (its "
                       "sampler's, loader.sampler.generator): a new Generator was assigned to one of them. The "
                       "shuffling draws from the sampler's, and the next save reads loader.generator: both must be one "
                       "and the same Generator. Put the saved state into the loader's own with set_state")
        weights = (finish(spec, model, optimizer, scheduler, loader, start) if 0 <= start <= spec.epochs
                   else [math.nan] * len(uninterrupted(spec)))
        return Run.of([float(start)] + flags + list(weights), problem)


_PIECES = {
    "model": "the model's whole state_dict() with its buffers, each tensor in its own dtype",
    "optimizer": "the optimizer's state (Adam's moment estimates and step count, SGD's momentum buffers, and "
                "the learning rates in its param_groups)",
    "scheduler": "the scheduler's state (how many epochs it has counted)",
    "rng_state": "the state of the global random generator (tl.get_rng_state())",
    "loader_rng_state": "the state of the loader's own random generator, the one its shuffling draws from",
}


def _weights_text(g, e):
    diff = np.abs(g - e)
    worst = float(np.nanmax(diff)) if np.isfinite(diff).any() else math.nan
    return (f"the resumed run ends with weights that differ from the uninterrupted run's (largest difference "
            f"{worst:.3g}; {int(np.sum(g != e))} of {e.size} numbers differ). A complete resume gives exactly the "
            "same numbers, bit for bit")


def _first_wrong_piece(g, offset):
    """(the first piece of ORDER whose flag in the Run ``g``, KEYS' flags from position ``offset``, is not 1: not
    saved, or not put back, as it was; its flag), or None when every piece is right."""
    flags = dict(zip(KEYS, g[offset:offset + len(KEYS)]))
    return next(((key, flags[key]) for key in ORDER if flags[key] != 1), None)


def _save_compare(got, expected, case):
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    spec = case.args[0]
    if wrong := _first_wrong_piece(g, 0):
        return (f"the checkpoint's {wrong[0]!r} entry is missing or is not {_PIECES[wrong[0]]} at the moment of the "
                f"save ({spec!r})")
    if math.isnan(g[5]):
        return f"the checkpoint has no 'epoch' entry; the run was saved right after epoch {e[5]:g} ended"
    if g[5] != e[5]:
        return f"the checkpoint's 'epoch' is {g[5]:g}; the run was saved right after epoch {e[5]:g} ended"
    if g[6] != 1:
        return ("the checkpoint's 'loss' entry is missing or is not a plain Python number (a float), the loss of "
                "the last batch")
    if g[7] != e[7]:
        return f"the checkpoint's 'loss' is {g[7]:g}; the loss you were given is {e[7]:g}"
    return _weights_text(g[8:], e[8:]) if not np.array_equal(g[8:], e[8:]) else None


def _resume_compare(got, expected, case):
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    spec = case.args[0]
    if g[0] != e[0]:
        return (f"{spec!r}: your resume_run returned {g[0]:g}; the run must go on at epoch {e[0]:g}")
    wrong = _first_wrong_piece(g, 1)
    if wrong and wrong[1] == ROUNDED:
        return (f"{spec!r}: after your resume_run, the optimizer holds the checkpoint's {wrong[0]!r} entry rounded "
                "to float32: its float64 tensors lost their last digits on the way")
    if wrong:
        return (f"{spec!r}: after your resume_run, the checkpoint's {wrong[0]!r} entry was not put back "
                f"({_PIECES[wrong[0]]}), or it was changed afterwards")
    return _weights_text(g[6:], e[6:]) if not np.array_equal(g[6:], e[6:]) else None


def run_cases(rng):
    seed = int(rng.integers(1, 1000))
    return [
        Case((RunSpec(),), visible=True),
        Case((RunSpec(seed=seed, epochs=5, stop_at=0, optimizer="sgd", scheduler="exponential",
                      shuffle_seed=seed + 10),), "interrupted after the first epoch"),
        Case((RunSpec(seed=seed + 1, epochs=7, stop_at=4, optimizer="adamw", scheduler="cosine", dropout=0.0,
                      shuffle_seed=seed + 11),),
             "no dropout: the global generator draws nothing, only the loader's generator shuffles"),
        Case((RunSpec(seed=seed + 2, epochs=5, stop_at=1, optimizer="rmsprop", scheduler="multistep",
                      batch_size=6, shuffle_seed=seed + 12),), "batches of 6: the last one is smaller"),
        Case((RunSpec(seed=seed + 3, epochs=6, stop_at=2, optimizer="adam", scheduler="plateau", dropout=0.3,
                      shuffle_seed=seed + 13),), "ReduceLROnPlateau, stepped with the epoch's loss"),
        Case((RunSpec(seed=seed + 4, epochs=5, stop_at=3, optimizer="sgd", scheduler="step",
                      shuffle_seed=seed + 14),), "interrupted before the last epoch"),
        # issue 32: a float64 run: the checkpoint holds each tensor as it is, its dtype too (a float32 copy of the
        # weights resumes a run that no longer equals the uninterrupted one)
        Case((RunSpec(seed=seed + 6, epochs=4, stop_at=1, optimizer="sgd", scheduler="step", dtype="float64",
                      shuffle_seed=seed + 16),), "a float64 model and data"),
        Case((RunSpec(seed=seed + 5, epochs=5, stop_at=2, optimizer="adam", scheduler="step", batchnorm=True,
                      shuffle_seed=seed + 15),),
             "a model with batch norm: its state_dict() holds buffers (the running statistics) besides the parameters"),
    ]


def _save_changing(entry, value):
    """A wrong save_run, as learners write them (PyTorch tutorials save some of these pieces only): the right
    checkpoint with ``entry`` replaced by ``value(model, epoch, loss)``."""
    def wrong(path, model, optimizer, scheduler, loader, epoch, loss):
        save({**run_state(model, optimizer, scheduler, loader), "epoch": epoch, "loss": loss.item(),
              entry: value(model, epoch, loss)}, path)
    return wrong


def _resume_changing(load_model=lambda model, saved: model.load_state_dict(saved), next_epoch=1):
    """A wrong resume_run: the right one, but the saved weights go into the model by ``load_model(model, saved)``
    and it returns the saved epoch + ``next_epoch``."""
    def wrong(path, model, optimizer, scheduler, loader):
        checkpoint = load(path)
        load_model(model, checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        set_rng_state(checkpoint["rng_state"])
        loader.generator.set_state(checkpoint["loader_rng_state"])
        return checkpoint["epoch"] + next_epoch
    return wrong


def _piece_wrong(piece, offset, hint, more, rounded=False):
    """A mistake row: ``piece`` is the first (in ORDER) whose flag in the Run (from position ``offset``) says it
    was not saved (put back) as it was; for resume_run (``offset`` 1) the returned epoch must be right too.
    Whatever the wrong entry holds instead, the hint is the piece's; with ``rounded``, only a piece put back
    rounded to float32 (flag ROUNDED), otherwise only one that was not."""
    def match(got, expected, case):
        g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if g.shape != e.shape or (offset and g[0] != e[0]):
            return False
        wrong = _first_wrong_piece(g, offset)
        return wrong is not None and wrong[0] == piece and (wrong[1] == ROUNDED) == rounded
    return recognised(match, hint, more)


BUFFERS = ("the model's buffers besides its parameters: here batch norm's running_mean, running_var and "
           "num_batches_tracked, which eval mode normalises with. Without them the resumed model's running statistics "
           "start again from their initial values")
OPTIMIZER_STATE = (
    "the optimizer has state of its own, besides the learning rate: Adam's moment estimates and step count, SGD's "
    "momentum buffers. A resumed run without it starts those from zero (Adam's next steps are then bias-corrected as "
    "if training had just begun), and drifts away from the uninterrupted run",
    "section 5's table says where an optimizer keeps this state; it is saved, and put back, the same way as the "
    "model's weights")
RNG_STATE = (
    "the global random generator draws the dropout masks (and would shuffle a loader that has no generator of its "
    "own): a resumed run must go on drawing the numbers the uninterrupted run would have drawn, so its state is part "
    "of the checkpoint",
    "section 5's table says which function reads the global generator's state; the library has a counterpart that puts "
    "a state back, and the exercise text names the one this half needs")


driven(
    "07.save_run", save_run_reference, run_cases, drive_save, unread="your checkpoint",
    forbid=(save_checkpoint,),  # it does this exercise's work (drive_save never calls it itself)
    # the text's building blocks: state_dict() (the optimizer's and the scheduler's are theirs: "optimizer",
    # "lr_scheduler"), tl.save, tl.get_rng_state and the generator's get_state (plumbing); the trainer's Checkpoint
    # callback, load_checkpoint ... are refused
    allow=("arithmetic", "optimizer", "lr_scheduler"), compare=_save_compare, match=EXACT, points=2,
    mistakes=[
        mistake(_save_changing("model", lambda m, epoch, loss: {k: v.detach() for k, v in m.named_parameters()}),
                "you saved the parameters only (named_parameters()): model.state_dict() holds " + BUFFERS,
                "save model.state_dict() itself as the 'model' entry"),
        mistake(_save_changing("model", lambda m, epoch, loss: {k: v.float() for k, v in m.state_dict().items()}),
                "this run's model is float64, and the checkpoint's 'model' entry holds float32 copies of its weights "
                "(a .float(), or tensors made anew from lists or numbers, which get the default float32): "
                "load_state_dict turns them back into float64 without the digits float32 dropped, and the resumed run "
                "is not the uninterrupted one. A checkpoint holds every tensor as it is, its dtype too",
                "save model.state_dict() itself, with no conversion: tl.save writes each tensor in its own dtype"),
        _piece_wrong("optimizer", 0, *OPTIMIZER_STATE),
        _piece_wrong("scheduler", 0,
                     "the scheduler counts the epochs it has seen: without its state it starts counting from 0 again, "
                     "so the learning rate changes at the wrong epochs instead of going on along its schedule",
                     "scheduler.state_dict() holds its count; load_state_dict puts it back"),
        _piece_wrong("rng_state", 0, *RNG_STATE),
        _piece_wrong("loader_rng_state", 0,
                     "this loader shuffles with a random generator of its own (DataLoader(..., generator=g)), which "
                     "the global generator's state does not cover. The new process builds that generator from its seed "
                     "again, so without its saved state the resumed epochs replay the shuffles of the first epochs: "
                     "its state is part of the checkpoint too",
                     "a generator object has methods of its own for its state (section 5's table), and the exercise "
                     "text's entry for 'loader_rng_state' says where the loader keeps its generator"),
        mistake(_save_changing("loss", lambda m, epoch, loss: loss),
                "store the loss as a number: the loss you are given is a tensor still attached to its graph; "
                "a checkpoint (and a history of losses) keeps numbers, which hold no graph in memory",
                "a one-element tensor's .item() is its Python number"),
        mistake(_save_changing("epoch", lambda m, epoch, loss: epoch + 1),
                "'epoch' is the epoch that has just ended, the one given to save_run; the resume adds 1 to it",
                "store the epoch argument as it is"),
    ],
    error_hints=[
        ErrorHint(r"cannot save a <class '[\w.]*(Sequential|Adam|SGD|AdamW|RMSprop|LR|Plateau)",
                  "save the state of each object (its state_dict()), not the object itself: a file of data can "
                  "be loaded by any code that builds the same model, and never runs code when it is read",
                  "model.state_dict(), optimizer.state_dict() and scheduler.state_dict() are plain dicts of "
                  "tensors and numbers"),
        ErrorHint(r"unexpected keyword argument 'loader'",
                  "save_run is given the data loader too, after the scheduler: (path, model, optimizer, scheduler, "
                  "loader, epoch, loss), the last three by name. Its shuffling draws from a random generator of its "
                  "own, whose state the checkpoint must hold as well"),
    ],
)

driven(
    "07.resume_run", resume_run_reference, run_cases, drive_resume, unread="your run",
    forbid=(load_checkpoint,),  # it does this exercise's work (drive_resume saves with save_checkpoint, allowed)
    # the text's building blocks: tl.load, load_state_dict (ReduceLROnPlateau's is its own: "lr_scheduler"),
    # tl.set_rng_state and the generator's set_state (plumbing); the trainer (its fit resumes from a start_epoch),
    # its callbacks, save_checkpoint ... are refused
    allow=("arithmetic", "optimizer", "lr_scheduler"), compare=_resume_compare, match=EXACT, points=2,
    mistakes=[
        mistake(_resume_changing(next_epoch=0),
                "the checkpoint was written AFTER its epoch ended, so that epoch is done: starting at the saved "
                "epoch trains it a second time (a common tutorial line sets the start epoch to the saved one)",
                "the epoch to go on at is the first one that has not been trained yet"),
        _piece_wrong("optimizer", 1,
                     "the optimizer's state was put back, but rounded: this run is float64, and its state tensors "
                     "(Adam's moment estimates, SGD's momentum buffers) went through float32 on the way (a .float(), "
                     "or tensors made anew from lists or numbers, which get the default float32). load_state_dict "
                     "turns them back into float64 without the digits float32 dropped, and the resumed run drifts away "
                     "from the uninterrupted one: keep each tensor as it was saved",
                     "hand the checkpoint's 'optimizer' entry to optimizer.load_state_dict as it is, with no "
                     "conversion: its tensors are float64 already", rounded=True),
        _piece_wrong("optimizer", 1, *OPTIMIZER_STATE),
        _piece_wrong("scheduler", 1,
                     "the scheduler is not where the saved one was: either its state was not put back (a scheduler "
                     "counts the epochs it has seen, and without its state it starts counting from 0 again) or it was "
                     "changed after loading (one more scheduler.step(), or its count set by hand). Either way the "
                     "learning rate changes at the wrong epochs",
                     "a scheduler's state goes back the same way as the model's and the optimizer's (section 5's "
                     "table); after that, leave the scheduler alone: the training loop steps it at the end of the next "
                     "epoch"),
        _piece_wrong("rng_state", 1, *RNG_STATE),
        _piece_wrong("loader_rng_state", 1,
                     "this loader shuffles with a random generator of its own (DataLoader(..., generator=g)), which "
                     "the global generator's state does not cover: after the resume it must be where the saved one "
                     "was, or the resumed epochs replay the shuffles of the first epochs. Put the saved state into the "
                     "generator object the loader was built with (a new Generator assigned to loader.generator is not "
                     "the one it shuffles with), and do not iterate the loader afterwards: every pass over it draws an "
                     "epoch's order",
                     "the exercise text says which generator object must receive the saved state (the one the loader "
                     "was built with), and section 5's table which method of a generator handles its state"),
        mistake(_resume_changing(lambda model, saved: model.load_state_dict({k: v.float() for k, v in saved.items()})),
                "this run's model is float64, and the weights you put back lost their last digits: they went "
                "through float32 on the way (a .float(), or tensors made anew from lists or numbers, which get the "
                "default float32); load_state_dict turns them back into float64 without the dropped digits",
                "load the checkpoint's 'model' entry as it is, with no conversion: its tensors are float64 already"),
        mistake(_resume_changing(lambda model, saved: model.load_state_dict(
                    {k: v for k, v in saved.items() if k in dict(model.named_parameters())}, strict=False)),
                "you put back the parameters only: the checkpoint's 'model' entry, a "
                "model.state_dict(), holds " + BUFFERS,
                "load the whole of the checkpoint's 'model' entry, with no key left out (strict=False hides "
                "the keys that were not loaded)"),
        _piece_wrong("model", 1, "the fresh model has new random weights: load the saved weights into it",
                     "section 5 shows how saved weights go into a model rebuilt by the same code"),
    ],
    error_hints=[
        ErrorHint(r"file in archive is not in a subdirectory|PytorchStreamReader|invalid load key",
                  "the checkpoint was written with tl.save, this library's format, which torch.load cannot read: "
                  "read it with tl.load (the same way round as torch.save and torch.load)"),
        ErrorHint(r"KeyError: '\w+'",
                  "the checkpoint's entries are named 'model', 'optimizer', 'scheduler', 'epoch', 'rng_state' "
                  "and 'loader_rng_state' (tl.load(path) gives the dict: print its keys)"),
        ErrorHint(r"unexpected keyword argument 'loader'",
                  "resume_run is given the data loader too, after the scheduler, by name: (path, model, optimizer, "
                  "scheduler, loader). Its shuffling draws from a random generator of its own, which must go on "
                  "where it was at the save"),
    ],
)
