"""``save`` and ``load``: checkpoints on disk, without pickle.

PyTorch's ``torch.save`` pickles the object, and unpickling runs whatever code the file names, so loading a
stranger's checkpoint can run anything. Our files hold data only. A file is a zip archive with

- ``archive.json``: ``{"format": "tinygrad_lite.save", "version": 1, "object": <tree>}``, the object as a JSON
  tree in which every tensor is replaced by a reference to an entry of the archive, and
- ``tensors/0.npy``, ``tensors/1.npy``, ...: one numpy ``.npy`` file per tensor, read back with
  ``np.load(..., allow_pickle=False)``.

How the tree spells each Python value (JSON itself has lists, string-keyed objects, strings, numbers, true, false,
null; its numbers are exact here: an int of any size, a float to the last bit, so an RNG state round-trips)::

    int, float, bool, str, None      themselves
    list                             a JSON list
    tuple                            {"tuple": [...]}
    dict, OrderedDict                {"dict": [[key, value], ...]}, {"OrderedDict": [[key, value], ...]}
                                     (a list of pairs keeps each key's type: an optimizer's int keys stay ints)
    Tensor, nn.Parameter             {"tensor": "tensors/0.npy", "requires_grad": false, "parameter": false,
                                      "device": "cpu"}
    numpy array, numpy scalar        {"ndarray": "tensors/1.npy"}, {"numpy_scalar": "tensors/2.npy"}
    Size, dtype, device              {"Size": [2, 3]}, {"dtype": "float32"}, {"device": "cuda:0"}
    set, frozenset                   {"set": [...]}, {"frozenset": [...]}

What comes back, as in PyTorch: the same nesting and types; a Parameter loads as a Parameter, a tensor keeps its
``requires_grad`` flag (a ``state_dict()`` holds detached tensors, so its tensors load with False), and an object
that appears twice (a tensor in two places) loads as one object. Loaded tensors are fresh leaves: no ``.grad``,
no graph. Other dict subclasses (``defaultdict``) load as plain dicts. Anything else (a model object, a function,
a class instance) raises a TypeError that names where it sits: save ``model.state_dict()``, not the model.

Saving to a path is atomic: we write a temporary file beside it, flush it to the disk, then rename it over the
target in one step. A crash halfway leaves the previous checkpoint untouched. Saving into an open file object
writes straight into it (no rename is possible there). A process killed mid-save cannot remove its temporary file
(``.NAME.PID.RANDOM.tmp``), so the next save of the same target removes those whose process is gone. A read-only
target is refused with a PermissionError and left as it was (a rename alone would silently replace it). A
path into a folder that does not exist is a RuntimeError, as in PyTorch.

Loading trusts nothing in the file: a damaged zip directory, a header larger than ``MAX_HEADER_BYTES`` or nested
deeper than ``MAX_DEPTH`` containers, and an array whose ``.npy`` header declares more bytes than its entry holds
all give a ``SerializationError`` before any large allocation.

Deliberate differences from PyTorch: no pickle, hence no whole models or custom classes; tensors are saved, not
storages, so two tensors over the same memory (a view and its base) load as separate copies (``save`` warns);
``load`` accepts
``weights_only`` for compatibility but reads the same data either way (there is no code to allow or forbid);
``map_location`` may be a device (``"cpu"``, ``"cuda"``, ``device("cuda:1")``), a dict from saved to new
locations (``{"cuda:0": "cpu"}``), or a function, which gets each tensor (loaded on the CPU) and its saved location
and returns it moved, or None to keep the saved location: PyTorch's function gets each storage the same way, so the
idiom ``map_location=lambda storage, loc: storage`` (everything on the CPU) works in both.
"""
import contextlib
import io
import json
import os
import re
import secrets
import time
import warnings
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from . import cuda
from . import dtypes as dt
from .device import device as Device
from .device import move
from .nn.parameter import Parameter
from .tensor import Size, Tensor
from .warning_level import callers_level

