r"""Lesson 01, the forward pass: the checks of dense_forward, relu, sigmoid, mlp_forward and kaiming_normal_std.

The learner's functions take tinygrad_lite tensors (float32, as in the notebook) and return a tensor; the
references are the library's own ``nn.functional`` and ``nn.init`` formulas, tested against PyTorch elsewhere.
The hidden cases are chosen so that the usual mistakes show:

- dense_forward: every weight is rectangular (out != in), so ``x @ W`` fails loudly, a result in the column
  convention (out, N) is recognised as a transpose, and ``W.reshape(in, out)`` (not a transpose) gives wrong numbers.
- relu: 2-D inputs, so a reduction (``x.max(0)``) changes the shape.
- sigmoid: inputs down to -1000. For -100 < x < -88.7, exp(-x) overflows float32 and the naive 1 / (1 + exp(-x))
  returns exactly 0 where the true value is tiny but positive (sigmoid(-100) = 3.78e-44, a float32 subnormal); a
  custom comparison insists on it (PyTorch's CPU sigmoid returns 0 there too, and the notebook says why it matters:
  log(sigmoid(x)) becomes -inf). exp(x) / (1 + exp(x)) returns nan for large positive x.
- mlp_forward: one-layer networks (no ReLU at all) and outputs with negative values (a ReLU after the last layer).
- kaiming_normal_std: weight shapes for which every known wrong formula (fan_out, no gain, gain 2, the variance,
  Xavier's std, the uniform bound) gives a different number, so each mistake gets its own hint.
"""
import math

import numpy as np

from ... import tensor
from ...nn import functional as F
from ..checks import Case, Exercise, Mistake, compare_arrays, register


def _f32(a):
    return tensor(np.asarray(a, dtype=np.float32))


def _mistake(wrong, hint):
    """A Mistake whose wrong answer is computed without numpy's warnings (a wrong formula may overflow)."""
    def quiet(*args):
        with np.errstate(all="ignore"):
            return wrong(*args)
    return Mistake(quiet, hint)


# -------------------------------------------------------------------- 01.dense_forward
DENSE_EXAMPLE = (
    [[1.0, 2.0, 3.0],
     [0.0, -1.0, 2.0]],                     # x: a batch of N = 2 samples with 3 features
    [[0.5, -1.0, 0.0],
     [0.0, 1.0, 1.0],
     [2.0, 0.0, -0.5],
     [-1.0, 1.0, 0.5]],                     # W: (out, in) = (4, 3), one row per neuron
    [0.0, 1.0, -1.0, 0.5],                  # b: (out,) = (4,)
)


def _dense_case(rng, n, n_in, n_out, label, scale=1.0):
    return Case((_f32(scale * rng.standard_normal((n, n_in))), _f32(rng.standard_normal((n_out, n_in))),
                 _f32(rng.standard_normal(n_out))), label)


def _dense_cases(rng):
    return [
        Case(tuple(_f32(a) for a in DENSE_EXAMPLE), visible=True),
        _dense_case(rng, 8, 5, 3, "a batch of 8, 5 features in, 3 out"),
        _dense_case(rng, 1, 4, 6, "a batch of one sample, 4 in, 6 out"),
        _dense_case(rng, 16, 2, 10, "2 features in, 10 out: more outputs than inputs"),
        _dense_case(rng, 5, 64, 7, "64 features in, 7 out, large inputs", scale=100.0),
    ]


register(Exercise(
    "01.dense_forward",
    reference=lambda x, W, b: F.linear(x, W, b),
    cases=_dense_cases,
    mistakes=[
        _mistake(lambda x, W, b: x @ W.T,
                 "the bias is missing: every neuron adds its own b[j] after the weighted sum, x @ W.T + b "
                 "(b has shape (out,) and is broadcast over the batch)"),
        _mistake(lambda x, W, b: x @ W.reshape(W.shape[1], W.shape[0]) + b,
                 "W.reshape(in, out) has the right shape but not the right numbers: reshape keeps the elements in "
                 "memory order and only regroups them. A transpose swaps rows and columns: use W.T"),
        _mistake(lambda x, W, b: x @ W.T - b,
                 "the bias is added, not subtracted: y = x @ W.T + b"),
    ],
    points=1, rtol=1e-5, atol=1e-5,
))


