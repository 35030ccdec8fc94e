"""The tinygrad-lite command on input that lost work or is not what it seems (issue 19).

- ``check`` gives every exercise of the notebook's lesson a row: one whose cells were deleted, whose check cell is
  gone or whose exercise cell lost its metadata (and cannot be found by its ``def``) is "missing", with the reason,
  and such a notebook never exits 0; neither does one with no exercise at all.
- ``grade`` says in one line which hidden folder it skipped and which notebook it found twice (graded once).
- A named pipe (or a socket, a device, a folder) with a ``.ipynb`` name is refused in one line by check, execute,
  release and grade, without being opened (opening a named pipe waits for a writer): the calls here run under a
  time limit, so that a regression fails instead of hanging.
- ``grade --out`` that is, or lies below, a file is refused in one line.
- Ctrl-C while the command is still importing the library ends it with exit status 130 and one line.
"""
import copy
import csv
import os
import re
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import nbformat
import pytest

import tinygrad_lite as tl
from tinygrad_lite.course import cli
from tinygrad_lite.course.runner import course_exercises, locate

ROOT = Path(__file__).resolve().parents[1]
K = "tinygrad_lite"
LESSON00 = ROOT / "lessons" / "00_welcome_and_tensors.ipynb"
EXERCISES00 = ["00.row_normalize", "00.standardize", "00.pairwise_sq_distances"]

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")


def within(seconds, function, *args, fifos=()):
    """``function(*args)``, failing the test (not hanging it) when it takes more than ``seconds``: a call blocked on
    opening one of ``fifos`` is released by opening the pipe's other end."""
    outcome = {}

    def call():
        try:
            outcome["value"] = function(*args)
        except BaseException as e:  # noqa: BLE001  (SystemExit included: re-raised in the test's thread)
            outcome["error"] = e
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the blocked reader's open returns
            except OSError:
                pass
        thread.join(10)
        pytest.fail(f"{getattr(function, '__name__', function)}{args} still running after {seconds} s: it opened "
                    "a named pipe?")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def lesson00_cells(*numbers):
    """A notebook of lesson 00 made of the released lesson's cells ``numbers`` (what is left after deletions)."""
    source = nbformat.read(LESSON00, as_version=4)
    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(source.metadata)
    nb.cells = [copy.deepcopy(source.cells[n]) for n in numbers]
    return nb


def cell_numbers():
    """The indices of lesson 00's setup cell and of each exercise's exercise and check cells."""
    source = nbformat.read(LESSON00, as_version=4)
    found = {}
    for n, cell in enumerate(source.cells):
        info = cell.metadata.get(K, {})
        if "exercise" in info:
            found[(info["exercise"], "exercise")] = n
        elif "check" in info:
            found[(info["check"], "check")] = n
        elif cell.cell_type == "code" and "from tinygrad_lite.course import check" in cell.source:
            found.setdefault("setup", n)
    return found


def table(out, name):
    """{exercise: result} of the table printed for the notebook ``name``, and the lines below it, each message
    joined back into one line (check wraps them within 100 columns, continuations indented two more)."""
    block = out.split(f"{name}\n")[1].split(".ipynb\n")[0]
    rows = {m[1]: m[2] for m in re.finditer(r"^  (\S+)  +(\S.*?)  +(?:\d+/\d+|-)$", block, re.M)}
    return rows, re.sub(r"\n {4,}", " ", block)


# -------------------------------------------------------------------- check: every exercise gets a row
def test_check_knows_the_exercises_of_a_lesson_from_the_registry():
    nb = lesson00_cells()
    assert course_exercises(nb) == EXERCISES00
    nb.metadata.pop(K)  # no lesson metadata: the exercises' ids tell the lesson
    nb.cells = [nbformat.v4.new_code_cell("check('00.standardize', standardize)",
                                          metadata={K: {"check": "00.standardize"}})]
    assert course_exercises(nb) == EXERCISES00
    nb.metadata[K] = {"lesson": "99_my_own"}  # a lesson the course does not have: only what the notebook marks up
    assert course_exercises(nb) == []


