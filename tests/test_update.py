"""`tinygrad-lite update`: a new version of the lessons that keeps the learner's answers (course/update.py).

The lessons here are small course notebooks built with nbformat in the structure of the real ones (a heading, the
exercise cell with its solution between the markers, the check cell), released with the course's own release
code, so that the stubs are the real stubs. The git tests make an "upstream" repository and a clone in tmp_path.
"""
import os
import subprocess

import nbformat
import pytest

from tinygrad_lite.course.cli import main
from tinygrad_lite.course.notebooks import meta
from tinygrad_lite.course.release import notebook_text, release_notebook, stamp
from tinygrad_lite.course.update import KEPT_KEY, exercise_cells, merge

K = "tinygrad_lite"
NAME = "01_tiny.ipynb"
IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}


def lesson(exercises, intro="# Lesson 01 · tiny\n\nA small lesson.", lesson_name="01_tiny"):
    """A released lesson (stubs, stamped) from ``exercises``: [(exercise id, function name)]."""
    cells = [nbformat.v4.new_markdown_cell(intro),
             nbformat.v4.new_code_cell("import tinygrad_lite as tl\nfrom tinygrad_lite.course import check, use")]
    for exercise_id, name in exercises:
        cells += [
            nbformat.v4.new_markdown_cell(f"### Exercise {exercise_id} (1 point)\n\nWrite `{name}`."),
            nbformat.v4.new_code_cell(
                f'def {name}(x):\n    """{name} of x."""\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION',
                metadata={K: {"exercise": exercise_id, "task": f"return {name} of x"}}),
            nbformat.v4.new_code_cell(f'check("{exercise_id}", {name})', metadata={K: {"check": exercise_id}})]
    solution = nbformat.v4.new_notebook(cells=cells, metadata={K: {"lesson": lesson_name}})
    for number, cell in enumerate(solution.cells):
        cell.id = f"{lesson_name}-{number}"
    return nbformat.reads(notebook_text(stamp(release_notebook(solution))), as_version=4)


def answer(nb, exercise_id, code):
    """The learner writes ``code`` into exercise ``exercise_id`` (in place) and the cell has an output."""
    cell = exercise_cells(nb)[exercise_id]
    cell.source, cell.execution_count = code, 3
    cell.outputs = [nbformat.v4.new_output("stream", text="ran\n")]


def sources(nb):
    return {i: c.source for i, c in exercise_cells(nb).items()}


def kept_aside(nb):
    """{exercise id: the code kept aside at the end} and the markdown notes, of a merged notebook."""
    code = {meta(c)[KEPT_KEY]: c.source for c in nb.cells if c.cell_type == "code" and KEPT_KEY in meta(c)}
    notes = [c.source for c in nb.cells if c.cell_type == "markdown" and KEPT_KEY in meta(c)]
    return code, notes


V1 = [("01.double", "double"), ("01.square", "square"), ("01.halve", "halve")]
ANSWERS = {"01.double": "def double(x):\n    return 2 * x", "01.square": "def square(x):\n    return x * x",
           "01.halve": "def halve(x):\n    return x / 2  # mine"}


def learner_v1():
    nb = lesson(V1)
    for exercise_id, code in ANSWERS.items():
        answer(nb, exercise_id, code)
    return nb


# -------------------------------------------------------------------- the merge (pure)
def test_merge_keeps_every_answer_when_text_and_code_cells_changed():
    old = lesson(V1)
    new = lesson(V1, intro="# Lesson 01 · tiny, rewritten\n\nBetter words.")
    new.cells[1].source += "\nimport numpy as np"  # a code cell of the course changed
    merged, report = merge(learner_v1(), new, old)
    assert sources(merged) == ANSWERS
    assert report.kept == list(ANSWERS) and report.conflicts == [] and report.new == []
    assert merged.cells[0].source.startswith("# Lesson 01 · tiny, rewritten") and "numpy" in merged.cells[1].source
    assert all(c.outputs == [] and c.execution_count is None for c in merged.cells if c.cell_type == "code")
    assert [c.source for c in merged.cells if meta(c).get("check")] == [c.source for c in new.cells
                                                                         if meta(c).get("check")]
    nbformat.validate(merged)


def test_merge_untouched_stub_takes_the_new_stub():
    old, learner = lesson(V1), lesson(V1)
    answer(learner, "01.double", ANSWERS["01.double"])
    new = lesson(V1)
    exercise_cells(new)["01.square"].source = exercise_cells(new)["01.square"].source.replace("return", "give")
    merged, report = merge(learner, new, old)
    assert report.kept == ["01.double"]
    assert sources(merged)["01.square"] == exercise_cells(new)["01.square"].source
    merged_without_old, report = merge(learner, new)  # without the old release, a different cell counts as yours
    assert "01.square" in report.kept


