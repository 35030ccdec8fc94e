"""``Parameter``: a tensor that a ``Module`` learns.

A Parameter is an ordinary Tensor with two differences: it requires grad by default, and assigning one to a
module attribute (``self.weight = Parameter(...)``) registers it, so that ``model.parameters()`` finds it and
hands it to the optimizer. Results of ops on parameters are plain Tensors.

``UninitializedParameter`` (and ``UninitializedBuffer``) is a lazy layer's tensor before its first forward pass has
told it its shape (``nn.LazyLinear``: ``modules/lazy.py``).
"""
from ..creation import empty
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


class UninitializedTensorMixin:
    """A tensor of a lazy layer (``nn.LazyLinear``...) before its first forward: only its dtype, device and
    ``requires_grad`` are known, held by an empty array (which ``model.double()`` or ``model.to(device)`` convert as
    any other). Asking its shape or size raises, as PyTorch's, until ``materialize(shape)`` gives it an array of that
    shape (zeros) and makes it the plain kind (``cls_to_become``), in place: an optimizer made before holds the
    same object. Deliberate difference: PyTorch refuses every op on it; ours refuses the shape, size and numel only."""
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        with_array = empty(tuple(shape), device=device or self.device, dtype=dtype or self.dtype)
        self.array, self.__class__ = with_array.array, self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually happens "
                           "in `load_state_dict` when trying to load an uninitialized parameter into an initialized "
                           "one. Call `forward` to initialize the parameters before accessing their attributes.")

    def size(self, dim=None):
        return self.shape

    def numel(self):
        raise ValueError("Attempted to use an uninitialized parameter in numel. This error happens when you are using "
                         "a `LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` "
                         "objects. When using LazyModules Call `forward` with a dummy batch to initialize the "
                         "parameters before calling torch functions")

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape a lazy layer learns at its first forward (PyTorch's)."""
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(empty(0, device=device, dtype=dtype), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer (batch norm's running statistics) whose shape a lazy layer learns at its first forward."""
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None):
        super().__init__(empty(0, device=device, dtype=dtype), requires_grad=requires_grad)


def is_lazy(param):
    """Whether ``param`` is still an uninitialized parameter or buffer of a lazy layer."""
    return isinstance(param, UninitializedTensorMixin)
