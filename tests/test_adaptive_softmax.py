"""``nn.AdaptiveLogSoftmaxWithLoss`` (nn/modules/adaptive.py) against PyTorch with the same weights: the
per-row log-probabilities of the targets and the loss, their gradients in the input and every layer, ``log_prob``,
``predict``, one unbatched input, the layers' names and repr, and PyTorch's refusals."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
X = RNG.standard_normal((7, 16))
TARGETS = np.array([0, 3, 5, 9, 14, 19, 2])  # (the shortlist, and both clusters)


def run(lib):
    model = lib.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10], div_value=2.0, head_bias=True)
    state = {name: np.random.default_rng(i).standard_normal(tuple(value.shape)) * 0.3
             for i, (name, value) in enumerate(model.state_dict().items())}
    model.load_state_dict({name: lib.tensor(value, dtype=lib.float32) for name, value in state.items()})
    x = lib.tensor(X, dtype=lib.float32, requires_grad=True)
    output, loss = model(x, lib.tensor(TARGETS))
    loss.backward()
    one = model(x[0].detach(), lib.tensor(TARGETS[0]))
    numbers = [output.detach().numpy(), loss.detach().numpy(), x.grad.numpy(), model.head.weight.grad.numpy(),
               model.tail[1][0].weight.grad.numpy(), model.log_prob(x.detach()).detach().numpy(),
               model.predict(x.detach()).numpy(), one.output.detach().numpy(), one.loss.detach().numpy()]
    return numbers, (list(model.state_dict()), repr(model), type(one).__name__, one._fields)


def test_outputs_losses_gradients_and_predictions_match_pytorch():
    (ours, our_form), (theirs, their_form) = run(tl), run(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert our_form == their_form


def test_pytorchs_refusals():
    for lib in (tl, torch):
        with pytest.raises(ValueError, match="cutoffs should be a sequence of unique, positive integers"):
            lib.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [10, 4])
        with pytest.raises(ValueError, match="cutoffs should be a sequence of length larger than 0"):
            lib.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [])
        model = lib.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10])
        with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\]"):
            model(lib.zeros(2, 16), lib.tensor([1, 20]))
        with pytest.raises(RuntimeError, match="Input and target should have the same size in the batch dimension"):
            model(lib.zeros(3, 16), lib.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"):
            model(lib.zeros(2, 16), lib.zeros(2, 2, dtype=lib.int64))


def test_a_float_target_and_a_single_input_to_log_prob_are_refused_as_pytorch_refuses_them():
    for lib in (tl, torch):
        model = lib.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10])
        with pytest.raises(RuntimeError, match="Expected dtype int32/int64"):
            model(lib.zeros(2, 16), lib.tensor([1.0, 2.0]))
        with pytest.raises(IndexError):
            model.log_prob(lib.zeros(16))
