"""Instructor grading (``tinygrad-lite grade``, ``tinygrad_lite/course/grading/``): a class folder of submissions
is generated here, hostile ones included, graded in one run, and each gets the right points and a clear status.

- lesson 00: fully solved, unsolved, partly solved, known mistakes, and the hostile ones (an infinite loop, a
  memory bomb, sys.exit, os._exit, a segfault through ctypes, a fork bomb, 100 MB of output, writing outside the
  scratch folder, a network call, reading the solutions, reaching for the reference answers, monkeypatching
  numpy and the checker, edited check and setup cells, deleted exercise metadata, corrupt JSON, an empty file, a
  notebook of another lesson): one run with ``--lesson 00``;
- lessons 01-03: solved, unsolved, partly solved, four hostile exercises in a row (lesson 03), and the known
  mistakes of ``tests/test_lessonNN.py`` (their WRONG lists), one per exercise and notebook, two notebooks per
  lesson: one run for the three lessons;
- reruns give the same files; a rerun resumes from the stored grades; --help and bad arguments;
- the answers' encoding round-trips every registered exercise's reference answers (every lesson, also those
  written later) and refuses damaged data.

Set TINYGRAD_LITE_GRADING_BENCH=1 to also time 60 submissions of one lesson with --jobs 2 (the README's number).
"""
import ast
import contextlib
import csv
import importlib
import inspect
import io
import json
import os
import re
import shutil
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lite.course import checks, cli, encoding, pipeline
from tinygrad_lite.course.grading import grader, judge, layout
from tinygrad_lite.course.grading import sandbox as sandboxes

ROOT = Path(__file__).resolve().parents[1]
L00, L01, L02, L03 = "00_welcome_and_tensors", "01_forward_pass", "02_loss_functions", "03_backward_pass"


def sandbox_here(requested):
    """(the mode ``--sandbox requested`` grades with here, or None, the one line that says why it cannot)."""
    try:
        return sandboxes.choose(requested).mode, ""
    except RuntimeError as e:  # e.g. as root, a course in a private folder and no bubblewrap that works
        return None, str(e)


MODE, NO_KERNEL = sandbox_here("auto")
BUBBLEWRAP = MODE == "bubblewrap"
needs_kernels = pytest.mark.skipif(MODE is None, reason=f"no grading kernel can start here: {NO_KERNEL}")


# -------------------------------------------------------------------- making submissions
def notebook(lesson, folder="solutions"):
    return json.loads((ROOT / folder / f"{lesson}.ipynb").read_text(encoding="utf-8"))


def exercise_cell(nb, exercise_id):
    return next(c for c in nb["cells"] if c["metadata"].get("tinygrad_lite", {}).get("exercise") == exercise_id)


def stub_source(lesson, exercise_id):
    return "".join(exercise_cell(notebook(lesson, "lessons"), exercise_id)["source"])


def submission(lesson, replace=None, base="solutions"):
    """The lesson's solved (or released, ``base="lessons"``) notebook with some exercise cells replaced."""
    nb = notebook(lesson, base)
    for exercise_id, source in (replace or {}).items():
        exercise_cell(nb, exercise_id)["source"] = textwrap.dedent(source)
    return nb


def save(folder, learner, content, name):
    path = folder / learner / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def grade(*arguments):
    start = time.monotonic()
    status = cli.main(["grade", *map(str, arguments)])
    return status, time.monotonic() - start


def results_of(out):
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {r["learner"]: r for r in data["submissions"]}, data


def exercises_of(result):
    return {e["id"]: e for e in result["exercises"]}


ROW_OK = """
def row_normalize(scores):
    return scores / scores.sum(dim=1, keepdim=True)
"""
STD_OK = """
def standardize(x):
    return (x - x.mean(dim=0, keepdim=True)) / x.std(dim=0, keepdim=True, correction=0)
"""
PAIR_OK = """
def pairwise_sq_distances(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1)
"""
SOLUTIONS_PATH = str(ROOT / "solutions" / f"{L00}.ipynb")
CUT = SOLUTIONS_PATH.index("solutions") + 3  # the path in pieces: no piece names the folder or the file type

# The classes below hold submissions that loop forever: each costs the time limit, burning a core all along. Every
# honest cell and exercise of lessons 00-03 runs within 2 s on a loaded 2-core machine, so 5 s leaves a margin.
HOSTILE_TIMEOUT = 5
HOSTILE_00 = {
    "loop": {"00.standardize": "def standardize(x):\n    while True:\n        pass\n"},
    "membomb": {"00.row_normalize": """
        def row_normalize(scores):
            blocks = []
            while True:
                blocks.append(bytearray(2 ** 27))
        """},
    "sysexit": {"00.row_normalize": "import sys\n\ndef row_normalize(scores):\n    sys.exit(1)\n"},
    "osexit": {"00.row_normalize": "import os\n\ndef row_normalize(scores):\n    os._exit(0)\n"},
    "segfault": {"00.pairwise_sq_distances": """
        import ctypes

        def pairwise_sq_distances(a, b):
            return ctypes.string_at(0)
        """},
    "cellcrash": {"00.row_normalize": """
        import ctypes

        ctypes.string_at(0)  # at the top of the cell, not in the function


        def row_normalize(scores):
            return scores / scores.sum(dim=1, keepdim=True)
        """},
    "forkbomb": {"00.standardize": """
        import os

        def standardize(x):
            while True:
                os.fork()
        """,
        # right, unless a process of the fork bomb is still alive (in the kernel's own PID namespace, where the
        # kernel ends them after each call: else they would take the CPU from this exercise's honest cases)
        "00.pairwise_sq_distances": """
        import os

        def pairwise_sq_distances(a, b):
            if os.getpid() in (1, 2):  # a PID namespace of its own
                try:
                    os.kill(-1, 0)
                    return a.sum() * 0  # a process left: the wrong answer
                except ProcessLookupError:
                    pass
            return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1)
        """},
    "printbomb": {"00.row_normalize": """
        def row_normalize(scores):
            print("x" * 100_000_000)
            return scores / scores.sum(dim=1, keepdim=True)
        """},
    "network": {"00.pairwise_sq_distances": """
        import urllib.request

        def pairwise_sq_distances(a, b):
            urllib.request.urlopen("http://1.1.1.1", timeout=3).read()
            return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1)
        """},
    "readsolutions": {"00.row_normalize": f"""
        import json

        def row_normalize(scores):
            nb = json.load(open({SOLUTIONS_PATH[:CUT]!r} + {SOLUTIONS_PATH[CUT:-3]!r} + {SOLUTIONS_PATH[-3:]!r}))
            cell = [c for c in nb["cells"] if c["metadata"].get("tinygrad_lite", {{}}).get("exercise")
                    == "00.row_normalize"][0]
            namespace = {{}}
            exec("".join(cell["source"]), namespace)
            return namespace["row_normalize"](scores)
        """},
    "reference": {
        "00.row_normalize": """
            from tinygrad_lite.course.exercises.lesson00 import row_normalize_reference

            def row_normalize(scores):
                return row_normalize_reference(scores)
            """,
        "00.standardize": """
            def standardize(x):
                module = __import__("tinygrad_lite.co" + "urse.exercises.lesson00", fromlist=["x"])
                return getattr(module, "standardize_" + "refer" + "ence")(x)
            """,
        "00.pairwise_sq_distances": """
            def pairwise_sq_distances(a, b):
                return globals()["us" + "e"]("00.pairwise_sq_distances", None)(a, b)
            """},
    "monkeypatch": {"00.row_normalize": """
        import sys
        import numpy as np

        np.allclose = lambda *args, **kwargs: True
        np.array_equal = lambda *args, **kwargs: True
        checks = sys.modules["tinygrad_lite.co" + "urse.checks"]
        checks.compare_arrays = lambda *args, **kwargs: None
        checks.run_check = lambda *args, **kwargs: True

        def row_normalize(scores):
            return scores * 0
        """},
}


