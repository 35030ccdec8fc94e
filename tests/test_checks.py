"""The check framework itself (tinygrad_lite/course/checks.py, answers.py, display.py, blocks.py), on small
exercises of its own: the answer kinds, inputs left unchanged, gradients, numerical stability, hint tiers and
opt-in generic hints, error hints, a call into an unsolved exercise, log-space comparison, the display and the
fallback label; "write it yourself" (``Exercise.forbid``): an answer that is, subclasses, wraps or refers to the
library's own implementation fails, the building blocks stay allowed, the driver's and the reference's own calls do
not count, and the library's Adam is no answer to 04.MyAdam; and as an allowlist (``Exercise.allow``): the allowed
blocks pass in any style, any other catalogued function (a method, a function, a layer, PyTorch's or numpy's by its
dotted name) fails naming itself and the blocks, a call an allowed block makes on its own behalf does not count, and
a wrong answer keeps its hint."""
import math
from collections import Counter

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite.course import display
from tinygrad_lite.course.answers import ArrayAnswer, NumberAnswer, TensorAnswer, TupleAnswer
from tinygrad_lite.course.checks import (
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    Case,
    CheckResult,
    ErrorHint,
    Exercise,
    Fallback,
    Mistake,
    compare_log,
    diagnose,
    get_exercise,
    run_check,
    use,
    whose,
)


def _f32(a):
    return tl.tensor(np.asarray(a, dtype=np.float32))


def _cases(rng):
    return [Case((_f32([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]]),), visible=True),
            Case((_f32(rng.standard_normal((4, 5))),), "a 4x5 batch"),
            Case((_f32(rng.standard_normal((3, 3))),), "a square one")]


def relu(x):
    return x.clamp(min=0)


RELU = Exercise("99.relu", reference=lambda x: x.clamp(min=0), cases=_cases, answer=TensorAnswer(), grad=True,
                generic_hints=("sign",),
                mistakes=[Mistake(lambda x: x.clamp(max=0), "relu keeps the positive part",
                                  more="compare each element with 0 and keep the larger")])


def verdict(fn, exercise=RELU, times=1):
    seen = Counter()
    with np.errstate(all="ignore"):
        for _ in range(times):
            result = run_check(exercise, fn, seen)
    return result


def assert_verdict(fn, status, *texts, exercise=RELU):
    result = verdict(fn, exercise)
    assert result.status == status, result.message
    for text in texts:
        assert text in result.message, result.message
    return result


# -------------------------------------------------------------------- answer kinds and graph
@pytest.mark.parametrize("wrong, texts", [
    (lambda x: relu(x).numpy(), ["you returned a numpy.ndarray", "loss.backward() cannot reach the weights"]),
    (lambda x: relu(x).tolist(), ["you returned a list"]),
    (lambda x: relu(x).sum().item(), ["Python number", "e.g. from .item()"]),
    (lambda x: tl.tensor(np.maximum(x.numpy(), 0)), ["with inputs that require grad", "numpy has no graph"]),
    (lambda x: relu(x).detach(), ["requires_grad is False", "grad_fn is None although the inputs require grad"]),
    (lambda x: relu(x).double(), ["float64 tensor", "float32 tensor was expected"]),
    (lambda x: x > 0, ["bool tensor"]),
    (lambda x: None, ["you returned None", "forget the `return`"]),
])
def test_a_wrong_kind_of_answer_is_refused_with_the_reason(wrong, texts):
    assert_verdict(wrong, FAILED, *texts)


def test_the_right_answer_passes_every_case_with_its_gradients():
    result = assert_verdict(relu, PASSED)
    assert result.passed_cases == result.total_cases == 3
    assert verdict(lambda x: tl.where(x > 0, x, 0.0))


def test_an_input_changed_in_place_fails_naming_it():
    def relu_in_place(x):
        x[x < 0] = 0.0
        return x
    assert_verdict(relu_in_place, FAILED, "changed its input `x` in place")

    def pops(x, layers):
        layers.pop()
        return x
    ex = Exercise("99.layers", reference=lambda x, layers: x, answer=TensorAnswer(),
                  cases=lambda rng: [Case((_f32([1.0]), [_f32([2.0]), _f32([3.0])]))])
    assert_verdict(pops, FAILED, "changed its input `layers` in place", exercise=ex)


def test_right_values_with_a_wrong_gradient_fail():
    def sigmoid_where(x):  # right values, but the unused branch overflows: nan gradient at large |x|
        return tl.where(x >= 0, 1 / (1 + tl.exp(-x)), tl.exp(x) / (1 + tl.exp(x)))
    ex = Exercise("99.sigmoid", reference=lambda x: x.sigmoid(), answer=TensorAnswer(), grad=True,
                  cases=lambda rng: [Case((_f32([-100.0, -1.0, 0.0, 2.0, 100.0]),))])
    assert_verdict(sigmoid_where, FAILED, "the values are right, the gradient is not", "inf or nan",
                   "where(cond, a, b) computes (and differentiates) both", exercise=ex)
    assert_verdict(lambda x: x.sigmoid().detach() + 0 * x, FAILED,  # connected, but the path carries nothing
                   "gradient is 0 at some elements where it should not be", exercise=ex)
    assert_verdict(lambda x: x.sigmoid() * (1 + x - x.detach()), FAILED, "a .detach()", exercise=ex)
    in_log_space = Exercise("99.sigmoid_log", reference=ex.reference, answer=TensorAnswer(), grad=True,
                            cases=ex.cases, compare=lambda got, expected, case: compare_log(got, expected))
    assert_verdict(lambda x: x.clamp(-30, 30).sigmoid(), FAILED, "log-space difference", exercise=in_log_space)


