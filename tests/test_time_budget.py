"""The time budget per test file (conftest.py, ``TimeBudget``; benchmarks/test_budget.json): a run of the whole suite
fails when a file takes more than its budget, a run of a part of it is never compared, and the budget is recorded
from a run with ``--record-time-budget``. On a made-up suite of two files, in this process (pytest's pytester).
Last, the two tiers that keep the whole suite within its five minutes: the tests marked ``extended`` are left to
.ci/run (conftest.py)."""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[1]


def uses_the_repositorys_conftest(pytester, more):
    """A conftest.py that loads the repository's as ``repository``, takes its options, and adds ``more``."""
    pytester.makeconftest(textwrap.dedent(f"""
        import importlib.util
        spec = importlib.util.spec_from_file_location("repository_conftest", {str(ROOT / "conftest.py")!r})
        repository = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(repository)
        pytest_addoption = repository.pytest_addoption
        """) + textwrap.dedent(more))


@pytest.fixture
def suite(pytester):
    """A suite with testpaths = ["t"]: t/test_slow.py (0.3 s), t/test_quick.py (two tests, one skipped), and a
    conftest.py that uses the repository's TimeBudget with the budget in budget.json."""
    pytester.makeini("[pytest]\ntestpaths = t\naddopts = -p no:cacheprovider --disable-plugin-autoload\n")
    uses_the_repositorys_conftest(pytester, """
        class Budget(repository.TimeBudget):
            PATH = __import__("pathlib").Path(__file__).parent / "budget.json"
            LOAD_FROM = 0.1

        def pytest_configure(config):
            config.pluginmanager.register(Budget(config), "budget")
        """)
    pytester.mkdir("t")
    pytester.path.joinpath("t", "test_slow.py").write_text("import time\n\n\ndef test_slow():\n    time.sleep(0.3)\n")
    pytester.path.joinpath("t", "test_quick.py").write_text(
        "import pytest\n\n\ndef test_quick():\n    pass\n\n\n@pytest.mark.skip\ndef test_skipped():\n    pass\n")
    return pytester


def budget(suite, slow, quick=0.1, factor=1.0, seconds=0.1, skipped=1):
    suite.path.joinpath("budget.json").write_text(json.dumps({
        "margin": {"factor": factor, "seconds": seconds},
        "files": {"t/test_slow.py": {"seconds": slow, "tests": 1, "skipped": 0},
                  "t/test_quick.py": {"seconds": quick, "tests": 2, "skipped": skipped}}}))


def test_a_file_over_its_budget_fails_the_whole_run_and_is_named(suite):
    budget(suite, slow=0.01)
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*time budget*", "*2 files compared*",
                                 "OVER BUDGET: t/test_slow.py: 0 s, over its 0 s (budget 0 s)",
                                 "*python3 run.py test --record-time-budget"])
    result.assert_outcomes(passed=2, skipped=1)  # every test passed: only the budget failed


def test_within_the_budget_and_its_margin_the_run_passes(suite):
    budget(suite, slow=0.01, seconds=5)  # 0.3 s is over 0.01 s, but not over 0.01 s + the margin
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*2 files compared*", "the 12 files that took the most time*",
                                 "*0.* s  (0 s)  t/test_slow.py", "*0.* s  (0 s)  t/test_quick.py"])
    assert "OVER BUDGET" not in result.stdout.str()


@pytest.mark.parametrize("arguments", [["t/test_slow.py"], ["-k", "slow"], ["--deselect", "t/test_quick.py"],
                                       ["t/test_slow.py::test_slow"], ["--ignore", "t/test_quick.py"],
                                       ["--extended"], ["-m", "not extended"]])
def test_a_run_of_part_of_the_suite_is_never_compared(suite, arguments):
    budget(suite, slow=0.01)
    result = suite.runpytest(*arguments)
    assert result.ret == pytest.ExitCode.OK and "time budget" not in result.stdout.str()


