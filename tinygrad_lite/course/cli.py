"""The ``tinygrad-lite`` command (also ``python -m tinygrad_lite.course``).

    tinygrad-lite check NOTEBOOK [NOTEBOOK ...]   run learners' notebooks, print each exercise's verdict
    tinygrad-lite execute SOLUTION [SOLUTION ...]  run solution notebooks, storing their outputs in them
    tinygrad-lite release [--force]                regenerate lessons/ from solutions/
    tinygrad-lite grade SUBMISSION... --out OUTDIR grade a class's notebooks in sandboxed kernels (grading/)
    tinygrad-lite mutants [EXERCISE_OR_LESSON ...] mutation-test the exercises' checks (mutation.py)
    tinygrad-lite lessons [DEST]                   write the lesson notebooks the course carries into DEST (lessons.py)
    tinygrad-lite update [--from NEW_LESSONS]      take a new version of the lessons, keep the answers (update.py)
    tinygrad-lite export gradescope --lesson NN --out autograder.zip   a Gradescope autograder (grading/gradescope.py)

Whatever the input, the command ends with a one-line explanation or its table, never a Python traceback.
The exit statuses are listed in ``CHECK_EXIT`` and ``RELEASE_EXIT`` (shown by --help).
"""
import argparse
import contextlib
import csv
import json
import os
import re
import signal
import stat
import sys
from pathlib import Path

from .notebooks import KEY, NotebookError, not_a_file

CHECK_EXIT = """exit status:
  0    every exercise of every notebook passed
  1    an exercise did not pass or is missing (every exercise of the notebook's lesson gets a row: one whose
       cells were deleted or lost their metadata is "missing"), or a cell timed out, or the kernel died
  2    unusable input: a missing file, not a notebook (or not a regular file: a named pipe is never opened),
       malformed tinygrad_lite metadata (the other notebooks are still checked; the error names the notebook
       and the cell)
  130  interrupted by Ctrl-C (the table so far is printed first)"""
RELEASE_EXIT = """exit status:
  0    every lesson was written or was already up to date
  1    with --check: a lesson differs from a fresh release
  2    unusable input (a missing folder, a malformed solution notebook, a solution or lesson that is not a
       regular file, e.g. a named pipe, which is never opened; a lessons folder that cannot be written)
  3    a lesson in lessons/ was edited after its release: nothing was written (use --force to back it up and
       replace it)
  130  interrupted by Ctrl-C"""


GRADE_EXIT = """exit status:
  0    grading completed, whatever the grades (unreadable, crashing or hostile notebooks included)
  2    a usage error (bad arguments, a missing path, an --out that is or lies below a file, no solutions, a
       solution that is not a notebook file, a --roster or --overrides file that cannot be used: the one
       line names its line), or an internal fault of the grader (e.g. the course's code
       changed during the run: run it again; finished grades are kept); also when no machine can grade
       (the check before grading: a kernel on the instructor's solution of the first exercise)
  3    grading completed, but some submissions are "not graded (infrastructure: ...)": a fault of the
       grading machines (a kernel that could not start, a Dask worker lost), never stored as a grade; fix
       it and run the same command again: those are graded then, the others' grades are kept
  130  interrupted by Ctrl-C (grades finished so far are kept: run the same command again to resume)

layout: a SUBMISSION is a notebook or a folder searched recursively for *.ipynb. The learner: in an LMS's
export (Canvas's file names, Moodle's or Gradescope's folders), the learner it names; a notebook named as a
lesson's (01_forward_pass.ipynb, or a copy: -Copy1, " (1)") is the learner whose folder holds it, also a folder
given (grade subs/alice subs/bob -> alice, bob); else the name of its folder below a SUBMISSION folder
(class/alice/x.ipynb -> alice), else the file name's stem without a copy's mark or a lesson's name or number
(class/bob.ipynb and class/bob_L03.ipynb -> bob).
Learners with one id in different places get ids that tell them apart (a/alice, b/alice). A learner's several
notebooks of one lesson are graded once: one that can be graded, not a copy, the LMS's latest, named as the
lesson's notebook, then the first by path; the others get a line, a note and a line in summary.md. The lesson
is the notebook's metadata, else a lesson name or number in the file's own name. A hidden folder (class/.bob/)
is not graded: each one that holds notebooks gets one line (rename it to grade them); .ipynb_checkpoints
(JupyterLab's autosaves) is skipped silently.
A notebook given twice, or given and also found in a folder given, is graded once (one line says so). A
*.ipynb that is not a regular file (a named pipe, a socket, a folder) is never opened: one line, and it is
graded unreadable.

OUTDIR gets gradebook.csv (a row per learner and lesson, a column per exercise), lms.csv (a row per learner, a
column per lesson total), results.json (everything, per case), feedback/LEARNER/LESSON.md, summary.md and
summary.png. OUTDIR/.work holds the grades done so far (a rerun resumes) and the secret that seeds the hidden
cases (keep it to get the same hidden cases again). --regrade grades again what it names, with the same secret.

the class (docs/grading.md): --roster roster.csv (columns id, name, email, optional due and lms_id) gives every
roster learner a row (0 and status "missing" without a notebook), maps LMS export names to roster ids and puts
names and emails in lms.csv; a notebook not on the roster is graded and noted "not on the roster".
--overrides overrides.csv (learner, exercise, points, reason) sets an exercise's points, or with exercise
"late" the days late to count; --late-penalty P takes P of the total per day late (days late from the roster's
due and Gradescope's submission time, after --late-grace hours, or 1 for Canvas's LATE). All three apply after
judging and are never stored with a grade: edit them and run again, nothing is graded again.

before the first kernel, this machine (or each Dask worker) grades the instructor's solution of the first
exercise; a place where that fails is named with the fix and gets no submission."""


