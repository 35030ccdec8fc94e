"""Before a class is graded: every place that will run its kernels (this machine, or each Dask worker) proves that it
can, on a notebook whose grade is known.

Why. A machine that cannot run a grading kernel (a worker installed without IPython, a sandbox that does not work
there) would otherwise give every learner it grades 0 with a reason that blames the learner ("the kernel exited
with status 1"). So, before the first submission, the grader sends each such place the canary: the first exercise
of the first lesson, answered by the instructor's own solution cell, with the lesson's setup cells, under the same
sandbox and limits as a learner's notebook. Its answers come back and are judged here like any learner's; the
canary must earn all its points. A place where it does not is named, with what went wrong and how to fix it
(``fix``), and gets no submission: on one machine the run stops before grading anyone; on a cluster that worker is
left out, and the run stops only when no worker is left.

The canary's hidden cases come from seeds of its own (``SEEDS``), not from the class's secret: the canary's answers
are no secret, and nothing of the class's hidden cases reaches a machine that has not proved itself.

What it cannot catch: a fault that comes later (a worker lost mid-run, a kernel that cannot start on a machine that
filled up). The grader treats those the same way: a kernel that ends before its first cell ran (no learner code
had run) is the machine's fault (``session.py``), and the submission is "not graded (infrastructure: ...)", never
stored, so that the next run grades it (``grader.py``).
"""
from dataclasses import replace

from .. import checks
from ..display import PASSED
from . import grader, judge
from . import sandbox as sandboxes
from .grader import INFRASTRUCTURE

SEEDS = (20261125, 1125)  # the canary's cases and gradients seeds (public: see above)
INSTALL = 'pip install -c constraints.txt "tinygrad_lite[cluster]"'
_PASSED = set()  # what passed here already, in this process (a test suite grades many times)


def canary(lessons):
    """(Lesson, {exercise id: the instructor's solution cell}) for the first exercise of the first lesson that has
    a registered exercise; (None, {}) when no lesson has one."""
    for name in sorted(lessons):
        lesson = lessons[name]
        for exercise_id in lesson.exercises:
            if exercise_id in checks.REGISTRY:
                source = next(c["source"] for c in lesson.cells if c["meta"].get("exercise") == exercise_id)
                return lesson, {exercise_id: source}
    return None, {}


def settings_for(settings):
    """The limits the canary runs under: the class's, with at least a minute per cell (a machine that is merely
    slow must not be taken for a broken one because the instructor chose a tight --timeout)."""
    return replace(settings, timeout=max(settings.timeout, 60), total_timeout=max(settings.total_timeout, 180))


def seeds(codes):
    return {exercise_id: list(SEEDS) for exercise_id in codes}


def problem(ran, codes):
    """Why the canary's run ``ran`` (what ``grader.run_exercises`` returned) shows that this place cannot grade, in
    one sentence; None when its answers earn all their points."""
    (exercise_id,) = codes
    state = ran.get(exercise_id) or {"status": "kernel died", "reason": "no answer came back"}
    if state.get("status") == INFRASTRUCTURE:
        return state["reason"]
    if state.get("status") is not None:
        return f"the canary (the solution of {exercise_id}) met an incident: {state['status']}, {state['reason']}"
    exercise = checks.REGISTRY[exercise_id]
    verdicts, passed = judge.judge_exercise(exercise, judge.Reference(exercise, *SEEDS), state.get("records", {}))
    if passed == len(verdicts):
        return None
    failing = next(v for v in verdicts if v.status != PASSED)
    detail = (failing.detail or "").splitlines()[:1]
    return (f"the instructor's solution of {exercise_id} passed {passed} of {len(verdicts)} cases there "
            f"({failing.where}: {failing.status}{': ' + detail[0][:160] if detail else ''})")


def fix(why, where):
    """What to do about ``why`` (a ``problem``) at ``where`` ("this machine" or a worker's address), in one clause."""
    if "No module named" in why or "ImportError" in why:
        return (f"install what a grading kernel needs in the Python environment {where} grades with, from the same "
                f"commit as here: {INSTALL} (docs/cluster.md)")
    if "sandbox" in why or "bwrap" in why or "bubblewrap" in why:
        return "make the sandbox work there (or grade without it: --sandbox none), see README, 'Sandbox'"
    if "passed" in why:
        return ("install the same versions as here (pip install -c constraints.txt from the same commit): another "
                "numpy or library version computes other answers")
    return "look at that machine (memory, disk, the Python environment), then run the same command again"


def here(the_grader, lessons):
    """Run the canary on this machine; raises RuntimeError (one line: what failed and the fix) when it fails."""
    lesson, codes = canary(lessons)
    s = the_grader.settings
    key = (the_grader.sandbox.mode, the_grader.course, lesson and lesson.digest, s.memory, s.max_output)
    if lesson is None or key in _PASSED:
        return
    slot = the_grader.slots.get()
    try:
        ran = grader.run_exercises(settings_for(the_grader.settings), the_grader.sandbox, lesson, codes,
                                   seeds(codes), sandboxes.kernel_uid(slot), the_grader.font_cache,
                                   the_grader.course)
    finally:
        the_grader.slots.put(slot)
    why = problem(ran, codes)
    if why:
        raise RuntimeError(f"this machine cannot grade: {why}; nothing was graded. Fix: {fix(why, 'this machine')}")
    _PASSED.add(key)
