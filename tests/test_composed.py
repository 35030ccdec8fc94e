"""The operations composed of others (tinygrad_lite/composed.py) against PyTorch: the same pieces, values, dtypes
and gradients (float64, exact), views that share memory as PyTorch's do, PyTorch's kinds of error, and the GPU path
on the stand-in."""
import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy

import tinygrad_lite as tl

CASES = {
    "repeat": lambda L, x: x.repeat(2, 1, 3), "repeat, new leading dims": lambda L, x: x.repeat(2, 1, 3, 1),
    "repeat, a tuple": lambda L, x: x.repeat((1, 2, 1)), "repeat, zero times": lambda L, x: x.repeat(1, 0, 2),
    "chunk": lambda L, x: x.chunk(2), "chunk, dim 1": lambda L, x: x.chunk(2, 1),
    "chunk, uneven": lambda L, x: x.chunk(3, dim=-1), "chunk, more than items": lambda L, x: L.chunk(x, 5, 0),
    "split": lambda L, x: x.split(2, dim=2), "split, sizes": lambda L, x: L.split(x, [1, 2], dim=1),
    "split, a zero size": lambda L, x: x.split([0, 2]), "flip": lambda L, x: x.flip(0),
    "flip, dims": lambda L, x: L.flip(x, [0, 2]), "flip, varargs": lambda L, x: x.flip(-1, 1),
    "tril": lambda L, x: x.tril(), "tril above": lambda L, x: L.tril(x, 1), "tril below": lambda L, x: x.tril(-1),
    "triu": lambda L, x: x.triu(), "triu above": lambda L, x: L.triu(x, diagonal=1),
    "triu far": lambda L, x: x.triu(-2),
    # (session 42) PyTorch's other shape and selection functions
    "ravel": lambda L, x: x.ravel(), "ravel, transposed": lambda L, x: L.ravel(x.transpose(0, 2)),
    "broadcast_to": lambda L, x: x[:, :1].broadcast_to((3, 2, 3, 4)), "broadcast_to, -1": lambda L, x: L.broadcast_to(
        x[0], (2, -1, 4)), "tile": lambda L, x: x.tile((2,)), "tile, more dims": lambda L, x: L.tile(x, (2, 1, 1, 2)),
    "unbind": lambda L, x: x.unbind(), "unbind, dim -1": lambda L, x: L.unbind(x, -1),
    "narrow": lambda L, x: x.narrow(2, 1, 2), "narrow, negative start": lambda L, x: L.narrow(x, -1, -3, 3),
    "narrow, empty": lambda L, x: x.narrow(1, 3, 0), "movedim": lambda L, x: x.movedim(0, -1),
    "movedim, several": lambda L, x: L.movedim(x, (2, 0), (0, 1)), "moveaxis": lambda L, x: L.moveaxis(x, -1, 0),
    "swapaxes": lambda L, x: x.swapaxes(0, 2), "swapdims": lambda L, x: L.swapdims(x, -1, 1),
    "unflatten": lambda L, x: x.unflatten(2, (2, 2)), "unflatten, -1": lambda L, x: L.unflatten(x, -1, (-1, 1, 2)),
    "roll": lambda L, x: x.roll(3), "roll, dims": lambda L, x: L.roll(x, (1, -5), (2, 1)),
    "roll, past the size": lambda L, x: x.roll(-9, 2), "diff": lambda L, x: x.diff(),
    "diff, twice along 1": lambda L, x: L.diff(x, n=2, dim=1), "diff, ends": lambda L, x: x.diff(
        dim=0, prepend=x[:1], append=x[:1] * 2), "diff, order 0": lambda L, x: L.diff(x, 0),
    "diagonal": lambda L, x: x.diagonal(), "diagonal, dims and offsets": lambda L, x: L.diagonal(x, 1, 2, 1),
    "diagonal, below": lambda L, x: x.diagonal(-1, 1, 2), "diagonal, outside": lambda L, x: x.diagonal(5, 1, 2),
    "diag of a matrix": lambda L, x: x[0].diag(), "diag of a matrix, above": lambda L, x: L.diag(x[1], 2),
    "diag of a vector": lambda L, x: L.diag(x[0, 0]), "diag of a vector, below": lambda L, x: x[1, 2].diag(-2),
    "diag of a vector, above": lambda L, x: L.diag(x[0, 1], 1), "trace": lambda L, x: x[1].trace(),
    "index_select": lambda L, x: x.index_select(2, L.tensor([3, 0, 3])),
    "index_select, 0-d index": lambda L, x: L.index_select(x, 1, L.tensor(2)),
    "masked_select": lambda L, x: x.masked_select(x > 0),
    "masked_select, broadcast": lambda L, x: L.masked_select(x, L.tensor([True, False, True, True])),
    "take_along_dim": lambda L, x: x.take_along_dim(x.argsort(2), 2),
    "take_along_dim, broadcast": lambda L, x: L.take_along_dim(x, L.tensor([[[0], [2], [1]]]), dim=2),
    "take_along_dim, flat": lambda L, x: x.take_along_dim(L.tensor([0, 23, 5])),
    "take_along_dim, negative": lambda L, x: x.take_along_dim(L.tensor([[[-1], [0], [-4]]]), 2),
}


