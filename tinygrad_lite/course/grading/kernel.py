"""The grading kernel: the one process where a learner's code runs, inside the sandbox (see ``sandbox.py``).

It is started by the grader as ``python -I -c BOOTSTRAP LIMITS`` in a scratch folder that holds ``plan.json``:
the cells to run (the instructor's setup cells and the learner's exercise cells, in the notebook's order) and the
exercises to answer. It

1. sets its resource limits (memory, CPU time, file size, processes, open files; hard limits, so that the
   learner's code cannot raise them again) and moves the learner's output away from the control channel: fd 1
   (the grader reads it for events) is kept for the kernel, the learner's ``print`` goes to fd 2;
2. captures everything it needs (the exercises, the pipeline's recorder, the Tensor class, json, os.write)
   before any learner code runs, and installs the tripwires (``pipeline.Tripwires``): on every reference
   implementation, to note when the learner's code calls the reference of the exercise being answered, and on
   the library objects an exercise says to write yourself (``Exercise.forbid``);
3. runs the cells one by one (an error is reported, not fatal) and keeps the learner's function right after its
   exercise cell, before a later cell can rebind the name (a notebook's ``fn = use(...)`` does). There ``use``
   hands out the reference without running the learner's function (``checks.STAND_IN_ONLY``): each exercise is
   judged on its own hidden cases, and a function that loops costs its time once, in its own exercise. pyplot,
   which the setup cells import for figures grading never looks at, is imported only if a cell uses it
   (``deferred.py``);
4. says "ready", and only then reads from stdin the seeds of the hidden cases (the learner's code has run by
   then, and no file it could read holds them);
   (3 and 5 under its own clock: a cell or an exercise that runs past the plan's ``timeout`` is interrupted by an
   alarm, as Jupyter's "interrupt the kernel" does, and the kernel goes on with the next one. An endless loop then
   costs its time limit and no new kernel. The grader's kill, a little later, is the backstop for code that
   catches the interruption or never returns to Python, see ``session.py``.)
5. for each exercise, makes the hidden cases from its seed with the exercise's own ``cases(rng)`` and records the
   learner's function on each with the function a check records with (``pipeline.Recorder``): what it returns
   (``encoding.py``), what it raised (the learner's own lines), numpy's warnings, which inputs it changed in place,
   the library implementations it is or calls where the exercise forbids them, and for a differentiable exercise
   the same case again with inputs that require grad. One JSON line per case goes to ``answers.jsonl``.

It judges nothing: the grader compares those answers with the references in its own process. Everything this
process writes is treated there as untrusted data.
"""
import json
import linecache
import os
import sys

from . import deferred

MISSING = object()


class TimedOut(BaseException):
    """Raised into the learner's code by the kernel's alarm when a cell or an exercise runs past its time limit. A
    BaseException, like KeyboardInterrupt, so that an ``except Exception`` in the learner's code lets it through."""


def _set_limits(limits):
    import resource
    for name, value in limits.items():
        which = getattr(resource, name, None)
        if which is None or value is None:
            continue
        soft = hard = int(value)
        if name == "RLIMIT_CPU":
            hard = soft + 2  # SIGXCPU at the soft limit, SIGKILL at the hard one
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass


