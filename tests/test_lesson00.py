"""Lesson 00 (welcome and tensors): its right and wrong answers, and its special cases.

tests/test_lessons.py runs the generic checks on the data here (SOLUTIONS, ALSO_RIGHT, WRONG, ERRORS): right
answers pass, each wrong one fails with its text, every hint tier is reached, and the wrong answers every
exercise must refuse are refused. This file adds what is particular to lesson 00: the welcome's failing demo,
the visible cases are the notebook's examples, the order of the sections, and the messages for wrong answers
a beginner writes here (a numpy array, a list, .item(), a tensor rebuilt from numpy, the input divided in place).
"""
import numpy as np
import pytest
from lesson_helpers import ALLOWS, assert_fails_with, define, notebooks, run_example_cells, verdict

import tinygrad_lite as tl
from tinygrad_lite.course import check
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.notebooks import meta, read_notebook

LESSON = "00_welcome_and_tensors"
SOLUTION, LESSON_NOTEBOOK = notebooks(LESSON)
NAMES = {"np": np, "tl": tl}  # what the notebook has imported before its exercise cells
F = tl.nn.functional


# -------------------------------------------------------------------- right answers
def row_normalize(scores):
    return scores / scores.sum(dim=1, keepdim=True)


def standardize(x):
    return (x - x.mean(dim=0, keepdim=True)) / x.std(dim=0, keepdim=True, correction=0)


def pairwise_sq_distances(a, b):
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1)


SOLUTIONS = {"00.row_normalize": row_normalize, "00.standardize": standardize,
             "00.pairwise_sq_distances": pairwise_sq_distances}

def _row_normalize_in_place_on_a_copy(scores):
    p = scores.clone()  # in place on a copy: the caller's scores stay as they are
    p /= p.sum(dim=1, keepdim=True)
    return p


def _row_normalize_row_by_row(scores):
    return tl.stack([row / row.sum() for row in scores])  # a loop over the rows: slower, but right


def _standardize_column_by_column(x):
    return tl.stack([(c - c.mean()) / c.std(correction=0) for c in x.T], dim=1)


def _standardize_in_place_on_a_copy(x):
    z = x.clone()
    z -= z.mean(dim=0)
    z /= z.std(dim=0, correction=0)  # the std of the centred copy is the std of x
    return z


def _pairwise_one_column_per_point_of_b(a, b):
    return tl.stack([((a - q) ** 2).sum(dim=1) for q in b], dim=1)


ALSO_RIGHT = [
    ("00.row_normalize", lambda s: (s.T / s.sum(dim=1)).T),
    ("00.row_normalize", lambda s: s * (1 / s.sum(dim=1, keepdim=True))),
    ("00.row_normalize", _row_normalize_in_place_on_a_copy),
    ("00.row_normalize", _row_normalize_row_by_row),
    ("00.row_normalize", lambda s: tl.div(s, s.sum(dim=1).view(-1, 1))),  # a view of the sums, a function
    ("00.row_normalize", lambda s: s * s.sum(dim=1, keepdim=True).reciprocal()),  # (a clamp is wrong: WRONG)
    ("00.standardize", lambda x: (x - x.mean(0)) * x.var(0, correction=0) ** -0.5),  # var ** -1.5 in the gradient
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.std(dim=0, unbiased=False)),  # keepdim not needed on dim 0
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / ((x - x.mean(dim=0)) ** 2).mean(dim=0).sqrt()),
    ("00.standardize", _standardize_column_by_column),
    ("00.standardize", _standardize_in_place_on_a_copy),
    ("00.standardize", lambda x: (c := x - x.mean(dim=0)) * (c * c).mean(dim=0).rsqrt()),  # review 0001: rsqrt
    # review 7 (0001): float64 inside stays right on the tiniest cases (row sums about 2e-18, a std about 1e-18);
    # back to the input's dtype, not to float32 (issue 32: a case has float64 inputs)
    ("00.row_normalize", lambda s: (s.double() / s.double().sum(dim=1, keepdim=True)).to(s.dtype)),
    ("00.standardize", lambda x: ((x.double() - x.double().mean(0)) / x.double().std(0, correction=0)).to(x.dtype)),
    ("00.pairwise_sq_distances", lambda a, b: ((a.unsqueeze(1) - b.unsqueeze(0)) ** 2).sum(dim=2)),
    ("00.pairwise_sq_distances",  # the matrix-product route loses a little precision; the check allows it
     lambda a, b: (a ** 2).sum(dim=1, keepdim=True) + (b ** 2).sum(dim=1) - 2 * a @ b.T),
    ("00.pairwise_sq_distances", _pairwise_one_column_per_point_of_b),
    ("00.pairwise_sq_distances",  # the same route, negative rounding near 0 clamped away
     lambda a, b: ((a * a).sum(1).reshape(-1, 1) - 2 * a.matmul(b.t()) + (b * b).sum(1).reshape(1, -1)).clamp(min=0)),
]

