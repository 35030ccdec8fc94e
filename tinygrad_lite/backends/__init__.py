"""``tinygrad_lite.backends``: the flags scripts check or set for PyTorch's backends.

``backends.mps.is_available()`` (Apple GPUs) is always False: we run on numpy, or on CuPy with ``"cuda"``.
``backends.cudnn`` takes the usual settings (``benchmark``, ``deterministic``, ``enabled``), which change nothing
here: our ops are deterministic already.
"""
from . import cudnn, mps
