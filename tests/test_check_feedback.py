"""Feedback at the keyboard from ``tinygrad-lite check`` and ``check(...)``: a status line while a notebook runs,
"did you mean" for a misspelt notebook, a lesson number or a misspelt exercise id, and verbose messages that say
what happened to a check cell, naming cells as JupyterLab shows them. One real notebook run (lesson 00)."""
import io
import shutil
from pathlib import Path

import nbformat
import pytest

from tinygrad_lite.course import cli, runner
from tinygrad_lite.course.checks import check
from tinygrad_lite.course.notebooks import NotebookError

ROOT = Path(__file__).resolve().parents[1]
LESSON00 = ROOT / "lessons" / "00_welcome_and_tensors.ipynb"


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course root (cwd) with lessons/ holding empty files named as lessons."""
    (tmp_path / "lessons").mkdir()
    for name in ("00_welcome_and_tensors", "01_forward_pass", "02_loss_functions", "03_backward_pass"):
        (tmp_path / "lessons" / f"{name}.ipynb").write_text("{}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_misspelt_notebook_gets_the_closest_lesson_file(course, monkeypatch, capsys):
    with pytest.raises(NotebookError, match=r"01_foward_pass.ipynb: no such file; did you mean "
                                            r"lessons/01_forward_pass.ipynb\?$"):
        cli._find_notebook("01_foward_pass.ipynb")
    with pytest.raises(NotebookError, match=r"did you mean lessons/02_loss_functions.ipynb\?$"):
        cli._find_notebook("lessons/02_los_functions")
    monkeypatch.chdir(course / "lessons")  # the same folder: named as the learner would type it
    with pytest.raises(NotebookError, match=r"did you mean 01_forward_pass.ipynb\?$"):
        cli._find_notebook("01_foward_pass.ipynb")
    with pytest.raises(NotebookError, match=r"lessons/02_loss_functions.ipynb: no such file; did you mean "
                                            r"02_loss_functions.ipynb\?$"):  # (the path from the folder above)
        cli._find_notebook("lessons/02_loss_functions.ipynb")
    assert cli.main(["check", "01_foward_pass.ipynb"]) == 2
    assert capsys.readouterr().err == ("tinygrad-lite check: error: 01_foward_pass.ipynb: no such file; did you mean "
                                       "01_forward_pass.ipynb?\n")
    assert cli._find_notebook("nothing_like_it.ipynb") == (Path("nothing_like_it.ipynb"), None)  # read_notebook says


def test_a_lesson_number_means_its_notebook_or_names_the_candidates(course, monkeypatch):
    path, note = cli._find_notebook("01")
    assert path == Path("lessons/01_forward_pass.ipynb")
    assert note == "01: checking lesson 01's notebook, lessons/01_forward_pass.ipynb"
    monkeypatch.chdir(course / "lessons")
    assert cli._find_notebook("1") == (Path("01_forward_pass.ipynb"),
                                       "1: checking lesson 01's notebook, 01_forward_pass.ipynb")
    (course / "lessons" / "01_forward_pass-Copy1.ipynb").write_text("{}")
    with pytest.raises(NotebookError, match=r"several notebooks are lesson 01's: 01_forward_pass-Copy1.ipynb, "
                                            r"01_forward_pass.ipynb; name the one to check"):
        cli._find_notebook("01")
    with pytest.raises(NotebookError, match="no notebook of lesson 42"):
        cli._find_notebook("42")


def test_a_misspelt_exercise_id_names_the_closest_and_only_its_lessons_ids():
    message = check("01.dense_foward", lambda x: x, quiet=True).message
    assert "did you mean '01.dense_forward'?" in message and "'01.mlp_forward'" not in message
    assert "Lesson 01's exercises: 01.dense_forward, " in message
    assert "02." not in message and "00." not in message
    assert "did you mean '01.relu'?" in check("1.relu", lambda x: x, quiet=True).message


def test_the_status_line_is_overwritten_on_a_terminal_and_absent_elsewhere(monkeypatch):
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: __import__("os").terminal_size((40, 5)))
    tty = Terminal()
    status = cli._StatusLine(tty)
    status("nb.ipynb: starting a kernel ...")
    status("nb.ipynb: judging 00.row_normalize (cell 14 of 30)")
    status.clear()
    status.clear()  # once only
    assert tty.getvalue() == ("\r\033[Knb.ipynb: starting a kernel ..."
                              + "\r\033[Knb.ipynb: judging 00.row_normalize (..." + "\r\033[K")
    plain = io.StringIO()
    status = cli._StatusLine(plain)
    status("anything")
    status.clear()
    assert plain.getvalue() == ""


def _ran(source, count=None, error=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.execution_count = count
    if error:
        cell.outputs = [nbformat.v4.new_output("error", ename=error[0], evalue=error[1], traceback=[])]
    return cell


def test_cells_are_named_as_jupyterlab_shows_them_and_syntax_errors_are_blamed_once():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title"),
                _ran("def mlp_forward(x, params)\n    return x", 3,
                     ("SyntaxError", "expected ':' (3165926433.py, line 1)")),
                _ran("check('01.mlp_forward', mlp_forward)", 4, ("NameError", "name 'mlp_forward' is not defined")),
                _ran("y = mlp_forward(1, 2)", 5, ("NameError", "name 'mlp_forward' is not defined")),
                _ran("check('01.relu', relu)"), _ran("check('01.sigmoid', sigmoid)", 7)]
    assert runner.run_label(nb, 1) == "cell [3] ('def mlp_forward(x, params)')"
    assert runner.run_label(nb, 4, quote=False) == "the 4th code cell"
    broken = runner._broken_cells(nb)
    assert runner._not_run_message(nb, "01.mlp_forward", 1, 2, broken) == (
        "01.mlp_forward: your answer, cell [3], has a SyntaxError at line 1: expected ':': fix it, run it, then run "
        "its check cell")
    assert runner._raised(nb, 3, nb.cells[3].outputs[0], broken) == (
        "cell [5] raised NameError: name 'mlp_forward' is not defined, because cell [3] has a SyntaxError at line 1: "
        "expected ':': fix that cell first")
    assert runner._not_run_message(nb, "01.relu", 3, 4, broken) == (
        "01.relu: its check cell (the 4th code cell) did not run")
    assert runner._not_run_message(nb, "01.sigmoid", 3, 5, broken) == (
        "01.sigmoid: its check cell ran (cell [7]) but gave no verdict: does it still call check('01.sigmoid', ...)?")


@pytest.mark.extended  # a real run of lesson 00: .ci/run runs it after the whole suite (conftest.py)
def test_a_run_reports_its_progress_and_what_its_check_cells_did(tmp_path, monkeypatch):
    """The one real run: lesson 00 with a syntax error in one answer and a check cell that raises."""
    nb = nbformat.read(LESSON00, as_version=4)
    exercise = next(c for c in nb.cells if c.metadata.get("tinygrad_lite", {}).get("exercise") == "00.standardize")
    exercise.source = exercise.source.replace("def standardize(x):", "def standardize(x)")
    checks = next(c for c in nb.cells if c.metadata.get("tinygrad_lite", {}).get("check") == "00.pairwise_sq_distances")
    checks.source = 'raise ValueError("boom\\nsecond line")\n' + checks.source
    path = tmp_path / "00_welcome_and_tensors.ipynb"
    nbformat.write(nb, path)
    tty = Terminal()
    monkeypatch.setattr(cli.sys, "stdout", tty)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "-v", "00"]) == 1
    out = tty.getvalue()
    note, rest = out.split("\n", 1)
    assert note == "00: checking lesson 00's notebook, 00_welcome_and_tensors.ipynb"
    status, table = rest.rsplit("\r\033[K", 1)  # the status line is cleared before the table
    steps = [s for s in status.split("\r\033[K") if s]
    assert steps[:2] == ["00_welcome_and_tensors.ipynb: starting ...",
                         "00_welcome_and_tensors.ipynb: starting a kernel ..."], steps
    assert "00_welcome_and_tensors.ipynb: judging 00.row_normalize (cell 15 of 32)" in steps
    assert "00_welcome_and_tensors.ipynb: cell 18 of 32: your answer to 00.standardize" in steps
    assert "\r" not in table and table.startswith("00_welcome_and_tensors.ipynb\n  exercise "), table
    assert "  00.pairwise_sq_distances  not run  " in table
    # the exercise cell's syntax error, reported once by the check (tinygrad_lite/course/syntax.py), with no
    # NameError after it: the cells that name standardize get a stand-in that says what is wrong
    assert "  00.standardize            error  " in table
    assert "00.standardize: your exercise cell, cell [18], has a SyntaxError at line 1: expected ':'" in table
    assert "00.pairwise_sq_distances: its check cell gave no verdict: cell [25] raised ValueError: boom\n" in table
    assert "its check cell did not run" not in table
    assert "1 cell(s) raised an error; the first: cell [25] raised ValueError: boom" in table
    assert "NameError" not in table


def test_an_exercise_whose_cells_were_deleted_is_missing_even_with_the_lessons_demo_of_it(tmp_path, monkeypatch):
    """Issue 34, item 14c: lesson 00 shows a failing answer to 00.row_normalize with ``check(..., demo=True)``.
    With the exercise's own cells deleted, that demo stood in for them: its call was taken for the check cell and its
    verdict for the exercise's. A demo is no check cell and records no verdict, so the exercise is "missing".
    A copy of the solution notebook, cut down to the cells the case needs (one cheap kernel run)."""
    solution = nbformat.read(ROOT / "solutions" / "00_welcome_and_tensors.ipynb", as_version=4)
    marks = [c.metadata.get("tinygrad_lite", {}) for c in solution.cells]
    keep = [n for n, c in enumerate(solution.cells)
            if "from tinygrad_lite.course import check" in c.source or "demo=True" in c.source
            or marks[n].get("exercise") == "00.standardize" or "features = tl.tensor(" in c.source]
    assert len(keep) == 4  # the set-up, the demo, standardize's example and its exercise cell; its check cell is gone
    solution.cells = [solution.cells[n] for n in keep]
    path = tmp_path / "00_welcome_and_tensors.ipynb"
    nbformat.write(solution, path)
    found = runner.locate(solution, runner.course_exercises(solution))
    assert found["00.row_normalize"] == (None, None, "row_normalize")  # the demo cell is neither of its cells
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv("TINYGRAD_LITE_CHECK_RESULTS", str(results))
    assert not check("00.row_normalize", lambda s: s / s.sum(), demo=True)  # shown, not recorded
    assert not results.exists()
    rows = {r["exercise"]: r for r in runner.run_notebook(path, timeout=60)["results"]}
    assert {name: row["status"] for name, row in rows.items()} == dict.fromkeys(
        ["00.row_normalize", "00.standardize", "00.pairwise_sq_distances"], "missing")
    assert rows["00.row_normalize"]["message"] == (
        "00.row_normalize: missing: its exercise cell and its check cell were deleted")
    assert rows["00.standardize"]["message"] == (
        "00.standardize: missing: its check cell was deleted, so nothing checks it")


def test_verbose_says_each_message_once(capsys):
    """A timed-out exercise's message stands under the table without -v; with -v it stands once, with the
    others' (it was printed twice)."""
    message = "99.slow: cell [5] ran longer than 10 s (--timeout) and was interrupted"
    outcome = {"results": [{"exercise": "99.slow", "status": "timed out after 10 s", "passed_cases": 0,
                            "total_cases": 0, "message": message}], "errors": [], "interrupted": False}
    for verbose in (False, True):
        cli._print_table("x.ipynb", outcome, verbose)
        assert capsys.readouterr().out.count("ran longer than 10 s") == 1, verbose
