"""One run of a grading kernel: start it in its sandbox, feed it, watch its clock and its output, collect answers.

The kernel reports what it is doing on its control channel (``kernel.py``): a cell starting and ending, "ready",
an exercise and each of its cases starting and ending, "done". Each cell and each exercise gets ``timeout``
seconds from its start: the kernel's own alarm stops it then and goes on (``kernel.py``); the grader holds the
backstop clock, ``grace`` later, and the whole run ends at ``deadline``; past either, or when the
learner's output passes ``max_output`` bytes, the kernel's process group is killed. A kernel that ends by itself
before "done" (``os._exit``, a segfault, the out-of-memory killer, a signal) "died". In every case the outcome
says where it was (a cell, an exercise and its case, or waiting for the seeds), so that the caller can give the
incident to the right exercise and resume the rest in a new kernel (``grader.py``).
"""
import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from ..encoding import Deep
from . import sandbox as sandboxes

STARTUP_SECONDS = 90  # a kernel's start (Python, numpy, IPython) on a busy machine


def grace(timeout):
    """How long after a cell's or an exercise's ``timeout`` the grader kills the kernel. The kernel's own alarm
    stops the learner's code at ``timeout`` and the kernel goes on (``kernel.py``); the kill is for code that
    catches that interruption or never returns to Python (a long native call). 1 s plus 5%: 2.5 s at the
    default 30 s, so that an endless loop costs about its time limit, not a new kernel's start-up."""
    return 1 + 0.05 * timeout
MAX_EVENT = 2 ** 16
MAX_STARTUP_TEXT = 2 ** 14  # what a kernel that could not start printed, kept to say why
MAX_ANSWERS = 256 * 2 ** 20


_LIVE = set()  # the kernels running now, so that Ctrl-C can stop them all
_STOP = threading.Event()


def stop_all():
    """Ctrl-C: kill every running kernel and start no new one (``stopping()`` tells the callers)."""
    _STOP.set()
    for process in list(_LIVE):
        _kill(process)


def stopping():
    return _STOP.is_set()


def _exit_reason(code):
    if code is None:
        return "the kernel stopped answering"
    if 128 < code < 160:  # bubblewrap passes on a signal that killed the kernel as 128 + its number
        code = 128 - code
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            return f"the kernel was killed by signal {-code}"
        cause = {"SIGKILL": " (the memory limit or the out-of-memory killer does this)",
                 "SIGSEGV": " (a segmentation fault: a crash in native code, e.g. through ctypes)",
                 "SIGABRT": " (an abort in native code)",
                 "SIGXCPU": " (its CPU time limit)", "SIGXFSZ": " (a file larger than the limit)",
                 "SIGBUS": " (a bus error in native code)"}.get(name, "")
        return f"the kernel was killed by {name}{cause}"
    return f"the kernel exited with status {code} (os._exit, or an exit the kernel could not catch)"


class CourseChanged(Exception):
    """The kernel loaded other checks than the grader (the course's code was edited during the run)."""


