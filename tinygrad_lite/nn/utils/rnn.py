"""``nn.utils.rnn``: sequences of different lengths as one batch, padded or packed.

- ``pad_sequence``/``unpad_sequence``: a batch of sentences or signals of different lengths (each (L_i, *)) becomes
  one tensor, the shorter ones padded with ``padding_value`` at the end (or the start, ``padding_side="left"``):
  (L_max, B, *), or (B, L_max, *) with ``batch_first=True``.
- ``pack_padded_sequence``/``pad_packed_sequence``/``pack_sequence``/``unpack_sequence``: the same batch without
  its padding, for the recurrent layers (``nn.LSTM``...): a ``PackedSequence`` holds the steps' numbers one time
  step after another, each step only for the sequences that are that long, with the batch sorted from the longest
  sequence down, and ``batch_sizes[t]``, how many sequences have a step t. A recurrent layer given one runs step t
  on those only, so a sequence's last state is the state after its own last step, not after its padding.
Composed of ``F.pad``, ``stack``, ``cat`` and indexing, so the gradient reaches each sequence.
"""
from collections import namedtuple

import numpy as np

from ... import dtypes as dt
from ...creation import tensor
from ...functions import cat, stack
from ...tensor import Tensor
from ..functional import pad

__all__ = ["pad_sequence", "unpad_sequence", "PackedSequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpack_sequence", "invert_permutation"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """The tensors ``sequences`` (each (L_i, *), the same * for all) padded to the longest and stacked."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence(): received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"pad_sequence(): expected padding_side to be one of left or right, but got "
                           f"{padding_side!r}")
    for i, t in enumerate(sequences):
        if not isinstance(t, Tensor) or t.ndim == 0 or tuple(t.shape[1:]) != tuple(sequences[0].shape[1:]):
            what = f"a {type(t).__name__}" if not isinstance(t, Tensor) else f"shape {tuple(t.shape)}"
            raise RuntimeError(f"pad_sequence(): sequence {i} is {what}; each must be a tensor (L, *) with the same "
                               f"trailing dims as the first, {tuple(sequences[0].shape[1:])}")
    longest = max(t.shape[0] for t in sequences)
    padded = []
    for t in sequences:
        extra = longest - t.shape[0]
        sizes = (0, 0) * (t.ndim - 1) + ((0, extra) if padding_side == "right" else (extra, 0))
        padded.append(pad(t, sizes, value=float(padding_value)) if extra else t)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of ``pad_sequence`` (right padding): a list of the sequences, each cut to its length."""
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [batch[i, :int(n)] for i, n in enumerate(lengths)]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of sequences without padding (see the module's docstring): ``data`` (sum of the lengths, *), step
    after step; ``batch_sizes`` (int64, on the CPU), the number of sequences at each step; ``sorted_indices``, the
    batch's order from the longest down (None when it came sorted), and ``unsorted_indices``, its inverse."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None and isinstance(data, (tuple, list)):  # PackedSequence((data, batch_sizes)), as PyTorch
            data, batch_sizes = data
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequences with ``data`` moved or cast (``batch_sizes`` stays on the CPU, as PyTorch's)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        indices = [None if i is None else i.to(data.device) for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def cuda(self, *args, **kwargs):
        return self.to("cuda" if not args else args[0], **kwargs)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dt.float64)

    def float(self):
        return self.to(dt.float32)

    def half(self):
        return self.to(dt.float16)

    def long(self):
        return self.to(dt.int64)

    def int(self):
        return self.to(dt.int32)

    def short(self):
        return self.to(dt.int16)

    def char(self):
        return self.to(dt.int8)

    def byte(self):
        return self.to(dt.uint8)

    def is_pinned(self):
        return False  # (no pinned host memory here)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None): out[permutation[i]] = i."""
    if permutation is None:
        return None
    out = np.empty(len(permutation), dtype=np.int64)
    out[np.asarray(permutation.cpu().numpy())] = np.arange(len(permutation))
    return tensor(out, device=permutation.device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """A padded batch (L, B, *) ((B, L, *) with ``batch_first``) and each sequence's length as a PackedSequence.
    ``enforce_sorted=True`` asks for the lengths from the longest down (else the batch is sorted here and the
    order kept in ``sorted_indices``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence(): input must be a tensor (L, B, *), got {type(input).__name__}")
    counts = np.asarray(lengths.cpu().numpy() if isinstance(lengths, Tensor) else lengths)
    if counts.ndim != 1:
        raise RuntimeError(f"pack_padded_sequence(): lengths must be a 1-D list or tensor, one length per sequence, "
                           f"got shape {counts.shape}")
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    counts = counts.astype(np.int64)
    x = input.transpose(0, 1) if batch_first else input
    if x.ndim < 2 or len(counts) != x.shape[1]:
        raise RuntimeError(f"pack_padded_sequence(): expected one length per sequence of the batch, "
                           f"{x.shape[1] if x.ndim >= 2 else 'an input of 2 or more dims'}, got {len(counts)}")
    if (counts <= 0).any():
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if counts.max() > x.shape[0]:
        raise RuntimeError(f"pack_padded_sequence(): a length ({counts.max()}) is longer than the padded input's "
                           f"{x.shape[0]} steps")
    sorted_indices = None
    if enforce_sorted:
        if (np.diff(counts) > 0).any():
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                               "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
    else:
        order = np.argsort(-counts, kind="stable")
        sorted_indices = tensor(order, device=input.device)
        x, counts = x[:, sorted_indices], counts[order]
    sizes = [int((counts > t).sum()) for t in range(int(counts.max()))]
    data = cat([x[t, :n] for t, n in enumerate(sizes)])
    return PackedSequence(data, tensor(sizes, dtype=dt.int64), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: (the padded batch (L, B, *), each sequence's length), in the
    batch's first order; ``total_length``: pad to that many steps (at least the longest)."""
    sizes = [int(n) for n in sequence.batch_sizes.cpu().numpy()]
    steps = len(sizes)
    if total_length is not None and total_length < steps:
        raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, but got "
                         f"total_length={total_length} and max sequence length being {steps}")
    batch, start, rows = sizes[0], 0, []
    for n in sizes:
        step = sequence.data[start:start + n]
        rows.append(pad(step, (0, 0) * (step.ndim - 1) + (0, batch - n), value=float(padding_value)) if n < batch
                    else step)
        start += n
    padded = stack(rows)
    if total_length is not None and total_length > steps:
        padded = pad(padded, (0, 0) * (padded.ndim - 1) + (0, total_length - steps), value=float(padding_value))
    lengths = np.array([sum(n > b for n in sizes) for b in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded, lengths = padded[:, sequence.unsorted_indices], lengths[sequence.unsorted_indices.cpu().numpy()]
    return (padded.transpose(0, 1) if batch_first else padded), tensor(lengths)


def unpack_sequence(packed_sequences):
    """The inverse of ``pack_sequence``: the list of the sequences, each (L_i, *), in their first order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def pack_sequence(sequences, enforce_sorted=True):
    """A list of sequences (each (L_i, *)) as a PackedSequence: pad_sequence, then pack_padded_sequence."""
    lengths = [len(s) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