def run(L, fn, data):
    x = L.tensor(data, requires_grad=data.dtype == np.float64)
    out = fn(L, x)
    pieces = out if isinstance(out, tuple) else (out,)
    grad = None
    if x.requires_grad:  # a different weight for every number of every piece
        sum((p * L.arange(p.numel(), dtype=L.float64).reshape(p.shape)).sum() for p in pieces).backward()
        grad = x.grad.numpy()
    return [p.detach().numpy() for p in pieces], grad


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_as_pytorch_values_dtypes_and_gradients(name, dtype):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((2, 3, 4)) if dtype == np.float64 else rng.integers(-5, 5, (2, 3, 4))
    (ours, our_grad), (theirs, their_grad) = run(tl, CASES[name], data), run(torch, CASES[name], data)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    if our_grad is not None:
        np.testing.assert_array_equal(our_grad, their_grad)


@pytest.mark.parametrize("bad", [lambda L: L.ones(2, 3).repeat(2), lambda L: L.ones(3).chunk(0),
                                 lambda L: L.ones(5).split([2, 2]), lambda L: L.ones(3).tril(),
                                 lambda L: L.ones(3).flip(1), lambda L: L.ones(3).triu(0.5),
                                 lambda L: L.ones(3, 3).triu(0.5), lambda L: L.ones(3).repeat(),
                                 lambda L: L.tensor(1.0).repeat(), lambda L: L.ones(3).flip(),
                                 lambda L: L.flip(L.ones(3), 0), lambda L: L.ones(3).flip(dims=0),
                                 lambda L: L.ones(3).flip(0, dims=[0]), lambda L: L.ones(3).repeat(2, repeats=[2]),
                                 # (session 42)
                                 lambda L: L.ones(2, 3).narrow(1, 2, 2), lambda L: L.ones(2, 3).narrow(1, 4, 0),
                                 lambda L: L.ones(2, 3).unflatten(1, (2, 2)), lambda L: L.ones(3).diagonal(),
                                 lambda L: L.ones(2, 2).diagonal(0, 1, 1), lambda L: L.ones(2, 2, 2).diag(),
                                 lambda L: L.ones(2, 2, 2).trace(), lambda L: L.ones(3).roll((1, 2), 0),
                                 lambda L: L.ones(3).index_select(0, L.tensor([[0]])),
                                 lambda L: L.ones(3).index_select(0, L.tensor([0.0])),
                                 lambda L: L.ones(3).masked_select(L.tensor([1, 0, 1])),
                                 lambda L: L.ones(3).diff(n=-1), lambda L: L.ones(2, 3).movedim((0, 1), 0)])
def test_bad_arguments_raise_pytorchs_kind_of_error(bad):
    with pytest.raises(Exception) as theirs:
        bad(torch)
    with pytest.raises(type(theirs.value)) as ours:
        bad(tl)
    assert str(ours.value).startswith(("repeat", "chunk", "split", "tril", "flip", "triu", "narrow", "unflatten",
                                       "diagonal", "diag", "trace", "roll", "index_select", "masked_select", "diff",
                                       "movedim"))  # (names the op)


def test_repeat_and_flip_are_copies_as_in_pytorch():
    """PyTorch's repeat and flip copy (a later change of x leaves them alone, and they can be changed in place), even
    where no tile needed copying (``x.repeat(1)``); chunk and split, below, are views."""
    for L in (torch, tl):
        x = L.arange(3.0)
        tiled, flipped, once = x.reshape(1, 3).repeat(2, 1), x.flip(0), x.repeat(1)
        x.add_(10)
        once.add_(1)
        flipped[0] = 100
        assert x.tolist() == [10.0, 11.0, 12.0] and tiled.tolist() == [[0.0, 1.0, 2.0]] * 2
        assert once.tolist() == [1.0, 2.0, 3.0] and flipped.tolist() == [100.0, 1.0, 0.0]


