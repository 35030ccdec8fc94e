"""The generic checks of every lesson: what each lesson's exercises, notebooks and checks must satisfy.

A lesson is found from its solution notebook, ``solutions/NN_name.ipynb``; its test file ``tests/test_lessonNN.py``
supplies the data (see CONTRIBUTING.md, "Adding a lesson"):

- ``NAMES``: what the notebook has imported or defined before its exercise cells;
- ``SOLUTIONS``: ``{exercise id: a right answer written as a learner would}``;
- ``ALSO_RIGHT``: ``[(exercise id, fn)]``, other right answers (optional);
- ``WRONG``: ``[(exercise id, fn, text, ...)]``, wrong answers that must fail with those texts in the message;
- ``ERRORS``: ``[(exercise id, fn, text, ...)]``, code that must be an error with those texts (optional).

From these, for every exercise: the right answers pass, the wrong ones fail with their texts, every hint (each
tier) is reached by a wrong version, the wrong answers that every exercise of its kind must refuse are refused
(a numpy array, a list or a float where a tensor is due, a detached result, an input changed in place, an
ignored argument), the notebook's solution passes, the released stub is "not attempted", and the notebook
agrees with the registry (ids, points, a check cell after each exercise, stub lines within 100 columns),
every code line of the solution and of the lesson fits 100 columns, and the solution's stored figures and
printed lines fit JupyterLab's output area at 1280x800.
"""
import importlib
import re
import traceback

import pytest
from lesson_helpers import (
    ROOT,
    assert_error,
    assert_fails_with,
    assert_not_attempted,
    assert_passes,
    check_source,
    define,
    exercises_with_checks,
    function_name,
    generic_wrong_answers,
    hints_not_reached,
    ignored_arguments_that_pass,
    notebooks,
    verdict,
)
from notebook_outputs import FIGURE_WIDTH, PRINT_WIDTH, png_width, printed_text

from tinygrad_lite.course.checks import FAILED, GENERIC_HINTS, REGISTRY, get_exercise
from tinygrad_lite.course.notebooks import exercise_ids, meta, read_notebook
from tinygrad_lite.course.release import RAISES

LESSONS = [p.stem for p in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))]
STUB_WIDTH = 100
# JupyterLab at 1280x800 with the file browser open shows about 107 columns of a code cell.
CODE_WIDTH = 100


def lesson_tests(lesson):
    """The module ``tests/test_lessonNN.py`` of ``lesson`` (e.g. "01_forward_pass"), which holds its data."""
    return importlib.import_module(f"test_lesson{lesson[:2]}")


def _ids(lesson):
    return exercise_ids(read_notebook(notebooks(lesson)[0]))


def _rows(name):
    """pytest params (lesson, index) for each row of the list ``name`` in every lesson's test module."""
    params = []
    for lesson in LESSONS:
        try:
            rows = getattr(lesson_tests(lesson), name, [])
        except Exception:  # noqa: BLE001  (a broken module fails its own tests, not the collection of these)
            params.append(pytest.param(lesson, -1, id=f"{lesson[:2]}-unimportable"))
            continue
        params += [pytest.param(lesson, i, id=f"{row[0]}-{i}") for i, row in enumerate(rows)]
    return params


EXERCISES = [pytest.param(lesson, eid, id=eid) for lesson in LESSONS for eid in _ids(lesson)]


def _row(lesson, name, index):
    module = lesson_tests(lesson)
    assert index >= 0, f"tests/test_lesson{lesson[:2]}.py cannot be imported:\n{traceback.format_exc()}"
    return getattr(module, name)[index]


# -------------------------------------------------------------------- the lesson's own answers
@pytest.mark.parametrize("lesson", LESSONS)
def test_the_lesson_module_notebook_and_registry_name_the_same_exercises(lesson):
    ids = _ids(lesson)
    assert sorted(lesson_tests(lesson).SOLUTIONS) == sorted(ids)
    get_exercise(ids[0])  # imports every lesson's checks
    assert sorted(i for i in REGISTRY if i.startswith(lesson[:2] + ".")) == sorted(ids)


