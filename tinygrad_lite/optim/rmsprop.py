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
"""
import numpy as np

from .optimizer import (
    Optimizer,
    check_hyperparameters,
    effective_grad,
    implementation_flags,
    next_step,
    step_state,
    zeros_state,
)


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)``.

    ``foreach``, ``capturable`` and ``differentiable`` are accepted for PyTorch's scripts and change nothing
    (see ``optimizer.implementation_flags``)."""

    _tensor_step = True  # state["step"] is a 0-d tensor; a numeric step loaded from a checkpoint becomes one

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, *, maximize=False, differentiable=False):
        implementation_flags("RMSprop", foreach, capturable, differentiable, None)
        check_hyperparameters("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        checks = [("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                  ("weight_decay value", weight_decay), ("alpha value", alpha)]
        for what, value in checks:
            if not 0.0 <= value:
                raise ValueError(f"RMSprop: Invalid {what}: {value}; it must be >= 0")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            state["step"], state["square_avg"] = step_state(), zeros_state(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_state(param)
            if group["centered"]:
                state["grad_avg"] = zeros_state(param)
        lr, alpha, eps, momentum = (float(group[k]) for k in ("lr", "alpha", "eps", "momentum"))
        next_step(state)
        g = effective_grad(param, group)

        square_avg = state["square_avg"].array
        square_avg *= alpha                                      # v <- alpha v + (1 - alpha) g^2
        square_avg += (1 - alpha) * (g * g)
        if group["centered"]:
            grad_avg = state["grad_avg"].array
            grad_avg += (1 - alpha) * (g - grad_avg)             # g_avg <- alpha g_avg + (1 - alpha) g
            denom = np.sqrt(square_avg - grad_avg * grad_avg)    # d = sqrt(v - g_avg^2) + eps
        else:
            denom = np.sqrt(square_avg)                          # d = sqrt(v) + eps
        denom += eps

        if momentum > 0:
            buf = state["momentum_buffer"].array
            buf *= momentum                                      # b <- mu b + g / d
            buf += g / denom
            param.array -= lr * buf                              # theta <- theta - lr b
        else:
            param.array -= lr * (g / denom)                      # theta <- theta - lr g / d
