"""``torch.compile`` and ``torch.compiler``, for the scripts that call them: there is no compiler here.

PyTorch's ``torch.compile(model)`` traces the model's Python into graphs and generates fused kernels for them; the
numbers stay the same (within rounding) and the speed changes. tinygrad_lite has no compiler: every op runs as
it is called, as PyTorch's ``backend="eager"`` runs them. So ``compile`` checks its arguments as PyTorch does and
returns what PyTorch returns, without the speed:

- a Module comes back wrapped in an ``OptimizedModule`` that calls it, whose state_dict keys start with
  ``_orig_mod.`` as a compiled PyTorch model's do (scripts strip that prefix to load the weights into a plain
  model: ``k.removeprefix("_orig_mod.")``); other attributes are the model's own (``compiled.config``);
- a function comes back as a function calling it; ``compile(mode=...)`` without a model is a decorator;
- ``disable=True`` returns the model itself.
``Module.compile()`` (PyTorch's in-place form) keeps the module as it is. Deliberate difference: PyTorch keeps
``OptimizedModule`` in ``torch._dynamo.eval_frame``; it is here.
"""
import functools

from .nn.modules.module import Module

__all__ = ["compile", "is_compiling", "is_dynamo_compiling", "disable", "reset", "OptimizedModule", "InvalidBackend"]

MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs", "tvm", "openxla", "onnxrt")  # (PyTorch's list_backends)


class InvalidBackend(RuntimeError):
    """A backend name that PyTorch does not know (PyTorch's ``torch._dynamo.exc.InvalidBackend``)."""


class OptimizedModule(Module):
    """``compile(model)``: calls ``model`` (kept as ``_orig_mod``, a submodule, hence the state_dict keys). Like
    PyTorch's, it is a window onto the model: reading, setting or deleting an attribute (``training`` too) acts on
    the model's, so that ``compiled.use_cache = True`` or ``compiled.head = nn.Linear(...)`` change the model."""

    def __init__(self, mod):
        super().__init__()
        del self.__dict__["training"]  # (the model's mode is its mode)
        self._orig_mod = mod

    def __setattr__(self, name, value):
        if name == "_orig_mod" or "_orig_mod" not in self._modules or hasattr(type(self), name):
            return super().__setattr__(name, value)
        setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if name in self.__dict__ or name in self._parameters or name in self._buffers or name in self._modules:
            return super().__delattr__(name)
        delattr(self._orig_mod, name)

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "_orig_mod":
                raise
            return getattr(self._orig_mod, name)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None, name=None,
            disable=False, **kwargs):
    """``torch.compile``: ``model`` as PyTorch's compile returns it, run eagerly (module docstring)."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if isinstance(backend, str) and backend not in BACKENDS:
        raise InvalidBackend(f"Invalid backend: {backend!r}, see `torch._dynamo.list_backends()` for available "
                             f"backends (tinygrad_lite has no compiler: every backend runs eagerly).")
    if model is None:  # @compile(mode=...): a decorator
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, name=name, disable=disable, **kwargs)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided (compile's model: a "
                             "Module or a function).")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return model(*args, **kwargs)
    return compiled


def is_compiling():
    """False: nothing here is ever being traced by a compiler."""
    return False


is_dynamo_compiling = is_compiling


def disable(fn=None, recursive=True, *, reason=None):
    """``@torch.compiler.disable``: keeps a function out of compilation; here every function is, so it is returned."""
    return (lambda f: f) if fn is None else fn


def reset():
    """Forget compiled code: there is none."""
