"""Which notebooks to grade, whose they are, which lesson they belong to, and what of them is run.

Layout. ``tinygrad-lite grade SUBMISSION...``: each SUBMISSION is a notebook or a folder searched recursively for
``*.ipynb``: ``.ipynb_checkpoints`` (JupyterLab's autosaves) is skipped silently, a hidden folder (a name starting
with ".") below a folder given is skipped with one line that names it, and a notebook found twice is graded once,
with one line. Whose a notebook is, the first rule that applies:

1. a notebook of an LMS's export (``roster.py``: Canvas's file names, Moodle's and Gradescope's folders) is the
   learner the export names (``doejane_LATE_123456_7890123_01_forward_pass.ipynb`` -> ``doejane``);
2. a notebook named as a lesson's notebook (``01_forward_pass.ipynb``, also as a copy: ``01_forward_pass-Copy1``,
   ``01_forward_pass (1)``) is the learner whose folder holds it, also when that is a folder given on the command
   line: ``grade submissions/alice submissions/bob`` grades alice and bob;
3. a notebook in a folder below a folder given is the learner that folder names (``class/alice/whatever.ipynb`` ->
   ``alice``);
4. otherwise (a notebook directly in the folder given, or given by itself) the learner its file name names, a
   copy's mark and a lesson's name or number left out (``class/bob.ipynb``, ``class/bob-Copy1.ipynb`` and
   ``class/bob_L03.ipynb`` -> ``bob``).

With a roster (``--roster``), the learner is then looked up in it (``roster.identify``). Every learner keeps a row
of their own: learners with the same id in different places (``a/alice``, ``b/alice``; two Canvas users both
``smithj``) get ids that tell them apart (``a/alice``, ``b/alice``; ``smithj_123456``). One learner's several
notebooks of one lesson are graded once (``choose``): the first of them in the order gradable (readable,
its lesson known), not a copy (``-Copy1``, `` (1)``, ``Copy of``, `` copy``), latest in the LMS (Canvas's file id,
Gradescope's submission time), named exactly as the lesson's notebook, then by path; the others get one line at
the start, a note in the gradebook and a line in summary.md. With ``--lesson``, a learner's notebooks of other
lessons beside one of that lesson (a whole course folder) are left out, all of them named in one line.

The lesson is the notebook's metadata ``{"tinygrad_lite": {"lesson": ...}}``, else a lesson whose name or number
(``00_``, ``lesson00``, ``L00``) is in the file's own name (in an LMS export, the name the learner gave it), else
the lesson that holds every exercise its exercise cells name (their metadata kept, the notebook's lost). A
notebook that is not a regular file (a named pipe, a socket, a folder named x.ipynb) is never opened: it is graded
as unreadable, with one line.

What runs. Only the exercise cells come from the learner: matched by their exercise id in the cell metadata, or,
where an edit lost the metadata, by the marker the released lesson put in the cell (the ``def`` of the function
the check cell names, or the stub's ``NotImplementedError('NN.name: ...')``). Every other cell comes from the
instructor's solution notebook (edited setup or check cells change nothing); check cells, the cells that only
draw a figure (``{"figure": true}``: grading looks at no figure), the cells that compare with PyTorch or open
TensorBoard (``# needs PyTorch``, ``# needs TensorBoard``: a lesson runs without either, so no later cell needs
them, and importing PyTorch costs a kernel more than the rest of its cells) and what follows the last exercise
are left out (the grader judges, not the notebook).
"""
import hashlib
import json
import os
import re
import tokenize
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

from ..notebooks import NotebookError, exercise_marker, not_a_file, read_regular_file
from ..pytorch import MARKER as NEEDS_TORCH
from ..pytorch import TENSORBOARD_MARKER as NEEDS_TENSORBOARD
from ..pytorch import starts_with
from .roster import export_of

MAX_NOTEBOOK_BYTES = 50 * 2 ** 20
MAX_CELL_CHARS = 200_000


