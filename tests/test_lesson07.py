"""Lesson 07 (early stopping and checkpointing): the answers learners write for each exercise, and the lesson's
special cases.

``tests/test_lessons.py`` runs the generic tests on the data here: ``SOLUTIONS`` and ``ALSO_RIGHT`` pass; every
row of ``WRONG`` fails, and of ``ERRORS`` is an error, with the texts it lists; every hint tier is reached by a
row. This file adds what is lesson 07's own: the visible cases are the notebook's (``example_losses`` and the run
of section 6), a resume with the library's reference is bit-identical to the uninterrupted run on every case, the
drivers leave the global random generator as they found it, and a PyTorch run resumed from ``torch.save`` /
``torch.load`` is bit-identical too (the same technique, checked against PyTorch).
"""
import copy
import math
import os
import tempfile

import numpy as np
import pytest
import torch
from lesson_helpers import ALLOWS, define, notebooks

import tinygrad_lite as tl
from tinygrad_lite import nn, optim
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.exercises import lesson07 as L
from tinygrad_lite.course.notebooks import meta, read_notebook
from tinygrad_lite.train import load_checkpoint, save_checkpoint

LESSON = "07_early_stopping_and_checkpointing"
SOLUTION, RELEASED = notebooks(LESSON)
NAMES = {"np": np, "tl": tl, "nn": nn, "optim": optim, "math": math}  # what the notebook defines before


# -------------------------------------------------------------------- solutions, as a learner would write them
class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.wait, self.epoch, self.weights = None, 0, 0, None

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if math.isnan(value) or math.isinf(value):
            return True
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            self.wait += 1
        return self.wait >= self.patience

    def restore(self, model):
        model.load_state_dict(self.weights)


def save_run(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch, "rng_state": tl.get_rng_state(),
             "loader_rng_state": loader.generator.get_state(), "loss": loss.item()}, path)


def resume_run(path, model, optimizer, scheduler, loader):
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"] + 1


SOLUTIONS = {"07.EarlyStopping": EarlyStopping, "07.save_run": save_run, "07.resume_run": resume_run}


# -------------------------------------------------------------------- other right answers
class EarlyStoppingDeepcopy(EarlyStopping):
    """Keeps a deep copy of the whole model and copies its weights back."""

    def step(self, value, model):
        before = self.best_epoch
        stop = super().step(value, model)
        if self.best_epoch != before:
            self.best_model = copy.deepcopy(model)
        return stop

    def restore(self, model):
        model.load_state_dict(self.best_model.state_dict())


class EarlyStoppingNumpy(EarlyStopping):
    """Returns numpy bools and keeps numpy copies of the weights."""

    def step(self, value, model):
        stop = super().step(value, model)
        if self.wait == 0 and self.best_epoch == self.epoch - 1:
            self.weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        return np.bool_(stop)


class EarlyStoppingFirstValue:
    """best starts as None; the first finite value is an improvement, copied like every other."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best, self.best_epoch, self.bad_epochs, self.calls, self.kept = None, None, 0, 0, None

    def step(self, value, model):
        epoch, self.calls = self.calls, self.calls + 1
        if value != value or value in (math.inf, -math.inf):
            return True
        if self.best is None:
            better = True
        elif self.mode == "max":
            better = value - self.best > self.min_delta
        else:
            better = self.best - value > self.min_delta
        if not better:
            self.bad_epochs += 1
            return self.bad_epochs >= self.patience
        self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
        self.kept = copy.deepcopy(model.state_dict())
        return False

    def restore(self, model):
        model.load_state_dict(self.kept)


class EarlyStoppingSigned:
    """One comparison for both modes, through a sign; the copy is a dict of detached clones."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.sign = 1.0 if mode == "min" else -1.0
        self.patience, self.min_delta = patience, min_delta
        self.best = self.sign * math.inf
        self.best_epoch, self.counter, self.history, self.snapshot = None, 0, [], None

    def step(self, value, model):
        self.history.append(value)
        if not np.isfinite(value):
            return True
        if self.sign * value < self.sign * self.best - self.min_delta:
            self.best, self.best_epoch, self.counter = value, len(self.history) - 1, 0
            self.snapshot = {name: t.detach().clone() for name, t in model.state_dict().items()}
            return False
        self.counter += 1
        return self.counter >= self.patience

    def restore(self, model):
        for name, t in model.state_dict().items():
            with tl.no_grad():
                t.copy_(self.snapshot[name])


def save_run_clears_the_gradients(path, model, optimizer, scheduler, loader, epoch, loss):
    """A learner's: optimizer.zero_grad() inside save_run (harmless in this loop; a run that adds up gradients over
    several batches before it steps would lose them)."""
    optimizer.zero_grad()
    save_run(path, model, optimizer, scheduler, loader, epoch, loss)


def save_run_dict_call(path, model, optimizer, scheduler, loader, epoch, loss):
    states = {name: obj.state_dict() for name, obj in
              (("model", model), ("optimizer", optimizer), ("scheduler", scheduler))}
    tl.save(dict(states, epoch=epoch, rng_state=tl.get_rng_state(), loader_rng_state=loader.generator.get_state(),
                 loss=float(loss)), path)


def save_run_deep_copies(path, model, optimizer, scheduler, loader, epoch, loss):
    checkpoint = {}
    checkpoint["rng_state"] = tl.get_rng_state()
    checkpoint["loader_rng_state"] = copy.deepcopy(loader.generator.get_state())
    checkpoint["model"] = copy.deepcopy(model.state_dict())
    checkpoint["optimizer"] = copy.deepcopy(optimizer.state_dict())
    checkpoint["scheduler"] = copy.deepcopy(scheduler.state_dict())
    checkpoint["epoch"] = int(epoch)
    checkpoint["loss"] = loss.detach().item()
    tl.save(checkpoint, path)


def resume_run_in_a_loop(path, model, optimizer, scheduler, loader):
    checkpoint = tl.load(path, map_location="cpu")
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    for key, target in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        target.load_state_dict(checkpoint[key])
    return int(checkpoint["epoch"]) + 1


def resume_run_step_by_step(path, model, optimizer, scheduler, loader):
    saved = tl.load(path)
    next_epoch = saved["epoch"] + 1
    scheduler.load_state_dict(saved["scheduler"])
    optimizer.load_state_dict(saved["optimizer"])
    model.load_state_dict(saved["model"], strict=True)
    tl.set_rng_state(saved["rng_state"])
    loader.generator.set_state(saved["loader_rng_state"])
    return next_epoch


# write it yourself: the library's checkpoint helpers do these exercises' work
def save_run_with_library(path, model, optimizer, scheduler, loader, epoch, loss):
    save_checkpoint(path, model, optimizer, scheduler, epoch=epoch, loader=loader, loss=float(loss))


def resume_run_with_library(path, model, optimizer, scheduler, loader):
    return load_checkpoint(path, model, optimizer, scheduler, map_location="cpu", loader=loader)["epoch"] + 1


