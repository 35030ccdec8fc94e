"""tinygrad_lite.optim against torch.optim: the same parameters after 100 steps on the same gradients.

Every optimizer runs with every combination of its options, from the same start, on one fixed sequence of
gradients (numpy, seeded; one parameter sometimes has no gradient, so it must be skipped). In float64 the
parameters and the optimizer state must equal PyTorch's to 1e-9 (relative), in float32 to float32 precision.
Then: parameter groups, changing lr, zero_grad, closures, state_dict layout and round trips in both directions,
what a step must not do (touch .grad, build a graph, replace the parameter's array), and the error messages.
"""
import copy
import io
import itertools
import warnings

import numpy as np
import pytest
import torch
from registry import OPTIMIZERS, SETTINGS

import tinygrad_lite as tg

SHAPES = [(3, 4), (4,), ()]
STEPS = 100


def gradient_sequence(steps=STEPS, seed=0):
    """The starting values and, for each step, one gradient per parameter (None: the parameter was unused)."""
    rs = np.random.default_rng(seed)
    start = [rs.standard_normal(s) for s in SHAPES]
    grads = [[rs.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    for k in range(3, steps, 7):
        grads[k][2] = None
    return start, grads


def make_params(start, dtype="float64"):
    ours = [tg.tensor(a.astype(dtype), requires_grad=True) for a in start]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in start]
    return ours, theirs


def set_grads(ours, theirs, grads, dtype="float64"):
    set_grads_of(tg, ours, grads, dtype)
    set_grads_of(torch, theirs, grads, dtype)


def set_grads_of(lib, params, grads, dtype="float64"):
    for p, g in zip(params, grads):
        p.grad = None if g is None else lib.tensor(g.astype(dtype))


def run(ours_opt, theirs_opt, ours, theirs, grads, dtype="float64", on_step=None):
    for k, step_grads in enumerate(grads):
        if on_step is not None:
            on_step(k)
        set_grads(ours, theirs, step_grads, dtype)
        ours_opt.step()
        theirs_opt.step()


def assert_params_equal(ours, theirs, rtol=1e-9, atol=1e-12):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        assert p.dtype.name == str(q.dtype).removeprefix("torch."), f"parameter {i}: dtype {p.dtype} vs {q.dtype}"
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"parameter {i}")


def assert_states_equal(ours_opt, theirs_opt, rtol=1e-9, atol=1e-12):
    ours_sd, theirs_sd = ours_opt.state_dict(), theirs_opt.state_dict()
    assert ours_sd["state"].keys() == theirs_sd["state"].keys()
    for index, theirs_state in theirs_sd["state"].items():
        ours_state = ours_sd["state"][index]
        assert ours_state.keys() == theirs_state.keys(), f"state {index}: {ours_state.keys()} vs {theirs_state.keys()}"
        for key, value in theirs_state.items():
            ours_value = ours_state[key]
            assert isinstance(ours_value, tg.Tensor), f"state {index} {key}: {type(ours_value).__name__}"
            assert tuple(ours_value.shape) == tuple(value.shape), f"state {index} {key}: shape"
            assert ours_value.dtype.name == str(value.dtype).removeprefix("torch."), f"state {index} {key}: dtype"
            np.testing.assert_allclose(ours_value.numpy(), value.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"state {index} {key}")


def compare_run(name, options, dtype="float64", rtol=1e-9, atol=1e-12):
    start, grads = gradient_sequence()
    ours, theirs = make_params(start, dtype)
    ours_opt, theirs_opt = getattr(tg.optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    run(ours_opt, theirs_opt, ours, theirs, grads, dtype)
    assert_params_equal(ours, theirs, rtol, atol)
    assert_states_equal(ours_opt, theirs_opt, rtol, atol)


def combinations(**choices):
    keys = list(choices)
    return [dict(zip(keys, values)) for values in itertools.product(*choices.values())]


SGD_OPTIONS = [o for o in combinations(lr=[0.05], momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True],
                                       weight_decay=[0, 0.1], maximize=[False, True])
               if not o["nesterov"] or (o["momentum"] > 0 and o["dampening"] == 0)]
ADAM_OPTIONS = combinations(lr=[0.05], amsgrad=[False, True], weight_decay=[0, 0.1], maximize=[False, True]) + [
    dict(lr=0.01, betas=(0.8, 0.9), eps=0.1), dict()]
RMSPROP_OPTIONS = combinations(lr=[0.01], centered=[False, True], momentum=[0, 0.9], weight_decay=[0, 0.1],
                               maximize=[False, True]) + [dict(lr=0.01, alpha=0.9, eps=0.1, centered=True), dict()]
ADAGRAD_OPTIONS = combinations(lr=[0.1], lr_decay=[0, 0.01], weight_decay=[0, 0.1],
                               initial_accumulator_value=[0, 0.5], maximize=[False, True]) + [
    dict(lr=0.1, eps=0.1), dict()]
OPTIONS = {"SGD": SGD_OPTIONS, "Adam": ADAM_OPTIONS, "AdamW": ADAM_OPTIONS, "RMSprop": RMSPROP_OPTIONS,
           "Adagrad": ADAGRAD_OPTIONS}
# every optimizer that optim exports (registry.py): its grid of options, or its defaults and its SETTINGS
CASES = [(name, o) for name in OPTIMIZERS for o in OPTIONS.get(name, [dict(), SETTINGS[name]])]


