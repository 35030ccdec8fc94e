"""One judging pipeline for ``check`` and ``grade``: run the learner's code on a case and record what happened, then
turn the record into a verdict, a message and points.

The two halves, with JSON between them:

1. ``Recorder.record(exercise, fn, case, grad_seed)`` runs the learner's ``fn`` on one case (on copies of its
   arguments) and returns a JSON-safe record of what happened: the answer, encoded by ``encoding.py``; what
   the code raised (the learner's own lines); numpy's warnings; which inputs it changed in place; for a
   differentiable exercise, the case again with inputs that require grad (is the result connected to them, and
   the gradients of a seeded random weighted sum of it); whether the answer is, subclasses, refers to or calls the
   library's own implementation of what the exercise says to write yourself (``Exercise.forbid``); in grading,
   whether it called the exercise's reference.
2. ``judge_case(exercise, reference, i, record, seen)`` turns a record into a ``Verdict`` (``verdict.py``): a
   status, a message (its first line ``title``, then ``details``) and hints in tiers (the concept first, the
   concrete hint when the same mistake comes back). ``Reference`` holds the cases and computes, once each, what
   the verdicts need: the reference's answers and gradients, the known mistakes' answers, and whether a trivial
   answer (zeros, ones, a constant, an argument returned unchanged, the notebook example's answer) would pass a
   case (``trivial``).

``check`` (checks.py) runs both halves in the learner's kernel, case by case, and stops at the first failing
case; its record goes through the same JSON encoding as in grading, so check and grade judge the same data with
the same code. ``grade`` runs the first half in the sandboxed kernel (``grading/kernel.py``) and the second in the
grader's own process (``grading/judge.py``), on every case; ``score`` gives the points: the share of passed cases
among the informative ones (those no trivial answer passes).
"""
import contextlib
import copy
import dis
import functools
import inspect
import json
import os
import re
import sys
import sysconfig
import traceback
import types
import warnings
import zlib
from collections import Counter

import numpy as np

from . import blocks
from .answers import TensorAnswer, is_tensor, tensor_parts
from .compare import (
    F32_ROUNDING,
    FLOAT32_ROUNDING,
    FLOAT32_TYPE,
    FLOAT32_TYPE_OF_A_RUN,
    Diagnosed,
    as_numpy,
    compare_arrays,
    diagnose,
    float32_hint,
    float32_rounding,
)
from .display import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from .encoding import BadAnswer, Deep, Encoder, TooLarge, decode
from .registry import GENERIC_ERROR_HINTS, exercise_named
from .verdict import GradedCase, Verdict

NOT_RUN = "not run"

# -------------------------------------------------------------------- whose code is running
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../tinygrad_lite
_SYSTEM_DIRS = tuple(sorted({os.path.abspath(p) + os.sep for k, p in sysconfig.get_paths().items()
                             if k in ("stdlib", "platstdlib", "purelib", "platlib")}))
_STUB_MESSAGE = re.compile(r"^(\d+\.\w+)")  # release's stubs raise NotImplementedError("01.relu: ...")
_KINDS = {}


def code_kind(filename):
    """Whose code a file is: "package" (tinygrad_lite), "system" (Python's own library or an installed package) or
    "learner" (anything else: a notebook cell, a cell the grading kernel ran, a test that plays a learner)."""
    kind = _KINDS.get(filename)
    if kind is None:
        if filename.startswith("<"):
            kind = "system" if filename.startswith("<frozen") else "learner"
        else:
            path = os.path.abspath(filename)
            kind = ("package" if path.startswith(_PACKAGE_DIR + os.sep) else
                    "system" if path.startswith(_SYSTEM_DIRS) else "learner")
        _KINDS[filename] = kind
    return kind


def is_learner_file(filename):
    """True for code that the learner wrote (see ``code_kind``)."""
    return code_kind(filename) == "learner"


def learner_traceback(exc):
    """The last lines of the traceback that are the learner's own code (not tinygrad_lite's), then the error."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR) and f.line]
    lines = [f"line {f.lineno} in {f.name}: {f.line}" for f in own[-3:]]
    return "\n".join(lines + [f"{type(exc).__name__}: {exc}"])


def parameter_names(fn, n):
    """The names of ``fn``'s first ``n`` positional parameters ("argument k" where it has fewer, or none known)."""
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return names + [f"argument {k}" for k in range(len(names), n)]


def argument_shapes(fn, case):
    """A line naming the shape of each array argument, e.g. "The inputs were: x (4, 3), w (3, 5)"."""
    names = parameter_names(fn, len(case.args))
    shapes = [f"{names[k]} {tuple(a.shape)}" for k, a in enumerate(case.args) if hasattr(a, "shape")]
    return f"The inputs were: {', '.join(shapes)}" if shapes else ""


class Warnings:
    """Record numpy's floating-point warnings of the given kinds ("overflow", "invalid", "divide") in a block."""

    def __init__(self, kinds):
        self.kinds, self.seen = tuple(kinds), []

    def __enter__(self):
        if self.kinds:
            self._catch = warnings.catch_warnings(record=True)
            self._log = self._catch.__enter__()
            warnings.simplefilter("always", RuntimeWarning)
            self._err = np.errstate(**{k: "warn" for k in ("over", "invalid", "divide")})
            self._err.__enter__()
        return self

    def __exit__(self, *exc):
        if self.kinds:
            self._err.__exit__(*exc)
            self._catch.__exit__(*exc)
            words = {"overflow": "overflow", "invalid": "invalid value", "divide": "divide by zero"}
            self.seen = list(dict.fromkeys(str(w.message) for w in self._log if issubclass(w.category, RuntimeWarning)
                                           and any(words[k] in str(w.message) for k in self.kinds)))
        return False


def copy_case(value):
    """``copy.deepcopy(value)`` with every tensor's ``.grad``: what each run of a case gets.

    As PyTorch's, a deep copy of a Parameter leaves its ``.grad`` behind, but a case may hand the learner layers
    whose gradients are set (``10.update_ratios``), and every copy a check makes must keep them. ``deepcopy`` keeps
    the objects it copied in ``memo[id(memo)]`` (alive until it is done): each tensor among them whose copy lost its
    ``.grad`` gives it a copy of its own."""
    memo = {}
    copied = _deepcopy(value, memo)
    for original in list(memo.get(id(memo), [])):
        grad, twin = getattr(original, "_grad", None), memo.get(id(original))
        if grad is not None and twin is not None and twin._grad is None:
            twin._grad = _deepcopy(grad, memo)
    return copied


_deepcopy = copy.deepcopy  # (taken when the course loads, before any learner code could replace copy.deepcopy)


def quietly(fn, args, kwargs, exercise=None):
    """``fn``'s answer (through ``exercise.run`` when given), with numpy's warnings silenced: the reference's and
    the known mistakes' answers (a wrong formula may overflow on purpose)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs) if exercise is None else exercise.run(fn, args, kwargs)


def _unwritten_method(exc, fn):
    """For a class exercise whose __init__ is written but a method still raises its stub: that method's name."""
    if not inspect.isclass(fn):
        return None
    frames = traceback.extract_tb(exc.__traceback__)
    name = frames[-1].name if frames else None
    return name if name and name != "__init__" and callable(getattr(fn, name, None)) else None


def stub_origin(exc, fn):
    """Where a NotImplementedError came from: ("own", None) from ``fn`` itself (an unsolved exercise), ("library",
    None) from inside tinygrad_lite, else ("other", (exercise id or None, function name)) from another function,
    e.g. mlp_forward calling a dense_forward that is still a stub."""
    frames = traceback.extract_tb(exc.__traceback__)
    code = getattr(inspect.unwrap(fn), "__code__", None)
    last = frames[-1] if frames else None
    if last is None or code is None or (last.filename == code.co_filename and last.name == code.co_name):
        return "own", None
    match = _STUB_MESSAGE.match(str(exc))
    if os.path.abspath(last.filename).startswith(_PACKAGE_DIR) and not match:
        return "library", None
    exercise_id = match.group(1) if match else exercise_named(last.name)
    return "other", (exercise_id, last.name)


def _float_tensors(value, path, out):
    """Collect (path, tensor) for every floating-point tensor in ``value`` (nested in lists and tuples too)."""
    if is_tensor(value):
        if np.dtype(value.detach().numpy().dtype).kind == "f":
            out.append((path, value))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _float_tensors(v, f"{path}[{i}]", out)
    return out


def grad_inputs(exercise, args, kwargs, names):
    """Make the chosen float tensors among ``args``/``kwargs`` require grad; return [(name, tensor)].

    The choice (``exercise.grad``: True, or names of the reference's parameters) is made by position, so the
    learner's parameters may have other names; ``names`` (the learner's, when known) label the messages."""
    ref_names = parameter_names(exercise.reference, len(args))
    found = []
    for k, a in enumerate(args):
        for path, t in _float_tensors(a, "", []):
            found.append((ref_names[k], names[k] + path, t))
    for name, a in kwargs.items():
        for path, t in _float_tensors(a, "", []):
            found.append((name, name + path, t))
    if exercise.grad is not True:
        wanted = set(exercise.grad)
        found = [f for f in found if f[0] in wanted]
    return [(name, t) for _, name, t in found]


