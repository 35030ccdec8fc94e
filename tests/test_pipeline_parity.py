"""``check`` and ``grade`` give the same verdicts (issue 19, item 6): one judging pipeline, two places it runs.

Every wrong answer the lessons' tests hold (the ``WRONG`` and ``ERRORS`` rows of tests/test_lessonNN.py, the
generic wrong answers of tests/lesson_helpers.py) and every mutant of every exercise of lessons 00-10
(``tinygrad_lite.course.mutation.mutants``) goes

- through the check path: ``run_check``, which records the answer case by case in this process, passes each
  record through JSON and judges it, and stops at the first failing case (for the lessons' rows and the generic
  wrong answers, the very check whose message tests/test_lessons.py asserts: ``lesson_helpers.first_run`` keeps
  it and its records, and tests/conftest.py keeps an exercise's tests on one worker, so the answer runs once);
- through the grade path: the same records (the answer runs once: a second run would see what the first left
  behind, e.g. a list kept in a default argument, which grading's fresh kernel never does) judged as the grader
  judges (``grading/judge.py``: every case, a ``Reference`` rebuilt from the seeds, grading's own error hints,
  the points of ``pipeline.score``), with the same seeds as the check. Where the check stopped, the grade path's
  cases are not run.

Both must give the same verdict on the first failing case (status, first message line, hints) at the same case,
and the grade its full points exactly when the check passes. The rows and the generic wrong answers are compared
in the whole suite; the mutants, which this file alone runs there, in the extended tier, where tests/test_mutation.py
runs them too.

All of them are judged in this process, with the judging code that grading runs; a fixed sample is also recorded
in one real grading kernel (sandboxed, as ``tinygrad-lite grade`` runs it), whose records must give the same
verdict on every case and the same points as the records made in this process: what a record holds does not
depend on where it is made. What can differ in a kernel is how an answer is recorded and encoded (the kernel's own
Tensor class, its tripwires on the references, its encoder), which depends on the kind of answer an exercise
declares, not on which mistake the answer makes; so the sample is one mutant of one exercise of each lesson
(00-10), one of the first exercise of each kind of answer the lessons above leave out (a number, arrays, a tuple
of arrays, a run of a driven class, a float64 estimate ...: ``answer_kind``), and the library's Adam as an answer
to 04.MyAdam, as itself and as a bare subclass (the kernel's tripwires name it). The exercise of a lesson and the
mutant of an exercise are picked by a hash of their names: the same every run.

Mutants that run out of their CPU time (a loop that never ends) are left out: a check never finishes them.
"""
import contextlib
import functools
import importlib
import io
import signal
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lite.course import pipeline
from tinygrad_lite.course.checks import PASSED, REGISTRY, get_exercise, run_check
from tinygrad_lite.course.grading import judge, session
from tinygrad_lite.course.grading import sandbox as sandboxes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from lesson_helpers import first_run, generic_wrong_answers  # noqa: E402

try:
    from tinygrad_lite.course import mutation
except ImportError:  # (the mutation tool is another change; without it, the lessons' own wrong answers only)
    mutation = None

get_exercise("00.row_normalize")  # registers every lesson's exercises
COURSE = sorted(i for i in REGISTRY if i[:2].isdigit() and int(i[:2]) <= 10)
TIME_LIMIT = 5.0  # CPU seconds per answer (a check of a right answer takes well under one)


class OutOfTime(BaseException):
    """An answer that used up its CPU time (not an Exception: the pipeline must not record it as an error)."""


@contextlib.contextmanager
def guarded(seconds=TIME_LIMIT):
    """At most ``seconds`` of CPU time, the answer's printed output and warnings dropped."""
    def on_timer(signum, frame):
        raise OutOfTime()
    previous = signal.signal(signal.SIGPROF, on_timer)
    signal.setitimer(signal.ITIMER_PROF, seconds, 1.0)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def seeds(exercise_id):
    """The check's seeds (its cases and its gradients), given to the grade path as grading gives its own."""
    return zlib.crc32(exercise_id.encode()), zlib.crc32(f"{exercise_id} gradients".encode())


def lesson_module(exercise_id):
    return importlib.import_module(f"test_lesson{exercise_id[:2]}")


def answers(exercise_id):
    """[(label, a function that builds the answer, whether tests/test_lessons.py checks the same answer)]: the
    lesson's wrong rows and the generic wrong answers of the solution."""
    module = lesson_module(exercise_id)
    found = [(f"{name}[{k}]", lambda fn=row[1]: fn, True)
             for name in ("WRONG", "ERRORS") for k, row in enumerate(getattr(module, name, []))
             if row[0] == exercise_id]
    found += [(f"generic: {what}", lambda fn=fn: fn, True)
              for what, fn, _ in generic_wrong_answers(exercise_id, module.SOLUTIONS[exercise_id])]
    return found


