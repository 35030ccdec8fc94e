"""Lesson 05, learning-rate schedules: the checks of its three exercises, each a ``driven`` one (kinds.py).

- ``05.warmup_cosine``: the lr at a given step of a linear warmup followed by a cosine decay, the schedule that
  ``SequentialLR([LinearLR(start_factor, total_iters=warmup_steps), CosineAnnealingLR(T_max=total_steps -
  warmup_steps, eta_min=min_lr)], milestones=[warmup_steps])`` gives. The check calls the learner's function at
  EVERY step from 0 to ``total_steps`` of each case (``each_step``) and compares the whole trace, so a message can
  say at which step the schedule goes wrong; each value must be a plain Python number.
- ``05.PlateauScheduler``: a class in the style of ``ReduceLROnPlateau`` (modes "min" and "max", a relative
  threshold, ``patience``, ``factor``, ``min_lr``), with ``step(metric)`` and ``get_last_lr()``. The check builds
  it on an optimizer (``ValidationRun``: an SGD that also carries the validation losses of the run), feeds it
  one metric per epoch and judges the lr of every param group after each epoch (``after_each_epoch``). Hidden
  cases have losses above 1e9 and below 0, and negative metrics in mode "max" (a finite stand-in for the
  infinities, or a threshold scaled by abs(best), fails them), an lr changed by hand between epochs (which
  ``get_last_lr()`` must report), and an lr held at min_lr, then raised by hand (every cut restarts the count).
- ``05.lr_range_test``: the learning-rate range test, returning the lrs and the losses of each step. The check
  runs it on hidden models, data and optimizers (``range_test_run``): the lrs and losses must be the library's
  ``lr_find``'s (unsmoothed), and the model (its state and its mode) and the optimizer must be left as they were
  found. The optimizers that have trained arrive with their last gradients in ``.grad``.

The references are the library's own code (so that ``use`` can stand in): a closed form that
``tests/test_lesson05.py`` shows equal to PyTorch's ``SequentialLR``, the library's ``ReduceLROnPlateau`` (equal
to PyTorch's, also shown there) and ``lr_find``. Each drive returns a ``Run``: the numbers to judge, or the problem
that the numbers cannot show (a Tensor where a number is due, a model left trained ...). The mistakes are wrong
versions driven the same way; hints come in tiers, never the finished line of code.

``warmup_cosine`` and ``PlateauScheduler`` name their building blocks (``allow``, issue 32: Python's arithmetic and
math), so that any of the library's (or PyTorch's) schedulers is refused, not only the ones ``forbid`` names;
``lr_range_test`` is a training loop meant to use the library's model, loss and optimizer: no allowlist. Their
numbers are Python floats, so no float64 case applies: lrs are judged to 1e-9 (``LRS``), where a float32 rounding
fails, the range test's losses to 1e-4 (``LOSSES``); mistakes are matched within the loosest of an exercise's.
"""
import copy
import inspect
import itertools
import math
import warnings

import numpy as np

from ... import nn, optim, tensor
from ...optim import lr_scheduler
from ...optim.lr_scheduler import ReduceLROnPlateau
from ...random import Generator
from ...train.lr_finder import lr_find
from ...utils.data import DataLoader, TensorDataset
from ..checks import Case, ErrorHint, as_numpy, compare_arrays, get_exercise
from ..pipeline import quietly
from .kinds import Run, Within, an, driven, first_difference, global_rng_kept, is_tensor, mistake, recognised, type_name

LRS, PLATEAU_LRS, LOSSES = Within(1e-9, 1e-12), Within(1e-9, 1e-15), Within(1e-4, 1e-12)


def _number_problem(value, where, lr=False):
    """None when ``value`` is a plain real number (int, float, numpy float); otherwise what is wrong with it. An
    ``lr`` must also not be a numpy float of less than double precision: the checks compare lrs to 1e-9."""
    if value is None:
        return f"{where} is None: did you forget the `return`?"
    if lr and isinstance(value, np.floating) and value.dtype.itemsize < 8:
        return (f"{where} is a numpy {value.dtype}, {float(value)!r} as a Python float: you returned a "
                f"{value.dtype}, which keeps only about {np.finfo(value.dtype).precision} digits. A learning rate "
                "is a plain Python number: compute it with Python's arithmetic and the math module (numpy "
                "functions of float32 values give float32)")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        why = (": a learning rate is a plain Python number (the optimizer stores it in param_groups[i]['lr']); "
               "compute it with Python's arithmetic and the math module, or take float(...) of the result")
        return f"{where} is a {'Tensor' if is_tensor(value) else type_name(value)}{why}"
    return None


def _pair(expected, got):
    """The two numbers as text, with enough digits to tell them apart (a float32-rounded lr looks right at 6)."""
    for digits in (6, 9, 12, 17):
        a, b = f"{float(expected):.{digits}g}", f"{float(got):.{digits}g}"
        if a != b:
            return a, b
    return a, b


def _runs_like(exercise_id, *groups):
    """A mistake matcher: the answer is that of every wrong version in one of ``groups`` (wrong versions that agree
    on this case, e.g. an argument ignored and a term left out), and theirs differs from the expected answer."""
    def match(got, expected, case):
        exercise = get_exercise(exercise_id)

        def like(wrong):
            other = as_numpy(quietly(wrong, *copy.deepcopy((case.args, case.kwargs)), exercise))
            return (compare_arrays(got, other, exercise.rtol, exercise.atol) is None
                    and compare_arrays(other, expected, exercise.rtol, exercise.atol) is not None)
        return any(all(like(wrong) for wrong in group) for group in groups)
    return match


# -------------------------------------------------------------------- 05.warmup_cosine
def warmup_cosine_reference(step, base_lr, warmup_steps, total_steps, start_factor=0.01, min_lr=0.0):
    """The lr after ``step`` scheduler steps (0 <= step <= total_steps) of a linear warmup, then a cosine decay:

    step < W:   base_lr * (start_factor + (1 - start_factor) * step / W)            W = warmup_steps
    step >= W:  min_lr + (base_lr - min_lr) * (1 + cos(pi * (step - W) / (T - W))) / 2,    T = total_steps

    It starts at start_factor * base_lr, reaches base_lr at step W and min_lr at step T: PyTorch's SequentialLR of
    LinearLR(start_factor, total_iters=W) and CosineAnnealingLR(T_max=T - W, eta_min=min_lr), milestone W.
    """
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2


def each_step(fn, args, kwargs):
    """``fn(step, base_lr, warmup_steps, total_steps, ...)`` at every step of the case; the first argument of a
    case is the range of steps. Returns a Run of the lrs, or the problem with the first value that is no number."""
    kwargs = dict(kwargs)  # every argument by keyword when the check tries a default in place of a given value
    steps, rest = (args[0], args[1:]) if args else (kwargs.pop("step"), ())
    values = []
    for t in steps:
        value = fn(int(t), *rest, **kwargs)
        if problem := _number_problem(value, f"the value your function returned for step {int(t)}", lr=True):
            return Run.failed(problem)
        values.append(float(value))
    return Run.of(values)


def _compare_traces(got, expected, case):
    """None when the schedules agree at every step; otherwise the first step where they differ, and a few more,
    with the case's schedule in words (start_factor and min_lr may come by position, or be the defaults)."""
    bad = np.flatnonzero(~np.isclose(got, expected, rtol=LRS.rtol, atol=LRS.atol))
    if not bad.size:
        return None
    names, defaults = ("base_lr", "warmup_steps", "total_steps"), {"start_factor": 0.01, "min_lr": 0.0}
    given = dict(zip(names + tuple(defaults), case.args[1:]), **case.kwargs)
    schedule = ", ".join([f"{name}={given[name]:g}" for name in names if name in given]
                         + [f"{name}={given.get(name, default):g}" + ("" if name in given else " (the default)")
                            for name, default in defaults.items()])
    t = int(bad[0])
    steps = ", ".join("step {}: {} vs yours {}".format(int(s), *_pair(expected[s], got[s])) for s in bad[1:4])
    right, yours = _pair(expected[t], got[t])
    return (f"with {schedule}, the lr at step {t} should be {right}, yours is {yours} "
            f"({bad.size} of {expected.size} steps differ" + (f"; also {steps}" if steps else "") + ")")


def _warmup_cases(rng):
    def r(low, high):
        return float(np.round(rng.uniform(low, high), 4))
    return [
        Case((range(26), 0.1, 5, 25), visible=True),
        Case((range(101), 1.0, 10, 100), "with start_factor=0.1 and min_lr=0.01",
             {"start_factor": 0.1, "min_lr": 0.01}),
        Case((range(31), 0.5, 0, 30), "warmup_steps=0: no warmup, the cosine starts at step 0"),
        Case((range(21), 0.2, 1, 20, 0.5, 1e-3), "one warmup step; start_factor and min_lr given by position"),
        Case((range(501), 3e-4, 50, 500), "a long run", {"start_factor": 0.25, "min_lr": 3e-5}),
        Case((range(51), r(0.5, 2.0), 40, 50), "a warmup that takes most of the run", {"start_factor": 0.5}),
        Case((range(61), (base_lr := r(0.01, 0.1)), 12, 60), "min_lr close to base_lr (4 % below it)",
             {"min_lr": round(0.96 * base_lr, 6)}),
    ]


