"""``Embedding``: a lookup table of learned vectors, one row per index (a word, a category, a user id).

The layer holds ``weight``, of shape (num_embeddings, embedding_dim); its forward picks the rows its integer input
names (``F.embedding``), so an input of shape S gives an output of shape (*S, embedding_dim). Picking row i is the
same as multiplying a one-hot vector by the weight, without building the one-hot vectors; the gradient of row i is
the sum of the gradients of the outputs that picked it (rows nobody picked get 0). PyTorch's module path:
``torch.nn.modules.sparse``.

``EmbeddingBag``: the same table, whose forward reduces each bag of indices (a sentence's words) to one vector,
their sum, mean or max (``F.embedding_bag``), without building the (bags, words, embedding_dim) output of an
Embedding first in PyTorch; here it is composed of that lookup.
"""
from ...autograd.grad_mode import no_grad
from ...creation import empty
from ...shapes import check_size
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _table(owner, num_embeddings, embedding_dim, padding_idx, scale_grad_by_freq, sparse):
    """The checked sizes of a table of vectors, and its padding row counted from 0 (a negative one from the end)."""
    num_embeddings = check_size(owner, "num_embeddings", num_embeddings)
    embedding_dim = check_size(owner, "embedding_dim", embedding_dim)
    if padding_idx is not None:
        if not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"{owner}: padding_idx must be within num_embeddings ({num_embeddings}): "
                             f"-{num_embeddings} to {num_embeddings - 1}, got {padding_idx}")
        padding_idx %= num_embeddings
    if scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{owner}: scale_grad_by_freq and sparse are not supported by tinygrad_lite")
    return num_embeddings, embedding_dim, padding_idx


class Embedding(Module):
    """Vectors of ``embedding_dim`` numbers for the indices 0 .. num_embeddings - 1, initialised N(0, 1) (PyTorch's
    default). ``padding_idx``: that row starts at zeros and gets no gradient (a padding token). ``max_norm``: rows
    looked up are scaled down in place to at most that ``norm_type``-norm (see ``F.embedding``)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim, padding_idx = _table("Embedding", num_embeddings, embedding_dim,
                                                                      padding_idx, scale_grad_by_freq, sparse)
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), device=device, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), got "
                                 f"{tuple(_weight.shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` (2-D); ``freeze`` (the default) keeps it from learning."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError("Embedding.from_pretrained: embeddings must be a 2-D tensor (num_embeddings, "
                             f"embedding_dim), got {getattr(embeddings, 'shape', type(embeddings).__name__)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        return text


class EmbeddingBag(Module):
    """One vector per bag of indices: the sum, mean (the default) or max of the rows of ``weight`` the bag picks
    (``F.embedding_bag``), as a text classifier averages the vectors of a sentence's words. ``forward(input,
    offsets=None, per_sample_weights=None)``: a 2-D input is one bag per row; a 1-D input is the bags one after
    another, ``offsets`` where each begins. ``weight`` starts N(0, 1), its ``padding_idx`` row at zeros."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        self.num_embeddings, self.embedding_dim, padding_idx = _table("EmbeddingBag", num_embeddings, embedding_dim,
                                                                      padding_idx, scale_grad_by_freq, sparse)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.padding_idx, self.mode, self.sparse, self.include_last_offset = padding_idx, mode, sparse, \
            include_last_offset
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), device=device, dtype=dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"EmbeddingBag: _weight must have shape ({num_embeddings}, {embedding_dim}), got "
                                 f"{tuple(_weight.shape)}")
            self.weight = Parameter(_weight)

    reset_parameters = Embedding.reset_parameters

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is ``embeddings`` (2-D); ``freeze`` (the default) keeps it from learning."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError("EmbeddingBag.from_pretrained: embeddings must be a 2-D tensor (num_embeddings, "
                             f"embedding_dim), got {getattr(embeddings, 'shape', type(embeddings).__name__)}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings, include_last_offset,
                  padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
