"""How pytest runs this repository's notebooks and tests, whichever paths it is given (``pytest solutions`` too:
this file is loaded for every path below the repository, tests/conftest.py only for tests/).

- One thread per process. The suite runs on pytest-xdist workers, one per core, and each notebook in a kernel of
  its own. Numpy's OpenBLAS and PyTorch's OpenMP threads would then compete for the same cores, and PyTorch's
  threads wait for each other by spinning: on a busy 2-core machine a small training loop took 12 s instead of
  1 s. The variables are set before a worker or a kernel loads numpy or PyTorch (they inherit this process's
  environment); a value set by the caller wins (``.ci/run``'s second pass sets another thread count).
- A notebook's cells run in order in one kernel, so with ``--dist loadgroup`` (run.py's default) they stay on one
  worker: each notebook is an ``xdist_group`` of its own. Other tests are spread one by one.
- nbval compares the output of each cell marked ``# NBVAL_CHECK_OUTPUT`` with the stored one. On a loaded
  machine the kernel itself can write to its stderr (ipykernel's "IOStream.flush timed out"), which ipykernel
  forwards into the cell's output: compare what the cell prints and shows, not stderr.
- A kernel that dies while it starts is started again (twice at most). jupyter_client picks free TCP ports for a
  kernel, then the kernel binds them; with several workers starting kernels at once, another process can take a
  port in between, and the kernel exits before it answers ("Kernel died before replying to kernel_info": seen
  once in .ci/run's second pass, every cell of that notebook an error). A second start picks other ports.
- nbval runs the solutions with PyTorch (their stored comparisons with it are compared) and the unsolved lessons
  (in .ci/run's second pass, or named: ``pytest lessons``) without it, as on a learner's machine that has none:
  each cell marked "# needs PyTorch" then says how to install it, no other cell may need what such a cell made,
  and the outputs must still be what a learner should see (a figure without PyTorch's lines was once too wide),
  and the lessons' kernels spend no time on PyTorch (a quarter of their CPU time before). The lessons run
  unsolved with PyTorch in the extended tier: 00 and 03 in the browser tests, 08 to 10 in the GPU check's dry run,
  the others in tests/test_pytorch_optional.py.
- What a learner would see wrong in a notebook's outputs fails its cell, as the browser tests fail it on the page
  (``output_problems`` in tests/notebook_outputs.py): a traceback printed without raising (nbval fails only on
  raised errors), tqdm's "IProgress not found", a printed line that JupyterLab would wrap, a figure it would
  shrink. The browser tests run a sample of the lessons in JupyterLab; nbval runs every other lesson (every lesson
  when they do not run), and this keeps their outputs to the same standard.
- Two tiers. The whole suite (no paths given, or every one of ``testpaths``; no -k, -m, --lf or --sw), which the
  README's test command runs, leaves out the tests marked ``extended``: end-to-end runs of the tools in other
  processes, kernels or a browser (JupyterLab in Chromium, the GPU machine's dry run, grading's sandboxes, cluster,
  infrastructure failures, roster runs and Gradescope autograder, a second graded class, the notebook tools' time
  limits and interrupts, the benchmarks) and two sweeps (every mutant's verdict, random bad arguments to every API).
  ``.ci/run`` runs them after the whole suite (``python3 run.py test -m extended``); ``--extended`` runs both tiers
  at once, and naming a test file or folder runs its extended tests too. Without the browser and GPU tests, nbval
  executes the lessons they would. The whole suite also leaves out nbval's runs of the unsolved lessons (a sixth
  of its CPU time; nothing in them is compared, they must only run): .ci/run's second pass runs every lesson
  (``python3 run.py test solutions lessons``), and tests/test_hosted.py every lesson from the wheel.
- A time budget per test file (``TimeBudget``, benchmarks/test_budget.json): a run of the whole suite fails when
  a file's tests took much longer than its budget says, so that the README's test command stays within its five
  minutes; ``--record-time-budget`` records this run's times as the new budget.
"""
import datetime
import functools
import json
import logging
import os
import platform
import statistics
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))  # (as pytest does when it imports a test)
from notebook_outputs import output_problems

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.suffix != ".ipynb":
            continue
        item.add_marker(pytest.mark.xdist_group(f"notebook:{item.path.parent.name}/{item.path.name}"))
        notebook = item.parent
        if hasattr(notebook, "skip_compare") and "stderr" not in notebook.skip_compare:
            notebook.skip_compare += ("stderr",)



def runs_every_testpath(config):
    """Whether this run was given no paths (pytest's ``testpaths``) or every one of them."""
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        return True
    given = {Path(config.invocation_params.dir, a).resolve() for a in config.args}
    return all(Path(config.rootpath, t).resolve() in given for t in config.getini("testpaths"))


