"""Lesson 08, GPU training: the checks of its three exercises. All three are judged on a CPU.

- ``08.train_step``: one device-agnostic training step ``train_step(model, x, y, loss_fn, optimizer, device)``.
  The check (``drive_train_step``) runs several steps on the case's device (``device_context``): "cuda" is a GPU
  played on the CPU (``course/stand_in_gpu.py``: the library's own "cuda" device on a numpy-backed stand-in for
  CuPy, so every op on a moved batch stays on the GPU and any op that mixes devices raises PyTorch's error), "cpu" a
  machine without any GPU (a hard-coded "cuda" fails), except in one case, "cpu" on a machine that has a GPU (a
  step that picks the device itself, "cuda" whenever one is available, instead of using its argument fails). The
  model lives on the device and the batch comes from the loader on the CPU (``LoaderBatch`` records where ``.to``
  sent it, for the explanation of a device error). Some models have batch norm (so that eval mode changes the
  numbers), and some are handed over after an earlier step (the optimizer has state, p.grad holds that step's
  gradients). It judges the loss each step returns (a plain float) and the model's whole state after every step.
- ``08.time_op``: timing an op correctly, ``time_op(fn, repeats=20, warmup=3, clock=time.perf_counter,
  sync=synchronize)`` (``synchronize`` is ``tinygrad_lite.cuda.synchronize`` when there is a GPU). The check
  hands it a ``SimulatedGPU``: a virtual clock and an asynchronous queue (``fn`` only enqueues work and returns;
  ``synchronize`` waits until the queue is empty), with slow first calls and outliers. It judges the median time
  returned and the number of calls; one number more, for the hints only, says whether a clock reading ended a
  measurement while an op's work was still queued (a median can hide where the sync was: ``_queued_at_a_reading``),
  and two more the times it returns on two fixed simulated GPUs (``PROBES``), where each slip in a median gives
  its own number (on the example, a median of 7 times, several give the same).
- ``08.scaled_step``: one step of dynamic loss scaling written by the learner, ``scaled_step(loss, model,
  optimizer, state, max_norm=None)``: scale the loss, backward, unscale the gradients, skip the step on inf/nan
  and back off the scale, otherwise (clip and) step and grow the scale after ``growth_interval`` clean steps.
  The check (``drive_scaled_steps``) runs it over batches with injected overflows, and over a float16 forward
  pass (autocast) whose gradients overflow while the loss stays finite, and judges the scale, the count of clean
  steps, the skipped steps and the weights after every step, which must be ``torch.amp.GradScaler``'s
  (tests/test_lesson08.py shows the reference equal to PyTorch's on every case). The check's call
  (``drive_scaled_steps_and_probe``) adds one row for the hints only, a probe that tells a finite test missing inf
  from one testing only the bias's gradient (they take the same steps on every case).

The references are written with the library's own ops (so that ``use`` can stand in). The mistakes are wrong
versions driven the same way (``_step``, ``_timed``, ``_scaled``: one switch per mistake); hints come in tiers,
never the finished line of code. A float64 case (issue 32) is judged at float64's precision: the same steps in
float64 agree to about 1e-15.
"""
import contextlib
import difflib
import math
import statistics
import time
from functools import partial

import numpy as np

from ... import amp, cuda, float16, nn, optim, stack, tensor
from ...device import device as Device
from ...nn.utils import clip_grad_norm_, get_total_norm
from ...tensor import Tensor
from ...train import Trainer, fit
from ..checks import Case, ErrorHint
from ..stand_in_gpu import no_gpu, stand_in_gpu
from .kinds import (
    Run,
    Within,
    differing_entries,
    driven,
    is_number,
    mistake,
    only_buffers,
    recognised,
    returned_number,
    type_name,
)


def steps_within(dtype):
    """How closely a run of training steps in ``dtype`` is judged, and the digits its numbers are shown with."""
    return (Within(1e-10, 1e-12), 13) if dtype == "float64" else (Within(1e-5, 1e-7), 6)


def state_vector(model):
    """The model's whole state (weights, and batch norm's statistics), as one float64 vector on the host."""
    return np.concatenate([v.detach().cpu().numpy().astype(np.float64).ravel() for v in model.state_dict().values()])


# -------------------------------------------------------------------- 08.train_step
def device_context(device, gpu=False):
    """Where a case runs: the stand-in GPU for a "cuda" device, a machine without any GPU for "cpu", and with
    ``gpu`` a machine that HAS a GPU where the caller chose the CPU anyway."""
    return stand_in_gpu() if gpu or Device(device).type == "cuda" else no_gpu()


def _device_name(device):
    """"cpu" or "cuda:0": one name per device, however it was written ("cuda", tl.device("cuda", 0)...)."""
    device = Device(device)
    return "cpu" if device.type == "cpu" else f"{device.type}:{device.index or 0}"


def _device_text(device):
    """How a case names its device: "device 'cuda'" for a string, "device tl.device('cuda')" for a device object
    (whose repr, device(type='cuda'), would read "device device(type='cuda')")."""
    return f"device {device!r}" if isinstance(device, str) else f"device tl.device({str(device)!r})"


class LoaderBatch(Tensor):
    """A tensor as a data loader hands it over, on the CPU, that remembers where ``.to`` (and ``.cuda()``,
    ``.cpu()``) sent copies of it. It moves as any tensor does (``Tensor.to`` returns a new tensor; this one stays
    on the CPU)."""

    moves = ()

    @classmethod
    def of(cls, array):
        t = tensor(array)
        t.__class__ = cls
        t.moves = []
        return t

    def to(self, *args, **kwargs):
        out = Tensor.to(self, *args, **kwargs)
        self.moves.append(_device_name(out.device))
        return out


class CaseModel(nn.Sequential):
    """The case's model, living on the case's device: it records the device of every batch it is given (for the
    explanation of a device error) and refuses to be moved elsewhere (the step moves the batch, not the model)."""

    def __init__(self, *modules, device="cpu"):
        super().__init__(*modules)
        self.home, self.seen = _device_name(device), []

    def forward(self, x):
        self.seen.append(_device_name(x.device) if isinstance(x, Tensor) else type_name(x))
        return super().forward(x)

    def to(self, *args, **kwargs):
        target = kwargs.get("device", next((a for a in args if isinstance(a, (str, Device))), None))
        if target is not None and _device_name(target) != self.home:
            raise RuntimeError(f"this check's model lives on {self.home}, the device you were given; your "
                               f"train_step moved it to {Device(target)}. The model is already where it must be: "
                               "move the batch to it, not the model elsewhere")
        return super().to(*args, **kwargs)


def _explain_device_error(model, x, y, device):
    """Why an op found two devices: the batch was never moved, moved elsewhere, or moved with the result unused."""
    home = _device_name(device)
    fed = model.seen[-1] if model.seen else None
    name, what, t = ("x", "input batch", x) if fed is not None and fed != home else ("y", "target (y)", y)
    moves = getattr(t, "moves", [])
    if home in moves:
        return (f"{name}.to(...) was called, but its result was not used: Tensor.to returns a NEW tensor and leaves "
                f"{name} where it was")
    if moves:
        return f"the {what} was moved to {moves[-1]}, but the model is on {home}: move to the device you were given"
    return f"the {what} was never moved to the model's device ({home})"


class TrainSetup:
    """A train_step case, drawn from ``rng``: a ``layers`` MLP (``norm``: with batch norm) and its state, ``steps``
    batches of ``n`` examples, the loss ("cross_entropy" or "mse"), the optimizer (kind, settings), the device, and
    with ``warm`` a batch the model was trained on before it was handed over: the optimizer then arrives with state
    (momentum, Adam's averages) and the parameters with that step's gradients. ``gpu``: a "cpu" case on a machine
    that has a GPU. ``dtype`` "float64": the model and the batches in float64."""

    def __init__(self, rng, layers, n, steps, loss, optimizer, device, norm=False, warm=False, gpu=False,
                 dtype="float32"):
        self.layers, self.loss, self.optimizer, self.device = layers, loss, optimizer, device
        self.norm, self.gpu, self.dtype = norm, gpu, dtype
        self.state = {}
        for name, value in nn.Sequential(*self.modules()).state_dict().items():
            shape = tuple(value.shape)
            if name.endswith("num_batches_tracked"):
                self.state[name] = np.asarray(3 if norm else 0, dtype=np.int64)
                continue
            low, high = ((-1 / math.sqrt(shape[1]), 1 / math.sqrt(shape[1])) if len(shape) == 2
                         else (0.5, 2.0) if name.endswith("running_var")
                         else (-0.5, 0.5) if name.endswith(("running_mean", ".bias"))
                         else (0.5, 1.5))  # batch norm's scale
            self.state[name] = rng.uniform(low, high, shape).astype(dtype)

        def batch():
            x = rng.standard_normal((n, layers[0])).astype(dtype)
            if loss == "cross_entropy":
                return x, rng.integers(0, layers[-1], n).astype(np.int64)
            return x, rng.standard_normal((n, layers[-1])).astype(dtype)
        self.batches = [batch() for _ in range(steps)]
        self.warm = batch() if warm else None

    def modules(self):
        modules = []
        for a, b in zip(self.layers[:-1], self.layers[1:]):
            modules += [nn.Linear(a, b)] + ([nn.BatchNorm1d(b)] if self.norm else []) + [nn.Tanh()]
        return modules[:-2] if self.norm else modules[:-1]  # no norm nor tanh after the last layer

    def build(self):
        """The model (with the setup's state) on the device, its optimizer, the loss, and the batches (on the CPU).
        Call it inside ``device_context(setup.device)``."""
        model = CaseModel(*self.modules(), device=self.device)
        if self.dtype == "float64":
            model.double()
        model.load_state_dict({k: tensor(v) for k, v in self.state.items()})
        nn.Module.to(model, self.device)
        kind, settings = self.optimizer
        optimizer = getattr(optim, kind)(model.parameters(), **settings)
        loss_fn = nn.CrossEntropyLoss() if self.loss == "cross_entropy" else nn.MSELoss()
        if self.warm is not None:  # an earlier step: the optimizer's state, and its gradients left in p.grad
            x, y = (tensor(a).to(self.device) for a in self.warm)
            loss_fn(nn.Sequential.forward(model, x), y).backward()
            optimizer.step()
        batches = [(LoaderBatch.of(x), LoaderBatch.of(y)) for x, y in self.batches]
        return model, loss_fn, optimizer, batches

    def __repr__(self):
        parts = [f"a {'-'.join(map(str, self.layers))} MLP" + (" with batch norm" if self.norm else ""),
                 self.optimizer[0], _device_text(self.device)]
        if self.gpu and Device(self.device).type == "cpu":
            parts[-1] += " on a machine that has a GPU (the caller keeps this model on the CPU)"
        if self.warm is not None:
            parts.append("handed over after an earlier step (its gradients still in p.grad)")
        if self.dtype == "float64":
            parts.append("the model and the batches in float64")
        return ", ".join(parts)


def train_step_reference(model, x, y, loss_fn, optimizer, device):
    """One training step on ``device``: move the batch there (``Tensor.to`` returns a new tensor), clear the old
    gradients, forward, loss, backward, update; return the loss as a Python float (``.item()`` after backward:
    it waits for the device, once per step)."""
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


LOSS_AS_FLOAT = "the step returns the loss as a plain Python float (a one-number tensor's .item() gives one)"