# -------------------------------------------------------------------- 01.relu
RELU_EXAMPLE = [[-2.0, -0.5, 0.0, 1.5],
                [3.0, -1.0, 0.25, -4.0]]


def _relu_cases(rng):
    return [
        Case((_f32(RELU_EXAMPLE),), visible=True),
        Case((_f32(rng.standard_normal((5, 7))),), "a batch of 5 rows with 7 values each"),
        Case((_f32(rng.standard_normal(10)),), "a 1-D tensor of 10 values"),
        Case((_f32(-rng.uniform(0.1, 5.0, (3, 3))),), "all negative: every output is 0"),
        Case((_f32(rng.standard_normal((2, 3, 4))),), "a 3-D tensor: the shape must not change"),
        Case((_f32(1e6 * rng.standard_normal((4, 4))),), "large values, up to a few million"),
    ]


register(Exercise(
    "01.relu",
    reference=lambda x: F.relu(x),
    cases=_relu_cases,
    mistakes=[
        _mistake(lambda x: x.max(0),
                 "x.max(0) (like np.max(x, 0)) looks for the largest value along dim 0, so the shape shrinks (and a "
                 "tensor's max(dim) also returns the indices). ReLU compares every element with 0 on its own: "
                 "x.clamp(min=0), or tl.maximum(x, tl.zeros_like(x))"),
        _mistake(lambda x: x.max(),
                 "x.max() is the single largest value of the whole tensor. ReLU compares every element with 0 on its "
                 "own: x.clamp(min=0), or tl.maximum(x, tl.zeros_like(x))"),
        _mistake(lambda x: x.clamp(max=0),
                 "x.clamp(max=0) keeps the negative values and zeroes the positive ones: that is min(x, 0). "
                 "ReLU is max(x, 0): x.clamp(min=0)"),
        _mistake(lambda x: x > 0,
                 "x > 0 is the mask (True where x is positive), not the values: multiply it by x, or use "
                 "x.clamp(min=0)"),
        _mistake(lambda x: x.abs(),
                 "abs(x) turns negative values positive; ReLU sets them to 0: x.clamp(min=0)"),
    ],
    points=1,
))


# -------------------------------------------------------------------- 01.sigmoid
SIGMOID_EXAMPLE = [-100.0, -20.0, -5.0, -1.0, 0.0, 1.0, 5.0, 100.0]


def _sigmoid_cases(rng):
    return [
        Case((_f32(SIGMOID_EXAMPLE),), visible=True),
        Case((_f32(rng.standard_normal((4, 5))),), "a 4x5 batch of values around 0"),
        Case((_f32(rng.uniform(-500.0, 500.0, 12)),), "large positive and negative values, up to +-500"),
        Case((_f32(rng.uniform(-100.0, -89.0, (2, 3))),), "very negative values, -100 to -89: tiny results"),
        Case((_f32(rng.uniform(-1000.0, -200.0, 5)),), "extremely negative values: results round to 0"),
        Case((_f32(rng.standard_normal((2, 3, 4))),), "a 3-D tensor: the shape must not change"),
    ]


def _sigmoid_compare(got, expected, case):
    """The usual comparison, and a tiny positive result must not come back as exactly 0 (its exp overflowed)."""
    failure = compare_arrays(got, expected, 1e-5, 1e-7)
    if failure:
        return failure
    lost = (expected > 0) & (got == 0)
    if not lost.any():
        return None
    where_ = np.unravel_index(int(np.argmax(lost)), lost.shape)
    x = float(np.asarray(case.args[0].numpy())[where_])
    return (f"the result: sigmoid({x:.6g}) = {float(expected[where_]):.4g} is tiny but not 0, and you returned "
            f"exactly 0 ({int(lost.sum())} of {lost.size} values are 0 where they should not be)")


NAIVE_SIGMOID_HINT = (
    "1 / (1 + exp(-x)) overflows for very negative x: exp(100) is inf in float32 (beyond about 3.4e38; you may have "
    "seen 'RuntimeWarning: overflow encountered in exp'), and 1 / (1 + inf) is 0. Compute e = exp(-|x|), which is "
    "at most 1 and never overflows, then sigmoid is 1 / (1 + e) where x >= 0 and e / (1 + e) where x < 0: pick "
    "with tl.where(x >= 0, ..., ...)")

