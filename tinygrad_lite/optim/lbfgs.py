r"""``LBFGS``: a quasi-Newton method. It steps along an estimate of -H^{-1} g, the Newton direction, where H (the
Hessian) is never formed: its effect is rebuilt from the last m steps s_k = x_{k+1} - x_k and the changes of the
gradient y_k = g_{k+1} - g_k they caused (limited memory: ``history_size`` pairs).

The two-loop recursion computes d = -H^{-1} g from those pairs (Nocedal and Wright, algorithm 7.4):

    q = -g
    for k from newest to oldest:  a_k = rho_k s_k . q,  q = q - a_k y_k          (rho_k = 1 / (y_k . s_k))
    r = gamma q                                        (gamma = s.y / y.y of the newest pair: the Hessian's scale)
    for k from oldest to newest:  b_k = rho_k y_k . r,  r = r + (a_k - b_k) s_k
    d = r

A pair is kept only when y . s > 1e-10 (the loss curved upward along s), which keeps the estimate positive
definite. Each ``step(closure)`` runs up to ``max_iter`` such iterations, re-evaluating the loss with ``closure``
(so, unlike the other optimizers, ``step`` needs it), and moves by t d: t = lr, or the first time min(1, 1 /
||g||_1) lr, or what the strong Wolfe line search finds (``line_search_fn="strong_wolfe"``, line_search.py). It
stops early when the gradient is below ``tolerance_grad`` or the loss or the step change by less than
``tolerance_change``.

All parameters are treated as one flat vector, so there is one parameter group, and the state (the pairs, the
direction, the step) is kept under the first parameter, as in PyTorch, whose algorithm and order of arithmetic
this follows. The update is on the whole vector at once: this optimizer has no per-parameter options.
"""
from ..autograd.grad_mode import enable_grad, no_grad
from ..creation import tensor
from ..functions import cat
from ..tensor import Tensor
from .line_search import strong_wolfe
from .optimizer import Optimizer, check_hyperparameters


def _number(loss):
    """The closure's loss as a Python float (read without the warning a tensor in the graph gives)."""
    return float(loss.detach()) if isinstance(loss, Tensor) else float(loss)


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
    history_size=100, line_search_fn=None)``; ``max_eval`` defaults to max_iter * 5 // 4. ``step(closure)``:
    ``closure`` zeroes the gradients, computes the loss, calls ``backward`` and returns the loss."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        check_hyperparameters("LBFGS", lr=lr, tolerance_grad=tolerance_grad, tolerance_change=tolerance_change)
        if not 0.0 <= lr:
            raise ValueError(f"LBFGS: Invalid learning rate: {lr}")
        for what, value in (("max_iter", max_iter), ("history_size", history_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"LBFGS: {what} must be a positive integer, got {value!r}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError(f"LBFGS: only 'strong_wolfe' is supported as line_search_fn, got {line_search_fn!r}")
        max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): give it all the "
                             "parameters in one list")
        self._params = self.param_groups[0]["params"]

    # ---------------------------------------------------------------- the parameters as one flat vector
    def _flat_grad(self):
        """Every parameter's gradient, flattened and joined (zeros for a parameter without one)."""
        return cat([p.grad.reshape(-1) if p.grad is not None else p.new_zeros(p.numel()) for p in self._params])

    def _move(self, t, d):
        """x += t d, each parameter taking its stretch of the flat direction d."""
        start = 0
        for p in self._params:
            p.add_(d[start:start + p.numel()].reshape(p.shape) * t)  # (t may be nan or inf: a diverged search)
            start += p.numel()

    def _evaluate_at(self, closure, x, t, d):
        """(loss, flat gradient) at x + t d, the parameters put back to x afterwards (for the line search)."""
        self._move(t, d)
        with enable_grad():
            loss = _number(closure())
        grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p.copy_(saved)
        return loss, grad

    def load_state_dict(self, state_dict):
        """As ``Optimizer.load_state_dict``, but the state's vectors are the flat vector of all the parameters'
        numbers, not shaped like the parameter they are kept under: they are copied as they are (PyTorch's tensors
        too), in the first parameter's dtype and on its device."""
        super().load_state_dict({"state": {}, "param_groups": state_dict["param_groups"]})
        self._params = self.param_groups[0]["params"]
        first = self._params[0]

        def copied(value):
            if isinstance(value, list):
                return [copied(v) for v in value]
            if isinstance(value, Tensor) or hasattr(value, "detach"):
                values = value.array if isinstance(value, Tensor) else value.detach().cpu().numpy()
                return tensor(values, dtype=first.dtype, device=first.device)
            return value
        for index, saved in state_dict["state"].items():
            self.state[self._params[index]] = {key: copied(value) for key, value in saved.items()}

    # ---------------------------------------------------------------- the step
    def _step_parameters(self, closure=None):
        if closure is None:
            raise TypeError("LBFGS.step needs a closure: LBFGS re-evaluates the loss several times per step. "
                               "Pass a function that zeroes the gradients, computes the loss, calls backward and "
                               "returns the loss: optimizer.step(closure)")
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            first_loss = closure()
        loss, evaluations = _number(first_loss), 1
        state["func_evals"] += 1
        with no_grad():
            grad = self._flat_grad()
            if grad.abs().max() <= tolerance_grad:  # already at a minimum
                return first_loss
            self._iterate(closure, state, group, grad, loss, evaluations, lr, max_iter, max_eval, tolerance_grad,
                          tolerance_change)
        return first_loss

    def _iterate(self, closure, state, group, grad, loss, evaluations, lr, max_iter, max_eval, tolerance_grad,
                 tolerance_change):
        """Up to ``max_iter`` quasi-Newton iterations from the gradient ``grad`` at the loss ``loss``."""
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        history = group["history_size"]
        for n in range(1, max_iter + 1):
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # the very first iteration: steepest descent
                d, old_dirs, old_stps, ro, h_diag = -grad, [], [], [], 1
            else:
                y, s = grad - prev_grad, d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep the pair (y, s); drop the oldest beyond history_size
                    if len(old_dirs) == history:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                al = state.setdefault("al", [None] * history)
                q = -grad  # the two-loop recursion (the module's docstring)
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q.sub_(old_dirs[i] * al[i])
                d = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(d) * ro[i]
                    d.add_(old_stps[i] * (al[i] - be_i))
            prev_grad = grad.clone() if prev_grad is None else prev_grad.copy_(grad)
            prev_loss = loss
            t = min(1.0, 1.0 / grad.abs().sum()) * lr if state["n_iter"] == 1 else lr
            slope = grad.dot(d)
            if slope > -tolerance_change:  # d does not go downhill
                break
            if group["line_search_fn"] == "strong_wolfe":
                x = [p.clone() for p in self._params]
                loss, grad, t, spent = strong_wolfe(lambda x_, t_, d_: self._evaluate_at(closure, x_, t_, d_), x,
                                                    t, d, loss, grad, slope, max_ls=max_eval - evaluations)
                self._move(t, d)
                at_minimum = grad.abs().max() <= tolerance_grad
            else:
                self._move(t, d)
                spent, at_minimum = 0, False
                if n != max_iter:  # the loss and gradient at the new point, for the next iteration
                    with enable_grad():
                        loss = _number(closure())
                    grad = self._flat_grad()
                    at_minimum, spent = grad.abs().max() <= tolerance_grad, 1
            evaluations += spent
            state["func_evals"] += spent
            if n == max_iter or evaluations >= max_eval or at_minimum:
                break
            if (d * t).abs().max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break  # the step or the loss barely changed
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag, prev_flat_grad=prev_grad,
                     prev_loss=prev_loss)