ALSO_RIGHT = [
    ("07.EarlyStopping", EarlyStoppingDeepcopy),
    ("07.EarlyStopping", EarlyStoppingNumpy),
    ("07.EarlyStopping", EarlyStoppingFirstValue),
    ("07.EarlyStopping", EarlyStoppingSigned),
    ("07.save_run", save_run_dict_call),
    ("07.save_run", save_run_deep_copies),
    ("07.resume_run", resume_run_in_a_loop),
    ("07.resume_run", resume_run_step_by_step),
]


# -------------------------------------------------------------------- wrong versions, as learners write them
def _keeps(name, kept, doc):
    """A stopper that keeps ``kept(model)`` as its best weights, which shares the live weights' memory."""
    def step(self, value, model):
        before = self.best_epoch
        stop = EarlyStopping.step(self, value, model)
        if self.best_epoch != before:
            self.weights = kept(model)
        return stop
    return type(name, (EarlyStopping,), {"step": step, "__doc__": doc})


KeepsStateDict = _keeps("KeepsStateDict", lambda model: model.state_dict(), "No copy: the live weights.")
KeepsDetachedTensors = _keeps(  # the review's (issue 46)
    "KeepsDetachedTensors", lambda model: {k: v.detach() for k, v in model.state_dict().items()},
    "detach() cuts the graph, but shares the live weights' memory.")
KeepsADictOfTheStateDict = _keeps(  # the review's (issue 46)
    "KeepsADictOfTheStateDict", lambda model: dict(model.state_dict()),
    "dict(...) copies the dict, not the tensors in it.")
KeepsNumpyViews = _keeps("KeepsNumpyViews", lambda model: {k: v.numpy() for k, v in model.state_dict().items()},
                         "v.numpy() without .copy(): a view of the live weights.")


class NeverRestores(EarlyStopping):
    def restore(self, model):
        return self.weights  # the best weights are there, but the model never gets them


class RebindsModel(EarlyStoppingDeepcopy):
    def restore(self, model):
        model = self.best_model  # noqa: F841  (rebinding the local name changes nothing outside)


class LessOrEqual(EarlyStopping):
    def step(self, value, model):
        self.min_delta = -1e-12 if self.min_delta == 0 else self.min_delta  # <= for ties
        return super().step(value, model)


class CountsAllBadEpochs(EarlyStopping):
    def step(self, value, model):
        bad_before = getattr(self, "bad", 0)
        super().step(value, model)
        self.bad = bad_before + (self.wait > 0)
        return bool(self.bad >= self.patience) or not math.isfinite(value)


class StopsAfterPatiencePlusOne(EarlyStopping):
    def step(self, value, model):
        super().step(value, model)
        return self.wait > self.patience or not math.isfinite(value)


class StopsOneEpochEarly(EarlyStopping):
    """The review's E6b: the counter is reset on improvement, but compared with patience - 1."""

    def step(self, value, model):
        super().step(value, model)
        return self.wait >= self.patience - 1 or not math.isfinite(value)


class StopsAtTheFirstBadEpoch(EarlyStopping):
    """A learner's: True at the first epoch without improvement, whatever the patience."""

    def step(self, value, model):
        super().step(value, model)
        return self.wait > 0 or not math.isfinite(value)


def resume_steps_the_scheduler_again(path, model, optimizer, scheduler, loader):
    """The review's R9: everything put back, then one scheduler.step() too many."""
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    scheduler.step()
    return checkpoint["epoch"] + 1


def resume_returns_the_checkpoint(path, model, optimizer, scheduler, loader):
    """The review's R6: everything put back, but the checkpoint dict returned instead of the epoch."""
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    return checkpoint


class DeltaOnTheWrongSide(EarlyStopping):
    def step(self, value, model):
        self.min_delta = -abs(self.min_delta)
        return super().step(value, model)


class MaxLeavesOutTheMargin(EarlyStopping):
    """The review's (issue 46): min_delta used in mode "min" only; in mode "max" any larger value improves."""

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if not math.isfinite(value):
            return True
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            self.wait += 1
        return self.wait >= self.patience


class MaxSubtractsTheMargin(EarlyStopping):
    """min_delta subtracted from the best in mode "max" too: the margin on the wrong side."""

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if not math.isfinite(value):
            return True
        if self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best - self.min_delta
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            self.wait += 1
        return self.wait >= self.patience


class MinLeavesOutTheMargin(EarlyStopping):
    """min_delta used in mode "max" only."""

    def step(self, value, model):
        if self.mode == "min":
            self.min_delta, saved = 0.0, self.min_delta
            stop = super().step(value, model)
            self.min_delta = saved
            return stop
        return super().step(value, model)


class NanIsOneMoreBadEpoch(EarlyStopping):
    def step(self, value, model):
        if math.isnan(value):
            self.epoch += 1
            self.wait += 1
            return self.wait >= self.patience
        return super().step(value, model)


class OneBasedEpochs(EarlyStopping):
    def step(self, value, model):
        stop = super().step(value, model)
        if self.wait == 0 and math.isfinite(value):
            self.best_epoch = self.epoch
        return stop


class AlwaysMin(EarlyStopping):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, "min")


class ComparesAsALossInEveryMode(EarlyStopping):
    """The review's: mode sets the starting best, but the comparison ignores it (mode="max" compared as "min")."""

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if not math.isfinite(value):
            return True
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            self.wait += 1
        return self.wait >= self.patience


class NoMinDelta(EarlyStopping):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, 0.0, mode)


class FixedPatience(EarlyStopping):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(5, min_delta, mode)


class ReturnsWait(EarlyStopping):
    def step(self, value, model):
        super().step(value, model)
        return self.wait


class BestFollowsEveryBetterValue(EarlyStopping):
    def step(self, value, model):
        lowest = min(self.best, value) if self.mode == "min" else max(self.best, value)
        stop = super().step(value, model)
        if math.isfinite(value):
            self.best = lowest  # also for a change smaller than min_delta
        return stop


class KeepsItsNumbersElsewhere:
    """Right decisions and restore, but the best value lives inside another object: no self.best."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.inner = EarlyStopping(patience, min_delta, mode)

    def step(self, value, model):
        return self.inner.step(value, model)

    def restore(self, model):
        self.inner.restore(model)


class FirstEpochSetsBest(EarlyStopping):
    """The walk-through's answer (issue 19): the first epoch sets best without copying the weights."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.best = None

    def step(self, value, model):
        if self.best is None and math.isfinite(value):
            self.best, self.best_epoch = value, self.epoch
            self.epoch += 1
            return False
        return super().step(value, model)

    def restore(self, model):
        if self.weights is not None:
            model.load_state_dict(self.weights)


class RestoresTheModelItSaw(EarlyStopping):
    def step(self, value, model):
        self.model = model
        return super().step(value, model)

    def restore(self, model):
        self.model.load_state_dict(self.weights)


class CopiesParametersOnly(EarlyStopping):
    def step(self, value, model):
        before = self.best_epoch
        stop = super().step(value, model)
        if self.best_epoch != before:
            self.weights = [p.detach().clone() for p in model.parameters()]
        return stop

    def restore(self, model):
        with tl.no_grad():
            for p, kept in zip(model.parameters(), self.weights):
                p.copy_(kept)


class MaxStartsAtInf(EarlyStopping):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.best = math.inf


class MaxStartsAtZero(EarlyStopping):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.best = math.inf if mode == "min" else 0.0


