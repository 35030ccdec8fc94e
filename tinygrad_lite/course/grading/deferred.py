"""A module imported only when code first uses it: ``matplotlib.pyplot`` in a grading kernel.

Every lesson's first cell imports pyplot, for the figures. Grading never looks at a figure: the solution's cells
that only draw are skipped (``{"figure": true}``, see ``course/notebooks.py``), and yet importing pyplot cost a
kernel about half a second of CPU, more than the rest of a lesson-00 kernel together. So the kernel registers
pyplot here before the first cell runs: ``import matplotlib.pyplot as plt`` then binds ``plt`` to a stand-in
(a module object named ``matplotlib.pyplot``), and the first use of any of its names (``plt.subplots``,
``from matplotlib.pyplot import ...``) imports the real pyplot, which the stand-in reads through from then on.
Code that uses pyplot behaves as it would with pyplot imported; code that only imports it pays nothing.
"""
import importlib
import importlib.abc
import importlib.machinery
import sys
import types


class DeferredModule(types.ModuleType):
    """Stands in ``sys.modules`` for a module until one of its names is used: then imports the module (once) and
    reads and writes every name through to it. The import machinery's own attributes (``__spec__``,
    ``__loader__``, ``__file__``, the question ``__path__``) are the stand-in's, so importing the name again, or
    looking for the module a file belongs to, is not a use."""

    def _load(self):
        module = self.__dict__.get("_real")
        if module is None:
            name = self.__name__
            _FINDER.names.discard(name)
            if sys.modules.get(name) is self:
                del sys.modules[name]
            module = importlib.import_module(name)  # the real one: sys.modules and the parent's attribute hold it
            self.__dict__["_real"] = module
        return module

    def __getattr__(self, name):  # only names the stand-in does not have itself: the module's own
        if name in ("__path__", "__file__", "__cached__") and "_real" not in self.__dict__:
            raise AttributeError(name)  # the import machinery asking whether it is a package, or has a file: no use
        module = self._load()
        if name == "__all__":  # ``from ... import *`` takes these names (the module's public ones if it names none)
            return getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
        return getattr(module, name)

    def __setattr__(self, name, value):
        if name.startswith("__") and name.endswith("__") and "_real" not in self.__dict__:
            self.__dict__[name] = value  # set by the import machinery
        else:
            setattr(self._load(), name, value)

    def __delattr__(self, name):
        delattr(self._load(), name)

    def __dir__(self):
        return dir(self._load())

    def __repr__(self):
        real = self.__dict__.get("_real")
        return repr(real) if real is not None else f"<module {self.__name__!r} (imported when first used)>"


def waiting(module):
    """True when ``module`` is a stand-in whose module has not been imported yet."""
    return isinstance(module, DeferredModule) and "_real" not in module.__dict__


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """First on ``sys.meta_path``: gives a DeferredModule for each name in ``names`` (until it is loaded)."""

    def __init__(self):
        self.names = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, self)
        # The real module's file, found without running it, is the stand-in's __file__: ``inspect.getmodule`` asks
        # every module in sys.modules for its file (``import torch`` calls it), and that is no use of pyplot.
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is not None and real.has_location:
            spec.origin, spec.has_location = real.origin, True
        return spec

    def create_module(self, spec):
        return DeferredModule(spec.name)

    def exec_module(self, module):
        pass


_FINDER = _Finder()


def defer(*names):
    """Import each module of ``names`` (not yet imported) only when code first uses it; see the module's doc."""
    for name in names:
        if name not in sys.modules:
            _FINDER.names.add(name)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
