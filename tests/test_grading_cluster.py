"""Grading on a Dask cluster (``tinygrad-lite grade --scheduler ADDRESS`` / ``--cluster local:N``,
``tinygrad_lite/course/grading/cluster.py``), on one LocalCluster of two worker processes shared by the module:

- a class of lesson 00 (honest: solved, partly solved, known mistakes; hostile: os._exit, a segfault and
  monkeypatching; and a corrupt file: those notebooks of tests/test_grading.py's lesson-00 class, ``LEARNERS``),
  graded on the cluster while one worker process is killed (SIGKILL, once a result came back and others are in
  flight), gives the same files, byte for byte, as grading them on this
  machine with the same secret and options (that class's grading, which tests/test_grading.py's tests read: each
  learner's feedback files, and each learner's row or entry of gradebook.csv, lms.csv and results.json, whose
  "grader" part too; the class's summary counts other learners as well), and each submission is graded and
  stored once; a rerun grades only what was not stored (as after Ctrl-C), to the same files;
- a worker with another course version stops the run before anything is written, in one line that names it;
- Dask is an optional extra: the core install does not require it, grading on one machine never imports it, and
  without it ``--cluster`` says in one line how to install it; the options' errors are one line each.
"""
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinygrad_lite.course import cli
from tinygrad_lite.course.grading import version

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_grading import HOSTILE_00, HOSTILE_TIMEOUT, L00, MODE, NO_KERNEL, graded_lesson00, save, submission

# Dask is found, not imported, when the module is collected: each of the suite's workers collects every file, and
# importing distributed costs about half a second of CPU in each; the tests that use it import it.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason="Dask is the `cluster` extra: pip install -e '.[dev]'")
CLUSTER = pytest.mark.extended  # a cluster or a scheduler address at work: .ci/run runs these after the whole suite

ROOT = Path(__file__).resolve().parents[1]
SECRET = "the same secret on both sides\n"
# One submission of each kind of outcome whose verdict no time limit decides (a loop, a memory bomb and a fork bomb
# end at a time limit, and which limit strikes first can differ between two runs on one machine: README,
# "Outputs"): solved, partly solved, known mistakes (their hints), a kernel the learner's code ends (os._exit, a
# segfault: a kernel's death on a worker is not the worker's), code that is flagged, and a corrupt file. The other
# hostile kinds of tests/test_grading.py (sys.exit, a crash in a cell, printing without end, the network, reading
# the solutions, the references) take the same path through a worker as these and are graded there, on this
# machine: grading them on the cluster too cost about 40 s of a 2-core run and tested no other code.
CLUSTER_KINDS = ("osexit", "segfault", "monkeypatch")
assert set(CLUSTER_KINDS) <= set(HOSTILE_00)
LEARNERS = ("solved", "partial", "mistakes", *CLUSTER_KINDS, "corrupt")  # of tests/test_grading.py's lesson-00 class


@pytest.fixture(scope="module")
def dask_cluster():
    """(LocalCluster, Client): two worker processes of one thread each, as ``--cluster local:2`` starts them."""
    if MODE is None:
        pytest.skip(f"no grading kernel can start here: {NO_KERNEL}")
    import dask
    import distributed

    from tinygrad_lite.course.grading.cluster import QUIET
    with dask.config.set(QUIET):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                           memory_limit=0)
        client = distributed.Client(cluster)
        yield cluster, client
        client.close()
        cluster.close()


def small_class(folder, graded):
    """LEARNERS' folders of the graded lesson-00 class (``graded_lesson00``), copied into ``folder``; their count."""
    for learner in LEARNERS:
        shutil.copytree(graded / learner, folder / learner)
    return len(LEARNERS)


def with_secret(out, secret=SECRET):
    (out / ".work").mkdir(parents=True)
    (out / ".work" / "secret").write_text(secret)
    return out


def files(out, learners=LEARNERS):
    """What a grading wrote about ``learners``, by name: each one's feedback files, and each one's row or entry of
    gradebook.csv, lms.csv and results.json (whose "grader" part too)."""
    found = {p.relative_to(out): p.read_bytes() for learner in learners for p in (out / "feedback" / learner).rglob("*")
             if p.is_file()}
    for name in ("gradebook.csv", "lms.csv"):
        lines = (out / name).read_text(encoding="utf-8").splitlines()
        found[name, "header"] = lines[0]
        found.update(((name, line.split(",", 1)[0]), line) for line in lines[1:]
                     if line.split(",", 1)[0] in learners)
    document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    found["results.json", "grader"] = document["grader"]
    found.update((("results.json", r["learner"]), r) for r in document["submissions"] if r["learner"] in learners)
    return found


