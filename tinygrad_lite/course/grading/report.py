"""What grading writes to OUTDIR: the gradebooks, results.json, the feedback per learner and lesson (Markdown, and
the same as a web page), and the class summary with its plots (pass rates and mistakes, the totals per lesson, a
heatmap of learners by exercise). Everything is written from the results alone, sorted, without times or dates,
so that the same results give the same files. The results come masked (``judge.mask_hidden``, called once before
the reports): what a learner may see of each case is there already, and nothing here masks anything."""
import csv
import hashlib
import io
import json
import os
import re
from collections import Counter
from pathlib import Path

from ..display import hint_lines

MAX_CASES_SHOWN = 4


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _number(x):
    return f"{x:g}"


def safe_name(text):
    """A learner id or lesson as a file or folder name (two ids may give the same name: ``feedback_files``)."""
    name = re.sub(r"[^\w.-]+", "_", str(text)).strip("._") or "unnamed"
    return name[:100]


def feedback_files(results):
    """[the path of each result's feedback in OUTDIR, without .md or .html], in the order of ``results``:
    ``feedback/<learner>/<lesson>``, each learner's folder their own and each file one result's, also when two
    learner ids give one safe name, or names that differ only in case (a file system may not tell "Bob" from
    "bob"), or one learner has two results without a lesson. An id that is a safe name keeps it (the first in
    sorted order, of ids that differ only in case); another gets a short hash of its id; a second file of one
    learner's, its notebook's name."""
    folders, taken = {}, {}
    for learner in sorted({r.learner for r in results}, key=lambda x: (safe_name(x) != x, x)):
        name = safe_name(learner)
        if name.lower() in taken:
            name = f"{name[:90]}-{hashlib.sha256(learner.encode()).hexdigest()[:8]}"
        taken[name.lower()] = learner
        folders[learner] = name
    paths, used = [], set()
    for r in results:
        stem = safe_name(r.counts_for or "unknown")  # (a wrong lesson's: the lesson it was handed in for)
        path = f"feedback/{folders[r.learner]}/{stem}"
        if path.lower() in used:
            path = f"{path}-{safe_name(Path(r.path).stem)}"
        while path.lower() in used:
            path += "-2"
        used.add(path.lower())
        paths.append(path)
    return paths


def order(results):
    return sorted(results, key=lambda r: (r.lesson, r.learner, r.path))


def exercise_columns(results, lessons):
    columns = []
    for name in sorted(lessons):
        columns += [e for e in lessons[name].exercises if any(x.id == e for r in results for x in r.exercises)
                    or any(r.counts_for == name for r in results)]
    return list(dict.fromkeys(columns))


def gradebook(results, lessons):
    """A row per learner and lesson: the points of each exercise (after overrides), the total (after overrides and
    the late penalty), max, status, the days late and the penalty (when the run tells lateness: ``adjust.py``) and
    the notes: why it was not graded, the incidents, why an exercise got no answer (``exercise_notes``), the
    overrides and the rest."""
    columns = exercise_columns(results, lessons)
    late = any(r.late_days is not None for r in results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["learner", "lesson", *columns, "total", "max", "status", *["late_days", "penalty"] * late,
                     "notes"])
    for r in order(results):
        points = {e.id: _number(e.points) for e in r.exercises}
        own = set(lessons[r.counts_for].exercises) if r.counts_for in lessons else set()
        row = [points.get(c, "0" if c in own else "") for c in columns]
        notes = "; ".join([r.reason] * bool(r.reason) + r.incidents + exercise_notes(r)
                          + r.notes)
        total = "" if r.status == FAULT else _number(r.total)  # no grade yet, not a 0 (see FAULT)
        lateness = [_number(r.late_days or 0), _number(r.penalty or 0)] * late
        writer.writerow([r.learner, r.counts_for, *row, total, _number(r.max), r.status, *lateness,
                         notes.replace("\n", " ")[:500]])
    return out.getvalue()


def exercise_notes(r):
    """One short line per exercise that got no answer to judge (undefined: e.g. its cell has a syntax error;
    refused): the first line of its reason and, when its cell raised, the error's last line. No hidden case is
    involved: the cell ran before the hidden inputs were made."""
    notes = []
    for e in r.exercises:
        if e.status in ("undefined", "refused"):
            first, _, rest = (e.reason or e.status).partition("; the cell raised an error:")
            error = [line.strip() for line in rest.strip().splitlines() if line.strip()][-1:]
            notes.append(f"{e.id} {e.status}: {_short(first.strip(), 120)}"
                         + (f" ({_short(error[0], 120)})" if error else ""))
    return notes


def lms(results):
    """One row per learner, one column per lesson (its total, after overrides and the late penalty; 0 for a roster
    learner who handed in nothing): the shape an LMS imports. With a roster (or names from an LMS's export), the
    name and email columns follow the learner's id, and "SIS User ID" when the roster gives one (what an LMS's
    grade import matches rows on)."""
    lessons = sorted({r.counts_for for r in results if r.counts_for})
    totals, people = {}, {}
    for r in order(results):
        if r.counts_for:
            totals.setdefault(r.learner, {})[r.counts_for] = "" if r.status == FAULT else _number(r.total)
        known = people.setdefault(r.learner, {})
        for key in ("name", "email", "sis_id"):
            if getattr(r, key):
                known.setdefault(key, getattr(r, key))
    named = any(r.on_roster is not None or r.name or r.email for r in results)
    sis = any(r.sis_id for r in results)  # the column an LMS's grade import matches on (Canvas's name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["learner", *["name", "email"] * named, *["SIS User ID"] * sis, *lessons])
    for learner in sorted(totals):
        who = [people[learner].get("name", ""), people[learner].get("email", "")] * named
        who += [people[learner].get("sis_id", "")] * sis
        writer.writerow([learner, *who, *[totals[learner].get(lesson, "") for lesson in lessons]])
    return out.getvalue()


