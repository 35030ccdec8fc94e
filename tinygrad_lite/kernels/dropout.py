r"""Dropout on a GPU: the mask drawn and applied in one fused kernel.

    forward     m = [u >= p] / (1 - p),   y = x m        (u: the generator's uniform numbers; ``random.make_dropout``)
    backward    dL/dx = g m

On the CPU (``F.dropout``) the mask is drawn (``random.dropout_mask``) and the input multiplied by it, a product with
a constant in the graph: on a GPU that would be two kernels, the second reading back the mask the first wrote. Here
one kernel writes y and the mask together. The mask takes the GPU generator's next numbers, the uniform numbers
``rand`` would draw at the same positions of its stream (each device draws its own numbers: ``random.py``).
"""
from .. import random
from ..autograd.function import Function


class DropoutCuda(Function):
    r"""Dropout of a GPU array ``x`` with probability ``p``: y = x m (m drawn in the same kernel); dL/dx = g m."""

    def forward(self, x, p):
        y, mask = random.dropout_on_gpu(x, p)
        self.save_for_backward(mask)
        return y

    def backward(self, g):
        mask, = self.saved_tensors
        return g * mask
