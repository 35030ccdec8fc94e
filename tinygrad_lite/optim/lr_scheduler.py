"""Learning-rate schedules: PyTorch's ``torch.optim.lr_scheduler``, same names, arguments and numbers.

A scheduler owns no parameters. It rewrites ``group["lr"]`` in its optimizer's ``param_groups`` each time you call
``scheduler.step()``; the optimizer reads ``group["lr"]`` at its next ``step()``. The usual loop::

    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()
        scheduler.step()                          # after optimizer.step(): once per epoch (or per batch)

Notation in the docstrings: ``eta_0`` is a group's starting lr (``base_lrs``, saved as ``group["initial_lr"]``),
``t`` is ``last_epoch`` (the number of ``step()`` calls so far), ``eta_t`` the lr after ``t`` steps.

Like PyTorch, most schedules are computed *recursively* from the current lr (``eta_t = eta_{t-1} * gamma``), so
they compose when several schedulers drive one optimizer, and we use PyTorch's exact recursive formulas, so that
traces agree to the last bit. ``step(epoch)`` (deprecated in PyTorch) jumps to ``epoch`` with the closed form.

As in PyTorch, the constructor wraps ``optimizer.step`` so that it notes it was called: the first
``scheduler.step()`` warns if ``optimizer.step()`` has not run yet (the schedule would skip its first lr).

Deliberate differences from PyTorch: any object with ``param_groups`` (a list of dicts with ``"lr"``) counts as an
optimizer (one without a ``step`` method is not wrapped and gets no warning). As in PyTorch, a built-in
schedule's ``get_lr()`` called by hand warns: ``get_last_lr()`` gives the lrs in use (``get_lr()`` computes the
*next* recursive value).
"""
import functools
import inspect
import math
import numbers
import types
import warnings
import weakref
from bisect import bisect_right
from collections import Counter

from ..coverage import missing_names as _missing_names
from ..shapes import as_int, check_number
from ..tensor import Tensor

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "SequentialLR", "PolynomialLR", "CosineAnnealingLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR"]


def _check_optimizer(optimizer, name):
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "lr" in g for g in groups):
        raise TypeError(f"{name}: expected an optimizer (an object whose .param_groups is a list of dicts with an "
                        f"'lr'), got {type(optimizer).__name__}; pass e.g. optim.SGD(model.parameters(), lr=0.1)")


def _numbers(owner, **values):
    """The schedule's numeric options must be real numbers: a clear TypeError names the one that is not."""
    for name, value in values.items():
        check_number(owner, name, value)