def mutant_answers(exercise_id):
    """[(label, a function that builds the answer, False)]: the exercise's mutants, as ``answers`` gives them."""
    return [(f"mutant {m.key}", m.build, False) for m in mutants(exercise_id)]


@functools.cache
def mutants(exercise_id):
    """The exercise's mutants, made once (both tests use them); none without the mutation tool."""
    return mutation.mutants(exercise_id) if mutation is not None else []


def first_failure(verdicts):
    return next((v for v in verdicts if v.status != PASSED), None)


# -------------------------------------------------------------------- every answer, check path and grade path
@pytest.mark.parametrize("exercise_id", COURSE)
def test_check_and_grade_agree_on_every_wrong_answer(exercise_id):
    agree_on(exercise_id, answers(exercise_id))


# The mutants are checked here for the first time (tests/test_lessons.py's verdicts are of the rows), which costs
# about as much as the rows' comparison again: with the other mutant runs, the extended tier (.ci/run)
@pytest.mark.extended
@pytest.mark.parametrize("exercise_id", COURSE)
def test_check_and_grade_agree_on_every_mutant(exercise_id):
    found = mutant_answers(exercise_id)
    agree_on(exercise_id, found, least=1 if found else 0)


def agree_on(exercise_id, found, least=1):
    """Each answer of ``found`` (as ``answers`` gives them) through the check path and the grade path: the same
    verdict on the first failing case, and full points exactly when the check passes; at least ``least`` of them
    compared."""
    exercise = get_exercise(exercise_id)
    check_reference = pipeline.Reference.for_check(exercise)
    reference = judge.Reference(exercise, *seeds(exercise_id))  # rebuilt from the seeds, as the grader does
    n = len(reference.cases)
    assert [(c.label, c.visible) for c in reference.cases] == [(c.label, c.visible) for c in check_reference.cases]
    assert reference.grad_seed == check_reference.grad_seed
    del check_reference  # the same cases
    disagree, compared, left_out = [], 0, []
    for label, build, checked_by_the_lessons_tests in found:
        records = {}
        try:
            with guarded():
                try:
                    fn = build()
                except Exception:  # noqa: BLE001  (a mutant whose cell does not run: nothing to check)
                    left_out.append(f"{label}: its cell does not run")
                    continue
                if checked_by_the_lessons_tests:  # the check that tests/test_lessons.py asserts on, run once
                    result, records = first_run(exercise_id, fn)
                else:  # a mutant: one Reference serves both paths (its answers are computed once)
                    result = run_check(exercise, fn, reference=reference, records=records)
        except OutOfTime:
            left_out.append(f"{label}: out of time")
            continue
        verdicts, _ = judge.judge_exercise(exercise, reference, records)
        points = pipeline.score(exercise.points, verdicts)
        failing = first_failure(verdicts)
        check = (result.status, result.message.splitlines()[0], result.passed_cases)
        grade = (failing.status, failing.title, failing.index) if failing else (PASSED, None, n)
        if result:
            agree = failing is None and points == exercise.points
        else:
            agree = check == grade and points < exercise.points and (
                failing.status != "failed" or tuple(failing.hints) == result.hints)
        if not agree:
            disagree.append(f"{label}:\n  check: {check} {result.hints}\n  grade: {grade} "
                            f"{failing and failing.hints}, {points} of {exercise.points} points")
        compared += 1
    assert compared >= least, f"{exercise_id}: no answers to compare"
    assert disagree == [], f"{exercise_id}: check and grade disagree on {len(disagree)} of {compared} answers " \
                           f"(left out: {left_out}):\n" + "\n".join(disagree)


# -------------------------------------------------------------------- a sample, in a real grading kernel
def answer_kind(exercise_id):
    """The kind of answer an exercise declares (what a kernel records and encodes): its class, with its parts'."""
    answer = get_exercise(exercise_id).answer
    parts = getattr(answer, "kinds", None)
    return f"{type(answer).__name__}({', '.join(type(k).__name__ for k in parts)})" if parts else type(answer).__name__


