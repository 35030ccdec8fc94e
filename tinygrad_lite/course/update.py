"""Take a new version of the course without losing one's answers.

A learner's lesson is a released notebook (``tinygrad-lite release``) in which the learner replaced the stubs of
the exercise cells with their own code. When the course changes (a text rewritten, an example added, an exercise
renamed), the learner wants the new lessons *and* their answers. ``git pull`` cannot give both: it refuses to
overwrite a notebook the learner saved, and a line-based merge of two notebooks' JSON would produce a file that
Jupyter cannot open. A notebook is not text to merge line by line; it is a list of cells, and the course marks
the only cells that belong to the learner: the exercise cells, whose metadata names their exercise
(``{"tinygrad_lite": {"exercise": "01.relu", ...}}``, see ``notebooks.py``). So the merge works cell by cell:

1. the **new release** of the lesson is the base: its text, examples and check cells, as the instructor wrote
   them (outputs cleared: a fresh notebook to run);
2. each exercise cell of the new release gets the learner's code of the exercise with the **same id**, when the
   learner changed it. A cell counts as changed when its source differs from the stub of the new release and,
   when the stub the learner started from is known (the old release), from that stub too: an untouched old stub
   is not work, and the new stub (perhaps with a better task text) replaces it;
3. an exercise the learner answered that the new release **no longer has** (renamed or removed) is never
   dropped: its code goes at the end of the notebook, in a code cell after a markdown cell that names the
   exercise id and says that the new version has no such exercise, so that the learner can move it by hand
   (cells kept aside by an earlier update stay at the end, until the learner deletes them);
4. an exercise **new** in this release appears as its stub, where the release puts it.

``merge`` is that pure function (notebooks in, a notebook and a ``MergeReport`` out). The rest of the module
applies it to a folder of lessons, in one of two ways (``tinygrad-lite update``):

- ``update_git``, in a git clone of the course: each lesson that differs from git's committed version is copied
  to ``lessons/.backup/NAME-YYYYmmdd-HHMMSS.ipynb`` first, then restored to the committed version; ``git fetch``
  brings the new version, which comes in by a fast-forward when the learner has no commits of their own, and by a
  ``git merge`` when they committed (their answers, say): each lesson notebook that both sides changed is merged
  by exercise there too, by ``merge_driver.py``, which git runs for that merge only, so no ``<<<<<<<`` marker ever
  lands in a notebook. The saved notebook is then merged into the new version of its lesson. If git cannot take
  the new version (a file of the learner's own that the course changed too), the learner's files are put back
  byte for byte and nothing else has changed;
- ``update_from``, without git: each lesson is merged with the notebook of the same name in a folder of new
  lessons (a downloaded release), after the same backup.

Whatever happens, the learner's notebook is written to the backup folder before anything is changed.
"""
import contextlib
import dataclasses
import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

from .notebooks import KEY, NotebookError, meta, read_notebook, read_regular_file, require_course_notebook
from .release import RELEASE_KEY, _write, backup_path, cells_hash

KEPT_KEY = "kept_from"  # metadata of a cell that holds the code of an exercise the new release no longer has
DRIVER = "tinygrad-lite"  # the name of merge_driver.py in git's configuration and attributes, for one merge


class UpdateError(NotebookError):
    """The update cannot be done, or failed; ``status`` is the command's exit status (2 usage, 1 failure)."""

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class MergeReport:
    """What ``merge`` did, by exercise id.

    kept: exercises whose answer (the learner's code) was put into the new release;
    conflicts: exercises the learner changed that the new release does not have, kept aside at the end;
    new: exercises of the new release that the learner's notebook does not have (they appear as stubs).
    """

    kept: list = dataclasses.field(default_factory=list)
    conflicts: list = dataclasses.field(default_factory=list)
    new: list = dataclasses.field(default_factory=list)


# -------------------------------------------------------------------- the merge (pure)
def exercise_cells(nb):
    """{exercise id: its cell} of notebook ``nb`` (the first cell of an id, should an edit have doubled it)."""
    cells = {}
    for cell in nb.get("cells", []):
        exercise = meta(cell).get("exercise")
        if cell.get("cell_type") == "code" and isinstance(exercise, str) and exercise not in cells:
            cells[exercise] = cell
    return cells