def test_renamed_or_removed_exercise_is_kept_aside_at_the_end():
    new = lesson([("01.double", "double"), ("01.square_it", "square")])  # square renamed, halve removed
    merged, report = merge(learner_v1(), new, lesson(V1))
    assert report.kept == ["01.double"] and report.conflicts == ["01.square", "01.halve"]
    code, notes = kept_aside(merged)
    assert code == {"01.square": ANSWERS["01.square"], "01.halve": ANSWERS["01.halve"]}
    assert all(KEPT_KEY in meta(c) for c in merged.cells[-4:])  # at the very end
    assert "exercise 01.square" in notes[0] and "has no exercise `01.square`" in notes[0]
    assert "01.square_it" in report.new and sources(merged)["01.square_it"].count("NotImplementedError")
    nbformat.validate(merged)
    assert len({c.id for c in merged.cells}) == len(merged.cells)
    again, report = merge(merged, new, new)  # a second update keeps what the first kept aside
    assert kept_aside(again) == kept_aside(merged) and report.conflicts == ["01.square", "01.halve"]
    assert report.kept == ["01.double"] and len(again.cells) == len(merged.cells)


def test_new_exercise_appears_as_its_stub():
    new = lesson(V1 + [("01.negate", "negate")])
    merged, report = merge(learner_v1(), new, lesson(V1))
    assert report.new == ["01.negate"] and report.kept == list(ANSWERS)
    assert sources(merged)["01.negate"] == exercise_cells(new)["01.negate"].source
    assert "raise NotImplementedError('01.negate: not written yet')" in sources(merged)["01.negate"]


# -------------------------------------------------------------------- git
@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """Git with an identity and no user or system configuration; returns a function that runs git."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    for key, value in {**IDENTITY, "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1",
                       "GIT_CEILING_DIRECTORIES": str(tmp_path.parent), "GIT_TERMINAL_PROMPT": "0"}.items():
        monkeypatch.setenv(key, value)

    def git(cwd, *args):
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=os.environ)
    return git


def write(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_text(nb), encoding="utf-8")


@pytest.fixture
def course(tmp_path, git_env):
    """An upstream course (v1) and a learner's clone with answers saved in it; returns (upstream, clone, git)."""
    upstream, clone = tmp_path / "upstream", tmp_path / "clone"
    write(upstream / "lessons" / NAME, lesson(V1))
    write(upstream / "lessons" / "00_other.ipynb", lesson([("00.one", "one")], lesson_name="00_other"))
    (upstream / "README.txt").write_text("the course\n")
    git_env(tmp_path, "init", "-q", "-b", "main", str(upstream))
    git_env(upstream, "add", ".")
    git_env(upstream, "commit", "-q", "-m", "v1")
    git_env(tmp_path, "clone", "-q", str(upstream), str(clone))
    write(clone / "lessons" / NAME, learner_v1())
    return upstream, clone, git_env


def release_v2(upstream, git):
    """Upstream v2: the text changed, 01.square renamed to 01.square_it, README changed."""
    write(upstream / "lessons" / NAME, lesson([("01.double", "double"), ("01.square_it", "square"),
                                               ("01.halve", "halve")], intro="# Lesson 01 · tiny (v2)\n\nNew."))
    (upstream / "README.txt").write_text("the course, v2\n")
    git(upstream, "commit", "-q", "-am", "v2")


def test_git_update_end_to_end(course, monkeypatch, capsys):
    upstream, clone, git = course
    release_v2(upstream, git)
    monkeypatch.chdir(clone)
    assert main(["update"]) == 0
    out = capsys.readouterr().out
    assert (clone / "README.txt").read_text() == "the course, v2\n"  # the pull happened
    assert git(clone, "rev-parse", "HEAD").stdout == git(upstream, "rev-parse", "HEAD").stdout
    merged = nbformat.read(clone / "lessons" / NAME, as_version=4)
    assert merged.cells[0].source.startswith("# Lesson 01 · tiny (v2)")
    assert sources(merged)["01.double"] == ANSWERS["01.double"] and sources(merged)["01.halve"] == ANSWERS["01.halve"]
    assert kept_aside(merged)[0] == {"01.square": ANSWERS["01.square"]}
    backups = list((clone / "lessons" / ".backup").glob("01_tiny-*.ipynb"))
    assert len(backups) == 1 and sources(nbformat.read(backups[0], as_version=4)) == ANSWERS
    line = next(x for x in described(out) if "merged" in x)
    assert "2 answers kept" in line and "01.square" in line and backups[0].name in line
    assert "every other cell is the new version's" in line
    assert "pulled" in out
    assert git(clone, "status", "--porcelain", "--", "lessons/00_other.ipynb").stdout == ""