def test_array_number_and_tuple_answers():
    arrays = Exercise("99.double", reference=lambda a: 2 * a, answer=ArrayAnswer(),
                      cases=lambda rng: [Case((np.array([1.0, 2.0]),))])
    assert verdict(lambda a: a + a, arrays)
    assert_verdict(lambda a: tl.tensor(2 * a), FAILED, "works on numpy arrays", exercise=arrays)
    assert_verdict(lambda a: (2 * a).tolist(), FAILED, "where a numpy array was expected", exercise=arrays)
    number = Exercise("99.std", reference=lambda n: math.sqrt(2 / n), answer=NumberAnswer(),
                      cases=lambda rng: [Case((8,)), Case((50,))])
    assert verdict(lambda n: (2 / n) ** 0.5, number)
    assert_verdict(lambda n: tl.tensor(2 / n).sqrt(), FAILED, "plain Python number", exercise=number)
    pair = Exercise("99.pair", reference=lambda a: (a, 2 * a), answer=TupleAnswer(ArrayAnswer(), ArrayAnswer()),
                    cases=lambda rng: [Case((np.array([1.0, 2.0]),))])
    assert_verdict(lambda a: a, FAILED, "a tuple of 2 results was expected", exercise=pair)
    assert_verdict(lambda a: (a, 2 * a, a), FAILED, "you returned 3 results", exercise=pair)


# -------------------------------------------------------------------- stability, tolerances, ignored arguments
def test_an_overflow_inside_the_learners_function_fails_an_exercise_about_stability():
    def logsumexp(x):
        m = x.amax(dim=-1, keepdim=True)
        return (x - m).exp().sum(dim=-1).log() + m.squeeze(-1)
    cases = lambda rng: [Case((_f32([[1.0, 2.0], [1000.0, 999.0]]),))]  # noqa: E731
    stable = Exercise("99.lse", reference=logsumexp, cases=cases, answer=TensorAnswer(), stability=True)
    relaxed = Exercise("99.lse2", reference=logsumexp, cases=cases, answer=TensorAnswer())
    naive_clamped = lambda x: x.exp().clamp(max=3e38).sum(dim=-1).log()  # noqa: E731  (hides the inf: right values)
    assert verdict(logsumexp, stable)
    assert_verdict(naive_clamped, FAILED, "numpy warned inside your function", "overflow", exercise=stable)
    assert verdict(naive_clamped, relaxed).status == FAILED  # (its values are wrong anyway, but no warning text)
    assert "numpy warned" not in verdict(naive_clamped, relaxed).message


def test_compare_log_keeps_tiny_values_apart():
    expected = np.array([3.78e-44, 1e-10, 0.5, -2.0], dtype=np.float32)
    assert compare_log(expected.copy(), expected) is None
    assert compare_log(np.array([0.0, 1e-10, 0.5, -2.0], dtype=np.float32), expected)
    assert "log-space" in compare_log(np.array([9.4e-14, 1e-10, 0.5, -2.0], dtype=np.float32), expected)
    assert compare_log(np.array([3.92e-44, 1e-10, 0.5, -2.0], dtype=np.float32), expected) is None  # subnormal step


def test_an_ignored_argument_gets_its_hint():
    ex = Exercise("99.scale", reference=lambda x, factor=1.0: x * factor, answer=TensorAnswer(),
                  cases=lambda rng: [Case((_f32([1.0, 2.0]),), kwargs={"factor": 1.0}),
                                     Case((_f32([1.0, 2.0]),), "factor 3", {"factor": 3.0})])
    assert_verdict(lambda x, factor=1.0: x * 1.0, FAILED, "what factor=1.0 gives", "passes factor=3.0",
                   exercise=ex)


# -------------------------------------------------------------------- hints
def test_hints_come_in_tiers_the_concrete_one_when_the_mistake_comes_back():
    once, twice = verdict(lambda x: x.clamp(max=0)), verdict(lambda x: x.clamp(max=0), times=2)
    assert "Hint: relu keeps the positive part" in once.message and "More:" not in once.message
    assert "More: compare each element with 0" in twice.message


def test_generic_hints_fire_only_where_the_exercise_opts_in():
    got, expected = np.array([[np.inf, 1.0]]), np.array([[2.0, 1.0]])
    assert diagnose(got, expected, kinds=("overflow",)) and diagnose(got, expected, kinds=("sign",)) is None
    broadcast, summed = np.ones((4, 3)), np.full(3, 4.0)
    assert diagnose(broadcast, summed, kinds=("broadcast_sum",)) and diagnose(broadcast, summed, kinds=()) is None
    loss = Exercise("99.loss", reference=lambda x: x.mean(), answer=TensorAnswer(), generic_hints=(),
                    cases=lambda rng: [Case((_f32([1.0, 2.0, 4.0]),))])
    result = verdict(lambda x: x.mean().reshape(1), loss)  # shape (1,): no lesson-03 broadcasting hint
    assert result.status == FAILED and "Hint" not in result.message
    assert "wrong sign" in verdict(lambda x: -relu(x)).message  # 99.relu opts in to "sign"