def jitter(inputs, amount, seed):
    """Move each input tensor by a tiny random amount, the same for the learner's and the reference's copies, then
    make it require grad."""
    rng = np.random.default_rng(seed)
    for _, t in inputs:
        if amount:
            array = t.detach().numpy()
            noise = amount * rng.uniform(-1.0, 1.0, array.shape) * np.maximum(1.0, np.abs(array))
            array[...] = (array + noise).astype(array.dtype)
        t.requires_grad_(True)


def changed_inputs(before, after, names):
    """The names of the arguments whose numbers differ after the call (compared with a pristine copy)."""
    def differs(b, a):
        if is_tensor(b) and is_tensor(a):
            b, a = b.detach().numpy(), a.detach().numpy()
        if isinstance(b, np.ndarray) and isinstance(a, np.ndarray):
            if b.shape != a.shape:
                return True
            if b.dtype.kind in "fc":
                with np.errstate(invalid="ignore"):
                    return not np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
            return not np.array_equal(a, b)
        if isinstance(b, (list, tuple)) and isinstance(a, (list, tuple)):
            return len(b) != len(a) or any(differs(x, y) for x, y in zip(b, a))
        return False
    return [name for name, b, a in zip(names, before, after) if differs(b, a)]


def weighted_sum(parts, seed):
    """sum_k (part_k * w_k).sum() with fixed random weights w_k: one number whose gradient reaches every output."""
    from .. import tensor as make_tensor
    rng = np.random.default_rng(seed)
    total = None
    for _, t in parts:
        array = t.detach().numpy()
        w = make_tensor(rng.standard_normal(array.shape).astype(array.dtype))
        term = (t * w).sum()
        total = term if total is None else total + term
    return total


# -------------------------------------------------------------------- tripwires: calls the verdict must know of
def library_name(obj):
    """The name the learner knows a library object by: the shortest public module path that holds it
    ("tinygrad_lite.optim.Adam", "tinygrad_lite.nn.utils.clip_grad_norm_", "tinygrad_lite.Tensor.relu")."""
    name = getattr(obj, "__name__", type(obj).__name__)
    owner = _owner_class(obj) if isinstance(obj, types.FunctionType) else None
    if owner is not None:  # a method: named through its class ("tinygrad_lite.Tensor.relu")
        return f"{library_name(owner)}.{name}"
    root = str(getattr(obj, "__module__", "") or "tinygrad_lite").split(".")[0]  # tinygrad_lite, or torch ...
    found = [m for m, module in list(sys.modules.items())
             if m.split(".")[0] == root and not m.startswith("tinygrad_lite.course") and module is not None
             and not any(part.startswith("_") for part in m.split("."))
             and TRIPWIRES.original(getattr(module, name, None)) is obj]  # (the module may hold its tripwire)
    if not found:
        return f"{getattr(obj, '__module__', 'tinygrad_lite')}.{getattr(obj, '__qualname__', name)}"
    return f"{min(found, key=lambda m: (m.count('.'), len(m)))}.{name}"


class Tripwires:
    """Notes the calls a verdict must know of while the learner's code runs: into the library's own implementation
    of what an exercise says to write yourself (``Exercise.forbid``), and, in grading, into the exercise's
    reference.

    Each watched object is wrapped once, for the rest of the process: a forbidden function where the library's
    modules hold it (and in its class, for a method such as ``Tensor.relu``), a forbidden class's own methods
    inside the class (so that building one, calling one of its methods, or a subclass's ``super()`` call all pass
    through a wrapper, however the class was reached), a reference in the registry and in the course's exercise
    modules. A wrapper notes a call only while ``watch`` is on (the learner's code is running) for an exercise
    that watches that object, and only when the learner's code made it (``_note``): a call made by the
    exercise's own driver, or by the library on its own behalf, is not the learner's. The grading kernel installs
    them before any learner code runs; a check installs an exercise's on its first use (a name the learner bound
    earlier to a forbidden function is found by ``forbidden_use``, which reads what the learner's code refers
    to).
    """

    def __init__(self):
        self._active = None  # (watched keys, boundary frame, notes) while the learner's code runs
        self._originals = {}  # id(wrapper) -> the wrapped function
        self._functions = {}  # id(forbidden object) -> [its functions: originals and wrappers]
        self._installed = {}  # id(object) -> object, for the objects wrapped already (kept alive)

    # ---------------------------------------------------------------- installing
    def _wrapper(self, function, key):
        tripwires = self

        def tripwire(*args, **kwargs):
            if tripwires._active is not None:
                tripwires._note(key, sys._getframe(1))
            return function(*args, **kwargs)
        functools.update_wrapper(tripwire, function)
        del tripwire.__wrapped__  # no way around the tripwire through inspect.unwrap
        with contextlib.suppress(TypeError, ValueError):
            tripwire.__signature__ = inspect.signature(function)
        self._originals[id(tripwire)] = function
        return tripwire

    def forbid(self, objects):
        """Wrap these library objects (classes or functions), each once."""
        replaced = {}  # id(function) -> (function, its wrapper): put in place in the library's modules at the end
        for obj in objects:
            if id(obj) in self._installed or id(obj) in self._originals:  # (a tripwire is never wrapped again)
                continue
            self._installed[id(obj)] = obj
            key = ("forbidden", id(obj))
            functions = self._functions.setdefault(id(obj), [])
            if isinstance(obj, type):
                own = dict(vars(obj))
                if "__init__" not in own and isinstance(obj.__init__, types.FunctionType):
                    own["__init__"] = _delegating_init(obj.__init__)
                for name, value in own.items():
                    if name in ("__init_subclass__", "__class_getitem__"):
                        continue
                    kind = type(value) if isinstance(value, (staticmethod, classmethod)) else None
                    function = value.__func__ if kind else value
                    if not isinstance(function, types.FunctionType):
                        continue
                    wrapper = self._wrapper(function, key)
                    functions += [function, wrapper]
                    setattr(obj, name, kind(wrapper) if kind else wrapper)
            elif isinstance(obj, types.FunctionType):
                wrapper = self._wrapper(obj, key)
                functions += [obj, wrapper]
                replaced[id(obj)] = (obj, wrapper)
                owner = _owner_class(obj)
                if owner is not None:  # a method such as Tensor.relu: x.relu() looks it up in the class
                    setattr(owner, obj.__name__, wrapper)
        self._replace_in_modules(replaced, library=True)

    def references(self, registry):
        """Wrap every exercise's reference in ``registry`` (and where the course's exercise modules hold it)."""
        replaced = {}
        for exercise in registry.values():
            original = exercise.reference
            if id(original) in self._installed:
                continue
            self._installed[id(original)] = original
            wrapper = self._wrapper(original, ("reference", exercise.id))
            exercise.reference = wrapper
            replaced[id(original)] = (original, wrapper)
        self._replace_in_modules(replaced, library=False)

    @staticmethod
    def _replace_in_modules(replaced, library):
        """Put each wrapper of ``replaced`` ({id(original): (original, wrapper)}) wherever a module holds its
        original: a forbidden function (``library``) in the modules of its own package outside the course, a
        reference in the course's exercise modules. One pass over the modules for all of them (a process that
        imported PyTorch holds thousands)."""
        if not replaced:  # (every check calls forbid; only its first call for an exercise wraps anything)
            return

        def root(original):  # a forbidden function: where its own package holds it
            return str(getattr(original, "__module__", "") or "tinygrad_lite").split(".")[0] if library \
                else "tinygrad_lite"
        roots = {root(original) for original, _ in replaced.values()}
        for name, module in list(sys.modules.items()):
            course = name.startswith("tinygrad_lite.course")
            if module is None or name.partition(".")[0] not in roots or course == library:
                continue
            if not library and not name.startswith("tinygrad_lite.course.exercises"):
                continue
            for attr, value in list(vars(module).items()):
                pair = replaced.get(id(value))
                if pair is not None and pair[0] is value and root(value) == name.partition(".")[0]:
                    setattr(module, attr, pair[1])

    # ---------------------------------------------------------------- looking up
    def original(self, obj):
        """The function a wrapper stands for (``obj`` itself when it is no wrapper)."""
        return self._originals.get(id(obj), obj)

    def functions_of(self, obj):
        """The functions that are a forbidden object's implementation: the function (and its wrapper), or a class's
        own methods (and their wrappers)."""
        if id(obj) in self._functions:
            return list(self._functions[id(obj)])
        if isinstance(obj, type):
            return [v.__func__ if isinstance(v, (staticmethod, classmethod)) else v for v in vars(obj).values()
                    if isinstance(v, (types.FunctionType, staticmethod, classmethod))]
        return [obj]

    # ---------------------------------------------------------------- watching
    @contextlib.contextmanager
    def watch(self, keys, boundary):
        """Note the calls to the objects of ``keys`` that the learner's code makes below the frame ``boundary`` (the
        pipeline's frame that calls it); yields the dict of notes {key: True}."""
        notes = {}
        if not keys:
            yield notes
            return
        previous, self._active = self._active, (frozenset(keys), boundary, notes)
        try:
            yield notes
        finally:
            self._active = previous

    def _note(self, key, frame):
        """Note a call to ``key``'s object if the learner's code made it. A forbidden object counts when the code
        that called it (skipping Python's own library) is the learner's: not the exercise's driver, nor the library
        calling it on its own behalf (a building block the learner may use, built on the forbidden object, does not
        count). A reference counts when the learner's code is anywhere between the call and the pipeline (e.g. the
        library's version standing in, which the learner's code called)."""
        watched, boundary, notes = self._active
        if key not in watched or key in notes:
            return
        anywhere = key[0] == "reference"
        while frame is not None and frame is not boundary:
            kind = code_kind(frame.f_code.co_filename)
            if kind == "learner":
                notes[key] = True
                return
            if kind == "package" and not anywhere:
                return
            frame = frame.f_back


