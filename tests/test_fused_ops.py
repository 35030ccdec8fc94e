"""The fused ops (issue 35): batch norm, layer norm, cross-entropy / nll_loss and mse_loss as single ops with a
closed-form backward (``ops/batch_norm.py``, ``ops/layer_norm.py``, ``ops/cross_entropy.py``, ``ops/mse_loss.py``).

Each is compared with PyTorch in float64 (values, gradients and the running statistics, tightly: rtol 1e-10) for
every option, in float32 within float32 rounding, and by ``gradcheck`` (finite differences); and each keeps
PyTorch's in-place detection: what the op saved (its input, its weight) changed before backward is refused, its
output changed in place (``relu_`` after it) is fine. Small shapes, so that the file runs in about a second.
"""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_lite as tl
import tinygrad_lite.nn.functional as F

RTOL, ATOL = 1e-10, 1e-12


def pair(array, requires_grad=True):
    """The same float64 (or float32) numbers as a tinygrad_lite tensor and a torch tensor."""
    return (tl.tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def close(ours, theirs, what, rtol=RTOL, atol=ATOL):
    assert ours is not None and theirs is not None, f"{what}: {ours} vs torch {theirs}"
    ours = ours.detach().numpy() if isinstance(ours, tl.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, f"{what}: {ours.shape} {ours.dtype} vs torch " \
                                                                      f"{theirs.shape} {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)


def backward_both(out, tout, seed=1):
    """The same random upstream gradient through both outputs."""
    g = np.random.default_rng(seed).standard_normal(tuple(tout.shape)).astype(tout.detach().numpy().dtype)
    out.backward(tl.tensor(g))
    tout.backward(torch.tensor(g))


def op_name(t):
    return type(t.grad_fn).__name__


# -------------------------------------------------------------------- batch norm
BN_SHAPES = [(4, 3), (3, 2, 5), (2, 3, 2, 3)]
AFFINE = ["both", "none", "weight", "bias"]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_pytorch_in_float64(shape, affine, training):
    rng = np.random.default_rng(0)
    channels = shape[1]
    x, tx = pair(rng.standard_normal(shape) * 2 + 1)
    w, tw = pair(rng.standard_normal(channels)) if affine in ("both", "weight") else (None, None)
    b, tb = pair(rng.standard_normal(channels)) if affine in ("both", "bias") else (None, None)
    stats = rng.standard_normal(channels), rng.random(channels) + 0.5
    rm, rv = (tl.tensor(s.copy()) for s in stats)
    trm, trv = (torch.tensor(s.copy()) for s in stats)
    out = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.3, eps=1e-3)
    tout = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=0.3, eps=1e-3)
    assert op_name(out) == "BatchNorm"
    close(out, tout, "output")
    close(rm, trm, "running_mean"), close(rv, trv, "running_var")
    backward_both(out, tout)
    for name, ours, theirs in (("x", x, tx), ("weight", w, tw), ("bias", b, tb)):
        if ours is not None:
            close(ours.grad, theirs.grad, f"gradient of {name}")


def test_batch_norm_without_running_statistics_in_training():
    x, tx = pair(np.random.default_rng(2).standard_normal((5, 3)))
    out = F.batch_norm(x, None, None, training=True)
    tout = torch.nn.functional.batch_norm(tx, None, None, training=True)
    close(out, tout, "output")
    backward_both(out, tout)
    close(x.grad, tx.grad, "gradient of x")


@pytest.mark.parametrize("momentum", [None, 0.1])
def test_batch_norm_module_running_statistics_and_batch_count_match_pytorch(momentum):
    rng = np.random.default_rng(3)
    ours, theirs = tl.nn.BatchNorm1d(3, momentum=momentum).double(), torch.nn.BatchNorm1d(3, momentum=momentum).double()
    for step in range(3):
        x, tx = pair(rng.standard_normal((2, 3, 4)) + step)
        ours(x).sum().backward(), theirs(tx).sum().backward()
        close(x.grad, tx.grad, "gradient of x")
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        close(getattr(ours, name), getattr(theirs, name), name)
    close(ours.weight.grad, theirs.weight.grad, "weight.grad"), close(ours.bias.grad, theirs.bias.grad, "bias.grad")
    ours.eval(), theirs.eval()
    x, tx = pair(rng.standard_normal((2, 3, 4)))
    close(ours(x), theirs(tx), "evaluation output")


