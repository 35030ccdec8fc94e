"""Where a tensor's numbers live: ``data_ptr``, ``stride``, ``storage_offset``, ``get_device``, ``pin_memory``.

Scripts ask these to check that two tensors are the same memory (``a.data_ptr() == b.data_ptr()``: nanoGPT's check
that the embedding and the output layer share their weight) or how a view steps through its base. A tensor here is a
numpy (or CuPy) array, so the answers are the array's:

- ``data_ptr()``: the address of the first number (numpy's ``__array_interface__``, CuPy's ``data.ptr``);
- ``stride(dim=None)``: how many numbers one step along each dim moves in memory (numpy's byte strides divided by the
  item size; 0 along a dim that ``expand`` made);
- ``storage_offset()``: how many numbers from the start of the memory the tensor begins (a view's place in its
  base);
- ``get_device()``: -1 on the CPU, the GPU's index on "cuda";
- ``pin_memory()``: the tensor itself (there is no page-locked memory here; ``is_pinned()`` is False);
- ``share_memory_()`` refuses: another process gets a copy of a numpy array (``is_shared()`` is False).
Deliberate difference: a few views that PyTorch makes (``unfold``'s) are copies here, and their pointers say so.
"""
from .device import is_gpu_array
from .shapes import dim_index
from .tensor import Tensor


def _address(array):
    return int(array.data.ptr) if is_gpu_array(array) else int(array.__array_interface__["data"][0])


def data_ptr(self):
    """The address in memory of the tensor's first number."""
    return _address(self.array)


def stride(self, dim=None):
    """The step in memory, in numbers, of one move along each dim (a tuple), or along ``dim``."""
    steps = tuple(s // self.array.itemsize for s in self.array.strides)
    return steps if dim is None else steps[dim_index(dim, max(self.ndim, 1), "stride")] if self.ndim else 1


def storage_offset(self):
    """How many numbers into its memory the tensor begins: 0 for a tensor of its own, a view's place in its base."""
    root = self.array
    while isinstance(root.base, type(self.array)):
        root = root.base
    return (_address(self.array) - _address(root)) // self.array.itemsize


def get_device(self):
    """-1 for a tensor on the CPU, the GPU's index for one on "cuda" (as PyTorch's)."""
    return -1 if self.device.type == "cpu" else self.device.index or 0


SHARING = ("share_memory is not covered by tinygrad_lite: its tensors are numpy arrays, which another process "
           "receives as a copy, so several processes cannot train one model (Hogwild!); train in one process, or "
           "give each its own model and average their state_dicts")


def share_memory_(self):
    """Refused (``SHARING``): there is no memory shared between processes here."""
    raise NotImplementedError(SHARING)


def is_shared(self):
    """False: no tensor here lives in memory shared between processes."""
    return False


def pin_memory(self, device=None):
    """The tensor itself. PyTorch copies it into page-locked host memory, from which copies to a GPU run faster;
    here host arrays are numpy's and CuPy copies from them as they are, so there is nothing to pin."""
    if self.device.type != "cpu":
        raise RuntimeError(f"cannot pin a tensor on {self.device}: only dense CPU tensors can be pinned")
    return self


def is_pinned(self, device=None):
    """False: no tensor here is in page-locked memory (``pin_memory``)."""
    return False


for _function in (data_ptr, stride, storage_offset, get_device, pin_memory, is_pinned, share_memory_, is_shared):
    setattr(Tensor, _function.__name__, _function)
__all__ = []
