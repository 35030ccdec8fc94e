"""Run a learner's notebook top to bottom in a fresh kernel and collect every check's verdict.

Each check cell appends its verdict to the file named by ``TINYGRAD_LITE_CHECK_RESULTS`` (see checks.py); we
give the kernel that variable, execute the code cells one by one with nbclient (errors do not stop the run), and
read the file back. Whatever the notebook does, the run ends with one row per exercise:

- a cell that runs longer than ``timeout`` seconds is interrupted ("timed out after N s") and the run goes on;
  one that ignores the interrupt ends the run;
- the whole notebook gets ``total_timeout`` seconds; past that the run stops ("notebook timed out after N s");
- a kernel that dies (``os._exit``, a segfault, the out-of-memory killer) ends the run ("kernel died");
- Ctrl-C ends the run ("interrupted") and ``interrupted`` is set in the outcome;
- a results line that is not a verdict (a crash mid-write, a learner writing to the file) becomes a row.

Every exercise of the notebook's lesson gets a row, found in the notebook as the grader finds it
(``course_exercises``, ``locate``): the exercise cell by its metadata, else (an edit lost it) by its ``def``
line or its stub; the check cell by its metadata, else by its ``check("NN.name", ...)`` call. An exercise with
no exercise cell (deleted, or its metadata lost and no cell defines its function) or whose check cell is gone
is "missing", with the reason. An exercise whose check never ran (an earlier cell crashed, the run stopped
first) is reported as "not run". Incidents not tied to one exercise get a row of their own, named by cell.
"""
import asyncio
import contextlib
import importlib
import importlib.util
import json
import logging
import math
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .checks import RESULTS_ENV
from .notebooks import exercise_ids, exercise_marker, first_line, meta, read_notebook, require_course_notebook

NOT_RUN, KERNEL_DIED, INTERRUPTED, CORRUPT, MISSING = ("not run", "kernel died", "interrupted", "corrupt result",
                                                      "missing")
INTERRUPT_GRACE = 5  # seconds a timed-out cell gets to stop after it is interrupted


def timed_out(seconds):
    return f"timed out after {seconds:g} s"


def _ordinal(n):
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def run_label(nb, index, quote=True, by_count=True):
    """How the run's messages name a cell, as JupyterLab shows it: by its execution count, "cell [12]", when it
    ran in this run (run_notebook clears the counts a saved notebook had), else "the 4th code cell" (JupyterLab
    shows no cell numbers); then its first line, unless ``quote`` is False. ``by_count=False``: always by its place
    (a cell whose kernel died may or may not have got its count before)."""
    cell = nb.cells[index]
    count = cell.get("execution_count") if cell.get("cell_type") == "code" else None
    if isinstance(count, int) and by_count:
        label = f"cell [{count}]"
    else:
        number = sum(c.get("cell_type") == "code" for c in nb.cells[:index + 1])
        label = f"the {_ordinal(number)} code cell" if cell.get("cell_type") == "code" else f"cell {index + 1}"
    first = first_line(cell) if quote else ""
    return label + (f" ({first!r})" if first else "")


def _quiet_logger():
    log = logging.getLogger("tinygrad_lite.course.runner.kernel")
    log.addHandler(logging.NullHandler())
    log.propagate = False  # nbclient and jupyter_client log kernel deaths and timeouts: we report them ourselves
    return log


def _exit_reason(client):
    """Why the kernel process ended, from its exit status (a signal for a segfault or the OOM killer)."""
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return "the kernel stopped answering"
    if code < 0:
        with contextlib.suppress(ValueError):
            name = signal.Signals(-code).name
            cause = {"SIGKILL": ": the out-of-memory killer does this", "SIGSEGV": ": a segmentation fault",
                     "SIGABRT": ": an abort in native code"}.get(name, "")
            return f"the kernel was killed by {name}{cause}"
        return f"the kernel was killed by signal {-code}"
    return f"the kernel process exited with status {code} (os._exit or exit()?)"


async def _wait_until_idle(client, seconds):
    """After interrupting a cell: True when the kernel answers a trivial request within ``seconds``."""
    msg_id = client.kc.execute("pass", silent=True, store_history=False)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            reply = await client.kc.shell_channel.get_msg(timeout=left)
        except Exception:  # noqa: BLE001  (queue.Empty on timeout; a dead kernel's closed channel)
            return False
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


