"""``Module``: the base class of every layer and model.

A module is a Python object that keeps three kinds of attributes in three dicts, in the order they were set:

- ``_parameters``: the Parameters it learns (a Linear's ``weight`` and ``bias``);
- ``_buffers``: tensors that are state but are not learned (a BatchNorm's ``running_mean``);
- ``_modules``: its sub-modules (the layers of a ``Sequential``).

``__setattr__`` sorts each assignment into the right dict, so ``self.fc = nn.Linear(4, 3)`` in ``__init__`` is
all it takes to register a layer. Everything else walks these dicts recursively: ``parameters()`` for the
optimizer, ``state_dict()`` to save, ``train()``/``eval()`` to switch modes, ``to()`` to convert.
Names are joined with dots along the path, so the keys are PyTorch's ("0.weight", "encoder.fc.bias") and weights
move between the two libraries.

Hooks are functions of yours that a call of the module runs around ``forward``, for looking inside a network
without changing its code: ``register_forward_pre_hook`` (before forward, may replace the input),
``register_forward_hook`` (after it, may replace the output) and ``register_full_backward_hook`` (in backward, with
the gradients with respect to the module's inputs and outputs; ``tinygrad_lite/utils/hooks.py``). Each returns a
handle whose ``remove()`` deletes the hook. They are kept in ordered dicts by the handle's id, as in PyTorch
(``_forward_hooks`` ...), and run in the order they were registered (``prepend=True`` puts one first).

The functions ``register_module_forward_hook`` (and ``_forward_pre_hook``, ``_full_backward_hook``,
``_full_backward_pre_hook``) register a hook on every module at once; those run before each module's own.

Not supported (on purpose, to stay short): ``load_state_dict(assign=True)``, ``_load_from_state_dict`` overrides,
and the old ``register_backward_hook``.
"""
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ... import dtypes as dt
from ...amp.autocast_mode import no_bfloat16
from ...autograd.hooks import add_hook as _add_hook
from ...device import cuda_device, move
from ...device import device as Device
from ...memory_formats import check_memory_format
from ...storage import SHARING
from ...tensor import Tensor
from ...utils.hooks import BackwardHook
from ..parameter import Parameter, is_lazy

_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks", "_forward_hooks_with_kwargs",
               "_forward_hooks_always_called", "_backward_pre_hooks", "_backward_hooks")
# hooks of every module (register_module_forward_hook ...): they run before each module's own
_global_forward_pre_hooks, _global_forward_hooks = OrderedDict(), OrderedDict()
_global_forward_hooks_with_kwargs, _global_forward_hooks_always_called = OrderedDict(), OrderedDict()
_global_backward_pre_hooks, _global_backward_hooks = OrderedDict(), OrderedDict()


def register_module_forward_pre_hook(hook):
    """``hook(module, args)`` before the forward of every module, before the module's own pre-hooks."""
    return _add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """``hook(module, args, output)`` after the forward of every module, before the module's own forward hooks."""
    return _add_hook(_global_forward_hooks, hook, options=[(_global_forward_hooks_with_kwargs, with_kwargs),
                                                           (_global_forward_hooks_always_called, always_call)])


