"""Issue 45's PyTorch pieces: what practitioners' scripts use that was missing, each against PyTorch 2.13, and the
cases where the library accepted what PyTorch refuses (or failed raw), which now get PyTorch's behaviour."""
import copy
import math
import warnings

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

LIBS = {"tl": tl, "torch": torch}


def both(fn):
    """fn(lib) for tinygrad_lite and for PyTorch."""
    return fn(tl), fn(torch)


def numbers(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


# -------------------------------------------------------------------------------------------- the missing pieces
def test_chained_scheduler_traces_and_resumes_as_pytorchs():
    def run(lib, resume_at=None):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.05)
        S = lib.optim.lr_scheduler
        chain = S.ChainedScheduler([S.LinearLR(opt, start_factor=0.1, total_iters=4), S.ExponentialLR(opt, 0.9),
                                    S.StepLR(opt, 3, 0.5)])
        trace = [chain.get_last_lr()[0]]
        for k in range(12):
            opt.step()
            chain.step()
            trace.append(chain.get_last_lr()[0])
            if k == resume_at:
                saved = chain.state_dict()
                chain.load_state_dict(saved)
                assert len(saved["_schedulers"]) == 3
        return trace
    ours, theirs = both(run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert run(tl, resume_at=5) == ours
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        opt = tl.optim.SGD([tl.nn.Parameter(tl.ones(1))], lr=0.1)
        tl.optim.lr_scheduler.ChainedScheduler([tl.optim.lr_scheduler.ReduceLROnPlateau(opt)])


def test_parameters_to_vector_and_back_as_pytorch():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    ours = tl.nn.Sequential(tl.nn.Linear(3, 4), tl.nn.Linear(4, 2))
    ours.load_state_dict({k: tl.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    a, b = tl.nn.utils.parameters_to_vector(ours.parameters()), torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(numbers(a), numbers(b))
    (a * tl.arange(a.numel())).sum().backward()  # in the graph: each parameter's gradient is its slice
    np.testing.assert_array_equal(numbers(ours[0].weight.grad).ravel(), np.arange(12))
    new = np.linspace(-1, 1, a.numel()).astype(np.float32)
    tl.nn.utils.vector_to_parameters(tl.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new), theirs.parameters())
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(numbers(p), numbers(q))
    with pytest.raises(TypeError, match="expected a Tensor for vec"):
        tl.nn.utils.vector_to_parameters(new, ours.parameters())
    with pytest.raises(RuntimeError, match="1-D with 26 numbers"):
        tl.nn.utils.vector_to_parameters(tl.ones(3), ours.parameters())


def test_parameter_list_and_dict_register_their_parameters_as_pytorch():
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(3)])
                self.gains = lib.nn.ParameterDict({"scale": lib.nn.Parameter(lib.ones(3)), "shift": lib.zeros(3)})
                self.weights.append(lib.ones(1))
                self.gains["extra"] = lib.nn.Parameter(lib.ones(2))
        return Net()
    ours, theirs = both(build)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(isinstance(p, tl.nn.Parameter) and p.requires_grad for p in ours.parameters())
    assert len(ours.weights) == 3 and ours.weights[-1].shape == (1,) and len(ours.weights[:2]) == 2
    assert list(ours.gains) == ["scale", "shift", "extra"] and "scale" in ours.gains
    assert ours.gains.pop("extra").shape == (2,) and list(ours.gains.keys()) == ["scale", "shift"]
    opt = tl.optim.SGD(ours.parameters(), lr=0.1)
    assert sum(p.numel() for g in opt.param_groups for p in g["params"]) == 6 + 3 + 1 + 3 + 3
    with pytest.raises(TypeError, match="keys must be str"):
        ours.gains[1] = tl.ones(1)
    with pytest.raises(TypeError, match="Parameter or a Tensor"):
        ours.weights.append(3.0)


@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"padding_idx": -1}, {"max_norm": 1.0},
                                     {"padding_idx": 0, "max_norm": 0.5, "norm_type": 1.0}],
                         ids=["plain", "padding", "negative_padding", "max_norm", "both"])
