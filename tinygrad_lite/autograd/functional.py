r"""``torch.autograd.functional``: Jacobians, Hessians and their products with a vector, for a function of tensors.

For a function f of the inputs x, J = df/dx has one row per number of the outputs and one column per number of
the inputs; for an f that returns one number, H = d^2 f / dx^2 (the Jacobian of its gradient).

    vjp(f, x, v)    v^T J     one backward pass, started from v
    jvp(f, x, v)    J v       two backward passes: u -> u^T J is linear in u, so d/du <u^T J, v> = J v
    jacobian(f, x)  J         one backward pass per number of the outputs (one row each)
    vhp(f, x, v)    v^T H     the gradient of <df/dx, v>: a backward pass through a recorded backward pass
    hvp(f, x, v)    H v       the same numbers when H is symmetric; computed with jvp's trick, as PyTorch's
    hessian(f, x)   H         the Jacobian of the gradient

All but vjp and jacobian differentiate a gradient, so they use ``create_graph=True`` (``higher_order.py``).

``inputs`` is a Tensor or a tuple of Tensors, and the results have the same structure: ``jacobian`` of a function
of one tensor returning one tensor is a tensor of shape ``output.shape + input.shape``; with tuples, ``jac[i][j]``
is that of output i with respect to input j. An input that an output does not depend on gets zeros, or an error
with ``strict=True``. The results are detached from the graph unless ``create_graph=True``, in which case they can
be differentiated again (a Hessian of a Hessian-vector product...). As in PyTorch, f is given fresh tensors, so
that its result depends on the arguments it is given and not on tensors it finds elsewhere.

Deliberate difference: there is no vmap here, so ``vectorize=True`` and ``strategy="forward-mode"`` compute the
same numbers row by row, by reverse mode.
"""
from . import grad_mode

_KINDS_OF_INDEPENDENCE = {  # strict=True: what it means that a gradient came back None, by computation
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in strict "
                  "mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def _as_tuple(value, what, fn_name):
    """(was it a tuple?, the Tensors as a tuple), after checking that they are Tensors (PyTorch's TypeError)."""
    from ..tensor import Tensor  # (here: tensor.py builds on this package)
    was_tuple = isinstance(value, tuple)
    values = value if was_tuple else (value,)
    for i, item in enumerate(values):
        if not isinstance(item, Tensor):
            at = f"the value at index {i}" if was_tuple else f"the given {what}"
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors but {at} "
                            f"has type {type(item)}.")
    return was_tuple, values


def _fresh(tensors, create_graph, need_graph):
    """New Tensor objects for f's arguments: connected to the given ones when the result's graph is wanted (a view),
    else detached leaves (requiring grad when we differentiate with respect to them)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
                 for t in tensors)


def _finished(results, create_graph):
    """The results detached from the graph, unless the caller asked to keep it (tuples of tuples too)."""
    if create_graph:
        return results
    return tuple(r.detach() if not isinstance(r, tuple) else _finished(r, create_graph) for r in results)


def _unpacked(results, outer_was_tuple, inner_was_tuple=True):
    """Undo ``_as_tuple``: a tuple's place gets the lone item back where the caller gave a Tensor, not a tuple."""
    if not inner_was_tuple:
        results = tuple(r[0] for r in results)
    return results if outer_was_tuple else results[0]


def _check_v_shapes(v, like, like_was_tuple):
    if len(v) != len(like):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}." if like_was_tuple
                           else "The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if like_was_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {b.shape} but got {a.shape}.")


