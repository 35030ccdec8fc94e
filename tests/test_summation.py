"""Long float32 sums across dims keep PyTorch's accuracy (summation.py; round r61): numpy adds one number at a time
down a column, so 0.1 summed 100,000 times gave 9998.56 and a constant column's std 1.4e-5; PyTorch's cascade gives
10000.001 and 0. Here such sums are accumulated in float64 and rounded once (float16 in float32, as before)."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl
from tinygrad_lite import summation


def long_sums(L):
    column = L.full((100000, 2), 0.1)
    data = L.tensor(np.random.default_rng(0).standard_normal((200000, 3)).astype(np.float32) * 3 + 1)
    images = L.tensor(np.random.default_rng(1).standard_normal((8, 2, 32, 32)).astype(np.float32) + 5)
    norm = L.nn.BatchNorm2d(2)
    normed = norm(images)
    return [column.sum(0), column.mean(0), column.std(0), L.full((10000,), 0.1).cumsum(0)[-1:], data.mean(0),
            data.std(0), data.var(0, unbiased=False), data.t().contiguous().sum(1), norm.running_mean,
            norm.running_var, normed.mean((0, 2, 3)), L.full((6000,), 0.1, dtype=L.float16).sum().float()]


def test_long_float32_sums_agree_with_pytorchs():
    for ours, theirs in zip(long_sums(tl), long_sums(torch), strict=True):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=2e-6, atol=2e-6)


def test_the_widening_is_only_where_numpy_would_add_one_at_a_time():
    small = np.random.default_rng(2).standard_normal((1000, 3)).astype(np.float32)
    assert summation.rounded_sum(small, axis=0).tobytes() == small.sum(axis=0).tobytes()  # (fewer than 4096)
    rows = np.random.default_rng(3).standard_normal((3, 50000)).astype(np.float32)
    assert summation.rounded_sum(rows, axis=1).tobytes() == rows.sum(axis=1).tobytes()  # (pairwise along the row)
    assert not summation._one_at_a_time(rows, 1) and summation._one_at_a_time(rows.T, 0)
    assert summation._one_at_a_time(np.ones((4096, 2), np.float32), 0)
    assert summation.rounded_sum(rows.T, axis=0).dtype == np.float32
    assert summation.cumsum_dtype(rows) == np.float64 and summation.cumsum_dtype(rows.astype(np.float64)) is None


@pytest.mark.parametrize("dtype", ["int32", "int64", "float64"])
def test_other_dtypes_sum_as_before(dtype):
    x = np.arange(5000 * 2).reshape(5000, 2).astype(dtype)
    assert summation.rounded_sum(x, axis=0).dtype == x.sum(axis=0).dtype
    assert (tl.tensor(x).cumsum(0).numpy()[-1] == x.cumsum(0)[-1]).all()


def test_var_and_std_of_float32_are_computed_in_float64_as_pytorchs_cpu_kernels():
    """Round r62: the squares of 1e20 overflow float32, so std was inf where PyTorch's is 2e20 (its var is inf: the
    variance itself does not fit); the gradient stays float32."""
    for L in (tl, torch):
        x = L.tensor([1e20, -1e20, 3e20], requires_grad=True)
        assert np.isclose(x.std().item(), 2e20, rtol=1e-6) and x.var().item() == float("inf")
        assert np.isclose(L.std_mean(x)[0].item(), 2e20, rtol=1e-6)
        small = L.tensor([1.0, 2.0, 4.0], requires_grad=True)
        small.std().backward()
        assert small.grad.dtype == L.float32
    np.testing.assert_allclose(tl.tensor([1.0, 2.0, 4.0]).std().item(), torch.tensor([1.0, 2.0, 4.0]).std().item(),
                               rtol=1e-7)
