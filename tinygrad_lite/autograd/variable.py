"""``Variable``: PyTorch's old wrapper that let a tensor take part in autograd (before PyTorch 0.4).

Since then every tensor can require grad itself, and ``Variable(x)`` simply returns a tensor holding x's numbers;
``Variable(x, requires_grad=True)`` one that requires grad. That is all that old tutorials and courses need::

    from torch.autograd import Variable
    w = Variable(torch.randn(3, 1), requires_grad=True)

``isinstance(t, Variable)`` is True for every tensor, as in PyTorch. New code should write
``torch.randn(3, 1, requires_grad=True)`` (or ``torch.tensor(data, requires_grad=True)``) instead.
"""
import warnings

import numpy as np


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from ..tensor import Tensor  # (here, not at the top: tensor.py builds on this package)
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False)``: a new leaf tensor sharing ``data``'s numbers (``data.detach()``)."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from ..tensor import Tensor  # (here, not at the top: tensor.py builds on this package)
        if volatile:
            warnings.warn("Variable: volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        if data is None:
            data = Tensor._make(np.zeros(0, dtype=np.float32), None)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable: data has to be a tensor, but got {type(data).__name__}; wrap it first: "
                            "Variable(torch.tensor(data))")
        return data.detach().requires_grad_(requires_grad)
