#!/usr/bin/env python3
"""Set up tinygrad_lite and run it: the one bootstrap script (stdlib only, Python >= 3.10).

    python3 run.py lab   [jupyter lab args...]   set up the course, then open it in JupyterLab
    python3 run.py test  [pytest args...]        set up the course and the developer tools, then run the tests
    python3 run.py setup                         only set up the course

Set-up creates .venv/ in the repository root and installs into it, one step per line with its time (pip's own
output goes to .venv/setup.log, which an error names). A new .venv/ first gets the pip that constraints.txt pins:
the pip that venv brings may be years old, and a current one resolves the packages about twice as fast. Then:
  1. PyTorch, pinned by constraints.txt. On Linux without an NVIDIA GPU from PyTorch's CPU-only wheel index, as
     PyTorch's install instructions give it: the Linux build on PyPI brings GBs of CUDA libraries that a laptop
     without a GPU never uses (TINYGRAD_LITE_TORCH=cpu or =default chooses instead);
  2. the course: pip install --no-compile -c constraints.txt -e ".[course]" (lab and setup), or with the
     developer tools, ".[dev]" (test: pytest, Playwright, Dask, ruff...);
  3. imports the modules that the kernels, JupyterLab and the tests use, so that Python stores them compiled
     (the next start is faster).
It is skipped when pyproject.toml and constraints.txt have not changed since the last successful set-up of what
the command needs (a hash of them is kept in .venv/).

JupyterLab runs with .venv/ first on its PATH, so that its kernels and terminals find the course's python,
pip and tinygrad-lite; Ctrl-C or SIGTERM to run.py stops it (and its kernels) cleanly.
"""
import contextlib
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MARKER = VENV / "tinygrad_lite-setup.sha256"
LOG = VENV / "setup.log"
INSTALL_FILES = ("pyproject.toml", "constraints.txt")
WINDOWS = os.name == "nt"
# What each command installs (pyproject.toml's extras): a learner gets the course; the tests add the developer tools.
# "dev" holds "course", so an environment set up for the tests serves JupyterLab too.
EXTRAS = {"lab": "course", "setup": "course", "test": "dev"}
# PyTorch's CPU-only wheels, the index PyTorch's own install instructions give for a CPU-only Linux machine.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_CHOICE = "TINYGRAD_LITE_TORCH"  # "cpu" or "default": overrides torch_source's choice
# Python stores each module it compiles (__pycache__/*.pyc), unless PYTHONDONTWRITEBYTECODE is set, as some
# containers do: then every process compiles torch, Jupyter and pytest again when it imports them (seconds each,
# and a test run starts hundreds of processes). So run.py lets Python store them in its own processes (the
# .venv/ and the repository's __pycache__ folders, which git ignores), and set-up imports the modules that every
# process needs once, three stacks in parallel: compiled before the first test, and only those (torch alone
# ships 2,300 modules; compiling all 9,700 of .venv/ took twice as long). A module not listed here is compiled
# and stored by the first process that imports it.
WARM_UP = {  # per extra: the stacks imported in parallel
    "course": (
        "torch, torch.nn, torch.optim, torch.utils.data, torch._dynamo, numpy, safetensors.numpy, tinygrad_lite, "
        "tinygrad_lite.course.checks",
        "matplotlib.pyplot, PIL.Image, IPython, ipykernel.kernelapp, ipykernel.ipkernel, ipywidgets, "
        "jupyterlab.labapp, jupyter_server.serverapp, nbformat, nbclient, nbconvert, tqdm.auto",
    ),
}
WARM_UP["dev"] = (*WARM_UP["course"],
                  "pytest, xdist.plugin, hypothesis, _hypothesis_pytestplugin, nbval.plugin, playwright.sync_api")


def say(msg):
    print(f"[run.py] {msg}", flush=True)


def venv_bin(windows=None, venv=None):
    """The folder of the environment's programs: Scripts\\ on Windows, bin/ elsewhere (macOS, Linux)."""
    windows = WINDOWS if windows is None else windows
    return (VENV if venv is None else venv) / ("Scripts" if windows else "bin")


