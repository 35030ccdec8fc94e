"""The library's modules import in one direction: no cycle, every import at the top of its module.

A cycle (``tensor.py`` imports ``linalg.py``, which imports ``tensor.py``) works only in one order and only while
someone keeps the imports that close it inside functions; a newcomer who moves one to the top, as style asks, gets
an ImportError about a partially initialised module. So the imports made when a module is loaded (everything
outside a ``def``) must form a graph without cycles, and every module must import on its own, in a fresh
interpreter. The few imports still inside functions say why on their line or the one above (an optional
dependency such as CuPy or matplotlib, or a package whose ``__init__`` sits below ``tensor.py``).
"""
import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

# the tests share one parse of every module (imports_of, a second each): on one worker
pytestmark = pytest.mark.xdist_group("imports")
PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_lite"
COURSE = PACKAGE / "course"  # the course's tools: not the library (they import nbformat, IPython... on demand)


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


class _LoadTimeImports(ast.NodeVisitor):
    """The import statements a module runs when it is loaded: all of them except those inside functions."""

    def __init__(self):
        self.found, self.deferred = [], []

    def visit_Import(self, node):
        self.found.append(node)

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node):
        self.deferred += [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef


@functools.cache
def imports_of(path):
    visitor = _LoadTimeImports()
    visitor.visit(ast.parse(path.read_text()))
    return visitor


def targets(name, path, node):
    """The library's modules that the import statement ``node`` in module ``name`` loads."""
    if isinstance(node, ast.Import):
        found = [alias.name for alias in node.names]
    else:
        if node.level:
            package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module
        # `from . import linalg` loads the module linalg; `from .tensor import Tensor` loads tensor
        found = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    return {target for target in found if target in MODULES and target != name}


@functools.cache
def import_graph():
    return {name: set().union(*(targets(name, path, node) for node in imports_of(path).found))
            for name, path in MODULES.items()}


def find_cycle(graph):
    """One cycle of ``graph`` as a list of nodes [a, b, ..., a], or None (depth-first search, three colours)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_names_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_relative_imports():
    graph = import_graph()
    assert "tinygrad_lite.ops.elementwise" in graph["tinygrad_lite.tensor"]
    assert "tinygrad_lite.tensor" in graph["tinygrad_lite.linalg"]
    assert "tinygrad_lite.autograd.function" in graph["tinygrad_lite.ops.matmul"]


def test_no_import_cycle_among_the_library_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, ("these modules import each other in a circle (at load time): " + " -> ".join(cycle) +
                           "; move what the lower module needs down to it, so that imports go one way")


def test_imports_inside_functions_say_why():
    unexplained = []
    for path in MODULES.values():
        if COURSE in path.parents:
            continue
        lines = path.read_text().splitlines()
        for node in imports_of(path).deferred:
            here, above = lines[node.lineno - 1], lines[node.lineno - 2]
            if "#" not in here and not above.strip().startswith("#"):
                unexplained.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {here.strip()}")
    assert not unexplained, ("imports inside functions without a reason (a comment on the line or above; or move "
                             "them to the top):\n" + "\n".join(unexplained))


# Run in a fresh interpreter: for each module, forget the library's modules, put an empty ``tinygrad_lite`` package
# in place of the real one (whose __init__ would load everything first), and import the module: so it loads
# with only what its own imports bring, as when it is the first thing a script imports, in any order.
_IMPORT_EACH = """
import importlib, sys, traceback, types
root, names = sys.argv[1], sys.argv[2:]
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "tinygrad_lite" or m.startswith("tinygrad_lite.")]:
        del sys.modules[loaded]
    if name != "tinygrad_lite":
        sys.modules["tinygrad_lite"] = package = types.ModuleType("tinygrad_lite")
        package.__path__ = [root]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc(limit=-2))
print("\\n".join(failed))
"""


@pytest.mark.extended  # (a fresh interpreter or kernel: an end-to-end run, in .ci/run's extended tier)
def test_every_library_module_imports_on_its_own_in_a_fresh_interpreter():
    names = [name for name, path in MODULES.items() if COURSE not in path.parents]
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH, str(PACKAGE), *names], capture_output=True,
                          text=True, timeout=120, cwd=PACKAGE.parent)
    assert done.returncode == 0 and not done.stdout.strip(), f"modules that fail to import:\n{done.stdout}{done.stderr}"


def course_graph():
    """The course's modules (tinygrad_lite/course) and the imports between them, those inside functions too, except
    the import of ``course.exercises`` (importing it registers the lessons' exercises, which import the checks:
    the one import that must come from above) and of the package ``tinygrad_lite.course`` itself."""
    graph = {}
    for name, path in MODULES.items():
        if COURSE not in path.parents or name.startswith("tinygrad_lite.course.exercises"):
            continue
        found = imports_of(path)
        graph[name] = {target for node in found.found + found.deferred for target in targets(name, path, node)
                       if target.startswith("tinygrad_lite.course.")
                       and not target.startswith("tinygrad_lite.course.exercises")}
    return graph


def test_the_course_modules_import_in_one_direction_even_inside_functions():
    """An import inside a function hides a cycle from the load-time graph above, not from a reader: the checks, the
    judging pipeline and the grader import downwards only (registry and compare at the bottom, then pipeline, then
    checks and grading)."""
    graph = course_graph()
    assert "tinygrad_lite.course.pipeline" in graph["tinygrad_lite.course.checks"]
    cycle = find_cycle(graph)
    assert cycle is None, ("these course modules import each other in a circle (counting imports inside "
                           "functions): " + " -> ".join(cycle) + "; move what the lower one needs down to it")
