"""`tinygrad-lite lessons [DEST]` and ``copy_lessons``: the lesson notebooks the course carries, written into a
folder of the learner's (tinygrad_lite/course/lessons.py). From the built wheel on a hosted notebook:
tests/test_hosted.py."""
import builtins
import json
import shutil
import sys
from pathlib import Path

import nbformat

from tinygrad_lite.course import cli, copy_lessons
from tinygrad_lite.course import lessons as shipped
from tinygrad_lite.course.release import RELEASE_KEY, stamp

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def test_a_clone_ships_its_lessons_folder():
    assert shipped.lessons_folder() == ROOT / "lessons"
    assert [p.name for p in shipped.shipped_lessons()] == LESSONS


def test_the_installed_data_files_are_found_without_a_clone(tmp_path, monkeypatch):
    """As after `pip install <wheel>`: no lessons/ or benchmarks/ beside the package, the notebooks and the stored
    GPU measurement under PREFIX/share/tinygrad_lite/..."""
    data = tmp_path.joinpath(*shipped.DATA_PREFIX)
    (data / "lessons").mkdir(parents=True)
    (data / "lessons" / "00_first.ipynb").write_text("{}")
    monkeypatch.setattr(shipped, "__file__", str(tmp_path / "site-packages" / "tinygrad_lite" / "course" / "x.py"))
    monkeypatch.setattr(shipped.sys, "prefix", str(tmp_path))
    assert shipped.lessons_folder() == data / "lessons"  # (this editable install records no data files of its own)
    assert shipped.stored_gpu_results() is None
    (data / "benchmarks").mkdir()
    (data / "benchmarks" / "gpu_results.json").write_text('{"gpu": "NVIDIA H200"}')
    assert shipped.stored_gpu_results() == {"gpu": "NVIDIA H200"}


def test_a_clone_has_a_stored_gpu_measurement_labelled_with_its_machine():
    stored = shipped.stored_gpu_results()
    assert stored == json.loads((ROOT / "benchmarks" / "gpu_results.json").read_text())
    assert {"machine", "gpu", "date", "matmul", "mlp_step"} <= set(stored) and stored["device"] == "cuda"
    for key, sizes in (("matmul", "sizes"), ("mlp_step", "widths")):
        assert len(stored[key][sizes]) == len(stored[key]["tinygrad_lite"]) == len(stored[key]["torch"])


def test_copy_lessons_writes_every_lesson_and_never_overwrites_one(tmp_path):
    done = copy_lessons(tmp_path / "course")
    assert [(p.name, s) for p, s in done] == [(name, "written") for name in LESSONS]
    assert all((tmp_path / "course" / n).read_bytes() == (ROOT / "lessons" / n).read_bytes() for n in LESSONS)
    mine = tmp_path / "course" / LESSONS[0]
    mine.write_text("my answers")
    again = copy_lessons(tmp_path / "course")
    assert dict((p.name, s) for p, s in again)[LESSONS[0]] == "kept" and mine.read_text() == "my answers"


