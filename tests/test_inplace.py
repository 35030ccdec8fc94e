"""In-place changes and the autograd graph, and the contract every op's backward keeps; all against PyTorch.

1. Version counters: every in-place write counts; a value saved for backward that changed since makes backward
   raise, exactly where PyTorch raises, and gives PyTorch's gradient where it does not (the change was harmless).
2. ``x[index] = value`` and in-place arithmetic on tensors in a graph are recorded, as in PyTorch: RNN-style
   buffer fills and masked assignments train, with PyTorch's gradients (float64).
3. The op contract: a backward returning the wrong number of gradients, or a gradient of an impossible shape,
   is an error naming the op, the input index and both shapes.
4. A view used after its base changed in place takes its place in the base's new graph, as PyTorch's (its grad_fn
   is made again); a view made under no_grad is refused where PyTorch refuses it.

Each scenario is written once against the PyTorch API and run with ``T`` = torch and ``T`` = tinygrad_lite.
"""
import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy

import tinygrad_lite as tl
from tinygrad_lite.ops.elementwise import Mul

RNG = np.random.default_rng(0)
W3x2 = RNG.standard_normal((3, 2))
X4x2 = RNG.standard_normal((4, 2))
X3x4 = RNG.standard_normal((3, 4))  # drawn at import: the same values for PyTorch and for us, in any test order
STALE = "modified by an inplace operation"


@pytest.fixture(autouse=True)
def _grad_mode_is_left_on():
    yield
    tl.set_grad_enabled(True)
    torch.set_grad_enabled(True)


def arr(t):
    return np.asarray(t.detach().numpy())


def f64(T, values, requires_grad=False):
    return T.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def outcome(T, scenario):
    """("raised", message) if the scenario's backward raised a RuntimeError, else ("ok", its gradients as arrays)."""
    try:
        grads = scenario(T)
    except RuntimeError as e:
        return "raised", str(e)
    return "ok", [None if g is None else arr(g) for g in grads]


def assert_like_pytorch(scenario, rtol=1e-10):
    (ours, our_result), (theirs, their_result) = outcome(tl, scenario), outcome(torch, scenario)
    assert ours == theirs, f"tinygrad_lite {ours} ({our_result}), PyTorch {theirs} ({their_result})"
    if ours == "raised":
        assert STALE in our_result, our_result
    else:
        for a, b in zip(our_result, their_result, strict=True):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)
    return our_result


# ------------------------------------------------------------------------------------------------ 1. version counters
def test_every_in_place_write_counts_one_version_as_in_pytorch():
    def versions(T):
        x = f64(T, [1.0, -2.0, 3.0])
        seen = [x._version]
        for write in (lambda: x.fill_(1.0), lambda: x.__setitem__(0, 5.0), lambda: x.__iadd__(1.0),
                      lambda: x.__isub__(1.0), lambda: x.__imul__(2.0), lambda: x.__itruediv__(2.0),
                      lambda: x.add_(1.0), lambda: x.sub_(1.0), lambda: x.mul_(2.0), lambda: x.div_(2.0),
                      lambda: x.copy_(f64(T, [0.0, 1.0, 2.0])), lambda: x.zero_(), lambda: x.clamp_(0.0, 1.0),
                      lambda: x.uniform_(), lambda: x.normal_()):
            write()
            seen.append(x._version)
        view = x[1:]          # a view shares the counter of the tensor it shows, both ways
        view += 1.0
        detached = x.detach()  # and so does a detached tensor
        detached[0] = 2.0
        seen += [x._version, view._version, detached._version, x.reshape(3)._version, x.clone()._version]
        return seen

    assert versions(tl) == versions(torch)


def test_optimizer_steps_and_load_state_dict_count_as_in_place_writes():
    for T in (tl, torch):
        T.manual_seed(0)
        model = T.nn.Linear(2, 1)
        before = model.weight._version
        model(T.ones(3, 2)).sum().backward()
        T.optim.SGD(model.parameters(), lr=0.1).step()
        assert model.weight._version == before + 1, T.__name__
        model.load_state_dict({k: v + 1 for k, v in model.state_dict().items()})
        assert model.weight._version == before + 2, T.__name__
    w = tl.ones(2, requires_grad=True)
    for opt in (tl.optim.Adam, tl.optim.AdamW, tl.optim.RMSprop, tl.optim.Adagrad):
        version = w._version
        w.grad = tl.ones(2)
        opt([w], lr=0.1).step()
        assert w._version == version + 1, opt.__name__


def data_modified_after_mul(T):
    """The issue's example: x (data, no grad) is saved by the product, then changed with +=."""
    w, x = f64(T, [1.0, 2.0], True), f64(T, [1.0, 2.0])
    y = (w * x).sum()
    x += 10
    y.backward()
    return [w.grad]


def weight_written_under_no_grad_not_needed(T):
    """w[0] = 5 after the forward; backward needs only x (w * x with x constant), so the change is harmless."""
    w, x = f64(T, [1.0, 2.0], True), f64(T, [3.0, 4.0])
    y = (w * x).sum()
    with T.no_grad():
        w[0] = 5.0
    y.backward()
    return [w.grad]


def weight_written_under_no_grad_needed(T):
    """w * w needs w itself: writing w[0] under no_grad before backward is an error in PyTorch."""
    w, x = f64(T, [1.0, 2.0], True), f64(T, [3.0, 4.0])
    y = (w * w * x).sum()
    with T.no_grad():
        w[0] = 5.0
    y.backward()
    return [w.grad]


def saved_view_changed_through_its_base(T):
    x = f64(T, [[1.0, 2.0]])
    w = f64(T, [3.0, 4.0], True)
    y = (w * x[0]).sum()  # x[0] is a view of x: changing x changes it
    x[0, 1] = 7.0
    y.backward()
    return [w.grad]