def test_the_transpose_hint_covers_a_square_answer_and_a_loss_left_with_dims_gets_the_shape_hint():
    square = np.arange(9.0).reshape(3, 3)
    assert "transpose of the right one" in diagnose(square.T, square, kinds=("transpose",))
    assert diagnose(square.T, square, kinds=("sign",)) is None
    per_row, keepdim = np.array([0.5, 1.5]), np.array([1.0])
    assert "2 numbers where the right answer is a single" in diagnose(per_row, np.array(1.0), kinds=("mean_vs_sum",))
    assert "keepdim=True" in diagnose(keepdim, np.array(1.0), kinds=("mean_vs_sum",))
    assert diagnose(per_row, np.array(1.0), kinds=("factor",)) is None  # (only the losses opt in, by mean_vs_sum)


def test_a_predicate_mistake_and_an_error_hint():
    ex = Exercise("99.clip", reference=lambda x: x.sigmoid(), answer=TensorAnswer(),
                  cases=lambda rng: [Case((_f32([-50.0, -5.0, 0.0, 5.0]),))],
                  mistakes=[Mistake(hint="the tail is flat: a clamp cut it",
                                    match=lambda got, expected, case: got[0] == got[1])],
                  error_hints=[ErrorHint(r"IndexError: .*out of range", "count the dims of x")])
    assert_verdict(lambda x: x.clamp(min=-5).sigmoid(), FAILED, "Hint: the tail is flat", exercise=ex)
    assert_verdict(lambda x: x.sum(dim=3), ERROR, "Hint: count the dims of x", exercise=ex)
    assert_verdict(lambda x: x.sigmoid() if x > 0 else x, ERROR, "Hint: a Python `if`", exercise=ex)
    assert_verdict(lambda x: np.exp(x), ERROR, "numpy's functions", exercise=ex)


# -------------------------------------------------------------------- not attempted, unsolved callees
def test_a_stub_is_not_attempted_but_a_call_into_an_unsolved_exercise_says_which():
    def dense_forward(x):
        raise NotImplementedError("01.dense_forward: not written yet")

    def mlp_forward(x):
        return relu(dense_forward(x))
    assert_verdict(dense_forward, NOT_ATTEMPTED, "not attempted yet")
    result = assert_verdict(mlp_forward, ERROR, "your relu calls dense_forward, which is not written yet",
                            "Solve exercise 01.dense_forward first", 'use("01.dense_forward", dense_forward)')
    assert "not attempted" not in result.message


def test_the_call_hook_judges_what_the_function_leaves_on_its_arguments():
    class Box:
        def __init__(self, v):
            self.v, self.grad = v, 0.0

    def reference(a, g):
        a.grad += 2 * g

    ex = Exercise("99.acc", reference=reference, check_inputs=False,
                  call=lambda fn, args, kwargs: (fn(*args, **kwargs), args[0].grad)[1],
                  cases=lambda rng: [Case((Box(1.0), 3.0)), Case((Box(1.0), 0.5))])
    assert verdict(reference, ex)

    def overwrites(a, g):
        a.grad = 2 * g
    preset = Exercise("99.acc2", reference=reference, check_inputs=False, call=ex.call,
                      cases=lambda rng: [Case((_boxed(Box(1.0), 5.0), 3.0))])
    assert verdict(overwrites, preset).status == FAILED


def _boxed(box, grad):
    box.grad = grad
    return box


# -------------------------------------------------------------------- display and fallbacks
@pytest.mark.parametrize("status, css", [(PASSED, "tgl-passed"), (FAILED, "tgl-failed"),
                                         (NOT_ATTEMPTED, "tgl-not-attempted"), (ERROR, "tgl-error")])
def test_the_html_box_contract(status, css):
    result = CheckResult("99.x", status, "99.x: something <b>", title="99.x: something <b>",
                         details=("the result: expected 1",), hints=("think", "more"))
    html = result.html
    assert html.startswith(f'<div class="tgl-check {css}"')
    assert "white-space: pre-wrap; overflow-wrap: normal; word-break: normal" in html
    assert "&lt;b&gt;" in html and "<b>Hint:</b>" in html and "<b>More:</b>" in html
    assert display.fallback_html("x").startswith('<div class="tgl-fallback"')


def test_outside_a_kernel_a_verdict_is_plain_text(capsys):
    from tinygrad_lite.course.checks import show
    show(verdict(relu))
    assert capsys.readouterr().out == "✔ 99.relu: passed (3 cases, 2 of them hidden)\n"


def test_a_fallback_is_labelled_where_it_is_used(capsys, monkeypatch):
    from tinygrad_lite.course import checks
    monkeypatch.setitem(checks.REGISTRY, RELU.id, RELU)

    def stub(x):
        raise NotImplementedError
    stand_in = use(RELU.id, stub)
    assert isinstance(stand_in, Fallback) and capsys.readouterr().out == ""
    assert whose(stand_in) == "the library's relu (yours was not written)" and whose(relu) == "your relu"
    cell = iter([1, 1, 2])
    monkeypatch.setattr(display, "in_kernel", lambda: True)
    monkeypatch.setattr(display, "execution_count", lambda: next(cell))
    shown = []
    monkeypatch.setattr(display, "publish", lambda text, html: shown.append((text, html)))
    x = _f32([-1.0, 2.0])
    for _ in range(3):
        np.testing.assert_array_equal(stand_in(x).numpy(), [0.0, 2.0])
    assert len(shown) == 2, "once per cell that uses it: cells 1 and 2"
    assert shown[0][0] == ("↪ the library's relu stands in for yours here:\n"
                           "  yours (99.relu) was not written when this cell ran: rerun it once yours passes")
    assert shown[0][1].startswith('<div class="tgl-fallback"')
    assert use(RELU.id, relu) is relu


