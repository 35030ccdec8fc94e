"""tinygrad_lite.metrics against hand-worked examples and plain-Python reference computations (no scikit-learn)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tg
from tinygrad_lite.metrics import RunningMean, accuracy, confusion_matrix, precision_recall_f1


# -------------------------------------------------------------------- plain-Python references
def reference_confusion(preds, targets, num_classes):
    m = [[0] * num_classes for _ in range(num_classes)]
    for p, t in zip(preds, targets):
        m[t][p] += 1
    return m


def reference_scores(preds, targets, num_classes):
    """Per class (precision, recall, f1) by counting, with 0 for 0/0, written out case by case."""
    scores = []
    for c in range(num_classes):
        tp = sum(p == c and t == c for p, t in zip(preds, targets))
        predicted = sum(p == c for p in preds)
        actual = sum(t == c for t in targets)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append((precision, recall, f1))
    return scores


labelled = st.integers(2, 5).flatmap(lambda c: st.tuples(
    st.just(c), st.lists(st.tuples(st.integers(0, c - 1), st.integers(0, c - 1)), min_size=1, max_size=30)))


# -------------------------------------------------------------------- accuracy
def test_accuracy_from_scores_labels_and_binary_outputs():
    target = tg.tensor([0, 2, 1, 1])
    logits = tg.tensor([[2.0, 0.1, 0.3], [0.0, 0.5, 3.0], [0.1, 0.2, 0.0], [1.0, 0.0, 0.5]])
    assert accuracy(logits, target) == 0.75  # argmax per row: 0, 2, 1, 0 -> 3 of 4 right
    assert accuracy(tg.tensor([0, 2, 0, 1]), target) == 0.75
    probs = tg.tensor([0.9, 0.2, 0.5, 0.7])  # > 0.5 -> 1, 0, 0, 1 (0.5 itself is not above the threshold)
    assert accuracy(probs, tg.tensor([1.0, 0.0, 1.0, 1.0])) == 0.75
    assert accuracy(probs.reshape(4, 1), tg.tensor([[1.0], [0.0], [1.0], [1.0]])) == 0.75  # BCE-style (N, 1)
    logit = tg.tensor([2.0, -1.0, 0.3, -0.2])
    assert accuracy(logit, tg.tensor([1, 0, 1, 1]), threshold=0.0) == 0.75
    assert accuracy(tg.tensor([True, False]), tg.tensor([1, 1])) == 0.5
    assert isinstance(accuracy(logits, target), float)


def test_accuracy_matches_the_torch_idiom():
    g = np.random.default_rng(0)
    logits, target = g.standard_normal((50, 4)), g.integers(0, 4, 50)
    expected = (torch.tensor(logits).argmax(dim=1) == torch.tensor(target)).float().mean().item()
    assert accuracy(tg.tensor(logits, requires_grad=True), tg.tensor(target)) == pytest.approx(expected)
    assert accuracy(logits, target) == pytest.approx(expected)  # numpy arrays work too


def test_accuracy_errors():
    with pytest.raises(ValueError, match=r"accuracy: 3 predictions but 2 targets"):
        accuracy(tg.tensor([0, 1, 1]), tg.tensor([0, 1]))
    with pytest.raises(ValueError, match="no samples"):
        accuracy(tg.zeros(0, 3), tg.zeros(0, dtype=tg.int64))
    with pytest.raises(ValueError, match="one-hot"):
        accuracy(tg.zeros(2, 3), tg.zeros(2, 3))
    with pytest.raises(ValueError, match="fractions"):
        accuracy(tg.tensor([0.7, 0.2]), tg.tensor([0.9, 0.0]))
    with pytest.raises(ValueError, match=r"shape \(N, C\)"):
        accuracy(tg.zeros(2, 3, 4), tg.tensor([0, 1]))


# -------------------------------------------------------------------- confusion matrix
def test_confusion_matrix_by_hand():
    preds, targets = tg.tensor([0, 1, 1, 2, 2, 2]), tg.tensor([0, 1, 2, 2, 2, 0])
    m = confusion_matrix(preds, targets, 3)
    assert m.dtype is tg.int64 and m.shape == (3, 3)
    assert m.tolist() == [[1, 0, 1],   # true 0: one hit, one predicted as 2
                          [0, 1, 0],
                          [0, 1, 2]]   # true 2: predicted 1 once, 2 twice
    assert m.sum().item() == 6 and np.trace(m.numpy()) == 4
    assert confusion_matrix(tg.tensor([0]), tg.tensor([0]), 4).tolist()[3] == [0, 0, 0, 0]  # unseen classes: zeros


def test_confusion_matrix_takes_scores():
    scores = tg.tensor([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    assert confusion_matrix(scores, tg.tensor([0, 0, 1]), 2).tolist() == [[1, 1], [1, 0]]


@given(labelled)
def test_confusion_matrix_matches_counting(case):
    c, pairs = case
    preds, targets = [p for p, _ in pairs], [t for _, t in pairs]
    assert confusion_matrix(tg.tensor(preds), tg.tensor(targets), c).tolist() == reference_confusion(preds, targets, c)


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"targets holds the label 3, outside 0..2"):
        confusion_matrix(tg.tensor([0, 1]), tg.tensor([3, 1]), 3)
    with pytest.raises(ValueError, match=r"preds holds the label -1"):
        confusion_matrix(tg.tensor([-1, 1]), tg.tensor([0, 1]), 3)
    with pytest.raises(TypeError, match=r"float predictions.*\(probs > 0.5\).long\(\)"):
        confusion_matrix(tg.tensor([0.2, 0.9]), tg.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        confusion_matrix(tg.tensor([0]), tg.tensor([0]), 0)


# -------------------------------------------------------------------- precision, recall, F1
def test_precision_recall_f1_by_hand():
    # true:  0 0 0 1 1 2      class 0: TP 2, FP 1 (a 1 called 0), FN 1 -> P 2/3, R 2/3, F1 2/3
    # pred:  0 0 1 0 1 1      class 1: TP 1, FP 2, FN 1 -> P 1/3, R 1/2, F1 2/5
    #                         class 2: TP 0, never predicted -> P 0 (0/0), R 0, F1 0
    preds, targets = tg.tensor([0, 0, 1, 0, 1, 1]), tg.tensor([0, 0, 0, 1, 1, 2])
    p, r, f = precision_recall_f1(preds, targets, 3, average=None)
    np.testing.assert_allclose(p.numpy(), [2 / 3, 1 / 3, 0], rtol=1e-6)
    np.testing.assert_allclose(r.numpy(), [2 / 3, 1 / 2, 0], rtol=1e-6)
    np.testing.assert_allclose(f.numpy(), [2 / 3, 2 / 5, 0], rtol=1e-6)
    assert p.dtype is tg.float32 and p.shape == (3,)
    macro = precision_recall_f1(preds, targets, 3)
    assert macro == pytest.approx(((2 / 3 + 1 / 3) / 3, (2 / 3 + 1 / 2) / 3, (2 / 3 + 2 / 5) / 3))
    assert all(isinstance(v, float) for v in macro)
    micro = precision_recall_f1(preds, targets, 3, average="micro")
    assert micro == pytest.approx((0.5, 0.5, 0.5))  # single-label: all three equal the accuracy
    assert accuracy(preds, targets) == 0.5


def test_zero_division_rule():
    # class 1 never appears and is never predicted: 0, 0, 0; class 2 is predicted but never true: precision 0
    p, r, f = precision_recall_f1(tg.tensor([0, 2]), tg.tensor([0, 0]), 3, average=None)
    assert p.tolist() == [1.0, 0.0, 0.0] and r.tolist() == [0.5, 0.0, 0.0]
    np.testing.assert_allclose(f.numpy(), [2 / 3, 0, 0], rtol=1e-6)
    assert not any(math.isnan(v) for v in precision_recall_f1(tg.tensor([1]), tg.tensor([1]), 4))


@given(labelled)
def test_precision_recall_f1_match_counting(case):
    c, pairs = case
    preds, targets = [p for p, _ in pairs], [t for _, t in pairs]
    expected = np.array(reference_scores(preds, targets, c))  # (C, 3)
    p, r, f = precision_recall_f1(tg.tensor(preds), tg.tensor(targets), c, average=None)
    np.testing.assert_allclose(np.stack([p.numpy(), r.numpy(), f.numpy()], axis=1), expected, rtol=1e-6, atol=1e-7)
    macro = precision_recall_f1(tg.tensor(preds), tg.tensor(targets), c)
    np.testing.assert_allclose(macro, expected.mean(axis=0), rtol=1e-9, atol=1e-12)
    micro = precision_recall_f1(tg.tensor(preds), tg.tensor(targets), c, average="micro")
    hits = sum(p == t for p, t in pairs) / len(pairs)
    np.testing.assert_allclose(micro, [hits] * 3, rtol=1e-9)


def test_precision_recall_f1_bad_average():
    with pytest.raises(ValueError, match=r"average must be None, 'macro' or 'micro', got 'weighted'"):
        precision_recall_f1(tg.tensor([0]), tg.tensor([0]), 2, average="weighted")


# -------------------------------------------------------------------- RunningMean
def test_running_mean_weighted_by_batch_size():
    m = RunningMean()
    assert math.isnan(m.mean) and m.count == 0
    m.update(2.0, n=4).update(tg.tensor(5.0), n=2)  # a tensor is read with .item()
    assert m.count == 6 and m.mean == pytest.approx((2.0 * 4 + 5.0 * 2) / 6)
    m.update(np.float32(1.0))
    assert m.count == 7 and m.mean == pytest.approx((8 + 10 + 1) / 7)
    m.reset()
    assert m.count == 0 and math.isnan(m.mean)
    assert "count=0" in repr(m)


def test_running_mean_equals_the_loss_over_the_whole_epoch():
    """Batch means weighted by batch size give the mean over all samples, even with a smaller last batch."""
    per_sample = np.random.default_rng(0).random(10)
    m = RunningMean()
    for start in range(0, 10, 4):  # batches of 4, 4, 2
        batch = per_sample[start:start + 4]
        loss = tg.tensor(batch, requires_grad=True).mean()  # a loss tensor still attached to its graph
        m.update(loss, n=len(batch))
    assert m.mean == pytest.approx(per_sample.mean(), rel=1e-12)


def test_running_mean_errors():
    m = RunningMean()
    with pytest.raises(ValueError, match=r"n is a number of items.*got -1"):
        m.update(1.0, n=-1)
    with pytest.raises(ValueError, match="got 2.5"):
        m.update(1.0, n=2.5)
    with pytest.raises(RuntimeError, match="cannot be converted to a Python number"):
        m.update(tg.tensor([1.0, 2.0]))