def _sample():
    """[(key, exercise id, name, cell source, a function that builds the same answer here)]: see the module's
    docstring."""
    sample = []
    if mutation is not None:
        chosen = []
        for lesson in sorted({int(i[:2]) for i in COURSE}):  # one exercise of each lesson
            ids = [i for i in COURSE if int(i[:2]) == lesson and mutants(i)]
            if ids:
                chosen.append(ids[zlib.crc32(f"lesson {lesson}".encode()) % len(ids)])
        for exercise_id in COURSE:  # and the first of each kind of answer that those leave out
            if answer_kind(exercise_id) not in {answer_kind(i) for i in chosen} and mutants(exercise_id):
                chosen.append(exercise_id)
        for exercise_id in chosen:
            made = mutants(exercise_id)
            mutant = made[zlib.crc32(exercise_id.encode()) % len(made)]
            prelude = mutation.exercise_cell(exercise_id).prelude
            sample.append((f"{exercise_id} {mutant.key}", exercise_id, exercise_id.split(".", 1)[1],
                           "\n".join(prelude) + "\n" + mutant.source, mutant.build))
    for key, source in (("04.MyAdam is optim.Adam", "from tinygrad_lite import optim\n\nMyAdam = optim.Adam\n"),
                        ("04.MyAdam subclasses optim.Adam", "from tinygrad_lite import optim\n\n\n"
                                                            "class MyAdam(optim.Adam):\n    pass\n")):
        def build(source=source):
            namespace = {"__name__": "__main__"}
            exec(compile(source, "<a learner's cell>", "exec"), namespace)
            return namespace["MyAdam"]
        sample.append((key, "04.MyAdam", "MyAdam", source, build))
    return sample


def _cell(k, key, name, source):
    """A plan's exercise cell that runs ``source`` in a namespace of its own (so that two answers to one exercise,
    or a mutated helper, do not overwrite each other) and binds its answer to ``answer_k``."""
    return {"n": k, "role": "exercise", "exercise": key, "name": f"answer_{k}",
            "source": f"_ns = {{'__name__': '__main__'}}\nexec(compile({source!r}, {f'<learner {key}>'!r}, 'exec'), "
                      f"_ns)\nanswer_{k} = _ns[{name!r}]\ndel _ns\n"}


def _kernel_sandbox():
    try:
        return sandboxes.choose("auto")
    except RuntimeError as e:
        pytest.skip(f"no grading kernel can start here: {e}")


@pytest.mark.extended  # a real grading kernel: .ci/run runs it after the whole suite (conftest.py)
@pytest.mark.xdist_group("pipeline-parity-kernel")
def test_a_grading_kernel_records_what_this_process_records(tmp_path):
    sandbox = _kernel_sandbox()
    sample = _sample()
    plan = {"cells": [_cell(k, key, name, source) for k, (key, _, name, source, _) in enumerate(sample)],
            "exercises": [{"id": eid, "key": key, "name": f"answer_{k}"}
                          for k, (key, eid, _, _, _) in enumerate(sample)]}
    given = {key: list(seeds(eid)) for key, eid, *_ in sample}
    uid = sandboxes.kernel_uid(0)
    outcome = session.run_kernel(sandbox, plan, given, sandboxes.limits(2048, 300, uid), 120,
                                 time.monotonic() + 300, 10 * 2 ** 20, None, uid)
    assert outcome["end"] == "done", outcome["reason"]
    recorded = {}
    for line in outcome["answers"]:
        if isinstance(line.get("i"), int):
            recorded.setdefault(line["id"], {})[line["i"]] = line
    recorder = pipeline.Recorder()
    disagree = []
    for key, exercise_id, _, _, build in sample:
        exercise = get_exercise(exercise_id)
        reference = judge.Reference(exercise, *seeds(exercise_id))
        with guarded(30):
            fn = build()
            here = {i: pipeline.roundtrip(recorder.record(exercise, fn, case, reference.grad_seed_of(i)))
                    for i, case in enumerate(reference.cases)}
        in_kernel = judge.judge_exercise(exercise, reference, recorded.get(key, {}))[0]
        in_process = judge.judge_exercise(exercise, reference, here)[0]
        kernel_points = pipeline.score(exercise.points, in_kernel)
        if ([(v.status, v.title) for v in in_kernel] != [(v.status, v.title) for v in in_process]
                or kernel_points != pipeline.score(exercise.points, in_process)):
            disagree.append(f"{key}: kernel {[(v.status, v.title) for v in in_kernel]}, {kernel_points} "
                            f"points; this process {[(v.status, v.title) for v in in_process]}")
        if exercise_id == "04.MyAdam":  # the library's Adam as the answer: write it yourself, in grading too
            assert kernel_points == 0 and all("write it yourself" in v.title and "tinygrad_lite.optim.Adam"
                                              in v.title for v in in_kernel), (key, in_kernel)
    assert len(sample) >= 2 and disagree == []
