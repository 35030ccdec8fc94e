"""Switching gradient tracking off and on: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

While tracking is off, ops still compute their results but record no graph, so nothing can be
differentiated through them: what you want for evaluation and for updating weights by hand.
Each works as a context manager (``with no_grad():``) and as a decorator (``@no_grad()``). A decorated
generator function runs under the mode each time it resumes, and the caller's mode is back at each ``yield``,
as in PyTorch: ``@no_grad()`` on a ``def predict(batches): ... yield model(x)`` tracks nothing inside it.
"""
import functools
import inspect

_enabled = True
_inference = False  # inside inference_mode()


def is_grad_enabled():
    return _enabled


def is_inference_mode_enabled():
    """Whether code runs inside ``inference_mode()`` (and not inside an ``inference_mode(False)`` in it)."""
    return _inference


def _decorate(func, mode_context):
    """``func`` run inside ``mode_context()`` (a fresh context manager each time): a function per call, a generator
    function each time its generator resumes (the caller's code between two resumptions runs in its own mode)."""
    if not inspect.isgeneratorfunction(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with mode_context():
                return func(*args, **kwargs)
        return wrapper

    @functools.wraps(func)
    def generator(*args, **kwargs):
        inner = func(*args, **kwargs)
        resume = functools.partial(inner.send, None)  # how to go on: the first step, then each send or throw
        while True:
            with mode_context():
                try:
                    value = resume()
                except StopIteration as stop:
                    return stop.value
            try:
                sent = yield value
            except GeneratorExit:  # the caller closes the generator: its finally blocks run in the mode too
                with mode_context():
                    inner.close()
                raise
            except BaseException as error:  # noqa: BLE001 (what the caller threw in: raised inside)
                resume = functools.partial(inner.throw, error)
            else:
                resume = functools.partial(inner.send, sent)
    return generator


class set_grad_enabled:
    """Set tracking on or off. Takes effect at once, and as a context manager restores the old mode on exit."""

    def __init__(self, mode):
        global _enabled
        if not isinstance(mode, (bool, int)) and getattr(mode, "ndim", 0) != 0:
            raise TypeError(f"set_grad_enabled(): mode must be True or False, got {type(mode).__name__}")
        self.mode = bool(mode)
        self.prev, _enabled = _enabled, self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self.prev

    def __call__(self, func):
        """As a decorator (``@set_grad_enabled(False)``): undo the switch made when it was made, apply it per call."""
        global _enabled
        _enabled = self.prev
        return _decorate(func, lambda: set_grad_enabled(self.mode))


class _GradMode:
    mode = None  # tracking inside: True or False (each subclass sets it)

    def __new__(cls, func=None):
        self = super().__new__(cls)
        return self(func) if callable(func) else self  # allow both @no_grad and @no_grad()

    def __enter__(self):
        global _enabled
        self.prev = _enabled
        _enabled = self.mode

    def __exit__(self, *exc):
        global _enabled
        _enabled = self.prev

    def _fresh(self):
        """A new context of the same mode (each call of a decorated function needs its own ``prev``)."""
        other = object.__new__(type(self))
        other.mode = self.mode
        return other

    def __call__(self, func):
        return _decorate(func, self._fresh)


class no_grad(_GradMode):
    """Record no graph inside: ``with no_grad(): w -= lr * w.grad``."""
    mode = False


class enable_grad(_GradMode):
    """Turn tracking back on inside a ``no_grad`` region."""
    mode = True


class inference_mode(_GradMode):
    """PyTorch's faster ``no_grad``; here the same as no_grad. ``inference_mode(False)`` turns tracking on (also
    inside ``no_grad``), as PyTorch's does. (PyTorch's tensors made inside inference mode also refuse autograd
    later; ours are ordinary tensors.)"""
    mode = False

    def __new__(cls, mode=True):
        if callable(mode):  # @inference_mode, without brackets
            return super().__new__(cls, mode)
        if not isinstance(mode, (bool, int)):
            raise TypeError(f"inference_mode(): mode must be True or False, got {type(mode).__name__}")
        self = super().__new__(cls)
        self.mode = not mode
        return self

    def __enter__(self):
        global _inference
        super().__enter__()
        self.prev_inference, _inference = _inference, not self.mode

    def __exit__(self, *exc):
        global _inference
        super().__exit__(*exc)
        _inference = self.prev_inference
