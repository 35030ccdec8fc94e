"""Browser tests: a learner opens a lesson in JupyterLab, runs it all, and sees check boxes, not errors.

JupyterLab is started the README's way (``python3 run.py lab``, here with ``--no-browser --port=N`` and a token)
on a copy of the repository's launcher and lessons in a temporary folder, so nothing in the repository changes
(not even JupyterLab's autosave). One server, one headless Chromium (driven by Playwright) and one JupyterLab page
serve every test of a pytest process, and the tests here are one ``xdist_group``, so that with pytest-xdist one
worker runs them: one server and browser start, not one per worker. For each lesson of ``SAMPLE`` (every lesson
when $TGL_BROWSER_LESSONS is ``all``), a test opens it at 1280x800 (File > Open from Path), runs Run > Run All
Cells, waits until the notebook is idle, saves it, and checks: no error output and no traceback in any cell, no
red "IProgress not found" warning, no check box or fallback label wider than its cell, no exercise stub line past
the editor's edge.
Screenshots of the top of the notebook and of the first check box of each kind, fallback label and progress bar
are taken of lesson 00 (the screenshot code stays tested), and of every lesson when $TGL_SCREENSHOTS names a folder
to copy them to (about half a second per lesson, for a person to look at).

Every output is read, on screen or not. JupyterLab 4 renders a long notebook lazily ("windowing"): by default
(``content-visibility: auto``) the browser skips laying out cells far from the viewport, so their ``innerText``
is empty, and in "full" mode JupyterLab may leave them out of the page. The test's JupyterLab settings switch
windowing off (``windowingMode: none``: every cell is in the page and laid out) and the page is read with
``textContent``. Two cross-checks make a miss visible instead of silent: the outputs in the page, cell by cell,
must match those JupyterLab saved into the notebook file, and the saved file is checked for errors too.
test_a_planted_traceback_is_found_on_screen_or_not runs a copy of a lesson with a traceback planted near the top
and another at the end, and asserts that both are reported while each is scrolled out of view.

Why a sample: JupyterLab and Chromium cost about twice the CPU of the lesson's own kernel (all eleven lessons: 161 s
of CPU in the browser, 61 s under nbval, on 2 idle cores), and what the page adds to a kernel's run is the same
for every lesson: the same check boxes and fallback labels (course/display.py), the same stub lines, the same
output area. So every lesson still runs top to bottom, the others under nbval, whose outputs the repository's
conftest.py holds to the page's standard (``output_problems``: printed tracebacks, the tqdm warning, printed
lines JupyterLab would wrap, figures it would shrink), and tests/test_lessons.py keeps every stub line within
the editor. The sample: lesson 00, the first a learner opens, whose page shows a check box of every kind a
lesson shows (a demonstration's failed check among them) and is the one screenshotted; and lesson 03, the lesson
with the most check boxes (9) and fallback labels (7), with graphs drawn. $TGL_BROWSER_LESSONS=all runs them all
(about 110 s), as before a release.

A lesson run here is not run by nbval a second time (tests/conftest.py deselects its nbval items; ``pytest
lessons/...`` alone still runs them under nbval). ``browser_unavailable()`` below decides, for both, whether the
browser tests can run.

Skipped when Playwright, Chromium or run.py's .venv/ is missing, or when TGL_NO_BROWSER is set (``.ci/run``
installs Chromium where it can). Never runs ``playwright install``: it uses the system's Chromium (Debian's
``chromium`` package) through executable_path.
"""
import base64
import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from notebook_outputs import output_problems
from processes import free_port
from tensorboard_helpers import tensorboard_server, write_lesson_runs

