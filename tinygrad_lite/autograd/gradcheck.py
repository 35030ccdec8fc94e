r"""Gradient checking: is autograd's answer the slope you can measure?

For each input element x_j we nudge it both ways and measure the output's change (central difference):

    df/dx_j  ~=  (f(x + h e_j) - f(x - h e_j)) / (2h)

whose error shrinks like h^2. Doing this for every j gives the numeric Jacobian J[i, j] = df_i/dx_j. Autograd
gives row i of the same Jacobian from one backward pass with the gradient e_i (a one-hot vector). The two
must agree to within ``atol + rtol * |numeric|``. Float64 is required: in float32, rounding error of size
1e-7 / h would swamp the comparison.
"""
import warnings

import numpy as np

from .grad_mode import enable_grad, no_grad


def _as_tuple(x):
    return x if isinstance(x, (tuple, list)) else (x,)


def _flat_outputs(fn, inputs):
    with no_grad():
        return [o.detach().cpu().numpy().reshape(-1).astype(np.float64) for o in _as_tuple(fn(*inputs))]  # (GPU too)


def numeric_jacobians(fn, inputs, eps):
    """J[k][o] for input k and output o, each of shape (outputs' numel, input's numel), by central differences."""
    jacobians = []
    for x in inputs:
        if not getattr(x, "requires_grad", False):
            jacobians.append(None)
            continue
        columns = []
        for j in range(x.array.size):
            at = np.unravel_index(j, x.array.shape)  # nudge x.array itself (it may be a non-contiguous view)
            original = x.array[at].item()
            try:  # (the input is given back as it was, even when fn raises)
                x.array[at] = original + eps
                plus = _flat_outputs(fn, inputs)
                x.array[at] = original - eps
                minus = _flat_outputs(fn, inputs)
            finally:
                x.array[at] = original
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        jacobians.append([np.stack([c[o] for c in columns], axis=1) for o in range(len(columns[0]))]
                         if columns else None)
    return jacobians


