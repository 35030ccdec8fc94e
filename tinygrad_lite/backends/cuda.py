"""``backends.cuda``: the switches of PyTorch's CUDA matrix products that GPU scripts set
(``torch.backends.cuda.matmul.allow_tf32 = True``). Accepted and ignored: on a GPU our float32 products are
CuPy's, computed in float32 (CuPy uses TF32 only when its environment variable CUPY_TF32 is set), and float16
products add up in float32 (``float16_matmul.py``)."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)
