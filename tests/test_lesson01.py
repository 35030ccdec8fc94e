"""Lesson 01 (the forward pass): its right answers, its wrong answers with the message each must get, and its texts.

tests/test_lessons.py runs the generic checks of every lesson on the data here (SOLUTIONS pass, ALSO_RIGHT pass,
WRONG fail with their texts, ERRORS are errors with theirs, every hint tier is reached, the generic wrong answers
derived from SOLUTIONS are refused, the notebook's cells and the released stubs). This file adds what is lesson
01's own: the misfires of issue 7 no longer happen, each exercise's visible case is the example the notebook shows
next to it, the objectives name the exercises, and no hint or exercise text holds a finished line of the solution.
"""
import dataclasses
import math
import re

import numpy as np
import pytest
from lesson_helpers import ALLOWS, exercise_cells, generic_wrong_answers, notebooks, run_example_cells, verdict

import tinygrad_lite as tl
from tinygrad_lite import nn
from tinygrad_lite.course.checks import ERROR, FAILED, get_exercise, run_check
from tinygrad_lite.course.notebooks import BEGIN, END, meta, read_notebook

LESSON = "01_forward_pass"
SOLUTION, RELEASED = notebooks(LESSON)
NAMES = {"tl": tl, "nn": nn, "np": np}  # what the notebook has imported before its exercise cells
IDS = ["01.dense_forward", "01.relu", "01.sigmoid", "01.mlp_forward", "01.kaiming_normal_std"]
F = nn.functional


# -------------------------------------------------------------------- right answers, written as a learner would
def dense_forward(x, W, b):
    return x @ W.T + b


def relu(x):
    return x.clamp(min=0)


def sigmoid(x):
    e = tl.exp(tl.where(x >= 0, -x, x))  # e^(-|x|), with the slope -1 at 0 of the branch the result picks there
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))


def mlp_forward(x, layers):
    for i, (W, b) in enumerate(layers):
        x = dense_forward(x, W, b)
        if i < len(layers) - 1:
            x = relu(x)
    return x


def kaiming_normal_std(weight_shape):
    return math.sqrt(2 / weight_shape[1])


SOLUTIONS = {"01.dense_forward": dense_forward, "01.relu": relu, "01.sigmoid": sigmoid,
             "01.mlp_forward": mlp_forward, "01.kaiming_normal_std": kaiming_normal_std}


def _mlp_by_halves(x, layers):
    *hidden, (W_last, b_last) = layers  # unpacks a copy: `layers` itself is left as it is
    for W, b in hidden:
        x = (x @ W.T + b).relu()
    return x @ W_last.T + b_last


def _relu_on_a_copy(x):
    y = x.clone()  # in place on a copy is fine: the caller's x stays as it is
    y[y < 0] = 0
    return y


def _mlp_with_relu_in_place_on_hidden_values(x, layers):
    for i, (W, b) in enumerate(layers):
        x = x @ W.T + b
        if i < len(layers) - 1:
            x.clamp_(min=0)  # x is this layer's own output here, not the caller's input
    return x


def _dense_one_neuron_at_a_time(x, W, b):
    return tl.stack([x @ w + b_j for w, b_j in zip(W, b)], dim=1)  # column j: neuron j's weighted sums


def _sigmoid_in_place_on_a_new_tensor(x):
    out = 1 / (1 + tl.exp(-x.clamp(min=0)))  # sigmoid(max(x, 0)), a new tensor: writing into it leaves x as it is
    negative = x < 0
    e = tl.exp(x.clamp(max=0))
    out[negative] = (e / (1 + e))[negative]
    return out


def _sigmoid_exp_of_log_sigmoid(x):
    """exp(log sigmoid(x)), log sigmoid(x) = min(x, 0) - log(1 + e^(-|x|)), with min(x, 0) = (x - |x|) / 2."""
    minus_abs = tl.where(x >= 0, -x, x)
    return tl.exp((x + minus_abs) / 2 - tl.log1p(tl.exp(minus_abs)))


def _mlp_recursive(x, layers):
    (W, b), rest = layers[0], layers[1:]
    y = x @ W.T + b
    return _mlp_recursive(tl.where(y > 0, y, 0.0), rest) if rest else y


def _chain_with_library_layers(x, layers):
    for i, (W, b) in enumerate(layers):
        x = F.linear(x, W, b)
        if i < len(layers) - 1:
            x = F.relu(x)
    return x


ALSO_RIGHT = [  # other right answers: the checks must not insist on one way of writing them
    ("01.dense_forward", lambda x, W, b: (W @ x.T).T + b),
    ("01.dense_forward", lambda x, W, b: tl.matmul(x, W.transpose(0, 1)) + b.unsqueeze(0)),
    ("01.dense_forward", _dense_one_neuron_at_a_time),
    ("01.dense_forward", lambda x, W, b: (x[:, None, :] * W[None, :, :]).sum(dim=-1) + b),  # broadcast, no matmul
    ("01.relu", lambda x: x * (x > 0)),
    ("01.relu", lambda x: tl.where(x > 0, x, 0.0)),
    ("01.relu", lambda x: tl.maximum(x, tl.zeros_like(x))),
    ("01.relu", lambda x: x * (x >= 0).float()),  # gradient 1 at exactly 0: a valid choice, the text says
    ("01.relu", _relu_on_a_copy),
    ("01.relu", lambda x: x.abs() * (x > 0).float()),
    ("01.sigmoid", _sigmoid_in_place_on_a_new_tensor),
    ("01.sigmoid", _sigmoid_exp_of_log_sigmoid),
    ("01.sigmoid", lambda x: tl.where(x >= 0, 1 / (1 + tl.exp(-x.clamp(min=0))),  # each exp of a number <= 0
                                      tl.exp(x.clamp(max=0)) / (1 + tl.exp(x.clamp(max=0))))),
    ("01.mlp_forward", _mlp_by_halves),
    ("01.mlp_forward", _mlp_with_relu_in_place_on_hidden_values),
    ("01.mlp_forward", _mlp_recursive),
    ("01.kaiming_normal_std", lambda s: nn.init.calculate_gain("relu") / s[1] ** 0.5),
    ("01.kaiming_normal_std", lambda s: float(np.sqrt(2.0 / s[1]))),
    ("01.kaiming_normal_std", lambda s: tl.tensor(2.0 / s[1], dtype=tl.float64).sqrt().item()),
    ("01.mlp_forward",  # the library's layers are allowed here (the text says so): the exercise is the chaining
     lambda x, layers: _chain_with_library_layers(x, layers)),
]


