"""Mixed precision (tinygrad_lite.amp) against PyTorch's torch.amp: autocast's dtype per op, GradScaler step by step."""
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from registry import OPS

import tinygrad_lite as tl
import tinygrad_lite.nn as nn
import tinygrad_lite.nn.functional as F
from tinygrad_lite.amp import autocast_mode

# ------------------------------------------------------------------------------------------------ autocast
# every op of the table in registry.py, written once for both libraries: (lib, functional, x, y, labels) -> result
DTYPES = {"float16": (tl.float16, torch.float16), "float32": (tl.float32, torch.float32),
          "float64": (tl.float64, torch.float64)}


def run_both(name, input_dtype, autocast_dtype=torch.float16):
    """The op's result dtype in tinygrad_lite and in PyTorch, each inside its CPU autocast."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 4, 4))
    lab = np.array([0, 1, 2, 3])
    ours, theirs = DTYPES[input_dtype]
    with tl.amp.autocast("cpu", dtype=tl.float16):
        got = OPS[name](tl, F, tl.tensor(x, dtype=ours), tl.tensor(y, dtype=ours), tl.tensor(lab))
    with torch.autocast("cpu", dtype=autocast_dtype):
        expected = OPS[name](torch, torch.nn.functional, torch.tensor(x, dtype=theirs), torch.tensor(y, dtype=theirs),
                             torch.tensor(lab))
    return str(got.dtype).split(".")[-1], str(expected.dtype).split(".")[-1]


@pytest.mark.parametrize("input_dtype", ["float32", "float16", "float64"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_autocast_gives_each_op_pytorchs_dtype(name, input_dtype):
    got, expected = run_both(name, input_dtype)
    assert got == expected, f"{name} on {input_dtype} inside autocast: ours {got}, PyTorch's {expected}"


def _torch_autocast_lists():
    """PyTorch's CUDA autocast lists, read from the ATen header that ships with torch."""
    header = (Path(torch.__file__).parent / "include" / "ATen" / "autocast_mode.h").read_text()

    def names(macro):
        body = header.split(f"#define {macro}(_)", 1)[1].split("\n\n", 1)[0]
        return set(re.findall(r"_\((\w+)", body))
    return names("AT_FORALL_LOWER_PRECISION_FP"), names("AT_FORALL_FP32") | names("AT_FORALL_FP32_SET_OPT_DTYPE")


@pytest.mark.skipif(not (Path(torch.__file__).parent / "include/ATen/autocast_mode.h").exists(),
                    reason="this torch build ships without its C++ headers")
def test_the_cuda_lists_are_pytorchs():
    lower, fp32 = _torch_autocast_lists()
    assert autocast_mode.LOWER_PRECISION_OPS <= lower
    # ours by PyTorch's names: norm is linalg_vector_norm; cross_entropy is log_softmax + nll_loss there
    renamed = {"norm": "linalg_vector_norm", "cross_entropy": "nll_loss"}
    assert {renamed.get(op, op) for op in autocast_mode.FLOAT32_OPS["cuda"]} <= fp32
    for op in ("exp", "log", "log1p", "pow", "softmax", "log_softmax", "sum", "prod", "cumsum", "cumprod",
               "logsumexp", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss",
               "binary_cross_entropy_with_logits",
               "layer_norm"):  # each op we have on PyTorch's float32 list is on ours
        assert op in fp32 and op in autocast_mode.FLOAT32_OPS["cuda"]


def test_gradients_come_back_in_each_parameters_dtype_and_match_pytorch():
    x = np.random.default_rng(1).standard_normal((8, 5)).astype(np.float32)
    labels = np.arange(8) % 3
    ours, theirs = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3)), torch.nn.Sequential(
        torch.nn.Linear(5, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    with tl.amp.autocast("cpu", dtype=tl.float16):
        out = ours(tl.tensor(x))
        loss = F.cross_entropy(out, tl.tensor(labels))
    with torch.autocast("cpu", dtype=torch.float16):
        t_out = theirs(torch.tensor(x))
        t_loss = torch.nn.functional.cross_entropy(t_out, torch.tensor(labels))
    assert out.dtype is tl.float16 and loss.dtype is tl.float32 and t_out.dtype == torch.float16
    loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=2e-3)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert p.grad.dtype is tl.float32 and q.grad.dtype == torch.float32
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=2e-2, atol=2e-3)


def test_autocast_as_a_decorator_nested_and_disabled():
    w = tl.randn(3, 3)

    @tl.amp.autocast("cpu", dtype=tl.float16)
    def forward(x):
        assert tl.is_autocast_enabled("cpu") and not tl.is_autocast_enabled("cuda")
        with tl.autocast("cpu", enabled=False):  # a region that must stay in float32
            assert (x @ w).dtype is tl.float32 and not tl.is_autocast_enabled("cpu")
        return x @ w

    assert forward(tl.randn(2, 3)).dtype is tl.float16
    assert not tl.is_autocast_enabled("cpu") and (w @ w).dtype is tl.float32  # restored afterwards


