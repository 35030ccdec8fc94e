r"""``embedding_bag``: one vector per bag of indices, the sum, mean or max of the rows the bag picks, composed of
the library's ops (a lookup, a padded gather, a reduction; no backward of its own).

A bag is a variable-length group of indices, such as the words of one sentence. Bag b's output is

    sum:  out_b = sum_{i in b} w_i * weight[input_i]      (w_i = ``per_sample_weights``, 1 when not given)
    mean: out_b = (1 / |b|) sum_{i in b} weight[input_i]
    max:  out_b = max_{i in b} weight[input_i]            (per column; the gradient goes to the first maximum)

so the gradient of weight's row r is the sum over the entries that picked r of their bag's output gradient (times
w_i, or divided by |b| for the mean; for the max, only where that entry held the maximum). Entries equal to
``padding_idx`` are left out of their bag (and of |b|); an empty bag's output is zeros.

Where the bags are: a 2-D ``input`` (B, N) is B bags of N indices each; a 1-D ``input`` is all the bags one after
another, and ``offsets`` (1-D) says where each begins (``offsets[0]`` is 0; with ``include_last_offset``, its last
entry is where the last bag ends, so it holds B + 1 numbers, and entries after it are in no bag; PyTorch is not
consistent there: its max takes them into the last bag, its sum leaves them out, its mean counts them in the
divisor only). The bags are laid out here as a padded block of shape
(B, longest bag, embedding_dim), gathered from the rows in one indexing op; PyTorch's kernel reduces each bag in
place, without that block. Reading the longest bag's length reads one number back from a GPU.
"""
import warnings

from ...device import array_module_of, check_same_device
from ...functions import cat
from ...shapes import check_number
from ...tensor import Tensor, where
from ._checks import _check_tensor

__all__ = ["embedding_bag"]

_MODES = ("sum", "mean", "max")


def _layout(flat, offsets, batch, include_last_offset):
    """(index, kept): index (B, L) the position in ``flat`` of each bag's i-th entry (``len(flat)`` past its end,
    a zero row's place); kept (B, L) True where that entry is in the bag. ``offsets`` is an array, or None for a
    2-D input of ``batch`` rows."""
    xp = array_module_of(flat)
    n = flat.shape[0]
    if offsets is None:
        width = n // batch if batch else 0
        starts = xp.arange(batch) * width
        ends = starts + width
    else:
        starts = offsets[:-1] if include_last_offset else offsets
        ends = offsets[1:] if include_last_offset else xp.concatenate([offsets[1:], xp.asarray([n], offsets.dtype)])
    lengths = (ends - starts).astype(xp.int64)
    longest = int(lengths.max()) if lengths.size else 0
    step = xp.arange(longest)
    kept = step[None, :] < lengths[:, None]
    return xp.where(kept, starts[:, None] + step[None, :], n), kept


def _check_offsets(offsets, n, include_last_offset):
    """PyTorch's rules for ``offsets``: 1-D integers, starting at 0, never decreasing, none past the input's end."""
    _check_tensor("embedding_bag", offsets, "offsets")
    if offsets.ndim != 1:
        raise ValueError(f"embedding_bag(): offsets has to be a 1D Tensor, got shape {tuple(offsets.shape)}")
    if offsets.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"embedding_bag(): offsets must be int64 (or int32), got {offsets.dtype.name}: convert "
                           "them with .long()")
    values = offsets.array
    if include_last_offset and values.shape[0] == 0:
        raise RuntimeError("embedding_bag(): with include_last_offset=True, offsets must hold at least one number "
                           "(the end of the last bag)")
    if values.shape[0] and int(values[0]) != 0:
        raise RuntimeError(f"embedding_bag(): offsets[0] has to be 0, i.e., the first sequence in the mini-batch has "
                           f"to start from position 0. However, got {int(values[0])}")
    if values.shape[0] and int(values[-1]) > n:
        raise RuntimeError(f"embedding_bag(): offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {int(values[-1])}")
    if values.shape[0] > 1 and bool((values[1:] < values[:-1]).any()):
        raise RuntimeError(f"embedding_bag(): offsets must never decrease (each is where a bag starts), got "
                           f"{values.tolist() if values.shape[0] <= 12 else 'a decrease'}")
    return values


