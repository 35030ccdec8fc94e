"""Every learner keeps a row of their own, and the class around the grades (issue 31; ``grading/roster.py``,
``grading/adjust.py``, ``layout.choose``):

- a folder given per learner (``grade subs/alice subs/bob``) is that learner's: two rows, two feedback files;
  learners with one id in two places are told apart; feedback files never overwrite one another;
- one learner's two notebooks of one lesson (a Jupyter copy, a resubmission) are graded once, by a stated rule,
  and the other is reported;
- a roster gives every learner a row (0 and "missing" without a notebook) and names and emails in lms.csv; a
  notebook not on it is graded and noted; Canvas's, Moodle's and Gradescope's export names map to roster ids;
- overrides set points after judging, are shown as such, and bad ones stop the command in one line;
- the late penalty, from the roster's due and Gradescope's submission time, or from Canvas's LATE flag;
- an exercise cell with a syntax error gets its reason into the gradebook's notes.

Most of it is tested on made-up results (no kernel); one real run of two tiny lesson-00 notebooks, run twice (the
second time with other overrides: nothing is graded again), checks the whole path.
"""
import csv
import io
import json
import sys
from pathlib import Path

import pytest

from tinygrad_lite.course import checks, cli, exercises  # noqa: F401  (exercises: registers every lesson)
from tinygrad_lite.course.grading import adjust, grader, layout, report, roster
from tinygrad_lite.course.grading.graded import GradedExercise, GradedSubmission

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_grading import L00, L01, MODE, NO_KERNEL, notebook, save, submission

ROOT = Path(__file__).resolve().parents[1]
LESSONS = layout.load_lessons(ROOT / "solutions")
N00, N01 = f"{L00}.ipynb", f"{L01}.ipynb"
METADATA = """\
submission_101:
  :submitters:
  - :name: Jane Doe
    :email: JANE.DOE@uni.edu
    :sid: '20261234'
  :created_at: 2026-11-21 09:30:00.000000000 -08:00
submission_102:
  :submitters:
  - :name: Bob Smith
    :email: bob.smith@uni.edu
  - :name: Carl Group
    :email: carl@uni.edu
  :created_at: 2026-11-20 09:30:00.000000000 -08:00
"""
ROSTER = """\
ID,Name,E-mail,Due,LMS ID
jdoe,Jane Doe,jane.doe@uni.edu,2026-11-20,123456
bsmith,"Smith, Bob",bob.smith@uni.edu,2026-11-20T23:59,
alice,Alice Liddell,alice@uni.edu,,
carol,Carol Ann,carol@uni.edu,,
"""


def write(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if isinstance(text, str) else json.dumps(text), encoding="utf-8")
    return path


def identified(arguments, the_roster=None, lesson=None):
    """(the submissions to grade, the lines printed), as ``grade`` makes them before grading."""
    found, _ = layout.find_notebooks(arguments, lessons=LESSONS)
    subs = [layout.read_submission(path, shown, learner, LESSONS) for path, shown, learner in found]
    roster.identify(subs, the_roster)
    return layout.choose(subs, LESSONS, lesson)


def judged(sub, points=None):
    """A result as grader.py makes it for ``sub``: each exercise of its lesson passed (or ``points``)."""
    ids = [e for e in LESSONS[sub.lesson].exercises if e in checks.REGISTRY]
    entries = []
    for exercise_id in ids:
        top = float(checks.REGISTRY[exercise_id].points)
        got = top if points is None else points.get(exercise_id, top)
        entries.append(GradedExercise(exercise_id, top, points=got, status="passed" if got == top else "failed",
                                      total_cases=6, left_out=[], mistakes=[]))
    return GradedSubmission(sub.learner, lesson=sub.lesson, path=sub.shown, sha256=sub.digest, notes=list(sub.notes),
                            exercises=entries, total=round(sum(e.points for e in entries), 2),
                            max=round(sum(e.max for e in entries), 2))


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def class_of(tmp_path):
    """A plain class folder: alice (solved), bob (a notebook and its Jupyter copy)."""
    subs = tmp_path / "subs"
    write(subs / "alice" / N00, submission(L00))
    write(subs / "bob" / N00, submission(L00))
    write(subs / "bob" / f"{L00}-Copy1.ipynb", submission(L00))
    return subs


