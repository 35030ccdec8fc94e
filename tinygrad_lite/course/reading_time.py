"""How long a lesson takes a learner, estimated from its solution notebook the same way for every lesson (issue 46),
and how long each exercise's statement is.

The estimate, in minutes, is a sum over what the learner reads and writes on the lesson's core path:

    words of markdown / 150  +  lines of code to read / 10  +  lines of figure code / 30
    +  2 per line of solution  +  5 per exercise

- markdown: its words, where a ``$...$`` or ``$$...$$`` formula counts as one word and text inside
  ``<details>`` blocks (read only when curious) counts as none;
- code to read: the non-blank lines of the code cells, except the exercise cells, the figure cells (metadata
  ``{"figure": true}``, read at a third of the speed) and the cells JupyterLab shows collapsed (metadata
  ``"jupyter": {"source_hidden": true}``), which a learner runs without reading;
- solution lines: the non-blank lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` that are not
  comments (what the learner writes);
- the core path leaves out the instructor's cells and every section whose heading ends in "(optional)", up to the
  next heading of the same or a higher level.

An exercise's statement is the markdown from its ``### Exercise NN.name`` heading to the next code cell.

``python -m tinygrad_lite.course.reading_time [SOLUTIONS_DIR]`` prints a row per lesson (with ``--sections``, and
a folder or one notebook, the minutes of each section: what moving one into the optional part saves, or what
taking one out of it costs); with ``--write`` it also writes each estimate, rounded up to 5 minutes, into the
lesson's instructor note ("This lesson takes about N minutes"), so that the figure is the estimate's and never
typed by hand. ``tests/test_reading_time.py`` holds the notes to it and the lessons to the issue's limits.
"""
import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

WORDS_PER_MINUTE, CODE_LINES_PER_MINUTE, FIGURE_LINES_PER_MINUTE = 150, 10, 30
MINUTES_PER_SOLUTION_LINE, MINUTES_PER_EXERCISE = 2, 5
CORE_LIMIT, CAPSTONE_LIMIT, STATEMENT_LIMIT = 90, 120, 200  # minutes, minutes (lesson 09), words
STATED = re.compile(r"[Tt]his lesson takes about (\d+) minutes")

_WORD = re.compile(r"[A-Za-z0-9_'.\-]+")
_DETAILS = re.compile(r"<details>.*?</details>", re.S | re.I)
_FORMULA = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.S)
_HEADING = re.compile(r"\s*(#{1,6})\s+(.*)")
_EXERCISE = re.compile(r"###\s*Exercise\s+(\d\d\.\w+)")


def count_words(markdown):
    """The words a learner reads in a markdown cell: none inside <details>, one per formula."""
    return len(_WORD.findall(_FORMULA.sub(" x ", _DETAILS.sub(" ", markdown))))


def solution_lines(source):
    """The lines a learner writes: non-blank, non-comment lines between BEGIN and END SOLUTION."""
    count, inside = 0, False
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            inside = "BEGIN" in line
            continue
        text = line.strip()
        count += inside and bool(text) and not text.startswith(("#", "'''", '"""'))
    return count


@dataclass
class LessonTime:
    """One lesson's estimate (``minutes``) and what it is made of."""
    name: str
    words: int = 0
    code_lines: int = 0
    figure_lines: int = 0
    solution_lines: int = 0
    exercises: list = field(default_factory=list)  # the core path's exercise ids, in order
    statements: dict = field(default_factory=dict)  # exercise id -> words of its statement
    stated: int = None  # the minutes the instructor note states, or None

    @property
    def minutes(self):
        return (self.words / WORDS_PER_MINUTE + self.code_lines / CODE_LINES_PER_MINUTE
                + self.figure_lines / FIGURE_LINES_PER_MINUTE + MINUTES_PER_SOLUTION_LINE * self.solution_lines
                + MINUTES_PER_EXERCISE * len(self.exercises))

    @property
    def limit(self):
        return CAPSTONE_LIMIT if self.name.startswith("09") else CORE_LIMIT

    @property
    def rounded(self):
        """The estimate as an instructor note states it: rounded up to 5 minutes."""
        return 5 * math.ceil(self.minutes / 5)


