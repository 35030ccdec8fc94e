r"""Recurrent layers, composed of the library's ops: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells
``RNNCell``, ``LSTMCell``, ``GRUCell``, with PyTorch's parameters, names, shapes and initialisation.

A recurrent layer reads a sequence one step at a time and carries a hidden state h from step to step:
    RNN:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        (or relu)
    LSTM: i, f, g, o = split(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)   (four gates, in that order)
          c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g),   h_t = sigmoid(o) * tanh(c_t)
    GRU:  r, z = sigmoid(split(W_i[rz] x_t + b_i[rz] + W_h[rz] h_{t-1} + b_h[rz]))
          n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),   h_t = (1 - z) * n + z * h_{t-1}
The same weights serve every step; backpropagation through time is the chain rule through the unrolled steps,
which the engine does as for any graph. An LSTM's cell state c is carried by a product with the forget gate rather
than by a squashing function, which is what lets its gradients survive long sequences.

Stacked layers (``num_layers``) feed each layer's outputs to the next, with ``dropout`` between them in training;
``bidirectional`` runs a second layer from the end of the sequence back and concatenates the two outputs.
Sequence first by default: input (L, N, H_in) -> output (L, N, D * H_out), h_n (D * num_layers, N, H_out), D = 2 if
bidirectional; ``batch_first=True``: (N, L, H_in) and (N, L, D * H_out) (h_n keeps its layout); unbatched (L, H_in)
too; or a ``PackedSequence`` (``nn.utils.rnn.pack_padded_sequence``), sequences of different lengths without their
padding, each of which ends with its own last step.
"""
import math
import numbers
import warnings

from ...creation import empty, zeros
from ...functions import cat, stack
from ...shapes import as_int, check_size
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, activation):
    """One step of a plain RNN: activation(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return activation(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh))


def _lstm_step(x, state, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """One LSTM step: (h, c) -> (h', c'); ``w_hr`` projects h' to proj_size (LSTM with ``proj_size``)."""
    h, c = state
    i, f, g, o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    return (h if w_hr is None else F.linear(h, w_hr)), c


