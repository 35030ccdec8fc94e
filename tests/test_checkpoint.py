"""utils.checkpoint: gradients equal to the plain run's (dropout and autocast replayed), the activations really let
go, both of PyTorch's ways (use_reentrant) behaving as PyTorch's do, checkpoint_sequential, and the stand-in GPU."""
import contextlib
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy, ndarray

import tinygrad_lite as tl

WAYS = pytest.mark.parametrize("use_reentrant", [True, False], ids=["reentrant", "non-reentrant"])


def mlp(lib, depth=4, width=6, p=0.0):
    layers = [lib.nn.Linear(3, width), lib.nn.Tanh(), lib.nn.Dropout(p)]
    for _ in range(depth - 2):
        layers += [lib.nn.Linear(width, width), lib.nn.GELU(), lib.nn.Dropout(p)]
    return lib.nn.Sequential(*layers, lib.nn.Linear(width, 2))


def same_weights(lib, model, seed=0):
    rng = np.random.default_rng(seed)
    model.load_state_dict({k: lib.tensor(rng.standard_normal(tuple(v.shape)).astype("float32") / 2)
                           for k, v in model.state_dict().items()})
    return model


def gradients(lib, model, x, forward, device="cpu"):
    model.zero_grad()
    x = lib.tensor(x, requires_grad=True, device=device)
    forward(model, x).pow(2).sum().backward()
    return [p.grad.cpu().numpy().copy() for p in model.parameters()] + [x.grad.cpu().numpy().copy()]


@WAYS
def test_gradients_are_the_plain_runs_with_dropout_replayed(use_reentrant):
    """A checkpointed dropout network gets the gradients of the same network run plainly with the same seed: the
    second run draws the masks of the first. And without dropout, PyTorch's gradients."""
    x = np.random.default_rng(1).standard_normal((8, 3)).astype("float32")
    model = same_weights(tl, mlp(tl, p=0.3))
    tl.manual_seed(5)
    plain = gradients(tl, model, x, lambda m, a: m(a))
    tl.manual_seed(5)
    checkpointed = gradients(tl, model, x, lambda m, a: tl.utils.checkpoint.checkpoint(
        m, a, use_reentrant=use_reentrant))
    for a, b in zip(checkpointed, plain):
        np.testing.assert_array_equal(a, b)
    ours = gradients(tl, same_weights(tl, mlp(tl)), x, lambda m, a: tl.utils.checkpoint.checkpoint_sequential(
        m, 3, a, use_reentrant=use_reentrant))
    theirs = gradients(torch, same_weights(torch, mlp(torch)), x, lambda m, a: torch.utils.checkpoint
                       .checkpoint_sequential(m, 3, a, use_reentrant=use_reentrant))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@WAYS
def test_the_activations_are_let_go(use_reentrant):
    """After the forward pass, a network checkpointed in 4 parts holds well under half the memory of the plain
    run (the parts' inputs and the last part's activations, not every layer's); backward still works."""
    model = tl.nn.Sequential(*[layer for _ in range(16) for layer in (tl.nn.Linear(128, 128), tl.nn.ReLU())])
    x = tl.randn(256, 128, requires_grad=True)

    def held(forward):
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        out = forward()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        out.sum().backward()
        return after - before

    plain = held(lambda: model(x))
    checkpointed = held(lambda: tl.utils.checkpoint.checkpoint_sequential(model, 4, x, use_reentrant=use_reentrant))
    assert checkpointed < 0.45 * plain, (checkpointed, plain)


