r"""``Rprop``: resilient backpropagation (Riedmiller & Braun, 1993): each weight's own step size, from signs only.

For each parameter \theta with gradient \nabla, per number, with etas (\eta^-, \eta^+) and step sizes clamped to
[s_min, s_max], starting from s_0 = lr and g_0 = 0, at step t = 1, 2, ...:

    g_t = -\nabla if maximize else \nabla
    s_t = clamp(s_{t-1} \cdot \eta^+, ...)  if g_t g_{t-1} > 0     (the same direction again: longer steps)
          clamp(s_{t-1} \cdot \eta^-, ...)  if g_t g_{t-1} < 0     (overshot a minimum: shorter, and no step now;
          s_{t-1}                           otherwise               g_t counts as 0 for the next comparison)
    \theta_t = \theta_{t-1} - sign(g_t) s_t

Only the gradient's sign moves a weight, never its size, which makes it robust to badly scaled gradients; it is meant
for full batches (a mini-batch's noisy signs keep shrinking the steps).
"""
from ..device import array_module_of
from .optimizer import (
    Optimizer,
    check_at_least_0,
    check_hyperparameters,
    implementation_flags,
    next_step,
    quiet_for,
    step_state,
    zeros_state,
)


class Rprop(Optimizer):
    """``Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False)``; ``foreach``,
    ``capturable`` and ``differentiable`` are accepted and change nothing. State: ``step``, ``prev`` (the last
    gradient, 0 where it changed sign) and ``step_size``, PyTorch's names."""

    _tensor_step = True

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        implementation_flags("Rprop", foreach, capturable, differentiable, None)
        check_hyperparameters("Rprop", lr=lr)
        for name, pair in (("etas", etas), ("step_sizes", step_sizes)):
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"Rprop(): {name} must be a pair of numbers, got {pair!r:.60}")
            check_hyperparameters("Rprop", **{f"{name}[{i}]": v for i, v in enumerate(pair)})
        check_at_least_0("Rprop", [("learning rate", lr)])
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]} (Rprop: etas = (eta_minus, eta_plus) with "
                             "0 < eta_minus < 1 < eta_plus)")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            state["step"], state["prev"] = step_state(), zeros_state(param)
            state["step_size"] = zeros_state(param, fill=float(group["lr"]))
        next_step(state)
        theta, prev, size = param.array, state["prev"].array, state["step_size"].array
        xp = array_module_of(theta)
        eta_minus, eta_plus, one, zero = (xp.asarray(e, dtype=theta.dtype) for e in (*group["etas"], 1, 0))
        low, high = (float(s) for s in group["step_sizes"])
        g = -param._grad.array if group["maximize"] else param._grad.array
        with quiet_for(theta.dtype):
            sign = xp.sign(g * prev)
            factor = xp.where(sign > 0, eta_plus, xp.where(sign < 0, eta_minus, one))
            size *= factor                                   # longer or shorter steps, per number
            xp.clip(size, low, high, out=size)
            g = xp.where(factor == eta_minus, zero, g)       # (a sign change: no step this time)
            theta -= xp.sign(g) * size
            prev[...] = g
