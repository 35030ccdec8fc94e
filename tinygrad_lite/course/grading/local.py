"""Grading on this machine (``tinygrad-lite grade`` without ``--scheduler`` or ``--cluster``): the kernels run here,
``--jobs`` submissions at a time, each submission in a thread of its own that runs its kernels (``Grader``'s job
slots: as root, each its own user) and then judges them, so that at most ``jobs`` submissions are between their
first kernel and their grade. The ``Runner`` of ``grader.grade_all`` for one machine; ``cluster.py`` is the other.
"""
import concurrent.futures
import time

from . import probe, session
from . import sandbox as sandboxes
from .errors import UsageError


class OneMachine:
    """The kernels on this machine, in the sandbox ``requested`` (``--sandbox``: "auto", "bwrap" or "none")."""

    kernels = True

    def __init__(self, requested):
        self.requested = requested

    def sandbox(self, needed):
        """The sandbox chosen here; where none can start (a course in a private folder graded as root without
        bubblewrap), UsageError in one line that says why and how to fix it, unless no submission needs a kernel."""
        try:
            return sandboxes.choose(self.requested), []
        except RuntimeError as e:
            if needed:
                raise UsageError(str(e)) from None
            return sandboxes.Sandbox("none", f"none (no submission needs a kernel; none could start here: {e})"), []

    def probe(self, grader, lessons, announce):
        """This machine grades the canary (``probe.here``); UsageError in one line when it cannot."""
        try:
            probe.here(grader, lessons)
        except RuntimeError as e:
            raise UsageError(str(e)) from None
        return grader.sandbox

    def run(self, grader, jobs):
        """(k, result, seconds) for each job as it is judged, ``jobs`` at a time, in the order given for one job at a
        time; seconds: its kernels' and its judging's."""
        def work(job):
            start = time.monotonic()
            ran = grader.run_kernels(job) if job.codes else {}
            if session.stopping():  # interrupted: its kernels were killed, so this grade is not one to keep
                return job.k, None, 0
            return job.k, grader.judged(job, ran), time.monotonic() - start

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, grader.settings.jobs))
        try:
            for future in concurrent.futures.as_completed([pool.submit(work, job) for job in jobs]):
                k, result, seconds = future.result()
                if result is not None:
                    yield k, result, seconds
        except KeyboardInterrupt:
            self.stop()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def stop(self):
        """Ctrl-C: every running kernel killed, no new one started (``session.stop_all``)."""
        session.stop_all()
