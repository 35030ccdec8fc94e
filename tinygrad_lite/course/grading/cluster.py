"""Grading on a Dask cluster: ``tinygrad-lite grade SUBMISSION... --out OUTDIR --scheduler ADDRESS`` sends each
submission to the workers of a running ``dask.distributed`` scheduler; ``--cluster local:N`` starts a
``LocalCluster`` of N worker processes of one thread each on this machine (how the tests run it).

What runs where. The client (the process that runs ``tinygrad-lite grade``) does everything it does on one machine
except run kernels (``Dask`` is the ``grader.Runner`` of ``grader.grade_all`` here, ``local.OneMachine`` on one
machine): it reads the notebooks, scans the exercise cells (``layout.scan``), derives the seeds from the
secret, judges the answers, stores each grade as it comes back and writes the gradebook. A worker gets, per
submission, only what a kernel run needs (``grader.run_exercises``): the learner's exercise cells that are to run,
the instructor's setup cells of that lesson (the solution notebook's exercise and check cells blanked: no solution
leaves the client), the limits, the hidden cases' seeds of those exercises, and the course version. It runs them
with the same code as on one machine (``session.py``, ``sandbox.py``): its own sandbox, chosen on the worker with
``--sandbox``, the same limits, as many kernels as it takes; and it sends back the kernels' answers, unjudged.

Before any submission is sent, every worker reports its course version (the hash of the course package's code,
``version.course_digest``: the checks, the references, the grader) and its sandbox: a worker whose version differs
from the client's (or that has more than ``MAX_THREADS`` threads) stops the run with one line that names it,
before anything is written. Then every worker grades the canary (``probe.py``: a real kernel on the instructor's
solution of the first exercise, judged here): a worker that cannot start a kernel or whose answers are wrong is
named with the fix and left out (the submissions go only to the workers that passed, ``workers=``); with none
left, the run stops. The workers that passed must grade in the same sandbox, else the run stops with one line
(``same_sandbox``: compared after the canary, so that a worker it leaves out cannot stop the run). A worker that
joins later gets no submission of this run. The solutions need not be on the workers: their cells travel with
each submission.

Nothing lost, nothing counted twice: a grade exists only once the client has judged and stored it
(``OUTDIR/.work/done/``, as on one machine). When a worker dies, the scheduler gives its submissions to another
worker; the answers of the dead one never arrive, and a submission's grade is taken from the one answer that does.
A submission that no worker could run (Dask gave up after a few deaths, a worker's error, every worker that
passed the canary gone) is "not graded (infrastructure: ...)", not stored: the next run grades it.
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
  answer (``encoding.decode``). No verdict is taken from a worker.
- As root, the kernels of a worker run as user ids of their own, distinct per worker process and thread on one
  machine (``kernel_slot``), so that a fork bomb in one kernel cannot starve another worker's kernels.
"""
import contextlib
import importlib.util
import os
import queue
import re
import secrets
import signal
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path

from . import grader, probe, session, version
from . import sandbox as sandboxes
from .errors import UsageError

INSTALL = 'grading on a Dask cluster needs Dask: pip install "tinygrad_lite[cluster]"'
ANSWER_WITHIN = 60  # seconds for the address of --scheduler to answer as a Dask scheduler
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
    report = {"course": version.course_digest(), "threads": dask_worker.state.nthreads}
    with _lock:
        if requested not in _sandboxes:
            try:
                _sandboxes[requested] = sandboxes.choose(requested)
            except RuntimeError as e:
                _sandboxes[requested] = str(e)
    chosen = _sandboxes[requested]
    if isinstance(chosen, str):
        report["error"] = chosen
    else:
        report.update(sandbox=chosen.mode, description=chosen.description)
    return report


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
        self.lines = []  # what to tell the instructor once the run starts: the dashboard, Dask's warnings

    def __enter__(self):
        try:  # here, not at the top: Dask is an optional extra (tinygrad_lite[cluster]), which grading on one
            import distributed  # machine never imports
        except ImportError:
            raise UsageError(INSTALL) from None
        import dask
        n = local_workers(self.where)
        self.config = dask.config.set(QUIET)  # (restored on exit)
        try:
            with warnings.catch_warnings(record=True) as caught:  # Dask's warnings: one line each, not a traceback
                warnings.simplefilter("always")
                if n is not None:
                    with _ctrl_c_ignored():  # by the workers (inherited): Ctrl-C stops the client, which closes them
                        self.cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                                dashboard_address=":0", memory_limit=0)
                    self.client = distributed.Client(self.cluster)
                else:
                    problem = not_a_scheduler(self.where, ANSWER_WITHIN)
                    if problem:
                        raise UsageError(f"--scheduler {self.where}: no Dask cluster to grade on ({problem})")
                    self.client = distributed.Client(self.where, timeout=ANSWER_WITHIN)
            for warning in dict.fromkeys(str(w.message).splitlines()[0][:200] for w in caught if str(w.message)):
                self.lines.append(f"Dask: {warning}")
            self.lines.append(dashboard(self.client))
        except UsageError:
            self.__exit__(None, None, None)
            raise
        except (OSError, TimeoutError, ValueError, MemoryError) as e:
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


