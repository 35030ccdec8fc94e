"""The checks of every lesson's exercises: one module per lesson (``lesson00.py`` ...), each declaring its exercises
through the kinds of ``kinds.py``, which register them. Importing this package imports them all."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if _module.name.startswith("lesson"):
        importlib.import_module(f"{__name__}.{_module.name}")
