"""Judging a kernel's answers, in the grader's own process: case by case, with the exercises' own rules.

For each exercise the grader makes the hidden cases from the same seed the kernel got, with the exercise's own
``cases(rng)``, and computes the reference answers here (``Reference``; once per lesson, shared by every
submission). It then judges each case's answer in the order a check does (``checks.py``): an error or a stub;
numpy's warnings for an exercise about overflow; the kind of answer (``answers.py``: the answer is rebuilt from
its encoding, a Tensor as a Tensor); the numbers, with the exercise's ``compare`` or tolerances; the inputs left
unchanged; for a differentiable exercise, the result connected to its inputs and the gradients of the same
seeded weighted sum equal to the reference's. A wrong answer gets the hints a check would give (the exercise's
mistakes, an ignored argument, the generic hints it opted in to), in tiers: the concrete hint once the same
mistake comes back in a later case. An exercise's points are its share of passed cases.

The kernel's answers are data from an untrusted process: an answer that does not decode is a failed case, and a
fact the grader needs but the kernel did not report (the gradients of a differentiable exercise) fails the case.
"""
import copy
import re
from collections import Counter

import numpy as np

from .. import checks
from ..answers import TensorAnswer, tensor_parts
from ..checks import (
    GENERIC_ERROR_HINTS,
    _grad_inputs,
    _hints,
    _jitter,
    _parameter_names,
    _quietly,
    _tiers,
    _weighted_sum,
    as_numpy,
    compare_arrays,
)
from ..display import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from .encode import BadAnswer, decode

NOT_RUN = "not run"
GRADING_ERROR_HINTS = (
    checks.ErrorHint(r"^NameError: name '(\w+)' is not defined",
                     "only your exercise cells are graded, with the instructor's copy of every other cell: a helper "
                     "or an import of your own that lives in another cell is not there. Put what your function needs "
                     "inside its exercise cell"),
)


def _tensor(array):
    from ... import from_numpy
    return from_numpy(np.array(array))


class Reference:
    """The hidden cases of one exercise from one seed, and the reference's answers (and gradients) on them."""

    def __init__(self, exercise, case_seed, grad_seed):
        self.exercise, self.grad_seed = exercise, grad_seed
        self.cases = list(exercise.cases(np.random.default_rng(case_seed)))
        self.raw, self.expected = [], []
        for case in self.cases:
            args, kwargs = copy.deepcopy((case.args, case.kwargs))
            raw = _quietly(exercise.reference, args, kwargs, exercise)
            self.raw.append(raw)
            self.expected.append(as_numpy(raw))
        self._grads = {}

    def grads(self, i):
        """[(input name, gradient array or None)] of the reference on case ``i``, with the kernel's jitter."""
        if i not in self._grads:
            exercise, case = self.exercise, self.cases[i]
            args, kwargs = copy.deepcopy((case.args, case.kwargs))
            names = _parameter_names(exercise.reference, len(args))
            inputs = _grad_inputs(exercise, args, kwargs, names)
            seed = (self.grad_seed + i) % 2 ** 32
            _jitter(inputs, exercise.grad_jitter, seed)
            raw = _quietly(exercise.reference, args, kwargs, exercise)
            parts = tensor_parts(exercise.answer or TensorAnswer(), raw)
            with np.errstate(all="ignore"):
                _weighted_sum(parts, seed).backward()
            self._grads[i] = [(name, None if t.grad is None else t.grad.numpy()) for name, t in inputs]
        return self._grads[i]


def where(case, i, n):
    text = "the example shown in the notebook" if case.visible else f"hidden case {i + 1} of {n}"
    return text + (f" ({case.label})" if case.label else "")


def _error_hints(exercise, text, seen):
    """The hints for an error, from its text "ExceptionType: message" (as ``checks._error_hints``)."""
    for index, hint in enumerate(GRADING_ERROR_HINTS + tuple(exercise.error_hints) + GENERIC_ERROR_HINTS):
        if re.search(hint.pattern, text):
            return _tiers(exercise, ("error", index), hint.tiers(), seen)
    return ()


