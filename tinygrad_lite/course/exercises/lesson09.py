"""Lesson 09, the capstone: two driven exercises (``kinds.driven``, the pattern of lesson 04): the driver builds a
small run on a slice of the digits, calls the learner's function and returns a ``Run`` of what it observed.

- ``09.train_one_epoch``: one epoch of the pipeline's loop, written once for both libraries (``lib``): train mode,
  each batch moved to ``device``, zero_grad, forward, cross-entropy, backward, clipping by the global norm
  (lesson 06) between backward and step, step; it returns the epoch's mean loss and accuracy, each batch weighted
  by its size (lesson 04). The model arrives in eval mode (as validation leaves it) with batch norm; the last
  batch is smaller; ``max_norm`` is small enough that clipping acts. Hidden cases run on lesson 08's GPU played on
  the CPU (a batch not moved fails as on a GPU), on a "cpu" machine that has a GPU (a function that picks the
  device itself fails), with the gradients of an earlier backward in p.grad, in float64, and on PyTorch (a
  function that hard-codes tinygrad_lite fails). Run: [loss, accuracy] of each of two epochs, then the state.
- ``09.fit``: the debugging exercise. A colleague's epoch loop has three planted bugs: train() called once, before
  the first epoch (validation leaves the model in eval mode); the per-epoch warmup + cosine scheduler stepped
  after every batch; early stopping watching the test set. The driver detects each bug by its effect, not by
  reading the code: the model logs the mode of every training forward pass, the optimizer the lr of every step,
  the test loader when it is read. The comparison shows the symptoms of every bug still present and names none:
  a bug's Mistake names it only when the same failure comes back (tiers: a question about the symptom, the bug,
  the fix), so a check of the unchanged loop does not hand out the answers.

The references use the library's own parts (``nn.utils.clip_grad_norm_``, ``train.EarlyStopping``) and take the
library module ``lib`` first; tests/test_lesson09.py runs them on PyTorch too.
"""
import functools
import math
import weakref
from dataclasses import dataclass, replace

import numpy as np

from ... import nn, no_grad, optim, tensor
from ...autograd.grad_mode import is_grad_enabled
from ...datasets import digits
from ...device import device as Device
from ...optim import lr_scheduler
from ...train import EarlyStopping, Trainer
from ...train import fit as train_fit
from ..checks import Case, ErrorHint
from ..pytorch import torch_installed
from .kinds import Run, Within, an, driven, global_rng_kept, is_python_number, mistake, recognised
from .lesson08 import _device_text, device_context, state_vector, steps_within


# -------------------------------------------------------------------- what both exercises share
class EpochBatches:
    """Batches of indices, in a new order every epoch, drawn by numpy from (seed, epoch): a pipeline run on two
    libraries gets the same batches in the same order, and a resumed run gets the batches it would have had.
    Pass it to ``DataLoader(dataset, batch_sampler=...)``; call ``set_epoch(epoch)`` before each epoch."""

    def __init__(self, n, batch_size, seed=0):
        self.n, self.batch_size, self.seed, self.epoch = n, batch_size, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        for start in range(0, self.n, self.batch_size):
            yield order[start:start + self.batch_size].tolist()

    def __len__(self):
        return -(-self.n // self.batch_size)


@functools.cache
def digits_arrays():
    """The digits as numpy arrays: images (1797, 64) float32 in [0, 1] and labels (1797,) int64 (cached)."""
    x, y = digits(flatten=True)
    return x.numpy(), y.numpy()


def _library(name):
    if name == "torch":
        import torch
        return torch
    import tinygrad_lite
    return tinygrad_lite


def make_model(lib, hidden, init=None):
    """The capstone's MLP: Linear (no bias: batch norm removes it anyway) -> BatchNorm1d -> ReLU -> Linear."""
    model = lib.nn.Sequential(lib.nn.Linear(64, hidden, bias=False), lib.nn.BatchNorm1d(hidden), lib.nn.ReLU(),
                              lib.nn.Linear(hidden, 10))
    if init is not None:
        model.load_state_dict({k: lib.tensor(v) for k, v in init.items()})
    return model


def initial_weights(hidden, seed):
    """One set of starting weights (numpy arrays), drawn by tinygrad_lite from ``seed`` and loaded into the model
    of either library, without touching the global random generator."""
    from ... import manual_seed
    with global_rng_kept():
        manual_seed(seed)
        return {k: v.numpy().copy() for k, v in make_model(_library("tinygrad_lite"), hidden).state_dict().items()}


def parameter_groups(model, rest=None):
    """The optimizer's two groups: the weight matrices with weight decay 0.01, the rest (biases, batch norm)
    without, and with the settings ``rest`` (a dict) if given."""
    return [{"params": [p for p in model.parameters() if p.dim() == 2], "weight_decay": 0.01},
            {"params": [p for p in model.parameters() if p.dim() != 2], "weight_decay": 0.0, **(rest or {})}]


def evaluate(lib, model, loader, device="cpu"):
    """The mean cross-entropy and accuracy over ``loader`` in eval mode, without a graph: (loss, accuracy), two
    Python floats, each batch weighted by its size."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    with lib.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            output = model(x)
            total += lib.nn.functional.cross_entropy(output, y).item() * len(y)
            correct += (output.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / count, correct / count


# -------------------------------------------------------------------- 09.train_one_epoch
@dataclass
class EpochSpec:
    """A small run for 09.train_one_epoch: ``n`` digits in batches of ``batch_size`` (the last one smaller), on
    ``device`` ("cuda" is lesson 08's GPU played on the CPU); with ``stale``, the model arrives with the gradients
    of an earlier backward still in p.grad (a gradient check, say); with ``gpu``, a "cpu" run on a machine that
    has a GPU (the caller chose the CPU: a function that picks the device itself fails); ``dtype="float64"``: the
    model and the data in float64 (issue 32: the loop leaves dtypes alone), its losses and weights compared at
    float64's precision."""
    seed: int = 0
    n: int = 100
    batch_size: int = 32
    hidden: int = 16
    lr: float = 0.01
    max_norm: float = 0.2
    lib: str = "tinygrad_lite"
    device: str = "cpu"
    stale: bool = False
    gpu: bool = False
    dtype: str = "float32"
    by_name: bool = False  # (without PyTorch) the case on PyTorch: the code must not name tinygrad_lite itself

    def __repr__(self):
        text = f"{self.n} digits in batches of {self.batch_size}, max_norm={self.max_norm}, {_device_text(self.device)}"
        if self.gpu and Device(self.device).type == "cpu":
            text += " on a machine that has a GPU (the caller keeps the model on the CPU)"
        if self.stale:
            text += ", gradients of an earlier backward left in p.grad"
        if self.dtype == "float64":
            text += ", the model and the data in float64"
        return text + (" (on PyTorch)" if self.lib == "torch" else "")


def _loader(lib, x, y, batch_sampler):
    return lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(y)),
                                     batch_sampler=batch_sampler)


