"""The course machinery: exercise checks for learners, lesson release and notebook checking for instructors.

In a lesson: ``from tinygrad_lite.course import check, use``. The library never imports this package.
"""
from .checks import Case, CheckResult, Exercise, Mistake, check, register, use
from .graph import draw_graph

__all__ = ["Case", "CheckResult", "Exercise", "Mistake", "check", "draw_graph", "register", "use"]
