r"""``NAdam``: Adam with Nesterov momentum (Dozat, 2016): the step looks ahead along the running mean.

For each parameter \theta with gradient \nabla, learning rate \gamma (lr), betas (\beta_1, \beta_2), eps \epsilon,
weight decay \lambda and momentum decay \psi, at step t = 1, 2, ...:

    g_t = -\nabla if maximize else \nabla
    g_t = g_t + \lambda \theta_{t-1}                      (if \lambda != 0; with ``decoupled_weight_decay``
                                                            \theta_{t-1} <- \theta_{t-1} (1 - \gamma \lambda) instead)
    \mu_t = \beta_1 (1 - 0.96^{t \psi} / 2)              (a momentum that warms up from \beta_1 / 2 to \beta_1)
    \Pi_t = \Pi_{t-1} \mu_t                               (``mu_product``, starts at 1)
    m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t,   v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2
    d_t = \sqrt{v_t / (1 - \beta_2^t)} + \epsilon
    \theta_t = \theta_{t-1} - \gamma (1 - \mu_t) / (1 - \Pi_t) \cdot g_t / d_t
                            - \gamma \mu_{t+1} / (1 - \Pi_t \mu_{t+1}) \cdot m_t / d_t

Where Adam steps along m_t, NAdam steps along a mix of this step's gradient and the mean it will have after the
next one: Nesterov's "look ahead" for adaptive steps. As in PyTorch, \Pi_t is kept as a 0-d float32 tensor on the
CPU (float64 under a float64 default dtype), like ``step``.

Deliberate difference: NAdam has only the per-parameter path (``foreach`` changes nothing).
"""
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


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, maximize=False)``. ``foreach``, ``capturable`` and ``differentiable`` are
    accepted for PyTorch's scripts and change nothing (see ``optimizer.implementation_flags``)."""

    _tensor_step = True  # state["step"] is a 0-d tensor; a numeric step loaded from a checkpoint becomes one

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        implementation_flags("NAdam", foreach, capturable, differentiable, None)
        check_hyperparameters("NAdam", lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                              momentum_decay=momentum_decay)
        check_at_least_0("NAdam", [("learning rate", lr), ("epsilon value", eps), ("weight_decay value", weight_decay),
                                   ("momentum_decay value", momentum_decay)])
        check_betas("NAdam", betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        """The state of a parameter at its first step: step 0, the product of the momenta 1, m = v = 0."""
        state = self.state[param]
        state["step"], state["mu_product"] = step_state(), step_state()
        state["mu_product"].array[...] = 1
        state["exp_avg"], state["exp_avg_sq"] = zeros_state(param), zeros_state(param)

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            self._init_state(param, group)
        t = next_step(state)
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        psi = float(group["momentum_decay"])
        theta, m, v = param.array, state["exp_avg"].array, state["exp_avg_sq"].array
        g = -param._grad.array if group["maximize"] else param._grad.array
        wide = compute_dtype(theta.dtype)
        with quiet_for(theta.dtype):
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    theta *= 1 - lr * weight_decay                    # theta <- theta (1 - lr wd)
                else:
                    g = g + weight_decay * theta                      # g <- g + wd theta
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))              # this step's momentum
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))   # the next one's
            product = state["mu_product"].array
            product *= mu                                             # Pi <- Pi mu (in its own float32)
            pi = float(product)
            m += (1 - beta1) * np.subtract(g, m, dtype=wide)          # m <- m + (1 - beta1)(g - m)
            v *= beta2                                                # v <- beta2 v + (1 - beta2) g^2
            v += (1 - beta2) * np.square(g, dtype=wide)
            denom = np.sqrt(v / (1 - beta2 ** t)) + eps               # d = sqrt(v / (1 - beta2^t)) + eps
            theta -= lr * (1 - mu) / (1 - pi) * (g / denom)           # the gradient's part of the step
            theta -= lr * mu_next / (1 - pi * mu_next) * (m / denom)  # the mean's, looking one step ahead
