"""The learning-rate range test: it restores the model and optimizer exactly, its lrs grow exponentially from
start_lr to end_lr, it stops when the loss blows up, its suggestion is sensible on a problem whose stable lrs we
can compute, and plot() draws the curve.
"""
import math

import matplotlib
import numpy as np
import pytest
import torch

import tinygrad_lite as tg
from tinygrad_lite import nn
from tinygrad_lite.optim import SGD, Adam
from tinygrad_lite.train import LRFinderResult, lr_find
from tinygrad_lite.utils.data import DataLoader, TensorDataset

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def regression_data(n=256, batch=16, seed=0):
    """y = 3 x1 - x2 + 0.5 + noise, x uniform in [-3, 3]^2, as a list of (x, y) batches; also the numpy arrays."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, (n, 2)).astype(np.float32)
    y = (x @ np.array([[3.0], [-1.0]]) + 0.5 + 0.3 * rng.standard_normal((n, 1))).astype(np.float32)
    return [(tg.tensor(x[i:i + batch]), tg.tensor(y[i:i + batch])) for i in range(0, n, batch)], x, y


def classification_batches(n=256, batch=32, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return [(tg.tensor(x[i:i + batch]), tg.tensor(y[i:i + batch])) for i in range(0, n, batch)]


def mlp():
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))


def snapshot(model, optimizer):
    """Copies of everything lr_find must put back: parameters, grads, optimizer state and hyperparameters."""
    params = [p.detach().numpy().copy() for p in model.parameters()]
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    sd = optimizer.state_dict()
    state = {i: {k: np.array(v.numpy() if hasattr(v, "numpy") else v) for k, v in s.items()}
             for i, s in sd["state"].items()}
    return params, grads, state, [dict(g) for g in sd["param_groups"]]


def assert_same_snapshot(a, b):
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    assert [g is None for g in a[1]] == [g is None for g in b[1]]
    for x, y in zip(a[1], b[1]):
        if x is not None:
            np.testing.assert_array_equal(x, y)
    assert a[2].keys() == b[2].keys()
    for i in a[2]:
        assert a[2][i].keys() == b[2][i].keys()
        for k in a[2][i]:
            np.testing.assert_array_equal(a[2][i][k], b[2][i][k])
    assert a[3] == b[3]


def warm_up(model, optimizer, loss_fn, batches, steps=3):
    """A few real steps, so the optimizer has state (Adam's moments) and the parameters have grads."""
    for x, y in batches[:steps]:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()


@pytest.mark.parametrize("make_optimizer", [lambda ps: Adam(ps, lr=1e-3, betas=(0.8, 0.99)),
                                            lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-4)])
def test_restores_model_and_optimizer_exactly(make_optimizer):
    batches, loss_fn = classification_batches(), nn.CrossEntropyLoss()
    model = mlp()
    optimizer = make_optimizer(model.parameters())
    warm_up(model, optimizer, loss_fn, batches)
    before = snapshot(model, optimizer)
    result = lr_find(model, loss_fn, batches, optimizer, start_lr=1e-5, end_lr=100, num_steps=60)
    assert len(result.lrs) > 10
    assert_same_snapshot(snapshot(model, optimizer), before)
    # and training goes on exactly as if lr_find had never run
    twin = mlp()
    twin.load_state_dict(model.state_dict())
    twin_optimizer = make_optimizer(twin.parameters())
    twin_optimizer.load_state_dict(optimizer.state_dict())
    for p, q in zip(twin.parameters(), model.parameters()):
        p.grad = q.grad.clone()
    warm_up(model, optimizer, loss_fn, batches[3:])
    warm_up(twin, twin_optimizer, loss_fn, batches[3:])
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_restores_even_when_the_loss_function_raises():
    batches, model = classification_batches(), mlp()
    optimizer = SGD(model.parameters(), lr=0.1)
    before, calls = snapshot(model, optimizer), []

    def failing_loss(out, y):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return nn.functional.cross_entropy(out, y)

    with pytest.raises(RuntimeError, match="boom"):
        lr_find(model, failing_loss, batches, optimizer, start_lr=1e-3, end_lr=1.0, num_steps=20)
    assert_same_snapshot(snapshot(model, optimizer), before)


