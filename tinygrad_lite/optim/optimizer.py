"""``Optimizer``: what every optimizer shares, with PyTorch's API.

An optimizer holds the parameters in ``param_groups``: a list of dicts, each with its ``"params"`` and its own
hyperparameters (``lr``, ...; the constructor's values fill in what a group leaves out). Give each layer its own
learning rate with ``SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": 1e-3}], lr=0.1)``,
and change a learning rate mid-run with ``group["lr"] = ...`` (that is what a learning-rate scheduler does).

``step()`` moves every parameter that has a gradient, following the optimizer's update rule. The rule reads
``p.grad`` and writes the new numbers into ``p``'s own array, in place, without recording a graph: so the model
(and anything else holding ``p``) sees the new values, ``p`` stays a leaf, and ``p.grad`` is left as it was.
Parameters whose ``.grad`` is None (unused in the last backward) are skipped.

What an optimizer remembers between steps (Adam's running averages, SGD's momentum) lives in ``state``, a dict
from parameter to a dict of named tensors, with PyTorch's names, so that ``state_dict()`` has PyTorch's layout::

    {"state": {0: {"step": tensor(3.), "exp_avg": tensor(...), ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

Parameters appear as their index in the order of ``param_groups``, so the dict can be loaded into a new optimizer
built over another model's parameters with the same layout (``load_state_dict``), in either library.

To write an optimizer: subclass, pass the hyperparameter ``defaults`` to ``__init__``, and write
``_update(param, group)``, which moves one parameter. The base class does the rest.

Two paths, as PyTorch's ``foreach`` switch chooses between them. The per-parameter path calls ``_update`` once per
parameter: a dozen numpy calls per parameter, whatever its size, so a model of many small tensors (biases, batch
norm's weights) spends its step in Python. The library's own optimizers also have a multi-tensor path,
``_update_many(params, group)``: the small parameters of a group (same dtype, numpy, at most ``BLOCK`` numbers) are
updated together, as one flat array (``FlatState``), with the same formula and so the same numbers, bit for bit.
``foreach=None`` (the default) and ``foreach=True`` take it, ``foreach=False`` the per-parameter path. A subclass
that writes its own ``_update`` (the optimizers learners write) always gets the per-parameter path, which calls it.

On "cuda" the multi-tensor path takes every parameter of a group, whatever its size: the group's parameters become
views of one flat array on the GPU (``FlatState``), and Adam's, AdamW's and SGD's update is one fused kernel
(``kernels/``) over all of them, in place: two kernel launches per group and step (the gradients gathered, the
update), where the per-parameter path launches a dozen per parameter. (PyTorch's ``fused=True`` does the same in its
way, with one kernel over lists of tensors.) On "cuda" the per-parameter path runs the same fused kernel once per
parameter.

Deliberate differences from PyTorch: ``fused`` and ``capturable`` are accepted and ignored; ``foreach=True`` is the
same as None (on the CPU our multi-tensor path still updates a parameter larger than ``BLOCK`` by itself:
concatenating it would cost more passes over memory than it saves); on "cuda" the parameters' arrays are views of
the group's flat array from their first step on (a tensor that shared a parameter's array before that step, such as
an earlier ``p.detach()``, keeps the old numbers; ``p`` itself, its ``.data`` and later views follow);
``differentiable=True`` raises (see ``implementation_flags``; each param_group holds these switches under PyTorch's
names, as PyTorch's do, so that state_dicts interchange); parameters must be floating point; a parameter listed
twice in a group is an error (PyTorch warns), and so is a set of parameters (its order changes between runs; PyTorch
accepts one outside a group); ``load_state_dict`` always copies the loaded tensors (PyTorch may share them with the
dict it was given) and checks that their shapes match the parameters.
"""
import contextlib
import copy
import functools
import inspect
import numbers
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from itertools import chain

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.hooks import add_hook as _add_hook
from ..device import array_module_of, device_of, is_gpu_array, move, on_device_of, same_device
from ..shapes import check_number
from ..tensor import Tensor


def check_hyperparameters(owner, **values):
    """Each hyperparameter must be a real number (``betas`` a pair of them; ``lr`` may be a one-element tensor, as in
    PyTorch), so that a string or None fails here with its name rather than in a comparison or in step()."""
    for name, value in values.items():
        if name == "betas":
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise TypeError(f"{owner}(): betas must be a pair of numbers (beta1, beta2) such as (0.9, 0.999), got "
                                f"{value!r:.60}")
            for i, beta in enumerate(value):
                check_number(owner, f"betas[{i}]", beta)
        elif not (name == "lr" and isinstance(value, Tensor) and value.numel() == 1):
            check_number(owner, name, value)


