"""Grading a class's notebooks: ``tinygrad-lite grade SUBMISSION... --out OUTDIR``, safely, fairly, without crashing.

How it works (one module per step):

- ``layout.py``: find the notebooks, tell whose they are and which lesson; take the learner's exercise cells only
  (by metadata, else by their marker) and every other cell from the instructor's solution notebook;
- ``sandbox.py``: the sandbox (bubblewrap, or limits only, said so in the output) and the resource limits;
- ``kernel.py``: the only process that runs learner code: it runs the cells, then, given seeds it could not know
  in advance, records the learner's functions on the hidden cases with the pipeline a check uses
  (``course/pipeline.py``), and writes the records to a file;
- ``session.py``: one kernel run, watched: per-cell and per-exercise time-outs, total time, output cap, deaths;
- ``judge.py``: the grader's own process judges the records against the references, case by case, with the
  pipeline's judge (the verdicts and messages a check gives); an exercise's points count the cases that no
  trivial answer passes;
- ``grader.py``: per submission, as many kernels as it takes so that one exercise's crash costs only its points;
  stored grades make a rerun resume; one ``grade_all`` for a class, whose kernels a ``Runner`` runs: this machine
  (``local.py``, ``--jobs`` at a time) or a Dask cluster (``cluster.py``);
- ``graded.py``: a grade as the grader makes it, typed: a ``GradedSubmission`` per notebook, a ``GradedExercise``
  per exercise (its cases ``verdict.GradedCase``s), each with ``to_json``/``from_json`` where it crosses into JSON;
- ``roster.py`` (``--roster``): the class list, and whose a notebook of an LMS's export is (Canvas, Moodle,
  Gradescope);
- ``adjust.py`` (``--roster``, ``--overrides``, ``--late-penalty``): after judging, never stored with a grade: a
  row "missing" for each roster learner without a notebook, points set by hand, the late penalty;
- ``report.py``: gradebook.csv, lms.csv, results.json, feedback/<learner>/<lesson>.md and .html, summary.md,
  summary.png, summary-totals.png, summary-heatmap-<lesson>.png, from results whose hidden numbers ``judge.py``
  masked once before (``mask_hidden``: what a learner may see of each case);
- ``probe.py``: before the first kernel, this machine (or each Dask worker) grades the instructor's solution of the
  first exercise; a place that cannot is named with the fix and gets no submission (a fault of the machines is
  never a learner's grade: "not graded (infrastructure: ...)", graded by the next run);
- ``cluster.py`` (``--scheduler``, ``--cluster``, the optional Dask extra): the kernels run on Dask workers, the rest
  here; its docstring says what that adds to the threat model below.

Threat model. The learner's notebook is hostile. It may loop, allocate without end, print without end, exit, crash
the interpreter, fork without end, write files, open sockets, read files, monkeypatch anything in its process
(numpy, the checks, the comparison, the Tensor class), edit or delete the notebook's other cells and metadata, or
be no notebook at all. What it can reach, and what that is worth:

- Its own kernel process only. Run time, memory, output, processes and file sizes are bounded; a kernel that
  breaks a bound is killed and the run goes on (the exercise it was in keeps the cases it had answered). Nothing
  it does reaches the grader's process, which never imports or runs learner code and reads the kernel's answers
  as untrusted data (``encoding.decode`` validates every field).
- Its verdicts count for nothing: no verdict, count or comparison is taken from the kernel. The kernel only
  reports answers on hidden inputs; the grader makes the same inputs from the same seed and compares. A
  monkeypatched comparison, check or ``numpy`` in the kernel changes nothing in the grader; patching the case
  generator in the kernel only makes its answers answer other questions (they fail).
- The hidden inputs come from a secret seed per exercise (``OUTDIR/.work/secret``), sent to the kernel only after
  all of the learner's cells have run. The learner's function sees the inputs of its cases, as any function does;
  the reference answers never enter the kernel.
- What the kernel can forge: the facts only it can see, the kind of the returned object (a Tensor or an array),
  whether it changed its inputs, whether numpy warned, and whether the result was connected to its inputs. The
  answer's numbers and gradients are still compared in the grader against references it computed itself: forging
  these facts can make a right-valued answer of the wrong kind pass, never a wrong answer right; what it can gain
  is what a one-line honest fix (wrapping the value in a tensor) would have earned.
- The reference implementations are importable in the kernel (the notebook's ``use`` needs them to stand in for
  unsolved exercises). Calling the reference of the exercise being graded is caught twice: the grader refuses an
  exercise cell whose code names the course package, a reference, the registry, ``use`` or the solutions
  (``layout.FORBIDDEN``), and the kernel's tripwires mark a case in which the reference was called from the
  learner's code (a hostile kernel can defeat a tripwire; the static scan sits outside its reach). The same
  tripwires, installed before any learner code runs, note a call into the library's own implementation of what an
  exercise says to write yourself (``Exercise.forbid``); like every fact of the kernel's, a hostile kernel can
  hide it. Code that
  introspects the interpreter, builds code at run time, touches files, processes or the network, or assigns to
  module attributes keeps its points but flags the submission for the instructor (``layout.SUSPICIOUS``).
- Files: with bubblewrap, the kernel sees only the system, Python, the virtual environment and the package,
  read-only, and its scratch folder; the solutions, the other submissions and OUTDIR (the secret, the results)
  are not there, and there is no network. Without bubblewrap ("limits only", said in summary.md and
  results.json) the kernel runs as an unprivileged user of its own when the grader is root, so it cannot write
  the grader's files or read OUTDIR (made private), but it can read world-readable files such as the solutions:
  install bubblewrap. That user must reach the interpreter, the virtual environment and the package: a course
  in a private folder (``mktemp -d``, a home folder) graded as root without bubblewrap is refused before grading
  starts, in one line that names the folder and the fixes (bubblewrap binds what the kernel needs at its real
  place, symbolic links included, and makes the folders above it passable inside its namespace).
- Version skew is not an attack but would look like one: the kernel reports a hash of the course's code it
  loaded; if the course changed during the run, grading stops with an error instead of judging answers to other
  cases (``session.CourseChanged``), and stored grades are only reused for the same code.
"""
import re
import sys
from pathlib import Path