# The tests that read a graded class (lesson00, lessons123) are each one xdist group: with the suite spread over
# workers (run.py's -n <cores + 1> --dist loadgroup), the class is graded once, by one worker, not once per worker.
# tests/test_grading_cluster.py grades this class's notebooks on a Dask cluster and compares the files with these:
# its tests are in the same group, and share this grading (``graded_lesson00``).
@pytest.fixture(scope="module")
def lesson00(tmp_path_factory):
    """The lesson-00 class folder, graded once: (results by learner, results.json, out folder, seconds, the path
    "writer" tries to write, each submission's own seconds)."""
    return graded_lesson00(tmp_path_factory)


_GRADED_00 = []  # what graded_lesson00 returned: the class is graded once per process


def graded_lesson00(tmp_path_factory):
    """The lesson-00 class, graded once per test process (this module's tests and tests/test_grading_cluster.py
    read it): see ``lesson00``. The class folder is ``out.parent / "class"``."""
    if _GRADED_00:
        return _GRADED_00[0]
    if MODE is None:
        pytest.skip(f"no grading kernel can start here: {NO_KERNEL}")
    base = tmp_path_factory.mktemp("grading00")
    folder, out = base / "class", base / "out"
    name = f"{L00}.ipynb"
    save(folder, "solved", submission(L00), name)
    save(folder, "unsolved", notebook(L00, "lessons"), name)
    save(folder, "partial", submission(L00, {"00.row_normalize": ROW_OK}, base="lessons"), name)
    save(folder, "mistakes", submission(L00, {
        "00.row_normalize": "def row_normalize(scores):\n    return scores / scores.sum()\n",
        "00.standardize": "def standardize(x):\n    return (x - x.mean(dim=0)) / x.std(dim=0)\n",
        "00.pairwise_sq_distances": "def pairwise_sq_distances(a, b):\n"
                                    "    return (a[:, None, :] - b[None, :, :]).sum(dim=-1)\n"}), name)
    for learner, replace in HOSTILE_00.items():
        save(folder, learner, submission(L00, replace), name)
    escape = base / "escaped.txt"
    save(folder, "writer", submission(L00, {"00.row_normalize": f"""
        def row_normalize(scores):
            for path in ({str(escape)!r}, "/tmp/tinygrad-lite-escaped.txt", "/work/escaped.txt"):
                try:
                    with open(path, "w") as f:
                        f.write("outside the scratch folder")
                except OSError:
                    pass
            return scores / scores.sum(dim=1, keepdim=True)
        """}), name)
    edited = submission(L00, {"00.row_normalize": "def row_normalize(scores):\n    return scores\n"})
    for cell in edited["cells"]:
        info = cell["metadata"].get("tinygrad_lite", {})
        if info.get("check"):
            cell["source"] = f'print("✔ {info["check"]}: passed (6 cases, 5 of them hidden)")'
    first_code = next(c for c in edited["cells"] if c["cell_type"] == "code")
    first_code["source"] = "import numpy as np\nimport numpy as tl\nraise SystemExit\n"
    save(folder, "edited", edited, name)
    bare = submission(L00)
    bare["metadata"] = {}
    for cell in bare["cells"]:
        cell["metadata"] = {}
    save(folder, "nometadata", bare, name)
    # pyplot, which the setup cells import and the kernel imports only when used (grading/deferred.py), used here
    save(folder, "plotter", submission(L00, {"00.row_normalize": """
        from matplotlib import pyplot

        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([1, 2, 3])
        pyplot.close(fig)


        def row_normalize(scores):
            plt.figure()
            plt.close("all")
            return scores / scores.sum(dim=1, keepdim=True)
        """}), name)
    save(folder, "corrupt", json.dumps(submission(L00)).encode()[:5000], name)
    save(folder, "empty", b"", name)
    save(folder, "otherlesson", submission(L01), f"{L01}.ipynb")
    homework = submission(L00)  # no metadata at all, in a file named for no lesson: only --lesson says which
    homework["metadata"] = {}
    for cell in homework["cells"]:
        cell["metadata"] = {}
    save(folder, "nolesson", homework, "homework.ipynb")
    Path("/tmp/tinygrad-lite-escaped.txt").unlink(missing_ok=True)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status, seconds = grade(folder, "--out", out, "--jobs", 2, "--timeout", HOSTILE_TIMEOUT, "--total-timeout",
                                120, "--lesson", "00", "--max-output", 5)
    sys.stdout.write(printed.getvalue())
    assert status == 0
    by_learner, data = results_of(out)
    # each submission's own grading time, from its progress line: "[k/n] learner lesson: 3/5 status (4.2 s)"
    each = {m[0]: float(m[1]) for m in re.findall(r"^\[\d+/\d+\] (\S+) .*\(([\d.]+) s\)$", printed.getvalue(), re.M)}
    _GRADED_00.append((by_learner, data, out, seconds, escape, each))
    return _GRADED_00[0]


