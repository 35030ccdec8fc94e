"""No lesson depends on the size of numpy's default integer (issue 33).

numpy's default integer is 64 bits on Linux and macOS but 32 bits where a C long is (numpy on wasm32 in the
browser, numpy < 2 on Windows): there ``np.arange(n)``, ``np.argmax``, ``rng.permutation(n)``, ``np.array([0, 2])``
or ``.astype(int)`` give int32, and a class-index target made from them is refused by ``cross_entropy``,
``nll_loss`` and ``one_hot`` (PyTorch's too: they need int64, torch.long). So every integer array that numpy makes
without an explicit ``dtype=`` and that then reaches tinygrad_lite (or PyTorch) must be made int64 on purpose
(``np.arange(n, dtype=np.int64)``, ``tl.tensor(labels, dtype=tl.int64)``), or be listed in ``ALLOWED`` with the
reason its width does not matter (indices for indexing, which take any integer dtype).

The audit is static (``ast``, well under a second): every code cell of solutions/*.ipynb, in order. A name
assigned from such an array (also through arithmetic, slicing, ``.reshape`` ..., a tuple or list that holds it,
a ``for`` over it, or a function that returns it) is followed through the later lines and cells of its
notebook; it is reported where it (or such an expression itself) is an argument of a call into a library: a
call through ``tl``, ``nn``, ``F``, ``optim``, ``torch``, ``lib``, a name imported from tinygrad_lite or torch,
or a name bound to what such a call returned (a model, a loss function ...). It approximates data flow (it does
not follow attributes, dicts or call arguments into functions), so it can miss a use; but what it reports is
named by lesson, cell and line, and a new unsafe use on any of those paths fails here.
"""
import ast
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))

# (lesson, name, numpy function) -> why its integer width does not matter.
ALLOWED = {
    ("04", "rng.choice(len(train_set), b, replace=False)", "choice"):
        "an index tensor, for x_train[pick] and y_train[pick]: indexing takes any integer dtype",
    ("05", "order", "permutation"):
        "its slices become index tensors, for images[train_idx]: indexing takes any integer dtype",
    ("09", "preds", "argmax"):
        "predicted labels for tl.metrics.confusion_matrix / precision_recall_f1, which take any integer "
        "dtype (the confusion matrix is int64 either way)",
    ("10", "rng.choice(len(X_train), batch, replace=False)", "choice"):
        "an index tensor, for X_train[idx] and y_train[idx]: indexing takes any integer dtype",
}

LIBRARIES = {"tl", "tinygrad_lite", "nn", "F", "optim", "torch", "lib"}
# numpy functions whose integer result has the platform's default width, unless given dtype=
INDEX_FUNCTIONS = {"argmax", "argmin", "argsort", "argpartition", "flatnonzero", "nonzero", "argwhere",
                   "searchsorted", "digitize", "bincount", "indices", "unravel_index", "ravel_multi_index"}
# (Generator.integers is documented to default to int64 already; a lesson still says dtype=np.int64, so that
# its readers never have to know which of these functions do)
RANDOM_INTEGERS = {"integers", "randint", "random_integers", "permutation", "choice"}
# methods that keep an array's integer dtype
KEEPS_DTYPE = {"reshape", "ravel", "flatten", "copy", "squeeze", "transpose", "repeat", "take", "clip", "cumsum",
               "max", "min", "sum", "T", "flat"}
PLATFORM_INT = {"int", "int_", "intp", "uint", "long", "ulong"}


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _platform_dtype(node):
    """True for dtype=int, dtype=np.int_, dtype="int" ...: the platform's default integer, not a fixed width."""
    if isinstance(node, ast.Name):
        return node.id in PLATFORM_INT
    if isinstance(node, ast.Attribute):
        return node.attr in PLATFORM_INT
    return isinstance(node, ast.Constant) and node.value in PLATFORM_INT


