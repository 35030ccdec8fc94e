"""Integer and layout idioms against PyTorch: the bitwise functions and shifts (with their edges: shifts past the
type's width, negative numbers, numbers on the left), integer sums, products and scans in a given dtype (which
wrap around, as PyTorch's), ``cat`` onto an empty ``tensor([])`` (PyTorch's legacy rule, the usual way to gather
predictions), and ``is_contiguous(memory_format=...)``."""
import warnings

import pytest
import torch

import tinygrad_lite as tl

CASES = {
    "shifts": lambda L: [L.tensor([1, 2, -8], dtype=L.int32) << 2, 2 << L.tensor([1, 2], dtype=L.int32),
                         L.tensor([8, -8]) >> 1, L.tensor([1]) << L.tensor([70]), L.tensor([-1]) >> 70,
                         L.tensor([1], dtype=L.uint8) << 9, L.tensor([True]) << 1, L.tensor([1]) << -1,
                         L.bitwise_left_shift(L.tensor([1, 2]), L.tensor([3, 1])),
                         L.tensor([-5]).bitwise_right_shift(1)],
    "bitwise": lambda L: [L.bitwise_not(L.tensor([0, 5])), L.bitwise_not(L.tensor([True, False])),
                          L.bitwise_and(L.tensor([6]), 3), L.tensor([5]).bitwise_xor(L.tensor([1])),
                          L.bitwise_or(L.tensor([4], dtype=L.uint8), L.tensor([1], dtype=L.uint8))],
    "in place": lambda L: [x for x in [L.tensor([1, 2])] for _ in [x.__ilshift__(3), x.__irshift__(1)]] +
                          [L.tensor([3]).bitwise_not_(), L.tensor([3]).bitwise_and_(1)],
    "integer dtype=": lambda L: [L.tensor([200, 100, 5], dtype=L.uint8).sum(dtype=L.uint8),
                                 L.tensor([2**30, 2**30, 5], dtype=L.int32).sum(dtype=L.int32),
                                 L.sum(L.tensor([200, 100], dtype=L.uint8), 0, dtype=L.int32),
                                 L.tensor([200, 100, 5], dtype=L.uint8).cumsum(0, dtype=L.uint8),
                                 L.tensor([200, 100, 5], dtype=L.uint8).cumprod(0, dtype=L.int16),
                                 L.tensor([200, 100, 5], dtype=L.uint8).prod(dtype=L.uint8),
                                 L.tensor([200, 100, 5], dtype=L.uint8).sum()],
    "cat onto tensor([])": lambda L: [L.cat([L.cat([L.tensor([]), L.ones(2, 3)]), L.ones(1, 3)]),
                                      L.cat([L.tensor([]), L.tensor([1, 2])]), L.cat([L.tensor([]), L.tensor([])]),
                                      L.cat([L.tensor([], dtype=L.int64), L.ones(2, 2, dtype=L.int32)], 1)],
}


def seen(lib, name):
    return [(t.tolist(), str(t.dtype).split(".")[1]) for t in CASES[name](lib)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_integer_idioms_give_pytorchs_numbers_and_dtypes(name):
    assert seen(tl, name) == seen(torch, name)


def test_floats_are_refused_and_cat_still_checks_shapes():
    for lib in (tl, torch):
        with pytest.raises(NotImplementedError):
            lib.tensor([1.0]) << 1
        with pytest.raises(RuntimeError):
            lib.cat([lib.ones(0, 3), lib.ones(2, 2)])
    x = tl.ones(2, 3, requires_grad=True)
    tl.cat([tl.tensor([]), x * 2]).sum().backward()
    assert x.grad.tolist() == [[2.0] * 3] * 2


def test_is_contiguous_in_each_memory_format():
    shapes = [(2, 3, 4, 5), (2, 1, 4, 5), (2, 3, 1, 1), (2, 3, 4), (2, 1, 4, 5, 6), (2, 3, 4, 5, 6)]
    for shape in shapes:
        answers = [[lib.ones(*shape).is_contiguous(memory_format=f) for f in (
            lib.contiguous_format, lib.channels_last, lib.channels_last_3d)] for lib in (tl, torch)]
        assert answers[0] == answers[1], shape
    assert not tl.ones(2, 3).t().is_contiguous()


def test_a_uint8_index_is_a_mask_as_in_pytorch():
    """Round r58: old DQN code indexes with ByteTensor masks; they were read as positions 0 and 1 (silent)."""
    seen = []
    for L in (tl, torch):
        v, x = L.tensor([1.0, 2.0, 3.0, 4.0]), L.arange(6.0).view(2, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (PyTorch's deprecation warning)
            seen.append([v[L.tensor([0, 1, 0, 1], dtype=L.uint8)].tolist(),
                         x[L.tensor([1, 0], dtype=L.uint8)].tolist(),
                         x[:, L.tensor([1, 0, 1], dtype=L.uint8)].tolist()])
    assert seen[0] == seen[1] == [[2.0, 4.0], [[0.0, 1.0, 2.0]], [[0.0, 2.0], [3.0, 5.0]]]
