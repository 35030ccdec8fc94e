"""Make the learner's lessons from the instructor's solutions (the single source).

For each ``solutions/NN_name.ipynb`` the release writes ``lessons/NN_name.ipynb`` where:

- the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub that says what to write and
  raises ``NotImplementedError`` (the check cell reports "not attempted" until the learner replaces it);
- exercise cells whose stub raises at the top level (not inside a function) get nbval's ``raises-exception`` tag;
- outputs and execution counts are cleared, and instructor-only cells are dropped.

The output is deterministic, so a test can prove that ``lessons/`` equals a fresh release of ``solutions/``.
"""
from pathlib import Path

from .notebooks import BEGIN, END, KEY, NotebookError, meta, read_notebook, require_course_notebook

RAISES = "raises-exception"


def stub_solution(source, exercise):
    """Replace each solution block in ``source`` by a stub; returns (new source, does a stub raise at top level)."""
    task = exercise.get("task", "write your code here, then run the check cell below")
    out, inside, top_level = [], False, False
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise NotebookError(f"exercise {exercise['exercise']}: line {number}: {BEGIN} inside another block")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            top_level = top_level or indent == ""
            out += [f"{indent}# YOUR CODE HERE: {task}",
                    f"{indent}raise NotImplementedError({exercise['exercise'] + ': ' + task!r})"]
        elif stripped.startswith(END):
            if not inside:
                raise NotebookError(f"exercise {exercise['exercise']}: line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise NotebookError(f"exercise {exercise['exercise']}: {BEGIN} is never closed by {END}")
    if len(out) == len(source.splitlines()):
        raise NotebookError(f"exercise {exercise['exercise']}: the cell has no {BEGIN} ... {END} block")
    return "\n".join(out), top_level


def release_notebook(nb):
    """The learner's copy of solution notebook ``nb`` (a new notebook; ``nb`` is not modified)."""
    import nbformat
    lesson = nbformat.v4.new_notebook()
    lesson.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", KEY)}
    lesson.metadata["language_info"] = {"name": "python"}
    seen = set()
    for cell in nb.cells:
        info = meta(cell)
        if info.get("instructor"):
            continue
        new = nbformat.from_dict({"cell_type": cell.cell_type, "id": cell.get("id"), "source": cell.source,
                                  "metadata": {k: v for k, v in cell.metadata.items() if k in ("tags", KEY)}})
        if new.id is None:
            del new["id"]
        if cell.cell_type == "code":
            new.outputs, new.execution_count = [], None
        if "exercise" in info:
            if info["exercise"] in seen:
                raise NotebookError(f"exercise id {info['exercise']} appears twice")
            seen.add(info["exercise"])
            new.source, raises = stub_solution(cell.source, info)
            tags = [t for t in new.metadata.get("tags", []) if t != RAISES] + ([RAISES] if raises else [])
            if tags:
                new.metadata["tags"] = tags
        lesson.cells.append(new)
    return lesson


def notebook_text(nb):
    """The exact text a notebook is written as (nbformat's layout plus a final newline)."""
    import nbformat
    return nbformat.writes(nb) + "\n"


def release(solutions="solutions", lessons="lessons", check_only=False):
    """Release every solution notebook into ``lessons``. Returns [(lesson path, what happened)], where what
    happened is "written", "unchanged", "differs" (with check_only) or "stale" (a lesson with no solution)."""
    solutions, lessons = Path(solutions), Path(lessons)
    if not solutions.is_dir():
        raise NotebookError(f"no solutions folder: {solutions}")
    sources = sorted(solutions.glob("*.ipynb"))
    if not sources:
        raise NotebookError(f"{solutions} has no notebooks (.ipynb) to release")
    report = []
    for source in sources:
        nb = read_notebook(source)
        require_course_notebook(nb, source)
        text = notebook_text(release_notebook(nb))
        target = lessons / source.name
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old == text:
            report.append((target, "unchanged"))
        elif check_only:
            report.append((target, "differs"))
        else:
            lessons.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            report.append((target, "written"))
    names = {s.name for s in sources}
    report += [(p, "stale") for p in sorted(lessons.glob("*.ipynb")) if p.name not in names]
    return report
