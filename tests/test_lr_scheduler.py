"""Learning-rate schedulers against PyTorch's: every trace (lr, and momentum / beta1 where cycled) equal to
rtol 1e-12 over 100 steps, for several settings of each scheduler and two param groups; state_dict round trips;
get_last_lr; step(epoch); and the errors for bad arguments.
"""
import copy
import io
import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as theirs

import tinygrad_lite as tg
from tinygrad_lite.optim import SGD, Adam
from tinygrad_lite.optim import lr_scheduler as ours

STEPS = 100
RTOL = 1e-12
LRS = (0.1, 0.03)  # two param groups with different lrs


def optimizer_pair(kind="sgd", lrs=LRS, **kwargs):
    """The same optimizer in both libraries: one 3-element parameter per group, group i with lr lrs[i]."""
    torch_cls, our_cls = {"sgd": (torch.optim.SGD, SGD), "adam": (torch.optim.Adam, Adam)}[kind]
    theirs_opt = torch_cls([{"params": [torch.nn.Parameter(torch.zeros(3))], "lr": lr} for lr in lrs], **kwargs)
    ours_opt = our_cls([{"params": [tg.nn.Parameter(tg.zeros(3))], "lr": lr} for lr in lrs], **kwargs)
    return ours_opt, theirs_opt


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups]


def run(scheduler, opt, steps=STEPS, metrics=None):
    """lrs (from the optimizer and from get_last_lr) and momenta after construction and after each step."""
    lrs, last, moms = [], [], []

    def record():
        lrs.append([g["lr"] for g in opt.param_groups])
        last.append(list(scheduler.get_last_lr()))
        moms.append(momenta(opt))

    record()
    for i in range(steps):
        opt.step()  # no gradients: the parameters stay put, but the order is the one PyTorch expects
        scheduler.step() if metrics is None else scheduler.step(metrics[i])
        record()
    return np.array(lrs), np.array(last), np.array(moms)


def assert_traces_match(build, kind="sgd", lrs=LRS, opt_kwargs=None, metrics=None, steps=STEPS):
    ours_opt, theirs_opt = optimizer_pair(kind, lrs, **(opt_kwargs or {}))
    ours_trace = run(build(ours, ours_opt), ours_opt, steps, metrics)
    theirs_trace = run(build(theirs, theirs_opt), theirs_opt, steps, metrics)
    for what, a, b in zip(("lr", "get_last_lr", "momentum"), ours_trace, theirs_trace):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, err_msg=what)
    return ours_trace


def _warmup_cosine(m, o):
    return m.SequentialLR(o, [m.LinearLR(o, start_factor=0.01, total_iters=10), m.CosineAnnealingLR(o, T_max=90)],
                          milestones=[10])


def _warmup_exponential(m, o):
    return m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.97)],
                          milestones=[5])


def _three_phases(m, o):
    return m.SequentialLR(o, [m.LinearLR(o, start_factor=0.25, total_iters=4), m.StepLR(o, step_size=9, gamma=0.5),
                              m.CosineAnnealingLR(o, T_max=30, eta_min=1e-4)], milestones=[8, 40])


class CallableFactor:
    """A callable object: LambdaLR's state_dict saves its __dict__."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


def _swa(m):
    """The library's swa_utils, for the lr_scheduler module ``m`` of that library (SWALR lives there)."""
    return tg.optim.swa_utils if m is ours else torch.optim.swa_utils