def feedback(r):
    """The learner's feedback for one lesson, in Markdown: never a hidden input or a reference answer."""
    lines = [f"# {r.counts_for or 'Unknown lesson'}: feedback for {r.learner}", "", *feedback_header(r)]
    for e in r.exercises if r.status not in NOT_GRADED else []:
        lines += exercise_feedback(e)
    return "\n".join(lines)


NOT_GRADED = ("unreadable", "unknown lesson", "wrong lesson", "missing")
MISSING = "missing"  # a roster learner who handed in no notebook of the lesson (adjust.py): not a submission
# The notes that are the instructor's alone (a flag to review, the roster's word), or that the feedback says in its
# own place (the late penalty, points set by the instructor).
PRIVATE_NOTES = ("to review", "not on the roster", "late: ", "override ")
# A submission that a fault of the grading machines kept from being graded (grader.NOT_GRADED): no total in the
# gradebooks (an empty cell, not a 0), and feedback that says it is not the learner's doing; the next run grades it.
FAULT = "not graded"


def next_step(r):
    """What a learner whose notebook was not graded can do about it (one sentence), by the reason: the message
    alone ("not valid notebook JSON") leaves them guessing what to hand in instead."""
    lesson = r.counts_for  # (the lesson it was handed in for, when it is another's)
    file = f"{lesson}.ipynb" if lesson else "NN_name.ipynb"
    lesson = lesson.split("_")[0] if lesson else lesson
    if r.status == "unreadable":
        return ("What to do: hand in the .ipynb file itself (not a PDF, a zip, a screenshot or a link): open your "
                f"notebook in JupyterLab, save it (File > Save Notebook), and submit that file, {file}, again. If "
                "JupyterLab cannot open it either, look for a copy in lessons/.backup/ (tinygrad-lite update keeps "
                "one of each notebook it changes there), or ask your instructor.")
    if r.status == "unknown lesson":
        return ("What to do: submit the lesson's notebook as the course gave it to you, under its own name (for "
                "example 03_backward_pass.ipynb): a notebook made anew, or one whose name was changed, says no lesson.")
    if r.status == "wrong lesson":
        return f"What to do: submit your notebook of lesson {lesson}, {file}, for this assignment."
    if r.status == MISSING:
        return (f"What to do: if you handed one in, ask your instructor which name it was found under; else submit "
                f"{file}.")
    return ""


def feedback_header(r):
    """The lines of a submission's feedback before its exercises: the total and the notes (or why it was not
    graded). The notes for the instructor ("to review: ...") are left out."""
    if r.status == FAULT:
        return [f"**Not graded yet:** the grading machines failed ({r.reason or ''}), not your notebook. It "
                "will be graded when your instructor runs the grader again.", ""]
    if r.status in NOT_GRADED:
        return [f"**Not graded ({r.status}):** {r.reason or ''}", "", *[next_step(r), ""] * bool(next_step(r)),
                f"Points: 0 of {_number(r.max)}.", ""]
    lines = [f"**Total: {_number(r.total)} of {_number(r.max)} points.**", ""]
    lines += [line for line in adjustments(r) for line in (line, "")]
    for note in r.notes:
        if not note.startswith(PRIVATE_NOTES):
            lines += [f"Note: {note}", ""]
    return lines


def adjustments(r):
    """What the learner is told of the changes made to the judged points (``adjust.py``): the points the instructor
    set, and the late penalty, each a sentence."""
    lines = []
    for o in (r.overrides or []):
        lines.append(f"Points set by your instructor: {o['exercise']}, {_number(o['points'])} instead of "
                     f"{_number(o['judged'])}" + (f" ({o['reason']})." if o["reason"] else "."))
    if r.late:
        lines.append(f"Late: {r.late}; the total above is after it ({_number(round(r.total + r.penalty, 2))}"
                     " before)." if r.penalty else f"Late: {r.late}.")
    return lines