SIGMOID_OF_MINUS_X_HINT = (
    "you computed sigmoid(-x) = 1 - sigmoid(x): the output should grow with x (sigmoid(5) is close to 1). Check the "
    "sign in the exponent, or whether the two branches of your tl.where are swapped")

register(Exercise(
    "01.sigmoid",
    reference=lambda x: F.sigmoid(x),
    cases=_sigmoid_cases,
    compare=_sigmoid_compare,
    mistakes=[
        _mistake(lambda x: 1 / (1 + (-x).exp()), NAIVE_SIGMOID_HINT),
        _mistake(lambda x: 0.5 * (1 + (0.5 * x).tanh()),
                 "0.5 * (1 + tanh(x / 2)) is the right formula, but for x below about -17 the float32 sum "
                 "1 + tanh(x / 2) is exactly 0: the tiny result is lost. Use e = exp(-|x|) and pick "
                 "1 / (1 + e) or e / (1 + e) with tl.where(x >= 0, ..., ...)"),
        _mistake(lambda x: x.exp() / (1 + x.exp()),
                 "exp(x) / (1 + exp(x)) overflows for large positive x: exp(100) is inf in float32 and inf / inf "
                 "is nan. Compute e = exp(-|x|), which is at most 1 and never overflows, then sigmoid is "
                 "1 / (1 + e) where x >= 0 and e / (1 + e) where x < 0: pick with tl.where(x >= 0, ..., ...)"),
        _mistake(lambda x: 1 / (1 + x.exp()), SIGMOID_OF_MINUS_X_HINT),
        _mistake(lambda x: F.sigmoid(-x), SIGMOID_OF_MINUS_X_HINT),  # the same, computed without overflow
    ],
    points=2, rtol=1e-5, atol=0.0,  # used to match mistakes (atol 0: a tiny value is not 0)
))


# -------------------------------------------------------------------- 01.mlp_forward
MLP_EXAMPLE = (
    [[1.0, -1.0],
     [0.5, 2.0],
     [-1.5, 0.0]],                               # x: a batch of 3 samples with 2 features
    [([[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]],    # layer 1: W (3, 2), b (3,)
      [0.0, -0.5, 0.5]),
     ([[1.0, -2.0, 0.5], [-1.0, 1.0, 1.0]],     # layer 2: W (2, 3), b (2,)
      [0.5, -1.0])],
)