# -------------------------------------------------------------------- wrong answers, and the hint each must get
WRONG = [
    # 00.row_normalize
    ("00.row_normalize", lambda s: s / s.sum(dim=0, keepdim=True), "divided each column by its column sum"),
    ("00.row_normalize", lambda s: s / s.sum(), "sum of the whole matrix"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1), "a broadcasting surprise"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).T, "(1, N) after a transpose"),
    ("00.row_normalize", lambda s: s.softmax(dim=1), "you applied softmax"),
    ("00.row_normalize", lambda s: s.exp() / s.exp().sum(dim=1, keepdim=True), "you applied softmax"),
    ("00.row_normalize", lambda s: 0.5 * s / s.sum(dim=1, keepdim=True), "constant factor (0.5 times"),
    # 00.standardize
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.std(dim=0), "sample standard deviation"),
    ("00.standardize", lambda x: (x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, keepdim=True, correction=0),
     "you standardised each row"),
    ("00.standardize", lambda x: (x - x.mean()) / x.std(correction=0), "one mean and one std for all the numbers"),
    ("00.standardize", lambda x: x / x.std(dim=0, correction=0), "did not subtract the column mean"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.var(dim=0, correction=0), "divided by the variance"),
    ("00.standardize", lambda x: (x.mean(dim=0) - x) / x.std(dim=0, correction=0), "wrong sign"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / (2 * x.std(dim=0, correction=0)),
     "constant factor (0.5 times"),
    # 00.pairwise_sq_distances
    ("00.pairwise_sq_distances", lambda a, b: (a[:, None, :] - b[None, :, :]).sum(dim=-1), "without squaring"),
    ("00.pairwise_sq_distances", lambda a, b: (a[:, None, :] - b[None, :, :]).abs().sum(dim=-1), "L1 distance"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1).sqrt(),
     "Euclidean distance"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=1),
     "summed over dim 1"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=0),
     "summed over dim 0"),
    ("00.pairwise_sq_distances", lambda a, b: ((b[:, None, :] - a[None, :, :]) ** 2).sum(dim=-1),
     "one row per point of b"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).mean(dim=-1),
     "2 times too small: a mean where a sum was needed"),
]