ROOT = Path(__file__).resolve().parents[1]
ALL_LESSONS = sorted(p.name for p in (ROOT / "lessons").glob("*.ipynb"))
SAMPLE = ("00_welcome_and_tensors.ipynb", "03_backward_pass.ipynb")  # why these two: see above
LESSONS = ALL_LESSONS if os.environ.get("TGL_BROWSER_LESSONS") == "all" else [n for n in ALL_LESSONS if n in SAMPLE]
GROUP = "browser"  # one xdist group: one JupyterLab and one Chromium
pytestmark = pytest.mark.extended  # .ci/run runs it after the whole suite, which then runs these lessons with nbval
PLANTED_IN = "00_welcome_and_tensors.ipynb"  # the lesson copied for the planted-traceback test (a quick one)
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
RUN_ALL_TIMEOUT = 150  # seconds for one lesson's Run All (each lesson runs in under 30 s on 2 idle cores)
SERVER_START_TIMEOUT = 60  # seconds for JupyterLab to answer


def find_chromium():
    """The system's Chromium: $TGL_CHROMIUM, a usual path, or one on PATH."""
    candidates = [os.environ.get("TGL_CHROMIUM", "")] + list(CHROMIUM_CANDIDATES)
    candidates += [shutil.which(n) or "" for n in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def browser_unavailable():
    """Why the browser tests cannot run here (a sentence), or None when they can. Used by the ``browser`` fixture
    (skip) and by tests/conftest.py (nbval runs lessons/*.ipynb itself unless these tests will)."""
    if os.environ.get("TGL_NO_BROWSER"):
        return "TGL_NO_BROWSER is set"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip)"
    if not (ROOT / ".venv" / "bin" / "python").exists():
        return "no .venv/ from run.py's set-up: run it through `python3 run.py test`"
    if find_chromium() is None:
        return "no Chromium found (apt-get install chromium, or set TGL_CHROMIUM to its path)"
    return None


# ---------------------------------------------------------------------------------------------- the server