ALL_PASSED = {"00.row_normalize": "passed", "00.standardize": "passed", "00.pairwise_sq_distances": "passed"}
EXPECTED_00 = {  # learner: (total, {exercise: status or a set of statuses allowed}, submission status)
    "solved": (5, ALL_PASSED, "graded"),
    "unsolved": (0, dict.fromkeys(ALL_PASSED, "not attempted"), "graded"),
    "partial": (1, {"00.row_normalize": "passed", "00.standardize": "not attempted"}, "graded"),
    "loop": (3, {"00.standardize": "timed out", "00.row_normalize": "passed",
                 "00.pairwise_sq_distances": "passed"}, "incident"),
    "membomb": (4, {"00.row_normalize": {"error", "timed out"}, "00.standardize": "passed"}, {"graded", "incident"}),
    "sysexit": (4, {"00.row_normalize": "error", "00.pairwise_sq_distances": "passed"}, {"graded", "flagged"}),
    "osexit": (4, {"00.row_normalize": "kernel died", "00.standardize": "passed",
                   "00.pairwise_sq_distances": "passed"}, "flagged"),
    "segfault": (3, {"00.pairwise_sq_distances": "kernel died", "00.row_normalize": "passed"}, "flagged"),
    "cellcrash": (4, {"00.row_normalize": "kernel died", "00.standardize": "passed",
                      "00.pairwise_sq_distances": "passed"}, "flagged"),
    "forkbomb": (3, {"00.standardize": {"error", "timed out", "kernel died"}, "00.row_normalize": "passed",
                     "00.pairwise_sq_distances": "passed"}, "flagged"),
    "printbomb": (4, {"00.row_normalize": "output limit", "00.standardize": "passed"}, "incident"),
    "network": (3, {"00.pairwise_sq_distances": "error"}, "flagged"),
    "readsolutions": (4, {"00.row_normalize": {"error", "failed"}, "00.standardize": "passed"}, "flagged"),
    "reference": (0, {"00.row_normalize": "refused", "00.standardize": "failed",
                      "00.pairwise_sq_distances": "failed"}, "flagged"),
    "monkeypatch": (4, {"00.row_normalize": "failed", "00.standardize": "passed"}, "flagged"),
    "writer": (5, ALL_PASSED, "flagged"),
    "edited": (4, {"00.row_normalize": "failed", "00.standardize": "passed"}, "graded"),
    "nometadata": (5, ALL_PASSED, "graded"),
    "plotter": (5, ALL_PASSED, "graded"),
    "corrupt": (0, {}, "unreadable"),
    "empty": (0, {}, "unreadable"),
    "otherlesson": (0, {}, "wrong lesson"),
    "nolesson": (5, ALL_PASSED, "graded"),  # named no lesson: graded as the lesson of --lesson, with a note
}


@pytest.mark.xdist_group("grading-lesson00-class")
@pytest.mark.parametrize("learner", sorted(EXPECTED_00))
def test_each_submission_of_lesson00_gets_its_points_and_status(lesson00, learner):
    by_learner = lesson00[0]
    total, statuses, status = EXPECTED_00[learner]
    if learner == "readsolutions" and not BUBBLEWRAP:
        pytest.skip("without bubblewrap the kernel can read the solutions (the output says so)")
    result = by_learner[learner]
    assert result["status"] in ({status} if isinstance(status, str) else status), result
    assert result["total"] == pytest.approx(total), result
    assert result["max"] == (0 if status == "unknown lesson" else 5)
    exercises = exercises_of(result)
    for exercise_id, want in statuses.items():
        want = {want} if isinstance(want, str) else want
        assert exercises[exercise_id]["status"] in want, exercises[exercise_id]


@pytest.mark.xdist_group("grading-lesson00-class")
def test_reasons_are_clear(lesson00):
    by_learner = lesson00[0]
    reason = {learner: {e["id"]: e["reason"] for e in r["exercises"]} for learner, r in by_learner.items()}
    assert f"timed out after {HOSTILE_TIMEOUT} s" in reason["loop"]["00.standardize"]
    assert "SIGSEGV" in reason["segfault"]["00.pairwise_sq_distances"]
    assert "SIGSEGV" in reason["cellcrash"]["00.row_normalize"] and "exercise cell" in reason["cellcrash"][
        "00.row_normalize"]
    assert "exited" in reason["osexit"]["00.row_normalize"]
    assert "output limit" in reason["printbomb"]["00.row_normalize"]
    assert "reference" in reason["reference"]["00.row_normalize"]
    membomb = exercises_of(by_learner["membomb"])["00.row_normalize"]["cases"][0]["detail"]
    # the memory limit stops it, or on a heavily loaded machine the time limit may come first (as EXPECTED_00 says)
    timed_out = f"timed out after {HOSTILE_TIMEOUT} s" in reason["membomb"]["00.row_normalize"]
    assert "MemoryError" in membomb or timed_out, membomb
    sysexit = exercises_of(by_learner["sysexit"])["00.row_normalize"]["cases"][0]["detail"]
    assert "SystemExit" in sysexit
    network = exercises_of(by_learner["network"])["00.pairwise_sq_distances"]["cases"][0]["detail"]
    assert "URLError" in network or "unreachable" in network.lower()
    for exercise_id in ("00.standardize", "00.pairwise_sq_distances"):
        cases = exercises_of(by_learner["reference"])[exercise_id]["cases"]
        assert all("reference implementation" in c["detail"] for c in cases)
    assert "not valid notebook JSON" in by_learner["corrupt"]["reason"]
    assert "empty" in by_learner["empty"]["reason"]
    assert L01 in by_learner["otherlesson"]["reason"]
    assert any("lost its exercise metadata" in n for e in by_learner["nometadata"]["exercises"] for n in e["notes"])


@pytest.mark.xdist_group("grading-lesson00-class")
def test_known_mistakes_get_their_hints_and_no_full_points(lesson00):
    exercises = exercises_of(lesson00[0]["mistakes"])
    for exercise_id, text in (("00.row_normalize", "sum of the whole matrix"),
                              ("00.standardize", "sample standard deviation"),
                              ("00.pairwise_sq_distances", "without squaring")):
        entry = exercises[exercise_id]
        assert entry["points"] < entry["max"] and entry["status"] in ("failed", "partial")
        assert any(text in hint for hint in entry["hints"]), entry["hints"]
    feedback = (lesson00[2] / "feedback" / "mistakes" / f"{L00}.md").read_text(encoding="utf-8")
    assert "sum of the whole matrix" in feedback and "Hint:" in feedback


