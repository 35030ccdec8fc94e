"""LayerNorm, F.layer_norm and F.batch_norm against PyTorch in float64: values, gradients of the input, weight and
bias, the running statistics, gradcheck, and the errors for a shape that does not fit."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl
import tinygrad_lite.nn as nn
import tinygrad_lite.nn.functional as F

TF = torch.nn.functional
TOL = dict(rtol=1e-12, atol=1e-12)


def both(array, requires_grad=True):
    """The same float64 numbers as our tensor and as a torch tensor (leaves)."""
    return (tl.tensor(array, dtype=tl.float64, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def close(ours, theirs):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **TOL)


def data(seed, *shape):
    return np.random.default_rng(seed).normal(1.0, 2.0, shape)


@pytest.mark.parametrize("shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                               ((6,), (6,))])
@pytest.mark.parametrize("affine", ["weight_and_bias", "weight", "none"])
def test_layer_norm_matches_pytorch_values_and_gradients(shape, normalized, affine):
    (x, tx) = both(data(0, *shape))
    w, tw = both(data(1, *normalized)) if affine != "none" else (None, None)
    b, tb = both(data(2, *normalized)) if affine == "weight_and_bias" else (None, None)
    out, tout = F.layer_norm(x, normalized, w, b, eps=1e-3), TF.layer_norm(tx, normalized, tw, tb, eps=1e-3)
    close(out, tout)
    upstream = data(3, *shape)
    out.backward(tl.tensor(upstream, dtype=tl.float64))
    tout.backward(torch.tensor(upstream))
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        if ours is not None:
            close(ours.grad, theirs.grad)


def test_layer_norm_module_matches_pytorch_and_trains_its_parameters():
    layer, tlayer = nn.LayerNorm((3, 4), eps=1e-4).double(), torch.nn.LayerNorm((3, 4), eps=1e-4).double()
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(data(1, 3, 4)))
        tlayer.bias.copy_(torch.tensor(data(2, 3, 4)))
    layer.load_state_dict(tlayer.state_dict())
    x, tx = both(data(0, 2, 3, 4))
    layer(x).pow(2).sum().backward()
    tlayer(tx).pow(2).sum().backward()
    close(layer(x), tlayer(tx))
    close(x.grad, tx.grad)
    close(layer.weight.grad, tlayer.weight.grad)
    close(layer.bias.grad, tlayer.bias.grad)
    assert list(layer.state_dict()) == list(tlayer.state_dict()) == ["weight", "bias"]
    layer.eval()
    close(layer(x), tlayer(tx))  # no running statistics: the same in evaluation


@pytest.mark.parametrize("shape, kwargs", [(4, {}), ([3, 4], {"eps": 1e-3}), ((4,), {"elementwise_affine": False}),
                                           (4, {"bias": False})])
def test_layer_norm_module_attributes_and_repr_match_pytorch(shape, kwargs):
    ours, theirs = nn.LayerNorm(shape, **kwargs), torch.nn.LayerNorm(shape, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.normalized_shape == theirs.normalized_shape and ours.eps == theirs.eps
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())


def test_layer_norm_normalises_each_sample_alone():
    """Batch of one: each sample's features get mean 0 and (biased) variance 1 / (1 + eps / var)."""
    x = tl.tensor(data(0, 1, 8), dtype=tl.float64)
    out = F.layer_norm(x, (8,), eps=0.0)
    np.testing.assert_allclose(out.mean().item(), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(unbiased=False).item(), 1.0, rtol=1e-12)


