r"""Loss functions: one number that says how wrong the model's output is, to be made small by training.

Each loss is built from tensor ops (subtract, square, log_softmax, indexing ...), so autograd derives its
gradient: no loss here has a backward of its own. (Three ops are there for speed: the mean of -logp[n, y_n], the
usual case of nll_loss and cross_entropy, is ``NllLoss`` in ``ops/gather.py``, as PyTorch's graph has it;
cross_entropy and nll_loss with any other option (weights, ignore_index, label smoothing, probabilities, another
reduction) are one op, ``CrossEntropy`` in ``ops/cross_entropy.py``, fed the target as weights by ``_fused``; and
mse_loss reduced by 'mean' or 'sum' without weights is one op, ``MseLoss`` in ``ops/mse_loss.py``, as PyTorch's
graph has it too.)
Where the textbook formula would overflow or take log(0), we use the numerically stable form that PyTorch
uses, and say so.

Every loss first computes one loss l_n per element (or per sample), then reduces them with ``reduction``:

    'mean' (the default):  \frac{1}{N} \sum_n l_n      (with class weights, nll_loss and cross_entropy divide
                                                      by the sum of the weights instead of N; see each loss)
    'sum':                 \sum_n l_n
    'none':                the l_n themselves, one per element

Which loss for which task:

    regression (predict numbers)            mse_loss, l1_loss, smooth_l1_loss, huber_loss
    yes/no, or several yes/no per sample    binary_cross_entropy_with_logits (takes raw scores, "logits")
                                            binary_cross_entropy (takes probabilities, after a sigmoid)
    one class out of C                      cross_entropy (takes logits)
                                            nll_loss (takes log-probabilities, after a log_softmax)

``size_average`` and ``reduce`` are PyTorch's deprecated spellings of ``reduction``; they are accepted (with
PyTorch's deprecation warning) so that the argument positions match PyTorch's.
"""
import math
import warnings

import numpy as np

from ... import dtypes as dt
from ...amp.autocast_mode import autocast_args
from ...device import array_module_of, check_same_device, on_device_of
from ...kernels import fused
from ...kernels.cross_entropy import CrossEntropyCuda, make_out_of_range, make_poison, target_weights
from ...ops.activation import LogSoftmax
from ...ops.cross_entropy import CrossEntropy
from ...ops.gather import NllLoss
from ...ops.mse_loss import MseLoss
from ...return_types import refuse_pair
from ...shapes import check_broadcast, check_number
from ...tensor import Tensor, where
from ...warning_level import callers_level

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div"]


# -------------------------------------------------------------------- reductions
def _reduction(name, reduction, size_average=None, reduce=None):
    """Check ``reduction``. The deprecated flags, when given, override it exactly as in PyTorch."""
    if name[0].isupper() and Tensor in (type(size_average), type(reduction)):  # nn.MSELoss(pred, y): the data
        raise RuntimeError(f"{name}(...) was given tensors, but it takes options (such as reduction): a loss "
                           f"module is made first, then called on the output and the target: loss_fn = "
                           f"nn.{name}(), then loss = loss_fn(output, target)")
    if size_average is not None or reduce is not None:
        reduction = "none" if reduce is False else "sum" if size_average is False else "mean"
        warnings.warn(f"{name}: size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", stacklevel=callers_level())
    if not isinstance(reduction, str) or reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction={reduction!r} is not a valid value; use 'mean' (the average loss), "
                         "'sum' (the total) or 'none' (one loss per element)")
    return reduction


def _reduce(loss, reduction):
    """'none' keeps one loss per element, 'sum' adds them up, 'mean' averages them."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _reduce_weighted(loss, weight, reduction):
    """Per-element weights w_n scale the losses; then 'mean' is the weighted average \\sum_n w_n l_n / \\sum_n w_n."""
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    return loss.sum() / weight.sum() if reduction == "mean" else _reduce(loss, reduction)


def _weighted_mean(loss, total_weight):
    """\\sum_n l_n / total_weight, where total_weight = \\sum_n w_n over the elements that count.

    When nothing counts (every target is ignore_index) this is 0/0: PyTorch returns nan, and a zero gradient.
    ``loss.sum() * 0 + nan`` does the same without dividing by zero.
    """
    if float(total_weight) == 0:
        return loss.sum() * 0.0 + math.nan
    return loss.sum() / total_weight


# -------------------------------------------------------------------- checks shared by several losses
def _check_tensors(name, input, target):
    for what, x in (("input", input), ("target", target)):
        if isinstance(x, Tensor):
            continue
        refuse_pair(x, name)
        kind = type(x)
        if kind.__name__ == "Tensor":  # another library's Tensor (torch.Tensor): name both libraries
            raise TypeError(f"{name}(): argument '{what}' must be a tinygrad_lite Tensor, not a "
                            f"{kind.__module__.split('.')[0]}.Tensor; a tinygrad_lite function takes only "
                            "tinygrad_lite Tensors: build the inputs with the same library as the function")
        raise TypeError(f"{name}(): argument '{what}' must be a Tensor, not {kind.__name__}; convert it "
                        "first with torch.tensor(...)")


def _warn_if_shapes_differ(name, input, target):
    """Regression losses broadcast a target of another shape, which is almost always a bug: warn (as PyTorch does)."""
    if input.shape != target.shape:
        check_broadcast(name, tuple(input.shape), tuple(target.shape))
        warnings.warn(f"{name}: target shape {tuple(target.shape)} is different from input shape "
                      f"{tuple(input.shape)}; they will be broadcast against each other, which will likely give "
                      "a wrong loss. Make the shapes equal, e.g. target.view(-1) or input.squeeze(-1) when one "
                      "of them has an extra dim of size 1.", stacklevel=callers_level())


def _difference(input, target):
    """``input - target``, a bool one of them as 0 and 1 in the other's float dtype (mse, smooth L1 and Huber losses
    take one, as PyTorch's; ``-`` refuses bools)."""
    def as_number(x, other):
        if x.dtype != dt.bool:
            return x
        return x.to(other.dtype if other.dtype.is_floating_point else dt.get_default_dtype())
    return as_number(input, target) - as_number(target, input)