def analytic_jacobians(fn, inputs):
    """The same Jacobians from autograd: one backward pass per output element."""
    from . import grad  # (here: the package defines grad after importing this module)
    outputs = _as_tuple(fn(*inputs))
    wanted = [x for x in inputs if getattr(x, "requires_grad", False)]
    result = {id(x): [] for x in wanted}
    for out in outputs:
        rows = {id(x): np.zeros((out.numel(), x.numel())) for x in wanted}
        for i in range(out.numel()):
            onehot = np.zeros(out.numel(), dtype=out.array.dtype)
            onehot[i] = 1
            if out.requires_grad:
                grads = grad(out, wanted, onehot.reshape(out.shape), retain_graph=True, allow_unused=True)
                for x, g in zip(wanted, grads):
                    if g is not None:
                        rows[id(x)][i] = g.cpu().numpy().reshape(-1)
        for x in wanted:
            result[id(x)].append(rows[id(x)])
    return [result.get(id(x)) for x in inputs]


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Check autograd's gradients of ``fn(*inputs)`` against central differences.

    Returns True when they match. Otherwise raises ``GradcheckError`` naming the input, the output, the
    element, and the analytic and numeric values (or returns False with ``raise_exception=False``).
    Only inputs with ``requires_grad=True`` are checked; they should be float64 (another dtype warns). PyTorch's
    other switches are taken and change nothing (``fast_mode``: the whole Jacobian is compared anyway;
    ``nondet_tol``: backward is deterministic here), except the checks of what this library lacks (vmap,
    forward-mode AD), which raise.
    """
    if check_batched_grad or check_batched_forward_grad or check_forward_ad or not check_backward_ad:
        raise NotImplementedError("gradcheck: tinygrad_lite checks backward-mode gradients only (it has no vmap or "
                                  "forward-mode AD); leave check_batched_grad, check_batched_forward_grad, "
                                  "check_forward_ad and check_backward_ad at their defaults")
    inputs = tuple(_as_tuple(inputs))
    for k, x in enumerate(inputs):  # (float32 differences are too coarse: the check will likely fail, as PyTorch's)
        if getattr(x, "requires_grad", False) and x.array.dtype != np.float64:
            warnings.warn(f"gradcheck: input {k} requires gradient and is {x.dtype}, not float64: finite differences "
                          "in it are too coarse, so this check will likely fail; pass x.double()", stacklevel=2)
    if not any(getattr(x, "requires_grad", False) for x in inputs):
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    with no_grad():  # (before any input is nudged: fn must return tensors, as PyTorch checks first)
        returned = [o for o in _as_tuple(fn(*inputs)) if not hasattr(o, "requires_grad")]  # (not a tensor)
    if returned:
        raise TypeError(f"gradcheck: fn must return a tensor or a tuple of tensors, got {type(returned[0]).__name__} "
                        "(a number from .item() has no gradient to check: return the tensor itself)")
    numeric = numeric_jacobians(fn, inputs, eps)
    analytic = analytic_jacobians(fn, inputs)
    for k, (num_k, ana_k) in enumerate(zip(numeric, analytic)):
        if num_k is None:
            continue
        for o, (num, ana) in enumerate(zip(num_k, ana_k)):
            bad = ~np.isclose(ana, num, rtol=rtol, atol=atol, equal_nan=True)
            if bad.any():
                i, j = np.argwhere(bad)[0]
                where = np.unravel_index(j, inputs[k].shape) if inputs[k].ndim else ()
                message = (f"gradcheck: gradient mismatch for input {k} at element {tuple(int(n) for n in where)} "
                           f"(output {o}, element {int(i)}): analytic {ana[i, j]:.8g}, numeric {num[i, j]:.8g} "
                           f"(difference {abs(ana[i, j] - num[i, j]):.3g}; {int(bad.sum())} of {bad.size} entries of "
                           f"the Jacobian differ beyond atol={atol}, rtol={rtol})")
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check the gradients of gradients (``create_graph=True``) of ``func(*inputs)`` against central differences.

    The function checked is (x, v) -> dL/dx with L = <v, func(x)> and v = ``grad_outputs``: the first gradient,
    computed with its graph recorded, as a function of the inputs and of v (random normal numbers when not given,
    as PyTorch's). So ``gradcheck`` of it compares the second derivatives with finite differences of the first ones.
    """
    if check_batched_grad or check_fwd_over_rev or not check_rev_over_rev:
        raise NotImplementedError("gradgradcheck: tinygrad_lite checks reverse-over-reverse gradients only (it has no "
                                  "vmap or forward-mode AD); leave check_batched_grad, check_fwd_over_rev and "
                                  "check_rev_over_rev at their defaults")
    from . import grad  # (here: the package defines grad after importing this module)
    inputs = tuple(_as_tuple(inputs))
    outputs = [o for o in _as_tuple(func(*inputs)) if o.requires_grad]
    if not outputs:
        raise RuntimeError("gradgradcheck: no output of the function requires grad (none depends on an input that "
                           "requires grad, or it was detached), so there is no gradient to differentiate")
    if grad_outputs is None:  # (drawn from the default generator, as PyTorch's: torch.manual_seed fixes them)
        from ..creation import randn_like  # (here: creation builds on the Tensor, which builds on this package)
        grad_outputs = [randn_like(o, requires_grad=True) for o in outputs]
    grad_outputs = tuple(_as_tuple(grad_outputs))

    def first_gradients(*args):
        with enable_grad():  # (gradcheck measures its function under no_grad; this one computes gradients)
            outs = [o for o in _as_tuple(func(*args[:len(inputs)])) if o.requires_grad]
            given = [x for x in args[:len(inputs)] if getattr(x, "requires_grad", False)]
            grads = grad(outs, given, list(args[len(inputs):]), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_gradients, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


class GradcheckError(RuntimeError):
    """Autograd's gradient disagrees with the finite-difference estimate."""
