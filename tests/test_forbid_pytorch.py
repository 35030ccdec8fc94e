"""Write it yourself, PyTorch included: an exercise's ``forbid`` may name PyTorch's counterpart of what the learner
writes ("torch.optim.SGD"), and an answer that hands the work to it fails in ``check`` and in the grade path alike
(the reviewer of lessons 04-05 got an SGD that copies each parameter into torch.optim.SGD and back through
04.MySGD). The name is looked up only when PyTorch is imported already: a check never imports it itself."""
import dataclasses
import subprocess
import sys

import pytest
import torch

import tinygrad_lite as tl
from tinygrad_lite.course import pipeline
from tinygrad_lite.course.checks import FAILED, PASSED, get_exercise, run_check
from tinygrad_lite.optim import Optimizer


class SGDThroughTorch(Optimizer):
    """The reviewer's answer: each step of each parameter is done by torch.optim.SGD, the buffer kept in
    self.state (so that even the resume case passes)."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay))

    def _update(self, p, group):
        state = self.state[p]
        t = torch.nn.Parameter(torch.tensor(p.detach().numpy().copy()))
        inner = torch.optim.SGD([t], lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                                nesterov=group["nesterov"], weight_decay=group["weight_decay"])
        if "momentum_buffer" in state:
            inner.state[t] = {"momentum_buffer": torch.tensor(state["momentum_buffer"].numpy().copy())}
        t.grad = torch.tensor(p.grad.numpy().copy())
        inner.step()
        if group["momentum"]:
            state["momentum_buffer"] = tl.tensor(inner.state[t]["momentum_buffer"].numpy())
        p.copy_(tl.tensor(t.detach().numpy()))


def _exercise(forbid):
    """04.MySGD with these forbidden objects and no allowlist (which would refuse torch.optim.SGD too: this module
    tests ``forbid``), on its visible case (each step through PyTorch is slow)."""
    exercise = get_exercise("04.MySGD")
    return dataclasses.replace(exercise, forbid=forbid, allow=None, cases=lambda rng: list(exercise.cases(rng))[:1])


def test_an_answer_that_hands_the_steps_to_torch_optim_fails_where_the_exercise_names_it():
    passes = run_check(_exercise(()), SGDThroughTorch)
    assert passes.status == PASSED, passes.message  # right numbers: only the rule can refuse it
    refused = run_check(_exercise((tl.optim.SGD, "torch.optim.SGD")), SGDThroughTorch)
    assert refused.status == FAILED
    assert "write it yourself" in refused.message and "PyTorch's torch.optim" in refused.message, refused.message


def test_the_grade_path_gives_the_same_verdict():
    exercise = _exercise((tl.optim.SGD, "torch.optim.SGD"))
    case = exercise.all_cases()[0]
    record = pipeline.Recorder().record(exercise, SGDThroughTorch, case, 0)
    assert record["forbidden"]["how"] == "calls" and record["forbidden"]["object"].startswith("torch.optim")


@pytest.mark.extended  # (a fresh interpreter or kernel: an end-to-end run, in .ci/run's extended tier)
def test_a_name_is_looked_up_only_when_its_package_is_imported():
    code = ("import sys, dataclasses\n"
            "from tinygrad_lite.course import pipeline\n"
            "from tinygrad_lite.course.checks import get_exercise\n"
            "e = dataclasses.replace(get_exercise('04.MySGD'), forbid=('torch.optim.SGD', 'no_such_package.X'))\n"
            "assert pipeline.forbidden_objects(e) == () and 'torch' not in sys.modules\n"
            "import torch\n"
            "assert pipeline.forbidden_objects(e) == (torch.optim.SGD,)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def warmup_cosine_through_torch(step, base_lr, warmup_steps, total_steps, start_factor=0.01, min_lr=0.0):
    """The reviewer's 05.warmup_cosine: PyTorch's SequentialLR of LinearLR and CosineAnnealingLR, stepped."""
    import warnings
    warnings.simplefilter("ignore")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    schedulers = torch.optim.lr_scheduler
    cosine = schedulers.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_lr)
    scheduler = schedulers.SequentialLR(
        optimizer, [schedulers.LinearLR(optimizer, start_factor=start_factor, total_iters=warmup_steps), cosine],
        milestones=[warmup_steps]) if warmup_steps else cosine
    for _ in range(step):
        optimizer.step()
        scheduler.step()
    return optimizer.param_groups[0]["lr"]


class PlateauThroughTorch:
    """The reviewer's 05.PlateauScheduler: PyTorch's ReduceLROnPlateau on a shadow optimizer, its lrs copied over."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, min_lr=0.0):
        self.optimizer = optimizer
        self.shadow = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": g["lr"]}
                                       for g in optimizer.param_groups])
        self.inner = torch.optim.lr_scheduler.ReduceLROnPlateau(self.shadow, mode=mode, factor=factor,
                                                                patience=patience, threshold=threshold, min_lr=min_lr)

    def step(self, metric):
        self.inner.step(float(metric))
        for group, shadow in zip(self.optimizer.param_groups, self.shadow.param_groups):
            group["lr"] = shadow["lr"]

    def get_last_lr(self):
        return [g["lr"] for g in self.optimizer.param_groups]


def test_the_schedules_handed_to_torch_are_refused_in_lesson_05():
    for exercise_id, answer in (("05.warmup_cosine", warmup_cosine_through_torch),
                                ("05.PlateauScheduler", PlateauThroughTorch)):
        result = run_check(get_exercise(exercise_id), answer)
        assert result.status == FAILED and "write it yourself" in result.message, result.message
        assert "PyTorch's torch.optim.lr_scheduler" in result.message, result.message


def test_lesson_04s_optimizers_name_pytorchs_too():
    for exercise_id, names in (("04.MySGD", {"torch.optim.SGD"}), ("04.MyAdam", {"torch.optim.Adam"}),
                               ("04.MyAdamW", {"torch.optim.AdamW"})):
        assert names <= set(get_exercise(exercise_id).forbid), exercise_id


def test_a_function_named_by_its_path_is_wrapped_once_however_often_it_is_checked():
    exercise = get_exercise("06.clip_grad_norm_")
    first = pipeline.forbidden_objects(exercise)
    pipeline.TRIPWIRES.forbid(first)
    again = pipeline.forbidden_objects(exercise)  # torch.nn.utils now holds the tripwire
    assert [id(o) for o in again] == [id(o) for o in first]
