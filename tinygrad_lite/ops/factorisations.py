r"""The three factorisations that LAPACK computes and a loop of the library's ops could not match: the symmetric
eigendecomposition, the singular value decomposition and QR. Their numbers come from numpy's (CuPy's) ``linalg``;
their gradients, which are not, are here. Notation: ``g`` is the gradient of an output, ``X^T`` the transpose of
the last two dims, ``*`` the elementwise product, ``/`` elementwise division.

- Eigh: A = V diag(L) V^T, V orthogonal, L ascending (A symmetric: only one triangle is read).
- Svd: A = U diag(S) Vh, U and Vh^T with orthonormal columns, S >= 0 descending.
- Qr: A = Q R, Q with orthonormal columns, R upper-triangular.
- Pinv: the pseudo-inverse A^+, from the SVD, with a gradient of its own.

Each gradient assumes what makes the factorisation differentiable at A: distinct eigenvalues (singular values) where
the vectors get a gradient, a full-rank A for QR. Where that fails the gradient is inf or nan, as PyTorch's.
A gradient that does not depend on the vectors' signs (or on the choice of a basis) is the same for any choice
LAPACK makes; these formulas are PyTorch's (``torch/csrc/autograd/FunctionsManual.cpp``), written for real matrices.
"""
from ..autograd.function import Function
from ..device import array_module_of


def _mT(X):
    return X.swapaxes(-1, -2)


def _skew(X):
    return X - _mT(X)


def _off_diagonal_differences(values):
    """E with E_ij = values_j - values_i, and 1 on the diagonal (where nothing is divided)."""
    E = values[..., None, :] - values[..., :, None]
    n = values.shape[-1]
    E[..., range(n), range(n)] = 1
    return E


class Eigh(Function):
    r"""(L, V) = eigh(A).   With M = skew(V^T gV) / 2 / E (E_ij = L_j - L_i) and gL on M's diagonal:
    gA = V M V^T (symmetric; only V diag(gL) V^T when V gets no gradient). A first-order change dA moves
    L_i by v_i^T dA v_i and v_i towards v_j by v_j^T dA v_i / (L_i - L_j): the formula is that, transposed."""
    materialize_grads = False  # (an output without a gradient stays None: eigvalsh needs no division by E)

    def forward(self, A, UPLO="L"):
        self.UPLO = UPLO
        L, V = array_module_of(A).linalg.eigh(A, UPLO)
        self.save_for_backward(L, V)
        return L, V

    def backward(self, gL, gV):
        L, V = self.saved_tensors
        if gV is None:
            return (V * gL[..., None, :]) @ _mT(V)
        M = _skew(_mT(V) @ gV) / 2 / _off_diagonal_differences(L)
        n = L.shape[-1]
        M[..., range(n), range(n)] = 0 if gL is None else gL
        return V @ M @ _mT(V)


def _svd(A, full_matrices):
    """LAPACK's (U, S, Vh), with nan for a matrix holding an inf, as PyTorch's (the others of a batch factor)."""
    xp = array_module_of(A)
    infinite = xp.isinf(A).any((-2, -1))
    U, S, Vh = xp.linalg.svd(xp.where(infinite[..., None, None], 0, A), full_matrices=full_matrices)
    if infinite.any():
        U, S, Vh = (xp.where(infinite.reshape(infinite.shape + (1,) * k), xp.nan, X) for X, k in
                    ((U, 2), (S, 1), (Vh, 2)))
    return U, S, Vh


class Svd(Function):
    r"""(U, S, Vh) = svd(A), A of m x n, k = min(m, n).   With E_ij = S_j^2 - S_i^2,
    gA = U [(skew(U^T gU) S + S skew(Vh gVh^T)) / E + diag(gS)] Vh, plus, for m > n, (I - U U^T) gU S^{-1} Vh (the
    part of gU outside U's columns), and for m < n, U S^{-1} gVh (I - Vh^T Vh). With ``full_matrices`` only the
    first k columns of U (rows of Vh) are A's: the others are any orthonormal completion, and get no gradient."""
    materialize_grads = False

    def forward(self, A, full_matrices=True):
        U, S, Vh = _svd(A, full_matrices)
        self.k, self.m, self.n, self.full_matrices = S.shape[-1], A.shape[-2], A.shape[-1], full_matrices
        self.save_for_backward(U[..., :self.k], S, Vh[..., :self.k, :])
        return U, S, Vh

    def backward(self, gU, gS, gVh):
        U, S, Vh = self.saved_tensors
        k, m, n = self.k, self.m, self.n
        gU = None if gU is None else gU[..., :k]
        gVh = None if gVh is None else gVh[..., :k, :]
        if gU is None and gVh is None:
            return (U * gS[..., None, :]) @ Vh
        E = _off_diagonal_differences(S * S)
        inner = 0
        if gU is not None:
            inner = _skew(_mT(U) @ gU) * S[..., None, :]
        if gVh is not None:
            inner = inner + S[..., :, None] * _skew(Vh @ _mT(gVh))
        inner = inner / E
        inner[..., range(k), range(k)] = 0 if gS is None else gS
        gA = U @ inner @ Vh
        if m > n and gU is not None:
            outside = gU / S[..., None, :]
            gA = gA + (outside - U @ (_mT(U) @ outside)) @ Vh
        if m < n and gVh is not None:
            outside = gVh / S[..., :, None]
            gA = gA + U @ (outside - (outside @ _mT(Vh)) @ Vh)
        return gA