def exercise_report(e):
    """What the learner is told about one exercise, in parts that the Markdown (``exercise_feedback``) and the
    HTML (``exercise_html``) lay out alike, so that the two never say different things: ``heading`` (its points
    and status), ``reason`` (why it was not run: missing, refused, undefined; else None), ``summary`` (the cases
    passed, those not counted, the notes), ``closing`` (a last sentence instead of cases, for "not attempted"),
    ``cases`` ([(where, status, detail)] of the first cases not passed, ``detail`` "" when it would only repeat
    the status), ``more`` (how many more were not passed), ``hints`` ([(label, hint)]) and ``override`` (the
    sentence that says the instructor set its points, or None). A hidden case shows what ``judge.mask_hidden`` left
    of it (``shown``, ``learner_hints``)."""
    unit = "point" if e.max == 1 else "points"
    report = {"heading": f"{e.id}: {_number(e.points)} of {_number(e.max)} {unit} ({shown_status(e)})",
              "reason": None, "summary": [], "closing": None, "cases": [], "more": 0, "hints": [], "override": None}
    if e.override:
        reason = e.override["reason"]
        report["override"] = (f"Points set by your instructor: {_number(e.points)} (the grader gave "
                              f"{_number(e.judged_points)})" + (f": {reason}" if reason else "")
                              + "." * (not reason.endswith((".", "!", "?"))))
    if e.status in ("missing", "refused", "undefined"):
        report["reason"] = _learner_reason(e.reason)
        return report
    cases = e.cases
    summary = report["summary"]
    summary.append(f"Passed {e.passed_cases} of {e.total_cases} cases "
                   "(the example shown in the notebook and hidden cases).")
    left_out = [f"{where} (its answer is in the notebook)" if visible else f"{where} ({why} would pass it)"
                for where, why, visible in (e.left_out or [])]
    if left_out and e.status not in ("passed", "not attempted") and e.points < e.max:  # (only where it explains)
        summary.append("Points are earned only by the cases that no trivial answer (zeros, ones, a constant, an "
                       "input returned unchanged, the example's answer) passes; these earn nothing when passed, "
                       "but count against you when failed: " + "; ".join(left_out) + ".")
    for note in e.notes:
        summary.append(f"Note: {note}.")
    if e.status == "not attempted":
        report["closing"] = "Not attempted: the exercise cell still raises NotImplementedError."
        return report
    failing = [c for c in _masked(cases) if c.status != "passed"]
    for c in failing[:MAX_CASES_SHOWN]:
        report["cases"].append((c.shown_where, c.status, c.shown if c.shown != c.status else ""))
    report["more"] = max(0, len(failing) - MAX_CASES_SHOWN)
    report["hints"] = learner_hints(cases)
    return report


def exercise_feedback(e):
    """The lines of one exercise's feedback (a ``## `` heading with its points and status, then what failed and
    why, and the hints), as the learner may see them."""
    report = exercise_report(e)
    lines = [f"## {report['heading']}", ""] + [report["override"], ""] * bool(report["override"])
    if report["reason"] is not None:
        return lines + [report["reason"], ""]
    lines += report["summary"] + [""]
    if report["closing"]:
        return lines + [report["closing"], ""]
    for where, status, detail in report["cases"]:
        lines.append(f"- {where}: {status}" + (". " + detail.replace("\n", "\n  ") if detail else ""))
    if report["more"]:
        lines.append(f"- and {report['more']} more case(s) not passed.")
    if report["cases"]:
        lines.append("")
    hints = report["hints"]
    # (a paragraph each: Markdown joins lines that follow each other, and a hint need not end with a full stop)
    return lines + [line for label, hint in hints for line in (f"{label}: {hint}", "")]


def learner_hints(cases):
    """[(label, hint)] of the cases not passed, each hint once: "Hint" for a mistake's concept, "More" for its more
    concrete tiers (they come when the same mistake comes back in a later case); a hidden case's hint without its
    numbers (a hint may name an argument's value: ``masked_hints``)."""
    hints, seen = [], set()
    for c in _masked(cases):
        for (label, hint), key in zip(hint_lines(c.hints), c.masked_hints):
            if key not in seen:
                seen.add(key)
                hints.append((label, hint if c.visible else key))
    return hints


def _masked(cases):
    """``cases``, checked to hold what a learner may see of them (the results went through ``judge.mask_hidden``)."""
    if any(c.shown is None or c.masked_hints is None or c.shown_where is None for c in cases):
        raise ValueError("the results were not masked for the learners: judge.mask_hidden(results) comes first")
    return cases


def _learner_reason(reason):
    """An exercise's reason as its feedback shows it, cut short (it involves no hidden case: the cell ran before the
    hidden inputs were made)."""
    lines = reason.strip().splitlines()
    return "\n".join(line[:300] for line in lines[:12])


# -------------------------------------------------------------------- the feedback as a web page
# The same feedback as the Markdown, as one self-contained page a learner opens in a browser or an LMS shows: its
# style inline (no file beside it, nothing fetched), no script, and every text escaped (a learner's own error
# message may hold "<script>"; a learner id too).
_STATUS_KIND = {"passed": "passed", "partial": "partial", "failed": "failed", "error": "error",
                "not attempted": "not-attempted", "missing": "not-run", "refused": "not-run", "undefined": "not-run"}
