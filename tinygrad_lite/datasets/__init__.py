"""``tinygrad_lite.datasets``: small data sets for the course, made on the spot or shipped with the package.

No downloads, no network: every function returns tensors at once, and the same ``seed`` gives the same data.

- ``xor``, ``two_moons``, ``two_spirals``: 2-D points with class labels, for classification (``synthetic.py``).
- ``noisy_sine``: y = sin(x) + noise, for regression (``synthetic.py``).
- ``digits``: 1,797 real 8x8 images of handwritten digits 0-9, from the UCI repository (``digits.py``).

PyTorch keeps its data sets in separate packages (torchvision ...); this module is our own addition.
"""
from .digits import digits
from .synthetic import noisy_sine, two_moons, two_spirals, xor

__all__ = ["digits", "noisy_sine", "two_moons", "two_spirals", "xor"]