def check_at_least_0(owner, checks):
    """PyTorch's "Invalid ... value" checks: each (what, value) of ``checks`` must be >= 0."""
    for what, value in checks:
        if not 0.0 <= value:
            raise ValueError(f"{owner}: Invalid {what}: {value}; it must be >= 0")


def check_betas(owner, betas):
    """PyTorch's checks of Adam-like ``betas``: a pair, each in [0, 1)."""
    if len(betas) != 2:
        raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{owner}: Invalid beta parameter at index {i}: {beta}; each beta must be in [0, 1)")


# hooks of every optimizer (register_optimizer_step_pre_hook ...): they run before each optimizer's own
_global_step_pre_hooks, _global_step_post_hooks = OrderedDict(), OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs)`` before the ``step()`` of every optimizer (``torch.optim.optimizer``'s)."""
    return _add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` after the ``step()`` of every optimizer."""
    return _add_hook(_global_step_post_hooks, hook)


class Optimizer:
    """Base class of all optimizers: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors, or of (name, tensor) pairs (``model.named_parameters()``: the group
    keeps the names in ``"param_names"``, as PyTorch's does, and ``state_dict()`` saves them), or of dicts
    (parameter groups) each with a ``"params"`` entry of either kind;
    ``defaults`` maps each hyperparameter name to the value used where a group does not give one.
    """

    _tensor_step = False  # True in an optimizer whose state["step"] is a tensor (see _load_value)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, but got a single Tensor; "
                            "wrap it in a list: [tensor]")
        if not hasattr(params, "__iter__") or isinstance(params, (str, dict)):
            raise TypeError(f"{name}: params should be an iterable of Tensors or dicts (e.g. model.parameters()), "
                            f"got {type(params).__name__}")
        exhausted = inspect.isgenerator(params)  # a generator that is empty now may have been used up before
        groups = list(_ordered(params, name))
        if not groups:
            hint = (" model.parameters() is a generator, used up after one pass: if another optimizer or loop went "
                    "through it first, call model.parameters() again, or keep list(model.parameters())."
                    if exhausted else "")
            raise ValueError(f"{name}: optimizer got an empty parameter list; did the model create its layers "
                             f"before you called model.parameters()?{hint}")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and optional hyperparameters) to optimize.

        Useful to train a layer that was frozen so far. Missing hyperparameters take the constructor's values.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict) or "params" not in param_group:  # (PyTorch: a KeyError for a dict)
            raise (TypeError if not isinstance(param_group, dict) else KeyError)(
                f"{name}.add_param_group: expected a dict with a 'params' entry, got {param_group!r:.80}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(_ordered(params, name))
        names = [p[0] for p in params if isinstance(p, tuple) and len(p) == 2]
        if names:  # model.named_parameters(): (name, tensor) pairs; the names go to "param_names", as in PyTorch
            if len(names) != len(params):
                raise ValueError(f"{name}: all optimizer params should be with or without names, and some param "
                                 "names are missing: pass model.named_parameters() or model.parameters(), not both")
            params = [p[1] for p in params]
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (the result of an op, grad_fn="
                                 f"{p.grad_fn}); optimize the leaf you made it from, or make it a leaf with "
                                 ".detach().requires_grad_()")
            if not p.dtype.is_floating_point:
                raise TypeError(f"{name}: can only optimize floating point tensors, one of the params is {p.dtype}; "
                                "convert it with .float()")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group lists the same parameter more than once; it would be "
                             "updated twice per step. Pass each parameter once.")
        for key, default in self.defaults.items():
            param_group.setdefault(key, default)
        if self.param_groups and ("param_names" in param_group) != ("param_names" in self.param_groups[0]):
            raise ValueError(f"{name}: all optimizer param groups should be with or without names: cannot add a "
                             f"group {'with' if names else 'without'} names (named_parameters()) to groups "
                             f"{'without' if names else 'with'} them")
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group; give each parameter "
                             "to one group only")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set every ``.grad`` to None (the default), or fill it with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    if set_to_none:
                        p._grad = None
                    else:  # (cut from the graph first, as PyTorch: a .grad made with create_graph=True has one)
                        p._grad.detach_().zero_()

    def step(self, *args, **kwargs):
        """``step(closure=None)``: update every parameter that has a gradient; return ``closure()``'s result (the
        loss) if one is given.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with gradients on, before the
        update. The update itself runs under ``no_grad``. The step hooks run around it (``register_step_pre_hook``),
        seeing the arguments as they were passed: ``step(closure=f)`` gives them ``kwargs={"closure": f}``.
        """
        args = (self, *args)
        for hook in (*_global_step_pre_hooks.values(), *self._hooks("_optimizer_step_pre_hooks")):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"optimizer step pre-hook {getattr(hook, '__name__', hook)!r} must return None "
                                       f"or a tuple of (new_args, new_kwargs), but got {result!r:.60}")
                args, kwargs = result
        loss = self._step_parameters(*args[1:], **kwargs)
        for hook in (*self._hooks("_optimizer_step_post_hooks"), *_global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return loss

    def _step_parameters(self, closure=None):
        """``step()`` without its hooks: the closure, then every parameter's update."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for index, group in enumerate(self.param_groups):
                self._check_group(index, group)
                params = [p for p in group["params"] if p._grad is not None]  # (.grad's attribute: they are leaves)
                small = []  # the multi-tensor path's parameters (see the module's docstring); the others one by one
                if group.get("foreach") is not False and _has_multi_tensor_path(type(self)):
                    small = [p for p in params if packable(p)]
                together = set(map(id, small))
                for param in params:
                    if id(param) not in together:
                        state = self.state.get(param)
                        if state:  # (plain SGD keeps none)
                            _state_follows(param, state, type(self).__name__)
                        self._update(param, group)
                        param._bump_version()  # changed in place: a pending backward that saved it will raise
                if small:
                    self._update_many(small, group)  # (their state follows them when a FlatState is made)
                    for param in small:
                        param._bump_version()
        return loss

    # ---------------------------------------------------------------- hooks (PyTorch's)
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before each ``step()`` (``args`` starts with the optimizer); it may
        return a new ``(args, kwargs)``. Returns a handle: ``handle.remove()`` takes the hook off. (A subclass that
        writes its own ``step`` runs no hooks, where PyTorch wraps that step too.)"""
        return _add_hook(self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict()), hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each ``step()``. Returns a handle to remove it."""
        return _add_hook(self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict()), hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs before ``state_dict()`` builds the dict."""
        return _add_hook(self.__dict__.setdefault("_optimizer_state_dict_pre_hooks", OrderedDict()), hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs on the dict ``state_dict()`` built; it may return a new one."""
        return _add_hook(self.__dict__.setdefault("_optimizer_state_dict_post_hooks", OrderedDict()), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs before ``load_state_dict(state_dict)``; it may return a new dict."""
        return _add_hook(self.__dict__.setdefault("_optimizer_load_state_dict_pre_hooks", OrderedDict()), hook,
                         prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs after ``load_state_dict`` loaded."""
        return _add_hook(self.__dict__.setdefault("_optimizer_load_state_dict_post_hooks", OrderedDict()), hook,
                         prepend)

    def _hooks(self, name):
        """The hooks registered under ``name``, in order (none on an optimizer that never registered one)."""
        return list(self.__dict__.get(name, {}).values())

    def _check_group(self, index, group):
        """A hyperparameter set by hand between steps (``group["lr"] = ...``, as a scheduler does) must still be
        what the constructor accepts: a number (``lr`` also a one-element tensor; ``betas`` a pair of numbers). A
        string or None fails here, naming the group and the key, rather than deep inside the update rule."""
        for key, default in self.defaults.items():
            value = group.get(key, _MISSING)
            if value is default or (type(value) is float and key != "betas"):  # the usual cases, checked at once
                continue
            if value is _MISSING:
                raise KeyError(f"{type(self).__name__}.step: param_groups[{index}] has no {key!r}; every group needs "
                               f"it (the constructor's value was {default!r})")
            if key == "betas":
                good = isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_number, value))
            elif key == "lr" or _is_number(default):
                good = _is_number(value) or (key == "lr" and isinstance(value, Tensor) and value.numel() == 1)
            else:
                continue
            if not good:
                what = "a pair of numbers" if key == "betas" else "a number"
                raise TypeError(f"{type(self).__name__}.step: param_groups[{index}][{key!r}] is {type(value).__name__} "
                                f"{value!r:.40}, not {what}; set it to {what}, e.g. {default!r} (the constructor's "
                                "value)")

    def _update(self, param, group):
        """Move one parameter in place, using ``param.grad``, ``group``'s hyperparameters and ``self.state[param]``."""
        raise NotImplementedError(f"{type(self).__name__} must define _update(param, group): how one parameter moves")

    def _flat_updates(self, params, group, names, steps=True):
        """The multi-tensor path's loop, shared by the optimizers' ``_update_many``: the state of ``params`` made
        where missing (``_init_state``, when the state counts ``steps``), then for each ``FlatState`` the step count
        t (None without ``steps``) and the flat parameters and gradients, as ``(flat, t, theta, g)``; once the
        caller's loop body has updated ``theta`` (and the state arrays ``flat.flat[name]``) in place, ``theta`` is
        copied back into the parameters."""
        if steps:
            for param in params:
                if not self.state[param]:
                    self._init_state(param, group)
        for flat in self._flat_states(params, names, steps):
            t = flat.next_step() if steps else None
            theta, g = flat.gather()
            yield flat, t, theta, g
            flat.scatter()

    def _flat_states(self, params, names, steps=True):
        """``params`` (small numpy parameters of one group, their state already made) as ``FlatState`` s whose flat
        arrays hold the state entries ``names`` (and the ``step`` counters, if ``steps``): one per step count, so
        usually one. Kept between steps; made again when the parameters or their state tensors changed."""
        cache = self.__dict__.setdefault("_flat", {})
        key = (tuple(map(id, params)), tuple(names))
        flat = cache.get(key)
        if flat is not None and flat.holds(params, [self.state.get(p, {}) for p in params]):
            return [flat]
        if len(cache) > 4 * len(self.param_groups) + 4:  # (stale ones, of parameters that had no gradient once)
            cache.clear()
        alike = defaultdict(list)  # one flat array per dtype (of the parameter and of each state tensor: one set
        for p in params:           # by hand keeps its own), and per step count (the bias corrections differ)
            _state_follows(p, self.state.get(p, {}), type(self).__name__)  # (back from the GPU: its state too)
            step = checked_step(self.state[p]).array.reshape(()) if steps else None
            dtypes_of = tuple(self.state[p][name].array.dtype for name in names)
            where = (p.array.dtype, device_of(p.array), dtypes_of)
            alike[where + ((float(step), step.dtype) if steps else ())].append(p)
        flats = [FlatState(ps, [self.state.get(p, {}) for p in ps], names, steps) for ps in alike.values()]
        if any(flat.shared for flat in flats):  # (a GPU's flat arrays are the parameters: none of an older set kept)
            taken = {id(p) for p in params}
            for old_key in [k for k, old in cache.items() if taken & {id(q) for q in old.params}]:
                del cache[old_key]
        if len(flats) == 1:
            cache[key] = flats[0]
        return flats

    # ---------------------------------------------------------------- saving and loading
    def state_dict(self):
        """The optimizer's state and hyperparameters, with each parameter replaced by its index (PyTorch's layout).

        As in PyTorch, the state tensors are the optimizer's own (not copies): save the dict, or deep-copy it, if
        the optimizer keeps stepping and you need a snapshot.
        """
        for hook in self._hooks("_optimizer_state_dict_pre_hooks"):
            hook(self)
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)] if isinstance(p, Tensor) else p: dict(s) for p, s in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._hooks("_optimizer_state_dict_post_hooks"):
            result = hook(self, state_dict)
            state_dict = state_dict if result is None else result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load ``state_dict()`` output, from this library or PyTorch (its tensors or numpy arrays work too).

        The groups must have the same sizes as this optimizer's. Tensors are copied, converted to their
        parameter's dtype and device (except ``step``, which keeps its own, as in PyTorch); other values (a step
        kept as a Python int) are kept as they are, as in PyTorch; the hyperparameters in the dict replace the
        current ones. An on/off option missing from a saved group (``nesterov``, ``foreach``... added by later
        versions of PyTorch) is off, as PyTorch's ``__setstate__`` sets it; a missing hyperparameter that is a
        number (``momentum`` in an Adam state_dict loaded into SGD) is a ValueError here rather than a KeyError at
        the next step.
        """
        name = f"{type(self).__name__}.load_state_dict"
        for hook in self._hooks("_optimizer_load_state_dict_pre_hooks"):
            result = hook(self, state_dict)
            state_dict = state_dict if result is None else result
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= state_dict.keys():
            keys = list(state_dict)[:4] if isinstance(state_dict, Mapping) else type(state_dict).__name__
            raise ValueError(f"{name}: expected an optimizer state_dict with 'state' and 'param_groups' entries, "
                             f"got {keys}; a model's state_dict goes to model.load_state_dict")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: loaded state dict has a different number of parameter groups: "
                             f"{len(saved_groups)} in the state_dict, {len(self.param_groups)} in this optimizer. "
                             "Build the optimizer with the same parameter groups as the one that was saved.")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}: loaded state dict contains a parameter group that doesn't match the size "
                                 f"of optimizer's group: group {i} has {len(saved['params'])} parameters in the "
                                 f"state_dict and {len(group['params'])} in this optimizer")
        switches = {key: None if default is None else False for key, default in self.defaults.items()
                    if default is None or isinstance(default, bool)}  # on/off options: see the docstring
        for i, saved in enumerate(saved_groups):
            missing = [key for key in self.defaults if key not in saved and key not in switches]
            if missing:
                raise ValueError(f"{name}: parameter group {i} of the state_dict has no "
                                 f"{', '.join(map(repr, missing))}, which {type(self).__name__} needs: it was saved "
                                 "by another kind of optimizer (its "
                                 f"group has {', '.join(repr(k) for k in saved if k != 'params')}). Load it into the "
                                 "kind of optimizer that saved it")
        by_index = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                            chain.from_iterable(g["params"] for g in self.param_groups)))
        state = defaultdict(dict)
        for index, saved_state in state_dict["state"].items():
            if index in by_index:
                param = by_index[index]
                state[param] = {key: _load_value(param, key, value, f"{name}: state {index!r}", self._tensor_step)
                                for key, value in saved_state.items()}
            else:  # state that belongs to no parameter is kept as it is (as in PyTorch)
                state[index] = copy.deepcopy(saved_state)
        self.state = state
        self.__dict__.pop("_flat", None)  # (their arrays were the old state's)
        self.param_groups = [_loaded_group(saved, group, switches) for saved, group in zip(saved_groups,
                                                                                           self.param_groups)]
        for hook in self._hooks("_optimizer_load_state_dict_post_hooks"):
            hook(self)

    def __setstate__(self, state):
        """Restore ``__getstate__``'s dict (a copy or an unpickled optimizer); subclasses written as PyTorch's
        call it, ``super().__setstate__(state)``, before their own defaults."""
        self.__dict__.update(state)

    def __getstate__(self):
        """What a copy or a pickle keeps: everything but the ``step`` wrapper an lr scheduler put on this optimizer
        (it is bound to this very object; a copy gets its class's own ``step``, as in PyTorch) and the flat arrays of
        the multi-tensor path (a copy of a view is no view: the copy makes its own at its first step)."""
        return {key: value for key, value in self.__dict__.items() if key not in ("step", "_opt_called", "_flat")}

    def __repr__(self):
        """PyTorch's text: each group's settings (all but its params) in sorted order, groups apart by a blank line::

            SGD (
            Parameter Group 0
                lr: 0.1
                ...

            Parameter Group 1
                ...
            )
        """
        text = f"{type(self).__name__} ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"  # (the "\n" before it is the blank line after the previous group)
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"


Optimizer.step.__signature__ = inspect.signature(Optimizer._step_parameters)  # (help() shows step(closure=None))
_MISSING = object()  # (a group without one of the hyperparameters)


def _loaded_group(saved, group, switches):
    """A group of ``load_state_dict``: the saved settings, in their order (as PyTorch's), with this group's params
    (and its ``param_names`` when the saved group has none), and each on/off option it lacks set off."""
    loaded = copy.deepcopy({key: value for key, value in saved.items() if key != "params"})
    loaded["params"] = group["params"]
    if "param_names" in group:
        loaded.setdefault("param_names", group["param_names"])
    for key, value in switches.items():
        loaded.setdefault(key, value)
    return loaded


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


@functools.cache
def _has_multi_tensor_path(cls):
    """Whether ``cls`` has an ``_update_many`` written for the ``_update`` it uses: not if a subclass rewrote
    ``_update`` (a learner's optimizer), whose step must call that ``_update``."""
    def owner(name):
        return next((c for c in cls.__mro__ if name in vars(c)), None)
    many = owner("_update_many")
    return many is not None and issubclass(many, owner("_update"))


def _ordered(params, name):
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{name}: optimizer parameters need to be organized in ordered collections, but the "
                        "ordering of tensors in sets will change between runs. Please use a list instead.")
    return params


# -------------------------------------------------------------------- helpers for the optimizers' state
def implementation_flags(name, foreach=None, capturable=False, differentiable=False, fused=None):
    """PyTorch's switches between implementations of the same update, accepted so that its scripts run.

    ``foreach`` (one kernel per op over all parameters), ``fused`` (one kernel for the whole step) and
    ``capturable`` (CUDA graphs) only change speed in PyTorch. ``foreach=False`` chooses our per-parameter path
    (None and True: the multi-tensor path, see the module's docstring); the others change nothing.
    ``differentiable=True`` asks for a graph through ``step()`` (to differentiate through training), which we do not
    record: that raises rather than silently giving no gradient.
    """
    for flag, value in (("foreach", foreach), ("capturable", capturable), ("differentiable", differentiable),
                        ("fused", fused)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{name}: {flag} must be True, False or None, got {type(value).__name__} {value!r}")
    if foreach and fused:
        raise RuntimeError(f"{name}: `fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True (autograd through optimizer.step()) is not supported: "
                                  "our steps update the parameters in place without recording a graph")


