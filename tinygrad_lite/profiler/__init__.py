"""``tinygrad_lite.profiler`` (``torch.profiler``): where a training step spends its time, op by op.

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

Read ``recording.py`` (how ops are timed while a profile records) and ``events.py`` (the events, their self and
total times, the table and the Chrome trace). Ops are named by their op classes (``MatMul``, ``ReLU``), not by
PyTorch's ATen kernels (``aten::addmm``); the times are the library's own, on numpy or CuPy.
"""
from .events import EventList, FunctionEvent, FunctionEventAvg
from .recording import (ProfilerAction, ProfilerActivity, profile, record_function, schedule, supported_activities,
                        tensorboard_trace_handler)

__all__ = ["profile", "record_function", "schedule", "ProfilerActivity", "ProfilerAction",
           "tensorboard_trace_handler", "supported_activities", "EventList", "FunctionEvent", "FunctionEventAvg"]