# -------------------------------------------------------------------- wrong answers, as learners write them
def _relu_writes_into_x(x):
    x[x < 0] = 0
    return x


def _sigmoid_where_over_naive_formulas(x):
    return tl.where(x >= 0, 1 / (1 + tl.exp(-x)), tl.exp(x) / (1 + tl.exp(x)))


def _sigmoid_where_over_naive_formulas_warnings_hidden(x):
    with np.errstate(all="ignore"):  # "the warnings are just noise"
        return _sigmoid_where_over_naive_formulas(x)


def _sigmoid_without_abs(x):
    e = tl.exp(-x)
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_with_exp_x(x):
    e = tl.exp(x)
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _mlp_relu_after_last(x, layers):
    return relu(mlp_forward(x, layers))


def _mlp_without_relu(x, layers):
    for W, b in layers:
        x = x @ W.T + b
    return x


def _mlp_relu_first(x, layers):
    return mlp_forward(relu(x), layers)


def _mlp_without_bias(x, layers):
    return mlp_forward(x, [(W, tl.zeros_like(b)) for W, b in layers])


def _mlp_returns_in_the_loop(x, layers):
    for i, (W, b) in enumerate(layers):
        x = x @ W.T + b
        if i < len(layers) - 1:
            x = relu(x)
        return x


def _mlp_pops_the_last_layer(x, layers):
    W_last, b_last = layers.pop()  # changes the caller's list
    for W, b in layers:
        x = relu(x @ W.T + b)
    return x @ W_last.T + b_last


def _mlp_never_reassigns_h(x, layers):
    """The cell's given `h = x` and `return h`, with each layer's output put in another name (review of issue 46)."""
    h = x
    for i, (W, b) in enumerate(layers):
        y = dense_forward(h, W, b)
        if i < len(layers) - 1:
            y = relu(y)
    return h


def _mlp_returns_every_layer(x, layers):
    outputs = []
    for i, (W, b) in enumerate(layers):
        x = dense_forward(x, W, b)
        x = relu(x) if i < len(layers) - 1 else x
        outputs.append(x)
    return outputs


def _mlp_calls_an_unsolved(name, exercise_id):
    """mlp_forward written on top of a dense_forward (or relu) whose cell still holds the released stub."""
    namespace = dict(NAMES)
    exec(f"def {name}(*args):\n    raise NotImplementedError('{exercise_id}: not written yet')\n", namespace)
    exec("def mlp_forward(x, layers):\n"
         "    for i, (W, b) in enumerate(layers):\n"
         "        x = dense_forward(x, W, b)\n"
         "        if i < len(layers) - 1:\n"
         "            x = relu(x)\n"
         "    return x\n", namespace)
    namespace.setdefault("dense_forward", dense_forward)
    namespace.setdefault("relu", relu)
    return namespace["mlp_forward"]


