"""Loss functions (nn.functional) and loss modules (nn) against PyTorch, finite differences, and bad input.

Values and input gradients are compared with PyTorch in float64 at rtol 1e-8 (``helpers.compare``), for every
reduction and option; float32 inputs must give float32 losses close to PyTorch's; ``gradcheck`` checks every loss
against central differences; and each error a learner is likely to meet is checked for the words that help.
"""
import os
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from helpers import assert_same, compare, seeds, shapes
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tg
import tinygrad_lite.nn.functional as F
from tinygrad_lite.nn.modules import loss as L

REDUCTIONS = ["mean", "sum", "none"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _both(array, dtype=None):
    """The same numbers as a tinygrad_lite tensor and a torch tensor (targets, weights: no grad)."""
    array = np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype)
    return tg.tensor(array), torch.tensor(array)


def _pair(name):
    """Our function and PyTorch's of the same name."""
    return getattr(F, name), getattr(TF, name)


# ==================================================================== regression: mse, l1, smooth_l1, huber
REGRESSION = [("mse_loss", {}), ("l1_loss", {}),
              ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 2.5}),
              ("smooth_l1_loss", {"beta": 0.0}),
              ("huber_loss", {}), ("huber_loss", {"delta": 0.3}), ("huber_loss", {"delta": 2.5})]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, options", REGRESSION)
def test_regression_losses_match_pytorch(name, options, reduction):
    ours, theirs = _pair(name)
    rng = _rng()
    x, y = 2 * rng.standard_normal((6, 5)), 2 * rng.standard_normal((6, 5))  # errors on both sides of beta/delta
    compare(lambda a, b: ours(a, b, reduction=reduction, **options),
            lambda a, b: theirs(a, b, reduction=reduction, **options), [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_losses_with_weight_match_pytorch(name, reduction):
    ours, theirs = _pair(name)
    rng = _rng(1)
    x, y = 2 * rng.standard_normal((4, 3)), 2 * rng.standard_normal((4, 3))
    w_ours, w_torch = _both(rng.uniform(0.1, 2.0, (4, 3)))
    compare(lambda a, b: ours(a, b, reduction=reduction, weight=w_ours),
            lambda a, b: theirs(a, b, reduction=reduction, weight=w_torch), [x, y])


@pytest.mark.parametrize("name, options", REGRESSION)
def test_regression_losses_at_zero_error_and_at_the_kink(name, options):
    """Exact zeros of x - y (gradient 0) and |x - y| exactly at beta/delta, where the two pieces meet."""
    ours, theirs = _pair(name)
    kink = options.get("beta", options.get("delta", 1.0))
    x = np.array([0.0, 1.5, kink, -kink, 3.0, 0.25])
    y = np.array([0.0, 1.5, 0.0, 0.0, 3.0 - kink, 0.0])
    compare(lambda a, b: ours(a, b, reduction="sum", **options),
            lambda a, b: theirs(a, b, reduction="sum", **options), [x, y])


@given(shape=shapes(0, 4), seed=seeds, reduction=st.sampled_from(REDUCTIONS),
       which=st.sampled_from(range(len(REGRESSION))), scale=st.sampled_from([0.1, 1.0, 10.0]))
def test_regression_losses_random_shapes(shape, seed, reduction, which, scale):
    name, options = REGRESSION[which]
    ours, theirs = _pair(name)
    rng = _rng(seed)
    x, y = scale * rng.standard_normal(shape), scale * rng.standard_normal(shape)
    compare(lambda a, b: ours(a, b, reduction=reduction, **options),
            lambda a, b: theirs(a, b, reduction=reduction, **options), [x, y], seed=seed)


def test_smooth_l1_with_beta_zero_is_l1():
    x, y = tg.tensor([0.5, -2.0, 3.0]), tg.tensor([0.0, 0.0, 1.0])
    assert F.smooth_l1_loss(x, y, beta=0.0).item() == F.l1_loss(x, y).item()


def test_huber_is_delta_times_smooth_l1():
    rng = _rng(2)
    x, y = tg.tensor(3 * rng.standard_normal(20)), tg.tensor(3 * rng.standard_normal(20))
    np.testing.assert_allclose(F.huber_loss(x, y, delta=0.7).item(), 0.7 * F.smooth_l1_loss(x, y, beta=0.7).item(),
                               rtol=1e-12)


# ==================================================================== binary cross-entropy (probabilities)
BCE_WEIGHTS = [None, (4, 3), (3,), (4, 1)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", BCE_WEIGHTS)
@pytest.mark.parametrize("hard_targets", [False, True])
def test_binary_cross_entropy_matches_pytorch(reduction, weight_shape, hard_targets):
    rng = _rng(3)
    p = rng.uniform(0.02, 0.98, (4, 3))
    y = rng.integers(0, 2, (4, 3)).astype(np.float64) if hard_targets else rng.uniform(0, 1, (4, 3))
    w_ours, w_torch = _both(rng.uniform(0.1, 2.0, weight_shape)) if weight_shape else (None, None)
    compare(lambda a, b: F.binary_cross_entropy(a, b, w_ours, reduction=reduction),
            lambda a, b: TF.binary_cross_entropy(a, b, w_torch, reduction=reduction), [p, y])


@given(shape=shapes(0, 4), seed=seeds, reduction=st.sampled_from(REDUCTIONS))
def test_binary_cross_entropy_random_shapes(shape, seed, reduction):
    rng = _rng(seed)
    p, y = rng.uniform(0.001, 0.999, shape), rng.uniform(0, 1, shape)
    compare(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
            lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), [p, y], seed=seed)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    """A prediction of exactly 0 or 1 gives PyTorch's finite loss (each log clamped to >= -100), and no nan."""
    p, y = [0.0, 1.0, 0.0, 1.0, 1e-60, 0.5], [0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    ours, theirs = tg.tensor(p, dtype=tg.float64, requires_grad=True), torch.tensor(p, dtype=torch.float64)
    loss = F.binary_cross_entropy(ours, tg.tensor(y, dtype=tg.float64), reduction="none")
    assert_same(loss, TF.binary_cross_entropy(theirs, torch.tensor(y, dtype=torch.float64), reduction="none"))
    assert loss.tolist()[2:5] == [100.0, 100.0, 100.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy divide-by-zero warning either
        loss.sum().backward()
    assert np.isfinite(ours.grad.numpy()).all()


# ==================================================================== binary cross-entropy with logits
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (5, 3), (3,)])
@pytest.mark.parametrize("pos_weight_shape", [None, (3,), (5, 3)])
def test_bce_with_logits_matches_pytorch(reduction, weight_shape, pos_weight_shape):
    rng = _rng(4)
    x, y = 3 * rng.standard_normal((5, 3)), rng.uniform(0, 1, (5, 3))
    w_ours, w_torch = _both(rng.uniform(0.1, 2.0, weight_shape)) if weight_shape else (None, None)
    pw_ours, pw_torch = _both(rng.uniform(0.2, 4.0, pos_weight_shape)) if pos_weight_shape else (None, None)
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w_ours, reduction=reduction, pos_weight=pw_ours),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, w_torch, reduction=reduction, pos_weight=pw_torch),
            [x, y])