# more wrong answers, as learners write them (issue 19): each fails, with a hint where the mistake is a known one
WRONG += [
    ("00.row_normalize", lambda s: s / s.amax(dim=1, keepdim=True), "by its largest score"),
    ("00.row_normalize", lambda s: s / s.max(dim=1, keepdim=True).values, "by its largest score"),
    ("00.row_normalize", lambda s: s / s.norm(dim=1, keepdim=True), "the L2 norm"),
    ("00.row_normalize", lambda s: s / (s ** 2).sum(dim=1, keepdim=True).sqrt(), "the L2 norm"),
    ("00.row_normalize", lambda s: s / s.mean(dim=1, keepdim=True), "constant factor (3 times"),
    ("00.row_normalize", lambda s: s / s[:, :-1].sum(dim=1, keepdim=True), "the example shown in the notebook",
     "8 of 9 values differ"),  # one column short
    ("00.row_normalize", lambda s: s / s[0].sum(), "the example shown in the notebook", "3 of 9 values differ"),
    ("00.row_normalize", lambda s: s / s.sum(dim=0), "divided each column by its column sum"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).clamp(min=1), "hidden case 5 of 10",
     "each row sums to under 1"),  # a guard against 0 that changes every sum below 1
    ("00.standardize", lambda x: (x - x.mean()) / x.std(dim=0, correction=0), "one mean, of all the numbers"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.std(correction=0), "one std, of all the numbers"),
    ("00.standardize", lambda x: (x - x.amin(dim=0)) / (x.amax(dim=0) - x.amin(dim=0)), "min-max scaling"),
    ("00.standardize", lambda x: (x - x[0]) / x.std(dim=0, correction=0), "the example shown in the notebook"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / (x.std(dim=0, correction=0) + 1e-3),
     "the example shown in the notebook", "5 of 15 values differ"),  # the binary column, std 0.49
    ("00.standardize", lambda x: (x - x.mean(dim=0).detach()) / x.std(dim=0, correction=0).detach(),
     "the values are right, the gradient is not", "a .detach()"),
    ("00.pairwise_sq_distances", lambda a, b: a @ b.T, "the dot products"),
    ("00.pairwise_sq_distances", lambda a, b: (a ** 2).sum(dim=1, keepdim=True) + (b ** 2).sum(dim=1) + 2 * a @ b.T,
     "the cross term has the wrong sign"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] + b[None, :, :]) ** 2).sum(dim=-1), "|a_i + b_j|^2"),
    ("00.pairwise_sq_distances", lambda a, b: -((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1),
     "some of your squared distances are negative"),
    ("00.pairwise_sq_distances", lambda a, b: (a ** 2).sum(dim=1, keepdim=True) - (b ** 2).sum(dim=1) - 2 * a @ b.T,
     "some of your squared distances are negative"),
    ("00.pairwise_sq_distances", lambda a, b: (a ** 2).sum(dim=1, keepdim=True) + (b ** 2).sum(dim=1) - a @ b.T,
     "has a factor 2"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1, keepdim=True),
     "expected shape (3, 4) float32, got shape (3, 4, 1)"),
    ("00.pairwise_sq_distances", lambda a, b: (a[:, None, :] - b[None, :, :]).sum(dim=-1) ** 2,
     "the example shown in the notebook", "expected 25, got 49"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :2] - b[None, :, :2]) ** 2).sum(dim=-1),
     "hidden case 2 of 8 (6 points against 9, in 4-D)"),  # only the first two coordinates
]

# review 0001: an epsilon or a clamp "for numerical stability" (batch norm's 1e-5 under the sqrt) changes every value
# of a column, or a row, whose own scale is tiny; and the textbook variance E[x^2] - E[x]^2 cancels in float32
WRONG += [
    ("00.standardize", lambda x: (x - x.mean(0).unsqueeze(0)) / (x.var(0, correction=0) + 1e-5).sqrt().unsqueeze(0),
     "hidden case 7 of 10", "a tiny spread", "an epsilon, as batch normalisation adds"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / (x.std(dim=0, correction=0) + 1e-8), "hidden case 7 of 10",
     "with nothing added"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.std(dim=0, correction=0).clamp(min=1e-6),
     "hidden case 7 of 10", "a clamp of the std from below"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / ((x * x).mean(dim=0) - x.mean(dim=0) ** 2).sqrt(),
     "E[x^2] - E[x]^2", "cancellation"),
    ("00.row_normalize", lambda s: s / (s.sum(dim=1, keepdim=True) + 1e-8), "hidden case 7 of 10", "tiny scores",
     "an epsilon"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).clamp(min=1e-6), "hidden case 7 of 10",
     "a clamp of them from below"),
    ("00.row_normalize", lambda s: s / s.abs().sum(dim=1, keepdim=True),  # F.normalize(p=1)'s formula: abs'(0) = 0
     "the values are right, the gradient is not", "abs at 0"),
]

