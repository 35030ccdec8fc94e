"""What the tests of every lesson share (tests/test_lessonNN.py import it as ``from lesson_helpers import ...``).

A lesson's test file keeps what is its own: its solutions and other right answers written as a learner would,
its wrong versions with the hint each must get, and its special cases. This module holds the rest:

- running a check quietly and asserting its verdict (``verdict``, ``assert_passes``, ``assert_fails_with`` ...);
- a ``stub`` that raises NotImplementedError, as an unsolved exercise cell does;
- ``hints_not_reached``: the Mistake hints of an exercise that no wrong version in a list produces;
- reading the notebooks: each exercise cell and the cell after it (its check) by metadata, and running a cell's
  source to get the learner's function, the way the notebook would define it.
"""
import copy
import dataclasses
import inspect
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite.course.answers import ArrayAnswer, NumberAnswer, RunAnswer, TensorAnswer, TupleAnswer, is_tensor
from tinygrad_lite.course.checks import ERROR, FAILED, NOT_ATTEMPTED, PASSED, get_exercise, run_check
from tinygrad_lite.course.notebooks import BEGIN, meta, read_notebook

ROOT = Path(__file__).resolve().parents[1]


def notebooks(lesson):
    """The solution notebook and the released lesson of ``lesson`` (e.g. "01_forward_pass"), as paths."""
    return ROOT / "solutions" / f"{lesson}.ipynb", ROOT / "lessons" / f"{lesson}.ipynb"


def function_name(exercise_id):
    """The name of the function an exercise asks for: "01.relu" -> "relu"."""
    return exercise_id.split(".", 1)[1]


# the start of the list of blocks an allowlist's refusal names (pipeline.allowed_blocks): rows append the rest
ALLOWS = "it allows: arithmetic and comparisons (+ - * / **, abs, <, ==)"


# -------------------------------------------------------------------- running checks
_VERDICTS = {}  # (exercise id, id(fn)) -> (fn, the count of mistakes seen, [verdict of run 1, run 2, ...], records)


def verdict(exercise_id, fn, times=1):
    """``run_check`` of ``fn`` for ``exercise_id``, numpy's warnings silenced (wrong versions overflow on purpose).

    With ``times`` > 1 the check runs that many times with one count of the mistakes seen, as in a kernel where
    the learner runs the check again: the last verdict holds the hint tiers for a mistake seen ``times`` times.

    The verdicts are kept for the test process: a check is deterministic (its cases come from a fixed seed), and
    the tests of one exercise ask for the same wrong version's verdict several times (its message, its hint tiers,
    its second tier, and tests/test_pipeline_parity.py its records: see ``first_run``), which for a driven exercise
    costs a tenth of a second each. The runs after the first continue the same count of mistakes seen, exactly as
    ``times`` runs in a row would, and judge the first run's records again rather than run the answer again (an
    answer here does the same on every run; tests/test_checks.py runs checks again for real). (tests/conftest.py
    keeps each exercise's tests on one worker.)
    """
    return _runs(exercise_id, fn, times)[2][times - 1]


def first_run(exercise_id, fn):
    """(the verdict of ``fn``'s first check, the records of that run: {case index: record, as read back from
    JSON}, see ``run_check``), kept as ``verdict`` keeps it: the answer runs once for both."""
    _, _, runs, records = _runs(exercise_id, fn, 1)
    return runs[0], records


def _runs(exercise_id, fn, times):
    key = (exercise_id, id(fn))
    if key not in _VERDICTS or _VERDICTS[key][0] is not fn:
        _VERDICTS[key] = (fn, Counter(), [], {})
    _, seen, runs, records = _VERDICTS[key]
    if not runs:  # (forget what a first run stopped part way, e.g. by a time limit, had counted and recorded)
        seen.clear()
        records.clear()
    with np.errstate(all="ignore"):
        while len(runs) < times:  # (the runs after the first judge the first one's records again: see verdict)
            runs.append(run_check(get_exercise(exercise_id), fn, seen, records=None if runs else records,
                                  replay=records if runs else None))
    return _VERDICTS[key]


def expect(status, exercise_id, fn, *texts):
    """Check ``fn``; assert the verdict is ``status`` and its message holds each of ``texts``; return the result."""
    result = verdict(exercise_id, fn)
    assert result.status == status, result.message
    for text in texts:
        assert text in result.message, _missing_text(exercise_id, text, result.message)
    return result


