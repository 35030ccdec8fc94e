"""tinygrad_lite.nn against torch.nn: module bookkeeping, layers (forward and gradients from identical weights),
BatchNorm statistics, Dropout statistics, initialisation, reprs and error messages."""
import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tinygrad_lite as tl
import tinygrad_lite.nn as nn
import tinygrad_lite.nn.functional as F

tnn, TF = torch.nn, torch.nn.functional
RTOL = 1e-8


# -------------------------------------------------------------------- helpers
def arr(t):
    """The numbers of one of our tensors or a torch tensor, as numpy."""
    return t.detach().numpy()


def close(ours, theirs, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(arr(ours), arr(theirs), rtol=rtol, atol=atol)


def pair(data, requires_grad=True):
    """The same float64 numbers as our tensor and as a torch tensor."""
    data = np.asarray(data, dtype=np.float64)
    return tl.tensor(data, requires_grad=requires_grad), torch.tensor(data, requires_grad=requires_grad)


def twin(ours, theirs):
    """Give our layer the torch layer's weights, both in float64."""
    theirs.double()
    ours.double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def run_both(ours, theirs, shape, seed=0):
    """Forward both layers on the same input, backward the same random upstream gradient; return the inputs/outputs."""
    r = np.random.default_rng(seed)
    x, xt = pair(r.standard_normal(shape))
    y, yt = ours(x), theirs(xt)
    g = r.standard_normal(tuple(yt.shape))
    y.backward(tl.tensor(g))
    yt.backward(torch.tensor(g))
    return x, xt, y, yt


def assert_same_grads(ours, theirs):
    for (name, p), (name_t, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t
        close(p.grad, pt.grad)


def build_net(lib):
    """The same architecture written against tinygrad_lite or torch (``lib`` is the library)."""
    nn_ = lib.nn

    class Block(nn_.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn_.Linear(4, 4)
            self.bn = nn_.BatchNorm1d(4)
            self.drop = nn_.Dropout(0.2)

        def forward(self, x):
            return self.drop(self.bn(self.fc(x)).relu())

    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn_.Parameter(lib.ones(1))
            self.features = nn_.Sequential(nn_.Linear(3, 4), nn_.ReLU(), Block())
            self.heads = nn_.ModuleDict({"cls": nn_.Linear(4, 2), "reg": nn_.Linear(4, 1, bias=False)})
            self.extra = nn_.ModuleList([nn_.Linear(4, 4), nn_.Tanh(), nn_.Linear(4, 4)])
            self.register_buffer("offset", lib.zeros(2))
            self.register_buffer("scratch", lib.zeros(3), persistent=False)

        def forward(self, x):
            h = self.features(x)
            for layer in self.extra:
                h = layer(h)
            return self.heads["cls"](h) * self.scale + self.offset

    return Net()


@pytest.fixture
def nets():
    return build_net(tl), build_net(torch)


# -------------------------------------------------------------------- Parameter
def test_parameter_requires_grad_and_repr_like_pytorch():
    p = nn.Parameter(tl.ones(2))
    assert isinstance(p, tl.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert repr(p) == repr(tnn.Parameter(torch.ones(2)))
    frozen = nn.Parameter(tl.ones(2), requires_grad=False)
    assert not frozen.requires_grad
    assert repr(frozen) == repr(tnn.Parameter(torch.ones(2), requires_grad=False))


def test_parameter_shares_memory_and_ops_give_plain_tensors():
    t = tl.zeros(3)
    p = nn.Parameter(t)
    with tl.no_grad():
        p.add_(1.0)
    assert t.tolist() == [1.0, 1.0, 1.0]
    assert type(p * 2) is tl.Tensor and type(p.detach()) is tl.Tensor
    assert nn.Parameter().shape == (0,)


def test_parameter_needs_a_tensor():
    with pytest.raises(TypeError, match=r"nn.Parameter\(torch.tensor"):
        nn.Parameter(np.ones(3))


# -------------------------------------------------------------------- names and state_dict keys equal PyTorch's
def test_named_parameters_buffers_and_modules_match_pytorch(nets):
    ours, theirs = nets
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_parameters(prefix="model")] == \
           [n for n, _ in theirs.named_parameters(prefix="model")]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]
    assert len(list(ours.parameters(recurse=False))) == 1


def test_state_dict_keys_match_pytorch_including_batchnorm_buffers(nets):
    ours, theirs = nets
    sd = ours.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == list(theirs.state_dict())
    assert "features.2.bn.num_batches_tracked" in sd and "scratch" not in sd  # non-persistent buffers are left out
    assert sd["features.2.bn.num_batches_tracked"].dtype is tl.int64
    assert sd["features.2.bn.num_batches_tracked"].shape == ()
    assert all(not v.requires_grad for v in sd.values())


def test_state_dict_of_a_sequential_matches_pytorch():
    ours = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 2))
    theirs = tnn.Sequential(tnn.Linear(4, 3), tnn.ReLU(), tnn.BatchNorm1d(3), tnn.Linear(3, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var", "2.num_batches_tracked",
        "3.weight", "3.bias"]


def test_state_dict_values_are_detached_and_share_memory():
    layer = nn.Linear(2, 2)
    sd = layer.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"].is_leaf
    sd["weight"].fill_(7.0)  # shares memory, as in PyTorch
    assert layer.weight.detach().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert layer.state_dict(keep_vars=True)["weight"] is layer.weight


def test_tied_parameters_listed_once_but_saved_under_both_names():
    def tied(nn_):
        model = nn_.Sequential(nn_.Linear(3, 3), nn_.Linear(3, 3))
        model[1].weight = model[0].weight
        return model
    ours, theirs = tied(nn), tied(tnn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(list(ours.parameters())) == 3
    assert list(ours.state_dict()) == list(theirs.state_dict())


# -------------------------------------------------------------------- load_state_dict
def test_load_state_dict_from_a_torch_model_gives_the_same_outputs(nets):
    ours, theirs = nets
    theirs.train()
    theirs(torch.randn(8, 3))  # move BatchNorm's running statistics away from their initial values
    result = ours.load_state_dict(theirs.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert ours.features[2].bn.num_batches_tracked.item() == 1
    assert ours.features[0].weight.dtype is tl.float32  # our dtype is kept
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(arr(ours(tl.tensor(x))), arr(theirs(torch.tensor(x))), rtol=1e-5, atol=1e-6)


def test_load_state_dict_copies_in_place_and_casts_to_our_dtype():
    layer = nn.Linear(2, 2)
    weight = layer.weight
    layer.load_state_dict({"weight": np.eye(2), "bias": [1, 2]})  # numpy float64 and a list of ints
    assert layer.weight is weight and weight.dtype is tl.float32 and weight.requires_grad
    assert weight.tolist() == [[1.0, 0.0], [0.0, 1.0]] and layer.bias.tolist() == [1.0, 2.0]
    other = nn.Linear(2, 2)
    other.load_state_dict(layer.state_dict())
    assert other.weight.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    layer.weight.detach().fill_(5.0)
    assert other.weight.tolist() == [[1.0, 0.0], [0.0, 1.0]]  # copied, not shared


def test_load_state_dict_strict_lists_missing_and_unexpected_keys():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    sd = model.state_dict()
    del sd["2.bias"]
    sd["2.extra"] = tl.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(sd)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "2.bias".' in message
    assert 'Unexpected key(s) in state_dict: "2.extra".' in message
    assert "strict=False" in message
    # the same mistake in PyTorch gives the same lines
    theirs = tnn.Sequential(tnn.Linear(4, 3), tnn.ReLU(), tnn.Linear(3, 2))
    sd_t = theirs.state_dict()
    del sd_t["2.bias"]
    sd_t["2.extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError) as info_t:
        theirs.load_state_dict(sd_t)
    assert str(info_t.value) in message


def test_load_state_dict_non_strict_loads_what_matches():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    result = model.load_state_dict({"0.weight": np.ones((2, 2)), "head.weight": np.ones(1)}, strict=False)
    assert result.missing_keys == ["0.bias", "1.weight", "1.bias"]
    assert result.unexpected_keys == ["head.weight"]
    assert result == (["0.bias", "1.weight", "1.bias"], ["head.weight"])
    assert model[0].weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_a_batch_norm_checkpoint_without_its_batch_count_loads_and_keeps_the_modules_count():
    """Checkpoints from before PyTorch 0.4.1, and dicts rebuilt key by key, lack num_batches_tracked: PyTorch's
    batch norm keeps its own count then (not a missing key, strict or not), and so does ours."""
    results = []
    for T in (torch, tl):
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Linear(2, 3), T.nn.BatchNorm1d(3))
        model(T.ones(4, 2))
        old = {key: value for key, value in model.state_dict().items() if "num_batches" not in key}
        results.append((tuple(model.load_state_dict(old)), tuple(model.load_state_dict(old, strict=False)),
                        int(model[1].num_batches_tracked)))
    assert results[1] == results[0] == (([], []), ([], []), 1)


def test_load_state_dict_size_mismatch_names_key_and_both_shapes_and_changes_nothing():
    model = nn.Sequential(nn.Linear(5, 3), nn.Linear(3, 2))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    source = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)).state_dict()
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"size mismatch for 0\.weight: copying a param with shape \(3, 4\) "
                                               r"from checkpoint, the shape in current model is \(3, 5\)"):
            model.load_state_dict(source, strict=strict)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])  # nothing was copied