FORMAT, VERSION = "tinygrad_lite.save", 1
HEADER = "archive.json"
_SCALARS = (int, float, bool, str, type(None))  # exact types: an IntEnum or a Size would not come back as itself
MAX_HEADER_BYTES = 64 * 2**20  # the JSON tree of a checkpoint; its tensors live in their own entries
MAX_DEPTH = 100  # containers inside containers; a real checkpoint is a few levels deep


class SerializationError(RuntimeError):
    """``load`` cannot read a file: it is not a tinygrad_lite checkpoint, it is damaged or cut short, or it was
    written by a newer version."""


# -------------------------------------------------------------------- save
def save(obj, f):
    """Write ``obj`` (nested dicts, lists and tuples of tensors, arrays and Python numbers/strings) to ``f``.

    ``f`` is a path (``str`` or ``pathlib.Path``), written atomically, or a binary file object opened for writing,
    written in place (a file object cannot be renamed, so a crash there leaves a partial file).
    The usual use: ``torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)``.
    """
    encoder = _Encoder()
    tree = encoder.encode(obj, "obj")  # first, so that an unsavable object fails before any file is touched
    encoder.warn_of_shared_memory()
    header = json.dumps({"format": FORMAT, "version": VERSION, "object": tree}).encode("utf-8")

    def write(stream):
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(HEADER, header)
            for name, array in encoder.arrays.items():
                _write_array(archive, name, array)

    if isinstance(f, (str, os.PathLike)):
        _check_parent_folder(f)
        atomic_write(f, write, "save")
    elif hasattr(f, "write"):
        mode = getattr(f, "mode", None)
        if isinstance(f, io.TextIOBase) or (isinstance(mode, str) and "b" not in mode):
            raise TypeError(f"save: the file object is open in text mode ({mode or 'text'!r}), but a "
                            "checkpoint is bytes (a zip archive): open the file with open(path, 'wb'), or pass the "
                            "path itself")
        if hasattr(f, "writable") and not f.writable():  # (io.UnsupportedOperation: what PyTorch's save raises)
            raise io.UnsupportedOperation(f"save: the file object is not open for writing (mode {mode or '?'!r}); "
                                          "open it with open(path, 'wb'), or pass the path itself")
        write(f)
    else:
        raise TypeError(f"save: f must be a path (str or pathlib.Path) or a binary file object, got "
                        f"{type(f).__name__}")


def _check_parent_folder(path):
    """A path into a folder that does not exist is a RuntimeError, as in PyTorch ("Parent directory runs does not
    exist."), with the fix. (Checked here, not in atomic_write, whose other users raise FileNotFoundError.)"""
    folder = os.path.dirname(os.fspath(path))
    if folder and not os.path.isdir(folder):
        raise RuntimeError(f"save: Parent directory {folder} does not exist. Create it first with "
                           f"os.makedirs({folder!r}, exist_ok=True), then save again")