TRIPWIRES = Tripwires()


def _owner_class(function):
    """The class whose own method ``function`` is (``Tensor.relu`` -> Tensor), found by its qualified name; None for
    a plain function."""
    parts = function.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return None
    owner = sys.modules.get(function.__module__)
    for part in parts[:-1]:
        owner = getattr(owner, part, None)
    if isinstance(owner, type) and TRIPWIRES.original(vars(owner).get(parts[-1])) is function:  # (or its tripwire)
        return owner
    return None


def _delegating_init(inherited):
    """An ``__init__`` that only calls the inherited one: put into a forbidden class that defines none, so that
    building one passes through a tripwire of its own."""
    def __init__(self, *args, **kwargs):
        return inherited(self, *args, **kwargs)
    return functools.wraps(inherited)(__init__)


def _global_names(code, cache={}):  # noqa: B006  (a cache on purpose)
    """The global names a code object (and the code nested in it) loads, in the order it loads them (as
    ``_dotted_names``)."""
    if code not in cache:
        names = {}
        for instruction in dis.get_instructions(code):
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                names[instruction.argval] = None
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                names.update(_global_names(const))
        cache[code] = names
    return cache[code]


def _learner_class(cls):
    return any(isinstance(v, types.FunctionType) and is_learner_file(v.__code__.co_filename)
               for v in vars(cls).values())


def _dotted_names(code, cache={}):  # noqa: B006  (a cache on purpose)
    """The dotted names a code object (and the code nested in it) reads, as (where, name, attribute, ...): ("global",
    "np", "logaddexp", "reduce") for ``np.logaddexp.reduce(...)``; ("import", "torch", "logsumexp") for
    ``torch.logsumexp(...)`` after an ``import torch`` inside the function (``from torch.special import logsumexp
    as lse`` then ``lse(...)``: ("import", "torch.special.logsumexp")); ("closure", "torch", "logsumexp") where
    ``torch`` is a variable of an enclosing function. In the order the code reads them (a dict's keys, not a set:
    a message that names the first one found is the same on every run, whatever the hash seed)."""
    if code not in cache:
        names, current, aliases = {}, None, {}
        module, fromlist, attrs = None, None, []
        for instruction in dis.get_instructions(code):
            op, arg = instruction.opname, instruction.argval
            if op == "IMPORT_NAME":
                module, attrs = arg, []
            elif op == "IMPORT_FROM" and module is not None:
                attrs.append(arg)
            elif op.startswith("STORE_") and module is not None:
                if fromlist:  # from module import a as x
                    aliases[arg] = f"{module}.{attrs[-1]}" if attrs else module
                else:  # import a.b (binds a), or import a.b as x (binds a.b)
                    aliases[arg], module = (module if attrs else module.split(".")[0]), None
            elif op == "LOAD_CONST":
                fromlist = arg
            if op in ("LOAD_GLOBAL", "LOAD_NAME"):
                current = ("global", arg)
            elif op in ("LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE") and arg in aliases:
                current = ("import", aliases[arg])
            elif op == "LOAD_DEREF":
                current = ("closure", arg)
            elif current is not None and op in ("LOAD_ATTR", "LOAD_METHOD"):
                current += (arg,)
            else:
                current = None
            if current is not None and (len(current) > 2 or current[0] != "global"):
                names[current] = None
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                names.update(_dotted_names(const))
        cache[code] = names
    return cache[code]


def _attribute_values(namespace, dotted, closure=None):
    """What a dotted name (``_dotted_names``) stands for, followed only through modules and classes (a module's
    attribute is looked up; nothing of the learner's runs): ``np.logaddexp`` for ("global", "np", "logaddexp",
    "reduce"). A module imported inside the function is looked up only when it is imported already."""
    where, name, attrs = dotted[0], dotted[1], dotted[2:]
    value = {"global": namespace, "closure": closure or {}}.get(where, {}).get(name) if where != "import" else \
        blocks.resolve(name)
    if where == "import" and not isinstance(value, types.ModuleType) and value is not None:
        yield value
    for attr in attrs:
        if not isinstance(value, (types.ModuleType, type)):
            break
        try:
            with warnings.catch_warnings():  # (a module's deprecated alias warns when it is looked up)
                warnings.simplefilter("ignore")
                value = inspect.getattr_static(value, attr) if isinstance(value, type) else getattr(value, attr)
        except Exception:  # noqa: BLE001  (a module whose lazy attribute fails to import)
            return
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if not isinstance(value, types.ModuleType):
            yield value


def learner_references(root, limit=2000, dotted=False):
    """The objects the learner's code reachable from ``root`` refers to: for a function of the learner's, the
    globals it loads, its closure and its defaults; for a class of the learner's, what its own methods refer to;
    followed into the learner's other functions and classes (not into the library's). ``dotted``: also what the
    dotted names its code reads from its globals stand for, through modules and classes (``F.normalize``,
    ``torch.special.logsumexp``, ``np.logaddexp`` of ``np.logaddexp.reduce``, ``tl.Tensor.softmax``)."""
    seen, todo = set(), [root]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        found = []
        if isinstance(obj, type):
            for cls in obj.__mro__:
                if _learner_class(cls):
                    found += [v.__func__ if isinstance(v, (staticmethod, classmethod)) else v
                              for v in vars(cls).values()]
        elif isinstance(obj, (types.FunctionType, types.MethodType)):
            function = getattr(obj, "__func__", obj)
            if not is_learner_file(function.__code__.co_filename):
                continue
            namespace = function.__globals__
            found += [namespace[n] for n in _global_names(function.__code__) if n in namespace]
            if dotted:
                closure = {}
                for name, cell in zip(function.__code__.co_freevars, function.__closure__ or ()):
                    with contextlib.suppress(ValueError):
                        closure[name] = cell.cell_contents
                found += [v for name in _dotted_names(function.__code__)
                          for v in _attribute_values(namespace, name, closure)]
            for cell in function.__closure__ or ():
                with contextlib.suppress(ValueError):
                    found.append(cell.cell_contents)
            found += list(function.__defaults__ or ()) + list((function.__kwdefaults__ or {}).values())
        elif isinstance(obj, functools.partial):
            found.append(obj.func)
        for value in found:
            yield value
            if isinstance(value, (type, types.FunctionType, types.MethodType, functools.partial)):
                todo.append(value)


def forbidden_objects(exercise):
    """The objects of ``exercise.forbid``. An entry may be an object, or the dotted name of one outside the library
    ("torch.optim.SGD": the exercise must not be handed to PyTorch either). A name is looked up only when its
    top-level package is imported already (a check never imports PyTorch itself): code that uses PyTorch has imported
    it by the time the answer runs, or does on its first call, and is caught on the next case."""
    found = []
    for entry in exercise.forbid:
        if not isinstance(entry, str):
            found.append(TRIPWIRES.original(entry))  # (an exercise made after the install may hold the tripwire)
        elif entry.split(".", 1)[0] in sys.modules:
            obj = blocks.resolve(entry)
            if obj is not None:
                found.append(TRIPWIRES.original(obj))  # (once wrapped, the module holds the tripwire, not the object)
    return tuple(found)


def forbidden_use(exercise, fn, tripwires=TRIPWIRES):
    """(library object, how) when the answer ``fn`` is ("is"), subclasses ("subclasses") or refers to ("uses") one
    of ``exercise.forbid``, or one of its methods; None otherwise. (Calling one is noted while it runs.)"""
    forbid = forbidden_objects(exercise)
    if not forbid:
        return None
    for obj in forbid:
        if fn is obj or tripwires.original(TRIPWIRES.original(fn)) is obj:
            return obj, "is"
    if isinstance(fn, type):
        for obj in forbid:
            if isinstance(obj, type) and fn is not obj and issubclass(fn, obj):
                return obj, "subclasses"
    owners = {}
    for obj in forbid:
        owners[id(obj)] = obj
        for function in tripwires.functions_of(obj):
            owners[id(function)] = obj
    for value in learner_references(fn):
        obj = owners.get(id(tripwires.original(TRIPWIRES.original(value))), owners.get(id(value)))
        if obj is not None:
            return obj, "uses"
    return None


def refused_objects(exercise):
    """[(object, dotted name, block)]: for a "write it yourself" exercise that names its building blocks
    (``Exercise.allow``, and those it tolerates), every catalogued callable outside them (``blocks.py``: the
    library's, and PyTorch's, numpy's and scipy's where imported); () for an exercise without an allow."""
    if exercise.allow is None:
        return ()
    return blocks.refused(tuple(exercise.allow) + tuple(exercise.tolerate), TRIPWIRES.original)


