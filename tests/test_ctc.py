"""``F.ctc_loss`` and ``nn.CTCLoss`` against PyTorch: the loss and the gradient of the logits under log_softmax, in
float64, for padded and concatenated targets, each reduction, empty targets, repeated labels (which need a blank
between them), impossible targets (inf, or 0 with ``zero_infinity``), another blank; PyTorch's gradient convention
for log_probs given directly; float32 inside CPU autocast; the errors."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 3, 5))
TARGETS = np.array([[1, 2, 2], [3, 0, 0], [4, 4, 1]])  # (the second's padding is 0s after its one label)


def _ctc(lib, targets, input_lengths, target_lengths, log_softmax=True, **options):
    """(loss, the logits' gradient) for a loss weighed per sequence, so that a gradient sent to the wrong one shows."""
    logits = lib.tensor(LOGITS, requires_grad=True)
    loss = lib.nn.functional.ctc_loss(logits.log_softmax(2) if log_softmax else logits, lib.tensor(targets),
                                      input_lengths, target_lengths, **options)
    (loss * lib.tensor(np.arange(1.0, loss.numel() + 1).reshape(tuple(loss.shape)))).sum().backward()
    return loss.detach().numpy(), logits.grad.numpy()


CASES = {
    "mean": (TARGETS, (6, 5, 6), (3, 1, 3), {}),
    "sum": (TARGETS, (6, 5, 6), (3, 1, 3), {"reduction": "sum"}),
    "none": (TARGETS, (6, 5, 6), (3, 1, 3), {"reduction": "none"}),
    "concatenated targets": (np.array([1, 2, 2, 3, 4, 4, 1]), (6, 5, 6), (3, 1, 3), {"reduction": "none"}),
    "an empty target": (TARGETS, (6, 5, 6), (3, 0, 3), {"reduction": "none"}),
    "short inputs": (TARGETS, (4, 2, 5), (3, 1, 3), {"reduction": "none"}),
    "log_probs given directly": (TARGETS, (6, 5, 6), (3, 1, 3), {"reduction": "none", "log_softmax": False}),
    "another blank": (np.array([[1, 2, 2], [4, 0, 0], [4, 4, 1]]), (6, 5, 6), (3, 1, 3), {"blank": 3}),
    "zero_infinity": (TARGETS, (2, 5, 6), (3, 1, 3), {"reduction": "none", "zero_infinity": True}),
    "no frames, an empty target": (TARGETS, (6, 0, 6), (3, 0, 3), {"reduction": "none"}),
}


@pytest.mark.parametrize("case", CASES)
def test_the_loss_and_its_gradient_match_pytorch(case):
    targets, input_lengths, target_lengths, options = CASES[case]
    ours, theirs = _ctc(tl, targets, input_lengths, target_lengths, **options), _ctc(
        torch, targets, input_lengths, target_lengths, **options)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and np.allclose(a, b, atol=1e-10)


def test_an_impossible_target_costs_inf_and_lengths_may_be_tensors_or_one_number():
    """Three labels with a repeat need four frames: in two, no path reads the target (PyTorch's gradient there is
    nan, ours 0: documented)."""
    loss, _ = _ctc(tl, TARGETS, tl.tensor([2, 5, 6]), tl.tensor([3, 1, 3]), reduction="none")
    assert np.isinf(loss[0]) and np.allclose(loss[1:], _ctc(torch, TARGETS, (2, 5, 6), (3, 1, 3),
                                                            reduction="none")[0][1:])
    silent, _ = _ctc(tl, TARGETS, (6, 0, 6), (3, 1, 3), reduction="none")  # (no frame for a label: inf)
    assert np.isinf(silent[1]) and np.isfinite(silent[[0, 2]]).all()
    one = tl.nn.functional.ctc_loss(tl.tensor(LOGITS[:, 0]).log_softmax(1), tl.tensor([1, 2]), 6, 2)
    assert np.isclose(one.item(), torch.nn.functional.ctc_loss(torch.tensor(LOGITS[:, 0]).log_softmax(1),
                                                               torch.tensor([1, 2]), (6,), (2,)).item())


def test_the_module_and_autocast():
    for lib in (tl, torch):
        criterion = lib.nn.CTCLoss(blank=4, zero_infinity=True)
        assert repr(criterion) == "CTCLoss()" and criterion.blank == 4 and criterion.reduction == "mean"
        log_probs = lib.tensor(LOGITS).float().log_softmax(2)
        with lib.autocast("cpu", dtype=lib.float16):
            assert criterion(log_probs.half(), lib.tensor([[1, 2]] * 3), (6, 6, 6), (2, 2, 2)).dtype == lib.float32


BAD = {
    "input_lengths past T": lambda lib, F, lp: F.ctc_loss(lp, lib.tensor(TARGETS), (7, 5, 6), (3, 1, 3)),
    "too few lengths": lambda lib, F, lp: F.ctc_loss(lp, lib.tensor(TARGETS), (6, 5), (3, 1, 3)),
    "targets shorter than a length": lambda lib, F, lp: F.ctc_loss(lp, lib.tensor(TARGETS), (6, 5, 6), (3, 1, 4)),
    "a blank past the classes": lambda lib, F, lp: F.ctc_loss(lp, lib.tensor(TARGETS), (6, 5, 6), (3, 1, 3),
                                                              blank=5),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_raise_a_runtime_error_as_in_pytorch(case):
    for lib in (torch, tl):
        with pytest.raises(RuntimeError) as error:
            BAD[case](lib, lib.nn.functional, lib.tensor(LOGITS).log_softmax(2))
        assert lib is torch or "ctc_loss" in str(error.value)
    with pytest.raises(RuntimeError, match="other than the blank"):  # (PyTorch computes something)
        tl.nn.functional.ctc_loss(tl.tensor(LOGITS).log_softmax(2), tl.tensor(TARGETS), (6, 5, 6), (3, 1, 3), blank=1)