def test_a_weight_is_cast_once_per_region_and_again_after_it_changes():
    layer = nn.Linear(3, 3)
    with tl.amp.autocast("cpu", dtype=tl.float16):
        a, b = layer(tl.randn(2, 3)), layer(tl.randn(2, 3))
        assert a.grad_fn.inputs[1] is b.grad_fn.inputs[1]  # the same float16 copy of the weight
        with tl.no_grad():
            layer.weight.add_(1.0)
        assert layer(tl.randn(2, 3)).grad_fn.inputs[1] is not a.grad_fn.inputs[1]
    with tl.amp.autocast("cpu", dtype=tl.float16, cache_enabled=False):
        assert layer(tl.randn(2, 3)).grad_fn.inputs[1] is not layer(tl.randn(2, 3)).grad_fn.inputs[1]


@pytest.mark.parametrize("change", ["add_", "optimizer step", "load_state_dict", ".data", "a view of it"])
def test_a_weight_changed_in_place_inside_a_region_is_used_with_its_new_values(change):
    """Issue 34, item 14a: the second matmul must use the new numbers, whichever way they were written. This is a
    deliberate difference (README): PyTorch 2.13 keeps using the float16 copy made at the first use until the
    region ends, so its second result is stale. Our cache entry holds the weight's version and is remade."""
    def run(lib):
        layer = lib.nn.Linear(2, 2, bias=False)
        with lib.no_grad():
            layer.weight.fill_(1.0)
        x = lib.ones(1, 2)
        with lib.autocast("cpu", dtype=lib.float16):
            first = layer(x)
            if change == "optimizer step":
                layer.weight.grad = lib.full((2, 2), -1.0)
                lib.optim.SGD(layer.parameters(), lr=1.0).step()
            elif change == "load_state_dict":
                layer.load_state_dict({"weight": lib.full((2, 2), 2.0)})
            elif change == ".data":
                layer.weight.data[0] = 2.0
                layer.weight.data[1] = 2.0
            else:
                with lib.no_grad():
                    target = layer.weight if change == "add_" else layer.weight.view(-1)
                    target.add_(1.0)
            return first.tolist(), layer(x).tolist()

    assert run(tl) == ([[2.0, 2.0]], [[4.0, 4.0]])  # the weight went from ones to twos
    assert run(torch) == ([[2.0, 2.0]], [[2.0, 2.0]]), "PyTorch's autocast cache changed: update the README"


def test_autocast_arguments_are_checked_as_pytorch_does():
    with pytest.raises(RuntimeError, match=r"bfloat16.*dtype=tl\.float16"):
        tl.amp.autocast("cpu")  # PyTorch's default on the CPU is bfloat16, which numpy lacks: say so
    with pytest.raises(RuntimeError, match=r"must be this library's, tinygrad_lite\.float16"):
        tl.amp.autocast("cpu", dtype=torch.float16)  # PyTorch's dtype: the message names ours
    tl.amp.autocast("cpu", enabled=False)  # (no dtype needed to switch it off)
    with pytest.raises(ValueError, match="device_type"):
        tl.amp.autocast(tl.device("cpu"))
    with pytest.raises(RuntimeError, match="unsupported device_type 'mps'"):
        tl.amp.autocast("mps")
    with pytest.warns(UserWarning, match="not supported. Disabling autocast"):
        region = tl.amp.autocast("cpu", dtype=tl.float64)
    with region:
        assert (tl.randn(2, 2) @ tl.randn(2, 2)).dtype is tl.float32
    with pytest.warns(UserWarning, match="CUDA is not available. Disabling autocast"):  # (no GPU here)
        assert tl.amp.autocast("cuda").fast_dtype is tl.float16 and tl.amp.is_autocast_available("cuda")
    with pytest.raises(RuntimeError, match=r"autocast\('cpu', dtype=bfloat16\): the dtype is bfloat16, which numpy "
                                           r".*dtype=tl\.float16"):
        tl.amp.autocast("cpu", dtype=tl.bfloat16)


def test_round_to_bfloat16_rounds_as_pytorch_does():
    x = np.concatenate([np.random.default_rng(2).standard_normal(1000) * 10.0 ** np.arange(-20, 20, 0.04),
                        [0.0, -0.0, 1.0, 3.0e38, 1e-39, np.inf, -np.inf, np.nan]]).astype(np.float32)
    # nans whose set bits are all among the 16 cut off: rounded as numbers they would become inf
    x = np.concatenate([x, np.array([0x7F800001, 0xFF800001, 0x7F807FFF], dtype=np.uint32).view(np.float32)])
    expected = torch.tensor(x).to(torch.bfloat16).float().numpy()
    np.testing.assert_array_equal(tl.amp.round_to_bfloat16(tl.tensor(x)).numpy(), expected)
    assert tl.amp.round_to_bfloat16(tl.tensor(1.001)).item() == torch.tensor(1.001).bfloat16().item()  # a 0-d one