def test_load_state_dict_wants_a_mapping():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"model.state_dict\(\)"):
        model.load_state_dict(nn.Linear(2, 2))


def test_load_state_dict_with_assign_puts_the_tensors_themselves_in_the_model_as_pytorch():
    """Issue 34, item 16: ``assign=True`` keeps the state_dict's tensors (their dtype, their memory); a parameter stays
    a Parameter with its own requires_grad; a value that is not a tensor of the library is an error."""
    def scenario(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        model[0].weight.requires_grad_(False)
        state = {key: lib.ones(value.shape, dtype=lib.float64) for key, value in model.state_dict().items()}
        state["1.num_batches_tracked"] = lib.tensor(5)
        result = model.load_state_dict(state, assign=True)
        state["0.bias"].fill_(7.0)  # the model's bias is this very memory now
        numpy_values = {key: value.numpy() for key, value in state.items()}
        with pytest.raises(RuntimeError, match="0.weight"):
            model.load_state_dict(numpy_values, assign=True)
        return (list(result.missing_keys), type(model[0].weight).__name__, str(model[0].weight.dtype).split(".")[-1],
                model[0].weight.requires_grad, model[0].bias.requires_grad, model[0].bias.tolist(),
                type(model[1].running_mean).__name__, model[1].num_batches_tracked.item(),
                [name for name, _ in model.named_parameters()])

    assert scenario(tl) == scenario(torch)


def test_get_submodule_follows_the_dotted_names_of_named_modules_as_pytorch():
    def scenario(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(2, 1)))
        found = [type(model.get_submodule(name)).__name__ for name, _ in model.named_modules()]
        assert model.get_submodule("") is model and model.get_submodule("1.1") is model[1][1]
        errors = []
        for target in ("2", "0.weight", "1.x.y"):
            with pytest.raises(AttributeError) as info:
                model.get_submodule(target)
            errors.append(str(info.value).split(" (get_submodule")[0])
        return found, errors

    assert scenario(tl) == scenario(torch)
    with pytest.raises(TypeError, match="get_submodule: target must be a dotted path"):
        nn.Linear(2, 2).get_submodule(3)


def test_torch_can_load_our_state_dict():
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    theirs = tnn.Sequential(tnn.Linear(3, 2), tnn.BatchNorm1d(2))
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    close(ours[0].weight, theirs[0].weight)


# -------------------------------------------------------------------- registration rules
def test_attribute_assignment_registers_parameters_modules_and_buffers():
    m = nn.Module()
    m.w = nn.Parameter(tl.ones(2))
    m.child = nn.Linear(2, 2)
    m.register_buffer("stat", tl.zeros(2))
    m.note = "plain attribute"
    m.t = tl.zeros(1)  # a plain tensor is a plain attribute, not a buffer
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"] and list(m._buffers) == ["stat"]
    assert m.note == "plain attribute" and list(m.state_dict()) == ["w", "stat", "child.weight", "child.bias"]
    m.stat = tl.ones(2)  # replacing a buffer keeps it a buffer
    assert m.state_dict()["stat"].tolist() == [1.0, 1.0]
    m.w = None
    assert "w" not in m.state_dict()
    del m.child
    assert list(m._modules) == [] and not hasattr(m, "child")
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        _ = m.nothing


def test_assigning_a_plain_tensor_to_a_parameter_says_how_to_fix_it():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"nn.Parameter.*copy_"):
        layer.weight = tl.zeros(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter"):
        layer.register_parameter("extra", tl.zeros(2))


def test_register_names_are_checked():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", tl.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("train", nn.Parameter(tl.zeros(1)))
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("b", [1, 2])
    m.register_buffer("stat", tl.zeros(1))
    with pytest.raises(KeyError, match="'stat' already exists"):
        m.register_parameter("stat", nn.Parameter(tl.zeros(1)))
    m.stat = nn.Parameter(tl.ones(1))  # assignment replaces, as in PyTorch
    assert list(m._parameters) == ["stat"] and list(m._buffers) == []


def test_forgetting_super_init_is_explained():
    class Net(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Net()


def test_a_class_or_a_list_instead_of_a_module_is_explained():
    with pytest.raises(TypeError, match=r"did you mean ReLU\(\)"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)
    with pytest.raises(TypeError, match=r"nn.Sequential\(\*layers\)"):
        nn.Sequential([nn.Linear(2, 2), nn.ReLU()])


def test_missing_forward_is_explained():
    class Net(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        Net()(tl.zeros(1))


def test_deepcopy_gives_an_independent_model():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    clone = copy.deepcopy(model)
    assert list(clone.state_dict()) == list(model.state_dict())
    assert clone[0].weight is not model[0].weight and isinstance(clone[0].weight, nn.Parameter)
    with tl.no_grad():
        clone[0].weight.fill_(0.0)
    assert model[0].weight.abs().sum().item() > 0


def test_deepcopy_drops_a_parameters_grad_and_every_tensors_hooks_as_pytorchs():
    """PyTorch 2.13: a Parameter's copy has neither .grad nor hooks; a plain tensor's copy keeps .grad, not hooks
    (ours kept both: a deep-copied model came with the old gradients and hooks; issue 34, item 16)."""
    def scenario(lib):
        model = lib.nn.Linear(2, 1)
        model(lib.ones(1, 2)).sum().backward()
        model.weight.register_hook(lambda g: g * 10)
        plain = lib.tensor([1.0, 2.0], requires_grad=True)
        (plain * 3).sum().backward()
        plain.register_hook(lambda g: g * 10)
        model_copy, plain_copy = copy.deepcopy(model), copy.deepcopy(plain)
        seen = [model_copy.weight.grad, model_copy.bias.grad, plain_copy.grad.tolist(),
                type(model_copy.weight).__name__, model_copy.weight.requires_grad]
        model_copy(lib.ones(1, 2)).sum().backward()
        plain_copy.grad = None
        (plain_copy * 1).sum().backward()
        return seen + [model_copy.weight.grad.tolist(), plain_copy.grad.tolist(), model.weight.grad.tolist()]

    assert scenario(tl) == scenario(torch) == [None, None, [3.0, 3.0], "Parameter", True, [[1.0, 1.0]], [1.0, 1.0],
                                               [[1.0, 1.0]]]


# -------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_and_editing_like_pytorch():
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid())
    theirs = tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 1), tnn.Sigmoid())
    assert len(ours) == 4 and isinstance(ours[1], nn.ReLU) and ours[-1] is ours[3]
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    part = ours[1:3]
    assert isinstance(part, nn.Sequential) and part[0] is ours[1]
    assert repr(part) == repr(theirs[1:3])  # the slice keeps the names "1", "2"
    assert repr(ours[::2]) == repr(theirs[::2])
    with pytest.raises(IndexError, match="out of range"):
        ours[4]
    for model, nn_ in ((ours, nn), (theirs, tnn)):
        assert model.append(nn_.Tanh()) is model
        model.insert(1, nn_.Identity())
        del model[0]  # the rest are renumbered from "0"
        model[0] = nn_.Linear(3, 1)
        del model[-2:]
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_sequential_from_an_ordered_dict_keeps_names():
    layers = OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh())
    model = nn.Sequential(layers)
    assert list(model.state_dict()) == ["fc.weight", "fc.bias"]
    assert model.fc is layers["fc"] and model[1] is layers["act"]
    theirs = tnn.Sequential(OrderedDict(fc=tnn.Linear(2, 2), act=tnn.Tanh()))
    assert repr(model) == repr(theirs)


