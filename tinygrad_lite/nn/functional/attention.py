r"""Attention, composed of the library's ops: ``scaled_dot_product_attention``, and
``multi_head_attention_forward``, what ``nn.MultiheadAttention`` runs.

    attention(Q, K, V) = softmax(Q K^T * scale + M) V,    scale = 1 / \sqrt{E} by default

Each query (a row of Q, of length E) scores every key (a row of K) by their dot product; the scale keeps the
scores' spread from growing with E, so that the softmax does not saturate. The softmax turns a query's scores into
weights that sum to 1, and its answer is the weighted mean of the values (the rows of V). The mask M is added to
the scores: -inf where a query may not look (a later position, in a causal model; a padding token), 0 elsewhere,
so that those keys get weight 0. No op here has a backward of its own: the chain rule through the two matrix
products, the softmax and the mask gives every gradient.

Multi-head attention projects the queries, keys and values with learned weights, splits the projections into
``num_heads`` heads of E / num_heads numbers each, attends within each head (every head learns to look for
something else), and concatenates the heads' answers before a last projection.

Two conventions for a bool mask, both PyTorch's: in ``scaled_dot_product_attention`` True means "may attend"; in
``nn.MultiheadAttention`` (``attn_mask``, ``key_padding_mask``) True means "may NOT attend". A float mask is added
to the scores in both.
"""
import math
import warnings

import numpy as np

from ... import dtypes as dt
from ...backends.cuda import sdp_allowed
from ...creation import ones, zeros
from ...functions import cat
from ._checks import _check_floating, _check_tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _masked_softmax(scores):
    """softmax over the last dim, with 0 weights (and 0 gradients) for a query whose every key is masked out.

    A row of -inf scores has no softmax (0 / 0); PyTorch's attention kernel returns zeros for it, so a fully padded
    query gives a zero answer instead of nans that would spread through the rest of the model. The row's scores
    are set to 0 before the softmax (so that its backward sees no nan) and its weights to 0 after."""
    if scores.shape[-1] == 0:  # (no keys at all: empty weights, a zero answer)
        return scores.softmax(-1)
    empty = scores.amax(-1, keepdim=True) == -math.inf
    if not empty.any():
        return scores.softmax(-1)
    return scores.masked_fill(empty, 0.0).softmax(-1).masked_fill(empty, 0.0)