def drive_train_step(fn, args, kwargs):
    """Build the case's model, optimizer and batches on its device and call ``fn(model, x, y, loss_fn,
    optimizer=..., device=...)`` once per batch. A Run of shape (steps, 1 + state): the loss returned and the
    model's whole state after each step; or the problem (a loss that is not a plain number...)."""
    setup = args[0] if args else kwargs["setup"]
    with device_context(setup.device, setup.gpu):
        model, loss_fn, optimizer, batches = setup.build()
        before = state_vector(model)
        stepped, given_step = [], optimizer.step

        def counted_step(*args, **kwargs):  # records that the optimizer handed over was the one that stepped
            stepped.append(True)
            return given_step(*args, **kwargs)
        optimizer.step = counted_step
        rows = []
        for k, (x, y) in enumerate(batches):
            try:
                value = fn(model, x, y, loss_fn, optimizer=optimizer, device=setup.device)
            except RuntimeError as exc:
                if "same device" in str(exc):
                    exc.args = (f"{exc.args[0]}; {_explain_device_error(model, x, y, setup.device)}",)
                raise
            problem = returned_number(
                value, f"step {k}: your train_step", none=": return the loss of the step, a float",
                other=f"; {LOSS_AS_FLOAT}",
                tensor=f"; {LOSS_AS_FLOAT}. A loss tensor on a GPU keeps GPU memory (and, not detached, the step's "
                       "graph) alive, and a history or a print needs a number on the CPU",
                numpy="; the step returns a plain Python float, which a one-number tensor's .item() gives (a numpy "
                      "scalar keeps its 16- or 32-bit type into every history and sum built from it)")
            if problem:
                return Run.failed(problem)
            rows.append(np.concatenate([[float(value)], state_vector(model)]))
    if not stepped and not np.array_equal(state_vector(model), before):
        return Run.failed("the weights changed, but the optimizer you were given never stepped: the update is "
                          "the `optimizer` argument's job. It carries state from step to step (momentum buffers, "
                          "Adam's running averages and step count) and the caller's settings (its learning rate, "
                          "weight decay); an update written by hand, or a new optimizer made in the step, ignores "
                          "them. Call step() and zero_grad() on the `optimizer` argument")
    return Run.of(rows)


def _compare_train(got, expected, case):
    setup = case.args[0]
    within, digits = steps_within(setup.dtype)
    for k in range(expected.shape[0]):
        if not np.isclose(got[k, 0], expected[k, 0], rtol=within.rtol, atol=within.atol):
            return (f"with {setup!r}: step {k} returned the loss {got[k, 0]:.{digits}g}, the right one is "
                    f"{expected[k, 0]:.{digits}g} (the loss of the batch, computed before the update)")
        if not np.allclose(got[k, 1:], expected[k, 1:], rtol=within.rtol, atol=within.atol):
            return f"with {setup!r}: after step {k}, " + _state_difference(got[k, 1:], expected[k, 1:], setup)
    return None


def _state_difference(got, expected, setup):
    """Which part of the model's state differs: the weights, or only batch norm's buffers (named, with values)."""
    wrong = differing_entries(got, expected, setup.state, steps_within(setup.dtype)[0].holds)
    largest = np.abs(got - expected).max()
    if not only_buffers(wrong):
        return f"the weights are not the right ones (largest difference {largest:.3g})"
    names, sizes = list(setup.state), [np.size(value) for value in setup.state.values()]
    first = wrong[0]
    at = sum(sizes[:names.index(first)])
    return (f"the weights are right, but batch norm's buffers are not ({', '.join(wrong)}); e.g. {first} is "
            f"{got[at]:.6g}, the right value is {expected[at]:.6g}. Every forward pass in training mode updates "
            "them (num_batches_tracked counts those passes); a pass in eval mode leaves them as they are")


def train_step_example():
    """The notebook's example: a 2-8-2 classifier, SGD, 3 batches of 4, on "cpu"."""
    return TrainSetup(np.random.default_rng(8), (2, 8, 2), 4, 3, "cross_entropy", ("SGD", {"lr": 0.5}), "cpu")


def _train_cases(rng):
    return [
        Case((train_step_example(),), visible=True),
        Case((TrainSetup(rng, (3, 16, 2), 8, 4, "cross_entropy", ("SGD", {"lr": 0.1, "momentum": 0.9}), "cuda"),),
             "on 'cuda' (a GPU played on the CPU): the batch starts on the CPU"),
        Case((TrainSetup(rng, (4, 8, 3), 6, 5, "mse", ("Adam", {"lr": 0.01}), Device("cuda"), warm=True),),
             "device given as tl.device('cuda'), MSE loss, Adam with the state of an earlier step"),
        Case((TrainSetup(rng, (2, 6, 4, 3), 5, 3, "cross_entropy", ("SGD", {"lr": 0.3, "momentum": 0.9}), "cuda:0",
                         norm=True, warm=True),),
             "'cuda:0', batch norm in training mode, handed over after an earlier step"),
        Case((TrainSetup(rng, (5, 1), 10, 4, "mse", ("SGD", {"lr": 0.05, "momentum": 0.5}), "cpu", warm=True),),
             "a linear regression on the CPU, handed over after an earlier step"),
        Case((TrainSetup(rng, (3, 6, 2), 4, 6, "mse", ("AdamW", {"lr": 0.02}), "cuda", warm=True),),
             "six steps of AdamW on 'cuda', handed over after an earlier step"),
        Case((TrainSetup(rng, (4, 8, 3), 6, 3, "cross_entropy", ("SGD", {"lr": 0.2, "momentum": 0.9}), "cpu",
                         gpu=True),),
             "'cpu' on a machine that has a GPU: the caller chose the CPU, so the step must use the device given"),
        # issue 32: a caller may train in float64 (a gradient check, a small exact model): the step moves the batch
        # and leaves its dtype alone (a .float() on the way raises, or rounds the targets), as PyTorch's would
        Case((TrainSetup(rng, (3, 6, 2), 5, 3, "mse", ("SGD", {"lr": 0.1, "momentum": 0.9}), "cuda", warm=True,
                         dtype="float64"),),
             "a float64 model and batches on 'cuda', handed over after an earlier step: compared at float64's "
             "precision"),
    ]


def _step(model, x, y, loss_fn, optimizer, device, *, zero=True, zero_late=False, zero_at_end=False,
          loss_after=False, mode=None, steps=1, per_example=False, own_loss=False, extra_forward=False):
    """A learner's train_step; each switch is one mistake (``steps``: optimizer.step() that many times;
    ``per_example``: the returned loss divided by the batch size; ``own_loss``: cross-entropy whatever loss_fn
    is; ``extra_forward``: one more forward pass, for logging, before the real one)."""
    if mode == "eval":
        model.eval()
    x, y = x.to(device), y.to(device)
    if zero:
        optimizer.zero_grad()
    if own_loss:
        loss_fn = nn.CrossEntropyLoss()
    if extra_forward:
        loss_fn(model(x), y).item()
    loss = loss_fn(model(x), y)
    loss.backward()
    if zero_late:
        optimizer.zero_grad()
    for _ in range(steps):
        optimizer.step()
    if zero_at_end:
        optimizer.zero_grad()
    if loss_after:
        return loss_fn(model(x), y).item()
    return loss.item() / (len(x) if per_example else 1)


driven(
    "08.train_step", train_step_reference, _train_cases, drive_train_step, unread="your run",
    compare=_compare_train, match=Within(1e-5, 1e-7),
    points=2, forbid=(Trainer, fit),
    check_inputs=False,  # the model and the optimizer change: that is the point (the batches are copies)
    error_hints=[
        ErrorHint(r"its result was not used",
                  "Tensor.to does not move a tensor in place (Module.to does, for a model's parameters): it "
                  "returns a new tensor on the device, and the old name still points at the CPU copy",
                  "keep what .to(device) returns: give it a name and use that name in the forward pass"),
        ErrorHint(r"never moved",
                  "the model's weights are on the device, so every input it gets must be there too: the batch "
                  "comes from the data loader on the CPU and has to be moved at every step, x and y both (a test "
                  "such as device == 'cuda' is False for 'cuda:0', and in PyTorch for a torch.device too: move "
                  "them with .to(device), whatever device is)",
                  "both tensors of the batch, inputs and targets, need moving at every step, to the device you were "
                  "given"),
        ErrorHint(r"was moved to \S+, but the model is on|plays a machine without a GPU|your train_step moved it",
                  "use the `device` argument, not a device the step picks itself (a fixed 'cuda' or 'cpu', or 'cuda' "
                  "whenever a GPU is available): the caller decides where the model lives, and may keep it on the CPU "
                  "on a machine that has a GPU; the same code must run on a machine with a GPU and on one without",
                  "pass the parameter `device` to .to(...)"),
        ErrorHint(r"the input is tinygrad_lite\.float32 but the weight is tinygrad_lite\.float64",
                  "this case's model is float64 (a caller may train in float64), and your step turned the batch into "
                  "float32: a training step moves the batch to the device and leaves its dtype alone, so that the same "
                  "step serves a float32 model and a float64 one (the data and the model come in matching dtypes)",
                  "move x and y with .to(device) alone: no .float(), and no dtype in .to"),
        ErrorHint(r"does not require grad and has no grad_fn",
                  "the loss has no graph: the forward pass ran under no_grad (or the loss was detached), so "
                  "backward() has nothing to go through. Training needs the graph: run the forward pass and the "
                  "loss outside no_grad",
                  "no_grad is for evaluation, and detach() cuts a tensor off its graph: the training step needs "
                  "neither; remove whichever of the two your step has (compute the loss from the model's output "
                  "itself)"),
        ErrorHint(r"'float' object has no attribute 'backward'",
                  ".item() turns the loss into a plain Python number: it has no graph, so backward() has nothing to go "
                  "through. Call backward on the loss tensor, and take .item() only for the value you return",
                  "keep the loss tensor for loss.backward(); call .item() afterwards, for the return value only"),
    ],
    mistakes=[
        mistake(partial(_step, mode="eval"),
                "a training step runs the model in training mode: in eval mode batch norm normalises with its "
                "running statistics (and does not update them) and dropout is off, so the gradients are not "
                "those of training. The model arrives in training mode; leave it so",
                "do not switch the model to eval() in the step; eval() is for validation"),
        mistake(partial(_step, zero=False),
                "the gradients of the previous steps are still in p.grad: backward ADDS to them, so without "
                "clearing them each update is the sum of all the gradients so far",
                "clear the gradients at every step, before backward (the optimizer has a method for it)"),
        mistake(partial(_step, zero=False, zero_at_end=True),
                "the model may arrive with gradients in p.grad (here, those of an earlier step): clearing them "
                "only at the END of the step lets the first step add its gradients to the old ones. Clear them "
                "before backward, so that each step starts clean whatever happened before",
                "move the clearing of the gradients to the start of the step"),
        mistake(partial(_step, zero=False, zero_late=True),
                "the weights did not learn: the optimizer's step found no gradients of this batch. Either they were "
                "cleared after backward, the step came before backward, or the optimizer never stepped; or the loss "
                "was cut off from the weights (a detached output, a forward pass under no_grad), so backward never "
                "reached them. backward only computes gradients; the optimizer's step applies them, afterwards",
                "backward fills the gradients and the optimizer's step applies them: clear them before backward, "
                "and step only after it"),
        mistake(partial(_step, loss_after=True),
                "return the loss of the batch as it was computed for the update, before the step: a second "
                "forward pass after the step measures another model (and costs a forward pass more)",
                "take .item() of the loss tensor you called backward on"),
        mistake(partial(_step, steps=2),
                "the optimizer stepped more than once for one batch: each step() moves the weights again with "
                "the same gradients (and advances momentum or Adam's state). One batch, one step"),
        mistake(partial(_step, per_example=True),
                "the loss you returned is divided by the batch size, but the loss function already returns the "
                "MEAN over the batch (its reduction is 'mean'): return the loss as it is"),
        mistake(partial(_step, own_loss=True),
                "use the loss function you were given, loss_fn: the cases train with different losses "
                "(cross-entropy, mean squared error), and a loss made in the step ignores the caller's choice"),
        mistake(partial(_step, extra_forward=True),
                "the model's forward pass ran twice in one step (one pass for a value to log, say): in training "
                "mode each pass updates batch norm's running statistics and its count. One forward pass per "
                "step; its loss is both the one to call backward on and the one to return"),
    ],
)