@dataclass
class Lesson:
    """An instructor's lesson: its solution notebook's cells, its exercises (in order) and their function names."""
    name: str
    path: Path
    cells: list
    exercises: list  # exercise ids, in notebook order
    functions: dict  # exercise id -> the name its check cell checks
    digest: str

    @property
    def number(self):
        match = re.match(r"(\d+)", self.name)
        return match.group(1) if match else None


@dataclass
class Submission:
    path: Path
    shown: str  # the path as given (relative to the folder given on the command line)
    learner: str
    lesson: str = None  # lesson name, or None when it cannot be told
    cells: list = None  # the learner's cells (dicts with cell_type, source, metadata), None when unreadable
    problem: str = None  # why it cannot be graded (unreadable, unknown lesson ...)
    status: str = None
    notes: list = field(default_factory=list)
    digest: str = ""
    # whose it is (roster.identify, choose): none of it is part of a stored grade
    export: object = None  # the roster.Export of the LMS export it comes from, or None
    owner: tuple = None  # the key that its learner's notebooks share
    person: object = None  # its roster.Learner, or None
    on_roster: bool = None  # False when a roster was given and it names no learner of it
    suggested: object = None  # then, the roster learner whose id or name is closest (roster.Roster.closest), if any
    members: list = field(default_factory=list)  # a Gradescope group's other submitters (roster.identify)
    later: list = field(default_factory=list)  # notes for its result that no stored grade may keep
    others: list = field(default_factory=list)  # its learner's other notebooks of its lesson, not graded (choose)

    @property
    def original(self):
        """The notebook's own file name: in an LMS export, the name the learner gave it."""
        return self.export.original if self.export else self.path.name


def _source(cell):
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _meta(node):
    metadata = node.get("metadata") if isinstance(node, dict) else None
    value = metadata.get("tinygrad_lite") if isinstance(metadata, dict) else None
    return value if isinstance(value, dict) else {}


def load_lessons(solutions):
    """{lesson name: Lesson} for every solution notebook in the folder ``solutions``. A solution that is not a
    regular file or not notebook JSON raises a NotebookError naming it (a named pipe is never opened)."""
    lessons = {}
    for path in sorted(Path(solutions).glob("*.ipynb")):
        try:
            data = read_regular_file(path, "a solution notebook")
            nb = json.loads(data.decode("utf-8"))
        except OSError as e:
            raise NotebookError(f"solution {path} cannot be read ({e.strerror or e})") from None
        except ValueError as e:  # UnicodeDecodeError too
            raise NotebookError(f"solution {path} is not notebook JSON ({str(e).splitlines()[0][:120]})") from None
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise NotebookError(f"solution {path} is not a notebook (it has no list of cells)")
        name = _meta(nb).get("lesson") or path.stem
        cells = [{"cell_type": c.get("cell_type"), "source": _source(c), "meta": _meta(c)}
                 for c in nb.get("cells", []) if isinstance(c, dict)]
        exercises, functions = [], {}
        for c in cells:
            if c["cell_type"] == "code" and isinstance(c["meta"].get("exercise"), str):
                exercises.append(c["meta"]["exercise"])
        for c in cells:
            checked = c["meta"].get("check")
            if c["cell_type"] == "code" and checked in exercises:
                match = re.search(r"check\(\s*['\"]" + re.escape(checked) + r"['\"]\s*,\s*([A-Za-z_]\w*)", c["source"])
                if match:
                    functions[checked] = match.group(1)
        for exercise in exercises:
            functions.setdefault(exercise, exercise.split(".", 1)[-1])
        lessons[name] = Lesson(name, path, cells, exercises, functions, hashlib.sha256(data).hexdigest())
    return lessons


def _hidden(parts):
    """The hidden folder (name starting with ".") among these path parts, or None; JupyterLab's autosaves
    (.ipynb_checkpoints) do not count: they are skipped without a word."""
    return next((n for n, part in enumerate(parts) if part.startswith(".") and part != ".ipynb_checkpoints"), None)


COPY = re.compile(r"(?i)(?:-copy\d*|\s*\(\d+\)|\s+-\s+copy(?:\s*\(\d+\))?|\s+copy(?:\s+\d+)?)$|^copy\s+of\s+")