class NegatesAccuracies(EarlyStopping):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, "min")
        self.flip = mode == "max"

    def step(self, value, model):
        return super().step(-value if self.flip else value, model)


class ChecksOnlyNan(EarlyStopping):
    def step(self, value, model):
        if math.isnan(value):
            self.epoch += 1
            return True
        if math.isinf(value):  # treated as an ordinary value
            self.min_delta, saved = 0.0, self.min_delta
            better = value < self.best if self.mode == "min" else value > self.best
            self.min_delta = saved
            if not better:
                self.epoch += 1
                self.wait += 1
                return self.wait >= self.patience
        return super().step(value, model)


class ComparesWithThePreviousValue(EarlyStopping):
    """Review 3 of 0607: a value better than the previous epoch's resets the count; best follows real gains."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.previous = self.best

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if not math.isfinite(value):
            return True
        if self.mode == "min":
            better_than_previous = value < self.previous - self.min_delta
        else:
            better_than_previous = value > self.previous + self.min_delta
        self.previous = value
        if better_than_previous:
            if value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta:
                self.best, self.best_epoch = value, epoch
                self.weights = {k: v.clone() for k, v in model.state_dict().items()}
            self.wait = 0
            return False
        self.wait += 1
        return self.wait >= self.patience


class BestIsThePreviousValue(EarlyStopping):
    """The same mistake written the short way: any value better than the previous one is a new best."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.previous = self.best

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if not math.isfinite(value):
            return True
        if self.mode == "min":
            better = value < self.previous - self.min_delta
        else:
            better = value > self.previous + self.min_delta
        self.previous = value
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            self.wait += 1
        return self.wait >= self.patience


class KeepsItsCopyInOneFile(EarlyStopping):
    """Review 3 of 0607: the copy kept in one fixed file, which every stopper overwrites."""

    def step(self, value, model):
        stop = super().step(value, model)
        if self.weights is not None:
            tl.save(self.weights, os.path.join(SHARED_FOLDER, "best.pt"))
            self.weights = None
        return stop

    def restore(self, model):
        model.load_state_dict(tl.load(os.path.join(SHARED_FOLDER, "best.pt")))


SHARED_FOLDER = tempfile.mkdtemp(prefix="lesson07_test_")


class SharesItsCopyOnTheClass(EarlyStopping):
    """Review 0607: the kept weights in a dict on the class, filled in place: two stoppers share one copy."""

    shared = {}

    def step(self, value, model):
        stop = super().step(value, model)
        if self.weights is not None:
            for k, v in self.weights.items():
                self.shared[k] = v
            self.weights = None
        return stop

    def restore(self, model):
        model.load_state_dict(self.shared)


class RelativeMinDelta(EarlyStopping):
    """Review 0607: min_delta as a fraction of the best, best * (1 - min_delta), in mode 'min' only."""

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if not math.isfinite(value):
            return True
        if value < self.best * (1 - self.min_delta) if self.mode == "min" else value > self.best + self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            self.wait += 1
        return self.wait >= self.patience


class AbsoluteChange(EarlyStopping):
    """Session 26's attack: |value - best| > min_delta as the improvement test, so a worse value improves too."""

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if not math.isfinite(value):
            return True
        if abs(value - self.best) > self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            self.wait += 1
        return self.wait >= self.patience


class RestoresByRebinding(EarlyStopping):
    """Review 0607: restore puts new Parameter objects into the model instead of loading in place."""

    def restore(self, model):
        parameters = dict(model.named_parameters())
        for name, value in self.weights.items():
            if name in parameters:
                setattr(model, name, nn.Parameter(value.clone()))
            else:
                getattr(model, name).copy_(value)


class RestoresSharingMemory(EarlyStopping):
    """Review: restore gives the model's tensors the kept tensors' storage (p.data = ...), so they share memory:
    training after the restore changes the kept copy, and a second restore brings back the changed numbers."""

    def restore(self, model):
        for name, p in model.named_parameters():
            p.data = self.weights[name]
        for name, b in model.named_buffers():
            b.data = self.weights[name]


class StartsAtABigNumber(EarlyStopping):
    """Review 0607: 1e9 instead of inf as the starting best."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.best = 1e9 if mode == "min" else -1e9


class DefaultPatienceThree(EarlyStopping):
    def __init__(self, patience=3, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)


class CopiesNamedParametersAsAStateDict(EarlyStopping):
    """Review 0607: the parameters only, loaded with load_state_dict: the library's missing-key error."""

    def step(self, value, model):
        stop = super().step(value, model)
        if self.weights is not None and "running_mean" in self.weights:
            self.weights = {k: v.detach().clone() for k, v in model.named_parameters()}
        return stop


class FirstValueOnlyInitialises(EarlyStopping):
    """Review 0607: the first value sets best without a copy; restore loads None when epoch 0 stays the best."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.best = None

    def step(self, value, model):
        if self.best is None and math.isfinite(value):
            self.best, self.best_epoch = value, self.epoch
            self.epoch += 1
            return False
        return super().step(value, model)


def resume_with_torch_load(path, model, optimizer, scheduler, loader):
    checkpoint = torch.load(path, weights_only=False)
    model.load_state_dict(checkpoint["model"])
    return checkpoint["epoch"] + 1


LibraryEarlyStopping = tl.train.EarlyStopping


class SubclassesTheLibrary(tl.train.EarlyStopping):
    pass


class DelegatesToTheLibrary:
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.inner = tl.train.EarlyStopping(patience=patience, min_delta=min_delta, mode=mode)

    def step(self, value, model):
        stop = self.inner.step(value, model)
        self.best, self.best_epoch = self.inner.best, self.inner.best_epoch
        return stop

    def restore(self, model):
        self.inner.restore(model)


def save_without(key):
    def wrong(path, model, optimizer, scheduler, loader, epoch, loss):
        checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                      "scheduler": scheduler.state_dict(), "epoch": epoch, "rng_state": tl.get_rng_state(),
                      "loader_rng_state": loader.generator.get_state(), "loss": loss.item()}
        del checkpoint[key]
        tl.save(checkpoint, path)
    return wrong


def save_the_loss_tensor(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch, "rng_state": tl.get_rng_state(),
             "loader_rng_state": loader.generator.get_state(), "loss": loss}, path)


def save_the_next_epoch(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch + 1, "rng_state": tl.get_rng_state(),
             "loader_rng_state": loader.generator.get_state(), "loss": loss.item()}, path)


def save_the_objects(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save({"model": model, "optimizer": optimizer, "epoch": epoch}, path)


def save_nothing(path, model, optimizer, scheduler, loader, epoch, loss):
    checkpoint = {"model": model.state_dict(), "epoch": epoch}  # built, never written  # noqa: F841


def save_with_torch(path, model, optimizer, scheduler, loader, epoch, loss):
    torch.save({"epoch": epoch}, path)


def save_the_detached_loss(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch, "rng_state": tl.get_rng_state(),
             "loader_rng_state": loader.generator.get_state(), "loss": loss.detach()}, path)


def save_numpys_rng_state(path, model, optimizer, scheduler, loader, epoch, loss):
    _, keys, position, *_ = np.random.get_state()  # numpy's global generator, not the library's
    tl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch, "rng_state": {"keys": keys, "pos": position},
             "loader_rng_state": loader.generator.get_state(), "loss": loss.item()}, path)


def save_numpys_state_as_it_comes(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch, "rng_state": np.random.get_state(), "loader_rng_state": loader.generator.get_state(),
             "loss": loss.item()}, path)


def save_the_parameters(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save({"model": [p.detach() for p in model.parameters()], "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": epoch, "rng_state": tl.get_rng_state(),
             "loader_rng_state": loader.generator.get_state(),
             "loss": loss.item()}, path)


def save_named_parameters(path, model, optimizer, scheduler, loader, epoch, loss):
    """Review 6 of 0607: the parameters by name, without the buffers (right for a model that has none)."""
    tl.save({"model": dict(model.named_parameters()), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": epoch, "rng_state": tl.get_rng_state(),
             "loader_rng_state": loader.generator.get_state(), "loss": loss.item()}, path)


def resume_parameters_only(path, model, optimizer, scheduler, loader):
    """Review 6 of 0607: only the parameters' keys loaded, strict=False hiding the buffers left out."""
    checkpoint = tl.load(path)
    names = {name for name, _ in model.named_parameters()}
    model.load_state_dict({k: v for k, v in checkpoint["model"].items() if k in names}, strict=False)
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"] + 1


