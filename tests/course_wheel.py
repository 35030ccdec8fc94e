"""The course's wheel, built from this checkout for the tests that install it (test_hosted.py, test_floors.py,
test_grading_worker_venv.py). pip builds it in the checkout's build/ folder, which two pytest-xdist workers building
at once would share (one removing what the other is copying), so a lock file there lets one build at a time."""
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(folder):
    """The wheel of this checkout, built into ``folder``; it carries the package's own modules only."""
    import fcntl  # (POSIX: these tests install into venvs of this machine's Linux or macOS)

    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    with open(build / ".a-wheel-is-being-built.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        # a module left in build/lib by an earlier build (deleted from the source since) must not travel (setup.py)
        stale = build / "lib" / "tinygrad_lite" / "_deleted_since_an_earlier_build.py"
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_text("")
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                               str(folder), str(ROOT)], capture_output=True, text=True)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    (built,) = Path(folder).glob("tinygrad_lite-*.whl")
    with zipfile.ZipFile(built) as packed:
        modules = {name for name in packed.namelist() if name.endswith(".py")}
    assert modules and all((ROOT / name).is_file() for name in modules), sorted(n for n in modules
                                                                             if not (ROOT / n).is_file())
    return built