_PAGE_STYLE = """
body { margin: 0; background: #eef0f3; color: #1f2430;
       font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 900px; margin: 0 auto; padding: 28px 32px 40px; background: #fff; min-height: 100vh;
       box-sizing: border-box; }
h1 { font-size: 23px; line-height: 1.3; margin: 0 0 2px; }
.lesson { color: #5a6270; margin: 0 0 14px; }
.total { font-size: 18px; font-weight: 600; margin: 10px 0; }
.note { color: #3d4450; margin: 6px 0; }
table { border-collapse: collapse; width: 100%; margin: 14px 0 8px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid #e2e5ea; vertical-align: baseline; }
th { font-size: 13px; color: #5a6270; font-weight: 600; border-bottom: 2px solid #d5d9df; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
a { color: #1b4f9c; text-decoration: none; }
a:hover { text-decoration: underline; }
.status { display: inline-block; padding: 0 9px; border-radius: 10px; font-size: 13px; font-weight: 600;
          white-space: nowrap; background: #ece7f6; color: #4a2c8a; }
.status.passed { background: #e2f2e3; color: #1b5e20; }
.status.partial { background: #fff1c7; color: #6d4c00; }
.status.failed { background: #fde2e2; color: #a31b1b; }
.status.error { background: #ffe6d5; color: #9a3b00; }
.status.not-attempted { background: #e9ecef; color: #4a525c; }
.status.not-run { background: #f1e4e4; color: #7a3535; }
section.exercise { border: 1px solid #e2e5ea; border-left: 5px solid #7e57c2; border-radius: 4px;
                   padding: 12px 18px 6px; margin: 18px 0; }
section.passed { border-left-color: #2e7d32; }
section.partial { border-left-color: #d6a100; }
section.failed { border-left-color: #c62828; }
section.error { border-left-color: #e65100; }
section.not-attempted { border-left-color: #8a939e; }
section.not-run { border-left-color: #a15c5c; }
h2 { font-size: 17px; margin: 0 0 6px; }
h2 .points { font-weight: normal; color: #5a6270; margin: 0 8px; }
section p { margin: 6px 0; }
ul.cases { margin: 8px 0; padding-left: 22px; }
ul.cases li { margin: 8px 0; }
.where { font-weight: 600; }
.detail { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0 0; }
.detail.code { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: 13px;
               background: #f5f6f8; border-radius: 3px; padding: 6px 9px; }
.hint { background: #eaf2fc; border-left: 3px solid #1565c0; border-radius: 3px; padding: 7px 11px; margin: 10px 0; }
.hint b { color: #0d47a1; }
code { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em;
       background: #f0f2f5; border-radius: 3px; padding: 0 3px; }
footer { color: #6b7380; font-size: 13px; margin-top: 26px; border-top: 1px solid #e2e5ea; padding-top: 10px; }
.table { overflow-x: auto; }
@media (max-width: 600px) { main { padding: 18px 14px 28px; } th, td { padding: 6px 5px; } }
"""


def _html(text):
    """Text as HTML: escaped, with `backticked` words in the code font (as the notebook's verdicts show them)."""
    import html
    return re.sub(r"`([^`\n]+)`", r"<code>\1</code>", html.escape(str(text)))


def shown_status(e):
    """The status an exercise's feedback shows: the judged one, or, where the instructor set its points, what those
    points are (an exercise judged "passed" and set to 0 must not show a green "passed")."""
    if not e.override:
        return e.status
    return "passed" if e.points >= e.max else "failed" if e.points <= 0 else "partial"


def _status_html(status):
    return f'<span class="status {_STATUS_KIND.get(status, "incident")}">{_html(status)}</span>'


def _anchor(exercise_id):
    return "exercise-" + safe_name(exercise_id)


def exercise_html(e):
    """One exercise's feedback as an HTML section: the parts of ``exercise_report``, as the Markdown has them."""
    report = exercise_report(e)
    unit = "point" if e.max == 1 else "points"
    status = shown_status(e)
    kind = _STATUS_KIND.get(status, "incident")
    parts = [f'<section class="exercise {kind}" id="{_anchor(e.id)}">',
             f'<h2>{_html(e.id)}<span class="points">{_number(e.points)} of {_number(e.max)} {unit}</span>'
             f'{_status_html(status)}</h2>']
    if report["override"]:
        parts.append(f'<p class="note"><b>{_html(report["override"])}</b></p>')
    if report["reason"] is not None:  # (with the cell's traceback, when it raised: that part reads as code)
        font = " code" if "\n" in report["reason"] else ""
        return "\n".join(parts + [f'<div class="detail{font}">{_html(report["reason"])}</div>', "</section>"])
    parts += [f"<p>{_html(line)}</p>" for line in report["summary"]]
    if report["closing"]:
        return "\n".join(parts + [f"<p>{_html(report['closing'])}</p>", "</section>"])
    if report["cases"]:
        parts.append('<ul class="cases">')
        for where, status, detail in report["cases"]:
            font = " code" if status == "error" else ""  # a traceback reads as code; an explanation as text
            shown = f'<div class="detail{font}">{_html(detail)}</div>' if detail else ""
            parts.append(f'<li><span class="where">{_html(where)}</span>: {_status_html(status)}{shown}</li>')
        if report["more"]:
            parts.append(f"<li>and {report['more']} more case(s) not passed.</li>")
        parts.append("</ul>")
    parts += [f'<div class="hint"><b>{label}:</b> {_html(hint)}</div>' for label, hint in report["hints"]]
    return "\n".join(parts + ["</section>"])