@pytest.mark.parametrize("lesson, exercise_id", EXERCISES)
def test_the_solution_passes_every_case(lesson, exercise_id):
    assert_passes(exercise_id, lesson_tests(lesson).SOLUTIONS[exercise_id], min_cases=5)


@pytest.mark.parametrize("lesson, index", _rows("ALSO_RIGHT"))
def test_other_right_answers_pass(lesson, index):
    exercise_id, fn = _row(lesson, "ALSO_RIGHT", index)[:2]
    assert_passes(exercise_id, fn)


@pytest.mark.parametrize("lesson, index", _rows("WRONG"))
def test_a_wrong_answer_fails_with_its_message(lesson, index):
    exercise_id, fn, *texts = _row(lesson, "WRONG", index)
    assert_fails_with(exercise_id, fn, *texts)


@pytest.mark.parametrize("lesson, index", _rows("ERRORS"))
def test_code_that_raises_is_an_error_with_its_message(lesson, index):
    exercise_id, fn, *texts = _row(lesson, "ERRORS", index)
    assert_error(exercise_id, fn, *texts)


@pytest.mark.parametrize("lesson, exercise_id", EXERCISES)
def test_every_hint_tier_is_reached_by_a_wrong_version(lesson, exercise_id):
    module = lesson_tests(lesson)
    rows = list(module.WRONG) + list(getattr(module, "ERRORS", []))
    assert hints_not_reached(exercise_id, rows) == [], "no wrong version reaches these hints"


@pytest.mark.parametrize("lesson, exercise_id", EXERCISES)
def test_a_second_tier_shows_only_when_the_mistake_comes_back(lesson, exercise_id):
    module = lesson_tests(lesson)
    exercise = get_exercise(exercise_id)
    layered = [m.tiers() for m in exercise.mistakes if len(m.tiers()) >= 2]
    # each wrong version's first verdict, computed once (a check of a driven exercise costs a tenth of a second)
    first = [(row[1], verdict(exercise_id, row[1]).message) for row in module.WRONG
             if row[0] == exercise_id] if layered else []
    for tiers in layered:
        fn, message = next(((f, m) for f, m in first if tiers[0] in m), (None, ""))
        assert fn is not None, f"no wrong version reaches: {tiers[0]}"
        assert tiers[1] not in message, "the concrete hint came the first time"
        assert tiers[1] in verdict(exercise_id, fn, times=2).message


# -------------------------------------------------------------------- what every exercise must refuse
@pytest.mark.parametrize("lesson, exercise_id", EXERCISES)
def test_the_answer_kind_is_declared(lesson, exercise_id):
    exercise = get_exercise(exercise_id)
    assert exercise.answer is not None, "declare answer= (TensorAnswer(), ArrayAnswer(), ...)"
    assert set(exercise.generic_hints) <= set(GENERIC_HINTS)


@pytest.mark.parametrize("lesson, exercise_id", EXERCISES)
def test_the_generic_wrong_answers_are_refused(lesson, exercise_id):
    solution = lesson_tests(lesson).SOLUTIONS[exercise_id]
    problems = []
    for what, fn, text in generic_wrong_answers(exercise_id, solution):
        result = verdict(exercise_id, fn)
        if result.status != FAILED or text not in result.message:
            problems.append(f"{what}: {result.status}: {result.message}")
    assert problems == []


@pytest.mark.parametrize("lesson, exercise_id", EXERCISES)
def test_ignoring_an_argument_fails(lesson, exercise_id):
    assert ignored_arguments_that_pass(exercise_id) == [], "the hidden cases must vary these arguments"


@pytest.mark.parametrize("lesson, exercise_id", EXERCISES)
def test_a_crash_is_an_error_that_shows_the_learners_line(lesson, exercise_id):
    def crashes(*args, **kwargs):
        width = len(args) - 20  # (out of range: no case has 20 arguments)
        return args[width]  # IndexError, on the learner's own line
    assert_error(exercise_id, crashes, "return args[width]", "IndexError")


