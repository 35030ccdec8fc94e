"""Every exercise keeps at least three right answers, each written on its own (issue 19, item 5).

A check is only as good as the right answers it has been tried on: with one solution, a check that insists on one
way of writing it (a view where a copy is as good, a loop where a vector op is as good) looks fine. So each lesson's
test file keeps, per exercise, ``SOLUTIONS[exercise id]`` plus its rows in ``ALSO_RIGHT``, and this file asserts
that together they are at least ``MIN_RIGHT_ANSWERS`` distinct answers:

- distinct: no two are the same function, nor the same code written twice (equal bytecode, constants and names,
  whatever the variable names); a class counts by the methods it defines itself (or inherits from a class the
  test file defines), so ``class B(A): pass`` is the same answer as ``A``;
- written for the test: each is defined in a test module, not taken from the library (``tl.train.EarlyStopping``
  as an answer proves nothing about the check, and where the exercise says "write it yourself" it is wrong).

Whether each of them passes is tested in ``tests/test_lessons.py`` (``test_the_solution_passes_every_case`` and
``test_other_right_answers_pass``); this file only counts and compares, so it costs no check runs.
"""
import importlib
import inspect
import types

import pytest
from lesson_helpers import ROOT

from tinygrad_lite.course.notebooks import exercise_ids, read_notebook

MIN_RIGHT_ANSWERS = 3
LESSONS = [p.stem for p in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")) if p.stem[:2] <= "10"]


def right_answers(lesson, exercise_id):
    """``[(where, answer)]``: SOLUTIONS[exercise_id] and every ALSO_RIGHT row of ``exercise_id`` in the lesson's
    test module, each with a short text that says where it stands."""
    module = importlib.import_module(f"test_lesson{lesson[:2]}")
    rows = []
    if exercise_id in module.SOLUTIONS:
        rows.append(("SOLUTIONS", module.SOLUTIONS[exercise_id]))
    rows += [(f"ALSO_RIGHT[{i}]", row[1]) for i, row in enumerate(getattr(module, "ALSO_RIGHT", []))
             if row[0] == exercise_id]
    return rows


def _code_key(code):
    """What a code object does, whatever its variables are called: its bytecode, the names it reads (globals and
    attributes) and its constants, nested code objects (lambdas, comprehensions) compared the same way."""
    consts = tuple(_code_key(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
                   for c in code.co_consts)
    return code.co_code, code.co_names, consts


def _own_classes(cls):
    """``cls`` and the classes in its method resolution order that a test module defines (not the library's)."""
    return [c for c in cls.__mro__ if c.__module__.startswith("test_")]


def _unwrap(fn):
    """The function behind a decorator or ``functools.partial``, for its code."""
    while True:
        if isinstance(fn, types.MethodType):
            fn = fn.__func__
        elif hasattr(fn, "func") and callable(fn.func):  # functools.partial
            fn = fn.func
        elif hasattr(fn, "__wrapped__"):
            fn = fn.__wrapped__
        else:
            return fn


def fingerprint(answer):
    """What makes an answer the same as another: for a function its code (``_code_key``); for a class the code of
    every method that it or a base class written in a test module defines, by name."""
    if inspect.isclass(answer):
        methods = {}
        for cls in reversed(_own_classes(answer)):  # a subclass's method replaces its base's of the same name
            for name, member in vars(cls).items():
                member = _unwrap(member.__func__ if isinstance(member, (staticmethod, classmethod)) else member)
                if isinstance(member, types.FunctionType):
                    methods[name] = _code_key(member.__code__)
        return ("class", tuple(sorted(methods.items())))
    fn = _unwrap(answer)
    code = getattr(fn, "__code__", None)
    if code is None:
        return ("object", id(fn))
    return ("function", _code_key(code))


def defined_in_a_test(answer):
    """Whether ``answer`` was written in a test module (not the library's own implementation handed over)."""
    module = getattr(_unwrap(answer), "__module__", "") or ""
    return module.startswith("test_") or module == "lesson_helpers"


EXERCISES = [pytest.param(lesson, eid, id=eid) for lesson in LESSONS for eid in exercise_ids(
    read_notebook(ROOT / "solutions" / f"{lesson}.ipynb"))]


def test_the_lessons_00_to_10_are_all_here():
    assert [lesson[:2] for lesson in LESSONS] == [f"{n:02d}" for n in range(11)]


@pytest.mark.parametrize("lesson, exercise_id", EXERCISES)
def test_every_exercise_has_three_distinct_right_answers(lesson, exercise_id):
    answers = right_answers(lesson, exercise_id)
    where = f"tests/test_lesson{lesson[:2]}.py"
    library = [f"{w}: {getattr(a, '__module__', '?')}.{getattr(a, '__qualname__', a)}" for w, a in answers
               if not defined_in_a_test(a)]
    assert library == [], (f"{exercise_id}: right answers taken from the library, not written in {where}; they say "
                           "nothing about the check (and are wrong where the text says 'write it yourself'): "
                           + "; ".join(library))
    seen, same = {}, []
    for w, answer in answers:
        key = fingerprint(answer)
        if key in seen:
            same.append(f"{w} is the same code as {seen[key]}")
        else:
            seen[key] = w
    assert same == [], f"{exercise_id}: the same answer counted twice in {where}: " + "; ".join(same)
    assert len(seen) >= MIN_RIGHT_ANSWERS, (
        f"{exercise_id}: {len(seen)} distinct right answers in {where} (SOLUTIONS + ALSO_RIGHT), at least "
        f"{MIN_RIGHT_ANSWERS} wanted, written in different idioms (views or copies, in place on a copy or out of "
        "place, loops or vector ops, methods or functions)")


def test_the_fingerprint_tells_same_code_from_other_code():
    def relu_a(x):
        return x.clamp(min=0)

    def relu_b(t):  # the same code, another variable name
        return t.clamp(min=0)

    class Base:
        def step(self):
            return 1

    class Same(Base):
        pass

    class Other(Base):
        def step(self):
            return 2

    assert fingerprint(relu_a) == fingerprint(relu_b)
    assert fingerprint(relu_a) != fingerprint(lambda x: x * (x > 0))
    assert fingerprint(lambda x: x.clamp(min=0)) != fingerprint(lambda x: x.clamp(max=0))
    assert fingerprint(Base) == fingerprint(Same) != fingerprint(Other)
    assert defined_in_a_test(relu_a) and not defined_in_a_test(inspect.isclass)