def _need_notebook_tools():
    """Import nbformat and nbclient (a second or two). A Ctrl-C meanwhile ends the command as Ctrl-C, as it does
    while the library is imported (``tinygrad_lite_cli``): one inside a compiled extension's initialisation can
    come out as an ImportError, and one inside a callback of the import system (a module lock freed through a weak
    reference) cannot propagate, so Python would print it as "Exception ignored in ..." and go on. So the signal is
    recorded, such a report is kept quiet, and the recorded Ctrl-C is raised once the imports return."""
    received = []

    def on_sigint(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    def quiet(unraisable):
        if not (received and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            previous_hook(unraisable)
    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except (ValueError, OSError):  # not the main thread
        previous = None
    previous_hook, sys.unraisablehook = sys.unraisablehook, quiet
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError:
        if received:
            raise KeyboardInterrupt from None
        raise NotebookError("the course tools need nbformat and nbclient: pip install nbformat nbclient ipykernel "
                            "(on a hosted notebook: %pip install nbformat nbclient ipykernel)") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook
    if received:  # a Ctrl-C that a callback of the import system could not raise
        raise KeyboardInterrupt


def _fit(text, width=100):
    """An epilog's text with every paragraph wrapped within ``width`` columns (a help screen's lines, like every
    printed line, stay within 100): an exit status's entry ("  2    ...") wraps under its text, a paragraph of
    prose at its own indent; a line ending with ":" (a heading) stays as it is."""
    import textwrap
    items = []  # [first line's prefix, hanging indent, words]
    for line in text.splitlines():
        entry = re.match(r"(\s*\d+\s+)(\S.*)", line)
        if not line.strip() or line.rstrip().endswith(":") and not line.startswith(" "):
            items.append([line, None, None])
        elif entry:
            items.append([entry[1], " " * len(entry[1]), entry[2].split()])
        elif items and items[-1][2] is not None and (line.startswith(" ") or items[-1][1] == ""):
            items[-1][2] += line.split()  # a continuation of the entry or paragraph above
        else:
            indent = line[:len(line) - len(line.lstrip())]
            items.append([indent, indent, line.split()])
    return "\n".join(prefix if words is None else textwrap.fill(
        " ".join(words), width, initial_indent=prefix, subsequent_indent=hang, break_long_words=False,
        break_on_hyphens=False) for prefix, hang, words in items)


def _error(command, message):
    print(f"tinygrad-lite {command}: error: {message}", file=sys.stderr, flush=True)


def _print_table(path, outcome, verbose):
    from .checks import wrapped_text
    results = outcome["results"]
    print(f"{path}")
    width = max([len("exercise")] + [len(r["exercise"]) for r in results])
    status_width = max([14] + [len(r["status"]) for r in results])
    print(f"  {'exercise':<{width}}  {'result':<{status_width}}  cases")
    for r in results:
        cases = f"{r['passed_cases']}/{r['total_cases']}" if r["total_cases"] else "-"
        print(f"  {r['exercise']:<{width}}  {r['status']:<{status_width}}  {cases}")
    exercises = [r for r in results if r["exercise"] not in ("results",) and not r["exercise"].startswith("cell ")]
    passed = sum(r["status"] == "passed" for r in exercises)
    missing = sum(r["status"] == "missing" for r in exercises)
    print(f"  {passed} of {len(exercises)} exercises passed" + (f", {missing} missing" if missing else ""))
    if not exercises and not outcome["interrupted"]:
        print("  no exercise to check: the course has no such lesson and no cell is marked as an exercise")
    for r in results:  # (every message line wrapped within 100 columns, as a check cell shows it)
        if r["exercise"] == "results" or r["exercise"].startswith("cell "):
            print(wrapped_text(r["message"], "  "))
        elif not verbose and r["status"] not in ("passed", "failed", "not attempted", "error", "not run"):
            print(wrapped_text(r["message"], "  "))  # timed out, died ... (-v says it below, with the others)
    if verbose:
        for r in exercises:
            if r["status"] != "passed":
                print("\n" + wrapped_text(r["message"], "  "))
    else:
        for r in exercises:  # an error is the learner's to fix (a crash, a syntax error): its first line says where
            if r["status"] == "error" and r.get("message"):
                print(wrapped_text(r["message"].splitlines()[0], "  "))
        if any(r["status"] not in ("passed", "missing") for r in exercises):
            print("  (tinygrad-lite check -v shows why each exercise did not pass)")
    if any(r["status"] == "not attempted" for r in exercises):  # (a cell's own message says to run the cell)
        print("  (check runs the notebook as it was last saved: save it after editing a cell)")
    if outcome["errors"]:
        print(f"  {len(outcome['errors'])} cell(s) raised an error; the first: {outcome['errors'][0]}")
    sys.stdout.flush()
    return 0 < passed == len(exercises) == len(results)


class _StatusLine:
    """What ``check`` is doing, on one line overwritten in place, when stdout is a terminal; nothing otherwise (a
    log or a test reads the table only). The line is cut to the terminal's width, so that it never wraps."""

    def __init__(self, stream=None):
        self.stream = sys.stdout if stream is None else stream
        try:
            self.live = self.stream.isatty()
        except (AttributeError, ValueError, OSError):
            self.live = False
        self.shown = False

    def __call__(self, text):
        if not self.live:
            return
        import shutil
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        text = " ".join(str(text).split())
        self.stream.write("\r\033[K" + (text if len(text) <= width else text[:width - 3] + "..."))
        self.stream.flush()
        self.shown = True

    def clear(self):
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def _notebooks_near(folder):
    try:
        return sorted(p.name for p in Path(folder).iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))
    except OSError:
        return []


def _lesson_folders(path):
    """Where a notebook that is not at ``path`` may be: the folder named, this folder (a path given from the folder
    above) and lessons/ (from the course's root)."""
    folders = [path.parent, Path("."), Path("lessons")]
    return [f for n, f in enumerate(folders) if f.is_dir() and f.resolve() not in {g.resolve() for g in folders[:n]}]


def _find_notebook(arg):
    """The notebook ``arg`` names: ``(path, note)``, ``note`` a line to print when ``arg`` was taken to mean another
    path (a lesson number: "01" is lessons/01_*.ipynb). A missing file gets a NotebookError that names the close
    names ("did you mean ...?"); other problems are left to read_notebook."""
    import difflib
    import re
    path = Path(arg)
    if os.path.lexists(path):
        return path, None
    if re.fullmatch(r"\d{1,2}", arg.strip()):
        number = f"{int(arg):02d}"
        folders = [f for f in (Path("."), Path("lessons")) if f.is_dir()]
        found = list(dict.fromkeys(f / n for f in folders for n in _notebooks_near(f) if n.startswith(number + "_")))
        if len(found) == 1:
            return found[0], f"{arg}: checking lesson {number}'s notebook, {found[0]}"
        if found:
            raise NotebookError(f"{arg}: no such file, and several notebooks are lesson {number}'s: "
                                f"{', '.join(map(str, found))}; name the one to check")
        raise NotebookError(f"{arg}: no such file, and no notebook of lesson {number} (named {number}_*.ipynb) in "
                            f"{' or '.join('this folder' if f == Path('.') else f'{f}/' for f in folders)}")
    wanted = path.name if path.suffix == ".ipynb" else path.name + ".ipynb"
    number = re.match(r"\d+_", wanted)
    scored = []
    for folder in _lesson_folders(path):
        names = _notebooks_near(folder)
        if number and any(n.startswith(number[0]) for n in names):  # a lesson's number is seldom the typo
            names = [n for n in names if n.startswith(number[0])]
        scored += [(difflib.SequenceMatcher(None, wanted, n).ratio(), folder / n)
                   for n in difflib.get_close_matches(wanted, names, n=3, cutoff=0.75)]
    close = [p for ratio, p in scored if ratio >= max(r for r, _ in scored) - 0.02] if scored else []
    if close:
        shown = " or ".join(str(p) for p in dict.fromkeys(close))
        raise NotebookError(f"{path}: no such file; did you mean {shown}?")
    return path, None  # read_notebook says it is missing


def cmd_check(args):
    from .checks import RESULTS_ENV
    from .notebooks import read_notebook, require_course_notebook
    from .runner import INTERRUPTED, run_notebook
    # a `!tinygrad-lite check` cell in the notebook being checked: each check's kernel would start another check
    if os.environ.get(RESULTS_ENV):
        _error("check", "this runs inside a notebook that tinygrad-lite check is running (a `!tinygrad-lite "
                        "check` cell in a lesson): not run again, which would start a check of a check. Run it "
                        "from a terminal or from a notebook of its own")
        return 2
    usable, unusable = [], 0
    for arg in args.notebooks:  # report unusable input at once, before the long runs
        try:
            path, note = _find_notebook(arg)
            if note:
                print(note, flush=True)
            require_course_notebook(read_notebook(path), path)
            usable.append(path)
        except NotebookError as e:
            _error("check", e)
            unusable += 1
    all_passed = True
    status = _StatusLine()
    for number, path in enumerate(usable):
        which = f"{path}" + (f" ({number + 1} of {len(usable)})" if len(usable) > 1 else "")
        status(f"{which}: starting ...")
        try:
            outcome = run_notebook(path, timeout=args.timeout, total_timeout=args.total_timeout,
                                   progress=lambda text, which=which: status(f"{which}: {text}"))
        except KeyboardInterrupt:
            outcome = {"results": [{"exercise": "-", "status": INTERRUPTED, "passed_cases": 0, "total_cases": 0,
                                    "message": "interrupted (Ctrl-C) before the notebook ran"}],
                       "errors": [], "interrupted": True}
        except NotebookError as e:  # the file changed since we read it
            status.clear()
            _error("check", e)
            unusable += 1
            continue
        except Exception as e:  # noqa: BLE001  (a bug of ours must not hide the other notebooks' results)
            first_line = (str(e).strip().splitlines() or [""])[0]
            outcome = {"results": [{"exercise": "-", "status": "error", "passed_cases": 0, "total_cases": 0,
                                    "message": f"the checker failed: {type(e).__name__}: {first_line}"}],
                       "errors": [], "interrupted": False}
        finally:
            status.clear()
        all_passed &= _print_table(path, outcome, args.verbose)
        if outcome["interrupted"]:
            skipped = len(usable) - number - 1
            print(f"interrupted (Ctrl-C){f'; {skipped} notebook(s) not checked' if skipped else ''}", flush=True)
            return 130
    return 2 if unusable else 0 if all_passed else 1


EXECUTE_EXIT = """exit status:
  0    every notebook ran and was written back with its outputs
  1    a cell raised in some notebook (that one is left as it was); the others were run
  2    a notebook could not be read (missing, not a notebook); the others were run"""


def cmd_execute(args):
    from .execute import CellFailed, execute_notebook
    failed = unusable = 0
    for path in args.notebooks:
        try:
            seconds = execute_notebook(path, timeout=args.timeout)
            print(f"executed  {path}  ({seconds:.1f} s)", flush=True)
        except CellFailed as e:
            _error("execute", e)
            failed += 1
        except (NotebookError, OSError) as e:  # no notebook to run (missing, unreadable): a usage error
            _error("execute", e)
            unusable += 1
    return 2 if unusable else 1 if failed else 0


def _given_cells(path):
    """The (type, text) of every cell of a course notebook but its exercise cells (the learner's answers), read as
    JSON (no notebook tools needed); None for a file that is not such a notebook."""
    try:
        cells = json.loads(path.read_bytes())["cells"]
        return [(c["cell_type"], "".join(c["source"])) for c in cells
                if not (c.get("metadata") or {}).get(KEY, {}).get("exercise")]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _released_as(path):
    """The hash of the cells as released that a course notebook records (``release.stamp``), or None: two lessons
    that record the same one are of the same version of the course, whatever the learner changed since."""
    from .release import RELEASE_KEY
    try:
        return json.loads(path.read_bytes())["metadata"][RELEASE_KEY]["cells_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cmd_lessons(args):
    from .checks import wrapped_text
    from .lessons import UnsafeDestination, copy_lessons
    if not args.dest.strip():
        _error("lessons", "DEST is empty: give the folder to write the lessons into, e.g. `tinygrad-lite lessons "
                          "course` (it is made if it does not exist)")
        return 2
    try:
        done = copy_lessons(args.dest)
    except UnsafeDestination as e:
        _error("lessons", e)
        return 2
    except OSError as e:  # FileNotFoundError from lessons_folder says what to install; others: the folder
        if Path(args.dest).exists() and not Path(args.dest).is_dir():
            _error("lessons", f"{args.dest} is a file, not a folder: give the folder to write the lessons into (it "
                              "is made if it does not exist)")
        else:
            _error("lessons", e if e.filename is None else f"cannot write into {args.dest}: {e.strerror} "
                                                            f"({e.filename}); choose another folder")
        return 2
    from .lessons import lessons_folder
    shipped = lessons_folder()
    try:  # (writing the lessons needs no notebook tools; comparing a kept one with this version's reads it)
        import nbformat
    except ImportError:  # the hosted extra leaves them to the service: compare the text of the cells as JSON
        nbformat = None
    else:
        from .update import UpdateError, _read_lesson, has_the_new_version

    def older_version(path):  # (answers and outputs aside: what `update` would change); None: unreadable
        if path.read_bytes() == (shipped / path.name).read_bytes():
            return False
        released = _released_as(path)
        if released is not None and released == _released_as(shipped / path.name):
            return False  # this version, with the learner's own edits (a note, a figure cell): nothing to update
        if nbformat is None:
            mine = _given_cells(path)
            return None if mine is None else mine != _given_cells(shipped / path.name)
        try:
            return not has_the_new_version(_read_lesson(path), _read_lesson(shipped / path.name))
        except UpdateError:  # not a notebook this version can read
            return None
    compared = {path: older_version(path) for path, status in done if status == "kept"}
    older = [path for path, is_older in compared.items() if is_older]
    unreadable = [path for path, is_older in compared.items() if is_older is None]
    for path, status in done:
        print(f"{status:7}  {path}" + ("  (already there: kept as it is)" if status == "kept" else ""))
    written = sum(s == "written" for _, s in done)
    first = next((p.name for p, s in done if s == "written"), None)
    print(f"{written} written, {len(done) - written} kept in {args.dest}"
          + (f": start with {first}" if first and written == len(done) else ""))
    if older:  # of an older version: `update` takes this version's and keeps the learner's answers
        names, one = ", ".join(path.name for path in older), len(older) == 1
        how = (" (in a notebook cell, start it with !):" if nbformat else ", once the notebook tools it needs are "
               "installed (%pip install nbformat nbclient ipykernel); in a notebook cell, start it with !:")
        print(wrapped_text(f"{len(older)} of the kept notebooks {'is' if one else 'are'} of an older version of the "
                           f"course: {names}. This takes the new version and keeps your answers{how}"))
        print(f"    {_command()} update --from {shipped} {args.dest}")  # (whole, to copy)
    if unreadable:  # (not a notebook: no update can merge it; a fresh copy can be written beside it)
        names = ", ".join(path.name for path in unreadable)
        print(wrapped_text(f"{len(unreadable)} of the kept notebooks cannot be read as notebooks: {names}. To get a "
                           "fresh copy of one, rename it (your answers may still be in it, as text) and run this "
                           "command again."))
    return 0


def _command():
    """How to run this command again here: ``tinygrad-lite``, or, where the shell would not find it (a kernel's
    environment that is not on the PATH), the Python that runs this one with ``-m``."""
    import shutil
    return "tinygrad-lite" if shutil.which("tinygrad-lite") else f"{sys.executable} -m tinygrad_lite.course"


def cmd_release(args):
    from .release import LessonsEdited, release
    try:
        report = release(args.solutions, args.lessons, check_only=args.check, force=args.force)
    except LessonsEdited as e:
        _error("release", f"refused: {e}")
        return 3
    for path, what in report:
        if what == "backup":
            print(f"{'kept':>9}  {path}  (your edited copy, before it was replaced)")
        else:
            print(f"{what:>9}  {path}")
    if args.check and any(what in ("differs", "edited", "stale") for _, what in report):
        print("lessons/ is out of date: run `tinygrad-lite release` (never edit lessons by hand)")
        return 1
    return 0


UPDATE_EXIT = """exit status:
  0    the lessons were updated (or were up to date); every answer is in them or kept aside in them
  1    the update failed (git could not fetch or take the new version, no upstream branch, a file could not be
       written): the one line says what to do, and your lessons are as they were; or a lesson's new version
       could not be read: it is written as it came, and your notebook is in .backup/ (its line says so)
  2    unusable input: not a git checkout and no --from, git not installed, a folder that is missing, a lesson
       that is not a notebook (nothing was changed)
  130  interrupted by Ctrl-C"""


def cmd_update(args):
    import textwrap

    from .update import UpdateError, describe, update_from, update_git
    try:
        if args.new_lessons is not None:
            results = update_from(args.new_lessons, args.lessons or "lessons")
        else:
            results = update_git(args.lessons, show=lambda text: print(text, flush=True))
    except UpdateError as e:
        _error("update", e)
        return e.status
    for result in results:  # (within 100 columns, the continuations under the lesson's path)
        print(textwrap.fill(describe(result, Path.cwd()), 100, subsequent_indent=" " * 11, break_long_words=False,
                            break_on_hyphens=False), flush=True)
    return 1 if any(result.what == "failed" for result in results) else 0


MUTANTS_EXIT = """exit status:
  0    every distinguishable mutant is killed, every equivalent one is reviewed, no reviewed
       entry is stale
  1    a mutant survived (it behaves differently from the solution, yet passes the check), an
       equivalent mutant is not in the reviewed file, a listed one is stale, or an exercise
       could not be judged (its unmutated solution fails: the harness or the solution is broken)
  2    unusable input: an unknown exercise or lesson, a malformed reviewed file
  130  interrupted by Ctrl-C

reading the table: "killed" out of "distinguishable" (the mutants that behave differently from
the solution somewhere) is the score; "equivalent" mutants behave like the solution on every
input tried, and are listed with their reason in
tinygrad_lite/course/exercises/equivalent_mutants.toml. See CONTRIBUTING.md."""

WIDTH = 100  # columns of the mutants table and its problem lines


def _wrapped(text, indent="    "):
    """``text`` as lines of at most WIDTH columns, the continuation lines indented."""
    import textwrap
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_long_words=True, break_on_hyphens=False)


def _mutants_row(report, width):
    if isinstance(report, str):  # could not be judged
        return f"  {report:<{width}}  could not be judged (see below)"
    score = f"{100 * report.score:.0f}%" if report.distinguishable else "-"
    return (f"  {report.exercise:<{width}}  {len(report.outcomes):>7}  {len(report.killed):>6}/"
            f"{report.distinguishable:<5}  {score:>5}  {len(report.survivors):>8}  {len(report.equivalents):>10}  "
            f"{report.seconds:>6.1f}")


def cmd_mutants(args):
    import json

    from . import mutation
    try:
        ids = mutation.select(args.exercises)
        reviewed = mutation.reviewed_equivalents()
    except ValueError as e:
        _error("mutants", e)
        return 2
    width = max(len(i) for i in ids + ["exercise"])
    if not args.json:
        print(f"  {'exercise':<{width}}  {'mutants':>7}  {'killed/dist.':<12}  {'score':>5}  {'survived':>8}  "
              f"{'equivalent':>10}  {'cpu s':>6}", flush=True)
    reports, problems = [], []
    for exercise_id in ids:
        try:
            report = mutation.run(exercise_id, reviewed)
        except mutation.HarnessError as e:
            problems.append(str(e))
            reports.append(exercise_id)
        else:
            problems += report.problems()
            reports.append(report)
        if not args.json:
            print(_mutants_row(reports[-1], width), flush=True)
    judged = [r for r in reports if not isinstance(r, str)]
    killed = sum(len(r.killed) for r in judged)
    distinguishable = sum(r.distinguishable for r in judged)
    if args.json:
        print(json.dumps({"exercises": [r if isinstance(r, str) else r.as_dict() for r in reports],
                          "killed": killed, "distinguishable": distinguishable, "problems": problems}, indent=1))
        return 1 if problems else 0
    score = f"{100 * killed / distinguishable:.1f}%" if distinguishable else "-"
    lines = [f"  {len(judged)} exercise(s), {sum(len(r.outcomes) for r in judged)} mutants: {killed} of "
             f"{distinguishable} distinguishable killed ({score}), {sum(len(r.equivalents) for r in judged)} "
             f"equivalent; {sum(r.seconds for r in judged):.1f} s of CPU"] + problems
    if problems:
        lines.append(f"{len(problems)} problem(s): close each survivor with a hidden case; list an equivalent "
                     "mutant only when it behaves like the solution on every input (CONTRIBUTING.md, \"Mutation "
                     "testing\")")
    for line in lines:
        print("\n".join(_wrapped(line)))
    sys.stdout.flush()
    return 1 if problems else 0


def out_problem(out):
    """Why ``out`` cannot be grade's output folder, in one line (None when it can): it, or a folder above it, is a
    file, or the nearest existing folder cannot be written in."""
    path = Path(out)
    for candidate in (path, *path.parents):
        try:
            mode = os.stat(candidate).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # not there (yet), or below a file: look further up
        except OSError as e:
            return f"--out {out}: {candidate}: {e.strerror or e}"
        if not stat.S_ISDIR(mode):
            what = "a file" if stat.S_ISREG(mode) else not_a_file(mode)
            return f"--out {out}{'' if candidate == path else f': {candidate}'} is {what}, not a folder"
        if not os.access(candidate, os.W_OK | os.X_OK):
            if candidate == path:
                return f"--out {out}: the folder cannot be written in (permission denied)"
            return f"--out {out}: cannot create it: {candidate} cannot be written in (permission denied)"
        return None
    return None


def cmd_points(args):
    """The points of each exercise, per lesson, as ``grade`` will give them at most."""
    from .grading import UsageError, points_table
    try:
        table = points_table(args.lessons, args.solutions)
    except UsageError as e:
        _error("points", str(e).replace("--lesson ", "", 1))
        return 2
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["lesson", "exercise", "points"])
        writer.writerows((lesson, exercise, points) for lesson, rows in table for exercise, points in rows)
        return 0
    for lesson, rows in table:
        print(f"{lesson}: {len(rows)} exercise(s), {sum(p for _, p in rows)} points")
        for exercise, points in rows:
            print(f"  {exercise:<32} {points:>3}")
    if len(table) > 1:
        print(f"all {len(table)} lessons: {sum(p for _, rows in table for _, p in rows)} points")
    return 0