def _cell_id(text, taken):
    """A cell id (nbformat: letters, digits, - and _, at most 64) made from ``text``, not in ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:56] or "kept"
    candidate, n = base, 1
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def kept_aside_cells(exercise_id, source, taken_ids):
    """The two cells that keep the code of exercise ``exercise_id``, which the new release no longer has: a markdown
    cell that says what happened and what to do, then the learner's code, unchanged."""
    import nbformat
    note = nbformat.v4.new_markdown_cell(
        f"### Your code for exercise {exercise_id} (kept by `tinygrad-lite update`)\n\n"
        f"**The new version of this lesson has no exercise `{exercise_id}`**: it was renamed or removed. Your code "
        "for it is kept in the cell below, exactly as you wrote it. Move it by hand into the exercise that replaces "
        "it (if there is one), then delete these two cells.",
        metadata={KEY: {KEPT_KEY: exercise_id}})
    code = nbformat.v4.new_code_cell(source, metadata={KEY: {KEPT_KEY: exercise_id}})
    note.id = _cell_id(f"kept-note-{exercise_id}", taken_ids)
    code.id = _cell_id(f"kept-code-{exercise_id}", taken_ids)
    return [note, code]


def merge(learner, new, old=None):
    """Merge the learner's notebook into ``new``, the new release of the same lesson. Returns (notebook, report).

    ``old`` is the release the learner started from, when it is known (the committed version, in a git clone): an
    exercise cell equal to its old stub was not touched and takes the new stub. Without ``old``, a cell is the
    learner's answer whenever it differs from the new stub. None of the arguments is modified; the result is a new
    notebook (``new``'s metadata, text and check cells; no outputs).
    """
    import nbformat
    merged = nbformat.from_dict(json.loads(json.dumps(new)))
    report = MergeReport()
    theirs = exercise_cells(learner)
    old_stubs = {i: c.get("source", "") for i, c in exercise_cells(old).items()} if old is not None else {}

    def changed(exercise_id):
        source = theirs[exercise_id].get("source", "")
        return source != old_stubs.get(exercise_id, source + "\0")  # no old stub known: it counts as changed

    ours = exercise_cells(merged)
    for exercise_id, cell in ours.items():
        if exercise_id not in theirs:
            report.new.append(exercise_id)
        elif theirs[exercise_id].get("source", "") != cell.source and changed(exercise_id):
            cell.source = theirs[exercise_id].get("source", "")
            report.kept.append(exercise_id)
    taken = {c.get("id") for c in merged.cells if c.get("id")}
    for exercise_id, cell in theirs.items():
        if exercise_id not in ours and changed(exercise_id):
            merged.cells += kept_aside_cells(exercise_id, cell.get("source", ""), taken)
            report.conflicts.append(exercise_id)
    for cell in learner.get("cells", []):  # what an earlier update kept aside, and the learner has not moved yet
        if KEPT_KEY in meta(cell):
            kept = nbformat.from_dict(json.loads(json.dumps(cell)))
            kept.id = _cell_id(str(cell.get("id") or f"kept-{meta(cell)[KEPT_KEY]}"), taken)
            merged.cells.append(kept)
            if cell.get("cell_type") == "code" and meta(cell)[KEPT_KEY] not in report.conflicts:
                report.conflicts.append(str(meta(cell)[KEPT_KEY]))
    for cell in merged.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return merged, report


def notebook_text(nb):
    """The text a merged notebook is written as (the layout of released lessons)."""
    from .release import notebook_text as text
    return text(nb)


def has_the_new_version(learner, new):
    """Whether the learner's notebook already is ``new`` but for its answers and outputs: merging would change no
    cell (an update run twice, or a lesson copied in by this version and answered)."""
    def cells(nb):
        return [(c.get("cell_type"), "".join(c.get("source", ""))) for c in nb.get("cells", [])]
    return cells(merge(learner, new)[0]) == cells(learner)


