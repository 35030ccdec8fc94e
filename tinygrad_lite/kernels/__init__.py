r"""Fused kernels: on the "cuda" device, a formula of array ops run as one GPU kernel (``cupy.fuse``).

On a GPU each CuPy op is a kernel launch (about 10 us, whatever its size) and a pass over memory: Adam's update
written as a dozen array ops reads and writes the parameters a dozen times, where one kernel reads each number once
and writes it once. ``cupy.fuse`` turns a Python function of array ops into one kernel, compiled the first time it
meets its arguments' dtypes. Measured on an H200 (../shared/gpu/profile-H200.txt): AdamW over 25M parameters 1818 us
as separate ops, 254 us fused (PyTorch's fused AdamW: 229 us); batch norm's forward of an 8192x4096 batch 1064 us as
separate ops, 570 us with fused sums and a fused normalisation (PyTorch's kernel: 168 us).

The fused paths run only where the tensors live on "cuda"; the CPU keeps its numpy code and its numbers. Each fused
function sits next to the numpy formula it computes (``optim/adam.py``, ``optim/sgd.py``, ``nn/utils/clip_grad.py``,
``amp/grad_scaler.py``, ``random.py``, and here ``batch_norm.py``, ``layer_norm.py``, ``cross_entropy.py`` and
``activation.py`` for the ops of ``ops/``, and ``dropout.py``), computing the same operations in the same order, so
that the two agree to float32 rounding (on a GPU the compiler may also fuse a multiply and an add into one
rounding).

What CuPy's fuse compiles, and so what a fused function here may do:

- its arguments are arrays, numbers and None (None arguments stay None: a Python ``if x is None`` is fine);
- inside, arithmetic and the array module's ufuncs (``xp.sqrt``, ``xp.exp``, ``xp.maximum``: numpy's own ufuncs do
  not trace), ``xp.where`` and ``.astype``; no ``.shape``, no indexing, no Python ``if`` on a value;
- its outputs are new arrays of the broadcast shape of all its array arguments, or arguments of that shape updated
  in place (``m += ...``, ``xp.maximum(a, b, out=a)``, ``b[...] = g``): one pass over memory, no temporaries; but
  not in a kernel that reduces, where CuPy's fuse traces the write and then drops it (the stand-in refuses it);
- at most one reduction (``xp.sum(..., axis=k)``, without keepdims), after which only a unary ufunc may follow.

A kernel is made by ``fused(xp, make, *flags)`` from a factory ``make(xp, *flags)`` that returns the function: the
function takes its array module from the factory's ``xp`` (CuPy on a GPU; the stand-in GPU of the tests, which runs
the same function with numpy; tests/test_cupy_contract.py traces every one with the real CuPy), and the flags
(Python values such as ``amsgrad``) choose what is traced, each set of them its own kernel. Numbers that change
between calls (the learning rate, the step's bias corrections) are arguments, never baked in.

Sums over many rows (batch norm's statistics, the gradients of the affine weights; layer norm's per-sample sums)
are matrix products with a vector of ones (``leading_sums``, ``trailing_sums``) on "cuda": CuPy's column reduction
is slow, about 200 us for the column sums of an 8192x4096 matrix on an H200, fused or not, where PyTorch's takes 49
us (profile-H200.txt), and a matrix-vector product is cuBLAS's, which reads the matrix once at the memory's speed.
But a cuBLAS call costs the host about 50 us, against about 15 us for CuPy's reduction (an H100's profile,
benchmarks/capstone_parts.py): a small matrix, whose sums take the GPU a few microseconds either way, is summed by
CuPy (``SMALL``: under 2^22 numbers), and the vector of ones is made once per size and reused.
"""
import math
import weakref

import numpy as np

from ..device import array_module_of, on_device_of

_kernels = weakref.WeakKeyDictionary()  # array module -> {(make, flags): its fused kernel}