def venv_python(windows=None, venv=None):
    windows = WINDOWS if windows is None else windows
    return venv_bin(windows, venv) / ("python.exe" if windows else "python")


def setup_hash(extra="dev"):
    """A hash of what a set-up of ``extra`` installs from: the extra's name and INSTALL_FILES."""
    h = hashlib.sha256(extra.encode() + b"\0")
    for name in INSTALL_FILES:
        h.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return h.hexdigest()


def done_setups():
    """The hashes of the set-ups done in .venv/ (MARKER, one a line)."""
    try:
        return set(MARKER.read_text().split())
    except OSError:
        return set()


def is_set_up(extra):
    """Whether .venv/ holds a set-up of ``extra`` (or of "dev", which holds the course) from today's files."""
    done = done_setups()
    return venv_python().exists() and bool({setup_hash(extra), setup_hash("dev")} & done)


def show(cmd):
    cmd = [str(c) for c in cmd]
    return subprocess.list2cmdline(cmd) if WINDOWS else shlex.join(cmd)


def fail(what, cmd, hint):
    say(f"FAILED: {what}")
    if cmd:
        say("command was: " + show(cmd))
    say(hint)
    sys.exit(1)


def has_nvidia_gpu():
    """An NVIDIA driver is loaded (Linux: /proc/driver/nvidia) or its tool is installed."""
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def torch_source(platform=None, environ=None, nvidia=None):
    """Where pip should take PyTorch from: ("cpu", why) for PyTorch's CPU-only index, ("default", why) for the
    package index pip is set up with (PyPI).

    PyPI's Linux wheels of torch depend on NVIDIA's CUDA libraries (GBs of nvidia-* packages and triton), useful
    only with an NVIDIA GPU; PyPI's macOS and Windows wheels have no CUDA in them. So a Linux machine without an
    NVIDIA GPU gets PyTorch's CPU-only build, from the index PyTorch's install instructions name for it. The
    environment variable TINYGRAD_LITE_TORCH (cpu or default) decides instead."""
    platform = sys.platform if platform is None else platform
    environ = os.environ if environ is None else environ
    chosen = environ.get(TORCH_CHOICE, "").strip().lower()
    if chosen in ("cpu", "default"):
        return chosen, f"{TORCH_CHOICE}={chosen}"
    if chosen:
        say(f"note: {TORCH_CHOICE}={chosen!r} is neither 'cpu' nor 'default'; ignored")
    if not platform.startswith("linux"):
        return "default", "PyPI's build: on macOS and Windows it has no CUDA in it"
    if has_nvidia_gpu() if nvidia is None else nvidia:
        return "default", "PyPI's build with CUDA: this machine has an NVIDIA GPU"
    return "cpu", "the CPU-only build from PyTorch's CPU wheel index: Linux without an NVIDIA GPU"