from . import adjust, judge, layout, report
from . import roster as rosters
from .errors import UsageError
from .grader import Grader, Settings, grade_all
from .local import OneMachine

__all__ = ["Settings", "default_solutions", "grade"]


def default_solutions():
    """The course's solutions folder: next to the package (a checkout), else ./solutions."""
    beside = Path(__file__).resolve().parents[3] / "solutions"
    return beside if beside.is_dir() else Path("solutions")


def no_solutions(solutions):
    """What to say when ``solutions`` is no folder: the course installed from a wheel carries no solutions."""
    return (f"no solutions folder at {solutions}: grading needs the course's solution notebooks, the solutions/ "
            "folder of a clone of the course's repository (the installed package does not carry them); give its "
            "path with --solutions")


def points_table(wanted=(), solutions=None):
    """[(lesson name, [(exercise id, points)])] for the lessons ``wanted`` (as ``--lesson`` names them; all when
    empty) in the solutions folder: what ``grade`` gives each exercise at most, known before any grading (an LMS
    assignment's maximum, a syllabus). A UsageError names an unknown lesson or a missing folder."""
    from .. import checks, exercises  # (exercises: registers every lesson's checks)
    solutions = Path(solutions) if solutions else default_solutions()
    if not solutions.is_dir():
        raise UsageError(no_solutions(solutions))
    lessons = layout.load_lessons(solutions)
    if not lessons:
        raise UsageError(f"{solutions} holds no solution notebooks")
    names = sorted({resolve_lesson(w, lessons) for w in wanted}) if wanted else sorted(lessons)
    return [(name, [(e, checks.REGISTRY[e].points) for e in lessons[name].exercises if e in checks.REGISTRY])
            for name in names]


