"""``Parameter``: a tensor that a ``Module`` learns.

A Parameter is an ordinary Tensor with two differences: it requires grad by default, and assigning one to a
module attribute (``self.weight = Parameter(...)``) registers it, so that ``model.parameters()`` finds it and
hands it to the optimizer. Results of ops on parameters are plain Tensors.
"""
from ..tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor: ``Parameter(data, requires_grad=True)``. It shares memory with ``data``, as in PyTorch.

    Deliberate difference: PyTorch also accepts a non-tensor here only by accident of subclassing; we ask for a
    Tensor, so that a float64 numpy array does not silently become a float64 weight.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = Tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(data).__name__}; wrap it first, "
                            "e.g. nn.Parameter(torch.tensor(x, dtype=torch.float32))")
        super().__init__(data, requires_grad=requires_grad)

    _not_deep_copied = ("_backward_hooks", "_grad")  # copy.deepcopy(model): no .grad and no hooks, as PyTorch's

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __format__(self, spec):
        """As its repr, even with one number, and a format spec is a TypeError, as in PyTorch: format
        ``p.item()`` for the number (f"{model.scale.item():.3f}")."""
        if spec:
            raise TypeError(f"unsupported format string passed to Parameter.__format__: {spec!r}; format p.item() "
                            "for the number")
        return repr(self)
