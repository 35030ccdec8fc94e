"""Acceptance: an MLP built with tinygrad_lite from a PyTorch model's weights computes PyTorch's numbers.

The same architecture is written once against the PyTorch API and built with both libraries; the weights
travel through ``state_dict``. Outputs, loss and every parameter gradient must agree to float32 precision,
and keep agreeing over several plain-SGD training steps.
"""
import numpy as np
import pytest
import torch

import tinygrad_lite

F32 = dict(rtol=1e-5, atol=1e-6)


def build(lib, with_batchnorm=False):
    nn = lib.nn
    layers = [nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 5)]
    if with_batchnorm:
        layers.insert(1, nn.BatchNorm1d(32))
    return nn.Sequential(*layers)


def twin_models(with_batchnorm=False):
    torch.manual_seed(0)
    theirs = build(torch, with_batchnorm)
    ours = build(tinygrad_lite, with_batchnorm)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def batch(seed=0, n=64):
    rs = np.random.default_rng(seed)
    return rs.standard_normal((n, 20)).astype(np.float32), rs.integers(0, 5, n)


def assert_close(ours, theirs, what, **tol):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), err_msg=what, **(tol or F32))


@pytest.mark.parametrize("with_batchnorm", [False, True])
def test_outputs_loss_and_gradients_match(with_batchnorm):
    ours, theirs = twin_models(with_batchnorm)
    x, y = batch()
    out_ours, out_theirs = ours(tinygrad_lite.tensor(x)), theirs(torch.tensor(x))
    assert_close(out_ours, out_theirs, "outputs")
    loss_ours = tinygrad_lite.nn.CrossEntropyLoss()(out_ours, tinygrad_lite.tensor(y))
    loss_theirs = torch.nn.CrossEntropyLoss()(out_theirs, torch.tensor(y))
    assert loss_ours.dtype == tinygrad_lite.float32
    assert_close(loss_ours, loss_theirs, "loss")
    loss_ours.backward()
    loss_theirs.backward()
    theirs_params = dict(theirs.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    assert names == list(theirs_params)
    for name, p in ours.named_parameters():
        assert p.grad.dtype == tinygrad_lite.float32
        assert_close(p.grad, theirs_params[name].grad, f"gradient of {name}")


def test_training_steps_stay_in_step():
    ours, theirs = twin_models(with_batchnorm=True)
    for step in range(10):
        x, y = batch(seed=step)
        losses = []
        for lib, model in ((tinygrad_lite, ours), (torch, theirs)):
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
            losses.append(loss.item())
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5, err_msg=f"loss at step {step}")
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(np.asarray(a.numpy(), dtype=np.float64), b.numpy().astype(np.float64),
                                   rtol=1e-4, atol=1e-5, err_msg=name)
    ours.eval(), theirs.eval()
    x, _ = batch(seed=99)
    assert_close(ours(tinygrad_lite.tensor(x)), theirs(torch.tensor(x)), "eval outputs", rtol=1e-4, atol=1e-5)


def test_weights_travel_back_to_pytorch():
    ours, theirs = twin_models()
    with tinygrad_lite.no_grad():
        for p in ours.parameters():
            p += 1.0
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    x, _ = batch()
    assert_close(ours(tinygrad_lite.tensor(x)), theirs(torch.tensor(x)), "outputs after the round trip")