def run_kernel(sandbox, plan, seeds, limits, timeout, deadline, max_output, font_cache=None, uid=None,
               course=None):
    """Run one kernel on ``plan`` (cells and exercises); returns the outcome dict:

    ``end``: "done", "died", "timed out", "total time", "output", "no start"; ``reason``: a sentence;
    ``where``: {"phase": "start" | "cell" | "ready" | "exercise", "n": cell index, "id": exercise, "i": case};
    ``cell_errors``: {cell index: error text}; ``cells_done``: the indexes of the cells that ended;
    ``answers``: the answer lines the kernel wrote (parsed JSON objects; malformed lines are dropped);
    ``output_bytes``: how much the learner's code printed; ``infrastructure`` (only when the kernel ended before
    its first cell, i.e. before any learner code ran): why it could not start, in one line.
    """
    scratch = tempfile.mkdtemp(prefix="tgl-kernel-")
    try:
        uid = sandboxes.NOBODY if uid is None else uid
        return _run(sandbox, scratch, plan, seeds, limits, timeout, deadline, max_output, font_cache, uid, course)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _prepare(scratch, plan, font_cache, uid):
    with open(os.path.join(scratch, "plan.json"), "w", encoding="utf-8") as f:
        json.dump(plan, f)
    mpl = os.path.join(scratch, ".matplotlib")
    os.mkdir(mpl)
    if font_cache and os.path.isdir(font_cache):
        for name in os.listdir(font_cache):
            if name.endswith(".json"):
                shutil.copy(os.path.join(font_cache, name), mpl)
    if sandboxes._as_root():
        for root, dirs, files in os.walk(scratch):
            for name in [*dirs, *files]:
                os.chown(os.path.join(root, name), uid, uid)
        os.chown(scratch, uid, uid)
    os.chmod(scratch, 0o700)