def _per_group(name, optimizer, value, owner):
    """One value per param group: a list/tuple of the right length, or one value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{owner}: {name} has {len(value)} values but the optimizer has "
                             f"{len(optimizer.param_groups)} param_groups; give one value per group, or a single value")
        return list(value)
    return [value] * len(optimizer.param_groups)


def _track_step_calls(optimizer):
    """Wrap ``optimizer.step`` (once) so that a call sets ``optimizer._opt_called``, as PyTorch's schedulers do.

    An object with ``param_groups`` but no ``step`` method (a stand-in optimizer) is left as it is."""
    step = getattr(optimizer, "step", None)
    if not inspect.ismethod(step) or hasattr(step, "_wrapped_by_lr_sched"):
        return
    optimizer_ref, function = weakref.ref(optimizer), step.__func__

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        opt = optimizer_ref()
        opt._opt_called = True
        return function.__get__(opt, type(opt))(*args, **kwargs)
    wrapper._wrapped_by_lr_sched = True
    optimizer.step = wrapper


def _warn_if_optimizer_has_not_stepped(optimizer):
    """PyTorch's warnings at the first ``scheduler.step()``: the optimizer's step was replaced after the scheduler
    was built, or it has not run yet (then the schedule skips its first value)."""
    step = getattr(optimizer, "step", None)
    if step is None:
        return
    if not hasattr(step, "_wrapped_by_lr_sched"):
        warnings.warn("Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                      "initialization. Please, make sure to call `optimizer.step()` before `lr_scheduler.step()`. "
                      "See more details at https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                      UserWarning, stacklevel=3)
    elif not getattr(optimizer, "_opt_called", False):
        warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and "
                      "later, you should call them in the opposite order: `optimizer.step()` before "
                      "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first value "
                      "of the learning rate schedule. See more details at "
                      "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate", UserWarning,
                      stacklevel=3)


def _warns_outside_step(get_lr):
    @functools.wraps(get_lr)
    def warning_get_lr(self):
        if not getattr(self, "_get_lr_called_within_step", True):
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        return get_lr(self)
    return warning_get_lr


class LRScheduler:
    """Base class: keeps ``base_lrs`` and ``last_epoch`` and writes the lrs that ``get_lr()`` computes.

    The constructor stores each group's lr as ``group["initial_lr"]`` (kept if already there), sets
    ``base_lrs`` from it, and takes the first step (``last_epoch`` -1 -> 0), as PyTorch does: right after
    construction the optimizer holds ``eta_0``, the lr of epoch 0. A subclass implements ``get_lr()`` (the lrs for
    the new ``last_epoch``) and optionally ``_get_closed_form_lr()`` (used by ``step(epoch)``).

    ``last_epoch`` other than -1 resumes a schedule; the groups must then already hold ``"initial_lr"``.
    """

    def __init_subclass__(cls, **kwargs):
        """A built-in schedule's ``get_lr`` warns when called outside ``step()``, as PyTorch's do."""
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__ and "get_lr" in cls.__dict__:
            cls.get_lr = _warns_outside_step(cls.__dict__["get_lr"])

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer, type(self).__name__)
        last_epoch = as_int(last_epoch, type(self).__name__, "last_epoch")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', so it cannot resume at "
                               f"last_epoch={last_epoch}; load the optimizer's state_dict from the same checkpoint "
                               "first, or use last_epoch=-1 for a fresh run")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        _track_step_calls(optimizer)
        self._initial_step()

    def _initial_step(self):
        """The constructor's step: ``_is_initial`` tells recursive schedules to keep the lr they find."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The lrs for the current ``last_epoch`` (called by ``step()`` after it advanced ``last_epoch``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def get_last_lr(self):
        """The lrs the last ``step()`` wrote into the optimizer, one per param group (a new list of floats)."""
        return list(self._last_lr)

    def step(self, epoch=None):
        """Advance one epoch (or batch) and write the new lrs into the optimizer. Call it after ``optimizer.step()``.

        ``step(epoch)`` is deprecated (as in PyTorch): it sets ``last_epoch = epoch`` and uses the closed form.
        """
        if self._step_count == 1:
            _warn_if_optimizer_has_not_stepped(self.optimizer)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(f"{type(self).__name__}.step(epoch) is deprecated, as in PyTorch: call step() with no "
                          "argument once per epoch", UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                values = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._set_lrs(values)

    def _set_lrs(self, values):
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Everything the scheduler holds except the optimizer: pass it to ``load_state_dict`` to resume."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``. Restore the optimizer's own state_dict too: the lrs live there."""
        self.__dict__.update(state_dict)


_LRScheduler = LRScheduler  # the old name, still used by custom schedulers written for PyTorch < 2.0


class _FunctionSchedule(LRScheduler):
    """A schedule driven by functions of the epoch, one per param group (LambdaLR, MultiplicativeLR).

    ``state_dict`` cannot hold plain functions or lambdas: it saves ``None`` for them (and the ``__dict__`` of
    callable objects), as PyTorch does.
    """
    _MULTIPLIES, _EXAMPLE = "lr", "lambda epoch: 0.95"  # (each subclass says what its function's number does)

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        name = type(self).__name__
        _check_optimizer(optimizer, name)
        if not all(callable(f) for f in (lr_lambda if isinstance(lr_lambda, (list, tuple)) else [lr_lambda])):
            raise TypeError(f"{name}: lr_lambda must be a function of the epoch (or a list of them, one per param "
                            f"group), e.g. {self._EXAMPLE}; got {type(lr_lambda).__name__}")
        if isinstance(lr_lambda, (list, tuple)) and len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(f"{name}: expected {len(optimizer.param_groups)} lr_lambdas (one per param group), "
                             f"got {len(lr_lambda)}")
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else \
            [lr_lambda] * len(optimizer.param_groups)
        super().__init__(optimizer, last_epoch)

    def _factor(self, fn):
        """``fn(last_epoch)``: the number an lr is multiplied by (a one-element tensor works too)."""
        factor = fn(self.last_epoch)
        if not isinstance(factor, (numbers.Real, Tensor)):
            raise TypeError(f"{type(self).__name__}: lr_lambda({self.last_epoch}) returned {type(factor).__name__} "
                            f"{factor!r:.40}; it must return a number, the factor that multiplies the "
                            f"{self._MULTIPLIES} (e.g. {self._EXAMPLE})")
        return factor

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, fn_state in zip(self.lr_lambdas, saved):
            if fn_state is not None:
                fn.__dict__.update(fn_state)


class LambdaLR(_FunctionSchedule):
    """``eta_t = eta_0 * lr_lambda(t)``: any schedule you can write as a function of the epoch.

    ``lr_lambda`` is one function, or a list with one per param group. Use it for a custom shape (e.g. a linear
    warmup ``lambda t: min(1, (t + 1) / 10)``) when no built-in scheduler fits.
    """
    _MULTIPLIES, _EXAMPLE = "initial lr", "lambda epoch: 0.95 ** epoch"

    def get_lr(self):
        return [base_lr * self._factor(fn) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]


class MultiplicativeLR(_FunctionSchedule):
    """``eta_t = eta_{t-1} * lr_lambda(t)`` for ``t >= 1``: each step multiplies the current lr by a factor.

    Where ``LambdaLR``'s function gives the whole factor from ``eta_0``, this one's gives one step's factor, so
    ``lambda t: 0.95`` is ``ExponentialLR(gamma=0.95)``. Being recursive, it composes with other schedulers on the
    same optimizer. ``step(epoch)`` has no closed form: it applies the factor of ``epoch`` once.
    """
    _MULTIPLIES, _EXAMPLE = "current lr", "lambda epoch: 0.95"

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self._factor(fn) for fn, lr in zip(self.lr_lambdas, self._current_lrs(), strict=True)]


