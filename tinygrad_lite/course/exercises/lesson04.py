"""Lesson 04, optimizers: the checks of its four exercises.

- ``04.train_epoch``: one epoch of the training loop (zero_grad, forward, loss, backward, step for every batch of
  a DataLoader), returning the epoch's mean loss weighted by batch size. What is judged is what the loop does: the
  loss it returns and the weights and buffers it leaves (``drive_train_epoch``). The loader and the loss function are
  watched: a loss tensor still alive two batches later (a sum of loss tensors, a list of them) keeps every batch's
  graph in memory all epoch, and fails even when the number returned is right. It is a training loop meant to use
  the library's model, loss and optimizer: no allowlist, only the Trainer is forbidden.
- ``04.MySGD``, ``04.MyAdam``, ``04.MyAdamW``: CLASS exercises, ``Optimizer`` subclasses (``_update(p, group)``
  moves one parameter; its memory lives in ``self.state[p]``). ``drive_optimizer`` runs the class on a small
  problem (a ``Setup``: a quadratic, Rosenbrock's valley, a linear regression with a weight and a bias) and
  returns the parameters after each step; it refuses, with a sentence, a parameter that stops being a leaf of its
  dtype, a state buffer of another dtype than its parameter, and a step that changes ``p.grad``. The reference is
  the library's optimizer (tests/test_lesson04.py shows it equals torch.optim on these cases); each mistake is a
  wrong optimizer (``SGDVariant``, ``AdamVariant``) driven the same way, so that the hint names the term that is
  off. The float64 cases follow the text's section 12, which runs the learner's classes in float64.

Each hidden case's text says what it is there to show: a smaller last batch, drop_last, a model in eval mode or
with stale gradients; an lr changed mid-run as a scheduler does, a run resumed from ``state_dict()`` over new
tensors, two parameter groups that set every option, gradients of 1e-5 to 1e-9 (below eps), a parameter that
step() skips on every second step, float64 runs judged at float64's precision.
"""
import copy
import inspect
import math
import weakref

import numpy as np

from ... import Tensor, nn, optim, tensor
from ...autograd.grad_mode import no_grad
from ...random import Generator
from ...train.trainer import Trainer, fit
from ...utils.data import DataLoader, TensorDataset
from ..checks import Case, ErrorHint, Mistake, compare_arrays
from .kinds import (
    Run,
    RunAnswer,
    Within,
    an,
    differing_entries,
    driven,
    first_difference,
    mistake,
    only_buffers,
    recognised,
)

STEPS = 50        # the example's run (the notebook prints it)
HIDDEN_STEPS = 30  # a hidden case's run: each mistake shows within it (tests/test_lesson04.py), at 60% of the CPU
OPTIMIZER = RunAnswer(base=optim.Optimizer, must_define=("_update", "step"))
# an optimizer's run is judged, and its mistakes matched, within TRAJECTORY; a float64 run within TRAJECTORY64
# (float64's rounding stays far below it, float32's, 6e-8, does not)
TRAJECTORY, TRAJECTORY64 = Within(1e-4, 1e-5), Within(1e-9, 1e-11)


def _float64_case(case):
    """Whether the case's set-up (its first argument) runs in float64: judged at float64's precision."""
    return getattr(case.args[0] if case is not None and case.args else None, "dtype", None) == "float64"


def _within(case):
    return TRAJECTORY64 if _float64_case(case) else TRAJECTORY


# -------------------------------------------------------------------- the problems the optimizers are run on
class Setup:
    """A small problem to optimise: the parameters' ``starts``, the ``loss`` as a function of them; ``groups``:
    [(indices, that group's hyperparameters)] or None; ``resume_at``: the step where the run is saved with
    ``state_dict()`` and resumed in a new optimizer over NEW tensors, as from a checkpoint into a new model;
    ``schedule``: {step: factor} by which every group's lr is multiplied before that step, as by a scheduler;
    ``set_to_none=False``: ``zero_grad`` fills the gradients with zeros; ``dtype``: "float32" or "float64" (judged
    at float64's precision); ``skip``: a parameter whose gradient is set to None after the backward pass of every
    second step (2, 4, ...), as for a branch some batches do not use: step() skips it then."""

    def __init__(self, text, starts, loss, groups=None, resume_at=None, set_to_none=True, steps=STEPS,
                 schedule=None, dtype="float32", skip=None):
        self.text, self.starts, self.loss = text, [np.asarray(s, dtype=dtype) for s in starts], loss
        self.groups, self.resume_at, self.set_to_none, self.steps = groups, resume_at, set_to_none, steps
        self.schedule, self.dtype, self.skip = dict(schedule or {}), dtype, skip

    def skips(self, t):
        """Whether the parameter ``skip`` gets no gradient at step ``t + 1`` (``t`` counts from 0)."""
        return self.skip is not None and t % 2 == 1

    def param_groups(self, params):
        return params if self.groups is None else [{"params": [params[i] for i in indices], **hyper}
                                                   for indices, hyper in self.groups]

    def key(self):
        """What makes two runs of one optimizer class the same (for the cache of this module's own runs)."""
        return (self.text, b"".join(s.tobytes() for s in self.starts), repr(self.groups), self.resume_at,
                self.set_to_none, self.steps, repr(sorted(self.schedule.items())), self.dtype, self.skip)

    def __repr__(self):
        return self.text


def quadratic(scales, center=(0.0, 0.0)):
    """L(w) = sum_i scales_i (w_i - center_i)^2 / 2: a bowl whose curvature along axis i is scales_i. The losses
    make their constants with ``w.new_tensor``, so that they run on PyTorch's tensors too (the tests run
    torch.optim on the same problems)."""
    a, c = np.asarray(scales, dtype=np.float32), np.asarray(center, dtype=np.float32)
    return lambda w: (0.5 * w.new_tensor(a) * (w - w.new_tensor(c)) ** 2).sum()


def rosenbrock(w):
    """Rosenbrock's banana-shaped valley, (1 - x)^2 + 100 (y - x^2)^2, with its minimum 0 at (1, 1)."""
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def regression_setup(text, seed, unused=False, **options):
    """A Setup (``options`` its own): the mean squared error of a linear layer y = x W^T + b on fixed random data
    (3 features, 2 targets, 8 examples); ``unused``: a third parameter that no loss uses."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
    rng = np.random.default_rng(seed + 100)
    starts = [rng.standard_normal((2, 3)), 0.5 * rng.standard_normal(2)] + ([rng.standard_normal(3)] if unused else [])
    return Setup(text, starts, lambda w, b, *rest: ((w.new_tensor(x) @ w.T + b - w.new_tensor(y)) ** 2).mean(),
                 **options)


ILL = quadratic([1.0, 20.0])  # the ill-conditioned bowl of the lesson's pictures


# -------------------------------------------------------------------- driving an optimizer class
_RUNS = {}  # the cached runs of this module's own optimizers (the references and the wrong versions)


def drive_optimizer(cls, args, kwargs, leaves=None):
    """Build ``cls(params, **kwargs)`` on the case's Setup (the first argument, or ``params=`` when a check calls
    the reference by keyword) and run its steps: a Run of the parameters (flattened, one row per step), or a Run
    with the problem found. The runs of this module's own optimizers are cached (a check compares the learner's
    run with many of them). ``leaves``: see ``_drive``; a run it stops is None, and not kept."""
    kwargs = dict(kwargs)
    setup = args[0] if args else kwargs.pop("params")
    if getattr(cls, "__module__", None) != __name__:
        return _drive(cls, setup, kwargs, leaves)
    key = (cls, setup.key(), repr(sorted(kwargs.items())))
    if key not in _RUNS:
        if (run := _drive(cls, setup, kwargs, leaves)) is None:
            return None
        _RUNS[key] = run
    return Run.of(_RUNS[key], _RUNS[key].problem)


def _drive(cls, setup, kwargs, leaves=None):
    """The Run of ``cls`` on ``setup`` (see ``drive_optimizer``). ``leaves(t, row)``, if given, is asked after each
    step (``row``: the parameters after step t + 1): True stops the drive, which then returns None."""
    params = [tensor(s.copy(), requires_grad=True) for s in setup.starts]
    name = getattr(cls, "__name__", "your class")
    optimizer = cls(setup.param_groups(params), **kwargs)
    if problem := OPTIMIZER.problem_with(optimizer, cls):
        return Run.failed(problem)
    rows = []
    for t in range(setup.steps):
        if t == setup.resume_at:  # save, then go on in a new optimizer over new tensors, as after a checkpoint
            saved = copy.deepcopy(optimizer.state_dict())
            # state under a key that is no parameter's position: keyed by something else than the parameter
            # itself (id(p), a name, a counter), which a resumed run over other tensors cannot find
            foreign = [k for k in saved.get("state", {}) if not (isinstance(k, int) and 0 <= k < len(params))]
            if foreign:
                what = "a number that is no parameter's position" if isinstance(foreign[0], int) else (
                    f"{an(type(foreign[0]).__name__)}, which is no parameter")
                return Run.failed(
                    f"after {t} steps, {name}.state_dict() holds state under a key that is {what}: self.state is "
                    "keyed by the parameter itself, self.state[p]. state_dict() replaces each parameter key by its "
                    "position (0, 1, ...), so that the state can be loaded into an optimizer over other tensors (a "
                    "run resumed from a checkpoint, into a new model); any other key (id(p), a name, a shared "
                    "counter) is carried as it is, and after loading no parameter finds its state")
            params = [tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
            optimizer = cls(setup.param_groups(params), **kwargs)
            optimizer.load_state_dict(saved)
        for group in optimizer.param_groups if t in setup.schedule else ():  # a scheduler's move between steps
            group.setdefault("initial_lr", group["lr"])  # (which a scheduler also leaves: the lr it started from)
            group["lr"] = group["lr"] * setup.schedule[t]
        optimizer.zero_grad(set_to_none=setup.set_to_none)
        setup.loss(*params).backward()
        if setup.skips(t):  # this parameter's branch was not used on this step: no gradient, no update
            params[setup.skip].grad = None
        grads = [None if p.grad is None else p.grad.detach().numpy().copy() for p in params]
        optimizer.step()
        problem, code = _step_problem(optimizer, params, grads, name, t + 1, setup.dtype)
        if problem:  # (a code, for a float32 made float64, lets a mistake row give that its own hint)
            return Run.failed(problem) if code is None else Run.of([np.nan, code], problem)
        rows.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
        if leaves is not None and leaves(t, rows[-1]):
            return None
    return Run.of(rows)


def _dtype_name(t):
    return str(getattr(t, "dtype", None)).rsplit(".", 1)[-1]


def _step_problem(optimizer, params, grads, name, t, dtype):
    """(a sentence, a code or None) when step ``t`` left a parameter that is not a leaf of its ``dtype``, changed a
    gradient, or left in ``self.state[p]`` a buffer that is not a tensor of the parameter's dtype: a numpy array,
    or a tensor of another dtype (counters, a Python number or a 0-d tensor, may be of any type); (None, None) if
    none. The code, WIDER_PARAMETER or WIDER_BUFFER, says a float32 parameter or buffer became float64: the
    course's hint for a dtype mismatch (``pipeline._float32_refused``) is about the opposite."""
    for i, (p, g) in enumerate(zip(params, grads)):
        where = f"after step {t}, parameter {i}"
        if not hasattr(p, "grad_fn") or _dtype_name(p) != dtype:
            other = "float64" if dtype == "float32" else "float32"
            code = WIDER_PARAMETER if (dtype, _dtype_name(p)) == ("float32", "float64") else None
            return (f"{where} is {getattr(p, 'dtype', type(p).__name__)}, not {dtype} (the parameter's dtype): "
                    f"the update must write new {dtype} numbers into the parameter itself (p -= ..., "
                    f"p.mul_(...)), not numpy arrays or {other}"), code
        if p.grad_fn is not None or not p.requires_grad:
            return (f"{where} is no longer a leaf that requires grad: the update must change the parameter's "
                    "numbers in place, without recording a graph and without switching its requires_grad off"), None
        if g is not None and (p.grad is None or not np.array_equal(p.grad.detach().numpy(), g, equal_nan=True)):
            return (f"{where}: {name}.step() changed p.grad. The step reads the gradient and leaves it alone "
                    "(zero_grad is the one that resets it, and gradient accumulation relies on that). An in-place op "
                    "on g = p.grad (g += ..., g.mul_(...)) changes p.grad itself: compute a new tensor instead; and "
                    "leave the clearing (p.grad = None, p.grad.zero_()) to zero_grad"), None
    state = getattr(optimizer, "state", None)
    for i, p in enumerate(params if isinstance(state, dict) else ()):
        entry = state.get(p)
        for key, value in entry.items() if isinstance(entry, dict) else ():
            where = f"after step {t}, {name}.state[p][{key!r}] of parameter {i}"
            if isinstance(value, np.ndarray) and value.ndim > 0:
                return (f"{where} is a numpy array: keep the optimizer's state as tensors of the parameter's dtype "
                        "(as PyTorch does), so that the update stays in the library, moves with the model to "
                        "another device and is saved by state_dict() as a tensor"), None
            if isinstance(value, Tensor) and tuple(value.shape) == tuple(p.shape) and value.dtype != p.dtype:
                dtypes = [str(d).rsplit(".", 1)[-1] for d in (value.dtype, p.dtype)]
                why = ("a float64 buffer doubles the memory and makes numbers that differ from the reference's"
                       if dtypes[0] == "float64" else
                       f"a {dtypes[0]} buffer rounds the optimizer's memory at every step, so a {dtypes[1]} "
                       "model trains with less precision than its own. tl.zeros(*p.shape) is float32 whatever "
                       "p is; tl.zeros_like(p) takes p's dtype")
                code = WIDER_BUFFER if dtypes == ["float64", "float32"] else None
                return (f"{where} is {dtypes[0]}, while the parameter is {dtypes[1]}: keep each buffer in the "
                        f"parameter's dtype, as PyTorch does ({why})"), code
    return None, None