def test_sequential_forward_chains_layers():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = tl.randn(5, 3)
    np.testing.assert_allclose(arr(model(x)), arr(model[2](model[1](model[0](x)))), rtol=1e-6)
    model.extend([nn.Sigmoid()])
    assert isinstance(model[-1], nn.Sigmoid)


def test_module_list_like_pytorch():
    ours = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    theirs = tnn.ModuleList([tnn.Linear(2, 2), tnn.Linear(2, 2), tnn.ReLU()])
    assert repr(ours) == repr(theirs)  # "(0-1): 2 x Linear(...)"
    ours += [nn.Tanh()]
    ours.append(nn.Linear(2, 2))
    ours.insert(0, nn.Sigmoid())
    theirs += [tnn.Tanh()]
    theirs.append(tnn.Linear(2, 2))
    theirs.insert(0, tnn.Sigmoid())
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours[-1], nn.Linear) and len(ours[1:3]) == 2 and isinstance(ours[1:3], nn.ModuleList)
    del ours[0]
    del theirs[0]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList()) == "ModuleList()"
    with pytest.raises(NotImplementedError, match="Loop over it"):
        ours(tl.zeros(2))
    with pytest.raises(TypeError, match="append"):
        ours.extend(nn.Linear(2, 2))


def test_module_dict_like_pytorch():
    ours = nn.ModuleDict({"enc": nn.Linear(3, 2), "act": nn.ReLU()})
    theirs = tnn.ModuleDict({"enc": tnn.Linear(3, 2), "act": tnn.ReLU()})
    ours["head"] = nn.Linear(2, 1)
    theirs["head"] = tnn.Linear(2, 1)
    ours.update([("out", nn.Sigmoid())])
    theirs.update([("out", tnn.Sigmoid())])
    assert repr(ours) == repr(theirs)
    assert list(ours) == list(ours.keys()) == ["enc", "act", "head", "out"]
    assert "enc" in ours and len(ours) == 4 and isinstance(ours["head"], nn.Linear)
    assert [k for k, _ in ours.items()] == list(ours.keys()) and len(list(ours.values())) == 4
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.pop("act"), nn.ReLU) and "act" not in ours
    del ours["out"]
    assert list(ours) == ["enc", "head"]
    ours.clear()
    assert len(ours) == 0


# -------------------------------------------------------------------- modes, gradients, conversion
def test_train_and_eval_propagate_and_return_self(nets):
    ours, _ = nets
    assert ours.training and all(m.training for m in ours.modules())
    assert ours.eval() is ours
    assert not any(m.training for m in ours.modules())
    assert ours.train() is ours and all(m.training for m in ours.modules())
    ours.features.eval()
    assert ours.training and not ours.features[2].bn.training
    with pytest.raises(ValueError, match="boolean"):
        ours.train("yes")


def test_zero_grad_sets_to_none_or_zero():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model(tl.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and p.grad.abs().sum().item() == 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_float64_keeps_the_parameter_objects():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model(tl.randn(4, 3)).sum().backward()
    params = list(model.parameters())
    assert model.to(tl.float64) is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(p.dtype is tl.float64 and p.grad.dtype is tl.float64 and p.requires_grad for p in params)
    assert isinstance(model[0].weight, nn.Parameter) and model[0].weight.is_leaf
    assert model[1].running_mean.dtype is tl.float64
    assert model[1].num_batches_tracked.dtype is tl.int64  # integer buffers keep their type
    assert model(tl.randn(4, 3, dtype=tl.float64)).dtype is tl.float64
    model.float()
    assert all(p.dtype is tl.float32 for p in params) and model[1].running_var.dtype is tl.float32
    model.double()
    assert all(p.dtype is tl.float64 for p in params)
    model.to(tl.zeros(1))  # to(tensor) takes its dtype (and device)
    assert all(p.dtype is tl.float32 for p in params)
    assert model.to("cpu") is model and model.cpu() is model and model.to(device="cpu", dtype=tl.float32) is model
    with pytest.raises(TypeError, match=r"floating point.*model.float\(\)"):
        model.to(tl.int64)


def test_requires_grad_and_apply(nets):
    ours, theirs = nets
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())
    assert ours.requires_grad_() is ours and all(p.requires_grad for p in ours.parameters())
    seen_ours, seen_theirs = [], []
    assert ours.apply(lambda m: seen_ours.append(type(m).__name__)) is ours
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs  # children first, then the module itself

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
    ours.apply(init_linear)
    assert ours.features[0].weight.abs().sum().item() == 0


def parameter_containers(lib, which):
    """A ParameterList or ParameterDict built the same way from ``lib`` (our library or torch)."""
    zeros, P = lib.zeros, lib.nn.Parameter
    return {
        "list": lambda: lib.nn.ParameterList([P(zeros(8)), P(zeros(6, 12)), zeros(3)]),  # a tensor becomes a Parameter
        "list of dtypes": lambda: lib.nn.ParameterList([P(zeros(2, 3, dtype=lib.float64)), P(zeros((), dtype=lib.int64),
                                                                                              requires_grad=False)]),
        "one-line list": lambda: lib.nn.ParameterList([P(zeros(4, 1, 2))]),
        "empty list": lambda: lib.nn.ParameterList(),
        "dict": lambda: lib.nn.ParameterDict({"a": P(zeros(8)), "b": zeros(6, 12)}),
        "unsorted dict": lambda: lib.nn.ParameterDict({"s": P(lib.tensor(1.0)), "i": P(zeros(2, dtype=lib.float16))}),
        "ordered dict": lambda: lib.nn.ParameterDict(OrderedDict(s=P(zeros(1)), i=P(zeros(2, dtype=lib.float64)))),
        "pairs": lambda: lib.nn.ParameterDict([("z", P(zeros(2))), ("a", P(zeros(3, dtype=lib.int32),
                                                                           requires_grad=False))]),
        "empty dict": lambda: lib.nn.ParameterDict(),
    }[which]()


@pytest.mark.parametrize("which", ["list", "list of dtypes", "one-line list", "empty list", "dict", "unsorted dict",
                                   "ordered dict", "pairs", "empty dict"])
def test_parameter_list_and_dict_reprs_equal_pytorchs(which):
    """PyTorch's text: "(0): Parameter containing: [torch.float32 of size 6x12]", four deep; ParameterDict names
    the legacy type ("torch.FloatTensor") where ParameterList names the dtype. Ours says "tinygrad_lite." where
    PyTorch says "torch." (our dtypes and FloatTensor are named so); a plain dict's keys go in sorted, as in PyTorch."""
    ours, theirs = parameter_containers(tl, which), parameter_containers(torch, which)
    assert repr(ours).replace("tinygrad_lite.", "torch.") == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())

    class Holder(nn.Module):  # nested in a model: the lines sit six deep
        def __init__(self):
            super().__init__()
            self.held = ours

    class TheirHolder(tnn.Module):
        def __init__(self):
            super().__init__()
            self.held = theirs
    assert repr(Holder()).replace("Holder", "X").replace("tinygrad_lite.", "torch.") == \
           repr(TheirHolder()).replace("TheirHolder", "X")


def test_parameter_list_and_dict_reprs_name_the_gpu():
    """On the GPU PyTorch adds the device: "[torch.float32 of size 2x3 (cuda:0)]" (checked on the stand-in GPU).
    ParameterDict's type name is our ``x.type()``, "tinygrad_lite.cuda.FloatTensor" there, as PyTorch's
    "torch.cuda.FloatTensor"."""
    from fake_cupy import FakeCuPy
    with FakeCuPy().install():
        weights = nn.ParameterList([nn.Parameter(tl.zeros(2, 3, device="cuda")), nn.Parameter(tl.zeros(1))])
        gains = nn.ParameterDict({"g": tl.zeros(4, device="cuda")})
        assert repr(weights) == ("ParameterList(\n"
                                 "    (0): Parameter containing: [tinygrad_lite.float32 of size 2x3 (cuda:0)]\n"
                                 "    (1): Parameter containing: [tinygrad_lite.float32 of size 1]\n)")
        assert repr(gains) == ("ParameterDict(  (g): Parameter containing: "
                               "[tinygrad_lite.cuda.FloatTensor of size 4 (cuda:0)])")