def behaviour(lib, use_reentrant):
    """What a script meets, in words: each case's result, or its exception's type and first words."""
    checkpoint = lib.utils.checkpoint.checkpoint
    model = same_weights(lib, mlp(lib))
    x = lib.tensor(np.ones((2, 3), "float32"), requires_grad=True)
    cases = {
        "autograd.grad": lambda: lib.autograd.grad(checkpoint(model, x, use_reentrant=use_reentrant).sum(), x)[0]
        .shape == (2, 3),
        "backward(inputs=)": lambda: checkpoint(model, x, use_reentrant=use_reentrant).sum().backward(inputs=[x]),
        "keyword arguments": lambda: checkpoint(lambda a, b=1: a * b, x, b=2, use_reentrant=use_reentrant).sum()
        .item(),
        "inputs without grad": lambda: checkpoint(model, lib.ones(2, 3), use_reentrant=use_reentrant).requires_grad,
        "tuple out": lambda: [type(o).__name__ for o in checkpoint(lambda a: (a * 2, 3, None), x,
                                                                   use_reentrant=use_reentrant)],
        "second derivative": lambda: lib.autograd.grad(lib.autograd.grad(
            checkpoint(lambda a: (a ** 3).sum(), x, use_reentrant=use_reentrant), x, create_graph=True)[0].sum(),
            x)[0].tolist(),
        "integer and constant outputs": lambda: [o.requires_grad for o in checkpoint(
            lambda a: (a * 2, (a > 0).long(), lib.ones(2)), x, use_reentrant=use_reentrant)],
        "backward twice": lambda: [out.sum().backward(retain_graph=True), out.sum().backward()] and None
        if (out := checkpoint(model, x, use_reentrant=use_reentrant)) is not None else None,
        "context_fn": lambda: checkpoint(model, x, use_reentrant=use_reentrant, context_fn=lambda: (
            contextlib.nullcontext(), contextlib.nullcontext())).shape == (2, 2),
        "determinism_check": lambda: checkpoint(model, x, use_reentrant=use_reentrant, determinism_check="x").shape
        == (2, 2),
        "sequential, 0 parts": lambda: lib.utils.checkpoint.checkpoint_sequential(model, 0, x,
                                                                                  use_reentrant=use_reentrant),
        "sequential, a keyword": lambda: lib.utils.checkpoint.checkpoint_sequential(model, 2, x, foo=1,
                                                                                    use_reentrant=use_reentrant),
    }
    seen = {}
    for name, case in cases.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                seen[name] = case()
            except Exception as e:  # noqa: BLE001 (the exception is what is compared)
                seen[name] = (type(e).__name__, str(e)[:40])
        seen[name] = (seen[name], [str(w.message)[:40] for w in caught])
    with lib.no_grad():
        seen["under no_grad"] = checkpoint(model, x, use_reentrant=use_reentrant).requires_grad
    return seen


@WAYS
def test_behaves_as_pytorchs(use_reentrant):
    assert behaviour(tl, use_reentrant) == behaviour(torch, use_reentrant)


def test_choosing_no_way_warns_as_pytorch():
    for lib in (tl, torch):
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
            out = lib.utils.checkpoint.checkpoint(lib.nn.Linear(2, 2), lib.ones(1, 2, requires_grad=True))
        assert type(out.grad_fn).__name__.startswith("CheckpointFunction")  # (PyTorch's default: the re-entrant way)
        with pytest.raises(ValueError, match="context_fn"):
            lib.utils.checkpoint.checkpoint(lib.exp, lib.ones(1), use_reentrant=True, context_fn=lambda: None)


@WAYS
def test_a_second_run_that_differs_is_caught(use_reentrant):
    calls = []

    def grows(a):
        calls.append(1)
        return a.repeat(len(calls), 1)

    out = tl.utils.checkpoint.checkpoint(grows, tl.ones(2, 3, requires_grad=True), use_reentrant=use_reentrant)
    with pytest.raises(tl.utils.checkpoint.CheckpointError, match="recomputed outputs differ"):
        out.sum().backward()


