"""The multi-tensor path of the optimizers (``foreach=None``/``True``, the default) against the per-parameter path
(``foreach=False``): the same numbers, bit for bit, in float64 and in float32.

Every optimizer with each of its options, over two parameter groups of small and large parameters (one larger than
an update block, which the multi-tensor path updates by itself), some without a gradient at some steps (skipped,
so their step counts differ from the others'); the state_dict in PyTorch's layout; a resume from a state_dict; a
learner's subclass that rewrites ``_update`` keeps the per-parameter path; the state's tensors stay views of the
flat arrays only while nothing replaced them.
"""
import copy

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import optim
from tinygrad_lite.optim.optimizer import BLOCK

SHAPES = [(6, 4), (6,), (), (BLOCK + 5,), (3, 6), (3,)]
STEPS = 4
OPTIONS = {
    "SGD": [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
            {"momentum": 0.5, "dampening": 0.3, "maximize": True}],
    "Adam": [{}, {"amsgrad": True, "weight_decay": 0.1}, {"maximize": True, "decoupled_weight_decay": True,
                                                          "weight_decay": 0.1}],
    "AdamW": [{}, {"amsgrad": True, "maximize": True}],
    "RMSprop": [{}, {"centered": True, "momentum": 0.9, "weight_decay": 0.1}, {"momentum": 0.5, "maximize": True},
                {"centered": True}],
    "Adagrad": [{}, {"lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.2, "maximize": True}],
}
CASES = [(name, options) for name, all_options in OPTIONS.items() for options in all_options]


def gradients(dtype, steps=STEPS, seed=0):
    """Start values and per-step gradients; parameters 2 and 5 have none at odd steps."""
    rs = np.random.default_rng(seed)
    start = [rs.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[None if i in (2, 5) and k % 2 else rs.standard_normal(s).astype(dtype) for i, s in enumerate(SHAPES)]
             for k in range(steps)]
    return start, grads


def make(name, options, foreach, start):
    params = [tl.tensor(a.copy(), requires_grad=True) for a in start]
    groups = [{"params": params[:3]}, {"params": params[3:], "lr": 0.003}]
    return params, getattr(optim, name)(groups, lr=0.01, foreach=foreach, **options)


def run(optimizer, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else tl.tensor(g)
        optimizer.step()


def state_arrays(optimizer):
    return {index: {key: np.array(value.numpy()) for key, value in state.items()}
            for index, state in optimizer.state_dict()["state"].items()}


def assert_same(params_a, params_b, opt_a, opt_b, exact):
    check = np.testing.assert_array_equal if exact else (lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6))
    for a, b in zip(params_a, params_b):
        check(a.detach().numpy(), b.detach().numpy())
    state_a, state_b = state_arrays(opt_a), state_arrays(opt_b)
    assert state_a.keys() == state_b.keys()
    for index in state_a:
        assert list(state_a[index]) == list(state_b[index])  # PyTorch's keys, in the same order
        for key in state_a[index]:
            assert state_a[index][key].dtype == state_b[index][key].dtype
            check(state_a[index][key], state_b[index][key])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, options", CASES, ids=[f"{n}-{'-'.join(o) or 'plain'}" for n, o in CASES])
def test_the_multi_tensor_path_gives_the_per_parameter_numbers(name, options, dtype):
    start, grads = gradients(dtype)
    results = {}
    for foreach in (False, None, True):
        params, optimizer = make(name, options, foreach, start)
        run(optimizer, params, grads)
        results[foreach] = params, optimizer
    for foreach in (None, True):  # float64: bit for bit; float32: within its rounding (bit for bit in practice)
        assert_same(*results[False][:1], *results[foreach][:1], results[False][1], results[foreach][1],
                    exact=dtype == "float64")


@pytest.mark.parametrize("name", OPTIONS)
def test_a_resume_from_a_state_dict_continues_the_same_numbers(name):
    """Save after two steps of the multi-tensor path, load into a fresh optimizer (of either path), step on."""
    options = OPTIONS[name][1] if len(OPTIONS[name]) > 1 else {}
    start, grads = gradients("float64")
    params, optimizer = make(name, options, None, start)
    run(optimizer, params, grads)
    saved = copy.deepcopy(optimizer.state_dict())
    assert all(not isinstance(v, tl.Tensor) or v.array.base is None for s in saved["state"].values()
               for v in s.values())  # (a copy of a view is no view)
    run(optimizer, params, grads)
    for foreach in (False, None):  # back to the state after two steps (parameters and optimizer), then on
        params_b, optimizer_b = make(name, options, foreach, start)
        run(optimizer_b, params_b, grads)
        optimizer_b.load_state_dict(saved)
        run(optimizer_b, params_b, grads)
        assert_same(params, params_b, optimizer, optimizer_b, exact=True)


def test_the_state_tensors_are_views_of_the_flat_arrays_and_stop_being_when_replaced():
    params, optimizer = make("Adam", {}, None, gradients("float64")[0])
    run(optimizer, params, gradients("float64")[1][:1])
    small = params[0]
    m = optimizer.state[small]["exp_avg"]
    assert m.array.base is not None  # a view of the group's flat array
    m.array = m.array.copy()  # set by hand: the next step must see and keep it
    m.array[...] = 7.0
    before = optimizer.state[small]["exp_avg_sq"].array.copy()
    small.grad = tl.zeros(small.shape, dtype=small.dtype)
    optimizer.step()
    np.testing.assert_array_equal(optimizer.state[small]["exp_avg"].array, 0.9 * 7.0)
    np.testing.assert_array_equal(optimizer.state[small]["exp_avg_sq"].array, 0.999 * before)


def test_a_copied_optimizer_steps_on_its_own_state():
    start, grads = gradients("float64")
    params, optimizer = make("Adam", {}, None, start)
    run(optimizer, params, grads[:2])
    twin_params, twin = copy.deepcopy((params, optimizer))  # (the flat arrays are not copied: made again)
    run(optimizer, params, grads[2:])
    run(twin, twin_params, grads[2:])
    for p, q in zip(params, twin_params):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


class LearnerSGD(optim.SGD):
    """A subclass that rewrites the per-parameter method, as lesson 04's learners write optimizers."""

    calls = 0

    def _update(self, param, group):
        LearnerSGD.calls += 1
        param.array -= group["lr"] * param.grad.array


class LearnerOptimizer(optim.Optimizer):
    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr, foreach=None))

    def _update(self, param, group):
        state = self.state[param]
        state["count"] = state.get("count", 0) + 1
        param.array -= group["lr"] * param.grad.array


