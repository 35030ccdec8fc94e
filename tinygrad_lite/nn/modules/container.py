"""Containers: modules that hold other modules.

- ``Sequential``: a pipeline; its forward feeds each layer's output to the next.
- ``ModuleList``: a list of layers whose forward you write yourself (loop over it).
- ``ModuleDict``: layers by name.
- ``ParameterList`` and ``ParameterDict``: the same for parameters themselves.

A plain Python list of layers would not do: its layers would not be registered, so ``parameters()`` (and so the
optimizer), ``state_dict()``, ``to()`` and ``train()`` would not see them. The children are named "0", "1", ...
(or by their keys), which gives state_dict keys like "0.weight".

ModuleDict and ParameterDict keep their entries in a plain ``dict``, as PyTorch's do, so ``keys()`` prints as
``dict_keys(['enc', 'head'])``.
"""
import operator
from collections import OrderedDict
from collections.abc import Mapping

from ...tensor import Tensor
from ..parameter import Parameter
from .module import Module, _addindent


def _absolute_index(index, length, who):
    """A list index (negative counts from the end) made non-negative, or a clear IndexError."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"{who}: index {index} is out of range for {length} modules")
    return index % length


def _renumber(container):
    """After a deletion, name the children "0", "1", ... again so that indices and names stay in step."""
    container._modules = OrderedDict((str(i), m) for i, m in enumerate(container._modules.values()))


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: a list of modules, indexed 0..n-1 (negative counts from the end)."""

    def _key(self, index):
        return list(self._modules)[_absolute_index(index, len(self), type(self).__name__)]

    def __setitem__(self, index, module):
        self.add_module(self._key(index), module)

    def __delitem__(self, index):
        doomed = list(self._modules)[index] if isinstance(index, slice) else [self._key(index)]
        for key in doomed:
            del self._modules[key]
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if not hasattr(modules, "__iter__") or isinstance(modules, (ModuleDict, Tensor, str)):  # (nor is one layer)
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable of modules, got "
                            f"{type(modules).__name__}; for a single module use append")
        for module in modules:
            self.append(module)
        return self

    def pop(self, index=-1):
        """Remove the module at ``index`` (the last one by default) and return it; the later ones move down."""
        module = self[index]
        del self[index]
        return module

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (the later modules move up by one)."""
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {index} is out of range for {n} modules")
        self.add_module(str(n), module)  # checks the module, makes room at the end
        modules = list(self._modules.values())
        modules.insert(index + n if index < 0 else index, modules.pop())
        self._modules = OrderedDict((str(i), m) for i, m in enumerate(modules))
        return self


class Sequential(_ModuleSequence):
    """``Sequential(layer0, layer1, ...)`` or ``Sequential(OrderedDict(name=layer, ...))``.

    forward(x) = layer_n(...layer_1(layer_0(x))). Indexing gives a layer; slicing gives a Sequential of those
    layers that keeps their names (as in PyTorch).
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input):
        for module in self:
            input = module(input)
        return input

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def __add__(self, other):
        """A new Sequential of this one's layers, then ``other``'s (the same module objects, renumbered)."""
        if not isinstance(other, Sequential):
            raise ValueError(f"Sequential + : only another Sequential can be added, got {type(other).__name__}")
        return Sequential(*self, *other)

    def __iadd__(self, other):
        """``seq += other``: ``other``'s layers appended to this very Sequential (its owner sees them)."""
        if not isinstance(other, Sequential):
            raise ValueError(f"Sequential += : only another Sequential can be added, got {type(other).__name__}")
        return self.extend(list(other))

    def __mul__(self, times):
        """``seq * n``: a new Sequential of this one's layers n times over (the same module objects, as PyTorch's)."""
        if not isinstance(times, int) or isinstance(times, bool):
            raise TypeError(f"Sequential * : the factor must be an int, got {type(times).__name__}")
        if times <= 0:
            raise ValueError(f"Sequential * : the factor must be 1 or more, got {times}")
        return Sequential(*(list(self) * times))

    __rmul__ = __mul__

    def __imul__(self, times):
        """``seq *= n``: this Sequential's layers repeated n times over, in place."""
        return self.extend(list(self * times)[len(self):])