@pytest.mark.xdist_group("grading-lesson00-class")
def test_nothing_escapes_the_scratch_folder(lesson00):
    assert not lesson00[4].exists()
    assert not Path("/work/escaped.txt").exists()
    if BUBBLEWRAP:
        assert not Path("/tmp/tinygrad-lite-escaped.txt").exists()


@pytest.mark.xdist_group("grading-lesson00-class")
def test_the_class_grades_in_one_run_within_its_limits(lesson00):
    by_learner, data, out, seconds, *_ = lesson00
    assert sorted(by_learner) == sorted([*EXPECTED_00, "mistakes"])
    assert seconds < 300
    for name in ("gradebook.csv", "lms.csv", "results.json", "summary.md", "summary.png"):
        assert (out / name).stat().st_size > 0
    gradebook = (out / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert gradebook[0].startswith("learner,lesson,00.row_normalize,00.standardize,00.pairwise_sq_distances,total,"
                                   "max,status")
    assert len(gradebook) == 1 + len(by_learner)
    lms = (out / "lms.csv").read_text(encoding="utf-8").splitlines()
    assert lms[0] == f"learner,{L00}" and "solved,5" in lms
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "Sandbox: " in summary and "| 00.row_normalize |" in summary and "summary.png" in summary
    assert data["grader"]["sandbox"].startswith("bubblewrap") == BUBBLEWRAP


@pytest.mark.xdist_group("grading-lesson00-class")
def test_a_notebook_that_names_no_lesson_is_graded_as_the_lesson_asked_for(lesson00):
    assert lesson00[0]["nolesson"]["notes"] == [f"neither its metadata nor its file name names a lesson: graded as "
                                                f"{L00} (--lesson)"]
    assert lesson00[0]["otherlesson"]["lesson"] == L01 and lesson00[0]["otherlesson"]["assignment"] == L00
    # the gradebook's row is the assignment's: its lesson, its columns and its maximum; the note says whose it is
    row = next(r for r in csv.DictReader(io.StringIO((lesson00[2] / "gradebook.csv").read_text()))
               if r["learner"] == "otherlesson")
    assert (row["lesson"], row["max"], row["status"]) == (L00, "5", "wrong lesson") and L01 in row["notes"], row
    assert (lesson00[2] / "feedback" / "otherlesson" / f"{L00}.md").exists()


@pytest.mark.xdist_group("grading-lesson00-class")
def test_an_endless_loop_costs_about_its_time_limit(lesson00):
    """The loop in "loop"'s standardize is stopped by the kernel's own alarm and the kernel goes on (not the
    grader's kill, 1 s + 5% later, and a second kernel's start-up with the setup cells again: before, about 3 times
    --timeout in all), and it runs once: the submission costs about its time limit beyond what a solved one costs,
    not two (the loop again where a setup cell calls use(standardize))."""
    # the kernel's own alarm said so: the grader's backstop kill (which a second kernel follows) words it "timed out
    # after 5 s in 00.standardize, while ..."
    standardize = exercises_of(lesson00[0]["loop"])["00.standardize"]
    assert standardize["reason"] == f"timed out after {HOSTILE_TIMEOUT} s, while running your function on case 1"
    each = lesson00[5]
    plain = sorted(each[name] for name in ("solved", "unsolved", "partial", "mistakes", "nometadata"))
    # and the loop ran once: twice (a setup cell's use(standardize)) costs 2 time limits. The bound leaves room for a
    # loaded machine: twice a plain submission's median (the plain ones varied by 30% within one run on a machine
    # loaded 4 times over its cores) and half a time limit more (7.2 s once, against 0.7 s plain, on 2 cores)
    assert each["loop"] <= 2 * plain[len(plain) // 2] + 1.5 * HOSTILE_TIMEOUT, (each["loop"], plain)


@pytest.mark.xdist_group("grading-lesson00-class")
def test_feedback_never_shows_hidden_inputs_or_reference_answers(lesson00):
    out = lesson00[2]
    hidden_lines = 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))  # the instructor's file has it all
    assert any("Worst" in c["detail"] for r in results["submissions"] for e in r["exercises"] for c in e["cases"])
    import html

    def numbers(text):
        return {m.group() for m in judge._NUMBER.finditer(text)}
    for learner in ("mistakes", "monkeypatch", "edited", "membomb"):
        text = (out / "feedback" / learner / f"{L00}.md").read_text(encoding="utf-8")
        values = {n for r in results["submissions"] if r["learner"] == learner for e in r["exercises"]
                  for c in e["cases"] if not c["visible"] for n in judge.hidden_numbers(c["detail"])}
        for line in text.splitlines():
            if "hidden case" in line:  # (a number left stands in the course's own words)
                hidden_lines += 1
                assert "Worst" not in line and not judge.hidden_numbers(line) and not numbers(line) & values, line
        page = (out / "feedback" / learner / f"{L00}.html").read_text(encoding="utf-8").split("</style>")[1]
        assert numbers(html.unescape(page)) <= numbers(text), learner  # the page says what the Markdown says
    assert hidden_lines


def test_a_hidden_case_label_that_names_its_inputs_is_shown_without_them():
    """A label is the course's text, but "with start_factor=0.1 and min_lr=0.01" would give a hidden case's
    inputs away: its numbers are masked (but whole ones, the case's place); a visible case keeps its label."""
    from tinygrad_lite.course.verdict import GradedCase
    hidden = GradedCase("failed", "t", [], [], "", where="hidden case 2 of 7 (with start_factor=0.1 and min_lr=1e-3)")
    shown = GradedCase("failed", "t", [], [], "", where="the example shown in the notebook (lr=0.5)", visible=True)
    assert judge.mask_case(hidden).shown_where == "hidden case 2 of 7 (with start_factor=… and min_lr=…)"
    assert judge.mask_case(shown).shown_where == shown.where


