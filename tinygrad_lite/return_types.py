"""``return_types``: the pairs ``(values, indices)`` that ``max(dim)``, ``min(dim)``, ``sort``, ``topk``,
``median(dim)``, ``mode``, ``kthvalue``, ``cummax`` and ``cummin`` return.

As ``torch.return_types``: ``x.max(dim=1)`` gives the largest values and where they are, as a named tuple with
``.values`` and ``.indices`` (it unpacks too: ``values, indices = x.max(1)``). A pair is not a tensor. An op given
one raises a TypeError that names the op and says to take ``.values`` (or ``[0]``): without that check,
``x - x.max(dim=-1, keepdim=True)`` would stack the values and the indices into one (2, ...) tensor and broadcast
it, a silently wrong result (PyTorch raises a TypeError too). Deliberate difference: ``x == x.max(1)`` raises the
same TypeError, where PyTorch compares a tensor with a tuple as unequal (False).
"""
from collections import namedtuple


def _pair(name):
    """The named tuple ``name(values, indices)``, printed as PyTorch prints its own: a field a line."""
    def __repr__(self):
        return f"tinygrad_lite.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    return type(name, (namedtuple(name, ["values", "indices"]),), {"__slots__": (), "__repr__": __repr__})


max, min, sort, topk, median, mode, kthvalue, cummax, cummin = (_pair(name) for name in (
    "max", "min", "sort", "topk", "median", "mode", "kthvalue", "cummax", "cummin"))
PAIRS = (max, min, sort, topk, median, mode, kthvalue, cummax, cummin)


def _named(name, fields):
    """A named tuple of tensors ``name(fields...)`` that is not a (values, indices) pair, printed as PyTorch's."""
    def __repr__(self):
        shown = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"tinygrad_lite.return_types.{name}(\n{shown})"
    return type(name, (namedtuple(name, fields),), {"__slots__": (), "__repr__": __repr__})


slogdet = _named("slogdet", ["sign", "logabsdet"])  # (lu.py)
cholesky_ex = _named("cholesky_ex", ["L", "info"])  # (triangular.py)
aminmax = _named("aminmax", ["min", "max"])  # (order_statistics.py, and histogram)
histogram = _named("histogram", ["hist", "bin_edges"])
linalg_eigh = _named("linalg_eigh", ["eigenvalues", "eigenvectors"])  # (factorisations.py, and the four below)
linalg_svd = _named("linalg_svd", ["U", "S", "Vh"])
svd = _named("svd", ["U", "S", "V"])
linalg_qr, qr = _named("linalg_qr", ["Q", "R"]), _named("qr", ["Q", "R"])
geqrf = _named("geqrf", ["a", "tau"])
linalg_lstsq = _named("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
linalg_lu_factor = _named("linalg_lu_factor", ["LU", "pivots"])  # (lu.py, and the five below)
linalg_lu_factor_ex = _named("linalg_lu_factor_ex", ["LU", "pivots", "info"])
linalg_lu, lu_unpack = _named("linalg_lu", ["P", "L", "U"]), _named("lu_unpack", ["P", "L", "U"])
linalg_inv_ex = _named("linalg_inv_ex", ["inverse", "info"])
linalg_solve_ex = _named("linalg_solve_ex", ["result", "info"])


def refuse_pair(x, op):
    """Raise the TypeError for one of these pairs given to ``op`` where a tensor belongs; anything else passes."""
    if isinstance(x, PAIRS):
        made_by, where = type(x).__name__, op if op.endswith(")") else f"{op}()"  # (a layer's repr ends in ")")
        raise TypeError(f"{where}: got the (values, indices) pair that {made_by}(...) returns "
                        f"(return_types.{made_by}), not a Tensor; take its .values (or [0]), e.g. "
                        f"x.{made_by}(...).values")
