r"""``utils.benchmark``: ``Timer`` and its ``Measurement``, PyTorch's way of timing a statement honestly.

``Timer("model(x)", globals={"model": model, "x": x})`` times a statement as Python's ``timeit`` does (the setup
run once, then the statement in a loop), with what lesson 08 teaches about timing: runs before the measured ones
(a warmup), a GPU's queue emptied before each reading of the clock (``cuda.synchronize``: otherwise the clock
measures only the launching of the work), many runs per measurement so that the clock's own cost vanishes, and the
median and interquartile range of several measurements rather than one number.

- ``timeit(number)``: a warmup of number / 100 runs (at least 2), then one measurement of ``number`` runs.
- ``blocked_autorange(min_run_time=0.2)``: the runs per block grown by tens until a block takes at least
  min_run_time / 1000 and the clock's cost is under 1e-4 of it, then blocks until min_run_time has passed.
- ``adaptive_autorange(threshold=0.1)``: blocks until the IQR is under ``threshold`` times the median (at least 4
  blocks), within ``max_run_time``.
``Measurement`` gives ``times`` (seconds per run, one per block), ``median``, ``mean``, ``iqr``,
``significant_figures`` and a summary when printed, warning when the spread suggests a noisy machine. As in
PyTorch, the statement's globals include ``torch`` (here this library) unless given.

``Compare(measurements).print()`` lays measurements out as PyTorch's table: one per label, a column per
description, a row per sub-label within each thread count, every median in the table's unit.

Differences: ``num_threads`` (1 by default, as in PyTorch) limits numpy's matrix-product threads only where the
``threadpoolctl`` package is installed (``set_num_threads``); without it the statement runs on the threads numpy
has, and the Timer warns (once for each count). Only Python statements (PyTorch also times C++ and counts
instructions with Callgrind).
"""
import contextlib
import dataclasses
import math
import sys
import textwrap
import timeit
import warnings

import numpy as np

from .. import cuda, settings

__all__ = ["Timer", "Measurement", "TaskSpec", "Compare", "select_unit"]

_WARNED = set()  # (the thread counts Timer has warned it cannot set)
IQR_WARN, IQR_GROSS_WARN = 0.1, 0.25  # (the IQR as a fraction of the median past which a measurement warns)


def timer():
    """The clock: ``timeit.default_timer``, after the GPU has finished what was queued (when there is a GPU)."""
    if cuda.is_available():
        cuda.synchronize()
    return timeit.default_timer()


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What was timed: the statement, its setup and the labels that name it in a printed measurement (two equal
    ones are the same task: ``Measurement.merge`` pools their times)."""
    stmt: str
    setup: str
    global_setup: str = ""
    label: str = None
    sub_label: str = None
    description: str = None
    env: str = None
    num_threads: int = 1

    @property
    def title(self):
        """The label (and sub-label), else the statement."""
        sub = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + sub
        if "\n" not in self.stmt:
            return self.stmt + sub
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self):
        if self.setup in ("pass", ""):
            return ""
        return f"setup:\n{textwrap.indent(self.setup, '  ')}" if "\n" in self.setup else f"setup: {self.setup}"

    def summarize(self):
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{section}\n" if "\n" in section else section for section in sections if section)


class Measurement:
    """``raw_times``: the seconds each block of ``number_per_run`` runs took."""

    def __init__(self, number_per_run, raw_times, task_spec, metadata=None):
        self.number_per_run, self.raw_times, self.task_spec, self.metadata = number_per_run, raw_times, task_spec, \
            metadata

    def __getattr__(self, name):  # (the task's fields: m.stmt, m.label, m.env, m.num_threads...)
        if name in ("stmt", "setup", "global_setup", "label", "sub_label", "description", "env", "num_threads"):
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self):
        """Seconds per run, one number per block."""
        return [t / self.number_per_run for t in self.raw_times]

    def _quantile(self, q):
        return float(np.quantile(np.asarray(self.times, dtype=np.float64), q))

    @property
    def median(self):
        return self._quantile(0.5)

    @property
    def mean(self):
        return float(np.mean(self.times))

    @property
    def iqr(self):
        """The interquartile range: the spread of the middle half of the times."""
        return self._quantile(0.75) - self._quantile(0.25)

    def meets_confidence(self, threshold=IQR_WARN):
        return self.iqr / self.median < threshold

    @property
    def significant_figures(self):
        """How many digits of the median to trust (1 to 4), from the spread of the middle half of the times."""
        times = sorted(self.times)
        middle = times[len(times) // 4:math.ceil(3 * len(times) / 4)]
        interval = max(1.645 * float(np.std(middle)) / math.sqrt(len(middle)), 2.5e-8)
        return min(max(math.floor(math.log10(self.median / interval)), 1), 4)

    @property
    def _warnings(self):
        if self.meets_confidence(IQR_WARN):
            return []
        what = "This suggests significant environmental influence." if not self.meets_confidence(IQR_GROSS_WARN) \
            else "This could indicate system fluctuation."
        return [f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% of the median measurement.\n"
                f"           {what}"]

    @property
    def has_warnings(self):
        return bool(self._warnings)

    @property
    def title(self):
        return self.task_spec.title

    @property
    def as_row_name(self):
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self):
        n = len(self.raw_times)
        unit, scale = select_unit(self.median)
        lines = [object.__repr__(self), self.task_spec.summarize(),
                 f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}"]
        if n >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({self._quantile(0.25) / scale:.2f} to "
                         f"{self._quantile(0.75) / scale:.2f})")
        threads = self.num_threads
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {threads} thread{'s' if threads > 1 else ''}")
        return "\n".join([*lines, *self._warnings]).strip()

    @staticmethod
    def merge(measurements):
        """One measurement per task, of the times of all of its measurements."""
        groups = {}
        for m in measurements:
            groups.setdefault(m.task_spec, []).extend(m.times)
        return [Measurement(1, times, spec) for spec, times in groups.items()]


def select_unit(t):
    """The unit to print ``t`` seconds in ("ns", "us", "ms" or "s"), and its size in seconds."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(math.floor(math.log10(t) / 3), "s") if t > 0 else "s"
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


