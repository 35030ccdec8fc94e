"""``MultiheadAttention``: attention with learned projections, split into heads (see ``F.multi_head_attention_forward``
for the math, in ``nn/functional/attention.py``).

Its parameters are PyTorch's, under PyTorch's names, so that a ``state_dict`` moves between the two libraries:
``in_proj_weight`` (3E, E), the query's, key's and value's projections stacked (or ``q_proj_weight``,
``k_proj_weight``, ``v_proj_weight`` when the keys or values have another width, ``kdim``/``vdim``),
``in_proj_bias`` (3E), ``out_proj`` (a Linear(E, E)), and with ``add_bias_kv`` the extra key and value
``bias_k``, ``bias_v`` (1, 1, E). Initialisation as PyTorch's: Xavier-uniform projections, zero biases.
"""
from ...creation import empty
from ...shapes import check_size
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear (PyTorch's name for ``out_proj``'s class, which its quantization tools leave alone)."""


class MultiheadAttention(Module):
    """Multi-head attention: forward(query, key, value) -> (output, weights or None).

    Sequence first by default: query (L, N, E), key (S, N, kdim), value (S, N, vdim) -> (L, N, E);
    ``batch_first=True``: (N, L, E) and (N, S, .); unbatched (L, E) too. ``dropout``: on the attention weights, in
    training. See ``forward`` for the masks."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if isinstance(embed_dim, int) and isinstance(num_heads, int) and (embed_dim <= 0 or num_heads <= 0):
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        self.embed_dim = check_size("MultiheadAttention", "embed_dim", embed_dim)
        self.num_heads = check_size("MultiheadAttention", "num_heads", num_heads)
        self.kdim = embed_dim if kdim is None else check_size("MultiheadAttention", "kdim", kdim)
        self.vdim = embed_dim if vdim is None else check_size("MultiheadAttention", "vdim", vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        F._check_dropout_p(dropout, "MultiheadAttention")
        self.dropout, self.batch_first, self.head_dim = dropout, batch_first, embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(f"embed_dim must be divisible by num_heads: {embed_dim} numbers do not split into "
                                 f"{num_heads} heads of equal width")
        made = dict(device=device, dtype=dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **made))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **made))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **made))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **made))
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", Parameter(empty(3 * embed_dim, **made)) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **made)
        self.bias_k = Parameter(empty((1, 1, embed_dim), **made)) if add_bias_kv else None
        self.bias_v = Parameter(empty((1, 1, embed_dim), **made)) if add_bias_kv else None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """Xavier-uniform projections, zero biases, Xavier-normal ``bias_k``/``bias_v`` (``out_proj.weight`` keeps a
        Linear's draw), as PyTorch's."""
        for weight in ((self.in_proj_weight,) if self._qkv_same_embed_dim else
                       (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)):
            init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(output, weights): self-attention is ``mha(x, x, x)``.

        - ``key_padding_mask`` (N, S): True (bool) for the keys to ignore, e.g. padding; a float one is added.
        - ``attn_mask`` (L, S) or (N * num_heads, L, S): True (bool) where a query may NOT attend, e.g.
          ``nn.Transformer.generate_square_subsequent_mask(L)`` (a float mask: -inf above the diagonal).
        - ``need_weights``: also return the weights, averaged over the heads (``average_attn_weights``) or not.
        - ``is_causal``: a hint that ``attn_mask`` is the causal mask (it must still be given)."""
        batched = query.ndim == 3
        if self.batch_first and batched:  # to sequence first, and back after
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        weights = dict(in_proj_weight=self.in_proj_weight) if self._qkv_same_embed_dim else dict(
            in_proj_weight=None, use_separate_proj_weight=True, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight)
        output, attention = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, in_proj_bias=self.in_proj_bias, bias_k=self.bias_k,
            bias_v=self.bias_v, add_zero_attn=self.add_zero_attn, dropout_p=self.dropout,
            out_proj_weight=self.out_proj.weight, out_proj_bias=self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            average_attn_weights=average_attn_weights, is_causal=is_causal, **weights)
        return (output.transpose(0, 1) if self.batch_first and batched else output), attention