def _lab_command(home, port, token):
    """`python3 run.py lab ...` from a copy of the launcher beside a copy of lessons/ (run.py opens the lessons/
    folder next to it). The copy's .venv/ shows the repository's environment entry by entry, with its own record
    that the set-up is done: run.py goes straight to JupyterLab and never reinstalls anything."""
    for name in ("run.py", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, home / name)
    # not runs/: the TensorBoard runs lesson 10 logs next to itself, which nbval may be rewriting meanwhile
    shutil.copytree(ROOT / "lessons", home / "lessons", ignore=shutil.ignore_patterns(".*", "runs"))
    sys.path.insert(0, str(home))
    try:
        import run  # the copy: its ROOT is ``home``
        venv, marker, setup_hash = run.VENV, run.MARKER, run.setup_hash()
    finally:
        sys.path.remove(str(home))
        sys.modules.pop("run", None)
    venv.mkdir()
    for entry in (ROOT / ".venv").iterdir():
        if entry.name != marker.name:
            (venv / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    marker.write_text(setup_hash + "\n")
    return [sys.executable, str(home / "run.py"), "lab", "--no-browser", f"--port={port}",
            "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]


def _test_settings(folder):
    """JupyterLab user settings for the tests only: no news toast over the notebook in the screenshots; windowing
    off, so that every cell is in the page and laid out however far from the viewport; every output of a cell
    shown (no "show more outputs" trimming)."""
    settings = {"apputils-extension/notification": {"fetchNews": "false"},
                "notebook-extension/tracker": {"windowingMode": "none", "maxNumberOutputs": 100_000}}
    for name, values in settings.items():
        path = folder / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class Lab:
    """A running JupyterLab: its base URL, token, and the folder it serves (a copy of lessons/)."""

    def __init__(self, home, url, token):
        self.home, self.url, self.token, self.folder = home, url, token, home / "lessons"
        self._shutdowns, self.shutdown_errors = [], []

    def api(self, path, method="GET", body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/api/{path}", data=data, method=method,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = response.read()
        return json.loads(answer) if answer else None

    def start_kernel(self, name):
        """Start the kernel of notebook ``name`` now (a session, as JupyterLab would), so that it starts while the
        page loads: JupyterLab, opening the notebook, connects to it. Returns the session's id."""
        kernel = nbformat.read(self.folder / name, as_version=4).metadata.get("kernelspec", {}).get("name", "python3")
        session = self.api("sessions", "POST", {"path": name, "name": name, "type": "notebook",
                                                "kernel": {"name": kernel}})
        return session["id"]

    def shut_down(self, session_id):
        """Shut a session's kernel down in the background (the next lesson need not wait for it)."""
        def shut_down():
            try:
                self.api(f"sessions/{session_id}", "DELETE")
            except OSError as e:
                self.shutdown_errors.append(f"session {session_id}: {e}")
        thread = threading.Thread(target=shut_down, daemon=True)
        thread.start()
        self._shutdowns.append(thread)

    def kernels_left(self, timeout=30):
        """Wait for the shut-downs begun; the command lines of this server's kernels still running (their
        connection files are in its runtime folder)."""
        for thread in self._shutdowns:
            thread.join(timeout)
        deadline = time.monotonic() + timeout
        while True:
            running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
            left = [line for line in running if str(self.home / "runtime") in line]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.2)


@contextlib.contextmanager
def jupyter_lab(home):
    """Start JupyterLab on ``home``/lessons; yields a Lab; always stops it (and all it started)."""
    port, token = free_port(), hashlib.sha256(os.urandom(16)).hexdigest()[:32]
    command = _lab_command(home, port, token)
    _test_settings(home / "lab-settings")
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = open(home / "jupyter.log", "w")
    server = subprocess.Popen(command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)  # its own process group: one signal stops it all
    # A pytest process killed before its clean-up (a CI time-out, an xdist worker stopped) must not leave the server
    # behind: a watchdog waits on a pipe from this process and stops the server's group if the pipe closes unsaid.
    watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(server.pid)], stdin=subprocess.PIPE,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (home / "jupyter.log").read_text()[-3000:])
                time.sleep(0.3)
        yield Lab(home, url, token)
    finally:
        stop_group(server)
        try:
            watchdog.communicate(b"stopped", timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            watchdog.kill()
            watchdog.wait()
        log.close()


_WATCHDOG = """import os, signal, sys
if sys.stdin.read() != "stopped":  # end of file unsaid: the test process is gone
    try:
        os.killpg(int(sys.argv[1]), signal.SIGTERM)
    except ProcessLookupError:
        pass
"""


def _group_alive(pgid):
    """True while a live (not zombie) process of process group ``pgid`` remains."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
    for stat in proc.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (name)": state, ppid, pgrp, ...
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def stop_group(process, grace=20):
    """SIGTERM the process group of ``process`` (run.py and JupyterLab, which then shuts its kernels down),
    wait until all of it has exited, and SIGKILL what is left after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


# ---------------------------------------------------------------------------------------------- the page

_STATE = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');  // the notebook shown
    const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
    // a cell shown collapsed (metadata jupyter.source_hidden) has a placeholder instead of its input, and its
    // prompt shows no count: it is left out here; an error it raises still shows in its outputs (problems_on)
    const cells = panel ? [...panel.querySelectorAll('.jp-CodeCell')]
                            .filter(c => !c.querySelector('.jp-InputPlaceholder')) : [];
    const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim());
    return {status: indicator ? indicator.dataset.status : 'none', prompts: prompts,
            dialog: document.querySelectorAll('.jp-Dialog').length > 0};
}"""


def _menu(page, menu, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def run_all(page, notebook, timeout=RUN_ALL_TIMEOUT):
    """In the notebook shown, once its kernel is idle: Run > Run All Cells, and wait until every cell has run."""
    deadline = time.monotonic() + timeout
    # the kernel is up when the status bar says so ("Python 3 (ipykernel) | Idle")
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=60_000)
    _menu(page, "Run", "Run All Cells")
    # Run All marks every code cell [*]; the notebook is done when every prompt has its number and it is idle.
    # Idle with cells left unrun means the run was cut short (an error stops Run All; so does a kernel that was
    # still settling when it began): Run All once more, then report.
    stalled_since, retried = None, False
    while True:
        state = page.evaluate(_STATE)
        ran = [bool(re.fullmatch(r"\[\d+\]:", p)) for p in state["prompts"]]
        if state["dialog"]:  # JupyterLab may ask which kernel to use: the notebook's own (Python 3)
            with contextlib.suppress(Exception):
                page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=2000)
        elif state["status"] == "idle" and ran and all(ran):
            return
        elif state["status"] == "idle" and "[*]:" not in state["prompts"]:
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 3:
                errors = problems_on(page)
                if retried or errors:
                    raise AssertionError(f"{notebook}: Run All stopped with {ran.count(False)} of {len(ran)} code "
                                         "cells not run" + "".join(f"\n{e}" for e in errors))
                retried, stalled_since = True, None
                _menu(page, "Run", "Run All Cells")
        else:
            stalled_since = None
        if time.monotonic() > deadline:
            raise AssertionError(f"{notebook} did not finish in {timeout:.0f} s: the notebook is "
                                 f"{state['status']}, {ran.count(False)} of {len(ran)} code cells not run")
        time.sleep(0.25)


def save(page, path, timeout=30):
    """File > Save Notebook, and wait until ``path`` is written anew with every code cell's execution count;
    returns it read."""
    before = path.stat().st_mtime_ns
    _menu(page, "File", "Save Notebook")
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, ValueError, nbformat.reader.NotJSONError):
            if path.stat().st_mtime_ns != before:
                notebook = nbformat.read(path, as_version=4)
                if all(c.execution_count for c in notebook.cells if c.cell_type == "code"):
                    return notebook
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} was not saved with its outputs within {timeout} s")
        time.sleep(0.1)


# Every error the learner would see: tracebacks, error outputs, the red tqdm/ipywidgets warning; and what does not
# fit the screen: a check box or fallback label wider than its output area, a stub line (the exercise's "YOUR CODE
# HERE" comment or its raise) running past the editor's right edge, printed text that JupyterLab wraps (wider than
# its output area when laid out unwrapped), a figure shrunk to fit its output area (848 px wide: text shrinks too).
# Text is read with textContent (innerText is empty for a cell the browser has not laid out). Also returns, for
# each code cell in order, its number of outputs.
_PROBLEMS = """() => {
    const found = [];
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return {found: ['no notebook is shown'], outputs: []};
    const outputs = [...panel.querySelectorAll('.jp-CodeCell')].map(cell => {
        const area = cell.querySelector('.jp-OutputArea');  // the cell's own (widgets may nest others inside)
        return area ? [...area.children].filter(c => c.classList.contains('jp-OutputArea-child')).length : 0;
    });
    panel.querySelectorAll('.jp-OutputArea-output').forEach(out => {
        const text = out.textContent || '';
        const mime = out.dataset.mimeType || '';
        if (text.includes('Traceback') || /\\w+Error: /.test(text) && mime.includes('stderr'))
            found.push('error output: ' + text.slice(0, 300));
        if (text.includes('IProgress not found'))
            found.push('the tqdm warning "IProgress not found": ' + text.slice(0, 200));
    });
    panel.querySelectorAll('.tgl-check, .tgl-fallback').forEach(box => {
        if (box.clientWidth === 0)
            found.push('a box not laid out (hidden, or skipped by the page): ' + box.textContent.slice(0, 120));
        else if (box.scrollWidth > box.clientWidth + 1)
            found.push('a box wider than its cell: ' + box.textContent.slice(0, 120));
    });
    panel.querySelectorAll('.jp-OutputArea-output pre').forEach(pre => {
        // JupyterLab wraps printed text (white-space: pre-wrap); laid out unwrapped, would it be wider?
        const wrap = pre.style.whiteSpace;
        pre.style.whiteSpace = 'pre';
        const over = pre.scrollWidth - pre.clientWidth;
        pre.style.whiteSpace = wrap;
        if (over > 1) {
            const longest = (pre.textContent || '').split('\\n').reduce((a, b) => b.length > a.length ? b : a, '');
            found.push(`printed text wraps (${over} px too wide, ${longest.length} characters): `
                       + longest.slice(0, 100));
        }
    });
    panel.querySelectorAll('.jp-OutputArea-output img').forEach(img => {
        if (img.naturalWidth > 0 && img.clientWidth > 0 && img.clientWidth < img.naturalWidth - 1)
            found.push(`a figure shrunk to ${Math.round(100 * img.clientWidth / img.naturalWidth)}% `
                       + `(${img.naturalWidth} px wide, ${img.clientWidth} px shown)`);
    });
    panel.querySelectorAll('.jp-CodeCell .cm-line').forEach(line => {
        const text = line.textContent;
        if (!text.includes('YOUR CODE HERE') && !text.includes('NotImplementedError(')) return;
        const range = document.createRange();
        range.selectNodeContents(line);
        const scroller = line.closest('.cm-scroller');
        const right = range.getBoundingClientRect().right;
        if (scroller && right > 0 && right > scroller.getBoundingClientRect().right)
            found.push('a stub line past the editor edge: ' + text.trim());
    });
    return {found: found, outputs: outputs};
}"""


def problems_on(page):
    """What is wrong in the notebook shown (see _PROBLEMS), every cell read whether on screen or not."""
    return page.evaluate(_PROBLEMS)["found"]


def _text_of(output):
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.traceback)
    return "\n".join(str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))  # no pictures


def problems_in(notebook):
    """The same error checks as problems_on, on the outputs JupyterLab saved: independent of the page."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = _text_of(output)
            if output.output_type == "error":
                found.append(f"cell {index}: error output: {output.ename}: {output.evalue}"[:300])
            elif "Traceback" in text or re.search(r"\w+Error: ", text) and output.get("name") == "stderr":
                found.append(f"cell {index}: error output: {text[:300]}")
            if "IProgress not found" in text:
                found.append(f"cell {index}: the tqdm warning \"IProgress not found\"")
    return found