def test_locate_finds_an_exercise_cell_that_lost_its_metadata_by_its_def_as_the_grader_does():
    n = cell_numbers()
    nb = lesson00_cells(n["setup"], n["00.row_normalize", "check"], n["00.standardize", "exercise"],
                        n["00.standardize", "check"], n["00.pairwise_sq_distances", "exercise"])
    del nb.cells[2].metadata[K]  # standardize's exercise cell lost its metadata: found by its `def standardize(`
    nb.cells[3].metadata.pop(K)  # and its check cell too: found by its check("00.standardize", ...) call
    assert locate(nb, EXERCISES00) == {"00.row_normalize": (None, 1, "row_normalize"),
                                       "00.standardize": (2, 3, "standardize"),
                                       "00.pairwise_sq_distances": (4, None, "pairwise_sq_distances")}
    nb.cells[2].source = nb.cells[2].source.replace("def standardize(", "def my_standardize(")
    nb.cells[2].source = nb.cells[2].source.replace("00.standardize:", "mine:")
    assert locate(nb, ["00.standardize"])["00.standardize"] == (None, 3, "standardize")


def test_check_reports_deleted_and_unmarked_exercises_as_missing_and_fails(tmp_path, capsys):
    n = cell_numbers()
    # row_normalize: its exercise cell deleted, its check cell kept; standardize: its exercise cell lost its
    # metadata (found by its def); pairwise_sq_distances: its check cell deleted
    partial = lesson00_cells(n["setup"], n["00.row_normalize", "check"], n["00.standardize", "exercise"],
                             n["00.standardize", "check"], n["00.pairwise_sq_distances", "exercise"])
    del partial.cells[2].metadata[K]
    nbformat.write(partial, tmp_path / "partial.ipynb")
    nbformat.write(lesson00_cells(), tmp_path / "no_cells.ipynb")
    code = cli.main(["check", "--timeout", "60", str(tmp_path / "partial.ipynb"), str(tmp_path / "no_cells.ipynb")])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err, out + err
    rows, block = table(out, "partial.ipynb")
    assert rows == {"00.row_normalize": "missing", "00.standardize": "not attempted",
                    "00.pairwise_sq_distances": "missing"}, block
    assert "0 of 3 exercises passed, 2 missing" in block
    assert "00.row_normalize: missing: no exercise cell (deleted, or its metadata lost and no `def row_normalize`)" \
        in block
    assert "00.pairwise_sq_distances: missing: its check cell was deleted, so nothing checks it" in block
    rows, block = table(out, "no_cells.ipynb")
    assert rows == dict.fromkeys(EXERCISES00, "missing"), block
    assert "0 of 3 exercises passed, 3 missing" in block
    assert block.count("missing: its exercise cell and its check cell were deleted") == 3