WRONG += [  # review 6 (0001): clamps and epsilons below the scale of case 7 gave the same numbers there
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).clamp(min=1e-12), "hidden case 8 of 10",
     "tinier scores", "a clamp of them from below"),
    ("00.row_normalize", lambda s: s / (s.sum(dim=1, keepdim=True) + 1e-15), "hidden case 8 of 10", "an epsilon"),
    ("00.standardize", lambda x: (x - x.mean(0)) / x.std(0, correction=0).clamp(min=1e-8), "hidden case 8 of 10",
     "a tinier spread", "a clamp of the std from below"),
    ("00.standardize", lambda x: (x - x.mean(0)) / x.std(0, correction=0).clamp(min=1e-9), "hidden case 8 of 10",
     "with nothing added"),
    ("00.standardize", lambda x: (x - x.mean(0)) / (x.std(0, correction=0) + 1e-12), "hidden case 8 of 10",
     "an epsilon"),
]

WRONG += [  # review 7 (0001): F.normalize's clamp at 1e-12 on the std, and 1e-15 on the row sums, passed
    ("00.standardize", lambda x: (x - x.mean(0)) / x.std(0, correction=0).clamp(min=1e-12), "hidden case 8 of 10",
     "std about 1e-18", "a clamp of the std from below"),
    ("00.standardize", lambda x: (x - x.mean(0)) / x.std(0, correction=0).clamp(min=1e-17), "hidden case 8 of 10",
     "a clamp of the std from below"),
    ("00.standardize", lambda x: (x - x.mean(0)) / (x.std(0, correction=0) + 1e-20), "hidden case 8 of 10",
     "an epsilon"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).clamp(min=1e-15), "hidden case 8 of 10",
     "under 4e-18", "a clamp of them from below"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).clamp(min=1e-17), "hidden case 8 of 10",
     "a clamp of them from below"),
    ("00.row_normalize", lambda s: s / (s.sum(dim=1, keepdim=True) + 1e-20), "hidden case 8 of 10", "an epsilon"),
]

WRONG += [  # review 0001: the same for the distances; the comparison's tolerance now scales with |a|^2 + |b|^2
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1).clamp(min=1e-8),
     "hidden case 4 of 8", "came out as 1e-08", "clamped them from below"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1) + 1e-8,
     "hidden case 4 of 8", "an epsilon"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1).sqrt() ** 2,
     "the values are right, the gradient is not", "sqrt or log at 0"),
]

WRONG += [  # review 0001, round 4: epsilons and clamps up to 1e-10 passed (zeros compared to within about 1e-9)
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=2) + 1e-12,
     "hidden case 4 of 8", "came out as 1e-12", "an epsilon"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=2) + 1e-10,
     "came out as 1e-10", "an epsilon"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=2).clamp(min=1e-12),
     "came out as 1e-12", "clamped them from below"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=2).clamp(min=1e-10),
     "came out as 1e-10", "clamped them from below"),
    ("00.pairwise_sq_distances", lambda a, b: (a * a).sum(dim=1, keepdim=True) + (b * b).sum(dim=1) - 2 * a @ b.T
     + 1e-12, "an epsilon"),
    ("00.pairwise_sq_distances", lambda a, b: (((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=2) + 1e-12).sqrt() ** 2,
     "an epsilon"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=2) + 1e-20,
     "came out as 1e-20", "an epsilon"),
    ("00.pairwise_sq_distances",  # float32's smallest normal number as the bound
     lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=2).clamp(min=1.1754944e-38),
     "came out as 1.175e-38", "clamped them from below"),
]