# ------------------------------------------------------------------------------------------------ GradScaler
def scaler_pair(**kwargs):
    return tl.amp.GradScaler("cpu", **kwargs), torch.amp.GradScaler("cpu", **kwargs)


def test_the_scale_trace_with_overflows_equals_pytorchs_step_by_step():
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    ours, theirs = tl.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    opt, t_opt = tl.optim.SGD([ours], lr=0.01, momentum=0.9), torch.optim.SGD([theirs], lr=0.01, momentum=0.9)
    scaler, t_scaler = scaler_pair(init_scale=2.0 ** 10, growth_interval=3)
    overflow_steps = {2, 3, 9, 10, 11, 17}
    trace, t_trace, steps = [], [], []
    for step in range(24):
        grad = rng.standard_normal((4, 3)).astype(np.float32)
        if step in overflow_steps:
            grad[step % 4, 1] = np.inf if step % 2 else np.nan
        loss = scaler.scale((ours * tl.tensor(grad)).sum())  # d loss / d w = S * grad
        t_loss = t_scaler.scale((theirs * torch.tensor(grad)).sum())
        loss.backward()
        t_loss.backward()
        if step % 5 == 0:  # sometimes unscale first, to clip
            scaler.unscale_(opt)
            t_scaler.unscale_(t_opt)
            nn.utils.clip_grad_norm_([ours], 1.0)
            torch.nn.utils.clip_grad_norm_([theirs], 1.0)
        steps.append((scaler.step(opt), t_scaler.step(t_opt)))
        scaler.update()
        t_scaler.update()
        opt.zero_grad()
        t_opt.zero_grad()
        trace.append(scaler.get_scale())
        t_trace.append(t_scaler.get_scale())
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert trace == t_trace
    assert len(set(trace)) > 3  # it went up and down
    assert all(a is None and b is None for a, b in steps)  # skipped steps and SGD's step both return None
    assert scaler.state_dict() == t_scaler.state_dict()


def test_step_returns_the_optimizers_return_value_and_skips_on_overflow():
    w = tl.ones(2, requires_grad=True)
    opt = tl.optim.SGD([w], lr=1.0)
    scaler = tl.amp.GradScaler("cpu", init_scale=4.0)
    scaler.scale(w.sum()).backward()
    assert w.grad.tolist() == [4.0, 4.0]
    scaler.unscale_(opt)
    assert w.grad.tolist() == [1.0, 1.0]  # the true gradient: clip it now
    assert scaler.step(opt) is None and w.tolist() == [0.0, 0.0]
    scaler.update()
    opt.zero_grad()
    scaler.scale(w.sum() * float("inf")).backward()
    assert scaler.step(opt) is None and w.tolist() == [0.0, 0.0]  # skipped: w unchanged
    scaler.update()
    assert scaler.get_scale() == 2.0