def check_every_output_was_read(page, notebook):
    """The page shows every output of every code cell that the saved notebook holds (cell by cell): so the page's
    checks saw them all, none left out of the page or trimmed."""
    shown = page.evaluate(_PROBLEMS)["outputs"]
    saved = [len(c.get("outputs", [])) for c in notebook.cells if c.cell_type == "code"]
    assert len(shown) == len(saved), f"the page shows {len(shown)} code cells, the notebook has {len(saved)}"
    differ = [(i, s, n) for i, (s, n) in enumerate(zip(shown, saved)) if s != n]
    assert not differ, "outputs shown in the page differ from those saved (code cell, shown, saved): " + str(differ)
    return sum(1 for n in saved if n)


def scroll_to(page, where):
    """Scroll the notebook shown to its "top" or "bottom", and let the page draw it."""
    page.evaluate("""async (where) => {
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
        const scroller = panel.querySelector('.jp-WindowedPanel-outer');  // the notebook's scrolling box
        scroller.scrollTo(0, where === 'top' ? 0 : scroller.scrollHeight);
        await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));  // two frames drawn
    }""", where)


def screenshot_of(page, selector, path):
    """Scroll the first element matching ``selector`` to the middle of the view, until it stays put (maths
    typeset, pictures decoded above it), and save the 1280x800 page; False if there is none."""
    element = page.locator(selector).first
    if not element.count():
        return False
    element.evaluate("""async (el) => {
        const frames = () => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
        let last = null;
        for (let i = 0; i < 30; i++) {
            el.scrollIntoView({block: 'center'});
            await frames();
            const box = el.getBoundingClientRect();
            if (last && box.top === last.top && box.height === last.height) return;
            last = box;
        }
    }""")
    page.screenshot(path=str(path))
    return True


