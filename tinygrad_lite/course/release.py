"""Make the learner's lessons from the instructor's solutions (the single source).

For each ``solutions/NN_name.ipynb`` the release writes ``lessons/NN_name.ipynb`` where:

- the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub that says what to write and
  raises ``NotImplementedError`` (the check cell reports "not attempted" until the learner replaces it);
- exercise cells whose stub raises at the top level (not inside a function) get nbval's ``raises-exception`` tag;
- outputs and execution counts are cleared, and instructor-only cells are dropped.

The output is deterministic, so a test can prove that ``lessons/`` equals a fresh release of ``solutions/``.
"""
import contextlib
import datetime
import hashlib
import json
import os
import textwrap
import warnings
from pathlib import Path

from .notebooks import (
    BEGIN,
    END,
    KEY,
    NotebookError,
    cell_label,
    check_markup,
    meta,
    not_a_file,
    read_notebook,
    read_regular_file,
    require_course_notebook,
)

RAISES = "raises-exception"
# the cell metadata a learner's copy keeps: tags (nbval's, raises-exception), ours, and JupyterLab's "jupyter"
# ({"source_hidden": true}: a cell shown collapsed, such as the asserts that keep the text true)
KEPT_METADATA = ("tags", KEY, "jupyter")
STUB_WIDTH = 100  # stub lines fit a laptop-wide editor (the task text is wrapped)


