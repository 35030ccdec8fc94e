"""Answers as data: how a learner's answer is written as JSON and read back, by a check and by grading alike.

Below both the judging pipeline and grading (``pipeline.py`` records with it, ``grading/`` reads with it): the
pipeline's ``Recorder`` turns whatever the learner's function returned into JSON with ``Encoder.encode`` (in the
learner's kernel for a check, in the sandboxed grading kernel for a grade), and its judge turns it back into plain
objects with ``decode``, never running anything the learner wrote (in grading, in the grader's own process). Every
value becomes a tagged dict ``{"t": kind, ...}``:

- ``none``, ``bool``, ``int``, ``float`` (nan and inf included), ``str``;
- ``list``, ``tuple`` (a named tuple keeps its field names), ``dict``;
- ``ndarray`` (dtype, shape and the raw bytes in base64; arrays of objects element by element), ``npscalar``;
- ``tensor``: a tinygrad_lite Tensor, its array and dtype (the grader rebuilds a Tensor, so that the answer-kind
  rules of ``answers.py`` judge it as in a check);
- ``foreign``: a tensor of another library (PyTorch's), kept with its type name and numbers;
- ``object``: any other object, by its type name and its attributes (``vars``), so that a list of graph nodes
  (objects with ``label`` and ``inputs``) can be judged; an object met twice is encoded once and referred to by
  number (``ref``), so shared nodes stay shared;
- ``callable`` and ``opaque``: only their type name and a short repr.

Nothing here trusts the file: ``decode`` checks every tag and shape and raises ``BadAnswer`` for anything
malformed, and a size budget bounds what the kernel may write (``TooLarge``).
"""
import base64
import collections
import functools
import math
import types

import numpy as np

MAX_NODES = 200_000  # values in one answer (array elements count as one per array)
MAX_BYTES = 32 * 2 ** 20  # bytes of array data in one answer
MAX_STR = 2_000  # characters kept of a string or repr
MAX_ATTRS = 64  # attributes kept of an object
MAX_DEPTH = 500  # nesting (a chain of graph nodes in the wrong order nests one level per node)


class Deep:
    """Room on the interpreter's stack for MAX_DEPTH levels of encoding or decoding (each takes a few frames, in
    this module and in ``json``): ``with Deep(): ...``."""

    def __enter__(self):
        import sys
        self.old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(self.old, 6 * MAX_DEPTH))

    def __exit__(self, *exc):
        import sys
        sys.setrecursionlimit(self.old)


_CALLABLES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, type,
              functools.partial)


class TooLarge(Exception):
    """The answer is larger than the budget allows."""


class BadAnswer(Exception):
    """An encoded answer that is not well formed (a damaged or forged file)."""


def type_name(value):
    """The type's name as ``answers.type_name`` gives it: "Tensor", "float", "numpy.ndarray", "torch.Tensor"."""
    cls = type(value)
    module = str(getattr(cls, "__module__", "") or "").split(".")[0]
    name = getattr(cls, "__name__", "object")
    return name if module in ("builtins", "tinygrad_lite") else f"{module}.{name}"


