"""``linalg.eigh``, ``eigvalsh``, ``svd``, ``svdvals``, ``qr``, ``pinv``, ``matrix_rank``, ``lstsq``, ``cond``, the
matrix norms 2, -2 and "nuc", and the older ``svd``, ``qr`` and ``pinverse`` (factorisations.py, ops/factorisations.py)
against PyTorch and finite differences.

Eigenvectors and singular vectors are unique only up to their signs, so the values compared are the ones that do not
depend on the signs (squares of the vectors' entries, products such as U Vh, the reconstruction), and so are the
gradients: each loss below is a weighted sum of such values, so that every output's gradient formula is exercised
with weights that differ from entry to entry."""
import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy

import tinygrad_lite as tl
from tinygrad_lite.autograd import gradcheck

RNG = np.random.default_rng(0)
W = RNG.standard_normal((5, 5))
SYMMETRIC = W + W.T
TALL = RNG.standard_normal((2, 6, 4))
RHS = RNG.standard_normal((6, 3))


def weights(lib, *shape):
    return lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape) / 10


LOSSES = {  # name -> (input, loss of a library and the input)
    "eigh's values and squared vectors": (SYMMETRIC, lambda t, a: (t.linalg.eigh(a).eigenvalues * weights(t, 5)).sum()
                                          + (t.linalg.eigh(a).eigenvectors ** 2 * weights(t, 5, 5)).sum()),
    "eigh of the upper triangle": (W, lambda t, a: (t.linalg.eigh(a, UPLO="U").eigenvalues ** 3).sum()
                                   + (t.linalg.eigh(a, "U").eigenvectors[:, 1].abs() * weights(t, 5)).sum()),
    "eigvalsh": (SYMMETRIC, lambda t, a: (t.linalg.eigvalsh(a) * weights(t, 5)).sum()),
    "svd of tall matrices, reduced": (TALL, lambda t, a: (t.linalg.svd(a, full_matrices=False).U ** 2
                                                          * weights(t, 4)).sum() + t.linalg.svd(a).S.pow(2).sum()),
    "svd, full matrices": (TALL, lambda t, a: (t.linalg.svd(a).U[..., :4] ** 2 * weights(t, 4)).sum()
                           + (t.linalg.svd(a).Vh ** 2 * weights(t, 4, 1)).sum()),
    "svd of wide matrices": (TALL, lambda t, a: ((t.linalg.svd(a.mT, full_matrices=False).Vh ** 2).sum(-2)
                                                 * weights(t, 6)).sum()),
    "U Vh": (TALL, lambda t, a: (t.linalg.svd(a, full_matrices=False).U @ t.linalg.svd(a, False).Vh
                                 * weights(t, 6, 4)).sum()),
    "svdvals": (TALL, lambda t, a: t.linalg.svdvals(a).prod(-1).sum()),
    "qr of tall matrices": (TALL, lambda t, a: (t.linalg.qr(a).Q * weights(t, 4)).sum()
                            + (t.linalg.qr(a).R * weights(t, 4, 4)).sum()),
    "qr of wide matrices": (TALL, lambda t, a: (t.linalg.qr(a.mT).Q * weights(t, 4)).sum()
                            + (t.linalg.qr(a.mT).R ** 2 * weights(t, 6)).sum()),
    "qr complete, wide": (TALL, lambda t, a: (t.linalg.qr(a.mT, mode="complete").R * weights(t, 6)).sum()),
    "pinv": (TALL, lambda t, a: (t.linalg.pinv(a) * weights(t, 4, 6)).sum()),
    "pinv of wide matrices": (TALL, lambda t, a: (t.linalg.pinv(a.mT) ** 2 * weights(t, 6, 4)).sum()),
    "pinv of an orthogonal matrix": (np.eye(3), lambda t, a: (t.linalg.pinv(a) * weights(t, 3, 3)).sum()),
    "pinv, hermitian": (SYMMETRIC, lambda t, a: (t.linalg.pinv(a, hermitian=True) * weights(t, 5, 5)).sum()),
    "lstsq": (TALL[0], lambda t, a: (t.linalg.lstsq(a, t.tensor(RHS)).solution ** 2 * weights(t, 3)).sum()),
    "the older svd": (TALL, lambda t, a: (t.svd(a).V ** 2 * weights(t, 4)).sum() + t.svd(a, compute_uv=False).S.sum()),
    "matrix norms 2, -2, nuc": (TALL, lambda t, a: t.linalg.matrix_norm(a, 2).sum() + t.linalg.matrix_norm(a, -2).sum()
                                + (t.linalg.matrix_norm(a, "nuc") * weights(t, 2)).sum()),
    "cond": (TALL, lambda t, a: t.linalg.cond(a).sum() + t.linalg.cond(a, -2).sum()),
    "eigenvalues of the identity": (np.eye(3), lambda t, a: (t.linalg.eigvalsh(a) * weights(t, 3)).sum()
                                    + t.linalg.svdvals(a).sum()),
}


