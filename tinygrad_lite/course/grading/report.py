"""What grading writes to OUTDIR: the gradebooks, results.json, one feedback file per learner and lesson, and the
class summary with its plot. Everything is written from the results alone, sorted, without times or dates, so
that the same results give the same files."""
import csv
import io
import json
import os
import re
from collections import Counter
from pathlib import Path

MAX_CASES_SHOWN = 4


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _number(x):
    return f"{x:g}"


def safe_name(text):
    """A learner id or lesson as a file or folder name."""
    name = re.sub(r"[^\w.-]+", "_", str(text)).strip("._") or "unnamed"
    return name[:100]


def order(results):
    return sorted(results, key=lambda r: (r["lesson"], r["learner"], r["path"]))


def graded_as(r):
    """The lesson a result counts for: its notebook's, except for a notebook of another lesson handed in for
    ``--lesson`` (status "wrong lesson"), whose 0 counts for the lesson it was handed in for."""
    return r.get("assignment") or r["lesson"]


def exercise_columns(results, lessons):
    columns = []
    for name in sorted(lessons):
        columns += [e for e in lessons[name].exercises if any(x["id"] == e for r in results for x in r["exercises"])
                    or any(graded_as(r) == name for r in results)]
    return list(dict.fromkeys(columns))


def gradebook(results, lessons):
    columns = exercise_columns(results, lessons)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["learner", "lesson", *columns, "total", "max", "status", "notes"])
    for r in order(results):
        points = {e["id"]: _number(e["points"]) for e in r["exercises"]}
        own = set(lessons[graded_as(r)].exercises) if graded_as(r) in lessons else set()
        row = [points.get(c, "0" if c in own else "") for c in columns]
        notes = "; ".join([r.get("reason", "")] * bool(r.get("reason")) + r["incidents"] + r["notes"])
        writer.writerow([r["learner"], r["lesson"], *row, _number(r["total"]), _number(r["max"]), r["status"],
                         notes.replace("\n", " ")[:500]])
    return out.getvalue()


def lms(results):
    """One row per learner, one column per lesson (its total): the shape an LMS imports."""
    lessons = sorted({graded_as(r) for r in results if graded_as(r)})
    totals = {}
    for r in order(results):
        if graded_as(r):
            totals.setdefault(r["learner"], {})[graded_as(r)] = _number(r["total"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["learner", *lessons])
    for learner in sorted(totals):
        writer.writerow([learner, *[totals[learner].get(lesson, "") for lesson in lessons]])
    return out.getvalue()


def feedback(r):
    """The learner's feedback for one lesson, in Markdown: never a hidden input or a reference answer."""
    lines = [f"# {r['lesson'] or 'Unknown lesson'}: feedback for {r['learner']}", "", *feedback_header(r)]
    for e in r["exercises"] if r["status"] not in NOT_GRADED else []:
        lines += exercise_feedback(e)
    return "\n".join(lines)


NOT_GRADED = ("unreadable", "unknown lesson", "wrong lesson")


def feedback_header(r):
    """The lines of a submission's feedback before its exercises: the total and the notes (or why it was not
    graded). The notes for the instructor ("to review: ...") are left out."""
    if r["status"] in NOT_GRADED:
        return [f"**Not graded ({r['status']}):** {r.get('reason', '')}", "", f"Points: 0 of {_number(r['max'])}.", ""]
    lines = [f"**Total: {_number(r['total'])} of {_number(r['max'])} points.**", ""]
    for note in r["notes"]:
        if not note.startswith("to review"):
            lines += [f"Note: {note}", ""]
    return lines


def exercise_feedback(e):
    """The lines of one exercise's feedback (a ``## `` heading with its points and status, then what failed and
    why, and the hints), as the learner may see them."""
    from .judge import for_learner
    unit = "point" if e["max"] == 1 else "points"
    lines = [f"## {e['id']}: {_number(e['points'])} of {_number(e['max'])} {unit} ({e['status']})", ""]
    if e["status"] in ("missing", "refused", "undefined"):
        return lines + [_learner_reason(e["reason"]), ""]
    cases = e["cases"]
    lines.append(f"Passed {e['passed_cases']} of {e['total_cases']} cases "
                 "(the example shown in the notebook and hidden cases).")
    left_out = [f"{where} (its answer is in the notebook)" if visible else f"{where} ({why} would pass it)"
                for where, why, visible in e.get("left_out", [])]
    if left_out and e["status"] != "passed":
        lines.append("Points count only the cases that no trivial answer (zeros, ones, a constant, an input "
                     "returned unchanged, the example's answer) passes; not counted: " + "; ".join(left_out) + ".")
    for note in e.get("notes", []):
        lines.append(f"Note: {note}.")
    lines.append("")
    failing = [c for c in cases if c["status"] != "passed"]
    if e["status"] == "not attempted":
        return lines + ["Not attempted: the exercise cell still raises NotImplementedError.", ""]
    for c in failing[:MAX_CASES_SHOWN]:
        detail = for_learner(c).replace("\n", "\n  ")
        lines.append(f"- {c['where']}: {c['status']}" + (f". {detail}" if detail != c["status"] else ""))
    if len(failing) > MAX_CASES_SHOWN:
        lines.append(f"- and {len(failing) - MAX_CASES_SHOWN} more case(s) not passed.")
    if failing:
        lines.append("")
    hints = learner_hints(cases)
    return lines + [f"{label}: {hint}" for label, hint in hints] + [""] * bool(hints)


def learner_hints(cases):
    """[(label, hint)] of the cases not passed, each hint once: "Hint" for a mistake's concept, "More" for its more
    concrete tiers (they come when the same mistake comes back in a later case); a hidden case's hint without its
    numbers (a hint may name an argument's value)."""
    from ..display import hint_lines
    from .judge import mask_numbers
    hints, seen = [], set()
    for c in cases:
        for label, hint in hint_lines(c["hints"]):
            key = mask_numbers(hint)
            if key not in seen:
                seen.add(key)
                hints.append((label, hint if c["visible"] else key))
    return hints


def _learner_reason(reason):
    from .judge import for_learner
    return for_learner({"detail": reason, "visible": True})


def summary(results, lessons, sandbox, settings):
    lines = ["# Grading summary", "",
             f"Sandbox: {sandbox}.", "",
             f"Limits: {settings.timeout:g} s per cell and per exercise, {settings.total_timeout:g} s per "
             f"submission, {settings.memory} MB of memory, {settings.max_output} MB of output.", ""]
    statuses = Counter(r["status"] for r in results)
    lines += [f"{len(results)} submission(s): " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())), ""]
    for name in sorted({r["lesson"] for r in results if r["lesson"]}):
        mine = [r for r in results if r["lesson"] == name and r["status"] not in ("wrong lesson",)]
        if not mine:
            continue
        graded = [r for r in mine if r["exercises"]]
        mean = sum(r["total"] for r in mine) / len(mine)
        top = max((r["max"] for r in mine), default=0)
        lines += [f"## {name}", "", f"{len(mine)} submission(s), mean total {mean:.2f} of {_number(top)}.", "",
                  "| exercise | points | passed (all cases) | mean points | most frequent mistakes (hints fired) |",
                  "|---|---|---|---|---|"]
        for row in exercise_stats(mine, lessons.get(name)):
            mistakes = "<br>".join(f"{n}x {_short(h)}" for h, n in row["mistakes"][:3]) or "-"
            lines.append(f"| {row['id']} | {_number(row['max'])} | {row['passed']}/{row['n']} "
                         f"({100 * row['rate']:.0f}%) | {row['mean']:.2f} | {mistakes} |")
        lines.append("")
        incidents = Counter(e["status"] for r in graded for e in r["exercises"]
                            if e["status"] not in ("passed", "partial", "failed", "error", "not attempted"))
        if incidents:
            lines += ["Exercises stopped by an incident, refused or missing: " + ", ".join(
                f"{n} {s}" for s, n in sorted(incidents.items())), ""]
    flagged = [r for r in order(results) if r["status"] == "flagged"]
    if flagged:
        lines += ["## To review", ""]
        lines += [f"- {r['learner']} ({r['lesson']}): " + "; ".join(n for n in r["notes"] if n.startswith("to review"))
                  for r in flagged]
        lines.append("")
    lines += ["![pass rate per exercise and the most frequent mistakes](summary.png)", ""]
    return "\n".join(lines)


