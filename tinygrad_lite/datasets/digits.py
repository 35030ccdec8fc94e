"""``digits()``: 1,797 real handwritten digits as 8x8 images, shipped with the package (45 kB, no download).

They are the test set of the UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak,
1998; licence CC BY 4.0), the same numbers scikit-learn ships as ``load_digits``. Each image is a 32x32
bitmap of a digit written by one of 13 people, cut into 4x4 blocks; a pixel counts the inked bits in its
block, so it is an integer from 0 (white) to 16 (black). ``data/README.md`` says where the file came from.
"""
from importlib import resources

import numpy as np

from .. import dtypes as dt
from ..tensor import Tensor

N_IMAGES = 1797


def _load():
    """The raw arrays: images (1797, 8, 8) and labels (1797,), both uint8; the file is read without pickle."""
    path = resources.files(__package__) / "data" / "digits.npz"
    with path.open("rb") as f, np.load(f, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    if images.shape != (N_IMAGES, 8, 8) or labels.shape != (N_IMAGES,) or images.dtype != np.uint8:
        raise RuntimeError(f"digits: {path} is damaged (images {images.shape} {images.dtype}, labels "
                           f"{labels.shape}); reinstall tinygrad_lite")
    return images, labels


def digits(as_float=True, flatten=False):
    """The 8x8 digit images and their labels, as tensors ``(images, labels)``.

    - ``images``: shape (1797, 8, 8), or (1797, 64) with ``flatten=True`` (row after row, ready for
      ``nn.Linear(64, ...)``). With ``as_float=True`` (the default) they are pixel / 16, in [0, 1], in the
      default float dtype (float32); with ``as_float=False`` the raw uint8 counts 0..16.
    - ``labels``: shape (1797,), int64, the digit 0-9 (ready for ``nn.CrossEntropyLoss``). Each digit has
      174 to 183 images.

    The order is the file's; split with ``utils.data.random_split``.
    """
    images, labels = _load()
    if flatten:
        images = images.reshape(N_IMAGES, 64)
    images = Tensor(images / 16.0, dtype=dt.get_default_dtype()) if as_float else Tensor(images, dtype=dt.uint8)
    return images, Tensor(labels, dtype=dt.int64)
