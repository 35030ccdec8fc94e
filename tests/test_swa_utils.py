"""optim.swa_utils against PyTorch's: AveragedModel's averages (SWA and EMA, each averaging function, with and
without buffers, float32 and float64), the formulas they stand for, update_bn, the errors, and the stand-in GPU.
(SWALR's lr traces and state_dicts are in tests/test_lr_scheduler.py, beside the other schedulers.)
"""
import copy

import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy, ndarray

import tinygrad_lite as tl

UPDATES = 6
AVERAGING = {  # how an AveragedModel averages: the keyword arguments it is built with, per library
    "swa": lambda su: {},
    "ema-multi": lambda su: {"multi_avg_fn": su.get_ema_multi_avg_fn(0.9)},
    "ema-one": lambda su: {"avg_fn": su.get_ema_avg_fn(0.8)},
    "swa-one": lambda su: {"avg_fn": su.get_swa_avg_fn()},
    "swa-multi": lambda su: {"multi_avg_fn": su.get_swa_multi_avg_fn()},
}


def make_model(lib, dtype):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)).to(getattr(lib, dtype))


def weights(lib, model, rng, dtype):
    """New random numbers for every float entry of the model's state_dict (the integer count stays)."""
    return {k: lib.tensor(rng.standard_normal(tuple(v.shape)).astype(dtype)) if v.dtype.is_floating_point else v
            for k, v in model.state_dict().items()}


def averaged_state(lib, averaging, use_buffers, dtype, device="cpu"):
    """The AveragedModel's state_dict (as numpy) after UPDATES updates with random weights, the same in both
    libraries."""
    su, rng = lib.optim.swa_utils, np.random.default_rng(0)
    model = make_model(lib, dtype)
    model.load_state_dict(weights(lib, model, rng, dtype))
    average = su.AveragedModel(model, device=device, use_buffers=use_buffers, **AVERAGING[averaging](su))
    model.to(device)
    for _ in range(UPDATES):
        model.load_state_dict(weights(lib, model, rng, dtype))
        average.update_parameters(model)
    return {k: v.detach().cpu().numpy() for k, v in average.state_dict().items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("use_buffers", [False, True], ids=["parameters", "with-buffers"])
@pytest.mark.parametrize("averaging", list(AVERAGING))
def test_averages_match_pytorch(averaging, use_buffers, dtype):
    if averaging == "swa-multi" and use_buffers:  # an int64 buffer (num_batches_tracked): both refuse addcdiv
        for lib in (tl, torch):
            with pytest.raises(RuntimeError, match="addcdiv"):
                averaged_state(lib, averaging, use_buffers, dtype)
        return
    ours, theirs = (averaged_state(lib, averaging, use_buffers, dtype) for lib in (tl, torch))
    assert list(ours) == list(theirs)
    tol = dict(rtol=2e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-14, atol=1e-15)  # (PyTorch's lerp: fma)
    for key in ours:
        assert ours[key].dtype == theirs[key].dtype, key
        np.testing.assert_allclose(ours[key], theirs[key], **tol, err_msg=key)
    assert ours["n_averaged"] == UPDATES


def test_swa_is_the_mean_and_ema_the_recurrence_of_the_docstring():
    """Without PyTorch: SWA's average after k updates is the mean of the k weights; EMA follows its recurrence,
    starting from the first weights; buffers are copied from the model unless use_buffers."""
    rng = np.random.default_rng(1)
    seen = [rng.standard_normal((3, 2)) for _ in range(5)]
    layer = tl.nn.Linear(2, 3, bias=False).double()
    swa = tl.optim.swa_utils.AveragedModel(layer)
    ema = tl.optim.swa_utils.AveragedModel(layer, multi_avg_fn=tl.optim.swa_utils.get_ema_multi_avg_fn(0.75))
    expected_ema = seen[0]
    for i, w in enumerate(seen):
        layer.weight.data = tl.tensor(w)
        swa.update_parameters(layer)
        ema.update_parameters(layer)
        expected_ema = 0.75 * expected_ema + 0.25 * w if i else w
        np.testing.assert_allclose(swa.module.weight.detach().numpy(), np.mean(seen[:i + 1], axis=0), rtol=1e-14)
        np.testing.assert_allclose(ema.module.weight.detach().numpy(), expected_ema, rtol=1e-14)
    assert not swa.module.weight.grad and int(swa.n_averaged) == 5
    x = tl.tensor(rng.standard_normal((4, 2)))
    np.testing.assert_allclose(swa(x).detach().numpy(), x.numpy() @ np.mean(seen, axis=0).T, rtol=1e-13)

    net = tl.nn.BatchNorm1d(2)
    average = tl.optim.swa_utils.AveragedModel(net)
    net(tl.randn(8, 2))
    average.update_parameters(net)
    assert tl.equal(average.module.running_mean, net.running_mean) and int(average.module.num_batches_tracked) == 1


def bn_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 4),
                         nn.BatchNorm1d(4, momentum=0.3))


