"""git's merge driver for lesson notebooks: ``python -m tinygrad_lite.course.merge_driver BASE OURS THEIRS``.

A learner who commits their answers and then takes a new version of the course makes git merge two versions of a
notebook: theirs (the new release) and ours (the learner's). A notebook is JSON, not text to merge line by line:
git's own merge would leave ``<<<<<<<`` markers inside it, and Jupyter could not open the file. This driver merges
it as ``update.merge`` does, by exercise: the new release from THEIRS, each answer from OURS, and BASE (the release
the learner started from) to tell an untouched stub from an answer. It writes the merged notebook into OURS, as git
asks of a merge driver, and exits 0; it exits 1 (git then counts a conflict) when a file is not a course notebook.

``tinygrad-lite update`` hands it to git for that one merge (``git -c merge.tinygrad-lite.driver=... merge``, with an
attributes file that names the lessons' notebooks), so nothing is configured for good in the learner's clone.
"""
import sys
from pathlib import Path

from .notebooks import NotebookError, read_notebook, read_regular_file, require_course_notebook
from .release import _write
from .update import _parse, merge, notebook_text


def merge_files(base, ours, theirs):
    """Merge the notebook files as git names them; the result goes into ``ours``."""
    learner, new = read_notebook(ours), read_notebook(theirs)
    for nb, path in ((learner, ours), (new, theirs)):
        require_course_notebook(nb, path)
    old = _parse(read_regular_file(base)) if Path(base).is_file() else None
    merged, _ = merge(learner, new, old)
    _write(Path(ours), notebook_text(merged))


def main(argv=None):
    base, ours, theirs = sys.argv[1:] if argv is None else argv
    try:
        merge_files(base, ours, theirs)
    except (NotebookError, OSError, ValueError) as e:
        print(f"tinygrad-lite merge driver: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