class Qr(Function):
    r"""(Q, R) = qr(A), A of m x n.   For m >= n, with M = R gR^T - gQ^T Q:
    gA = (gQ + Q copyltu(M)) R^{-T}, where copyltu(M) is the symmetric matrix with M's lower triangle (M_ij for
    i >= j, mirrored). For m < n, A = [X | Y] with X = Q R_X square: Y's gradient is Q gR_Y, and X's the formula with
    gQ + Y gR_Y^T in place of gQ."""
    materialize_grads = False

    def forward(self, A, mode="reduced"):
        xp, self.mode, self.shape = array_module_of(A), mode, A.shape[-2:]
        if mode == "r":  # (R alone; Q is empty, as PyTorch's)
            return xp.zeros((0,), A.dtype), xp.linalg.qr(A, "r")
        Q, R = xp.linalg.qr(A, mode)
        self.save_for_backward(Q, R)
        return Q, R

    def check_differentiable(self, m, n):
        """PyTorch's refusals: without Q (mode "r"), or with a Q whose last m - n columns are any completion."""
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                               "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")

    def backward(self, gQ, gR):
        self.check_differentiable(*self.shape)
        Q, R = self.saved_tensors
        xp = array_module_of(Q)
        m, n = self.shape
        gQ = xp.zeros_like(Q) if gQ is None else gQ
        gR = xp.zeros_like(R) if gR is None else gR
        if m >= n:
            return _square_or_tall(xp, Q, R, gQ, gR)
        Y, gR_Y = Q @ R[..., m:], gR[..., m:]
        gX = _square_or_tall(xp, Q, R[..., :m], gQ + Y @ _mT(gR_Y), gR[..., :m])
        return xp.concatenate([gX, Q @ gR_Y], axis=-1)


def _square_or_tall(xp, Q, R, gQ, gR):
    """The QR gradient for m >= n (R square): B R^{-T}, found as the solution X^T of R X^T = B^T."""
    M = R @ _mT(gR) - _mT(gQ) @ Q
    lower = xp.tril(M, -1)
    B = gQ + Q @ (lower + _mT(lower) + xp.tril(xp.triu(M)))
    return _mT(xp.linalg.solve(R, _mT(B)))


class Pinv(Function):
    r"""P = A^+ = Vh^T diag(1/S) U^T, the singular values at or below cut = max(atol, rtol * S_max) counted as 0
    (``hermitian``: from eigh, S = |L|, U = V, Vh = sign(L) V^T). Where A's rank does not change,
    dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, and gA is its adjoint, arranged so that every product
    is of the smaller size (PyTorch's pinv_backward). Its own gradient, not the SVD's: repeated singular values (an
    orthogonal A) are no trouble.
    """

    def forward(self, A, atol=0.0, rtol=0.0, hermitian=False):
        xp = array_module_of(A)
        if hermitian:
            L, U = xp.linalg.eigh(A)
            S, Vh = abs(L), xp.sign(L)[..., :, None] * _mT(U)
        else:
            U, S, Vh = _svd(A, full_matrices=False)
        largest = S.max(-1, keepdims=True) if S.shape[-1] else S.sum(-1, keepdims=True)
        cut = xp.maximum(rtol * largest, atol)
        kept = S > cut
        P = (_mT(Vh) * xp.where(kept, 1 / xp.where(kept, S, 1), 0)[..., None, :]) @ _mT(U)
        self.save_for_backward(A, P)
        return P.astype(A.dtype, copy=False)

    def backward(self, g):
        A, P = self.saved_tensors
        m, n = A.shape[-2:]
        gT, PT = _mT(g), _mT(P)
        if m <= n:
            K = gT @ P
            KPT = K @ PT
            return -_mT(P @ K) + KPT - (A @ P) @ KPT + (PT @ P) @ (gT - K @ A)
        K = P @ gT
        PTK = PT @ K
        return -_mT(K @ P) + (gT - A @ K) @ P @ PT + PTK - PTK @ P @ A