def not_a_scheduler(address, seconds):
    """None when a Dask scheduler answers at ``address`` within ``seconds``; else why not, in a few words.
    ``distributed.Client`` alone would hang on a server that accepts the connection and never speaks Dask (the
    scheduler's own dashboard, whose port its log prints next to the scheduler's), or read an HTTP reply as the
    length of a message and fail allocating exabytes."""
    import asyncio
    import socket

    from distributed.comm import connect
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    if ("://" not in address or address.startswith("tcp://")) and port.isdigit():  # refused at once: Dask's connect
        # would retry for ``seconds``
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=min(seconds, 10)).close()
        except ConnectionRefusedError:
            return ("nothing listens there (connection refused): start the scheduler (dask scheduler) on that "
                    "machine, or give the address its log names as 'Scheduler at'")
        except OSError:
            pass  # (a timeout, an unknown host: Dask's own connect says it below)

    async def identity():
        comm = await connect(address, timeout=seconds)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            await comm.close()
    box = {}

    def ask():  # in a thread of its own: its own event loop, whatever loop the caller's thread runs (a notebook's)
        try:
            box["reply"] = asyncio.run(asyncio.wait_for(identity(), 1.5 * seconds + 1))
        except BaseException as e:  # noqa: BLE001  (said below, in the caller's thread)
            box["error"] = e
    asker = threading.Thread(target=ask, name="tinygrad-lite-scheduler-probe", daemon=True)
    asker.start()
    asker.join(1.5 * seconds + 5)  # (connecting gives up after ``seconds``: then nothing listens there)
    error, reply = box.get("error"), box.get("reply")
    if asker.is_alive() or isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return ("something there took the connection but never answered as a Dask scheduler: is it the "
                "dashboard's port? The scheduler's is the one its log names as 'Scheduler at' (8786 by default)")
    if error is not None:  # OSError (nothing listens), or a garbled reply: MemoryError, ValueError, ...
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        garbled = isinstance(error, (MemoryError, ValueError, TypeError, KeyError))
        return ("what answered there is not a Dask scheduler (its reply is not Dask's protocol)" if garbled
                else f"{type(error).__name__}: {first}")
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        return f"what answered there is not a Dask scheduler (it says it is a {reply.get('type', '?')})" \
            if isinstance(reply, dict) else "what answered there is not a Dask scheduler"
    return None


def dashboard(client):
    """One line with the address of the scheduler's dashboard, the live view of a run (each submission is a task,
    named tinygrad-lite-grade-...), or why there is none."""
    if "dashboard" not in client.scheduler_info().get("services", {}):
        return "Dask dashboard: none (the scheduler was started without one)"
    note = "" if importlib.util.find_spec("bokeh") else " (its pages need bokeh by the scheduler: pip install bokeh)"
    return f"Dask dashboard: {client.dashboard_link}{note}"