def _cosine(base_lr, min_lr, progress, turns=0.5):
    return min_lr + (base_lr - min_lr) * (1 + math.cos(2 * math.pi * turns * progress)) / 2


def _schedule_with(warmup=None, decay=None):
    """The reference with a wrong ``warmup`` or a wrong ``decay``, each a function ``(t, base_lr, W, T, start_factor,
    min_lr)`` of the steps before W or from W on."""
    def schedule(step, base_lr, warmup_steps, total_steps, start_factor=0.01, min_lr=0.0):
        part = (warmup if step < warmup_steps else decay) or warmup_cosine_reference
        return part(step, base_lr, warmup_steps, total_steps, start_factor, min_lr)
    return schedule


def _quarter_cosine(t, lr, w, n, s, low):
    """A decay along a quarter period, cos(pi / 2 * progress): from base_lr to min_lr too, on another curve."""
    return low + (lr - low) * math.cos(math.pi / 2 * (t - w) / (n - w))


def _start_not_scaled(got, expected, case):
    """The warmup is a line from start_factor (not start_factor * base_lr) up to base_lr."""
    if not case.args[2] or np.isclose(case.args[1], 1.0):
        return False
    wrong = each_step(_schedule_with(warmup=lambda t, lr, w, n, s, low: s + (lr - s) * t / w), case.args, case.kwargs)
    return LRS.holds(got, np.asarray(wrong))