def _check_same_shape(name, input, target):
    if input.shape != target.shape:
        raise ValueError(f"{name}: target shape {tuple(target.shape)} must be the same as input shape "
                         f"{tuple(input.shape)} (one target per prediction). Reshape one of them, e.g. "
                         "target.view(-1) or input.squeeze(-1) when one of them has an extra dim of size 1.")


def _check_floating(name, what, x, fix):
    """``x`` (the loss's ``what``) must be floating point, as PyTorch's loss kernels require; a clear error if not."""
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{name}: {what} must be floating point, but it has dtype {x.dtype.name}. {fix}")


def _check_element_weight(name, input, weight):
    if weight is not None and weight.shape != input.shape:
        raise ValueError(f"{name}: weight has shape {tuple(weight.shape)} but must have the input's shape "
                         f"{tuple(input.shape)}: one weight per element")


def _weight_as(weight, dtype):
    """A floating-point weight in the loss's ``dtype``: PyTorch's binary cross-entropies cast their weights (a
    float64 ``pos_weight`` made from numpy leaves a float32 loss float32); None stays None."""
    if weight is None or not weight.dtype.is_floating_point or weight.dtype is dtype:
        return weight
    return weight.to(dtype)


def _check_between_0_and_1(name, what, x, hint):
    values = x.array
    if not ((values >= 0) & (values <= 1)).all():  # also False for nan
        numbers = values[values == values]  # nan != nan
        seen = f"its values go from {float(numbers.min()):.4g} to {float(numbers.max()):.4g}" if numbers.size else ""
        if numbers.size < values.size:
            seen += (" and " if seen else "") + "it contains nan"
        raise RuntimeError(f"{name}: all elements of {what} should be between 0 and 1, but {seen}. {hint}")


