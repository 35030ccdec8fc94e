r"""``autocast``: run each op in the precision it is safe in (PyTorch's ``torch.autocast``).

A float16 matrix multiply is several times faster than a float32 one on a GPU (tensor cores) and moves half the
bytes, and its rounding error (about 2^-11 relative per number) hardly matters to a network. Other ops are not safe
in float16: exp and sums overflow above 65504, and a loss or a softmax loses the small differences it is made of.
Inside ``with autocast(device_type, dtype):`` each op on the lists below casts its floating inputs first:

- lower precision ops (``LOWER_PRECISION_OPS``: matmul, mm, bmm, linear, addmm, baddbmm, addbmm, prelu, the
  convolutions) run in ``dtype`` (float16);
- float32 ops (``FLOAT32_OPS[device_type]``) run in float32: on both devices the losses and prod, and on "cuda"
  also exp, log, pow, softmax, log_softmax, sum, cumsum, norm, layer_norm... These are PyTorch's lists for the ops
  we have (``ATen/autocast_mode.h``; the CPU's is shorter, so a CPU softmax of float16 inputs stays float16, as in
  PyTorch);
- every other op runs in the dtype of its inputs, with the usual promotion (float16 + float32 is float32).

float64 tensors are never cast, and only the forward pass is affected: the backward pass of a cast sends the
gradient back in the input's dtype, so every float32 parameter gets a float32 ``.grad``.

Honest difference from PyTorch: numpy has no bfloat16, so only ``dtype=float16`` exists here. PyTorch's default for
``autocast("cpu")`` is bfloat16; here it is an error that says to pass ``dtype=tl.float16`` (PyTorch's CPU
autocast takes float16 too). ``round_to_bfloat16`` shows bfloat16's numbers (float32's range, 8 bits of mantissa).
``tinygrad_lite.bfloat16`` exists, so that a script that names it fails where it uses it, with that advice.

As PyTorch's, ``autocast("cuda")`` on a machine without a GPU warns and turns itself off: the region then runs in
float32, and ``is_autocast_enabled("cuda")`` is False inside.
"""
import contextlib
import functools
import warnings

import numpy as np

from .. import cuda
from .. import dtypes as dt
from ..autograd import grad_mode

LOWER_PRECISION_OPS = frozenset({"matmul", "mm", "bmm", "linear", "addmm", "baddbmm", "addbmm", "prelu", "conv1d",
                                 "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"})
_LOSSES = {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy_with_logits", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss", "multi_margin_loss",
           "multilabel_margin_loss"}
FLOAT32_OPS = {
    "cpu": frozenset(_LOSSES | {"binary_cross_entropy", "ctc_loss", "prod", "cdist", "quantile", "reflection_pad",
                                "replication_pad", "max_pool3d", "avg_pool3d", "adaptive_max_pool3d",
                                "adaptive_avg_pool3d", "max_unpool2d", "max_unpool3d"}),
    "cuda": frozenset(_LOSSES | {
        "acos", "asin", "cosh", "sinh", "reciprocal", "exp", "expm1", "log", "log10", "log2", "log1p", "pow", "tan",
        "erfinv", "softmax", "log_softmax", "sum", "prod", "cumsum", "cumprod", "norm", "logsumexp", "layer_norm",
        "rms_norm", "cdist", "group_norm", "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
        "_upsample_nearest_exact1d", "_upsample_nearest_exact2d", "_upsample_nearest_exact3d", "upsample_linear1d",
        "upsample_bilinear2d", "upsample_trilinear3d", "upsample_bicubic2d"}),
}
REFUSED_OPS = {"cuda": {"binary_cross_entropy": (
    "binary_cross_entropy and nn.BCELoss are unsafe to autocast: the sigmoid before them rounds to exactly 0 or 1 "
    "in float16, and log(0) is -inf. Combine the two layers: use F.binary_cross_entropy_with_logits or "
    "nn.BCEWithLogitsLoss on the logits (safe to autocast), as PyTorch requires")}}