def case_id(case):
    name, options = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in options.items()) + ")"


# -------------------------------------------------------------------- the update rules
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_100_steps_match_pytorch_float64(case):
    compare_run(*case)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_100_steps_match_pytorch_float32(name):
    compare_run(name, SETTINGS[name], dtype="float32", rtol=1e-5, atol=1e-5)


def test_defaults_match_pytorch():
    """The same keys in the same order (PyTorch's implementation switches foreach, fused, differentiable, capturable
    included, issue 34), with the same values."""
    for name in OPTIMIZERS:
        ours = getattr(tg.optim, name)([tg.zeros(1, requires_grad=True)]).param_groups[0]
        theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).param_groups[0]
        assert list(ours) == list(theirs), f"{name}: param_group keys {list(ours)} vs torch {list(theirs)}"
        for key, value in ours.items():
            if key != "params":
                assert value == theirs[key], f"{name} default {key}: {value} vs torch {theirs[key]}"


def test_adamw_is_adam_with_decoupled_weight_decay():
    start, grads = gradient_sequence(steps=10)
    a, _ = make_params(start)
    b, _ = make_params(start)
    opt_a = tg.optim.AdamW(a, lr=0.05, weight_decay=0.1)
    opt_b = tg.optim.Adam(b, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)
    for g in grads:
        set_grads_of(tg, a, g)
        set_grads_of(tg, b, g)
        opt_a.step()
        opt_b.step()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.numpy(force=True), q.numpy(force=True))


def test_float32_parameters_stay_float32_and_state_follows():
    p = tg.zeros(3, requires_grad=True)
    p.grad = tg.ones(3)
    opt = tg.optim.Adam([p])
    opt.step()
    assert p.dtype == tg.float32
    assert opt.state[p]["exp_avg"].dtype == tg.float32 and opt.state[p]["step"].dtype == tg.float32
    np.testing.assert_allclose(p.detach().numpy(), -1e-3, rtol=1e-5)  # Adam's first step is lr * sign(g)


def test_float16_adam_with_the_default_eps_goes_to_inf_where_pytorchs_does():
    """(session 41) eps = 1e-8 is 0 in float16: where sqrt(v) / c rounds to 0, PyTorch's m / denom is inf, and a
    training loop's isnan check catches it; computed in float32, our step had been a jump of lr / eps instead."""
    results = []
    for lib in (tg, torch):
        p = lib.nn.Parameter(lib.tensor(np.linspace(-1, 1, 8), dtype=lib.float16))
        optimizer = lib.optim.Adam([p], lr=1e-2)
        for scale in (1e-5, 1e-2):
            p.grad = lib.tensor(np.linspace(-scale, scale, 8), dtype=lib.float16)
            optimizer.step()
        results.append(p.detach().float().numpy())
    np.testing.assert_array_equal(np.isfinite(results[0]), np.isfinite(results[1]))
    assert not np.isfinite(results[0]).all()


FLOAT16_RUNS = {"Adam": dict(lr=0.05), "AdamW": dict(lr=0.05, weight_decay=0.1, amsgrad=True),
                "RMSprop": dict(lr=0.01, centered=True, momentum=0.9), "RMSprop plain": dict(lr=0.01),
                "Adagrad": dict(lr=0.1), "SGD": dict(lr=0.01, momentum=0.9)}