# The tests on the LocalCluster are one xdist group: with the suite spread over workers (run.py's --dist loadgroup),
# one worker starts the cluster, not each. It is tests/test_grading.py's lesson-00 group: the class graded there
# once is the one compared with, not graded a second time here.
@CLUSTER
@pytest.mark.xdist_group("grading-lesson00-class")
def test_a_killed_worker_changes_no_grade(dask_cluster, tmp_path, tmp_path_factory):
    """The class graded on the cluster, one worker killed mid-run, gives the files grading it here gave."""
    from tinygrad_lite.course.grading import Settings, grade
    cluster, client = dask_cluster
    here = graded_lesson00(tmp_path_factory)[2]  # graded on this machine, with --jobs 2 (tests/test_grading.py)
    folder = tmp_path / "class"
    n = small_class(folder, here.parent / "class")
    for learner in LEARNERS:
        assert len(list(folder.glob(f"{learner}/*.ipynb"))) == 1 and (here / "feedback" / learner).is_dir(), learner

    killed = {}

    def kill_one_busy_worker(k, total, result, seconds):
        """After the first answer that came back from a worker: SIGKILL a worker process that has a submission."""
        if killed or not result.exercises or seconds is None:
            return
        busy = [address for address, keys in client.processing().items() if keys]
        if busy:
            pids = client.run(os.getpid)
            killed.update(address=busy[0], pid=pids[busy[0]], left=total - k)
            os.kill(pids[busy[0]], signal.SIGKILL)

    there = with_secret(tmp_path / "there", (here / ".work" / "secret").read_text())
    settings = Settings(timeout=HOSTILE_TIMEOUT, total_timeout=120, max_output=5, lesson="00")  # lesson00's options
    results = grade([folder], there, settings, progress=kill_one_busy_worker, cluster=cluster.scheduler_address)
    assert killed, "no worker had a submission in flight when the first answer came back"
    assert len(results) == n
    assert len(list((there / ".work" / "done").glob("*.json"))) == n  # each graded and stored once
    local, remote = files(here), files(there)
    assert local.keys() == remote.keys() and len(local) > 4 * n
    assert [str(p) for p in local if local[p] != remote[p]] == []
    by_learner = {r.learner: r for r in results}
    assert by_learner["solved"].total == 5 and by_learner["monkeypatch"].status == "flagged"
    assert by_learner["segfault"].total == 3 and by_learner["corrupt"].status == "unreadable"
    for path in (there / ".work" / "done").glob("*.json"):  # as if Ctrl-C had stopped the run before this grade
        if json.loads(path.read_text())["learner"] == "mistakes":
            path.unlink()
    graded = []
    grade([folder], there, settings, progress=lambda k, total, result, seconds: graded.append((result.learner,
                                                                                                seconds)),
          cluster=cluster.scheduler_address)
    assert [learner for learner, seconds in graded if seconds is not None] == ["mistakes"]  # the rest: stored
    again = files(there)
    assert [str(p) for p in local if local[p] != again[p]] == []


@CLUSTER
@pytest.mark.xdist_group("grading-lesson00-class")
def test_a_worker_with_another_course_version_stops_the_run(dask_cluster, tmp_path, capsys):
    cluster, client = dask_cluster
    victim = sorted(client.scheduler_info()["workers"])[0]  # the first: the others are compared with it
    folder, out = tmp_path / "class", tmp_path / "out"
    save(folder, "solved", submission(L00), f"{L00}.ipynb")
    client.run(lambda: (setattr(version, "real_course_digest", version.course_digest),
                        setattr(version, "course_digest", lambda: "f" * 64)), workers=[victim])
    try:
        status = cli.main(["grade", str(folder), "--out", str(out), "--scheduler", cluster.scheduler_address])
    finally:
        client.run(lambda: setattr(version, "course_digest", version.real_course_digest), workers=[victim])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert f"worker {victim} has another version of the course" in err[0] and "ffffffffffff" in err[0]
    assert not out.exists()  # nothing written, not even the output folder


def test_without_dask_cluster_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    folder = tmp_path / "class"
    save(folder, "solved", submission(L00), f"{L00}.ipynb")
    assert cli.main(["grade", str(folder), "--out", str(tmp_path / "out"), "--cluster", "local:2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "tinygrad_lite[cluster]"' in err[0], err


@pytest.mark.parametrize("arguments, says", [
    (["--cluster", "local:2", "--jobs", "2"], "--jobs is for one machine"),
    (["--scheduler", "tcp://127.0.0.1:1", "--jobs", "1"], "--jobs is for one machine"),
    (["--cluster", "local:0"], "expected local:N"),
    (["--cluster", "slurm"], "expected local:N"),
    (["--cluster", "local:2", "--scheduler", "tcp://127.0.0.1:1"], "not allowed with"),
])
def test_cluster_options_errors_are_one_line(arguments, says, tmp_path, capsys):
    try:
        status = cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), *arguments])
    except SystemExit as e:
        status = e.code
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and "Traceback" not in err[0], err


