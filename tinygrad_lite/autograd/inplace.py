"""In-place changes and autograd: version counters, and ``x += 1`` recorded in the graph.

An in-place op (``x += 1``, ``x.add_(y)``, ``x[i] = v``, ``x.zero_()``, ``optimizer.step()``) writes new numbers
into ``x.array`` instead of making a new tensor. That saves memory, and it is how weights are updated. But the
numbers it overwrites may still be needed:

- an op recorded earlier may have saved them for its backward (``y = x.exp()`` saves its output y, ``x * w``
  saves x and w); its backward would then compute the gradient at the new numbers, silently wrong;
- other tensors may show the same memory (``x[0]``, ``x.reshape(4)``, ``x.detach()``, ``x.data``): a change through
  one of them is a change of all.

**The rule** (PyTorch's): an in-place change must not alter numbers that a pending backward needs; if it does, that
backward raises an error instead of returning a wrong gradient. And when the change is itself part of the
computation to differentiate (grad mode is on, and x or the value written requires grad), it is recorded in the
graph like any op: ``y += 1`` makes y the output of an Add whose input is y as it was. One more rule comes from
the first: a leaf that requires grad (a weight) cannot be changed in place while grad mode is on, since its
gradient would belong to numbers that no longer exist; update weights inside ``no_grad()``, as optimizers do.

Four mechanisms carry this out, each below.

1. **Version counters.** Every tensor counts the in-place changes of its numbers in ``x._version_counter``, a
   one-element list that tensors showing the same memory share (``track_view``, ``Tensor.detach``); every in-place
   change adds 1 (``Tensor._bump_version``). When an op that saved values is recorded, it notes the version of
   each input and output (``remember_versions``); when backward asks for the saved values, ``check_saved``
   compares, and a counter that moved on for numbers the op saved is the error above. Comparing counters costs
   one integer per tensor, where comparing the numbers themselves would cost a copy of each.

2. **Recording an in-place op** (``records_inplace``, ``record_inplace``). The tensor y keeps its identity: the same
   Python object and the same array, so that its views see the change. Its state before the change (its grad_fn,
   and a copy of its numbers, which the new op may save; none for ``y[i] = v``, whose op writes into y's own
   array) moves to a new tensor ``before``, which becomes the new op's input; y gets the new op as its grad_fn,
   and ``y._previous`` points to ``before``.

3. **An op's input as it was** (``input_as_used``). The ops recorded before the change took y as an input, and
   their ``inputs`` hold the object y, which now has a later grad_fn. The ops are numbered in the order they were
   recorded (``Function.sequence_nr``), so walking back along y's ``_previous`` chain to the state that existed
   when an op was recorded finds the input that op used. The engine does this for every input it visits.

4. **A view used after its base changed** (``fresh``). A view shows its base's new numbers at once, but its
   grad_fn still takes the base as it was. When the view is next used, the op that made it runs again on the base
   as it is now, and the view takes that op's place in the graph (PyTorch regenerates the view's grad_fn too).

A view made by indexing (``v = y[0]``, ``y[:, 1]``) shows y's numbers, so changing it changes y, and y's graph
must know: ``y[0] += 1`` (and ``y[0][1] = v``) is recorded on y as ``y[0] = y[0] + 1``, and the view then shows
y's new state (``record_inplace``; PyTorch's CopySlices); a change of a reshape or a transpose of y is recorded as
``y.copy_(...)`` of the changed view shaped back. Not done: an in-place change of an expanded view raises.
"""
import bisect

import numpy as np

from .grad_mode import is_grad_enabled


# -------------------------------------------------------------------- 1. version counters
def track_view(out, fn):
    """If the result ``out`` of the op ``fn`` shows an input's numbers (a reshape, a slice), it shares that input's
    counter, and notes the input as its ``_base``: a change through either is a change of both. It also notes the
    op that made it, and the base's grad_fn then, for the day the base changes in place (``fresh``, below)."""
    base = out.array.base  # None unless the result is a view of some array's numbers
    for t in fn.inputs:
        if t.array is out.array or (base is not None and (t.array is base or t.array.base is base)):
            out._version_counter, out._base = t._version_counter, t
            out._view_of, out._made_from, out._base_array = fn, t.grad_fn, t.array
            out._made_in_no_grad = not is_grad_enabled() or (t._base is not None and t._made_in_no_grad)  # (a chain)
            return


def remember_versions(fn, owners):
    """Note the version of every input and output of the op ``fn`` (``owners``); ``check_saved`` compares them."""
    fn._saved_versions = [(t.array, t._version_counter, t._version_counter[0]) for t in owners]
    if fn.torch_style:  # it saves Tensors, maybe made inside forward: they have counters of their own
        fn._saved_versions += [(v.array, v._version_counter, v._version_counter[0]) for v in fn._saved
                               if hasattr(v, "_version_counter")]


