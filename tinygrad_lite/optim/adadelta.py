r"""``Adadelta``: steps sized by the ratio of two running root-mean-squares (Zeiler, 2012), with no lr to tune.

For each parameter \theta with gradient \nabla, learning rate \gamma (lr, default 1), decay \rho, eps \epsilon and
weight decay \lambda, at step t:

    g_t = -\nabla if maximize else \nabla
    g_t = g_t + \lambda \theta_{t-1}                      (if \lambda != 0)
    v_t = \rho v_{t-1} + (1 - \rho) g_t^2                 (``square_avg``: the mean square of the gradients)
    \Delta_t = \sqrt{u_{t-1} + \epsilon} / \sqrt{v_t + \epsilon} \cdot g_t   (u: the mean square of the steps)
    u_t = \rho u_{t-1} + (1 - \rho) \Delta_t^2            (``acc_delta``)
    \theta_t = \theta_{t-1} - \gamma \Delta_t

The ratio gives the step the units of \theta (Zeiler's argument), so lr = 1 works across problems; eps sets the
size of the very first steps, while u is still 0.
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


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``. ``foreach=False``
    updates one parameter at a time; None and True, the small ones all at once (the same numbers).
    ``capturable`` and ``differentiable`` are accepted and change nothing."""

    _tensor_step = True

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        implementation_flags("Adadelta", foreach, capturable, differentiable, None)
        check_hyperparameters("Adadelta", lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        check_at_least_0("Adadelta", [("learning rate", lr), ("epsilon value", eps),
                                      ("weight_decay value", weight_decay)])
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: Invalid rho value: {rho}; it must be in [0, 1]")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        state = self.state[param]
        state["step"], state["square_avg"], state["acc_delta"] = step_state(), zeros_state(param), zeros_state(param)

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            self._init_state(param, group)
        next_step(state)
        self._update_arrays(param.array, param._grad.array, state["square_avg"].array, state["acc_delta"].array,
                            group)

    def _update_many(self, params, group):
        """The multi-tensor path: the same update as ``_update``, on the group's small parameters all at once."""
        for flat, _, theta, g in self._flat_updates(params, group, ["square_avg", "acc_delta"]):
            self._update_arrays(theta, g, flat.flat["square_avg"], flat.flat["acc_delta"], group)

    @staticmethod
    def _update_arrays(theta, grad, v, u, group):
        """Adadelta's update of the array ``theta`` in place from its gradient ``grad`` and the mean squares v, u."""
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        g = effective_grad(grad, theta, group)
        wide = compute_dtype(theta.dtype)
        with quiet_for(theta.dtype):
            v *= rho                                                  # v <- rho v + (1 - rho) g^2
            v += (1 - rho) * np.square(g, dtype=wide)
            delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g           # the step: sqrt(u + eps) / sqrt(v + eps) g
            u *= rho                                                  # u <- rho u + (1 - rho) delta^2
            u += (1 - rho) * np.square(delta, dtype=wide)
            theta -= lr * delta
