"""Round r62's missing names (aliases.py, and nanmedian in composed_math.py) against PyTorch: numpy's spellings
(subtract, multiply, greater ...), the small integer casts (byte, char, short), rsub, reshape_as, sum_to_size,
fill_diagonal_ (with wrap), tril_/triu_, xlogy_, nanmedian, unravel_index, unique_consecutive, scalar_tensor,
is_nonzero, is_same_size, is_cpu and randint_like: values, dtypes, shapes and gradients."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

nan = float("nan")


def run(L):
    x = L.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
    y = L.tensor([[0.5, 0.5, 0.5]])
    out = [L.negative(x), L.subtract(x, y, alpha=2), L.multiply(x, y), L.greater(x, y), L.less_equal(x, y),
           L.not_equal(x, y), L.absolute(x), x.negative(), x.subtract(y), x.greater_equal(y), L.rsub(x, y, alpha=3),
           x.reshape_as(L.ones(3, 2)), x.sum_to_size(1, 3), x.sum_to_size(3), x.byte(), x.char(), x.short()]
    square, tall, ones = L.zeros(4, 3), L.zeros(7, 3), L.ones(3, 3)
    square.fill_diagonal_(7.0)
    tall.fill_diagonal_(2.0, wrap=True)
    ones.tril_()
    out += [square, tall, ones.clone(), ones.triu_(1)]
    with_nans = L.tensor([[1.0, nan, 3.0, 2.0], [nan, 5.0, nan, 4.0]])
    middle = L.nanmedian(with_nans, 1)
    out += [middle.values, middle.indices, L.nanmedian(L.tensor([3.0, nan, 1.0, 2.0])), with_nans.nanmedian()]
    out += list(L.unravel_index(L.tensor([4, 7, 0]), (2, 4)))
    out += list(L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True))
    out += list(L.unique_consecutive(L.tensor([[1, 1], [1, 1], [2, 3]]), dim=0, return_counts=True))
    out += [L.scalar_tensor(3), L.scalar_tensor(2, dtype=L.int64)]
    flags = [L.is_nonzero(L.tensor([2.0])), L.ones(2).is_same_size(L.zeros(2)), L.ones(2).is_cpu,
             tuple(L.randint_like(L.ones(2, 3), 5).shape) == (2, 3)]
    logs = x.clone()
    logs.xlogy_(L.full((2, 3), 2.0))
    out.append(logs)
    sum(o.float().sum() for o in out if o.requires_grad).backward()
    out.append(x.grad)
    return [o.detach().numpy() for o in out], flags


def test_second_names_and_small_functions_match_pytorch():
    (ours, our_flags), (theirs, their_flags) = run(tl), run(torch)
    assert our_flags == their_flags == [True] * 4 and len(ours) == len(theirs) == 36
    for i, (p, q) in enumerate(zip(ours, theirs)):
        assert p.shape == q.shape and p.dtype == q.dtype, i
        np.testing.assert_allclose(p, q, err_msg=str(i), equal_nan=True)


def test_nanmedian_of_only_nans_is_nan_and_bad_calls_raise_as_pytorch():
    """(Which index PyTorch gives where all are nan depends on its selection algorithm: 0, 0, 0, 2, 2, 3 for 1 to 6
    nans; here the first, which is not compared.)"""
    assert bool(tl.nanmedian(tl.full((2, 3), nan), 1).values.isnan().all())
    for L in (tl, torch):
        with pytest.raises(RuntimeError):
            L.is_nonzero(L.ones(2))
        with pytest.raises(RuntimeError):
            L.ones(2, 3).sum_to_size(4)
        with pytest.raises(RuntimeError):
            L.zeros(3).fill_diagonal_(1.0)