SCHEDULES = {
    "LambdaLR-one": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (1 + 0.1 * e), CallableFactor(0.97)]),
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-default-gamma": lambda m, o: m.StepLR(o, step_size=30),
    "StepLR-every-epoch": lambda m, o: m.StepLR(o, step_size=1, gamma=0.93),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 75], gamma=0.5),
    "MultiStepLR-milestone-0": lambda m, o: m.MultiStepLR(o, milestones=[0, 50, 90]),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.95),
    "ExponentialLR-growing": lambda m, o: m.ExponentialLR(o, gamma=1.02),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=100),
    "CosineAnnealingLR-past-T_max": lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=1e-3),
    "CosineAnnealingLR-T_max-1": lambda m, o: m.CosineAnnealingLR(o, T_max=1, eta_min=0.01),
    "LinearLR-default": lambda m, o: m.LinearLR(o),
    "LinearLR-warmup": lambda m, o: m.LinearLR(o, start_factor=0.01, total_iters=20),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=50),
    "LinearLR-to-zero": lambda m, o: m.LinearLR(o, start_factor=0.5, end_factor=0.0, total_iters=10),
    "SequentialLR-warmup-cosine": _warmup_cosine,
    "SequentialLR-warmup-exponential": _warmup_exponential,
    "SequentialLR-three-phases": _three_phases,
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10),
    "CosineAnnealingWarmRestarts-T_mult-2": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2,
                                                                                         eta_min=1e-3),
    "CosineAnnealingWarmRestarts-T_mult-3": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=3),
    # (session 42) the four that were missing
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95),
    "MultiplicativeLR-per-group": lambda m, o: m.MultiplicativeLR(o, [lambda e: 1.1 if e % 3 == 0 else 0.9,
                                                                      CallableFactor(0.99)]),
    "ConstantLR-default": lambda m, o: m.ConstantLR(o),
    "ConstantLR-warmup": lambda m, o: m.ConstantLR(o, factor=0.1, total_iters=12),
    "PolynomialLR-default": lambda m, o: m.PolynomialLR(o),
    "PolynomialLR-squared": lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.0),
    "PolynomialLR-root": lambda m, o: m.PolynomialLR(o, total_iters=100, power=0.5),
    "CyclicLR-triangular-no-momentum": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=7, cycle_momentum=False),
    "SequentialLR-constant-polynomial": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.1, total_iters=5), m.PolynomialLR(o, total_iters=50, power=2.0)], milestones=[5]),
    "ChainedScheduler-constant-multiplicative": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=5), m.MultiplicativeLR(o, lambda e: 0.98)]),
    # (session 48) swa_utils.SWALR, alone and after a cosine as SWA runs use it
    "SWALR-cos": lambda m, o: _swa(m).SWALR(o, swa_lr=0.05),
    "SWALR-linear-per-group": lambda m, o: _swa(m).SWALR(o, [0.01, 0.2], anneal_epochs=25, anneal_strategy="linear"),
    "SWALR-anneal-0-after-steps": lambda m, o: m.SequentialLR(
        o, [m.StepLR(o, 10, gamma=0.5), _swa(m).SWALR(o, 0.02, anneal_epochs=0)], milestones=[30]),
    "SequentialLR-cosine-then-SWALR": lambda m, o: m.SequentialLR(
        o, [m.CosineAnnealingLR(o, T_max=60), _swa(m).SWALR(o, 0.02, anneal_epochs=5)], milestones=[60]),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_trace_matches_pytorch(name):
    lrs, _, _ = assert_traces_match(SCHEDULES[name])
    assert len(np.unique(lrs[:, 0])) > 1, "the schedule should change the lr"


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR-past-T_max", "SequentialLR-warmup-cosine"])
def test_single_param_group(name):
    assert_traces_match(SCHEDULES[name], lrs=(0.5,))


ONE_CYCLE = {
    "cos-sgd-momentum": ("sgd", {"momentum": 0.9}, lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=100)),
    "linear-three-phase": ("sgd", {"momentum": 0.9}, lambda m, o: m.OneCycleLR(
        o, max_lr=[0.5, 0.2], total_steps=100, anneal_strategy="linear", three_phase=True)),
    "epochs-and-steps": ("sgd", {"momentum": 0.5}, lambda m, o: m.OneCycleLR(
        o, max_lr=1.0, epochs=10, steps_per_epoch=10, pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
        base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.99])),
    "cos-three-phase-adam-betas": ("adam", {"betas": (0.9, 0.99)}, lambda m, o: m.OneCycleLR(
        o, max_lr=0.01, total_steps=100, three_phase=True, pct_start=0.4)),
    "no-momentum-cycling": ("adam", {}, lambda m, o: m.OneCycleLR(
        o, max_lr=0.01, total_steps=100, pct_start=0.5, cycle_momentum=False)),
}