def _missing_text(exercise_id, text, message):
    """The failure message of ``expect`` when ``text`` is not in the verdict's ``message``: where the message shows
    another mistake row's hint, which row, and why (the first row that gives the same numbers wins)."""
    rows = get_exercise(exercise_id).mistakes
    shown = next((k for k, row in enumerate(rows) if row.tiers() and row.tiers()[0] in message), None)
    if shown is None:
        return f"{text!r} is not in the message:\n{message}"
    return (f"{text!r} is not in the message, which shows the hint of mistake row {shown} of {exercise_id}: that "
            "row's wrong version gives this answer's numbers on the first case the answer fails (the first matching "
            "row wins). If this answer is another mistake, make that case separate the two rows; else expect row "
            f"{shown}'s text.\n{message}")


def assert_passes(exercise_id, fn, min_cases=None):
    """``fn`` passes; with ``min_cases``, every case passed and there are at least that many."""
    result = expect(PASSED, exercise_id, fn)
    if min_cases is not None:
        assert result.passed_cases == result.total_cases, result
        assert result.total_cases >= min_cases, (f"{exercise_id}: {result.total_cases} cases, at least {min_cases} "
                                                 "wanted (a check with fewer lets mistakes through)")
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
    """The hints (every tier of every Mistake and ErrorHint) of ``exercise_id`` that no wrong version produces.

    ``wrong`` is a list of rows ``(exercise_id, fn, ...)``; only the rows of ``exercise_id`` are checked. A later
    tier shows when the same mistake comes back, so a row whose first verdict shows the first tier of a hint with
    more tiers is checked again, as often as that hint has tiers (its last verdict shows them all). A row whose
    first verdict shows no such tier is checked once: a check is deterministic, so a second run would match the
    same mistake and show the same message. (Were some row to show a later tier otherwise, skipping its runs could
    only make a tier look unreached, a failure to look into, never a tier look reached that is not.)
    """
    exercise = get_exercise(exercise_id)
    hinted = list(exercise.mistakes) + list(exercise.error_hints)
    layered = [h.tiers() for h in hinted if len(h.tiers()) >= 2]
    messages = []
    for eid, fn, *_ in wrong:
        if eid != exercise_id:
            continue
        first = verdict(eid, fn).message
        depth = max([len(tiers) for tiers in layered if tiers[0] in first], default=1)
        messages.append(first if depth == 1 else verdict(eid, fn, times=depth).message)
    return [tier for h in hinted for tier in h.tiers() if not any(tier in text for text in messages)]


# -------------------------------------------------------------------- wrong answers every lesson must refuse
def _first_input(args):
    """The index of the first argument that is an array or a float tensor (what an in-place version modifies)."""
    for k, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            return k
        if is_tensor(a) and a.dtype in (tl.float32, tl.float64):
            return k
    return None


def _in_place(fn):
    """``fn``'s right answer, after which the first array or tensor argument is changed in place."""
    def in_place(*args, **kwargs):
        out = fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        x = args[_first_input(args)]
        if is_tensor(x):
            with tl.no_grad():
                x += 1.0
        else:
            x += 1.0
        return out
    return in_place


def _through_numpy(fn):
    """``fn`` computed on tensors rebuilt from the inputs' numbers (``tl.tensor(x.numpy())``): right values, and
    raises as soon as an input requires grad."""
    def rebuilt(*args, **kwargs):
        args = [tl.tensor(a.numpy()) if is_tensor(a) else a for a in args]
        return fn(*args, **kwargs)
    return rebuilt


def _tensor_to(fn, convert):
    def converted(*args, **kwargs):
        return convert(fn(*args, **kwargs))
    return converted


def _not_an_instance(*args, **kwargs):
    """A class exercise answered with something that is not a subclass of the base (e.g. a plain class)."""
    return SimpleNamespace(args=args, kwargs=kwargs)


def _as_list_or_number(t):
    return t.item() if t.numel() == 1 else t.tolist()


_GENERIC = {}  # (exercise id, id(solution)) -> (solution, the rows)


def generic_wrong_answers(exercise_id, solution):
    """The rows of ``_generic_wrong_answers``, made once per exercise and solution: the same functions each time, so
    that ``verdict`` runs each once for tests/test_lessons.py and tests/test_pipeline_parity.py together."""
    key = (exercise_id, id(solution))
    if key not in _GENERIC or _GENERIC[key][0] is not solution:
        _GENERIC[key] = (solution, _generic_wrong_answers(exercise_id, solution))
    return list(_GENERIC[key][1])