@pytest.mark.parametrize("view", ["keys", "values", "items"])
def test_module_dict_views_print_as_pytorchs(view):
    """Plain dict views, as PyTorch's (its ``_modules`` is a dict): dict_keys(['enc', 'act']), not odict_keys."""
    ours = nn.ModuleDict({"enc": nn.Linear(3, 2), "act": nn.ReLU()})
    theirs = tnn.ModuleDict({"enc": tnn.Linear(3, 2), "act": tnn.ReLU()})
    got = getattr(ours, view)()
    assert repr(got) == repr(getattr(theirs, view)())
    ours["head"] = nn.Sigmoid()  # a live view, as PyTorch's
    assert len(got) == 3 and repr(ours.keys()) == "dict_keys(['enc', 'act', 'head'])"
    copied = copy.deepcopy(ours)
    assert repr(copied.keys()) == repr(ours.keys()) and list(copied.state_dict()) == list(ours.state_dict())


def test_parameter_dict_views():
    """keys() is dict_keys, as in PyTorch; values() and items() are live dict views too (PyTorch's are one-pass
    generators, which a view can stand in for: it is iterable, and also countable and printable)."""
    ours = nn.ParameterDict({"shift": tl.zeros(3), "scale": nn.Parameter(tl.ones(3))})
    theirs = tnn.ParameterDict({"shift": torch.zeros(3), "scale": tnn.Parameter(torch.ones(3))})
    assert repr(ours.keys()) == repr(theirs.keys()) == "dict_keys(['scale', 'shift'])"
    assert [k for k, _ in ours.items()] == [k for k, _ in theirs.items()]
    assert [p.tolist() for p in ours.values()] == [p.tolist() for p in theirs.values()]
    assert repr(ours.values()).startswith("dict_values([Parameter containing:")
    ours["bias"] = tl.zeros(1)
    assert list(ours.keys()) == ["scale", "shift", "bias"]  # added later: at the end, as in PyTorch


def test_parameter_dict_copies_merges_and_pops_as_pytorchs():
    for lib in (tl, torch):
        made = lib.nn.ParameterDict({"b": lib.zeros(1), "a": lib.ones(2)})
        copied = made.copy()
        assert type(copied) is type(made) and list(copied) == ["a", "b"] and copied["a"] is made["a"]
        assert copied.popitem()[0] == "b" and list(copied) == ["a"] and list(made) == ["a", "b"]
        assert list(made.fromkeys(["x", "y"], lib.ones(1))) == ["x", "y"]
        merged = made | lib.nn.ParameterDict([("c", lib.ones(3))])
        assert type(merged) is type(made) and list(merged) == ["a", "b", "c"] and list(made) == ["a", "b"]
        assert type({"z": lib.ones(1)} | made) is dict  # (a dict on the left stays a dict, as in PyTorch)
        made |= {"d": lib.ones(1)}
        assert list(made) == ["a", "b", "d"] and made.pop(key="a").shape == (2,)


def test_repr_of_a_nested_model_equals_pytorchs(nets):
    ours, theirs = nets
    assert repr(ours) == repr(theirs)
    assert repr(nn.Sequential(nn.Linear(4, 3), nn.ReLU())) == \
           "Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n  (1): ReLU()\n)"


@pytest.mark.parametrize("make", [
    lambda nn_: nn_.Linear(3, 2, bias=False), lambda nn_: nn_.Identity(), lambda nn_: nn_.ReLU(inplace=True),
    lambda nn_: nn_.LeakyReLU(0.2), lambda nn_: nn_.LeakyReLU(0.1, inplace=True), lambda nn_: nn_.GELU("tanh"),
    lambda nn_: nn_.Softmax(dim=-1), lambda nn_: nn_.LogSoftmax(), lambda nn_: nn_.Flatten(0, 2),
    lambda nn_: nn_.Dropout(0.25), lambda nn_: nn_.BatchNorm1d(7, eps=1e-3, momentum=None, affine=False),
    lambda nn_: nn_.BatchNorm1d(2, track_running_stats=False, bias=False),
    lambda nn_: nn_.Sequential(nn_.Linear(4, 3), nn_.Sequential(nn_.ReLU(), nn_.Dropout(0.1)), nn_.Linear(3, 1)),
    lambda nn_: nn_.Sequential(), lambda nn_: nn_.ModuleDict(),
    lambda nn_: nn_.ModuleList([nn_.Sequential(nn_.Linear(2, 2)), nn_.Sequential(nn_.Linear(2, 2)), nn_.ReLU()]),
    lambda nn_: nn_.ModuleDict({"a": nn_.Linear(2, 2), "b": nn_.ModuleList([nn_.ReLU()])}),
    lambda nn_: nn_.BatchNorm1d(4, eps=1e-3, momentum=0.2, affine=False, track_running_stats=False),
    lambda nn_: nn_.LayerNorm(5), lambda nn_: nn_.LayerNorm([2, 3], eps=1e-6, elementwise_affine=False),
    lambda nn_: nn_.LayerNorm(4, bias=False), lambda nn_: nn_.Embedding(10, 3, padding_idx=0),
    lambda nn_: nn_.Embedding(10, 3, padding_idx=-1, max_norm=1.0), lambda nn_: nn_.Embedding(10, 3, max_norm=2.0,
                                                                                              norm_type=1.0),
    lambda nn_: nn_.Dropout(0.3, inplace=True), lambda nn_: nn_.GELU(), lambda nn_: nn_.SiLU(inplace=True),
    lambda nn_: nn_.Softmax(), lambda nn_: nn_.Flatten(start_dim=2, end_dim=3),
    lambda nn_: nn_.MSELoss(reduction="sum"), lambda nn_: nn_.SmoothL1Loss(beta=0.5),
    lambda nn_: nn_.HuberLoss(delta=2.0),
    lambda nn_: nn_.CrossEntropyLoss(label_smoothing=0.1), lambda nn_: nn_.CrossEntropyLoss(ignore_index=2),
    lambda nn_: nn_.NLLLoss(reduction="none"), lambda nn_: nn_.KLDivLoss(reduction="batchmean", log_target=True),
])
def test_layer_reprs_equal_pytorchs(make):
    assert repr(make(nn)) == repr(make(tnn))


# -------------------------------------------------------------------- Linear
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 5, 4), (4,)])
def test_linear_forward_and_gradients_match_pytorch(bias, shape):
    ours, theirs = twin(nn.Linear(4, 3, bias=bias), tnn.Linear(4, 3, bias=bias))
    x, xt, y, yt = run_both(ours, theirs, shape)
    close(y, yt)
    close(x.grad, xt.grad)
    assert_same_grads(ours, theirs)
    close(F.linear(x, ours.weight, ours.bias), TF.linear(xt, theirs.weight, theirs.bias))


def test_linear_shapes_and_factory_arguments():
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.dtype is tl.float32 and layer(tl.randn(2, 5)).shape == (2, 3)
    wide = nn.Linear(5, 3, dtype=tl.float64)
    assert wide.weight.dtype is tl.float64 and wide.bias.dtype is tl.float64
    assert nn.Linear(5, 3, bias=False).bias is None
    assert [n for n, _ in nn.Linear(5, 3, bias=False).named_parameters()] == ["weight"]


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # it fills the range
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound / math.sqrt(3)  # U(-a, a) has std a / sqrt(3)
    assert abs(w.mean()) < 0.01 * bound
    tl.manual_seed(3)
    first = nn.Linear(4, 2).weight.tolist()
    tl.manual_seed(3)
    assert nn.Linear(4, 2).weight.tolist() == first  # seeded: repeatable