def resolve_lesson(requested, lessons):
    """The lesson that ``--lesson requested`` names: its name (``01_forward_pass``), its number with or without the
    zero (``01``, ``1``), with a prefix (``lesson01``, ``lesson1``, ``L01``), or its notebook's file name or path
    (``01_forward_pass.ipynb``, ``lessons/01_forward_pass.ipynb``). A UsageError lists the lessons otherwise."""
    if requested is None:
        return None
    if requested in lessons:
        return requested
    text = Path(requested).name
    if text.lower().endswith(".ipynb"):
        text = text[:-len(".ipynb")]
    if text in lessons:
        return text
    number = re.fullmatch(r"(?:lesson|l)?[ _-]?0*(\d+)", text.strip(), re.IGNORECASE)
    matches = [name for name, lesson in lessons.items()
               if (number and lesson.number is not None and int(lesson.number) == int(number.group(1)))
               or (not number and name.startswith(text))]
    if len(matches) == 1:
        return matches[0]
    raise UsageError(f"--lesson {requested}: no such lesson (give its number, e.g. 1 or 01, or its name; known: "
                     f"{', '.join(sorted(lessons))})")


def grade(submissions, outdir, settings=None, solutions=None, sandbox="auto", progress=None, announce=None,
          cluster=None, roster=None, overrides=None, late_penalty=None, late_grace=0.0):
    """Grade the notebooks in ``submissions`` (paths of notebooks or folders) into ``outdir``; returns the results
    (GradedSubmissions, ``graded.py``).

    ``settings``: a Settings (limits, jobs, lesson); ``sandbox``: "auto", "bwrap" or "none"; ``progress(k, n,
    result, seconds)`` is called as each submission is done (seconds None when its stored grade was reused);
    ``announce(text)`` is told the sandbox in use before the first kernel starts. ``cluster``: None to grade on
    this machine, else "local:N" or a Dask scheduler's address, whose workers run the kernels (``cluster.py``).
    Applied after judging, never stored with a grade (``adjust.py``): ``roster``, a CSV file of the class
    (``roster.py``: every learner gets a row, "missing" without a notebook); ``overrides``, a CSV file of points
    set by hand; ``late_penalty``, the fraction of the total taken per day late, after ``late_grace`` hours. The
    results returned are those reported: one per learner and lesson, the roster's missing ones included.
    """
    try:  # before anything is written: the files of the command line that cannot be used
        policy = adjust.Policy.load(roster, overrides, late_penalty, late_grace)
    except rosters.InputError as e:
        raise UsageError(str(e)) from None
    if cluster is None:
        return _grade(submissions, outdir, settings, solutions, OneMachine(sandbox), progress, announce, policy)
    from . import cluster as on_cluster  # (imports no Dask until it connects)
    connection = on_cluster.Connection(cluster)
    with connection:  # (its client, and the LocalCluster it started, closed at the end)
        return _grade(submissions, outdir, settings, solutions, on_cluster.Dask(connection, sandbox), progress,
                      announce, policy)


def _grade(submissions, outdir, settings, solutions, runner, progress, announce, policy=None):
    """``grade``, its kernels run by ``runner`` (``grader.Runner``: this machine or a Dask cluster)."""
    settings, policy = settings or Settings(), policy or adjust.Policy()
    lessons, subs, whose, outdir = _read_class(submissions, outdir, settings, solutions, policy)
    if settings.regrade not in (None, "all", "incidents") and all(s.learner != settings.regrade for s in subs):
        known = ", ".join(sorted({s.learner for s in subs})[:5])
        raise UsageError(f"--regrade {settings.regrade}: no such learner among the submissions (give all, incidents "
                         f"or a learner id as the gradebook writes it{', e.g. ' + known if known else ''})")
    # after the input's own faults, before anything is written: where no kernel can start (a course in a private
    # folder graded as root without bubblewrap, a Dask worker with another course version), one line says why
    chosen, lines = runner.sandbox(needed=any(sub.status is None for sub in subs))
    for line in lines if announce else []:
        announce(line)
    if not outdir.exists():
        outdir.mkdir(parents=True)
        outdir.chmod(0o700)  # grades are private, and no kernel without bubblewrap should read earlier results
    work = outdir / ".work"
    work.mkdir(mode=0o700, exist_ok=True)
    if announce:
        announce(f"sandbox: {chosen.description}")
    for line in whose + rosters.strangers(subs) if announce else []:
        announce(line)
    grader = Grader(settings, lessons, chosen, work, kernels=runner.kernels)
    if any(sub.status is None and (grader.cached(sub) is None or not grader.reuse(sub, grader.cached(sub)))
           for sub in subs):  # before the first kernel: every place that runs kernels proves it can (probe.py)
        chosen = runner.probe(grader, lessons, announce)
    done = []  # the submissions finished so far: the progress line counts them, in the order they finish

    def told(k, sub, result, seconds):
        done.append(k)
        progress(len(done) - 1, len(subs), result, seconds)
    results = grade_all(grader, subs, runner, progress and told)
    results, unapplied = adjust.finish(subs, results, lessons, policy, settings.lesson)
    for line in unapplied if announce else []:
        announce(line)
    judge.mask_hidden(results)  # once, before any report: the reports show the learners only what it leaves them
    report.write_all(outdir, results, lessons, chosen.description, settings)
    return results