driven(
    "05.warmup_cosine", warmup_cosine_reference, _warmup_cases, each_step, unread="your run",
    compare=_compare_traces, match=LRS, points=2,
    error_hints=[ErrorHint(r"ZeroDivisionError",
                           "with warmup_steps = 0 there is no warmup: every step belongs to the cosine, and "
                           "nothing may divide by warmup_steps outside the warmup",
                           "divide by warmup_steps only in the branch for the steps before warmup_steps")],
    mistakes=[
        mistake(_schedule_with(decay=lambda t, lr, w, n, s, low: lr),
                "your schedule warms up and then stays at base_lr: a 'warmup + decay' needs the decay too. "
                "(A common tutorial builds exactly this under that name.) After the warmup the lr follows half "
                "a cosine from base_lr down to min_lr",
                "after step warmup_steps, compute how far the decay has come (0 at warmup_steps, 1 at "
                "total_steps) and put it into the cosine formula"),
        mistake(_schedule_with(decay=lambda t, lr, w, n, s, low: _cosine(lr, low, (t - w) / n)),
                "the cosine part lasts total_steps - warmup_steps steps, not total_steps: yours has not reached "
                "min_lr at the last step",
                "divide the steps since the warmup by the length of the decay phase"),
        # the decay's steps counted from 0, over total_steps or over the decay's length
        *(mistake(_schedule_with(decay=lambda t, lr, w, n, s, low, _length=length: _cosine(lr, low, t / _length(n, w))),
                  "the cosine's clock starts when the warmup ends: at step warmup_steps the lr must be exactly "
                  "base_lr, the top of the cosine. Yours counts the steps from 0, so the decay has already begun",
                  "count the steps of the decay from warmup_steps, not from 0")
          for length in (lambda n, w: n, lambda n, w: n - w)),
        mistake(_schedule_with(decay=lambda t, lr, w, n, s, low: _cosine(low, lr, (t - w) / (n - w))),
                "your cosine part rises from min_lr to base_lr: (1 - cos) / 2 goes from 0 to 1. The decay starts at "
                "base_lr, the end of the warmup, and falls to min_lr, so its factor is (1 + cos) / 2, 1 at the start",
                "use 1 + cos(pi * progress), not 1 - cos, in the factor of (base_lr - min_lr)"),
        *(mistake(_schedule_with(decay=lambda t, lr, w, n, s, low, _d=d: _cosine(lr, low, (t - w) / (n - w + _d))),
                  "the decay's progress is 0 at step warmup_steps and exactly 1 at step total_steps, where the lr "
                  "is min_lr: it divides the steps since the warmup by the decay's length in steps. Yours divides "
                  "by one step more or one step less",
                  "the decay lasts total_steps - warmup_steps steps, with no 1 added or taken away")
          for d in (-1, 1)),
        mistake(_schedule_with(decay=lambda t, lr, w, n, s, low: _cosine(lr, low, (t - w) / (n - w), turns=1.0)),
                "your cosine makes a whole cycle and comes back up to base_lr at the end. A cosine decay (and "
                "PyTorch's T_max) covers HALF a period: cos goes from 1 to -1, so the lr goes from base_lr down "
                "to min_lr once",
                "the angle inside the cosine runs from 0 to pi over the decay, not to 2 pi"),
        mistake(_schedule_with(
                    decay=lambda t, lr, w, n, s, low: low + lr * (1 + math.cos(math.pi * ((t - w) / (n - w)))) / 2),
                "the cosine goes from base_lr down to min_lr, so its height is base_lr - min_lr: yours starts "
                "the decay above base_lr",
                "scale the (1 + cos) / 2 part by the difference of the two lrs, then add min_lr"),
        mistake(_schedule_with(decay=_quarter_cosine),
                "your decay is a quarter of a cosine, cos(pi / 2 * progress): it also falls from base_lr to min_lr, "
                "but slowly at first and steeply at the end. The cosine schedule takes half a period, lifted and "
                "halved, (1 + cos(pi * progress)) / 2: it goes from 1 to 0, flat at both ends",
                "the factor of (base_lr - min_lr) is (1 + cos(pi * progress)) / 2, progress from 0 to 1"),
        mistake(_schedule_with(decay=lambda t, lr, w, n, s, low: max(low, _cosine(lr, 0.0, (t - w) / (n - w)))),
                "min_lr is where the cosine ENDS, not a floor under a cosine that falls to 0: yours reaches min_lr "
                "early and stays there, so the decay is steeper than the schedule's",
                "the cosine part is min_lr plus (base_lr - min_lr) times the (1 + cos) / 2 factor"),
        mistake(_schedule_with(decay=lambda t, lr, w, n, s, low: lr * _cosine(1.0, low, (t - w) / (n - w))),
                "min_lr is an lr (PyTorch's eta_min), not a factor of base_lr: the decay ends at min_lr itself. "
                "Yours ends at min_lr * base_lr",
                "the cosine part is min_lr plus (base_lr - min_lr) times the (1 + cos) / 2 factor"),
        mistake(_schedule_with(warmup=lambda t, lr, w, n, s, low: lr * (s + (1 - s) * (t + 1) / w)),
                "the warmup reaches base_lr one step early: step 0 has start_factor * base_lr, and the lr "
                "climbs in a straight line to reach base_lr at step warmup_steps (the first step of the cosine)",
                "at step 0 the fraction of the warmup done is 0, not 1 / warmup_steps"),
        mistake(_schedule_with(warmup=lambda t, lr, w, n, s, low: lr * (t / w)),
                "the warmup starts at start_factor * base_lr, not at 0: an lr of 0 would make the first step "
                "useless (PyTorch's LinearLR even refuses start_factor = 0)",
                "the line goes from start_factor * base_lr at step 0 to base_lr at step warmup_steps"),
        mistake(_schedule_with(warmup=lambda t, lr, w, n, s, low: lr * (s + t / w)),
                "the warmup's line climbs from start_factor * base_lr to base_lr, a rise of (1 - start_factor) "
                "* base_lr over warmup_steps steps. Yours adds the start_factor on top of a full rise, so the "
                "line ends above base_lr and drops to it at step warmup_steps",
                "the fraction of base_lr at step t is start_factor plus the part (1 - start_factor) that the "
                "warmup adds, times t / warmup_steps"),
        mistake(_schedule_with(warmup=lambda t, lr, w, n, s, low: lr * (s + (1 - s) * t / (w - 1))),
                "your warmup reaches base_lr at step warmup_steps - 1, one step early: the line climbs for "
                "warmup_steps steps, from start_factor * base_lr at step 0 to base_lr at step warmup_steps, "
                "where the cosine starts",
                "divide the step by warmup_steps, not by warmup_steps - 1"),
        mistake(_schedule_with(warmup=lambda t, lr, w, n, s, low: lr * s + (1 - s) * t / w),
                "only the start of your warmup is scaled by base_lr: the whole line, start_factor and the part "
                "that climbs, is a fraction of base_lr. Yours adds (1 - start_factor) * step / warmup_steps as it "
                "is, so the line does not end at base_lr",
                "multiply base_lr by the whole fraction start_factor + (1 - start_factor) * step / warmup_steps"),
        mistake(_schedule_with(warmup=lambda t, lr, w, n, s, low: max(low, lr * (s + (1 - s) * t / w))),
                "min_lr is the floor of the cosine only: the warmup starts at start_factor * base_lr even where "
                "that is below min_lr. Yours lifts the first steps of the warmup to min_lr",
                "leave min_lr out of the warmup branch (no max with it there)"),
        mistake(_schedule_with(warmup=lambda t, lr, w, n, s, low: low + (lr - low) * (s + (1 - s) * t / w)),
                "min_lr belongs to the cosine only (its floor): the warmup is base_lr times a fraction that "
                "climbs from start_factor to 1, with no min_lr in it. Yours starts the warmup from min_lr",
                "leave min_lr out of the warmup branch"),
        recognised(_start_not_scaled,
                   "start_factor is a FACTOR of base_lr: the warmup starts at start_factor * base_lr. Yours "
                   "starts at start_factor itself, as if it were an lr",
                   "multiply start_factor by base_lr (the whole warmup line is base_lr times a fraction)"),
        mistake(_schedule_with(warmup=lambda t, lr, w, n, s, low: lr * (s + (1 - s) * (t // w))),
                "your warmup stays flat at start_factor * base_lr: t // warmup_steps rounds down to 0 for every "
                "step of the warmup. The fraction of the warmup done is the true quotient t / warmup_steps",
                "use / (true division), not // (floor division)"),
    ],
    forbid=(lr_scheduler.SequentialLR, lr_scheduler.LinearLR, lr_scheduler.CosineAnnealingLR,
            "torch.optim.lr_scheduler.SequentialLR", "torch.optim.lr_scheduler.LinearLR",
            "torch.optim.lr_scheduler.CosineAnnealingLR"),  # nor handed to PyTorch's
    # the text's building blocks (issue 32): Python's arithmetic and the math module (never catalogued), and a
    # tensor's cos; any other scheduler (OneCycleLR, CosineAnnealingWarmRestarts, LambdaLR ...) or an optimizer
    # driven to read its lr is refused
    allow=("arithmetic", "trig"),
)


# -------------------------------------------------------------------- 05.PlateauScheduler
class ValidationRun(optim.SGD):
    """An SGD (one parameter per group, with the lrs given) that also carries ``val_losses``, the metric of each
    epoch of the run that the check feeds to the scheduler. The learner's class sees an ordinary optimizer."""

    def __init__(self, lrs, val_losses, by_hand=None):
        super().__init__([{"params": [nn.Parameter(tensor(np.zeros(1, dtype=np.float32)))], "lr": lr}
                          for lr in lrs])
        self.val_losses = list(val_losses)
        self.by_hand = dict(by_hand or {})  # epoch: a factor every group's lr is multiplied by, by hand, before it

    def __repr__(self):
        return f"SGD with lrs {[g['lr'] for g in self.param_groups]}"


def after_each_epoch(cls, args, kwargs):
    """Build ``cls(optimizer, **kwargs)``, call ``step(metric)`` once per epoch after ``optimizer.step()``, and
    record every group's lr after each epoch (and at the start): a Run of shape (epochs + 1, groups). The lrs
    must be plain numbers and ``get_last_lr()`` must return them."""
    kwargs = dict(kwargs)
    optimizer = args[0] if args else kwargs.pop("optimizer")
    scheduler = cls(optimizer, *args[1:], **kwargs)
    trace, last_lr_problem = [], None
    for epoch in range(len(optimizer.val_losses) + 1):
        if epoch:
            for group in optimizer.param_groups if epoch in optimizer.by_hand else ():
                group["lr"] = group["lr"] * optimizer.by_hand[epoch]
            optimizer.step()
            scheduler.step(optimizer.val_losses[epoch - 1])
        lrs = [group["lr"] for group in optimizer.param_groups]
        for i, lr in enumerate(lrs):
            if problem := _number_problem(lr, f"after epoch {epoch}, param_groups[{i}]['lr']", lr=True):
                return Run.failed(problem)
        trace.append([float(lr) for lr in lrs])
        if epoch and last_lr_problem is None:
            last = scheduler.get_last_lr()
            if not isinstance(last, (list, tuple)) or len(last) != len(lrs) or any(
                    _number_problem(v, "") or not math.isclose(v, lr, rel_tol=1e-12) for v, lr in zip(last, lrs)):
                last_lr_problem = (f"after epoch {epoch}, get_last_lr() returned {last!r}, but the optimizer's lrs are "
                                   f"{lrs}: get_last_lr() must return a list with the lr now in each param group")
    return Run.of(trace, last_lr_problem)


def _compare_plateau(got, expected, case):
    """None when every group's lr is right after every epoch; otherwise the first wrong one, with the case's
    settings, the metrics fed and the group's lrs epoch by epoch."""
    if (at := first_difference(got, expected, PLATEAU_LRS)) is None:
        return None
    epoch, group = at
    settings = ", ".join(f"{k}={v!r}" for k, v in case.kwargs.items())
    metrics = ", ".join(f"{float(m):.4g}" for m in case.args[0].val_losses)

    def lrs(a):
        return "[" + ", ".join(f"{v:.4g}" for v in a[:, group]) + "]"
    return (f"after epoch {epoch}, group {group}'s lr should be {expected[epoch, group]:.6g}, yours is "
            f"{got[epoch, group]:.6g}. With {settings}; metrics fed, one per epoch: [{metrics}]\n  the lrs of group "
            f"{group} epoch by epoch (from the start) should be {lrs(expected)}\n  yours are {lrs(got)}")


class _Plateau:
    """A plateau scheduler as a learner would write it, right as it stands; each mistake below replaces one of its
    steps (``_variant``, or a subclass where the step takes statements)."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, min_lr=0.0):
        self.optimizer, self.mode, self.factor = optimizer, mode, factor
        self.patience, self.threshold, self.min_lr = patience, threshold, min_lr
        self.best, self.bad_epochs = self.start(), 0

    def start(self):
        return math.inf if self.mode == "min" else -math.inf

    def read(self, metric):
        return float(metric)

    def improves(self, value):
        if self.mode == "min":
            return value < self.best * (1 - self.threshold)
        return value > self.best * (1 + self.threshold)

    def remember(self, value, improved):
        """The best after this epoch."""
        return value if improved else self.best

    def count(self, improved):
        """The count of bad epochs after this one."""
        return 0 if improved else self.bad_epochs + 1

    def plateaued(self):
        return self.bad_epochs > self.patience

    def new_lr(self, lr):
        return max(lr * self.factor, self.min_lr)

    def groups(self):
        return self.optimizer.param_groups

    def step(self, metric):
        value = self.read(metric)
        improved = bool(self.improves(value))
        self.best, self.bad_epochs = self.remember(value, improved), self.count(improved)
        if self.plateaued():
            self.cut()

    def new_lrs(self):
        return [self.new_lr(group["lr"]) for group in self.groups()]

    def restart(self, changed):
        """The count of bad epochs and the best after a cut (``changed``: whether it changed an lr)."""
        return 0, self.best

    def cut(self):
        new_lrs = self.new_lrs()
        changed = any(lr != group["lr"] for group, lr in zip(self.groups(), new_lrs))
        for group, lr in zip(self.groups(), new_lrs):
            group["lr"] = lr
        self.bad_epochs, self.best = self.restart(changed)

    def get_last_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]


def _variant(**steps):
    """``_Plateau`` with some of its steps (methods) replaced."""
    return type("PlateauVariant", (_Plateau,), steps)


class _CutsFromTheFirstCut(_Plateau):
    def cut(self):  # the lr before the first cut times factor ** cuts: right until something else changes the lr
        self.cuts = getattr(self, "cuts", 0) + 1
        for group in self.groups():
            group.setdefault("plateau_start", group["lr"] / self.factor ** (self.cuts - 1))
            group["lr"] = max(group["plateau_start"] * self.factor ** self.cuts, self.min_lr)
        self.bad_epochs = 0


class _CutsFromSavedLrs(_Plateau):
    def step(self, metric):
        if not hasattr(self, "saved"):
            self.saved = [group["lr"] for group in self.groups()]
        super().step(metric)

    def cut(self):
        self.saved = [self.new_lr(lr) for lr in self.saved]
        for group, lr in zip(self.groups(), self.saved):
            group["lr"] = lr
        self.bad_epochs = 0


class _CountResetOnAnyImprovement(_Plateau):
    def step(self, metric):  # early stopping's habit
        value = float(metric)
        new_best = value < self.best if self.mode == "min" else value > self.best
        self.best, self.bad_epochs = self.remember(value, self.improves(value)), self.count(new_best)
        if self.plateaued():
            self.cut()


class _SkipsNan(_Plateau):
    def step(self, metric):  # a nan epoch left out: neither counted as bad nor compared
        if not math.isnan(float(metric)):
            super().step(metric)


class _ComparesWithPrevious(_Plateau):
    """Each epoch tested against the PREVIOUS epoch's metric (times the threshold's factor), not the best so far."""

    def improves(self, value):
        last, self.last = getattr(self, "last", self.start()), value
        if self.mode == "min":
            return value < last * (1 - self.threshold)
        return value > last * (1 + self.threshold)


class _SkipsTheEpochAfterACut(_Plateau):
    """The epoch after a cut is not counted, good or bad (a cooldown of one epoch); it may still improve best."""

    def cut(self):
        super().cut()
        self.cooling = True

    def count(self, improved):
        cooling, self.cooling = getattr(self, "cooling", False), False
        return 0 if cooling else super().count(improved)


class _SymmetricThreshold(_Plateau):
    """The relative threshold scaled by abs(best): the same as best * (1 -+ threshold) for positive metrics only
    (and nan when best is infinite, so the first epoch never improves: guarded here as a learner would)."""

    def improves(self, value):
        if not math.isfinite(self.best):
            return value < self.best if self.mode == "min" else value > self.best
        if self.mode == "min":
            return value < self.best - abs(self.best) * self.threshold
        return value > self.best + abs(self.best) * self.threshold


PLATEAU_EXAMPLE = [1.0, 0.8, 0.7, 0.7, 0.71, 0.72, 0.6, 0.61, 0.62, 0.63, 0.64, 0.65]


def _plateau_cases(rng):
    def noisy(n, start, end, noise):
        return [float(v) for v in np.round(np.linspace(start, end, n) + noise * rng.standard_normal(n), 4)]

    def run(lrs, metrics, label, by_hand=None, **settings):
        return Case((ValidationRun(lrs, metrics, by_hand),), label, settings)
    creep = [round(1.0 * 0.94 ** k, 6) for k in range(12)]  # each epoch 6 % below the last, 11.6 % in two
    creep += [creep[-1]] * 4  # then a plateau, where the lr is cut
    rises = [0.5, 0.6, 0.62, 0.61, 0.64, 0.66, 0.65, 0.7, 0.69, 0.68, 0.71, 0.7, 0.7, 0.69]  # an accuracy
    return [
        Case((ValidationRun([0.1], PLATEAU_EXAMPLE),), kwargs={"factor": 0.5, "patience": 2}, visible=True),
        run([0.1, 0.01], [1.0, 0.9, 0.95, 0.8, 0.85, 0.86, 0.7, 0.75], "patience=0 and two param groups", patience=0),
        run([0.2], rises, "mode='max' (an accuracy), threshold=0.05", mode="max", factor=0.2, patience=1,
            threshold=0.05),
        run([0.1], [1.0] + [1.0] * 14, "a long plateau: the lr goes down to min_lr", factor=0.5, patience=1,
            min_lr=0.004),
        run([0.05], creep, "small improvements that add up, then a plateau: threshold=0.1", patience=2, threshold=0.1,
            factor=0.3),
        run([1.0], [10.0, 9.9, 9.8, 9.7, 9.6, 9.5, 9.4, 9.3, 9.2], "a relative threshold of 5 % on a loss near 10",
            patience=2, threshold=0.05, factor=0.5),
        run([0.3], [tensor(np.float32(v)) for v in noisy(20, 1.0, 0.8, 0.05)],
            "the metric is a 0-d tensor (a validation loss as computed)", patience=3, factor=0.3),
        run([0.1, 0.05], noisy(40, 2.0, 1.0, 0.15), "40 noisy epochs, two param groups", patience=4, factor=0.5,
            min_lr=0.01, threshold=0.01),
        run([0.2, 0.02], [math.nan, math.inf, 1.0, 0.9, math.nan, 0.95, 0.92, math.inf, 0.85, 0.86, 0.87, 0.88, 0.8],
            "nan and inf in the first epochs and later (a diverged validation run)", patience=1, factor=0.5),
        run([0.1], [tensor(np.float32(v)) for v in (1.0, 0.9999, 0.9999, 0.9, 0.9, 0.8)],
            "float32 tensor metrics at the edge of the threshold: compare them as Python floats", patience=0,
            factor=0.5, threshold=1e-4),
        run([0.3], [math.inf, math.inf, 0.4, 0.5, math.nan, 0.6, 0.45, 0.44, 0.43, 0.2, math.nan],
            "mode='max': inf first, nan in the middle and last", mode="max", patience=1, factor=0.3, threshold=0.01),
        run([0.1, 0.02], PLATEAU_EXAMPLE, "every lr halved by hand before epoch 3 (get_last_lr() reports the lrs now "
            "in the groups)", {3: 0.5}, factor=0.5, patience=2),
        run([0.1, 0.03], [1.0] * 10, "a long plateau, every lr halved by hand between two cuts (each cut multiplies "
            "the lr the group has then)", {5: 0.5}, factor=0.5, patience=1),
        run([0.1], [3.0e10, 2.6e10, 2.5e10, 2.5e10, 2.45e10, 2.46e10, 2.1e10, 2.1e10, 2.12e10],
            "losses in the tens of billions (a loss summed over a large data set)", patience=1, factor=0.5,
            threshold=0.01),
        run([0.1], [0.5, 0.2, -0.1, -0.3, -0.32, -0.31, -0.5, -0.52, -0.49, -0.48, -0.6, -0.5, -0.45],
            "a loss that goes below zero (a Gaussian negative log-likelihood)", patience=1, factor=0.5, threshold=0.1),
        run([0.2], [-3.0e9, -2.5e9, -2.45e9, -2.44e9, -2.2e9, -2.3e9, -2.4e9, -2.0e9, -2.2e9, -2.25e9, -1.9e9],
            "mode='max' on a log-likelihood summed over the data (negative, in the billions)", mode="max", patience=1,
            factor=0.5, threshold=0.05),
        run([0.1], [1.0] * 11, "the lr held at min_lr by a long plateau, then raised by hand (x 10) before epoch 8 "
            "(every cut restarts the count, also one that changes nothing)", {8: 10.0}, factor=0.5, patience=1,
            min_lr=0.03),
    ]


driven(
    "05.PlateauScheduler", ReduceLROnPlateau, _plateau_cases, after_each_epoch, unread="your run",
    compare=_compare_plateau, match=PLATEAU_LRS, vary=("mode", "factor", "patience", "threshold", "min_lr"), points=3,
    check_inputs=False,  # changing the optimizer's lrs is the point
    error_hints=[ErrorHint(r"has no attribute 'get_last_lr'",
                           "the check reads the lrs back with get_last_lr(), as you would to log them: your class "
                           "needs that method",
                           "get_last_lr() returns a list with the lr of each param group")],
    mistakes=[
        mistake(_variant(plateaued=lambda self: self.bad_epochs >= self.patience),
                "you cut the lr after `patience` bad epochs; ReduceLROnPlateau tolerates `patience` bad epochs "
                "and cuts on the next one: patience + 1 bad epochs in a row (patience=2: the third)",
                "compare the count of bad epochs with patience using 'more than', not 'at least'"),
        mistake(_variant(read=lambda self, metric: metric),  # the metric used as it comes, a float32 0-d tensor
                "the metrics of this case are float32 tensors (a loss as training returns it), and your scheduler "
                "compared them as tensors (or as float32 numbers): best * (1 - threshold) is then rounded to float32, "
                "and at the edge of the threshold (0.9999 against 1.0 with threshold 1e-4) the comparison comes out "
                "the other way. PyTorch's scheduler takes float(metric) first",
                "turn the metric into a Python float at the start of step()"),
        mistake(_variant(restart=lambda self, changed: (self.bad_epochs, self.best)),
                "after a cut, the count of bad epochs starts again from 0: the lower lr gets `patience` epochs "
                "to show what it can do. Yours keeps counting, so it cuts again on every epoch that follows",
                "set the bad-epoch counter back to 0 right after you reduce the lr"),
        mistake(_variant(count=lambda self, improved: self.bad_epochs + (0 if improved else 1)),
                "patience counts bad epochs IN A ROW: an improvement sets the count back to 0. Yours adds up "
                "every bad epoch since the start",
                "when the metric improves, reset the counter as well as the best value"),
        # (two slips that give the same lrs wherever one of them shows first: a best that follows every new low,
        # and a test against the previous epoch's metric; the row names both)
        recognised(_runs_like("05.PlateauScheduler", [
                       _variant(remember=lambda self, value, improved: (min(self.best, value) if self.mode == "min"
                                                                        else max(self.best, value))),
                       _ComparesWithPrevious]),
                   "`best` changes only on an improvement that beats the threshold, and every epoch is measured "
                   "against it, the best so far. Two slips give your lrs here: a best that moves to every new low "
                   "(every new high, in mode 'max'), or a test against the PREVIOUS epoch's metric instead of the "
                   "best. Either way small steps (each below the threshold, but adding up to more) never count as "
                   "improvements",
                   "compare each metric with self.best (not with the last epoch's metric), and update best in the "
                   "same branch that resets the counter, nowhere else"),
        mistake(_variant(improves=lambda self, value: (value < self.best - self.threshold if self.mode == "min"
                                                       else value > self.best + self.threshold)),
                "the threshold is relative (threshold_mode='rel', the default): an improvement must beat "
                "best * (1 - threshold) in mode 'min', best * (1 + threshold) in mode 'max'; you subtracted or "
                "added the threshold itself",
                "multiply best by (1 - threshold), or (1 + threshold) in mode 'max', instead of subtracting or "
                "adding threshold"),
        # (the only hint for a threshold left out of the count: each case where that shows first also passes a
        # threshold of its own, and there a count reset on any new best, a missing threshold and the default one
        # give the same lrs)
        recognised(_runs_like("05.PlateauScheduler", [_CountResetOnAnyImprovement], [
                       _variant(improves=lambda self, value: (value < self.best * (1 - 1e-4) if self.mode == "min"
                                                              else value > self.best * (1 + 1e-4))),  # the default
                       _variant(improves=lambda self, value: (value < self.best if self.mode == "min"
                                                              else value > self.best))]),  # no threshold
                   "an improvement smaller than the threshold must not reset the count of bad epochs. An epoch "
                   "improves only when its metric beats best * (1 - threshold) in mode 'min' (best * (1 + "
                   "threshold) in mode 'max'), with the `threshold` this case passes; then best moves AND the "
                   "count restarts. Every other epoch is a bad one, even one a little better than best. Yours "
                   "restarted the count after smaller improvements; three ways to do that: a count reset on "
                   "any new best (or any epoch better than the last) while best moves only past the threshold; "
                   "a test without any threshold (then any tiny improvement resets your count); the default "
                   "threshold, 1e-4, in place of the argument `threshold` itself",
                   "decide once per epoch whether it improves, with the constructor's threshold "
                   "(self.threshold), and let that one answer both move best and reset the counter"),
        mistake(_SymmetricThreshold,
                "the relative threshold multiplies best itself: best * (1 - threshold) in mode 'min', best * (1 + "
                "threshold) in mode 'max', as in PyTorch, also when best is negative (then best * (1 - threshold) lies "
                "ABOVE best). Yours scales the threshold by abs(best), which differs exactly for negative metrics",
                "drop the abs(): the bound is best times a factor"),
        mistake(_variant(improves=lambda self, value: (value < self.best * (1 - self.threshold) if self.mode == "min"
                                                       else value > self.best * (1 - self.threshold))),
                "in mode 'max' a better value is a larger one, so it must rise above best * (1 + threshold); "
                "yours accepts values slightly below the best as improvements",
                "mirror the 'min' test: (1 - threshold) becomes (1 + threshold)"),
        mistake(_variant(new_lr=lambda self, lr: lr * self.factor if lr * self.factor >= self.min_lr else lr),
                "when lr * factor would fall below min_lr, the new lr is min_lr itself, not the old lr: the lr "
                "goes down to its floor and stays there",
                "take the larger of lr * factor and min_lr"),
        mistake(_variant(groups=lambda self: self.optimizer.param_groups[:1]),
                "every param group's lr is cut, each by the same factor (groups may start with different lrs): "
                "yours changes only the first group",
                "loop over all of optimizer.param_groups"),
        mistake(_variant(start=lambda self: 0.0),
                "none of your epochs ever counted as an improvement. A test that subtracts from an infinite "
                "best fails for every metric: best starts at +infinity (mode 'min'), and best - best * threshold "
                "or best - threshold * abs(best) is inf - inf = nan, which no comparison is true for, while "
                "(best - m) > threshold * best compares inf with inf, which is never greater; so the best never "
                "moves. (A best changed to 0, or to a finite stand-in such as 1e9, fails too: a metric on the "
                "far side of it can never beat it.)",
                "compute the bound as best * (1 - threshold): it stays +infinity when best is +infinity, so the "
                "first finite epoch beats it"),
        recognised(lambda got, expected, case: (isinstance(got, np.ndarray) and got.shape == expected.shape
                                                and got.ndim == 2 and np.all(got == got[0])
                                                and not np.all(expected == expected[0])),  # the lrs never move
                   "the optimizer's lrs never change: the optimizer reads only param_groups[i]['lr'], so a cut "
                   "must be written there (a new lr kept anywhere else, such as self.lr, does nothing). Write it "
                   "into every param group",
                   "loop over optimizer.param_groups and change the 'lr' entry of each group"),
        mistake(_variant(improves=lambda self, value: value < self.best * (1 - self.threshold)),  # 'min' in both
                "in mode 'max' an improvement is m > best * (1 + threshold); in your run no epoch ever improves. "
                "Either yours uses the 'min' test, which no metric passes against the starting best of -infinity "
                "(a best changed to start at +infinity in mode 'max' does the same), or its 'max' test fails against "
                "that start (m / best is -0.0 there, never above 1 + threshold)",
                "test self.mode: in mode 'max', compare m with > against best * (1 + threshold), with no division"),
        # a metric equal to the bound improves: inf after inf, or 9.5 after 10 with threshold 0.05
        mistake(_variant(improves=lambda self, value: (value <= self.best * (1 - self.threshold) if self.mode == "min"
                                                       else value >= self.best * (1 + self.threshold))),
                "an epoch improves only when its metric is STRICTLY better than the bound: m < best * (1 - "
                "threshold) in mode 'min', m > best * (1 + threshold) in mode 'max'. Yours also counts a metric "
                "equal to that bound as an improvement: a <= or >= in place of < or >, or another bound (best / "
                "(1 + threshold) is not the same number)",
                "compare with < against best * (1 - threshold), or with > against best * (1 + threshold)"),
        # (a best reset at the cut and an epoch after the cut left uncounted give the same lrs on every case)
        recognised(_runs_like("05.PlateauScheduler", [_variant(restart=lambda self, changed: (0, self.start())),
                                                      _SkipsTheEpochAfterACut]),
                   "a cut restarts the count of bad epochs, not the best, and the epoch right after a cut never "
                   "counted as a bad epoch here. Two slips do that: a best reset at the cut (the next epoch then "
                   "improves whatever its metric), or that epoch skipped by the count (a cooldown of one epoch, "
                   "which the exercise's scheduler does not have). After a cut best stays the best metric so far, "
                   "and every epoch must beat it like any other",
                   "after a cut, set only the counter back to 0, leave self.best alone, and count the very next "
                   "epoch as usual"),
        mistake(_variant(restart=lambda self, changed: (0 if changed else self.bad_epochs, self.best)),
                "after every cut the count of bad epochs restarts from 0, even when the cut changed nothing "
                "(the lr already at min_lr), as ReduceLROnPlateau does. Yours kept counting at min_lr, so when "
                "the lr was raised by hand it was cut on the very next bad epoch",
                "set the counter back to 0 after the loop over the groups, whether or not an lr changed"),
        mistake(_variant(start=lambda self: None,
                         improves=lambda self, value: self.best is None or _Plateau.improves(self, value)),
                "the first epoch must beat the starting best (+infinity in mode 'min') like any other epoch: a "
                "first metric of inf or nan (a diverged run) is a bad epoch. Yours takes whatever the first "
                "epoch gives as the best, and a nan best makes every later comparison False",
                "start best at +infinity (mode 'min') or -infinity (mode 'max') and use the same improvement "
                "test from the first epoch on"),
        mistake(_variant(improves=lambda self, value: (not value >= self.best * (1 - self.threshold)
                                                       if self.mode == "min"
                                                       else not value <= self.best * (1 + self.threshold))),
                "an epoch is bad unless it IMPROVES on the best: test for the improvement, and count everything else "
                "as bad. A nan fails every comparison, so a test for 'worse' lets a nan count as an improvement",
                "decide with the improvement test (value below best * (1 - threshold) in mode 'min'), and put "
                "every other epoch in the bad branch"),
        mistake(_SkipsNan,
                "a nan epoch is a bad epoch: it does not improve on the best (every comparison with nan is False), "
                "so it counts towards patience, as in ReduceLROnPlateau. In your run a nan epoch does not count: it "
                "is skipped, or taken for an improvement (a test for 'worse' is False for a nan too)",
                "decide with the improvement test, and count every epoch that fails it, a nan included, as bad"),
        mistake(_CutsFromTheFirstCut,
                "a cut multiplies the lr each group has NOW by factor. In this case the lrs were halved by hand "
                "between two cuts (another scheduler, or a person, may change them), and your second cut did "
                "not start from the halved lr: it recomputed the lr from an earlier value",
                "read group['lr'] at the moment of the cut, and write back that value times factor"),
        mistake(_CutsFromSavedLrs,
                "a cut multiplies the lr each group has NOW by factor. In this case every lr was halved by hand "
                "before the first cut (another scheduler, or a person, may change them), and your cut started "
                "from an lr saved earlier, not from the halved one",
                "read group['lr'] at the moment of the cut, and write back that value times factor"),
        mistake(_variant(new_lrs=lambda self: [self.new_lr(self.groups()[0]["lr"])] * len(self.groups())),
                "one lr for all groups: your cut gave every param group the same new lr, computed from the first "
                "group's. Groups can start with different lrs, and each is cut from its OWN value",
                "inside the loop over the groups, compute each group's new lr from that group's lr"),
    ],
    forbid=(ReduceLROnPlateau, "torch.optim.lr_scheduler.ReduceLROnPlateau"),
    # the text's building blocks (issue 32): Python's arithmetic and comparisons (float(metric), max, min); any other
    # scheduler (a StepLR or MultiplicativeLR to make the cut ...) is refused
    allow=("arithmetic", "max", "min"),
)


# -------------------------------------------------------------------- 05.lr_range_test
def lr_range_test_reference(model, loss_fn, batches, optimizer, start_lr=1e-5, end_lr=10.0, num_steps=100,
                            diverge=4.0):
    """The LR range test with the library's ``lr_find``, unsmoothed: ``(lrs, losses)``, two lists of floats.

    Step i uses lr_i = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1)) and records the loss of its batch,
    computed before the update; the batches start again when they run out. It stops after recording a loss above
    ``diverge`` times the lowest so far, or before recording one that is inf or nan. The model and the optimizer
    are left exactly as they were.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "too few steps to suggest an lr": no suggestion is used here
        result = lr_find(model, loss_fn, batches, optimizer, start_lr=start_lr, end_lr=end_lr, num_steps=num_steps,
                         smooth=1.0, diverge_threshold=diverge)
    return result.lrs, result.raw_losses