# -------------------------------------------------------------------- regression losses
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r"""Mean squared error, for regression (predicting numbers).

        l_n = (x_n - y_n)^2
        mean: \frac{1}{N} \sum_n l_n    (with ``weight``: \sum_n w_n l_n / \sum_n w_n)

    ``input`` x: the predictions; ``target`` y: the true values, float, of the same shape. The optional
    ``weight`` (the input's shape) scales each element's loss. Squaring makes big errors count a lot, so a
    few outliers can dominate; huber_loss and smooth_l1_loss are gentler with them.
    """
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    _check_tensors("mse_loss", input, target)
    input, target, weight = autocast_args("mse_loss", input, target, weight)  # float32 inside autocast (amp/)
    _warn_if_shapes_differ("mse_loss", input, target)
    _check_element_weight("mse_loss", input, weight)
    if weight is None and reduction != "none" and input.array.dtype == target.array.dtype and \
            input.array.dtype.kind == "f" and input.array.dtype.itemsize >= 4:
        return MseLoss.apply(input, target, reduction=reduction)  # the same numbers as one op (ops/mse_loss.py)
    loss = _difference(input, target).square()
    return _reduce_weighted(loss, weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r"""Mean absolute error, for regression.

        l_n = |x_n - y_n|
        mean: \frac{1}{N} \sum_n l_n    (with ``weight``: \sum_n w_n l_n / \sum_n w_n)

    ``input`` and ``target``: float tensors of the same shape. Less sensitive to outliers than mse_loss, but
    its gradient is +-1 however close the prediction is (and 0 exactly at x_n = y_n).
    """
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    _check_tensors("l1_loss", input, target)
    input, target, weight = autocast_args("l1_loss", input, target, weight)  # float32 inside autocast (amp/)
    for what, x in (("input", input), ("target", target)):
        if x.dtype is dt.bool:  # as in PyTorch (which refuses x - y on bools); mse_loss accepts them, as PyTorch does
            raise RuntimeError(f"l1_loss: {what} is a bool tensor, and |x - y| needs numbers: convert it with "
                               f"{what}.float() (True becomes 1.0)")
    _warn_if_shapes_differ("l1_loss", input, target)
    _check_element_weight("l1_loss", input, weight)
    loss = (input - target).abs()
    return _reduce_weighted(loss, weight, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    r"""Squared error for small errors, absolute error for large ones: robust regression.

        d_n = |x_n - y_n|
        l_n = 0.5 d_n^2 / beta     if d_n < beta
              d_n - 0.5 beta       otherwise
        mean: \frac{1}{N} \sum_n l_n

    The two pieces meet with equal value and slope at d_n = beta. ``beta = 0`` gives l1_loss (as in PyTorch);
    beta must not be negative. Same as huber_loss(delta=beta) / beta.
    """
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    _check_tensors("smooth_l1_loss", input, target)
    input, target = autocast_args("smooth_l1_loss", input, target)  # float32 inside autocast (amp/)
    check_number("smooth_l1_loss", "beta", beta)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be >= 0 (0 gives l1_loss), got beta={beta}")
    _warn_if_shapes_differ("smooth_l1_loss", input, target)
    r = _difference(input, target)
    d = r.abs()  # (the square is r r, not d d: the same numbers, and its second derivative at r = 0 is not lost)
    loss = d if beta == 0 else where(d < beta, 0.5 * r * r / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    r"""Huber loss: squared error for small errors, delta-scaled absolute error for large ones.

        d_n = |x_n - y_n|
        l_n = 0.5 d_n^2                  if d_n < delta
              delta (d_n - 0.5 delta)    otherwise
        mean: \frac{1}{N} \sum_n l_n    (with ``weight``: \frac{1}{N} \sum_n w_n l_n, as PyTorch does)

    Unlike smooth_l1_loss the large-error slope is delta, not 1: huber_loss(delta) = delta * smooth_l1_loss(beta=delta).
    delta must be positive. Deliberate difference: an input and a target of two dtypes promote, as in mse_loss and
    smooth_l1_loss (float32 with float64 gives float64); PyTorch's huber_loss returns the input's dtype there and
    then its backward fails ("Found dtype Double but expected Float").
    """
    reduction = _reduction("huber_loss", reduction)
    _check_tensors("huber_loss", input, target)
    input, target, weight = autocast_args("huber_loss", input, target, weight)  # float32 inside autocast (amp/)
    check_number("huber_loss", "delta", delta)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got delta={delta}")
    _warn_if_shapes_differ("huber_loss", input, target)
    _check_element_weight("huber_loss", input, weight)
    r = _difference(input, target)
    d = r.abs()  # (the square is r r, as in smooth_l1_loss)
    loss = where(d < delta, 0.5 * r * r, delta * (d - 0.5 * delta))
    return _reduce(loss if weight is None else loss * weight, reduction)


# -------------------------------------------------------------------- binary classification
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    r"""Binary cross-entropy of probabilities: for yes/no targets, after a sigmoid.

        l_n = -w_n [ y_n \log x_n + (1 - y_n) \log(1 - x_n) ]
        mean: \frac{1}{N} \sum_n l_n

    ``input`` x: probabilities in [0, 1]; ``target`` y: float in [0, 1] (usually 0. or 1.), same shape;
    ``weight``: optional, broadcast against the target. As in PyTorch each log is clamped to >= -100, so a
    prediction of exactly 0 or 1 gives a large finite loss instead of inf.

    Prefer binary_cross_entropy_with_logits on the raw scores: a sigmoid in float32 rounds to exactly 1.0 for
    scores above ~17, and then this loss can no longer tell a confident right answer from an overconfident one.
    Deliberate difference: the gradient here is the derivative of the (clamped) formula, (x - y) / (x (1 - x))
    per term; PyTorch divides by max(x (1 - x), 1e-12), so where x is within about 1e-12 of 0 or 1 its gradient
    is smaller than this one; at 0 or 1 exactly the clamped log's term has slope 0 here.
    """
    reduction = _reduction("binary_cross_entropy", reduction, size_average, reduce)
    _check_tensors("binary_cross_entropy", input, target)
    input, target, weight = autocast_args("binary_cross_entropy", input, target, weight)  # float32 in autocast
    _check_same_shape("binary_cross_entropy", input, target)
    _check_floating("binary_cross_entropy", "input", input, "It holds probabilities, the output of a sigmoid: "
                    "convert it with input.float().")
    _check_floating("binary_cross_entropy", "target", target, "Targets are 0. (no) or 1. (yes), or a probability in "
                    "between: convert them with target.float().")
    if target.dtype != input.dtype:  # (PyTorch: "Found dtype Double but expected Float")
        raise RuntimeError(f"binary_cross_entropy: the target is {target.dtype} and the input {input.dtype}; they must "
                           "have one dtype (PyTorch refuses it too): convert the target with target.to(input.dtype)")
    _check_between_0_and_1("binary_cross_entropy", "input", input,
                           "The input must be probabilities: if these are raw scores (logits), apply "
                           "torch.sigmoid first, or better, use binary_cross_entropy_with_logits / "
                           "nn.BCEWithLogitsLoss, which takes logits and is numerically stable.")
    _check_between_0_and_1("binary_cross_entropy", "target", target,
                           "Targets are 0 (no) and 1 (yes), or a probability in between.")
    # log x and log(1 - x) = log1p(-x), each clamped to >= -100. Where the log would be -inf (x = 0, or x = 1),
    # the inner where() feeds it a harmless value instead, so no inf or nan reaches the value or the gradient.
    log_x = where(input > 0, where(input > 0, input, 1.0).log(), -100.0).clamp(min=-100)
    log_1mx = where(input < 1, (-where(input < 1, input, 0.0)).log1p(), -100.0).clamp(min=-100)
    loss = (target - 1) * log_1mx - target * log_x
    return _reduce(loss if weight is None else loss * _weight_as(weight, input.dtype), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    r"""Binary cross-entropy of logits: sigmoid and binary_cross_entropy in one stable step.

        l_n = -w_n [ p_c y_n \log \sigma(x_n) + (1 - y_n) \log(1 - \sigma(x_n)) ]
        mean: \frac{1}{N} \sum_n l_n

    ``input`` x: raw scores (logits), any real numbers; ``target`` y: float in [0, 1], same shape (for several
    yes/no labels per sample, shape (N, C)). ``weight`` w: optional, broadcast against the target.
    ``pos_weight`` p: optional weight of the positive (y = 1) term, one per class, shape (C,), broadcast over
    the last dim; p_c > 1 makes missed positives cost more (e.g. p_c = #negatives / #positives).

    Computed without ever taking exp of a large number, using \log(1 + e^{-x}) = \max(-x, 0) + \log(1 + e^{-|x|}):

        without pos_weight:  l_n = w_n [ \max(x_n, 0) - x_n y_n + \log(1 + e^{-|x_n|}) ]
        with pos_weight:     l_n = w_n [ (1 - y_n) x_n + (1 + (p_c - 1) y_n) (\max(-x_n, 0) + \log(1 + e^{-|x_n|})) ]

    so logits like 1000 or -3000 give exact, finite losses and gradients. Without pos_weight the gradient is
    simply d l_n / d x_n = w_n (\sigma(x_n) - y_n). The weights take the loss's dtype, as in PyTorch. Deliberate
    difference: an input and a target of two dtypes promote (float64 with float32 gives float64), where PyTorch
    computes in the target's dtype (a float64 model's loss of float32 labels is float32 there).
    """
    reduction = _reduction("binary_cross_entropy_with_logits", reduction, size_average, reduce)
    _check_tensors("binary_cross_entropy_with_logits", input, target)
    input, target, weight, pos_weight = autocast_args("binary_cross_entropy_with_logits", input, target, weight,
                                                      pos_weight)  # float32 inside autocast (amp/)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    _check_floating("binary_cross_entropy_with_logits", "input", input, "It holds raw scores (logits), the output "
                    "of the model's last layer: convert it with input.float().")
    _check_floating("binary_cross_entropy_with_logits", "target", target, "Targets are 0. (no) or 1. (yes), or a "
                    "probability in between: convert them with target.float().")
    # max(., 0) as maximum(), which splits the gradient in half at a tie: that makes the slope at x = 0 exactly
    # sigma(0) - y = 1/2 - y (clamp or relu would give 1 - y or -y there).
    log1p_exp = (-input.abs()).exp().log1p()  # log(1 + e^{-|x|}), never overflows
    zero = input.new_zeros(())
    dtype = dt.promote_types(input.dtype, target.dtype)  # the weights take it, as in PyTorch (they do not promote)
    weight, pos_weight = _weight_as(weight, dtype), _weight_as(pos_weight, dtype)
    if pos_weight is None:
        loss = input.maximum(zero) - input * target + log1p_exp
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * ((-input).maximum(zero) + log1p_exp)
    return _reduce(loss if weight is None else loss * weight, reduction)


# -------------------------------------------------------------------- classification into C classes
def _class_dim(input, name):
    """Classes are dim 1 of a batch (N, C, d1, ...), or dim 0 of one unbatched sample (C,)."""
    if input.ndim == 0:
        raise RuntimeError(f"{name}: input must have a dim of classes, shape (C,) or (N, C) or (N, C, d1, ...); "
                           "got a 0-d tensor (a single number)")
    return 0 if input.ndim == 1 else 1


def _check_class_weight(name, weight, classes):
    if weight is not None and tuple(weight.shape) != (classes,):
        raise RuntimeError(f"{name}: weight must hold one number per class, shape ({classes},), but has shape "
                           f"{tuple(weight.shape)}")
    if weight is not None and not weight.dtype.is_floating_point:  # (PyTorch: expected scalar type Float)
        raise RuntimeError(f"{name}: the class weights must be floats, got {weight.dtype} (PyTorch refuses them too); "
                           "write weight.float()")


def _check_index_weight_dtype(name, weight, input):
    """With class indices as targets the class weights must have the input's dtype, as PyTorch requires ("expected
    scalar type Float but found Double"); with probabilities they promote, as PyTorch's do."""
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"{name}: the class weights are {weight.dtype.name} and the input {input.dtype.name}; "
                           "with class indices as targets they must have one dtype (PyTorch refuses it too). Write "
                           "weight.to(input.dtype) (weights made from a numpy array are float64)")


def _check_label_smoothing(label_smoothing):
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")


def _check_class_indices(name, input, target, ignore_index):
    """Class-index targets: int64, shape (N, d1, ...) for input (N, C, d1, ...) (or () for input (C,)),
    each value in [0, C-1] or equal to ignore_index."""
    shape, tshape = input.array.shape, target.array.shape
    expected = () if input.ndim == 1 else shape[:1] + shape[2:]
    if tshape != expected:
        extra = "".join(f", d{k}" for k in range(1, input.ndim - 1))
        if input.ndim == 1:
            layout, want = "(C,)", "a 0-d tensor (one class index)"
        else:
            layout = f"(N, C{extra})"
            want = f"of shape {expected} (N{extra})" if extra else f"of shape {expected} (N,)"
        if input.ndim > 1 and target.ndim > 0 and tshape[0] != shape[0]:
            raise ValueError(f"{name}: input batch size {shape[0]} does not match target batch size {tshape[0]} "
                             f"(input shape {shape}, target shape {tshape}); they need one target per sample")
        if tshape == shape:
            hint = " For class probabilities (a float target of the input's shape) use cross_entropy."
        elif tuple(n for n in tshape if n != 1) == tuple(n for n in expected if n != 1):
            view = f"target.view({', '.join(map(str, expected))})" if expected else "target.squeeze()"
            hint = f" Remove the extra size-1 dims: {view}."
        else:
            hint = ""
        raise RuntimeError(f"{name}: for input of shape {shape} {layout}, the class-index target must be {want}, "
                           f"but it has shape {tshape}.{hint}")
    if target.dtype not in (dt.int64, dt.uint8):
        hint = (" If it holds class probabilities instead, give it the input's shape " + str(shape) + "."
                if target.dtype.is_floating_point and name == "cross_entropy" else "")
        raise RuntimeError(f"{name}: class-index targets must be int64 (torch.long; uint8 is accepted too), "
                           f"but target has dtype {target.dtype.name}. Convert with target.long().{hint}")
    classes = shape[_class_dim(input, name)]
    t = target.array.astype(np.int64, copy=False)  # (uint8 is allowed too, as in PyTorch)
    if type(t) is not np.ndarray:  # on a GPU: checked there, without a read (_checked_on_device)
        return _out_of_range(t, classes, ignore_index)
    if t.size == 0 or _all_classes(t, classes):  # the usual case
        return None
    bad = (t != ignore_index) & ((t < 0) | (t >= classes))
    if bad.any():
        value = int(t[bad].reshape(-1)[0])
        message = (f"{name}: target holds class index {value}, out of range for {classes} classes: valid class "
                   f"indices are [0, {classes - 1}].")
        if value < 0:
            message += (f" Negative values are only allowed as ignore_index (now {ignore_index}): to skip these "
                        f"elements, pass ignore_index={value}.")
        elif value == classes and int(t[t != ignore_index].min()) >= 1:
            message += " Are the labels numbered from 1? Subtract 1: target - 1."
        else:
            message += f" Does the model output enough classes? Index {value} needs at least {value + 1}."
        raise IndexError(message)
    return None


def _out_of_range(t, classes, ignore_index):
    """A 0-d device array: how many targets (not ignore_index) lie outside [0, classes - 1]? (one fused reduction)"""
    return fused(array_module_of(t), make_out_of_range)(t, ignore_index, classes)


def _checked_on_device(loss, bad, name, input, target, ignore_index, poisoned=False):
    """The loss, made nan (with every gradient) where ``bad``, a GPU's count of targets out of range, is not 0
    (``poisoned``: its op has done so itself, as the fused cross-entropy on a GPU does; else a product with nan or 1).

    On the CPU the targets' range is checked at once. On a GPU, reading the verdict back at every step would make
    the CPU wait for the GPU (and CuPy's indexing wraps an out-of-range index around, silently), so the check runs
    there and poisons the loss instead; reading the loss (``loss.item()``) then raises the CPU's error. PyTorch's
    CUDA kernels do the same in their way: a "device-side assert" reported at the next synchronisation."""
    if bad is None:
        return loss
    if not poisoned:
        number = loss.array.dtype.type
        loss = loss * Tensor._make(fused(array_module_of(bad), make_poison)(bad, number(np.nan), number(1)), None)

    def explain():  # (only when the loss read is nan: one more read, and the CPU's message)
        if bool(bad):
            _check_class_indices(name, input.detach().cpu(), target.cpu(), ignore_index)
    loss._explain_nan = explain
    return loss


def _usual_class_targets(input, target, ignore_index):
    """The usual case of classification, checked in one go: float scores (N, C) with N > 0, and int64 class indices
    (N,) on the same device, each in [0, C-1], with an ignore_index that is no class (so nothing to mask).

    Returns a copy of the targets' array (NllLoss keeps it for backward), or None in every other case: then
    ``cross_entropy`` takes its general path, which handles the rest and explains what is wrong. On a GPU always
    None: whether a target is ignore_index, or out of range, cannot be known there without reading the targets back
    (and CuPy's indexing would wrap such a target around, silently), so the general path's fused op weighs each
    target on the GPU (``_fused``), and its check poisons the loss (``_checked_on_device``).
    """
    if not (isinstance(input, Tensor) and isinstance(target, Tensor)):
        return None
    x, t = input.array, target.array
    if type(x) is not np.ndarray or type(t) is not np.ndarray:
        return None
    if x.ndim != 2 or x.dtype.kind != "f" or t.dtype != np.int64 or t.shape != x.shape[:1]:
        return None
    classes = x.shape[1]
    if t.size == 0 or 0 <= ignore_index < classes or not _all_classes(t, classes):
        return None
    return t.copy()


def _all_classes(t, classes):
    """Is every target in ``t`` (a non-empty integer array) a class index in [0, classes-1]? Two quick reductions."""
    return 0 <= int(t.min()) and int(t.max()) < classes


def _nll(logp, target, weight, ignore_index, reduction, label_smoothing=0.0):
    r"""The loss of log-probabilities ``logp`` for class indices ``target``, reduced by ``reduction``: per target
    l_n = -w_{y_n} logp[n, y_n] (0 where y_n = ignore_index), and 'mean' divides their sum by the sum of w_{y_n}
    over the targets that count. With label smoothing eps (cross_entropy only):

        l_n = (1 - eps) (-w_{y_n} logp[n, y_n]) + (eps / C) (-\sum_c w_c logp[n, c])

    The targets have no gradient, so they are handled as plain arrays; only logp's part is recorded in the graph.
    """
    classes = logp.array.shape[_class_dim(logp, "nll_loss")]
    # one row of C log-probabilities per target element: (N, C, d1, ...) -> (N, d1, ..., C) -> (M, C)
    if logp.array.ndim > 2:
        logp = logp.permute(0, *range(2, logp.ndim), 1)
    rows = logp if logp.ndim == 2 else logp.reshape(-1, classes)
    t = target.array.reshape(-1).astype(np.int64)          # (a copy: the ops keep it for backward)
    keep = t != ignore_index
    masked = not keep.all()                                 # any ignored targets? (usually none: no where()s)
    if reduction == "mean" and weight is None and not masked and label_smoothing == 0 and t.size:
        return NllLoss.apply(rows, t)                       # the usual case, in one op (ops/gather.py)
    if masked:
        t[~keep] = 0                                        # ignored targets pick class 0; masked out below
    with on_device_of(t):                                   # (the row numbers made on t's GPU, cuda:1 too)
        positions = array_module_of(t).arange(len(t))
    picked = rows[positions, t]                             # logp[n, y_n], by integer-array indexing
    w = None if weight is None else weight.to(logp.dtype)
    loss = -picked if w is None else -w[t] * picked
    if label_smoothing > 0:
        spread = -rows.sum(1) if w is None else -(rows * w).sum(1)
        loss = (1 - label_smoothing) * loss + (label_smoothing / classes) * spread
    if masked:
        loss = where(keep, loss, 0.0)
    loss = loss.reshape(target.shape)
    if reduction != "mean":
        return _reduce(loss, reduction)
    return _weighted_mean(loss, int(keep.sum()) if w is None else where(keep, w[t], 0.0).sum())


def _fused(input, target, weight, ignore_index, reduction, label_smoothing, logits, bad=None):
    r"""The loss as one op, ``CrossEntropy`` (``ops/cross_entropy.py``), given the target as weights a_{n,c} of the
    input's shape: how much -logp_{n,c} counts (the op's docstring lists them). Its arguments are checked already.

    Returns None where the loss keeps its separate ops: the usual case of class indices (mean, no weights, no
    smoothing, nothing ignored: ``NllLoss``, as PyTorch's graph has it); a float16 input; a weight or a target
    that requires grad (the separate ops differentiate them); an empty input; a target or weight on another
    device (whose error the separate ops give); probabilities or their weights of another dtype (which promote); and
    'mean' over
    targets that are all ignored or weigh nothing (0/0: nan, by ``_weighted_mean``).

    On "cuda" the weights of class indices are one fused kernel and the loss of logits is ``CrossEntropyCuda``
    (``kernels/cross_entropy.py``): the same numbers in a few kernel launches instead of a few dozen. It takes
    ``bad``, the GPU's count of targets out of range (``_check_class_indices``), and poisons its own loss with it.
    """
    x = input.array
    dim = _class_dim(input, "cross_entropy")
    classes = x.shape[dim]
    other_device = any(type(t.array) is not type(x) for t in (target, weight) if t is not None)
    differentiated = target.requires_grad or (weight is not None and weight.requires_grad)
    if x.dtype not in (np.float32, np.float64) or x.size == 0 or other_device or differentiated:
        return None
    xp = array_module_of(x)
    op = CrossEntropyCuda if logits and xp is not np else CrossEntropy
    along = [1] * x.ndim
    along[dim] = classes                                     # the shape of a per-class vector, along the classes
    if target.array.shape == x.shape:                        # class probabilities q
        if target.array.dtype != x.dtype or (weight is not None and weight.array.dtype != x.dtype):
            return None
        q = target.array
        a = q if label_smoothing == 0 else q * (1 - label_smoothing) + label_smoothing / classes
        if weight is not None:
            a = a * weight.array.astype(x.dtype).reshape(along)
        return op.apply(input, a, dim, reduction, x.size // classes, logits=logits)
    t = target.array.astype(np.int64, copy=False)           # (read, never written)
    keep = t != ignore_index
    if xp is not np:  # on a GPU: a in one fused kernel; D stays there, unread (0/0 is nan, as _weighted_mean gives)
        a, denominator = target_weights(t, keep, None if weight is None else weight.array, dim, classes,
                                        label_smoothing, x.dtype)
        if op is CrossEntropyCuda:
            return op.apply(input, a, dim, reduction, denominator, bad=bad)
        return op.apply(input, a, dim, reduction, denominator, logits=logits)
    if reduction == "mean" and weight is None and label_smoothing == 0 and keep.all():
        return None
    w = xp.ones(classes, dtype=x.dtype) if weight is None else weight.array.astype(x.dtype)
    t = xp.where(keep, t, 0)                                 # ignored targets pick class 0, weighted by 0
    w_y = w[t] * keep                                        # w_{y_n}, 0 where y_n is ignored
    one_hot = xp.expand_dims(t, dim) == xp.arange(classes).reshape(along)
    a = one_hot * xp.expand_dims((1 - label_smoothing) * w_y, dim)
    if label_smoothing > 0:
        a = a + xp.expand_dims(keep, dim) * (label_smoothing / classes * w).reshape(along)
    denominator = float(w_y.sum())
    if reduction == "mean" and denominator == 0:
        return None
    return CrossEntropy.apply(input, a, dim, reduction, denominator, logits=logits)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    r"""Negative log-likelihood: the loss of log-probabilities for the true classes.

        l_n = -w_{y_n} x_{n, y_n}        (0 when y_n = ignore_index)
        mean: \sum_n l_n / \sum_n w_{y_n}   over the n with y_n != ignore_index (nan if there are none)

    ``input`` x: log-probabilities, shape (N, C), (N, C, d1, ...) or (C,): the output of log_softmax(dim=1),
    not probabilities and not raw scores. ``target`` y: class indices, int64, shape (N,), (N, d1, ...) or ();
    each in [0, C-1], or ignore_index to skip it (e.g. padding). ``weight`` w: optional, one per class, (C,);
    without it every w_c = 1 and 'mean' is the plain average.
    nll_loss(log_softmax(z, 1), y) is cross_entropy(z, y); use cross_entropy on raw scores.
    """
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    _check_tensors("nll_loss", input, target)
    check_same_device("nll_loss", [t for t in (input, target, weight) if isinstance(t, Tensor)])
    input, target, weight = autocast_args("nll_loss", input, target, weight)  # float32 inside autocast (amp/)
    _check_floating("nll_loss", "input", input, "It holds log-probabilities, the output of log_softmax; class "
                    "indices go in target.")
    classes = input.shape[_class_dim(input, "nll_loss")]
    _check_class_weight("nll_loss", weight, classes)
    _check_index_weight_dtype("nll_loss", weight, input)
    bad = _check_class_indices("nll_loss", input, target, ignore_index)
    fused = _fused(input, target, weight, ignore_index, reduction, 0.0, logits=False)
    loss = _nll(input, target, weight, ignore_index, reduction) if fused is None else fused
    return _checked_on_device(loss, bad, "nll_loss", input, target, ignore_index)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    r"""Cross-entropy of logits: the loss for choosing one class out of C.

    ``input`` z: raw scores (logits), shape (N, C), (N, C, d1, ...) (e.g. per pixel) or (C,) for one sample.
    The log-probabilities logp = log_softmax(z, dim=1) are computed stably (logp_c = z_c - logsumexp(z)),
    so scores like 1000 or -3000 are fine. ``weight`` w: optional, one per class, shape (C,).
    The ``target`` takes one of two forms:

    1. Class indices: int64, shape (N,), (N, d1, ...) or (); each in [0, C-1] or ignore_index (skipped).

           l_n = -w_{y_n} logp_{n, y_n}          (0 when y_n = ignore_index)
           mean: \sum_n l_n / \sum_n w_{y_n}        over the n with y_n != ignore_index (nan if there are none)

       With ``label_smoothing`` eps, the true class gets 1 - eps and every class eps / C of the target:

           l_n = (1 - eps) (-w_{y_n} logp_{n, y_n}) + (eps / C) (-\sum_c w_c logp_{n, c})

       with the same 'mean' denominator.

    2. Class probabilities: float, the input's shape, each row summing to 1 (e.g. one-hot rows, or soft labels).

           q_{n, c} = (1 - eps) y_{n, c} + eps / C     (q = y without label smoothing)
           l_n = -\sum_c w_c q_{n, c} logp_{n, c}
           mean: \frac{1}{N} \sum_n l_n     (N counts all of the n (and d1, ...) positions; weights do not divide)

       ignore_index is not used with probabilities.

    The usual case (class indices, 'mean', no weights, nothing ignored, no smoothing) is two ops, NllLoss after
    LogSoftmax, as PyTorch's graph has it; every other case is one op, ``CrossEntropy`` (``ops/cross_entropy.py``,
    with its closed-form backward), except those ``_fused`` lists, which keep the separate ops. On "cuda" every
    case of float32 or float64 logits is one op, ``CrossEntropyCuda`` (``kernels/cross_entropy.py``): there the
    targets are not read back to see whether any is ignored.
    """
    if weight is None and reduction == "mean" and label_smoothing == 0 and size_average is None and reduce is None:
        t = _usual_class_targets(input, target, ignore_index)
        if t is not None:  # the usual case, already checked (on the CPU): two ops, as in PyTorch's graph
            return NllLoss.apply(LogSoftmax.apply(autocast_args("cross_entropy", input)[0], dim=1), t)
    reduction = _reduction("cross_entropy", reduction, size_average, reduce)
    _check_tensors("cross_entropy", input, target)
    check_same_device("cross_entropy", [t for t in (input, target, weight) if isinstance(t, Tensor)])
    input, target, weight = autocast_args("cross_entropy", input, target, weight)  # float32 inside autocast (amp/)
    _check_floating("cross_entropy", "input", input, "It holds raw scores (logits), one per class, the output of "
                    "the model's last layer; class indices go in target. Convert it with input.float() if these "
                    "really are scores.")
    class_dim = _class_dim(input, "cross_entropy")
    classes = input.array.shape[class_dim]
    _check_class_weight("cross_entropy", weight, classes)
    _check_label_smoothing(label_smoothing)
    if target.array.shape == input.array.shape:  # class probabilities
        if not target.dtype.is_floating_point:
            index_shape = tuple(input.shape[:class_dim] + input.shape[class_dim + 1:])
            fix = (f"For one-hot rows use target.float(); or pass class indices instead: target.argmax(dim="
                   f"{class_dim}), shape {index_shape}." if input.ndim > 1 else "If the input holds one score per "
                   "sample (a model with one output), cross_entropy needs (N, C) scores, one per class; for two "
                   "classes and one output use binary_cross_entropy_with_logits(input, target.float()).")
            raise RuntimeError(f"cross_entropy: target has the input's shape {tuple(input.shape)}, so it is read "
                               f"as class probabilities, which must be floating point, but its dtype is "
                               f"{target.dtype.name}. {fix}")
        if ignore_index >= 0:
            raise RuntimeError(f"cross_entropy: ignore_index={ignore_index} is only for class-index targets, not "
                               "for class probabilities (a float target of the input's shape)")
        fused = _fused(input, target, weight, ignore_index, reduction, label_smoothing, logits=True)
        if fused is not None:
            return fused
        logp = input.log_softmax(class_dim)
        q = target if label_smoothing == 0 else target * (1 - label_smoothing) + label_smoothing / classes
        if weight is not None:
            q = q * weight.reshape(classes, *[1] * (input.ndim - class_dim - 1))
        return _reduce(-(logp * q).sum(class_dim), reduction)
    _check_index_weight_dtype("cross_entropy", weight, input)
    bad = _check_class_indices("cross_entropy", input, target, ignore_index)
    loss = _fused(input, target, weight, ignore_index, reduction, label_smoothing, logits=True, bad=bad)
    if loss is not None:  # (on a GPU the fused op has poisoned its loss with bad itself)
        return _checked_on_device(loss, bad, "cross_entropy", input, target, ignore_index, poisoned=True)
    loss = _nll(input.log_softmax(class_dim), target, weight, ignore_index, reduction, label_smoothing)
    return _checked_on_device(loss, bad, "cross_entropy", input, target, ignore_index)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    r"""Kullback-Leibler divergence KL(target || model), pointwise, for log-probabilities ``input``.

        l_n = y_n (\log y_n - x_n)           (target y as probabilities; 0 where y_n = 0, as y log y -> 0)
        l_n = e^{y_n} (y_n - x_n)            (``log_target=True``: the target as log-probabilities too)

    ``input`` x holds log-probabilities (the output of log_softmax), not probabilities. ``reduction``: 'none',
    'sum', 'batchmean' (the sum divided by the batch size, input.size(0): the divergence per sample, KL's own
    definition) or 'mean' (divided by every element's count: the batch size times the number of classes, which is
    not KL; it warns, as PyTorch's does). The target gets a gradient too, where it requires one (at a target
    probability of exactly 0 it is -x there, finite; PyTorch's is nan).
    """
    batchmean = isinstance(reduction, str) and reduction == "batchmean"
    if batchmean:
        reduction = "sum"
    reduction = _reduction("kl_div", reduction, size_average, reduce)
    _check_tensors("kl_div", input, target)
    input, target = autocast_args("kl_div", input, target)
    for what, x in (("input", input), ("target", target)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"kl_div: {what} must be floating point (log-probabilities or probabilities), got "
                               f"{x.dtype.name}: convert it with {what}.float()")
    _warn_if_shapes_differ("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # y log y with 0 for y = 0 (log of a 1 there: no -inf, and a gradient of 0 times something finite);
        # a negative y is no probability: its log is nan, and so is the loss, as in PyTorch
        loss = target * (where(target == 0, 1.0, target).log() - input)
    if batchmean:
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size and the number of "
                      "classes; reduction='batchmean' divides by the batch size only, which is the KL divergence "
                      "per sample (PyTorch warns the same, and will make 'mean' mean that)",
                      stacklevel=callers_level())
    return _reduce(loss, reduction)
