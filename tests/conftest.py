"""Shared test set-up: every test starts from the same seeds, and hypothesis runs the same examples every time.
(How pytest runs notebooks and spreads the suite over workers is in the repository's conftest.py.)"""
import random

import numpy as np
import pytest
from hypothesis import settings

import tinygrad_lite

settings.register_profile("repeatable", derandomize=True, deadline=None, max_examples=40, print_blob=True)
settings.load_profile("repeatable")


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


# --- lessons/*.ipynb: run by the browser tests (tests/test_browser.py) when they run, else by nbval -------------

@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_leave_lessons_to_the_browser(config, items):
    """The browser tests run every lesson top to bottom in JupyterLab and fail on any error output, so nbval need
    not execute the same lesson a second time: deselect nbval's items of a lesson whose browser test is selected
    and can run (``browser_unavailable()`` in tests/test_browser.py says; Playwright, a Chromium, .venv/).
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


# --- the checks' tests of one lesson stay on one worker ------------------------------------------------------------

@pytest.hookimpl(tryfirst=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_group_each_lessons_checks(items):
    """tests/test_lessons.py (parametrized by lesson) and tests/test_lessonNN.py ask for the same wrong versions'
    verdicts many times (their message, every hint tier, the second tier: see ``lesson_helpers.verdict``, which
    keeps them for the process). With the suite spread over workers, each lesson's check tests are one
    ``xdist_group``, so those verdicts are computed once, on one worker, instead of once on each.
    tryfirst: before pytest-xdist's own hook reads the xdist_group marks."""
    for item in items:
        lesson = None
        if item.path.name == "test_lessons.py" and hasattr(item, "callspec"):
            lesson = str(item.callspec.params.get("lesson", ""))[:2]
        elif item.path.name.startswith("test_lesson") and item.path.name[11:13].isdigit():
            lesson = item.path.name[11:13]
        if lesson and lesson.isdigit() and not any(True for _ in item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(f"lesson{lesson}-checks"))
