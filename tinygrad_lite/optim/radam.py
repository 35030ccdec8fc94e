r"""``RAdam``: Adam with its adaptive step "rectified" (Liu et al., 2020): no adaptive step until v is reliable.

For each parameter \theta with gradient \nabla, learning rate \gamma (lr), betas (\beta_1, \beta_2), eps \epsilon and
weight decay \lambda, at step t = 1, 2, ...:

    g_t = -\nabla if maximize else \nabla
    g_t = g_t + \lambda \theta_{t-1}                      (if \lambda != 0; with ``decoupled_weight_decay``
                                                            \theta_{t-1} <- \theta_{t-1} (1 - \gamma \lambda) instead)
    m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t,   v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2
    \hat m_t = m_t / (1 - \beta_1^t)
    \rho_\infty = 2 / (1 - \beta_2) - 1,   \rho_t = \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t)
    if \rho_t > 5:   (v_t averages enough gradients for its variance to be trusted)
        r_t = \sqrt{(\rho_t - 4)(\rho_t - 2) \rho_\infty / ((\rho_\infty - 4)(\rho_\infty - 2) \rho_t)}
        \theta_t = \theta_{t-1} - \gamma \hat m_t r_t \sqrt{1 - \beta_2^t} / (\sqrt{v_t} + \epsilon)
    else:            (the first few steps: plain momentum SGD)
        \theta_t = \theta_{t-1} - \gamma \hat m_t

Adam's first steps divide by a v_t made of one or two gradients, so their size is noise; a learning-rate warmup is
the usual cure, and RAdam builds one in: r_t grows from 0 towards 1 as v_t averages more gradients.
"""
import math

import numpy as np

from .optimizer import (
    Optimizer,
    check_at_least_0,
    check_betas,
    check_hyperparameters,
    compute_dtype,
    implementation_flags,
    next_step,
    quiet_for,
    step_state,
    zeros_state,
)


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
    maximize=False)``. ``foreach=False`` updates one parameter at a time; None and True, the small ones all at
    once (the same numbers). ``capturable`` and ``differentiable`` are accepted and change nothing."""

    _tensor_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        implementation_flags("RAdam", foreach, capturable, differentiable, None)
        check_hyperparameters("RAdam", lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        check_at_least_0("RAdam", [("learning rate", lr), ("epsilon value", eps),
                                   ("weight_decay value", weight_decay)])
        check_betas("RAdam", betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = self.state[param]
        state["step"], state["exp_avg"], state["exp_avg_sq"] = step_state(), zeros_state(param), zeros_state(param)

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            self._init_state(param, group)
        t = next_step(state)
        self._update_arrays(param.array, param._grad.array, state["exp_avg"].array, state["exp_avg_sq"].array,
                            group, t)

    def _update_many(self, params, group):
        """The multi-tensor path: the same update as ``_update``, on the group's small parameters all at once."""
        for flat, t, theta, g in self._flat_updates(params, group, ["exp_avg", "exp_avg_sq"]):
            self._update_arrays(theta, g, flat.flat["exp_avg"], flat.flat["exp_avg_sq"], group, t)

    @staticmethod
    def _update_arrays(theta, grad, m, v, group, t):
        """RAdam's update of the array ``theta`` in place from its gradient ``grad``, m, v and the step count t."""
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        g = -grad if group["maximize"] else grad
        wide = compute_dtype(theta.dtype)
        with quiet_for(theta.dtype):
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    theta *= 1 - lr * weight_decay
                else:
                    g = g + weight_decay * theta
            m += (1 - beta1) * np.subtract(g, m, dtype=wide)          # m <- m + (1 - beta1)(g - m)
            v *= beta2                                                # v <- beta2 v + (1 - beta2) g^2
            v += (1 - beta2) * np.square(g, dtype=wide)
            m_hat = m / (1 - beta1 ** t)
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
            if rho_t > 5.0:                                           # the rectified adaptive step
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                theta -= m_hat * lr * (math.sqrt(1 - beta2 ** t) / (np.sqrt(v) + eps)) * rect
            else:                                                     # momentum SGD while v is unreliable
                theta -= m_hat * lr
