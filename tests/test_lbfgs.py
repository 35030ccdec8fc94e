"""``optim.LBFGS`` against PyTorch's, in float64: the loss after each step, the evaluations and iterations it
counted, with and without the strong Wolfe line search and with a short history; a state_dict that resumes the
same run; the errors of a step without a closure and of parameter groups; and the Rosenbrock valley solved."""
import copy

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((40, 3)), RNG.standard_normal((40, 1))


def _problem(lib):
    """A small tanh network's least squares in float64, from the same weights in both libraries."""
    model = lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1)).double()
    weights = np.random.default_rng(1)
    model.load_state_dict({k: lib.tensor(weights.standard_normal(tuple(v.shape)) * 0.5)
                           for k, v in model.state_dict().items()})
    x, y = lib.tensor(X), lib.tensor(Y)

    def loss_of(optimizer):
        def closure():
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss
        return closure
    return model, loss_of


def _steps(lib, steps=4, **options):
    model, loss_of = _problem(lib)
    optimizer = lib.optim.LBFGS(model.parameters(), **options)
    losses = [optimizer.step(loss_of(optimizer)).detach().item() for _ in range(steps)]
    state = optimizer.state_dict()["state"][0]
    return losses, (state["func_evals"], state["n_iter"])


@pytest.mark.parametrize("options", [{}, {"line_search_fn": "strong_wolfe"},
                                     {"lr": 0.5, "history_size": 3, "max_iter": 7},
                                     {"line_search_fn": "strong_wolfe", "history_size": 4, "max_iter": 12}])
def test_each_step_matches_pytorch(options):
    (ours, our_counts), (theirs, their_counts) = _steps(tl, **options), _steps(torch, **options)
    np.testing.assert_allclose(ours, theirs, rtol=1e-7)  # (80 iterations from BLAS's last bits)
    assert our_counts == their_counts


def test_a_saved_state_resumes_the_same_run():
    model, loss_of = _problem(tl)
    optimizer = tl.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe", max_iter=5)
    optimizer.step(loss_of(optimizer))
    saved_model, saved = copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())
    straight = [optimizer.step(loss_of(optimizer)).detach().item() for _ in range(2)]
    model.load_state_dict(saved_model)
    resumed = tl.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe", max_iter=5)
    resumed.load_state_dict(saved)
    assert [resumed.step(loss_of(resumed)).detach().item() for _ in range(2)] == straight


def test_the_rosenbrock_valley_and_the_errors():
    """The classic test of a quasi-Newton method: (1 - a)^2 + 100 (b - a^2)^2 from (-1.5, 2), minimum at (1, 1)."""
    point = tl.tensor([-1.5, 2.0], dtype=tl.float64, requires_grad=True)
    optimizer = tl.optim.LBFGS([point], line_search_fn="strong_wolfe", max_iter=100)

    def closure():
        optimizer.zero_grad()
        loss = (1 - point[0]) ** 2 + 100 * (point[1] - point[0] ** 2) ** 2
        loss.backward()
        return loss
    optimizer.step(closure)
    assert np.allclose(point.detach().numpy(), [1.0, 1.0], atol=1e-6)
    with pytest.raises(TypeError, match="needs a closure"):
        optimizer.step()
    for lib in (tl, torch):
        with pytest.raises(ValueError):
            groups = [{"params": [lib.ones(1, requires_grad=True)]}, {"params": [lib.zeros(1, requires_grad=True)]}]
            lib.optim.LBFGS(groups)
    with pytest.raises(RuntimeError, match="strong_wolfe"):  # (here at once; PyTorch's at the first step)
        tl.optim.LBFGS([tl.ones(1, requires_grad=True)], line_search_fn="armijo")


def test_on_the_gpu_stand_in_the_steps_equal_the_cpus():
    """The flat vectors, the two-loop recursion and the line search stay on the device (tests/fake_cupy.py)."""
    from fake_cupy import FakeCuPy

    def run(device):
        point = tl.tensor([-1.5, 2.0], dtype=tl.float64, device=device, requires_grad=True)
        optimizer = tl.optim.LBFGS([point], line_search_fn="strong_wolfe", max_iter=8, history_size=3)

        def closure():
            optimizer.zero_grad()
            loss = (1 - point[0]) ** 2 + 100 * (point[1] - point[0] ** 2) ** 2
            loss.backward()
            return loss
        losses = [optimizer.step(closure).detach().item() for _ in range(2)]
        return losses, point.detach().cpu().numpy(), optimizer.state[point]["d"].device.type
    cpu = run("cpu")
    with FakeCuPy().install():
        gpu = run("cuda")
    assert gpu[0] == cpu[0] and np.array_equal(gpu[1], cpu[1]) and gpu[2] == "cuda"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's overflow warnings: intended here)
def test_a_diverged_search_leaves_nan_as_pytorchs_does():
    """A loss that overflows: the line search's step is inf or nan, and the parameters become nan, as in
    PyTorch, rather than an error from inside the optimizer."""
    results = []
    for lib in (tl, torch):
        point = lib.tensor([3.0, 3.0], dtype=lib.float64, requires_grad=True)
        optimizer = lib.optim.LBFGS([point], line_search_fn="strong_wolfe", lr=1e3)

        def closure(point=point, optimizer=optimizer):
            optimizer.zero_grad()
            loss = (point.exp() ** 300).sum()
            loss.backward()
            return loss
        optimizer.step(closure)
        results.append(np.isnan(point.detach().numpy()).tolist())
    assert results[0] == results[1]