def feedback_html(r):
    """The learner's feedback for one lesson as a self-contained web page: the total, a table of the exercises
    (points, status, cases passed, each linking to its section), then each exercise as the Markdown says it. No
    hidden input or reference answer, as in the Markdown."""
    lesson = r.counts_for or "Unknown lesson"
    body = [f"<h1>Feedback for {_html(r.learner)}</h1>", f'<p class="lesson">{_html(lesson)}</p>']
    if r.status == FAULT:
        body += ['<p class="total">Not graded yet</p>', f'<p class="note">The grading machines failed '
                 f'({_html(r.reason or "")}), not your notebook. It will be graded when your instructor runs '
                 'the grader again.</p>']
    elif r.status in NOT_GRADED:
        body += [f'<p class="total">Not graded ({_html(r.status)})</p>',
                 f'<p class="note">{_html(r.reason or "")}</p>',
                 *[f'<p class="note">{_html(next_step(r))}</p>'] * bool(next_step(r)),
                 f"<p>Points: 0 of {_number(r.max)}.</p>"]
    else:
        body.append(f'<p class="total">Total: {_number(r.total)} of {_number(r.max)} points</p>')
        body += [f'<p class="note">{_html(line)}</p>' for line in adjustments(r)]
        body += [f'<p class="note">Note: {_html(note)}</p>' for note in r.notes
                 if not note.startswith(PRIVATE_NOTES)]
        body += ['<div class="table"><table>', '<thead><tr><th>exercise</th><th class="num">points</th><th>status</th>'
                 '<th class="num">cases passed</th></tr></thead>', "<tbody>"]
        for e in r.exercises:
            cases = f"{e.passed_cases} of {e.total_cases}" if e.total_cases else "-"
            body.append(f'<tr><td><a href="#{_anchor(e.id)}">{_html(e.id)}</a></td>'
                        f'<td class="num">{_number(e.points)} of {_number(e.max)}</td>'
                        f'<td>{_status_html(shown_status(e))}</td><td class="num">{cases}</td></tr>')
        body += ["</tbody>", "</table></div>"]
        body += [exercise_html(e) for e in r.exercises]
        body.append("<footer>Each exercise runs on the example shown in the notebook and on hidden cases. A hidden "
                    "case's inputs and answers are not shown: a number taken from one is written …</footer>")
    title = _html(f"{lesson}: feedback for {r.learner}")
    return "\n".join(['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{title}</title>",
                      f"<style>{_PAGE_STYLE}</style>", "</head>", "<body>", "<main>", *body, "</main>", "</body>",
                      "</html>", ""])


def missing_line(absent):
    """The line that counts the roster's learners who handed in nothing (``absent``: their "missing" results, one
    per learner and lesson), said once on the command line and in summary.md."""
    return (f"{len({r.learner for r in absent})} roster learner(s) handed in nothing for a lesson graded "
            f"({len(absent)} notebook(s) missing): 0 points, status missing")


def summary(results, lessons, sandbox, settings):
    lines = ["# Grading summary", "",
             f"Sandbox: {sandbox}.", "",
             f"Limits: {settings.timeout:g} s per cell and per exercise, {settings.total_timeout:g} s per "
             f"submission, {settings.memory} MB of memory, {settings.max_output} MB of output.", ""]
    absent = [r for r in results if r.status == MISSING]
    results = [r for r in results if r.status != MISSING]  # the submissions; the absent have a section below
    statuses = Counter(r.status for r in results)
    maps = heatmaps(results)
    lines += [f"{len(results)} submission(s): " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())), ""]
    if absent:
        lines += [f"{missing_line(absent)} (named under 'Missing').", ""]
    if statuses.get(FAULT):
        lines += [f"**{statuses[FAULT]} submission(s) not graded** for a fault of the grading machines (named under "
                  "'Not graded'): no grade was stored for them; fix the machines and run the same command again.",
                  ""]
    for name in sorted({r.lesson for r in results if r.lesson}):
        mine = [r for r in results if r.lesson == name and r.status not in ("wrong lesson", FAULT)]
        if not mine:
            continue
        graded = [r for r in mine if r.exercises]
        mean = sum(r.total for r in mine) / len(mine)
        top = max((r.max for r in mine), default=0)
        judged = _judged(mine)
        lines += [f"## {name}", "", f"{len(mine)} submission(s), mean total {mean:.2f} of {_number(top)}"
                  + (f" (the {len(mine) - judged} unreadable as 0); the table is of the {judged} graded." if
                     judged < len(mine) else "."), "",
                  "| exercise | points | passed (all cases, as judged) | mean points (after overrides) | most "
                  "frequent mistakes (hints fired) |",
                  "|---|---|---|---|---|"]
        for row in exercise_stats(mine, lessons.get(name)):
            mistakes = "<br>".join(f"{n}x {_short(h)}" for h, n in row["mistakes"][:3]) or "-"
            lines.append(f"| {row['id']} | {_number(row['max'])} | {row['passed']}/{row['n']} "
                         f"({100 * row['rate']:.0f}%) | {row['mean']:.2f} | {mistakes} |")
        lines.append("")
        incidents = Counter(e.status for r in graded for e in r.exercises
                            if e.status not in ("passed", "partial", "failed", "error", "not attempted"))
        if incidents:
            lines += ["Exercises stopped by an incident, refused or missing: " + ", ".join(
                f"{n} {s}" for s, n in sorted(incidents.items())) + " (named below).", ""]
        for lesson, file, _, which in maps:
            if lesson == name:
                lines += [f"![{name}: share of each exercise's points per learner, {which}]({file})", ""]
    flagged = [r for r in order(results) if r.status == "flagged"]
    if flagged:
        lines += ["## To review", ""]
        lines += [f"- {r.learner} ({r.lesson}): " + "; ".join(n for n in r.notes if n.startswith("to review"))
                  for r in flagged]
        lines.append("")
    lines += problems(results)
    lines += class_lines(results + absent)
    lines += ["![totals per lesson](summary-totals.png)", "",
              "![pass rate per exercise and the most frequent mistakes](summary.png)", ""]
    return "\n".join(lines)


ROUTINE = ("passed", "partial", "failed", "error", "not attempted")  # an exercise's statuses that need no one's look


