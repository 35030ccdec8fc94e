"""Containers: modules that hold other modules.

- ``Sequential``: a pipeline; its forward feeds each layer's output to the next.
- ``ModuleList``: a list of layers whose forward you write yourself (loop over it).
- ``ModuleDict``: layers by name.

A plain Python list of layers would not do: its layers would not be registered, so ``parameters()`` (and so the
optimizer), ``state_dict()``, ``to()`` and ``train()`` would not see them. The children are named "0", "1", ...
(or by their keys), which gives state_dict keys like "0.weight".
"""
import operator
from collections import OrderedDict
from collections.abc import Mapping

from ...tensor import Tensor
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
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add (or replace) modules from a mapping or from an iterable of (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        if not hasattr(pairs, "__iter__") or isinstance(pairs, (Tensor, str)):
            raise TypeError(f"ModuleDict.update: expected a mapping or an iterable of (key, module) pairs, got "
                            f"{type(modules).__name__}")
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: expected a mapping or (key, module) pairs, got an element "
                                f"{pair!r}")
            self[pair[0]] = pair[1]