def wired(refused, cache={}):  # noqa: B006  (a cache on purpose)
    """The library's among ``refused``: those that get a tripwire (the other libraries' are found in the learner's
    code by name, never patched)."""
    if id(refused) not in cache:
        cache[id(refused)] = (refused, tuple(entry[0] for entry in refused if str(
            getattr(entry[0], "__module__", "") or "").split(".")[0] == _LIBRARY_ROOT))
    return cache[id(refused)][1]


_LIBRARY_ROOT = __name__.split(".")[0]


def _owners(refused, tripwires, cache={}):  # noqa: B006  (a cache on purpose)
    """{id of a refused object, or of one of its functions and their tripwires: its entry of ``refused``}."""
    key = (id(refused), id(tripwires), len(tripwires._originals))  # (a tripwire made since adds a function)
    if key not in cache:
        owners = {id(entry[0]): entry for entry in refused}
        for entry in refused:
            if isinstance(entry[0], (type, types.FunctionType)):
                for function in tripwires.functions_of(entry[0]):
                    owners.setdefault(id(function), entry)
        cache.clear()
        cache[key] = (refused, tripwires, owners)
    return cache[key][2]


def refused_use(fn, refused, notes, tripwires=TRIPWIRES):
    """(dotted name, how, block) for an answer ``fn`` that is ("is"), called while it ran ("calls"), subclasses
    ("subclasses") or refers to ("uses") one of ``refused`` (``refused_objects``); else None. Of the calls noted in
    ``notes``, one into a library function of its own block (softmax, normalize) is named before one into an
    elementary block of the vocabulary (exp, log), which it may have needed on the way: ``x.log().softmax(1)``
    names softmax; among those, the last one the code called first (what it made to hand to that call came
    before: SGD(...) made only to give ReduceLROnPlateau(...) an optimizer names the scheduler)."""
    entries = {id(entry[0]): entry for entry in refused}
    plain = tripwires.original(TRIPWIRES.original(fn))
    if id(plain) in entries:
        return entries[id(plain)][1], "is", entries[id(plain)][2]
    called = [entry for entry in refused if ("forbidden", id(entry[0])) in notes]
    if called:
        # the last one called first: what a call needs is made before it (a dummy optimizer made to hand to a
        # scheduler: the scheduler is what the answer uses)
        order = list(notes)
        called.sort(key=lambda entry: (entry[2] in blocks.VOCABULARY, -order.index(("forbidden", id(entry[0])))))
        return called[0][1], "calls", called[0][2]
    if isinstance(fn, type):
        for obj, name, block in refused:
            if isinstance(obj, type) and fn is not obj and issubclass(fn, obj):
                return name, "subclasses", block
    owners = _owners(refused, tripwires)
    for value in learner_references(fn, dotted=True):
        entry = owners.get(id(tripwires.original(TRIPWIRES.original(value))), owners.get(id(value)))
        if entry is not None:
            return entry[1], "uses", entry[2]
    return None


# -------------------------------------------------------------------- the first half: recording
class Recorder:
    """Runs the learner's code on one case and records what happened (``record``).

    ``tensor_class``: the library's Tensor (the kernel passes the one it captured before any learner code ran);
    ``catch``: the exceptions of the learner's code to record (a check lets KeyboardInterrupt through, so that the
    learner can stop it; the kernel records everything, sys.exit included); ``after_call``: run after each call
    into the learner's code (the kernel ends a process the learner's code forked); ``references``: note calls
    into the exercise's reference (grading; the references are wrapped by ``Tripwires.references``).
    """

    def __init__(self, tensor_class=None, catch=Exception, after_call=None, references=False, tripwires=TRIPWIRES):
        from ..tensor import Tensor
        self.tensor_class = tensor_class or Tensor
        self.catch, self.after_call, self.references, self.tripwires = catch, after_call, references, tripwires
        self.Encoder, self.TooLarge, self.deepcopy = Encoder, TooLarge, copy_case

    def record(self, exercise, fn, case, grad_seed):
        """The JSON-safe record of ``fn`` on ``case``: keys ``answer`` (encoded), ``error``, ``warnings``,
        ``changed`` (the inputs changed in place), ``graph`` (the run with inputs that require grad),
        ``forbidden`` ({"object", "how"}), ``refused`` ({"object", "how", "block"}: a catalogued callable outside
        the exercise's building blocks, ``Exercise.allow``), ``reference_called``."""
        forbidden, refused = forbidden_objects(exercise), refused_objects(exercise)
        wired_ = wired(refused)
        self.tripwires.forbid(forbidden + wired_)
        keys = [("forbidden", id(obj)) for obj in forbidden] + [("forbidden", id(obj)) for obj in wired_]
        if self.references:
            keys.append(("reference", exercise.id))
        notes = {}
        pristine = (case.args, case.kwargs)  # never handed to any code: each run gets its own deep copy
        args, kwargs = self.deepcopy(pristine)
        raw, warned, error = self._call(exercise, fn, args, kwargs, case, keys, notes)
        out = {}
        if warned:
            out["warnings"] = warned
        if error:
            out["error"] = error
        else:
            out["answer"], error = self._encode(raw)
            if error:
                out["error"] = error
            else:
                moved = changed_defaults(exercise, fn)
                if moved:
                    out["defaults"] = moved
                try:
                    names = parameter_names(fn, len(args))
                    out["changed"] = changed_inputs(pristine[0], args, names) + changed_inputs(
                        [pristine[1][k] for k in sorted(kwargs)], [kwargs[k] for k in sorted(kwargs)], sorted(kwargs))
                except Exception:  # noqa: BLE001  (arguments the learner's code left in a state numpy cannot read)
                    out["changed"] = []
                answer_kind = exercise.answer or TensorAnswer()
                if exercise.grad and tensor_parts(answer_kind, raw):
                    out["graph"] = self._graph(exercise, fn, case, pristine, answer_kind, grad_seed, keys, notes)
        use = forbidden_use(exercise, fn, self.tripwires)
        if use is None:
            called = [obj for obj in forbidden if ("forbidden", id(obj)) in notes]
            use = (called[0], "calls") if called else None
        if use is not None:
            out["forbidden"] = {"object": library_name(use[0]), "how": use[1]}
        elif refused:  # (again: a package the answer imported while it ran adds its names)
            found = refused_use(fn, refused_objects(exercise), notes, self.tripwires)
            if found is not None:
                out["refused"] = {"object": found[0], "how": found[1], "block": found[2]}
        out["reference_called"] = ("reference", exercise.id) in notes
        return out

    def _call(self, exercise, fn, args, kwargs, case, keys, notes):
        """Run the learner's ``fn`` (through the exercise's driver); (raw answer, warnings, error record or None).
        This frame is the boundary below which the tripwires look for the learner's code."""
        raw = error = None
        with Warnings(exercise.warning_kinds()) as caught, self.tripwires.watch(keys, sys._getframe()) as noted:
            try:
                raw = exercise.run(fn, args, kwargs)
            except NotImplementedError as exc:
                origin, info = stub_origin(exc, fn)
                if origin == "own" or (origin == "other" and info[0] == exercise.id):  # e.g. a lambda around the stub
                    error = {"kind": "not_attempted", "method": _unwritten_method(exc, fn)}
                elif origin == "other":
                    error = {"kind": "other_stub", "other": info[0], "name": info[1]}
                else:
                    error = self._error(exc, fn, case)
            except self.catch as exc:
                error = self._error(exc, fn, case)
            finally:
                notes.update(noted)
                if self.after_call is not None:
                    self.after_call()
        return raw, list(caught.seen), error

    def _error(self, exc, fn, case):
        try:
            shapes = argument_shapes(fn, case)
        except Exception:  # noqa: BLE001
            shapes = ""
        return {"kind": "error", "exception": f"{type(exc).__name__}: {str(exc)[:500]}",
                "traceback": self._traceback(exc), "shapes": shapes}

    @staticmethod
    def _traceback(exc):
        try:
            return learner_traceback(exc)[-2000:]
        except Exception:  # noqa: BLE001  (an exception whose str() raises)
            return type(exc).__name__

    def _encode(self, value):
        try:
            return self.Encoder(self.tensor_class).encode(value), None
        except self.TooLarge as e:
            return None, {"kind": "too_large", "text": str(e)}
        except Exception as e:  # noqa: BLE001  (a learner's object whose attributes raise)
            return None, {"kind": "unreadable", "text": f"{type(e).__name__}: {str(e)[:200]}"}

    def _graph(self, exercise, fn, case, pristine, answer_kind, seed, keys, notes):
        """The case again with the inputs requiring grad (moved by the seeded jitter): connected? gradients?"""
        names = parameter_names(fn, len(pristine[0]))
        args, kwargs = self.deepcopy(pristine)
        inputs = grad_inputs(exercise, args, kwargs, names)
        if not inputs:
            return {"inputs": []}
        jitter(inputs, exercise.grad_jitter, seed)
        out = {"inputs": [name for name, _ in inputs]}
        raw, warned, error = self._call(exercise, fn, args, kwargs, case, keys, notes)
        if warned:
            out["warnings"] = warned
        if error:
            out["error"] = error
            return out
        parts = tensor_parts(answer_kind, raw)
        if not parts:
            out["answer"], _ = self._encode(raw)
            return out
        out["connected"] = [[index, bool(part.requires_grad)] for index, part in parts]
        if not all(connected for _, connected in out["connected"]):
            return out
        try:
            with np.errstate(all="ignore"), self.tripwires.watch(keys, sys._getframe()) as noted:
                try:
                    weighted_sum(parts, seed).backward()
                finally:
                    notes.update(noted)
        except self.catch as exc:
            out["backward_error"] = self._traceback(exc)
            return out
        finally:
            if self.after_call is not None:
                self.after_call()
        out["grads"] = [None if t.grad is None else self._encode(np.array(t.grad.detach().numpy(), copy=True))[0]
                        for _, t in inputs]
        return out


