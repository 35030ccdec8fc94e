"""``tinygrad_lite.autograd.profiler`` (``torch.autograd.profiler``): the older profiler's API on the same recorder
(``profiler/``): ``profile(use_cuda=...)`` and ``record_function``."""
from ..profiler.events import EventList, FunctionEvent, FunctionEventAvg
from ..profiler.recording import ProfilerActivity, record_function
from ..profiler.recording import profile as _profile

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile(_profile):
    """``with autograd.profiler.profile(use_cuda=False, record_shapes=False) as prof:``; ``enabled=False`` records
    nothing."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        self.enabled = bool(enabled)
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if use_cuda or use_device == "cuda" else [])
        super().__init__(activities, record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops)

    def __enter__(self):
        return super().__enter__() if self.enabled else self

    def __exit__(self, *exc):
        return super().__exit__(*exc) if self.enabled else False