def test_bce_with_logits_pos_weight_broadcasts_over_the_class_dim_of_images():
    """A target (B, C, H, W) with pos_weight (C, 1, 1): one positive weight per class, for every pixel."""
    rng = _rng(5)
    x, y = rng.standard_normal((2, 3, 4, 4)), rng.integers(0, 2, (2, 3, 4, 4)).astype(np.float64)
    pw_ours, pw_torch = _both(rng.uniform(0.5, 3.0, (3, 1, 1)))
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw_ours),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, pos_weight=pw_torch), [x, y])


@given(shape=shapes(0, 4), seed=seeds, reduction=st.sampled_from(REDUCTIONS), use_pos_weight=st.booleans(),
       scale=st.sampled_from([1.0, 30.0, 1000.0]))
def test_bce_with_logits_random_shapes(shape, seed, reduction, use_pos_weight, scale):
    rng = _rng(seed)
    x, y = scale * rng.standard_normal(shape), rng.uniform(0, 1, shape)
    pw = rng.uniform(0.2, 4.0, shape[-1:]) if use_pos_weight else None
    pw_ours, pw_torch = _both(pw) if use_pos_weight else (None, None)
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=pw_ours),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=pw_torch),
            [x, y], seed=seed)


@pytest.mark.parametrize("use_pos_weight", [False, True])
def test_bce_with_logits_is_stable_for_huge_logits(use_pos_weight):
    x = np.array([1000.0, -3000.0, 1000.0, -3000.0, 0.0, 40.0, -40.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.3, 0.7])
    pw_ours, pw_torch = _both(np.full(7, 2.5)) if use_pos_weight else (None, None)
    ours, _ = compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none", pos_weight=pw_ours),
                      lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none", pos_weight=pw_torch),
                      [x, y])
    values = ours[0].numpy(force=True)
    assert np.isfinite(values).all()
    assert values[0] == 0.0 and values[1] == 0.0  # confidently right: exactly zero loss
    assert values[2] == 1000.0                    # confidently wrong: the logit itself


def test_bce_with_logits_slope_at_zero_is_one_half_minus_target():
    x = tg.zeros(3, dtype=tg.float64, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, tg.tensor([0.0, 1.0, 0.25], dtype=tg.float64), reduction="sum").backward()
    assert x.grad.tolist() == [0.5, -0.5, 0.25]


def test_bce_with_logits_equals_bce_of_sigmoid():
    rng = _rng(6)
    x, y = tg.tensor(rng.standard_normal(10)), tg.tensor(rng.uniform(0, 1, 10))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y).item(),
                               F.binary_cross_entropy(x.sigmoid(), y).item(), rtol=1e-12)


# ==================================================================== class-index targets: nll_loss, cross_entropy
def _class_problem(seed, input_shape, ignore=None, ignore_index=-100):
    """Scores of ``input_shape`` (C is dim 1, or dim 0 when 1-d) and int64 class indices; ``ignore`` is the
    fraction of targets set to ignore_index."""
    rng = _rng(seed)
    classes = input_shape[1] if len(input_shape) > 1 else input_shape[0]
    target_shape = input_shape[:1] + input_shape[2:] if len(input_shape) > 1 else ()
    target = rng.integers(0, classes, target_shape)
    if ignore:
        target = np.where(rng.uniform(0, 1, target_shape) < ignore, ignore_index, target)
    return 2 * rng.standard_normal(input_shape), target, rng.uniform(0.2, 3.0, classes)


INPUT_SHAPES = [(6, 4), (3, 4, 5), (2, 3, 4, 2), (5,)]