class ModuleList(_ModuleSequence):
    """A list of modules, registered so the model sees their parameters: ``ModuleList([nn.Linear(4, 4), ...])``.

    It has no forward of its own; loop over it in yours: ``for layer in self.layers: x = layer(x)``.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: it only holds modules. Loop over it in your own "
                                  "forward (for layer in self.layers: x = layer(x)), or use nn.Sequential")

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.__class__(list(self._modules.values())[index])
        return self._modules[self._key(index)]

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, modules):
        """A new ModuleList of this one's modules, then those of ``modules`` (any iterable of modules)."""
        return ModuleList([*self, *modules])

    def __repr__(self):
        """PyTorch's compact form: runs of identical layers print once, as "(0-2): 3 x Linear(...)"."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = []  # [first index, last index, repr]
        for i, text in enumerate(reprs):
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        lines = [_addindent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}", 2)
                 for a, b, text in blocks]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """Modules by name, in insertion order: ``ModuleDict({"encoder": ..., "head": ...})``; ``md["head"](x)``."""

    def __init__(self, modules=None):
        super().__init__()
        object.__setattr__(self, "_modules", {})  # a plain dict, as in PyTorch: keys() is dict_keys([...])
        if modules is not None:
            self.update(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: it only holds modules. Call them by name in your own "
                                  "forward, e.g. self.heads['cls'](x)")

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def keys(self):
        """The names, a live view: ``dict_keys(['enc', 'head'])``."""
        return self._modules.keys()

    def items(self):
        """(name, module) pairs, a live view: ``dict_items([('enc', Linear(...)), ...])``."""
        return self._modules.items()

    def values(self):
        """The modules, a live view: ``dict_values([Linear(...), ...])``."""
        return self._modules.values()

    def update(self, modules):
        """Add (or replace) modules from a mapping or from an iterable of (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        if not hasattr(pairs, "__iter__") or isinstance(pairs, (Tensor, str)):
            raise TypeError(f"ModuleDict.update: expected a mapping or an iterable of (key, module) pairs, got "
                            f"{type(modules).__name__}")
        for i, pair in enumerate(pairs):  # (PyTorch's types: a TypeError for a non-sequence, a ValueError for a length)
            if not isinstance(pair, (tuple, list)):
                raise TypeError(f"ModuleDict.update: element {i} should be a (key, module) pair, got {pair!r:.40}")
            if len(pair) != 2:
                raise ValueError(f"ModuleDict.update: element {i} has length {len(pair)}; a (key, module) pair has 2")
            self[pair[0]] = pair[1]


def _describe(name, tensor, type_name):
    """One line of ParameterList's or ParameterDict's repr, in PyTorch's words::

          (0): Parameter containing: [tinygrad_lite.float32 of size 6x12]
          (w): Parameter containing: [tinygrad_lite.cuda.FloatTensor of size 8 (cuda:0)]

    ``type_name`` is the dtype (ParameterList) or the legacy type name (ParameterDict): PyTorch's two containers
    differ there. The size is "6x12" ("" for a 0-d tensor); the device is named only on the GPU. The two leading
    spaces, with the two that Module's repr adds, put the line four deep under the container's name, as in PyTorch.
    """
    kind = "Parameter" if isinstance(tensor, Parameter) else "Tensor"
    size = "x".join(str(n) for n in tensor.shape)
    device = f" ({tensor.device})" if tensor.device.type == "cuda" else ""
    return f"  ({name}): {kind} containing: [{type_name} of size {size}{device}]"


def _as_parameter(value, owner):
    """A tensor becomes a Parameter (a Parameter stays itself), as PyTorch's containers of parameters do."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    if not isinstance(value, Tensor):
        raise TypeError(f"{owner}: expected a Parameter or a Tensor, got {type(value).__name__}")
    return value


class ParameterList(Module):
    """A list of parameters, registered so the model sees them: ``ParameterList([nn.Parameter(w) for ...])``.

    Their names are "0", "1", ... (so state_dict keys like "weights.0"); a tensor put in becomes a Parameter."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.__class__(list(self)[index])
        return self._parameters[str(_absolute_index(index, len(self), "ParameterList"))]

    def __setitem__(self, index, param):
        self.register_parameter(str(_absolute_index(index, len(self), "ParameterList")),
                                _as_parameter(param, "ParameterList"))

    def append(self, value):
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values):
        if not hasattr(values, "__iter__") or isinstance(values, (Tensor, str)):
            raise TypeError(f"ParameterList.extend should be called with an iterable of parameters, got "
                            f"{type(values).__name__}; for one use append")
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward: it only holds parameters; use them in your own "
                                  "forward (for w in self.weights: ...)")

    def extra_repr(self):
        """A line per parameter: "  (0): Parameter containing: [tinygrad_lite.float32 of size 6x12]"."""
        return "\n".join(_describe(name, p, p.dtype) for name, p in self._parameters.items())


