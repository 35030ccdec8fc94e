"""Tensor hooks: a function of yours that backward calls with a tensor's gradient, and may replace it with.

``y.register_hook(hook)`` asks the engine to call ``hook(grad)`` when it has computed dL/dy, the whole of it (every
consumer of y has added its share). A hook that returns None only looks (to log a gradient's norm, say); one that
returns a Tensor replaces the gradient, and the engine goes on with the new one: on a leaf, before it is added into
``.grad``; on the result of an op, before that op's backward sends it further down and before ``retain_grad``
keeps it. Several hooks run in the order they were registered, each given what the one before returned.

Registering returns a ``RemovableHandle``: ``handle.remove()`` deletes the hook from the tensor's
``_backward_hooks`` dict, so that nothing keeps the function (and whatever its closure holds) alive any more;
``with x.register_hook(h):`` removes it when the block ends. Modules use the same handle for their hooks
(``nn.Module.register_forward_hook`` ...); PyTorch's is ``torch.utils.hooks.RemovableHandle``, which
``tinygrad_lite.utils.hooks`` exports too.

A hook must keep the gradient's shape, dtype and device: anything else would break the ops below it, so the engine
raises (PyTorch: "hook 'h' has changed the size of value").
"""
import weakref
from collections import OrderedDict

import numpy as np

from ..device import device_of, same_device
from . import function


class RemovableHandle:
    """What registering a hook returns: ``remove()`` deletes the hook, once; a context manager, too.

    It refers to the dict of hooks weakly, so a handle kept after its tensor or module is gone keeps nothing alive.
    The hook's key, ``handle.id``, counts up over the whole program, so that a key is never reused. ``extra_dict``:
    dicts (or one) that note options of the same hook by its key (``with_kwargs``); ``remove()`` deletes it there too.
    """
    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extra = [extra_dict] if isinstance(extra_dict, dict) else extra_dict or []
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def remove(self):
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def add_hook(hooks, hook, prepend=False, options=()):
    """Register ``hook`` in the dict ``hooks`` (before the others with ``prepend``) and in each dict of ``options``
    (dict, flag) whose flag is set: a module's and an optimizer's hooks. Returns its ``RemovableHandle``."""
    handle = RemovableHandle(hooks, extra_dict=[d for d, _ in options])
    hooks[handle.id] = hook
    for store, flag in options:
        if flag:
            store[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_tensor_hook(tensor, hook):
    """``tensor.register_hook(hook)``: add ``hook`` to the tensor's hooks, after those registered before."""
    if not tensor._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient: backward never computes "
                           "its gradient. Register it on a tensor with requires_grad=True, or on the result of an op "
                           "on one")
    if tensor._backward_hooks is None:
        tensor._backward_hooks = OrderedDict()
    handle = RemovableHandle(tensor._backward_hooks)
    tensor._backward_hooks[handle.id] = hook
    return handle


def hook_name(hook):
    return getattr(hook, "__name__", type(hook).__name__)


def checked_gradient(hook, result, grad, what):
    """The array of the gradient ``result`` that ``hook`` returned in place of ``grad`` (an array), after checking
    that it can stand in for it. ``what`` names the tensor, for the error."""
    if not isinstance(result, function.Tensor):
        raise TypeError(f"hook '{hook_name(hook)}' returned a value of type {type(result).__name__}; a hook returns "
                        f"None (to keep the gradient of {what}) or a Tensor to use instead")
    changed = ("size" if result.array.shape != grad.shape else "type" if result.array.dtype != grad.dtype else
               "device" if not same_device(result.array, grad) else None)
    if changed:
        on = ("", "") if changed != "device" else (f" on {device_of(result.array)}", f" on {device_of(grad)}")
        raise RuntimeError(f"hook '{hook_name(hook)}' has changed the {changed} of value: it returned a gradient of "
                           f"shape {tuple(result.array.shape)} and dtype {result.array.dtype}{on[0]} for {what}, "
                           f"whose gradient has shape {tuple(grad.shape)} and dtype {grad.dtype}{on[1]}; return a "
                           "tensor like the gradient it was given")
    return result.array


def run_tensor_hooks(tensor, grad, held):
    """Run ``tensor``'s hooks on its gradient ``grad`` (an array, or a Tensor when the graph of the backward is
    recorded), in order; return the gradient to go on with.

    The hooks may have kept the gradient they were given, so it joins ``held``: the engine then copies it before
    making it a ``.grad`` that later backward calls add into in place (the hook's copy would change with it).
    """
    recorded = isinstance(grad, function.Tensor)  # (create_graph=True: the gradient is a Tensor of the graph)
    grad = np.asarray(grad) if isinstance(grad, np.generic) else grad  # (numpy made a 0-d gradient a scalar)
    for hook in list(tensor._backward_hooks.values()):  # (a hook may remove itself)
        result = hook(grad if recorded else function.Tensor._make(grad, None))
        if result is not None:
            checked = checked_gradient(hook, result, getattr(grad, "array", grad), f"a tensor of shape "
                                       f"{tuple(tensor.shape)}")
            grad = result if recorded else checked
    held.add(id(grad))
    return grad
