"""Mutation testing of the exercises: does every plausible wrong answer fail its check?

A *mutant* is the solution of an exercise with one small change, made automatically with Python's ``ast``: the
kinds of change that mutmut and cosmic-ray make, and that learners make too.

- ``comparison``: a boundary moved or a test flipped (``<`` / ``<=``, ``>`` / ``>=``, ``==`` / ``!=``, ``is`` /
  ``is not``, ``in`` / ``not in``);
- ``arithmetic``: an operator swapped (``+`` / ``-``, ``*`` / ``/``, ``**`` -> ``*``, ``//`` -> ``/``), a unary
  minus dropped; in an augmented assignment too (``+=`` / ``-=``, ``*=`` / ``/=``), or ``+=`` made ``=``;
- ``constant``: a number moved by one or set to 0 or 1, ``True`` / ``False`` swapped;
- ``statement deleted``: each statement replaced by ``pass`` (a call such as ``model.train()``, ``.to(device)``,
  ``zero_grad()``, ``copy.deepcopy``; a state reset; an assignment; a ``return``; a whole ``if`` or loop); also
  each call statement that the cell gives around the solution inside the function (e.g. a ``model.train()``
  written before ``### BEGIN SOLUTION``), which a learner may delete as well;
- ``arguments swapped``: two arguments of a call (positional or keyword) trade places; ``factors swapped``: the
  two factors of a matrix product (``a @ b`` -> ``b @ a``); ``transpose dropped``: ``w.T`` -> ``w``;
- ``call dropped``: a copy or a conversion left out (``g.clone()`` -> ``g``, ``copy.deepcopy(s)`` -> ``s``,
  ``x.to(device)`` -> ``x``, ``loss.item()`` -> ``loss``);
- ``group option from defaults``: ``group[...]`` read from ``self.defaults[...]`` (an optimizer that ignores its
  parameter groups);
- ``input returned``: the solution's part of a function body replaced by ``return <its first argument>`` (``pass``
  where the function returns nothing);
- ``intermediate returned``: ``return <a value the function computed before>`` instead of its result;
- ``boolean``: ``and`` / ``or`` swapped, a ``not`` dropped; ``min`` / ``max`` swapped.

Only the solution is mutated: the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of the exercise
cell of ``solutions/NN_*.ipynb`` (found by its cell metadata), plus the deletion of the calls given around it.
Each mutant has a stable, readable ``key`` such as ``line 5: `norm > limit` -> `norm >= limit```, its line
counted in the cell as Jupyter shows it.

A mutant is built the way the notebook builds the learner's answer: its cell is executed in a namespace holding
what the notebook's earlier cells import or define and the cell uses (``prelude``), computed once per exercise.
The unmutated solution, built the same way, must pass its check and the battery: otherwise the harness is broken
and says so (``HarnessError``), instead of counting every mutant as killed.

Judging (``judge``): a mutant whose check fails is **killed**. One that passes is compared with the reference on a
differential battery: the check's cases, ``exercise.battery(rng)`` and the exercise's cases drawn with other seeds,
judged by the same rules (``run_check`` of a copy of the exercise whose cases are the battery). If it fails there
it **survives**: it behaves differently from the solution, and the check did not notice (a hole in the check's
cases). If it passes everything it is **equivalent**, and must be listed with its reason in the reviewed file
``exercises/equivalent_mutants.toml``; an unlisted equivalent is *unreviewed*, a listed key that is no longer an
equivalent mutant is *stale*. The score of an exercise is killed / distinguishable (killed + survived).

Each mutant runs with a CPU-time limit (a mutant that loops forever counts as killed: the learner's check would
never pass) and with its printed output discarded beyond a few thousand characters.
"""
import ast
import builtins
import contextlib
import copy
import dataclasses
import functools
import io
import re
import signal
import symtable
import threading
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checks import Case, get_exercise, run_check
from .notebooks import BEGIN, END, meta, read_notebook

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EQUIVALENTS = Path(__file__).resolve().parent / "exercises" / "equivalent_mutants.toml"
TIME_LIMIT = 20.0        # seconds of CPU time per mutant (its check and its battery)
OUTPUT_LIMIT = 10_000    # characters of a mutant's printed output kept (and never shown)
BATTERY_SEEDS = (1, 2)
SNIPPET = 36             # characters of code shown on each side of a key

KILLED, SURVIVED, EQUIVALENT, UNREVIEWED = "killed", "survived", "equivalent", "unreviewed"