def _full_checkpoint(model, optimizer, scheduler, loader, epoch, loss):
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "epoch": epoch, "rng_state": tl.get_rng_state(), "loader_rng_state": loader.generator.get_state(),
            "loss": loss.item()}


def save_a_float_epoch(path, model, optimizer, scheduler, loader, epoch, loss):
    """The review's S14: the epoch stored as a float breaks range(start, EPOCHS) after the resume."""
    tl.save(dict(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss), epoch=float(epoch)), path)


def save_then_reseed(path, model, optimizer, scheduler, loader, epoch, loss):
    """The review's S12: the global generator reseeded after its state was read."""
    tl.save(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss), path)
    tl.manual_seed(epoch)


def save_draws_a_number(path, model, optimizer, scheduler, loader, epoch, loss):
    """The review's S12b: a random number drawn between reading the state and saving."""
    checkpoint = _full_checkpoint(model, optimizer, scheduler, loader, epoch, loss)
    tl.rand(1)
    tl.save(checkpoint, path)


def save_a_str_epoch(path, model, optimizer, scheduler, loader, epoch, loss):
    """Review 3 of 0607: the epoch stored as text (the message said it was nan)."""
    tl.save(dict(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss), epoch=str(epoch)), path)


def save_draws_before_reading(path, model, optimizer, scheduler, loader, epoch, loss):
    """Review 3 of 0607: a run id drawn from the global generator BEFORE its state is read."""
    run_id = int(tl.randint(0, 10**6, (1,)).item())
    tl.save(dict(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss), run_id=run_id), path)


def save_in_eval_mode(path, model, optimizer, scheduler, loader, epoch, loss):
    """The review's S20: model.eval() before saving, left so."""
    model.eval()
    tl.save(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss), path)


def save_then_step_the_scheduler(path, model, optimizer, scheduler, loader, epoch, loss):
    """The review's S19: the scheduler stepped after saving (one step too many in the run)."""
    tl.save(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss), path)
    scheduler.step()


def save_numpy_weights(path, model, optimizer, scheduler, loader, epoch, loss):
    """The review's S8: the model's state as numpy arrays instead of its state dict."""
    checkpoint = _full_checkpoint(model, optimizer, scheduler, loader, epoch, loss)
    checkpoint["model"] = {k: v.numpy() for k, v in model.state_dict().items()}
    tl.save(checkpoint, path)


def resume_at_the_saved_epoch(path, model, optimizer, scheduler, loader):
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"]


def resume_without(key):
    def wrong(path, model, optimizer, scheduler, loader):
        checkpoint = tl.load(path)
        targets = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
        for name, target in targets.items():
            if name != key:
                target.load_state_dict(checkpoint[name])
        if key != "rng_state":
            tl.set_rng_state(checkpoint["rng_state"])
        if key != "loader_rng_state":
            loader.generator.set_state(checkpoint["loader_rng_state"])
        return checkpoint["epoch"] + 1
    return wrong


def resume_returns_nothing(path, model, optimizer, scheduler, loader):
    resume_run(path, model, optimizer, scheduler, loader)


def resume_returns_a_float(path, model, optimizer, scheduler, loader):
    return resume_run(path, model, optimizer, scheduler, loader) + 1.0 - 1


def resume_returns_a_tensor(path, model, optimizer, scheduler, loader):
    """Review: the epoch to start from as a 0-d tensor, where the text asks for an int."""
    return tl.tensor(resume_run(path, model, optimizer, scheduler, loader))


def resume_seeds_with_the_epoch(path, model, optimizer, scheduler, loader):
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.manual_seed(checkpoint["epoch"])  # a seed is not the generator's state
    loader.generator.set_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"] + 1


def resume_into_a_new_optimizer(path, model, optimizer, scheduler, loader):
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer = type(optimizer)(model.parameters())  # a new object: the caller's optimizer is untouched
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"] + 1


def resume_with_tutorial_names(path, model, optimizer, scheduler, loader):
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model_state_dict"])
    return checkpoint["epoch"] + 1


# issue 20, item 5: the loader shuffles with a generator of its own, which the global RNG state does not cover
def save_run_global_rng_only(path, model, optimizer, scheduler, loader, epoch, loss):
    """The lesson's former answer: everything but the loader's generator (the resumed epochs replay epoch 0's)."""
    tl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch, "rng_state": tl.get_rng_state(), "loss": loss.item()}, path)


def save_the_states_as_numpy(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save(dict(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss),
                 rng_state=tl.get_rng_state().numpy()), path)


def save_the_states_as_lists(path, model, optimizer, scheduler, loader, epoch, loss):
    tl.save(dict(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss),
                 loader_rng_state=loader.generator.get_state().tolist()), path)


def save_the_loaders_seed(path, model, optimizer, scheduler, loader, epoch, loss):
    """The generator's seed instead of its state: the resume would start its draws from the beginning."""
    tl.save(dict(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss),
                 loader_rng_state=loader.generator.initial_seed()), path)


def save_after_a_look_at_a_batch(path, model, optimizer, scheduler, loader, epoch, loss):
    """A batch taken from the loader (to log its size) before the state is read: that pass drew an order."""
    first_batch = next(iter(loader))
    tl.save(dict(_full_checkpoint(model, optimizer, scheduler, loader, epoch, loss),
                 batch_size=len(first_batch[0])), path)


def resume_run_global_rng_only(path, model, optimizer, scheduler, loader):
    """The lesson's former answer: the loader's generator is left as the new process built it."""
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    return checkpoint["epoch"] + 1


def resume_into_a_new_generator(path, model, optimizer, scheduler, loader):
    """The state put into a new Generator assigned to loader.generator: the loader's sampler still shuffles with
    the generator it was built with (the same in PyTorch)."""
    checkpoint = tl.load(path)
    for key, target in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        target.load_state_dict(checkpoint[key])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator = tl.Generator().set_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"] + 1


