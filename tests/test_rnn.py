"""The recurrent layers against PyTorch: ``RNN``, ``LSTM``, ``GRU`` (stacked, bidirectional, batch_first, without
bias, ``proj_size``, a given or a zero starting state, unbatched) and the cells, in float64, with PyTorch's weights
loaded into ours: outputs, final states and every gradient; their errors, and a run on the stand-in GPU."""
import warnings

import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy, ndarray

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
CONFIGS = [{}, {"num_layers": 2}, {"bidirectional": True}, {"num_layers": 2, "bidirectional": True,
                                                             "batch_first": True}, {"bias": False}]
EXTRA = {"RNN": {"nonlinearity": "relu"}, "LSTM": {"proj_size": 2}, "GRU": {"num_layers": 3}}


def assert_close(ours, theirs, what=""):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=what)


def twins(name, *args, **kwargs):
    """The same layer in both libraries, in float64, with PyTorch's weights in ours (names, order and repr equal)."""
    torch.manual_seed(0)
    theirs, ours = getattr(torch.nn, name)(*args, dtype=torch.float64, **kwargs), \
        getattr(tl.nn, name)(*args, dtype=tl.float64, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and str(ours) == str(theirs)
    ours.load_state_dict({n: tl.tensor(p.detach().numpy()) for n, p in theirs.state_dict().items()})
    return theirs, ours


@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("options", range(len(CONFIGS) + 1), ids=["plain", "stacked", "bidirectional",
                                                                  "stacked-bidirectional-batch_first", "no-bias",
                                                                  "extra"])
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_match_pytorch(name, options, given_state):
    options = CONFIGS[options] if options < len(CONFIGS) else EXTRA[name]
    theirs, ours = twins(name, 3, 4, **options)
    directions, layers = 2 if options.get("bidirectional") else 1, options.get("num_layers", 1)
    x = RNG.standard_normal((2, 5, 3) if options.get("batch_first") else (5, 2, 3))
    tx, lx = torch.tensor(x, requires_grad=True), tl.tensor(x, requires_grad=True)
    state = [RNG.standard_normal((directions * layers, 2, options.get("proj_size") or 4)),
             RNG.standard_normal((directions * layers, 2, 4))][:2 if name == "LSTM" else 1]
    t_state = tuple(torch.tensor(s) for s in state) if name == "LSTM" else torch.tensor(state[0])
    l_state = tuple(tl.tensor(s) for s in state) if name == "LSTM" else tl.tensor(state[0])
    (t_out, t_last), (l_out, l_last) = (theirs(tx, t_state), ours(lx, l_state)) if given_state else \
        (theirs(tx), ours(lx))
    t_last, l_last = (t_last, l_last) if name == "LSTM" else ((t_last,), (l_last,))
    for mine, its, what in zip((l_out, *l_last), (t_out, *t_last), ("output", "h_n", "c_n")):
        assert_close(mine, its, what)
    g = RNG.standard_normal(tuple(t_out.shape))
    ((t_out * torch.tensor(g)).sum() + t_last[0].sum()).backward()
    ((l_out * tl.tensor(g)).sum() + l_last[0].sum()).backward()
    assert_close(lx.grad, tx.grad, "input")
    for (n, p), (_, q) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert_close(q.grad, p.grad, n)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_an_unbatched_sequence(name):
    theirs, ours = twins(name, 3, 4, num_layers=2)
    x = RNG.standard_normal((5, 3))
    (t_out, _), (l_out, _) = theirs(torch.tensor(x)), ours(tl.tensor(x))
    assert_close(l_out, t_out)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_the_cells_match_pytorch(name):
    theirs, ours = twins(name, 3, 4)
    x, h, c = (RNG.standard_normal(shape) for shape in ((2, 3), (2, 4), (2, 4)))
    t_state = (torch.tensor(h), torch.tensor(c)) if name == "LSTMCell" else torch.tensor(h)
    l_state = (tl.tensor(h), tl.tensor(c)) if name == "LSTMCell" else tl.tensor(h)
    for t_args, l_args in (((torch.tensor(x), t_state), (tl.tensor(x), l_state)),
                           ((torch.tensor(x[0]),), (tl.tensor(x[0]),))):
        theirs_out, ours_out = theirs(*t_args), ours(*l_args)
        for mine, its in zip(*((o if isinstance(o, tuple) else (o,)) for o in (ours_out, theirs_out))):
            assert_close(mine, its)
    assert str(tl.nn.RNNCell(3, 4, nonlinearity="relu")) == str(torch.nn.RNNCell(3, 4, nonlinearity="relu"))


def test_an_lstm_trains_as_pytorchs_does():
    theirs, ours = twins("LSTM", 3, 4, num_layers=2, batch_first=True)
    t_head, l_head = torch.nn.Linear(4, 1, dtype=torch.float64), tl.nn.Linear(4, 1, dtype=tl.float64)
    l_head.load_state_dict({n: tl.tensor(p.detach().numpy()) for n, p in t_head.state_dict().items()})
    t_opt = torch.optim.Adam([*theirs.parameters(), *t_head.parameters()], lr=0.01)
    l_opt = tl.optim.Adam([*ours.parameters(), *l_head.parameters()], lr=0.01)
    x, y = RNG.standard_normal((4, 6, 3)), RNG.standard_normal((4, 1))
    for _ in range(3):
        for model, head, opt, lib in ((theirs, t_head, t_opt, torch), (ours, l_head, l_opt, tl)):
            opt.zero_grad()
            lib.nn.functional.mse_loss(head(model(lib.tensor(x))[0][:, -1]), lib.tensor(y)).backward()
            opt.step()
    for (n, p), (_, q) in zip(theirs.named_parameters(), ours.named_parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=n)


def test_dropout_between_layers_only_in_training_and_its_warning():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        tl.nn.GRU(3, 4, dropout=0.5)
    layer, x = tl.nn.LSTM(3, 4, num_layers=2, dropout=0.5), tl.randn(5, 2, 3)
    layer.eval()
    assert tl.equal(layer(x)[0], layer(x)[0])
    layer.train()
    assert not tl.equal(layer(x)[0], layer(x)[0])


@pytest.mark.parametrize("call, error, text", [
    (lambda: tl.nn.LSTM(3, 4)(tl.randn(5, 2, 6)), RuntimeError, r"input.size\(-1\) must be equal to input_size"),
    (lambda: tl.nn.GRU(3, 4)(tl.randn(5, 2, 3), tl.zeros(1, 3, 4)), RuntimeError, "Expected hidden size"),
    (lambda: tl.nn.LSTM(3, 4)(tl.randn(5, 2, 3), tl.zeros(1, 2, 4)), RuntimeError, r"tuple \(h_0, c_0\)"),
    (lambda: tl.nn.RNN(3, 4)(tl.randn(1, 5, 2, 3)), ValueError, "2D or 3D"),
    (lambda: tl.nn.GRU(3, 4, proj_size=2), ValueError, "only supported for LSTM"),
    (lambda: tl.nn.LSTM(3, 4, proj_size=4), ValueError, "smaller than hidden_size"),
    (lambda: tl.nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity"),
    (lambda: tl.nn.LSTM(3, 4, dropout=1.5), ValueError, r"range \[0, 1\]"),
    (lambda: tl.nn.LSTM(3, 0), ValueError, "greater than 0"),
    (lambda: tl.nn.LSTMCell(3, 4)(tl.randn(2, 5)), RuntimeError, "inconsistent input_size"),
    (lambda: tl.nn.GRU(3, 4)([tl.randn(5, 3)]), TypeError, "a tensor .* or a PackedSequence"),
    (lambda: tl.nn.GRU(3, 4)(tl.randn(5, 2, 3, dtype=tl.float64)), ValueError, "does not match weight dtype"),
    (lambda: tl.nn.LSTM(3, 4)(tl.randn(0, 2, 3)), RuntimeError, "sequence length to be larger than 0"),
    (lambda: tl.nn.LSTM(0, 4), ValueError, "input_size must be greater than 0"),
    (lambda: tl.nn.LSTMCell(3, 4)(tl.randn(2, 3), tl.zeros(2, 2, 4)), TypeError, "tuple of Tensors"),
    (lambda: tl.nn.GRUCell(3, 4)(tl.randn(2, 3), tl.zeros(1, 2, 4)), ValueError, "1D or 2D"),
    (lambda: tl.nn.RNNCell(3, 4, nonlinearity="x")(tl.randn(2, 3)), RuntimeError, "Unknown nonlinearity"),
], ids=["input-size", "hidden-shape", "lstm-state", "4-D", "proj-gru", "proj-size", "nonlinearity", "dropout",
        "hidden-0", "cell-input", "not-a-tensor", "dtype", "length-0", "input_size-0", "cell-state-tuple",
        "cell-state-3-D", "cell-nonlinearity"])
def test_bad_calls_raise_what_pytorch_raises(call, error, text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=text):
            call()


def test_an_lstm_runs_on_the_device():
    """On the stand-in GPU (tests/fake_cupy.py): every number made on the device, the same as on the CPU."""
    tl.manual_seed(0)
    model, x = tl.nn.LSTM(3, 4, num_layers=2, bidirectional=True), tl.randn(5, 2, 3)
    expected = model(x)[0].detach().numpy()
    with FakeCuPy().install():
        model.to("cuda")
        out, (h, c) = model(x.cuda())
        (out.sum() + c.sum()).backward()
        assert isinstance(out.array, ndarray) and all(isinstance(p.grad.array, ndarray) for p in model.parameters())
        np.testing.assert_allclose(out.detach().cpu().numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_packed_sequences_end_each_sequence_at_its_own_last_step(name):
    """A packed batch (lengths 2, 5, 3, unsorted), through two bidirectional layers from a given state: the packed
    output, the final states (each sequence's own) and every gradient equal PyTorch's, and so does unpacking."""
    theirs, ours = twins(name, 3, 4, num_layers=2, bidirectional=True, batch_first=True)
    lengths, x = [2, 5, 3], RNG.standard_normal((3, 5, 3))
    tx, lx = torch.tensor(x, requires_grad=True), tl.tensor(x, requires_grad=True)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=True, enforce_sorted=False)
    l_packed = tl.nn.utils.rnn.pack_padded_sequence(lx, lengths, batch_first=True, enforce_sorted=False)
    assert_close(l_packed.data, t_packed.data)
    assert l_packed.batch_sizes.tolist() == t_packed.batch_sizes.tolist()
    assert l_packed.sorted_indices.tolist() == t_packed.sorted_indices.tolist()
    state = [RNG.standard_normal((4, 3, 4)) for _ in range(2 if name == "LSTM" else 1)]
    t_state, l_state = ([lib.tensor(s) for s in state] for lib in (torch, tl))
    t_state, l_state = (tuple(s) if name == "LSTM" else s[0] for s in (t_state, l_state))
    (t_out, t_last), (l_out, l_last) = theirs(t_packed, t_state), ours(l_packed, l_state)
    assert_close(l_out.data, t_out.data, "packed output")
    t_last, l_last = (t_last, l_last) if name == "LSTM" else ((t_last,), (l_last,))
    for mine, its in zip(l_last, t_last):
        assert_close(mine, its, "final state")
    (t_padded, t_lengths), (l_padded, l_lengths) = (lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                                                         total_length=6)
                                                    for lib, out in ((torch, t_out), (tl, l_out)))
    assert_close(l_padded, t_padded, "unpacked")
    assert l_lengths.tolist() == t_lengths.tolist() == lengths
    ((t_padded ** 2).sum() + t_last[0].sum()).backward()
    ((l_padded ** 2).sum() + l_last[0].sum()).backward()
    assert_close(lx.grad, tx.grad, "input")
    for (n, p), (_, q) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert_close(q.grad, p.grad, n)


def test_packing_needs_sorted_lengths_unless_told_and_positive_ones():
    x = tl.randn(4, 3, 2)
    rnn = tl.nn.utils.rnn
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn.pack_padded_sequence(x, [2, 4, 3])
    with pytest.raises(RuntimeError, match="greater than 0"):
        rnn.pack_padded_sequence(x, [4, 0, 3], enforce_sorted=False)
    with pytest.raises(RuntimeError, match="longer than the padded input"):
        rnn.pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="total_length to be at least"):
        rnn.pad_packed_sequence(rnn.pack_padded_sequence(x, [4, 2, 1]), total_length=3)
    with pytest.raises(RuntimeError, match="1-D list or tensor"):
        rnn.pack_padded_sequence(x, tl.tensor([[4, 2, 1]]))
    with pytest.raises(RuntimeError, match="Cannot pack empty tensors"):
        rnn.pack_padded_sequence(tl.zeros(3, 0, 2), [])
    sequences = [tl.tensor([1.0, 2, 3]), tl.tensor([4.0]), tl.tensor([5.0, 6])]
    packed = rnn.pack_sequence(sequences, enforce_sorted=False)
    assert packed.data.tolist() == [1.0, 5.0, 4.0, 2.0, 6.0, 3.0] and packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.to(tl.float64).data.dtype == tl.float64 and packed.long().data.dtype == tl.int64
    assert not packed.is_cuda and not packed.is_pinned()
    assert [s.tolist() for s in rnn.unpack_sequence(packed)] == [s.tolist() for s in sequences]
    assert rnn.invert_permutation(tl.tensor([2, 0, 1])).tolist() == [1, 2, 0] and rnn.invert_permutation(None) is None
    rebuilt = rnn.PackedSequence((packed.data, packed.batch_sizes))  # (PyTorch's tuple form)
    assert rebuilt.batch_sizes.tolist() == [3, 2, 1] and rebuilt.sorted_indices is None
