"""Lesson 08 (GPU training): the answers learners write for each exercise, and the lesson's special cases.

``tests/test_lessons.py`` runs the generic tests on the data here: ``SOLUTIONS`` and ``ALSO_RIGHT`` pass; every
row of ``WRONG`` fails, and of ``ERRORS`` is an error, with the texts it lists (a Mistake's hint, the problem a
run reports, or an error hint); every hint tier is reached by a row. This file adds what is lesson 08's own: the
loss-scaling reference equals ``torch.amp.GradScaler("cpu")`` step for step on every case (scale, skipped steps,
weights; the float16 cases overflow in the gradients with a finite loss), the train_step reference equals a
PyTorch step on every case, the GPU played on the CPU behaves like a GPU (it is tests/fake_cupy.py's stand-in
too), the simulated GPU is asynchronous, the notebook's examples are the checks' visible cases, and no cell
before the timing exercise holds the finished timer.
"""
import importlib
import math
import statistics
import time
from functools import partial

import numpy as np
import pytest
import torch
from lesson_helpers import define, exercise_cells, finished_lines_shown, notebooks, run_example_cells, verdict

import tinygrad_lite as tl
from tinygrad_lite import nn, optim
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.exercises import lesson08
from tinygrad_lite.course.exercises.lesson08 import (
    LoaderBatch,
    SimulatedGPU,
    drive_scaled_steps,
    no_gpu,
    scaled_step_example,
    scaled_step_reference,
    stand_in_gpu,
    synchronize,
    time_op_example,
    train_step_example,
)
from tinygrad_lite.course.notebooks import read_notebook
from tinygrad_lite.course.stand_in_gpu import on_gpu

LESSON = "08_gpu_training"
SOLUTION, RELEASED = notebooks(LESSON)
NAMES = {"np": np, "math": math, "time": time, "statistics": statistics, "tl": tl, "nn": nn, "optim": optim,
         "synchronize": synchronize}