# "write it yourself": the library's own version of the exercise, called from the answer
WRONG += [
    ("00.row_normalize", lambda s: F.normalize(s, p=1, dim=1), "write it yourself", "normalize"),
    ("00.standardize", lambda x: F.batch_norm(x, None, None, training=True, eps=0.0), "write it yourself",
     "batch_norm"),
    ("00.standardize", lambda x: tl.nn.BatchNorm1d(x.shape[1], eps=0.0, affine=False)(x), "write it yourself",
     "BatchNorm1d"),
]


def _row_normalize_through_torch(scores):
    import torch  # (inside: these tests import PyTorch only where an answer uses it)
    return tl.tensor(torch.nn.functional.normalize(torch.from_numpy(scores.detach().numpy()), p=1, dim=1).numpy())


def _standardize_by_the_norm(x):
    centred = x - x.mean(dim=0)
    return centred / (centred.norm(dim=0) / x.shape[0] ** 0.5)


def _distances_through_torch(a, b):
    import torch
    return tl.tensor(torch.cdist(torch.from_numpy(a.detach().numpy()), torch.from_numpy(b.detach().numpy())).numpy()
                     ) ** 2


# issue 32: the allowlist. Another library function that does the work in one call is refused by name, with the
# blocks the text allows: when the numbers are right, as the verdict; when they are wrong anyway, besides the failure
ROW_BLOCKS, STANDARDIZE_BLOCKS = ALLOWS + ", sum, mean;", ALLOWS + ", mean, std or var"
WRONG += [
    ("00.row_normalize", lambda s: s.log().softmax(dim=1), "you called tinygrad_lite.Tensor.softmax", ROW_BLOCKS),
    ("00.row_normalize", lambda s: s / s.norm(p=1, dim=1, keepdim=True), "you called tinygrad_lite.Tensor.norm",
     ROW_BLOCKS),
    ("00.row_normalize", _row_normalize_through_torch, "your code uses torch.nn.functional.normalize", ROW_BLOCKS),
    ("00.standardize", lambda x: F.layer_norm(x.T, (x.shape[0],), eps=0.0).T,
     "00.standardize: you called tinygrad_lite.nn.functional.layer_norm, which is not one of this exercise's",
     STANDARDIZE_BLOCKS),
    ("00.standardize", _standardize_by_the_norm, "you called tinygrad_lite.Tensor.norm", STANDARDIZE_BLOCKS),
    ("00.pairwise_sq_distances", lambda a, b: (a[:, None, :] - b[None, :, :]).norm(dim=-1) ** 2,
     "you called tinygrad_lite.Tensor.norm",
     ALLOWS + ", sum, matrix products (@, matmul), clamp, max (or maximum), where, relu;"),
    ("00.pairwise_sq_distances", _distances_through_torch, "your code uses torch.cdist", "it allows:"),
]


# issue 32: the float64 case. PyTorch keeps float64, so converting to float32 (.float(), a float32 tensor made
# inside) fails there: the result's dtype, or, where float32 promotes back to float64, its 7 digits
F64_CASE = {"00.row_normalize": "hidden case 9 of 10", "00.standardize": "hidden case 10 of 10",
            "00.pairwise_sq_distances": "hidden case 8 of 8"}
FLOAT32_WRONG = [
    ("00.row_normalize", lambda s: (s / s.sum(dim=1, keepdim=True)).float(), F64_CASE["00.row_normalize"],
     "a float64 tensor was expected", "compute in the dtype of the inputs"),
    ("00.standardize", lambda x: (x.float() - x.float().mean(0)) / x.float().std(0, correction=0),
     F64_CASE["00.standardize"], "a float64 tensor was expected", "converts to float32"),
    # a float32 std promotes back to float64 (PyTorch's rule too): the dtype is right, the digits are float32's
    ("00.standardize", lambda x: (x - x.mean(0)) / x.std(0, correction=0).to(tl.float32), F64_CASE["00.standardize"],
     "float64; 24 of 24 values differ", "(difference 8.08e-08)"),
    ("00.pairwise_sq_distances", lambda a, b: ((a.float()[:, None, :] - b.float()[None, :, :]) ** 2).sum(dim=-1),
     F64_CASE["00.pairwise_sq_distances"], "a float64 tensor was expected", "converts to float32"),
]
WRONG += FLOAT32_WRONG


