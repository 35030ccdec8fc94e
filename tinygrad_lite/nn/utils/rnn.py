"""``nn.utils.rnn``: ``pad_sequence`` and ``unpad_sequence``, sequences of different lengths as one batch.

A batch of sentences or signals of different lengths (each (L_i, *)) becomes one tensor, the shorter ones padded
with ``padding_value`` at the end (or the start, ``padding_side="left"``): (L_max, B, *), or (B, L_max, *) with
``batch_first=True``. Composed of ``F.pad`` and ``stack``, so the gradient reaches each sequence. PyTorch's packed
sequences (``pack_padded_sequence``...) are for its recurrent layers, which tinygrad_lite does not cover.
"""
from ...functions import stack
from ...tensor import Tensor
from ..functional import pad

__all__ = ["pad_sequence", "unpad_sequence"]


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
