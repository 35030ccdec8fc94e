"""Lesson 09 (the capstone): the answers learners write for each exercise, and the lesson's special cases.

``tests/test_lessons.py`` runs the generic tests on the data here: ``SOLUTIONS`` and ``ALSO_RIGHT`` pass; every
row of ``WRONG`` fails, and of ``ERRORS`` is an error, with the texts it lists; every hint tier is reached by a
row. This file adds what is lesson 09's own: the references give PyTorch's numbers when ``lib`` is torch; the
debugging check names exactly the planted bugs that remain, for every combination of them, and passes only when
none is left; the notebook's buggy loop is the one the check knows; the visible cases are the notebook's.
"""
import contextlib
import itertools
import math
import sys

import numpy as np
import pytest
import torch
from lesson_helpers import define, notebooks, verdict

import tinygrad_lite as tl
from tinygrad_lite.course import pipeline
from tinygrad_lite.course.checks import PASSED, get_exercise, run_check
from tinygrad_lite.course.exercises import lesson09 as L
from tinygrad_lite.course.notebooks import read_notebook

LESSON = "09_capstone"
SOLUTION, RELEASED = notebooks(LESSON)
NAMES = {"np": np, "tl": tl, "math": math, "torch": torch, "evaluate": L.evaluate}  # defined before


