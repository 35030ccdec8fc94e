"""Round r49's missing names against PyTorch: order statistics (kthvalue, cummax, cummin, aminmax, histc), small
numeric functions (fmax, fmin, float_power, true_divide, dist, vander, logspace, trapezoid, cumulative_trapezoid),
layers (RReLU, Softmax2d, ChannelShuffle, AlphaDropout, FeatureAlphaDropout, F.pdist), the random fillings
(exponential_, geometric_, log_normal_, cauchy_, random_: their distributions, as the numbers are the library's
own) and amp.custom_fwd / custom_bwd."""
import importlib
import math

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

NAN = math.nan


def deterministic(L):
    x = L.tensor([[3.0, 1.0, 2.0], [5.0, 5.0, 4.0]], dtype=L.float64, requires_grad=True)
    a = L.tensor([1.0, NAN, 3.0], dtype=L.float64, requires_grad=True)
    b = L.tensor([NAN, 2.0, 1.0], dtype=L.float64, requires_grad=True)
    y, t = L.tensor([[1.0, 2.0, 3.0], [4.0, 6.0, 9.0]], dtype=L.float64), L.tensor([0.0, 1.0, 3.0], dtype=L.float64)
    points = L.tensor([[0.0, 1.0], [3.0, 4.0], [0.0, 1.0], [1.0, -2.0]], dtype=L.float64, requires_grad=True)
    kv, cm, cn, am = L.kthvalue(x, 2, 1), L.cummax(L.tensor([1.0, 3.0, 2.0, 3.0, 0.0]), 0), x.cummin(1), \
        L.aminmax(x, dim=0)
    outs = [kv.values, kv.indices, cm.values, cm.indices, cn.values, cn.indices, am.min, am.max,
            L.kthvalue(x, 1, 0, keepdim=True).values, L.histc(L.tensor([1.0, 2.0, 1.0, 4.0]), bins=4, min=0, max=3),
            L.histc(L.tensor([1.0, 2.0, 1.0, 4.0]), bins=3), L.fmax(a, b), L.fmin(a, b),
            L.float_power(L.tensor([2]), 2), L.float_power(2, L.tensor([3.0])), L.true_divide(L.tensor([3]), 2),
            L.dist(x[0], x[1], 1), L.vander(L.tensor([1, 2, 3])), L.vander(t, 4, increasing=True),
            L.logspace(0, 2, 3), L.logspace(0, 3, 4, base=2), L.trapezoid(y), L.trapezoid(y, t),
            L.trapezoid(y, dx=0.5, dim=0), L.cumulative_trapezoid(y, t), L.cumulative_trapezoid(y, dim=0),
            L.nn.functional.pdist(points), L.nn.functional.pdist(points, 1), L.nn.RReLU().eval()(x - 4),
            L.nn.Softmax2d()(points.reshape(1, 4, 2, 1)), L.nn.ChannelShuffle(2)(L.arange(24.0).reshape(2, 4, 3)),
            L.nn.functional.alpha_dropout(x, 0.5, training=False), L.nn.AlphaDropout(0.2).eval()(x)]
    total = sum((o.double() ** 2).sum() for o in outs if o.dtype.is_floating_point and o.requires_grad)
    total.backward()
    return outs + [x.grad, a.grad, b.grad, points.grad], [repr(L.nn.RReLU(0.1, 0.3, True)), repr(L.nn.Softmax2d()),
                                                         repr(L.nn.ChannelShuffle(2)), repr(L.nn.AlphaDropout(0.2)),
                                                         repr(L.nn.FeatureAlphaDropout())]


def test_the_deterministic_ones_match_pytorch():
    (ours, our_reprs), (theirs, their_reprs) = deterministic(tl), deterministic(torch)
    assert our_reprs == their_reprs
    for k, (p, q) in enumerate(zip(ours, theirs)):
        assert str(p.dtype).split(".")[1] == str(q.dtype).split(".")[1] and tuple(p.shape) == tuple(q.shape), k
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12, err_msg=str(k))


def test_the_random_ones_draw_the_right_distributions():
    tl.manual_seed(0)
    y = tl.nn.functional.alpha_dropout(tl.randn(200000, dtype=tl.float64), 0.2, training=True)
    assert abs(y.mean().item()) < 0.01 and abs(y.std().item() - 1) < 0.01  # (mean 0 and variance 1 kept)
    y = tl.nn.functional.feature_alpha_dropout(tl.randn(400, 300, 20, dtype=tl.float64), 0.3, training=True)
    assert abs(y.mean().item()) < 0.02 and abs(y.std().item() - 1) < 0.02
    assert ((y == y[:, :, :1]) | (y != y)).float().mean() < 0.5  # (not one value per channel: the data passes)
    slopes = -tl.nn.functional.rrelu(tl.full((10000,), -1.0), training=True)
    assert 0.125 <= slopes.min().item() and slopes.max().item() <= 1 / 3 and abs(slopes.mean().item() - 0.229) < 0.01
    e, g = tl.empty(100000).exponential_(2.0), tl.empty(100000).geometric_(0.25)
    log_normal, cauchy = tl.empty(100000).log_normal_(0.0, 0.5), tl.empty(10001).cauchy_(1.0, 2.0)
    assert abs(e.mean().item() - 0.5) < 0.01 and abs(g.mean().item() - 4) < 0.05 and g.min().item() == 1
    assert abs(log_normal.log().std().item() - 0.5) < 0.01 and abs(cauchy.median().item() - 1) < 0.1
    r, small = tl.empty(10000).random_(3, 7), tl.empty(1000, dtype=tl.uint8).random_()
    assert set(r.unique().tolist()) == {3.0, 4.0, 5.0, 6.0} and small.max().item() > 200
    for lib in (tl, torch):
        with pytest.raises(RuntimeError, match="expects 'from' to be less than 'to'"):
            lib.empty(3).random_(5, 3)
        with pytest.raises(ValueError, match="3D or 4D"):
            lib.nn.Softmax2d()(lib.ones(2, 3))


