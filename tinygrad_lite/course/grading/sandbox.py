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
  That user must reach the interpreter, the venv and the package on the host: a course in a private folder
  (``mktemp -d``, a home folder) cannot be graded so as root, and ``choose`` says so in one line, naming the
  folder and the fixes, before grading starts (bubblewrap has no such limit: it binds each of them at its real
  place, with the symbolic links on the way, and the folders above them are passable in its namespace).

Each mode is tried (``_probe``) before it is chosen: the interpreter, numpy and the package must load in it as
the kernel's user, else the next mode is tried; where none works, grading does not start.

In every mode: as root, each job's kernels run as an unprivileged user id of their own (the namespaces are made
as root, then ``setpriv`` drops to that user inside them, with no capabilities left): the process limit then
counts (root ignores it) and is per job, and the grader's files cannot be written. Resource limits (hard, set by
the kernel on itself before any learner code runs): address space ``--memory``, CPU seconds, size of a written
file, number of processes (a fork bomb stops there), open files, no core dumps. Its own session and PID
namespace, so that everything it started is killed with it at a time-out (and by the kernel itself after each
call into the learner's code: a fork bomb does not slow the exercises after it); its output is read by the grader and
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


def _kernel_paths():
    """The paths the kernel starts from, as the kernel spells them, each with what it is (for messages): its
    interpreter, the virtual environment (its pyvenv.cfg and site-packages), the Python installation, the package."""
    import site
    venv = "the virtual environment"
    paths = [(sys.executable, "the Python interpreter"), (os.path.join(sys.prefix, "pyvenv.cfg"), venv)]
    paths += [(p, venv) for p in site.getsitepackages() if os.path.isdir(p)]
    paths += [(p, "the Python installation") for p in (sys.base_prefix, sys.base_exec_prefix)]
    paths += [(sys.prefix, venv), (sys.exec_prefix, venv), (str(PACKAGE_DIR), "the tinygrad_lite package")]
    return [(p, what) for p, what in paths if os.path.exists(p)]


def _resolve(path):
    """(the symbolic links met on the way to ``path``, each as (where it is, what it says), its real path).

    Each link is named at its real place, so that a sandbox can make the same way: a course anywhere, a virtual
    environment whose entries link elsewhere, an interpreter that is a link to a link into another folder."""
    links, done, todo, hops = [], "/", list(Path(os.path.abspath(path)).parts[1:]), 0
    while todo:
        part = todo.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            done = os.path.dirname(done)
            continue
        here = os.path.join(done, part)
        if os.path.islink(here) and hops < 40:
            hops += 1
            target = os.readlink(here)
            links.append((here, target))
            if os.path.isabs(target):
                done = "/"
            todo = [q for q in Path(target).parts if q != "/"] + todo
        else:
            done = here
    return links, done


def _inside(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _readable_roots():
    """What the sandbox shows, read-only: system folders, the Python installation, the venv and the package (each
    at its real place, wherever the links in the way lead)."""
    roots = ["/usr", "/etc"] + [p for p in SYSTEM_LINKS if not os.path.islink(p)]
    roots += [str(Path(sys.executable).resolve().parent.parent)]
    roots += [_resolve(path)[1] for path, _ in _kernel_paths()]
    kept = []
    for root in sorted({os.path.realpath(r) for r in roots if os.path.exists(r)}, key=len):
        if not _inside(root, kept):  # inside one bound already
            kept.append(root)
    return kept


def _links(roots):
    """The symbolic links on the kernel's ways that no bound folder holds: (where, what it says), made in the
    sandbox as they are outside it (e.g. a .venv/bin that links into another virtual environment)."""
    links = {}
    for path, _ in _kernel_paths():
        for where, target in _resolve(path)[0]:
            if not _inside(where, roots) and where not in SYSTEM_LINKS:
                links[where] = target
    return sorted(links.items())


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
        links = _links(roots)
        parents = sorted({str(p) for path in [*roots, *(where for where, _ in links)] for p in Path(path).parents
                          if str(p) != "/"}, key=len)
        for parent in parents:  # made 0755: bwrap would make them 0700 as root, and the folders on the host may be
            args += ["--perms", "0755", "--dir", parent]  # private (a course in `mktemp -d` or a home folder)
        for root in roots:
            args += ["--ro-bind", root, root]
        for where, target in links:
            args += ["--symlink", target, where]
        for link in SYSTEM_LINKS:
            if os.path.islink(link):
                args += ["--symlink", os.readlink(link), link]
        args += ["--proc", "/proc", "--dev", "/dev", "--bind", scratch, "/scratch",
                 "--chdir", "/scratch"]
        for key, value in kernel_environment("/scratch").items():
            args += ["--setenv", key, value]
        return args + inner, scratch, None

    @property
    def own_pid_namespace(self):
        """Whether each kernel has a PID namespace of its own (bubblewrap's, or unshare's ``--pid``)."""
        return self.mode == "bubblewrap" or "--pid" in self._prefix

    @property
    def drop(self):
        return self._drop and _as_root()

    def popen_options(self, uid=NOBODY):
        options = {"start_new_session": True}
        if _as_root() and not self.drop:
            options.update(user=uid, group=uid, extra_groups=[])
        return options


# the interpreter, site-packages and the package, reached as the kernel reaches them (quick, unlike IPython)
PROBE = "import sys; sys.path.insert(0, {path!r}); import numpy, tinygrad_lite.course.grading.kernel"


def _probe(sandbox):
    """Whether a kernel can start in ``sandbox`` here, as the user the kernels run as: (True, "") or (False, why)."""
    with tempfile.TemporaryDirectory(prefix="tgl-probe-") as scratch:
        os.chmod(scratch, 0o777)
        inner = [sys.executable, "-I", "-c", PROBE.format(path=str(PACKAGE_DIR.parent))]
        command, _, env = sandbox.command(scratch, inner)
        options = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "stdin": subprocess.DEVNULL,
                   **sandbox.popen_options()}
        try:
            done = subprocess.run(command, timeout=60, env=env, cwd=scratch, **options)
        except (OSError, subprocess.SubprocessError) as e:
            return False, str(e)
        if done.returncode == 0:
            return True, ""
        lines = [line.strip() for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        return False, lines[-1][:300] if lines else f"exit status {done.returncode}"


def _blocked():
    """As root, the first folder on the kernel's ways that its unprivileged user cannot enter: (folder, its mode,
    what lies behind it), or None. Only the permission bits of others count (the kernel's user is nobody's)."""
    if not _as_root():
        return None
    for path, what in _kernel_paths() + [(tempfile.gettempdir(), "the temporary folder")]:
        links, real = _resolve(path)
        for place in [os.path.dirname(where) for where, _ in links] + [real if os.path.isdir(real) else
                                                                       os.path.dirname(real)]:
            for folder in [*reversed(Path(place).parents), Path(place)]:
                try:
                    mode = folder.stat().st_mode
                except OSError:
                    continue
                if not mode & 0o001:
                    return str(folder), mode & 0o7777, what
    return None


def _unreachable(blocked, bubblewrap):
    """One line: who cannot enter which folder, and the fixes (``bubblewrap``: the first fix, or "")."""
    folder, mode, what = blocked
    fix = f"{bubblewrap}, or " if bubblewrap else ""
    return (f"the grading kernels run as an unprivileged user, who cannot enter {folder} (mode {mode:o}) to reach "
            f"{what}: {fix}let every user enter it (chmod o+x {folder}), or put the course in a folder every user "
            "can enter")


def choose(requested="auto"):
    """The sandbox to use: bubblewrap when asked for or available and working, else limits only.

    Raises RuntimeError with one line that says what is wrong and how to fix it when the mode asked for (or, for
    "auto", every mode) cannot start a kernel here, e.g. a course in a private folder graded as root without
    bubblewrap: grading would otherwise give every learner 0 points."""
    setpriv = shutil.which("setpriv")
    why_not = "bubblewrap is not installed"  # (why not bubblewrap, in the description)
    bwrap_why, bwrap_fix = why_not, "install bubblewrap (the `bubblewrap` system package)"
    if requested in ("auto", "bwrap") and shutil.which("bwrap"):
        sandbox = Sandbox("bubblewrap", "bubblewrap: only the scratch folder is writable, the solutions and "
                                        "submissions are not visible, no network", drop=True)
        works, why = _probe(sandbox) if setpriv or not _as_root() else (False, "setpriv is not installed")
        if works:
            return sandbox
        why_not = "bubblewrap does not work here"
        bwrap_why, bwrap_fix = f"bubblewrap does not work here ({why})", ""
        if requested == "bwrap":
            raise RuntimeError(f"bubblewrap (bwrap) is installed but cannot start a kernel here: {why}")
    elif requested == "bwrap":
        raise RuntimeError("bubblewrap (bwrap) is not installed: install the `bubblewrap` system package, or use "
                           "--sandbox auto")
    elif requested == "none" and shutil.which("bwrap"):
        why_not = "bubblewrap was not asked for"
        bwrap_fix = "grade with bubblewrap (--sandbox auto), which shows the kernels what they need"
    who = "an unprivileged user" if _as_root() else "the grading user"
    unshare = shutil.which("unshare")
    candidates = []
    if unshare and setpriv and _as_root():  # namespaces made as root, then down to the kernel's user inside them
        candidates.append(Sandbox("limits only", "", [unshare, "--net", "--pid", "--fork", "--kill-child"], True))
    if unshare:
        candidates.append(Sandbox("limits only", "", [unshare, "--user", "--map-root-user", "--net", "--pid",
                                                      "--fork", "--kill-child"]))
    for sandbox in candidates:
        if _probe(sandbox)[0]:
            sandbox.description = (f"NO SANDBOX ({why_not}): resource limits only, with no network and its own "
                                   f"process namespace (unshare); the learner's code can read what {who} can read")
            return sandbox
    sandbox = Sandbox("limits only", f"NO SANDBOX ({why_not}): resource limits only; the learner's code can read "
                                     f"what {who} can read, and use the network")
    works, why = _probe(sandbox)
    if works:
        return sandbox
    blocked = _blocked()
    problem = _unreachable(blocked, bwrap_fix) if blocked else f"a grading kernel cannot start here: {why}"
    if requested == "none":
        raise RuntimeError(f"--sandbox none: {problem}")
    raise RuntimeError(f"{bwrap_why}, and without it {problem}")