def _read_class(submissions, outdir, settings, solutions, policy):
    """(lessons, the submissions to grade, the lines that say whose each is, OUTDIR as a Path): the command line's
    inputs read and checked, each fault a UsageError in one line, before anything is written. ``settings.lesson``
    becomes the lesson that ``--lesson`` names."""
    solutions = Path(solutions) if solutions else default_solutions()
    if not solutions.is_dir():
        raise UsageError(no_solutions(solutions))
    for path in submissions:
        if not Path(path).exists():
            raise UsageError(f"{path}: no such file or folder")
        if Path(path).is_file() and Path(path).suffix.lower() != ".ipynb":
            unpack = " (unpack the LMS's zip and grade its folder)" if Path(path).suffix.lower() == ".zip" else ""
            raise UsageError(f"{path} is not a notebook: give the class's notebooks (.ipynb) or the folders that "
                             f"hold them{unpack}")
    lessons = layout.load_lessons(solutions)
    if not lessons:
        raise UsageError(f"{solutions} holds no solution notebooks")
    settings.lesson = resolve_lesson(settings.lesson, lessons)
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"--out {outdir} is a file, not a folder")
    found, _ = layout.find_notebooks(submissions, exclude=[outdir], lessons=lessons)
    if not found:  # a mistyped folder must not write a class of zeros (with a roster) over real grades
        raise UsageError(f"no notebook (.ipynb) in {', '.join(map(str, submissions))}: is it the folder of the "
                         "class's submissions? Nothing was graded or written")
    subs = [layout.read_submission(path, shown, learner, lessons) for path, shown, learner in found]
    if settings.lesson:  # a class's folder for one lesson: a notebook that names no lesson is that lesson's
        for sub in subs:
            if sub.status == "unknown lesson":
                sub.lesson, sub.status, sub.problem = settings.lesson, None, None
                sub.notes.append(f"neither its metadata nor its file name names a lesson: graded as {settings.lesson} "
                                 "(--lesson)")
    try:  # whose each notebook is (roster.py), one per learner and lesson (layout.choose); overrides that fit them
        rosters.identify(subs, policy.roster)
        subs, whose = layout.choose(subs, lessons, settings.lesson)
        adjust.check_overrides(policy, {s.learner for s in subs} | {m[1] for s in subs for m in s.members}
                               | {x.id for x in (policy.roster.learners if policy.roster else [])}, lessons)
    except rosters.InputError as e:
        raise UsageError(str(e)) from None
    return lessons, subs, whose, outdir


def main_progress(k, n, result, seconds):
    how = "stored grade" if seconds is None else f"{seconds:.1f} s"
    if result.status == "not graded":  # no grade at all, not a 0: the reason says whose fault (the machines')
        grade = f"not graded ({(result.reason or '')[:160]})"
    else:
        grade = f"{result.total:g}/{result.max:g} {result.status}"
    print(f"[{k + 1}/{n}] {result.learner} {result.lesson or '?'}: {grade} ({how})", flush=True,
          file=sys.stdout)
