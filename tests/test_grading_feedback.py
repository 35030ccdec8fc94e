"""Grading's feedback reads right, without a kernel: results are made here, as grader.py makes them (and
``judge.mask_hidden`` masks them, as before any report).

- the mask of hidden numbers (``judge.mask_numbers``, used for a hidden case's message and hints) leaves every
  string of every exercise module, and every registered hint, as it is: no word ("inf", "nan"), no sentence end
  ("sums to 1.") and no number of the course's own ("1e-5") is masked; while the values formatted from a hidden
  case (the reference's answer, the learner's, an input, an argument) are;
- the feedback as a web page (feedback/LEARNER/LESSON.html): self-contained, escaped, the same things as the
  Markdown;
- the summary names who met an incident or an undefined answer, and its images (totals per lesson, heatmaps of
  learners by exercise) are legible for a class of 300 and the same bytes for the same results.
"""
import ast
import html.parser
import random
import re
import types
from pathlib import Path

import pytest

from tinygrad_lite.course import checks, exercises, pipeline  # noqa: F401  (exercises: registers every lesson)
from tinygrad_lite.course.grading import grader, judge, report
from tinygrad_lite.course.grading.graded import GradedExercise, GradedSubmission
from tinygrad_lite.course.verdict import GradedCase

ROOT = Path(__file__).resolve().parents[1]
EXERCISE_MODULES = sorted((ROOT / "tinygrad_lite" / "course" / "exercises").glob("lesson*.py"))


# -------------------------------------------------------------------- the mask of hidden numbers
def _template(node):
    """An f-string as its template: the literal parts as written, each formatted value as "{value}" (what it holds
    is not the module's text)."""
    return "".join(v.value if isinstance(v, ast.Constant) else "{value}" for v in node.values)


def module_strings():
    """Every string of the exercise modules that may become a message or a hint (longer than 20 characters): each
    str constant, and each f-string as its template (so that a number of the course's own beside a formatted value
    is tried as a message has it). Docstrings are no message (``judge.course_strings``)."""
    found = []
    for path in EXERCISE_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += judge.course_strings(tree)
        specs = {id(n.format_spec) for n in ast.walk(tree) if isinstance(n, ast.FormattedValue) and n.format_spec}
        found += [_template(n) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) and id(n) not in specs]
    return sorted({s for s in found if len(s) > 20})


def registered_hints():
    """Every hint tier of every registered exercise (its mistakes, error hints, gradient and stability hints) and
    the generic and grading error hints: the texts a learner reads after "Hint:" or "More:"."""
    hints = [t for e in checks.GENERIC_ERROR_HINTS + judge.GRADING_ERROR_HINTS for t in e.tiers()]
    for exercise_id, exercise in checks.REGISTRY.items():
        if not re.fullmatch(r"(0\d|10)\..+", exercise_id):  # (the course's: not one a test registered)
            continue
        hints += [t for mistake in exercise.mistakes for t in mistake.tiers()]
        hints += [t for error in exercise.error_hints for t in error.tiers()]
        hints += [exercise.grad_hint] if isinstance(exercise.grad_hint, str) else []
        stability = exercise.stability_hint
        hints += [stability] if isinstance(stability, str) else list(stability)
    return sorted({h for h in hints if h})


def test_every_string_and_hint_of_the_exercises_survives_the_mask():
    strings, hints = module_strings(), registered_hints()
    assert len(strings) > 1500 and len(hints) > 500
    assert sum(bool(judge._NUMBER.search(s)) for s in strings + hints) > 200  # the mask had numbers to keep
    changed = [(s[:120], judge.hidden_numbers(s)) for s in strings + hints if judge.mask_numbers(s) != s]
    assert not changed, f"{len(changed)} template strings changed under the mask, e.g. {changed[:5]}"
    # a hidden case's hints, as the feedback shows them
    shown = report.learner_hints([judge.mask_case(GradedCase("failed", "x", hints=[h], visible=False)) for h in hints])
    assert [hint for _, hint in shown] == hints