def roundtrip(record):
    """``record`` as the grader reads it: through JSON (so that a check judges exactly what grading would)."""
    with Deep():
        return json.loads(json.dumps(record))


# -------------------------------------------------------------------- the reference side
class Reference:
    """The cases of one exercise and what the verdicts on them need, each computed once: the reference's answers
    (``raw``, ``expected``) and gradients, the known mistakes' answers, the reference with an argument left at
    its default (for the ignored-argument hint), and the trivial answers that pass (``trivial``).

    ``Reference(exercise, case_seed, grad_seed)`` makes the cases with the exercise's ``cases(rng)`` from
    ``case_seed``, as the grading kernel does; ``cases=`` gives them instead. The gradients of case ``i`` use the
    seed ``grad_seed + i``. ``Reference.for_check(exercise)``: the check's cases and seeds.
    """

    def __init__(self, exercise, case_seed=None, grad_seed=0, cases=None):
        self.exercise, self.grad_seed = exercise, grad_seed
        if cases is None:
            cases = exercise.cases(np.random.default_rng(case_seed))
        self.cases = list(cases)
        self._raw, self._grads, self._mistakes, self._values, self._trivial = {}, {}, {}, {}, {}

    @classmethod
    def for_check(cls, exercise):
        return cls(exercise, grad_seed=zlib.crc32(f"{exercise.id} gradients".encode()), cases=exercise.all_cases())

    def grad_seed_of(self, i):
        return (self.grad_seed + i) % 2 ** 32

    def raw(self, i):
        """The reference's answer on case ``i`` (as it returned it)."""
        if i not in self._raw:
            case = self.cases[i]
            args, kwargs = copy_case((case.args, case.kwargs))
            raw = quietly(self.exercise.reference, args, kwargs, self.exercise)
            self._raw[i] = (raw, as_numpy(raw))
        return self._raw[i][0]

    def expected(self, i):
        """The reference's answer on case ``i`` as numpy arrays (what answers are compared with)."""
        self.raw(i)
        return self._raw[i][1]

    def grads(self, i):
        """[(input name, gradient array or None)] of the reference on case ``i``, with the learner's jitter."""
        if i not in self._grads:
            exercise, case = self.exercise, self.cases[i]
            args, kwargs = copy_case((case.args, case.kwargs))
            names = parameter_names(exercise.reference, len(args))
            inputs = grad_inputs(exercise, args, kwargs, names)
            seed = self.grad_seed_of(i)
            jitter(inputs, exercise.grad_jitter, seed)
            parts = tensor_parts(exercise.answer or TensorAnswer(), quietly(exercise.reference, args, kwargs, exercise))
            if parts:
                with np.errstate(all="ignore"):
                    weighted_sum(parts, seed).backward()
            self._grads[i] = [(name, None if t.grad is None else t.grad.numpy()) for name, t in inputs]
        return self._grads[i]

    def mistake(self, i, k):
        """(the answer of the exercise's mistake ``k`` on case ``i``, whether it differs from the expected answer);
        raises when that mistake cannot happen on this case (it raised)."""
        if (i, k) not in self._mistakes:
            case, exercise = self.cases[i], self.exercise
            try:
                raw = quietly(exercise.mistakes[k].wrong, *copy_case((case.args, case.kwargs)), exercise)
                if getattr(raw, "problem", None):  # its run stopped at a problem: it has no numbers to match
                    raise ValueError(f"the mistake's run failed: {raw.problem}")
                wrong = as_numpy(raw)
                differs = compare_arrays(wrong, self.expected(i), exercise.rtol, exercise.atol) is not None
                self._mistakes[i, k] = (wrong, differs, None)
            except Exception as e:  # noqa: BLE001  (a mistake that cannot happen here, e.g. shapes that do not fit)
                self._mistakes[i, k] = (None, False, e)
        wrong, differs, error = self._mistakes[i, k]
        if error is not None:
            raise error
        return wrong, differs

    def with_value(self, i, name, value, arguments):
        """The reference's answer on case ``i`` (its ``arguments``, bound by name) with the argument ``name`` set to
        ``value``, e.g. its default or the learner's own default (None if it raises)."""
        key = (i, name, repr(value))
        if key not in self._values:
            try:
                self._values[key] = as_numpy(quietly(self.exercise.reference, (),
                                                     copy_case(dict(arguments, **{name: value})), self.exercise))
            except Exception:  # noqa: BLE001
                self._values[key] = None
        return self._values[key]

    def trivial(self, i):
        """None when case ``i`` is informative; otherwise which trivial answer would pass it: "zeros", "ones", "a
        constant" (the right answer is one value repeated, in more than one number), "its argument `x` returned
        unchanged", "the example's answer, hard-coded" (the example itself is always passed by its own answer,
        which the notebook shows)."""
        if i not in self._trivial:
            self._trivial[i] = self._find_trivial(i)
        return self._trivial[i]

    def _find_trivial(self, i):
        expected, case = self.expected(i), self.cases[i]
        if case.visible:
            return "the example's answer, which the notebook shows"
        candidates = [("zeros", _like(expected, 0)), ("ones", _like(expected, 1))]
        if _constant_valued(expected):
            candidates.append(("a constant", expected))
        names = parameter_names(self.exercise.reference, len(case.args))
        arguments = list(zip(names, case.args)) + list(case.kwargs.items())
        for name, value in arguments:
            candidates.append((f"its argument `{name}` returned unchanged", _numbers(value)))
        for k, other in enumerate(self.cases):
            if other.visible:
                candidates.append(("the example's answer, hard-coded", self.expected(k)))
        for what, answer in candidates:
            if answer is not None and self._passes(answer, i):
                return what
        return None

    def _passes(self, got, i):
        exercise, expected = self.exercise, self.expected(i)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if exercise.compare is not None:
                    return exercise.compare(got, expected, self.cases[i]) is None
                return compare_arrays(got, expected, exercise.rtol, exercise.atol) is None
        except Exception:  # noqa: BLE001  (a comparison that cannot take this trivial answer)
            return False


def _like(expected, value):
    """A trivial answer shaped like ``expected`` with every number ``value`` (None where there is nothing to fill:
    an answer that is not numbers)."""
    if isinstance(expected, (tuple, list)):
        items = [_like(e, value) for e in expected]
        return None if any(item is None for item in items) else type(expected)(items)
    if isinstance(expected, np.ndarray) and expected.dtype.kind in "biuf":
        return np.full(expected.shape, value, dtype=expected.dtype)
    return None


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _constant_valued(expected):
    """True when every number of ``expected`` is one value per part and some part holds more than one number (a
    single number is not a constant answer: the function would have to know it)."""
    leaves = _leaves(expected)
    if not all(isinstance(a, np.ndarray) and a.dtype.kind in "biuf" and a.size for a in leaves):
        return False
    if max(a.size for a in leaves) < 2:
        return False
    with np.errstate(invalid="ignore"):
        return all(bool(np.all(a == a.flat[0])) for a in leaves)


def _numbers(value):
    """An argument as numpy arrays, or None when it holds something else (an object, a function)."""
    value = as_numpy(value)
    leaves = _leaves(value)
    if all(isinstance(a, np.ndarray) and a.dtype.kind in "biuf" for a in leaves):
        return value
    return None


# -------------------------------------------------------------------- hints
F64_MATCH = 1e-9  # a known mistake matched at float64's precision: float32's rounding (6e-8) is far off


def tiers(exercise, key, levels, seen):
    """The hints to show for mistake ``key``: the concept; the more concrete ones as the mistake comes back."""
    counted = (exercise.id, key)
    seen[counted] += 1
    return tuple(levels[:min(seen[counted], len(levels))])