@pytest.mark.parametrize("cls", [LearnerSGD, LearnerOptimizer])
def test_a_subclass_that_writes_its_own_update_gets_the_per_parameter_path(cls):
    params = [tl.tensor(np.ones(s), requires_grad=True) for s in [(3,), (2, 2), (4,)]]
    optimizer = cls(params, lr=0.1)
    LearnerSGD.calls = 0
    for p in params[:2]:
        p.grad = tl.ones(p.shape, dtype=p.dtype)
    optimizer.step()
    for p in params[:2]:
        np.testing.assert_array_equal(p.detach().numpy(), 0.9)
    np.testing.assert_array_equal(params[2].detach().numpy(), 1.0)
    if cls is LearnerSGD:
        assert LearnerSGD.calls == 2
    else:
        assert [optimizer.state[p]["count"] for p in params[:2]] == [1, 1] and params[2] not in optimizer.state


def test_plain_sgd_keeps_no_state_and_a_parameter_without_gradient_is_left_alone():
    start, grads = gradients("float64")
    params, optimizer = make("SGD", {}, None, start)
    run(optimizer, params, grads)
    assert optimizer.state_dict()["state"] == {}
    params, optimizer = make("Adam", {}, None, start)
    params[1].requires_grad_(False)
    run(optimizer, params, [[None if i == 1 else g for i, g in enumerate(step)] for step in grads])
    np.testing.assert_array_equal(params[1].detach().numpy(), start[1])
    assert 1 not in optimizer.state_dict()["state"]


def test_foreach_is_checked_and_kept_in_the_groups():
    w = tl.zeros(2, requires_grad=True)
    for foreach in (None, True, False):
        assert optim.Adam([w], foreach=foreach).param_groups[0]["foreach"] is foreach
    with pytest.raises(TypeError, match="foreach must be True, False or None"):
        optim.Adam([w], foreach="yes")


@pytest.mark.parametrize("foreach", [False, None])
def test_a_state_tensor_of_another_dtype_set_by_hand_is_refused_as_pytorch(foreach):
    """A float64 exp_avg put by hand beside a float32 parameter: PyTorch's step refuses it ("expected dtype double for
    `end` but got dtype float"), on both paths; so does ours, naming the parameter's dtype and the state's."""
    tl.manual_seed(0)
    params = [tl.nn.Parameter(tl.randn(3, 2)) for _ in range(3)]
    optimizer = optim.Adam(params, lr=0.1, foreach=foreach)
    for p in params:
        p.grad = tl.ones_like(p)
    optimizer.step()
    optimizer.state[params[1]]["exp_avg"] = optimizer.state[params[1]]["exp_avg"].double()
    with pytest.raises(RuntimeError, match="\\(float32\\) has state 'exp_avg' of shape \\(3, 2\\) \\(float64\\)"):
        optimizer.step()
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Parameter(torch.randn(3, 2))
    torch_optimizer = torch.optim.Adam([theirs], lr=0.1, foreach=bool(foreach))
    theirs.grad = torch.ones(3, 2)
    torch_optimizer.step()
    torch_optimizer.state[theirs]["exp_avg"] = torch_optimizer.state[theirs]["exp_avg"].double()
    with pytest.raises(RuntimeError, match="expected dtype double"):
        torch_optimizer.step()
