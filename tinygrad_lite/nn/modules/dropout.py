"""``Dropout``: randomly zero values during training, so that the network cannot rely on any single one.
``Dropout1d``, ``2d`` and ``3d`` zero whole channels instead (``F.dropout2d``)."""
from .. import functional as F
from .module import Module


class Dropout(Module):
    """In training, zero each value with probability ``p`` and scale the rest by 1/(1-p) (inverted dropout, so the
    expected value is unchanged); in eval mode, the identity. See ``F.dropout`` for the math.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_dropout_p(p, type(self).__name__)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """In training, zero each channel of each example (N, C, L) with probability ``p``, scale the rest by 1/(1-p)."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """In training, zero each channel of each image (N, C, H, W) with probability ``p``, scale the rest by
    1/(1-p)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """In training, zero each channel of each volume (N, C, D, H, W) with probability ``p``."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)
