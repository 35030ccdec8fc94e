r"""``nn.utils.prune``: set chosen weights to zero, and keep them zero while the network trains.

Pruning ``module.weight`` moves the trained tensor to the parameter ``weight_orig`` (the same Parameter object, so
an optimizer made before keeps training it), adds a buffer ``weight_mask`` of zeros and ones, and makes
``module.weight`` the product ``weight_orig * weight_mask``: a plain tensor, recomputed before every forward by a
forward pre-hook (the pruning method itself). The gradient of ``weight_orig`` is zero where the mask is, so a pruned
weight stays pruned. ``remove`` makes it permanent: ``weight`` becomes a Parameter again, holding the product.

Which weights go (``amount``: a fraction of them, 0.3, or a count, 30):
- ``l1_unstructured``: the weights of smallest |w| (``importance_scores`` replaces |w| where given);
- ``random_unstructured``: weights at random;
- ``ln_structured``: whole slices along ``dim`` (a Linear's rows with ``dim=0``: output units) of smallest L_n norm;
- ``random_structured``: slices along ``dim`` at random;
- ``global_unstructured``: the smallest weights of several tensors taken together (one threshold for all);
- ``custom_from_mask``: the zeros of a mask of your own; ``identity``: none (a mask of ones).
Pruning a tensor again prunes among the weights still there (``amount`` counts those): a ``PruningContainer``
holds the methods applied so far. As in PyTorch; the random methods draw from this library's generator, so they
pick other weights than PyTorch's for the same seed.
"""
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

from ... import creation
from ...autograd.grad_mode import no_grad
from .convert_parameters import parameters_to_vector

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured", "l1_unstructured",
           "random_structured", "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