# -------------------------------------------------------------------- solutions, as a learner would write them
def train_step(model, x, y, loss_fn, optimizer, device):
    x = x.to(device)
    y = y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def time_op(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return statistics.median(times)


def scaled_step(loss, model, optimizer, state, max_norm=None):
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    if not tl.stack([tl.isfinite(p.grad).all() for p in params]).all():
        state["scale"] = scale * state["backoff_factor"]
        state["good_steps"] = 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"] *= state["growth_factor"]
        state["good_steps"] = 0
    return True


SOLUTIONS = {"08.train_step": train_step, "08.time_op": time_op, "08.scaled_step": scaled_step}


def train_step_set_to_none(model, x, y, loss_fn, optimizer, device):
    model.to(device)                         # the model is already there: a no-op, allowed
    optimizer.zero_grad(set_to_none=True)
    x, y = x.to(device, non_blocking=True), y.to(device=device)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return float(loss.item())


def time_op_np(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()                              # an extra sync before starting: harmless
        start = clock()
        fn()
        sync()
        end = clock()
        times.append(end - start)
    return float(np.median(times))


def scaled_step_mul_(loss, model, optimizer, state, max_norm=None):
    (loss * state["scale"]).backward()
    inv = 1.0 / state["scale"]
    found_inf = False
    for p in model.parameters():
        if p.grad is None:                   # a parameter the loss does not use
            continue
        p.grad.mul_(inv)
        found_inf |= not np.isfinite(p.grad.cpu().numpy()).all()   # (a copy to the host: right on any device)
    if found_inf:
        state["scale"] *= state["backoff_factor"]
        state["good_steps"] = 0
        return False
    if max_norm:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    state["good_steps"] = (state["good_steps"] + 1) % state["growth_interval"]
    if state["good_steps"] == 0:
        state["scale"] *= state["growth_factor"]
    return True


def train_step_reshaped(model, x, y, loss_fn, optimizer, device):
    """Issue 19's refused right answer: a view of the batch after moving it (the view stays on the device)."""
    x = x.to(device)
    x = x.view(len(x), -1)
    y = y.to(device)
    model.train()                            # it arrives in training mode: harmless
    model.zero_grad()
    output = model(x)
    loss = loss_fn(output, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()                    # clearing again at the end too: harmless
    return loss.item()


def train_step_to_the_weights(model, x, y, loss_fn, optimizer, device):
    """The batch moved to where the model's weights are (the same device), cast to their dtype and scaled on the
    way (a .float() there fails the float64 case: train_step_in_float32)."""
    weight = next(model.parameters())
    where = weight.device
    inputs = x.to(where).to(weight.dtype) * 1.0
    targets = y.cuda() if where.type == "cuda" else y.cpu()
    for p in model.parameters():
        p.grad = None
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return float(loss.detach().cpu().numpy())


def time_op_sorted(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """The median by hand (both middle values for an even count), the times in a preallocated array."""
    [fn() for _ in range(warmup)]
    sync()
    times = np.empty(repeats)
    for k in range(repeats):
        t0 = clock()
        fn()
        sync()
        t1 = clock()
        times[k] = t1 - t0
    ordered = sorted(times)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return float((ordered[middle - 1] + ordered[middle]) / 2)


def scaled_step_vectorised(loss, model, optimizer, state, max_norm=None):
    """One finiteness test over all gradients at once (tl.isfinite on each, then all), in-place unscaling."""
    S = state["scale"]
    (S * loss).backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    for g in grads:
        g.div_(S)
    finite = all(bool(tl.isfinite(g).all()) for g in grads)
    if finite:
        if max_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
        optimizer.step()
        state["good_steps"] = state["good_steps"] + 1
        if state["good_steps"] >= state["growth_interval"]:
            state["good_steps"], state["scale"] = 0, S * state["growth_factor"]
    else:
        state.update(scale=S * state["backoff_factor"], good_steps=0)
    return finite


def time_op_drops_the_warmup(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """Every call timed and synchronised, the warmup's times thrown away afterwards."""
    times = []
    for _ in range(warmup + repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return statistics.median(times[warmup:])


ALSO_RIGHT = [
    ("08.train_step", train_step_set_to_none),
    ("08.train_step", train_step_reshaped),
    ("08.train_step", train_step_to_the_weights),
    ("08.time_op", time_op_np),
    ("08.time_op", time_op_sorted),
    ("08.time_op", time_op_drops_the_warmup),
    ("08.scaled_step", scaled_step_mul_),
    ("08.scaled_step", scaled_step_vectorised),
]


# -------------------------------------------------------------------- wrong answers and their messages
def ts(**switches):
    """train_step with one mistake (see lesson08._step)."""
    def wrong(model, x, y, loss_fn, optimizer, device):
        return step_with(model, x, y, loss_fn, optimizer, device, **switches)
    return wrong


def step_with(model, x, y, loss_fn, optimizer, device, *, move_x=True, move_y=True, keep_x=True, zero=True,
              zero_late=False, step="after", loss_after=False, fixed=None, returns="item", item_first=False):
    target = fixed or device
    if move_x:
        moved = x.to(target)
        x = moved if keep_x else x
    if move_y:
        y = y.to(target)
    if zero:
        optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    if item_first:
        loss = loss.item()
    if step == "before":
        optimizer.step()
    loss.backward()
    if zero_late:
        optimizer.zero_grad()
    if step == "after":
        optimizer.step()
    if loss_after:
        return loss_fn(model(x), y).item()
    return {"item": loss.item(), "tensor": loss, "none": None, "list": [loss.item()]}[returns]


def to(**switches):
    """time_op with one mistake."""
    def wrong(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
        return timed_with(fn, repeats, warmup, clock, sync, **switches)
    return wrong


def timed_with(fn, repeats, warmup, clock, sync, *, do_warmup=True, where="after", summary="median",
               total=False, unit=1.0, returns="value", timed_warmup=False):
    if do_warmup and not timed_warmup:
        for _ in range(warmup):
            fn()
        sync()
    if total:
        start = clock()
        for _ in range(repeats):
            fn()
        sync()
        return (clock() - start) / repeats
    times = []
    for _ in range(repeats + (warmup if timed_warmup else 0)):
        if where == "before":
            sync()
        start = clock()
        fn()
        if where == "after":
            sync()
        end = clock()
        if where == "late":
            sync()
        times.append(end - start)
    if returns == "list":
        return times
    value = {"median": statistics.median, "mean": statistics.mean, "min": min}[summary](times) * unit
    return np.array([value]) if returns == "array" else value


def ignores(name):
    """time_op that uses time.perf_counter or the lesson's synchronize instead of the argument it was given."""
    def wrong(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
        if name == "clock":
            clock = time.perf_counter
        else:
            sync = synchronize
        return timed_with(fn, repeats, warmup, clock, sync)
    return wrong


def ss(**switches):
    """scaled_step with one mistake."""
    def wrong(loss, model, optimizer, state, max_norm=None):
        return scaled_with(loss, model, optimizer, state, max_norm, **switches)
    return wrong


def scaled_with(loss, model, optimizer, state, max_norm, *, unscale=True, check=True, test="isfinite",
                backoff=True, grow="interval", reset=True, clip_first=False, returns="bool", local=False):
    scale = state["scale"]
    (loss * scale).backward()
    params = list(model.parameters())
    if clip_first and max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    if unscale:
        for p in params:
            p.grad = p.grad / scale
    grads = [p.grad.numpy() for p in params]
    bad = (any(np.isinf(g).any() for g in grads) if test == "isinf"
           else any(np.isnan(g).any() for g in grads) if test == "isnan"
           else not all(np.isfinite(g).all() for g in grads))
    if bad and check:
        if backoff:
            state["scale"] = scale * state["backoff_factor"]
        if reset:
            state["good_steps"] = 0
        return False if returns == "bool" else None
    if max_norm is not None and not clip_first:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if grow == "every":
        state["scale"] = scale * state["growth_factor"]
    elif state["good_steps"] == state["growth_interval"]:
        state["scale"] = scale * state["growth_factor"]
        state["good_steps"] = 0
    if local:
        state["scale"] = tl.tensor(state["scale"])
    return {"bool": True, "none": None, "int": 1}[returns]


WRONG = [
    # 08.train_step
    ("08.train_step", ts(zero=False), "backward ADDS to them"),
    ("08.train_step", ts(zero=False, zero_late=True), "the weights did not learn"),
    ("08.train_step", ts(step="none"), "the weights did not learn"),
    ("08.train_step", ts(step="before"), "the weights did not learn"),
    ("08.train_step", ts(loss_after=True), "before the step"),
    ("08.train_step", ts(returns="tensor"), "the loss as a plain Python float", ".item()", "graph"),
    ("08.train_step", ts(returns="none"), "returned None"),
    ("08.train_step", ts(returns="list"), "returned a list"),
]

ERRORS = [
    ("08.train_step", ts(move_x=False, move_y=False), "Expected all tensors to be on the same device",
     "never moved", "x and y both"),
    ("08.train_step", ts(move_y=False), "the target (y) was never moved", "x and y both"),
    ("08.train_step", ts(keep_x=False), "its result was not used", "returns a new tensor"),
    ("08.train_step", ts(fixed="cuda"), "device 'cuda' needs CuPy", "plays a machine without a GPU",
     "use the `device` argument"),
    ("08.train_step", ts(item_first=True), "'float' object has no attribute 'backward'",
     ".item() turns the loss into a plain Python number"),
]

WRONG += [
    # 08.time_op
    ("08.time_op", to(where="none"), "the clock was read while the work was still queued"),
    ("08.time_op", ignores("clock"), "never called `clock`"),
    ("08.time_op", ignores("sync"), "never called `sync`"),
    ("08.time_op", to(where="late"), "the clock was read while the work was still queued"),
    ("08.time_op", to(where="before"), "the clock was read while the work was still queued"),
    ("08.time_op", to(do_warmup=False), "the first calls of an op are slow"),
    ("08.time_op", to(summary="mean"), "report the MEDIAN"),
    ("08.time_op", to(total=True), "report the MEDIAN"),
    ("08.time_op", to(summary="min"), "the luckiest repeat"),
    ("08.time_op", to(unit=1e3), "yours is 1000 times larger (milliseconds)"),
    ("08.time_op", to(unit=1e6), "yours is a million times larger (microseconds)"),
    ("08.time_op", to(unit=1e9), "a billion times larger (nanoseconds)"),
    ("08.time_op", to(unit=1e-3), "yours is 1000 times smaller. The clock's readings are already in seconds"),
    ("08.time_op", to(unit=1e-6), "yours is a million times smaller"),
    ("08.time_op", to(returns="list"), "return ONE number"),
    ("08.time_op", to(returns="array"), "return ONE number"),
    # 08.scaled_step
    ("08.scaled_step", ss(check=False), "SKIPS the step"),
    ("08.scaled_step", ss(test="isinf"), "(isinf, or == inf) misses nan"),
    ("08.scaled_step", ss(test="isnan"), "isnan misses inf"),
    ("08.scaled_step", ss(unscale=False), "S times too large"),
    ("08.scaled_step", ss(clip_first=True), "you clipped the SCALED gradients"),
    ("08.scaled_step", ss(backoff=False), "the scale must come DOWN"),
    ("08.scaled_step", ss(reset=False), "IN A ROW"),
    ("08.scaled_step", ss(grow="every"), "not at every step"),
    ("08.scaled_step", ss(returns="none"), "return True when the optimizer stepped"),
    ("08.scaled_step", ss(local=True), "keep it a plain number"),
]



# -------------------------------------------------------------------- more wrong answers, as learners write them
def train_step_eval_first(model, x, y, loss_fn, optimizer, device):
    """Issue 19's walk-through: the model switched to eval mode as the step's first line."""
    model.eval()
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_step_zero_at_the_end(model, x, y, loss_fn, optimizer, device):
    """Gradients cleared after the step, ready for the next one: the first step uses stale gradients."""
    x, y = x.to(device), y.to(device)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def train_step_own_sgd(model, x, y, loss_fn, optimizer, device):
    """Ignores the optimizer given and builds its own SGD (another learning rate) at every step."""
    opt = tl.optim.SGD(model.parameters(), lr=0.5)
    x, y = x.to(device), y.to(device)
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def time_op_sync_before_fn(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """Waits for the device between the first clock reading and fn(): the work of fn is still queued at the end."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        sync()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def scaled_step_unscaled(loss, model, optimizer, state, max_norm=None):
    """Never scales: backward of the loss itself, the finite test and the scale's updates as they should be."""
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    if not all(np.isfinite(p.grad.numpy()).all() for p in params):
        state["scale"] *= state["backoff_factor"]
        state["good_steps"] = 0
        return False
    if max_norm is not None:
        tl.nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"] *= state["growth_factor"]
        state["good_steps"] = 0
    return True


def train_step_new_optimizer(model, x, y, loss_fn, optimizer, device):
    """A fresh optimizer with the same settings every step: momentum and Adam's state are lost."""
    opt = type(optimizer)(model.parameters(), **optimizer.defaults)
    x, y = x.to(device), y.to(device)
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def train_step_moves_the_model(model, x, y, loss_fn, optimizer, device):
    """Moves the model to a fixed GPU, and the batch to the device given."""
    model.cuda()
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_step_picks_the_device(model, x, y, loss_fn, optimizer, device):
    """The device picked in the step ("cuda" whenever a GPU is available, as pick_device does), `device` ignored."""
    chosen = "cuda" if tl.cuda.is_available() else "cpu"
    x, y = x.to(chosen), y.to(chosen)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_step_detached_output(model, x, y, loss_fn, optimizer, device):
    """The output detached (and made a leaf that requires grad): backward stops there, the weights get nothing."""
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    out = model(x).detach()
    out.requires_grad_(True)
    loss = loss_fn(out, y)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_step_by_hand(model, x, y, loss_fn, optimizer, device):
    """A plain SGD update written by hand; the optimizer given is never used."""
    x, y = x.to(device), y.to(device)
    for p in model.parameters():
        p.grad = None
    loss = loss_fn(model(x), y)
    loss.backward()
    with tl.no_grad():
        for p in model.parameters():
            p -= 0.5 * p.grad
    return loss.item()


def scaled_step_unscaled_in_float16(loss, model, optimizer, state, max_norm=None):
    """Unscales in float16 (the gradient rounded to float16, divided by a float16 scale): off by a rounding."""
    scale = state["scale"]
    (loss * scale).backward()
    params = list(model.parameters())
    for p in params:
        p.grad = tl.tensor((p.grad.numpy().astype(np.float16) / np.float16(scale)).astype(np.float32))
    if not all(np.isfinite(p.grad.numpy()).all() for p in params):
        state["scale"] = scale * state["backoff_factor"]
        state["good_steps"] = 0
        return False
    if max_norm is not None:
        tl.nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"] = scale * state["growth_factor"]
        state["good_steps"] = 0
    return True


def train_step_only_x_moved_as_copy(model, x, y, loss_fn, optimizer, device):
    """x moved, y left where the loader put it."""
    inputs = x.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_step_sum_of_losses(model, x, y, loss_fn, optimizer, device):
    """Returns the batch's total loss instead of its mean."""
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item() * len(x)


def train_step_by_the_trainer(model, x, y, loss_fn, optimizer, device):
    """The library's Trainer does the step: not written by the learner."""
    trainer = tl.train.Trainer(model, loss_fn, optimizer, device=device, progress=False)
    return trainer.train_one_epoch([(x, y)])["train_loss"]


def time_op_no_sync_after_warmup(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return statistics.median(times)


def time_op_upper_middle(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return sorted(times)[repeats // 2]


def time_op_times_the_warmup_too(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    times = []
    for _ in range(warmup + repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return statistics.median(times)


def time_op_one_warmup_too_few(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    for _ in range(1, warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return statistics.median(times)


def time_op_one_repeat_too_many(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats + 1):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return statistics.median(times)


def scaled_step_tests_the_loss(loss, model, optimizer, state, max_norm=None):
    """Issue 19's walk-through: the finiteness test is on the loss, not on the gradients."""
    if not math.isfinite(loss.item()):
        state["scale"] *= state["backoff_factor"]
        state["good_steps"] = 0
        return False
    (loss * state["scale"]).backward()
    for p in model.parameters():
        p.grad = p.grad / state["scale"]
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"] *= state["growth_factor"]
        state["good_steps"] = 0
    return True


clean_steps = 0


def scaled_step_counts_in_a_global(loss, model, optimizer, state, max_norm=None):
    """The count of clean steps kept in a global variable: state["good_steps"] never moves."""
    global clean_steps
    scale = state["scale"]
    (loss * scale).backward()
    for p in model.parameters():
        p.grad = p.grad / scale
    if not all(np.isfinite(p.grad.numpy()).all() for p in model.parameters()):
        state["scale"] = scale * state["backoff_factor"]
        clean_steps = 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    clean_steps += 1
    if clean_steps == state["growth_interval"]:
        state["scale"] = scale * state["growth_factor"]
        clean_steps = 0
    return True


def scaled_step_modulo(loss, model, optimizer, state, max_norm=None):
    """Grows when the count is a multiple of growth_interval, and never resets it after growing."""
    scale = state["scale"]
    (loss * scale).backward()
    for p in model.parameters():
        p.grad = p.grad / scale
    if not all(np.isfinite(p.grad.numpy()).all() for p in model.parameters()):
        state["scale"] = scale * state["backoff_factor"]
        state["good_steps"] = 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] % state["growth_interval"] == 0:
        state["scale"] = scale * state["growth_factor"]
    return True


def scaled_step_grows_one_late(loss, model, optimizer, state, max_norm=None):
    """`>` where `==` (or `>=`) was meant: grows one clean step late."""
    scale = state["scale"]
    (loss * scale).backward()
    for p in model.parameters():
        p.grad = p.grad / scale
    if not all(np.isfinite(p.grad.numpy()).all() for p in model.parameters()):
        state["scale"] = scale * state["backoff_factor"]
        state["good_steps"] = 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] > state["growth_interval"]:
        state["scale"] = scale * state["growth_factor"]
        state["good_steps"] = 0
    return True


def scaled_step_counts_skipped_steps(loss, model, optimizer, state, max_norm=None):
    """A skipped step also counts as a step (the count goes up before the test)."""
    scale = state["scale"]
    (loss * scale).backward()
    state["good_steps"] += 1
    for p in model.parameters():
        p.grad = p.grad / scale
    if not all(np.isfinite(p.grad.numpy()).all() for p in model.parameters()):
        state["scale"] = scale * state["backoff_factor"]
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    if state["good_steps"] >= state["growth_interval"]:
        state["scale"] = scale * state["growth_factor"]
        state["good_steps"] = 0
    return True


def scaled_step_with_the_librarys_scaler(loss, model, optimizer, state, max_norm=None):
    """The library's GradScaler does the work, its state copied in and out of the dict: not written by the
    learner (the exercise says write it yourself)."""
    scaler = tl.amp.GradScaler("cpu", init_scale=state["scale"], growth_factor=state["growth_factor"],
                               backoff_factor=state["backoff_factor"], growth_interval=state["growth_interval"])
    scaler._init_growth_tracker = state["good_steps"]
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    stepped = all(np.isfinite(p.grad.numpy()).all() for p in model.parameters())
    if stepped and max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    state["scale"], state["good_steps"] = scaler.get_scale(), scaler._get_growth_tracker()
    return stepped


def train_step_under_no_grad(model, x, y, loss_fn, optimizer, device):
    """The forward pass under no_grad ("it is faster"): the loss has no graph."""
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    with tl.no_grad():
        output = model(x)
    loss = loss_fn(output, y)
    loss.backward()
    optimizer.step()
    return loss.item()


def scaled_step_halves_and_doubles(loss, model, optimizer, state, max_norm=None):
    """GradScaler's default factors, 0.5 and 2, written in instead of the state's."""
    s = state["scale"]
    (loss * s).backward()
    for p in model.parameters():
        p.grad = p.grad / s
    if not all(np.isfinite(p.grad.numpy()).all() for p in model.parameters()):
        state["scale"], state["good_steps"] = s / 2, 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = s * 2, 0
    return True


def scaled_step_clips_always(loss, model, optimizer, state, max_norm=None):
    """Clips to max_norm or 1.0: clipping although max_norm is None."""
    s = state["scale"]
    (loss * s).backward()
    for p in model.parameters():
        p.grad = p.grad / s
    if not all(np.isfinite(p.grad.numpy()).all() for p in model.parameters()):
        state["scale"], state["good_steps"] = s * state["backoff_factor"], 0
        return False
    nn.utils.clip_grad_norm_(model.parameters(), max_norm or 1.0)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = s * state["growth_factor"], 0
    return True


def scaled_step_unscales_after_the_update(loss, model, optimizer, state, max_norm=None):
    """The scaled gradients tested, the state updated, then unscaled with the (possibly grown) new scale."""
    (loss * state["scale"]).backward()
    if not all(np.isfinite(p.grad.numpy()).all() for p in model.parameters()):
        state["scale"] *= state["backoff_factor"]
        state["good_steps"] = 0
        return False
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"] *= state["growth_factor"]
        state["good_steps"] = 0
    for p in model.parameters():
        p.grad = p.grad / state["scale"]
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return True


def train_step_returns_numpy_float32(model, x, y, loss_fn, optimizer, device):
    """Review of issue 19: the loss returned as a numpy float32, not a Python float (the task says a float)."""
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return np.float32(loss.item())


def time_op_returns_numpy_float32(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """Review of issue 19: the median returned as a numpy float32 (the old message only showed two numbers)."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return np.float32(statistics.median(times))


def scaled_step_scales_the_loss_in_place(loss, model, optimizer, state, max_norm=None):
    """Review of issue 19: `loss *= S` changes the caller's loss tensor (the notebook then printed the scaled
    loss, 3960 where the loss was 0.48); the rest is right."""
    scale = state["scale"]
    loss *= scale
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    if not all(np.isfinite(p.grad.numpy()).all() for p in params):
        state["scale"] = scale * state["backoff_factor"]
        state["good_steps"] = 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"] = scale * state["growth_factor"]
        state["good_steps"] = 0
    return True


def scaled_step_by_torch_unscale_kernel(loss, model, optimizer, state, max_norm=None):
    """GradScaler's own kernel unscales and tests the gradients (views of them) in one call; the rest by hand."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    found_inf = torch.zeros(1)
    torch._amp_foreach_non_finite_check_and_unscale_([torch.from_numpy(p.grad.numpy()) for p in params], found_inf,
                                                     torch.tensor([1.0 / scale]))
    if found_inf.item():
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


def scaled_step_by_torch_update_kernel(loss, model, optimizer, state, max_norm=None):
    """GradScaler's own kernel moves the scale and the count of good steps; the unscaling by hand."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    finite = all(np.isfinite(p.grad.numpy()).all() for p in params)
    if finite:
        if max_norm is not None:
            nn.utils.clip_grad_norm_(params, max_norm)
        optimizer.step()
    scale_t = torch.tensor([scale], dtype=torch.float64).float()
    tracker = torch.tensor([state["good_steps"]], dtype=torch.int32)
    torch._amp_update_scale_(scale_t, tracker, torch.tensor([0.0 if finite else 1.0]), state["growth_factor"],
                             state["backoff_factor"], state["growth_interval"])
    state["scale"], state["good_steps"] = scale_t.item(), int(tracker.item())
    return finite


WRITE_IT_YOURSELF = [
    ("08.train_step", train_step_by_the_trainer, "write it yourself", "Trainer"),
    ("08.scaled_step", scaled_step_with_the_librarys_scaler, "write it yourself", "GradScaler"),
    # issue 32 review: GradScaler's kernels, each a part of the scaler's work in one call
    ("08.scaled_step", scaled_step_by_torch_unscale_kernel,
     "your code uses torch._amp_foreach_non_finite_check_and_unscale_"),
    ("08.scaled_step", scaled_step_by_torch_update_kernel, "your code uses torch._amp_update_scale_"),
]

WRONG += [
    ("08.train_step", train_step_eval_first, "training mode", "running statistics"),
    ("08.train_step", train_step_zero_at_the_end, "clearing them only at the END of the step"),
    ("08.train_step", train_step_new_optimizer, "carries state from step to step"),
    ("08.train_step", train_step_own_sgd, "the optimizer you were given never stepped"),
    ("08.train_step", train_step_by_hand, "the optimizer you were given never stepped", "written by hand"),
    ("08.train_step", train_step_detached_output, "the weights did not learn", "cut off from the weights"),
    ("08.scaled_step", scaled_step_unscaled_in_float16, "the weights after step 0 are not the right ones (largest "
     "difference"),
    ("08.time_op", time_op_sync_before_fn, "waits for nothing of this repeat"),
    ("08.scaled_step", scaled_step_unscaled, "the loss was not scaled before backward()"),
    ("08.train_step", train_step_sum_of_losses, "the loss of the batch, computed before the update"),
    ("08.time_op", time_op_no_sync_after_warmup, "the warmup calls were still queued"),
    ("08.time_op", time_op_upper_middle, "two middle times"),
    ("08.time_op", time_op_times_the_warmup_too, "must not be among the times"),
    ("08.time_op", time_op_one_warmup_too_few, "warmup + repeats"),
    ("08.time_op", time_op_one_repeat_too_many, "warmup + repeats"),
    ("08.scaled_step", scaled_step_tests_the_loss, "what overflows is the GRADIENTS", "float16"),
    ("08.scaled_step", scaled_step_counts_in_a_global, "the count of clean steps", "lives in the dict"),
    ("08.scaled_step", scaled_step_modulo, "your count of clean steps was not restarted when the scale grew"),
    ("08.scaled_step", scaled_step_grows_one_late, "your scale grows one step late"),
    ("08.scaled_step", scaled_step_counts_skipped_steps, "the count of clean steps"),
    ("08.scaled_step", scaled_step_halves_and_doubles, "not 0.5 and 2"),
    ("08.scaled_step", scaled_step_clips_always, "max_norm=None means: do not clip"),
    ("08.scaled_step", scaled_step_unscales_after_the_update, "divide by that scale, before the state changes it"),
    ("08.train_step", train_step_returns_numpy_float32, "not a Python float"),
    ("08.time_op", time_op_returns_numpy_float32, "not a Python float"),
    ("08.scaled_step", scaled_step_scales_the_loss_in_place, "changed the caller's loss tensor in place"),
] + WRITE_IT_YOURSELF


# -------------------------------------------------------------------- review 0809, second round
def time_op_lower_middle(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """statistics.median_low: the lower of the two middle times when repeats is even."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return float(statistics.median_low(times))


def train_step_logs_a_forward_first(model, x, y, loss_fn, optimizer, device):
    """A forward pass for a value to log, then the real one: batch norm's statistics are updated twice."""
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    value = loss_fn(model(x), y).item()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return value


def train_step_own_loss(model, x, y, loss_fn, optimizer, device):
    """Cross-entropy whatever loss_fn the caller gave."""
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def scaled_step_returns_numpy_bool(loss, model, optimizer, state, max_norm=None):
    """Right, but the flag is numpy's np.bool_ (from np.all)."""
    scale = state["scale"]
    (loss * scale).backward()
    params = list(model.parameters())
    for p in params:
        p.grad = p.grad / scale
    ok = np.all([np.isfinite(p.grad.numpy()).all() for p in params])
    if not ok:
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return ok
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return ok


def scaled_step_steps_before_the_test(loss, model, optimizer, state, max_norm=None):
    """The optimizer steps first; the finite test then only updates the state and the flag."""
    scale = state["scale"]
    (loss * scale).backward()
    params = list(model.parameters())
    for p in params:
        p.grad = p.grad / scale
    optimizer.step()
    if not all(np.isfinite(p.grad.numpy()).all() for p in params):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


WRONG += [
    ("08.train_step", partial(lesson08._step, steps=2), "stepped more than once for one batch"),
    ("08.train_step", partial(lesson08._step, per_example=True), "already returns the MEAN over the batch"),
    ("08.train_step", train_step_own_loss, "use the loss function you were given"),
    ("08.train_step", train_step_logs_a_forward_first, "the weights are right, but batch norm's buffers are not",
     "num_batches_tracked", "ran twice in one step"),
    ("08.scaled_step", scaled_step_returns_numpy_bool, "a numpy bool_, not a Python bool"),
    ("08.scaled_step", scaled_step_steps_before_the_test, "was skipped (you returned False), but the weights "
     "changed"),
    ("08.scaled_step", partial(lesson08._scaled, factors="fixed_up"), "the factors in `state`"),
    ("08.scaled_step", partial(lesson08._scaled, factors="fixed_down"), "the factors in `state`"),
    ("08.scaled_step", partial(lesson08._scaled, clip=False), "your steps are those without clipping"),
    ("08.scaled_step", partial(lesson08._scaled, first_only=True), "a gradient you did not test"),
    ("08.scaled_step", partial(lesson08._scaled, grow="never"), "the scale never grew"),
    ("08.time_op", time_op_lower_middle, "the lower one alone"),
]

def train_step_in_float32(model, x, y, loss_fn, optimizer, device):
    """Issue 32: the batch made float32 on its way to the device ("GPUs like float32"): a float64 model refuses it."""
    x, y = x.to(device).float(), y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def scaled_step_unscaled_in_float32(loss, model, optimizer, state, max_norm=None):
    """Issue 32: the lesson's "unscale in float32" read as a .float() of each gradient: a float64 model refuses it."""
    scale = state["scale"]
    (loss * scale).backward()
    params = list(model.parameters())
    for p in params:
        p.grad = p.grad.float() / scale
    if not all(np.isfinite(p.grad.numpy()).all() for p in params):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


def scaled_step_reads_numpy(loss, model, optimizer, state, max_norm=None):
    """Issue 44: the finite test through .numpy(), the text's old hint: right on the CPU, refused on a GPU."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    if not all(np.isfinite(p.grad.numpy()).all() for p in params):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


def scaled_step_np_isfinite_of_tensors(loss, model, optimizer, state, max_norm=None):
    """Issue 44: np.isfinite on the gradient tensors themselves: numpy's ufuncs refuse tensors, on any device."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    if not all(np.isfinite(p.grad).all() for p in params):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


ERRORS += [
    # issue 44: host-only finite tests, right on every CPU case, refused on the GPU case (the last), as on a GPU
    ("08.scaled_step", scaled_step_reads_numpy, "hidden case 11 of 13", "can't convert cuda:0 device type tensor",
     "tests the gradients where they are"),
    ("08.scaled_step", scaled_step_np_isfinite_of_tensors, "on the example shown", "does not support ufuncs",
     "use the tensor's own operations"),
    # issue 32: the float64 case of each (its last), where a .float() on the way raises
    ("08.train_step", train_step_in_float32, "hidden case 8 of 8", "the input is tinygrad_lite.float32 but the weight "
     "is tinygrad_lite.float64", "leaves its dtype alone"),
    ("08.scaled_step", scaled_step_unscaled_in_float32, "hidden case 10 of 13", "assigned grad has dtype "
     "tinygrad_lite.float32", "keeps its dtype, which is the weight's"),
    ("08.train_step", train_step_moves_the_model, "your train_step moved it to cuda", "use the `device` argument"),
    ("08.train_step", train_step_picks_the_device, "the input batch was moved to cuda:0, but the model is on cpu",
     "not a device the step picks itself"),
    ("08.train_step", train_step_only_x_moved_as_copy, "the target (y) was never moved", "x and y both"),
    ("08.train_step", train_step_under_no_grad, "does not require grad", "ran under no_grad"),
]

# -------------------------------------------------------------------- PyTorch agrees with the references
def scaled_step_tests_the_norm(loss, model, optimizer, state, max_norm=None):
    """Issue 32: the finite test through the gradients' total norm (one number to test): finite gradients of 1e20
    square to inf in float32, so the norm is inf and a step GradScaler takes is skipped."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    if not np.isfinite(nn.utils.get_total_norm([p.grad for p in params]).item()):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


def scaled_step_slip(slip):
    """(session 32's attacks) a learner's scaled_step with one slip: "added", the growth adds growth_factor; "first
    only", only the first parameter's gradient unscaled; "bound", each gradient's size held to float16's largest
    number instead of isfinite; "clip up", a clipping of one's own (its norm a float32 tensor) that also scales up;
    the growth's test "late" (count > growth_interval), "kept" (the count not restarted after a growth) and "kept
    after" (nor with >=)."""
    def scaled_step(loss, model, optimizer, state, max_norm=None):
        scale = state["scale"]
        (loss * scale).backward()
        params = [p for p in model.parameters() if p.grad is not None]
        for p in params[:1] if slip == "first only" else params:
            p.grad = p.grad / scale
        if slip == "bound":
            finite = all(p.grad.abs().max().item() < 65504 for p in params)
        elif slip == "any":  # (session 33) every gradient tested, but as "any element finite"
            finite = all(tl.isfinite(p.grad).any().item() for p in params)
        else:
            finite = bool(tl.stack([tl.isfinite(p.grad).all() for p in params]).all())
        if not finite:
            state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
            return False
        if max_norm is not None and slip == "clip up":
            norm = tl.stack([p.grad.norm() for p in params]).norm()
            for p in params:
                p.grad = p.grad * (max_norm / (norm + 1e-6))
        elif max_norm is not None:
            nn.utils.clip_grad_norm_(params, max_norm)
        optimizer.step()
        state["good_steps"] += 1
        count, interval = state["good_steps"], state["growth_interval"]
        if count > interval if slip == "late" else count >= interval if slip == "kept after" else count == interval:
            state["scale"] = scale + state["growth_factor"] if slip == "added" else scale * state["growth_factor"]
            if slip not in ("kept", "kept after"):
                state["good_steps"] = 0
        return True
    return scaled_step


def time_op_cumulative_from_the_start(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """(second attack of session 32) the start read before the warmup, each time measured from there."""
    start, times = clock(), []
    for _ in range(warmup):
        fn()
    sync()
    for _ in range(repeats):
        fn()
        sync()
        times.append(clock() - start)
    return statistics.median(times)


def time_op_rounded(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """(attack of session 32) the median rounded to microseconds."""
    return round(time_op(fn, repeats, warmup, clock, sync), 6)


def time_op_cumulative(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """(attack of session 32) the start read once, before the loop: each time holds the repeats before it."""
    for _ in range(warmup):
        fn()
    sync()
    times, start = [], clock()
    for _ in range(repeats):
        fn()
        sync()
        times.append(clock() - start)
    return statistics.median(times)


def time_op_vectorised_in_float32(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """Issue 32: the clock's readings collected, then subtracted as tensors made from the lists (float32)."""
    for _ in range(warmup):
        fn()
    sync()
    starts, ends = [], []
    for _ in range(repeats):
        starts.append(clock())
        fn()
        sync()
        ends.append(clock())
    return statistics.median((tl.tensor(ends) - tl.tensor(starts)).tolist())


def scaled_step_tests_the_bias_only(loss, model, optimizer, state, max_norm=None):
    """The finite test on the last parameter's gradient only (the bias's): it misses the injected inf, which reaches
    the weight's gradient only, as np.isnan on every gradient does; the hint is about the untested gradient."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    finite = all(np.isfinite(p.grad.cpu().numpy()).all() for p in params[-1:])
    if not finite:
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


def scaled_step_clips_to_max_norm_times_the_scale(loss, model, optimizer, state, max_norm=None):
    """The scaled gradients clipped to max_norm * S, then unscaled: right but for clip_grad_norm_'s eps (1e-6),
    which acts on the S times larger norm; it shows only on the float64 case, and is no float32 rounding."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    if not all(np.isfinite(p.grad.numpy()).all() for p in params):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm * scale)     # the scaled norm against the scaled limit
    for p in params:
        p.grad = p.grad / scale
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


def scaled_step_own_norm(loss, model, optimizer, state, max_norm=None, eps=0.0):
    """Issue 44's review: clipping with a norm of one's own, which the text allows: right with clip_grad_norm_'s
    eps (max_norm / (norm + 1e-6)), wrong at float64's precision without it."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    if not all(bool(tl.isfinite(p.grad).all()) for p in params):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        norm = sum((p.grad * p.grad).sum() for p in params).item() ** 0.5
        if max_norm / (norm + eps) < 1:
            for p in params:
                p.grad = p.grad * (max_norm / (norm + eps))
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


def scaled_step_own_norm_with_eps(loss, model, optimizer, state, max_norm=None):
    return scaled_step_own_norm(loss, model, optimizer, state, max_norm, eps=1e-6)


def scaled_step_skips_but_returns_true(loss, model, optimizer, state, max_norm=None):
    """Issue 44's review: the skip branch right but for its return value."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    if not all(bool(tl.isfinite(p.grad).all()) for p in params):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return True
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


ALSO_RIGHT += [("08.scaled_step", scaled_step_own_norm_with_eps)]

WRONG += [
    ("08.scaled_step", scaled_step_own_norm, "divides max_norm by the norm itself", "plus 1e-6"),
    ("08.scaled_step", scaled_step_skips_but_returns_true, "step 1 should be skipped",
     "(your scaled_step returned True)"),
    ("08.scaled_step", scaled_step_tests_the_bias_only, "the example", "a gradient you did not test",
     "Test every parameter's gradient"),
    # (on the float64 case, the last; under another BLAS kernel, e.g. OPENBLAS_CORETYPE=Prescott, already on a
    # float32 one: which case shows it first depends on the machine, the hint does not)
    ("08.scaled_step", scaled_step_clips_to_max_norm_times_the_scale,
     "clipped the SCALED gradients to max_norm * S", "eps (1e-6)", "clip the true gradients to max_norm"),
    ("08.scaled_step", scaled_step_tests_the_norm, "hidden case 9 of 13", "step 3 should be taken, yours was skipped",
     "A test of the gradients' total norm skips it", "their squares overflow float32"),
    ("08.scaled_step", scaled_step_slip("bound"), "step 3 should be taken, yours was skipped",
     "a test of their size against a bound"),
    ("08.scaled_step", scaled_step_slip("clip up"), "max_norm=2.0", "small gradients are scaled UP"),
    ("08.time_op", time_op_cumulative, "the example shown", "you read the start time once, before the loop"),
    ("08.time_op", time_op_rounded, "your time is the right one rounded"),
    ("08.scaled_step", scaled_step_slip("added"), "your scale grows by ADDING growth_factor"),
    ("08.scaled_step", scaled_step_slip("any"), "or in part of one", "all its elements finite"),
    ("08.scaled_step", scaled_step_slip("first only"), "only your first parameter's gradient was divided"),
    ("08.scaled_step", scaled_step_slip("late"), "your scale grows one step late"),
    ("08.scaled_step", scaled_step_slip("kept"), "your count of clean steps was not restarted"),
    ("08.scaled_step", scaled_step_slip("kept after"), "your count of clean steps was not restarted"),
    ("08.time_op", time_op_cumulative_from_the_start, "your times grow with each repeat"),
    ("08.time_op", time_op_vectorised_in_float32, "your times went through float32", "1/32 s"),
]


def torch_scaled_run(setup):
    """The case run with torch.amp.GradScaler("cpu") (and torch.autocast in float16 where the case autocasts):
    [scale, growth tracker, stepped, weights...] per step."""
    model = torch.nn.Linear(setup.weights["weight"].shape[1], 1)
    if setup.dtype == "float64":
        model = model.double()
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(setup.weights["weight"]))
        model.bias.copy_(torch.from_numpy(setup.weights["bias"]))
    if "unused" in setup.weights:          # a parameter the loss does not use: GradScaler skips its None gradient
        model.unused = torch.nn.Parameter(torch.from_numpy(setup.weights["unused"]))
    kind, settings = setup.optimizer
    optimizer = getattr(torch.optim, kind)(model.parameters(), **settings)
    s = setup.state
    scaler = torch.amp.GradScaler("cpu", init_scale=s["scale"], growth_factor=s["growth_factor"],
                                  backoff_factor=s["backoff_factor"], growth_interval=s["growth_interval"])
    state = scaler.state_dict()
    state["_growth_tracker"] = s["good_steps"]
    scaler.load_state_dict(state)
    rows = []
    for x, y in setup.batches:
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.float16, enabled=setup.autocast):
            loss = torch.nn.functional.l1_loss(model(torch.from_numpy(x)), torch.from_numpy(y))
        assert setup.autocast <= bool(torch.isfinite(loss))        # autocast: the loss is always finite
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        if setup.max_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), setup.max_norm)
        before = [p.detach().clone() for p in model.parameters()]
        scale = scaler.get_scale()
        scaler.step(optimizer)
        scaler.update()
        stepped = scaler.get_scale() >= scale        # the public sign of a skipped step: the scale backs off
        assert stepped or all(torch.equal(b, p) for b, p in zip(before, model.parameters()))
        weights = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
        rows.append(np.concatenate([[scaler.get_scale(), scaler.state_dict()["_growth_tracker"], stepped],
                                    weights]))
    return np.array(rows)


SCALING_CASES = range(len(get_exercise("08.scaled_step").all_cases()))


@pytest.mark.parametrize("index", SCALING_CASES)
def test_the_loss_scaling_reference_is_torchs_grad_scaler(index):
    exercise = get_exercise("08.scaled_step")
    case = exercise.all_cases()[index]
    ours = np.asarray(exercise.run(scaled_step_reference, case.args, case.kwargs))[:-1]  # (last: the hints' probe)
    theirs = torch_scaled_run(case.args[0])
    np.testing.assert_array_equal(ours[:, :3], theirs[:, :3])       # scale, clean-step count, skipped steps
    # float16 matrix products (autocast) may round differently in the two libraries: float16's precision there
    # (the float64 case at float64's precision, as the check compares it: issue 32)
    rtol, atol = (2e-3, 1e-6) if case.args[0].autocast else (1e-10, 1e-12) if case.args[0].dtype == "float64" else (
        1e-5, 1e-6)
    np.testing.assert_allclose(ours[:, 3:], theirs[:, 3:], rtol=rtol, atol=atol)


def test_every_scaling_case_skips_and_grows():
    cases = get_exercise("08.scaled_step").all_cases()
    runs = [np.asarray(get_exercise("08.scaled_step").run(scaled_step_reference, c.args, c.kwargs)) for c in cases]
    assert all((run[-1] == 0).all() for run in runs)                    # the hints' probe: not run for a right run
    runs = [run[:-1] for run in runs]
    assert sum((run[:, 2] == 0).any() for run in runs) >= 4          # skipped steps in most cases
    assert all((np.diff(run[:, 0]) > 0).any() for run in runs)         # the scale grows somewhere in each
    assert all(np.isfinite(run[:, 3:]).all() for run in runs)          # and the weights stay finite


def test_the_float16_cases_overflow_in_the_gradients_with_a_finite_loss():
    """Issue 19: a scaled_step that tests the loss instead of the gradients passed every float32 case. In the
    autocast cases the loss is finite at every step and the gradients overflow at some, the first step included."""
    cases = [c for c in get_exercise("08.scaled_step").all_cases() if c.args[0].autocast]
    assert len(cases) >= 2
    for case in cases:
        setup = case.args[0]
        assert setup.overflow_steps() == []                            # nothing injected: float16 overflows
        run = np.asarray(drive_scaled_steps(scaled_step_reference, (setup,), {}))
        assert (run[:, 2] == 0).any() and (run[:, 2] == 1).any()
    assert any(np.asarray(drive_scaled_steps(scaled_step_reference, c.args, {}))[0, 2] == 0 for c in cases)


def torch_train_run(setup):
    """The case's steps in PyTorch (the same layers, state, earlier step and batches): per step, the loss and the
    whole state after it."""
    layers = []
    for a, b in zip(setup.layers[:-1], setup.layers[1:]):
        layers += [torch.nn.Linear(a, b)] + ([torch.nn.BatchNorm1d(b)] if setup.norm else []) + [torch.nn.Tanh()]
    model = torch.nn.Sequential(*(layers[:-2] if setup.norm else layers[:-1]))
    if setup.dtype == "float64":
        model = model.double()
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in setup.state.items()})
    kind, settings = setup.optimizer
    optimizer = getattr(torch.optim, kind)(model.parameters(), **settings)
    loss_fn = torch.nn.CrossEntropyLoss() if setup.loss == "cross_entropy" else torch.nn.MSELoss()
    if setup.warm is not None:
        loss_fn(model(torch.from_numpy(setup.warm[0])), torch.from_numpy(setup.warm[1])).backward()
        optimizer.step()
    rows = []
    for x, y in setup.batches:
        optimizer.zero_grad()
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
        state = [v.detach().numpy().astype(np.float64).ravel() for v in model.state_dict().values()]
        rows.append(np.concatenate([[loss.item()], *state]))
    return np.array(rows)


TRAIN_CASES = range(len(get_exercise("08.train_step").all_cases()))


@pytest.mark.parametrize("index", TRAIN_CASES)
def test_the_train_step_reference_is_a_pytorch_step(index):
    exercise = get_exercise("08.train_step")
    setup = exercise.all_cases()[index].args[0]
    ours = np.asarray(exercise.run(train_step, (setup,), {}))
    rtol, atol = (1e-10, 1e-12) if setup.dtype == "float64" else (1e-4, 1e-6)  # float64 as the check (issue 32)
    np.testing.assert_allclose(ours, torch_train_run(setup), rtol=rtol, atol=atol)


def test_the_train_step_cases_vary_what_the_step_touches():
    """A GPU case, a CPU one, and a CPU one on a machine that has a GPU (a step that picks the device itself
    fails there); batch norm (so that eval mode changes the numbers); an optimizer with state and stale gradients
    handed over; momentum and Adam."""
    setups = [c.args[0] for c in get_exercise("08.train_step").all_cases()]
    assert {tl.device(s.device).type for s in setups} == {"cpu", "cuda"}
    assert any(s.gpu and tl.device(s.device).type == "cpu" for s in setups)
    assert any(s.norm and tl.device(s.device).type == "cuda" for s in setups)
    assert any(s.warm is not None and tl.device(s.device).type == t for s in setups for t in ("cpu", "cuda"))
    assert {s.optimizer[0] for s in setups} >= {"SGD", "Adam", "AdamW"}


# -------------------------------------------------------------------- the stand-ins
device_module = importlib.import_module("tinygrad_lite.device")  # (tinygrad_lite.device is the device class)


def test_the_stand_in_gpu_behaves_like_a_gpu():
    before = device_module._cupy
    with stand_in_gpu():
        assert tl.cuda.is_available()
        x = tl.tensor([[0.5, -1.0]])
        moved = x.to("cuda")
        assert moved.device == tl.device("cuda:0") and x.device == tl.device("cpu")   # .to returns a new tensor
        assert on_gpu(moved.view(1, 2) * 2.0) and on_gpu(moved.float()) and not on_gpu(moved.cpu())
        model = nn.Linear(2, 2).to("cuda")
        assert on_gpu(model(moved))
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            model(x)
        with pytest.raises(TypeError):
            np.asarray(moved.array)                     # as CuPy: no silent copy to the host
        np.testing.assert_array_equal(moved.cpu().numpy(), x.numpy())
        with pytest.raises(RuntimeError, match="invalid device ordinal"):
            x.to("cuda:1")                              # one GPU
    assert device_module._cupy is before
    with no_gpu():
        assert not tl.cuda.is_available()
        with pytest.raises(RuntimeError, match="needs CuPy"):
            tl.tensor([1.0]).to("cuda")
    assert device_module._cupy is before


def test_the_loader_batch_records_its_moves():
    with stand_in_gpu():
        x = LoaderBatch.of(np.ones((2, 3), dtype=np.float32))
        x.to("cuda"), x.cuda(), x.to("cpu")
        assert x.moves == ["cuda:0", "cuda:0", "cpu"] and x.device == tl.device("cpu")


def test_the_simulated_gpu_is_asynchronous():
    gpu = SimulatedGPU([1e-3, 1e-3], launch=1e-5)
    start = gpu.clock()
    gpu.op()
    assert gpu.clock() - start == pytest.approx(1e-5)                  # the host only launched it
    gpu.synchronize()
    assert gpu.clock() - start == pytest.approx(1e-3)                  # the device needed 1 ms
    gpu.op(), gpu.op()
    gpu.synchronize()
    assert gpu.clock() - start == pytest.approx(3e-3)                  # the queue runs one op after the other


def test_the_time_op_cases_tell_the_mistakes_apart():
    exercise = get_exercise("08.time_op")
    for case in exercise.all_cases():
        right = np.asarray(exercise.run(time_op, case.args, case.kwargs))[0]
        for wrong in (to(where="none"), to(summary="mean"), to(summary="min")):
            assert not np.isclose(np.asarray(exercise.run(wrong, case.args, case.kwargs))[0], right)


# -------------------------------------------------------------------- the notebook
def test_the_notebooks_examples_are_the_checks_visible_cases():
    ns = run_example_cells(SOLUTION, ("train_example", "timing_example", "scaling_example"),
                           {"tl": tl, "np": np, "train_step_example": train_step_example,
                            "time_op_example": time_op_example, "scaled_step_example": scaled_step_example})
    for exercise_id, name, make in (("08.train_step", "train_example", train_step_example),
                                    ("08.time_op", "timing_example", time_op_example),
                                    ("08.scaled_step", "scaling_example", scaled_step_example)):
        visible = get_exercise(exercise_id).all_cases()[0]
        assert visible.visible
        assert repr(ns[name]) == repr(visible.args[0]) == repr(make())


def test_no_cell_before_time_op_holds_the_finished_timer():
    """Issue 19, item 8: section 1's timing helper was the finished 08.time_op (warmup loop, clock, fn, sync,
    append, median), shown just before the exercise. Now the helpers use timeit, and none of the timer's finished
    lines stands before its check, in a cell or in a hint."""
    finished = ["for _ in range(warmup):", "times.append(clock() - start)", "statistics.median(times)",
                "times.append(time.perf_counter() - start)", "start = time.perf_counter()"]
    assert finished_lines_shown(RELEASED, ["08.time_op"], finished) == []


def test_the_stub_cells_define_what_the_later_cells_use():
    for exercise_id, cell in exercise_cells(read_notebook(RELEASED)).items():
        name = exercise_id.split(".", 1)[1]
        assert callable(define(cell.source, dict(NAMES))[name])


def scaled_step_bounded(floor=None, cap=None, divisor=lambda scale: scale):
    """(issue 46 and its review) "for safety": a floor on the backoff ("a scale is at least 1"), a cap on the
    growth, or gradients divided by ``divisor(scale)`` where the scale is due (a small number added to it; the
    scale twice, a learner's in a later review)."""
    def scaled_step(loss, model, optimizer, state, max_norm=None):
        scale = state["scale"]
        (loss * scale).backward()
        params = [p for p in model.parameters() if p.grad is not None]
        for p in params:
            p.grad = p.grad / divisor(scale)
        if not all(bool(tl.isfinite(p.grad).all()) for p in params):
            state["scale"], state["good_steps"] = max(scale * state["backoff_factor"], floor or 0.0), 0
            return False
        if max_norm is not None:
            nn.utils.clip_grad_norm_(params, max_norm)
        optimizer.step()
        state["good_steps"] += 1
        if state["good_steps"] == state["growth_interval"]:
            state["scale"], state["good_steps"] = min(scale * state["growth_factor"], cap or math.inf), 0
        return True
    return scaled_step


WRONG += [("08.scaled_step", scaled_step_bounded(floor=1.0), "hidden case 6 of 13", "ten overflows in a row",
           "stopped at a floor", "GradScaler sets none"),
          ("08.scaled_step", scaled_step_bounded(floor=1e-8), "hidden case 6 of 13", "stopped at a floor"),
          ("08.scaled_step", scaled_step_bounded(cap=2.0 ** 32), "hidden case 4 of 13", "stopped at a ceiling")]


WRONG += [("08.scaled_step", scaled_step_bounded(divisor=lambda scale: scale + 1e-8), "hidden case 6 of 13",
           "the scale plus a small number")]



# -------------------------------------------------------------------- review of issue 46 (lesson 08)
def time_op_sliced(window):
    """The notebook's given loop (every one of the warmup + repeats calls timed), then the median of a slice of the
    times that is one off, or the first `repeats` ones."""
    def time_op(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
        times = []
        for _ in range(warmup + repeats):
            start = clock()
            fn()
            sync()
            times.append(clock() - start)
        return float(statistics.median(window(times, warmup, repeats)))
    return time_op


def scaled_step_as_given(*, unscale_all=False, fall_through=False, clip="library", cpu_multiplier=False,
                         summed=False, scaled_loss=lambda loss, scale: loss * scale, scale_key="scale",
                         growth_key="scale", tested=lambda p: p.grad,
                         backoff=lambda scale, state: scale * state["backoff_factor"],
                         growth=lambda scale, state: scale * state["growth_factor"]):
    """The notebook's given code with the learner's parts written, one of them wrong: ``unscale_all`` unscales over
    model.parameters() instead of ``params``; ``fall_through``: the skip branch without its return; ``clip``:
    "library", "own_without_min" (max_norm / (norm + 1e-6) always applied), "per_parameter", or "unguarded"
    (clip_grad_norm_ called with max_norm None too); ``cpu_multiplier``: 1 / S as a float32 tensor on the CPU;
    ``summed``: the finite test of the gradients' sum (a review's wrong answer: finite gradients can sum to inf);
    ``scaled_loss(loss, scale)``: what backward starts from; ``scale_key``: the key the skip branch writes the
    backed-off scale to (a misspelled one is a new key; None: a local variable, never written into the state),
    ``growth_key`` the same for the grown scale; ``tested(p)``: what the finite test looks at; ``backoff(scale,
    state)`` and ``growth(scale, state)``: the new scales."""
    def scaled_step(loss, model, optimizer, state, max_norm=None):
        scale = state["scale"]
        scaled_loss(loss, scale).backward()
        params = [p for p in model.parameters() if p.grad is not None]
        for p in (model.parameters() if unscale_all else params):
            p.grad = p.grad * tl.tensor(1.0 / scale) if cpu_multiplier else p.grad / scale
        finite = tl.stack([tl.isfinite(tested(p)).all() for p in params]).all()
        if summed:
            finite = tl.isfinite(sum(p.grad.sum() for p in params))
        if not finite:
            if scale_key is not None:
                state[scale_key] = backoff(scale, state)
            state["good_steps"] = 0
            if not fall_through:
                return False
        if clip == "unguarded":
            nn.utils.clip_grad_norm_(params, max_norm)
        elif max_norm is not None and clip == "own_without_min":
            norm = sum((p.grad * p.grad).sum() for p in params).item() ** 0.5
            for p in params:
                p.grad = p.grad * (max_norm / (norm + 1e-6))
        elif max_norm is not None and clip == "per_parameter":
            for p in params:
                nn.utils.clip_grad_norm_(p, max_norm)
        elif max_norm is not None:
            nn.utils.clip_grad_norm_(params, max_norm)
        optimizer.step()
        state["good_steps"] += 1
        if state["good_steps"] == state["growth_interval"]:
            if growth_key is not None:
                state[growth_key] = growth(scale, state)
            state["good_steps"] = 0
        return True
    return scaled_step


# the loss times S twice, one division by S (the numbers of no unscaling at all); the loss times a CPU tensor made
# from S (the GPU case refuses it); the backed-off scale written to state["Scale"], a new key
scaled_step_scales_the_loss_twice = scaled_step_as_given(scaled_loss=lambda loss, scale: loss * scale * scale)
scaled_step_cpu_scale_on_the_loss = scaled_step_as_given(scaled_loss=lambda loss, scale: loss * tl.tensor(scale))
scaled_step_misspells_the_scale = scaled_step_as_given(scale_key="Scale")


WRONG += [
    ("08.time_op", time_op_sliced(lambda t, w, r: t[w + 1:]), "your time is", "one time too few or one too many"),
    ("08.time_op", time_op_sliced(lambda t, w, r: t[-r:-1]), "one time too few or one too many"),
    ("08.time_op", time_op_sliced(lambda t, w, r: t[w - 1:]), "one time too few or one too many"),
    ("08.time_op", time_op_sliced(lambda t, w, r: t[:r]), "your median includes the warmup's times"),
    ("08.scaled_step", scaled_step_as_given(fall_through=True), "step 1 should be skipped",
     "did not return", "still stepped with the inf or nan gradients"),
    ("08.scaled_step", scaled_step_as_given(clip="own_without_min"), "hidden case 5 of 13",
     "scaled UP", "only when it is below 1"),
    ("08.scaled_step", scaled_step_as_given(clip="per_parameter"), "hidden case 2 of 13",
     "each parameter's gradient on its own", "ONE vector"),
    ("08.scaled_step", scaled_step_as_given(summed=True), "their sum beyond float32's largest number",
     "A test of their sum skips it"),
]

ERRORS += [
    ("08.scaled_step", scaled_step_as_given(unscale_all=True), "hidden case 12 of 13",
     "a parameter that the loss does not use", "unscale and test those"),
    ("08.scaled_step", scaled_step_as_given(clip="unguarded"), "on the example shown",
     "this case's max_norm is None", "max_norm=None means: do not clip"),
    ("08.scaled_step", scaled_step_as_given(cpu_multiplier=True), "hidden case 11 of 13",
     "Expected all tensors to be on the same device", "tl.tensor(...) makes a tensor on the CPU"),
]


def test_a_scaling_case_has_a_parameter_without_a_gradient():
    """Review of issue 46: the given `params` line keeps only the parameters that got a gradient; a case where one
    gets none makes unscaling over model.parameters() fail, as it would in a model with an unused head."""
    setups = [c.args[0] for c in get_exercise("08.scaled_step").all_cases()]
    assert any("unused" in s.weights for s in setups)


WRONG += [("08.scaled_step", scaled_step_bounded(divisor=lambda scale: scale * scale), "S times too SMALL",
           "divided by the scale twice")]


# -------------------------------------------------------------------- review 0809, learner attack
def time_op_given_loop(summary):
    """The notebook's given loop (every one of the warmup + repeats calls timed), then ``summary(times, warmup,
    repeats)`` returned: the learners' slips in the last line."""
    def time_op(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
        times = []
        for _ in range(warmup + repeats):
            start = clock()
            fn()
            sync()
            times.append(clock() - start)
        return summary(times, warmup, repeats)
    return time_op


# the sync in its place; the middle entry of the times as measured, not sorted (it got the hint of a sync between the
# clock reading and fn(): the same median on the example), and that with the mean of the two middle entries for an
# even count, still unsorted
def unsorted_pair(times, warmup, repeats):
    t = times[warmup:]
    n = len(t)
    return float(t[n // 2]) if n % 2 else float((t[n // 2 - 1] + t[n // 2]) / 2)


time_op_unsorted_middle = time_op_given_loop(lambda t, w, r: float(t[w:][len(t[w:]) // 2]))
time_op_unsorted_pair = time_op_given_loop(unsorted_pair)


def time_op_sync_between_in_the_given_loop(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """The notebook's given loop with the sync between the clock reading and fn(): right on the example and hidden
    case 2; on hidden case 3 its median is that of a missing sync after the warmup, whose hint it got."""
    times = []
    for _ in range(warmup + repeats):
        start = clock(); sync(); fn(); end = clock(); times.append(end - start)  # noqa: E702
    return float(statistics.median(times[warmup:]))


def train_step_detached_loss(model, x, y, loss_fn, optimizer, device):
    """The loss computed from a detached output, no no_grad anywhere: its second tier named only no_grad."""
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x).detach(), y)
    loss.backward()
    optimizer.step()
    return loss.item()


WRONG += [
    ("08.time_op", time_op_unsorted_middle, "on the example", "the middle of the times ordered by SIZE"),
    ("08.time_op", time_op_unsorted_pair, "on the example", "the middle of the times ordered by SIZE"),
    ("08.time_op", time_op_sync_between_in_the_given_loop, "hidden case 3 of 8", "waits for nothing of this repeat"),
    ("08.scaled_step", scaled_step_scales_the_loss_twice, "S times too large",
     "the loss was multiplied by the scale twice"),
]

ERRORS += [
    ("08.train_step", train_step_detached_loss, "does not require grad", "or the loss was detached"),
    ("08.scaled_step", scaled_step_cpu_scale_on_the_loss, "hidden case 11 of 13",
     "Expected all tensors to be on the same device", "the loss and the gradients live there",
     "combined one of them with a tensor on the CPU"),
]


@pytest.mark.parametrize("exercise_id, fn, first, more", [
    ("08.time_op", time_op_unsorted_middle, "ordered by SIZE", "sort the times before taking the middle"),
    ("08.time_op", time_op_unsorted_pair, "ordered by SIZE", "sort the times before taking the middle"),
    ("08.time_op", time_op_sync_between_in_the_given_loop, "waits for nothing of this repeat",
     "the order inside the loop is: clock, fn(), sync(), clock"),
    ("08.train_step", train_step_detached_loss, "or the loss was detached", "detach() cuts a tensor off its graph"),
    ("08.scaled_step", scaled_step_scales_the_loss_twice, "multiplied by the scale twice",
     "multiply the loss by S exactly once"),
    ("08.scaled_step", scaled_step_cpu_scale_on_the_loss, "the loss and the gradients live there",
     "scale the loss and unscale the gradients with the number state['scale'] itself"),
])
def test_review_0809_both_tiers_name_the_learners_mistake(exercise_id, fn, first, more):
    """Review 0809: each wrong answer's first hint and, when it comes back, its second tier fit what it did."""
    once, twice = (" ".join(verdict(exercise_id, fn, times=k).message.split()) for k in (1, 2))
    assert first in once and more not in once
    assert first in twice and more in twice


def test_a_misplaced_sync_is_told_from_a_wrong_median_with_the_same_number():
    """Review 0809: on the example a sync between the clock reading and fn() gives the median of the unsorted
    list's middle entry; the driver's third number (for the hints) tells the two apart, and the check ignores it."""
    exercise = get_exercise("08.time_op")
    example = exercise.all_cases()[0]
    sync_first = np.asarray(exercise.run(time_op_sync_before_fn, example.args, example.kwargs))
    unsorted = np.asarray(exercise.run(time_op_unsorted_middle, example.args, example.kwargs))
    assert sync_first[0] == unsorted[0] and (sync_first[2], unsorted[2]) == (1.0, 0.0)
    for right in (time_op, time_op_np, time_op_sorted, time_op_drops_the_warmup):
        assert np.asarray(exercise.run(right, example.args, example.kwargs))[2] == 0.0


# -------------------------------------------------------------------- review 0808, a second learner attack
def upper_pair(times, warmup, repeats):
    """For an even count, the mean of the upper middle time and the one above it."""
    t = sorted(times[warmup:])
    m = len(t) // 2
    return t[m] if len(t) % 2 else (t[m] + t[m + 1]) / 2


def two_middle(times, warmup, repeats):
    """The mean of the two times at n // 2 - 1 and n // 2, for an odd count too."""
    t = sorted(times[warmup:])
    m = len(t) // 2
    return (t[m - 1] + t[m]) / 2


REVIEW_0808 = [
    # 1. passed: the slowest calls dropped, not the first `warmup` (every other case's warmup is the slowest)
    ("08.time_op", time_op_given_loop(lambda t, w, r: float(statistics.median(sorted(t)[:r]))),
     "hidden case 8 of 8", "an op warm from the start", "you sorted `times` before dropping the warmup's times",
     "the FIRST ones in the order the calls ran"),
    # 2.-6.: each median slip gets its own hint (the example's time is the same for several: PROBES tell them apart)
    ("08.time_op", time_op_given_loop(upper_pair), "hidden case 3 of 8",
     "yours is the mean of the upper middle time and the one above it"),
    ("08.time_op", time_op_given_loop(lambda t, w, r: float(t[len(t) // 2])), "on the example", "two slips",
     "also holds the warmup calls' times"),
    ("08.time_op", time_op_given_loop(two_middle), "on the example",
     "with an odd number of repeats the median is the ONE middle time"),
    ("08.time_op", time_op_given_loop(lambda t, w, r: sorted(t[w:])[len(t[w:]) // 2 - 1]), "on the example",
     "the one just BELOW the middle of the sorted times"),
    ("08.time_op", time_op_given_loop(lambda t, w, r: statistics.median(sorted(t)[w:])), "on the example",
     "you sorted `times` before dropping the warmup's times"),
    # 8. a misspelled key: named, not taken for a scale that does not back off
    ("08.scaled_step", scaled_step_misspells_the_scale, "your code wrote state['Scale'], a key the state did not have",
     "did you mean state['scale']?"),
]
WRONG += REVIEW_0808


def time_op_whole_loop(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """The whole loop, warmup included, timed once and divided by its calls (numbers only before)."""
    start = clock()
    for _ in range(warmup + repeats):
        fn()
    sync()
    return (clock() - start) / (warmup + repeats)


WRONG += [
    ("08.time_op", time_op_whole_loop, "your time is the mean of EVERY call, the warmup's too"),
    ("08.time_op", time_op_given_loop(lambda t, w, r: max(t[w:])), "your time is the SLOWEST repeat"),
    ("08.time_op", time_op_given_loop(lambda t, w, r: sum(t[w:])), "your time is the total of the timed repeats"),
]


def times(factor):
    """A new scale: the scale times state[factor]."""
    return lambda scale, state: scale * state[factor]


def divided_by(factor):
    """A new scale: the scale divided by state[factor]."""
    return lambda scale, state: scale / state[factor]


WRONG += [  # the notebook's given code with one slip that got numbers only before
    ("08.scaled_step", scaled_step_as_given(backoff=times("growth_factor"), growth=times("backoff_factor")),
     "your two factors are swapped"),
    ("08.scaled_step", scaled_step_as_given(backoff=divided_by("backoff_factor")), "your scale went UP"),
    ("08.scaled_step", scaled_step_as_given(scale_key=None, growth_key=None), "state['scale'] never changes"),
    ("08.scaled_step", scaled_step_as_given(tested=lambda p: p), "your finite test looks at the weights (p)"),
    # (the attack on these rows) a factor computed from the other, one factor used in both branches, one branch's
    # new scale kept in a local variable
    ("08.scaled_step", scaled_step_as_given(growth=divided_by("backoff_factor")), "hidden case 4 of 13",
     "one factor computed from the other"),
    ("08.scaled_step", scaled_step_as_given(backoff=divided_by("growth_factor")), "hidden case 6 of 13",
     "one factor computed from the other"),
    ("08.scaled_step", scaled_step_as_given(backoff=times("growth_factor")), "your scale went UP",
     "multiplying by growth_factor"),
    ("08.scaled_step", scaled_step_as_given(scale_key=None), "must come DOWN",
     "a local variable changed in the skip branch is gone"),
    ("08.scaled_step", scaled_step_as_given(growth_key=None), "the scale never grew",
     "a local variable is gone when the function returns"),
]


@pytest.mark.parametrize("exercise_id, fn, wrong_hint", [
    ("08.time_op", time_op_given_loop(upper_pair), "the warmup calls were still queued"),
    ("08.time_op", time_op_given_loop(lambda t, w, r: float(t[len(t) // 2])), "the minimum is the luckiest"),
    ("08.time_op", time_op_given_loop(two_middle), "one time too few or one too many"),
    ("08.time_op", time_op_given_loop(lambda t, w, r: sorted(t[w:])[len(t[w:]) // 2 - 1]), "ordered by SIZE"),
    ("08.time_op", time_op_given_loop(lambda t, w, r: statistics.median(sorted(t)[w:])),
     "your median includes the warmup's times"),
    ("08.scaled_step", scaled_step_misspells_the_scale, "the scale must come DOWN"),
])
def test_review_0808_no_hint_names_a_mistake_not_made(exercise_id, fn, wrong_hint):
    """Review 0808: the hint each of these answers got before, for another slip with the same number."""
    assert wrong_hint not in " ".join(verdict(exercise_id, fn, times=2).message.split())


def test_the_time_op_probes_tell_every_mistake_apart():
    """Review 0808: on the two hint-only PROBES every wrong version of the check's mistake rows returns times of
    its own, but for two pairs told apart otherwise: float32 readings (a clock starting at 0 keeps their digits;
    the case whose clock reads 262144 s shows them) and no warmup at all (the same times as the first `repeats`
    of the given loop, with fewer calls)."""
    exercise = get_exercise("08.time_op")
    seen = {tuple(lesson08._probe_times(lesson08.time_op_reference)): "the reference"}
    for mistake in exercise.mistakes:
        if mistake.wrong is None:
            continue
        with np.errstate(all="ignore"):
            probes = tuple(lesson08._probe_times(mistake.wrong))
        other = seen.setdefault(probes, mistake.hint)
        assert other is mistake.hint or "float32" in mistake.hint or "first calls of an op are slow" in mistake.hint, (
            mistake.hint[:60], other[:60])



def multiplies_the_gradients_by_the_scale(loss, model, optimizer, state, max_norm=None):
    """A learner who 'unscales' by multiplying: the gradients reach the step S * S times too large."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad * scale
    if not all(bool(tl.isfinite(p.grad).all().item()) for p in params):
        state["scale"], state["good_steps"] = scale * state["backoff_factor"], 0
        return False
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] >= state["growth_interval"]:
        state["scale"], state["good_steps"] = scale * state["growth_factor"], 0
    return True


WRONG += [("08.scaled_step", multiplies_the_gradients_by_the_scale, "S * S times too large", "MULTIPLIED them")]