def _check_requires_grad(tensors, kind, strict):
    """With ``strict=True``: each of ``tensors`` must depend on the inputs (PyTorch's messages, by kind)."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode.")
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(f"The hessian of the user-provided function with respect to input {i} is independent "
                               "of the input. This is not allowed in strict mode. You should ensure that your function "
                               "is thrice differentiable and that the hessian depends on the inputs.")
        if kind == "jacobian":
            raise RuntimeError(f"While computing the hessian, found that the jacobian of the user-provided function "
                               f"with respect to input {i} is independent of the input. This is not allowed in strict "
                               "mode. You should ensure that your function is twice differentiable and that the "
                               "jacobian depends on the inputs (this would be violated by a linear function for "
                               "example).")
        if kind == "grad_inputs":
            raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of the "
                               "user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The outputs must "
                           "be computed in a differentiable manner from the input when running in strict mode.")


def grad_of_differentiable(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` of the outputs that require grad (None for every input when none does, or there is no
    input). ``func.py``'s transforms use it too."""
    from . import grad  # (here: the package defines grad after importing this module)
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else grad_outputs
    kept = [(out, g) for out, g in zip(outputs, grad_outputs) if out is not None and out.requires_grad]
    if not kept or not inputs:
        return (None,) * len(inputs)
    return grad([out for out, _ in kept], list(inputs), [g for _, g in kept], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


def _zeros_where_missing(grads, like, strict, create_graph, stage):
    """Zeros in place of each None (an input the result does not depend on), or an error with ``strict=True``."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(_KINDS_OF_INDEPENDENCE[stage].format(i=i))
            g = ref.detach().new_zeros(ref.shape)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        filled.append(g)
    return tuple(filled)


def _prepared(fn_name, func, inputs, v, v_like_outputs, create_graph, strict):
    """The steps every function here starts with: fresh inputs, v checked against the inputs or the outputs (or
    None allowed where they hold one number), and f's outputs."""
    inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _fresh(inputs, create_graph, need_graph=True)
    if not v_like_outputs:  # (checked before f runs, as PyTorch's)
        v = _checked_v(fn_name, v, inputs, inputs_were_tuple, create_graph, "the input to the user-provided function "
                       "is")
    outputs_were_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    if v_like_outputs:
        v = _checked_v(fn_name, v, outputs, outputs_were_tuple, create_graph, "the user-provided function returns")
    return inputs, inputs_were_tuple, outputs, outputs_were_tuple, v


def _checked_v(fn_name, v, like, like_was_tuple, create_graph, which):
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if {which} a single Tensor with a single element.")
        return None
    v = _fresh(_as_tuple(v, "v", fn_name)[1], create_graph, need_graph=False)
    _check_v_shapes(v, like, like_was_tuple)
    return v


def _one_number(fn_name, outputs, outputs_were_tuple):
    if outputs_were_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")


def _last_pass(firsts, wrt, v, like, strict, create_graph, stage):
    """The last backward pass, from v, recorded only if the caller asked (or grad mode is on, as PyTorch's)."""
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        grads = grad_of_differentiable(firsts, wrt, v, create_graph)
        return _zeros_where_missing(grads, like, strict, create_graph, stage)


def _returned(outputs, outputs_were_tuple, result, result_was_tuple, create_graph):
    """(f's outputs, the result), each detached unless ``create_graph``, in the structure the caller gave."""
    return (_unpacked(_finished(outputs, create_graph), outputs_were_tuple),
            _unpacked(_finished(result, create_graph), result_was_tuple))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(f(inputs), v^T J): the vector-Jacobian product, one backward pass from v (``v`` may be left out when f
    returns one number)."""
    with grad_mode.enable_grad():
        inputs, inputs_were_tuple, outputs, outputs_were_tuple, v = _prepared("vjp", func, inputs, v, True,
                                                                              create_graph, strict)
    result = _last_pass(outputs, inputs, v, inputs, strict, create_graph, "back")
    return _returned(outputs, outputs_were_tuple, result, inputs_were_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(f(inputs), J v): the Jacobian-vector product by the double backward trick. The backward pass from u, u^T J,
    is recorded as a function of u (starting from u = 0: the value does not matter, it is linear); its gradient
    with respect to u, given v, is J v."""
    with grad_mode.enable_grad():
        inputs, _, outputs, outputs_were_tuple, v = _prepared("jvp", func, inputs, v, False, create_graph, strict)
        u = tuple(out.detach().new_zeros(out.shape).requires_grad_(True) for out in outputs)
        u_times_jacobian = grad_of_differentiable(outputs, inputs, u, create_graph=True)
        _check_requires_grad(u_times_jacobian, "grad_inputs", strict)
    result = _last_pass(u_times_jacobian, u, v, outputs, strict, create_graph, "back_trick")
    return _returned(outputs, outputs_were_tuple, result, outputs_were_tuple, create_graph)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """J = df/dx, one row per number of the outputs, each row one backward pass (reverse mode). The result for
    output i and input j has shape ``output_i.shape + input_j.shape``."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                             'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                             'prefer to use "reverse-mode".')
    if strategy == "forward-mode":  # (PyTorch's conditions for it; the numbers are computed by reverse mode here)
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either set '
                                      '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are '
                               'not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
                                      "implemented for `vectorize=True`.")
    if vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
                           "together. Please either set `strict=False` or `vectorize=False`.")
    from ..functions import stack  # (here: functions.py builds on the Tensor, which builds on this package)
    with grad_mode.enable_grad():
        inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        outputs_were_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        result = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]  # rows[j]: d out_i[k] / d input_j, for each number k of out_i
            for k in range(out.numel()):
                grads = grad_of_differentiable((out.reshape(-1)[k],), inputs, retain_graph=True,
                                               create_graph=create_graph)
                for j, (g, x) in enumerate(zip(grads, inputs)):
                    if g is None and strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                           "This is not allowed in strict mode.")
                    if g is not None and strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is independent of input "
                                           f"{i}. This is not allowed in strict mode when create_graph=True.")
                    rows[j].append(x.detach().new_zeros(x.shape) if g is None else g)
            result.append(tuple(stack(r).reshape(tuple(out.shape) + tuple(x.shape)) if r else
                                x.detach().new_zeros(tuple(out.shape) + tuple(x.shape)) for r, x in zip(rows, inputs)))
    return _unpacked(_finished(tuple(result), create_graph), outputs_were_tuple, inputs_were_tuple)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """H = d^2 f / dx^2 for an f that returns one number: the Jacobian of its gradient. With several inputs,
    ``H[i][j]`` is d^2 f / (dx_i dx_j), of shape ``x_i.shape + x_j.shape``."""
    inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def one_number(*args):
        out = func(*args)
        out_was_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        _one_number("hessian", outs, out_was_tuple)
        return out.squeeze()

    def gradient(*args):
        if outer_jacobian_strategy == "forward-mode":
            args = tuple(t.requires_grad_(True) for t in args)
        jac = jacobian(one_number, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _unpacked(result, inputs_were_tuple, inputs_were_tuple)


def _gradient_recorded(fn_name, func, inputs, v, create_graph, strict):
    """vhp's and hvp's first steps: f's outputs (one number) and its gradient, with its graph recorded."""
    inputs, inputs_were_tuple, outputs, outputs_were_tuple, v = _prepared(fn_name, func, inputs, v, False,
                                                                          create_graph, strict)
    _one_number(fn_name, outputs, outputs_were_tuple)
    gradient = grad_of_differentiable(outputs, inputs, create_graph=True)
    _check_requires_grad(gradient, "jacobian", strict)
    return inputs, inputs_were_tuple, outputs, outputs_were_tuple, v, gradient


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(f(inputs), v^T H) for an f that returns one number: the gradient of <df/dx, v>, through the recorded
    backward pass of f."""
    with grad_mode.enable_grad():
        inputs, inputs_were_tuple, outputs, outputs_were_tuple, v, gradient = _gradient_recorded(
            "vhp", func, inputs, v, create_graph, strict)
    result = _last_pass(gradient, inputs, v, inputs, strict, create_graph, "double_back")
    return _returned(outputs, outputs_were_tuple, result, inputs_were_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(f(inputs), H v) for an f that returns one number, by jvp's double backward trick applied to the gradient
    (the same numbers as ``vhp`` wherever H is symmetric)."""
    with grad_mode.enable_grad():
        inputs, inputs_were_tuple, outputs, outputs_were_tuple, v, gradient = _gradient_recorded(
            "hvp", func, inputs, v, create_graph, strict)
        u = tuple(x.detach().new_zeros(x.shape).requires_grad_(True) for x in inputs)
        u_times_hessian = grad_of_differentiable(gradient, inputs, u, create_graph=True)
        _check_requires_grad(gradient, "hessian", strict)
    result = _last_pass(u_times_hessian, u, v, inputs, strict, create_graph, "double_back_trick")
    return _returned(outputs, outputs_were_tuple, result, inputs_were_tuple, create_graph)


__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]