def _int_literals(node):
    """A (nested) list or tuple of int literals only, as in np.array([0, 2, 1])."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return bool(node.elts) and all(_int_literals(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _int_literals(node.operand)
    return isinstance(node, ast.Constant) and type(node.value) is int


def _float_literal(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, float)


class Audit:
    """One notebook's cells, in order: which names hold default-width integers, and where they reach a library."""

    def __init__(self, lesson):
        self.lesson = lesson
        self.tainted = {}      # name -> its origin: (cell, line, numpy function, the name it was first given)
        self.functions = {}    # user function returning such an array -> its origin
        self.defs = {}         # user function name -> its FunctionDef, followed again where it is called
        self.active = set()
        self.libraries = set(LIBRARIES)
        self.found = []        # (origin, cell, line, name, code)

    # ------------------------------------------------------------------ what holds a default-width integer
    def origin(self, node):
        """(cell, line, numpy function, first name) if ``node`` evaluates to a default-width integer array (the
        name is "" for an array not yet assigned to a name), else None."""
        if isinstance(node, ast.Name):
            return self.tainted.get(node.id)
        if isinstance(node, ast.Subscript):
            return self.origin(node.value)
        if isinstance(node, ast.Starred):
            return self.origin(node.value)
        if isinstance(node, ast.UnaryOp):
            return self.origin(node.operand)
        if isinstance(node, ast.BinOp):
            if _float_literal(node.left) or _float_literal(node.right) or isinstance(node.op, ast.Div):
                return None
            return self.origin(node.left) or self.origin(node.right)
        if isinstance(node, ast.IfExp):
            return self.origin(node.body) or self.origin(node.orelse)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return next(filter(None, map(self.origin, node.elts)), None)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return self.origin(node.elt)
        if isinstance(node, ast.Attribute) and node.attr in ("T", "flat"):
            return self.origin(node.value)
        if isinstance(node, ast.Call):
            return self.made_by(node)
        return None

    def made_by(self, call):
        keywords = {k.arg: k.value for k in call.keywords}
        func = call.func
        if "dtype" in keywords and not _platform_dtype(keywords["dtype"]):
            return None
        here = (self.cell, call.lineno)
        if isinstance(func, ast.Name):
            return self.functions.get(func.id)
        if not isinstance(func, ast.Attribute):
            return None
        name, owner = func.attr, _root(func.value)
        if name == "astype":
            return (*here, "astype", "") if call.args and _platform_dtype(call.args[0]) else None
        if owner in self.libraries:
            return None                              # a library's own result: its dtype is the library's
        if "dtype" in keywords:                      # dtype=int, np.int_ ...: the platform's width
            return (*here, name, "")
        if name == "arange":
            return None if any(_float_literal(a) for a in call.args) else (*here, name, "")
        if name in ("array", "asarray") and call.args and _int_literals(call.args[0]):
            return (*here, name, "")
        if name in INDEX_FUNCTIONS or name in RANDOM_INTEGERS:
            if name in ("argmax", "argmin", "argsort") and "dim" in keywords:
                return None                          # a tensor's method (dim=): int64 by the library
            if name in ("permutation", "choice") and call.args and not self._count(call.args[0]):
                return None                          # permutes / draws from an array: keeps its dtype
            return (*here, name, "")
        if name in KEEPS_DTYPE:
            return self.origin(func.value)
        return None

    def _count(self, node):
        """permutation(n) / choice(n) with a number (a new arange), not an array to shuffle."""
        if isinstance(node, ast.Constant) or isinstance(node, ast.BinOp):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("len", "int"):
            return True
        if isinstance(node, ast.Attribute):
            return True                              # self.n
        return isinstance(node, ast.Name)         # n (an array to shuffle is rarely a bare name in a lesson)

    # ------------------------------------------------------------------ names, in the order of the code
    def bind(self, target, value_origin, value=None):
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    self.bind(t, self.origin(v), v)
            else:
                for t in target.elts:
                    self.bind(t, value_origin)
        elif isinstance(target, ast.Name):
            if value_origin:
                self.tainted[target.id] = (*value_origin[:3], value_origin[3] or target.id)
            else:
                self.tainted.pop(target.id, None)
            if isinstance(value, ast.Call) and _root(value.func) in self.libraries:
                self.libraries.add(target.id)       # a model, a loss function, a tensor ...
            elif target.id in self.libraries and target.id not in LIBRARIES:
                self.libraries.discard(target.id)

    def statement(self, node, function=None):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            for alias in node.names:
                source = module or alias.name
                if source.split(".")[0] in ("tinygrad_lite", "torch"):
                    self.libraries.add((alias.asname or alias.name).split(".")[0])
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.defs[node.name] = node
            self.body(node, {})
            return
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                self.statement(stmt)
            return
        # the calls of this statement (of a compound statement's header only: its body comes below)
        header = [getattr(node, f) for f in ("test", "iter") if getattr(node, f, None) is not None]
        header += [item.context_expr for item in getattr(node, "items", [])]
        parts = header if hasattr(node, "body") else [node]
        calls = [n for part in parts for n in ast.walk(part) if isinstance(n, ast.Call)]
        for call in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
            self.call(call)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self.bind(target, self.origin(node.value), node.value)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            if isinstance(node, ast.AnnAssign) or not self.origin(node.target):
                self.bind(node.target, self.origin(node.value), node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.bind(node.target, self.origin(node.iter))
        elif isinstance(node, ast.With):
            for item in node.items:
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, None, item.context_expr)
        elif isinstance(node, ast.Return) and function and node.value is not None:
            found = self.origin(node.value)
            if found:
                self.functions[function] = found
        for field in ("body", "orelse", "finalbody", "handlers"):
            for stmt in getattr(node, field, []):
                self.statement(stmt, function)

    def body(self, function, arguments):
        """Follow a function's body, its parameters bound to the origins of the call's ``arguments``."""
        if function.name in self.active:
            return
        params = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
        saved = {name: self.tainted.get(name) for name in params}
        for name in params:
            self.tainted.pop(name, None)
            if arguments.get(name):
                self.tainted[name] = arguments[name]
        self.active.add(function.name)
        for stmt in function.body:
            self.statement(stmt, function.name)
        self.active.discard(function.name)
        for name, before in saved.items():
            self.tainted.pop(name, None) if before is None else self.tainted.__setitem__(name, before)

    def call(self, call):
        """A call into a library: report each argument that holds a default-width integer array; a call of a
        function of the notebook: follow its body with these arguments."""
        if isinstance(call.func, ast.Name) and call.func.id in self.defs:
            function = self.defs[call.func.id]
            names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
            arguments = dict(zip(names, map(self.origin, call.args)))
            arguments.update({k.arg: self.origin(k.value) for k in call.keywords if k.arg})
            if any(arguments.values()):
                self.body(function, arguments)
            return
        if _root(call.func) not in self.libraries:
            return
        keywords = {k.arg: k.value for k in call.keywords}
        if "dtype" in keywords and not _platform_dtype(keywords["dtype"]):
            return                                   # tl.tensor(labels, dtype=tl.int64)
        for arg in [*call.args, *keywords.values()]:
            found = self.origin(arg)
            if found:
                self.found.append((found, self.cell, call.lineno, ast.unparse(arg)))

    def run(self, cells):
        for self.cell, source in cells:
            lines = ["pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
            for stmt in ast.parse("\n".join(lines)).body:
                self.statement(stmt)
        return list(dict.fromkeys(self.found))


def code_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "code"]