def leaves_out_extended(config):
    """Whether this run leaves out the tests marked ``extended``: a run of the whole suite without -k, -m or
    --extended (see the module's docstring), nor --lf or --sw, which pick the tests that failed last, extended or
    not."""
    option = config.option
    chosen = ("keyword", "markexpr", "extended", "lf", "stepwise", "stepwise_skip")
    return runs_every_testpath(config) and not any(getattr(option, name, None) for name in chosen)


def runs_the_whole_suite(config):
    """Whether this run is every test of the whole suite (the README's test command): a run that leaves out the
    extended tests (no -k, -m, --lf, --sw or --extended) and no test or path either (--deselect, --ignore)."""
    option = config.option
    return leaves_out_extended(config) and not any(getattr(option, name, None)
                                                   for name in ("deselect", "ignore", "ignore_glob"))


def unsolved_lesson(item):
    """nbval's item of a cell of an unsolved lesson (lessons/NN_name.ipynb)."""
    return item.path.suffix == ".ipynb" and item.path.parent.name == "lessons"


@pytest.hookimpl(specname="pytest_collection_modifyitems")  # before tests/conftest.py's trylast hooks
def pytest_collection_modifyitems_leave_extended_to_ci(config, items):
    """The whole suite leaves out the extended tests and the unsolved lessons' runs (see the module's docstring)."""
    if not leaves_out_extended(config):
        return
    left_out = [item for item in items if item.get_closest_marker("extended") or unsolved_lesson(item)]
    if left_out:
        items[:] = [item for item in items if not (item.get_closest_marker("extended") or unsolved_lesson(item))]
        config.hook.pytest_deselected(items=left_out)


@pytest.hookimpl(trylast=True)  # after the slowest durations, before the short summary
def pytest_terminal_summary(terminalreporter, config):
    if leaves_out_extended(config) and not hasattr(config, "workerinput"):
        terminalreporter.write_line("the tests marked `extended` were left out (.ci/run runs them): "
                                    "python3 run.py test -m extended")
        terminalreporter.write_line("and so were the unsolved lessons (.ci/run's second pass runs them): "
                                    "python3 run.py test lessons")