def zeros_state(param, fill=0.0):
    """A state tensor shaped like ``param``, on its device, filled with ``fill`` (a running average starts at 0)."""
    return Tensor._make(array_module_of(param.array).full_like(param.array, fill), None)


def _state_follows(param, state, owner="Optimizer"):
    """Move ``param``'s state tensors (Adam's averages, a momentum buffer) to the param's device if it moved, and
    refuse state of another shape or dtype than the param's.

    PyTorch creates state on the param's device, and ``load_state_dict`` moves loaded state there; a
    ``model.to(device)`` after some steps would then leave the state behind. Here the state follows the param
    (checked by array type, and on a GPU by its number: from cuda:1 to cuda:0 too). ``step`` (and NAdam's
    ``mu_product``: ``SCALAR_STATE``) stays on the CPU, as in PyTorch.
    A param that changed shape or dtype since its state was made (``p.data = ...`` of another shape,
    ``model.double()`` after some steps) is refused, as PyTorch refuses it, with the fix.
    """
    for key, value in state.items():
        if key in SCALAR_STATE or not isinstance(value, Tensor):
            continue
        if not same_device(value.array, param.array):
            value.array = move(value.array, param.device)
        if value.array.shape != param.array.shape or value.array.dtype != param.array.dtype:
            raise RuntimeError(
                f"{owner}.step: a parameter of shape {tuple(param.shape)} ({param.dtype.name}) has state {key!r} of "
                f"shape {tuple(value.array.shape)} ({value.array.dtype}): the parameter changed shape or dtype after "
                "the optimizer made its state (p.data replaced, model.double() after some steps). Make the optimizer "
                "after changing the model, or drop the parameter's state: del optimizer.state[p]")