def class_lines(results):
    """The summary's lines about the class rather than the code (``adjust.py``, ``layout.choose``), each a
    section only when it has a row: the roster learners who handed in nothing, the notebooks whose learner is
    not on the roster, the learners' other notebooks of a lesson that were not graded, the points set by the
    instructor, and who was late."""
    lines = []
    absent = [r for r in order(results) if r.status == MISSING]
    if absent:
        lines += ["## Missing", "", "On the roster, no notebook handed in (0 points):", ""]
        lessons = sorted({r.lesson for r in absent})
        for lesson in lessons:
            names = [r.learner + (f" ({r.name})" if r.name else "") for r in absent
                     if r.lesson == lesson]
            lines.append(f"- {lesson}: {', '.join(names)}")
        lines.append("")
    strangers = [r for r in order(results) if r.on_roster is False]
    if strangers:
        lines += ["## Not on the roster", "", "Graded all the same, under the name the notebook gave:", "",
                  "| learner | lesson | file | note |", "|---|---|---|---|"]
        lines += [f"| {_short(r.learner, 60)} | {r.lesson} | {_short(r.path, 80)} | "
                  f"{_short(next((n for n in r.notes if n.startswith('not on the roster')), '-'), 160)} |"
                  for r in strangers]
        lines.append("")
    seconds = [r for r in order(results) if r.others]
    if seconds:
        lines += ["## Other notebooks not graded", "", "A learner's notebooks of one lesson are graded once: "
                  "the one graded and why are in the notes.", "", "| learner | lesson | graded | not graded |",
                  "|---|---|---|---|"]
        lines += [f"| {_short(r.learner, 60)} | {r.lesson} | {_short(r.path, 80)} | "
                  f"{_short(', '.join(r.others), 160)} |" for r in seconds]
        lines.append("")
    overridden = [(r, o) for r in order(results) for o in (r.overrides or [])]
    if overridden:
        lines += ["## Overrides", "", "| learner | lesson | exercise | judged | set | reason |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {_short(r.learner, 60)} | {r.lesson} | {o['exercise']} | {_number(o['judged'])} | "
                  f"{_number(o['points'])} | {_short(o['reason'] or '-', 120)} |" for r, o in overridden]
        lines.append("")
    late = [r for r in order(results) if r.late]
    if late:
        lines += ["## Late", "", "| learner | lesson | days late | penalty | how it is known |",
                  "|---|---|---|---|---|"]
        lines += [f"| {_short(r.learner, 60)} | {r.lesson} | {_number(r.late_days)} | "
                  f"{_number(r.penalty)} | {_short(r.late, 160)} |" for r in late]
        lines.append("")
    return lines


def problems(results):
    """The summary's lines that name who met a problem, so that the instructor can act on each (a count alone says
    "1 undefined" and leaves the search to them): the exercises stopped by an incident (a time-out, a crash, too
    much output; any status other than the routine ones and those below), the undefined answers, the refused or
    missing exercise cells, and the submissions not graded. A table each (learner, lesson, exercise, reason),
    only when it has a row."""
    kinds = (("Incidents", "what happened", lambda s: s not in ROUTINE + ("undefined", "refused", "missing")),
             ("Undefined answers", "reason", lambda s: s == "undefined"),
             ("Refused or missing exercises", "reason", lambda s: s in ("refused", "missing")))
    lines = []
    for title, column, wanted in kinds:
        rows = [(r, e) for r in order(results) for e in r.exercises if wanted(e.status)]
        if rows:
            lines += [f"## {title}", "", f"| learner | lesson | exercise | status | {column} |",
                      "|---|---|---|---|---|"]
            lines += [f"| {_short(r.learner, 60)} | {r.lesson} | {e.id} | {e.status} | "
                      f"{_short(e.reason or '-', 160)} |" for r, e in rows]
            lines.append("")
    skipped = [r for r in order(results) if r.status in ("unreadable", "unknown lesson", FAULT)]
    if skipped:
        lines += ["## Not graded", "", "| learner | file | status | reason |", "|---|---|---|---|"]
        lines += [f"| {_short(r.learner, 60)} | {_short(r.path, 80)} | {r.status} | "
                  f"{_short(r.reason or '-', 160)} |" for r in skipped]
        lines.append("")
    return lines


def _short(text, n=110):
    """``text`` on one line, at most ``n`` characters, for a cell of a Markdown table (a "|" escaped: |d| stays)."""
    text = text.replace("\n", " ")
    text = text if len(text) <= n else text[:n - 1] + "…"
    return text.replace("|", "\\|")


def _judged(results):
    """How many of ``results`` were judged exercise by exercise: the denominator of a pass rate or a mean."""
    return sum(r.status not in ("unreadable", "unknown lesson", FAULT) for r in results)


def exercise_stats(results, lesson):
    ids = lesson.exercises if lesson else sorted({e.id for r in results for e in r.exercises})
    rows, n = [], _judged(results)  # (the same for every exercise)
    for exercise_id in ids:
        entries = [e for r in results for e in r.exercises if e.id == exercise_id]
        if not entries and not n:
            continue
        passed = sum(e.status == "passed" for e in entries)
        mistakes = Counter(h for e in entries for h in (e.mistakes or []))
        rows.append({"id": exercise_id, "max": entries[0].max if entries else 0, "n": n, "passed": passed,
                     "rate": passed / n if n else 0.0, "mean": sum(e.points for e in entries) / n if n else 0.0,
                     "mistakes": sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))})
    return rows


