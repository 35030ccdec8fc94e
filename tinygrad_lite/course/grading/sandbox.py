"""Where the learner's code runs: a kernel process in a sandbox, under resource limits, watched by the grader.

The sandbox, in the order it is tried (``--sandbox auto``):

- **bubblewrap** (``bwrap``): a new mount namespace in which only the system's libraries, the Python installation,
  the virtual environment and the ``tinygrad_lite`` package are visible, read-only; the scratch folder is the only
  writable place (``/tmp`` is a private empty tmpfs); the solutions, the submissions, the grader's output folder
  and home folders are not there at all. New network (no interfaces but loopback: no network), PID, IPC and UTS
  namespaces; it dies with the grader.
- **limits only**, where bubblewrap is missing or does not work here: the same kernel with the same limits, and,
  when ``unshare`` can do it, no network and its own PID namespace. The output says so: without a mount
  namespace the learner's code can read whatever the grading user can read (run as root, the grader drops to
  an unprivileged user, so that it can only read world-readable files and write its scratch folder and /tmp).

In every mode: as root, each job's kernels run as an unprivileged user id of their own (the namespaces are made
as root, then ``setpriv`` drops to that user inside them, with no capabilities left): the process limit then
counts (root ignores it) and is per job, and the grader's files cannot be written. Resource limits (hard, set by
the kernel on itself before any learner code runs): address space ``--memory``, CPU seconds, size of a written
file, number of processes (a fork bomb stops there), open files, no core dumps. Its own session and PID
namespace, so that everything it started is killed with it at a time-out; its output is read by the grader and
capped (``--max-output``). Not covered: a kernel's use of the disk is bounded per file, not in total, and
without root all kernels share the grading user's process limit.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .kernel import BOOTSTRAP

NOBODY = 65534
KERNEL_UID = 1_900_000_000  # as root, job k's kernels run as user id KERNEL_UID + k: the process limit is per user,
#                             so a fork bomb in one job cannot starve the kernels of another
FILE_SIZE_LIMIT = 256 * 2 ** 20
PACKAGE_DIR = Path(__file__).resolve().parents[2]  # .../tinygrad_lite


def _as_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _process_count(uid):
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def kernel_uid(slot):
    """The user id of the kernels of job ``slot`` (the grader's own when it is not root)."""
    return KERNEL_UID + slot if _as_root() else os.getuid()


def limits(memory_mb, cpu_seconds, uid):
    """The resource limits the kernel sets on itself (names of the ``resource`` module's constants)."""
    return {"RLIMIT_AS": memory_mb * 2 ** 20, "RLIMIT_CPU": int(cpu_seconds), "RLIMIT_FSIZE": FILE_SIZE_LIMIT,
            "RLIMIT_NPROC": _process_count(uid) + 256, "RLIMIT_NOFILE": 256, "RLIMIT_CORE": 0}


def _readable_roots():
    """What the sandbox shows, read-only: system folders, the Python installation, the venv and the package."""
    roots = ["/usr", "/etc"] + [p for p in SYSTEM_LINKS if not os.path.islink(p)]
    for path in (sys.base_prefix, sys.prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)):
        roots.append(path)
    roots.append(str(PACKAGE_DIR))
    kept = []
    for root in sorted({os.path.realpath(r) for r in roots if os.path.exists(r)}, key=len):
        if not any(root == k or root.startswith(k.rstrip("/") + "/") for k in kept):  # inside one bound already
            kept.append(root)
    return kept


SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # links into /usr on merged systems


def kernel_environment(scratch):
    return {"HOME": scratch, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{scratch}/.matplotlib", "IPYTHONDIR": f"{scratch}/.ipython", "TMPDIR": "/tmp",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONWARNINGS": "ignore"}


def python_command(limits_):
    bootstrap = BOOTSTRAP.format(path=str(PACKAGE_DIR.parent))
    return [sys.executable, "-I", "-c", bootstrap, json.dumps(limits_)]