NO_BFLOAT16 = "bfloat16, which numpy (and so this library) does not have"
ROUNDING_HINT = "To see bfloat16's rounding, use tinygrad_lite.amp.round_to_bfloat16(x)."


def no_bfloat16(where, fix):
    """The message of every use of bfloat16: ``where`` it was used, that numpy has none, and ``fix``."""
    return f"{where}: the dtype is {NO_BFLOAT16}. {fix} {ROUNDING_HINT}"


class _Bfloat16(dt.dtype):
    """``tinygrad_lite.bfloat16``: a name for PyTorch's dtype that numpy lacks. ``x.dtype == torch.bfloat16`` is
    False, as it should be; anything that needs the dtype itself (a tensor of it, a cast to it, autocast with it,
    its size) raises a RuntimeError that says to use float16 instead, rather than an AttributeError at
    ``torch.bfloat16``."""

    name = "bfloat16"

    def __init__(self):  # (no numpy dtype to store)
        pass

    def _refuse(self):
        raise RuntimeError(no_bfloat16("tinygrad_lite.bfloat16", "Use tl.float16 (x.half(), model.half(), "
                                       "autocast(device, dtype=tl.float16)) or float32."))

    np = category = itemsize = legacy_name = property(_refuse)

    def __reduce__(self):  # the one object: copies and pickles resolve to it
        return "bfloat16"


bfloat16 = _Bfloat16()
DEFAULT_DTYPES = {"cuda": dt.float16, "cpu": bfloat16}

_active = {}  # device type -> the autocast dtype, for each device type inside an enabled autocast region
_depth = [0]  # how many autocast regions are open (the cache of cast weights is emptied when the last one closes)
_caching = [False]  # cache_enabled of each open region, innermost last
_cache = {}   # (id(weight), dtype) -> (weight, its version, its cast copy): a weight is cast once per region