class Encoder:
    """Encode one answer within a budget; ``tensor_class`` is the library's Tensor (captured before any learner
    code ran, so that a learner's rebinding of the name changes nothing)."""

    def __init__(self, tensor_class, max_nodes=MAX_NODES, max_bytes=MAX_BYTES):
        self.tensor_class, self.max_nodes, self.max_bytes = tensor_class, max_nodes, max_bytes
        self.nodes = self.bytes = 0
        self.memo = {}

    def _count(self, nbytes=0):
        self.nodes += 1
        self.bytes += nbytes
        if self.nodes > self.max_nodes or self.bytes > self.max_bytes:
            raise TooLarge(f"the answer is too large to grade (over {self.max_nodes} values or "
                           f"{self.max_bytes // 2 ** 20} MB of numbers)")

    def encode(self, value, depth=0):
        if depth == 0:
            with Deep():
                return self._encode(value, 0)
        return self._encode(value, depth)

    def _encode(self, value, depth):
        if depth > MAX_DEPTH:
            raise TooLarge(f"the answer is nested more than {MAX_DEPTH} levels deep")
        self._count()
        if value is None:
            return {"t": "none"}
        if isinstance(value, bool) and type(value) is bool:
            return {"t": "bool", "v": value}
        if type(value) is int:
            return {"t": "int", "v": str(value)}  # as text: JSON readers may round big integers
        if type(value) is float:
            return {"t": "float", "v": repr(value)}
        if type(value) is str:
            return {"t": "str", "v": value[:MAX_STR]}
        if isinstance(value, np.ndarray):
            encoded = self._array(np.asarray(value), depth)
            if type(value) is not np.ndarray and encoded["t"] == "ndarray":  # a subclass, e.g. the course's Run
                cls = type(value)
                attrs = getattr(value, "__dict__", None) or {}
                encoded.update(subclass=[str(cls.__module__), str(cls.__name__)],
                               attrs={k: self.encode(v, depth + 1) for k, v in list(attrs.items())[:MAX_ATTRS]
                                      if isinstance(k, str)})
            return encoded
        if isinstance(value, np.generic):
            array = np.asarray(value)
            if array.dtype.kind not in "biufc":
                return self._opaque(value)
            self._count(array.nbytes)
            return {"t": "npscalar", "dtype": array.dtype.str, "data": _b64(array.tobytes())}
        if isinstance(value, self.tensor_class):
            array = np.array(value.detach().numpy(), copy=True)
            return {"t": "tensor", "type": type_name(value), "array": self._array(array, depth),
                    "requires_grad": bool(value.requires_grad), "grad_fn": value.grad_fn is not None}
        key = id(value)
        if key in self.memo:
            return {"t": "ref", "v": self.memo[key]}
        if type(value) in (list, tuple) or (isinstance(value, tuple) and hasattr(value, "_fields")):
            self.memo[key] = len(self.memo)
            encoded = {"t": "list" if isinstance(value, list) else "tuple", "id": self.memo[key],
                       "items": [self.encode(v, depth + 1) for v in value]}
            if isinstance(value, tuple) and hasattr(value, "_fields"):
                encoded["fields"] = [str(f) for f in value._fields][:MAX_ATTRS]
                encoded["type"] = type_name(value)
            return encoded
        if type(value) in (dict, collections.OrderedDict):
            self.memo[key] = len(self.memo)
            return {"t": "dict", "id": self.memo[key],
                    "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if type_name(value).startswith("torch.") and hasattr(value, "detach"):
            array = np.array(value.detach().cpu().numpy(), copy=True)
            return {"t": "foreign", "type": type_name(value), "array": self._array(array, depth)}
        if isinstance(value, _CALLABLES):
            return {"t": "callable", "type": type_name(value), "repr": _short_repr(value)}
        attrs = getattr(value, "__dict__", None)
        if not isinstance(attrs, dict):
            return self._opaque(value)
        self.memo[key] = len(self.memo)
        cls = type(value)
        encoded = {"t": "object", "id": self.memo[key], "module": str(cls.__module__), "name": str(cls.__name__),
                   "callable": callable(value), "attrs": {}}
        for name, v in list(attrs.items())[:MAX_ATTRS]:
            if isinstance(name, str):
                encoded["attrs"][name] = self.encode(v, depth + 1)
        return encoded

    def _array(self, array, depth):
        if array.dtype.kind in "biufc":
            array = np.array(array, order="C", copy=True)  # (ascontiguousarray would make a 0-d array 1-d)
            self._count(array.nbytes)
            return {"t": "ndarray", "dtype": array.dtype.str, "shape": list(array.shape),
                    "data": _b64(array.tobytes())}
        if array.dtype == object:
            if array.size > 10_000:
                raise TooLarge("the answer holds an array of more than 10,000 objects")
            return {"t": "objarray", "shape": list(array.shape),
                    "items": [self.encode(v, depth + 1) for v in array.reshape(-1).tolist()]}
        return {"t": "opaque", "type": f"numpy.ndarray of {array.dtype}", "repr": ""}

    def _opaque(self, value):
        return {"t": "opaque", "type": type_name(value), "repr": _short_repr(value)}


def _short_repr(value):
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001  (a learner's __repr__ may raise anything)
        text = "<repr failed>"
    return text[:200]


def _b64(data):
    return base64.b64encode(data).decode("ascii")


# -------------------------------------------------------------------- decoding, in the grader
class Opaque:
    """What the grader holds for an object it cannot rebuild: its type name (``type_name``) and a repr. Decoding
    makes it an instance of a subclass named like the original type (a ``generator``, a ``set``), so that messages
    name the type as the learner knows it."""

    def __init__(self, type_label, text=""):
        self.type_label, self.text = type_label, text

    def __repr__(self):
        return self.text or f"<{self.type_label}>"


class ForeignTensor:
    """A tensor of another library (PyTorch's), rebuilt as an object whose type is named like the original and
    whose ``detach().numpy()`` gives its numbers (so that checks name it and compare it as they would)."""

    def __init__(self, array):
        self._array = array

    def detach(self):
        return self

    def numpy(self):
        return self._array


_CLASSES = {}


def _class(module, name, base=object):
    """A stand-in class named like the learner's (its ``__module__`` and ``__name__``), so that messages name the
    type as the learner knows it."""
    key = (module, name, base)
    if key not in _CLASSES:
        body = {"__module__": module}
        if base is object:
            body["__repr__"] = lambda self: f"<{name}>"
        _CLASSES[key] = type(name, (base,), body)
    return _CLASSES[key]


_NAMEDTUPLES = {}


def _namedtuple(type_label, fields):
    key = (type_label, tuple(fields))
    if key not in _NAMEDTUPLES:
        name = type_label.rsplit(".", 1)[-1]
        name = name if name.isidentifier() else "result"
        safe = [f if f.isidentifier() and not f.startswith("_") else f"field{i}" for i, f in enumerate(fields)]
        if len(set(safe)) != len(safe):
            safe = [f"field{i}" for i in range(len(fields))]
        _NAMEDTUPLES[key] = collections.namedtuple(name, safe)
    return _NAMEDTUPLES[key]


def _array_from(node):
    if not isinstance(node, dict) or node.get("t") != "ndarray":
        raise BadAnswer("expected an encoded array")
    try:
        dtype = np.dtype(str(node["dtype"]))
        shape = tuple(int(n) for n in node["shape"])
        data = base64.b64decode(str(node["data"]), validate=True)
    except (KeyError, TypeError, ValueError) as e:
        raise BadAnswer(f"malformed array ({e})") from None
    if dtype.kind not in "biufc" or any(n < 0 for n in shape) or len(shape) > 32:
        raise BadAnswer("malformed array (dtype or shape)")
    if len(data) != dtype.itemsize * math.prod(shape):
        raise BadAnswer("malformed array (its data does not fit its shape)")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def decode(node, tensor_factory=None):
    """The value an encoded answer stands for. ``tensor_factory(array)`` rebuilds a Tensor (the library's)."""
    refs = {}

    def walk(node, depth):
        if depth > MAX_DEPTH + 4 or not isinstance(node, dict):
            raise BadAnswer("malformed answer")
        t = node.get("t")
        try:
            if t == "none":
                return None
            if t == "bool":
                return bool(node["v"]) if isinstance(node["v"], bool) else _bad()
            if t == "int":
                return int(str(node["v"])[:5000])
            if t == "float":
                return float(str(node["v"]))
            if t == "str":
                return str(node["v"])
            if t == "ndarray":
                array = _array_from(node)
                if "subclass" in node:
                    module, name = (str(x) for x in node["subclass"])
                    array = array.view(_class(module, name, base=np.ndarray))
                    for key, v in dict(node.get("attrs", {})).items():
                        if isinstance(key, str) and not key.startswith("__"):
                            array.__dict__[key] = walk(v, depth + 1)
                return array
            if t == "npscalar":
                return _array_from({"t": "ndarray", "dtype": node["dtype"], "shape": [], "data": node["data"]})[()]
            if t == "tensor":
                array = _array_from(node["array"])
                return tensor_factory(array) if tensor_factory else array
            if t == "foreign":
                cls = _class(*(str(node["type"]).split(".", 1) if "." in str(node["type"]) else ("", "x")),
                             base=ForeignTensor)
                return cls(_array_from(node["array"]))
            if t == "objarray":
                shape = tuple(int(n) for n in node["shape"])
                items = [walk(v, depth + 1) for v in node["items"]]
                if math.prod(shape) != len(items):
                    return _bad()
                out = np.empty(len(items), dtype=object)
                out[:] = items if items else out
                return out.reshape(shape)
            if t == "ref":
                return refs[int(node["v"])]
            if t in ("list", "tuple"):
                items = []
                if t == "list":
                    refs[int(node["id"])] = items
                    items.extend(walk(v, depth + 1) for v in node["items"])
                    return items
                values = [walk(v, depth + 1) for v in node["items"]]
                if "fields" in node:
                    fields = [str(f) for f in node["fields"]]
                    if len(fields) == len(values):
                        value = _namedtuple(str(node.get("type", "result")), fields)(*values)
                        refs[int(node["id"])] = value
                        return value
                value = tuple(values)
                refs[int(node["id"])] = value
                return value
            if t == "dict":
                out = {}
                refs[int(node["id"])] = out
                for k, v in node["items"]:
                    key = walk(k, depth + 1)
                    try:
                        hash(key)
                    except TypeError:
                        key = repr(key)
                    out[key] = walk(v, depth + 1)
                return out
            if t == "object":
                obj = _class(str(node["module"]), str(node["name"]))()
                refs[int(node["id"])] = obj
                for name, v in dict(node["attrs"]).items():
                    if isinstance(name, str) and not name.startswith("__"):
                        obj.__dict__[name] = walk(v, depth + 1)
                return obj
            if t in ("callable", "opaque"):
                label = str(node.get("type", "object"))[:200]
                module, name = label.split(".", 1) if "." in label else ("builtins", label)
                return _class(module, name, base=Opaque)(label, str(node.get("repr", ""))[:200])
        except BadAnswer:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError) as e:
            raise BadAnswer(f"malformed answer ({type(e).__name__})") from None
        raise BadAnswer(f"unknown kind {t!r} in the answer")

    with Deep():
        return walk(node, 0)


def _bad():
    raise BadAnswer("malformed answer")