class Sandbox:
    """How kernels are started: ``mode`` "bubblewrap" or "limits only", ``description`` says what that means.

    ``prefix``: the ``unshare`` command in front of the kernel in "limits only" mode; ``drop``: whether the
    namespaces are made as root and ``setpriv`` then drops to the kernel's user id inside them (else, as root, the
    process is started as that user directly)."""

    def __init__(self, mode, description, prefix=(), drop=False):
        self.mode, self.description, self._prefix, self._drop = mode, description, list(prefix), drop

    def _setpriv(self, uid):
        return [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all"]

    def command(self, scratch, inner, uid=NOBODY):
        """(the command that runs ``inner`` (a list) in ``scratch`` as ``uid`` when root, its cwd, its env)."""
        if self.drop:
            inner = self._setpriv(uid) + inner
        if self.mode != "bubblewrap":
            return self._prefix + inner, scratch, kernel_environment(scratch)
        if _as_root():  # namespaces without a user namespace (setpriv drops to uid inside them)
            args = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        else:
            args = ["bwrap", "--unshare-all"]
        args += ["--die-with-parent", "--new-session", "--clearenv"]
        # /tmp first: a tmpfs mounted later would hide whatever was bound below it (a course cloned into /tmp)
        args += ["--tmpfs", "/tmp"]
        roots = _readable_roots()
        parents = sorted({str(p) for root in roots for p in Path(root).parents if str(p) != "/"}, key=len)
        for parent in parents:  # bwrap would make them 0700 when run as root: the kernel could not pass through
            args += ["--perms", "0755", "--dir", parent]
        for root in roots:
            args += ["--ro-bind", root, root]
        for link in SYSTEM_LINKS:
            if os.path.islink(link):
                args += ["--symlink", os.readlink(link), link]
        args += ["--proc", "/proc", "--dev", "/dev", "--bind", scratch, "/scratch",
                 "--chdir", "/scratch"]
        for key, value in kernel_environment("/scratch").items():
            args += ["--setenv", key, value]
        return args + inner, scratch, None

    @property
    def drop(self):
        return self._drop and _as_root()

    def popen_options(self, uid=NOBODY):
        options = {"start_new_session": True}
        if _as_root() and not self.drop:
            options.update(user=uid, group=uid, extra_groups=[])
        return options


def _probe(sandbox):
    with tempfile.TemporaryDirectory(prefix="tgl-probe-") as scratch:
        os.chmod(scratch, 0o777)
        command, _, env = sandbox.command(scratch, [sys.executable, "-I", "-c", "import numpy"])
        options = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "stdin": subprocess.DEVNULL,
                   **sandbox.popen_options()}
        try:
            return subprocess.run(command, timeout=60, env=env, cwd=scratch, **options).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False


def choose(requested="auto"):
    """The sandbox to use: bubblewrap when asked for or available and working, else limits only."""
    setpriv = shutil.which("setpriv")
    if requested in ("auto", "bwrap") and shutil.which("bwrap"):
        sandbox = Sandbox("bubblewrap", "bubblewrap: only the scratch folder is writable, the solutions and "
                                        "submissions are not visible, no network", drop=True)
        if _probe(sandbox) and (setpriv or not _as_root()):
            return sandbox
        if requested == "bwrap":
            raise RuntimeError("bubblewrap (bwrap) is installed but cannot start a sandbox here")
    elif requested == "bwrap":
        raise RuntimeError("bubblewrap (bwrap) is not installed: install the `bubblewrap` system package, or use "
                           "--sandbox auto")
    why = "bubblewrap is not installed" if not shutil.which("bwrap") else (
        "bubblewrap was not asked for" if requested == "none" else "bubblewrap does not work here")
    who = "an unprivileged user" if _as_root() else "the grading user"
    unshare = shutil.which("unshare")
    candidates = []
    if unshare and setpriv and _as_root():  # namespaces made as root, then down to the kernel's user inside them
        candidates.append(Sandbox("limits only", "", [unshare, "--net", "--pid", "--fork", "--kill-child"], True))
    if unshare:
        candidates.append(Sandbox("limits only", "", [unshare, "--user", "--map-root-user", "--net", "--pid",
                                                      "--fork", "--kill-child"]))
    for sandbox in candidates:
        if _probe(sandbox):
            sandbox.description = (f"NO SANDBOX ({why}): resource limits only, with no network and its own process "
                                   f"namespace (unshare); the learner's code can read what {who} can read")
            return sandbox
    return Sandbox("limits only", f"NO SANDBOX ({why}): resource limits only; the learner's code can read what "
                                  f"{who} can read, and use the network")
