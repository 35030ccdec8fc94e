"""How course notebooks are marked up: the conventions that release, check and grading rely on.

Everything lives under the metadata key ``"tinygrad_lite"``:

- the notebook: ``{"lesson": "03_backward_pass"}``;
- an exercise cell: ``{"exercise": "03.relu_backward", "task": "one sentence: what to write"}``, its solution
  code between the lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (its points live in one place only, the
  registry: ``Exercise.points`` in ``course/exercises/lessonNN.py``);
- the check cell after it: ``{"check": "03.relu_backward"}`` (its code calls ``check("03.relu_backward", fn)``);
- a cell only the instructor sees: ``{"instructor": true}`` (dropped from the learner's copy);
- a cell that only draws a figure: ``{"figure": true}``. Grading skips it (it looks at no figure), so it must
  bind no name that a later cell up to the last exercise reads (tests/test_figure_cells.py holds the rule).
  Grading skips the cells that start with ``# needs PyTorch`` or ``# needs TensorBoard`` too (``pytorch.py``:
  without the package they only print how to install it), under the same rule.
"""
import json
import os
import re
import stat
import warnings
from pathlib import Path

KEY = "tinygrad_lite"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


class NotebookError(Exception):
    """A notebook cannot be used: missing, not a notebook, not from this course, or badly marked up."""


def meta(node):
    """The tinygrad_lite metadata of a notebook or a cell ({} when there is none or it is malformed: see
    ``check_markup``, which reports malformed metadata)."""
    value = node.get("metadata", {}).get(KEY, {}) if isinstance(node.get("metadata", {}), dict) else {}
    return dict(value) if isinstance(value, dict) else {}


def first_line(cell, width=40):
    """The first non-blank line of a cell's source, cut to ``width`` columns ("" for none)."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    first = next((line.strip() for line in str(source).splitlines() if line.strip()), "")
    return first if len(first) <= width else first[:width - 3] + "..."


def cell_label(index, cell):
    """How messages name a cell: its number (1-based, as a reader counts them) and its first line."""
    first = first_line(cell)
    return f"cell {index + 1}" + (f" ({first!r})" if first else "")


def not_a_file(mode):
    """What a file of this ``st_mode`` is when it is not a regular file ("a named pipe (FIFO)", "a folder" ...);
    None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return what
    return "not a regular file"


def read_regular_file(path, what="a notebook"):
    """The bytes of the regular file ``path`` (a link to one is fine). Anything else (a named pipe, a socket, a
    device, a folder) is refused with a NotebookError naming the path, without being opened: opening a named pipe
    waits for a writer, reading a device may never end. OSErrors (missing, unreadable) are left to the caller."""
    kind = not_a_file(os.stat(path).st_mode)
    if kind == "a folder" and what == "a notebook":  # (`check course` for `check course/00_....ipynb`)
        inside = sorted(Path(path).glob("*.ipynb"))
        example = f", e.g. {inside[0]}" if inside else ""
        raise NotebookError(f"{path} is a folder, not {what} file: give the path of one notebook{example}")
    if kind:
        raise NotebookError(f"{path} is {kind}, not {what} file: it was not opened")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # never waits, even if it was swapped meanwhile
    with os.fdopen(fd, "rb") as f:
        kind = not_a_file(os.fstat(f.fileno()).st_mode)
        if kind:
            raise NotebookError(f"{path} is {kind}, not {what} file: it was not read")
        return f.read()


def read_notebook(path):
    """Read a notebook with nbformat, turning every way it can fail into a NotebookError that says what is wrong."""
    import nbformat
    path = Path(path)
    try:
        data = read_regular_file(path)  # a folder, a named pipe ... is refused there, from one stat, unopened
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except OSError as e:
        raise NotebookError(f"{path} cannot be read ({e.strerror or e})") from None
    try:
        with warnings.catch_warnings():  # nbformat warns about missing cell ids: not the learner's concern
            warnings.simplefilter("ignore")
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as e:  # noqa: BLE001  (JSON errors, validation errors, encoding errors ...)
        shape = _wrong_shape(data)  # (valid JSON of another shape: said in its terms, not nbformat's internals)
        if shape:
            raise NotebookError(f"{path} is not a Jupyter notebook: {shape}") from None
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise NotebookError(f"{path} is not a Jupyter notebook that can be read ({first_line})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path} is not a Jupyter notebook (it has no list of cells)")
    if not isinstance(nb.get("metadata", {}), dict):
        raise NotebookError(f"{path}: the notebook's metadata is not a JSON object")
    for index, cell in enumerate(nb.cells):
        where = f"{path}, {cell_label(index, cell)}"
        if not isinstance(cell, dict):
            raise NotebookError(f"{path}, cell {index + 1}: a cell must be a JSON object, not {type(cell).__name__}")
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise NotebookError(f"{where}: unknown cell type {cell.get('cell_type')!r} (code, markdown or raw)")
        if not isinstance(cell.get("source"), str):
            what = "has no source" if "source" not in cell else f"has a source of type {type(cell.source).__name__}"
            raise NotebookError(f"{where} {what}: every cell needs its text as a string or a list of lines")
        if not isinstance(cell.get("metadata", {}), dict):
            raise NotebookError(f"{where}: its metadata is not a JSON object")
    return nb


