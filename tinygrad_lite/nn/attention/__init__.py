"""``nn.attention``: ``sdpa_kernel`` and ``SDPBackend``, for the scripts that choose an attention kernel.

PyTorch has several kernels of ``F.scaled_dot_product_attention`` (flash, memory-efficient, cuDNN, and "math", the
formula written out) and picks the fastest that fits; ``with sdpa_kernel(SDPBackend.FLASH_ATTENTION):`` allows only
the ones named. Here there is one implementation, the formula (PyTorch's MATH), so the choice changes no number and
no speed; it decides, as in PyTorch, whether attention may run at all: with no kernel on that PyTorch has on the
inputs' device (on a CPU: MATH or FLASH_ATTENTION), attention raises PyTorch's error. The switches are
``backends.cuda``'s (``enable_flash_sdp``...), restored when the block ends.
"""
import contextlib
import enum

from ...backends.cuda import SDP_KERNELS

__all__ = ["SDPBackend", "sdpa_kernel"]
WARN_FOR_UNFUSED_KERNELS = False  # (PyTorch's switch for its warnings about kernels it could not use)


class SDPBackend(enum.IntEnum):
    """PyTorch's attention kernels, by its numbers."""
    __str__ = enum.Enum.__str__  # ("SDPBackend.MATH", as PyTorch prints it, not the number)
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


SWITCHES = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
            SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.CUDNN_ATTENTION: "cudnn",
            SDPBackend.OVERRIDEABLE: "overrideable"}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Inside the block, attention may use only ``backends`` (an ``SDPBackend`` or a list of them); PyTorch's
    ``set_priority`` orders them, which changes nothing here."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, (list, tuple)) or not all(isinstance(b, SDPBackend) for b in backends):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    previous = dict(SDP_KERNELS)
    SDP_KERNELS.update({switch: backend in backends for backend, switch in SWITCHES.items()})
    try:
        yield {}
    finally:
        SDP_KERNELS.update(previous)