def judge_case(exercise, reference, i, record, seen):
    """The verdict on case ``i``: {"status", "detail", "hints"}."""
    case, raw_expected, expected = reference.cases[i], reference.raw[i], reference.expected[i]
    if record is None:
        return {"status": NOT_RUN, "detail": "the exercise stopped before this case", "hints": []}
    error = record.get("error")
    if isinstance(error, dict):
        kind = error.get("kind")
        if kind == "not_attempted":
            return {"status": NOT_ATTEMPTED, "detail": "not attempted: the exercise cell still raises "
                                                       "NotImplementedError", "hints": []}
        if kind == "other_stub":
            name = str(error.get("name"))
            return {"status": ERROR, "detail": f"your function calls {name}, which is not written yet (it still "
                                               "raises NotImplementedError)", "hints": []}
        if kind in ("too_large", "unreadable"):
            return {"status": FAILED, "detail": str(error.get("text", ""))[:500], "hints": []}
        text = str(error.get("exception", ""))
        detail = "\n".join(s for s in (str(error.get("traceback", ""))[-1500:], str(error.get("shapes", ""))) if s)
        return {"status": ERROR, "detail": f"your code raised an error:\n{detail}",
                "hints": list(_error_hints(exercise, text, seen))}
    if record.get("reference_called"):
        return {"status": FAILED, "detail": "your function called the course's own reference implementation of this "
                                            "exercise: that answer is the library's, not yours", "hints": []}
    try:
        raw = decode(record.get("answer"), _tensor)
    except BadAnswer as e:
        return {"status": FAILED, "detail": f"the kernel's record of the answer is damaged ({e})", "hints": []}
    got = as_numpy(raw)
    warned = record.get("warnings")
    if warned and exercise.warning_kinds() and isinstance(warned, list):
        hints = _hints(exercise, got, case, expected, seen, generic=False)
        if not hints and exercise.stability_hint:
            tiers = exercise.stability_hint
            hints = _tiers(exercise, "stability", (tiers,) if isinstance(tiers, str) else tuple(tiers), seen)
        text = "; ".join(str(w) for w in warned[:5])
        return {"status": FAILED, "hints": list(hints),
                "detail": f"numpy warned inside your function: {text}. An intermediate value overflowed or became "
                          "invalid (e.g. exp of a large number), even where the final numbers may look right. This "
                          "exercise is about computing it without that: no step may overflow."}
    refusal = exercise.answer.refuse(raw, raw_expected) if exercise.answer is not None else None
    if refusal:
        return {"status": FAILED, "detail": refusal,
                "hints": list(_hints(exercise, got, case, expected, seen, generic=False))}
    if exercise.compare is not None:
        failure = exercise.compare(got, expected, case)
    else:
        failure = compare_arrays(got, expected, exercise.rtol, exercise.atol)
    if failure:
        return {"status": FAILED, "detail": failure, "hints": list(_hints(exercise, got, case, expected, seen))}
    changed = record.get("changed")
    if exercise.check_inputs and isinstance(changed, list) and changed:
        name = str(changed[0])[:80]
        return {"status": FAILED, "hints": [],
                "detail": f"your function changed its input `{name}` in place (e.g. {name} /= ..., {name}[...] = ... "
                          f"or {name}.add_(...)): the caller's {name} changes too. Leave the inputs as they are and "
                          "compute a new result, out of place."}
    if exercise.grad and tensor_parts(exercise.answer or TensorAnswer(), raw_expected):
        return _judge_graph(exercise, reference, i, record.get("graph"))
    return {"status": PASSED, "detail": "passed", "hints": []}