# -------------------------------------------------------------------- the notebooks
@pytest.mark.parametrize("lesson", LESSONS)
def test_the_solution_notebooks_exercise_cells_pass(lesson):
    namespace = dict(lesson_tests(lesson).NAMES)  # one namespace, as in the notebook: one exercise may call another
    pairs = exercises_with_checks(notebooks(lesson)[0])
    for cell, _ in pairs:
        define(cell.source, namespace)
    for cell, check_cell in pairs:
        exercise_id = meta(cell)["exercise"]
        assert_passes(exercise_id, namespace[function_name(exercise_id)])
        # the verdict stored under the check cell is today's: a case added since shows there (re-execute the notebook)
        cases = get_exercise(exercise_id).all_cases()
        hidden = sum(not case.visible for case in cases)
        stored = "".join(printed_text(output) for output in check_cell.get("outputs", []))
        assert stored == f"\u2714 {exercise_id}: passed ({len(cases)} cases, {hidden} of them hidden)", (
            f"solutions/{lesson}.ipynb stores {stored!r} under {exercise_id}'s check: run "
            f"`tinygrad-lite execute solutions/{lesson}.ipynb`, then `tinygrad-lite release`")


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_released_stubs_are_not_attempted_and_fit_100_columns(lesson):
    namespace = dict(lesson_tests(lesson).NAMES)
    for cell, _ in exercises_with_checks(notebooks(lesson)[1]):
        exercise_id = meta(cell)["exercise"]
        too_long = [line for line in cell.source.splitlines() if len(line) > STUB_WIDTH]
        assert too_long == [], f"{exercise_id}: lines over {STUB_WIDTH} columns in the learner's cell"
        if RAISES in cell.metadata.get("tags", []):
            with pytest.raises(NotImplementedError):
                define(cell.source, namespace)
            continue
        define(cell.source, namespace)
        assert_not_attempted(exercise_id, namespace[function_name(exercise_id)], "not attempted yet")


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_code_line_fits_100_columns(lesson):
    """No code line of the solution or of the released lesson runs past the editor's right edge, in a code cell
    or in a markdown cell's fenced code block (which JupyterLab wraps as it is: a wrapped comment looks broken)."""
    too_long = [f"{path.relative_to(ROOT)} cell {i} line {n}: {len(line)} columns: {line}"
                for path in notebooks(lesson)
                for i, cell in enumerate(read_notebook(path).cells)
                for n, line in enumerate(_code_lines(cell), 1) if len(line) > CODE_WIDTH]
    assert too_long == [], f"code lines over {CODE_WIDTH} columns:\n" + "\n".join(too_long)


def _code_lines(cell):
    """A code cell's lines, or the lines inside a markdown cell's fenced code blocks."""
    if cell.cell_type == "code":
        return cell.source.splitlines()
    blocks = cell.source.split("```")[1::2] if cell.cell_type == "markdown" else []
    return [line for block in blocks for line in block.splitlines()[1:]]  # (the first: the fence's language)


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_collapsed_block_ends_its_markdown_cell(lesson):
    """JupyterLab gives a closed ``<details>`` no margin below it, so a paragraph after it in the same cell starts
    right under its summary line, as if it were the summary's own text; the next cell starts after a gap."""
    followed = [f"{path.relative_to(ROOT)} cell {i}: {cell.source.rsplit('</details>', 1)[1].strip()[:60]}"
                for path in notebooks(lesson) for i, cell in enumerate(read_notebook(path).cells)
                if cell.cell_type == "markdown" and "</details>" in cell.source
                and not cell.source.rstrip().endswith("</details>")]
    assert followed == [], "text after a </details> in its cell (move it into a markdown cell of its own):\n" + \
        "\n".join(followed)