def drive_train_one_epoch(fn, args, kwargs):
    """Two epochs of ``fn(lib, model, loader, optimizer, max_norm=..., device=...)``, the model on ``device`` (the
    batches come from the loader on the CPU), put in eval mode before each epoch (as validation leaves it). Run:
    [loss, accuracy] per epoch, then the model's whole state."""
    spec = args[0]
    with device_context(spec.device, spec.gpu):
        try:
            return _epochs(fn, spec, kwargs)
        except RuntimeError as exc:
            if "same device" in str(exc) and spec.gpu and Device(spec.device).type == "cpu":
                exc.args = (f"{exc.args[0]}; the model is on cpu, the device you were given, and this machine has "
                            "a GPU too: a batch was moved to the GPU",)
            raise


def _through_lib(fn):
    """The failed Run when the learner's code of ``fn`` names tinygrad_lite directly instead of through ``lib``
    (``_named_library``), or None. Read on the case on PyTorch, with PyTorch or without (``epoch_cases``)."""
    if (named := _named_library(fn)) is None:
        return None
    return Run.failed(
        f"your train_one_epoch names {named} directly, not through lib: with lib = torch it would mix the two "
        "libraries. Build everything through lib: lib.nn.functional.cross_entropy, lib.nn.utils.clip_grad_norm_, "
        "lib.no_grad ...")


def _epochs(fn, spec, kwargs):
    if spec.by_name:  # no PyTorch here: the code is read instead of run on PyTorch
        if (refused := _through_lib(fn)) is not None:
            return refused
    lib = _library(spec.lib)
    x, y = digits_arrays()
    rows = np.random.default_rng(spec.seed).permutation(len(y))[:spec.n]
    model = make_model(lib, spec.hidden, initial_weights(spec.hidden, spec.seed)).to(spec.device)
    if spec.dtype == "float64":
        model, x = model.double(), x.astype(np.float64)
    if spec.stale:  # an earlier backward (no step): its gradients stay in p.grad
        stale_x, stale_y = lib.tensor(x[-32:]), lib.tensor(y[-32:])
        lib.nn.functional.cross_entropy(model(stale_x.to(spec.device)), stale_y.to(spec.device)).backward()
    optimizer = lib.optim.AdamW(parameter_groups(model), lr=spec.lr)
    sampler = EpochBatches(spec.n, spec.batch_size, spec.seed)
    loader = watch = _OutputWatch(model, _loader(lib, x[rows], y[rows], sampler))
    numbers = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        model.eval()
        returned = fn(lib, model, loader, optimizer, max_norm=spec.max_norm, device=spec.device, **kwargs)
        if returned is None:
            return Run.failed("your train_one_epoch returned None: return the epoch's mean loss and accuracy, "
                              "return loss, accuracy")
        if not isinstance(returned, (tuple, list)) or len(returned) != 2:
            return Run.failed(f"your train_one_epoch returned {an(type(returned).__name__)}; return two numbers, the "
                              "epoch's mean loss and its accuracy: return loss, accuracy")
        for what, value in zip(("loss", "accuracy"), returned):
            if hasattr(value, "detach"):
                why = ("A loss tensor drags its graph along (and a sum of them keeps every batch's graph alive)"
                       if what == "loss" else "A count made by summing a tensor ((predictions == y).sum()) is a "
                       "tensor too, and so is a total of such counts")
                return Run.failed(f"the {what} you returned is {an(type(value).__name__)}: return a plain Python "
                                  f"float. {why}: take each batch's number out with .item() before adding it up")
            if not is_python_number(value):
                return Run.failed(f"the {what} you returned is {an(type(value).__name__)}; a Python float was expected")
        if watch.kept is not None:
            return Run.failed(KEPT_GRAPH.format(batch=watch.kept[0] + 1, later=watch.kept[1] + 1))
        if (moved := _moved_parameter(lib, model, spec.device)) is not None:
            return Run.failed(f"after your train_one_epoch the model is on {moved}, but it was given on "
                              f"{str(spec.device)!r}, the device the caller chose: move each batch to `device`, and "
                              "leave the model where it is")
        numbers += [float(returned[0]), float(returned[1])]
    # (review 0809) the code is read on PyTorch too, once the loop has run: some direct uses of tinygrad_lite give
    # no error on torch tensors (a tl.no_grad() around the counting), and the case without PyTorch refuses them
    refused = _through_lib(fn) if spec.lib == "torch" else None
    return refused if refused is not None else Run.of(numbers + list(state_vector(model)))


def _named_library(fn):
    """The objects of tinygrad_lite that the learner's code of ``fn`` names directly (``tl.nn.functional.
    cross_entropy``, ``F = tl.nn.functional``, an imported function, ``tl.float32``, ``tl.no_grad``), as
    "tinygrad_lite's name, ..." in alphabetical order; None when everything goes through ``lib`` (or ``fn`` is the
    course's own code: the reference, a known mistake). ``tl.metrics`` does not count: PyTorch has no metrics for
    ``lib`` to stand for, and they take numbers and numpy arrays (tests/test_lesson09.py's running means)."""
    from ..pipeline import is_learner_file, learner_references
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None or not is_learner_file(code.co_filename):
        return None
    names = sorted({getattr(obj, "__name__", type(obj).__name__) for obj in learner_references(fn, dotted=True)
                    if (getattr(obj, "__module__", None) or "").split(".")[0] == "tinygrad_lite"
                    and not obj.__module__.startswith(("tinygrad_lite.course", "tinygrad_lite.metrics"))})
    return f"tinygrad_lite's {', '.join(names)}" if names else None


def _moved_parameter(lib, model, device):
    """The device of a parameter that is no longer on ``device`` (the model was moved elsewhere), or None."""
    if lib.__name__ != "tinygrad_lite":
        return None
    home = Device(device)
    for p in model.parameters():
        if (p.device.type, p.device.index or 0) != (home.type, home.index or 0):
            return str(p.device)
    return None


class _OutputWatch:
    """A weak reference to every output of the model's forward pass, with the batch it belongs to. On
    tinygrad_lite a loss's graph holds the model's output, so an output still alive two batches later means a
    graph kept alive (a sum of loss tensors, a list of losses or of outputs); ``kept`` notes the first such
    (batch, later batch). PyTorch's graph does not hold the output's Python object, so on PyTorch nothing is
    noted (the tinygrad_lite cases catch it)."""

    def __init__(self, model, loader):
        self.loader, self.batch, self.outputs, self.kept = loader, -1, [], None
        forward = model.forward

        def watched_forward(*args, **kwargs):
            output = forward(*args, **kwargs)
            try:
                self.outputs.append((self.batch, weakref.ref(output)))
            except TypeError:  # not a tensor: nothing to watch
                pass
            return output
        object.__setattr__(model, "forward", watched_forward)

    def _look(self):
        self.batch += 1
        if self.kept is None:
            if old := [b for b, ref in self.outputs if b <= self.batch - 2 and ref() is not None]:
                self.kept = (old[0], self.batch)
        self.outputs = [(b, ref) for b, ref in self.outputs if ref() is not None]

    def __iter__(self):  # the loader, as the learner's loop sees it
        for batch in self.loader:
            self._look()
            yield batch
        self._look()

    def __len__(self):
        return len(self.loader)

    def __getattr__(self, name):  # loader.dataset, loader.batch_size, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __repr__(self):
        return repr(self.loader)