def _in_place_row_normalize(scores):
    scores /= scores.sum(dim=1, keepdim=True)  # divides the caller's tensor
    return scores


# a beginner's detours: right numbers, wrong kind of answer
WRONG += [
    ("00.row_normalize", lambda s: (s / s.sum(dim=1, keepdim=True)).numpy(), "you returned a numpy.ndarray",
     "loss.backward() cannot reach the weights"),
    ("00.row_normalize", lambda s: (s / s.sum(dim=1, keepdim=True)).tolist(), "you returned a list"),
    ("00.row_normalize", lambda s: (s / s.sum(dim=1, keepdim=True)).sum().item(), "Python number",
     "e.g. from .item()"),
    ("00.row_normalize", lambda s: tl.tensor(s.numpy() / s.numpy().sum(axis=1, keepdims=True)),
     "with inputs that require grad", "numpy has no graph"),
    ("00.row_normalize", lambda s: (s / s.sum(dim=1, keepdim=True)).detach(), "requires_grad is False",
     "grad_fn is None although the inputs require grad"),
    ("00.row_normalize", lambda s: (s / s.sum(dim=1, keepdim=True)).double(), "float64 tensor"),
    ("00.row_normalize", _in_place_row_normalize, "changed its input `scores` in place"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).detach(), "the values are right, the gradient is not",
     "a .detach()"),
    ("00.standardize", lambda x: tl.tensor((x.numpy() - x.numpy().mean(0)) / x.numpy().std(0)),
     "numpy has no graph"),
    ("00.pairwise_sq_distances", lambda a, b: [[float(((p - q) ** 2).sum().item()) for q in b] for p in a],
     "you returned a list"),
]

ERRORS = [
    ("00.row_normalize", lambda s: s / s.sum(dim=2), "IndexError", "the example shown in the notebook"),
    ("00.pairwise_sq_distances", lambda a, b: ((a - b) ** 2).sum(dim=-1), "(3, 2) and (4, 2) cannot be broadcast"),
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / x.std(dim=0) if x.std(dim=0) > 0 else x, "Boolean value",
     "needs one True or False"),
]


# -------------------------------------------------------------------- special cases
def test_a_wrong_answer_only_on_a_hidden_case_names_that_case():
    def no_keepdim_fails_only_when_square(x):  # right on the visible (5, 3) example, not on the square batch
        if x.shape[0] != x.shape[1]:
            return standardize(x)
        return (x - x.mean(dim=1)) / x.std(dim=1, correction=0)

    assert_fails_with("00.standardize", no_keepdim_fails_only_when_square,
                      "hidden case 4 of 10 (a square batch, 6 examples and 6 features)")


# float64 cases besides the one of issue 32, each for a number float32 cannot hold (issue 46: a row summing to
# 1e-99 shows a clamp of the sums at float32's "tiny" floor); after it, so that a .float() is told there first
MORE_FLOAT64 = {"00.row_normalize": ("float64 scores, and a row that sums to about 1e-99",)}


def test_the_inputs_are_float32_tensors_but_in_one_float64_case():
    """Issue 32: each exercise has one case of float64 tensors (PyTorch keeps float64, so a .float() must show),
    which says so; every other case is float32, as the notebook's tensors, but for the float64 cases of
    MORE_FLOAT64, after it."""
    for exercise_id in SOLUTIONS:
        cases = get_exercise(exercise_id).all_cases()
        assert all(isinstance(a, tl.Tensor) for case in cases for a in case.args)
        doubles = [case for case in cases if any(a.dtype == tl.float64 for a in case.args)]
        more = MORE_FLOAT64.get(exercise_id, ())
        assert len(doubles) == 1 + len(more) and all(a.dtype == tl.float64 for c in doubles for a in c.args)
        assert "compared at float64's precision" in doubles[0].label and not doubles[0].visible, exercise_id
        assert [c.label for c in doubles[1:]] == list(more)  # (in the cases' order: the issue-32 case first)
        ids = {id(c) for c in doubles}
        assert all(a.dtype == tl.float32 for case in cases if id(case) not in ids for a in case.args)