SCALAR_STATE = ("step", "mu_product", "eta", "mu")  # state entries that are 0-d CPU tensors (NAdam's, ASGD's)


def step_state():
    """The step counter: a 0-d float tensor on the CPU (float32, or float64 under a float64 default), as in PyTorch."""
    return Tensor._make(np.zeros((), dtype=np.float64 if dtypes.get_default_dtype() is dtypes.float64 else np.float32),
                        None)


def next_step(state):
    """Add 1 to ``state["step"]`` (in place) and return the new count t as a Python float. A step set by hand as
    ``torch.zeros(1)`` (pytorch-a3c's SharedAdam) counts too: PyTorch takes any tensor of one number."""
    step = checked_step(state)
    step.array += 1
    return float(step.array.reshape(()))


def checked_step(state):
    """``state["step"]``, refused unless it is a tensor of one number (any shape, as PyTorch's check)."""
    step = state["step"]
    if not isinstance(step, Tensor) or step.numel() != 1:
        raise RuntimeError(f"optimizer.step(): state['step'] must be a tensor of one number, as PyTorch asks (its "
                           f"'singleton tensors'), got {step!r}; set it as torch.tensor(0.0)")
    return step


BLOCK = 1 << 16  # elements per block of a blocked update: a few float32 arrays of 256 KiB fit in a core's L2 cache