def stub_solution(source, exercise):
    """Replace each solution block in ``source`` by a stub; returns (new source, does a stub raise at top level).

    The first stub says the exercise's task; a later one in the same cell (given code between two blocks) points
    back to it rather than repeat it. A block may say its own part instead: ``### BEGIN SOLUTION: scale g in
    place`` gives the stub "YOUR CODE HERE: scale g in place"."""
    task = exercise.get("task", "write your code here, then run the check cell below")
    out, inside, top_level, blocks = [], False, False, 0
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise NotebookError(f"exercise {exercise['exercise']}: line {number}: {BEGIN} inside another block")
            inside, indent, blocks = True, line[: len(line) - len(line.lstrip())], blocks + 1
            top_level = top_level or indent == ""
            own = stripped[len(BEGIN):].lstrip(" :")  # "### BEGIN SOLUTION: part 2, the running update"
            said = own or (task if blocks == 1 else "the next part of the task (see the first stub above)")
            out += textwrap.wrap(f"YOUR CODE HERE: {said}", STUB_WIDTH, initial_indent=f"{indent}# ",
                                 subsequent_indent=f"{indent}#   ", break_long_words=False, break_on_hyphens=False)
            out.append(f"{indent}raise NotImplementedError({exercise['exercise'] + ': not written yet'!r})")
        elif stripped.startswith(END):
            if not inside:
                raise NotebookError(f"exercise {exercise['exercise']}: line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise NotebookError(f"exercise {exercise['exercise']}: {BEGIN} is never closed by {END}")
    if not blocks:
        raise NotebookError(f"exercise {exercise['exercise']}: the cell has no {BEGIN} ... {END} block")
    return "\n".join(out), top_level


def release_notebook(nb, path="the notebook"):
    """The learner's copy of solution notebook ``nb`` (a new notebook; ``nb`` is not modified).

    A cell with solution markers but no exercise metadata (lost in an edit) is refused: copied as it is, it would
    hand the solution to the learner. Errors name ``path`` and the cell.
    """
    import nbformat
    check_markup(nb, path)
    lesson = nbformat.v4.new_notebook()
    lesson.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", KEY)}
    lesson.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        info = meta(cell)
        if info.get("instructor"):
            continue
        new = nbformat.from_dict({"cell_type": cell.cell_type, "id": cell.get("id"), "source": cell.source,
                                  "metadata": {k: v for k, v in cell.metadata.items() if k in KEPT_METADATA}})
        if new.id is None:
            del new["id"]
        if cell.cell_type == "code":
            new.outputs, new.execution_count = [], None
        where = f"{path}, {cell_label(index, cell)}"
        if "exercise" in info:
            try:
                new.source, raises = stub_solution(cell.source, info)
            except NotebookError as e:
                raise NotebookError(f"{where}: {e}") from None
            tags = [t for t in new.metadata.get("tags", []) if t != RAISES] + ([RAISES] if raises else [])
            if tags:
                new.metadata["tags"] = tags
        elif any(line.strip().startswith((BEGIN, END)) for line in cell.source.splitlines()):
            raise NotebookError(f"{where} has {BEGIN} / {END} but no exercise metadata, so the release would copy "
                                f"its solution into the lesson. Give it back its {KEY} metadata "
                                '({"exercise": "NN.name", "task": "..."}) or remove the markers')
        lesson.cells.append(new)
    return lesson


def notebook_text(nb):
    """The exact text a notebook is written as (nbformat's layout plus a final newline)."""
    import nbformat
    return nbformat.writes(nb) + "\n"


# -------------------------------------------------------------------- never losing a learner's work
# A released lesson records a hash of its cells (sources, outputs, execution counts). A lesson whose cells no longer
# match its hash was edited (or run and saved) by the learner: release keeps it unless told to replace it, and then
# backs it up first. The hash covers cells only, so JupyterLab refreshing notebook metadata is not an edit.
RELEASE_KEY = "tinygrad_lite_release"
BACKUP_FOLDER = ".backup"


class LessonsEdited(NotebookError):
    """Lessons a learner edited would be overwritten; nothing was written."""


def cells_hash(nb):
    """A hash of what a learner can change in a notebook: each cell's type, source, outputs and execution count."""
    cells = [[c.get("cell_type"), c.get("source"), c.get("outputs", []), c.get("execution_count")]
             for c in nb.get("cells", [])]
    text = json.dumps(cells, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp(lesson):
    """Record in ``lesson``'s metadata the hash of its cells as released (returns ``lesson``)."""
    lesson.metadata[RELEASE_KEY] = {"cells_sha256": cells_hash(lesson)}
    return lesson


def lesson_state(path, release_text):
    """"missing", "same" (byte for byte the release), "released" (an unedited earlier release: safe to replace)
    or "edited" (the learner changed, ran or broke it: keep it). A lesson that is not a regular file (a named
    pipe, a folder) raises a NotebookError naming it: it is not opened."""
    path = Path(path)
    try:
        kind = not_a_file(path.stat().st_mode)
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "edited"  # unreadable: it is not ours to throw away
    if kind:  # a named pipe would block the read, a folder cannot be replaced by a file: never opened, never replaced
        raise NotebookError(f"{path} is {kind}, not a lesson file: release will not open or replace it (remove it, "
                            "then release again)")
    try:
        text = read_regular_file(path, "a lesson").decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return "edited"  # unreadable: it is not ours to throw away
    if text == release_text:
        return "same"
    try:
        nb = json.loads(text)
        recorded = nb.get("metadata", {}).get(RELEASE_KEY, {}).get("cells_sha256")
        import nbformat
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except Exception:  # noqa: BLE001  (not JSON, not a notebook, metadata of the wrong shape: edited by hand)
        return "edited"
    if recorded is None:  # released before releases were stamped: unedited only if it equals today's release
        import nbformat
        recorded = cells_hash(nbformat.reads(release_text, as_version=4))
    return "released" if cells_hash(nb) == recorded else "edited"


def backup_path(target, now=None):
    """Where an edited lesson is kept: lessons/.backup/NAME-YYYYmmdd-HHMMSS.ipynb (never an existing file)."""
    stamp_text = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    folder = target.parent / BACKUP_FOLDER
    candidate, n = folder / f"{target.stem}-{stamp_text}{target.suffix}", 1
    while candidate.exists():
        candidate, n = folder / f"{target.stem}-{stamp_text}-{n}{target.suffix}", n + 1
    return candidate


def _write(path, data):
    """Write ``data`` (text or bytes) to ``path`` atomically: a crash leaves the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _cannot_write(path, error):
    reason = error.strerror or type(error).__name__
    hint = " (is the folder read-only?)" if isinstance(error, PermissionError) else ""
    return NotebookError(f"cannot write {path}: {reason}{hint}")


def release(solutions="solutions", lessons="lessons", check_only=False, force=False):
    """Release every solution notebook into ``lessons``. Returns [(path, what happened)], where what happened is
    "written", "unchanged", "differs" or "edited" (with check_only), "stale" (a lesson with no solution), or
    "backup" (path is the copy of an edited lesson, kept in lessons/.backup/ before it was replaced).

    Lessons the learner edited are never overwritten silently: without ``force`` the release raises LessonsEdited
    and writes nothing; with ``force`` each is copied to lessons/.backup/ first.
    """
    solutions, lessons = Path(solutions), Path(lessons)
    if not solutions.is_dir():
        raise NotebookError(f"no solutions folder: {solutions}")
    sources = sorted(solutions.glob("*.ipynb"))
    if not sources:
        raise NotebookError(f"{solutions} has no notebooks (.ipynb) to release")
    if lessons.exists() and not lessons.is_dir():
        raise NotebookError(f"{lessons} is a file, not a folder: cannot release lessons into it")
    plan = []  # everything is checked before anything is written
    for source in sources:
        nb = read_notebook(source)
        require_course_notebook(nb, source)
        text = notebook_text(stamp(release_notebook(nb, source)))
        target = lessons / source.name
        plan.append((target, text, lesson_state(target, text)))
    report = []
    if check_only:
        report = [(t, {"same": "unchanged", "edited": "edited"}.get(state, "differs")) for t, _, state in plan]
    else:
        edited = [t for t, _, state in plan if state == "edited"]
        if edited and not force:
            names, one = ", ".join(str(t) for t in edited), len(edited) == 1
            raise LessonsEdited(f"{names} {'was' if one else 'were'} changed since the last release (your work?), "
                                "so nothing was written. Run `tinygrad-lite release --force` to keep a copy in "
                                f"{lessons / BACKUP_FOLDER} and replace {'it' if one else 'them'}")
        for target, text, state in plan:
            if state == "same":
                report.append((target, "unchanged"))
                continue
            try:
                lessons.mkdir(parents=True, exist_ok=True)
                if state == "edited":
                    kept = backup_path(target)
                    kept.parent.mkdir(exist_ok=True)
                    _write(kept, read_regular_file(target, "a lesson"))
                    report.append((kept, "backup"))
                _write(target, text)
            except OSError as e:
                raise _cannot_write(getattr(e, "filename", None) or target, e) from None
            report.append((target, "written"))
    names = {s.name for s in sources}
    if lessons.is_dir():
        report += [(p, "stale") for p in sorted(lessons.glob("*.ipynb")) if p.name not in names]
    return report