def test_embedding_as_pytorch(options):
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(6, 4, **options)
    ours = tl.nn.Embedding(6, 4, **options)
    if "padding_idx" in options:  # the padding row starts at zeros in both
        assert not numbers(ours.weight)[options["padding_idx"]].any()
    ours.load_state_dict({"weight": tl.tensor(theirs.weight.detach().numpy())})
    index = np.array([[0, 1, 5], [1, 1, 3]])
    a, b = ours(tl.tensor(index)), theirs(torch.from_numpy(index))
    assert a.shape == b.shape == (2, 3, 4)
    np.testing.assert_allclose(numbers(a), numbers(b), rtol=1e-6, atol=1e-7)
    g = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    a.backward(tl.tensor(g))
    b.backward(torch.from_numpy(g))
    np.testing.assert_allclose(numbers(ours.weight.grad), numbers(theirs.weight.grad), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(numbers(ours.weight), numbers(theirs.weight), rtol=1e-6, atol=1e-7)  # renormed
    assert repr(ours) == repr(theirs)


def test_embedding_refuses_what_pytorch_refuses():
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        tl.nn.Embedding(5, 3, padding_idx=7)
    layer = tl.nn.Embedding(5, 3)
    with pytest.raises(IndexError, match="index 9 is out of range for a weight of 5 rows"):
        layer(tl.tensor([9]))
    for lib, emb in ((tl, layer), (torch, torch.nn.Embedding(5, 3))):  # a negative index is no row from the end
        with pytest.raises(IndexError, match="does not count from the end" if lib is tl else "out of range"):
            emb(lib.tensor([2, -1]))
    with pytest.raises(RuntimeError, match="indices must be int64"):
        layer(tl.tensor([1.0]))
    frozen = tl.nn.Embedding.from_pretrained(tl.ones(4, 2))
    assert not frozen.weight.requires_grad and frozen(tl.tensor([3])).shape == (1, 2)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_values_and_gradients_as_pytorch(reduction, log_target):
    rng = np.random.default_rng(2)
    x = np.log(rng.dirichlet(np.ones(5), 3)).astype(np.float32)
    y = rng.dirichlet(np.ones(5), 3).astype(np.float32)
    if log_target:
        y = np.log(y)
    else:
        y[0, 1] = 0.0  # a zero probability in the target: 0 log 0 = 0
    results = []
    for lib in (tl, torch):
        xs, ys = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = lib.nn.KLDivLoss(reduction=reduction, log_target=log_target)(xs, ys)
        assert (reduction == "mean") == any("batchmean" in str(w.message) for w in caught)
        weights = np.random.default_rng(3).standard_normal(loss.shape).astype(np.float32)
        (loss * lib.tensor(weights)).sum().backward()
        results.append([numbers(loss), numbers(xs.grad), numbers(ys.grad)])
    (loss_a, x_a, y_a), (loss_b, x_b, y_b) = results
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x_a, x_b, rtol=1e-5, atol=1e-6)
    counted = np.isfinite(y_b)  # (the target's gradient at a probability of exactly 0: PyTorch's is nan, ours finite)
    assert counted.sum() == y.size - (not log_target) and np.isfinite(y_a).all()
    np.testing.assert_allclose(y_a[counted], y_b[counted], rtol=1e-5, atol=1e-6)


def test_edge_values_as_pytorch():
    """A negative target probability makes kl_div nan (no silent number); clamp_ of an int tensor by a float bound,
    and a finite value past float16's (or float32's) range into full / fill_ / masked_fill, are refused, as PyTorch
    refuses them (where takes it, as inf)."""
    for lib in (tl, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (numpy's log of a negative number warns)
            assert lib.nn.functional.kl_div(lib.tensor([-1.0, -2.0]), lib.tensor([-0.5, 0.5]), reduction="sum").isnan()
        for bound in (2.5, np.float32(2.5)):
            with pytest.raises(RuntimeError):
                lib.tensor([1, 5]).clamp_(max=bound)
        half = lib.zeros(2, dtype=lib.float16)
        mask = lib.tensor([True, False])
        with pytest.raises(RuntimeError, match="float16|Half"):
            lib.full((2,), 1e6, dtype=lib.float16)
        with pytest.raises(RuntimeError, match="float16|Half"):
            half.clone().fill_(-7e4)
        with pytest.raises(RuntimeError, match="float16|Half"):
            half.masked_fill(mask, 65520.0)
        with pytest.raises(RuntimeError, match="float"):
            lib.full((2,), -1e39)
        assert half.masked_fill(mask, math.inf)[0].item() == math.inf  # (inf is no overflow)
        assert lib.where(mask, half, 70000).tolist() == [0.0, math.inf]  # (where takes it, as inf)
    assert tl.tensor([1, 5]).clamp(max=2.5).tolist() == [1.0, 2.5]  # (out of place: a float result, as PyTorch's)


def test_silu_and_its_gradient_as_pytorch():
    x = np.linspace(-6, 6, 25).astype(np.float32)
    results = []
    for lib in (tl, torch):
        xs = lib.tensor(x, requires_grad=True)
        out = lib.nn.SiLU()(xs)
        out.sum().backward()
        results.append((numbers(out), numbers(xs.grad), numbers(lib.nn.functional.silu(xs))))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_get_parameter_and_get_buffer_as_pytorch():
    ours, theirs = both(lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3)))
    assert ours.get_parameter("0.weight") is ours[0].weight and ours.get_buffer("1.running_mean") is \
        ours[1].running_mean
    for bad, kind in (("0.nothing", AttributeError), ("1.running_mean", AttributeError), ("5.weight", AttributeError)):
        for model in (ours, theirs):
            with pytest.raises(kind):
                model.get_parameter(bad)
    for model in (ours, theirs):
        with pytest.raises(AttributeError, match="is not a buffer"):
            model.get_buffer("0.weight")
        with pytest.raises(AttributeError, match="is not an nn.Parameter"):
            model.get_parameter("1.running_var")