def without_copy(stem):
    """A file name's stem without the mark of a copy: Jupyter's ``-Copy1``, a download's `` (1)``, Windows's
    `` - Copy``, macOS's `` copy 2``, Google Drive's ``Copy of ``."""
    return COPY.sub("", stem).strip() or stem


def is_copy(filename):
    return without_copy(Path(filename).stem) != Path(filename).stem


def lesson_notebook(filename, lessons):
    """Whether ``filename`` is a lesson's own notebook name (``01_forward_pass.ipynb``, a copy of it too)."""
    stem = without_copy(Path(filename).stem).lower()
    return any(stem in (name.lower(), Path(lesson.path).stem.lower()) for name, lesson in (lessons or {}).items())


def learner_of(path, relative, lessons=None):
    """The learner a notebook found at ``path`` (``relative`` to the folder given) belongs to, by the rules of the
    module's docstring (the roster comes later)."""
    export = export_of(path)
    if export:
        return export.learner
    if lessons and lesson_notebook(path.name, lessons):
        return path.parent.name or path.resolve().parent.name
    if len(relative.parts) > 1:
        return relative.parts[-2]
    return without_lesson(without_copy(path.stem), lessons)


def without_lesson(stem, lessons):
    """A file name's stem without the lesson it names (``lesson_from_name``), and the separator beside it, where
    that leaves a name: ``bob_L03`` and ``L03-bob`` -> ``bob``, ``bob_03_backward_pass`` -> ``bob``; a token glued
    to the name (``bob03``) stays, as does a stem that is only the lesson."""
    name = lesson_from_name(stem + ".ipynb", lessons or {})
    number = getattr((lessons or {}).get(name), "number", None)
    if not name:
        return stem
    tokens = [re.escape(name)] + ([rf"(?:lesson|l)?[_ -]?0*{int(number)}"] if number else [])
    left = re.sub(rf"(?i)(?:^|[_ -]+)(?:{'|'.join(tokens)})(?=$|[_ -])", "", stem).strip("_- ")
    return left or stem


def find_notebooks(arguments, exclude=(), notices=None, lessons=None):
    """[(path, shown, learner)] for the notebooks named or found under the folders named, in a stable order; the
    learner by ``learner_of`` (``lessons``: {name: Lesson}, to tell a lesson's own notebook name).

    Skipped: ``.ipynb_checkpoints`` (JupyterLab's autosaves) silently, and hidden folders (a name starting with
    ".") below a folder given, with one line per such folder that holds notebooks; a notebook found twice (named
    twice, or named and found in a folder named, compared by resolved path) is kept once, with one line.
    Those lines are appended to the list ``notices`` when one is given; so is one line per entry that is not a
    regular file (a named pipe, a socket, a folder named x.ipynb), which stays in the list (``read_submission``
    marks it unreadable without opening it).
    """
    found, excluded = [], [Path(e).resolve() for e in exclude]
    notices = [] if notices is None else notices
    hidden, seen = {}, {}
    for argument in arguments:
        root = Path(argument)
        if root.is_dir():
            paths = []
            for p in sorted(root.rglob("*.ipynb")):
                relative = p.relative_to(root).parts
                if ".ipynb_checkpoints" in p.parts or any(x == p.resolve() or x in p.resolve().parents
                                                          for x in excluded):
                    continue
                n = _hidden(relative[:-1])
                if n is not None:
                    hidden.setdefault(root / Path(*relative[:n + 1]), []).append(p.resolve())
                    continue
                paths.append(p)
            for p in paths:
                relative = p.relative_to(root)
                found.append((p, str(Path(root.name or str(root)) / relative), learner_of(p, relative, lessons)))
        else:
            found.append((root, str(root), learner_of(root, Path(root.name), lessons)))
    kept = []
    for path, shown, learner in found:
        key = path.resolve()
        if key in seen:
            again = "given twice" if seen[key] == shown else f"the same file as {seen[key]}"
            notices.append(f"{shown}: {again}: graded once")
            continue
        seen[key] = shown
        kept.append((path, shown, learner))
        try:
            kind = not_a_file(path.stat().st_mode)
        except OSError:
            kind = None  # read_submission says why it cannot be read
        if kind:
            notices.append(f"{shown} is {kind}, not a notebook file: not opened, graded as unreadable")
    for folder, paths in hidden.items():
        left = [p for p in paths if p not in seen]
        if left:
            notices.append(f"skipped {folder}{os.sep}: a hidden folder ({len(left)} notebook(s) in it not graded; "
                           "rename it without the leading '.' to grade them)")
    counts = {}
    for _, _, learner in kept:
        counts[learner] = counts.get(learner, 0) + 1
    return kept, counts