class StepLR(LRScheduler):
    """``eta_t = eta_0 * gamma ** (t // step_size)``: multiply by ``gamma`` every ``step_size`` epochs.

    Recursively: ``eta_t = eta_{t-1} * gamma`` when ``t`` is a positive multiple of ``step_size``, else unchanged.
    The classic "divide by 10 every 30 epochs" staircase; simple and robust when you know the training length.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        _numbers("StepLR", step_size=step_size, gamma=gamma)
        if not step_size > 0:
            raise ValueError(f"StepLR: step_size must be positive (the epochs between decays), got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """``eta_t = eta_0 * gamma ** (number of milestones <= t)``: decay by ``gamma`` at chosen epochs.

    Recursively: at a milestone ``m`` listed ``k`` times, ``eta_m = eta_{m-1} * gamma ** k``. Use it when the
    decay points are known in advance, e.g. ``milestones=[30, 80]`` for a 100-epoch run.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        if not isinstance(milestones, (list, tuple, range)):
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs such as [30, 80], got "
                            f"{type(milestones).__name__}")
        _numbers("MultiStepLR", gamma=gamma, **{f"milestones[{i}]": m for i, m in enumerate(milestones)})
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        milestones = sorted(m for m, count in self.milestones.items() for _ in range(count))  # (a loaded dict too)
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """``eta_t = factor * eta_0`` for the first ``total_iters`` steps, then ``eta_0``: a flat, low warmup.

    Recursively: step 0 multiplies the lr by ``factor`` and step ``total_iters`` divides it by ``factor``; the
    steps between leave it alone. A simpler warmup than ``LinearLR``'s ramp: a few careful steps, then full speed
    (usually followed by a decay, with ``SequentialLR``).
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        _numbers("ConstantLR", factor=factor, total_iters=total_iters)
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1] (the lr is factor * lr for total_iters steps), "
                             f"got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        if self.factor == 0:  # (PyTorch's ZeroDivisionError, with the reason)
            raise ZeroDivisionError(f"ConstantLR: factor=0 made every lr 0, and at step total_iters={self.total_iters} "
                                    "it cannot be divided back out; use a small positive factor such as 0.01")
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """``eta_t = eta_0 * gamma ** t``, computed as ``eta_t = eta_{t-1} * gamma``: a smooth decay every epoch.

    ``gamma`` slightly below 1 (0.9 - 0.99) gives a steady decay without choosing milestones.
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        _numbers("ExponentialLR", gamma=gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:  # the constructor's step keeps the lr (a resumed run is not pushed one step on)
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``eta_0`` down to ``eta_min`` over ``T_max`` epochs (SGDR without restarts).

    Closed form: ``eta_t = eta_min + (eta_0 - eta_min) * (1 + cos(pi * t / T_max)) / 2``. PyTorch (and we)
    compute it recursively::

        eta_t = eta_min + (eta_{t-1} - eta_min) * (1 + cos(pi * t / T_max)) / (1 + cos(pi * (t - 1) / T_max))

    with a special step where the recursion would divide by zero. Past ``T_max`` the lr rises again along the
    cosine (period ``2 * T_max``). The default choice for a fixed budget: no milestones to tune, a long high-lr
    phase, then a gentle landing. Set ``T_max`` to the number of ``step()`` calls in the run.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        _numbers("CosineAnnealingLR", T_max=T_max, eta_min=eta_min)
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive (the steps to reach eta_min), got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # resumed at last_epoch > 0: start from the closed form
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2 for base_lr in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:  # the bottom of the cosine, where the ratio below would be 0 / 0
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs(), strict=True)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - eta_min) + eta_min
                for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """A straight line from ``start_factor * eta_0`` to ``end_factor * eta_0`` over ``total_iters`` steps, then flat.

    Closed form: ``eta_t = eta_0 * (s + (e - s) * min(t, total_iters) / total_iters)`` with ``s, e`` the start and
    end factors. Computed recursively as ``eta_t = eta_{t-1} * (1 + (e - s) / (total_iters * s + (t - 1) * (e - s)))``.
    The usual learning-rate *warmup*: start small (``start_factor=0.01``) so the first updates, made with noisy
    statistics (Adam's moments, BatchNorm), cannot throw the weights far; then hand over to a decay with
    ``SequentialLR``.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        _numbers("LinearLR", start_factor=start_factor, end_factor=end_factor, total_iters=total_iters)
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] (the lr starts at start_factor * lr), "
                             f"got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        s, e, n, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if t == 0:
            return [lr * s for lr in self._current_lrs()]
        if self._is_initial or t > n:
            return self._current_lrs()
        return [lr * (1.0 + (e - s) / (n * s + (t - 1) * (e - s))) for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        return [base_lr * (s + (e - s) * min(n, self.last_epoch) / n) for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """``eta_t = eta_0 * (1 - min(t, total_iters) / total_iters) ** power``: a polynomial decay to 0.

    Computed recursively, as PyTorch does: ``eta_t = eta_{t-1} * ((1 - t / n) / (1 - (t - 1) / n)) ** power``
    with ``n = total_iters``, and unchanged after step ``n``. ``power=1`` is a straight line to zero (the same as
    ``LinearLR(start_factor=1, end_factor=0)``); ``power=2`` falls fast at first, then lands gently.
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        _numbers("PolynomialLR", total_iters=total_iters, power=power)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, n = self.last_epoch, self.total_iters
        if self._is_initial or t > n:
            return self._current_lrs()
        decay = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [lr * decay for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class _Composite(LRScheduler):
    """A scheduler made of schedulers (SequentialLR, ChainedScheduler): its state holds each inner one's state."""

    @staticmethod
    def _check_schedulers(owner, schedulers, optimizer):
        """Each of ``schedulers`` is a scheduler stepped without a metric, built on ``optimizer``."""
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{owner}: schedulers[{i}] is of type {type(scheduler).__name__}, not a scheduler")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{owner}: schedulers[{i}] is a ReduceLROnPlateau, which needs a metric in "
                                 "step(metric); call it yourself instead")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"{owner}: schedulers[{i}] ({type(scheduler).__name__}) drives a different "
                                 "optimizer; every scheduler must be built on the same optimizer")

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, scheduler_state in zip(self._schedulers, saved, strict=True):
            scheduler.load_state_dict(scheduler_state)


