"""nn.utils.prune and nn.utils.fusion against PyTorch's: the masks each method chooses (iterated, structured,
global), the parameters, buffers and state_dict keys pruning leaves, training through a mask, remove, the
refusals; and batch norm folded into the layer before it, for every kind of layer."""
import importlib

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
W1, B1, W2 = (RNG.standard_normal(shape).astype(np.float32) for shape in ((6, 4), 6, (3, 6)))
X = RNG.standard_normal((5, 4)).astype(np.float32)


def model(lib):
    m = lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.ReLU(), lib.nn.Linear(6, 3))
    m.load_state_dict({"0.weight": lib.tensor(W1), "0.bias": lib.tensor(B1), "2.weight": lib.tensor(W2),
                       "2.bias": lib.zeros(3)})
    return m


def pruning_story(lib):
    """What a pruning tutorial does, and what it sees at each step."""
    prune = importlib.import_module(f"{lib.__name__}.nn.utils.prune")
    seen, m = {}, model(lib)
    optimizer = lib.optim.SGD(m.parameters(), lr=0.1)
    prune.l1_unstructured(m[0], "weight", amount=0.3)
    seen["names"] = sorted(m.state_dict()), [name for name, _ in m.named_parameters()], type(m[0].weight).__name__
    seen["mask"] = m[0].weight_mask.tolist()
    for _ in range(3):  # (the optimizer made before pruning trains weight_orig: the same Parameter)
        optimizer.zero_grad()
        loss = m(lib.tensor(X)).square().mean()
        loss.backward()
        optimizer.step()
    seen["trained"] = round(loss.item(), 5), np.round(m[0].weight.detach().numpy(), 5).tolist()
    prune.l1_unstructured(m[0], "weight", amount=2)  # (2 more, among the weights still there)
    seen["again"] = m[0].weight_mask.tolist(), [type(h).__name__ for h in m[0]._forward_pre_hooks.values()]
    prune.ln_structured(m[0], "weight", amount=0.5, n=2, dim=0)
    prune.ln_structured(m[2], "weight", amount=1, n=1, dim=1)
    prune.ln_structured(m[2], "weight", amount=2, n=float("inf"), dim=-1)
    seen["structured"] = m[0].weight_mask.tolist(), m[2].weight_mask.tolist()
    prune.remove(m[2], "weight")
    seen["removed"] = (sorted(m[2].state_dict()), type(m[2].weight).__name__, prune.is_pruned(m[2]),
                       any(p is m[2].weight for p in optimizer.param_groups[0]["params"]))
    other = model(lib)
    parameters = [(other[0], "weight"), (other[2], "weight")]
    prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=10)
    prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=0.2)
    seen["global"] = other[0].weight_mask.tolist(), other[2].weight_mask.tolist()
    prune.custom_from_mask(other[0], "bias", mask=lib.tensor([0.0, 1, 1, 0, 1, 1]))
    prune.l1_unstructured(other[2], "bias", amount=1, importance_scores=lib.tensor([3.0, 1.0, 2.0]))
    seen["custom"] = np.round(other[0].bias.detach().numpy(), 5).tolist(), other[2].bias_mask.tolist()
    prune.random_unstructured(other[0], "weight", amount=0.5)
    prune.random_structured(other[2], "weight", amount=2, dim=1)
    seen["random counts"] = int(other[0].weight_mask.sum()), other[2].weight_mask.sum(0).tolist().count(0)
    seen["prune()"] = prune.L1Unstructured(amount=3).prune(lib.tensor(W1)).tolist()
    loaded = model(lib)
    prune.identity(loaded[0], "weight")
    loaded.load_state_dict(model_pruned(lib, prune).state_dict())
    loaded(lib.tensor(X))
    seen["loaded"] = np.round(loaded[0].weight.detach().numpy(), 5).tolist()
    return seen


def model_pruned(lib, prune):
    m = model(lib)
    prune.l1_unstructured(m[0], "weight", amount=0.5)
    return m


def test_pruning_chooses_and_trains_as_pytorchs():
    ours, theirs = pruning_story(tl), pruning_story(torch)
    for key in theirs:
        assert ours[key] == theirs[key], key