def test_misuse_raises_pytorchs_errors():
    w = tl.ones(2, requires_grad=True)
    opt = tl.optim.SGD([w], lr=1.0)
    scaler = tl.amp.GradScaler("cpu")
    with pytest.raises(RuntimeError, match="scaler.scale"):
        scaler.step(opt)
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        scaler.unscale_(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match="No inf checks were recorded"):
        scaler.update()
    with pytest.raises(RuntimeError, match="Closure"):
        scaler.step(opt, closure=lambda: 0)
    half = tl.ones(2, dtype=tl.float16, requires_grad=True)
    half_opt = tl.optim.SGD([half], lr=1.0)
    scaler.scale(half.sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.unscale_(half_opt)
    with pytest.raises(ValueError, match="growth factor"):
        tl.amp.GradScaler("cpu", growth_factor=0.9)


def test_state_dict_round_trip_and_update_with_a_new_scale():
    scaler, t_scaler = scaler_pair(init_scale=512.0, growth_interval=7)
    assert scaler.state_dict() == t_scaler.state_dict()
    w = tl.ones(1, requires_grad=True)
    opt = tl.optim.SGD([w], lr=0.1)
    scaler.scale(w.sum()).backward()
    scaler.step(opt)
    scaler.update(new_scale=64.0)
    assert scaler.get_scale() == 64.0
    other = tl.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict() and other.get_scale() == 64.0
    t_other = torch.amp.GradScaler("cpu")
    t_other.load_state_dict(scaler.state_dict())  # the same keys: a PyTorch scaler takes ours
    assert t_other.get_scale() == 64.0 and t_other.get_growth_interval() == 7
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})
    loaded = {**scaler.state_dict(), "_growth_tracker": 5}  # a resumed run saved again before its first step
    for fresh in (tl.amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")):
        fresh.load_state_dict(loaded)
        assert fresh.state_dict()["_growth_tracker"] == 5


def test_a_disabled_scaler_passes_everything_through(monkeypatch):
    monkeypatch.setattr(sys.modules["tinygrad_lite.device"], "_cupy", None)
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        scaler = tl.amp.GradScaler()  # "cuda" on a machine without one, as PyTorch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        off = tl.amp.GradScaler("cpu", enabled=False)
    for s in (scaler, off):
        w = tl.ones(2, requires_grad=True)
        opt = tl.optim.SGD([w], lr=1.0)
        loss = w.sum()
        assert s.scale(loss) is loss and not s.is_enabled() and s.get_scale() == 1.0 and s.state_dict() == {}
        loss.backward()
        s.unscale_(opt)
        s.step(opt)
        s.update()
        assert w.tolist() == [0.0, 0.0]


def test_a_mixed_precision_training_loop_matches_pytorch():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 3, 32)
    ours = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    opt, t_opt = tl.optim.Adam(ours.parameters(), lr=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)
    scaler, t_scaler = scaler_pair(init_scale=2.0 ** 24, growth_interval=100)  # 2^24: the first steps overflow
    losses, t_losses = [], []
    for _ in range(12):
        with tl.amp.autocast("cpu", dtype=tl.float16):
            loss = F.cross_entropy(ours(tl.tensor(x)), tl.tensor(y))
        with torch.autocast("cpu", dtype=torch.float16):
            t_loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        scaler.scale(loss).backward()
        t_scaler.scale(t_loss).backward()
        scaler.step(opt)
        t_scaler.step(t_opt)
        scaler.update()
        t_scaler.update()
        opt.zero_grad()
        t_opt.zero_grad()
        losses.append(loss.item())
        t_losses.append(t_loss.item())
    np.testing.assert_allclose(losses, t_losses, rtol=5e-3)
    assert scaler.get_scale() == t_scaler.get_scale() < 2.0 ** 24  # it backed off, the same number of times


def test_grad_scaler_step_without_backward_raises_as_pytorch():
    """scaler.scale(loss) and then scaler.step(opt) with no backward between: no gradient was checked for inf, so
    PyTorch raises AssertionError "No inf checks were recorded for this optimizer." and does not step; so do we.
    The iteration stays spoiled, as in PyTorch: a backward now and a second step raise again (the unscale_ of this
    iteration has happened), and the gradients stay scaled (the same numbers as PyTorch's)."""
    results, weight = [], np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    for lib in (tl, torch):
        layer = lib.nn.Linear(3, 2)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(weight))
            layer.bias.fill_(0.25)
        opt = lib.optim.SGD(layer.parameters(), lr=0.5)
        scaler = lib.amp.GradScaler("cpu")
        loss = scaler.scale(layer(lib.arange(12.0).reshape(4, 3)).pow(2).sum())
        before = layer.weight.detach().clone()
        with pytest.raises(AssertionError, match=r"^No inf checks were recorded for this optimizer\."):
            scaler.step(opt)
        loss.backward()
        with pytest.raises(AssertionError, match=r"^No inf checks were recorded for this optimizer\."):
            scaler.step(opt)
        results.append((before.numpy(), layer.weight.detach().numpy(), layer.weight.grad.numpy()))
    (before, ours, grad), (their_before, theirs, their_grad) = results
    np.testing.assert_array_equal(ours, before)
    np.testing.assert_array_equal(theirs, their_before)
    np.testing.assert_allclose(grad, their_grad, rtol=1e-6)
    assert np.abs(grad).max() > 2.0 ** 16  # still multiplied by the scale