# -------------------------------------------------------------------- whose a notebook is
def test_a_folder_given_per_learner_is_that_learners(tmp_path):
    subs = class_of(tmp_path)
    write(tmp_path / "class" / "carl.ipynb", submission(L00))
    write(tmp_path / "class" / "carl-Copy1.ipynb", submission(L00))
    write(tmp_path / "class" / "dora" / "whatever.ipynb", submission(L00))
    found, _ = layout.find_notebooks([subs / "alice", subs / "bob", tmp_path / "class"], lessons=LESSONS)
    assert sorted({learner for _, _, learner in found}) == ["alice", "bob", "carl", "dora"]
    kept, lines = identified([subs / "alice", subs / "bob"])
    assert [(s.learner, Path(s.shown).name) for s in kept] == [("alice", N00), ("bob", N00)]
    assert len(lines) == 1 and lines[0].startswith(f"bob ({L00}): 2 notebooks; graded bob/{N00} (it is not a copy)")
    bob = kept[1]
    assert bob.others == [f"bob/{L00}-Copy1.ipynb"] and "it is not a copy" in bob.later[0]


def test_one_learners_notebooks_of_a_lesson_are_graded_once_by_a_stated_rule(tmp_path):
    folder = tmp_path / "canvas"  # two uploads of one Canvas user: the later file id is graded
    write(folder / f"smithbob_223456_7890124_{N00}", submission(L00))
    write(folder / f"smithbob_223456_7890999_{L00}-1.ipynb", submission(L00))
    kept, lines = identified([folder])
    assert [Path(s.shown).name for s in kept] == [f"smithbob_223456_7890999_{L00}-1.ipynb"]
    assert "it is the latest in the LMS's export" in lines[0]
    other = tmp_path / "damaged" / "eve"  # one that cannot be graded loses to one that can, copy or not
    write(other / N00, "{not json")
    write(other / f"{L00} (1).ipynb", submission(L00))
    kept, lines = identified([other])
    assert [Path(s.shown).name for s in kept] == [f"{L00} (1).ipynb"] and "it could be graded" in lines[0]
    # with --lesson, a learner's notebooks of other lessons beside one of that lesson (a whole course folder) are
    # left out, named in one line, not taken for copies of it; a learner with another lesson's alone: wrong lesson
    write(tmp_path / "course" / "fay" / N00, submission(L00))
    write(tmp_path / "course" / "fay" / N01, submission(L01))
    write(tmp_path / "course" / "gus" / N01, submission(L01))
    for k in range(4):
        write(tmp_path / "course" / f"hal{k}" / N00, submission(L00))
        write(tmp_path / "course" / f"hal{k}" / N01, submission(L01))
    kept, lines = identified([tmp_path / "course"], lesson=L00)
    fay = next(s for s in kept if s.learner == "fay")
    assert Path(fay.shown).name == N00 and fay.others == [] and fay.later == []
    assert [s.lesson for s in kept if s.learner == "gus"] == [L01]  # (graded as "wrong lesson")
    assert lines == [f"not graded: 5 notebook(s) of other lessons than {L00} (--lesson), beside their learner's "
                     f"{L00}: course/fay/{N01}, course/hal0/{N01}, course/hal1/{N01} and 2 more"]
    # both unreadable: the one named for the lesson asked for, though another lesson's is later in the export
    write(folder / f"evanseve_1005_7009_{N00}", "{not json")
    write(folder / f"evanseve_1005_7010_{N01}", "<html>")
    kept, lines = identified([folder], lesson=L00)
    eve = [s for s in kept if s.learner.startswith("evanseve")]
    assert [Path(s.shown).name for s in eve] == [f"evanseve_1005_7009_{N00}"], lines
    assert any(f"of other lessons than {L00}" in line and f"evanseve_1005_7010_{N01}" in line for line in lines)


def test_learners_with_one_id_in_two_places_keep_a_row_each(tmp_path):
    write(tmp_path / "a" / "alice" / N00, submission(L00))
    write(tmp_path / "b" / "alice" / N00, submission(L00))
    write(tmp_path / "canvas" / f"smithj_1001_5001_{N00}", submission(L00))
    write(tmp_path / "canvas" / f"smithj_1002_5002_{N00}", submission(L00))
    kept, lines = identified([tmp_path / "a" / "alice", tmp_path / "b" / "alice", tmp_path / "canvas"])
    ids = [s.learner for s in kept]
    assert len(set(ids)) == 4 and not lines
    assert "a/alice" in ids and "b/alice" in ids and "smithj_1001" in ids and "smithj_1002" in ids
    assert not any(str(tmp_path) in learner for learner in ids)  # no path of the machine in an id