class HarnessError(Exception):
    """The mutation harness cannot judge an exercise: its unmutated solution, built as the mutants are, does not
    pass its check or its battery, or the exercise cell cannot be found. Never counted as killed mutants."""


class MutantTimeout(BaseException):
    """Raised inside a mutant that used up its CPU time. A BaseException, so that the check's own ``except
    Exception`` does not turn it into an ordinary error verdict."""


# -------------------------------------------------------------------- finding the exercise cell
@dataclass
class ExerciseCell:
    """An exercise's cell in its solution notebook: its source, the cell lines (1-based) of its solution, and the
    prelude: the source of the statements of earlier cells that it needs (imports, definitions)."""
    exercise_id: str
    source: str
    solution_lines: frozenset
    prelude: tuple
    notebook: Path


def _solution_lines(source):
    """The numbers (1-based) of the lines between the BEGIN and END SOLUTION markers of a cell."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), 1):
        text = line.strip()
        if text.startswith(BEGIN):
            inside = True
        elif text.startswith(END):
            inside = False
        elif inside:
            lines.add(number)
    return frozenset(lines)


def _notebook_for(exercise_id):
    """solutions/NN_*.ipynb of the exercise's lesson NN."""
    lesson = exercise_id.split(".", 1)[0]
    found = sorted(SOLUTIONS.glob(f"{lesson}_*.ipynb"))
    if not found:
        raise HarnessError(f"{exercise_id}: no solution notebook {SOLUTIONS.name}/{lesson}_*.ipynb")
    return found[0]


@functools.cache
def _read(path):
    return read_notebook(path)


def _needed_names(source):
    """The global names a piece of code reads without binding them itself (builtins left out)."""
    table = symtable.symtable(source, "<cell>", "exec")
    bound = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    needed = {s.get_name() for s in table.get_symbols() if s.is_referenced() and s.get_name() not in bound}

    def visit(t):
        for child in t.get_children():
            needed.update(s.get_name() for s in child.get_symbols()
                          if s.is_global() and s.is_referenced() and s.get_name() not in bound)
            visit(child)
    visit(table)
    return {n for n in needed if not hasattr(builtins, n)}


