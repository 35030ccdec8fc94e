r"""``Adam``: adaptive moment estimation (Kingma & Ba, 2015), optionally AMSGrad.

For each parameter \theta with gradient \nabla, learning rate \gamma (lr), betas (\beta_1, \beta_2), eps \epsilon,
weight decay \lambda, at step t = 1, 2, ...:

    g_t = -\nabla if maximize else \nabla
    g_t = g_t + \lambda \theta_{t-1}                      (if \lambda != 0: L2 penalty, mixed into the averages)
    m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t             (running mean of the gradient: ``exp_avg``)
    v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2           (running mean of its square: ``exp_avg_sq``)
    \hat m_t = m_t / (1 - \beta_1^t),   \hat v_t = v_t / (1 - \beta_2^t)     (undo the bias of starting at 0)
    amsgrad: v^{max}_t = max(v^{max}_{t-1}, v_t) and \hat v_t = v^{max}_t / (1 - \beta_2^t)   (``max_exp_avg_sq``)
    \theta_t = \theta_{t-1} - \gamma \hat m_t / (\sqrt{\hat v_t} + \epsilon)

Each parameter gets its own step size: \gamma divided by the typical size of its recent gradients.
With ``decoupled_weight_decay=True`` (that is ``AdamW``), the decay leaves g alone and shrinks the parameter
directly before the step: \theta_{t-1} <- \theta_{t-1} (1 - \gamma \lambda).

These are PyTorch's formulas, computed as its default implementation does except for the last line, which we
regroup to save a pass over the arrays (the results agree to rounding). The update works on the arrays directly
with in-place ufuncs (``out=``) and one scratch array, so that a step over a million parameters makes no other
temporary arrays (maximize and non-decoupled weight decay make one more, for g). A large parameter is updated a
block at a time (``optimizer.blocks``): the dozen passes over one block run in the processor's cache. The small
parameters of a group are updated all at once (``_update_many``, PyTorch's ``foreach`` idea): their numbers side by
side in flat arrays (``optimizer.FlatState``), so the dozen passes are a dozen numpy calls for all of them.

On "cuda" the same formula, in the same order, is one fused kernel (``make_update``, compiled by ``cupy.fuse``: see
``kernels/``) that reads each number once and writes theta, m and v in place; the multi-tensor path runs it once
over all the parameters of a group, whatever their sizes.
"""
import math

import numpy as np

