r"""What a profile recorded, and its summaries, with PyTorch's names (``torch.autograd.profiler_util``).

A ``FunctionEvent`` is one timed range: an op's forward (named by its op class, ``MatMul``), an op's backward
(``autograd::engine::evaluate_function: MatMulBackward``), a ``record_function`` range, or a training step
(``ProfilerStep*``; ``ProfilerStep#n`` in the Chrome trace).
Ranges nest: an op run inside ``record_function("model_inference")`` is its child. Times are in microseconds:
- total time: from the range's start to its end;
- self time: the total minus its children's totals (the time spent in the range itself, not in what it called).

``EventList.key_averages()`` sums the events of one name (and, with ``group_by_input_shape``, of one list of input
shapes) into ``FunctionEventAvg`` rows; ``table()`` prints them as PyTorch does (sorted by ``sort_by``, descending),
with each self and total time as a share of all the self time recorded; ``export_chrome_trace(path)`` writes the
ranges in Chrome's trace format (open it at chrome://tracing or in Perfetto).
"""
import itertools
import json
import os
import threading

__all__ = ["FunctionEvent", "FunctionEventAvg", "EventList", "Interval", "format_time"]


def format_time(us):
    """A time in microseconds as PyTorch prints it: 1.245ms, 50.325us, 2.001s."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class Interval:
    """A range's start and end, in microseconds (PyTorch's ``Interval``)."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def elapsed_us(self):
        return self.end - self.start

    def __repr__(self):
        return f"Interval(start={self.start}, end={self.end})"


class _Times:
    """The time properties every row has, from ``cpu_time_total``, ``self_cpu_time_total``, ``device_time_total``,
    ``self_device_time_total`` and ``count``; the ``_str`` forms are PyTorch's printed ones."""

    device_type, node_id, is_async, is_remote, is_legacy = "CPU", -1, False, False, False
    cpu_memory_usage = self_cpu_memory_usage = device_memory_usage = self_device_memory_usage = 0  # (not recorded)
    cpu_time = property(lambda self: self.cpu_time_total / max(self.count, 1))
    device_time = property(lambda self: self.device_time_total / max(self.count, 1))
    cuda_time_total = property(lambda self: self.device_time_total)
    self_cuda_time_total = property(lambda self: self.self_device_time_total)
    cuda_time = property(lambda self: self.device_time)
    cpu_time_str = property(lambda self: format_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: format_time(self.self_cpu_time_total))
    device_time_str = property(lambda self: format_time(self.device_time))
    device_time_total_str = property(lambda self: format_time(self.device_time_total))
    self_device_time_total_str = property(lambda self: format_time(self.self_device_time_total))


class FunctionEvent(_Times):
    """One timed range (module docstring). Its device time is the op's time with the GPU synchronised after it,
    recorded only when the profile asked for ``ProfilerActivity.CUDA`` and the op ran on a GPU (PyTorch reads the
    kernels' own times from the driver instead; a synchronised time also holds the launch, and no overlap)."""

    count, sequence_nr = 1, -1
    _ids = itertools.count()

    def __init__(self, name, start_us, end_us=None, input_shapes=(), parent=None, is_user_annotation=False):
        self.name = self.key = name
        self.id = next(FunctionEvent._ids)
        self.input_shapes, self.is_user_annotation = list(input_shapes), is_user_annotation
        self.input_dtypes, self.kernels = [], []
        self.time_range = Interval(start_us, start_us if end_us is None else end_us)
        self.own_device_time, self.cpu_parent, self.cpu_children = 0.0, parent, []
        self.thread = threading.get_ident()
        if parent is not None:
            parent.cpu_children.append(self)

    cpu_time_total = property(lambda self: self.time_range.elapsed_us())
    self_cpu_time_total = property(lambda self: self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children))
    device_time_total = property(lambda self: self.own_device_time + sum(c.device_time_total
                                                                         for c in self.cpu_children))
    self_device_time_total = property(lambda self: self.own_device_time)

    def __repr__(self):
        return (f"<FunctionEvent name={self.name} cpu_time={format_time(self.cpu_time_total)} "
                f"self_cpu_time={format_time(self.self_cpu_time_total)} input_shapes={self.input_shapes}>")


class FunctionEventAvg(_Times):
    """The events of one key (a name, and with ``group_by_input_shape`` its input shapes), summed: ``count`` of them,
    their total and self times; ``cpu_time`` is the average total."""

    def __init__(self, key, input_shapes):
        self.key, self.input_shapes, self.count = key, input_shapes, 0
        self.cpu_time_total = self.self_cpu_time_total = self.device_time_total = self.self_device_time_total = 0.0
        self.is_user_annotation, self.cpu_parent, self.cpu_children = False, None, []

    def add(self, event):
        if self.count == 0:  # (the first event's place in the tree stands for the row's)
            self.cpu_parent, self.cpu_children = event.cpu_parent, event.cpu_children
        self.count += event.count
        for name in ("cpu_time_total", "self_cpu_time_total", "device_time_total", "self_device_time_total"):
            setattr(self, name, getattr(self, name) + getattr(event, name))
        self.is_user_annotation = event.is_user_annotation
        return self

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={format_time(self.self_cpu_time_total)} "
                f"cpu_time={format_time(self.cpu_time_total)} input_shapes={self.input_shapes}>")