KEPT_GRAPH = ("the graph of batch {batch} (its forward pass, its activations) was still alive when batch {later} "
              "began: your loop keeps every batch's graph in memory until the epoch ends. A sum of loss tensors "
              "(total = total + loss * n), or a list of losses or of the model's outputs, does that, even when "
              "the number is taken out at the end; on a real model the memory grows with every batch (lesson 04). "
              "Take each batch's numbers out with .item() as soon as you have them, and add up numbers")


def epoch_cases(rng):
    """The check's cases. The one on PyTorch runs where PyTorch is installed: the course needs none (a hosted
    notebook may lack it); without it that case runs on tinygrad_lite and first reads the learner's code for
    tinygrad_lite named directly (``EpochSpec.by_name``). On PyTorch the code is read too, after the run, so that
    such code is refused on that case either way (``_through_lib``). Grading judges in the kernel's environment,
    the grader's."""
    seed = int(rng.integers(1, 1000))
    cases = [
        Case((EpochSpec(),), visible=True),
        Case((EpochSpec(seed=seed, n=90, batch_size=20, max_norm=0.5, device="cuda"),),
             "on 'cuda' (lesson 08's GPU played on the CPU): the loader's batches are on the CPU; a last batch of 10"),
        Case((EpochSpec(seed=seed + 1, n=75, batch_size=32, max_norm=2.0, lr=0.02, hidden=12),),
             "a larger max_norm"),
        Case((EpochSpec(seed=seed + 2, n=64, batch_size=24, max_norm=0.05, hidden=20),), "very strong clipping"),
        Case((EpochSpec(seed=seed + 3, n=70, batch_size=16, max_norm=0.3, lib="torch"),),
             "the same loop on PyTorch: lib is torch"),
        Case((EpochSpec(seed=seed + 4, n=100, batch_size=48, max_norm=1.0, lr=0.05, device=Device("cuda", 0),
                        stale=True),),
             "a large learning rate; the model arrives with the gradients of an earlier backward"),
        Case((EpochSpec(seed=seed + 5, n=40, batch_size=16, max_norm=0.5, device="cpu", gpu=True),),
             "'cpu' on a machine that has a GPU: the caller chose the CPU, so the loop must use the device given"),
        # issue 32: a caller may train in float64; a small run (this check is among the suite's slowest)
        Case((EpochSpec(seed=seed + 6, n=36, batch_size=16, max_norm=0.5, hidden=8, device="cuda", dtype="float64"),),
             "the model and the data in float64 (compared at float64's precision), on 'cuda'"),
    ]
    if torch_installed():
        return cases
    # no PyTorch here: the case on PyTorch becomes one that reads the code for tinygrad_lite named directly
    return [Case((replace(c.args[0], lib="tinygrad_lite", by_name=True),),
                "the same loop with lib = torch, which is not installed here: the check reads your code instead")
            if c.args[0].lib == "torch" else c for c in cases]


def _epoch_compare(got, expected, case):
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    spec = case.args[0]
    names = ("mean loss of epoch 1", "accuracy of epoch 1", "mean loss of epoch 2", "accuracy of epoch 2")
    # a float64 case: the losses and the weights at float64's precision (issue 32); an accuracy is a count, and a
    # mean of a float32 mask ((pred == y).float().mean(), PyTorch's style too) is as right there as anywhere
    for i, name in enumerate(names):
        within, digits = steps_within(spec.dtype if i % 2 == 0 else "float32")
        if not np.isclose(g[i], e[i], rtol=within.rtol, atol=within.atol):
            return f"{spec!r}: the {name} should be {e[i]:.{digits}g}, yours is {g[i]:.{digits}g}"
    f64 = spec.dtype == "float64"
    if not np.allclose(g[4:], e[4:], rtol=1e-9 if f64 else 1e-4, atol=1e-12 if f64 else 1e-6):
        return (f"{spec!r}: the returned numbers are right but the model's state after two epochs differs from the "
                f"reference's (largest difference {np.nanmax(np.abs(g[4:] - e[4:])):.3g}): its weights, or batch "
                "norm's running statistics and batch count, which each forward pass in train mode updates (one "
                "more forward pass per batch, say for the accuracy, updates them twice)")
    return None