WANTED = {"not-attempted": ".tgl-check.tgl-not-attempted", "passed": ".tgl-check.tgl-passed",
          "failed": ".tgl-check.tgl-failed", "error": ".tgl-check.tgl-error", "fallback": ".tgl-fallback",
          "progress-bar": ".widget-hprogress, .jp-OutputArea-output .progress"}


def save_screenshots(page, folder, prefix):
    """Screenshots of the top of the notebook and of the first element of each kind in WANTED that it shows."""
    saved = []
    page.mouse.move(VIEWPORT["width"] // 2, VIEWPORT["height"] - 5)  # no hover effects on the cells
    scroll_to(page, "top")
    page.screenshot(path=str(folder / f"{prefix}-top.png"))
    saved.append(folder / f"{prefix}-top.png")
    for name, selector in WANTED.items():
        if screenshot_of(page, selector, folder / f"{prefix}-{name}.png"):
            saved.append(folder / f"{prefix}-{name}.png")
    copy_to = os.environ.get("TGL_SCREENSHOTS")
    if copy_to:
        Path(copy_to).mkdir(parents=True, exist_ok=True)
        for path in saved:
            shutil.copy(path, Path(copy_to) / path.name)
    return saved


# ---------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole pytest process (each xdist worker has its own): its browser context."""
    why_not = browser_unavailable()
    if why_not:
        pytest.skip(why_not)
    from playwright.sync_api import sync_playwright
    chromium = find_chromium()
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        except Exception as e:  # noqa: BLE001
            # Not a skip: nbval left lessons/ to these tests (tests/conftest.py), so a skip would test nothing.
            pytest.fail(f"Chromium at {chromium} does not start ({str(e).splitlines()[0]}); fix it, or set "
                        "TGL_NO_BROWSER=1 to leave the lessons to nbval")
        context = browser.new_context(viewport=VIEWPORT)  # one HTTP cache: JupyterLab's scripts load once
        yield context
        context.close()
        browser.close()


@pytest.fixture(scope="session")
def lab(browser, tmp_path_factory):
    """One JupyterLab for the whole pytest process, serving a copy of lessons/; stopped at the end, with a check
    that nothing it started is left running."""
    home = tmp_path_factory.mktemp("lab")
    with jupyter_lab(home) as server:
        yield server
        kernels_left = server.kernels_left()
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert not server.shutdown_errors, "a kernel could not be shut down: " + "; ".join(server.shutdown_errors)
    assert not kernels_left, f"kernels left running after their notebooks were closed: {kernels_left}"
    assert str(home) not in running, "JupyterLab or a kernel it started is still running"


class Window:
    """The JupyterLab page of a pytest process. It is reused from lesson to lesson (JupyterLab loads once; each
    notebook is opened with File > Open from Path and closed with File > Close Tab); a lesson that fails, or a tab
    that does not close, costs the page: the next lesson starts a new one."""

    def __init__(self, context, lab):
        self.context, self.lab, self.page = context, lab, None

    def _start(self):
        self.page = self.context.new_page()
        self.page.goto(f"{self.lab.url}/lab?reset&token={self.lab.token}")  # reset: no notebook reopened
        self.page.wait_for_selector(".jp-DirListing-item", timeout=60_000)  # the file browser lists lessons/

    def open(self, name):
        """Open notebook ``name`` (in the server's folder) and wait until its cells are shown."""
        if self.page is None:
            self._start()
        _menu(self.page, "File", "Open from Path…")
        self.page.locator(".jp-Dialog input").fill(name)
        self.page.locator(".jp-Dialog .jp-mod-accept").click()
        self.page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=60_000)
        return self.page

    def close_notebook(self):
        """Close the notebook's tab, discarding changes made after the save (its kernel keeps running: Lab.shut_down
        stops it); or, failing that, the page."""
        if self.page is None:
            return
        with contextlib.suppress(Exception):
            _menu(self.page, "File", "Close Tab")
            discard = self.page.locator(".jp-Dialog button", has_text="Discard")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if not self.page.locator(".jp-NotebookPanel").count() and not self.page.locator(".jp-Dialog").count():
                    return
                if discard.count():
                    discard.first.click(timeout=2000)
                time.sleep(0.1)
        self.close()

    def close(self):
        if self.page is not None:
            with contextlib.suppress(Exception):
                self.page.close()
            self.page = None