def cmd_grade(args):
    problem = out_problem(args.out)
    if problem:
        _error("grade", problem)
        return 2
    where = args.scheduler or args.cluster  # grading on a Dask cluster (grading/cluster.py), or None
    if where and args.jobs:
        _error("grade", f"--jobs is for one machine: with {'--scheduler' if args.scheduler else '--cluster'}, each "
                        "worker thread grades one submission at a time (--cluster local:N runs N at once)")
        return 2
    from .grading import Settings, UsageError, grade, layout, main_progress
    from .grading.session import CourseChanged
    settings = Settings(timeout=args.timeout, total_timeout=args.total_timeout, memory=args.memory,
                        max_output=args.max_output, jobs=args.jobs or 1, lesson=args.lesson, regrade=args.regrade)
    said = []

    def announce(text):
        print(text, flush=True)
        if not said:  # once, after grade() has checked its input: what of it is skipped, and why
            said.append(text)
            notices = []
            layout.find_notebooks(args.submissions, exclude=[args.out], notices=notices)
            for notice in notices:
                print(notice, flush=True)
    try:
        results = grade(args.submissions, args.out, settings, solutions=args.solutions, sandbox=args.sandbox,
                        progress=main_progress, announce=announce, cluster=where, roster=args.roster,
                        overrides=args.overrides, late_penalty=args.late_penalty, late_grace=args.late_grace)
    except (UsageError, CourseChanged) as e:
        _error("grade", e)
        return 2
    except OSError as e:  # e.g. OUTDIR on a full or read-only disk
        where = f"cannot write {e.filename}: " if getattr(e, "filename", None) else ""
        _error("grade", f"{where}{e.strerror or e}")
        return 2
    absent = [r for r in results if r.status == "missing"]  # roster learners without a notebook: no submission
    results = [r for r in results if r.status != "missing"]
    if absent:
        from .grading.report import missing_line
        print(missing_line(absent), flush=True)
    faults = [r for r in results if r.status == "not graded"]
    notebooks = len({r.path for r in results})  # (a group's notebook counts for each of its members)
    members = f" (a row for each of {len(results)} learners: a group's notebook counts for each member)" * (
        notebooks != len(results))
    print(f"graded {notebooks - len({r.path for r in faults})} of {notebooks} submission(s){members} into "
          f"{args.out}: gradebook.csv, lms.csv, results.json, feedback/ (.md and .html), summary.md and its images",
          flush=True)
    changed = [r for r in results if r.judged_total is not None and r.judged_total != r.total]
    if changed:  # (the progress lines came before finish(): they show the points as judged)
        print(f"{len(changed)} total(s) changed after judging by the overrides or the late rule, which the lines "
              f"above do not show: {', '.join(f'{r.learner} {r.judged_total:g} -> {r.total:g}' for r in changed[:5])}"
              + (", ..." if len(changed) > 5 else "") + " (gradebook.csv has every one)", flush=True)
    if faults:
        _error("grade", f"{len(faults)} submission(s) not graded for a fault of the grading machines, not of the "
                        f"learners (first: {faults[0].learner}, {(faults[0].reason or '')[:200]}); no grade "
                        "was stored for them: fix it and run the same command again to grade them")
        return 3
    return 0