def blocks(*arrays):
    """Cut same-shaped ``arrays`` into matching blocks of ``BLOCK`` elements (views), to update one block at a time.

    An update such as Adam's is a dozen passes (ufuncs) over the parameter, its gradient and its state. Pass by pass,
    arrays of megabytes travel between memory and the processor a dozen times; block by block, the few arrays of one
    block stay in the core's own cache between passes, which makes a step over a million parameters about 1.5x
    faster. The numbers are the same: each element goes through the same formula. Arrays that are small, not
    contiguous, or not numpy's (CuPy: the GPU runs each pass in parallel anyway) come back whole, as one block.
    """
    if arrays[0].size <= BLOCK or not all(type(a) is np.ndarray and a.flags.c_contiguous for a in arrays):
        yield arrays
        return
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, flat[0].size, BLOCK):
        yield tuple(a[start:start + BLOCK] for a in flat)


def subtract_scaled_(theta, g, scale):
    """theta <- theta - scale g, in place (the plain gradient step), a block at a time: the temporary scale * g is
    one block, never an array of theta's size (PyTorch's fused ``param.add_(g, alpha=-lr)`` makes none)."""
    for theta_block, g_block in blocks(theta, g):
        theta_block -= scale * g_block


# -------------------------------------------------------------------- float16 parameters
def compute_dtype(np_dtype):
    """The dtype an op computes ``np_dtype`` numbers in before it rounds its result to ``np_dtype``: float32 for
    float16 (PyTorch's "opmath" type: Adam's (1 - beta2) g^2 of a gradient of 300 is 90, but g^2 alone is past
    float16's 65,504), the dtype itself otherwise."""
    return np.dtype(np.float32) if np_dtype == dtypes.FLOAT16 else np.dtype(np_dtype)