@CLUSTER
@pytest.mark.parametrize("reply, says", [
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "is not a Dask scheduler"),  # (read as a length: 3 EiB, MemoryError)
    (None, "is it the dashboard's port?"),  # accepts and never answers: distributed.Client alone hangs there
])
def test_a_scheduler_address_where_no_scheduler_answers_is_one_line(reply, says, tmp_path, capsys, monkeypatch):
    """--scheduler at a server that is not Dask's (a review found both: an HTTP reply made an "unexpected
    MemoryError ... please report this", the scheduler's dashboard port a hang with no output and no limit)."""
    pytest.importorskip("distributed")
    import socket
    import threading

    from tinygrad_lite.course.grading import cluster as clusters
    monkeypatch.setattr(clusters, "ANSWER_WITHIN", 3)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if reply is None:
                held.append(conn)  # (kept open, silent)
            else:
                conn.sendall(reply)
                conn.close()
    threading.Thread(target=serve, daemon=True).start()
    save(tmp_path / "class", "solved", submission(L00), f"{L00}.ipynb")
    try:
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        status = cli.main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--scheduler", address])
    finally:
        server.close()
        for conn in held:
            conn.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "no Dask cluster to grade on" in err[0] and says in err[0], err
    assert "please report" not in err[0]


def test_help_names_the_cluster_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["grade", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("--scheduler ADDRESS", "--cluster local:N", 'pip install "tinygrad_lite[cluster]"',
                  "not with --cluster or --scheduler"):
        assert words in text


def test_the_core_install_does_not_pull_dask():
    """Dask is the `cluster` extra: no requirement of the core install names it (the installed package's metadata
    and pyproject.toml), and the command line and grading on one machine import no Dask."""
    from importlib.metadata import requires
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    core = [r for r in requires("tinygrad_lite") or [] if "extra ==" not in r]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core += project["dependencies"]
    assert core and not [r for r in core if r.lower().startswith(("dask", "distributed"))], core
    assert any(r.startswith("dask[distributed]") for r in project["optional-dependencies"]["cluster"])
    code = ("import sys; from tinygrad_lite.course import cli; from tinygrad_lite.course.grading import grader, "
            "session, sandbox; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


def test_a_scheduler_without_workers_says_it_waits_and_then_names_the_fix(capsys):
    from tinygrad_lite.course.grading import cluster as clusters
    from tinygrad_lite.course.grading.errors import UsageError

    class NoWorkers:  # a scheduler that has had no worker, and gets none within the wait
        def scheduler_info(self):
            return {"workers": {}}

        def wait_for_workers(self, n, timeout):
            raise TimeoutError
    with pytest.raises(UsageError, match=r"has had no worker for 300 s: start workers \(dask worker tcp://h:1\)"):
        clusters.check_workers(NoWorkers(), "tcp://h:1", None, "course")
    assert capsys.readouterr().out == ("--scheduler tcp://h:1: no worker yet; waiting up to 300 s for one (start one "
                                       "with dask worker tcp://h:1; Ctrl-C stops)\n")


def test_the_scheduler_probe_runs_under_a_running_event_loop():
    """grade may be called where an event loop runs (a notebook's kernel; an xdist worker whose earlier test left
    one): the probe has a thread and a loop of its own (asyncio.run in the caller's thread refused, in CI)."""
    pytest.importorskip("distributed")
    import asyncio
    import socket
    import threading

    from tinygrad_lite.course.grading import cluster as clusters
    silent = socket.socket()  # takes the connection, never answers: Dask's own connect and read run in the probe
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)

    async def from_a_running_loop():
        return clusters.not_a_scheduler(f"tcp://127.0.0.1:{silent.getsockname()[1]}", 1)
    said = []  # (a thread of the test's own runs the loop: this thread may have one running already)
    runner = threading.Thread(target=lambda: said.append(asyncio.run(from_a_running_loop())))
    runner.start()
    runner.join(30)
    silent.close()
    assert said and said[0].startswith("something there took the connection but never answered"), said
    assert "event loop" not in said[0]
    for address in ("tcp://127.0.0.1:1", "127.0.0.1:1"):  # nothing listens: said at once, with the fix
        start = time.perf_counter()
        said = clusters.not_a_scheduler(address, 60)
        assert said.startswith("nothing listens there (connection refused): start the scheduler (dask scheduler)")
        assert time.perf_counter() - start < 10, "a refused connection waited for Dask's connect time-out"