def test_words_sentence_ends_and_the_course_numbers_stay():
    for text in ("p[i, j] = s[i, j] / sum_k s[i, k]: every row divided by its own sum, so each row sums to 1.",
                 "overflows there even where it is not picked (and its inf makes the gradient nan). "):
        assert judge.for_learner(text, visible=False) == text.strip()
    # a case's label is no course text that places a number: it may name the hidden case's inputs
    said = "00.row_normalize: failed on hidden case 7 of 8 (tiny scores: each row sums to under 1.2e-7)."
    assert judge.for_learner(said, visible=False) == said.replace("1.2e-7", "…")
    said = "with base_lr=1, warmup_steps=10, total_steps=100, start_factor=0.1, min_lr=0.01, the lr at step 0"
    assert judge.for_learner(said, visible=False).endswith("start_factor=…, min_lr=…, the lr at step 0")


def test_values_formatted_from_a_hidden_case_are_masked():
    detail = ("the result: expected shape (3,) float32, got shape (3,) float32; 3 of 3 values differ. Worst at "
              "index [1]: expected 0.3713, got 0.1234 (difference 0.248)")
    hidden = judge.for_learner(detail, visible=False)
    assert hidden == "the result: shape (3,) float32, as expected; 3 of 3 values differ."  # (no worst: no complaint)
    assert judge.for_learner(detail, visible=True) == detail  # the example's, shown in the notebook
    said = judge.for_learner("the loss of step 2 should be 0.3713, yours is nan; the next is -inf", visible=False)
    assert said == "the loss of step 2 should be …, yours is …; the next is …"
    # one mistake, two factors: one group in the class summary
    import numpy as np
    e = np.array([1.0, 2.0, 3.0])
    keys = {judge.mask_numbers(checks.diagnose(r * e, e, kinds=("factor",))) for r in (0.37, 2.9)}
    assert len(keys) == 1 and "(… times the right one)" in keys.pop()


def test_a_hidden_case_of_the_real_pipeline_shows_no_value_of_its_own():
    """05.warmup_cosine judged as grading judges it, with an answer that ignores min_lr: its own compare formats the
    case's base_lr and the lrs that differ, and the ignored-argument hint the case's min_lr."""
    from tinygrad_lite.course.exercises.lesson05 import warmup_cosine_reference
    exercise = checks.get_exercise("05.warmup_cosine")
    reference = pipeline.Reference(exercise, case_seed=20240531, grad_seed=7)

    def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.01, min_lr=0.0):
        return warmup_cosine_reference(step, base_lr, warmup_steps, total_steps, start_factor)
    recorder = pipeline.Recorder()
    records = {i: pipeline.roundtrip(recorder.record(exercise, warmup_cosine, case, reference.grad_seed_of(i)))
               for i, case in enumerate(reference.cases)}
    verdicts, _ = judge.judge_exercise(exercise, reference, records)
    failed = [v for v in verdicts if v.status != "passed"]
    assert failed and not any(v.visible for v in failed)
    for v in failed:
        case = reference.cases[v.index]
        formatted = judge.hidden_numbers(v.detail)
        assert f"{case.args[1]:g}" in formatted or float(case.args[1]).is_integer()  # base_lr is in the instructor's
        shown = judge.mask_case(v).shown
        assert "should be …, yours is …" in shown and not judge.hidden_numbers(shown)
        for number in formatted:
            assert number not in [m.group() for m in judge._NUMBER.finditer(shown)], (number, shown)
    hints = report.learner_hints([judge.mask_case(v) for v in verdicts])
    assert hints and all("this case passes min_lr=…:" in hint for _, hint in hints), hints
    assert any(f"passes min_lr={reference.cases[v.index].kwargs.get('min_lr')!r}" in v.hints[0]
               for v in failed if "min_lr" in reference.cases[v.index].kwargs)  # unmasked for the instructor


# -------------------------------------------------------------------- made-up results, as grader.py makes them
LESSON = "00_welcome_and_tensors"
IDS = ["00.row_normalize", "00.standardize", "00.pairwise_sq_distances"]
LESSONS = {LESSON: types.SimpleNamespace(exercises=IDS, digest="0" * 64)}


