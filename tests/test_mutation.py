"""Mutation testing (tinygrad_lite/course/mutation.py): the operators, the judging, the command, and the course.

The first part uses a small made-up function and exercise, so that the expected mutants and verdicts are known.
The last test runs the mutation testing of every exercise of the course: each distinguishable mutant of its
solution must be killed by its check, and each equivalent one reviewed (listed with its reason in
tinygrad_lite/course/exercises/equivalent_mutants.toml).
"""
import builtins

import pytest

from tinygrad_lite.course import cli, mutation
from tinygrad_lite.course.checks import Case, Exercise
from tinygrad_lite.course.mutation import EQUIVALENT, KILLED, UNREVIEWED, HarnessError, Mutant

# -------------------------------------------------------------------- the operators
SOURCE = '''import math


def shrink(x, limit=1.0):
    """Made up: every line of the solution gives the operators something to change."""
    ### BEGIN SOLUTION
    if x > limit and not math.isnan(x):
        return limit  # at the limit
    y = x * 2 + 1
    total = 0
    total += y
    return min(x, total)
    ### END SOLUTION
'''

OPTIMIZER = '''class MyOptimizer:
    def _update(self, p, group):
        ### BEGIN SOLUTION
        p -= group["lr"] * p.grad
        ### END SOLUTION
'''


def _namespace():
    return {"__builtins__": builtins, "__name__": "__main__"}


def _keys(source, name="shrink"):
    return {m.key: m for m in mutation.mutants_of_source("99.made_up", source, namespace=_namespace, name=name)}


def test_each_operator_makes_its_mutants_with_readable_keys():
    keys = _keys(SOURCE)
    expected = {
        "line 7: `x > limit` -> `x >= limit`": "comparison",
        "line 7: `x > limit and (not math.isnan(x))` -> `x > limit or not math.isnan(x)`": "boolean",
        "line 7: `not math.isnan(x)` -> `math.isnan(x)`": "boolean",
        "line 8: delete `return limit`": "statement deleted",
        "line 9: `x * 2 + 1` -> `x * 2 - 1`": "arithmetic",
        "line 9: `x * 2` -> `x / 2`": "arithmetic",
        "line 9: `x * 2` -> `x * 3`": "constant",
        "line 9: `x * 2` -> `x * 1`": "constant",
        "line 9: `x * 2` -> `x * 0`": "constant",
        "line 10: `total = 0` -> `total = 1`": "constant",
        "line 10: `total = 0` -> `total = -1`": "constant",
        "line 10: delete `total = 0`": "statement deleted",
        "line 11: `total += y` -> `total -= y`": "arithmetic",
        "line 11: `total += y` -> `total = y`": "augmented assignment",
        "line 12: `min(x, total)` -> `max(x, total)`": "min/max",
        "line 12: `min(...)` arguments 1 and 2 swapped": "arguments swapped",
        "line 12: `return min(x, total)` -> `return y`": "intermediate returned",
        "line 12: `return min(x, total)` -> `return total`": "intermediate returned",
        "line 7: body of shrink -> `return x`": "input returned",
    }
    missing = sorted(set(expected) - set(keys))
    assert missing == [], f"not generated: {missing}; generated: {sorted(keys)}"
    assert {key: keys[key].operator for key in expected} == expected


def test_only_the_solution_lines_change_and_the_rest_of_the_cell_is_kept():
    for mutant in _keys(SOURCE).values():
        assert mutant.source != SOURCE
        before, after = SOURCE.splitlines(), mutant.source.splitlines()
        assert after[:6] == before[:6], mutant.key  # the import, the signature, the docstring, BEGIN SOLUTION
        assert after[-1] == before[-1] == "    ### END SOLUTION", mutant.key
        assert "1.0" in after[3], mutant.key  # the default lies outside the solution: never mutated
    assert "# at the limit" in _keys(SOURCE)["line 9: `x * 2` -> `x * 3`"].source  # comments kept
    assert "y = x * 3 + 1" in _keys(SOURCE)["line 9: `x * 2` -> `x * 3`"].source


def test_keys_are_unique_and_stable():
    first, second = list(_keys(SOURCE)), list(_keys(SOURCE))
    assert first == second and len(set(first)) == len(first)


def test_two_changes_that_give_the_same_code_are_one_mutant():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x.item()\n    ### END SOLUTION\n"
    keys = _keys(source, name="f")  # the body replaced by `return x`, and `.item()` dropped: the same code
    assert "line 3: body of f -> `return x`" in keys and "line 3: `x.item()` -> `x`" not in keys
    assert len({m.source for m in keys.values()}) == len(keys)


