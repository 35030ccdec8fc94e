"""Grading a class: every submission in turn (or ``jobs`` at a time), each in as many kernels as it takes.

For one submission: read it (``layout.py``); refuse the exercise cells that reach for the course's answers and
flag the suspicious ones (``layout.scan``); run one kernel with every exercise (``session.py``). When that kernel
ends early (a time-out, a death, too much output), the exercise it was in keeps the cases it answered and gets
the incident as its reason; the others are then answered one exercise per kernel (the instructor's setup cells
and that exercise's cell only), so that a cell which breaks the kernel later, from a thread or a timer, costs
only its own points. The answers are judged in this process (``judge.py``), with the pipeline a check uses
(``pipeline.py``); an exercise's points count the cases that no trivial answer passes (``pipeline.score``).

Where the kernels run is a ``Runner``'s business: this machine, ``--jobs`` at a time (``local.py``), or the workers
of a Dask cluster (``cluster.py``). Everything else is done here, the same for both, by the one ``grade_all``.

Resuming: each graded submission is stored in ``OUTDIR/.work/done/`` under a key made of everything its grade
depends on (the file's bytes, its learner and lesson, the solution notebook, the limits, the secret); a rerun
takes it from there instead of grading it again (``--regrade`` says what not to take: ``reuse``). The secret
(``OUTDIR/.work/secret``, made on the first run) gives the hidden cases' seeds: the same secret gives the same
hidden cases, hence the same files.

The machines' faults are not grades: a kernel that ends before its first cell (no learner code ran: a package
missing, a broken sandbox) or a judge that raises makes the submission "not graded" (``NOT_GRADED``), with the
reason "infrastructure: ..."; it is never stored, so the next run grades it. ``probe.py`` catches most such
machines before the first submission.
"""
import hashlib
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .. import checks, pipeline
from ..display import ERROR, NOT_ATTEMPTED, PASSED
from . import judge, layout, session, version
from . import sandbox as sandboxes
from .graded import GradedExercise, GradedSubmission

GRADER_VERSION = "1"
INCIDENT_STATUS = {"timed out": "timed out", "died": "kernel died", "output": "output limit",
                   "total time": "out of time", "no start": "kernel did not start"}
# A fault of the grading machines, not of the learner (a kernel that could not start before any learner code ran, a
# Dask worker lost, the judge failing): the submission gets this status, no points, and no stored grade, so that
# the next run grades it.
NOT_GRADED = "not graded"
INFRASTRUCTURE = "infrastructure"


@dataclass
class Settings:
    timeout: float = 30
    total_timeout: float = 300
    memory: int = 2048  # MB
    max_output: int = 10  # MB
    jobs: int = 1
    lesson: str = None  # grade only this lesson (others: "wrong lesson")
    regrade: str = None  # grade again, ignoring stored grades: "all", "incidents" or a learner id (``reuse``)


