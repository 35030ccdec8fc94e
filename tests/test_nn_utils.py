"""nn.utils: gradient clipping against PyTorch, and the gradient statistics helper."""
import math

import numpy as np
import pytest
import torch

import tinygrad_lite as tg


def twin_grads(seed=0, scale=1.0, dtype=np.float64):
    rs = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 5, 2)]
    grads = [(rs.standard_normal(s) * scale).astype(dtype) for s in shapes]
    ours, theirs = [], []
    for g in grads:
        p = tg.zeros(g.shape, dtype=tg.float64 if dtype == np.float64 else tg.float32, requires_grad=True)
        p.grad = tg.tensor(g.copy())
        q = torch.zeros(g.shape, dtype=torch.float64 if dtype == np.float64 else torch.float32, requires_grad=True)
        q.grad = torch.tensor(g.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    ours, theirs = twin_grads()
    total_ours = tg.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total_ours.item(), total_theirs.item(), rtol=1e-10)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_clip_grad_norm_float32_single_tensor_and_no_grads():
    ours, theirs = twin_grads(dtype=np.float32, scale=10)
    total = tg.nn.utils.clip_grad_norm_(ours[0], 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs[0], 1.0)
    assert total.dtype == tg.float32
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-6)
    assert tg.nn.utils.clip_grad_norm_([tg.zeros(3, requires_grad=True)], 1.0).item() == 0.0


@pytest.mark.parametrize("norm_type", [2.0, 3.0, 1.0, math.inf, 0.0])
def test_clip_grad_norm_of_float16_gradients_is_pytorchs(norm_type):
    """PyTorch computes each float16 norm in float32 and rounds it once: in float16 the squares of 300 gradients of
    about 30 overflow, the total was inf and clipping zeroed every gradient. Total and clipped gradients are equal,
    bit for bit."""
    arrays = [(np.random.default_rng(k).standard_normal(shape) * 30).astype(np.float16)
              for k, shape in enumerate([(300,), (20, 30)])]
    results = []
    for L in (tg, torch):
        parameters = [L.zeros(a.shape, dtype=L.float16, requires_grad=True) for a in arrays]
        for p, a in zip(parameters, arrays):
            p.grad = L.tensor(a.copy())
        total = L.nn.utils.clip_grad_norm_(parameters, 1.0, norm_type)
        results.append([total.numpy()] + [p.grad.numpy() for p in parameters])
    for ours, theirs in zip(*results):
        assert ours.dtype == theirs.dtype == np.float16 and np.isfinite(ours).all()
        np.testing.assert_array_equal(ours, theirs)