def test_a_group_option_is_read_from_the_defaults():
    keys = _keys(OPTIMIZER, name="MyOptimizer")
    mutant = keys["line 4: `group['lr']` -> `self.defaults['lr']`"]
    assert mutant.operator == "group option from defaults"
    assert 'p -= self.defaults["lr"] * p.grad' in mutant.source or "self.defaults['lr']" in mutant.source
    assert keys["line 4: body of _update -> `pass`"].operator == "input returned"


def test_a_call_the_cell_gives_around_the_solution_is_deleted_too():
    source = ('def train(model):\n    """Made up."""\n    model.train()\n    ### BEGIN SOLUTION\n'
              '    return model.forward()\n    ### END SOLUTION\n')
    keys = _keys(source, name="train")
    assert keys["line 3: delete `model.train()`"].operator == "statement deleted"
    assert [k for k in keys if k.startswith("line 3")] == ["line 3: delete `model.train()`"]


def test_a_mutant_builds_the_object_the_check_takes():
    built = _keys(SOURCE)["line 12: `min(x, total)` -> `max(x, total)`"].build()
    assert built(0.5) == 2.0 and built(0.1, limit=1.0) == pytest.approx(1.2)


def test_a_matrix_product_has_its_factors_swapped_and_its_transpose_dropped():
    keys = _keys("def f(x, w):\n    ### BEGIN SOLUTION\n    return x @ w.T\n    ### END SOLUTION\n", name="f")
    assert keys["line 3: `x @ w.T` -> `w.T @ x`"].operator == "factors swapped"
    assert keys["line 3: `w.T` -> `w`"].operator == "transpose dropped"


def test_precedence_is_kept_where_a_change_needs_parentheses():
    keys = _keys("def f(a, b):\n    ### BEGIN SOLUTION\n    return 2 * a ** b\n    ### END SOLUTION\n", name="f")
    assert keys["line 3: `a ** b` -> `a * b`"].build()(3.0, 2.0) == 12.0  # 2 * (a * b), as the tree says


# -------------------------------------------------------------------- judging
CLIP = '''def clip(x, limit=1.0):
    """x, or limit where x is above it."""
    ### BEGIN SOLUTION
    if x > limit:
        return limit
    return x
    ### END SOLUTION
'''


def _clip_exercise(cases, battery=None):
    return Exercise("99.clip", reference=lambda x, limit=1.0: min(x, limit), cases=lambda rng: list(cases),
                    battery=battery)


def _judge(exercise, source=CLIP, reviewed=None, **kwargs):
    candidates = mutation.mutants_of_source(exercise.id, source, namespace=_namespace, name="clip")
    solution = Mutant(exercise.id, "solution", "none", source, _namespace, "clip")
    return mutation.judge(exercise, candidates, reviewed or {}, solution_mutant=solution, **kwargs)


BELOW = [Case((0.5, 1.0), visible=True), Case((-2.0, 3.0), "below")]
ABOVE = [Case((5.0, 1.0), "above"), Case((2.0, 0.5), "above, another limit")]


def test_a_boundary_mutant_that_behaves_the_same_is_an_unreviewed_equivalent():
    report = _judge(_clip_exercise(BELOW + ABOVE))
    status = {o.key: o.status for o in report.outcomes}
    assert status["line 4: `x > limit` -> `x >= limit`"] == UNREVIEWED  # at x == limit both return limit
    assert status["line 5: delete `return limit`"] == KILLED
    assert report.survivors == [] and report.score == 1.0
    assert not report.ok and "unreviewed equivalent line 4: `x > limit` -> `x >= limit`" in report.problems()[0]


def test_a_reviewed_equivalent_is_accepted_and_a_stale_entry_reported():
    key = "line 4: `x > limit` -> `x >= limit`"
    reviewed = {("99.clip", key): "at x == limit both branches give limit",
                ("99.clip", "line 4: `x > limit` -> `x < limit`"): "a key that no longer exists"}
    report = _judge(_clip_exercise(BELOW + ABOVE), reviewed=reviewed)
    assert [(o.key, o.status, o.detail) for o in report.equivalents] == [
        (key, EQUIVALENT, "at x == limit both branches give limit")]
    assert [k for k, _ in report.stale] == ["line 4: `x > limit` -> `x < limit`"]
    reviewed = {("99.clip", "line 5: delete `return limit`"): "wrongly listed"}
    stale = _judge(_clip_exercise(BELOW + ABOVE), reviewed=reviewed).stale
    assert stale == [("line 5: delete `return limit`", "listed as equivalent, but it is killed")]


