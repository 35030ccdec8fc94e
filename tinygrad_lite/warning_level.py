"""Where a warning points: at the learner's line, not at the library's.

``warnings.warn(..., stacklevel=n)`` names the n-th frame up the stack as the place of the warning. Inside the
library that place is a few calls deep and varies with the route (``tensor()``, ``Tensor()``, ``as_tensor()`` all
reach ``as_array``), so a fixed n points at a line of ours; ``callers_level`` counts the frames up to the first one
outside tinygrad_lite instead. ``warn_once`` warns the first time only, as PyTorch's TORCH_WARN_ONCE does.
"""
import sys
import warnings

_warned = set()  # the messages warn_once has shown in this process


def callers_level():
    """The stacklevel, for a ``warnings.warn`` in the function that calls this one, that makes the warning point at
    the learner's line: the first frame outside tinygrad_lite."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tinygrad_lite"):
        frame, level = frame.f_back, level + 1
    return level


def warn_once(message):
    """A UserWarning the first time ``message`` comes up in this process, then never again (PyTorch's warnings
    for ``float(loss)`` of a tensor in the graph and ``x.T`` of a 3-D tensor come once per process too)."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, UserWarning, stacklevel=callers_level())