def check_workers(client, where, requested, course):
    """Every worker's course version and sandbox, before any submission is sent; returns a Sandbox-like object
    (its mode and description, for the stored grades' keys and the report), the expected version, the lines to
    print, and the addresses of the workers that may grade. A worker where no kernel can start (its sandbox) is
    left out, in one line; another course version raises UsageError in one line. Sandboxes are compared later,
    among the workers that pass the canary (``same_sandbox``): grades must not depend on the worker."""
    if not client.scheduler_info()["workers"]:
        print(f"--scheduler {where}: no worker yet; waiting up to {WAIT_FOR_WORKERS} s for one (start one with "
              f"dask worker {where}; Ctrl-C stops)", flush=True)
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
    lines, usable = [], sorted(a for a in versions if "error" not in versions[a])
    for address in sorted(set(versions) - set(usable)):
        if versions[address]["course"] != course:
            raise UsageError(mismatch(address, versions[address], {"course": course}))
        lines.append(f"worker {address} cannot start a grading kernel: {versions[address]['error']}; left out of "
                     "this run")
    if not usable:
        raise UsageError(f"no Dask worker can start a grading kernel: {lines[0]} (each worker: the same)")
    own = {a: {"course": course, "address": a, "sandbox": versions[a]["sandbox"],
               "description": versions[a]["description"]} for a in usable}  # this process's course, not the worker's
    for address in usable:
        problem = mismatch(address, versions[address], own[address])
        if problem:
            raise UsageError(problem)
    threads = sum(versions[a]["threads"] for a in usable)
    line = f"Dask cluster {where}: {len(usable)} worker(s), {threads} thread(s), course checked"
    chosen, expected = same_sandbox(own, usable, strict=False)
    return chosen, expected, [line, *lines], usable


def same_sandbox(expected, addresses, strict=True):
    """The sandbox the workers at ``addresses`` grade in (a Sandbox-like object) and what each of them is then
    expected to report (``mismatch``). ``expected`` holds each worker's own report ({"workers": ...} once it has
    been through here). With ``strict``, workers that disagree raise UsageError in one line: grades must not depend
    on the worker. Not strict (before the canary), the first worker's is taken and the others' kept, because a
    worker that the canary then leaves out (one that cannot run a kernel may still report a sandbox) must not stop
    the run."""
    own = expected.get("workers", expected)
    first = own[addresses[0]]
    if strict:
        for address in addresses:
            problem = mismatch(address, {**own[address], "threads": 1}, first)
            if problem:
                raise UsageError(problem)
    chosen = sandboxes.Sandbox(first["sandbox"], first["description"])
    return chosen, {**first, "workers": {a: own[a] for a in own}}


def probe_workers(client, the_grader, lessons, requested, expected, addresses, announce=None):
    """The addresses, among ``addresses``, of the workers that graded the canary right (``probe.py``): the others
    are named, each in one line with what failed and the fix, and get no submission of this run. UsageError when no
    worker is left. Each worker runs the canary at once, so this costs one kernel's time, not one per worker."""
    from distributed import wait
    lesson, codes = probe.canary(lessons)
    if lesson is None:
        return list(addresses)
    settings = probe.settings_for(the_grader.settings)
    run = secrets.token_hex(6)
    own = expected.get("workers", {})
    futures = {address: client.submit(run_on_worker, skeleton(lesson), codes, probe.seeds(codes), settings,
                                      requested, own.get(address, expected), workers=[address],
                                      allow_other_workers=False, pure=False, key=f"tinygrad-lite-probe-{run}-{n}")
               for n, address in enumerate(addresses)}
    with contextlib.suppress(TimeoutError):
        wait(list(futures.values()), timeout=settings.total_timeout + session.STARTUP_SECONDS)
    good, problems = [], []
    for address, future in futures.items():
        if future.status == "finished":
            why = probe.problem(future.result()[0], codes)
        elif future.status == "error":
            error = future.exception()
            why = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}"
        else:
            future.cancel()
            why = "it ran no kernel in time"
        if why:
            problems.append(f"worker {address} cannot grade: {why}; left out of this run. Fix: "
                            f"{probe.fix(why, 'worker ' + address)}")
        else:
            good.append(address)
    for line in problems:
        if announce:
            announce(line)
    if not good:
        more = f" (and {len(problems) - 1} more, named above)" if len(problems) > 1 else ""
        raise UsageError(f"no Dask worker can grade, nothing was graded: {problems[0]}{more}; then run the same "
                         "command again")
    return good


def skeleton(lesson):
    """The lesson as a worker needs it: its setup cells, its exercise and check cells blanked (their markers kept),
    so that no solution leaves the client."""
    cells = [dict(c, source="") if c["meta"].get("exercise") or "check" in c["meta"] else c for c in lesson.cells]
    return replace(lesson, cells=cells, path=None)