class BasePruningMethod(ABC):
    """A way of choosing the weights to prune. A subclass says which ones in ``compute_mask(t, default_mask)``
    (``default_mask``: the mask so far) and its ``PRUNING_TYPE``: "unstructured" (single weights), "structured"
    (slices along ``self.dim``) or "global" (a mask given whole)."""
    _tensor_name = None

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask of ``t``: ``default_mask`` with more zeros."""

    def __call__(self, module, inputs):
        """The forward pre-hook: ``module.<name>`` recomputed from the trained tensor and the mask."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    def apply_mask(self, module):
        """``<name>_orig * <name>_mask``: the pruned tensor, in the graph of the trained one."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned")
        original = getattr(module, self._tensor_name + "_orig")
        return getattr(module, self._tensor_name + "_mask").to(dtype=original.dtype) * original

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)``, after the methods already applied to it."""
        method = _combined(cls, module, name, *args, **kwargs)
        original = getattr(module, name)
        if importance_scores is not None and importance_scores.shape != original.shape:
            raise AssertionError(f"importance_scores should have the same shape as parameter {name} of {module}: "
                             f"got {tuple(importance_scores.shape)}, the parameter is {tuple(original.shape)}")
        first = not isinstance(method, PruningContainer)
        if first:  # the trained Parameter moves to <name>_orig (the same object)
            module.register_parameter(name + "_orig", original)
            del module._parameters[name]
            default_mask = creation.ones_like(original)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            with no_grad():
                mask = method.compute_mask(original if importance_scores is None else importance_scores,
                                           default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # (the module as it was)
                module.register_parameter(name, module._parameters.pop(name + "_orig"))
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` times the mask this method computes for it (on its own, without a module)."""
        scores = t if importance_scores is None else importance_scores
        default_mask = creation.ones_like(t) if default_mask is None else default_mask
        with no_grad():
            mask = self.compute_mask(scores, default_mask=default_mask)
        return t * mask

    def remove(self, module):
        """Make the pruning permanent: ``module.<name>`` becomes the Parameter (the trained one, so an optimizer
        keeps it) holding the pruned numbers; ``<name>_orig`` and ``<name>_mask`` go."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {module} has to be pruned before pruning can be removed")
        name = self._tensor_name
        pruned = self.apply_mask(module)
        if name in module.__dict__:
            delattr(module, name)
        parameter = module._parameters.pop(name + "_orig")
        with no_grad():
            parameter.data = pruned.detach()
        del module._buffers[name + "_mask"]
        setattr(module, name, parameter)


def _combined(cls, module, name, *args, **kwargs):
    """The new method, in a ``PruningContainer`` after the one already on ``module.<name>`` (whose hook goes)."""
    found = [(key, hook) for key, hook in module._forward_pre_hooks.items()
             if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not found:
        return method
    key, old = found[0]
    del module._forward_pre_hooks[key]
    container = old if isinstance(old, PruningContainer) else PruningContainer(old)
    container.add_pruning_method(method)
    return container


class PruningContainer(BasePruningMethod):
    """The methods applied one after another to one tensor; the last one prunes among the weights (or slices)
    that the mask so far keeps."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        if len(methods) == 1:
            self._tensor_name = methods[0]._tensor_name
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if method is not None and not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                             f"PruningContainer {self}. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, index):
        return self._pruning_methods[index]

    def compute_mask(self, t, default_mask):
        """The last method's mask, computed on the part of ``t`` that ``default_mask`` keeps: the weights still
        there (unstructured), the slices along its dim with a weight still there (structured), or all (global)."""
        method, mask = self._pruning_methods[-1], default_mask.to(dtype=t.dtype)
        if method.PRUNING_TYPE == "unstructured":
            kept = mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` "
                                     "defined.")
            dim = method.dim + t.dim() if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {t.dim()}")
            slices = [slice(None)] * t.dim()
            slices[dim] = mask.sum(dim=[d for d in range(t.dim()) if d != dim]) != 0
            kept = tuple(slices)
        elif method.PRUNING_TYPE == "global":
            kept = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        mask = mask.clone()
        mask[kept] = method.compute_mask(t[kept], default_mask=mask[kept]).to(dtype=mask.dtype)
        return mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (pruning's attributes and hook without a change)."""
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _SmallestScores(BasePruningMethod):
    """Prunes the ``amount`` weights (a count, or a fraction of them) of smallest ``_scores(t)``."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        return _zero_smallest(self._scores(t), _how_many(self.amount, t.numel()), default_mask)


class RandomUnstructured(_SmallestScores):
    """Prunes ``amount`` weights (a count, or a fraction of them) chosen at random."""

    @staticmethod
    def _scores(t):
        return creation.rand(t.shape, device=t.device)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_SmallestScores):
    """Prunes the ``amount`` weights (a count, or a fraction of them) of smallest absolute value."""

    @staticmethod
    def _scores(t):
        return t.abs()

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class _LargestSlices(BasePruningMethod):
    """Keeps the slices along ``dim`` of largest ``_scores(t, dim)`` (one number a slice), pruning ``amount``."""
    PRUNING_TYPE = "structured"

    def compute_mask(self, t, default_mask):
        _check_structured(t, self.dim)
        size = t.shape[self.dim]
        pruned = _how_many(self.amount, size)
        if pruned == 0:
            return default_mask
        dim = self.dim % t.dim()
        kept = self._scores(t, dim).topk(size - pruned, largest=True).indices
        return _keep_slices(t, dim, kept) * default_mask.to(dtype=t.dtype)


class RandomStructured(_LargestSlices):
    """Prunes ``amount`` slices along ``dim`` (a count, or a fraction of them) chosen at random."""

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    @staticmethod
    def _scores(t, dim):
        return creation.rand(t.shape[dim], device=t.device)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_LargestSlices):
    """Prunes the ``amount`` slices along ``dim`` (a count, or a fraction of them) of smallest L_n norm (``n``:
    1, 2, ``float("inf")``, "fro"...), the norm taken over every other dim."""

    def __init__(self, amount, n, dim=-1):
        _check_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def _scores(self, t, dim):
        return t.norm(self.n, dim=[d for d in range(t.dim()) if d != dim])

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount, n, dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where ``mask`` is 0 (a tensor of the parameter's shape)."""
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"custom_from_mask: the mask has shape {tuple(self.mask.shape)}, the parameter "
                             f"{tuple(default_mask.shape)}; give a mask of the parameter's shape")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def _check_amount(amount):
    """``amount``: a non-negative count (an int) or a fraction in [0, 1] (a float)."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _how_many(amount, size):
    """How many of ``size`` to prune: ``amount`` itself (a count), or the fraction of ``size`` rounded."""
    count = amount if isinstance(amount, numbers.Integral) else round(amount * size)
    if count > size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")
    return count


def _check_structured(t, dim):
    if t.dim() <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. Found tensor of shape "
                         f"{t.shape} with {t.dim()} dims")
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


def _zero_smallest(scores, count, default_mask):
    """``default_mask`` with zeros where the ``count`` smallest ``scores`` are."""
    mask = default_mask.clone()
    if count:
        mask.view(-1)[scores.reshape(-1).topk(count, largest=False).indices] = 0
    return mask


def _keep_slices(t, dim, kept):
    """A mask of ``t``'s shape: ones in the slices ``kept`` along ``dim``, zeros elsewhere."""
    mask = creation.zeros_like(t)
    index = [slice(None)] * t.dim()
    index[dim] = kept
    mask[tuple(index)] = 1
    return mask


def identity(module, name):
    """Prune nothing from ``module.<name>`` (the pruning's attributes and hook, with a mask of ones)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` weights of ``module.<name>`` at random (``amount``: a count, or a fraction in [0, 1])."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` weights of ``module.<name>`` of smallest |w| (or of smallest ``importance_scores``)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` slices of ``module.<name>`` along ``dim``, at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` slices of ``module.<name>`` along ``dim`` of smallest L_n norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the tensors ``parameters`` (pairs ``(module, name)``) together: ``pruning_method(**kwargs)`` (an
    unstructured method, e.g. ``L1Unstructured`` with ``amount=0.2``) chooses among all their weights at once, and
    each tensor gets its part of the mask."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = {} if importance_scores is None else importance_scores
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector([importance_scores.get((module, name), getattr(module, name))
                                   for module, name in parameters])
    default_mask = parameters_to_vector([getattr(module, name + "_mask", creation.ones_like(getattr(module, name)))
                                         for module, name in parameters])
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    with no_grad():
        mask = PruningContainer(method).compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        parameter = getattr(module, name)
        custom_from_mask(module, name, mask=mask[start:start + parameter.numel()].view_as(parameter))
        start += parameter.numel()


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent: a Parameter holding the pruned numbers, no mask, no hook."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module):
    """Whether ``module`` or one of its submodules has a pruned tensor."""
    return any(isinstance(hook, BasePruningMethod) for _, sub in module.named_modules()
               for hook in sub._forward_pre_hooks.values())