# ------------------------------------------------------------------------------------------------ float32 accumulation
def _float16_ulps(a, b):
    """How many float16 steps apart a and b are (elementwise), measured at the larger magnitude. Near 0 (float16's
    subnormals, steps of 6e-8) the step counted is at least 2.4e-7: a result that nearly cancels carries the
    float32 rounding of its terms of size about 1 (2^-23 each), which depends on the order they were added in."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    step = np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(np.float16)).astype(np.float32)
    return np.abs(a - b) / np.maximum(step, 2.4e-7)


def _linear_under_autocast(lib, n=8192, seed=0):
    """A Linear(16, 4) on a batch of n under autocast("cpu", float16), a float32 loss; output, bias and weight grads."""
    rng = np.random.default_rng(seed)
    x, target = rng.normal(size=(n, 16)).astype(np.float32), rng.normal(size=(n, 4)).astype(np.float32)
    weight, bias = (rng.normal(size=(4, 16)) / 4).astype(np.float32), rng.normal(size=4).astype(np.float32)
    layer = lib.nn.Linear(16, 4)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(weight))
        layer.bias.copy_(lib.tensor(bias))
    with lib.autocast("cpu", dtype=lib.float16):
        y = layer(lib.tensor(x))
        loss = ((y.float() - lib.tensor(target)) ** 2).sum() / 10
    loss.backward()
    exact = (x.astype(np.float16).astype(np.float64) @ weight.astype(np.float16).astype(np.float64).T
             + bias.astype(np.float16)).astype(np.float16)  # the exact result, rounded once
    return y.detach().float().numpy(), layer.bias.grad.numpy(), layer.weight.grad.numpy(), exact


def test_a_linear_bias_gradient_under_autocast_is_summed_in_float32_as_pytorch():
    """Issue 21, item 1. The bias gradient is the sum of the float16 output gradient over 8192 rows: PyTorch adds
    them up in float32 and rounds once; float16 running sums were off by up to 26% here. Now as PyTorch's."""
    _, ours, our_weight_grad, _ = _linear_under_autocast(tl)
    _, theirs, their_weight_grad, _ = _linear_under_autocast(torch)
    assert _float16_ulps(ours, theirs).max() <= 1
    np.testing.assert_allclose(ours, theirs, rtol=1e-3)
    np.testing.assert_allclose(our_weight_grad, their_weight_grad, rtol=1e-3, atol=1e-3)
    rng = np.random.default_rng(1)
    g = rng.normal(size=(8192, 4)).astype(np.float16)
    naive = g.sum(axis=0)  # what float16 accumulation gives: far from the float32-accumulated sum
    assert np.abs(naive.astype(np.float32) - g.astype(np.float32).sum(axis=0)).max() > 1.0


@pytest.mark.parametrize("case", ["sum", "sum_dim", "broadcast_add_backward", "matmul"])
def test_float16_sums_and_products_accumulate_in_float32_as_pytorch(case):
    """Sums of float16 tensors (forward, and the backward of broadcasting) and float16 matrix products: within one
    float16 step of PyTorch's (the float32 sums may add in another order), and far closer than float16 sums."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4096, 8)).astype(np.float16)
    b = rng.normal(size=(8, 5)).astype(np.float16)
    results = []
    for lib in (tl, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b)
        if case == "sum":
            out = x.sum()
        elif case == "sum_dim":
            out = x.sum(0)
        elif case == "matmul":
            out = x @ y
        else:
            bias = lib.zeros(8, dtype=lib.float16, requires_grad=True)
            (x + bias).backward(lib.tensor(a))
            out = bias.grad
        results.append(np.asarray(out.detach().float().numpy()))
    ours, theirs = results
    assert _float16_ulps(ours, theirs).max() <= 1
    exact = {"sum": a.astype(np.float64).sum(), "sum_dim": a.astype(np.float64).sum(0),
             "broadcast_add_backward": a.astype(np.float64).sum(0),
             "matmul": a.astype(np.float64) @ b.astype(np.float64)}[case]
    assert _float16_ulps(ours, np.asarray(exact, np.float16)).max() <= 1


def test_linear_under_autocast_rounds_once_as_a_fused_addmm():
    """Issue 21, item 2: x W^T + b in float32, rounded to float16 once. Rounding the product to float16 and then
    the sum again left only 72% of outputs correctly rounded here; now as many as PyTorch's (>99.9%), each within one
    float16 step of PyTorch's."""
    ours, _, _, exact = _linear_under_autocast(tl)
    theirs = _linear_under_autocast(torch)[0]
    assert (ours == exact).mean() > 0.999 and (theirs == exact).mean() > 0.999
    assert _float16_ulps(ours, theirs).max() <= 1


def _runtime_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_float16_overflow_is_silent_as_in_pytorch():
    """Issue 21, item 8: float16 overflows to inf (and inf - inf to nan) in the forward pass, the casts and the
    backward pass without a numpy RuntimeWarning, as PyTorch is silent; the infs and nans are PyTorch's.
    float32 keeps numpy's warning (a documented difference: the lessons teach with it)."""
    def step(lib):
        x = lib.tensor([60000.0, 1.0, -3.0], dtype=lib.float16, requires_grad=True)
        big = lib.tensor([1e6, 2.0, 3.0]).half()                             # a cast that overflows
        y = x * 2 + x.exp() + (x * x - x * x) + big + (x @ lib.ones(3, 3, dtype=lib.float16)).sum()
        (y.float().sum() * 1e5).backward()                                   # a gradient that overflows
        made = lib.tensor([7e4, 1.0], dtype=lib.float16)                     # numbers past 65504, made and used
        numbers = lib.where(x > 0, x, 70000) + (x + 1e6) + x * 1e6
        return [t.detach().float().numpy() for t in (y, x.grad, big, made, numbers)]
    ours, our_warnings = _runtime_warnings(lambda: step(tl))
    theirs, their_warnings = _runtime_warnings(lambda: step(torch))
    assert our_warnings == their_warnings == []
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(ours[0][0]) and np.isnan(ours[1]).all() and np.isinf(ours[2][0])  # (inf - inf: nan)
    _, float32_warnings = _runtime_warnings(lambda: tl.tensor([1e38]) * 10)
    assert any("overflow" in w for w in float32_warnings)