@pytest.mark.parametrize("foreach", [False, True], ids=["per-parameter", "multi-tensor"])
@pytest.mark.parametrize("name", list(FLOAT16_RUNS))
def test_float16_parameters_step_as_pytorchs_do_in_float32_rounded_to_float16(name, foreach):
    """float16 parameters with gradients of up to about 1,000: a gradient's square is past float16's 65,504, but
    the terms the state keeps are not (Adam's (1 - beta2) g^2, RMSprop's (1 - alpha) g^2). PyTorch computes each op
    in float32 and rounds its result to float16 (squared in float16, Adam's v was inf and the parameters stopped).
    The parameters equal PyTorch's to 4 units of float16's last place at each tensor's largest number, the state to
    16 (PyTorch's own two paths differ by up to 3 in the parameters and 8 in RMSprop's momentum buffer). eps is
    1e-3: the default 1e-8 is 0 in float16, and a gradient of 1e-4 then makes PyTorch's parameter inf. Adagrad's
    sum of squares would be inf in both past 65,504, so its gradients stay smaller."""
    rng = np.random.default_rng(1)
    scales = [1, 300, 0.01, 400, 50, 250, 3, 100] if name != "Adagrad" else [1, 20, 0.01, 40, 5, 50, 3, 10]
    start = [rng.standard_normal(s).astype(np.float16) for s in [(20, 10), (10,), ()]]
    grads = [[(scale * rng.standard_normal(a.shape)).astype(np.float16) for a in start] for scale in scales]
    ours, theirs = make_params(start, "float16")
    options = dict(FLOAT16_RUNS[name], foreach=foreach, **({"eps": 1e-3} if name != "SGD" else {}))
    ours_opt = getattr(tg.optim, name.split()[0])(ours, **options)
    theirs_opt = getattr(torch.optim, name.split()[0])(theirs, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (PyTorch says nothing where float16 overflows; neither may we)
        run(ours_opt, theirs_opt, ours, theirs, grads, "float16")
    pairs = [(f"parameter {i}", p.detach(), q.detach()) for i, (p, q) in enumerate(zip(ours, theirs))]
    for i, (p, q) in enumerate(zip(ours, theirs)):
        pairs += [(f"parameter {i}'s {key}", ours_opt.state[p][key], value)
                  for key, value in theirs_opt.state[q].items() if key != "step"]
    for what, a, b in pairs:
        assert a.dtype == tg.float16, what
        b = b.numpy().astype(np.float32)
        ulp = 2.0 ** (np.floor(np.log2(np.abs(b).max())) - 10)  # (float16's spacing there: 11 bits)
        ulps = 4 if what.startswith("parameter") and what[-1].isdigit() else 16
        np.testing.assert_allclose(a.numpy().astype(np.float32), b, rtol=0, atol=ulps * ulp, err_msg=what)


def decay(name, value):
    """``weight_decay=value`` for an optimizer that has one (Rprop has none, as in PyTorch)."""
    return {"weight_decay": value} if name != "Rprop" else {}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_zero_lr_and_zero_gradients_leave_parameters_alone(name):
    """A warm-up schedule may start at lr = 0, and an unused weight can get exact zero gradients: no NaN."""
    ours, theirs = make_params([np.ones(3)])
    options = dict(SETTINGS[name], lr=0.0, **decay(name, 0))
    ours_opt, theirs_opt = getattr(tg.optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    with np.errstate(all="raise"):
        run(ours_opt, theirs_opt, ours, theirs, [[np.zeros(3)]] * 3)
    assert ours[0].tolist() == [1.0, 1.0, 1.0]
    assert_params_equal(ours, theirs)


# -------------------------------------------------------------------- groups, lr, zero_grad, closures
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_param_groups_with_their_own_hyperparameters(name):
    start, grads = gradient_sequence()
    ours, theirs = make_params(start)
    options = dict(SETTINGS[name])
    lr = options.pop("lr")
    ours_opt = getattr(tg.optim, name)([{"params": ours[:1], "lr": lr * 3}, {"params": ours[1:]}], lr=lr, **options)
    theirs_opt = getattr(torch.optim, name)([{"params": theirs[:1], "lr": lr * 3}, {"params": theirs[1:]}], lr=lr,
                                            **options)
    assert [g["lr"] for g in ours_opt.param_groups] == [lr * 3, lr]
    run(ours_opt, theirs_opt, ours, theirs, grads)
    assert_params_equal(ours, theirs)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_changing_lr_mid_run(name):
    start, grads = gradient_sequence()
    ours, theirs = make_params(start)
    ours_opt = getattr(tg.optim, name)(ours, **SETTINGS[name])
    theirs_opt = getattr(torch.optim, name)(theirs, **SETTINGS[name])

    def halve_lr_at_50(k):
        if k == 50:
            for opt in (ours_opt, theirs_opt):
                opt.param_groups[0]["lr"] /= 2
    run(ours_opt, theirs_opt, ours, theirs, grads, on_step=halve_lr_at_50)
    assert_params_equal(ours, theirs)


def test_add_param_group_later():
    start, grads = gradient_sequence()
    ours, theirs = make_params(start)
    ours_opt, theirs_opt = tg.optim.SGD(ours[:2], lr=0.1, momentum=0.9), torch.optim.SGD(theirs[:2], lr=0.1,
                                                                                      momentum=0.9)

    def add_at_20(k):
        if k == 20:
            ours_opt.add_param_group({"params": ours[2], "lr": 0.01})
            theirs_opt.add_param_group({"params": theirs[2], "lr": 0.01})
    run(ours_opt, theirs_opt, ours, theirs, grads, on_step=add_at_20)
    assert ours_opt.param_groups[1]["momentum"] == 0.9  # the constructor's value fills in
    assert_params_equal(ours, theirs)


def test_adagrad_param_added_later_gets_its_state():
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    opt = tg.optim.Adagrad([a], initial_accumulator_value=0.5)
    opt.add_param_group({"params": [b]})
    b.grad = tg.ones(2)
    opt.step()
    assert float(opt.state[b]["step"]) == 1 and opt.state[b]["sum"].tolist() == [1.5, 1.5]


def train_linear(lib, optimizer_name, set_to_none, steps=20):
    """A least-squares fit with backward(): gradients depend on the parameters, as in real training."""
    rs = np.random.default_rng(1)
    x, y, w0 = rs.standard_normal((8, 3)), rs.standard_normal((8, 1)), rs.standard_normal((3, 1))
    w = lib.tensor(w0, requires_grad=True)
    b = lib.tensor(np.zeros(1), requires_grad=True)
    opt = getattr(lib.optim, optimizer_name)([w, b], **SETTINGS[optimizer_name])
    xs, ys = lib.tensor(x), lib.tensor(y)
    for _ in range(steps):
        opt.zero_grad(set_to_none=set_to_none)
        loss = ((xs @ w + b - ys) ** 2).mean()
        loss.backward()
        opt.step()
    return w, b, opt


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_training_loop_with_backward_and_zero_grad(name, set_to_none):
    ours, theirs = train_linear(tg, name, set_to_none), train_linear(torch, name, set_to_none)
    assert_params_equal(ours[:2], theirs[:2])


def test_zero_grad_both_ways():
    p = tg.ones(3, requires_grad=True)
    opt = tg.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0, 0.0]  # the same tensor, filled with zeros
    (p * 2).sum().backward()
    assert p.grad.tolist() == [2.0, 2.0, 2.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradient: nothing moves
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_step_with_closure_returns_the_loss():
    p = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    q = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    results = []
    for lib, param in ((tg, p), (torch, q)):
        opt = lib.optim.SGD([param], lr=0.1, momentum=0.5)

        def closure(param=param, opt=opt):
            opt.zero_grad()
            loss = (param ** 2).sum()
            loss.backward()
            return loss
        with lib.no_grad():  # the closure still runs with gradients on
            losses = [opt.step(closure).item() for _ in range(5)]
        results.append(losses)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)


# -------------------------------------------------------------------- what a step must not do
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_leaves_grad_alone_builds_no_graph_and_updates_in_place(name):
    model = tg.nn.Linear(3, 2)
    options = dict(SETTINGS[name], maximize=True, **decay(name, 0.1))
    opt = getattr(tg.optim, name)(model.parameters(), **options)
    arrays = {id(p): p.array for p in model.parameters()}
    for _ in range(3):
        model.zero_grad()
        model(tg.ones(4, 3)).sum().backward()
        grads = {id(p): (p.grad, p.grad.numpy().copy()) for p in model.parameters()}
        before = model.weight.detach().numpy().copy()
        opt.step()
        for p in model.parameters():
            grad, values = grads[id(p)]
            assert p.grad is grad and np.array_equal(p.grad.numpy(), values), "step changed .grad"
            assert p.is_leaf and p.grad_fn is None and p.requires_grad
            assert p.array is arrays[id(p)], "step replaced the parameter's array instead of updating it in place"
        assert not np.array_equal(model.weight.detach().numpy(), before)  # the model sees the update
    out = model(tg.ones(1, 3)).sum()
    assert out.grad_fn is not None  # training goes on as usual


def test_step_with_grad_enabled_still_records_nothing():
    p = tg.ones(2, requires_grad=True)
    p.grad = tg.ones(2)
    opt = tg.optim.RMSprop([p], momentum=0.9, centered=True)
    with tg.enable_grad():
        opt.step()
    assert p.is_leaf and all(not s.requires_grad for s in opt.state[p].values())


# -------------------------------------------------------------------- state_dict
def state_dict_structure(sd):
    """The layout of a state_dict of either library: keys, shapes, dtypes, hyperparameters (the keys in order)."""
    state = {index: {key: (tuple(v.shape), str(v.dtype).split(".")[-1]) for key, v in s.items()}
             for index, s in sd["state"].items()}
    groups = [list(g.items()) for g in sd["param_groups"]]
    return state, groups


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_has_pytorchs_layout(name):
    start, grads = gradient_sequence(steps=3)
    ours, theirs = make_params(start)
    groups = lambda params: [{"params": params[:1], "lr": 0.5}, {"params": params[1:]}]  # noqa: E731
    ours_opt = getattr(tg.optim, name)(groups(ours), **SETTINGS[name])
    theirs_opt = getattr(torch.optim, name)(groups(theirs), **SETTINGS[name])
    assert state_dict_structure(ours_opt.state_dict()) == state_dict_structure(theirs_opt.state_dict())  # step 0
    run(ours_opt, theirs_opt, ours, theirs, grads)
    ours_sd, theirs_sd = ours_opt.state_dict(), theirs_opt.state_dict()
    assert state_dict_structure(ours_sd) == state_dict_structure(theirs_sd)
    assert [g["params"] for g in ours_sd["param_groups"]] == [[0], [1, 2]]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_round_trip_continues_identically(name):
    start, grads = gradient_sequence()
    a, _ = make_params(start)
    opt_a = getattr(tg.optim, name)(a, **SETTINGS[name])
    for g in grads[:50]:
        set_grads_of(tg, a, g)
        opt_a.step()
    b = [tg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in a]
    opt_b = getattr(tg.optim, name)(b, lr=123.0)  # the loaded hyperparameters replace these
    opt_b.load_state_dict(opt_a.state_dict())
    assert opt_b.param_groups[0]["lr"] == SETTINGS[name]["lr"]
    for g in grads[50:]:  # both keep stepping: the loaded state is a copy, not shared
        set_grads_of(tg, a, g)
        opt_a.step()
        set_grads_of(tg, b, g)
        opt_b.step()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_state_dict_survives_deepcopy_as_a_snapshot():
    start, grads = gradient_sequence(steps=20)
    a, _ = make_params(start)
    opt = tg.optim.Adam(a, lr=0.1)
    for g in grads[:10]:
        set_grads_of(tg, a, g)
        opt.step()
    snapshot = copy.deepcopy(opt.state_dict())
    assert float(snapshot["state"][0]["step"]) == 10
    opt.step()
    assert float(snapshot["state"][0]["step"]) == 10 and float(opt.state_dict()["state"][0]["step"]) == 11


@pytest.mark.parametrize("convert", ["ours", "torch"], ids=["converted", "torch tensors as they are"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_loading_a_pytorch_state_dict_continues_identically(name, convert):
    start, grads = gradient_sequence()
    ours, theirs = make_params(start)
    theirs_opt = getattr(torch.optim, name)(theirs, **SETTINGS[name])
    for g in grads[:50]:
        set_grads_of(torch, theirs, g)
        theirs_opt.step()
    sd = copy.deepcopy(theirs_opt.state_dict())
    if convert == "ours":
        sd["state"] = {i: {k: tg.tensor(v.numpy()) for k, v in s.items()} for i, s in sd["state"].items()}
    for p, q in zip(ours, theirs):
        p.data = q.detach().numpy().copy()
    ours_opt = getattr(tg.optim, name)(ours)
    ours_opt.load_state_dict(sd)
    run(ours_opt, theirs_opt, ours, theirs, grads[50:])
    assert_params_equal(ours, theirs)
    assert_states_equal(ours_opt, theirs_opt)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_param_groups_interchange_with_pytorchs_key_for_key(name):
    """Both libraries' param_groups hold the same keys (issue 34): a state_dict loaded in either direction gives back
    the same groups, and an Adam state_dict loaded into AdamW decays decoupled in both (AdamW's __setstate__)."""
    groups = {}
    for lib, other in ((tg, torch), (torch, tg)):
        saved = getattr(other.optim, name)([other.zeros(2, requires_grad=True)], **SETTINGS[name]).state_dict()
        optimizer = getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)])
        optimizer.load_state_dict({"state": {}, "param_groups": saved["param_groups"]})
        groups[lib] = (optimizer.state_dict()["param_groups"], saved["param_groups"])
        adamw = lib.optim.AdamW([lib.zeros(2, requires_grad=True)])
        adamw.load_state_dict(other.optim.Adam([other.zeros(2, requires_grad=True)]).state_dict())
        assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    assert groups[tg][0] == groups[tg][1] == groups[torch][0] == groups[torch][1]