EXPORT_EXIT = """exit status:
  0    the zip was written
  2    a usage error (an unknown lesson, no solutions, --out is a folder, no checkout to build the course's
       wheel from, a wheel that cannot be built)

the zip (upload it as the assignment's autograder, "Configure Autograder"): setup.sh installs the course
(a wheel built from this checkout, with constraints.txt's versions and torch from PyTorch's CPU index) and
bubblewrap; run_autograder grades the uploaded notebook as `grade --lesson NN` does and writes
results.json: a test per exercise (points, the feedback with the hidden cases' values masked). The lesson's
solution notebook travels in the zip, which learners never see; the hidden cases' secret is made afresh on
Gradescope for every run. See docs/gradescope.md."""


def cmd_export(args):
    from .grading import Settings
    from .grading.gradescope import ExportError, export
    from .notebooks import NotebookError as BadSolution
    settings = Settings(timeout=args.timeout, total_timeout=args.total_timeout, memory=args.memory,
                        max_output=args.max_output)
    try:
        name, names = export(args.lesson, args.out, settings, solutions=args.solutions,
                             visibility=args.visibility)
    except (ExportError, BadSolution) as e:
        _error("export gradescope", e)
        return 2
    except OSError as e:
        where = f"cannot write {e.filename}: " if getattr(e, "filename", None) else ""
        _error("export gradescope", f"{where}{e.strerror or e}")
        return 2
    print(f"wrote {args.out}: the Gradescope autograder of {name} ({', '.join(names)})", flush=True)
    return 0