class autocast:
    """``with autocast("cuda"):`` or ``@autocast("cpu", dtype=torch.float16)``: the forward pass in mixed precision.

    ``device_type`` is "cuda" or "cpu" (ops on tensors of other devices are not affected); ``dtype`` the lower
    precision (float16; default float16 on "cuda"); ``enabled=False`` turns autocast off inside (for a region that
    must run in float32); ``cache_enabled`` (default True) casts each weight once per region, not once per use
    (casts made under ``no_grad`` are not kept, as PyTorch's are not: they would carry no gradient).
    Run the backward pass outside the region, as PyTorch recommends.

    Deliberate difference: a weight changed in place inside the region (``w.add_``, an optimizer step,
    ``load_state_dict``) is cast again at its next use, so the op sees the new numbers; PyTorch (2.13) keeps using
    the copy made at the first use until the region ends. (A write into ``w.numpy()``'s memory is seen by neither.)
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`; write "
                             "autocast(\"cuda\") or autocast(x.device.type)")
        if device_type not in FLOAT32_OPS:
            raise RuntimeError(f"autocast: unsupported device_type {device_type!r}; expected 'cuda' or 'cpu'")
        self.device_type, self.cache_enabled = device_type, True if cache_enabled is None else bool(cache_enabled)
        self.enabled = bool(enabled)
        self.fast_dtype = DEFAULT_DTYPES[device_type] if dtype is None else dtype
        if self.enabled and dtype is None and self.fast_dtype is bfloat16:  # PyTorch's default on the CPU
            raise RuntimeError(
                f"autocast({device_type!r}): PyTorch's default dtype here is {NO_BFLOAT16}. Pass float16: "
                f"autocast({device_type!r}, dtype=tl.float16) after import tinygrad_lite as tl (PyTorch's CPU "
                f"autocast accepts torch.float16 too). {ROUNDING_HINT}")
        if self.enabled and dtype is bfloat16:
            raise RuntimeError(no_bfloat16(f"autocast({device_type!r}, dtype=bfloat16)", "Pass float16: autocast("
                                           f"{device_type!r}, dtype=tl.float16) after import tinygrad_lite as tl."))
        if self.enabled and not isinstance(self.fast_dtype, dt.dtype):  # torch.float16, np.float16, "float16"
            raise RuntimeError(
                f"autocast({device_type!r}, dtype={dtype!r}): the dtype must be this library's, "
                f"tinygrad_lite.float16: autocast({device_type!r}, dtype=tl.float16) after import tinygrad_lite "
                "as tl (PyTorch's autocast takes torch.float16)")
        if self.enabled and self.fast_dtype is not dt.float16:
            warnings.warn(f"In {device_type} autocast, but the target dtype {self.fast_dtype} is not supported. "
                          "Disabling autocast. Autocast supports float16 (tl.float16) here (PyTorch: also bfloat16).",
                          stacklevel=2)
            self.enabled = False
        if self.enabled and device_type == "cuda" and not cuda.is_available():
            warnings.warn("CUDA is not available. Disabling autocast (as PyTorch does): the region runs in float32. "
                          "Use autocast(\"cpu\", dtype=tl.float16) on a CPU, or autocast(device, ...) with device = "
                          "\"cuda\" if tl.cuda.is_available() else \"cpu\".", stacklevel=2)
            self.enabled = False
        self._saved = []

    def __enter__(self):
        self._saved.append(_active.get(self.device_type))
        if self.enabled:
            _active[self.device_type] = self.fast_dtype
        else:
            _active.pop(self.device_type, None)
        _depth[0] += 1
        _caching.append(self.cache_enabled)
        return self

    def __exit__(self, *exc):
        if not self._saved:  # (PyTorch: an AttributeError, "no attribute 'prev'", after it changed its state)
            raise RuntimeError(f"autocast({self.device_type!r}).__exit__ was called without a matching __enter__: this "
                               "autocast region was never entered (or was already left). Open it with "
                               "`with autocast(...):` or use it as a decorator; do not call __exit__ by hand")
        previous = self._saved.pop()
        if previous is None:
            _active.pop(self.device_type, None)
        else:
            _active[self.device_type] = previous
        _depth[0] -= 1
        _caching.pop()
        if _depth[0] == 0:
            _cache.clear()
        return False

    def __call__(self, fn):
        """As a decorator: every call of ``fn`` runs inside this autocast region."""
        @functools.wraps(fn)
        def autocast_wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return autocast_wrapper


def is_autocast_available(device_type):
    """True for the device types autocast supports here: "cuda" and "cpu"."""
    return isinstance(device_type, str) and device_type in FLOAT32_OPS


def is_autocast_enabled(device_type="cuda"):
    """Is an enabled autocast region open for ``device_type`` (``torch.is_autocast_enabled("cpu")``)?"""
    if not isinstance(device_type, str):
        raise TypeError(f"is_autocast_enabled(): argument 'device_type' must be a str such as 'cuda' or 'cpu', got "
                        f"{type(device_type).__name__}")
    return device_type in _active


def autocast_args(op, *tensors):
    """``op``'s tensor arguments cast as autocast wants them; unchanged outside autocast (one dict check).

    The hook the ops call: ``matmul``, ``F.linear``, the losses and the float32-list Tensor methods start with
    ``x, w = autocast_args("matmul", x, w)``. Arguments that are not floating tensors pass through unchanged.
    """
    if not _active:
        return tensors
    return tuple(_autocast(op, t) for t in tensors)


def as_one_op(name, *tensors):
    """For a function composed of other ops that PyTorch runs as one op ``name`` (``F.elu``, ``addmm``): its
    ``tensors`` cast as autocast casts that op's arguments, and a context in which the ops that compute it are not
    cast again (a do-nothing context outside autocast)."""
    if not _active:
        return tensors, contextlib.nullcontext()
    tensors = autocast_args(name, *tensors)
    return tensors, autocast(tensors[0].device.type, enabled=False)


def _autocast(op, t):
    if not isinstance(getattr(t, "dtype", None), dt.dtype):
        return t  # a number, None, an index array
    device_type = t.device.type
    if device_type not in _active:
        return t
    if op in REFUSED_OPS.get(device_type, ()):
        raise RuntimeError(f"{op} inside autocast({device_type!r}): {REFUSED_OPS[device_type][op]}")
    if not t.dtype.is_floating_point or t.dtype is dt.float64:
        return t  # integer targets and float64 tensors are never cast, as in PyTorch
    target = _active[device_type] if op in LOWER_PRECISION_OPS else dt.float32 if op in FLOAT32_OPS[device_type] \
        else t.dtype
    if t.dtype is target:
        return t
    if not (t.is_leaf and t.requires_grad and _caching[-1] and grad_mode._enabled):  # (a cast made under no_grad
        return t.to(target)  # has no graph: kept, it would cut the weight's gradient at its next use, as PyTorch's not)
    weight, version, cast = _cache.get((id(t), target), (None, None, None))
    if weight is not t or version != t._version:  # (a weight changed in place, by optimizer.step: cast it again)
        cast = t.to(target)
        _cache[(id(t), target)] = (t, t._version, cast)
    return cast


def round_to_bfloat16(x):
    """The tensor ``x`` rounded to the nearest bfloat16 numbers, returned as float32. Not a PyTorch function.

    bfloat16 is float32 with the last 16 bits of the mantissa cut off: float32's 8 exponent bits (so its range,
    up to 3.4e38, and no underflow of small gradients) but 8 bits of precision (about 3 decimal digits) instead
    of 24. numpy has no bfloat16 type; this rounds float32 bit patterns to the nearest even bfloat16 pattern.
    """
    if not hasattr(x, "new_tensor"):
        raise TypeError(f"round_to_bfloat16(): x must be a Tensor, not {type(x).__name__}; wrap it: tl.tensor(x)")
    array = np.asarray(x.detach().cpu().numpy(), dtype=np.float32)
    bits = array.view(np.uint32).astype(np.uint64)  # (64 bits: adding 0x7FFF must not overflow)
    # to nearest, ties to even: add just under half of the last bit kept (0x7FFF) plus that bit, then cut 16 bits
    # (every constant a uint64: numpy 1.x makes uint64 with a Python int float64, which cannot be shifted)
    cut = np.uint64(16)
    rounded = ((bits + np.uint64(0x7FFF) + ((bits >> cut) & np.uint64(1))) >> cut << cut).astype(np.uint32)
    rounded = np.where(np.isnan(array), np.uint32(0x7FC00000), rounded)  # a nan stays nan (not inf, as it could)
    return x.new_tensor(rounded.view(np.float32), dtype=dt.float32, device="cpu")


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """For the ``forward`` of a custom ``autograd.Function`` under autocast, as PyTorch's: with ``cast_inputs`` (a
    dtype) and autocast on for ``device_type``, the floating tensors among the arguments are cast to it and the
    forward runs with autocast off; without, the forward runs as called, and ``custom_bwd`` gives the backward the
    forward's autocast state."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(ctx, *args, **kwargs):
        enabled = is_autocast_enabled(device_type)
        ctx._dtype = _active.get(device_type) or DEFAULT_DTYPES.get(device_type)
        ctx._fwd_used_autocast = enabled and cast_inputs is None
        if cast_inputs is None or not enabled:
            return fwd(ctx, *args, **kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *_cast(args, cast_inputs), **_cast(kwargs, cast_inputs))
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """For the ``backward`` of a custom Function whose forward is ``custom_fwd``: it runs under the autocast state
    that the forward ran under."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(ctx, *args, **kwargs):
        used = getattr(ctx, "_fwd_used_autocast", False)
        with autocast(device_type, enabled=used, dtype=ctx._dtype if used else None):
            return bwd(ctx, *args, **kwargs)
    return decorate_bwd


def _cast(value, dtype):
    """The floating tensors in ``value`` (nested in tuples, lists and dicts) cast to ``dtype``."""
    if hasattr(value, "new_tensor"):  # (a Tensor: tensor.py imports this module)
        return value.to(dtype) if value.dtype.is_floating_point else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast(v, dtype) for k, v in value.items()}
    return value