# the Run of a step that made a float32 parameter, or a buffer of a float32 parameter, float64: [nan, the code]
WIDER_PARAMETER, WIDER_BUFFER = -2.0, -3.0


def _made_float64(code):
    """A mistake's match: the run stopped at a float32 parameter (or buffer) made float64 (``_step_problem``)."""
    def match(got, expected, case):
        got = np.asarray(got, dtype=np.float64)
        return got.shape == (2,) and bool(np.isnan(got[0])) and got[1] == code
    return match


PARAMETER_MADE_FLOAT64 = recognised(
    _made_float64(WIDER_PARAMETER),
    "a float64 where a float32 is expected: your update turned the float32 parameter into float64 (a .double(), or "
    "float64 numbers, a tensor or a numpy array, assigned through p.data). The update must keep the parameter's "
    "dtype: the model's other tensors, the gradients and the optimizer's buffers stay float32, as in PyTorch",
    "change the parameter's numbers in place (p -= ..., p.sub_(...)): an in-place op writes into p and keeps its dtype")
BUFFER_MADE_FLOAT64 = recognised(
    _made_float64(WIDER_BUFFER),
    "a float64 where a float32 is expected: a buffer in self.state[p] became float64 while its parameter is float32 "
    "(a .double(), dtype=tl.float64, or float64 numbers from numpy on its way). Each buffer keeps its parameter's "
    "dtype, as PyTorch's do",
    "build the buffer from the parameter or its gradient (zeros_like(p), g.clone(), arithmetic on them), which keeps "
    "their dtype, and convert nothing")


def _numbers(row, n=6, start=0, digits=6):
    """Up to ``n`` numbers of ``row`` from index ``start``, with "..." where some are left out."""
    shown = ", ".join(f"{v:.{digits}g}" for v in row[start:start + n])
    return f"[{'..., ' if start else ''}{shown}{', ...' if len(row) > start + n else ''}]"


def compare_trajectory(got, expected, case):
    """None when the learner's trajectory matches; otherwise the first step where it goes off, in words (the
    numbers shown start a little before the first one that differs, so that the difference is in sight)."""
    within = _within(case)
    failure = compare_arrays(got, expected, within.rtol, within.atol)
    if failure is None or np.shape(got) != np.shape(expected):
        return failure
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    step, first = first_difference(g, e, within) or (0, 0)
    digits, n = (13, 3) if within == TRAJECTORY64 else (6, 6)  # float64: enough digits to see the difference
    start = 0 if first < n else first - n // 3
    where = f" (number {first + 1} of {e.shape[1]} is the first that differs)" if start else ""
    return (f"your optimizer's trajectory leaves the reference's at step {step + 1} of {len(e)} (the parameters, "
            f"flattened, after each step). After step {step + 1}: expected {_numbers(e[step], n, start, digits)}, "
            f"got {_numbers(g[step], n, start, digits)}{where}"
            + (f"; after step {step}, both were {_numbers(e[step - 1], n, start, digits)}" if step else ""))


LEAF_IN_PLACE = ErrorHint(
    r"leaf tensor that requires grad is being used in an in-place operation",
    "the update ran with autograd on: a parameter is a leaf that requires grad, so changing it in place is refused "
    "while the graph is being recorded. Optimizer.step() runs _update under no_grad; if you wrote step() yourself, do "
    "the same",
    "decorate your step with @tl.no_grad(), or put its body in `with tl.no_grad():`")
REBOUND = ErrorHint(
    r"unsupported operand type\(s\) for .*'NoneType'|expected numbers, got NoneType|, not NoneType"
    r"|'NoneType' object has no attribute",
    "a value in your update is None, most likely p.grad read from a p that is no longer the parameter: p = p * ... (or "
    "p = p - ...) makes a NEW tensor and rebinds your local name, and a new tensor has no gradient. The update must "
    "change the parameter itself, in place",
    "shrink or move p with an in-place op (p *= ..., p.mul_(...), p -= ...), then read p.grad")
SHARED_STATE = ErrorHint(
    r"shapes \(.*\) and \(.*\) cannot be broadcast together",
    "a buffer of one shape met a parameter of another: your optimizer's memory got mixed up between parameters. State "
    "kept outside self.state[p] (one buffer for all the parameters, a dict shared by every instance as a class "
    "attribute, or keyed by id(p), which Python reuses for new tensors) hands one parameter another's buffer",
    "keep each parameter's buffers in self.state[p], which belongs to this optimizer and is keyed by the parameter "
    "itself")


# -------------------------------------------------------------------- recognising a wrong optimizer by its run
def _run(wrong, case, like=None, within=TRAJECTORY):
    """The run of ``wrong`` (one of this module's optimizers) on ``case``, as a float64 array. With ``like``, a run
    to compare it with (and ``within``, the tolerance): an empty array as soon as a step leaves ``like``'s, as
    np.allclose sees it. A mistake's run mostly leaves the learner's within its first steps, so it is driven no
    further; a run that matches all the way, or one already kept, is the full run (30 to 50 steps)."""
    leaves = None if like is None or np.ndim(like) != 2 else lambda t, row: t >= len(like) or \
        row.shape != like[t].shape or not np.allclose(like[t], row, rtol=within.rtol, atol=within.atol)
    run = drive_optimizer(wrong, copy.deepcopy(case.args), dict(case.kwargs), leaves)
    return np.empty(0) if run is None else np.asarray(run)


def runs_like(*wrongs, only=None):
    """A mistake's match: the run is one of ``wrongs``' (mistakes that some cases cannot tell apart), within the
    case's judging tolerance (float64 cases at float64's precision); ``only(setup)``: the cases where it can show."""
    def match(got, expected, case):
        if only is not None and not only(case.args[0]):
            return False
        got, within = np.asarray(got), _within(case)
        return any(other.shape == got.shape and np.allclose(got, other, rtol=within.rtol, atol=within.atol)
                   for other in (_run(wrong, case, got, within) for wrong in wrongs))
    return match


def _matches_after_resume(*wrongs):
    """A mistake's match: the run is the reference's up to the resume step and one of ``wrongs``' after it."""
    def match(got, expected, case):
        setup = case.args[0]
        got, expected = np.asarray(got), np.asarray(expected)
        if setup.resume_at is None or got.shape != expected.shape:
            return False
        head, close = slice(0, setup.resume_at), dict(rtol=TRAJECTORY.rtol, atol=TRAJECTORY.atol)
        if not np.allclose(got[head], expected[head], **close) or np.allclose(got, expected, **close):
            return False
        return any(other.shape == got.shape and np.allclose(got, other, **close)
                   for other in (_run(wrong, case, got) for wrong in wrongs))
    return match


def _deviates_like(*wrongs, float32=None):
    """A mistake's match: the run leaves the reference's the way one of ``wrongs``' does (on a float64 case; on a
    float32 case the way ``float32``'s does, when given), up to a positive factor: the same mistake with a
    constant of another size (a small constant's effect is proportional to it)."""
    def match(got, expected, case):
        runs = wrongs if _float64_case(case) else () if float32 is None else (float32,)
        got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if not runs or got.shape != expected.shape or not np.all(np.isfinite(got)):
            return False
        off = (got - expected).ravel()
        for other in (_run(wrong, case).astype(np.float64) for wrong in runs):
            way = (other - expected).ravel() if other.shape == got.shape else np.zeros(1)
            k = off @ way / (way @ way) if way.any() else 0.0
            if k > 0 and np.linalg.norm(off - k * way) <= 0.1 * np.linalg.norm(off):
                return True
        return False
    return match