def test_one_mistake_with_a_count_in_its_hint_reads_once_in_the_feedback():
    """A sum for a mean gives "your answer is N times too large" with each hidden case's own N (the size of a
    hidden input): masked, whole numbers too, it is one hint in the feedback and one mistake in the summary; the
    course's own whole numbers in a hint stay ("the 2 under the root once")."""
    from tinygrad_lite.course.grading import report
    from tinygrad_lite.course.verdict import GradedCase

    def hint(n):
        return (f"your answer is {n} times too large: a sum where a mean was needed? (dividing by {n}, the number "
                "of elements averaged, makes it a mean)")
    cases = [judge.mask_case(GradedCase("failed", "t", [], [hint(n)], "", where=f"hidden case {k} of 3"))
             for k, n in ((1, 4), (2, 10), (3, 12))]
    assert len(report.learner_hints(cases)) == 1 and "… times too large" in report.learner_hints(cases)[0][1]
    kept = "sqrt(2 / fan_in), the 2 under the root once and nothing in front of it"
    assert judge.mask_numbers("the standard deviation is the square root of the variance, of all of it: " + kept,
                              whole=True).endswith(kept)


def test_no_hidden_case_label_depends_on_the_secret_seed():
    """A hidden case's label is shown to the learner (feedback, Gradescope): made from the cases' random draws it
    would show the hidden input (01.kaiming_normal_std's labels once named the drawn layer shape). Two seeds must
    give every exercise the same hidden labels."""
    checks.get_exercise("00.row_normalize")  # registers every lesson's exercises
    differ = {}
    for exercise_id, exercise in sorted(checks.REGISTRY.items()):
        labels = [[c.label for c in exercise.cases(np.random.default_rng(seed)) if not c.visible] for seed in (1, 2)]
        if labels[0] != labels[1]:
            differ[exercise_id] = [a for a, b in zip(*labels) if a != b][:2]
    assert differ == {}


@pytest.mark.xdist_group("grading-lesson00-class")
def test_a_rerun_resumes_and_gives_the_same_files(lesson00, tmp_path):
    out = lesson00[2]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".work" not in p.parts}
    done = sorted((out / ".work" / "done").glob("*.json"))
    assert len(done) == len(EXPECTED_00) + 1
    for path in done:  # as if the run had been interrupted before these were stored (ones whose grade depends
        if json.loads(path.read_text())["learner"] in ("mistakes", "edited", "corrupt"):  # on no clock)
            path.unlink()
    status, seconds = grade(out.parent / "class", "--out", out, "--jobs", 2, "--timeout", HOSTILE_TIMEOUT,
                            "--total-timeout", 120, "--lesson", "00", "--max-output", 5)
    assert status == 0 and seconds < lesson00[3]
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".work" not in p.parts}
    assert before.keys() == after.keys()
    changed = [str(p) for p in before if before[p] != after[p]]
    assert not changed


@needs_kernels
@pytest.mark.extended  # a class graded twice: .ci/run runs it after the whole suite (conftest.py)
def test_same_secret_same_files_from_scratch(tmp_path):
    """Deterministic: a fresh output folder with the same secret gives byte-identical files."""
    folder = tmp_path / "class"
    name = f"{L00}.ipynb"
    save(folder, "a", submission(L00), name)
    save(folder, "b", submission(L00, {"00.row_normalize": "def row_normalize(scores):\n    return scores / "
                                                           "scores.sum(dim=0, keepdim=True)\n"}), name)
    outputs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        (out / ".work").mkdir(parents=True)
        (out / ".work" / "secret").write_text("the same secret\n")
        assert grade(folder, "--out", out, "--jobs", 2)[0] == 0
        outputs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*")
                        if p.is_file() and ".work" not in p.parts})
    assert outputs[0] == outputs[1]


@pytest.mark.extended  # a class graded without the sandbox: .ci/run runs it after the whole suite (conftest.py)
def test_without_bubblewrap_the_limits_still_hold_and_the_output_says_so(tmp_path, capsys):
    folder, out = tmp_path / "class", tmp_path / "out"
    name = f"{L00}.ipynb"
    save(folder, "solved", submission(L00), name)
    for learner in ("osexit", "network", "printbomb"):
        save(folder, learner, submission(L00, HOSTILE_00[learner]), name)
    mode, why = sandbox_here("none")
    if mode is None:  # as root, a course in a private folder: its kernels' user cannot reach it, and one line says
        status = grade(folder, "--out", out, "--jobs", 2, "--sandbox", "none")[0]  # so before anything runs
        err = capsys.readouterr().err.strip().splitlines()
        assert status == 2 and len(err) == 1 and "--sandbox none" in err[0] and not out.exists(), err
        pytest.skip(f"--sandbox none cannot start a kernel here (tests/test_grading_private.py covers it): {why}")
    assert grade(folder, "--out", out, "--jobs", 2, "--sandbox", "none", "--max-output", 5)[0] == 0
    assert "sandbox: NO SANDBOX" in capsys.readouterr().out
    assert "NO SANDBOX" in (out / "summary.md").read_text(encoding="utf-8")
    by_learner = results_of(out)[0]
    assert {learner: r["total"] for learner, r in by_learner.items()} == {"solved": 5, "osexit": 4, "network": 3,
                                                                          "printbomb": 4}


# -------------------------------------------------------------------- lessons 01-03: solved, unsolved, mistakes
def _wrong_sources(lesson_number):
    """{exercise id: [(function source, text its message must hold)]} from tests/test_lessonNN.py's WRONG list:
    the wrong versions written as lambdas of numpy and tinygrad_lite only (others need the test's helpers)."""
    sys.path.insert(0, str(ROOT / "tests"))
    module = importlib.import_module(f"test_lesson{lesson_number}")
    source = inspect.getsource(module)
    tree = ast.parse(source)
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "WRONG" for t in node.targets):
            for item in getattr(node.value, "elts", []):
                if not (isinstance(item, ast.Tuple) and len(item.elts) >= 3 and isinstance(item.elts[1], ast.Lambda)):
                    continue
                exercise_id, text = ast.literal_eval(item.elts[0]), item.elts[2]
                if not isinstance(text, ast.Constant):
                    continue
                lam = item.elts[1]
                names = {n.id for n in ast.walk(lam.body) if isinstance(n, ast.Name)} - {a.arg for a in lam.args.args}
                if names - {"tl", "np", "math"}:
                    continue
                found.setdefault(exercise_id, []).append((ast.get_source_segment(source, lam), text.value))
    return found


def _function_from_lambda(name, lam):
    return f"import math\n\ndef {name}(*args, **kwargs):\n    return ({lam})(*args, **kwargs)\n"