def reachable(url, timeout=15):
    """None when ``url`` answers; else why not, in a few words."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return None
    except (OSError, ValueError) as error:  # URLError, HTTPError and timeouts are OSErrors
        return str(getattr(error, "reason", error))


def torch_install_args(source, environ=None):
    """pip install's arguments for step 1 (PyTorch) from ``source`` ("cpu" or "default"); None to leave PyTorch to
    step 2 (the default index). A CPU index that cannot be reached falls back to the default one, and says so,
    unless TINYGRAD_LITE_TORCH=cpu asked for it."""
    if source != "cpu":
        return None
    why_not = reachable(f"{TORCH_CPU_INDEX}/torch/")
    if why_not is None:
        return ["--extra-index-url", TORCH_CPU_INDEX, "torch"]
    environ = os.environ if environ is None else environ
    if environ.get(TORCH_CHOICE, "").strip().lower() == "cpu":
        fail(f"PyTorch's CPU wheel index ({TORCH_CPU_INDEX}) cannot be reached: {why_not}", None,
             f"Check the network, or unset {TORCH_CHOICE} to take PyTorch from the default package index.")
    say(f"PyTorch's CPU wheel index cannot be reached ({why_not}):")
    say("  PyTorch comes from the default package index, which on Linux may be its CUDA build (GBs);")
    say(f"  {TORCH_CHOICE}=default skips this check, {TORCH_CHOICE}=cpu makes it an error.")
    return None


def pinned(name):
    """The version constraints.txt pins for ``name``, or None."""
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        package, sep, version = line.split("#")[0].strip().partition("==")
        if sep and package.strip().lower() == name:
            return version.strip()
    return None


def pip_install(py, args, step):
    """One pip install (``args`` after the constraints), its output appended to LOG; a line with its time."""
    cmd = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile", "-c", "constraints.txt",
           *args]
    start = time.monotonic()
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(f"\n$ {show(cmd)}\n")
        log.flush()
        code = subprocess.call(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        tail = LOG.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        print("\n".join("    " + line for line in tail), flush=True)
        fail(f"{step}: pip could not install it (its last lines above; all of it in {LOG})", cmd,
             "Check your network connection, then retry with `python3 run.py setup`; if it keeps failing, delete "
             ".venv/ and retry. (constraints.txt pins the versions tested on Python 3.11; other Pythons may not "
             "have them.)")
    say(f"{step}: done in {time.monotonic() - start:.0f} s")


def setup(extra="course"):
    if sys.version_info < (3, 10):
        say(f"Python >= 3.10 is needed, this is {sys.version.split()[0]}.")
        sys.exit(1)
    py = venv_python()
    if is_set_up(extra):
        say(f"environment .venv is up to date for {extra!r} (delete .venv/ to rebuild it)")
        return py
    start = time.monotonic()
    if not py.exists():
        if VENV.exists():
            say("found a broken .venv/ (no Python in it); removing it")
            shutil.rmtree(VENV)
        say(f"creating the virtual environment {VENV} ...")
        cmd = [sys.executable, "-m", "venv", str(VENV)]
        if subprocess.call(cmd) != 0:
            fail("could not create the virtual environment", cmd,
                 "On Debian/Ubuntu install the venv module (apt install python3-venv), "
                 "delete .venv/ and run this again.")
        pip = pinned("pip")
        if pip:
            say(f"updating the new environment's pip to {pip} (constraints.txt) ...")
            pip_install(py, [f"pip=={pip}"], "pip")
    say(f"installing {extra!r} (the versions constraints.txt pins); pip's output: {LOG.relative_to(ROOT)}")
    source, why = torch_source()
    torch_args = torch_install_args(source)
    if torch_args:
        say(f"step 1/3: PyTorch, {why} ...")
        pip_install(py, torch_args, "step 1/3 (PyTorch)")
    else:
        say(f"step 1/3: PyTorch comes with step 2 ({why if source == 'default' else 'the default index'})")
    # pip would byte-compile all ~10,000 modules one by one, half of the set-up's time: warm_up() compiles the
    # ones that are used, after.
    say(f"step 2/3: tinygrad_lite and the rest of {extra!r} ...")
    pip_install(py, ["-e", f".[{extra}]"], "step 2/3 (packages)")
    say("step 3/3: compiling the modules the course uses ...")
    warm_start = time.monotonic()
    warm_up(py, extra)
    say(f"step 3/3 (compiling): done in {time.monotonic() - warm_start:.0f} s")
    MARKER.write_text("\n".join(sorted(done_setups() | {setup_hash(extra)})) + "\n")
    say(f"set-up done in {time.monotonic() - start:.0f} s")
    return py


def child_env(course=False):
    """This environment, with Python allowed to store what it compiles (see WARM_UP); with ``course``, also with
    .venv/ first on PATH (and VIRTUAL_ENV set, as its activate script does), for JupyterLab: its kernels and
    terminals then find the course's python, pip and tinygrad-lite."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if course:
        env["PATH"] = str(venv_bin()) + os.pathsep + env.get("PATH", "")
        env["VIRTUAL_ENV"] = str(VENV)
        env.pop("PYTHONHOME", None)
    return env