def _layers(rng, sizes, scale=1.0):
    return [(_f32(scale * rng.standard_normal((n_out, n_in))), _f32(rng.standard_normal(n_out)))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def _mlp_cases(rng):
    x, layers = MLP_EXAMPLE
    return [
        Case((_f32(x), [(_f32(W), _f32(b)) for W, b in layers]), visible=True),
        Case((_f32(rng.standard_normal((6, 4))), _layers(rng, [4, 8, 8, 3])), "3 layers, 4 -> 8 -> 8 -> 3"),
        Case((_f32(rng.standard_normal((5, 3))), _layers(rng, [3, 2])), "a single layer: no ReLU at all"),
        Case((_f32(rng.standard_normal((1, 5))), _layers(rng, [5, 7, 4])), "a batch of one sample, 5 -> 7 -> 4"),
        Case((_f32(rng.standard_normal((10, 2))), _layers(rng, [2, 16, 16, 16, 2], scale=0.5)),
             "4 layers, 2 -> 16 -> 16 -> 16 -> 2"),
    ]


def mlp_reference(x, layers):
    """h = relu(h W^T + b) for every layer but the last, which is h W^T + b (no activation: the raw scores)."""
    for i, (W, b) in enumerate(layers):
        x = F.linear(x, W, b)
        if i < len(layers) - 1:
            x = F.relu(x)
    return x


def _mlp_wrong(relu_last=False, relu_none=False, relu_input=False, bias=True):
    def wrong(x, layers):
        if relu_input:
            x = F.relu(x)
        for i, (W, b) in enumerate(layers):
            x = x @ W.T + b if bias else x @ W.T
            if not relu_none and (relu_last or i < len(layers) - 1):
                x = F.relu(x)
        return x
    return wrong


register(Exercise(
    "01.mlp_forward",
    reference=mlp_reference,
    cases=_mlp_cases,
    mistakes=[
        _mistake(_mlp_wrong(relu_last=True),
                 "no ReLU after the last layer: the network's outputs are raw scores (logits) and must be able to "
                 "be negative. Apply the ReLU only between layers: if i < len(layers) - 1"),
        _mistake(_mlp_wrong(relu_none=True),
                 "the ReLU between the layers is missing: without it the layers collapse into a single linear map. "
                 "After every layer but the last, apply ReLU (h.clamp(min=0))"),
        _mistake(_mlp_wrong(relu_input=True),
                 "you applied a ReLU to the input x itself; the activation comes after each layer's x @ W.T + b "
                 "(and not after the last one)"),
        _mistake(_mlp_wrong(bias=False),
                 "the biases are missing: each layer computes h @ W.T + b"),
    ],
    points=2, rtol=1e-5, atol=1e-5,
))


# -------------------------------------------------------------------- 01.kaiming_normal_std
def kaiming_std_reference(weight_shape):
    """std = gain / sqrt(fan_in) with ReLU's gain sqrt(2) and fan_in = in_features = weight_shape[1]."""
    _, fan_in = weight_shape
    return math.sqrt(2.0) / math.sqrt(fan_in)


def _kaiming_cases(rng):
    shapes = []
    while len(shapes) < 4:
        shape = tuple(int(n) for n in rng.integers(1, 1025, 2))
        answers = [kaiming_std_reference(shape)] + [m.wrong(shape) for m in KAIMING_MISTAKES]
        if min(abs(a - b) / b for i, a in enumerate(answers) for b in answers[:i]) > 1e-3:  # keep them apart
            shapes.append(shape)
    return ([Case(((32, 128),), visible=True)]
            + [Case((s,), f"a layer with {s[1]} inputs and {s[0]} outputs") for s in shapes]
            + [Case(((10, 784),), "784 inputs, 10 outputs"), Case(((512, 3),), "3 inputs, 512 outputs")])


def _fans(shape):
    n_out, n_in = shape
    return n_in, n_out


KAIMING_MISTAKES = [
    Mistake(lambda s: math.sqrt(2.0 / _fans(s)[1]),
            "you used fan_out = weight_shape[0]. A Linear weight has PyTorch's layout (out_features, "
            "in_features), so fan_in, the number of inputs each neuron sums over, is weight_shape[1]"),
    Mistake(lambda s: 1.0 / math.sqrt(_fans(s)[0]),
            "1 / sqrt(fan_in) keeps the variance for a linear layer, but ReLU zeroes half of its inputs and "
            "halves the signal's second moment: Kaiming multiplies by the gain sqrt(2), std = sqrt(2 / fan_in)"),
    Mistake(lambda s: 2.0 / math.sqrt(_fans(s)[0]),
            "2 / sqrt(fan_in) multiplies the std by 2; the factor 2 belongs to the variance, Var(W) = 2 / fan_in, so "
            "the std gets its square root: std = sqrt(2) / sqrt(fan_in) = sqrt(2 / fan_in)"),
    Mistake(lambda s: 2.0 / _fans(s)[0],
            "2 / fan_in is the variance of the weights; return the standard deviation, its square root"),
    Mistake(lambda s: math.sqrt(2.0 / sum(_fans(s))),
            "sqrt(2 / (fan_in + fan_out)) is Xavier/Glorot's std (for tanh). Kaiming/He for ReLU uses fan_in "
            "only: sqrt(2 / fan_in)"),
    Mistake(lambda s: math.sqrt(6.0 / _fans(s)[0]),
            "sqrt(6 / fan_in) is the bound a of Kaiming's *uniform* U(-a, a) (a = sqrt(3) std); the normal "
            "version's std is sqrt(2 / fan_in)"),
]


register(Exercise(
    "01.kaiming_normal_std",
    reference=kaiming_std_reference,
    cases=_kaiming_cases,
    mistakes=KAIMING_MISTAKES,
    points=1, rtol=1e-6, atol=0.0,
))
