"""After judging: whose each result is, the roster's rows for who handed in nothing, the instructor's overrides,
and the late rule, applied to the judged results in that order (``finish``).

None of it is stored with a grade (``OUTDIR/.work/done``) or is part of a grade's key: editing the roster or the
overrides file, or changing the late rule, and running the same command again changes the gradebooks and the
feedback at once, without grading anything again. results.json keeps both: the judged points and what was made of
them.

Overrides (``--overrides overrides.csv``), a CSV file with a header, its columns named in any case::

    learner,exercise,points,reason
    jdoe,01.dense_forward,3,the hidden cases' shapes were transposed in the handout
    bsmith,late,0,extension granted

``learner`` is an id as gradebook.csv writes it; ``exercise`` an exercise id (a column of gradebook.csv), whose
judged points ``points`` replaces (from 0 to the exercise's maximum), or ``late``, whose ``points`` is the number
of days late to count (0 waives the late penalty: an extension); ``reason`` (optional) is shown with it: in the
gradebook's notes ("override 01.dense_forward: 2 -> 3 (reason)") and in the learner's feedback ("points set by your
instructor"). A line that names no learner of the run, no exercise of the lessons, points outside 0..maximum, or
the same learner and exercise as an earlier line stops the command before grading, in one line naming it. An
override of an exercise that was not graded (the notebook unreadable, of another lesson, or not handed in) is not
applied: the learner's notes say so.

The late rule (``--late-penalty P``, ``--late-grace HOURS``). Days late: when the LMS says when the work was
submitted (Gradescope's export) and the roster says when it was due, the time after the due time and the grace,
in whole days rounded up (one minute late is one day); when Canvas marked the file LATE (which says nothing of how
late), 1 day; else 0 (nothing tells it: a file's time on disk is not used, it changes when files are copied). A
``late`` override sets the days. The penalty is the fraction P of the total (after overrides) per day, at most
all of it: with P = 0.1, 2 days late and 4 of 5 points judged, 4 - 0.8 = 3.2; a total is never negative. Days late
are recorded (gradebook.csv's ``late_days`` and ``penalty``) whenever anything tells them, also without
``--late-penalty``.
"""
import copy
import difflib
import math
from dataclasses import dataclass, field
from datetime import timedelta

from .graded import GradedSubmission
from .roster import InputError, Roster, late_by, read_table

NOT_GRADED = ("unreadable", "unknown lesson", "wrong lesson", "missing", "not graded")


@dataclass
class Override:
    """One line of the overrides file."""
    learner: str
    exercise: str
    points: float
    reason: str
    line: int
    path: str

    def where(self):
        return f"overrides {self.path} line {self.line}"


@dataclass
class Policy:
    """What ``finish`` applies after judging: the roster, the overrides, the late rule (P per day late, after a
    grace in hours)."""
    roster: Roster = None
    overrides: list = field(default_factory=list)
    late_penalty: float = None
    late_grace: float = 0.0

    @classmethod
    def load(cls, roster=None, overrides=None, late_penalty=None, late_grace=0.0):
        """The Policy of the command line's files and numbers; an InputError says what cannot be used."""
        if late_penalty is not None and not 0 <= late_penalty <= 1:
            raise InputError(f"--late-penalty {late_penalty:g}: a fraction of the total per day late, from 0 to 1 "
                             "(e.g. 0.1 for 10% a day)")
        if late_grace is not None and late_grace < 0:
            raise InputError(f"--late-grace {late_grace:g}: hours after the due time, 0 or more")
        return cls(Roster.load(roster) if roster else None, load_overrides(overrides) if overrides else [],
                   late_penalty, late_grace or 0.0)


def load_overrides(path):
    """The overrides in the CSV file ``path`` (see the module's docstring); an InputError names a line whose
    learner or exercise is empty, whose points are not a number, or that repeats an earlier line's learner and
    exercise."""
    what = "the overrides"
    overrides, seen = [], {}
    for line, row in read_table(path, what, ("learner", "exercise", "points"),
                                ("learner", "exercise", "points", "reason")):
        for column in ("learner", "exercise", "points"):
            if not row[column]:
                raise InputError(f"{what} {path} line {line}: no {column}")
        try:
            points = float(row["points"])
        except ValueError:
            raise InputError(f"{what} {path} line {line}: points {row['points']!r} is not a number") from None
        if not math.isfinite(points):
            raise InputError(f"{what} {path} line {line}: points {row['points']!r} is not a number")
        key = (row["learner"], row["exercise"])
        if key in seen:
            raise InputError(f"{what} {path} line {line}: {row['learner']} {row['exercise']} is also on line "
                             f"{seen[key]} (one line each)")
        seen[key] = line
        overrides.append(Override(row["learner"], row["exercise"], points, row["reason"], line, str(path)))
    return overrides