def test_feedback_files_never_overwrite_one_another():
    results = [GradedSubmission(name, lesson=L00, path=f"{name}/{N00}") for name in ("eve<b>", "eve_b", "Bob", "bob")]
    results += [GradedSubmission("zoe", lesson="", path=f"zoe/{stem}.ipynb") for stem in ("notes", "draft")]
    paths = report.feedback_files(results)
    assert len({p.lower() for p in paths}) == len(paths)
    assert paths[1] == f"feedback/eve_b/{L00}" and paths[0].startswith("feedback/eve_b-")  # a safe id keeps it
    assert paths[2] == f"feedback/Bob/{L00}" and paths[3].startswith("feedback/bob-")
    assert paths[4:] == ["feedback/zoe/unknown", "feedback/zoe/unknown-draft"]


# -------------------------------------------------------------------- the roster and the LMS exports
def test_roster_errors_name_the_line(tmp_path):
    cases = {"name,email\nJane,j@x\n": "has no id column",
             "id,name\njdoe,Jane\nbob,Bob\njdoe,Jane again\n": "line 4: the id jdoe is also on line 2",
             "id,due\njdoe,20/11/2026\n": "line 2: due '20/11/2026' is not an ISO date",
             "id,name\n,Nobody\n": "line 2: no id",
             # issue 45: a quote left open swallowed the rest of the file (a learner vanished, exit 0); a NUL byte
             "id,name\nann,Ann\nbob,\"Bob\ncarol,Carol\n": "line 3: a field opens a double quote .* never closed",
             "id,name\nann,An\0n\nbob,Bob\n": "line 2: a NUL byte"}
    for text, expected in cases.items():
        with pytest.raises(roster.InputError, match=expected):
            roster.Roster.load(write(tmp_path / "roster.csv", text))
    the_roster = roster.Roster.load(write(tmp_path / "roster.csv", "\ufeffId;Name;DUE\njdoe;Jane;2026-11-20T23:59Z\n"))
    assert the_roster.learners[0].due.isoformat() == "2026-11-20T23:59:00+00:00"  # Excel's ";" CSV with its BOM
    declared = roster.Roster.load(write(tmp_path / "roster.csv", "sep=;\nid;name\nann;Ann, Lee\n"))  # Excel's line
    assert [(x.id, x.name) for x in declared.learners] == [("ann", "Ann, Lee")]
    with pytest.raises(roster.InputError, match="line 4: no id"):  # (its lines counted as the file's)
        roster.Roster.load(write(tmp_path / "roster.csv", "sep=;\nid;name\nann;Ann\n;Bob\n"))


def test_lms_export_names_map_to_roster_ids(tmp_path):
    canvas, moodle, gradescope = tmp_path / "canvas", tmp_path / "moodle", tmp_path / "gradescope"
    write(canvas / f"doejane_LATE_123456_7890123_{N00}", submission(L00))  # by lms_id
    write(canvas / f"smithbob_223456_7890124_{N00}", submission(L00))  # by name, surname first
    write(canvas / "nobodyx_323456_7890125_lesson0.ipynb", {"cells": []})  # on no roster; its lesson by its name
    write(moodle / "Jane Doe_12345_assignsubmission_file_" / N00, submission(L00))
    write(moodle / "Alice Liddell_12346_assignsubmission_file_" / "my work.ipynb", {"cells": []})  # no lesson
    write(gradescope / "submission_101" / N00, submission(L00))
    write(gradescope / "submission_102" / "work" / "lesson0.ipynb", submission(L00))
    write(gradescope / "submission_metadata.yml", METADATA)
    without = {folder.name: [(s.learner, s.lesson) for s in identified([folder])[0]]
               for folder in (canvas, moodle, gradescope)}
    assert without == {"canvas": [("doejane", L00), ("nobodyx", L00), ("smithbob", L00)],
                       "moodle": [("Alice_Liddell", None), ("Jane_Doe", L00)],
                       "gradescope": [("Jane_Doe", L00), ("Bob_Smith", L00)]}
    the_roster = roster.Roster.load(write(tmp_path / "roster.csv", ROSTER))
    kept = {folder.name: identified([folder], the_roster, L00)[0] for folder in (canvas, moodle, gradescope)}
    assert [s.learner for s in kept["canvas"]] == ["jdoe", "nobodyx", "bsmith"]
    assert [s.on_roster for s in kept["canvas"]] == [None, False, None]
    assert kept["canvas"][0].export.late and kept["canvas"][0].lesson == L00
    assert [s.learner for s in kept["moodle"]] == ["alice", "jdoe"]
    assert [s.learner for s in kept["gradescope"]] == ["jdoe", "bsmith"]  # by email, in any case
    assert [m[1] for m in kept["gradescope"][1].members] == ["Carl_Group"]  # a group's other member
    assert roster.strangers(kept["canvas"]) == ["canvas/nobodyx_323456_7890125_lesson0.ipynb: not on the roster "
                                                "(nobodyx matches no roster learner): graded as nobodyx"]