def test_in_a_kernel_a_check_is_one_bundle_of_html_and_text_and_tqdm_is_a_widget():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in [
        "from tinygrad_lite.course import check, use\nimport tinygrad_lite as tl\n"
        "x = tl.tensor([[1.0, 2.0], [3.0, 1.0]])\n"
        "check('00.row_normalize', lambda s: s / s.sum(dim=1, keepdim=True))",
        "def row_normalize(scores):\n    raise NotImplementedError('00.row_normalize: not written yet')\n"
        "fn = use('00.row_normalize', row_normalize)\nfn(x)\nfn(x)\nprint('done')",
        "from tqdm.auto import tqdm\nfor _ in tqdm(range(3)):\n    pass",
    ]]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    check_out, = nb.cells[0].outputs
    assert check_out.output_type == "display_data"
    n = len(get_exercise("00.row_normalize").all_cases())
    assert check_out.data["text/plain"] == f"✔ 00.row_normalize: passed ({n} cases, {n - 1} of them hidden)"
    assert check_out.data["text/html"].startswith('<div class="tgl-check tgl-passed"')
    labels = [o for o in nb.cells[1].outputs if o.output_type == "display_data"]
    assert len(labels) == 1, "one label in the cell that uses the library's version, however often it calls it"
    assert labels[0].data["text/html"].startswith('<div class="tgl-fallback"')
    outputs = nb.cells[2].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), outputs
    assert not any("IProgress" in o.get("text", "") for o in outputs)


# -------------------------------------------------------------------- write it yourself (Exercise.forbid)
def _relu_exercise(exercise_id, forbid):
    return Exercise(exercise_id, reference=lambda x: x.clamp(min=0), cases=_cases, answer=TensorAnswer(), grad=True,
                    forbid=forbid)


def test_an_answer_that_is_or_calls_a_forbidden_function_must_be_written_yourself():
    from tinygrad_lite.nn import functional as F
    ex = _relu_exercise("99.relu_yourself", (F.relu,))
    assert verdict(relu, ex)
    for answer, how in ((F.relu, "is"), (lambda x: tl.nn.functional.relu(x), "calls, while it runs,"),
                        (lambda x: F.relu(x) * 1.0, "calls, while it runs,")):
        result = assert_verdict(answer, FAILED, "write it yourself", how, "tinygrad_lite.nn.functional.relu",
                                exercise=ex)
        assert result.passed_cases == 0 and result.message.splitlines()[0].endswith("nn.functional.relu.")
    # a building block that the library builds on the forbidden function is the learner's to use
    assert verdict(lambda x: tl.nn.ReLU()(x), ex)
    method = _relu_exercise("99.relu_method", (tl.Tensor.relu,))  # a method, named as the learner knows it
    assert_verdict(lambda x: x.relu(), FAILED, "calls, while it runs, the library's tinygrad_lite.Tensor.relu.",
                   exercise=method)


def test_a_name_bound_to_a_forbidden_function_before_the_check_is_found_where_the_answer_refers_to_it():
    from tinygrad_lite.course import pipeline
    from tinygrad_lite.nn import functional as F
    namespace = {}
    exec("from tinygrad_lite.nn.functional import relu as library_relu\n\n"  # a learner's cell
         "def helper(x):\n    return library_relu(x)\n\ndef my_relu(x):\n    return helper(x) + 0.0\n",
         namespace)
    ex = _relu_exercise("99.relu_bound", (F.relu,))
    fresh = pipeline.Tripwires()  # none installed: the name holds the library's own function, not a tripwire
    library_relu = pipeline.TRIPWIRES.original(F.relu)  # (the module holds its tripwire once a check installed it)
    assert pipeline.forbidden_use(ex, namespace["my_relu"], fresh) == (library_relu, "uses")
    assert pipeline.forbidden_use(ex, relu, fresh) is None
    assert_verdict(namespace["my_relu"], FAILED, "write it yourself", "tinygrad_lite.nn.functional.relu", exercise=ex)


def _optimizer_exercise(exercise_id, forbid):
    """04.MySGD's cases and driver (the course's own), with these objects forbidden."""
    import dataclasses

    from tinygrad_lite.course.checks import get_exercise
    return dataclasses.replace(get_exercise("04.MySGD"), id=exercise_id, forbid=forbid)


class _OwnSGD(tl.optim.Optimizer):
    """Plain SGD with momentum and weight decay, from the building block Optimizer (allowed)."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay))

    def _update(self, p, group):
        g = p.grad + group["weight_decay"] * p
        if group["momentum"]:
            state = self.state[p]
            buf = g.clone() if "b" not in state else group["momentum"] * state["b"] + (1 - group["dampening"]) * g
            state["b"] = buf
            g = g + group["momentum"] * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class _Delegates(tl.optim.Optimizer):
    """Builds the library's SGD and hands every step to it: a wrapper."""

    def __init__(self, params, **kwargs):
        params = list(params)
        super().__init__(params, {"lr": kwargs.get("lr", 1e-3)})
        self.inner = tl.optim.SGD(params, **kwargs)

    def step(self):
        self.inner.step()

    def state_dict(self):
        return self.inner.state_dict()

    def load_state_dict(self, state):
        self.inner.load_state_dict(state)