# -------------------------------------------------------------------- solutions, as a learner would write them
def train_one_epoch(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    model.train()
    loss_sum, hits, seen = 0.0, 0, 0
    for x, y in loader:
        x = x.to(device)
        y = y.to(device)
        logits = model(x)
        loss = lib.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
        optimizer.step()
        n = y.shape[0]
        loss_sum += loss.item() * n
        hits += int((logits.argmax(1) == y).sum().item())
        seen += n
    return loss_sum / seen, hits / seen


def _train_epoch(lib, model, optimizer, loader, max_norm):
    """The training part of an epoch of the fixed loop, in the mode the caller left the model in: a step per batch
    with its gradients clipped; the epoch's loss, the mean over its examples. The fit variants below differ around
    it (restoring, the stopping test, where train() goes)."""
    total, count = 0.0, 0
    for x, y in loader:
        loss = lib.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total, count = total + loss.item() * len(y), count + len(y)
    return total / count


def _fit_watching(accuracy=False, mode="min"):
    """The debugging exercise's loop with its three bugs fixed, as a learner writes it; ``accuracy``: early stopping
    given the validation accuracy (the lesson's "Two metrics" mistake), ``mode``: the stopper made in another mode
    (attacks of session 38)."""
    def fit(lib, model, optimizer, scheduler, loaders, config):
        stopper = tl.train.EarlyStopping(patience=config["patience"], mode=mode)
        history = {"train_loss": [], "val_loss": [], "lr": []}
        for _ in range(config["epochs"]):
            history["lr"].append(optimizer.param_groups[0]["lr"])
            model.train()
            history["train_loss"].append(_train_epoch(lib, model, optimizer, loaders["train"], config["max_norm"]))
            val_loss, val_acc = L.evaluate(lib, model, loaders["val"])
            history["val_loss"].append(val_loss)
            scheduler.step()
            if stopper.step(val_acc if accuracy else val_loss, model):
                break
        stopper.restore(model)
        history["test_loss"], history["test_acc"] = L.evaluate(lib, model, loaders["test"])
        return history
    return fit


fit = _fit_watching()


SOLUTIONS = {"09.train_one_epoch": train_one_epoch, "09.fit": fit}


# -------------------------------------------------------------------- other right answers
def train_one_epoch_with_running_means(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """With tl.metrics.RunningMean (which weighs by n) and the accuracy from tl.metrics."""
    model.train()
    losses, accs = tl.metrics.RunningMean(), tl.metrics.RunningMean()
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss = lib.nn.functional.cross_entropy(out, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        losses.update(loss.item(), len(y))
        with lib.no_grad():
            accs.update(tl.metrics.accuracy(out.detach().cpu().numpy(), y.cpu().numpy()), len(y))
    return losses.mean, accs.mean


def fit_with_a_flag(lib, model, optimizer, scheduler, loaders, config):
    """The planted bugs fixed another way: train() right after each validation, a `stop` flag."""
    stopper = tl.train.EarlyStopping(patience=config["patience"])
    history = {"train_loss": [], "val_loss": [], "lr": []}
    model.train()
    stop, epoch = False, 0
    while not stop and epoch < config["epochs"]:
        history["lr"].append(optimizer.param_groups[0]["lr"])
        history["train_loss"].append(_train_epoch(lib, model, optimizer, loaders["train"], config["max_norm"]))
        history["val_loss"].append(L.evaluate(lib, model, loaders["val"])[0])
        model.train()
        scheduler.step()
        stop = stopper.step(history["val_loss"][-1], model)
        epoch += 1
    stopper.restore(model)
    test = L.evaluate(lib, model, loaders["test"])
    history.update(test_loss=test[0], test_acc=test[1])
    return history


def train_one_epoch_indexed(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """Batches counted with y.numel(), gradients set to None through the model, the accuracy as a float sum, the
    batch moved with non_blocking (as a GPU loop does); the means divided once at the end; no tuple unpacking of
    the batch until it is moved."""
    model.train(True)
    losses, hits, sizes = [], [], []
    for inputs, targets in loader:
        inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        model.zero_grad(set_to_none=True)
        logits = model(inputs)
        batch_loss = lib.nn.functional.cross_entropy(logits, targets)
        batch_loss.backward()
        lib.nn.utils.clip_grad_norm_(list(model.parameters()), max_norm, norm_type=2.0)
        optimizer.step()
        losses.append(batch_loss.detach().item() * targets.numel())
        hits.append(float((logits.argmax(-1) == targets).float().sum().item()))
        sizes.append(targets.numel())
    return float(sum(losses) / sum(sizes)), float(sum(hits) / sum(sizes))


def fit_with_helpers(lib, model, optimizer, scheduler, loaders, config):
    """The loop split into a training helper and the epoch loop, the history filled with setdefault, early
    stopping asked through its return value in the loop's condition."""
    def train_epoch():
        model.train()
        seen, total = 0, 0.0
        for x, y in loaders["train"]:
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=config["max_norm"])
            optimizer.step()
            seen += y.shape[0]
            total += y.shape[0] * loss.item()
        return total / seen

    stopper = tl.train.EarlyStopping(patience=config["patience"])
    history = {}
    for _ in range(config["epochs"]):
        history.setdefault("lr", []).append(optimizer.param_groups[0]["lr"])
        history.setdefault("train_loss", []).append(train_epoch())
        val_loss = L.evaluate(lib, model, loaders["val"])[0]
        history.setdefault("val_loss", []).append(val_loss)
        scheduler.step()
        if stopper.step(val_loss, model):
            break
    stopper.restore(model)
    test_loss, test_acc = L.evaluate(lib, model, loaders["test"])
    return dict(history, test_loss=test_loss, test_acc=test_acc)


ALSO_RIGHT = [("09.train_one_epoch", train_one_epoch_with_running_means),
              ("09.train_one_epoch", train_one_epoch_indexed),
              ("09.fit", fit_with_a_flag),
              ("09.fit", fit_with_helpers)]


# -------------------------------------------------------------------- wrong versions
def returns_a_tensor(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss = lib.nn.functional.cross_entropy(out, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total = total + loss * len(y)
        correct += (out.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


def returns_the_accuracy_as_a_tensor(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """Review of issue 46: the right predictions counted as tensors, never taken out with .item()."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss = lib.nn.functional.cross_entropy(out, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        correct = correct + (out.argmax(dim=1) == y).sum()
        count += len(y)
    return total / count, correct / count


def returns_the_loss_only(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    return L.train_one_epoch_reference(lib, model, loader, optimizer, max_norm, device)[0]


def fit_returns_nothing(lib, model, optimizer, scheduler, loaders, config):
    fit(lib, model, optimizer, scheduler, loaders, config)


SYMPTOM = {"mode": "training steps ran with model.training False",      # what the check shows first
           "schedule": "different learning rates in the first epoch",
           "test": "the test loader was read"}


def with_bugs(*bugs):
    """The debugging exercise's loop with these planted bugs left in (and the others fixed)."""
    return L._fit(mode="mode" not in bugs, per_batch="schedule" in bugs,
                  select_on="test" if "test" in bugs else "val")


def fit_restores_only_when_stopping(lib, model, optimizer, scheduler, loaders, config):
    """Review of issue 19: the best weights restored only when early stopping fires; a run that uses all its
    epochs ends with the last epoch's weights."""
    stopper = tl.train.EarlyStopping(patience=config["patience"])
    history = {"train_loss": [], "val_loss": [], "lr": []}
    for _ in range(config["epochs"]):
        history["lr"].append(optimizer.param_groups[0]["lr"])
        model.train()
        history["train_loss"].append(_train_epoch(lib, model, optimizer, loaders["train"], config["max_norm"]))
        val_loss, _ = L.evaluate(lib, model, loaders["val"])
        history["val_loss"].append(val_loss)
        scheduler.step()
        if stopper.step(val_loss, model):
            stopper.restore(model)
            break
    history["test_loss"], history["test_acc"] = L.evaluate(lib, model, loaders["test"])
    return history


WRONG = [
    ("09.train_one_epoch", L._epoch(train=False), "never went back to training mode"),
    ("09.train_one_epoch", L._epoch(clip=None), "were not clipped where the step uses them"),
    ("09.train_one_epoch", L._epoch(where="after"), "were not clipped where the step uses them"),
    ("09.train_one_epoch", L._epoch(where="before"), "after backward() has filled the gradients"),
    ("09.train_one_epoch", L._epoch(clip="value"), "clipping by value caps each gradient element"),
    ("09.train_one_epoch", L._epoch(zero=False), "the gradients were never reset"),
    ("09.train_one_epoch", L._epoch(weigh=False), "a plain mean of the batch means"),
    ("09.train_one_epoch", L._epoch(weigh=False), "the example shown in the notebook"),
    ("09.train_one_epoch", returns_a_tensor, "the loss you returned is a Tensor: return a plain Python float",
     "A loss tensor drags its graph along"),
    ("09.train_one_epoch", returns_the_accuracy_as_a_tensor, "the accuracy you returned is a Tensor: return a plain "
     "Python float", "is a tensor too", ".item()"),
    ("09.train_one_epoch", L._epoch(weigh="sum"), "about batch-size times too small", "divides by the batch size "
     "twice"),
    ("09.train_one_epoch", returns_the_loss_only, "return two numbers"),
    ("09.fit", L.fit_buggy, "3 symptoms of planted bugs", SYMPTOM["mode"], SYMPTOM["schedule"], SYMPTOM["test"],
     L.BUG_HINTS["mode"][0]),
    ("09.fit", with_bugs("mode"), "a symptom of a planted bug", SYMPTOM["mode"], L.BUG_HINTS["mode"][0]),
    ("09.fit", with_bugs("schedule"), SYMPTOM["schedule"], L.BUG_HINTS["schedule"][0]),
    ("09.fit", with_bugs("test"), SYMPTOM["test"], L.BUG_HINTS["test"][0]),
    ("09.fit", L._fit(log_test=True), SYMPTOM["test"], "reads the test set during training"),
    ("09.fit", L._fit(restore=False), "the restored best model, evaluated once"),
    ("09.fit", fit_restores_only_when_stopping, "the restored best model, evaluated once"),
    ("09.fit", L._fit(select_on="train"), "early stopping must watch the validation loss"),
    ("09.fit", fit_returns_nothing, "return the history dict"),
]


def _accuracy_unweighted(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """The right loss; the accuracy a plain mean of the batch accuracies."""
    model.train()
    total, count, accs = 0.0, 0, []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss = lib.nn.functional.cross_entropy(out, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total, count = total + loss.item() * len(y), count + len(y)
        accs.append((out.argmax(dim=1) == y).float().mean().item())
    return total / count, sum(accs) / len(accs)


WRONG.append(("09.train_one_epoch", _accuracy_unweighted, "fraction of the epoch's examples predicted right",
              "a plain mean of the batch accuracies"))


def _counts_full_batches(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """Every batch counted as a full one (the size of the first)."""
    model.train()
    total, correct, count, full = 0.0, 0, 0, None
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        full = full or len(y)
        out = model(x)
        loss = lib.nn.functional.cross_entropy(out, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.argmax(dim=1) == y).sum().item()
        count += full
    return total / count, correct / count


def _epoch_written(keep="number", accuracy="outputs", percent=False):
    """A learner's epoch with the bookkeeping changed: ``keep`` "number" (right), "tensor" (a sum of loss tensors,
    the number taken out at the end), "outputs" (the outputs listed, the accuracy counted at the end) or "batch
    means" (the loss a plain mean of the batch means); ``accuracy`` from the training "outputs" (right), from a
    second forward pass after the step, in "eval" or "train" mode, or before it ("train first", in train mode: the
    right numbers, batch norm's buffers updated twice), or "fractions" (each batch's fraction added up, then divided
    by the number of examples); ``percent``: the accuracy times 100."""
    def train_one_epoch(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
        model.train()
        total, correct, count, kept, batches = 0.0, 0, 0, [], 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            if accuracy == "train first":
                with lib.no_grad():
                    correct += (model(x).argmax(dim=1) == y).sum().item()
            optimizer.zero_grad()
            out = model(x)
            loss = lib.nn.functional.cross_entropy(out, y)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            weight = 1 if keep == "batch means" else len(y)
            total = total + (loss * weight if keep == "tensor" else loss.item() * weight)
            batches += 1
            if keep == "outputs":
                kept.append((out, y))
            elif accuracy == "outputs":
                correct += (out.argmax(dim=1) == y).sum().item()
            elif accuracy == "fractions":
                correct += (out.argmax(dim=1) == y).float().mean().item()
            elif accuracy != "train first":
                model.train(accuracy == "train")
                with lib.no_grad():
                    correct += (model(x).argmax(dim=1) == y).sum().item()
                model.train()
            count += len(y)
        correct += sum((out.argmax(dim=1) == y).sum().item() for out, y in kept)
        if keep == "tensor":
            mean = float((total / count).item())
        else:
            mean = total / (batches if keep == "batch means" else count)
        return mean, (100.0 if percent else 1.0) * correct / count
    return train_one_epoch


WRONG += [
    ("09.train_one_epoch", _epoch_written(keep="tensor"), "was still alive when batch 3 began",
     "A sum of loss tensors"),
    ("09.train_one_epoch", _epoch_written(keep="outputs"), "was still alive when batch 3 began"),
    ("09.train_one_epoch", _epoch_written(accuracy="eval"), "count the right predictions of the training forward"),
    ("09.train_one_epoch", _epoch_written(accuracy="train"), "count the right predictions of the training forward"),
    ("09.train_one_epoch", _epoch_written(percent=True), "not a percentage"),
    ("09.train_one_epoch", L._epoch(zero="between"), "cleared after backward() and before step()"),
    ("09.train_one_epoch", L._epoch(softmax=True), "applies log_softmax itself"),
    ("09.train_one_epoch", _counts_full_batches, "divided by a wrong number of examples"),
]


def hard_codes_tinygrad_lite(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss = tl.nn.functional.cross_entropy(out, y)
        optimizer.zero_grad()
        loss.backward()
        tl.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total, correct, count = total + loss.item() * len(y), correct + (out.argmax(1) == y).sum().item(), \
            count + len(y)
    return total / count, correct / count


ERRORS = [("09.train_one_epoch", hard_codes_tinygrad_lite, "lib is torch", "PyTorch")]


# -------------------------------------------------------------------- more wrong answers, as learners write them
def never_moves_the_batch(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """Issue 19's walk-through: the batches are never moved with .to(device)."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        output = model(x)
        loss = lib.nn.functional.cross_entropy(output, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


def sums_into_a_cpu_tensor(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """The review's: the batch is moved, the running total made with lib.zeros stays on the CPU."""
    model.train()
    total, correct, count = lib.zeros(()), 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        output = model(x)
        loss = lib.nn.functional.cross_entropy(output, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.detach() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total.item() / count, correct / count


def moves_only_the_inputs(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        output = model(x.to(device))
        loss = lib.nn.functional.cross_entropy(output, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


def moves_to_cuda(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """A fixed "cuda" instead of the device given."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to("cuda"), y.to("cuda")
        output = model(x)
        loss = lib.nn.functional.cross_entropy(output, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


def picks_the_device_itself(move_model=False):
    """The device picked in the function, "cuda" whenever a GPU is available (as the pipeline's run picks the one
    it passes), the `device` argument ignored; with ``move_model``, the model moved there too."""
    def train_one_epoch(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
        model.train()
        chosen = "cuda" if lib.cuda.is_available() else "cpu"
        if move_model:
            model.to(chosen)
        total, correct, count = 0.0, 0, 0
        for x, y in loader:
            x, y = x.to(chosen), y.to(chosen)
            output = model(x)
            loss = lib.nn.functional.cross_entropy(output, y)
            optimizer.zero_grad()
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            total += loss.item() * len(y)
            correct += (output.argmax(dim=1) == y).sum().item()
            count += len(y)
        return total / count, correct / count
    return train_one_epoch


def clips_over_a_used_up_generator(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """model.parameters() taken once, before the loop: a generator, used up by the first batch's clip."""
    model.train()
    params = model.parameters()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        output = model(x)
        loss = lib.nn.functional.cross_entropy(output, y)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(params, max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


def zero_grad_after_the_step(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """Gradients cleared after each step: the first batch adds to whatever the model arrived with."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        output = model(x)
        loss = lib.nn.functional.cross_entropy(output, y)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


def by_the_trainer(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """The library's Trainer runs the epoch, its GradientClipping callback clips: not written by the learner."""
    trainer = tl.train.Trainer(model, lib.nn.CrossEntropyLoss(), optimizer, device=device, progress=False,
                               metrics={"acc": lambda out, y: (out.argmax(1) == y).float().mean().item()},
                               callbacks=[tl.train.GradientClipping(max_norm)])
    logs = trainer.train_one_epoch(loader)
    return logs["train_loss"], logs["train_acc"]


def fit_train_mode_after_validation(lib, model, optimizer, scheduler, loaders, config):
    """train() right after each validation, but not before the first epoch: a model that arrives in eval mode
    trains its first epoch in eval mode."""
    stopper = tl.train.EarlyStopping(patience=config["patience"])
    history = {"train_loss": [], "val_loss": [], "lr": []}
    for _ in range(config["epochs"]):
        history["lr"].append(optimizer.param_groups[0]["lr"])
        history["train_loss"].append(_train_epoch(lib, model, optimizer, loaders["train"], config["max_norm"]))
        val_loss, _ = L.evaluate(lib, model, loaders["val"])
        model.train()
        history["val_loss"].append(val_loss)
        scheduler.step()
        if stopper.step(val_loss, model):
            break
    stopper.restore(model)
    history["test_loss"], history["test_acc"] = L.evaluate(lib, model, loaders["test"])
    return history


def fit_variant(lr_group=0, lr_after_step=False, test_before_restore=False, acc_before_restore=False,
                no_test_acc=False, no_clip=False, step_first=False, stopper_per_epoch=False, test_twice=False,
                val_after_stop=False, final_on="test", val_on="val", own_validation=None, lr_per_batch=False,
                losses_after_stop=False, val_if_better=False, lr_twice=False):
    """The fixed loop with one more mistake (``stopper_per_epoch``: a new EarlyStopping every epoch;
    ``test_twice``: the test set evaluated a second time after the loop; ``val_after_stop``: the stopping test
    comes before the validation loss is recorded; ``losses_after_stop``: right after validation, before both losses
    are recorded (and the scheduler stepped); ``val_if_better``: the validation loss recorded only when it improves;
    ``lr_twice``: the lr recorded again after the scheduler's step (second round of session 34); ``final_on``: the
    loader of the final evaluation; ``val_on``: the loader of the validation loss; ``own_validation``: the given
    evaluate replaced by a loop of the learner's, "train mode" (under no_grad, without model.eval()) or "graph"
    (model.eval(), without no_grad); ``lr_per_batch``: the lr recorded inside the loop over the batches)."""
    def validate(lib, model, loader):
        if own_validation is None:
            return L.evaluate(lib, model, loader)
        total, count = 0.0, 0
        if own_validation == "graph":
            model.eval()
        with lib.no_grad() if own_validation == "train mode" else contextlib.nullcontext():
            for x, y in loader:
                total, count = total + lib.nn.functional.cross_entropy(model(x), y).item() * len(y), count + len(y)
        return total / count, None

    def fit(lib, model, optimizer, scheduler, loaders, config):
        stopper = tl.train.EarlyStopping(patience=config["patience"])
        history = {"train_loss": [], "val_loss": [], "lr": []}
        for _ in range(config["epochs"]):
            if stopper_per_epoch:
                stopper = tl.train.EarlyStopping(patience=config["patience"])
            if not lr_after_step:
                history["lr"].append(optimizer.param_groups[lr_group]["lr"])
            model.train()
            if step_first:
                scheduler.step()
            total, count = 0.0, 0
            for x, y in loaders["train"]:
                loss = lib.nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                if not no_clip:
                    lib.nn.utils.clip_grad_norm_(model.parameters(), config["max_norm"])
                optimizer.step()
                if lr_per_batch:
                    history["lr"].append(optimizer.param_groups[lr_group]["lr"])
                total, count = total + loss.item() * len(y), count + len(y)
            val_loss, _ = validate(lib, model, loaders[val_on])
            if losses_after_stop and stopper.step(val_loss, model):
                break
            history["train_loss"].append(total / count)
            if not val_after_stop and not (val_if_better and val_loss >= min(history["val_loss"], default=1e9)):
                history["val_loss"].append(val_loss)
            if not step_first:
                scheduler.step()
            if lr_after_step or lr_twice:
                history["lr"].append(optimizer.param_groups[lr_group]["lr"])
            if not losses_after_stop and stopper.step(val_loss, model):
                break
            if val_after_stop:
                history["val_loss"].append(val_loss)
        if test_before_restore or acc_before_restore:
            early = L.evaluate(lib, model, loaders["test"])
        stopper.restore(model)
        if test_before_restore:
            history["test_loss"], history["test_acc"] = early
        else:
            history["test_loss"], history["test_acc"] = L.evaluate(lib, model, loaders[final_on])
        if acc_before_restore:
            history["test_acc"] = early[1]
        if no_test_acc:
            del history["test_acc"]
        if test_twice:
            L.evaluate(lib, model, loaders["test"])
        return history
    return fit


def fit_sums_loss_tensors(lib, model, optimizer, scheduler, loaders, config):
    """The epoch's loss summed as tensors (no .item()): the history holds tensors and their graphs."""
    stopper = tl.train.EarlyStopping(patience=config["patience"])
    history = {"train_loss": [], "val_loss": [], "lr": []}
    for _ in range(config["epochs"]):
        history["lr"].append(optimizer.param_groups[0]["lr"])
        model.train()
        total, count = 0.0, 0
        for x, y in loaders["train"]:
            loss = lib.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), config["max_norm"])
            optimizer.step()
            total, count = total + loss * len(y), count + len(y)
        history["train_loss"].append(total / count)
        val_loss, _ = L.evaluate(lib, model, loaders["val"])
        history["val_loss"].append(val_loss)
        scheduler.step()
        if stopper.step(val_loss, model):
            break
    stopper.restore(model)
    history["test_loss"], history["test_acc"] = L.evaluate(lib, model, loaders["test"])
    return history


def fit_keeps_the_live_state(lib, model, optimizer, scheduler, loaders, config):
    """Its own early stopping, which keeps dict(model.state_dict()): the same tensors as the model's, not a copy,
    so restoring them at the end restores the last weights."""
    history = {"train_loss": [], "val_loss": [], "lr": []}
    best, wait, best_state = float("inf"), 0, None
    for _ in range(config["epochs"]):
        history["lr"].append(optimizer.param_groups[0]["lr"])
        model.train()
        history["train_loss"].append(_train_epoch(lib, model, optimizer, loaders["train"], config["max_norm"]))
        val_loss, _ = L.evaluate(lib, model, loaders["val"])
        history["val_loss"].append(val_loss)
        scheduler.step()
        if val_loss < best:
            best, wait, best_state = val_loss, 0, dict(model.state_dict())
        else:
            wait += 1
            if wait >= config["patience"]:
                break
    model.load_state_dict(best_state)
    history["test_loss"], history["test_acc"] = L.evaluate(lib, model, loaders["test"])
    return history


def fit_by_the_library(lib, model, optimizer, scheduler, loaders, config):
    """tl.train.fit with callbacks for the schedule, the clipping and early stopping: not written by the learner."""
    stopper = tl.train.EarlyStopping(patience=config["patience"])
    callbacks = [tl.train.LRScheduler(scheduler), tl.train.GradientClipping(config["max_norm"]),
                 tl.train.EarlyStop(stopper)]
    logs = tl.train.fit(model, loaders["train"], lib.nn.CrossEntropyLoss(), optimizer, config["epochs"],
                        val_loader=loaders["val"], callbacks=callbacks, progress=False)
    history = {"train_loss": logs["train_loss"], "val_loss": logs["val_loss"], "lr": logs["lr"]}
    history["test_loss"], history["test_acc"] = L.evaluate(lib, model, loaders["test"])
    return history


def clips_to_one(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """Clips to 1.0, the default, whatever max_norm was given."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        output = model(x)
        loss = lib.nn.functional.cross_entropy(output, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        total += loss.item() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


def loss_through_tl(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """The loss taken with tinygrad_lite's cross_entropy whatever lib is: the PyTorch case hands it torch Tensors."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        output = model(x)
        loss = tl.nn.functional.cross_entropy(output, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        correct += (output.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


WRONG += [
    ("09.train_one_epoch", clips_to_one, "not to the max_norm this call was given"),
    ("09.train_one_epoch", zero_grad_after_the_step, "clearing them only after each step",
     "max_norm=1.0, device tl.device('cuda:0'), gradients of an earlier backward"),
    ("09.train_one_epoch", clips_over_a_used_up_generator, "the mean loss of epoch 1 should be",
     "only the first batch was clipped"),
    ("09.train_one_epoch", picks_the_device_itself(move_model=True), "the model is on cuda:0, but it was given on "
     "'cpu'", "leave the model where it is"),
    ("09.train_one_epoch", by_the_trainer, "write it yourself", "Trainer"),
    ("09.fit", fit_train_mode_after_validation, SYMPTOM["mode"], "the first one in epoch 1",
     L.BUG_HINTS["mode"][0]),
    ("09.fit", fit_variant(lr_per_batch=True), "entries for the", "one entry per epoch"),
    # a learner's own validation loop (in review: the first was called an eval-mode training step, the second
    # the wrong number of epochs)
    ("09.fit", fit_variant(own_validation="graph"), "on loaders['val'] with gradients recorded", "lib.no_grad()"),
    ("09.fit", fit_variant(own_validation="train mode"), "on loaders['val'] in train mode", "model.eval()"),
    ("09.fit", fit_variant(lr_group=1), "history['lr'] differs at epoch 1 (the first is 1)"),
    ("09.fit", fit_variant(lr_after_step=True), "history['lr'] differs at epoch 1 (the first is 1)",
     "records it after the epoch's scheduler step"),
    ("09.fit", fit_variant(stopper_per_epoch=True), "early stopping never fired",
     "its memory (the best loss so far"),
    ("09.fit", fit_variant(test_twice=True), "the test loader was read 2 times, all after the training",
     "the test set is read once, after the loop"),
    ("09.fit", fit_variant(val_after_stop=True), "the one of epoch", "is missing"),
    # (a history one entry short was a schedule's slip to the check: it counted the epochs by that list)
    ("09.fit", fit_variant(losses_after_stop=True), "history['train_loss'] has only", "the one of epoch"),
    ("09.fit", fit_variant(val_if_better=True), "history['val_loss'] has only", "those of epochs",
     "whatever its numbers"),
    ("09.fit", fit_variant(lr_twice=True), "entries for the", "a second line in the epoch"),
    ("09.fit", fit_variant(test_before_restore=True), "history['test_loss'] should be"),
    ("09.fit", fit_variant(acc_before_restore=True), "the test loader was read 2 times"),
    ("09.fit", fit_variant(no_test_acc=True), "has no 'test_acc' entry"),
    ("09.fit", fit_variant(no_clip=True), "keep the rest of the loop (the gradient clipping"),
    ("09.fit", fit_variant(step_first=True), "one learning rate in the first epoch",
     "each epoch's first step used the lr [0.0275, 0.05,"),
    ("09.fit", fit_variant(val_on="train"), "the validation loss was computed on the training loader"),
    ("09.fit", fit_variant(final_on="val"), "the test loader was never read", "evaluate the restored model on "
     "loaders['test'] once"),
    ("09.fit", fit_sums_loss_tensors, "history['train_loss'] holds a Tensor", "graph"),
    ("09.fit", fit_by_the_library, "write it yourself"),
    ("09.fit", fit_keeps_the_live_state, "history['test_loss'] should be", "must be a copy",
     "share their memory"),
]

ERRORS += [
    ("09.train_one_epoch", L._epoch(weigh="batch_size"), "'int' and 'NoneType'", "loader.batch_size, for one, "
     "is None here"),
    ("09.train_one_epoch", never_moves_the_batch, "Expected all tensors to be on the same device",
     "every batch has to be moved to the model's device"),
    ("09.train_one_epoch", moves_only_the_inputs, "(in cross_entropy)", "x and y both"),
    ("09.train_one_epoch", sums_into_a_cpu_tensor, "(in add_)", "a tensor your function creates itself",
     "must be made on the device too", ".item()"),
    ("09.train_one_epoch", moves_to_cuda, "plays a machine without a GPU", "use the `device` argument"),
    ("09.train_one_epoch", picks_the_device_itself(), "this machine has a GPU too",
     "not a device the function picks itself"),
    ("09.train_one_epoch", loss_through_tl, "must be a tinygrad_lite Tensor, not a torch.Tensor",
     "build everything through lib"),
]


def train_one_epoch_in_float32(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """Issue 32: the batch made float32 on its way ("the model wants float32"): a float64 model refuses it."""
    model.train()
    loss_sum, hits, seen = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device).float(), y.to(device)
        logits = model(x)
        loss = lib.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        loss_sum, hits, seen = loss_sum + loss.item() * len(y), hits + (logits.argmax(1) == y).sum().item(), \
            seen + len(y)
    return loss_sum / seen, hits / seen


def train_one_epoch_accuracy_of_a_float_mask(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """The accuracy as the mean of a float32 mask, weighted by the batch size (PyTorch's style): right in the
    float64 case too, where the losses and the weights are judged at float64's precision and an accuracy is not."""
    model.train()
    loss_sum, hits, seen = 0.0, 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss = lib.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        loss_sum += loss.item() * len(y)
        hits += (logits.argmax(dim=1) == y).float().mean().item() * len(y)
        seen += len(y)
    return loss_sum / seen, hits / seen


ERRORS.append(("09.train_one_epoch", train_one_epoch_in_float32, "hidden case 8 of 8",
               "the input is tinygrad_lite.float32 but the weight is tinygrad_lite.float64", "leaves the dtypes alone"))
ALSO_RIGHT.append(("09.train_one_epoch", train_one_epoch_accuracy_of_a_float_mask))


# -------------------------------------------------------------------- lesson 09's own tests
def test_the_epoch_reference_gives_pytorchs_numbers():
    """The same run on tinygrad_lite and on PyTorch (same initial weights and batches): the same numbers."""
    spec = L.EpochSpec(seed=3, n=90, batch_size=32, max_norm=0.3)
    ours = np.asarray(L.drive_train_one_epoch(L.train_one_epoch_reference, (spec,), {}))
    spec.lib = "torch"
    theirs = np.asarray(L.drive_train_one_epoch(L.train_one_epoch_reference, (spec,), {}))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_the_fit_reference_runs_on_pytorch_as_on_tinygrad_lite():
    spec = L.FitSpec(seed=5)
    init = L.initial_weights(spec.hidden, spec.seed)
    x, y = L.digits_arrays()
    rows = np.random.default_rng(spec.seed).permutation(len(y))
    parts = np.split(rows[:spec.n_train + spec.n_val + spec.n_test], [spec.n_train, spec.n_train + spec.n_val])
    histories = []
    for lib in (tl, torch):
        model = L.make_model(lib, spec.hidden, init)
        optimizer = lib.optim.AdamW(model.parameters(), lr=spec.lr)
        S = lib.optim.lr_scheduler
        scheduler = S.SequentialLR(optimizer, [S.LinearLR(optimizer, start_factor=0.1, total_iters=spec.warmup),
                                               S.CosineAnnealingLR(optimizer, T_max=spec.epochs - spec.warmup)],
                                   milestones=[spec.warmup])
        sampler = L.EpochBatches(spec.n_train, spec.batch_size, spec.seed)
        loaders = {"train": L._WatchedLoader(L._loader(lib, x[parts[0]], y[parts[0]], sampler), "train", [], sampler),
                   "val": L._loader(lib, x[parts[1]], y[parts[1]], L.EpochBatches(spec.n_val, 64)),
                   "test": L._loader(lib, x[parts[2]], y[parts[2]], L.EpochBatches(spec.n_test, 64))}
        config = {"epochs": spec.epochs, "patience": spec.patience, "max_norm": spec.max_norm}
        histories.append(L.fit_reference(lib, model, optimizer, scheduler, loaders, config))
    ours, theirs = histories
    for key in ("train_loss", "val_loss", "lr"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5)
    assert ours["test_acc"] == theirs["test_acc"]


@pytest.mark.parametrize("bugs", [b for k in range(4) for b in itertools.combinations(L.BUGS, k)])
def test_the_check_shows_the_symptoms_first_and_names_a_bug_when_it_comes_back(bugs):
    """Issue 19, item 8: the first verdict shows the symptom of each planted bug that remains and names none; run
    again on the same loop, it names the first of them (and only that one); a loop without them passes."""
    first = verdict("09.fit", with_bugs(*bugs))
    if not bugs:
        assert first.status == PASSED, first.message
        return
    for name in L.BUGS:
        assert (SYMPTOM[name] in first.message) == (name in bugs), (name, first.message)
        assert L.BUG_HINTS[name][1] not in first.message, first.message
    again = verdict("09.fit", with_bugs(*bugs), times=2)
    for name in L.BUGS:
        assert (L.BUG_HINTS[name][1] in again.message) == (name == bugs[0]), (name, again.message)


def test_each_bug_is_detected_by_its_effect_not_by_the_code():
    """The flags come from the instrumented run: a right loop that looks different has none, and each planted bug
    raises its own flag alone."""
    spec = L.FitSpec()
    assert list(np.asarray(L.drive_fit(fit_with_a_flag, (spec,), {}))[:3]) == [0, 0, 0]
    for k, name in enumerate(L.BUGS):
        flags = np.asarray(L.drive_fit(with_bugs(name), (spec,), {}))[:3]
        assert list(flags) == [float(i == k) for i in range(3)], (name, flags)


def _cell_defining(name):
    return next(c for c in read_notebook(SOLUTION).cells
                if c.cell_type == "code" and c.source.startswith(f"def {name}("))


def test_the_notebooks_buggy_loop_is_the_one_the_check_knows():
    buggy = define(_cell_defining("fit_buggy").source, dict(NAMES, evaluate=L.evaluate))["fit_buggy"]
    result = verdict("09.fit", buggy)
    assert "3 symptoms of planted bugs" in result.message, result.message
    assert np.array_equal(np.asarray(L.drive_fit(buggy, (L.FitSpec(),), {})),
                          np.asarray(L.drive_fit(L.fit_buggy, (L.FitSpec(),), {})), equal_nan=True)


def test_the_visible_epoch_case_is_the_notebooks_example():
    namespace = {}
    for cell in read_notebook(SOLUTION).cells:
        if cell.cell_type == "code" and cell.source.startswith("example_run = "):
            define(cell.source, namespace)
    example, spec = namespace["example_run"], get_exercise("09.train_one_epoch").all_cases()[0].args[0]
    assert (example["digits"], example["batch_size"], example["hidden"], example["lr"], example["max_norm"]) == \
        (spec.n, spec.batch_size, spec.hidden, spec.lr, spec.max_norm)


def test_the_visible_fit_case_is_the_one_the_notebook_describes():
    spec = get_exercise("09.fit").all_cases()[0].args[0]
    text = "\n".join(c.source for c in read_notebook(SOLUTION).cells if c.cell_type == "markdown")
    assert (f"up to {spec.epochs} epochs ({spec.warmup} of warmup), patience {spec.patience}, "
            f"{spec.n_train} training digits in batches of {spec.batch_size}") in text


def test_the_exercise_texts_hold_no_finished_code():
    text = "\n".join(c.source for c in read_notebook(RELEASED).cells if c.cell_type == "markdown")
    for line in ("clip_grad_norm_(model.parameters()", "scheduler.step()  #", "stopper.step(val_loss"):
        assert line not in text


def test_without_pytorch_the_epoch_checks_pytorch_case_reads_the_code_for_tinygrad_lite_named_directly(monkeypatch):
    """The course needs no PyTorch (a hosted notebook may have none). There the epoch check's case on PyTorch runs
    on tinygrad_lite, after reading the learner's code for tinygrad_lite named directly instead of through lib:
    the same seeds give the same other cases; a loop that hard-codes tl fails with a message that says so, and
    the right answer passes all the cases."""
    exercise = get_exercise("09.train_one_epoch")
    with_torch = exercise.cases(np.random.default_rng(7))
    monkeypatch.setitem(sys.modules, "torch", None)  # how a test hides an installed package
    without = exercise.cases(np.random.default_rng(7))
    assert [c.label for c in with_torch if c.args[0].lib != "torch"] == [c.label for c in without
                                                                       if not c.args[0].by_name]
    assert len(without) == len(with_torch) and [c.args[0].by_name for c in without].count(True) == 1
    reference = pipeline.Reference.for_check(exercise)
    result = run_check(exercise, hard_codes_tinygrad_lite, reference=reference)
    text = " ".join(result.text.split())
    assert not result and "names tinygrad_lite's clip_grad_norm_, cross_entropy directly, not through lib" in text
    assert run_check(exercise, train_one_epoch, reference=reference).status == PASSED
    # (review 0809) code that runs on torch tensors although it names tl: refused here as on PyTorch (WRONG); and
    # tl.metrics, which has no counterpart in lib, passes here as on PyTorch (ALSO_RIGHT)
    result = run_check(exercise, counts_under_tl_no_grad, reference=reference)
    assert not result and "names tinygrad_lite's no_grad directly, not through lib" in " ".join(result.text.split())
    assert run_check(exercise, train_one_epoch_with_running_means, reference=reference).status == PASSED


# -------------------------------------------------------------------- review 0809, learner attack
def backward_from_the_summed_loss(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """A learner's: reduction='sum', its loss added to the total as it is (right numbers, larger steps)."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        out = model(x)
        loss = lib.nn.functional.cross_entropy(out, y, reduction="sum")
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total, correct, count = total + loss.item(), correct + (out.argmax(dim=1) == y).sum().item(), count + len(y)
    return total / count, correct / count


def counts_under_tl_no_grad(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    """Right but for tl.no_grad() (not lib.no_grad()) around the counting: on PyTorch it runs without an error
    (it passed there, and was refused without PyTorch); now refused on that case either way."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss = lib.nn.functional.cross_entropy(out, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        with tl.no_grad():
            correct += (out.argmax(dim=1) == y).sum().item()
        count += len(y)
    return total / count, correct / count


WRONG += [("09.train_one_epoch", counts_under_tl_no_grad, "hidden case 5 of 8", "the same loop on PyTorch",
           "names tinygrad_lite's no_grad directly, not through lib"),
          ("09.train_one_epoch", backward_from_the_summed_loss, "backward() started from the SUM")]


def _epoch_slip(slip):
    """(session 32's attacks) a learner's epoch with one slip: "first group", the clip of the optimizer's first
    param group only; "each", each parameter clipped on its own; "first size", every batch counted as the first
    one's size; "once", zero_grad before the loop only; "step first", step() before backward()."""
    def train_one_epoch(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
        model.train()
        loss_sum, hits, seen, first = 0.0, 0, 0, None
        if slip == "once":
            optimizer.zero_grad()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = lib.nn.functional.cross_entropy(logits, y)
            if slip != "once":
                optimizer.zero_grad()
            if slip == "step first":
                optimizer.step()
            loss.backward()
            if slip == "first group":
                lib.nn.utils.clip_grad_norm_(optimizer.param_groups[0]["params"], max_norm=max_norm)
            elif slip == "each":
                for p in model.parameters():
                    lib.nn.utils.clip_grad_norm_([p], max_norm=max_norm)
            else:
                lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
            if slip != "step first":
                optimizer.step()
            first = first or y.shape[0]
            n = first if slip == "first size" else y.shape[0]
            loss_sum += loss.item() * n
            hits += int((logits.argmax(1) == y).sum().item())
            seen += n
        return loss_sum / seen, hits / seen
    return train_one_epoch


WRONG += [("09.train_one_epoch", _epoch_slip("first group"), "the optimizer's first param group only"),
          ("09.train_one_epoch", _epoch_slip("each"), "each parameter's gradient on its own"),
          ("09.train_one_epoch", _epoch_slip("first size"), "counted as the size of the first one"),
          ("09.train_one_epoch", _epoch_slip("once"), "cleared once, before the loop"),
          ("09.train_one_epoch", _epoch_slip("step first"), "no step() ran after backward()")]


WRONG += [
    ("09.train_one_epoch", _epoch_written(keep="batch means"), "a plain mean of the batch means"),
    ("09.train_one_epoch", _epoch_written(accuracy="train first"), "running statistics and batch count",
     "updates them twice"),
    ("09.fit", _fit_watching(accuracy=True), "counted an improving validation score as getting worse"),
    ("09.fit", _fit_watching(mode="max"), "counted an improving validation score as getting worse"),
    ("09.train_one_epoch", _epoch_written(accuracy="fractions"), "come out too small"),
]