# -------------------------------------------------------------------- helpers of both ways
@dataclasses.dataclass
class LessonResult:
    """What happened to one lesson: ``what`` is "merged", "updated" (not edited: replaced), "unchanged" (the
    release did not change it), "new" (a lesson copied in), or "only yours" (no longer in the course: left as it
    is), or "failed" (the new version could not be read: ``error``). ``backup`` is where the learner's notebook
    was saved, ``report`` the merge's report."""

    path: Path
    what: str
    report: MergeReport = None
    backup: Path = None
    error: str = None


def _read_lesson(path):
    """Read a course notebook, or raise an UpdateError (exit status 2) naming it and the fix."""
    try:
        nb = read_notebook(path)
        require_course_notebook(nb, path)
    except UpdateError:
        raise
    except NotebookError as e:
        raise UpdateError(f"{e}: nothing was changed. Repair it or move it out of the folder, then update again") \
            from None
    return nb


def _parse(data):
    """A notebook from bytes already read (for the old release, taken from git)."""
    import nbformat
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception:  # noqa: BLE001  (the old version cannot be read: merge without it)
        return None


def _save_backup(path, data):
    """Copy the learner's notebook (its bytes ``data``) to lessons/.backup/ and check the copy; returns its path."""
    kept = backup_path(path)
    try:
        kept.parent.mkdir(exist_ok=True)
        _write(kept, data)
        if kept.read_bytes() != data:
            raise OSError(0, "the copy differs from the original")
    except OSError as e:
        raise UpdateError(f"cannot save {path} to {kept} ({e.strerror or e}): nothing was changed. Is the folder "
                          "read-only, or the disk full?", status=1) from None
    return kept


def _is_unedited(nb):
    """Whether a released lesson is exactly as released (its cells match the hash the release recorded)."""
    recorded = nb.get("metadata", {}).get(RELEASE_KEY, {})
    return isinstance(recorded, dict) and recorded.get("cells_sha256") == cells_hash(nb)


def _merge_into(path, learner, new, old):
    """Merge and write ``path`` (the backup is already written)."""
    merged, report = merge(learner, new, old)
    _write(path, notebook_text(merged))
    return report


# -------------------------------------------------------------------- without git: a folder of new lessons
def update_from(new_lessons, lessons="lessons"):
    """Merge each notebook of ``lessons`` with the notebook of the same file name in ``new_lessons``. Returns
    [LessonResult]. Every notebook is read (and refused, with nothing changed, if it cannot be used) before the
    first is written; each edited lesson is saved to lessons/.backup/ before it is replaced."""
    new_lessons, lessons = Path(new_lessons), Path(lessons)
    if not new_lessons.is_dir():
        raise UpdateError(f"{new_lessons} is not a folder: give --from the folder of the new lessons (*.ipynb)")
    if lessons.exists() and not lessons.is_dir():
        raise UpdateError(f"{lessons} is a file, not a folder: give the folder of your lessons")
    if lessons.exists() and lessons.resolve() == new_lessons.resolve():
        raise UpdateError(f"--from {new_lessons} is your lessons folder itself: give the folder of the new lessons")
    sources = sorted(new_lessons.glob("*.ipynb"))
    if not sources:
        raise UpdateError(f"{new_lessons} has no notebooks (.ipynb): give --from the folder of the new lessons")
    plan = []
    for source in sources:
        new = _read_lesson(source)
        target = lessons / source.name
        if not target.exists() and not target.is_symlink():
            plan.append((target, source, new, None, None))
            continue
        learner = _read_lesson(target)
        plan.append((target, source, new, learner, read_regular_file(target)))
    results = []
    lessons.mkdir(parents=True, exist_ok=True)
    for target, source, new, learner, data in plan:
        new_data = read_regular_file(source)
        if learner is None:
            _write(target, new_data)
            results.append(LessonResult(target, "new"))
        elif data == new_data or has_the_new_version(learner, new):  # (its outputs and answers stay as they are)
            results.append(LessonResult(target, "unchanged"))
        elif _is_unedited(learner):  # a release the learner never changed: nothing of theirs to keep
            _write(target, new_data)
            results.append(LessonResult(target, "updated"))
        else:
            kept = _save_backup(target, data)
            results.append(LessonResult(target, "merged", _merge_into(target, learner, new, None), kept))
    names = {s.name for s in sources}
    results += [LessonResult(p, "only yours") for p in sorted(lessons.glob("*.ipynb")) if p.name not in names]
    return results