class _GroupsTookEffect:
    """With ``--dist loadgroup``, a worker's tests of a group must carry the group's name in their ids, or xdist
    spreads a notebook's cells over several workers (a cell then runs without the cells before it: NameErrors).
    pytest 9.2 broke this (pytest-xdist issue 1386; constraints.txt pins 9.1.1). Then every notebook cell fails
    with a message that says why, instead of a NameError far from the cause."""

    @pytest.hookimpl(trylast=True)  # after pytest-xdist has added each group's name to its tests' ids
    def pytest_collection_modifyitems(self, config, items):
        if not getattr(config.option, "loadgroup", False):  # set on xdist's workers for --dist loadgroup
            return
        message = (f"pytest-xdist did not keep this notebook's cells on one worker (pytest {pytest.__version__}, "
                   "--dist loadgroup): install the pytest that constraints.txt pins, or run with --dist loadfile")
        for item in items:
            if any(True for _ in item.iter_markers("xdist_group")) and "@" not in item.nodeid:
                item.runtest = lambda: pytest.fail(message, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After nbval ran a notebook's cell: its outputs as a learner would see them (``output_problems``)."""
    result = yield
    outputs = getattr(item, "test_outputs", None) if item.path.suffix == ".ipynb" else None
    problems = [p for output in outputs or () for p in output_problems(output)]
    if problems:
        raise AssertionError(f"{item.path.name}, {item.name}: what a learner would see is wrong:\n  "
                             + "\n  ".join(problems))
    return result


def _retrying(start, attempts=None):
    """``start`` (nbval's start_new_kernel) tried again when the kernel dies while it starts (see above), by the
    rule of the course's own runner (``runner.died_while_starting``; imported here, after the thread settings)."""
    from tinygrad_lite.course import runner
    attempts = attempts or runner.START_ATTEMPTS

    @functools.wraps(start)
    def start_again_if_it_died(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError as error:
                if not runner.died_while_starting(error) or attempt == attempts:
                    raise
                logging.getLogger(__name__).warning("kernel died while starting (%s); starting it again", error)
    start_again_if_it_died.retrying = True
    return start_again_if_it_died


LESSONS = Path(__file__).resolve().parent / "lessons"
# run by a kernel as it starts: ``import torch`` then fails as without PyTorch, and the lesson's cells marked
# "# needs PyTorch" say how to install it (tinygrad_lite/course/pytorch.py reads a None there as not installed).
# It runs in the notebook's namespace, so it leaves no name there (an ``import sys`` would hide a lesson's missing one)
HIDE_TORCH = "--IPKernelApp.exec_lines=__import__('sys').modules['torch'] = None"


# nbclient's kernels keep their input history in memory; nbval's would write every cell of every notebook the suite
# runs to the user's own IPython history (~/.ipython/profile_default/history.sqlite), several kernels at once
IN_MEMORY_HISTORY = "--HistoryManager.hist_file=:memory:"


def _lessons_without_torch(start):
    """``start`` (nbval's start_new_kernel) starting the kernels of lessons/ without PyTorch (nbval starts a
    notebook's kernel in the notebook's folder): see the module's docstring. Every kernel keeps its history in
    memory (IN_MEMORY_HISTORY)."""
    @functools.wraps(start)
    def start_kernel(*args, **kwargs):
        extra = [*kwargs.get("extra_arguments", []), IN_MEMORY_HISTORY]
        if kwargs.get("cwd") and Path(kwargs["cwd"]).resolve() == LESSONS:
            extra.append(HIDE_TORCH)
        kwargs["extra_arguments"] = extra
        return start(*args, **kwargs)
    start_kernel.retrying = True
    return start_kernel


def pytest_addoption(parser):
    parser.addoption("--extended", action="store_true", default=False,
                     help="with the whole suite, also run the tests marked `extended` (see conftest.py), which "
                          "it otherwise leaves to .ci/run")
    parser.addoption("--record-time-budget", action="store_true", default=False,
                     help="after a run of the whole suite, write each test file's time to "
                          "benchmarks/test_budget.json as its new budget (see conftest.py, TimeBudget)")


class TimeBudget:
    """Each test file's tests must take at most its budget: the seconds in benchmarks/test_budget.json, recorded from
    a measured run (``python3 run.py test --record-time-budget``), times the file's ``margin.factor`` (2) and the
    run's load, plus ``margin.seconds`` (20). The load is how much slower than the recorded run this run is over all
    files (the median of the files' ratios, at least 1), so that a loaded or slower machine does not fail the run
    while a file that grew cannot excuse itself. The time of a file is the sum of its tests' durations (set-up,
    call and tear-down) as pytest reports them to this process: on pytest-xdist's controller, from every worker. A
    file over budget fails the run, and the summary names it.

    Only a run of the whole suite is compared (no paths given, or every one of ``testpaths``; no -k, -m,
    --deselect, --lf, --extended ...; in one process, or spread as run.py spreads it, --dist loadgroup): the files
    share work (tests/conftest.py keeps each exercise's checks on one worker), so a file run alone may take longer
    than its share of the suite. A file whose count of skipped tests differs from the recorded run's (the GPU
    tests, the sandbox's) ran other tests than its budget's, and is not compared; a file the budget does not name
    has a budget of 0 s (its margin)."""

    PATH = Path(__file__).resolve().parent / "benchmarks" / "test_budget.json"
    LOAD_FROM = 5.0  # seconds: the files recorded with at least this many give the run's load

    def __init__(self, config):
        self.config, self.seconds, self.tests, self.skipped, self.lines = config, Counter(), Counter(), Counter(), []

    def pytest_runtest_logreport(self, report):
        where = report.nodeid.split("::")[0]
        self.seconds[where] += report.duration
        if report.when == "call" or (report.when == "setup" and not report.passed):  # one outcome per test
            self.tests[where] += 1
            self.skipped[where] += report.skipped

    def whole_suite(self):
        """The whole suite, spread as run.py spreads it (--dist loadfile: other workers share work)."""
        return runs_the_whole_suite(self.config) and getattr(self.config.option, "dist", "no") in ("no", "loadgroup")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if not self.seconds or not self.whole_suite():
            return
        if self.config.getoption("record_time_budget"):
            self.record()
        elif self.PATH.exists() and self.over_budget():
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if not self.readme_counts_the_tests():
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    README_COUNT = r"runs the whole suite: about ([\d,]+) tests"

    def readme_counts_the_tests(self):
        """The README says how many tests the suite runs ("about 8,200 tests"): a run of the whole suite counts
        them, and fails when the README is more than 10% off, so that the figure is never an old one."""
        import re
        readme = Path(self.config.rootpath, "README.md")
        found = re.search(self.README_COUNT, readme.read_text(encoding="utf-8")) if readme.exists() else None
        if not found:
            return True
        said, ran = int(found.group(1).replace(",", "")), sum(self.tests.values())
        if abs(ran - said) <= 0.1 * said:
            return True
        self.lines.append(f"README.md says the suite runs about {said:,} tests; this run counted {ran:,}: write "
                          f"about {round(ran, -2):,} there")
        return False

    def record(self):
        budget = {"about": "seconds of each test file's tests in one run of the whole suite (conftest.py, "
                           "TimeBudget); a run fails when a file takes more than its seconds times margin.factor "
                           "times the run's load, plus margin.seconds. Recorded with "
                           "`python3 run.py test --record-time-budget`.",
                  "recorded": f"{datetime.date.today()} on {os.cpu_count()} cores, {platform.python_version()}, "
                              f"load average {os.getloadavg()[0]:.1f} at the end",
                  "margin": {"factor": 2.0, "seconds": 20},
                  "files": {f: {"seconds": round(self.seconds[f], 1), "tests": self.tests[f],
                                "skipped": self.skipped[f]} for f in sorted(self.seconds)}}
        if self.PATH.exists():  # a margin set by hand is kept
            budget["margin"] = json.loads(self.PATH.read_text(encoding="utf-8")).get("margin", budget["margin"])
        files = budget.pop("files")  # one line per file, so that a change of the budget reads as a diff of lines
        head = json.dumps(budget, indent=1)[:-2]
        self.PATH.write_text(head + ',\n "files": {\n' + ",\n".join(f"  {json.dumps(f)}: {json.dumps(files[f])}"
                                                                   for f in files) + "\n }\n}\n", encoding="utf-8")
        self.lines = [f"recorded {len(self.seconds)} files, {sum(self.seconds.values()):.0f} s of tests in all, in "
                      f"{self.PATH.relative_to(self.config.rootpath)}"]

    def over_budget(self):
        budget = json.loads(self.PATH.read_text(encoding="utf-8"))
        factor, margin, files = budget["margin"]["factor"], budget["margin"]["seconds"], budget["files"]
        compared = [f for f in self.seconds if f not in files or files[f]["skipped"] == self.skipped[f]]
        other = sorted(f for f in self.seconds if f not in compared)
        ratios = [self.seconds[f] / files[f]["seconds"] for f in compared
                  if files.get(f, {}).get("seconds", 0) >= self.LOAD_FROM]
        load = max(1.0, statistics.median(ratios)) if ratios else 1.0
        over = []
        for f in sorted(compared, key=lambda f: -self.seconds[f]):
            recorded = files.get(f, {}).get("seconds", 0.0)
            allowed = recorded * factor * load + margin
            if self.seconds[f] > allowed:
                over.append(f"{f}: {self.seconds[f]:.0f} s, over its {allowed:.0f} s ("
                            + (f"budget {recorded:.0f} s" if f in files else "not in the budget") + ")")
        self.lines = [f"{len(compared)} files compared with {self.PATH.relative_to(self.config.rootpath)} "
                      f"(budget x {factor} x load {load:.2f} + {margin} s), {sum(self.seconds.values()):.0f} s of "
                      f"tests in all, {sum(files[f]['seconds'] for f in files):.0f} s recorded"]
        if other:
            self.lines.append(f"not compared (other tests skipped than when recorded): {', '.join(other)}")
        self.lines += self.largest(files)
        if over:
            self.lines += ["OVER BUDGET: " + line for line in over]
            self.lines.append("make the tests faster, or if the time is worth it, record the budget again: "
                              "python3 run.py test --record-time-budget")
        return bool(over)

    def largest(self, files, count=12):
        """The files that took the most time, each with its budget: where to look first for savings."""
        lines = [f"the {count} files that took the most time (their budget's seconds in brackets):"]
        for f in sorted(self.seconds, key=lambda f: -self.seconds[f])[:count]:
            recorded = files.get(f, {}).get("seconds")
            lines.append(f"  {self.seconds[f]:7.1f} s  ({'-' if recorded is None else f'{recorded:.0f} s'})  {f}")
        return lines

    @pytest.hookimpl(tryfirst=True)  # before the slowest durations, which end the run
    def pytest_terminal_summary(self, terminalreporter):
        if self.lines:
            terminalreporter.section("time budget")
            for line in self.lines:
                terminalreporter.write_line(line)


def pytest_configure(config):
    config.pluginmanager.register(_GroupsTookEffect(), "tinygrad_lite_groups_took_effect")
    if not hasattr(config, "workerinput"):  # pytest-xdist's workers report to the controller, which adds up
        config.pluginmanager.register(TimeBudget(config), "tinygrad_lite_time_budget")
    try:
        import nbval.kernel as nbval_kernel  # RunningKernel calls this module's start_new_kernel
    except ImportError:  # nbval is optional here (a run without notebooks)
        return
    if not getattr(nbval_kernel.start_new_kernel, "retrying", False):
        nbval_kernel.start_new_kernel = _lessons_without_torch(_retrying(nbval_kernel.start_new_kernel))