def _binds(statement):
    """The names a top-level statement of an earlier cell binds, when it may go into a prelude: imports,
    definitions and plain assignments."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in statement.names if a.name != "*"}
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, ast.Assign):
        return {n.id for t in statement.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


@functools.cache
def exercise_cell(exercise_id):
    """The ExerciseCell of ``exercise_id`` (a HarnessError when the notebook has no such cell)."""
    path = _notebook_for(exercise_id)
    cells = _read(path).cells
    index = next((i for i, c in enumerate(cells) if meta(c).get("exercise") == exercise_id), None)
    if index is None:
        raise HarnessError(f"{exercise_id}: no cell of {path.name} has the exercise metadata of {exercise_id}")
    source = cells[index].source
    lines = _solution_lines(source)
    if not lines:
        raise HarnessError(f"{exercise_id}: its cell in {path.name} has no lines between {BEGIN} and {END}")
    needed, chosen = _needed_names(source), []
    for cell in reversed(cells[:index]):  # the latest binding of each needed name, walking back up the notebook
        if cell.cell_type != "code" or not needed:
            continue
        try:
            statements = ast.parse(cell.source).body
        except SyntaxError:  # an IPython magic: nothing to take from it
            continue
        for statement in reversed(statements):
            names = _binds(statement) & needed
            if names:
                if isinstance(statement, (ast.Import, ast.ImportFrom)):  # only the names needed
                    statement = copy.deepcopy(statement)
                    statement.names = [a for a in statement.names if (a.asname or a.name).split(".")[0] in names]
                text = ast.unparse(statement)
                chosen.append(text)
                needed = (needed - names) | _needed_names(text)
    return ExerciseCell(exercise_id, source, lines, tuple(reversed(chosen)), path)


@functools.cache
def _prelude_namespace(exercise_id):
    """The namespace the exercise cell runs in: its prelude executed once (each mutant gets a copy)."""
    cell = exercise_cell(exercise_id)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    for text in cell.prelude:
        exec(compile(text, f"<prelude of {exercise_id}>", "exec"), namespace)
    return namespace


# -------------------------------------------------------------------- the mutants
@dataclass
class Mutant:
    """One wrong variant of an exercise's solution: ``key`` (stable, readable), ``operator`` (the kind of change),
    ``source`` (the whole mutated cell); ``build()`` runs the cell in a fresh copy of the exercise's namespace and
    returns what the check takes (the function or class the exercise asks for)."""
    exercise_id: str
    key: str
    operator: str
    source: str
    namespace: object = field(default=None, repr=False)  # a callable giving the namespace, or None: the prelude's
    name: str = field(default="", repr=False)

    def build(self):
        base = self.namespace() if self.namespace is not None else _prelude_namespace(self.exercise_id)
        namespace = dict(base)
        exec(compile(self.source, f"<mutant of {self.exercise_id}>", "exec"), namespace)
        return namespace[self.name or self.exercise_id.split(".", 1)[1]]


_COMPARE_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
               ast.FloorDiv: ast.Div}


def _walk(node, path=()):
    """(path, node) for every node below ``node``; a path is a tuple of (field, index or None)."""
    for name, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield path + ((name, i),), item
                    yield from _walk(item, path + ((name, i),))
        elif isinstance(value, ast.AST):
            yield path + ((name, None),), value
            yield from _walk(value, path + ((name, None),))


def _set(tree, path, new):
    """Put ``new`` at ``path`` in ``tree`` (for a (field, slice) step, ``new`` is a list of statements)."""
    node = tree
    for name, index in path[:-1]:
        node = getattr(node, name) if index is None else getattr(node, name)[index]
    name, index = path[-1]
    if index is None:
        setattr(node, name, new)
    else:
        getattr(node, name)[index] = new


def _short(text):
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET else text[:SNIPPET - 3] + "..."


_PART = 24  # a part of an expression longer than this is shown as "..." in a key


def _brief(node):
    """``node`` as code for a key: each of its direct parts longer than _PART characters shown as "..."."""
    node = copy.deepcopy(node)
    for name, value in ast.iter_fields(node):
        if isinstance(value, ast.expr) and name != "func" and len(ast.unparse(value)) > _PART:
            setattr(node, name, ast.Constant(...))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.expr) and len(ast.unparse(item)) > _PART:
                    value[i] = ast.Constant(...)
                elif isinstance(item, ast.keyword) and len(ast.unparse(item.value)) > _PART:
                    item.value = ast.Constant(...)
    return _short(ast.unparse(node))


def _number_node(value):
    """A constant as the parser makes it: a negative number is a unary minus applied to a positive one."""
    if not isinstance(value, bool) and value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


@dataclass
class _Site:
    """One change an operator makes: what to replace, by what, and the two sides of its key."""
    path: tuple           # where the change goes in the tree
    node: ast.AST         # the node replaced (its source span is replaced in the text)
    new: object           # the replacement: an AST node, or a list of statements for a body
    operator: str
    before: str
    after: str
    line: int
    span: tuple = None    # (start line, start col, end line, end col) when it is not the node's own span


def _docstring(node):
    """Whether a statement is a docstring (never mutated)."""
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _own_nodes(function):
    """The nodes of a function's body, without those of the functions and classes nested in it."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _assigned_names(function, before_line):
    """The names a function assigns (its own statements) above ``before_line``: the values it computed."""
    names = []
    for node in _own_nodes(function):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        if getattr(node, "lineno", before_line) >= before_line:
            continue
        for target in targets:
            names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(names))