@pytest.mark.parametrize("name", LOSSES)
def test_values_and_gradients_match_pytorch(name):
    array, loss = LOSSES[name]
    results = []
    for lib in (tl, torch):
        a = lib.tensor(array, requires_grad=True)
        value = loss(lib, a)
        value.backward()
        results.append((value.item(), a.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["eigh's values and squared vectors", "svd, full matrices", "svd of wide matrices",
                                  "qr of tall matrices", "qr of wide matrices", "pinv of wide matrices"])
def test_gradients_match_finite_differences(name):
    """eigh reads one triangle, so its loss is taken of (A + A^T) / 2, whose gradient is what eigh's is."""
    array, loss = LOSSES[name]
    symmetric = name.startswith("eigh")
    assert gradcheck(lambda a: loss(tl, (a + a.mT) / 2 if symmetric else a), (tl.tensor(array, requires_grad=True),),
                     eps=1e-6, atol=1e-6)


def test_the_factors_rebuild_the_matrix_and_are_orthonormal():
    A, H = tl.tensor(TALL), tl.tensor(SYMMETRIC)
    U, S, Vh = tl.linalg.svd(A, full_matrices=False)
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ Vh).numpy(), TALL, atol=1e-12)
    U, _, Vh = tl.linalg.svd(A)
    np.testing.assert_allclose((U.mT @ U).numpy(), np.broadcast_to(np.eye(6), (2, 6, 6)), atol=1e-12)
    L, V = tl.linalg.eigh(H)
    np.testing.assert_allclose((V @ tl.diag_embed(L) @ V.mT).numpy(), SYMMETRIC, atol=1e-12)
    assert (L[1:] >= L[:-1]).all().item() and (S[..., 1:] <= S[..., :-1]).all().item()
    Q, R = tl.linalg.qr(A)
    np.testing.assert_allclose((Q @ R).numpy(), TALL, atol=1e-12)
    assert (R.tril(-1) == 0).all().item() and tuple(tl.linalg.qr(A, "complete").Q.shape) == (2, 6, 6)
    np.testing.assert_allclose(tl.linalg.qr(A, mode="r").R.numpy(), R.numpy())
    assert tl.linalg.qr(A, mode="r").Q.shape == (0,)
    np.testing.assert_allclose(tl.linalg.eigh(tl.tensor(SYMMETRIC, dtype=tl.float32)).eigenvalues.numpy(),
                               torch.linalg.eigh(torch.tensor(SYMMETRIC, dtype=torch.float32)).eigenvalues.numpy(),
                               rtol=1e-5)


def test_lstsq_fills_what_each_driver_fills_and_the_tolerances_cut_as_pytorch():
    results = []
    for lib in (tl, torch):
        A, B = lib.tensor(TALL[0]), lib.tensor(RHS)
        row = []
        for driver in ("gelsy", "gelsd", "gelss", "gels"):
            found = lib.linalg.lstsq(A, B, driver=driver)
            row.append([tuple(x.shape) for x in found] + [found.residuals.numpy().round(10).tolist(),
                                                           found.rank.numpy().tolist()])
        vector = lib.linalg.lstsq(A, B[:, 0], driver="gelsd")
        wide = lib.linalg.lstsq(A[:3], B[:3])  # (underdetermined: the shortest solution)
        singular = lib.tensor(np.diag([1, 1e-20, 3.0]))
        row += [[tuple(x.shape) for x in vector], wide.solution.numpy().round(10).tolist(), wide.rank.item(),
                lib.linalg.matrix_rank(singular).item(), lib.linalg.matrix_rank(lib.tensor(TALL), 0.5).tolist(),
                lib.linalg.matrix_rank(lib.tensor(TALL), atol=0.5, rtol=0.3).tolist(),
                lib.linalg.matrix_rank(lib.tensor(SYMMETRIC), hermitian=True).item(),
                lib.linalg.pinv(singular).numpy().round(10).tolist(),
                lib.linalg.pinv(lib.tensor(TALL), rtol=lib.tensor([0.5, 0.1])).numpy().round(10).tolist(),
                lib.pinverse(lib.tensor(TALL[0])).numpy().round(10).tolist(),
                lib.linalg.cond(lib.tensor(TALL[:, :4]), "fro").numpy().round(10).tolist(),
                lib.linalg.cond(lib.tensor(TALL[:, :4]), 1).numpy().round(10).tolist(),
                lib.linalg.cond(lib.zeros(2, 2, dtype=lib.float64), "fro").item(),
                tuple(lib.linalg.matrix_norm(lib.tensor(TALL), 2, keepdim=True).shape),
                round(lib.linalg.norm(lib.tensor(TALL[0]), "nuc").item(), 10)]
        results.append(row)
    assert results[0] == results[1]


