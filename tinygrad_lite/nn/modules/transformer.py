"""The Transformer's layers, as in "Attention Is All You Need" and PyTorch's ``torch.nn`` (the same submodules, names
and ``state_dict`` keys): ``TransformerEncoderLayer``, ``TransformerDecoderLayer``, the stacks ``TransformerEncoder``
and ``TransformerDecoder``, and ``Transformer``, an encoder and a decoder.

An encoder layer is two blocks, each with a residual connection and a layer norm:
    x = norm1(x + dropout1(self_attn(x, x, x)))
    x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))
(``norm_first=True``: x = x + block(norm(x)), the "pre-norm" order, which trains deep stacks more stably). A
decoder layer has a third block between the two: attention from its sequence (the queries) to the encoder's output,
the ``memory`` (keys and values). Sequence first by default, (S, N, E); ``batch_first=True`` for (N, S, E).

PyTorch's ``TransformerEncoder`` in evaluation, under ``no_grad``, with a ``src_key_padding_mask`` whose padding
comes at the end of each sequence (and no ``mask``), runs as nested tensors, which hold no padded positions: its
output there is 0. Here the layers run on the padded batch as in training, and the padded positions are then set
to 0 under the same conditions, so both return the same numbers (the rest is unchanged by the route). As PyTorch's,
its constructor warns when ``enable_nested_tensor`` is True and the layers rule that route out (``batch_first``
False is the usual reason).
Deliberate difference: a stack's copies of a layer whose
activation is a module (``activation=nn.GELU()``) keep it; PyTorch's copies (made by ``copy.deepcopy``, whose
``__setstate__`` looks for the activation among the attributes, not the submodules) fall back to relu.
"""
import copy
import warnings

from ...amp.autocast_mode import is_autocast_enabled
from ...autograd.grad_mode import is_grad_enabled
from ...creation import full
from ...shapes import check_number, check_size
from .. import functional as F
from .. import init
from ..functional.attention import _canonical_mask
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _activation(activation):
    """``"relu"``, ``"gelu"`` or a callable (a function such as F.gelu, or a module)."""
    if activation in ("relu", "gelu"):
        return F.relu if activation == "relu" else F.gelu
    if isinstance(activation, str) or not callable(activation):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


