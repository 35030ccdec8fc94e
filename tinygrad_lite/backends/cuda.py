"""``backends.cuda``: the switches of PyTorch's CUDA matrix products and attention kernels that GPU scripts set.

``matmul.allow_tf32 = True`` is accepted and ignored: on a GPU our float32 products are CuPy's, computed in float32
(CuPy uses TF32 only when its environment variable CUPY_TF32 is set), and float16 products add up in float32
(``float16_matmul.py``).

The attention switches (``enable_flash_sdp``, ``enable_math_sdp``... and ``nn.attention.sdpa_kernel``) choose among
PyTorch's kernels of ``F.scaled_dot_product_attention``. There is one implementation here, the formula written out
(PyTorch's "math" kernel), whichever is chosen; the switches decide only whether attention may run: as in PyTorch,
it refuses when no kernel that PyTorch has on the inputs' device is on (on a CPU, math and flash; on a GPU, any).
"""
import contextlib
import warnings
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)

SDP_KERNELS = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True, "overrideable": True,
               "fp16_bf16_reduction": False}
ON_A_CPU = ("math", "flash")  # (PyTorch's CPU kernels of attention)


def sdp_allowed(device_type):
    """Whether a kernel PyTorch has on ``device_type`` ("cpu" or "cuda") is switched on."""
    kernels = ON_A_CPU if device_type == "cpu" else ("math", "flash", "mem_efficient", "cudnn")
    return any(SDP_KERNELS[kernel] for kernel in kernels)


def enable_flash_sdp(enabled):
    SDP_KERNELS["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled):
    SDP_KERNELS["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled):
    SDP_KERNELS["math"] = bool(enabled)


def enable_cudnn_sdp(enabled):
    SDP_KERNELS["cudnn"] = bool(enabled)


def flash_sdp_enabled():
    return SDP_KERNELS["flash"]


def mem_efficient_sdp_enabled():
    return SDP_KERNELS["mem_efficient"]


def math_sdp_enabled():
    return SDP_KERNELS["math"]


def cudnn_sdp_enabled():
    return SDP_KERNELS["cudnn"]


def is_flash_attention_available():
    """False: there is no flash-attention kernel here (PyTorch's CPU build says False too)."""
    return False


def can_use_flash_attention(params, debug=False):
    """False: no fused attention kernel here (PyTorch's question for one ``SDPAParams``)."""
    return False


def can_use_efficient_attention(params, debug=False):
    return False


def allow_fp16_bf16_reduction_math_sdp(enabled):
    SDP_KERNELS["fp16_bf16_reduction"] = bool(enabled)


def fp16_bf16_reduction_math_sdp_allowed():
    """Whether the math kernel may add up float16 in float16 (PyTorch's switch; here float16 attention is
    computed as PyTorch's default computes it either way)."""
    return SDP_KERNELS["fp16_bf16_reduction"]


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Deprecated in PyTorch (and warns so) for ``nn.attention.sdpa_kernel``: the switches inside the block."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated "
                  "signature.", FutureWarning, stacklevel=3)
    previous = dict(SDP_KERNELS)
    SDP_KERNELS.update(flash=bool(enable_flash), math=bool(enable_math), mem_efficient=bool(enable_mem_efficient),
                       cudnn=bool(enable_cudnn))
    try:
        yield
    finally:
        SDP_KERNELS.update(previous)