def test_the_named_results_and_the_tensor_methods():
    A = tl.tensor(TALL[0])
    assert type(tl.linalg.eigh(tl.eye(2))).__name__ == "linalg_eigh" and tl.linalg.svd(A)._fields == ("U", "S", "Vh")
    assert tl.svd(A)._fields == ("U", "S", "V") and tl.linalg.qr(A)._fields == ("Q", "R")
    assert tl.linalg.lstsq(A, A)._fields == ("solution", "residuals", "rank", "singular_values")
    U, S, V = A.svd(some=False)
    assert (U.shape, V.shape) == ((6, 6), (4, 4)) and A.qr(some=False).Q.shape == (6, 6)
    np.testing.assert_allclose(A.pinverse().numpy(), np.linalg.pinv(TALL[0]), atol=1e-12)
    zeros = tl.svd(A, compute_uv=False)
    assert zeros.U.abs().sum().item() == 0 and zeros.V.shape == (4, 4)


def test_what_pytorch_refuses_is_refused_with_its_words():
    A = tl.tensor(TALL[0], requires_grad=True)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tl.linalg.svd(tl.ones(3))
    with pytest.raises(RuntimeError, match=r"float32 or float64 .* \.float\(\)"):
        tl.linalg.eigh(tl.ones(3, 3, dtype=tl.float16))
    with pytest.raises(RuntimeError, match="float32 or float64"):
        tl.linalg.qr(tl.ones(3, 3, dtype=tl.int64))
    with pytest.raises(RuntimeError, match="square matrices"):
        tl.linalg.eigh(A)
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U', but got x"):
        tl.linalg.eigh(tl.eye(2), UPLO="x")
    with pytest.raises(RuntimeError, match="unrecognized mode 'full'"):
        tl.linalg.qr(A, mode="full")
    with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
        tl.linalg.qr(A, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        tl.linalg.qr(A, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="only supported on CUDA"):
        tl.linalg.svd(A, driver="gesvd")
    with pytest.raises(RuntimeError, match="should be one of"):
        tl.linalg.lstsq(A, A, driver="lapack")
    with pytest.raises(tl.linalg.LinAlgError, match="non-finite"):
        tl.linalg.svdvals(tl.tensor([[1.0, float("nan")], [0.0, 1.0]]))
    with pytest.raises(tl.linalg.LinAlgError, match="inf or nan"):
        tl.linalg.eigh(tl.tensor([[1.0, 0.0], [float("inf"), 1.0]]))
    assert tl.linalg.eigh(tl.tensor([[1.0, float("nan")], [0.0, 2.0]])).eigenvalues.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="square matrices"):
        tl.linalg.cond(A, "fro")


def test_the_factorisations_run_on_the_stand_in_gpu_and_give_the_cpus_numbers():
    """CuPy's linalg (numpy's on the stand-in), the gradients in the GPU's array module, lstsq's GPU driver."""
    H = SYMMETRIC @ SYMMETRIC.T + np.eye(5)
    found = []
    with FakeCuPy().install():
        for device in ("cpu", "cuda"):
            A, S = tl.tensor(TALL, device=device, requires_grad=True), tl.tensor(H, device=device, requires_grad=True)
            loss = (tl.linalg.svd(A).S.sum() + (tl.linalg.qr(A).Q ** 3).sum()
                    + (tl.linalg.eigh(S).eigenvectors ** 4).sum() + tl.linalg.pinv(A).sum()
                    + tl.linalg.lstsq(A, A[..., :2]).solution.sum() + tl.linalg.matrix_rank(A).sum()
                    + tl.linalg.cond(S, 1) + tl.linalg.pinv(S, hermitian=True).sum())
            loss.backward()
            assert loss.device.type == device
            found.append([loss.item(), A.grad.cpu().numpy(), S.grad.cpu().numpy()])
        with pytest.raises(RuntimeError, match="only the `gels` driver"):
            tl.linalg.lstsq(tl.tensor(TALL, device="cuda"), tl.tensor(TALL, device="cuda"), driver="gelsd")
        tl.linalg.svd(tl.tensor(TALL, device="cuda"), driver="gesvdj")  # (accepted on a GPU, as PyTorch's)
    for ours, theirs in zip(*found):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("name", ["eigh's values and squared vectors", "eigvalsh", "svd, full matrices",
                                  "svd of wide matrices", "qr of tall matrices", "qr of wide matrices",
                                  "pinv of wide matrices", "pinv, hermitian"])