def _compare_classes(name, x, target, reduction="mean", weight=None, requires_grad=True, **options):
    ours, theirs = _pair(name)
    t_ours, t_torch = _both(target, np.int64)
    w_ours, w_torch = _both(weight) if weight is not None else (None, None)
    return compare(lambda a: ours(a, t_ours, weight=w_ours, reduction=reduction, **options),
                   lambda a: theirs(a, t_torch, weight=w_torch, reduction=reduction, **options),
                   [x], requires_grad=requires_grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("input_shape", INPUT_SHAPES)
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_index_losses_match_pytorch(name, input_shape, weighted, reduction):
    x, target, weight = _class_problem(7, input_shape)
    _compare_classes(name, x, target, reduction, weight if weighted else None)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, -1, 2])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_ignore_index_matches_pytorch(name, ignore_index, weighted, reduction):
    for input_shape in [(8, 4), (3, 4, 5)]:
        x, target, weight = _class_problem(8, input_shape, ignore=0.4, ignore_index=ignore_index)
        assert (target == ignore_index).any() and (target != ignore_index).any()
        _compare_classes(name, x, target, reduction, weight if weighted else None, ignore_index=ignore_index)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name, label_smoothing", [("nll_loss", 0.0), ("cross_entropy", 0.0), ("cross_entropy", 0.5)])
def test_all_targets_ignored_gives_nan_mean_and_zero_gradient(name, label_smoothing, weighted, reduction):
    x, _, weight = _class_problem(9, (3, 4))
    options = {"label_smoothing": label_smoothing} if label_smoothing else {}
    (loss,), _ = _compare_classes(name, x, np.full(3, -100), reduction, weight if weighted else None, **options)
    if reduction == "mean":
        assert np.isnan(loss.item())


@pytest.mark.parametrize("label_smoothing", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("input_shape", INPUT_SHAPES)
def test_label_smoothing_with_class_indices_matches_pytorch(input_shape, weighted, reduction, label_smoothing):
    x, target, weight = _class_problem(10, input_shape, ignore=0.3 if len(input_shape) > 1 else None)
    _compare_classes("cross_entropy", x, target, reduction, weight if weighted else None,
                     label_smoothing=label_smoothing)


@given(seed=seeds, n=st.integers(1, 5), classes=st.integers(1, 5), extra=st.lists(st.integers(1, 3), max_size=2),
       reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans(), ignore=st.sampled_from([None, 0.3]),
       label_smoothing=st.sampled_from([0.0, 0.2]), name=st.sampled_from(["nll_loss", "cross_entropy"]))
def test_class_index_losses_random_shapes(seed, n, classes, extra, reduction, weighted, ignore, label_smoothing,
                                          name):
    x, target, weight = _class_problem(seed, (n, classes, *extra), ignore=ignore)
    options = {"label_smoothing": label_smoothing} if name == "cross_entropy" else {}
    _compare_classes(name, x, target, reduction, weight if weighted else None, **options)


def test_error_unbatched_input_needs_a_0d_target():
    with _raises(RuntimeError, "(5,)", "0-d", "(1,)", "target.squeeze()"):
        F.cross_entropy(tg.randn(5), tg.tensor([3]))


def test_uint8_class_indices_are_accepted_as_in_pytorch():
    x, target, _ = _class_problem(12, (6, 4))
    t_ours, t_torch = _both(target, np.uint8)
    compare(lambda a: F.cross_entropy(a, t_ours), lambda a: TF.cross_entropy(a, t_torch), [x])


def test_cross_entropy_is_nll_of_log_softmax():
    x, target, weight = _class_problem(13, (5, 4), ignore=0.3)
    logits, t, w = tg.tensor(x), tg.tensor(target), tg.tensor(weight)
    np.testing.assert_allclose(F.cross_entropy(logits, t, w).item(), F.nll_loss(logits.log_softmax(1), t, w).item(),
                               rtol=1e-12)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_is_stable_for_huge_logits(label_smoothing):
    x = np.array([[1000.0, -3000.0, 0.0], [-3000.0, 1000.0, 999.0], [0.0, 0.0, -3000.0]])
    target = np.array([0, 2, 2])
    for reduction in REDUCTIONS:
        (loss,), _ = _compare_classes("cross_entropy", x, target, reduction, label_smoothing=label_smoothing)
        assert np.isfinite(loss.numpy(force=True)).all()
    (probs,), _ = _compare_probabilities(x, np.eye(3)[target], "none", label_smoothing=label_smoothing)
    assert np.isfinite(probs.numpy(force=True)).all()


# ==================================================================== class-probability targets
def _compare_probabilities(x, q, reduction="mean", weight=None, **options):
    w_ours, w_torch = _both(weight) if weight is not None else (None, None)
    return compare(lambda a, b: F.cross_entropy(a, b, weight=w_ours, reduction=reduction, **options),
                   lambda a, b: TF.cross_entropy(a, b, weight=w_torch, reduction=reduction, **options), [x, q])


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("input_shape", INPUT_SHAPES)
def test_cross_entropy_with_probabilities_matches_pytorch(input_shape, weighted, reduction, label_smoothing):
    """The target has the input's shape; the gradient of the target is compared too."""
    x, _, weight = _class_problem(14, input_shape)
    class_dim = 1 if len(input_shape) > 1 else 0
    q = torch.tensor(_rng(15).standard_normal(input_shape)).softmax(class_dim).numpy()
    _compare_probabilities(x, q, reduction, weight if weighted else None, label_smoothing=label_smoothing)


def test_one_hot_probabilities_give_the_same_loss_as_class_indices():
    x, target, weight = _class_problem(16, (6, 4))
    logits, w = tg.tensor(x), tg.tensor(weight)
    one_hot = tg.tensor(np.eye(4)[target])
    np.testing.assert_allclose(F.cross_entropy(logits, one_hot, reduction="sum", weight=w).item(),
                               F.cross_entropy(logits, tg.tensor(target), reduction="sum", weight=w).item(), rtol=1e-12)


@given(seed=seeds, n=st.integers(1, 5), classes=st.integers(1, 5), extra=st.lists(st.integers(1, 3), max_size=2),
       reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans(), label_smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_with_probabilities_random_shapes(seed, n, classes, extra, reduction, weighted,
                                                        label_smoothing):
    shape = (n, classes, *extra)
    x, _, weight = _class_problem(seed, shape)
    q = _rng(seed + 1).uniform(0, 1, shape)  # need not sum to 1: the formula is linear in q
    _compare_probabilities(x, q, reduction, weight if weighted else None, label_smoothing=label_smoothing)


# ==================================================================== float32, gradcheck
FLOAT32_CASES = {
    "mse_loss": lambda f, x, y, t, p: f.mse_loss(x, y),
    "l1_loss": lambda f, x, y, t, p: f.l1_loss(x, y),
    "smooth_l1_loss": lambda f, x, y, t, p: f.smooth_l1_loss(x, y, beta=0.5),
    "huber_loss": lambda f, x, y, t, p: f.huber_loss(x, y, delta=0.5),
    "binary_cross_entropy": lambda f, x, y, t, p: f.binary_cross_entropy(x.sigmoid(), p),
    "binary_cross_entropy_with_logits": lambda f, x, y, t, p: f.binary_cross_entropy_with_logits(x, p),
    "cross_entropy": lambda f, x, y, t, p: f.cross_entropy(x, t, label_smoothing=0.1),
    "cross_entropy_probabilities": lambda f, x, y, t, p: f.cross_entropy(x, p.softmax(1)),
    "nll_loss": lambda f, x, y, t, p: f.nll_loss(x.log_softmax(1), t),
}


@pytest.mark.parametrize("case", list(FLOAT32_CASES))
def test_float32_inputs_give_float32_losses_close_to_pytorch(case):
    rng = _rng(17)
    x, y, p = (rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((6, 4)).astype(np.float32),
               rng.uniform(0, 1, (6, 4)).astype(np.float32))
    t = rng.integers(0, 4, 6)
    ours_x, theirs_x = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = FLOAT32_CASES[case](F, ours_x, tg.tensor(y), tg.tensor(t), tg.tensor(p))
    theirs = FLOAT32_CASES[case](TF, theirs_x, torch.tensor(y), torch.tensor(t), torch.tensor(p))
    assert ours.dtype == tg.float32
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-5)
    ours.backward(), theirs.backward()
    assert ours_x.grad.dtype == tg.float32
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-4, atol=1e-6)