def custom_function(L):
    class Product(L.autograd.Function):
        @staticmethod
        @L.amp.custom_fwd(device_type="cpu", cast_inputs=L.float32)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a @ b, L.is_autocast_enabled("cpu")

        @staticmethod
        @L.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g, _):
            a, b = ctx.saved_tensors
            return g @ b.T, a.T @ g

    class Twice(L.autograd.Function):
        @staticmethod
        @L.amp.custom_fwd(device_type="cpu")
        def forward(ctx, a):
            return a * 2, L.is_autocast_enabled("cpu")

        @staticmethod
        @L.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g, _):
            return g * (3 if L.is_autocast_enabled("cpu") else 2)  # (tells which state backward ran in)

    a, b = L.ones(2, 2, dtype=L.float16, requires_grad=True), L.ones(2, 2, requires_grad=True)
    with L.autocast("cpu", dtype=L.float16):
        out, inside = Product.apply(a, b)
        doubled, inside_too = Twice.apply(b)
    (out.sum() + doubled.sum()).backward()
    return str(out.dtype).split(".")[1], inside, inside_too, str(a.grad.dtype).split(".")[1], b.grad.tolist()


def test_custom_fwd_and_bwd_as_pytorchs():
    assert custom_function(tl) == custom_function(torch)


def r50(L):
    """Round r50's findings, each a case where the first version differed from PyTorch."""
    nan, flag = float("nan"), L.tensor([True, False])
    x, y = L.tensor([1.0, 2.0], requires_grad=True), L.tensor([1.0, 3.0], requires_grad=True)
    (L.fmax(x, y).sum() + L.fmin(x, y).sum()).backward()  # (a tie's gradient goes to the first)
    a = L.ones(2, 2)
    L.matrix_power(a, 1).add_(1)  # (a copy: a stays ones)
    out = [L.cummax(L.tensor([1.0, nan, 2.0, nan, 5.0]), 0).values, L.cummax(L.tensor([1.0, nan, 2.0, nan]), 0).indices,
           L.cummin(L.tensor([[nan, 1.0, 0.0]]), 1).indices, flag << 3, 2 << flag, -100 >> flag,
           L.tensor([1], dtype=L.int8) << 300, *L.tensor_split(L.arange(7), [-2, 5]),
           L.logspace(0.7, 2.9, 4, dtype=L.int64), L.logspace(-1, 1, 3, base=2, dtype=L.int32),
           L.histc(L.arange(11, dtype=L.float64) / 10, bins=10, min=0, max=1),
           L.addr(L.full((2, 2), nan), L.ones(2), L.ones(2), beta=0), a, x.grad, y.grad,
           L.digamma(L.tensor([-0.0, 0.0])), L.polygamma(L.tensor(1), L.tensor([2.0])),
           L.polygamma(8, L.tensor([-20.5], dtype=L.float64)), L.polygamma(10, L.tensor([-1.5], dtype=L.float64)),
           L.combinations(L.tensor([1, 2, 3]), 0), L.empty(3, dtype=L.int64).geometric_(0.5).clamp(max=1),
           L.logcumsumexp(L.tensor([[0.0, 1.0, 2.0], [-1000.0, 0.0, 1000.0]]), 1), L.row_stack([L.ones(2)]),
           L.trapz(L.tensor([1.0, 2.0, 3.0])), L.pdist(L.eye(3)), L.channel_shuffle(L.arange(8.0).reshape(1, 4, 2), 2)]
    permuted = L.randn(2, 4, 5, 3).permute(0, 3, 1, 2)
    return out, [permuted.is_contiguous(), permuted.is_contiguous(memory_format=L.channels_last),
                 L.randn(2, 4, 5, 6, 3).permute(0, 4, 1, 2, 3).is_contiguous(memory_format=L.channels_last_3d)]


def test_round_r50_findings_match_pytorch():
    (ours, our_flags), (theirs, their_flags) = r50(tl), r50(torch)
    assert our_flags == their_flags
    for k, (p, q) in enumerate(zip(ours, theirs)):
        assert str(p.dtype).split(".")[1] == str(q.dtype).split(".")[1] and tuple(p.shape) == tuple(q.shape), k
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, equal_nan=True, err_msg=str(k))


