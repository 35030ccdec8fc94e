"""A fault of the grading machines is never a learner's grade (``grading/probe.py``, issue 31):

- on one machine and on a Dask cluster, before the first submission, each place that runs kernels grades the
  instructor's solution of the first exercise (the canary); a place where a grading kernel cannot start (here: a
  Python environment whose IPython is broken, as on a worker installed without it) is named with what failed and
  the install line, and gets no submission: one machine stops, a cluster leaves that worker out, and stops only
  when none is left; after the fix the same command grades everyone, nothing deleted by hand;
- a kernel that cannot start later, mid-run, makes the submission "not graded (infrastructure: ...)": no total, no
  stored grade, feedback that says so, exit status 3; the next run grades it;
- ``--regrade`` takes ``incidents``, ``all`` or a learner id, and refuses an unknown learner in one line.

The broken environment is a virtual environment without pip (made in a second) that sees the course's packages
through a ``.pth`` file and holds an ``IPython`` of its own that cannot be imported: the kernel, started as
``python -I`` with that interpreter, fails as it does where IPython is missing; deleting that folder is the fix.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import venv
from pathlib import Path

import pytest

from tinygrad_lite.course import cli
from tinygrad_lite.course.grading import probe
from tinygrad_lite.course.grading import sandbox as sandboxes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from processes import stop
from test_grading import L00, MODE, NO_KERNEL, ROW_OK, results_of, save, submission

pytestmark = [pytest.mark.skipif(MODE is None, reason=f"no grading kernel can start here: {NO_KERNEL}"),
              pytest.mark.extended]  # (.ci/run runs it after the whole suite: conftest.py)
ROOT = Path(__file__).resolve().parents[1]
NAME = f"{L00}.ipynb"
BROKEN = "No module named 'IPython'"


def small_class(folder):
    save(folder, "solved", submission(L00), NAME)
    save(folder, "partial", submission(L00, {"00.row_normalize": ROW_OK}, base="lessons"), NAME)
    return {"solved": 5.0, "partial": 1.0}


@pytest.fixture
def broken_python():
    """A Python whose grading kernels cannot start (see the module's docstring): (its interpreter, the folder to
    delete to fix it). In a folder every user can enter (as root, the kernels run as a user of their own)."""
    where = Path(tempfile.mkdtemp(prefix="tgl-broken-env-"))
    where.chmod(0o755)
    venv.EnvBuilder(with_pip=False, symlinks=True).create(where)
    purelib = Path(subprocess.run([str(where / "bin" / "python"), "-c", "import sysconfig; print(sysconfig."
                                   "get_paths()['purelib'])"], capture_output=True, text=True, check=True
                                  ).stdout.strip())
    (purelib / "course.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{ROOT}\n")
    shadow = purelib / "IPython"
    shadow.mkdir()
    (shadow / "__init__.py").write_text(f"raise ModuleNotFoundError({BROKEN!r}, name='IPython')\n")
    yield where / "bin" / "python", shadow
    shutil.rmtree(where, ignore_errors=True)


def skip_unless_limits_only_works():
    """Both tests of a broken environment grade with --sandbox none (the broken environment reaches the course
    through a .pth file, which bubblewrap does not show its kernels). As root, with the course in a private
    folder (benchmarks/suite_time.sh clones into one), no kernel can start that way: grade says so in one line
    (tests/test_grading_private.py), and these tests have nothing to show."""
    try:
        sandboxes.choose("none")
    except RuntimeError as e:
        pytest.skip(f"--sandbox none cannot start a grading kernel here: {str(e)[:200]}")


def run_cli(python, *arguments):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
    return subprocess.run([str(python), "-c", "import sys; from tinygrad_lite.course import cli; "
                           "sys.exit(cli.main(sys.argv[1:]))", "grade", *map(str, arguments)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def totals(out):
    return {learner: r["total"] for learner, r in results_of(out)[0].items()}


def test_a_machine_whose_kernels_cannot_start_grades_no_one_then_everyone_after_the_fix(tmp_path, broken_python):
    skip_unless_limits_only_works()
    python, shadow = broken_python
    folder, out = tmp_path / "class", tmp_path / "out"
    expected = small_class(folder)
    done = run_cli(python, folder, "--out", out, "--lesson", "0", "--sandbox", "none")
    err = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(err) == 1, done.stderr
    assert "this machine cannot grade" in err[0] and BROKEN in err[0] and probe.INSTALL in err[0], err[0]
    assert not (out / "gradebook.csv").exists() and not list((out / ".work").glob("done/*"))
    shutil.rmtree(shadow)  # the fix; nothing in OUTDIR is touched
    done = run_cli(python, folder, "--out", out, "--lesson", "0", "--sandbox", "none")
    assert done.returncode == 0, done.stderr
    assert totals(out) == expected


def test_a_kernel_that_cannot_start_mid_run_is_not_graded_and_graded_next_time(tmp_path, monkeypatch, capsys):
    folder, out = tmp_path / "class", tmp_path / "out"
    expected = small_class(folder)
    real = sandboxes.python_command
    monkeypatch.setattr(probe, "here", lambda *a: None)  # as if the machine broke after the check before grading
    monkeypatch.setattr(sandboxes, "python_command", lambda limits: [
        sys.executable, "-I", "-c", f"raise ModuleNotFoundError({BROKEN!r})"])
    status = cli.main(["grade", str(folder), "--out", str(out), "--lesson", "00"])
    captured = capsys.readouterr()
    assert status == 3, captured.err
    assert "2 submission(s) not graded for a fault of the grading machines" in captured.err
    assert captured.out.count(f"not graded (infrastructure: a grading kernel could not start: "
                              f"ModuleNotFoundError: {BROKEN})") == 2
    assert "graded 0 of 2 submission(s)" in captured.out
    by_learner, _ = results_of(out)
    assert {r["status"] for r in by_learner.values()} == {"not graded"}
    assert not list((out / ".work" / "done").glob("*.json"))  # no grade stored
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert all(",,5,not graded," in row for row in rows[1:]), rows  # no total: an empty cell, not a 0
    assert ",," in (out / "lms.csv").read_text().splitlines()[1] + ",,"
    text = (out / "feedback" / "solved" / f"{L00}.md").read_text()
    assert "Not graded yet" in text and "not your notebook" in text
    assert "2 submission(s) not graded" in (out / "summary.md").read_text()
    monkeypatch.setattr(sandboxes, "python_command", real)  # the fix
    assert cli.main(["grade", str(folder), "--out", str(out), "--lesson", "00"]) == 0
    assert totals(out) == expected
    captured = capsys.readouterr()
    assert "stored grade" not in captured.out  # both graded now, none was kept from the broken run


def test_regrade_takes_incidents_all_or_a_learner(tmp_path, capsys):
    folder, out = tmp_path / "class", tmp_path / "out"
    save(folder, "partial", submission(L00, {"00.row_normalize": ROW_OK}, base="lessons"), NAME)
    save(folder, "loud", submission(L00, {"00.pairwise_sq_distances": "def pairwise_sq_distances(a, b):\n"
                                                                      "    print('x' * 2_000_000)\n"}), NAME)
    arguments = ["grade", str(folder), "--out", str(out), "--lesson", "00", "--max-output", "1", "--jobs", "2"]
    assert cli.main(arguments) == 0
    assert results_of(out)[0]["loud"]["status"] == "incident"  # its output limit

    def graded_again(*extra):
        capsys.readouterr()
        assert cli.main([*arguments, *extra]) == 0
        lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
        return sorted(line.split()[1] for line in lines if "stored grade" not in line)
    assert graded_again() == []
    assert graded_again("--regrade", "incidents") == ["loud"]
    assert graded_again("--regrade", "partial") == ["partial"]
    assert graded_again("--regrade", "all") == ["loud", "partial"]
    assert cli.main([*arguments, "--regrade", "nobody"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--regrade nobody: no such learner" in err[0] and "partial" in err[0], err
    fresh = tmp_path / "never"  # refused before anything is written: no output folder, no secret
    assert cli.main([*arguments[:3], str(fresh), *arguments[4:], "--regrade", "nobody"]) == 2
    assert not fresh.exists() and "no such learner" in capsys.readouterr().err


# -------------------------------------------------------------------- on a Dask cluster
distributed = pytest.importorskip("distributed", reason="Dask is the `cluster` extra: pip install -e '.[dev]'")


def start_worker(python, address, tmp_path, name):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
    env.update(DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED="False")
    log = open(tmp_path / f"{name}.log", "w")
    process = subprocess.Popen([str(python), "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                "--no-dashboard", "--name", name, "--local-directory", str(tmp_path / name)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, log


@pytest.mark.xdist_group("grading-cluster")
def test_a_worker_that_cannot_run_kernels_grades_no_one_and_is_named_with_the_fix(tmp_path, capsys, broken_python):
    """One good worker and one broken one: the broken one is named and left out, the good one grades everyone.
    Then the broken one alone: the run stops before grading anyone; after the fix, the same command grades all."""
    skip_unless_limits_only_works()
    python, shadow = broken_python
    folder = tmp_path / "class"
    expected = small_class(folder)
    cluster = distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None)
    processes = [start_worker(python, cluster.scheduler_address, tmp_path, "broken")]
    try:
        with distributed.Client(cluster) as client:
            client.wait_for_workers(1, timeout=60)
            broken = sorted(client.scheduler_info()["workers"])[0]
            out = tmp_path / "alone"
            # --sandbox none: the broken environment reaches the course's packages through a .pth file, which
            # bubblewrap does not show its kernels, so with auto it would grade in another sandbox than the good
            # worker once fixed (same_sandbox, tested below without a cluster)
            command = ["grade", str(folder), "--out", str(out), "--lesson", "00", "--scheduler",
                       cluster.scheduler_address, "--sandbox", "none"]
            assert cli.main(command) == 2
            captured = capsys.readouterr()
            named = [line for line in captured.out.splitlines() if line.startswith(f"worker {broken}")]
            assert len(named) == 1 and BROKEN in named[0] and probe.INSTALL in named[0], captured.out
            assert "no Dask worker can grade, nothing was graded" in captured.err
            assert not list((out / ".work").glob("done/*")) and not (out / "gradebook.csv").exists()

            processes.append(start_worker(sys.executable, cluster.scheduler_address, tmp_path, "good"))
            client.wait_for_workers(2, timeout=60)
            mixed = tmp_path / "mixed"
            assert cli.main([*command[:3], str(mixed), *command[4:]]) == 0
            captured = capsys.readouterr()
            assert f"worker {broken} cannot grade" in captured.out and "left out of this run" in captured.out
            assert "Dask dashboard:" in captured.out
            assert totals(mixed) == expected

            shutil.rmtree(shadow)  # the fix, on the broken worker; OUTDIR is not touched
            assert cli.main(command) == 0
            assert totals(out) == expected
            assert "cannot grade" not in capsys.readouterr().out
    finally:
        for process, log in processes:
            stop(process, timeout=20)
            log.close()
        cluster.close()


def test_workers_in_other_sandboxes_stop_the_run_only_if_both_pass_the_canary():
    """check_workers takes every worker's own sandbox; same_sandbox compares them among the workers that passed
    the canary: a broken worker in another sandbox is left out instead of stopping the run (seen in CI: a worker
    without IPython fell back to limits only beside a bubblewrap worker)."""
    from tinygrad_lite.course.grading import cluster as on_cluster
    from tinygrad_lite.course.grading.errors import UsageError

    class Client:
        def scheduler_info(self):
            return {"workers": {"tcp://a": {}, "tcp://b": {}}}

        def run(self, function, requested):
            return {"tcp://a": {"course": "c", "threads": 1, "sandbox": "limits only", "description": "NO SANDBOX"},
                    "tcp://b": {"course": "c", "threads": 1, "sandbox": "bubblewrap", "description": "bubblewrap"}}

    chosen, expected, lines, usable = on_cluster.check_workers(Client(), "tcp://s", "auto", "c")
    assert usable == ["tcp://a", "tcp://b"] and chosen.mode == "limits only" and "2 worker(s)" in lines[0]
    with pytest.raises(UsageError, match=r"worker tcp://b grades in another sandbox than worker tcp://a"):
        on_cluster.same_sandbox(expected, usable)
    agreed, expected_b = on_cluster.same_sandbox(expected, ["tcp://b"])  # tcp://a failed the canary
    assert agreed.mode == "bubblewrap" and expected_b["address"] == "tcp://b"
    assert on_cluster.mismatch("tcp://b", {"course": "c", "threads": 1, "sandbox": "bubblewrap",
                                           "description": "bubblewrap"}, expected_b) is None
