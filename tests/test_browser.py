"""A browser smoke test: a learner opens a lesson in JupyterLab, runs it all, and sees check boxes, not errors.

JupyterLab is started the README's way (``python3 run.py lab``, here with ``--no-browser --port=N`` and a token)
on a copy of the repository's launcher and lessons in a temporary folder, so nothing in the repository changes
(not even JupyterLab's autosave). Headless Chromium, driven by Playwright, opens lesson 00 at 1280x800, runs
Run > Run All Cells, waits until the notebook is idle, and checks: no error output and no traceback in any cell,
check boxes rendered as HTML (``.tgl-check``), no red "IProgress not found" warning. Screenshots of the first check
box of each kind, of a fallback label and of a progress bar are saved (to $TGL_SCREENSHOTS too when it is set).

Skipped when Playwright or Chromium is missing (``.ci/run`` installs both where it can). Never runs
``playwright install``: it uses the system's Chromium (Debian's ``chromium`` package) through executable_path.
"""
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON = "00_welcome_and_tensors.ipynb"  # the quickest lesson that shows check boxes and fallback labels
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
BUDGET = 85  # seconds for the whole test, server start to clean-up (it must stay under 90)


def find_chromium():
    """The system's Chromium: $TGL_CHROMIUM, a usual path, or one on PATH."""
    candidates = [os.environ.get("TGL_CHROMIUM", "")] + list(CHROMIUM_CANDIDATES)
    candidates += [shutil.which(n) or "" for n in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_command(home, port, token):
    """`python3 run.py lab ...` from a copy of the launcher beside a copy of lessons/ (run.py opens the lessons/
    folder next to it). The copy's .venv/ shows the repository's environment entry by entry, with its own record
    that the set-up is done: run.py goes straight to JupyterLab and never reinstalls anything."""
    for name in ("run.py", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, home / name)
    shutil.copytree(ROOT / "lessons", home / "lessons", ignore=shutil.ignore_patterns(".*"))
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


def _quiet_settings(folder):
    """JupyterLab user settings for the test only: no news toast over the notebook in the screenshots."""
    path = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True)
    path.write_text('{"fetchNews": "false"}')


@contextlib.contextmanager
def jupyter_lab(home):
    """Start JupyterLab on ``home``/lessons; yields its base URL with the token; always stops it."""
    port, token = _free_port(), hashlib.sha256(os.urandom(16)).hexdigest()[:32]
    command = _lab_command(home, port, token)
    _quiet_settings(home / "lab-settings")
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = open(home / "jupyter.log", "w")
    server = subprocess.Popen(command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)  # its own process group: one signal stops it all
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (home / "jupyter.log").read_text()[-3000:])
                time.sleep(0.3)
        yield url, token
    finally:
        stop_group(server)
        log.close()


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


