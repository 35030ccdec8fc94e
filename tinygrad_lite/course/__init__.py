"""The course machinery: exercise checks for learners, lesson release and notebook checking for instructors.

In a lesson: ``from tinygrad_lite.course import check, use``. The library never imports this package.
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

__all__ = ["AnyAnswer", "ArrayAnswer", "Case", "CheckResult", "ErrorHint", "Exercise", "Mistake", "NumberAnswer",
           "TensorAnswer", "TupleAnswer", "check", "compare_log", "draw_graph", "is_fallback", "register", "use",
           "whose"]
