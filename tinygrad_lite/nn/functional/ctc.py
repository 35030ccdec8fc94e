r"""``ctc_loss``: the Connectionist Temporal Classification loss, composed of the library's ops (the forward
recursion below, one step per time step; autograd differentiates it, so there is no backward of its own).

A model reads T frames (of speech, or columns of an image of text) and gives, per frame, log-probabilities over C
classes, one of them the ``blank``. A target is a shorter sequence of S labels, with no frame-by-frame alignment. An
alignment is a path of T classes that reads as the target once repeats are merged and blanks removed ("-hh-e-ll-lo"
reads "hello"). CTC's loss is -log of the sum, over every such path, of the product of the path's probabilities.

The sum over paths is a recursion over the extended target l' = (blank, l_1, blank, l_2, ..., l_S, blank) of 2S+1
symbols: with alpha_t(s) the log of the summed probability of the paths through frames 0..t that end on l'_s,

    alpha_0(0) = lp_0(blank), alpha_0(1) = lp_0(l_1), alpha_0(s) = -inf otherwise;
    alpha_t(s) = logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2)) + lp_t(l'_s),

where the skip from s-2 is allowed only onto a label that differs from the label two places back (a path may skip
a blank between two different labels, never between two equal ones). A path must end on the last label or the blank
after it: loss = -logsumexp(alpha_{T-1}(2S), alpha_{T-1}(2S-1)). A target that cannot fit in T frames has no path:
its loss is inf (``zero_infinity`` makes it 0, with zero gradient).

Gradients. Autograd through the recursion gives d loss / d lp_t(c) = -gamma_t(c), the posterior probability that
frame t emits c. PyTorch's kernel returns exp(lp_t(c)) - gamma_t(c) instead, the gradient with respect to the
logits when lp = log_softmax(logits); both give the logits the same gradient through log_softmax, since each frame's
gammas sum to 1. To match PyTorch number for number, the loss adds sum exp(lp) - (the same sum, detached), whose
value is 0 and whose gradient is exp(lp). Here every frame is a step of Python: fine for a course's T of a few
hundred, slower than PyTorch's kernel.
"""
import numpy as np

from ...amp.autocast_mode import autocast_args
from ...autograd.grad_mode import no_grad
from ...device import array_module_of, check_same_device, on_device_of
from ...functions import cat, stack
from ...tensor import Tensor, where
from ._checks import _check_floating, _check_tensor
from .loss import _reduction

__all__ = ["ctc_loss"]

_NEG_INF = float("-inf")


def _log_sum_exp(x, dim):
    """log(sum(exp(x))) along ``dim``, -inf (with zero gradient, not nan) where every term is -inf."""
    with no_grad():
        top = x.amax(dim, keepdim=True)
        top = where(top.isinf(), 0.0, top)
    total = (x - top).exp().sum(dim)
    found = total > 0
    return where(found, where(found, total, 1.0).log(), _NEG_INF) + top.squeeze(dim)


def _lengths(what, lengths, batch):
    """``input_lengths`` or ``target_lengths`` (a tensor, a list or tuple, or one number unbatched) as a numpy
    array of ``batch`` non-negative integers."""
    values = lengths.cpu().numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
    if values.dtype.kind not in "iu" or values.size != batch or (values < 0).any():
        raise RuntimeError(f"ctc_loss: {what} must be {batch} non-negative integers (a tensor or a tuple, one per "
                           f"sequence of the batch), got {values.tolist() if values.size < 20 else values.shape}")
    return values.reshape(batch).astype(np.int64)


