"""``Dropout``: randomly zero values during training, so that the network cannot rely on any single one.
``Dropout1d``, ``2d`` and ``3d`` zero whole channels instead (``F.dropout2d``); ``AlphaDropout`` and
``FeatureAlphaDropout`` are the dropout of SELU networks (``F.alpha_dropout``)."""
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


class AlphaDropout(Dropout):
    """In training, set each value to SELU's saturation value with probability ``p``, then restore mean 0 and
    variance 1 with an affine map (``F.alpha_dropout``); in eval mode, the identity. For SELU networks."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(Dropout):
    """``AlphaDropout`` of whole channels (N, C, *) (``F.feature_alpha_dropout``)."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