def test_the_whole_suite_named_by_its_paths_is_compared(suite):
    budget(suite, slow=0.01)
    assert suite.runpytest("t").ret == pytest.ExitCode.TESTS_FAILED


def test_a_file_that_skipped_other_tests_than_when_recorded_is_not_compared(suite):
    budget(suite, slow=10, quick=0.0001, seconds=0, skipped=0)  # recorded with test_skipped run, now skipped
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*not compared (other tests skipped than when recorded): t/test_quick.py"])


def test_a_file_not_in_the_budget_has_the_margin_only(suite):
    budget(suite, slow=10, seconds=0.1)
    suite.path.joinpath("t", "test_new.py").write_text("import time\n\n\ndef test_new():\n    time.sleep(0.3)\n")
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["OVER BUDGET: t/test_new.py: 0 s, over its 0 s (not in the budget)"])


def test_a_loaded_run_is_allowed_its_load(suite):
    """Every file twice as slow as recorded (a loaded machine): the median ratio is the load, and nothing is over;
    one file alone twice as slow is over."""
    budget(suite, slow=0.15, quick=0.15, factor=1.2, seconds=0)
    assert suite.runpytest().ret == pytest.ExitCode.TESTS_FAILED  # test_slow alone: 0.3 s, twice its 0.15 s
    suite.path.joinpath("t", "test_quick.py").write_text("import time\n\nimport pytest\n\n\ndef test_quick():\n"
                                                         "    time.sleep(0.3)\n\n\n@pytest.mark.skip\n"
                                                         "def test_skipped():\n    pass\n")
    result = suite.runpytest()  # both files: about 0.3 s, twice their budget
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*x 1.2 x load [12].*"])


def test_record_writes_every_file_and_keeps_the_margin(suite):
    budget(suite, slow=0.01, factor=2.0, seconds=7)
    result = suite.runpytest("--record-time-budget")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*recorded 2 files*"])
    written = json.loads(suite.path.joinpath("budget.json").read_text())
    assert written["margin"] == {"factor": 2.0, "seconds": 7}
    assert written["files"]["t/test_slow.py"]["tests"] == 1 and written["files"]["t/test_slow.py"]["seconds"] >= 0.3
    assert written["files"]["t/test_quick.py"] == {"seconds": written["files"]["t/test_quick.py"]["seconds"],
                                                   "tests": 2, "skipped": 1}
    assert suite.runpytest().ret == pytest.ExitCode.OK
    assert suite.runpytest("-k", "slow", "--record-time-budget").ret == pytest.ExitCode.OK
    assert json.loads(suite.path.joinpath("budget.json").read_text()) == written  # a part of the suite: not recorded


def test_the_repositorys_budget_names_the_suites_files():
    """benchmarks/test_budget.json is the budget of this suite: every file it names exists, with its margin."""
    spec = importlib.util.spec_from_file_location("repository_conftest", ROOT / "conftest.py")
    repository = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(repository)
    data = json.loads(repository.TimeBudget.PATH.read_text(encoding="utf-8"))
    assert data["margin"]["factor"] >= 1 and data["margin"]["seconds"] >= 0
    missing = [f for f in data["files"] if not (ROOT / f).exists()]
    assert missing == [], f"the budget names files that are gone: record it again ({data['about']})"
    assert (ROOT / "tests" / "test_time_budget.py").as_posix()[len(ROOT.as_posix()) + 1:] in data["files"]


# -------------------------------------------------------------------- the extended tier
@pytest.fixture
def tiers(pytester):
    """A suite with testpaths = ["t", "u"] and the repository's option and hooks for the tests marked ``extended``:
    t/test_a.py holds a_core and a_slow (marked extended), u/test_b.py b_core and b_slow (marked extended, and
    failing when the file u/fail exists)."""
    pytester.makeini("[pytest]\ntestpaths = t u\nmarkers =\n    extended: slow\naddopts = --disable-plugin-autoload\n")
    uses_the_repositorys_conftest(pytester, """
        pytest_collection_modifyitems = repository.pytest_collection_modifyitems_leave_extended_to_ci
        pytest_terminal_summary = repository.pytest_terminal_summary
        """)
    for folder, name in (("t", "a"), ("u", "b")):
        pytester.mkdir(folder)
        pytester.path.joinpath(folder, f"test_{name}.py").write_text(
            f"import pathlib\n\nimport pytest\n\n\ndef test_{name}_core():\n    pass\n\n\n@pytest.mark.extended\n"
            f"def test_{name}_slow():\n    assert not (pathlib.Path(__file__).parent / 'fail').exists()\n")
    return pytester


