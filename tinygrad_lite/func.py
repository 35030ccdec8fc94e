r"""``torch.func``: gradients, Jacobians and batching as transforms of functions.

``grad(f)`` is a new function that returns the gradient of f (which returns one number) with respect to its first
argument, ``jacrev(f)`` one that returns f's Jacobian, ``vmap(f)`` one that maps f over a batch dim; they compose:
``vmap(grad(loss), in_dims=(None, 0, 0))(params, xs, ys)`` gives one gradient per example, ``grad(grad(f))`` the
second derivative, ``jacrev(jacrev(f))`` the Hessian. With ``functional_call(model, params, x)``, which runs a
module with the parameters given in a dict, they are how meta-learning and per-example gradients are written.

Here they are built on the autograd of the rest of the library:
- ``grad``, ``vjp``, ``jacrev``: the arguments become fresh tensors that require grad (linked to the given ones when
  those require grad: then the result is differentiable in them, as a nested ``grad`` needs), f runs, and
  ``autograd.grad(..., create_graph=True)`` differentiates it (``autograd/higher_order.py``). A result that depends
  only on the arguments comes back detached; one that depends on tensors that f closes over and that require grad
  (a model's parameters) keeps its graph, so that a loss built from it trains them, as in PyTorch.
- ``jvp`` uses the double backward trick (``autograd.functional.jvp``), ``jacfwd`` computes the same Jacobian as
  ``jacrev``, and ``hessian`` is ``jacrev(jacrev(f))``.
- ``vmap`` calls f once per item of the batch and stacks the results.

Deliberate differences (there is no batching rule per op here): ``vmap`` is a Python loop, with the same results as
PyTorch's except for speed, and for random numbers under ``randomness="different"`` (other numbers, drawn one item
at a time). So what PyTorch's vmap refuses runs here (``.item()``, an ``if`` on a value, a shape that depends on
the values), side effects (a print, a hook) happen once per item, and an output with ``out_dims=None`` is refused
only if it differs from item to item. ``jacfwd`` and ``jvp`` use reverse mode. Arguments may be tensors or tuples,
lists, named tuples and dicts of them (PyTorch's pytrees).
"""
import weakref

from . import random
from .autograd.engine import graph_order
from .autograd.functional import grad_of_differentiable
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from .functions import stack
from .tensor import Tensor

__all__ = ["functional_call", "stack_module_state", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd",
           "hessian", "vmap", "linearize", "functionalize", "replace_all_batch_norm_modules_"]


# -------------------------------------------------------------------- pytrees: tensors in tuples, lists and dicts
def tree_leaves(tree):
    """The leaves of ``tree`` (tensors, numbers...) in order: its tuples', lists' and dicts' items, recursively."""
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in tree_leaves(item)]
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in tree_leaves(item)]
    return [tree]


def _rebuilt_like(tree, items):
    """A container of ``tree``'s kind holding ``items`` (a named tuple, such as max's (values, indices), too)."""
    if isinstance(tree, dict):
        return type(tree)(zip(tree, items))  # (an OrderedDict stays one)
    return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)


def tree_map(function, tree, *others):
    """``tree`` with each leaf replaced by ``function(leaf, *matching leaves of others)``."""
    if isinstance(tree, (tuple, list)):
        return _rebuilt_like(tree, [tree_map(function, item, *(other[i] for other in others))
                                    for i, item in enumerate(tree)])
    if isinstance(tree, dict):
        return _rebuilt_like(tree, [tree_map(function, item, *(other[key] for other in others))
                                    for key, item in tree.items()])
    return function(tree, *others)


def tree_rebuilt(tree, leaves):
    """``tree`` with its leaves replaced, in order, by ``leaves``."""
    leaves = iter(leaves)
    return tree_map(lambda _: next(leaves), tree)


def same_structure(a, b):
    """Do the pytrees ``a`` and ``b`` have the same containers, lengths and keys (in order), leaf for leaf?"""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b)
                and all(same_structure(a[k], b[k]) for k in a))
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and type(a) is type(b)
                and len(a) == len(b) and all(same_structure(x, y) for x, y in zip(a, b)))
    return True