def resume_into_the_samplers_generator(path, model, optimizer, scheduler, loader):
    """Review 4 of 0607: the state put into a new Generator given to the sampler: the shuffling is right, but
    loader.generator (which the next save reads) stays as the new process built it."""
    checkpoint = tl.load(path)
    for key, target in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        target.load_state_dict(checkpoint[key])
    tl.set_rng_state(checkpoint["rng_state"])
    g = tl.Generator()
    g.set_state(checkpoint["loader_rng_state"])
    loader.sampler.generator = g
    return checkpoint["epoch"] + 1


def resume_into_a_new_generator_for_both(path, model, optimizer, scheduler, loader):
    """Review 4 of 0607: a new Generator with the saved state given to the sampler and to loader.generator: one
    object again, as the loader was built (right)."""
    checkpoint = tl.load(path)
    for key, target in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        target.load_state_dict(checkpoint[key])
    tl.set_rng_state(checkpoint["rng_state"])
    g = tl.Generator()
    g.set_state(checkpoint["loader_rng_state"])
    loader.sampler.generator = loader.generator = g
    return checkpoint["epoch"] + 1


ALSO_RIGHT.append(("07.resume_run", resume_into_a_new_generator_for_both))


def resume_then_look_at_a_batch(path, model, optimizer, scheduler, loader):
    """Everything put back, then one batch taken to check the data: that pass drew the next epoch's order."""
    start = resume_run(path, model, optimizer, scheduler, loader)
    next(iter(loader))
    return start


def resume_the_loader_state_into_the_global_generator(path, model, optimizer, scheduler, loader):
    checkpoint = tl.load(path)
    for key, target in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        target.load_state_dict(checkpoint[key])
    tl.set_rng_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"] + 1


# the exercises' former signatures (no loader): refused with a hint that the loader is given too
def save_run_without_the_loader(path, model, optimizer, scheduler, epoch, loss):
    tl.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "epoch": epoch, "rng_state": tl.get_rng_state(), "loss": loss.item()}, path)


def resume_run_without_the_loader(path, model, optimizer, scheduler):
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    return checkpoint["epoch"] + 1


class WaitResetOnAnyGain(EarlyStopping):
    """Review 4 of 0607: best moves only beyond min_delta, but the counter restarts at any value below best."""

    def step(self, value, model):
        epoch = self.epoch
        self.epoch += 1
        if not math.isfinite(value):
            return True
        gain = value < self.best if self.mode == "min" else value > self.best
        if (value < self.best - self.min_delta) if self.mode == "min" else (value > self.best + self.min_delta):
            self.best, self.best_epoch = value, epoch
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        self.wait = 0 if gain else self.wait + 1
        return self.wait >= self.patience


KEEPS_LAST = "holds the weights of the LAST epoch"
KEEPS_LAST_MORE = "shares memory with the model's live weights"
SHARES = ("it holds the weights of epoch 8", "your kept copy of the best weights is no copy", KEEPS_LAST_MORE,
          "clone each tensor (or copy.deepcopy the whole dict)")
