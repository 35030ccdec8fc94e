"""``tinygrad_lite.backends``: the flags scripts check or set for PyTorch's backends.

``backends.mps.is_available()`` (Apple GPUs) is always False: we run on numpy, or on CuPy with ``"cuda"``.
``backends.cudnn`` takes the usual settings (``benchmark``, ``deterministic``, ``enabled``), which change nothing
here: our ops are deterministic already; so does ``backends.cuda.matmul`` (``allow_tf32``). Another name says that
it is not covered (``coverage.py``).
"""
from ..coverage import missing_names
from . import cuda, cudnn, mps

__getattr__ = missing_names(__name__)