@pytest.mark.parametrize("exercise_id, fn", [row[:2] for row in FLOAT32_WRONG])
def test_a_float32_conversion_fails_only_the_float64_case(exercise_id, fn):
    """Issue 32: an answer that converts to float32 passes every float32 case and fails the float64 one (the last,
    but for those of MORE_FLOAT64)."""
    result = verdict(exercise_id, fn)
    assert result.passed_cases == result.total_cases - 1 - len(MORE_FLOAT64.get(exercise_id, ())), result.message
    assert "compared at float64's precision" in result.message


def test_check_prints_the_verdict(capsys):
    assert check("00.row_normalize", row_normalize)
    assert "✔ 00.row_normalize: passed (10 cases, 9 of them hidden)" in capsys.readouterr().out


def test_a_hint_gets_more_concrete_only_when_the_mistake_comes_back():
    once = verdict("00.row_normalize", lambda s: s / s.sum())
    twice = verdict("00.row_normalize", lambda s: s / s.sum(), times=2)
    assert "Each row needs its own sum" in once.message and "More:" not in once.message
    assert "keep that dim" in twice.message
    for text in (once.message, twice.message):
        assert "keepdim=True)" not in text and "sum(dim=1" not in text, "a hint never holds the finished line"


# -------------------------------------------------------------------- the notebooks
def test_row_normalize_comes_after_broadcasting_is_taught():
    cells = read_notebook(SOLUTION).cells
    broadcasting = next(i for i, c in enumerate(cells) if c.source.startswith("## ") and "Broadcasting" in c.source)
    first_exercise = next(i for i, c in enumerate(cells) if "exercise" in meta(c))
    assert broadcasting < first_exercise


def test_the_exercise_texts_hold_no_finished_code():
    nb = read_notebook(SOLUTION)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    text += "\n".join(meta(c).get("task", "") for c in nb.cells)
    for finished in ("sum(dim=1, keepdim=True)", "a[:, None, :] - b[None, :, :]", "correction=0)",
                     "x.mean(dim=0, keepdim=True)"):
        assert finished not in text, finished


def test_the_visible_cases_are_the_examples_the_notebook_shows():
    namespace = run_example_cells(SOLUTION, ("scores =", "features =", "pts_a ="), dict(NAMES))
    shown = {"00.row_normalize": [namespace["scores"]], "00.standardize": [namespace["features"]],
             "00.pairwise_sq_distances": [namespace["pts_a"], namespace["pts_b"]]}
    for exercise_id, tensors in shown.items():
        visible = [c for c in get_exercise(exercise_id).all_cases() if c.visible]
        assert len(visible) == 1
        for got, want in zip(visible[0].args, tensors):
            np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_the_failing_demo_in_the_welcome_fails_with_the_hint_the_text_promises():
    demo = next(c for c in read_notebook(SOLUTION).cells if "def row_normalize_wrong" in c.source)
    fn = define(demo.source.split("check(")[0], dict(NAMES))["row_normalize_wrong"]
    assert_fails_with("00.row_normalize", fn, "sum of the whole matrix")


@pytest.mark.parametrize("notebook", [SOLUTION, LESSON_NOTEBOOK])
def test_the_notebook_has_the_three_exercises_in_order(notebook):
    ids = [meta(c)["exercise"] for c in read_notebook(notebook).cells if "exercise" in meta(c)]
    assert ids == ["00.row_normalize", "00.standardize", "00.pairwise_sq_distances"]


