"""``nn.utils``: gradient clipping (PyTorch's), parameters as one vector (PyTorch's), and gradient statistics
(ours, for diagnosing training); ``nn.utils.rnn.pad_sequence`` batches sequences of different lengths;
``nn.utils.stateless.functional_call`` runs a module with given parameters (``torch.func``'s, at its older place);
``spectral_norm`` and ``weight_norm``, as forward pre-hooks (PyTorch's first versions) and as parametrizations
(``parametrize``, ``parametrizations``); ``fusion`` folds batch norm into the layer before it (for inference).
``nn.utils.prune`` (pruning weights) is imported by name, as in PyTorch."""
from . import fusion, parametrizations, parametrize, rnn, stateless
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .init import skip_init
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights
from .grad_stats import GradStats, grad_stats
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "skip_init", "parameters_to_vector",
           "vector_to_parameters", "grad_stats", "GradStats", "spectral_norm", "remove_spectral_norm", "weight_norm",
           "remove_weight_norm", "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]
