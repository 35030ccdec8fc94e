"""Write it yourself, PyTorch included: an exercise's ``forbid`` may name PyTorch's counterpart of what the learner
writes ("torch.optim.SGD"), and an answer that hands the work to it fails in ``check`` and in the grade path alike
(the reviewer of lessons 04-05 got an SGD that copies each parameter into torch.optim.SGD and back through
04.MySGD). The name is looked up only when PyTorch is imported already: a check never imports it itself."""
import dataclasses
import subprocess
import sys

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
    """04.MySGD with these forbidden objects, on its visible case (each step through PyTorch is slow)."""
    exercise = get_exercise("04.MySGD")
    return dataclasses.replace(exercise, forbid=forbid, cases=lambda rng: list(exercise.cases(rng))[:1])


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