# -------------------------------------------------------------------- differentiating with respect to arguments
def _picked(args, argnums):
    """The argument(s) that ``argnums`` names: one (an int) or a tuple of them."""
    single = isinstance(argnums, int)
    numbers = (argnums,) if single else argnums
    if not isinstance(numbers, tuple) or not all(isinstance(n, int) for n in numbers):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if not numbers:
        raise RuntimeError("argnums must be non-empty")
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    for n in numbers:
        if not -len(args) <= n < len(args):
            raise RuntimeError(f"Got argnums={n}, but only {len(args)} positional inputs")
    return single, [n % len(args) for n in numbers]


_finished = weakref.WeakValueDictionary()  # id -> a tensor a finished transform differentiated with respect to


def _tracked(value):
    """A fresh tensor to differentiate with respect to: linked to ``value`` if it requires grad (an outer
    transform, or the caller's graph, differentiates through the result), else a new leaf."""
    if not isinstance(value, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(value)}")
    return value.view_as(value) if value.requires_grad else value.detach().requires_grad_(True)


def _arguments_tracked(args, numbers):
    """``args`` with the picked ones replaced by tracked copies (every tensor of a tuple, list or dict); the copies."""
    args, tracked = list(args), []
    for n in numbers:
        args[n] = tree_map(_tracked, args[n])
        tracked += tree_leaves(args[n])
    return args, tracked


def _run(func, args, kwargs, numbers, has_aux, api):
    """``func`` called with the arguments ``numbers`` replaced by tracked copies: (the arguments, the copies, the
    output, the aux output or None)."""
    args, tracked = _arguments_tracked(args, numbers)
    output = func(*args, **kwargs)
    aux = None
    if has_aux:
        if not (isinstance(output, tuple) and len(output) == 2):
            raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
        output, aux = output
    return args, tracked, output, aux


def _gradients(outputs, inputs, grad_outputs=None):
    """d(outputs)/d(inputs) with the graph recorded (a list of outputs, or one); zeros for an input the outputs do
    not depend on, and for all of them when no output requires grad (a constant, a step function's output)."""
    outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
    grads = grad_of_differentiable(outputs, inputs, grad_outputs, create_graph=True, retain_graph=True)
    return [x.detach().new_zeros(x.shape) if g is None else g for g, x in zip(grads, inputs)]


def _released(tree, tracked, grad_was_enabled):
    """The results, detached where they depend on no tensor that requires grad but the copies this transform (or
    one it called, now finished) differentiated with respect to: a gradient of a function of its arguments only.
    Left in the graph where they depend on another one (a tensor f closes over, such as a model's parameter; an
    argument that required grad; an outer transform's copy), so that they can be trained or differentiated again.
    Called inside ``no_grad``, a transform returns detached results, as PyTorch's."""
    ours = {id(t) for t in tracked}

    def released(t):
        if not isinstance(t, Tensor) or not t.requires_grad:
            return t
        if not grad_was_enabled:
            return t.detach()
        for leaf in graph_order(t):
            if leaf.grad_fn is None and id(leaf) not in ours and _finished.get(id(leaf)) is not leaf:
                return t
        return t.detach()
    return tree_map(released, tree)


def _finish(tracked):
    """This transform is done: its copies no longer count as tensors its callers' results may depend on."""
    for t in tracked:
        if t.grad_fn is None:
            _finished[id(t)] = t