def test_second_derivatives_match_pytorch(name):
    """create_graph=True (autograd/higher_order.py's formulas): d/dA of <u, dL/dA> + |dL/dA|^2, as PyTorch's."""
    array, loss = LOSSES[name]
    u = np.random.default_rng(1).standard_normal(array.shape)
    results = []
    for lib in (tl, torch):
        a = lib.tensor(array, requires_grad=True)
        first, = lib.autograd.grad(loss(lib, a), a, create_graph=True)
        second, = lib.autograd.grad((first * lib.tensor(u)).sum() + (first ** 2).sum(), a)
        results.append((first.detach().numpy(), second.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


def test_what_an_outside_round_found_lstsqs_rcond_by_driver_empty_and_infinite_matrices():
    """r52: gels ignores rcond and refuses a matrix without full rank; gelsd takes eps for rcond outside (0, 1),
    gelss for a negative one; a driver's name in capitals; empty matrices' norms and condition numbers are 0; a
    matrix with inf gets nan from the SVD (the rest of its batch is factored), a tensor rcond for pinverse."""
    A = np.array([[2.0, 1, 0], [1, 3, 1], [0, 1, 0.1]])
    b, inf = np.array([[1.0], [2], [3]]), float("inf")
    results = []
    for lib in (tl, torch):
        a, rhs = lib.tensor(A), lib.tensor(b)
        row = [lib.linalg.lstsq(a, rhs, rcond=0.2, driver="gels").solution,
               lib.linalg.lstsq(a, rhs, rcond=1.5, driver="gelsd").rank,
               lib.linalg.lstsq(lib.ones(3, 3, dtype=lib.float64), rhs, rcond=0.0, driver="gelsd").rank,
               lib.linalg.lstsq(a, rhs, rcond=0.5, driver="GELSD").solution,
               lib.linalg.lstsq(a, rhs, rcond=-1.0, driver="gelss").rank,
               lib.linalg.matrix_norm(lib.zeros(3, 0), 2), lib.linalg.cond(lib.zeros(2, 0, 0)),
               lib.linalg.cond(lib.zeros(0, 0), "fro"),
               lib.linalg.cond(lib.tensor([[1.0, float("nan")], [0.0, 1.0]]), 1),
               lib.linalg.svdvals(lib.tensor([[[1.0, inf], [0.0, 1.0]], [[1.0, 0.0], [0.0, 2.0]]])),
               lib.linalg.cond(lib.tensor([[[1.0, inf], [0.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]]])),
               lib.linalg.pinv(lib.tensor([[1.0, inf], [0.0, 1.0]])), lib.pinverse(a, rcond=lib.tensor(0.2))]
        results.append([value.numpy() for value in row])
        with pytest.raises(RuntimeError, match="does not have full rank"):
            lib.linalg.lstsq(lib.ones(3, 2, dtype=lib.float64), rhs, driver="gels")
        with pytest.raises(NotImplementedError):
            lib.linalg.svd(lib.ones(2, 2, dtype=lib.float16))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, equal_nan=True)
    with pytest.raises(TypeError, match="not both"):
        tl.linalg.pinv(tl.tensor(A), 0.1, rtol=0.1)
    with pytest.raises(TypeError, match="not both"):
        tl.linalg.matrix_rank(tl.tensor(A), 0.1, atol=0.1)
    with pytest.raises(RuntimeError, match=r"atol of shape \(3,\) does not broadcast with the batch \(2,\)"):
        tl.linalg.pinv(tl.ones(2, 3, 3), atol=tl.ones(3))


def test_geqrf_and_householder_product_are_lapacks_with_pytorchs_gradient():
    """geqrf's packed reflections and tau, and householder_product (orgqr) giving QR's Q back, differentiable in
    both arguments (orthogonal's householder map trains through it)."""
    results = []
    for lib in (tl, torch):
        packed, tau = lib.geqrf(lib.tensor(TALL))
        packed.requires_grad_(True)
        tau.requires_grad_(True)
        Q = lib.linalg.householder_product(packed, tau)
        (Q * weights(lib, 6, 4)).sum().backward()
        results.append([packed.detach().numpy(), tau.detach().numpy(), Q.detach().numpy(), packed.grad.numpy(),
                        tau.grad.numpy(), lib.orgqr(packed, tau).detach().numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(results[0][2], tl.linalg.qr(tl.tensor(TALL)).Q.numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="m >= n >= k"):
        tl.linalg.householder_product(tl.ones(2, 3, dtype=tl.float64), tl.ones(2, dtype=tl.float64))
