r"""Averaged weights: PyTorch's ``torch.optim.swa_utils``, same names, arguments and numbers.

The weights at the end of training are one noisy point of the path SGD took. An average of the weights along the
path often generalises better, at no cost in training. ``AveragedModel`` keeps the average in a copy of the model,
updated after the optimizer's steps with ``update_parameters(model)``; n counts the models averaged so far:

- **SWA** (stochastic weight averaging, the default): the plain mean of the weights it was given,
      W_avg <- W_avg + (W - W_avg) / (n + 1),
  usually taken once per epoch over the last epochs, with a constant lr (``SWALR``) that keeps the weights moving
  around a wide minimum instead of settling in one corner of it;
- **EMA** (exponential moving average, ``get_ema_multi_avg_fn(decay)``), taken after every step:
      W_ema <- decay W_ema + (1 - decay) W,
  which forgets old weights at the rate 1 - decay (0.999: roughly the last 1,000 steps count).

The first update copies the model's weights (n = 0). Batch norm's running statistics belong to the weights that
made them: after averaging, recompute them with one pass over the data (``update_bn``), or average them too
(``use_buffers=True``). As in PyTorch, the default SWA update on the CPU is one tensor at a time,
``avg + (W - avg) / (n + 1)``, and on a GPU ``avg.lerp_(W, 1 / (n + 1))`` (PyTorch's multi-tensor kernel): the same
number on paper, rounded differently.
"""
import copy
import math

from .. import dtypes as dt
from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _per_group, _warns_outside_step

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """The EMA update of a list of averaged tensors, in place: ``ema.lerp_(w, 1 - decay)`` for each, which is
    decay * ema + (1 - decay) * w (integer tensors: that formula, rounded into them)."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        for ema, current in zip(ema_param_list, current_param_list, strict=True):
            if ema.is_floating_point():
                ema.lerp_(current, 1 - decay)
            else:
                ema.copy_(ema * decay + current * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """The SWA update of a list of averaged tensors, in place: ``avg.lerp_(w, 1 / (n + 1))``, the running mean.
    ``num_averaged`` may be a number or a tensor (AveragedModel's ``n_averaged``)."""
    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        for avg, current in zip(averaged_param_list, current_param_list, strict=True):
            if avg.is_floating_point():
                avg.lerp_(current, 1 / (num_averaged + 1))
            elif isinstance(num_averaged, Tensor):
                avg.addcdiv_(current - avg, num_averaged + 1)
            else:
                avg.add_(current - avg, alpha=1.0 / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The EMA of one tensor, returned (not in place): decay * ema + (1 - decay) * w."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor, returned: avg + (w - avg) / (n + 1)."""
    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` (``self.module``, moved to ``device`` if given) whose weights are an average of the
    weights ``update_parameters`` is given; calling it runs the copy. ``n_averaged`` (an int64 buffer, so it is in
    the state_dict) counts the updates.

    - ``avg_fn(avg, w, n)``: returns the new average of one tensor (``get_ema_avg_fn``, ``get_swa_avg_fn``);
    - ``multi_avg_fn(avgs, ws, n)``: updates lists of tensors in place, one call per device and dtype
      (``get_ema_multi_avg_fn``); give at most one of the two; neither: SWA's mean;
    - ``use_buffers``: average the buffers too (batch norm's running statistics) and use ``module.parameters()``
      with ``module.buffers()``; otherwise the buffers are copied from ``model`` at each update.
    Neither function is saved in the state_dict, as in PyTorch.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=dt.int64, device=device))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Take ``model``'s weights into the average: copy them at the first call, else average them in."""
        if self.use_buffers:
            pairs = zip([*self.module.parameters(), *self.module.buffers()], [*model.parameters(), *model.buffers()])
        else:
            pairs = zip(self.parameters(), model.parameters())
        averaged, current, first = [], [], self.n_averaged == 0
        for p_averaged, p_model in pairs:
            averaged.append(p_averaged.detach())
            current.append(p_model.detach().to(p_averaged.device))
            if first:
                averaged[-1].copy_(current[-1])
        if self.n_averaged > 0:
            self._average(averaged, current)
        if not self.use_buffers:  # the buffers stay the model's own
            for b_averaged, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_averaged.detach().copy_(b_model.detach().to(b_averaged.device))
        self.n_averaged += 1

    def _average(self, averaged, current):
        if self.avg_fn is not None:  # one tensor at a time, the result copied in
            for avg, w in zip(averaged, current):
                avg.copy_(self.avg_fn(avg, w, self.n_averaged.to(avg.device)))
            return
        groups = {}  # (device, dtype) -> (averaged, current): a multi-tensor function takes one device and dtype
        for avg, w in zip(averaged, current):
            pair = groups.setdefault((str(avg.device), avg.dtype), ([], []))
            pair[0].append(avg)
            pair[1].append(w)
        for (device, _), (avgs, ws) in groups.items():
            n = self.n_averaged.to(device)
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(avgs, ws, n)
            elif device != "cpu":  # PyTorch's multi-tensor kernels run on GPUs only
                get_swa_multi_avg_fn()(avgs, ws, n)
            else:
                swa = get_swa_avg_fn()
                for avg, w in zip(avgs, ws):
                    avg.copy_(swa(avg, w, n))


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute the running statistics of every batch norm in ``model`` with one pass over ``loader``: each is
    reset and then takes the plain mean over the batches (momentum None), as if the averaged weights had made
    them. A batch is a tensor, or a list or tuple whose first item is the input; ``device``: where to move it.
    The model's mode (train or eval) and its layers' momenta are restored after."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        model(batch if device is None else batch.to(device))
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Moves each group's lr from where it is to ``swa_lr`` over ``anneal_epochs`` steps, then keeps it there.

    The schedule is recursive, as PyTorch's: at step t (t = 0 at construction), with alpha_t = f(t / anneal_epochs)
    clipped to [0, 1] and f(s) = s (``"linear"``) or (1 - cos(pi s)) / 2 (``"cos"``), it recovers the lr the
    annealing started from, lr_0 = (lr - alpha_{t-1} swa_lr) / (1 - alpha_{t-1}), and writes
    swa_lr alpha_t + lr_0 (1 - alpha_t). ``swa_lr``: one value, or one per group (saved as ``group["swa_lr"]``).
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for value, group in zip(_per_group("swa_lr", optimizer, swa_lr, "SWALR"), optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    @_warns_outside_step
    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha) * (1 - alpha)
                for group in self.optimizer.param_groups]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        """Everything but the optimizer and the annealing function (rebuilt from ``_anneal_strategy`` at load)."""
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