def test_a_mutant_the_check_misses_but_the_battery_tells_apart_survives():
    report = _judge(_clip_exercise(BELOW, battery=lambda rng: ABOVE))
    survivors = {o.key: o.detail for o in report.survivors}
    assert "line 5: delete `return limit`" in survivors
    assert "battery: above" in survivors["line 5: delete `return limit`"]  # which battery case showed it
    assert report.score < 1.0 and not report.ok
    assert any(p.startswith("99.clip: survivor line 5: delete `return limit`") for p in report.problems())


def test_a_solution_that_fails_its_own_check_is_a_harness_error_not_killed_mutants():
    wrong = Exercise("99.clip", reference=lambda x, limit=1.0: max(x, limit), cases=lambda rng: list(BELOW))
    with pytest.raises(HarnessError, match="unmutated solution"):
        _judge(wrong)


def test_a_mutant_that_loops_forever_is_stopped_and_one_that_prints_is_silenced(capsys):
    loops = Mutant("99.clip", "loops", "test", "def clip(x, limit=1.0):\n    while True:\n        pass\n",
                   _namespace, "clip")
    prints = Mutant("99.clip", "prints", "test",
                    "def clip(x, limit=1.0):\n    print('x' * 100000)\n    return x + 1\n", _namespace, "clip")
    exercise = _clip_exercise(BELOW)
    solution = Mutant(exercise.id, "solution", "none", CLIP, _namespace, "clip")
    report = mutation.judge(exercise, [loops, prints], {}, time_limit=0.5, solution_mutant=solution)
    assert [(o.key, o.status) for o in report.outcomes] == [("loops", KILLED), ("prints", KILLED)]
    assert report.outcomes[0].detail.startswith("timed out")
    assert "xxxx" not in capsys.readouterr().out


def test_the_reviewed_file_lists_registered_exercises_with_reasons():
    reviewed = mutation.reviewed_equivalents()
    course = set(mutation.course_exercises())
    for (exercise_id, key), reason in reviewed.items():
        assert exercise_id in course, exercise_id
        assert key.startswith("line ") and len(reason) > 20, (exercise_id, key)


def test_a_malformed_reviewed_file_is_refused_with_what_is_wrong(tmp_path):
    path = tmp_path / "equivalent_mutants.toml"
    path.write_text('[[mutant]]\nexercise = "01.relu"\nkey = "line 4: `x` -> `y`"\n')
    with pytest.raises(ValueError, match="number 1 has no reason"):
        mutation.reviewed_equivalents(path)
    path.write_text("[[mutant]\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        mutation.reviewed_equivalents(path)


# -------------------------------------------------------------------- the command
def test_the_command_refuses_an_unknown_exercise_in_one_line(capsys):
    assert cli.main(["mutants", "04.NoSuchThing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown exercise or lesson '04.NoSuchThing'" in err[0]


def test_the_command_prints_a_table_within_100_columns(capsys):
    status = cli.main(["mutants", "01.relu", "01.dense_forward"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["exercise", "mutants", "killed/dist.", "score", "survived", "equivalent", "cpu", "s"]
    assert [line.split()[0] for line in out[1:3]] == ["01.dense_forward", "01.relu"]
    assert all(len(line) <= 100 for line in out), [line for line in out if len(line) > 100]
    assert status == (0 if "problem(s)" not in out[-1] else 1)


def test_the_command_gives_every_mutant_as_json(capsys):
    import json
    status = cli.main(["mutants", "01.relu", "--json"])
    data = json.loads(capsys.readouterr().out)
    [relu] = data["exercises"]
    assert relu["exercise"] == "01.relu" and relu["mutants"] == len(relu["outcomes"]) > 0
    assert {"key", "operator", "status", "detail"} <= set(relu["outcomes"][0])
    assert status == (1 if data["problems"] else 0)


def test_a_lesson_stands_for_its_exercises():
    assert mutation.select(["03"]) == [i for i in mutation.course_exercises() if i.startswith("03.")]
    assert mutation.select(["lesson01", "01.relu"]) == mutation.select(["01_forward_pass"])


# -------------------------------------------------------------------- the course
# .ci/run runs this after the whole suite (conftest.py), beside its own `tinygrad-lite mutants` over the course
@pytest.mark.extended
@pytest.mark.parametrize("exercise_id", mutation.course_exercises())
def test_every_distinguishable_mutant_is_killed(exercise_id):
    """Every mutant of the solution that behaves differently from it somewhere fails the check, and every one
    that behaves like it everywhere is reviewed (listed with its reason in equivalent_mutants.toml)."""
    report = mutation.run(exercise_id)
    assert report.distinguishable > 0
    assert report.problems() == [], "\n".join(report.problems())
