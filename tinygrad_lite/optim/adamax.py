r"""``Adamax``: Adam with the infinity norm (Kingma & Ba, 2015, section 7): v is a decaying maximum of |g|.

For each parameter \theta with gradient \nabla, learning rate \gamma (lr), betas (\beta_1, \beta_2), eps \epsilon and
weight decay \lambda, at step t = 1, 2, ...:

    g_t = -\nabla if maximize else \nabla
    g_t = g_t + \lambda \theta_{t-1}                      (if \lambda != 0)
    m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t             (``exp_avg``)
    u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)         (``exp_inf``, starts at 0)
    \theta_t = \theta_{t-1} - \gamma / (1 - \beta_1^t) \cdot m_t / u_t

The step divides by the largest recent gradient instead of Adam's root mean square, which makes it less sensitive
to a single large gradient's square.
"""
import numpy as np

from .optimizer import (
    Optimizer,
    check_at_least_0,
    check_betas,
    check_hyperparameters,
    compute_dtype,
    effective_grad,
    implementation_flags,
    next_step,
    quiet_for,
    step_state,
    zeros_state,
)


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False)``.
    ``foreach=False`` updates one parameter at a time; None and True, the small ones all at once (the same
    numbers). ``capturable`` and ``differentiable`` are accepted and change nothing."""

    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        implementation_flags("Adamax", foreach, capturable, differentiable, None)
        check_hyperparameters("Adamax", lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        check_at_least_0("Adamax", [("learning rate", lr), ("epsilon value", eps),
                                    ("weight_decay value", weight_decay)])
        check_betas("Adamax", betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = self.state[param]
        state["step"], state["exp_avg"], state["exp_inf"] = step_state(), zeros_state(param), zeros_state(param)

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            self._init_state(param, group)
        t = next_step(state)
        self._update_arrays(param.array, param._grad.array, state["exp_avg"].array, state["exp_inf"].array,
                            group, t)

    def _update_many(self, params, group):
        """The multi-tensor path: the same update as ``_update``, on the group's small parameters all at once."""
        for flat, t, theta, g in self._flat_updates(params, group, ["exp_avg", "exp_inf"]):
            self._update_arrays(theta, g, flat.flat["exp_avg"], flat.flat["exp_inf"], group, t)

    @staticmethod
    def _update_arrays(theta, grad, m, u, group, t):
        """Adamax's update of the array ``theta`` in place from its gradient ``grad``, m, u and the step count t."""
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        g = effective_grad(grad, theta, group)
        with quiet_for(theta.dtype):
            m += (1 - beta1) * np.subtract(g, m, dtype=compute_dtype(theta.dtype))  # m <- m + (1 - beta1)(g - m)
            u *= beta2                                                # u <- max(beta2 u, |g| + eps)
            np.maximum(u, np.abs(g) + eps, out=u)
            theta -= lr / (1 - beta1 ** t) * (m / u)                  # theta <- theta - lr / (1 - beta1^t) m / u
