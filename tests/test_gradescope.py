"""The Gradescope autograder (``tinygrad-lite export gradescope``, ``tinygrad_lite/course/grading/gradescope.py``).

The zip of lesson 00 is exported once, unpacked into temporary folders laid out like Gradescope's (``source/``,
``submission/``, ``results/``, ``run_autograder`` beside them), and its ``run_autograder`` runs on a right, a
wrong and a hostile notebook, with this virtual environment (``TINYGRAD_LITE_AUTOGRADER_PYTHON``) in place of
the one ``setup.sh`` would install (whose content is checked instead: the versions of constraints.txt and the
course in the zip). Each results.json is validated against ``tests/gradescope_results.schema.json`` (Gradescope's
format, written from its documentation), and its scores and feedback are compared with ``grade``'s on the same
notebooks. The autograder makes a new secret per run: ``grade`` is given the one the wrong notebook's run printed
for the instructor (the right and the hostile notebook score alike whatever the secret). Submissions that are
no notebook, two notebooks, another lesson's or a damaged one, and an autograder that cannot grade, each still
give a valid results.json with 0 points and a message.
"""
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from test_grading import HOSTILE_00, L00, L01, MODE, NO_KERNEL, exercises_of, notebook, results_of, save, submission

from tinygrad_lite.course import cli
from tinygrad_lite.course.grading import gradescope, judge, version

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((Path(__file__).with_name("gradescope_results.schema.json")).read_text(encoding="utf-8"))
NAME = f"{L00}.ipynb"
WRONG = {  # two of lesson 00's known mistakes (their hints must reach the learner); the third exercise solved
    "00.row_normalize": "def row_normalize(scores):\n    return scores / scores.sum()\n",
    "00.standardize": "def standardize(x):\n    return (x - x.mean(dim=0)) / x.std(dim=0)\n",
}
# Gradescope-specific attacks, with the path in pieces (the grader refuses a cell that names the solutions): read
# the solution from the autograder's source folder, forge results.json, monkeypatch; and the kernel exits.
HOSTILE = {
    "00.row_normalize": HOSTILE_00["osexit"]["00.row_normalize"],
    "00.standardize": """
        import json

        def standardize(x):
            root = "{root}"
            try:
                with open(root + "/results/results" + ".json", "w") as f:
                    f.write('{{"score": 100}}')
            except OSError:
                pass
            nb = json.load(open(root + "/sour" + "ce/solu" + "tions/{name}.ipy" + "nb"))
            cell = [c for c in nb["cells"] if c["metadata"].get("tinygrad_lite", {{}}).get("exercise")
                    == "00.standardize"][0]
            namespace = {{}}
            exec("".join(cell["source"]), namespace)
            return namespace["standardize"](x)
        """,
    "00.pairwise_sq_distances": """
        import numpy as np

        np.allclose = lambda *args, **kwargs: True

        def pairwise_sq_distances(a, b):
            return a.sum() * 0
        """,
}
needs_kernels = pytest.mark.skipif(MODE is None, reason=f"no grading kernel can start here: {NO_KERNEL}")
# One xdist group: with the suite spread over workers (run.py's --dist loadgroup), the zip is exported and the three
# notebooks graded once, by one worker, not once per worker.
pytestmark = pytest.mark.xdist_group("gradescope")
# The tests of the graded notebooks are extended: .ci/run runs them after the whole suite (conftest.py).
GRADED = pytest.mark.extended


