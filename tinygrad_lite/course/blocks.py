"""The building blocks of a "write it yourself" exercise (``Exercise.allow``), and the catalog of the callables that
compute something, each filed under the block it is.

An exercise that asks the learner to write what the library (or PyTorch, numpy, scipy) already has states in its
text which blocks the answer may be built from, and names them in ``allow``: words of the ``VOCABULARY`` below
("arithmetic", "exp", "sum", ...), or the block of a library function the exercise allows on purpose ("log_softmax"
in cross-entropy, "linear" and "relu" in an MLP). The check refuses a call, made by the learner's code, into any
catalogued callable whose block is not allowed: an allowlist, so that a shortcut nobody thought of (``F.normalize``
for row sums, ``torch.logsumexp`` for log-softmax, a cross-entropy over a made-up class for BCE) is refused without
being listed.

``catalog()`` files every public callable of the library (the Tensor methods, the top-level functions,
``nn.functional``, ``linalg``, ``nn``'s layers, and the training toolkit of ``train`` and ``amp``) under a block: by
the tables below, or, for a function no table names, a block of its own name (``softmax``, ``normalize``,
``cross_entropy``...). Their PyTorch counterparts by the same dotted path (``torch.nn.functional.normalize``) and a
few functions of PyTorch, numpy and scipy that do such work in one call (``torch.special.logsumexp``,
``numpy.logaddexp``, ``scipy.special.expit``, ``torch.cdist``...) join it, looked up only when their package is
imported (a check never imports one). What is plain arithmetic or plumbing (``BASE``: shapes, indexing, making
tensors, dtypes and devices, autograd's own bookkeeping) is never catalogued, so never refused: no answer is refused
for a reshape.

The pipeline (``pipeline.refused_objects``) puts tripwires on the library's catalogued callables, so that a call
the learner's code makes is noted (not one the library makes on its own behalf: a building block built on a
refused function stays allowed), and reads the learner's code for references to any catalogued callable, the other
libraries' included (``torch.logsumexp``, ``np.logaddexp.reduce``).
"""
import contextlib
import functools
import importlib
import sys
import types

from .. import Tensor, amp, linalg, nn, optim, train

_LIBRARY = sys.modules[__name__.split(".")[0]]  # the package itself: its top-level functions (tl.exp, ...)


def _words(text):
    return tuple(text.split())


# -------------------------------------------------------------------- the vocabulary
# What an exercise's ``allow`` may name besides the block of a library function, and what each covers. The names
# marked "always" are never refused (``BASE``): they are listed in an allow only so that the text reads right.
VOCABULARY = {
    "arithmetic": "always: + - * / // % ** and neg, abs, sign, reciprocal, square, pow, the comparisons, logical "
                  "ops, rounding, isnan/isfinite, all/any (as operators, methods or functions: tl.sub, x.mul ...)",
    "shape": "always: reshape, view, squeeze/unsqueeze, transpose, permute, .T, expand, flatten, cat, stack, split, "
             "clone, contiguous, size, dim, numel",
    "indexing": "always: x[...], gather, index_select, masked_select, nonzero, argmax/argmin/argsort, one_hot, "
                "bincount",
    "creation": "always: tensor, zeros, ones, full, empty, eye, arange, linspace, *_like, new_*, rand*, bernoulli, "
                "fill_",
    "cast": "always: to, float, double, long, int, bool, type, cpu/cuda, numpy, tolist, item, detach, requires_grad_, "
            "backward and autograd's bookkeeping",
    "exp": "exp, expm1, exp2",
    "log": "log, log1p, log2, log10",
    "sqrt": "sqrt, rsqrt",
    "where": "where, masked_fill",
    "clamp": "clamp, clip, clamp_min, clamp_max",
    "max": "max (reduction, or elementwise with a tensor), amax, maximum, fmax",
    "min": "min (reduction, or elementwise with a tensor), amin, minimum, fmin",
    "sum": "sum, nansum",
    "mean": "mean, nanmean",
    "std": "std, var (and PyTorch's std_mean, var_mean)",
    "matmul": "@, matmul, mm, bmm, mv, dot, inner, outer, einsum, tensordot",
}