CYCLIC = {  # (session 42) the lr between base_lr and max_lr, the momentum the other way
    "triangular-sgd-momentum": ("sgd", {"momentum": 0.5}, lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=7)),
    "triangular2-per-group-adam": ("adam", {}, lambda m, o: m.CyclicLR(
        o, [0.01, 0.001], [0.1, 0.05], step_size_up=5, step_size_down=12, mode="triangular2",
        base_momentum=[0.85, 0.8], max_momentum=[0.95, 0.9])),
    "exp-range": ("sgd", {"momentum": 0.9}, lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, mode="exp_range", gamma=0.97)),
    "scale-fn-iterations": ("sgd", {"momentum": 0.9}, lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=6, scale_fn=lambda x: 0.5 * (1 + math.sin(x)), scale_mode="iterations")),
    "scale-fn-cycle-sawtooth": ("adam", {}, lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, step_size_down=0, scale_fn=CallableFactor(0.9))),
    "sgd-without-momentum-gets-one": ("sgd", {}, lambda m, o: m.CyclicLR(o, 0.001, 0.006, step_size_up=10)),
}


@pytest.mark.parametrize("name", list(CYCLIC))
def test_cyclic_lr_and_momentum_match_pytorch(name):
    kind, opt_kwargs, build = CYCLIC[name]
    lrs, _, moms = assert_traces_match(build, kind=kind, opt_kwargs=opt_kwargs)
    assert lrs[0, 0] == min(lrs[:, 0]) < max(lrs[:, 0]), "the lr should start at base_lr and rise"
    assert moms[0, 0] == max(moms[:, 0]) > min(moms[:, 0]), "momentum should start at max_momentum and fall"


@pytest.mark.parametrize("name", list(ONE_CYCLE))
def test_one_cycle_lr_and_momentum_match_pytorch(name):
    kind, opt_kwargs, build = ONE_CYCLE[name]
    lrs, _, moms = assert_traces_match(build, kind=kind, opt_kwargs=opt_kwargs)
    assert lrs[:, 0].max() > 5 * lrs[0, 0] and lrs[-1, 0] < lrs[0, 0], "the lr should rise then fall below its start"
    if name == "no-momentum-cycling":
        assert (moms == 0.9).all()
    else:
        assert moms[:, 0].min() < moms[0, 0], "momentum should fall while the lr rises"


def test_one_cycle_sets_betas_tuple():
    opt, _ = optimizer_pair("adam", betas=(0.9, 0.98))
    ours.OneCycleLR(opt, max_lr=0.1, total_steps=10, max_momentum=0.95)
    assert opt.param_groups[0]["betas"] == (0.95, 0.98)


def _loss_curve(n=STEPS):
    """A validation loss that falls, plateaus with noise, and wobbles: a fixed sequence."""
    rng = np.random.default_rng(1)
    t = np.arange(n)
    return (np.exp(-t / 15) + 0.2 + 0.02 * rng.standard_normal(n)).tolist()


def _accuracy_curve(n=STEPS):
    rng = np.random.default_rng(2)
    t = np.arange(n)
    return (0.9 - 0.5 * np.exp(-t / 10) + 0.01 * rng.standard_normal(n)).tolist()


PLATEAU = {
    "defaults": (_loss_curve, {}),
    "min-rel-cooldown-min_lr": (_loss_curve, {"factor": 0.5, "patience": 2, "threshold": 0.01, "cooldown": 3,
                                              "min_lr": [1e-3, 1e-4]}),
    "min-abs": (_loss_curve, {"factor": 0.3, "patience": 1, "threshold": 0.005, "threshold_mode": "abs",
                              "min_lr": 1e-3}),
    "max-rel": (_accuracy_curve, {"mode": "max", "factor": 0.5, "patience": 3, "threshold": 1e-3}),
    "max-abs-cooldown": (_accuracy_curve, {"mode": "max", "patience": 0, "threshold": 0.01, "threshold_mode": "abs",
                                           "cooldown": 2, "min_lr": [0.01, 0.001]}),
    "eps-stops-tiny-changes": (_loss_curve, {"factor": 0.5, "patience": 0, "eps": 1e-3}),
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_pytorch(name):
    curve, kwargs = PLATEAU[name]
    lrs, _, _ = assert_traces_match(lambda m, o: m.ReduceLROnPlateau(o, **kwargs), metrics=curve())
    assert lrs[-1, 0] < lrs[0, 0], "the lr should have been reduced at least once"


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt, _ = optimizer_pair()
    scheduler = ours.ReduceLROnPlateau(opt, patience=0)
    scheduler.step(tg.tensor(1.0))
    scheduler.step(tg.tensor([2.0]))
    assert scheduler.get_last_lr() == [0.1 * 0.1, 0.03 * 0.1] and scheduler.best == 1.0


def test_cosine_warm_restarts_fractional_epochs():
    iters = 7

    def drive(m, opt):
        scheduler, lrs = m.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=1e-4), []
        for epoch in range(12):
            for i in range(iters):
                opt.step()
                scheduler.step(epoch + i / iters)
                lrs.append(scheduler.get_last_lr())
        scheduler.step(26)  # jump, then carry on one epoch at a time from there
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        return np.array(lrs), scheduler.last_epoch, scheduler.T_i

    ours_opt, theirs_opt = optimizer_pair()
    (a, ours_epoch, ours_T_i), (b, theirs_epoch, theirs_T_i) = drive(ours, ours_opt), drive(theirs, theirs_opt)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)
    assert (ours_epoch, ours_T_i) == (theirs_epoch, theirs_T_i) == (27, 16)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR-past-T_max",
                                  "LinearLR-warmup", "LambdaLR-one", "ConstantLR-warmup", "PolynomialLR-squared",
                                  "MultiplicativeLR", "CyclicLR-triangular-no-momentum"])