def test_our_state_dict_loads_into_pytorch():
    start, grads = gradient_sequence()
    ours, theirs = make_params(start)
    ours_opt = tg.optim.Adam(ours, **SETTINGS["Adam"])
    for g in grads[:50]:
        set_grads_of(tg, ours, g)
        ours_opt.step()
    sd = ours_opt.state_dict()
    sd = {"state": {i: {k: torch.tensor(v.numpy()) for k, v in s.items()} for i, s in sd["state"].items()},
          "param_groups": copy.deepcopy(sd["param_groups"])}
    for p, q in zip(ours, theirs):
        q.data = torch.tensor(p.detach().numpy().copy())
    theirs_opt = torch.optim.Adam(theirs)
    theirs_opt.load_state_dict(sd)
    run(ours_opt, theirs_opt, ours, theirs, grads[50:])
    assert_params_equal(ours, theirs)


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    p = tg.zeros(3, requires_grad=True)  # float32
    opt = tg.optim.Adam([p])
    state = {"step": torch.tensor(4.0), "exp_avg": np.ones(3), "exp_avg_sq": tg.ones(3, dtype=tg.float64)}
    opt.load_state_dict({"state": {0: state}, "param_groups": [dict(opt.state_dict()["param_groups"][0])]})
    assert opt.state[p]["exp_avg"].dtype == tg.float32 and opt.state[p]["exp_avg_sq"].dtype == tg.float32
    assert opt.state[p]["step"].dtype == tg.float32 and float(opt.state[p]["step"]) == 4
    old_style = {"state": {0: dict(state, step=4)}, "param_groups": opt.state_dict()["param_groups"]}
    opt.load_state_dict(old_style)  # a step stored as a plain number (old PyTorch checkpoints) becomes a tensor
    assert isinstance(opt.state[p]["step"], tg.Tensor) and float(opt.state[p]["step"]) == 4


