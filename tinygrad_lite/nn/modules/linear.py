"""``Linear`` (the fully connected layer) and ``Identity``.

Linear computes y = x W^T + b for every row x of the input: W has shape (out_features, in_features), PyTorch's
layout, so weights move between the two libraries unchanged.
"""
import math

from ...creation import empty
from ...shapes import check_size
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def draw_weights(weight, bias):
    r"""PyTorch's default initialisation of a Linear or convolution layer: ``weight`` by ``kaiming_uniform_`` with
    a = \sqrt{5}, that is U(-1/\sqrt{fan_in}, 1/\sqrt{fan_in}), and ``bias`` (if any) from the same range."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """forward(x) = x. Handy as a placeholder, e.g. to remove a layer from a model. Arguments are ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    r"""y = x W^T + b, applied to the last dim: input (*, in_features) -> output (*, out_features).

    PyTorch's default initialisation: W ~ U(-1/\sqrt{in}, 1/\sqrt{in}) (that is ``kaiming_uniform_`` with
    a = \sqrt{5}, see ``nn.init``) and b ~ U(-1/\sqrt{in}, 1/\sqrt{in}). The draws come from our global
    generator, so they are not the numbers PyTorch draws: to compare, copy weights with ``load_state_dict``.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        in_features, out_features = check_size("Linear", "in_features", in_features), \
            check_size("Linear", "out_features", out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(empty((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw new weights: W and b from U(-1/sqrt(in_features), 1/sqrt(in_features))."""
        draw_weights(self.weight, self.bias)

    def forward(self, input):
        weight, bias = self.weight, self.bias  # (each a lookup through Module.__getattr__: done once)
        try:
            return F.linear(input, weight, bias)
        except Exception:  # say which layer failed, and why; checked only on failure (this runs for every batch)
            F._check_linear_input(self, input, self.in_features)  # self: its repr names the layer
            self._check_parameters(weight, bias)
            raise

    def _check_parameters(self, weight, bias):
        """A weight or bias replaced by one of the wrong shape, named with the layer (PyTorch fails in addmm)."""
        w = weight.array.shape
        b = None if bias is None else bias.array.shape
        if len(w) != 2 or w[1] != self.in_features:
            raise RuntimeError(f"{self}: its weight has shape {w}, expected (out_features, in_features) = "
                               f"{(self.out_features, self.in_features)}; assign a Parameter of that shape")
        if b is not None and b != (w[0],):
            raise RuntimeError(f"{self}: its bias has shape {b}, expected (out_features,) = {(w[0],)}, one number per "
                               "output; assign a Parameter of that shape")

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    r"""y_k = x_1^T W_k x_2 + b_k (``F.bilinear``): weight (out_features, in1_features, in2_features), bias
    (out_features), both from U(-1/\sqrt{in1}, 1/\sqrt{in1}), as PyTorch's."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = (
            check_size("Bilinear", name, n) for name, n in (("in1_features", in1_features),
                                                             ("in2_features", in2_features),
                                                             ("out_features", out_features)))
        self.weight = Parameter(empty((out_features, in1_features, in2_features), device=device, dtype=dtype))
        self.register_parameter("bias", Parameter(empty(out_features, device=device, dtype=dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
