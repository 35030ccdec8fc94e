"""What every lesson's checks share: building inputs, writing wrong versions, and the answer kinds.

Import style in a lesson module (``lessonNN.py``)::

    import numpy as np

    from ... import tensor                      # the library, relative like this
    from ..checks import Case, Exercise, register
    from ._common import ArrayAnswer, TensorAnswer, _f32, _mistake, _np

Inputs are float32 tensors made by ``_f32`` (as the notebooks make them); wrong versions are written with
tensor ops or numpy, wrapped in ``_mistake`` so that a wrong formula may overflow without printing warnings.
"""
import numpy as np

from ... import tensor
from ..answers import AnyAnswer, ArrayAnswer, NumberAnswer, Run, RunAnswer, TensorAnswer, TupleAnswer
from ..checks import Mistake

__all__ = ["AnyAnswer", "ArrayAnswer", "NumberAnswer", "Run", "RunAnswer", "TensorAnswer", "TupleAnswer", "_classes",
           "_f32", "_f64", "_mistake", "_np"]


def _f32(a):
    """A float32 tinygrad_lite Tensor of ``a`` (a nested list, a numpy array or a number)."""
    return tensor(np.asarray(a, dtype=np.float32))


def _f64(a):
    """A float64 numpy array of ``a`` (a Tensor, which may require grad, or anything numpy takes)."""
    return _np(a)


def _np(a):
    """``a`` as a float64 numpy array: a Tensor (detached first), or anything numpy takes."""
    if hasattr(a, "detach") and hasattr(a, "numpy"):
        a = a.detach().numpy()
    return np.asarray(a, dtype=np.float64)


def _classes(a):
    """An int64 Tensor of class indices."""
    return tensor(np.asarray(a, dtype=np.int64))


def _mistake(wrong, hint, more=()):
    """A Mistake whose wrong answer is computed without numpy's warnings (a wrong formula may overflow or divide
    0 by 0). ``hint`` names the concept; ``more`` is the more concrete hint for when the mistake comes back."""
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return wrong(*args, **kwargs)
    return Mistake(quiet, hint, more)