# ------------------------------------------------------------------------------------------------ float16 products
# Issue 47: under autocast("cuda") the matrix products take float16 operands, as PyTorch's cuBLAS calls do (float32
# accumulation, the result rounded to float16 once: tinygrad_lite/float16_matmul.py); on the CPU they still go
# through float32 copies. ``record_products`` shows which dtypes reach the array module's matmul; the stand-in GPU
# multiplies float16 as cuBLAS does. tests/test_cuda.py runs the same functions on a real GPU against PyTorch CUDA.
def record_products(monkeypatch, module):
    """The dtypes of the operands of every matrix product the library asks of ``module`` (numpy, the stand-in GPU or
    CuPy) from now on, as pairs ("float16", "float16"): a test-side wrapper around ``module.matmul``."""
    seen = []
    original = module.matmul

    def matmul(a, b, *args, **kwargs):
        seen.append((a.dtype.name, b.dtype.name))
        return original(a, b, *args, **kwargs)
    monkeypatch.setattr(module, "matmul", matmul, raising=False)
    return seen


def linear_stack_under_autocast(lib, device):
    """A stack of three Linear layers, its forward pass under ``lib``'s float16 autocast on ``device`` and its
    backward pass: 3 + 5 matrix products (the input needs no gradient). The output and the parameters' gradients."""
    rng = np.random.default_rng(4)
    sizes = [(12, 16), (16, 16), (16, 4)]
    layers = [lib.nn.Linear(n_in, n_out) for n_in, n_out in sizes]
    with lib.no_grad():
        for layer, (n_in, n_out) in zip(layers, sizes):
            layer.weight.copy_(lib.tensor((rng.normal(size=(n_out, n_in)) / n_in ** 0.5).astype(np.float32)))
            layer.bias.copy_(lib.tensor(rng.normal(size=n_out).astype(np.float32)))
    model = lib.nn.Sequential(layers[0], lib.nn.ReLU(), layers[1], lib.nn.ReLU(), layers[2]).to(device)
    x = lib.tensor(rng.normal(size=(8, 12)).astype(np.float32)).to(device)
    with lib.autocast(device, dtype=lib.float16):
        y = model(x)
    assert y.dtype == lib.float16
    y.float().pow(2).sum().backward()
    return [y.detach().float().cpu().numpy()] + [p.grad.cpu().numpy() for p in model.parameters()]


def _multiples(rng, shape, bits, scale):
    """Whole numbers up to 2**bits, times 2**-scale: float16 numbers (at most 11 significant bits)."""
    return (rng.integers(-2 ** bits, 2 ** bits + 1, size=shape) * 2.0 ** -scale).astype(np.float32)


PRODUCT_CASES = ("linear", "bmm", "batch_times_matrix")


def exact_products(lib, device, case):
    """One product under ``lib``'s float16 autocast on ``device``, forward and backward (an upstream gradient G), on
    numbers whose products and sums are exact in float32 in any order (at most 19 significant bits): so every
    product that adds up in float32 and rounds once gives the exact value rounded to float16, whatever its order.
    {"y" (the result), "x", "w", "b" (the gradients): (result, exact value rounded to float16)}, as float32."""
    rng = np.random.default_rng(7)
    shapes = {"linear": ((16, 32), (8, 32)), "bmm": ((3, 4, 32), (3, 32, 5)),
              "batch_times_matrix": ((3, 4, 32), (32, 5))}[case]
    x, w = _multiples(rng, shapes[0], 6, 5), _multiples(rng, shapes[1], 7, 7)   # |x| <= 2, |w| <= 1
    b = _multiples(rng, (8,), 10, 10) if case == "linear" else None           # |b| <= 1
    tensors = [lib.tensor(v).to(device).requires_grad_() for v in (x, w, b) if v is not None]
    with lib.autocast(device, dtype=lib.float16):
        if case == "linear":
            y = lib.nn.functional.linear(*tensors)
        else:
            y = lib.bmm(*tensors) if case == "bmm" else tensors[0] @ tensors[1]
    g = _multiples(rng, tuple(y.shape), 6, 6)                                  # |G| <= 1
    y.backward(lib.tensor(g).to(device).half())
    x, w, g = (v.astype(np.float64) for v in (x, w, g))
    w_t = w.swapaxes(-1, -2)
    if case == "linear":
        exact = {"y": x @ w_t + b, "x": g @ w, "w": g.T @ x, "b": g.sum(0)}
    elif case == "bmm":
        exact = {"y": x @ w, "x": g @ w_t, "w": x.swapaxes(-1, -2) @ g}
    else:
        exact = {"y": x @ w, "x": g @ w_t, "w": (x.swapaxes(-1, -2) @ g).sum(0)}
    got = [y.detach()] + [t.grad for t in tensors]
    return {name: (value.float().cpu().numpy(), exact[name].astype(np.float16).astype(np.float32))
            for name, value in zip(exact, got)}