def test_linear_error_for_unflattened_images_suggests_flatten():
    layer = nn.Linear(784, 10)
    with pytest.raises(RuntimeError) as info:
        layer(tl.zeros(32, 28, 28))
    message = str(info.value)
    assert "Linear(in_features=784, out_features=10, bias=True)" in message
    assert "must be 784" in message and "got 28" in message and "(32, 28, 28)" in message
    assert "nn.Flatten()" in message
    with pytest.raises(RuntimeError, match=r"must be 784.*got 100.*in_features"):
        layer(tl.zeros(32, 100))
    with pytest.raises(RuntimeError, match=r"linear: the input's last dim must be 4"):
        F.linear(tl.zeros(2, 3), tl.zeros(5, 4))


def test_linear_dtype_and_type_errors_say_what_to_convert():
    layer = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r"float64.*float32.*model.double\(\)"):
        layer(tl.tensor(np.zeros((2, 3))))
    with pytest.raises(TypeError, match=r"must be a Tensor, not ndarray.*tinygrad_lite\.tensor\(x\)"):
        layer(np.zeros((2, 3), dtype=np.float32))


def test_identity_passes_its_input_through():
    x = tl.randn(3, 2)
    assert nn.Identity(54, unused="ignored")(x) is x


# -------------------------------------------------------------------- activations
ACTIVATIONS = [
    lambda nn_: nn_.ReLU(), lambda nn_: nn_.Sigmoid(), lambda nn_: nn_.Tanh(), lambda nn_: nn_.LeakyReLU(),
    lambda nn_: nn_.LeakyReLU(0.2), lambda nn_: nn_.GELU(), lambda nn_: nn_.GELU(approximate="tanh"),
    lambda nn_: nn_.Softmax(dim=1), lambda nn_: nn_.Softmax(dim=0), lambda nn_: nn_.LogSoftmax(dim=-1),
    lambda nn_: nn_.LogSoftmax(dim=0), lambda nn_: nn_.Identity(), lambda nn_: nn_.Softplus(),
    lambda nn_: nn_.Softplus(beta=2, threshold=1.5),
]


@pytest.mark.parametrize("make", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 4)])
def test_activation_forward_and_gradient_match_pytorch(make, shape):
    ours, theirs = make(nn), make(tnn)
    x, xt, y, yt = run_both(ours, theirs, shape, seed=len(shape))
    close(y, yt)
    close(x.grad, xt.grad)
    assert repr(ours) == repr(theirs)


FUNCTIONS = [
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.3}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("sigmoid", {}), ("tanh", {}), ("softmax", {"dim": -1}), ("log_softmax", {"dim": 1}),
    ("softmax", {"dim": 0, "dtype": torch.float64}), ("log_softmax", {"dim": 0, "dtype": torch.float64}),
    ("softplus", {}), ("softplus", {"beta": 0.5, "threshold": 1.0}), ("softplus", {"beta": -1.5}),
]


@pytest.mark.parametrize("name, kwargs", FUNCTIONS)
def test_functional_activations_match_pytorch(name, kwargs):
    x, xt = pair(np.random.default_rng(5).standard_normal((4, 6)) * 3)
    ours_kwargs = dict(kwargs)
    if "dtype" in kwargs:  # compute a float32 input in float64, as dtype= asks
        x, xt = x.float().detach().requires_grad_(), xt.float().detach().requires_grad_()
        ours_kwargs["dtype"] = tl.float64
    y, yt = getattr(F, name)(x, **ours_kwargs), getattr(TF, name)(xt, **kwargs)
    assert y.dtype.name == str(yt.dtype).replace("torch.", "")
    rtol = 1e-6 if "dtype" in kwargs else RTOL
    close(y, yt, rtol=rtol)
    g = np.random.default_rng(6).standard_normal((4, 6))
    y.backward(tl.tensor(g, dtype=y.dtype))
    yt.backward(torch.tensor(g, dtype=yt.dtype))
    close(x.grad, xt.grad, rtol=1e-6 if "dtype" in kwargs else RTOL, atol=1e-7 if "dtype" in kwargs else 1e-12)


def test_relu_keeps_integer_inputs_and_sigmoid_promotes_them():
    assert F.relu(tl.tensor([-2, 3])).tolist() == [0, 3]
    assert F.sigmoid(tl.tensor([0])).dtype is tl.float32