def _short(text, n=110):
    text = text.replace("|", "/").replace("\n", " ")
    return text if len(text) <= n else text[:n - 1] + "…"


def exercise_stats(results, lesson):
    ids = lesson.exercises if lesson else sorted({e["id"] for r in results for e in r["exercises"]})
    rows = []
    for exercise_id in ids:
        entries = [e for r in results for e in r["exercises"] if e["id"] == exercise_id]
        n = sum(1 for r in results if r["status"] not in ("unreadable", "unknown lesson"))
        if not entries and not n:
            continue
        passed = sum(e["status"] == "passed" for e in entries)
        mistakes = Counter(h for e in entries for h in e.get("mistakes", []))
        rows.append({"id": exercise_id, "max": entries[0]["max"] if entries else 0, "n": n, "passed": passed,
                     "rate": passed / n if n else 0.0, "mean": sum(e["points"] for e in entries) / n if n else 0.0,
                     "mistakes": sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))})
    return rows


def plot(results, lessons, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows, mistakes = [], Counter()
    for name in sorted({r["lesson"] for r in results if r["lesson"]}):
        mine = [r for r in results if r["lesson"] == name and r["status"] != "wrong lesson"]
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
    if top:
        ax2.barh([f"{e}: {_short(h, 70)}" for (e, h), _ in top][::-1], [n for _, n in top][::-1], color="#c62828")
        ax2.set_xlabel("submissions in which the hint fired")
        ax2.xaxis.get_major_locator().set_params(integer=True)
        ax2.tick_params(axis="y", labelsize=7)
    else:
        ax2.text(0.5, 0.5, "no named mistake fired", ha="center", va="center")
        ax2.set_yticks([])
    ax2.set_title("Most frequent named mistakes")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def write_all(outdir, results, lessons, sandbox, settings):
    outdir = Path(outdir)
    ordered = order(results)
    _write(outdir / "gradebook.csv", gradebook(ordered, lessons))
    _write(outdir / "lms.csv", lms(ordered))
    document = {"grader": {"sandbox": sandbox, "timeout": settings.timeout, "total_timeout": settings.total_timeout,
                           "memory_mb": settings.memory, "max_output_mb": settings.max_output,
                           "solutions": {name: lessons[name].digest for name in sorted(lessons)}},
                "submissions": ordered}
    _write(outdir / "results.json", json.dumps(document, indent=1, sort_keys=True) + "\n")
    for r in ordered:
        _write(outdir / "feedback" / safe_name(r["learner"]) / f"{safe_name(r['lesson'] or 'unknown')}.md",
               feedback(r))
    _write(outdir / "summary.md", summary(ordered, lessons, sandbox, settings))
    plot(ordered, lessons, outdir / "summary.png")