@pytest.fixture
def stand_in_gpu():
    from fake_cupy import FakeCuPy
    with FakeCuPy().install() as fake:
        yield fake


def test_under_cuda_autocast_a_linear_stacks_products_take_float16_operands(stand_in_gpu, monkeypatch):
    """On "cuda" the forward and backward matrix products of a Linear stack reach CuPy (here the stand-in) with
    float16 operands: cuBLAS multiplies them on the tensor cores, accumulating in float32."""
    seen = record_products(monkeypatch, stand_in_gpu)
    linear_stack_under_autocast(tl, "cuda")
    assert len(seen) == 8 and set(seen) == {("float16", "float16")}, seen
    for case in PRODUCT_CASES:  # bmm, and a batch times one matrix (made one 2-D product), forward and backward
        seen.clear()
        exact_products(tl, "cuda", case)
        assert len(seen) == 3 and set(seen) == {("float16", "float16")}, (case, seen)  # the product and 2 gradients


def test_on_the_cpu_autocasts_products_still_go_through_float32(monkeypatch):
    """numpy has no float16 product that adds up in float32: the CPU's route casts the operands to float32."""
    seen = record_products(monkeypatch, np)
    linear_stack_under_autocast(tl, "cpu")
    assert len(seen) == 8 and set(seen) == {("float32", "float32")}, seen


@pytest.mark.parametrize("case", PRODUCT_CASES)
def test_float16_products_add_up_in_float32_and_round_once_on_both_devices(stand_in_gpu, case):
    """The results and gradients, on the stand-in GPU (float16 operands) and on the CPU (float32 copies), are the
    exact values rounded to float16 once, as PyTorch's (tests/test_cuda.py checks PyTorch CUDA's). Exception, on
    the CPU only (kept as it was): the weight gradient of a batch times one matrix there is a sum over the batch of
    products each rounded to float16, added in float32 and rounded again: near, not equal."""
    on_gpu, on_cpu = exact_products(tl, "cuda", case), exact_products(tl, "cpu", case)
    for name, (got, exact) in on_gpu.items():
        np.testing.assert_array_equal(got, exact, err_msg=name)
        if (case, name) == ("batch_times_matrix", "w"):
            np.testing.assert_allclose(on_cpu[name][0], exact, atol=0.02)
            assert (on_cpu[name][0] != exact).any()
        else:
            np.testing.assert_array_equal(on_cpu[name][0], exact, err_msg=name)
    if case == "linear":  # the test can tell: rounding twice (the product, then it plus the bias) differs here
        rng = np.random.default_rng(7)
        x, w, b = _multiples(rng, (16, 32), 6, 5), _multiples(rng, (8, 32), 7, 7), _multiples(rng, (8,), 10, 10)
        twice = ((x @ w.T).astype(np.float16).astype(np.float32) + b).astype(np.float16)
        assert (twice != on_gpu["y"][1]).any()


