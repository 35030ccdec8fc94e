"""``profiler`` (``torch.profiler``) and ``autograd.profiler``: a training step's ops timed forward and backward,
ranges nested under ``record_function``, self and total times, ``key_averages`` and PyTorch's table, schedules
(checked against torch.profiler.schedule itself), traces written by ``tensorboard_trace_handler``, the stand-in
GPU's device times, and nothing left behind when the profile stops."""
import json
import warnings

import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy

import tinygrad_lite as tl
from tinygrad_lite.autograd.function import Function
from tinygrad_lite.profiler import ProfilerActivity, profile, record_function, schedule, tensorboard_trace_handler

pytestmark = pytest.mark.filterwarnings("ignore:Warning. Profiler clears events")  # (given once, by the first)


def step(model, x):
    loss = model(x).relu().sum()
    loss.backward()
    return loss


def test_a_training_step_is_timed_op_by_op_inside_its_ranges():
    tl.manual_seed(0)
    model, x = tl.nn.Sequential(tl.nn.Linear(8, 16), tl.nn.Tanh(), tl.nn.Linear(16, 2)), tl.randn(4, 8)
    apply_before = Function.__dict__["apply"]
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("forward_and_backward"):
            step(model, x)
    assert Function.__dict__["apply"] is apply_before  # (put back: unprofiled code pays nothing)
    events = prof.events()
    names = [event.name for event in events]
    assert names.count("Linear") == 2 and "autograd::engine::evaluate_function: LinearBackward" in names
    outer = next(event for event in events if event.name == "forward_and_backward")
    assert outer.is_user_annotation and all(event.cpu_parent is outer for event in events if event is not outer)
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - sum(
        child.cpu_time_total for child in outer.cpu_children))
    assert all(0 <= event.self_cpu_time_total <= event.cpu_time_total for event in events)
    rows = {row.key: row for row in prof.key_averages()}
    assert rows["Linear"].count == 2 and rows["Linear"].cpu_time == pytest.approx(rows["Linear"].cpu_time_total / 2)
    shapes = {str(row.input_shapes) for row in prof.key_averages(group_by_input_shape=True) if row.key == "Linear"}
    assert shapes == {"[[4, 8], [16, 8], [16]]", "[[4, 16], [2, 16], [2]]"}
    assert prof.self_cpu_time_total == pytest.approx(sum(event.self_cpu_time_total for event in events))


def test_the_table_is_pytorchs():
    model, x = tl.nn.Linear(3, 2), tl.randn(5, 3)
    with profile() as prof:
        step(model, x)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=2)
    lines = table.splitlines()
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
    assert lines[0] == lines[2] == lines[-2] and set(lines[0]) == {"-", " "}
    assert all(header in lines[1] for header in headers) and "CUDA" not in table  # (no GPU: CPU only, as PyTorch)
    assert len(lines) == 3 + 2 + 2 and lines[-1].startswith("Self CPU time total: ")
    assert str(prof.key_averages()) == prof.key_averages().table()
    framed = prof.key_averages().table(header="One step", top_level_events_only=True).splitlines()
    assert framed[1] == "One step" and framed[3] == "This report only display top-level ops statistics"
    assert set(framed[0]) == {"="}
    slowest = max(prof.key_averages(), key=lambda row: row.self_cpu_time_total)
    assert lines[3].strip().startswith(slowest.key)
    with pytest.raises(AttributeError, match="sort_by must be one of"):
        prof.key_averages().table(sort_by="cpu_percent")
    assert tl.profiler.events.format_time(1234.5678) == "1.235ms" and tl.profiler.events.format_time(5e6) == "5.000s"


@pytest.mark.parametrize("arguments", [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=0, active=1, repeat=2),
                                       dict(wait=2, warmup=1, active=3, repeat=1, skip_first=3)])
def test_schedules_are_pytorchs(arguments):
    """The action of every step, and PyTorch's warning when there is no warmup."""
    made = []
    for library in (tl, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            action = library.profiler.schedule(**arguments)
        made.append(([action(k).name for k in range(20)], [str(w.message) for w in caught]))
    assert made[0] == made[1]


def test_a_scheduled_profile_hands_each_cycle_to_on_trace_ready(tmp_path):
    model, x = tl.nn.Linear(3, 2), tl.randn(5, 3)
    saved = []

    def keep(prof):
        saved.append(sorted({event.trace_name for event in prof.events() if event.name == "ProfilerStep*"}))
        tensorboard_trace_handler(str(tmp_path), worker_name="worker")(prof)
    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2), on_trace_ready=keep) as prof:
        for _ in range(10):
            step(model, x)
            prof.step()
    assert saved == [["ProfilerStep#2", "ProfilerStep#3"], ["ProfilerStep#6", "ProfilerStep#7"]]
    files = sorted(tmp_path.glob("worker.*.pt.trace.json"))
    assert len(files) == 2
    trace = json.loads(files[0].read_text())["traceEvents"]
    assert {"name", "ph", "ts", "dur", "pid", "tid"} <= set(trace[0]) and any(e["name"] == "Linear" for e in trace)