@functools.cache
def findings():
    """{(lesson, name, numpy function): [description, ...]} over every solution notebook."""
    out = {}
    for path in SOLUTIONS:
        lesson = path.name[:2]
        for (cell, line, function, name), use_cell, use_line, code in Audit(lesson).run(code_cells(path)):
            key = (lesson, name or code, function)   # the name it was first given, or the expression
            made = f"made by {function}() in cell {cell}, line {line}"
            out.setdefault(key, []).append(f"{path.name}, cell {use_cell}, line {use_line}: {code!r} ({made}) "
                                           f"reaches a library call")
    return out


def test_no_notebook_relies_on_the_default_integer_width():
    unsafe = {key: uses for key, uses in findings().items() if key not in ALLOWED}
    assert not unsafe, (
        "numpy's default integer is 32 bits on some platforms (wasm32, Windows with numpy < 2), where these "
        "integers would not be int64; give them a dtype (np.arange(n, dtype=np.int64), "
        "rng.integers(0, 5, 6, dtype=np.int64), tl.tensor(y, dtype=tl.int64)), or list them in ALLOWED with "
        "the reason their width does not matter:\n" + "\n".join(u for uses in unsafe.values() for u in uses))


def test_the_allowlist_names_only_uses_the_notebooks_have():
    stale = sorted(set(ALLOWED) - set(findings()))
    assert not stale, f"ALLOWED lists uses the notebooks no longer have (remove them): {stale}"


def _flagged(source):
    return [(f, name or code) for (_, _, f, name), _, _, code in Audit("xx").run([(0, source)])]