BASE = {  # block -> names never catalogued (a method, a top-level function, an nn.functional function alike)
    "arithmetic": _words(
        "abs add sub mul div neg pow reciprocal square sign remainder fmod floor_divide addcmul addcdiv lerp floor "
        "ceil round trunc fix frac eq ne lt le gt ge isclose allclose equal logical_not logical_and logical_or "
        "logical_xor isnan isfinite isinf all any true_divide multiply subtract negative absolute rsub"),
    "shape": _words(
        "reshape view view_as flatten unflatten squeeze unsqueeze permute transpose t expand expand_as broadcast_to "
        "repeat tile flip roll cat concat stack hstack vstack split chunk unbind narrow contiguous is_contiguous "
        "clone size dim numel ndimension nelement movedim swapaxes"),
    "indexing": _words(
        "gather index_select masked_select take take_along_dim scatter nonzero argmax argmin argsort one_hot "
        "bincount"),
    "creation": _words(
        "tensor as_tensor from_numpy zeros ones full empty eye arange linspace zeros_like ones_like full_like "
        "empty_like rand randn randint randperm rand_like randn_like new_empty new_full new_ones new_tensor "
        "new_zeros normal_ uniform_ bernoulli bernoulli_ fill_ zero_ copy_ manual_seed seed initial_seed "
        "get_rng_state set_rng_state"),
    "cast": _words(
        "to type type_as float double half int long bool cpu cuda numpy tolist item detach detach_ requires_grad_ "
        "retain_grad register_hook backward is_floating_point is_tensor result_type promote_types get_default_dtype "
        "set_default_dtype get_default_device set_default_device is_grad_enabled is_autocast_enabled save load"),
}
BASE_LAYERS = _words("Module Sequential ModuleList ModuleDict Identity Flatten Parameter")  # nn's plumbing
BASE_TOOLKIT = _words("Callback History LRFinderResult autocast is_autocast_available")  # train's and amp's plumbing
BASE_OPTIM = _words("Optimizer LRScheduler GradStats")  # the base classes an answer subclasses (and a table type)

BLOCKS = {  # block -> the names filed under it (the vocabulary's, and families of the library's functions)
    "exp": _words("exp expm1 exp2"),
    "log": _words("log log1p log2 log10"),
    "sqrt": _words("sqrt rsqrt"),
    "where": _words("where masked_fill"),
    "clamp": _words("clamp clip clamp_min clamp_max"),
    "hardtanh": _words("hardtanh relu6"),
    "max": _words("max amax maximum fmax"),
    "min": _words("min amin minimum fmin"),
    "sum": _words("sum nansum"),
    "mean": _words("mean nanmean"),
    "std": _words("std var std_mean var_mean"),
    "matmul": _words("matmul mm bmm mv dot inner outer einsum tensordot"),
    "norm": _words("norm vector_norm matrix_norm"),
    "sort": _words("sort topk kthvalue"),
    "trig": _words("sin cos tan"),
    "logsumexp": _words("logsumexp logaddexp logaddexp2"),
    "linear": _words("linear addmm"),
}

LAYER_BLOCKS = {  # nn's layers whose block is not their functional's name without underscores (ReLU: relu)
    "BCELoss": "binary_cross_entropy", "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
    "CrossEntropyLoss": "cross_entropy", "BatchNorm1d": "batch_norm", "BatchNorm2d": "batch_norm",
    "KLDivLoss": "kl_div", "LogSigmoid": "logsigmoid", "PairwiseDistance": "distance", "ReLU6": "hardtanh",
    "InstanceNorm1d": "instance_norm", "GroupNorm": "group_norm",
}