def grad_and_value(func, argnums=0, has_aux=False):
    """A function that returns (the gradient of ``func`` with respect to the argument(s) ``argnums``, func's value);
    with ``has_aux``, func returns (value, aux) and the result is (gradient, (value, aux)). func must return a tensor
    holding one number (0-d)."""
    def wrapper(*args, **kwargs):
        single, numbers = _picked(args, argnums)
        enabled = is_grad_enabled()
        with enable_grad():
            args, tracked, output, aux = _run(func, args, kwargs, numbers, has_aux, "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(output)}")
            if output.ndim != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {output.ndim} dims. Maybe you wanted to use the vjp or jacrev APIs "
                                   "instead?")
            grads = iter(_gradients(output, tracked))
            result = [tree_map(lambda _: next(grads), args[n]) for n in numbers]
        result = _released(result[0] if single else tuple(result), tracked, enabled)
        value = _released((output, aux) if has_aux else output, tracked, enabled)
        _finish(tracked)
        return result, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function that returns the gradient of ``func`` (which returns a 0-d tensor) with respect to its argument
    ``argnums`` (a tuple of them: a tuple of gradients); with ``has_aux``, (gradient, aux)."""
    def wrapper(*args, **kwargs):
        gradient, value = grad_and_value(func, argnums, has_aux)(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn): ``vjp_fn(cotangents)`` gives the tuple v^T J, one per primal, for cotangents v of
    the structure and shapes of func's output. It can be called several times."""
    enabled = is_grad_enabled()
    with enable_grad():
        args, tracked, output, aux = _run(func, primals, {}, range(len(primals)), has_aux, "vjp(f, *primals)")
        outputs = tree_leaves(output)

    def vjp_fn(cotangents):
        if not same_structure(output, cotangents):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               "outputs to the function: give one cotangent per output, in the same tuples, lists "
                               "and dicts (with the same keys, in the same order)")
        with enable_grad():
            grads = iter(_gradients(outputs, tracked, tree_leaves(cotangents)))
            result = tuple(tree_map(lambda _: next(grads), arg) for arg in args)
        return _released(result, tracked, enabled)
    output_released = _released(output, tracked, enabled)
    return (output_released, vjp_fn, _released(aux, tracked, enabled)) if has_aux else (output_released, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J t): the Jacobian-vector product for tangents t (one per primal), by the double backward
    trick: u -> u^T J is linear in u, so its gradient with respect to u, given t, is J t. An integer or bool output
    gets a tangent of zeros."""
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid to call "
                           "f(*primals).")
    if not isinstance(tangents, tuple) or not same_structure(primals, tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, tangents also must be.")
    for primal in tree_leaves(primals):
        if isinstance(primal, Tensor) and not primal.is_floating_point():
            raise ValueError(f"Expected primal to be floating point or complex, but got: {primal.dtype}")
    enabled = is_grad_enabled()
    with enable_grad():
        args, tracked, output, aux = _run(func, primals, {}, range(len(primals)), has_aux,
                                          "jvp(f, primals, tangents)")
        outputs = tree_leaves(output)
        floats = [out for out in outputs if out.is_floating_point()]
        u = [out.detach().new_zeros(out.shape).requires_grad_(True) for out in floats]
        products = iter(_gradients(_gradients(floats, tracked, u), u, tree_leaves(tangents)))
        tangent = [next(products) if out.is_floating_point() else out.detach().new_zeros(out.shape)
                   for out in outputs]
    result = (_released(output, tracked, enabled), _released(tree_rebuilt(output, tangent), tracked + u, enabled))
    _finish(tracked)
    return (*result, _released(aux, tracked, enabled)) if has_aux else result


def linearize(func, *primals):
    """(func(*primals), jvp_fn): ``jvp_fn(*tangents)`` is the Jacobian-vector product J t at the primals, as
    ``jvp`` computes it (here f runs again at each call; PyTorch's keeps a linearised graph)."""
    output = func(*primals)

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]
    return output, jvp_fn


