"""A Dask worker built exactly as docs/cluster.md says grades a class (issue 31): a fresh virtual environment, the
course's wheel built from this checkout installed with ``pip install -c constraints.txt "<wheel>[cluster]"``, and
``dask worker ADDRESS --nthreads 1`` started from an empty folder (so that it imports the wheel, not this checkout).
The grading machine (this test's environment) checks it with the canary, then grades a small class through it.

It installs packages (about a minute from a local index), so it runs only when asked:
``TINYGRAD_LITE_VENV_TESTS=1 .venv/bin/python -m pytest tests/test_grading_worker_venv.py`` (``.ci/run`` does,
as a step of its own after the README's test command).
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tinygrad_lite.course import cli

sys.path.insert(0, str(Path(__file__).resolve().parent))
from course_wheel import build_wheel
from processes import stop
from test_grading import L00, MODE, NO_KERNEL, ROW_OK, results_of, save, submission

pytestmark = [
    pytest.mark.skipif(os.environ.get("TINYGRAD_LITE_VENV_TESTS") != "1",
                       reason="installs a worker's environment: set TINYGRAD_LITE_VENV_TESTS=1"),
    pytest.mark.skipif(MODE is None, reason=f"no grading kernel can start here: {NO_KERNEL}"),
]
distributed = pytest.importorskip("distributed", reason="Dask is the `cluster` extra: pip install -e '.[dev]'")
ROOT = Path(__file__).resolve().parents[1]


def run(*command, **options):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_a_worker_installed_as_the_docs_say_grades_a_class(tmp_path, capsys):
    place = Path(tempfile.mkdtemp(prefix="tgl-worker-"))  # every user can enter it (kernels of root: a user of
    place.chmod(0o755)                                     # their own, see sandbox.py)
    wheels, env, empty = place / "dist", place / "venv", place / "empty"
    empty.mkdir()
    wheel = build_wheel(wheels)
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", env)
    # docs/cluster.md, word for word but for the wheel's path
    run(env / "bin" / "pip", "install", "-q", "-c", ROOT / "constraints.txt", f"{wheel}[cluster]", timeout=1200)

    folder = tmp_path / "class"
    save(folder, "solved", submission(L00), f"{L00}.ipynb")
    save(folder, "partial", submission(L00, {"00.row_normalize": ROW_OK}, base="lessons"), f"{L00}.ipynb")
    cluster = distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None)
    worker_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV", "PYTHON"))}
    log = open(place / "worker.log", "w")
    worker = subprocess.Popen([env / "bin" / "dask", "worker", cluster.scheduler_address, "--nthreads", "1"],
                              cwd=empty, env=worker_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with distributed.Client(cluster) as client:
            client.wait_for_workers(1, timeout=120)
            out = tmp_path / "grades"
            status = cli.main(["grade", str(folder), "--out", str(out), "--lesson", "00", "--scheduler",
                               cluster.scheduler_address])
            captured = capsys.readouterr()
            assert status == 0, captured.out + captured.err
            assert "cannot grade" not in captured.out and "1 worker(s)" in captured.out
            by_learner, _ = results_of(out)
            assert {k: r["total"] for k, r in by_learner.items()} == {"solved": 5.0, "partial": 1.0}
    finally:
        stop(worker, timeout=30)
        log.close()
        cluster.close()
        subprocess.run(["rm", "-rf", str(place)], check=False)