def check_overrides(policy, learners, lessons):
    """Stop before grading (an InputError naming the line) at an override of a learner not in ``learners`` (the
    run's learner ids), of an exercise of none of ``lessons``, or with points outside 0..the exercise's maximum
    (days late below 0)."""
    from .. import checks, exercises  # noqa: F401  (importing exercises registers every lesson's exercises)
    known = {e for lesson in lessons.values() for e in lesson.exercises if e in checks.REGISTRY}
    for o in policy.overrides:
        if o.learner not in learners:
            close = difflib.get_close_matches(o.learner, sorted(learners), n=1)
            hint = f"did you mean {close[0]}?" if close else "learner ids as gradebook.csv writes them"
            raise InputError(f"{o.where()}: no learner {o.learner} in this run ({hint})")
        if o.exercise == "late":
            if o.points < 0:
                raise InputError(f"{o.where()}: late {o.points:g}: the days late to count, 0 or more")
            continue
        if o.exercise not in known:
            close = difflib.get_close_matches(o.exercise, sorted(known), n=1)
            hint = (f"did you mean {close[0]}? An exercise id, or late" if close else
                    "an exercise id as gradebook.csv's columns name it, or late")
            raise InputError(f"{o.where()}: no exercise {o.exercise} ({hint})")
        top = checks.REGISTRY[o.exercise].points
        if not 0 <= o.points <= top:
            raise InputError(f"{o.where()}: {o.points:g} points for {o.exercise}, whose points go from 0 to {top:g}")


def _number(x):
    return f"{x:g}"


def _lesson_max(lessons, name):
    from .. import checks
    lesson = lessons.get(name)
    return float(sum(checks.REGISTRY[e].points for e in lesson.exercises if e in checks.REGISTRY)) if lesson else 0.0


def finish(subs, results, lessons, policy=None, lesson=None):
    """(the results to report, lines to print): the judged ``results`` of the submissions ``subs`` (in the same
    order; copies: stored grades stay as they were) with, in this order: whose they are (roster name and email,
    "not on the roster", the other notebooks of the lesson not graded), a copy for each other member of a
    Gradescope group, a row "missing" for each roster learner without a notebook of a lesson graded (``lesson``
    when one was asked for, else each lesson of a result), the overrides, then the late rule."""
    policy = policy or Policy()
    out, lines, context = [], [], {}
    for sub, judged in zip(subs, results):
        r = copy.deepcopy(judged)
        r.notes = list(r.notes) + list(sub.later)
        _identity(r, sub.person, sub.export.name if sub.export and sub.export.kind != "canvas" else "",
                  sub.export.email if sub.export else "", policy.roster and sub.on_roster is not False)
        if sub.others:
            r.others = list(sub.others)
        out.append(r)
        context[id(r)] = (sub.export, sub.person)
    taken = {(r.learner, r.counts_for) for r in out}
    for sub, r in zip(subs, list(out)):
        names = []
        for _, learner, person, name, email in sub.members:
            if (learner, r.counts_for) in taken:
                r.notes.append(f"{learner} is in this group submission and has a notebook of their own for "
                                  "this lesson: graded on their own")
                continue
            clone = copy.deepcopy(r)
            clone.learner, clone.others = learner, None
            clone.notes = [n for n in clone.notes if not n.startswith("not on the roster")]
            clone.notes.append(f"a group submission, graded once for {r.learner} and the group ({sub.shown})")
            _identity(clone, person, name, email, policy.roster and person is not None)
            if policy.roster and person is None:
                clone.notes.append(f"not on the roster ({name or email})")
            out.append(clone)
            context[id(clone)] = (sub.export, person)
            taken.add((learner, r.counts_for))
            names.append(learner)
        if names:
            r.notes.append(f"a group submission, also counted for {', '.join(names)}")
    if policy.roster:
        graded = [lesson] if lesson else sorted({r.counts_for for r in out if r.counts_for})
        maybe = {(sub.suggested.id, r.counts_for): r.path for sub, r in zip(subs, out) if sub.suggested}
        for person in policy.roster.learners:
            for name in graded:
                if (person.id, name) not in taken:
                    r = GradedSubmission(person.id, lesson=name, status="missing", max=_lesson_max(lessons, name),
                                         reason="no notebook of this lesson was handed in")
                    if (person.id, name) in maybe:  # (a private note: the instructor's, never in the feedback)
                        r.notes.append(f"not on the roster: {maybe[person.id, name]} may be theirs (its name is "
                                          "close to theirs): rename its folder and grade again")
                    _identity(r, person, "", "", True)
                    out.append(r)
                    context[id(r)] = (None, person)
    lines += _apply_overrides(out, policy)
    _apply_late(out, policy, context)
    return out, lines