def _epoch(train=True, clip="norm", zero=True, weigh=True, where="between", fixed_norm=None, softmax=False,
           reduction="mean"):
    """A training epoch with one thing changed, for the mistakes (``zero="end"``: the gradients cleared after the step
    instead of before backward, ``zero="between"``: after backward, before the step; ``fixed_norm``: clipped to that
    norm, whatever max_norm is; ``weigh="batch_size"``: the examples counted as loader.batch_size per batch (None
    here: the loader has a batch_sampler), ``weigh="sum"``: the batch losses added up unweighted and divided by the
    number of examples; ``softmax``: cross-entropy of the softmax of the scores; ``clip="generator"``: clipped over
    one model.parameters() generator made before the loop, used up by the first batch's clip; ``zero="once"``: the
    gradients cleared before the first batch only; ``clip="first group"``: only the optimizer's first param group
    clipped; ``clip="each"``: each parameter clipped on its own; ``weigh="first"``: every batch counted as the first
    one's size; ``reduction="sum"``: backward from the batch's summed loss, which is added to the total as it is)."""
    def train_one_epoch(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
        max_norm = max_norm if fixed_norm is None else fixed_norm
        params = model.parameters()
        if train:
            model.train()
        total, correct, count, losses, accs, first = 0.0, 0, 0, [], [], None
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            output = model(x)
            loss = lib.nn.functional.cross_entropy(output.softmax(dim=1) if softmax else output, y, reduction=reduction)
            if zero is True or zero == "once" and first is None:  # ("once": before the first batch alone)
                optimizer.zero_grad()
            if clip and where == "before":
                lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            loss.backward()
            if clip == "norm" and where == "between":
                lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            if clip == "value":
                lib.nn.utils.clip_grad_value_(model.parameters(), max_norm)
            if clip == "generator":
                lib.nn.utils.clip_grad_norm_(params, max_norm)
            if clip == "first group":
                lib.nn.utils.clip_grad_norm_(optimizer.param_groups[0]["params"], max_norm)
            if clip == "each":
                for p in model.parameters():
                    lib.nn.utils.clip_grad_norm_([p], max_norm)
            if zero == "between":
                optimizer.zero_grad()
            optimizer.step()
            if zero == "end":
                optimizer.zero_grad()
            if clip and where == "after":
                lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            hits = (output.argmax(dim=1) == y).sum().item()
            summed = weigh == "sum" or reduction == "sum"  # (a summed loss is added as it is)
            first = first or len(y)
            size = first if weigh == "first" else len(y)
            total, correct = total + loss.item() * (1 if summed else size), correct + hits
            count += loader.batch_size if weigh == "batch_size" else size
            losses.append(loss.item())
            accs.append(hits / len(y))
        weighted, plain = (total / count, correct / count), (sum(losses) / len(losses), sum(accs) / len(accs))
        if weigh in ("loss", "accuracy"):  # only that one weighted by the batch sizes
            return (weighted[0], plain[1]) if weigh == "loss" else (plain[0], weighted[1])
        return weighted if weigh else plain
    return train_one_epoch


# The reference, every switch off: one epoch in training mode; for each batch (moved to ``device``) zero_grad,
# forward, cross-entropy, backward, clip the global gradient norm to ``max_norm``, step. It returns (mean loss,
# accuracy) over the epoch's examples, each batch weighted by its size, as Python floats.
train_one_epoch_reference = _epoch()


def _accuracy_differs(times=None):
    """A match: the right losses (so the right training: the second epoch's loss depends on the first's steps), but
    other accuracies (with ``times``: the right ones times that, e.g. 100 for a percentage). The buffers may differ
    (a second forward pass in train mode updates batch norm's running statistics once more)."""
    def match(got, expected, case):
        g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if (g.shape != e.shape or not np.allclose(g[[0, 2]], e[[0, 2]], rtol=1e-5, atol=1e-7)
                or np.allclose(g[[1, 3]], e[[1, 3]], rtol=1e-5, atol=1e-7)):
            return False
        return times is None or np.allclose(g[[1, 3]], times * e[[1, 3]], rtol=1e-5, atol=1e-5)
    return match


def _wrong_count(got, expected, case):
    """The right training (the weights), but both epochs' loss and accuracy off by one common factor: the
    number of examples they were divided by is wrong."""
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape or not np.allclose(g[4:], e[4:], rtol=1e-4, atol=1e-6) or np.any(e[:4] == 0):
        return False
    ratios = g[:4] / e[:4]
    return bool(np.allclose(ratios[:2], ratios[0], rtol=1e-5) and np.allclose(ratios[2:], ratios[2], rtol=1e-5)
                and not np.allclose(ratios, 1.0, rtol=1e-5))


CLIPPING = ("the gradients were not clipped where the step uses them (lesson 06): clipping changes p.grad, so it "
            "must come after backward() has filled the gradients and before step() reads them",
            "clipping works on the gradients backward has just filled, with the max_norm you are given, and "
            "must be done before the step reads them")

driven(
    "09.train_one_epoch", train_one_epoch_reference, epoch_cases, drive_train_one_epoch, unread="your run",
    compare=_epoch_compare, match=Within(1e-5, 1e-7),
    vary=("max_norm", "device"), points=2, forbid=(Trainer, train_fit),
    mistakes=[
        mistake(_epoch(train=False),
                "the model never went back to training mode: the loop received it in eval() mode, as validation "
                "leaves it, so batch norm normalised each batch with its running statistics (and dropout would have "
                "been off) while the weights were trained",
                "every training epoch must begin by switching the model's mode back: validation left it in eval mode"),
        *(mistake(_epoch(**slip), *CLIPPING) for slip in ({"clip": None}, {"where": "after"}, {"where": "before"})),
        mistake(_epoch(clip="value"),
                "clipping by value caps each gradient element at ±max_norm, which turns the gradient's direction; "
                "clipping by the global norm scales all of them by one factor, keeping the direction (lesson 06)",
                "use clip_grad_norm_, not clip_grad_value_"),
        mistake(_epoch(clip="generator"),
                "only the first batch was clipped: model.parameters() returns a generator, which the first "
                "clip_grad_norm_ used up, so every later clip got no parameters and clipped nothing",
                "ask the model for its parameters at each clip (or keep them in a list)"),
        mistake(_epoch(clip="first group"),
                "you clipped the parameters of the optimizer's first param group only: here the optimizer has two "
                "groups (the weights, with weight decay, and the rest, without), so the others went unclipped, and the "
                "norm was measured over part of the gradients. The global norm is over every parameter of the model",
                "clip model.parameters(), all of them in one call"),
        mistake(_epoch(clip="each"),
                "you clipped each parameter's gradient on its own, to a norm of max_norm each: clipping by the "
                "global norm measures all the gradients together, as one vector, and scales every one of them by "
                "the same factor (lesson 06)",
                "one call, clip_grad_norm_(model.parameters(), max_norm), for all the parameters together"),
        mistake(_epoch(zero=False),
                "the gradients were never reset: backward() adds to p.grad, so each step used the sum of all the "
                "gradients so far (lesson 03)",
                "call optimizer.zero_grad() before each backward()"),
        mistake(_epoch(fixed_norm=1.0),
                "the gradients were clipped to a norm of 1.0, not to the max_norm this call was given (whether "
                "the 1.0 came from the parameter's default, a global setting such as CONFIG, or a number "
                "written in): the function must use its argument",
                "clip to the argument max_norm"),
        mistake(_epoch(zero="between"),
                "the weights did not learn: each step found no gradient to apply. Either the gradients were "
                "cleared after backward() and before step(), or no step() ran after backward() (step() before "
                "backward(), or left out), or backward() never reached the weights (left out, or from a loss "
                "detached from the model). Each batch: clear, forward, backward, clip, step",
                "clear the gradients at the start of each batch, and call step() after backward()"),
        mistake(_epoch(zero="once"),
                "the gradients were cleared once, before the loop: backward() adds into p.grad, so each later "
                "step used the sum of all the gradients so far (lesson 03). Clear them at every batch",
                "call optimizer.zero_grad() inside the loop, before each backward()"),
        mistake(_epoch(softmax=True),
                "cross_entropy takes the raw scores (logits) and applies log_softmax itself: a softmax before "
                "it squashes the scores into [0, 1], and the loss and its gradients are those of another model"),
        mistake(_epoch(zero="end"),
                "the model may arrive with gradients already in p.grad (here, from an earlier backward): "
                "clearing them only after each step lets the first batch add its gradients to the old ones. "
                "Clear them before each backward, so that every step starts clean whatever came before",
                "move optimizer.zero_grad() before loss.backward()"),
        *(mistake(_epoch(weigh=weigh),
                  "the epoch's numbers must be means over its examples: the last batch is smaller here, so a plain "
                  "mean of the batch means weighs its few examples too much (lesson 04)",
                  "weigh each batch's mean loss by the number of examples in it: add up the weighted losses and the "
                  "right predictions, and divide each total by the number of examples seen, once, at the end")
          for weigh in (False, "accuracy")),  # (both numbers plain means, or the loss alone)
        mistake(_epoch(weigh="first"),
                "every batch was counted as the size of the first one: the last batch is smaller here, so its "
                "loss weighs too much and the count of examples is too large (the loss comes out as a plain mean "
                "of the batch means, and the accuracy too small)",
                "weigh each batch by its own size, len(y), in the loss's total and in the count of examples"),
        mistake(_epoch(weigh="sum"),
                "the mean loss came out about batch-size times too small: each batch's loss is already a mean over "
                "its examples, so adding the batch losses up and dividing the total by the number of examples "
                "divides by the batch size twice (lesson 04)",
                "weigh each batch's mean loss by the number of examples in it before adding it to the total; the "
                "division by the number of examples seen then comes once, at the end"),
        mistake(_epoch(reduction="sum"),
                "backward() started from the SUM of the batch's losses (reduction='sum'), whose gradient is "
                "batch-size times the mean's. Clipping cuts both down to max_norm where both exceed it, so many "
                "steps agree, but every step whose mean gradient stayed below max_norm came out larger (and the "
                "losses of the batches after it moved with the weights)",
                "call backward() on the batch's MEAN loss (cross_entropy's default reduction), and weigh its "
                ".item() by the batch size only for the epoch's total"),
        mistake(_epoch(weigh="loss"),
                "the accuracy must be the fraction of the epoch's examples predicted right: a plain mean of the "
                "batch accuracies weighs the smaller last batch's few examples too much",
                "add up the NUMBER of right predictions of each batch and the batch sizes; divide the two "
                "totals once, at the end of the epoch"),
        recognised(_wrong_count,
                   "the weights are right, and the loss and the accuracy are both off by one factor: they were "
                   "divided by a wrong number of examples. The last batch is smaller than the others here: count "
                   "the examples each batch really holds"),
        recognised(_accuracy_differs(times=100),
                   "the accuracy is a fraction between 0 and 1 (as evaluate returns it), not a percentage"),
        recognised(_accuracy_differs(),
                   "the loss and the weights are right, the accuracy is not: count the right predictions of the "
                   "training forward pass, the outputs the loss was computed on, and divide their total once by the "
                   "number of examples the epoch saw (batch fractions added up and divided again come out too small). "
                   "A second forward pass sees other numbers: the weights after the step, or in eval mode batch "
                   "norm's running statistics (in train mode it updates them once more)"),
    ],
    error_hints=[
        ErrorHint(r"the input is tinygrad_lite\.float(32|64) but the weight is tinygrad_lite\.float(64|32)",
                  "this case's model and data are float64 (a caller may train in float64), and your loop turned the "
                  "batch (or the model) into float32: a training loop moves each batch to the device and leaves "
                  "the dtypes alone, so that the same loop serves a float32 model and a float64 one (the data and "
                  "the model come in matching dtypes)",
                  "move x and y with .to(device) alone: no .float(), and no dtype in .to, nor a model.float()"),
        ErrorHint(r"unsupported operand type\(s\) for \+=?: '(int|float)' and 'NoneType'",
                  "a number was added to None: loader.batch_size, for one, is None here (this loader draws its "
                  "batches from a batch_sampler, as PyTorch's does), and the last batch is smaller anyway. The "
                  "epoch's means divide by the number of examples seen: count each batch's own size"),
        ErrorHint(r"this machine has a GPU too",
                  "use the `device` argument, not a device the function picks itself ('cuda' whenever a GPU is "
                  "available, as the pipeline's run does to choose the device it passes): the caller decides "
                  "where the model lives, and may keep it on the CPU on a machine that has a GPU",
                  "pass the parameter `device` to .to(...) for each batch"),
        ErrorHint(r"Expected all tensors to be on the same device.*\(in (add|subtract|multiply|(true_)?divide|"
                  r"(add|sub|mul|div)_)\)",
                  "the error comes from your own arithmetic (an addition or the like), not from the model: it "
                  "mixed a tensor on `device` with one on the CPU. Moving the batch is not all: a tensor your "
                  "function creates itself (a running total made with lib.zeros or lib.tensor, say) is made on "
                  "the CPU unless told otherwise, so it must be made on the device too. Better: add up Python "
                  "numbers, taking each batch's out with .item()",
                  "start the running totals as Python numbers and add each batch's share as a number (.item()): a "
                  "float lives on no device, and holds no graph"),
        ErrorHint(r"Expected all tensors to be on the same device",
                  "the model lives on `device`, and the loader hands out its batches on the CPU: every batch has "
                  "to be moved to the model's device, x and y both (lesson 08)",
                  "both tensors of each batch need moving, and the move returns new tensors (it does not move them "
                  "in place)"),
        ErrorHint(r"plays a machine without a GPU",
                  "use the `device` argument, not a fixed 'cuda': the same function must run on a machine with a "
                  "GPU and on one without",
                  "pass the parameter `device` to .to(...)"),
        ErrorHint(r"must be a tinygrad_lite Tensor, not a torch|must be tinygrad_lite Tensors, one is a torch|"
                  r"must be a Tensor, not Tensor|"
                  r"'Tensor' object has no attribute 'array'|module 'torch' has no",
                  "on the PyTorch case, lib is torch: build everything through lib (lib.nn, lib.no_grad, ...), "
                  "not through tl, so that one function serves both libraries"),
    ],
)


# -------------------------------------------------------------------- 09.fit (the debugging exercise)
@dataclass
class FitSpec:
    """A small run for 09.fit. ``eval_mode``: the model is handed over in eval mode (as a sanity check or an
    evaluation before the run leaves it); ``rest_lr``: the second parameter group (biases and batch norm) has
    its own learning rate, this factor times the first group's."""
    seed: int = 1
    n_train: int = 64
    n_val: int = 48
    n_test: int = 48
    batch_size: int = 16
    hidden: int = 16
    epochs: int = 10
    warmup: int = 2
    patience: int = 2
    lr: float = 0.05
    max_norm: float = 1.0
    eval_mode: bool = False
    rest_lr: float = 1.0

    def __repr__(self):
        text = (f"a run of up to {self.epochs} epochs ({self.warmup} of warmup), patience {self.patience}, "
                f"{self.n_train} training digits in batches of {self.batch_size}")
        if self.eval_mode:
            text += ", the model handed over in eval mode"
        if self.rest_lr != 1.0:
            text += f", the second parameter group at {self.rest_lr} times the first group's lr"
        return text


class _WatchedModel(nn.Sequential):
    """The capstone's MLP, logging the mode of every forward pass that builds a graph (a training step) into the
    run's log: "step" in training mode, "eval step" in eval mode; and a pass without a graph in training mode (an
    evaluation that left the model in train mode), "train-mode look"."""

    def __init__(self, hidden, log):
        super().__init__(nn.Linear(64, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 10))
        self.log = log

    def forward(self, x):
        if is_grad_enabled():
            self.log.append("step" if self.training else "eval step")
        elif self.training:
            self.log.append("train-mode look")
        return super().forward(x)


class _WatchedAdamW(optim.AdamW):
    """AdamW recording the learning rate of every step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lrs = []

    @no_grad()
    def step(self, closure=None):
        self.lrs.append(self.param_groups[0]["lr"])
        return super().step(closure)


class _WatchedLoader:
    """A DataLoader that logs its name into the run's log each time it is read. With ``sampler`` (the training
    loader's), it sets the sampler's epoch to the count of earlier reads, so that the batches are a function of the
    epoch whatever the learner's loop looks like."""

    def __init__(self, loader, name, log, sampler=None):
        self.loader, self.name, self.log, self.sampler, self.reads = loader, name, log, sampler, 0

    def __iter__(self):
        self.log.append(self.name)
        if self.sampler is not None:
            self.sampler.set_epoch(self.reads)
        self.reads += 1
        return iter(self.loader)

    def __len__(self):
        return len(self.loader)


def _schedule(optimizer, spec):
    warmup = lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=spec.warmup)
    cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=spec.epochs - spec.warmup)
    return lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[spec.warmup])


