"""``parameters_to_vector`` and ``vector_to_parameters``: a model's parameters as one flat vector, and back.

Some methods work on all the weights as one vector: a line search, a second-order or evolutionary method, weight
averaging, measuring how far training moved the model. ``parameters_to_vector`` concatenates the parameters,
flattened, in the order given (a tensor in the graph: a gradient flows back to each parameter);
``vector_to_parameters`` cuts a vector of the same length into pieces of the parameters' shapes and makes them the
parameters' numbers (their ``.data``, outside the graph). PyTorch's module path: ``torch.nn.utils``.
"""
from ...device import check_same_device
from ...functions import cat
from ...tensor import Tensor


def _tensors(parameters, op):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected Tensors (model.parameters()), got type {type(p).__name__}")
    if len(parameters) > 1:
        check_same_device(op, parameters)
    return parameters


def parameters_to_vector(parameters):
    """The parameters, each flattened, one after the other: a 1-D tensor of sum(p.numel()) numbers."""
    parameters = _tensors(parameters, "parameters_to_vector")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Put the numbers of ``vec`` (1-D, as long as all the parameters together) into the parameters, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor for vec, but got: {type(vec).__name__}")
    parameters = _tensors(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: vec must be 1-D with {total} numbers (the parameters' together), "
                           f"got shape {tuple(vec.shape)}")
    check_same_device("vector_to_parameters", [vec, *parameters])
    pointer = 0
    for p in parameters:
        p.data = vec[pointer:pointer + p.numel()].view_as(p).data
        pointer += p.numel()
