"""Grading a course installed in a private folder (mode 0700, as ``mktemp -d`` makes it, or a home folder), run as
root, as in a container: the kernels run as an unprivileged user, who cannot enter that folder.

The course (the package and solutions/) is copied into a new 0700 folder, with a .venv/ that shows the
repository's environment entry by entry (symbolic links: nothing is installed), and graded there by its own
command line, a right and a wrong submission of lesson 00 in each sandbox mode:

- bubblewrap (where it works on this machine): real points, whatever the folder's mode; its binds follow the
  links of the copy's .venv/ into the repository's;
- limits only (``--sandbox none``): refused before anything runs, in one line that names the private folder and
  the fixes; after the fix it gives (``chmod o+x`` on the folder), real points;
- auto: bubblewrap where it works, else the same one line.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tinygrad_lite.course.grading import sandbox as sandboxes

ROOT = Path(__file__).resolve().parents[1]
L00 = "00_welcome_and_tensors"
WRONG = {"00.row_normalize": "def row_normalize(scores):\n    return scores / scores.sum()\n"}  # the whole sum


def _can_drop_privileges():
    """Root, and allowed to become the kernels' user (not so in a user namespace that maps only root)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    try:
        uid = sandboxes.KERNEL_UID
        return subprocess.run(["true"], user=uid, group=uid, extra_groups=[], timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


pytestmark = [pytest.mark.skipif(not _can_drop_privileges(), reason="needs root that can drop to another user "
                                 "id: only then do the kernels run as a user who cannot enter a private folder"),
              pytest.mark.xdist_group("grading-private-course"),  # with the suite on several workers: copied once
              pytest.mark.extended]  # (.ci/run runs it after the whole suite: conftest.py)


@pytest.fixture(scope="module")
def private_course():
    """A copy of the course in a new 0700 folder: (the folder, the course, a class folder with the submissions)."""
    private = Path(tempfile.mkdtemp(prefix="tgl-private-"))
    try:
        assert private.stat().st_mode & 0o777 == 0o700
        course = private / "course"
        ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "runs")
        shutil.copytree(ROOT / "tinygrad_lite", course / "tinygrad_lite", ignore=ignore)
        shutil.copytree(ROOT / "solutions", course / "solutions", ignore=ignore)
        (course / ".venv").mkdir()
        for entry in (ROOT / ".venv").iterdir():
            (course / ".venv" / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        solved = json.loads((ROOT / "solutions" / f"{L00}.ipynb").read_text(encoding="utf-8"))
        wrong = json.loads(json.dumps(solved))
        for cell in wrong["cells"]:
            exercise = cell["metadata"].get("tinygrad_lite", {}).get("exercise")
            if exercise in WRONG:
                cell["source"] = WRONG[exercise]
        folder = private / "class"
        for learner, nb in (("right", solved), ("wrong", wrong)):
            (folder / learner).mkdir(parents=True)
            (folder / learner / f"{L00}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
        yield private, course, folder
    finally:
        shutil.rmtree(private, ignore_errors=True)


def run_in(course, *arguments):
    """Run the copy's own code (``python -m``, from the copy: its package, not the repository's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    command = [str(course / ".venv" / "bin" / "python"), *arguments]
    return subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=600)


def grade(course, folder, out, sandbox):
    """(exit status, stdout, stderr, {learner: result}) of grading ``folder`` with the copy."""
    done = run_in(course, "-m", "tinygrad_lite.course.cli", "grade", str(folder), "--out", str(out), "--jobs", "2",
                  "--sandbox", sandbox)
    results = {}
    if (out / "results.json").exists():
        data = json.loads((out / "results.json").read_text(encoding="utf-8"))
        results = {r["learner"]: r for r in data["submissions"]}
    return done.returncode, done.stdout, done.stderr, results


def assert_real_points(results):
    """The right submission gets full marks; the wrong one full marks on its right exercises, less on the wrong one
    (its cases with a single row still pass: partial credit)."""
    right, wrong = results["right"], results["wrong"]
    assert right["status"] == "graded" and right["total"] == right["max"] > 0, right
    points = {e["id"]: e["points"] for e in wrong["exercises"]}
    full = {e["id"]: e["max"] for e in right["exercises"]}
    assert points["00.row_normalize"] < full["00.row_normalize"], wrong
    assert all(points[e] == full[e] for e in full if e not in WRONG), wrong
    assert wrong["status"] == "graded" and wrong["total"] < right["total"], wrong


def refused_in_one_line(status, stdout, stderr, private, out):
    lines = stderr.strip().splitlines()
    assert status == 2 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert f"cannot enter {private} (mode 700)" in lines[0] and f"chmod o+x {private}" in lines[0], lines[0]
    assert "sandbox:" not in stdout and not out.exists()  # said before grading started, nothing written


def test_the_copy_runs_its_own_code_from_the_private_folder(private_course):
    _, course, _ = private_course
    done = run_in(course, "-c", "import sys, tinygrad_lite; print(sys.prefix); print(tinygrad_lite.__file__)")
    assert done.returncode == 0, done.stderr
    prefix, package = done.stdout.split()
    assert prefix == str(course / ".venv") and package == str(course / "tinygrad_lite" / "__init__.py")


def test_bubblewrap_grades_a_course_in_a_private_folder(private_course, tmp_path):
    private, course, folder = private_course
    try:
        sandboxes.choose("bwrap")
    except RuntimeError as e:
        pytest.skip(f"bubblewrap does not work on this machine: {e}")
    status, stdout, stderr, results = grade(course, folder, tmp_path / "out", "bwrap")
    assert status == 0, stderr
    assert "sandbox: bubblewrap" in stdout
    assert_real_points(results)


def test_auto_picks_a_sandbox_that_works_there_or_says_why_not(private_course, tmp_path):
    private, course, folder = private_course
    done = run_in(course, "-c", "from tinygrad_lite.course.grading import sandbox\n"
                                "try:\n    print(sandbox.choose('auto').mode)\n"
                                "except RuntimeError as e:\n    print('refused:', e)")
    assert done.returncode == 0, done.stderr
    if done.stdout.startswith("refused:"):  # no bubblewrap that works: the same one line as --sandbox none
        out = tmp_path / "out"
        status, stdout, stderr, _ = grade(course, folder, out, "auto")
        refused_in_one_line(status, stdout, stderr, private, out)
        assert "bubblewrap" in stderr
    else:  # what auto picks starts kernels there (grading with it is the test above)
        assert done.stdout.strip() == "bubblewrap"


def test_limits_only_says_what_is_wrong_in_one_line_and_works_after_the_fix(private_course, tmp_path):
    private, course, folder = private_course
    out = tmp_path / "out"
    status, stdout, stderr, _ = grade(course, folder, out, "none")
    refused_in_one_line(status, stdout, stderr, private, out)
    assert stderr.startswith("tinygrad-lite grade: error: --sandbox none: the grading kernels run as an "
                             "unprivileged user")
    private.chmod(0o711)  # the fix the line gives: every user may enter (not list) the folder
    try:
        status, stdout, stderr, results = grade(course, folder, out, "none")
    finally:
        private.chmod(0o700)
    other = re.search(r"cannot enter (\S+) ", stderr)
    if status == 2 and other and not other.group(1).startswith(str(private)):  # a private folder above the
        pytest.skip(f"limits only cannot reach the environment here either: {stderr.strip()}")  # .venv or Python
    assert status == 0, stderr
    assert "sandbox: NO SANDBOX" in stdout
    assert_real_points(results)