def test_lrs_grow_exponentially_and_the_optimizer_uses_them():
    batches, _, _ = regression_data()
    model = nn.Linear(2, 1)
    optimizer = SGD(model.parameters(), lr=0.01)
    seen = []

    def loss_fn(out, y):  # records the lr the optimizer holds for this step's update
        seen.append(optimizer.param_groups[0]["lr"])
        return nn.functional.mse_loss(out, y)

    result = lr_find(model, loss_fn, batches, optimizer, start_lr=1e-6, end_lr=1e-2, num_steps=30)
    assert not result.diverged and len(result.lrs) == len(result.losses) == len(result.raw_losses) == 30
    expected = [1e-6 * (1e-2 / 1e-6) ** (i / 29) for i in range(30)]
    np.testing.assert_allclose(result.lrs, expected, rtol=1e-12)
    assert result.lrs[0] == 1e-6 and math.isclose(result.lrs[-1], 1e-2, rel_tol=1e-12)
    np.testing.assert_allclose(np.diff(np.log(result.lrs)), np.log(1e4) / 29, rtol=1e-9)
    assert seen == result.lrs
    assert optimizer.param_groups[0]["lr"] == 0.01  # put back


def test_first_loss_is_the_untrained_models_and_smoothing_is_a_bias_corrected_average():
    batches, _, _ = regression_data()
    model = nn.Linear(2, 1)
    first = nn.functional.mse_loss(model(batches[0][0]), batches[0][1]).item()
    result = lr_find(model, nn.MSELoss(), batches, SGD(model.parameters()), start_lr=1e-4, end_lr=0.1,
                     num_steps=40, smooth=0.1)
    assert result.raw_losses[0] == pytest.approx(first, rel=1e-6) == result.losses[0]
    avg, expected = 0.0, []
    for i, loss in enumerate(result.raw_losses):
        avg = 0.9 * avg + 0.1 * loss
        expected.append(avg / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.losses, expected, rtol=1e-12)
    unsmoothed = lr_find(model, nn.MSELoss(), batches, SGD(model.parameters()), start_lr=1e-4, end_lr=0.1,
                         num_steps=40, smooth=1.0)
    assert unsmoothed.losses == unsmoothed.raw_losses


def test_stops_when_the_loss_diverges():
    batches, _, _ = regression_data()
    model = nn.Linear(2, 1)
    result = lr_find(model, nn.MSELoss(), batches, SGD(model.parameters()), num_steps=100)
    assert result.diverged and 10 < len(result.lrs) < 100
    best_before_last = min(result.losses[:-1])
    assert result.losses[-1] > 4.0 * best_before_last  # the last recorded step is the one that crossed the line
    assert all(s <= 4.0 * min(result.losses[:i + 1]) for i, s in enumerate(result.losses[:-1]))
    lenient = lr_find(model, nn.MSELoss(), batches, SGD(model.parameters()), num_steps=100, diverge_threshold=50.0)
    assert len(lenient.lrs) > len(result.lrs)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the inf loss makes nan gradients
def test_stops_on_a_non_finite_loss_without_recording_it():
    batches, model = classification_batches(), mlp()
    calls = []

    def loss_fn(out, y):
        calls.append(1)
        loss = nn.functional.cross_entropy(out, y)
        return loss * float("inf") if len(calls) == 8 else loss

    result = lr_find(model, loss_fn, batches, SGD(model.parameters()), start_lr=1e-5, end_lr=1e-3, num_steps=30)
    assert result.diverged and len(result.lrs) == 7 and all(math.isfinite(v) for v in result.raw_losses)


def test_suggestion_is_a_sensible_lr_for_linear_regression():
    """For SGD on the mean squared error the largest stable lr is 2 / lambda_max(H), H = 2 E[[x 1][x 1]^T]:
    the suggestion must be below it and not absurdly small, and training with it must work."""
    batches, x, y = regression_data()
    features = np.hstack([x, np.ones((len(x), 1))]).astype(np.float64)
    largest_stable = 2 / np.linalg.eigvalsh(2 * features.T @ features / len(x)).max()
    model = nn.Linear(2, 1)
    optimizer = SGD(model.parameters(), lr=1e-3)
    result = lr_find(model, nn.MSELoss(), batches, optimizer, start_lr=1e-6, end_lr=10, num_steps=100)
    assert result.suggestion is not None and largest_stable / 100 < result.suggestion < largest_stable
    assert result.suggestion in result.lrs and result.lrs.index(result.suggestion) < int(np.argmin(result.losses))
    for group in optimizer.param_groups:
        group["lr"] = result.suggestion
    start = nn.functional.mse_loss(model(tg.tensor(x)), tg.tensor(y)).item()
    for _ in range(3):
        warm_up(model, optimizer, nn.MSELoss(), batches, steps=len(batches))
    assert nn.functional.mse_loss(model(tg.tensor(x)), tg.tensor(y)).item() < start / 20