def test_batch_norm_in_float32_is_within_float32_rounding():
    rng = np.random.default_rng(4)
    x, tx = pair(rng.standard_normal((8, 4, 3)).astype(np.float32))
    w, tw = pair(rng.standard_normal(4).astype(np.float32))
    b, tb = pair(rng.standard_normal(4).astype(np.float32))
    out = F.batch_norm(x, None, None, w, b, training=True)
    tout = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True)
    assert op_name(out) == "BatchNorm"
    close(out, tout, "output", rtol=1e-5, atol=1e-5)
    backward_both(out, tout)
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        close(ours.grad, theirs.grad, "gradient", rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_passes_gradcheck(training):
    rng = np.random.default_rng(5)
    x = tl.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    w = tl.tensor(rng.standard_normal(2), requires_grad=True)
    b = tl.tensor(rng.standard_normal(2), requires_grad=True)
    rm, rv = tl.tensor(rng.standard_normal(2)), tl.tensor(rng.random(2) + 0.5)
    assert tl.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.0),
                                 (x, w, b))


# -------------------------------------------------------------------- layer norm
@pytest.mark.parametrize("shape, normalized", [((3, 4), (4,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("affine", AFFINE)
def test_layer_norm_matches_pytorch_in_float64(shape, normalized, affine):
    rng = np.random.default_rng(6)
    x, tx = pair(rng.standard_normal(shape) * 3 - 1)
    w, tw = pair(rng.standard_normal(normalized)) if affine in ("both", "weight") else (None, None)
    b, tb = pair(rng.standard_normal(normalized)) if affine in ("both", "bias") else (None, None)
    out = F.layer_norm(x, normalized, w, b, eps=1e-4)
    tout = torch.nn.functional.layer_norm(tx, normalized, tw, tb, eps=1e-4)
    assert op_name(out) == "LayerNorm"
    close(out, tout, "output")
    backward_both(out, tout)
    for name, ours, theirs in (("x", x, tx), ("weight", w, tw), ("bias", b, tb)):
        if ours is not None:
            close(ours.grad, theirs.grad, f"gradient of {name}")


def test_layer_norm_in_float32_is_within_float32_rounding_and_passes_gradcheck():
    rng = np.random.default_rng(7)
    x, tx = pair(rng.standard_normal((4, 6)).astype(np.float32))
    w, tw = pair(rng.standard_normal(6).astype(np.float32))
    out, tout = F.layer_norm(x, (6,), w), torch.nn.functional.layer_norm(tx, (6,), tw)
    close(out, tout, "output", rtol=1e-5, atol=1e-5)
    backward_both(out, tout)
    close(x.grad, tx.grad, "gradient of x", rtol=1e-4, atol=1e-5)
    close(w.grad, tw.grad, "gradient of weight", rtol=1e-4, atol=1e-5)
    x64 = tl.tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
    w64, b64 = (tl.tensor(rng.standard_normal((2, 3)), requires_grad=True) for _ in range(2))
    assert tl.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (x64, w64, b64))


# -------------------------------------------------------------------- in-place detection, as PyTorch
@pytest.mark.parametrize("which", ["batch_norm", "layer_norm"])
def test_an_input_or_weight_changed_in_place_is_refused_and_the_output_may_be(which):
    def run(library, change):
        x = library.ones(4, 3, requires_grad=True) * library.arange(12.0).reshape(4, 3)  # not a leaf
        w = library.ones(3, requires_grad=True) * 2
        f = library.nn.functional
        out = (f.batch_norm(x, None, None, w, training=True) if which == "batch_norm"
               else f.layer_norm(x, (3,), w))
        {"input": x, "weight": w, "output": out}[change].mul_(2) if change != "output" else out.relu_()
        out.sum().backward()

    for library in (torch, tl):
        for change in ("input", "weight"):
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                run(library, change)
        run(library, "output")  # relu_ after a normalisation, as in nn.ReLU(inplace=True)


# -------------------------------------------------------------------- cross-entropy and nll_loss
CE_SHAPES = [(5, 4), (3, 4, 2), (4,)]


def ce_case(shape, probabilities, ignore, weighted, seed=8):
    rng = np.random.default_rng(seed)
    classes = shape[0] if len(shape) == 1 else shape[1]
    logits = rng.standard_normal(shape) * 2
    if probabilities:
        p = rng.random(shape) + 0.1
        target = p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    else:
        target = rng.integers(0, classes, shape[:1] + shape[2:] if len(shape) > 1 else ())
        if ignore:
            target = np.where(rng.random(target.shape) < 0.4, -1, target)
            target.reshape(-1)[0] = 1  # at least one target counts
    weight = rng.random(classes) + 0.5 if weighted else None
    return logits, target, weight


def ce_tensors(logits, target, weight, library):
    x = library.tensor(logits.copy(), requires_grad=True)
    return x, library.tensor(target.copy()), None if weight is None else library.tensor(weight.copy())


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("target_kind", ["indices", "ignored indices", "probabilities"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_pytorch_in_float64(shape, target_kind, weighted, smoothing, reduction):
    arrays = ce_case(shape, target_kind == "probabilities", target_kind == "ignored indices", weighted)
    options = dict(reduction=reduction, label_smoothing=smoothing)
    if target_kind == "ignored indices":
        options["ignore_index"] = -1
    x, t, w = ce_tensors(*arrays, tl)
    tx, tt, tw = ce_tensors(*arrays, torch)
    out, tout = F.cross_entropy(x, t, w, **options), torch.nn.functional.cross_entropy(tx, tt, tw, **options)
    usual = target_kind != "probabilities" and (arrays[1] != -1).all() and reduction == "mean" and not weighted \
        and smoothing == 0  # NllLoss (after LogSoftmax), as PyTorch's graph has it; every other case is one op
    assert op_name(out) == ("NllLoss" if usual else "CrossEntropy")
    close(out, tout, "loss")
    backward_both(out, tout)
    close(x.grad, tx.grad, "gradient of the logits")


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_pytorch_in_float64(shape, ignore, weighted, reduction):
    logits, target, weight = ce_case(shape, False, ignore, weighted)
    logp = logits - np.log(np.exp(logits).sum(axis=0 if len(shape) == 1 else 1, keepdims=True))
    x, t, w = ce_tensors(logp, target, weight, tl)
    tx, tt, tw = ce_tensors(logp, target, weight, torch)
    out = F.nll_loss(x, t, w, ignore_index=-1, reduction=reduction)
    tout = torch.nn.functional.nll_loss(tx, tt, tw, ignore_index=-1, reduction=reduction)
    usual = (target != -1).all() and reduction == "mean" and not weighted
    assert op_name(out) == ("NllLoss" if usual else "CrossEntropy")
    close(out, tout, "loss")
    backward_both(out, tout)
    close(x.grad, tx.grad, "gradient of the log-probabilities")


def test_cross_entropy_with_label_smoothing_in_float32_and_by_gradcheck():
    logits, target, weight = ce_case((6, 5), False, True, True, seed=9)
    x, t, w = ce_tensors(logits.astype(np.float32), target, weight.astype(np.float32), tl)
    tx, tt, tw = ce_tensors(logits.astype(np.float32), target, weight.astype(np.float32), torch)
    out = F.cross_entropy(x, t, w, ignore_index=-1, label_smoothing=0.1)
    tout = torch.nn.functional.cross_entropy(tx, tt, tw, ignore_index=-1, label_smoothing=0.1)
    close(out, tout, "loss", rtol=1e-5, atol=1e-6)
    backward_both(out, tout)
    close(x.grad, tx.grad, "gradient", rtol=1e-4, atol=1e-6)
    x64, t, w = ce_tensors(logits, target, weight, tl)
    for reduction in ("mean", "none"):
        assert tl.autograd.gradcheck(lambda x, reduction=reduction: F.cross_entropy(
            x, t, w, ignore_index=-1, label_smoothing=0.1, reduction=reduction), (x64,))
    _, probabilities, _ = ce_case((6, 5), True, False, False)
    q = tl.tensor(probabilities)
    assert tl.autograd.gradcheck(lambda x: F.cross_entropy(x, q, w, label_smoothing=0.3), (x64,))
    assert tl.autograd.gradcheck(lambda x: F.nll_loss(x, t, w, ignore_index=-1, reduction="sum"), (x64,))


def test_cross_entropy_with_every_target_ignored_is_nan_with_a_zero_gradient_as_pytorch():
    for library in (tl, torch):
        x = library.zeros(3, 4, dtype=library.float64, requires_grad=True)
        loss = library.nn.functional.cross_entropy(x, library.tensor([-1, -1, -1]), ignore_index=-1,
                                                   label_smoothing=0.1)
        loss.backward()
        assert np.isnan(loss.item()) and not x.grad.numpy().any()


def test_logits_changed_in_place_after_cross_entropy_are_fine_as_in_pytorch():
    """log_softmax saves its output, not its input, in PyTorch: so does the fused op (the logits are not needed)."""
    for library in (tl, torch):
        x = library.ones(3, 4, dtype=library.float64, requires_grad=True) * 1.5
        loss = library.nn.functional.cross_entropy(x, library.tensor([0, 1, 2]), label_smoothing=0.1)
        x.mul_(2)
        loss.backward()


# -------------------------------------------------------------------- mse_loss
MSE_CASES = [((5, 3), (5, 3)), ((4,), (4,)), ((2, 3, 2), (2, 3, 2)), ((3, 1), (3,)), ((), ())]


@pytest.mark.parametrize("shapes", MSE_CASES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("target_grad", [False, True])
def test_mse_loss_is_one_op_and_matches_pytorch_in_float64(shapes, reduction, target_grad):
    rng = np.random.default_rng(11)
    x, tx = pair(rng.standard_normal(shapes[0]) * 3)
    y, ty = pair(rng.standard_normal(shapes[1]), requires_grad=target_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (3, 1) against (3,): both libraries warn that the shapes differ
        out = F.mse_loss(x, y, reduction=reduction)
        tout = torch.nn.functional.mse_loss(tx, ty, reduction=reduction)
    assert op_name(out) == "MseLoss"
    close(out, tout, "loss")
    backward_both(out, tout)
    close(x.grad, tx.grad, "gradient of the input")
    if target_grad:
        close(y.grad, ty.grad, "gradient of the target")
    else:
        assert y.grad is None


def test_mse_loss_in_float32_equals_the_three_ops_it_replaces_and_passes_gradcheck():
    """The same numbers as (x - y).square().mean(); the gradient in PyTorch's order (2/N)(x - y) g, which for
    g = 1 is the three ops' 2 ((1/N)(x - y)) exactly (scaling by 2 is exact)."""
    rng = np.random.default_rng(12)
    data, target = rng.standard_normal((64, 3)).astype(np.float32), rng.standard_normal((64, 3)).astype(np.float32)
    for reduction in ("mean", "sum"):
        fused_x, composed_x = tl.tensor(data, requires_grad=True), tl.tensor(data, requires_grad=True)
        fused = F.mse_loss(fused_x, tl.tensor(target), reduction=reduction)
        squares = (composed_x - tl.tensor(target)).square()
        composed = squares.mean() if reduction == "mean" else squares.sum()
        assert op_name(fused) == "MseLoss" and fused.item() == composed.item()
        fused.backward(), composed.backward()
        assert np.array_equal(fused_x.grad.numpy(), composed_x.grad.numpy()), reduction
        tx = torch.tensor(data, requires_grad=True)
        torch.nn.functional.mse_loss(tx, torch.tensor(target), reduction=reduction).backward()
        close(fused_x.grad, tx.grad, "float32 gradient", rtol=1e-6, atol=1e-7)
    x64 = tl.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    y64 = tl.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert tl.autograd.gradcheck(lambda x, y: F.mse_loss(x, y), (x64, y64))
    assert tl.autograd.gradcheck(lambda x, y: F.mse_loss(x, y, reduction="sum"), (x64, y64))


def test_mse_loss_keeps_the_separate_ops_where_the_fused_op_does_not_apply():
    """'none', per-element weights, mixed dtypes and float16 run as subtract, square (and mean), as before."""
    x = tl.ones(4, 2, requires_grad=True)
    y = tl.zeros(4, 2)
    assert op_name(F.mse_loss(x, y, reduction="none")) == "Mul"
    assert op_name(F.mse_loss(x, y, weight=tl.ones(4, 2))) == "Div"
    assert op_name(F.mse_loss(x, y.double())) == "Mean"
    assert op_name(F.mse_loss(x.half(), y.half())) == "Mean"


def test_mse_loss_refuses_an_input_or_target_changed_in_place_as_pytorch():
    """PyTorch's MseLossBackward0 saves both: changing either before backward is refused; so is it here."""
    for library in (torch, tl):
        for change in ("input", "target"):
            x = library.ones(4, 3, requires_grad=True) * 2  # not a leaf
            y = library.zeros(4, 3, requires_grad=True) * 1
            loss = library.nn.functional.mse_loss(x, y)
            {"input": x, "target": y}[change].add_(1)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                loss.backward()
