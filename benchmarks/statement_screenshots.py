"""Screenshots of exercise statements as a learner sees them: JupyterLab in headless Chromium at 1280x800 (the
browser tests' set-up, tests/test_browser.py), each statement's markdown cell with its <details> blocks closed and
then open, as PNG files to look at after editing a lesson's text.

    .venv/bin/python benchmarks/statement_screenshots.py 08_gpu_training.ipynb OUTDIR [08.scaled_step ...]

The lesson is taken from lessons/ (run `tinygrad-lite release` first); without exercise ids, every exercise of the
lesson. Writes OUTDIR/EXERCISE-closed.png and OUTDIR/EXERCISE-open.png. Needs Playwright and a Chromium."""
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main(argv):
    import test_browser as tb  # the browser tests' JupyterLab and Chromium
    from playwright.sync_api import sync_playwright
    name, out, ids = argv[0], Path(argv[1]), argv[2:]
    why_not = tb.browser_unavailable()
    if why_not:
        raise SystemExit(f"statement_screenshots: {why_not}")
    text = (ROOT / "lessons" / name).read_text(encoding="utf-8")
    ids = ids or sorted(set(re.findall(r"### Exercise (\d\d\.\w+)", text)), key=text.index)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home, tb.jupyter_lab(Path(home)) as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=tb.find_chromium(), headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        page = tb.Window(browser.new_context(viewport=tb.VIEWPORT), lab).open(name)
        page.wait_for_timeout(3000)  # (the maths renders after the cells appear)
        cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell")
        for exercise in ids:
            heading = re.compile(rf"^Exercise {re.escape(exercise)} \(")  # the h3, not a mention in other text
            cell = cells.filter(has=page.locator("h3", has_text=heading)).first
            cell.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            cell.screenshot(path=str(out / f"{exercise}-closed.png"))
            for summary in cell.locator("summary").all():
                summary.click()
            page.wait_for_timeout(800)
            cell.screenshot(path=str(out / f"{exercise}-open.png"))
            print(f"{exercise}: {out / exercise}-closed.png, -open.png")
        browser.close()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    main(sys.argv[1:])