def test_softmax_without_dim_warns_and_guesses_like_pytorch():
    for shape in [(3,), (3, 4), (2, 3, 4)]:
        data = np.random.default_rng(2).standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            y = nn.Softmax()(tl.tensor(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yt = tnn.Softmax()(torch.tensor(data))
        close(y, yt)
    with pytest.warns(UserWarning, match="log_softmax"):
        F.log_softmax(tl.randn(2, 3))


def test_softplus_is_linear_past_the_threshold_and_finite_everywhere_in_float32():
    data = np.array([-200.0, -30.0, -1.0, 0.0, 0.5, 9.99, 10.0, 10.01, 25.0, 1e4], dtype=np.float32)
    for beta, threshold in [(1.0, 20.0), (2.0, 20.0), (1.0, 10.0)]:
        x, xt = tl.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warning from the discarded branch
            y = F.softplus(x, beta=beta, threshold=threshold)
            y.sum().backward()
        yt = TF.softplus(xt, beta=beta, threshold=threshold)
        yt.sum().backward()
        assert y.dtype is tl.float32
        np.testing.assert_allclose(arr(y), arr(yt), rtol=1e-6, atol=0)
        np.testing.assert_allclose(arr(x.grad), arr(xt.grad), rtol=1e-6, atol=0)
        assert np.isfinite(arr(x.grad)).all() and arr(y)[-1] == 1e4  # linear: x itself, slope 1


def test_activation_errors_are_clear():
    with pytest.raises(RuntimeError, match="either none or tanh"):
        nn.GELU("exact")(tl.randn(2))
    with pytest.raises(RuntimeError, match=r"floating point.*\.float\(\)"):
        F.gelu(tl.tensor([1, 2]))
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range"):
        F.softmax(tl.randn(2, 3), dim=2)
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.relu([1.0, -1.0])
    with pytest.raises(RuntimeError, match=r"softplus.*floating point.*\.float\(\)"):
        F.softplus(tl.tensor([1, 2]))
    with pytest.raises(TypeError, match="Softplus.*beta"):
        nn.Softplus(beta="2")


# -------------------------------------------------------------------- Flatten
@pytest.mark.parametrize("start, end", [(1, -1), (0, -1), (1, 2), (2, 3), (-3, -2), (0, 0)])
def test_flatten_matches_pytorch(start, end):
    x, xt = pair(np.random.default_rng(0).standard_normal((2, 3, 4, 5)))
    y, yt = nn.Flatten(start, end)(x), tnn.Flatten(start, end)(xt)
    assert tuple(y.shape) == tuple(yt.shape)
    close(y, yt)
    (y * y).sum().backward()
    close(x.grad, 2 * xt.detach())


def test_flatten_of_a_single_sample_explains_the_batch_dim():
    with pytest.raises(IndexError, match=r"unsqueeze\(0\)"):
        nn.Flatten()(tl.zeros(784))


# -------------------------------------------------------------------- Dropout
def test_dropout_zeroes_a_fraction_p_and_keeps_the_mean():
    p = 0.3
    x = tl.ones(200_000, requires_grad=True)
    y = nn.Dropout(p)(x)
    values = y.detach().numpy()
    assert abs((values == 0).mean() - p) < 0.005
    assert abs(values.mean() - 1.0) < 0.01  # inverted dropout: E[y] = x
    np.testing.assert_allclose(values[values != 0], 1 / (1 - p), rtol=1e-6)  # survivors scaled by 1/(1-p)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # dy/dx = mask / (1 - p)


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = tl.randn(50, 20)
    layer = nn.Dropout(0.5)
    layer.eval()
    assert layer(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert nn.Dropout(0.0)(x) is x
    assert (nn.Dropout(1.0)(x) == 0).all().item()
    layer.train()
    assert (layer(x) == 0).any().item()


def test_dropout_masks_come_from_the_global_generator():
    x = tl.ones(100)
    tl.manual_seed(11)
    first = F.dropout(x, 0.5).tolist()
    second = F.dropout(x, 0.5).tolist()
    tl.manual_seed(11)
    assert F.dropout(x, 0.5).tolist() == first and first != second


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_0_1_is_an_error(p):
    with pytest.raises(ValueError, match=f"between 0 and 1, but got {p}"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(tl.ones(3), p)


# -------------------------------------------------------------------- BatchNorm1d
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm_training_steps_and_eval_match_pytorch(momentum, shape):
    ours, theirs = twin(nn.BatchNorm1d(3, momentum=momentum), tnn.BatchNorm1d(3, momentum=momentum))
    with torch.no_grad():  # start from non-trivial affine parameters
        theirs.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
        theirs.bias.copy_(torch.tensor([0.1, -0.3, 1.0]))
    ours.load_state_dict(theirs.state_dict())
    for step in range(3):
        ours.zero_grad()
        theirs.zero_grad()
        x, xt, y, yt = run_both(ours, theirs, shape, seed=step)
        close(y, yt)
        close(x.grad, xt.grad, atol=1e-10)
        assert_same_grads(ours, theirs)
        close(ours.running_mean, theirs.running_mean)
        close(ours.running_var, theirs.running_var)
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == step + 1
    ours.eval()
    theirs.eval()
    x, xt, y, yt = run_both(ours, theirs, shape, seed=10)
    close(y, yt)
    close(x.grad, xt.grad)
    assert ours.num_batches_tracked.item() == 3  # eval does not count batches
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("kwargs", [{"affine": False}, {"track_running_stats": False}, {"bias": False},
                                    {"eps": 1e-2, "affine": False, "track_running_stats": False}])
def test_batchnorm_options_match_pytorch(kwargs):
    ours, theirs = twin(nn.BatchNorm1d(4, **kwargs), tnn.BatchNorm1d(4, **kwargs))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        x, xt, y, yt = run_both(ours, theirs, (6, 4), seed=3)
        close(y, yt)
        close(x.grad, xt.grad, atol=1e-10)


def test_batchnorm_normalises_each_channel():
    x = tl.randn(64, 3) * tl.tensor([1.0, 10.0, 0.1]) + tl.tensor([5.0, -2.0, 0.0])
    y = nn.BatchNorm1d(3)(x).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-3)


def test_batchnorm_module_to_and_reset():
    bn = nn.BatchNorm1d(2)
    bn(tl.randn(5, 2))
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0


def test_functional_batch_norm_matches_pytorch():
    r = np.random.default_rng(4)
    x, xt = pair(r.standard_normal((6, 3, 2)))
    w, wt = pair([1.5, -0.5, 2.0])
    b, bt = pair([0.0, 1.0, -1.0])
    rm, rmt = pair(r.standard_normal(3), requires_grad=False)
    rv, rvt = pair(r.random(3) + 0.5, requires_grad=False)
    for training in (True, False):
        y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.2, eps=1e-3)
        yt = TF.batch_norm(xt, rmt, rvt, wt, bt, training=training, momentum=0.2, eps=1e-3)
        close(y, yt)
        close(rm, rmt)
        close(rv, rvt)
        (y * y).sum().backward()
        (yt * yt).sum().backward()
        close(x.grad, xt.grad, atol=1e-10)
        close(w.grad, wt.grad)
        close(b.grad, bt.grad)
    close(F.batch_norm(x, None, None, training=True), TF.batch_norm(xt, None, None, training=True))
    with pytest.raises(RuntimeError, match="running_mean and running_var must be given"):
        F.batch_norm(x, None, None)


def test_batchnorm_wrong_number_of_features_is_explained():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(3\): expected 3 channels in dim 1.*got 4.*out_features"):
        bn(tl.randn(8, 4))
    with pytest.raises(RuntimeError, match=r"\(N, L, C\).*transpose\(1, 2\)"):
        bn(tl.randn(8, 5, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input"):
        bn(tl.randn(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="should contain 3 elements"):
        F.batch_norm(tl.randn(4, 3), tl.zeros(2), tl.ones(2), training=True)


def test_batchnorm_batch_of_one_in_training_is_an_error_but_fine_in_eval():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training.*model.eval\(\)"):
        bn(tl.randn(1, 3))
    assert bn.num_batches_tracked.item() == 0  # the rejected batch is not counted
    bn(tl.randn(1, 3, 2))  # (N, C, L) with L > 1 has several values per channel
    bn.eval()
    assert bn(tl.randn(1, 3)).shape == (1, 3)


# -------------------------------------------------------------------- one_hot
def test_one_hot_matches_pytorch():
    labels = [[0, 2, 1], [3, 0, 0]]
    for num_classes in (-1, 6):
        ours = F.one_hot(tl.tensor(labels), num_classes)
        theirs = TF.one_hot(torch.tensor(labels), num_classes)
        assert ours.dtype is tl.int64 and tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_errors_name_the_fix():
    with pytest.raises(RuntimeError, match=r"int64.*\.long\(\)"):
        F.one_hot(tl.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(tl.tensor([-1, 0]), 3)
    with pytest.raises(RuntimeError, match=r"smaller than num_classes \(3\), got 3"):
        F.one_hot(tl.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(tl.tensor([], dtype=tl.int64))


# -------------------------------------------------------------------- init
NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                  "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_pytorch(nonlinearity):
    assert nn.init.calculate_gain(nonlinearity) == tnn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, 3, math.sqrt(5)])
def test_calculate_gain_of_leaky_relu_equals_pytorch(param):
    assert nn.init.calculate_gain("leaky_relu", param) == tnn.init.calculate_gain("leaky_relu", param)


def test_calculate_gain_rejects_bad_input():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        nn.init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(30, 20), (8, 3, 5), (16, 4, 3, 3), (2, 3, 2, 2, 2)])
def test_fan_in_and_fan_out_equal_pytorch(shape):
    ours = nn.init._calculate_fan_in_and_fan_out(tl.zeros(shape))
    assert ours == tnn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_fan_of_a_vector_is_an_error():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(tl.zeros(5))


SHAPE = (400, 600)  # fan_in 600, fan_out 400
INITS = [
    (lambda t: nn.init.xavier_uniform_(t), math.sqrt(2 / 1000), "uniform"),
    (lambda t: nn.init.xavier_uniform_(t, gain=nn.init.calculate_gain("tanh")), 5 / 3 * math.sqrt(2 / 1000),
     "uniform"),
    (lambda t: nn.init.xavier_normal_(t), math.sqrt(2 / 1000), "normal"),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 600), "uniform"),
    (lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)), math.sqrt(1 / 3 / 600), "uniform"),
    (lambda t: nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 400), "uniform"),
    (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 600), "normal"),
    (lambda t: nn.init.kaiming_normal_(t, a=0.2, mode="fan_out"), math.sqrt(2 / 1.04 / 400), "normal"),
    (lambda t: nn.init.normal_(t, 0.0, 0.02), 0.02, "normal"),
    (lambda t: nn.init.uniform_(t, -0.5, 0.5), 1 / math.sqrt(12), "uniform"),
]


@pytest.mark.parametrize("initialise, std, kind", INITS)
def test_init_sample_std_matches_the_formula(initialise, std, kind):
    weight = nn.Parameter(tl.zeros(SHAPE))
    assert initialise(weight) is weight  # in place, returns the tensor
    assert weight.requires_grad and weight.is_leaf and weight.dtype is tl.float32
    w = weight.detach().numpy()
    assert abs(w.std() - std) < 0.02 * std
    assert abs(w.mean()) < 0.02 * std
    if kind == "uniform":
        assert np.abs(w).max() <= math.sqrt(3) * std * (1 + 1e-6)  # U(-a, a) with a = sqrt(3) std


def test_init_generator_makes_draws_repeatable():
    a = nn.init.kaiming_normal_(tl.zeros(4, 5), generator=tl.Generator().manual_seed(7))
    b = nn.init.kaiming_normal_(tl.zeros(4, 5), generator=tl.Generator().manual_seed(7))
    assert a.tolist() == b.tolist()
    assert nn.init.xavier_uniform_(tl.zeros(4, 5)).tolist() != nn.init.xavier_uniform_(tl.zeros(4, 5)).tolist()