def test_a_class_that_is_subclasses_or_wraps_the_forbidden_one_fails_and_the_building_blocks_stay_allowed():
    ex = _optimizer_exercise("99.MySGD", (tl.optim.SGD,))
    assert verdict(_OwnSGD, ex), "subclassing the allowed building block Optimizer is fine"
    for answer, how in ((tl.optim.SGD, "is"), (type("MySGD", (tl.optim.SGD,), {}), "subclasses"),
                        (_Delegates, "calls")):
        assert_verdict(answer, FAILED, "write it yourself", how, "the library's tinygrad_lite.optim.SGD", exercise=ex)


def test_the_drivers_and_the_references_own_calls_do_not_count():
    """04.train_epoch's driver builds the library's SGD or Adam and the learner's loop steps it (Optimizer.step
    calls their _update): neither call is the learner's."""
    import dataclasses

    from tinygrad_lite.course.checks import get_exercise

    def train_epoch(model, loader, loss_fn, optimizer):
        model.train()
        total, count = 0.0, 0
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(x), count + len(x)
        return total / count
    ex = dataclasses.replace(get_exercise("04.train_epoch"), id="99.train_epoch",
                             forbid=(tl.optim.SGD, tl.optim.Adam, tl.nn.MSELoss))
    assert verdict(train_epoch, ex)
    ex = _optimizer_exercise("99.MySGD_again", (tl.optim.SGD,))  # its reference builds the library's SGD
    assert verdict(_OwnSGD, ex)


@pytest.mark.parametrize("answer", ["is", "subclass"])
def test_the_library_adam_is_no_answer_to_04_my_adam(answer):
    from tinygrad_lite.course.checks import get_exercise
    fn = tl.optim.Adam if answer == "is" else type("MyAdam", (tl.optim.Adam,), {})
    result = verdict(fn, get_exercise("04.MyAdam"))
    assert result.status == FAILED and result.passed_cases == 0, result.message
    assert "write it yourself" in result.message and "tinygrad_lite.optim.Adam" in result.message


# -------------------------------------------------------------------- write it yourself, by an allowlist
def _log_softmax(z):
    shifted = z - z.amax(dim=-1, keepdim=True)
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


LSE_BLOCKS = ("arithmetic", "exp", "log", "max", "sum")
LOG_SOFTMAX = Exercise("99.log_softmax_allowed", reference=_log_softmax, cases=_cases, answer=TensorAnswer(),
                       grad=True, allow=LSE_BLOCKS)
ALLOWED = ("build it from the building blocks the exercise's text names (of the functions that compute something, "
           "it allows: arithmetic and comparisons (+ - * / **, abs, <, ==), exp, log, max (or maximum), sum; shapes, "
           "indexing, copies and dtypes are always fine).")


def test_the_allowed_blocks_pass_in_any_style():
    assert verdict(_log_softmax, LOG_SOFTMAX)
    assert verdict(lambda z: z - tl.log(tl.sum(tl.exp(z - tl.amax(z, -1, keepdim=True)), -1, keepdim=True))
                   - tl.amax(z, -1, keepdim=True), LOG_SOFTMAX)  # the functional forms
    assert verdict(lambda z: (z - z.max(dim=-1, keepdim=True).values.detach()).reshape(z.shape).float()
                   - (z - z.max(dim=-1, keepdim=True).values.detach()).exp().sum(-1, keepdim=True).log(),
                   LOG_SOFTMAX), "shapes, dtypes and detach are plumbing: always allowed"


@pytest.mark.parametrize("answer, name", [
    (lambda z: z - z.logsumexp(dim=-1, keepdim=True), "tinygrad_lite.Tensor.logsumexp"),  # a Tensor method
    (lambda z: z - tl.logsumexp(z, -1, keepdim=True), "tinygrad_lite.logsumexp"),  # a top-level function
    (lambda z: tl.nn.functional.log_softmax(z, dim=-1), "tinygrad_lite.nn.functional.log_softmax"),
    (lambda z: tl.nn.LogSoftmax(dim=-1)(z), "tinygrad_lite.nn.LogSoftmax"),  # a layer
    (lambda z: -tl.stack([tl.nn.functional.cross_entropy(z, tl.full((z.shape[0],), k, dtype=tl.int64),
                                                         reduction="none") for k in range(z.shape[1])], dim=1),
     "tinygrad_lite.nn.functional.cross_entropy"),  # a cross-entropy over made-up classes
])
def test_a_catalogued_function_outside_the_allowlist_fails_naming_itself_and_the_blocks(answer, name):
    result = assert_verdict(answer, FAILED, exercise=LOG_SOFTMAX)
    assert result.message == f"99.log_softmax_allowed: you called {name}, which is not one of this exercise's " \
                             f"building blocks (a library function that may compute this exercise's work, or part of " \
                             f"it); {ALLOWED}", result.message
    assert result.passed_cases == 0


def test_a_call_an_allowed_block_makes_on_its_own_behalf_does_not_count():
    """x.std() computes its square root and a where inside the library: the learner called std, which is allowed."""
    def standardize(x):
        return (x - x.mean(dim=0)) / x.std(dim=0, correction=0)
    ex = Exercise("99.standardize_allowed", reference=standardize, answer=TensorAnswer(), grad=True,
                  cases=lambda rng: [Case((_f32(rng.standard_normal((6, 3))),))], allow=("arithmetic", "mean", "std"))
    assert verdict(standardize, ex)
    assert_verdict(lambda x: (x - x.mean(dim=0)) / x.var(dim=0, correction=0).sqrt(), FAILED,  # an elementary block
                   "you called tinygrad_lite.Tensor.sqrt, which is not one of this exercise's building blocks; build "
                   "it from the building blocks the exercise's text names", "mean, std or var;", exercise=ex)