class ParameterDict(Module):
    """Parameters by name (str keys): ``ParameterDict({"scale": nn.Parameter(...)})``; a tensor put in becomes a
    Parameter. state_dict keys are the names (``"gains.scale"``).

    The order, as in PyTorch: the entries of a plain dict are added in sorted key order (PyTorch still treats a
    dict as unordered here); an OrderedDict, another ParameterDict, a list of pairs and later additions keep their
    order."""

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_parameters", {})  # a plain dict, as in PyTorch: keys() is dict_keys([...])
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be str (each is the parameter's name), got {key!r} "
                            f"({type(key).__name__})")
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __reversed__(self):
        return reversed(list(self._parameters))

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        """The names, a live view: ``dict_keys(['scale', 'shift'])``, as in PyTorch."""
        return self._parameters.keys()

    def values(self):
        """The parameters, a live view (PyTorch returns a one-pass generator; a view can also be counted and
        printed)."""
        return self._parameters.values()

    def items(self):
        """(name, parameter) pairs, a live view (PyTorch returns a one-pass generator)."""
        return self._parameters.items()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def setdefault(self, key, default=None):
        """The parameter ``key``; if there is none, ``default`` put in first (as a Parameter) and returned."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove the last (name, parameter) pair and return it."""
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def clear(self):
        self._parameters.clear()

    def copy(self):
        """A new ParameterDict holding the same parameters (not copies of them), in the same order."""
        return ParameterDict(self.items())

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with ``default`` (a tensor: here every value must be one) under each of ``keys``."""
        return ParameterDict((key, default) for key in keys)

    def __or__(self, other):
        """``a | b``: a copy of ``a`` updated with ``b`` (as dicts' ``|``)."""
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        """``d | a`` for a dict d: a copy of d (a dict, as in PyTorch) updated with ``a``."""
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def update(self, parameters):
        """Add (or replace) parameters from a mapping or from an iterable of (key, parameter) pairs. A plain dict's
        (or other unordered mapping's) entries go in sorted by key, as in PyTorch."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = parameters.items()
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items(), key=lambda pair: str(pair[0]))  # (a non-str key is refused below)
        else:
            pairs = parameters
        if not hasattr(pairs, "__iter__") or isinstance(pairs, (Tensor, str)):
            raise TypeError(f"ParameterDict.update: expected a mapping or an iterable of (key, parameter) pairs, got "
                            f"{type(parameters).__name__}")
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ParameterDict.update: expected a mapping or (key, parameter) pairs, got an element "
                                f"{pair!r}")
            self[pair[0]] = pair[1]

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict has no forward: it only holds parameters; use them by name in your "
                                  "own forward (self.gains['scale'])")

    def extra_repr(self):
        """A line per parameter: "  (scale): Parameter containing: [tinygrad_lite.FloatTensor of size 8]"."""
        return "\n".join(_describe(name, p, p.type()) for name, p in self._parameters.items())
