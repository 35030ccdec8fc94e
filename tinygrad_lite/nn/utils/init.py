"""``nn.utils.skip_init``: a module made without initialising its parameters (PyTorch builds it on the "meta"
device, then gives it memory whose numbers are whatever was there), for scripts that set every parameter
themselves right after (loading weights, a custom initialisation). Here it is made as usual: its numbers are the
usual initial ones, which the script then overwrites, and nothing else differs.
"""
import inspect

from ..modules.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)``, whose parameters the caller sets (module docstring); ``device=`` as given."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