GRADCHECK_CASES = {
    "mse_loss": lambda x, y, t, p, w: F.mse_loss(x, y, weight=w),
    "l1_loss": lambda x, y, t, p, w: F.l1_loss(x, y),
    "smooth_l1_loss": lambda x, y, t, p, w: F.smooth_l1_loss(x, y, beta=0.5, reduction="none"),
    "huber_loss": lambda x, y, t, p, w: F.huber_loss(x, y, delta=0.5, reduction="sum"),
    "binary_cross_entropy": lambda x, y, t, p, w: F.binary_cross_entropy(x.sigmoid(), p, weight=w),
    "binary_cross_entropy_with_logits": lambda x, y, t, p, w: F.binary_cross_entropy_with_logits(
        x, p, weight=w, pos_weight=w[0] * 2),
    "cross_entropy": lambda x, y, t, p, w: F.cross_entropy(x, t, weight=w[0], label_smoothing=0.2),
    "cross_entropy_none": lambda x, y, t, p, w: F.cross_entropy(x, t, reduction="none"),
    "cross_entropy_probabilities": lambda x, y, t, p, w: F.cross_entropy(x, p, weight=w[0], label_smoothing=0.2),
    "nll_loss": lambda x, y, t, p, w: F.nll_loss(x, t, weight=w[0], ignore_index=1),
}


@pytest.mark.parametrize("case", list(GRADCHECK_CASES))
def test_gradcheck(case):
    """Autograd's gradient of every loss (w.r.t. the input, and the target where it is float) against
    central differences, in float64. Values avoid the kinks (|x - y| = 0, beta, delta)."""
    rng = _rng(18)
    x = tg.tensor(rng.uniform(0.3, 1.5, (3, 4)) * rng.choice([-1, 1], (3, 4)), requires_grad=True)
    y = tg.tensor(x.detach().numpy() + rng.uniform(0.1, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)),
                  requires_grad=True)
    p = tg.tensor(rng.uniform(0.05, 0.95, (3, 4)), requires_grad=True)
    t, w = tg.tensor([0, 1, 3]), tg.tensor(rng.uniform(0.5, 2.0, (3, 4)))
    assert tg.gradcheck(lambda x, y, p: GRADCHECK_CASES[case](x, y, t, p, w), (x, y, p))


# ==================================================================== errors a learner meets
def _raises(error, *words, match_all=True):
    """pytest.raises that also checks that the message contains each of ``words``."""
    class Checker:
        def __enter__(self):
            self.ctx = pytest.raises(error)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            result = self.ctx.__exit__(*exc)
            message = str(self.info.value)
            for word in words:
                assert word in message, f"{word!r} not in the error message: {message}"
            return result
    return Checker()