def _arguments(args, kwargs):
    """A range test's arguments by name, the defaults filled in."""
    bound = inspect.signature(lr_range_test_reference).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _snapshot(model, optimizer):
    """Copies of the model's state (parameters and buffers, by name), and of the optimizer's lrs and state, to
    see whether a range test put them back."""
    weights = {name: np.array(value.detach().numpy()) for name, value in model.state_dict().items()}
    lrs = [group["lr"] for group in optimizer.param_groups]
    state = [{k: np.array(v.detach().numpy() if is_tensor(v) else v) for k, v in s.items()}
             for s in optimizer.state.values()]
    return weights, lrs, state


def _state_words(before, after):
    """What changed in the optimizer's state, in words: a step count, or the buffers."""
    for s, t in zip(before, after):
        if "step" in s and "step" in t and not np.array_equal(s["step"], t["step"]):
            return (f"its step count is {float(np.asarray(t['step'])):g}, it was {float(np.asarray(s['step'])):g} "
                    "(Adam would go on with the test's moments and a bias correction for the wrong step)")
    if len(after) < len(before):
        return (f"its state holds {len(after)} parameters' entries, it held {len(before)} (the momentum buffers or "
                "Adam's moments of the training so far were lost)")
    held = "" if len(before) == len(after) else f" (for {len(after)} parameters; before the test, for {len(before)})"
    return f"its state (momentum buffers, Adam's moments) holds the test's steps{held}"


