"""The grader's error for what the instructor gave it: a command line or an input that cannot be graded (a missing
path, an unknown lesson, a cluster with no worker that can grade). It always carries one line that names the
problem and the fix; ``tinygrad-lite grade`` prints it and exits with status 2. (A module of its own so that every
step of grading can raise it without importing the package that runs them.)"""


class UsageError(Exception):
    """A problem with the command line or its inputs (a missing path, an unknown lesson)."""
