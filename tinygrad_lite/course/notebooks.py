"""How course notebooks are marked up: the conventions that release, check and grading rely on.

Everything lives under the metadata key ``"tinygrad_lite"``:

- the notebook: ``{"lesson": "03_backward_pass"}``;
- an exercise cell: ``{"exercise": "03.relu_backward", "points": 2, "task": "one sentence: what to write"}``,
  its solution code between the lines ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
- the check cell after it: ``{"check": "03.relu_backward"}`` (its code calls ``check("03.relu_backward", fn)``);
- a cell only the instructor sees: ``{"instructor": true}`` (dropped from the learner's copy).
"""
from pathlib import Path

KEY = "tinygrad_lite"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


class NotebookError(Exception):
    """A notebook cannot be used: missing, not a notebook, not from this course, or badly marked up."""


def meta(node):
    """The tinygrad_lite metadata of a notebook or a cell ({} when there is none)."""
    return dict(node.get("metadata", {}).get(KEY, {}))


def read_notebook(path):
    """Read a notebook with nbformat, turning every way it can fail into a NotebookError that says what is wrong."""
    import nbformat
    path = Path(path)
    if not path.exists():
        raise NotebookError(f"no such file: {path}")
    if path.is_dir():
        raise NotebookError(f"{path} is a folder, not a notebook (.ipynb file)")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # noqa: BLE001  (JSON errors, validation errors, encoding errors ...)
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise NotebookError(f"{path} is not a Jupyter notebook that can be read ({first_line})") from None
    if "cells" not in nb:
        raise NotebookError(f"{path} is not a Jupyter notebook (it has no cells)")
    return nb


def exercise_ids(nb):
    """The ids of the exercises in ``nb``, in order."""
    return [meta(cell)["exercise"] for cell in nb.cells if "exercise" in meta(cell)]


def require_course_notebook(nb, path):
    """Refuse a notebook from another course (no tinygrad_lite lesson metadata and no exercises)."""
    if not meta(nb) and not exercise_ids(nb):
        raise NotebookError(f"{path} is not a tinygrad_lite lesson: it has no tinygrad_lite exercises or lesson "
                            "metadata. Is it a notebook from another course?")