_STATE = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');  // the notebook shown
    const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
    const prompts = panel ? [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim())
                          : [];
    return {status: indicator ? indicator.dataset.status : 'none', prompts: prompts,
            dialog: document.querySelectorAll('.jp-Dialog').length > 0};
}"""


def _click_run_all(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()


def run_all(page, url, token, notebook, timeout=60):
    """Open ``notebook`` in JupyterLab, Run > Run All Cells, and wait until every cell has run."""
    deadline = time.monotonic() + timeout
    page.goto(f"{url}/lab/tree/{notebook}?reset&token={token}")  # reset: no other notebook reopened
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=40_000)
    # the kernel is up when the status bar says so ("Python 3 (ipykernel) | Idle")
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=40_000)
    _click_run_all(page)
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
                _click_run_all(page)
        else:
            stalled_since = None
        if time.monotonic() > deadline:
            raise AssertionError(f"{notebook} did not finish in {timeout:.0f} s: the notebook is "
                                 f"{state['status']}, {ran.count(False)} of {len(ran)} code cells not run")
        time.sleep(0.5)


def screenshot_of(page, selector, path):
    """Scroll the first element matching ``selector`` into view and save the 1280x800 page; False if none."""
    element = page.locator(selector).first
    if not element.count():
        return False
    page.mouse.move(VIEWPORT["width"] // 2, VIEWPORT["height"] - 5)  # no hover effects on the cells
    for _ in range(6):  # cells above may still grow (maths typeset, pictures decoded): scroll until it stays put
        element.scroll_into_view_if_needed()
        page.evaluate("(el) => el.scrollIntoView({block: 'center'})", element.element_handle())
        time.sleep(0.4)
        box = element.bounding_box()
        if box and 90 <= box["y"] and box["y"] + min(box["height"], 300) <= VIEWPORT["height"] - 30:
            break
    page.screenshot(path=str(path))
    return True


WANTED = {"not-attempted": ".tgl-check.tgl-not-attempted", "passed": ".tgl-check.tgl-passed",
          "failed": ".tgl-check.tgl-failed", "error": ".tgl-check.tgl-error", "fallback": ".tgl-fallback",
          "progress-bar": ".widget-hprogress, .jp-OutputArea-output .progress"}


def save_screenshots(page, folder, prefix):
    """Screenshots of the top of the notebook and of the first element of each kind in WANTED that it shows."""
    saved = []
    page.evaluate("() => document.querySelector('.jp-WindowedPanel-outer, .jp-Notebook').scrollTo(0, 0)")
    page.mouse.move(VIEWPORT["width"] // 2, VIEWPORT["height"] - 5)
    time.sleep(0.3)
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


def problems_on(page):
    """Every error the learner would see: tracebacks, error outputs, the red tqdm/ipywidgets warning; and what
    does not fit the screen: a check box or fallback label wider than its output area, a stub line (the
    exercise's "YOUR CODE HERE" comment or its raise) running past the editor's right edge."""
    return page.evaluate("""() => {
        const found = [];
        document.querySelectorAll('.jp-OutputArea-output').forEach(out => {
            const text = out.innerText || '';
            const mime = out.dataset.mimeType || '';
            if (text.includes('Traceback') || /\\w+Error: /.test(text) && mime.includes('stderr'))
                found.push('error output: ' + text.slice(0, 300));
            if (text.includes('IProgress not found'))
                found.push('the tqdm warning "IProgress not found": ' + text.slice(0, 200));
        });
        document.querySelectorAll('.tgl-check, .tgl-fallback').forEach(box => {
            if (box.clientWidth > 0 && box.scrollWidth > box.clientWidth + 1)
                found.push('a box wider than its cell: ' + box.innerText.slice(0, 120));
        });
        document.querySelectorAll('.jp-CodeCell .cm-line').forEach(line => {
            const text = line.textContent;
            if (!text.includes('YOUR CODE HERE') && !text.includes('NotImplementedError(')) return;
            const range = document.createRange();
            range.selectNodeContents(line);
            const scroller = line.closest('.cm-scroller');
            const right = range.getBoundingClientRect().right;
            if (scroller && right > 0 && right > scroller.getBoundingClientRect().right)
                found.push('a stub line past the editor edge: ' + text.trim());
        });
        return found;
    }""")


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip)")
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv/ from run.py's set-up: run it through `python3 run.py test`")
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set TGL_CHROMIUM to its path)")
    with playwright_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=chromium, headless=True,
                                        args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        except Exception as e:  # noqa: BLE001  (a Chromium that cannot start here: skip, saying why)
            pytest.skip(f"Chromium at {chromium} does not start: {str(e).splitlines()[0]}")
        yield browser
        browser.close()


def test_a_lesson_runs_in_jupyterlab_and_shows_its_checks(browser, tmp_path):
    start = time.monotonic()
    before = (ROOT / "lessons" / LESSON).read_bytes()
    with jupyter_lab(tmp_path) as (url, token):
        page = browser.new_page(viewport=VIEWPORT)
        run_all(page, url, token, LESSON, timeout=BUDGET - (time.monotonic() - start) - 10)
        problems = problems_on(page)
        boxes = page.locator(".tgl-check").count()
        saved = save_screenshots(page, tmp_path, LESSON.split("_")[0])
        page.close()
    assert time.monotonic() - start < 90, "the browser smoke test must stay under 90 s"
    assert problems == [], "\n".join(problems)
    assert boxes > 0, "no check box (.tgl-check) was rendered: checks should show an HTML box in JupyterLab"
    assert all(p.stat().st_size > 10_000 for p in saved)
    assert (ROOT / "lessons" / LESSON).read_bytes() == before, "the test must work on a copy of lessons/"
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(tmp_path) not in running, "JupyterLab or a kernel it started is still running"
