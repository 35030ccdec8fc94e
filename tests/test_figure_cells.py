"""The solutions' figure cells (``{"figure": true}``, see ``course/notebooks.py``): grading skips them, and imports
pyplot only when a cell uses it (``grading/deferred.py``).

The rule a figure cell keeps: it draws, it is no exercise or check cell, and it binds no name that a later cell
of the grading plan (up to the last exercise, check cells left out, figure cells skipped) reads before binding
it itself. Grading leaves out the cells that need PyTorch or TensorBoard too (``# needs PyTorch``): a lesson runs
without them, so they keep the same rule. The rule is read from the code (``reads_and_binds``, with the module
scopes of ``symtable``): a name read inside a function counts where the function is defined. And every cell of
the plan that draws and could be marked is marked, so that grading a lesson imports no pyplot where it need not.
"""
import ast
import functools
import re
import subprocess
import symtable
import sys
from pathlib import Path

import nbformat
import pytest

from tinygrad_lite.course import pytorch
from tinygrad_lite.course.grading import layout

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
KEY = "tinygrad_lite"
DRAWS = re.compile(r"\bplt\.|\.subplots\(|\bdraw_graph\(|\.plot\(|\bplot_history\(|\.imshow\("
                   r"|\bshow_run\(|\bshow_histograms\(")  # (lesson 10's functions that draw)


def _module_reads(table):
    """The names a scope and the scopes inside it read from the module's namespace."""
    names = {s.get_name() for s in table.get_symbols()
             if s.is_referenced() and (table.get_type() == "module" or s.is_global())}
    for child in table.get_children():
        names |= _module_reads(child)
    return names


def _reads(node):
    return _module_reads(symtable.symtable(ast.unparse(node), "<cell>", "exec"))