@pytest.mark.parametrize("batches", ["tuples", "tensors"])
def test_update_bn_matches_pytorch(batches):
    """update_bn resets every batch norm, takes the plain mean over the loader's batches, and restores the model's
    mode and the layers' momenta."""
    rng = np.random.default_rng(2)
    data = [rng.standard_normal((5, 2, 4, 4)).astype("float32") for _ in range(3)]
    init = {k: rng.standard_normal(tuple(v.shape)).astype("float32") if v.dtype.is_floating_point else None
            for k, v in bn_model(torch).state_dict().items()}
    results = []
    for lib in (tl, torch):
        model = bn_model(lib)
        model.load_state_dict({k: v if init[k] is None else lib.tensor(init[k]) for k, v in model.state_dict().items()})
        model(lib.tensor(data[0]) * 5)  # running statistics that update_bn must forget
        model.eval()
        loader = [(lib.tensor(d), lib.tensor(0)) if batches == "tuples" else lib.tensor(d) for d in data]
        lib.optim.swa_utils.update_bn(loader, model)
        assert not model.training and model[5].momentum == 0.3 and model[1].momentum == 0.1
        results.append({k: v.numpy() for k, v in model.state_dict().items()})
    for key in results[1]:
        np.testing.assert_allclose(results[0][key], results[1][key], rtol=1e-5, atol=1e-6, err_msg=key)
    assert results[0]["1.num_batches_tracked"] == 3


def test_update_bn_without_batch_norm_leaves_the_model_alone():
    model = tl.nn.Sequential(tl.nn.Linear(2, 2), tl.nn.LayerNorm(2)).eval()
    tl.optim.swa_utils.update_bn([tl.ones(1, 2)], model)  # nothing to recompute: the loader is not even read
    assert not model.training


def test_batch_norm_classes_are_told_apart_as_pytorchs():
    """swa_utils finds batch norms by PyTorch's base class, _BatchNorm; a BatchNorm2d is not a BatchNorm1d."""
    from tinygrad_lite.nn.modules.batchnorm import _BatchNorm  # (the private base class, as scripts import it)
    for lib, base in ((tl, _BatchNorm), (torch, torch.nn.modules.batchnorm._BatchNorm)):
        layers = [lib.nn.BatchNorm1d(2), lib.nn.BatchNorm2d(2), lib.nn.BatchNorm3d(2), lib.nn.InstanceNorm1d(2)]
        assert [isinstance(m, base) for m in layers] == [True, True, True, False]
        assert [isinstance(m, lib.nn.BatchNorm1d) for m in layers] == [True, False, False, False]


def test_errors_as_pytorchs():
    for lib in (tl, torch):
        su, model = lib.optim.swa_utils, lib.nn.Linear(2, 2)
        with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
            su.AveragedModel(model, avg_fn=su.get_swa_avg_fn(), multi_avg_fn=su.get_swa_multi_avg_fn())
        for make in (su.get_ema_multi_avg_fn, su.get_ema_avg_fn):
            with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided"):
                make(1.5)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
            su.SWALR(optimizer, 0.05, anneal_strategy="cosine")
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
            su.SWALR(optimizer, 0.05, anneal_epochs=2.5)
        with pytest.raises(ValueError, match="swa_lr"):
            su.SWALR(optimizer, [0.05, 0.01])


def test_a_checkpoint_of_the_average_resumes_it():
    """The average's state_dict holds n_averaged: loaded into a new AveragedModel, the next updates go on as if
    never interrupted (the averaging function itself is not saved, as in PyTorch)."""
    rng = np.random.default_rng(3)
    model = tl.nn.Linear(3, 2)
    draws = [{k: tl.tensor(rng.standard_normal(tuple(v.shape)).astype("float32"))
              for k, v in model.state_dict().items()} for _ in range(6)]
    straight = tl.optim.swa_utils.AveragedModel(model)
    for d in draws[:3]:
        model.load_state_dict(d)
        straight.update_parameters(model)
    saved = copy.deepcopy(straight.state_dict())
    resumed = tl.optim.swa_utils.AveragedModel(tl.nn.Linear(3, 2))
    resumed.load_state_dict(saved)
    for d in draws[3:]:
        model.load_state_dict(d)
        straight.update_parameters(model)
        resumed.update_parameters(model)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert tl.equal(a, b)


@pytest.mark.parametrize("averaging", ["swa", "ema-multi", "ema-one"])
def test_the_average_lives_on_the_gpu(averaging, monkeypatch):
    """On "cuda" (the stand-in) the averages stay on the device, the default SWA takes the multi-tensor route (lerp,
    as PyTorch's on a GPU), and the numbers are the CPU's within float32 rounding; update_bn moves the batches."""
    cpu = averaged_state(tl, averaging, False, "float32")

    def cpu_route():
        raise AssertionError("the CPU's one-tensor-at-a-time SWA update ran on the GPU")
    monkeypatch.setattr(tl.optim.swa_utils, "get_swa_avg_fn", cpu_route)
    with FakeCuPy().install():
        model = make_model(tl, "float32")
        average = tl.optim.swa_utils.AveragedModel(model, device="cuda",
                                                   **AVERAGING[averaging](tl.optim.swa_utils))
        assert all(isinstance(t.array, ndarray) for t in average.state_dict().values())
        gpu = averaged_state(tl, averaging, False, "float32", device="cuda")
        tl.optim.swa_utils.update_bn([tl.ones(3, 4), tl.zeros(3, 4)], average, device="cuda")
        assert isinstance(average.module[1].running_mean.array, ndarray)
        assert int(average.module[1].num_batches_tracked) == 2
    for key in cpu:
        np.testing.assert_allclose(gpu[key], cpu[key], rtol=2e-6, atol=1e-7, err_msg=key)