def _loss_problem(v, i):
    """None when ``v``, losses[i], is a Python float (or int); otherwise what is wrong with it."""
    if is_tensor(v):
        return (f"losses[{i}] is a Tensor: store loss.item(), a plain number. A loss tensor keeps the whole graph of "
                "its step alive (memory grows with every step), and a plot or a comparison needs numbers")
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return (f"losses[{i}] is {an(type_name(v))}: store loss.item(), a Python float (numpy values, even 0-d arrays "
                "and numpy float32 numbers, are not Python floats)")
    return None


def range_test_run(fn, args, kwargs):
    """Run a range test ``fn(model, loss_fn, batches, optimizer, ...)``: a Run of shape (2, steps), its lrs and its
    losses, or the problem: not a pair of lists of numbers, the model or the optimizer not put back."""
    given = _arguments(args, kwargs)
    model, optimizer = given["model"], given["optimizer"]
    before = _snapshot(model, optimizer)
    modes = [module.training for module in model.modules()]
    losses_seen = []  # what each call of the loss function returned

    def loss_fn(*inputs, **options):
        losses_seen.append(loss := given["loss_fn"](*inputs, **options))
        return loss
    with np.errstate(all="ignore"):  # some cases overflow on purpose (a diverging lr, an outlier batch)
        out = fn(*args[:1], loss_fn, *args[2:], **kwargs)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        return Run.failed(f"your function returned {type_name(out)}"
                          + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
                          + "; return the pair (lrs, losses): two lists, one lr and one loss per step")
    lrs, losses = out
    for name, values in (("lrs", lrs), ("losses", losses)):
        if not isinstance(values, list):
            return Run.failed(f"{name} is {an(type_name(values))}; it must be a list of Python floats, one per step "
                              "(append each step's number to a list, and return the two lists)")
        for i, v in enumerate(values):
            problem = _number_problem(v, f"lrs[{i}]", lr=True) if name == "lrs" else _loss_problem(v, i)
            if problem:
                return Run.failed(problem)
    if len(lrs) != len(losses):
        return Run.failed(f"you returned {len(lrs)} lrs and {len(losses)} losses: one of each per step")
    bad = [not math.isfinite(v.item()) for v in losses_seen]  # each loss computed, in order: not finite?
    first = bad.index(True) if True in bad else len(bad)
    if len(bad) > first + 2 and all(bad[first:]) and all(map(math.isfinite, losses)):  # (one more call: let be)
        return Run.failed(f"your test went on after a loss that was not finite: {len(bad) - first - 1} more losses, "
                          "all nan or inf, for nothing (its step made the weights nan). Stop the test at the first "
                          "loss that is inf or nan: break, not continue")
    weights, lrs_after, state = _snapshot(model, optimizer)
    parameters = {name for name, _ in model.named_parameters()}
    changed = [name for name in before[0] if not np.array_equal(before[0][name], weights.get(name), equal_nan=True)]
    if any(name in parameters for name in changed):
        return Run.failed(
            "the model's weights are not what they were before the test: a range test trains the real model "
            "(up to a diverging lr), so it must save the weights first and load them back at the end, on every "
            "way out of the function (a `return` inside the loop skips a restore written after the loop). And "
            "save a copy: model.state_dict() holds the parameters themselves, not copies, and training changes "
            "it too (copy.deepcopy of it)")
    if changed:
        return Run.failed(
            f"the model's buffer {changed[0]} is not what it was before the test: the test's forward passes in "
            "training mode updated it (BatchNorm's running mean and variance, its count of batches). A model's state "
            "is its parameters AND its buffers: save a copy of all of model.state_dict(), and load all of it back")
    if [module.training for module in model.modules()] != modes:
        arrived, left = ("training", "eval") if modes[0] else ("eval", "training")
        return Run.failed(
            f"the model arrived in {arrived} mode and your test left it in {left} mode: a range test hands the "
            "model back as it found it, its mode too (model.training; load_state_dict() does not restore it). "
            "What comes next (a validation pass, or training) expects the mode it set itself")
    same_state = len(state) == len(before[2]) and all(
        s.keys() == t.keys() and all(np.array_equal(s[k], t[k]) for k in s) for s, t in zip(before[2], state))
    if lrs_after != before[1] or not same_state:
        shown = [f"{lr:.4g}" for lr in lrs_after]
        what = (f"the lrs are [{', '.join(shown)}] instead of {before[1]}" if lrs_after != before[1]
                else _state_words(before[2], state))
        lost = lrs_after == before[1] and len(state) < len(before[2])
        return Run.failed(
            f"the optimizer is not as it was before the test: {what}. "
            + ("Training would go on without them. " if lost else
               "Training would go on with the lrs and state the test left. ")
            + "optimizer.state_dict() holds the optimizer's own state tensors, which the test's steps change in "
            "place: save a deep copy of it first, and load it back at the end")
    return Run.of([[float(v) for v in lrs], [float(v) for v in losses]])