def _names(target):
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _in_order(statements, bound):
    """The names ``statements``, run in order, read before one of them binds them (the names in ``bound`` are bound
    already), and the names they bind."""
    reads, bound = set(), set(bound)
    for statement in statements:
        table = symtable.symtable(ast.unparse(statement), "<cell>", "exec")
        if isinstance(statement, ast.For):  # the target is bound, then the body runs in order (and then else)
            body, _ = _in_order(statement.body, bound | _names(statement.target))
            rest, _ = _in_order(statement.orelse, bound)
            here = _reads(statement.iter) | body | rest
        elif isinstance(statement, (ast.While, ast.If)):  # the test, then each branch in order
            body, _ = _in_order(statement.body, bound)
            rest, _ = _in_order(statement.orelse, bound)
            here = _reads(statement.test) | body | rest
        elif isinstance(statement, ast.Try):  # the body (then else), each handler with its name bound, finally
            body, after_body = _in_order(statement.body, bound)
            parts = [body, _in_order(statement.orelse, after_body)[0], _in_order(statement.finalbody, bound)[0]]
            parts += [_in_order(h.body, bound | ({h.name} if h.name else set()))[0]
                      | (_reads(h.type) if h.type else set()) for h in statement.handlers]
            here = set().union(*parts)
        elif isinstance(statement, ast.With):
            targets = set().union(*(_names(item.optional_vars) for item in statement.items if item.optional_vars))
            body, _ = _in_order(statement.body, bound | targets)
            here = body.union(*(_reads(item.context_expr) for item in statement.items))
        else:  # a simple statement, a def (what its body reads counts where it is defined)
            here = _module_reads(table)
        reads |= here - bound
        bound |= {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    return reads, bound


@functools.cache  # (markable asks again for the same cells as its candidates shrink)
def reads_and_binds(source):
    """(the names a cell reads from the namespace it starts in, the names it binds), statement by statement, and
    in order inside a loop, an if or a with too: a name bound by an earlier statement is no read (so a loop's body
    that binds a name before using it reads none); a loop's or a with's target is bound before the body reads it.
    A name bound anywhere inside a compound statement counts as bound after it."""
    code = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    reads, bound = _in_order(ast.parse(code).body, set())
    return frozenset(reads), frozenset(bound)


def plan_cells(nb):
    """The indices of the code cells a grading plan may hold: up to the last exercise, no check cells."""
    last = max(i for i, c in enumerate(nb.cells) if c.metadata.get(KEY, {}).get("exercise"))
    return [i for i in range(last + 1)
            if nb.cells[i].cell_type == "code" and "check" not in nb.cells[i].metadata.get(KEY, {})]


def names_read_after(nb, index, skipped):
    """The names that cell ``index`` binds and a later cell of the plan (not in ``skipped``) reads before binding
    them: {cell index: names}."""
    alive, found = set(reads_and_binds(nb.cells[index].source)[1]), {}
    for j in plan_cells(nb):
        if j <= index or j in skipped:
            continue
        reads, binds = reads_and_binds(nb.cells[j].source)
        if reads & alive:
            found[j] = sorted(reads & alive)
        alive -= binds
    return found


def markable(nb):
    """The cells of the plan that draw and could be skipped (each binds nothing a cell that still runs reads)."""
    cells = {i for i in plan_cells(nb) if DRAWS.search(nb.cells[i].source)
             and not {"exercise", "instructor"} & set(nb.cells[i].metadata.get(KEY, {}))}
    while True:  # a cell that must run may read a name of another candidate: that one must run too
        keep = {i for i in cells if names_read_after(nb, i, cells)}
        if not keep:
            return cells
        cells -= keep


def figures(nb):
    return {i for i, c in enumerate(nb.cells) if c.metadata.get(KEY, {}).get("figure") is True}


def optional(nb):
    """The code cells that need PyTorch or TensorBoard (``course/pytorch.py``): grading leaves them out too."""
    return {i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and pytorch.starts_with(c.source.splitlines(), (pytorch.MARKER, pytorch.TENSORBOARD_MARKER))}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_figure_cells_only_draw_and_every_cell_that_could_be_one_is(path):
    nb = nbformat.read(path, as_version=4)
    marked = figures(nb)
    for i in sorted(marked):
        cell, where = nb.cells[i], f"{path.name}, cell {i + 1}"
        assert cell.cell_type == "code" and DRAWS.search(cell.source), f"{where} is marked as a figure but draws none"
        assert not {"exercise", "check"} & set(cell.metadata[KEY]), f"{where}: an exercise or check is no figure"
        read = names_read_after(nb, i, marked)
        assert not read, (f"{where} is marked as a figure cell, which grading skips, but later cells read what it "
                          f"binds: {read} (cell index: names). Move those lines to a cell of their own, or remove "
                          f'"figure" from its {KEY} metadata')
    missing = sorted(markable(nb) - marked)
    assert not missing, (f"{path.name}: cells {[i + 1 for i in missing]} only draw (what they bind, no later cell "
                         f'of the grading plan reads): give each {{"figure": true}} in its {KEY} metadata, so that '
                         "grading skips it")


def test_the_rule_reads_names_as_python_binds_them():
    reads, binds = reads_and_binds("fig, ax = plt.subplots()\nfor name, f in curves.items():\n"
                                   "    ax.plot(f(x), label=name)\nx = x + 1\n\ndef g():\n    return y + fig\n"
                                   "with open(p) as fh:\n    text = fh.read()\nsquares = [k * k for k in ks]\n"
                                   "def worst(rows):\n    step, col = pick(rows)\n"
                                   "    return max(r[col] for r in rows)\n")
    assert reads == {"plt", "curves", "x", "y", "open", "p", "ks", "pick", "max"}  # (col: worst's own, not the cell's)
    assert binds == {"fig", "ax", "name", "f", "x", "g", "fh", "text", "squares", "worst"}
    reads, binds = reads_and_binds("for epoch in range(3):\n    loss = step()\n    losses.append(loss)\n"
                                   "    if loss < best:\n        best = loss\n    total = total + loss\n"
                                   "while running:\n    value = poll()\n    seen.append(value)\n")
    assert reads == {"range", "step", "losses", "best", "total", "running", "poll", "seen"}  # no loss, no value
    assert binds == {"epoch", "loss", "best", "total", "value"}
    reads, binds = reads_and_binds("try:\n    x = load(p)\nexcept OSError as err:\n    print(err, x)\n"
                                   "else:\n    y = x\nfinally:\n    done = True\n")
    assert reads == {"load", "p", "OSError", "print", "x"} and binds == {"x", "err", "y", "done"}  # (x: maybe unset)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_cells_that_need_pytorch_or_tensorboard_bind_nothing_a_later_cell_of_the_plan_reads(path):
    """Without the package such a cell only prints how to install it, so a lesson must not need what it binds;
    grading leaves it out as well (importing PyTorch costs a kernel more than all its other cells)."""
    nb = nbformat.read(path, as_version=4)
    skipped = figures(nb) | optional(nb)
    for i in sorted(optional(nb) & set(plan_cells(nb))):
        read = names_read_after(nb, i, skipped)
        assert not read, (f"{path.name}, cell {i + 1} needs an optional package, and later cells read what it "
                          f"binds: {read} (cell index: names); without the package they would fail")


def test_grading_plans_leave_the_figure_cells_and_those_that_need_an_optional_package_out():
    lessons = layout.load_lessons(ROOT / "solutions")
    left_out = 0
    for path in SOLUTIONS:
        nb, lesson = nbformat.read(path, as_version=4), lessons[path.stem]
        plan = layout.plan(lesson, {e: "" for e in lesson.exercises}, lesson.exercises)
        ran = {c["n"] for c in plan["cells"]}
        assert not ran & (figures(nb) | optional(nb)), path.name
        assert set(plan_cells(nb)) - figures(nb) - optional(nb) == ran, path.name
        left_out += len(optional(nb) & set(plan_cells(nb)))
    assert left_out >= 3  # (lessons 07, 08 and 10 each have a PyTorch cell before their last exercise)


def test_pyplot_is_imported_when_first_used_and_behaves_as_imported():
    """In a fresh interpreter, as in a grading kernel: the import binds a stand-in and costs nothing, nor does a
    search of sys.modules for the module of a file; the first use (an attribute, ``from ... import name``,
    ``import *``) imports pyplot, which the stand-in then reads through."""
    script = """if True:
        import sys
        from tinygrad_lite.course.grading import deferred
        deferred.defer("matplotlib.pyplot")
        import matplotlib.pyplot as plt
        from matplotlib import pyplot
        import matplotlib
        assert deferred.waiting(plt) and pyplot is plt and matplotlib.pyplot is plt
        assert "matplotlib.figure" not in sys.modules and "imported when first used" in repr(plt)
        import inspect, os  # (inspect.getmodule reads every module's __file__: import torch does, for one)
        assert inspect.getmodule(os.path.join) is os.path and plt.__file__.endswith("pyplot.py")
        assert deferred.waiting(plt) and "matplotlib.figure" not in sys.modules
        from matplotlib.pyplot import subplots
        assert not deferred.waiting(plt) and sys.modules["matplotlib.pyplot"] is not plt
        fig, ax = plt.subplots()
        ax.plot([1, 2])
        plt.rcParams["lines.linewidth"] = 3
        import matplotlib.pyplot as real
        assert real.rcParams["lines.linewidth"] == 3 and real.get_fignums() == [1] and subplots is real.subplots
        plt.close("all")
        namespace = {}
        exec("from matplotlib.pyplot import *", namespace)
        assert namespace["figure"] is real.figure and "plot" in dir(plt)
        print("ok", plt.__name__)
    """
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}, cwd=ROOT)
    assert done.stdout.strip() == "ok matplotlib.pyplot", done.stderr