def test_error_class_index_out_of_range():
    logits = tg.randn(3, 4)
    with _raises(IndexError, "cross_entropy", "5", "[0, 3]"):
        F.cross_entropy(logits, tg.tensor([0, 5, 1]))
    with _raises(IndexError, "nll_loss", "4", "[0, 3]"):
        F.nll_loss(logits.log_softmax(1), tg.tensor([0, 4, 1]))


def test_error_negative_class_index_mentions_ignore_index():
    with _raises(IndexError, "cross_entropy", "-1", "[0, 3]", "ignore_index=-1"):
        F.cross_entropy(tg.randn(3, 4), tg.tensor([0, -1, 1]))


def test_error_labels_numbered_from_one():
    with _raises(IndexError, "[0, 3]", "from 1", "target - 1"):
        F.cross_entropy(tg.randn(3, 4), tg.tensor([1, 4, 2]))


def test_error_out_of_range_in_higher_dims_and_unbatched():
    with _raises(IndexError, "7", "[0, 2]"):
        F.cross_entropy(tg.randn(2, 3, 4), tg.tensor([[0, 1, 2, 7], [0, 0, 0, 0]]))
    with _raises(IndexError, "3", "[0, 2]"):
        F.cross_entropy(tg.randn(3), tg.tensor(3))


def test_error_float_target_for_class_indices():
    with _raises(RuntimeError, "cross_entropy", "int64", "float32", ".long()", "input's shape (3, 4)"):
        F.cross_entropy(tg.randn(3, 4), tg.tensor([0.0, 2.0, 1.0]))
    with _raises(RuntimeError, "nll_loss", "int64", ".long()"):
        F.nll_loss(tg.randn(3, 4), tg.tensor([0.0, 2.0, 1.0]))
    with _raises(RuntimeError, "int32", ".long()"):
        F.cross_entropy(tg.randn(3, 4), tg.tensor([0, 2, 1], dtype=tg.int32))


def test_error_one_hot_target_of_integer_dtype():
    one_hot = tg.tensor(np.eye(4, dtype=np.int64)[[0, 2, 1]])
    with _raises(RuntimeError, "cross_entropy", "(3, 4)", "probabilities", "int64", ".float()", "argmax(dim=1)"):
        F.cross_entropy(tg.randn(3, 4), one_hot)


def test_error_batch_size_mismatch():
    with _raises(ValueError, "cross_entropy", "batch size 3", "batch size 5", "(3, 4)", "(5,)"):
        F.cross_entropy(tg.randn(3, 4), tg.tensor([0, 1, 2, 3, 0]))
    with _raises(ValueError, "nll_loss", "batch size 2", "batch size 3"):
        F.nll_loss(tg.randn(2, 4, 5), tg.zeros(3, 5, dtype=tg.int64))


def test_error_target_with_an_extra_dim():
    with _raises(RuntimeError, "cross_entropy", "(3, 4)", "(3, 1)", "(3,)", "target.view(3)"):
        F.cross_entropy(tg.randn(3, 4), tg.tensor([[0], [1], [2]]))
    with _raises(RuntimeError, "(2, 4, 5)", "(2, 5)", "(2, 3)"):
        F.cross_entropy(tg.randn(2, 4, 5), tg.zeros(2, 3, dtype=tg.int64))


def test_error_nll_loss_with_a_target_of_the_inputs_shape():
    with _raises(RuntimeError, "nll_loss", "(3, 4)", "cross_entropy"):
        F.nll_loss(tg.randn(3, 4), tg.zeros(3, 4))


def test_error_input_without_a_class_dim():
    with _raises(RuntimeError, "cross_entropy", "0-d"):
        F.cross_entropy(tg.tensor(1.0), tg.tensor(0))


def test_error_class_weight_of_the_wrong_size():
    with _raises(RuntimeError, "cross_entropy", "(4,)", "(3,)"):
        F.cross_entropy(tg.randn(3, 4), tg.tensor([0, 1, 2]), weight=tg.ones(3))
    with _raises(RuntimeError, "nll_loss", "(4,)", "(3, 4)"):
        F.nll_loss(tg.randn(3, 4), tg.tensor([0, 1, 2]), weight=tg.ones(3, 4))


WEIGHT_DTYPES = {  # a weight of another dtype than the input's (a class weight made from numpy is float64)
    "bce_with_logits pos_weight": lambda L, x, y, w: L.nn.functional.binary_cross_entropy_with_logits(
        x, y, pos_weight=w),
    "bce_with_logits weight": lambda L, x, y, w: L.nn.functional.binary_cross_entropy_with_logits(x, y, weight=w),
    "BCEWithLogitsLoss": lambda L, x, y, w: L.nn.BCEWithLogitsLoss(pos_weight=w)(x, y),
    "bce weight": lambda L, x, y, w: L.nn.functional.binary_cross_entropy(x.sigmoid(), y, weight=w),
    "cross_entropy probabilities": lambda L, x, y, w: L.nn.functional.cross_entropy(x, y.softmax(1), weight=w),
    "cross_entropy probabilities smoothed": lambda L, x, y, w: L.nn.functional.cross_entropy(
        x, y.softmax(1), weight=w, label_smoothing=0.1),
    "cross_entropy indices": lambda L, x, y, w: L.nn.functional.cross_entropy(x, L.tensor([0, 2]), weight=w),
    "CrossEntropyLoss smoothed": lambda L, x, y, w: L.nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)(
        x, L.tensor([0, 2])),
    "nll_loss": lambda L, x, y, w: L.nn.functional.nll_loss(x.log_softmax(1), L.tensor([0, 2]), weight=w),
}