def _run(sandbox, scratch, plan, seeds, limits, timeout, deadline, max_output, font_cache, uid, course):
    _prepare(scratch, plan, font_cache, uid)
    inner = sandboxes.python_command(limits)
    command, cwd, env = sandbox.command(scratch, inner, uid)
    outcome = {"end": None, "reason": "", "where": {"phase": "start"}, "cell_errors": {}, "cells_done": [],
               "answers": [], "output_bytes": 0}
    if _STOP.is_set():
        outcome.update(end="no start", reason="grading was interrupted")
        return outcome
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, **sandbox.popen_options(uid))
    except OSError as e:
        outcome.update(end="no start", reason=f"the kernel could not be started: {e}", infrastructure=str(e))
        return outcome
    _LIVE.add(process)
    events = queue.Queue()
    output = {"bytes": 0, "over": False, "head": bytearray()}  # head: what the kernel wrote first (see below)

    def read_events():
        with contextlib.suppress(OSError, ValueError):  # (the pipe closed under it once the kernel is killed)
            for line in process.stdout:
                if len(line) <= MAX_EVENT:
                    with contextlib.suppress(ValueError):
                        event = json.loads(line)
                        if isinstance(event, dict):
                            events.put(event)
        events.put(None)

    def drain_output():
        while True:
            try:
                chunk = process.stderr.read1(1 << 16)
            except (OSError, ValueError):  # (closed under it once the kernel is killed)
                return
            if not chunk:
                return
            output["bytes"] += len(chunk)
            if len(output["head"]) < MAX_STARTUP_TEXT:
                output["head"] += chunk[:MAX_STARTUP_TEXT - len(output["head"])]
            if output["bytes"] > max_output and not output["over"]:
                output["over"] = True
                _kill(process)
                events.put({"e": "__output__"})

    threads = [threading.Thread(target=read_events, daemon=True), threading.Thread(target=drain_output, daemon=True)]
    for thread in threads:
        thread.start()
    where = outcome["where"]
    limit = min(time.monotonic() + STARTUP_SECONDS, deadline)
    try:
        while True:
            left = limit - time.monotonic()
            try:
                event = events.get(timeout=max(left, 0.01)) if left > 0 else None
            except queue.Empty:
                event = "__timeout__"
            if event is None and left <= 0:
                event = "__timeout__"
            if event == "__timeout__":
                total = limit >= deadline
                outcome["end"] = "total time" if total else "timed out"
                outcome["reason"] = _timeout_reason(where, timeout, total)
                break
            if event is None:  # the control channel closed: the kernel ended
                code = _wait(process, 5)
                outcome["end"] = "died"
                outcome["reason"] = _exit_reason(code)
                break
            kind = event.get("e")
            now = time.monotonic()
            if kind == "__output__":
                outcome["end"] = "output"
                outcome["reason"] = (f"the code printed more than {max_output // 2 ** 20} MB (the output limit), so "
                                     "the kernel was stopped")
                break
            if kind == "cell" and isinstance(event.get("n"), int):
                where.clear()
                where.update(phase="cell", n=event["n"])
                limit = min(now + timeout + grace(timeout), deadline)
            elif kind == "cell_done" and isinstance(event.get("n"), int):
                outcome["cells_done"].append(event["n"])
                if isinstance(event.get("error"), str):
                    outcome["cell_errors"][event["n"]] = event["error"][:2000]
                where.clear()
                where.update(phase="between", n=event["n"])
                limit = min(now + timeout + grace(timeout), deadline)
            elif kind == "ready" and where.get("phase") != "ready":
                if course and event.get("course") != course and not outcome["answers"]:
                    outcome["course_changed"] = True  # (a learner's forged event only loses its own answers)
                    outcome["end"], outcome["reason"] = "died", "the kernel loaded another version of the course"
                    break
                where.clear()
                where.update(phase="ready")
                try:
                    process.stdin.write((json.dumps({"seeds": seeds}) + "\n").encode())
                    process.stdin.flush()
                except OSError:
                    pass
                limit = min(now + timeout + grace(timeout), deadline)
            elif kind == "exercise" and isinstance(event.get("id"), str):
                where.clear()
                where.update(phase="exercise", id=event["id"], i=None)
                limit = min(now + timeout + grace(timeout), deadline)
            elif kind == "case" and where.get("phase") == "exercise" and isinstance(event.get("i"), int):
                where["i"] = event["i"]
            elif kind == "exercise_done":
                where.clear()
                where.update(phase="ready")
                limit = min(now + timeout + grace(timeout), deadline)
            elif kind == "done":
                outcome["end"] = "done"
                break
            elif kind == "no_seeds":
                outcome["end"] = "died"
                outcome["reason"] = "the kernel did not receive its seeds"
                break
    finally:
        _kill(process)
        _wait(process, 10)
        _LIVE.discard(process)
        for stream in (process.stdin, process.stdout, process.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        for thread in threads:
            thread.join(timeout=5)
    outcome["output_bytes"] = output["bytes"]
    outcome["answers"] = _read_answers(os.path.join(scratch, "answers.jsonl"))
    if where.get("phase") == "start" and outcome["end"] != "done" and not _STOP.is_set():
        # no cell started: no learner code ran, so this is the machine's fault (a missing package, a broken
        # sandbox, an overloaded machine), never the learner's; what the kernel printed is Python's own error
        outcome["infrastructure"] = startup_error(bytes(output["head"])) or outcome["reason"]
    return outcome


def startup_error(text):
    """The line that says why a kernel could not start, from what it printed before its first cell (a traceback's
    last line, e.g. "ModuleNotFoundError: No module named 'IPython'"), or "" when it printed nothing useful."""
    lines = [line.strip() for line in text.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"[\w.]*(Error|Exception)\b", line)]
    return (errors or lines or [""])[-1][:300]


def _timeout_reason(where, timeout, total):
    what = {"start": "while the kernel started", "cell": f"in cell {where.get('n', 0) + 1}",
            "between": f"after cell {where.get('n', 0) + 1}", "ready": "between exercises",
            "exercise": f"in {where.get('id')}"}.get(where.get("phase"), "")
    if total:
        return f"the submission ran out of its total time {what}"
    return f"timed out after {timeout:g} s {what}"


def _kill(process):
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, OSError):
        process.kill()


def _wait(process, seconds):
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill(process)
        try:
            return process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None


def _read_answers(path):
    """The answer lines, as dicts; damaged lines (a crash mid-write, a learner's scribbling) are dropped."""
    lines = []
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_ANSWERS)
    except OSError:
        return lines
    for raw in data.splitlines():
        with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError), Deep():
            line = json.loads(raw)
            if isinstance(line, dict) and isinstance(line.get("id"), str):
                lines.append(line)
    return lines