def _never_moved(got, expected, case):
    """The parameters are where they started after every step (the update rebinds a local name, or writes a
    copy)."""
    got = np.asarray(got)
    if got.ndim != 2 or not np.isfinite(got).all() or not case.args:
        return False
    return np.allclose(got, np.concatenate([s.ravel() for s in case.args[0].starts])[None, :], rtol=0, atol=1e-7)


NEVER_MOVED = recognised(
    _never_moved,
    "your parameters never moved: every row of the trajectory equals the start. The update must change the parameter "
    "ITSELF (in place), which the model holds; p = p - ... only makes a new tensor and rebinds your local name. (If it "
    "does, what it subtracts stays 0: an average never stored back, as m.lerp(...) or m.clone().lerp_(...) make a new "
    "tensor and self.state keeps its zeros)",
    "write the new numbers into p with an in-place op (p -= ..., or p.sub_(...)), and store each average you update")


def _state_mistake(*outside_classes):
    return recognised(
        _matches_after_resume(*outside_classes),
        "your optimizer's memory is not in self.state: the run went right until it was saved with state_dict() and "
        "resumed in a new optimizer, and went wrong after. state_dict() and load_state_dict() only carry self.state[p] "
        "(and the param_groups), so a buffer kept anywhere else is lost on resume",
        "keep each parameter's buffers and step count in the dict self.state[p] (it starts empty for every parameter)")


def _group_mistake(variant, options):
    """The constructor's values used instead of the group's: all of them, or any one of ``options``."""
    return recognised(
        runs_like(variant("defaults"), *(variant(f"defaults:{option}") for option in options),
                  only=lambda setup: setup.groups is not None),
        "this case has two parameter groups, each with its own hyperparameters (e.g. no weight decay for the bias): "
        "your update used the constructor's values for some of them. Each parameter must be moved with the "
        "hyperparameters of ITS group, every one of them",
        "read lr, momentum, dampening, nesterov, betas, eps, weight_decay ... from the `group` argument of _update, "
        "not from self.defaults or attributes saved in __init__")


def _first_lr_mistake(first_lr_class):
    """Every group moved with the first group's lr (the groups' other options right)."""
    return recognised(
        runs_like(first_lr_class, only=lambda setup: setup.groups is not None
                  and len({hyper.get("lr") for _, hyper in setup.groups}) >= 2),
        "one lr for all groups: your update moved every parameter with the FIRST group's lr. Each param group carries "
        "its own lr (a smaller one for a pretrained body, say), and _update is handed the group of the parameter it "
        "moves",
        "take the lr from the `group` argument, like the other hyperparameters")


class _Variant(optim.Optimizer):
    """An optimizer with one term changed (``how``; None is right), for the mistakes. What SGD's and Adam's share:
    the constructor's values read instead of the group's ("defaults", or "defaults:<option>" for one option), one
    lr for every group, the first group's ("first_lr"), state kept outside self.state ("outside"), and a count of
    the optimizer's updates, all parameters together (``count``). Its defaults are those of its ``reference``."""
    how = reference = None

    def __init__(self, params, **given):
        defaults = inspect.signature(self.reference).parameters.values()
        super().__init__(params, {**{p.name: p.default for p in defaults if p.name != "params"}, **given})
        self.outside, self.count = {}, 0

    def _hyper(self, group):
        """(the hyperparameters this update reads, its lr)."""
        how = self.how or ""
        hyper = self.defaults if how == "defaults" else group
        if how.startswith("defaults:"):
            hyper = {**group, how[len("defaults:"):]: self.defaults[how[len("defaults:"):]]}
        return hyper, float((self.param_groups[0] if how == "first_lr" else hyper)["lr"])

    def _state(self, p):
        return self.outside.setdefault(id(p), {}) if self.how == "outside" else self.state[p]


