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


def graph_order(root, everything=False):
    """Every tensor ``root`` depends on through recorded ops, each listed after all of its inputs.

    A depth-first search with an explicit stack (no recursion, so a graph thousands of ops deep is fine):
    a tensor is emitted only when everything below it has been. Backward needs only the tensors that
    require grad; ``everything=True`` keeps the others too (data, constants), e.g. to draw the graph.
    """
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        fn = t.grad_fn
        if fn is None:  # a leaf: nothing below it, so it can be emitted at once
            order.append(t)
            continue
        stack.append((t, True))
        for x in reversed(fn.inputs):
            if x._previous is not None:
                x = input_as_used(x, fn)
            if everything or x._requires_grad:
                stack.append((x, False))
    return order


def run_backward(root, grad, retain_graph=False, inputs=None):
    """Send ``grad`` = dL/d(root) back through the graph, applying the chain rule op by op.

    Visiting tensors in reverse topological order means every consumer of a tensor has added its share
    to ``grads[t]`` before t itself is processed. With ``inputs`` (a list of tensors) the gradients
    of those tensors are returned instead of being added to ``.grad`` (that is ``autograd.grad``).
    """
    grads = {id(root): grad}
    held = {id(grad)}  # arrays someone else holds: the caller's gradient, and those already stored in a .grad
    wanted = None if inputs is None else {id(t) for t in inputs}
    found = {}
    for t in reversed(graph_order(root)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        fn = t.grad_fn
        if wanted is not None:
            if id(t) in wanted:
                found[id(t)] = g
        elif fn is None or t._retains_grad:
            t._accumulate(g, shared=g.base is not None or id(g) in held)  # (a view shares its base's memory)
            held.add(id(g))
        if fn is None:
            continue
        for i, (x, gx) in enumerate(zip(fn.inputs, fn.input_grads(g))):
            if x._previous is not None:
                x = input_as_used(x, fn)
            if gx is None or not x._requires_grad:
                continue
            if getattr(gx, "shape", None) != x.array.shape or gx.dtype != x.array.dtype:
                gx = fit_gradient(fn, i, gx, x)
            key = id(x)
            grads[key] = grads[key] + gx if key in grads else gx
        if not retain_graph:
            fn.release()
    return found


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of broadcasting.

    If x has shape (3,) and was broadcast to (4, 3) in ``x + y``, each x[j] was used 4 times, so
    dL/dx[j] is the sum of the 4 gradients that arrived: we sum over the dims broadcasting added or stretched.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


def fit_gradient(fn, i, grad, x):
    """Check the gradient that ``fn.backward`` returned for its input ``i`` (the tensor ``x``) and fit it to ``x``.

    It must have x's shape or a shape x broadcasts to (then it is summed down); it is cast to x's dtype.
    """
    shape = x.array.shape
    grad = getattr(grad, "array", grad)  # a Tensor returned by mistake: its array
    if getattr(grad, "shape", None) is None:
        raise TypeError(f"function {fn.name()} returned an object of type {type(grad).__name__} as the gradient at "
                        f"index {i}; expected an array (or a Tensor, or None)")
    if grad.shape != shape:
        lead = grad.ndim - len(shape)
        if lead < 0 or any(n != 1 and n != grad.shape[lead + k] for k, n in enumerate(shape)):
            raise RuntimeError(f"function {fn.name()} returned an invalid gradient at index {i} - got "
                               f"{list(grad.shape)} but expected shape compatible with {list(shape)}")
        grad = unbroadcast(grad, shape)
    return grad if grad.dtype == x.array.dtype else grad.astype(x.array.dtype)


def input_as_used(x, fn):
    """The state of tensor ``x`` that ``fn`` used as an input.

    Usually that is ``x`` itself. But an in-place op recorded after ``fn`` was made (``buf[t] = h`` in an RNN loop,
    ``y += 1``) gave ``x`` a new ``grad_fn`` and moved x's earlier state to ``x._previous``; the ops are numbered in
    the order they were made (``sequence_nr``), so we walk back to the state that existed when ``fn`` was made.
    """
    while x._previous is not None and x.grad_fn.sequence_nr > fn.sequence_nr:
        x = x._previous
    return x