def test_layer_norm_passes_gradcheck():
    x = tl.tensor(data(0, 3, 4), dtype=tl.float64, requires_grad=True)
    w = tl.tensor(data(1, 4), dtype=tl.float64, requires_grad=True)
    b = tl.tensor(data(2, 4), dtype=tl.float64, requires_grad=True)
    assert tl.gradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b), (x, w, b))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_pytorch_values_gradients_and_running_statistics(shape, training):
    x, tx = both(data(0, *shape))
    w, tw = both(data(1, 3))
    b, tb = both(data(2, 3))
    mean, tmean = both(data(3, 3), requires_grad=False)
    var, tvar = both(np.abs(data(4, 3)) + 0.5, requires_grad=False)
    out = F.batch_norm(x, mean, var, w, b, training=training, momentum=0.3, eps=1e-3)
    tout = TF.batch_norm(tx, tmean, tvar, tw, tb, training=training, momentum=0.3, eps=1e-3)
    close(out, tout)
    close(mean, tmean)  # updated in place when training (unbiased variance in running_var), untouched otherwise
    close(var, tvar)
    upstream = data(5, *shape)
    out.backward(tl.tensor(upstream, dtype=tl.float64))
    tout.backward(torch.tensor(upstream))
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        close(ours.grad, theirs.grad)


def test_batch_norm_without_running_statistics_and_affine_matches_pytorch():
    x, tx = both(data(0, 6, 2))
    close(F.batch_norm(x, None, None, training=True), TF.batch_norm(tx, None, None, training=True))


def test_batch_norm_passes_gradcheck():
    x = tl.tensor(data(0, 5, 3), dtype=tl.float64, requires_grad=True)
    w = tl.tensor(data(1, 3), dtype=tl.float64, requires_grad=True)
    b = tl.tensor(data(2, 3), dtype=tl.float64, requires_grad=True)
    assert tl.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))


def test_batch_norm_module_uses_the_functional_form():
    """nn.BatchNorm1d(x) in training is F.batch_norm with its buffers: same output, same running statistics."""
    layer = nn.BatchNorm1d(3).double()
    x = tl.tensor(data(0, 5, 3), dtype=tl.float64)
    mean, var = tl.zeros(3, dtype=tl.float64), tl.ones(3, dtype=tl.float64)
    out = F.batch_norm(x, mean, var, layer.weight, layer.bias, training=True)
    np.testing.assert_array_equal(layer(x).detach().numpy(), out.detach().numpy())
    np.testing.assert_array_equal(layer.running_mean.numpy(), mean.numpy())
    np.testing.assert_array_equal(layer.running_var.numpy(), var.numpy())


# -------------------------------------------------------------------- misuse
@pytest.mark.parametrize("normalized", [(4,), (5, 2, 3)])
def test_layer_norm_with_a_shape_that_does_not_fit_names_both_shapes(normalized):
    x, tx = both(data(0, 2, 3))
    with pytest.raises(RuntimeError):
        TF.layer_norm(tx, normalized)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[.*\].*\[2, 3\]"):
        F.layer_norm(x, normalized)


def test_layer_norm_module_with_the_wrong_input_names_the_layer_and_the_shapes():
    with pytest.raises(RuntimeError):
        torch.nn.LayerNorm(4)(torch.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"LayerNorm\(\(4,\).*\[\*, 4\].*\[2, 3\].*out_features"):
        nn.LayerNorm(4)(tl.zeros(2, 3))
    with pytest.raises(RuntimeError, match="transpose"):
        nn.LayerNorm(4)(tl.zeros(2, 4, 5))  # (N, C, L) with C = 4: normalises the last dim, not C


def test_layer_norm_argument_errors_have_pytorchs_types():
    x, tx = both(data(0, 2, 3))
    with pytest.raises(TypeError):
        TF.layer_norm(tx, 3)
    with pytest.raises(TypeError, match=r"normalized_shape.*\(3,\)"):
        F.layer_norm(x, 3)
    with pytest.raises(RuntimeError, match="weight.*same shape as normalized_shape"):
        F.layer_norm(x, (3,), tl.ones(4, dtype=tl.float64))
    with pytest.raises(RuntimeError, match="float32 but the weight is .*float64"):
        F.layer_norm(tl.zeros(2, 3), (3,), tl.ones(3, dtype=tl.float64))