def test_step_with_epoch_uses_the_closed_form(name):
    ours_opt, theirs_opt = optimizer_pair()
    a, b = SCHEDULES[name](ours, ours_opt), SCHEDULES[name](theirs, theirs_opt)
    for epoch in (3, 15, 40, 41):
        with pytest.warns(UserWarning, match="deprecated"):
            a.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b.step(epoch)
        np.testing.assert_allclose(a.get_last_lr(), b.get_last_lr(), rtol=RTOL, atol=0)
        assert a.last_epoch == epoch


def test_initial_lr_base_lrs_and_get_last_lr():
    opt, _ = optimizer_pair()
    scheduler = ours.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == scheduler.base_lrs == [0.1, 0.03]
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.1, 0.03]
    scheduler.get_last_lr()[0] = 123.0  # a copy: changing it changes nothing
    for _ in range(2):
        opt.step()
        scheduler.step()
    assert scheduler.last_epoch == 2
    np.testing.assert_allclose(scheduler.get_last_lr(), [0.01, 0.003], rtol=RTOL)
    assert scheduler.get_last_lr() == [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("name", ["LambdaLR-per-group", "MultiStepLR", "CosineAnnealingLR-past-T_max",
                                  "LinearLR-warmup", "SequentialLR-warmup-cosine", "SequentialLR-three-phases",
                                  "CosineAnnealingWarmRestarts-T_mult-2", "one-cycle", "plateau",
                                  "MultiplicativeLR-per-group", "ConstantLR-warmup", "PolynomialLR-squared", "cyclic",
                                  "SWALR-linear-per-group", "SequentialLR-cosine-then-SWALR"])
@pytest.mark.parametrize("via_file", [False, True], ids=["in-memory", "via-file"])
def test_state_dict_round_trip_continues_identically(name, via_file):
    """Save after 37 steps, rebuild optimizer and scheduler, load both: the next 63 lrs are the same."""
    metrics = _loss_curve()
    builds = {**SCHEDULES, "one-cycle": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=100, three_phase=True),
              "plateau": lambda m, o: m.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1),
              "cyclic": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="triangular2",
                                                scale_fn=CallableFactor(0.8))}
    build = builds[name]

    def step(scheduler, opt, i):
        opt.step()
        scheduler.step(metrics[i]) if name == "plateau" else scheduler.step()
        return momenta(opt) + scheduler.get_last_lr()

    opt, _ = optimizer_pair(momentum=0.9)
    scheduler = build(ours, opt)
    for i in range(37):
        step(scheduler, opt, i)
    saved_sched, saved_opt = copy.deepcopy(scheduler.state_dict()), copy.deepcopy(opt.state_dict())
    assert "optimizer" not in saved_sched
    if via_file:  # through tinygrad_lite.save / load, which hold only plain data (no pickle)
        buffer = io.BytesIO()
        tg.save({"scheduler": saved_sched, "optimizer": saved_opt}, buffer)
        buffer.seek(0)
        loaded = tg.load(buffer)
        saved_sched, saved_opt = loaded["scheduler"], loaded["optimizer"]
    expected = [step(scheduler, opt, i) for i in range(37, STEPS)]

    new_opt, _ = optimizer_pair(momentum=0.9)
    new_scheduler = build(ours, new_opt)  # build the scheduler first, then load (PyTorch's advice)
    new_opt.load_state_dict(saved_opt)
    new_scheduler.load_state_dict(saved_sched)
    assert new_scheduler.get_last_lr() == [g["lr"] for g in new_opt.param_groups]
    assert [step(new_scheduler, new_opt, i) for i in range(37, STEPS)] == expected