def test_a_wrong_answer_keeps_its_failure_and_hint_and_hears_of_the_refusal_besides():
    ex = Exercise("99.log_softmax_hinted", reference=_log_softmax, cases=_cases, answer=TensorAnswer(), grad=True,
                  allow=LSE_BLOCKS, mistakes=[Mistake(lambda z: z.softmax(dim=0).log(), "the classes are on the "
                                                      "last dim")])
    result = assert_verdict(lambda z: z.log_softmax(dim=0), FAILED, "Hint: the classes are on the last dim",
                            "Besides: you called tinygrad_lite.Tensor.log_softmax", exercise=ex)
    assert result.message.index("Besides") < result.message.index("Hint")


def test_a_tolerated_block_is_not_refused_and_not_named():
    ex = Exercise("99.log_softmax_tolerant", reference=_log_softmax, cases=_cases, answer=TensorAnswer(), grad=True,
                  allow=LSE_BLOCKS, tolerate=("softmax",))
    assert verdict(lambda z: z.softmax(dim=-1).log(), ex)  # (the cases here are tame: it underflows nowhere)
    assert_verdict(lambda z: z - z.logsumexp(dim=-1, keepdim=True), FAILED, ALLOWED, exercise=ex)


def _log_softmax_numbers(z):  # an exercise on numbers only: an answer through another library can be right
    return _log_softmax(z).detach()


NUMBERS = Exercise("99.log_softmax_numbers", reference=_log_softmax_numbers, cases=_cases, allow=LSE_BLOCKS)


def test_pytorchs_numpys_and_the_librarys_are_found_by_their_dotted_names_in_the_answers_code():
    torch = pytest.importorskip("torch")

    def through_torch(z):
        return tl.tensor(torch.logsumexp(torch.from_numpy(z.numpy()), -1, keepdim=True).neg().add(
            torch.from_numpy(z.numpy())).numpy())

    def imported_inside(z):
        from torch.special import logsumexp as lse
        return z - tl.tensor(lse(torch.from_numpy(z.numpy()), -1, keepdim=True).numpy())

    assert_verdict(through_torch, FAILED, "99.log_softmax_numbers: your code uses torch.logsumexp, which is not one of",
                   ALLOWED, exercise=NUMBERS)
    assert_verdict(imported_inside, FAILED, "your code uses torch.special.logsumexp", exercise=NUMBERS)
    assert_verdict(lambda z: z - tl.tensor(np.logaddexp.reduce(z.numpy(), axis=-1, keepdims=True)), FAILED,
                   "your code uses numpy.logaddexp", exercise=NUMBERS)
    assert verdict(lambda z: tl.tensor(np.asarray(_log_softmax(z).numpy())), NUMBERS)  # numpy itself is no shortcut


def test_a_name_bound_before_the_tripwires_is_found_in_the_code_and_the_grade_path_records_the_same():
    from tinygrad_lite.course import pipeline
    namespace = {}
    exec("from tinygrad_lite import logsumexp as library_lse\n\n"  # a learner's cell, before any check ran
         "def my_log_softmax(z):\n    return z - library_lse(z, -1, keepdim=True)\n", namespace)
    fresh = pipeline.Tripwires()
    refused = pipeline.refused_objects(LOG_SOFTMAX)
    assert pipeline.refused_use(namespace["my_log_softmax"], refused, {}, fresh) == ("tinygrad_lite.logsumexp",
                                                                                      "uses", "logsumexp")
    assert pipeline.refused_use(_log_softmax, refused, {}, fresh) is None
    record = pipeline.Recorder().record(LOG_SOFTMAX, lambda z: z - z.logsumexp(-1, keepdim=True),
                                        LOG_SOFTMAX.all_cases()[0], 0)
    assert record["refused"] == {"object": "tinygrad_lite.Tensor.logsumexp", "how": "calls", "block": "logsumexp"}


def test_the_allowlists_name_known_blocks_and_every_library_callable_is_plumbing_or_catalogued():
    from tinygrad_lite.course import blocks
    with pytest.raises(ValueError, match="unknown building blocks"):
        blocks.refused(("arithmetic", "expp"))
    get_exercise("00.row_normalize")  # (registers every lesson's exercises)
    from tinygrad_lite.course.checks import REGISTRY
    for exercise in REGISTRY.values():
        if exercise.allow is not None:
            assert set(exercise.allow) | set(exercise.tolerate) <= blocks.known_blocks(), exercise.id
    catalogued = {name for _, name, _ in blocks.catalog()}
    for name in ("softmax", "logsumexp", "norm", "tanh", "sort", "cumsum"):
        assert f"tinygrad_lite.Tensor.{name}" in catalogued
    for name in ("reshape", "__add__", "float", "gather", "zeros", "abs"):
        assert f"tinygrad_lite.Tensor.{name}" not in catalogued and f"tinygrad_lite.{name}" not in catalogued


