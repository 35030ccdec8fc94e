"""The lesson notebooks that come with the course, and writing them into a folder of the learner's.

From a clone of the course's repository the lessons are its ``lessons/`` folder. Installed from a wheel, as on a
hosted notebook (Colab, Kaggle, a JupyterHub), there is no such folder: the wheel carries the notebooks as data
files, installed under the environment's ``share/tinygrad_lite/lessons/`` (pyproject.toml,
``[tool.setuptools.data-files]``). ``lessons_folder`` finds them either way; ``copy_lessons`` (the command
``tinygrad-lite lessons [DEST]``) writes them into a folder where the learner opens and edits them.

A notebook that is already in that folder is never overwritten: it may hold the learner's answers. To take a new
version of the course and keep them, ``tinygrad-lite update --from`` merges the new notebooks into the learner's.
"""
import json
import os
import site
import sys
import sysconfig
from pathlib import Path

DATA_PREFIX = ("share", "tinygrad_lite")  # where the wheel installs its data files, below an install prefix
PATTERN = "[0-9][0-9]_*.ipynb"  # a lesson's file name: its two-digit number, then its name


def _has_lessons(folder):
    return folder.is_dir() and any(folder.glob(PATTERN))


def shipped_folder(name, holds):
    """The course's folder ``name`` (lessons, benchmarks): the clone's (an editable install), else the one the
    installed wheel put under ``share/tinygrad_lite/``; the first for which ``holds(folder)`` is true, or None."""
    clone = Path(__file__).resolve().parents[2] / name
    if holds(clone):
        return clone
    wanted = (*DATA_PREFIX, name)
    try:  # the files the installed distribution recorded: right for --user and --prefix installs too
        from importlib.metadata import PackageNotFoundError, distribution
        for record in distribution("tinygrad_lite").files or ():
            if tuple(Path(str(record)).parts[-4:-1]) == wanted:
                folder = Path(record.locate()).resolve().parent
                if holds(folder):
                    return folder
    except PackageNotFoundError:
        pass
    for prefix in (sys.prefix, sysconfig.get_path("data"), site.getuserbase()):
        folder = Path(prefix, *wanted)
        if holds(folder):
            return folder
    return None


def lessons_folder():
    """The folder that holds the course's lesson notebooks: the clone's ``lessons/`` (an editable install), else
    the installed wheel's data files. Raises FileNotFoundError, saying how to get them, when neither exists."""
    folder = shipped_folder("lessons", _has_lessons)
    if folder is None:
        raise FileNotFoundError("the lesson notebooks are not installed with this copy of tinygrad_lite: install "
                                "the course's wheel (pip install \"tinygrad_lite[hosted]\" from the course's "
                                "repository or a built wheel), or use a clone of the repository, whose lessons/ "
                                "holds them")
    return folder


def stored_gpu_results():
    """The GPU measurement stored with the course (``benchmarks/gpu_results.json``: lesson 08's size sweep, made
    with ``benchmarks/gpu_sweep.py`` on a GPU, with the machine, the GPU and the date it came from), as a dict; from a
    clone or from the installed wheel, which carries it. None if this copy of the course has none."""
    folder = shipped_folder("benchmarks", lambda f: (f / "gpu_results.json").is_file())
    return None if folder is None else json.loads((folder / "gpu_results.json").read_text())


def shipped_lessons():
    """The course's lesson notebooks, in order: [Path, ...]."""
    return sorted(lessons_folder().glob(PATTERN))


class UnsafeDestination(Exception):
    """A lesson cannot be written into DEST safely (a folder or a link where its notebook should be)."""


def copy_lessons(dest="lessons"):
    """Write the course's lesson notebooks into the folder ``dest`` (made if needed). A notebook already there is
    kept as it is (it may hold the learner's answers). Returns [(path, "written" or "kept"), ...], in order.

    Nothing is ever written outside ``dest``: where a lesson's name is taken by a symbolic link that points nowhere
    (writing would create its target, wherever that is), by a folder or by anything but a file, UnsafeDestination
    says which and nothing is written; each notebook is created new (``O_EXCL``), never through a link."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    sources = shipped_lessons()
    for source in sources:
        target = dest / source.name
        if target.is_symlink() and not target.exists():
            raise UnsafeDestination(f"{target} is a symbolic link to {os.readlink(target)}, which does not exist: "
                                    "writing the lesson would create that file outside the folder. Remove the link "
                                    "or choose another folder; nothing was written")
        if target.exists() and not target.is_file():
            raise UnsafeDestination(f"{target} is a folder (or another thing that is not a file) where the lesson "
                                    "notebook should be: rename it or choose another folder; nothing was written")
    done = []
    for source in sources:
        target = dest / source.name
        if target.exists() or target.is_symlink():
            done.append((target, "kept"))
            continue
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(descriptor, "wb") as f:
            f.write(source.read_bytes())
        done.append((target, "written"))
    return done