def test_layer_norm_under_cpu_autocast_as_pytorch():
    x = np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32)
    torch.manual_seed(0)
    theirs_model = torch.nn.Sequential(torch.nn.Linear(5, 5), torch.nn.LayerNorm(5))
    ours_model = tl.nn.Sequential(tl.nn.Linear(5, 5), tl.nn.LayerNorm(5))
    ours_model.load_state_dict({k: tl.tensor(v.detach().numpy()) for k, v in theirs_model.state_dict().items()})
    results = []
    for lib, model in ((tl, ours_model), (torch, theirs_model)):
        with lib.autocast("cpu", dtype=lib.float16):
            out = model(lib.tensor(x))
        results.append((str(out.dtype).split(".")[-1], numbers(out.float())))
    (ours_dtype, ours), (theirs_dtype, theirs) = results
    assert ours_dtype == theirs_dtype == "float16"
    np.testing.assert_allclose(ours, theirs, atol=4e-3)


# -------------------------------------------------------------------------------------------- refused as PyTorch
def test_deepcopy_of_a_result_in_the_graph_is_refused_as_pytorch():
    for lib in (tl, torch):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="graph leaves"):
            copy.deepcopy(x * 2)
        assert copy.deepcopy(x).requires_grad


@pytest.mark.parametrize("case", ["input32_stats64", "input32_weight64", "input64_weight32", "var_without_mean",
                                  "mean_without_var"])
def test_batch_norm_refuses_mixed_dtypes_and_half_given_statistics_as_pytorch(case):
    def call(lib):
        x = lib.ones(4, 3) + lib.arange(12.0).reshape(4, 3)
        f64 = lib.float64
        args = {"input32_stats64": (x, lib.zeros(3, dtype=f64), lib.ones(3, dtype=f64)),
                "input32_weight64": (x, None, None, lib.ones(3, dtype=f64)),
                "input64_weight32": (x.double(), None, None, lib.ones(3)),
                "var_without_mean": (x, None, lib.ones(3)),
                "mean_without_var": (x, lib.zeros(3), None)}[case]
        return lib.nn.functional.batch_norm(*args, training=True)
    kind = ValueError if "without" in case else RuntimeError
    for lib in (tl, torch):
        with pytest.raises(kind, match="mixed dtype|both be None"):
            call(lib)


def test_float16_activations_with_float32_batch_norm_parameters_as_pytorch():
    x = np.random.default_rng(5).standard_normal((8, 3)).astype(np.float16)
    outs = [lib.nn.functional.batch_norm(lib.tensor(x), lib.zeros(3), lib.ones(3), lib.ones(3) * 2, lib.ones(3),
                                         training=True) for lib in (tl, torch)]
    assert str(outs[0].dtype).endswith("float16") and str(outs[1].dtype).endswith("float16")
    np.testing.assert_allclose(numbers(outs[0]).astype(np.float32), numbers(outs[1]).astype(np.float32), atol=2e-3)


@pytest.mark.parametrize("foreach", [True, False])
def test_a_parameter_that_changed_shape_or_dtype_between_steps_is_refused(foreach):
    for change, message in ((lambda p: setattr(p, "data", tl.ones(4)), "of shape \\(4,\\).*state 'exp_avg' of shape"),
                            (lambda p: setattr(p, "data", p.data.double()), "\\(float64\\) has state 'exp_avg'")):
        p, q = tl.nn.Parameter(tl.ones(3)), tl.nn.Parameter(tl.ones(2))
        opt = tl.optim.Adam([p, q], lr=0.1, foreach=foreach)
        p.grad, q.grad = tl.ones(3), tl.ones(2)
        opt.step()
        change(p)
        p.grad = tl.ones(p.shape, dtype=p.dtype)
        with pytest.raises(RuntimeError, match=message):
            opt.step()


def test_safetensors_refuses_a_non_contiguous_tensor_as_the_package_does(tmp_path):
    from safetensors.torch import save_file as theirs

    from tinygrad_lite.safetensors import save_file as ours
    with pytest.raises(ValueError, match="non contiguous"):
        theirs({"a": torch.ones(3, 4).t()}, tmp_path / "theirs.safetensors")
    with pytest.raises(ValueError, match="not contiguous.*t.contiguous\\(\\)"):
        ours({"a": tl.ones(3, 4).t()}, tmp_path / "ours.safetensors")
    ours({"a": tl.ones(3, 4).t().contiguous()}, tmp_path / "ours.safetensors")


def test_tensorboard_refuses_what_pytorchs_writer_refuses(tmp_path):
    pytest.importorskip("tensorboard")
    from tinygrad_lite.train import TensorBoardLogger
    from tinygrad_lite.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(tmp_path / "run")
    with pytest.raises(TypeError, match="keys of tag_scalar_dict .* must be str, got 1"):
        writer.add_scalars("loss", {1: 0.5}, 0)
    with pytest.raises(ValueError, match="got numpy.int64: int\\(value\\) makes it one"):
        writer.add_hparams({"batch": np.int64(32)}, {"acc": 0.5})
    writer.add_hparams({"lr": tl.tensor(0.1), "batch": 32}, {"acc": 0.5})  # a one-element tensor is fine
    writer.close()
    with pytest.raises(TypeError, match="writer must be a SummaryWriter .* log_dir='runs/x'"):
        TensorBoardLogger(writer="runs/x")