class _Encoder:
    """Turns an object into the JSON tree described in the module docstring, collecting its arrays on the way."""

    def __init__(self):
        self.arrays = {}   # entry name in the archive -> numpy array to write there
        self.refs = {}     # id(tensor or array) -> its reference node, so an object saved twice is stored once
        self.keep = []     # the objects behind self.refs, kept alive so that their ids stay unique
        self.open = set()  # ids of the containers we are inside of, to catch a container that holds itself
        self.places = {}   # entry name -> where in the object it sits (for the warning below)

    def warn_of_shared_memory(self):
        """Two different tensors over the same memory (a view and its base) load as two separate copies; PyTorch
        keeps them shared (it saves storages). Deliberate difference: said here rather than left silent."""
        owners = {}  # the array that owns the memory -> (place, array) of each tensor over it
        for name, x in zip(self.arrays, self.keep):
            if isinstance(x, Tensor) and isinstance(x.array, np.ndarray):
                root = x.array
                while isinstance(root.base, np.ndarray):
                    root = root.base
                owners.setdefault(id(root), []).append((self.places[name], x.array))
        for views in owners.values():  # (views of different elements of one array, as the optimizer's steps, are fine)
            pairs = [(p, q) for i, (p, a) in enumerate(views) for q, b in views[i + 1:] if _overlap(a, b)]
            places = sorted({place for pair in pairs for place in pair})
            if places:
                warnings.warn(f"save: {' and '.join(places[:3])} share memory (one is a view of another); they load "
                              "as separate copies, where PyTorch keeps them shared. Save the base tensor alone and "
                              "make the view again after loading", UserWarning, stacklevel=callers_level())

    def encode(self, x, where, depth=0):
        if type(x) in _SCALARS:
            return x
        if depth > MAX_DEPTH:
            raise ValueError(f"save: {where[:200]}... is nested more than {MAX_DEPTH} containers deep, more than "
                             "load accepts; flatten the structure (e.g. a dict with one key per item)")
        if isinstance(x, (Tensor, np.ndarray, np.generic)):
            return self.reference(x, where)
        if isinstance(x, Size):  # (before tuples: it is one)
            return {"Size": list(x)}
        if isinstance(x, dt.dtype):
            return {"dtype": x.name}
        if isinstance(x, Device):
            return {"device": str(x)}
        if type(x) in (set, frozenset):
            return {type(x).__name__: [self.encode(v, f"{where} item", depth + 1) for v in sorted(x, key=repr)]}
        if type(x) not in (list, tuple) and not isinstance(x, dict):  # also a namedtuple, a Size, a list subclass
            raise TypeError(_unsavable(x, where))
        if id(x) in self.open:
            raise ValueError(f"save: {where} contains itself (a cycle), which cannot be written out; remove the "
                             "self-reference")
        self.open.add(id(x))
        if isinstance(x, dict):
            pairs = [[self.key(k, where), self.encode(v, f"{where}[{k!r}]", depth + 1)] for k, v in x.items()]
            node = {"OrderedDict" if isinstance(x, OrderedDict) else "dict": pairs}
        else:
            items = [self.encode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(x)]
            node = items if type(x) is list else {"tuple": items}
        self.open.discard(id(x))
        return node

    def key(self, k, where):
        if type(k) not in _SCALARS:
            raise TypeError(f"save: {where} has a key {k!r} of type {type(k).__name__}; dict keys must be str, int, "
                            "float, bool or None to be saved")
        return k

    def reference(self, x, where):
        if id(x) in self.refs:
            return self.refs[id(x)]
        name = f"tensors/{len(self.arrays)}.npy"
        if isinstance(x, Tensor):
            node = {"tensor": name, "requires_grad": x.requires_grad, "parameter": isinstance(x, Parameter),
                    "device": str(x.device)}
            array = move(x.array, "cpu")
        else:
            node = {"numpy_scalar" if isinstance(x, np.generic) else "ndarray": name}
            array = np.asarray(x)
            if array.dtype.hasobject:
                raise TypeError(f"save: {where}: cannot save a numpy array of dtype object (its items are Python "
                                "objects, which would need pickle); convert it to numbers or to a list")
        self.arrays[name], self.places[name] = array, where
        self.refs[id(x)] = node
        self.keep.append(x)
        return node


def _overlap(a, b):
    """Do two numpy arrays share any element's memory? (Too hard to tell exactly: taken as yes.)"""
    try:
        return bool(np.shares_memory(a, b, max_work=10**5))
    except np.exceptions.TooHardError:
        return True


