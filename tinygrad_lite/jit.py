r"""``tinygrad_lite.jit``: what ``torch.jit`` is in eager mode, for the model code that uses it.

TorchScript compiles a model into a form that runs without Python; tinygrad_lite has no such compiler, so
``jit.script``, ``jit.trace``, ``jit.save`` and ``jit.load`` refuse, saying what to do instead (run the model as it
is; save its ``state_dict``). But model code written for TorchScript still runs in eager PyTorch, and its markers
mean the same here:
- ``is_scripting()`` and ``is_tracing()`` are False (nothing is being compiled);
- ``@ignore``, ``@ignore(drop=True)``, ``@unused``, ``@export`` and ``script_if_tracing`` leave a function as it is
  (they only tell the compiler what to skip or keep);
- ``annotate(type, value)`` is ``value``; ``Final`` is ``typing.Final``;
- ``fork(f, *args)`` runs ``f`` at once and returns a finished ``Future`` (``wait(future)`` gives its value), as
  eager PyTorch does;
- ``isinstance(obj, List[int])`` checks a container and what it holds, as TorchScript's refinement does (a bare
  ``list`` must say what it contains).
"""
import builtins
import types
import typing
import warnings

__all__ = ["is_scripting", "is_tracing", "ignore", "unused", "export", "annotate", "Final", "fork", "wait", "Future",
           "isinstance", "script_if_tracing", "script", "trace", "save", "load", "freeze", "optimize_for_inference"]

Final = typing.Final


def is_scripting():
    """False: nothing is compiled here (PyTorch's is True only inside ``jit.script``)."""
    return False


def is_tracing():
    """False: nothing is traced here."""
    return False


def ignore(drop=False, **kwargs):
    """``@ignore`` or ``@ignore(drop=True)``: the function as it is (the compiler would leave it to Python)."""
    if callable(drop):
        return drop
    if not isinstance(drop, bool):
        raise RuntimeError(f"Argument to @torch.jit.ignore must be a bool or a function but got {drop}")
    return lambda function: function


def unused(fn):
    """``@unused``: the function as it is (the compiler would replace it by an exception)."""
    return fn


def export(fn):
    """``@export``: the method as it is (the compiler would compile it too)."""
    return fn


def script_if_tracing(fn):
    """The function as it is (it would be scripted only while tracing)."""
    return fn


def annotate(the_type, the_value):
    """``the_value`` (the type is for the compiler)."""
    return the_value


class Future:
    """The result of ``fork``, already finished: ``wait()``, ``value()``, ``done()``, ``then(callback)``."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    value = wait

    def done(self):
        return True

    def then(self, callback):
        return Future(callback(self))


def fork(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` now and return a finished ``Future`` of its result, as eager PyTorch does (with
    its deprecation warning)."""
    warnings.warn("`torch.jit.fork` is deprecated. Please use `torch.compile` instead.", DeprecationWarning,
                  stacklevel=2)
    return Future(func(*args, **kwargs))


def wait(future):
    """The value of a ``Future`` from ``fork``."""
    if not builtins.isinstance(future, Future):
        raise TypeError(f"wait(): argument 'future' must be the Future that fork returns, not {type(future).__name__}")
    warnings.warn("`torch.jit.wait` is deprecated. Please use `torch.compile` instead.", DeprecationWarning,
                  stacklevel=2)
    return future.wait()


def isinstance(obj, target_type):
    """Whether ``obj`` is of ``target_type``, containers checked with what they hold: ``List[int]``,
    ``Dict[str, Tensor]``, ``Tuple[int, str]``, ``Optional[Tensor]``."""
    origin, arguments = typing.get_origin(target_type), typing.get_args(target_type)
    if target_type in (list, dict, tuple) or (origin in (list, dict, tuple) and not arguments):
        name = getattr(target_type, "_name", None) or target_type.__name__
        if dict in (target_type, origin):
            raise RuntimeError(f"Attempted to use {name} without contained types. Please add contained type, e.g. "
                               f"{name}[int, int]")
        raise RuntimeError(f"Attempted to use {name} without a contained type. Please add a contained type, e.g. "
                           f"{name}[int]")
    if origin is None:
        return builtins.isinstance(obj, target_type)
    if origin in (typing.Union, types.UnionType):
        return any(isinstance(obj, option) if option is not type(None) else obj is None for option in arguments)
    if not builtins.isinstance(obj, origin):
        return False
    if origin is list:
        return all(isinstance(item, arguments[0]) for item in obj)
    if origin is dict:
        return all(isinstance(k, arguments[0]) and isinstance(v, arguments[1]) for k, v in obj.items())
    if origin is tuple:
        return len(obj) == len(arguments) and all(isinstance(item, kind) for item, kind in zip(obj, arguments))
    return True


def _not_covered(name):
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"jit.{name}: TorchScript (a model compiled to run without Python) is not covered by tinygrad_lite. Run "
            "the model as it is (eager, as jit.script's result would behave), and to keep or ship a model save its "
            "state_dict with tinygrad_lite.save (torch.save) and load it into the same class")
    refuse.__name__ = name
    return refuse


script, trace, save, load, freeze, optimize_for_inference = (_not_covered(name) for name in (
    "script", "trace", "save", "load", "freeze", "optimize_for_inference"))
