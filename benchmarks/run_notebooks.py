"""Run notebooks top to bottom with nbclient, as a learner's "Run All", and report what a learner would see wrong.

    python benchmarks/run_notebooks.py [--jobs N] [--expect-gpu] NOTEBOOK...

Each notebook runs in a fresh kernel, in a copy in a folder of its own (the files here are left as they are), with
this checkout's tinygrad_lite first on the kernel's path. A line per notebook: its seconds, and each problem that
tests/notebook_outputs.output_problems finds in its outputs (an error output, a traceback printed, a line too long
for JupyterLab, a figure it would shrink). With ``--expect-gpu``, lesson 08 must also have found the GPU (its first
cell says where its cells run). Exit status 1 when any notebook has a problem. benchmarks/gpu_check.sh runs lessons
08, 09 and 10 with it on a GPU machine (nbclient and ipykernel can travel there as wheels).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from notebook_outputs import output_problems  # noqa: E402

GPU_FOUND = "GPU found: the cells run on cuda"  # lesson 08's first cell, on a machine with a GPU


def run(path, expect_gpu):
    """(seconds, [problems]) of one notebook, run in a copy."""
    folder = Path(tempfile.mkdtemp(prefix="tgl-run-"))
    copy = folder / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    problems, start = [], time.perf_counter()
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(folder)}}).execute()
    except Exception as e:  # noqa: BLE001  (the kernel died, or a cell timed out: reported, the others go on)
        problems.append(f"{type(e).__name__}: {e}"[:300])
    seconds = time.perf_counter() - start
    for n, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            problems += [f"cell {n}: {p}" for p in output_problems(output)]
    if expect_gpu and path.name.startswith("08_"):
        first = "".join(o.get("text", "") for o in nb.cells[1].get("outputs", []))
        if GPU_FOUND not in first:
            problems.append(f"the lesson did not find the GPU: its first cell printed {first.strip()[:200]!r}")
    shutil.rmtree(folder, ignore_errors=True)
    return seconds, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
    parser.add_argument("--expect-gpu", action="store_true", help="lesson 08 must find a GPU")
    args = parser.parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    failed = 0
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for path, (seconds, problems) in zip(args.notebooks,
                                             pool.map(lambda p: run(p, args.expect_gpu), args.notebooks)):
            print(f"{path}: {'ok' if not problems else f'{len(problems)} problem(s)'} in {seconds:.1f} s", flush=True)
            for problem in problems:
                print(f"  {problem}")
            failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