def hints(exercise, reference, i, got, seen, generic=True):
    """The hints for a wrong answer ``got`` on case ``i``: a known mistake's (in tiers), an ignored argument, or a
    generic one."""
    case, expected = reference.cases[i], reference.expected(i)
    # an answer that is the right one but for float32's rounding (on a case judged at float64's precision) is told
    # apart from a known mistake's answer at float64's precision: at the exercise's float32 tolerance a mistake
    # that differs only where float32 loses every digit (a tiny value that float32 rounds to 0) would match it
    rtol, atol = (F64_MATCH, 0.0) if float32_rounding(got, expected) is not None else (exercise.rtol, exercise.atol)
    # a float32 answer is matched to float32's precision (a float64 case's is tighter), by mistakes that float32
    # tells apart from the right answer (or that are float32 themselves)
    loose = rtol != F64_MATCH and getattr(got, "dtype", None) == np.float32 and rtol < F32_ROUNDING
    rtol = F32_ROUNDING if loose else rtol
    for index, mistake in enumerate(exercise.mistakes):
        try:
            if mistake.match is not None:  # (a match may replay wrong versions, which overflow on purpose)
                matched = bool(quietly(mistake.match, (got, expected, case), {}))
            else:
                wrong, differs = reference.mistake(i, index)
                # a mistake that gives the right answer on this case cannot be told apart here (e.g. a right
                # value returned as the wrong type must not get that mistake's hint)
                matched = differs and compare_arrays(got, wrong, rtol, atol) is None and not (
                    loose and getattr(wrong, "dtype", None) != np.float32
                    and compare_arrays(wrong, expected, rtol, atol) is None)
        except Exception:  # noqa: BLE001  (a mistake that cannot happen here, e.g. shapes that do not fit)
            continue
        if matched:
            return tiers(exercise, index, mistake.tiers(), seen)
    ignored = _ignored_argument(exercise, reference, i, got)
    if ignored:
        return (ignored,)
    if generic:
        rounded = float32_hint(got, expected)  # right but for float32's rounding: before the generic distortions
        if rounded:
            return tiers(exercise, "float32", rounded, seen)
        # the notebook's example, when it comes before this case (a check stops at the first case failed, so there
        # the answer passed it; grading judges every case, and a ratio of two counts still names the copied count)
        example = next((c.args for c in reference.cases[:i] if c.visible), ())
        hint = _diagnose_first_wrong(got, expected, [as_numpy(a) for a in case.args], exercise,
                                     [as_numpy(a) for a in example])
        if hint:
            return (hint,)
    return ()


def _diagnose_first_wrong(got, expected, inputs, exercise, example=()):
    """diagnose() of the answer, or of its first wrong result when it is a tuple (e.g. the gradients dx, dw)."""
    kinds = exercise.hint_kinds()
    if not kinds:
        return None
    if not isinstance(expected, (tuple, list)):
        return diagnose(got, expected, inputs, kinds, example)
    if isinstance(got, (tuple, list)) and len(got) == len(expected):
        for g, e in zip(got, expected):
            if compare_arrays(g, e, exercise.rtol, exercise.atol):
                return diagnose(g, e, inputs, kinds, example)
    return None


def _bound_arguments(exercise, case):
    """Case ``case``'s arguments bound to the reference's parameters by name ({name: value}; None if they do not
    bind)."""
    try:
        return inspect.signature(exercise.reference).bind(*case.args, **case.kwargs).arguments
    except (TypeError, ValueError):
        return None


def _ignored_argument(exercise, reference, i, got):
    """A hint when ``got`` is what the reference gives with one argument left at its default although the case
    passes another value: the learner's function ignores that argument. (Not when the default gives the right
    answer on this case anyway: then ignoring the argument cannot be told apart from a right answer.)"""
    expected, arguments = reference.expected(i), _bound_arguments(exercise, reference.cases[i])
    if arguments is None:
        return None
    for name, default in exercise.defaulted_parameters().items():
        if name not in arguments or _same(arguments[name], default):
            continue
        answer = reference.with_value(i, name, default, arguments)
        if answer is None:
            continue
        if (compare_arrays(got, answer, exercise.rtol, exercise.atol) is None
                and compare_arrays(answer, expected, exercise.rtol, exercise.atol) is not None):
            return (f"your answer agrees, to the check's tolerance, with what {name}={default!r} gives, but this "
                    f"case passes {name}={arguments[name]!r}: `{name}` changes nothing in your result. Use the "
                    "argument itself, not a fixed value, and check that what you compute from it reaches the "
                    "result (a value computed and then not used, say)")
    return None


def changed_defaults(exercise, fn):
    """{name: the learner's default} for the parameters whose default in ``fn``'s signature differs from the
    reference's (e.g. eps=1e-6 where the exercise says eps=1e-5): plain numbers, strings, booleans and None."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    moved = {}
    for name, default in exercise.defaulted_parameters().items():
        mine = params.get(name)
        if (mine is not None and mine.default is not inspect.Parameter.empty and not _same(mine.default, default)
                and (mine.default is None or type(mine.default) in (int, float, bool, str))):
            moved[name] = mine.default
    return moved


def _default_hint(exercise, reference, i, record, got):
    """The hint for a failing answer that is what the reference gives with the learner's own default for an
    argument the case leaves out (a default changed in the signature)."""
    moved = record.get("defaults")
    arguments = _bound_arguments(exercise, reference.cases[i]) if isinstance(moved, dict) else None
    if arguments is None:
        return None
    ours = exercise.defaulted_parameters()
    for name, value in moved.items():
        if name not in ours or name in arguments:
            continue
        answer = reference.with_value(i, name, value, arguments)
        if answer is not None and compare_arrays(got, answer, exercise.rtol, exercise.atol) is None:
            return (f"your signature gives {name} the default {value!r}, the exercise's is {name}={ours[name]!r} (as "
                    f"in the notebook's def line): this case leaves {name} out, so it gets your default, and your "
                    f"answer is the right one for {name}={value!r}. Keep the defaults as given")
    return None


def _same(a, b):
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001  (arrays and tensors: not a plain default value)
        return False


def _error_hints(exercise, text, seen, extra=()):
    """The hints for an error, from its text "ExceptionType: message"."""
    for error_hint in tuple(extra) + tuple(exercise.error_hints) + GENERIC_ERROR_HINTS:
        if re.search(error_hint.pattern, text):
            return tiers(exercise, ("error", error_hint.pattern), error_hint.tiers(), seen)
    return ()


# -------------------------------------------------------------------- the second half: judging
def where(case, i, n):
    """How a message names case ``i`` of ``n``: "the example shown in the notebook" or "hidden case 3 of 8"."""
    text = "the example shown in the notebook" if case.visible else f"hidden case {i + 1} of {n}"
    return text + (f" ({case.label})" if case.label else "")


def verdict(status, title, context="", details=(), hints_=()):
    """A ``Verdict``: ``status``; ``title``, the message's first line (what a check shows first); ``details``, the
    lines under it; ``hints``; and ``detail``, the text a grade's feedback shows beside the case (``context``, a
    sentence the title holds, then the details)."""
    details = [str(d) for d in details if d]
    return Verdict(status, title, details, [h for h in hints_ if h],
                   "\n".join(([context] if context else []) + details) or title.split(": ", 1)[-1])


def _forbidden(exercise, forbidden):
    """The verdict on an answer that is, subclasses, refers to or calls the library's own implementation (or
    PyTorch's, where the exercise names it): the same on every case, so what to do about it is a hint (shown once
    in a grade's feedback), not a detail."""
    name, how = str(forbidden.get("object", "?"))[:200], forbidden.get("how")
    what = {"is": "is", "subclasses": "subclasses", "uses": "uses", "calls": "calls, while it runs,"}.get(how, "uses")
    base = getattr(exercise.answer, "base", None)
    blocks = f" (a subclass of {base.__module__.split('.')[0]}'s {base.__name__} is fine)" if base else ""
    whose = "the library's" if name.startswith("tinygrad_lite") else "PyTorch's" if name.startswith("torch") else ""
    sentence = f"write it yourself: your {exercise.name} {what} {whose} {name}".replace("  ", " ")
    why = f"{whose} {name} does that work (or a part of it)"
    return verdict(FAILED, f"{exercise.id}: {sentence}.", sentence, hints_=[
        f"this exercise asks you to write {exercise.name} yourself: {why.strip()}, so it cannot stand in for yours. "
        f"Build it from the lesson's building blocks{blocks} and your own code"])


# how a refusal lists an exercise's building blocks (``Exercise.allow``): what each covers, in the learner's words
BLOCK_WORDS = {
    "arithmetic": "arithmetic and comparisons (+ - * / **, abs, <, ==)",
    "matmul": "matrix products (@, matmul)",
    "std": "std or var",
    "max": "max (or maximum)",
    "min": "min (or minimum)",
    "trig": "cos or sin",
    "clip_grad_norm": "clip_grad_norm_",
}
_GIVEN = {"optimizer": "optimizer", "lr_scheduler": "scheduler"}  # blocks that are objects the function is handed


def allowed_blocks(exercise):
    """The computing blocks ``exercise.allow`` names, listed readably: "arithmetic and comparisons (...), exp,
    log"; the optimizer and scheduler the function is given, not as blocks of their own (a tolerated block is not
    named: the text does not name it)."""
    allow = tuple(exercise.allow or ())
    words = [BLOCK_WORDS.get(str(b), str(b)) for b in allow if b not in _GIVEN]
    given = [_GIVEN[b] for b in allow if b in _GIVEN]
    if given:
        whose = "their" if len(given) > 1 else "its"
        words.append(f"the {' and the '.join(given)} you are given ({whose} own methods, such as state_dict)")
    return ", ".join(words)


