"""The reverse-mode engine's semantics, checked against PyTorch wherever the behaviour is PyTorch's.

Covers: accumulation into leaves, retain_graph, the ``gradient=`` argument, graph shapes (diamonds, deep chains),
grad-mode switches, detach / requires_grad bookkeeping, in-place updates of weights, retain_grad, autograd.grad,
custom Functions written both ways, and type promotion / gradient dtypes.
"""
import itertools
import sys
import warnings

import numpy as np
import pytest
import torch

import tinygrad_lite as tl
from tinygrad_lite.autograd import Function

LIBS = [pytest.param(torch, id="torch"), pytest.param(tl, id="tinygrad_lite")]


@pytest.fixture(autouse=True)
def _grad_mode_is_left_on():
    """A test that leaves gradients switched off fails itself, instead of every test after it."""
    yield
    leaked = not (tl.is_grad_enabled() and torch.is_grad_enabled())
    tl.set_grad_enabled(True)
    torch.set_grad_enabled(True)
    assert not leaked, "the test left grad mode disabled"


def arr(t):
    """The numbers of a tinygrad_lite or torch tensor as a numpy array."""
    return np.asarray(t.detach().numpy())


def assert_same(ours, theirs, rtol=1e-6, atol=1e-6):
    """Same shape, same dtype name, same numbers."""
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(arr(ours), arr(theirs), rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------------------------ accumulation
@pytest.mark.parametrize("T", LIBS)
def test_grad_accumulates_across_backward_calls(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert x.grad is None
    (x * x).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [2, 4, 6])
    first = x.grad
    (x * 3).sum().backward()  # a new graph: its gradient is added, not stored over the old one
    np.testing.assert_allclose(arr(x.grad), [5, 7, 9])
    assert x.grad is first  # the same grad tensor, updated


def test_accumulation_matches_torch_over_several_graphs():
    data = np.random.randn(4, 3).astype(np.float32)
    results = []
    for T in (torch, tl):
        w = T.tensor(data, requires_grad=True)
        for k in range(3):
            ((w * (k + 1)).tanh() * w).sum().backward()
        results.append(w.grad)
    assert_same(results[1], results[0], rtol=1e-5)


@pytest.mark.parametrize("T", LIBS)
def test_grad_zero_and_set_to_none(T):
    w = T.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    w.grad.zero_()
    np.testing.assert_array_equal(arr(w.grad), [0, 0])
    (w * w).sum().backward()
    np.testing.assert_allclose(arr(w.grad), [2, -4])
    w.grad = None
    assert w.grad is None
    (w * 5).sum().backward()  # starts afresh
    np.testing.assert_allclose(arr(w.grad), [5, 5])


# ------------------------------------------------------------------------------------------------ retain_graph
@pytest.mark.parametrize("T", LIBS)
def test_retain_graph_allows_a_second_backward(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(arr(x.grad), 2 * 3 * np.array([1.0, 4.0]))


@pytest.mark.parametrize("T", LIBS)
def test_second_backward_without_retain_graph_raises(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()  # Mul saves its inputs
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


@pytest.mark.parametrize("T", LIBS)
def test_second_backward_through_ops_that_save_nothing_is_allowed(T):
    """PyTorch only complains when freed saved values are needed; adds and sums save none."""
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x + x + 1.0).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(arr(x.grad), [4, 4])


def test_retain_graph_error_message_says_what_to_do():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "second time" in message and "retain_graph=True" in message


# ------------------------------------------------------------------------------------------------ what backward accepts
@pytest.mark.parametrize("T", LIBS)
def test_non_scalar_backward_without_gradient_raises(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()


def test_non_scalar_backward_message_says_how_to_fix():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        (x * 2).backward()
    message = str(info.value)
    assert "(2,)" in message and ".sum()" in message and "ones_like" in message


@pytest.mark.parametrize("T", LIBS)
def test_backward_on_tensor_without_grad_raises(T):
    with pytest.raises(RuntimeError, match="does not require grad"):
        T.tensor([1.0, 2.0]).sum().backward()


def test_backward_without_grad_message_names_likely_causes():
    with pytest.raises(RuntimeError) as info:
        tl.ones(3).sum().backward()
    assert "requires_grad=True" in str(info.value) and "no_grad" in str(info.value)


def test_one_element_non_scalar_backward_is_implicit():
    for T in (torch, tl):
        x = T.tensor([3.0], requires_grad=True)
        (x * x).backward()  # shape (1,): one number, no gradient needed
        np.testing.assert_allclose(arr(x.grad), [6.0])


def test_gradient_argument_matches_torch():
    data = np.random.randn(3, 4).astype(np.float32)
    upstream = np.random.randn(3, 4).astype(np.float32)
    results = []
    for T in (torch, tl):
        x = T.tensor(data, requires_grad=True)
        y = x.sigmoid() * x
        y.backward(T.tensor(upstream))
        results.append(x.grad)
    assert_same(results[1], results[0], rtol=1e-5)


@pytest.mark.parametrize("T", LIBS)
def test_gradient_argument_on_scalar_scales(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward(T.tensor(2.0))
    np.testing.assert_allclose(arr(x.grad), [4.0, 8.0])


def test_gradient_of_wrong_shape_raises():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(tl.ones(3))


# ------------------------------------------------------------------------------------------------ graph shapes
def test_diamond_graph_sums_both_paths():
    for T in (torch, tl):
        x = T.tensor([0.5, -1.5], requires_grad=True)
        a, b = x.exp(), x * x  # x feeds two branches that meet again
        (a * b).sum().backward()
        xv = np.array([0.5, -1.5])
        np.testing.assert_allclose(arr(x.grad), np.exp(xv) * xv ** 2 + np.exp(xv) * 2 * xv, rtol=1e-6)


@pytest.mark.parametrize("T", LIBS)
def test_same_tensor_twice_in_one_op(T):
    x = T.tensor([3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [6.0])
    x.grad = None
    (x + x + x).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [3.0])


def test_shared_intermediate_used_many_times():
    for T in (torch, tl):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        y = h * h + h.exp() * h - h
        y.sum().backward()
        hv = 2 * np.array([1.0, 2.0])
        np.testing.assert_allclose(arr(x.grad), 2 * (2 * hv + np.exp(hv) * hv + np.exp(hv) - 1), rtol=1e-5)


def test_deep_chain_backprops_without_recursion_error():
    depth = 12000
    assert depth > sys.getrecursionlimit()
    x = tl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(depth):
        y = y * 1.0001 + 0.0
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001 ** depth, rtol=1e-3)


def test_wide_graph_many_leaves():
    leaves = [tl.tensor(float(i), requires_grad=True) for i in range(500)]
    total = leaves[0]
    for leaf in leaves[1:]:
        total = total + leaf * leaf
    total.backward()
    assert leaves[0].grad.item() == 1.0
    assert all(leaf.grad.item() == 2.0 * i for i, leaf in enumerate(leaves) if i)


@pytest.mark.parametrize("T", LIBS)
def test_leaves_that_do_not_require_grad_get_no_grad(T):
    w = T.tensor([1.0, 2.0], requires_grad=True)
    x = T.tensor([3.0, 4.0])
    (w * x).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(arr(w.grad), [3.0, 4.0])


# ------------------------------------------------------------------------------------------------ grad mode
@pytest.mark.parametrize("T", LIBS)
def test_no_grad_context(T):
    x = T.ones(2, requires_grad=True)
    with T.no_grad():
        y = x * 2
        assert not T.is_grad_enabled()
    assert T.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


@pytest.mark.parametrize("T", LIBS)
def test_no_grad_decorator_with_and_without_parentheses(T):
    x = T.ones(2, requires_grad=True)

    @T.no_grad()
    def f(a):
        assert not T.is_grad_enabled()
        return a * 2

    @T.no_grad
    def g(a):
        assert not T.is_grad_enabled()
        return a * 3

    assert not f(x).requires_grad and not g(x).requires_grad
    assert f.__name__ == "f" and g.__name__ == "g"
    assert T.is_grad_enabled()
    assert (x * 2).requires_grad


@pytest.mark.parametrize("T", LIBS)
def test_enable_grad_nested_in_no_grad(T):
    x = T.ones(2, requires_grad=True)
    with T.no_grad():
        with T.enable_grad():
            assert T.is_grad_enabled()
            y = x * 2
            with T.no_grad():
                z = x * 2
            assert T.is_grad_enabled()
        assert not T.is_grad_enabled()
        w = x * 2
    assert y.requires_grad and not z.requires_grad and not w.requires_grad

    @T.enable_grad()
    def tracked(a):
        return a * 2

    with T.no_grad():
        assert tracked(x).requires_grad


@pytest.mark.parametrize("T", LIBS)
def test_set_grad_enabled_as_function_and_context(T):
    x = T.ones(2, requires_grad=True)
    try:
        T.set_grad_enabled(False)
        assert not T.is_grad_enabled()
        assert not (x * 2).requires_grad
        T.set_grad_enabled(True)
        assert (x * 2).requires_grad
        for mode in (False, True):
            with T.set_grad_enabled(mode):
                assert T.is_grad_enabled() is mode
                assert (x * 2).requires_grad is mode
            assert T.is_grad_enabled()
        with T.no_grad():
            with T.set_grad_enabled(True):
                assert (x * 2).requires_grad
            assert not T.is_grad_enabled()
    finally:
        T.set_grad_enabled(True)


@pytest.mark.parametrize("T", LIBS)
def test_set_grad_enabled_as_decorator_does_not_switch_mode_at_definition(T):
    try:
        @T.set_grad_enabled(False)
        def f(a):
            return a * 2

        assert T.is_grad_enabled()
        assert not f(T.ones(1, requires_grad=True)).requires_grad
        assert T.is_grad_enabled()
    finally:
        T.set_grad_enabled(True)


@pytest.mark.parametrize("T", LIBS)
def test_grad_mode_restored_after_exception(T):
    with pytest.raises(ValueError):
        with T.no_grad():
            raise ValueError("boom")
    assert T.is_grad_enabled()


@pytest.mark.parametrize("T", LIBS)
def test_inference_mode_records_nothing(T):
    x = T.ones(2, requires_grad=True)
    with T.inference_mode():
        assert not (x * 2).requires_grad
    with T.inference_mode(False):
        assert (x * 2).requires_grad
    assert not T.inference_mode()(lambda: (x * 2).requires_grad)()
    assert T.inference_mode(False)(lambda: (x * 2).requires_grad)()
    assert not T.is_inference_mode_enabled()
    with T.no_grad(), T.inference_mode():
        assert T.is_inference_mode_enabled() and not T.is_grad_enabled()
        with T.inference_mode(False):  # tracking on, even inside no_grad
            assert not T.is_inference_mode_enabled() and T.is_grad_enabled() and (x * 2).requires_grad
        assert T.is_inference_mode_enabled() and not T.is_grad_enabled()
    assert not T.is_inference_mode_enabled() and T.is_grad_enabled()


@pytest.mark.parametrize("T", LIBS)
def test_a_decorated_generator_runs_in_its_mode_each_time_it_resumes(T):
    """``@no_grad()`` on a generator (``def predict(batches): ... yield model(x)``): every step inside it runs
    without tracking, and the caller's mode is back at each yield, after a close() and after a throw()."""
    x = T.ones(2, requires_grad=True)
    seen = []

    def steps():
        try:
            sent = yield x * 2
            seen.append((sent, T.is_grad_enabled()))
            yield x * 3
        finally:
            seen.append(("finally", T.is_grad_enabled()))
        return "done"

    inside = False
    # (each made just before it decorates: set_grad_enabled switches the mode as soon as it is made; each then
    # decorates three generators, as one decorator object may)
    for make in (T.no_grad, lambda: T.no_grad, T.inference_mode, lambda: T.set_grad_enabled(False)):
        seen.clear()
        decorate = make()
        gen = decorate(steps)()
        assert next(gen).requires_grad is inside and T.is_grad_enabled()
        assert gen.send("sent").requires_grad is inside and T.is_grad_enabled()
        with pytest.raises(StopIteration) as stop:
            next(gen)
        assert stop.value.value == "done" and seen == [("sent", inside), ("finally", inside)]
        gen = decorate(steps)()
        next(gen)
        gen.close()
        assert seen[-1] == ("finally", inside) and T.is_grad_enabled()
        gen = decorate(steps)()
        next(gen)
        with pytest.raises(KeyError):
            gen.throw(KeyError("thrown in"))
        assert seen[-1] == ("finally", inside) and T.is_grad_enabled()
    with T.no_grad():
        assert next(T.enable_grad()(steps)()).requires_grad and not T.is_grad_enabled()


@pytest.mark.parametrize("T", LIBS)
def test_results_under_no_grad_do_not_require_grad_for_many_ops(T):
    x = T.ones(2, 3, requires_grad=True)
    with T.no_grad():
        for y in (x + 1, x @ x.t(), x.exp(), x.sum(), x.relu(), x.mean(dim=1), -x, x.clone(), x.to(T.float64)):
            assert not y.requires_grad, y


def test_views_under_no_grad_do_not_require_grad():
    """PyTorch's views (reshape, indexing) made under no_grad still say requires_grad=True, though no graph links
    them to the base (a known quirk); ours say False, which is what they are."""
    x = tl.ones(2, 3, requires_grad=True)
    with tl.no_grad():
        for y in (x.reshape(6), x[0], x.t(), x.unsqueeze(0)):
            assert not y.requires_grad and y.grad_fn is None, y


# ------------------------------------------------------------------------------------------------ detach, flags
@pytest.mark.parametrize("T", LIBS)
def test_detach_shares_memory_and_cuts_graph(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    with T.no_grad():
        y[0] = 10.0  # changes seen through the detached tensor: same memory
    assert d[0].item() == 10.0
    xd = x.detach()
    xd[1] = 7.0  # plain tensor, no grad needed: allowed outside no_grad
    assert x[1].item() == 7.0
    (d * x).sum().backward()  # d is a constant: gradient w.r.t. x is d
    np.testing.assert_allclose(arr(x.grad), arr(d))


@pytest.mark.parametrize("T", LIBS)
def test_requires_grad_underscore(T):
    x = T.tensor([1.0, 2.0])
    assert not x.requires_grad
    assert x.requires_grad_() is x
    assert x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf


@pytest.mark.parametrize("T", LIBS)
def test_non_leaf_requires_grad_change(T):
    x = T.ones(2, requires_grad=True)
    y = x * 2
    y.requires_grad_(True)  # already True: PyTorch allows it
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="leaf"):  # the attribute refuses True too (issue 21): only requires_grad_
        y.requires_grad = True                        # accepts it
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None


def test_setting_requires_grad_on_a_non_leaf_says_why_and_what_to_do():
    y = tl.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as info:
        y.requires_grad = True
    for words in ("leaf tensors", "result of an op", "MulBackward", ".detach()", ".detach().requires_grad_()"):
        assert words in str(info.value)


@pytest.mark.parametrize("T", LIBS)
@pytest.mark.parametrize("make", [lambda T: T.tensor([1, 2]), lambda T: T.tensor([True]),
                                  lambda T: T.arange(3), lambda T: T.zeros(2, dtype=T.int32)])
def test_int_tensors_cannot_require_grad(T, make):
    with pytest.raises(RuntimeError, match="(?i)only tensors of floating point"):
        make(T).requires_grad_()


@pytest.mark.parametrize("T", LIBS)
def test_int_tensor_with_requires_grad_argument_raises(T):
    with pytest.raises(RuntimeError, match="(?i)floating point"):
        T.tensor([1, 2], requires_grad=True)


def test_int_requires_grad_message_suggests_float():
    with pytest.raises(RuntimeError) as info:
        tl.tensor([1, 2]).requires_grad_()
    assert "int64" in str(info.value) and ".float()" in str(info.value)


@pytest.mark.parametrize("T", LIBS)
def test_is_leaf_and_grad_fn(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    c = T.tensor([1.0, 2.0])
    y = x * c
    assert x.is_leaf and c.is_leaf and not y.is_leaf
    assert x.grad_fn is None and c.grad_fn is None and y.grad_fn is not None
    assert (c * 2).is_leaf  # nothing requiring grad went in: no graph
    assert type(y.grad_fn).__name__.startswith("Mul")


def test_grad_fn_names_read_like_torch():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    assert repr((x * 2).grad_fn) == "<MulBackward>"
    assert repr((x + 2).grad_fn) == "<AddBackward>"
    assert repr(x.sum().grad_fn) == "<SumBackward>"
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    assert type((tx * 2).grad_fn).__name__.startswith("MulBackward")


# ------------------------------------------------------------------------------------------------ in-place updates
@pytest.mark.parametrize("T", LIBS)
def test_manual_sgd_step_under_no_grad_is_in_place(T):
    w = T.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    before, array_before = w, w.detach().numpy()
    with T.no_grad():
        w -= 0.1 * w.grad
    assert w is before and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(arr(w), [0.8, 1.6], rtol=1e-6)
    np.testing.assert_allclose(array_before, [0.8, 1.6], rtol=1e-6)  # the same memory was updated
    w.grad.zero_()
    (w * w).sum().backward()  # and it still trains
    np.testing.assert_allclose(arr(w.grad), [1.6, 3.2], rtol=1e-6)


@pytest.mark.parametrize("T", LIBS)
@pytest.mark.parametrize("op", ["isub", "iadd", "imul", "sub_", "add_", "mul_", "zero_", "fill_", "setitem"])
def test_in_place_on_leaf_requiring_grad_raises_outside_no_grad(T, op):
    w = T.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        if op == "isub":
            w -= 1.0
        elif op == "iadd":
            w += 1.0
        elif op == "imul":
            w *= 2.0
        elif op == "zero_":
            w.zero_()
        elif op == "fill_":
            w.fill_(3.0)
        elif op == "setitem":
            w[0] = 3.0
        else:
            getattr(w, op)(2.0)


def test_leaf_in_place_message_suggests_no_grad():
    w = tl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        w -= 0.1
    assert "in-place" in str(info.value) and "no_grad" in str(info.value)


@pytest.mark.parametrize("T", LIBS)
def test_data_update_works_outside_no_grad(T):
    w = T.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    w.data -= 0.5 * w.grad.data
    np.testing.assert_allclose(arr(w), [-0.5, 0.5])
    assert w.requires_grad and w.is_leaf
    assert not w.data.requires_grad
    w.data = T.tensor([9.0, 9.0])
    np.testing.assert_allclose(arr(w), [9.0, 9.0])
    assert w.requires_grad


@pytest.mark.parametrize("T", LIBS)
def test_setitem_under_no_grad(T):
    w = T.zeros(3, requires_grad=True)
    with T.no_grad():
        w[1] = 5.0
        w[T.tensor([0, 2])] = T.tensor([1.0, 2.0])
    np.testing.assert_allclose(arr(w), [1.0, 5.0, 2.0])
    assert w.requires_grad and w.is_leaf


# ------------------------------------------------------------------------------------------ retain_grad, non-leaf .grad
@pytest.mark.parametrize("T", LIBS)
def test_retain_grad_on_non_leaf(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = (h * h).sum()
    y.retain_grad()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(arr(h.grad), [6.0, 12.0])
    np.testing.assert_allclose(arr(y.grad), 1.0)
    y.backward()  # retained grads accumulate too
    np.testing.assert_allclose(arr(h.grad), [12.0, 24.0])
    np.testing.assert_allclose(arr(x.grad), [36.0, 72.0])


@pytest.mark.parametrize("T", LIBS)
def test_reading_grad_of_non_leaf_warns(T):
    x = T.ones(2, requires_grad=True)
    h = x * 2
    h.sum().backward()
    with pytest.warns(UserWarning, match="(?i)retain_grad"):
        assert h.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None  # leaves never warn
        assert T.ones(2).grad is None


@pytest.mark.parametrize("T", LIBS)
def test_retain_grad_on_leaf_is_harmless(T):
    x = T.ones(2, requires_grad=True)
    x.retain_grad()
    (x * 2).sum().backward()
    np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])
    with pytest.raises(RuntimeError, match="retain_grad"):  # no gradient will come: said at once, as PyTorch
        T.ones(2).retain_grad()


# ------------------------------------------------------------------------------------------------ autograd.grad
@pytest.mark.parametrize("T", LIBS)
def test_autograd_grad_returns_grads_and_leaves_dot_grad_alone(T):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([3.0, 4.0], requires_grad=True)
    out = (a * b * b).sum()
    ga, gb = T.autograd.grad(out, [a, b])
    np.testing.assert_allclose(arr(ga), [9.0, 16.0])
    np.testing.assert_allclose(arr(gb), [6.0, 16.0])
    assert a.grad is None and b.grad is None
    assert not ga.requires_grad


@pytest.mark.parametrize("T", LIBS)
def test_autograd_grad_single_input_and_non_leaf(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    out = (h * 3).sum()
    (gh,) = T.autograd.grad(out, h, retain_graph=True)
    np.testing.assert_allclose(arr(gh), [3.0, 3.0])
    (gx,) = T.autograd.grad(out, x)
    np.testing.assert_allclose(arr(gx), [6.0, 12.0])


@pytest.mark.parametrize("T", LIBS)
def test_autograd_grad_allow_unused(T):
    a = T.tensor([1.0], requires_grad=True)
    unused = T.tensor([1.0], requires_grad=True)
    out = (a * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        T.autograd.grad(out, [a, unused], retain_graph=True)
    ga, gu = T.autograd.grad(out, [a, unused], allow_unused=True)
    np.testing.assert_allclose(arr(ga), [2.0])
    assert gu is None


@pytest.mark.parametrize("T", LIBS)
def test_autograd_grad_with_grad_outputs(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = T.autograd.grad(x * x, x, grad_outputs=T.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(arr(g), [2.0, 0.0, 12.0])


@pytest.mark.parametrize("T", LIBS)
def test_autograd_grad_adds_up_the_contributions_of_several_outputs(T):
    """issue 21: autograd.grad([a, b], x) is the gradient of a + b (with grad_outputs: of <g_a, a> + <g_b, b>)."""
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (g,) = T.autograd.grad([(2 * x).sum(), (3 * x).sum()], x)
    assert g.tolist() == [5.0, 5.0]
    h = x * x
    ga, gx = T.autograd.grad([h, h.sum() * 2, h], [h, x], grad_outputs=[T.tensor([1.0, 2.0]), None,
                                                                        T.tensor([0.5, 0.5])])
    assert ga.tolist() == [3.5, 4.5] and gx.tolist() == [7.0, 18.0]  # 2x (1.5 + 2, 2.5 + 2)
    b = T.tensor([3.0], requires_grad=True)
    ga, gb = T.autograd.grad([x.sum(), (b * b).sum()], [x, b])
    assert ga.tolist() == [1.0, 1.0] and gb.tolist() == [6.0]
    with pytest.raises(RuntimeError, match="gradients"):  # one gradient per output
        T.autograd.grad([x * 2, x * 3], x, grad_outputs=[T.ones(2)])


def test_autograd_backward_from_several_roots_adds_up_as_pytorch():
    results = []
    for T in (torch, tl):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        T.autograd.backward([(x * x).sum(), x * 3], [None, T.tensor([1.0, -1.0])])
        results.append(x.grad.tolist())
    assert results[0] == results[1] == [5.0, 1.0]


@pytest.mark.parametrize("T", LIBS)
def test_retain_grad_is_honoured_by_autograd_grad_where_pytorch_runs_the_op(T):
    """A retained tensor gets .grad when its op runs (it is on a path to the inputs) or it is an input."""
    x, w = T.tensor([1.0, 2.0], requires_grad=True), T.tensor([3.0, 4.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (g,) = T.autograd.grad((h * h).sum(), x)
    assert g.tolist() == [18.0, 36.0] and h.grad.tolist() == [6.0, 12.0] and x.grad is None
    h = x * 2
    h.retain_grad()
    (g,) = T.autograd.grad((h * h).sum(), h)  # h is the input: its .grad is filled too
    assert g.tolist() == h.grad.tolist() == [4.0, 8.0]
    h = x * 2
    h.retain_grad()
    k = h * 3
    k.retain_grad()
    (g,) = T.autograd.grad((k * w).sum(), w)  # the ops of k and h are not needed for w: they do not run
    assert g.tolist() == [6.0, 12.0] and h.grad is None and k.grad is None
    h = x * 2
    h.retain_grad()
    out = (h * w).sum()
    T.autograd.grad(out, x, retain_graph=True)
    T.autograd.grad(out, x)
    assert h.grad.tolist() == [6.0, 8.0]  # accumulated over the two calls, as .grad always is


@pytest.mark.parametrize("T", LIBS)
def test_next_functions_with_a_number_on_the_left_as_pytorch(T):
    """issue 21: 2 * b is recorded as b * 2 (b first, the number's None second); 1 - b is rsub, with b only."""
    x = T.tensor([0.5, 1.0], requires_grad=True)
    b = x.sin()
    for y in (2 * b, b * 2, 1 + b, b + 1, b - 1):
        (first, i), second = y.grad_fn.next_functions
        assert first is b.grad_fn and i == 0 and second == (None, 0)
    (only,) = (1 - b).grad_fn.next_functions
    assert only == (b.grad_fn, 0) and (1 - b).grad_fn.name().startswith("RsubBackward")
    for y in (b ** 2, 2 ** b, b ** 0.5):  # pow with a number: the tensor is the one input, as PyTorch's PowBackward
        assert y.grad_fn.next_functions == ((b.grad_fn, 0),) and y.grad_fn.name().startswith("PowBackward")
    d = 2 * b + 1  # PyTorch's autograd tutorial walks this chain down to the leaf
    chain = d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert chain.variable is x
    y = 3 - 2 * b
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), -2 * np.cos([0.5, 1.0]), rtol=1e-6)
    assert (1 - T.tensor([1, 2])).tolist() == [0, -1] and (2 - T.tensor([1.5], dtype=T.float64)).dtype is T.float64


# ------------------------------------------------------------------------------------------------ custom Functions
def make_torch_style_sin_cos(base, materialize=True):
    class SinCos(base):
        """Two outputs, sin x and cos x: backward gets one gradient per output."""
        seen = []

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.set_materialize_grads(materialize)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, grad_sin, grad_cos):
            (x,) = ctx.saved_tensors
            SinCos.seen.append([None if g is None else g.tolist() for g in (grad_sin, grad_cos)])
            total = 0
            if grad_sin is not None:
                total = total + grad_sin * x.cos()
            if grad_cos is not None:
                total = total - grad_cos * x.sin()
            return total

    return SinCos


@pytest.mark.parametrize("materialize", [True, False])
def test_custom_function_with_several_outputs_matches_torch(materialize):
    """issue 21: forward returns a tuple; backward runs once with a gradient per output, zeros for an output that
    got none (None after ctx.set_materialize_grads(False)); consumers see (node, output number)."""
    results = []
    for T, base in ((torch, torch.autograd.Function), (tl, Function)):
        SinCos = make_torch_style_sin_cos(base, materialize)
        x = T.tensor([0.5, 1.0, 2.0], requires_grad=True)
        s, c = SinCos.apply(x)
        assert s.grad_fn is c.grad_fn and isinstance(s, T.Tensor)
        (s * 2 + c * c).sum().backward(retain_graph=True)  # both used: c twice
        first = x.grad.tolist()
        x.grad = None
        s.sum().backward()  # only s: c's gradient is zeros (or None)
        uses = (c * 3).grad_fn.next_functions[0]
        results.append((s.tolist(), c.tolist(), first, x.grad.tolist(), SinCos.seen, uses[1],
                        uses[0] is s.grad_fn))
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-6)
    np.testing.assert_allclose(results[1][3], results[0][3], rtol=1e-6)
    ours, theirs = results[1][4], results[0][4]
    assert len(ours) == len(theirs) == 2  # one backward call per backward pass
    assert (ours[1][1] is None) == (theirs[1][1] is None) == (not materialize)
    assert results[1][5:] == results[0][5:] == (1, True)


def test_pow_with_a_number_gives_pytorchs_values_and_gradients():
    data = np.array([0.0, 0.5, 2.0, 3.0])
    results = []
    for T in (torch, tl):
        x = T.tensor(data, requires_grad=True)
        row = []
        for make in (lambda b: b ** 2, lambda b: 2 ** b, lambda b: b ** 0, lambda b: 0 ** b, lambda b: b ** -1.5,
                     lambda b: 1.5 ** b, lambda b: b.pow(3)):
            y = make(x * 1.5)
            (g,) = T.autograd.grad((y * T.tensor([1.0, 2.0, 3.0, 4.0], dtype=T.float64)).sum(), x)
            row.append((y.tolist(), g.tolist()))
        results.append(row)
    np.testing.assert_allclose(np.array(results[1]), np.array(results[0]), rtol=1e-12)


def test_polynomial_features_at_zero_differentiate_without_warnings():
    """x ** 0 and x ** 1 at x = 0 (the columns of polynomial features): finite values, finite gradients, and so no
    numpy warning, though x^{y-1} would be 1/0 at y = 0 (its gradient is 0 there)."""
    x = tl.linspace(-1, 1, 5, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tl.stack([x ** i for i in range(3)], 1).sum().backward()
    assert x.grad.tolist() == [-1.0, 0.0, 1.0, 2.0, 3.0]  # d/dx (1 + x + x^2) = 1 + 2x


def test_custom_function_with_several_outputs_changed_in_place_or_dropped_matches_torch():
    results = []
    for T, base in ((torch, torch.autograd.Function), (tl, Function)):
        SinCos = make_torch_style_sin_cos(base)
        x = T.tensor([0.5, 1.0], requires_grad=True)
        s, c = SinCos.apply(x)
        s.mul_(2)  # s's earlier state stays the op's output 0
        y = s + c
        (y * T.tensor([1.0, 3.0])).sum().backward()
        changed = (x.grad.tolist(), y.grad_fn.next_functions[0][1], y.grad_fn.next_functions[1][1])
        x.grad = None
        s, _ = SinCos.apply(x)
        del _  # the other output is gone: it gets zeros
        s.sum().backward()
        results.append((changed, x.grad.tolist()))
    np.testing.assert_allclose(results[1][0][0], results[0][0][0], rtol=1e-6)
    assert results[1][0][1:] == results[0][0][1:] == (0, 1)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)


def _numbers_and_an_input_as_outputs(T, base):
    seen = []

    class WithCount(base):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 3, x.sin()

        @staticmethod
        def backward(ctx, g_double, g_count, g_sin):
            seen.append((g_count, g_sin.tolist()))
            return g_double * 2

    class Identity(base):
        @staticmethod
        def forward(ctx, x):
            return x, x * 2

        @staticmethod
        def backward(ctx, g_same, g_double):
            return g_same + 2 * g_double

    x = T.tensor([1.0, 2.0], requires_grad=True)
    y, count, z = WithCount.apply(x)
    y.sum().backward()
    a, b = Identity.apply(x)
    (a + b).sum().backward()
    return count, seen, (z * 2).grad_fn.next_functions[0][1], a is x, a._base is x, x.grad.tolist()


def test_custom_function_outputs_that_are_numbers_or_an_input_as_torch():
    """A number in forward's tuple is returned as it is (its gradient: None, never zeros); an input returned as an
    output is a new tensor that views it."""
    theirs = _numbers_and_an_input_as_outputs(torch, torch.autograd.Function)
    ours = _numbers_and_an_input_as_outputs(tl, Function)
    assert ours == theirs == (3, [(None, [0.0, 0.0])], 2, False, True, [5.0, 5.0])


def test_custom_function_with_several_outputs_in_our_style_and_with_autograd_grad():
    class SplitHalves(Function):
        """Arrays in, arrays out: the two halves of x; backward puts each gradient back in its half."""
        def forward(self, x):
            return x[:2].copy(), x[2:].copy()

        def backward(self, g_front, g_back):
            return np.concatenate([g_front, g_back])

    x = tl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    front, back = SplitHalves.apply(x)
    (g,) = tl.autograd.grad([(front * front).sum(), back.sum() * 5], x)
    assert g.tolist() == [2.0, 4.0, 5.0, 5.0]
    (g,) = tl.autograd.grad(back.sum(), x)  # the unused front gets zeros
    assert g.tolist() == [0.0, 0.0, 1.0, 1.0]


def make_torch_style_cube(base):
    class Cube(base):
        """y = x^3, written PyTorch's way."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x * x

    return Cube


def make_torch_style_scaled_mul(base):
    class ScaledMul(base):
        """z = k x y with a non-tensor argument k (its gradient is None)."""

        @staticmethod
        def forward(ctx, x, k, y):
            ctx.save_for_backward(x, y)
            ctx.k = k
            return k * x * y

        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors  # needs_input_grad has one flag per argument of forward, k's included
            gx = ctx.k * grad_output * y if ctx.needs_input_grad[0] else None
            gy = ctx.k * grad_output * x if ctx.needs_input_grad[2] else None
            return gx, None, gy

    return ScaledMul


def test_torch_style_custom_function_matches_torch():
    data = np.random.randn(5).astype(np.float32)
    results = []
    for T, base in ((torch, torch.autograd.Function), (tl, tl.autograd.Function)):
        Cube = make_torch_style_cube(base)
        x = T.tensor(data, requires_grad=True)
        y = Cube.apply(x)
        assert y.requires_grad and not y.is_leaf
        (y * 2).sum().backward()
        results.append((y, x.grad))
    assert_same(results[1][0], results[0][0])
    assert_same(results[1][1], results[0][1], rtol=1e-5)


@pytest.mark.parametrize("y_requires_grad", [True, False])
def test_torch_style_function_with_non_tensor_argument(y_requires_grad):
    results = []
    for T, base in ((torch, torch.autograd.Function), (tl, tl.autograd.Function)):
        ScaledMul = make_torch_style_scaled_mul(base)
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = T.tensor([3.0, 5.0], requires_grad=y_requires_grad)
        ScaledMul.apply(x, 2.5, y).sum().backward()
        results.append((x.grad, y.grad))
    assert_same(results[1][0], results[0][0])
    if y_requires_grad:
        assert_same(results[1][1], results[0][1])
    else:
        assert results[1][1] is None and results[0][1] is None


def test_torch_style_needs_input_grad_has_a_flag_per_argument():
    seen = {}

    def probe(T):
        class Probe(T.autograd.Function):
            @staticmethod
            def forward(ctx, a, scale, b):
                seen[T.__name__, "forward"] = tuple(ctx.needs_input_grad)
                return a * scale + b

            @staticmethod
            def backward(ctx, grad_output):
                seen[T.__name__, "backward"] = tuple(ctx.needs_input_grad)
                return grad_output * 2, None, grad_output

        Probe.apply(T.ones(2, requires_grad=True), 2.0, T.ones(2)).sum().backward()

    for T in (torch, tl):
        probe(T)
    assert seen["tinygrad_lite", "forward"] == seen["torch", "forward"] == (True, False, False)
    assert seen["tinygrad_lite", "backward"] == seen["torch", "backward"] == (True, False, False)


def test_torch_style_function_under_no_grad_and_retain_graph():
    Cube = make_torch_style_cube(tl.autograd.Function)
    x = tl.tensor([2.0], requires_grad=True)
    with tl.no_grad():
        assert not Cube.apply(x).requires_grad
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [24.0])
    y2 = Cube.apply(x).sum()
    y2.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y2.backward()


class Square(Function):
    """z = x^2, written our way: instance methods on arrays."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, g):
        (x,) = self.saved_tensors
        return 2 * x * g


class WeightedSum(Function):
    """z = sum(w * x) over two inputs, with a keyword option."""

    def forward(self, x, w, scale=1.0):
        self.save_for_backward(x, w)
        self.scale = scale
        return np.asarray(scale * (x * w).sum())

    def backward(self, g):
        x, w = self.saved_tensors
        return self.scale * g * w, self.scale * g * x


def test_our_style_custom_function():
    x = tl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = Square.apply(x)
    assert isinstance(y, tl.Tensor) and repr(y.grad_fn) == "<SquareBackward>"
    np.testing.assert_allclose(y.numpy(force=True), [1.0, 4.0, 9.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])

    w = tl.tensor([0.5, 0.5, 2.0], requires_grad=True)
    x.grad = None
    out = WeightedSum.apply(x, w, scale=2.0)
    assert out.shape == ()
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 4.0])
    np.testing.assert_allclose(w.grad.numpy(), [2.0, -4.0, 6.0])


def test_our_style_function_passes_gradcheck():
    x = tl.tensor(np.random.randn(4), dtype=tl.float64, requires_grad=True)
    w = tl.tensor(np.random.randn(4), dtype=tl.float64, requires_grad=True)
    assert tl.gradcheck(lambda a, b: WeightedSum.apply(Square.apply(a), b, scale=3.0), (x, w))


def test_torch_style_function_passes_gradcheck():
    Cube = make_torch_style_cube(tl.autograd.Function)
    x = tl.tensor(np.random.randn(3), dtype=tl.float64, requires_grad=True)
    assert tl.gradcheck(Cube.apply, (x,))


# ------------------------------------------------------------------------------------------------ type promotion
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def ones_of(T, name, shape):
    return T.ones(shape, dtype=getattr(T, name))


@pytest.mark.parametrize("a, b", list(itertools.product(DTYPES, DTYPES)))
def test_promotion_of_tensor_pairs_matches_torch(a, b):
    for shape_a, shape_b in (((2,), (2,)), ((2,), ()), ((), (2,)), ((), ())):
        expected = torch.result_type(ones_of(torch, a, shape_a), ones_of(torch, b, shape_b))
        ours = (ones_of(tl, a, shape_a) + ones_of(tl, b, shape_b)).dtype
        assert ours.name == str(expected).split(".")[-1], (a, b, shape_a, shape_b)
        assert tl.result_type(ones_of(tl, a, shape_a), ones_of(tl, b, shape_b)) is ours


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("scalar", [True, 3, 2.5])
@pytest.mark.parametrize("shape", [(2,), ()], ids=["1d", "0d"])
def test_promotion_with_python_scalars_matches_torch(a, scalar, shape):
    expected = torch.result_type(ones_of(torch, a, shape), scalar)
    name = str(expected).split(".")[-1]
    assert (ones_of(tl, a, shape) + scalar).dtype.name == name
    assert (scalar + ones_of(tl, a, shape)).dtype.name == name
    assert (ones_of(tl, a, shape) * scalar).dtype.name == str((ones_of(torch, a, shape) * scalar).dtype).split(".")[-1]


@pytest.mark.parametrize("a", ["float16", "float32", "float64", "int32", "int64"])
def test_promotion_with_numpy_scalars_is_weak_like_python_numbers(a):
    expected = (ones_of(torch, a, (2,)) * np.float64(2.0).item()).dtype
    assert (ones_of(tl, a, (2,)) * np.float64(2.0)).dtype.name == str(expected).split(".")[-1]


@pytest.mark.parametrize("a, b", [("int64", "int64"), ("int32", "int32"), ("uint8", "int64"), ("bool", "bool"),
                                  ("int64", "float64")])
def test_true_division_of_ints_gives_float(a, b):
    x_t, y_t = torch.tensor([1, 2, 3]).to(getattr(torch, a)), torch.tensor([2, 2, 1]).to(getattr(torch, b))
    x_l, y_l = tl.tensor([1, 2, 3]).to(getattr(tl, a)), tl.tensor([2, 2, 1]).to(getattr(tl, b))
    assert_same(x_l / y_l, x_t / y_t)
    assert_same(x_l / 2, x_t / 2)
    assert_same(3 / y_l, 3 / y_t)


def test_int_division_is_float32_by_default():
    assert (tl.tensor([1, 2]) / tl.tensor([2, 4])).dtype is tl.float32
    np.testing.assert_allclose((tl.tensor([1, 2]) / tl.tensor([2, 4])).numpy(), [0.5, 0.5])


def test_promoted_values_match_torch():
    a_np = np.array([1, 2, 200], dtype=np.uint8)
    b_np = np.array([-1, 5, 100], dtype=np.int8)
    a_t, b_t, a_l, b_l = torch.tensor(a_np), torch.tensor(b_np), tl.tensor(a_np), tl.tensor(b_np)
    assert_same(a_l + b_l, a_t + b_t)
    assert_same(a_l * 2.5, a_t * 2.5)
    assert_same(a_l.to(tl.float16) + b_l, a_t.to(torch.float16) + b_t)


@pytest.mark.parametrize("leaf_dtype, other_dtype", [("float32", "float64"), ("float64", "float32"),
                                                     ("float16", "float32"), ("float32", "float16")])
def test_gradient_has_the_dtype_of_its_tensor(leaf_dtype, other_dtype):
    for T in (torch, tl):
        w = T.ones(3, dtype=getattr(T, leaf_dtype), requires_grad=True)
        x = T.full((3,), 2.0, dtype=getattr(T, other_dtype), requires_grad=True)
        (w * x).sum().backward()
        assert str(w.grad.dtype).split(".")[-1] == leaf_dtype
        assert str(x.grad.dtype).split(".")[-1] == other_dtype
        np.testing.assert_allclose(arr(w.grad).astype(np.float64), [2.0, 2.0, 2.0])


def test_gradient_dtype_through_int_operand():
    w = tl.ones(3, requires_grad=True)
    idx = tl.tensor([1, 2, 3])
    (w * idx).sum().backward()
    assert w.grad.dtype is tl.float32
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0, 3.0])


def test_a_number_divided_by_a_tensor_is_pytorchs_reciprocal_times_the_number_to_the_bit():
    """3.7 / x is reciprocal(x) * 3.7 in PyTorch (two roundings): the same graph, values and gradients, bit for bit."""
    data = np.random.default_rng(0).standard_normal(2000).astype(np.float32)
    results = []
    for T in (torch, tl):
        x = T.tensor(data, requires_grad=True)
        y = 3.7 / x
        y.sum().backward()
        (first, _), second = y.grad_fn.next_functions
        assert first.name().startswith("ReciprocalBackward") and second == (None, 0)
        assert first.next_functions[0][0].variable is x
        results.append((y.detach().numpy(), x.grad.numpy(), x.reciprocal().detach().numpy()))
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_array_equal(ours, theirs)
    assert (2 / tl.tensor([4, 8])).tolist() == [0.5, 0.25]  # integers divide in the default float type


def test_integer_results_never_require_grad_as_torch():
    """Only floating-point results can require grad: a cast to an integer or bool dtype, or an integer output of a
    custom Function, is a constant (no grad_fn), as in PyTorch; so `.long().numpy()` works and no gradient flows
    through a rounding."""
    for lib in (tl, torch):
        x = lib.tensor([1.7, -2.2], requires_grad=True)
        for cast in (x.long(), x.int(), x.bool(), x.to(lib.int64)):
            assert not cast.requires_grad and cast.grad_fn is None and cast.is_leaf, (lib.__name__, cast)
        assert x.long().numpy().tolist() == [1, -2]
        with pytest.raises(RuntimeError):
            x.long().float().sum().backward()


def test_custom_function_non_differentiable_outputs_and_setup_context_as_torch():
    """An integer output, one marked with ctx.mark_non_differentiable, and PyTorch 2's forward-then-setup_context
    style (ctx.mark_dirty: the test below)."""
    results = {}
    for lib in (tl, torch):
        class TwoOutputs(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                marked = x.argmax().float()
                ctx.mark_non_differentiable(marked)
                return x.argmax(), x * 2, marked

            @staticmethod
            def backward(ctx, g_index, g, g_marked):
                return g * 2

        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(x, power=3):
                return x ** power

            @staticmethod
            def setup_context(ctx, inputs, output):  # (every argument of forward, its defaults included)
                ctx.save_for_backward(inputs[0])
                ctx.power = inputs[1]

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * ctx.power * x ** (ctx.power - 1), None
        x = lib.tensor([1.0, 3.0], requires_grad=True)
        index, doubled, marked = TwoOutputs.apply(x)
        (doubled.sum() + Cube.apply(x).sum()).backward()
        results[lib.__name__] = ([index.requires_grad, doubled.requires_grad, marked.requires_grad],
                                 x.grad.numpy().tolist())
    assert results["tinygrad_lite"] == results["torch"] == ([False, True, False], [5.0, 29.0])



def test_a_custom_function_that_changes_its_input_in_place_with_mark_dirty_as_torch():
    """``ctx.mark_dirty(x)``: the output is x itself, in the graph after the op (ops recorded before keep x as it
    was); a view changed so writes into its base; a leaf that requires grad, or a dirty input not returned, is
    refused. Values, identities and gradients as PyTorch's."""
    assert _mark_dirty_case(tl) == _mark_dirty_case(torch)


def _mark_dirty_case(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            x.mul_(2)
            ctx.mark_dirty(x)
            return y * 1, x

        @staticmethod
        def backward(ctx, g_y, g_x):
            return g_x * 2, g_y

    class Triple(lib.autograd.Function):  # (one output: PyTorch refuses several when the input is a view)
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x.mul_(3)

        @staticmethod
        def backward(ctx, g):
            return g * 3

    class Forgets(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g
    w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    x = w * 1
    earlier = x.exp()  # (saves its output, not x: not disturbed)
    copy, out = Double.apply(x, w)
    tail = Triple.apply(x[1:])  # a view of x changed: x records it
    ((out * out).sum() + earlier.sum() + copy.sum() + (tail * x[1:]).sum()).backward()
    seen = [out is x, tail._base is not None, x.tolist(), w.grad.tolist()]
    for bad in (lambda: Double.apply(lib.ones(2, requires_grad=True), lib.ones(2)),
                lambda: Forgets.apply(lib.ones(2) * lib.ones(2, requires_grad=True))):
        with pytest.raises(RuntimeError):
            bad()
    return seen


def test_mark_dirty_with_a_saved_view_under_no_grad_non_differentiable_and_returned_twice_as_torch():
    """(r44) A view changed and saved by the Function; the Function under no_grad, or its dirty output marked
    non-differentiable (then the output shows x's numbers without a graph, and x keeps its own); x returned twice."""
    assert _mark_dirty_more(tl) == _mark_dirty_more(torch)


def _mark_dirty_more(lib):
    def function(body, backward):
        return type("F", (lib.autograd.Function,), {"forward": staticmethod(body),
                                                    "backward": staticmethod(backward)})

    def exp_saving(ctx, x):
        x.exp_()
        ctx.mark_dirty(x)
        ctx.save_for_backward(x)
        return x

    def doubling(ctx, x, *, twice=False, non_differentiable=False):
        x.mul_(2)
        ctx.mark_dirty(x)
        if non_differentiable:
            ctx.mark_non_differentiable(x)
        return (x, x) if twice else x
    exp_ = function(exp_saving, lambda ctx, g: g * ctx.saved_tensors[0])
    double = function(doubling, lambda ctx, g: g * 2)
    not_differentiable = function(lambda ctx, x: doubling(ctx, x, non_differentiable=True), lambda ctx, g: g * 2)
    twice = function(lambda ctx, x: doubling(ctx, x, twice=True), lambda ctx, g1, g2: (g1 + g2) * 2)
    seen = []
    a = lib.zeros(2, 2, dtype=lib.float64, requires_grad=True)
    b = a * 1
    exp_.apply(b[1])
    b.sum().backward()
    seen.append(a.grad.tolist())
    for run in (lambda x: _under_no_grad(lib, lambda: double.apply(x)), not_differentiable.apply, twice.apply):
        a = lib.ones(2, dtype=lib.float64, requires_grad=True)
        x = a * 1
        out = run(x)
        outs = out if isinstance(out, tuple) else (out,)
        seen.append([[o is x for o in outs], [o.requires_grad for o in outs], x.tolist()])
        (x * 3).sum().backward()
        seen.append(a.grad.tolist())
    return seen


def _under_no_grad(lib, run):
    with lib.no_grad():
        return run()


def test_once_differentiable_and_function_ctx_as_torch():
    """``torch.autograd.function``'s decorator and ctx class: a PyTorch custom Function that uses them runs as written
    (what the decorator changes under create_graph=True is in test_higher_order.py)."""
    from tinygrad_lite.autograd.function import FunctionCtx, once_differentiable
    assert once_differentiable(len).__wrapped__ is len and once_differentiable(len).__name__ == "len"
    results, contexts = {}, []
    for lib, decorator in ((torch, torch.autograd.function.once_differentiable), (tl, once_differentiable)):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                contexts.append(ctx)
                ctx.save_for_backward(x)
                ctx.set_materialize_grads(False)
                return x * x

            @staticmethod
            @decorator
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g
        x = lib.tensor([1.0, -3.0, 0.5], requires_grad=True)
        (Square.apply(x) * 3).sum().backward()
        results[lib.__name__] = x.grad.numpy().tolist()
    assert results["tinygrad_lite"] == results["torch"] == [6.0, -18.0, 3.0]
    assert isinstance(contexts[0], torch.autograd.function.FunctionCtx) and isinstance(contexts[1], FunctionCtx)


def test_anomaly_detection_is_refused_with_how_to_find_a_nan_gradient():
    with tl.autograd.set_detect_anomaly(False):  # off, as it always is here: accepted, as in PyTorch
        pass
    tl.autograd.set_detect_anomaly(False, check_nan=True)
    assert tl.is_anomaly_enabled() is torch.is_anomaly_enabled() is False
    for make in (lambda: tl.autograd.set_detect_anomaly(True), tl.autograd.detect_anomaly):
        with pytest.raises(RuntimeError, match=r"not covered by tinygrad_lite.*register_hook.*torch\.isnan\(p\.grad\)"):
            make()
    with pytest.raises(TypeError, match=r"set_detect_anomaly\(\): argument 'mode' must be bool, not int"):
        tl.autograd.set_detect_anomaly(1)


def _doubling_function(lib, seen):
    """A PyTorch-style Function that records, in ``seen``, the grad mode inside its backward."""
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            seen.append((lib.is_grad_enabled(), (g * x).requires_grad))
            return g * 2
    return Double


def test_a_pytorch_style_backward_runs_without_grad_mode_as_pytorch():
    """Inside ``backward(ctx, g)`` grad mode is off, so what backward computes from saved tensors records no graph."""
    for lib in (tl, torch):
        seen = []
        x = lib.ones(2, requires_grad=True)
        _doubling_function(lib, seen).apply(x).sum().backward()
        assert seen == [(False, False)] and lib.is_grad_enabled() and x.grad.tolist() == [2.0, 2.0]


# ------------------------------------------------------------------------------------------------ backward(inputs=)
def _grads_after(T, run):
    """x, y, z (leaves) and h = 3x (a non-leaf that retains its grad) after ``run(x, y, z, h)``: their .grad."""
    x, y, z = (T.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    h = x * 3
    h.retain_grad()
    run(x, y, z, h)
    return [None if t.grad is None else arr(t.grad).tolist() for t in (x, y, z, h)]


@pytest.mark.parametrize("run", [
    lambda T, x, y, z, h: (h * y).sum().backward(inputs=[x, z]),
    lambda T, x, y, z, h: (h * y).sum().backward(inputs=x),
    lambda T, x, y, z, h: (h * y).sum().backward(inputs=[h]),
    lambda T, x, y, z, h: (h * y).sum().backward(inputs=[x, x, y]),
    lambda T, x, y, z, h: (h * y).backward(T.ones(2), inputs=[y]),
    lambda T, x, y, z, h: ((h * y).sum().backward(inputs=[x], retain_graph=True), (h * y).sum().backward()),
    lambda T, x, y, z, h: T.autograd.backward([(h * y).sum(), (x * z).sum()], inputs=[z]),
], ids=["two leaves, one unused", "one tensor", "a non-leaf", "a leaf twice", "a gradient", "then all",
        "autograd.backward"])
def test_backward_with_inputs_fills_only_their_grad_as_pytorchs(run):
    """(session 40) ``loss.backward(inputs=...)``, as a GAN's two losses use it: only those tensors' .grad changes
    (a non-leaf's too); an input the loss does not use keeps None."""
    assert _grads_after(tl, lambda *a: run(tl, *a)) == _grads_after(torch, lambda *a: run(torch, *a))


@pytest.mark.parametrize("inputs", [[], [0.0]], ids=["empty", "no grad"])
def test_backward_with_inputs_refuses_what_pytorch_refuses(inputs):
    for T in (tl, torch):
        x = T.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError):
            (x * 2).sum().backward(inputs=[T.tensor(v) for v in inputs])


def test_grad_materialize_grads_gives_zeros_for_the_unused_inputs_as_pytorchs():
    results = []
    for T in (tl, torch):
        x, z = T.ones(2, requires_grad=True), T.ones(3, requires_grad=True)
        results.append([arr(g).tolist() for g in T.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)])
    assert results[0] == results[1] == [[2.0, 2.0], [0.0, 0.0, 0.0]]
    with pytest.raises(ValueError):
        tl.autograd.grad((tl.ones(1, requires_grad=True) * 2).sum(), [tl.ones(1, requires_grad=True)],
                         allow_unused=False, materialize_grads=True)
