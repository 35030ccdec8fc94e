"""Run a learner's notebook top to bottom in a fresh kernel and collect every check's verdict.

Each check cell appends its verdict to the file named by ``TINYGRAD_LITE_CHECK_RESULTS`` (see checks.py); we
set that variable for the kernel, execute the notebook with nbclient (errors do not stop the run), and read
the file back. An exercise whose check never ran (an earlier cell crashed, the check cell was deleted) is
reported as "not run".
"""
import json
import os
import tempfile
from pathlib import Path

from .checks import RESULTS_ENV
from .notebooks import exercise_ids, read_notebook, require_course_notebook

NOT_RUN = "not run"


def run_notebook(path, timeout=120):
    """Execute the notebook at ``path``; returns {"results": [verdict dicts in exercise order], "errors": [...]}."""
    from nbclient import NotebookClient
    path = Path(path)
    nb = read_notebook(path)
    require_course_notebook(nb, path)
    with tempfile.TemporaryDirectory() as tmp:
        results_file = Path(tmp) / "results.jsonl"
        previous = os.environ.get(RESULTS_ENV)
        os.environ[RESULTS_ENV] = str(results_file)  # the kernel inherits our environment
        try:
            NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                           extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up chatter
                           resources={"metadata": {"path": str(path.parent.resolve())}}).execute()
        finally:
            if previous is None:
                del os.environ[RESULTS_ENV]
            else:
                os.environ[RESULTS_ENV] = previous
        lines = results_file.read_text(encoding="utf-8").splitlines() if results_file.exists() else []
    latest = {}
    for line in lines:
        verdict = json.loads(line)
        latest[verdict["exercise"]] = verdict  # a check run twice: its last verdict counts
    results = [latest.get(i, {"exercise": i, "status": NOT_RUN, "passed_cases": 0, "total_cases": 0,
                              "message": f"{i}: its check cell did not run"}) for i in exercise_ids(nb)]
    errors = [f"cell {n}: {out.ename}: {out.evalue}" for n, cell in enumerate(nb.cells, 1) if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    return {"results": results, "errors": errors}