def main(argv):
    limits = json.loads(argv[0]) if argv else {}
    _set_limits(limits)
    control = os.dup(1)  # events for the grader; the learner's output goes to fd 2
    os.dup2(2, 1)
    stdin = os.fdopen(os.dup(0), "r", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # input() in the learner's code reads nothing
    write, dumps = os.write, json.dumps

    def send(event):
        try:
            write(control, (dumps(event) + "\n").encode("utf-8"))
        except OSError:
            os._exit(3)

    with open("plan.json", encoding="utf-8") as f:
        plan = json.load(f)
    os.remove("plan.json")
    answers = open("answers.jsonl", "a", encoding="utf-8")

    from ..encoding import Deep

    def record(line):
        with Deep():
            text = dumps(line)
        answers.write(text + "\n")
        answers.flush()

    Harness(plan, send, record, stdin).run()
    answers.close()
    os._exit(0)  # no atexit handlers or threads of the learner's get to run after the last answer


class Harness:
    def __init__(self, plan, send, record, stdin):
        import copy

        import numpy as np

        from ...tensor import Tensor
        from .. import checks, exercises, pipeline  # noqa: F401  (importing exercises registers every lesson's)
        from ..answers import an
        from .version import course_digest

        self.plan, self.send, self.record, self.stdin = plan, send, record, stdin
        self.pid, self.getpid, self.exit = os.getpid(), os.getpid, os._exit
        self.np = np
        self.learner_traceback, self.an = pipeline.learner_traceback, an
        self.digest = course_digest()  # the code this kernel loaded, before any learner code could change it
        wanted = {e["id"] for e in plan["exercises"]}
        # private copies, taken before any learner code runs: changing the registry's objects changes nothing here
        self.exercises = {i: copy.copy(checks.REGISTRY[i]) for i in wanted if i in checks.REGISTRY}
        # the tripwires, before any learner code runs: on every reference (a call to the exercise's own is noted)
        # and on the library objects each exercise says to write yourself, or refuses outside its building blocks
        # (a name bound to one passes its wrapper)
        tripwires = pipeline.TRIPWIRES
        tripwires.references(checks.REGISTRY)
        for exercise in checks.REGISTRY.values():
            tripwires.forbid(pipeline.forbidden_objects(exercise) + pipeline.wired(pipeline.refused_objects(exercise)))
        self.answer_case = pipeline.Recorder(tensor_class=Tensor, catch=BaseException, after_call=self._only_the_kernel,
                                             references=True, tripwires=tripwires).record
        self.functions = {}
        checks.STAND_IN_ONLY = True  # the setup cells' use() hands out the reference and runs no learner code
        self.timeout = plan.get("timeout")
        # a PID namespace of its own: the grader's sandbox says so, and the kernel is its process 1 or 2 (it never
        # is outside one: there 1 is the system's init and 2 its kernel threads' parent)
        self.own_pids = bool(plan.get("own_pid_namespace")) and os.getpid() in (1, 2)
        self.fired = False  # whether the alarm interrupted the current cell or exercise
        self.armed = False

    # ---------------------------------------------------------------- the clock
    def _on_alarm(self, signum, frame):
        if self.armed:
            self.fired = True
            raise TimedOut(f"stopped after {self.timeout:g} s, the time limit")

    def _arm(self):
        """Start the current cell's or exercise's clock: ``timeout`` seconds of wall time, then an alarm every
        half second until ``_disarm``, so that code which catches one (the recorder does, to record the learner's
        error, and then calls the function again for its gradients) is interrupted again."""
        self.fired = False
        if self.timeout:
            import signal
            signal.signal(signal.SIGALRM, self._on_alarm)
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, self.timeout, 0.5)

    def _disarm(self):
        """Stop the clock. An alarm can still ring while this is being called (before ``armed`` is cleared), so
        callers call it in a ``finally`` and once more after catching TimedOut: rings are half a second apart."""
        self.armed = False
        if self.timeout:
            import signal
            signal.setitimer(signal.ITIMER_REAL, 0)

    # ---------------------------------------------------------------- running cells
    def _run_cell(self, shell, cell):
        filename = f"<learner {cell['exercise']}>" if cell["role"] == "exercise" else f"<cell {cell['n'] + 1}>"
        error = None
        try:
            try:
                code = shell.transform_cell(cell["source"])
                linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
                self._arm()
                exec(compile(code, filename, "exec"), shell.user_ns)
            finally:
                self._disarm()
        except BaseException as exc:  # noqa: BLE001  (SystemExit and KeyboardInterrupt too: the run goes on)
            error = exc
        finally:
            self._disarm()
            self._only_the_kernel()
            plt = sys.modules.get("matplotlib.pyplot")
            if plt is not None and not deferred.waiting(plt):  # (closing them would import pyplot)
                try:
                    plt.close("all")
                except Exception:  # noqa: BLE001
                    pass
        if self.fired:
            return f"TimedOut: the cell ran for more than {self.timeout:g} s (the time limit per cell) and was stopped"
        return None if error is None else self._error_text(error)

    def _only_the_kernel(self):
        """Run after each call into the learner's code. A process the learner's code forked comes back here when
        its code returns or raises: it must not go on as a second kernel (writing events and answers), so it ends at
        once. In the kernel itself, every process the learner's code started is ended (``_end_the_others``)."""
        if self.getpid() != self.pid:
            self.exit(0)
        self._end_the_others()

    def _end_the_others(self):
        """Kill every other process of the kernel's PID namespace: what the learner's code started and left
        running. A fork bomb's processes would otherwise take the CPU from the exercises after it (whose honest
        code then runs past its time limit) until the kernel ends.

        Only in a PID namespace of its own (bubblewrap's, or unshare's in "limits only"), where the kernel is
        process 1 or 2: there ``kill(-1, SIGKILL)`` reaches exactly the processes of its sandbox, and never the
        grader's or another kernel's. Without one, the grader's kill of the kernel's session is all there is."""
        if not self.own_pids:
            return
        import signal
        import time
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # the clock's alarm waits until all are ended
        try:
            end = time.monotonic() + 2  # killed processes are gone at once; their zombies are reaped below
            while time.monotonic() < end:
                try:
                    os.kill(-1, signal.SIGKILL)  # every process this user may signal in the namespace, but init and us
                except OSError:  # ProcessLookupError: no other process is left
                    return
                try:
                    while os.waitpid(-1, os.WNOHANG)[0]:  # our own children (as process 1, every orphan too)
                        pass
                except ChildProcessError:
                    pass
                time.sleep(0.001)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})

    def _error_text(self, exc):
        try:
            return self.learner_traceback(exc)[-2000:]
        except Exception:  # noqa: BLE001
            return f"{type(exc).__name__}"

    def run(self):
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config
        config = Config()
        config.HistoryManager.enabled = False
        shell = InteractiveShell.instance(config=config)
        deferred.defer("matplotlib.pyplot")  # imported if a cell uses it: the setup cells import it for figures
        for cell in self.plan["cells"]:
            self.send({"e": "cell", "n": cell["n"]})
            error = self._run_cell(shell, cell)
            if cell["role"] == "exercise":
                self.functions[cell["exercise"]] = shell.user_ns.get(cell["name"], MISSING)
            self.send({"e": "cell_done", "n": cell["n"], "error": error})
        self.send({"e": "ready", "course": self.digest})
        line = self.stdin.readline()
        try:
            seeds = json.loads(line)["seeds"]
        except (ValueError, KeyError, TypeError):
            self.send({"e": "no_seeds"})
            return
        for spec in self.plan["exercises"]:
            key = spec.get("key", spec["id"])
            self.send({"e": "exercise", "id": key})
            self._answer(key, spec, seeds.get(key))
            self.send({"e": "exercise_done", "id": key})
        self.send({"e": "done"})

    # ---------------------------------------------------------------- answering one exercise
    def _answer(self, key, spec, seeds):
        """Record the learner's answers to one exercise's hidden cases. ``key`` names the answer in the events and
        records: the exercise id, or another key where a plan answers one exercise more than once (tests do)."""
        exercise = self.exercises.get(spec["id"])
        fn = self.functions.get(key, MISSING)
        if exercise is None or seeds is None:
            self.record({"id": key, "undefined": "this exercise has no check to grade it with"})
            return
        if fn is MISSING:
            self.record({"id": key, "undefined": f"your exercise cell does not define `{spec['name']}`"})
            return
        if not callable(fn):
            self.record({"id": key, "undefined": f"`{spec['name']}` is {self.an(type(fn).__name__)}, not a function"})
            return
        case_seed, grad_seed = int(seeds[0]), int(seeds[1])
        cases = list(exercise.cases(self.np.random.default_rng(case_seed)))
        self.record({"id": key, "cases": len(cases)})
        out_of_memory, i = 0, 0
        try:
            try:
                self._arm()  # one clock for all of the exercise's cases, as the grader's (session.py)
                for i, case in enumerate(cases):
                    self.send({"e": "case", "id": key, "i": i})
                    answer = self.answer_case(exercise, fn, case, (grad_seed + i) % 2 ** 32)
                    if self.fired:  # the recorder caught the alarm in the learner's call: this case has no answer
                        break
                    self.record({"id": key, "i": i, **answer})
                    out_of_memory += str(answer.get("error", {}).get("exception", "")).startswith("MemoryError")
                    if out_of_memory == 2:  # the next cases would only fill the memory again, until the time limit
                        self.record({"id": key, "stopped": "your function ran out of memory on two cases; the "
                                                           "cases after them were not run"})
                        return
            finally:
                self._disarm()
        except TimedOut:  # the alarm rang outside the learner's call (between cases, while recording)
            self.fired = True
        self._disarm()
        self._end_the_others()  # (after each call too, but the alarm may have cut that short)
        if self.fired:  # the grader gives this case, and the exercise, the time-out; the cases after it are not run
            self.record({"id": key, "timed_out": i})


BOOTSTRAP = ("import sys; sys.path.insert(0, {path!r}); "
             "from tinygrad_lite.course.grading.kernel import main; main(sys.argv[1:])")