def functionalize(func, *, remove="mutations"):
    """``func`` itself: PyTorch rewrites its in-place operations as out-of-place ones for its compilers, with the
    same results in eager mode, which is the only mode here."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. "
                           "Valid options are: remove='mutations' and remove='mutations_and_views'")
    return func


def replace_all_batch_norm_modules_(root):
    """Make every batch norm layer in ``root`` (in place) use the batch's statistics always, without running
    ones, so that ``vmap`` over a model with batch norm does not update shared buffers (PyTorch's helper)."""
    from .nn.modules.batchnorm import _BatchNorm  # (nn imports this module, in nn.utils.stateless: so here)

    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = module.running_var = module.num_batches_tracked = None
            module.track_running_stats = False
    return root


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function that returns the Jacobian of ``func`` with respect to the argument(s) ``argnums``: for an output
    of shape S and an argument of shape A, a tensor of shape S + A (a tuple per output, then per argument), one
    backward pass per number of the output."""
    def wrapper(*args, **kwargs):
        single, numbers = _picked(args, argnums)
        enabled = is_grad_enabled()
        with enable_grad():
            args, tracked, output, aux = _run(func, args, kwargs, numbers, has_aux, "jacrev(f, ...)(*args)")

            def jacobian_of(out):
                if not isinstance(out, Tensor):
                    raise RuntimeError(f"jacrev(f, ...)(*args): Expected output of f to be a Tensor or Tensors, got "
                                       f"{type(out)}")
                flat = out.reshape(-1)
                rows = [_gradients(flat[k], tracked) for k in range(flat.numel())]
                columns = iter([stack([row[j] for row in rows]).reshape(tuple(out.shape) + tuple(x.shape))
                                if rows else x.detach().new_zeros(tuple(out.shape) + tuple(x.shape))
                                for j, x in enumerate(tracked)])
                per_argument = [tree_map(lambda _: next(columns), args[n]) for n in numbers]
                return per_argument[0] if single else tuple(per_argument)
            result = tree_map(jacobian_of, output)
        result = _released(result, tracked, enabled)
        aux = _released(aux, tracked, enabled)
        _finish(tracked)
        return (result, aux) if has_aux else result
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian as ``jacrev`` gives it (PyTorch computes it in forward mode: the same numbers)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """A function that returns the Hessian of ``func`` (which returns a 0-d tensor): the Jacobian of its gradient."""
    return jacfwd(jacrev(func, argnums), argnums)


# -------------------------------------------------------------------- batching
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """A function that maps ``func`` over a dim of its arguments: ``in_dims`` gives the dim of each argument that
    holds the batch (an int for all, or one per argument: an int, None for an argument that is the same for every
    item, or a tuple or dict of them matching the argument's structure), and ``out_dims`` where the results stack
    it (None: an output that does not depend on the batch). Here func runs once per item (a loop) and the results
    are stacked. ``randomness``: "error" refuses random numbers inside func, as PyTorch; "same" draws the same
    numbers for every item; "different" draws each item's in turn."""
    if randomness not in ("error", "same", "different"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")

    def wrapper(*args, **kwargs):
        dims = tuple(in_dims) if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args) or not isinstance(in_dims, (int, tuple, list)):
            raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                             f"structure of `inputs`: give an int, or one in_dim per input ({len(args)} inputs)")
        sizes = [leaf.shape[dim] for arg, dim in zip(args, dims) for leaf, dim in _mapped(arg, dim, in_dims)]
        if not sizes:
            raise ValueError("vmap(f, in_dims=...)(<inputs>): at least one input must be mapped over (an in_dim that "
                             "is not None, on a Tensor)")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        if sizes[0] == 0:
            return _empty(func, args, dims, kwargs, out_dims, randomness)
        start = random.get_rng_state() if randomness == "same" else None
        results = []
        with random.vmap_randomness(randomness):
            for i in range(sizes[0]):
                if start is not None:  # (every item draws the numbers the first one drew)
                    random.set_rng_state(start)
                results.append(func(*(_item(arg, dim, i) for arg, dim in zip(args, dims)), **kwargs))
        return _stacked(results, out_dims)
    return wrapper


def _mapped(arg, dim, in_dims):
    """(tensor, its mapped dim) for every tensor of the argument ``arg`` (a pytree) with in_dim ``dim``: an int or
    None for all of it, or a tuple, list or dict matching its structure."""
    if dim is None:
        return []
    if isinstance(dim, int):
        pairs = []
        for leaf in tree_leaves(arg):
            if isinstance(leaf, Tensor):
                if leaf.ndim == 0 or not -leaf.ndim <= dim < leaf.ndim:
                    raise ValueError(f"vmap: Got in_dim={dim} for an input that is a Tensor of {leaf.ndim} dims, so "
                                     f"in_dim must be in [-{max(leaf.ndim, 1)}, {max(leaf.ndim, 1)}) (or None)")
                pairs.append((leaf, dim % leaf.ndim))
        return pairs
    if isinstance(dim, (tuple, list, dict)) and same_structure(_containers(arg, dim), dim):
        items = dim.items() if isinstance(dim, dict) else enumerate(dim)
        return [pair for key, d in items for pair in _mapped(arg[key], d, in_dims)]
    raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the structure of "
                     "`inputs`: an in_dim is an int, None, or a tuple or dict matching its input's structure")