@pytest.mark.parametrize("mistake", [
    lambda prune, m: prune.l1_unstructured(m[0], "weight", amount=1.5),
    lambda prune, m: prune.l1_unstructured(m[0], "weight", amount=-1),
    lambda prune, m: prune.l1_unstructured(m[0], "weight", amount="a"),
    lambda prune, m: prune.l1_unstructured(m[0], "weight", amount=25),
    lambda prune, m: prune.ln_structured(m[0], "bias", amount=1, n=2, dim=0),
    lambda prune, m: prune.ln_structured(m[0], "weight", amount=1, n=2, dim=2),
    lambda prune, m: prune.remove(m[0], "weight"),
    lambda prune, m: prune.global_unstructured([(m[0], "weight")], pruning_method=prune.LnStructured, amount=1, n=2,
                                               dim=0),
    lambda prune, m: prune.l1_unstructured(m[0], "bias", amount=1, importance_scores=m[0].weight)])
def test_pruning_refuses_what_pytorchs_refuses_and_leaves_the_module_as_it_was(mistake):
    errors = []
    for lib in (tl, torch):
        m = model(lib)
        with pytest.raises((ValueError, TypeError, IndexError, AssertionError)) as error:
            mistake(importlib.import_module(f"{lib.__name__}.nn.utils.prune"), m)
        assert sorted(m.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight"]
        errors.append(type(error.value))
    assert errors[0] == errors[1] or errors[1] is AssertionError  # (PyTorch asserts a scores' shape)


@pytest.mark.parametrize("kind", ["conv1d", "conv2d without bias", "transposed conv2d", "conv3d",
                                  "batch norm without affine", "linear", "linear, one feature"])
def test_fusion_computes_what_the_two_layers_did(kind):
    rng = np.random.default_rng(1)
    layers = {"conv1d": ("Conv1d(3, 4, 3)", "BatchNorm1d(4)", (2, 3, 8)),
              "conv2d without bias": ("Conv2d(3, 4, 3, bias=False)", "BatchNorm2d(4)", (2, 3, 6, 6)),
              "transposed conv2d": ("ConvTranspose2d(3, 4, 3)", "BatchNorm2d(4)", (2, 3, 5, 5)),
              "conv3d": ("Conv3d(2, 4, 2)", "BatchNorm3d(4)", (2, 2, 4, 4, 4)),
              "batch norm without affine": ("Conv2d(3, 4, 3)", "BatchNorm2d(4, affine=False)", (2, 3, 6, 6)),
              "linear": ("Linear(5, 4)", "BatchNorm1d(4)", (6, 5)),
              "linear, one feature": ("Linear(5, 4)", "BatchNorm1d(1)", (6, 1, 5))}
    layer_code, bn_code, shape = layers[kind]
    states, results = None, []
    for lib in (tl, torch):
        layer, bn = eval(f"lib.nn.{layer_code}"), eval(f"lib.nn.{bn_code}")  # (the table above)
        if states is None:  # (random numbers for every float, positive variances)
            states = [{key: np.abs(value) + 0.5 if "var" in key else value for key, value in
                       ((key, rng.standard_normal(tuple(v.shape)).astype(np.float32)) for key, v in
                        module.state_dict().items() if v.dtype == lib.float32)} for module in (layer, bn)]
            x = rng.standard_normal(shape).astype(np.float32)
        for module, state in zip((layer, bn), states):
            module.load_state_dict({k: lib.tensor(state[k]) if k in state else v
                                    for k, v in module.state_dict().items()})
        layer.eval(), bn.eval()
        fuse = lib.nn.utils.fuse_linear_bn_eval if kind.startswith("linear") else lib.nn.utils.fuse_conv_bn_eval
        fused = fuse(layer, bn, **({} if kind.startswith("linear") else {"transpose": kind.startswith("trans")}))
        expected = bn(layer(lib.tensor(x))).detach().numpy()
        np.testing.assert_allclose(fused(lib.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-5)
        assert fused is not layer and fused.weight.is_leaf and fused.weight.requires_grad
        results.append(fused.weight.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_fusion_refuses_training_mode_and_mismatched_sizes():
    for lib in (tl, torch):
        with pytest.raises(AssertionError, match="Fusion only for eval"):
            lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(5, 4), lib.nn.BatchNorm1d(4))
        with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
            lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(5, 4).eval(), lib.nn.BatchNorm1d(3).eval())