def memory_and_legacy(L):
    """Rounds r57 and r58: nanoGPT's weight-tying check (data_ptr), strides and offsets of views, get_device, the
    legacy x.new and x.ndimension, broadcast_tensors, and makemore's histogram(density=True)."""
    x = L.arange(12.0).view(3, 4)
    view, lin = x[1:, 2:], L.nn.Linear(2, 3)
    head = L.nn.Linear(3, 2, bias=False)
    head.weight = L.nn.Parameter(lin.weight.t())  # (tied through a transpose: the same memory)
    seen = [x.stride(), x.t().stride(), view.stride(), L.ones(3, 1).expand(3, 4).stride(), view.storage_offset(),
            x.storage_offset(), x.stride(1), x.stride(-2), x.data_ptr() == x.view(12).data_ptr(),
            view.data_ptr() - x.data_ptr(), head.weight.data_ptr() == lin.weight.data_ptr(),
            x.data_ptr() == x.clone().data_ptr(), x.get_device(), tuple(x.new().shape), tuple(x.new(2, 3).shape),
            x.new([1, 2]).tolist(), x.new([1, 2]).dtype == x.dtype, tuple(x.new(L.Size([2])).shape), x.ndimension(),
            [tuple(t.shape) for t in L.broadcast_tensors(L.ones(2, 1), L.ones(3))]]
    values = L.tensor([1.0, 2, 2, 3, 0.5, 2.9])
    for h in (L.histogram(values, bins=3, density=True), L.histogram(values, L.tensor([0.0, 1.5, 4]),
                                                                     weight=L.arange(6.0)),
              L.histogram(values, 4, range=(0.0, 4.0)), L.histogram(L.ones(3), 2)):
        seen += [h.hist.tolist(), h.bin_edges.tolist()]
    return seen


def test_memory_layout_and_legacy_names_match_pytorch():
    assert memory_and_legacy(tl) == memory_and_legacy(torch)


def test_resize_and_pin_memory_as_old_scripts_use_them():
    """Round r58: pytorch-a3c's SharedAdam makes its state with p.data.new().resize_as_(p.data).zero_(); data
    loading code calls pin_memory() on CPU batches (a no-op here, where nothing is page-locked)."""
    p = tl.nn.Parameter(tl.ones(2, 3))
    state = p.data.new().resize_as_(p.data).zero_()
    assert tuple(state.shape) == (2, 3) and state.dtype == p.dtype and not bool(state.any())
    x = tl.arange(6.0)
    assert x.resize_(2, 2) is x and x.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert x.resize_(5).tolist()[:4] == [0.0, 1.0, 2.0, 3.0] and tuple(x.shape) == (5,)
    for L in (tl, torch):
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            L.ones(2, requires_grad=True).resize_(3)
    batch = tl.ones(2)
    assert batch.pin_memory() is batch and not batch.is_pinned()


def test_broadcast_shapes_and_the_errors_round_r60_found():
    for L in (tl, torch):
        assert tuple(L.broadcast_shapes((2, 1), (3,), 1)) == (2, 3)
        assert isinstance(L.broadcast_shapes((2, 1)), L.Size)
        with pytest.raises(RuntimeError):
            L.broadcast_tensors(L.ones(3), L.ones(4))
        with pytest.raises(RuntimeError):
            L.broadcast_shapes((2,), (3,))
        with pytest.raises(RuntimeError):
            L.histogram(L.ones(3), 3, range=(3.0, 0.0))
        with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got NoneType"):
            L._foreach_norm([L.ones(2), None])
    assert tl.distributions.utils.logits_to_probs(tl.tensor([0.0]), is_binary=True).item() == 0.5


def test_missing_submodules_say_why_and_the_imported_ones_import():
    """Round r61: word_language_model imports torch.onnx on its eighth line and mnist_hogwild torch.multiprocessing;
    a submodule the library lacks said only 'No module named'."""
    with pytest.raises(ModuleNotFoundError, match="torch.fft needs complex tensors"):
        importlib.import_module("tinygrad_lite.fft")
    with pytest.raises(ModuleNotFoundError, match="forward-mode AD is not covered; torch.func.jvp"):
        importlib.import_module("tinygrad_lite.autograd.forward_ad")
    with pytest.raises(ModuleNotFoundError, match=r"^No module named 'tinygrad_lite.no_such_thing'$"):
        importlib.import_module("tinygrad_lite.no_such_thing")
    onnx, mp = importlib.import_module("tinygrad_lite.onnx"), importlib.import_module("tinygrad_lite.multiprocessing")
    assert not onnx.is_in_onnx_export() and mp.cpu_count() >= 1 and mp.Process is importlib.import_module(
        "multiprocessing").Process
    with pytest.raises(NotImplementedError, match="onnx.export is not covered"):
        onnx.export(tl.nn.Linear(2, 2), (tl.ones(1, 2),), "model.onnx")
    for attempt in (lambda: tl.nn.Linear(2, 2).share_memory(), lambda: tl.ones(2).share_memory_()):
        with pytest.raises(NotImplementedError, match="Hogwild"):
            attempt()
    assert not tl.ones(2).is_shared()