WRONG = [
    ("07.EarlyStopping", KeepsStateDict, *SHARES),
    ("07.EarlyStopping", KeepsDetachedTensors, *SHARES),
    ("07.EarlyStopping", KeepsADictOfTheStateDict, *SHARES),
    ("07.EarlyStopping", KeepsNumpyViews, *SHARES),
    ("07.EarlyStopping", MaxLeavesOutTheMargin, "mode='max'", "in mode 'max' an improvement must rise above "
     "best + min_delta", "do not clear that margin"),
    ("07.EarlyStopping", MaxSubtractsTheMargin, "in mode 'max' an improvement must rise above best + min_delta"),
    ("07.EarlyStopping", MinLeavesOutTheMargin, "ignores min_delta"),
    ("07.EarlyStopping", NeverRestores, KEEPS_LAST),
    ("07.EarlyStopping", RebindsModel, KEEPS_LAST),
    ("07.EarlyStopping", LessOrEqual, "never stopped", "a value equal to the best is not an improvement"),
    ("07.EarlyStopping", CountsAllBadEpochs, "IN A ROW"),
    ("07.EarlyStopping", WaitResetOnAnyGain, "never stopped", "by less than min_delta", "counts as a bad epoch"),
    ("07.EarlyStopping", StopsAfterPatiencePlusOne, "stopped at epoch 9", "one epoch late"),
    ("07.EarlyStopping", StopsOneEpochEarly, "stopped too early", "at the p-th of them, not before"),
    ("07.EarlyStopping", DeltaOnTheWrongSide, "below best - min_delta for a loss", "up to min_delta WORSE than it"),
    ("07.EarlyStopping", BestFollowsEveryBetterValue, "self.best should be 0.8", "only an improvement"),
    ("07.EarlyStopping", NanIsOneMoreBadEpoch, "a NaN: the training diverged", "diverged"),
    ("07.EarlyStopping", OneBasedEpochs, "epochs count from 0"),
    ("07.EarlyStopping", AlwaysMin, "mode='max' means larger is better"),
    ("07.EarlyStopping", ComparesAsALossInEveryMode, "mode='max'", "your comparison is a loss's",
     "must follow mode too"),
    ("07.EarlyStopping", NoMinDelta, "ignores min_delta"),
    ("07.EarlyStopping", FixedPatience, "ignores the patience"),
    ("07.EarlyStopping", ComparesWithThePreviousValue, "PREVIOUS epoch's"),
    ("07.EarlyStopping", BestIsThePreviousValue, "PREVIOUS epoch's"),
    ("07.EarlyStopping", KeepsItsCopyInOneFile, "overwrote each other's kept weights", "a file with a fixed name"),
    ("07.EarlyStopping", ReturnsWait, "it must return True (stop now) or False"),
    ("07.EarlyStopping", KeepsItsNumbersElsewhere, "no attribute 'best'"),
    ("07.EarlyStopping", FirstEpochSetsBest, "values [0.5, 0.6, 0.7, 0.8]", "should hold the weights of epoch 0",
     "it holds the weights of epoch 3", "the first epoch is an improvement like any other"),
    ("07.EarlyStopping", RestoresTheModelItSaw, "newly built model", "nothing was loaded into it",
     "the model it receives"),
    ("07.EarlyStopping", CopiesParametersOnly, "buffer running_mean", "buffers"),
    ("07.EarlyStopping", MaxStartsAtInf, "mode='max'", "nothing is larger than +inf"),
    ("07.EarlyStopping", MaxStartsAtZero, "scores below 0", "not 0"),
    ("07.EarlyStopping", NegatesAccuracies, "self.best should be 0.71", "negated value"),
    ("07.EarlyStopping", ChecksOnlyNan, "inf", "an infinite value means the training diverged"),
    ("07.EarlyStopping", SharesItsCopyOnTheClass, "a second EarlyStopping", "of the OTHER model",
     "overwrote each other's kept weights"),
    ("07.EarlyStopping", RelativeMinDelta, "should have stopped at epoch 2", "margin in the units of the value"),
    ("07.EarlyStopping", AbsoluteChange, "never stopped", "a change in EITHER direction as an improvement"),
    ("07.EarlyStopping", RestoresByRebinding, "replaced the model's parameters with new tensors", "in place"),
    ("07.EarlyStopping", RestoresSharingMemory, "called restore(model) again", "training wrote into it after",
     "the copy must stay separate"),
    ("07.EarlyStopping", StartsAtABigNumber, "should have stopped at epoch 7", "not infinity"),
    ("07.EarlyStopping", DefaultPatienceThree, "the default patience", "should have stopped at epoch 7"),
    ("07.EarlyStopping", LibraryEarlyStopping, "write it yourself", "EarlyStopping"),
    ("07.EarlyStopping", SubclassesTheLibrary, "write it yourself", "EarlyStopping"),
    ("07.EarlyStopping", DelegatesToTheLibrary, "write it yourself", "EarlyStopping"),
    ("07.EarlyStopping", StopsAtTheFirstBadEpoch, "stopped at the first epoch without improvement"),
    ("07.save_run", save_run_clears_the_gradients, "your save_run changed the parameters' gradients"),
    ("07.save_run", save_without("optimizer"), "'optimizer' entry is missing", "Adam's moment estimates"),
    ("07.save_run", save_without("scheduler"), "'scheduler' entry", "counts the epochs it has seen"),
    ("07.save_run", save_without("rng_state"), "'rng_state' entry", "dropout masks"),
    ("07.save_run", save_the_loss_tensor, "not a plain Python number", "still attached to its graph"),
    ("07.save_run", save_the_next_epoch, "'epoch' is 3", "the epoch that has just ended"),
    ("07.save_run", save_nothing, "wrote no file"),
    ("07.save_run", save_with_torch, "cannot be read with tl.load"),
    ("07.save_run", save_a_float_epoch, "'epoch' is a float (2.0)", "range(start, epochs)"),
    ("07.save_run", save_a_str_epoch, "'epoch' is a str ('2')", "the int it was given"),
    ("07.save_run", save_draws_before_reading, "changed the state of the global random generator",
     "drew from it or reseeded it"),
    ("07.save_run", save_then_reseed, "your save_run changed the state of the global random generator"),
    ("07.save_run", save_draws_a_number, "your save_run changed the state of the global random generator"),
    ("07.save_run", save_in_eval_mode, "your save_run changed the model's mode"),
    ("07.save_run", save_then_step_the_scheduler, "your save_run changed the scheduler's state"),
    ("07.save_run", save_numpy_weights, "'model' entry holds other things than tensors"),
    ("07.resume_run", resume_at_the_saved_epoch, "returned 2; the run must go on at epoch 3",
     "AFTER its epoch ended"),
    ("07.resume_run", resume_without("optimizer"), "'optimizer' entry was not put back", "Adam's moment"),
    ("07.resume_run", resume_without("scheduler"), "'scheduler' entry was not put back", "counts the epochs"),
    ("07.resume_run", resume_without("rng_state"), "'rng_state' entry was not put back", "dropout masks"),
    ("07.resume_run", resume_without("model"), "'model' entry was not put back", "new random weights"),
    ("07.resume_run", resume_returns_nothing, "returned None"),
    ("07.resume_run", resume_steps_the_scheduler_again, "'scheduler' entry was not put back", "changed afterwards",
     "one more scheduler.step()"),
    ("07.resume_run", resume_returns_the_checkpoint, "returned a dict; it must return the epoch"),
    ("07.save_run", save_the_detached_loss, "not a plain Python number"),
    ("07.save_run", save_numpys_rng_state, "'rng_state' entry", "tl.get_rng_state()"),
    ("07.save_run", save_numpys_state_as_it_comes, "'rng_state' is numpy's random state", "tl.get_rng_state()"),
    ("07.save_run", save_the_parameters, "'model' entry is missing or is not the model's whole state_dict()"),
    ("07.save_run", save_named_parameters, "a model with BatchNorm1d", "you saved the parameters only",
     "running_mean, running_var and num_batches_tracked"),
    ("07.resume_run", resume_parameters_only, "a model with BatchNorm1d", "you put back the parameters only",
     "running_mean, running_var and num_batches_tracked"),
    ("07.resume_run", resume_returns_a_tensor, "returned a tensor, tensor(3)", "as a Python int"),
    ("07.resume_run", resume_returns_a_float, "it must return the epoch to start from, an int"),
    ("07.resume_run", resume_seeds_with_the_epoch, "'rng_state' entry was not put back", "dropout masks"),
    ("07.resume_run", resume_into_a_new_optimizer, "'optimizer' entry was not put back"),
    ("07.save_run", save_run_with_library, "write it yourself", "save_checkpoint"),
    ("07.resume_run", resume_run_with_library, "write it yourself", "load_checkpoint"),
    ("07.save_run", save_run_global_rng_only, "'loader_rng_state' entry is missing", "a random generator of its own",
     "replay the shuffles of the first epochs"),
    ("07.save_run", save_without("loader_rng_state"), "'loader_rng_state' entry", "generator of its own"),
    ("07.save_run", save_the_loaders_seed, "'loader_rng_state' entry", "the one its shuffling draws from"),
    ("07.save_run", save_the_states_as_numpy, "'rng_state' is a numpy.ndarray, not the uint8 tensor", ".numpy()"),
    ("07.save_run", save_the_states_as_lists, "'loader_rng_state' is a list, not the uint8 tensor", ".tolist()"),
    ("07.save_run", save_after_a_look_at_a_batch, "your save_run changed the state of the loader's generator",
     "draws the next epoch's order"),
    ("07.resume_run", resume_run_global_rng_only, "'loader_rng_state' entry was not put back",
     "a random generator of its own", "replay the shuffles of the first epochs"),
    ("07.resume_run", resume_without("loader_rng_state"), "'loader_rng_state' entry was not put back"),
    ("07.resume_run", resume_into_a_new_generator, "loader.generator is not the generator the loader shuffles with",
     "both must be one and the same Generator"),
    ("07.resume_run", resume_into_the_samplers_generator, "loader.generator is not the generator the loader "
     "shuffles with", "Put the saved state into the loader's own with set_state"),
    ("07.resume_run", resume_then_look_at_a_batch, "'loader_rng_state' entry", "do not iterate the loader"),
    ("07.resume_run", resume_the_loader_state_into_the_global_generator, "'rng_state' entry was not put back"),
]

class KeepsAFloat32Copy(EarlyStopping):
    """Issue 32: the copy made anew from the values (a tensor of a list gets the default float32)."""

    def step(self, value, model):
        stop = super().step(value, model)
        if self.weights is not None:
            self.weights = {k: tl.tensor(v.tolist()) for k, v in self.weights.items()}
        return stop


def save_float32_weights(path, model, optimizer, scheduler, loader, epoch, loss):
    """Issue 32: "float32 is enough for a checkpoint": right for a float32 model only."""
    tl.save({"model": {k: v.float() for k, v in model.state_dict().items()}, "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": epoch, "rng_state": tl.get_rng_state(),
             "loader_rng_state": loader.generator.get_state(), "loss": loss.item()}, path)


def resume_through_lists(path, model, optimizer, scheduler, loader):
    """Issue 32: the weights loaded through new tensors made from lists (the default float32)."""
    checkpoint = tl.load(path)
    model.load_state_dict({k: tl.tensor(v.tolist()) for k, v in checkpoint["model"].items()})
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"] + 1


