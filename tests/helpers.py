"""Shared helpers for tests that compare tinygrad_lite with PyTorch.

- ``compare(our_fn, torch_fn, arrays)``: run the same computation in both libraries on float64 copies of
  ``arrays``, check that the outputs agree, then send the same random upstream gradient back through both
  and check that every input's ``.grad`` agrees (rtol 1e-8).
- ``assert_same(ours, theirs)``: one tinygrad_lite tensor (or Python value) against one torch tensor:
  shape, dtype and values.
- hypothesis strategies for shapes, broadcast-compatible shape tuples, dims and seeds.
"""
import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lite as tg

RTOL, ATOL = 1e-8, 1e-12


# -------------------------------------------------------------------- comparing results
def to_numpy(x):
    if isinstance(x, tg.Tensor):
        return x.detach().numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def dtype_name(x):
    """'float64', 'int64', 'bool', ... for a tensor of either library."""
    if isinstance(x, torch.Tensor):
        return str(x.dtype).removeprefix("torch.")
    return x.dtype.name


def assert_same(ours, theirs, what="output"):
    """Same shape, same dtype, values equal to rtol 1e-8 (exactly equal for bool and integer results)."""
    assert isinstance(ours, tg.Tensor), f"{what}: expected a tinygrad_lite Tensor, got {type(ours).__name__}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} vs torch {tuple(theirs.shape)}"
    assert dtype_name(ours) == dtype_name(theirs), f"{what}: dtype {dtype_name(ours)} vs torch {dtype_name(theirs)}"
    a, b = to_numpy(ours), to_numpy(theirs)
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def leaves(arrays, requires_grad=True):
    """float64 leaf tensors in both libraries holding the same numbers (``requires_grad`` may be per input)."""
    flags = requires_grad if isinstance(requires_grad, (tuple, list)) else [requires_grad] * len(arrays)
    ours = [tg.tensor(np.array(a, dtype=np.float64), requires_grad=r) for a, r in zip(arrays, flags)]
    theirs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=r) for a, r in zip(arrays, flags)]
    return ours, theirs


def compare(our_fn, torch_fn, arrays, requires_grad=True, seed=0, backward=True):
    """Check forward values and the gradients of every input that requires grad against PyTorch.

    ``torch_fn`` defaults to ``our_fn`` when None (operator expressions like ``lambda x, y: x * y`` work for both).
    Every floating output that requires grad gets the same random upstream gradient on both sides; their
    sum is what is differentiated (``torch.autograd.backward`` semantics).
    """
    torch_fn = our_fn if torch_fn is None else torch_fn
    ours_in, theirs_in = leaves(arrays, requires_grad)
    ours_out, theirs_out = _outputs(our_fn(*ours_in)), _outputs(torch_fn(*theirs_in))
    assert len(ours_out) == len(theirs_out), f"{len(ours_out)} outputs vs torch {len(theirs_out)}"
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        assert_same(o, t, f"output {k}")
    if not backward:
        return ours_out, theirs_out
    rng = np.random.default_rng(seed)
    our_roots, our_grads, torch_roots, torch_grads = [], [], [], []
    for o, t in zip(ours_out, theirs_out):
        assert o.requires_grad == t.requires_grad, f"requires_grad {o.requires_grad} vs torch {t.requires_grad}"
        if t.requires_grad:
            g = torch.tensor(rng.standard_normal(tuple(t.shape))).to(t.dtype)
            our_roots.append(o), our_grads.append(tg.tensor(g.numpy()))
            torch_roots.append(t), torch_grads.append(g)
    if not torch_roots:
        return ours_out, theirs_out
    for o, g in zip(our_roots, our_grads):  # ours has no multi-root backward: retain the graph and add up
        o.backward(g, retain_graph=True)
    torch.autograd.backward(torch_roots, torch_grads)
    for k, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if b.requires_grad:
            if b.grad is None:
                assert a.grad is None or not a.grad.numpy().any(), f"input {k}: got a gradient, torch has none"
                continue
            assert a.grad is not None, f"input {k}: no gradient, torch has one"
            assert_same(a.grad, b.grad, f"gradient of input {k}")
    return ours_out, theirs_out


# -------------------------------------------------------------------- strategies
def shapes(min_dims=0, max_dims=4, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcast_shapes(n=2, min_dims=0, max_dims=4, max_side=4):
    """``n`` shapes that broadcast together (including 0-d and size-1 dims)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=1,
                                             max_side=max_side).map(lambda b: b.input_shapes)


seeds = st.integers(0, 2**32 - 1)


@st.composite
def dims(draw, ndim, allow_none=True, allow_tuple=True):
    """A reduction ``dim`` for ``ndim`` dims: None, an int, or a tuple of distinct ints; each maybe negative."""
    kinds = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple else [])
    kind = draw(st.sampled_from(kinds))
    n = max(ndim, 1)
    if kind == "none":
        return None
    if kind == "int":
        d = draw(st.integers(0, n - 1))
        return d - n if draw(st.booleans()) else d
    chosen = draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=n)) if ndim else []
    return tuple(d - n if draw(st.booleans()) else d for d in chosen)


def normal(seed, shape):
    """Standard normal values: ties and exact zeros have probability 0, so kinks are never hit by accident."""
    return np.random.default_rng(seed).standard_normal(shape)


def positive(seed, shape, low=0.5, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def away_from_zero(seed, shape, low=0.5, high=2.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)