class _Layer(Module):
    """What the encoder and decoder layers share: the feed-forward block, the norms and dropouts, the options."""

    def __init__(self, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                 bias, device, dtype, norms):
        super().__init__()
        name = type(self).__name__
        d_model, nhead = check_size(name, "d_model", d_model), check_size(name, "nhead", nhead)
        dim_feedforward = check_size(name, "dim_feedforward", dim_feedforward)
        F._check_dropout_p(dropout, name)
        layer_norm_eps = check_number(name, "layer_norm_eps", layer_norm_eps, low=0)
        if d_model <= 0 or nhead <= 0:  # (the exception types of PyTorch's MultiheadAttention)
            raise ValueError(f"{name}: d_model and nhead must be greater than 0, got d_model={d_model} and "
                             f"nhead={nhead}")
        if d_model % nhead:
            raise AssertionError(f"{name}: d_model ({d_model}) must split into nhead ({nhead}) heads of equal width")
        made = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **made)
        if norms == 3:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                     batch_first=batch_first, **made)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **made)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **made)
        self.norm_first = norm_first
        for i in range(1, norms + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **made))
        for i in range(1, norms + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)
        if norms == 2:  # (an encoder layer's flag for PyTorch's fused route: 1 for relu, 2 for gelu, 0 for others)
            kind = type(self.activation).__name__
            self.activation_relu_or_gelu = 1 if self.activation is F.relu or kind == "ReLU" else \
                2 if self.activation is F.gelu or kind == "GELU" else 0

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        last = self.dropout3 if hasattr(self, "multihead_attn") else self.dropout2  # (the decoder has three)
        return last(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_Layer):
    """Self-attention, then a feed-forward block (d_model -> dim_feedforward -> d_model), each with a residual
    connection and a layer norm: forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                         norm_first, bias, device, dtype, norms=2)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """``src_mask`` (S, S): which positions may attend to which (e.g. a causal mask); ``src_key_padding_mask``
        (N, S): True for the padding tokens, which no position attends to."""
        padding = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", src)
        mask = _canonical_mask(src_mask, "src_mask", like=src)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), mask, padding, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, mask, padding, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerDecoderLayer(_Layer):
    """Self-attention, attention to the encoder's output (``memory``), then a feed-forward block, each with a
    residual connection and a layer norm: forward(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                         norm_first, bias, device, dtype, norms=3)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """``tgt_mask`` (T, T): usually the causal mask, so that position t sees only the targets before it;
        ``memory_mask`` (T, S); the key padding masks (N, T) and (N, S): True for padding."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x))


def _clones(owner, layer, n, what):
    """``n`` independent copies of ``layer`` (the same starting numbers, as PyTorch's: re-initialise them to differ)."""
    if not isinstance(layer, Module):
        raise TypeError(f"{owner}: {what} must be a layer (a Module) to copy num_layers times, got "
                        f"{type(layer).__name__}")
    return ModuleList([copy.deepcopy(layer) for _ in range(check_size(owner, "num_layers", n))])


def _why_not_nested(layer):
    """Why PyTorch's encoder stack of ``layer`` cannot run as nested tensors ("" if it can), in its words."""
    name = "encoder_layer"
    return (f"{name} was not TransformerEncoderLayer" if not isinstance(layer, TransformerEncoderLayer) else
            f"{name}.norm_first was True" if layer.norm_first else
            f"{name}.self_attn.batch_first was not True(use batch_first for better inference performance)"
            if not layer.self_attn.batch_first else
            f"{name}.self_attn._qkv_same_embed_dim was not True" if not layer.self_attn._qkv_same_embed_dim else
            f"{name}.self_attn was passed bias=False" if layer.self_attn.in_proj_bias is None else
            f"{name}.activation_relu_or_gelu was not True" if not layer.activation_relu_or_gelu else
            f"{name}.norm1.eps was not equal to {name}.norm2.eps" if layer.norm1.eps != layer.norm2.eps else
            f"{name}.self_attn.num_heads is odd" if layer.self_attn.num_heads % 2 == 1 else "")


def _is_causal(mask, is_causal, size):
    """PyTorch's guess when ``is_causal`` is None: whether ``mask`` is the causal mask of that size."""
    if is_causal is not None or mask is None or tuple(mask.shape[-2:]) != (size, size):
        return bool(is_causal)
    causal = Transformer.generate_square_subsequent_mask(size, device=mask.device, dtype=mask.dtype) \
        if mask.dtype.is_floating_point else full((size, size), True, device=mask.device).triu(1)
    return bool((mask == causal).all())


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` in a row, then ``norm`` (if given): forward(src, mask=None,
    src_key_padding_mask=None, is_causal=None). ``enable_nested_tensor`` and ``mask_check`` are accepted and
    kept; they choose a faster route in PyTorch and change nothing here (see the module's docstring)."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones("TransformerEncoder", encoder_layer, num_layers, "encoder_layer")
        self.num_layers, self.norm = num_layers, norm
        why_not = _why_not_nested(encoder_layer)
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check
        self.use_nested_tensor = enable_nested_tensor and not why_not
        if enable_nested_tensor and why_not:  # (PyTorch's warning, word for word)
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}",
                          UserWarning, stacklevel=2)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        padding = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", mask, "mask", src)
        mask = _canonical_mask(mask, "mask", like=src)
        batch_first = self.layers[0].self_attn.batch_first if self.layers else False
        is_causal = _is_causal(mask, is_causal, src.shape[1 if batch_first and src.ndim == 3 else 0])
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=padding)
        if self._nested_route(src, mask, padding):  # (PyTorch's nested tensors hold nothing at the padded positions)
            output = output.masked_fill((padding != 0).unsqueeze(-1), 0.0)
        return output if self.norm is None else self.norm(output)

    def _nested_route(self, src, mask, padding):
        """Would PyTorch run this call as nested tensors (its "fast path" conditions, in its order)?"""
        if not (self.use_nested_tensor and self.layers and src.ndim == 3 and padding is not None and mask is None):
            return False
        first = self.layers[0]
        keep = padding == 0
        left_aligned = not self.mask_check or bool((keep[:, 1:] <= keep[:, :-1]).all())  # (the padding at the end)
        needs_grad = is_grad_enabled() and any(p.requires_grad for p in first.parameters())
        return not first.training and left_aligned and not is_autocast_enabled() and not needs_grad


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` in a row, then ``norm`` (if given): forward(tgt, memory,
    tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=None,
    memory_is_causal=False)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones("TransformerDecoder", decoder_layer, num_layers, "decoder_layer")
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        batch_first = self.layers[0].self_attn.batch_first if self.layers else False
        tgt_is_causal = _is_causal(tgt_mask, tgt_is_causal, tgt.shape[1 if batch_first and tgt.ndim == 3 else 0])
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """An encoder (``num_encoder_layers`` layers and a LayerNorm) and a decoder (``num_decoder_layers`` and a
    LayerNorm): forward(src, tgt, ...) encodes ``src`` into the memory that the decoder attends to while it reads
    ``tgt``. Every weight matrix starts Xavier-uniform, as PyTorch's. ``custom_encoder``/``custom_decoder``
    replace the stacks."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        made = dict(device=device, dtype=dtype)
        options = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                       layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **options, **made), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **made))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **options, **made), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **made))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """src (S, N, E) and tgt (T, N, E) ((N, ., E) with batch_first) -> (T, N, E); the masks as in the layers."""
        if src.ndim == 3 and src.shape[0 if self.batch_first else 1] != tgt.shape[0 if self.batch_first else 1]:
            raise RuntimeError(f"the batch number of src and tgt must be equal: got src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"the feature number of src and tgt must be equal to d_model ({self.d_model}): got src "
                               f"{tuple(src.shape)} and tgt {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The causal mask of a sequence of ``sz``: -inf above the diagonal (a position may not attend to later
        ones), 0 on and below it."""
        return full((sz, sz), float("-inf"), device=device, dtype=dtype).triu(1)