def test_the_notebook_audit_finds_what_it_must():
    """The audit itself: the ways a default-width integer reaches a library, and the ways it is made safe."""
    unsafe = {
        "y = np.arange(200) % 2\ny_t = tl.tensor(y)": "arange",
        "labels = rng.integers(0, 5, 6)\nF.cross_entropy(logits, torch.tensor(labels))": "integers",
        "t = np.array([0, 2])\nloss = nn.CrossEntropyLoss()(z, tl.tensor(t))": "array",
        "y = (x > 0).astype(int)\nF.one_hot(tl.from_numpy(y), 2)": "astype",
        "def f(n):\n    o = np.random.default_rng(0).permutation(n)\n    return o[:5]\ntl.tensor(f(9))": "permutation",
        "def g(t):\n    return tl.tensor(t)\nlabels = np.argsort(p)\ng(labels)": "argsort",
        "ce = nn.CrossEntropyLoss()\nce(z, tl.tensor(np.argmax(p, axis=1)))": "argmax",
        "y = np.zeros(4, dtype=int)\ntl.tensor(y)": "zeros",
        "cases = [(a, np.arange(3))]\nfor x, y in cases:\n    lib.tensor(y)": "arange",
    }
    for source, function in unsafe.items():
        assert [f for f, _ in _flagged(source)] == [function], (source, _flagged(source))
    safe = [
        "y = np.arange(200, dtype=np.int64) % 2\ny_t = tl.tensor(y)",
        "labels = rng.integers(0, 5, 6, dtype=np.int64)\nF.cross_entropy(z, tl.tensor(labels))",
        "y = np.arange(200) % 2\ny_t = tl.tensor(y, dtype=tl.int64)",
        "x = np.arange(12.0).reshape(4, 3)\ntl.tensor(x)",
        "steps = np.arange(10)\nplt.plot(steps, losses)",
        "y = np.arange(10)\ny = np.zeros(10)\ntl.tensor(y)",
        "t = tl.tensor(Y[np.random.default_rng(0).permutation(10)])",
        "t = tl.tensor(np.random.default_rng(0).permutation(y.numpy()))",
        "i = x.argmax(dim=1)\ntl.tensor(i)",
    ]
    for source in safe:
        assert _flagged(source) == [], source


# ---------------------------------------------------------------------- the lessons, run with 32-bit integers
# Opt-in (about 5 s a lesson): TINYGRAD_LITE_INT32_LESSONS=1 runs the code cells of the lessons that make class
# indices with numpy, in a fresh process, with the notebook's numpy (its `np`, not the library's) narrowed to
# what wasm32 gives: np.arange, argmax, argmin, argsort, flatnonzero, bincount, np.array and a default_rng's
# integers, permutation and choice return int32 unless given a dtype. A cell that raises fails the test.
INT32_RUN = r'''
import json, os, sys, types
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.show = lambda *args, **kwargs: plt.close("all")

def narrow(fn):
    def narrowed(*args, **kwargs):
        out = fn(*args, **kwargs)
        if "dtype" not in kwargs and isinstance(out, np.ndarray) and out.dtype == np.int64:
            return out.astype(np.int32)
        return out
    return narrowed

class Generator32(np.random.Generator):
    integers = narrow(np.random.Generator.integers)
    permutation = narrow(np.random.Generator.permutation)
    choice = narrow(np.random.Generator.choice)

np32 = types.ModuleType("numpy")
np32.__dict__.update(np.__dict__)
for name in ("arange", "argmax", "argmin", "argsort", "flatnonzero", "bincount", "array"):
    setattr(np32, name, narrow(getattr(np, name)))
np32.random = types.ModuleType("numpy.random")
np32.random.__dict__.update(np.random.__dict__)
np32.random.default_rng = lambda seed=None: Generator32(np.random.PCG64(seed))

path = sys.argv[1]
os.chdir(os.path.dirname(path))
namespace = {"__name__": "__main__"}
for i, cell in enumerate(json.load(open(path, encoding="utf-8"))["cells"]):
    if cell["cell_type"] != "code":
        continue
    lines = ["pass" if l.lstrip().startswith(("%", "!")) else l for l in "".join(cell["source"]).splitlines()]
    if namespace.get("np") is np:
        namespace["np"] = np32
    exec(compile("\n".join(lines), f"{os.path.basename(path)}, cell {i}", "exec"), namespace)
'''


@pytest.mark.skipif(not os.environ.get("TINYGRAD_LITE_INT32_LESSONS"),
                    reason="opt-in, about 5 s a lesson: set TINYGRAD_LITE_INT32_LESSONS=1")
@pytest.mark.parametrize("lesson", ["02_loss_functions", "03_backward_pass", "08_gpu_training"])
def test_notebook_runs_with_32_bit_default_integers(lesson):
    path = ROOT / "solutions" / f"{lesson}.ipynb"
    done = subprocess.run([sys.executable, "-c", INT32_RUN, str(path)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, f"{lesson} fails with 32-bit default integers:\n{done.stderr[-3000:]}"