# Why one notebook of a learner's several of one lesson was graded: the first criterion of ``_preference`` that told
# it from the next one.
PREFERENCE = ("it could be graded", "it is not a copy",
              "it is the latest in the LMS's export", "its file name is the lesson's notebook's",
              "its path comes first in alphabetical order")


def _preference(sub, lessons):
    """The sort key of ``choose``: what comes first is graded (see PREFERENCE, in the same order)."""
    order = sub.export.order if sub.export else None
    gradable = sub.status not in ("unreadable", "unknown lesson")
    return (not gradable, is_copy(sub.original), (order is None, -(order or 0)),
            not (lessons and Path(sub.original).stem.lower() in {n.lower() for n in lessons}), str(sub.path))


def choose(subs, lessons, lesson=None):
    """(the submissions to grade, the lines to print): one per learner and lesson, each learner with an id of its
    own. Submissions of one ``owner`` (``roster.identify``; else the same learner id in the same folder) for the
    lesson they count for (``lesson``, the one asked for, else their own) are one learner's: the first by
    ``_preference`` is graded, the others are named in its ``others`` and ``later`` notes and in a line. With
    ``lesson``, a learner's notebooks of other lessons beside one of that lesson (a learner's whole course folder)
    are left out, named together in one line; a learner with only other lessons' gets one of them graded, as
    "wrong lesson". Owners with the same learner id get ids that tell them apart (``unique_learners``)."""
    for sub in subs:
        if sub.owner is None:
            sub.owner = ("folder", sub.learner, str(sub.path.parent.resolve()))
    learners = unique_learners([(s.owner, s.learner, s) for s in subs]
                               + [(m[0], m[1], s) for s in subs for m in s.members])
    for sub in subs:
        sub.learner = learners[sub.owner]
        sub.members = [(owner, learners[owner], *rest) for owner, _, *rest in sub.members]
    groups = {}
    for sub in subs:
        counts_for = lesson or sub.lesson
        groups.setdefault((sub.owner, counts_for) if counts_for else (id(sub),), []).append(sub)
    kept, lines, elsewhere = [], [], []
    for group in groups.values():
        if lesson and any(s.lesson == lesson for s in group):  # the others are of lessons not asked for
            elsewhere += [s for s in group if s.lesson and s.lesson != lesson]
            group = [s for s in group if not s.lesson or s.lesson == lesson]
        ranked = sorted(group, key=lambda s: _preference(s, lessons))
        first = ranked[0]
        kept.append(first)
        if len(ranked) == 1:
            continue
        mine, theirs = _preference(first, lessons), _preference(ranked[1], lessons)
        why = PREFERENCE[next(k for k in range(len(mine)) if mine[k] != theirs[k])]
        first.others = [s.shown for s in ranked[1:]]
        others = ", ".join(first.others)
        first.later.append(f"also handed in for this lesson, not graded: {others} ({first.shown} was graded: {why})")
        lines.append(f"{first.learner} ({lesson or first.lesson}): {len(ranked)} notebooks; graded {first.shown} "
                     f"({why}), not {others} (to grade another, leave only it and run again)")
    if elsewhere:
        named = ", ".join(s.shown for s in elsewhere[:3]) + (f" and {len(elsewhere) - 3} more" if len(elsewhere) > 3
                                                              else "")
        lines.append(f"not graded: {len(elsewhere)} notebook(s) of other lessons than {lesson} (--lesson), beside "
                     f"their learner's {lesson}: {named}")
    order = {id(s): k for k, s in enumerate(subs)}
    return sorted(kept, key=lambda s: order[id(s)]), lines