def _wrong_shape(data):
    """What is wrong with ``data`` as a notebook when it is valid JSON but not an object with a list of cells (a
    list, a string, "cells" a string ...), in those terms; None otherwise (not JSON, or the shape is right)."""
    try:
        raw = json.loads(data)
    except ValueError:
        return None
    if isinstance(raw, dict) and "cells" not in raw:
        return "its JSON object has no \"cells\", where a notebook is an object with a list of cells"
    what = raw if not isinstance(raw, dict) else raw["cells"]
    if what is not raw and isinstance(what, list):
        return None
    kind = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(type(what), "a number")
    return (f"its JSON is {kind}, where a notebook is an object with a list of cells" if what is raw else
            f"its \"cells\" is {kind}, not a list of cells")


def exercise_marker(exercise_id, name):
    """How an exercise cell that lost its metadata is still recognised, by ``check`` and by ``grade`` alike: it
    defines the exercise's function (``def name(``) or still holds its stub's ``NotImplementedError("NN.name: ...``.
    """
    return re.compile(rf"^def\s+{re.escape(name)}\s*\(|NotImplementedError\(\s*['\"]{re.escape(exercise_id)}:", re.M)


def exercise_ids(nb):
    """The ids of the exercises in ``nb``, in order."""
    return [meta(cell)["exercise"] for cell in nb.cells if "exercise" in meta(cell)]


def require_course_notebook(nb, path):
    """Refuse a notebook from another course (no tinygrad_lite lesson metadata and no exercises) or one whose
    tinygrad_lite metadata is malformed (see ``check_markup``)."""
    check_markup(nb, path)
    if not meta(nb) and not exercise_ids(nb):
        raise NotebookError(f"{path} is not a tinygrad_lite lesson: it has no tinygrad_lite exercises or lesson "
                            "metadata. Is it a notebook from another course?")


# key: (the types it may have, what to call them in a message)
_CELL_KEYS = {"exercise": (str, "a text such as \"03.relu_backward\""), "check": (str, "an exercise id (text)"),
              "task": (str, "text"), "instructor": (bool, "true or false"), "figure": (bool, "true or false")}


def check_markup(nb, path):
    """Raise a NotebookError naming the notebook and the cell when tinygrad_lite metadata is malformed."""
    notebook_info = nb.metadata.get(KEY, {})
    if not isinstance(notebook_info, dict):
        raise NotebookError(f"{path}: the notebook's {KEY} metadata must be a JSON object, "
                            f"not {type(notebook_info).__name__}")
    seen = {}
    for index, cell in enumerate(nb.cells):
        info = cell.get("metadata", {}).get(KEY)
        if info is None:
            continue
        where = f"{path}, {cell_label(index, cell)}"
        if not isinstance(info, dict):
            raise NotebookError(f"{where}: its {KEY} metadata must be a JSON object such as "
                                f'{{"exercise": "03.relu_backward", "task": "..."}}, not {type(info).__name__}')
        if "points" in info:
            raise NotebookError(f"{where}: its {KEY} metadata has \"points\", but points live in one place only, the "
                                "registry (Exercise.points in tinygrad_lite/course/exercises/lessonNN.py): remove it "
                                "from the metadata")
        for key, (kind, described) in _CELL_KEYS.items():
            value = info.get(key)
            if key in info and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
                raise NotebookError(f"{where}: {KEY} metadata {key!r} must be {described}, got {value!r}")
        if "exercise" in info:
            if not info["exercise"].strip():
                raise NotebookError(f"{where}: its exercise id is empty")
            if cell.cell_type != "code":
                raise NotebookError(f"{where}: exercise {info['exercise']} is a {cell.cell_type} cell; "
                                    "exercises must be code cells")
            if info["exercise"] in seen:
                raise NotebookError(f"{where}: exercise id {info['exercise']} appears twice "
                                    f"(first in cell {seen[info['exercise']] + 1})")
            seen[info["exercise"]] = index
        elif "task" in info:
            raise NotebookError(f"{where}: it has exercise metadata (a task) but no exercise id: "
                                f'add "exercise": "NN.name" to its {KEY} metadata')
