"""The course machinery: checks that teach, lesson release, and the tinygrad-lite command.

Lesson-specific exercises are tested in tests/test_lessonNN.py; here we test the machinery itself on small
exercises and on sample notebooks written into a temporary folder.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tinygrad_lite.course import Case, Exercise, Mistake, check, checks, use
from tinygrad_lite.course import release as release_module
from tinygrad_lite.course.checks import compare_arrays, diagnose, run_check
from tinygrad_lite.course.cli import main as cli_main
from tinygrad_lite.course.notebooks import NotebookError
from tinygrad_lite.course.release import RAISES, LessonsEdited, release, release_notebook, stub_solution

ROOT = Path(__file__).resolve().parents[1]
K = "tinygrad_lite"


# -------------------------------------------------------------------- the generic hints
def test_diagnose_wrong_sign():
    e = np.array([[1.0, -2.0], [3.0, 0.5]])
    assert "wrong sign" in diagnose(-e, e)


def test_diagnose_constant_factor():
    e = np.array([[1.0, -2.0, 3.0], [3.0, 0.5, 1.0]])
    assert "constant factor" in diagnose(2.5 * e, e)


@pytest.mark.parametrize("factor, words", [(6, "times too large: a sum where a mean"), (1 / 6, "times too small")])
def test_diagnose_mean_vs_sum(factor, words):
    e = np.arange(1.0, 7.0).reshape(2, 3)
    assert words in diagnose(e * factor, e)


def test_diagnose_transposed():
    e = np.arange(6.0).reshape(2, 3)
    assert "transpose" in diagnose(e.T.copy(), e)


def test_diagnose_forgot_to_sum_over_broadcast_dims():
    per_row = np.arange(12.0).reshape(4, 3)
    assert "sum over the broadcast dims" in diagnose(per_row, per_row.sum(axis=0))
    assert "sum over the broadcast dims" in diagnose(per_row, per_row.sum(axis=0, keepdims=True))


def test_diagnose_overflow_means_subtract_the_max():
    e = np.array([0.0, 1.0, -3.0])
    assert "Subtract the maximum" in diagnose(np.array([0.0, np.nan, np.inf]), e)


def test_diagnose_stays_quiet_for_unrelated_errors():
    rs = np.random.default_rng(0)
    e = rs.standard_normal((3, 4))
    assert diagnose(rs.standard_normal((3, 4)), e) is None
    assert diagnose(np.zeros((5,)), e) is None


def test_compare_arrays_names_shape_dtype_worst_element_and_difference():
    e = np.zeros((2, 3))
    g = e.copy()
    g[1, 2] = 0.5
    message = compare_arrays(g, e, 1e-6, 1e-8)
    assert "1 of 6 values differ" in message and "index [1, 2]" in message and "difference 0.5" in message
    assert "expected shape (2, 3) float64, got shape (3,) float64" in compare_arrays(np.zeros(3), e, 1e-6, 1e-8)
    assert "forget to return" in compare_arrays(None, e, 1e-6, 1e-8)
    assert compare_arrays(e + 1e-9, e, 1e-6, 1e-8) is None
    assert compare_arrays((e, e), (e, e), 1e-6, 1e-8) is None
    assert "result 1" in compare_arrays((e, g), (e, e), 1e-6, 1e-8)


# -------------------------------------------------------------------- running checks
def relu_backward(x, g):
    return g * (x > 0)


RELU = Exercise(
    "99.relu_backward", reference=relu_backward,
    cases=lambda rng: [Case((np.array([-1.0, 0.0, 2.0]), np.array([1.0, 1.0, 1.0])), visible=True)]
    + [Case((rng.standard_normal((3, 4)), rng.standard_normal((3, 4))), "a 3x4 batch") for _ in range(3)],
    mistakes=[Mistake(lambda x, g: g * (x >= 0), "at x = 0 ReLU's gradient is 0: use x > 0")],
    generic_hints=("sign",))


def test_passing_function_passes_every_case():
    result = run_check(RELU, relu_backward)
    assert result and result.status == "passed" and result.passed_cases == result.total_cases == 4
    assert "3 of them hidden" in result.message


def test_stub_is_not_attempted():
    def stub(x, g):
        raise NotImplementedError("99.relu_backward: write it")
    result = run_check(RELU, stub)
    assert not result and result.status == "not attempted" and "not attempted yet" in result.message


def test_error_points_at_the_learners_line():
    def broken(x, g):
        y = g * x
        return y.nonexistent_method()
    result = run_check(RELU, broken)
    assert result.status == "error"
    assert "return y.nonexistent_method()" in result.message and "AttributeError" in result.message


def test_known_mistake_gets_its_own_hint_and_the_failing_case_is_named():
    result = run_check(RELU, lambda x, g: g * (x >= 0))
    assert result.status == "failed"
    assert "the example shown in the notebook" in result.message
    assert "Hint: at x = 0 ReLU's gradient is 0" in result.message


def test_generic_hint_on_a_hidden_case():
    result = run_check(RELU, lambda x, g: -g * (x > 0))
    assert result.status == "failed" and "wrong sign" in result.message


def test_a_function_that_writes_into_its_input_fails_naming_it_and_cannot_change_the_cases():
    def mutating(x, g):
        out = g * (x > 0)
        g[...] = 0
        return out
    result = run_check(RELU, mutating)
    assert result.status == "failed" and "changed its input `g` in place" in result.message
    assert run_check(RELU, relu_backward), "the cases are the same after a learner modified them"


def test_check_prints_never_raises_records_and_is_truthy(capsys, tmp_path, monkeypatch):
    checks.REGISTRY.setdefault(RELU.id, RELU)
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(checks.RESULTS_ENV, str(results))
    assert check(RELU.id, relu_backward)
    assert not check(RELU.id, lambda x, g: 1 / 0)
    assert not check("99.no_such_exercise", relu_backward)
    printed = capsys.readouterr().out
    assert "passed" in printed and "ZeroDivisionError" in printed and "unknown exercise id" in printed
    recorded = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["status"] for r in recorded] == ["passed", "error", "error"]


def test_use_falls_back_to_the_reference_labelled_at_each_use(capsys):
    checks.REGISTRY.setdefault(RELU.id, RELU)

    def unfinished(x, g):
        raise NotImplementedError
    stand_in = use(RELU.id, unfinished)
    assert checks.is_fallback(stand_in) and stand_in.reference is relu_backward
    assert capsys.readouterr().out == "", "use() itself says nothing: the label comes where the function is used"
    x, g = np.array([-1.0, 2.0]), np.ones(2)
    np.testing.assert_array_equal(stand_in(x, g), relu_backward(x, g))
    assert "the library's relu_backward stands in for yours here" in capsys.readouterr().out
    assert "had not passed" in use(RELU.id, lambda x, g: g * (x >= 0)).label
    mine = lambda x, g: g * (x > 0)  # noqa: E731
    assert use(RELU.id, mine) is mine


# -------------------------------------------------------------------- release
SOLUTION = '''def relu_backward(x, g):
    """dL/dx for y = relu(x)."""
    ### BEGIN SOLUTION
    return g * (x > 0)
    ### END SOLUTION'''


def test_stub_replaces_the_solution_and_says_what_to_write():
    source, top_level = stub_solution(SOLUTION, {"exercise": "99.relu_backward", "task": "return g where x > 0"})
    assert "return g * (x > 0)" not in source and "BEGIN SOLUTION" not in source
    assert '    # YOUR CODE HERE: return g where x > 0' in source
    assert "    raise NotImplementedError('99.relu_backward: not written yet')" in source
    long_task = {"exercise": "99.relu_backward", "task": "return the gradient g wherever x is positive " * 5}
    assert max(len(line) for line in stub_solution(SOLUTION, long_task)[0].splitlines()) <= 100
    assert source.startswith('def relu_backward(x, g):\n    """dL/dx for y = relu(x)."""')
    assert not top_level
    _, top_level = stub_solution("### BEGIN SOLUTION\ny = 1\n### END SOLUTION", {"exercise": "99.top"})
    assert top_level


def test_a_cell_with_given_code_between_two_blocks_states_its_task_once():
    source = ("def total(xs):\n    ### BEGIN SOLUTION\n    s = 0\n    ### END SOLUTION\n    for x in xs:\n"
              "        ### BEGIN SOLUTION\n        s += x\n        ### END SOLUTION\n    return s")
    stub, _ = stub_solution(source, {"exercise": "99.total", "task": "add up xs"})
    assert stub.count("add up xs") == 1 and stub.count("raise NotImplementedError('99.total: not written yet')") == 2
    assert "        # YOUR CODE HERE: the next part of the task (see the first stub above)" in stub
    assert "    for x in xs:" in stub and stub.endswith("    return s")
    own, _ = stub_solution(source.replace("        ### BEGIN SOLUTION", "        ### BEGIN SOLUTION: add x to s"),
                           {"exercise": "99.total", "task": "add up xs"})
    assert "        # YOUR CODE HERE: add x to s" in own and own.count("add up xs") == 1


@pytest.mark.parametrize("source, words", [
    ("x = 1", "has no ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another block"),
])
def test_bad_markup_is_reported(source, words):
    with pytest.raises(NotebookError, match=words):
        stub_solution(source, {"exercise": "99.x"})


def sample_notebook(solution_body="    return g * (x > 0)"):
    """A small course notebook that registers its own exercise (so a fresh kernel knows it)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata[K] = {"lesson": "99_sample"}
    register = (
        "import numpy as np\n"
        "from tinygrad_lite.course import Case, Exercise, Mistake, check, register, use\n"
        "from tinygrad_lite.course.checks import REGISTRY\n"
        "REGISTRY.pop('99.relu_backward', None)\n"
        "register(Exercise('99.relu_backward', reference=lambda x, g: g * (x > 0),\n"
        "    cases=lambda rng: [Case((np.array([-1., 0., 2.]), np.ones(3)), visible=True)],\n"
        "    mistakes=[Mistake(lambda x, g: g * (x >= 0), 'at x = 0 the gradient is 0')]))")
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A sample lesson"),
        nbformat.v4.new_code_cell(register),
        nbformat.v4.new_code_cell("def relu_backward(x, g):\n    ### BEGIN SOLUTION\n" + solution_body
                                  + "\n    ### END SOLUTION",
                                  metadata={K: {"exercise": "99.relu_backward", "task": "mask g"}}),
        nbformat.v4.new_code_cell("check('99.relu_backward', relu_backward)",
                                  metadata={K: {"check": "99.relu_backward"}}),
        nbformat.v4.new_code_cell("print('answer key')", metadata={K: {"instructor": True}}),
        nbformat.v4.new_code_cell("f = use('99.relu_backward', relu_backward)\n"
                                  "print(f(np.array([-1., 3.]), np.ones(2)))"),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="registered\n")]
    nb.cells[1].execution_count = 1
    return nb