def test_the_command_says_what_it_wrote_and_how_to_take_a_new_version(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/local/bin/{name}")  # (the command on the PATH)
    assert cli.main(["lessons", "course"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"{len(LESSONS)} written, 0 kept in course: start with {LESSONS[0]}"
    answered = nbformat.read(tmp_path / "course" / LESSONS[0], as_version=4)  # answered and run: this version's
    cell = next(c for c in answered.cells if c.metadata.get("tinygrad_lite", {}).get("exercise"))
    cell.source, cell.outputs = "def my_answer():\n    return 1\n", [nbformat.v4.new_output("stream", text="1\n")]
    nbformat.write(answered, tmp_path / "course" / LESSONS[0])
    assert cli.main(["lessons", "course"]) == 0
    out = capsys.readouterr().out
    assert f"0 written, {len(LESSONS)} kept in course\n" in out and "older version" not in out, out
    noted = nbformat.read(tmp_path / "course" / LESSONS[1], as_version=4)  # this version, a note of the learner's
    next(c for c in noted.cells if c.cell_type == "markdown").source += "\n\nMy own note."
    nbformat.write(noted, tmp_path / "course" / LESSONS[1])
    assert cli.main(["lessons", "course"]) == 0
    out = capsys.readouterr().out
    assert f"0 written, {len(LESSONS)} kept in course\n" in out and "older version" not in out, out
    older = nbformat.read(tmp_path / "course" / LESSONS[1], as_version=4)  # a text cell of an older version
    next(c for c in older.cells if c.cell_type == "markdown").source += "\n\nA sentence this version left out."
    nbformat.write(stamp(older), tmp_path / "course" / LESSONS[1])  # (as that version released it)
    assert cli.main(["lessons", "course"]) == 0
    out = capsys.readouterr().out
    assert f"1 of the kept notebooks is of an older version of the course: {LESSONS[1]}." in out, out
    assert "start with" not in out and all(len(line) <= 100 for line in out.splitlines()[-3:-1]), out
    assert out.splitlines()[-1] == f"    tinygrad-lite update --from {ROOT / 'lessons'} course"  # whole, to copy


def test_the_command_needs_no_notebook_tools(tmp_path, capsys, monkeypatch):
    """The hosted extra leaves nbformat and nbclient to the service: without them the lessons are written all the
    same, and a kept notebook is compared with this version's by its cells' text (its exercise cells aside)."""
    real_import = builtins.__import__

    def without_notebook_tools(name, *args, **kwargs):
        if name.split(".")[0] in ("nbformat", "nbclient"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", without_notebook_tools)
    monkeypatch.setattr(shutil, "which", lambda name: None)  # (nor the command on the PATH: a kernel's own Python)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["lessons", "course"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"{len(LESSONS)} written, 0 kept in course")
    for name, edit in ((LESSONS[0], "code"), (LESSONS[1], "markdown")):  # an answer; an older version's text
        nb = json.loads((tmp_path / "course" / name).read_text())
        cell = next(c for c in nb["cells"] if c["cell_type"] == edit
                    and bool(c["metadata"].get("tinygrad_lite", {}).get("exercise")) == (edit == "code"))
        cell["source"] = "def my_answer():\n    return 1\n" if edit == "code" else "An older sentence."
        if edit == "markdown":  # (an older release records the hash of its own cells)
            nb["metadata"][RELEASE_KEY]["cells_sha256"] = "an older release's"
        (tmp_path / "course" / name).write_text(json.dumps(nb))
    assert cli.main(["lessons", "course"]) == 0
    out = capsys.readouterr().out
    assert f"1 of the kept notebooks is of an older version of the course: {LESSONS[1]}." in out, out
    said = " ".join(out.split("kept in course")[-1].split())  # (the wrapped lines as one)
    assert "(%pip install nbformat nbclient ipykernel)" in said and LESSONS[0] not in said, said
    assert f"{sys.executable} -m tinygrad_lite.course update --from" in said, said  # (the command that runs here)
    assert cli.main(["lessons", " "]) == 2 and "DEST is empty" in capsys.readouterr().err


def test_a_folder_that_cannot_be_written_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["lessons", str(blocker / "course")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write into" in err[0] and "choose another folder" in err[0], err


def test_nothing_is_written_outside_dest_nor_over_a_folder(tmp_path, capsys):
    """A dangling symbolic link in DEST with a lesson's name would make a plain write create its target outside
    DEST; a folder with a lesson's name cannot take the notebook: one line each, nothing written."""
    outside = tmp_path / "outside" / "stolen.ipynb"
    dest = tmp_path / "course"
    dest.mkdir()
    (dest / LESSONS[2]).symlink_to(outside)
    assert cli.main(["lessons", str(dest)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "symbolic link" in err[0] and "outside the folder" in err[0], err
    assert not outside.exists() and sorted(p.name for p in dest.iterdir()) == [LESSONS[2]]
    (dest / LESSONS[2]).unlink()
    (dest / LESSONS[3]).mkdir()
    assert cli.main(["lessons", str(dest)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a folder" in err[0] and "nothing was written" in err[0], err
    assert sorted(p.name for p in dest.iterdir()) == [LESSONS[3]]
    (dest / LESSONS[3]).rmdir()
    target = tmp_path / "mine.ipynb"  # a link to a notebook that exists is the learner's choice: kept, not written
    target.write_text("{}")
    (dest / LESSONS[4]).symlink_to(target)
    assert cli.main(["lessons", str(dest)]) == 0
    out = capsys.readouterr().out
    assert target.read_text() == "{}" and f"kept     {dest / LESSONS[4]}" in out
    said = " ".join(out.split())  # (an unreadable one: not "older", which `update` could not merge)
    assert f"1 of the kept notebooks cannot be read as notebooks: {LESSONS[4]}. To get a fresh copy" in said, said
    assert "older version" not in said