def _compare_range(got, expected, case):
    """None when the lrs and losses are the reference's; otherwise the first difference, in words: the steps
    both recorded first, then where the test should have stopped, or gone on."""
    n, m = got.shape[-1] if got.ndim == 2 else 0, expected.shape[1]
    k = min(n, m)
    for row, what, within in ((0, "lr", LRS), (1, "loss", LOSSES)):
        with np.errstate(invalid="ignore"):
            bad = (~np.isclose(got[row, :k], expected[row, :k], rtol=within.rtol, atol=within.atol) if k
                   else np.zeros(0, bool))
        if bad.any():
            i = int(np.argmax(bad))
            right, yours = _pair(expected[row, i], got[row, i])
            return (f"the {what} of step {i} should be {right}, yours is {yours} "
                    f"({int(bad.sum())} of the {k} steps both recorded differ)")
    if n == m:
        return None
    given, losses = _arguments(case.args, case.kwargs), expected[1]
    steps, diverge = given["num_steps"], given["diverge"]
    if n > m:
        extra = got[1, m]
        if not np.isfinite(extra):
            return (f"your test recorded {n} steps, the right one {m}: the loss of step {m} is {extra:g}. A loss that "
                    "is inf or nan is not recorded: the test stops at that step without putting it in the lists")
        if not losses[-1] > diverge * losses[:-1].min(initial=np.inf):  # the right one stopped at a nan or inf
            return (f"your test recorded {n} steps, the right one {m}: its step {m} has a loss that is not finite, "
                    "so it stops there. Yours went on past it: break out of the loop at a loss that is inf or nan")
        return (f"your test recorded {n} steps, the right one {m}: the loss of step {m - 1}, {losses[-1]:.4g}, is "
                f"more than diverge = {diverge:g} times the lowest loss so far ({losses.min(initial=np.inf):.4g}). "
                "That step is recorded, and the test stops there")
    if n == steps - 1 == m - 1:
        return (f"your test made {n} steps, the right one {m}: the loss never blows up here, so all num_steps = "
                f"{steps} steps run (i from 0 to num_steps - 1). Count the steps of your loop")
    if n == 0:
        return f"your test recorded no step; the right one records {m}: the first step's loss is {losses[0]:.4g}"
    if n == m - 1 and m < steps and losses[-1] > diverge * losses[:-1].min(initial=np.inf):
        return (f"your test stopped after step {n - 1}, the right one records step {m - 1} too: its loss, "
                f"{losses[-1]:.4g}, is more than diverge = {diverge:g} times the lowest loss so far "
                f"({losses[:-1].min():.4g}). The step whose finite loss blows up is recorded, and the test stops "
                "after it")
    return (f"your test stopped after step {n - 1}, the right one goes on to step {m - 1}: the loss of step "
            f"{n - 1}, {got[1, n - 1]:.4g}, is not above diverge = {diverge:g} times the lowest loss so far "
            f"({got[1, :n].min():.4g}), and it is finite")