def test_load_state_dict_keeps_a_python_number_in_the_state_as_pytorch():
    """A subclass that counts its steps with a Python int gets the int back after a load (PyTorch keeps any value
    that is not a tensor); only the library's own tensor-step optimizers (above) turn it into a tensor."""
    def counting(lib):
        class Counting(lib.optim.Optimizer):
            def __init__(self, params):
                super().__init__(params, {"lr": 0.1})

            def step(self):
                pass
        return Counting

    loaded = {}
    for lib in (tg, torch):
        p = lib.zeros(3, requires_grad=True, dtype=lib.float64)
        opt = counting(lib)([p])
        opt.state[p].update(step=3, scale=2.5, buf=lib.ones(3, dtype=lib.float64))
        new = counting(lib)([p])
        new.load_state_dict(opt.state_dict())
        loaded[lib] = new.state[p]
    for key in ("step", "scale"):
        assert type(loaded[tg][key]) is type(loaded[torch][key]) and loaded[tg][key] == loaded[torch][key]
    assert type(loaded[tg]["step"]) is int and loaded[tg]["buf"].dtype == tg.float64


def learners_adam(lib, tensor_step):
    """Adam as a learner writes it in PyTorch's style: ``add_(..., alpha=)``, ``addcmul_``, ``addcdiv_(...,
    value=)``. With ``tensor_step`` the step is a float32 0-d tensor (PyTorch's own choice), so the bias corrections
    are 0-d tensors too and ``value=-lr / bias_correction1`` hands ``addcdiv_`` a 0-d tensor; else a Python int."""
    class LearnersAdam(lib.optim.Optimizer):
        def __init__(self, params, lr=0.05, betas=(0.9, 0.999), eps=1e-8):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

        @lib.no_grad()
        def step(self):
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state["step"] = lib.tensor(0.0) if tensor_step else 0
                        state["exp_avg"], state["exp_avg_sq"] = lib.zeros_like(p), lib.zeros_like(p)
                    state["step"] += 1
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                    v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                    bias_correction1, bias_correction2 = 1 - beta1 ** state["step"], 1 - beta2 ** state["step"]
                    denom = (v.sqrt() / float(bias_correction2) ** 0.5).add_(group["eps"])
                    p.addcdiv_(m, denom, value=-group["lr"] / bias_correction1)
    return LearnersAdam