def resume_with_float32_optimizer_state(path, model, optimizer, scheduler, loader):
    """The review's: the optimizer's state tensors cast with .float() before load_state_dict (float64 run)."""
    checkpoint = tl.load(path)
    state = checkpoint["optimizer"]
    state["state"] = {i: {k: v.float() if isinstance(v, tl.Tensor) else v for k, v in s.items()}
                      for i, s in state["state"].items()}
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(state)
    scheduler.load_state_dict(checkpoint["scheduler"])
    tl.set_rng_state(checkpoint["rng_state"])
    loader.generator.set_state(checkpoint["loader_rng_state"])
    return checkpoint["epoch"] + 1


def resume_by_replacing_the_parameters(path, model, optimizer, scheduler, loader):
    """The review's: new Parameter objects put into the model (setattr) instead of loading into its own."""
    checkpoint = tl.load(path)
    resume_run(path, model, optimizer, scheduler, loader)
    for name, _ in list(model.named_parameters()):
        index, attribute = name.split(".")
        setattr(model[int(index)], attribute, nn.Parameter(checkpoint["model"][name].clone()))
    return checkpoint["epoch"] + 1


def resume_by_assigning_a_parameter(path, model, optimizer, scheduler, loader):
    """The same, one layer by hand: model[0].weight = nn.Parameter(...)."""
    checkpoint = tl.load(path)
    resume_run(path, model, optimizer, scheduler, loader)
    model[0].weight = nn.Parameter(checkpoint["model"]["0.weight"])
    return checkpoint["epoch"] + 1


def save_run_through_the_checkpoint_callback(path, model, optimizer, scheduler, loader, epoch, loss):
    """The trainer's Checkpoint callback, handed a stand-in trainer: it saves with save_checkpoint on its own
    behalf (so no forbidden call of the learner's), and the allowlist refuses it."""
    trainer = type("Trainer", (), {"model": model, "optimizer": optimizer, "epoch": epoch, "train_loader": loader,
                                   "logs": {"loss": loss.item()}})()
    tl.train.Checkpoint(path, scheduler).on_epoch_end(trainer)


RUN_BLOCKS = ALLOWS + ", the optimizer and the scheduler you are given (their own methods, such as state_dict)"
WRONG += [
    ("07.EarlyStopping", KeepsAFloat32Copy, "(a float64 model)", "without their last digits",
     "your copy is float32", "A copy keeps each tensor's dtype"),
    ("07.save_run", save_float32_weights, "a float64 model and data", "each tensor in its own dtype",
     "holds float32 copies of its weights"),
    ("07.resume_run", resume_through_lists, "a float64 model and data", "'model' entry was not put back",
     "lost their last digits"),
    ("07.save_run", save_run_through_the_checkpoint_callback, "you called tinygrad_lite.train.Checkpoint",
     RUN_BLOCKS),
    ("07.resume_run", resume_with_float32_optimizer_state, "a float64 model and data",
     "holds the checkpoint's 'optimizer' entry rounded to float32", "was put back, but rounded",
     "went through float32", "keep each tensor as it was saved"),
    ("07.resume_run", resume_by_replacing_the_parameters, "replaced the model's parameters with new tensors",
     "The optimizer was built for the model and holds those tensors", "in place"),
    ("07.resume_run", resume_by_assigning_a_parameter, "replaced the model's parameters with new tensors"),
]

ERRORS = [
    ("07.EarlyStopping", CopiesNamedParametersAsAStateDict, "Missing key(s)", "buffers", "strict=False would"),
    ("07.EarlyStopping", FirstValueOnlyInitialises, "NoneType", "the first epoch is an improvement like any other"),
    ("07.resume_run", resume_with_torch_load, "not in a subdirectory", "read it with tl.load"),
    ("07.save_run", save_the_objects, "cannot save a", "not the object itself"),
    ("07.resume_run", resume_with_tutorial_names, "KeyError: 'model_state_dict'", "print its keys"),
    ("07.save_run", save_run_without_the_loader, "unexpected keyword argument 'loader'",
     "given the data loader too"),
    ("07.resume_run", resume_run_without_the_loader, "unexpected keyword argument 'loader'",
     "given the data loader too"),
]


# -------------------------------------------------------------------- lesson 07's own tests
def _cells():
    return [c for c in read_notebook(SOLUTION).cells if c.cell_type == "code"]


def test_the_visible_stopping_case_is_the_notebooks_example():
    namespace = {}
    for cell in _cells():
        if cell.source.startswith("example_losses"):
            define(cell.source, namespace)
    case = get_exercise("07.EarlyStopping").all_cases()[0]
    assert case.visible and tuple(namespace["example_losses"]) == case.args[0] == L.EXAMPLE_LOSSES
    assert case.kwargs == {"patience": 3, "min_delta": 0.0, "mode": "min"}
    assert list(L.drive_stopper(tl.train.EarlyStopping, case.args, case.kwargs)) == [8, 0.55, 5, 5, 5, 5, 5, 0]


def test_the_visible_run_is_the_notebooks_run():
    """The run of section 6 (make_run, train_one_epoch, 6 epochs) is RunSpec(): the check's visible case."""
    namespace = {"np": np, "tl": tl, "nn": nn, "optim": optim, "loss_fn": nn.CrossEntropyLoss()}
    define("from tinygrad_lite.optim import lr_scheduler\n"
           "from tinygrad_lite.utils.data import DataLoader, TensorDataset", namespace)
    for cell in _cells():
        if cell.source.startswith("X_run"):
            define(cell.source, namespace)
    model, optimizer, scheduler, loader = namespace["make_run"]()
    for _ in range(namespace["EPOCHS"]):
        namespace["train_one_epoch"](model, optimizer, scheduler, loader)
    spec = get_exercise("07.resume_run").all_cases()[0].args[0]
    assert (spec.epochs, spec.stop_at) == (namespace["EPOCHS"], namespace["STOP_AT"])
    assert spec.shuffle_seed == namespace["SHUFFLE_SEED"] and loader.generator is not None
    weights = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    assert np.array_equal(weights, L.uninterrupted(spec))


@pytest.mark.parametrize("exercise_id", ["07.save_run", "07.resume_run"])
def test_the_reference_resume_is_bit_identical_to_the_uninterrupted_run(exercise_id):
    exercise = get_exercise(exercise_id)
    for case in exercise.all_cases():
        run = np.asarray(exercise.run(exercise.reference, case.args, case.kwargs))
        assert np.array_equal(run[-len(L.uninterrupted(case.args[0])):], L.uninterrupted(case.args[0])), case


@pytest.mark.parametrize("exercise_id", ["07.EarlyStopping", "07.save_run", "07.resume_run"])
def test_a_check_leaves_the_global_random_generator_as_it_was(exercise_id):
    tl.manual_seed(5)
    before = tl.get_rng_state()
    exercise = get_exercise(exercise_id)
    for case in exercise.all_cases()[:2]:
        exercise.run(exercise.reference, case.args, case.kwargs)
        exercise.run(SOLUTIONS[exercise_id], case.args, case.kwargs)
    assert L.same_state(tl.get_rng_state(), before)


