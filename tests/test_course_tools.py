"""The course machinery: checks that teach, lesson release, and the tinygrad-lite command.

Lesson-specific exercises are tested in tests/test_lessonNN.py; here we test the machinery itself on small
exercises and on sample notebooks written into a temporary folder.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tinygrad_lite.course import Case, Exercise, Mistake, check, use
from tinygrad_lite.course import checks
from tinygrad_lite.course.checks import compare_arrays, diagnose, run_check
from tinygrad_lite.course.notebooks import NotebookError
from tinygrad_lite.course.release import RAISES, release, release_notebook, stub_solution

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
    mistakes=[Mistake(lambda x, g: g * (x >= 0), "at x = 0 ReLU's gradient is 0: use x > 0")])


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


def test_learner_cannot_change_the_cases_by_mutating_inputs():
    def mutating(x, g):
        out = g * (x > 0)
        x[...] = 0
        g[...] = 0
        return out
    assert run_check(RELU, mutating)


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


def test_use_falls_back_to_the_reference_and_says_so_once(capsys):
    checks.REGISTRY.setdefault(RELU.id, RELU)
    checks._told.discard(RELU.id)

    def unfinished(x, g):
        raise NotImplementedError
    assert use(RELU.id, unfinished) is relu_backward
    assert use(RELU.id, unfinished) is relu_backward
    assert capsys.readouterr().out.count("Using the library's relu_backward") == 1
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
    assert "    raise NotImplementedError('99.relu_backward: return g where x > 0')" in source
    assert source.startswith('def relu_backward(x, g):\n    """dL/dx for y = relu(x)."""')
    assert not top_level
    _, top_level = stub_solution("### BEGIN SOLUTION\ny = 1\n### END SOLUTION", {"exercise": "99.top"})
    assert top_level


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
                                  metadata={K: {"exercise": "99.relu_backward", "points": 1, "task": "mask g"}}),
        nbformat.v4.new_code_cell("check('99.relu_backward', relu_backward)",
                                  metadata={K: {"check": "99.relu_backward"}}),
        nbformat.v4.new_code_cell("print('answer key')", metadata={K: {"instructor": True}}),
        nbformat.v4.new_code_cell("f = use('99.relu_backward', relu_backward)\nprint(f(np.array([-1., 3.]), np.ones(2)))"),
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


def test_bad_input_gets_one_clear_line_not_a_traceback(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    other = nbformat.v4.new_notebook()
    other.cells = [nbformat.v4.new_code_cell("print(1)")]
    nbformat.write(other, tmp_path / "other_course.ipynb")
    for name, words in [("missing.ipynb", "no such file"), ("notes.txt", "is not a Jupyter notebook"),
                        ("broken.ipynb", "is not a Jupyter notebook"), ("other_course.ipynb", "another course")]:
        code, out, err = cli("check", str(tmp_path / name))
        assert code == 2 and words in err and "Traceback" not in err, (name, err)
    code, _, err = cli("release", "--solutions", str(tmp_path / "nowhere"))
    assert code == 2 and "no solutions folder" in err


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
    code, out, _ = cli("check", str(tmp_path / "solved.ipynb"))
    assert code == 0 and "1 of 1 exercises passed" in out