def test_clip_grad_norm_of_float16_beside_float32_gradients_is_pytorchs():
    """(review of session 32) with a float32 gradient beside it, the total is float32, and a float16 gradient is
    multiplied by the float32 factor and rounded once, as in PyTorch (a factor rounded to float16 first was 1 ulp
    off)."""
    rng = np.random.default_rng(0)
    arrays = [(rng.standard_normal(300) * 30).astype(np.float16),
              (rng.standard_normal((20, 30)) * 30).astype(np.float32)]
    results = []
    for L in (tg, torch):
        parameters = [L.zeros(a.shape, dtype=getattr(L, str(a.dtype)), requires_grad=True) for a in arrays]
        for p, a in zip(parameters, arrays):
            p.grad = L.tensor(a.copy())
        total = L.nn.utils.clip_grad_norm_(parameters, 1.0)
        results.append([total.numpy()] + [p.grad.numpy() for p in parameters])
    for ours, theirs in zip(*results):
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_clip_grad_norm_leaves_small_gradients_alone_and_keeps_the_direction():
    ours, _ = twin_grads(scale=1e-3)
    before = [p.grad.numpy().copy() for p in ours]
    tg.nn.utils.clip_grad_norm_(ours, 10.0)
    for p, b in zip(ours, before):
        np.testing.assert_array_equal(p.grad.numpy(), b)
    ours, _ = twin_grads(scale=100)
    before = np.concatenate([p.grad.numpy().ravel() for p in ours])
    tg.nn.utils.clip_grad_norm_(ours, 1.0)
    after = np.concatenate([p.grad.numpy().ravel() for p in ours])
    np.testing.assert_allclose(after / np.linalg.norm(after), before / np.linalg.norm(before), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(after), 1.0, rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    ours, _ = twin_grads()
    ours[1].grad.array[0] = np.inf
    with pytest.raises(RuntimeError, match="nan or inf"):
        tg.nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert math.isinf(tg.nn.utils.clip_grad_norm_(ours, 1.0).item())


@pytest.mark.parametrize("clip", ["clip_grad_norm_", "clip_grad_value_"])
def test_clipping_pytorch_parameters_says_which_library_they_belong_to(clip):
    """A loop that hard-codes tinygrad_lite's clipping for a PyTorch model: a TypeError that names the op and both
    libraries, not an AttributeError from inside."""
    model = torch.nn.Linear(2, 1)
    model(torch.ones(3, 2)).sum().backward()
    with pytest.raises(TypeError, match=rf"{clip}: the parameters must be tinygrad_lite Tensors, one is a "
                                        rf"torch\.nn\.parameter\.Parameter.*torch\.nn\.utils\.{clip}"):
        getattr(tg.nn.utils, clip)(model.parameters(), 1.0)


def test_clip_grad_value_matches_pytorch():
    ours, theirs = twin_grads()
    tg.nn.utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clipping_inside_a_training_step_creates_no_graph():
    model = tg.nn.Linear(3, 2)
    model(tg.randn(5, 3)).pow(2).sum().backward()
    tg.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    assert all(p.grad.grad_fn is None and not p.grad.requires_grad for p in model.parameters())


def test_grad_stats_rows_and_flags():
    model = tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.ReLU(), tg.nn.Linear(8, 1))
    stats = tg.nn.utils.grad_stats(model)
    assert len(stats) == 0 and "backward" in str(stats)
    x = tg.randn(16, 4)
    model(x).sum().backward()
    stats = tg.nn.utils.grad_stats(model)
    assert [r["name"] for r in stats] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    w = model[0].weight.grad.numpy().astype(np.float64)
    row = stats[0]
    assert row["shape"] == (8, 4)
    np.testing.assert_allclose(row["norm"], np.linalg.norm(w), rtol=1e-12)
    np.testing.assert_allclose(row["mean"], w.mean(), rtol=1e-12)
    np.testing.assert_allclose(row["max_abs"], np.abs(w).max(), rtol=1e-12)
    assert row["zero_fraction"] == (w == 0).mean()
    table = str(stats)
    assert "0.weight" in table and "norm" in table.splitlines()[0]
    model[2].bias.grad = tg.tensor([1e5])
    model[0].bias.grad = tg.zeros(8)
    flags = {r["name"]: r["flag"] for r in tg.nn.utils.grad_stats(model.named_parameters())}
    assert flags["2.bias"].startswith("huge") and flags["0.bias"].startswith("tiny")
    model[2].bias.grad = tg.tensor([float("nan")])
    assert tg.nn.utils.grad_stats(model)[-1]["flag"] == "nan/inf!"
    assert len(tg.nn.utils.grad_stats([model[0].weight])) == 1


def clipped_in_two_halves(L):
    """Round r63: clip_grad_norm_ split as PyTorch 2.6 splits it (get_total_norm, then clip_grads_with_norm_),
    Generator.clone_state and nn.utils.skip_init."""
    model = L.nn.Linear(3, 2)
    with L.no_grad():
        model.weight.copy_(L.tensor(np.arange(6.0).reshape(2, 3), dtype=L.float32))
        model.bias.zero_()
    model(L.ones(4, 3)).pow(2).sum().backward()
    total = L.nn.utils.get_total_norm([p.grad for p in model.parameters()], 2.0, foreach=None)
    L.nn.utils.clip_grads_with_norm_(model.parameters(), 1.0, total)
    first = L.Generator().manual_seed(3)
    twin = first.clone_state()
    made = L.nn.utils.skip_init(L.nn.Linear, 3, 2, device="cpu")
    return [total.item(), [p.grad.tolist() for p in model.parameters()],
            L.rand(3, generator=first).tolist() == L.rand(3, generator=twin).tolist(), tuple(made.weight.shape)]


def test_clipping_in_two_halves_clone_state_and_skip_init_as_pytorchs():
    ours, theirs = clipped_in_two_halves(tg), clipped_in_two_halves(torch)
    assert ours[2:] == theirs[2:] == [True, (2, 3)]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    np.testing.assert_allclose(np.concatenate([np.ravel(g) for g in ours[1]]),
                               np.concatenate([np.ravel(g) for g in theirs[1]]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        tg.nn.utils.skip_init(int)