def test_release_notebook_clears_outputs_drops_instructor_cells_and_stubs():
    nb = sample_notebook()
    lesson = release_notebook(nb)
    sources = [c.source for c in lesson.cells]
    assert not any("answer key" in s for s in sources)
    assert all(c.outputs == [] and c.execution_count is None for c in lesson.cells if c.cell_type == "code")
    assert "raise NotImplementedError" in sources[2] and "g * (x > 0)\n" not in sources[2]
    assert RAISES not in lesson.cells[2].metadata.get("tags", [])
    assert nb.cells[1].outputs, "the solution notebook itself is left unchanged"


def test_release_keeps_a_cell_shown_collapsed_collapsed():
    """A cell a learner runs without reading (the asserts that keep the text true) carries JupyterLab's
    {"jupyter": {"source_hidden": true}}: the learner's copy keeps it, and drops other tools' metadata."""
    nb = sample_notebook()
    nb.cells[1].metadata["jupyter"] = {"source_hidden": True}
    nb.cells[1].metadata["collapsed"] = False
    kept = release_notebook(nb).cells[1].metadata
    assert kept["jupyter"] == {"source_hidden": True} and "collapsed" not in kept


def test_release_tags_top_level_stubs_for_nbval():
    nb = sample_notebook()
    nb.cells[2].source = "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
    assert RAISES in release_notebook(nb).cells[2].metadata["tags"]