def positive_int(what, minimum=1):
    """argparse type: a whole number of at least ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _one_line_error(parser_, command=None):
    """Make a parser report bad arguments in one line (no usage block), naming --help, and for a mistyped command or
    option the nearest one. ``command``: the command's own parser, where the main parser reports for it (argparse
    reports an unknown option of a command there)."""
    def error(message):
        prog = command.prog if command else parser_.prog
        print(f"{prog}: error: {message}{_nearest(command or parser_, message)} (see --help)", file=sys.stderr,
              flush=True)
        sys.exit(2)
    parser_.error = error
    return parser_


def _nearest(parser_, message):
    """"; did you mean X?" for the unknown command or option that argparse's ``message`` names, where one of
    ``parser_``'s is close; else ""."""
    import difflib
    choice = re.search(r"invalid choice: '?([^' ]*)'? \(choose from (.*)\)", message)
    if choice:
        typed, known = choice[1], [c.strip("' ") for c in choice[2].split(",")]
    else:
        typed = next(iter(re.findall(r"unrecognized arguments: (--?[\w-]+)", message)), None)
        known = [option for action in parser_._actions for option in action.option_strings]
    close = difflib.get_close_matches(typed, known, n=1) if typed else []
    return f"; did you mean {close[0]}?" if close else ""


