"""The backward pass: the chain rule applied to the whole graph, from the output back to the leaves.

Every tensor made by an op remembers that op in ``.grad_fn``, and the op remembers its input tensors in
``.grad_fn.inputs``. If the output L depends on a tensor t through the ops that consumed t, then dL/dt is the sum
over those consumers c of (dL/dc)(dc/dt). So we visit the tensors in reverse topological order (every consumer
before the tensors it consumed), and each op's backward turns the gradient of its output into gradients of its
inputs. A leaf (a tensor made by you, like a weight) adds what arrives into its ``.grad``.

The engine also holds every op to its contract, as PyTorch does: one gradient per input (``Function.input_grads``
counts them), each with the input's shape or one that broadcasting explains, then summed down by ``unbroadcast``
(``fit_gradient``). Anything else is an error that names the op, the input and both shapes, rather than a wrong
gradient further down.
"""
from ..device import on_device_of
from ..dtypes import FLOAT16, quietly_in_float16
from ..summation import rounded_sum
from .hooks import run_tensor_hooks
from .inplace import input_as_used


def graph_order(*roots, everything=False):
    """Every tensor the ``roots`` depend on through recorded ops, each listed after all of its inputs.

    A depth-first search with an explicit stack (no recursion, so a graph thousands of ops deep is fine):
    a tensor is emitted only when everything below it has been. Backward needs only the tensors that
    require grad; ``everything=True`` keeps the others too (data, constants), e.g. to draw the graph.
    The outputs of an op with several outputs (a custom ``Function`` returning a tuple) are emitted together:
    in reverse order they come one after the other, and the last one reached carries all their gradients.
    """
    order, seen, stack = [], set(), [(root, False) for root in reversed(roots)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.extend(t)
            continue
        if id(t) in seen:
            continue
        fn = t.grad_fn
        outputs = (t,) if fn is None or fn.n_outputs == 1 else fn.output_tensors()  # t and its sibling outputs
        seen.update(map(id, outputs))
        if fn is None:  # a leaf: nothing below it, so it can be emitted at once
            order.append(t)
            continue
        stack.append((outputs, True))
        for x in reversed(fn.inputs):
            if x._previous is not None:
                x = input_as_used(x, fn)
            if everything or x._requires_grad:
                stack.append((x, False))
    return order


def run_backward(roots, grads_of_roots, retain_graph=False, inputs=None, order=None, create_graph=False):
    """Send ``grads_of_roots`` = dL/d(root) (one per root) back through the graph, applying the chain rule op by op.

    Visiting tensors in reverse topological order means every consumer of a tensor has added its share
    to ``grads[t]`` before t itself is processed; several roots add their shares the same way. With ``inputs``
    (a list of tensors) the gradients of those tensors are returned instead of being added to the leaves' ``.grad``
    (that is ``autograd.grad``), and only the ops on a path to them run, as in PyTorch. A tensor that
    ``retain_grad()`` was called on gets its ``.grad`` in both cases, when its op runs or it is one of the inputs.
    A tensor's hooks (``register_hook``, ``hooks.py``) run on its gradient once it is complete, before anything
    else uses it.
    A graph with float16 tensors runs without numpy's overflow warnings (``dtypes.quietly_in_float16``), and a
    graph on a GPU with that GPU current, as PyTorch's device guard: the zeros that the backward of an index or a
    gather starts from are made on cuda:1 too (CuPy makes new arrays on the current GPU).
    With ``create_graph`` the gradients are Tensors and each op's step is computed with Tensor ops, recorded in the
    graph, so that the gradients can be differentiated again (``higher_order.py``: it has the three steps that
    differ, an op's gradients, adding into ``.grad`` and hooks).
    """
    if order is None:
        order = graph_order(*roots)
        with on_device_of(roots[0].array):
            if any(t.array.dtype is FLOAT16 for t in order):
                return quietly_in_float16(run_backward, roots, grads_of_roots, retain_graph, inputs, order,
                                          create_graph)
            return run_backward(roots, grads_of_roots, retain_graph, inputs, order, create_graph)
    if create_graph:
        from . import higher_order  # (here: it builds on tensor.py, which imports this module)
        grads_of_roots = higher_order.as_tensors(grads_of_roots)
    grads = {}
    for root, grad in zip(roots, grads_of_roots):
        grads[id(root)] = grads[id(root)] + grad if id(root) in grads else grad
    held = {id(g) for g in grads_of_roots}  # arrays someone else holds: the caller's, and those stored in a .grad
    wanted = None if inputs is None else {id(t) for t in inputs}
    runs = None if inputs is None else leading_to(order, wanted)
    found = {}
    for t in reversed(order):
        g = grads.pop(id(t), None)
        fn = t.grad_fn
        if g is not None and wanted is not None and id(t) in wanted:
            found[id(t)] = g
        if g is not None and t._backward_hooks:  # t.register_hook(hook): the hooks see dL/dt, may replace it
            g = run_tensor_hooks(t, g, held)
            if id(t) in found and id(t) not in runs:  # autograd.grad returns it hooked, unless t's op runs (PyTorch)
                found[id(t)] = g
        reached = runs is None or id(t) in runs or id(t) in found  # its op runs, or it is one of the inputs
        if g is not None and (t._retains_grad and reached or fn is None and wanted is None):
            if create_graph:
                higher_order.accumulate(t, g, held)
            else:
                t._accumulate(g, shared=g.base is not None or id(g) in held)  # (a view shares its base's memory)
            held.add(id(g))
        if fn is not None and fn.n_outputs > 1:
            g = fn.gather(t, g)  # the gradients of all of fn's outputs once t is the last of them, else None
        if g is None or fn is None or (runs is not None and id(t) not in runs):
            continue
        op_grads = higher_order.input_grads(fn, t, g) if create_graph else fn.input_grads(g)
        for i, (x, gx) in enumerate(zip(fn.inputs, op_grads)):
            if x._previous is not None:
                x = input_as_used(x, fn)
            if gx is None or not x._requires_grad:
                continue
            if not create_graph and (getattr(gx, "shape", None) != x.array.shape or gx.dtype != x.array.dtype):
                gx = fit_gradient(fn, i, gx, x)
            key = id(x)
            grads[key] = grads[key] + gx if key in grads else gx
        if not retain_graph:
            fn.release()
    return found


def leading_to(order, wanted):
    """The tensors in ``order`` whose op must run for gradients to reach the ``wanted`` ones: those with an input
    that is wanted or is itself one of them. ``autograd.grad`` runs only these, as PyTorch's engine does."""
    runs = set()
    for t in order:  # inputs come first
        fn = t.grad_fn
        if fn is not None and any(id(x) in wanted or id(x) in runs for x in (input_as_used(x, fn) for x in fn.inputs)):
            runs.add(id(t))
    return runs


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of broadcasting.

    If x has shape (3,) and was broadcast to (4, 3) in ``x + y``, each x[j] was used 4 times, so
    dL/dx[j] is the sum of the 4 gradients that arrived: we sum over the dims broadcasting added or stretched
    (float16 in float32, rounded once, as PyTorch: summation.py).
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return rounded_sum(grad, axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


def fit_gradient(fn, i, grad, x):
    """Check the gradient that ``fn.backward`` returned for its input ``i`` (the tensor ``x``) and fit it to ``x``.

    It must have x's shape or a shape x broadcasts to (then it is summed down); it is cast to x's dtype.
    """
    shape = x.array.shape
    grad = getattr(grad, "array", grad)  # a Tensor returned by mistake: its array
    if getattr(grad, "shape", None) is None:
        raise RuntimeError(f"function {fn.name()} returned an object of type {type(grad).__name__} as the gradient "
                           f"at index {i}; expected an array (or a Tensor, or None)")
    if grad.shape != shape:
        lead = grad.ndim - len(shape)
        if lead < 0 or any(n != 1 and n != grad.shape[lead + k] for k, n in enumerate(shape)):
            raise RuntimeError(f"function {fn.name()} returned an invalid gradient at index {i} - got "
                               f"{list(grad.shape)} but expected shape compatible with {list(shape)}")
        grad = unbroadcast(grad, shape)
    return grad if grad.dtype == x.array.dtype else grad.astype(x.array.dtype)
