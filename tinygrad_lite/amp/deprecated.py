"""The FutureWarning of PyTorch's deprecated mixed-precision spellings, ``torch.cuda.amp`` and ``torch.cpu.amp``
(``tinygrad_lite/cuda/amp.py``, ``tinygrad_lite/cpu/amp.py``)."""
import warnings


def warn_deprecated(device, name):
    """Warn, at the line of the caller's caller (the script), that ``<device>.amp.<name>`` is deprecated, naming the
    spelling to use instead, as PyTorch 2.13's own warning does."""
    warnings.warn(f"`tinygrad_lite.{device}.amp.{name}(args...)` is deprecated, as `torch.{device}.amp.{name}` is in "
                  f"PyTorch. Please use `tinygrad_lite.amp.{name}('{device}', args...)` (PyTorch: "
                  f"`torch.amp.{name}('{device}', args...)`) instead.", FutureWarning, stacklevel=3)