def check_saved(fn):
    """Raise if an in-place change has altered numbers that ``fn`` saved for backward since it was recorded."""
    for i, (array, counter, version) in enumerate(fn._saved_versions):
        if counter[0] != version and _saved_numbers_of(fn, array):
            which = (f"the input {i}" if i < len(fn.inputs) else "the output" if i == len(fn.inputs)
                     else "a tensor saved by forward")
            raise RuntimeError(
                f"{fn.name()}: one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {which} of {type(fn).__name__}, a tensor of shape {array.shape}, is at "
                f"version {counter[0]}; expected version {version} instead (the version {fn.name()} saved). "
                "Change a copy instead of the tensor itself: x = x + 1 rather than x += 1 (or x.add_(1), "
                "x[i] = v, x.zero_()). In a training loop, call optimizer.zero_grad(), loss.backward(), "
                "optimizer.step() in that order, and change the weights (step, load_state_dict) only after "
                "backward. (A change made through .data counts too: PyTorch does not track those, and its backward "
                "would use the new numbers silently; here the check holds.)")


def _saved_numbers_of(fn, array):
    """Did ``fn``'s forward save these numbers (this array, or another view of the same memory)? A changed input
    that the op did not save (``x + y`` saves nothing) does no harm."""
    memory = _memory_of(array)
    return any(_memory_of(getattr(value, "array", value)) is memory for value in fn._saved if value is not None)


def _memory_of(array):
    """The array that owns ``array``'s memory: itself, or the array it is a view of."""
    base = getattr(array, "base", None)
    return array if base is None else base


# -------------------------------------------------------------------- 2. recording an in-place op in the graph
def records_inplace(t, name, other=None):
    """Must the in-place op ``name`` on ``t`` be recorded in the graph? Yes if grad mode is on and t or ``other``
    (the value written or combined) requires grad; raises for the changes that cannot be recorded."""
    if t._base is not None:
        fresh(t)  # (a view of a tensor changed since: its place in the graph first)
    if t._base is not None and t._made_in_no_grad and is_grad_enabled():
        root = t._base
        while root._base is not None:  # (the tensor that owns the numbers: a view of a view changes it too)
            root = root._base
        if root._requires_grad or getattr(other, "requires_grad", False):
            raise RuntimeError(f"{name}: a view was created in no_grad mode (of a tensor of shape "
                               f"{tuple(root.shape)}) and is being modified in place with grad mode enabled; as "
                               "in PyTorch, this is refused: should the change be recorded? Make both the view and "
                               "the change inside the no_grad block (not recorded), or both outside it (recorded)")
    if not (is_grad_enabled() and (t._requires_grad or getattr(other, "requires_grad", False))):
        return False
    if not t.dtype.is_floating_point:  # an integer or bool result has no gradient: a plain write
        return False
    leaf = t if t._base is None else t._base  # (a view of a leaf: w[0] += 1 changes w)
    if leaf.grad_fn is None and leaf._requires_grad:
        raise RuntimeError(f"{name}: a {'view of a ' if leaf is not t else ''}leaf tensor that requires grad is being "
                           "used in an in-place operation. Update weights inside `with tl.no_grad():`, or use an "
                           "out-of-place op")
    if t._base is not None:
        _check_layout(t)
    if t._base is not None and _into_base(t) is None:
        raise RuntimeError(f"{name}: an in-place change of a view made by {type(t._view_of).__name__} (of a tensor "
                           f"of shape {tuple(t._base.shape)}) cannot be recorded: the graph of the tensor it views "
                           "would not know (we record it for views made by indexing, reshape, view, transpose and "
                           "permute). Write it out of place: y = y.expand(...) + v. (The input and output of a "
                           "module with backward hooks are such views, in PyTorch too: y = y + v)")
    return True


def _into_base(t):
    """How a change of the view ``t`` is written into the tensor it views, ``t._base``: ``write(new)`` puts t's new
    value ``new`` there, as a change of the base recorded in its graph. For a view made by indexing (``y[0]``,
    ``y[:, 1]``, also out of the graph: ``buf[0]`` of a buffer) ``y[index] = new``; for a reshape or a transpose,
    ``y.copy_(new)`` shaped back. None for the views whose change cannot be recorded (an expand: one number shown
    in several places)."""
    from ..ops.movement import Index, Permute, Reshape, _is_basic  # (here: the ops import autograd, this package)
    op, base = t._view_of, t._base
    if type(op) is Index and _is_basic(op.index):
        return lambda new: base.__setitem__(op.index, new)
    if type(op) is Reshape:
        return lambda new: base.copy_(new.reshape(tuple(base.shape)))
    if type(op) is Permute:
        return lambda new: base.copy_(new.permute(*(int(d) for d in op.inverse)))
    return None