# -------------------------------------------------------------------- 08.time_op
class SimulatedGPU:
    """A GPU played on the CPU, with a virtual clock (seconds): what asynchronous execution does to timing.

    ``op()`` only ENQUEUES its work and returns after ``launch`` seconds; the device runs the queue one op after
    the other (the k-th call takes ``durations[k]``, the last one repeating). ``synchronize()`` waits until the
    queue is empty; ``clock()`` reads the time now. Every call is recorded in ``events``.
    """

    def __init__(self, durations, launch=2e-5, start=0.0):
        self.durations, self.launch = list(durations), launch
        self.now, self.busy_until, self.calls, self.events = start, start, 0, []

    def op(self):
        """Enqueue one op: the device starts it when it is free; the host goes on after the launch cost."""
        work = self.durations[min(self.calls, len(self.durations) - 1)]
        self.calls += 1
        self.busy_until = max(self.now, self.busy_until) + work
        self.now += self.launch
        self.events.append("op")

    def synchronize(self):
        """Wait until the device has finished everything enqueued."""
        self.now = max(self.now, self.busy_until)
        self.events.append("sync")

    def clock(self):
        self.events.append("clock")
        return self.now

    def __repr__(self):
        ms = ", ".join(f"{1e3 * d:.3g}" for d in self.durations[:6])
        return f"SimulatedGPU(durations in ms [{ms}{', ...' if len(self.durations) > 6 else ''}])"


def synchronize():
    """Wait for the GPU's queued work (``tinygrad_lite.cuda.synchronize``); on a machine without a GPU there is
    no queue, and nothing to wait for."""
    if cuda.is_available():
        cuda.synchronize()


def time_op_reference(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize):
    """The typical time of one call of ``fn``, in seconds: ``warmup`` calls first (untimed: the first calls
    allocate memory, compile or choose kernels), then ``repeats`` timed calls, each from a clock reading to a
    clock reading AFTER ``sync()`` has waited for the queued work; the median of those times."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return float(statistics.median(times))


class TimingSetup:
    """A time_op case, drawn from ``rng``: ``n`` durations of the simulated op around ``base`` seconds (+-5%), the
    first ``cold`` of them 10x slower, ``outliers`` of the others 8x; ``repeats`` and ``warmup``; ``start``: the
    clock's first reading (a real perf_counter counts seconds since the machine started)."""

    def __init__(self, rng, n, base, repeats, warmup, cold=2, outliers=1, launch=2e-5, start=0.0):
        d = base * (1 + 0.05 * rng.uniform(-1, 1, n))
        d[:cold] *= 10
        for k in rng.choice(np.arange(cold + 1, n), outliers, replace=False):
            d[k] *= 8
        self.durations, self.repeats, self.warmup = [float(v) for v in d], repeats, warmup
        self.launch, self.start = launch, start

    def gpu(self):
        return SimulatedGPU(self.durations, self.launch, start=self.start)

    def __repr__(self):
        clock = f", the clock reading {self.start:g} s at the start" if self.start else ""
        return f"repeats={self.repeats}, warmup={self.warmup}, {self.gpu()!r}{clock}"


def _queued_at_a_reading(events):
    """1.0 when a clock reading closed an interval (from the clock reading before it) in which an op was enqueued
    and not waited for: the clock was read while that op's work was still queued (a sync missing, or placed before
    fn() or after the reading); else 0.0. Warmup calls enqueued before the first reading do not count (a missing
    sync after the warmup is another mistake). For the hints only: the median of a few times is robust, so a sync
    in the wrong place and a wrong median (of the unsorted list, say) can give the same number on a case."""
    queued, started = False, False
    for event in events:
        if event == "clock":
            if started and queued:
                return 1.0
            started, queued = True, False
        else:  # "op" or "sync"
            queued = event == "op"
    return 0.0


# (review 0808) two simulated GPUs for the hints only, (warmup, repeats, durations in ms): on the example, the
# median of 7 times, the slips in a median (the upper or lower middle, an index one below it, the mean of the two
# middle times for an odd count or of the wrong pair for an even one, the list unsorted, sorted before the warmup
# is dropped, a slice one off) give few distinct numbers, and a slip takes the hint of another with the same
# number. Here the warmup calls are neither the slowest nor the fastest, and every time differs irregularly from
# the others, so that each slip, and each sync or warmup mistake, gives its own time on one of the two
PROBES = ((2, 6, (2.19, 1.89, 1.16, 2.28, 1.5, 6.0, 7.9, 1.92)),
          (3, 7, (2.58, 1.88, 2.98, 5.3, 2.92, 2.56, 9.2, 2.59, 2.13, 2.24)))


def _probe_times(fn):
    """The time ``fn`` returns for each of PROBES (nan for what is not a number, -1.0 when it raised)."""
    values = []
    for warmup, repeats, durations in PROBES:
        gpu = SimulatedGPU([1e-3 * d for d in durations], launch=2e-5)
        try:
            with np.errstate(all="ignore"), contextlib.redirect_stdout(None):
                value = fn(gpu.op, repeats, warmup, clock=gpu.clock, sync=gpu.synchronize)
            values.append(float(value) if is_number(value) else math.nan)
        except Exception:  # noqa: BLE001  (the hints' probe must never turn an answer into an error)
            values.append(-1.0)
    return values


def drive_time_op(fn, args, kwargs):
    """Call ``fn(gpu.op, repeats, warmup, clock=gpu.clock, sync=gpu.synchronize)`` on a fresh SimulatedGPU: a
    Run of [the time returned, the number of calls of the op, ``_queued_at_a_reading`` of its events, the times
    it returns on the two PROBES (these three for the hints: ``_compare_timing`` leaves them out)], or the
    problem with the value returned."""
    setup = args[0] if args else kwargs["setup"]
    gpu = setup.gpu()
    value = fn(gpu.op, setup.repeats, setup.warmup, clock=gpu.clock, sync=gpu.synchronize)
    one_number = "; return ONE number, the median of the timed repeats, in seconds"
    problem = returned_number(value, "your time_op", none=": return the median time, in seconds, as a float",
                              other="; return the median time as a float", tensor=one_number, sequence=one_number,
                              numpy=": its few digits round the time; return the median as a Python float")
    if problem:
        return Run.failed(problem)
    if "clock" not in gpu.events:
        return Run.failed("your time_op never called `clock`, the clock it was given: read the time with the "
                          "parameter clock() (time.perf_counter is only its default), so that it works with "
                          "any clock, the check's simulated one too")
    if "sync" not in gpu.events:
        return Run.failed("your time_op never called `sync`, the synchronize it was given: without it the clock "
                          "is read while the work is still queued, and you time the launch, not the work. Call "
                          "the parameter sync() (not a fixed function)")
    return Run.of([float(value), gpu.calls, _queued_at_a_reading(gpu.events), *_probe_times(fn)])


def _compare_timing(got, expected, case):
    setup = case.args[0]
    if got[1] != expected[1]:
        return (f"with {setup!r}: the op was called {int(got[1])} times; warmup + repeats = {int(expected[1])} "
                "calls were expected")
    if not np.isclose(got[0], expected[0], rtol=1e-9, atol=1e-12):
        digits = 6 if f"{got[0] * 1e3:.6g}" != f"{expected[0] * 1e3:.6g}" else 12  # (a difference in the last digits)
        return (f"with {setup!r}: your time is {got[0] * 1e3:.{digits}g} ms, the median of the timed calls is "
                f"{expected[0] * 1e3:.{digits}g} ms")
    return None


def time_op_example():
    """The notebook's example: a 2 ms op whose first two calls are slow, one hiccup; 7 repeats, 2 warmup calls."""
    return TimingSetup(np.random.default_rng(3), 9, 2e-3, repeats=7, warmup=2)


def _timing_cases(rng):
    return [
        Case((time_op_example(),), visible=True),
        Case((TimingSetup(rng, 30, 5e-4, 25, 4, cold=3, outliers=3),), "25 repeats, 4 warmup calls"),
        Case((TimingSetup(rng, 12, 1e-2, 10, 1, cold=1, outliers=2, launch=5e-5),),
             "an even number of repeats (10): the median is the mean of the two middle times"),
        Case((TimingSetup(rng, 40, 3e-5, 30, 6, cold=5, outliers=4),),
             "a tiny op (30 us) close to the launch cost"),
        Case((TimingSetup(rng, 14, 2e-3, 9, 3, cold=2, outliers=3),), "3 outliers among 9 repeats"),
        Case((TimingSetup(rng, 8, 1e-3, 5, 2, cold=2, outliers=1),), "5 repeats, 2 warmup calls"),
        # issue 32: perf_counter counts from the machine's start; in float32 a reading of 2**18 s (3 days) is
        # rounded to 1/32 s, and a 2 ms time computed from float32 readings loses every digit
        Case((TimingSetup(rng, 12, 2e-3, 9, 2, cold=2, outliers=1, start=2.0 ** 18),),
             "a clock that reads 262144 s: perf_counter counts the seconds since the machine started (3 days)"),
        # (review 0808) the warmup calls are the first ones, not the slowest: sorting the times before dropping
        # the warmup's (sorted(times)[:repeats] drops the slowest calls) passed every case above, whose warmup
        # calls are slower than all the timed ones. Last: the others keep their draws
        Case((TimingSetup(rng, 11, 1e-3, 8, 3, cold=0, outliers=3),),
             "an op warm from the start (no slow first calls); 3 outliers, one of them among the warmup calls"),
    ]


