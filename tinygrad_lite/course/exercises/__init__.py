"""The checks of every lesson's exercises: one module per lesson (``lesson00.py`` ...), each registering its
exercises with ``tinygrad_lite.course.register``. Importing this package imports them all. ``_common.py`` holds
what they share (input builders, ``_mistake``, the answer kinds)."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