def _containers(arg, dim):
    """``arg`` cut to the depth of ``dim`` (its leaves where dim has ints or None), to compare their structures."""
    if isinstance(dim, dict) and isinstance(arg, dict):
        return {k: _containers(arg[k], dim[k]) if k in dim else None for k in arg}
    if isinstance(dim, (tuple, list)) and isinstance(arg, (tuple, list)) and len(dim) == len(arg):
        return _rebuilt_like(arg, [_containers(a, d) for a, d in zip(arg, dim)])
    return arg if isinstance(dim, (tuple, list, dict)) else None


def _per_mapped(arg, dim, function):
    """``arg`` with each of its tensors that has an int in_dim replaced by ``function(tensor, that dim)`` (the dim
    counted from 0); ``dim`` as ``in_dims`` gives it for one argument: an int, None, or a tuple or dict of them."""
    if dim is None:
        return arg
    if isinstance(dim, int):
        return tree_map(lambda a: function(a, dim % a.ndim) if isinstance(a, Tensor) else a, arg)
    keys = list(dim) if isinstance(dim, dict) else range(len(dim))
    return _rebuilt_like(arg, [_per_mapped(arg[k], dim[k], function) for k in keys])


def _item(arg, dim, i):
    """Item ``i`` of the argument ``arg``: every tensor of it indexed at ``i`` along its in_dim."""
    return _per_mapped(arg, dim, lambda a, d: a[(slice(None),) * d + (i,)])