def test_the_welcome_demo_does_not_count_as_the_learners_mistake():
    """Review 0001: the demo's failing answer escalated the learner's first hint to 'More:'."""
    from tinygrad_lite.course.checks import _SEEN
    _SEEN.clear()
    wrong = lambda s: s / s.sum()  # noqa: E731  (the welcome's demo)
    check("00.row_normalize", wrong, quiet=True, demo=True)
    first = check("00.row_normalize", wrong, quiet=True)
    second = check("00.row_normalize", wrong, quiet=True)
    _SEEN.clear()
    assert "More" not in first.text and "More" in second.text


def test_the_welcomes_example_of_a_hidden_case_is_what_a_check_says():
    """Review 3 (0001): the welcome quoted "hidden case 4 of 6" for row_normalize, which has 7 cases. An answer
    wrong only on one-row inputs gets the message the text quotes, word for word."""
    wrong_on_one_row = lambda s: row_normalize(s) if s.shape[0] > 1 else s  # noqa: E731
    result = verdict("00.row_normalize", wrong_on_one_row)
    quoted = result.message.split("failed on ", 1)[1].split(".\n", 1)[0]
    welcome = next(c for c in read_notebook(SOLUTION).cells if "What a failed check looks like" in c.source)
    assert quoted.startswith("hidden case") and f'"{quoted}"' in welcome.source, (quoted, result.message)


@pytest.mark.parametrize("exercise_id, fn, first_text, more_text", [
    ("00.standardize", lambda x: (x - x.mean(dim=0)) / (x.var(dim=0, correction=0) + 1e-12).sqrt(),
     "hidden case 7 of 10", "far smaller than 1e-14"),
    ("00.pairwise_sq_distances", lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=-1) + 1e-30,
     "a number added to the distances", "any epsilon or clamp, however small"),
])
def test_the_epsilon_mores_fit_a_tiny_epsilon(exercise_id, fn, first_text, more_text):
    """Review 5 (0001): an epsilon under the square root is compared with the variance, not the std; an epsilon
    of 1e-30 is not 'outweighing' 1e-18 distances, but it does turn the exact zeros into itself."""
    from tinygrad_lite.course.checks import _SEEN
    _SEEN.clear()
    first = check(exercise_id, fn, quiet=True)
    second = check(exercise_id, fn, quiet=True)
    _SEEN.clear()
    assert first_text in first.text and more_text in second.text, second.text


def test_the_text_names_a_hidden_case_of_row_normalize_as_the_check_does():
    """Lesson 00's tour of a failed check quotes how a hidden case is named ("hidden case 4 of 10 (a single
    example)"): the number, the count and the label must be the check's own."""
    import re
    text = "\n".join(c.source for c in read_notebook(SOLUTION).cells if c.cell_type == "markdown")
    number, total, label = re.search(r'"hidden case (\d+) of (\d+) \(([^)]+)\)"', text).groups()
    cases = get_exercise("00.row_normalize").all_cases()  # (numbered from 1 with the visible one, as messages are)
    assert int(total) == len(cases) and not cases[int(number) - 1].visible and cases[int(number) - 1].label == label


# the notebook's `features`, as a learner's answer may use it in place of the argument (attack of session 37)
FEATURES = tl.tensor([[150.0, 50.0, 1.0], [160.0, 60.0, 0.0], [170.0, 80.0, 1.0], [180.0, 70.0, 0.0],
                      [190.0, 90.0, 1.0]])

WRONG += [  # attack of session 37: the values right on the example, the gradient not
    ("00.standardize", lambda x: (x - FEATURES.mean(dim=0)) / FEATURES.std(dim=0, correction=0),
     "the values are right, the gradient is not", "a tensor used where the argument was meant"),
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).round(), "the values are right", "a rounding"),
]
WRONG += [  # round 2: the notebook's own data in place of the argument everywhere: no graph to the argument
    ("00.standardize", lambda x: (FEATURES - FEATURES.mean(dim=0)) / FEATURES.std(dim=0, correction=0),
     "not connected to the graph", "computed from other tensors than the arguments"),
]