def plot(results, lessons, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows, mistakes = [], Counter()
    for name in sorted({r.lesson for r in results if r.lesson}):
        mine = [r for r in results if r.lesson == name and r.status not in ("wrong lesson", MISSING, FAULT)]
        for row in exercise_stats(mine, lessons.get(name)):
            rows.append(row)
            for hint, n in row["mistakes"]:
                mistakes[(row["id"], hint)] += n
    top = sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))[:8]
    height = max(3.0, 0.35 * len(rows) + 1.2) + max(2.0, 0.45 * len(top) + 1.0)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, height),
                                   gridspec_kw={"height_ratios": [max(1, len(rows)), max(1, len(top)) * 1.3]})
    labels = [r["id"] for r in rows][::-1]
    rates = [100 * r["rate"] for r in rows][::-1]
    ax1.barh(labels, rates, color="#2e7d32")
    ax1.set_xlim(0, 100)
    ax1.set_xlabel("submissions that pass every case (%)")
    ax1.set_title("Pass rate per exercise")
    for y, rate in enumerate(rates):
        ax1.text(min(rate + 1, 92), y, f"{rate:.0f}%", va="center", fontsize=8)
    if not rows:  # (every notebook unreadable, of another lesson or not graded: no exercise was judged)
        ax1.text(50, 0.5, "no exercise was judged", ha="center", va="center")
        ax1.set_ylim(0, 1)
        ax1.set_yticks([])
    if top:  # each hint written above its bar, across the panel (as tick labels they squeeze both panels)
        ax2.barh(range(len(top)), [n for _, n in top][::-1], color="#c62828", height=0.45)
        for y, ((exercise_id, hint), _) in enumerate(top[::-1]):
            ax2.text(0.004, y + 0.27, _short(f"{exercise_id}: {hint}", 110), fontsize=8, va="bottom",
                     transform=ax2.get_yaxis_transform())  # (x: a fraction of the panel, y: the bar)
        ax2.set_ylim(-0.5, len(top) - 0.05)
        ax2.set_yticks([])
        ax2.set_xlabel("submissions in which the hint fired")
        ax2.xaxis.get_major_locator().set_params(integer=True)
    else:
        ax2.text(0.5, 0.5, "no named mistake fired", ha="center", va="center")
        ax2.set_xticks([])
        ax2.set_yticks([])
    ax2.set_title("Most frequent named mistakes")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


# -------------------------------------------------------------------- the class at a glance: totals and a heatmap
HEATMAP_ROWS = 75  # learners per heatmap image at most: a row of 12 px keeps every name legible at dpi 100
_MARKS = {"not attempted": "–", "undefined": "?", "missing": "?", "refused": "?"}  # any other non-routine: "!"


def _by_lesson(results):
    """{lesson: its submissions}, as the summary counts them (a notebook of another lesson handed in for
    ``--lesson`` counts for none, nor does one not graded yet, nor a roster learner's missing one), in lesson
    order."""
    found = {}
    for r in results:
        if r.lesson and r.status not in ("wrong lesson", FAULT, MISSING):
            found.setdefault(r.lesson, []).append(r)
    return dict(sorted(found.items()))