def test_the_hidden_runs_vary_optimizer_scheduler_and_interruption():
    specs = [c.args[0] for c in get_exercise("07.resume_run").all_cases()]
    assert {s.optimizer for s in specs} == set(L.OPTIMIZERS)
    assert {s.scheduler for s in specs} == set(L.SCHEDULERS)
    assert {0, 4} <= {s.stop_at for s in specs} and any(s.stop_at == s.epochs - 2 for s in specs)
    assert {s.dropout for s in specs} >= {0.0, 0.2}


def test_pytorch_resumes_bit_for_bit_from_torch_save_and_torch_load(tmp_path):
    """The checkpoint recipe of the lesson, in PyTorch: model, optimizer, scheduler, the global RNG state and the
    state of the DataLoader's own generator through torch.save / torch.load (weights_only=True) give a
    bit-identical resume; without either generator's state they do not (issue 20, item 5)."""
    X, y = tl.datasets.two_moons(32, noise=0.2, seed=0)
    data = torch.utils.data.TensorDataset(torch.tensor(X.numpy()), torch.tensor(y.numpy()))

    def run(stop_after=None, restore_rng=True, restore_loader=True):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(2, 12), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                  torch.nn.Linear(12, 2))
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        shuffler = torch.Generator().manual_seed(7)
        loader = torch.utils.data.DataLoader(data, batch_size=8, shuffle=True, generator=shuffler)
        for epoch in range(6):
            for xb, yb in loader:
                loss = torch.nn.functional.cross_entropy(net(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            sched.step()
            if epoch == stop_after:
                path = os.path.join(tmp_path, "run.pt")
                torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(),
                            "scheduler": sched.state_dict(), "rng_state": torch.get_rng_state(),
                            "loader_rng_state": shuffler.get_state()}, path)
                torch.manual_seed(99)
                shuffler.manual_seed(7)
                checkpoint = torch.load(path, weights_only=True)
                net.load_state_dict(checkpoint["model"])
                opt.load_state_dict(checkpoint["optimizer"])
                sched.load_state_dict(checkpoint["scheduler"])
                if restore_rng:
                    torch.set_rng_state(checkpoint["rng_state"])
                if restore_loader:
                    shuffler.set_state(checkpoint["loader_rng_state"])
        return torch.cat([p.detach().flatten() for p in net.parameters()])

    assert torch.equal(run(stop_after=2), run())
    assert not torch.equal(run(stop_after=2, restore_rng=False), run())
    assert not torch.equal(run(stop_after=2, restore_loader=False), run())


def test_the_exercise_texts_hold_no_finished_code():
    nb = read_notebook(SOLUTION)
    texts = [c.source for c in nb.cells if c.cell_type == "markdown" and "### Exercise 07." in c.source]
    assert len(texts) == 3
    for text in texts:
        for line in ("self.wait >= self.patience", "value < self.best - self.min_delta", ".load_state_dict(self.",
                     "tl.save({", "checkpoint[\"epoch\"] + 1", "loss.item()", "loader.generator.get_state()",
                     "loader.generator.set_state("):
            assert line not in text, line


def _cells_outside_exercises(notebook):
    return [c for c in read_notebook(notebook).cells if c.cell_type == "code" and not meta(c)]


@pytest.mark.parametrize("notebook", [SOLUTION, RELEASED], ids=["solution", "lesson"])
def test_no_cell_shows_the_stoppers_copy_of_the_weights(notebook):
    """No give-away (issue 19, item 8): no cell copies every tensor of a state_dict, the line 07.EarlyStopping
    asks for (the 200-epoch run of section 2 shows the best epoch's boundary by training again instead)."""
    for cell in _cells_outside_exercises(notebook):
        for line in cell.source.splitlines():
            assert not ("state_dict()" in line and ("clone()" in line or "deepcopy" in line)), line


@pytest.mark.parametrize("notebook", [SOLUTION, RELEASED], ids=["solution", "lesson"])
def test_no_cell_shows_a_finished_resume_run(notebook):
    """No give-away: the wrong resumes of section 6 undo one piece of the learner's own resume (resumer); no cell
    outside the exercises loads a tinygrad_lite checkpoint's optimizer, scheduler and RNG state into a run."""
    for cell in _cells_outside_exercises(notebook):
        source = cell.source
        finished = ('checkpoint["optimizer"]' in source and 'checkpoint["scheduler"]' in source
                    and "tl.set_rng_state(" in source)
        assert not finished, source


def resume_by_replaying_epochs(path, model, optimizer, scheduler, loader):
    """The loader's generator brought to the saved state by going through the loader once per finished epoch,
    instead of set_state (a learner's, in review: it passed, since each epoch of the check draws one order)."""
    checkpoint = tl.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    for _ in range(checkpoint["epoch"] + 1):
        for _ in loader:
            pass
    tl.set_rng_state(checkpoint["rng_state"])
    return checkpoint["epoch"] + 1


WRONG += [("07.resume_run", resume_by_replaying_epochs, "went through the loader", "set_state instead")]


def resume_in_eval_mode(path, model, optimizer, scheduler, loader):
    """A learner who took the lesson's "then call model.eval(): a loaded model is in training mode" to resuming."""
    start = resume_run(path, model, optimizer, scheduler, loader)
    model.eval()
    return start


def resume_with_dropout_off(path, model, optimizer, scheduler, loader):
    """Only the dropout layers put in eval mode, the model's own flag left on (second round)."""
    start = resume_run(path, model, optimizer, scheduler, loader)
    for layer in model.modules():
        if type(layer).__name__ == "Dropout":
            layer.eval()
    return start


IN_EVAL_MODE = "left the model (or a layer of it) in eval mode"
WRONG += [("07.resume_run", resume_in_eval_mode, IN_EVAL_MODE, "sets the mode once"),
          ("07.resume_run", resume_with_dropout_off, IN_EVAL_MODE)]


class StopsOnlyAtPatience(EarlyStopping):
    """``wait == patience`` for ``>=``: the same stop epoch, but False when called once more after the stop."""

    def step(self, value, model):
        stop = super().step(value, model)
        return stop if not math.isfinite(value) else self.wait == self.patience


WRONG += [("07.EarlyStopping", StopsOnlyAtPatience, "then False when called once more with the same value",
           "using >= (not ==)")]


class CopiesEveryEpoch(EarlyStopping):
    """The copy taken before the improvement test, at every epoch: restore brings back the last epoch's weights."""

    def step(self, value, model):
        stop = super().step(value, model)
        if math.isfinite(value):
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        return stop


WRONG += [("07.EarlyStopping", CopiesEveryEpoch, "taken at every epoch", "not the best one's")]


class _RestoresOnlyInStep(EarlyStopping):
    """The best weights loaded inside step, at the stop, and a restore that does nothing (an attack of session 38:
    its hint had named a shared storage only)."""
    def step(self, value, model):
        stop = super().step(value, model)
        if stop:
            model.load_state_dict(self.weights)
        return stop

    def restore(self, model):
        pass


WRONG += [("07.EarlyStopping", _RestoresOnlyInStep, "each time it is called (not only step, at the stop)")]
