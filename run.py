#!/usr/bin/env python3
"""Set up tinygrad_lite and run it: the one bootstrap script (stdlib only, Python >= 3.10).

    python3 run.py lab   [jupyter lab args...]   set up, then open the course in JupyterLab
    python3 run.py test  [pytest args...]        set up, then run the test suite
    python3 run.py setup                         only set up

Set-up creates .venv/ in the repository root and runs
    pip install --no-compile -c constraints.txt -e ".[dev]"
inside it, then imports the modules that the tests, the kernels and JupyterLab use, so that
Python stores them compiled (see WARM_UP). It is skipped when pyproject.toml and constraints.txt
have not changed since the last successful set-up (a hash of them is kept in .venv/).
"""
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MARKER = VENV / "tinygrad_lite-setup.sha256"
INSTALL_FILES = ("pyproject.toml", "constraints.txt")
WINDOWS = os.name == "nt"
# Python stores each module it compiles (__pycache__/*.pyc), unless PYTHONDONTWRITEBYTECODE is set, as some
# containers do: then every process compiles torch, Jupyter and pytest again when it imports them (seconds each,
# and a test run starts hundreds of processes). So run.py lets Python store them in its own processes (the
# .venv/ and the repository's __pycache__ folders, which git ignores), and set-up imports the modules that every
# process needs once, three stacks in parallel: compiled before the first test, and only those (torch alone
# ships 2,300 modules; compiling all 9,700 of .venv/ took twice as long). A module not listed here is compiled
# and stored by the first process that imports it.
WARM_UP = (
    "torch, torch.nn, torch.optim, torch.utils.data, torch._dynamo, numpy, safetensors.numpy, tinygrad_lite, "
    "tinygrad_lite.course.checks",
    "matplotlib.pyplot, PIL.Image, IPython, ipykernel.kernelapp, ipykernel.ipkernel, ipywidgets, jupyterlab.labapp, "
    "jupyter_server.serverapp, nbformat, nbclient, nbconvert, tqdm.auto",
    "pytest, xdist.plugin, hypothesis, _hypothesis_pytestplugin, nbval.plugin, playwright.sync_api",
)


def say(msg):
    print(f"[run.py] {msg}", flush=True)


def venv_python():
    return VENV / ("Scripts/python.exe" if WINDOWS else "bin/python")


def setup_hash():
    h = hashlib.sha256()
    for name in INSTALL_FILES:
        h.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return h.hexdigest()


def show(cmd):
    cmd = [str(c) for c in cmd]
    return subprocess.list2cmdline(cmd) if WINDOWS else shlex.join(cmd)


def fail(what, cmd, hint):
    say(f"FAILED: {what}")
    say("command was: " + show(cmd))
    say(hint)
    sys.exit(1)


def setup():
    if sys.version_info < (3, 10):
        say(f"Python >= 3.10 is needed, this is {sys.version.split()[0]}.")
        sys.exit(1)
    wanted = setup_hash()
    py = venv_python()
    if py.exists() and MARKER.exists() and MARKER.read_text().strip() == wanted:
        say("environment .venv is up to date (delete .venv/ to rebuild it)")
        return py
    start = time.monotonic()
    if not py.exists():
        if VENV.exists():
            say("found a broken .venv/ (no Python in it); removing it")
            shutil.rmtree(VENV)
        say(f"creating virtual environment in {VENV} ...")
        cmd = [sys.executable, "-m", "venv", str(VENV)]
        if subprocess.call(cmd) != 0:
            fail("could not create the virtual environment", cmd,
                 "On Debian/Ubuntu install the venv module (apt install python3-venv), "
                 "delete .venv/ and run this again.")
    MARKER.unlink(missing_ok=True)
    say("installing tinygrad_lite and its dependencies (pinned by constraints.txt);"
        " the first time takes a few minutes ...")
    # pip would byte-compile all ~10,000 modules one by one, half of the set-up's time: warm_up() compiles the
    # ones that are used, after.
    cmd = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile",
           "-c", "constraints.txt", "-e", ".[dev]"]
    if subprocess.call(cmd, cwd=ROOT) != 0:
        fail("pip could not install the dependencies (see pip's messages above)", cmd,
             "Check your network connection, then retry with `python3 run.py setup`; "
             "if it keeps failing, delete .venv/ and retry. (constraints.txt pins "
             "the versions tested on Python 3.11; other Pythons may not have them.)")
    warm_up(py)
    MARKER.write_text(wanted + "\n")
    say(f"set-up done in {time.monotonic() - start:.0f} s")
    return py


def child_env():
    """This environment, with Python allowed to store what it compiles (see WARM_UP)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_up(py):
    """Import WARM_UP's stacks, in parallel, so that Python compiles and stores them once. Only a cache: a stack
    that fails to import (say, a platform without one of its packages) is compiled later, where it is used."""
    jobs = [subprocess.Popen([str(py), "-c", f"import {modules}"], cwd=ROOT, env=child_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for modules in WARM_UP]
    if any(job.wait() != 0 for job in jobs):
        say("note: some modules could not be imported ahead (they are compiled where they are first used)")


def run(cmd):
    say("running: " + show(cmd))
    try:
        return subprocess.call(cmd, cwd=ROOT, env=child_env())
    except KeyboardInterrupt:
        return 130


def lab(py, args):
    folder = ROOT / "lessons" if (ROOT / "lessons").is_dir() else ROOT
    cmd = [str(py), "-m", "jupyter", "lab", str(folder)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return run(cmd + args)


def workers():
    """pytest-xdist workers: one per core this process may use, plus one. Part of the suite waits rather than
    computes (grading kernels' time limits, notebooks' kernels starting, JupyterLab), and the extra worker fills
    those gaps: on 2 cores, 3 workers ran the suite in 291 s where 2 took 322 s (benchmarks/suite_time.md)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores + 1


def test(py, args):
    """pytest over every core (pytest-xdist, see ``workers``); each notebook's cells stay together on one worker
    (conftest.py groups them). Given -n, --dist, -p no:xdist or a debugger option, the arguments decide instead."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a.endswith("no:xdist")
                 or a in ("--pdb", "--trace") for a in args)
    parallel = [] if chosen else ["-n", str(workers()), "--dist", "loadgroup"]
    return run([str(py), "-m", "pytest", *parallel, *args])


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    if command not in ("lab", "test", "setup"):
        print(f"run.py: unknown command {command!r}\n\n{__doc__.strip()}", file=sys.stderr)
        return 2
    if command == "setup" and args:
        print("run.py: `setup` takes no arguments", file=sys.stderr)
        return 2
    py = setup()
    if command == "lab":
        return lab(py, args)
    if command == "test":
        return test(py, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