def fused(xp, make, *flags):
    """The function ``make(xp, *flags)`` fused into one kernel by ``xp.fuse``: made once per module, factory and
    flags, and named after the factory and its file (``make_update`` in ``optim/adam.py``: ``adam_update``)."""
    kernels = _kernels.setdefault(xp, {})
    kernel = kernels.get((make, flags))
    if kernel is None:
        kernel = kernels[make, flags] = xp.fuse(kernel_name=kernel_name(make))(make(xp, *flags))
    return kernel


def fused_on_gpu(xp, make, *flags):
    """``fused(xp, make, *flags)`` on a GPU; on the CPU (``xp`` numpy) the same function, run as plain numpy: for a
    small formula that both devices run (``amp/grad_scaler.py``)."""
    return make(xp, *flags) if xp is np else fused(xp, make, *flags)


def kernel_name(make):
    """The name of the kernel the factory ``make`` makes: its file's and its own, ``adam_update``."""
    return f"{make.__module__.rpartition('.')[2]}_{make.__name__.removeprefix('make_')}"


SMALL = 2 ** 22  # fewer numbers than this: summed by CuPy's reduction (a cuBLAS call costs the host more)
_CONSTANTS = {}  # (what, array module, GPU, ...) -> a constant array made on that GPU (the last 64 asked for)


def _constant(key, make):
    """The array ``make()`` made once for ``key`` and then reused (kept for the last 64 keys asked for)."""
    if key not in _CONSTANTS:
        if len(_CONSTANTS) >= 64:
            _CONSTANTS.pop(next(iter(_CONSTANTS)))
        _CONSTANTS[key] = make()
    return _CONSTANTS[key]


def ones(like, n):
    """A vector of ``n`` ones of ``like``'s dtype on its GPU, made there once (nothing copied from the host) and reused:
    nothing may write into it."""
    xp = array_module_of(like)

    def make():
        with on_device_of(like):
            return xp.ones(n, dtype=like.dtype)
    return _constant(("ones", xp, like.device.id, like.dtype, n), make)


def counting(xp, n, shape, dtype):
    """0, 1, ..., n-1 of ``dtype``, reshaped to ``shape``, made on the current GPU once and then reused (positions and
    class numbers that a fused kernel takes as arguments): nothing may write into it."""
    return _constant(("counting", xp, xp.cuda.Device().id, n, shape, np.dtype(dtype)),
                     lambda: xp.arange(n, dtype=dtype).reshape(shape))


def leading_sums(x, k):
    r"""\sum over the first ``k`` dims of ``x``: (1, ..., 1) @ X, X the (M, R) matrix of x's numbers; shape
    x.shape[k:] (a small x: x.sum over those dims)."""
    if x.size < SMALL:
        return x.sum(axis=tuple(range(k)))
    rest = x.shape[k:]
    matrix = x.reshape(math.prod(x.shape[:k]), math.prod(rest))
    return _shaped(ones(x, matrix.shape[0]) @ matrix, rest)


def trailing_sums(x, k):
    r"""\sum over the last ``k`` dims of ``x``: X @ (1, ..., 1), X the (M, R) matrix of x's numbers; shape
    x.shape[:-k] (a small x: x.sum over those dims)."""
    if x.size < SMALL:
        return x.sum(axis=tuple(range(x.ndim - k, x.ndim)))
    lead = x.shape[:x.ndim - k]
    matrix = x.reshape(math.prod(lead), math.prod(x.shape[x.ndim - k:]))
    return _shaped(matrix @ ones(x, matrix.shape[1]), lead)


def _shaped(sums, shape):
    """``sums`` reshaped to ``shape``, or itself where it has that shape: an array of its own, not a view (a gradient
    that is a view gets copied when it becomes a ``.grad``)."""
    return sums if sums.shape == shape else sums.reshape(shape)


def channel_sums(x):
    r"""\sum over every dim of ``x`` but dim 1 (batch norm's channels): shape (C,)."""
    if x.ndim > 2:
        x = trailing_sums(x, x.ndim - 2)
    return leading_sums(x, 1)