def test_a_course_notebook_with_nothing_to_check_does_not_pass(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    nb.metadata[K] = {"lesson": "99_nothing"}  # not a lesson of the course, and no exercise cells
    nbformat.write(nb, tmp_path / "nothing.ipynb")
    code = within(60, cli.main, ["check", str(tmp_path / "nothing.ipynb")])
    out = capsys.readouterr().out
    assert code == 1 and "0 of 0 exercises passed" in out and "no exercise to check" in out, out


# -------------------------------------------------------------------- what is not a regular file
@needs_fifo
def test_check_and_execute_refuse_a_named_pipe_in_one_line(tmp_path, capsys):
    fifo = tmp_path / "pipe.ipynb"
    os.mkfifo(fifo)
    for command in ("check", "execute"):
        code = within(30, cli.main, [command, str(fifo)], fifos=[fifo])
        out, err = capsys.readouterr()
        assert code != 0 and out == "", (command, out)
        assert err == f"tinygrad-lite {command}: error: {fifo} is a named pipe (FIFO), not a notebook file: it was " \
                      "not opened\n", err


@needs_fifo
def test_release_refuses_a_solution_or_a_lesson_that_is_not_a_file(tmp_path, capsys):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    solutions.mkdir()
    nb = lesson00_cells()
    nbformat.write(nb, solutions / "00_welcome_and_tensors.ipynb")
    args = ["release", "--solutions", str(solutions), "--lessons", str(lessons)]
    lessons.mkdir()
    os.mkfifo(lessons / "00_welcome_and_tensors.ipynb")
    for extra in ([], ["--force"], ["--check"]):
        code = within(30, cli.main, args + extra, fifos=[lessons / "00_welcome_and_tensors.ipynb"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.splitlines()) == 1, (extra, err)
        assert f"{lessons / '00_welcome_and_tensors.ipynb'} is a named pipe (FIFO), not a lesson file" in err, err
    os.unlink(lessons / "00_welcome_and_tensors.ipynb")
    (lessons / "00_welcome_and_tensors.ipynb").mkdir()
    assert within(30, cli.main, args + ["--force"]) == 2
    assert "00_welcome_and_tensors.ipynb is a folder, not a lesson file" in capsys.readouterr().err
    os.rmdir(lessons / "00_welcome_and_tensors.ipynb")
    os.mkfifo(solutions / "01_piped.ipynb")
    (solutions / "02_folder.ipynb").mkdir()
    assert within(30, cli.main, args, fifos=[solutions / "01_piped.ipynb"]) == 2
    err = capsys.readouterr().err
    assert err == (f"tinygrad-lite release: error: {solutions / '01_piped.ipynb'} is a named pipe (FIFO), not a "
                   "notebook file: it was not opened\n"), err
    assert list(lessons.iterdir()) == [], "nothing is written"


def _empty_notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(), path)  # no lesson: graded as "unknown lesson", no kernel starts


@needs_fifo
def test_grade_skips_hidden_folders_and_duplicates_in_one_line_each_and_never_opens_a_pipe(tmp_path, capsys):
    folder = tmp_path / "class"
    for name in ("alice/notes.ipynb", ".bob/notes.ipynb", ".bob/more.ipynb", "carol/.ipynb_checkpoints/x.ipynb",
                 "dave.ipynb", ".git/objects/old.ipynb"):
        _empty_notebook(folder / name)
    os.mkfifo(folder / "erin.ipynb")
    (folder / "frank.ipynb").mkdir()
    out_dir = tmp_path / "out"
    dave = str(folder / "dave.ipynb")
    code = within(120, cli.main, ["grade", str(folder), dave, dave, "--out", str(out_dir)],
                  fifos=[folder / "erin.ipynb"])
    out, err = capsys.readouterr()
    assert code == 0 and err == "", out + err
    lines = out.splitlines()
    assert f"{dave}: the same file as class/dave.ipynb: graded once" in lines
    assert lines.count(f"{dave}: the same file as class/dave.ipynb: graded once") == 2
    for hidden, count in ((".bob", 2), (".git", 1)):
        assert (f"skipped {folder / hidden}{os.sep}: a hidden folder ({count} notebook(s) in it not graded; rename "
                "it without the leading '.' to grade them)") in lines, out
    assert "class/erin.ipynb is a named pipe (FIFO), not a notebook file: not opened, graded as unreadable" in lines
    assert "class/frank.ipynb is a folder, not a notebook file: not opened, graded as unreadable" in lines
    assert "checkpoint" not in out, "JupyterLab's autosaves are skipped without a word"
    with open(out_dir / "gradebook.csv", encoding="utf-8") as f:
        rows = {row["learner"]: row for row in csv.DictReader(f)}
    assert sorted(rows) == ["alice", "dave", "erin", "frank"], rows
    assert rows["erin"]["status"] == "unreadable" and "named pipe" in rows["erin"]["notes"]
    erin = str(folder / "erin.ipynb")
    code = within(120, cli.main, ["grade", erin, erin, "--out", str(out_dir)], fifos=[erin])
    out = capsys.readouterr().out
    assert code == 0 and f"{erin} is a named pipe (FIFO), not a notebook file: not opened" in out, out
    assert f"{erin}: given twice: graded once" in out.splitlines() and "[1/1] erin" in out, out


@needs_fifo
def test_grade_refuses_a_solution_that_is_a_named_pipe(tmp_path, capsys):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    os.mkfifo(solutions / "00_piped.ipynb")
    _empty_notebook(tmp_path / "class" / "a.ipynb")
    code = within(60, cli.main, ["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--solutions",
                                 str(solutions)], fifos=[solutions / "00_piped.ipynb"])
    err = capsys.readouterr().err
    assert code == 2 and err == (f"tinygrad-lite grade: error: {solutions / '00_piped.ipynb'} is a named pipe "
                                 "(FIFO), not a solution notebook file: it was not opened\n"), err


# -------------------------------------------------------------------- grade --out
def test_grade_out_that_is_or_lies_below_a_file_gets_one_line(tmp_path, capsys, monkeypatch):
    _empty_notebook(tmp_path / "class" / "a.ipynb")
    (tmp_path / "afile").write_text("x")
    cases = {tmp_path / "afile" / "out": f"--out {tmp_path / 'afile' / 'out'}: {tmp_path / 'afile'} is a file, "
                                         "not a folder",
             tmp_path / "afile" / "deep" / "out": f"{tmp_path / 'afile'} is a file, not a folder",
             tmp_path / "afile": f"--out {tmp_path / 'afile'} is a file, not a folder"}
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        cases[tmp_path / "pipe"] = f"--out {tmp_path / 'pipe'} is a named pipe (FIFO), not a folder"
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    real_access = os.access  # root may write anywhere: a folder it cannot write in is simulated then
    monkeypatch.setattr(cli.os, "access", lambda p, mode: Path(p) != locked and real_access(p, mode))
    cases[locked / "out"] = f"--out {locked / 'out'}: cannot create it: {locked} cannot be written in"
    cases[locked] = f"--out {locked}: the folder cannot be written in (permission denied)"
    for out_dir, words in cases.items():
        code = within(60, cli.main, ["grade", str(tmp_path / "class"), "--out", str(out_dir)])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and len(err.splitlines()) == 1, (out_dir, out, err)
        assert err.startswith("tinygrad-lite grade: error: --out ") and words in err, (words, err)
        assert "unexpected" not in err and "please report" not in err
    locked.chmod(0o700)


# -------------------------------------------------------------------- Ctrl-C while the command is importing
def test_the_entry_point_is_light_and_declared_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^tinygrad-lite = "tinygrad_lite_cli:main"$', text, re.M)
    done = subprocess.run([sys.executable, "-c", "import sys, tinygrad_lite_cli; print(sorted(m for m in sys.modules "
                           "if m.split('.')[0] in ('numpy', 'tinygrad_lite', 'nbclient')))"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def _numpy_loaded(pid, deadline):
    """Wait until process ``pid`` has mapped numpy's core extension: it is inside the library's import, past the
    interpreter's own start-up (a Ctrl-C during Python's start-up is Python's to report, not ours)."""
    while time.monotonic() < deadline:
        try:
            if "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text():
                return True
        except OSError:
            return False
        time.sleep(0.002)
    return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process's imports in /proc")
def test_ctrl_c_while_the_command_imports_exits_130_in_one_line(tmp_path):
    """What the console script does (pip's wrapper imports the entry point, then calls it), interrupted at a few
    moments of its imports: numpy, the library, the course tools, nbclient (check imports it before it starts)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    script = "import re, sys\nfrom tinygrad_lite_cli import main\nsys.exit(main())"
    outcomes = []
    for delay in (0.0, 0.1, 0.25, 0.5):
        proc = subprocess.Popen([sys.executable, "-c", script, "check", str(tmp_path / "absent.ipynb")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        try:
            loaded = _numpy_loaded(proc.pid, time.monotonic() + 30)
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert loaded or proc.returncode is not None
        assert "Traceback" not in out + err, (delay, out + err)
        # done before the Ctrl-C: exit status 2, or killed by SIGINT when the signal came as Python was exiting
        # (after main() returned: nothing can catch it there, as in any program), with the whole answer written
        normal = (proc.returncode in (2, -signal.SIGINT) and out == ""
                  and err == f"tinygrad-lite check: error: {tmp_path / 'absent.ipynb'}: no such file\n")
        interrupted = proc.returncode == 130 and out == "" and err == "interrupted (Ctrl-C)\n"
        assert normal or interrupted, (delay, proc.returncode, out, err)
        outcomes.append(proc.returncode)
    assert 130 in outcomes, outcomes


def test_ctrl_c_inside_an_import_callback_while_the_notebook_tools_load_ends_the_command(monkeypatch, capsys):
    """The same while ``check`` imports nbclient, after the library's import: a CI run caught the Ctrl-C in the
    weak-reference callback that frees the module lock, and the command printed "Exception ignored in ..." with a
    traceback and went on to check the notebook. Here the handler runs inside such a callback, as the signal made
    it do; the command ends as interrupted, in one line."""
    import builtins
    import weakref

    real_import = builtins.__import__

    class Lock:
        pass

    def importing(name, *args, **kwargs):
        if name == "nbclient":
            lock, handler = Lock(), signal.getsignal(signal.SIGINT)
            freed = weakref.ref(lock, lambda ref: handler(signal.SIGINT, None))
            del lock  # the callback runs here; the KeyboardInterrupt it raises cannot propagate
            assert freed() is None
        return real_import(name, *args, **kwargs)

    reported = []  # what Python's default hook would print as "Exception ignored in ..." (pytest replaces it)
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: reported.append(unraisable.exc_type))
    hook, handler_before = sys.unraisablehook, signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(builtins, "__import__", importing)
    status = cli.main(["check", "absent.ipynb"])
    out, err = capsys.readouterr()
    assert (status, out, err, reported) == (130, "", "interrupted (Ctrl-C)\n", [])
    assert sys.unraisablehook is hook and signal.getsignal(signal.SIGINT) is handler_before
    monkeypatch.setattr(builtins, "__import__", real_import)  # and a later command is not taken as interrupted
    assert cli.main(["check", "absent.ipynb"]) == 2


@pytest.mark.parametrize("step", ["parser", "_need_notebook_tools"])
def test_ctrl_c_at_each_step_of_the_command_prints_one_line_and_exits_130(step, monkeypatch, capsys):
    """The timed test above lands its Ctrl-C wherever the scheduler lets it (a CI run once caught it while the
    parser was built, which exited 130 without a word); this one lands it in each step of ``cli.main`` that comes
    before the subcommand, whose own Ctrl-C handling the tests of each command cover."""
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, step, interrupt)
    status = cli.main(["check", "absent.ipynb"])
    out, err = capsys.readouterr()
    assert (status, out, err) == (130, "", "interrupted (Ctrl-C)\n")


def test_ctrl_c_inside_a_callback_of_the_import_system_prints_one_line(monkeypatch, capsys):
    """A CI run once caught the Ctrl-C inside the weak-reference callback that frees an import's module lock:
    Python cannot raise there, so it printed "Exception ignored in ..." with a traceback before our one line.
    Here the handler runs inside such a callback, during the import, as the signal made it do."""
    import builtins
    import weakref

    import tinygrad_lite_cli

    real_import = builtins.__import__

    class Lock:
        pass

    def importing(name, *args, **kwargs):
        if name == "tinygrad_lite.course":
            lock = Lock()
            freed = weakref.ref(lock, lambda ref: tinygrad_lite_cli._on_sigint(signal.SIGINT, None))
            del lock  # the callback runs here; the KeyboardInterrupt it raises cannot propagate
            assert freed() is None
        return real_import(name, *args, **kwargs)

    reported = []  # what Python's default hook would print as "Exception ignored in ..." (pytest replaces it)
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: reported.append(unraisable.exc_type))
    monkeypatch.setattr(builtins, "__import__", importing)
    hook = sys.unraisablehook
    status = tinygrad_lite_cli.main(["check", "absent.ipynb"])
    out, err = capsys.readouterr()
    assert (status, out, err, reported) == (130, "", "interrupted (Ctrl-C)\n", [])
    assert sys.unraisablehook is hook and signal.getsignal(signal.SIGINT) is not tinygrad_lite_cli._on_sigint
    # anything else that cannot be raised is still reported, and a later command is not taken as interrupted
    monkeypatch.setattr(builtins, "__import__", real_import)
    assert tinygrad_lite_cli.main(["check", "absent.ipynb"]) == 2
    assert capsys.readouterr().err == "tinygrad-lite check: error: absent.ipynb: no such file\n"
    quiet = tinygrad_lite_cli._quiet_recorded_interrupts(hook)
    tinygrad_lite_cli._received.append(signal.SIGINT)
    def unraisable(error):
        return types.SimpleNamespace(exc_type=type(error), exc_value=error, exc_traceback=None, err_msg=None,
                                     object=None)
    quiet(unraisable(ValueError("other")))
    quiet(unraisable(KeyboardInterrupt()))
    tinygrad_lite_cli._received.clear()
    quiet(unraisable(KeyboardInterrupt()))
    assert reported == [ValueError, KeyboardInterrupt]  # an interrupt not ours (none recorded) is still shown


def test_the_lesson_of_a_notebook_without_its_metadata_comes_from_its_file_name():
    """A notebook that lost the lesson's metadata (its cells copied into a new notebook) and whose marked cells are
    gone still gets a row for each exercise of its lesson, when its file name is the lesson's."""
    from tinygrad_lite.course.runner import course_exercises, lesson_number
    bare = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert lesson_number(bare) is None and lesson_number(bare, "mine.ipynb") is None
    assert lesson_number(bare, "00_welcome_and_tensors.ipynb") == "00"
    assert course_exercises(bare, "00_welcome_and_tensors.ipynb") == EXERCISES00


def test_a_reader_that_goes_away_stops_the_command_quietly(tmp_path, monkeypatch, capsys):
    """`tinygrad-lite check -v ... | head -1`: head exits, the next print raises BrokenPipeError. The command stops
    with a shell's status for it (128 + SIGPIPE) and no "unexpected error, please report this" line."""
    def lessons_into_a_closed_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(cli, "cmd_lessons", lessons_into_a_closed_pipe)
    monkeypatch.setattr(cli.os, "dup2", lambda *args: None)  # (leave pytest's stdout alone)
    assert cli.main(["lessons", str(tmp_path / "course")]) == 141
    assert capsys.readouterr().err == ""


def test_every_help_screen_fits_100_columns(capsys):
    """Each command's --help (argparse's part and the epilog with the exit statuses) within 100 columns."""
    for command in (["check"], ["grade"], ["release"], ["update"], ["lessons"], ["execute"], ["mutants"],
                    ["points"], ["export", "gradescope"], []):
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        out = capsys.readouterr().out
        assert "usage:" in out and [line for line in out.splitlines() if len(line) > 100] == [], command
    with pytest.raises(SystemExit):  # (the version, and which installation answers: a learner may have two)
        cli.main(["--version"])
    assert capsys.readouterr().out == f"tinygrad-lite {tl.__version__} ({Path(tl.__file__).parent})\n"


def test_a_mistyped_command_option_or_path_is_named_with_its_fix(tmp_path, capsys):
    """One line each, with the nearest command or option of the command typed, or the notebook to give."""
    said = []
    for argv in (["chek", "x"], ["grade", "x", "--out", "o", "--jobz", "2"], ["check", "x", "--verbse"],
                 ["check", "x", "--colour"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(argv)
        said.append(capsys.readouterr().err)
        assert stop.value.code == 2 and len(said[-1].splitlines()) == 1 and said[-1].endswith(" (see --help)\n")
    typo, grade, verbose, colour = said
    assert "tinygrad-lite: error: argument COMMAND: invalid choice: 'chek'" in typo and "; did you mean check?" in typo
    assert grade.startswith("tinygrad-lite grade: error: unrecognized arguments: --jobz 2; did you mean --jobs?")
    assert verbose.startswith("tinygrad-lite check: error: unrecognized arguments: --verbse; did you mean --verbose?")
    assert colour == "tinygrad-lite check: error: unrecognized arguments: --colour (see --help)\n"  # (not grade's)
    course = tmp_path / "course"
    course.mkdir()
    (course / "00_welcome_and_tensors.ipynb").write_text("{}")
    assert cli.main(["check", str(course)]) == 2
    example = course / "00_welcome_and_tensors.ipynb"
    assert capsys.readouterr().err.strip().endswith(
        f"is a folder, not a notebook file: give the path of one notebook, e.g. {example}")
    assert cli.main(["points", "--solutions", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "the solutions/ folder of a clone of the course's repository" in err and "--solutions" in err, err


def test_check_inside_a_notebook_being_checked_refuses_to_start_another(monkeypatch, capsys):
    """A lesson with a `!tinygrad-lite check` cell (lesson 00 shows the command): the check's own kernel would run
    it, which would check the lesson again, whose kernel would run it ... (a review saw 36 processes and
    counting). Inside a check's kernel (its results file is set) the command refuses, in one line."""
    monkeypatch.setenv("TINYGRAD_LITE_CHECK_RESULTS", "/nonexistent/results.jsonl")
    assert cli.main(["check", "00"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inside a notebook that tinygrad-lite check is running" in err[0], err


def test_ctrl_c_while_python_shuts_down_after_the_answer_is_ignored(tmp_path):
    """(session 48: a CI run's Ctrl-C landed in the logging module's flush at exit and printed a traceback) A
    Ctrl-C once the command has answered, while Python flushes its logging handlers at exit, changes nothing."""
    script = ("import logging, os, signal, sys\n"
              "class Kicks(logging.Handler):\n"
              "    def emit(self, record): pass\n"
              "    def flush(self): os.kill(os.getpid(), signal.SIGINT)\n"
              "logging.getLogger('x').addHandler(Kicks())\n"
              "from tinygrad_lite_cli import main\n"
              "sys.exit(main(['check', 'absent.ipynb']))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "tinygrad-lite check: error: absent.ipynb: no such file\n"
