"""Grading on a Dask cluster: ``tinygrad-lite grade SUBMISSION... --out OUTDIR --scheduler ADDRESS`` sends each
submission to the workers of a running ``dask.distributed`` scheduler; ``--cluster local:N`` starts a
``LocalCluster`` of N worker processes of one thread each on this machine (how the tests run it).

What runs where. The client (the process that runs ``tinygrad-lite grade``) does everything it does on one machine
except run kernels: it reads the notebooks, scans the exercise cells (``layout.scan``), derives the seeds from the
secret, judges the answers, stores each grade as it comes back and writes the gradebook. A worker gets, per
submission, only what a kernel run needs (``grader.run_exercises``): the learner's exercise cells that are to run,
the instructor's setup cells of that lesson (the solution notebook's exercise and check cells blanked: no solution
leaves the client), the limits, the hidden cases' seeds of those exercises, and the course version. It runs them
with the same code as on one machine (``session.py``, ``sandbox.py``): its own sandbox, chosen on the worker with
``--sandbox``, the same limits, as many kernels as it takes; and it sends back the kernels' answers, unjudged.

Before any submission is sent, every worker reports its course version (the hash of the course package's code,
``encode.course_digest``: the checks, the references, the grader) and its sandbox: a worker whose version differs
from the client's, or whose sandbox differs from the others', or that cannot start a kernel (or has more
than ``MAX_THREADS`` threads), stops the run with one line that names it, before anything is written. A worker
that joins later is checked the same way before it runs a submission. The solutions need not be on the workers:
their cells travel with each submission.

Nothing lost, nothing counted twice: a grade exists only once the client has judged and stored it
(``OUTDIR/.work/done/``, as on one machine). When a worker dies, the scheduler gives its submissions to another
worker; the answers of the dead one never arrive, and a submission's grade is taken from the one answer that does.
Ctrl-C cancels the submissions not yet graded (the grades stored stay: the same command resumes from them).

Threat model (``__init__.py``'s holds on each worker; what the cluster adds):

- The kernel still gets the seeds only after all of the learner's cells ran: the worker holds them in its own
  process, as the grader does on one machine, and writes them to the kernel's input when the kernel says it is
  ready (``session.py``). The kernel is the worker's child, in the same sandbox as on one machine: it reaches the
  worker's process no more than it reaches the grader's there.
- The secret never leaves the client: a worker gets the two seeds of each exercise it runs, derived from the
  secret and the exercise id (``grader.seeds_for``), which are the same for every learner of the class. So the
  scheduler and the workers (which pass the task's arguments on) must be machines the instructor trusts, as the
  grading machine is: anyone who controls one could learn a lesson's hidden cases, never the secret or another
  lesson's cases; their connections carry the seeds and the learners' answers in the clear unless Dask's TLS is
  configured (``tls://`` addresses and the ``distributed.comm.tls`` settings, docs/cluster.md).
- What a worker sends back is the kernels' answers as the kernel wrote them, parsed as JSON on the worker (plain
  dicts, lists, strings and numbers: no object of the learner's), and judged on the client like any untrusted
  answer (``encode.decode``). No verdict is taken from a worker.
- As root, the kernels of a worker run as user ids of their own, distinct per worker process and thread on one
  machine (``kernel_slot``), so that a fork bomb in one kernel cannot starve another worker's kernels.
"""
import contextlib
import os
import queue
import re
import secrets
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

from . import UsageError, encode, grader, session
from . import sandbox as sandboxes

INSTALL = 'grading on a Dask cluster needs Dask: pip install "tinygrad_lite[cluster]"'
WAIT_FOR_WORKERS = 300  # seconds: the workers of a batch system may still be waiting in its queue
MAX_THREADS = 16  # per worker process; with the process id, it keeps the kernels' user ids apart (kernel_slot)
SLOT_BASE = 1_000_000  # above the slots of --jobs on one machine (sandbox.kernel_uid)
# Dask's defaults watch tasks of milliseconds: a statistical profiler sampling every worker's threads every 10 ms,
# an event-loop check every 20 ms, a system monitor every 500 ms. An idle LocalCluster of two workers then used
# about 10% of a core (measured); a grading task lasts seconds, and with these settings the same cluster used about
# 1%. Set for the LocalCluster of --cluster (its workers inherit them); docs/cluster.md gives them for other workers.
QUIET = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
         "distributed.admin.system-monitor.interval": "5s"}


class WorkerMismatch(Exception):
    """A worker that does not grade as the client expects (another course version, another sandbox)."""


def local_workers(where):
    """N for "local:N" (a LocalCluster of N worker processes), None for a scheduler's address."""
    match = re.fullmatch(r"local:(\d+)", where)
    return int(match.group(1)) if match else None