def _generic_wrong_answers(exercise_id, solution):
    """``[(what, fn, text)]``: wrong versions of ``solution`` that every exercise of its kind must refuse, each with
    a text its message must hold. Tensor answers: returned as numpy, as a list or a Python number, detached, or
    computed through numpy (the last two when the exercise compares gradients). Array answers: returned as a
    Tensor, or as a list. Number answers: returned as a tensor. Class exercises (``RunAnswer`` with a ``base``):
    an object that is not an instance of the base. Any exercise with array or tensor inputs: the first one
    changed in place."""
    exercise = get_exercise(exercise_id)
    answer = exercise.answer
    first = answer.kinds[0] if isinstance(answer, TupleAnswer) else answer

    def on_first(convert):  # a tuple answer gets its first result converted
        if isinstance(answer, TupleAnswer):
            return lambda out: (convert(out[0]), *out[1:])
        return convert

    rows = []
    if isinstance(first, TensorAnswer):
        as_list = on_first(lambda t: _as_list_or_number(t.detach()))
        rows += [("returns numpy", _tensor_to(solution, on_first(lambda t: t.detach().numpy())), "numpy.ndarray"),
                 ("returns a list or a number", _tensor_to(solution, as_list), "where a tensor was expected")]
        if exercise.grad and first.graph:
            rows += [("detached", _tensor_to(solution, on_first(lambda t: tl.tensor(t.detach().numpy()))),
                      "requires_grad is False"),
                     ("through numpy", _through_numpy(solution), "require grad")]
    elif isinstance(first, ArrayAnswer):
        rows += [("returns a tensor", _tensor_to(solution, on_first(lambda a: tl.tensor(np.asarray(a)))),
                  "works on numpy arrays"),
                 ("returns a list", _tensor_to(solution, on_first(lambda a: np.asarray(a).tolist())),
                  "where a numpy array was expected")]
    elif isinstance(first, NumberAnswer) and not first.tensor_ok:
        rows.append(("returns a tensor", _tensor_to(solution, on_first(lambda v: tl.tensor(v))),
                     "where a plain Python number was expected"))
    elif isinstance(first, RunAnswer) and first.base is not None:  # a class exercise: a function is no class
        rows.append(("makes no instance of the base class", _not_an_instance, "subclass"))
    case = exercise.all_cases()[0]
    k = _first_input(case.args)
    if exercise.check_inputs and k is not None:
        rows.append(("changes its input in place", _in_place(solution), "in place"))
    return rows


def ignored_arguments_that_pass(exercise_id):
    """The arguments of ``exercise_id`` (its ``vary``, or every reference parameter with a default) that a function
    may ignore, using the default value instead, and still pass: the hidden cases must vary each of them."""
    exercise = get_exercise(exercise_id)
    defaults = exercise.defaulted_parameters()
    names = list(defaults) if exercise.vary is None else list(exercise.vary)
    signature = inspect.signature(exercise.reference)
    passing = []
    for name in names:
        if name not in defaults:
            raise AssertionError(f"{exercise_id}: vary names {name!r}, which has no default in the reference")

        def ignoring(*args, _name=name, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.arguments[_name] = defaults[_name]
            return exercise.reference(*bound.args, **bound.kwargs)
        # this asks whether the cases vary the argument, not who wrote the code: the reference stands in for the
        # learner's (it may be the very library object the exercise forbids), so "write it yourself" is off here
        with np.errstate(all="ignore"):
            if run_check(dataclasses.replace(exercise, forbid=()), ignoring):
                passing.append(name)
    return passing


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


def finished_lines_shown(notebook, exercise_ids, finished):
    """``[(exercise id, line, where)]``: each of the ``finished`` lines of code that a learner can read before an
    exercise's check, in the notebook (every cell above the exercise, and the exercise cell) or in any tier of
    the exercise's hints. The learner's copy of a lesson must give none."""
    cells = _notebook(notebook).cells
    shown = []
    for exercise_id in exercise_ids:
        index = next(i for i, c in enumerate(cells) if meta(c).get("exercise") == exercise_id)
        text = "\n".join(c.source for c in cells[:index + 1])
        exercise = get_exercise(exercise_id)
        hints = [tier for m in list(exercise.mistakes) + list(exercise.error_hints) for tier in m.tiers()]
        shown += [(exercise_id, line, "notebook") for line in finished if line in text]
        shown += [(exercise_id, line, hint) for hint in hints for line in finished if line in hint]
    return shown


def check_source(exercise_id):
    """The code of an exercise's check cell: ``check("01.relu", relu)``."""
    return f'check("{exercise_id}", {function_name(exercise_id)})'


def assert_is_a_stub(cell):
    """A released exercise cell: the solution is gone and ``raise NotImplementedError`` stands in its place."""
    assert BEGIN not in cell.source and "raise NotImplementedError" in cell.source, cell.source


def define(source, namespace, filename="<exercise cell>"):
    """Run a cell's ``source`` in ``namespace`` (a dict, changed in place) and return the namespace."""
    exec(compile(source, filename, "exec"), namespace)
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