def test_constant_inits():
    w = nn.Parameter(tl.randn(3, 2))
    assert nn.init.zeros_(w) is w and w.tolist() == [[0.0, 0.0]] * 3
    assert nn.init.ones_(w).tolist() == [[1.0, 1.0]] * 3
    assert nn.init.constant_(w, 0.25).tolist() == [[0.25, 0.25]] * 3
    assert w.requires_grad and w.is_leaf


def test_trunc_normal_stays_within_bounds():
    w = nn.init.trunc_normal_(tl.zeros(200, 200), mean=0.0, std=1.0, a=-1.0, b=2.0)
    values = w.numpy()
    assert values.min() >= -1.0 and values.max() <= 2.0
    assert values.std() < 1.0 and values.min() < -0.99 and values.max() > 1.99
    with pytest.raises(ValueError, match="almost none"):
        nn.init.trunc_normal_(tl.zeros(3), std=0.02, a=5.0, b=6.0)


def test_kaiming_on_an_empty_tensor_warns():
    with pytest.warns(UserWarning, match="no-op"):
        nn.init.kaiming_uniform_(tl.zeros(0, 3))


def test_init_mode_is_checked():
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        nn.init.kaiming_normal_(tl.zeros(2, 2), mode="fan_avg")


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (4, 2, 3, 3)])
def test_orthogonal_init_is_orthogonal_times_gain_with_both_signs_as_pytorchs(shape):
    """W W^T = gain^2 I for the fewer side, in both libraries; and the sign correction by R's diagonal: without it,
    LAPACK's QR would make W[0, 0] negative every time (issue 34, item 16)."""
    corner_signs = {}
    for lib in (tl, torch):
        lib.manual_seed(0)
        weights = [lib.nn.init.orthogonal_(lib.nn.Parameter(lib.zeros(shape)), gain=1.5) for _ in range(20)]
        assert all(w.requires_grad and w.is_leaf and w.dtype == lib.float32 for w in weights)
        for w in weights:
            matrix = w.detach().numpy().reshape(shape[0], -1).astype(np.float64)
            small = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
            np.testing.assert_allclose(small, 2.25 * np.eye(len(small)), atol=1e-5)
        corner_signs[lib] = {bool(w[(0,) * len(shape)] > 0) for w in weights}
    assert corner_signs[tl] == corner_signs[torch] == {True, False}
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(tl.zeros(3))


@pytest.mark.parametrize("shape, groups", [((3, 5), None), ((5, 3), None), ((4, 2, 3), 2), ((6, 4, 3, 3), 2),
                                           ((2, 3, 3, 3, 3), 1), ((3, 2, 4), 3)])
def test_eye_and_dirac_init_equal_pytorchs(shape, groups):
    if groups is None:
        ours, theirs = nn.init.eye_(tl.ones(shape)), tnn.init.eye_(torch.ones(shape))
    else:
        ours, theirs = nn.init.dirac_(tl.ones(shape), groups), tnn.init.dirac_(torch.ones(shape), groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_eye_dirac_and_sparse_refuse_what_pytorch_refuses():
    for mistake in (lambda lib: lib.nn.init.eye_(lib.zeros(2, 2, 2)), lambda lib: lib.nn.init.dirac_(lib.zeros(3, 3)),
                    lambda lib: lib.nn.init.dirac_(lib.zeros(4, 2, 3), groups=3),
                    lambda lib: lib.nn.init.sparse_(lib.zeros(3), 0.5)):
        for lib in (tl, torch):
            with pytest.raises(ValueError):
                mistake(lib)


def test_sparse_init_zeroes_the_same_number_of_rows_in_every_column_as_pytorch():
    for lib in (tl, torch):
        w = lib.nn.init.sparse_(lib.zeros(10, 300), sparsity=0.25, std=0.5).numpy()
        assert ((w == 0).sum(axis=0) == 3).all()  # ceil(0.25 * 10) per column
        assert abs(w[w != 0].std() - 0.5) < 0.03
    one = nn.init.sparse_(tl.zeros(4, 5), 0.5, generator=tl.Generator().manual_seed(3))
    assert one.tolist() == nn.init.sparse_(tl.zeros(4, 5), 0.5, generator=tl.Generator().manual_seed(3)).tolist()


def test_the_deprecated_init_names_work_and_warn_as_pytorchs():
    def old_names(init):
        return sorted(name for name in dir(init) if not name.startswith("_") and name + "_" in dir(init))
    assert old_names(nn.init) == old_names(tnn.init) and len(old_names(nn.init)) == 11
    for lib in (tl, torch):
        with pytest.warns(FutureWarning, match=r"^`nn.init.xavier_uniform` is now deprecated in favor of "
                                               r"`nn.init.xavier_uniform_`\.$"):
            w = lib.nn.init.xavier_uniform(lib.zeros(3, 4), gain=0.5)
        assert 0 < np.abs(w.numpy()).max() <= 0.5 * math.sqrt(6 / 7)
    with pytest.warns(FutureWarning, match="nn.init.constant"):
        assert nn.init.constant(tl.zeros(2), 0.5).tolist() == [0.5, 0.5]


# -------------------------------------------------------------------- all together
def test_a_plain_pytorch_training_loop_runs_and_learns():
    torch_ = tl  # the script below is plain PyTorch with `import tinygrad_lite as torch`
    torch_.manual_seed(0)
    x = torch_.randn(64, 2)
    y = (x[:, 0] * x[:, 1] > 0).float().reshape(-1, 1)
    model = torch_.nn.Sequential(torch_.nn.Linear(2, 16), torch_.nn.BatchNorm1d(16), torch_.nn.ReLU(),
                                 torch_.nn.Dropout(0.1), torch_.nn.Linear(16, 1), torch_.nn.Sigmoid())
    losses = []
    for _ in range(150):
        model.train()
        model.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        with torch_.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
        losses.append(loss.item())
    model.eval()
    with torch_.no_grad():
        accuracy = ((model(x) > 0.5).float() == y).float().mean().item()
    assert losses[-1] < 0.5 * losses[0] and accuracy > 0.9


def test_nn_namespace():
    assert tl.nn is nn and nn.functional is F
    for name in ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear", "Identity", "ReLU",
                 "Sigmoid", "Tanh", "LeakyReLU", "GELU", "Softmax", "LogSoftmax", "Flatten", "Dropout", "BatchNorm1d",
                 "init", "functional"]:
        assert hasattr(nn, name), name
    for name in ["linear", "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout",
                 "batch_norm", "one_hot"]:
        assert callable(getattr(F, name)), name


@pytest.mark.parametrize("make", [lambda nn_: nn_.ReLU(inplace=True), lambda nn_: nn_.LeakyReLU(0.1, inplace=True),
                                  lambda nn_: nn_.SiLU(inplace=True)], ids=["ReLU", "LeakyReLU", "SiLU"])
def test_inplace_activations_write_into_their_input_and_differentiate_as_torch(make):
    """`inplace=True` changes the input itself (code that ignores the returned tensor relies on it), and the
    gradient flows through the in-place op as PyTorch's."""
    seen = {}
    for lib in (tl, torch):
        w = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        h = w * 1.0
        out = make(lib.nn)(h)
        (h * 3).sum().backward()
        seen[lib.__name__] = (out is h, h.detach().numpy().copy(), w.grad.numpy().copy())
    assert seen["tinygrad_lite"][0] and seen["torch"][0]
    np.testing.assert_allclose(seen["tinygrad_lite"][1], seen["torch"][1], rtol=1e-6)
    np.testing.assert_allclose(seen["tinygrad_lite"][2], seen["torch"][2], rtol=1e-6)
    tl.manual_seed(0)
    x = tl.ones(1000)
    assert tl.nn.Dropout(0.5, inplace=True)(x) is x and 0.3 < float((x == 0).float().mean()) < 0.7