def _gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step: the reset gate r scales the hidden state's share of the candidate n (after its bias, as in
    PyTorch and cuDNN), the update gate z mixes the old state and n."""
    x_r, x_z, x_n = F.linear(x, w_ih, b_ih).chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return (1 - z) * n + z * h


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, and the loop over the steps."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.mode = mode
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers),
                            ("proj_size", proj_size)):
            setattr(self, what, as_int(value, name, what))
            if getattr(self, what) < (0 if what == "proj_size" else 1):  # (PyTorch's ValueError)
                raise ValueError(f"{name}: {what} must be greater than {-1 if what == 'proj_size' else 0}, got "
                                 f"{value}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), \
            bidirectional
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        gate_size, real_hidden = GATES[mode] * hidden_size, proj_size or hidden_size
        made = dict(device=device, dtype=dtype)
        self._flat_weights_names = []
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:2 if bidirectional else 1]:
                width = input_size if layer == 0 else real_hidden * (2 if bidirectional else 1)
                shapes = {"weight_ih": (gate_size, width), "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for kind, shape in shapes.items():
                    setattr(self, f"{kind}_l{layer}{suffix}", Parameter(empty(shape, **made)))
                    self._flat_weights_names.append(f"{kind}_l{layer}{suffix}")
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch's."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def all_weights(self):
        """The parameters, a list per layer and direction, as PyTorch's ``all_weights``."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    @property
    def _flat_weights(self):
        """The parameters in order, one list (PyTorch's private name, which some weight-dropping code reads)."""
        return [getattr(self, n) for n in self._flat_weights_names]

    def flatten_parameters(self):
        """PyTorch packs its weights into one buffer for cuDNN; there is nothing to pack here."""

    def _weights(self, layer, suffix):
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        found = [getattr(self, f"{n}_l{layer}{suffix}") if self.bias or n.startswith("weight") else None
                 for n in names]
        return found + ([getattr(self, f"weight_hr_l{layer}{suffix}")] if self.proj_size else [])

    def _check_input(self, input):
        name = type(self).__name__
        data = input.data if isinstance(input, PackedSequence) else input
        if not isinstance(data, Tensor):
            raise TypeError(f"{name}: input must be a tensor (L, N, {self.input_size}) or a PackedSequence, got "
                            f"{type(input).__name__}")
        if data.ndim != (2 if isinstance(input, PackedSequence) else data.ndim) or data.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {data.ndim}D instead")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{data.shape[-1]}")
        weight = self.weight_ih_l0
        if data.dtype != weight.dtype:  # (PyTorch's ValueError)
            raise ValueError(f"{name}: input dtype {data.dtype.name} does not match weight dtype {weight.dtype.name}: "
                             f"convert the input (x.to(layer.weight_ih_l0.dtype)) or the layer (layer.to(...))")
        length = data.shape[1 if data.ndim == 3 and self.batch_first else 0]
        if not isinstance(input, PackedSequence) and length == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")

    def _initial(self, like, hx, batch):
        """The starting hidden state(s): ``hx`` as given, or zeros (D * num_layers, N, H_out) like ``like``."""
        if hx is not None:
            return hx
        layers, made = self.num_layers * (2 if self.bidirectional else 1), dict(dtype=like.dtype, device=like.device)
        h = zeros((layers, batch, self.proj_size or self.hidden_size), **made)
        return (h, zeros((layers, batch, self.hidden_size), **made)) if self.mode == "LSTM" else h

    def _check_hidden(self, hx, batch, batched):
        name, layers = type(self).__name__, self.num_layers * (2 if self.bidirectional else 1)
        states = hx if self.mode == "LSTM" else (hx,)
        if self.mode == "LSTM" and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise RuntimeError(f"{name}: hx must be a tuple (h_0, c_0) of two tensors, got {type(hx).__name__}")
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)
        for what, state, size in zip(("h_0", "c_0"), states, sizes):
            expected = (layers, batch, size) if batched else (layers, size)
            if not isinstance(state, Tensor) or tuple(state.shape) != expected:
                got = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
                raise RuntimeError(f"{name}: Expected hidden size {expected} for {what}, got {got}")

    def forward(self, input, hx=None):
        """(output, h_n), for an LSTM (output, (h_n, c_n)): output holds the last layer's h at every step (a
        PackedSequence when the input is one)."""
        self._check_input(input)
        lstm, packed = self.mode == "LSTM", isinstance(input, PackedSequence)

        def states(f, hx):  # f applied to the state, or to both states of an LSTM
            return None if hx is None else tuple(f(s) for s in hx) if lstm else f(hx)
        if packed:  # the steps as they are packed, the batch sorted from the longest sequence down
            sizes = [int(n) for n in input.batch_sizes.cpu().numpy()]
            steps, batch, batched = list(input.data.split(sizes)), sizes[0], True
        else:
            batched = input.ndim == 3
            x = input.unsqueeze(1) if not batched else input.transpose(0, 1) if self.batch_first else input
            steps, batch = list(x.unbind(0)), x.shape[1]
            sizes = [batch] * len(steps)
        if hx is not None:
            self._check_hidden(hx, batch, batched)
            hx = states(lambda s: s.unsqueeze(1), hx) if not batched else hx
            if packed and input.sorted_indices is not None:
                hx = states(lambda s: s.index_select(1, input.sorted_indices), hx)
        state = self._initial(steps[0], hx, batch)
        directions, last = 2 if self.bidirectional else 1, []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + d
                start = (state[0][k], state[1][k]) if lstm else state[k]
                out, final = self._run(steps, start, self._weights(layer, suffix), d == 1, sizes)
                outputs.append(out)
                last.append(final if lstm else (final,))
            steps = outputs[0] if directions == 1 else [cat(pair, -1) for pair in zip(*outputs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                steps = [F.dropout(step, self.dropout, True) for step in steps]
        hidden = tuple(stack(s) for s in zip(*last))
        hidden = hidden if lstm else hidden[0]
        if packed:
            if input.unsorted_indices is not None:
                hidden = states(lambda s: s.index_select(1, input.unsorted_indices), hidden)
            return PackedSequence(cat(steps), input.batch_sizes, input.sorted_indices, input.unsorted_indices), hidden
        x = stack(steps)
        if not batched:
            return x.squeeze(1), states(lambda s: s.squeeze(1), hidden)
        return (x.transpose(0, 1) if self.batch_first else x), hidden

    def _run(self, steps, state, weights, reverse, sizes):
        """One layer, one direction over the steps (each (n_t, .)): (the outputs, each (n_t, H), the last state).
        Step t moves the first n_t = sizes[t] sequences only (a packed batch, sorted by length); the state of the
        others is kept (their last step is behind them, or, going backwards, still ahead)."""
        w_ih, w_hh, b_ih, b_hh, *w_hr = weights
        lstm, full, outputs = self.mode == "LSTM", sizes[0], [None] * len(steps)
        activation = F.relu if self.mode == "RNN_RELU" else Tensor.tanh  # (a plain RNN's)
        for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
            n = sizes[t]
            now = state if n == full else tuple(s[:n] for s in state) if lstm else state[:n]
            if lstm:
                new = _lstm_step(steps[t], now, w_ih, w_hh, b_ih, b_hh, *w_hr)
                outputs[t] = new[0]
            elif self.mode == "GRU":
                new = outputs[t] = _gru_step(steps[t], now, w_ih, w_hh, b_ih, b_hh)
            else:
                new = outputs[t] = _rnn_step(steps[t], now, w_ih, w_hh, b_ih, b_hh, activation)
            state = new if n == full else tuple(cat([a, s[n:]]) for a, s in zip(new, state)) if lstm else \
                cat([new, state[n:]])
        return outputs, state

    def extra_repr(self):
        options = {"proj_size": (self.proj_size, 0), "num_layers": (self.num_layers, 1), "bias": (self.bias, True),
                   "batch_first": (self.batch_first, False), "dropout": (self.dropout, 0),
                   "bidirectional": (self.bidirectional, False)}  # (PyTorch's repr: the options not at their default)
        return ", ".join([f"{self.input_size}, {self.hidden_size}"] +
                         [f"{name}={value}" for name, (value, default) in options.items() if value != default])


class RNN(RNNBase):
    """Elman's RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (``nonlinearity="relu"``: relu)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, proj_size=0):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, proj_size, device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory: four gates (input, forget, cell, output) and a cell state c carried along the
    sequence; forward(input, (h_0, c_0)) -> (output, (h_n, c_n)). ``proj_size``: h projected to that size."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit: a reset gate and an update gate, no separate cell state."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, proj_size=0):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class RNNCellBase(Module):
    """One step of a recurrent layer, for a loop of your own: ``weight_ih``, ``weight_hh``, ``bias_ih``,
    ``bias_hh``, initialised as the layers' are."""

    def __init__(self, input_size, hidden_size, bias, gates, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.input_size, self.hidden_size = check_size(name, "input_size", input_size), \
            check_size(name, "hidden_size", hidden_size)
        self.bias, made = bias, dict(device=device, dtype=dtype)
        self.weight_ih = Parameter(empty((gates * hidden_size, input_size), **made))
        self.weight_hh = Parameter(empty((gates * hidden_size, hidden_size), **made))
        self.register_parameter("bias_ih", Parameter(empty(gates * hidden_size, **made)) if bias else None)
        self.register_parameter("bias_hh", Parameter(empty(gates * hidden_size, **made)) if bias else None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _prepare(self, input, hx, states=1):
        """(input as a batch, the state(s) as a batch, whether the input was one example)."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got "
                             f"{input.ndim if isinstance(input, Tensor) else type(input).__name__}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        single = input.ndim == 1
        x = input.unsqueeze(0) if single else input
        if hx is None:
            hx = tuple(zeros((x.shape[0], self.hidden_size), dtype=x.dtype, device=x.device) for _ in range(states))
        else:
            if states > 1 and not isinstance(hx, (tuple, list)):  # (an LSTM cell's (h, c), as PyTorch asks)
                raise TypeError(f"{name}: hx must be a tuple of Tensors (h, c), got {type(hx).__name__}")
            hx = tuple(hx) if states > 1 else (hx,)
            if any(not isinstance(h, Tensor) or h.ndim > 2 for h in hx):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D (batch, hidden_size), got "
                                 f"{[h.ndim if isinstance(h, Tensor) else type(h).__name__ for h in hx]}")
            hx = tuple(h.unsqueeze(0) if single else h for h in hx)
            for h in hx:
                if tuple(h.shape) != (x.shape[0], self.hidden_size):
                    raise RuntimeError(f"{name}: hidden state has shape {tuple(h.shape)}, expected "
                                       f"{(x.shape[0], self.hidden_size)} for input {tuple(input.shape)}")
        return x, hx, single

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (``nonlinearity="relu"``: relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        self.nonlinearity = nonlinearity  # (checked when the cell runs, as PyTorch checks it)
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}: choose 'tanh' or 'relu'")
        x, (h,), single = self._prepare(input, hx)
        h = _rnn_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                      F.relu if self.nonlinearity == "relu" else Tensor.tanh)
        return h.squeeze(0) if single else h


class LSTMCell(RNNCellBase):
    """One LSTM step: forward(input, (h, c)) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, state, single = self._prepare(input, hx, states=2)
        h, c = _lstm_step(x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if single else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step: forward(input, h) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), single = self._prepare(input, hx)
        h = _gru_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h.squeeze(0) if single else h