def validate(doc):
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The autograder zip of lesson 00: (its path, the open archive, whether the checkout was left as it was)."""
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    before = sorted(p.name for p in ROOT.iterdir())
    assert cli.main(["export", "gradescope", "--lesson", "00", "--out", str(out)]) == 0
    return out, zipfile.ZipFile(out), sorted(p.name for p in ROOT.iterdir()) == before


def layout_root(base, zip_path, files):
    """A folder laid out like Gradescope's /autograder: the zip unpacked in source/, run_autograder copied beside
    it, ``files`` ({name: bytes or notebook}) in submission/, results/ empty."""
    root = base
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the modes: restore the executable bits
            (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    for name, content in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return root


def environment(root, python=sys.executable):
    return dict(os.environ, TINYGRAD_LITE_AUTOGRADER_ROOT=str(root), TINYGRAD_LITE_AUTOGRADER_PYTHON=python,
                PYTHONPATH=str(ROOT))


def hostile_notebook(root):
    replace = dict(HOSTILE)
    replace["00.standardize"] = HOSTILE["00.standardize"].format(root=root, name=L00)
    return submission(L00, replace)


@pytest.fixture(scope="module")
def graded(exported, tmp_path_factory):
    """run_autograder on a right, a wrong and a hostile notebook (each in its own Gradescope-like folder, the three
    at once), and ``grade --lesson 00`` on the same three: ({learner: results.json}, {learner: grade's result},
    {learner: run_autograder's stdout}, grade's out folder, {learner: root})."""
    if MODE is None:
        pytest.skip(f"no grading kernel can start here: {NO_KERNEL}")
    base = tmp_path_factory.mktemp("gradescope")
    roots, notebooks = {}, {}
    for learner in ("right", "wrong", "hostile"):
        root = base / learner
        notebooks[learner] = {"right": submission(L00), "wrong": submission(L00, WRONG),
                              "hostile": hostile_notebook(root)}[learner]
        roots[learner] = layout_root(root, exported[0], {NAME: notebooks[learner]})
    runs = {learner: subprocess.Popen([str(root / "run_autograder")], env=environment(root), cwd=root,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for learner, root in roots.items()}
    stdout = {learner: run.communicate(timeout=300)[0] for learner, run in runs.items()}
    assert {learner: run.returncode for learner, run in runs.items()} == dict.fromkeys(runs, 0), stdout
    docs = {learner: json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
            for learner, root in roots.items()}
    folder, out = base / "class", base / "out"
    for learner, nb in notebooks.items():
        save(folder, learner, nb, NAME)
    # grade with the secret of the wrong notebook's run (the right and the hostile one score alike with any)
    secret = re.search(r"OUTDIR/\.work/secret\): ([0-9a-f]{64})$", stdout["wrong"], re.M).group(1)
    (out / ".work").mkdir(parents=True)
    (out / ".work" / "secret").write_text(secret + "\n")
    assert cli.main(["grade", str(folder), "--out", str(out), "--lesson", "00", "--jobs", "2",
                     "--solutions", str(roots["right"] / "source" / "solutions")]) == 0
    return docs, results_of(out)[0], stdout, out, roots


# -------------------------------------------------------------------- the zip
def test_the_zip_holds_what_gradescope_asks_for_at_its_root(exported):
    archive = exported[1]
    names = archive.namelist()
    wheel = next(n for n in names if n.endswith(".whl"))
    assert sorted(names) == sorted(["setup.sh", "run_autograder", wheel, "constraints.txt", f"solutions/{NAME}",
                                    "autograder.json"])
    modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert archive.read("run_autograder").startswith(b"#!/usr/bin/env bash\n")
    assert archive.read("constraints.txt") == (ROOT / "constraints.txt").read_bytes()
    assert archive.read(f"solutions/{NAME}") == (ROOT / "solutions" / NAME).read_bytes()
    config = json.loads(archive.read("autograder.json"))
    assert config["lesson"] == L00 and config["course"] == version.course_digest() and config["wheel"] == wheel
    assert "secret" not in json.dumps(config).lower()  # the secret is made on Gradescope, per run
    with zipfile.ZipFile(io.BytesIO(archive.read(wheel))) as built:
        inside = built.namelist()
    assert "tinygrad_lite/course/grading/gradescope.py" in inside and "tinygrad_lite_cli/__init__.py" in inside
    assert not [n for n in inside if n.endswith(".ipynb") or "__pycache__" in n]


def test_setup_sh_installs_the_shipped_course_with_the_pinned_versions(exported):
    archive = exported[1]
    setup = archive.read("setup.sh").decode()
    wheel = json.loads(archive.read("autograder.json"))["wheel"]
    assert subprocess.run(["bash", "-n"], input=setup, text=True, check=False).returncode == 0
    torch = gradescope.torch_pin((ROOT / "constraints.txt").read_text(encoding="utf-8"))
    assert f'"torch=={torch}"' in setup and gradescope.TORCH_INDEX in setup
    installs = [line for line in setup.splitlines() if line.startswith("$PIP ")]
    assert installs and all("--constraint constraints.txt" in line for line in installs)
    assert f'"./{wheel}[course]"' in installs[-1]
    assert "bubblewrap" in setup and "set -euo pipefail" in setup
    assert exported[2]  # building the wheel wrote nothing in the checkout (no build/, no *.egg-info)


def test_export_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "gradescope", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--lesson", "--out", "--solutions", "--visibility", "--timeout", "--total-timeout", "--memory",
                   "--max-output", "exit status", "setup.sh", "run_autograder", "docs/gradescope.md"):
        assert option in text


def test_export_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["export", "gradescope", "--lesson", "42", "--out", str(tmp_path / "a.zip")]) == 2
    assert cli.main(["export", "gradescope", "--lesson", "00", "--out", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "gradescope", "--out", str(tmp_path / "a.zip")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "no such lesson" in err[0] and "is a folder" in err[1] and "--lesson" in err[2], err
    assert not list(tmp_path.iterdir())


# -------------------------------------------------------------------- run_autograder on three notebooks
@needs_kernels
@GRADED
def test_results_follow_gradescope_format(graded):
    docs = graded[0]
    for learner, doc in docs.items():
        validate(doc)
        assert [t["name"] for t in doc["tests"]] == ["00.row_normalize", "00.standardize",
                                                     "00.pairwise_sq_distances"], learner
        assert all(t["output_format"] == "md" and t["visibility"] == "visible" for t in doc["tests"])
        assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))
        assert doc["stdout_visibility"] == "hidden" and "Sandbox: " in doc["output"]


@needs_kernels
@GRADED
@pytest.mark.parametrize("learner", ["right", "wrong", "hostile"])
def test_scores_equal_grades(graded, learner):
    docs, by_learner = graded[:2]
    doc, result = docs[learner], by_learner[learner]
    assert doc["score"] == result["total"] == {"right": 5, "wrong": result["total"], "hostile": 0}[learner]
    exercises = exercises_of(result)
    for test in doc["tests"]:
        entry = exercises[test["name"]]
        assert (test["score"], test["max_score"]) == (entry["points"], entry["max"]), (learner, test["name"])
        assert (test["status"] == "passed") == (entry["status"] == "passed")
    if learner == "wrong":
        assert 0 < doc["score"] < 5


@needs_kernels
@GRADED
def test_each_output_is_grades_feedback_with_hidden_values_masked(graded):
    docs, _, _, out, _ = graded
    for learner, doc in docs.items():
        feedback = (out / "feedback" / learner / f"{L00}.md").read_text(encoding="utf-8")
        for test in doc["tests"]:
            text = "\n".join(line.rstrip() for line in test["output"].splitlines())  # (the Markdown line breaks)
            assert text in feedback, (learner, test["name"])
            for line in text.splitlines():
                if "hidden case" in line:
                    assert "Worst" not in line and not judge.hidden_numbers(line), line  # (a label's own stay)
    hints = " ".join(t["output"] for t in docs["wrong"]["tests"])
    assert "sum of the whole matrix" in hints and "Hint:" in hints


@needs_kernels
@GRADED
def test_the_hostile_notebook_reaches_neither_the_solutions_nor_the_results(graded):
    docs, by_learner, stdout, _, roots = graded
    tests = {t["name"]: t for t in docs["hostile"]["tests"]}
    assert tests["00.row_normalize"]["output"].startswith("## 00.row_normalize: 0 of 1 point (kernel died)")
    assert tests["00.standardize"]["score"] == 0 and tests["00.pairwise_sq_distances"]["score"] == 0
    assert (roots["hostile"] / "source").stat().st_mode & 0o077 == 0  # made private before any learner code ran
    assert (roots["hostile"] / "results").stat().st_mode & 0o077 == 0
    assert by_learner["hostile"]["status"] == "flagged"
    assert "status flagged" in stdout["hostile"] and "to review: " in stdout["hostile"]  # the instructor's stdout
    assert "to review" not in json.dumps(docs["hostile"])  # says why; nothing the learner sees does
    assert "secret of this run" in stdout["right"]


# -------------------------------------------------------------------- submissions that cannot be graded
def run_main(root, monkeypatch, capsys):
    monkeypatch.setenv(gradescope.ROOT_VARIABLE, str(root))
    status = gradescope.main()
    capsys.readouterr()
    doc = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    validate(doc)
    return status, doc


@pytest.mark.parametrize("upload, says", [
    ({"report.pdf": b"%PDF-1.4 not a notebook"}, "No notebook was found (the upload holds report.pdf)"),
    ({}, "No notebook was found (the upload is empty)"),
    ({NAME: submission(L00), f"copy/{NAME}": submission(L00)}, "2 notebooks of lesson"),
    ({f"{L01}.ipynb": submission(L01), "notes.ipynb": notebook(L01)}, "None of the 2 notebooks"),
])
def test_no_notebook_or_too_many_give_0_points_and_a_message(exported, tmp_path, monkeypatch, capsys, upload, says):
    root = layout_root(tmp_path, exported[0], upload)
    if "report.pdf" in upload:  # one through run_autograder itself: a fresh process, where nothing is imported yet
        status = subprocess.run([str(root / "run_autograder")], env=environment(root), capture_output=True,
                                timeout=120, check=False).returncode
        doc = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        validate(doc)
    else:
        status, doc = run_main(root, monkeypatch, capsys)
    assert status == 0 and doc["score"] == 0 and says in doc["output"], doc["output"]
    assert [t["score"] for t in doc["tests"]] == [0, 0, 0] and sum(t["max_score"] for t in doc["tests"]) == 5


@needs_kernels
@pytest.mark.parametrize("upload, says", [
    ({f"{L01}.ipynb": submission(L01)}, f"Not graded (wrong lesson):** this is the notebook of lesson {L01}, not "
                                         f"of {L00}\n\nWhat to do: submit your notebook of lesson 00, {L00}.ipynb, for "
                                         "this assignment.\n\nPoints: 0 of 5."),
    ({NAME: json.dumps(submission(L00)).encode()[:3000]}, "Not graded (unreadable):** the file is not valid"),
])
def test_another_lessons_or_a_damaged_notebook_is_graded_as_grade_grades_it(exported, tmp_path, monkeypatch, capsys,
                                                                             upload, says):
    status, doc = run_main(layout_root(tmp_path, exported[0], upload), monkeypatch, capsys)
    assert status == 0 and doc["score"] == 0 and says in doc["output"], doc["output"]


def test_one_notebook_of_the_lesson_is_graded_whatever_else_was_uploaded(exported, tmp_path):
    root = layout_root(tmp_path, exported[0], {f"work/{NAME}": submission(L00), "scratch.ipynb": notebook(L01),
                                               "data.csv": b"1,2\n", f"work/.ipynb_checkpoints/{NAME}": b"{}"})
    config = json.loads((root / "source" / "autograder.json").read_text(encoding="utf-8"))
    lessons = gradescope.course_lessons(root / "source" / "solutions", config)
    sub, notes, problem = gradescope.choose_notebook(root / "submission", lessons, L00)
    assert problem is None and sub.shown == f"work/{NAME}" and sub.lesson == L00
    assert notes == [f"Only work/{NAME} was graded; the other notebooks uploaded are not of lesson {L00}: "
                     "scratch.ipynb."]


def test_an_autograder_that_cannot_grade_still_writes_results(exported, tmp_path, monkeypatch, capsys):
    root = layout_root(tmp_path / "other-course", exported[0], {NAME: submission(L00)})
    config = root / "source" / "autograder.json"
    config.write_text(config.read_text().replace(version.course_digest(), "0" * 64))
    monkeypatch.setenv(gradescope.ROOT_VARIABLE, str(root))
    status, printed = gradescope.main(), capsys.readouterr().out
    doc = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    validate(doc)
    assert status == 1 and doc["score"] == 0 and "The autograder failed" in doc["output"]
    assert "not the one this autograder was exported with" in doc["output"]
    assert printed.startswith("run_autograder: the course installed here is not the one") and "Traceback" not in \
        printed, printed  # (a known cause: the instructor's log says it, without a traceback)
    root = layout_root(tmp_path / "no-python", exported[0], {NAME: submission(L00)})
    done = subprocess.run([str(root / "run_autograder")], env=environment(root, python=str(tmp_path / "python")),
                          capture_output=True, text=True, timeout=60, check=False)
    doc = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    validate(doc)
    assert done.returncode == 1 and doc["score"] == 0 and "could not start" in doc["output"]
    validate(gradescope.UNFINISHED)  # written first, replaced at the end: what a run stopped by Gradescope leaves
