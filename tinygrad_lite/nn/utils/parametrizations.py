r"""``nn.utils.parametrizations``: ``spectral_norm`` and ``weight_norm`` as parametrizations (``parametrize.py``),
and ``orthogonal`` (``orthogonal.py``).

Spectral normalisation (GANs' critics, to keep them 1-Lipschitz) divides a weight W by its largest singular value
sigma(W). sigma is estimated by power iteration: with u and v unit vectors kept between steps (buffers),

    u <- W v / ||W v||,    v <- W^T u / ||W^T u||,    sigma = u^T W v,

one iteration per training forward pass (15 when registered, so that the first estimate is already good). u and v
are constants for the gradient, as in PyTorch: the gradient of W / sigma flows through W in both places. A weight
of more than 2 dims is a matrix of its ``dim`` (0; 1 for transposed convolutions) by everything else.

Weight normalisation writes W = g v / ||v|| (norms over every dim but ``dim``): a length g and a direction v,
trained separately (``original0`` = g, ``original1`` = v).
"""
from ...autograd.grad_mode import no_grad
from ..functional import normalize
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize
from .orthogonal import orthogonal


def weight_as_matrix(weight, dim):
    """W as a matrix: its dim ``dim`` as the rows, every other dim flattened into the columns (both forms of
    spectral normalisation)."""
    if dim != 0:
        weight = weight.movedim(dim, 0)
    return weight.reshape(weight.shape[0], -1)


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations="
                             f"{n_power_iterations}")
        self.dim, self.eps = dim % ndim, eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = weight_as_matrix(weight, self.dim)
            rows, columns = matrix.shape
            u, v = matrix.new_empty(rows).normal_(0, 1), matrix.new_empty(columns).normal_(0, 1)
            self.register_buffer("_u", normalize(u, dim=0, eps=eps))
            self.register_buffer("_v", normalize(v, dim=0, eps=eps))
            self._power_method(matrix, 15)

    def _power_method(self, matrix, iterations):
        """``iterations`` steps of power iteration on u and v, in place (so that a state_dict holds the newest)."""
        with no_grad():
            for _ in range(iterations):
                self._u.copy_(normalize(matrix.detach().mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(matrix.detach().T.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:  # a vector: its spectral norm is its length
            return normalize(weight, dim=0, eps=self.eps)
        matrix = weight_as_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()  # (constants for the gradient)
        return weight / u.dot(matrix.mv(v))

    def right_inverse(self, value):
        return value  # (any W is its own preimage: W / sigma(W) has norm 1 whatever W's scale)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Register spectral normalisation of ``module.<name>``: every read of it gives W / sigma(W). ``dim``: the
    dim of W that counts as the rows (default 0, 1 for a transposed convolution). Returns the module."""
    weight = getattr(module, name, None)
    if weight is None or not hasattr(weight, "ndim"):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def _norm_except_dim(v, dim):
    """||v|| over every dim but ``dim`` (kept as size 1, so that it broadcasts); over all of v for dim = -1."""
    if dim == -1:
        return v.norm()
    if v.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{v.ndim}, {v.ndim - 1}], but got "
                         f"{dim})")
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return v.norm(2, dim=others, keepdim=True) if others else v.abs()


def weight_norm(module, name="weight", dim=0):
    """Register weight normalisation of ``module.<name>``: W = g v / ||v||, with g and v the parameters
    ``parametrizations.<name>.original0`` and ``original1``. Returns the module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


__all__ = ["spectral_norm", "weight_norm", "orthogonal"]