def cluster_spec(text):
    """argparse type of --cluster: local:N, N worker processes (at least 1)."""
    number = text[len("local:"):] if text.startswith("local:") else ""
    if not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"expected local:N (N worker processes, at least 1), got {text!r}")
    return text


def fraction(text):
    """argparse type of --late-penalty: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction of the total per day, e.g. 0.1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1 (0.1 takes 10% of the total a day), got {text}")
    return value


def hours(text):
    """argparse type of --late-grace: a number of hours, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of hours, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 hours or more, got {text}")
    return value


def positive_seconds(text):
    """argparse type: a whole number of seconds greater than 0 (0 would mean no limit at all)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, got {value}")
    return value


class _Version(argparse.Action):
    """``--version``: one line, never wrapped (argparse's own action wraps it at the terminal's width, and a long
    installation path then breaks in two)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import __file__ as where
        from .. import __version__
        print(f"tinygrad-lite {__version__} ({Path(where).parent})")
        parser.exit()


def parser():
    p = argparse.ArgumentParser(prog="tinygrad-lite", description="The tinygrad_lite course tools.")
    p.add_argument("--version", action=_Version, nargs=0, help="print the version and where it is installed, and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    c = sub.add_parser("check", help="run notebooks top to bottom and print each exercise's verdict",
                       description="Run each notebook in a fresh kernel and print a table of its exercises'\n"
                                   "verdicts. A cell that runs too long is interrupted, a kernel that dies ends\n"
                                   "that notebook's run, and either becomes a row of the table; the next\n"
                                   "notebook is checked all the same.",
                       epilog=_fit(CHECK_EXIT), formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="a lesson notebook (.ipynb)")
    c.add_argument("--timeout", type=positive_seconds, default=120, metavar="SECONDS",
                   help="seconds allowed per cell (default 120)")
    c.add_argument("--total-timeout", type=positive_seconds, default=600, metavar="SECONDS",
                   help="seconds allowed per notebook, all cells together (default 600)")
    c.add_argument("-v", "--verbose", action="store_true", help="also print the message of each exercise not passed")
    c.set_defaults(run=cmd_check)
    e = sub.add_parser("execute", help="run solution notebooks and store their outputs in them",
                       description="Run each solution notebook top to bottom in a fresh kernel (started in the\n"
                                   "notebook's folder) and write it back with its outputs, without timing\n"
                                   "metadata. A cell that raises stops that notebook; nothing is written then.\n"
                                   "Run it after editing a solution, before `tinygrad-lite release`.",
                       epilog=_fit(EXECUTE_EXIT), formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("notebooks", nargs="+", metavar="SOLUTION", help="a solution notebook (.ipynb)")
    e.add_argument("--timeout", type=positive_seconds, default=600, metavar="SECONDS",
                   help="seconds allowed per cell (default 600)")
    e.set_defaults(run=cmd_execute)
    r = sub.add_parser("release", help="regenerate lessons/ from solutions/",
                       description="Write the learner's copy of every solution notebook: solutions replaced by\n"
                                   "stubs, outputs cleared, instructor cells dropped. A lesson changed since its\n"
                                   "release (edited, or run and saved) is never overwritten without --force, and\n"
                                   "with --force it is first copied to lessons/.backup/.",
                       epilog=_fit(RELEASE_EXIT), formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    r.add_argument("--lessons", default="lessons", help="folder to write the lessons to (default: lessons)")
    r.add_argument("--check", action="store_true", help="write nothing; exit 1 if lessons/ is out of date")
    r.add_argument("--force", action="store_true",
                   help="replace lessons edited since their release, after backing each up to lessons/.backup/")
    r.set_defaults(run=cmd_release)
    le = _one_line_error(sub.add_parser(
        "lessons", help="write the course's lesson notebooks into a folder (for a hosted notebook)",
        description="Write the lesson notebooks that come with the course into DEST (made if needed), where you\n"
                    "open and edit them: on a hosted notebook (Colab, Kaggle, a JupyterHub) the installed wheel\n"
                    "carries them. A notebook already in DEST is kept as it is: it may hold your answers.",
        formatter_class=argparse.RawDescriptionHelpFormatter))
    le.add_argument("dest", nargs="?", default="lessons", metavar="DEST",
                    help="the folder to write them into (default: lessons)")
    le.set_defaults(run=cmd_lessons)
    u = _one_line_error(sub.add_parser(
        "update", help="take a new version of the lessons and keep your answers",
        description="In a git clone of the course: save each lesson you changed to lessons/.backup/, fetch\n"
                    "the new version, then put your answers (your code in the exercise cells) into the new\n"
                    "version of each lesson; answers you committed are merged the same way, by exercise, in one\n"
                    "merge commit. An exercise the new version no longer has is kept at the end of the\n"
                    "notebook, in a marked cell. With --from, the new lessons come from a folder instead\n"
                    "(`tinygrad-lite lessons` prints the one an installed course carries), and the backups go\n"
                    "to LESSONS_DIR/.backup/.",
        epilog=_fit(UPDATE_EXIT), formatter_class=argparse.RawDescriptionHelpFormatter))
    u.add_argument("lessons", nargs="?", default=None, metavar="LESSONS_DIR",
                   help="the folder of your lessons (default: lessons/ of the checkout, or lessons with --from)")
    u.add_argument("--from", dest="new_lessons", default=None, metavar="NEW_LESSONS_DIR",
                   help="merge with the notebooks of this folder (the new lessons), without git")
    u.set_defaults(run=cmd_update)
    g = _one_line_error(sub.add_parser(
        "grade", help="grade a class's notebooks in sandboxed kernels: gradebook, feedback, summary",
        description="Grade submitted notebooks. Only the learner's exercise cells are taken; every other cell\n"
                    "comes from the instructor's solution notebook. Each notebook runs in an isolated kernel\n"
                    "(bubblewrap when installed, resource limits always) that computes the learner's answers on\n"
                    "hidden cases; this process judges them case by case, with partial credit per exercise.",
        epilog=_fit(GRADE_EXIT), formatter_class=argparse.RawDescriptionHelpFormatter))
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION", help="a notebook, or a folder of them (recursive)")
    g.add_argument("--out", required=True, metavar="OUTDIR", help="folder for the gradebooks, results and feedback")
    g.add_argument("--jobs", type=positive_int("kernels"), default=None, metavar="N",
                   help="kernels to run at the same time on this machine (default 1; one per CPU core is the most "
                        "that helps); not with --cluster or --scheduler, whose worker threads set it")
    g.add_argument("--timeout", type=positive_seconds, default=30, metavar="SECONDS",
                   help="seconds allowed per cell and per exercise's hidden cases (default 30)")
    g.add_argument("--total-timeout", type=positive_seconds, default=300, metavar="SECONDS",
                   help="seconds allowed per submission, all its kernels together (default 300)")
    g.add_argument("--memory", type=positive_int("megabytes", 256), default=2048, metavar="MB",
                   help="address-space limit of a kernel in MB (default 2048, at least 256)")
    g.add_argument("--max-output", type=positive_int("megabytes"), default=10, metavar="MB",
                   help="output a kernel may print before it is stopped, in MB (default 10)")
    g.add_argument("--lesson", metavar="LESSON", default=None,
                   help="grade only this lesson: its number (1, 01, lesson01), name or notebook file name; "
                        "notebooks of another lesson get the status 'wrong lesson' and no points, and a notebook "
                        "whose metadata and file name name no lesson is graded as this one")
    g.add_argument("--regrade", metavar="WHAT", default=None,
                   help="grade again instead of taking the grades stored by an earlier run: 'incidents' (those "
                        "with a time-out, crash or output limit), 'all', or one learner id as the gradebook writes "
                        "it (submissions not graded for a fault of the machines are always graded again)")
    g.add_argument("--solutions", metavar="DIR", default=None,
                   help="the instructor's solution notebooks (default: the course's solutions/ folder)")
    g.add_argument("--roster", metavar="CSV", default=None,
                   help="the class: a CSV file with columns id (required), name, email, due (an ISO date or date and "
                        "time, e.g. 2026-11-20T23:59), lms_id and sis_id (or 'SIS User ID', which lms.csv "
                        "repeats for the LMS's import); every roster learner gets a row (0, 'missing', when they "
                        "handed in nothing) and LMS export names are mapped to its ids (docs/grading.md)")
    g.add_argument("--overrides", metavar="CSV", default=None,
                   help="points set by hand, applied after judging: a CSV file with columns learner, exercise (an "
                        "exercise id, or 'late' for the days late to count), points, reason")
    g.add_argument("--late-penalty", metavar="P", type=fraction, default=None,
                   help="take the fraction P of the total per day late (e.g. 0.1; at most the whole total); days "
                        "late come from the roster's due and the LMS's submission time, or Canvas's LATE (1 day)")
    g.add_argument("--late-grace", metavar="HOURS", type=hours, default=0.0,
                   help="hours after the due time that do not count as late (default 0)")
    g.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="auto: bubblewrap when it works here, else resource limits only (said in the output); "
                        "bwrap: require bubblewrap; none: resource limits only")
    dask = g.add_mutually_exclusive_group()  # grading on a Dask cluster (grading/cluster.py)
    dask.add_argument("--scheduler", metavar="ADDRESS", default=None,
                      help="run the kernels on the workers of this Dask scheduler (e.g. tcp://10.0.0.5:8786), each "
                           "with the same course installed (checked before grading); judging, the secret and the "
                           "gradebook stay here. Needs pip install \"tinygrad_lite[cluster]\" (docs/cluster.md)")
    dask.add_argument("--cluster", metavar="local:N", default=None, type=cluster_spec,
                      help="as --scheduler, on a Dask LocalCluster of N worker processes (one thread each) on this "
                           "machine")
    g.set_defaults(run=cmd_grade)
    pts = _one_line_error(sub.add_parser(
        "points", help="list each exercise's points, per lesson, as grade gives them",
        description="Print each lesson's exercises and the points grade gives each at most (partial credit is\n"
                    "a share of them, by hidden cases passed), and each lesson's total: an LMS assignment's\n"
                    "maximum, known before grading. The points live in the checks (Exercise.points).",
        formatter_class=argparse.RawDescriptionHelpFormatter))
    pts.add_argument("lessons", nargs="*", metavar="LESSON",
                     help="a lesson, as --lesson of grade names it (1, 01, its name); default: every lesson")
    pts.add_argument("--solutions", metavar="DIR", default=None,
                     help="the instructor's solution notebooks (default: the course's solutions/ folder)")
    pts.add_argument("--csv", action="store_true", help="print CSV (lesson, exercise, points) instead")
    pts.set_defaults(run=cmd_points)
    m = _one_line_error(sub.add_parser(
        "mutants", help="mutation-test the exercises' checks: every wrong variant of a solution must fail",
        description="Derive wrong variants (mutants) from each exercise's solution in solutions/ (a boundary\n"
                    "moved, an operator or a constant changed, a statement deleted, two arguments swapped ...),\n"
                    "run the check on each, and compare those that pass with the solution on a wider battery of\n"
                    "inputs. Prints a row per exercise, then one line per problem.",
        epilog=_fit(MUTANTS_EXIT), formatter_class=argparse.RawDescriptionHelpFormatter))
    m.add_argument("exercises", nargs="*", metavar="EXERCISE_OR_LESSON",
                   help="an exercise id (04.MySGD) or a lesson (04); default: every exercise of the course")
    m.add_argument("--json", action="store_true", help="print the results as JSON (every mutant's outcome)")
    m.set_defaults(run=cmd_mutants)
    x = _one_line_error(sub.add_parser("export", help="export a lesson's autograder for a course platform",
                                       description="Export an autograder that grades one lesson on a course "
                                                   "platform."))
    platforms = x.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    gs = _one_line_error(platforms.add_parser(
        "gradescope", help="write a Gradescope autograder zip for one lesson",
        description="Write the zip Gradescope's autograder specification asks for (setup.sh, run_autograder) to\n"
                    "grade one lesson's notebooks there with the same sandbox, limits and judging as `grade`.",
        epilog=_fit(EXPORT_EXIT), formatter_class=argparse.RawDescriptionHelpFormatter))
    gs.add_argument("--lesson", required=True, metavar="LESSON", help="the lesson to grade (name or number, e.g. 00)")
    gs.add_argument("--out", required=True, metavar="ZIP", help="the zip to write (e.g. autograder.zip)")
    gs.add_argument("--solutions", metavar="DIR", default=None,
                    help="the instructor's solution notebooks (default: the course's solutions/ folder)")
    gs.add_argument("--visibility", choices=("visible", "after_due_date", "after_published"), default="visible",
                    help="when learners see the tests (Gradescope's test visibility; default visible)")
    gs.add_argument("--timeout", type=positive_seconds, default=30, metavar="SECONDS",
                    help="seconds allowed per cell and per exercise's hidden cases (default 30)")
    gs.add_argument("--total-timeout", type=positive_seconds, default=300, metavar="SECONDS",
                    help="seconds allowed per submission, all its kernels together (default 300; keep it under "
                         "the assignment's autograder timeout on Gradescope)")
    gs.add_argument("--memory", type=positive_int("megabytes", 256), default=2048, metavar="MB",
                    help="address-space limit of a kernel in MB (default 2048, at least 256)")
    gs.add_argument("--max-output", type=positive_int("megabytes"), default=10, metavar="MB",
                    help="output a kernel may print before it is stopped, in MB (default 10)")
    gs.set_defaults(run=cmd_export)
    return p


def main(argv=None):
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        p = parser()
        # an unknown command, or an unknown option of a command, is reported by the main parser: in one line too
        commands = next(a.choices for a in p._actions if isinstance(a, argparse._SubParsersAction))
        _one_line_error(p, commands.get(argv[0]) if argv else None)
        args = p.parse_args(argv)
    except KeyboardInterrupt:  # Ctrl-C while the parser is built: the same one line as anywhere else
        print("interrupted (Ctrl-C)", file=sys.stderr, flush=True)
        return 130
    try:
        if args.command != "lessons":  # (which writes the lessons without them, on any hosted notebook)
            _need_notebook_tools()
        return args.run(args)
    except NotebookError as e:
        _error(args.command, e)
        return 2
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C)", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as a shell tool does
        with contextlib.suppress(OSError):  # (no later flush of stdout may complain either)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, a shell's status for a command its pipe stopped
    except Exception as e:  # noqa: BLE001  (never a traceback: one line that says what happened)
        first_line = (str(e).strip().splitlines() or [""])[0]
        _error(args.command, f"unexpected {type(e).__name__}: {first_line} (please report this)")
        return 2


if __name__ == "__main__":
    sys.exit(main())