def test_release_folder_writes_checks_and_reports_stale(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    solutions.mkdir()
    nbformat.write(sample_notebook(), solutions / "99_sample.ipynb")
    assert release(solutions, lessons) == [(lessons / "99_sample.ipynb", "written")]
    assert release(solutions, lessons, check_only=True) == [(lessons / "99_sample.ipynb", "unchanged")]
    (lessons / "99_sample.ipynb").write_text((lessons / "99_sample.ipynb").read_text() + " ")
    (lessons / "98_old.ipynb").write_text("{}")
    assert release(solutions, lessons, check_only=True) == [(lessons / "99_sample.ipynb", "differs"),
                                                            (lessons / "98_old.ipynb", "stale")]


def _released(tmp_path, notebook=None):
    """A solutions/ folder with one sample notebook, released into lessons/; returns (solutions, lessons, lesson)."""
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    solutions.mkdir()
    nbformat.write(notebook or sample_notebook(), solutions / "99_sample.ipynb")
    assert release(solutions, lessons) == [(lessons / "99_sample.ipynb", "written")]
    return solutions, lessons, lessons / "99_sample.ipynb"


def _edit(path, change):
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)


def _solve(nb):
    nb.cells[2].source = "def relu_backward(x, g):\n    return g * (x > 0)  # my own work"