def quiet_for(np_dtype):
    """A context in which numpy's overflow, invalid-value and divide-by-zero warnings are off when ``np_dtype`` is
    float16 (see ``dtypes.quietly_in_float16``; eps = 1e-8 is 0 in float16) and on for any other dtype: an
    optimizer's step over float16 parameters."""
    if np_dtype != dtypes.FLOAT16:
        return contextlib.nullcontext()
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


def effective_grad(grad, theta, group):
    """The gradient the update rule uses: g = -grad if maximize else grad; then g = g + weight_decay * theta.

    ``grad`` and ``theta`` are arrays; a new array whenever it differs from ``grad``, which is never modified.
    """
    if group["maximize"]:
        grad = -grad
    if group["weight_decay"] != 0:
        grad = grad + float(group["weight_decay"]) * theta
    return grad


# -------------------------------------------------------------------- the multi-tensor path
def packable(param):
    """Whether ``param`` joins the flat arrays of the multi-tensor path: a numpy array of at most ``BLOCK`` numbers
    (a larger one is updated by itself, a block at a time), or a GPU array of any size, whose gradient has its dtype
    and shape (and, on a GPU, its device)."""
    theta, grad = param.array, param._grad.array
    if type(theta) is np.ndarray:
        return (type(grad) is np.ndarray and theta.size <= BLOCK and grad.dtype == theta.dtype
                and grad.shape == theta.shape)
    return (is_gpu_array(theta) and type(grad) is type(theta) and grad.dtype == theta.dtype
            and grad.shape == theta.shape and grad.device.id == theta.device.id)


