"""The grading kernel: the one process where a learner's code runs, inside the sandbox (see ``sandbox.py``).

It is started by the grader as ``python -I -c BOOTSTRAP LIMITS`` in a scratch folder that holds ``plan.json``:
the cells to run (the instructor's setup cells and the learner's exercise cells, in the notebook's order) and the
exercises to answer. It

1. sets its resource limits (memory, CPU time, file size, processes, open files; hard limits, so that the
   learner's code cannot raise them again) and moves the learner's output away from the control channel: fd 1
   (the grader reads it for events) is kept for the kernel, the learner's ``print`` goes to fd 2;
2. captures everything it needs (the exercises, the check helpers, the Tensor class, json, os.write) before any
   learner code runs, and wraps every reference implementation in a tripwire that notes when the learner's
   code calls the reference of the exercise being answered;
3. runs the cells one by one (an error is reported, not fatal) and keeps the learner's function right after its
   exercise cell, before a later cell can rebind the name (a notebook's ``fn = use(...)`` does);
4. says "ready", and only then reads from stdin the seeds of the hidden cases (the learner's code has run by
   then, and no file it could read holds them);
5. for each exercise, makes the hidden cases from its seed with the exercise's own ``cases(rng)`` and runs the
   learner's function on each, as a check does: what it returns (``encode.py``), what it raised (the learner's
   own lines), numpy's warnings, which inputs it changed in place, and for a differentiable exercise the same
   case again with inputs that require grad: whether the result is connected to them, and the gradients of a
   seeded random weighted sum of it. One JSON line per case goes to ``answers.jsonl``.

It judges nothing: the grader compares those answers with the references in its own process. Everything this
process writes is treated there as untrusted data.
"""
import json
import os
import sys

