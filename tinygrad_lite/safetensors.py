"""Weights in the safetensors format: how weights move between tinygrad_lite and PyTorch (and the Hugging Face hub).

A ``.safetensors`` file is an 8-byte length, a JSON header giving each tensor's name, dtype, shape and byte range,
then the raw bytes of the tensors, nothing else: no code runs when it is read. We write and read it with the
``safetensors`` package's numpy API, so the files are the ones PyTorch's ``safetensors.torch`` reads and writes::

    from tinygrad_lite.safetensors import save_file, load_file
    save_file(model.state_dict(), "model.safetensors")
    # and in PyTorch, the same layer sizes give the same outputs:
    #     from safetensors.torch import load_file
    #     torch_model.load_state_dict(load_file("model.safetensors"))

Our ``save_file`` writes atomically (a temporary file, then a rename), like ``tinygrad_lite.save``.
Deliberate difference: ``safetensors.torch.save_file`` refuses a non-contiguous tensor (a transposed view); ours
writes its values in row-major order, because our ``contiguous()`` is a no-op and the error would have no fix.
A tensor's ``requires_grad`` is not stored: loaded tensors are plain leaves, as with ``safetensors.torch``.
Tensors that share memory (one tensor under two names, as tied weights are, or a view of another) are refused, as
``safetensors.torch.save_file`` refuses them: loaded back they would be separate tensors that no longer share.
"""
import os
from collections.abc import Mapping

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

try:
    from numpy.lib.array_utils import byte_bounds  # numpy 2
except ImportError:  # numpy 1.x
    from numpy import byte_bounds

from . import dtypes as dt
from .device import move
from .serialization import SerializationError, atomic_write
from .tensor import Tensor

# safetensors' dtype codes that tinygrad_lite can hold (it also knows BF16, U16, U32, U64, C64, F8 ...: we cannot)
_CODES = {"BOOL": dt.bool, "U8": dt.uint8, "I8": dt.int8, "I16": dt.int16, "I32": dt.int32, "I64": dt.int64,
          "F16": dt.float16, "F32": dt.float32, "F64": dt.float64}


def save_file(tensors, filename, metadata=None):
    """Write ``tensors`` (a dict from names to Tensors, such as ``model.state_dict()``) to ``filename``.

    ``metadata`` is an optional dict of strings to strings stored in the header (e.g. ``{"epoch": "3"}``).
    """
    if not isinstance(tensors, Mapping):
        raise TypeError(f"save_file: expected a dict of name -> Tensor, got {type(tensors).__name__}; for a model "
                        "pass model.state_dict()")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_file: tensor names must be str, got {name!r} ({type(name).__name__})")
        if not isinstance(value, Tensor):
            raise TypeError(f"save_file: the value for {name!r} is of type {type(value).__name__}, not a Tensor; a "
                            "safetensors file holds only tensors (put other information in metadata as strings, "
                            "or use tinygrad_lite.save for a whole checkpoint)")
        arrays[name] = np.asarray(move(value.array, "cpu"), order="C")  # the writer copies raw memory: row-major
    shared = _sharing_memory(tensors)
    if shared:
        names = " and ".join(map(repr, shared[0]))
        raise RuntimeError(f"save_file: the tensors {names} share memory (one tensor under two names, as tied "
                           "weights are, or a view of another); safetensors refuses them, as "
                           "safetensors.torch.save_file does, because loading would give separate tensors. Save "
                           "each tensor once (keep one name, and tie the weights again after loading), or save "
                           "copies: {name: t.clone() for name, t in tensors.items()}")
    strided = next((name for name, value in tensors.items() if not value.is_contiguous()), None)
    if strided is not None:
        raise ValueError(f"save_file: the tensor {strided!r} is not contiguous (a transposed or strided view, of "
                         f"shape {tuple(tensors[strided].shape)}); safetensors refuses it, as "
                         f"safetensors.torch.save_file does: save {strided!r}: t.contiguous() instead")
    if metadata is not None and not (isinstance(metadata, Mapping) and
                                     all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError(f"save_file: metadata must be a dict of str -> str, got {metadata!r}; convert the values, "
                        "e.g. {'epoch': str(epoch)}")
    data = safetensors.numpy.save(arrays, metadata=None if metadata is None else dict(metadata))
    atomic_write(filename, lambda stream: stream.write(data), "save_file")


def _sharing_memory(tensors):
    """The groups of names whose tensors overlap in memory, as ``safetensors.torch`` finds them: the byte ranges of
    the arrays, sorted by their start, overlap. Parts of one array that do not overlap (``w[:2]``, ``w[2:]``) are
    fine. On a GPU only one tensor under two names is found (CuPy arrays are compared by identity)."""
    spans = sorted((*(byte_bounds(t.array) if type(t.array) is np.ndarray else (id(t.array), id(t.array) + 1)), name)
                   for name, t in tensors.items() if t.numel())
    groups, end = [], None
    for start, stop, name in spans:
        if groups and start < end:
            groups[-1].append(name)
            end = max(end, stop)
        else:
            groups.append([name])
            end = stop
    return [sorted(group) for group in groups if len(group) > 1]


def load_file(filename, device="cpu"):
    """Read a ``.safetensors`` file into a dict from names to Tensors on ``device``.

    ``model.load_state_dict(load_file(path))`` loads weights saved by ``safetensors.torch.save_file``.
    """
    path = os.fspath(filename)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_file: no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"load_file: {path!r} is a folder, not a .safetensors file; pass the path of the "
                                "file inside it (e.g. os.path.join(folder, 'model.safetensors'))")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"load_file: {path!r} exists but cannot be read (no read permission for this user); "
                              "change its permissions (chmod u+r) or copy it somewhere readable")
    try:
        with safe_open(path, framework="np") as f:
            out = {}
            for name in f.keys():
                code = f.get_slice(name).get_dtype()
                if code not in _CODES:
                    raise TypeError(f"load_file: tensor {name!r} in {path!r} has dtype {code}, which tinygrad_lite "
                                    f"cannot hold (it reads {', '.join(_CODES)}). Convert before saving, e.g. in "
                                    "PyTorch: save_file({k: v.float() for k, v in sd.items()}, path)")
                out[name] = Tensor._make(move(np.array(f.get_tensor(name)), device), None)  # a copy we own
            return out
    except SafetensorError as e:
        with open(path, "rb") as stream:
            zipped = stream.read(2) == b"PK"
        hint = ("it is a zip archive, i.e. a checkpoint from tinygrad_lite.save or torch.save: read it with "
                "tinygrad_lite.load" if zipped else "the file is not safetensors, or it is cut short or damaged")
        raise SerializationError(f"load_file: cannot read {path!r} as safetensors ({e}); {hint}") from None
