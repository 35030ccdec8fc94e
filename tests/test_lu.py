"""``linalg.solve``, ``inv`` (``inverse``), ``det``, ``slogdet`` and ``logdet`` (lu.py: LU with partial pivoting,
composed) against PyTorch: values and gradients in float64 for batches, vectors as right-hand sides, ``left=False``;
a singular matrix (det 0, slogdet's -inf, and PyTorch's LinAlgError from solve and inv)."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
A, B, V = RNG.standard_normal((2, 4, 4)), RNG.standard_normal((2, 4, 3)), RNG.standard_normal(4)
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])


def test_the_lu_functions_match_pytorch_in_value_and_gradient():
    results = []
    for lib in (tl, torch):
        a, b = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
        outputs = [lib.linalg.solve(a, b), lib.linalg.inv(a), lib.linalg.det(a), lib.linalg.slogdet(a).logabsdet,
                   lib.linalg.solve(a[0], lib.tensor(V)), lib.linalg.solve(a, b.mT, left=False), a.inverse(),
                   a.det(), lib.logdet(a @ a.mT)]
        sum(out.sum() for out in outputs).backward()
        results.append([out.detach().numpy() for out in outputs] + [a.grad.numpy(), b.grad.numpy(),
                                                                     lib.linalg.slogdet(a).sign.detach().numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's log of 0: -inf, as intended)
def test_a_singular_matrix():
    for lib in (tl, torch):
        singular = lib.tensor(SINGULAR)
        assert lib.det(singular).item() == 0 and lib.slogdet(singular).logabsdet.item() == -np.inf
        with pytest.raises(lib.linalg.LinAlgError, match="singular"):
            lib.linalg.inv(singular)
        with pytest.raises(lib.linalg.LinAlgError, match="singular"):
            lib.linalg.solve(singular, lib.ones(3, dtype=lib.float64))


def test_a_batch_of_matrices_with_one_right_hand_side_empty_matrices_and_the_named_pairs():
    """B of shape (3, 2) beside A of (2, 3, 3) is one matrix for every A (a vector only when it has A's shape
    without its last dim), 0 x 0 systems solve to empty tensors, cholesky_ex's result has .L and .info, and cov of
    one variable is a number, as in PyTorch."""
    results = []
    for lib in (tl, torch):
        a = lib.tensor(A[:, :3, :3] + 3 * np.eye(3))
        solved = lib.linalg.solve(a, lib.tensor(B[0, :3, :2]))
        empty = lib.linalg.solve(lib.zeros(0, 0, dtype=lib.float64), lib.zeros(0, 2, dtype=lib.float64))
        info = lib.linalg.cholesky_ex(lib.tensor([[1.0, 2.0], [2.0, 1.0]])).info
        results.append([solved.numpy(), tuple(empty.shape), tuple(lib.linalg.inv(lib.zeros(0, 0)).shape),
                        info.item(), lib.cov(lib.tensor([[1.0, 2.0, 4.0]])).shape == ()])
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    assert results[0][1:] == results[1][1:]


def test_the_factors_their_solves_the_ex_forms_and_the_tensor_solves_match_pytorch():
    """lu_factor's packed factors and LAPACK's pivots, lu's P, L, U of square and rectangular matrices, lu_unpack,
    lu_solve (left, adjoint, right), inv_ex, solve_ex, tensorinv, tensorsolve, vecdot, vander: values and gradients."""
    R, A4 = RNG.standard_normal((3, 5)), A[0].reshape(2, 2, 2, 2)
    results = []
    for lib in (tl, torch):
        a, r, b = (lib.tensor(x, requires_grad=True) for x in (A, R, B))
        LU, pivots = lib.linalg.lu_factor(a)
        outputs = [LU, *lib.linalg.lu(r.mT), *lib.linalg.lu(r), *lib.lu_unpack(LU, pivots),
                   lib.linalg.lu_solve(LU, pivots, b), lib.linalg.lu_solve(LU, pivots, b, adjoint=True),
                   lib.linalg.lu_solve(LU, pivots, b.mT, left=False), lib.linalg.inv_ex(a).inverse,
                   lib.linalg.solve_ex(a, b).result, lib.linalg.solve_ex(a, b.mT, left=False).result,
                   lib.linalg.tensorinv(lib.tensor(A4)),
                   lib.linalg.tensorsolve(lib.tensor(A4), lib.tensor(B[0, :2, :2])),
                   lib.linalg.vecdot(a, b[..., :1].mT), lib.linalg.vander(r[0]), lib.linalg.vander(r, N=3)]
        sum((out * lib.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))).sum() for out in outputs).backward()
        results.append([out.detach().numpy() for out in outputs] + [a.grad.numpy(), r.grad.numpy(), b.grad.numpy(),
                                                                     pivots.numpy()])
    for ours, theirs in zip(*results):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_a_singular_matrix_gives_info_in_the_ex_forms_and_lu_factors_error():
    for lib in (tl, torch):
        singular = lib.tensor(SINGULAR)
        factored = lib.linalg.lu_factor_ex(singular)
        assert (factored.info.item(), factored.pivots.tolist()) == (3, [2, 3, 3])
        assert lib.linalg.inv_ex(singular).info.item() == 3 and lib.linalg.solve_ex(singular, singular).info.item() == 3
        with pytest.raises(RuntimeError, match=r"U\[3,3\] is zero and using it on lu_solve would result in a division"):
            lib.linalg.lu_factor(singular)
        with pytest.raises(RuntimeError, match="LU without pivoting is not implemented on the CPU"):
            lib.linalg.lu_factor(lib.tensor(A), pivot=False)


def refused(lib, LU, pivots):
    """Calls PyTorch refuses: lu_solve with B of another dtype, pivots of 0 or of floats; vecdot of two dtypes;
    vander with N = 1 or of bools."""
    return (lambda: lib.linalg.lu_solve(LU, pivots, lib.ones(4, 1)),
            lambda: lib.linalg.lu_solve(LU, pivots * 0, lib.ones(4, 1, dtype=lib.float64)),
            lambda: lib.linalg.lu_solve(LU, pivots.double(), lib.ones(4, 1, dtype=lib.float64)),
            lambda: lib.linalg.vecdot(lib.ones(2, dtype=lib.float64), lib.ones(2)),
            lambda: lib.linalg.vander(lib.tensor([1.0, 2.0]), N=1),
            lambda: lib.linalg.vander(lib.tensor([True, False])))


def test_what_round_r53_found():
    """tensorsolve needs only the numbers' counts to match; lu_solve checks its dtypes and pivots; vecdot its
    dtypes; vander refuses N = 1 and bools; a singular matrix in a batch is named, as PyTorch names it."""
    A6 = RNG.standard_normal((2, 3, 6))
    B6 = RNG.standard_normal((3, 2))
    np.testing.assert_allclose(tl.linalg.tensorsolve(tl.tensor(A6), tl.tensor(B6)).numpy(),
                               torch.linalg.tensorsolve(torch.tensor(A6), torch.tensor(B6)).numpy(), rtol=1e-9)
    for lib in (tl, torch):
        for bad in refused(lib, *lib.linalg.lu_factor(lib.tensor(A[0]))):
            with pytest.raises(RuntimeError):
                bad()
        batch = lib.stack([lib.eye(3, dtype=lib.float64), lib.tensor(SINGULAR)])
        with pytest.raises(RuntimeError, match=r"\(Batch element 1\): The diagonal element 3 is zero"):
            lib.linalg.inv(batch)


@pytest.mark.filterwarnings("ignore:torch.lu_solve is deprecated")
def test_what_round_r54_found():
    """A singular system's error says the solver failed, as PyTorch's; lu_solve checks the pivots' shape; the older
    torch.lu_solve(B, LU, pivots) with its deprecation warning."""
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for lib in (tl, torch):
        with pytest.raises(RuntimeError, match=r"linalg.solve: \(Batch element 1\): The solver failed because the "
                                               "input matrix is singular"):
            lib.linalg.solve(lib.stack([lib.eye(2, dtype=lib.float64), lib.tensor(singular)]), lib.ones(2, 2).double())
        LU, pivots = lib.linalg.lu_factor(lib.tensor(A))
        with pytest.raises(RuntimeError, match=r"Expected LU.shape\[:-1\] and pivots.shape to be the same"):
            lib.linalg.lu_solve(LU, pivots[0], lib.tensor(B))
        with pytest.warns(UserWarning, match="torch.lu_solve is deprecated"):
            older = lib.lu_solve(lib.tensor(B), LU, pivots)
        np.testing.assert_allclose(older.numpy(), np.linalg.solve(A, B), rtol=1e-10)