def _run_and_save(nb):  # what JupyterLab saves after Run All: outputs and execution counts, sources untouched
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = n + 1
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", text="... 99.relu_backward: not attempted yet\n")]


@pytest.mark.parametrize("change", [_solve, _run_and_save], ids=["edited", "run-and-saved"])
def test_release_refuses_to_overwrite_a_learners_lesson_and_force_keeps_a_backup(tmp_path, change):
    solutions, lessons, lesson = _released(tmp_path)
    _edit(lesson, change)
    work = lesson.read_bytes()
    with pytest.raises(LessonsEdited, match="99_sample.ipynb was changed since the last release.*--force"):
        release(solutions, lessons)
    assert lesson.read_bytes() == work, "a refused release writes nothing"
    assert release(solutions, lessons, check_only=True) == [(lesson, "edited")]
    report = release(solutions, lessons, force=True)
    (backup, what), (written, what2) = report
    assert (what, written, what2) == ("backup", lesson, "written")
    assert backup.parent == lessons / ".backup" and re.fullmatch(r"99_sample-\d{8}-\d{6}\.ipynb", backup.name)
    assert backup.read_bytes() == work and lesson.read_bytes() != work
    _edit(lesson, change)  # a second backup in the same second gets its own name
    assert release(solutions, lessons, force=True)[0][0] not in (backup, None)
    assert len(list((lessons / ".backup").iterdir())) == 2


def test_an_unedited_earlier_release_is_replaced_silently(tmp_path):
    solutions, lessons, lesson = _released(tmp_path)
    _edit(solutions / "99_sample.ipynb", lambda nb: nb.cells.insert(1, nbformat.v4.new_markdown_cell("New text.")))
    assert release(solutions, lessons, check_only=True) == [(lesson, "differs")]
    assert release(solutions, lessons) == [(lesson, "written")]
    assert "New text." in lesson.read_text() and not (lessons / ".backup").exists()
    assert release(solutions, lessons) == [(lesson, "unchanged")]


def test_a_broken_lesson_file_is_kept_too(tmp_path):
    solutions, lessons, lesson = _released(tmp_path)
    lesson.write_text('{"cells": [')  # e.g. a learner's editor crashed mid-save: still theirs
    with pytest.raises(LessonsEdited):
        release(solutions, lessons)
    backup = release(solutions, lessons, force=True)[0][0]
    assert backup.read_text() == '{"cells": ['


def test_release_output_is_stamped_and_deterministic(tmp_path):
    solutions, lessons, lesson = _released(tmp_path)
    first = lesson.read_text()
    lesson.unlink()
    release(solutions, lessons)
    assert lesson.read_text() == first and '"cells_sha256"' in first


def test_release_refuses_a_solution_cell_that_lost_its_exercise_metadata(tmp_path):
    nb = sample_notebook()
    del nb.cells[2].metadata[K]
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    solutions.mkdir()
    nbformat.write(nb, solutions / "99_sample.ipynb")
    code, out, err = cli("release", "--solutions", str(solutions), "--lessons", str(lessons))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "99_sample.ipynb, cell 3 ('def relu_backward(x, g):') has ### BEGIN SOLUTION" in err
    assert "no exercise metadata" in err and not lessons.exists()


