"""The course's modules import in one direction, each folder taken as one module (issue 48).

From the bottom up: ``registry``, ``compare``, ``encoding`` and ``verdict`` (what both judging and grading need),
``pipeline`` (recording and judging one case), ``checks`` (a check in the learner's notebook), the lessons'
``exercises/`` and ``grading/`` (a class). The graph is read from the sources with ``ast``: every import, at the
top of a module or inside a function, relative or absolute, of a module of ``tinygrad_lite/course/``; a folder
(``exercises/``, ``grading/``) is one node, the imports inside it are its own business. An import against that
order (a lower module importing from a module or folder that imports it) is allowed only where ``ALLOWED`` names
it, with why it stays: at most 3 of them, counted as import statements.
"""
import ast
from collections import defaultdict
from pathlib import Path

from test_imports import find_cycle

COURSE = Path(__file__).resolve().parents[1] / "tinygrad_lite" / "course"
PACKAGE = ("tinygrad_lite", "course")

# (importer, imported): why this import against the layering stays. A folder's node ends with "/".
ALLOWED = {
    ("registry", "exercises/"): "registry._registered: the lessons' exercise modules register themselves in the "
                                "REGISTRY when imported, and a lookup by id or by name (check('03.relu', ...), a "
                                "stub's message) needs them all registered; importing them where they are first "
                                "needed is what lets every other module leave the import of exercises/ to it",
}
MAX_ALLOWED = 3


def _folders():
    return {p.name for p in COURSE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}


def _node(parts, folders):
    """The node of the course module ``parts`` (its path below ``tinygrad_lite.course``): a folder as one node."""
    if not parts:
        return "__init__"
    return f"{parts[0]}/" if parts[0] in folders else parts[0]


def _is_module(parts):
    path = COURSE.joinpath(*parts) if parts else COURSE
    return bool(parts) and (path.with_suffix(".py").is_file() or (path / "__init__.py").is_file())


def _targets(node, package):
    """The course modules (their parts below ``tinygrad_lite.course``) that the import ``node`` names, from a module
    of the package ``package`` (its dotted parts)."""
    found = []
    if isinstance(node, ast.Import):
        names = [alias.name.split(".") for alias in node.names]
        found = [name[2:] for name in names if tuple(name[:2]) == PACKAGE]
    elif isinstance(node, ast.ImportFrom):
        base = list(package[:len(package) - node.level + 1]) if node.level else []
        module = base + (node.module.split(".") if node.module else [])
        if tuple(module[:2]) != PACKAGE:
            return []
        below = module[2:]
        for alias in node.names:  # from . import pipeline, syntax: each a module of its own
            found.append(below + [alias.name] if _is_module(below + [alias.name]) else below)
    return found


def import_graph():
    """{(importer, imported): ["path:line", ...]}: every import between two nodes of the course."""
    folders = _folders()
    edges = defaultdict(list)
    for path in sorted(COURSE.rglob("*.py")):
        parts = path.relative_to(COURSE).with_suffix("").parts
        package = PACKAGE + (parts[:-1] if parts[-1] != "__init__" else parts[:-1])
        here = _node(list(parts) if parts[-1] != "__init__" else list(parts[:-1]), folders)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, package):
                there = _node(target, folders)
                if there != here:
                    edges[here, there].append(f"{path.relative_to(COURSE)}:{node.lineno}")
    return dict(edges)


def cycle_of(edges):
    """A cycle of the graph of ``edges`` (pairs) as [node, ..., node], or None (test_imports.find_cycle's search)."""
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    return find_cycle(graph)


def test_the_graph_sees_imports_at_the_top_and_inside_functions_relative_and_absolute():
    edges = import_graph()
    assert ("checks", "pipeline") in edges  # from . import display, pipeline, syntax
    assert ("grading/", "checks") in edges and ("exercises/", "checks") in edges  # a folder is one node
    assert ("registry", "exercises/") in edges  # inside a function
    assert all(not a.endswith("/") or not b.startswith(a) for a, b in edges)  # nothing from a folder to itself


def test_the_pipeline_imports_nothing_from_grading():
    """What judging and grading both need (the answer encoding, the verdict) sits below both."""
    edges = import_graph()
    assert ("pipeline", "grading/") not in edges, edges.get(("pipeline", "grading/"))
    for low in ("encoding", "verdict"):
        assert not [b for a, b in edges if a == low and b in ("pipeline", "checks", "grading/", "exercises/")]
        assert ("grading/", low) in edges  # (grading reads the answers and the verdicts with them)
    assert ("pipeline", "encoding") in edges and ("pipeline", "verdict") in edges


def test_no_cycle_but_through_the_allowed_imports_and_at_most_three_of_them():
    edges = import_graph()
    allowed = {edge: places for edge, places in edges.items() if edge in ALLOWED}
    assert allowed.keys() == ALLOWED.keys(), f"gone, so out of ALLOWED with them: {set(ALLOWED) - set(allowed)}"
    assert len(ALLOWED) <= MAX_ALLOWED and sum(map(len, allowed.values())) <= MAX_ALLOWED, allowed
    assert all(len(why) > 40 for why in ALLOWED.values())  # each says why it stays
    cycle = cycle_of([edge for edge in edges if edge not in ALLOWED])
    assert cycle is None, ("these course modules import each other in a circle (each folder one module, imports "
                           "inside functions counted): " + " -> ".join(cycle) + "; "
                           + "; ".join(f"{a} -> {b}: {', '.join(edges[a, b])}" for a, b in zip(cycle, cycle[1:])))