def build_fit(spec):
    """The instrumented model, optimizer, scheduler and loaders of ``spec``, and the list the loaders log into."""
    import tinygrad_lite as lib
    x, y = digits_arrays()
    rows = np.random.default_rng(spec.seed).permutation(len(y))
    parts = np.split(rows[:spec.n_train + spec.n_val + spec.n_test], [spec.n_train, spec.n_train + spec.n_val])
    log = []
    model = _WatchedModel(spec.hidden, log)
    model.load_state_dict({k: lib.tensor(v) for k, v in initial_weights(spec.hidden, spec.seed).items()})
    if spec.eval_mode:
        model.eval()
    optimizer = _WatchedAdamW(parameter_groups(model, {"lr": spec.lr * spec.rest_lr}), lr=spec.lr)
    scheduler = _schedule(optimizer, spec)
    sampler = EpochBatches(spec.n_train, spec.batch_size, spec.seed)
    loaders = {"train": _WatchedLoader(_loader(lib, x[parts[0]], y[parts[0]], sampler), "train", log, sampler)}
    for name, idx in (("val", parts[1]), ("test", parts[2])):
        loaders[name] = _WatchedLoader(_loader(lib, x[idx], y[idx], EpochBatches(len(idx), 64, spec.seed)), name, log)
    return model, optimizer, scheduler, loaders, log