def test_lambda_state_dict_keeps_callable_objects_only():
    opt, _ = optimizer_pair()
    factor = CallableFactor(0.9)
    state = ours.LambdaLR(opt, [lambda e: 1.0, factor]).state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.9}]
    other = CallableFactor(0.5)
    restored = ours.LambdaLR(optimizer_pair()[0], [lambda e: 1.0, other])
    restored.load_state_dict(state)
    assert other.rate == 0.9 and state["lr_lambdas"] == [None, {"rate": 0.9}]


def test_resume_with_last_epoch_needs_initial_lr():
    opt, theirs_opt = optimizer_pair()
    with pytest.raises(KeyError, match="initial_lr"):
        ours.StepLR(opt, step_size=3, last_epoch=5)
    with pytest.raises(KeyError):
        theirs.StepLR(theirs_opt, step_size=3, last_epoch=5)


def test_resume_cosine_with_last_epoch_matches_pytorch():
    def build(m, o):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"]
        return m.CosineAnnealingLR(o, T_max=40, last_epoch=10)
    assert_traces_match(build, steps=50)


def _errors(m):
    """(call, exception type, our message) for bad arguments; the call takes the lr_scheduler module."""
    return [
        (lambda o: m.LinearLR(o, start_factor=0), ValueError, "start_factor"),
        (lambda o: m.LinearLR(o, start_factor=1.5), ValueError, "start_factor"),
        (lambda o: m.LinearLR(o, end_factor=-0.1), ValueError, "end_factor"),
        (lambda o: m.OneCycleLR(o, max_lr=0.1), ValueError, "total_steps"),
        (lambda o: m.OneCycleLR(o, max_lr=0.1, total_steps=0), ValueError, "total_steps"),
        (lambda o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
        (lambda o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError, "anneal"),
        (lambda o: m.OneCycleLR(o, max_lr=[0.1, 0.2, 0.3], total_steps=10), ValueError, "max_lr"),
        (lambda o: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "T_0"),
        (lambda o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), ValueError, "T_mult"),
        (lambda o: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
        (lambda o: m.ReduceLROnPlateau(o, mode="mean"), ValueError, "mode"),
        (lambda o: m.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold_mode"),
        (lambda o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "min_lr"),
        (lambda o: m.LambdaLR(o, [lambda e: 1.0]), ValueError, "lr_lambdas"),
        (lambda o: m.MultiplicativeLR(o, [lambda e: 1.0]), ValueError, "lr_lambdas"),
        (lambda o: m.MultiplicativeLR(o, 0.95), TypeError, "a function of the epoch"),
        (lambda o: m.ConstantLR(o, factor=1.5), ValueError, "factor"),
        (lambda o: m.CyclicLR(o, 0.01, 0.1, mode="triangle"), ValueError, "mode"),
        (lambda o: m.CyclicLR(o, [0.01], 0.1), ValueError, "base_lr"),
        (lambda o: m.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]), ValueError, "max_lr"),
        (lambda o: m.SequentialLR(o, [m.LinearLR(o), m.ExponentialLR(o, 0.9)], milestones=[]), ValueError,
         "milestones"),
        (lambda o: m.SequentialLR(o, [m.LinearLR(o), m.ReduceLROnPlateau(o)], milestones=[5]), ValueError,
         "ReduceLROnPlateau"),
    ]


@pytest.mark.parametrize("case", range(len(_errors(ours))))
def test_bad_arguments_raise_like_pytorch(case):
    ours_call, error, message = _errors(ours)[case]
    theirs_call, theirs_error, _ = _errors(theirs)[case]
    ours_opt, theirs_opt = optimizer_pair()
    with pytest.raises(error, match=message):
        ours_call(ours_opt)
    with pytest.raises(theirs_error):
        theirs_call(theirs_opt)


def test_one_cycle_stepped_past_total_steps():
    opt, _ = optimizer_pair(momentum=0.9)
    scheduler = ours.OneCycleLR(opt, max_lr=0.1, total_steps=5)
    for _ in range(5):
        scheduler.step()  # steps 1..5 are allowed, as in PyTorch
    with pytest.raises(ValueError, match=r"OneCycleLR: tried to step 6 times, but total_steps is 5"):
        scheduler.step()