# -------------------------------------------------------------------- float32's rounding, course-wide
# Answers right but for float32's rounding, on the lessons' own exercises: each gets the one hint that names the
# likely causes (a .float(), tl.tensor(python number), np.float32, a float32 buffer or accumulator) and the fix,
# where no more specific Mistake of the exercise matched; two numbers that print alike are printed apart.
def _float32_sigmoid(x):  # exp in float32: sigmoid(-744) underflows to 0 (not the cancellation of 1 - sigmoid(|x|))
    nx = tl.where(x >= 0, -x, x)
    e = nx.float().exp()
    return tl.where(x >= 0, 1 / (1 + e), e / (1 + e)).to(x.dtype)


def _float32_mlp(x, layers):
    for i, (W, b) in enumerate(layers):
        x = x @ W.T + b.float()
        if i < len(layers) - 1:
            x = x.clamp(min=0)
    return x


def _warmup_cosine(cos):
    def warmup_cosine(step, base_lr, warmup_steps, total_steps, start_factor=0.01, min_lr=0.0):
        if step < warmup_steps:
            return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
        progress = (step - warmup_steps) / (total_steps - warmup_steps)
        return min_lr + (base_lr - min_lr) * (1 + cos(math.pi * progress)) / 2
    return warmup_cosine


class _EarlyStoppingFloat32:
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.wait, self.epoch, self.weights = None, 0, 0, None

    def step(self, value, model):
        value, epoch = float(np.float32(value)), self.epoch  # the mistake: the value through float32
        self.epoch += 1
        if math.isnan(value) or math.isinf(value):
            return True
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            self.wait += 1
        return self.wait >= self.patience

    def restore(self, model):
        model.load_state_dict(self.weights)


def _train_step_float32(model, x, y, loss_fn, optimizer, device):
    x, y = x.to(device), y.to(device)
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.float().item()


def _time_op_float32_buffer(fn, repeats=20, warmup=3, clock=None, sync=None):
    for _ in range(warmup):
        fn()
    sync()
    times = np.empty(repeats, np.float32)
    for i in range(repeats):
        start = clock()
        fn()
        sync()
        times[i] = clock() - start
    return float(np.median(times))


def _train_one_epoch_float32_total(lib, model, loader, optimizer, max_norm=1.0, device="cpu"):
    model.train()
    total, hits, seen = np.float32(0), 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss = lib.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
        optimizer.step()
        total += loss.item() * y.shape[0]
        hits += int((logits.argmax(1) == y).sum().item())
        seen += y.shape[0]
    return total / seen, hits / seen


FLOAT32_HINT = "carries float32's rounding"
FLOAT32_CAUSES = ("a .float()", "tl.tensor(0.5), like torch.tensor(0.5), is float32 by default", "np.float32",
                  "a float32 buffer or accumulator", "dtype=x.dtype", "Python floats", ".item()")