def _judge_graph(exercise, reference, i, graph):
    """The part of a case run with inputs that require grad (see ``checks._check_graph``)."""
    def fail(detail, hints=()):
        return {"status": FAILED, "detail": "with inputs that require grad (as a network's weights do): " + detail,
                "hints": [h for h in hints if h]}
    expected_grads = reference.grads(i)
    if not expected_grads:
        return {"status": PASSED, "detail": "passed", "hints": []}
    if not isinstance(graph, dict):
        return fail("no record of this run came back from the kernel")
    if isinstance(graph.get("error"), dict):
        error = graph["error"]
        return fail("your function works on plain tensors, but raised here:\n"
                    + str(error.get("traceback", error.get("text", "")))[-1500:])
    if graph.get("warnings") and exercise.warning_kinds():
        return fail("numpy warned inside your function: " + "; ".join(str(w) for w in graph["warnings"][:5]))
    connected = graph.get("connected")
    if not isinstance(connected, list) or not connected:
        try:
            raw = decode(graph.get("answer"), _tensor)
        except BadAnswer:
            raw = None
        answer = exercise.answer or TensorAnswer()
        return fail(answer.refuse(raw, None) or "the result is not a tensor")
    for item in connected:
        if not (isinstance(item, list) and len(item) == 2 and item[1] is True):
            what = "your result" if not isinstance(item, list) or item[0] is None else f"result {item[0]}"
            return fail(f"{what} is not connected to the graph: requires_grad is False although the inputs require "
                        "grad. It was rebuilt from numpy, detached (.detach(), .item()) or computed under no_grad, so "
                        "loss.backward() cannot reach the inputs: stay with tensor ops")
    if isinstance(graph.get("backward_error"), str):
        return fail("the backward pass through your result failed:\n" + graph["backward_error"][-1500:])
    grads = graph.get("grads")
    if not isinstance(grads, list) or len(grads) != len(expected_grads):
        return fail("no gradients came back from the kernel")
    for (name, want), got_node in zip(expected_grads, grads):
        if want is None:
            continue
        if got_node is None:
            return fail(f"no gradient reached `{name}`: your result does not depend on it through tensor ops")
        try:
            got = decode(got_node)
        except BadAnswer:
            return fail(f"the gradient of `{name}` came back damaged")
        atol = exercise.grad_atol * max(1.0, float(np.max(np.abs(want), initial=0.0)))
        failure = compare_arrays(got, want, exercise.grad_rtol, atol, f"the gradient with respect to `{name}`")
        if failure:
            if isinstance(got, np.ndarray) and got.dtype.kind == "f" and not np.isfinite(got).all():
                hint = ("the gradient has inf or nan: some step of your formula overflows, even where its value is "
                        "not used")
            elif isinstance(got, np.ndarray) and got.shape == want.shape and np.any((got == 0) & (want != 0)):
                hint = ("the gradient is 0 where it should not be: a clamp, a rounding or a comparison in your "
                        "formula cuts the path from the result back to the input")
            else:
                hint = ("part of your formula does not pass the gradient back: a .detach(), a number taken out with "
                        ".item() or a tensor rebuilt from numpy inside the formula is a constant to backward")
            return {"status": FAILED, "detail": "the values are right, the gradient is not: " + failure,
                    "hints": [h for h in (exercise.grad_hint, hint) if h]}
    return {"status": PASSED, "detail": "passed", "hints": []}


def judge_exercise(exercise, reference, records):
    """Every case of one exercise: [case verdicts], the case count, the count passed. ``records``: {i: record}."""
    seen = Counter()
    verdicts = []
    n = len(reference.cases)
    for i, case in enumerate(reference.cases):
        try:
            verdict = judge_case(exercise, reference, i, records.get(i), seen)
        except Exception as e:  # noqa: BLE001  (an answer the exercise's own compare cannot handle)
            verdict = {"status": FAILED, "detail": f"the answer could not be judged: {type(e).__name__}: "
                                                   f"{str(e)[:200]}", "hints": []}
        verdict.update(index=i, where=where(case, i, n), visible=bool(case.visible))
        verdicts.append(verdict)
    passed = sum(v["status"] == PASSED for v in verdicts)
    return verdicts, passed


_NUMBER = re.compile(r"(?<![\w.])[-+]?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][-+]?\d+)?|(?<![\w.])[-+]?(inf|nan)\b")


def mask_numbers(text):
    """The text with its decimal numbers replaced by "…" (whole numbers, such as counts and shapes, stay)."""
    return _NUMBER.sub("…", text)


def for_learner(verdict):
    """A verdict's detail as the learner may see it: for a hidden case, without the numbers (no hidden input or
    reference value leaves the grader) and cut short."""
    detail = verdict["detail"]
    if not verdict["visible"]:
        detail = re.sub(r"Worst( at index \[[^\]]*\])?: expected .*?\)", "", detail)
        detail = mask_numbers(detail)
    lines = detail.strip().splitlines()
    return "\n".join(line[:300] for line in lines[:12])