EXTRA = {  # block -> dotted names outside the library's own paths that do such work in one call
    "logsumexp": ("torch.special.logsumexp", "torch.logaddexp", "torch.logaddexp2", "numpy.logaddexp",
                  "numpy.logaddexp2", "scipy.special.logsumexp"),
    "softmax": ("torch.special.softmax", "scipy.special.softmax"),
    "log_softmax": ("torch.special.log_softmax", "scipy.special.log_softmax"),
    "sigmoid": ("torch.special.expit", "scipy.special.expit"),
    "logsigmoid": ("torch.nn.functional.logsigmoid", "torch.nn.LogSigmoid", "scipy.special.log_expit"),
    "distance": ("torch.cdist", "torch.nn.functional.pairwise_distance", "torch.nn.PairwiseDistance",
                 "torch.nn.functional.pdist", "scipy.spatial.distance.cdist", "scipy.spatial.distance.pdist"),
    "zscore": ("scipy.stats.zscore",),
    "instance_norm": ("torch.nn.functional.instance_norm", "torch.nn.InstanceNorm1d"),
    "group_norm": ("torch.nn.functional.group_norm", "torch.nn.GroupNorm"),
    "kl_div": ("torch.nn.functional.kl_div", "torch.nn.KLDivLoss"),
    "hardtanh": ("torch.nn.functional.hardtanh", "torch.nn.functional.hardtanh_", "torch.nn.Hardtanh",
                 "torch.nn.functional.relu6", "torch.nn.ReLU6"),
    "threshold": ("torch.nn.functional.threshold", "torch.nn.Threshold"),
    "std": ("torch.std_mean", "torch.var_mean"),
    "linear": ("torch.Tensor.addmm",),
    "matmul": ("torch.mv", "torch.dot", "torch.inner", "torch.outer", "torch.einsum", "torch.tensordot"),
    "exp": ("torch.expm1", "torch.exp2", "torch.special.expm1", "torch.special.exp2"),
    "log": ("torch.log2", "torch.log10", "torch.special.log1p"),
    "max": ("torch.fmax",),
    "min": ("torch.fmin",),
    # (subclasses of torch.amp's; and the kernels of its unscale_ and update, each a scaler's step in one call)
    "gradscaler": ("torch.cuda.amp.GradScaler", "torch.cpu.amp.GradScaler",
                   "torch._amp_foreach_non_finite_check_and_unscale_", "torch._amp_update_scale_"),
    # PyTorch's optimizers that the library has not (it has all of PyTorch's schedulers), its functional optimizers,
    # and its fused kernels (torch._fused_adam_: a whole update in one call). (Its torch._foreach_* arithmetic and
    # torch.ops.aten are private kernels of single operations: not catalogued, by the check policy of issue 32)
    "optimizer": tuple(f"torch.optim.{name}" for name in _words(
        "Adafactor LBFGS SparseAdam sgd.sgd adam.adam adamw.adamw "
        "_functional.sgd _functional.adam _functional.adamw")) + (
        "torch._fused_sgd_", "torch._fused_adam_", "torch._fused_adamw_"),
    "clip_grads_with_norm": ("torch.nn.utils.clip_grads_with_norm_",),
    "norm": ("torch._foreach_norm",),
}
_OPTIONAL = ("torch", "scipy")  # the packages whose names are looked up only once imported (numpy always is)

_BASE_NAMES = {name for names in BASE.values() for name in names}
_BLOCK_OF = {name: block for block, names in BLOCKS.items() for name in names}


def block_of(name):
    """The block of a library function or method called ``name`` (an in-place ``name_`` as ``name``): None for
    arithmetic and plumbing, else the block of ``BLOCKS`` that holds it, else ``name`` itself."""
    base = name[:-1] if name.endswith("_") and not name.endswith("__") else name
    if name in _BASE_NAMES or base in _BASE_NAMES:
        return None
    return _BLOCK_OF.get(base, base)


def _layer_block(cls_name, functional):
    """The block of one of nn's layers: that of its functional (ReLU: relu, MSELoss: mse_loss), by ``LAYER_BLOCKS``
    where the names differ, else its own name in lower case; None for nn's plumbing (Sequential, Identity ...)."""
    if cls_name in BASE_LAYERS:
        return None
    if cls_name in LAYER_BLOCKS:
        return LAYER_BLOCKS[cls_name]
    squashed = {name.replace("_", ""): name for name in functional}
    return block_of(squashed.get(cls_name.lower(), cls_name.lower()))