def test_a_roster_gives_every_learner_a_row_and_lms_csv_their_names(tmp_path):
    subs = class_of(tmp_path)
    write(subs / "mallory" / N00, submission(L00))
    the_roster = roster.Roster.load(write(tmp_path / "roster.csv", ROSTER))
    kept, _ = identified([subs], the_roster)
    results, _ = adjust.finish(kept, [judged(s) for s in kept], LESSONS, adjust.Policy(the_roster))
    book = {r["learner"]: r for r in rows(report.gradebook(report.order(results), LESSONS))}
    assert sorted(book) == ["alice", "bob", "bsmith", "carol", "jdoe", "mallory"]
    assert book["carol"]["status"] == "missing" and book["carol"]["total"] == "0"
    assert book["carol"]["00.row_normalize"] == "0"
    assert "not on the roster" in book["mallory"]["notes"] and book["mallory"]["total"] == "5"
    assert "not graded" in book["bob"]["notes"] and f"{L00}-Copy1.ipynb" in book["bob"]["notes"]
    lms = {r["learner"]: r for r in rows(report.lms(results))}
    assert list(lms["alice"]) == ["learner", "name", "email", L00]
    assert lms["alice"]["name"] == "Alice Liddell" and lms["carol"][L00] == "0" and lms["mallory"]["name"] == ""
    text = report.summary(report.order(results), LESSONS, "test", grader.Settings())
    assert "## Missing" in text and "carol (Carol Ann)" in text and "## Not on the roster" in text
    assert "## Other notebooks not graded" in text and "6 submission(s)" not in text
    absent = [r for r in results if r.status == "missing"]  # (learners are counted, not their missing notebooks)
    twice = absent[:1] + [GradedSubmission(**{**vars(absent[0]), "lesson": L01})]
    assert report.missing_line(twice).startswith("1 roster learner(s) handed in nothing for a lesson graded (2 "
                                                 "notebook(s) missing)")


# -------------------------------------------------------------------- overrides and the late rule
def test_overrides_are_applied_after_judging_and_shown_as_such(tmp_path):
    subs = class_of(tmp_path)
    kept, _ = identified([subs])
    overrides = write(tmp_path / "overrides.csv", "Learner,Exercise,Points,Reason\n"
                                                   "bob,00.row_normalize,0.5,copied from a classmate\n"
                                                   "alice,00.standardize,2,\n")
    policy = adjust.Policy.load(overrides=overrides)
    adjust.check_overrides(policy, {"alice", "bob"}, LESSONS)
    results, lines = adjust.finish(kept, [judged(s, {"00.standardize": 1.0}) for s in kept], LESSONS, policy)
    bob = next(r for r in results if r.learner == "bob")
    e = next(e for e in bob.exercises if e.id == "00.row_normalize")
    assert (e.judged_points, e.points) == (1.0, 0.5) and bob.judged_total == 4 and bob.total == 3.5
    assert bob.overrides == [{"exercise": "00.row_normalize", "judged": 1.0, "points": 0.5,
                                 "reason": "copied from a classmate"}]
    assert "override 00.row_normalize: 1 -> 0.5 (copied from a classmate)" in bob.notes and not lines
    for text in (report.feedback(bob), report.feedback_html(bob)):
        assert "Points set by your instructor: 0.5 (the grader gave 1): copied from a classmate." in text
        assert "override 00.row_normalize" not in text  # the note is the instructor's; the sentence is the learner's
    # issue 45: an exercise judged "passed" and overridden below its points shows what its points are, not "passed"
    assert "00.row_normalize: 0.5 of 1 point (partial)" in report.feedback(bob)
    html = report.feedback_html(bob)
    section = html[html.index('id="exercise-00.row_normalize"') - 40:html.index('id="exercise-00.standardize"')]
    assert 'class="exercise partial"' in section and 'class="status passed"' not in section
    assert "## Overrides" in report.summary(results, LESSONS, "test", grader.Settings())
    bad = {"bob,00.row_normalize,7,too many\n": "line 2: 7 points for 00.row_normalize, whose points go from 0 to 1",
           "bob,00.row_normalise,1,\n": "line 2: no exercise 00.row_normalise \\(did you mean 00.row_normalize",
           "robert,00.row_normalize,1,\n": "line 2: no learner robert in this run",
           "bob,00.standardize,x,\n": "line 2: points 'x' is not a number",
           "bob,late,-1,\n": "line 2: late -1"}
    for line, expected in bad.items():
        path = write(tmp_path / "bad.csv", "learner,exercise,points,reason\n" + line)
        with pytest.raises(roster.InputError, match=expected):
            adjust.check_overrides(adjust.Policy.load(overrides=path), {"alice", "bob"}, LESSONS)