def estimate(notebook, name=""):
    """The LessonTime of a notebook (a dict as nbformat or json reads it)."""
    result, optional_level, statement = LessonTime(name), None, None
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        metadata = cell.get("metadata", {})
        ours = metadata.get("tinygrad_lite", {})
        if ours.get("instructor"):
            found = STATED.search(source)
            result.stated = result.stated or (int(found.group(1)) if found else None)
            continue
        if cell["cell_type"] == "markdown":
            heading = _HEADING.match(source)
            if heading:
                level, optional = len(heading.group(1)), "(optional)" in heading.group(2).lower()
                if optional_level is not None and level <= optional_level and not optional:
                    optional_level = None
                if optional_level is None and optional:
                    optional_level = level
            if optional_level is not None:
                continue
            exercise = _EXERCISE.search(source)
            if exercise:
                statement = exercise.group(1)
                result.exercises.append(statement)
                result.statements[statement] = 0
            words = count_words(source)
            result.words += words
            if statement:
                result.statements[statement] += words
        elif cell["cell_type"] == "code":
            statement = None
            if optional_level is not None:
                continue
            lines = sum(1 for line in source.splitlines() if line.strip())
            if "### BEGIN SOLUTION" in source:
                result.solution_lines += solution_lines(source)
            elif metadata.get("jupyter", {}).get("source_hidden"):
                continue
            elif ours.get("figure"):
                result.figure_lines += lines
            else:
                result.code_lines += lines
    return result


def lesson_times(solutions):
    """[LessonTime] of every solution notebook in the folder ``solutions``, in order."""
    return [estimate(json.loads(path.read_text(encoding="utf-8")), path.stem)
            for path in sorted(Path(solutions).glob("[0-9][0-9]*.ipynb"))]


def write_stated(path, minutes):
    """Write ``minutes`` into the instructor note of the notebook at ``path`` ("This lesson takes about N minutes");
    True when it changed. The notebook is rewritten with nbformat, as the course's tools write notebooks."""
    import nbformat
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("tinygrad_lite", {}).get("instructor") and STATED.search(cell.source):
            new = STATED.sub(f"This lesson takes about {minutes} minutes", cell.source, count=1)
            if new == cell.source:
                return False
            cell.source = new
            nbformat.write(notebook, str(path))
            return True
    raise ValueError(f"{path}: no instructor note says 'This lesson takes about N minutes'")


def section_times(notebook):
    """[(heading, minutes on the core path, minutes were it all on the core path)] of each ``## `` section of a
    notebook (the cells before the first one as "(before section 1)"): what moving a section into or out of the
    optional part changes. The instructor's cells count for none, as in ``estimate``."""
    sections = [("(before section 1)", [])]
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        heading = _HEADING.match(source) if cell["cell_type"] == "markdown" else None
        if heading and len(heading.group(1)) == 2:
            sections.append((heading.group(2).strip(), []))
        sections[-1][1].append(cell)

    def unmarked(cell):  # (the same cell with no "(optional)" in its headings)
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        return {**cell, "source": source.replace("(optional)", "").replace("(Optional)", "")}
    return [(title, estimate({"cells": cells}).minutes, estimate({"cells": [unmarked(c) for c in cells]}).minutes)
            for title, cells in sections if cells]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinygrad_lite.course.reading_time",
                                     description="The minutes each lesson takes a learner, estimated from its text, "
                                                 "code, figures and exercises (see this module's docstring).")
    parser.add_argument("folder", nargs="?", default="solutions", type=Path,
                        help="the solved lessons' folder (default: solutions), or one notebook with --sections")
    parser.add_argument("--sections", action="store_true",
                        help="the minutes of each section of each lesson, on the core path and were it all on it")
    parser.add_argument("--write", action="store_true",
                        help="write each estimate, rounded up to 5 minutes, into the lesson's instructor note")
    args = parser.parse_args(argv)
    folder, write = args.folder, args.write
    if args.sections:  # a lesson's sections: `... reading_time solutions/02_loss_functions.ipynb --sections`
        notebooks = [folder] if folder.is_file() else sorted(folder.glob("[0-9][0-9]*.ipynb"))
        for path in notebooks:
            print(f"{path.stem}: minutes on the core path, and were the section all on it")
            for title, core, whole in section_times(json.loads(path.read_text(encoding="utf-8"))):
                print(f"  {core:5.1f} {whole:6.1f}  {title[:80]}")
        return 0
    print(f"{'lesson':<40} {'words':>6} {'code':>5} {'fig':>4} {'sol':>4} {'ex':>3} {'core':>5} {'stated':>6}  "
          "longest statement")
    for lesson in lesson_times(folder):
        longest = max(lesson.statements.items(), key=lambda kv: kv[1], default=("-", 0))
        print(f"{lesson.name:<40} {lesson.words:6d} {lesson.code_lines:5d} {lesson.figure_lines:4d} "
              f"{lesson.solution_lines:4d} {len(lesson.exercises):3d} {lesson.minutes:5.0f} {lesson.stated!s:>6}  "
              f"{longest[0]} {longest[1]}")
        if write and lesson.stated != lesson.rounded:
            write_stated(folder / f"{lesson.name}.ipynb", lesson.rounded)
            print(f"  wrote 'about {lesson.rounded} minutes' into its instructor note")
    return 0


if __name__ == "__main__":
    sys.exit(main())
