"""The course machinery: exercise checks for learners, lesson release and notebook checking for instructors.

In a lesson: ``from tinygrad_lite.course import check, use``. On a hosted notebook, ``copy_lessons(DEST)`` writes
the lesson notebooks into a folder (``tinygrad-lite lessons DEST``). The library never imports this package.
"""
from .answers import AnyAnswer, ArrayAnswer, NumberAnswer, TensorAnswer, TupleAnswer
from .checks import (
           Case,
           CheckResult,
           ErrorHint,
           Exercise,
           Mistake,
           check,
           compare_log,
           is_fallback,
           register,
           use,
           whose,
)
from .graph import draw_graph
from .lessons import copy_lessons, stored_gpu_results
from .pytorch import register as _register_pytorch_cells
from .pytorch import tensorboard_installed
from .syntax import register as _register_syntax_errors

# In a notebook (IPython), two hooks on the cells before they run: a cell marked "# needs PyTorch" says how to
# install it when it is missing (pytorch.py); an exercise cell that does not parse shows its error once and leaves
# a stand-in that says so, instead of NameErrors in the cells after it (syntax.py).
_register_pytorch_cells()
_register_syntax_errors()

__all__ = ["AnyAnswer", "ArrayAnswer", "Case", "CheckResult", "ErrorHint", "Exercise", "Mistake", "NumberAnswer",
           "TensorAnswer", "TupleAnswer", "check", "compare_log", "copy_lessons", "draw_graph", "is_fallback",
           "register", "stored_gpu_results", "tensorboard_installed", "use", "whose"]
