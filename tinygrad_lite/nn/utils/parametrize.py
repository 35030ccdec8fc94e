r"""``nn.utils.parametrize``: a parameter computed by a function from other tensors, every time it is read.

``register_parametrization(module, "weight", P)`` moves ``module.weight`` to ``module.parametrizations.weight
.original`` (the tensor the optimizer trains) and makes ``module.weight`` a property that returns ``P(original)``,
so every forward pass uses the function of the trained tensor: a weight of spectral norm 1 (``spectral_norm``), a
direction times a length (``weight_norm``), a symmetric matrix (``P(X) = X + X^T``)... Gradients flow through P
to ``original``. Several parametrizations on one tensor are applied in the order they were registered.

If P has ``right_inverse(W)`` (a tensor X with P(X) = W), it gives ``original`` its first value, so that the
module computes what it did before; assigning ``module.weight = W`` later calls it too. One that returns several
tensors stores them as ``original0``, ``original1``... (``weight_norm``'s length and direction). The module's
class becomes a subclass named ``Parametrized<Class>`` holding the property, as in PyTorch, so that
``state_dict`` keys (``parametrizations.weight.original``) and the other modules of that class stay as they are.
``cached()`` computes each parametrized tensor once inside its block (a weight read by several steps of an RNN).
"""
import contextlib

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..parameter import Parameter

_cache = None  # inside ``cached()``: (id(module), name) -> the tensor computed once


@contextlib.contextmanager
def cached():
    """Inside the block, each parametrized tensor is computed on its first read and reused after."""
    global _cache
    outer = _cache
    _cache = {} if outer is None else outer
    try:
        yield
    finally:
        _cache = outer


def _store(module, name, tensor):
    """Register ``tensor`` on ``module`` as a parameter if it is one, else as a buffer (as PyTorch does)."""
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_numbers(destination, source):
    """``destination`` takes ``source``'s numbers (and shape) in place, keeping its identity: a Parameter an
    optimizer holds stays that Parameter."""
    with no_grad():
        destination.data = source.detach()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and the tensor(s) they are computed from: ``original`` (or
    ``original0``, ``original1``... when the first ``right_inverse`` returns several). Calling it computes the
    parametrized tensor."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = tuple(original.shape), original.dtype  # (before a right_inverse changes original's numbers)
        new = original
        with no_grad():
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, list, tuple)):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). Got "
                             f"{type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change the dtype.\noriginal"
                                 f".dtype: {original.dtype}\nright_inverse(original).dtype: {new.dtype}")
            _set_numbers(original, new)
            _store(self, "original", original)
        else:
            for i, value in enumerate(new):
                if not isinstance(value, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...)."
                                     f" Got element {i} of the sequence with type {type(value).__name__}.")
                value = value.detach()
                if isinstance(original, Parameter):
                    value = Parameter(value, original.requires_grad)
                _store(self, f"original{i}", value.requires_grad_(original.requires_grad))
        if not unsafe:
            result = self()
            if not isinstance(result, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(result).__name__}.")
            if result.dtype != dtype:
                raise ValueError(f"Registering a parametrization may not change the dtype of the tensor, unless "
                                 f"`unsafe` flag is enabled.\nunparametrized dtype: {dtype}\nparametrized "
                                 f"dtype: {result.dtype}")
            if tuple(result.shape) != shape:
                raise ValueError(f"Registering a parametrization may not change the shape of the tensor, unless "
                                 f"`unsafe` flag is enabled.\nunparametrized shape: {shape}\nparametrized "
                                 f"shape: {tuple(result.shape)}")

    def right_inverse(self, value):
        """``module.weight = value``: the originals become what the parametrizations' right inverses give."""
        with no_grad():
            for module in reversed(self):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                _set_numbers(self.original, value)
            else:
                if len(value) != self.ntensors:
                    raise ValueError(f"'right_inverse' must return a sequence of tensors of length {self.ntensors}. "
                                     f"Got a sequence of length {len(value)}.")
                for i, tensor in enumerate(value):
                    _set_numbers(getattr(self, f"original{i}"), tensor)

    def forward(self):
        first = self[0](self.original) if self.is_tensor else self[0](*(getattr(self, f"original{i}")
                                                                         for i in range(self.ntensors)))
        for module in list(self)[1:]:
            first = module(first)
        return first


def _parametrized_class(module):
    """Give ``module`` a class of its own, a subclass of its class, to hold the properties (once)."""
    cls = module.__class__
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"_class_before_parametrizations": cls})


def _property(module, name):
    """``module.<name>``: the parametrized tensor, computed when read; assigning it sets the originals."""
    def read(self):
        parametrization = self.parametrizations[name]
        if _cache is None:
            return parametrization()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def write(self, value):
        self.parametrizations[name].right_inverse(value)
    setattr(module.__class__, name, property(read, write))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` the output of ``parametrization`` (a Module) applied to the tensor it was
    (moved to ``module.parametrizations[tensor_name].original``); a second one on the same name is applied after
    the first. ``unsafe=True`` skips the checks that it keeps the tensor's shape and dtype. Returns the module."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            current = getattr(module, tensor_name)
            new = parametrization(current)
            if not isinstance(new, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(new).__name__}.")
            if new.dtype != current.dtype or new.shape != current.shape:
                what = "dtype" if new.dtype != current.dtype else "shape"
                raise ValueError(f"Registering a parametrization may not change the {what} of the tensor, unless "
                                 f"the `unsafe` flag is enabled.\nmodule.{tensor_name}.{what}: "
                                 f"{getattr(current, what)}\nparametrization(module.{tensor_name}).{what}: "
                                 f"{getattr(new, what)}")
            inverse = _right_inverse_of(parametrization, new)
            if inverse is not None and (inverse.dtype != current.dtype or inverse.shape != current.shape):
                what = "dtype" if inverse.dtype != current.dtype else "shape"
                raise ValueError(f"The tensor returned by parametrization.right_inverse must have the same {what} "
                                 f"as module.{tensor_name}, unless the `unsafe` flag is enabled.\nmodule."
                                 f"{tensor_name}.{what}: {getattr(current, what)}\nreturned {what}: "
                                 f"{getattr(inverse, what)}")
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with name "
                         f"'{tensor_name}'")
    original = getattr(module, tensor_name)
    parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _parametrized_class(module)
        module.parametrizations = ModuleDict()
    _property(module, tensor_name)
    module.parametrizations[tensor_name] = parametrizations
    return module


def _right_inverse_of(parametrization, value):
    """``parametrization.right_inverse(value)`` if it has one (None if not, or if it raises NotImplementedError),
    checked to be a tensor: what a second parametrization on a tensor must give back."""
    if not hasattr(parametrization, "right_inverse"):
        return None
    try:
        inverse = parametrization.right_inverse(value)
    except NotImplementedError:
        return None
    if not isinstance(inverse, Tensor):
        raise ValueError(f"parametrization.right_inverse must return a tensor. Got: {type(inverse).__name__}")
    return inverse


def is_parametrized(module, tensor_name=None):
    """Does ``module`` have a parametrization (on ``tensor_name``, if given)?"""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization``: ``module.<tensor_name>`` becomes a plain parameter again, holding the
    parametrized value (``leave_parametrized=True``, the same Parameter object as ``original``) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            _set_numbers(original, value)
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if value.requires_grad else value.detach()
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized in "
                         "terms of a sequence of tensors.")
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _store(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__._class_before_parametrizations
    return module


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered (its class itself if none was)."""
    return module.__class__._class_before_parametrizations if is_parametrized(module) else type(module)


__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "type_before_parametrizations", "ParametrizationList"]