def _library_paths():
    """[(path below the package, object, block)] of the library's catalogued callables: the Tensor methods
    ("Tensor.softmax"), the top-level functions ("softmax"), nn.functional ("nn.functional.softmax"), linalg
    ("linalg.norm"), nn's layers ("nn.Softmax"), the training toolkit ("train.EarlyStopping", "amp.GradScaler"), the
    optimizers and schedulers ("optim.SGD", "optim.lr_scheduler.OneCycleLR") and nn.utils
    ("nn.utils.clip_grad_norm_")."""
    functional = nn.functional.__all__
    found = []
    for name, value in vars(Tensor).items():
        if not name.startswith("_") and isinstance(value, types.FunctionType):
            found.append((f"Tensor.{name}", value, block_of(name)))
    for name in dir(_LIBRARY):
        value = getattr(_LIBRARY, name)
        if not name.startswith("_") and isinstance(value, types.FunctionType):
            found.append((name, value, block_of(name)))
    for name in functional:
        found.append((f"nn.functional.{name}", getattr(nn.functional, name), block_of(name)))
    for name in linalg.__all__:
        found.append((f"linalg.{name}", getattr(linalg, name), block_of(name)))
    for name in nn.modules.__all__:
        value = getattr(nn, name)
        if isinstance(value, type) and issubclass(value, nn.Module):
            found.append((f"nn.{name}", value, _layer_block(name, functional)))
    for module in (train, amp):  # the training toolkit: a block of its own each ("earlystopping", "gradscaler" ...)
        for name in dir(module):
            value = getattr(module, name)
            if not name.startswith("_") and name not in BASE_TOOLKIT and isinstance(value, (type, types.FunctionType)):
                found.append((f"{module.__name__.rsplit('.', 1)[-1]}.{name}", value, block_of(name.lower())))
    # the optimizers (block "optimizer"), the lr schedulers ("lr_scheduler") and nn.utils' gradient tools (a block
    # each: "clip_grad_norm", "get_total_norm" ...); the base classes an answer subclasses are plumbing
    for path, module, block in (("optim", optim, "optimizer"), ("optim.lr_scheduler", optim.lr_scheduler,
                                                                 "lr_scheduler"), ("nn.utils", nn.utils, None)):
        for name in module.__all__:
            value = getattr(module, name)
            if name not in BASE_OPTIM and isinstance(value, (type, types.FunctionType)):
                found.append((f"{path}.{name}", value, block or block_of(name)))
    return [(path, value, block) for path, value, block in found if block is not None]


@functools.cache
def known_blocks():
    """Every name an ``allow`` may hold: the vocabulary's and every catalogued block."""
    return (set(VOCABULARY) | set(BLOCKS) | set(EXTRA) | {block for _, _, block in _library_paths()}
            | set(LAYER_BLOCKS.values()))


def resolve(dotted):
    """The object a dotted name outside the library names ("torch.optim.SGD", "numpy.logaddexp"), or None: looked
    up only when its top-level package is imported already (a check never imports PyTorch itself)."""
    if dotted.split(".", 1)[0] not in sys.modules:
        return None
    if dotted in sys.modules:
        return sys.modules[dotted]
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # the longest importable module, then attributes
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            with contextlib.suppress(Exception):
                module = importlib.import_module(".".join(parts[:cut]))
        if module is None:
            continue
        obj = module
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


_CATALOG = {}


def catalog(original=lambda obj: obj):
    """[(object, dotted name, block)] of every catalogued callable: the library's (``original`` turns a tripwire
    back into the object it wraps), their PyTorch counterparts by the same path, and ``EXTRA``'s, those of the
    optional packages only once imported. Each object once, under its first name."""
    key = tuple(name in sys.modules for name in _OPTIONAL)
    if key not in _CATALOG:
        entries, seen = [], set()

        def add(obj, name, block):
            obj = original(obj)
            if obj is not None and id(obj) not in seen and callable(obj):
                seen.add(id(obj))
                entries.append((obj, name, block))
        paths = _library_paths()
        for path, value, block in paths:
            add(value, f"{_LIBRARY.__name__}.{path}", block)
        if "torch" in sys.modules:
            for path, _, block in paths:
                add(resolve(f"torch.{path}"), f"torch.{path}", block)
        for block, names in EXTRA.items():
            for name in names:
                add(resolve(name), name, block)
        _CATALOG.clear()  # (a catalog made before a package was imported is not needed again)
        _CATALOG[key] = entries
    return _CATALOG[key]


def refused(allow, original=lambda obj: obj):
    """[(object, dotted name, block)] of the catalogued callables whose block ``allow`` does not name. An unknown
    name in ``allow`` raises ValueError (a typo would refuse the block it meant to allow)."""
    unknown = set(allow) - known_blocks()
    if unknown:
        raise ValueError(f"unknown building blocks {sorted(unknown)} in an allow; known: {sorted(known_blocks())}")
    entries = catalog(original)
    key = (frozenset(allow), id(entries))
    if key not in _REFUSED:
        _REFUSED[key] = (entries, tuple((obj, name, block) for obj, name, block in entries if block not in key[0]))
    return _REFUSED[key][1]


_REFUSED = {}  # (allow, id of the catalog) -> (the catalog, kept alive; the refused entries)