def _timed(fn, repeats=20, warmup=3, clock=time.perf_counter, sync=synchronize, *, do_warmup=True,
           sync_warmup=True, timed_warmup=False, sync_where="after", summary="median", total=False, unit=1.0,
           float32=False, window=None, cumulative=False):
    """A learner's time_op; the switches make one mistake each (``float32``: the clock's readings kept in a float32
    array, subtracted there; ``window``: every one of the warmup + repeats calls timed, as in the notebook's given
    loop, and the median taken over the slice ``window(times, warmup, repeats)`` of their times; ``summary``
    "unsorted": the middle entry of the times in the order measured, "unsorted_pair" that or, for an even count,
    the mean of the two middle entries, unsorted; "wrong_pair": for an even count the mean of the upper middle
    time and the one above it, "two_middle": the mean of the two times at n // 2 - 1 and n // 2 of the sorted
    times for every count n, "below_middle": the time at n // 2 - 1 of the sorted times; ``cumulative``: the clock
    read once, each time measured from there: "after warmup" (and its sync), "before warmup", or "unsynced" (after
    the warmup calls, without waiting for them))."""
    if window is not None:
        do_warmup, timed_warmup = True, True
    first = clock() if cumulative == "before warmup" else None
    sync_warmup = sync_warmup and cumulative != "unsynced"
    if do_warmup and not timed_warmup:
        for _ in range(warmup):
            fn()
        if sync_warmup:
            sync()
    if total:
        start = clock()
        for _ in range(repeats):
            fn()
        sync()
        return (clock() - start) / repeats * unit
    times, first = [], clock() if cumulative and first is None else first
    for _ in range(repeats + (warmup if timed_warmup else 0)):
        if sync_where == "before":
            sync()
        start = clock() if first is None else first
        if sync_where == "between":
            sync()
        fn()
        if sync_where == "after":
            sync()
        end = clock()
        if sync_where == "late":
            sync()
        times.append(float(np.float32(end) - np.float32(start)) if float32 else end - start)
    summaries = {"median": statistics.median, "mean": statistics.mean, "min": min, "max": max, "sum": sum,
                 "middle": lambda t: sorted(t)[len(t) // 2], "lower": lambda t: sorted(t)[(len(t) - 1) // 2],
                 "unsorted": lambda t: t[len(t) // 2],  # the middle of the times as measured, not sorted
                 "unsorted_pair": lambda t: (t[(len(t) - 1) // 2] + t[len(t) // 2]) / 2,
                 "wrong_pair": lambda t: _sorted_pair(t, 0 if len(t) % 2 else 1),
                 "two_middle": lambda t: _sorted_pair(t, -1),
                 "below_middle": lambda t: sorted(t)[len(t) // 2 - 1]}
    if window is not None:
        times = window(times, warmup, repeats)
    return float(summaries[summary](times)) * unit


def _sorted_pair(times, shift):
    """The mean of the sorted times at n // 2 and n // 2 + ``shift`` (n: their count)."""
    t, m = sorted(times), len(times) // 2
    return (t[m] + t[m + shift]) / 2


SYNC_BETWEEN = ("sync() waits for the work queued BEFORE it: called between the clock reading and fn(), it "
                "waits for nothing of this repeat, and the clock is read again while fn's work is still queued. "
                "Wait for the device after fn() and before the clock reading that ends the measurement",
                "the order inside the loop is: clock, fn(), sync(), clock")

UNSORTED = ("the median is the middle of the times ordered by SIZE: yours is the middle of the list in the order "
            "the repeats ran (or the mean of its two middle entries), the time of whichever repeat happened to "
            "run in the middle, fast or slow. Only in the sorted list is the middle time the typical one",
            "sort the times before taking the middle (statistics.median and np.median sort them for you)")

SORTED_FIRST = ("you sorted `times` before dropping the warmup's times: the warmup calls are the FIRST ones in "
                "the order the calls ran, whatever their time, while after sorting the first `warmup` entries are "
                "the fastest calls and the last ones the slowest, whichever calls they were. Your median is of "
                "the wrong times: drop the warmup's by their place in the order of the calls, then sort",
                "drop the first `warmup` entries of `times` in the order they were appended, and sort only what "
                "remains (statistics.median sorts for you)")

OFF_BY_ONE = ("your median is of one time too few or one too many: `times` holds warmup + repeats times, the "
              "first `warmup` of them the warmup's, and the median must be of exactly the other `repeats` times, "
              "no more and no fewer (an off-by-one in the slice)",
              "try your slice on a short list by hand, e.g. warmup 2 and repeats 3: which indices must it keep?")


driven(
    "08.time_op", time_op_reference, _timing_cases, drive_time_op, unread="your run",
    compare=_compare_timing, match=Within(1e-9, 1e-12),
    points=2,
    mistakes=[
        mistake(partial(_timed, sync_where="none"),
                "the clock was read while the work was still queued: a GPU op returns as soon as it is "
                "ENQUEUED, so you timed the launch (microseconds), not the work. Wait for the device after fn() "
                "and BEFORE the clock reading that ends the measurement (a sync before starting the clock, or "
                "after reading it, does not help)",
                "the order inside the loop is: clock, fn(), sync(), clock"),
        mistake(partial(_timed, sync_where="between"), *SYNC_BETWEEN),
        # (review 0809) the same in the notebook's given loop, where every call is timed: its first timed repeat
        # waits for the last warmup call (the queue is only emptied by the next sync). The driver's third number
        # tells a misplaced sync from a sync-free mistake that gives the same median (the warmup's below)
        mistake(partial(_timed, sync_where="between", window=lambda t, w, r: t[w:]), *SYNC_BETWEEN),
        mistake(partial(_timed, sync_warmup=False),
                "the warmup calls were still queued when the timing started: a GPU runs them after fn() has "
                "returned, so the first timed repeat also waited for them. Wait for the device once after the "
                "warmup, so that the first measurement starts with an empty queue",
                "call sync() after the warmup loop, before the first clock reading"),
        mistake(partial(_timed, summary="middle"),
                "with an even number of repeats there are two middle times, and the median is their mean: "
                "sorted(times)[len(times) // 2] is only the upper one",
                "statistics.median (or np.median) of the list of times handles both even and odd lengths"),
        mistake(partial(_timed, timed_warmup=True),
                "the warmup calls are slow on purpose (allocation, kernel choice, cold caches): they are run to "
                "be thrown away, and must not be among the times you take the median of",
                "take the median of the times of the last `repeats` calls only (or time only the calls that "
                "come after an untimed warmup loop)"),
        # (review 0808) the median slips that the example cannot tell apart by its time (PROBES can)
        mistake(partial(_timed, summary="wrong_pair"),
                "with an even number of repeats the median is the mean of the two middle times, and yours is "
                "the mean of the upper middle time and the one above it: of n sorted times (n even), the two "
                "middle ones are the (n/2)-th and the (n/2 + 1)-th, counted from 1 (indices n/2 - 1 and n/2)",
                "try your indices on a sorted list of 4 times by hand: which two are in the middle?"),
        mistake(partial(_timed, summary="two_middle"),
                "with an odd number of repeats the median is the ONE middle time of the sorted times: yours is "
                "the mean of two neighbouring ones (the middle one and the one below it), which is the median "
                "of an even count only",
                "try your code on a sorted list of 3 times by hand (statistics.median handles both odd and even "
                "counts)"),
        mistake(partial(_timed, summary="below_middle"),
                "your time is the one just BELOW the middle of the sorted times: of n sorted times (indices 0 to "
                "n - 1), the middle one of an odd count is at index (n - 1) / 2, and an even count has two "
                "middle times, whose mean is the median",
                "try your index on a sorted list of 3 times and on one of 4 by hand (statistics.median handles both)"),
        mistake(partial(_timed, summary="unsorted", timed_warmup=True),
                "two slips: the middle entry of `times` in the order the calls ran is not the median (that is "
                "the middle of the times ordered by SIZE), and `times` also holds the warmup calls' times, "
                "which must be dropped first",
                "keep only the times after the first `warmup` entries, then take the median of those (sort them "
                "first, or use statistics.median, which sorts them)"),
        *(mistake(partial(_timed, window=window), *SORTED_FIRST) for window in (
            lambda t, w, r: sorted(t)[w:], lambda t, w, r: sorted(t)[:r])),
        # (review of issue 46) the given loop times all warmup + repeats calls; the slice of `times` whose median
        # is returned is one off: one time too few (the first timed call left out, or the last one), one too many
        # (the last warmup call kept), or the first `repeats` times (the warmup's among them)
        *(mistake(partial(_timed, window=window), *OFF_BY_ONE) for window in (
            lambda t, w, r: t[w + 1:], lambda t, w, r: t[-r:-1], lambda t, w, r: t[w - 1:])),
        mistake(partial(_timed, window=lambda t, w, r: t[:r]),
                "your median includes the warmup's times: the given loop appends the `warmup` slow calls FIRST, "
                "so the first `repeats` times hold them, and the last timed calls are left out. The times to "
                "keep are the last `repeats` ones",
                "slice `times` from the end (its last `repeats` entries), or skip its first `warmup` entries"),
        mistake(partial(_timed, do_warmup=False),
                "the first calls of an op are slow (memory allocation, kernel selection, caches): call fn "
                "`warmup` times before timing, and do not time those calls",
                "a loop of `warmup` untimed calls, then sync(), then the timed repeats"),
        mistake(partial(_timed, summary="lower"),
                "with an even number of repeats there are two middle times, and the median is their mean: "
                "the lower one alone (statistics.median_low, or sorted(times)[(n - 1) // 2]) is not it",
                "statistics.median (or np.median) of the list of times handles both even and odd lengths"),
        *(mistake(partial(_timed, summary=summary), *UNSORTED) for summary in ("unsorted", "unsorted_pair")),
        mistake(partial(_timed, summary="mean"),
                "one slow repeat (another process, a hiccup) pulls the mean up, and so does timing the whole "
                "loop and dividing by repeats: report the MEDIAN of the repeats, the typical time",
                "measure each repeat on its own (a clock reading before it, one after its wait) and summarise "
                "those times by their middle value"),
        mistake(partial(_timed, summary="mean", timed_warmup=True),
                "your time is the mean of EVERY call, the warmup's too (or the whole loop's time divided by the "
                "number of calls, the same number): the first calls are slow (memory allocation, kernel "
                "selection), and they pull a mean far above the typical call. Leave the warmup calls out of the "
                "times, and summarise the timed repeats by their median",
                "time each call on its own, leave the first `warmup` times out (or make those calls untimed), "
                "and take the median of the rest"),
        mistake(partial(_timed, summary="max"),
                "your time is the SLOWEST repeat, the one a hiccup (another process, a page fault) made slow: report "
                "the typical time, the median of the repeats, which neither the fast nor the slow ones move",
                "statistics.median of the list of times"),
        mistake(partial(_timed, summary="sum"),
                "your time is the total of the timed repeats: time_op reports how long ONE call takes, typically",
                "keep each repeat's time in a list and return their median, not their sum"),
        recognised(lambda got, expected, case: got[1] == expected[1] and got[0] != expected[0] and any(
                       np.isclose(got[0], round(float(expected[0]) * 10 ** k) / 10 ** k, rtol=1e-12, atol=0)
                       for k in range(1, 10)),
                   "your time is the right one rounded: return the median as the clock's difference gives it, with "
                   "all its digits (round only where you print it, e.g. f\"{t * 1e3:.3f} ms\")",
                   "drop the round(): return the median as it is"),
        *(mistake(partial(_timed, cumulative=when),
                  "your times grow with each repeat: you read the start time once, before the loop, so each "
                  "repeat's time runs from there and holds every call before it too. Read the clock at the start "
                  "of EACH repeat, and take the difference of that repeat's two readings",
                  "move start = clock() inside the loop, right before fn()")
          for when in ("after warmup", "before warmup", "unsynced")),
        mistake(partial(_timed, summary="min"),
                "the minimum is the luckiest repeat, not the typical one; this exercise asks for the median, "
                "which neither the lucky nor the slow repeats move",
                "statistics.median of the list of times"),
        mistake(partial(_timed, float32=True),
                "your times went through float32 (the clock's readings in a tensor made from a list, which gets "
                "the default float32, or in np.float32), which keeps about 7 significant digits. A reading is a "
                "large number (time.perf_counter counts the seconds since the machine started: 262144 after 3 "
                "days, which float32 rounds to a multiple of 1/32 s), so the difference of two readings a few "
                "milliseconds apart loses its digits, or all of them",
                "subtract the two readings as the Python floats the clock returns (float64), right after taking "
                "them, and keep those differences"),
        mistake(partial(_timed, unit=1e3),
                "return seconds, the unit of the clock: yours is 1000 times larger (milliseconds)",
                "do not multiply by 1000; convert only when printing"),
        mistake(partial(_timed, unit=1e6),
                "return seconds, the unit of the clock: yours is a million times larger (microseconds)",
                "do not multiply by 1e6; convert only when printing"),
        mistake(partial(_timed, unit=1e9),
                "return seconds, the unit of the clock: yours is a billion times larger (nanoseconds)",
                "do not multiply by 1e9; convert only when printing"),
        mistake(partial(_timed, unit=1e-3),
                "return seconds, the unit of the clock: yours is 1000 times smaller. The clock's readings are "
                "already in seconds (time.perf_counter counts seconds), so their difference needs no conversion",
                "do not divide by 1000: return the median of the differences of the readings as it is"),
        mistake(partial(_timed, unit=1e-6),
                "return seconds, the unit of the clock: yours is a million times smaller. The clock's readings are "
                "already in seconds (time.perf_counter counts seconds), so their difference needs no conversion",
                "do not divide by 1e6: return the median of the differences of the readings as it is"),
    ],
)


# -------------------------------------------------------------------- 08.scaled_step
def scaled_step_reference(loss, model, optimizer, state, max_norm=None):
    """One optimizer step with dynamic loss scaling (what ``torch.amp.GradScaler`` does, step by step).

    With S = state["scale"]: backward of S * loss gives S * g; unscale (divide every gradient by S); if any
    gradient is inf or nan, skip the step, S <- S * backoff_factor and reset the count of clean steps; otherwise
    clip the TRUE gradients (when ``max_norm`` is given), step, count the clean step, and after growth_interval
    clean steps in a row S <- S * growth_factor (and the count starts again). Returns True when it stepped."""
    scale = state["scale"]
    (loss * scale).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    for p in params:
        p.grad = p.grad / scale
    finite = bool(stack([p.grad.isfinite().all() for p in params]).all())  # one read, on any device
    if not finite:
        state["scale"] = scale * state["backoff_factor"]
        state["good_steps"] = 0
        return False
    if max_norm is not None:
        clip_grad_norm_(params, max_norm)
    optimizer.step()
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"] = scale * state["growth_factor"]
        state["good_steps"] = 0
    return True


class ScalingSetup:
    """A scaled_step case: a linear model (its weights), batches (some with inf or nan: injected overflows), an
    optimizer, the scaler's starting state, and max_norm. With ``autocast``, the forward pass runs under
    ``amp.autocast("cpu", dtype=float16)``: the float16 gradients overflow when the scale is too large, while the
    loss (computed in float32) stays finite. Weights of float64 make the model float64 (compared at float64's
    precision). With ``device="cuda"`` the model and the batches live on the GPU played on the CPU, where a
    gradient read with .numpy() fails as on a real GPU. Drawn from ``rng``: ``n_in`` inputs, ``steps`` batches of 4
    (``spread`` their size), inf injected at the steps of ``overflow``, nan at ``nan_at``, inputs of about 1e20 at
    ``huge_at``; ``state`` the scaler's settings that differ from the defaults; ``unused``: a parameter that the
    loss does not use (a head not trained now), which gets no gradient."""

    def __init__(self, rng, n_in, steps, overflow, optimizer, state, max_norm=None, nan_at=(), spread=1.0,
                 autocast=False, dtype=np.float32, huge_at=(), device="cpu", unused=False, sum_over_at=()):
        self.optimizer, self.max_norm, self.autocast, self.device = optimizer, max_norm, autocast, device
        self.weights = {"weight": rng.uniform(-0.5, 0.5, (1, n_in)).astype(dtype),
                        "bias": rng.uniform(-0.5, 0.5, 1).astype(dtype)}
        if unused:
            self.weights["unused"] = rng.uniform(-0.5, 0.5, 2).astype(dtype)
        self.batches = []
        for k in range(steps):
            x = (spread * rng.standard_normal((4, n_in))).astype(dtype)
            y = (spread * rng.standard_normal((4, 1))).astype(dtype)
            if k in overflow:
                x[rng.integers(4), rng.integers(n_in)] = np.inf
            if k in nan_at:
                x[rng.integers(4), rng.integers(n_in)] = np.nan
            if k in huge_at:  # gradients of about 1e20: finite, but their squares (1e40) overflow float32
                x *= dtype(1e20)
            if k in sum_over_at:  # every input 1.2e38, targets 0: with the L1 loss each weight's gradient is
                # sign(prediction) * 1.2e38, finite, all of one sign: their sum (4.8e38 for 4 inputs) overflows
                x = np.full((4, n_in), 1.2e38, dtype=dtype)
                y = np.zeros((4, 1), dtype=dtype)
            self.batches.append((x, y))
        self.state = {"scale": 1024.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
                      "good_steps": 0, **state}

    @property
    def dtype(self):
        return self.weights["weight"].dtype.name

    def build(self):
        w = self.weights
        model = nn.Linear(w["weight"].shape[1], w["weight"].shape[0])
        if "unused" in w:
            model.unused = nn.Parameter(tensor(w["unused"]))
        if self.dtype == "float64":
            model.double()
        model.load_state_dict({k: tensor(v) for k, v in w.items()})
        model.to(self.device)
        kind, settings = self.optimizer
        return model, getattr(optim, kind)(model.parameters(), **settings), dict(self.state)

    def overflow_steps(self):
        return [k for k, (x, _) in enumerate(self.batches) if not np.isfinite(x).all()]

    def __repr__(self):
        shown = {k: self.state[k]
                 for k in ("scale", "growth_factor", "backoff_factor", "growth_interval", "good_steps")}
        if self.autocast:
            where = "the forward pass in float16 (autocast): its gradients overflow, the loss stays finite"
        else:
            where = f"overflow injected at steps {self.overflow_steps()}"
        summed = [k for k, (x, y) in enumerate(self.batches) if np.all(x == x.flat[0]) and not np.any(y)]
        huge = [k for k, (x, _) in enumerate(self.batches)
                if np.isfinite(x).all() and np.abs(x).max() > 1e10 and k not in summed]
        if huge:
            where += f", inputs of about 1e20 (finite gradients of about 1e20) at steps {huge}"
        if summed:
            where += (f", gradients of about 1.2e38 at steps {summed}: each finite, all of one sign, their sum "
                      "beyond float32's largest number")
        model = "; a float64 model" if self.dtype == "float64" else ""
        model += "; the model has a parameter that the loss does not use (no gradient)" if "unused" in self.weights \
            else ""
        model += "; on a GPU (played on the CPU)" if self.device == "cuda" else ""
        return f"state {shown}, max_norm={self.max_norm}, {self.optimizer[0]}; {where}{model}"


def drive_scaled_steps(fn, args, kwargs):
    """Run ``fn(loss, model, optimizer, state, max_norm=...)`` once per batch (the gradients cleared and the loss
    computed before each call). A Run with one row per step: [scale, good_steps, stepped, weights...], or the
    problem (no bool returned, the state not kept in the dict, a misspelled key written into it...)."""
    setup = args[0] if args else kwargs["setup"]
    with _on(setup.device):
        model, optimizer, state = setup.build()
        loss_fn = nn.L1Loss()
        rows = []
        for k, (x, y) in enumerate(setup.batches):
            optimizer.zero_grad()
            with np.errstate(all="ignore"):
                with amp.autocast("cpu", dtype=float16, enabled=setup.autocast):
                    loss = loss_fn(model(tensor(x, device=setup.device)), tensor(y, device=setup.device))
                before = loss.detach().cpu().numpy().copy()
                try:
                    stepped = fn(loss, model, optimizer, state, max_norm=setup.max_norm)
                except (TypeError, AttributeError) as exc:
                    _name_the_none(exc, model, setup)
                    raise
                after = loss.detach().cpu().numpy()
            if not np.array_equal(before, after, equal_nan=True):
                return Run.failed(f"step {k}: your scaled_step changed the caller's loss tensor in place (it was "
                                  f"{float(before):.6g}, after your call it is {float(after):.6g}); the caller "
                                  "still reads the loss (to print or record it): build the scaled loss as a new "
                                  "tensor and leave the loss you were given unchanged")
            if isinstance(stepped, np.bool_):
                return Run.failed(f"step {k}: your scaled_step returned a numpy bool_, not a Python bool: return "
                                  "True or False, plain Python (a numpy bool_ is not True: `stepped is True` is "
                                  "False for it, and json cannot write it into a log)")
            if not isinstance(stepped, bool):
                return Run.failed(f"step {k}: your scaled_step returned {type_name(stepped)}; return True when the "
                                  "optimizer stepped and False when the step was skipped")
            if misspelled := _misspelled_key(state, setup.state):
                return Run.failed(f"step {k}: {misspelled}")
            for key in ("scale", "good_steps"):
                if not is_number(state.get(key)):
                    return Run.failed(f"after step {k}, state[{key!r}] is {type_name(state.get(key))}; keep it a "
                                      "plain number in the dict you were given (the scaler's state lives there)")
            rows.append(_scaling_row(state, stepped, model))
    return Run.of(rows)


def _misspelled_key(state, given):
    """A text naming the first key of ``state`` that ``given`` (the state the run started with) did not have and
    that is a near miss of one it has (another case, a letter more or less: "Scale", "good_step"), or None. A key
    of the learner's own with another name (a log, say) is no mistake of this kind."""
    for key in state:
        if key in given or not isinstance(key, str):
            continue
        near = [k for k in given if k.lower() == key.lower()] or difflib.get_close_matches(key, list(given), 1, 0.8)
        if near:
            return (f"your code wrote state[{key!r}], a key the state did not have (it has "
                    f"{', '.join(repr(k) for k in given)}): did you mean state[{near[0]!r}]? Writing a misspelled "
                    f"key adds a new entry and leaves the scaler's own state[{near[0]!r}] as it was")
    return None


def _on(device):
    """The GPU played on the CPU for a "cuda" case; nothing to do for a CPU one."""
    return stand_in_gpu() if device == "cuda" else contextlib.nullcontext()


def _scaling_row(state, stepped, model):
    """A step's row of the run: [scale, good_steps, stepped, weights...]."""
    return np.concatenate([[float(state["scale"]), float(state["good_steps"]), float(bool(stepped))],
                           *(p.detach().cpu().numpy().ravel() for p in model.parameters())])


def _name_the_none(exc, model, setup):
    """An error about None in a scaled_step: say which None the case holds (for the hints), a parameter without a
    gradient or max_norm=None."""
    text = str(exc)
    if "NoneType" not in text or not exc.args or not isinstance(exc.args[0], str):
        return
    if "unused" in setup.weights and model.weight.grad is not None:  # backward ran; the unused one has no grad
        exc.args = (f"{text} (this case's model has a parameter that the loss does not use: its p.grad is None)",
                    *exc.args[1:])
    elif setup.max_norm is None:
        exc.args = (f"{text} (this case's max_norm is None)", *exc.args[1:])


def drive_scaled_steps_and_probe(fn, args, kwargs):
    """The check's call: ``drive_scaled_steps``, and one row more, for the hints only (``_compare_scaling`` leaves
    it out). A finite test that misses inf (np.isnan alone) and one that tests only the last parameter's gradient
    (the bias's) take the same steps on every case: an injected inf reaches the weight's gradient only, and a nan
    reaches both. When the run has taken a step with a non-finite gradient (the weights are no longer finite),
    ``_probe`` tells the two apart; otherwise the row is zeros."""
    run = drive_scaled_steps(fn, args, kwargs)
    if run.problem is not None:
        return run
    setup = args[0] if args else kwargs["setup"]
    width = run.shape[1]
    probe = _probe(fn, setup, width) if not np.isfinite(np.asarray(run)[:, 3:]).all() else np.zeros(width)
    return Run.of(np.vstack([np.asarray(run), probe]))


def _probe(fn, setup, width):
    """One more call on the case's starting model and state, with a loss whose gradient is nan in one element of
    the weight and finite (1) for the bias: the row [scale, good_steps, stepped, weights...] after it, or -1s when
    the call raised or left no numbers to read."""
    try:
        with _on(setup.device), np.errstate(all="ignore"):
            model, optimizer, state = setup.build()
            optimizer.zero_grad()
            mask = np.ones(model.weight.shape, dtype=setup.dtype)
            mask.flat[0] = np.nan
            loss = (model.weight * tensor(mask, device=setup.device)).sum() + model.bias.sum()
            return _scaling_row(state, fn(loss, model, optimizer, state, max_norm=setup.max_norm), model)
    except Exception:  # noqa: BLE001  (the hints' probe must never turn an answer into an error)
        return np.full(width, -1.0)


def _compare_scaling(got, expected, case):
    setup = case.args[0]
    got, expected = got[:-1], expected[:-1]  # the last row is the hints' probe (drive_scaled_steps_and_probe)
    within = steps_within(setup.dtype)[0]

    def trace(a):
        return "[" + ", ".join(f"{v:g}" + ("" if s else " (skipped)") for v, s in zip(a[:, 0], a[:, 2])) + "]"
    for k in range(expected.shape[0]):
        g, e = got[k], expected[k]
        if g[2] != e[2]:
            what = "taken" if e[2] else "skipped (its gradients hold inf or nan)"
            return (f"with {setup!r}: step {k} should be {what}, yours was {'taken' if g[2] else 'skipped'} "
                    f"(your scaled_step returned {bool(g[2])}).\n"
                    f"  scale after each step, right: {trace(expected)}\n  yours: {trace(got)}")
        if not np.isclose(g[0], e[0], rtol=1e-12) or g[1] != e[1]:
            return (f"with {setup!r}: after step {k} the scale should be {e[0]:g} (clean steps counted: "
                    f"{int(e[1])}), yours is {g[0]:g} ({g[1]:g}).\n  scale after each step, right: "
                    f"{trace(expected)}\n  yours: {trace(got)}")
        if np.allclose(g[3:], e[3:], rtol=within.rtol, atol=within.atol):
            continue
        if not e[2]:
            return (f"with {setup!r}: step {k} was skipped (you returned False), but the weights changed "
                    f"(yours: {np.array2string(g[3:], precision=4)}, as they were: "
                    f"{np.array2string(e[3:], precision=4)}). A skipped step leaves the weights as they are: "
                    "the optimizer must not step when a gradient holds inf or nan, so decide before the step")
        digits = 4  # more digits when 4 would print the two alike (a small difference, e.g. a float16 rounding)
        while digits < 15 and np.array2string(g[3:], precision=digits) == np.array2string(e[3:], precision=digits):
            digits += 2
        return (f"with {setup!r}: the weights after step {k} are not the right ones (largest difference "
                f"{np.abs(g[3:] - e[3:]).max():.3g}; yours: {np.array2string(g[3:], precision=digits)}, "
                f"right: {np.array2string(e[3:], precision=digits)})")
    return None


def scaled_step_example():
    """The notebook's example: 12 steps, overflows injected at steps 1, 2 and 7, growth after 3 clean steps."""
    return ScalingSetup(np.random.default_rng(1), 3, 12, (1, 2, 7), ("SGD", {"lr": 0.1}), {"scale": 1024.0})


def _scaling_cases(rng):
    return [
        Case((scaled_step_example(),), visible=True),
        Case((ScalingSetup(rng, 4, 14, (0, 5, 6, 11), ("SGD", {"lr": 0.05, "momentum": 0.9}),
                           {"scale": 65536.0, "growth_interval": 2}, max_norm=0.5, spread=3.0),),
             "clipping with max_norm=0.5, momentum"),
        Case((ScalingSetup(rng, 2, 12, (3,), ("Adam", {"lr": 0.01}),
                           {"scale": 8.0, "growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 4},
                           nan_at=(8,)),),
             "a nan gradient at step 8; growth_factor=4, backoff_factor=0.25"),
        # (from 2^30 to 2^40: a cap on the growth, as some loss scalers have and GradScaler has not, shows)
        Case((ScalingSetup(rng, 3, 10, (), ("SGD", {"lr": 0.1}), {"scale": 2.0 ** 30, "growth_interval": 1,
                                                                    "backoff_factor": 0.25}),),
             "no overflow; growth_interval=1: the scale doubles at every step, from 2^30; backoff_factor=0.25"),
        Case((ScalingSetup(rng, 5, 12, (2, 4, 9), ("SGD", {"lr": 0.2}),
                           {"scale": 512.0, "growth_interval": 2, "good_steps": 1}, max_norm=2.0, spread=2.0),),
             "the count of clean steps starts at 1 (a resumed run); max_norm=2.0"),
        # issue 46: from 256 = 2^8, ten backoffs by 2^-6 take the scale to 2^-52 (about 2e-16); GradScaler has no
        # floor (a floor "for safety", at 1 or at 1e-8, changes it). Powers of two: float32 (PyTorch's scale)
        # holds every one of them exactly, so the traces compare exactly
        Case((ScalingSetup(rng, 3, 14, tuple(range(10)), ("SGD", {"lr": 0.1}),
                           {"scale": 256.0, "backoff_factor": 0.015625}),),
             "ten overflows in a row, backoff_factor=0.015625: the scale falls far below 1"),
        Case((ScalingSetup(rng, 3, 12, (), ("SGD", {"lr": 0.05}), {"scale": 2.0 ** 16, "growth_interval": 2},
                           spread=2.0, autocast=True),),
             "a float16 forward pass (autocast): the gradients overflow while the loss stays finite"),
        Case((ScalingSetup(rng, 4, 12, (), ("Adam", {"lr": 0.01}), {"scale": 2.0 ** 17}, max_norm=1.0, autocast=True),),
             "float16 (autocast) from a scale too large at the first step; Adam, max_norm=1.0"),
        # issue 32: gradients of 1e20 at step 3, finite (GradScaler takes the step), whose squares overflow
        # float32: a finite test through a norm (get_total_norm, a sum of squares) sees inf and skips it
        Case((ScalingSetup(rng, 3, 8, (6,), ("SGD", {"lr": 0.01}), {"scale": 256.0, "growth_interval": 2},
                           huge_at=(3,)),),
             "gradients of about 1e20 at step 3: finite, but their squares overflow float32; no clipping"),
        # issue 32: a scaler serves the weights' dtype, float64 too: unscaling keeps it (a .float() on the way
        # raises), and the weights are compared at float64's precision
        Case((ScalingSetup(rng, 3, 8, (2, 5), ("SGD", {"lr": 0.1, "momentum": 0.5}),
                           {"scale": 256.0, "growth_interval": 2}, max_norm=1.0, dtype=np.float64),),
             "a float64 model, clipping with max_norm=1.0, momentum"),
        # issue 44: the model and its gradients on a GPU (played on the CPU): a finite test through .numpy() (or
        # np.isfinite of a tensor) fails there, as on a real GPU; tensor ops (tl.isfinite) run on any device
        Case((ScalingSetup(rng, 3, 10, (2, 6), ("SGD", {"lr": 0.1, "momentum": 0.9}),
                           {"scale": 1024.0, "growth_interval": 2}, max_norm=1.0, device="cuda"),),
             "on a GPU (played on the CPU): the gradients live on the device; clipping with max_norm=1.0"),
        # (review of issue 46) a parameter without a gradient: unscaling or testing every parameter of the model,
        # not the given `params`, meets a p.grad that is None (GradScaler and clip_grad_norm_ skip it)
        Case((ScalingSetup(rng, 3, 10, (2, 6), ("SGD", {"lr": 0.1, "momentum": 0.9}),
                           {"scale": 512.0, "growth_interval": 2}, max_norm=1.0, unused=True),),
             "a parameter that the loss does not use: its gradient stays None; clipping with max_norm=1.0"),
        # a review's wrong answer: a finite test of the gradients' sum. Finite gradients of 1.2e38, all of one
        # sign, sum to inf in float32 (GradScaler takes the step, as in the 1e20 case); last: the others keep
        # their draws
        Case((ScalingSetup(rng, 4, 4, (), ("SGD", {"lr": 1e-40}), {"scale": 1.0, "growth_interval": 2},
                           sum_over_at=(2,)),),
             "gradients of about 1.2e38 at step 2, each finite, all of one sign: their sum overflows float32"),
    ]


def _scaled(loss, model, optimizer, state, max_norm=None, *, unscale=True, check=True, nan_check=True,
            inf_check=True, backoff=True, grow="interval", reset=True, clip_first=False, test="gradients",
            factors="state", clip_always=False, unscale_late=False, scaled=True, clip=True, first_only=False,
            last_only=False, clip_eps=True, floor=None, cap=None, unscale_eps=0.0, fall_through=False,
            clip_up=None, clip_each=False, unscale_first_only=False):
    """A learner's scaled_step; the switches make one mistake each (``factors``: "fixed" 0.5 and 2 instead of the
    state's factors, "fixed_up" only 2, "fixed_down" only 0.5; ``clip_always``: clips to 1.0 when max_norm is
    None; ``unscale_late``: divides by the scale after updating it; ``clip=False``: max_norm ignored;
    ``first_only``: only the first parameter's gradient tested, ``last_only``: only the last one's (the bias's);
    ``clip_first="scaled"``: the scaled gradients clipped to max_norm * S, then unscaled; ``inf_check=False``:
    np.isnan only, so inf passes; ``grow="never"``: the count kept, the scale never grown; ``clip_eps=False``: a
    clipping of one's own, by max_norm / norm, without clip_grad_norm_'s eps; ``floor``: the scale kept at or
    above it after a backoff; ``cap``: at or below it after a growth; ``unscale_eps``: the gradients divided by
    the scale plus it; ``fall_through``: the skip branch backs off and resets the count but does not return, so
    the given code after it steps and counts anyway; ``clip_up``: a clipping of one's own by max_norm / (norm +
    clip_up) without the min(1, .), which scales small gradients UP; ``clip_each``: each parameter's gradient
    clipped on its own; ``factors="swapped"``: growth_factor after an overflow, backoff_factor to grow,
    "inverse_down": 1 / growth_factor after an overflow, "inverse_up": 1 / backoff_factor to grow;
    ``backoff="divide"``: the scale divided by backoff_factor; ``test="weights"``: the weights tested instead of
    their gradients; ``factors="added"``: the growth adds growth_factor to the scale; ``unscale_first_only``: only
    the first parameter's gradient divided by the scale; ``unscale="multiply"``: each gradient multiplied by it;
    ``grow="late"``: the scale grows when the count EXCEEDS growth_interval, "kept": the count not restarted after a
    growth (`==`: the scale grows once), "kept_after": nor with `>=`, so that it grows at every step after)."""
    down = 0.5 if factors in ("fixed", "fixed_down") else state["backoff_factor"]
    up = 2.0 if factors in ("fixed", "fixed_up") else state["growth_factor"]
    down, up = (up, down) if factors == "swapped" else (down, up)
    down, up = (1 / up if factors == "inverse_down" else down), (1 / down if factors == "inverse_up" else up)
    down = 1 / down if backoff == "divide" else down
    if clip_always and max_norm is None:
        max_norm = 1.0
    scale = state["scale"]
    loss_finite = bool(np.isfinite(loss.item()))  # (the mistakes read gradients through .cpu(): on any device)
    (loss * scale if scaled else loss).backward()
    params = [p for p in model.parameters() if p.grad is not None]
    if unscale_late:
        return _unscaled_late(params, optimizer, state, max_norm)
    if clip_first and max_norm is not None:
        clip_grad_norm_(params, max_norm * scale if clip_first == "scaled" else max_norm)
    bad = False
    for i, p in enumerate(params):
        if unscale and (i == 0 or not unscale_first_only):
            p.grad = p.grad * scale if unscale == "multiply" else p.grad / (scale + unscale_eps)  # (+ 0.0: scale)
        g = p.grad.cpu().numpy()
        if (i == 0 or not first_only) and (i == len(params) - 1 or not last_only):
            bad = bad or bool((~np.isfinite(g)).any() if nan_check and inf_check
                              else np.isinf(g).any() if inf_check else np.isnan(g).any())
    if test == "loss":
        bad = not loss_finite
    if test == "norm":  # the gradients' total norm tested instead of the gradients themselves
        bad = not bool(np.isfinite(get_total_norm([p.grad for p in params]).cpu().numpy()))
    if test == "sum":  # the sum of the gradients tested (in their dtype), not each of them
        bad = not bool(sum(p.grad.sum() for p in params).isfinite().cpu().numpy())
    if test == "weights":  # the weights tested: finite until a step with an inf gradient has made them nan
        bad = not all(bool(np.isfinite(p.detach().cpu().numpy()).all()) for p in params)
    if bad and check:
        if backoff:
            state["scale"] = scale * down if floor is None else max(scale * down, floor)
        if reset:
            state["good_steps"] = 0
        if not fall_through:
            return False
    if max_norm is not None and clip_up is not None:
        norm = sum((p.grad * p.grad).sum() for p in params).item() ** 0.5
        for p in params:
            p.grad = p.grad * (max_norm / (norm + clip_up))
    elif max_norm is not None and clip_each:
        for p in params:
            clip_grad_norm_([p], max_norm)
    elif max_norm is not None and not clip_first and clip and clip_eps:
        clip_grad_norm_(params, max_norm)
    elif max_norm is not None and not clip_first and clip:
        norm = sum((p.grad * p.grad).sum() for p in params).item() ** 0.5
        if norm > max_norm:
            for p in params:
                p.grad = p.grad * (max_norm / norm)
    optimizer.step()
    state["good_steps"] += 1
    count, interval = state["good_steps"], state["growth_interval"]  # ("late": `>` for `==`, one step late)
    grows = count > interval if grow == "late" else count >= interval if grow == "kept_after" else count == interval
    if grow == "every":
        state["scale"] = scale * up
    elif grows:
        state["scale"] = scale + up if factors == "added" else scale * (up if grow != "never" else 1)
        if grow not in ("kept", "kept_after"):  # (kept: the count not restarted after a growth)
            state["good_steps"] = 0
    if cap is not None:
        state["scale"] = min(state["scale"], cap)
    return True


def _scale_kept_local(loss, model, optimizer, state, max_norm=None):
    """A learner's scaled_step that writes each new scale into a local variable only: state["scale"] never changes
    (the count of clean steps does)."""
    scale = state["scale"]
    stepped = _scaled(loss, model, optimizer, state, max_norm)
    state["scale"] = scale
    return stepped


def _unscaled_late(params, optimizer, state, max_norm):
    """The scaled gradients tested, the state updated, and only then unscaled: by the new scale."""
    if not all(np.isfinite(p.grad.cpu().numpy()).all() for p in params):
        state["scale"] *= state["backoff_factor"]
        state["good_steps"] = 0
        return False
    state["good_steps"] += 1
    if state["good_steps"] == state["growth_interval"]:
        state["scale"] *= state["growth_factor"]
        state["good_steps"] = 0
    for p in params:
        p.grad = p.grad / state["scale"]
    if max_norm is not None:
        clip_grad_norm_(params, max_norm)
    optimizer.step()
    return True


def _same_run(wrong, rtol=1e-9, apart=None):
    """A Mistake's ``match``: the answer is ``wrong``'s run on the case, to ``rtol``. For a mistake that shows only
    at float64's precision: matched by its wrong version at the exercise's float32 tolerance, it would count as
    giving the right answer there (and the check's float32-rounding hint, which is not its cause, would come).
    ``apart``: also within that rtol of ``wrong``'s run where that run is not within it of the right one (the same
    mistake written with float32 tensors, not Python floats)."""
    runs = {}  # id(case) -> (case, wrong's run on it): a case's run is the same every time

    def match(got, expected, case):
        kept = runs.get(id(case))
        if kept is None or kept[0] is not case:
            with np.errstate(all="ignore"):
                kept = runs[id(case)] = (case, np.asarray(drive_scaled_steps_and_probe(wrong, case.args, case.kwargs)))
        run = kept[1]
        if run.shape != got.shape:
            return False
        within = rtol
        if apart is not None and not np.allclose(run, expected, rtol=apart, atol=0.0, equal_nan=True):
            within = max(rtol, apart)
        return bool(np.allclose(got, run, rtol=within, atol=0.0, equal_nan=True))
    return match


def _bounded_scale(kind):
    """A Mistake's ``match``: the learner's scales are the right run's with the scale kept at or above a floor
    (``kind`` "floor") or at or below a cap ("cap"), at the value where the learner's scales stop: a bound "for
    safety", which GradScaler does not have. The bound is read from the answer (its lowest or highest scale)."""
    def match(got, expected, case):
        if got.shape != expected.shape or np.array_equal(got[:-1, 0], expected[:-1, 0]):
            return False
        bound = float(got[:-1, 0].min() if kind == "floor" else got[:-1, 0].max())
        beyond = expected[:-1, 0] < bound if kind == "floor" else expected[:-1, 0] > bound
        if not beyond.any():
            return False
        return _same_run(partial(_scaled, **{kind: bound}))(got, expected, case)
    return match


UNTESTED = ("the overflow was in a gradient you did not test, or in part of one: any parameter's gradient may hold "
            "inf or nan, and one such element is enough to turn the weights into nan. Test every parameter's "
            "gradient, each whole: all its elements finite (not any of them)",)

FACTORS = ("the scale changes by the factors in `state`, each in its own branch: times backoff_factor after an "
           "overflow, times growth_factor after growth_interval clean steps. This case's are not 0.5 and 2, so a "
           "fixed 0.5 or 2 gives other scales here, and so does one factor computed from the other (1 / "
           "growth_factor for the backoff), right only where the two happen to be inverses. A scaler's settings "
           "are data, so that one function serves every setting",
           "in the skip branch multiply by state['backoff_factor'], in the growth by state['growth_factor']")


def _the_count_goes_wrong(got, expected, case):
    """The steps taken and skipped are right up to the first wrong step, where the count of clean steps
    (state["good_steps"]) differs: the counter is kept, reset or compared the wrong way."""
    if got.shape != expected.shape:
        return False
    got, expected = got[:-1], expected[:-1]  # the last row is the hints' probe
    wrong = np.flatnonzero((got[:, :3] != expected[:, :3]).any(axis=1))
    return bool(len(wrong)) and got[wrong[0], 2] == expected[wrong[0], 2] and got[wrong[0], 1] != expected[wrong[0], 1]


driven(
    "08.scaled_step", scaled_step_reference, _scaling_cases, drive_scaled_steps_and_probe, unread="your run",
    compare=_compare_scaling, match=Within(1e-5, 1e-7),
    check_inputs=False,  # the model, the optimizer and the state change: that is the point
    points=3,
    forbid=(amp.GradScaler, amp.GradScaler.scale, amp.GradScaler.unscale_, amp.GradScaler.step,
            amp.GradScaler.update, "torch.amp.GradScaler"),  # nor PyTorch's scaler (torch.cuda.amp's is a subclass)
    # the text's building blocks: arithmetic on the gradients and the state, a finite test, the optimizer given and
    # clip_grad_norm_ (a norm of one's own, with its max, sum, sqrt, clamp or where, too); any other scaler is
    # refused (torch.cuda.amp.GradScaler ...), and clip_grad_value_ (another clipping) as well
    allow=("arithmetic", "max", "min", "sum", "sqrt", "clamp", "where", "norm", "optimizer", "clip_grad_norm",
           "get_total_norm"),
    error_hints=[
        ErrorHint(r"can't convert cuda:0 device type tensor to numpy",
                  "this case runs on a GPU (played on the CPU), where the gradients live in the GPU's memory: "
                  ".numpy() refuses them there, as on a real GPU. A scaler tests the gradients where they are, "
                  "with tensor operations, and reads back one answer",
                  "tl.isfinite(g) is a tensor of booleans on g's device; .all() reduces it, and bool(...) reads it"),
        # (review of issue 46) a parameter the loss does not use has no gradient (the driver names it in the error)
        ErrorHint(r"a parameter that the loss does not use",
                  "a parameter that the loss does not use gets no gradient: its p.grad is None, and arithmetic or "
                  "a test on None fails. The given code lists the parameters that DID get a gradient in `params`: "
                  "unscale and test those",
                  "loop over params, not over model.parameters()"),
        ErrorHint(r"this case's max_norm is None",
                  "max_norm=None means: do not clip. clip_grad_norm_ (or a clipping of your own) needs a number, "
                  "so the clipping must be skipped when max_norm is None",
                  "clip only when max_norm is not None"),
        ErrorHint(r"Expected all tensors to be on the same device",
                  "this case runs on a GPU (played on the CPU): the loss and the gradients live there, and your "
                  "code combined one of them with a tensor on the CPU: tl.tensor(...) makes a tensor on the CPU "
                  "unless it is given a device. The scale is a plain Python number: multiplying or dividing a "
                  "tensor by a number works on any device",
                  "scale the loss and unscale the gradients with the number state['scale'] itself, with no tensor "
                  "made from it"),
        # issue 32: "unscale in float32" read as a .float() of the gradient; right for float32 weights only
        ErrorHint(r"assigned grad has dtype tinygrad_lite\.float32, the tensor has tinygrad_lite\.float64",
                  "this case's model is float64, and your unscaled gradient is float32: dividing a gradient by the "
                  "scale keeps its dtype, which is the weight's. Mixed precision keeps its master weights in float32, "
                  "so there the unscaled gradients are float32; a scaler serves whatever dtype the weights have",
                  "divide each gradient by the scale and leave its dtype alone: no .float() on the way"),
    ],
    mistakes=[
        mistake(partial(_scaled, check=False),
                "you stepped with inf or nan gradients: one such step turns every weight into nan for good. A "
                "scaler looks at the unscaled gradients first and SKIPS the step when any is not finite",
                "after unscaling, test every gradient with tl.isfinite; if one is not finite, return False "
                "before optimizer.step()"),
        mistake(partial(_scaled, test="loss"),
                "you tested the loss, but what overflows is the GRADIENTS: in float16 (autocast) the backward "
                "pass of S times the loss overflows although the loss itself is finite, and a step with an inf "
                "gradient turns the weights into inf or nan. Test the unscaled gradients, every one",
                "after unscaling, test tl.isfinite on each parameter's gradient, not on the loss"),
        mistake(partial(_scaled, test="sum"),
                "you skipped a step that a scaler takes: here every gradient is finite (about 1.2e38) and all "
                "have one sign. A test of their sum skips it, because the sum overflows float32 (above its "
                "largest number, 3.4e38); so does a test of their size against a bound below them. What must not "
                "reach the optimizer is an inf or nan IN a gradient: test each one",
                "test every element of every parameter's gradient with tl.isfinite (.all() of each), not a sum "
                "or a bound"),
        mistake(partial(_scaled, test="norm"),
                "you skipped a step that a scaler takes: here every gradient is finite (about 1e20). A test of "
                "the gradients' total norm skips it, because their squares overflow float32 (1e40 is above its "
                "largest number, 3.4e38) and the norm is inf; so does a test of their size against a bound "
                "(65504, float16's largest number, says nothing of float32 gradients). What must not reach the "
                "optimizer is an inf or nan IN a gradient: test each one",
                "test every element of every parameter's gradient with tl.isfinite; a norm (clip_grad_norm_'s "
                "result, get_total_norm) or a bound on the size is no test of finiteness"),
        mistake(partial(_scaled, nan_check=False),
                "a test for inf alone (isinf, or == inf) misses nan (a nan is not infinite): test with "
                "tl.isfinite, which is False for inf, -inf and nan",
                "use a test that fails for nan as well as for inf and -inf"),
        mistake(partial(_scaled, inf_check=False),
                "isnan misses inf (an inf is not a nan), and inf is what an overflow in float16 gives: a step "
                "with an inf gradient was taken. Test with tl.isfinite, which is False for inf, -inf and nan",
                "use a test that fails for inf and -inf as well as for nan"),
        mistake(partial(_scaled, scaled=False, unscale=False),
                "the loss was not scaled before backward(): backward of the loss itself gives gradients that "
                "underflow in float16 where S * loss keeps them (scaling the gradients afterwards is too late: "
                "what underflowed is lost), and a scale that backward never saw does not react to overflows. "
                "Multiply the loss by the scale S before backward, then divide the gradients by S",
                "the tensor backward starts from must be the loss times the scale"),
        *(mistake(partial(_scaled, unscale_eps=eps),
                  "you divided the gradients by the scale plus a small number: with a scale far below 1 (a hidden "
                  "case takes it to 2^-52, about 2e-16), the small number swamps it, and the gradients stay "
                  "scaled. The scale is never 0: divide by it alone",
                  "unscale with p.grad / S, S being the scale the loss was multiplied by")
          for eps in (1e-12, 1e-10, 1e-8, 1e-7, 1e-6)),
        # (before unscale=False: with max_norm, clipping S-times-too-large gradients gives the same numbers)
        *(recognised(_same_run(partial(_scaled, clip_up=eps), apart=1e-5),
                     "your clipping multiplies the gradients by max_norm / norm even when their norm is below "
                     "max_norm, so small gradients are scaled UP to the norm max_norm. Clipping only shrinks: "
                     "clip_grad_norm_ multiplies by that factor only when it is below 1 (and leaves the gradients "
                     "alone otherwise)",
                     "take the smaller of 1 and max_norm / (norm + 1e-6) as the factor, or call "
                     "nn.utils.clip_grad_norm_")
          for eps in (1e-6, 0.0)),
        mistake(partial(_scaled, unscale=False),  # (the same numbers as scaling the loss twice, unscaling once)
                "the gradients are S times too large: either they were not divided by the scale, or the loss was "
                "multiplied by the scale twice (S * S * loss) and the gradients divided by it once. Backward of "
                "S * loss gives S * g; divide every gradient by the scale before the step (PyTorch: "
                "scaler.unscale_ / scaler.step)",
                "multiply the loss by S exactly once before backward(), and divide each parameter's gradient by "
                "S (in place or as a new tensor) before the finite test and the step"),
        mistake(partial(_scaled, unscale="multiply"),
                "the gradients reached the step S * S times too large: backward of S * loss gives S * g, and you "
                "MULTIPLIED them by the scale S again. Unscaling divides each gradient by S, which gives g back",
                "divide each parameter's gradient by state['scale'] (or multiply it by 1 / scale)"),
        mistake(partial(_scaled, scaled=False),  # (the same numbers as dividing the gradients by S twice)
                "the gradients are S times too SMALL: either backward started from the loss itself (not the loss "
                "times S) and the gradients were then divided by S, or they were divided by the scale twice. "
                "Backward of S * loss gives S * g; one division by S gives g",
                "multiply the loss by S before backward(), and divide each gradient by S exactly once"),
        mistake(partial(_scaled, clip_first=True),
                "you clipped the SCALED gradients: their norm is S times the true one, so clipping cuts them far too "
                "much. Unscale first, then clip (PyTorch: scaler.unscale_(optimizer) before clip_grad_norm_)",
                "move the clipping after the loop that divides the gradients by the scale"),
        recognised(_same_run(partial(_scaled, clip_first="scaled")),
                   "you clipped the SCALED gradients to max_norm * S and unscaled them afterwards: the same clipping "
                   "only in exact arithmetic. clip_grad_norm_ divides max_norm by the norm plus a small eps (1e-6), "
                   "and on the scaled norm, S times larger, that eps counts S times less, so the clipping factor is "
                   "off by about 1e-6 / norm, relative (float64 shows it, float32 on some machines). Unscale first, "
                   "then clip the true gradients to max_norm (PyTorch: scaler.unscale_(optimizer) before "
                   "clip_grad_norm_)",
                   "divide every gradient by the scale first, then clip the unscaled gradients to max_norm "
                   "itself, not to a multiple of it"),
        recognised(_same_run(partial(_scaled, clip_eps=False)),
                   "your clipping divides max_norm by the norm itself; clip_grad_norm_, whose clipping the "
                   "check compares with, divides it by the norm plus 1e-6 (so that a zero norm divides nothing "
                   "by zero). The two factors differ by about 1e-6 / norm, relative, which float64 shows",
                   "scale by max_norm / (norm + 1e-6) when that is below 1, or call nn.utils.clip_grad_norm_"),
        # (review of issue 46) the skip branch without its return: the given code after it steps with the inf/nan
        # gradients and counts a clean step
        recognised(_same_run(partial(_scaled, fall_through=True)),
                   "your skip branch backed off the scale and reset the count, but did not return: the given "
                   "code after it still stepped with the inf or nan gradients (the weights are no longer finite) and "
                   "counted a clean step. A skipped step ends where it is found",
                   "end the skip branch by returning False, before the clipping and the given optimizer.step()"),
        recognised(_same_run(partial(_scaled, clip_each=True)),
                   "you clipped each parameter's gradient on its own, to a norm of max_norm each: clipping by the "
                   "global norm treats all the gradients as ONE vector, whose norm is taken over every parameter "
                   "together, and scales them all by the same factor (so their directions relative to each other stay)",
                   "call nn.utils.clip_grad_norm_ once, on the whole list of parameters"),
        mistake(partial(_scaled, backoff=False),
                "after an overflow the scale must come DOWN (times backoff_factor), in state['scale'], where the "
                "next call reads it (a local variable changed in the skip branch is gone when the function "
                "returns): otherwise the next steps overflow again and again",
                "the skip branch must change state['scale'] too, by the factor the state names for it"),
        recognised(_bounded_scale("floor"),
                   "your scale stopped at a floor where backoff_factor takes it lower: GradScaler sets none. A "
                   "scale below 1 is still a scale (it shrinks gradients that would overflow even unscaled), and "
                   "dividing by it afterwards gives the true gradients back",
                   "in the skip branch, multiply the scale by backoff_factor, with no max() or clamp around it"),
        recognised(_bounded_scale("cap"),
                   "your scale stopped at a ceiling where growth_factor takes it higher: GradScaler sets none. "
                   "A scale that grows too far only costs an overflow, which the next skipped step corrects",
                   "after growth_interval clean steps, multiply the scale by growth_factor, with no min() or "
                   "clamp around it"),
        mistake(partial(_scaled, reset=False),
                "an overflow starts the count of clean steps again: the scale may grow only after "
                "growth_interval clean steps IN A ROW",
                "in the skip branch, set state['good_steps'] back to 0"),
        mistake(partial(_scaled, grow="late"),
                "your scale grows one step late: it grows when the count of clean steps REACHES growth_interval "
                "(==, or >=), not when it exceeds it (>)",
                "compare the count with growth_interval by == (or >=), right after counting this step"),
        *(mistake(partial(_scaled, grow=kept),
                  "your count of clean steps was not restarted when the scale grew: the count starts again from 0 "
                  "after a growth, as after a skipped step, so that the scale grows again only after another "
                  "growth_interval clean steps",
                  "in the growth branch, set state['good_steps'] back to 0 too")
          for kept in ("kept", "kept_after")),
        mistake(partial(_scaled, grow="every"),
                "the scale grows only after growth_interval clean steps in a row, not at every step: "
                "growing too often makes it overflow again soon",
                "count the clean steps; when the count reaches growth_interval, grow and start counting again"),
        *(mistake(partial(_scaled, factors=factors), *FACTORS)
          for factors in ("fixed", "fixed_up", "fixed_down", "inverse_up", "inverse_down")),
        mistake(partial(_scaled, factors="added"),
                "your scale grows by ADDING growth_factor (with a factor of 2, 1024 becomes 1026): it must be "
                "multiplied by it (1024 becomes 2048), as the backoff multiplies by backoff_factor. A scale moves "
                "by factors, so that a few dozen changes take it from 2^-20 to 2^20",
                "in the growth branch, state['scale'] becomes the scale TIMES state['growth_factor']"),
        mistake(partial(_scaled, unscale_first_only=True),
                "only your first parameter's gradient was divided by the scale: the others reached the step S "
                "times too large. Backward of S * loss scales EVERY gradient by S",
                "divide each parameter's gradient by the scale, in the loop over all of them"),
        mistake(partial(_scaled, factors="swapped"),
                "your two factors are swapped: after an overflow the scale comes down by backoff_factor (below "
                "1), and after growth_interval clean steps it grows by growth_factor (above 1)",
                "the skip branch uses state['backoff_factor'], the growth uses state['growth_factor']"),
        mistake(partial(_scaled, backoff="divide"),
                "after an overflow your scale went UP: it must come down, times backoff_factor, which is below 1 "
                "(0.5 halves it). Dividing by backoff_factor, or multiplying by growth_factor, makes it larger, "
                "and the next steps overflow again",
                "in the skip branch, state['scale'] becomes the scale times state['backoff_factor']"),
        mistake(_scale_kept_local,
                "state['scale'] never changes: your code computes the new scale, but the caller keeps only what "
                "is in the state dict, the scaler's memory between two calls. A local variable named scale is "
                "gone when your function returns",
                "write each new scale into state['scale'], as you do for state['good_steps']"),
        mistake(partial(_scaled, test="weights"),
                "your finite test looks at the weights (p), which are still finite when the gradients overflow: the "
                "inf or nan is in the gradients (p.grad), and the step you take with them turns the weights into nan",
                "test p.grad of each parameter in params, after unscaling"),
        mistake(partial(_scaled, clip=False),
                "this case gives a max_norm, and your steps are those without clipping: clip the global norm of "
                "the unscaled gradients to max_norm before the step (max_norm=None alone means: do not clip)",
                "after the finite test, clip the parameters' gradients to max_norm when it is not None"),
        mistake(partial(_scaled, first_only=True), *UNTESTED),
        mistake(partial(_scaled, last_only=True), *UNTESTED),
        mistake(partial(_scaled, grow="never"),
                "the scale never grew: after growth_interval clean steps in a row it must grow (times "
                "growth_factor), in state['scale'] (a local variable is gone when the function returns), so "
                "that it climbs back after a back-off and stays as large as the float16 range allows",
                "when the count of clean steps reaches growth_interval, multiply state['scale'] by growth_factor"),
        mistake(partial(_scaled, clip_always=True),
                "max_norm=None means: do not clip. Clipping to some norm anyway changes every step whose "
                "gradient norm is above it",
                "clip only when max_norm is not None"),
        mistake(partial(_scaled, unscale_late=True),
                "the gradients hold S times the true ones for the S the loss was multiplied by: divide by that "
                "scale, before the state changes it (after a growth, the new scale is growth_factor times "
                "larger, and the step that uses it is too small)",
                "keep the scale of this step in a variable before anything changes state['scale'], and unscale "
                "with it first"),
        recognised(_the_count_goes_wrong,
                   "the steps taken and skipped are right so far, but not the count of clean steps, and with it the "
                   "moment the scale grows: state['good_steps'] counts the steps taken IN A ROW since the scale last "
                   "changed. It goes up by one with each step taken, back to 0 when a step is skipped and when the "
                   "scale grows, and the scale grows when the count REACHES growth_interval. It is the scaler's memory "
                   "between two calls, so it lives in the dict you are given, not in a variable of your function",
                   "follow the count by hand on the example, step by step: after which steps must it be 0, and "
                   "at which value must the scale grow?"),
    ],
)


__all__ = ["CaseModel", "LoaderBatch", "SimulatedGPU", "device_context", "drive_scaled_steps", "drive_time_op",
           "drive_train_step", "no_gpu", "scaled_step_example", "scaled_step_reference", "stand_in_gpu",
           "synchronize", "time_op_example", "time_op_reference", "train_step_example", "train_step_reference"]
