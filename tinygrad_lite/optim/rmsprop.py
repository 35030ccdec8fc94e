r"""``RMSprop``: divide the gradient by a running root-mean-square of recent gradients (Hinton's lecture notes).

For each parameter \theta with gradient \nabla, learning rate \gamma (lr), smoothing \alpha, eps \epsilon,
weight decay \lambda, momentum \mu, at step t:

    g_t = -\nabla if maximize else \nabla
    g_t = g_t + \lambda \theta_{t-1}                      (if \lambda != 0)
    v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2             (``square_avg``, starts at 0)
    if centered:
        \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t  (``grad_avg``: the running mean of g)
        d_t = \sqrt{v_t - \bar g_t^2} + \epsilon          (a running standard deviation)
    else:
        d_t = \sqrt{v_t} + \epsilon
    if \mu > 0:
        b_t = \mu b_{t-1} + g_t / d_t                     (``momentum_buffer``, starts at 0)
        \theta_t = \theta_{t-1} - \gamma b_t
    else:
        \theta_t = \theta_{t-1} - \gamma g_t / d_t

These are PyTorch's formulas: \epsilon is added outside the square root, and there is no bias correction
(unlike Adam), so the first steps are large while v_t is still small.

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


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)``.

    ``foreach=False`` updates one parameter at a time; None and True, the small ones all at once (the same
    numbers). ``capturable`` and ``differentiable`` are accepted for PyTorch's scripts and change nothing (see
    ``optimizer.implementation_flags``)."""

    _tensor_step = True  # state["step"] is a 0-d tensor; a numeric step loaded from a checkpoint becomes one

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, *, maximize=False, differentiable=False):
        implementation_flags("RMSprop", foreach, capturable, differentiable, None)
        check_hyperparameters("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        checks = [("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                  ("weight_decay value", weight_decay), ("alpha value", alpha)]
        check_at_least_0("RMSprop", checks)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        """The state of a parameter at its first step: step 0, v = 0 (and b = 0 with momentum, g_avg = 0 centered)."""
        state = self.state[param]
        state["step"], state["square_avg"] = step_state(), zeros_state(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = zeros_state(param)

    @staticmethod
    def _state_names(group):
        """The state entries shaped like the parameter that the update uses, in ``_update_arrays``' order."""
        return (["square_avg"] + (["grad_avg"] if group["centered"] else [])
                + (["momentum_buffer"] if group["momentum"] > 0 else []))

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            self._init_state(param, group)
        next_step(state)
        arrays = [state[name].array for name in self._state_names(group)]
        self._update_arrays(param.array, param._grad.array, *arrays, group=group)

    def _update_many(self, params, group):
        """The multi-tensor path: the same update as ``_update``, on the group's small parameters all at once."""
        names = self._state_names(group)
        for flat, _, theta, g in self._flat_updates(params, group, names):
            self._update_arrays(theta, g, *(flat.flat[name] for name in names), group=group)

    @staticmethod
    def _update_arrays(theta, grad, square_avg, *optional, group):
        """RMSprop's update of the array ``theta`` in place, from its gradient ``grad`` and state arrays (v, then
        g_avg if centered, then b if momentum > 0: ``_state_names``). The squares and differences are computed in
        ``wide``: float32 for float16 numbers, rounded once as they are added to the state, as PyTorch's kernels do."""
        lr, alpha, eps, momentum = (float(group[k]) for k in ("lr", "alpha", "eps", "momentum"))
        optional = list(optional)
        grad_avg = optional.pop(0) if group["centered"] else None
        buf = optional.pop(0) if momentum > 0 else None
        g = effective_grad(grad, theta, group)
        wide = compute_dtype(theta.dtype)

        with quiet_for(theta.dtype):  # (float16 past 65,504 is inf, as in PyTorch, which says nothing)
            square_avg *= alpha                                      # v <- alpha v + (1 - alpha) g^2
            square_avg += (1 - alpha) * np.square(g, dtype=wide)
            if grad_avg is not None:                                 # g_avg <- alpha g_avg + (1 - alpha) g
                grad_avg += (1 - alpha) * np.subtract(g, grad_avg, dtype=wide)
                variance = square_avg - np.square(grad_avg, dtype=wide)  # d = sqrt(v - g_avg^2) + eps
                denom = np.sqrt(variance.astype(theta.dtype, copy=False))  # (rounded first, as PyTorch's)
            else:
                denom = np.sqrt(square_avg)                          # d = sqrt(v) + eps
            denom += eps

            if buf is not None:
                buf *= momentum                                      # b <- mu b + g / d
                buf += g / denom
                theta -= lr * buf                                    # theta <- theta - lr b
            else:
                theta -= lr * (g / denom)                            # theta <- theta - lr g / d