def case(where, status, detail, hints=(), visible=False):
    return GradedCase(status, f"x: {status}", [detail], list(hints), detail, where=where, visible=visible,
                      informative=True, trivial=None)


def entry(exercise_id, status, points, cases=(), reason="", maximum=2.0):
    cases = list(cases)
    hints = list(dict.fromkeys(h for c in cases for h in c.hints))
    return GradedExercise(exercise_id, maximum, points=points, status=status, reason=reason,
                          passed_cases=sum(c.status == "passed" for c in cases), total_cases=6, cases=cases,
                          hints=hints, left_out=[], mistakes=[])


def result(learner, exercises_, status="graded", **more):
    """A submission's result, masked as every result is before the reports (``judge.mask_hidden``)."""
    total = round(sum(e.points for e in exercises_), 2)
    made = GradedSubmission(learner, lesson=LESSON, path=f"{learner}/{LESSON}.ipynb", sha256="0" * 64,
                            status=status, exercises=exercises_, total=total, max=5.0,
                            incidents=[f"{e.id}: {e.reason}" for e in exercises_ if e.status in ("timed out",)], **more)
    return judge.mask_hidden([made])[0]


WORST = ("the result: expected shape (4, 3) float32, got shape (4, 3) float32; 12 of 12 values differ. Worst at "
         "index [1, 2]: expected 0.371329, got 0.742658 (difference 0.371)")
ERROR = ("your code raised an error:\nline 2 in row_normalize: return x.sum(axis=1)\nTypeError: sum() got an "
         "unexpected keyword argument 'axis' <script>alert('x')</script>")
HINT = "a hint with `code` in it, and a factor (0.5371 times the right one)"


def mixed():
    """A learner with every kind of exercise feedback: passed, failed on hidden cases (a hint), an error."""
    return result("eve<b>", [
        entry(IDS[0], "passed", 1.0, [case("the example shown in the notebook", "passed", "passed", visible=True)],
              maximum=1.0),
        entry(IDS[1], "partial", 0.67, [case("the example shown in the notebook", "passed", "passed", visible=True),
                                        case("hidden case 2 of 6", "failed", WORST, [HINT]),
                                        case("hidden case 3 of 6 (a single row)", "error", ERROR,
                                             ["numpy says axis= and keepdims=; tensors say dim= and keepdim="])],
              reason="hidden case 2 of 6: failed"),
        entry(IDS[2], "undefined", 0.0, reason="name 'pairwise_sq_distances' is not defined"),
    ])


def fake_class(n, seed=0):
    """``n`` learners of lesson 00 with made-up points, a time-out, an undefined answer and an unreadable notebook."""
    rng = random.Random(seed)
    results = []
    for k in range(n):
        share = rng.random()
        exercises_ = [entry(i, "passed" if share > 0.7 else "partial", round(2 * share, 2), maximum=2.0) for i in IDS]
        results.append(result(f"learner{k:03d}", exercises_))
    timed_out, undefined, unreadable = results[1].exercises[0], results[2].exercises[1], results[3]
    timed_out.status, timed_out.points = "timed out", 0.0
    timed_out.reason = "timed out after 30 s, while running your function on case 2"
    undefined.status, undefined.points, undefined.reason = "undefined", 0.0, "name 'standardize' is not defined"
    unreadable.status, unreadable.exercises, unreadable.total = "unreadable", [], 0.0
    unreadable.reason = "not valid notebook JSON"
    return results


# -------------------------------------------------------------------- the feedback page
class Tags(html.parser.HTMLParser):
    """The page's tags, checked to nest: every element that is opened is closed, in order."""
    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self):
        super().__init__()
        self.open, self.seen, self.problems = [], [], []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.problems.append(tag)


