"""utils.benchmark.Timer against torch.utils.benchmark.Timer, both reading one made-up clock (each run of the
statement advances it by a fixed step, each reading adds a little), so that the two must choose the same runs per
block and the same number of blocks, and print the same summary; and the statistics of a Measurement."""
import importlib
import warnings

import numpy as np
import pytest
import torch
import torch.utils.benchmark

import tinygrad_lite as tl
import tinygrad_lite.utils.benchmark as benchmark


class Clock:
    """Seconds that pass only when the statement runs (``tick``), plus 1 ns for each reading of the clock."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def tick(self):
        self.now += self.step

    def __call__(self):
        self.now += 1e-9
        return self.now


def measure(lib, how, step=1e-6, **options):
    benchmark = importlib.import_module(f"{lib.__name__}.utils.benchmark")
    clock = Clock(step)
    timer = benchmark.Timer("clock.tick()", setup="x = 1", globals={"clock": clock}, timer=clock, label="tick",
                            description="a made-up clock", num_threads=2, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (num_threads, where threadpoolctl is missing: the test below)
        m = getattr(timer, how[0])(**how[1])
    return m.number_per_run, len(m.raw_times), repr(m).split("\n", 1)[1], round(m.median, 12), m.has_warnings


@pytest.mark.parametrize("how", [("timeit", {"number": 300}), ("blocked_autorange", {"min_run_time": 0.02}),
                                 ("adaptive_autorange", {"max_run_time": 0.05})])
def test_timer_runs_and_reports_as_pytorchs(how):
    assert measure(tl, how) == measure(torch, how)


def test_a_measurement_summarises_its_blocks_as_pytorchs():
    times = [1e-3, 2e-3, 5e-3, 4e-3, 3.5e-3]
    ours = benchmark.Measurement(2, times, benchmark.TaskSpec("f(x)", "pass"))
    theirs = torch.utils.benchmark.Measurement(2, times, torch.utils.benchmark.utils.common.TaskSpec("f(x)", "pass"))
    for name in ("median", "mean", "iqr", "significant_figures", "has_warnings", "times", "title"):
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name)), name
    assert repr(ours).split("\n", 1)[1] == repr(theirs).split("\n", 1)[1]
    assert np.allclose(benchmark.Measurement.merge([ours, ours])[0].times, ours.times * 2)


def test_timer_refuses_what_it_cannot_time():
    with pytest.raises(ValueError, match="only a `str` stmt"):
        benchmark.Timer(lambda: None)
    with pytest.raises(ValueError, match="only Python statements"):
        benchmark.Timer("x", language="c++")
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        benchmark.Timer("x").autorange()


def test_a_thread_count_it_cannot_set_is_said(monkeypatch):
    benchmark = importlib.import_module("tinygrad_lite.utils.benchmark")  # (the module as loaded now)
    monkeypatch.setattr(benchmark.settings, "_threadpoolctl", lambda: None)
    monkeypatch.setattr(benchmark.settings, "get_num_threads", lambda: 4)
    monkeypatch.setattr(benchmark, "_WARNED", set())
    with pytest.warns(UserWarning, match="threadpoolctl"):
        benchmark.Timer("1 + 1").timeit(10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (once for each thread count: a notebook that times often is not flooded)
        benchmark.Timer("1 + 1").timeit(10)


def test_compare_lays_out_pytorchs_table():
    """Two labels, two thread counts, a missing cell, a noisy measurement; trimmed, highlighted, coloured."""
    rng = np.random.default_rng(0)
    tables = []
    for module, spec in ((benchmark, benchmark.TaskSpec), (torch.utils.benchmark,
                                                           torch.utils.benchmark.utils.common.TaskSpec)):
        rng = np.random.default_rng(0)
        measurements = []
        for label in ("reductions", "matmul"):
            for threads in (1, 4):
                for n in (10, 1000):
                    for what, base in (("sum", 1.5e-6), ("max", 9e-6)):
                        if (label, n, what) == ("matmul", 10, "max"):
                            continue
                        noise = 0.5 if (n, what) == (1000, "max") else 0.01
                        times = base * (1 + n / 100) / threads * (1 + noise * rng.standard_normal(6))
                        measurements.append(module.Measurement(100, list(times * 100), spec(
                            f"x.{what}()", "pass", label=label, sub_label=f"n={n}", description=what,
                            num_threads=threads)))
        compare = module.Compare(measurements)
        shown = [str(compare)]
        for step in (compare.trim_significant_figures, compare.highlight_warnings, compare.colorize,
                     lambda c=compare: c.colorize(rowwise=True)):
            step()
            shown.append(str(compare))
        tables.append(shown)
    assert tables[0] == tables[1]