def saved_value_changed_through_detach(T):
    w, x = f64(T, [1.0, 2.0], True), f64(T, [1.0, 2.0])
    y = (w * x).sum()
    x.detach().add_(5.0)
    y.backward()
    return [w.grad]


def matmul_input_zeroed(T):
    w, x = f64(T, W3x2, True), f64(T, X4x2)
    y = (x @ w.T).sum()
    x.zero_()
    y.backward()
    return [w.grad]


def matmul_weight_copied_into_data_path(T):
    """x @ w with x constant saves only x: overwriting w (copy_ under no_grad) is harmless, as in PyTorch."""
    w, x = f64(T, W3x2, True), f64(T, X4x2)
    y = (x @ w.T).sum()
    with T.no_grad():
        w.copy_(f64(T, np.ones((3, 2))))
    y.backward()
    return [w.grad]


def custom_function_saved_input_modified(T):
    class Double(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return g * a

    x = f64(T, [1.0, 2.0], True)
    b = x * 1.0
    y = Double.apply(b)
    with T.no_grad():
        b += 1
    y.sum().backward()
    return [x.grad]


def output_modified(op, under_no_grad):
    def scenario(T):
        x = f64(T, [0.5, 2.0], True)
        y = getattr(x * 1.0, op)()
        if under_no_grad:
            with T.no_grad():
                y += 1
        else:
            y += 1  # recorded in the graph (y is not a leaf)
        y.sum().backward()
        return [x.grad]
    scenario.__name__ = f"{op}_output_modified{'_under_no_grad' if under_no_grad else ''}"
    return scenario


def input_modified(op):
    def scenario(T):
        x = f64(T, [0.5, -2.0] if op != "log" else [0.5, 2.0], True)
        a = x * 2
        y = getattr(a, op)()
        with T.no_grad():
            a += 1
        y.sum().backward()
        return [x.grad]
    scenario.__name__ = f"{op}_input_modified"
    return scenario


def power_output_modified(exponent_requires_grad):
    """x ** 2 saves only x; x ** e with e requiring grad also saves the result (for dz/de = z ln x)."""
    def scenario(T):
        x, e = f64(T, [1.0, 2.0], True), f64(T, [2.0, 3.0], exponent_requires_grad)
        y = x ** (e if exponent_requires_grad else 2)
        y += 1
        y.sum().backward()
        return [x.grad]
    scenario.__name__ = f"power_output_modified{'_tensor_exponent' if exponent_requires_grad else ''}"
    return scenario


SCENARIOS = [power_output_modified(False), power_output_modified(True), data_modified_after_mul,
             weight_written_under_no_grad_not_needed, weight_written_under_no_grad_needed,
             saved_view_changed_through_its_base, saved_value_changed_through_detach, matmul_input_zeroed,
             matmul_weight_copied_into_data_path, custom_function_saved_input_modified]
SCENARIOS += [output_modified(op, flag) for op in ("exp", "sigmoid", "tanh", "relu", "sqrt", "log", "sin", "abs",
                                                   "neg") for flag in (True, False)]
SCENARIOS += [input_modified(op) for op in ("relu", "exp", "log", "abs", "sigmoid", "neg")]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_a_changed_saved_value_raises_exactly_where_pytorch_raises(scenario):
    assert_like_pytorch(scenario)


def mlp(T, hidden):
    """Linear(3, hidden) -> Tanh -> Linear(hidden, 1) (or one Linear(3, 1) if hidden is None), same weights in both."""
    rs = np.random.default_rng(1)
    layers = [T.nn.Linear(3, 1)] if hidden is None else [T.nn.Linear(3, hidden), T.nn.Tanh(), T.nn.Linear(hidden, 1)]
    model = T.nn.Sequential(*layers)
    model.load_state_dict({k: T.tensor(rs.standard_normal(tuple(v.shape)).astype(np.float32))
                           for k, v in model.state_dict().items()})
    return model, T.tensor(rs.standard_normal((5, 3)).astype(np.float32))


def step_before_backward(optimizer, hidden):
    """The classic misordered loop: forward, step, backward (twice, so that the step has gradients to apply)."""
    def scenario(T):
        model, x = mlp(T, hidden)
        opt = getattr(T.optim, optimizer)(model.parameters(), lr=0.1)
        for _ in range(2):
            loss = (model(x) ** 2).mean()
            opt.step()
            loss.backward()
        return [p.grad for p in model.parameters()]
    scenario.__name__ = f"{optimizer}_step_before_backward_{'linear' if hidden is None else 'mlp'}"
    return scenario


def load_state_dict_between_forward_and_backward(hidden):
    def scenario(T):
        model, x = mlp(T, hidden)
        loss = (model(x) ** 2).mean()
        model.load_state_dict({k: v + 1 for k, v in model.state_dict().items()})
        loss.backward()
        return [p.grad for p in model.parameters()]
    scenario.__name__ = f"load_state_dict_mid_graph_{'linear' if hidden is None else 'mlp'}"
    return scenario


def right_order(T):
    """zero_grad, backward, step: no error, and PyTorch's weights after three steps."""
    model, x = mlp(T, 4)
    opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return list(model.parameters())


TRAINING = [step_before_backward(name, hidden) for name in ("SGD", "Adam") for hidden in (None, 4)]
TRAINING += [load_state_dict_between_forward_and_backward(hidden) for hidden in (None, 4)] + [right_order]


@pytest.mark.parametrize("scenario", TRAINING, ids=lambda s: s.__name__)
def test_training_loops_in_the_wrong_order_raise_where_pytorch_raises(scenario):
    """With one Linear, backward needs no weight (only x), so PyTorch computes the gradient: so do we."""
    assert_like_pytorch(scenario, rtol=1e-5)


def test_the_error_names_the_op_the_tensor_the_versions_and_the_fix():
    status, message = outcome(tl, data_modified_after_mul)
    assert status == "raised"
    for text in ("MulBackward", "the input 1 of Mul", "(2,)", "version 1", "expected version 0", "x = x + 1",
                 "instead of x += 1" if "instead of x += 1" in message else "rather than x += 1",
                 "optimizer.zero_grad(), loss.backward(), optimizer.step()"):
        assert text in message, (text, message)
    status, message = outcome(tl, step_before_backward("SGD", 4))
    assert status == "raised" and "LinearBackward" in message and "(1, 4)" in message and "optimizer.step()" in message
    status, message = outcome(tl, output_modified("exp", True))
    assert status == "raised" and "the output of Exp" in message


def test_changes_made_through_data_count_too_on_purpose():
    """PyTorch does not count writes through .data (backward then silently uses the new numbers); we raise."""
    w, x = f64(tl, [1.0, 2.0], True), f64(tl, [1.0, 2.0])
    y = (w * x).sum()
    x.data += 5.0
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()
    y = (w * x).sum()
    x.data = f64(tl, [5.0, 5.0])
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()


def test_retain_graph_backward_twice_still_checks_versions():
    w, x = f64(tl, [1.0, 2.0], True), f64(tl, [3.0, 4.0])
    y = (w * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(arr(w.grad), [3.0, 4.0])
    x[0] = 0.0
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()


# ------------------------------------------------------------------------------------------------ 2. setitem
def rnn_buffer_fill(T):
    """h_t = tanh(W h_{t-1} + U x_t), written row by row into a preallocated buffer; the loss reads the buffer."""
    rs = np.random.default_rng(2)
    W, U = f64(T, rs.standard_normal((3, 3)) * 0.5, True), f64(T, rs.standard_normal((3, 2)), True)
    xs, h = f64(T, rs.standard_normal((5, 2))), f64(T, np.zeros(3))
    buf = T.zeros(5, 3, dtype=T.float64)
    for t in range(5):
        h = T.tanh(W @ h + U @ xs[t])
        buf[t] = h
    assert buf.requires_grad and not buf.is_leaf and buf.grad_fn is not None
    (buf * f64(T, rs.standard_normal((5, 3)))).sum().backward()
    return [W.grad, U.grad]


def rnn_buffer_fill_reading_back(T):
    """Each step reads the previous row back from the buffer: only elementwise ops on it, so nothing is stale."""
    rs = np.random.default_rng(3)
    U = f64(T, rs.standard_normal((3, 2)), True)
    xs = f64(T, rs.standard_normal((4, 2)))
    buf = T.zeros(4, 3, dtype=T.float64)
    buf[0] = T.tanh(U @ xs[0])
    for t in range(1, 4):
        buf[t] = T.tanh(buf[t - 1] * 0.5 + U @ xs[t])
    (buf ** 2).sum().backward()
    return [U.grad]


def rnn_buffer_fill_reading_back_through_matmul(T):
    """W @ buf[t-1] saves the row (a view of buf) for W's gradient; writing row t changes buf: PyTorch raises."""
    rs = np.random.default_rng(4)
    W = f64(T, rs.standard_normal((3, 3)), True)
    buf = T.zeros(3, 3, dtype=T.float64)
    buf[0] = T.tanh(W @ f64(T, np.ones(3)))
    for t in range(1, 3):
        buf[t] = T.tanh(W @ buf[t - 1])
    buf.sum().backward()
    return [W.grad]


def masked_fill_with_constant(T):
    x = f64(T, [1.0, -2.0, 3.0, -0.5], True)
    y = x * 2
    y[y < 0] = 0.0
    (y * f64(T, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    return [x.grad]


def masked_fill_with_scalar_that_requires_grad(T):
    x, v = f64(T, [1.0, -2.0, 3.0, -0.5], True), f64(T, 7.0, True)
    y = x * 2
    y[y > 0] = v * 2
    (y * f64(T, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    return [x.grad, v.grad]


def a_buffer_clamped_in_place_by_a_bound_that_requires_grad(T):
    """(r42) the buffer does not require grad, its bound does: the change is in the graph all the same."""
    w = f64(T, 2.0, True)
    buf = f64(T, [0.0, 1.0, 3.0, 4.0, 5.0, 6.0])
    buf.clamp_max_(w)
    buf.view(2, 3).clamp_min_(w * 0.75)
    buf.masked_fill_(buf < 1.6, w)
    (buf * buf).sum().backward()
    return [w.grad]


def masked_fill_with_vector_that_requires_grad(T):
    x, v = f64(T, [1.0, -2.0, 3.0, -0.5], True), f64(T, [10.0, 20.0], True)
    y = x.exp()
    mask = f64(T, [1.0, 0.0, 1.0, 0.0]) > 0
    y = y * 1.0  # exp saves its output: write into a copy
    y[mask] = v ** 2
    (y * f64(T, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    return [x.grad, v.grad]


def slices_and_broadcast_values(T):
    x, row, s = f64(T, X3x4, True), f64(T, [1.0, 2.0, 3.0], True), f64(T, 0.5, True)
    y = x * 1.0
    y[:, 1] = row * 3      # a column from a vector
    y[0, 2:] = s           # a scalar broadcast over two positions
    y[[1, 2], 0] = row[:2]  # integer arrays
    y[2:] = y[2:] * 0 + f64(T, [[9.0, 8.0, 7.0, 6.0]])  # a (1, 4) value into a (1, 4) slice
    (y * f64(T, np.arange(12.0).reshape(3, 4))).sum().backward()
    return [x.grad, row.grad, s.grad]


def value_with_an_extra_leading_dim(T):
    h, w = f64(T, [[1.0, 2.0]], True), f64(T, [3.0, 4.0], True)  # h is (1, 2), written into a (2,) row
    buf = T.zeros(2, 2, dtype=T.float64)
    buf[0] = h * w
    buf[1] = w
    (buf * f64(T, [[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return [h.grad, w.grad]


def copy_from_a_tensor_that_requires_grad(T):
    w = f64(T, [1.0, 2.0, 3.0], True)
    buf = T.zeros(3, dtype=T.float64)
    buf.copy_(w * w)
    (buf * f64(T, [1.0, 10.0, 100.0])).sum().backward()
    return [w.grad]


def in_place_arithmetic_on_activations(T):
    x, w = f64(T, [1.0, -2.0], True), f64(T, [0.5, 3.0], True)
    y = x * 2
    y += w
    y *= x
    y -= 1
    y /= w
    y.sum().backward()
    return [x.grad, w.grad]


def setitem_on_the_output_of_exp(T):
    x = f64(T, [1.0, 2.0], True)
    y = x.exp()
    y[0] = 0.0
    y.sum().backward()
    return [x.grad]


def setitem_on_a_product_with_a_constant(T):
    x = f64(T, [1.0, 2.0], True)
    y = x * 3
    y[0] = 0.0
    y.sum().backward()
    return [x.grad]


def setitem_under_no_grad_is_not_recorded(T):
    x = f64(T, [1.0, 2.0], True)
    y = x * 3
    with T.no_grad():
        y[0] = 10.0
    assert y.grad_fn is not None
    (y * y).sum().backward()  # Mul(y, y) saved y after the write: fine
    return [x.grad]


def loss_divided_in_place_for_gradient_accumulation(T):
    w = f64(T, [1.0, 2.0], True)
    for _ in range(2):
        loss = (w * w).sum()
        loss /= 4
        loss.backward()
    return [w.grad]


def outputs_masked_in_place(T):
    x, w = f64(T, [[1.0, -2.0], [3.0, -4.0]], True), f64(T, [[1.0, 0.5], [0.25, 2.0]], True)
    out = x @ w
    out[out < 0] = 0
    (out ** 2).sum().backward()
    return [x.grad, w.grad]


def a_write_that_reads_the_tensor_itself(T):
    x = f64(T, [1.0, 2.0, 3.0], True)
    y = x * 2
    y[0] = y[1] + y[2]
    (y * y).sum().backward()
    return [x.grad]


def sigmoid_output_scaled_in_place(T):
    x = f64(T, [1.0, 2.0], True)
    y = x.sigmoid()
    y.mul_(2)  # Sigmoid saved its output: PyTorch raises
    y.sum().backward()
    return [x.grad]


SETITEM = [loss_divided_in_place_for_gradient_accumulation, outputs_masked_in_place,
           a_write_that_reads_the_tensor_itself, sigmoid_output_scaled_in_place, rnn_buffer_fill,
           rnn_buffer_fill_reading_back, rnn_buffer_fill_reading_back_through_matmul, masked_fill_with_constant,
           masked_fill_with_scalar_that_requires_grad, masked_fill_with_vector_that_requires_grad,
           slices_and_broadcast_values, value_with_an_extra_leading_dim, copy_from_a_tensor_that_requires_grad,
           in_place_arithmetic_on_activations, setitem_on_the_output_of_exp, setitem_on_a_product_with_a_constant,
           setitem_under_no_grad_is_not_recorded, a_buffer_clamped_in_place_by_a_bound_that_requires_grad]


@pytest.mark.parametrize("scenario", SETITEM, ids=lambda s: s.__name__)
def test_setitem_and_in_place_ops_in_a_graph_give_pytorchs_gradients(scenario):
    assert_like_pytorch(scenario)


def test_rnn_buffer_fill_trains_its_weights():
    grads = assert_like_pytorch(rnn_buffer_fill)
    assert all(np.abs(g).sum() > 0 for g in grads)


@pytest.mark.parametrize("T", [tl, torch], ids=["tinygrad_lite", "torch"])
def test_setitem_on_a_leaf_that_requires_grad_raises(T):
    w = T.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w[0] = 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        w.copy_(T.zeros(3))


VIEW_CHANGES = {  # (session 41) an in-place change through a view made by indexing, as PyTorch records it
    "y[0][1] = v": lambda T, w, v: (lambda y: (y[0].__setitem__(1, v), y)[1])(w * 2),
    "y[:, 0] += v": lambda T, w, v: (lambda y: (y[:, 0].add_(v), y)[1])(w * 2),
    "view changed, then used": lambda T, w, v: (lambda y, s: (s.mul_(v), y * s.sum())[1])(*(lambda y: (y, y[1]))(
        w * 2)),
    "used, then view changed": lambda T, w, v: (lambda y, s: (lambda t: (s.add_(v), t + y)[1])(s * 3))(*(
        lambda y: (y, y[0]))(w * 1)),
    "a buffer out of the graph": lambda T, w, v: (lambda b: (b[:, 1].add_(w[:, 0] * v), b)[1])(T.zeros(2, 3)),
    "a view of a view": lambda T, w, v: (lambda y: (y[1][0:2].sub_(v), y)[1])(w + 1),
    # (session 47: through a reshape or a transpose too, recorded as the base's copy_ of the view shaped back)
    "y.view(6)[1:4] *= v": lambda T, w, v: (lambda y: (y.view(6)[1:4].mul_(v), y)[1])(w * 2),
    "y.t()[1] *= v": lambda T, w, v: (lambda y: (y.t()[1].mul_(v), y)[1])(w * 2),
    "y.t() += w.t() * v": lambda T, w, v: (lambda y: (y.t().add_(w.t() * v), y)[1])(w * 1),
    "y.permute(1, 0).zero_()": lambda T, w, v: (lambda y: (y.permute(1, 0).zero_(), y + w * v)[1])(w * 1),
    "y.unsqueeze(0)[0, 1, 0] = v": lambda T, w, v: (lambda y: (y.unsqueeze(0).__setitem__((0, 1, 0), v * 5), y)[1])(
        w * 1),
    "y.view(3, 2, 1).transpose(0, 1) *= v": lambda T, w, v: (lambda y: (y.view(3, 2, 1).transpose(0, 1).mul_(v),
                                                                        y)[1])(w * 1),
    "y.mT[0] += v, y then read through the view": lambda T, w, v: (lambda y, m: (m[0].add_(v), y * m.mT)[1])(
        *(lambda y: (y, y.mT))(w * 1)),
    "buffer.view(6)[2:5] = w[0] * v": lambda T, w, v: (lambda b: (b.view(6).__setitem__(slice(2, 5), w[0] * v), b)[1])(
        T.zeros(2, 3, dtype=T.float64)),
}


@pytest.mark.parametrize("name", list(VIEW_CHANGES))
def test_an_inplace_change_through_a_slice_is_recorded_on_the_tensor_it_views_as_pytorchs(name):
    """``y[:, 0] += v``, ``y[0][1] = v``, ``buf[i] += w``: the change is written into y and recorded there (as
    ``y[i] = y[i] + v``), and the view shows y's new state: values and gradients as PyTorch's."""
    results = []
    for T in (tl, torch):
        w = T.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
        v = T.tensor(0.5, requires_grad=True)
        out = VIEW_CHANGES[name](T, w, v)
        (out * out).sum().backward()
        results.append([out.detach().numpy(), w.grad.numpy(), v.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_what_an_inplace_change_of_a_view_still_refuses():
    """A change through a view of a leaf that requires grad is PyTorch's error; through an expanded view of a
    tensor in the graph, ours asks for an out-of-place op (PyTorch refuses it too: several places, one number)."""
    w = tl.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf tensor that requires grad"):
        w[0] += 1
    with pytest.raises(RuntimeError, match=r"a view made by Expand .*y = y.expand\(...\) \+ v"):
        (w * 2)[0].expand(2, 3).add_(1)
    y = w * 2
    y[0, 1] = 5.0  # (the index in one bracket: a write into y itself, as before)
    y.sum().backward()
    assert w.grad.tolist() == [[2.0, 0.0, 2.0], [2.0, 2.0, 2.0]]


def test_the_graph_of_a_buffer_fill_lists_each_state_once_after_its_inputs():
    """Ops recorded before a write use the buffer's earlier state; the engine and draw_graph follow them there."""
    from tinygrad_lite.autograd.engine import graph_order
    from tinygrad_lite.course.graph import draw_graph
    w = tl.ones(2, requires_grad=True)
    buf = tl.zeros(3, 2)
    buf[0] = w * 2
    for t in range(1, 3):
        buf[t] = buf[t - 1] * 0.5 + w
    loss = buf.sum()
    order = graph_order(loss, everything=True)
    position = {id(t): i for i, t in enumerate(order)}
    assert len(position) == len(order)
    for t in order:
        for x in (t.grad_fn.inputs if t.grad_fn else ()):
            x = tl.autograd.engine.input_as_used(x, t.grad_fn)
            assert position[id(x)] < position[id(t)]
    loss.backward()
    assert w.grad.tolist() == [6.0, 6.0]  # each row is 2w: row 0 = 2w, row t = row t-1 / 2 + w
    import matplotlib.pyplot as plt
    ax = draw_graph((buf * 1).sum())
    assert len(ax.texts) >= len(order)  # a labelled box per tensor and op
    plt.close(ax.figure)


def test_a_long_buffer_fill_lists_the_buffers_states_once_for_backward():
    """A loop of T writes leaves a chain of T states of the buffer; backward asks which state each op read. The
    chain is listed once and searched (``input_as_used``), not walked again for every op: over T = 3,000 steps the
    walks had made backward ten times slower than PyTorch's (r41). Also with a view of the whole buffer taken
    before the loop, which is made again after every write. (1,001 states: the zeros, then 1,000 writes.)"""
    for read_through_a_view in (False, True):
        w = tl.tensor(np.linspace(-1, 1, 8), requires_grad=True)
        buf = tl.zeros(1000, 8, dtype=tl.float64)
        whole = buf[:]
        buf[0] = w
        for t in range(1, 1000):
            buf[t] = ((whole if read_through_a_view else buf)[t - 1] * 0.5 + w).tanh()
        buf.sum().backward()
        states = buf._chain[2]
        assert len(states) == 1001 and [s for s in states if s._chain is not None] == [buf]
        assert np.isfinite(w.grad.numpy()).all()


def test_views_see_a_recorded_write():
    x = tl.zeros(2, 3)
    row = x[0]
    x[0] = tl.ones(3, requires_grad=True) * 2
    assert row.tolist() == [2.0, 2.0, 2.0]


# ------------------------------------------------------------------------------------------------ 3. the op contract
def custom(T, style, grads, forward=lambda a, b: a * b):
    """A two-input custom Function whose backward returns ``grads(g)``: PyTorch's style, or ours on arrays."""
    if style == "torch":
        class MyFn(T.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return forward(a, b)

            @staticmethod
            def backward(ctx, g):
                return grads(g)
    else:
        class MyFn(tl.autograd.Function):
            def forward(self, a, b):
                return forward(a, b)

            def backward(self, g):
                return grads(g)
    return MyFn


def run_custom(T, style, grads, forward=lambda a, b: a * b):
    a = T.ones(2, 3, dtype=T.float64, requires_grad=True)
    b = T.ones(2, 3, dtype=T.float64, requires_grad=True)
    custom(T, style, grads, forward).apply(a, b).sum().backward()
    return a.grad, b.grad


STYLES = [("torch", tl), ("torch", torch), ("ours", tl)]


@pytest.mark.parametrize("style,T", STYLES)
def test_too_few_gradients_is_an_error_naming_the_function(style, T):
    with pytest.raises(RuntimeError, match=r"function MyFnBackward returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        run_custom(T, style, lambda g: g)


@pytest.mark.parametrize("style,T", STYLES)
def test_too_many_gradients_is_an_error_but_trailing_nones_are_dropped(style, T):
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 3\)"):
        run_custom(T, style, lambda g: (g, g, g))
    ga, gb = run_custom(T, style, lambda g: (g * 2, g * 3, None))
    assert arr(ga).tolist() == [[2.0] * 3] * 2 and arr(gb).tolist() == [[3.0] * 3] * 2


@pytest.mark.parametrize("style,T", STYLES)
def test_a_gradient_of_the_wrong_shape_names_the_function_the_index_and_both_shapes(style, T):
    with pytest.raises(RuntimeError, match=r"unction MyFnBackward returned an invalid gradient at index 0 - got \[3\] "
                                           r"but expected shape compatible with \[2, 3\]"):
        run_custom(T, style, lambda g: (g.sum(0), g))
    with pytest.raises(RuntimeError, match=r"invalid gradient at index 1 - got \[4, 3\] but expected shape compatible "
                                           r"with \[2, 3\]"):
        run_custom(T, style, lambda g: (g, np.ones((4, 3)) if isinstance(g, np.ndarray) else g[:1].expand(4, 3)))


@pytest.mark.parametrize("style,T", STYLES)
def test_a_gradient_the_input_broadcasts_to_is_summed_down_as_in_pytorch(style, T):
    def broadcast(g):
        big = g.sum(0, keepdim=True).expand(5, 2, 3) if hasattr(g, "expand") else np.broadcast_to(
            g.sum(0, keepdims=True), (5, 2, 3))
        return big, g
    ga, _ = run_custom(T, style, broadcast)
    assert arr(ga).tolist() == [[10.0] * 3] * 2


@pytest.mark.parametrize("T", [tl, torch], ids=["tinygrad_lite", "torch"])
def test_a_gradient_for_an_argument_that_is_not_a_tensor_is_an_error(T):
    class Scale(T.autograd.Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    a = T.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="gradient different than None at position 2"):
        Scale.apply(a, 2.0).sum().backward()


def test_a_built_in_op_is_held_to_the_same_contract(monkeypatch):
    monkeypatch.setattr(Mul, "backward", lambda self, g: (g.sum(0), g))
    x = tl.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function MulBackward returned an invalid gradient at index 0 - got \[3\] "
                                           r"but expected shape compatible with \[2, 3\]"):
        (x * x).sum().backward()
    monkeypatch.setattr(Mul, "backward", lambda self, g: g)
    with pytest.raises(RuntimeError, match=r"function MulBackward returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        (x * x).sum().backward()


@pytest.mark.parametrize("T", [tl, torch], ids=["tinygrad_lite", "torch"])
def test_writing_a_value_that_requires_grad_into_an_integer_tensor_is_not_recorded(T):
    x, w = T.zeros(3, dtype=T.int64), T.tensor(2.5, requires_grad=True)
    x[0] = w
    assert x.tolist() == [2, 0, 0] and not x.requires_grad and x.grad_fn is None
    with pytest.raises(RuntimeError, match="can't be cast"):
        x += w


def test_a_gradient_that_is_not_an_array_names_the_function_and_the_index():
    with pytest.raises(RuntimeError, match="function MyFnBackward returned an object of type int as the gradient "
                                           "at index 1"):
        run_custom(tl, "ours", lambda g: (g, 3))
    ga, gb = run_custom(tl, "ours", lambda g: (tl.tensor(g * 2), g))  # a Tensor instead of an array is accepted
    assert arr(ga).tolist() == [[2.0] * 3] * 2


def test_one_element_picked_by_integers_is_a_view_as_pytorchs():
    """``a[0]`` (a 0-d result) shows a's number, as a slice shows its numbers: changing it changes a (numpy copies a
    lone number out; ``Index`` takes a 0-d view instead). r36: ``a[0].fill_(9)`` used to leave a unchanged."""
    results = []
    for lib in (tl, torch):
        seen = []
        a = lib.tensor([1.0, 2, 3])
        a[0].fill_(9)
        m = lib.tensor([[1.0, 2], [3, 4]])
        m[1, 0].add_(10)
        m[0][1].mul_(3)
        seen += [a.tolist(), m.tolist()]
        layer = lib.nn.Linear(2, 2)
        with lib.no_grad():
            layer.weight[0, 0].fill_(5.0)
        seen.append(float(layer.weight[0, 0]))
        w = lib.tensor([1.0, 2, 3], requires_grad=True)
        x = w * 1
        x[1].mul_(4)
        x.sum().backward()
        seen.append(w.grad.tolist())
        a = lib.tensor([1.0, 2, 3])
        for i in lib.tensor([2, 0]):  # a 0-d integer tensor indexes as an integer: a view too
            a[i].mul_(0)
        buffer = lib.zeros(3)
        buffer[1] = lib.tensor([5.0])  # a value of shape (1,) fills one place
        seen += [a.tolist(), buffer.tolist()]
        a = lib.tensor([1.0, 2, 3])
        a[np.array(1)].mul_(5)  # numpy's integers index as integers too
        w = lib.tensor([[1.0, 2, 3], [4, 5, 6]], requires_grad=True)
        y = w * 1
        y[np.int64(1)].mul_(2.0)
        y.sum().backward()
        seen += [a.tolist(), w.grad.tolist()]
        x = lib.tensor([1.0, 2, 3], requires_grad=True)
        y = x.exp()
        y[0].mul_(2)  # exp saved its output: the change is caught at backward
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        results.append(seen)
    assert results[0] == results[1]


# --------------------------------------------------------------------- 4. a view used after its base changed in place
def _index_then_mul(T, w):
    x = w * 1
    e = x[1]
    x.mul_(w)
    return e * 3


def _reshape_then_mul(T, w):
    x = w * 1
    e = x.view(3, 2)
    x.mul_(w)
    return e.sum(0)


def _chunks_then_mul(T, w):
    x = w * 1
    if T is torch:  # PyTorch refuses the pieces of chunk, split or unbind once their base changed in place (views
        x.mul_(w)   # made by one op that returns several): its gradient is that of the pieces taken after the change
    a, b = x.chunk(2, dim=1)
    if T is tl:  # ours are brought up to date as any view: a deliberate difference (inplace.fresh)
        x.mul_(w)
    return a * b


def _transposed_row_then_mul(T, w):
    x = w * 1
    e = x.t()[0]  # a view of a view: the transpose is made again, then the row of it
    x.mul_(w)
    return e


def _expanded_then_mul(T, w):
    x = w[0] * 1
    e = x.expand(4, 3)
    x.mul_(w[1])
    return e * T.arange(4.0, dtype=T.float64).reshape(4, 1)


def _buffer_row_then_written(T, w):
    buf = T.zeros(2, 3, dtype=T.float64)  # out of the graph when the row is taken
    row = buf[1]
    buf[1] = w[0] * 2
    return row * row


def _changed_twice_used_between(T, w):
    x = w * 1
    e = x[:, 1:]
    x.mul_(w)
    first = e * 2  # uses x after one change
    x.add_(w)
    return first + e  # ... and after two


def _stale_view_changed_in_place(T, w):
    x = w * 1
    e = x[0]
    x.mul_(w)
    e.add_(w[1])  # the view is brought up to date before its own change is recorded
    return x


def _used_before_and_after(T, w):
    x = w * 1
    e = x[1]
    before = e.exp()  # recorded with x as it was: its gradient must still reach w through that state
    x.mul_(w)
    return before + e


def _rnn_reads_a_row_after_the_buffer_grew(T, w):
    out = T.zeros(3, 3, dtype=T.float64)
    last = out[0]  # taken once, read at every step: it shows row 0 as it is now
    for t in range(3):
        out[t] = (last + w[t % 2]).tanh()
    return out + last


STALE_VIEWS = [_index_then_mul, _reshape_then_mul, _chunks_then_mul, _transposed_row_then_mul, _expanded_then_mul,
               _buffer_row_then_written, _changed_twice_used_between, _stale_view_changed_in_place,
               _used_before_and_after, _rnn_reads_a_row_after_the_buffer_grew]


@pytest.mark.parametrize("scenario", STALE_VIEWS, ids=lambda s: s.__name__.strip("_"))
def test_a_view_used_after_its_base_changed_in_place_has_pytorchs_gradient(scenario):
    """``e = x[1]; x.mul_(w); (e * 3).backward()``: e shows x's new numbers, and its gradient goes through x's new
    state, as PyTorch's (its grad_fn is made again when e is next used). Before session 47 it went through x's
    earlier state, silently missing the change. Values and the gradients of w equal PyTorch's (float64)."""
    results = []
    for T in (tl, torch):
        w = T.tensor(np.arange(1.0, 7.0).reshape(2, 3) / 4, requires_grad=True)
        out = scenario(T, w)
        assert out.requires_grad
        (out * out.detach().sin()).sum().backward()
        results.append((out.detach().numpy(), w.grad.numpy()))
    (ours, our_grad), (theirs, their_grad) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-12, atol=1e-15)


def test_a_stale_view_as_the_start_of_backward_and_under_create_graph():
    """``e.backward()`` and ``autograd.grad`` from the view itself, and a second derivative through it."""
    for T in (tl, torch):
        w = T.tensor([1.0, 2.0, 3.0], dtype=T.float64, requires_grad=True)
        x = w * 1
        e = x[1:]
        x.mul_(w)
        (g,) = T.autograd.grad(e.sum(), w, create_graph=True)
        assert g.tolist() == [0.0, 4.0, 6.0]  # d(w_i^2)/dw_i
        (gg,) = T.autograd.grad(g.sum(), w, retain_graph=True)
        assert gg.tolist() == [0.0, 2.0, 2.0]
        e.backward(T.ones(2, dtype=T.float64))
        assert w.grad.tolist() == [0.0, 4.0, 6.0]


def test_a_view_made_under_no_grad_is_refused_once_its_base_changed_in_the_graph():
    """PyTorch refuses it: which graph should the view have? Used under no_grad it is a plain tensor of the new
    numbers. (PyTorch refuses it after a change made under no_grad too; ours is then a plain tensor: the test's end.)"""
    for T in (tl, torch):
        w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = w * 1
        with T.no_grad():
            v = x[1:]
        x.mul_(w)
        with T.no_grad():
            assert (v + 0).tolist() == [4.0, 9.0]
        with pytest.raises(RuntimeError, match="created in no_grad mode"):
            v.sum()
    for T in (tl, torch):  # changed in place itself: refused whichever view of a chain was made under no_grad (r41)
        w = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        x = w * 1
        with T.no_grad():
            v, first = x[1:][0], w[:, 1:]
        with pytest.raises(RuntimeError, match="created in no_grad mode"):
            v.mul_(2)
        with pytest.raises(RuntimeError, match="created in no_grad mode"):
            first[1].zero_()  # (it would change the leaf w)
        assert w.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    with tl.no_grad():
        v = x[1:]
        x.mul_(2)  # not recorded: the view keeps no graph
    assert not (v * 1).requires_grad and v.tolist() == [4.0, 6.0]


def test_what_is_made_again_keeps_the_earlier_ops_and_is_not_done_twice():
    """Ops recorded before the change keep the view's earlier state (``_previous``); the view's grad_fn is made once
    per change, not at every use."""
    w = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    e = x[1:]
    first = e.grad_fn
    x.mul_(w)
    a = e * 1
    second = e.grad_fn
    b = e * 2
    assert second is not first and e.grad_fn is second and e._previous.grad_fn is first
    assert type(second).__name__ == "Index" and second.inputs[0] is x
    (a + b).sum().backward()
    assert w.grad.tolist() == [0.0, 12.0, 18.0]
    for T in (tl, torch):  # a row of a buffer written since: asked before it is used, it says so, as PyTorch's
        buf = T.zeros(2, 3)
        row = buf[1]
        buf[1] = T.ones(3, requires_grad=True) * 2
        assert row.requires_grad and not row.is_leaf


def test_views_are_brought_up_to_date_on_the_gpu_stand_in_too():
    """A row, a column of the transpose, an expanded row and a reshape, all taken before x.mul_(w): each gradient
    goes through x = w * w (the stand-in's arrays are views as CuPy's are)."""
    with FakeCuPy().install():
        w = tl.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device="cuda", requires_grad=True)
        x = w * 1
        row, column, expanded, reshaped = x[1], x.t()[0], x[0].expand(2, 3), x.view(3, 2)
        x.mul_(w)
        (row.sum() + column.sum() + expanded.sum() + reshaped.sum()).backward()
        assert row.device.type == "cuda"
        assert w.grad.cpu().tolist() == [[8.0, 12.0, 18.0], [24.0, 20.0, 24.0]]  # 2w x (number of views showing it)


@pytest.mark.parametrize("name, args", [("t_", ()), ("transpose_", (0, 1)), ("swapaxes_", (1, 0)),
                                        ("unsqueeze_", (1,)), ("squeeze_", ()), ("squeeze_", (0,))])
def test_the_in_place_view_methods_change_the_shape_as_pytorchs(name, args):
    """``x.t_()``, ``x.squeeze_()``...: x itself shows its numbers under the new shape (or order of dims), the
    numbers where they were, one version later; in the graph, as that view of x as it was."""
    results = []
    for T in (tl, torch):
        x = T.arange(6.0, dtype=T.float64).reshape(1, 2, 3)[0] if "squeeze" not in name else T.zeros(1, 3, 1)
        before = x._version
        same = getattr(x, name)(*args)
        w = T.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
        y = (w * 1).unsqueeze(0) if "squeeze" in name else w * 1
        getattr(y, name)(*args)
        (y * T.arange(6.0, dtype=T.float64).reshape(y.shape)).sum().backward()
        results.append([same is x, tuple(x.shape), x.tolist(), x._version - before, tuple(y.shape), w.grad.tolist()])
    assert results[0] == results[1]


def test_a_view_made_before_its_base_changed_shape_in_place_is_refused_in_the_graph():
    """``v = x[0]; x.t_()``: x shows its numbers in another order, so the op that made v (row 0) would now pick
    other numbers; used in the graph, v is refused with the fix (PyTorch's keeps its place in memory). Out of the
    graph it is plain memory, as PyTorch's; after ``x.data = ...`` it shows the old numbers, with its old graph."""
    w = tl.tensor(np.arange(1.0, 5.0).reshape(2, 2), requires_grad=True)
    x = w * 1
    row = x[0]
    x.t_()
    with pytest.raises(RuntimeError, match=r"made before it or the tensor it views changed its shape.*make the view"):
        row.mul_(w[1, 1])
    x.mul_(w)
    with pytest.raises(RuntimeError, match="make the view again"):
        row * 1
    for T in (tl, torch):
        x = T.arange(4.0).reshape(2, 2)
        row = x[0]
        x.t_()
        row.mul_(10)
        assert x.tolist() == [[0.0, 2.0], [10.0, 3.0]]
        w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = w * 1
        tail = x[1:]
        x.data = T.zeros(3)
        (tail * 2).sum().backward()
        assert tail.tolist() == [2.0, 3.0] and w.grad.tolist() == [0.0, 2.0, 2.0]


SHAPE_OF_A_VIEW = {  # (r43: these had written the view's numbers untransposed, or raised numpy's errors)
    "v.t_(), then the base changes": lambda T, b: (lambda v: (v.t_(), b.add_(100), v * v[0])[2])(b[1:, :2]),
    "v.t_(), then a write through v": lambda T, b: (lambda v: (v.t_(), v.mul_(-1), b * b)[2])(b[:, :2]),
    "v.unsqueeze_(0), a write, the base changes": lambda T, b: (lambda v: (v.unsqueeze_(0), v.mul_(-1), b.add_(10),
                                                                            v * 2 + b.sum())[3])(b[1:]),
    "v.squeeze_(1), then a write": lambda T, b: (lambda v: (v.squeeze_(1), v.mul_(-1), b * b)[2])(b[1:, 1:2]),
    "a reshape view squeeze_()d": lambda T, b: (lambda y: (y.squeeze_(), y.mul_(2), y * y)[2])(b.unsqueeze(0)),
    "a view of v taken before v.t_(), then written": lambda T, b: (lambda v, s: (v.t_(), s.mul_(3.0), b * b)[2])(
        *(lambda v: (v, v[0]))(b[:, :2])),
    "a view of v taken before v.t_(), the base changes": lambda T, b: (lambda v, s: (v.t_(), b.mul_(2), s * s)[2])(
        *(lambda v: (v, v[0]))(b[:, :2])),
}


@pytest.mark.parametrize("name", list(SHAPE_OF_A_VIEW))
def test_a_view_that_changes_its_own_shape_in_place_stays_a_view_of_its_base_as_pytorchs(name):
    """``v = b[1:, :2]; v.t_()``: v becomes the transpose of that view of b, still showing b's numbers, in the graph
    too: values and gradients as PyTorch's."""
    results = []
    for T in (tl, torch):
        x = T.arange(12.0, dtype=T.float64).reshape(3, 4).requires_grad_()
        out = SHAPE_OF_A_VIEW[name](T, x * 1)
        out.sum().backward()
        results.append([out.tolist(), x.grad.tolist()])
    assert results[0] == results[1]
    for T in (tl, torch):  # out of the graph: plain memory
        b = T.arange(12.0).reshape(3, 4)
        v = b[1:, :2]
        v.t_()
        v.mul_(-1)
        assert b[1:, :2].tolist() == [[-4.0, -5.0], [-8.0, -9.0]] and v.tolist() == [[-4.0, -8.0], [-5.0, -9.0]]
