r"""The arithmetic of a matrix product, and float16's: products added up in float32, rounded to float16 once.

A float16 number has 11 bits of precision: a running sum of thousands of float16 products loses the small terms.
PyTorch therefore multiplies float16 matrices as cuBLAS does on a GPU: each product of two float16 numbers is exact
in float32, the products (and a ``Linear``'s bias, in ``addmm``) are added up in float32, and the result is rounded
to float16 once. ``matmul_in_float32`` does the same on each device, by the route that device has:

- on the CPU numpy has no such product (its float16 matmul may round as it goes, and is slow): the operands are cast
  to float32 (exactly: a float16 number is a float32 one), multiplied and added in float32, rounded once. A GPU's
  numbers (up to the order of the sums), somewhat slower than float32 (the casts of the operands and the result);
- on a GPU cuBLAS has it, on the tensor cores: CuPy multiplies float16 matrices with ``cublasGemmEx`` on float16
  operands with the compute type ``CUBLAS_COMPUTE_32F`` (accumulation in float32; CuPy 14's default compute type for
  float16, which ``CUPY_TF32`` does not change), and writes the float16 result once. So the float16 operands go to
  CuPy as they are: on an H200 (``../shared/gpu/``) a 4096 x 4096 product took 0.19 ms so, 2.9 ms through float32
  copies (the H100 of ``benchmarks/gpu_results.json``: 0.43 ms against 2.8 ms in float32). The bias joins the
  product as one more row of the weight, met by a column of ones: [X 1] [W^T; b] = X W^T + b, so that it is added
  in float32 too and the sum rounded once, as PyTorch's ``addmm``.

float32 and float64 products are plain ``a @ b`` on both devices. Honest limit: CuPy 14.2 multiplies batches of
float16 matrices (3 or more dims, as ``bmm``) by casting them to float32 itself: the same numbers, at float32's
speed. A batch times one matrix (``x @ W`` for x of shape (b, n, k)) is therefore made one 2-D product here, and
so is its weight gradient in ``MatMul.backward`` (X^T G over all the rows: the sum over the batch inside the
product, rounded once, as PyTorch's).
"""
import numpy as np

from .device import array_module_of, is_gpu_array, on_device_of
from .dtypes import FLOAT16


def matmul_in_float32(a, b, bias=None):
    """``a @ b (+ bias)``; float16 operands are multiplied and added in float32 and the result rounded to float16
    once, as PyTorch's fused addmm (on a GPU by cuBLAS on the float16 operands, on the CPU through float32 copies)."""
    if a.dtype != FLOAT16:
        out = a @ b
        if bias is not None:
            out += bias
        return out
    if is_float16_on_gpu(a):  # cuBLAS's float16 product
        return float16_product_on_gpu(a, b, bias)
    return float16_product_through_float32(np, a, b, bias)


def is_float16_on_gpu(a):
    """Does the array ``a`` take the GPU's float16 route: float16, on a GPU (CuPy's, or the stand-in's)?"""
    return a.dtype == FLOAT16 and is_gpu_array(a)


def float16_product_through_float32(xp, a, b, bias=None):
    """The float16 product on float32 copies of its operands, rounded once (the CPU's route; ``xp`` is numpy)."""
    out = xp.matmul(a.astype(np.float32), b.astype(np.float32))
    if bias is not None:
        out += bias.astype(np.float32)
    return out.astype(np.float16)


def float16_product_on_gpu(a, b, bias=None):
    """``a @ b (+ bias)`` for float16 GPU arrays, as cuBLAS's float16 products with float32 accumulation."""
    xp = array_module_of(a)
    if bias is None and a.ndim > 2 and b.ndim == 2:  # a batch times one matrix: one 2-D product of all the rows
        return xp.matmul(a.reshape(-1, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[-1])
    if bias is None:
        return xp.matmul(a, b)
    n_out = b.shape[-1]
    if a.ndim != 2 or b.ndim != 2 or bias.dtype != FLOAT16 or bias.size != n_out:
        return float16_product_through_float32(xp, a, b, bias)  # (a bias that is not one float16 number per output)
    rows, k = a.shape
    width = (k + 8) // 8 * 8  # k + 1 columns, padded with zeros to a multiple of 8 (the tensor cores' alignment)
    with on_device_of(a):
        a_ones = xp.zeros((rows, width), dtype=FLOAT16)  # [A 1 0]
        b_bias = xp.zeros((n_out, width), dtype=FLOAT16)  # [B^T b 0]: written row by row, as a Linear's weight is
    a_ones[:, :k] = a
    a_ones[:, k] = 1
    b_bias[:, :k] = b.T
    b_bias[:, k] = bias.reshape(n_out)
    return xp.matmul(a_ones, b_bias.T)  # = A B + b, added up in float32 and rounded once
