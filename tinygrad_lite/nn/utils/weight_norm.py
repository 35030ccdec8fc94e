r"""``nn.utils.weight_norm``: PyTorch's first weight normalisation, with a forward pre-hook (deprecated there in
favour of ``parametrizations.weight_norm``, with the same warning here).

W = g v / ||v||, the norm over every dim but ``dim`` (over all of v for ``dim=None``): the parameters ``weight_g``
(a length per row) and ``weight_v`` (a direction) are trained, and before every forward pass a hook sets
``module.weight`` (a plain attribute) from them. ``remove_weight_norm`` makes W a plain parameter again.
"""
import warnings

from ..parameter import Parameter
from .parametrizations import _norm_except_dim
from .spectral_norm import removed_hook


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"], module._parameters[self.name + "_v"]
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of torch.nn.utils.parametrizations."
                      "weight_norm.", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn


def weight_norm(module, name="weight", dim=0):
    """Weight normalisation of ``module.<name>`` by a forward pre-hook. Returns the module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``module.<name>`` becomes a parameter holding g v / ||v||."""
    return removed_hook(module, WeightNorm, name, "weight_norm")
