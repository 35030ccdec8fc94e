r"""``AdaptiveLogSoftmaxWithLoss``: a softmax over a large vocabulary made cheap by word frequency (Grave et al.,
"Efficient softmax approximation for GPUs", 2016), as PyTorch's.

The classes are sorted by frequency and cut at ``cutoffs``: the first ``cutoffs[0]`` (the frequent ones, the
shortlist) are scored by a ``head`` Linear together with one extra output per rarer cluster; each cluster's classes
get a ``tail`` of their own, a Linear down to in_features / div_value^(i+1) and one up to the cluster's size. So

    log p(c | x) = head_log_softmax(x)[c]                                   for c in the shortlist,
    log p(c | x) = head_log_softmax(x)[cluster i] + tail_i_log_softmax(x)[c - start_i]   otherwise,

and a batch only pays for the tails its targets fall in. ``forward(input, target)`` gives (output, loss): each
row's log-probability of its target and the mean negative of them; ``log_prob(input)`` every class's;
``predict(input)`` the most likely class (both for a batch: (N, in_features)).
"""
from collections import namedtuple

import numpy as np

from ...creation import tensor
from ...functions import cat
from ...scatter import index_add
from ...shapes import as_int, check_number, check_size
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """The adaptive softmax (module docstring) over ``n_classes`` classes cut at ``cutoffs``."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        name = "AdaptiveLogSoftmaxWithLoss"
        in_features, n_classes = check_size(name, "in_features", in_features), check_size(name, "n_classes", n_classes)
        div_value = check_number(name, "div_value", div_value, low=0)
        if isinstance(cutoffs, (str, bytes)) or not hasattr(cutoffs, "__iter__"):
            raise TypeError(f"{name}(): argument 'cutoffs' must be a sequence of ints, got {type(cutoffs).__name__}")
        cutoffs = [as_int(c, name, "cutoffs") for c in cutoffs]
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features, self.n_classes, self.div_value, self.head_bias = in_features, n_classes, div_value, head_bias
        self.cutoffs = cutoffs + [n_classes]
        self.shortlist_size, self.n_clusters = self.cutoffs[0], len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        options = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **options)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **options),
                                        Linear(hidden, self.cutoffs[i + 1] - self.cutoffs[i], bias=False, **options)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for down, up in self.tail:
            down.reset_parameters()
            up.reset_parameters()

    def forward(self, input_, target_):
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{tuple(input_.shape)}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{tuple(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if target_.dtype.is_floating_point:
            raise RuntimeError(f"gather(): Expected dtype int32/int64 for index; the target holds class indices, got "
                               f"{target_.dtype}: convert it with .long()")
        batched = target_.ndim > 0
        input, target = (input_, target_) if batched else (input_.unsqueeze(0), target_.unsqueeze(0))
        labels = target.detach().cpu().numpy().astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() > self.n_classes - 1):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{labels.min()}, {labels.max()}] were found. ")
        output = input.new_zeros(len(labels))
        head_index = labels.copy()  # (the head's output each row reads: its class, or its cluster's entry)
        for i in range(self.n_clusters):
            start, stop = self.cutoffs[i], self.cutoffs[i + 1]
            rows = np.flatnonzero((labels >= start) & (labels < stop))
            if rows.size == 0:
                continue
            head_index[rows] = self.shortlist_size + i
            where = tensor(rows, device=input.device)
            relative = tensor(labels[rows] - start, device=input.device).unsqueeze(1)
            scores = F.log_softmax(self.tail[i](input.index_select(0, where)), dim=1).gather(1, relative).squeeze(1)
            output = index_add(output, 0, where, scores)
        head = F.log_softmax(self.head(input), dim=1)
        output = output + head.gather(1, tensor(head_index, device=input.device).unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, input, head_output):
        head = F.log_softmax(head_output, dim=1)
        parts = [head[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            parts.append(F.log_softmax(self.tail[i](input), dim=1) + head[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input):
        """log p(c | x) for every class c: (N, n_classes)."""
        self._check_input("log_prob", input)
        return self._full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class of each input: the head's, unless it is a cluster, then the full argmax."""
        self._check_input("predict", input)
        head_output = self.head(input)
        best = head_output.argmax(1)
        outside = (best >= self.shortlist_size).cpu().numpy()
        if outside.any():
            rows = tensor(np.flatnonzero(outside), device=input.device)
            full = self._full_log_prob(input.index_select(0, rows), head_output.index_select(0, rows)).argmax(1)
            best = best.index_put((rows,), full)
        return best

    def _check_input(self, name, input):
        if input.ndim != 2:  # (IndexError, as PyTorch's, which indexes dim 1)
            raise IndexError(f"AdaptiveLogSoftmaxWithLoss.{name}: expected a 2D input (N, in_features="
                             f"{self.in_features}), got shape {tuple(input.shape)}")