MISSING = object()


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

    from .encode import Deep

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
        import linecache
        import traceback

        import numpy as np

        from ... import tensor as make_tensor
        from ...tensor import Tensor
        from .. import checks, exercises  # noqa: F401  (importing it registers every lesson's exercises)
        from ..answers import TensorAnswer, tensor_parts
        from .encode import Encoder, TooLarge, course_digest

        self.plan, self.send, self.record, self.stdin = plan, send, record, stdin
        self.pid, self.getpid, self.exit = os.getpid(), os.getpid, os._exit
        self.np, self.copy, self.linecache, self.traceback = np, copy, linecache, traceback
        self.Tensor, self.make_tensor, self.TensorAnswer, self.tensor_parts = (Tensor, make_tensor, TensorAnswer,
                                                                               tensor_parts)
        self.Encoder, self.TooLarge = Encoder, TooLarge
        self.digest = course_digest()  # the code this kernel loaded, before any learner code could change it
        self.c = {name: getattr(checks, name) for name in (
            "_Warnings", "_stub_origin", "_learner_traceback", "_argument_shapes", "_parameter_names",
            "_changed_inputs", "_grad_inputs", "_jitter", "_weighted_sum")}
        wanted = {e["id"] for e in plan["exercises"]}
        # private copies, taken before any learner code runs: changing the registry's objects changes nothing here
        self.exercises = {i: copy.copy(checks.REGISTRY[i]) for i in wanted if i in checks.REGISTRY}
        self.state = {"current": None, "called": False}
        self._tripwires(checks.REGISTRY)
        self.functions = {}

    # ---------------------------------------------------------------- the tripwires on the references
    def _tripwires(self, registry):
        import functools
        import inspect
        state, getframe = self.state, sys._getframe

        def learner_on_stack():
            frame = getframe(2)
            while frame is not None:
                name = frame.f_code.co_filename
                if name.startswith("<learner") or name == "<string>":
                    return True
                frame = frame.f_back
            return False

        def wrap(exercise_id, original):
            def reference(*args, **kwargs):
                if state["current"] == exercise_id and learner_on_stack():
                    state["called"] = True
                return original(*args, **kwargs)
            functools.update_wrapper(reference, original)
            del reference.__wrapped__
            try:
                reference.__signature__ = inspect.signature(original)
            except (TypeError, ValueError):
                pass
            return reference

        for exercise in registry.values():
            original = exercise.reference
            wrapped = wrap(exercise.id, original)
            exercise.reference = wrapped
            module = sys.modules.get(getattr(original, "__module__", ""), None)
            if module is not None and module.__name__.startswith("tinygrad_lite.course.exercises"):
                for name, value in list(vars(module).items()):
                    if value is original:
                        setattr(module, name, wrapped)

    # ---------------------------------------------------------------- running cells
    def _run_cell(self, shell, cell):
        filename = f"<learner {cell['exercise']}>" if cell["role"] == "exercise" else f"<cell {cell['n'] + 1}>"
        try:
            code = shell.transform_cell(cell["source"])
            self.linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
            exec(compile(code, filename, "exec"), shell.user_ns)
        except BaseException as exc:  # noqa: BLE001  (SystemExit and KeyboardInterrupt too: the run goes on)
            return self._error_text(exc)
        finally:
            self._only_the_kernel()
            plt = sys.modules.get("matplotlib.pyplot")
            if plt is not None:
                try:
                    plt.close("all")
                except Exception:  # noqa: BLE001
                    pass
        return None

    def _only_the_kernel(self):
        """A process the learner's code forked comes back here when its code returns or raises: it must not go on
        as a second kernel (writing events and answers), so it ends at once."""
        if self.getpid() != self.pid:
            self.exit(0)

    def _error_text(self, exc):
        try:
            return self.c["_learner_traceback"](exc)[-2000:]
        except Exception:  # noqa: BLE001
            return f"{type(exc).__name__}"

    def run(self):
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config
        config = Config()
        config.HistoryManager.enabled = False
        shell = InteractiveShell.instance(config=config)
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
            exercise_id = spec["id"]
            self.send({"e": "exercise", "id": exercise_id})
            self._answer(exercise_id, spec, seeds.get(exercise_id))
            self.send({"e": "exercise_done", "id": exercise_id})
        self.send({"e": "done"})

    # ---------------------------------------------------------------- answering one exercise
    def _answer(self, exercise_id, spec, seeds):
        exercise = self.exercises.get(exercise_id)
        fn = self.functions.get(exercise_id, MISSING)
        if exercise is None or seeds is None:
            self.record({"id": exercise_id, "undefined": "this exercise has no check to grade it with"})
            return
        if fn is MISSING:
            self.record({"id": exercise_id, "undefined": f"your exercise cell does not define `{spec['name']}`"})
            return
        if not callable(fn):
            self.record({"id": exercise_id, "undefined": f"`{spec['name']}` is a {type(fn).__name__}, not a "
                                                          "function"})
            return
        case_seed, grad_seed = int(seeds[0]), int(seeds[1])
        cases = list(exercise.cases(self.np.random.default_rng(case_seed)))
        self.record({"id": exercise_id, "cases": len(cases)})
        out_of_memory = 0
        for i, case in enumerate(cases):
            self.send({"e": "case", "id": exercise_id, "i": i})
            answer = self._case(exercise, fn, case, (grad_seed + i) % 2 ** 32)
            self.record({"id": exercise_id, "i": i, **answer})
            out_of_memory += str(answer.get("error", {}).get("exception", "")).startswith("MemoryError")
            if out_of_memory == 2:  # the next cases would only fill the memory again, until the time limit
                self.record({"id": exercise_id, "stopped": "your function ran out of memory on two cases; the "
                                                           "cases after them were not run"})
                return

    def _call(self, exercise, fn, args, kwargs, case):
        """Run the learner's function; (raw answer, warnings, error record or None)."""
        kinds = exercise.warning_kinds()
        self.state["current"], self.state["called"] = exercise.id, False
        raw, error = None, None
        with self.c["_Warnings"](kinds) as caught:
            try:
                raw = exercise.run(fn, args, kwargs)
            except NotImplementedError as exc:
                origin, info = self.c["_stub_origin"](exc, fn)
                if origin == "own" or (origin == "other" and info[0] == exercise.id):
                    error = {"kind": "not_attempted"}
                elif origin == "other":
                    error = {"kind": "other_stub", "other": info[0], "name": info[1]}
                else:
                    error = self._error(exc, fn, case)
            except BaseException as exc:  # noqa: BLE001  (sys.exit, MemoryError, RecursionError ... in the learner's code)
                error = self._error(exc, fn, case)
            finally:
                self._only_the_kernel()
        self.state["current"] = None
        return raw, list(caught.seen), error

    def _error(self, exc, fn, case):
        try:
            shapes = self.c["_argument_shapes"](fn, case)
        except Exception:  # noqa: BLE001
            shapes = ""
        return {"kind": "error", "exception": f"{type(exc).__name__}: {str(exc)[:500]}",
                "traceback": self._error_text(exc), "shapes": shapes}

    def _encode(self, value):
        try:
            return self.Encoder(self.Tensor).encode(value), None
        except self.TooLarge as e:
            return None, {"kind": "too_large", "text": str(e)}
        except Exception as e:  # noqa: BLE001  (a learner's object whose attributes raise)
            return None, {"kind": "unreadable", "text": f"{type(e).__name__}: {str(e)[:200]}"}

    def _case(self, exercise, fn, case, grad_seed):
        copy = self.copy
        pristine = copy.deepcopy((case.args, case.kwargs))
        args, kwargs = copy.deepcopy(pristine)
        raw, warned, error = self._call(exercise, fn, args, kwargs, case)
        out = {"reference_called": self.state["called"]}
        if warned:
            out["warnings"] = warned
        if error:
            out["error"] = error
            return out
        out["answer"], error = self._encode(raw)
        if error:
            out["error"] = error
            return out
        try:
            names = self.c["_parameter_names"](fn, len(args))
            out["changed"] = self.c["_changed_inputs"](pristine[0], args, names) + self.c["_changed_inputs"](
                [pristine[1][k] for k in sorted(kwargs)], [kwargs[k] for k in sorted(kwargs)], sorted(kwargs))
        except Exception:  # noqa: BLE001
            out["changed"] = []
        answer_kind = exercise.answer or self.TensorAnswer()
        if exercise.grad and self.tensor_parts(answer_kind, raw):
            out["graph"] = self._graph(exercise, fn, case, pristine, answer_kind, grad_seed)
            out["reference_called"] = out["reference_called"] or self.state["called"]
        return out

    def _graph(self, exercise, fn, case, pristine, answer_kind, seed):
        """The case again with the inputs requiring grad (moved by the seeded jitter): connected? gradients?"""
        names = self.c["_parameter_names"](fn, len(pristine[0]))
        args, kwargs = self.copy.deepcopy(pristine)
        inputs = self.c["_grad_inputs"](exercise, args, kwargs, names)
        if not inputs:
            return {"inputs": []}
        self.c["_jitter"](inputs, exercise.grad_jitter, seed)
        out = {"inputs": [name for name, _ in inputs]}
        raw, warned, error = self._call(exercise, fn, args, kwargs, case)
        if warned:
            out["warnings"] = warned
        if error:
            out["error"] = error
            return out
        parts = self.tensor_parts(answer_kind, raw)
        if not parts:
            out["answer"], _ = self._encode(raw)
            return out
        out["connected"] = [[index, bool(part.requires_grad)] for index, part in parts]
        if not all(connected for _, connected in out["connected"]):
            return out
        try:
            with self.np.errstate(all="ignore"):
                self.state["current"] = exercise.id
                self.c["_weighted_sum"](parts, seed).backward()
        except BaseException as exc:  # noqa: BLE001
            out["backward_error"] = self._error_text(exc)
            return out
        finally:
            self._only_the_kernel()
            self.state["current"] = None
        grads = []
        for _, t in inputs:
            g = t.grad
            grads.append(self._encode(self.np.array(g.detach().numpy(), copy=True))[0] if g is not None else None)
        out["grads"] = grads
        return out


BOOTSTRAP = ("import sys; sys.path.insert(0, {path!r}); "
             "from tinygrad_lite.course.grading.kernel import main; main(sys.argv[1:])")