WRONG = [
    # ---- 01.dense_forward
    ("01.dense_forward", lambda x, W, b: x @ W.T, "the bias is missing"),
    ("01.dense_forward", lambda x, W, b: x @ W.reshape(W.shape[1], W.shape[0]) + b, "reshape reads the elements"),
    ("01.dense_forward", lambda x, W, b: x @ W.T - b, "not subtracted"),
    ("01.dense_forward", lambda x, W, b: W @ x.T + b.reshape(-1, 1), "column convention", "(out, N)"),
    ("01.dense_forward", lambda x, W, b: (x @ W.T + b).T, "column convention"),
    ("01.dense_forward", lambda x, W, b: (x @ W.T + b).numpy(), "you returned a numpy.ndarray", "loss.backward()"),
    ("01.dense_forward", lambda x, W, b: np.dot(x.numpy(), W.numpy().T) + b.numpy(), "numpy.ndarray"),
    ("01.dense_forward", lambda x, W, b: (x @ W.T + b).tolist(), "you returned a list where a tensor"),
    ("01.dense_forward", lambda x, W, b: float((x @ W.T + b).sum()), "Python number"),
    ("01.dense_forward", lambda x, W, b: tl.tensor(x.numpy() @ W.numpy().T + b.numpy()), "numpy has no graph"),
    ("01.dense_forward", lambda x, W, b: tl.tensor((x @ W.T + b).detach().numpy()), "requires_grad is False"),
    ("01.dense_forward", lambda x, W, b: x.detach() @ W.T + b, "no gradient reached `x`"),
    ("01.dense_forward", lambda x, W, b: x @ W.T.detach() + b.detach(), "no gradient reached `W`"),
    # ---- 01.relu
    ("01.relu", lambda x: x.max(0), "x.max(0) is a reduction"),
    ("01.relu", lambda x: x.max(axis=0), "x.max(0) is a reduction"),
    ("01.relu", lambda x: x.max(), "the largest of the whole tensor"),
    ("01.relu", lambda x: x.clamp(max=0), "min(x, 0)"),
    ("01.relu", lambda x: x > 0, "you returned a bool tensor", "is the mask"),
    ("01.relu", lambda x: (x > 0).float(), "1 wherever x is positive"),
    ("01.relu", lambda x: x.abs(), "abs(x) turns the negative values positive"),
    ("01.relu", lambda x: -x.clamp(min=0), "wrong sign"),
    ("01.relu", _relu_writes_into_x, "changed its input `x` in place"),
    ("01.relu", lambda x: x.clamp_(min=0), "changed its input `x` in place"),
    ("01.relu", lambda x: np.maximum(x.numpy(), 0), "you returned a numpy.ndarray"),
    ("01.relu", lambda x: x.clamp(min=0).tolist(), "you returned a list where a tensor"),
    ("01.relu", lambda x: x.clamp(min=0).max().item(), "Python number"),
    ("01.relu", lambda x: tl.tensor(np.maximum(x.numpy(), 0)), "numpy has no graph"),
    ("01.relu", lambda x: x.clamp(min=0).detach(), "requires_grad is False"),
    # ---- 01.sigmoid
    ("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x)), "numpy warned", "overflows for very negative x"),
    ("01.sigmoid", lambda x: 0.5 * (1 + tl.tanh(x / 2)), "below about -20 it is exactly 0", "tiny but not 0"),
    ("01.sigmoid", lambda x: tl.exp(x) / (1 + tl.exp(x)), "inf / inf is nan"),
    ("01.sigmoid", lambda x: 1 / (1 + tl.exp(x)), "sigmoid(-x)"),
    ("01.sigmoid",  # review 0001: exp of |x|; the hint names it, not only the formula the learner did not write
     lambda x: tl.where(x >= 0, 1 / (1 + 1 / tl.exp(x.abs())), 1 / (1 + tl.exp(x.abs()))), "exp(|x|) too"),
    ("01.sigmoid", lambda x: tl.where(x >= 0, tl.exp(-x.abs()) / (1 + tl.exp(-x.abs())),
                                      1 / (1 + tl.exp(-x.abs()))), "sigmoid(-x)"),
    ("01.sigmoid", _sigmoid_without_abs, "your e overflows"),
    ("01.sigmoid", _sigmoid_with_exp_x, "your e overflows"),
    ("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x.clamp(-30, 30))), "you clamped x", "sigmoid(-100)"),
    ("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x.clamp(-88, 88))), "you clamped x"),
    ("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x.clamp(min=-50))), "you clamped x"),
    ("01.sigmoid", _sigmoid_where_over_naive_formulas, "numpy warned", "computes both a and b for every element"),
    ("01.sigmoid", _sigmoid_where_over_naive_formulas_warnings_hidden, "the gradient has inf or nan",
     "both a and b"),
    ("01.sigmoid", lambda x: 0.5 + 0.5 * (tl.exp(x) - 1) / (tl.exp(x) + 1), "numpy warned"),
    ("01.sigmoid", lambda x: sigmoid(x).numpy(), "you returned a numpy.ndarray"),
    ("01.sigmoid", lambda x: sigmoid(x).tolist(), "you returned a list where a tensor"),
    ("01.sigmoid", lambda x: tl.tensor(sigmoid(x).detach().numpy()), "requires_grad is False"),
    ("01.sigmoid", lambda x: sigmoid(x.detach()), "requires_grad is False"),
    # ---- 01.mlp_forward
    ("01.mlp_forward", _mlp_relu_after_last, "your last layer has a ReLU too"),
    ("01.mlp_forward", _mlp_without_relu, "collapse into a single linear map"),
    ("01.mlp_forward", _mlp_relu_first, "a ReLU to the input x itself"),
    ("01.mlp_forward", _mlp_without_bias, "the biases are missing"),
    ("01.mlp_forward", _mlp_returns_in_the_loop, "the `return` inside the loop"),
    ("01.mlp_forward",  # review 0001: the last layer skipped; on 2 layers the same numbers, and the hint names it
     lambda x, layers: _chain_with_library_layers(x, layers[:-1]).relu(), "does the loop stop before the last"),
    ("01.mlp_forward", lambda x, layers: x @ layers[0][0].T + layers[0][1], "only the first layer was applied"),
    ("01.mlp_forward", lambda x, layers: x, "your result is x itself"),  # the given h = x / return h, nothing between
    ("01.mlp_forward", _mlp_pops_the_last_layer, "changed its input `layers` in place", "layers.pop()",
     "and that list is the caller's too"),
    ("01.mlp_forward", _mlp_returns_every_layer, "you returned a list where a tensor"),
    ("01.mlp_forward", lambda x, layers: mlp_forward(x, layers).numpy(), "you returned a numpy.ndarray"),
    ("01.mlp_forward", lambda x, layers: tl.tensor(mlp_forward(x, layers).detach().numpy()),
     "requires_grad is False"),
    ("01.mlp_forward", lambda x, layers: mlp_forward(x, [(W.detach(), b) for W, b in layers]),
     "no gradient reached `layers[0][0]`"),
    # ---- 01.kaiming_normal_std
    ("01.kaiming_normal_std", lambda s: math.sqrt(2 / s[0]), "weight_shape[0], the number of outputs"),
    # the attack round of session 33: named formulas that got numbers only
    ("01.kaiming_normal_std", lambda s: (1 / (3 * s[1])) ** 0.5, "nn.Linear's own default init"),
    ("01.kaiming_normal_std", lambda s: 5 / 3 / s[1] ** 0.5, "your gain is tanh's"),
    ("01.kaiming_normal_std", lambda s: (6 / (s[0] + s[1])) ** 0.5, "Xavier/Glorot's *uniform*"),
    ("01.kaiming_normal_std", lambda s: (1 / (s[1] // 2)) ** 0.5, "fan_in // 2 is integer (floor) division"),
    ("01.kaiming_normal_std", lambda s: (1 / math.ceil(s[1] / 2)) ** 0.5, "or you rounded fan_in / 2 up"),
    # a float32 answer of a named mistake gets that mistake's hint (not only float32's)
    ("01.kaiming_normal_std", lambda s: np.float32(math.sqrt(1 / s[1])), "a numpy.float32", "ReLU zeroes half"),
    *[("01.kaiming_normal_std", lambda s, pick=pick: math.sqrt(2 / pick(s)), "or a max() or min() of the shape")
      for pick in (max, min)],
    ("01.kaiming_normal_std", lambda s: 1 / math.sqrt(s[1]), "compensates with a gain"),
    ("01.kaiming_normal_std", lambda s: 2 / math.sqrt(s[1]), "the factor 2 belongs to the variance"),
    ("01.kaiming_normal_std", lambda s: 2 / s[1], "the variance of the weights"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(2 / (s[0] + s[1])), "Xavier/Glorot's std"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(6 / s[1]), "*uniform*"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(2 / (s[0] * s[1])), "the number of weights in the matrix"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(2) / s[1], "of the 2 and of fan_in"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(2 / 128), "the example's answer for every shape"),
    ("01.kaiming_normal_std", lambda s: tl.tensor(2.0 / s[1]).sqrt(), "where a plain Python number was expected"),
    ("01.kaiming_normal_std", lambda s: np.sqrt(2.0 / np.array([s[1]])), "where a plain Python number"),
]


def _mlp_relu_after_all_but_the_first(x, layers):
    for i, (W, b) in enumerate(layers):
        x = x @ W.T + b
        if i != 0:
            x = relu(x)
    return x


def _mlp_last_layer_forgets_its_bias(x, layers):
    *hidden, (W_last, b_last) = layers
    for W, b in hidden:
        x = relu(x @ W.T + b)
    return x @ W_last.T


def _mlp_last_layer_by_identity(x, layers):
    for W, b in layers:
        x = x @ W.T + b
        if W is not layers[-1][0]:  # right on distinct layers; on a pair used again it is the position that counts
            x = x.clamp(min=0)
    return x


def _mlp_last_pair_by_identity(x, layers):
    for layer in layers:
        x = dense_forward(x, *layer)
        if layer is not layers[-1]:
            x = relu(x)
    return x


def _measured_kaiming_std(weight_shape):
    w = tl.empty(*weight_shape)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    return float(w.std().item())


def _sigmoid_one_minus(x):
    e = tl.exp(-x.abs())
    return tl.where(x >= 0, 1 / (1 + e), 1 - 1 / (1 + e))  # sigmoid(-|x|) = 1 - sigmoid(|x|), on paper


# more wrong answers, as learners write them (issue 19): each fails, with a hint where the mistake is a known one
WRONG += [
    ("01.dense_forward", lambda x, W, b: (x @ W.T + b).clamp(min=0), "your layer applies a ReLU"),
    ("01.dense_forward", lambda x, W, b: x @ W.T + b[0], "the example shown in the notebook",
     "one and the same number to every output"),  # one neuron's bias for all (b_ex[0] is not 0: review 0001)
    ("01.dense_forward", lambda x, W, b: x @ W.T + b.sum(), "the example shown in the notebook",
     "expected -0.5, got 1.25", "one and the same number to every output"),
    ("01.dense_forward", lambda x, W, b: x @ W.T + b.mean(), "the example shown in the notebook",
     "one and the same number to every output"),
    ("01.relu", lambda x: tl.where(x > 0, x, 0.01 * x), "leaky ReLU"),
    ("01.relu", lambda x: tl.maximum(x, 0.1 * x), "leaky ReLU"),
    ("01.relu", lambda x: x.clamp(0, 1), "no upper bound"),
    ("01.relu", lambda x: x.clamp(min=0, max=6), "no upper bound"),
    ("01.relu", lambda x: x.clamp(min=1e-8), "the example shown in the notebook", "expected 0, got 1e-08"),
    # review of issue 32: a floor is no leaky ReLU (its outputs are a constant, not a multiple of x), and a
    # threshold below float32's smallest normal number still zeroes its subnormals (the hint names the edges)
    ("01.relu", lambda x: x.clamp(min=1e-12), "got 1e-12", "the same small positive number", "min=1e-12"),
    ("01.relu", lambda x: tl.where(x > 1e-40, x, 0.0), "hidden case 8 of 9", "float32's smallest number, 1.4e-45",
     "float64's, 5e-324"),
    ("01.relu", lambda x: x * x.sign(), "abs(x) turns the negative values positive"),
    ("01.relu", lambda x: (1 + x.exp()).log(), "the example shown in the notebook"),  # softplus, not relu
    ("01.relu", lambda x: x.reshape(-1).clamp(min=0), "expected shape (2, 4) float32, got shape (8,)"),
    ("01.sigmoid", _sigmoid_one_minus, "1 - sigmoid(|x|)", "1 minus a number close to 1"),
    ("01.sigmoid", lambda x: (1 / (1 + tl.exp(-x.double()))).float(), "hidden case 5 of 7", "numpy warned",
     "in float64, exp overflows"),
    ("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x.double())), "a float64 tensor; a float32 tensor was expected"),
    ("01.sigmoid", lambda x: tl.exp(-tl.log1p(tl.exp(-x))), "numpy warned", "overflows for very negative x"),
    ("01.sigmoid", lambda x: tl.where(x >= 0, 1, tl.exp(-x.abs())) / (1 + tl.exp(-x.abs())).detach(),
     "the values are right, the gradient is not"),
    ("01.mlp_forward", _mlp_relu_after_all_but_the_first, "after every layer but the first"),
    ("01.mlp_forward", _mlp_last_layer_forgets_its_bias, "the last layer has lost its bias"),
    # review 3 (0001): the last layer told by its weights, not its position; a hidden case repeats one (W, b) pair
    ("01.mlp_forward", _mlp_last_layer_by_identity, "hidden case 6 of 7", "the same (W, b) pair",
     "recognise the last layer by its weights"),
    ("01.mlp_forward", _mlp_last_pair_by_identity, "hidden case 6 of 7", "recognise the last layer by its weights"),
    ("01.kaiming_normal_std", _measured_kaiming_std, "close to the right one but not equal"),
    ("01.kaiming_normal_std", lambda s: round(math.sqrt(2 / s[1]), 4), "close to the right one but not equal"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(2 / max(s)), "the number of outputs (fan_out)"),
    ("01.kaiming_normal_std", lambda s: (2 / (s[1] + 1)) ** 0.5, "one input too many"),  # review 0001
    ("01.kaiming_normal_std", lambda s: (2 / (1 + 0.01 ** 2) / s[1]) ** 0.5, "leaky ReLU with slope 0.01"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(6 / (s[0] + s[1])), "the example shown in the notebook"),
]

# "write it yourself": the library's own layer, relu or sigmoid, as the answer or called from it
WRONG += [
    ("01.dense_forward", lambda x, W, b: F.linear(x, W, b), "write it yourself", "linear"),
    ("01.dense_forward", F.linear, "write it yourself", "linear"),
    ("01.relu", F.relu, "write it yourself", "relu"),
    ("01.relu", lambda x: x.relu(), "write it yourself", "relu"),
    ("01.relu", lambda x: tl.relu(x), "write it yourself", "relu"),
    ("01.relu", lambda x: nn.ReLU()(x), "write it yourself", "relu"),
    ("01.sigmoid", tl.sigmoid, "write it yourself", "sigmoid"),
    ("01.sigmoid", lambda x: x.sigmoid(), "write it yourself", "sigmoid"),
    ("01.sigmoid", lambda x: F.sigmoid(x), "write it yourself", "sigmoid"),
    ("01.sigmoid", lambda x: nn.Sigmoid()(x), "write it yourself", "sigmoid"),
    # review 0001: the library's softmax on the pair (0, x) is its sigmoid, and leaky_relu with slope 0 its relu
    ("01.sigmoid", lambda x: F.softmax(tl.stack([tl.zeros_like(x), x], dim=-1), dim=-1)[..., 1],
     "write it yourself", "softmax"),
    ("01.sigmoid", lambda x: F.log_softmax(tl.stack([tl.zeros_like(x), x], dim=-1), dim=-1)[..., 1].exp(),
     "write it yourself", "log_softmax"),
    ("01.relu", lambda x: F.leaky_relu(x, 0.0), "write it yourself", "leaky_relu"),
    ("01.relu", lambda x: nn.LeakyReLU(0.0)(x), "write it yourself", "LeakyReLU"),
]


def _dense_through_torch(x, W, b):
    import torch  # (inside: these tests import PyTorch only where an answer uses it)
    return tl.tensor(torch.nn.functional.linear(*(torch.from_numpy(t.detach().numpy()) for t in (x, W, b))).numpy())


def _relu_through_torch(x):
    import torch
    return tl.tensor(torch.relu(torch.from_numpy(x.detach().numpy())).numpy())


def _mlp_with_leaky_relu_of_slope_0(x, layers):
    for i, (W, b) in enumerate(layers):
        x = x @ W.T + b
        if i < len(layers) - 1:
            x = F.leaky_relu(x, 0.0)  # relu's numbers, but another activation than the text allows
    return x


# issue 32: the allowlist. Another library function that does the work in one call is refused by name, with the
# blocks the text allows (PyTorch's by their dotted name, which the answer's code reads)
WRONG += [
    ("01.sigmoid", lambda x: tl.exp(-tl.logsumexp(tl.stack([tl.zeros_like(x), -x]), dim=0)),  # exp(-softplus(-x))
     "01.sigmoid: you called tinygrad_lite.logsumexp, which is not one of this exercise's building blocks",
     ALLOWS + ", exp, where, clamp, log, max (or maximum), min (or minimum);"),
    ("01.dense_forward", _dense_through_torch, "your code uses torch.nn.functional.linear",
     ALLOWS + ", matrix products (@, matmul), sum;"),
    ("01.relu", _relu_through_torch, "your code uses torch.relu", ALLOWS + ", clamp, where, max (or maximum)"),
    ("01.mlp_forward", _mlp_with_leaky_relu_of_slope_0, "you called tinygrad_lite.nn.functional.leaky_relu",
     ALLOWS + ", matrix products (@, matmul), sum, clamp, where, max (or maximum), min (or minimum), linear, relu;"),
]


def _sigmoid_abs_at_0(x):
    e = tl.exp(-x.abs())  # the right values, but autograd's abs has slope 0 at 0: sigmoid'(0) comes out 0
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_min_at_0(x):
    e = tl.exp(x.min(-x))  # -|x| as the elementwise min of x and -x: the tie at 0 splits the slope, (1 - 1) / 2
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_sqrt_at_0(x):
    e = tl.exp(-(x * x).sqrt())  # |x| as sqrt(x * x): its slope at 0 is 0 * inf = nan
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _dense_adds_0_to_its_input_in_place(x, W, b):
    x += 0  # the same numbers, but a leaf that requires grad cannot be changed in place
    return x @ W.T + b


# review 0001: right values, wrong gradient at exactly x = 0 (sigmoid'(0) = 1/4), compared since the check's jitter
# is off for sigmoid
WRONG += [
    ("01.dense_forward", _dense_adds_0_to_its_input_in_place, "with inputs that require grad",
     "changes one of its inputs in place"),
    ("01.sigmoid", _sigmoid_abs_at_0, "the example shown in the notebook", "the values are right, the gradient is not",
     "1/4 at x = 0", "abs at exactly 0"),
    ("01.sigmoid", _sigmoid_min_at_0, "the values are right, the gradient is not", "min (or max) of x and -x"),
    ("01.sigmoid", lambda x: (lambda e: tl.where(x >= 0, 1 / (1 + e), e / (1 + e)))(
        tl.exp(x.clamp(max=0) - x.clamp(min=0))), "the values are right, the gradient is not", "two clamps at 0"),
    ("01.kaiming_normal_std", lambda s: math.sqrt(2) * math.sqrt(2 / s[1]), "counts the 2 twice"),
    ("01.relu", lambda x: tl.where(x * 0.5 > 0, x, 0.0), "some small positive values became 0", "x * 0.5 > 0"),
    ("01.sigmoid", _sigmoid_sqrt_at_0, "the values are right, the gradient is not", "got nan",
     "slope of sqrt(x * x) at exactly 0 as nan"),
    ("01.sigmoid", lambda x: tl.exp(x.clamp(max=0)) / (1 + tl.exp(-x.abs())),  # slope 1/2 at 0
     "the example shown in the notebook", "the values are right, the gradient is not", "1/4 at x = 0"),
]


W_EX = tl.tensor([[0.5, -1.0, 0.0], [0.0, 1.0, 1.0], [2.0, 0.0, -0.5], [-1.0, 1.0, 0.5]])  # the notebook's W_ex


def _sigmoid_conditions_disagree_at_0(x):
    e = tl.exp(tl.where(x > 0, -x, x))  # at 0 this e is taken from the side x < 0 ...
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))  # ... and goes into the formula of the side x >= 0


def _sigmoid_conditions_disagree_at_0_other_way(x):
    e = tl.exp(tl.where(x <= 0, x, -x))
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e))


# review 3 (0001): hints that named another cause. The notebook's global W_ex used instead of the argument W (the
# gradient of W, None, is named before the gradient of x that differs); two where conditions that disagree at 0
WRONG += [
    ("01.dense_forward", lambda x, W, b: x @ W_EX.T + b, "no gradient reached `W`", "was it used"),
    ("01.sigmoid", _sigmoid_conditions_disagree_at_0, "the values are right, the gradient is not", "wrong sign",
     "pick opposite sides"),
    ("01.sigmoid", _sigmoid_conditions_disagree_at_0_other_way, "wrong sign", "pick opposite sides"),
]



def _mlp_with(activation, last=None):
    def mlp(x, layers):
        for i, (W, b) in enumerate(layers):
            x = x @ W.T + b
            if i < len(layers) - 1:
                x = activation(x)
        return last(x) if last else x
    return mlp


_RELU = lambda z: z.clamp(min=0)  # noqa: E731

# review 0001, round 4: mistakes the lesson names that got no hint, and a bypass of "build it from exp and where"
WRONG += [
    ("01.dense_forward", lambda x, W, b: (W @ x.reshape(x.shape[1], x.shape[0]) + b.reshape(-1, 1)).T,
     "you reshaped x to (in, N)", "A mistake to recognise in ports"),
    ("01.dense_forward", lambda x, W, b: (W @ x.reshape(x.shape[1], x.shape[0])).T + b, "you reshaped x to (in, N)"),
    # (review) the transpose decided by the shapes: right wherever W is rectangular, wrong on the square case
    ("01.dense_forward", lambda x, W, b: x @ W + b if W.shape[0] == x.shape[1] else x @ W.T + b, "hidden case 6 of 7",
     "W is square", "W's rows are the neurons' weights"),
    ("01.mlp_forward", _mlp_with(_RELU, lambda z: z.softmax(dim=1)), "a softmax after the last layer"),
    ("01.mlp_forward", _mlp_with(_RELU, lambda z: z.exp() / z.exp().sum(dim=1, keepdim=True)),
     "a softmax after the last layer", "nan or inf"),
    ("01.mlp_forward", _mlp_with(_RELU, lambda z: 1 / (1 + (-z).exp())), "a sigmoid after the last layer"),
    ("01.mlp_forward", _mlp_with(lambda z: 1 / (1 + (-z).exp())), "another activation than ReLU"),
    ("01.mlp_forward", _mlp_with(lambda z: z.tanh()), "another activation than ReLU"),
    ("01.mlp_forward", _mlp_with(lambda z: tl.where(z > 0, z, 0.01 * z)), "another activation than ReLU"),
    ("01.mlp_forward", _mlp_with(lambda z: tl.where(z > 0, z, 0.2 * z)), "another activation than ReLU"),
    ("01.sigmoid", lambda x: tl.exp(-nn.functional.softplus(-x)), "write it yourself", "softplus"),
    ("01.sigmoid", lambda x: tl.exp(-nn.functional.binary_cross_entropy_with_logits(x, tl.ones_like(x),
                                                                                      reduction="none")),
     "write it yourself", "binary_cross_entropy_with_logits"),
]

def _relu_into_zeros(x):
    out = tl.zeros(x.shape)  # float32, the default dtype, whatever x's dtype
    out[x > 0] = x[x > 0]
    return out


# issue 32: the float64 case of each tensor exercise (PyTorch keeps float64), and the edges of the dtype
F64_CASE = {"01.dense_forward": "hidden case 7 of 7", "01.relu": "hidden case 9 of 9", "01.sigmoid": "hidden case 7 "
            "of 7", "01.mlp_forward": "hidden case 7 of 7"}
FLOAT32_WRONG = [
    ("01.dense_forward", lambda x, W, b: x.float() @ W.float().T + b.float(), F64_CASE["01.dense_forward"],
     "a float64 tensor was expected", "converts to float32"),
    # a float32 b promotes back to float64 (PyTorch's rule too): the dtype is right, the digits are float32's
    ("01.dense_forward", lambda x, W, b: x @ W.T + b.to(tl.float32), F64_CASE["01.dense_forward"],
     "float64; 30 of 30 values differ", "(difference 9.66e-08)"),
    ("01.relu", _relu_into_zeros, F64_CASE["01.relu"], "a float64 tensor was expected", "converts to float32"),
    ("01.sigmoid", lambda x: sigmoid(x.float()), F64_CASE["01.sigmoid"], "a float64 tensor was expected",
     "converts to float32"),
    ("01.mlp_forward", lambda x, layers: mlp_forward(x.float(), [(W.float(), b.float()) for W, b in layers]),
     F64_CASE["01.mlp_forward"], "a float64 tensor was expected", "converts to float32"),
]
WRONG += FLOAT32_WRONG + [
    # x + |x| = 2x overflows float32 above 1.7e38; halving first rounds 1.4e-45 to 0 (it was an ALSO_RIGHT row)
    ("01.relu", lambda x: (x + x.abs()) / 2, "hidden case 8 of 9", "near float32's largest", "expected 3e+38, got inf",
     "x + |x| is 2x, which overflows"),
    ("01.relu", lambda x: 0.5 * (x + x.abs()), "hidden case 8 of 9", "x + |x| is 2x, which overflows"),
    ("01.relu", lambda x: x / 2 + x.abs() / 2, "hidden case 8 of 9", "expected 1.4013e-45, got 0",
     "rounds the smallest positive numbers"),
    # the std computed in float32 (a tensor's default dtype) keeps 7 digits (they were ALSO_RIGHT rows)
    ("01.kaiming_normal_std", lambda s: tl.tensor(2.0 / s[1]).sqrt().item(), "hidden case 2 of 7",
     "float32's 7 significant digits"),  # (the example's 0.125 is exact in float32)
    ("01.kaiming_normal_std", lambda s: float(np.float32((2 / s[-1]) ** 0.5)), "float32's 7 significant digits"),
    ("01.kaiming_normal_std", lambda s: float(tl.sqrt(tl.tensor(2.0)) / s[1] ** 0.5),
     "float32's 7 significant digits"),
]


@pytest.mark.parametrize("exercise_id, fn", [row[:2] for row in FLOAT32_WRONG])
def test_a_float32_conversion_fails_only_the_float64_case(exercise_id, fn):
    """Issue 32: an answer that converts to float32 passes every float32 case and fails the float64 one, the last."""
    result = verdict(exercise_id, fn)
    assert result.passed_cases == result.total_cases - 1, result.message


WRONG += [  # review 7 (0001): a small threshold in relu's comparison passed (no case had tiny positive values)
    ("01.relu", lambda x: tl.where(x > 1e-4, x, tl.zeros_like(x)), "hidden case 7 of 9", "down to 1e-37",
     "some small positive values became 0", "compare with 0 itself"),
    ("01.relu", lambda x: tl.where(x >= 1e-5, x, tl.zeros_like(x)), "hidden case 7 of 9",
     "some small positive values became 0"),
    ("01.relu", lambda x: tl.where(x > 1e-30, x, tl.zeros_like(x)), "hidden case 7 of 9", "expected 1e-37, got 0",
     "some small positive values became 0"),
    ("01.relu", lambda x: x * (x > 1e-6).float(), "hidden case 7 of 9", "some small positive values became 0"),
    ("01.relu", lambda x: tl.where(x > 1e-3, x, tl.zeros_like(x)), "the example shown in the notebook",
     "the values are right, the gradient is not", "the inputs are moved a little",
     "a small threshold in the comparison", "compare with 0 itself"),
]


def test_a_nan_gradient_away_from_0_gets_the_overflow_hint_alone():
    """The naive where with its warnings silenced: the nan gradient is at x = -100, not at 0, so the hint names
    the overflow in the branch not picked, and nothing about abs or sqrt at 0 (review 3, 0001)."""
    result = verdict("01.sigmoid", _sigmoid_where_over_naive_formulas_warnings_hidden)
    assert result.status == FAILED and "inf or nan" in result.message, result.message
    assert "both a and b" in result.message and "abs" not in result.message, result.message


def _relu_with_if(x):
    if x > 0:
        return x
    return 0.0


ERRORS = [  # code that raises: an error verdict, with a hint where the error is a known mistake
    ("01.dense_forward", lambda x, W, b: x @ W + b, "cannot be multiplied"),
    ("01.dense_forward", lambda x, W, b: W @ x.T + b, "column convention"),
    ("01.relu", _relu_with_if, "Boolean value of a tensor", "needs one True or False"),
    ("01.relu", lambda x: max(x, 0), "needs one True or False"),
    ("01.relu", lambda x: np.maximum(x, 0), "numpy's functions"),
    ("01.mlp_forward", _mlp_calls_an_unsolved("dense_forward", "01.dense_forward"),
     "calls dense_forward, which is not written yet", "01.dense_forward"),
    ("01.mlp_forward", _mlp_calls_an_unsolved("relu", "01.relu"), "calls relu, which is not written yet"),
    ("01.mlp_forward", _mlp_never_reassigns_h, "cannot be multiplied", "is h reassigned at every layer"),
]


# -------------------------------------------------------------------- no points for a trivial answer (issue 19)
@pytest.mark.parametrize("seed", [None, 1, 2])
def test_relu_times_zero_passes_no_case(seed):
    """Grading gives each passed case its share of the points: x * 0 (zeros, connected to the graph) must pass
    none of relu's cases, with the check's cases or those another seed draws (grading draws its own)."""
    exercise = get_exercise("01.relu")
    cases = exercise.all_cases() if seed is None else list(exercise.cases(np.random.default_rng(seed)))
    for case in cases:
        one = dataclasses.replace(exercise, cases=lambda rng, case=case: [case])
        with np.errstate(all="ignore"):
            assert not run_check(one, lambda x: x * 0), case.label


# -------------------------------------------------------------------- the misfires of issue 7
def test_a_sigmoid_without_abs_gets_its_own_hint_not_softmax_s():
    message = verdict("01.sigmoid", _sigmoid_without_abs).message
    assert "your e overflows" in message
    assert "maximum" not in message and "softmax" not in message


def test_an_mlp_on_an_unsolved_dense_forward_is_not_told_not_attempted():
    result = verdict("01.mlp_forward", _mlp_calls_an_unsolved("dense_forward", "01.dense_forward"))
    assert result.status == ERROR and "not attempted" not in result.message


@pytest.mark.parametrize("bound", [20.0, 30.0, 50.0, 80.0, 88.0])
def test_a_sigmoid_clamped_anywhere_fails_with_the_clamp_hint(bound):
    result = verdict("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x.clamp(-bound, bound))))
    assert result.status == FAILED and "you clamped x" in result.message, result.message


def test_the_clamp_hint_does_not_fire_for_other_mistakes():
    for fn in [lambda x: 0.5 * (1 + tl.tanh(x / 2)), lambda x: F.sigmoid(-x), _sigmoid_without_abs,
               lambda x: sigmoid(x) * 1.01]:
        assert "you clamped x" not in verdict("01.sigmoid", fn).message


def test_the_where_over_naive_formulas_gives_right_values_and_still_fails():
    x = tl.tensor([-100.0, -1.0, 0.0, 1.0, 100.0])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_sigmoid_where_over_naive_formulas(x).numpy(), sigmoid(x).numpy())
    assert verdict("01.sigmoid", _sigmoid_where_over_naive_formulas).status == FAILED


def test_the_where_hint_comes_in_tiers_and_only_where_no_mistake_matches():
    first = verdict("01.sigmoid", _sigmoid_where_over_naive_formulas).message
    again = verdict("01.sigmoid", _sigmoid_where_over_naive_formulas, times=2).message
    tiers = get_exercise("01.sigmoid").stability_hint
    assert tiers[0] in first and tiers[1] not in first and tiers[1] in again
    assert tiers[0] not in verdict("01.sigmoid", lambda x: 1 / (1 + tl.exp(-x))).message  # a mistake's own hint


def test_a_sigmoid_that_loses_tiny_values_says_where():
    message = verdict("01.sigmoid", lambda x: 0.5 * (1 + tl.tanh(x / 2))).message
    assert "sigmoid(-100) = 3.784e-44 is tiny but not 0" in message
    assert "the example shown in the notebook (sigmoid_ex)" in message


def test_a_failure_on_the_visible_case_names_the_example_the_notebook_shows():
    assert "the example shown in the notebook (x_ex, W_ex and b_ex)" in verdict(
        "01.dense_forward", lambda x, W, b: x @ W.T).message
    assert "(relu_ex)" in verdict("01.relu", lambda x: x.abs()).message
    assert "(mlp_x_ex and mlp_layers_ex)" in verdict("01.mlp_forward", _mlp_without_bias).message
    assert "weight_shape (32, 128)" in verdict("01.kaiming_normal_std", lambda s: 2 / s[1]).message


def test_a_wrong_type_with_the_right_number_gets_no_mistake_hint():
    message = verdict("01.kaiming_normal_std", lambda s: tl.tensor(2.0 / s[1], dtype=tl.float64).sqrt()).message
    assert "plain Python number" in message and "Hint" not in message
    # in float32 (a tensor's default dtype) the example's 0.125 is still exact: refused for its type alone, no hint
    message = verdict("01.kaiming_normal_std", lambda s: tl.tensor(2.0 / s[1]).sqrt()).message
    assert "plain Python number" in message and "Hint" not in message
    # where float32 loses digits (a hidden fan_in), the float32 hint says so, and only it
    message = verdict("01.kaiming_normal_std",
                      lambda s: math.sqrt(2 / s[1]) if s[1] == 128 else tl.tensor(2.0 / s[1]).sqrt()).message
    assert "plain Python number" in message and message.count("Hint") == 1 and "float32" in message


@pytest.mark.parametrize("exercise_id", IDS)
def test_a_right_answer_of_the_wrong_kind_gets_no_mistake_hint(exercise_id):
    """No mistake's hint; a number wrapped in a tensor of the default dtype (float32) gets the float32 hint, which
    is right: its digits are float32's (compare.FLOAT32_ROUNDING)."""
    for what, fn, _ in generic_wrong_answers(exercise_id, SOLUTIONS[exercise_id]):
        message = verdict(exercise_id, fn).message
        assert "Hint" not in message or (message.count("Hint") == 1 and "float32" in message), what


def test_the_tiers_of_a_hint_come_one_at_a_time():
    first = verdict("01.relu", lambda x: x.abs()).message
    again = verdict("01.relu", lambda x: x.abs(), times=2).message
    assert "bounds every element from below" not in first and "bounds every element from below" in again


# -------------------------------------------------------------------- the cases
def test_hidden_cases_are_the_same_every_time():
    for exercise_id in IDS:
        first, again = get_exercise(exercise_id).all_cases(), get_exercise(exercise_id).all_cases()
        assert [c.label for c in first] == [c.label for c in again]
        for a, b in zip(first, again):
            np.testing.assert_array_equal(_flat(a.args), _flat(b.args))


def test_every_kaiming_mistake_gives_another_number_on_every_hidden_case():
    exercise = get_exercise("01.kaiming_normal_std")
    for case in exercise.all_cases()[1:]:
        answers = [exercise.reference(*case.args), 0.125] + [m.wrong(*case.args) for m in exercise.mistakes
                                                             if m.wrong]
        assert len({round(a, 9) for a in answers}) == len(answers), case.label


def _flat(value):
    if isinstance(value, (tuple, list)):
        return np.concatenate([_flat(v) for v in value]) if value else np.zeros(0)
    return np.ravel(value.numpy()) if isinstance(value, tl.Tensor) else np.ravel(value)


# -------------------------------------------------------------------- the notebook
@pytest.mark.parametrize("exercise_id, names", [
    ("01.dense_forward", ["x_ex", "W_ex", "b_ex"]),
    ("01.relu", ["relu_ex"]),
    ("01.sigmoid", ["sigmoid_ex"]),
    ("01.mlp_forward", ["mlp_x_ex", "mlp_layers_ex"]),
])
def test_the_visible_case_is_the_example_shown_just_before_the_exercise(exercise_id, names):
    namespace = run_example_cells(SOLUTION, [f"{name} = " for name in names], dict(NAMES))
    visible = get_exercise(exercise_id).all_cases()[0]
    assert visible.visible
    np.testing.assert_array_equal(_flat([namespace[n] for n in names]), _flat(list(visible.args)))
    cells = read_notebook(SOLUTION).cells
    at = next(i for i, c in enumerate(cells) if meta(c).get("exercise") == exercise_id)
    assert cells[at - 1].source.startswith(f"{names[0]} = "), "the example is the cell just above the exercise"
    assert all(f"`{n}`" in cells[at - 2].source for n in names), "the exercise text names the example"


def test_the_kaiming_example_is_named_in_the_exercise_text():
    visible = get_exercise("01.kaiming_normal_std").all_cases()[0]
    assert visible.args == ((32, 128),)
    text = _exercise_text("01.kaiming_normal_std")
    assert "`(32, 128)`" in text and "nn.Linear(128, 32)" in text


def test_the_objectives_name_every_exercise():
    objectives = read_notebook(SOLUTION).cells[0].source
    assert "**Objectives.**" in objectives
    assert [i for i in IDS if f"`{i}`" not in objectives] == []
    assert "tanh" in objectives and "write ReLU, sigmoid and tanh" not in objectives  # no tanh exercise


# the finished lines of the solutions, and the forms they take in text
FINISHED = ["x @ W.T + b", "x@W.T+b", "clamp(min=0)", "tl.where(x > 0, x, 0", "x * (x > 0)",
            "1 / (1 + e), e / (1 + e)", "exp(-x.abs())", "sqrt(2 / fan_in)", "sqrt(2 / weight_shape[1])",
            "2 / weight_shape[1]", "(2.0 / fan_in) ** 0.5"]


def _exercise_text(exercise_id):
    cells = read_notebook(RELEASED).cells
    at = next(i for i, c in enumerate(cells) if meta(c).get("exercise") == exercise_id)
    heading = max(i for i in range(at) if cells[i].source.startswith("### Exercise"))
    return "\n".join(c.source for c in cells[heading:at + 1])


def _solution_lines(exercise_id):
    """The solution's lines that say something (not `h = x` or `return h`), without `return` and comments."""
    source = exercise_cells(SOLUTION)[exercise_id].source
    block = source.split(BEGIN, 1)[1].split(END, 1)[0]
    lines = [line.split("#")[0].strip().removeprefix("return ") for line in block.splitlines()]
    return [line for line in lines if len(line) > 12]


@pytest.mark.parametrize("exercise_id", IDS)
def test_no_exercise_text_and_no_first_hint_holds_a_finished_line(exercise_id):
    text = _exercise_text(exercise_id)
    exercise = get_exercise(exercise_id)
    first_hints = [m.hint for m in exercise.mistakes] + [h.hint for h in exercise.error_hints]
    for snippet in FINISHED + _solution_lines(exercise_id):
        assert snippet not in text, f"the exercise text holds {snippet!r}"
        assert not [h for h in first_hints if snippet in h], f"a first-tier hint holds {snippet!r}"


@pytest.mark.parametrize("exercise_id", IDS)
def test_no_hint_tier_holds_the_whole_solution(exercise_id):
    exercise = get_exercise(exercise_id)
    tiers = [t for m in list(exercise.mistakes) + list(exercise.error_hints) for t in m.tiers()]
    for line in _solution_lines(exercise_id):
        assert not [t for t in tiers if line in t], line


def test_no_cell_before_an_exercise_shows_its_finished_line():
    cells = read_notebook(RELEASED).cells
    for exercise_id in IDS:
        at = next(i for i, c in enumerate(cells) if meta(c).get("exercise") == exercise_id)
        before = "\n".join(c.source for c in cells[:at])
        for line in _solution_lines(exercise_id):
            assert line not in before, (exercise_id, line)


def test_later_cells_never_call_the_librarys_stand_in_yours():
    """A cell that prints a result of a use()d function names it with whose(): "your relu" only when it is."""
    sources = [c.source for c in read_notebook(RELEASED).cells if c.cell_type == "code"]
    code = [line for s in sources for line in s.splitlines() if not line.lstrip().startswith("#")]
    assert [line for line in code if re.search(r"""["']your \w""", line)] == []
    assert any("whose(" in s for s in sources)


WRONG += [  # review 5 (0001): "tiny but not 0" only for a tiny expected value; the hint names a division too
    ("01.sigmoid", lambda x: 0.5 * tl.tanh(x / 2), "sigmoid(0) = 0.5, and you returned exactly 0"),
    ("01.sigmoid", lambda x: tl.where(x >= 0, 1 / (1 + tl.exp(-x.abs())), 1 / (1 + 1 / tl.exp(-x.abs()))),
     "overflow encountered in reciprocal", "an exp or a division overflowed"),
]


WRONG += [  # attack of session 32
    ("01.kaiming_normal_std", lambda s: (2 // s[1]) ** 0.5, "your std is 0: 2 // fan_in is integer (floor) division"),
    ("01.kaiming_normal_std", lambda s: int(math.sqrt(2 / s[1])), "got shape () int64"),  # (no floor-division hint)
    ("01.relu", lambda x: x.max(0), "x.max(dim) REDUCES over that dim", "x.clamp(min=number)"),
    ("01.relu", lambda x: x.max(1), "x.max(dim) REDUCES over that dim"),
]


def _mlp_forward_max_values(x, layers):
    """(attack of session 37) h.max(0).values between the layers, where the ReLU goes."""
    h = x
    for i, (W, b) in enumerate(layers):
        h = h @ W.T + b
        if i < len(layers) - 1:
            h = h.max(0).values
    return h


WRONG += [  # attack of session 37
    ("01.relu", lambda x: x.max(0).values, "x.max(0) is a reduction"),
    ("01.mlp_forward", _mlp_forward_max_values, "you took h.max(0), a reduction"),
]