class Dask:
    """The kernels on the workers of the Dask cluster of ``connection`` (``Connection``, entered), each in the
    sandbox ``requested`` (``--sandbox``) chosen on the worker: the ``grader.Runner`` of ``--scheduler`` and
    ``--cluster``."""

    kernels = False
    GONE = "every Dask worker that passed the check before grading left the cluster"

    def __init__(self, connection, requested):
        self.client, self.where, self.lines = connection.client, connection.where, connection.lines
        self.requested = requested
        self.expected = self.addresses = self.workers = None
        self.pending = set()

    def sandbox(self, needed):
        """Every worker's course version and sandbox, before anything is written (``check_workers``); the lines to
        tell: the workers, Dask's own and the dashboard."""
        chosen, self.expected, lines, self.addresses = check_workers(self.client, self.where, self.requested,
                                                                     version.course_digest())
        return chosen, [*lines, *self.lines]

    def probe(self, grader, lessons, announce):
        """The workers that grade the canary right, and no others, get the submissions (``probe_workers``); they
        must grade in one sandbox (``same_sandbox``), said again when it is not the first worker's."""
        self.workers = probe_workers(self.client, grader, lessons, self.requested, self.expected, self.addresses,
                                     announce)
        agreed, self.expected = same_sandbox(self.expected, self.workers)  # those that passed: one sandbox
        if agreed.description != grader.sandbox.description:  # the first worker was left out by the canary
            grader.sandbox = agreed
            if announce:
                announce(f"sandbox: {agreed.description}")
        return grader.sandbox

    def run(self, grader, jobs):
        """Every job with kernels to run goes to the workers (only to those that passed the probe, when it ran);
        the client judges each as it comes back. A submission that no worker could run (every worker that took it
        died, a worker's fault, the workers that passed the probe all gone) is "not graded (infrastructure: ...)"
        (``Grader.judged``), and ``grade_all`` does not store it: the next run grades it."""
        from distributed import wait
        from distributed.scheduler import KilledWorker
        futures, lessons = {}, {}
        run = secrets.token_hex(6)  # task keys of this run only (another run on the same scheduler has other seeds)
        where = {} if self.workers is None else {"workers": list(self.workers), "allow_other_workers": False}
        try:
            for job in jobs:
                if not job.codes:  # nothing to run: judged at once
                    yield job.k, grader.judged(job, {}), 0.0
                    continue
                if job.lesson.name not in lessons:
                    lessons[job.lesson.name] = skeleton(job.lesson)
                future = self.client.submit(run_on_worker, lessons[job.lesson.name], job.codes, job.seeds,
                                            grader.settings, self.requested, self.expected,
                                            key=f"tinygrad-lite-grade-{run}-{job.k}", **where)
                futures[future] = job
                self.pending.add(future)
            while self.pending:
                try:
                    done, self.pending = wait(list(self.pending), timeout=30, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    alive = set(self.client.scheduler_info()["workers"])
                    if self.workers is not None and not set(self.workers) & alive:
                        gone, self.pending = self.pending, set()  # restricted to workers that are gone: they would
                        self.client.cancel(list(gone))  # wait for ever
                        for future in gone:
                            yield futures[future].k, grader.judged(futures[future], self.GONE), 0.0
                    continue
                for future in done:
                    job, seconds = futures[future], 0.0
                    try:
                        ran, seconds = future.result()
                    except (session.CourseChanged, KeyboardInterrupt):
                        raise
                    except KilledWorker:
                        ran = ("every Dask worker that ran it died (Dask gives up after a few): look at the workers' "
                               "logs (memory, the machine)")
                    except Exception as e:  # noqa: BLE001  (a worker's fault, the scheduler lost: this one, not all)
                        first = (str(e).splitlines() or [""])[0][:200]
                        ran = f"the Dask worker failed: {type(e).__name__}: {first}"
                    yield job.k, grader.judged(job, ran), seconds
        finally:
            self.stop()  # (Ctrl-C, an error, the end: nothing of this run stays on the scheduler)

    def stop(self):
        """Ctrl-C: the submissions not graded yet are cancelled (the grades stored stay)."""
        pending, self.pending = self.pending, set()
        if pending:
            self.client.cancel(list(pending))