class FlatState:
    """Small parameters of one group side by side in flat arrays, so that one numpy call updates all of them.

    Each state entry ``names`` (``"exp_avg"``, ...) of the parameters is concatenated into one flat array, and each
    parameter's state tensor gets a view of its stretch of it as its array: the tensors stay in ``optimizer.state``
    (so ``state_dict()`` is unchanged) and the flat array and they are the same numbers. The ``step`` counters (equal:
    one FlatState per step count) become views of one array of counts. At each step ``gather()`` copies the
    parameters and gradients into flat arrays (two numpy calls), the update rule runs once on the flat arrays, and
    ``scatter()`` copies the new numbers back into the parameters (one call each). Each element goes through the
    same operations as on the per-parameter path, so the numbers are the same, bit for bit.

    Per step that is about n + 14 numpy calls for Adam over n parameters instead of 12 n; the flat arrays are kept
    between steps (allocating them anew costs more than the update: fresh memory is slow to touch the first time).

    On a GPU (``shared``) the flat array is the parameters' own memory: each parameter's array becomes a view of its
    stretch of ``theta`` (its numbers copied there once), so ``gather()`` copies only the gradients (one concatenation)
    and ``scatter()`` has nothing to do. The update is then one fused kernel over the group: two launches per step.
    """

    def __init__(self, params, states, names, steps=True):
        self.params, self.names = params, names
        first = params[0].array
        xp, dtype = array_module_of(first), first.dtype
        self.shared = xp is not np
        self.bounds = np.cumsum([0] + [p.array.size for p in params]).tolist()
        with on_device_of(first):
            self.theta, self.grad = xp.empty(self.bounds[-1], dtype), xp.empty(self.bounds[-1], dtype)
        self.scratch = None if self.shared else np.empty(min(self.bounds[-1], BLOCK), dtype)  # (a block at a time)
        self.flat = {name: np.concatenate([s[name].array.reshape(-1) for s in states]) for name in names}
        for p, s, start, end in zip(params, states, self.bounds, self.bounds[1:]):
            for name in names:
                s[name].array = self.flat[name][start:end].reshape(p.array.shape)
        self.steps = None
        if steps:
            self.steps = np.concatenate([s["step"].array.reshape(1) for s in states])
            for i, s in enumerate(states):
                s["step"].array = self.steps[i:i + 1].reshape(s["step"].array.shape)  # (a (1,) set by hand stays)
        self.views = [[s[name].array for name in names + ["step"] * steps] for s in states]
        self.parts = self.stretches(self.theta)  # (each parameter's stretch of self.theta)
        self.grad_parts = self.stretches(self.grad) if self.shared else None  # (and of self.grad: gather's, on a GPU)
        if self.shared:
            for p, part in zip(params, self.parts):
                part[...] = p.array
                p.array = part

    def stretches(self, flat):
        """Each parameter's stretch of the flat array ``flat``, as a view in the parameter's shape."""
        return [flat[start:end].reshape(p.array.shape) for p, start, end in zip(self.params, self.bounds,
                                                                                  self.bounds[1:])]

    def holds(self, params, states):
        """Whether these are still our parameters, of our device, dtype and shapes (on a GPU: still views of our
        array), their state tensors still views of our arrays (not after ``load_state_dict``, a move to another device
        or dtype, or a state tensor set by hand)."""
        return (len(params) == len(self.params)
                and all(p is q and type(p.array) is type(self.theta) and p.array.dtype == self.theta.dtype
                        and p.array.shape == part.shape and (p.array is part or not self.shared)
                        for p, q, part in zip(params, self.params, self.parts))
                and all(getattr(s[name], "array", None) is view for s, views in zip(states, self.views)
                        for name, view in zip(self.names + ["step"] * (self.steps is not None), views)))

    def next_step(self):
        """Add 1 to every parameter's step count (one array) and return the new count t as a Python float."""
        self.steps += 1
        return float(self.steps[0])

    def gather(self):
        """The parameters' numbers and their gradients, each as one flat array (copies: ours to change; on a GPU the
        parameters' numbers are the flat array already)."""
        if not self.shared:
            np.concatenate([p.array.reshape(-1) for p in self.params], out=self.theta)
            np.concatenate([p._grad.array.reshape(-1) for p in self.params], out=self.grad)
        else:  # (one copy per gradient: CuPy's concatenate of many arrays costs the host more, about 100 us)
            for p, part in zip(self.params, self.grad_parts):
                part[...] = p._grad.array
        return self.theta, self.grad

    def scatter(self):
        """Copy the new numbers of the flat array back into each parameter's own array, in place (on a GPU they are
        there already)."""
        if self.shared:
            return
        for p, part in zip(self.params, self.parts):
            p.array[...] = part