# -------------------------------------------------------------------- 04.MySGD
def sgd_reference(params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """The library's SGD (PyTorch's formulas, see optim/sgd.py):
    g = grad + weight_decay * p; b_1 = g, b_t = momentum b_{t-1} + (1 - dampening) g;
    g = g + momentum b_t (Nesterov) or b_t; p -= lr g."""
    return optim.SGD(params, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                     weight_decay=weight_decay)


class SGDVariant(_Variant):
    """SGD with one term changed (``how``), for the mistakes."""
    reference = staticmethod(sgd_reference)

    def _update(self, p, group):
        how = self.how
        self.count += 1
        hyper, lr = self._hyper(group)
        mu, tau, wd = (float(hyper[k]) for k in ("momentum", "dampening", "weight_decay"))
        g = p.grad.clone()
        decays = wd and not (how == "decay_in_momentum" and not mu)
        if decays and how != "decoupled":
            g = g + wd * p
        if decays and how == "decoupled":
            p.mul_(1 - lr * wd)
        if mu:
            state = self._state(p)
            old = state.get("momentum_buffer")
            step = lr * g if how == "velocity" else g  # the velocity form keeps lr * g in the buffer
            if old is None:
                first = how != "zero_start" and not (how == "shared_first" and self.count > 1)
                buf = step.clone() if first else (1 - tau) * step
                if how == "alias" and not wd:
                    buf = p.grad
                if how == "ema":
                    buf = (1 - mu) * g
            elif how in ("ema", "ema_first_raw"):  # (ema_first_raw: the first buffer g itself, then the average)
                buf = mu * old + (1 - mu) * g
            elif how == "frozen":  # the new buffer computed into a local name, never stored: b_1 forever
                buf = old
            elif how == "damp_times":  # dampening as the gradient's weight, not (1 - dampening)
                buf = mu * old + tau * g
            else:
                buf = mu * old + (1 - tau) * step
            state["momentum_buffer"] = buf
            if hyper["nesterov"] and how != "no_nesterov":
                look = p.grad if how == "nesterov_raw" else g
                weight = 1.0 if how == "nesterov_unscaled" else mu  # (unscaled: g + b, the momentum left out)
                g = look + weight * (old if how == "old_buffer" and old is not None else buf)
                if how == "nesterov_swapped":  # b + momentum g instead of g + momentum b
                    g = buf + mu * look
                if how == "velocity":
                    g = lr * look + mu * buf
            else:
                g = buf
        if how == "velocity" and mu:
            p.sub_(g)
            return
        if how == "scale_in_place":  # g.mul_(lr): with momentum g IS the stored buffer, which shrinks by lr
            p.sub_(g.mul_(lr))
            return
        p.add_(g, alpha=lr if how == "ascent" else -lr)


# one class per wrong version, whoever asks for it (a match made at judging time too), so that _RUNS finds its runs
_VARIANTS = {}


def _sgd(how):
    return _VARIANTS.setdefault(f"SGD_{how}", type(f"SGD_{how}", (SGDVariant,), {"how": how}))


RESUMED = "saved with state_dict() after 25 steps and resumed in a new optimizer over new tensors"


def _shortened(cases, keep=()):
    """The hidden cases run HIDDEN_STEPS steps, or 10 past their last event (a resume, an lr change) when that is
    later; the example, and the cases named in ``keep`` (their mistake shows late), run the full STEPS."""
    for case in cases:
        setup = case.args[0]
        if not case.visible and case.label not in keep:
            events = [*setup.schedule, *([setup.resume_at] if setup.resume_at else [])]
            setup.steps = min(STEPS, max([HIDDEN_STEPS, *(t + 10 for t in events)]))
    return cases


def _on(setup, label="", visible=False, **kwargs):
    """A Case of one set-up (an optimizer's ``kwargs``: what it is built with)."""
    return Case((setup,), label, kwargs, visible)


def _sgd_cases(rng):
    r = regression_setup
    every_option = [([0], {"lr": 0.05, "momentum": 0.9, "dampening": 0.2, "weight_decay": 1.0}),
                    ([1, 2], {"lr": 0.2, "momentum": 0.6, "nesterov": True, "weight_decay": 0.0})]
    return _shortened([
        _on(Setup("the ill-conditioned bowl L = (x^2 + 20 y^2) / 2 from (-2, 1)", [[-2.0, 1.0]], ILL), visible=True,
            lr=0.04, momentum=0.9),
        _on(r("linear regression, plain SGD", 1), "plain SGD, lr 0.1", lr=0.1),
        _on(r("linear regression", 2), "momentum 0.9 with dampening 0.5", lr=0.05, momentum=0.9, dampening=0.5),
        _on(Setup("the ill-conditioned bowl from (1.5, -1)", [[1.5, -1.0]], ILL), "Nesterov momentum 0.8", lr=0.04,
            momentum=0.8, nesterov=True),
        _on(r("linear regression", 3), "weight decay 0.1 with momentum 0.9", lr=0.05, momentum=0.9, weight_decay=0.1),
        _on(r("linear regression", 7), "weight decay 0.3 without momentum", lr=0.1, weight_decay=0.3),
        _on(r("linear regression", 8), "Nesterov momentum 0.9 with weight decay 0.2", lr=0.03, momentum=0.9,
            nesterov=True, weight_decay=0.2),
        _on(r("linear regression: the weight in one group (lr 0.05, weight decay 0.1), the bias and an unused "
              "parameter in another (lr 0.2, no decay)", 4, groups=[([0], {"lr": 0.05, "weight_decay": 0.1}),
                                                                     ([1, 2], {"lr": 0.2, "weight_decay": 0.0})],
              unused=True), "two parameter groups", lr=0.01, momentum=0.5, weight_decay=0.01),
        _on(r("linear regression: two groups, each with its own lr, momentum, dampening, Nesterov and weight decay "
              "(1.0 in the first, none by default)", 9, groups=every_option, unused=True),
            "two parameter groups that set every option", lr=0.01, momentum=0.3),
        _on(r("linear regression with momentum 1: the buffer is the sum of every gradient so far", 11),
            "momentum 1.0", lr=0.002, momentum=1.0),
        _on(r("linear regression; dampening without momentum (there is no buffer to dampen)", 12),
            "dampening 0.5 without momentum", lr=0.1, dampening=0.5),
        _on(r(f"linear regression, {RESUMED}", 5, resume_at=25, set_to_none=False),
            "resumed from state_dict(), Nesterov", lr=0.03, momentum=0.9, nesterov=True),
        _on(r("linear regression; the lr is multiplied by 0.2 before step 15 and by 5 before step 30, as a scheduler "
              "would", 10, schedule={15: 0.2, 30: 5.0}),
            "the lr changes during the run", lr=0.08, momentum=0.9, dampening=0.1),
        _on(Setup("Rosenbrock's valley from (-1, 1.5)", [[-1.0, 1.5]], rosenbrock), "Rosenbrock", lr=5e-4,
            momentum=0.9, dampening=0.1),
        _on(r("linear regression; zero_grad(set_to_none=False) fills the gradients with zeros, in place", 6,
              set_to_none=False), "gradients zeroed in place", lr=0.05, momentum=0.9),
        _on(Setup("a steep bowl L = w^2 where plain SGD at lr 0.9 overshoots every step", [[1.0]],
                  quadratic([2.0], [0.0])), "an oscillating gradient", lr=0.9, momentum=0.5),
        _on(r("linear regression in float64: the parameters, their gradients and the momentum buffer are float64, and "
              "the run is compared at float64's precision", 13, dtype="float64"),
            "float64 parameters", lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    ])


driven(
    "04.MySGD", sgd_reference, _sgd_cases, drive_optimizer, compare=compare_trajectory, match=TRAJECTORY,
    answer=OPTIMIZER, check_inputs=False, points=3,  # (an optimizer's point is to change the parameters)
    error_hints=[LEAF_IN_PLACE, REBOUND, SHARED_STATE],
    forbid=(optim.SGD, "torch.optim.SGD"),  # nor handed to PyTorch's
    # the text's building blocks (issue 32): tensor arithmetic (in place or not, clone, zeros_like); any other
    # optimizer, functional optimizer (torch.optim.sgd.sgd) or library function is refused
    allow=("arithmetic",),
    mistakes=[
        NEVER_MOVED, PARAMETER_MADE_FLOAT64, BUFFER_MADE_FLOAT64,
        Mistake(_sgd("zero_start"), "the momentum buffer must start as the first gradient itself: b_1 = g_1, not "
                "dampened. Starting from a buffer of zeros and applying the general rule gives b_1 = (1 - dampening) "
                "g_1, a first step that is too short (PyTorch's rule, and ours)",
                "section 5's rule for b_t has two branches: find the one for a parameter's first step (when "
                "self.state[p] holds no buffer yet) and what it does with dampening"),
        Mistake(_sgd("shared_first"), "the momentum buffer starts as the first gradient itself, b_1 = g_1, for EVERY "
                "parameter: your first parameter's buffer started so, the others' were dampened, (1 - dampening) g_1. "
                "The test for 'first step' counts the optimizer's updates together (a counter on self), so it is true "
                "only once, for the first parameter. The first step is per parameter: self.state[p] has no buffer yet",
                "decide from self.state[p] (no buffer there yet, or a step count kept in it), not from a counter "
                "shared by every parameter"),
        Mistake(_sgd("alias"), "your momentum buffer IS p.grad (the same tensor), not a copy of it: "
                "zero_grad(set_to_none=False) fills p.grad with zeros in place, and your buffer with it, and "
                "backward() then adds into it",
                "store a copy of the gradient as the first buffer (clone), never the tensor p.grad itself"),
        recognised(runs_like(_sgd("ema"), _sgd("ema_first_raw")), "the buffer is a running SUM, b = momentum b + (1 "
                   "- dampening) g, not an average with weights momentum and (1 - momentum) (about PyTorch's SGD "
                   "with dampening = momentum, where the default dampening is 0): with momentum 0.9 your steps end "
                   "up 10 times too short",
                   "the new gradient's weight is (1 - dampening), taken from the group, not (1 - momentum)"),
        Mistake(_sgd("scale_in_place"), "your step scaled the momentum buffer itself: with momentum, g is the "
                "tensor stored in state['momentum_buffer'], so an in-place g.mul_(lr) (or g *= lr) multiplies the "
                "buffer by lr, and every later step builds on that shrunken memory",
                "compute the step as a new tensor, lr * g (or p.add_(g, alpha=-lr)), and leave the buffer as it is"),
        Mistake(_sgd("old_buffer"), "Nesterov looks ahead with the NEW buffer: first update b with this step's "
                "gradient, then step along g + momentum b",
                "compute the updated buffer before you build Nesterov's g + momentum b"),
        Mistake(_sgd("decoupled"), "SGD's weight_decay is the gradient of the L2 penalty (weight_decay / 2) |p|^2: it "
                "is added to the gradient, g = grad + weight_decay p, BEFORE momentum, so it goes into the buffer. You "
                "shrank the weights directly (AdamW's decoupled decay), which is not the same once there is momentum",
                "the decay term joins the gradient before the momentum buffer sees it"),
        Mistake(_sgd("ascent"), "the parameters climbed: a step goes AGAINST the gradient, which points uphill", "the "
                "update subtracts lr times the step direction"),
        Mistake(_sgd("velocity"), "your buffer holds steps (lr times gradients), not gradients: b = momentum b + lr g, "
                "then p -= b. That gives PyTorch's steps only while the lr never changes. When a scheduler changes the "
                "lr mid-run (this case), your buffer still carries the old lr for many steps. The buffer sums "
                "gradients, and the lr multiplies the step at the end",
                "keep b = momentum b + (1 - dampening) g in the buffer, and subtract lr times it (or, Nesterov, lr "
                "times g + momentum b)"),
        Mistake(_sgd("decay_in_momentum"), "weight decay is part of the gradient whether or not there is momentum: "
                "with momentum 0 the step is lr (grad + weight_decay p). Yours decays only when momentum is on",
                "add the decay term to g before the momentum branch, not inside it"),
        Mistake(_sgd("nesterov_raw"), "Nesterov's step is g + momentum b with the same g that went into the buffer, "
                "weight decay included: yours looks ahead with the bare p.grad",
                "use one g (gradient plus decay) for the buffer and for the look-ahead"),
        _state_mistake(_sgd("outside")),
        _group_mistake(_sgd, ("lr", "momentum", "dampening", "nesterov", "weight_decay")),
        _first_lr_mistake(_sgd("first_lr")),
        Mistake(_sgd("frozen"), "your momentum buffer never changed after step 1: it stayed b_1 = g_1 while the steps "
                "went on. The new buffer must be STORED in state[\"momentum_buffer\"]: a local name (b = momentum * "
                "... + ...) is lost when _update returns, and the given line after part 2 reads the stored buffer",
                "assign the new buffer to state[\"momentum_buffer\"], not to a local name"),
        Mistake(_sgd("damp_times"), "no gradient enters your stored buffer after step 1: the new gradient goes in "
                "with the weight (1 - dampening), b = momentum b + (1 - dampening) g. Either yours weighs it by "
                "dampening itself (0 by default), or the new buffer went into a local name after the stored one "
                "was scaled in place (b.mul_(momentum)), so that the stored buffer only shrinks",
                "the gradient's weight in the buffer is one minus dampening, and the new buffer is what "
                "state['momentum_buffer'] must hold"),
        Mistake(_sgd("nesterov_unscaled"), "Nesterov's direction is g + momentum b: the new buffer, scaled by the "
                "momentum, added to the gradient. Yours adds the buffer unscaled, g + b, which weighs it too much",
                "multiply the buffer by momentum before you add it to g"),
        Mistake(_sgd("nesterov_swapped"), "Nesterov's direction is g + momentum b, the gradient plus the NEW buffer "
                "once more; yours is b + momentum g, with the roles of g and b swapped",
                "multiply the buffer by momentum, and add the gradient as it is"),
        # last: a nesterov read from the defaults in a case with groups gets the groups' hint
        Mistake(_sgd("no_nesterov"), "this case asks for Nesterov momentum, and your steps are those of plain momentum "
                "(nesterov=False). Either the nesterov option is not used, or the look-ahead takes the buffer from "
                "BEFORE this step's update, starting from zeros: g + momentum b_(t-1) is exactly the new "
                "plain-momentum buffer b_t when dampening is 0. Nesterov first updates the buffer, then steps along g "
                "+ momentum b_t, with the NEW buffer",
                "read nesterov from the group, and build the look-ahead from the updated buffer"),
    ],
)


# -------------------------------------------------------------------- 04.MyAdam and 04.MyAdamW
def adam_reference(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """The library's Adam (optim/adam.py): L2 weight decay added to the gradient, bias-corrected moments."""
    return optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def adamw_reference(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """The library's AdamW (optim/adamw.py): p <- p (1 - lr weight_decay), then Adam's step on the plain gradient."""
    return optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


class AdamVariant(_Variant):
    """Adam (``decoupled`` False) or AdamW (True) with one term changed (``how``), for the mistakes."""
    decoupled = False

    def _update(self, p, group):
        how = self.how
        hyper, lr = self._hyper(group)
        eps, wd = float(hyper["eps"]), float(hyper["weight_decay"])
        b1, b2 = (float(b) for b in hyper["betas"])
        if how == "swapped_betas":  # m averaged with beta2, v with beta1
            b1, b2 = b2, b1
        g = p.grad.clone()
        decoupled = self.decoupled != (how == "swap_decay")
        if wd and decoupled and how == "subtract_decay":  # p -= lr * weight_decay: a shift, not a shrink
            p.sub_(lr * wd)
        elif wd and decoupled and how == "exp_decay":  # the continuous-time factor exp(-lr wd) ~ 1 - lr wd
            p.mul_(math.exp(-lr * wd))
        elif wd and decoupled and how not in ("decay_after", "no_decay"):
            decay_lr = {"unscaled_decay": 1.0, "decay_lr_const": 1e-3,
                        "decay_lr_defaults": float(self.defaults["lr"])}.get(how, lr)
            p.mul_(1 - decay_lr * wd)
        # (both_decays: MyAdam's L2 line left after the shrink; decay_on_grad: wd * p.grad where wd * p was meant)
        if wd and (not decoupled or how == "both_decays") and how != "no_decay":
            g = g + wd * (g if how == "decay_on_grad" else p)
        state = self._state(p)
        if not state:
            state["step"], state["m"], state["v"] = 0, 0 * g, 0 * g
        state["step"] += 1
        self.count += 1
        if how == "group_step" and p is group["params"][0]:  # one count per group, advanced by its first parameter
            group["t"] = group.get("t", 0) + 1
        if how == "step_outside":  # m and v in self.state[p], the count in a dict of the optimizer's own
            self.outside[id(p)] = self.outside.get(id(p), 0) + 1
        t = {"no_step": 1, "global_step": self.count, "group_step": group.get("t"),
             "step_late": state["step"] - 1, "step_outside": self.outside.get(id(p)),
             "step_ahead": state["step"] + 1, "step_behind": state["step"] - 1,  # (step_behind: none at t = 0)
             "step_behind_max": max(state["step"] - 1, 1),
             "step_float32": tensor(float(state["step"]))}.get(how, state["step"])  # a float32 0-d tensor
        m = b1 * state["m"] + (1 - b1) * g
        v = b2 * state["v"] + (1 - b2) * (g if how == "unsquared" else g * g)
        if how not in ("unstored", "unstored_m"):  # (unstored: a local name, the stored average stays 0)
            state["m"] = m
        if how not in ("unstored", "unstored_v"):
            state["v"] = v
        skip = how == "step_behind" and t == 0  # a correction guarded against t = 0: none at the first step
        m_hat = m if skip or how in ("no_correction", "no_m_correction") else m / (1 - b1 ** t)
        v_hat = v if skip or how in ("no_correction", "no_v_correction") else v / (1 - b2 ** t)
        if how in ("div_inplace", "div_inplace_m"):  # m.div_(1 - beta1 ** t): the stored m becomes m_hat
            state["m"] = m_hat
        if how in ("div_inplace", "div_inplace_v"):
            state["v"] = v_hat
        eps = {"no_eps": 0.0, "fixed_eps:1e-8": 1e-8, "fixed_eps:1e-6": 1e-6}.get(how, eps)  # (eps left out, or
        denom = (v_hat + eps).sqrt() if how == "eps_inside" else v_hat.sqrt() + eps         # a fixed one)
        if how == "eps_uncorrected":  # eps added to sqrt(v), before the correction (the paper's "efficient" form)
            m_hat = m_hat * (1 - b2 ** t) ** 0.5
            denom = v.sqrt() + eps
        if how and how.startswith(("clamp:", "floor:")):  # a "stability" floor: a clamp, or a constant added
            floor = float(how.split(":")[1])
            denom = (v_hat.clamp(min=floor) if how.startswith("clamp") else v_hat + floor).sqrt() + eps
        if how and how.startswith("plus:"):  # a second small constant, added after the square root
            denom = v_hat.sqrt() + eps + float(how.split(":")[1])
        if how == "eps_floor":  # eps as a floor under sqrt(v_hat), not added to it
            denom = v_hat.sqrt().clamp(min=eps)
        p.sub_(lr * m_hat / denom)
        if wd and decoupled and how == "decay_after":
            p.mul_(1 - lr * wd)


def _adam(how, decoupled=False):
    name, reference = f"{'AdamW' if decoupled else 'Adam'}_{how}", adamw_reference if decoupled else adam_reference
    return _VARIANTS.setdefault(name, type(name, (AdamVariant,), {"how": how, "decoupled": decoupled,
                                                                  "reference": staticmethod(reference)}))


def _adam_cases(rng, decoupled=False):
    r = regression_setup
    wd = {"weight_decay": 0.1} if decoupled else {}
    every_option = [([0], {"lr": 0.05, "betas": (0.8, 0.99), "eps": 0.05, "weight_decay": 1.0}),
                    ([1, 2], {"lr": 0.1, "betas": (0.95, 0.9), "weight_decay": 0.3})]
    return _shortened([
        _on(Setup("the ill-conditioned bowl L = (x^2 + 20 y^2) / 2 from (-2, 1)", [[-2.0, 1.0]], ILL), visible=True,
            lr=0.1),
        _on(r("linear regression", 11), "lr 0.01", lr=0.01, **wd),
        _on(r("linear regression", 12), "betas (0.8, 0.95)", lr=0.02, betas=(0.8, 0.95), **wd),
        _on(r("linear regression", 13), "a large eps, 0.1", lr=0.05, eps=0.1),
        _on(r("linear regression", 14), "weight decay 0.5", lr=0.05, weight_decay=0.5),
        _on(r("linear regression: the weight in one group (lr 0.05, weight decay 0.2), the bias and an unused "
              "parameter in another (lr 0.1, no decay)", 15, groups=[([0], {"lr": 0.05, "weight_decay": 0.2}),
                                                                     ([1, 2], {"lr": 0.1, "weight_decay": 0.0})],
              unused=True), "two parameter groups", lr=0.01, weight_decay=0.01),
        _on(r("linear regression: two groups, each with its own lr, betas, eps and weight decay (1.0 and 0.3; the "
              "second group's eps is the constructor's default)", 18, groups=every_option, unused=True),
            "two parameter groups that set every option", lr=0.01),
        _on(r(f"linear regression, {RESUMED}", 16, resume_at=25, set_to_none=False), "resumed from state_dict()",
            lr=0.03, **wd),
        _on(r("linear regression; the lr is multiplied by 0.1 before step 20 and by 4 before step 35, as a scheduler "
              "would", 19, schedule={20: 0.1, 35: 4.0}), "the lr changes during the run", lr=0.05, **wd),
        _on(Setup("Rosenbrock's valley from (-1, 1.5)", [[-1.0, 1.5]], rosenbrock), "Rosenbrock", lr=0.05,
            betas=(0.9, 0.99), **wd),
        _on(Setup("a nearly flat bowl L = (1e-5 x^2 + 1e-7 y^2) / 2 from (1, 1): gradients of about 1e-5 and 1e-7",
                  [[1.0, 1.0]], quadratic([1e-5, 1e-7])), "tiny gradients", lr=0.01, **wd),
        *([_on(r("linear regression", 17), "a large weight decay, 2.0, at lr 0.02", lr=0.02, weight_decay=2.0)]
          if decoupled else []),
        _on(r("linear regression in float64: the parameters, their gradients, m and v are float64, and the run is "
              "compared at float64's precision", 20, dtype="float64"), "float64 parameters", lr=0.05,
            weight_decay=0.1),  # (0.1 has no exact float32: a decay that goes through float32 shows)
        _on(Setup("the nearly flat bowl L = (3e-7 x^2 + 1e-7 y^2) / 2 from (1, 1) in float64, compared at float64's "
                  "precision: sqrt(v_hat) is about 3e-7 and 1e-7, so any constant besides eps in the denominator "
                  "shows", [[1.0, 1.0]], quadratic([3e-7, 1e-7]), dtype="float64"),
            "tiny gradients in float64", lr=0.01, **wd),
        _on(Setup("a flatter bowl L = (1e-9 x^2 + 3e-10 y^2) / 2 from (1, 1): gradients of about 1e-9 and 3e-10, below "
                  "eps = 1e-8, where even a floor at eps under sqrt(v_hat) shows", [[1.0, 1.0]],
                  quadratic([1e-9, 3e-10])), "gradients below eps", lr=0.1, **wd),
        # a parameter that step() skips on some steps: its own count falls behind a count kept per group or optimizer
        _on(r("linear regression; the bias gets no gradient on every second step (its .grad is None, as for a branch "
              "of a model that some batches do not use), so step() skips it then and its step count falls behind the "
              "weight's", 21, skip=1), "a parameter without a gradient on some steps", lr=0.05, **wd),
        # (the groups that set every option: within 30 steps, eps read from the defaults and eps as a floor coincide)
    ], keep=("two parameter groups that set every option",))


HALF_CORRECTION = (
    "both averages need their own bias correction: m by (1 - beta1^t) and v by (1 - beta2^t); yours corrects only one "
    "of them",
    "correct m with beta1 and v with beta2, both with the same t")
STEP_COUNT = (
    "the bias correction needs t, the number of steps THIS parameter has taken (1 at its first step): yours is stuck, "
    "or counts every parameter's updates together",
    "keep the count in self.state[p] and add 1 to it at the start of each _update")
# the step count off by one in the bias correction (1 - beta^t), t = 1 at a parameter's first step
STEP_AHEAD = (
    "the step count in your bias correction is one ahead: t is 1 at a parameter's first step, so the first "
    "correction divides m by 1 - beta1 and v by 1 - beta2. Yours used t + 1 there (1 added to a count that had "
    "already advanced), which corrects too little: your first steps are too short",
    "advance the count once per step, then use the count itself in 1 - beta1^t and 1 - beta2^t, with nothing added")
STEP_BEHIND = (
    "the step count in your bias correction is one behind: t is 1 at a parameter's first step and 2 at its second, "
    "and yours used the count from before this step (t - 1, or a count not advanced yet), with the 0 of the first "
    "step skipped or raised to 1. From then on it divides by 1 - beta^(t - 1), which corrects too much",
    "advance the count first, then use that count itself in 1 - beta1^t and 1 - beta2^t: no - 1, and no guard "
    "for t = 0 (the count is never 0 by then)")
INHERITED = " (in MyAdam._adam_step, which MyAdamW inherits: fix it there, then run MyAdam's cell and this one again)"
ADD_EPS_ONCE = "the denominator is sqrt(v_hat) + eps, with nothing else in it"


def _adam_mistakes(decoupled):
    def adam(how):
        return _adam(how, decoupled)

    def part(wrong, hint, more):  # a mistake of MyAdam's part (a wrong class, or a match): MyAdamW's says where
        hint += INHERITED if decoupled else ""
        return Mistake(wrong, hint, more) if isinstance(wrong, type) else recognised(wrong, hint, more)

    if decoupled:
        decay_rows = [
            recognised(
                runs_like(adam("swap_decay"), adam("no_decay")),
                "AdamW decays the WEIGHTS, not the gradient: p <- p (1 - lr weight_decay), before the Adam step, and "
                "the gradient goes into m and v untouched. Your run is that of Adam with weight_decay p added to the "
                "gradient (Adam's L2, which the division by sqrt(v_hat) all but cancels at 1e-2), or with no decay at "
                "all (a decay for matrices only, p.ndim > 1, is none for this example's one parameter). Check both: "
                "the default weight_decay in your __init__ is 1e-2 (as in PyTorch's AdamW), and every p itself shrinks "
                "(biases are kept out of the decay by param groups, not in _update)",
                "section 5's formula for AdamW has two moves: the weights themselves shrink, then Adam's step runs on "
                "the plain gradient. Check which of the two your _update does"),
            Mistake(adam("subtract_decay"), "AdamW's decay MULTIPLIES each weight by (1 - lr weight_decay), a pull "
                    "towards 0 in proportion to the weight; you subtracted lr * weight_decay from every weight, the "
                    "same shift for all, whatever their sign and size",
                    "scale p by the factor with an in-place multiplication, instead of subtracting from it"),
            recognised(
                runs_like(adam("decay_lr_const"), adam("decay_lr_defaults")),
                "the decay's factor is 1 - lr weight_decay with the lr and the weight_decay of the parameter's "
                "GROUP, as they are at this step: yours used a fixed number in it (an lr of 1e-3 or the "
                "constructor's lr, or a weight decay of 1e-2, AdamW's default: the product is the same here), which "
                "is wrong as soon as a call, a group or a scheduler sets another",
                "read the decay's lr and weight_decay from the `group` argument, like the step's"),
            Mistake(adam("unscaled_decay"), "the decoupled decay is scaled by the learning rate: p <- p (1 - lr "
                    "weight_decay). p <- p (1 - weight_decay) shrinks every weight by 1% per step at weight_decay "
                    "0.01, whatever the lr",
                    "the factor is 1 - lr * weight_decay, with lr and weight_decay from the group"),
            Mistake(adam("decay_after"), "AdamW's decay comes FIRST: the weights are shrunk by (1 - lr weight_decay), "
                    "and then Adam's step is taken from the shrunk weights. You shrank them after the step, so the "
                    "decay also shrank this step's update (PyTorch's AdamW, and ours, decay first)",
                    "section 5's formula for AdamW gives the order of its two moves: which weights Adam's step starts "
                    "from"),
            Mistake(adam("both_decays"), "AdamW's decay REPLACES Adam's L2 term: m and v see the plain gradient. Yours "
                    "shrinks the weights and also still adds weight_decay p to the gradient (left from MyAdam), so the "
                    "weights are decayed twice",
                    "in AdamW, g is p.grad as it is; the only decay is the shrinking of p"),
        ]
    else:
        decay_rows = [
            recognised(
                runs_like(adam("no_decay"), adam("decay_on_grad")),
                "your run is Adam's without weight decay: the decay term is missing, or never reaches the step (an "
                "_adam_step that reads p.grad instead of its g), or it is made from the gradient (grad + "
                "weight_decay grad only scales g, and Adam's division by sqrt(v_hat) cancels the scale). The L2 "
                "penalty's gradient is weight_decay times the PARAMETER, added to the gradient",
                "make the decay term from p itself, not from p.grad, and add it before m and v see the gradient"),
            Mistake(adam("swap_decay"),
                    "Adam's weight_decay is the L2 penalty's gradient: it is added to the gradient, g = grad + "
                    "weight_decay p, and goes through m and v. You shrank the weights directly, which is AdamW's "
                    "decoupled decay (the next exercise)",
                    "in Adam the decay term joins the gradient before m and v see it; p itself is not shrunk"),
        ]
    floors = [adam(f"{kind}:{floor}") for kind in ("clamp", "floor")
              for floor in ("1e-18", "1e-16", "1e-15", "1e-14", "1e-13", "1e-12", "1e-10", "1e-8", "1e-6")]
    after_root = (runs_like(*(adam(f"plus:{c}") for c in ("1e-11", "3e-11", "1e-10", "3e-10", "1e-9", "3e-9", "1e-8",
                                                          "3e-8", "1e-7", "1e-6"))),
                  _deviates_like(adam("plus:1e-13")))
    floor_or_default = (runs_like(adam("eps_floor")), runs_like(adam("defaults:eps"))) if decoupled else ()
    # (before MyAdam's rows: its difference from the right run is small, and some of theirs would match it)
    exp_decay = [Mistake(adam("exp_decay"), "the decay's factor is exactly 1 - lr weight_decay, as in PyTorch's "
                         "AdamW: yours, exp(-lr weight_decay), is close to it but not equal (they differ by about "
                         "(lr weight_decay)^2 / 2 at each step, which this case's precision sees)",
                         "multiply p by (1 - lr * weight_decay) itself")] if decoupled else []
    return [
        NEVER_MOVED, PARAMETER_MADE_FLOAT64, BUFFER_MADE_FLOAT64,
        *exp_decay,
        part(adam("no_correction"), "no bias correction: m and v start at 0, so in the first steps they are far too "
             "small (m_1 = 0.1 g, v_1 = 0.001 g^2), and m / sqrt(v) makes the first step about 3.16 times too large. "
             "Divide each average by (1 - beta^t), t the step count of this parameter",
             "before the step, divide m by one minus beta1 to the power t, and v by one minus beta2 to the power t (t "
             "is 1 at the parameter's first step)"),
        part(adam("no_m_correction"), *HALF_CORRECTION),
        part(adam("no_v_correction"), *HALF_CORRECTION),
        part(adam("no_step"), *STEP_COUNT),
        part(adam("global_step"), *STEP_COUNT),
        part(adam("group_step"), "the bias correction needs t, the number of steps THIS parameter has taken. In this "
             "case one parameter has no gradient on every second step (.grad is None, as for a branch of a model that "
             "some batches do not use): step() skips it then, so its own count must not advance. Yours advanced "
             "anyway: it counts the steps of the parameter group or of the optimizer, not the parameter's own "
             "(PyTorch's Adam keeps a count per parameter)",
             "the count belongs with m and v in the parameter's own state (the text of this exercise says where), and "
             "_update, which step() calls only for a parameter that has a gradient, is where it advances"),
        part(adam("step_late"), "t is 1 at a parameter's first step: the correction divides by 1 - beta^t, which is 0 "
             "when t is 0, so your first step divided by zero (inf or nan). Count this step before you correct",
             "add 1 to the step count first, then use it in the bias correction"),
        part(adam("step_ahead"), *STEP_AHEAD),
        part(runs_like(adam("step_behind"), adam("step_behind_max")), *STEP_BEHIND),
        part(adam("swapped_betas"), "your betas are swapped: beta1 (0.9 by default) belongs to m, the average of "
             "g, and beta2 (0.999) to v, the average of g^2. Yours averages m with beta2 and v with beta1 (with the "
             "defaults, m would remember about 1000 steps and v about 10)",
             "unpack group['betas'] in order, beta1 first, and use beta1 for m and its correction, beta2 for v"),
        part(adam("unsquared"), "v is the running average of the SQUARED gradient, g * g: it measures the gradient's "
             "size whatever its sign. An average of g itself can be negative, and its square root is nan",
             "feed g * g (or g ** 2) into v, and g into m"),
        part(runs_like(adam("unstored"), adam("unstored_m"), adam("unstored_v")), "your averages (m, v, or both) do "
             "not carry over from one step to the next: each step's average is that step's (1 - beta) g (or g^2) "
             "alone, as if the stored one were still 0. The new m and v must be STORED in self.state[p] "
             "(state[\"exp_avg\"], state[\"exp_avg_sq\"]): a local name (m = beta1 * m + ...) is lost when the "
             "step ends",
             "assign the updated averages to state[\"exp_avg\"] and state[\"exp_avg_sq\"], then correct them"),
        part(runs_like(adam("div_inplace"), adam("div_inplace_m"), adam("div_inplace_v")), "the bias correction "
             "changed the stored average: m_hat and v_hat are NEW tensors computed from m and v, and the stored m and "
             "v must stay as they are for the next step. An in-place division of the stored tensor (m.div_(1 - beta1 "
             "** t), m /= ...), or m_hat stored in its place, puts the corrected value in the memory, and every later "
             "step builds on it",
             "compute m_hat and v_hat with a plain division, which makes new tensors (no div_, no /=)"),
        # on a float64 case (at float32's precision the two runs cannot be told apart)
        part(runs_like(adam("step_float32"), only=lambda setup: getattr(setup, "dtype", None) == "float64"), "this "
             "case's parameters are float64, and your bias correction was computed in float32: the step count t is a "
             "float32 tensor (as PyTorch's state['step'] is), so beta ** t and 1 - beta ** t are float32 numbers. At t "
             "= 1, 1 - 0.999 ** t in float32 is 0.000999987 instead of 0.001, off by 1.3e-5 of itself: far more than "
             "float64's rounding. PyTorch's Adam takes the count out as a Python number before it corrects",
             "compute the correction from t as a Python number (a counter that is a Python int, or .item() of the "
             "tensor)"),
        part(adam("eps_inside"), "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps). With the default eps "
             "= 1e-8 the two differ little while the gradients are much larger than sqrt(1e-8) = 1e-4, but this "
             "case has eps = 0.1",
             "take the square root of v_hat first, then add eps"),
        part(adam("eps_uncorrected"), "eps is added to sqrt(v_hat), the CORRECTED average: yours adds it to sqrt(v) "
             "before the correction (the Adam paper's 'efficient' form, lr sqrt(1 - beta2^t) / (1 - beta1^t) m / "
             "(sqrt(v) + eps)), which agrees with PyTorch's step only while eps is negligible; this case (a large eps, "
             "or tiny gradients) shows the difference",
             "correct v first, then take sqrt(v_hat) + eps"),
        part(runs_like(*floors), "tiny gradients: with |g| about 1e-5 or 1e-7, sqrt(v_hat) is about |g| and Adam's "
             "step is still about lr (that is its point: the step does not depend on the gradient's scale). eps makes "
             "it about lr |g| / (|g| + eps), which is far below lr only when |g| nears eps = 1e-8 or falls under it. "
             "Your denominator has a floor, a clamp on v_hat (or on sqrt(v_hat)) or a constant added under the square "
             "root, that is not negligible next to v_hat here, so your steps shrink. Adam's only guard against "
             "division by zero is eps, added once after the square root", ADD_EPS_ONCE),
        part(_deviates_like(adam("floor:1e-20")), "your denominator has a small constant added under the square root "
             "(or a floor on v_hat): sqrt(v_hat + c) differs from sqrt(v_hat) by about c / (2 sqrt(v_hat)), which this "
             "case's precision sees (and which grows when the gradients are tiny). Adam's only guard against division "
             "by zero is eps, added once after the square root", ADD_EPS_ONCE),
        # on a float64 case the way the run leaves the reference's tells a constant after the root from one
        # under it (above); on the float32 "tiny gradients" case the two look alike (review 6)
        part(lambda *run: any(m(*run) for m in after_root), "your denominator has a second small constant added after "
             "the square root, besides eps: it changes each step by about that constant over sqrt(v_hat) + eps, which "
             "this case's precision sees (and which grows when the gradients are tiny, while Adam's step should not "
             "depend on their scale). Adam's only guard against division by zero is eps, added once after the square "
             "root", ADD_EPS_ONCE),
        part(_deviates_like(float32=adam("plus:1e-10")), "your denominator has a second small constant besides eps, "
             "added after the square root (sqrt(v_hat) + eps + c) or under it (sqrt(v_hat + c), or a clamp on v_hat): "
             "with this case's tiny gradients both shrink the steps the same way, so it cannot tell which. Adam's step "
             "should not depend on the gradients' scale, and its only guard against division by zero is eps, added "
             "once after the square root", ADD_EPS_ONCE),
        # on AdamW's case 7 the two runs agree (on Adam's cases they never do): say both
        *([recognised(
            lambda *run: all(m(*run) for m in floor_or_default),
            "eps: on this case your run is the one of two mistakes, which agree here: eps used as a floor under "
            "sqrt(v_hat) (the larger of the two, where Adam adds them), or the constructor's eps read where this case "
            "(or this parameter group) sets another; each parameter must be moved with the hyperparameters of ITS "
            "group. The denominator is sqrt(v_hat) + eps, with eps from the `group` argument",
            "add to the square root of v_hat the eps of the parameter's own group (the `group` argument), with no max "
            "and no clamp")] if decoupled else []),
        # (a missing or fixed eps gives eps-as-a-floor's numbers on the cases where eps shows: one hint names both;
        # where the constructor's eps gives them too, the group row's hint, below, says more)
        part(lambda *run: runs_like(adam("eps_floor"), adam("no_eps"), adam("fixed_eps:1e-8"),
                                    adam("fixed_eps:1e-6"))(*run) and not runs_like(adam("defaults:eps"))(*run),
             "eps is ADDED to sqrt(v_hat), not used as a floor under it, and it is the group's: on this case your "
             "numbers are those of a denominator without eps, with a fixed one (1e-8, say), or with eps as a floor "
             "(the larger of sqrt(v_hat) and eps: a max or a clamp), which agree here",
             "the denominator is sqrt(v_hat) + group['eps']: no max, no clamp, no eps of your own"),
        *decay_rows,
        _state_mistake(adam("outside"), adam("step_outside")),
        _group_mistake(adam, ("lr", "betas", "eps", "weight_decay")),
        _first_lr_mistake(adam("first_lr")),
    ]


ADAM_UNWRITTEN = (
    "MyAdamW inherits _adam_step from your MyAdam, and there it still raises NotImplementedError (the stub it came "
    "with): finish 04.MyAdam, then run both cells again (MyAdam's first: a class keeps the base class it was made "
    "with)")


def drive_adamw(cls, args, kwargs):
    """``drive_optimizer``, with a sentence when the learner's MyAdamW reaches MyAdam's unfinished stub."""
    try:
        return drive_optimizer(cls, args, kwargs)
    except NotImplementedError as exc:
        if str(exc).startswith("04.MyAdam:"):
            return Run.failed(ADAM_UNWRITTEN)
        raise


# the text's building blocks (issue 32): tensor arithmetic and sqrt; any other optimizer, functional optimizer
# (torch.optim.adam.adam) or library function is refused. A clamp or a max in the denominator is a known mistake
# with hints of its own: tolerated, so that it gets them instead of the refusal on the example
ADAM = dict(compare=compare_trajectory, match=TRAJECTORY, answer=OPTIMIZER, check_inputs=False,
            error_hints=[LEAF_IN_PLACE, REBOUND], allow=("arithmetic", "sqrt"), tolerate=("clamp", "max"))
driven("04.MyAdam", adam_reference, _adam_cases, drive_optimizer, _adam_mistakes(False), points=3,
       forbid=(optim.Adam, optim.AdamW, "torch.optim.Adam", "torch.optim.AdamW"), **ADAM)
driven("04.MyAdamW", adamw_reference, lambda rng: _adam_cases(rng, decoupled=True), drive_adamw,
       _adam_mistakes(True), points=2, forbid=(optim.AdamW, optim.Adam, "torch.optim.AdamW", "torch.optim.Adam"),
       **ADAM)


# -------------------------------------------------------------------- 04.train_epoch
class EpochSetup:
    """One epoch to run: ``n`` examples in batches of ``batch_size`` (shuffled with a seeded generator), a small
    model (``sizes``: the widths of its Linear layers, tanh between them) from seeded weights, a loss ("mse" or
    "ce") and an optimizer ("sgd" or "adam", with ``lr``). ``batchnorm`` puts a BatchNorm1d after the first Linear
    layer (its running statistics are buffers that a training epoch updates); ``eval_mode`` hands the model over
    in eval mode, as a validation pass leaves it; ``stale`` hands it over with gradients left in ``.grad`` by a
    backward pass before the epoch, and an optimizer (with momentum, for SGD) that has already taken a step."""

    def __init__(self, text, n, batch_size, sizes=(3, 2), loss="mse", opt="sgd", lr=0.1, seed=0, drop_last=False,
                 batchnorm=False, eval_mode=False, stale=False, dtype="float32"):
        self.text, self.n, self.batch_size, self.sizes, self.loss = text, n, batch_size, sizes, loss
        self.opt, self.lr, self.seed, self.drop_last = opt, lr, seed, drop_last
        self.batchnorm, self.eval_mode, self.stale, self.dtype = batchnorm, eval_mode, stale, dtype

    def build(self):
        """(model, loader, loss_fn, optimizer), the same numbers every time: the data, then the weights, from
        one numpy generator (as the notebook's example makes them)."""
        rng = np.random.default_rng(self.seed)
        x = tensor(rng.standard_normal((self.n, self.sizes[0])).astype(np.float32).astype(self.dtype))
        if self.loss == "ce":
            y, loss_fn = tensor(rng.integers(0, self.sizes[-1], self.n)), nn.CrossEntropyLoss()
        else:
            y, loss_fn = (tensor(rng.standard_normal((self.n, self.sizes[-1])).astype(np.float32).astype(self.dtype)),
                          nn.MSELoss())
        layers = []
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            layer = nn.Linear(n_in, n_out)
            with no_grad():
                layer.weight.copy_(tensor(rng.standard_normal((n_out, n_in)).astype(np.float32) / np.sqrt(n_in)))
                layer.bias.copy_(tensor(0.1 * rng.standard_normal(n_out).astype(np.float32)))
            layers.append(layer)
            if i < len(self.sizes) - 2:
                layers += [nn.BatchNorm1d(n_out), nn.Tanh()] if self.batchnorm and i == 0 else [nn.Tanh()]
        model = nn.Sequential(*layers)
        if self.dtype == "float64":
            model.double()
        loader = DataLoader(TensorDataset(x, y), batch_size=self.batch_size, shuffle=True,
                            generator=Generator().manual_seed(self.seed), drop_last=self.drop_last)
        optimizer = (optim.Adam(model.parameters(), lr=self.lr) if self.opt == "adam" else
                     optim.SGD(model.parameters(), lr=self.lr, momentum=0.9 if self.stale else 0.0))
        if self.stale:  # a step before the epoch, then a backward whose gradients are left in .grad
            loss_fn(model(x[:4]), y[:4]).backward()
            optimizer.step()
            loss_fn(model(x[4:8]), y[4:8]).backward()
        if self.eval_mode:
            model.eval()
        return model, loader, loss_fn, optimizer

    def __repr__(self):
        return self.text


# a float32 epoch is judged (and its mistakes matched) within EPOCH; a float64 epoch (issue 32) within EPOCH64:
# the loop runs the library's own ops, only the order of a sum of Python floats may differ
EPOCH, EPOCH64 = Within(1e-5, 1e-6), Within(1e-12, 0.0)


def compare_epoch(got, expected, case):
    """None when the loss returned and the weights left match; otherwise which of them differs."""
    within = EPOCH64 if _float64_case(case) else EPOCH
    rtol, atol = within.rtol, within.atol
    failure = compare_arrays(got, expected, rtol, atol)
    if failure is None or np.shape(got) != np.shape(expected):
        return failure
    digits = 17 if within == EPOCH64 else 6
    if compare_arrays(got[1:], expected[1:], rtol, atol) is not None:
        loss = "is right" if compare_arrays(got[:1], expected[:1], rtol, atol) is None else "differs too"
        off = differing_entries(got[1:], expected[1:], case.args[0].build()[0].state_dict(),  # (the Run: the loss,
                                lambda a, b: compare_arrays(a, b, rtol, atol) is None)  # then the state_dict)
        if only_buffers(off):
            return (f"the weights are right, but batch norm's buffers are not: {', '.join(off)} (the returned loss "
                    f"{loss}). They move at every forward pass in training mode, under no_grad too, so a second "
                    "forward pass (to log the loss or the accuracy) moves them once more: one forward pass per batch, "
                    "whose output gives the loss and everything you log")
        return (f"after your epoch the model's weights (and buffers) are not where the training loop leaves them: "
                f"expected {_numbers(expected[1:], digits=digits)}, got {_numbers(got[1:], digits=digits)} (the "
                f"returned loss {loss}" + (f"; the first entry of the state_dict that differs: {off[0]})" if off
                                           else ")"))
    return (f"the weights are right, the loss you returned is not: expected {expected[0]:.{digits}g} (the mean over "
            f"the epoch's examples), got {got[0]:.{digits}g}")


def _loss_in_float32(got, expected, case):
    """On the float64 epoch: the weights right, the loss off by float32's rounding (1e-12 to 1e-6 of itself)."""
    if not _float64_case(case) or np.shape(got) != np.shape(expected):
        return False
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    error = abs(got[0] - expected[0])
    return (compare_arrays(got[1:], expected[1:], EPOCH64.rtol, 0.0) is None
            and EPOCH64.rtol * abs(expected[0]) < error <= 1e-6 * abs(expected[0]))


def train_epoch_reference(model, loader, loss_fn, optimizer):
    """One epoch of the library's Trainer: for each batch zero_grad, forward, loss, backward, step; returns the
    mean loss over the epoch's examples, each batch's mean loss weighted by its size (a Python float)."""
    return Trainer(model, loss_fn, optimizer, progress=False).train_one_epoch(loader)["train_loss"]


class _GraphWatch:
    """Which batch the loader gave last, and a weak reference to each loss tensor the loss function returned: a
    loss whose graph is still alive when two later losses have been made AND two later batches given (kept in a
    sum of tensors or a list) is noted. Both counts, because the local name ``loss`` rightly holds the previous
    batch's loss until the new one is assigned: a loop that skips a batch makes no loss for it (two batches, one
    loss later), and a loop that calls the loss function twice in a batch (say, once more under no_grad after the
    step) makes two losses in one batch."""

    def __init__(self):
        self.batch, self.losses, self.made, self.kept = -1, [], 0, None

    def look(self):
        if self.kept is None:
            old = [b for b, k, ref in self.losses if k <= self.made - 3 and b <= self.batch - 2 and ref() is not None]
            if old:
                self.kept = (old[0], self.batch)
        self.losses = [(b, k, ref) for b, k, ref in self.losses if ref() is not None]

    def next_batch(self):
        self.look()
        self.batch += 1

    def made_loss(self, loss):
        self.losses.append((self.batch, self.made, weakref.ref(loss)))
        self.made += 1
        self.look()


class _Watched:
    """The case's loader or loss function, watched by a _GraphWatch; everything else is the object's own."""

    def __init__(self, inner, watch):
        self._inner, self._watch = inner, watch

    def __iter__(self):
        for batch in self._inner:
            self._watch.next_batch()
            yield batch
        self._watch.next_batch()

    def __len__(self):
        return len(self._inner)

    def __call__(self, *args, **kwargs):
        loss = self._inner(*args, **kwargs)
        try:
            self._watch.made_loss(loss)
        except TypeError:  # not a tensor: nothing to watch
            pass
        return loss

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __repr__(self):
        return repr(self._inner)


def drive_train_epoch(fn, args, kwargs):
    """Run ``fn(model, loader, loss_fn, optimizer)`` on the case's EpochSetup: a Run of [the loss it returned,
    then every parameter and buffer after the epoch], or a Run with the problem found (a graph kept alive, a
    tensor returned ...)."""
    setup = args[0] if args else kwargs["model"]
    model, loader, loss_fn, optimizer = setup.build()
    watch = _GraphWatch()
    returned = fn(model, _Watched(loader, watch), _Watched(loss_fn, watch), optimizer)
    if returned is None:
        return Run.failed("your function returned None: return the epoch's mean loss (a Python float)")
    if hasattr(returned, "grad_fn") or hasattr(returned, "detach"):
        if getattr(returned, "grad_fn", None) is None and not getattr(returned, "requires_grad", False):
            return Run.failed(
                f"you returned {an(type(returned).__name__)} (detached, so it holds no graph): return a plain Python "
                "float, the epoch's mean loss, as the callers of train_epoch (and PyTorch's training loops) "
                "expect. Take each batch's number out with .item() and add up Python floats")
        return Run.failed(
            f"you returned {an(type(returned).__name__)}: return a plain Python float. A loss tensor drags its whole "
            "graph along (and a sum of loss tensors keeps every batch's graph alive, all epoch long): take each "
            "batch's number out with .item() before you add it up")
    if not isinstance(returned, (int, float)) or isinstance(returned, bool):
        return Run.failed(f"you returned {an(type(returned).__name__)}; the epoch's mean loss, a Python float, was "
                          "expected")
    if watch.kept is not None:
        batch, later = watch.kept
        return Run.failed(
            f"the loss tensor of batch {batch + 1} was still alive two batches later, in batch {later + 1}: your loop "
            "keeps the graph of every batch (in tinygrad_lite, with the activations of its forward pass) in memory "
            "until the epoch ends. A sum of loss tensors (total = total + loss * n) or a list of them does that, even "
            "when the number is taken out at the end; on a real model the memory grows with every batch. Take each "
            "batch's number out with .item() as soon as you have it, and add up numbers")
    state = [v.detach().numpy().astype(np.float64).ravel() for v in model.state_dict().values()]
    return Run.of(np.concatenate([[float(returned)], *state]))


def _epoch(zero="before", weigh="len", step="each", divide="examples", last_only=False, train=True,
           skip_short=False, loss_after_step=False):
    """A training loop with one step or one sum changed, for the mistakes: ``zero`` "before" (right), "never",
    "between" (backward and step), "after" (the step) or "step_first" (step, zero, backward); ``weigh`` each
    batch's mean loss by "len" (right), "one" or "batch_size"; ``step`` "each" batch (right) or "once" after the
    loop; ``divide`` by the "examples" seen (right), the "batches", the "full_batches", the "dataset" or "none";
    ``train``: put the model in training mode first; ``skip_short``: leave out a batch smaller than batch_size;
    ``loss_after_step``: report each batch's loss computed again after the step (under no_grad)."""
    def train_epoch(model, loader, loss_fn, optimizer):
        if train:
            model.train()
        total, count, means = 0.0, 0, []
        if step == "once":
            optimizer.zero_grad()
        for x, y in loader:
            if skip_short and len(x) < loader.batch_size:
                continue
            if zero == "before" and step == "each":
                optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            if zero == "step_first":  # step with the gradients left by the previous batch, then reset, backward
                optimizer.step()
                optimizer.zero_grad()
                loss.backward()
            else:
                loss.backward()
                if zero == "between":
                    optimizer.zero_grad()
                if step == "each":
                    optimizer.step()
                if zero == "after":
                    optimizer.zero_grad()
            if loss_after_step:
                with no_grad():
                    loss = loss_fn(model(x), y)
            total += loss.item() * {"len": len(x), "one": 1, "batch_size": loader.batch_size}[weigh]
            count += len(x)
            means.append(loss.item())
        if step == "once":
            optimizer.step()
        if last_only:
            return means[-1]
        return {"examples": total / count, "batches": total / len(means), "none": total,
                "full_batches": total / (len(means) * loader.batch_size),
                "dataset": total / len(loader.dataset)}[divide]
    return train_epoch


def _epoch_cases(rng):
    return [
        _on(EpochSetup("10 examples in batches of 4 (the last has 2), a Linear(3, 2), MSE, SGD lr 0.1", 10, 4),
            visible=True),
        _on(EpochSetup("13 examples in batches of 5, 3-4-2 MLP, cross-entropy, SGD lr 0.5", 13, 5, (3, 4, 2), "ce",
                       lr=0.5, seed=1), "a smaller last batch"),
        _on(EpochSetup("20 examples in batches of 4, MLP, Adam lr 0.05", 20, 4, (2, 5, 1), opt="adam", lr=0.05,
                       seed=2), "equal batches, Adam"),
        _on(EpochSetup("17 examples in batches of 8, drop_last=True", 17, 8, (4, 3), seed=3, drop_last=True),
            "drop_last"),
        _on(EpochSetup("9 examples in batches of 2 (the last has 1), cross-entropy, Adam", 9, 2, (3, 3), "ce",
                       opt="adam", lr=0.1, seed=4), "many small batches"),
        _on(EpochSetup("7 examples in one batch of 7 (full batch)", 7, 7, (2, 2), seed=5), "a single batch"),
        _on(EpochSetup("12 examples in batches of 5, a 3-4-2 MLP with BatchNorm1d, handed over in eval mode (as a "
                       "validation pass leaves it)", 12, 5, (3, 4, 2), seed=6, batchnorm=True, eval_mode=True),
            "a model in eval mode, with BatchNorm"),
        _on(EpochSetup("11 examples in batches of 4; the model arrives with gradients left in .grad from before the "
                       "epoch, and SGD with momentum 0.9 that has taken a step", 11, 4, (3, 2), lr=0.05, seed=7,
                       stale=True), "gradients left from before the epoch"),
        # issue 32: a float64 model, judged at float64's precision (a sum kept in a float32 tensor shows)
        _on(EpochSetup("10 examples in batches of 4 (the last has 2), a float64 Linear(3, 2), float64 data, MSE, SGD "
                       "lr 0.1: the loss and the weights are compared at float64's precision", 10, 4, seed=8,
                       dtype="float64"), "a float64 model"),
    ]


driven(
    "04.train_epoch", train_epoch_reference, _epoch_cases, drive_train_epoch, compare=compare_epoch, match=EPOCH,
    check_inputs=False, points=2, forbid=(Trainer, fit),
    mistakes=[
        recognised(
            _loss_in_float32,
            "this epoch's model and data are float64, and the loss you returned carries float32's rounding: it is off "
            "by about 1e-8 of itself. Your sum of the batch losses went through float32, which keeps about 7 "
            "significant digits where float64 keeps about 16: a float32 tensor (tl.tensor(0.0) and tl.zeros(()) are "
            "float32 by default) or a numpy float32 scalar (np.float32(0)). total += ... then stays float32: adding a "
            "Python number does not change a float32's dtype, and neither does adding in place into a tensor",
            "take each batch's number out with .item() and add up Python floats, starting the sum from a Python 0.0"),
        mistake(_epoch(divide="batches", weigh="one"), "the epoch's loss is the mean over its EXAMPLES: the mean of "
                "the batch means is biased when the last batch is smaller (3 batches of 32 at loss 1 and one of 4 at "
                "loss 5 give 2.0, but the true mean is 1.16). Weight each batch's mean loss by its number of examples. "
                "(Weighing and counting each batch as loader.batch_size gives this same number: the last batch has "
                "fewer than batch_size examples, so use len(x).)",
                "each batch counts as many times as it has examples; the total then goes over the examples seen"),
        mistake(_epoch(divide="full_batches"), "divide by the number of examples actually seen: the last batch may be "
                "smaller than batch_size",
                "count the examples as you go (len(x) of each batch)"),
        mistake(_epoch(zero="never"), "the gradients were never reset (or once, not every batch): backward() ADDS "
                "into .grad, so each step used the sum of every batch's gradient so far",
                "clear the old gradients once per batch, before its backward pass"),
        mistake(_epoch(zero="between"), "the weights did not learn: every step saw zeros (or no gradient at all). "
                "Either the gradients were reset between backward() and step(), or step() came before backward() in a "
                "batch that starts with zero_grad. The order is zero_grad, forward, loss, backward, step",
                "in each batch, the step must come after the backward pass and before the next reset"),
        mistake(_epoch(zero="step_first"), "step() came before backward(): each step used the previous batch's "
                "gradients (and the first step none). The order is zero_grad, forward, loss, backward, step",
                "call loss.backward() first, then optimizer.step()"),
        mistake(_epoch(divide="none"), "you returned the SUM of the losses; the epoch's loss is their mean over the "
                "examples",
                "divide the weighted sum by the number of examples"),
        mistake(_epoch(last_only=True), "you returned the last batch's loss; the epoch's loss is the mean over all its "
                "examples",
                "accumulate over every batch of the loop"),
        mistake(_epoch(weigh="batch_size"), "each batch's mean loss counts as many times as that batch has examples, "
                "and the last batch may be smaller than the loader's batch_size: you weighed every batch by batch_size",
                "weigh each batch by its own number of examples, the length of its x"),
        mistake(_epoch(divide="dataset"), "with drop_last=True the loader leaves out the examples that do not fill a "
                "last batch: divide by the number of examples your loop actually saw, not by the size of the dataset",
                "count the examples of each batch as you go, and divide by that count"),
        mistake(_epoch(zero="after"), "zero_grad comes FIRST in every batch. Yours clears the gradients after the "
                "step, so the first step of the epoch used whatever .grad held before it (here, gradients left by a "
                "backward pass before the epoch) on top of the first batch's",
                "clear the gradients at the start of each batch, before the forward pass"),
        mistake(_epoch(step="once"), "one optimizer step per BATCH: yours added up the gradients of the whole epoch "
                "and stepped once at the end (that is gradient accumulation over the epoch, not mini-batch training)",
                "put zero_grad and step inside the loop over the batches"),
        mistake(_epoch(skip_short=True), "your loop left out the smaller last batch: every batch the loader gives is "
                "trained on (a step each, the last one too) and counts in the epoch's mean. Leaving out an incomplete "
                "last batch is the loader's choice (drop_last=True), not the training loop's",
                "train on every batch the loader yields, whatever its size"),
        mistake(_epoch(loss_after_step=True), "the loss you report is each batch's loss computed again AFTER the step, "
                "on weights that batch has already moved. The epoch's loss is the one the training used: each batch's "
                "loss from its forward pass, before its step (no second forward pass is needed)",
                "take the number out of the loss that you called backward() on"),
        mistake(_epoch(train=False), "the model was handed to your loop in eval mode (as a validation pass leaves it). "
                "In eval mode BatchNorm normalises with its running statistics and does not update them, and dropout "
                "is off: a training epoch must switch the model to training mode first",
                "switch the model to training mode before the first batch"),
    ],
)