def test_the_guides_overrides_example_fits_the_course(tmp_path):
    """docs/grading.md's overrides.csv, as an instructor copies it: every line loads and fits the course's points."""
    text = (ROOT / "docs" / "grading.md").read_text(encoding="utf-8")
    example = next(b for b in text.split("```csv\n")[1:] if b.startswith("learner,exercise,points")).split("```")[0]
    overrides = adjust.load_overrides(write(tmp_path / "overrides.csv", example))
    assert len(overrides) == 3 and {o.exercise for o in overrides} >= {"late"}
    adjust.check_overrides(adjust.Policy(overrides=overrides), {o.learner for o in overrides}, LESSONS)


def test_the_late_penalty_from_due_dates_and_from_canvas_late_flag(tmp_path):
    canvas, gradescope = tmp_path / "canvas", tmp_path / "gradescope"
    write(canvas / f"doejane_LATE_123456_7890123_{N00}", submission(L00))
    write(canvas / f"smithbob_223456_7890124_{N00}", submission(L00))
    write(gradescope / "submission_101" / N00, submission(L00))  # 9 h 30 after the end of the due day
    write(gradescope / "submission_102" / N00, submission(L00))  # on time
    write(gradescope / "submission_metadata.yml", METADATA)
    the_roster = roster.Roster.load(write(tmp_path / "roster.csv", ROSTER))

    def late(folder, **policy):
        kept, _ = identified([folder], the_roster)
        results, _ = adjust.finish(kept, [judged(s, {"00.row_normalize": 0.0}) for s in kept], LESSONS,
                                   adjust.Policy(the_roster, **policy), L00)
        return {r.learner: r for r in results}

    by = late(gradescope, late_penalty=0.1)
    assert (by["jdoe"].late_days, by["jdoe"].penalty, by["jdoe"].total) == (1, 0.4, 3.6)
    assert "submitted 2026-11-21 09:30-08:00, due 2026-11-20 (the end of the day)" in by["jdoe"].late
    assert (by["bsmith"].late_days, by["bsmith"].total, by["Carl_Group"].late_days) == (0, 4, 0)
    assert late(gradescope, late_penalty=0.1, late_grace=10)["jdoe"].late_days == 0
    assert late(gradescope, late_penalty=0.6)["jdoe"].total == 1.6
    assert late(gradescope, late_penalty=1.0)["jdoe"].total == 0  # never below 0
    by = late(canvas, late_penalty=0.25)
    assert (by["jdoe"].late_days, by["jdoe"].total, by["bsmith"].late_days) == (1, 3, 0)
    assert "Canvas marked it LATE, which does not say how late: counted as 1 day" in by["jdoe"].late
    book = {r["learner"]: r for r in rows(report.gradebook(report.order(list(by.values())), LESSONS))}
    assert (book["jdoe"]["late_days"], book["jdoe"]["penalty"], book["jdoe"]["total"]) == ("1", "1", "3")
    assert "Late: 1 day(s) (Canvas marked it LATE" in report.feedback(by["jdoe"])
    assert by["carol"].status == "missing" and by["carol"].penalty == 0
    waived = write(tmp_path / "overrides.csv", "learner,exercise,points,reason\njdoe,late,0,extension granted\n"
                                               "bsmith,late,2,\n")  # a penalty waived, and one set
    by = late(gradescope, late_penalty=0.1, overrides=adjust.load_overrides(waived))
    assert (by["jdoe"].late_days, by["jdoe"].penalty, by["jdoe"].total) == (0, 0.0, 4)
    assert by["jdoe"].late == "0 days (set by your instructor: extension granted; 1 by the submission): no penalty"
    assert f"late: {by['jdoe'].late}" in by["jdoe"].notes and f"Late: {by['jdoe'].late}." in report.feedback(by["jdoe"])
    assert (by["bsmith"].late_days, by["bsmith"].total) == (2, 3.2)
    assert by["bsmith"].late.startswith("2 day(s) (set by your instructor): penalty 0.8 point(s)")
    summary = report.summary(report.order(list(by.values())), LESSONS, "bubblewrap", grader.Settings())
    assert "| jdoe | 00_welcome_and_tensors | 0 | 0 | 0 days (set by your instructor: extension granted" in summary