LESSONS_123 = {L01: "01", L02: "02", L03: "03"}
# Four hostile exercises in a row, each ending its kernel, and the resume after each: graded in one lesson (03, the
# one with exercises left over after them). Lesson 00's class has every hostile kind on its own; grading the same
# four in 01 and 02 as well cost a kernel restart each (a third of this class's time) and showed nothing new.
HOSTILE_IN = "03"
# Known mistakes: two notebooks per lesson, one mistake per exercise each, graded end to end; every wrong answer of
# every lesson goes through the grade path in-process in tests/test_pipeline_parity.py (same verdicts as check).
MISTAKE_ROUNDS = 2
HOSTILE_BODIES = ("while True:\n    pass\n", "import os\nos._exit(3)\n", "import ctypes\nctypes.string_at(0)\n",
                  "import sys\nsys.exit(0)\n")
HOSTILE_STATUSES = ("timed out", "kernel died", "kernel died", "error")


@pytest.fixture(scope="module")
def lessons123(tmp_path_factory):
    if MODE is None:
        pytest.skip(f"no grading kernel can start here: {NO_KERNEL}")
    base = tmp_path_factory.mktemp("grading123")
    folder, out = base / "class", base / "out"
    planted = {}  # learner -> {exercise id: expected text}
    for lesson, number in LESSONS_123.items():
        names = layout.load_lessons(ROOT / "solutions")[lesson].functions
        name = f"{lesson}.ipynb"
        save(folder, f"solved{number}", submission(lesson), name)
        save(folder, f"unsolved{number}", notebook(lesson, "lessons"), name)
        first = layout.load_lessons(ROOT / "solutions")[lesson].exercises[0]
        solved_first = "".join(exercise_cell(notebook(lesson), first)["source"])
        save(folder, f"partial{number}", submission(lesson, {first: solved_first}, base="lessons"), name)
        if number == HOSTILE_IN:
            hostile = {}  # the first exercises misbehave, the others are solved
            for exercise_id, body in zip(layout.load_lessons(ROOT / "solutions")[lesson].exercises, HOSTILE_BODIES):
                hostile[exercise_id] = f"def {names[exercise_id]}(*args, **kwargs):\n" + textwrap.indent(body, "    ")
            save(folder, f"hostile{number}", submission(lesson, hostile), name)
        wrong = _wrong_sources(number)
        rounds = max((len(v) for v in wrong.values()), default=0)
        for k in range(min(rounds, MISTAKE_ROUNDS)):  # each notebook plants one known mistake per exercise
            replace, texts = {}, {}
            for exercise_id, versions in wrong.items():
                if k < len(versions):
                    lam, text = versions[k]
                    replace[exercise_id] = _function_from_lambda(names[exercise_id], lam)
                    texts[exercise_id] = text
            learner = f"mistakes{number}-{k}"
            save(folder, learner, submission(lesson, replace), name)
            planted[learner] = texts
    status, seconds = grade(folder, "--out", out, "--jobs", 2, "--timeout", HOSTILE_TIMEOUT, "--total-timeout", 200)
    assert status == 0
    return results_of(out)[0], planted


@pytest.mark.xdist_group("grading-lessons123-class")
@pytest.mark.extended  # a second class, of lessons 01-03: .ci/run runs these after the whole suite
@pytest.mark.parametrize("number", sorted(LESSONS_123.values()))
def test_solved_unsolved_and_partial_of_lessons_01_to_03(lessons123, number):
    by_learner = lessons123[0]
    solved, unsolved, partial = (by_learner[f"{k}{number}"] for k in ("solved", "unsolved", "partial"))
    assert solved["status"] == "graded" and solved["total"] == solved["max"] > 0
    assert all(e["status"] == "passed" for e in solved["exercises"])
    assert unsolved["total"] == 0 and all(e["status"] == "not attempted" for e in unsolved["exercises"])
    first = partial["exercises"][0]
    assert first["status"] == "passed" and partial["total"] == first["max"]
    assert all(e["status"] in ("not attempted", "error") for e in partial["exercises"][1:])


@pytest.mark.xdist_group("grading-lessons123-class")
@pytest.mark.extended  # a second class, of lessons 01-03: .ci/run runs these after the whole suite
def test_hostile_exercises_cost_only_their_own_points(lessons123):
    result = lessons123[0][f"hostile{HOSTILE_IN}"]
    exercises = result["exercises"]
    for entry, status in zip(exercises, HOSTILE_STATUSES):
        assert entry["status"] == status and entry["points"] == 0, entry
    assert all(e["status"] == "passed" for e in exercises[len(HOSTILE_STATUSES):])
    assert result["total"] == sum(e["max"] for e in exercises[len(HOSTILE_STATUSES):])


@pytest.mark.xdist_group("grading-lessons123-class")
@pytest.mark.extended  # a second class, of lessons 01-03: .ci/run runs these after the whole suite
def test_known_mistakes_of_lessons_01_to_03(lessons123):
    by_learner, planted = lessons123
    assert planted
    missing_hints = []
    for learner, texts in planted.items():
        exercises = exercises_of(by_learner[learner])
        for exercise_id, text in texts.items():
            entry = exercises[exercise_id]
            assert entry["points"] < entry["max"], (learner, exercise_id, entry["status"])
            said = " ".join(entry["hints"] + [c["detail"] for c in entry["cases"]])
            if text not in said:
                missing_hints.append((learner, exercise_id, text))
    assert not missing_hints


# -------------------------------------------------------------------- the command line
def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["grade", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--out", "--jobs", "--timeout", "--total-timeout", "--memory", "--max-output", "--lesson",
                   "--solutions", "--sandbox", "SUBMISSION", "exit status", "layout", "gradebook.csv", "lms.csv",
                   "results.json", "feedback/", "summary.md"):
        assert option in text