def unique_learners(entries):
    """{owner: learner id} for [(owner, proposed id, Submission)]: the proposed id, unless other owners propose it
    too; then each of them gets it qualified by what tells them apart: the LMS's id of the learner
    (``smithj_123456``), or the last folders of its path that tell it apart from the others' (``sec1/kim`` and
    ``sec2/kim`` for ``.../export/sec1/kim`` and ``.../export/sec2/kim``: the same however the folder was typed,
    and no more of the machine's path than that), and, were that the same too, a number. A roster's learner keeps
    their id."""
    proposed = {}
    for owner, learner, sub in entries:
        proposed.setdefault(owner, (learner, sub))
    claims = {}
    for owner, (learner, _) in proposed.items():
        claims.setdefault(learner, []).append(owner)
    ids = {}
    for learner, owners in claims.items():
        rostered = [owner for owner in owners if owner[0] == "roster"]  # a roster's id is the learner's own
        if len(owners) == 1 or rostered:
            ids[(rostered or owners)[0]] = learner
            owners = [owner for owner in owners if owner != (rostered or owners)[0]]
        folders = _telling_apart([proposed[owner][1].path.parent for owner in owners])
        qualified = {}
        for owner, folder in zip(owners, folders):
            if owner[0] == "lms":
                name = f"{learner}_{owner[2]}"
            elif folder.rsplit("/", 1)[-1] == learner:
                name = folder  # the learner's own folder, with the folders above it that tell it apart
            else:
                name = f"{folder}/{learner}"  # a notebook named after the learner, in a folder that tells it apart
            qualified.setdefault(name, []).append(owner)
        for name, same in qualified.items():
            for k, owner in enumerate(sorted(same, key=str)):
                ids[owner] = name if len(same) == 1 else f"{name}-{k + 1}"
    return ids


def _telling_apart(folders):
    """For each folder, the fewest last parts of its resolved path, joined by "/", that no other folder of the list
    ends with (the same folder twice gets the same answer)."""
    parts = [Path(folder).resolve().parts for folder in folders]
    distinct = len(set(parts))
    for k in range(1, max(map(len, parts), default=0) + 1):
        tails = ["/".join(p[-k:]) for p in parts]
        if len(set(tails)) == distinct:
            return tails
    return ["/".join(p[1:]) for p in parts]


def read_submission(path, shown, learner, lessons):
    """A Submission: the learner's cells and lesson, or the problem that stops it from being graded."""
    sub = Submission(Path(path), shown, learner)
    sub.export = export_of(sub.path)
    try:
        status = sub.path.stat()
        size, kind = status.st_size, not_a_file(status.st_mode)
        if kind:  # never opened: opening a named pipe waits for a writer, a device may never end
            data = b""
            sub.problem = f"it is {kind}, not a notebook file: it was not opened"
        elif size > MAX_NOTEBOOK_BYTES:
            data = b""
            sub.problem = (f"the file is {size // 2 ** 20} MB, more than a notebook can be "
                           f"({MAX_NOTEBOOK_BYTES // 2 ** 20} MB)")
        else:
            data = read_regular_file(sub.path)
    except NotebookError as e:  # it became something else than a file since the look above
        data = b""
        sub.problem = str(e)
    except OSError as e:
        data = b""
        sub.problem = f"the file cannot be read ({e.strerror or e})"
    sub.digest = hashlib.sha256(data).hexdigest()
    nb = None
    if sub.problem is None:
        if not data.strip():
            sub.problem = "the file is empty"
        else:
            try:
                nb = json.loads(data.decode("utf-8"))
            except UnicodeDecodeError:
                sub.problem = "the file is not text (UTF-8): not a notebook"
            except ValueError as e:
                sub.problem = f"the file is not valid notebook JSON ({str(e).splitlines()[0][:120]})"
            else:
                if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
                    sub.problem = "the file is JSON but not a notebook (it has no list of cells)"
                    nb = None
    from_meta = _meta(nb).get("lesson") if nb else None
    from_name = lesson_from_name(sub.original, lessons)
    if isinstance(from_meta, str) and from_meta in lessons:
        sub.lesson = from_meta
        if from_name and from_name != from_meta:
            sub.notes.append(f"the file name suggests lesson {from_name}, its metadata says {from_meta}: graded "
                             f"as {from_meta}")
    else:
        sub.lesson = from_name
    if sub.problem:
        sub.status = "unreadable"
        return sub
    sub.cells = [{"cell_type": c.get("cell_type"), "source": _source(c), "meta": _meta(c)}
                 for c in nb["cells"] if isinstance(c, dict)]
    if sub.lesson is None:  # the notebook's own metadata lost (copied cell by cell, say): its exercise cells tell
        ids = {c["meta"].get("exercise") for c in sub.cells} - {None}
        holders = [name for name, lesson in lessons.items() if ids and ids <= set(lesson.exercises)]
        if len(holders) == 1:
            sub.lesson = holders[0]
            sub.notes.append(f"the notebook names no lesson, its exercise cells are of {holders[0]}: graded as "
                             "that lesson")
    if sub.lesson is None:
        sub.status = "unknown lesson"
        sub.problem = ("the notebook says no lesson (no tinygrad_lite metadata) and its file name names none of "
                       f"{', '.join(sorted(lessons)) or 'the lessons'}")
    return sub


