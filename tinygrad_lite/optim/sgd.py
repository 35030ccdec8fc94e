r"""``SGD``: stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

For each parameter \theta with gradient \nabla, learning rate \gamma (lr), momentum \mu, dampening \tau,
weight decay \lambda, at step t:

    g_t = -\nabla if maximize else \nabla
    g_t = g_t + \lambda \theta_{t-1}                        (if \lambda != 0: the L2 penalty's gradient)
    if \mu != 0:
        b_t = g_t                                            (t = 1)
        b_t = \mu b_{t-1} + (1 - \tau) g_t                   (t > 1)
        g_t = g_t + \mu b_t  if nesterov  else  b_t
    \theta_t = \theta_{t-1} - \gamma g_t

b is the momentum buffer (``state[p]["momentum_buffer"]``): a running sum of past gradients that keeps the
parameter moving through small bumps and along shallow valleys. The formulas are PyTorch's: note that the first
step copies g into b without dampening, and that momentum is applied to the gradient, not to \gamma g.

With momentum, the small parameters of a group are updated all at once (``_update_many``, PyTorch's ``foreach``
idea), side by side in flat arrays (``optimizer.FlatState``): the same numbers, in a few numpy calls for all of them.

On "cuda" the update is one fused kernel (``make_update``, compiled by ``cupy.fuse``: see ``kernels/``), in place on
theta and b, over all the parameters of a group at once (with or without momentum).
"""
import numpy as np

from .. import kernels
from ..device import array_module_of
from .optimizer import (
    Optimizer,
    check_hyperparameters,
    effective_grad,
    implementation_flags,
    subtract_scaled_,
    zeros_state,
)


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``.

    ``foreach=False`` updates one parameter at a time; None and True, with momentum, the small ones all at once
    (the same numbers; plain SGD, one pass per parameter, is faster one at a time). ``fused`` and ``differentiable``
    are accepted for PyTorch's scripts and change nothing (see
    ``optimizer.implementation_flags``)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        implementation_flags("SGD", foreach, False, differentiable, fused)
        check_hyperparameters("SGD", lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
        if lr < 0.0:
            raise ValueError(f"SGD: Invalid learning rate: {lr}; it must be >= 0")
        if momentum < 0.0:
            raise ValueError(f"SGD: Invalid momentum value: {momentum}; it must be >= 0 (0.9 is usual)")
        if weight_decay < 0.0:
            raise ValueError(f"SGD: Invalid weight_decay value: {weight_decay}; it must be >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum and zero dampening (got momentum="
                             f"{momentum}, dampening={dampening}); e.g. SGD(params, lr, momentum=0.9, nesterov=True)")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update(self, param, group):
        buf, first = None, False
        if float(group["momentum"]) != 0:
            state = self.state[param]
            if state.get("momentum_buffer") is None:
                state["momentum_buffer"], first = zeros_state(param), True
            buf = state["momentum_buffer"].array
        self._update_arrays(param.array, param._grad.array, buf, group, first)

    def _update_many(self, params, group):
        """The multi-tensor path: the same update as ``_update``, on the group's small parameters all at once."""
        if float(group["momentum"]) == 0:
            if type(params[0].array) is not np.ndarray:  # on a GPU: one fused kernel over the group
                for _, _, theta, g in self._flat_updates(params, group, [], steps=False):
                    self._update_arrays(theta, g, None, group)
                return
            for param in params:  # on the CPU one pass per parameter: copying them into a flat array costs more
                self._update(param, group)
            return
        ready = []
        for param in params:
            if self.state[param].get("momentum_buffer") is None:
                self._update(param, group)                           # the first step with momentum: b_1 = g_1
            else:
                ready.append(param)
        for flat, _, theta, g in self._flat_updates(ready, group, ["momentum_buffer"], steps=False):
            self._update_arrays(theta, g, flat.flat["momentum_buffer"], group)

    @staticmethod
    def _update_arrays(theta, grad, buf, group, first=False):
        """SGD's update of the array ``theta`` in place, from its gradient ``grad`` and momentum buffer ``buf`` (None
        without momentum); ``first``: the buffer is new (b_1 = g_1)."""
        lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        if type(theta) is not np.ndarray:  # on a GPU: the same update as one fused kernel
            number, weight_decay = theta.dtype.type, float(group["weight_decay"])
            kernel = kernels.fused(array_module_of(theta), make_update, bool(group["maximize"]), weight_decay != 0,
                                   None if buf is None else bool(first), bool(group["nesterov"]))
            return kernel(theta, grad, buf, number(weight_decay), number(momentum), number(1 - dampening), number(lr))
        g = effective_grad(grad, theta, group)
        if buf is not None:
            if first:
                buf[...] = g                                                 # b_1 = g_1
            else:
                buf *= momentum                                              # b_t = mu b_{t-1} + (1 - tau) g_t
                buf += (1 - dampening) * g
            g = g + momentum * buf if group["nesterov"] else buf
        subtract_scaled_(theta, g, lr)                                      # theta_t = theta_{t-1} - lr g_t


def make_update(xp, maximize, decay, first, nesterov):
    r"""SGD's update (``SGD._update_arrays``) as one fused kernel, in place on theta and the momentum buffer b:

        g <- -g (maximize);   g <- g + \lambda theta (decay)
        with momentum (``first`` is not None): b <- g (first: its first step), else b <- \mu b + (1 - \tau) g;
                                               g <- g + \mu b (nesterov), else g <- b
        theta <- theta - lr g

    The flags choose the kernel (each set its own); the numbers are its arguments."""
    def sgd(theta, g, b, weight_decay, momentum, one_minus_dampening, lr):
        if maximize:
            g = -g
        if decay:
            g = g + weight_decay * theta
        if first is not None:
            if first:
                b[...] = g
            else:
                b *= momentum
                b += one_minus_dampening * g
            g = g + momentum * b if nesterov else b
        theta -= lr * g
    return sgd
