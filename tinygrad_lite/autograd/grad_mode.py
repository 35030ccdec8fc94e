"""Switching gradient tracking off and on: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

While tracking is off, ops still compute their results but record no graph, so nothing can be
differentiated through them: what you want for evaluation and for updating weights by hand.
Each works as a context manager (``with no_grad():``) and as a decorator (``@no_grad()``).
"""
import functools

_enabled = True


def is_grad_enabled():
    return _enabled


class set_grad_enabled:
    """Set tracking on or off. Takes effect at once, and as a context manager restores the old mode on exit."""

    def __init__(self, mode):
        global _enabled
        if not isinstance(mode, (bool, int)) and getattr(mode, "ndim", 0) != 0:
            raise TypeError(f"set_grad_enabled(): mode must be True or False, got {type(mode).__name__}")
        self.prev, _enabled = _enabled, bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self.prev

    def __call__(self, func):
        """As a decorator (``@set_grad_enabled(False)``): undo the switch made at decoration, apply it per call."""
        global _enabled
        mode, _enabled = _enabled, self.prev

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper


class _GradMode:
    mode = None

    def __new__(cls, func=None):
        self = super().__new__(cls)
        return self(func) if callable(func) else self  # allow both @no_grad and @no_grad()

    def __enter__(self):
        global _enabled
        self.prev, _enabled = _enabled, self.mode

    def __exit__(self, *exc):
        global _enabled
        _enabled = self.prev

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with type(self)():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Record no graph inside: ``with no_grad(): w -= lr * w.grad``."""
    mode = False


class enable_grad(_GradMode):
    """Turn tracking back on inside a ``no_grad`` region."""
    mode = True


inference_mode = no_grad  # PyTorch's faster no_grad; here the two are the same