def load_secret(work):
    path = work / "secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def seeds_for(secret, exercise_id):
    """(cases seed, gradients seed) of an exercise: the same for every learner (same hidden cases: fair), unknown
    without the secret."""
    digest = hashlib.sha256(f"{secret}|{exercise_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:8], "little")


def build_font_cache(work):
    """Matplotlib's font list, built once here (no learner code runs) and copied into each kernel's scratch
    folder, so that no kernel spends seconds building it."""
    cache = work / "matplotlib"
    if not any(cache.glob("fontlist*.json")):
        cache.mkdir(exist_ok=True)
        env = dict(os.environ, MPLCONFIGDIR=str(cache), MPLBACKEND="Agg")
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return str(cache)


class Grader:
    def __init__(self, settings, lessons, sandbox, work, kernels=True):
        """``kernels``: whether this process runs the kernels (False when Dask workers do: ``cluster.py``)."""
        from .. import exercises  # noqa: F401  (importing it registers every lesson's exercises)
        self.settings, self.lessons, self.sandbox, self.work = settings, lessons, sandbox, Path(work)
        self.secret = load_secret(self.work)
        self.font_cache = build_font_cache(self.work) if kernels else None
        self.course = version.course_digest()
        self.lock = threading.Lock()  # judging runs the checks' code, which is not thread-safe (warnings filters)
        self.references = {}
        self.slots = queue.Queue()  # job k runs its kernels as its own user (see sandbox.kernel_uid)
        for slot in range(max(1, settings.jobs)):
            self.slots.put(slot)

    # ---------------------------------------------------------------- caching
    def key(self, sub):
        s = self.settings
        lesson = self.lessons.get(sub.lesson)
        parts = [GRADER_VERSION, sub.digest, sub.learner, sub.lesson, sub.shown, lesson.digest if lesson else "",
                 s.timeout, s.total_timeout, s.memory, s.max_output, s.lesson, self.sandbox.mode, self.secret,
                 self.course]
        if sub.problem:  # an empty file and a named pipe (never read) have the same digest, not the same grade
            parts.append(sub.problem)
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]

    def cached(self, sub):
        """The stored grade of ``sub`` (``store``), a GradedSubmission again; None when there is none."""
        path = self.work / "done" / f"{self.key(sub)}.json"
        try:
            return GradedSubmission.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def reuse(self, sub, stored):
        """Whether the stored grade ``stored`` of ``sub`` stands (else ``--regrade`` asks to grade it again)."""
        regrade = self.settings.regrade
        if regrade == "all":
            return False
        if regrade == "incidents":
            return not (stored.incidents or stored.status == "incident")
        return regrade is None or sub.learner != regrade

    def store(self, sub, result):
        """Keep a grade for the next run; a submission not graded (infrastructure) is not kept: graded next time."""
        if result.status == NOT_GRADED:
            return
        done = self.work / "done"
        done.mkdir(exist_ok=True)
        path = done / f"{self.key(sub)}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(result.to_json(), sort_keys=True), encoding="utf-8")
        os.replace(temporary, path)

    def reference(self, exercise_id):
        if exercise_id not in self.references:
            exercise = checks.REGISTRY[exercise_id]
            self.references[exercise_id] = judge.Reference(exercise, *seeds_for(self.secret, exercise_id))
        return self.references[exercise_id]

    # ---------------------------------------------------------------- one submission
    def grade(self, sub):
        """The result of one submission, its kernels run here (the Gradescope autograder's one submission; a class
        goes through ``grade_all``)."""
        job = self.job(None, sub)
        return self.judged(job, self.run_kernels(job) if job.codes else {})

    def job(self, k, sub):
        """Submission ``k`` read and scanned (``begin``, ``prepare``), as a ``Job`` whose kernels are still to run."""
        result, lesson = self.begin(sub)
        states, codes = self.prepare(sub, lesson) if lesson is not None else ({}, {})
        return Job(k, result, lesson, states, codes, self.seeds(codes))

    def run_kernels(self, job):
        """``run_exercises`` for ``job`` on this machine, its kernels run as the user of a free job slot."""
        slot = self.slots.get()
        try:
            return run_exercises(self.settings, self.sandbox, job.lesson, job.codes, job.seeds,
                                 sandboxes.kernel_uid(slot), self.font_cache, self.course)
        finally:
            self.slots.put(slot)

    def judged(self, job, ran):
        """The result of ``job`` once its kernels ran: ``ran`` is what ``run_exercises`` returned, or a string that
        says why the machines could not run them (the submission is then not graded: ``not_graded``)."""
        if job.lesson is None:  # final without a kernel (unreadable, unknown or wrong lesson)
            return job.result
        if isinstance(ran, str):
            return self.not_graded(job.result, ran)
        return self.conclude(job.result, job.lesson, job.states, ran)

    def begin(self, sub):
        """(the submission's GradedSubmission so far, its Lesson); the Lesson is None when the result is final
        without a kernel (unreadable, unknown or wrong lesson)."""
        result = GradedSubmission(sub.learner, lesson=sub.lesson or "", path=sub.shown, sha256=sub.digest,
                                  notes=list(sub.notes))
        lesson = self.lessons.get(sub.lesson)
        if lesson is not None:
            result.max = float(sum(checks.REGISTRY[e].points for e in lesson.exercises if e in checks.REGISTRY))
        if sub.status in ("unreadable", "unknown lesson"):
            result.status, result.reason = sub.status, sub.problem
            return result, None
        if self.settings.lesson and sub.lesson != self.settings.lesson:
            # results.json keeps the notebook's own lesson; ``assignment`` is the lesson it was handed in for: the
            # gradebook's row and the feedback are that lesson's (its 0 counts there, in lms.csv and on the roster)
            result.status, result.assignment = "wrong lesson", self.settings.lesson
            result.reason = f"this is the notebook of lesson {sub.lesson}, not of {self.settings.lesson}"
            lesson = self.lessons[self.settings.lesson]
            result.max = float(sum(checks.REGISTRY[e].points for e in lesson.exercises if e in checks.REGISTRY))
            return result, None
        return result, lesson

    def seeds(self, codes):
        """{exercise id: [cases seed, gradients seed]} of the exercises to run: what the kernels need of the
        secret (which never leaves this process)."""
        return {e: list(seeds_for(self.secret, e)) for e in codes}

    @staticmethod
    def not_graded(result, why):
        """The result of a submission that a fault of the grading machines kept from being graded: no points, no
        exercises, status "not graded", the reason starting with "infrastructure:"; never stored (``store``)."""
        result.status, result.reason = NOT_GRADED, f"{INFRASTRUCTURE}: {why}"
        result.exercises, result.total, result.incidents = [], 0.0, []
        return result

    def conclude(self, result, lesson, states, ran):
        """Judge the exercises (``ran``: what ``run_exercises`` returned) and complete the submission's result."""
        for exercise_id, state in ran.items():
            if state.get("status") == INFRASTRUCTURE:
                return self.not_graded(result, state["reason"])
            states[exercise_id].update(state)
        with self.lock:
            for exercise_id in lesson.exercises:
                if exercise_id in checks.REGISTRY:
                    try:
                        result.exercises.append(self._judge(exercise_id, states[exercise_id]))
                    except Exception as e:  # noqa: BLE001  (a fault of the course's checks: never the learner's 0)
                        first = (str(e).splitlines() or [""])[0][:200]
                        return self.not_graded(result, f"the judge failed on {exercise_id} ({type(e).__name__}: "
                                                       f"{first}); please report it to the course's maintainers")
        result.total = round(sum(e.points for e in result.exercises), 2)
        result.incidents = [f"{e.id}: {e.reason}" for e in result.exercises if e.status in INCIDENT_STATUS.values()]
        flags = [f"{e.id}: {why}" for e in result.exercises for why in e.flags]
        if flags:
            result.status = "flagged"
            result.notes.append("to review: " + "; ".join(flags))
        elif result.incidents:
            result.status = "incident"
        return result

    def prepare(self, sub, lesson):
        """({exercise id: state}, {exercise id: the learner's code to run}): the exercise cells found, scanned
        (refused and flagged) before any kernel runs; an exercise not in the second dict has its status already."""
        sources = layout.learner_cells(sub, lesson)
        states = {}
        for exercise_id in lesson.exercises:
            if exercise_id not in checks.REGISTRY:
                continue
            state = {"status": None, "reason": "", "records": {}, "cases": None, "flags": [], "notes": []}
            states[exercise_id] = state
            if exercise_id not in sources:
                name = lesson.functions[exercise_id]
                state.update(status="missing", reason=f"no exercise cell for {exercise_id} was found (neither its "
                                                      f"metadata nor a cell that defines `{name}`)")
                continue
            source, how = sources[exercise_id]
            if how == "marker":
                state["notes"].append("its cell lost its exercise metadata; it was found by its `def` line")
            if len(source) > layout.MAX_CELL_CHARS:
                state.update(status="refused", reason="the exercise cell is too long to grade")
                continue
            forbidden, suspicious = layout.scan(source)
            if forbidden:
                state.update(status="refused", reason=f"not graded: {'; '.join(forbidden)}")
                continue
            state["flags"] = suspicious
        codes = {e: sources[e][0] for e in lesson.exercises if e in states and states[e]["status"] is None}
        return states, codes

    @staticmethod
    def _finished(state):
        return (state["status"] is not None or "stopped" in state
                or (state["cases"] is not None and len(state["records"]) >= state["cases"]))

    @staticmethod
    def _absorb(states, batch, plan, outcome):
        cell_exercise = {c["n"]: c["exercise"] for c in plan["cells"] if c["role"] == "exercise"}
        for n, error in outcome["cell_errors"].items():
            if n in cell_exercise and cell_exercise[n] in states:
                states[cell_exercise[n]]["cell_error"] = error
        for line in outcome["answers"]:
            exercise_id = line.get("id")
            if exercise_id not in batch:
                continue
            state = states[exercise_id]
            if isinstance(line.get("undefined"), str):
                if state["status"] is None and str(state.get("cell_error", "")).startswith("TimedOut:"):
                    # not defined because its cell ran out of time: an incident (a busy machine's, maybe), which
                    # `--regrade incidents` grades again, not an answer that is missing
                    state.update(status="timed out", reason=f"timed out after {plan['timeout']:g} s, while running "
                                                            "your exercise cell (before any case: it never finished "
                                                            "defining your function)")
                elif state["status"] is None:
                    reason = line["undefined"][:300]
                    if state.get("cell_error"):
                        reason += "; the cell raised an error:\n" + state["cell_error"][-800:]
                    state.update(status="undefined", reason=reason)
            elif isinstance(line.get("cases"), int) and "i" not in line:
                state["cases"] = line["cases"]
            elif isinstance(line.get("stopped"), str):
                state["stopped"] = line["stopped"][:300]
            elif isinstance(line.get("timed_out"), int) and state["status"] is None:  # the kernel's own clock
                case = line["timed_out"]
                state.update(status="timed out", reason=f"timed out after {plan['timeout']:g} s, while running "
                                                        f"your function on case {case + 1}")
            elif isinstance(line.get("i"), int):
                state["records"][line["i"]] = line

    @staticmethod
    def _culprit(plan, outcome, batch):
        where = outcome["where"]
        if where.get("phase") == "exercise" and where.get("id") in batch:
            return where["id"]
        if where.get("phase") == "cell":
            for cell in plan["cells"]:
                if cell["n"] == where.get("n") and cell["role"] == "exercise":
                    return cell["exercise"]
        return batch[0] if len(batch) == 1 else None

    @staticmethod
    def _incident_reason(outcome, plan, culprit):
        where = outcome["where"]
        if where.get("phase") == "exercise":
            case = where.get("i")
            at = f"while running your function on case {case + 1}" if isinstance(case, int) else "in the exercise"
        elif where.get("phase") == "cell":
            own = any(c["n"] == where.get("n") and c["role"] == "exercise" for c in plan["cells"])
            at = "while running your exercise cell" if own else f"in cell {where.get('n', 0) + 1} (a setup cell)"
        else:
            at = "before the hidden cases ran"
        return f"{outcome['reason']}, {at}"

    def _judge(self, exercise_id, state):
        """The GradedExercise of ``exercise_id``, from its ``state`` after the kernels (``prepare``, ``_absorb``)."""
        exercise = checks.REGISTRY[exercise_id]
        reference = self.reference(exercise_id)
        n = len(reference.cases)
        flags = state["flags"] + ["the kernel's record of its answers was cut short (judged on those recorded): "
                                  "code in the notebook (any exercise cell's: look for file access) changed or "
                                  "removed files in the kernel's working folder, where the grader's files are"] * bool(
                                      state.get("answers_cut"))
        entry = GradedExercise(exercise_id, float(exercise.points), status=state["status"], reason=state["reason"],
                               total_cases=n, flags=flags, notes=state["notes"])
        if state["status"] in ("missing", "refused", "undefined"):
            return entry
        verdicts, passed = judge.judge_exercise(exercise, reference, state["records"])
        if state["status"] is not None:  # an incident: the case it happened in gets its reason
            for verdict in verdicts:
                if verdict.status == judge.NOT_RUN:
                    verdict.status, verdict.detail = state["status"], state["reason"]
                    break
        for verdict in verdicts:
            if verdict.status == judge.NOT_RUN and "stopped" in state:
                verdict.detail = state["stopped"]
        entry.cases = verdicts
        entry.passed_cases = passed
        entry.points = pipeline.score(exercise.points, verdicts)
        # the cases that a trivial answer passes too earn no points (see pipeline.score): the feedback says which
        entry.left_out = [[v.where, v.trivial, v.visible] for v in verdicts if not v.informative]
        if state["status"] is None:
            statuses = {v.status for v in verdicts} - {judge.NOT_RUN}
            if passed == n:
                entry.status = "passed"
            elif statuses == {NOT_ATTEMPTED}:
                entry.status = "not attempted"
            elif entry.points > 0:
                entry.status = "partial"
            elif statuses == {ERROR}:
                entry.status = "error"
            else:
                entry.status = "failed"
            if entry.status != "passed":
                failing = next(v for v in verdicts if v.status != PASSED)
                entry.reason = f"{failing.where}: {failing.status}"
        hints = []
        for verdict in verdicts:
            for hint in verdict.hints:
                if hint not in hints:
                    hints.append(hint)
        entry.hints = hints  # (the instructor's; what a learner sees, masked, comes with judge.mask_hidden)
        return entry