def record_inplace(t, name, compute, writes_into_input=False, new_shape=False):
    """Make ``t`` the result of ``compute(before)``, in the graph and in its own array (views see the change).

    ``before`` is a new tensor that takes over t's earlier state (its grad_fn, ...): it is the recorded op's
    input, and the ops recorded earlier keep using it (``input_as_used``). It holds a copy of the old numbers,
    which the op may save for backward, unless the op writes into its input itself (SetItem, for ``t[i] = v``).
    """
    write = _into_base(t) if t._base is not None else None  # (records_inplace refused the other views)
    before = _snapshot(t)
    if not writes_into_input or write is not None:
        before.array, before._version_counter = t.array.copy(), [0]
    new = compute(before)
    if write is not None and not new_shape:  # t = y[i] (or y.t()): the change is y[i] = new, recorded on y (maybe a
        write(new)                           # view too); t's array shows y's, and t becomes y[i] of y's new state
        _takes_place_of(t, _view_again(t), before)
        return t
    if new_shape:  # a shape-only change (unsqueeze_): t shows the same numbers under the new shape
        t.array = new.array
    elif new.array is not t.array:
        if new.array.shape != t.array.shape or not np.can_cast(new.array.dtype, t.array.dtype, "same_kind"):
            raise RuntimeError(f"{name}: the result ({new.dtype}, shape {tuple(new.shape)}) cannot be written "
                               f"into this tensor ({t.dtype}, shape {tuple(t.shape)}); write it out of place")
        t.array[...] = new.array
    t.grad_fn, t._requires_grad, t._previous = new.grad_fn, True, before
    if before.grad_fn is not None and before.grad_fn.n_outputs > 1:  # t was one of an op's several outputs:
        before.grad_fn.output_moved_to(before)                         # that output's state is `before` now
        del t._output_nr
    t._bump_version()
    return t


# -------------------------------------------------------------------- 3. an op's input as it was
def input_as_used(x, fn):
    """The state of tensor ``x`` that ``fn`` used as an input.

    Usually that is ``x`` itself. But an in-place op recorded after ``fn`` was made (``buf[t] = h`` in an RNN loop,
    ``y += 1``) gave ``x`` a new ``grad_fn`` and moved x's earlier state to ``x._previous``; the ops are numbered in
    the order they were made (``sequence_nr``), so we walk back to the state that existed when ``fn`` was made.

    A loop of T writes leaves a chain of T states, and backward asks for one of them for each op that read x, so
    walking the chain each time would cost T * T / 2 steps. Instead the chain is listed once (again only after x
    changes again), newest first, and the state is found by bisection on the ops' numbers.
    """
    if x._previous is None or x.grad_fn.sequence_nr <= fn.sequence_nr:  # (most often: not changed since fn)
        return x
    if x._chain is None or x._chain[0] is not x.grad_fn:
        states, numbers, state = [], [], x
        while state._previous is not None:
            states.append(state)
            numbers.append(-state.grad_fn.sequence_nr)  # (negated: increasing along the chain, for bisect)
            state = state._previous
        x._chain = (x.grad_fn, numbers, states + [state])
    i = bisect.bisect_left(x._chain[1], -fn.sequence_nr)  # the newest state made no later than fn
    return x if i == 0 else x._chain[2][i]  # (x itself: a state that took over x's chain, ``before``, is its head)


# -------------------------------------------------------------------- 4. a view used after its base changed
def fresh(t):
    """The view ``t``, its place in the graph brought up to date if the tensor it views has changed in place since.

    ``e = x[1]; x.mul_(2)``: e shows x's new numbers at once (it shares x's memory), but its grad_fn is still the
    Index that took x as it was, so a gradient through e would miss the change. As PyTorch does, the view's place is
    made again when it is next used: as an op's input (``Function.apply``), changed in place itself, asked
    ``requires_grad``, or backward from it. If its base has another grad_fn than the one it was made from, the op
    that made the view runs again on the base as it is now (``_view_again``), and the view takes the new op as its
    grad_fn; its earlier state moves to ``t._previous``, as after an in-place op, so that the ops recorded before
    keep the input they used (``input_as_used``). A view of a view brings its base up to date first. Lazily, once per
    change: making every view again at every change would make a loop of ``buf[t] = h`` quadratic.

    A view made under ``no_grad`` has no place in the graph to bring up to date: used with grad mode on after its
    base was changed in the graph, it raises, as PyTorch's does. Not brought up to date: ``e.grad_fn`` read before
    e is used (PyTorch's is), and a view taken before its base was made to require grad (``r = b[1];
    b.requires_grad_()``; PyTorch's is once b's numbers change).
    """
    base = t._base
    if base._base is not None:
        fresh(base)
    if base.grad_fn is t._made_from or not is_grad_enabled():
        return t
    if t._made_in_no_grad:
        raise RuntimeError(f"A view was created in no_grad mode (a {type(t._view_of).__name__} of a tensor of shape "
                           f"{tuple(base.shape)}) and its base has since been modified in place with grad mode "
                           "enabled; as in PyTorch, this is refused: which graph the view should have is ambiguous. "
                           "Make both the view and the in-place change inside the no_grad block (not recorded), or "
                           "both outside it (recorded), or make the view again after the change")
    if base.array is not t._base_array and _memory_of(base.array) is not _memory_of(t.array):
        t._made_from = base.grad_fn  # the base no longer holds these numbers (x.data = ...): t keeps its graph
        return t
    _check_layout(t)
    again = _view_again(t)
    if again.grad_fn is None:
        t._made_from = base.grad_fn  # the base left the graph (detach_)
        return t
    _takes_place_of(t, again, _snapshot(t))
    return t