def test_suggestion_for_a_classifier_with_a_dataloader():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((256, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    loader = DataLoader(TensorDataset(tg.tensor(x), tg.tensor(y)), batch_size=32, shuffle=True)  # 8 batches, cycled
    model = mlp()
    result = lr_find(model, nn.CrossEntropyLoss(), loader, SGD(model.parameters(), momentum=0.9),
                     start_lr=1e-5, end_lr=10, num_steps=80)
    assert 1e-3 < result.suggestion < 3.0


@pytest.mark.filterwarnings("ignore:lr_find. the smoothed loss")  # 8 steps: too few for a suggestion
def test_batches_are_cycled_and_a_one_shot_iterator_is_an_error():
    batches = classification_batches()[:3]
    model, ids = mlp(), []

    def loss_fn(out, y):
        ids.append(id(y))
        return nn.functional.cross_entropy(out, y)

    lr_find(model, loss_fn, batches, SGD(model.parameters()), start_lr=1e-4, end_lr=1e-3, num_steps=8)
    assert ids == [id(b[1]) for b in batches] * 2 + [id(batches[0][1]), id(batches[1][1])]
    with pytest.raises(ValueError, match="lr_find: batches gave no batches.*DataLoader"):
        lr_find(model, nn.CrossEntropyLoss(), iter(batches), SGD(model.parameters()), num_steps=8)
    with pytest.raises(TypeError, match=r"lr_find: each batch must be an \(x, y\) pair, got tuple of length 3"):
        lr_find(model, nn.CrossEntropyLoss(), [(1, 2, 3)], SGD(model.parameters()), num_steps=8)


@pytest.mark.parametrize("kwargs, message", [
    ({"start_lr": 1.0, "end_lr": 0.1}, "start_lr < end_lr"),
    ({"start_lr": 0.0}, "start_lr < end_lr"),
    ({"num_steps": 1}, "num_steps"),
    ({"smooth": 0.0}, "smooth"),
    ({"diverge_threshold": 1.0}, "diverge_threshold"),
])
def test_bad_arguments(kwargs, message):
    model = mlp()
    with pytest.raises(ValueError, match=f"lr_find: .*{message}"):
        lr_find(model, nn.CrossEntropyLoss(), classification_batches(), SGD(model.parameters()), **kwargs)


def test_no_suggestion_when_the_loss_only_rises():
    batches, _, _ = regression_data()
    model = nn.Linear(2, 1)
    with pytest.warns(UserWarning, match="lower start_lr"):
        result = lr_find(model, nn.MSELoss(), batches, SGD(model.parameters()), start_lr=3.0, end_lr=100,
                         num_steps=50)
    assert result.suggestion is None and result.diverged
    ax = result.plot()
    assert len(ax.lines) == 2  # the curves, no marker
    plt.close(ax.figure)


def test_plot_draws_the_curves_on_a_log_axis_and_marks_the_suggestion():
    batches, _, _ = regression_data()
    model = nn.Linear(2, 1)
    result = lr_find(model, nn.MSELoss(), batches, SGD(model.parameters()), num_steps=100)
    ax = result.plot()
    assert isinstance(ax, matplotlib.axes.Axes) and ax.get_xscale() == "log"
    raw, smoothed, marker = ax.lines
    np.testing.assert_array_equal(smoothed.get_xdata(), result.lrs)
    np.testing.assert_array_equal(smoothed.get_ydata(), result.losses)
    np.testing.assert_array_equal(raw.get_ydata(), result.raw_losses)
    assert list(marker.get_xdata()) == [result.suggestion]
    assert "suggestion" in marker.get_label()
    plt.close(ax.figure)
    fig, given = plt.subplots()
    assert result.plot(ax=given, show_raw=False) is given and len(given.lines) == 2
    plt.close(fig)


def test_works_with_a_pytorch_model_and_optimizer():
    batches, _, _ = regression_data()
    torch_batches = [(torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy())) for x, y in batches]
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = lr_find(model, torch.nn.MSELoss(), torch_batches, optimizer, num_steps=60)
    assert isinstance(result, LRFinderResult) and len(result.lrs) > 30 and 1e-3 < result.suggestion < 10
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert optimizer.state_dict()["state"] == {} and optimizer.param_groups[0]["lr"] == 1e-3