def test_an_unwritable_lessons_folder_gives_one_line(tmp_path, monkeypatch, capsys):
    solutions, lessons, lesson = _released(tmp_path)
    _edit(solutions / "99_sample.ipynb", lambda nb: nb.cells.insert(1, nbformat.v4.new_markdown_cell("New text.")))

    def read_only(*args):
        raise PermissionError(13, "Permission denied", str(lesson))
    monkeypatch.setattr(release_module.os, "replace", read_only)  # chmod does not stop root: simulate it
    assert cli_main(["release", "--solutions", str(solutions), "--lessons", str(lessons)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "read-only" in err and "99_sample" in err
    monkeypatch.undo()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the lessons folder should be")
    code, _, err = cli("release", "--solutions", str(solutions), "--lessons", str(blocked))
    assert code == 2 and "is a file, not a folder" in err and "Traceback" not in err
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        lessons.chmod(0o555)
        lesson.chmod(0o444)
        try:
            code, _, err = cli("release", "--solutions", str(solutions), "--lessons", str(lessons))
        finally:
            lessons.chmod(0o755)
        assert code == 2 and "cannot write" in err and "Traceback" not in err


def test_lessons_equal_a_fresh_release_of_solutions():
    """Nobody edits lessons/ by hand: it must be exactly what `tinygrad-lite release` makes from solutions/."""
    if not list((ROOT / "solutions").glob("*.ipynb")):
        pytest.skip("no solution notebooks yet")
    report = release(ROOT / "solutions", ROOT / "lessons", check_only=True)
    assert [str(p) for p, what in report if what != "unchanged"] == [], "run `tinygrad-lite release`"


# -------------------------------------------------------------------- the command line
def cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "tinygrad_lite.course", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env=env)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("command", [[], ["check"], ["release"]])
def test_help(command):
    code, out, _ = cli(*command, "--help")
    assert code == 0 and "usage: tinygrad-lite" in out


def test_bad_input_gets_one_clear_line_not_a_traceback(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "binary.ipynb").write_bytes(bytes(range(256)))
    (tmp_path / "empty.ipynb").write_text("")
    (tmp_path / "folder.ipynb").mkdir()
    (tmp_path / "list.ipynb").write_text("[1, 2, 3]")
    (tmp_path / "cells.ipynb").write_text('{"cells": "nope", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (tmp_path / "no_cells.ipynb").write_text('{"metadata": {}, "nbformat": 4}')
    other = nbformat.v4.new_notebook()
    other.cells = [nbformat.v4.new_code_cell("print(1)")]
    nbformat.write(other, tmp_path / "other_course.ipynb")
    for name, words in [("missing.ipynb", "no such file"), ("notes.txt", "is not a Jupyter notebook"),
                        ("broken.ipynb", "is not a Jupyter notebook"), ("binary.ipynb", "is not a Jupyter notebook"),
                        ("empty.ipynb", "is not a Jupyter notebook"), ("folder.ipynb", "is a folder"),
                        ("other_course.ipynb", "another course"),
                        ("list.ipynb", "its JSON is a list, where a notebook is an object with a list of cells"),
                        ("cells.ipynb", 'its "cells" is a string, not a list of cells'),
                        ("no_cells.ipynb", 'its JSON object has no "cells", where a notebook is an object')]:
        code = cli_main(["check", str(tmp_path / name)])
        out, err = capsys.readouterr()
        assert code == 2 and words in err and len(err.splitlines()) == 1 and out == "", (name, err)
    code, _, err = cli("check", str(tmp_path / "missing.ipynb"))  # the real command, once
    assert code == 2 and "no such file" in err and "Traceback" not in err
    code, _, err = cli("release", "--solutions", str(tmp_path / "nowhere"))
    assert code == 2 and "no solutions folder" in err


@pytest.mark.extended  # (a fresh interpreter or kernel: an end-to-end run, in .ci/run's extended tier)
def test_check_runs_a_notebook_and_reports_each_exercise(tmp_path):
    cases = {"solved": ("    return g * (x > 0)", 0, "passed"),
             "unsolved": ("    raise NotImplementedError", 1, "not attempted"),
             "wrong": ("    return g * (x >= 0)", 1, "failed")}
    for name, (body, _, _) in cases.items():
        nbformat.write(sample_notebook(body), tmp_path / f"{name}.ipynb")
    code, out, err = cli("check", "-v", *[str(tmp_path / f"{n}.ipynb") for n in cases])
    assert code == 1, out + err
    for name, (_, _, status) in cases.items():
        block = out.split(f"{name}.ipynb")[1]
        assert f"99.relu_backward  {status}" in block, out + err
    assert "Hint: at x = 0 the gradient is 0" in out
    too_wide = [line for line in out.splitlines() if len(line) > 100]
    assert too_wide == [], "-v wraps each message line within 100 columns, as a check cell does"
    code, out, _ = cli("check", str(tmp_path / "solved.ipynb"))
    assert code == 0 and "1 of 1 exercises passed" in out


# -------------------------------------------------------------------- check never loses its table
def with_cell(source, solution_body="    return g * (x > 0)"):
    """The sample notebook with one more cell between the exercise and its check."""
    nb = sample_notebook(solution_body)
    nb.cells.insert(3, nbformat.v4.new_code_cell(source))
    return nb


def _rows(out, name):
    """The table printed for notebook ``name``: {exercise: result}, plus the lines below it, each message joined
    back into one line (check wraps them within 100 columns; no printed line is wider)."""
    block = out.split(f"{name}.ipynb\n")[1].split(".ipynb\n")[0]
    assert [line for line in block.splitlines() if len(line) > 100] == [], block
    rows = {}
    for line in block.splitlines()[1:]:
        match = re.match(r"  (\S+(?: \d+| \[\d+\])?)  +(\S.*?)  +(\d+/\d+|-)$", line)
        if match:
            rows[match[1]] = match[2]
    return rows, re.sub(r"\n {4,}", " ", block)  # (a wrapped line goes on indented two columns more)


@pytest.mark.extended  # kernels that time out and die: .ci/run runs it after the whole suite (conftest.py)
def test_check_turns_timeouts_dead_kernels_and_corrupt_results_into_rows(tmp_path):
    notebooks = {
        "looping": with_cell("import time\nwhile True:\n    time.sleep(0.05)"),
        "exits": with_cell("import os\nos._exit(3)"),
        "oom_killed": with_cell("import os\nos.kill(os.getpid(), 9)"),
        "segfault": with_cell("import ctypes\nctypes.string_at(0)"),
        "corrupt": with_cell("import os\nwith open(os.environ['TINYGRAD_LITE_CHECK_RESULTS'], 'a') as f:\n"
                             "    f.write('{not json\\n')"),
        # a lesson's scratch folder (lessons 07 and 09): removed with the run, though the kernel is stopped at once
        "good": with_cell(f"import tempfile\nscratch = tempfile.TemporaryDirectory()\n"
                          f"open({str(tmp_path / 'scratch.txt')!r}, 'w').write(scratch.name)"),
    }
    for name, nb in notebooks.items():
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    start = time.monotonic()
    code, out, err = cli("check", "--timeout", "3", *[str(tmp_path / f"{n}.ipynb") for n in notebooks])
    assert time.monotonic() - start < 120
    assert code == 1 and "Traceback" not in out + err, out + err
    rows, block = _rows(out, "looping")  # interrupted, and the notebook goes on: the check after it passes
    assert rows == {"cell [3]": "timed out after 3 s", "99.relu_backward": "passed"}, block
    assert "cell [3] ('import time') ran longer than 3 s (--timeout) and was interrupted" in block
    for name, words in [("exits", "exited with status 3"), ("oom_killed", "SIGKILL: the out-of-memory killer"),
                        ("segfault", "SIGSEGV: a segmentation fault")]:
        rows, block = _rows(out, name)
        assert rows == {"99.relu_backward": "kernel died"}, block
        assert "the kernel died in the 3rd code cell ('import " in block and words in block, block
    rows, block = _rows(out, "corrupt")
    assert rows == {"99.relu_backward": "passed", "results": "corrupt result"}, block
    assert "line 1 of the check results is not a verdict: '{not json'" in block
    rows, block = _rows(out, "good")
    assert rows == {"99.relu_backward": "passed"} and "1 of 1 exercises passed" in block
    scratch = Path((tmp_path / "scratch.txt").read_text())
    assert scratch.name.startswith("tmp") and not scratch.exists() and not scratch.parent.exists(), scratch


@pytest.mark.extended  # a kernel that ignores interrupts: .ci/run runs it after the whole suite (conftest.py)
def test_a_cell_that_ignores_interrupts_ends_the_run(tmp_path):
    nbformat.write(with_cell("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                             "while True:\n    time.sleep(0.05)"), tmp_path / "stubborn.ipynb")
    code, out, err = cli("check", "--timeout", "2", str(tmp_path / "stubborn.ipynb"))
    assert code == 1 and "Traceback" not in out + err, out + err
    rows, block = _rows(out, "stubborn")
    assert rows == {"99.relu_backward": "timed out after 2 s"} and "did not stop when interrupted" in block, block


@pytest.mark.extended  # a time limit reached: .ci/run runs it after the whole suite (conftest.py)
def test_the_total_time_limit_stops_a_notebook_and_the_next_one_runs(tmp_path):
    slow = with_cell("import time\ntime.sleep(1.5)")
    for _ in range(3):
        slow.cells.insert(3, nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)"))
    nbformat.write(slow, tmp_path / "slow.ipynb")
    nbformat.write(sample_notebook(), tmp_path / "good.ipynb")
    code, out, err = cli("check", "--timeout", "3", "--total-timeout", "4",
                         *[str(tmp_path / f"{n}.ipynb") for n in ("slow", "good")])
    assert code == 1 and "Traceback" not in out + err, out + err
    rows, block = _rows(out, "slow")
    assert rows == {"99.relu_backward": "timed out after 4 s in total"} and "(--total-timeout)" in block, block
    assert _rows(out, "good")[0] == {"99.relu_backward": "passed"}


@pytest.mark.extended  # a Ctrl-C to a running command: .ci/run runs it after the whole suite (conftest.py)
def test_ctrl_c_prints_the_table_so_far_and_exits_130(tmp_path):
    nbformat.write(sample_notebook(), tmp_path / "good.ipynb")
    nbformat.write(with_cell("import time\nprint('looping', flush=True)\nwhile True:\n    time.sleep(0.05)"),
                   tmp_path / "looping.ipynb")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_lite.course", "check", "--timeout", "60",
                             *[str(tmp_path / f"{n}.ipynb") for n in ("good", "looping", "good")]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        first = ""
        while "1 of 1 exercises passed" not in first and time.monotonic() < deadline:
            first += proc.stdout.readline()  # the first notebook's table: the looping one starts next
        time.sleep(4)  # its kernel starts and enters the loop
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = first + out
    assert proc.returncode == 130 and "Traceback" not in out + err, out + err
    rows, block = _rows(out, "looping")
    assert rows == {"99.relu_backward": "interrupted"}, block
    assert "interrupted (Ctrl-C); 1 notebook(s) not checked" in out


@pytest.mark.parametrize("option", ["--timeout", "--total-timeout"])
@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_time_limits_must_be_positive(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["check", option, value, "x.ipynb"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and f"argument {option}" in err and "Traceback" not in err


def _malformed(tmp_path):
    """{file name: the words its one-line error must contain}; each file is a broken copy of the sample."""
    cases = {}

    def variant(name, change, words):
        nb = sample_notebook()
        change(nb)
        nbformat.write(nb, tmp_path / name)
        cases[name] = words

    variant("not_a_dict.ipynb", lambda nb: nb.cells[2].metadata.update({K: "99.relu_backward"}),
            "cell 3 ('def relu_backward(x, g):'): its tinygrad_lite metadata must be a JSON object")
    variant("no_id.ipynb", lambda nb: nb.cells[2].metadata.update({K: {"task": "mask g"}}),
            "cell 3 ('def relu_backward(x, g):'): it has exercise metadata (a task) but no exercise id")
    variant("points.ipynb", lambda nb: nb.cells[2].metadata[K].update({"points": 2}),
            "cell 3 ('def relu_backward(x, g):'): its tinygrad_lite metadata has \"points\", but points live in one "
            "place only, the registry")
    variant("id_number.ipynb", lambda nb: nb.cells[2].metadata[K].update({"exercise": 99}),
            "'exercise' must be a text")
    variant("twice.ipynb", lambda nb: nb.cells[3].metadata.update({K: {"exercise": "99.relu_backward"}}),
            """cell 4 ("check('99.relu_backward', relu_backward)"): exercise id 99.relu_backward appears twice""")
    variant("markdown.ipynb", lambda nb: nb.cells[0].metadata.update({K: {"exercise": "99.md"}}),
            "cell 1 ('# A sample lesson'): exercise 99.md is a markdown cell")
    variant("notebook_meta.ipynb", lambda nb: nb.metadata.update({K: ["lesson"]}),
            "the notebook's tinygrad_lite metadata must be a JSON object")
    raw = json.loads(nbformat.writes(sample_notebook()))
    del raw["cells"][2]["source"]
    (tmp_path / "no_source.ipynb").write_text(json.dumps(raw))
    cases["no_source.ipynb"] = "cell 3 has no source"
    (tmp_path / "invalid_json.ipynb").write_text('{"cells": [{"cell_type": "code",')
    cases["invalid_json.ipynb"] = "is not a Jupyter notebook that can be read"
    cases["missing.ipynb"] = "no such file"
    return cases


def test_malformed_notebooks_get_one_line_naming_the_cell_and_the_rest_are_checked(tmp_path):
    cases = _malformed(tmp_path)
    nbformat.write(sample_notebook(), tmp_path / "good.ipynb")
    code, out, err = cli("check", *[str(tmp_path / name) for name in cases], str(tmp_path / "good.ipynb"))
    assert code == 2 and "Traceback" not in out + err, out + err
    lines = err.strip().splitlines()
    assert len(lines) == len(cases), err
    for line, (name, words) in zip(lines, cases.items()):
        assert line.startswith(f"tinygrad-lite check: error: {tmp_path / name}") and words in line, (line, words)
    assert _rows(out, "good")[0] == {"99.relu_backward": "passed"}


def test_release_reports_malformed_solutions_in_one_line(tmp_path, capsys):
    cases = _malformed(tmp_path)
    for name, words in cases.items():
        if name == "missing.ipynb":
            continue
        solutions = tmp_path / name.replace(".ipynb", "")
        solutions.mkdir()
        (tmp_path / name).rename(solutions / name)
        code = cli_main(["release", "--solutions", str(solutions), "--lessons", str(tmp_path / "lessons")])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"tinygrad-lite release: error: {solutions / name}") and words in err, (err, words)
    assert not (tmp_path / "lessons").exists()


def test_help_documents_the_exit_statuses():
    code, out, _ = cli("check", "--help")
    assert code == 0 and "exit status:" in out and "130" in out and "--total-timeout" in out
    code, out, _ = cli("release", "--help")
    assert code == 0 and "--force" in out and "lessons/.backup/" in out and "3 " in out


# -------------------------------------------------------------------- execute: a solution's stored outputs
def test_execute_stores_outputs_without_timing_and_is_repeatable(tmp_path, capsys):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# a solution"),
        nbformat.v4.new_code_cell("import os\nx = 6 * 7\nprint(x)"),
        nbformat.v4.new_code_cell("print(os.path.basename(os.getcwd()))\nx"),  # the kernel runs in its folder
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}  # left by another tool
    folder = tmp_path / "solutions"
    folder.mkdir()
    path = folder / "NN_sample.ipynb"
    nbformat.write(nb, path)
    assert cli_main(["execute", str(path)]) == 0
    assert f"executed  {path}" in capsys.readouterr().out
    first = path.read_text()
    done = nbformat.read(path, as_version=4)
    assert done.cells[1].outputs[0]["text"] == "42\n"
    assert done.cells[2].outputs[0]["text"] == "solutions\n"
    assert done.cells[2].outputs[1]["data"]["text/plain"] == "42"
    assert all("execution" not in cell.metadata for cell in done.cells)
    assert cli_main(["execute", str(path)]) == 0
    assert path.read_text() == first, "executing an unchanged notebook again must give the same file"


def test_execute_writes_nothing_when_a_cell_raises(tmp_path, capfd):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('before')"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    before = path.read_text()
    assert cli_main(["execute", str(path), str(tmp_path / "missing.ipynb")]) == 2  # (a missing file: usage)
    err = capfd.readouterr().err
    assert "cell [2] ('1 / 0') raised ZeroDivisionError: division by zero; nothing was written" in err, err
    assert "\x1b[" not in err and "missing.ipynb" in err  # (no terminal colour codes)
    assert path.read_text() == before
    assert cli_main(["execute", str(path)]) == 1 and "eavesdropping" not in capfd.readouterr().err  # (its notice)


def test_an_exercise_id_the_lesson_does_not_have_is_named_and_its_cell_still_found(tmp_path, monkeypatch):
    """A learner's edit of an exercise cell's metadata (08.time_op became 08.time_opp): the cell is found by its
    code, as one that lost its metadata, and a row of its own names the edit (no kernel needed: the run is
    replaced by one that ran nothing)."""
    from tinygrad_lite.course import runner
    nb = nbformat.read(ROOT / "lessons" / "00_welcome_and_tensors.ipynb", as_version=4)
    ids = [c.metadata["tinygrad_lite"]["exercise"] for c in nb.cells
           if "exercise" in c.metadata.get("tinygrad_lite", {})]
    edited = next(c for c in nb.cells if c.metadata.get("tinygrad_lite", {}).get("exercise") == ids[0])
    edited.metadata["tinygrad_lite"]["exercise"] = ids[0] + "s"
    nbformat.write(nb, tmp_path / "lesson.ipynb")
    monkeypatch.setattr(runner, "_run", lambda *args: ([], False))
    rows = {r["exercise"]: r for r in runner.run_notebook(tmp_path / "lesson.ipynb")["results"]}
    assert ids[0] + "s" not in rows and rows[ids[0]]["status"] == "not run", rows  # (found: its check did not run)
    (label, row), = [(k, r) for k, r in rows.items() if k.startswith("cell ")]
    assert label == f"cell {nb.cells.index(edited) + 1}" and row["status"] == "error"
    assert f"exercise {ids[0] + 's'!r}, which this lesson does not have" in row["message"]
    assert f"Did you mean {ids[0]!r}?" in row["message"], row["message"]