BUGS = ("mode", "schedule", "test")


FIELDS = ("train_loss", "val_loss", "lr", "test_loss", "test_acc")
SYMPTOMS = 7  # the numbers after the three flags that describe what the instrumented run saw


def drive_fit(fn, args, kwargs):
    """Run ``fn(lib, model, optimizer, scheduler, loaders=..., config=...)`` on the instrumented parts of the
    case's FitSpec. Run: [mode bug, schedule bug, test bug (each 0 or 1); the symptoms: training steps run in eval
    mode, all training steps, the first epoch with one (0: none), the learning rates used within the first epoch,
    the reads of the test set, the epoch after which it was first read (0: never), whether that was before the
    training was over (0 or 1); epochs trained; per epoch the
    train loss, val loss and lr (nan after the stop, up to spec.epochs), and the lr the optimizer's first step of
    the epoch used; the test loss and accuracy; the final state]."""
    import tinygrad_lite as lib
    spec = args[0]
    model, optimizer, scheduler, loaders, log = build_fit(spec)
    config = {"epochs": spec.epochs, "patience": spec.patience, "max_norm": spec.max_norm}
    history = fn(lib, model, optimizer, scheduler, loaders=loaders, config=config, **kwargs)
    if not isinstance(history, dict):
        return Run.failed(f"your fit returned {an(type(history).__name__)}; return the history dict (train_loss, "
                          "val_loss, lr, test_loss, test_acc)")
    if missing := [k for k in FIELDS if k not in history]:
        return Run.failed(f"the history your fit returned has no {missing[0]!r} entry; it holds {', '.join(FIELDS)}")
    for name in FIELDS:
        values = history[name] if name in ("train_loss", "val_loss", "lr") else [history[name]]
        if (kept := next((v for v in values if not is_python_number(v)), None)) is not None:
            why = (" A tensor keeps its graph (every batch's, for a sum of losses) alive as long as the history "
                   "lives, and a history file cannot hold it: take the number out with .item()"
                   if hasattr(kept, "detach") else "")
            return Run.failed(f"history[{name!r}] holds {an(type(kept).__name__)}; it holds Python numbers.{why}")
    passes = sum(name == "train" for name in log)  # the epochs trained: the passes over the training loader
    if extra := next((name for name in ("train_loss", "val_loss", "lr") if len(history[name]) > passes), None):
        return Run.failed(f"history[{extra!r}] has {len(history[extra])} entries for the {passes} epochs your loop "
                          "trained: each list holds one entry per epoch (a line inside the loop over the batches "
                          "records one per batch, and a second line in the epoch, or one at the stop, one more)")
    per_epoch, lrs = len(loaders["train"]), np.asarray(optimizer.lrs, dtype=np.float64)  # (an lr per step)
    # the epochs trained, from the steps taken (a history list one short must not look like a schedule's slip)
    epochs = len(lrs) // per_epoch if len(lrs) % per_epoch == 0 else len(history["train_loss"])

    def epoch_of(index):  # the epoch (1, 2, ...) a log entry belongs to: the training loader's reads before it
        return sum(name == "train" for name in log[:index + 1])

    def read_before(index):  # the loader read last before log entry ``index`` (its batches went to that pass)
        return next((name for name in reversed(log[:index]) if name in loaders), None)
    looks = [i for i, name in enumerate(log) if name in ("step", "eval step", "train-mode look")
             and read_before(i) in ("val", "test")]
    if looks:  # an evaluation of the learner's own (the given evaluate runs in eval mode, under no_grad)
        i = looks[0]
        what = ("in train mode" if log[i] == "train-mode look" else "with gradients recorded" if log[i] == "eval step"
                else "in train mode, with gradients recorded")
        why = ("batch norm then normalises each batch with its own statistics and moves its running statistics "
               "towards the validation data, which changes the model: call model.eval() before evaluating"
               if "train mode" in what else
               "every forward pass builds a graph no backward will use (time and memory for nothing): evaluate "
               "under lib.no_grad()")
        return Run.failed(f"your fit evaluated the model on loaders[{read_before(i)!r}] {what} (the first time in "
                          f"epoch {epoch_of(i)}): {why}. The given evaluate(...) does both; keep it")
    steps = [i for i, name in enumerate(log) if name in ("step", "eval step")]
    eval_steps = [i for i in steps if log[i] == "eval step"]
    expected_lrs = _per_epoch_lrs(spec, epochs)
    schedule_bug = float(len(lrs) != epochs * per_epoch
                         or not np.allclose(lrs, np.repeat(expected_lrs, per_epoch), rtol=1e-9, atol=0.0))
    test_reads = [i for i, name in enumerate(log) if name == "test"]
    last_other = max([i for i, name in enumerate(log) if name != "test"], default=-1)
    test_bug = float(len(test_reads) != 1 or test_reads[0] < last_other)
    symptoms = [len(eval_steps), len(steps), epoch_of(eval_steps[0]) if eval_steps else 0,
                len(set(lrs[:per_epoch].tolist())), len(test_reads), epoch_of(test_reads[0]) if test_reads else 0,
                float(bool(test_reads) and test_reads[0] < last_other)]

    def padded(values):  # nan after the last epoch, up to spec.epochs
        return ([float(v) for v in values] + [math.nan] * spec.epochs)[:spec.epochs]
    used = [lrs[i * per_epoch] if i * per_epoch < len(lrs) else math.nan for i in range(epochs)]
    numbers = ([float(bool(eval_steps)), schedule_bug, test_bug] + symptoms + [float(epochs)]
               + padded(history["train_loss"]) + padded(history["val_loss"]) + padded(history["lr"]) + padded(used)
               + [float(history["test_loss"]), float(history["test_acc"])] + list(state_vector(model)))
    return Run.of(numbers)


def _per_epoch_lrs(spec, epochs):
    """The lr of each epoch when the scheduler steps once per epoch."""
    params = [nn.Parameter(tensor(np.zeros(1, dtype=np.float32)))]
    optimizer = optim.AdamW(params, lr=spec.lr)
    scheduler = _schedule(optimizer, spec)
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.asarray(lrs)


