"""Lesson 06 (gradient clipping and gradient health): the answers learners write for each exercise, and the
lesson's special cases.

``tests/test_lessons.py`` runs the generic tests on the data here: ``SOLUTIONS`` and ``ALSO_RIGHT`` pass; every
row of ``WRONG`` fails, and of ``ERRORS`` is an error, with the texts it lists; every hint tier is reached by a
row. The clipping exercises are judged by what they leave behind (the parameters' ``.grad``, their values, the
returned norm), so the wrong answers every exercise must refuse (a Python number or numpy array instead of a 0-d
tensor, a list of new tensors, weights changed in place, an ignored argument) are rows here. This file adds what
is lesson 06's own: the references equal PyTorch's ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` on
every case, the hidden cases vary every argument, the notebook shows each visible example with the check's
numbers, and no exercise text or hint holds a finished line.
"""
import copy
import functools
import math
import types
import warnings

import numpy as np
import pytest
import torch
from lesson_helpers import (
    ALLOWS,
    assert_fails_with,
    assert_not_attempted,
    define,
    exercise_cells,
    finished_lines_shown,
    notebooks,
    verdict,
)

import tinygrad_lite as tl
from tinygrad_lite import nn
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.exercises.lesson06 import (
    Parameters,
    diverging_example,
    first_bad_step_reference,
    norm_example,
    tensors_of,
    value_example,
)
from tinygrad_lite.course.notebooks import meta, read_notebook

LESSON = "06_gradient_clipping"
SOLUTION, RELEASED = notebooks(LESSON)
IDS = ["06.clip_grad_norm_", "06.clip_grad_value_", "06.first_bad_step", "06.diagnose"]
NAMES = {"np": np, "tl": tl, "math": math, "nn": nn}  # what the notebook's earlier cells define


