r"""``ASGD``: averaged stochastic gradient descent (Polyak & Juditsky, 1992): SGD whose weights are also averaged.

For each parameter \theta with gradient \nabla, learning rate \gamma (lr), decay \lambda (lambd), power \alpha, the
start of averaging t_0 and weight decay w, starting from \eta_0 = \gamma and \mu_0 = 1, at step t = 1, 2, ...:

    g_t = -\nabla if maximize else \nabla;   g_t = g_t + w \theta_{t-1}          (if w != 0)
    \theta_t = \theta_{t-1} (1 - \lambda \eta_{t-1}) - \eta_{t-1} g_t
    a_t = a_{t-1} + \mu_{t-1} (\theta_t - a_{t-1})        (``ax``: the average; a copy of \theta_t while \mu = 1)
    \eta_t = \gamma / (1 + \lambda \gamma t)^\alpha        (a slowly falling step size)
    \mu_t = 1 / \max(1, t - t_0)                           (from step t_0 on, a running mean of the weights)

The averaged weights ``state[p]["ax"]`` are the method's answer (copy them into the model to evaluate it); the
model's own weights are plain SGD's with the decaying step. ``eta`` and ``mu`` are 0-d tensors in the scalar dtype
(float32, or float64 under a float64 default), read back as numbers, as PyTorch's.
Deliberate difference: ``step``, ``eta`` and ``mu`` stay on the CPU (PyTorch keeps them on the parameter's device).
"""

from .optimizer import (
    Optimizer,
    check_at_least_0,
    check_hyperparameters,
    effective_grad,
    implementation_flags,
    next_step,
    quiet_for,
    step_state,
    zeros_state,
)


class ASGD(Optimizer):
    """``ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, *, maximize=False)``; ``foreach``,
    ``capturable`` and ``differentiable`` are accepted and change nothing. State: ``step``, ``eta``, ``mu``,
    ``ax``, PyTorch's names."""

    _tensor_step = True

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        implementation_flags("ASGD", foreach, capturable, differentiable, None)
        check_hyperparameters("ASGD", lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay)
        check_at_least_0("ASGD", [("learning rate", lr), ("weight_decay value", weight_decay)])
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, group):
        state = self.state[param]
        lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
        if not state:
            state["step"], state["eta"], state["mu"] = step_state(), step_state(), step_state()
            state["eta"].array[...], state["mu"].array[...] = lr, 1
            state["ax"] = zeros_state(param)
        t = next_step(state)
        theta, ax = param.array, state["ax"].array
        eta, mu = float(state["eta"].array), float(state["mu"].array)
        g = effective_grad(param._grad.array, theta, group)
        with quiet_for(theta.dtype):
            theta *= 1 - lambd * eta                 # the decay term
            theta -= eta * g                         # the SGD step
            if mu != 1:
                ax += (theta - ax) * mu              # the running average, from t0 on
            else:
                ax[...] = theta
        state["eta"].array[...] = lr / ((1 + lambd * lr * t) ** alpha)
        state["mu"].array[...] = 1 / max(1, t - t0)