@pytest.mark.parametrize("case", WEIGHT_DTYPES)
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32")])
def test_a_weight_of_another_dtype_gives_pytorchs_result_dtype_or_its_refusal(case, dtypes):
    """The binary cross-entropies cast their weights to the loss's dtype; cross_entropy's weights promote with
    probabilities; with class indices cross_entropy and nll_loss refuse them, as PyTorch does."""
    results = []
    for lib in (torch, tg):
        x, y = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]]), lib.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
        x, y, w = x.to(getattr(lib, dtypes[0])), y.to(getattr(lib, dtypes[0])), lib.tensor([1.0, 2.0, 3.0])
        try:
            results.append(str(WEIGHT_DTYPES[case](lib, x, y, w.to(getattr(lib, dtypes[1]))).dtype).split(".")[1])
        except RuntimeError as e:
            results.append(("refused", str(e)))
    if isinstance(results[0], tuple):
        refusal = results[1][1]
        assert isinstance(results[1], tuple), results
        assert all(part in refusal for part in (dtypes[1], dtypes[0], "weight.to(input.dtype)")), refusal
    else:
        assert results[0] == results[1]


def test_error_label_smoothing_out_of_range():
    for bad in (1.5, -0.1):
        with _raises(RuntimeError, "label_smoothing", str(bad)):
            F.cross_entropy(tg.randn(3, 4), tg.tensor([0, 1, 2]), label_smoothing=bad)


def test_error_ignore_index_with_probabilities():
    with _raises(RuntimeError, "ignore_index=1", "class-index"):
        F.cross_entropy(tg.randn(3, 4), tg.randn(3, 4).softmax(1), ignore_index=1)


@pytest.mark.parametrize("bad", [-0.5, 1.5, float("nan")])
def test_error_bce_input_outside_0_1(bad):
    words = ["it contains nan"] if bad != bad else [str(bad)]
    with _raises(RuntimeError, "binary_cross_entropy", "input", "between 0 and 1", "sigmoid", "BCEWithLogitsLoss",
                 *words):
        F.binary_cross_entropy(tg.tensor([0.2, bad, 0.7]), tg.tensor([0.0, 1.0, 1.0]))