def test_half_type_and_bfloat16_of_a_module_as_torch():
    """``half()`` and ``type(dst)`` convert as PyTorch's: half only the floating tensors, type every tensor (integer
    buffers too); the Parameter objects stay. ``bfloat16()`` is refused: numpy has no bfloat16."""
    def dtypes(lib, convert):
        model = convert(lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2)), lib)
        return [str(t.dtype).rpartition(".")[2] for t in (model[0].weight, model[1].running_mean,
                                                           model[1].num_batches_tracked)]
    for convert in (lambda m, lib: m.half(), lambda m, lib: m.half().float(), lambda m, lib: m.type(lib.float64),
                    lambda m, lib: m.type(lib.float16), lambda m, lib: m.type(lib.DoubleTensor),
                    lambda m, lib: m.type("torch.DoubleTensor"), lambda m, lib: m.type("torch.HalfTensor")):
        assert dtypes(tl, convert) == dtypes(torch, convert)
    assert dtypes(tl, lambda m, lib: m.type(lib.float64)) == ["float64", "float64", "float64"]  # (ints too)
    model = nn.Linear(3, 2)
    weight = model.weight
    assert model.half() is model and model.weight is weight and weight.dtype is tl.float16 and weight.requires_grad
    with pytest.raises(RuntimeError, match=r"Module.type\(tinygrad_lite.int64\): parameters that require grad must "
                                           "stay floating point"):
        model.type(tl.int64)
    with pytest.raises(TypeError, match=r"Module.type\(\): dst_type must be a dtype"):
        model.type(None)
    with pytest.raises(RuntimeError, match=r"Module\.bfloat16\(\): the dtype is bfloat16, which numpy .* model\.half"):
        model.bfloat16()
    with pytest.raises(RuntimeError, match=r"tinygrad_lite\.bfloat16: the dtype is bfloat16"):
        model.to(tl.bfloat16)
    assert model.to(memory_format=tl.preserve_format) is model and weight.dtype is tl.float16
    with pytest.raises(RuntimeError, match=r"to\(\): memory_format=tinygrad_lite\.channels_last is not supported"):
        model.to(memory_format=tl.channels_last)


def test_what_a_third_round_of_pytorch_scripts_met_matches_pytorch():
    """(session 39) embedding's max_norm in the inf-norm, cosine_similarity's gradient below eps, Flatten(0) of a
    0-d tensor, a ModuleDict made from another, the containers' pop and +, ParameterDict's reversed and
    setdefault."""
    renormed, results = [], []
    for T in (torch, tl):
        F_ = T.nn.functional
        w = T.tensor([[3.0, -4.0], [0.5, 0.2]])
        renormed.append([F_.embedding(T.tensor([0, 1]), w.clone(), max_norm=m, norm_type=p).tolist()
                         for m, p in ((1.0, float("inf")), (0.5, float("inf")), (1.0, 1.0))])
        a = T.tensor([[0.3, 0.4], [0.0, 0.0], [3.0, 4.0]], requires_grad=True)
        F_.cosine_similarity(a, T.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]), dim=1, eps=1.0).sum().backward()
        modules = T.nn.ModuleDict(T.nn.ModuleDict({"a": T.nn.ReLU()}))
        modules.update(T.nn.ModuleDict({"b": T.nn.Tanh()}))
        seq = T.nn.Sequential(T.nn.ReLU(), T.nn.Tanh()) + T.nn.Sequential(T.nn.Sigmoid())
        popped = seq.pop(1)
        listed = T.nn.ModuleList([T.nn.ReLU()]) + [T.nn.Tanh(), T.nn.Sigmoid()]
        params = T.nn.ParameterDict({"b": T.nn.Parameter(T.ones(1)), "a": T.nn.Parameter(T.zeros(1))})
        added = params.setdefault("c", T.ones(2))
        results.append((np.round(a.grad.numpy(), 6).tolist(), tuple(T.nn.Flatten(0)(T.tensor(2.0)).shape),
                        list(modules.keys()), type(popped).__name__, [type(m).__name__ for m in seq],
                        type(listed.pop(0)).__name__, len(listed), type(listed).__name__, list(reversed(params)),
                        type(added).__name__, tuple(params.setdefault("a", T.ones(3)).shape)))
    np.testing.assert_allclose(renormed[1], renormed[0], rtol=1e-6)
    assert results[1] == results[0]
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        F.embedding(tl.tensor([0, 1]), tl.ones(2, 2), padding_idx=2)  # (PyTorch: an AssertionError)


# ------------------------------------------------------------------------------------------------ session 40
def test_sequential_plus_equals_and_times_change_or_repeat_the_layers_as_pytorchs():
    """``seq += other`` extends the very Sequential (a function given a model's part changes the model);
    ``seq * n`` repeats the same layer objects; ``seq *= n`` in place."""
    for lib in (tl, torch):
        net = lib.nn.Module()
        net.body = lib.nn.Sequential(lib.nn.Linear(1, 1))

        def add_head(part, lib=lib):
            part += lib.nn.Sequential(lib.nn.ReLU())

        add_head(net.body)
        assert [name for name, _ in net.named_modules()] == ["", "body", "body.0", "body.1"]
        seq = lib.nn.Sequential(lib.nn.Linear(1, 1), lib.nn.ReLU())
        assert len(seq * 2) == len(2 * seq) == 4 and (seq * 2)[2] is seq[0]
        seq *= 3
        assert len(seq) == 6 and seq[4] is seq[0]
    with pytest.raises(ValueError):
        nn.Sequential(nn.ReLU()) * 0


def test_load_state_dict_lists_unexpected_keys_module_by_module_as_pytorch():
    results = []
    for lib in (tl, torch):
        model = lib.nn.Sequential(lib.nn.Linear(1, 1), lib.nn.Sequential(lib.nn.Linear(1, 1)))
        extra = lib.zeros(1)
        state = {"1.0.q": extra, "0.extra": extra, "zzz": extra, **model.state_dict(), "aaa": extra, "1.x": extra}
        results.append(model.load_state_dict(state, strict=False).unexpected_keys)
    assert results[0] == results[1] == ["zzz", "aaa", "0.extra", "1.x", "1.0.q"]


def test_pytorchs_module_methods_we_lack_say_they_are_not_covered_and_a_typo_stays_plain():
    with pytest.raises(AttributeError, match="PyTorch's Module has it, and tinygrad_lite does not cover it"):
        nn.Linear(1, 1).register_state_dict_pre_hook  # noqa: B018
    with pytest.raises(AttributeError) as typo:
        nn.Linear(1, 1).wieght  # noqa: B018
    assert str(typo.value) == "'Linear' object has no attribute 'wieght'"
    for pair in ([("a",)], [3]):
        with pytest.raises(ValueError if pair[0] != 3 else TypeError):
            nn.ModuleDict().update(pair)


def _padding_layers(n):
    return [n.ConstantPad1d(2, 3.5), n.ConstantPad2d((1, 2, 3, 0), 0.0), n.ZeroPad2d(1), n.ZeroPad1d((1, 2)),
            n.ReflectionPad1d(2), n.ReplicationPad2d((1, 0, 2, 0)), n.CircularPad1d(1), n.ReflectionPad3d(1),
            n.ReplicationPad3d((1, 0, 0, 1, 1, 0)), n.CircularPad2d((1, 1, 0, 2)), n.ConstantPad3d(1, -1.0),
            n.ZeroPad3d((0, 1, 0, 1, 0, 1))]


@pytest.mark.parametrize("index", range(12))
def test_padding_layers_print_pad_and_differentiate_as_pytorchs(index):
    """(session 42) the nn.*Pad*d layers: PyTorch's reprs, values and gradients (each on an input with a batch and
    a channel dim before its padded dims, as PyTorch requires)."""
    ours, theirs = _padding_layers(tl.nn)[index], _padding_layers(torch.nn)[index]
    assert repr(ours) == repr(theirs) and tuple(ours.padding) == tuple(theirs.padding)
    dims = len(theirs.padding) // 2 + 2
    x = np.arange(2 * 3 ** (dims - 1), dtype=np.float64).reshape((2,) + (3,) * (dims - 1))
    a, b = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(a), theirs(b)
    w = np.random.default_rng(0).normal(size=tuple(y_theirs.shape))
    (y_ours * tl.tensor(w)).sum().backward()
    (y_theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(y_ours.detach().numpy(), y_theirs.detach().numpy())
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-14)


def test_a_padding_layer_refuses_a_tuple_of_the_wrong_length():
    with pytest.raises(ValueError, match="ReflectionPad2d: padding must be an int or a tuple of 4 ints"):
        tl.nn.ReflectionPad2d((1, 2, 3))