def _build(rng, make, *args, **kwargs):
    """``make(*args, **kwargs)``, a model, made without drawing from the library's global random numbers (the
    learner's notebook's); with ``rng``, every parameter then gets fresh weights from it (uniform in
    +-1/sqrt(fan_in), as PyTorch's Linear starts; buffers, such as BatchNorm's running statistics, keep theirs)."""
    with global_rng_kept():
        model = make(*args, **kwargs)
    if rng is not None:
        state = model.state_dict()
        fresh = dict(state)
        for name, p in model.named_parameters():
            weight = state[name[:-len("bias")] + "weight"] if name.endswith("bias") else p
            bound = 1 / math.sqrt(weight.shape[-1])
            fresh[name] = tensor(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32))
        model.load_state_dict(fresh)
    return model


def _mlp(*sizes, batchnorm=False):
    """Linear layers of these sizes, with a ReLU (after a BatchNorm1d, with ``batchnorm``) between two."""
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), *([nn.BatchNorm1d(b)] if batchnorm else []), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(*sizes[-2:]))


def regression_batches(rng, n=128, batch=16):
    """y = 3 x1 - x2 + 0.5 + noise, x uniform in [-3, 3]^2, as a list of (x, y) batches."""
    x = rng.uniform(-3, 3, (n, 2)).astype(np.float32)
    y = (x @ np.array([[3.0], [-1.0]]) + 0.5 + 0.3 * rng.standard_normal((n, 1))).astype(np.float32)
    return [(tensor(x[i:i + batch]), tensor(y[i:i + batch])) for i in range(0, n, batch)]