def _load_value(param, key, value, where, tensor_step=False):
    """A copy of one loaded state value: tensors (ours, PyTorch's, numpy) become ours, on ``param``'s dtype/device.

    Any other value (a Python number, a string...) is kept as it is, as in PyTorch: an optimizer written with
    ``state["step"] = 0`` gets its int back. Only an optimizer whose class keeps ``step`` as a tensor
    (``_tensor_step``: Adam, RMSprop, Adagrad) turns a numeric step (old PyTorch checkpoints) into one, as PyTorch's
    own optimizers do in their ``__setstate__``.
    """
    if key in SCALAR_STATE and tensor_step and isinstance(value, (int, float)):
        step = step_state()
        step.array[...] = value
        return step
    if not (isinstance(value, Tensor) or hasattr(value, "__array__")):
        return copy.deepcopy(value)
    if isinstance(value, Tensor):
        array = value.array
    else:
        array = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)  # PyTorch or numpy
    if key in SCALAR_STATE:
        return Tensor._make(move(array, "cpu").copy(), None)
    if array.shape != param.array.shape and not hasattr(param, "materialize"):  # (a lazy layer's, shapeless yet)
        raise ValueError(f"{where}, {key!r}: has shape {array.shape}, its parameter has {param.array.shape}; "
                         "was the state_dict saved for a model of another size?")
    return Tensor._make(move(array.astype(param.array.dtype), param.device), None)