@pytest.mark.parametrize("tensor_step", [False, True], ids=["int step", "tensor step"])
def test_a_learners_adam_resumed_from_a_saved_state_dict_ends_exactly_where_the_uninterrupted_run_does(tensor_step):
    """A learner's float64 Adam resumed at step 25 of 50 ended 6.9e-9 away from the uninterrupted run: its int step
    came back as a float32 tensor. The step keeps its type through save and load (PyTorch keeps a number a number),
    and a 0-d tensor is accepted for ``value``/``alpha`` as PyTorch accepts one (issue 34, item 13)."""
    start = np.linspace(-1.0, 2.0, 5)

    def train(lib, resume_at=None):
        w = lib.tensor(start, requires_grad=True)
        opt = learners_adam(lib, tensor_step)([w])
        for step in range(50):
            if step == resume_at:
                buffer = io.BytesIO()
                lib.save(opt.state_dict(), buffer)
                buffer.seek(0)
                opt = learners_adam(lib, tensor_step)([w])
                opt.load_state_dict(lib.load(buffer))
                assert type(opt.state[w]["step"]) is (lib.Tensor if tensor_step else int)
            opt.zero_grad()
            ((w - 0.5) ** 4).sum().backward()
            opt.step()
        return w.detach().numpy().copy()

    ours = train(tg)
    np.testing.assert_array_equal(train(tg, resume_at=25), ours)
    # with a float32 step the bias corrections are float32 powers, which numpy and PyTorch may round 1 ulp apart
    np.testing.assert_allclose(ours, train(torch), rtol=1e-6 if tensor_step else 1e-12, atol=1e-15)


# -------------------------------------------------------------------- errors
def test_load_state_dict_errors_name_the_mismatch():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)
    opt = tg.optim.SGD([a, b], lr=0.1, momentum=0.9)
    two_groups = tg.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups: 2 in the state_dict, 1 in this"):
        opt.load_state_dict(two_groups)
    one_param = tg.optim.SGD([a], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="group 0 has 1 parameters in the state_dict and 2 in this optimizer"):
        opt.load_state_dict(one_param)
    bad_shape = {"state": {1: {"momentum_buffer": tg.zeros(5)}}, "param_groups": opt.state_dict()["param_groups"]}
    with pytest.raises(ValueError, match=r"'momentum_buffer': has shape \(5,\), its parameter has \(3,\)"):
        opt.load_state_dict(bad_shape)
    with pytest.raises(ValueError, match="a model's state_dict goes to model.load_state_dict"):
        opt.load_state_dict(tg.nn.Linear(2, 2).state_dict())
    assert opt.param_groups[0]["momentum"] == 0.9 and not opt.state  # a failed load changed nothing