def fit_cases(rng):
    seed = int(rng.integers(1, 1000))
    return [
        Case((FitSpec(),), visible=True),
        Case((FitSpec(seed=7, n_train=48, epochs=12, warmup=1, patience=2, lr=0.1, hidden=24, batch_size=16),),
             "48 training digits: the validation loss soon rises and early stopping fires"),
        Case((FitSpec(seed=seed, epochs=6, warmup=1, patience=1, eval_mode=True),),
             "patience 1; the model arrives in eval mode"),
        Case((FitSpec(seed=seed + 1, epochs=9, warmup=3, patience=3, batch_size=24, lr=0.03),),
             "a longer warmup"),
        Case((FitSpec(seed=seed + 2, n_train=80, batch_size=24, epochs=7, warmup=2, patience=2, max_norm=0.3),),
             "strong clipping, a smaller last batch"),
        Case((FitSpec(seed=seed + 3, epochs=10, warmup=2, patience=4, lr=0.05, hidden=12, rest_lr=0.5),),
             "a large learning rate; the two parameter groups have different learning rates"),
        Case((FitSpec(seed=1, epochs=6, warmup=1, patience=5, lr=0.2),),
             "patience 5: all 6 epochs run, the best validation loss comes early (early stopping never fires, the "
             "best weights must still be restored)"),
    ]


def _only_reads_test(during):
    """A match: every number right, but the test set was read during training (``during``: for a look, not for
    the decisions) or more than once after it."""
    def reads(got, expected, case):
        g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        k = 3 + SYMPTOMS
        return (g.shape == e.shape and list(g[:3]) == [0, 0, 1] and bool(g[k - 1]) == during
                and bool(np.allclose(g[k:], e[k:], rtol=1e-5, atol=1e-7, equal_nan=True)))
    return reads


def _bug_remains(name, unread=False):
    """A match for the planted bug ``name`` (its flag is raised in the run), for its Mistake's hint tiers; with
    ``unread``, the test set was never read either (the final score taken on another loader)."""
    index = BUGS.index(name)

    def remains(got, expected, case):
        g = np.asarray(got, dtype=np.float64)
        return g.ndim == 1 and g.shape == np.shape(expected) and bool(g[index]) and (not unread or g[3 + 4] == 0)
    return remains


def _symptoms(g, e, spec):
    """What the instrumented run saw, for each planted bug whose flag is raised: observations, not causes."""
    eval_steps, steps, first_eval, lrs_first, test_reads, first_test, during = (int(v) for v in g[3:3 + SYMPTOMS])
    n = spec.epochs
    lr = 3 + SYMPTOMS + 1 + 2 * n
    out = []
    if g[0]:
        out.append(f"{eval_steps} of the {steps} training steps ran with model.training False (the first one in "
                   f"epoch {first_eval})")
    if g[1]:
        yours = [f"{v:.3g}" for v in g[lr:lr + n] if np.isfinite(v)]
        right = [f"{v:.3g}" for v in _per_epoch_lrs(spec, len(yours))]
        began = [f"{v:.3g}" for v in g[lr + n:lr + 2 * n][:len(yours)]]
        used = ("one learning rate in the first epoch, as they should, but not the schedule's"
                if lrs_first == 1 else f"{lrs_first} different learning rates in the first epoch")
        out.append(f"the optimizer's steps used {used}: each epoch's first step used the lr [{', '.join(began)}], "
                   f"history['lr'] is [{', '.join(yours)}], and the schedule gives [{', '.join(right)}]")
    if g[2]:
        if not test_reads:
            out.append("the test loader was never read: history['test_loss'] and history['test_acc'] come from "
                       "one evaluation on loaders['test'], after the loop, on the restored model")
        elif during:
            when = f"the first time after epoch {first_test}" if first_test else "the first time before any training"
            out.append(f"the test loader was read {test_reads} times, {when}, before the training was over")
        else:
            out.append(f"the test loader was read {test_reads} times, all after the training: the final test "
                       "score needs one evaluation")
    return out


BUG_HINTS = {  # per planted bug: a question about its symptom, then (when it comes back) the bug, then the fix
    "mode": ("which mode is the model in when each epoch's training starts, and which call put it there?",
             "the model trains in eval() mode: validation switches it to eval(), and a model may arrive in eval "
             "mode, so unless train() comes before every epoch's training, the first one included (a train() "
             "only after validation leaves the first epoch in the mode the model came in), batch norm normalises "
             "the training batches with its running statistics (and dropout would be off) (lesson 07)",
             "switch to train mode at the start of every epoch, inside the epoch loop"),
    "schedule": ("when, and how many times per epoch, is the scheduler stepped, and in which unit were its "
                "lengths (the warmup, T_max) given?",
                "the learning rate does not follow the schedule it was built for: the warmup and the cosine count "
                "EPOCHS (T_max = epochs - warmup), so the scheduler must be stepped once per epoch, after the "
                "epoch's batches; stepped once per batch, the warmup ends within the first epoch and the cosine "
                "reaches its minimum, then climbs back up, long before training ends, and stepped before an "
                "epoch's batches, every epoch trains with the next epoch's rate (lesson 05)",
                "the scheduler counts epochs: step it once per epoch, when the epoch's training is done"),
    "test": ("which data does each decision during training (stop now? is this the best epoch so far?) look at?",
             "the test set takes part in the training decisions: early stopping (and the choice of the best epoch) "
             "watches the test loss, so the final test score is no longer an unbiased estimate; decisions watch the "
             "validation loss, and the test set is read once, after the loop, on the restored model (lesson 07)",
             "give stopper.step the validation loss, and read loaders['test'] only after the loop"),
}


def _fit_compare(got, expected, case):
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    spec = case.args[0]
    symptoms = _symptoms(g, e, spec)
    if len(symptoms) == 1 and g[2] and not g[0] and not g[1] and not g[2 + SYMPTOMS]:
        return f"{spec!r}: the instrumented run shows: {symptoms[0]}"  # the test set read twice after training
    if symptoms:
        what = "a symptom of a planted bug" if len(symptoms) == 1 else f"{len(symptoms)} symptoms of planted bugs"
        return (f"{spec!r}: the instrumented run shows {what} still in the loop:\n"
                + "\n".join(f"- {text}" for text in symptoms))
    n, k = spec.epochs, 3 + SYMPTOMS
    if g[k] != e[k]:
        return (f"{spec!r}: no planted bug is left, but your loop trained {int(g[k])} epochs where the colleague's "
                f"loop with its three bugs fixed trains {int(e[k])}: fix only the planted bugs and keep the rest "
                "of the loop (the gradient clipping, the optimizer step, the early-stopping rule) as it was")
    for name, start in (("train_loss", k + 1), ("val_loss", k + 1 + n), ("lr", k + 1 + 2 * n)):
        a, b = g[start:start + n], e[start:start + n]
        if not np.allclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True):
            epoch = int(np.argmax(~np.isclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True)))
            if np.isnan(a[epoch]) and epoch < g[k]:  # the lists are padded with nan after the last entry
                return (f"{spec!r}: your loop trained {int(g[k])} epochs, but history[{name!r}] has only "
                        f"{epoch} entries: " + (f"the one of epoch {epoch + 1} is" if epoch + 1 == g[k] else
                                                f"those of epochs {epoch + 1} to {int(g[k])} are") + " missing. Every "
                        "epoch trained gets its entry in each list, whatever its numbers, the stopping epoch too: "
                        "record it in every epoch, before the loop can end")
            return (f"{spec!r}: no planted bug is left, but history[{name!r}] differs at epoch {epoch + 1} (the "
                    f"first is 1): expected {b[epoch]:.6g}, got {a[epoch]:.6g}; fix only the planted bugs and "
                    "keep the rest of the loop (the gradient clipping, the loss, the order of the steps) as it was")
    t = k + 1 + 4 * n  # after the lr each epoch's first step used
    for name, index in (("test_loss", t), ("test_acc", t + 1)):
        if not np.isclose(g[index], e[index], rtol=1e-5, atol=1e-7):
            return (f"{spec!r}: history[{name!r}] should be {e[index]:.6g} (the restored best model, evaluated "
                    f"once on the test set), yours is {g[index]:.6g}")
    if not np.allclose(g[t + 2:], e[t + 2:], rtol=1e-4, atol=1e-6):
        return (f"{spec!r}: the history is right, but the model does not end with the weights of the best "
                "epoch: restore them before the final evaluation")
    return None