def _stacked(results, out_dims, example=None):
    """The per-item results stacked along ``out_dims``: an int, None (the same for every item: the first one's), or
    a tuple or dict of them matching the results' structure. No results (an empty batch): ``example`` (one item's)
    gives the structure and the shapes, and each output is empty along its out_dim."""
    first = results[0] if results else example
    if isinstance(out_dims, (tuple, list)) and len(out_dims) == 1 and isinstance(first, Tensor):
        out_dims = out_dims[0]  # (one output, its out_dim in a tuple: PyTorch takes that too)
    if isinstance(out_dims, (tuple, list, dict)):
        keys = list(first) if isinstance(first, dict) else range(len(out_dims))
        if not (isinstance(first, (tuple, list, dict)) and len(keys) == len(out_dims)
                and (not isinstance(out_dims, dict) or list(out_dims) == keys)):
            raise ValueError(f"vmap(f, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                             "structure of `outputs`: give one out_dim per output, in the same tuple or dict (with "
                             "the same keys in the same order: PyTorch pairs a dict's by position)")
        return _rebuilt_like(first, [_stacked([r[k] for r in results], out_dims[k], first[k]) for k in keys])
    if isinstance(first, (tuple, list, dict)):
        keys = list(first) if isinstance(first, dict) else range(len(first))
        return _rebuilt_like(first, [_stacked([r[k] for r in results], out_dims, first[k]) for k in keys])
    if not isinstance(first, Tensor):
        if out_dims is None:
            return first
        raise ValueError(f"vmap: f must only return Tensors, got type {type(first)}. Did you mean to set out_dims= "
                         "to None for output?")
    if out_dims is None:
        if any(r.shape != first.shape or not bool((r == first).all()) for r in results[1:]):
            raise ValueError("vmap(f, ...): f can not return a BatchedTensor when out_dim is None (this output "
                             "differs from item to item)")
        return first
    if not results:
        shape = list(first.shape)
        shape.insert(out_dims % (first.ndim + 1), 0)
        return first.new_zeros(tuple(shape))
    return stack(results, out_dims)


def _empty(func, args, dims, kwargs, out_dims, randomness):
    """vmap over a batch of size 0: f runs once on an item of zeros to learn its outputs' shapes (without a trace:
    no random numbers drawn, no graph), and each output is an empty tensor with the batch dim at its out_dim."""
    zeros = [_per_mapped(arg, dim, lambda a, d: a.new_zeros(a.shape[:d] + a.shape[d + 1:]))
             for arg, dim in zip(args, dims)]
    with no_grad(), random.fork_rng(), random.vmap_randomness(randomness):
        example = func(*zeros, **kwargs)
    return _stacked([], out_dims, example)


# -------------------------------------------------------------------- a module run with given parameters
def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with its parameters and buffers replaced, for this call only, by the tensors of
    ``parameter_and_buffer_dicts`` (a dict of ``named_parameters()``'s names, or a tuple of dicts): the module
    computes a function of those tensors, which can be differentiated with respect to them (MAML's fast weights,
    per-example gradients). With ``tie_weights``, a tensor given for one of two tied names stands for both."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list)) else (
        parameter_and_buffer_dicts,)
    given = {}
    for d in dicts:
        repeated = [key for key in d if key in given]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        given.update(d)
    own = dict(module.named_parameters(remove_duplicate=False))
    own.update(dict(module.named_buffers(remove_duplicate=False)))
    for name, value in given.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{value!r} is not an instance of torch.Tensor (functional_call: the value for '{name}')")
        owner = module
        for part in name.split(".")[:-1]:
            if part not in owner._modules:
                raise AttributeError(f"{type(owner).__name__} has no attribute `{part}` (functional_call: '{name}')")
            owner = owner._modules[part]
        key = name.rpartition(".")[2]
        if key in owner._modules:
            raise TypeError(f"attribute `{key}`: {owner._modules[key]!r} is not an instance of torch.Tensor "
                            f"(functional_call: '{name}' names a module)")
    if tie_weights:  # a tensor given for one of two tied names stands for both; two values for them are ambiguous
        for name, value in list(given.items()):
            tied = [other for other, tensor in own.items() if name in own and tensor is own[name]]
            clashing = [other for other in tied if other in given and given[other] is not value]
            if clashing:
                raise ValueError(f"functional_call got multiple values for keys {sorted([name, *clashing])}, which "
                                 "are tied. Consider using tie_weights=False")
            given.update(dict.fromkeys(tied, value))
    if strict:
        missing = [name for name in own if name not in given]
        unexpected = [name for name in given if name not in own]
        if missing or unexpected:
            lines = ([f"\tUnexpected key(s): {', '.join(repr(k) for k in unexpected)}."] if unexpected else []) + \
                    ([f"\tMissing key(s): {', '.join(repr(k) for k in missing)}."] if missing else [])
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n" + "\n".join(lines))
    swapped = []  # (the dict a name lives in, its key, what it held)
    try:
        for name, value in given.items():
            if name not in own:
                continue  # (not one of the module's: nothing to replace)
            owner_name, _, key = name.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            store = owner._parameters if key in owner._parameters else owner._buffers
            swapped.append((store, key, store[key]))
            store[key] = value
        args = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, key, held in reversed(swapped):
            store[key] = held


def stack_module_state(models):
    """(params, buffers) of several models of one class, each named tensor stacked along a new first dim: the
    parameters as new leaves that require grad (as each model's did), the buffers as they are. For an ensemble run
    as one function: ``vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))(params, buffers, xs)``."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    named = [dict(m.named_parameters()) for m in models]
    params = {name: stack([n[name] for n in named]).detach().requires_grad_(first.requires_grad)
              for name, first in named[0].items()}
    named = [dict(m.named_buffers()) for m in models]
    buffers = {name: stack([n[name] for n in named]) for name in named[0]}
    return params, buffers
