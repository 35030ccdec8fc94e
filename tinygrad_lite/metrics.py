"""Metrics: how good are a model's predictions? Accuracy, the confusion matrix, precision / recall / F1,
and ``RunningMean`` to average a loss over an epoch.

PyTorch itself has none of these (they live in packages such as torchmetrics); this module is our addition.
The functions take tensors (or numpy arrays), work on a detached CPU copy, and never build a graph.

What counts as a prediction (the same rule everywhere):

- scores of shape (N, C) with C >= 2 (logits or probabilities): the predicted class is the argmax of each row;
- integer (or bool) labels of shape (N,): the predicted classes themselves;
- for ``accuracy`` only, binary outputs: floats of shape (N,) or (N, 1) are thresholded, class 1 where
  ``output > threshold``. The default 0.5 suits probabilities (after a sigmoid). For logits pass
  ``threshold=0.0``: sigmoid(z) > 0.5 exactly when z > 0.

Targets are class labels of shape (N,) (or (N, 1)); float targets such as BCE's 0.0 / 1.0 are accepted when
they hold whole numbers.
"""
import numpy as np

from . import dtypes as dt
from .tensor import Tensor


def _numpy(x):
    return x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)


def _targets(target, name):
    t = _numpy(target)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"{name}: target must hold class labels of shape (N,), got shape {t.shape}; for one-hot "
                         "targets pass target.argmax(dim=1)")
    if t.dtype.kind == "f":
        if not np.all(t == np.round(t)):
            raise ValueError(f"{name}: target holds fractions (e.g. {t[t != np.round(t)][0]}); it must hold class "
                             "labels 0, 1, 2, ...")
    return t.astype(np.int64)


def _predictions(output, name, threshold=None):
    """Predicted labels (N,) from (N, C) scores (argmax), (N,) labels, or, with a threshold, binary float outputs."""
    out = _numpy(output)
    if out.ndim == 2 and out.shape[1] == 1 and threshold is not None:
        out = out[:, 0]
    if out.ndim == 2:
        return out.argmax(axis=1)
    if out.ndim != 1:
        raise ValueError(f"{name}: output must have shape (N, C) (scores) or (N,) (labels), got {out.shape}")
    if out.dtype.kind == "f":
        if threshold is None:
            raise TypeError(f"{name}: got float predictions of shape {out.shape}; pass class labels instead, e.g. "
                            "(probs > 0.5).long() for binary outputs, or scores of shape (N, C)")
        return (out > threshold).astype(np.int64)
    return out.astype(np.int64)


def _pair(preds, targets, name, threshold=None):
    p, t = _predictions(preds, name, threshold), _targets(targets, name)
    if p.shape != t.shape:
        raise ValueError(f"{name}: {p.shape[0]} predictions but {t.shape[0]} targets (output shape "
                         f"{tuple(_numpy(preds).shape)}, target shape {tuple(_numpy(targets).shape)})")
    if p.size == 0:
        raise ValueError(f"{name}: got no samples (N = 0)")
    return p, t


def accuracy(output, target, threshold=0.5):
    """The fraction of correct predictions, (1/N) * sum_n [pred_n == target_n], as a Python float.

    ``output``: (N, C) scores, (N,) integer labels, or (N,) / (N, 1) binary float outputs compared with
    ``threshold`` (0.5 for probabilities, 0.0 for logits); see the module docstring.
    """
    p, t = _pair(output, target, "accuracy", threshold)
    return float(np.mean(p == t))


def confusion_matrix(preds, targets, num_classes):
    """The (num_classes, num_classes) int64 tensor M with M[i, j] = the number of samples of true class i that
    were predicted as class j: rows are true classes, columns predicted ones, and the diagonal counts the hits.

    ``preds``: (N,) integer labels or (N, C) scores (argmax). ``targets``: (N,) labels.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"confusion_matrix: num_classes must be a positive integer, got {num_classes!r}")
    p, t = _pair(preds, targets, "confusion_matrix")
    for what, labels in (("preds", p), ("targets", t)):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        if bad.size:
            raise ValueError(f"confusion_matrix: {what} holds the label {bad[0]}, outside 0..{num_classes - 1} "
                             f"(num_classes={num_classes})")
    counts = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return Tensor(counts.reshape(num_classes, num_classes), dtype=dt.int64)


def _ratio(num, den):
    """num / den, and 0 where den is 0 (scikit-learn's zero_division=0)."""
    return np.divide(num, den, out=np.zeros(len(num)), where=den > 0)


def precision_recall_f1(preds, targets, num_classes, average="macro"):
    """Precision, recall and F1 score of each class, from the confusion matrix M (rows true, columns predicted).

    For class c: TP = M[c, c]; FP = (column c) - TP, predicted c but wrong; FN = (row c) - TP, missed c.

        precision = TP / (TP + FP)       of the samples predicted c, the fraction that are c
        recall    = TP / (TP + FN)       of the samples that are c, the fraction found
        F1        = 2 TP / (2 TP + FP + FN) = 2 precision recall / (precision + recall)

    Zero division: a ratio whose denominator is 0 is 0 (scikit-learn's ``zero_division=0``): a class never
    predicted has precision 0, a class absent from ``targets`` has recall 0, and one with neither has F1 0.

    ``average``: ``None`` returns three float tensors of shape (num_classes,); ``"macro"`` (the default) the
    plain mean over all ``num_classes`` classes of each, as three Python floats (every class weighs the same,
    including classes absent from this data); ``"micro"`` pools TP, FP and FN over the classes first (for
    single-label data all three then equal the accuracy).
    """
    if average not in (None, "macro", "micro"):
        raise ValueError(f"precision_recall_f1: average must be None, 'macro' or 'micro', got {average!r}")
    m = confusion_matrix(preds, targets, num_classes).cpu().numpy()
    tp = np.diag(m).astype(np.float64)
    fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    precision, recall, f1 = _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)
    if average is None:
        return tuple(Tensor(v, dtype=dt.get_default_dtype()) for v in (precision, recall, f1))
    return float(precision.mean()), float(recall.mean()), float(f1.mean())


class RunningMean:
    """A running (weighted) mean, e.g. of the batch losses of one epoch.

    ``update(value, n)`` adds a value that is itself the mean of ``n`` items (a batch loss with
    ``reduction="mean"`` and n = batch size), so that ``mean`` is the mean over all items seen:

        mean = sum_k value_k * n_k / sum_k n_k        (``count`` = sum_k n_k)

    With equal batches this is the mean of the batch losses; with a smaller last batch it weighs that batch
    less, giving exactly the loss over the whole epoch. ``value`` may be a one-element tensor: it is read with
    ``.item()``, so no computation graph is kept alive. ``mean`` is nan before the first update.
    """

    def __init__(self):
        self.reset()

    def reset(self):
        """Forget everything seen (e.g. at the start of each epoch)."""
        self.total, self.count = 0.0, 0

    def update(self, value, n=1):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"RunningMean.update: n is a number of items and must be an integer >= 0, got {n!r}")
        value = value.item() if hasattr(value, "item") else float(value)
        self.total += value * n
        self.count += int(n)
        return self

    @property
    def mean(self):
        return self.total / self.count if self.count else float("nan")

    def __repr__(self):
        return f"RunningMean(mean={self.mean:.6g}, count={self.count})"