def lesson_from_name(filename, lessons):
    stem = Path(filename).stem.lower()
    for name in sorted(lessons, key=len, reverse=True):
        if name.lower() in stem:
            return name
    for name, lesson in sorted(lessons.items()):
        number = lesson.number
        if number and re.search(rf"(?:^|[^0-9])(?:lesson|l)?[_ -]?{number}(?:[^0-9]|$)", stem):
            return name
    for name, lesson in sorted(lessons.items()):  # "lesson1", "l1", "lesson_1": the number without its zero,
        number = lesson.number                    # only after "lesson" or "l" ("v1" or "_1" names no lesson)
        if number and re.search(rf"(?:^|[^a-z0-9])(?:lesson|l)[_ -]?0*{int(number)}(?:[^0-9]|$)", stem):
            return name
    return None


def learner_cells(sub, lesson):
    """{exercise id: (source, how it was found)} for the learner's exercise cells; an exercise not found is
    absent. By metadata first; by marker for a cell whose metadata was lost."""
    found = {}
    code = [c for c in sub.cells if c.get("cell_type") == "code"]
    for c in code:
        exercise = c["meta"].get("exercise")
        if exercise in lesson.exercises:
            found[exercise] = (c["source"], "metadata")  # the last one wins, as it would in the kernel
    for exercise in lesson.exercises:
        if exercise in found:
            continue
        marker = exercise_marker(exercise, lesson.functions[exercise])
        for c in code:
            if c["meta"].get("exercise") not in lesson.exercises and not c["meta"].get("check") \
                    and marker.search(c["source"]):  # (metadata lost, or naming no exercise of the lesson)
                found[exercise] = (c["source"], "marker")
    return found