def register_module_full_backward_pre_hook(hook):
    """``hook(module, grad_output)`` for every module, before the module's own backward pre-hooks."""
    return _add_hook(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    """``hook(module, grad_input, grad_output)`` for every module, before the module's own backward hooks."""
    return _add_hook(_global_backward_hooks, hook)


# PyTorch's Module methods that ours lacks on purpose, with what to write instead
_NOT_COVERED = {"register_backward_hook": ": PyTorch's old backward hook (deprecated there) is not covered; use "
                "register_full_backward_hook(hook), whose hook(module, grad_input, grad_output) gets the gradients "
                "with respect to the module's inputs and outputs"}
_NOT_COVERED.update(dict.fromkeys(  # PyTorch's other Module methods that we lack (not a learner's typo)
    ["compile", "get_extra_state", "set_extra_state", "register_load_state_dict_post_hook", "set_submodule",
     "register_load_state_dict_pre_hook", "register_state_dict_post_hook", "register_state_dict_pre_hook",
     "share_memory", "to_empty", "ipu", "mtia", "xpu"],
    ": PyTorch's Module has it, and tinygrad_lite does not cover it; its README's \"Using tinygrad_lite like "
    "PyTorch\" lists what it covers"))


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys the model wanted but did not get, and the keys it did not know."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text, spaces):
    """Indent every line but the first (how a child's repr nests inside its parent's)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _quoted(keys):
    return ", ".join(f'"{key}"' for key in keys)


def _as_numpy(value, key):
    """A state_dict value as a numpy array: ours and PyTorch's tensors (via .detach().cpu().numpy()), arrays, lists."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
    if hasattr(value, "numpy"):
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"load_state_dict: the value for {key!r} is of type {type(value).__name__} (dtype "
                        f"{array.dtype}), not numbers; a state_dict maps names to tensors or arrays")
    return array


