"""A Gradescope autograder for one lesson: ``tinygrad-lite export gradescope --lesson NN --out autograder.zip``.

What Gradescope asks of an autograder (its "Autograder Specifications",
https://gradescope-autograders.readthedocs.io/en/latest/specs/, whose source is ``docs/specs.md`` of
github.com/gradescope/autograder_samples):

- a zip with at least two files at its root (not in a folder): ``setup.sh``, a Bash script that installs the
  dependencies on Gradescope's Ubuntu image (run once, as root, when the image is built), and ``run_autograder``,
  an executable script with a ``#!`` line, run once per submission;
- the zip's contents are unpacked into ``/autograder/source``; the learner's upload is in
  ``/autograder/submission``; the working directory is ``/autograder``; ``run_autograder`` must write
  ``/autograder/results/results.json``; what it prints goes to ``/autograder/results/stdout``, shown to the
  instructor only (unless ``stdout_visibility`` says otherwise): what the learner may read goes in "output" fields;
- results.json: a top-level ``score`` (or a ``score`` on every test; the top-level one wins), optional
  ``execution_time`` (seconds), ``output`` (text about the whole submission), ``visibility``,
  ``stdout_visibility``, ``extra_data`` and ``tests``, a list of tests each with optional ``score``,
  ``max_score``, ``status`` ("passed" or "failed"), ``name``, ``number``, ``output``, ``tags``, ``visibility`` and
  ``extra_data``; ``output_format`` (and ``test_output_format``) say how an output is rendered ("text", "html",
  "simple_format", "md", "ansi"); a visibility is "hidden", "after_due_date", "after_published" or "visible" (the
  default). ``tests/gradescope_results.schema.json`` is that format as a JSON schema.
- Gradescope's "best practices" page adds: run the learner's code as another, unprivileged user, in a process of
  its own, and make the source and results folders unreadable to it (``chmod o=``); write a results.json even
  when the autograder fails.

What the zip holds (``export``): ``setup.sh``; ``run_autograder``; the course as a wheel built from this checkout
(``tinygrad_lite-VERSION-py3-none-any.whl``) and ``constraints.txt``, the versions it was tested with; the
lesson's solution notebook (``solutions/NN_name.ipynb``: grading takes every cell but the learner's exercise cells
from it; the learner never sees the zip); ``autograder.json``, the lesson, the grading limits, the test
visibility and a hash of the course's code. No secret: the seed of the hidden cases is made afresh on Gradescope
for each run (``grader.load_secret`` in a new private folder), so no two runs, and no copy of the zip, share it;
``run_autograder`` prints it to the stdout that only the instructor sees, so that a run can be replayed with
``grade`` (put it in ``OUTDIR/.work/secret``).

``setup.sh`` installs Python 3.11 (the image's ``python3`` where its packages have no ``python3.11``; the build
stops when that is older than 3.11), bubblewrap (the sandbox) and, into
the virtual environment ``/opt/tinygrad-lite``, torch from PyTorch's CPU index and the course's wheel with its
``course`` extra, every version pinned by ``constraints.txt``.

``run_autograder`` (``autograde``) grades as ``tinygrad-lite grade --lesson NN`` grades one notebook: the same
layout, sandbox, limits, kernels and judging (``Grader.grade``). It first makes the source and results folders
private (mode 0700). The upload may hold anything: exactly one notebook of the lesson is graded (other files are
ignored; other notebooks are named in a note); no notebook, two notebooks of the lesson, only notebooks of other
lessons, and a damaged notebook each give a results.json with 0 points and a message that says what to upload, never
a failed run. Each exercise is a test with its points (``score``, ``max_score``), ``status``, and as ``output`` the
exercise's part of ``grade``'s feedback file (``report.exercise_feedback``, after ``judge.mask_hidden`` masked the
hidden cases' values, as ``grade`` does); the top-level ``output`` holds the total, the notes and the sandbox's
mode. What only the instructor should see (the notes "to review", the secret) goes only to stdout, with
``stdout_visibility`` "hidden".

The paths: ``/autograder`` is replaced by the folder named in ``TINYGRAD_LITE_AUTOGRADER_ROOT`` (a local test,
in a folder laid out like Gradescope's: ``source/``, ``submission/``, ``results/``), and the interpreter of
``setup.sh``'s virtual environment by ``TINYGRAD_LITE_AUTOGRADER_PYTHON``.

The sandbox on Gradescope: each submission runs in a fresh Docker container, as root. bubblewrap needs to create
namespaces there; where the container does not allow it, ``sandbox.choose`` falls back to resource limits only
(the kernels run as an unprivileged user id of their own, who cannot read the private source and results
folders), and the top-level output names the mode.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .. import checks
from . import judge, layout, report, version
from . import sandbox as sandboxes

ROOT_VARIABLE = "TINYGRAD_LITE_AUTOGRADER_ROOT"
PYTHON_VARIABLE = "TINYGRAD_LITE_AUTOGRADER_PYTHON"
VENV = "/opt/tinygrad-lite"
CONFIG = "autograder.json"
VISIBILITIES = ("visible", "after_due_date", "after_published")  # "hidden" is for tests that carry no points
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
FORMAT = 1  # of autograder.json


class ExportError(Exception):
    """The autograder cannot be exported (an unknown lesson, no checkout to build the course from ...)."""


class AutograderError(Exception):
    """The autograder cannot grade on this machine (another course installed, no sandbox that starts)."""


# -------------------------------------------------------------------- export: the zip
SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu): it installs the course that
# `tinygrad-lite export gradescope` put in this zip ({wheel}), with the versions of constraints.txt, into
# the virtual environment {venv}, and bubblewrap, the sandbox the learners' code runs in.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends bubblewrap util-linux ca-certificates
# constraints.txt pins the versions tested on Python 3.11: Ubuntu 22.04 packages it as python3.11; later releases'
# own python3 is newer.
if apt-get install -y --no-install-recommends python3.11 python3.11-venv; then
    PYTHON=python3.11
else
    apt-get install -y --no-install-recommends python3 python3-venv
    PYTHON=python3
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {{
    echo "setup.sh: the course needs Python 3.11 or newer, this image has $("$PYTHON" -V)" >&2
    exit 1
}}
"$PYTHON" -m venv {venv}
PIP="{venv}/bin/python -m pip install --no-cache-dir --disable-pip-version-check"
# first the pinned pip: the image's may be old, and an old pip meets a pin it cannot take (one that needs a newer
# Python) by backtracking through GBs of packages instead of saying so
$PIP --constraint constraints.txt pip
# torch from PyTorch's CPU index (its CPU build of the pinned version, without the CUDA packages), then the course
$PIP --constraint constraints.txt --index-url {torch_index} --extra-index-url https://pypi.org/simple \\
    "torch=={torch}"
$PIP --constraint constraints.txt "./{wheel}[course]"
chmod -R go-w {venv}
# a course that cannot load fails the build here, not every learner's run
{venv}/bin/python -c "import tinygrad_lite.course.grading.gradescope, torch; print('torch', torch.__version__)"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission, as root: it grades the notebook in /autograder/submission and writes
# /autograder/results/results.json (tinygrad_lite/course/grading/gradescope.py). For a local test,
# {root_variable} replaces /autograder and {python_variable} the interpreter.
ROOT="${{{root_variable}:-/autograder}}"
PYTHON="${{{python_variable}:-{venv}/bin/python}}"
export {root_variable}="$ROOT"
cd "$ROOT" || exit 1
"$PYTHON" -P -c 'import sys; from tinygrad_lite.course.grading.gradescope import main; sys.exit(main())'
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then  # the course could not even start: a results.json all the same
    mkdir -p "$ROOT/results"
    cat > "$ROOT/results/results.json" <<'EOF'
{{"score": 0, "output": "The autograder could not start (see its output, which the instructor sees): your \
submission was not graded. This is not a problem of your notebook; please tell your instructor.", \
"stdout_visibility": "hidden", "tests": []}}
EOF
    exit 1
fi
exit $status
"""