def _numbers(value):
    """A constant's mutations: moved by one up and down, set to 0 and to 1 (a boolean: negated)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        options = [value + 1, value - 1, 0, 1]
    else:
        options = [value + 1.0, value - 1.0, 0.0, 1.0]
    return [v for v in dict.fromkeys(options) if v != value or type(v) is not type(value)]


def _sites(tree, lines, source):
    """Every change the operators make in the solution's lines (``lines``: cell line numbers)."""
    parents = {}
    for path, node in _walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = (path, node)

    def inside(node):
        return node.lineno in lines and node.end_lineno in lines

    def functions_of(node):
        chain, current = [], node
        while current in parents:
            current = parents[current][1]
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
                chain.append(current)
        return chain

    sites = []
    for path, node in _walk(tree):
        if not hasattr(node, "lineno"):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            sites += _function_sites(path, node, lines)
            continue
        if not inside(node):
            if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and functions_of(node)
                    and node.lineno not in lines):  # a call the cell gives, e.g. model.train(): deleted too
                written = (ast.get_source_segment(source, node) or ast.unparse(node)).splitlines()[0]
                sites.append(_Site(path, node, ast.Pass(), "statement deleted", _short(written), "", node.lineno))
            continue
        line, text = node.lineno, ast.unparse(node)

        def add(new, operator, before=None, after=None, _node=node, _path=path, _line=line, _sites=sites):
            _sites.append(_Site(_path, _node, new, operator, before or _brief(_node), after or _brief(new), _line))

        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _COMPARE_SWAP:
                    new = copy.deepcopy(node)
                    new.ops[i] = _COMPARE_SWAP[type(op)]()
                    add(new, "comparison")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
            new = copy.deepcopy(node)
            new.op = _BINOP_SWAP[type(node.op)]()
            add(new, "arithmetic")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):  # the factors' order
            add(ast.BinOp(copy.deepcopy(node.right), ast.MatMult(), copy.deepcopy(node.left)), "factors swapped")
        elif isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
            add(copy.deepcopy(node.value), "transpose dropped")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not isinstance(
                node.operand, ast.Constant):
            add(copy.deepcopy(node.operand), "arithmetic")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            add(copy.deepcopy(node.operand), "boolean")
        elif isinstance(node, ast.BoolOp):
            new = copy.deepcopy(node)
            new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            add(new, "boolean")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
              and not _docstring(parents[node][1])):
            parent_path, parent = parents[node]
            if isinstance(parent, ast.keyword):  # x.clamp(min=0): shown in its call
                parent_path, parent = parents[parent]
            for value in _numbers(node.value):
                new = _number_node(value)
                if isinstance(parent, (ast.expr, ast.Assign, ast.AugAssign, ast.Return)):
                    changed = copy.deepcopy(parent)  # shown in its expression: `mu != 0` -> `mu != 1`
                    _set(changed, path[len(parent_path):], new)
                    add(new, "constant", _brief(parent), _brief(changed))
                else:
                    add(new, "constant")
        elif isinstance(node, ast.Call):
            dropped = _dropped_call(node)
            if dropped is not None:
                add(dropped, "call dropped")
            if isinstance(node.func, ast.Name) and node.func.id in ("min", "max"):
                new = copy.deepcopy(node)
                new.func.id = "max" if node.func.id == "min" else "min"
                add(new, "min/max")
            positional = [a for a in node.args if not isinstance(a, ast.Starred)]
            if len(positional) == len(node.args):
                for i in range(len(node.args)):
                    for j in range(i + 1, len(node.args)):
                        if ast.dump(node.args[i]) != ast.dump(node.args[j]):
                            new = copy.deepcopy(node)
                            new.args[i], new.args[j] = new.args[j], new.args[i]
                            add(new, "arguments swapped", *_swapped(node, i, j))
            named = [k for k in node.keywords if k.arg is not None]
            for i in range(len(named)):
                for j in range(i + 1, len(named)):
                    if ast.dump(named[i].value) != ast.dump(named[j].value):
                        new = copy.deepcopy(node)
                        a = next(k for k in new.keywords if k.arg == named[i].arg)
                        b = next(k for k in new.keywords if k.arg == named[j].arg)
                        a.value, b.value = b.value, a.value
                        add(new, "arguments swapped", *_swapped(node, named[i].arg, named[j].arg))
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name)
              and node.value.id == "group"):
            function = next(iter(functions_of(node)), None)
            params = [a.arg for a in function.args.args] if function else []
            if params[:1] == ["self"] and "group" in params:
                new = copy.deepcopy(node)
                new.value = ast.Attribute(ast.Name("self", ast.Load()), "defaults", ast.Load())
                add(new, "group option from defaults")
        elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOP_SWAP:
            new = copy.deepcopy(node)
            new.op = _BINOP_SWAP[type(node.op)]()
            add(new, "arithmetic")
            plain = ast.Assign([copy.deepcopy(node.target)], copy.deepcopy(node.value), lineno=node.lineno)
            add(plain, "augmented assignment")
        if isinstance(node, ast.stmt) and not isinstance(node, ast.Pass) and not _docstring(node):
            written = (ast.get_source_segment(source, node) or text).splitlines()[0]
            sites.append(_Site(path, node, ast.Pass(), "statement deleted", _short(written), "", line))
        if isinstance(node, ast.Return) and node.value is not None:
            function = next(iter(functions_of(node)), None)
            returned = ast.unparse(node.value)
            for name in _assigned_names(function, node.lineno) if function else ():
                if name != returned:
                    add(ast.Return(ast.Name(name, ast.Load())), "intermediate returned")
    return sites