def _float_mask(mask, like):
    """A bool mask (True: masked out) as -inf and 0 in ``like``'s dtype; a float mask as it is."""
    return zeros(mask.shape, dtype=like.dtype, device=like.device).masked_fill(mask, -math.inf) \
        if mask.dtype == dt.bool else mask


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    r"""softmax(Q K^T * scale + M) V over the last two dims: query (..., L, E), key (..., S, E), value (..., S, Ev)
    -> (..., L, Ev); the leading dims broadcast (a key with one head serves every head of the query).

    - ``attn_mask``: broadcastable to (..., L, S); bool: True where the query MAY attend (False becomes -inf); float:
      added to the scores (in the query's dtype).
    - ``is_causal``: query i attends to keys 0..i only (the lower triangle of an L x S grid, from its top left
      corner); not with an ``attn_mask`` (fold the causal mask into it). PyTorch raises too, except in its CPU
      kernel for 4-D inputs without gradients, which applies both.
    - ``dropout_p``: dropout on the weights, always applied (there is no ``training`` flag: pass 0.0 to evaluate).
    - ``scale``: instead of 1 / \sqrt{E}.
    - ``enable_gqa``: grouped-query attention: key and value have fewer heads (dim -3) than the query, each of
      theirs shared by consecutive heads of the query (query.size(-3) / key.size(-3) of them for a key).

    A query whose every key is masked out gets a zero answer (and zero gradients), as from PyTorch's CPU kernel.
    Unlike that kernel, a key and a value of different lengths are an error here (PyTorch's CPU kernel reads past
    the shorter one)."""
    _check_floating("scaled_dot_product_attention", query)
    if not sdp_allowed(query.device.type):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely due to "
                           "turning off both the math kernel and the fused kernels. (Here the one implementation is "
                           "the math one: allow it, e.g. with sdpa_kernel(SDPBackend.MATH).)")
    _check_tensor("scaled_dot_product_attention", key, "key"), _check_tensor("scaled_dot_product_attention", value,
                                                                             "value")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"scaled_dot_product_attention(): expected query, key and value to be at least 2-D "
                           f"(..., length, features), but got {query.ndim}-D, {key.ndim}-D and {value.ndim}-D tensors")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"scaled_dot_product_attention(): expected query, key and value to have the same dtype, but "
                           f"got {query.dtype.name}, {key.dtype.name} and {value.dtype.name}: convert them first "
                           "(e.g. key.to(query.dtype))")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention(): a query and a key must have the same number of features, "
                           f"and key and value the same length: got query {tuple(query.shape)}, key "
                           f"{tuple(key.shape)} and value {tuple(value.shape)}")
    if attn_mask is not None and is_causal:
        raise RuntimeError("scaled_dot_product_attention(): an explicit attn_mask should not be set when "
                           "is_causal=True: fold the causal mask into yours (mask & torch.ones(L, S, "
                           "dtype=torch.bool).tril()), or leave one of them out")
    if attn_mask is not None:
        _check_tensor("scaled_dot_product_attention", attn_mask, "attn_mask")
        if attn_mask.dtype != dt.bool and not attn_mask.dtype.is_floating_point:
            raise RuntimeError(f"scaled_dot_product_attention(): attn_mask must be bool or floating point, but it is "
                               f"{attn_mask.dtype.name}: make it bool (True where a query may attend) or float "
                               "(added to the scores)")
        attn_mask = attn_mask if attn_mask.dtype in (dt.bool, query.dtype) else attn_mask.to(query.dtype)
    if enable_gqa and min(query.ndim, key.ndim, value.ndim) >= 3:
        heads = query.shape[-3]
        if heads % key.shape[-3] or heads % value.shape[-3]:
            raise RuntimeError(f"scaled_dot_product_attention(): with enable_gqa, the query's number of heads "
                               f"({heads}) must be a multiple of the key's ({key.shape[-3]}) and of the value's "
                               f"({value.shape[-3]})")
        key = key.repeat_interleave(heads // key.shape[-3], -3) if key.shape[-3] != heads else key
        value = value.repeat_interleave(heads // value.shape[-3], -3) if value.shape[-3] != heads else value
    length, source = query.shape[-2], key.shape[-2]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query @ key.transpose(-2, -1) * scale
    if is_causal:
        scores = scores.masked_fill(ones((length, source), dtype=dt.bool, device=query.device).tril().logical_not(),
                                    -math.inf)
    if attn_mask is not None:
        scores = scores.masked_fill(attn_mask.logical_not(), -math.inf) if attn_mask.dtype == dt.bool else \
            scores + attn_mask
    weights = _masked_softmax(scores)
    if dropout_p > 0.0:
        from . import dropout  # (the package imports this module: its dropout is defined there)
        weights = dropout(weights, dropout_p)
    return weights @ value


def _canonical_mask(mask, name, other=None, other_name="", like=None):
    """``mask`` checked (bool or floating) and made float (see ``_float_mask``); PyTorch warns when a key padding
    mask and an attention mask are of different kinds, and so does this."""
    if mask is None:
        return None
    _check_tensor("MultiheadAttention", mask, name)
    if mask.dtype != dt.bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported, got {mask.dtype.name}: make it "
                             f"bool (True where attention is NOT allowed), or float (added to the scores)")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    return _float_mask(mask, like)


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's shape rules for multi-head attention; True when the input is a batch (3-D)."""
    batched = query.ndim == 3
    if query.ndim not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query "
                             "tensor: (L, E), or (L, N, E) ((N, L, E) with batch_first=True)")
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"for a {query.ndim}-D query, expected key and value to be {query.ndim}-D too, but found "
                             f"{key.ndim}-D and {value.ndim}-D tensors")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(f"for a {query.ndim}-D query, expected key_padding_mask to be {query.ndim - 1}-D "
                             f"({'(N, S)' if batched else '(S,)'}: one flag per key), but found "
                             f"{key_padding_mask.ndim}-D tensor")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(f"expected attn_mask to be 2-D (L, S) or 3-D (N * num_heads, L, S), but found "
                             f"{attn_mask.ndim}-D tensor")
    if attn_mask is not None and attn_mask.ndim == 3 and not batched and attn_mask.shape[0] != num_heads:
        raise AssertionError(f"expected a 3-D attn_mask of an unbatched query to be (num_heads, L, S) = "
                             f"({num_heads}, L, S), but got {tuple(attn_mask.shape)}")
    return batched


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    r"""Multi-head attention on (L, N, E) queries and (S, N, E) keys and values (sequence first; unbatched (L, E)
    too), as PyTorch's function of this name: returns (output (L, N, E), weights or None).

    The input projections: ``in_proj_weight`` (3E, E), the query's, key's and value's weights stacked (or the three
    ``*_proj_weight`` with ``use_separate_proj_weight``, for keys and values of other widths), and ``in_proj_bias``
    (3E). Then each of the ``num_heads`` heads attends on its slice of E / num_heads numbers, the heads' answers are
    concatenated and projected by ``out_proj_weight``, ``out_proj_bias``. ``bias_k``, ``bias_v`` (1, 1, E): one more
    key and value appended; ``add_zero_attn``: one more key and value of zeros (after the projections).

    Masks, True meaning "may NOT attend" when bool (float masks are added to the scores): ``key_padding_mask``
    (N, S), a key to ignore in every query (padding); ``attn_mask`` (L, S), or (N * num_heads, L, S) per example
    and head. ``need_weights``: also return the weights, averaged over the heads (N, L, S) with
    ``average_attn_weights``, else (N, num_heads, L, S); a query whose keys are all masked then gets nan weights and
    a nan answer, as in PyTorch; without the weights (need_weights=False) a zero answer, as PyTorch's attention
    kernel gives. ``is_causal`` is only a hint that ``attn_mask`` is the causal mask, which must be given.
    ``static_k``, ``static_v`` are not supported."""
    from . import dropout, linear  # (the package imports this module: they are defined there)
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward(): static_k and static_v are not supported here: "
                                  "project the keys and values yourself and use scaled_dot_product_attention")
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_tensor("multi_head_attention_forward", t, name)
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        key_padding_mask = None if key_padding_mask is None else key_padding_mask.unsqueeze(0)
    length, batch, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    attn_mask = _canonical_mask(attn_mask, "attn_mask", like=query)
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if (key.shape[:2] if use_separate_proj_weight else key.shape) != (value.shape[:2] if use_separate_proj_weight
                                                                      else value.shape):
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
    if use_separate_proj_weight:
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = (linear(x, w, b) for x, w, b in ((query, q_proj_weight, b_q), (key, k_proj_weight, b_k),
                                                   (value, v_proj_weight, b_v)))
    else:
        weights = in_proj_weight.chunk(3)
        biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))
    if attn_mask is not None:
        expected = (length, key.shape[0]) if attn_mask.ndim == 2 else (batch * num_heads, length, key.shape[0])
        if tuple(attn_mask.shape) != expected:
            raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is {tuple(attn_mask.shape)}, but should "
                               f"be {expected}.")
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.ndim == 2 else attn_mask
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must be given together (add_bias_kv makes both)")
    if bias_k is not None:  # one more key and value, the learned ones, for every example
        k, v = cat([k, bias_k.expand(1, batch, embed_dim)]), cat([v, bias_v.expand(1, batch, embed_dim)])
    # (L, N, E) -> (N * heads, L, head_dim): each example's heads side by side, as PyTorch's view and transpose
    q, k, v = (t.reshape(t.shape[0], batch * num_heads, head_dim).transpose(0, 1) for t in (q, k, v))
    if add_zero_attn:  # one more key and value of zeros, after the projections
        extra = zeros((batch * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = cat([k, extra], dim=1), cat([v, extra], dim=1)
    for _ in range((bias_k is not None) + bool(add_zero_attn)):  # the masks cover the extra keys (0: attended)
        attn_mask = None if attn_mask is None else cat([attn_mask, zeros((*attn_mask.shape[:-1], 1),
                                                                         dtype=attn_mask.dtype, device=q.device)], -1)
        key_padding_mask = None if key_padding_mask is None else cat(
            [key_padding_mask, zeros((batch, 1), dtype=key_padding_mask.dtype, device=q.device)], -1)
    source = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch, source):
            raise AssertionError(f"expecting key_padding_mask shape of {(batch, source)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        padding = key_padding_mask.reshape(batch, 1, 1, source).expand(batch, num_heads, 1, source) \
            .reshape(batch * num_heads, 1, source)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    dropout_p = dropout_p if training else 0.0
    if need_weights:  # PyTorch's path when the weights are returned: a plain softmax (all masked: nan)
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        with np.errstate(invalid="ignore"):  # (a query with every key masked: nan weights, silently, as PyTorch)
            weights = (scores if attn_mask is None else scores + attn_mask).softmax(-1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        output = (weights @ v).transpose(0, 1).reshape(length * batch, embed_dim)
        output = linear(output, out_proj_weight, out_proj_bias).reshape(length, batch, embed_dim)
        weights = weights.reshape(batch, num_heads, length, source)
        weights = weights.mean(1) if average_attn_weights else weights
        return (output, weights) if batched else (output.squeeze(1), weights.squeeze(0))
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
            attn_mask.reshape(batch, num_heads, -1, source)
    q, k, v = (t.reshape(batch, num_heads, t.shape[1], head_dim) for t in (q, k, v))
    output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p)
    output = output.permute(2, 0, 1, 3).reshape(batch * length, embed_dim)
    output = linear(output, out_proj_weight, out_proj_bias).reshape(length, batch, embed_dim)
    return (output if batched else output.squeeze(1)), None