def test_one_cycle_momentum_needs_an_optimizer_with_momentum():
    class NoMomentum:
        defaults = {"lr": 0.1}
        param_groups = [{"lr": 0.1}]
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        ours.OneCycleLR(NoMomentum(), max_lr=0.1, total_steps=10)
    ours.OneCycleLR(NoMomentum(), max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_not_an_optimizer():
    with pytest.raises(TypeError, match=r"StepLR: expected an optimizer .* got list"):
        ours.StepLR([tg.zeros(2)], step_size=3)
    with pytest.raises(TypeError, match="ReduceLROnPlateau"):
        ours.ReduceLROnPlateau(tg.zeros(2))


def test_sequential_rejects_a_scheduler_of_another_optimizer():
    opt, _ = optimizer_pair()
    other, _ = optimizer_pair()
    with pytest.raises(ValueError, match=r"schedulers\[1\]"):
        ours.SequentialLR(opt, [ours.LinearLR(opt), ours.ExponentialLR(other, 0.9)], milestones=[3])


def test_cosine_closed_form_is_the_documented_formula():
    """The recursive trace equals eta_min + (eta_0 - eta_min) (1 + cos(pi t / T)) / 2 up to rounding."""
    opt, _ = optimizer_pair(lrs=(0.1,))
    lrs, _, _ = run(ours.CosineAnnealingLR(opt, T_max=25, eta_min=0.001), opt, steps=60)
    t = np.arange(61)
    np.testing.assert_allclose(lrs[:, 0], 0.001 + (0.1 - 0.001) * (1 + np.cos(math.pi * t / 25)) / 2, rtol=1e-9)


@pytest.mark.parametrize("kind, build", [
    ("sgd", lambda m, o: m.OneCycleLR(o, max_lr=0.2, total_steps=30)),
    ("adam", _warmup_cosine),
    ("sgd", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.01)),
])
def test_training_with_a_schedule_matches_pytorch(kind, build):
    """Gradients, optimizer and scheduler together: least squares in float64, 30 steps, same weights."""
    rng = np.random.default_rng(0)
    w0, x = rng.standard_normal((3, 1)), rng.standard_normal((16, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    opt_cls = {"sgd": (SGD, torch.optim.SGD, {"momentum": 0.9}), "adam": (Adam, torch.optim.Adam, {})}[kind]
    runs = []
    for lib, cls, m in ((tg, opt_cls[0], ours), (torch, opt_cls[1], theirs)):
        w = (tg.nn.Parameter if lib is tg else torch.nn.Parameter)(lib.tensor(w0))
        opt = cls([w], lr=0.1, **opt_cls[2])
        scheduler = build(m, opt)
        xs, ys = lib.tensor(x), lib.tensor(y)
        for _ in range(30):
            opt.zero_grad()
            ((xs @ w - ys) ** 2).mean().backward()
            opt.step()
            scheduler.step()
        runs.append(w.detach().numpy())
    assert runs[0].dtype == np.float64
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-10, atol=1e-12)
    assert not np.allclose(runs[0], w0)


def _warnings_of(calls):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calls()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def _two_epochs(opt, scheduler, order):
    if order == "step replaced":
        opt.step = type(opt).step.__get__(opt)
    if order == "optimizer first":
        opt.step()
    scheduler.step()
    opt.step()
    scheduler.step()


@pytest.mark.parametrize("order", ["scheduler first", "optimizer first", "step replaced"])
@pytest.mark.parametrize("make", [lambda o: ("StepLR", o.StepLR), lambda o: ("Sequential", None)])
def test_scheduler_step_before_optimizer_step_warns_as_pytorch(order, make):
    """PyTorch wraps optimizer.step in the scheduler's constructor; the first scheduler.step() warns if the
    optimizer has not stepped yet (or its step was replaced afterwards). Same warnings, same text, same count."""
    results = []
    for lib, (opt, _) in (("ours", optimizer_pair()), ("theirs", optimizer_pair()[::-1])):
        module = ours if lib == "ours" else theirs
        name, cls = make(module)
        if cls is not None:
            scheduler = cls(opt, step_size=1, gamma=0.5)
        else:
            scheduler = module.SequentialLR(opt, [module.LinearLR(opt, 0.5, total_iters=2),
                                                  module.ExponentialLR(opt, 0.9)], milestones=[2])
        for group in opt.param_groups:
            group["params"][0].grad = (tg if lib == "ours" else torch).ones(3)

        results.append((_warnings_of(lambda o=opt, s=scheduler: _two_epochs(o, s, order)),
                        [g["lr"] for g in opt.param_groups]))
    (got, got_lrs), (expected, expected_lrs) = results
    assert got == expected and len(expected) == (0 if order == "optimizer first" else 1)
    np.testing.assert_allclose(got_lrs, expected_lrs, rtol=1e-12)


def test_a_copied_optimizer_steps_itself_not_the_original():
    """The scheduler's step wrapper is bound to its optimizer: a deep copy gets its class's step (as PyTorch's)."""
    opt, _ = optimizer_pair()
    ours.StepLR(opt, step_size=1)
    clone = copy.deepcopy(opt)
    clone.param_groups[0]["params"][0].grad = tg.ones(3)
    clone.step()
    np.testing.assert_array_equal(clone.param_groups[0]["params"][0].detach().numpy(), np.full(3, -0.1, np.float32))
    np.testing.assert_array_equal(opt.param_groups[0]["params"][0].detach().numpy(), np.zeros(3, np.float32))
    assert not hasattr(clone.step, "_wrapped_by_lr_sched")


def test_a_one_cycle_state_dict_moves_between_the_libraries():
    """Its phases are dicts with PyTorch's keys (they were tuples): each library resumes the other's schedule."""
    def build(lib_sched, opt):
        return lib_sched.OneCycleLR(opt, max_lr=0.5, total_steps=40, three_phase=True)
    ours_opt, theirs_opt = optimizer_pair(momentum=0.9)
    mine, other = build(ours, ours_opt), build(theirs, theirs_opt)
    for _ in range(15):
        for opt, sched in ((ours_opt, mine), (theirs_opt, other)):
            opt.step()
            sched.step()
    ours_new, theirs_new = optimizer_pair(momentum=0.9)
    from_theirs, from_ours = build(ours, ours_new), build(theirs, theirs_new)
    from_theirs.load_state_dict(copy.deepcopy(other.state_dict()))
    from_ours.load_state_dict(copy.deepcopy(mine.state_dict()))
    for opt in (ours_new, theirs_new):
        opt.load_state_dict(copy.deepcopy((ours_opt if opt is ours_new else theirs_opt).state_dict()))
    for _ in range(20):
        for opt, sched in ((ours_opt, mine), (theirs_opt, other), (ours_new, from_theirs), (theirs_new, from_ours)):
            opt.step()
            sched.step()
        np.testing.assert_allclose(from_theirs.get_last_lr(), other.get_last_lr(), rtol=RTOL)
        np.testing.assert_allclose(from_ours.get_last_lr(), mine.get_last_lr(), rtol=RTOL)


def test_a_one_cycle_state_dict_of_an_earlier_version_loads():
    """Its phases were tuples (end_step, start_lr, end_lr, start_momentum, end_momentum) before they became
    PyTorch's dicts: a checkpoint saved then still resumes the schedule."""
    opt, _ = optimizer_pair(momentum=0.9)
    scheduler = ours.OneCycleLR(opt, max_lr=0.5, total_steps=30)
    for _ in range(7):
        opt.step()
        scheduler.step()
    old = copy.deepcopy(scheduler.state_dict())
    old["_schedule_phases"] = [tuple(phase.values()) for phase in old["_schedule_phases"]]
    new_opt, _ = optimizer_pair(momentum=0.9)
    resumed = ours.OneCycleLR(new_opt, max_lr=0.5, total_steps=30)
    resumed.load_state_dict(old)
    new_opt.load_state_dict(opt.state_dict())
    for _ in range(10):
        for o, s in ((opt, scheduler), (new_opt, resumed)):
            o.step()
            s.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_state_dict_keys_come_in_pytorchs_order():
    """(session 41) a printed ``scheduler.state_dict()`` reads as PyTorch's: the same keys, in the same order."""
    makers = {"StepLR": lambda S, o: S.StepLR(o, 2), "OneCycleLR": lambda S, o: S.OneCycleLR(o, 1.0, total_steps=10),
              "ReduceLROnPlateau": lambda S, o: S.ReduceLROnPlateau(o),
              "LambdaLR": lambda S, o: S.LambdaLR(o, lambda epoch: 0.9 ** epoch),
              "SequentialLR": lambda S, o: S.SequentialLR(o, [S.LinearLR(o), S.StepLR(o, 2)], [2]),
              "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda epoch: 0.9),
              "ConstantLR": lambda S, o: S.ConstantLR(o), "PolynomialLR": lambda S, o: S.PolynomialLR(o),
              "CyclicLR": lambda S, o: S.CyclicLR(o, 0.01, 0.1),
              "SWALR": lambda S, o: _swa(S).SWALR(o, 0.05, anneal_epochs=3),
              "CyclicLR-scale-fn": lambda S, o: S.CyclicLR(o, 0.01, 0.1, scale_fn=CallableFactor(0.5),
                                                           cycle_momentum=False)}
    for name, make in makers.items():
        keys = []
        for lib in (tg, torch):
            optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1, momentum=0.9)
            scheduler = make(lib.optim.lr_scheduler, optimizer)
            optimizer.step()
            scheduler.step(*([1.0] if name == "ReduceLROnPlateau" else []))
            keys.append(list(scheduler.state_dict()))
        assert keys[0] == keys[1], name