def _unsavable(x, where):
    hint = ("save its state_dict() instead: we save data, not objects" if hasattr(x, "state_dict") else
            "save its get_state() instead (a uint8 tensor), and put it back with set_state()"
            if type(x).__name__ == "Generator" and hasattr(x, "get_state") else
            "save dataclasses.asdict(x) instead (a dict of its fields)" if hasattr(x, "__dataclass_fields__") else
            "save vars(x) instead (a dict of its attributes)" if type(x).__name__ == "Namespace" else
            "convert it first (e.g. tuple(x), int(x), str(x)) or leave it out")
    return (f"save: {where}: cannot save a {type(x)}. Files hold tensors, numpy arrays, numbers, strings, None, "
            f"sizes, dtypes and devices, in lists, tuples, sets and dicts; {hint}")


def _write_array(archive, name, array):
    """One array as a ``.npy`` entry of the zip archive (a tensor's dtype and shape travel in the .npy header)."""
    with archive.open(name, "w", force_zip64=True) as out:
        np.lib.format.write_array(out, array, allow_pickle=False)


def atomic_write(path, write, who="save"):
    """Call ``write(stream)`` on a fresh temporary file beside ``path``, then rename it to ``path``.

    The rename (``os.replace``) is one step for the file system: readers see the old file or the complete new one,
    never half of one. If ``write`` raises, the temporary file is removed and ``path`` keeps its old contents.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{who}: the folder {folder!r} does not exist; create it first with "
                                f"os.makedirs({folder!r}, exist_ok=True)")
    if not os.path.basename(path):
        raise ValueError(f"{who}: {path!r} names no file; give a file name such as 'checkpoint.pt'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: {path!r} is a folder; give a file name inside it, e.g. "
                                f"{os.path.join(path, 'checkpoint.pt')!r}")
    if os.path.exists(path) and not _writable(path):
        raise PermissionError(f"{who}: {path!r} is read-only, so it was left unchanged. Make it writable first "
                              f"(os.chmod(path, 0o644), or chmod u+w), or save under another name")
    remove_stale_temporary_files(path)
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:  # (os.open with mode 0o666 lets the umask set the permissions, as for any new file)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except PermissionError:
        raise PermissionError(f"{who}: cannot create files in the folder {folder!r} (permission denied); save "
                              "somewhere you may write, or change the folder's permissions") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())  # on the disk before the rename, so a power cut cannot leave an empty file
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    if os.name == "posix":  # make the rename itself durable
        with contextlib.suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _writable(path):
    """Whether we may overwrite ``path``: the OS says so, and the file has a write permission bit (which even the
    superuser, whom the OS lets write anything, should respect: a file made read-only is meant to stay)."""
    return os.access(path, os.W_OK) and os.stat(path).st_mode & 0o222 != 0


def remove_stale_temporary_files(path):
    """Delete the temporary files that saves of ``path`` left behind when their process was killed.

    A temporary file is named ``.NAME.PID.RANDOM.tmp``. One is stale when the process PID no longer runs, or runs but
    started after the file was written (the number was reused). A save in progress in a live process is left alone.
    """
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)\.[0-9a-f]+\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = pattern.fullmatch(entry.name)
            if match and int(match.group(1)) != os.getpid() and _abandoned(int(match.group(1)), entry):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)


def _abandoned(pid, entry):
    if os.name != "posix":  # (no safe liveness test there: os.kill would end the process)
        return time.time() - entry.stat().st_mtime > 24 * 3600
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, owned by someone else
        pass
    try:
        return os.stat(f"/proc/{pid}").st_ctime > entry.stat().st_mtime + 1  # (Linux: when the process started)
    except OSError:
        return False


# -------------------------------------------------------------------- load
def load(f, map_location=None, *, weights_only=True, mmap=None):
    """Read back what ``save`` wrote. ``f`` is a path or a binary file object.

    ``map_location`` moves every tensor: ``"cpu"``, ``"cuda"``, a ``device``, a dict such as
    ``{"cuda:0": "cpu"}``, or a function ``(tensor on the CPU, saved location) -> tensor or None`` (see the
    module's docstring); by default each tensor goes back to the device it was saved from.
    ``weights_only`` is accepted for compatibility with PyTorch; both values read the same data, never code.
    ``mmap`` is accepted too and changes nothing: the file is read into memory either way.
    Raises ``SerializationError`` (a RuntimeError) for a file that is not ours, damaged, cut short or too new.
    """
    if map_location is not None and not isinstance(map_location, (str, Device, dict)) and not callable(map_location):
        raise TypeError(f"load: map_location must be a device ('cpu', 'cuda', torch.device(...)), a dict like "
                        f"{{'cuda:0': 'cpu'}} or a function, got {type(map_location).__name__}")
    for location in [] if callable(map_location) else map_location.values() if isinstance(map_location, dict) \
            else [map_location]:
        try:  # a misspelt device fails here, even for a file without tensors
            Device("cpu" if location is None else location)
        except (TypeError, RuntimeError) as e:
            raise type(e)(f"load: bad map_location: {e}") from None
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if not os.path.exists(path):
            raise FileNotFoundError(f"load: no such file: {path!r}")
        if os.path.isdir(path):
            raise IsADirectoryError(f"load: {path!r} is a folder, not a checkpoint file")
        with open(path, "rb") as stream:
            return _load_stream(stream, repr(path), map_location)
    if not hasattr(f, "read"):
        raise TypeError(f"load: f must be a path or a binary file object, got {type(f).__name__}")
    stream = f if _seekable(f) else io.BytesIO(f.read())
    return _load_stream(stream, "the file object", map_location)


def _seekable(f):
    try:
        return f.seekable()
    except (AttributeError, OSError, ValueError):
        return False


def _load_stream(stream, name, map_location):
    _check_signature(stream, name)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise SerializationError(
            f"load: {name} is cut short or damaged: its zip directory (at the end of the file) is missing or broken "
            f"({e}). Was the save or the copy interrupted? Save it again, or load an earlier checkpoint.") from None
    with archive:
        header = _read_header(archive, name)
        reader = _Reader(archive, name, map_location)
        try:
            obj = reader.decode(header["object"])
        except (KeyError, ValueError, TypeError) as e:  # a tree that does not match the entries
            raise SerializationError(f"load: {name} is damaged: {type(e).__name__}: {e}; load an earlier checkpoint "
                                     "or save again") from None
    for tensor, saved in reader.for_function:
        _place_by(map_location, tensor, saved, name)
    return obj


def _place_by(function, tensor, saved, name):
    """PyTorch's ``map_location`` function: ``function(tensor on the CPU, saved location)`` returns the tensor
    placed where it should be (``lambda storage, loc: storage`` keeps it on the CPU), or None for the saved
    location. The tensor takes the returned numbers in place, so the tree keeps its objects (and Parameters)."""
    placed = function(tensor.detach(), saved)
    if placed is None:
        if Device(saved).type == "cuda" and not cuda.is_available():
            raise RuntimeError(f"load: {name} holds tensors saved on {saved}, but CUDA is not available here; have "
                               "map_location return them on the CPU (lambda storage, loc: storage)")
        placed = tensor.detach().to(saved)
    if not isinstance(placed, Tensor) or placed.shape != tensor.shape:
        got = (f"shape {tuple(placed.shape)}" if isinstance(placed, Tensor) else
               f"a value of type {type(placed).__name__}")
        raise TypeError(f"load: map_location returned {got} for a tensor of shape {tuple(tensor.shape)}; a "
                        "map_location function returns the tensor it was given, moved (lambda storage, loc: "
                        "storage), or None")
    tensor.array = placed.detach().array


def _read_entry(archive, entry, name):
    """The bytes of one entry. Reading checks them against the CRC-32 checksum stored when they were written."""
    try:
        info = archive.getinfo(entry)
        if info.compress_type != zipfile.ZIP_STORED:  # ours never compress; a compressed entry could be a zip bomb
            raise ValueError(f"its entry {entry!r} is compressed (method {info.compress_type}), which save never does")
        return archive.read(info)
    except KeyError:
        raise SerializationError(f"load: {name} is damaged: its entry {entry!r} is missing; load an earlier "
                                 "checkpoint or save again") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError, OSError) as e:
        raise SerializationError(f"load: {name} is damaged: {entry} cannot be read ({e}). The bytes on disk no "
                                 "longer match what was saved; load an earlier checkpoint or save again.") from None


def _check_signature(stream, name):
    """Recognise a file by its first bytes, so that a wrong file gets a message that says what it is."""
    start = stream.tell()
    head = stream.read(16)
    stream.seek(start)
    if head[:2] == b"PK":
        return
    if not head and start > 0:  # (a buffer just written into: its position is at its end)
        what = (f"has nothing left to read after position {start}: a file object saved into must be rewound "
                "before loading from it: f.seek(0)")
    elif not head:
        what = "is empty (0 bytes): the save was probably interrupted before anything was written"
    elif head[:1] == b"\x80":
        what = ("is a pickle (written by pickle.dump, or by torch.save in its old format). tinygrad_lite never "
                "unpickles, because unpickling can run any code. Open it with torch.load in PyTorch and re-save the "
                "tensors with safetensors.torch.save_file, then read them with tinygrad_lite.safetensors.load_file")
    elif head[:6] == b"\x93NUMPY":
        what = "is a numpy .npy file; read it with numpy.load(path) and wrap it with tinygrad_lite.from_numpy"
    elif len(head) > 8 and head[8:9] == b"{":
        what = ("looks like a safetensors file; read it with tinygrad_lite.safetensors.load_file(path)")
    else:
        what = (f"is not a tinygrad_lite checkpoint: a file written by tinygrad_lite.save starts with the zip "
                f"signature b'PK', this one starts with {head[:8]!r}")
    raise SerializationError(f"load: {name} {what}")


def _read_header(archive, name):
    names = archive.namelist()
    if HEADER not in names:
        if any(n.endswith("data.pkl") for n in names):
            what = ("was written by PyTorch's torch.save (it holds a pickle, data.pkl, which we never run). In "
                    "PyTorch, load it and re-save the tensors with safetensors.torch.save_file, then read them "
                    "with tinygrad_lite.safetensors.load_file")
        elif names and all(n.endswith(".npy") for n in names):
            what = "is a numpy .npz archive; read it with numpy.load(path)"
        else:
            what = f"is a zip archive but not a tinygrad_lite checkpoint (it has no {HEADER}; it holds {names[:5]})"
        raise SerializationError(f"load: {name} {what}")
    size = archive.getinfo(HEADER).file_size
    if size > MAX_HEADER_BYTES:
        raise SerializationError(f"load: {name} is not a checkpoint we can trust: its {HEADER} declares {size} bytes, "
                                 f"more than the {MAX_HEADER_BYTES} a checkpoint needs (its tensors are stored apart)")
    try:
        text = _read_entry(archive, HEADER, name).decode("utf-8")
        _check_depth(text, name)
        header = json.loads(text)
    except ValueError as e:  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        raise SerializationError(f"load: {name} is damaged: its {HEADER} is not valid JSON ({e}); load an earlier "
                                 "checkpoint or save again") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise SerializationError(f"load: {name} is not a tinygrad_lite checkpoint: its {HEADER} names the format "
                                 f"{found!r}, expected {FORMAT!r}")
    version = header.get("version")
    if not isinstance(version, int) or version < 1 or "object" not in header:
        raise SerializationError(f"load: {name} is damaged: its {HEADER} has no valid format version "
                                 f"(found {version!r})")
    if version > VERSION:
        raise SerializationError(f"load: {name} was written in format version {version} by a newer tinygrad_lite; "
                                 f"this one reads up to version {VERSION}. Upgrade tinygrad_lite to load it.")
    return header


def _check_depth(text, name):
    """Refuse JSON nested deeper than a saved tree can be (3 JSON levels per container), before parsing it: the
    parser, and our decoder after it, would otherwise run out of stack (RecursionError) on a crafted file."""
    brackets = np.frombuffer(re.sub(r'"(?:[^"\\]|\\.)*"', "", text).encode("utf-8"), np.uint8)
    steps = np.isin(brackets, (ord("["), ord("{"))).astype(np.int64) - np.isin(brackets, (ord("]"), ord("}")))
    depth = int(np.cumsum(steps).max(initial=0))
    if depth > 3 * (MAX_DEPTH + 1) + 1:  # a dict is 3 JSON levels ({"dict": [[key, value]]}), the header 1 more
        raise SerializationError(f"load: {name} is not a checkpoint we can trust: its {HEADER} nests {depth} levels "
                                 f"deep; save writes at most {MAX_DEPTH} containers inside each other")


class _Reader:
    """Turns the JSON tree back into Python objects, reading each tensor's entry once."""

    def __init__(self, archive, name, map_location):
        self.archive, self.name, self.map_location, self.loaded = archive, name, map_location, {}
        self.for_function = []  # (tensor read on the CPU, its saved location) for a map_location function

    def decode(self, node):
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict):
            return node
        kind = next(iter(node), None)
        if kind == "tuple":
            return tuple(self.decode(item) for item in node[kind])
        if kind in ("dict", "OrderedDict"):
            out = OrderedDict() if kind == "OrderedDict" else {}
            for key, value in node[kind]:
                out[key] = self.decode(value)
            return out
        if kind == "Size":
            return Size(node[kind])
        if kind == "dtype":
            return getattr(dt, node[kind])
        if kind == "device":
            return Device(node[kind])
        if kind in ("set", "frozenset"):
            return (set if kind == "set" else frozenset)(self.decode(item) for item in node[kind])
        if kind in ("tensor", "ndarray", "numpy_scalar"):
            if node[kind] not in self.loaded:
                self.loaded[node[kind]] = self.build(kind, node)
            return self.loaded[node[kind]]
        raise ValueError(f"unknown node {kind!r} in {HEADER}")

    def build(self, kind, node):
        data = _read_entry(self.archive, node[kind], self.name)
        _check_declared_size(data, node[kind], self.name)
        array = np.load(io.BytesIO(data), allow_pickle=False)
        if kind == "ndarray":
            return array
        if kind == "numpy_scalar":
            return array[()]
        target = self.device(node["device"])
        if target.type == "cuda" and not cuda.is_available():
            raise RuntimeError(f"load: {self.name} holds tensors saved on {node['device']}, but CUDA is not available "
                               "here; pass map_location='cpu' to load them on the CPU")
        tensor = Tensor._make(move(array, target), None)
        tensor = Parameter(tensor, requires_grad=node["requires_grad"]) if node["parameter"] else \
            tensor.requires_grad_(node["requires_grad"])
        if callable(self.map_location):  # (placed by the function once the whole tree is read: _place_by)
            self.for_function.append((tensor, node["device"]))
        return tensor

    def device(self, saved):
        if callable(self.map_location):
            return Device("cpu")
        location = self.map_location
        if isinstance(location, dict):
            location = location.get(saved, saved)
        return Device(saved if location is None else location)


def _check_declared_size(data, entry, name):
    """An ``.npy`` header declares a shape and dtype; refuse one that declares more bytes than the entry holds,
    before numpy allocates them (a crafted header could ask for terabytes)."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(stream)
    except (ValueError, TypeError, SyntaxError, EOFError) as e:
        raise SerializationError(f"load: {name} is damaged: {entry} has no valid .npy header ({e})") from None
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise SerializationError(f"load: {name} is damaged: {entry} declares the shape {shape}")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > len(data) - stream.tell():
        raise SerializationError(f"load: {name} is damaged: {entry} declares the shape {shape} of {dtype} "
                                 f"({declared} bytes) but holds {len(data) - stream.tell()} bytes of data")