from .. import kernels
from ..device import array_module_of
from .optimizer import (
    Optimizer,
    blocks,
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


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False,
    decoupled_weight_decay=False)``.

    ``foreach=False`` updates one parameter at a time; None and True, the small ones all at once (the same
    numbers). ``fused``, ``capturable`` and ``differentiable`` are accepted for PyTorch's scripts and change nothing
    (see ``optimizer.implementation_flags``)."""

    _tensor_step = True  # state["step"] is a 0-d tensor; a numeric step loaded from a checkpoint becomes one

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False, foreach=None, capturable=False, differentiable=False,
                 fused=None):
        name = type(self).__name__
        implementation_flags(name, foreach, capturable, differentiable, fused)
        check_hyperparameters(name, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        check_at_least_0(name, [("learning rate", lr), ("epsilon value", eps)])
        check_betas(name, betas)
        check_at_least_0(name, [("weight_decay value", weight_decay)])
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, param, group):
        """The state of a parameter at its first step: step 0, m = v = 0 (and AMSGrad's v_max = 0)."""
        state = self.state[param]
        state["step"], state["exp_avg"], state["exp_avg_sq"] = step_state(), zeros_state(param), zeros_state(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(param)

    def _update(self, param, group):
        state = self.state[param]
        if not state:
            self._init_state(param, group)
        t = next_step(state)
        arrays = [param.array, param.grad.array, state["exp_avg"].array, state["exp_avg_sq"].array]
        if group["amsgrad"]:
            arrays.append(state["max_exp_avg_sq"].array)
        self._update_arrays(arrays, group, t)

    def _update_many(self, params, group):
        """The multi-tensor path: the same update as ``_update``, on the group's small parameters all at once."""
        names = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] if group["amsgrad"] else ["exp_avg", "exp_avg_sq"]
        for flat, t, theta, g in self._flat_updates(params, group, names):
            self._update_arrays([theta, g] + [flat.flat[name] for name in names], group, t, flat.scratch)

    def _update_arrays(self, arrays, group, t, scratch=None):
        """Adam's update of ``arrays`` = [theta, g, m, v] (+ [v_max] with AMSGrad), of one shape, a block at a time:
        the arrays of one block stay in the cache. ``scratch``: an array of at least a block's size, or None. On a
        GPU: one fused kernel (``make_update``). float16 computes in float32 (the scratch array's dtype) and rounds
        where PyTorch's kernels do, once per stored result, on both devices."""
        wide = compute_dtype(arrays[0].dtype)
        if type(arrays[0]) is not np.ndarray and wide == arrays[0].dtype:
            return self._update_fused(arrays, group, t)
        if scratch is not None and scratch.dtype != wide:
            scratch = None
        for theta, g, m, v, *v_max in blocks(*arrays):
            if scratch is None:  # (the first block is the largest: a whole array, when it is not cut into blocks)
                scratch = array_module_of(theta).empty(theta.size, wide)
            tmp = scratch[:theta.size].reshape(theta.shape)
            with quiet_for(theta.dtype):
                self._update_block(theta, g, m, v, v_max[0] if v_max else None, tmp, group, t)

    @staticmethod
    def _update_block(theta, g, m, v, v_max, tmp, group, t):
        """Adam's update of the numbers ``theta`` (a parameter, or a block of one), in place: ``g`` is their gradient,
        ``m`` and ``v`` the running averages, ``v_max`` AMSGrad's maximum (or None), ``tmp`` a scratch array (of
        float32 for float16 numbers: the terms are computed in it and rounded once as they are added to m, v, theta)."""
        xp = array_module_of(theta)
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                theta *= 1 - lr * weight_decay                   # AdamW: theta <- theta (1 - lr wd)
            else:
                g = g + weight_decay * theta                     # g <- g + wd theta

        xp.subtract(g, m, out=tmp, dtype=tmp.dtype)              # m <- beta1 m + (1 - beta1) g,
        tmp *= 1 - beta1                                         #   computed as m + (1 - beta1)(g - m)
        m += tmp
        xp.multiply(g, g, out=tmp, dtype=tmp.dtype)              # v <- beta2 v + (1 - beta2) g^2
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        if v_max is not None:
            xp.maximum(v_max, v, out=v_max)                      # v_max <- max(v_max, v), used instead of v
            v = v_max

        # theta <- theta - s m / (sqrt(v) / c + eps)  with s = lr / (1 - beta1^t), c = sqrt(1 - beta2^t);
        # multiplying above and below by c gives the same number in one pass fewer:
        # theta <- theta - (s c) m / (sqrt(v) + eps c)
        c = math.sqrt(1 - beta2 ** t)
        if theta.dtype == np.float16:  # PyTorch's order, each result rounded to float16 as its kernels round it:
            denom = xp.sqrt(v) / c + eps  # (an eps below float16's smallest number adds 0 there: m / 0 is inf)
            xp.divide(m, denom, out=tmp, dtype=tmp.dtype)
            tmp *= lr / (1 - beta1 ** t)
        else:
            xp.sqrt(v, out=tmp)
            tmp += eps * c
            xp.divide(m, tmp, out=tmp)
            tmp *= lr / (1 - beta1 ** t) * c
        theta -= tmp

    @staticmethod
    def _update_fused(arrays, group, t):
        """``_update_block``'s update of [theta, g, m, v] (+ [v_max]) on a GPU, as one fused kernel: the numbers that
        do not change from element to element are computed here, in Python, as ``_update_block`` computes them, and
        passed in the arrays' dtype (the CPU's ufuncs round them to it the same way)."""
        theta = arrays[0]
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        decoupled = weight_decay != 0 and bool(group["decoupled_weight_decay"])
        c = math.sqrt(1 - beta2 ** t)
        number = theta.dtype.type
        kernel = kernels.fused(array_module_of(theta), make_update, bool(group["maximize"]), decoupled,
                               weight_decay != 0 and not decoupled, len(arrays) == 5)
        kernel(*arrays[:4], arrays[4] if len(arrays) == 5 else None, number(1 - lr * weight_decay),
               number(weight_decay), number(1 - beta1), number(beta2), number(1 - beta2), number(eps * c),
               number(lr / (1 - beta1 ** t) * c))


def make_update(xp, maximize, decoupled, l2, amsgrad):
    r"""Adam's update (``Adam._update_block``) as one fused kernel, in place on theta, m, v (and v_max):

        g <- -g (maximize);  theta <- theta (1 - lr wd) (decoupled: AdamW);  g <- g + wd theta (l2: Adam's)
        m <- m + (1 - \beta_1)(g - m);   v <- \beta_2 v + (1 - \beta_2) g^2;   v <- v_max <- max(v_max, v) (amsgrad)
        theta <- theta - (m / (\sqrt{v} + eps c)) s      c = \sqrt{1 - \beta_2^t}, s = lr c / (1 - \beta_1^t)

    The flags choose the kernel (each set its own); the numbers are its arguments."""
    def adam(theta, g, m, v, v_max, decay, weight_decay, one_minus_beta1, beta2, one_minus_beta2, eps_c, step_size):
        if maximize:
            g = -g
        if decoupled:
            theta *= decay
        if l2:
            g = g + weight_decay * theta
        m += (g - m) * one_minus_beta1
        v *= beta2
        v += g * g * one_minus_beta2
        if amsgrad:
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        theta -= m / (xp.sqrt(v) + eps_c) * step_size
    return adam