def _classes_loader(rng, n=160, batch=32):
    x = rng.standard_normal((n, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    generator = Generator().manual_seed(int(rng.integers(1000)))
    return DataLoader(TensorDataset(tensor(x), tensor(y)), batch_size=batch, shuffle=True, generator=generator)


def _trained(model, loss_fn, batches, optimizer, steps):
    """``optimizer`` after ``steps`` steps of ordinary training on the first batches: it arrives at the range test
    with state (momentum buffers, Adam's moments and step count), as it would in the middle of a run, and with the
    last backward's gradients still in the parameters' .grad (a test that clears them only after a step uses them)."""
    for _, (x, y) in zip(range(steps), itertools.cycle(list(batches))):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    return optimizer


def range_test_example():
    """The notebook's example (new copies at each call): a linear regression on 8 batches of 16, from fixed
    weights, with SGD."""
    batches = regression_batches(np.random.default_rng(5))
    model = _build(None, nn.Linear, 2, 1)
    model.load_state_dict({"weight": tensor([[0.5, -0.3]]), "bias": tensor([0.1])})
    return model, nn.MSELoss(), batches, optim.SGD(model.parameters(), lr=0.01)


def _range_cases(rng):
    mlp = _build(rng, _mlp, 2, 16, 2)
    adam_model = _build(rng, _mlp, 2, 8, 8, 2)
    big = _build(rng, _mlp, 2, 32, 2)
    small, tiny = _build(rng, nn.Linear, 2, 1), _build(rng, nn.Linear, 2, 1)
    cases = [
        Case(range_test_example(), kwargs={"start_lr": 1e-4, "end_lr": 10.0, "num_steps": 60}, visible=True),
        Case((mlp, nn.CrossEntropyLoss(), _classes_loader(rng), optim.SGD(mlp.parameters(), lr=0.05, momentum=0.9),
              1e-4, 30.0, 50), "an MLP classifier, SGD with momentum, a shuffling DataLoader of 5 batches"),
        Case((adam_model, nn.CrossEntropyLoss(), _classes_loader(rng, 96, 16),
              optim.Adam(adam_model.parameters(), lr=1e-3)), "Adam, and diverge=3.0",
             {"start_lr": 1e-5, "end_lr": 1.0, "num_steps": 40, "diverge": 3.0}),
        Case((small, nn.MSELoss(), regression_batches(rng, 64, 16), optim.SGD(small.parameters(), lr=0.02)),
             "the default start_lr, end_lr and num_steps"),
        Case((big, nn.CrossEntropyLoss(), _classes_loader(rng), optim.SGD(big.parameters(), lr=0.1)),
             "an lr range too low to diverge: all 30 steps run", {"start_lr": 1e-3, "end_lr": 0.05, "num_steps": 30}),
        Case(range_test_example(), "a lenient diverge=20.0", {"start_lr": 1e-3, "num_steps": 45, "diverge": 20.0}),
        Case((tiny, nn.MSELoss(), regression_batches(rng, 48, 16), optim.SGD(tiny.parameters(), lr=0.1, momentum=0.5)),
             "3 batches for 25 steps: the batches start again", {"start_lr": 1e-3, "end_lr": 3.0, "num_steps": 25}),
    ]
    # a model with buffers, optimizers that have already trained, two param groups, and losses that stop being
    # finite in the middle of the test
    normed = _build(rng, _mlp, 2, 12, 2, batchnorm=True)
    adam_net, grouped = _build(rng, _mlp, 2, 8, 2), _build(rng, _mlp, 2, 6, 2)
    loader, adam_loader = _classes_loader(rng, 96, 16), _classes_loader(rng, 64, 16)
    momentum = _trained(normed, nn.CrossEntropyLoss(), loader, optim.SGD(normed.parameters(), lr=0.05, momentum=0.9), 3)
    adam = _trained(adam_net, nn.CrossEntropyLoss(), adam_loader, optim.Adam(adam_net.parameters(), lr=0.01), 4)
    biases = [p for name, p in grouped.named_parameters() if name.endswith("bias")]
    weights = [p for name, p in grouped.named_parameters() if name.endswith("weight")]
    groups = optim.SGD([{"params": weights}, {"params": biases, "lr": 0.003}], lr=0.03, momentum=0.5)
    nan_model, inf_model = _build(rng, nn.Linear, 2, 1), _build(rng, nn.Linear, 2, 1)
    nan_batches, inf_batches = regression_batches(rng, 80, 16), regression_batches(rng, 64, 16)
    (x, y), (big_x, z) = nan_batches[3], inf_batches[2]  # a nan target; inputs whose squared error overflows float32
    nan_batches[3] = (x, tensor(np.vstack([[np.nan], y.detach().numpy()[1:]]).astype(np.float32)))
    inf_batches[2] = (tensor(big_x.detach().numpy() * np.float32(1e20)), z)
    fitted = _build(None, nn.Linear, 2, 1)
    fitted.load_state_dict({"weight": tensor(np.zeros((1, 2), np.float32)), "bias": tensor(np.zeros(1, np.float32))})
    zero_first = regression_batches(rng, 48, 16)
    zero_first[0] = (zero_first[0][0], tensor(np.zeros((16, 1), np.float32)))  # a zero model fits it exactly
    evaluated = _build(rng, _mlp, 2, 8, 2)
    evaluated.eval()  # as a validation pass leaves it; no layer here behaves differently in the two modes
    return cases + [
        Case((normed, nn.CrossEntropyLoss(), loader, momentum),
             "a model with BatchNorm (buffers), and an SGD with momentum that has trained 3 steps",
             {"start_lr": 1e-3, "end_lr": 30.0, "num_steps": 30}),
        Case((adam_net, nn.CrossEntropyLoss(), adam_loader, adam),
             "an Adam that has trained 4 steps (its moments and step count)",
             {"start_lr": 1e-4, "end_lr": 3.0, "num_steps": 30}),
        Case((grouped, nn.CrossEntropyLoss(), _classes_loader(rng, 64, 16), groups),
             "two param groups with their own lrs", {"start_lr": 1e-3, "end_lr": 10.0, "num_steps": 30}),
        Case((nan_model, nn.MSELoss(), nan_batches, optim.SGD(nan_model.parameters(), lr=0.01, momentum=0.9)),
             "a batch with a nan target: the loss of step 3 is nan", {"start_lr": 1e-4, "num_steps": 20}),
        Case((inf_model, nn.MSELoss(), inf_batches, optim.SGD(inf_model.parameters(), lr=0.01)),
             "an outlier batch whose squared error overflows: the loss of step 2 is inf",
             {"start_lr": 1e-4, "num_steps": 20}),
        Case((fitted, nn.MSELoss(), zero_first, optim.SGD(fitted.parameters(), lr=0.01)),
             "a first batch the model fits exactly: the lowest loss is 0, and 0 is not more than diverge times 0",
             {"start_lr": 1e-3, "num_steps": 20}),
        Case((evaluated, nn.CrossEntropyLoss(), _classes_loader(rng, 64, 16), optim.SGD(evaluated.parameters(),
                                                                                        lr=0.05)),
             "a model handed over in eval mode (as a validation pass leaves it)",
             {"start_lr": 1e-3, "end_lr": 10.0, "num_steps": 25}),
    ]


def _range_test(model, loss_fn, batches, optimizer, start_lr=1e-5, end_lr=10.0, num_steps=100, diverge=4.0, *,
                spacing="geometric", exponent_over=-1, zero_grad=True, lr_after_step=False, stop="lowest",
                cycle=True, replay=False, groups="all", in_eval=False, loss_after=False):
    """A learner's range test, right when no switch is set; the mistakes below set one switch each."""
    was_training = model.training
    if in_eval:  # trains in eval mode (the mode handed back as it arrived)
        model.eval()
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    lrs, losses = [], []
    stream = itertools.cycle(batches) if replay else iter(batches)
    for i in range(num_steps):
        lr = (start_lr * (end_lr / start_lr) ** (i / (num_steps + exponent_over)) if spacing == "geometric"
              else start_lr + (end_lr - start_lr) * i / (num_steps - 1))
        if not lr_after_step:
            for group in optimizer.param_groups[:1] if groups == "first" else optimizer.param_groups:
                group["lr"] = lr
        try:
            x, y = next(stream)
        except StopIteration:
            if not cycle:
                break
            stream = iter(batches)
            x, y = next(stream)
        if zero_grad is True:
            optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if zero_grad == "between":  # the gradients cleared before the step could use them
            optimizer.zero_grad()
        optimizer.step()
        if zero_grad == "after":  # cleared after the step: the first step adds the .grad it arrived with
            optimizer.zero_grad()
        if loss_after:  # the batch's loss measured again, with the updated weights
            loss = loss_fn(model(x), y)
        if lr_after_step:
            for group in optimizer.param_groups:
                group["lr"] = lr
        value = loss.item()
        if not math.isfinite(value):
            break
        lrs.append(lr)
        losses.append(value)
        if (stop == "lowest" and value > diverge * min(losses)) or (stop == "first" and value > diverge * losses[0]):
            break
    model.load_state_dict(saved_model)
    optimizer.load_state_dict(saved_optimizer)
    model.train(was_training)
    return lrs, losses


def _switched(**switches):
    """The learner's range test with ``switches`` set; an argument among them replaces the case's (diverge=4.0: the
    argument ignored, its default used whatever the case passes)."""
    def wrong(*args, **kwargs):
        return _range_test(**{**_arguments(args, kwargs), **switches})
    return wrong


driven(
    "05.lr_range_test", lr_range_test_reference, _range_cases, range_test_run,
    compare=_compare_range, match=LOSSES,
    check_inputs=False,  # the model and optimizer are trained and must be put back: range_test_run checks that
    points=3,
    error_hints=[ErrorHint(r"StopIteration",
                           "the batches ran out before num_steps: a range test starts them again from the "
                           "beginning (a DataLoader, or a list, can be read again with a new iter(...))",
                           "when next(...) raises StopIteration, make a new iterator over batches and take its "
                           "first batch")],
    forbid=(lr_find,),
    mistakes=[
        mistake(_switched(spacing="linear"),
                "the lrs must grow GEOMETRICALLY (by the same factor at every step), so that each decade (1e-4 to "
                "1e-3, 1e-3 to 1e-2, ...) gets as many steps. Evenly spaced lrs spend almost every step near end_lr",
                "lr_i = start_lr times (end_lr / start_lr) to the power i / (num_steps - 1)"),
        mistake(_switched(exponent_over=0),
                "the last step must use end_lr itself: the exponent goes from 0 at step 0 to 1 at step num_steps - 1",
                "divide i by num_steps - 1, the index of the last step"),
        mistake(_switched(zero_grad=False),
                "every step needs fresh gradients: without zero_grad they pile up from step to step, and each "
                "update is the sum of all the gradients so far",
                "clear the gradients at the start of every step, before the backward pass (the optimizer has a "
                "method for it)"),
        mistake(_switched(zero_grad="after"),
                "your first step used gradients left over from before the test: this optimizer arrived from "
                "training with the last backward's .grad still on the parameters, and your test clears the "
                "gradients only after optimizer.step(), so its first update adds them in",
                "call optimizer.zero_grad() at the start of each step, before the forward pass"),
        mistake(_switched(zero_grad="between"),
                "no update of your test followed a gradient (only what the optimizer carries, such as momentum, "
                "still moved the model): optimizer.step() must come right after loss.backward(). Yours cleared the "
                "gradients between the two (zero_grad), called step() before backward(), or left it out",
                "each step of the test: zero_grad, forward, backward, step, in that order"),
        mistake(_switched(loss_after=True),
                "each step records the loss of its batch computed BEFORE the update, the loss you call backward() on "
                "(as lr_find does): yours measures it again after optimizer.step(), with the weights already updated",
                "record loss.item() of the loss that backward() ran on"),
        mistake(_switched(lr_after_step=True),
                "each step's lr must be in the param groups BEFORE optimizer.step(), which reads it. Yours sets "
                "it afterwards, so every update uses the previous step's lr (the first one the optimizer's own)",
                "write lr_i into every param group at the start of step i"),
        recognised(_runs_like("05.lr_range_test", [_switched(diverge=4.0), _switched(stop="none")]),
                   "your run is what the default diverge, 4.0, gives, where this case passes another value; on "
                   "this case it is also what a test that never stops gives. Use the argument `diverge` itself: "
                   "stop when the loss blows up, after a loss above diverge times the lowest loss so far",
                   "compare each loss with diverge (the argument) times the lowest loss recorded so far"),
        mistake(_switched(stop="none"),
                "stop when the loss blows up: after a loss above diverge times the lowest loss so far, more steps "
                "only train on a wrecked model (and can overflow)",
                "after recording each loss, compare it with diverge times the lowest loss recorded so far, and "
                "leave the loop when it is larger"),
        mistake(_switched(stop="first"),
                "compare with the LOWEST loss so far, not the first one: the loss first falls a lot, so the "
                "blow-up is relative to how good the model got",
                "compare with the smallest loss recorded so far, which changes as the run goes on"),
        mistake(_switched(cycle=False),
                "the batches ran out before num_steps, and your test stopped there. A range test starts the "
                "batches again from the beginning, for as many steps as asked",
                "when the iterator is exhausted, make a new iter(batches)"),
        mistake(_switched(groups="first"),
                "the lr of step i goes into EVERY param group: this optimizer has two groups, and your test "
                "changed only the first one's lr, so the other group trained at its own lr all along",
                "loop over optimizer.param_groups and set the 'lr' of each"),
        mistake(_switched(in_eval=True),
                "your test trained the model in eval mode: this model arrived in training mode, and in eval "
                "mode BatchNorm normalises with its running statistics instead of the batch's (and dropout is "
                "off), so the losses are not those of training. The test trains as training would: leave the "
                "mode as the model arrived in while it runs",
                "do not switch the model to eval mode during the test (only hand it back in the mode it arrived in)"),
        mistake(_switched(replay=True),
                "your test replays the batches of its first pass, saved (as itertools.cycle does, or a list "
                "made of them): a DataLoader that shuffles gives new batches on each pass, and the range test "
                "must see them as training would",
                "when the batches run out, start them again with a new iter(batches)"),
    ],
)
