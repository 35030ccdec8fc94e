r"""Recording a profile: ``profile``, ``record_function``, ``schedule`` and ``tensorboard_trace_handler``, as
``torch.profiler``'s.

While a profile records, every op's forward and backward is timed: ``Function.apply`` (which runs an op's forward,
``autograd/function.py``) and ``Function.input_grads`` (which the engine calls for its backward) are wrapped for
the profile's duration, and put back when it stops, so that code run without a profile pays nothing. Each timed
call becomes a ``FunctionEvent`` (``events.py``) whose parent is the range open around it (a ``record_function``,
a ``ProfilerStep#n``), so self and total times can be told apart.

With ``record_shapes=True`` an event keeps its inputs' shapes. With ``ProfilerActivity.CUDA``, an op on a GPU is
followed by a synchronisation and its time counted as device time (see ``events.py``: an upper bound on the
kernels' own time). ``schedule(wait, warmup, active, repeat)`` with ``prof.step()`` records only the active steps
and hands each finished cycle to ``on_trace_ready`` (``tensorboard_trace_handler`` writes it as a trace file).
Not covered: memory (``profile_memory``), stacks (``with_stack``), FLOPs and modules; a profile is one thread's.
"""
import enum
import os
import socket
import time
import warnings

from ..autograd.function import Function
from ..cuda import is_available as cuda_available
from ..cuda import synchronize
from .events import EventList, FunctionEvent