def test_the_feedback_page_is_self_contained_escaped_and_says_what_the_markdown_says():
    r = mixed()
    page, markdown = report.feedback_html(r), report.feedback(r)
    tags = Tags()
    tags.feed(page)
    assert not tags.problems and not tags.open
    names = {tag for tag, _ in tags.seen}
    assert "script" not in names and {"style", "table", "h1", "h2"} <= names
    assert not any(attrs.get("src") or (attrs.get("href") or "#").startswith(("http", "//"))
                   for _, attrs in tags.seen)  # nothing fetched, nothing beside it
    assert "@import" not in page and "url(" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page and "eve&lt;b&gt;" in page
    # the table: each exercise, its points and status
    for e in r.exercises:
        row = re.search(rf'<tr><td><a href="#exercise-{re.escape(report.safe_name(e.id))}">{re.escape(e.id)}'
                        r"</a></td><td[^>]*>([^<]*)</td><td><span class=\"status [\w-]+\">([^<]*)</span>", page)
        assert row and row.groups() == (f"{e.points:g} of {e.max:g}", e.status), e.id
    # what the Markdown says of the cases and hints, the page says too (hidden values masked in both)
    assert "Worst" not in page and "0.371329" not in page and "0.5371" not in page
    assert "a factor (… times the right one)" in page and "a factor (… times the right one)" in markdown
    assert "<code>code</code>" in page
    for line in ("hidden case 2 of 6", "hidden case 3 of 6 (a single row)", "name &#x27;pairwise_sq_distances&#x27; "
                 "is not defined", "Total: 1.67 of 5 points"):
        assert line in page, line


def test_a_page_for_a_notebook_not_graded():
    r = result("bob", [], status="unreadable", reason="not valid notebook JSON <x>")
    page = report.feedback_html(r)
    assert "Not graded (unreadable)" in page and "not valid notebook JSON &lt;x&gt;" in page and "<table" not in page
    assert "What to do: hand in the .ipynb file itself" in page and "File &gt; Save Notebook" in page


@pytest.mark.parametrize("status, step", [
    ("unreadable", "What to do: hand in the .ipynb file itself"),
    ("unknown lesson", "What to do: submit the lesson's notebook as the course gave it to you"),
    ("wrong lesson", "What to do: submit your notebook of lesson 07, 07_x.ipynb, for this"),
    ("missing", "What to do: if you handed one in, ask your instructor")])
def test_a_notebook_not_graded_tells_the_learner_what_to_do_next(status, step):
    """The reason alone ("the file is not valid notebook JSON") leaves a learner guessing: each reason not to grade
    comes with the next step, in the Markdown feedback and on the page."""
    r = result("bob", [], status=status, reason="why")
    r.assignment = "07_x" if status == "wrong lesson" else None
    text = "\n".join(report.feedback_header(r))
    assert step in text and step.replace("'", "&#x27;") in report.feedback_html(r)
    assert text.index("why") < text.index(step) < text.index("Points: 0 of")


# -------------------------------------------------------------------- the summary and its images
def test_the_summary_names_the_incidents_and_undefined_answers():
    results = report.order(fake_class(12))
    text = report.summary(results, LESSONS, "bubblewrap", grader.Settings())
    incidents = text[text.index("## Incidents"):text.index("## Undefined answers")]
    assert ("| learner001 | 00_welcome_and_tensors | 00.row_normalize | timed out | timed out after 30 s, while "
            "running your function on case 2 |") in incidents
    undefined = text[text.index("## Undefined answers"):]
    assert "| learner002 | 00_welcome_and_tensors | 00.standardize | undefined | name 'standardize' is not" in undefined
    assert "| learner003 | learner003/00_welcome_and_tensors.ipynb | unreadable | not valid notebook JSON |" in text
    for image in ("summary-totals.png", "summary.png", "summary-heatmap-00_welcome_and_tensors.png"):
        assert f"]({image})" in text
    assert "| passed (all cases, as judged) | mean points (after overrides) |" in text  # (an override moves one)


def test_a_class_of_300_is_split_into_legible_heatmaps():
    results = fake_class(300)
    images = report.heatmaps(results)
    sizes = [len(rows) for _, _, rows, _ in images]
    assert len(images) == 4 and sizes == [75] * 4 and len({file for _, file, _, _ in images}) == 4
    rows = [r for _, _, part, _ in images for r in part]
    assert sorted(r.learner for r in rows) == sorted(r.learner for r in results)  # each learner once
    assert [r.total for r in rows] == sorted((r.total for r in rows), reverse=True)  # by total
    assert images[1][3] == "learners 76-150 of 300 by total"
    assert [len(rows) for _, _, rows, _ in report.heatmaps(fake_class(80))] == [40, 40]  # no image of stragglers