# -------------------------------------------------------------------- in a git clone of the course
def _git_file(root, rev, path):
    """The bytes of file ``path`` at revision ``rev`` (``git show``), or None where it has no such file."""
    done = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True)
    return done.stdout if done.returncode == 0 else None


def _git(root, *args, check=True, together=False):
    """Run git in ``root``; returns the CompletedProcess (text; ``together``: stderr in stdout, in order). A
    failure raises UpdateError if ``check``."""
    try:
        done = subprocess.run(["git", *args], cwd=root, stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.STDOUT if together else subprocess.PIPE,
                              env={**os.environ, "LC_ALL": "C"})
    except FileNotFoundError:
        raise UpdateError("git is not installed: install it, or update with `tinygrad-lite update --from "
                          "NEW_LESSONS_DIR`") from None
    if check and done.returncode:
        first = ((done.stderr or done.stdout).strip().splitlines() or [f"exit status {done.returncode}"])[0]
        raise UpdateError(f"git {args[0]} failed: {first}", status=1)
    return done


def git_root(folder):
    """The top folder of the git checkout that holds ``folder``, or None when it is not in one."""
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=folder, capture_output=True, text=True)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def _changed_paths(root, *pathspec):
    """Paths (relative to ``root``) that differ from the committed version (staged or not)."""
    out = _git(root, "diff", "--name-only", "-z", "HEAD", "--", *pathspec).stdout
    return [p for p in out.split("\0") if p]


