r"""ReLU on a GPU: ``ReLU`` (``ops/activation.py``) with its backward as one fused kernel.

    forward     z = \max(x, 0)                 (one kernel already: CuPy's ``maximum``)
    backward    dL/dx = 0 where z <= 0, else g (``make_relu_gradient``)

As separate CuPy ops the backward is two kernels, the comparison (a temporary array of booleans, written and read
again) and the choice; fused, it reads g and z once and writes the gradient once. The formula is the CPU's, so the
numbers are the same (0 where z = 0 even for a nan or inf in g, and g where z is nan, as there and in PyTorch).
"""
from ..device import array_module_of
from ..ops.activation import ReLU
from . import fused


class ReLUCuda(ReLU):
    r"""``ReLU`` on a GPU: z = max(x, 0); dL/dx = 0 where z <= 0, else g, in one kernel (see the module)."""

    def backward(self, g):
        z, = self.saved_tensors
        return fused(array_module_of(z), make_relu_gradient)(g, z)


def make_relu_gradient(xp):
    r"""dL/dx = 0 where z <= 0, else g (z: the saved output, positive exactly where x is, nan where x is)."""
    return lambda g, z: xp.where(z <= 0, 0, g)