# -------------------------------------------------------------------- solutions, as a learner would write them
def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    if isinstance(parameters, tl.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    norms = tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads])
    total = tl.linalg.vector_norm(norms, norm_type)
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def clip_grad_value_(parameters, clip_value):
    if isinstance(parameters, tl.Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


def first_bad_step(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step, row["name"]
    return None, None


def diagnose(history, limit=1e3):
    step, name = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "exploding" if math.isfinite(norm) else "sudden"


SOLUTIONS = {"06.clip_grad_norm_": clip_grad_norm_, "06.clip_grad_value_": clip_grad_value_,
             "06.first_bad_step": first_bad_step, "06.diagnose": diagnose}


# -------------------------------------------------------------------- other right answers
def clip_norm_concatenated(parameters, max_norm, norm_type=2.0):
    """All gradients as one long vector; a 0-d tensor factor; each p.grad scaled with mul_."""
    params = [parameters] if isinstance(parameters, tl.Tensor) else list(parameters)
    params = [p for p in params if p.grad is not None]
    if not params:
        return tl.zeros(())
    flat = tl.cat([p.grad.flatten() for p in params])
    if norm_type == math.inf:
        total = flat.abs().max()
    else:
        total = (flat.abs() ** norm_type).sum() ** (1.0 / norm_type)
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for p in params:
        p.grad.mul_(coef)
    return total


def clip_norm_with_if(parameters, max_norm, norm_type=2.0):
    """Scales only when the total is above max_norm: wrong for a total within 1e-6 under it, where PyTorch's factor
    max_norm / (total + 1e-6) is below 1 (up to 1% with max_norm = 1e-4: a learner's attack, session 34)."""
    params = [parameters] if isinstance(parameters, tl.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if len(grads) == 0:
        return tl.tensor(0.0, dtype=tl.float32)
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    if not total.item() <= max_norm:  # nan too: a nan total makes every gradient nan, as in PyTorch
        with tl.no_grad():
            for g in grads:
                g *= max_norm / (total.item() + 1e-6)
    return total


def clip_norm_numpy_copy(parameters, max_norm, norm_type=2.0):
    """The norm with numpy, the scaled numbers written back into each gradient with copy_."""
    params = [parameters] if isinstance(parameters, tl.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    arrays = [np.abs(g.numpy().astype(np.float64)).ravel() for g in grads]
    if not arrays:
        return tl.tensor(np.float32(0.0))
    if norm_type == math.inf:
        total = max(a.max() for a in arrays)
    else:
        total = sum((a ** norm_type).sum() for a in arrays) ** (1.0 / norm_type)
    coef = np.minimum(1.0, max_norm / (total + 1e-6))  # np.minimum passes a nan on; Python's min does not
    for g in grads:
        g.copy_(g * float(coef))
    return tl.tensor(total, dtype=grads[0].dtype)


def clip_norm_setitem(parameters, max_norm, norm_type=2.0):
    """Per-tensor norms in a Python list, the factor written into each gradient with g[...] = ..."""
    if isinstance(parameters, tl.Tensor):
        parameters = [parameters]
    grads = []
    for p in parameters:
        if p.grad is not None:
            grads.append(p.grad)
    if grads == []:
        return tl.tensor(0.0)
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    factor = max_norm / (total.item() + 1e-6)
    if not factor >= 1:  # a nan factor (a nan gradient) scales too, as in PyTorch
        for g in grads:
            g[...] = g * factor
    return total


def clip_value_rows_and_masks(parameters, clip_value):
    """Masks written into the gradient itself: no clamp at all."""
    for p in [parameters] if isinstance(parameters, tl.Tensor) else parameters:
        g = p.grad
        if g is None:
            continue
        g[g > clip_value] = clip_value
        g[g < -clip_value] = -clip_value


def clip_value_copy(parameters, clip_value):
    params = [parameters] if isinstance(parameters, tl.Tensor) else list(parameters)
    for p in params:
        if p.grad is not None:
            p.grad.copy_(tl.clamp(p.grad, -clip_value, clip_value))


def clip_value_where(parameters, clip_value):
    params = [parameters] if isinstance(parameters, tl.Tensor) else list(parameters)
    with tl.no_grad():
        for grad in [p.grad for p in params if p.grad is not None]:
            limit = tl.full_like(grad, clip_value)
            grad.copy_(tl.where(grad > limit, limit, tl.where(grad < -limit, -limit, grad)))


def first_bad_step_numpy_clean(history, limit=1e3):
    for step, table in enumerate(history):
        with np.errstate(invalid="ignore"):
            bad = [not np.isfinite(row["norm"]) or row["norm"] > limit for row in table]
        if any(bad):
            return step, table[bad.index(True)]["name"]
    return None, None


def first_bad_step_while(history, limit=1e3):
    step = 0
    while step < len(history):
        names = [r["name"] for r in history[step] if math.isnan(r["norm"]) or math.isinf(r["norm"])
                 or r["norm"] > limit]
        if names:
            return step, names[0]
        step += 1
    return (None, None)


def bad_not_le(history, limit=1e3):
    """not (norm <= limit): True for nan too, since every comparison with nan is False, but False for inf when
    limit = inf (right on every run with a finite limit; review 6 of 0607 counted it right)."""
    for t in range(len(history)):
        for row in history[t]:
            if not row["norm"] <= limit:
                return t, row["name"]
    return None, None


def diagnose_by_rows(history, limit=1e3):
    for table in history:
        for row in table:
            if not math.isfinite(row["norm"]):
                return "sudden"
            if row["norm"] > limit:
                return "exploding"
    return "healthy"


def diagnose_with_numpy(history, limit=1e3):
    norms = np.array([[row["norm"] for row in table] for table in history])
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(norms) | (norms > limit)
    if not bad.any():
        return "healthy"
    step = int(np.argmax(bad.any(axis=1)))
    first = norms[step][np.argmax(bad[step])]
    return "exploding" if np.isfinite(first) else "sudden"


ALSO_RIGHT = [
    ("06.clip_grad_norm_", clip_norm_concatenated),
    ("06.clip_grad_norm_", clip_norm_numpy_copy),
    ("06.clip_grad_norm_", clip_norm_setitem),
    ("06.clip_grad_value_", clip_value_rows_and_masks),
    ("06.clip_grad_value_", clip_value_copy),
    ("06.clip_grad_value_", clip_value_where),
    ("06.first_bad_step", first_bad_step_numpy_clean),
    ("06.first_bad_step", first_bad_step_while),
    ("06.diagnose", diagnose_by_rows),
    ("06.diagnose", diagnose_with_numpy),
]


# -------------------------------------------------------------------- wrong versions, as learners write them
def as_list(parameters):
    return [parameters] if isinstance(parameters, tl.Tensor) else list(parameters)


def norm_returns_item(parameters, max_norm, norm_type=2.0):
    return clip_grad_norm_(parameters, max_norm, norm_type).item()


def norm_returns_numpy(parameters, max_norm, norm_type=2.0):
    return clip_grad_norm_(parameters, max_norm, norm_type).numpy()


def norm_returns_nothing(parameters, max_norm, norm_type=2.0):
    clip_grad_norm_(parameters, max_norm, norm_type)


def norm_returns_1d(parameters, max_norm, norm_type=2.0):
    return clip_grad_norm_(parameters, max_norm, norm_type).reshape(1)


def norm_with_math(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = math.sqrt(sum(float((g ** 2).sum()) for g in grads))
    for g in grads:
        g.mul_(min(1.0, max_norm / (total + 1e-6)))
    return total


def norm_new_tensors(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    coef = min(1.0, max_norm / (total.item() + 1e-6))
    return [g * coef for g in grads]


def norm_rebinds_local(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    coef = min(1.0, max_norm / (total.item() + 1e-6))
    for g in grads:
        g = g * coef  # binds the name g to a new tensor; p.grad stays as it was
    return total


def norm_each_separately(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    for g in grads:
        g.mul_(min(1.0, max_norm / (g.norm(norm_type).item() + 1e-6)))
    return total


def norm_scales_up(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    for g in grads:
        g.mul_(max_norm / (total.item() + 1e-6))
    return total


def norm_no_eps(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    for g in grads:
        g.mul_(min(1.0, max_norm / total.item()))
    return total


def norm_always_2(parameters, max_norm, norm_type=2.0):
    return clip_grad_norm_(parameters, max_norm)


def norm_no_root(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = sum((g.abs() ** norm_type).sum() for g in grads)
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def norm_powers_for_inf(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    with np.errstate(all="ignore"):
        total = sum((g.abs().double() ** norm_type).sum() for g in grads) ** (1.0 / norm_type)
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total.float()


def norm_sum_of_norms(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = sum(g.norm(norm_type) for g in grads)
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def norm_returns_after(parameters, max_norm, norm_type=2.0):
    params = as_list(parameters)
    clip_grad_norm_(params, max_norm, norm_type)
    grads = [p.grad for p in params if p.grad is not None]
    return tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)


def norm_iterates_twice(parameters, max_norm, norm_type=2.0):
    if isinstance(parameters, tl.Tensor):
        parameters = [parameters]
    total = tl.linalg.vector_norm(
        tl.stack([p.grad.norm(norm_type) for p in parameters if p.grad is not None]), norm_type)
    for p in parameters:  # a generator is used up by now
        if p.grad is not None:
            p.grad.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def norm_loops_over_a_tensor(parameters, max_norm, norm_type=2.0):
    params = list(parameters)  # a single tensor becomes its rows, which have no .grad
    with warnings.catch_warnings():  # reading .grad of a row warns: it is not a leaf
        warnings.simplefilter("ignore")
        grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    return clip_grad_norm_(params, max_norm, norm_type)


def norm_clips_the_weights(parameters, max_norm, norm_type=2.0):
    params = [p for p in as_list(parameters) if p.grad is not None]
    total = clip_grad_norm_(copy.deepcopy(params), max_norm, norm_type)
    with tl.no_grad():
        for p in params:
            p.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def norm_none_grads(parameters, max_norm, norm_type=2.0):
    params = as_list(parameters)
    total = tl.linalg.vector_norm(tl.stack([p.grad.norm(norm_type) for p in params]), norm_type)
    for p in params:
        p.grad.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def value_new_tensors(parameters, clip_value):
    return [p.grad.clamp(-clip_value, clip_value) for p in as_list(parameters) if p.grad is not None]


def value_upper_only(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.clamp_(max=clip_value)


def value_zeroes(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad = tl.where(p.grad.abs() > clip_value, tl.zeros_like(p.grad), p.grad)


def value_sign_lost(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad = p.grad.abs().clamp(max=clip_value)


def value_by_norm(parameters, clip_value):
    nn.utils.clip_grad_norm_(as_list(parameters), clip_value)


def value_clamps_weights(parameters, clip_value):
    with tl.no_grad():
        for p in as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)
                p.clamp_(-clip_value, clip_value)


def value_none_grads(parameters, clip_value):
    for p in as_list(parameters):
        p.grad.clamp_(-clip_value, clip_value)


def bad_nan_missed(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if row["norm"] > limit:
                return step, row["name"]
    return None, None


def bad_only_nan(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if math.isnan(row["norm"]):
                return step, row["name"]
    return None, None


def bad_only_nonfinite(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if not np.isfinite(row["norm"]):
                return step, row["name"]
    return None, None


def bad_uses_flag(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if row["flag"]:
                return step, row["name"]
    return None, None


def bad_uses_max_abs(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["max_abs"]) or row["max_abs"] > limit:
                return step, row["name"]
    return None, None


def bad_largest(history, limit=1e3):
    for step, table in enumerate(history):
        norms = [math.inf if not math.isfinite(r["norm"]) else r["norm"] for r in table]
        if max(norms) > limit:
            return step, table[norms.index(max(norms))]["name"]
    return None, None


def bad_counts_from_1(history, limit=1e3):
    for step, table in enumerate(history, start=1):
        for row in table:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step, row["name"]
    return None, None


def bad_tests_the_mean(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["mean"]) or abs(row["mean"]) > limit:  # the wrong column
                return step, row["name"]
    return None, None


def bad_last(history, limit=1e3):
    found = (None, None)
    for step, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                found = (step, row["name"])
                break
    return found


def bad_fixed_limit(history, limit=1e3):
    return first_bad_step(history)


def bad_returns_row(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step, row
    return None, None


def bad_returns_index(history, limit=1e3):
    for step, table in enumerate(history):
        for i, row in enumerate(table):
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step, i
    return None, None


def bad_returns_none(history, limit=1e3):
    step, name = first_bad_step(history, limit)
    return None if step is None else (step, name)


def bad_returns_step_only(history, limit=1e3):
    return first_bad_step(history, limit)[0]


def diag_swapped(history, limit=1e3):
    step, name = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "sudden" if math.isfinite(norm) else "exploding"


def diag_any_nan(history, limit=1e3):
    norms = [row["norm"] for table in history for row in table]
    if any(math.isnan(n) or math.isinf(n) for n in norms):
        return "sudden"
    return "exploding" if max(norms) > limit else "healthy"


def diag_last_step(history, limit=1e3):
    norms = [row["norm"] for row in history[-1]]
    if not all(math.isfinite(n) for n in norms):
        return "sudden"
    return "exploding" if max(norms) > limit else "healthy"


def diag_fixed_limit(history, limit=1e3):
    return diagnose(history)


def diag_returns_fix(history, limit=1e3):
    return {"healthy": "nothing to fix", "exploding": "lower the learning rate",
            "sudden": "fix the formula or the data"}[diagnose(history, limit)]


def diag_returns_none(history, limit=1e3):
    kind = diagnose(history, limit)
    return None if kind == "healthy" else kind


# the walk-through's answers (issue 19) and other wrong answers written as learners write them
def norm_assigns_new_grads(parameters, max_norm, norm_type=2.0):
    params = [p for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(p.grad, norm_type) for p in params]), norm_type)
    c = min(1.0, max_norm / (total.item() + 1e-6))
    for p in params:
        p.grad = p.grad * c  # right numbers, but a new tensor
    return total


def norm_assigns_each_separately(parameters, max_norm, norm_type=2.0):
    params = [p for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(p.grad, norm_type) for p in params]), norm_type)
    for p in params:
        p.grad = p.grad * (max_norm / (p.grad.norm(norm_type) + 1e-6)).clamp(max=1.0)
    return total


def norm_without_abs(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if norm_type == math.inf:
        total = tl.stack([g.max() for g in grads]).max()
    else:
        total = sum((g ** norm_type).sum() for g in grads) ** (1.0 / norm_type)
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def norm_first_tensor_only(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(grads[0], norm_type)
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def norm_root_mean_square(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.cat([g.flatten() for g in grads]).pow(2).mean().sqrt()
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def norm_divides_by_factor(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    for g in grads:
        g.div_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def _total_norm(grads, norm_type):
    return tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)


def norm_skips_inf(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = _total_norm(grads, norm_type)
    if math.isinf(total.item()):
        return total  # "skip the broken step": the inf stays in the gradient
    for g in grads:
        g.mul_((max_norm / (total + 1e-6)).clamp(max=1.0))
    return total


def norm_zeroes_on_inf(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = _total_norm(grads, norm_type)
    if math.isinf(total.item()):
        for g in grads:
            g.zero_()  # hides the broken step: PyTorch's 0 * inf is nan
        return total
    for g in grads:
        g.mul_((max_norm / (total + 1e-6)).clamp(max=1.0))
    return total


def norm_caps_the_total(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = _total_norm(grads, norm_type)
    for g in grads:
        g.mul_(max_norm / (total.clamp(min=max_norm) + 1e-6))  # below max_norm: max_norm / (max_norm + 1e-6), not 1
    return total


def norm_none_when_empty(parameters, max_norm, norm_type=2.0):
    parameters = as_list(parameters)
    if all(p.grad is None for p in parameters):
        return None
    return clip_grad_norm_(parameters, max_norm, norm_type)


def norm_int_zero_when_empty(parameters, max_norm, norm_type=2.0):
    parameters = as_list(parameters)
    if all(p.grad is None for p in parameters):
        return tl.tensor(0)
    return clip_grad_norm_(parameters, max_norm, norm_type)


def value_assigns_new_grads(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad = p.grad.clamp(-clip_value, clip_value)  # right numbers, but a new tensor


def value_loops_over_a_tensor(parameters, clip_value):
    for p in parameters:  # a single tensor: its rows, which have no .grad
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


def value_lower_only(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value)


def value_clamped_to(low, high):
    """A clip_grad_value_ that clamps each .grad in place to [low(clip_value), high(clip_value)]: bounds written
    wrong (swapped, of one sign, one left out)."""
    def clip(parameters, clip_value):
        for p in as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(low(clip_value), high(clip_value))
    return clip


def value_where_loses_sign(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.copy_(tl.where(p.grad.abs() > clip_value, clip_value, p.grad))


def value_where_swaps_the_values(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            g = p.grad
            g.copy_(tl.where(g > clip_value, -clip_value, tl.where(g < -clip_value, clip_value, g)))


def value_where_branches_swapped(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            g = p.grad
            g.copy_(tl.where(g > clip_value, g, clip_value))
            g.copy_(tl.where(g < -clip_value, g, -clip_value))


def value_fixed_one(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.clamp_(-1.0, 1.0)


def value_assigns_with_one_side(parameters, clip_value):
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad = p.grad.clamp(max=clip_value)


def bad_at_or_above(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["norm"]) or row["norm"] >= limit:
                return step, row["name"]
    return None, None


def bad_skips_last_step(history, limit=1e3):
    for step in range(len(history) - 1):
        for row in history[step]:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step, row["name"]
    return None, None


def bad_skips_first_step(history, limit=1e3):
    for step in range(1, len(history)):
        for row in history[step]:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step, row["name"]
    return None, None


def bad_nan_by_equality(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if row["norm"] == math.nan or row["norm"] > limit:
                return step, row["name"]
    return None, None


def bad_nan_or_above(history, limit=1e3):
    """Review 6 of 0607: nan tested, inf left to `> limit`, which misses it when limit = inf."""
    for step, table in enumerate(history):
        for row in table:
            if math.isnan(row["norm"]) or row["norm"] > limit:
                return step, row["name"]
    return None, None


def bad_sorts_the_tables(history, limit=1e3):
    for step, table in enumerate(history):
        table.sort(key=lambda row: row["name"])  # changes the caller's history
        for row in table:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step, row["name"]
    return None, None


def diag_at_or_above(history, limit=1e3):
    step, name = bad_at_or_above(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "exploding" if math.isfinite(norm) else "sudden"


def diag_nan_only(history, limit=1e3):
    step, name = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "sudden" if math.isnan(norm) else "exploding"


def diag_whole_table(history, limit=1e3):
    step, _ = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    if any(not math.isfinite(row["norm"]) for row in history[step]):
        return "sudden"
    return "exploding"


def diag_pops_history(history, limit=1e3):
    while history and all(math.isfinite(r["norm"]) and r["norm"] <= limit for r in history[0]):
        history.pop(0)  # throws the healthy steps away: the caller's list
    return diagnose(history, limit)


# write it yourself: the library's own functions, as they are, wrapped, or called inside
library_clip_grad_norm_ = nn.utils.clip_grad_norm_
library_clip_grad_value_ = nn.utils.clip_grad_value_


def norm_delegates(parameters, max_norm, norm_type=2.0):
    return nn.utils.clip_grad_norm_(parameters, max_norm, norm_type)


def value_delegates(parameters, clip_value):
    tl.nn.utils.clip_grad.clip_grad_value_(parameters, clip_value)


def norm_total_from_library(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = nn.utils.get_total_norm(grads, norm_type)
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def norm_hands_to_torch(parameters, max_norm, norm_type=2.0):
    """The review's W35: PyTorch's clip_grad_norm_ on copies, the numbers copied back."""
    params = [p for p in as_list(parameters) if p.grad is not None]
    copies = []
    for p in params:
        t = torch.zeros(tuple(p.shape), requires_grad=True)
        t.grad = torch.from_numpy(p.grad.numpy().copy())
        copies.append(t)
    total = torch.nn.utils.clip_grad_norm_(copies, max_norm, norm_type)
    for p, t in zip(params, copies):
        p.grad.copy_(tl.tensor(t.grad.numpy()))
    return tl.tensor(total.numpy())


def value_hands_to_torch(parameters, clip_value):
    params = [p for p in as_list(parameters) if p.grad is not None]
    copies = [torch.zeros(tuple(p.shape)) for p in params]
    for p, t in zip(params, copies):
        t.grad = torch.from_numpy(p.grad.numpy().copy())
    torch.nn.utils.clip_grad_value_(copies, clip_value)
    for p, t in zip(params, copies):
        p.grad.copy_(tl.tensor(t.grad.numpy()))


def norm_grads_made_float64(parameters, max_norm, norm_type=2.0):
    """The review's W33: .data set to float64 numbers on float32 parameters."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.data = g.double() * coef.double()
    return total


def norm_total_float64(parameters, max_norm, norm_type=2.0):
    """The review's W17: the total computed (and returned) in float64 for float32 gradients."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g.double(), norm_type) for g in grads]),
                                  norm_type)
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.float())
    return total


def norm_nan_by_python_min(parameters, max_norm, norm_type=2.0):
    """The review's W16: Python's min(1.0, nan) is 1.0, so a nan total scales nothing."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = min(1.0, max_norm / (total.item() + 1e-6))
    for g in grads:
        g.mul_(coef)
    return total


def value_grads_made_float64(parameters, clip_value):
    """The review's V16: numpy's float64 numbers put into float32 gradients through .data."""
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.data = tl.tensor(np.clip(p.grad.numpy().astype(np.float64), -clip_value, clip_value))


def value_returns_the_grads(parameters, clip_value):
    """The review's V5: clamps right, but returns the list of gradients (clip_grad_value_ returns None)."""
    out = []
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)
            out.append(p.grad)
    return out


def bad_returns_list(history, limit=1e3):
    """The review's F16: [step, name], a list, where the text asks for a pair (a tuple)."""
    step, name = first_bad_step(history, limit)
    return [step, name]


def diag_step_0_is_sudden(history, limit=1e3):
    """The review's D12: a finite norm above the limit at step 0 called sudden (no growth could be seen)."""
    step, name = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "exploding" if math.isfinite(norm) and step > 0 else "sudden"


def norm_max_norm_ignored(parameters, max_norm, norm_type=2.0):
    """The review's W27: the factor for max_norm = 1, whatever max_norm is."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = (1.0 / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def value_generator_used_up(parameters, clip_value):
    """The review's V2: any() uses the generator up before the clamping loop."""
    if isinstance(parameters, tl.Tensor):
        parameters = [parameters]
    if not any(p.grad is not None for p in parameters):
        return
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


def value_does_nothing(parameters, clip_value):
    pass


def bad_hard_coded(history, limit=1e3):
    """The review's F12: the example's answer, whatever the run."""
    return 10, "0.weight"


def diag_on_a_bad_step_that_misses_nan(history, limit=1e3):
    """diagnose written right, on top of a first_bad_step that misses nan."""
    step, name = bad_nan_missed(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "exploding" if math.isfinite(norm) else "sudden"


def first_bad_step_one_late(history, limit=1e3):
    for step, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step + 1, row["name"]
    return None, None


def diagnose_over(own_first_bad_step):
    """The solution's diagnose as a notebook runs it: over the learner's own first_bad_step, a global there."""
    return types.FunctionType(diagnose.__code__, {**diagnose.__globals__, "first_bad_step": own_first_bad_step},
                              "diagnose", diagnose.__defaults__)


def bad_parameters_outside(history, limit=1e3):
    """The review's F4: the loops the wrong way round."""
    names = [r["name"] for r in history[0]] if history else []
    for j, name in enumerate(names):
        for t, table in enumerate(history):
            n = table[j]["norm"]
            if not math.isfinite(n) or n > limit:
                return t, name
    return None, None


def bad_weights_only(history, limit=1e3):
    """The review's F18: the biases are skipped."""
    for t, table in enumerate(history):
        for row in table:
            if row["name"].endswith("weight") and (not math.isfinite(row["norm"]) or row["norm"] > limit):
                return t, row["name"]
    return None, None


def norm_without_an_empty_guard(parameters, max_norm, norm_type=2.0):
    """Right, except when no parameter has a gradient: tl.stack of an empty list."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    for g in grads:
        g.mul_((max_norm / (total + 1e-6)).clamp(max=1.0))
    return total


def norm_factor_clamped_from_below(parameters, max_norm, norm_type=2.0):
    """Review 0607: clamp(min=1.0) instead of max=1.0, in place: the factor is never below 1."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    for g in grads:
        g.mul_((max_norm / (total + 1e-6)).clamp(min=1.0))
    return total


def norm_skips_a_nonfinite_total(parameters, max_norm, norm_type=2.0):
    """Review 0607: returns early when the total is not finite: the nan never reaches the gradients."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = tl.linalg.vector_norm(tl.stack([g.norm(norm_type) for g in grads]), norm_type)
    if not math.isfinite(total.item()):
        return total
    for g in grads:
        g.mul_((max_norm / (total + 1e-6)).clamp(max=1.0))
    return total


def value_nan_to_zero(parameters, clip_value):
    """Review 0607: np.nan_to_num after the clip: a nan gradient becomes 0 and hides the broken step."""
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.copy_(tl.tensor(np.nan_to_num(np.clip(p.grad.numpy(), -clip_value, clip_value), nan=0.0)))


def value_narrowed_bounds(parameters, clip_value):
    """Review 0607: bounds a hair inside +-clip_value: within 1e-6, not equal."""
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.clamp_(-clip_value + 1e-7, clip_value - 1e-7)


def value_skips_unless_above(parameters, clip_value):
    """Review 46: clamps only a gradient whose largest element is beyond the bound; with a nan, max() is nan and
    nan > clip_value is False, so that gradient is left unclamped."""
    for p in as_list(parameters):
        if p.grad is not None and p.grad.abs().max() > clip_value:
            p.grad.clamp_(-clip_value, clip_value)


def norm_eps_on_max_norm_too(parameters, max_norm, norm_type=2.0):
    """Review 46: the 1e-6 added to max_norm as well as to the total."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = ((max_norm + 1e-6) / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def norm_eps_subtracted(parameters, max_norm, norm_type=2.0):
    """Review 46: the epsilon subtracted from the factor, max_norm / total - 1e-6."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = (max_norm / total - 1e-6).clamp(max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def bad_nan_rows_first(history, limit=1e3):
    """Review 0607: each step's table searched for nan/inf first, then for a norm above limit."""
    for t, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["norm"]):
                return t, row["name"]
        for row in table:
            if row["norm"] > limit:
                return t, row["name"]
    return None, None


def bad_large_rows_first(history, limit=1e3):
    """Review 4 of 0607: each step's table searched for a norm above limit first, then for nan/inf."""
    for t, table in enumerate(history):
        for row in table:
            if row["norm"] > limit:
                return t, row["name"]
        for row in table:
            if not math.isfinite(row["norm"]):
                return t, row["name"]
    return None, None


def bad_first_row_only(history, limit=1e3):
    """Review 4 of 0607: only the first row of each table is tested (rightly)."""
    for t, table in enumerate(history):
        n = table[0]["norm"]
        if not math.isfinite(n) or n > limit:
            return t, table[0]["name"]
    return None, None


def diag_last_step_is_sudden(history, limit=1e3):
    """Review 4 of 0607: a bad step that is the run's last is called sudden, whatever its norm."""
    step, name = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    norm = next(r["norm"] for r in history[step] if r["name"] == name)
    return "sudden" if step == len(history) - 1 or not math.isfinite(norm) else "exploding"


def diag_first_row(history, limit=1e3):
    """Review 4 of 0607: the first row of the bad step's table judged, not the row first_bad_step names."""
    step, name = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    return "exploding" if math.isfinite(history[step][0]["norm"]) else "sudden"


def diag_by_the_limit(history, limit=1e3, cutoff=None):
    """A learner's: the norm compared with the limit (or a cut-off of its own) instead of tested for finiteness."""
    step, name = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    if cutoff is not None:
        return "exploding" if norm < cutoff else "sudden"
    return "exploding" if norm > limit else "sudden"


def diag_max_of_the_table(history, limit=1e3):
    """The review's D2: the max() of the bad step's norms judged; Python's max skips a nan after the first row."""
    step, name = first_bad_step(history, limit)
    if step is None:
        return "healthy"
    m = max(r["norm"] for r in history[step])
    return "exploding" if math.isfinite(m) else "sudden"


def diag_step_0_is_healthy(history, limit=1e3):
    """Review 0607: `if not step` takes the first bad step 0 for 'no bad step'."""
    step, name = first_bad_step(history, limit)
    if not step:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "exploding" if math.isfinite(norm) else "sudden"


WRITE_IT = "write it yourself"
def value_scales_each_by_its_largest(parameters, clip_value):
    for p in ([parameters] if isinstance(parameters, tl.Tensor) else parameters):
        if p.grad is not None and p.grad.abs().max().item() > clip_value:
            p.grad.mul_(clip_value / p.grad.abs().max().item())


def norm_eps_added_to_the_factor(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in ([parameters] if isinstance(parameters, tl.Tensor) else parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    for g in grads:
        g.mul_((max_norm / total + 1e-6).clamp(max=1.0))
    return total


def norm_total_through_item(parameters, max_norm, norm_type=2.0):
    """The gradients right, the total returned as tl.tensor(total.item()): a float32 tensor for float64 ones."""
    return tl.tensor(clip_grad_norm_(parameters, max_norm, norm_type).item())


N, V, B, D = "06.clip_grad_norm_", "06.clip_grad_value_", "06.first_bad_step", "06.diagnose"
WRONG = [
    # 06.clip_grad_norm_: the form of the answer
    (N, norm_returns_item, "e.g. from .item()", "0-d"),
    (N, norm_returns_numpy, "numpy.ndarray (e.g. from .numpy() or a numpy function)", "0-d"),
    (N, norm_with_math, "float", "math.sqrt"),
    (N, norm_returns_nothing, "returned None", "total norm"),
    (N, norm_returns_1d, "shape (1,)", "0-d tensor"),
    (N, norm_clips_the_weights, "changed the values of parameter 0", "only the gradients"),
    # 06.clip_grad_norm_: the named mistakes
    (N, norm_new_tensors, "you returned a list", "returned new, clipped tensors"),
    (N, norm_rebinds_local, "unchanged after your function", "g = g * c makes a new tensor"),
    (N, norm_each_separately, "by its own norm"),
    (N, norm_scales_up, "scales gradients UP", "below max_norm = 10"),
    (N, norm_no_eps, "total + 1e-6", "tiny gradients"),
    (N, norm_always_2, "always measures the 2-norm", "norm_type = 1"),
    (N, norm_no_root, "without its p-th root", "the example shown in the notebook"),
    (N, norm_powers_for_inf, "norm_type = inf", "largest |g|"),
    (N, norm_sum_of_norms, "as ONE vector"),
    (N, norm_returns_after, "AFTER clipping"),
    (N, norm_iterates_twice, "generator", "iterated only once"),
    (N, norm_loops_over_a_tensor, "a single tensor", "walks its rows"),
    (N, norm_assigns_new_grads, "the numbers are right", "is a new tensor", "works in place"),
    (N, norm_assigns_each_separately, "by its own norm"),  # wrong numbers come first
    (N, norm_without_abs, "ABSOLUTE values"),
    (N, norm_first_tensor_only, "the norm of all the gradients together"),
    (N, norm_root_mean_square, "the norm of all the gradients together"),
    (N, norm_divides_by_factor, "the gradient of parameter 0 after your function"),
    (N, norm_skips_inf, "holds an inf", "expected nan, got inf", "PyTorch does not skip the step"),
    (N, norm_zeroes_on_inf, "holds an inf", "expected nan, got 0", "set every gradient to 0"),
    (N, norm_caps_the_total, "tiny max_norm = 1e-4", "exactly as they went in"),
    # a form mistake only where there is no gradient: no hint about clipping
    (N, norm_none_when_empty, "returned None", "no parameter has a gradient"),
    (N, norm_int_zero_when_empty, "tensor of int64", "no parameter has a gradient"),
    (N, library_clip_grad_norm_, WRITE_IT, "clip_grad_norm_"),
    (N, norm_delegates, WRITE_IT, "clip_grad_norm_"),
    (N, norm_total_from_library, WRITE_IT, "get_total_norm"),
    (N, norm_hands_to_torch, WRITE_IT, "torch.nn.utils", "clip_grad_norm_"),
    (N, norm_grads_made_float64, "parameter 0's .grad is float64 after your function; it was float32",
     "Hint: a float64 where a float32 is expected: float64 numbers went into a float32 gradient"),
    (N, norm_total_float64, "your total norm is a float64 tensor, but the gradients are float32",
     "Hint: a float64 where a float32 is expected: your total went through float64"),
    (N, norm_eps_on_max_norm_too, "tiny gradients", "into the denominator only", "max_norm stays as it is"),
    (N, norm_eps_subtracted, "six parameters with large gradients", "subtracted from the factor"),
    (N, norm_eps_added_to_the_factor, "six parameters with large gradients", "added to the factor, after the"),
    (N, norm_total_through_item, "your total norm is a float32 tensor, but the gradients are float64",
     "tl.tensor(0.5), like torch.tensor(0.5), is float32 by default"),
    (N, norm_nan_by_python_min, "a gradient holds a nan", "min(1.0, nan) is 1.0"),
    (N, norm_max_norm_ignored, "the one for max_norm = 1 whatever max_norm is"),
    (N, norm_factor_clamped_from_below, "every .grad is unchanged", "the factor came out as 1", "SMALLER"),
    (N, norm_skips_a_nonfinite_total, "a gradient holds a nan", "a skip when the total is not finite"),
    # 06.clip_grad_value_
    (V, value_new_tensors, "every .grad is as it was after your function"),
    (V, value_upper_only, "only the large positive"),
    (V, value_scales_each_by_its_largest, "an element that was within [-clip_value, clip_value] changed"),
    (V, value_zeroes, "set the elements beyond clip_value to 0"),
    (V, value_sign_lost, "lost their sign"),
    (V, value_by_norm, "clipping by norm"),
    (V, value_clamps_weights, "changed the values of parameter 0"),
    (V, value_assigns_new_grads, "the numbers are right", "is a new tensor", "works in place"),
    (V, value_loops_over_a_tensor, "a single tensor", "walks its rows", "however you clamp"),
    (V, value_lower_only, "only the large negative"),
    (V, value_clamped_to(lambda c: c, lambda c: -c), "became -clip_value", "the two bounds are swapped",
     "lower bound first"),
    (V, value_clamped_to(lambda c: c, lambda c: c), "became +clip_value", "both bounds are +clip_value"),
    (V, value_clamped_to(lambda c: c, lambda c: None), "your lower bound is +clip_value"),
    (V, value_clamped_to(lambda c: -c, lambda c: -c), "both are -clip_value"),
    (V, value_clamped_to(lambda c: 0.0, lambda c: c), "your lower bound is 0, so every negative element became 0"),
    (V, value_clamped_to(lambda c: c, lambda c: 2 * c), "some elements of your gradients changed sign"),
    (V, value_where_swaps_the_values, "some elements of your gradients changed sign"),
    (V, value_where_loses_sign, "the large negative elements became +clip_value"),
    (V, value_fixed_one, "whatever clip_value is"),
    (V, value_assigns_with_one_side, "only the large positive"),
    (V, library_clip_grad_value_, WRITE_IT, "clip_grad_value_"),
    (V, value_delegates, WRITE_IT, "clip_grad_value_"),
    (V, value_hands_to_torch, WRITE_IT, "torch.nn.utils", "clip_grad_value_"),
    (V, value_grads_made_float64, "parameter 0's .grad is float64 after your function; it was float32",
     "Hint: a float64 where a float32 is expected: float64 numbers went into a float32 gradient"),
    (V, value_skips_unless_above, "a gradient holds a nan", "abs().max() > clip_value is False"),
    (V, value_returns_the_grads, "returned a list", "returns nothing (None)"),
    (V, value_generator_used_up, "a generator", "used it up"),
    (V, value_does_nothing, "every .grad is as it was after your function"),
    (V, value_nan_to_zero, "a gradient holds a nan", "must stay nan"),
    (V, value_narrowed_bounds, "clamping does no arithmetic", "to the bit",
     "to 9 digits: expected -1, got -0.999999881"),
    # 06.first_bad_step
    (B, bad_nan_missed, "nan > limit", "turns nan at once"),
    (B, bad_only_nan, "the first nan or inf", "example shown in the notebook"),
    (B, bad_only_nonfinite, "the first nan or inf", "A finite norm above limit"),
    (B, bad_nan_rows_first, "two parameters go bad at the same step", "earlier in the same step's table"),
    (B, bad_uses_flag, "the flag column", "tiny gradients"),
    (B, bad_uses_max_abs, "largest element, max|g|"),
    (B, bad_largest, "not the largest"),
    (B, bad_counts_from_1, "one after the first bad step"),
    (B, bad_tests_the_mean, "expected step 10, '0.weight'; your function gave step 11"),  # no count-from-1 hint
    (B, bad_last, "the LAST bad step"),
    (B, bad_fixed_limit, "limit = 10", "use the argument `limit` itself"),
    (B, bad_returns_row, "a whole row of the table"),
    (B, bad_returns_index, "a str such as '0.weight'"),
    (B, bad_returns_none, "returned None", "(None, None)"),
    (B, bad_returns_step_only, "a pair (step, name) was expected"),
    (B, bad_at_or_above, "exactly at the limit", "exactly equal to limit is not bad"),
    (B, bad_skips_last_step, "only the last step is bad", "leaves out a step of history"),
    (B, bad_skips_first_step, "bad from the first step", "leaves out a step of history"),
    (B, bad_nan_by_equality, "every comparison with nan is False"),
    (B, bad_sorts_the_tables, "changed history"),
    (B, bad_returns_list, "a list of two items", "the pair is a tuple"),
    (B, bad_parameters_outside, "the wrong way round"),
    (B, bad_hard_coded, "the example's answer, (10, '0.weight'), for another run"),
    (B, bad_weights_only, "the biases?"),
    (B, bad_large_rows_first, "a nan comes earlier in the table", "looked for a large norm first"),
    (B, bad_first_row_only, "every row but the first?"),
    (B, bad_nan_or_above, "limit = inf", "an inf gradient slipped through", "inf > limit is False"),
    (B, bad_not_le, "limit = inf", "an inf gradient slipped through", "not inf <= limit"),
    # 06.diagnose
    (D, diag_swapped, "FIRST bad step", "example shown in the notebook"),
    (D, diag_any_nan, "FIRST bad step"),
    (D, diag_last_step, "FIRST bad step"),
    (D, diag_fixed_limit, "limit = 10", "pass `limit` on"),
    (D, diag_returns_fix, "'lower the learning rate'", "one of the strings"),
    (D, diag_returns_none, "returned None", "'healthy'"),
    (D, diag_at_or_above, "exactly at the limit", "exactly equal to limit is not bad"),
    (D, diag_nan_only, "inf at the first bad step is as sudden as a nan"),
    (D, diag_whole_table, "that row's norm is finite"),
    (D, diag_pops_history, "changed history"),
    (D, diag_on_a_bad_step_that_misses_nan, "found no bad step in a run that has one", "its own check first"),
    (D, diagnose_over(bad_nan_missed), "calls your first_bad_step, which gives (None, None)", "its own check first"),
    (D, diagnose_over(first_bad_step_one_late), "calls your first_bad_step, which gives (6, '0.weight')"),
    (D, diag_step_0_is_healthy, "bad from the first step", "falsy", "Only None"),
    (D, diag_step_0_is_sudden, "a finite norm above the limit at the very first step", "expected 'exploding'",
     "wherever that step is"),
    (D, diag_last_step_is_sudden, "pass the limit at the last step only", "wherever that step is"),
    (D, diag_first_row, "the first or last row of the bad step's table"),
    (D, diag_max_of_the_table, "or the max() (or min()) of its norms", "compare a nan as False"),
    (D, diag_by_the_limit, "an inf at the first bad step is as sudden as a nan"),
    *[(D, functools.partial(diag_by_the_limit, cutoff=cutoff), "jumps to 1e20 in one step") for cutoff in (1e6, 1e12)],
]



# -------------------------------------------------------------------- issue 32: float64 at its precision, allowlists
def norm_factor_of_a_float32_max_norm(parameters, max_norm, norm_type=2.0):
    """The factor from tl.tensor(max_norm), float32 by default: float64 gradients get float32's rounding."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = (tl.tensor(max_norm) / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def norm_clips_with_torch(parameters, max_norm, norm_type=2.0):
    """The total written out, the scaling handed to PyTorch's clip_grads_with_norm_ on views of the gradients."""
    grads = [p.grad for p in as_list(parameters) if p.grad is not None]
    if not grads:
        return tl.tensor(0.0)
    total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    views = []
    for g in grads:
        t = torch.zeros(tuple(g.shape), requires_grad=True)
        t.grad = torch.from_numpy(g.numpy())  # (the same memory as g)
        views.append(t)
    torch.nn.utils.clip_grads_with_norm_(views, max_norm, torch.tensor(total.item()))
    return total


def value_bound_of_float32(parameters, clip_value):
    """Bounds made with tl.tensor(clip_value), float32 by default."""
    for p in as_list(parameters):
        if p.grad is not None:
            bound = tl.tensor(clip_value)
            p.grad.copy_(tl.minimum(tl.maximum(p.grad, -bound), bound))


def value_clamped_then_float(parameters, clip_value):
    """The review's D3: the gradient clamped, then rounded to float32 by .float() and copied back."""
    for p in as_list(parameters):
        if p.grad is not None:
            p.grad.copy_(p.grad.clamp(-clip_value, clip_value).float())


def value_clipped_float32_copy(parameters, clip_value):
    """The review's D3: a numpy float32 copy of the gradient clipped and written back."""
    for p in as_list(parameters):
        if p.grad is not None:
            g = p.grad.numpy().astype(np.float32)
            p.grad.copy_(tl.tensor(np.clip(g, -clip_value, clip_value)))


def value_hardtanh_through_torch(parameters, clip_value):
    """PyTorch's hardtanh, a clamp under another name, on a view of each gradient."""
    for p in as_list(parameters):
        if p.grad is not None:
            g = torch.from_numpy(p.grad.numpy())
            g.copy_(torch.nn.functional.hardtanh(g, -clip_value, clip_value))


def value_hardtanh_in_place_through_torch(parameters, clip_value):
    """PyTorch's in-place hardtanh_ (the review's: hardtanh itself was refused) on a view of each gradient."""
    for p in as_list(parameters):
        if p.grad is not None:
            torch.nn.functional.hardtanh_(torch.from_numpy(p.grad.numpy()), -clip_value, clip_value)


ALLOWED = ALLOWS + ", norm, sqrt, sum, max (or maximum), min (or minimum), clamp, where"
WRONG += [
    (N, norm_factor_of_a_float32_max_norm, "hidden case 11 of 17", "carry float32's rounding", "tl.tensor(max_norm)"),
    (N, norm_clips_with_torch, "your code uses torch.nn.utils.clip_grads_with_norm_", ALLOWED),
    (V, value_bound_of_float32, "hidden case 8 of 8", "0.30000001192", "such as tl.tensor(clip_value)"),
    (V, value_clamped_then_float, "hidden case 8 of 8", "your gradient went through float32", "also those within"),
    (V, value_clipped_float32_copy, "hidden case 8 of 8", "a float32 copy clipped and written back"),
    (V, value_where_branches_swapped, "became -clip_value", "a where() puts the bound where the element"),
    (V, value_hardtanh_through_torch, "your code uses torch.nn.functional.hardtanh",
     ALLOWS + ", clamp, where, max (or maximum), min (or minimum)"),
    (V, value_hardtanh_in_place_through_torch, "your code uses torch.nn.functional.hardtanh_"),
]

ERRORS = [
    (N, norm_none_grads, "AttributeError", "has nothing to clip"),
    (N, norm_without_an_empty_guard, "no parameter has a gradient", "non-empty list", "the total norm is 0"),
    (V, value_none_grads, "AttributeError", "has nothing to clip"),
]


def test_the_exercises_are_in_the_notebooks_in_this_order():
    assert list(exercise_cells(SOLUTION)) == IDS
    assert list(exercise_cells(RELEASED)) == IDS


# -------------------------------------------------------------------- the references are PyTorch's
def torch_copy(parameters):
    """PyTorch leaves with the same values and gradients as the case's parameters (same kind of container)."""
    copies = []
    for p in tensors_of(parameters):
        t = torch.tensor(p.detach().numpy().copy(), requires_grad=True)
        t.grad = None if p.grad is None else torch.tensor(p.grad.numpy().copy())
        copies.append(t)
    if isinstance(parameters, tl.Tensor):
        return copies[0], copies
    return (iter(copies) if isinstance(parameters, Parameters) else copies), copies


@pytest.mark.parametrize("exercise_id", [N, V])
def test_the_references_equal_pytorch_on_every_case(exercise_id):
    exercise = get_exercise(exercise_id)
    torch_fn = {N: torch.nn.utils.clip_grad_norm_, V: torch.nn.utils.clip_grad_value_}[exercise_id]
    for case in exercise.all_cases():
        args, kwargs = copy.deepcopy((case.args, case.kwargs))
        ours = exercise.reference(*args, **kwargs)
        theirs_arg, theirs = torch_copy(case.args[0])
        total = torch_fn(theirs_arg, *case.args[1:], **case.kwargs)
        if exercise_id == N:
            np.testing.assert_allclose(ours.numpy(), total.numpy(), rtol=1e-6, err_msg=case.label)
            assert ours.shape == () and ours.dtype == {torch.float32: tl.float32,
                                                       torch.float64: tl.float64}[total.dtype]
        for p, t in zip(tensors_of(args[0]), theirs):
            if t.grad is None:
                assert p.grad is None
            else:
                np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-12,
                                           err_msg=case.label)


def test_the_norm_cases_vary_every_argument():
    cases = get_exercise(N).all_cases()
    norm_types = {c.kwargs.get("norm_type", c.args[2] if len(c.args) > 2 else 2.0) for c in cases}
    assert {2.0, 1.0, 3.0, math.inf} <= norm_types
    assert len({c.args[1] for c in cases}) >= 5
    assert any(isinstance(c.args[0], Parameters) for c in cases)
    assert any(isinstance(c.args[0], tl.Tensor) for c in cases)
    assert any(p.grad is None for c in cases for p in tensors_of(c.args[0]))
    below = [c for c in cases if nn.utils.get_total_norm([p.grad for p in tensors_of(c.args[0])
                                                          if p.grad is not None]).item() < c.args[1]]
    assert below, "a case where nothing is clipped (catches scaling up)"
    assert any(c.args[1] <= 1e-3 for c in below), "nothing to clip at a tiny max_norm (a factor not exactly 1)"
    assert any(np.isinf(p.grad.numpy()).any() for c in cases for p in tensors_of(c.args[0]) if p.grad is not None)


def test_nothing_to_clip_leaves_every_gradient_bit_for_bit():
    """Below max_norm - 1e-6 PyTorch's factor is exactly 1.0: the reference leaves the numbers as they were."""
    for case in get_exercise(N).all_cases():
        args, kwargs = copy.deepcopy((case.args, case.kwargs))
        grads = [p.grad for p in tensors_of(args[0]) if p.grad is not None]
        before = [g.numpy().copy() for g in grads]
        total = get_exercise(N).reference(*args, **kwargs)
        if total.item() + 1e-6 <= args[1]:
            assert all(np.array_equal(g.numpy(), b) for g, b in zip(grads, before)), case.label


def test_one_step_late_from_another_cause_gets_no_count_from_1_hint():
    """The wrong column lands on step 11 of the example too, but its loop counts from 0: the hint would mislead."""
    assert "one after" not in verdict(B, bad_tests_the_mean, times=2).message
    assert "one after" in verdict(B, bad_counts_from_1).message


@pytest.mark.parametrize("fn", [norm_none_when_empty, norm_int_zero_when_empty])
def test_a_form_mistake_without_gradients_gets_no_hint_about_clipping(fn):
    assert "Hint" not in verdict(N, fn, times=2).message


def test_a_generator_case_is_iterated_once_only():
    case = next(c for c in get_exercise(N).all_cases() if isinstance(c.args[0], Parameters))
    params = copy.deepcopy(case.args[0])
    assert len(list(params)) == 4 and list(params) == []


def test_first_bad_step_cases():
    cases = get_exercise(B).all_cases()
    answers = [first_bad_step_reference(*c.args, **c.kwargs) for c in cases]
    assert answers[0] == (10, "0.weight")  # the notebook's run
    assert (9, "0.weight") in answers  # the run that grows 3 to 5 times per step
    assert (None, None) in answers and (0, "2.bias") in answers
    limits = {c.kwargs.get("limit", c.args[1] if len(c.args) > 1 else 1e3) for c in cases}
    assert {1e3, 10.0, 1e5, math.inf} <= limits


def test_the_library_grad_stats_rows_have_the_columns_the_runs_have():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model(tl.randn(4, 2)).sum().backward()
    rows = nn.utils.grad_stats(model)
    assert set(rows[0]) == set(diverging_example()[0][0])
    assert first_bad_step([rows]) == (None, None)


# -------------------------------------------------------------------- the notebooks
def markdown_before(notebook, exercise_id):
    cells = read_notebook(notebook).cells
    index = next(i for i, c in enumerate(cells) if meta(c).get("exercise") == exercise_id)
    texts = []
    for cell in reversed(cells[:index]):
        if cell.cell_type == "code":
            texts.insert(0, cell.source)
            continue
        texts.insert(0, cell.source)
        if cell.source.startswith("### Exercise"):
            break
    return "\n".join(texts)


def test_the_notebook_shows_the_visible_examples_with_the_checks_numbers():
    text = markdown_before(SOLUTION, N)
    params = norm_example()
    total = nn.utils.clip_grad_norm_(params, 1.0)
    assert f"{total.item():g}" == "5" and "total norm 5" in text
    for shown in ("[[0.2, -0.4], [0.4, 0]]", "[0.8, 0]"):
        assert shown in text, shown
    np.testing.assert_allclose(params[0].grad.numpy(), [[0.2, -0.4], [0.4, 0]], rtol=1e-5)
    text = markdown_before(SOLUTION, V)
    params = value_example()
    nn.utils.clip_grad_value_(params, 1.0)
    assert "[[0.5, -1], [1, 0.2]]" in text and "[-0.8, 1]" in text
    np.testing.assert_allclose(params[0].grad.numpy(), [[0.5, -1], [1, 0.2]], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), [-0.8, 1], rtol=1e-6)
    assert "(10, '0.weight')" in markdown_before(SOLUTION, B)


def test_no_exercise_text_or_hint_holds_the_finished_line():
    finished = ["max_norm / (total + 1e-6)).clamp", "clamp_(-clip_value, clip_value)", "g.mul_(coef)",
                '"exploding" if math.isfinite(norm)',
                "not math.isfinite(row[\"norm\"]) or", "return step, row[\"name\"]"]
    assert finished_lines_shown(RELEASED, IDS, finished) == []


def test_a_right_norm_with_weights_changed_names_the_weights():
    assert_fails_with(N, norm_clips_the_weights, "the weights themselves")


@pytest.mark.parametrize(("exercise_id", "fn"), [(N, norm_total_float64), (N, norm_grads_made_float64),
                                                 (V, value_grads_made_float64)])
def test_a_float64_made_from_float32_gradients_gets_no_hint_about_the_opposite(exercise_id, fn):
    """Review 46: the course's hint for a float32 where a float64 is expected was given for the opposite."""
    assert "a float32 where a float64" not in verdict(exercise_id, fn).message


def test_a_cell_with_one_stub_written_and_one_left_is_not_finished():
    """Review 46: with the first stub of the clip_grad_norm_ cell written and the second left, the check said "not
    attempted yet" only; the message now says the cell still raises, and that each raise is to be replaced."""
    cell = exercise_cells(RELEASED)[N]
    solution = exercise_cells(SOLUTION)[N].source
    first = solution[solution.index("### BEGIN SOLUTION") + len("### BEGIN SOLUTION\n"):solution.index("    ### END")]
    lines = cell.source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("# YOUR CODE HERE"))
    stop = next(i for i, line in enumerate(lines) if "raise NotImplementedError" in line)
    assert start < stop < len(lines) - 3 and "raise NotImplementedError" in "\n".join(lines[stop + 1:])
    source = "\n".join(lines[:start]) + "\n" + first + "\n".join(lines[stop + 1:])
    fn = define(source, dict(NAMES))["clip_grad_norm_"]
    assert_not_attempted(N, fn, "not attempted yet, or not finished", "the exercise cell still raises",
                         "Replace each `raise NotImplementedError`")


def test_a_total_made_float32_with_right_gradients_is_not_told_its_gradients_carry_float32():
    """(attack of session 32) tl.tensor(total.item()) on the float64 case: only the total lost digits, so the hint
    about float32 inside the gradients' arithmetic (tl.tensor(max_norm)) must not be the one shown."""
    message = verdict(N, norm_total_through_item).message
    assert "your total norm is a float32 tensor" in message and "carry float32's rounding" not in message


def _norm_slip(slip):
    """(attack of session 32) a learner's clip_grad_norm_ with one slip: "two", the per-tensor norms combined with
    the 2-norm; "divide", the gradients divided by the factor; "numerator", the 1e-6 added to max_norm."""
    def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
        grads = [p.grad for p in as_list(parameters) if p.grad is not None]
        if not grads:
            return tl.tensor(0.0)
        norms = tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads])
        total = tl.linalg.vector_norm(norms, 2.0 if slip == "two" else norm_type)
        numerator, denominator = (max_norm + 1e-6, total) if slip == "numerator" else (max_norm, total + 1e-6)
        coef = (numerator / denominator).clamp(max=1.0)
        for g in grads:
            g.div_(coef) if slip == "divide" else g.mul_(coef)
        return total
    return clip_grad_norm_


WRONG += [(N, _norm_slip("two"), "combined the per-tensor norms with the 2-norm"),
          (N, _norm_slip("divide"), "you divided them by the factor"),
          (N, _norm_slip("numerator"), "your 1e-6 is in the numerator")]


def clip_norm_skips(skip):
    """(the attacks of session 34) the right factor, but a gradient for which ``skip(g, max_norm, norm_type)`` holds
    is left alone."""
    def clip(parameters, max_norm, norm_type=2.0):
        grads = [p.grad for p in ([parameters] if isinstance(parameters, tl.Tensor) else parameters)
                 if p.grad is not None]
        if not grads:
            return tl.tensor(0.0)
        total = tl.linalg.vector_norm(tl.stack([tl.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
        for g in grads:
            if not skip(g, max_norm, norm_type):
                g.mul_((max_norm / (total + 1e-6)).clamp(max=1.0))
        return total
    return clip


def clip_value_when(test):
    """(the attacks of session 34) the clamp, but only of a gradient for which ``test(g, clip_value)`` holds."""
    def clip(parameters, clip_value):
        for p in [parameters] if isinstance(parameters, tl.Tensor) else parameters:
            if p.grad is not None and test(p.grad, clip_value):
                p.grad.clamp_(-clip_value, clip_value)
    return clip


WRONG += [
    # the one factor, but only for a gradient whose own norm is above max_norm (a nan norm is scaled: not <=)
    (N, clip_norm_skips(lambda g, max_norm, norm_type: tl.linalg.vector_norm(g, norm_type) <= max_norm),
     "hidden case 12 of 17", "scaled only the gradients whose own norm"),
    (N, clip_norm_skips(lambda g, *_: g.norm().item() < 1e-3), "skipped every gradient"),
    (N, clip_norm_skips(lambda g, *_: (g == 0).all().item()), "hidden case 12 of 17", "which holds only zeros"),
    (N, clip_norm_with_if, "hidden case 17 of 17", "you leave the gradients alone when the total is at most"),
    # a test before the clamp: of the positive side only (its hint spoke of clamped copies), of every element
    (V, clip_value_when(lambda g, clip_value: g.max() > clip_value), "only large elements are negative",
     "positive side only"),
    (V, clip_value_when(lambda g, clip_value: (g.abs() > clip_value).all()),
     "a test before the clamp that finds nothing to do"),
]


def _first_bad_step_names_the_first_row(history, limit=1e3):
    """(third attack of session 32) the right step, named by the step's first row."""
    for step, table in enumerate(history):
        if any(not math.isfinite(row["norm"]) or row["norm"] > limit for row in table):
            return step, table[0]["name"]
    return None, None


WRONG += [(B, _first_bad_step_names_the_first_row, "the name is that of the step's first row")]