def test_parameter_errors():
    w = tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        tg.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        tg.optim.SGD(w, lr=0.1)
    for params in ({w}, [{"params": {w}}]):
        with pytest.raises(TypeError, match="ordered collections"):
            tg.optim.SGD(params, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors, but one of the params is list"):
        tg.optim.SGD([[1.0, 2.0]], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        tg.optim.Adam([w * 2])
    with pytest.raises(TypeError, match="floating point tensors, one of the params is tinygrad_lite.int64"):
        tg.optim.Adam([tg.tensor([1, 2])])
    with pytest.raises(ValueError, match="more than once"):
        tg.optim.Adam([w, w])
    opt = tg.optim.Adam([w])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(KeyError, match="expected a dict with a 'params' entry, got {'lr': 0.1}"):
        opt.add_param_group({"lr": 0.1})
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("make, message", [
    (lambda p: tg.optim.SGD(p, lr=-0.1), "SGD: Invalid learning rate: -0.1"),
    (lambda p: tg.optim.SGD(p, momentum=-1), "SGD: Invalid momentum value: -1"),
    (lambda p: tg.optim.SGD(p, weight_decay=-1), "SGD: Invalid weight_decay value: -1"),
    (lambda p: tg.optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: tg.optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "requires a momentum and zero damp"),
    (lambda p: tg.optim.Adam(p, lr=-1), "Adam: Invalid learning rate: -1"),
    (lambda p: tg.optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: tg.optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: tg.optim.Adam(p, eps=-1), "Invalid epsilon value: -1"),
    (lambda p: tg.optim.AdamW(p, weight_decay=-1), "AdamW: Invalid weight_decay value: -1"),
    (lambda p: tg.optim.RMSprop(p, alpha=-1), "RMSprop: Invalid alpha value: -1"),
    (lambda p: tg.optim.RMSprop(p, momentum=-1), "RMSprop: Invalid momentum value: -1"),
    (lambda p: tg.optim.Adagrad(p, lr_decay=-1), "Adagrad: Invalid lr_decay value: -1"),
    (lambda p: tg.optim.Adagrad(p, initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
])
def test_bad_hyperparameters_fail_like_pytorch(make, message):
    with pytest.raises(ValueError, match=message):
        make([tg.zeros(2, requires_grad=True)])


def test_repr_lists_each_group():
    opt = tg.optim.SGD([{"params": [tg.zeros(1, requires_grad=True)], "lr": 0.5}], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.5\n" in text and "momentum: 0.9" in text


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("groups", ["one", "two", "named", "two named"])
def test_repr_equals_pytorchs(name, groups):
    """Character for character, a blank line between groups and ``param_names`` among the settings included."""
    def build(lib):
        w, b = lib.zeros(2, 2, requires_grad=True), lib.zeros(2, requires_grad=True)
        params = {"one": [w, b], "two": [{"params": [w]}, {"params": [b], "lr": 0.5}],
                  "named": [("weight", w), ("bias", b)],
                  "two named": [{"params": [("weight", w)]}, {"params": [("bias", b)], "weight_decay": 0.0}]}[groups]
        return repr(getattr(lib.optim, name)(params, **SETTINGS[name]))
    assert build(tg) == build(torch)


def test_adagrad_fills_every_accumulator_from_the_constructor_value_as_pytorch():
    """PyTorch's Adagrad reads initial_accumulator_value from the constructor (``self.defaults``), never from a group:
    a group's own value, given in its dict or with add_param_group, is kept in the group but fills nothing."""
    start, grads = gradient_sequence(steps=10)
    results = []
    for lib, params in zip((tg, torch), make_params(start)):
        opt = lib.optim.Adagrad([{"params": params[:1], "initial_accumulator_value": 5.0}, {"params": params[1:2]}],
                                lr=0.1, initial_accumulator_value=0.5)
        opt.add_param_group({"params": params[2:], "initial_accumulator_value": 3.0})
        for step_grads in grads:
            set_grads_of(lib, params, step_grads)
            opt.step()
        results.append((params, [g["initial_accumulator_value"] for g in opt.param_groups],
                        [opt.state[p]["sum"].detach().numpy() for p in params]))
    (ours, our_values, our_sums), (theirs, their_values, their_sums) = results
    assert our_values == their_values == [5.0, 0.5, 3.0]
    assert_params_equal(ours, theirs)
    for mine, pytorchs in zip(our_sums, their_sums):
        np.testing.assert_allclose(mine, pytorchs, rtol=1e-12)
    first = sum(g[0] ** 2 for g in grads if g[0] is not None)
    np.testing.assert_allclose(our_sums[0], 0.5 + first, rtol=1e-12)  # 0.5 from the constructor, not the group's 5


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_named_parameters_as_pytorch_keeps_them(name):
    """``Optimizer(model.named_parameters())`` (PyTorch >= 2.6): the names go to each group's "param_names", in
    state_dict() too; the steps are those of the unnamed parameters; load_state_dict keeps a group's names when the
    loaded group has none; mixing named and unnamed is a ValueError, as in PyTorch."""
    start, grads = gradient_sequence(steps=5)
    ours, theirs = make_params(start)
    names = [f"p{i}" for i in range(len(ours))]
    groups = lambda params: [{"params": list(zip(names[:1], params[:1])), "lr": 0.5},  # noqa: E731
                             {"params": zip(names[1:], params[1:])}]
    ours_opt = getattr(tg.optim, name)(groups(ours), **SETTINGS[name])
    theirs_opt = getattr(torch.optim, name)(groups(theirs), **SETTINGS[name])
    assert [g["param_names"] for g in ours_opt.param_groups] == [["p0"], ["p1", "p2"]]
    run(ours_opt, theirs_opt, ours, theirs, grads)
    assert_params_equal(ours, theirs)
    ours_sd, theirs_sd = ours_opt.state_dict(), theirs_opt.state_dict()
    assert state_dict_structure(ours_sd) == state_dict_structure(theirs_sd)
    assert [list(g) for g in ours_sd["param_groups"]] == [list(g) for g in theirs_sd["param_groups"]]  # key order
    for sd in (ours_sd, theirs_sd):  # a state_dict without names keeps the optimizer's own
        for group in sd["param_groups"]:
            del group["param_names"]
    for lib, opt in ((tg, ours_opt), (torch, theirs_opt)):
        opt.load_state_dict(ours_sd if lib is tg else theirs_sd)
        assert [g["param_names"] for g in opt.param_groups] == [["p0"], ["p1", "p2"]]
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=f"{name}: all optimizer params should be with or without names"):
        getattr(tg.optim, name)([("a", a), b])
    with pytest.raises(ValueError, match="cannot add a group without names"):
        getattr(tg.optim, name)([("a", a)]).add_param_group({"params": [b]})


def test_what_old_optimizer_code_writes_works_as_in_pytorch():
    """(session 41, training loops run in both libraries) optimizers written before PyTorch 1.5 put the number first,
    ``p.data.add_(-lr, d_p)`` and ``v.addcmul_(1 - beta2, g, g)``: PyTorch takes that order with a deprecation
    warning, and so do we; ``nn.utils.clip_grad_norm`` (no underscore) warns and clips; a subclass's
    ``__setstate__`` calls ``super().__setstate__``; a loaded group keeps the saved order of its settings; a group
    without params is a KeyError."""
    results = []
    for T in (torch, tg):
        x = T.ones(3)
        tg.warning_level._warned.clear()  # (each warns once per process; PyTorch's once for all four: not checked)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x.add_(-0.5, T.full((3,), 2.0))
            y = x.sub(2, T.ones(3))
            y.addcmul_(0.5, T.full((3,), 2.0), T.full((3,), 3.0))
            z = y.addcdiv(2, T.full((3,), 3.0), T.full((3,), 4.0))
        if T is tg:
            assert [str(w.message).split(":")[0] for w in caught] == [
                f"This overload of {op} is deprecated" for op in ("add_", "sub", "addcmul_", "addcdiv")]
        p = T.nn.Parameter(T.ones(2))
        p.grad = T.full((2,), 3.0)
        with pytest.warns(FutureWarning, match="clip_grad_norm_"):
            norm = T.nn.utils.clip_grad_norm([p], 1.0)

        class Old(T.optim.SGD):
            def __setstate__(self, state):
                super().__setstate__(state)
                for group in self.param_groups:
                    group.setdefault("nesterov", False)

        copied = copy.deepcopy(Old([p], lr=0.1))
        loaded = T.optim.Adam([T.nn.Parameter(T.ones(2))], lr=0.5)
        loaded.load_state_dict(T.optim.Adam([p], lr=0.1, amsgrad=True).state_dict())
        with pytest.raises(KeyError):
            T.optim.SGD([{"lr": 0.1}], lr=0.1)
        results.append((x.tolist(), z.tolist(), round(norm.item(), 4), p.grad.tolist(), copied.defaults["lr"],
                        list(loaded.param_groups[0])))
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)
    assert [r[:1] + r[2:] for r in results[1:]] == [results[0][:1] + results[0][2:]]


def test_optimizer_hooks_run_as_pytorchs():
    """(session 42) step pre and post hooks (a pre hook may replace the arguments), the global step hooks, and the
    state_dict and load_state_dict hooks, in PyTorch's order; each handle removes its hook."""
    import importlib

    def run(lib):
        module, log = importlib.import_module(lib.__name__ + ".optim.optimizer"), []
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.1)
        pre = opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", len(args), sorted(kwargs))))
        opt.register_step_post_hook(lambda o, args, kwargs: log.append("post"))
        opt.register_state_dict_pre_hook(lambda o: log.append("sd pre"))
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        opt.register_load_state_dict_pre_hook(lambda o, sd: log.append(("load pre", sorted(sd))))
        opt.register_load_state_dict_post_hook(lambda o: log.append("load post"))
        every = module.register_optimizer_step_pre_hook(lambda o, args, kwargs: log.append("global"))
        after = module.register_optimizer_step_post_hook(lambda o, args, kwargs: log.append("global post"))
        w.grad = lib.ones(2)
        opt.step(closure=lambda: lib.tensor(1.0))  # (the hooks see closure= as a keyword, as it was passed)
        pre.remove()
        every.remove()
        after.remove()
        opt.step(closure=lambda: lib.tensor(3.0))
        saved = opt.state_dict()
        log.append(sorted(saved))
        opt.load_state_dict({k: v for k, v in saved.items() if k != "extra"})
        swap = opt.register_step_pre_hook(lambda o, args, kwargs: ((o,), {}))  # drops the closure
        log.append(opt.step(closure=lambda: lib.tensor(3.0)))
        swap.remove()
        return log

    assert run(tg) == run(torch)


def test_nadam_loads_a_state_whose_mu_product_is_a_number():
    """(session 42) an older checkpoint keeps NAdam's step and mu_product as Python numbers: both become tensors."""
    finals = []
    for lib in (tg, torch):
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.NAdam([w])
        w.grad = lib.ones(2)
        opt.step()
        saved = copy.deepcopy(opt.state_dict())
        state = saved["state"][0]
        state.update(step=float(state["step"]), mu_product=float(state["mu_product"]))
        again = lib.optim.NAdam([w])
        again.load_state_dict(saved)
        again.step()
        finals.append(w.tolist())
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-6)


def test_a_step_counter_set_by_hand_as_a_one_number_tensor_counts_as_pytorchs():
    """Round r58: pytorch-a3c's SharedAdam sets state['step'] = torch.zeros(1) before any step (it crashed inside
    numpy); an int step is refused with PyTorch's reason."""
    seen = []
    for L in (tg, torch):
        p = L.nn.Parameter(L.tensor([1.0, -2.0]))
        optimizer = L.optim.Adam([p], lr=0.1)
        state = optimizer.state[p]
        state["step"], state["exp_avg"], state["exp_avg_sq"] = L.zeros(1), L.zeros_like(p), L.zeros_like(p)
        for _ in range(3):
            optimizer.zero_grad()
            (p ** 2).sum().backward()
            optimizer.step()
        seen.append((p.tolist(), state["step"].tolist()))
        state["step"] = 0
        with pytest.raises(RuntimeError, match="singleton tensors"):
            optimizer.step()
    np.testing.assert_allclose(seen[0][0], seen[1][0], rtol=1e-6)
    assert seen[0][1] == seen[1][1] == [3.0]