def test_git_update_of_an_unchanged_lesson_leaves_it_byte_for_byte(course, monkeypatch, capsys):
    upstream, clone, git = course
    (upstream / "README.txt").write_text("only the readme changed\n")
    git(upstream, "commit", "-q", "-am", "readme")
    before = (clone / "lessons" / NAME).read_bytes()
    monkeypatch.chdir(clone)
    assert main(["update"]) == 0
    assert (clone / "lessons" / NAME).read_bytes() == before
    assert "unchanged" in capsys.readouterr().out
    assert not list((clone / "lessons" / ".backup").glob("*.ipynb"))


def test_failed_pull_leaves_the_learners_files_as_they_were(course, monkeypatch, capsys):
    upstream, clone, git = course
    release_v2(upstream, git)
    (clone / "README.txt").write_text("my notes\n")  # an uncommitted change that v2 would overwrite
    before = {p: p.read_bytes() for p in (clone / "lessons").glob("*.ipynb")}
    head = git(clone, "rev-parse", "HEAD").stdout
    monkeypatch.chdir(clone)
    assert main(["update"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "README.txt" in err and "back as they were" in err
    assert {p: p.read_bytes() for p in (clone / "lessons").glob("*.ipynb")} == before
    assert (clone / "README.txt").read_text() == "my notes\n" and git(clone, "rev-parse", "HEAD").stdout == head


def test_committed_answers_are_merged_by_exercise_without_conflict_markers(course, monkeypatch, capsys):
    """The learner committed their answers (and a note of their own); the course changed the same lesson: update
    merges the two histories, each notebook by exercise, keeps every answer, brings the change, and leaves no
    conflict marker; a later update of the course goes on the same way."""
    upstream, clone, git = course
    (clone / "notes.txt").write_text("mine\n")
    git(clone, "add", ".")
    git(clone, "commit", "-q", "-m", "my answers")
    release_v2(upstream, git)
    monkeypatch.chdir(clone)
    assert main(["update"]) == 0
    out = capsys.readouterr().out
    text = (clone / "lessons" / NAME).read_text(encoding="utf-8")
    assert "<<<<<<<" not in text and ">>>>>>>" not in text
    merged = nbformat.read(clone / "lessons" / NAME, as_version=4)
    assert merged.cells[0].source.startswith("# Lesson 01 · tiny (v2)")
    assert sources(merged)["01.double"] == ANSWERS["01.double"] and sources(merged)["01.halve"] == ANSWERS["01.halve"]
    assert kept_aside(merged)[0] == {"01.square": ANSWERS["01.square"]}
    assert (clone / "README.txt").read_text() == "the course, v2\n" and (clone / "notes.txt").read_text() == "mine\n"
    assert git(clone, "status", "--porcelain").stdout == ""  # committed: a merge commit, nothing left over
    line = next(x for x in described(out) if "merged" in x)
    assert "2 answers kept" in line and "01.square" in line and "your commit keeps the old notebook" in line
    assert "pull --rebase" not in out
    (upstream / "README.txt").write_text("the course, v3\n")  # and the next version comes in the same way
    git(upstream, "commit", "-q", "-am", "v3")
    assert main(["update"]) == 0
    assert (clone / "README.txt").read_text() == "the course, v3\n"
    assert sources(nbformat.read(clone / "lessons" / NAME, as_version=4))["01.double"] == ANSWERS["01.double"]


def test_a_committed_file_that_the_course_changed_too_stops_the_update_in_one_line(course, monkeypatch, capsys):
    upstream, clone, git = course
    (clone / "README.txt").write_text("my own readme\n")
    git(clone, "commit", "-q", "-am", "my answers and my readme")
    release_v2(upstream, git)
    head = git(clone, "rev-parse", "HEAD").stdout
    before = (clone / "lessons" / NAME).read_bytes()
    monkeypatch.chdir(clone)
    assert main(["update"]) == 1
    err = one_line(capsys)
    assert "your commits changed README.txt" in err and "git checkout" in err and "pull --rebase" not in err
    assert git(clone, "rev-parse", "HEAD").stdout == head and git(clone, "status", "--porcelain").stdout == ""
    assert (clone / "lessons" / NAME).read_bytes() == before and "<<<<<<<" not in (clone / "README.txt").read_text()


# -------------------------------------------------------------------- without git
def test_update_from_a_folder(tmp_path, monkeypatch, capsys):
    mine, new = tmp_path / "lessons", tmp_path / "new"
    write(mine / NAME, learner_v1())
    write(mine / "00_other.ipynb", lesson([("00.one", "one")], lesson_name="00_other"))  # never edited
    write(new / NAME, lesson([("01.double", "double"), ("01.square", "square")], intro="# v2"))
    write(new / "00_other.ipynb", lesson([("00.one", "one")], intro="# other v2", lesson_name="00_other"))
    write(new / "02_next.ipynb", lesson([("02.x", "x")], lesson_name="02_next"))
    monkeypatch.chdir(tmp_path)
    assert main(["update", "--from", "new"]) == 0
    out = capsys.readouterr().out
    merged = nbformat.read(mine / NAME, as_version=4)
    assert sources(merged) == {k: ANSWERS[k] for k in ("01.double", "01.square")}
    assert kept_aside(merged)[0] == {"01.halve": ANSWERS["01.halve"]}
    assert (mine / "02_next.ipynb").read_bytes() == (new / "02_next.ipynb").read_bytes()
    assert (mine / "00_other.ipynb").read_bytes() == (new / "00_other.ipynb").read_bytes()
    backups = list((mine / ".backup").glob("*.ipynb"))
    assert [b.name.startswith("01_tiny-") for b in backups] == [True]
    assert "2 answers kept" in out and "01.halve" in out and "new  lessons/02_next.ipynb" in out
    # the same update again, after running the merged notebook: nothing to merge, no backup, the outputs kept
    ran = nbformat.read(mine / NAME, as_version=4)
    next(c for c in ran.cells if c.cell_type == "code").outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    nbformat.write(ran, mine / NAME)
    before = (mine / NAME).read_bytes()
    assert main(["update", "--from", "new"]) == 0
    out = capsys.readouterr().out
    assert f"unchanged  lessons/{NAME}" in out and "merged" not in out, out
    assert (mine / NAME).read_bytes() == before and len(list((mine / ".backup").glob("*.ipynb"))) == 1


def described(out):
    """update's lines, each lesson's line whole again: it is wrapped within 100 columns, the continuation lines
    indented 11 columns (under the lesson's path)."""
    assert all(len(line) <= 100 for line in out.splitlines()), out
    return out.replace("\n" + " " * 11, " ").splitlines()


# -------------------------------------------------------------------- one-line errors
def one_line(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_not_a_git_checkout_and_no_from(tmp_path, git_env, monkeypatch, capsys):
    (tmp_path / "lessons").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["update"]) == 2
    assert "not in a git checkout" in one_line(capsys)


def test_git_missing_says_so(tmp_path, git_env, monkeypatch, capsys):
    (tmp_path / "lessons").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert main(["update"]) == 2
    err = one_line(capsys)
    assert "git is not installed" in err and "--from" in err and "not in a git checkout" not in err


def test_from_a_missing_folder_and_a_file_that_is_not_a_notebook(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["update", "--from", "nowhere"]) == 2
    assert "nowhere is not a folder" in one_line(capsys)
    write(tmp_path / "new" / NAME, lesson(V1))
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / NAME).write_text("{not json")
    assert main(["update", "--from", "new"]) == 2
    err = one_line(capsys)
    assert NAME in err and "nothing was changed" in err
    assert (tmp_path / "lessons" / NAME).read_text() == "{not json"


def test_git_errors_no_upstream_and_a_broken_lesson(course, monkeypatch, capsys):
    _, clone, git = course
    monkeypatch.chdir(clone)
    (clone / "lessons" / "00_other.ipynb").write_text("broken")
    assert main(["update"]) == 2
    assert "00_other.ipynb" in one_line(capsys)
    assert (clone / "lessons" / "00_other.ipynb").read_text() == "broken"
    assert not list((clone / "lessons" / ".backup").glob("*.ipynb"))
    git(clone, "checkout", "-q", "--detach")
    assert main(["update"]) == 1
    assert "no upstream branch" in one_line(capsys)
    assert main(["update", "no-such-folder"]) == 2
    one_line(capsys)


def test_help_lists_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["update", "--help"])
    assert "exit status" in capsys.readouterr().out