_DROPPED_METHODS = {"clone", "copy", "detach", "item", "to", "cpu", "float", "contiguous"}
_DROPPED_FUNCTIONS = {"deepcopy", "copy.deepcopy", "copy.copy", "float"}


def _dropped_call(call):
    """A copy or a conversion left out: ``g.clone()`` -> ``g``, ``x.to(device)`` -> ``x``, ``loss.item()`` ->
    ``loss``, ``copy.deepcopy(s)`` -> ``s``; None for other calls."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _DROPPED_METHODS and not call.keywords:
        return copy.deepcopy(func.value)
    if ast.unparse(func) in _DROPPED_FUNCTIONS and len(call.args) == 1 and not call.keywords:
        return copy.deepcopy(call.args[0])
    return None


def _swapped(call, i, j):
    """(before, after) of a key for two arguments of ``call`` swapped (positions, or keyword names)."""
    def name(k):
        return f"{k}=" if isinstance(k, str) else f"{k + 1}"
    return f"{_short(ast.unparse(call.func))}(...)", f"arguments {name(i)} and {name(j)} swapped"


def _function_sites(path, function, lines):
    """The solution part of a function's body replaced by ``return <first argument>`` (``pass`` when the
    function returns nothing)."""
    body = [i for i, s in enumerate(function.body) if s.lineno in lines]
    if not body:
        return []
    first, last = body[0], len(function.body) - 1
    returns = any(isinstance(n, ast.Return) and n.value is not None for n in _own_nodes(function))
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    params = params[1:] if params[:1] in (["self"], ["cls"]) else params
    if returns and function.name != "__init__":
        new = ast.Return(ast.Name(params[0], ast.Load()) if params else ast.Constant(None))
    else:
        new = ast.Pass()
    start, end = function.body[first], function.body[last]
    site = _Site(path + (("body", slice(first, last + 1)),), start, [new], "input returned",
                 f"body of {function.name}", ast.unparse(new), start.lineno,
                 span=(start.lineno, start.col_offset, end.end_lineno, end.end_col_offset))
    return [site]


def _offset(lines, line, col):
    """The character offset in the text of (1-based ``line``, UTF-8 byte column ``col``)."""
    before = sum(len(text) for text in lines[:line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", errors="replace"))


def _splice(source, site, text):
    lines = source.splitlines(keepends=True)
    n = site.node
    first, first_col, last, last_col = site.span or (n.lineno, n.col_offset, n.end_lineno, n.end_col_offset)
    return source[:_offset(lines, first, first_col)] + text + source[_offset(lines, last, last_col):]


def _mutated_source(source, tree, site):
    """The cell's source with the site's change, spliced into the original text (comments and layout kept),
    checked against the mutated tree; parenthesised where precedence needs it. None if it cannot be made."""
    expected = copy.deepcopy(tree)
    _set(expected, site.path, site.new)
    want = ast.dump(expected)
    text = "\n".join(ast.unparse(s) for s in site.new) if isinstance(site.new, list) else ast.unparse(site.new)
    candidates = [text] if isinstance(site.new, (list, ast.stmt)) else [text, f"({text})"]
    for candidate in candidates:
        mutated = _splice(source, site, candidate)
        try:
            if ast.dump(ast.parse(mutated)) == want:
                return mutated
        except SyntaxError:
            continue
    return None


def _key(site):
    if site.operator == "statement deleted":
        return f"line {site.line}: delete `{site.before}`"
    if site.operator == "input returned":
        return f"line {site.line}: {site.before} -> `{site.after}`"
    if site.operator == "arguments swapped":
        return f"line {site.line}: `{site.before}` {site.after}"
    return f"line {site.line}: `{site.before}` -> `{site.after}`"


def mutants_of_source(exercise_id, source, lines=None, namespace=None, name=""):
    """The mutants of a cell's ``source``: only ``lines`` (cell line numbers; default: between the BEGIN and END
    SOLUTION markers) are changed. ``namespace``: a callable giving the namespace to build them in (default: the
    exercise's prelude); ``name``: what the cell defines that the check takes (default: the exercise's name)."""
    lines = _solution_lines(source) if lines is None else frozenset(lines)
    tree = ast.parse(source)
    made, seen, sources = [], {}, {source}
    for site in _sites(tree, lines, source):
        mutated = _mutated_source(source, tree, site)
        if mutated is None or mutated in sources:  # no change, or the same code as an earlier mutant
            continue
        sources.add(mutated)
        key = _key(site)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key} #{seen[key]}"
        made.append(Mutant(exercise_id, key, site.operator, mutated, namespace, name))
    return made


def mutants(exercise_id):
    """The mutants of an exercise's solution (the interface other tools use: ``.key``, ``.operator``, ``.source``,
    ``.build()``)."""
    return mutants_of_source(exercise_id, exercise_cell(exercise_id).source)


def solution(exercise_id):
    """The unmutated solution, built as the mutants are (a Mutant with the key "solution")."""
    return Mutant(exercise_id, "solution", "none", exercise_cell(exercise_id).source)


# -------------------------------------------------------------------- running a mutant safely
class _Sink(io.TextIOBase):
    """Where a mutant's printed output goes: the first OUTPUT_LIMIT characters are kept, the rest dropped."""

    def __init__(self):
        self.kept, self.dropped = [], 0

    def writable(self):
        return True

    def write(self, text):
        room = OUTPUT_LIMIT - sum(len(t) for t in self.kept)
        self.kept.append(text[:max(room, 0)])
        self.dropped += max(len(text) - max(room, 0), 0)
        return len(text)


