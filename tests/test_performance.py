"""What the speed work of issue 13 promises, beyond speed (which benchmarks/bench.py measures):

1. Gradients accumulate in place, as in PyTorch: ``.grad`` keeps its array over several backward calls, and its
   version counter moves (a read-only ``.grad`` you assigned gets a new array instead).
2. No graph under ``no_grad``: an op records nothing, and its forward is told that no input needs a gradient,
   so it saves nothing.
3. The graph's saved values are freed by ``backward`` (unless ``retain_graph=True``), and the whole graph as soon
   as its output is dropped (no reference cycles: it does not wait for the garbage collector).
4. The blocked updates of Adam and SGD (``optimizer.blocks``: a large parameter a block at a time) give
   PyTorch's numbers.
5. ``cross_entropy``'s usual case is two ops, as PyTorch's graph shows it: NllLoss after LogSoftmax.
6. ``softmax`` and ``log_softmax`` work with the classes first when they are few (``ops/activation.classes_first``):
   PyTorch's numbers for every layout, a contiguous result, and an in-place change of the result still caught.
7. No needless dtype promotion: a float32 training step computes every forward value, every gradient and every
   optimizer state in float32.
"""
import gc
import weakref
import zlib

import numpy as np
import pytest
import torch
from registry import OPTIMIZERS

import tinygrad_lite as tl
from tinygrad_lite.autograd.engine import graph_order
from tinygrad_lite.autograd.function import Function
from tinygrad_lite.optim.optimizer import BLOCK


@pytest.fixture
def rng(request):
    """A generator seeded by the test's own id: the same numbers whatever ran before it on this worker."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


def test_gradients_accumulate_in_place_as_in_pytorch():
    for T in (torch, tl):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * 2).sum().backward()
        grad = x.grad
        version = grad._version
        (x * 3).sum().backward()
        assert x.grad is grad and grad.tolist() == [5.0, 5.0, 5.0]
        assert grad._version > version
    array = x.grad.array
    (x * 1).sum().backward()
    assert x.grad.array is array and x.grad.tolist() == [6.0, 6.0, 6.0]


def test_a_read_only_grad_is_replaced_not_written():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    frozen = np.zeros(2, dtype=np.float32)
    frozen.flags.writeable = False
    x.grad = tl.from_numpy(frozen)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and frozen.tolist() == [0.0, 0.0]


def test_accumulating_into_a_grad_that_a_graph_saved_makes_that_backward_raise():
    for T in (torch, tl):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        (w * 2).sum().backward()
        v = T.tensor([3.0, 4.0], requires_grad=True)
        uses_grad = (v * w.grad).sum()  # saves w.grad, for v's gradient
        (w * 2).sum().backward()        # adds into w.grad in place
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            uses_grad.backward()


class _Spy(Function):
    """An op (arrays in, arrays out) that records what apply told its forward."""
    seen = []

    def forward(self, x, y):
        _Spy.seen.append(self.needs_input_grad)
        self.save_for_backward(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved_tensors
        return g * y, g * x


def test_no_graph_and_no_saved_values_under_no_grad():
    x, w = tl.ones(3), tl.ones(3, requires_grad=True)
    _Spy.seen.clear()
    with tl.no_grad():
        out = _Spy.apply(x, w)
    out2 = _Spy.apply(x, w)
    assert out.grad_fn is None and not out.requires_grad
    assert _Spy.seen == [(False, False), (False, True)]
    assert out2.grad_fn is not None and out2.requires_grad


def test_backward_frees_the_saved_values_and_dropping_the_output_frees_the_graph():
    model = tl.nn.Sequential(tl.nn.Linear(4, 8), tl.nn.ReLU(), tl.nn.Linear(8, 3))
    x, y = tl.randn(5, 4), tl.tensor([0, 1, 2, 0, 1])
    loss = tl.nn.functional.cross_entropy(model(x), y)
    nodes = [t.grad_fn for t in graph_order(loss) if t.grad_fn is not None]
    assert len(nodes) == 5 and any(node._saved for node in nodes)
    loss.backward(retain_graph=True)
    assert all(node._saved is not None for node in nodes)
    loss.backward()
    assert all(node._saved is None or node._saved == () for node in nodes)
    refs = [weakref.ref(node) for node in nodes]
    del nodes
    gc.disable()  # (freed by reference counting alone: no cycles to wait for)
    try:
        del loss
        assert all(ref() is None for ref in refs)
    finally:
        gc.enable()


@pytest.mark.parametrize("name, options", [
    ("Adam", {}), ("Adam", {"amsgrad": True}), ("Adam", {"weight_decay": 0.1, "maximize": True}),
    ("Adam", {"weight_decay": 0.1, "decoupled_weight_decay": True}), ("SGD", {}),
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1})])
def test_blocked_updates_give_pytorchs_numbers(name, options, rng):
    """A parameter of several blocks, two that are not contiguous (updated whole; one larger than a block) and a small
    one."""
    shapes = [(3 * BLOCK + 123,), (40, 50), (7,), (400, 300)]
    values = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
    finals = {}
    for T in (torch, tl):
        params = [T.tensor(v.copy(), requires_grad=True) for v in values]
        for i in (1, 3):  # transposed views: not contiguous
            params[i] = T.tensor(values[i].T.copy()).T.detach().requires_grad_()
        optimizer = getattr(T.optim, name)(params, lr=0.01, **options)
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = T.tensor(g)
            optimizer.step()
        finals[T.__name__] = [p.detach().numpy().copy() for p in params]
        if T is tl:
            assert [p.array.flags.c_contiguous for p in params] == [True, False, True, False]
    for ours, theirs in zip(finals["tinygrad_lite"], finals["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_cross_entropys_graph_is_nll_after_log_softmax_as_in_pytorch(rng):
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    target = np.array([0, 3, 1, 1, 2, 0])
    grads = {}
    for T in (torch, tl):
        z = T.tensor(logits, requires_grad=True)
        loss = T.nn.functional.cross_entropy(z, T.tensor(target))
        names = [loss.grad_fn.name(), loss.grad_fn.next_functions[0][0].name()]
        assert [n.rstrip("0") for n in names] == ["NllLossBackward", "LogSoftmaxBackward"]
        loss.backward()
        grads[T.__name__] = (loss.item(), z.grad.numpy())
    assert grads["tinygrad_lite"][0] == pytest.approx(grads["torch"][0], rel=1e-6)
    np.testing.assert_allclose(grads["tinygrad_lite"][1], grads["torch"][1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape, dim", [
    ((1024, 10), 1), ((50000, 2), 1), ((128, 10), -1), ((64, 10, 32), 1), ((8, 8, 10), 2), ((128, 1000), 1),
    ((4, 10), 1), ((10,), 0), ((), 0), ((6, 40, 3), 1), ((3, 20), 0)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_in_every_layout_gives_pytorchs_numbers(name, shape, dim, rng):
    x = rng.standard_normal(shape) * 3
    g = rng.standard_normal(shape)
    results = {}
    for T in (torch, tl):
        z = T.tensor(x.astype(np.float32), requires_grad=True)
        out = getattr(z, name)(dim)
        out.backward(T.tensor(g.astype(np.float32)))
        results[T.__name__] = (out.detach().numpy().copy(), z.grad.numpy().copy())
    (ours, our_grad), (theirs, their_grad) = results["tinygrad_lite"], results["torch"]
    assert ours.shape == theirs.shape and ours.flags.c_contiguous
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    # The backward sums g (times the softmax) over `dim`: PyTorch and numpy add those float32 terms in other orders,
    # so the two gradients differ by rounding that grows with the number of terms (1.9e-6 seen for 1000 classes).
    n = shape[dim] if shape else 1
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-4, atol=1e-6 * max(1.0, n / 100))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_changing_a_softmax_result_in_place_is_caught_as_in_pytorch(name, rng):
    for T in (torch, tl):
        z = T.tensor(rng.standard_normal((64, 10)).astype(np.float32), requires_grad=True)
        out = getattr(z, name)(1)
        out.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_nll_loss_of_float16_is_summed_in_float32():
    """As np.mean and PyTorch do: the sum of 4096 terms of 30 (122880) is past float16's largest number (65504)."""
    logp = np.full((4096, 3), -30.0, dtype=np.float16)
    target = np.zeros(4096, dtype=np.int64)
    loss = tl.nn.functional.nll_loss(tl.tensor(logp), tl.tensor(target))
    assert loss.dtype == tl.float16 and loss.item() == 30.0