__all__ = ["ProfilerActivity", "ProfilerAction", "profile", "record_function", "schedule", "tensorboard_trace_handler",
           "supported_activities"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    """The activities a profile can record here: the CPU's, and "CUDA" (timed with synchronisation) where a GPU is
    at hand; a profile's default."""
    return {ProfilerActivity.CPU} | ({ProfilerActivity.CUDA} if cuda_available() else set())


def _now_us():
    return time.perf_counter_ns() / 1e3


_WARNED = []  # (PyTorch's warning that a cycle's events replace the last's, given once)
_RECORDING = []  # the profiles recording now (innermost last): the wrapped methods report to them
_ORIGINALS = {}


def _shapes(args):
    return [list(a.shape) if hasattr(a, "shape") and hasattr(a, "grad_fn") else [] for a in args]


def _timed(name, body, shapes_of=(), on_gpu=None):
    """Run ``body()`` as a range named ``name`` of every recording profile (``on_gpu``: the GPU the op ran on, which
    is synchronised before the range ends, for the profiles that time the device)."""
    profiles = list(_RECORDING)
    opened = [p._open(name, _shapes(shapes_of) if p.record_shapes else ()) for p in profiles]
    try:
        result = body()
        if on_gpu is not None and any(p._device for p in profiles):
            synchronize(on_gpu)
            for p, event in zip(profiles, opened):
                if p._device:
                    event.own_device_time = _now_us() - event.time_range.start
        return result
    finally:
        for p, event in zip(profiles, opened):
            p._close(event)


def _profiled_apply(cls, *args, **kwargs):
    gpu = next((a.device for a in args if hasattr(a, "grad_fn") and a.device.type == "cuda"), None)
    return _timed(cls.__name__, lambda: _ORIGINALS["apply"].__func__(cls, *args, **kwargs), args, gpu)


def _profiled_input_grads(self, grad):
    return _timed(f"autograd::engine::evaluate_function: {type(self).__name__}Backward",
                  lambda: _ORIGINALS["input_grads"](self, grad))


def _start_recording(prof):
    if prof in _RECORDING:
        return
    if not _RECORDING:
        _ORIGINALS.update(apply=Function.__dict__["apply"], input_grads=Function.__dict__["input_grads"])
        Function.apply = classmethod(_profiled_apply)
        Function.input_grads = _profiled_input_grads
    _RECORDING.append(prof)


def _stop_recording(prof):
    if prof in _RECORDING:
        _RECORDING.remove(prof)
    if not _RECORDING and _ORIGINALS:
        Function.apply, Function.input_grads = _ORIGINALS.pop("apply"), _ORIGINALS.pop("input_grads")


class record_function:
    """``with record_function("name"):`` (or ``@record_function("name")``): a named range in every recording
    profile, the parent of the ops run inside it."""

    def __init__(self, name, args=None):
        if not isinstance(name, str):
            raise TypeError(f"record_function(): name must be a str, got {type(name).__name__}")
        self.name, self.args, self._opened = name, args, []

    def __enter__(self):
        self._opened = [(p, p._open(self.name, (), user=True)) for p in _RECORDING]
        return self

    def __exit__(self, *exc):
        for p, event in self._opened:
            p._close(event)
        self._opened = []
        return False

    def __call__(self, function):
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return function(*args, **kwargs)
        wrapped.__name__, wrapped.__doc__ = function.__name__, function.__doc__
        return wrapped


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """The action of each step, as PyTorch's: after ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup``
    steps recorded and thrown away, ``active`` steps recorded (the last of them saved), ``repeat`` times (0: for
    ever)."""
    for name, value in (("wait", wait), ("warmup", warmup), ("active", active), ("repeat", repeat),
                        ("skip_first", skip_first)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"schedule(): {name} must be a non-negative integer, got {value!r}")
    if active < 1:
        raise ValueError("Invalid profiler schedule arguments: active must be at least 1")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if skip_first_wait and step >= 0:
            step += wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        place = step % cycle
        if place < wait:
            return ProfilerAction.NONE
        if place < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if place < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each saved cycle to ``dir_name`` as ``{worker}.{time}.pt.trace.json``."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{worker}.{time.time_ns()}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip  # (only for this option)
            with open(path, "rb") as plain, gzip.open(path + ".gz", "wb") as packed:
                packed.write(plain.read())
            os.remove(path)
    return handler


RECORDING_ACTIONS = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile:
    """``with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof: ...``, then
    ``prof.key_averages().table(sort_by="cpu_time_total")`` (the module docstring).

    With a ``schedule``, each ``prof.step()`` moves from one step's action to the next one's, as PyTorch's action
    map does: the ops are timed from the first step that is not NONE (WARMUP: timed, not kept); a trace starts at a
    recording step and ends after a RECORD_AND_SAVE step (or at the end), handed to ``on_trace_ready``; each step
    is a ``ProfilerStep#n`` range. ``acc_events=True`` keeps the events of every trace, not only the last one's."""

    def __init__(self, activities=None, *, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None):
        activities = supported_activities() if activities is None else set(activities)
        if not activities or not activities <= set(ProfilerActivity):
            raise ValueError(f"profile(): activities must be ProfilerActivity values, got {activities}")
        if profile_memory or with_stack or with_flops:
            raise NotImplementedError("profile(): profile_memory, with_stack and with_flops are not covered by "
                                      "tinygrad_lite; it records times (and input shapes with record_shapes=True)")
        self.activities, self.record_shapes, self.acc_events = activities, bool(record_shapes), bool(acc_events)
        self._device = ProfilerActivity.CUDA in activities or bool(use_cuda)
        self.schedule, self.on_trace_ready = schedule, on_trace_ready
        self.step_num, self.current_action = 0, None
        self._trace, self._tracing, self._open_ranges, self._step_range = [], False, [], None

    # ------------------------------------------------------------ what the wrapped methods call
    def _open(self, name, shapes, user=False):
        event = FunctionEvent(name, _now_us(), None, shapes, self._open_ranges[-1] if self._open_ranges else None,
                              is_user_annotation=user)
        self._open_ranges.append(event)
        return event

    def _close(self, event):
        event.time_range.end = _now_us()
        if self._open_ranges and self._open_ranges[-1] is event:
            self._open_ranges.pop()
        if self._tracing:
            self._trace.append(event)

    # ------------------------------------------------------------ the actions and the moves between them
    def _action(self):
        return self.schedule(self.step_num) if self.schedule is not None else ProfilerAction.RECORD

    def _start_trace(self):
        self._trace = self._trace if self.acc_events else []
        self._tracing = True

    def _trace_ready(self):
        if self.schedule is not None and not self.acc_events and not _WARNED:
            _WARNED.append(True)
            warnings.warn("Warning: Profiler clears events at the end of each cycle. Only events from the current "
                          "cycle will be reported. To keep events across cycles, set acc_events=True.", stacklevel=4)
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def _move(self, before, after):
        """PyTorch's action map: what ends, and what starts, between an action and the next (None: the end)."""
        if before in RECORDING_ACTIONS and (before is ProfilerAction.RECORD_AND_SAVE or after not in RECORDING_ACTIONS):
            self._tracing = False
            if before is ProfilerAction.RECORD_AND_SAVE or after is None:
                self._trace_ready()
        elif before is ProfilerAction.WARMUP and after not in RECORDING_ACTIONS + (ProfilerAction.WARMUP,):
            self._start_trace()  # (an empty trace: the warmup's events are never kept)
            self._tracing = False
        if after is None or after is ProfilerAction.NONE:
            _stop_recording(self)
            return
        _start_recording(self)
        if after in RECORDING_ACTIONS and not self._tracing:
            self._start_trace()

    def _open_step(self):
        if self.schedule is not None:  # (named ProfilerStep*, as PyTorch's events are; its number in the trace)
            self._step_range = self._open("ProfilerStep*", (), user=True)
            self._step_range.trace_name = f"ProfilerStep#{self.step_num}"

    def _close_step(self):
        if self._step_range is not None:
            self._close(self._step_range)
            self._step_range = None

    def start(self):
        self._open_ranges = []
        self.current_action = self._action()
        self._move(ProfilerAction.NONE, self.current_action)
        self._open_step()
        return self

    def step(self):
        """The end of one training step: the next step's action starts (``step_num`` counts the steps)."""
        self._close_step()
        before, self.step_num = self.current_action, self.step_num + 1
        self.current_action = self._action()
        self._move(before, self.current_action)
        self._open_step()

    def stop(self):
        """The end: the trace being recorded (all of it, without a schedule) goes to ``on_trace_ready``."""
        self._close_step()
        while self._open_ranges:
            self._close(self._open_ranges[-1])
        if self.current_action is not None:
            self._move(self.current_action, None)
        self.current_action = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ------------------------------------------------------------ what was recorded
    def events(self):
        """The events of the last trace (of all of them with ``acc_events``), in the order they started."""
        return EventList(sorted(self._trace, key=lambda event: event.time_range.start), use_device=self._device)

    function_events = property(events)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, *args, **kwargs):
        return self.events().table(*args, **kwargs)

    def total_average(self):
        return self.events().total_average()

    @property
    def self_cpu_time_total(self):
        return self.events().self_cpu_time_total

    def export_chrome_trace(self, path):
        self.events().export_chrome_trace(path)

    def __str__(self):
        return self.table()