def test_cyclic_state_dict_moves_between_the_libraries():
    """(session 42) PyTorch's CyclicLR state_dict (its scale function's __dict__ included) loads into ours, and the
    two then go on with the same lrs and momenta."""
    kind, opt_kwargs, build = CYCLIC["scale-fn-cycle-sawtooth"]
    ours_opt, theirs_opt = optimizer_pair(kind, **opt_kwargs)
    theirs_sched = build(theirs, theirs_opt)
    for _ in range(8):
        theirs_opt.step()
        theirs_sched.step()
    state = theirs_sched.state_dict()
    assert state["_scale_fn_custom"] == {"rate": 0.9}
    ours_sched = ours.CyclicLR(ours_opt, 0.01, 0.1, step_size_up=3, step_size_down=0, scale_fn=CallableFactor(0.2))
    ours_opt.load_state_dict(theirs_opt.state_dict())
    ours_sched.load_state_dict(state)
    assert ours_sched._scale_fn_custom.rate == 0.9
    for _ in range(10):
        for opt, sched in ((ours_opt, ours_sched), (theirs_opt, theirs_sched)):
            opt.step()
            sched.step()
        assert ours_sched.get_last_lr() == theirs_sched.get_last_lr() and momenta(ours_opt) == momenta(theirs_opt)