# -------------------------------------------------------------------- on the workers
_lock = threading.Lock()
_sandboxes = {}  # --sandbox value -> the Sandbox this worker process chose (or why it cannot start a kernel)
_slots = []  # this worker process's free kernel slots, one per thread


def worker_version(requested, dask_worker):
    """What the client checks of a worker before sending it a submission: its course version, its sandbox (or why
    no kernel can start there) and its threads. Runs on the worker (``client.run``, which passes ``dask_worker``,
    and before each submission)."""
    version = {"course": encode.course_digest(), "threads": dask_worker.state.nthreads}
    with _lock:
        if requested not in _sandboxes:
            try:
                _sandboxes[requested] = sandboxes.choose(requested)
            except RuntimeError as e:
                _sandboxes[requested] = str(e)
    chosen = _sandboxes[requested]
    if isinstance(chosen, str):
        version["error"] = chosen
    else:
        version.update(sandbox=chosen.mode, description=chosen.description)
    return version


def mismatch(address, version, expected):
    """Why the worker at ``address`` cannot grade for this client, in one line (None when it can)."""
    if version["course"] != expected["course"]:
        return (f"worker {address} has another version of the course (code hash {version['course'][:12]}, here "
                f"{expected['course'][:12]}): install the same tinygrad_lite on every worker (pip install -c "
                "constraints.txt from the same commit) and run again")
    if "error" in version:
        return f"worker {address} cannot start a grading kernel: {version['error']}"
    if version["description"] != expected["description"]:
        return (f"worker {address} grades in another sandbox than worker {expected['address']} ({version['sandbox']}"
                f" there, {expected['sandbox']} here): give every worker the same (e.g. bubblewrap) and run again")
    if version["threads"] > MAX_THREADS:
        return (f"worker {address} has {version['threads']} threads, more than {MAX_THREADS}: start it with "
                f"--nthreads {MAX_THREADS} or fewer (one kernel per thread; more processes for more)")
    return None


def kernel_slot(thread_slot):
    """The kernel slot (``sandbox.kernel_uid``) of this worker process's thread slot: as root, distinct for every
    worker process and thread on a machine (process ids are), and from the slots of ``--jobs``."""
    return SLOT_BASE + os.getpid() * MAX_THREADS + thread_slot


def run_on_worker(lesson, codes, seeds, settings, requested, expected):
    """Run one submission's exercises on this worker (``grader.run_exercises``); (what happened, seconds)."""
    from distributed import get_worker
    worker = get_worker()
    problem = mismatch(worker.address, worker_version(requested, worker), expected)
    if problem:
        raise WorkerMismatch(problem)
    with _lock:
        if not _slots:
            _slots.append(queue.Queue())
            for k in range(worker.state.nthreads):
                _slots[0].put(k)
        font_cache = grader.build_font_cache(Path(worker.local_directory))  # once per worker (no learner code)
    start = time.monotonic()
    slot = _slots[0].get()
    try:
        ran = grader.run_exercises(settings, _sandboxes[requested], lesson, codes, seeds,
                                   sandboxes.kernel_uid(kernel_slot(slot)), font_cache, expected["course"])
    finally:
        _slots[0].put(slot)
    return ran, time.monotonic() - start


