r"""``Chi2(df)``: the sum of df squared standard normals, Gamma(df / 2, 1/2) (gamma.py)."""
from . import constraints
from .distribution import Distribution, broadcast_all
from .gamma import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    """Chi2(df): the sum of df squared standard normals, Gamma(df / 2, 1/2)."""
    arg_constraints = {"df": constraints.positive}
    _parameters = ("df",)

    def __init__(self, df, validate_args=None):
        df, = broadcast_all(df)
        Distribution.__init__(self, df.shape, validate_args=validate_args)  # (to check df by its own name first)
        self._check_parameter("df", df)
        super().__init__(0.5 * df, df * 0 + 0.5, validate_args=validate_args)

    df = property(lambda self: self.concentration * 2)

    def expand(self, batch_shape):
        return Chi2(self.df.expand(batch_shape), self._validate_args)
