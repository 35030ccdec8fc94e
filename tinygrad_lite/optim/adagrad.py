r"""``Adagrad``: per-parameter step sizes from the sum of all past squared gradients (Duchi et al., 2011).

For each parameter \theta with gradient \nabla, learning rate \gamma (lr), learning-rate decay \eta (lr_decay),
weight decay \lambda, eps \epsilon, initial accumulator value \tau, at step t = 1, 2, ...:

    g_t = -\nabla if maximize else \nabla
    g_t = g_t + \lambda \theta_{t-1}                      (if \lambda != 0)
    \tilde\gamma_t = \gamma / (1 + (t - 1) \eta)          (the decayed learning rate)
    s_t = s_{t-1} + g_t^2                                 (``sum``, starts at s_0 = \tau)
    \theta_t = \theta_{t-1} - \tilde\gamma_t g_t / (\sqrt{s_t} + \epsilon)

Coordinates that have seen large gradients take small steps, rarely-updated ones keep large steps. Since s only
grows, the steps shrink for good: Adagrad suits sparse problems more than long training runs.
As in PyTorch, the state (``step`` = 0 and ``sum`` = \tau) exists from construction, so ``state_dict()`` has it
before the first step. Also as in PyTorch, \tau is the constructor's ``initial_accumulator_value`` for every
parameter: a parameter group's own ``initial_accumulator_value`` (given in the group's dict, or later with
``add_param_group``) is kept in the group but does not fill its accumulators.

The small parameters of a group are updated all at once (``_update_many``, PyTorch's ``foreach`` idea), side by side
in flat arrays (``optimizer.FlatState``): the same numbers, in a few numpy calls for all of them.
"""
import numpy as np

from .optimizer import (
    Optimizer,
    check_at_least_0,
    check_hyperparameters,
    compute_dtype,
    effective_grad,
    implementation_flags,
    next_step,
    quiet_for,
    step_state,
    zeros_state,
)


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
    maximize=False)``.

    ``foreach=False`` updates one parameter at a time; None and True, the small ones all at once (the same
    numbers). ``fused`` and ``differentiable`` are accepted for PyTorch's scripts and change nothing (see
    ``optimizer.implementation_flags``)."""

    _tensor_step = True  # state["step"] is a 0-d tensor; a numeric step loaded from a checkpoint becomes one

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        implementation_flags("Adagrad", foreach, False, differentiable, fused)
        check_hyperparameters("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        checks = [("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                  ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps)]
        check_at_least_0("Adagrad", checks)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, group)

    def _init_state(self, param, group):
        r"""``step`` = 0 and ``sum`` = \tau, where \tau is the constructor's value whatever the group says (PyTorch's
        rule: it reads ``self.defaults``, not ``group``)."""
        state = self.state[param]
        state["step"] = step_state()
        state["sum"] = zeros_state(param, fill=float(self.defaults["initial_accumulator_value"]))

    def _update(self, param, group):
        if not self.state[param]:  # a parameter added later with add_param_group
            self._init_state(param, group)
        state = self.state[param]
        t = next_step(state)
        self._update_arrays(param.array, param._grad.array, state["sum"].array, group, t)

    def _update_many(self, params, group):
        """The multi-tensor path: the same update as ``_update``, on the group's small parameters all at once."""
        for flat, t, theta, g in self._flat_updates(params, group, ["sum"]):
            self._update_arrays(theta, g, flat.flat["sum"], group, t)

    @staticmethod
    def _update_arrays(theta, grad, total, group, t):
        """Adagrad's update of the array ``theta`` in place, from its gradient ``grad``, the sum of squares
        ``total`` and the step count ``t``. The square is computed in ``wide`` (float32 for float16 numbers) and
        rounded once as it is added to s, as PyTorch's kernels do; past float16's 65,504, s is inf in both."""
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        g = effective_grad(grad, theta, group)

        clr = lr / (1 + (t - 1) * lr_decay)                      # decayed lr = lr / (1 + (t - 1) lr_decay)
        with quiet_for(theta.dtype):
            total += np.square(g, dtype=compute_dtype(theta.dtype))  # s <- s + g^2
            std = np.sqrt(total)                                 # theta <- theta - clr g / (sqrt(s) + eps)
            std += eps
            theta -= clr * (g / std)