class Module:
    """Base class for all layers and models: subclass it, create layers in ``__init__``, compute in ``forward``.

    ::

        class Net(nn.Module):
            def __init__(self):
                super().__init__()           # first: creates the dicts that attributes are registered in
                self.fc = nn.Linear(4, 3)
            def forward(self, x):
                return self.fc(x).relu()

    ``net(x)`` calls ``net.forward(x)``.
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})  # (plain dicts, as PyTorch's: model._modules prints as one)
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        for name in _HOOK_DICTS:  # hook id -> hook (or -> True: the hook takes kwargs, is always called)
            object.__setattr__(self, name, OrderedDict())

    def forward(self, *args, **kwargs):
        name = self._get_name()
        raise NotImplementedError(f'Module [{name}] is missing the required "forward" function: define '
                                  f"`def forward(self, x): ...` in class {name}; calling the model runs it")

    def __call__(self, *args, **kwargs):
        hooks = self.__dict__
        if not (hooks.get("_forward_pre_hooks") or hooks.get("_forward_hooks") or hooks.get("_backward_hooks") or
                hooks.get("_backward_pre_hooks") or _global_forward_pre_hooks or _global_forward_hooks or
                _global_backward_hooks or _global_backward_pre_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    # ---------------------------------------------------------------- hooks
    def _call_with_hooks(self, args, kwargs):
        """``module(*args, **kwargs)`` with hooks: pre-hooks, backward hooks' set-up, forward, forward hooks.

        If anything raises, the forward hooks registered with ``always_call=True`` that have not run yet run
        (with the output None), and the error goes on.
        """
        result, called = None, set()
        try:
            for hook_id, hook in [*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()]:
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    new = hook(self, args, kwargs)
                    if new is not None:
                        if not (isinstance(new, tuple) and len(new) == 2):
                            raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, "
                                               f"new_kwargs), but got {new}.")
                        args, kwargs = new
                else:
                    new = hook(self, args)
                    if new is not None:
                        args = new if isinstance(new, tuple) else (new,)
            bw_hook = None
            backward_hooks = [*_global_backward_hooks.values(), *self._backward_hooks.values()]
            backward_pre_hooks = [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]
            if backward_hooks or backward_pre_hooks:
                bw_hook = BackwardHook(self, backward_hooks, backward_pre_hooks)
                args = bw_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in [*_global_forward_hooks.items(), *self._forward_hooks.items()]:
                called.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                    new = hook(self, args, kwargs, result)
                else:
                    new = hook(self, args, result)
                if new is not None:
                    result = new
            if bw_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn(f"For backward hooks to be called, module output should be a Tensor or a tuple of "
                                  f"Tensors but received {type(result)}", stacklevel=3)
                result = bw_hook.setup_output_hook(result)
            return result
        except Exception:
            for hook_id, hook in [*_global_forward_hooks.items(), *self._forward_hooks.items()]:
                always = hook_id in self._forward_hooks_always_called or hook_id in _global_forward_hooks_always_called
                if always and hook_id not in called:
                    try:
                        if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
                            new = hook(self, args, kwargs, result)
                        else:
                            new = hook(self, args, result)
                        result = result if new is None else new
                    except Exception as e:  # noqa: BLE001 (whatever it raised: the error of forward goes on)
                        warnings.warn("module forward hook with ``always_call=True`` raised an exception that was "
                                      f"silenced as another error was raised in forward: {e}", stacklevel=3)
            raise

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before every ``forward``; ``args`` is the tuple of positional arguments.

        It may return a replacement: a tuple of arguments, or a single value that becomes ``(value,)``. With
        ``with_kwargs=True`` it is ``hook(module, args, kwargs)`` and may return ``(new_args, new_kwargs)``.
        ``prepend=True`` runs it before the hooks registered so far. Returns a ``RemovableHandle``.
        """
        return _add_hook(self._forward_pre_hooks, hook, prepend,
                              [(self._forward_pre_hooks_with_kwargs, with_kwargs)])

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call ``hook(module, args, output)`` after every ``forward``; a value it returns replaces the output.

        With ``with_kwargs=True`` it is ``hook(module, args, kwargs, output)``. ``always_call=True``: it runs even
        if forward (or a hook before it) raises, with output None. ``prepend=True`` runs it before the hooks
        registered so far. Returns a ``RemovableHandle``.
        """
        return _add_hook(self._forward_hooks, hook, prepend, [(self._forward_hooks_with_kwargs, with_kwargs),
                                                                   (self._forward_hooks_always_called, always_call)])

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when backward has computed the gradients with respect to
        the module's positional inputs; it may return a tuple to use as ``grad_input`` instead.

        ``grad_input`` and ``grad_output`` are tuples, one entry per positional argument and per output, None
        where that is not a Tensor. If no input requires grad, the hook runs when the gradients with respect to
        the outputs are known, with ``grad_input`` all None. The module's forward receives (and its caller gets)
        an identity view of each tensor that requires grad, as in PyTorch: changing one in place raises. Returns a
        ``RemovableHandle``. How it works: ``tinygrad_lite/utils/hooks.py``.
        """
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when backward has computed the gradients with respect to the
        module's outputs, before those with respect to its inputs; it may return a tuple to use as ``grad_output``.
        Returns a ``RemovableHandle``."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    # ---------------------------------------------------------------- registering attributes
    def _check_init(self, name):
        if "_parameters" not in self.__dict__:
            cls = self._get_name()
            raise AttributeError(f"{cls}: cannot assign {name!r} before Module.__init__() has run; call "
                                 f"super().__init__() as the first line of {cls}.__init__")

    def _check_name(self, kind, name, store):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r} (dots join names in state_dict '
                           "keys)")
        if hasattr(self, name) and name not in store:  # re-registering in the same dict is fine
            raise KeyError(f"attribute {name!r} already exists on {self._get_name()}; pick another name")

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for "no such parameter", like ``Linear(bias=False)``)."""
        self._check_init(name)
        self._check_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' (nn.Parameter or "
                            f"None required); wrap it: nn.Parameter(t), or to change the values of an existing "
                            f"parameter: with tl.no_grad(): module.{name}.copy_(t)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a tensor that is state but not learned. ``persistent=False`` leaves it out of ``state_dict``."""
        self._check_init(name)
        self._check_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None "
                            "required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Register a sub-module under ``name`` (what ``self.name = module`` does)."""
        self._check_init(name)
        if module is not None and not isinstance(module, Module):
            hint = ""
            if isinstance(module, type) and issubclass(module, Module):
                hint = f"; that is the class, did you mean {module.__name__}() (an instance)?"
            elif isinstance(module, (list, tuple)):
                hint = "; to pass a list of layers, unpack it: nn.Sequential(*layers)"
            elif callable(module):  # F.relu: its module is nn.ReLU
                from ... import nn  # (here: nn imports this module)
                function = getattr(module, "__name__", "")
                layer = next((c for c in dir(nn) if c.lower() == function.replace("_", "").lower()
                              and isinstance(getattr(nn, c), type)), None)
                hint = (f"; {function} is a function, and a model holds modules: use nn.{layer}()" if layer else
                        "; a function is not a module: call it in a Module's forward")
            raise TypeError(f"{self._get_name()}: {name!r} must be a Module or None, got "
                            f"{type(module).__name__}{hint}")
        self._check_name("module", name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params, modules, buffers = (self.__dict__.get(k) for k in ("_parameters", "_modules", "_buffers"))
        if isinstance(value, Parameter):
            self._check_init(name)
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' (nn.Parameter or None "
                                f"expected); to change its values: with tl.no_grad(): module.{name}.copy_(t)")
            params[name] = None
        elif isinstance(value, Module):
            self._check_init(name)
            self._forget(name, keep="_modules")
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or None "
                                "expected)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove ``name`` from the other dicts before it is (re)registered in ``keep``, where it keeps its place."""
        for store in ("__dict__", "_parameters", "_buffers", "_modules"):
            if store != keep:
                getattr(self, store).pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):  # called only when normal lookup fails
        for store in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(store)
            if found is not None and name in found:
                return found[name]
        hint = _NOT_COVERED.get(name, "")  # (name and obj: Python adds its "Did you mean" for a typo)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'{hint}", name=name, obj=self)

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # ---------------------------------------------------------------- walking the tree
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every module inside it, depth first; this one's name is ``prefix``."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self, remove_duplicate=True):
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def get_submodule(self, target):
        """The module at the dotted path ``target``, as named by ``named_modules`` ("encoder.0"; "" is this module
        itself), as ``torch.nn.Module.get_submodule``."""
        if not isinstance(target, str):
            raise TypeError(f"get_submodule: target must be a dotted path (a str) such as 'encoder.0', got "
                            f"{type(target).__name__} {target!r:.40}")
        module = self
        for item in target.split(".") if target else []:
            if item not in module._modules and not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}` (get_submodule({target!r}); "
                                     f"its submodules: {', '.join(module._modules) or 'none'})")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module (get_submodule({target!r}): it is a "
                                     f"{type(module).__name__})")
        return module

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` ("encoder.0.weight"), as ``torch.nn.Module.get_parameter``;
        an AttributeError names what is missing or what the name is instead."""
        return self._get_member(target, "_parameters", "an nn.Parameter", "get_parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` ("bn.running_mean"), as ``torch.nn.Module.get_buffer``."""
        return self._get_member(target, "_buffers", "a buffer", "get_buffer")

    def _get_member(self, target, store, kind, op):
        if not isinstance(target, str):
            raise TypeError(f"{op}: target must be a dotted path (a str) such as 'encoder.0.weight', got "
                            f"{type(target).__name__} {target!r:.40}")
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}` ({op}({target!r}); its "
                                 f"{store[1:]}: {', '.join(getattr(module, store)) or 'none'})")
        if name not in getattr(module, store):
            raise AttributeError(f"`{name}` is not {kind} ({op}({target!r}): it is a "
                                 f"{type(getattr(module, name)).__name__})")
        return getattr(module, name)

    def named_children(self):
        """(name, module) for the direct sub-modules only."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        """(dotted name, tensor) for the tensors in one of the dicts, of this module and (recurse) its sub-modules.

        A tensor shared by two modules (tied weights) is listed once, under its first name.
        """
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(name, parameter) pairs, e.g. ("0.weight", ...), in registration order."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter, each once: what you hand to an optimizer."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ---------------------------------------------------------------- saving and loading
    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """An OrderedDict from dotted names to tensors: this module's parameters, then its persistent buffers,
        then each sub-module's, recursively. The tensors are detached but share memory with the model (as in
        PyTorch): copy them (or save them) if the model will keep training. ``keep_vars=True`` gives the
        Parameters themselves.
        """
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars or is_lazy(param) else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars or is_lazy(buffer) else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the values in ``state_dict`` into this model's parameters and buffers, in place.

        The values may be our tensors, PyTorch tensors, numpy arrays or nested lists, so
        ``model.load_state_dict(torch_model.state_dict())`` works. Each value is converted to the dtype of the
        tensor it lands in. With ``strict=True`` every key must match; either way every shape must match.
        Returns ``(missing_keys, unexpected_keys)``.

        ``assign=True`` (as PyTorch's) puts the state_dict's tensors themselves into the model instead of copying
        their numbers: the model's tensors then share memory with them and take their dtype. A parameter stays a
        Parameter (wrapping the given tensor) and keeps its own ``requires_grad``. The values must be our Tensors.

        Deliberate difference: we check everything before copying anything, so a failed load leaves the model as
        it was (PyTorch may have copied some tensors before it raises).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict-like state_dict, got {type(state_dict).__name__}; "
                            "did you pass the model instead of model.state_dict()?")
        own = self.state_dict(keep_vars=True)
        # a batch norm's num_batches_tracked may be absent (older checkpoints, a dict rebuilt key by key): PyTorch's
        # batch norm then keeps its own count, and so does ours
        missing = [key for key in own if key not in state_dict and key.rpartition(".")[2] != "num_batches_tracked"]
        unexpected = [key for key in state_dict if key not in own]
        # in PyTorch's order: module by module from the root, a key with the deepest module its prefix names
        prefixes = [name + "." if name else "" for name, _ in self.named_modules()]
        unexpected.sort(key=lambda key: max((i for i, p in enumerate(prefixes) if key.startswith(p)),
                                            key=lambda i: len(prefixes[i])))
        errors, copies = [], []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _as_numpy(state_dict[key], key)
            if is_lazy(target):  # a lazy layer's parameter before its first forward takes the checkpoint's shape
                if value.shape != (0,):  # (saved before its own first forward: it stays uninitialized)
                    copies.append((key, target, value))
            elif value.shape != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                              f"the shape in current model is {tuple(target.shape)}.")
            elif assign and not isinstance(state_dict[key], Tensor):
                errors.append(f"While copying the parameter named {key!r}, expected a tinygrad_lite Tensor from the "
                              f"checkpoint but received {type(state_dict[key]).__name__}: assign=True puts the "
                              "tensor itself into the model; convert it with tinygrad_lite.tensor(...), or load "
                              "without assign (which copies the numbers)")
            else:
                copies.append((key, target, value))
        if strict:
            if unexpected:
                errors.insert(0, f"Unexpected key(s) in state_dict: {_quoted(unexpected)}. ")
            if missing:
                errors.insert(0, f"Missing key(s) in state_dict: {_quoted(missing)}. ")
        if errors:
            hint = ("The checkpoint was saved from a different architecture: build the model with the same layers and "
                    "sizes" + (", or pass strict=False to load only the keys that match." if strict else "."))
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}\n{}".format(
                self._get_name(), "\n\t".join(errors), hint))
        for key, target, value in copies:
            if assign:
                owner, _, name = key.rpartition(".")
                new = state_dict[key]
                if isinstance(target, Parameter) and isinstance(new, Parameter):
                    new.requires_grad_(target.requires_grad)
                elif isinstance(target, Parameter):
                    new = Parameter(new, requires_grad=target.requires_grad)  # (shares the given tensor's memory)
                setattr(self.get_submodule(owner), name, new)
            else:
                if is_lazy(target):
                    target.materialize(value.shape)
                target.array[...] = move(value.astype(target.array.dtype, copy=False), target.device)
                target._bump_version()  # an in-place change: a backward still pending on the old weights will raise
        return _IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- modes and gradients
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and in every sub-module."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``. Dropout becomes the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    def compile(self, *args, **kwargs):
        """``torch.compile`` in place (``model.compile()``): its arguments are checked, and the module runs as it
        is; there is no compiler here (``compiler.py``)."""
        from ...compiler import compile  # (here: compiler.py builds on this module)
        compile(self.forward, *args, **kwargs)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient tracking of every parameter on or off (off: freeze the layer)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter: set ``.grad`` to None (default) or fill it with zeros."""
        for param in self.parameters():
            if param.grad is not None:
                if set_to_none:
                    param.grad = None
                else:  # (cut from the graph first, as PyTorch: a .grad made with create_graph=True has one)
                    param.grad.detach_().zero_()

    # ---------------------------------------------------------------- conversion
    def to(self, *args, **kwargs):
        """Convert parameters and buffers in place: ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(t)``.

        Only floating point tensors change dtype (``num_batches_tracked`` stays int64). The Parameter objects stay
        the same, so an optimizer made before ``to`` still holds them. Returns ``self``.
        """
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        check_memory_format("to", kwargs.pop("memory_format", None))  # (every tensor here is row-major)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            elif not isinstance(arg, bool):  # a bool is to()'s positional non_blocking flag
                dtype = arg
        if dtype is not None:
            dtype = dt.as_dtype(dtype)
            if not dtype.is_floating_point:
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}; "
                                "use model.float() or model.double()")
        device = None if device is None else Device(device)

        def convert(array):
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype.np, copy=False)
            return array if device is None else move(array, device)
        return self._apply(convert)

    def _apply(self, fn):
        """Replace the array of every parameter (and its gradient) and every buffer by ``fn(array)``."""
        for param in self.parameters():
            param.array = fn(param.array)
            if param.grad is not None:
                param.grad.array = fn(param.grad.array)
        for buffer in self.buffers():
            buffer.array = fn(buffer.array)
        return self

    def float(self):
        return self.to(dt.float32)

    def double(self):
        return self.to(dt.float64)

    def half(self):
        """Floating point parameters and buffers to float16 (``num_batches_tracked`` stays int64)."""
        return self.to(dt.float16)

    def bfloat16(self):
        """Refused: numpy has no bfloat16 (``amp/autocast_mode.py``)."""
        raise RuntimeError(no_bfloat16("Module.bfloat16()", "Use model.half() for float16, or keep float32 and run "
                                       "the forward pass inside autocast(device, dtype=tl.float16)."))

    def type(self, dst_type):
        """Every parameter and buffer converted with ``Tensor.type(dst_type)`` (a dtype, or a legacy type such as
        ``torch.DoubleTensor`` or its name), integer buffers too, as in PyTorch; the Parameter objects stay."""
        if dst_type is None:
            raise TypeError("Module.type(): dst_type must be a dtype (torch.float64) or a tensor type "
                            "(torch.DoubleTensor, \"torch.DoubleTensor\"), not None")

        def convert(array):
            return Tensor._make(array, None).type(dst_type).array
        if convert(np.zeros(0, np.float32)).dtype.kind != "f" and any(p.requires_grad for p in self.parameters()):
            raise RuntimeError(f"Module.type({dst_type!r}): parameters that require grad must stay floating point "
                               "(PyTorch refuses this too); use model.float(), model.double() or model.half()")
        return self._apply(convert)

    def share_memory(self):
        """Refused: PyTorch moves the parameters to shared memory so that several processes train one model
        (Hogwild!); here another process would get a copy, and the processes' training would never meet."""
        raise NotImplementedError(SHARING)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(cuda_device(device))

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module (children first) and then on self, e.g. a custom init."""
        if not callable(fn):
            raise TypeError(f"Module.apply: fn must be a function that takes a module, such as def init(m): ... "
                            f"(model.apply(init)), got {type(fn).__name__} {fn!r:.40}")
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---------------------------------------------------------------- printing
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text inside the parentheses of this module's repr, e.g. "in_features=4, out_features=3, bias=True"."""
        return ""

    def __repr__(self):
        extra_lines = self.extra_repr().split("\n") if self.extra_repr() else []
        child_lines = [f"({name}): {_addindent(repr(module), 2)}" for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