def update_git(lessons=None, cwd=".", show=print):
    """Update a git clone of the course and keep the learner's answers (see the module's docstring). ``lessons``
    defaults to the checkout's ``lessons/`` (a relative ``lessons`` is taken from ``cwd``). ``show`` prints git's
    own output. Returns [LessonResult]."""
    cwd = Path(cwd)
    lessons = None if lessons is None else cwd / lessons
    if shutil.which("git") is None:
        raise UpdateError("git is not installed, and updating a clone of the course needs it: install git, or "
                          "give the new lessons: `tinygrad-lite update --from NEW_LESSONS_DIR`")
    root = git_root(cwd if lessons is None or not Path(lessons).is_dir() else lessons)
    if root is None:
        raise UpdateError(f"{Path(lessons or cwd).resolve()} is not in a git checkout of the course: run it in your "
                          "clone, or give the new lessons: `tinygrad-lite update --from NEW_LESSONS_DIR` (after "
                          "installing a new version, `tinygrad-lite lessons` prints that folder)")
    folder = (root / "lessons") if lessons is None else Path(lessons).resolve()
    if not folder.is_dir():
        raise UpdateError(f"{folder} is not a folder: give the folder of your lessons (default: lessons/ of the "
                          "checkout)")
    try:
        rel = folder.resolve().relative_to(root.resolve())
    except ValueError:
        raise UpdateError(f"{folder} is not inside the checkout {root}: give a lessons folder of the checkout") \
            from None
    if _git(root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}", check=False).returncode:
        raise UpdateError(f"the checkout {root} has no upstream branch to pull from (a detached HEAD, or a branch "
                          "of your own): `git switch main` (or `git branch -u origin/main`), then update again",
                          status=1)
    fetch = _git(root, "fetch", check=False, together=True)
    if fetch.stdout.strip():
        show(fetch.stdout.rstrip())
    if fetch.returncode:
        raise UpdateError("git fetch failed (git's message above): nothing was changed. Is there a network? Then "
                          "run `tinygrad-lite update` again", status=1)
    edited = [p for p in _changed_paths(root, str(rel)) if p.endswith(".ipynb") and (root / p).is_file()
              and Path(p).parent == rel]
    saved = {}  # path -> (its bytes, the learner's notebook)
    for p in edited:  # everything is read before anything is changed
        saved[p] = (read_regular_file(root / p), _read_lesson(root / p))
    before = _git(root, "rev-parse", "HEAD").stdout.strip()
    backups = {p: _save_backup(root / p, data) for p, (data, _) in saved.items()}

    def put_back():
        """The learner's files as they were, byte for byte (then their copies are not needed)."""
        for p, (data, _) in saved.items():
            _write(root / p, data)
        for p, (data, _) in saved.items():
            if (root / p).read_bytes() == data:
                with contextlib.suppress(OSError):
                    backups[p].unlink()
    upstream = _git(root, "rev-parse", "@{u}").stdout.strip()
    ahead = _git(root, "merge-base", "--is-ancestor", upstream, "HEAD", check=False).returncode == 0
    behind = _git(root, "merge-base", "--is-ancestor", "HEAD", upstream, check=False).returncode == 0
    conflicted = []
    try:
        if edited:
            _git(root, "checkout", "HEAD", "--", *edited)
        if ahead:  # nothing new upstream (the learner's own commits, if any, are ahead of it)
            pull = None
        elif behind:  # the learner committed nothing of their own: the course's commits go on top
            pull = _git(root, "merge", "--ff-only", upstream, check=False, together=True)
        else:  # the learner committed (answers, notes): merge, each lesson notebook by exercise (merge_driver.py)
            pull = _merge_commits(root, rel, upstream)
            if pull.returncode:
                conflicted = _git(root, "diff", "--name-only", "--diff-filter=U", check=False).stdout.split()
                _git(root, "merge", "--abort", check=False)
    except BaseException:  # git missing meanwhile, Ctrl-C ...: nothing may be lost
        if _git(root, "rev-parse", "HEAD", check=False).stdout.strip() == before:
            put_back()
        raise
    output = pull.stdout.rstrip() if pull is not None else ""
    if output:
        show(output)
    if pull is not None and pull.returncode:
        put_back()
        if conflicted:
            shown = ", ".join(conflicted[:3]) + (" ..." if len(conflicted) > 3 else "")
            raise UpdateError(f"your commits changed {shown}, which the new version changes too, and git cannot "
                              "merge the two: nothing was changed, your lessons are as they were. Keep a copy of "
                              f"your version of {'those files' if len(conflicted) > 1 else 'that file'}, take the "
                              f"course's (`git checkout {upstream[:12]} -- FILE`, then `git commit`), and run "
                              "`tinygrad-lite update` again", status=1)
        others = [p for p in _changed_paths(root) if rel not in Path(p).parents]
        if others:
            shown = ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")
            raise UpdateError(f"git could not take the new version: your uncommitted changes outside {rel}/ "
                              f"({shown}) block it; your lessons are back as they were. Commit them, or undo them "
                              "(`git checkout -- FILE`), then run `tinygrad-lite update` again", status=1)
        raise UpdateError("git could not take the new version (git's message above); your lessons are back as "
                          "they were. Fix what git names, then run `tinygrad-lite update` again", status=1)
    after = _git(root, "rev-parse", "HEAD").stdout.strip()
    results = [LessonResult(root, "pulled" if after != before else "up to date")]
    if not (ahead or behind):
        results += _merged_commits(root, rel, before, upstream, set(saved))
    for p, (data, learner) in saved.items():
        path = root / p
        new_exists = _git(root, "cat-file", "-e", f"{after}:{p}", check=False).returncode == 0
        old_bytes = _git_file(root, before, p)
        if not new_exists or (old_bytes is not None and path.is_file() and path.read_bytes() == old_bytes):
            _write(path, data)  # the update did not change this lesson (or removed it): the learner's file as it was
            if path.read_bytes() == data:
                with contextlib.suppress(OSError):
                    backups[p].unlink()
            results.append(LessonResult(path, "unchanged" if new_exists else "only yours"))
            continue
        old = _parse(old_bytes) if old_bytes is not None else None
        try:
            results.append(LessonResult(path, "merged", _merge_into(path, learner, _read_lesson(path), old),
                                        backups[p]))
        except (NotebookError, OSError) as e:  # the new version cannot be used: it stays, the learner's is kept
            results.append(LessonResult(path, "failed", backup=backups[p], error=str(e)))
    return results