# Figure text must render at least 10 px high: 8 pt at the inline backend's 100 dpi is 11 px (7.2 pt is 10 px).
SMALLEST_FONT = 8
_FONT_SIZE = re.compile(r"\b(?:fontsize|labelsize|size|title_fontsize)\s*=\s*([0-9.]+|['\"][a-z-]+['\"])")


@pytest.mark.parametrize("lesson", LESSONS)
def test_figures_and_printed_lines_fit_the_notebook_at_laptop_width(lesson):
    """The solution's stored outputs, as a learner sees them in JupyterLab at 1280x800 with the file browser open:
    every figure at most FIGURE_WIDTH px wide (a wider one is shrunk, its text with it), no font size below
    SMALLEST_FONT pt in the code that draws them, and no printed line over PRINT_WIDTH characters (it would wrap)."""
    problems = []
    for i, cell in enumerate(read_notebook(notebooks(lesson)[0]).cells):
        if cell.cell_type != "code":
            continue
        for size in _FONT_SIZE.findall(cell.source):
            small = size.strip("'\"") in ("xx-small", "x-small") or size[0].isdigit() and float(size) < SMALLEST_FONT
            if small:
                problems.append(f"cell {i}: font size {size} (at least {SMALLEST_FONT} pt)")
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                width = png_width(output["data"]["image/png"])
                if width > FIGURE_WIDTH:
                    problems.append(f"cell {i}: a figure {width} px wide (at most {FIGURE_WIDTH}: a smaller figsize)")
            for line in printed_text(output).splitlines():
                if len(line) > PRINT_WIDTH:
                    problems.append(f"cell {i}: a printed line of {len(line)} characters: {line[:80]}")
    assert problems == [], f"solutions/{lesson}.ipynb:\n" + "\n".join(problems)


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_exercise_is_followed_by_its_check_cell(lesson):
    for cell, check_cell in exercises_with_checks(notebooks(lesson)[0]):
        exercise_id = meta(cell)["exercise"]
        assert check_cell is not None and meta(check_cell) == {"check": exercise_id}, exercise_id
        assert check_cell.source.strip() == check_source(exercise_id)


@pytest.mark.parametrize("lesson", LESSONS)
def test_points_live_in_the_registry_and_the_headings_say_them(lesson):
    nb = read_notebook(notebooks(lesson)[0])
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for exercise_id in exercise_ids(nb):
        cell = next(c for c in nb.cells if meta(c).get("exercise") == exercise_id)
        assert "points" not in meta(cell), f"{exercise_id}: points live in the registry (Exercise.points) only"
        points = get_exercise(exercise_id).points
        heading = re.search(rf"^#+ Exercise {re.escape(exercise_id)} \((\d+) points?\)", markdown, re.MULTILINE)
        assert heading, f"no heading '### Exercise {exercise_id} ({points} point{'s' * (points != 1)})'"
        assert int(heading.group(1)) == points, f"{exercise_id}: the heading says {heading.group(1)}, registry {points}"



def _solution_lines(source):
    """The lines between an exercise cell's BEGIN and END SOLUTION markers, stripped."""
    inside, lines = False, []
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            inside = "BEGIN" in line
        elif inside:
            lines.append(line.strip())
    return lines


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_exercise_text_holds_a_line_of_its_solution(lesson):
    """An exercise's text (the markdown cell of its heading) never holds a line of its solution longer than 25
    characters (shorter ones, such as ``optimizer.step()``, are the lesson's vocabulary; lessons test their own
    finished fragments beside this)."""
    nb = read_notebook(notebooks(lesson)[0])
    looked_for = 0
    for cell, _ in exercises_with_checks(notebooks(lesson)[0]):
        exercise_id = meta(cell)["exercise"]
        heading = f"### Exercise {exercise_id} "
        text = next(c.source for c in nb.cells if c.cell_type == "markdown" and heading in c.source)
        lines = [line for line in _solution_lines(cell.source) if len(line) > 25]
        assert [line for line in lines if line in text] == [], exercise_id
        looked_for += len(lines)
    assert looked_for, "no solution line long enough to look for"
