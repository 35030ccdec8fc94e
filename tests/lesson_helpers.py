"""What the tests of every lesson share (tests/test_lessonNN.py import it as ``from lesson_helpers import ...``).

A lesson's test file keeps what is its own: its solutions and other right answers written as a learner would,
its wrong versions with the hint each must get, and its special cases. This module holds the rest:

- running a check quietly and asserting its verdict (``verdict``, ``assert_passes``, ``assert_fails_with`` ...);
- a ``stub`` that raises NotImplementedError, as an unsolved exercise cell does;
- ``hints_not_reached``: the Mistake hints of an exercise that no wrong version in a list produces;
- reading the notebooks: each exercise cell and the cell after it (its check) by metadata, and running a cell's
  source to get the learner's function, the way the notebook would define it.
"""
from pathlib import Path

import numpy as np

from tinygrad_lite.course.checks import ERROR, FAILED, NOT_ATTEMPTED, PASSED, get_exercise, run_check
from tinygrad_lite.course.notebooks import BEGIN, meta, read_notebook

ROOT = Path(__file__).resolve().parents[1]


def notebooks(lesson):
    """The solution notebook and the released lesson of ``lesson`` (e.g. "01_forward_pass"), as paths."""
    return ROOT / "solutions" / f"{lesson}.ipynb", ROOT / "lessons" / f"{lesson}.ipynb"


def function_name(exercise_id):
    """The name of the function an exercise asks for: "01.relu" -> "relu"."""
    return exercise_id.split(".", 1)[1]


# -------------------------------------------------------------------- running checks
def verdict(exercise_id, fn):
    """``run_check`` of ``fn`` for ``exercise_id``, numpy's warnings silenced (wrong versions overflow on purpose)."""
    with np.errstate(all="ignore"):
        return run_check(get_exercise(exercise_id), fn)


def expect(status, exercise_id, fn, *texts):
    """Check ``fn``; assert the verdict is ``status`` and its message holds each of ``texts``; return the result."""
    result = verdict(exercise_id, fn)
    assert result.status == status, result.message
    for text in texts:
        assert text in result.message, result.message
    return result


def assert_passes(exercise_id, fn, min_cases=None):
    """``fn`` passes; with ``min_cases``, every case passed and there are at least that many."""
    result = expect(PASSED, exercise_id, fn)
    if min_cases is not None:
        assert result.passed_cases == result.total_cases >= min_cases, result
    return result


def assert_not_attempted(exercise_id, fn, *texts):
    return expect(NOT_ATTEMPTED, exercise_id, fn, *texts)


def assert_error(exercise_id, fn, *texts):
    return expect(ERROR, exercise_id, fn, *texts)


def assert_fails_with(exercise_id, fn, *texts):
    return expect(FAILED, exercise_id, fn, *texts)


def stub(*args, **kwargs):
    """What an unsolved exercise cell defines."""
    raise NotImplementedError("write your code here")


def hints_not_reached(exercise_id, wrong):
    """The Mistake hints of ``exercise_id`` that none of its wrong versions produces.

    ``wrong`` is a list of rows ``(exercise_id, fn, ...)``; only the rows of ``exercise_id`` are checked.
    """
    messages = [verdict(eid, fn).message for eid, fn, *_ in wrong if eid == exercise_id]
    return [m.hint for m in get_exercise(exercise_id).mistakes if not any(m.hint in text for text in messages)]


# -------------------------------------------------------------------- the notebooks
def _notebook(notebook):
    return read_notebook(notebook) if isinstance(notebook, (str, Path)) else notebook


def exercise_cells(notebook):
    """``{exercise id: cell}`` of a notebook (a path, or a notebook already read), in the notebook's order."""
    return {meta(c)["exercise"]: c for c in _notebook(notebook).cells if "exercise" in meta(c)}


def exercises_with_checks(notebook):
    """``(exercise cell, the cell after it)`` for each exercise of a notebook, in order (the second is its check)."""
    cells = _notebook(notebook).cells
    return [(cell, cells[i + 1] if i + 1 < len(cells) else None) for i, cell in enumerate(cells)
            if "exercise" in meta(cell)]


def check_source(exercise_id):
    """The code of an exercise's check cell: ``check("01.relu", relu)``."""
    return f'check("{exercise_id}", {function_name(exercise_id)})'


def assert_is_a_stub(cell):
    """A released exercise cell: the solution is gone and ``raise NotImplementedError`` stands in its place."""
    assert BEGIN not in cell.source and "raise NotImplementedError" in cell.source, cell.source


def define(source, namespace, filename="<exercise cell>"):
    """Run a cell's ``source`` in ``namespace`` (a dict, changed in place) and return the namespace."""
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    return namespace


def cell_function(cell, exercise_id, names):
    """The learner's function an exercise cell defines, run in a copy of ``names`` (what earlier cells define)."""
    return define(cell.source, dict(names))[function_name(exercise_id)]


def run_example_cells(notebook, prefixes, namespace):
    """Run, in ``namespace``, each code cell whose source starts with one of ``prefixes`` (the example inputs)."""
    for cell in _notebook(notebook).cells:
        if cell.cell_type == "code" and cell.source.startswith(tuple(prefixes)):
            define(cell.source, namespace, "<example cell>")
    return namespace