SORT_KEYS = ("cpu_time", "cpu_time_total", "self_cpu_time_total", "device_time", "device_time_total",
             "self_device_time_total", "cuda_time", "cuda_time_total", "self_cuda_time_total", "count",
             "cpu_memory_usage", "self_cpu_memory_usage", "device_memory_usage", "self_device_memory_usage")


class EventList(list):
    """A list of events (or of averaged rows), with PyTorch's summaries."""

    def __init__(self, events=(), use_device=False):
        super().__init__(events)
        self._use_device = use_device

    @property
    def self_cpu_time_total(self):
        return sum(event.self_cpu_time_total for event in self)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """One ``FunctionEventAvg`` per name (per name and input shapes with ``group_by_input_shape``), in the
        order their first events were recorded."""
        if group_by_stack_n:
            raise NotImplementedError("key_averages(group_by_stack_n=...): stacks are not recorded by tinygrad_lite")
        rows = {}
        for event in self:
            key = (event.key, str(event.input_shapes) if group_by_input_shape else None)
            rows.setdefault(key, FunctionEventAvg(event.key, event.input_shapes if group_by_input_shape else ""))
            rows[key].add(event)
        return EventList(rows.values(), self._use_device)

    def total_average(self):
        total = FunctionEventAvg("Total", [])
        for event in self:
            total.add(event)
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """The rows as PyTorch's profiler prints them (module docstring)."""
        if sort_by is not None and sort_by not in SORT_KEYS:
            raise AttributeError(f"table(): sort_by must be one of {', '.join(SORT_KEYS)}, got {sort_by!r}")
        rows = [event for event in self if not top_level_events_only or getattr(event, "cpu_parent", None) is None]
        if sort_by is not None:
            rows = sorted(rows, key=lambda event: getattr(event, sort_by), reverse=True)
        rows = rows[:row_limit] if row_limit is not None and row_limit >= 0 else rows
        shapes = any(getattr(event, "input_shapes", None) for event in rows)
        cpu_total, device_total = self.self_cpu_time_total, sum(event.self_device_time_total for event in self)
        total_cpu, total_device = cpu_total or 1.0, device_total or 1.0  # (the shares' denominators)
        name_width = min(max([len(event.key) for event in rows] + [4]) + 4, max_name_column_width)
        headers = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        if self._use_device:
            headers += ["Self CUDA", "Self CUDA %", "CUDA total", "CUDA time avg"]
        headers.append("# of Calls")
        widths = [12] * len(headers) + ([35] if shapes else [])
        headers += ["Input Shapes"] if shapes else []
        line = "-" * name_width + "  " + "".join("-" * w + "  " for w in widths)
        framed = []
        if header is not None:  # (framed by = lines, as PyTorch frames it)
            framed = ["=" * len(line), header] + (["=" * len(line), "This report only display top-level ops "
                                                   "statistics"] if top_level_events_only else []) + ["=" * len(line)]

        def cells(event):
            name = event.key if len(event.key) <= name_width else event.key[:name_width - 3] + "..."
            values = [f"{event.self_cpu_time_total / total_cpu * 100:.2f}%", format_time(event.self_cpu_time_total),
                      f"{event.cpu_time_total / total_cpu * 100:.2f}%", format_time(event.cpu_time_total),
                      format_time(event.cpu_time)]
            if self._use_device:
                values += [format_time(event.self_device_time_total),
                           f"{event.self_device_time_total / total_device * 100:.2f}%",
                           format_time(event.device_time_total), format_time(event.device_time)]
            values.append(str(event.count))
            if shapes:
                text = str(event.input_shapes)
                values.append(text if len(text) <= max_shapes_column_width else text[:max_shapes_column_width - 3]
                              + "...")
            return name.rjust(name_width) + "  " + "".join(v.rjust(w) + "  " for v, w in zip(values, widths))
        header_row = "Name".rjust(name_width) + "  " + "".join(h.rjust(w) + "  " for h, w in zip(headers, widths))
        out = framed + [line, header_row, line] + [cells(event) for event in rows] + [line]
        out.append(f"Self CPU time total: {format_time(cpu_total)}")
        if self._use_device:
            out.append(f"Self CUDA time total: {format_time(device_total)}")
        return "\n".join(out) + "\n"

    def export_chrome_trace(self, path):
        """The events as Chrome's trace format: one complete ("X") event each, in microseconds."""
        trace = [{"name": getattr(event, "trace_name", event.name), "ph": "X",
                  "cat": "user_annotation" if event.is_user_annotation else "cpu_op",
                  "ts": event.time_range.start, "dur": event.cpu_time_total, "pid": os.getpid(), "tid": event.thread,
                  "args": {"Input Dims": event.input_shapes} if event.input_shapes else {}}
                 for event in self if isinstance(event, FunctionEvent)]
        with open(path, "w") as file:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, file)

    def __str__(self):
        return self.table()