@contextlib.contextmanager
def lesson_in_lab(window, notebook, name):
    """Write ``notebook`` (bytes, or a notebook object) into the server's folder as ``name``, open it, Run All and
    save it; yields (page, the notebook as saved). Then closes it and shuts its kernel down."""
    lab = window.lab
    if isinstance(notebook, bytes):
        (lab.folder / name).write_bytes(notebook)
    else:
        nbformat.write(notebook, lab.folder / name)
    session = lab.start_kernel(name)  # it starts while JupyterLab opens the notebook, which then connects to it
    try:
        page = window.open(name)
        run_all(page, name)
        yield page, save(page, lab.folder / name)
    except BaseException:
        window.close()
        raise
    else:
        window.close_notebook()
    finally:
        lab.shut_down(session)


@pytest.fixture(scope="session")
def window(browser, lab):
    """The JupyterLab page, reused by the tests of a pytest process."""
    window = Window(browser, lab)
    yield window
    window.close()


# ---------------------------------------------------------------------------------------------- the tests

@pytest.mark.xdist_group(GROUP)
@pytest.mark.parametrize("lesson", LESSONS)
def test_a_lesson_runs_in_jupyterlab_and_shows_its_checks(window, lesson, tmp_path):
    before = (ROOT / "lessons" / lesson).read_bytes()
    with lesson_in_lab(window, before, lesson) as (page, notebook):
        with_output = check_every_output_was_read(page, notebook)
        seen, in_file = problems_on(page), problems_in(notebook)
        boxes = page.locator(".tgl-check").count()
        wanted = lesson.startswith("00") or os.environ.get("TGL_SCREENSHOTS")
        saved = save_screenshots(page, tmp_path, lesson.split("_")[0]) if wanted else []
    assert seen == [], "\n".join(seen)
    assert in_file == [], "\n".join(in_file)
    assert with_output > 0, "no code cell has an output after Run All"
    assert boxes > 0, "no check box (.tgl-check) was rendered: checks should show an HTML box in JupyterLab"
    assert all(p.stat().st_size > 10_000 for p in saved)
    assert (ROOT / "lessons" / lesson).read_bytes() == before, "the test must work on a copy of lessons/"


