r"""``AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

Adam's ``weight_decay`` adds \lambda \theta to the gradient, so the decay is divided by \sqrt{\hat v} like the
gradient: weights with large gradients are barely decayed. AdamW instead shrinks every weight by the same factor
before the Adam step, leaving the running averages alone:

    \theta_{t-1} <- \theta_{t-1} (1 - \gamma \lambda)
    then Adam's step on the plain gradient g_t (see ``adam.py``):
    \theta_t = \theta_{t-1} - \gamma \hat m_t / (\sqrt{\hat v_t} + \epsilon)

The default weight decay is 1e-2 (Adam's is 0). As in PyTorch, AdamW is ``Adam(..., decoupled_weight_decay=True)``.
"""
from .adam import Adam


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused)

    def load_state_dict(self, state_dict):
        """As PyTorch's AdamW: the loaded groups decay decoupled, whatever the state_dict says (an Adam's too)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