NAMES = ("test_a_core", "test_a_slow", "test_b_core", "test_b_slow")
CORE, EVERY = {"test_a_core", "test_b_core"}, set(NAMES)


def ran(result):
    return {name for name in NAMES if f"::{name} PASSED" in result.stdout.str()}


@pytest.mark.parametrize("arguments, expected", [
    ([], CORE), (["t", "u"], CORE),  # the whole suite, as run.py runs it
    (["t"], {"test_a_core", "test_a_slow"}), (["t/test_a.py"], {"test_a_core", "test_a_slow"}),  # a part named
    (["t/test_a.py::test_a_slow"], {"test_a_slow"}),
    (["-m", "extended"], {"test_a_slow", "test_b_slow"}), (["--extended"], EVERY),  # .ci/run's; both tiers
    (["-k", "slow"], {"test_a_slow", "test_b_slow"})])
def test_the_whole_suite_leaves_the_extended_tests_out_and_a_named_path_or_option_runs_them(tiers, arguments,
                                                                                             expected):
    result = tiers.runpytest("-v", *arguments)
    assert result.ret == pytest.ExitCode.OK
    assert ran(result) == expected
    left_out = "the tests marked `extended` were left out (.ci/run runs them)" in result.stdout.str()
    assert left_out == (arguments in ([], ["t", "u"])), result.stdout.str()  # said at the end of the whole suite


def test_last_failed_runs_a_failed_extended_test_again(tiers):
    tiers.path.joinpath("u", "fail").write_text("")
    assert tiers.runpytest("-m", "extended").ret == pytest.ExitCode.TESTS_FAILED  # as .ci/run's second step
    tiers.path.joinpath("u", "fail").unlink()
    result = tiers.runpytest("-v", "--lf")
    assert result.ret == pytest.ExitCode.OK and ran(result) == {"test_b_slow"}


def whole_suite_ids(config, items, repository_conftest):
    """The test ids of a run of the whole suite: this run's own, when it is one (the README's test command),
    else those of ``pytest --collect-only`` of the whole suite, in another process (about 7 s)."""
    if repository_conftest.runs_the_whole_suite(config):
        return [item.nodeid for item in items]
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST")})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_whole_suite_of_the_repository_leaves_out_its_extended_tests_and_the_unsolved_lessons(
        request, repository_conftest):
    """The real hooks in their order: the repository's conftest.py leaves out the browser's and the GPU check's
    tests, and nbval's runs of the unsolved lessons, which .ci/run's second pass makes (every solution still runs);
    naming the lessons runs every one of them with nbval, none handed to a browser or GPU test."""
    ids = whole_suite_ids(request.config, request.session.items, repository_conftest)
    assert not any(i.startswith(("tests/test_browser.py", "tests/test_gpu_check.py", "lessons/")) for i in ids)
    solutions = {i.split("::")[0] for i in ids if i.startswith("solutions/")}
    assert solutions == {f"solutions/{p.name}" for p in (ROOT / "solutions").glob("[0-9]*.ipynb")}, sorted(solutions)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 run.py test solutions lessons" in ci  # (the second pass: every lesson, unsolved)
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", "-p",
                           "no:cacheprovider", "lessons"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST")})
    lessons = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert lessons == {f"lessons/{p.name}" for p in (ROOT / "lessons").glob("*.ipynb")}, done.stdout[-2000:]