@contextlib.contextmanager
def _guarded(time_limit):
    """Run a block with its output captured, numpy's and Python's warnings silenced, and at most ``time_limit``
    seconds of CPU time (where the process may set a timer: the main thread of a POSIX system)."""
    def on_timer(signum, frame):
        raise MutantTimeout(f"used up its {time_limit:g} s of CPU time")
    timer = bool(time_limit) and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGPROF, on_timer) if timer else None
    sink = _Sink()
    try:
        if timer:
            signal.setitimer(signal.ITIMER_PROF, time_limit, 1.0)  # and again each second, should it be caught
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings(), \
                np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            yield sink
    finally:
        if timer:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)


# -------------------------------------------------------------------- judging
@dataclass
class Outcome:
    """What became of one mutant: ``status`` killed, survived, equivalent (reviewed) or unreviewed; ``detail``:
    how it was killed, what the battery case showed, or the reviewed reason."""
    key: str
    operator: str
    status: str
    detail: str = ""
    seconds: float = 0.0  # CPU time


def _short_detail(text, limit=240):
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclass
class Report:
    """The mutation testing of one exercise."""
    exercise: str
    outcomes: list
    stale: list = field(default_factory=list)   # [(key, why)] of reviewed entries that no longer hold
    seconds: float = 0.0                         # CPU time

    def _with(self, *statuses):
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def killed(self):
        return self._with(KILLED)

    @property
    def survivors(self):
        return self._with(SURVIVED)

    @property
    def equivalents(self):
        return self._with(EQUIVALENT, UNREVIEWED)

    @property
    def unreviewed(self):
        return self._with(UNREVIEWED)

    @property
    def distinguishable(self):
        return len(self.killed) + len(self.survivors)

    @property
    def score(self):
        return 1.0 if not self.distinguishable else len(self.killed) / self.distinguishable

    @property
    def ok(self):
        return not (self.survivors or self.unreviewed or self.stale)

    def problems(self):
        """One line per problem: each survivor, each unreviewed equivalent, each stale reviewed entry."""
        return ([f"{self.exercise}: survivor {o.key}: {_short_detail(o.detail)}" for o in self.survivors]
                + [f"{self.exercise}: unreviewed equivalent {o.key}: list it with its reason in "
                   f"{EQUIVALENTS.name}, or add a case that tells it apart" for o in self.unreviewed]
                + [f"{self.exercise}: stale entry in {EQUIVALENTS.name}: {key} ({why})" for key, why in self.stale])

    def as_dict(self):
        return {"exercise": self.exercise, "mutants": len(self.outcomes), "killed": len(self.killed),
                "distinguishable": self.distinguishable, "survived": len(self.survivors),
                "equivalent": len(self.equivalents), "unreviewed": len(self.unreviewed), "score": self.score,
                "seconds": round(self.seconds, 2), "stale": [{"key": k, "why": w} for k, w in self.stale],
                "outcomes": [dataclasses.asdict(o) for o in self.outcomes]}