def refusal(exercise, refused):
    """The sentence that refuses a catalogued callable outside the exercise's building blocks (``record["refused"]``),
    naming it and pointing to the blocks the exercise's text names: "you called torch.logsumexp, which is not one of
    this exercise's building blocks (a library function that may compute this exercise's work, or part of it); build
    it from the building blocks the exercise's text names (of the functions that compute something, it allows:
    arithmetic and comparisons (...), exp, log, max (or maximum), sum)" (for an elementary block of the vocabulary,
    such as sqrt, without the parenthesis)."""
    name = str(refused.get("object", "?"))[:200]
    how = {"is": "your answer is {}", "calls": "you called {}", "subclasses": "your answer subclasses {}"}.get(
        refused.get("how"), "your code uses {}")
    why = "which is not one of this exercise's building blocks" + (
        "" if refused.get("block") in blocks.VOCABULARY else " (a library function that may compute this exercise's "
        "work, or part of it)")  # (may: a norm in a guard of 06.clip_grad_value_ computes none of it)
    allowed = allowed_blocks(exercise)
    listed = (f" (of the functions that compute something, it allows: {allowed}; shapes, indexing, copies and "
              "dtypes are always fine)") if allowed else ""
    return f"{how.format(name)}, {why}; build it from the building blocks the exercise's text names{listed}"


def judge_case(exercise, reference, i, record, seen, extra_error_hints=()):
    """The verdict on case ``i`` from its ``record`` (see ``verdict``); ``seen`` counts the mistakes met so far, for
    the hint tiers. ``extra_error_hints``: ErrorHints tried first on an error (grading adds its own).

    An answer that used a catalogued callable outside the exercise's building blocks (``record["refused"]``) fails
    where it would pass, with the sentence that names the callable and the blocks; where it fails anyway, that
    sentence is added to the failure's details, after what is wrong (its hint teaches the mistake first)."""
    judged = _judge_case(exercise, reference, i, record, seen, extra_error_hints)
    refused = record.get("refused") if isinstance(record, dict) and not record.get("forbidden") else None
    if not isinstance(refused, dict) or judged.status not in (PASSED, FAILED):
        return judged
    sentence = refusal(exercise, refused)
    if judged.status == PASSED:
        return verdict(FAILED, f"{exercise.id}: {sentence}.", sentence)
    judged.details.append(f"Besides: {sentence}.")
    judged.detail += f"\nBesides: {sentence}."
    return judged


def _judge_case(exercise, reference, i, record, seen, extra_error_hints=()):
    case = reference.cases[i]
    here = where(case, i, len(reference.cases))
    failed = f"{exercise.id}: failed on {here}."
    if record is None:
        return verdict(NOT_RUN, f"{exercise.id}: {here} was not run.", "the exercise stopped before this case")
    if isinstance(record.get("forbidden"), dict):
        return _forbidden(exercise, record["forbidden"])
    error = record.get("error")
    if isinstance(error, dict):
        kind = error.get("kind")
        if kind == "not_attempted" and error.get("method"):
            method = str(error["method"])[:100]
            return verdict(NOT_ATTEMPTED, f"{exercise.id}: not attempted yet, or not finished: {method}() still "
                           "raises NotImplementedError, the stub it came with. Replace that raise with your code, "
                           "run the exercise cell, then run this check again.",
                           f"not attempted or not finished: {method}() still raises NotImplementedError")
        if kind == "not_attempted":
            # (a cell may hold several stubs: once some are written, the rest still raise)
            return verdict(NOT_ATTEMPTED, f"{exercise.id}: not attempted yet, or not finished: the exercise cell "
                           "still raises NotImplementedError. Replace each `raise NotImplementedError` in it with "
                           "your code, run that cell, then run this check again.",
                           "not attempted or not finished: the exercise cell still raises NotImplementedError")
        if kind == "other_stub":
            other, name = error.get("other"), str(error.get("name"))[:100]
            which = f"exercise {other}" if other else f"{name}"
            fallback = (f" or, meanwhile, let the library's version stand in: {name} = use(\"{other}\", {name})"
                        if other else "")
            sentence = (f"your {exercise.name} calls {name}, which is not written yet (it still raises "
                        "NotImplementedError)")
            return verdict(ERROR, f"{exercise.id}: {sentence}. Solve {which} first{fallback}, then run this check "
                           "again.", sentence)
        if kind in ("too_large", "unreadable"):
            return verdict(FAILED, failed, details=[str(error.get("text", ""))[:500]])
        text = str(error.get("exception", ""))
        return verdict(ERROR, f"{exercise.id}: your code raised an error on {here}:", "your code raised an error:",
                       [str(error.get("traceback", "")), str(error.get("shapes", ""))],
                       _error_hints(exercise, text, seen, extra_error_hints))
    if record.get("reference_called"):
        return verdict(FAILED, failed, details=["your function called the course's own reference implementation of "
                                                "this exercise: that answer is the library's, not yours"])
    try:
        raw = decode(record.get("answer"), _tensor)
    except BadAnswer as e:
        return verdict(FAILED, failed, details=[f"the record of your answer is damaged ({e})"])
    got, expected = as_numpy(raw), reference.expected(i)
    warned = record.get("warnings")
    if warned and exercise.warning_kinds() and isinstance(warned, list):
        found = hints(exercise, reference, i, got, seen, generic=False)
        if not found and exercise.stability_hint:
            levels = exercise.stability_hint
            found = tiers(exercise, "stability", (levels,) if isinstance(levels, str) else tuple(levels), seen)
        return verdict(FAILED, failed, details=[_warned(warned)], hints_=found)
    refusal = exercise.answer.refuse(raw, reference.raw(i)) if exercise.answer is not None else None
    if refusal:
        found = hints(exercise, reference, i, got, seen, False)
        # (float32's lost digits only where they show: a float32 whose value the case accepts, such as a fraction
        # of counts, is refused for its type alone, which the refusal says)
        # (an answer kind whose refusal says the fix itself keeps it: see ArrayAnswer.says_float32_fix)
        if not found and not getattr(exercise.answer, "says_float32_fix", False) and \
                _float32_refused(refusal, got, expected) and not reference._passes(got, i):
            # a float32 answer lost its digits for sure; a run whose problem names float64 lost some, maybe to
            # float32 (the rounding's hint, which names an epsilon too); any other run stopped at a float32 number
            level = (FLOAT32_TYPE if getattr(got, "dtype", None) == np.float32 else FLOAT32_ROUNDING
                     if re.search(r"\bfloat64\b", str(refusal)) else FLOAT32_TYPE_OF_A_RUN)
            found = tiers(exercise, "float32", level, seen)
        return verdict(FAILED, failed, details=[refusal], hints_=found)
    if exercise.compare is not None:
        failure = exercise.compare(got, expected, case)
    else:
        failure = compare_arrays(got, expected, exercise.rtol, exercise.atol)
    changed = record.get("changed")
    in_place = None
    if exercise.check_inputs and isinstance(changed, list) and changed:
        name = str(changed[0])[:80]
        # numpy arrays (lesson 03's backwards) have no add_, a list no /=: name what the learner's input is
        arrays = any(type(a).__module__ == "numpy" for a in getattr(case, "args", ()))
        value = (_bound_arguments(exercise, case) or {}).get(name)
        if isinstance(value, list):
            kind, fix = "list", (f"read it ({name}[-1], {name}[:-1], a loop over it) without changing it, and build "
                                 "anything new in a list of your own")
            ways = f"{name}.pop(), {name}.append(...), del {name}[...] or {name}[...] = ..."
        elif isinstance(value, dict):
            kind, fix = "dict", "read it without changing it, and build anything new in a dict of your own"
            ways = f"{name}.pop(...), {name}.update(...), del {name}[...] or {name}[...] = ..."
        else:
            ways, kind = (f"{name} /= ... or {name}[...] = ...", "array") if arrays else (
                f"{name} /= ..., {name}[...] = ... or {name}.add_(...)", "tensor")
            fix = (f"compute a new result, out of place (x = x / total makes a new {kind}; x /= total changes the "
                   "caller's)")
        in_place = (f"your function changed its input `{name}` in place (e.g. {ways}), and that {kind} is the "
                    "caller's too: whatever reads it while your function runs or afterwards (the next layer, the "
                    f"loss, a second call) sees something else. Leave the inputs as they are: {fix}.")
    if failure:  # (a change in place is often why the numbers are wrong: then it is said too)
        default = _default_hint(exercise, reference, i, record, got)
        # a failure that already names its cause gets no generic hint beside it (compare.Diagnosed)
        found = hints(exercise, reference, i, got, seen, generic=not isinstance(failure, Diagnosed))
        return verdict(FAILED, failed, details=[failure] + ([in_place] if in_place else []),
                       hints_=((default,) if default else ()) + tuple(found))
    if in_place:
        levels = exercise.in_place_hint
        found = tiers(exercise, "in_place", (levels,) if isinstance(levels, str) else tuple(levels), seen) \
            if levels else ()
        return verdict(FAILED, failed, details=[in_place], hints_=found)
    if exercise.grad and tensor_parts(exercise.answer or TensorAnswer(), reference.raw(i)):
        return _judge_graph(exercise, reference, i, record.get("graph"), raw, here)
    return verdict(PASSED, f"{exercise.id}: passed {here}.", "passed")