PLANTED_TOP = ("import sys, traceback\n"
               "try:\n    {}['planted near the top']\n"
               "except KeyError:\n    traceback.print_exc(file=sys.stdout)  # a traceback printed, nothing raised")
PLANTED_END = "raise ZeroDivisionError('planted at the end')"
WHICH = "!which tinygrad-lite python pip"


def _off_screen(page, marker):
    """True when the output holding ``marker`` lies wholly outside the viewport."""
    return page.evaluate("""(marker) => {
        const out = [...document.querySelectorAll('.jp-OutputArea-output')].find(o => o.textContent.includes(marker));
        const box = out.getBoundingClientRect();
        return box.bottom < 0 || box.top > window.innerHeight;
    }""", marker)


@pytest.mark.xdist_group(GROUP)
def test_a_planted_traceback_is_found_on_screen_or_not(window):
    """A copy of a lesson with a traceback printed by a cell near the top and one raised by a cell at the end:
    both are reported by the page's reader while each is scrolled out of view, and both are in the saved file.
    A cell before the end runs ``!which tinygrad-lite python pip``: the kernel finds the course's own."""
    notebook = nbformat.read(ROOT / "lessons" / PLANTED_IN, as_version=4)
    first_code = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells.insert(first_code + 1, nbformat.v4.new_code_cell(PLANTED_TOP))
    notebook.cells.append(nbformat.v4.new_code_cell(WHICH))
    notebook.cells.append(nbformat.v4.new_code_cell(PLANTED_END))
    with lesson_in_lab(window, notebook, f"planted_{PLANTED_IN}") as (page, saved):
        check_every_output_was_read(page, saved)
        for where, hidden in (("bottom", "planted near the top"), ("top", "planted at the end")):
            scroll_to(page, where)
            assert _off_screen(page, hidden), f"scrolled to the {where}, the cell '{hidden}' is still in view"
            seen = "\n".join(problems_on(page))
            assert "KeyError" in seen and "planted near the top" in seen, f"scrolled to the {where}:\n{seen}"
            assert "ZeroDivisionError" in seen and "planted at the end" in seen, f"scrolled to the {where}:\n{seen}"
        # the cross-check notices an output missing from the page (as it would be if JupyterLab left a cell out)
        page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-child')]
                                  .find(o => o.textContent.includes('planted near the top')).remove()""")
        with pytest.raises(AssertionError, match="outputs shown in the page differ"):
            check_every_output_was_read(page, saved)
    in_file = "\n".join(problems_in(saved))
    assert "planted near the top" in in_file and "planted at the end" in in_file, in_file
    # the kernel that `run.py lab` started finds the course's programs first on its PATH (run.py's child_env)
    (which,) = [c for c in saved.cells if c.cell_type == "code" and c.source == WHICH]
    found = "".join(o.get("text", "") for o in which.outputs).split()
    assert found == [str(window.lab.home / ".venv" / "bin" / name) for name in ("tinygrad-lite", "python", "pip")], \
        found


@pytest.mark.xdist_group(GROUP)
def test_tensorboards_scalars_page_shows_the_three_runs_of_lesson_10(browser, tmp_path):
    """TensorBoard (as in tests/test_tensorboard_server.py) over the runs that lesson 10's own cells log, one epoch
    each (the page needs no more): its Scalars page, as a learner opens it, lists the three runs and the chart of
    the validation loss."""
    pytest.importorskip("tensorboard")
    lesson = write_lesson_runs(tmp_path, epochs=1)
    runs = [f"lr_{lr}" for lr in lesson["LEARNING_RATES"]]
    with tensorboard_server(lesson["LOG_DIR"], runs) as url:
        page = browser.new_page()
        try:
            page.goto(f"{url}/#scalars")
            for name in [*runs, "val_loss"]:
                page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
        finally:
            page.close()


def test_lessons_outside_the_sample_are_held_to_the_pages_standard_under_nbval():
    """The lessons this file does not open run under nbval, and the repository's conftest.py fails a cell whose
    outputs the page would show wrong (``output_problems``, tests/notebook_outputs.py): each kind is found, a plain
    output is not."""
    png = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (1000).to_bytes(4, "big") + (300).to_bytes(4, "big")
    wide_figure = {"output_type": "display_data", "data": {"image/png": base64.b64encode(png).decode(),
                                                           "text/plain": "<Figure size 1000x300 with 1 Axes>"}}
    cases = {
        "a traceback or an error printed": {"output_type": "stream", "name": "stdout",
                                            "text": "Traceback (most recent call last):\n  File ...\nKeyError: 'k'\n"},
        "error output: ZeroDivisionError": {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "x",
                                            "traceback": []},
        "IProgress not found": {"output_type": "stream", "name": "stderr", "text": "IProgress not found. ...\n"},
        "a printed line of 101 characters": {"output_type": "stream", "name": "stdout", "text": "x" * 101 + "\n"},
        "a figure 1000 px wide": wide_figure,
        "a printed line of 120": {"output_type": "execute_result", "data": {"text/plain": "y" * 120}},
    }
    for text, output in cases.items():
        assert any(text in p for p in output_problems(output)), (text, output_problems(output))
    fine = [{"output_type": "stream", "name": "stdout", "text": "x" * 100 + "\nValueError: is only text\n"},
            {"output_type": "stream", "name": "stderr", "text": "a UserWarning: not an error\n"},
            {**wide_figure, "data": {**wide_figure["data"], "image/png": base64.b64encode(
                png.replace((1000).to_bytes(4, "big"), (840).to_bytes(4, "big"))).decode()}}]
    assert [output_problems(o) for o in fine] == [[], [], []]