class SequentialLR(_Composite):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its epoch 0), and so on.

    ``eta_t`` comes from scheduler ``i = bisect_right(milestones, t)``; at a milestone the next scheduler starts
    from its closed form at epoch 0 (so it begins at ``eta_0``, whatever the previous one left). The standard
    recipe "warmup, then decay"::

        warmup = LinearLR(opt, start_factor=0.01, total_iters=5)
        decay = CosineAnnealingLR(opt, T_max=95)
        scheduler = SequentialLR(opt, schedulers=[warmup, decay], milestones=[5])

    Build the sub-schedulers first (their constructors' steps are undone here).
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_optimizer(optimizer, "SequentialLR")
        for name, value in (("schedulers", schedulers), ("milestones", milestones)):
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"SequentialLR: {name} must be a list, got {type(value).__name__}")
        _numbers("SequentialLR", **{f"milestones[{i}]": m for i, m in enumerate(milestones)})
        if len(schedulers) < 1:
            raise ValueError("SequentialLR: expected at least one scheduler, got none")
        self._check_schedulers("SequentialLR", schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} milestones "
                             f"(the epochs where each hands over to the next), got {len(milestones)}")
        self._schedulers, self._milestones = schedulers, milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # undo the sub-schedulers' constructor steps ...
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            _undo_step(scheduler)
        first = schedulers[bisect_right(milestones, 0)]  # ... and redo only the first one's
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)  # a new phase starts at its own epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers together, each changing the lr the one before it left: ``step()`` calls each one's
    ``step()`` in order. Schedulers whose lr is a product of factors compose this way (warmup with LinearLR times
    ExponentialLR's decay, say)::

        scheduler = ChainedScheduler([LinearLR(opt, start_factor=0.1, total_iters=5), ExponentialLR(opt, 0.9)])

    Unlike SequentialLR (one scheduler at a time), every scheduler acts at every step. Build the schedulers first;
    their constructors' steps stay (as in PyTorch). ReduceLROnPlateau cannot be chained (its step needs a metric).
    """

    def __init__(self, schedulers, optimizer=None):
        if not isinstance(schedulers, (list, tuple)):
            raise TypeError(f"ChainedScheduler: schedulers must be a list, got {type(schedulers).__name__}")
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, but got no scheduler")
        optimizer = optimizer or schedulers[0].optimizer
        self._check_schedulers("ChainedScheduler", schedulers, optimizer)
        self._schedulers, self.optimizer = list(schedulers), optimizer
        self._last_lr = self._current_lrs()

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


def _undo_step(scheduler):
    """Move a scheduler (and any schedulers nested in it) back one epoch, as PyTorch's ``recursive_undo``."""
    if hasattr(scheduler, "_schedulers"):
        for inner in scheduler._schedulers:
            _undo_step(inner)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


def _cycled_momentum(owner, optimizer, base_momentum, max_momentum, last_epoch):
    """For a schedule with ``cycle_momentum``: whether it moves Adam's ``beta1`` (else SGD's ``momentum``), and each
    group's base and max momentum. A fresh run (``last_epoch == -1``) starts every group at its max momentum and
    keeps both bounds in the group (``"max_momentum"``, ``"base_momentum"``), as PyTorch does."""
    defaults = getattr(optimizer, "defaults", optimizer.param_groups[0])
    if "momentum" not in defaults and "betas" not in defaults:
        raise ValueError(f"{owner}: cycle_momentum=True needs an optimizer with 'momentum' (SGD) or 'betas' (Adam), "
                         f"and {type(optimizer).__name__} has neither; pass cycle_momentum=False")
    use_beta1 = "betas" in defaults
    max_moms = _per_group("max_momentum", optimizer, max_momentum, owner)
    base_moms = _per_group("base_momentum", optimizer, base_momentum, owner)
    if last_epoch == -1:
        for group, max_mom, base_mom in zip(optimizer.param_groups, max_moms, base_moms):
            _set_momentum(group, max_mom, use_beta1)
            group["max_momentum"], group["base_momentum"] = max_mom, base_mom
    return use_beta1, base_moms, max_moms


def _set_momentum(group, value, use_beta1):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _triangular_scale(cycle):
    return 1.0


def _triangular2_scale(cycle):
    return 1 / (2.0 ** (cycle - 1))


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, "Cyclical Learning Rates for Training Neural Networks"): the lr goes up from
    ``base_lr`` to ``max_lr`` and back down, again and again; stepped per batch.

    A cycle is ``step_size_up`` steps up and ``step_size_down`` (default: as many) down. With ``c`` the cycle
    (counted from 1), ``x`` in [0, 1) the position in it and ``r`` the share of it spent going up, the height is
    ``h = x / r`` going up and ``(1 - x) / (1 - r)`` going down, and
    ``eta_t = base_lr + (max_lr - base_lr) * h * scale``. The ``scale`` depends on ``mode``:

    - ``"triangular"``: 1;
    - ``"triangular2"``: ``1 / 2 ** (c - 1)`` (the height halves every cycle);
    - ``"exp_range"``: ``gamma ** t``;
    - or ``scale_fn`` applied to ``c`` (``scale_mode="cycle"``) or to ``t`` (``scale_mode="iterations"``).

    With ``cycle_momentum`` (the default) the momentum moves the other way, ``max_momentum - (max_momentum -
    base_momentum) * h * scale``: SGD's ``momentum`` (an SGD built without momentum gets one) or Adam's ``beta1``.
    The lr the optimizer was given is replaced by ``base_lr``. Smith suggests 2-10 epochs of batches for
    ``step_size_up``, and the LR range test (lesson 05) to choose the two bounds.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        _check_optimizer(optimizer, "CyclicLR")
        _numbers("CyclicLR", step_size_up=step_size_up, gamma=gamma,
                 **({} if step_size_down is None else {"step_size_down": step_size_down}))
        step_size_up = float(step_size_up)
        step_size_down = step_size_up if step_size_down is None else float(step_size_down)
        if not (step_size_up > 0 and step_size_down >= 0):
            raise ValueError(f"CyclicLR: step_size_up must be positive and step_size_down at least 0 (the steps "
                             f"from base_lr to max_lr and back), got {step_size_up:g} and {step_size_down:g}")
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range' (or give a "
                             f"scale_fn), got {mode!r}")
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations' (what scale_fn is applied to), "
                             f"got {scale_mode!r}")
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr, "CyclicLR")
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr, "CyclicLR")
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        self.mode, self.gamma, self._scale_fn_custom, self.scale_mode = mode, gamma, scale_fn, scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _cycled_momentum(
                "CyclicLR", optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        """The built-in modes' scale and what it is applied to (a custom ``scale_fn`` keeps its ``scale_mode``)."""
        if self._scale_fn_custom is not None:
            return
        self._scale_fn_ref, self.scale_mode = {
            "triangular": (_triangular_scale, "cycle"),
            "triangular2": (_triangular2_scale, "cycle"),
            "exp_range": (functools.partial(pow, self.gamma), "iterations"),  # gamma ** t
        }[self.mode]

    def scale_fn(self, x):
        """The amplitude's scale at ``x``: the cycle number or the step, by ``scale_mode``."""
        return (self._scale_fn_custom or self._scale_fn_ref)(x)

    def get_lr(self):
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        if self.cycle_momentum:
            for group, base_mom, max_mom in zip(self.optimizer.param_groups, self.base_momentums,
                                                self.max_momentums, strict=True):
                _set_momentum(group, max_mom - (max_mom - base_mom) * height * scale, self.use_beta1)
        return [base_lr + (max_lr - base_lr) * height * scale
                for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True)]

    def state_dict(self):
        """As every scheduler's, without the scale function: a plain function or lambda is saved as ``None``, a
        callable object as its ``__dict__`` (as ``LambdaLR`` saves its functions)."""
        state = super().state_dict()
        state.pop("_scale_fn_ref", None)
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) else fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        fn_state = state.pop("_scale_fn_custom")
        super().load_state_dict(state)
        if fn_state is not None:
            self._scale_fn_custom.__dict__.update(fn_state)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith, "Super-Convergence"): one rise to ``max_lr`` and one long fall, stepped per batch.

    With ``initial_lr = max_lr / div_factor`` and ``min_lr = initial_lr / final_div_factor``, and ``n = total_steps``
    (or ``epochs * steps_per_epoch``), two phases (fastai's default)::

        steps 0 .. pct_start*n - 1:      initial_lr -> max_lr       momentum max_momentum -> base_momentum
        steps .. n - 1:                  max_lr     -> min_lr       momentum base_momentum -> max_momentum

    ``three_phase=True`` (the paper): up to ``max_lr``, symmetrically back down to ``initial_lr``, then down to
    ``min_lr`` with momentum held at ``max_momentum``. Each phase interpolates by ``pct`` in [0, 1]:
    ``cos``: ``end + (start - end) / 2 * (1 + cos(pi * pct))``; ``linear``: ``start + (end - start) * pct``.
    With ``cycle_momentum`` the momentum moves opposite to the lr: SGD's ``momentum`` or Adam's ``beta1``
    (``betas[0]``). The lr you gave the optimizer is ignored. Use it for fast training on a fixed budget: the
    high-lr middle regularizes, the low end converges. Stepping more than ``total_steps`` times is an error.
    """
    _PHASE = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")  # a phase's keys, as PyTorch's

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _check_optimizer(optimizer, "OneCycleLR")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: total_steps must be a positive integer, got {total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value <= 0:
                    raise ValueError(f"OneCycleLR: {name} must be a positive integer, got {value!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch "
                             "(e.g. steps_per_epoch=len(loader))")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be a float between 0 and 1 (the fraction of steps spent "
                             f"warming up), got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        up, n = float(pct_start * self.total_steps) - 1, self.total_steps - 1
        # each phase: the step it ends at, and (by name: keys of each param group) the lr and momentum it goes from
        # and to. Dicts with PyTorch's keys (_PHASE), so that a state_dict moves between the two libraries
        self._schedule_phases = [dict(zip(self._PHASE, p)) for p in ([
            (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
            (n, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
        ] if three_phase else [
            (up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (n, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ])]
        self._anneal_func_type = anneal_strategy  # (after the phases: state_dict's keys in PyTorch's order)
        max_lrs = _per_group("max_lr", optimizer, max_lr, "OneCycleLR")
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, _, _ = _cycled_momentum("OneCycleLR", optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times, but total_steps is {self.total_steps}; "
                             "make total_steps (or epochs * steps_per_epoch) cover every scheduler.step() call")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step, start_lr, end_lr, start_mom, end_mom = (phase[key] for key in self._PHASE)
                if step <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[start_lr], group[end_lr], pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self._anneal(group[start_mom], group[end_mom], pct), self.use_beta1)
                    break
                start_step = end_step
        return lrs

    def load_state_dict(self, state_dict):
        """As every scheduler's; a state_dict saved by an earlier version of this library, whose phases were
        tuples in the same order, is read too."""
        phases = [p if isinstance(p, dict) else dict(zip(self._PHASE, p)) for p in state_dict["_schedule_phases"]]
        super().load_state_dict({**state_dict, "_schedule_phases": phases})


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing that restarts at ``eta_0`` (SGDR): cycles of ``T_0``, ``T_0 * T_mult``, ... epochs.

    ``eta_t = eta_min + (eta_0 - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2`` where ``T_cur`` counts the epochs
    since the last restart and ``T_i`` is the current cycle length (multiplied by ``T_mult`` at each restart).
    ``step(epoch)`` accepts fractional epochs, so it can be stepped per batch: ``scheduler.step(epoch + i / iters)``.
    Restarts kick the weights out of a sharp minimum and give a snapshot at the end of every cycle; choose it when
    you want to keep training without fixing the length in advance.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer, got {T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, got {T_mult!r}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: eta_min must be a number, got {type(eta_min).__name__}")
        self.T_0, self.T_i, self.T_mult, self.eta_min, self.T_cur = T_0, T_0, T_mult, eta_min, last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or jump to ``epoch`` (may be fractional, e.g. ``epoch + batch / batches``)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:  # restart
                self.T_cur, self.T_i = self.T_cur % self.T_i, self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be non-negative, got {epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:  # cycle n starts at T_0 * (T_mult**n - 1) / (T_mult - 1): solve for n
                n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult ** n
        else:
            self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch, self._get_lr_called_within_step = math.floor(epoch), True
        try:
            self._set_lrs(self.get_lr())
        finally:
            self._get_lr_called_within_step = False


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric stops improving: ``scheduler.step(val_loss)`` once per epoch.

    A value ``a`` improves on the best so far when (``mode``, ``threshold_mode``):
    ``min, rel``: ``a < best * (1 - threshold)``; ``min, abs``: ``a < best - threshold``;
    ``max, rel``: ``a > best * (1 + threshold)``; ``max, abs``: ``a > best + threshold``.
    After more than ``patience`` epochs in a row without improvement, every group's lr becomes
    ``max(lr * factor, min_lr)`` (skipped when that changes it by ``eps`` or less), and the next ``cooldown``
    epochs ignore bad results. Use it when you cannot predict when training will stall: it reacts to the
    validation curve instead of a fixed clock. ``mode='max'`` is for metrics like accuracy.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        _check_optimizer(optimizer, "ReduceLROnPlateau")
        _numbers("ReduceLROnPlateau", factor=factor, patience=patience, threshold=threshold, cooldown=cooldown, eps=eps)
        for i, value in enumerate(min_lr if isinstance(min_lr, (list, tuple)) else [min_lr]):
            check_number("ReduceLROnPlateau", f"min_lr[{i}]" if isinstance(min_lr, (list, tuple)) else "min_lr", value)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0 (new_lr = lr * factor), got {factor}")
        self.factor, self.optimizer = factor, optimizer
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.min_lrs = _per_group("min_lr", optimizer, min_lr, "ReduceLROnPlateau")
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' (a loss) or 'max' (an accuracy), got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode_worse = math.inf if mode == "min" else -math.inf  # (state_dict's keys in PyTorch's order)
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode

    def _reset(self):
        self.best, self.cooldown_counter, self.num_bad_epochs = self.mode_worse, 0, 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def step(self, metrics, epoch=None):
        """Record this epoch's metric (a float or a one-element tensor) and reduce the lr if it has plateaued."""
        try:
            current = float(metrics)
        except (TypeError, ValueError, RuntimeError):  # (RuntimeError: a tensor of several numbers)
            kind = ValueError if isinstance(metrics, (str, Tensor)) else TypeError  # PyTorch's, from float(metrics)
            raise kind(f"ReduceLROnPlateau.step: metrics must be one number, the quantity to watch (e.g. "
                       f"scheduler.step(val_loss) with the epoch's validation loss), got {type(metrics).__name__} "
                       f"{metrics!r:.60}") from None
        if epoch is not None:
            warnings.warn("ReduceLROnPlateau.step(metrics, epoch) is deprecated, as in PyTorch: drop epoch",
                          UserWarning, stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self):
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer now has {len(self.optimizer.param_groups)} "
                                   f"param_groups but min_lr had {len(self.min_lrs)} values; set scheduler.min_lrs "
                                   "to one value per group")
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


__getattr__ = _missing_names(__name__)  # (a name this module lacks: what the library has instead)