def _padded_targets(targets, target_lengths, batch):
    """The targets as a (batch, longest) numpy array of labels: from (N, S) padded rows, or from one 1-D sequence
    of all the targets one after another (``target_lengths`` says where each ends)."""
    values = targets.cpu().numpy()
    if values.dtype.kind == "f" and np.array_equal(values, np.round(values)):  # (whole numbers as floats: PyTorch's)
        values = values.astype(np.int64)
    if values.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: targets must be class indices (integers), got {targets.dtype.name} values "
                           "that are not whole numbers")
    longest = int(target_lengths.max()) if batch else 0
    if targets.ndim == 2:
        if values.shape[0] != batch or values.shape[1] < longest:
            raise RuntimeError(f"ctc_loss: targets of shape {tuple(values.shape)} do not hold {batch} sequences of "
                               f"the target_lengths {target_lengths.tolist()}")
        return values[:, :longest]
    if targets.ndim != 1 or values.size != target_lengths.sum():
        raise RuntimeError(f"ctc_loss: targets must be (N, S) padded, or 1-D with the {target_lengths.sum()} "
                           f"labels of all the targets one after another, got shape {tuple(values.shape)}")
    padded = np.zeros((batch, longest), np.int64)
    for n, (start, length) in enumerate(zip(np.cumsum(target_lengths) - target_lengths, target_lengths)):
        padded[n, :length] = values[start:start + length]
    return padded


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """CTC's loss for log_probs (T, N, C) (log_softmax's output, frame by frame; or (T, C) unbatched), targets
    (N, S) padded or 1-D concatenated, and the lengths of each input and target. ``reduction="mean"`` divides each
    sequence's loss by its target's length, then averages over the batch, as PyTorch's."""
    reduction = _reduction("ctc_loss", reduction)
    _check_tensor("ctc_loss", targets, "targets")
    _check_floating("ctc_loss", log_probs)
    check_same_device("ctc_loss", [log_probs, targets])
    (log_probs,) = autocast_args("ctc_loss", log_probs)  # (float32 inside CPU autocast, as PyTorch's)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    if log_probs.ndim != 3:
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C), or (T, C) unbatched, got shape "
                           f"{tuple(log_probs.shape)}")
    frames, batch, classes = log_probs.shape
    input_lengths = _lengths("input_lengths", input_lengths, batch)
    target_lengths = _lengths("target_lengths", target_lengths, batch)
    if not 0 <= blank < classes:
        raise RuntimeError(f"ctc_loss: blank must be one of the {classes} classes, got {blank}")
    if (input_lengths > frames).any():
        raise RuntimeError(f"ctc_loss: input_lengths {input_lengths.tolist()} go past the T = {frames} frames of "
                           "log_probs")
    labels = _padded_targets(targets, target_lengths, batch)
    given = labels[np.arange(labels.shape[1]) < target_lengths[:, None]]  # (not the padding after each target)
    if given.size and (given.min() < 0 or given.max() >= classes or (given == blank).any()):
        raise RuntimeError(f"ctc_loss: target labels must be classes 0 to {classes - 1} other than the blank "
                           f"({blank}); got {sorted(set(given.tolist()))[:10]} (PyTorch does not check this)")
    # the extended targets l' (blank, l_1, blank, ..., l_S, blank), and where a path may skip a blank
    symbols = np.full((batch, 2 * labels.shape[1] + 1), blank, np.int64)
    symbols[:, 1::2] = labels
    skip = np.zeros(symbols.shape, bool)
    skip[:, 2:] = (symbols[:, 2:] != blank) & (symbols[:, 2:] != symbols[:, :-2])
    ends = np.stack([2 * target_lengths, np.maximum(2 * target_lengths - 1, 0)], 1)  # the last blank, label
    stops = np.stack([np.ones(batch, bool), target_lengths > 0], 1)  # (an empty target ends on its one blank)
    xp = array_module_of(log_probs.array)
    with on_device_of(log_probs.array):
        symbols, skip, ends, stops = (Tensor._make(xp.asarray(a), None) for a in (symbols, skip, ends, stops))
        starts = Tensor._make(xp.asarray(np.arange(symbols.shape[1]) < np.minimum(2, 2 * target_lengths + 1)[:, None]),
                              None)
        running = Tensor._make(xp.asarray(np.arange(frames)[:, None] < input_lengths), None)  # (T, N)
        silent = Tensor._make(xp.asarray(input_lengths == 0), None)  # no frames: 0 for an empty target, else inf
        silent_loss = Tensor._make(xp.asarray(np.where(target_lengths == 0, 0.0, np.inf), log_probs.array.dtype), None)
    emit = log_probs.gather(2, symbols.unsqueeze(0).expand(frames, -1, -1))  # (T, N, 2S+1): lp_t(l'_s)
    width = symbols.shape[1]
    gap = emit.new_full((batch, 2), _NEG_INF)
    alpha = where(starts, emit[0], _NEG_INF) if frames else emit.new_full((batch, width), _NEG_INF)
    for t in range(1, frames):
        one_back = cat([gap[:, :1], alpha], 1)[:, :width]  # alpha_{t-1}(s - 1)
        two_back = where(skip, cat([gap, alpha], 1)[:, :width], _NEG_INF)  # alpha_{t-1}(s - 2), where allowed
        alpha = where(running[t].unsqueeze(1), _log_sum_exp(stack([alpha, one_back, two_back]), 0) + emit[t], alpha)
    loss = where(silent, silent_loss, -_log_sum_exp(where(stops, alpha.gather(1, ends), _NEG_INF), 1))
    with no_grad():
        possible = ~loss.isinf()
    shown = where(running.unsqueeze(2), log_probs.exp(), 0.0).sum((0, 2))  # PyTorch's gradient convention (see above)
    loss = loss + (shown - shown.detach())
    if zero_infinity:
        loss = where(possible, loss, 0.0)
    if unbatched:
        loss = loss[0]
    if reduction == "mean":
        with on_device_of(log_probs.array):
            per_label = Tensor._make(xp.asarray(np.maximum(target_lengths, 1).astype(log_probs.array.dtype)), None)
        return (loss / (per_label[0] if unbatched else per_label)).mean()
    return loss.sum() if reduction == "sum" else loss