def test_a_syntax_error_gets_its_reason_into_the_notes():
    result = GradedSubmission("bob", lesson=L00, path="bob/x.ipynb", max=5.0, exercises=[
        GradedExercise("00.row_normalize", 1.0, status="undefined",
                       reason="your exercise cell does not define `row_normalize`; the cell raised an error:\n  File "
                              "\"<learner 00.row_normalize>\", line 1\n    def row_normalize(scores)\n"
                              "                             ^\nSyntaxError: expected ':'")])
    notes = rows(report.gradebook([result], LESSONS))[0]["notes"]
    assert notes == ("00.row_normalize undefined: your exercise cell does not define `row_normalize` (SyntaxError: "
                     "expected ':')")


def test_help_names_the_class_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["grade", "--help"])
    text = capsys.readouterr().out
    for option in ("--roster", "--overrides", "--late-penalty", "--late-grace", "docs/grading.md", "missing",
                   "subs/alice subs/bob"):
        assert option in text


def test_bad_class_files_stop_the_command_in_one_line(tmp_path, capsys):
    subs = class_of(tmp_path)
    bad = [["--roster", write(tmp_path / "r.csv", "name\nJane\n")],
           ["--overrides", write(tmp_path / "o.csv", "learner,exercise\nbob,00.x\n")],
           ["--roster", tmp_path / "nowhere.csv"],
           ["--late-penalty", "1.5"]]
    for arguments in bad:
        try:
            status = cli.main(["grade", str(subs), "--out", str(tmp_path / "out"), *map(str, arguments)])
        except SystemExit as e:  # (argparse's: a bad number)
            status = e.code
        err = capsys.readouterr().err.strip()
        assert status == 2 and len(err.splitlines()) == 1 and "error:" in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()
    export = tmp_path / "gradescope"  # a Gradescope export whose metadata is not YAML
    write(export / "submission_101" / N00, submission(L00))
    write(export / "submission_metadata.yml", "submission_101: [unclosed\n")
    assert cli.main(["grade", str(export), "--out", str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "submission_metadata.yml: not a Gradescope export's metadata" in err, err


# -------------------------------------------------------------------- one real run
@pytest.mark.skipif(MODE is None, reason=f"no grading kernel can start here: {NO_KERNEL}")
@pytest.mark.extended  # a real grading run: .ci/run runs it after the whole suite (conftest.py)
def test_a_real_run_keeps_each_learner_and_reruns_overrides_without_grading(tmp_path, capsys):
    subs = tmp_path / "subs"
    save(subs, "alice", submission(L00), N00)
    broken = submission(L00, {"00.row_normalize": "def row_normalize(scores)\n    return scores\n"}, base="lessons")
    save(subs, "bob", broken, N00)
    save(subs, "bob", notebook(L00, "lessons"), f"{L00}-Copy1.ipynb")
    the_roster = write(tmp_path / "roster.csv", "id,name,email\nalice,Alice,a@x\nbob,Bob,b@x\ncarol,Carol,c@x\n")
    overrides = write(tmp_path / "overrides.csv", "learner,exercise,points,reason\nalice,00.standardize,1,late key\n")
    out = tmp_path / "out"
    common = ["--out", out, "--lesson", "00", "--timeout", 10, "--total-timeout", 60, "--roster", the_roster]
    assert cli.main(["grade", *map(str, [subs / "alice", subs / "bob", *common, "--overrides", overrides])]) == 0
    printed = capsys.readouterr().out
    assert f"bob ({L00}): 2 notebooks; graded bob/{N00} (it is not a copy)" in printed
    assert "1 total(s) changed after judging by the overrides or the late rule, which the lines above do not show: " \
        "alice 5 -> 4 (gradebook.csv has every one)" in printed, printed
    lms = {r["learner"]: r for r in rows((out / "lms.csv").read_text(encoding="utf-8"))}
    assert lms == {"alice": {"learner": "alice", "name": "Alice", "email": "a@x", L00: "4"},
                   "bob": {"learner": "bob", "name": "Bob", "email": "b@x", L00: "0"},
                   "carol": {"learner": "carol", "name": "Carol", "email": "c@x", L00: "0"}}
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["alice", "bob", "carol"]
    book = {r["learner"]: r for r in rows((out / "gradebook.csv").read_text(encoding="utf-8"))}
    assert book["carol"]["status"] == "missing"
    assert "00.row_normalize undefined: your exercise cell does not define `row_normalize` (SyntaxError" in \
        book["bob"]["notes"]
    assert "override 00.standardize: 2 -> 1 (late key)" in book["alice"]["notes"]
    assert "Points set by your instructor: 1 (the grader gave 2): late key." in \
        (out / "feedback" / "alice" / f"{L00}.md").read_text(encoding="utf-8")
    write(overrides, "learner,exercise,points,reason\n")  # the overrides changed: nothing is graded again
    assert cli.main(["grade", *map(str, [subs / "alice", subs / "bob", *common, "--overrides", overrides])]) == 0
    printed = capsys.readouterr().out
    assert printed.count("(stored grade)") == 2 and " s)" not in printed.replace("(stored grade)", "")
    assert "changed after judging" not in printed
    assert rows((out / "lms.csv").read_text(encoding="utf-8"))[0][L00] == "5"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert {r["learner"]: r["feedback"] for r in data["submissions"]}["bob"] == f"feedback/bob/{L00}.md"


@pytest.mark.skipif(MODE is None, reason=f"no grading kernel can start here: {NO_KERNEL}")
@pytest.mark.extended  # a real grading run: .ci/run runs it after the whole suite (conftest.py)
def test_same_named_folders_get_ids_relative_to_the_folder_given_and_no_machine_path(tmp_path, capsys, monkeypatch):
    """Two kims in two sections, graded as `grade /abs/path/export`: two rows, sec1/kim and sec2/kim, and no path
    of the machine in any file grade writes; typed relatively, the same ids (their stored grades are reused)."""
    export = tmp_path / "export"
    save(export / "sec1", "kim", submission(L00), N00)
    save(export / "sec2", "kim", notebook(L00, "lessons"), N00)
    out = tmp_path / "out"
    options = ["--out", "out", "--lesson", "00", "--timeout", "10", "--total-timeout", "60"]
    monkeypatch.chdir(tmp_path)
    assert cli.main(["grade", str(export), *options]) == 0
    first = capsys.readouterr().out
    book = {r["learner"]: r for r in rows((out / "gradebook.csv").read_text(encoding="utf-8"))}
    assert sorted(book) == ["sec1/kim", "sec2/kim"] and book["sec1/kim"]["total"] != book["sec2/kim"]["total"]
    written = [p for p in out.rglob("*") if p.is_file() and ".work" not in p.parts and p.suffix != ".png"]
    assert {p.name for p in written} >= {"gradebook.csv", "lms.csv", "results.json", "summary.md", f"{L00}.md",
                                         f"{L00}.html"}
    for path in written:
        assert str(tmp_path) not in path.read_text(encoding="utf-8"), f"a path of the machine in {path}"
    assert str(tmp_path) not in first
    assert cli.main(["grade", "export", *options]) == 0  # typed another way: the same learners, graded already
    assert capsys.readouterr().out.count("(stored grade)") == 2
    assert sorted(r["learner"] for r in rows((out / "gradebook.csv").read_text(encoding="utf-8"))) == \
        ["sec1/kim", "sec2/kim"]


def test_a_folder_that_names_no_roster_learner_gets_the_closest_one_suggested(tmp_path):
    """emailed/ruiz, with Rosa Ruiz on the roster as rruiz: the notebook is graded as ruiz, not on the roster, with
    "did you mean rruiz (Rosa Ruiz)"; rruiz's row (missing, 0) says which notebook may be hers."""
    write(tmp_path / "emailed" / "ruiz" / N00, submission(L00))
    the_roster = roster.Roster.load(write(tmp_path / "roster.csv", "id,name\nrruiz,Rosa Ruiz\nbob,Bob Stone\n"))
    kept, _ = identified([tmp_path / "emailed"], the_roster)
    (sub,) = kept
    assert sub.learner == "ruiz" and sub.suggested.id == "rruiz"
    note = next(n for n in sub.later if n.startswith("not on the roster"))
    assert "did you mean rruiz (Rosa Ruiz)?" in note and "Rename the folder" in note
    assert "did you mean rruiz" in roster.strangers(kept)[0]
    write(tmp_path / "mailbox" / "ruiz_L00.ipynb", submission(L00))  # named by its file: the file is renamed
    (by_file,), _ = identified([tmp_path / "mailbox"], the_roster)
    note_of_file = next(n for n in by_file.later if n.startswith("not on the roster"))
    assert by_file.learner == "ruiz" and "did you mean rruiz (Rosa Ruiz)? Rename the file" in note_of_file
    results, _ = adjust.finish(kept, [judged(sub)], LESSONS, adjust.Policy(roster=the_roster), L00)
    rows = {r.learner: r for r in results}
    assert rows["rruiz"].status == "missing" and rows["bob"].status == "missing"
    the_class = roster.Roster.load(write(tmp_path / "class.csv", ROSTER))  # a name that is no one's: no guess
    assert the_class.closest("zedzoe") is None and the_class.closest("jdeo").id == "jdoe"
    assert the_class.closest("smithbob") is the_class.closest("bsmith") is the_class.learners[1]
    assert any("emailed/ruiz" in n and "may be theirs" in n for n in rows["rruiz"].notes)
    assert not any("may be theirs" in n for n in rows["bob"].notes)


def test_a_roster_with_sis_ids_gives_lms_csv_the_column_an_lms_matches_on(tmp_path):
    """Canvas's gradebook export names the institution's id "SIS User ID", and its grade import matches rows on it:
    a roster with that column (or ``sis_id``) gives lms.csv the same column, filled for every roster learner."""
    subs = class_of(tmp_path)
    text = "id,name,SIS User ID\nalice,Alice Liddell,S-0042\nbob,Bob Stone,S-0043\ncarol,Carol Ann,S-0044\n"
    the_roster = roster.Roster.load(write(tmp_path / "roster.csv", text))
    assert roster.Roster.load(write(tmp_path / "r2.csv", text.replace("SIS User ID", "sis_id"))).by_id["alice"] \
        .sis_id == "S-0042"
    kept, _ = identified([subs], the_roster)
    results, _ = adjust.finish(kept, [judged(s) for s in kept], LESSONS, adjust.Policy(the_roster))
    lms = {r["learner"]: r for r in rows(report.lms(results))}
    assert list(lms["alice"]) == ["learner", "name", "email", "SIS User ID", L00]
    assert {k: lms[k]["SIS User ID"] for k in lms} == {"alice": "S-0042", "bob": "S-0043", "carol": "S-0044"}
    assert lms["carol"][L00] == "0" and lms["alice"][L00] == "5"


def test_points_lists_each_exercises_points_before_grading(capsys):
    """``tinygrad-lite points`` prints what grade gives each exercise at most, per lesson, and the lesson's total:
    the maximum a graded row has (an LMS assignment is set up before grading)."""
    assert cli.main(["points", "1", L00]) == 0
    out = capsys.readouterr().out.splitlines()
    ids = [e for e in LESSONS[L00].exercises if e in checks.REGISTRY]
    top = sum(checks.REGISTRY[e].points for e in ids)
    assert out[0] == f"{L00}: {len(ids)} exercise(s), {top} points" and out[-1].startswith("all 2 lessons: ")
    assert [line.split()[0] for line in out[1:1 + len(ids)]] == ids
    assert cli.main(["points", "--csv"]) == 0
    table = rows(capsys.readouterr().out)
    assert {r["lesson"] for r in table} == set(LESSONS) and all(int(r["points"]) >= 1 for r in table)
    assert sum(int(r["points"]) for r in table if r["lesson"] == L00) == adjust._lesson_max(LESSONS, L00) == top
    assert cli.main(["points", "99"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