def _first_code(cell):
    """A status line's view of a cell: its first line that is not a comment, cut to 30 columns."""
    line = next((x.strip() for x in cell.source.splitlines() if x.strip() and not x.strip().startswith("#")), "")
    return first_line({"source": line}, 30)


async def _ticker(progress, said):
    """Every second, the last status with the seconds spent on it, once a step takes longer than 2 s."""
    while True:
        await asyncio.sleep(1)
        seconds = time.monotonic() - said["since"]
        if said["text"] and seconds >= 2:
            progress(f"{said['text']} ({seconds:.0f} s)")


async def _execute(state, nb, path, results_file, timeout, total_timeout, progress=None, roles=None):
    """Execute ``nb``'s code cells; returns [incident dicts: cell index, status, message, fatal].
    ``state["interrupted"]`` is set by the Ctrl-C handler (see ``_run``) before it cancels us. ``progress``, when
    given, is called with a line saying what the run is doing (or waiting for), as it goes; ``roles`` maps a cell's
    index to ("check" or "exercise", the exercise id), for those lines."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    incidents = []
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                            shutdown_kernel="immediate", startup_timeout=min(60, math.ceil(total_timeout)),
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up chatter
                            resources={"metadata": {"path": str(path.parent.resolve())}}, log=_quiet_logger())
    # the kernel's temporary files (a lesson's tempfile.TemporaryDirectory) go into the run's own folder, removed
    # with it: the kernel is stopped at once at the end, and its own clean-up never runs
    scratch = str(results_file.parent)
    env = dict(os.environ, **{RESULTS_ENV: str(results_file), "TMPDIR": scratch, "TEMP": scratch, "TMP": scratch})
    current = -1
    said = {"text": "", "since": time.monotonic()}
    roles = roles or {}

    def say(text):
        if progress is not None:
            said.update(text=text, since=time.monotonic())
            progress(text)
    ticker = asyncio.ensure_future(_ticker(progress, said)) if progress is not None else None
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    number = 0
    try:
        say("starting a kernel ...")
        await _start_kernel(client, env)
        deadline = time.monotonic() + total_timeout  # the notebook's time starts once its kernel is ready
        for current, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            number += 1
            role, exercise = roles.get(current, (None, None))
            say(f"judging {exercise} (cell {number} of {code_cells})" if role == "check" else
                f"cell {number} of {code_cells}: your answer to {exercise}" if role == "exercise" else
                f"cell {number} of {code_cells}" + (f": {_first_code(cell)}" if _first_code(cell) else ""))
            left = deadline - time.monotonic()
            if left <= 0:
                incidents.append({"cell": current, "status": timed_out(total_timeout) + " in total", "fatal": True,
                                  "message": f"the notebook ran out of its {total_timeout:g} s (--total-timeout) "
                                             f"before {run_label(nb, current)}"})
                break
            cell_limit = min(timeout, left)
            client.timeout = max(1, math.ceil(cell_limit))
            try:
                await client.async_execute_cell(cell, current)
            except CellTimeoutError:
                if cell_limit < timeout:  # the notebook's total, not the cell's own limit, ran out
                    incidents.append({"cell": current, "status": timed_out(total_timeout) + " in total", "fatal": True,
                                      "message": f"the notebook ran out of its {total_timeout:g} s "
                                                 f"(--total-timeout) in {run_label(nb, current)}"})
                    break
                await client.km.interrupt_kernel()
                stopped = await _wait_until_idle(client, min(INTERRUPT_GRACE, max(1, deadline - time.monotonic())))
                incidents.append({"cell": current, "status": timed_out(timeout), "fatal": not stopped,
                                  "message": f"{run_label(nb, current)} ran longer than {timeout:g} s (--timeout)"
                                  + (" and was interrupted" if stopped else
                                     "; it did not stop when interrupted, so the run ended there")})
                if not stopped:
                    break
            except DeadKernelError:
                if state["interrupted"]:  # nbclient reports its cancelled wait as a dead kernel
                    raise asyncio.CancelledError from None
                incidents.append({"cell": current, "status": KERNEL_DIED, "fatal": True,
                                  "message": f"the kernel died in {run_label(nb, current, by_count=False)}: "
                                             f"{_exit_reason(client)}"})
                break
    except asyncio.CancelledError:  # Ctrl-C (see _run)
        incidents.append({"cell": max(current, 0), "status": INTERRUPTED, "fatal": True,
                          "message": "interrupted (Ctrl-C)" + (f" in {run_label(nb, current)}"
                                                              if current >= 0 else " while the kernel started")})
    except Exception as e:  # noqa: BLE001  (a kernel that cannot start, a broken connection: a row, not a traceback)
        where = f" in {run_label(nb, current)}" if current >= 0 else " while starting the kernel"
        status = "run failed" if current >= 0 else "kernel did not start"
        message = (str(e).strip().splitlines() or [""])[0]
        incidents.append({"cell": max(current, 0), "status": status, "fatal": True,
                          "message": f"{type(e).__name__}{where}: {message}"})
    finally:
        if ticker is not None:
            ticker.cancel()
        say("stopping the kernel ...")
        with contextlib.suppress(Exception):
            await client._async_cleanup_kernel()
    return incidents


START_ATTEMPTS = 3  # starts of a kernel that dies before it answers (conftest.py retries nbval's kernels alike)


def died_while_starting(error):
    """Whether ``error`` says a kernel died before it answered: jupyter_client picks free ports and the kernel binds
    them a moment later, so another process (a second ``check`` beside this one) may take one in between, and the
    kernel exits at once. Starting it again is then the cure; any other error is not retried."""
    return isinstance(error, RuntimeError) and "died" in str(error)


async def _start_kernel(client, env, attempts=START_ATTEMPTS):
    """Start ``client``'s kernel and connect to it, again up to ``attempts`` times while it dies before it answers
    (``died_while_starting``)."""
    for attempt in range(1, attempts + 1):
        client.km = client.create_kernel_manager()  # (nbclient drops its manager when a start fails)
        client.km.log = client.log
        try:
            # the kernel's own stdout/stderr (a segfault's dump, C-level prints) would clutter the table: drop them
            await client.async_start_new_kernel(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await client.async_start_new_kernel_client()
            return
        except RuntimeError as error:
            if not died_while_starting(error) or attempt == attempts:
                raise


def _run(coroutine_function, *args):
    """Run the execution in an event loop whose SIGINT handler cancels it (so the kernel is shut down cleanly)."""
    async def main():
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        state = {"interrupted": False}

        def on_ctrl_c():
            state["interrupted"] = True
            task.cancel()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            loop.add_signal_handler(signal.SIGINT, on_ctrl_c)
        try:
            result = await coroutine_function(state, *args)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGINT)
        return result, state["interrupted"]

    asyncio_log = logging.getLogger("asyncio")
    level = asyncio_log.level
    asyncio_log.setLevel(logging.CRITICAL)  # tasks nbclient leaves behind when a kernel dies
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(main())
        from concurrent.futures import ThreadPoolExecutor  # called from inside an event loop (e.g. Jupyter)
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, main()).result()
    finally:
        asyncio_log.setLevel(level)


def _read_results(results_file, ids):
    """{exercise id: verdict} from the results file (the last verdict of each exercise) and [corrupt-line rows]."""
    try:
        lines = results_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    latest, corrupt = {}, []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            verdict = json.loads(line)
        except ValueError:
            verdict = None
        good = (isinstance(verdict, dict) and isinstance(verdict.get("exercise"), str)
                and isinstance(verdict.get("status"), str) and isinstance(verdict.get("message", ""), str)
                and all(isinstance(verdict.get(k, 0), int) for k in ("passed_cases", "total_cases")))
        if good:
            latest[verdict["exercise"]] = {"exercise": verdict["exercise"], "status": verdict["status"],
                                           "passed_cases": verdict.get("passed_cases", 0),
                                           "total_cases": verdict.get("total_cases", 0),
                                           "message": verdict.get("message", "")}
            continue
        shown = line if len(line) <= 60 else line[:57] + "..."
        message = f"line {number} of the check results is not a verdict: {shown!r}"
        exercise = verdict.get("exercise") if isinstance(verdict, dict) else None
        if isinstance(exercise, str) and exercise in ids:
            latest[exercise] = {"exercise": exercise, "status": CORRUPT, "passed_cases": 0, "total_cases": 0,
                                "message": f"{exercise}: {message}"}
        else:
            corrupt.append({"exercise": "results", "status": CORRUPT, "passed_cases": 0, "total_cases": 0,
                            "message": message, "position": math.inf})
    return latest, corrupt


def lesson_number(nb, path=None):
    """The number of the notebook's lesson ("03"): from its lesson metadata ("03_backward_pass"), else from its
    exercises' ids when they all name one lesson, else from its file name ("03_backward_pass.ipynb", as a lesson
    is named); None when none tells."""
    lesson = meta(nb).get("lesson")
    if isinstance(lesson, str):
        match = re.match(r"\s*(\d+)", lesson)
        return match.group(1) if match else None
    ids = [meta(c).get("exercise") or meta(c).get("check") for c in nb.cells]
    numbers = {i.split(".", 1)[0] for i in ids if isinstance(i, str) and re.match(r"\d+\.", i)}
    if len(numbers) == 1:
        return numbers.pop()
    match = re.match(r"(\d\d)_", Path(path).name) if path is not None and not numbers else None
    return match.group(1) if match else None


def course_exercises(nb, path=None):
    """The ids of every exercise of the notebook's lesson, as the course's registry lists them
    (``course/exercises/lessonNN.py``); [] for a lesson the course does not have (a notebook of one's own)."""
    number = lesson_number(nb, path)
    module = f"{__package__}.exercises.lesson{number}"
    if number is None or importlib.util.find_spec(module) is None:
        return []
    importlib.import_module(module)  # registers its exercises
    from .checks import REGISTRY
    return [i for i in REGISTRY if i.split(".", 1)[0] == number]


def _check_call(exercise):
    """A call ``check("NN.name", fn, ...)`` that judges the learner's answer. A lesson's own demonstration of a
    mistake, ``check("NN.name", wrong, demo=True)``, is not one (and records no verdict, see ``checks.check``): with
    the exercise's cells deleted, it must not stand in for them."""
    return re.compile(r"\bcheck\(\s*['\"]" + re.escape(exercise) + r"['\"]\s*(?:,\s*([A-Za-z_]\w*))?"
                      r"(?![^)\n]*\bdemo\s*=\s*True)")


def locate(nb, exercises):
    """{exercise id: (index of its exercise cell, index of its check cell, its function's name)}, an index None
    for a cell not found.

    The exercise cell: the code cell with its metadata, else one (without tinygrad_lite metadata) that defines the
    function its check cell checks or holds its stub's ``NotImplementedError("NN.name: ...")`` (the grader's
    ``layout.learner_cells`` finds it the same way). The check cell: the cell with its check metadata, else a code
    cell that calls ``check("NN.name", ...)``."""
    code = [(n, c) for n, c in enumerate(nb.cells) if c.cell_type == "code"]
    found = {}
    for exercise in exercises:
        mine = [n for n, c in code if meta(c).get("exercise") == exercise]
        checks = [n for n, c in code if meta(c).get("check") == exercise]
        calls = [(n, _check_call(exercise).search(c.source)) for n, c in code if not meta(c).get("exercise")]
        calls = [(n, m) for n, m in calls if m]
        check_cell = checks[0] if checks else calls[0][0] if calls else None
        name = next((m.group(1) for n, m in calls if n == check_cell and m.group(1)), exercise.split(".", 1)[-1])
        if not mine:  # (a cell whose metadata names no exercise of ``exercises`` counts as one without it)
            marker = exercise_marker(exercise, name)
            mine = [n for n, c in code if meta(c).get("exercise") not in exercises and not meta(c).get("check")
                    and marker.search(c.source)]
        found[exercise] = (mine[-1] if mine else None, check_cell, name)
    return found


def _missing_reason(exercise, name, exercise_cell, check_cell):
    if exercise_cell is None and check_cell is None:
        return f"{exercise}: missing: its exercise cell and its check cell were deleted"
    if exercise_cell is None:
        return f"{exercise}: missing: no exercise cell (deleted, or its metadata lost and no `def {name}`)"
    return f"{exercise}: missing: its check cell was deleted, so nothing checks it"


def _row_label(nb, n):
    """The first column of a row about cell ``n`` rather than an exercise: "cell [12]" as its messages name it
    (``run_label``), or "cell 5" (its place) where they say "the 4th code cell" (a column reads "cell ...")."""
    label = run_label(nb, n, quote=False)
    return label if label.startswith("cell ") else f"cell {n + 1}"


def _unknown_exercise(nb, n, exercise, known):
    """The message for cell ``n``, whose metadata names ``exercise``, which the lesson (``known``) does not have."""
    import difflib
    close = difflib.get_close_matches(str(exercise), known, n=1, cutoff=0.6)
    return (f"{run_label(nb, n, quote=False)} is marked as the answer to exercise {exercise!r}, which this lesson "
            f"does not have (its exercises: {', '.join(known)}): its metadata was edited. "
            + (f"Did you mean {close[0]!r}? " if close else "")
            + "Put the lesson's id back in the cell's metadata (Property Inspector, the gear icon in JupyterLab's "
              "right sidebar), or take the cell from a fresh copy of the lesson")


def _error_output(cell):
    """The first error output of a code cell that ran, else None."""
    return next((out for out in cell.get("outputs", []) if out.get("output_type") == "error"), None)


def _error_text(out):
    """An error output as one line: "NameError: name 'x' is not defined"; a syntax error with its line:
    "SyntaxError at line 3: expected ':'"."""
    name, value = str(out.get("ename", "")), (str(out.get("evalue", "")).strip().splitlines() or [""])[0]
    if name in ("SyntaxError", "IndentationError", "TabError"):
        match = re.match(r"(.*?)\s*\((?:[^()]*, )?line (\d+)\)$", value)
        if match:
            return f"{name} at line {match[2]}: {match[1]}"
    return f"{name}: {value}"


def _broken_cells(nb):
    """{function or variable name: (cell index, error output)} for the names that the code cells with a syntax
    error would have defined: a later NameError about one of them comes from that syntax error."""
    broken = {}
    for n, cell in enumerate(nb.cells):
        out = _error_output(cell) if cell.cell_type == "code" else None
        if out and out.get("ename") in ("SyntaxError", "IndentationError", "TabError"):
            for name in re.findall(r"^(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*=", cell.source, re.M):
                broken.setdefault(name[0] or name[1], (n, out))
    return broken


def _raised(nb, n, out, broken):
    """What cell ``n``'s error says, with the syntax error behind a NameError when there is one."""
    text = f"{run_label(nb, n, quote=False)} raised {_error_text(out)}"
    match = re.match(r"name '(\w+)' is not defined", str(out.get("evalue", ""))) if out.get("ename") == "NameError" \
        else None
    if match and match[1] in broken and broken[match[1]][0] != n:
        where, cause = broken[match[1]]
        text += f", because {run_label(nb, where, quote=False)} has a {_error_text(cause)}: fix that cell first"
    return text


def _syntax_error(nb, exercise_cell):
    """"your answer, cell [13], has a SyntaxError at line 1: expected ':'" when the exercise cell has one."""
    out = _error_output(nb.cells[exercise_cell])
    if out and out.get("ename") in ("SyntaxError", "IndentationError", "TabError"):
        return f"your answer, {run_label(nb, exercise_cell, quote=False)}, has a {_error_text(out)}"
    return None


def _not_run_message(nb, exercise, exercise_cell, check_cell, broken):
    """Why an exercise whose check cell exists got no verdict, true to what happened in the run."""
    syntax = _syntax_error(nb, exercise_cell)
    if syntax:
        return f"{exercise}: {syntax}: fix it, run it, then run its check cell"
    out = _error_output(nb.cells[check_cell])
    if out:
        return f"{exercise}: its check cell gave no verdict: {_raised(nb, check_cell, out, broken)}"
    if not isinstance(nb.cells[check_cell].get("execution_count"), int):
        return f"{exercise}: its check cell ({run_label(nb, check_cell, quote=False)}) did not run"
    return (f"{exercise}: its check cell ran ({run_label(nb, check_cell, quote=False)}) but gave no verdict: does "
            f"it still call check({exercise!r}, ...)?")


def run_notebook(path, timeout=120, total_timeout=600, progress=None):
    """Execute the notebook at ``path``; never raises for what the notebook does.

    Returns {"results": [rows], "errors": [cell errors], "interrupted": bool}. A row is a verdict dict (exercise,
    status, passed_cases, total_cases, message), one per exercise of the lesson (those of the course's registry,
    and any other the notebook marks up) in notebook order, with rows for incidents not tied to one exercise
    (exercise "cell N" or "results") in their place. ``progress``: called with a line saying what the run is doing
    (starting a kernel, the cell it runs, the exercise it judges), as it goes.
    """
    path = Path(path)
    nb = read_notebook(path)
    require_course_notebook(nb, path)
    known = course_exercises(nb, path)
    ids = list(dict.fromkeys(known + exercise_ids(nb)
                             + [meta(c)["check"] for c in nb.cells if isinstance(meta(c).get("check"), str)]))
    # an exercise id in a cell's metadata that the course's lesson does not have (its metadata edited): that cell
    # is then found by its code, as one that lost its metadata, and a row of its own says what is wrong
    unknown = {n: meta(c)["exercise"] for n, c in enumerate(nb.cells)
               if known and "exercise" in meta(c) and meta(c)["exercise"] not in known}
    ids = [i for i in ids if i not in unknown.values()]
    cells = locate(nb, ids)
    for cell in nb.cells:  # what a saved notebook shows of an earlier run must not be taken for this run's
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = None, []
    roles = {}
    for exercise, (exercise_cell, check_cell, _) in cells.items():
        roles.setdefault(check_cell, ("check", exercise))
        roles.setdefault(exercise_cell, ("exercise", exercise))
    with tempfile.TemporaryDirectory() as tmp:
        results_file = Path(tmp) / "results.jsonl"
        if any(c.cell_type == "code" for c in nb.cells):
            incidents, interrupted = _run(_execute, nb, path, results_file, timeout, total_timeout,
                                             progress, roles)
        else:
            incidents, interrupted = [], False  # nothing to run: no kernel to start
        latest, corrupt = _read_results(results_file, set(ids))
    rows = list(corrupt)
    broken = _broken_cells(nb)
    fatal = next((i for i in incidents if i["fatal"]), None)
    position = -1
    for exercise in ids:
        exercise_cell, check_cell, name = cells[exercise]
        present = [n for n in (exercise_cell, check_cell) if n is not None]
        first, last = (min(present), max(present)) if present else (position, position)
        position = last + 0.001 if not present else last  # a missing exercise's row: after the one before it
        if exercise_cell is None or (check_cell is None and exercise not in latest):
            rows.append({"exercise": exercise, "status": MISSING, "passed_cases": 0, "total_cases": 0,
                         "message": _missing_reason(exercise, name, exercise_cell, check_cell),
                         "position": position})
            continue
        if exercise in latest:
            row = {**latest[exercise], "position": last}
            syntax = _syntax_error(nb, exercise_cell)
            if syntax:  # the check judged whatever that name meant before (an earlier cell's, or nothing)
                row["message"] += f"\n{syntax}, so it did not run: the check judged an older {name}, not it"
            rows.append(row)
            continue
        mine = next((i for i in incidents if first <= i["cell"] <= last and not i.get("used")), None)
        if mine:
            mine["used"] = True
            rows.append({"exercise": exercise, "status": mine["status"], "passed_cases": 0, "total_cases": 0,
                         "message": f"{exercise}: {mine['message']}", "position": last})
        elif fatal and fatal["cell"] < last:
            rows.append({"exercise": exercise, "status": NOT_RUN, "passed_cases": 0, "total_cases": 0,
                         "message": f"{exercise}: not run, the run stopped earlier ({fatal['message']})",
                         "position": last})
        else:
            rows.append({"exercise": exercise, "status": NOT_RUN, "passed_cases": 0, "total_cases": 0,
                         "message": _not_run_message(nb, exercise, exercise_cell, check_cell, broken),
                         "position": last})
    rows += [{"exercise": _row_label(nb, i["cell"]), "status": i["status"], "passed_cases": 0, "total_cases": 0,
              "message": i["message"], "position": i["cell"]} for i in incidents if not i.get("used")]
    rows += [{"exercise": _row_label(nb, n), "status": "error", "passed_cases": 0, "total_cases": 0,
              "message": _unknown_exercise(nb, n, exercise, known), "position": n - 0.0001}
             for n, exercise in unknown.items()]
    rows.sort(key=lambda r: r["position"])
    for row in rows:
        del row["position"]
    reported = {i["cell"] for i in incidents}  # a timed-out cell's KeyboardInterrupt is said by its row already
    errors = [_raised(nb, n, out, broken) for n, cell in enumerate(nb.cells)
              if cell.cell_type == "code" and n not in reported
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    return {"results": rows, "errors": errors, "interrupted": interrupted}
