"""The runs that lesson 10 logs (section 8), written by the lesson's own cells, and a TensorBoard server over them:
shared by tests/test_tensorboard_server.py (its HTTP data API) and tests/test_browser.py (its page)."""
import contextlib
import functools
import io
import json
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest
from processes import stop

import tinygrad_lite as tl
from tinygrad_lite import nn, optim

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "solutions" / "10_inside_training.ipynb"
START_TIMEOUT = 60  # seconds for TensorBoard to print its address and list the runs


def lesson_cells():
    """The sources of lesson 10's cell that defines ``log_lr_runs`` and of the cell that calls it."""
    sources = [c.source for c in nbformat.read(LESSON, as_version=4).cells if c.cell_type == "code"]
    (define,) = [s for s in sources if "def log_lr_runs(" in s]
    (call,) = [s for s in sources if "= log_lr_runs(" in s]
    return define, call


def write_lesson_runs(folder, epochs=None):
    """Run the lesson's two cells in ``folder`` as the notebook runs them (its cell writes ``runs/lr_compare``
    there), with fewer epochs if ``epochs`` is given; returns the cells' namespace (``LOG_DIR``,
    ``LEARNING_RATES``...), ``LOG_DIR`` made absolute."""
    define, call = lesson_cells()
    namespace = {"tl": tl, "nn": nn, "optim": optim, "np": np}  # what the lesson's first cell imports
    exec(compile(define, "<lesson 10: log_lr_runs>", "exec"), namespace)
    if epochs is not None:
        namespace["log_lr_runs"] = functools.partial(namespace["log_lr_runs"], epochs=epochs)
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
        patch.chdir(folder)
        exec(compile(call, "<lesson 10: the runs>", "exec"), namespace)
    namespace["LOG_DIR"] = Path(folder) / namespace["LOG_DIR"]
    return namespace


def next_second():
    """Wait for the next second of the clock. TensorBoard reads a run's event files in the order of their names,
    which start with the second the file was made and go on with a per-process counter (compared as text, so 10
    sorts before 9). A run resumed after a crash starts in a new process, seconds later; a test that resumes in
    the same process waits for the next second, so that the resumed run's file is read after the crashed one's,
    as it would be."""
    time.sleep(1.001 - time.time() % 1)


def get(url, path):
    with urllib.request.urlopen(url + path, timeout=30) as response:
        return json.load(response)


@contextlib.contextmanager
def tensorboard_server(logdir, runs):
    """``python -m tensorboard.main`` over ``logdir`` on a free port of 127.0.0.1, as a learner starts it; yields
    its address once it lists ``runs``, and always stops it."""
    process = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host",
                                "127.0.0.1", "--port", "0", "--load_fast", "false"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    # its messages go to stderr: read them all (a full pipe would stop the server), the address among them
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    try:
        deadline, said, url = time.monotonic() + START_TIMEOUT, [], None
        while url is None:
            try:
                said.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"TensorBoard printed no address within {START_TIMEOUT} s: {''.join(said)[-2000:]}")
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", said[-1])
            url = found and found.group(1)
        while sorted(get(url, "/data/runs")) != sorted(runs):
            assert time.monotonic() < deadline, f"TensorBoard lists {get(url, '/data/runs')}, not {runs}"
            time.sleep(0.05)
        yield url
    finally:
        stop(process, timeout=10)