def torch_pin(constraints):
    """The version of torch that constraints.txt pins (its line ``torch==VERSION``)."""
    match = re.search(r"(?m)^torch==([^\s#]+)", constraints)
    if not match:
        raise ExportError("constraints.txt pins no torch version (a line torch==VERSION): the autograder would "
                          "install an untested one")
    return match.group(1)


def checkout():
    """The folder the course is built from: the one that holds the running ``tinygrad_lite`` package and its
    pyproject.toml and constraints.txt."""
    folder = sandboxes.PACKAGE_DIR.parent
    for name in ("pyproject.toml", "constraints.txt"):
        if not (folder / name).is_file():
            raise ExportError(f"no {name} in {folder}: export needs a checkout of the course (git clone), not an "
                              "installed package")
    return folder


def build_wheel(source, into):
    """The course's wheel, built from ``source`` (a checkout) with this environment's setuptools, offline; its
    path. The package folders are copied first, without caches, so that the build leaves nothing in the checkout."""
    work = Path(tempfile.mkdtemp(prefix="tgl-wheel-"))
    try:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".*")
        for name in os.listdir(source):
            path = Path(source) / name
            if name in ("pyproject.toml", "README.md", "LICENSE"):
                shutil.copy(path, work / name)
            elif path.is_dir() and name.startswith("tinygrad_lite"):
                shutil.copytree(path, work / name, ignore=ignore)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                   "--disable-pip-version-check", "-q", "-w", str(work / "dist"), str(work)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        wheels = sorted((work / "dist").glob("tinygrad_lite-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            why = lines[-1].strip() if lines else f"exit status {done.returncode}"
            raise ExportError(f"the course's wheel could not be built ({why[:200]}): building it needs pip and "
                              "setuptools>=77 in this environment (pip install 'setuptools>=77')")
        target = Path(into) / wheels[0].name
        shutil.move(wheels[0], target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _add(archive, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16  # a regular file, and its mode
    archive.writestr(info, data)


def export(lesson, out, settings, solutions=None, visibility="visible"):
    """Write the autograder zip for ``lesson`` (a name or number) to ``out``; returns (the lesson's name, the
    names in the zip). ``settings``: the grading limits (a ``Settings``); ``visibility``: the tests' visibility."""
    from . import default_solutions, no_solutions, resolve_lesson
    if visibility not in VISIBILITIES:
        raise ExportError(f"visibility {visibility!r}: expected one of {', '.join(VISIBILITIES)}")
    solutions = Path(solutions) if solutions else default_solutions()
    if not solutions.is_dir():
        raise ExportError(no_solutions(solutions))
    lessons = layout.load_lessons(solutions)
    from .errors import UsageError
    try:
        name = resolve_lesson(lesson, lessons)
    except UsageError as e:
        raise ExportError(str(e)) from None
    from .. import exercises  # noqa: F401  (importing it registers every lesson's exercises)
    graded = [e for e in lessons[name].exercises if e in checks.REGISTRY]
    if not graded:
        raise ExportError(f"lesson {name} has no graded exercises: there is nothing for an autograder to grade")
    source = checkout()
    constraints = (source / "constraints.txt").read_text(encoding="utf-8")
    torch = torch_pin(constraints)
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder: name the zip to write (e.g. {out / 'autograder.zip'})")
    out.parent.mkdir(parents=True, exist_ok=True)
    config = {"format": FORMAT, "lesson": name, "lessons": sorted(lessons), "course": version.course_digest(),
              "visibility": visibility,
              "settings": {"timeout": settings.timeout, "total_timeout": settings.total_timeout,
                           "memory": settings.memory, "max_output": settings.max_output}}
    with tempfile.TemporaryDirectory(prefix="tgl-export-") as work:
        wheel = build_wheel(source, work)
        config["wheel"] = wheel.name
        values = {"wheel": wheel.name, "venv": VENV, "torch": torch, "torch_index": TORCH_INDEX,
                  "root_variable": ROOT_VARIABLE, "python_variable": PYTHON_VARIABLE}
        temporary = out.with_name(out.name + ".tmp")
        with zipfile.ZipFile(temporary, "w") as archive:
            _add(archive, "setup.sh", SETUP_SH.format(**values), executable=True)
            _add(archive, "run_autograder", RUN_AUTOGRADER.format(**values), executable=True)
            _add(archive, wheel.name, wheel.read_bytes())
            _add(archive, "constraints.txt", constraints)
            _add(archive, f"solutions/{lessons[name].path.name}", lessons[name].path.read_bytes())
            _add(archive, CONFIG, json.dumps(config, indent=1, sort_keys=True) + "\n")
            names = archive.namelist()
        os.replace(temporary, out)
    return name, names


# -------------------------------------------------------------------- run_autograder: one submission
def _listing(paths, root, limit=8):
    names = [str(Path(p).relative_to(root)) for p in paths]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def choose_notebook(submission, lessons, lesson):
    """(the Submission to grade or None, [notes for the learner], the problem that stops grading or None).

    Exactly one notebook of ``lesson`` is graded, whatever else was uploaded; a single notebook of another
    lesson, or a damaged one, is graded as ``grade`` grades it (0 points and the reason)."""
    found, _ = layout.find_notebooks([submission])
    subs = [layout.read_submission(path, str(Path(path).relative_to(submission)), "submission", lessons)
            for path, _, _ in found]
    files = sorted(p for p in Path(submission).rglob("*") if p.is_file() or p.is_symlink())
    if not subs:
        uploaded = f"the upload holds {_listing(files, submission)}" if files else "the upload is empty"
        return None, [], (f"No notebook was found ({uploaded}). Upload your notebook of lesson {lesson} (the "
                          f".ipynb file you worked in, e.g. {lesson}.ipynb).")
    mine = [s for s in subs if s.lesson == lesson]
    if len(mine) > 1:
        return None, [], (f"{len(mine)} notebooks of lesson {lesson} were uploaded "
                          f"({_listing([s.path for s in mine], submission)}): upload only the one to be graded.")
    if len(mine) == 1:
        others = [s.path for s in subs if s is not mine[0]]
        notes = [f"Only {mine[0].shown} was graded; the other notebooks uploaded are not of lesson {lesson}: "
                 f"{_listing(others, submission)}."] if others else []
        return mine[0], notes, None
    if len(subs) == 1:
        return subs[0], [], None
    return None, [], (f"None of the {len(subs)} notebooks uploaded is lesson {lesson}'s "
                      f"({_listing([s.path for s in subs], submission)}): upload your notebook of lesson {lesson}.")


def markdown(lines):
    """Feedback lines as Markdown that shows each line as a line: a line followed by another ends with two spaces
    (a hard line break; Markdown would otherwise join them into one paragraph). The text is grade's, unchanged."""
    lines = "\n".join(lines).strip().split("\n")
    return "\n".join(line + "  " * bool(line and k + 1 < len(lines) and lines[k + 1])
                     for k, line in enumerate(lines)) + "\n"


def document(result, lesson, config, sandbox, notes, seconds):
    """results.json (Gradescope's format) for ``grade``'s ``result`` of one submission (a GradedSubmission), masked
    (``judge.mask_hidden``); ``result`` None for a submission that could not be graded at all (``problem_document``):
    0 points, no header."""
    visibility = config["visibility"]
    entries = {e.id: e for e in result.exercises} if result is not None else {}
    tests = []
    for exercise_id in lesson.exercises:
        if exercise_id not in checks.REGISTRY:
            continue
        e = entries.get(exercise_id)
        most = float(checks.REGISTRY[exercise_id].points)
        if e is None:  # the submission was not graded: the test says so, with its points
            output, points = "Not graded: see the message about the whole submission above.\n", 0.0
        else:
            output, points = markdown(report.exercise_feedback(e)), e.points
        tests.append({"name": exercise_id, "score": points, "max_score": most,
                      "status": "passed" if e is not None and e.status == "passed" else "failed",
                      "output": output, "output_format": "md", "visibility": visibility})
    header = report.feedback_header(result) if result is not None else []
    lines = [*header, *[f"Note: {n}\n" for n in notes], f"Sandbox: {sandbox}." if sandbox else ""]
    score, status = (result.total, result.status) if result is not None else (0.0, "not graded")
    return {"score": score, "execution_time": round(seconds), "output": markdown(lines),
            "output_format": "md", "visibility": visibility, "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"status": status, "lesson": lesson.name}}


def problem_document(problem, lesson, config, seconds):
    """results.json for a submission that could not be graded at all: 0 points and why."""
    doc = document(None, lesson, config, None, [], seconds)
    doc["output"] = f"**Not graded:** {problem}\n\nPoints: 0 of {sum(t['max_score'] for t in doc['tests']):g}.\n"
    return doc


def course_lessons(solutions, config):
    """{name: Lesson}: the lesson graded, from its solution in the zip, and the course's other lessons by name only
    (no solution of theirs travels), so that a notebook of another lesson is told apart as grade tells it ("wrong
    lesson"), not taken for a notebook of no lesson."""
    lessons = layout.load_lessons(solutions)
    for name in config.get("lessons", []):
        lessons.setdefault(name, layout.Lesson(name, Path(solutions) / f"{name}.ipynb", [], [], {}, ""))
    return lessons


def _private(folder):
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)


def autograde(root, log=print):
    """Grade the submission in ``root``/submission (Gradescope's layout) and return results.json's content.

    Raises AutograderError when this machine cannot grade (another course installed than the one exported, no
    sandbox that starts a kernel, a kernel that could not start: ``grader.NOT_GRADED``), so that Gradescope shows
    "the autograder failed" instead of a score."""
    from .. import exercises  # noqa: F401  (importing it registers every lesson's exercises: their points)
    from . import Settings
    from .grader import NOT_GRADED, Grader
    start = time.monotonic()
    root = Path(root)
    source, submission = root / "source", root / "submission"
    _private(source)  # before any learner code runs: the solutions and the results are the grader's alone
    _private(root / "results")
    submission.mkdir(exist_ok=True)
    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    course = version.course_digest()
    if config.get("course") != course:
        raise AutograderError("the course installed here is not the one this autograder was exported with (its "
                              "code's hash differs): export the autograder again from the course installed, or "
                              "rebuild the image with this zip's setup.sh")
    lessons = course_lessons(source / "solutions", config)
    lesson = lessons[config["lesson"]]
    settings = Settings(**config["settings"], lesson=lesson.name)
    sub, notes, problem = choose_notebook(submission, lessons, lesson.name)
    log(f"lesson {lesson.name}; submission: {_listing(sorted(submission.rglob('*')), submission) or 'empty'}")
    if problem:
        log(f"not graded: {problem}")
        return problem_document(problem, lesson, config, time.monotonic() - start)
    try:
        sandbox = sandboxes.choose("auto")
    except RuntimeError as e:
        raise AutograderError(str(e)) from None
    log(f"sandbox: {sandbox.description}")
    work = Path(tempfile.mkdtemp(prefix="tgl-gradescope-"))  # private (0700): the secret, made here for this run
    try:
        grader = Grader(settings, lessons, sandbox, work)
        log(f"secret of this run's hidden cases (to replay it with grade, as OUTDIR/.work/secret): {grader.secret}")
        result = grader.grade(sub)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if result.status == NOT_GRADED:  # a fault of this machine (a kernel that could not start): no score at all
        raise AutograderError(result.reason)
    log(f"{sub.shown}: {result.total:g} of {result.max:g} points, status {result.status}")
    for line in [result.reason, *result.notes, *result.incidents]:
        if line:
            log(f"  {line}")
    for e in result.exercises:
        log(f"  {e.id}: {e.points:g} of {e.max:g} ({e.status}) {e.reason}".rstrip())
    judge.mask_hidden([result])  # once, before the report, as grade does: what the learner may see of each case
    doc = document(result, lesson, config, sandbox.mode, notes, time.monotonic() - start)
    doc["extra_data"]["sandbox"] = sandbox.description  # (the notes "to review" stay in the instructor's stdout)
    return doc


def write_results(root, doc):
    path = Path(root) / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


UNFINISHED = {"score": 0.0, "output_format": "md", "stdout_visibility": "hidden", "tests": [],
              "output": "**Not graded:** the autograder was stopped before it finished (Gradescope's time limit for "
                        "the autograder may be shorter than the grading's limits). This is not a problem of your "
                        "notebook; please tell your instructor.\n"}


def main():
    """``run_autograder``: grade, write results.json, return 0. A results.json that says the run did not finish is
    written first (Gradescope may stop a run at its own time limit). A failure of the autograder itself still
    writes a results.json (0 points and a message to tell the instructor), prints the cause (the traceback of an
    unexpected one) to the instructor's stdout and returns 1."""
    root = Path(os.environ.get(ROOT_VARIABLE) or "/autograder")
    start = time.monotonic()
    try:
        write_results(root, UNFINISHED)  # replaced at the end; what the learner sees if Gradescope stops the run
        write_results(root, autograde(root, log=lambda text: print(text, flush=True)))
        return 0
    except Exception as e:  # noqa: BLE001  (whatever went wrong, Gradescope must get a results.json)
        if isinstance(e, AutograderError):  # a known cause, said in full: no traceback to read past
            print(f"run_autograder: {e}", flush=True)
        else:
            import traceback
            traceback.print_exc(file=sys.stdout)
        why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        kind = "" if isinstance(e, AutograderError) else f"{type(e).__name__}: "
        doc = {"score": 0.0, "execution_time": round(time.monotonic() - start), "output_format": "md",
               "output": f"**The autograder failed** ({kind}{why}). Your submission was not graded: this is not a "
                         "problem of your notebook. Please tell your instructor.\n",
               "stdout_visibility": "hidden", "tests": []}
        write_results(root, doc)
        return 1