def _fit(mode=True, per_batch=False, select_on="val", restore=True, log_test=False, val_from="val", lr_late=False):
    """The loop with some of the planted bugs (or another mistake) in it, for the mistakes; with none, the reference
    (``val_from``: the loader the "validation" loss is computed on; ``lr_late``: the lr recorded after the epoch's
    scheduler step)."""
    def fit(lib, model, optimizer, scheduler, loaders, config):
        stopper = EarlyStopping(patience=config["patience"])
        history = {"train_loss": [], "val_loss": [], "lr": []}
        model.train()
        for _ in range(config["epochs"]):
            if not lr_late:
                history["lr"].append(optimizer.param_groups[0]["lr"])
            if mode:
                model.train()
            total, count = 0.0, 0
            for x, y in loaders["train"]:
                loss = lib.nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                lib.nn.utils.clip_grad_norm_(model.parameters(), config["max_norm"])
                optimizer.step()
                if per_batch:
                    scheduler.step()
                total, count = total + loss.item() * len(y), count + len(y)
            history["train_loss"].append(total / count)
            val_loss, val_acc = evaluate(lib, model, loaders[val_from])
            history["val_loss"].append(val_loss)
            if not per_batch:
                scheduler.step()
            if lr_late:
                history["lr"].append(optimizer.param_groups[0]["lr"])
            watched = val_acc if select_on == "val_acc" else val_loss
            if select_on == "test" or log_test:
                test_loss, _ = evaluate(lib, model, loaders["test"])
                watched = test_loss if select_on == "test" else val_loss
            if select_on == "train":
                watched = history["train_loss"][-1]
            if stopper.step(watched, model):
                break
        if restore:
            stopper.restore(model)
        history["test_loss"], history["test_acc"] = evaluate(lib, model, loaders["test"])
        return history
    return fit


# The reference, every switch off: each epoch trains (train mode), validates, steps the per-epoch scheduler once and
# asks early stopping, which watches the VALIDATION loss; at the end the best weights are restored and the test set
# is evaluated once. It returns the history: lists "train_loss", "val_loss", "lr" (the lr each epoch trained with),
# and "test_loss", "test_acc" (numbers).
fit_reference = _fit()
# the colleague's loop, with its three planted bugs (the notebook shows it written out)
fit_buggy = _fit(mode=False, per_batch=True, select_on="test")


driven(
    "09.fit", fit_reference, fit_cases, drive_fit,
    compare=_fit_compare, match=Within(1e-5, 1e-7),
    unread="your run: fit must leave the model's layers as they are and return the history dict",
    vary=(), points=3, forbid=(Trainer, train_fit),
    mistakes=[  # the planted bugs: the check shows symptoms; a bug is named when its failure comes back
        recognised(_bug_remains("mode"), BUG_HINTS["mode"][0], BUG_HINTS["mode"][1:]),
        recognised(_bug_remains("schedule"), BUG_HINTS["schedule"][0], BUG_HINTS["schedule"][1:]),
        recognised(_only_reads_test(during=False),
                   "the test set is read once, after the loop, on the restored model: one evaluation gives the final "
                   "score, and a second one only costs time (or, placed elsewhere, measures another model)"),
        recognised(_only_reads_test(during=True),
                   "your loop reads the test set during training: even if early stopping watches the validation "
                   "loss, a test score seen during training invites decisions (one more epoch, another lr); the "
                   "test set is read once, after the loop, on the restored model (lesson 07)",
                   "compute the test loss and accuracy once, after the loop, when the stopper has put the best "
                   "weights back"),
        recognised(_bug_remains("test", unread=True),
                   "the final score is the test set's: evaluate the restored model on loaders['test'] once, after "
                   "the loop (the validation set has been watched by early stopping, so its score is biased)"),
        recognised(_bug_remains("test"), BUG_HINTS["test"][0], BUG_HINTS["test"][1:]),
        mistake(_fit(restore=False),
                "the last weights are not the best ones, whether early stopping fired (it stops AFTER `patience` "
                "epochs without improvement) or the run used all its epochs: put the best epoch's weights back "
                "before the final test, in both cases (lesson 07). Weights you keep yourself must be a copy: a "
                "state dict's tensors share their memory with the model's",
                "the EarlyStopping object kept a copy of the best weights: let it put them back after the loop (a "
                "copy of your own must clone every tensor of the state dict, since the later steps change the "
                "model's tensors in place)"),
        mistake(_fit(select_on="train"),
                "early stopping never fired and the model ends with the last epoch's weights, as if the watched "
                "number improved at every epoch. Either it watches a number the weights were fitted to (the "
                "training loss keeps falling while the model overfits: early stopping must watch the validation "
                "loss), or its memory (the best loss so far, the epochs without improvement) is lost between "
                "epochs: one EarlyStopping object serves the whole run",
                "make the EarlyStopping once, before the epoch loop, and give its step the validation loss"),
        mistake(_fit(select_on="val_acc"),
                "early stopping counted an improving validation score as getting worse: it was given the validation "
                "accuracy, where the colleague's stopper (default mode 'min', the lowest number is the best) is made "
                "for a loss, or a loss with mode='max'. The planted bug's fix gives it the validation LOSS",
                "give stopper.step the validation loss (the first number evaluate returns), in the default mode 'min'"),
        mistake(_fit(lr_late=True),
                "history['lr'] holds, for each epoch, the lr that epoch TRAINED with: yours records it after the "
                "epoch's scheduler step, which is already the next epoch's lr",
                "record the lr at the start of the epoch, before its batches, as fit_buggy does"),
        mistake(_fit(val_from="train"),
                "the validation loss was computed on the training loader: the weights were fitted to those examples, "
                "so their loss keeps falling while the model overfits, and early stopping (which watches it) cannot "
                "see the overfitting. history['val_loss'] and early stopping need data the model never trained on",
                "evaluate on loaders['val'] for the validation loss"),
    ],
)