def test_the_stand_in_multiplies_float16_as_cublas_does(stand_in_gpu):
    """Products added up in float32, rounded to float16 once (CuPy's default compute type for float16 is float32),
    with ``@`` and with ``cupy.matmul``. 2048 + 1 + 1 + ... in float16 steps would stay 2048 (float16's numbers are
    2 apart there); added up in float32, the eight ones count."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(64, 4096)).astype(np.float16), rng.normal(size=(4096, 64)).astype(np.float16)
    once = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)
    ga, gb = stand_in_gpu.asarray(a), stand_in_gpu.asarray(b)
    for product in (ga @ gb, stand_in_gpu.matmul(ga, gb)):
        assert product.dtype == np.float16
        np.testing.assert_array_equal(product.get(), once)
    ones = stand_in_gpu.asarray(np.ones((9, 1), np.float16))
    row = stand_in_gpu.asarray(np.array([[2048] + [1] * 8], np.float16))
    assert (row @ ones).item() == stand_in_gpu.matmul(row, ones).item() == 2056.0


# ------------------------------------------------------------------------------------------------ no GPU, old spellings
def test_cuda_autocast_without_a_gpu_warns_and_turns_itself_off_as_pytorchs():
    assert not tl.cuda.is_available() and not torch.cuda.is_available()
    seen = {}
    for lib in (tl, torch):
        with pytest.warns(UserWarning, match="CUDA is not available.* Disabling autocast"):
            region = lib.autocast("cuda", dtype=lib.float16)
        with region:
            seen[lib.__name__] = lib.is_autocast_enabled("cuda")
    assert seen == {"tinygrad_lite": False, "torch": False}


def test_cuda_autocast_is_enabled_on_the_stand_in_gpu(stand_in_gpu):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "CUDA is not available" here
        with tl.autocast("cuda", dtype=tl.float16):
            assert tl.is_autocast_enabled("cuda")
            x = tl.ones(2, 2, device="cuda")
            assert (x @ x).dtype is tl.float16


def _warnings_of(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = make()
    return made, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("spelling", ["cuda.amp.autocast", "cuda.amp.GradScaler", "cpu.amp.autocast",
                                      "cpu.amp.GradScaler"])
def test_the_deprecated_amp_spellings_warn_and_work_as_pytorchs(spelling):
    device, _, name = spelling.split(".")
    kwargs = {"dtype": "float16"} if spelling == "cpu.amp.autocast" else {}

    def make(lib):
        cls = getattr(getattr(lib, device).amp, name)
        return cls(**{k: getattr(lib, v) for k, v in kwargs.items()})
    ours, our_warnings = _warnings_of(lambda: make(tl))
    theirs, their_warnings = _warnings_of(lambda: make(torch))
    assert [c for c, _ in our_warnings] == [c for c, _ in their_warnings]  # a FutureWarning, then as PyTorch's
    assert our_warnings[0][0] is FutureWarning
    assert f"`tinygrad_lite.{spelling}(args...)` is deprecated" in our_warnings[0][1]
    assert f"`torch.amp.{name}('{device}', args...)`" in our_warnings[0][1]
    assert f"`torch.amp.{name}('{device}', args...)`" in their_warnings[0][1]
    if name == "GradScaler":
        assert ours.is_enabled() == theirs.is_enabled() == (device == "cpu")
    else:
        with ours:
            enabled = tl.is_autocast_enabled(device)
        with theirs:
            assert enabled == torch.is_autocast_enabled(device) == (device == "cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from tinygrad_lite.cuda.amp import GradScaler, autocast  # the usual import line of AMP scripts
        autocast(enabled=False), GradScaler(enabled=False)
    assert [w.filename for w in caught] == [__file__] * 2  # the warning points at the script's line
    with pytest.raises(RuntimeError, match=r"autocast\('cpu'\): PyTorch's default dtype here is bfloat16"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        tl.cpu.amp.autocast()


def test_float16_reductions_and_normalisations_compute_in_float32_as_pytorchs():
    """(session 39) PyTorch's CPU kernels compute float16 in float32 and round once. Ours did some of it in float16:
    a mean's gradient over 70,000 numbers was 0 (1/N with N = inf in float16), a softmax over 70,000 classes 0, a
    cumsum's gradient stopped at 2,048, and layer norm and batch norm of a spread of 300 gave zeros (a float16
    square past 65,504)."""
    results = []
    for T in (torch, tl):
        F = T.nn.functional
        many = T.ones(70000, dtype=T.float16, requires_grad=True)
        many.mean().backward()
        long = T.ones(3000, dtype=T.float16, requires_grad=True)
        long.cumsum(0).backward(T.ones(3000, dtype=T.float16))
        wide = T.tensor([[-300.0, 0.0, 300.0]], dtype=T.float16)
        T.manual_seed(0)
        bn = T.nn.BatchNorm1d(3).half()
        batch = T.tensor([[-300.0, 1.0, 2.0], [300.0, 3.0, 5.0], [10.0, -4.0, 0.0]], dtype=T.float16)
        trained = bn(batch)
        results.append((many.grad[0].item(), T.zeros(70000, dtype=T.float16).softmax(0)[0].item(), long.grad[0].item(),
                        F.layer_norm(wide, (3,)).tolist(), T.nn.LayerNorm(3).half()(wide).dtype == T.float16,
                        trained.tolist(), bn.running_var.tolist(), bn.running_mean.dtype == T.float16,
                        bn.eval()(batch).tolist()))
    ours, theirs = results[1], results[0]
    assert ours[:3] == theirs[:3] == (2 ** -16 * 0.9375, 2 ** -16 * 0.9375, 3000.0)  # (1/70,000 in float16)
    assert ours[4] and ours[7] and theirs[4] and theirs[7]
    for k in (3, 5, 6, 8):  # (within a float16 step or two: PyTorch's batch norm rounds some steps to float16)
        np.testing.assert_allclose(ours[k], theirs[k], rtol=2e-3)


def test_a_cast_made_under_no_grad_is_not_kept_for_the_graph():
    """(session 48) A weight used under no_grad inside an autocast region, then with grad mode on in the same region
    (an evaluation before the step; a checkpoint's first run): its gradient arrives, as PyTorch's (the no_grad
    cast, kept in the cache, had cut it)."""
    grads = []
    for lib in (tl, torch):
        layer = lib.nn.Linear(3, 2)
        x = lib.ones(4, 3)
        with lib.autocast("cpu", dtype=lib.float16):
            with lib.no_grad():
                layer(x)
            layer(x).float().sum().backward()
        grads.append(layer.weight.grad.tolist())
    assert grads[0] == grads[1] == [[4.0] * 3] * 2