@pytest.mark.parametrize("exercise_id, answer, texts", [
    ("00.row_normalize", lambda s: s / s.sum(dim=1, keepdim=True).float(), [FLOAT32_HINT, "right number is 0.8434461, "
                                                                            "yours 0.8434462"]),
    ("00.pairwise_sq_distances", lambda a, b: ((a.float()[:, None, :] - b.float()[None, :, :]) ** 2).sum(
        dim=-1).to(a.dtype), [FLOAT32_HINT]),
    ("01.mlp_forward", _float32_mlp, [FLOAT32_HINT]),
    ("01.sigmoid", _float32_sigmoid, [FLOAT32_HINT, "becomes 0 in float32"]),
    ("05.warmup_cosine", _warmup_cosine(lambda v: float(np.cos(np.float32(v)))), [FLOAT32_HINT]),
    ("07.EarlyStopping", _EarlyStoppingFloat32, [FLOAT32_HINT, "the right number is 0.55, yours 0.55000001"]),
    ("08.train_step", _train_step_float32, [FLOAT32_HINT]),
    ("08.time_op", _time_op_float32_buffer, [FLOAT32_HINT]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_an_answer_off_by_float32s_rounding_gets_the_float32_hint(exercise_id, answer, texts):
    result = verdict(answer, get_exercise(exercise_id))
    assert result.status == FAILED, result.message
    for text in list(texts) + list(FLOAT32_CAUSES):
        assert text in result.message, result.message
    assert "1 - sigmoid(|x|)" not in result.message and "tanh" not in result.message, result.message


def test_a_run_that_stops_at_a_float32_total_gets_the_type_and_the_digits_a_total_loses():
    """A run stops at the float32 it names (here a total started as np.float32(0)), so the check cannot see
    whether digits were lost: its hint names the type first, then what a number built up in float32 loses."""
    result = verdict(_train_one_epoch_float32_total, get_exercise("09.train_one_epoch"))
    assert result.status == FAILED, result.message
    for text in ("the loss you returned is a float32", "a float32 where a Python float is expected",
                 "a total started as np.float32(0)", "keep totals in Python floats"):
        assert text in result.message, result.message


def test_float32s_rounding_is_told_apart_from_noise_and_from_other_wrong_numbers():
    from tinygrad_lite.course.compare import float32_rounding
    e = np.array([0.55, 1e-3, 2.5, 0.0, 1e-320])
    f32 = e.astype(np.float32).astype(np.float64)
    assert float32_rounding(f32, e) == (0.55, float(np.float32(0.55)))  # the worst, relative to its size
    assert float32_rounding(e * (1 + 1e-15), e) is None  # float64's own rounding: a right answer
    assert float32_rounding(e * (1 + 1e-4), e) is None  # further off than float32's rounding: another mistake
    assert float32_rounding(f32 + [0, 0, 0, 1, 0], e) is None  # one number wrong besides
    assert float32_rounding(f32.astype(np.float32), e) is None  # a float32 answer: its dtype is refused, not this
    assert float32_rounding((f32, np.array(3)), (e, np.array(3))) is not None  # tuples, and a count that agrees
    assert float32_rounding((f32, np.array(3)), (e, np.array(4))) is None


def test_a_more_specific_mistake_keeps_its_hint_over_float32s_rounding():
    ex = Exercise("99.relu_f64", reference=lambda x: x.clamp(min=0), answer=TensorAnswer(), rtol=1e-12, atol=0.0,
                  cases=lambda rng: [Case((tl.tensor(np.array([[0.1, -2.0, 0.3]])),), visible=True)],
                  mistakes=[Mistake(match=lambda got, expected, case: True, hint="the exercise's own hint")])
    assert_verdict(lambda x: x.float().clamp(min=0).double(), FAILED, "the exercise's own hint", exercise=ex)
    result = assert_verdict(lambda x: x.float().clamp(min=0).double(), FAILED, FLOAT32_HINT,
                            exercise=Exercise("99.relu_f64_plain", reference=ex.reference, cases=ex.cases,
                                              answer=TensorAnswer(), rtol=1e-12, atol=0.0))
    assert "the right number is 0.3, yours 0.30000001" in result.message, result.message


def test_a_failure_that_names_its_cause_gets_no_generic_float32_hint():
    """(review of lesson 10) A comparison that already names why the numbers are off (compare.Diagnosed, e.g. a
    variance lost to catastrophic cancellation, whose errors have float32's size) is not followed by the float32
    hint, which would name a second, different cause; a plain failure message still is."""
    from tinygrad_lite.course.compare import Diagnosed, compare_arrays

    def diagnosed(got, expected, case):
        return Diagnosed("the exercise's own diagnosis") if compare_arrays(got, expected, 1e-12, 0.0) else None
    cases = lambda rng: [Case((tl.tensor(np.array([[0.1, -2.0, 0.3]])),), visible=True)]  # noqa: E731
    through_float32 = lambda x: x.float().clamp(min=0).double()  # noqa: E731
    result = assert_verdict(through_float32, FAILED, "the exercise's own diagnosis",
                            exercise=Exercise("99.relu_f64_diagnosed", reference=lambda x: x.clamp(min=0),
                                              answer=TensorAnswer(), compare=diagnosed, cases=cases))
    assert FLOAT32_HINT not in result.message, result.message
    assert_verdict(through_float32, FAILED, FLOAT32_HINT,
                   exercise=Exercise("99.relu_f64_plain_compare", reference=lambda x: x.clamp(min=0),
                                     answer=TensorAnswer(), cases=cases,
                                     compare=lambda got, expected, case: compare_arrays(got, expected, 1e-12, 0.0)))


# -------------------------------------------------------------------- the allowlist's refusal, in the text's words
def test_the_refusal_lists_the_blocks_readably_and_names_what_the_learners_code_called():
    from tinygrad_lite.course import pipeline
    get_exercise("00.row_normalize")  # (registers every lesson's exercises)
    from tinygrad_lite.course.checks import REGISTRY
    listed = pipeline.allowed_blocks(REGISTRY["07.save_run"])
    assert listed == ("arithmetic and comparisons (+ - * / **, abs, <, ==), the optimizer and the scheduler you are "
                      "given (their own methods, such as state_dict)")
    assert "std or var" in pipeline.allowed_blocks(REGISTRY["10.batch_norm_forward"])
    for exercise in REGISTRY.values():
        words = pipeline.allowed_blocks(exercise)
        assert "optimizer," not in words and "lr_scheduler" not in words, exercise.id

    class StopsOnAPlateau:  # the library's ReduceLROnPlateau, on a dummy optimizer made for it
        def __init__(self, patience=5, min_delta=0.0, mode="min"):
            self.scheduler = tl.optim.lr_scheduler.ReduceLROnPlateau(
                tl.optim.SGD([tl.nn.Parameter(tl.zeros(1))], lr=1.0), mode=mode, patience=patience)
            self.best, self.best_epoch, self.wait = math.inf, None, 0

        def step(self, value, model):
            self.scheduler.step(value)
            return False

        def restore(self, model):
            pass
    result = verdict(StopsOnAPlateau, REGISTRY["07.EarlyStopping"])
    assert ("Besides: you called tinygrad_lite.optim.lr_scheduler.ReduceLROnPlateau, which is not one of this "
            "exercise's building blocks (a library function that may compute this exercise's work, or part of it); "
            "build it from the building blocks the exercise's text names") in result.message, result.message


def test_a_max_pair_is_told_to_clamp_only_where_an_element_wise_answer_was_expected():
    """(review of session 32) x.max(0) for a ReLU (the answer keeps x's shape) is told that max(dim) reduces and
    clamp compares, and not to take its .values (they are the reduction's: attack of session 37); a reduction that
    only forgot .values (its values have the expected shape) is told to take them."""
    x = tl.tensor([[1.0, -2.0], [3.0, 4.0]])
    elementwise = TensorAnswer().refuse(x.max(0), x.clamp(min=0))
    reduction = TensorAnswer().refuse(x.max(0), x.max(0).values)
    assert ".values" not in elementwise
    assert "x.max(dim) REDUCES over that dim" in elementwise and "clamp(min=number)" in elementwise
    assert "its .values" in reduction and "REDUCES" not in reduction