@contextlib.contextmanager
def _threads(n):
    """Numpy's matrix products on ``n`` threads inside the block, where threadpoolctl can see to it."""
    if settings._threadpoolctl() is None:
        if n != settings.get_num_threads() and n not in _WARNED:  # (once for each count: a notebook times often)
            _WARNED.add(n)
            warnings.warn(f"Timer(num_threads={n}): the statement runs on the threads numpy has (about "
                          f"{settings.get_num_threads()}): limiting them needs the threadpoolctl package (pip install "
                          "threadpoolctl)", stacklevel=4)
        yield
        return
    before = settings.get_num_threads()
    settings.set_num_threads(n)
    try:
        yield
    finally:
        settings.set_num_threads(before)


class Timer:
    """Times the Python statement ``stmt`` (a string) after ``setup``, in a namespace made of ``globals``."""

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=timer, globals=None, label=None,
                 sub_label=None, description=None, env=None, num_threads=1, language="python"):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language not in ("python", "py") and getattr(language, "name", None) != "PYTHON":
            raise ValueError(f"Timer(language={language!r}): only Python statements are timed here (PyTorch also "
                             "times C++)")
        if global_setup:
            raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply be "
                             "moved to `setup`.")
        namespace = dict(globals or {})
        namespace.setdefault("torch", sys.modules[__name__.partition(".")[0]])  # (this library, as torch)
        stmt, setup = (_tidy(code) for code in (stmt, setup))
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=namespace)
        self._task_spec = TaskSpec(stmt, setup, global_setup, label, sub_label, description, env, num_threads)

    def _timeit(self, number):
        return self._timer.timeit(number=max(int(number), 1) if number else 0)

    def timeit(self, number=1000000):
        """A warmup, then one measurement of ``number`` runs."""
        with _threads(self._task_spec.num_threads):
            self._timeit(max(number // 100, 2))
            return Measurement(number, [self._timeit(number)], self._task_spec)

    def _block_size(self, min_run_time):
        """Runs per block: grown by tens until the clock's cost is negligible and a block takes long enough."""
        overhead = float(np.median([self._timeit(0) for _ in range(5)]))
        number = 1
        while True:
            taken = self._timeit(number)
            if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or taken > min_run_time \
                    or number * 10 > 2147483647:
                return number
            number *= 10

    def _blocks(self, number, enough, min_run_time, max_run_time=None, callback=None):
        """Blocks of ``number`` runs until ``min_run_time`` has passed and ``enough(times)`` (or ``max_run_time``)."""
        times, total = [], 0.0
        while True:
            taken = self._timeit(number)
            times.append(taken)
            total += taken
            if callback:
                callback(number, taken)
            if (total >= min_run_time and enough(times)) or (max_run_time and total > max_run_time):
                return times

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of runs until ``min_run_time`` seconds have passed."""
        with _threads(self._task_spec.num_threads):
            number = self._block_size(min_run_time)
            times = self._blocks(number, lambda times: True, min_run_time, callback=callback)
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Blocks of runs until the IQR is below ``threshold`` times the median (after at least 4 blocks)."""
        with _threads(self._task_spec.num_threads):
            number = self._block_size(0.05)
            spec = self._task_spec
            times = self._blocks(number, lambda times: len(times) > 3 and Measurement(
                number, times, spec).meets_confidence(threshold), min_run_time, max_run_time, callback)
        return Measurement(number, times, spec)

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")


def _tidy(code):
    """A statement written indented inside a function, dedented, without its first newline and trailing space."""
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()


UNITS = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}
BEST, GOOD, BAD, VERY_BAD, BOLD, END = "\033[92m", "\033[34m", "\033[2m\033[91m", "\033[31m", "\033[1m", "\033[0m"


class Compare:
    """Measurements as tables: one per label; a column per description; a row per sub-label (else statement),
    grouped by thread count; each cell the median of that task's times (measurements of one task pooled)."""

    def __init__(self, results):
        self._results, self._trim, self._colorize, self._highlight = [], False, None, False
        self.extend_results(results)

    def extend_results(self, results):
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        """Print each median with only the digits its spread supports."""
        self._trim = True

    def colorize(self, rowwise=False):
        """Colour each cell against the best of its column (or row): green best, red 2x and 5x slower."""
        self._colorize = "rowwise" if rowwise else "columnwise"

    def highlight_warnings(self):
        """Mark the cells of noisy measurements with their IQR as a percentage of the median."""
        self._highlight = True

    def __str__(self):
        labels = {}
        for m in Measurement.merge(self._results):
            labels.setdefault(m.label, []).append(m)
        return "\n".join(_Table(results, self._trim, self._colorize, self._highlight).render()
                         for results in labels.values())

    def print(self):
        print(str(self))


class _Table:
    """One label's measurements: rows (thread count, row name), columns (description), cells (their medians)."""

    def __init__(self, results, trim, colorize, highlight):
        self.results, self.trim, self.colorize, self.highlight = results, trim, colorize, highlight
        self.unit, self.scale = select_unit(min(m.median for m in results))
        self.rows = sorted(dict.fromkeys((m.num_threads, m.as_row_name) for m in results), key=lambda r: r[0])
        self.columns = list(dict.fromkeys(m.description for m in results))
        self.cells = {(m.num_threads, m.as_row_name, m.description): m for m in results}

    def render(self):
        formats = [self.cell_format(column) for column in self.columns]
        table = [[""] + [column or "" for column in self.columns]]
        table += [["      " + name] + [form(self.cells.get((threads, name, column)))
                                       for column, form in zip(self.columns, formats)] for threads, name in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(self.columns) + 1)]
        header = "  |  ".join(text.center(width) for text, width in zip(table[0], widths))
        lines, threads = [header], None
        for row, line in zip(self.rows, table[1:]):
            if row[0] != threads:
                threads = row[0]
                lines.append(f"{threads} threads: ".ljust(len(header), "-"))
            lines.append("  |  ".join([line[0].ljust(widths[0])] + [
                self.coloured(text.center(width), row, column)
                for text, width, column in zip(line[1:], widths[1:], self.columns)]))
        label = self.results[0].label
        noisy = self.highlight and any(m.has_warnings for m in self.results)
        return (f"[{(' ' + (label or '') + ' ').center(len(header) - 2, '-')}]\n" + "\n".join(lines) +
                f"\n\nTimes are in {UNITS[self.unit]}s ({self.unit}).\n" +
                ("(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n" if noisy else ""))

    def cell_format(self, column):
        """How one column prints its cells: the medians right-aligned, with one number of decimals for all (with
        ``trim``: as many as the least certain supports), and the spread of noisy ones with ``highlight``."""
        present = [m for (_, _, c), m in self.cells.items() if c == column]
        digits = [math.ceil(math.log10(m.median / self.scale)) for m in present]
        decimals = min(max(m.significant_figures - d, 0) for m, d in zip(present, digits)) if self.trim else 1
        width = max(digits) + decimals + (1 if decimals else 0)
        marks = self.highlight and any(m.has_warnings for m in present)

        def cell(m):
            if m is None:
                return " " * (width + (7 if marks else 0))
            value = m.median / self.scale
            value = _trim_sigfig(value, m.significant_figures) if self.trim else value
            mark = f" (! {m.iqr / m.median * 100:.0f}%)" if marks and m.has_warnings else ""
            return f"{value:>{width}.{decimals}f}" + (f"{mark:>7}" if marks else "")
        return cell

    def coloured(self, text, row, column):
        """``text`` coloured by its median against the best of its row, or of its column in its thread group."""
        m = self.cells.get((*row, column))
        if self.colorize is None or m is None:
            return text
        if self.colorize == "rowwise":
            rivals = [self.cells.get((*row, c)) for c in self.columns]
        else:
            rivals = [self.cells.get((threads, name, column)) for threads, name in self.rows if threads == row[0]]
        best = min(r.median for r in rivals if r is not None)
        if m.median <= best * 1.01 or m.median <= best + 100e-9:
            return BEST + BOLD + text + END * 2
        if m.median <= best * 1.1:
            return GOOD + BOLD + text + END * 2
        if m.median >= best * 5:
            return VERY_BAD + BOLD + text + END * 2
        return BAD + text + END * 2 if m.median >= best * 2 else text


def _trim_sigfig(x, n):
    """``x`` rounded to ``n`` significant figures."""
    scale = 10 ** (math.ceil(math.log10(abs(x))) - n)
    return round(x / scale) * scale