@pytest.mark.parametrize("pieces", [lambda L: L.arange(0).chunk(3), lambda L: L.zeros(2, 0).chunk(3, 1),
                                    lambda L: L.zeros(2, 0).split(2, 1), lambda L: L.ones(2, 3).flip(dims=[0, 1]),
                                    lambda L: L.ones(2, 3).flip(()), lambda L: L.tensor(1.0).repeat(()),
                                    lambda L: L.ones(2, 3).repeat(repeats=(2, 1, 1))])
def test_empty_dims_and_keywords_as_pytorch(pieces):
    ours, theirs = pieces(tl), pieces(torch)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]


@pytest.mark.parametrize("bad, words", [(lambda L: L.tensor(1.0).chunk(2), "at least a 1-dimensional tensor"),
                                        (lambda L: L.tensor(1.0).split(1), "at least a 1-dimensional tensor"),
                                        (lambda L: L.ones(5).split([6, -1]), "a negative one")])
def test_a_0d_tensor_or_a_negative_size_is_refused(bad, words):
    with pytest.raises(RuntimeError):
        bad(torch)
    with pytest.raises(RuntimeError, match=words):
        bad(tl)


def test_flatten_and_ravel_share_numbers_exactly_where_pytorchs_do():
    """(r42) ``flatten`` with nothing to join is the tensor itself; ``ravel`` of a column copies it (PyTorch's
    ``contiguous().view(-1)``), of a contiguous tensor it is a view."""
    for L in (torch, tl):
        x, v = L.arange(6.0).reshape(2, 3), L.arange(3.0)
        assert v.flatten() is v and x.flatten(1, 1) is x and x.flatten() is not x
        column, whole = x[:, 1].ravel(), x.ravel()
        x.fill_(5.0)
        assert column.tolist() == [1.0, 4.0] and whole.tolist() == [5.0] * 6


def test_pieces_are_views_as_in_pytorch():
    for L in (torch, tl):
        x = L.zeros(4)
        x.chunk(2)[1].add_(1)
        x.split(1)[0].fill_(5)
        assert x.tolist() == [5.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("shape, offset, dims", [((3, 3), 0, (0, 1)), ((3, 5), 2, (0, 1)), ((5, 3), -2, (1, 0)),
                                                  ((2, 3, 4), 1, (1, 2)), ((2, 4, 3), -1, (-1, -2))])
def test_a_diagonal_is_a_view_as_in_pytorch(shape, offset, dims):
    """``x.diagonal(...)`` of dims next to each other shows x's numbers: changing it changes x, also in the graph
    (r41: ``x.diagonal().zero_()`` had left x unchanged)."""
    results = []
    for L in (torch, tl):
        x = L.arange(float(np.prod(shape)), dtype=L.float64).reshape(shape)
        x.diagonal(offset, *dims).zero_()
        w = L.arange(float(np.prod(shape)), dtype=L.float64).reshape(shape).requires_grad_()
        y = w * 1
        y.diagonal(offset, *dims).mul_(w.diagonal(offset, *dims))
        (y * y).sum().backward()
        results.append([x.tolist(), y.tolist(), w.grad.tolist()])
    assert results[0] == results[1]


def test_on_the_gpu_everything_stays_there():
    with FakeCuPy().install() as fake:
        x = tl.randn(3, 4, device="cuda", requires_grad=True)
        for piece in [x.tril(), x.triu(1), x.repeat(2, 1), x.flip(1), *x.chunk(2, 1), *x.split([1, 2])]:
            assert piece.device.type == "cuda"
        before = fake.transfers.to_device
        (x.tril() * 2).sum().backward()
        assert x.grad.device.type == "cuda" and fake.transfers.to_device == before  # (the mask made there)
        np.testing.assert_array_equal(x.grad.cpu().numpy(), 2 * np.tri(3, 4))


def test_a_uint8_condition_warns_as_in_pytorch_and_isclose_stays_on_the_gpu():
    for L in (torch, tl):
        with pytest.warns(UserWarning, match="uint8") as warned:
            assert L.where(L.tensor([1, 0], dtype=L.uint8), 1.0, 0.0).tolist() == [1.0, 0.0]
        assert L is torch or warned[0].filename == __file__  # (ours points at the caller's line)
    with FakeCuPy().install():
        a = tl.ones(2, device="cuda")
        assert tl.isclose(a, a).device.type == "cuda"