def test_the_class_images_are_at_most_1000_px_wide_and_the_same_bytes_for_the_same_results(tmp_path, monkeypatch):
    from PIL import Image
    monkeypatch.setattr(report, "HEATMAP_ROWS", 8)  # a small class, split as a large one is
    results = report.order(fake_class(14))
    for k in (0, 1):
        report.plot_class(results, LESSONS, tmp_path / f"run{k}")
    files = sorted(p.name for p in (tmp_path / "run0").iterdir())
    assert files == ["summary-heatmap-00_welcome_and_tensors-1.png", "summary-heatmap-00_welcome_and_tensors-2.png",
                     "summary-totals.png"]
    for name in files:
        assert (tmp_path / "run0" / name).read_bytes() == (tmp_path / "run1" / name).read_bytes(), name
        width, height = Image.open(tmp_path / "run0" / name).size
        assert 500 <= width <= 1000 and height > 200, (name, width, height)
    monkeypatch.setattr(report, "HEATMAP_ROWS", 75)  # the class again, now in one image: the parts left are removed
    report.plot_class(results, LESSONS, tmp_path / "run0")
    assert sorted(p.name for p in (tmp_path / "run0").iterdir()) == ["summary-heatmap-00_welcome_and_tensors.png",
                                                                      "summary-totals.png"]


def test_a_chart_with_nothing_to_show_says_so_without_empty_axes(tmp_path, monkeypatch):
    """A class whose notebooks were all unreadable: no exercise judged, no hint fired; each panel says so."""
    import matplotlib.pyplot as plt
    figures, close = [], plt.close
    monkeypatch.setattr(plt, "close", figures.append)  # (the figure kept to look at, closed at the end)
    report.plot([result("bob", [], status="unreadable", reason="not valid notebook JSON")], LESSONS,
                tmp_path / "summary.png")
    passes, hints = figures[0].axes
    assert [t.get_text() for t in passes.texts] == ["no exercise was judged"]
    assert [t.get_text() for t in hints.texts] == ["no named mistake fired"]
    assert list(passes.get_yticks()) == list(hints.get_yticks()) == list(hints.get_xticks()) == []
    close(figures[0])


def test_the_mistakes_panel_writes_each_hint_whole_above_its_bar(tmp_path, monkeypatch):
    """Each hint is written across the panel at 8 pt, inside the image (as 7 pt tick labels they were cut at 70
    characters and squeezed both panels), shortened with an ellipsis past 110 characters."""
    import matplotlib.pyplot as plt
    figures, close = [], plt.close
    monkeypatch.setattr(plt, "close", figures.append)
    results = report.order(fake_class(6))
    long = "a hint " * 30
    for k, r in enumerate(results):
        for e in r.exercises:
            e.mistakes = ["keepdim=True keeps the reduced dim", long][:1 + k % 2]
    report.plot(results, LESSONS, tmp_path / "summary.png")
    fig = figures[0]
    _, hints = fig.axes
    fig.canvas.draw()
    width = fig.bbox.width
    assert len(hints.texts) == 2 * len(IDS) and list(hints.get_yticks()) == []
    for text in hints.texts:
        box = text.get_window_extent()
        assert text.get_fontsize() >= 8 and 0 <= box.x0 and box.x1 <= width, text.get_text()
    assert any(t.get_text().endswith("…") and len(t.get_text()) == 110 for t in hints.texts)
    close(fig)


def test_write_all_writes_a_page_beside_each_markdown_feedback(tmp_path):
    results = [mixed(), result("bob", [], status="unreadable", reason="not valid notebook JSON")]
    report.write_all(tmp_path, results, LESSONS, "bubblewrap", grader.Settings())
    for learner in ("eve_b", "bob"):
        folder = tmp_path / "feedback" / learner
        assert sorted(p.name for p in folder.iterdir()) == [f"{LESSON}.html", f"{LESSON}.md"], learner