def _check_arguments(input, weight, offsets, mode, per_sample_weights, include_last_offset):
    """PyTorch's rules for embedding_bag's arguments, each broken one a clear error; the offsets' values (an array),
    or None for a 2-D input."""
    if mode not in _MODES:
        raise ValueError(f"embedding_bag(): mode has to be one of sum, mean or max, got {mode!r}")
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"embedding_bag(): the indices must be int64 (or int32), got {input.dtype.name}: convert "
                           "them with .long()")
    if not weight.is_floating_point() or weight.ndim != 2:
        raise RuntimeError(f"embedding_bag(): weight must be a 2-D floating-point tensor (num_embeddings, "
                           f"embedding_dim), got {weight.dtype.name} of shape {tuple(weight.shape)}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag(): if input is 2D, then offsets has to be None, as input is treated is a "
                             "mini-batch of fixed length sequences. However, found offsets of type "
                             f"{type(offsets).__name__}")
        offset_values = None
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag(): offsets has to be a 1D Tensor but got None: give where each bag "
                             "starts in the 1-D input (offsets[0] = 0), or give a 2-D input of equal bags")
        offset_values = _check_offsets(offsets, input.shape[0], include_last_offset)
    else:
        raise ValueError(f"embedding_bag(): input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if per_sample_weights is not None:
        _check_tensor("embedding_bag", per_sample_weights, "per_sample_weights")
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag(): per_sample_weights was not None. per_sample_weights is only "
                                      f"supported for mode='sum' (got mode={mode!r})")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag(): per_sample_weights {tuple(per_sample_weights.shape)} must have the "
                             f"same shape as the input {tuple(input.shape)}")
        if per_sample_weights.dtype != weight.dtype:
            raise RuntimeError(f"embedding_bag(): per_sample_weights ({per_sample_weights.dtype.name}) must have the "
                               f"dtype of weight ({weight.dtype.name})")
    check_same_device("embedding_bag", [input, weight] + [t for t in (offsets, per_sample_weights) if t is not None])
    return offset_values


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The sum, mean or max of each bag's rows of ``weight`` (see the module's docstring): out (B, embedding_dim).

    ``max_norm``: the rows picked are first renormalised in place, as ``F.embedding`` does. ``per_sample_weights``
    (the shape of ``input``, the dtype of ``weight``) scales each entry, with ``mode="sum"`` only. The old argument
    order ``embedding_bag(weight, input, ...)`` warns and is swapped, as in PyTorch. ``scale_grad_by_freq`` and
    ``sparse`` are not supported."""
    from . import embedding  # (the lookup and its max_norm; functional's __init__ imports this module first)
    _check_tensor("embedding_bag", input)
    _check_tensor("embedding_bag", weight, "weight")
    if weight.dtype.name in ("int64", "int32") and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
                      stacklevel=2)
        input, weight = weight, input
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag(): scale_grad_by_freq and sparse are not supported by tinygrad_lite")
    offset_values = _check_arguments(input, weight, offsets, mode, per_sample_weights, include_last_offset)
    rows = weight.shape[0]
    if padding_idx is not None:
        check_number("embedding_bag", "padding_idx", padding_idx)
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding_bag(): padding_idx must be within num_embeddings ({rows}): -{rows} to "
                             f"{rows - 1}, got {padding_idx}")
        padding_idx %= rows
    flat = input.reshape(-1)
    if flat.shape[0] and (int(flat.array.min()) < 0 or int(flat.array.max()) >= rows):
        bad = int(flat.array.max()) if int(flat.array.max()) >= rows else int(flat.array.min())
        raise RuntimeError(f"embedding_bag(): index {bad} is out of range for a weight of {rows} rows (valid: 0 to "
                           f"{rows - 1}); is num_embeddings the vocabulary's size?")
    index, kept = _layout(flat.array, offset_values, input.shape[0], include_last_offset)
    if padding_idx is not None:
        xp = array_module_of(index)
        entries = xp.concatenate([flat.array, xp.asarray([padding_idx], flat.array.dtype)])
        kept = kept & (entries[index] != padding_idx)
        index = xp.where(kept, index, flat.shape[0])
    picked = embedding(flat, weight, max_norm=max_norm, norm_type=norm_type)  # (N, D), renormalised first
    if per_sample_weights is not None:
        picked = picked * per_sample_weights.reshape(-1, 1)
    block = cat([picked, picked.new_zeros((1, weight.shape[1]))])[Tensor._make(index, None)]  # (B, L, D)
    if mode == "sum" or index.shape[1] == 0:
        return block.sum(1)
    counts = kept.sum(1, keepdims=True)
    if mode == "mean":
        return block.sum(1) / Tensor._make(counts.clip(1, None).astype(picked.array.dtype), None)
    largest = where(Tensor._make(kept[:, :, None], None), block, float("-inf")).max(1).values
    return where(Tensor._make(counts > 0, None), largest, 0.0)  # (an empty bag: zeros, not -inf)