def _float32_refused(refusal, got, expected):
    """Whether an answer refused by its kind is a float32 where the reference's is float64 (or a Python float): a
    float32 array or tensor, or a run that stopped at a number it names a float32 (np.float32(0) as an
    accumulator returns a numpy float32)."""
    def first(value):
        return value[0] if isinstance(value, (tuple, list)) and value else value
    if getattr(first(expected), "dtype", None) != np.float64:
        return False
    text = str(refusal)
    return getattr(first(got), "dtype", None) == np.float32 or bool(
        re.search(r"\bfloat32\b", text) and re.search(r"\bfloat64\b|\bPython float\b", text))


def _warned(warned):
    return (f"numpy warned inside your function: {'; '.join(str(w) for w in warned[:5])}. An intermediate value "
            "overflowed or became invalid (e.g. exp of a large number), even where the final numbers may look right. "
            "This exercise is about computing it without that: no step may overflow.")


def _judge_graph(exercise, reference, i, graph, raw, here):
    """The part of a case run with inputs that require grad: connected to them, and the gradients right."""
    context = "with inputs that require grad (as a network's weights do):"

    def fail(*details):
        return verdict(FAILED, f"{exercise.id}: failed on {here}, with inputs that require grad (as a network's "
                       "weights do).", context, details)
    expected_grads = reference.grads(i)
    if not expected_grads:
        return verdict(PASSED, f"{exercise.id}: passed {here}.", "passed")
    answer = exercise.answer or TensorAnswer()
    if not isinstance(graph, dict):  # the first run gave no tensor to follow, yet its numbers passed
        return fail(answer.refuse(raw, None) or "the result is not a tensor with a graph")
    names = graph.get("inputs")
    if not (isinstance(names, list) and len(names) == len(expected_grads)):
        names = [name for name, _ in expected_grads]
    names = [str(n)[:80] for n in names]
    error = graph.get("error")
    if isinstance(error, dict):
        trace = str(error.get("traceback", error.get("text", "")))
        details = ["your function works on plain tensors, but raised here:", trace, str(error.get("shapes", ""))]
        if "numpy()" in trace:
            details.append(f"numpy has no graph: stay with tensor ops on the inputs, so that loss.backward() can "
                           f"reach {names[0]}")
        if "leaf tensor that requires grad is being used in an in-place operation" in trace:
            details.append("your function changes one of its inputs in place (+=, *=, or a method ending in _ such "
                           "as mul_): that input belongs to the caller, so compute a new tensor instead (no_grad "
                           "is for an optimizer that updates its weights, not for this)")
        return fail(*details)
    if graph.get("warnings") and exercise.warning_kinds() and isinstance(graph["warnings"], list):
        return fail(_warned(graph["warnings"]))
    connected = graph.get("connected")
    if not isinstance(connected, list) or not connected:
        try:
            again = decode(graph.get("answer"), _tensor)
        except BadAnswer:
            again = None
        return fail(answer.refuse(again, None) or "the result is not a tensor")
    for item in connected:
        if not (isinstance(item, list) and len(item) == 2 and item[1] is True):
            what = "your result" if not isinstance(item, list) or item[0] is None else f"result {item[0]}"
            return fail(f"{what} is not connected to the graph: requires_grad is False and grad_fn is None although "
                        "the inputs require grad. It was rebuilt from numpy (tl.tensor(... .numpy())), detached "
                        "(.detach(), .item()), computed under no_grad, or computed from other tensors than the "
                        "arguments (a global, such as the notebook's own example data), so loss.backward() cannot "
                        f"reach {names[0]}: stay with tensor ops on the arguments")
    if isinstance(graph.get("backward_error"), str):
        return fail("the backward pass through your result failed:", graph["backward_error"])
    grads = graph.get("grads")
    if not isinstance(grads, list) or len(grads) != len(expected_grads):
        return fail("no gradients were recorded for this run")
    # an input that got no gradient at all first: it names the cause (e.g. a global used instead of the argument W,
    # which also makes the gradients of the other inputs differ, review 3 of lesson 01)
    cut_off = all(got_node is None for (_, want), got_node in zip(expected_grads, grads) if want is not None)
    for name, (_, want), got_node in zip(names, expected_grads, grads):
        if want is not None and got_node is None:
            return fail(f"no gradient reached `{name}`: your result does not depend on it through tensor ops (was it "
                        "used, and kept in the graph?)" + (
                            ". No input got one: a tensor made anew from numbers, such as "
                            "tl.tensor(x.mean().item(), requires_grad=True), holds the right values but starts a "
                            "graph of its own, with no way back to the inputs" if cut_off else ""))
    for name, (_, want), got_node in zip(names, expected_grads, grads):
        if want is None:
            continue
        try:
            got = decode(got_node)
        except BadAnswer:
            return fail(f"the record of the gradient of `{name}` is damaged")
        atol = exercise.grad_atol * max(1.0, float(np.max(np.abs(want), initial=0.0)))
        failure = compare_arrays(got, want, exercise.grad_rtol, atol,  # (not loss.backward()'s: weights, jitter)
                                 f"the gradient with respect to `{name}` of (result * w).sum(), with random weights "
                                 f"w{' and the inputs moved a little' if exercise.grad_jitter else ''}, the same for "
                                 "the reference")
        if failure:
            if isinstance(got, np.ndarray) and got.dtype.kind == "f" and not np.isfinite(got).all():
                hint = ("the gradient has inf or nan: some step of your formula has an infinite slope there (sqrt "
                        "or log at 0, e.g. sqrt(x * x) at x = 0) or overflows, even where its value is not used. "
                        "where(cond, a, b) computes (and differentiates) both a and b everywhere, so each branch "
                        "must stay finite for every input")
            elif isinstance(got, np.ndarray) and got.shape == want.shape and np.any((got == 0) & (want != 0)):
                hint = ("the gradient is 0 at some elements where it should not be: a .detach(), a clamp, a rounding "
                        "or a comparison in your formula cuts the path from the result back to the input, or an abs "
                        "at exactly 0 (autograd takes its slope there as 0)")
            else:
                hint = ("part of your formula does not pass the gradient back as the formula's does: a .detach(), a "
                        "number taken out with .item(), a rounding or a tensor rebuilt from numpy inside the formula "
                        "is a constant to backward, and so is a tensor used where the argument was meant (a global, "
                        "such as the notebook's own example data); and a step the formula does not have, such as an "
                        "abs or a clamp, changes the slope where that step bends (abs at 0)")
            hints = [exercise.grad_hint, hint]
            if callable(exercise.grad_hint):  # the exercise's own diagnosis (e.g. of a slope wrong only at x = 0)
                own = exercise.grad_hint(got, want, reference.cases[i]) if isinstance(got, np.ndarray) else ""
                hints = [own or hint]
            return verdict(FAILED, f"{exercise.id}: failed on {here}: the values are right, the gradient is not.",
                           "the values are right, the gradient is not:", [failure], hints)
    return verdict(PASSED, f"{exercise.id}: passed {here}.", "passed")


def _tensor(array):
    from .. import from_numpy
    return from_numpy(np.array(array))


def judge_safely(exercise, reference, i, record, seen, extra_error_hints=()):
    """``judge_case``, but an answer that the judging itself cannot handle (the exercise's own compare raised on
    it) is a failed case that says so, never an exception."""
    try:
        return judge_case(exercise, reference, i, record, seen, extra_error_hints)
    except Exception as e:  # noqa: BLE001
        here = where(reference.cases[i], i, len(reference.cases))
        return verdict(FAILED, f"{exercise.id}: the check could not judge your answer on {here}:",
                       "the check could not judge your answer:", [f"{type(e).__name__}: {str(e)[:300]}"])


def judge_exercise(exercise, reference, records, extra_error_hints=()):
    """Every case of one exercise, as grading judges it: ([GradedCase], passed count). ``records``: {i: record}.
    Each case's verdict also says its ``index``, ``where``, ``visible`` and ``informative`` (``trivial``: the
    trivial answer that passes the case, when one does)."""
    seen = Counter()
    verdicts = []
    n = len(reference.cases)
    for i, case in enumerate(reference.cases):
        judged = judge_safely(exercise, reference, i, records.get(i), seen, extra_error_hints)
        verdicts.append(GradedCase.of(judged, i, where(case, i, n), bool(case.visible), reference.trivial(i)))
    return verdicts, sum(v.status == PASSED for v in verdicts)


def score(points, verdicts):
    """An exercise's points from its case verdicts: all of them when every case passed; otherwise its share of the
    informative cases passed, counted among the informative cases and the other cases that failed (a case that a
    trivial answer passes earns nothing, but failing it still costs)."""
    if verdicts and all(v.status == PASSED for v in verdicts):
        return float(points)
    earned = sum(v.status == PASSED and v.informative for v in verdicts)
    counted = sum(v.informative or v.status != PASSED for v in verdicts)
    return round(points * earned / counted, 2) if counted else 0.0