def test_sync_batch_norm_is_batch_norm_in_one_process_and_conversion_keeps_the_very_parameters():
    """nn.SyncBatchNorm in one process (as PyTorch's without a process group): outputs in training and eval, the
    running statistics, state_dict keys and repr; convert_sync_batchnorm swaps nested batch norms, sharing their
    Parameters and buffers, as PyTorch's does."""
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
    kernel = np.random.default_rng(1).standard_normal((4, 3, 3, 3))
    results, reprs = [], []
    for lib in (tl, torch):
        model = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4),
                                  lib.nn.Sequential(lib.nn.BatchNorm2d(4, affine=False)))
        weight = model[1].weight
        model = lib.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        with lib.no_grad():
            model[0].weight.copy_(lib.tensor(kernel, dtype=lib.float32))
            model[0].bias.zero_()
        trained = model(lib.tensor(x, dtype=lib.float32))
        model.eval()
        evaluated = model(lib.tensor(x, dtype=lib.float32))
        volume = lib.nn.SyncBatchNorm(2)(lib.tensor(x[:, :2, :, :4].reshape(2, 2, 5, 2, 2), dtype=lib.float32))
        results.append([trained.detach().numpy(), evaluated.detach().numpy(), model[1].running_var.numpy(),
                        volume.detach().numpy()])
        reprs.append((repr(model), list(model.state_dict())))
        assert model[1].weight is weight and isinstance(model[2][0], lib.nn.modules.batchnorm._BatchNorm)
        with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
            lib.nn.SyncBatchNorm(4)(lib.ones(3))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    assert reprs[0] == reprs[1]


def test_an_empty_batch_normalises_to_an_empty_result_and_conversion_keeps_qconfig():
    """r55: batch norm of a batch of 0 (training or not) is an empty tensor still in the graph of the weight, as
    PyTorch's; convert_sync_batchnorm keeps a qconfig."""
    for lib in (tl, torch):
        layer = lib.nn.BatchNorm2d(3)
        out = layer(lib.ones(0, 3, 2, 2))
        assert tuple(out.shape) == (0, 3, 2, 2) and out.requires_grad
        assert tuple(lib.nn.SyncBatchNorm(3)(lib.ones(0, 3, 2)).shape) == (0, 3, 2)
        norm = lib.nn.BatchNorm1d(2)
        norm.qconfig = "kept"
        assert lib.nn.SyncBatchNorm.convert_sync_batchnorm(norm).qconfig == "kept"


def test_group_and_instance_norm_keep_a_float16_input_s_dtype_and_refuse_other_mixes():
    """Round r59: a float16 input with float32 parameters (a float32 layer) gives float16, as PyTorch's kernels do
    (computed in float32, rounded once); any other mix is refused ("mixed dtype")."""
    x = np.sin(np.arange(48.0)).reshape(2, 4, 6) * 300  # (a spread whose float16 squares overflow)
    results = []
    for L in (tl, torch):
        made = [L.nn.GroupNorm(2, 4), L.nn.InstanceNorm1d(4, affine=True, track_running_stats=True)]
        outs = [m(L.tensor(x, dtype=L.float16)) for m in made]
        results.append([(str(y.dtype).split(".")[-1], y.detach().float().numpy()) for y in outs]
                       + [made[1].running_var.numpy()])
        w = L.ones(4, dtype=L.float64)
        with pytest.raises(RuntimeError, match="mixed dtype"):
            L.nn.functional.group_norm(L.ones(2, 4, 3), 2, w)
        with pytest.raises(RuntimeError, match="mixed dtype"):
            L.nn.functional.instance_norm(L.ones(2, 4, 3), weight=w)
    for ours, theirs in zip(*results):
        if isinstance(ours, tuple):
            assert ours[0] == theirs[0] == "float16"
            np.testing.assert_allclose(ours[1], theirs[1], atol=2e-3)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-6)