@pytest.mark.parametrize("arguments", [
    ["grade"],
    ["grade", "x.ipynb"],
    ["grade", "x.ipynb", "--out", "o", "--jobs", "0"],
    ["grade", "x.ipynb", "--out", "o", "--timeout", "soon"],
    ["grade", "x.ipynb", "--out", "o", "--memory", "10"],
    ["grade", "x.ipynb", "--out", "o", "--sandbox", "docker"],
    ["grade", "x.ipynb", "--out", "o", "--frobnicate"],
])
def test_bad_arguments_give_one_line(arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(arguments)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error:" in err and "Traceback" not in err


def test_missing_input_and_unknown_lesson_give_one_line(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--lesson", "42"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no such file or folder" in err[0] and "no such lesson" in err[1]
    # a folder with no notebook (a mistyped path) and a file that is no notebook: nothing graded, nothing written
    (tmp_path / "empty").mkdir()
    (tmp_path / "roster.csv").write_text("id\nalice\n")
    assert cli.main(["grade", str(tmp_path / "empty"), "--out", str(tmp_path / "out"), "--lesson", L00,
                     "--roster", str(tmp_path / "roster.csv")]) == 2
    assert cli.main(["grade", str(tmp_path / "roster.csv"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no notebook (.ipynb) in" in err[0] and "Nothing was graded" in err[0], err
    assert "roster.csv is not a notebook" in err[1] and not (tmp_path / "out").exists(), err


# -------------------------------------------------------------------- the parts
def test_answers_round_trip_for_every_registered_exercise():
    """The kernel's encoding of each reference answer, decoded in the grader, is judged equal to it (every lesson,
    the visible case and the first hidden one)."""
    from tinygrad_lite.course import exercises  # noqa: F401
    from tinygrad_lite.course.grading.judge import _tensor
    from tinygrad_lite.tensor import Tensor
    for exercise_id, exercise in sorted(checks.REGISTRY.items()):
        for case in exercise.all_cases()[:2]:
            raw = pipeline.quietly(exercise.reference, *pipeline.copy_case((case.args, case.kwargs)), exercise)
            again = pipeline.quietly(exercise.reference, *pipeline.copy_case((case.args, case.kwargs)), exercise)
            back = encoding.decode(json.loads(json.dumps(encoding.Encoder(Tensor).encode(again))), _tensor)
            assert exercise.answer is None or exercise.answer.refuse(back, raw) is None, exercise_id
            got, want = checks.as_numpy(back), checks.as_numpy(raw)
            failure = (exercise.compare(got, want, case) if exercise.compare
                       else checks.compare_arrays(got, want, exercise.rtol, exercise.atol))
            assert failure is None, (exercise_id, failure)


@pytest.mark.parametrize("damaged", [
    None, [], {"t": "ndarray", "dtype": "<f8", "shape": [3], "data": "AAAA"},
    {"t": "ndarray", "dtype": "|O", "shape": [1], "data": ""}, {"t": "list", "id": 0, "items": [{"t": "ref", "v": 9}]},
    {"t": "eval", "v": "__import__('os')"}, {"t": "int", "v": "1e9999"}, {"t": "tensor", "array": {"t": "str"}},
])
def test_damaged_answers_are_refused(damaged):
    with pytest.raises(encoding.BadAnswer):
        encoding.decode(damaged)


def test_a_tensor_shared_object_graph_and_run_survive_encoding():
    import tinygrad_lite as tl
    from tinygrad_lite.course.answers import Run
    from tinygrad_lite.tensor import Tensor

    class Node:
        def __init__(self, label, inputs=()):
            self.label, self.inputs = label, list(inputs)
    x = Node("x")
    root = Node("root", [Node("a", [x]), x])
    value = [tl.tensor([1.0, 2.0]), np.float32(2.5), root, Run.of([1.0, 2.0], problem="why"), (1, "a"), None]
    back = encoding.decode(json.loads(json.dumps(encoding.Encoder(Tensor).encode(value))), lambda a: tl.tensor(a))
    assert isinstance(back[0], Tensor) and back[0].dtype == tl.float32
    assert back[1].dtype == np.float32 and back[1] == 2.5
    assert back[2].inputs[0].inputs[0] is back[2].inputs[1]  # x is one node, reached twice
    assert back[3].problem == "why" and np.asarray(back[3]).tolist() == [1.0, 2.0]
    assert back[4] == (1, "a") and back[5] is None
    node = None
    for k in range(200):  # a chain of graph nodes listed root first: deep nesting, as a wrong order gives
        node = Node(f"n{k}", [node] if node else [])
    with encoding.Deep():
        text = json.dumps(encoding.Encoder(Tensor).encode([node]))
        back = encoding.decode(json.loads(text))
    depth, node = 0, back[0]
    while node.inputs:
        depth, node = depth + 1, node.inputs[0]
    assert depth == 199


def test_a_notebook_that_lost_its_own_metadata_is_of_the_lesson_its_exercise_cells_name(tmp_path):
    lessons = layout.load_lessons(ROOT / "solutions")
    copied = submission(L01)
    copied["metadata"] = {}  # (cells copied into a new notebook keep their own metadata)
    save(tmp_path, "eve", copied, "homework.ipynb")
    sub = layout.read_submission(tmp_path / "eve" / "homework.ipynb", "eve/homework.ipynb", "eve", lessons)
    assert sub.lesson == L01 and sub.problem is None, sub.problem
    assert sub.notes == [f"the notebook names no lesson, its exercise cells are of {L01}: graded as that lesson"]


def test_an_exercise_cell_whose_id_was_edited_is_graded_as_the_exercise_it_defines(tmp_path):
    """As `check` finds it (runner.locate): a cell whose metadata names no exercise of the lesson counts as one that
    lost its metadata, found by its code."""
    lessons = layout.load_lessons(ROOT / "solutions")
    edited = submission(L00)
    first = lessons[L00].exercises[0]
    exercise_cell(edited, first)["metadata"]["tinygrad_lite"]["exercise"] = first + "s"
    save(tmp_path, "eve", edited, f"{L00}.ipynb")
    sub = layout.read_submission(tmp_path / "eve" / f"{L00}.ipynb", f"eve/{L00}.ipynb", "eve", lessons)
    found = layout.learner_cells(sub, lessons[L00])
    assert found[first][1] == "marker" and set(found) == set(lessons[L00].exercises), found


def test_layout_learners_and_lessons(tmp_path):
    lessons = layout.load_lessons(ROOT / "solutions")
    folder = tmp_path / "class"
    save(folder, "alice", submission(L00), "whatever.ipynb")
    (folder / "bob_L01.ipynb").write_text("{}")
    (folder / "bob-lesson2 (1).ipynb").write_text("{}")
    (folder / "03_backward_pass_carol.ipynb").write_text("{}")
    (folder / "dan03.ipynb").write_text("{}")
    found, _ = layout.find_notebooks([folder], lessons=lessons)
    # the lesson a file name names is no part of the learner's id (bob's two lessons are one learner's), but a
    # number glued to the name may be the name's own
    assert sorted((learner, Path(path).name) for path, _, learner in found) == [
        ("alice", "whatever.ipynb"), ("bob", "bob-lesson2 (1).ipynb"), ("bob", "bob_L01.ipynb"),
        ("carol", "03_backward_pass_carol.ipynb"), ("dan03", "dan03.ipynb")]
    assert layout.without_lesson("L03", lessons) == "L03"  # (nothing else in the name: kept as it is)
    assert layout.lesson_from_name("bob_L01.ipynb", lessons) == L01
    assert layout.lesson_from_name("lesson03-final.ipynb", lessons) == L03
    assert layout.lesson_from_name("notes.ipynb", lessons) is None
    assert layout.lesson_from_name("lesson1.ipynb", lessons) == L01  # the number without its zero after "lesson"
    assert layout.lesson_from_name("Lesson_2 final.ipynb", lessons) == L02
    assert layout.lesson_from_name("alice_v1.ipynb", lessons) is None  # but not any 1 in a name


@pytest.mark.parametrize("asked", ["1", "01", "lesson01", "lesson1", "L1", L01, f"{L01}.ipynb",
                                   f"lessons/{L01}.ipynb"])
def test_lesson_may_be_asked_for_by_number_name_or_file(asked):
    from tinygrad_lite.course.grading import resolve_lesson
    assert resolve_lesson(asked, layout.load_lessons(ROOT / "solutions")) == L01


def test_scan_refuses_the_course_answers_and_flags_the_suspicious():
    forbidden, suspicious = layout.scan("from tinygrad_lite.course.exercises.lesson00 import x\n")
    assert forbidden
    assert layout.scan("def f(x):\n    return use('00.x', f)(x)\n")[0]
    assert layout.scan("def f(x):\n    # row_normalize_reference would be cheating\n    return x\n") == ([], [])
    assert layout.scan("np.allclose = lambda *a: True\n")[1]
    assert layout.scan("import ctypes\n")[1]


@pytest.mark.skipif(not os.environ.get("TINYGRAD_LITE_GRADING_BENCH"), reason="set TINYGRAD_LITE_GRADING_BENCH=1")
@needs_kernels
def test_sixty_submissions_of_one_lesson_in_five_minutes(tmp_path):
    """60 submissions of lesson 03 (the largest of lessons 00-03), a mix of solved, partly solved, mistaken and
    unsolved, with --jobs 2: under 5 minutes on 2 cores."""
    folder = tmp_path / "class"
    name = f"{L03}.ipynb"
    wrong = _wrong_sources("03")
    names = layout.load_lessons(ROOT / "solutions")[L03].functions
    for k in range(60):
        if k % 4 == 0:
            nb = submission(L03)
        elif k % 4 == 1:
            nb = notebook(L03, "lessons")
        else:
            replace = {e: _function_from_lambda(names[e], v[k % len(v)][0]) for e, v in wrong.items()}
            nb = submission(L03, replace)
        save(folder, f"learner{k:02d}", nb, name)
    status, seconds = grade(folder, "--out", tmp_path / "out", "--jobs", 2)
    print(f"60 submissions of {L03} with --jobs 2: {seconds:.1f} s")
    assert status == 0 and seconds < 300
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_the_sandbox_mounts_its_private_tmp_before_binding_the_course():
    """A course cloned under /tmp (as CI does) must stay visible: bwrap applies its arguments in order, so a tmpfs
    on /tmp mounted after the read-only binds would hide the venv and the package, and the sandbox would fail."""
    sandbox = sandboxes.Sandbox("bubblewrap", "test", drop=False)
    args, _, _ = sandbox.command("/tmp/scratch", ["python"])
    tmpfs = args.index("--tmpfs")
    assert args[tmpfs + 1] == "/tmp"
    assert tmpfs < args.index("--ro-bind") and args.count("--tmpfs") == 1


def test_an_exercise_cell_that_runs_out_of_time_is_an_incident_not_an_undefined_answer():
    """A loop at the top of an exercise cell: the kernel stops the cell at the time limit, and the function is then
    undefined. That is a time-out (an incident, which `--regrade incidents` grades again), not a missing answer."""
    plan = {"timeout": 30, "cells": [{"n": 4, "role": "exercise", "exercise": "00.row_normalize"},
                                     {"n": 6, "role": "exercise", "exercise": "00.standardize"}]}
    fresh = {"status": None, "reason": None, "records": {}, "cases": None}
    states = {e: dict(fresh, records={}) for e in ("00.row_normalize", "00.standardize")}
    outcome = {"cell_errors": {4: "TimedOut: the cell ran for more than 30 s (the time limit per cell) and was "
                                  "stopped", 6: "NameError: name 'np' is not defined"},
               "answers": [{"id": e, "undefined": f"your exercise cell does not define `{e[3:]}`"} for e in states]}
    grader.Grader._absorb(states, list(states), plan, outcome)
    timed_out, undefined = states["00.row_normalize"], states["00.standardize"]
    assert timed_out["status"] == "timed out" and timed_out["status"] in grader.INCIDENT_STATUS.values()
    assert "timed out after 30 s, while running your exercise cell" in timed_out["reason"]
    assert undefined["status"] == "undefined" and "NameError" in undefined["reason"]


def test_answers_cut_short_by_the_learners_code_are_judged_and_flagged(monkeypatch):
    """An exercise cell that overwrites the files of its working folder (the grader's among them): the kernel ends
    normally with the answers of the cases but not their count. Not "the kernel gave no answer" beside full points:
    the answers there are judged, and the exercise is flagged for the instructor, with why."""
    from types import SimpleNamespace

    from tinygrad_lite.course.grading import session
    answers = [{"id": "00.row_normalize", "i": i} for i in range(3)]  # (no {"cases": n} line: it was overwritten)
    monkeypatch.setattr(layout, "plan", lambda lesson, codes, batch: {"cells": []})
    monkeypatch.setattr(session, "run_kernel", lambda *args: {"end": "done", "cell_errors": {}, "answers": answers,
                                                              "where": {}})
    settings = grader.Settings(timeout=5, total_timeout=60)
    lesson = SimpleNamespace(exercises=["00.row_normalize", "00.standardize"])
    ran = grader.run_exercises(settings, SimpleNamespace(own_pid_namespace=False), lesson,
                               {"00.row_normalize": "", "00.standardize": ""}, {"00.row_normalize": [1, 2],
                                                                                "00.standardize": [3, 4]},
                               None, None, None)
    assert ran["00.row_normalize"]["status"] is None and ran["00.row_normalize"]["answers_cut"]
    assert ran["00.standardize"]["status"] == "kernel died"  # (no answer at all: as before)
