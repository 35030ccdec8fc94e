"""Lesson 08 (GPU training): the answers learners write for each exercise, and the lesson's special cases.

``tests/test_lessons.py`` runs the generic tests on the data here: ``SOLUTIONS`` and ``ALSO_RIGHT`` pass; every
row of ``WRONG`` fails, and of ``ERRORS`` is an error, with the texts it lists (a Mistake's hint, the problem a
run reports, or an error hint); every hint tier is reached by a row. This file adds what is lesson 08's own: the
loss-scaling reference equals ``torch.amp.GradScaler("cpu")`` step for step on every case (scale, skipped steps,
weights), the train_step reference equals a PyTorch step, the device stand-in behaves like PyTorch's device
errors, the simulated GPU is asynchronous, the notebook's examples are the checks' visible cases, and the
exercise texts do not hold the solutions.
"""
import math
import statistics
import time

import numpy as np
import pytest
import torch
from lesson_helpers import define, exercise_cells, notebooks, run_example_cells

import tinygrad_lite as tl
from tinygrad_lite import nn, optim
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.exercises.lesson08 import (
    SimulatedGPU,
    StandInTensor,
    scaled_step_example,
    scaled_step_reference,
    synchronize,
    time_op_example,
    train_step_example,
)
from tinygrad_lite.course.notebooks import read_notebook

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
    if not all(np.isfinite(p.grad.numpy()).all() for p in params):
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
        p.grad.mul_(inv)
        found_inf |= not np.isfinite(p.grad.numpy()).all()
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


ALSO_RIGHT = [
    ("08.train_step", train_step_set_to_none),
    ("08.time_op", time_op_np),
    ("08.scaled_step", scaled_step_mul_),
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
    ("08.train_step", ts(returns="tensor"), "return loss.item(), a plain Python float", "graph"),
    ("08.train_step", ts(returns="none"), "returned None"),
    ("08.train_step", ts(returns="list"), "returned a list"),
]

ERRORS = [
    ("08.train_step", ts(move_x=False, move_y=False), "Expected all tensors to be on the same device",
     "never moved", "x and y both"),
    ("08.train_step", ts(move_y=False), "the target (y) was never moved", "x and y both"),
    ("08.train_step", ts(keep_x=False), "its result was not used", "returns a new tensor"),
    ("08.train_step", ts(fixed="cuda"), "the input batch was moved to cuda, but the model is on cpu",
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
    ("08.time_op", to(unit=1e3), "return seconds"),
    ("08.time_op", to(returns="list"), "return ONE number"),
    ("08.time_op", to(returns="array"), "return ONE number"),
    # 08.scaled_step
    ("08.scaled_step", ss(check=False), "SKIPS the step"),
    ("08.scaled_step", ss(test="isinf"), "np.isinf misses nan"),
    ("08.scaled_step", ss(unscale=False), "S times too large"),
    ("08.scaled_step", ss(clip_first=True), "you clipped the SCALED gradients"),
    ("08.scaled_step", ss(backoff=False), "the scale must come DOWN"),
    ("08.scaled_step", ss(reset=False), "IN A ROW"),
    ("08.scaled_step", ss(grow="every"), "not at every step"),
    ("08.scaled_step", ss(returns="none"), "return True when the optimizer stepped"),
    ("08.scaled_step", ss(local=True), "keep it a plain number"),
]


# -------------------------------------------------------------------- PyTorch agrees with the references
def torch_scaled_run(setup):
    """The case run with torch.amp.GradScaler("cpu"): [scale, growth tracker, stepped, weights...] per step."""
    model = torch.nn.Linear(setup.weights["weight"].shape[1], 1)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(setup.weights["weight"]))
        model.bias.copy_(torch.from_numpy(setup.weights["bias"]))
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
        loss = torch.nn.functional.l1_loss(model(torch.from_numpy(x)), torch.from_numpy(y))
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        if setup.max_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), setup.max_norm)
        before = [p.detach().clone() for p in model.parameters()]
        scaler.step(optimizer)
        found_inf = sum(v.item() for v in scaler._found_inf_per_device(optimizer).values()) > 0
        scaler.update()
        stepped = not found_inf
        assert stepped or all(torch.equal(b, p) for b, p in zip(before, model.parameters()))
        weights = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
        rows.append(np.concatenate([[scaler.get_scale(), scaler.state_dict()["_growth_tracker"], stepped],
                                    weights]))
    return np.array(rows)


@pytest.mark.parametrize("index", range(6))
def test_the_loss_scaling_reference_is_torchs_grad_scaler(index):
    exercise = get_exercise("08.scaled_step")
    case = exercise.all_cases()[index]
    ours = np.asarray(exercise.run(scaled_step_reference, case.args, case.kwargs))
    theirs = torch_scaled_run(case.args[0])
    np.testing.assert_array_equal(ours[:, :3], theirs[:, :3])       # scale, clean-step count, skipped steps
    np.testing.assert_allclose(ours[:, 3:], theirs[:, 3:], rtol=1e-5, atol=1e-6)


def test_every_scaling_case_skips_and_grows():
    cases = get_exercise("08.scaled_step").all_cases()
    runs = [np.asarray(get_exercise("08.scaled_step").run(scaled_step_reference, c.args, c.kwargs)) for c in cases]
    assert sum((run[:, 2] == 0).any() for run in runs) >= 4          # skipped steps in most cases
    assert all((np.diff(run[:, 0]) > 0).any() for run in runs)         # the scale grows somewhere in each
    assert all(np.isfinite(run[:, 3:]).all() for run in runs)          # and the weights stay finite


@pytest.mark.parametrize("index", range(6))
def test_the_train_step_reference_is_a_pytorch_step(index):
    exercise = get_exercise("08.train_step")
    setup = exercise.all_cases()[index].args[0]
    ours = np.asarray(exercise.run(train_step, (setup,), {}))
    layers = []
    for a, b in zip(setup.layers[:-1], setup.layers[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers[:-1])
    model.load_state_dict({k: torch.from_numpy(v) for k, v in setup.weights.items()})
    kind, settings = setup.optimizer
    optimizer = getattr(torch.optim, kind)(model.parameters(), **settings)
    loss_fn = torch.nn.CrossEntropyLoss() if setup.loss == "cross_entropy" else torch.nn.MSELoss()
    rows = []
    for x, y in setup.batches:
        optimizer.zero_grad()
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
        rows.append(np.concatenate([[loss.item()], *[p.detach().numpy().ravel() for p in model.parameters()]]))
    np.testing.assert_allclose(ours, np.array(rows), rtol=1e-4, atol=1e-6)


# -------------------------------------------------------------------- the stand-ins
def test_the_stand_in_device_behaves_like_pytorchs():
    model, loss_fn, optimizer, batches = train_step_example().build()
    x, y = batches[0]
    assert x.where == "cpu" and x.to("cuda").where == "cuda" and x.where == "cpu"   # .to returns a new tensor
    assert x.cuda().is_cuda and not x.cuda().cpu().is_cuda
    np.testing.assert_array_equal(x.to("cuda").numpy(), x.numpy())
    assert isinstance(model(x), StandInTensor) and model(x).where == "cpu"
    with pytest.raises(RuntimeError, match="same device"):
        model(x.to("cuda"))
    assert model.to("cpu") is model


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


def test_the_stub_cells_define_what_the_later_cells_use():
    for exercise_id, cell in exercise_cells(read_notebook(RELEASED)).items():
        name = exercise_id.split(".", 1)[1]
        assert callable(define(cell.source, dict(NAMES))[name])