# -------------------------------------------------------------------- reading the learner's code, before running it
# Code in an exercise cell that gets it no points: it reaches for the course's own answers.
FORBIDDEN = (
    (r"\btinygrad_lite\s*\.\s*course\b|\bfrom\s+tinygrad_lite\s+import\s+course\b",
     "it imports the course package, which holds the checks and the reference solutions"),
    (r"\bREGISTRY\b|\bget_exercise\b|\bFallback\b|\.reference\b|\ball_cases\b",
     "it uses the course's reference implementation"),
    (r"(?<![\w.])use\s*\(", "it calls use(), which hands out the library's reference implementation"),
    (r"\.ipynb\b|['\"/\\]\s*solutions\b|\bsolutions\s*['\"/\\]", "it opens notebooks or the solutions folder"),
)
# Code that may be innocent but that an instructor should look at: the points stand, the submission is flagged.
SUSPICIOUS = (
    (r"\bgc\s*\.|__closure__|__globals__|__code__|_getframe|\bf_back\b|\bf_globals\b|__builtins__|\bbuiltins\b",
     "introspection of the interpreter"),
    (r"\bimportlib\b|__import__|\bexec\s*\(|\beval\s*\(|\bcompile\s*\(", "code built or imported at run time"),
    (r"\bctypes\b|\bsubprocess\b|\bsocket\b|\burllib\b|\brequests\b|\bhttp\b|\bos\s*\.\s*(system|fork|_exit|kill|"
     r"exec\w*|spawn\w*|popen)\b|\bsys\s*\.\s*exit\b|\bsignal\b|\bthreading\b|\bmultiprocessing\b",
     "process, network or native-code access"),
    (r"\bopen\s*\(|\bPath\s*\(|\bos\s*\.\s*(remove|unlink|rmdir|removedirs|rename|replace|truncate|chmod|"
     r"listdir|scandir|walk)\b|\bshutil\b", "file access"),
    (r"(?m)^\s*(np|numpy|tl|tinygrad_lite|torch|math|sys|os|json|builtins|checks|F|nn)(\s*\.\s*\w+)+\s*=(?!=)",
     "it assigns to an attribute of a module (monkeypatching)"),
    (r"\bsetattr\s*\(\s*(np|numpy|tl|tinygrad_lite|torch|math|sys|os|json|builtins)\b",
     "it assigns to an attribute of a module (monkeypatching)"),
)


def _without_comments(source):
    """The code with its comments removed (a comment may name anything); the text itself when it does not parse."""
    try:
        tokens = [t for t in tokenize.generate_tokens(StringIO(source).readline) if t.type != tokenize.COMMENT]
        return tokenize.untokenize(tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source


def reference_names():
    """The names of the reference implementations the course itself defines (``row_normalize_reference`` ...;
    not the library's classes that stand in as references, such as ``EarlyStopping``, a name learners write)."""
    from .. import exercises  # noqa: F401  (importing it registers every lesson's exercises)
    from ..checks import REGISTRY
    return sorted({e.reference.__name__ for e in REGISTRY.values()
                   if str(getattr(e.reference, "__module__", "")).startswith("tinygrad_lite.course")
                   and getattr(e.reference, "__name__", "<lambda>") != "<lambda>"})


def scan(source):
    """(forbidden reasons, suspicious reasons) found in an exercise cell's code."""
    code = _without_comments(source)
    forbidden = [why for pattern, why in FORBIDDEN if re.search(pattern, code)]
    names = reference_names()
    if names and re.search(r"\b(" + "|".join(map(re.escape, names)) + r")\b", code):
        forbidden.append("it uses the course's reference implementation")
    suspicious = [why for pattern, why in SUSPICIOUS if re.search(pattern, code)]
    return list(dict.fromkeys(forbidden)), list(dict.fromkeys(suspicious))


def plan(lesson, sources, exercises):
    """The kernel's plan: the instructor's code cells up to the last exercise asked for (check cells, figure cells
    and the cells that need PyTorch or TensorBoard left out), with the learner's exercise cells for ``exercises``
    in their places; and the exercises to answer."""
    wanted = [e for e in lesson.exercises if e in exercises]
    cells = []
    last = max((n for n, c in enumerate(lesson.cells) if c["meta"].get("exercise") in wanted), default=-1)
    for n, c in enumerate(lesson.cells[:last + 1]):
        if c["cell_type"] != "code" or "check" in c["meta"] or c["meta"].get("figure") is True:
            continue
        exercise = c["meta"].get("exercise")
        if exercise is not None:
            if exercise in wanted:
                cells.append({"n": n, "role": "exercise", "exercise": exercise, "name": lesson.functions[exercise],
                              "source": sources[exercise]})
            continue
        if not starts_with(c["source"].splitlines(), (NEEDS_TORCH, NEEDS_TENSORBOARD)):
            cells.append({"n": n, "role": "setup", "source": c["source"]})
    return {"cells": cells, "exercises": [{"id": e, "name": lesson.functions[e]} for e in wanted]}