def _identity(r, person, name, email, on_roster):
    """The name, email and SIS id an LMS import needs, from the roster (else the LMS's export), and whether on it."""
    name, email = (person.name, person.email) if person else (name, email)
    r.name, r.email, r.sis_id = name or None, email or None, (person.sis_id if person else "") or None
    if on_roster is not None:
        r.on_roster = bool(on_roster)


def _apply_overrides(results, policy):
    """Set the points the overrides give (noted in the results), and return a line for each that could not be."""
    lines = []
    for o in policy.overrides:
        if o.exercise == "late":
            continue
        mine = [r for r in results if r.learner == o.learner]
        target = next((r for r in mine for e in r.exercises if e.id == o.exercise), None)
        if target is None or target.status in NOT_GRADED:
            lesson = o.exercise.split(".", 1)[0]
            which = next((r for r in mine if r.counts_for.startswith(lesson)), None)
            why = (f"the notebook was not graded ({which.status})" if which
                   else f"{o.learner} has no notebook of its lesson in this run")
            text = f"override {o.exercise} not applied: {why}"
            if which:
                which.notes.append(text)
            lines.append(f"{o.where()}: {o.learner}: {text}")
            continue
        e = next(e for e in target.exercises if e.id == o.exercise)
        judged = e.points if e.judged_points is None else e.judged_points
        e.judged_points, e.points = judged, float(o.points)
        e.override = {"points": float(o.points), "reason": o.reason}
        if target.judged_total is None:
            target.judged_total = target.total
        target.overrides = (target.overrides or []) + [{"exercise": o.exercise, "judged": judged,
                                                        "points": float(o.points), "reason": o.reason}]
        target.total = round(sum(x.points for x in target.exercises), 2)
        target.notes.append(f"override {o.exercise}: {_number(judged)} -> {_number(o.points)}"
                               + (f" ({o.reason})" if o.reason else ""))
    return lines


def _apply_late(results, policy, context):
    """Days late and the penalty of each result, when anything in this run tells lateness (see the module's
    docstring); the total after the penalty."""
    days_set = {o.learner: o for o in policy.overrides if o.exercise == "late"}
    flagged = any(export is not None and export.late for export, _ in context.values())
    dues = policy.roster is not None and any(x.due is not None for x in policy.roster.learners)
    if policy.late_penalty is None and not flagged and not dues and not days_set:
        return
    grace = timedelta(hours=policy.late_grace)
    for r in results:
        export, person = context[id(r)]
        days, how = 0, ""
        delay = late_by(export.submitted if export else None, person.due if person else None)
        if delay is not None and delay > grace:
            days = math.ceil((delay - grace) / timedelta(days=1))
            after = f" and {_number(policy.late_grace)} h of grace" if policy.late_grace else ""
            how = (f"submitted {export.submitted.isoformat(sep=' ', timespec='minutes')}, due "
                   f"{_due_text(person.due)}{after}")
        elif export is not None and export.late and delay is None:
            days, how = 1, "Canvas marked it LATE, which does not say how late: counted as 1 day"
        if r.learner in days_set:  # the instructor's days replace those found (a waiver shows as such, below)
            o, found = days_set[r.learner], (f"; {_number(days)} by the submission" if days else "")
            days, how = o.points, "set by your instructor" + (f": {o.reason}" if o.reason else "") + found
        r.late_days, r.penalty = days, 0.0
        if days and r.status not in NOT_GRADED:
            fraction = min(1.0, (policy.late_penalty or 0.0) * days)
            penalty = round(fraction * r.total, 2)
            if r.judged_total is None:
                r.judged_total = r.total
            r.penalty, r.total = penalty, round(max(0.0, r.total - penalty), 2)
            rule = (f": penalty {_number(penalty)} point(s), {_number(100 * policy.late_penalty)}% of the total a "
                    "day" if policy.late_penalty else ": no late penalty in this run")
            r.late = f"{_number(days)} day(s) ({how}){rule}"
            r.notes.append(f"late: {r.late}")
        elif r.learner in days_set and r.status not in NOT_GRADED:  # 0 days set: no penalty, and everywhere said
            r.late = f"0 days ({how}): no penalty"
            r.notes.append(f"late: {r.late}")


def _due_text(due):
    if due.hour == 23 and due.minute == 59 and due.microsecond == 999999:
        return f"{due.date().isoformat()} (the end of the day)"
    return due.isoformat(sep=" ", timespec="minutes")