def _merge_commits(root, rel, upstream):
    """``git merge`` of the course's new commits into the learner's, each lesson notebook merged by exercise by
    merge_driver.py, handed to git for this merge only (``-c``: nothing stays in the learner's configuration)."""
    import shlex
    import sys
    import tempfile
    driver = f"{shlex.quote(sys.executable)} -m tinygrad_lite.course.merge_driver %O %A %B"
    identity = [] if _git(root, "config", "user.email", check=False).stdout.strip() else [
        "-c", "user.name=tinygrad-lite update", "-c", "user.email=update@tinygrad-lite.invalid"]
    with tempfile.TemporaryDirectory() as folder:
        attributes = Path(folder) / "attributes"
        attributes.write_text(f"{rel.as_posix()}/*.ipynb merge={DRIVER}\n", encoding="utf-8")
        return _git(root, "-c", f"core.attributesFile={attributes}", "-c", f"merge.{DRIVER}.driver={driver}",
                    "-c", f"merge.{DRIVER}.name=lesson notebooks, merged by exercise", *identity, "merge",
                    "--no-edit", "-m", "tinygrad-lite update: the new version of the course, merged with mine",
                    upstream, check=False, together=True)


def _merged_commits(root, rel, before, upstream, uncommitted):
    """What the merge of the learner's commits did to each lesson both sides changed (the merge driver wrote it;
    the same pure ``merge`` says what it did), for the lines the command prints."""
    base = _git(root, "merge-base", before, upstream).stdout.strip()
    changed = set(_git(root, "diff", "--name-only", base, before, "--", str(rel)).stdout.split()) & \
        set(_git(root, "diff", "--name-only", base, upstream, "--", str(rel)).stdout.split())
    results = []
    for p in sorted(changed - uncommitted):
        if not p.endswith(".ipynb") or Path(p).parent != rel:
            continue
        versions = [_parse(_git_file(root, rev, p) or b"") for rev in (before, upstream, base)]
        if None not in versions[:2]:
            results.append(LessonResult(root / p, "merged", merge(*versions)[1]))
    return results


# -------------------------------------------------------------------- what the command prints
def _ids(ids):
    return ", ".join(ids)


def describe(result, base=None):
    """One line about one lesson (``base``: show paths relative to it when they are inside)."""
    def shown(path):
        with contextlib.suppress(ValueError, TypeError):
            return str(Path(path).resolve().relative_to(Path(base).resolve()))
        return str(path)
    name = shown(result.path)
    if result.what == "merged":
        r = result.report
        parts = [f"{len(r.kept)} answer{'s' * (len(r.kept) != 1)} kept"]
        if r.conflicts:
            parts.append(f"kept aside at the end, not in the new version: {_ids(r.conflicts)}")
        if r.new:
            parts.append(f"new: {_ids(r.new)}")
        saved = (f"; every other cell is the new version's (a note of yours too: your old notebook is saved in "
                 f"{shown(result.backup)})" if result.backup else "; your commit keeps the old notebook")
        return f"   merged  {name}: {'; '.join(parts)}{saved}"
    if result.what == "failed":
        return (f"   failed  {name}: {result.error.split(': nothing was changed')[0]}; your notebook is kept in "
                f"{shown(result.backup)} (copy your answers from it by hand)")
    return {"updated": f"  updated  {name} (you had not changed it)",
            "unchanged": f"unchanged  {name} (not changed by this update; your notebook is as it was)",
            "new": f"      new  {name}",
            "only yours": f"     kept  {name} (not in the new version of the course: left as it is)",
            "pulled": "   pulled  the new version of the course",
            "up to date": "           the course was already up to date"}[result.what]
