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

An exercise whose check never ran (an earlier cell crashed, the check cell was deleted, the run stopped first)
is reported as "not run". Incidents not tied to one exercise get a row of their own, named by cell.
"""
import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .checks import RESULTS_ENV
from .notebooks import cell_label, exercise_ids, meta, read_notebook, require_course_notebook

NOT_RUN, KERNEL_DIED, INTERRUPTED, CORRUPT = "not run", "kernel died", "interrupted", "corrupt result"
INTERRUPT_GRACE = 5  # seconds a timed-out cell gets to stop after it is interrupted


def timed_out(seconds):
    return f"timed out after {seconds:g} s"


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


async def _execute(state, nb, path, results_file, timeout, total_timeout):
    """Execute ``nb``'s code cells; returns [incident dicts: cell index, status, message, fatal].
    ``state["interrupted"]`` is set by the Ctrl-C handler (see ``_run``) before it cancels us."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    incidents = []
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                            shutdown_kernel="immediate", startup_timeout=min(60, math.ceil(total_timeout)),
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up chatter
                            resources={"metadata": {"path": str(path.parent.resolve())}}, log=_quiet_logger())
    env = dict(os.environ, **{RESULTS_ENV: str(results_file)})
    client.km = client.create_kernel_manager()
    client.km.log = client.log
    current = -1
    try:
        # the kernel's own stdout/stderr (a segfault's dump, C-level prints) would clutter the table: drop them
        await client.async_start_new_kernel(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await client.async_start_new_kernel_client()
        deadline = time.monotonic() + total_timeout  # the notebook's time starts once its kernel is ready
        for current, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                incidents.append({"cell": current, "status": timed_out(total_timeout) + " in total", "fatal": True,
                                  "message": f"the notebook ran out of its {total_timeout:g} s (--total-timeout) "
                                             f"before {cell_label(current, cell)}"})
                break
            cell_limit = min(timeout, left)
            client.timeout = max(1, math.ceil(cell_limit))
            try:
                await client.async_execute_cell(cell, current)
            except CellTimeoutError:
                if cell_limit < timeout:  # the notebook's total, not the cell's own limit, ran out
                    incidents.append({"cell": current, "status": timed_out(total_timeout) + " in total", "fatal": True,
                                      "message": f"the notebook ran out of its {total_timeout:g} s "
                                                 f"(--total-timeout) in {cell_label(current, cell)}"})
                    break
                await client.km.interrupt_kernel()
                stopped = await _wait_until_idle(client, min(INTERRUPT_GRACE, max(1, deadline - time.monotonic())))
                incidents.append({"cell": current, "status": timed_out(timeout), "fatal": not stopped,
                                  "message": f"{cell_label(current, cell)} ran longer than {timeout:g} s (--timeout)"
                                  + (" and was interrupted" if stopped else
                                     "; it did not stop when interrupted, so the run ended there")})
                if not stopped:
                    break
            except DeadKernelError:
                if state["interrupted"]:  # nbclient reports its cancelled wait as a dead kernel
                    raise asyncio.CancelledError from None
                incidents.append({"cell": current, "status": KERNEL_DIED, "fatal": True,
                                  "message": f"the kernel died in {cell_label(current, cell)}: {_exit_reason(client)}"})
                break
    except asyncio.CancelledError:  # Ctrl-C (see _run)
        incidents.append({"cell": max(current, 0), "status": INTERRUPTED, "fatal": True,
                          "message": "interrupted (Ctrl-C)" + (f" in {cell_label(current, nb.cells[current])}"
                                                              if current >= 0 else " while the kernel started")})
    except Exception as e:  # noqa: BLE001  (a kernel that cannot start, a broken connection: a row, not a traceback)
        where = f" in {cell_label(current, nb.cells[current])}" if current >= 0 else " while starting the kernel"
        status = "run failed" if current >= 0 else "kernel did not start"
        first_line = (str(e).strip().splitlines() or [""])[0]
        incidents.append({"cell": max(current, 0), "status": status, "fatal": True,
                          "message": f"{type(e).__name__}{where}: {first_line}"})
    finally:
        with contextlib.suppress(Exception):
            await client._async_cleanup_kernel()
    return incidents


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


def run_notebook(path, timeout=120, total_timeout=600):
    """Execute the notebook at ``path``; never raises for what the notebook does.

    Returns {"results": [rows], "errors": [cell errors], "interrupted": bool}. A row is a verdict dict (exercise,
    status, passed_cases, total_cases, message), one per exercise in notebook order, with rows for incidents not
    tied to one exercise (exercise "cell N" or "results") in their place.
    """
    path = Path(path)
    nb = read_notebook(path)
    require_course_notebook(nb, path)
    ids = exercise_ids(nb)
    cells = {}  # exercise id -> (index of its exercise cell, index of its check cell)
    for index, cell in enumerate(nb.cells):
        info = meta(cell)
        if "exercise" in info:
            cells[info["exercise"]] = (index, index)
        elif info.get("check") in cells:
            cells[info["check"]] = (cells[info["check"]][0], index)
    with tempfile.TemporaryDirectory() as tmp:
        results_file = Path(tmp) / "results.jsonl"
        incidents, interrupted = _run(_execute, nb, path, results_file, timeout, total_timeout)
        latest, corrupt = _read_results(results_file, set(ids))
    rows = list(corrupt)
    fatal = next((i for i in incidents if i["fatal"]), None)
    for exercise in ids:
        first, last = cells[exercise]
        if exercise in latest:
            rows.append({**latest[exercise], "position": last})
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
                         "message": f"{exercise}: its check cell did not run", "position": last})
    rows += [{"exercise": f"cell {i['cell'] + 1}", "status": i["status"], "passed_cases": 0, "total_cases": 0,
              "message": i["message"], "position": i["cell"]} for i in incidents if not i.get("used")]
    rows.sort(key=lambda r: r["position"])
    for row in rows:
        del row["position"]
    reported = {i["cell"] for i in incidents}  # a timed-out cell's KeyboardInterrupt is said by its row already
    errors = [f"cell {n + 1}: {out.get('ename')}: {out.get('evalue')}" for n, cell in enumerate(nb.cells)
              if cell.cell_type == "code" and n not in reported
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    return {"results": rows, "errors": errors, "interrupted": interrupted}