# -------------------------------------------------------------------- on the client
@contextlib.contextmanager
def _ctrl_c_ignored():
    """SIGINT ignored while the LocalCluster starts its worker processes, which keep that (an ignored signal stays
    ignored in a new program), so that Ctrl-C in a terminal, sent to every process of the command, ends the command
    with its one line instead of a traceback from each worker."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to do
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Connection:
    """``with Connection("local:2") as client:`` (or a scheduler's address): a Dask client, closed at the end
    (with the LocalCluster it started)."""

    def __init__(self, where):
        self.where, self.client, self.cluster, self.config = where, None, None, None

    def __enter__(self):
        try:  # here, not at the top: Dask is an optional extra (tinygrad_lite[cluster]), which grading on one
            import distributed  # machine never imports
        except ImportError:
            raise UsageError(INSTALL) from None
        import dask
        n = local_workers(self.where)
        self.config = dask.config.set(QUIET)  # (restored on exit)
        try:
            if n is not None:
                with _ctrl_c_ignored():  # by the workers (inherited): Ctrl-C stops the client, which closes them
                    self.cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                            dashboard_address=None, memory_limit=0)
                self.client = distributed.Client(self.cluster)
            else:
                self.client = distributed.Client(self.where, timeout=60)
        except (OSError, TimeoutError, ValueError) as e:
            self.__exit__(None, None, None)
            what = f"--cluster {self.where}" if n is not None else f"--scheduler {self.where}"
            raise UsageError(f"{what}: no Dask cluster to grade on ({(str(e).splitlines() or [''])[0][:200]})") \
                from None
        return self.client

    def __exit__(self, *exc):
        for thing in (self.client, self.cluster):
            if thing is not None:
                thing.close()
        if self.config is not None:
            self.config.__exit__(None, None, None)
        return False


def check_workers(client, where, requested, course):
    """Every worker's course version and sandbox, before any submission is sent; returns a Sandbox-like object
    (its mode and description, for the stored grades' keys and the report). Raises UsageError in one line."""
    if not client.scheduler_info()["workers"]:
        try:
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
        except TimeoutError:
            raise UsageError(f"--scheduler {where}: the scheduler has had no worker for {WAIT_FOR_WORKERS} s: start "
                             f"workers (dask worker {where}) or scale the cluster, then run again") from None
    try:
        versions = client.run(worker_version, requested)
    except Exception as e:  # noqa: BLE001  (a worker that cannot load the course: one line that names the cause)
        raise UsageError(f"a Dask worker cannot load the grader: {type(e).__name__}: "
                         f"{(str(e).splitlines() or [''])[0][:200]} (install tinygrad_lite[cluster] on every worker)"
                         ) from None
    first = sorted(versions)[0]
    expected = {**versions[first], "course": course, "address": first}  # this process's course, not the worker's
    for address in sorted(versions):
        problem = mismatch(address, versions[address], expected)
        if problem:
            raise UsageError(problem)
    chosen = sandboxes.Sandbox(expected["sandbox"], expected["description"])
    expected = {k: expected[k] for k in ("course", "address", "sandbox", "description")}
    threads = sum(v["threads"] for v in versions.values())
    return chosen, expected, f"Dask cluster {where}: {len(versions)} worker(s), {threads} thread(s), course checked"


def skeleton(lesson):
    """The lesson as a worker needs it: its setup cells, its exercise and check cells blanked (their markers kept),
    so that no solution leaves the client."""
    cells = [dict(c, source="") if c["meta"].get("exercise") or "check" in c["meta"] else c for c in lesson.cells]
    return replace(lesson, cells=cells, path=None)


def grade_all(the_grader, submissions, client, requested, expected, progress=None):
    """``grader.grade_all`` on the cluster: every submission not stored yet goes to the workers; the client judges
    and stores each as it comes back; results in order."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker
    results, todo = grader.stored_grades(the_grader, submissions, progress)
    futures, lessons = {}, {}
    run = secrets.token_hex(6)  # task keys of this run only (another run on the same scheduler has other seeds)
    for k in todo:
        sub = submissions[k]
        result, lesson = the_grader.begin(sub)
        if lesson is not None:
            states, codes = the_grader.prepare(sub, lesson)
            if codes:
                if lesson.name not in lessons:
                    lessons[lesson.name] = skeleton(lesson)
                future = client.submit(run_on_worker, lessons[lesson.name], codes, the_grader.seeds(codes),
                                       the_grader.settings, requested, expected,
                                       key=f"tinygrad-lite-grade-{run}-{k}")
                futures[future] = (k, result, lesson, states)
                continue
            result = the_grader.conclude(result, lesson, states, {})
        the_grader.store(sub, result)
        results[k] = result
        if progress:
            progress(k, sub, result, 0.0)
    try:
        for future in as_completed(list(futures)):
            k, result, lesson, states = futures.pop(future)
            try:
                ran, seconds = future.result()
            except WorkerMismatch as e:
                raise UsageError(str(e)) from None
            except KilledWorker:
                raise UsageError(f"{submissions[k].shown}: every Dask worker that graded it died (Dask gives up "
                                 "after a few): look at the workers' logs (memory, the machine); the grades stored "
                                 "so far are kept, run the same command again to resume") from None
            except (session.CourseChanged, KeyboardInterrupt):
                raise
            except Exception as e:  # noqa: BLE001  (the scheduler lost, a worker's fault: one line, not a traceback)
                first = (str(e).splitlines() or [""])[0][:200]
                raise UsageError(f"the Dask cluster failed while grading {submissions[k].shown}: {type(e).__name__}: "
                                 f"{first}; the grades stored so far are kept, run the same command again to "
                                 "resume") from None
            result = the_grader.conclude(result, lesson, states, ran)
            the_grader.store(submissions[k], result)
            results[k] = result
            if progress:
                progress(k, submissions[k], result, seconds)
    except (KeyboardInterrupt, UsageError, session.CourseChanged):
        client.cancel(list(futures))  # grades stored so far stay: the same command resumes from them
        raise
    return results