def reviewed_equivalents(path=EQUIVALENTS):
    """{(exercise id, key): reason} from the reviewed file (a TOML list of [[mutant]] tables with exercise, key
    and reason). A ValueError names what is malformed."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ValueError(f"reading {Path(path).name} needs Python 3.11 (tomllib) or the package tomli") from None
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path.name} is not valid TOML ({e})") from None
    entries = data.get("mutant", [])
    if set(data) - {"mutant"} or not isinstance(entries, list):
        raise ValueError(f"{path.name}: expected only [[mutant]] tables, found {sorted(set(data) - {'mutant'})}")
    reviewed = {}
    for number, entry in enumerate(entries, 1):
        missing = [k for k in ("exercise", "key", "reason") if not str(entry.get(k, "")).strip()]
        if missing:
            raise ValueError(f"{path.name}: [[mutant]] number {number} has no {', '.join(missing)}")
        if (entry["exercise"], entry["key"]) in reviewed:
            raise ValueError(f"{path.name}: {entry['exercise']} {entry['key']} is listed twice")
        reviewed[(entry["exercise"], entry["key"])] = entry["reason"].strip()
    return reviewed


class _WatchedGenerator:
    """A numpy Generator that notes whether anything asked it for numbers."""

    def __init__(self, seed):
        self._rng, self.used = np.random.default_rng(seed), False

    def __getattr__(self, name):
        self.used = True
        return getattr(self._rng, name)


def _draws_cases(exercise):
    """Whether ``exercise.cases(rng)`` draws from its generator (otherwise other seeds give the same cases)."""
    rng = _WatchedGenerator(0)
    try:
        with _guarded(0):
            exercise.cases(rng)
    except Exception:  # noqa: BLE001  (e.g. it checks the generator's type: assume it draws)
        return True
    return rng.used


def _battery(exercise):
    """The differential battery's cases (the check's own cases are not repeated: a mutant judged on the battery
    has passed them): the exercise's battery, and its cases drawn with other seeds when they depend on the seed;
    every case hidden, labelled by where it comes from."""
    def labelled(case, origin):
        return Case(case.args, f"{origin}: {case.label}" if case.label else origin, case.kwargs, visible=False)
    cases = []
    if exercise.battery is not None:
        rng = np.random.default_rng(zlib.crc32(f"battery {exercise.id}".encode()))
        cases += [labelled(c, "battery") for c in exercise.battery(rng)]
    if _draws_cases(exercise):
        for seed in BATTERY_SEEDS:
            cases += [labelled(c, f"cases with seed {seed}") for c in exercise.cases(np.random.default_rng(seed))]
    return cases


class _Judge:
    """Judges built answers on a list of cases by the check's rules: ``run_check`` of a one-case copy of the
    exercise per case, without the hints (they drive every known mistake on a failing case, and never change a
    verdict). The reference's answer on each case is computed once, for the first answer judged, and a fresh copy
    of it stands in for the reference's run for every later answer (the reference is deterministic; ``judge``
    checks that the unmutated solution passes both ways)."""

    def __init__(self, exercise, cases):
        self.exercise, self.cases, self.answers, self.fresh = exercise, list(cases), {}, False
        self.copies = [self._copy(index, case) for index, case in enumerate(self.cases)]
        self.order = list(range(len(self.cases)))  # the case that failed last comes first: it often fails again

    def _copy(self, index, case):
        exercise = self.exercise

        def call(fn, args, kwargs):
            if fn is exercise.reference and self.fresh:  # the reference's first run on the case: its answer
                self.fresh = False
                if index not in self.answers:
                    self.answers[index] = exercise.run(fn, args, kwargs)
                return copy.deepcopy(self.answers[index])
            return exercise.run(fn, args, kwargs)
        return dataclasses.replace(exercise, cases=lambda rng: [case], call=call, mistakes=(), error_hints=(),
                                   generic_hints=())

    def __call__(self, built):
        """The CheckResult of a case ``built`` fails, or None when it passes every case."""
        for index in list(self.order):
            self.fresh = True
            result = run_check(self.copies[index], built)
            if not result:
                self.order.remove(index)
                self.order.insert(0, index)
                return result
        return None


def _failure(result):
    """A failed CheckResult in one line: where it failed (the case's label: each case is judged alone, so "hidden
    case 1 of 1" says nothing), and the first detail."""
    first = next((d for d in result.details if d), "")
    title = re.sub(r"hidden case 1 of 1 \((.*?)\)", r"\1", result.title)
    return " ".join(f"{title} {first}".split())


def judge(exercise, candidates, reviewed=None, time_limit=TIME_LIMIT, solution_mutant=None):
    """Judge ``candidates`` (Mutants) against ``exercise``; a Report. ``reviewed``: {(exercise id, key): reason}
    (default: the reviewed file). ``solution_mutant`` (default: the notebook's solution) must pass the check,
    twice (the second time with the reference's answers remembered), and the battery when a mutant needs it:
    otherwise a HarnessError says why."""
    start = time.process_time()
    reviewed = reviewed_equivalents() if reviewed is None else reviewed
    unmutated = solution_mutant or solution(exercise.id)
    check, battery = _Judge(exercise, exercise.all_cases()), None

    def solution_passes(judge_, what):
        try:
            with _guarded(time_limit * 3):
                failure = judge_(unmutated.build())
        except (Exception, MutantTimeout) as e:  # noqa: BLE001  (whatever it is, the harness cannot go on)
            raise HarnessError(f"{exercise.id}: the unmutated solution could not be built and judged on {what}: "
                               f"{type(e).__name__}: {e}") from None
        if failure is not None:
            raise HarnessError(f"{exercise.id}: the unmutated solution, built as the mutants are, fails {what}: "
                               f"{_failure(failure)}")

    def battery_judge():
        nonlocal battery
        if battery is None:
            battery = _Judge(exercise, _battery(exercise))
            solution_passes(battery, "the mutation battery")
        return battery

    solution_passes(check, "its check")
    solution_passes(check, "its check with the reference's answers remembered")
    outcomes = [_judge_one(m, check, battery_judge, reviewed, time_limit) for m in candidates]
    keys = {o.key for o in outcomes}
    stale = []
    for exercise_id, key in sorted(reviewed):
        if exercise_id != exercise.id:
            continue
        if key not in keys:
            stale.append((key, "no such mutant: the solution changed, or the key is mistyped"))
        else:
            status = next(o.status for o in outcomes if o.key == key)
            if status != EQUIVALENT:
                stale.append((key, f"listed as equivalent, but it is {status}"))
    return Report(exercise.id, outcomes, stale, time.process_time() - start)


def _judge_one(mutant, check, battery_judge, reviewed, time_limit):
    """Killed (its check fails), survived (the check passes, the battery does not) or equivalent (both pass;
    reviewed or not)."""
    start = time.process_time()

    def outcome(status, detail=""):
        return Outcome(mutant.key, mutant.operator, status, detail, round(time.process_time() - start, 3))
    try:
        with _guarded(time_limit):
            try:
                built = mutant.build()
            except Exception as e:  # noqa: BLE001  (the cell itself fails: a learner would see that error)
                return outcome(KILLED, f"the cell raises {type(e).__name__}")
            failure = check(built)
            if failure is not None:
                return outcome(KILLED, failure.status)
        battery = battery_judge()  # the first time: the unmutated solution must pass it (not the mutant's time)
        with _guarded(time_limit):
            failure = battery(built)
    except MutantTimeout as e:
        return outcome(KILLED, f"timed out: {e}")
    if failure is not None:
        return outcome(SURVIVED, _failure(failure))
    reason = reviewed.get((mutant.exercise_id, mutant.key))
    return outcome(EQUIVALENT, reason) if reason else outcome(UNREVIEWED, "passes the check and the battery")


def run(exercise_id, reviewed=None, time_limit=TIME_LIMIT):
    """Generate and judge the mutants of one registered exercise; a Report."""
    return judge(get_exercise(exercise_id), mutants(exercise_id), reviewed, time_limit)


def course_exercises():
    """The ids of the registered exercises that have a solution notebook (lessons 00-09), sorted."""
    from . import checks, exercises  # noqa: F401  (importing exercises registers every lesson's checks)
    lessons = {p.name[:2] for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb")}
    return sorted(i for i in checks.REGISTRY if i.split(".", 1)[0] in lessons)


def select(names):
    """The exercise ids that ``names`` (exercise ids or lessons: "04", "04_optimizers", "lesson04") stand for, in
    course order; a ValueError names an unknown one."""
    known = course_exercises()
    if not names:
        return known
    chosen = []
    for name in names:
        lesson = re.fullmatch(r"(?:lesson)?(\d\d)(?:_\w*)?", name)
        found = [i for i in known if i == name] or ([i for i in known if i.startswith(lesson.group(1) + ".")]
                                                   if lesson else [])
        if not found:
            raise ValueError(f"unknown exercise or lesson {name!r}: give an exercise id such as "
                             f"{known[0] if known else '04.MySGD'} or a lesson number such as 04")
        chosen += [i for i in found if i not in chosen]
    return sorted(chosen)