def reshaped_in_place(t, view):
    """The view ``t`` changes its own shape in place (``v.t_()``, ``v.unsqueeze_(0)``): it becomes ``view`` of
    itself as it was, that is of ``inner``, t made again on its base (so that a change through t still reaches the
    base, and t is brought up to date after a change of the base: base -> inner -> t)."""
    inner = _view_again(t)  # (records_inplace brought t up to date first)
    inner._made_in_no_grad = t._made_in_no_grad
    again = view(inner)
    if again.grad_fn is not None:
        _takes_place_of(t, again, _snapshot(t))
    else:
        t._view_of, t._made_from = again._view_of, again._made_from
    t._former = (t.array, inner)  # (the views made of t before: they view inner now, ``_check_layout``)
    t.array, t._base, t._base_array = again.array, inner, inner.array
    t._bump_version()
    return t


def _snapshot(t):
    """A plain Tensor (even when t is a Parameter) holding t's state until now (its grad_fn ...): the ops recorded
    before took it as their input. Not a view of anything: it stands for t as it was. The hooks stay with t's old
    state (hooks registered so far see the gradient of t as it was, as PyTorch's)."""
    before = t._make(t.array, t.grad_fn)
    before.__dict__.update(t.__dict__)
    before._base, before._retains_grad, t._backward_hooks = None, False, None
    return before


def _takes_place_of(t, again, before):
    """``t`` takes the graph place of ``again``, a view made again of its base; ``before`` holds t's state until now."""
    t.grad_fn, t._requires_grad, t._previous = again.grad_fn, again._requires_grad, before
    t._view_of, t._made_from = again._view_of, again._made_from


def _check_layout(t):
    """Refuse to make the view ``t`` again, or to write through it, once its base shows its numbers in another shape
    or order (``x.t_()``, ``x.unsqueeze_(0)``) or shows other numbers (``x.data = ...``): the op that made t would
    now pick other numbers of the base (PyTorch keeps the view's strides instead). A view of a view that changed its
    own shape (``reshaped_in_place``) views what that view was, ``inner``, instead."""
    former = getattr(t._base, "_former", None)
    if t._base.array is not t._base_array and former is not None and former[0] is t._base_array:
        t._base, t._base_array = former[1], former[1].array
    if t._base.array is not t._base_array:
        raise RuntimeError(f"A view (made by {type(t._view_of).__name__}) was made before it or the tensor it views "
                           f"changed its shape or its numbers in place (t_, unsqueeze_, .data = ...; the tensor is "
                           f"now {tuple(t._base.shape)}), and is used in the graph since: make the view again after "
                           "that change (PyTorch's view keeps its place in memory; ours would pick other numbers)")


def _view_again(t):
    """The op that made the view ``t`` run again on its base, which has changed: a new tensor showing t's numbers."""
    from ..ops.movement import Expand, Index, Permute, Reshape  # (here: the ops import autograd, this package)
    op, base = t._view_of, t._base
    if type(op) is Index:
        return Index.apply(base, index=op.index)
    if type(op) is Permute:
        return Permute.apply(base, dims=tuple(int(d) for d in np.argsort(op.inverse)))
    if type(op) is Expand:
        return Expand.apply(base, shape=tuple(t.shape))
    if type(op) is Reshape or (t.array.shape == base.array.shape and t.array.strides == base.array.strides):
        return Reshape.apply(base, shape=tuple(t.shape))  # (also an op that hands its input back: a cast to its dtype)
    raise RuntimeError(f"a view made by {type(op).__name__} of a tensor of shape {tuple(base.shape)} was used after "
                       "that tensor was changed in place; it cannot be brought up to date here. Make the view again "
                       "after the change")