def test_error_bce_raw_scores():
    """The classic mistake: logits straight into BCE."""
    with _raises(RuntimeError, "from -2.1 to 3.4", "sigmoid", "binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(tg.tensor([-2.1, 0.5, 3.4]), tg.tensor([0.0, 1.0, 1.0]))


def test_error_bce_target_outside_0_1():
    with _raises(RuntimeError, "binary_cross_entropy", "target", "between 0 and 1", "from 0 to 2"):
        F.binary_cross_entropy(tg.tensor([0.2, 0.5, 0.7]), tg.tensor([0.0, 1.0, 2.0]))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_error_bce_shape_mismatch(name):
    with _raises(ValueError, name, "(4, 1)", "(4,)", "view(-1)", "squeeze(-1)"):
        getattr(F, name)(tg.rand(4, 1), tg.tensor([0.0, 1.0, 1.0, 0.0]))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_shape_mismatch_warns_and_broadcasts_like_pytorch(name):
    x, y = np.arange(4.0).reshape(4, 1), np.array([0.5, 1.0, 2.0, 4.0])
    with pytest.warns(UserWarning) as record:
        ours = getattr(F, name)(tg.tensor(x), tg.tensor(y))
    message = str(record[0].message)
    for word in [name, "(4, 1)", "(4,)", "broadcast", ".view(-1)", ".squeeze(-1)"]:
        assert word in message, f"{word!r} not in the warning: {message}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(ours, getattr(TF, name)(torch.tensor(x), torch.tensor(y)))


def test_same_shapes_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(tg.randn(4, 1), tg.randn(4, 1))


ALL_LOSSES = {
    "mse_loss": lambda **kw: F.mse_loss(tg.randn(3), tg.randn(3), **kw),
    "l1_loss": lambda **kw: F.l1_loss(tg.randn(3), tg.randn(3), **kw),
    "smooth_l1_loss": lambda **kw: F.smooth_l1_loss(tg.randn(3), tg.randn(3), **kw),
    "huber_loss": lambda **kw: F.huber_loss(tg.randn(3), tg.randn(3), **kw),
    "binary_cross_entropy": lambda **kw: F.binary_cross_entropy(tg.rand(3), tg.rand(3), **kw),
    "binary_cross_entropy_with_logits": lambda **kw: F.binary_cross_entropy_with_logits(tg.randn(3), tg.rand(3),
                                                                                         **kw),
    "cross_entropy": lambda **kw: F.cross_entropy(tg.randn(3, 4), tg.tensor([0, 1, 2]), **kw),
    "nll_loss": lambda **kw: F.nll_loss(tg.randn(3, 4), tg.tensor([0, 1, 2]), **kw),
}


@pytest.mark.parametrize("name", list(ALL_LOSSES))
def test_error_unknown_reduction(name):
    with _raises(ValueError, name, "'avg'", "'mean'", "'sum'", "'none'"):
        ALL_LOSSES[name](reduction="avg")


def test_error_bad_beta_and_delta():
    with _raises(RuntimeError, "smooth_l1_loss", "beta", "-1"):
        F.smooth_l1_loss(tg.randn(3), tg.randn(3), beta=-1.0)
    with _raises(RuntimeError, "huber_loss", "delta", "positive"):
        F.huber_loss(tg.randn(3), tg.randn(3), delta=0.0)


def test_error_element_weight_of_the_wrong_shape():
    with _raises(ValueError, "mse_loss", "weight", "(3,)", "(2, 3)"):
        F.mse_loss(tg.randn(2, 3), tg.randn(2, 3), weight=tg.ones(3))


def test_error_not_a_tensor():
    with _raises(TypeError, "cross_entropy", "'target'", "list", "torch.tensor"):
        F.cross_entropy(tg.randn(3, 4), [0, 1, 2])
    with _raises(TypeError, "mse_loss", "'input'", "ndarray"):
        F.mse_loss(np.zeros(3), tg.zeros(3))


@pytest.mark.parametrize("size_average, reduce", [(False, None), (None, False), (True, True), (False, True)])
def test_deprecated_size_average_and_reduce_work_like_pytorch(size_average, reduce):
    x, y = _rng(19).standard_normal((2, 3)), _rng(20).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="reduction="):
        ours = F.mse_loss(tg.tensor(x), tg.tensor(y), size_average, reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(ours, TF.mse_loss(torch.tensor(x), torch.tensor(y), size_average, reduce))


# ==================================================================== modules
def _module_cases():
    """(our module, PyTorch's module, kind of inputs), with non-default options."""
    w, pw, cw = np.linspace(0.5, 2.0, 12).reshape(4, 3), np.array([0.5, 2.0, 3.0]), np.array([0.5, 1.0, 2.0])
    t = lambda a: tg.tensor(a)  # noqa: E731
    tt = lambda a: torch.tensor(a)  # noqa: E731
    return [
        (L.MSELoss(), tnn.MSELoss(), "regression"),
        (L.MSELoss(reduction="sum"), tnn.MSELoss(reduction="sum"), "regression"),
        (L.L1Loss(reduction="none"), tnn.L1Loss(reduction="none"), "regression"),
        (L.SmoothL1Loss(beta=0.5), tnn.SmoothL1Loss(beta=0.5), "regression"),
        (L.SmoothL1Loss(reduction="sum", beta=0.0), tnn.SmoothL1Loss(reduction="sum", beta=0.0), "regression"),
        (L.HuberLoss(delta=0.4), tnn.HuberLoss(delta=0.4), "regression"),
        (L.BCELoss(), tnn.BCELoss(), "probabilities"),
        (L.BCELoss(weight=t(w), reduction="sum"), tnn.BCELoss(weight=tt(w), reduction="sum"), "probabilities"),
        (L.BCEWithLogitsLoss(), tnn.BCEWithLogitsLoss(), "logits"),
        (L.BCEWithLogitsLoss(weight=t(w), pos_weight=t(pw)), tnn.BCEWithLogitsLoss(weight=tt(w), pos_weight=tt(pw)),
         "logits"),
        (L.CrossEntropyLoss(), tnn.CrossEntropyLoss(), "classes"),
        (L.CrossEntropyLoss(weight=t(cw), ignore_index=1, reduction="none", label_smoothing=0.2),
         tnn.CrossEntropyLoss(weight=tt(cw), ignore_index=1, reduction="none", label_smoothing=0.2), "classes"),
        (L.CrossEntropyLoss(label_smoothing=0.1), tnn.CrossEntropyLoss(label_smoothing=0.1), "class probabilities"),
        (L.NLLLoss(), tnn.NLLLoss(), "classes"),
        (L.NLLLoss(weight=t(cw), ignore_index=2, reduction="sum"),
         tnn.NLLLoss(weight=tt(cw), ignore_index=2, reduction="sum"), "classes"),
    ]


@pytest.mark.parametrize("case", range(len(_module_cases())))
def test_loss_modules_match_pytorch_modules(case):
    ours, theirs, kind = _module_cases()[case]
    rng = _rng(21)
    x = rng.standard_normal((4, 3))
    if kind in ("classes", "class probabilities"):
        target = rng.integers(0, 3, 4) if kind == "classes" else rng.uniform(0, 1, (4, 3))
        t_ours, t_torch = _both(target)
        compare(lambda a: ours(a, t_ours), lambda a: theirs(a, t_torch), [x])
    else:
        y = rng.standard_normal((4, 3)) if kind == "regression" else rng.uniform(0, 1, (4, 3))
        if kind == "probabilities":
            x = rng.uniform(0.05, 0.95, (4, 3))
        compare(lambda a, b: ours(a, b), lambda a, b: theirs(a, b), [x, y])


@pytest.mark.parametrize("case", range(len(_module_cases())))
def test_loss_modules_agree_with_their_functions(case):
    module, _, kind = _module_cases()[case]
    name = {"MSELoss": "mse_loss", "L1Loss": "l1_loss", "SmoothL1Loss": "smooth_l1_loss", "HuberLoss": "huber_loss",
            "BCELoss": "binary_cross_entropy", "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
            "CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss"}[type(module).__name__]
    options = {key: getattr(module, key) for key in ("weight", "pos_weight", "ignore_index", "label_smoothing", "beta",
                                                     "delta") if hasattr(module, key)}
    rng = _rng(22)
    x = tg.tensor(rng.uniform(0.05, 0.95, (4, 3)))
    target = {"classes": tg.tensor(rng.integers(0, 3, 4)), "regression": tg.tensor(rng.standard_normal((4, 3)))}.get(
        kind, tg.tensor(rng.uniform(0, 1, (4, 3))))
    expected = getattr(F, name)(x, target, reduction=module.reduction, **options)
    np.testing.assert_array_equal(module(x, target).numpy(), expected.numpy())


@pytest.mark.parametrize("case", range(len(_module_cases())))
def test_loss_module_repr_and_state_dict_match_pytorch(case):
    ours, theirs, _ = _module_cases()[case]
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    for key in ("reduction", "ignore_index", "label_smoothing", "beta", "delta"):
        assert getattr(ours, key, None) == getattr(theirs, key, None), key


def test_loss_modules_take_pytorchs_positional_arguments():
    """Constructor argument order and defaults as in PyTorch (positional use must mean the same thing)."""
    import inspect
    for name in L.__all__:
        ours, theirs = inspect.signature(getattr(L, name).__init__), inspect.signature(getattr(tnn, name).__init__)
        assert [(p.name, p.default) for p in ours.parameters.values()] == \
               [(p.name, p.default) for p in theirs.parameters.values()], name


def test_loss_functions_take_pytorchs_positional_arguments():
    import inspect
    for name in F.loss.__all__:
        ours, theirs = inspect.signature(getattr(F, name)), inspect.signature(getattr(TF, name))
        assert [(p.name, p.default) for p in ours.parameters.values()] == \
               [(p.name, p.default) for p in theirs.parameters.values()], name


def test_deprecated_module_arguments_set_reduction_like_pytorch():
    with pytest.warns(UserWarning):
        ours = L.MSELoss(size_average=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours.reduction == tnn.MSELoss(size_average=False).reduction == "sum"


@pytest.mark.skipif(not os.path.exists(os.path.join(os.path.dirname(tg.__file__), "nn", "__init__.py")),
                    reason="tinygrad_lite/nn/__init__.py is not written yet")
def test_public_names():
    import tinygrad_lite.nn as nn
    for name in L.__all__:
        assert getattr(nn, name) is getattr(L, name)
    for name in F.loss.__all__:
        assert getattr(F, name) is getattr(F.loss, name)


# Integer or bool tensors where a loss needs floats: PyTorch raises (each in its own words), so must we. Each case
# is (the call, made with either library as L and its functional as f, the words our message must hold).
DTYPE_ERRORS = [
    (lambda L, f: f.cross_entropy(L.tensor([[1, 2], [3, 4]]), L.tensor([0, 1])),
     ["cross_entropy", "input", "floating point", "int64", "logits", "input.float()"]),
    (lambda L, f: f.cross_entropy(L.tensor([[True, False]]), L.tensor([0])), ["cross_entropy", "bool"]),
    (lambda L, f: f.nll_loss(L.tensor([[1, 2], [3, 4]]), L.tensor([0, 1])), ["nll_loss", "int64", "log_softmax"]),
    (lambda L, f: L.nn.BCELoss()(L.tensor([0.2, 0.7]), L.tensor([0, 1])),
     ["binary_cross_entropy", "target", "floating point", "int64", "target.float()"]),
    (lambda L, f: f.binary_cross_entropy(L.tensor([0.2, 0.7]), L.tensor([False, True])), ["target", "bool"]),
    (lambda L, f: f.binary_cross_entropy(L.tensor([0, 1]), L.tensor([0.2, 0.7])), ["input", "int64", "sigmoid"]),
    (lambda L, f: L.nn.BCEWithLogitsLoss()(L.tensor([0.2, 0.7]), L.tensor([0, 1])),
     ["binary_cross_entropy_with_logits", "target", "floating point", "int64", "target.float()"]),
    (lambda L, f: f.binary_cross_entropy_with_logits(L.tensor([0.2, 0.7]), L.tensor([False, True])),
     ["target", "bool"]),
    (lambda L, f: f.binary_cross_entropy_with_logits(L.tensor([0, 1]), L.tensor([0.2, 0.7])), ["input", "int64"]),
    (lambda L, f: f.l1_loss(L.tensor([0.2, 0.7]), L.tensor([False, True])),
     ["l1_loss", "target", "bool", "target.float()"]),
    (lambda L, f: L.nn.L1Loss()(L.tensor([False, True]), L.tensor([0.2, 0.7])), ["l1_loss", "input", "bool"]),
]


@pytest.mark.parametrize("case", range(len(DTYPE_ERRORS)))
def test_error_integer_or_bool_where_a_loss_needs_floats_as_pytorch(case):
    call, words = DTYPE_ERRORS[case]
    with pytest.raises((RuntimeError, NotImplementedError)):
        call(torch, TF)
    with _raises(RuntimeError, *words):
        call(tg, F)


@pytest.mark.parametrize("target", [[0, 1], [False, True]])
def test_integer_and_bool_targets_accepted_where_pytorch_accepts_them(target):
    """PyTorch takes an int64 target in l1_loss and int or bool targets in mse_loss and smooth_l1_loss: so do we."""
    x = [0.2, 0.7]
    for name in ["mse_loss", "smooth_l1_loss"] + (["l1_loss"] if type(target[0]) is int else []):
        ours = getattr(F, name)(tg.tensor(x), tg.tensor(target))
        theirs = getattr(TF, name)(torch.tensor(x), torch.tensor(target))
        assert ours.dtype is tg.float32 and ours.item() == pytest.approx(theirs.item(), rel=1e-6)