def test_constant_lr_factor_zero_names_the_step_it_cannot_undo():
    opt, theirs_opt = optimizer_pair()
    ours_sched, theirs_sched = ours.ConstantLR(opt, factor=0.0, total_iters=2), theirs.ConstantLR(theirs_opt, 0.0, 2)
    for o, s in ((opt, ours_sched), (theirs_opt, theirs_sched)):
        o.step()
        s.step()
        o.step()
        with pytest.raises(ZeroDivisionError, match="" if s is theirs_sched else "total_iters=2.*small positive"):
            s.step()


@pytest.mark.parametrize("name", ["LambdaLR-per-group", "MultiplicativeLR-per-group", "MultiStepLR",
                                  "ConstantLR-warmup", "PolynomialLR-squared", "CosineAnnealingLR-past-T_max",
                                  "SequentialLR-three-phases",
                                  "ChainedScheduler-constant-multiplicative", "CosineAnnealingWarmRestarts-T_mult-2"])
def test_a_state_dict_saved_by_pytorch_resumes_here(name):
    """(session 42) The README's promise: a scheduler's state_dict from PyTorch, loaded here after 30 steps, goes on
    with PyTorch's lrs."""
    ours_opt, theirs_opt = optimizer_pair()
    theirs_sched = SCHEDULES[name](theirs, theirs_opt)
    for _ in range(30):
        theirs_opt.step()
        theirs_sched.step()
    ours_sched = SCHEDULES[name](ours, ours_opt)
    ours_opt.load_state_dict(theirs_opt.state_dict())
    ours_sched.load_state_dict(theirs_sched.state_dict())
    for _ in range(30):
        for opt, sched in ((ours_opt, ours_sched), (theirs_opt, theirs_sched)):
            opt.step()
            sched.step()
        np.testing.assert_allclose(ours_sched.get_last_lr(), theirs_sched.get_last_lr(), rtol=RTOL, atol=0)