def test_the_older_api_the_stand_in_gpu_and_the_refusals():
    model, x = tl.nn.Linear(3, 2), tl.randn(5, 3)
    with tl.autograd.profiler.profile(enabled=False) as prof:
        step(model, x)
    assert len(prof.events()) == 0
    with tl.autograd.profiler.profile(record_shapes=True) as prof:
        with tl.autograd.profiler.record_function("mine"):
            step(model, x)
    assert "mine" in [row.key for row in prof.key_averages()] and "CUDA" not in prof.table()

    @record_function("decorated")
    def decorated():
        return step(model, x)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        decorated()
    assert prof.events()[0].name == "decorated"  # (in the order they started: the outer range first)
    with FakeCuPy().install():
        gpu_model, gpu_x = tl.nn.Linear(3, 2).to("cuda"), tl.randn(5, 3, device="cuda")
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            step(gpu_model, gpu_x)
        linear = next(event for event in prof.events() if event.name == "Linear")
        assert 0 < linear.device_time_total <= linear.cpu_time_total and "Self CUDA" in prof.table()
    with pytest.raises(NotImplementedError, match="profile_memory"):
        profile(profile_memory=True)
    with pytest.raises(ValueError, match="active must be at least 1"):
        schedule(wait=1, warmup=0, active=0)
    assert np.isfinite(prof.self_cpu_time_total)


def test_what_round_r54_found():
    """Each step recorded once in a scheduled trace; the end in the middle of a cycle hands over that cycle's
    recorded steps only (none when it ends in a warmup), with step_num already counted, as PyTorch's; acc_events
    keeps every trace; steps summed as ProfilerStep*; only top-level rows with top_level_events_only; time_range
    an Interval."""
    traces, x = [], tl.randn(3, 3)

    def keep(prof):
        traces.append((prof.step_num, [e.name for e in prof.events() if e.name.startswith(("s", "ProfilerStep"))]))
    with profile(schedule=schedule(wait=0, warmup=1, active=2), on_trace_ready=keep) as prof:
        for k in range(5):
            with record_function(f"s{k}"):
                (x @ x).sum()
            prof.step()
    steps = "ProfilerStep*"
    assert traces == [(3, [steps, "s1", steps, "s2"]), (5, [steps, "s4", steps])]
    assert {row.key: row.count for row in prof.key_averages()}["ProfilerStep*"] == 2
    accumulated = []

    def names(prof):
        accumulated.append(sorted(e.name for e in prof.events() if e.name.startswith("s")))
    with pytest.warns(UserWarning, match="won't be using warmup"):
        every_other = schedule(wait=1, warmup=0, active=1)
    with profile(schedule=every_other, acc_events=True, on_trace_ready=names) as prof:
        for k in range(5):
            with record_function(f"s{k}"):
                (x * 2).sum()
            prof.step()
    assert accumulated == [["s1"], ["s1", "s3"], ["s1", "s3"]]
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with record_function("top"):
            with record_function("inner"):
                (x @ x).sum()
    table = prof.key_averages().table(top_level_events_only=True)
    assert "top" in table and "inner" not in table and "MatMul" not in table
    event = prof.events()[0]
    assert event.time_range.elapsed_us() == event.time_range.end - event.time_range.start == event.cpu_time_total
    assert (event.device_type, event.is_async, event.kernels, event.cpu_memory_usage) == ("CPU", False, [], 0)
    assert len({e.id for e in prof.events()}) == len(prof.events()) and prof.total_average().count == 4
    assert prof.key_averages()[0].cpu_parent is None  # ("top": a row of top-level events)
    by_memory = prof.key_averages().table(sort_by="self_cpu_memory_usage")  # (not recorded: all 0, as PyTorch's
    assert by_memory.splitlines()[3].split()[0] == "top"  # without profile_memory; the order kept for ties)
    assert tl.profiler.supported_activities() == {ProfilerActivity.CPU}  # (no GPU here)