@WAYS
def test_autocast_is_open_again_for_the_second_run(use_reentrant):
    """Under autocast the second run computes in float16 as the first did: the gradients equal a plain autocast
    run's."""
    x = np.random.default_rng(2).standard_normal((4, 3)).astype("float32")
    model = same_weights(tl, mlp(tl))
    results = []
    for forward in (lambda m, a: m(a), lambda m, a: tl.utils.checkpoint.checkpoint(m, a, use_reentrant=use_reentrant)):
        with tl.autocast("cpu", dtype=tl.float16):
            results.append(gradients(tl, model, x, lambda m, a, f=forward: f(m, a).float()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@WAYS
def test_on_the_gpu_the_gpus_random_numbers_are_replayed(use_reentrant):
    with FakeCuPy().install():
        model = same_weights(tl, mlp(tl, p=0.5)).to("cuda")
        x = np.ones((6, 3), "float32")
        tl.manual_seed(3)
        plain = gradients(tl, model, x, lambda m, a: m(a), "cuda")
        tl.manual_seed(3)
        checkpointed = gradients(tl, model, x, lambda m, a: tl.utils.checkpoint.checkpoint(
            m, a, use_reentrant=use_reentrant), "cuda")
        assert all(isinstance(p.grad.array, ndarray) for p in model.parameters())
    for a, b in zip(checkpointed, plain):
        np.testing.assert_array_equal(a, b)


@WAYS
def test_a_second_backward_is_refused_and_a_weight_changed_since_is_read_anew(use_reentrant):
    """A second backward without retain_graph is refused, as PyTorch's; a weight changed in place between forward
    and backward is read as it is now by the second run, in both ways, as PyTorch's (r46)."""
    layer, x = tl.nn.Linear(3, 3), tl.ones(2, 3, requires_grad=True)
    out = tl.utils.checkpoint.checkpoint(layer, x, use_reentrant=use_reentrant).sum()
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()
    x.grad = None
    out = tl.utils.checkpoint.checkpoint(layer, x, use_reentrant=use_reentrant).sum()
    with tl.no_grad():
        layer.weight.mul_(2)
    out.backward()
    assert tl.allclose(x.grad, layer.weight.sum(0).expand(2, 3))


def test_the_helpers_scripts_call():
    with tl.utils.checkpoint.set_checkpoint_early_stop(False), tl.utils.checkpoint.set_checkpoint_debug_enabled(True):
        out = tl.utils.checkpoint.checkpoint(tl.exp, tl.zeros(2, requires_grad=True), use_reentrant=False)
    assert out.tolist() == [1.0, 1.0]
    a, b = tl.utils.checkpoint.detach_variable((tl.ones(1, requires_grad=True) * 2, 3))
    assert a.is_leaf and a.requires_grad and b == 3
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        tl.utils.checkpoint.check_backward_validity((tl.ones(1),))


def test_an_argument_changed_in_place_since_the_first_run_is_refused():
    """(r46) Inside the function or after it: the second run would read other numbers (PyTorch raises too)."""
    x = tl.ones(3, requires_grad=True)
    for change_inside in (True, False):
        h = x * 1
        out = tl.utils.checkpoint.checkpoint(lambda a, inside=change_inside: (a.mul_(2) if inside else a).sin(), h,
                                             use_reentrant=False)
        if not change_inside:
            with tl.no_grad():
                h.add_(1)
        with pytest.raises(RuntimeError, match="argument 0 .* was changed in place since the first run began"):
            out.sum().backward()


def test_a_dict_out_of_the_reentrant_way_is_refused_with_the_way_that_tracks_it():
    """PyTorch returns the dict untracked (no gradient flows back): a deliberate difference."""
    x = tl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned a dict.*use_reentrant=False"):
        tl.utils.checkpoint.checkpoint(lambda a: {"y": a * 2}, x, use_reentrant=True)
    out = tl.utils.checkpoint.checkpoint(lambda a: {"y": a * 2}, x, use_reentrant=False)
    out["y"].sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with tl.no_grad():  # (r48) nothing to differentiate: the dict, as PyTorch returns it
        assert tl.utils.checkpoint.checkpoint(lambda a: {"y": a * 2}, x, use_reentrant=True)["y"].tolist() == [2, 2]