def run_exercises(settings, sandbox, lesson, codes, seeds, uid, font_cache, course):
    """Run the exercises in ``codes`` ({exercise id: the learner's code}) in kernels, all in one kernel first, then,
    after an incident, one per kernel; {exercise id: what happened}: ``status`` (None when its cases all ran, else
    the incident), ``reason``, ``records`` (the kernel's answers by case, untrusted data), ``cases`` and, when the
    kernel said so, ``stopped`` or ``cell_error``. It needs of the grader only these arguments (no notebook, no
    secret, no solution of an exercise), so that a Dask worker can run it (``cluster.py``). ``seeds``: the hidden
    cases' seeds of each exercise, given to a kernel only after the learner's cells ran (``session.py``)."""
    s = settings
    states = {e: {"status": None, "reason": "", "records": {}, "cases": None} for e in codes}
    queue = [e for e in lesson.exercises if e in codes]
    deadline = time.monotonic() + s.total_timeout
    together = True
    limits = sandboxes.limits(s.memory, s.total_timeout + 10, uid)
    while queue:
        if time.monotonic() >= deadline:
            for exercise_id in queue:
                states[exercise_id].update(status="out of time", reason="not graded: the submission ran out of "
                                                                        f"its total time ({s.total_timeout:g} s)")
            break
        batch = list(queue) if together else queue[:1]
        plan = layout.plan(lesson, {e: codes[e] for e in batch}, batch)
        plan["timeout"] = s.timeout  # the kernel's own clock per cell and exercise (kernel.py); the kill is later
        plan["own_pid_namespace"] = sandbox.own_pid_namespace  # the kernel ends what the learner's code started
        outcome = session.run_kernel(sandbox, plan, {e: seeds[e] for e in batch}, limits, s.timeout, deadline,
                                     s.max_output * 2 ** 20, font_cache, uid, course)
        if outcome.get("course_changed") and version.course_digest() != course:
            raise session.CourseChanged("the course's code (tinygrad_lite/course) changed while grading: the "
                                        "kernels would judge other cases than the grader; run the command again")
        if outcome.get("infrastructure"):  # the kernel did not start: no learner code ran, none of this is theirs
            for exercise_id in codes:
                states[exercise_id] = {"status": INFRASTRUCTURE, "reason": "a grading kernel could not start: "
                                                                           + outcome["infrastructure"]}
            break
        Grader._absorb(states, batch, plan, outcome)
        finished = [e for e in batch if Grader._finished(states[e])]
        if outcome["end"] == "done":
            for exercise_id in batch:
                if Grader._finished(states[exercise_id]):
                    continue
                if states[exercise_id]["records"]:  # answers, but not the count of its cases: a file was changed
                    states[exercise_id]["answers_cut"] = True  # (judged on the answers there are, and flagged)
                else:
                    states[exercise_id].update(status="kernel died", reason="the kernel gave no answer")
            queue = [e for e in queue if e not in batch]
            continue
        culprit = Grader._culprit(plan, outcome, batch)
        status = INCIDENT_STATUS.get(outcome["end"], "kernel died")
        if culprit is not None:
            state = states[culprit]
            state.update(status=status, reason=Grader._incident_reason(outcome, plan, culprit))
            finished.append(culprit)
        queue = [e for e in queue if e not in finished]
        if outcome["end"] == "total time":
            for exercise_id in queue:
                states[exercise_id].update(status="out of time", reason="not graded: " + outcome["reason"])
            break
        together = False  # after an incident: one exercise per kernel, so that none pays for another
    return states


