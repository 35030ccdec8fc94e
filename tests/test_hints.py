"""No hint hands over the answer: a hint names the concept and where to look, and its tiers never reach the finished
line (CONTRIBUTING.md, "Adding a lesson"). Checked on every tier of every Mistake and ErrorHint of the registry (and
on the generic ErrorHints), and on every message string the lesson modules build in code (such as a RunAnswer's
failure), against the statements of each exercise's solution in ``solutions/NN_*.ipynb``.

A statement of the solution counts when, its whitespace normalised, it is more than a few characters of real code:
the whole line, or an expression it is made of (the value it assigns or returns, the arguments of the call it
makes, the condition it tests). The lesson's vocabulary does not count: a name, a call with plain names as its
arguments (``optimizer.step()``, ``tl.zeros_like(p)``), an index by a plain name (``self.state[p]``), ``return`` of
a name or a constant, a test for None, and whatever the exercise's own text shows (it names its useful calls, e.g.
``x.mean(dim=0)``). A hint can also hand over the finished line in words ("add s = the square root of ..."): the test
cannot see that; the hints are written to name the concept and where to look. Reads the notebooks' JSON and parses
the lesson modules: cheap."""
import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

from tinygrad_lite.course import exercises  # noqa: F401  (importing it registers every lesson's exercises)
from tinygrad_lite.course.notebooks import BEGIN, END, KEY
from tinygrad_lite.course.registry import GENERIC_ERROR_HINTS, REGISTRY

ROOT = Path(__file__).resolve().parents[1]
MIN_LENGTH = 12  # characters of normalised code: `(x-mean)/std` counts, `total=0.0` is too short to give anything away
# a name, a call with plain names as its arguments, an index by a plain name or string, a return of a name or a
# constant, a test for None
VOCABULARY = re.compile(r"^(?:[\w.]+|[\w.]+\((?:[\w.]+(?:,[\w.]+)*)?\)|[\w.]+\[[\w.'\"]+\]|return [\w.'\"]+"
                        r"|[\w.]+ is(?: not)? None)$")
ASSIGNED = re.compile(r"^(?:return\b ?|[\w.\[\]'\"]+(?:,[\w.\[\]'\"]+)*(?:[-+*/]|\*\*|//)?=(?!=))(.+)$")
FRAGMENT = re.compile(r"[A-Za-z_][\w.\[\]'\"]*\s*(?:[-+*/]|\*\*|//)?=(?!=)\s*[^,;:]+")


def normalise(code):
    """Whitespace made canonical: runs become one space, kept only between two word characters
    (``x.var(dim=0, unbiased=False)`` -> ``x.var(dim=0,unbiased=False)``, ``[[] for _ in m]`` -> ``[[]for _ in m]``)."""
    return re.sub(r" (?=\W)|(?<=\W) ", "", re.sub(r"\s+", " ", code).strip())


def without_comment(line):
    """A line of code without its comment (a ``#`` inside a string stays)."""
    line = line.strip()
    try:
        for token in tokenize.generate_tokens(io.StringIO(line + "\n").readline):
            if token.type == tokenize.COMMENT:
                return line[:token.start[1]].rstrip()
    except (tokenize.TokenError, IndentationError, SyntaxError):  # a line of a statement that spans several
        pass
    return line