@pytest.mark.parametrize("loss_name", ["CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss", "L1Loss", "HuberLoss"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_float32_step_stays_float32_from_end_to_end(loss_name, optimizer, monkeypatch, rng):
    seen = []  # (what, op, dtype) of every array an op makes, forward and backward
    wrap_output, input_grads = Function.wrap_output, Function.input_grads

    def recording_wrap_output(self, array):
        seen.append(("forward", type(self).__name__, array.dtype))
        return wrap_output(self, array)

    def recording_input_grads(self, grad):
        grads = input_grads(self, grad)
        seen.extend(("backward", type(self).__name__, g.dtype) for g in grads if g is not None)
        return grads

    monkeypatch.setattr(Function, "wrap_output", recording_wrap_output)
    monkeypatch.setattr(Function, "input_grads", recording_input_grads)
    tl.manual_seed(0)
    nn = tl.nn
    model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.GELU(), nn.Dropout(0.2), nn.Linear(16, 8),
                          nn.Tanh(), nn.Linear(8, 4), nn.LeakyReLU(0.1))
    x = tl.tensor(rng.standard_normal((32, 6)).astype(np.float32))
    if loss_name == "CrossEntropyLoss":
        target = tl.tensor(rng.integers(0, 4, 32))
    else:
        target = tl.tensor(rng.uniform(0, 1, (32, 4)).astype(np.float32))
    options = {"momentum": 0.9, "weight_decay": 1e-3} if optimizer in ("SGD", "RMSprop") else {} \
        if optimizer == "Rprop" else {"weight_decay": 1e-3}  # (Rprop has no weight decay, as PyTorch's)
    opt = getattr(tl.optim, optimizer)(model.parameters(), lr=0.01, **options)
    for _ in range(2):
        opt.zero_grad()
        loss = getattr(nn, loss_name)()(model(x), target)
        loss.backward()
        tl.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    assert seen and not [s for s in seen if s[2] != np.float32], [s for s in seen if s[2] != np.float32]
    assert loss.dtype == tl.float32
    for p in model.parameters():
        assert p.dtype == tl.float32 and p.grad.dtype == tl.float32
        for key, value in opt.state[p].items():
            if key != "step":  # (the step count is a float32 or float64 scalar on the CPU, as in PyTorch)
                assert value.dtype == tl.float32, (optimizer, key, value.dtype)
    assert [b.dtype for b in model.buffers() if b.dtype.is_floating_point] == [tl.float32, tl.float32]