def stored_grades(grader, submissions, progress=None):
    """(results, todo): the stored grade of each submission that has one (reported to ``progress``), None for the
    others, and the indices of those others, still to grade."""
    results, todo = [None] * len(submissions), []
    for k, sub in enumerate(submissions):
        cached = grader.cached(sub)
        if cached is not None and grader.reuse(sub, cached):
            results[k] = cached
            if progress:
                progress(k, sub, cached, None)
        else:
            todo.append(k)
    return results, todo


@dataclass
class Job:
    """Submission ``k``, read and scanned (``Grader.job``), whose kernels are to run: its ``result`` so far, its
    Lesson (None when that result is final without a kernel), the exercises' ``states``, the learner's ``codes`` to
    run ({exercise id: code}; none: nothing to run) and their ``seeds``."""
    k: int
    result: GradedSubmission
    lesson: object
    states: dict
    codes: dict
    seeds: dict


class Runner(Protocol):
    """Where a class's kernels run: this machine, ``--jobs`` submissions at a time (``local.OneMachine``), or the
    workers of a Dask cluster (``cluster.Dask``). ``grade`` asks it, in this order: ``sandbox`` (before anything
    is written), ``probe`` (before the first kernel, when a submission is to be graded), ``run`` (in
    ``grade_all``), and ``stop`` on Ctrl-C."""

    kernels: bool  # whether this process runs kernels (it then builds the font cache they copy: ``Grader``)

    def sandbox(self, needed) -> tuple:
        """(the Sandbox the kernels run in, lines to tell the instructor), or UsageError in one line. ``needed``:
        whether any submission needs a kernel (else a place where no kernel can start still reports)."""

    def probe(self, grader, lessons, announce) -> object:
        """Every place that runs kernels proves it can, on the canary (``probe.py``); the Sandbox they grade in,
        or UsageError in one line when none can."""

    def run(self, grader, jobs) -> Generator:
        """(k, result, seconds) for each of ``jobs`` as its kernels end, judged (``Grader.judged``, here or in a
        thread of the runner's); a job interrupted by Ctrl-C gives none."""

    def stop(self) -> None:
        """Ctrl-C: end the kernels running and start no other."""


def grade_all(grader, submissions, runner, progress=None):
    """Grade every submission, using stored grades where they exist; results in order. ``runner`` runs the
    kernels (``Runner``: this machine or a Dask cluster); the rest is the same for both: each submission is read
    and scanned here (``Grader.job``), each grade stored as it comes (a rerun resumes from the grades stored, on
    one machine or the other) and reported to ``progress(k, submission, result, seconds)`` (seconds None for a
    stored grade)."""
    results, todo = stored_grades(grader, submissions, progress)
    finished = runner.run(grader, [grader.job(k, submissions[k]) for k in todo])
    try:
        for k, result, seconds in finished:
            grader.store(submissions[k], result)
            results[k] = result
            if progress:
                progress(k, submissions[k], result, seconds)
    except KeyboardInterrupt:
        runner.stop()  # grades stored so far stay: the same command resumes from them
        raise
    finally:
        finished.close()
    return results