def exercises_in(notebook):
    """``{exercise id: (its solution's lines, the text a learner reads before it)}`` of one solution notebook: the
    lines between the markers, without comments; the text, every cell from the exercise's heading to its cell."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = {}
    for index, cell in enumerate(cells):
        exercise_id = cell.get("metadata", {}).get(KEY, {}).get("exercise")
        if not exercise_id:
            continue
        source = "".join(cell["source"])
        block = source.split(BEGIN, 1)[1].rsplit(END, 1)[0] if BEGIN in source else ""
        lines = [without_comment(line) for line in block.splitlines()]
        lines = [line for line in lines if line and BEGIN not in line and END not in line]
        heading = max((i for i in range(index) if f"Exercise {exercise_id} " in "".join(cells[i]["source"])),
                      default=index)
        found[exercise_id] = (lines, "\n".join("".join(c["source"]) for c in cells[heading:index]))
    return found


SOLUTIONS = {eid: found for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
             for eid, found in exercises_in(path).items()}


def parsed(line):
    """``(source, statement)``: one line of a solution parsed on its own (a line that opens a block gets a ``pass``,
    the first line of a bracket that spans lines is closed), or None when it is part of a longer statement."""
    for source in (line, line + " pass", line + ")", line + "]", line + "}"):
        try:
            return source, ast.parse(source).body[0]
        except (SyntaxError, IndexError):
            continue
    return None


def expressions(line):
    """The expressions a statement is made of: the value it assigns or returns, the arguments of the call it makes,
    the condition it tests (without a ``not``), what it loops over; and the element of a comprehension or generator
    among those (``all(f(p) for p in ps)`` gives ``f(p)`` too)."""
    found = parsed(line)
    if found is None:
        return []
    source, node = found
    top = {ast.Assign: "value", ast.AugAssign: "value", ast.AnnAssign: "value", ast.Return: "value",
           ast.Expr: "value", ast.If: "test", ast.While: "test", ast.For: "iter"}
    values = [getattr(node, top[type(node)])] if type(node) in top else []
    for value in list(values):
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
            values.append(value.operand)
    for value in list(values):
        if isinstance(value, ast.Call):
            values += list(value.args) + [k.value for k in value.keywords]
    values += [v.elt for v in values if isinstance(v, (ast.ListComp, ast.SetComp, ast.GeneratorExp))]
    values += [a.elt for v in values if isinstance(v, ast.Call)
               for a in v.args if isinstance(a, (ast.ListComp, ast.SetComp, ast.GeneratorExp))]
    return [ast.get_source_segment(source, v) for v in values if v is not None]


def statements(lines, text=""):
    """``{normalised code: its solution line}``: each line that says something, and the expressions it is made of
    (``expressions``), unless one is vocabulary or the exercise's ``text`` shows it. A line that only names a piece
    of vocabulary (``n = x.shape[0]``, ``state = self.state[p]``) is vocabulary too."""
    shown, found = normalise(text), {}
    for line in lines:
        parts = [normalise(code) for code in expressions(line) if code]
        assigned = ASSIGNED.match(normalise(line))
        if assigned and VOCABULARY.match(assigned.group(1)):
            continue
        for code in {normalise(line), *parts}:
            if len(code) >= MIN_LENGTH and not VOCABULARY.match(code) and code not in shown:
                found[code] = line
    return found


def given_away(hint, solution):
    """The statements of ``solution`` (from ``statements``) that ``hint`` holds: whole, or as a code fragment
    ``name = expression`` that is one of them, or assigns one of them to another name."""
    text = normalise(hint)
    found = {solution[code] for code in solution if code in text}
    for fragment in FRAGMENT.finditer(hint):
        code = normalise(fragment.group(0))
        right = ASSIGNED.match(code)
        found |= {solution[c] for c in (code, right.group(1) if right else code) if c in solution}
    return sorted(found)


def tiers(exercise):
    """Every hint text of an exercise: each tier of its mistakes and error hints, and its grad_hint if a text."""
    texts = [tier for hint in list(exercise.mistakes) + list(exercise.error_hints) for tier in hint.tiers()]
    return texts + ([exercise.grad_hint] if isinstance(exercise.grad_hint, str) and exercise.grad_hint else [])


def course():
    """The course's exercises: those of a lesson with a solution notebook (other test files register exercises of
    their own, such as tests/test_checks.py's "99.relu", in the same REGISTRY)."""
    numbers = {path.name[:2] for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")}
    return sorted(eid for eid in REGISTRY if eid.split(".")[0] in numbers)


def lessons():
    return sorted({eid.split(".")[0] for eid in course()})


@pytest.mark.parametrize("lesson", lessons())
def test_no_hint_tier_states_a_line_of_its_solution(lesson):
    leaks = []
    for exercise_id in (e for e in course() if e.startswith(lesson + ".")):
        assert exercise_id in SOLUTIONS, f"{exercise_id}: no exercise cell in solutions/"
        solution = statements(*SOLUTIONS[exercise_id])
        leaks += [f"{exercise_id}: {line!r} in the hint {text!r}"
                  for text in tiers(REGISTRY[exercise_id]) for line in given_away(text, solution)]
    assert leaks == [], "hints that hand over a line of the solution (name the concept and where to look):\n" + \
        "\n".join(leaks)


def test_no_generic_error_hint_states_a_line_of_any_solution():
    solution = {code: line for lines, text in SOLUTIONS.values() for code, line in statements(lines, text).items()}
    leaks = [(tier, given_away(tier, solution)) for hint in GENERIC_ERROR_HINTS for tier in hint.tiers()]
    assert [leak for leak in leaks if leak[1]] == []


def message_strings(module):
    """The string constants of a lesson module that can reach a learner: every one but the docstrings (a string
    split over lines is one constant; an f-string's literal parts are constants too)."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("lesson", lessons())
def test_no_message_built_by_a_lessons_checks_states_a_line_of_its_solutions(lesson):
    """Messages made in code (a RunAnswer's failure, a match's own text) are hints too."""
    module = ROOT / "tinygrad_lite" / "course" / "exercises" / f"lesson{lesson}.py"
    solution = {code: line for eid, (lines, text) in SOLUTIONS.items() if eid.startswith(lesson + ".")
                for code, line in statements(lines, text).items()}
    leaks = [f"{module.name}:{lineno}: {line!r} in {text[:150]!r}"
             for lineno, text in message_strings(module) for line in given_away(text, solution)]
    assert leaks == [], "\n".join(leaks)


# -------------------------------------------------------------------- the detector, on hints it must and must not flag
ACTIVATION_STATS = ["self.means = [[] for _ in modules]", "self.stds = [[] for _ in modules]",
                    "self.handles = [module.register_forward_hook(self.hook_for(i))", "for handle in self.handles:",
                    "handle.remove()"]
BATCH_NORM = ["n = x.shape[0]", "s = np.sqrt(x.var(axis=0) + eps)", "x_hat = (x - x.mean(axis=0)) / s",
              "dbeta = dy.sum(axis=0)", "return dx, dgamma, dbeta"]


@pytest.mark.parametrize("hint, lines", [
    ("several of your lists are one and the same list. Make a new list per module: [[] for _ in modules]",
     ACTIVATION_STATS),
    ("s = np.sqrt(x.var(axis=0) + eps), then use s everywhere", BATCH_NORM),
    ("compute std = np.sqrt(x.var(axis=0)+eps) once", BATCH_NORM),              # another name, the same expression
    ("the normalised value:  x_hat  =  (x - x.mean(axis=0))  /  s", BATCH_NORM),  # other spacing
    ("lr * w.grad.norm().item() / w.norm().item()",                               # the argument of a call
     ["ratios.append(lr * w.grad.norm().item() / w.norm().item())"]),
    ("test np.isfinite(g.numpy()).all() for every gradient",                     # a generator's element
     ["if not all(np.isfinite(g.numpy()).all() for g in grads):"]),
])
def test_a_hint_that_gives_a_line_away_is_found(hint, lines):
    assert given_away(hint, statements(lines))


@pytest.mark.parametrize("hint, lines", [
    ("remove every handle you kept: call handle.remove() on each", ACTIVATION_STATS),     # vocabulary
    ("keep the handles that register_forward_hook returns, one list per collector", ACTIVATION_STATS),
    ("dbeta sums the upstream gradient over the batch", BATCH_NORM),                      # the concept, in words
    ("the batch has n = x.shape[0] rows", BATCH_NORM),                               # a name for vocabulary
    ("return the three gradients as a tuple, in the order of the exercise", BATCH_NORM),
])
def test_a_hint_that_names_the_concept_is_not_flagged(hint, lines):
    assert given_away(hint, statements(lines)) == []


def test_what_the_exercise_text_shows_may_be_repeated():
    lines = ["mean = x.mean(dim=0)", "var = x.var(dim=0, unbiased=False)"]
    text = "Useful: `x.mean(dim=0)`, `x.var(dim=0, unbiased=...)`."
    assert given_away("y from x.mean(dim=0)", statements(lines, text)) == []
    assert given_away("use x.var(dim=0, unbiased=False) for y", statements(lines, text)) == [lines[1]]


def test_every_exercise_of_the_registry_has_solution_lines_to_compare():
    assert course() == sorted(SOLUTIONS)
    assert [eid for eid, (lines, _) in SOLUTIONS.items() if not lines] == []
