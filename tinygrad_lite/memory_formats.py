"""Memory formats: how a tensor's numbers are laid out in memory (``torch.preserve_format`` and its siblings).

PyTorch can store a 4-d image batch (N, C, H, W) "channels last" (each pixel's channels side by side), which some
convolution kernels run faster on; ``memory_format=`` on ``clone``, ``contiguous``, ``to`` and the ``*_like``
functions asks for a layout. Scripts pass it even where layout does not matter: PyTorch's own optimizers make their
state with ``torch.zeros_like(p, memory_format=torch.preserve_format)``.

Here every new tensor is laid out row-major ("contiguous"), so ``preserve_format`` and ``contiguous_format`` give
the same result. One difference from PyTorch: its ``preserve_format`` keeps the strides of a dense but transposed
input, so ``zeros_like(x.t()).is_contiguous()`` is False there and True here (the numbers are the same; only
``is_contiguous()`` can tell). ``channels_last`` and ``channels_last_3d`` are refused with an error that says why:
the layout only changes the speed of PyTorch's convolution kernels, and ours (nn/functional/conv.py) run on the
row-major layout that every tensor here has.
"""


class memory_format:
    """The type of ``tinygrad_lite.preserve_format``, ``contiguous_format``, ``channels_last`` and
    ``channels_last_3d`` (``torch.memory_format``). As in PyTorch, these four are the only instances."""

    def __init__(self, *args, **kwargs):
        raise TypeError("memory_format(): cannot create memory_format instances; pass one of "
                        "tinygrad_lite.preserve_format, tinygrad_lite.contiguous_format (the same here) or, in "
                        "PyTorch, torch.channels_last")

    @classmethod
    def _named(cls, name):
        made = object.__new__(cls)
        made.name = name
        return made

    def __repr__(self):
        return f"tinygrad_lite.{self.name}"

    def __reduce__(self):  # one object per format: copies and pickles resolve to the module's own
        return self.name


preserve_format = memory_format._named("preserve_format")
contiguous_format = memory_format._named("contiguous_format")
channels_last = memory_format._named("channels_last")
channels_last_3d = memory_format._named("channels_last_3d")


def check_memory_format(op, value):
    """Accept ``memory_format=`` for ``op``: preserve_format, contiguous_format or None (the default) give a row-major
    result, as every result here is; anything else is refused with a message that names ``op`` and the fix."""
    if value is None or value is preserve_format or value is contiguous_format:
        return
    if not isinstance(value, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be tinygrad_lite.memory_format (such as "
                        f"tinygrad_lite.preserve_format), not {type(value).__name__}")
    raise RuntimeError(f"{op}(): memory_format={value} is not supported: tinygrad_lite keeps every tensor "
                       "row-major, and its convolutions run on that layout (in PyTorch channels_last changes only "
                       "their speed). Leave memory_format out (or pass tinygrad_lite.contiguous_format): the numbers "
                       "are the same")


def is_contiguous(tensor, value):
    """``x.is_contiguous(memory_format=...)``: whether x's numbers lie in memory in that format's order. Every tensor
    here is row-major where it is contiguous at all, so for channels_last (N, H, W, C order of a 4-D tensor) and
    channels_last_3d (5-D) that holds only where the two orders agree: dims of size 1 aside, C = 1 or H W = 1."""
    if value is None or value is contiguous_format or value is preserve_format:
        return bool(tensor.array.flags.c_contiguous)
    if not isinstance(value, memory_format):
        raise TypeError("is_contiguous(): argument 'memory_format' must be tinygrad_lite.memory_format, not "
                        f"{type(value).__name__}")
    if tensor.ndim != (4 if value is channels_last else 5):
        return False
    order = [0, *range(2, tensor.ndim), 1]  # (N, spatial..., C): the dims from the slowest to the fastest
    expected, step = {}, tensor.array.itemsize
    for d in reversed(order):
        expected[d] = step
        step *= tensor.shape[d]
    return all(tensor.array.strides[d] == expected[d] for d in range(tensor.ndim) if tensor.shape[d] != 1)