def warm_up(py, extra="dev"):
    """Import WARM_UP's stacks of ``extra``, in parallel, so that Python compiles and stores them once. Only a
    cache: a stack that fails to import (say, a platform without one of its packages) is compiled later."""
    jobs = [subprocess.Popen([str(py), "-c", f"import {modules}"], cwd=ROOT, env=child_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for modules in WARM_UP[extra]]
    if any(job.wait() != 0 for job in jobs):
        say("note: some modules could not be imported ahead (they are compiled where they are first used)")


def run(cmd):
    say("running: " + show(cmd))
    try:
        return subprocess.call(cmd, cwd=ROOT, env=child_env())
    except KeyboardInterrupt:
        return 130


def supervise(cmd, env, grace=30):
    """Run ``cmd`` until it ends; Ctrl-C or SIGTERM to this process stops it: SIGTERM to it (JupyterLab then
    shuts its kernels down and exits), SIGKILL after ``grace`` seconds or at a second Ctrl-C. Returns its exit
    status (130 or 143 when stopped by Ctrl-C or SIGTERM).

    The handlers are in place before the command starts, and they only note the signal: this function looks at
    it once the command has started. Relying on Python's KeyboardInterrupt for Ctrl-C, as before, left the command
    running in two runs of the suite: a KeyboardInterrupt can interrupt ``Popen`` itself on a busy machine (the
    command started, this process not yet back from starting it), and a process started with Ctrl-C ignored gets
    no KeyboardInterrupt at all. Either way this process went without stopping the command."""
    stopped = []

    def stop(signum, frame):
        stopped.append(signum)

    kinds = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") and not WINDOWS else [])
    previous = {kind: signal.signal(kind, stop) for kind in kinds}
    try:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env)
        while not stopped:
            try:
                return process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        say("stopping JupyterLab ...")
        with contextlib.suppress(OSError):
            process.terminate()
        deadline = time.monotonic() + grace
        while process.poll() is None:
            if len(stopped) > 1 or time.monotonic() > deadline:  # a second Ctrl-C, or past the grace: now
                process.kill()
                process.wait()
            time.sleep(0.05)
        return 143 if stopped[0] == getattr(signal, "SIGTERM", None) else 130
    finally:
        for kind, handler in previous.items():
            signal.signal(kind, handler)


# JupyterLab asks a new user, in a notification over the notebook, whether to fetch Jupyter's news; the course
# answers for its own .venv (JupyterLab's settings overrides of that environment, kept as the learner left them)
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def quiet_lab():
    """Write LAB_OVERRIDES into the environment's share/jupyter/lab/settings/overrides.json, where unset."""
    path = VENV / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        settings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        return  # a file of the learner's that is not JSON: theirs to fix, and no reason not to start
    changed = False
    for plugin, values in LAB_OVERRIDES.items():
        mine = settings.setdefault(plugin, {})
        for key, value in values.items():
            if key not in mine:
                mine[key], changed = value, True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def lab(py, args):
    quiet_lab()
    folder = ROOT / "lessons" if (ROOT / "lessons").is_dir() else ROOT
    cmd = [str(py), "-m", "jupyter", "lab", str(folder)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    if os.name != "nt":  # a terminal's shell as it is, not a login shell: JupyterLab started without a terminal of
        shell = os.environ.get("SHELL") or "/bin/sh"  # its own runs `bash -l`, whose /etc/profile resets the PATH
        cmd.append(f"--ServerApp.terminado_settings=shell_command=[{shell!r}]")  # that puts .venv/ first
    cmd += args
    say("running: " + show(cmd))
    return supervise(cmd, child_env(course=True))


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
        try:
            print(__doc__.strip(), flush=True)
        except BrokenPipeError:  # (`run.py --help | head -2`: the reader went before the end) quietly, at exit too
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    if command not in ("lab", "test", "setup"):
        print(f"run.py: unknown command {command!r}\n\n{__doc__.strip()}", file=sys.stderr)
        return 2
    if command == "setup" and args:
        print("run.py: `setup` takes no arguments", file=sys.stderr)
        return 2
    py = setup(EXTRAS[command])
    if command == "lab":
        return lab(py, args)
    if command == "test":
        return test(py, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