def heatmaps(results):
    """[(lesson, file name, submissions, which)]: the heatmap images of the summary, one per lesson, or several
    for a lesson with more than HEATMAP_ROWS learners (parts of near-equal size, so that no image holds a few
    stragglers), each with its learners sorted by total, highest first. ``which`` says which learners an image
    holds, e.g. "learners 1-75 of 300 by total". Named from the results alone, so that the summary can link the
    images before they are drawn."""
    images = []
    for name, mine in _by_lesson(results).items():
        rows = sorted(mine, key=lambda r: (-r.total, r.learner, r.path))
        parts = -(-len(rows) // HEATMAP_ROWS)
        size = -(-len(rows) // parts)
        for k in range(parts):
            part = rows[k * size:(k + 1) * size]
            suffix = f"-{k + 1}" if parts > 1 else ""
            which = (f"learners {k * size + 1}-{k * size + len(part)} of {len(rows)} by total" if parts > 1
                     else f"{len(rows)} learner(s) by total")
            images.append((name, f"summary-heatmap-{safe_name(name)}{suffix}.png", part, which))
    return images


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_heatmap(lesson, exercise_ids, rows, which, path):
    """One heatmap: a row per submission (``rows``, in order), a column per exercise, the colour the share of the
    exercise's points earned (red 0, yellow half, green all; grey: not graded), a mark where the status says more
    than the points (– not attempted, ? undefined, refused or missing, ! an incident such as a time-out or a
    crash), and each row's total on the right. 1000 px wide at most (dpi 100), 12 px a row."""
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap
    plt = _pyplot()
    values = np.full((len(rows), len(exercise_ids)), np.nan)
    marks = []
    for i, r in enumerate(rows):
        entries = {e.id: e for e in r.exercises}
        for j, exercise_id in enumerate(exercise_ids):
            e = entries.get(exercise_id)
            if e is None:
                continue
            values[i, j] = e.points / e.max if e.max else np.nan
            if e.status not in ("passed", "partial", "failed", "error"):
                marks.append((i, j, _MARKS.get(e.status, "!")))
    colours = LinearSegmentedColormap.from_list("points", ["#d7301f", "#fdd96a", "#2e8b3c"]).with_extremes(
        bad="#c9ccd1")
    label = [(learner if len(learner) <= 28 else learner[:27] + "…") for learner in (r.learner for r in rows)]
    width = min(10.0, max(7.0, 3.4 + 0.85 * len(exercise_ids)))
    fig, ax = plt.subplots(figsize=(width, 0.12 * len(rows) + 2.3), layout="constrained")
    image = ax.imshow(values, cmap=colours, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    for i, j, mark in marks:
        ax.text(j, i, mark, ha="center", va="center", fontsize=8, fontweight="bold", color="#1f2430")
    ax.set_xticks(range(len(exercise_ids)), [e.split(".", 1)[-1] for e in exercise_ids], rotation=35, ha="left",
                  rotation_mode="anchor", fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), label, fontsize=7)
    totals = ax.secondary_yaxis("right")
    totals.set_yticks(range(len(rows)), [f"{_number(r.total)}/{_number(r.max)}" for r in rows], fontsize=7)
    totals.tick_params(length=0)
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(len(exercise_ids) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(rows) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_title(f"{lesson}\nshare of each exercise's points, {which}", fontsize=9, loc="left")
    bar = fig.colorbar(image, ax=ax, orientation="horizontal", fraction=0.04, pad=0.01, aspect=40)
    bar.set_ticks([0, 0.5, 1], labels=["0", "half", "all points"])
    bar.ax.tick_params(labelsize=7)
    bar.set_label("– not attempted   ? undefined, refused or missing   ! incident (time-out, crash, output)   "
                  "grey: not graded", fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def plot_totals(results, path):
    """A histogram of the submissions' totals per lesson (one small panel each, three a row, 1000 px wide), with the
    mean and the median: is a lesson too hard, or split into two groups?"""
    import numpy as np
    plt = _pyplot()
    groups = _by_lesson(results)
    columns = min(3, max(1, len(groups)))
    lines = -(-max(1, len(groups)) // columns)
    fig, axes = plt.subplots(lines, columns, figsize=(10, 2.5 * lines + 0.4), squeeze=False, layout="constrained")
    for ax in axes.flat[len(groups):]:
        ax.set_axis_off()
    if not groups:
        axes.flat[0].text(0.5, 0.5, "no submission graded", ha="center", va="center")
    for ax, (name, mine) in zip(axes.flat, groups.items()):
        totals = np.array([r.total for r in mine], dtype=float)
        top = max([r.max for r in mine] + [float(totals.max(initial=0)), 1.0])
        ax.hist(totals, bins=np.linspace(0, top, 21), color="#5b7db1", edgecolor="white", linewidth=0.5)
        mean, median = float(totals.mean()), float(np.median(totals))
        ax.axvline(mean, color="#c62828", linewidth=1.2, label=f"mean {mean:.2f}")
        ax.axvline(median, color="#1f2430", linewidth=1.2, linestyle="--", label=f"median {median:.2f}")
        ax.set_xlim(0, top)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"{name}\n{len(mine)} submission(s)", fontsize=9, loc="left")  # (a long name has its line)
        ax.set_xlabel(f"total (of {_number(top)} points)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    for ax in axes[:, 0]:
        ax.set_ylabel("submissions", fontsize=8)
    fig.suptitle("Totals per lesson", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def plot_class(results, lessons, outdir):
    """The summary's images beside summary.png: the totals' histograms and the heatmaps (``heatmaps``). A heatmap
    left from an earlier run (a class since split otherwise) is removed, so that the folder holds what the summary
    links and no more."""
    plot_totals(results, outdir / "summary-totals.png")
    drawn, groups = set(), _by_lesson(results)
    for name, file, rows, which in heatmaps(results):
        seen = {e.id for r in groups[name] for e in r.exercises}  # (the same columns in every part)
        lesson = lessons.get(name)
        ids = [e for e in lesson.exercises if e in seen] if lesson else []
        ids += sorted(seen - set(ids))
        plot_heatmap(name, ids or ["(none graded)"], rows, which, outdir / file)
        drawn.add(file)
    for old in outdir.glob("summary-heatmap-*.png"):
        if old.name not in drawn:
            old.unlink()


def write_all(outdir, results, lessons, sandbox, settings):
    outdir = Path(outdir)
    ordered = order(results)
    _write(outdir / "gradebook.csv", gradebook(ordered, lessons))
    _write(outdir / "lms.csv", lms(ordered))
    for r, path in zip(ordered, feedback_files(ordered)):
        r.feedback = path + ".md"
    document = {"grader": {"sandbox": sandbox, "timeout": settings.timeout, "total_timeout": settings.total_timeout,
                           "memory_mb": settings.memory, "max_output_mb": settings.max_output,
                           "solutions": {name: lessons[name].digest for name in sorted(lessons)}},
                "submissions": [r.to_json() for r in ordered]}
    _write(outdir / "results.json", json.dumps(document, indent=1, sort_keys=True) + "\n")
    for r in ordered:
        stem = outdir / r.feedback[:-len(".md")]
        _write(stem.with_name(stem.name + ".md"), feedback(r))
        _write(stem.with_name(stem.name + ".html"), feedback_html(r))
    _write(outdir / "summary.md", summary(ordered, lessons, sandbox, settings))
    plot(ordered, lessons, outdir / "summary.png")
    plot_class(ordered, lessons, outdir)
