"""Shared test set-up: every test starts from the same seeds, and hypothesis runs the same examples every time.
(How pytest runs notebooks and spreads the suite over workers is in the repository's conftest.py.)"""
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import tinygrad_lite

settings.register_profile("repeatable", derandomize=True, deadline=None, max_examples=40, print_blob=True)
settings.load_profile("repeatable")


@pytest.fixture
def repository_conftest(request):
    """The repository's conftest.py (its hooks and their helpers), as this run loaded it."""
    path = str(Path(__file__).resolve().parents[1] / "conftest.py")
    return next(p for p in request.config.pluginmanager.get_plugins() if getattr(p, "__file__", None) == path)


@pytest.fixture
def ipython_shell():
    """An IPython shell in this process, as a kernel has one (``get_ipython()``'s), its history in memory: it
    numbers the cells it runs, and leaves nothing in the user's own IPython history."""
    import atexit

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    yield shell
    InteractiveShell.clear_instance()
    # IPython's clean-up at exit would empty the shell's namespace with a full garbage collection, 0.7 s in a test
    # process that has run many tests; with the history in memory, there is nothing to save
    atexit.unregister(shell.atexit_operations)


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    tinygrad_lite.manual_seed(0)
    try:
        import torch
        torch.manual_seed(0)
    except ImportError:
        pass
    yield


# --- lessons/*.ipynb: the browser tests' sample in JupyterLab (tests/test_browser.py), the others by nbval -----

@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_leave_lessons_to_the_browser(config, items):
    """The browser tests run a sample of the lessons (every lesson with TGL_BROWSER_LESSONS=all) top to bottom in
    JupyterLab and fail on any error output, so nbval need not execute those lessons a second time: deselect
    nbval's items of a lesson whose browser test is selected and can run (``browser_unavailable()`` in
    tests/test_browser.py says; Playwright, a Chromium, .venv/).
    `pytest lessons/04_optimizers.ipynb` alone, or a run without a browser, still executes the lessons under nbval.
    trylast: runs after -k, -m and --deselect have chosen the tests."""
    browser_tests = [item for item in items if item.path.name == "test_browser.py" and hasattr(item, "callspec")
                     and "lesson" in item.callspec.params]
    if not browser_tests or browser_tests[0].module.browser_unavailable():
        return
    covered = {item.callspec.params["lesson"] for item in browser_tests}
    lessons = (browser_tests[0].path.parents[1] / "lessons").resolve()

    def run_by_the_browser(item):
        return item.path.suffix == ".ipynb" and item.path.name in covered and item.path.parent.resolve() == lessons

    deselected = [item for item in items if run_by_the_browser(item)]
    if deselected:
        items[:] = [item for item in items if not run_by_the_browser(item)]
        config.hook.pytest_deselected(items=deselected)


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_leave_gpu_lessons_to_the_gpu_check(config, items):
    """benchmarks/gpu_check.sh's dry run (tests/test_gpu_check.py) runs lessons 08, 09 and 10 top to bottom with
    nbclient and fails on any error output or what a learner would see wrong, as nbval's run of them would (these
    lessons have no stored outputs to compare): while that test is selected, nbval's items of those lessons are
    deselected. `pytest lessons/08_gpu_training.ipynb` alone still executes it under nbval."""
    check = [item for item in items if item.path.name == "test_gpu_check.py"]
    if not check:
        return
    lessons = (check[0].path.parents[1] / "lessons").resolve()

    def run_by_the_gpu_check(item):
        return item.path.suffix == ".ipynb" and item.path.name in check[0].module.LESSONS and \
            item.path.parent.resolve() == lessons

    deselected = [item for item in items if run_by_the_gpu_check(item)]
    if deselected:
        items[:] = [item for item in items if not run_by_the_gpu_check(item)]
        config.hook.pytest_deselected(items=deselected)


# --- the checks' tests of one exercise stay on one worker ----------------------------------------------------------

# Files whose tests are parametrized by one exercise (an ``exercise_id`` parameter, or a row of a lesson's WRONG,
# ERRORS or ALSO_RIGHT list, whose id starts with the row's exercise id): they check the same answers of that
# exercise, against the same Reference and the same known mistakes.
BY_EXERCISE = ("test_lessons.py", "test_pipeline_parity.py", "test_mutation.py")
_EXERCISE_ID = re.compile(r"\d\d\.\w+")


def _exercise_of(item):
    """The exercise id a test of BY_EXERCISE is about, or None (a test of a whole lesson, or of no exercise)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "exercise_id" in params:
        return str(params["exercise_id"])
    if item.path.name == "test_lessons.py" and "index" in params:  # a row: its id is "<exercise id>-<index>"
        exercise = item.callspec.id.rsplit("-", 1)[0]
        return exercise if _EXERCISE_ID.fullmatch(exercise) else None
    return None


@pytest.hookimpl(tryfirst=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_group_each_exercises_checks(items):
    """The tests of one exercise ask for the same answers' verdicts many times: tests/test_lessons.py (a wrong
    version's message, every hint tier, the second tier, the generic wrong answers), tests/test_pipeline_parity.py
    (the same wrong versions' records, judged again as grading judges them) and tests/test_mutation.py (the check
    of every mutant). ``lesson_helpers.verdict`` keeps each verdict and its records for the process, and the
    exercise's Reference (the reference's answers, its known mistakes' answers; for a driven exercise such as
    04.MyAdam, some 600 runs of 50 optimizer steps) is built once per process. With the suite spread over workers,
    each exercise's check tests are one ``xdist_group``, so all that is computed once, on one worker, instead of
    once on each (lesson 04's exercises: 204 s of these three files' tests in three processes, 138 s in one,
    measured on an idle machine). A test of a whole lesson
    (tests/test_lessonNN.py, and tests/test_lessons.py's tests of a lesson's notebook) is in its lesson's group.
    tryfirst: before pytest-xdist's own hook reads the xdist_group marks."""
    for item in items:
        if any(True for _ in item.iter_markers("xdist_group")):
            continue
        group = None
        if item.path.name in BY_EXERCISE:
            exercise = _exercise_of(item)
            if exercise is not None:
                group = f"checks-{exercise}"
            elif item.path.name == "test_lessons.py" and hasattr(item, "callspec"):
                lesson = str(item.callspec.params.get("lesson", ""))[:2]
                group = f"lesson{lesson}-checks" if lesson.isdigit() else None
        elif item.path.name.startswith("test_lesson") and item.path.name[11:13].isdigit():
            group = f"lesson{item.path.name[11:13]}-checks"
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
