"""``Dropout``: randomly zero values during training, so that the network cannot rely on any single one."""
from ...shapes import check_number
from .. import functional as F
from .module import Module


class Dropout(Module):
    """In training, zero each value with probability ``p`` and scale the rest by 1/(1-p) (inverted dropout, so the
    expected value is unchanged); in eval mode, the identity. See ``F.dropout`` for the math.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        check_number("Dropout", "p", p)
        F._check_dropout_p(p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
