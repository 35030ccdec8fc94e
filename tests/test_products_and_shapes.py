"""products.py (tensordot, inner, kron, cross, matrix_power, multi_dot, chain_matmul, addr) and
composed_shapes.py (splitting, joining, turning, index makers) against PyTorch in float64: values, dtypes, shapes
and the gradients that flow back through them."""
import warnings

import numpy as np
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
A, B, M, V, W, C = (RNG.standard_normal(s) for s in ((3, 4, 5), (4, 5, 2), (2, 3, 3), (4, 3), (4, 3), (2, 3, 4)))


def products(L):
    a, b, m, x, y = (L.tensor(t, requires_grad=True) for t in (A, B, M, V, W))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch.cross without dim: deprecated, in both)
        outs = [L.tensordot(a, b, dims=2), L.tensordot(a, b, dims=([1, 2], [0, 1])), L.tensordot(a[0], b[0], dims=0),
                L.inner(x, y), L.kron(x[:2, :2], y[:3]), L.cross(x, y, dim=1), L.linalg.cross(x, y), L.cross(x, y),
                L.matrix_power(m, 3), L.linalg.matrix_power(m, -2), L.matrix_power(m, 0),
                L.linalg.multi_dot([m[0], m[1], m[0]]), L.chain_matmul(m[0], m[1]),
                L.addr(m[0], x[0], y[0], beta=0.5, alpha=2), x.kron(y), x[0].inner(y[0])]
    return outs, (a, m, x, y)


def shapes(L):
    a, v, c = (L.tensor(t, requires_grad=True) for t in (V.T, W[:, 0], C))
    outs = [*L.tensor_split(a, 3, dim=1), *L.tensor_split(v, 3), *L.tensor_split(a, [1, 3, 10], dim=1),
            *L.hsplit(a, 2), *L.vsplit(a, [1]), *L.dsplit(c, 2), L.hstack([v, v]), L.hstack([a, a]),
            L.vstack([v, v]), L.vstack([a, a]), L.dstack([a, a]), L.column_stack([v, v]), L.column_stack([a[0], a.T]),
            L.atleast_2d(v), L.atleast_3d(a), L.atleast_1d(L.tensor(2.0, dtype=L.float64)),
            L.block_diag(a[:2, :2], v[:3], L.tensor(1.0, dtype=L.float64)), L.rot90(a), L.rot90(c, 2, [1, 2]),
            L.rot90(c, -1, [0, 2]), L.fliplr(a), L.flipud(a), L.diagflat(v[:3], 1), a.tensor_split(2)[1],
            c.rot90(3, [2, 0]), L.cartesian_prod(v[:2], v[:3]), L.combinations(v), L.combinations(v[:3], 3),
            L.combinations(v[:3], 2, with_replacement=True), L.take(a, L.tensor([[0, 5], [11, 7]])), L.msort(a),
            L.tril_indices(3, 4), L.triu_indices(4, 3, -1), L.argwhere(L.tensor([[0, 1], [2, 0]])),
            L.isin(L.tensor([1, 2, 3, 4]), L.tensor([2, 4])), L.isin(L.tensor([1, 2]), 2, invert=True)]
    return outs, (a, v, c)


def results(make, lib):
    outs, leaves = make(lib)
    sum((o * o).sum() for o in outs if o.dtype.is_floating_point).backward()
    return [o.detach().numpy() for o in outs] + [leaf.grad.numpy() for leaf in leaves]


def test_products_and_shape_functions_match_pytorch():
    for make in (products, shapes):
        ours, theirs = results(make, tl), results(make, torch)
        assert len(ours) == len(theirs)
        for k, (p, q) in enumerate(zip(ours, theirs)):
            assert p.shape == q.shape and p.dtype == q.dtype, (make.__name__, k, p.shape, q.shape)
            np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12, err_msg=f"{make.__name__} {k}")


def test_matrix_exp_matches_pytorch_at_every_scale_with_its_gradient():
    """Scaling and squaring: norms from 1e-3 to 30 (no squaring to several), a batch, a nilpotent matrix (whose series
    ends: e^N = I + N), float32; the gradient through the Horner steps and squarings equals PyTorch's backward."""
    base = RNG.standard_normal((3, 4, 4))
    nilpotent = np.triu(np.ones((3, 3)), 1)
    results = []
    for lib in (tl, torch):
        a = lib.tensor(base, requires_grad=True)
        weights = lib.tensor(np.cos(np.arange(48.0)).reshape(3, 4, 4))
        outputs = [lib.linalg.matrix_exp(a * scale) for scale in (1e-3, 1.0, 10.0)] + [a[0].matrix_exp()]
        sum((out * weights[: out.shape[0]] if out.ndim == 3 else out * weights[0]).sum() for out in outputs).backward()
        results.append([out.detach().numpy() for out in outputs] + [
            a.grad.numpy(), lib.matrix_exp(lib.tensor(nilpotent)).numpy(),
            lib.linalg.matrix_exp(lib.tensor(base, dtype=lib.float32)).numpy(),
            tuple(lib.linalg.matrix_exp(lib.zeros(2, 0, 0)).shape)])
    for ours, theirs in zip(results[0][:-1], results[1][:-1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5 if ours.dtype == np.float32 else 1e-11, atol=1e-12)
    assert results[0][-1] == results[1][-1] == (2, 0, 0)
    np.testing.assert_allclose(results[0][-3], np.eye(3) + nilpotent + np.triu(np.ones((3, 3)), 2) / 2, atol=1e-15)
