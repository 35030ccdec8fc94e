r"""Lesson 06, gradient clipping and gradient health: the checks of its four exercises.

- ``06.clip_grad_norm_(parameters, max_norm, norm_type=2.0)`` and ``06.clip_grad_value_(parameters,
  clip_value)``: what is judged is what the call leaves behind, as in PyTorch: the ``.grad`` of every parameter
  after the call, the parameters' values (which must not change), and for ``clip_grad_norm_`` the total norm it
  returns (a 0-d tensor, the norm BEFORE clipping). Clipping is in place, as PyTorch's (the trailing ``_``):
  each ``.grad`` must be the tensor it was before the call, now holding the clipped numbers; a new tensor
  assigned to ``p.grad`` fails even with the right numbers (code that kept the old tensor, e.g. ``g = p.grad``
  taken before the call, would read unclipped numbers), and the text says so. So the exercises' ``call``
  (``after_clipping``) runs the learner's function on a fresh copy of the parameters and returns a ``Run``: the
  returned norm, then every gradient, then every value, as numbers, then the index of the first parameter whose
  ``.grad`` was replaced (-1: none; reported only once the numbers are right, and left out when a mistake's
  numbers are matched), with ``problem`` saying what the numbers cannot show (a Python number or a list
  returned instead of a 0-d tensor, weights changed; a float32 total or gradient made float64, which the last
  number then says instead, for its own hint). ``check_inputs`` is False: changing the gradients is the point.
  The hidden cases vary every argument: ``max_norm`` above and below the norm (no scaling up), ``norm_type`` 1, 3
  and inf (by position and by keyword), tiny gradients where the 1e-6 in the denominator
  shows, a parameter whose ``.grad`` is None, a single tensor instead of a list, a generator
  (``model.parameters()``), which can be iterated only once, float64 gradients, a nan and an inf in a gradient
  (no special case: PyTorch's numbers), and nothing to clip under a tiny ``max_norm`` (1e-4: a factor that is not
  exactly 1 shows). The float64 case is judged at float64's precision (issue 32), with a ``max_norm`` (0.7) and a
  ``clip_value`` (0.3) that float32 cannot hold, so that a factor or a bound made in float32 shows. The library's own
  functions (and ``get_total_norm``) are forbidden: the exercise is to write them; and the texts name their
  building blocks (``allow``: arithmetic, vector_norm, clamp ...), so that any other function that measures or
  clips (PyTorch's ``clip_grads_with_norm_``, ``hardtanh``, ``grad_stats``) is refused.
- ``06.first_bad_step(history, limit=1e3)``: given the ``grad_stats`` table of each step of a run, the first step
  at which some gradient norm is not finite or above ``limit``, and the name of the first parameter (in the
  table's order) that is bad there; ``(None, None)`` for a healthy run. The hidden runs are synthetic tables with
  the columns of ``nn.utils.grad_stats``: a run whose gradients grow, one that turns nan at once (nan > limit is
  False), one that turns inf, "tiny" and "dead units" flags (which are no divergence), other limits (inf among
  them: an inf norm is bad though inf > inf is False), a bad step
  0 (nan, and inf in the last row), only the last step bad, a norm exactly at the limit (not above it), and a
  norm above the limit while every element stays below it. history must be left as it was.
- ``06.diagnose(history, limit=1e3)``: the kind of failure, judged at the first bad step: "healthy" (none),
  "exploding" (the first bad norm is finite: the norms grew past the limit) or "sudden" (it is nan or inf); the
  same runs as ``06.first_bad_step``. Answers of both are turned into numbers by their ``call`` (a Run), with a
  ``problem`` for an answer of the wrong form (a row instead of a name, None instead of (None, None), ...).

The references are the library's own functions (``nn.utils.clip_grad_norm_`` and ``clip_grad_value_``, tested
against PyTorch's in tests/test_lesson06.py), so that ``use`` can stand in with them. Hints come in two tiers: the
concept first, then a more concrete one when the same mistake comes back; neither is the finished line.
"""
import copy
import functools
import math

import numpy as np

from ... import manual_seed, nn, optim, tensor
from ...datasets import noisy_sine
from ...nn.utils import clip_grad_norm_ as library_clip_grad_norm_
from ...nn.utils import clip_grad_value_ as library_clip_grad_value_
from ...nn.utils import get_total_norm
from ...nn.utils.grad_stats import GradStats, _flag
from ..answers import Run, RunAnswer, is_tensor, type_name
from ..checks import Case, ErrorHint, Exercise, Mistake, compare_arrays, register
from ._common import F64_RTOL, _float32_digits, _mistake

EPS = 1e-6  # what PyTorch adds to the total norm before dividing


# -------------------------------------------------------------------- parameters with gradients
class Parameters:
    """An iterable of parameters that can be iterated only ONCE, like the generator ``model.parameters()``
    (a real generator cannot be copied, and the check copies every case before each call)."""

    def __init__(self, tensors):
        self.tensors, self.used = list(tensors), False

    def __iter__(self):
        if self.used:
            return iter(())
        self.used = True
        return iter(self.tensors)

    def __repr__(self):
        return f"<generator object Module.parameters ({len(self.tensors)} parameters)>"


def parameter(value, grad=None, dtype=np.float32):
    """A leaf tensor that requires grad, with ``.grad`` set to ``grad`` (None: no gradient)."""
    p = tensor(np.asarray(value, dtype=dtype), requires_grad=True)
    if grad is not None:
        p.grad = tensor(np.asarray(grad, dtype=dtype))
    return p


def tensors_of(parameters):
    """The parameter tensors a case passes, however it passes them (a list, a single tensor, a generator)."""
    if isinstance(parameters, Parameters):
        return parameters.tensors
    if is_tensor(parameters):
        return [parameters]
    return list(parameters)


def _parameters_argument(args, kwargs):
    return args[0] if args else kwargs["parameters"]


def _numbers(tensors, what):
    """Every number of each tensor's ``what`` (grad or value), flattened; a missing grad gives no numbers."""
    parts = []
    for p in tensors:
        t = p.grad if what == "grad" else p
        if t is not None:
            parts.append(np.asarray(t.detach().numpy(), dtype=np.float64).ravel())
    return parts


def _returned_problem(returned):
    """What is wrong with what clip_grad_norm_ returned (None: a 0-d float tensor), and its value as a number."""
    if returned is None:
        return ("your function returned None. clip_grad_norm_ also returns the total norm of the gradients, "
                "measured before clipping, as a 0-d tensor: it is the number worth logging"), np.nan
    if is_tensor(returned):
        array = np.asarray(returned.detach().numpy())
        if array.dtype.kind != "f":
            return f"you returned a tensor of {array.dtype.name}; the total norm is a float tensor", np.nan
        if array.ndim != 0:
            value = float(array.ravel()[0]) if array.size == 1 else np.nan
            return (f"you returned a tensor of shape {tuple(array.shape)}; the total norm is one number, a 0-d "
                    "tensor (shape ()), as PyTorch's clip_grad_norm_ returns it"), value
        return None, float(array)
    if isinstance(returned, (list, tuple)):
        return (f"you returned a {type_name(returned)}. clip_grad_norm_ changes the .grad of each parameter "
                "itself and returns one number, the total norm before clipping, as a 0-d tensor"), np.nan
    if isinstance(returned, (float, int, np.generic, np.ndarray)) and not isinstance(returned, bool):
        value = float(np.asarray(returned).ravel()[0]) if np.size(returned) == 1 else np.nan
        source = ("from .numpy() or a numpy function" if isinstance(returned, (np.ndarray, np.generic))
                  else "from .item(), float() or math.sqrt")
        return (f"you returned a {type_name(returned)} (e.g. {source}) where a 0-d "
                "tensor was expected: PyTorch's clip_grad_norm_ returns a tensor, and code written for it calls "
                ".item() on the result. Keep the total norm a tensor"), value
    return f"you returned a {type_name(returned)} where a 0-d tensor (the total norm) was expected", np.nan


def after_clipping(fn, args, kwargs, returns_norm=True):
    """Run ``fn`` (a clip_grad_norm_ or clip_grad_value_) on the case's parameters and return what it leaves: a
    Run of [returned norm (clip_grad_norm_ only), every gradient's numbers, every parameter's numbers, the index
    of the first parameter whose .grad is a new tensor (-1: none; WIDER_TOTAL or WIDER_GRAD: a float32 total or
    gradient came out float64)].

    In place, as PyTorch's: each parameter's ``.grad`` after the call must be the very tensor it held before
    (whoever holds that tensor, e.g. ``g = p.grad`` taken before the call, reads the clipped numbers). A new
    tensor assigned to ``p.grad`` fails even when its numbers are right (``_compare_grads`` says so once the
    numbers are right)."""
    tensors = tensors_of(_parameters_argument(args, kwargs))
    values_before = _numbers(tensors, "value")
    held = [p.grad for p in tensors]
    dtypes = [_dtype(p.grad) for p in tensors]
    with np.errstate(invalid="ignore"):  # 0 * inf is nan on purpose (a case with an inf gradient): no warning
        returned = fn(*args, **kwargs)
    grads, values = _numbers(tensors, "grad"), _numbers(tensors, "value")
    code = None  # a dtype made wider (float32 -> float64), which the Run's last number says (see WIDER_TOTAL)
    if returns_norm:
        problem, total = _returned_problem(returned)
        own = next((d for d in dtypes if d is not None), _dtype(tensors[0]) if tensors else None)
        if problem is None and own is not None and _dtype(returned) != own:
            problem = (f"your total norm is a {_dtype(returned)} tensor, but the gradients are {own}: the total "
                       "norm has the gradients' dtype, as PyTorch's does (compute it from the gradients "
                       "themselves, without converting them)")
            code = WIDER_TOTAL if _widened(own, _dtype(returned)) else None
    else:
        problem, total = None, None
        if returned is not None:
            problem = (f"your function returned a {type_name(returned)}. clip_grad_value_ returns nothing (None), "
                       "as PyTorch's does: it clamps the gradients in place, and that is its whole result")
    for i, (p, before) in enumerate(zip(tensors, dtypes)):
        if before is not None and p.grad is not None and _dtype(p.grad) != before:
            problem = (f"parameter {i}'s .grad is {_dtype(p.grad)} after your function; it was {before}. Clipping "
                       "keeps each gradient's dtype (the dtype of its parameter): change the numbers, not the "
                       "dtype")
            code = WIDER_GRAD if _widened(before, _dtype(p.grad)) else None
            break
    rebound = [i for i, (p, g) in enumerate(zip(tensors, held)) if g is not None and p.grad is not g]
    changed = [i for i, (b, a) in enumerate(zip(values_before, values)) if not np.array_equal(a, b)]
    if changed:
        problem = (f"your function changed the values of parameter {changed[0]} (the weights themselves). "
                   "Clipping changes only the gradients, .grad; the optimizer's step moves the weights afterwards")
        code = None
    head = [np.array([total])] if returns_norm else []
    tail = [np.array([code if code is not None else rebound[0] if rebound else -1])]
    return Run.of(np.concatenate(head + grads + values + tail), problem)


# The Run's last number, when it is not a parameter's index (a .grad replaced by a new tensor) or -1 (none): a float32
# total or gradient that came out float64. The problem says so; these codes let a Mistake give it its own hint (the
# course's hint for a dtype mismatch is about the opposite, a float32 where a float64 is expected).
WIDER_TOTAL, WIDER_GRAD = -2, -3


def _widened(before, after):
    """Whether a float32 tensor's numbers came out float64."""
    return before == "float32" and after == "float64"


def _dtype(t):
    """The numpy dtype name of a tensor's numbers ("float32"); None for None."""
    return None if t is None else np.asarray(t.detach().numpy()).dtype.name


def after_value_clipping(fn, args, kwargs):
    return after_clipping(fn, args, kwargs, returns_norm=False)


def _grad_shapes(case):
    return [tuple(p.grad.shape) for p in tensors_of(case.args[0]) if p.grad is not None]


def _split(numbers, case, returns_norm=True):
    """(returned norm, [each gradient, shaped]) of a Run's numbers."""
    numbers = np.asarray(numbers, dtype=np.float64)
    start = 1 if returns_norm else 0
    grads = []
    for shape in _grad_shapes(case):
        size = int(np.prod(shape))
        grads.append(numbers[start:start + size].reshape(shape))
        start += size
    return (numbers[0] if returns_norm else None), grads


def _grads_before(case):
    return [np.asarray(p.grad.numpy(), dtype=np.float64) for p in tensors_of(case.args[0]) if p.grad is not None]


def _rebinding(got, returns_norm):
    """The message for right numbers whose .grad is a new tensor (the Run's last number: its index, or -1)."""
    index = int(got[-1])
    if index < 0:
        return None
    return (f"the numbers are right, but parameter {index}'s .grad is a new tensor after your function (you "
            "assigned a new tensor to p.grad): the tensor it held before the call still holds the unclipped "
            "gradient")


def _rebound_mistake(returns_norm):
    """The hint for right numbers in a new .grad tensor: in place is part of the contract."""
    name = "clip_grad_norm_" if returns_norm else "clip_grad_value_"

    def match(got, expected, case):
        got, expected = np.array(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if got.shape != expected.shape or got[-1] < 0:
            return False
        got[-1] = -1  # the same numbers, changed in place: right?
        rtol, atol = _norm_tolerance(case) if returns_norm else (VALUE_RTOL, 0.0)
        return _compare_grads(got, expected, case, returns_norm, rtol, atol) is None
    return Mistake(
        hint=f"{name} works in place, as PyTorch's does (the _ at the end of the name says so): code that holds "
             "the gradient tensor (g = p.grad taken before the call, or any other reference kept to it) goes on "
             "reading that tensor, so clipping must change its numbers, not replace it with a new tensor",
        more="change p.grad with an in-place operation (a tensor method whose name ends in _)",
        match=match)


def _compare_grads(got, expected, case, returns_norm, rtol, atol):
    if got.shape != expected.shape:
        return "the gradients changed size or a missing gradient (None) was filled in: leave both as they are"
    got_total, got_grads = _split(got, case, returns_norm)
    expected_total, expected_grads = _split(expected, case, returns_norm)
    if returns_norm and compare_arrays(np.asarray(got_total), np.asarray(expected_total), rtol, atol):
        return (f"the total norm your function returned is {got_total:.6g}; expected {expected_total:.6g}, the "
                "norm of all the gradients together (as one long vector), measured before clipping")
    if all(compare_arrays(g, e, rtol, atol) is None for g, e in zip(got_grads, expected_grads)):
        return _rebinding(got, returns_norm)
    before = _grads_before(case)
    if all(np.array_equal(g, b) for g, b in zip(got_grads, before)) and all(np.isfinite(b).all() for b in before):
        # (with a nan or inf in a gradient, the numbers below say more: which element should have become what)
        return ("the .grad of every parameter is unchanged after your function, where clipping should have "
                "changed it: the optimizer reads p.grad after your call, so that is what must be clipped")
    dtype = _case_dtype(case)
    for i, (g, e) in enumerate(zip(got_grads, expected_grads)):  # in the gradients' own dtype
        failure = compare_arrays(g.astype(dtype), e.astype(dtype), rtol, atol,
                                 f"the gradient of parameter {i} after your function")
        if failure:
            return failure + _more_digits(g.astype(dtype), e.astype(dtype), rtol, atol)
    return None


def _case_dtype(case):
    """The dtype of the case's gradients (float32, or float64 for the float64 case)."""
    grads = [p.grad for p in tensors_of(case.args[0]) if p.grad is not None]
    return np.float64 if grads and _dtype(grads[0]) == "float64" else np.float32


def _norm_tolerance(case):
    """clip_grad_norm_'s tolerance: float32's, or float64's precision on the float64 case (issue 32), where a factor
    or a total rounded to float32 on the way (a tl.tensor(max_norm) made in the default float32) shows."""
    return (F64_RTOL, 0.0) if _case_dtype(case) == np.float64 else (NORM_RTOL, NORM_ATOL)


def _more_digits(got, expected, rtol, atol):
    """The worst difference to 9 digits, when 6 digits (compare_arrays' message) show the same number twice."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        wrong = ~((diff <= atol + rtol * np.abs(expected)) | (got == expected) | (np.isnan(got) & np.isnan(expected)))
    if not wrong.any():
        return ""
    worst = np.unravel_index(int(np.argmax(np.where(wrong, np.nan_to_num(diff, nan=np.inf), -1))), got.shape)
    g, e = float(got[worst]), float(expected[worst])
    if f"{g:.6g}" != f"{e:.6g}":
        return ""
    digits = 17 if got.dtype == np.float64 else 9
    return f"; to {digits} digits: expected {e:.{digits}g}, got {g:.{digits}g}"


def _norm_compare(got, expected, case):
    return _compare_grads(got, expected, case, True, *_norm_tolerance(case))


def _value_compare(got, expected, case):
    return _compare_grads(got, expected, case, False, VALUE_RTOL, 0.0)


# -------------------------------------------------------------------- 06.clip_grad_norm_
def clip_grad_norm_reference(parameters, max_norm, norm_type=2.0):
    r"""Rescale the gradients of ``parameters`` in place so that their total norm is at most ``max_norm``:
    total = \|(\|g_1\|_p, ..., \|g_k\|_p)\|_p, every g_i <- g_i * min(1, max_norm / (total + 1e-6));
    returns the total norm before clipping. (The library's nn.utils.clip_grad_norm_, as PyTorch's.)"""
    return library_clip_grad_norm_(parameters, max_norm, norm_type)


NORM_EXAMPLE_GRADS = ([[1.0, -2.0], [2.0, 0.0]], [4.0, 0.0])  # total norm sqrt(1 + 4 + 4 + 16) = 5


def norm_example():
    """The notebook's example: a weight and a bias with gradients of total norm 5, clipped to max_norm 1."""
    w = parameter([[0.5, -0.3], [0.1, 0.8]], NORM_EXAMPLE_GRADS[0])
    b = parameter([0.0, 0.2], NORM_EXAMPLE_GRADS[1])
    return [w, b]


def _random_parameters(rng, shapes, scale=1.0, none_at=(), dtype=np.float32):
    return [parameter(rng.standard_normal(s), None if i in none_at else scale * rng.standard_normal(s), dtype)
            for i, s in enumerate(shapes)]


MLP_SHAPES = [(8, 4), (8,), (3, 8), (3,)]


def _norm_cases(rng):
    cases = [
        Case((norm_example(), 1.0), visible=True),
        Case((Parameters(_random_parameters(rng, MLP_SHAPES, 3.0)), 1.0),
             "parameters given as model.parameters(), a generator: it can be iterated only once"),
        Case((_random_parameters(rng, MLP_SHAPES, 0.1), 10.0),
             "the total norm is below max_norm = 10: nothing to clip"),
        Case((_random_parameters(rng, MLP_SHAPES, 2.0, none_at=(1,)), 0.5),
             "parameter 1 has no gradient (.grad is None, e.g. a frozen layer)"),
        Case((_random_parameters(rng, [(5, 3), (5,)], 4.0), 2.0), "norm_type = 1", {"norm_type": 1.0}),
        Case((_random_parameters(rng, [(4, 4), (4,), (2, 4)], 5.0), 0.5), "norm_type = inf",
             {"norm_type": math.inf}),
        Case((_random_parameters(rng, [(3, 3), (3,)], 2.0), 1.5, 3.0), "norm_type = 3, given by position"),
        Case((parameter(rng.standard_normal((3, 4)), 10 * rng.standard_normal((3, 4))), 2.0),
             "a single tensor instead of a list"),
        Case((_random_parameters(rng, [(6, 2), (6,)], 2e-4), 1e-4),
             "tiny gradients (total norm about 1e-3) and max_norm = 1e-4"),
        Case((_random_parameters(rng, [(16, 8), (16,), (16, 16), (16,), (4, 16), (4,)], 50.0), 1.0),
             "six parameters with large gradients"),
        Case((_random_parameters(rng, [(3, 5), (3,)], 4.0, dtype=np.float64), 0.7),
             "float64 parameters and gradients, max_norm = 0.7: compared at float64's precision"),
        Case((_with_nan(_random_parameters(rng, [(4, 3), (4,)], 2.0), 1), 1.0),
             "a gradient holds a nan: the total norm is nan, and so is every clipped gradient (as in PyTorch)"),
        Case((_random_parameters(rng, [(3, 2), (3,)], none_at=(0, 1)), 1.0),
             "no parameter has a gradient (every .grad is None, as before the first backward): nothing to clip, "
             "and the total norm is 0, a 0-d tensor (PyTorch returns tensor(0.))"),
    ]
    # a plain case with large gradients right after the example, so that an answer whose numbers are a little off
    # fails first on a case whose description names no special situation (the draws stay in the order above)
    cases.insert(1, cases.pop(9))
    # drawn after the cases above, so that adding them changed none of those
    cases += [
        Case((_with_nan(_random_parameters(rng, [(3, 4), (3,)], 2.0), 0, np.inf), 1.0),
             "a gradient holds an inf: the total norm is inf, the factor max_norm / (inf + 1e-6) is 0, so every "
             "finite element becomes 0 and the inf becomes nan (0 * inf), as in PyTorch"),
        Case((_random_parameters(rng, MLP_SHAPES, 6e-6), 1e-4),
             "the total norm (about 5e-5) is below a tiny max_norm = 1e-4: nothing to clip, every gradient stays "
             "exactly as it was"),
    ]
    return cases


def _with_nan(parameters, index, value=np.nan):
    """The parameters with one element of parameter ``index``'s gradient set to nan (or ``value``)."""
    grad = parameters[index].grad.numpy().copy()
    grad.flat[0] = value
    parameters[index].grad = tensor(grad)
    return parameters


def _norm_of(grads, p):
    """The total p-norm of a list of numpy gradients (the p-norm of their p-norms)."""
    def norm(a):
        a = np.abs(np.asarray(a, dtype=np.float64)).ravel()
        return a.max(initial=0.0) if p == math.inf else (a ** p).sum() ** (1 / p)
    return norm([norm(g) for g in grads])


def _scaled(parameters, coef_of):
    """Multiply each gradient (in place) by coef_of(total, grads); returns the total as a tensor."""
    tensors = [p for p in tensors_of(parameters) if p.grad is not None]
    grads = [p.grad for p in tensors]
    total, coef = coef_of([g.numpy() for g in grads])
    for g in grads:
        g.mul_(float(coef))
    return tensor(np.float32(total))


def _make_clip(total_of, coef_of):
    """A wrong clip_grad_norm_: total_of(grads, max_norm, p) is its total, coef_of(total, max_norm) its factor."""
    def clip(parameters, max_norm, norm_type=2.0):
        return _scaled(parameters, lambda grads: (
            total_of(grads, float(norm_type)), coef_of(total_of(grads, float(norm_type)), float(max_norm))))
    return clip


def _right_coef(total, max_norm):
    return min(1.0, max_norm / (total + EPS))


def _no_clamp(total, max_norm):
    return max_norm / (total + EPS)


def _no_eps(total, max_norm):
    return min(1.0, max_norm / total) if total else 1.0


_scales_up = _make_clip(_norm_of, _no_clamp)
_max_norm_1 = _make_clip(_norm_of, lambda total, max_norm: _right_coef(total, 1.0))
_nan_kept_out = _make_clip(_norm_of, _right_coef)  # Python's min(1.0, nan) is 1.0: a nan total scales nothing
_total_capped = _make_clip(_norm_of, lambda total, max_norm: max_norm / (max(total, max_norm) + EPS))


def _nonfinite_skipped(parameters, max_norm, norm_type=2.0, zero=False):
    """Right, except that a total of inf leaves every gradient as it was (``zero``: sets every one to 0)."""
    tensors = [p for p in tensors_of(parameters) if p.grad is not None]
    if tensors and _norm_of([p.grad.numpy() for p in tensors], float(norm_type)) == math.inf:
        for p in tensors:
            if zero:
                p.grad.zero_()
        return tensor(np.array(np.inf, dtype=tensors[0].grad.numpy().dtype))
    return library_clip_grad_norm_(tensors, max_norm, norm_type)
_without_eps = _make_clip(_norm_of, _no_eps)
_eps_on_max_norm = _make_clip(_norm_of, lambda total, max_norm: min(1.0, (max_norm + EPS) / (total + EPS)))
_eps_subtracted = _make_clip(_norm_of, lambda total, max_norm: min(1.0, max_norm / total - EPS) if total else 1.0)
_no_root = _make_clip(lambda grads, p: _norm_of(grads, p) ** p if p != math.inf else _norm_of(grads, p),
                      _right_coef)
_always_2 = _make_clip(lambda grads, p: _norm_of(grads, 2.0), _right_coef)
_sum_of_norms = _make_clip(lambda grads, p: sum(_norm_of([g], p) for g in grads), _right_coef)


def _signed_norm(grads, p):
    """The p-norm formula without the absolute values: sum g^p (max g for p = inf)."""
    def norm(a):
        a = np.asarray(a, dtype=np.float64).ravel()
        return a.max(initial=-np.inf) if p == math.inf else (a ** p).sum() ** (1 / p)
    return norm([norm(g) for g in grads])


_without_abs = _make_clip(_signed_norm, _right_coef)


def _inf_by_powers(parameters, max_norm, norm_type=2.0):
    """The p-th power formula used for p = inf too: (sum |g|^inf)^(1/inf) is inf ** 0 or 0 ** 0, both 1."""
    def total_of(grads, p):
        return sum(float((np.abs(g.astype(np.float64)) ** p).sum()) for g in grads) ** (1 / p)
    return _make_clip(total_of, _right_coef)(parameters, max_norm, norm_type)


def _returns_after(parameters, max_norm, norm_type=2.0):
    """Clips right, but returns the norm AFTER clipping."""
    tensors = [p for p in tensors_of(parameters)]
    library_clip_grad_norm_(tensors, max_norm, norm_type)
    return tensor(np.float32(_norm_of([p.grad.numpy() for p in tensors if p.grad is not None], float(norm_type))))


def _new_grads(parameters, max_norm, norm_type=2.0):
    """Computes the clipped gradients as new tensors and returns them; .grad stays as it was."""
    tensors = [p for p in tensors_of(parameters) if p.grad is not None]
    total = _norm_of([p.grad.numpy() for p in tensors], float(norm_type))
    return [p.grad * _right_coef(total, float(max_norm)) for p in tensors]


def _unchanged_returns_total(parameters, max_norm, norm_type=2.0):
    """Computes the total right, scales local copies (g = g * c), returns the total; .grad stays as it was."""
    tensors = [p for p in tensors_of(parameters) if p.grad is not None]
    return tensor(np.float32(_norm_of([p.grad.numpy() for p in tensors], float(norm_type))))


def _each_separately(parameters, max_norm, norm_type=2.0):
    """Clips each gradient by its own norm; returns the total."""
    tensors = [p for p in tensors_of(parameters) if p.grad is not None]
    p = float(norm_type)
    total = _norm_of([t.grad.numpy() for t in tensors], p)
    for t in tensors:
        t.grad.mul_(_right_coef(_norm_of([t.grad.numpy()], p), float(max_norm)))
    return tensor(np.float32(total))


def _iterated_twice(case):
    return isinstance(case.args[0], Parameters)


def _unchanged_with_right_total(got, expected, case):
    """The returned total is right and every gradient is as it was."""
    got_total, got_grads = _split(got, case)
    expected_total, _ = _split(expected, case)
    return (np.isclose(got_total, expected_total, rtol=NORM_RTOL)
            and all(np.array_equal(g, b) for g, b in zip(got_grads, _grads_before(case))))


def _zero_total(got, expected, case):
    got_total, got_grads = _split(got, case)
    return got_total == 0.0 and all(np.array_equal(g, b) for g, b in zip(got_grads, _grads_before(case)))


def _clip_mistake(wrong, hint, more=(), returns_norm=True):
    """A Mistake of clip_grad_norm_ (``returns_norm``) or clip_grad_value_: recognised when the learner's Run has
    the numbers of ``wrong``'s Run, whether the learner changed .grad in place or assigned a new tensor (the Run's
    last number, which says so, is left out of the comparison: a hint is about the numbers)."""
    call = after_clipping if returns_norm else after_value_clipping
    rtol, atol = (NORM_RTOL, NORM_ATOL) if returns_norm else (VALUE_RTOL, 0.0)

    def match(got, expected, case):
        if not _grad_shapes(case):  # no gradient to clip: no mistake about clipping shows here
            return False
        with np.errstate(all="ignore"):
            answer = np.asarray(call(wrong, *copy.deepcopy((case.args, case.kwargs))), dtype=np.float64)
        got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if not got.shape == answer.shape == expected.shape:
            return False
        return (compare_arrays(got[:-1], answer[:-1], rtol, atol) is None
                and compare_arrays(answer[:-1], expected[:-1], rtol, atol) is not None)
    return Mistake(hint=hint, more=more, match=match)


NORM_RTOL, NORM_ATOL = 1e-5, 1e-12
VALUE_RTOL = 0.0  # no arithmetic on elements: each is the input's own or +-clip_value in its dtype (as PyTorch's)
GENERATOR_USED_TWICE = Mistake(
    hint="here the parameters come as model.parameters(), a generator, which can be iterated only once: your "
         "second loop over it found nothing, so no gradient was clipped",
    more="turn the parameters into a list once, at the start, and loop over that list as often as you need",
    match=lambda got, expected, case: _iterated_twice(case) and _unchanged_with_right_total(got, expected, case))
SINGLE_TENSOR = Mistake(
    hint="here parameters is a single tensor, not a list (PyTorch accepts both): a loop over a tensor walks "
         "its rows, which have no .grad",
    more="when parameters is a Tensor, wrap it in a list first",
    match=lambda got, expected, case: is_tensor(case.args[0]) and _zero_total(got, expected, case))
EMPTY = ErrorHint(
    r"non-empty list|empty sequence|list index out of range|zero-size array",
    "an empty list reached an operation that needs at least one element. When no parameter has a gradient "
    "(every .grad is None), the list of gradients is empty: there is nothing to clip then, and the total norm is "
    "0, returned as a 0-d tensor, as PyTorch's is",
    "test whether the list of gradients is empty before measuring, and return a 0-d tensor holding 0.0 then")
NORM_FLOAT32 = Mistake(
    hint="this case's gradients are float64, and so are your results, but they carry float32's rounding: they are "
         "off by about 1e-8 of their size. A float32 tensor in your code rounded a number to 7 significant digits "
         "before it met the float64 gradients: tl.tensor(max_norm) or tl.tensor(1e-6), or a tensor of norms made "
         "with the default float32 (tl.tensor([...]), tl.zeros(n)). The promotion to float64 that follows does not "
         "bring the lost digits back",
    more="keep max_norm and 1e-6 Python numbers (max_norm / (total + 1e-6) with total a tensor), and make any "
         "tensor you create with the gradients' dtype (dtype=g.dtype, or tl.stack of the norms themselves)",
    match=lambda got, expected, case: (_case_dtype(case) == np.float64
                                       and _float32_digits("").match(got, expected, case)))
def _last_number_is(code):
    def match(got, expected, case):
        got = np.asarray(got, dtype=np.float64).ravel()
        return bool(got.size) and got[-1] == code
    return match


TOTAL_MADE_FLOAT64 = Mistake(
    hint="a float64 where a float32 is expected: your total went through float64 on the way (a .double(), "
         "numpy's float64, dtype=tl.float64). The norm of a float32 tensor is float32: measure the gradients as "
         "they are",
    match=_last_number_is(WIDER_TOTAL))
GRAD_MADE_FLOAT64 = Mistake(
    hint="a float64 where a float32 is expected: float64 numbers went into a float32 gradient (a .double() or "
         "a float64 numpy array, assigned through .data or to p.grad). An in-place method (a name ending in _) "
         "changes a gradient's numbers and keeps its dtype",
    match=_last_number_is(WIDER_GRAD))
NO_GRAD = ErrorHint(
    r"'NoneType' object has no attribute",
    "a parameter whose .grad is None (a frozen layer, or one the loss does not use) has nothing to clip: "
    "skip it, as PyTorch does",
    "keep only the parameters whose .grad is not None")

register(Exercise(
    "06.clip_grad_norm_",
    reference=clip_grad_norm_reference,
    cases=_norm_cases,
    call=after_clipping,
    answer=RunAnswer(),
    check_inputs=False,  # the gradients are changed in place on purpose; after_clipping judges the weights
    forbid=(library_clip_grad_norm_, get_total_norm,  # the exercise is to write them, not to hand them on:
            "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.get_total_norm"),  # (to PyTorch either)
    # the text's building blocks (issue 32): vector_norm (the text names it), and the arithmetic of the factor; any
    # other function that clips or measures (clip_grads_with_norm_, grad_stats, an optimizer ...) is refused
    allow=("arithmetic", "norm", "sqrt", "sum", "max", "min", "clamp", "where"),
    compare=_norm_compare,
    rtol=NORM_RTOL,
    atol=NORM_ATOL,
    generic_hints=(),
    error_hints=[NO_GRAD, EMPTY],
    points=3,
    mistakes=[
        TOTAL_MADE_FLOAT64,
        GRAD_MADE_FLOAT64,
        _rebound_mistake(returns_norm=True),
        GENERATOR_USED_TWICE,
        SINGLE_TENSOR,
        NORM_FLOAT32,
        _clip_mistake(_nan_kept_out,
                 "with a nan in a gradient the total norm is nan, and PyTorch's factor is nan too, so every "
                 "clipped gradient becomes nan: the broken step shows instead of going on quietly. Yours left "
                 "the gradients unscaled here: a factor computed with Python numbers (min(1.0, nan) is 1.0), a "
                 "test such as total > max_norm (every ordering comparison with nan is False), or a skip when "
                 "the total is not finite, each keeps the nan from reaching the gradients",
                 "keep the factor a tensor and clamp it with a tensor operation, which passes nan on"),
        _clip_mistake(_nonfinite_skipped,
                 "with an inf in a gradient the total norm is inf, and PyTorch does not skip the step: the factor "
                 "max_norm / (inf + 1e-6) is 0, so every finite element becomes 0 and the inf becomes nan "
                 "(0 * inf), and the broken step shows. Yours left the gradients as they were when the total "
                 "was not finite",
                 "treat an infinite total as any other: compute the factor and scale the gradients by it"),
        _clip_mistake(functools.partial(_nonfinite_skipped, zero=True),
                 "with an inf in a gradient the total norm is inf, and the factor max_norm / (inf + 1e-6) is 0: "
                 "every finite element becomes 0, but the inf becomes nan (0 * inf is nan), as in PyTorch, so "
                 "the broken step shows. Yours set every gradient to 0 when the total was infinite, which hides it",
                 "treat an infinite total as any other: compute the factor and multiply the gradients by it"),
        _clip_mistake(_total_capped,
                 "when the total norm is below max_norm by more than 1e-6, the gradients must come out exactly as "
                 "they went in (PyTorch's factor is exactly 1 there). Yours still multiplies them by "
                 "max_norm / (max_norm + 1e-6): harmless for max_norm = 1, but with max_norm = 1e-4 it shrinks them "
                 "by 1%",
                 "the factor is the SMALLER of 1 and max_norm / (total + 1e-6); cap the factor at 1, not the "
                 "total at max_norm"),
        _clip_mistake(_new_grads,
                 "your function returned new, clipped tensors and left every .grad as it was. The optimizer "
                 "reads p.grad, so clipping must change the gradients themselves (that is what the _ in the "
                 "name says), and the function returns the total norm",
                 "multiply each p.grad in place (a method ending in _); return the total norm"),
        _clip_mistake(_unchanged_returns_total,
                 "your total norm is right, but every .grad is unchanged, although this total is above "
                 "max_norm: either the factor came out as 1 (it is the SMALLER of 1 and max_norm / (total + "
                 "1e-6)), or the scaling never reached p.grad (g = g * c makes a new tensor and binds the name g "
                 "to it, which leaves p.grad as it was)",
                 "print the factor for this case; then change the tensor p.grad itself, with an in-place method "
                 "(a name ending in _)"),
        _clip_mistake(_each_separately,
                 "you clipped each gradient by its own norm. Clipping by the GLOBAL norm measures all the "
                 "gradients together, as one long vector, and scales every one of them by the same factor: "
                 "only that keeps the direction of the whole update",
                 "compute one total norm from all the gradients first, then one factor, then scale each "
                 "gradient by it"),
        _clip_mistake(_scales_up,
                 "your function also scales gradients UP when their total norm is below max_norm. Clipping "
                 "only ever shrinks: the factor is capped at 1",
                 "take the smaller of 1 and max_norm / (total + 1e-6)"),
        _clip_mistake(_without_eps,
                 "almost: the factor divides by total + 1e-6, as PyTorch's does (the 1e-6 keeps an all-zero "
                 "gradient from dividing by 0). With tiny gradients the difference shows",
                 "add 1e-6 to the total norm in the denominator of the factor"),
        _clip_mistake(_eps_on_max_norm,
                 "the 1e-6 goes into the denominator only, added to the total norm, where it keeps an all-zero "
                 "gradient from dividing by 0; max_norm stays as it is. Added to max_norm too, it lets the "
                 "clipped norm come out above max_norm: with max_norm = 1e-4, by about 1%",
                 "leave max_norm alone in the numerator; add 1e-6 to the total only"),
        _clip_mistake(_eps_subtracted,
                 "your 1e-6 is subtracted from the factor (max_norm / total - 1e-6). In the formula it is added "
                 "to the total, inside the denominator, where it keeps an all-zero gradient from dividing by 0. "
                 "With large gradients the factor is small, and a 1e-6 taken off it shows",
                 "move the 1e-6 into the denominator, added to the total norm"),
        _clip_mistake(_inf_by_powers,
                 "for norm_type = inf the norm is the largest |g| (the limit of the p-norm as p grows); the "
                 "power formula (sum |g|^p)^(1/p) breaks there: inf ** 0 and 0 ** 0 are both 1",
                 "handle p = inf on its own: the per-tensor norm is the largest absolute element, and the total "
                 "is the largest of those"),
        _clip_mistake(_without_abs,
                 "the p-norm adds up the ABSOLUTE values raised to the power p, (sum |g|^p)^(1/p), and for "
                 "p = inf it is the largest absolute value: without |.|, negative elements cancel positive ones "
                 "(and a negative sum has no real p-th root)",
                 "take the absolute value of the gradient's elements before the power or the maximum"),
        _clip_mistake(_no_root,
                 "your total is the sum of |g|^p without its p-th root: the p-norm is (sum |g|^p)^(1/p) (for "
                 "p = 2 the square root of the sum of squares)",
                 "raise the sum to the power 1 / norm_type"),
        _clip_mistake(_always_2,
                 "your function always measures the 2-norm; this case passes another norm_type. The total is "
                 "the norm_type-norm of all the gradients",
                 "use norm_type both for the norm of each gradient and for combining those norms"),
        _clip_mistake(_sum_of_norms,
                 "your total adds up the norms of the separate gradients. The total norm is the norm of all "
                 "the gradients as ONE vector: the p-norm of the per-tensor p-norms (for p = 2, the square "
                 "root of the sum of their squares), not their plain sum",
                 "combine the per-tensor norms with the same norm_type-norm (stack them into a tensor and take "
                 "its norm)"),
        _clip_mistake(_max_norm_1,
                 "your factor is the one for max_norm = 1 whatever max_norm is: this case passes another "
                 "max_norm. The factor caps the total norm at the max_norm your function receives",
                 "use the argument max_norm in the factor"),
        _clip_mistake(_returns_after,
                 "the gradients are right, but you returned the norm AFTER clipping (which is just max_norm, or "
                 "less). clip_grad_norm_ returns the norm it measured before clipping: the number worth logging, "
                 "whose spikes show an unstable run",
                 "measure the total norm first, keep it, and return that"),
    ],
))


# -------------------------------------------------------------------- 06.clip_grad_value_
def clip_grad_value_reference(parameters, clip_value):
    """Clamp every element of every gradient to [-clip_value, clip_value], in place. (The library's
    nn.utils.clip_grad_value_, as PyTorch's.)"""
    library_clip_grad_value_(parameters, clip_value)


VALUE_EXAMPLE_GRADS = ([[0.5, -3.0], [1.5, 0.2]], [-0.8, 4.0])


def value_example():
    """The notebook's example for clip_grad_value_ with clip_value 1."""
    return [parameter([[0.5, -0.3], [0.1, 0.8]], VALUE_EXAMPLE_GRADS[0]), parameter([0.0, 0.2],
                                                                                     VALUE_EXAMPLE_GRADS[1])]


def _value_cases(rng):
    return [
        Case((value_example(), 1.0), visible=True),
        Case((_random_parameters(rng, MLP_SHAPES, 3.0), 0.5), "large gradients of both signs, clip_value = 0.5"),
        Case((_one_beyond(_random_parameters(rng, MLP_SHAPES, 0.1), 2, -5.0), 2.0),
             "every element but one is within [-2, 2]: only that one changes"),
        Case((_random_parameters(rng, MLP_SHAPES, 5.0, none_at=(2,)), 1.0),
             "parameter 2 has no gradient (.grad is None)"),
        Case((parameter(rng.standard_normal((4, 3)), 10 * rng.standard_normal((4, 3))), 3.0),
             "a single tensor instead of a list"),
        Case((Parameters(_random_parameters(rng, [(5, 2), (5,)], 2.0)), 0.25),
             "parameters given as model.parameters(), a generator"),
        Case((_with_nan(_random_parameters(rng, [(4, 3), (4,)], 3.0), 0), 1.0),
             "a gradient holds a nan: clamping leaves it nan (as PyTorch's does), so the broken step still shows"),
        # issue 32: float64 gradients, and a clip_value that float32 cannot hold (a float32 bound shows)
        Case((_random_parameters(rng, [(4, 3), (4,)], 2.0, dtype=np.float64), 0.3),
             "float64 parameters and gradients, clip_value = 0.3: an element beyond it becomes float64's 0.3"),
    ]


def _float32_bound(parameters, clip_value):
    """Clamps in place to clip_value rounded to float32 (a bound made with tl.tensor(clip_value))."""
    bound = float(np.float32(clip_value))
    for p in tensors_of(parameters):
        if p.grad is not None:
            p.grad.clamp_(-bound, bound)


def _one_beyond(parameters, index, value):
    """The parameters with one element of parameter ``index``'s gradient set to ``value`` (a case where a function
    that changes nothing fails, while every other element stays as it was)."""
    grad = parameters[index].grad.numpy().copy()
    grad.flat[grad.size // 2] = value
    parameters[index].grad = tensor(grad)
    return parameters


def _each_grad(parameters, f):
    for p in tensors_of(parameters):
        if p.grad is not None:
            p.grad = tensor(f(p.grad.numpy().astype(np.float64)).astype(np.float32))


def _upper_only(parameters, clip_value):
    _each_grad(parameters, lambda g: np.minimum(g, clip_value))


def _lower_only(parameters, clip_value):
    _each_grad(parameters, lambda g: np.maximum(g, -clip_value))


def _fixed_interval(parameters, clip_value):
    _each_grad(parameters, lambda g: np.clip(g, -1.0, 1.0))


def _zeroed(parameters, clip_value):
    _each_grad(parameters, lambda g: np.where(np.abs(g) > clip_value, 0.0, g))


def _sign_lost(parameters, clip_value):
    _each_grad(parameters, lambda g: np.minimum(np.abs(g), clip_value))


def _by_norm(parameters, clip_value):
    library_clip_grad_norm_(tensors_of(parameters), clip_value)


def _skipped_unless_above(parameters, clip_value):
    """Clamps only a gradient whose largest |element| is above clip_value: one that holds a nan is skipped (nan > v
    is False), and its other elements keep their size."""
    for p in tensors_of(parameters):
        if p.grad is not None and np.abs(p.grad.numpy()).max() > clip_value:
            p.grad.clamp_(-clip_value, clip_value)


def _value_unchanged(parameters, clip_value):
    return [p.grad.clamp(-clip_value, clip_value) for p in tensors_of(parameters) if p.grad is not None]


def _value_mistake(wrong, hint, more=()):
    return _clip_mistake(wrong, hint, more, returns_norm=False)


def _unchanged_value_grads(got, case):
    _, grads = _split(got, case, returns_norm=False)
    return all(np.array_equal(g, b) for g, b in zip(grads, _grads_before(case)))


def _nan_replaced(got, expected, case):
    """A nan of the gradients came out as a number (nan_to_num, np.fmin / np.fmax, Python's min and max)."""
    _, got_grads = _split(got, case, returns_norm=False)
    _, expected_grads = _split(expected, case, returns_norm=False)
    return any((np.isnan(e) & ~np.isnan(g)).any() for g, e in zip(got_grads, expected_grads))


def _off_by_rounding(got, expected, case):
    """Every number within 1e-5 of the right one (nan where it is nan), but not all of them exactly equal."""
    _, got_grads = _split(got, case, returns_norm=False)
    _, expected_grads = _split(expected, case, returns_norm=False)
    close = [compare_arrays(g, e, 1e-5, 0.0) is None for g, e in zip(got_grads, expected_grads)]
    same = [compare_arrays(g, e, 0.0, 0.0) is None for g, e in zip(got_grads, expected_grads)]
    return all(close) and not all(same)


SINGLE_TENSOR_VALUE = Mistake(
    hint="here parameters is a single tensor, not a list (PyTorch accepts both): a loop over a tensor walks "
         "its rows, which have no .grad, so nothing was clamped, however you clamp",
    more="when parameters is a Tensor, wrap it in a list first",
    match=lambda got, expected, case: is_tensor(case.args[0]) and _unchanged_value_grads(got, case))

register(Exercise(
    "06.clip_grad_value_",
    reference=clip_grad_value_reference,
    cases=_value_cases,
    call=after_value_clipping,
    answer=RunAnswer(),
    check_inputs=False,  # the gradients are changed in place on purpose; after_clipping judges the weights
    forbid=(library_clip_grad_value_, "torch.nn.utils.clip_grad_value_"),
    allow=("arithmetic", "clamp", "where", "max", "min"),  # the text's building blocks (issue 32)
    compare=_value_compare,
    rtol=VALUE_RTOL,
    atol=0.0,
    generic_hints=(),
    error_hints=[NO_GRAD],
    points=1,
    mistakes=[
        GRAD_MADE_FLOAT64,
        _rebound_mistake(returns_norm=False),
        SINGLE_TENSOR_VALUE,
        Mistake(hint="here the parameters come as model.parameters(), a generator, which can be iterated only "
                     "once: a first pass over it (a loop, any(), list()) used it up, so your clamping loop found "
                     "nothing",
                more="turn the parameters into a list once, at the start, and loop over that list",
                match=lambda got, expected, case: _iterated_twice(case) and _unchanged_value_grads(got, case)),
        Mistake(hint="a nan in a gradient must stay nan after clipping, as it does in PyTorch: clamping a nan "
                     "gives nan, so the broken step shows (in the gradients, the weights and the loss) instead of "
                     "training going on with a made-up number. Yours turned the nan into a number",
                more="clamp with an operation that passes nan on (a tensor's clamp does; nan_to_num, np.fmin / "
                     "np.fmax and Python's min and max do not)",
                match=_nan_replaced),
        _value_mistake(_skipped_unless_above,
                 "the gradient that holds a nan was not clamped at all: a test such as abs().max() > clip_value is "
                 "False when the largest element is nan (every ordering comparison with nan is False), so its "
                 "other elements kept their size. Clamping needs no test first: an element within the bounds "
                 "stays as it is anyway",
                 "clamp every gradient, with no test before it"),
        _value_mistake(_float32_bound,
                 "this case's gradients are float64, and the elements you clamped became clip_value rounded to "
                 "float32 (0.3 became 0.30000001192...): your bound is a float32 tensor, such as "
                 "tl.tensor(clip_value) made with the default float32. Clamping does no arithmetic: an element "
                 "beyond the bound becomes clip_value itself, in the gradient's dtype",
                 "pass clip_value to the clamp as a Python number, or make the bound with the gradient's dtype "
                 "(tl.full_like(g, clip_value))"),
        Mistake(hint="clamping does no arithmetic: an element beyond the bounds becomes +clip_value or "
                     "-clip_value (in its dtype), and every other element stays exactly as it was, so the result "
                     "equals PyTorch's to the bit. Yours is off by a rounding error (bounds moved by a tiny amount, "
                     "or arithmetic on the elements)",
                more="clamp to the bounds -clip_value and clip_value themselves, with no arithmetic on the "
                     "elements",
                match=_off_by_rounding),
        _value_mistake(_value_unchanged,
                 "every .grad is as it was after your function: the optimizer reads p.grad, so that is what "
                 "must change (clamped copies, or clamped weights, leave the gradients as they were)",
                 "clamp each p.grad in place (a method ending in _)"),
        _value_mistake(_upper_only,
                 "you capped only the large positive elements; large negative ones must be clipped too, to "
                 "-clip_value: the interval is [-clip_value, clip_value]",
                 "give the clamp both bounds"),
        _value_mistake(_lower_only,
                 "you raised only the large negative elements to -clip_value; large positive ones must be "
                 "clipped too, to +clip_value: the interval is [-clip_value, clip_value]",
                 "give the clamp both bounds"),
        _value_mistake(_fixed_interval,
                 "your gradients are clamped to [-1, 1] whatever clip_value is: this case passes another "
                 "clip_value. Use the argument for both bounds",
                 "the bounds are -clip_value and +clip_value"),
        _value_mistake(_zeroed,
                 "you set the elements beyond clip_value to 0; clipping moves them to the edge of the interval "
                 "(+clip_value or -clip_value) and keeps their sign",
                 "clamp to the interval instead of masking"),
        _value_mistake(_sign_lost,
                 "your clipped gradients lost their sign: clipping by value clamps each element into "
                 "[-clip_value, clip_value], so a negative element stays negative",
                 "clamp the elements themselves, not their absolute values"),
        _value_mistake(_by_norm,
                 "you rescaled the whole gradient (clipping by norm). clip_grad_value_ clamps each element on "
                 "its own: the small ones stay as they are",
                 "clamp every element to [-clip_value, clip_value]; no norm is involved"),
    ],
))


# -------------------------------------------------------------------- 06.first_bad_step
def first_bad_step_reference(history, limit=1e3):
    """The first step t whose table history[t] has a gradient norm that is not finite or above ``limit``, and the
    name of the first such parameter in that table: (t, name); (None, None) when no step is bad."""
    for step, table in enumerate(history):
        for row in table:
            if not math.isfinite(row["norm"]) or row["norm"] > limit:
                return step, row["name"]
    return None, None


MLP_NAMES = [("0.weight", (16, 2)), ("0.bias", (16,)), ("2.weight", (16, 16)), ("2.bias", (16,)),
             ("4.weight", (2, 16)), ("4.bias", (2,))]


def _row(name, shape, norm, rng, zeros=0.0, spread=0.5):
    """A row of grad_stats' table for a gradient of this norm (max|g| = spread * norm)."""
    n = int(np.prod(shape))
    finite = math.isfinite(norm)
    mean = float(rng.normal(0.0, 0.3) * norm / math.sqrt(n)) if finite else norm
    return {"name": name, "shape": tuple(shape), "norm": float(norm), "mean": mean,
            "max_abs": float(spread * norm) if finite else abs(norm), "zero_fraction": zeros,
            "flag": _flag(norm, zeros)}


def make_run(rng, norms, names=MLP_NAMES, zeros=None, spread=0.5):
    """A run's history: one grad_stats table per step, from ``norms`` (steps x parameters)."""
    zeros = np.zeros(np.shape(norms)) if zeros is None else zeros
    return [GradStats(_row(name, shape, norm, rng, z, spread) for (name, shape), norm, z in zip(names, step, zs))
            for step, zs in zip(np.asarray(norms, dtype=float), zeros)]


def _healthy(rng, steps, scales, noise=0.3):
    """Norms around ``scales`` (one per parameter), with multiplicative noise."""
    return np.asarray(scales)[None, :] * np.exp(noise * rng.standard_normal((steps, len(scales))))


def sine_model():
    """The lesson's regression model: 1 -> 32 -> 32 -> 1 with tanh, its weights drawn after manual_seed(0)."""
    manual_seed(0)
    return nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))


@functools.lru_cache(maxsize=1)
def _recorded_run():
    x, y = noisy_sine(200, x_range=(-3 * math.pi, 3 * math.pi), seed=0)
    model = sine_model()
    optimizer = optim.SGD(model.parameters(), lr=0.17)
    history = []
    with np.errstate(all="ignore"):
        for _ in range(40):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            history.append(nn.utils.grad_stats(model))
            optimizer.step()
    return history


def recorded_run():
    """The grad_stats tables of the notebook's diverging run (section 2): full-batch SGD at lr 0.17 on the noisy
    sine over [-3 pi, 3 pi], its first 40 steps. The first bad step is 10, at 0.weight, on every machine; the
    step at which the loss turns nan (in the 30s) depends on the low-order bits of the machine's BLAS."""
    return copy.deepcopy(_recorded_run())


def diverging_example(rng=None):
    """The notebook's example: 12 steps; from step 5 the norms grow 3 to 5 times per step, 0.weight's passes 1e3
    at step 9; at step 11 some are inf and one is nan."""
    rng = np.random.default_rng(6) if rng is None else rng
    norms = _healthy(rng, 12, [0.8, 0.2, 1.2, 0.3, 1.5, 0.4], 0.1)
    for t in range(5, 12):
        norms[t] = norms[t - 1] * np.array([5.0, 3.0, 3.6, 3.0, 3.4, 3.0])
    norms[11, 1:] = np.inf
    norms[11, 2] = np.nan
    return make_run(rng, norms)


def _runs(rng):
    scales = [0.8, 0.2, 1.2, 0.3, 1.5, 0.4]
    sudden_nan = _healthy(rng, 10, scales)
    sudden_nan[6:] = np.nan                     # a log(0) at step 6: every gradient is nan at once
    inf_first = _healthy(rng, 9, scales)
    inf_first[4, 2] = np.inf                    # an overflow in one layer at step 4
    inf_first[5:] = np.nan
    vanishing = _healthy(rng, 15, [1e-9, 1e-10, 1e-6, 1e-7, 0.5, 0.1])   # tiny, flagged, but no divergence...
    vanishing[12, 4] = 4e3                      # ...until 4.weight passes the limit at step 12
    dead = np.zeros((15, 6))
    dead[:, 2:4] = 0.7                          # most units dead in layer 2: flagged, not a divergence
    grows = _healthy(rng, 10, scales, 0.05) * (2.0 ** np.arange(10))[:, None]   # 2.weight passes 10 at step 3
    big_limit = _healthy(rng, 12, scales, 0.05) * (6.0 ** np.arange(12))[:, None]
    two_bad = _healthy(rng, 8, scales, 0.05)
    two_bad[5, 0], two_bad[5, 4] = 5e3, np.inf  # two parameters bad at step 5: the first in the table counts
    two_bad[6:] = np.nan
    from_start = _healthy(rng, 6, scales)
    from_start[:, 3] = np.nan                   # nan in the data: bad from step 0
    long_run = _healthy(rng, 200, [0.5, 0.1, 0.8, 0.2], 0.4)
    long_run[150:, 2] = 10.0 ** np.linspace(3.1, 6, 50)   # 2.weight alone passes 1e3 at step 150
    four = [("0.weight", (32, 64)), ("0.bias", (32,)), ("2.weight", (10, 32)), ("2.bias", (10,))]
    spread = _healthy(rng, 8, [200.0, 20.0, 150.0, 10.0], 0.05)
    spread[4, 2] = 1.5e3                        # a norm above 1e3 whose every element is below 1e3
    at_limit = _healthy(rng, 9, scales)
    at_limit[3, 2] = 1e3                        # exactly the limit: not above it, so not bad
    at_limit[6:, 3:] = np.nan                   # the first bad step: nan from 2.bias on
    at_limit_10 = _healthy(rng, 7, scales, 0.05)
    at_limit_10[1, 0], at_limit_10[1, 4] = 10.0, 10.0
    at_limit_10[4, 5] = np.inf
    last_only = _healthy(rng, 12, scales)
    last_only[11, 5] = np.inf                   # the last row of the last table
    inf_at_start = _healthy(rng, 5, scales)
    inf_at_start[0, 5] = np.inf
    return [
        Case((recorded_run(),), "the notebook's run at lr 0.17", visible=True),
        Case((make_run(rng, vanishing),), "tiny (flagged) gradients in the first layer, which are not bad; "
             "4.weight passes the limit at step 12"),
        Case((make_run(rng, sudden_nan),), "every gradient turns nan at once at step 6, with no warning"),
        Case((make_run(rng, _one_layer_nan(rng, scales)),),
             "one layer's gradient (2.weight) turns nan at step 5, the rows before it still healthy"),
        Case((make_run(rng, inf_first),), "one gradient overflows to inf at step 4, nan follows"),
        Case((diverging_example(),), "a run whose gradients grow 3 to 5 times per step"),
        Case((make_run(rng, _healthy(rng, 15, scales), zeros=dead),), "a healthy run with dead units in layer 2",
             trivial="a healthy run: its answer says that nothing went wrong, which a function that always says "
                     "so gives too"),
        Case((make_run(rng, grows), 10.0), "limit = 10", {}),
        Case((make_run(rng, big_limit),), "limit = 1e5", {"limit": 1e5}),
        Case((make_run(rng, two_bad),), "two parameters go bad at the same step"),
        Case((make_run(rng, from_start),), "nan in the data: bad from the first step"),
        Case((make_run(rng, long_run, four),), "a run of 200 steps"),
        Case((make_run(rng, spread, four, spread=0.2),), "a large gradient spread over many elements"),
        Case((make_run(rng, at_limit),), "a norm exactly at the limit (1e3) is not above it; nan later"),
        Case((make_run(rng, at_limit_10), 10.0), "limit = 10, a norm exactly 10 at step 1; inf later"),
        Case((make_run(rng, last_only),), "only the last step is bad: inf in the last parameter"),
        Case((make_run(rng, inf_at_start),), "inf at the first step, in the last parameter of the table"),
        Case((make_run(rng, _large_at_start(rng, scales)),),
             "a finite norm above the limit at the very first step (nothing came before it)"),
        Case((make_run(rng, _nan_row_before_large(rng, scales)),),
             "at the first bad step a nan comes earlier in the table than a finite norm above the limit"),
        Case((make_run(rng, _large_at_end(rng, scales)),),
             "norms that grow step by step and pass the limit at the last step only (finite)"),
        Case((make_run(rng, _inf_under_infinite_limit(rng, scales)), math.inf),
             "limit = inf (only nan and inf are bad): a finite 5e4 at step 3 is not bad, an inf at step 4 is; "
             "nan from step 6", {}),
    ]


def _one_layer_nan(rng, scales):
    """A run whose first bad step (5) has a nan in 2.weight, the third row, with 0.weight and 0.bias healthy."""
    norms = _healthy(rng, 8, scales)
    norms[5, 2] = np.nan
    norms[6:] = np.nan
    return norms


def _nan_row_before_large(rng, scales):
    """A run whose first bad step (4) has a nan in 0.weight, before a finite norm above 1e3 in 2.weight."""
    norms = _healthy(rng, 7, scales)
    norms[4, 0], norms[4, 2] = np.nan, 5e3
    norms[5:] = np.nan
    return norms


def _large_at_end(rng, scales):
    """A run whose norms grow 10 times per step from step 4; 2.weight passes 1e3 at the last step (6) only."""
    norms = _healthy(rng, 7, scales, 0.05)
    norms[4:] *= (10.0 ** np.arange(3))[:, None]
    norms[6, 2] = 5e3
    return norms


def _inf_under_infinite_limit(rng, scales):
    """A run for limit = inf: a finite 5e4 in 0.weight at step 3 (not bad), an inf in 2.weight at step 4 (bad:
    not finite), nan from step 6 (inf > inf is False, so only a test for 'not finite' finds step 4)."""
    norms = _healthy(rng, 8, scales)
    norms[3, 0] = 5e4
    norms[4, 2] = np.inf
    norms[6:] = np.nan
    return norms


def _large_at_start(rng, scales):
    """A run whose first step already has a finite norm above 1e3 in 2.weight, nan two steps later."""
    norms = _healthy(rng, 6, scales)
    norms[0, 2] = 3e3
    norms[2:] = np.nan
    return norms


def _diagnose_runs(rng):
    """first_bad_step's runs; an "exploding" one is one label of three, which a function that always gives that
    label passes too (Case.trivial)."""
    cases = _runs(rng)
    for case in cases:
        if not case.visible and not case.trivial and diagnose_reference(*case.args, **case.kwargs) == "exploding":
            case.trivial = ("a classification: its answer is one of three labels, 'exploding' here, which a "
                            "function that always gives that label gives too")
    return cases


def _any_of(wrongs, hint, more=(), call=None):
    """A Mistake recognised when the learner's answer is that of any of the wrong functions ``wrongs`` (each run
    through ``call``, by default first_bad_step's)."""
    def match(got, expected, case):
        answers = [(call or after_bad_step)(w, *copy.deepcopy((case.args, case.kwargs))) for w in wrongs]
        return any(compare_arrays(got, np.asarray(a), 0.0, 0.0) is None
                   and compare_arrays(np.asarray(a), expected, 0.0, 0.0) is not None for a in answers)
    return Mistake(hint=hint, more=more, match=match)


class BadStepAnswer(RunAnswer):
    """The answer is a pair (step, name): after_bad_step turns it into a Run of numbers (step, index of the name
    in the table; -1 for None) and says what is wrong with its form."""


def _form_problem(returned, history):
    if returned is None:
        return ("your function returned None: return a pair, (step, name), and (None, None) when every step is "
                "healthy")
    if isinstance(returned, dict) or not isinstance(returned, (tuple, list)) or len(returned) != 2:
        return f"you returned a {type_name(returned)}; a pair (step, name) was expected, e.g. return t, name"
    if not isinstance(returned, tuple):
        return (f"you returned a {type_name(returned)} of two items; the pair is a tuple, (step, name), as the "
                "text asks (return t, name makes one)")
    step, name = returned
    if isinstance(name, dict):
        return "the second item of your pair is a whole row of the table (a dict); return the parameter's name"
    if name is not None and not isinstance(name, str):
        return (f"the second item of your pair is a {type_name(name)}; the parameter's name (a str such as "
                "'0.weight') was expected")
    if step is not None and not (isinstance(step, (int, np.integer)) and not isinstance(step, bool)):
        return f"the step is a {type_name(step)}; an int (the index into history) was expected"
    if (step is None) != (name is None):
        return "return (None, None) for a healthy run, and a step and a name together otherwise"
    if step is not None and not 0 <= step < len(history):
        return f"step {step} is not a step of this run: history has steps 0 to {len(history) - 1}"
    if name is not None and name not in [row["name"] for row in history[step]]:
        return f"{name!r} is not the name of a parameter in this run's table"
    return None


def _rows_of(history):
    """history's rows as tuples, to see whether a function changed it (the same float objects compare equal,
    nan included: Python compares the items of a tuple by identity first)."""
    return [[tuple(row.items()) for row in table] for table in history]


def _changed_history(history, before):
    if _rows_of(history) != before:
        return ("your function changed history (a row, a table or the list itself): it only reads the "
                "recorded statistics. Whoever calls it still needs them as they were")
    return None


def after_bad_step(fn, args, kwargs):
    """Run the learner's first_bad_step; a Run of (step, index of the name in the table, step on a cut history),
    -1 standing for None.

    The third number tells a count that starts at 1 from another mistake that also lands one step late: when the
    step returned is one after the first bad step, the function runs again on the history cut just before that
    step. A count from 1 still finds the bad step there and again answers one late; a test of the wrong column,
    say, finds nothing. Otherwise (every right answer) the third number is -1."""
    history = args[0] if args else kwargs["history"]
    before = _rows_of(history)
    returned = fn(*args, **kwargs)
    changed = _changed_history(history, before)
    if changed:
        return Run.of([np.nan, np.nan, np.nan], changed)
    problem = _form_problem(returned, history)
    if problem:
        return Run.of([np.nan, np.nan, np.nan], problem)
    step, name = returned
    if step is None:
        return Run.of([-1, -1, -1])
    names = [row["name"] for row in history[step]]
    return Run.of([step, names.index(name), _step_on_cut(fn, history, step, args, kwargs)])


def _step_on_cut(fn, history, step, args, kwargs):
    """fn's step on history[:step] when ``step`` is one after the first bad step (-1: None or not asked; -2: not
    a step)."""
    first, _ = first_bad_step_reference(copy.deepcopy(history), *args[1:], **{k: v for k, v in kwargs.items()
                                                                               if k != "history"})
    if first is None or step != first + 1:
        return -1
    try:
        with np.errstate(all="ignore"):
            again = fn(copy.deepcopy(history[:step]), *args[1:], **{k: v for k, v in kwargs.items()
                                                                     if k != "history"})
        again = again[0]
    except Exception:  # noqa: BLE001  (the learner's code on a shorter history: any failure just means "not late")
        return -2
    if again is None:
        return -1
    return int(again) if isinstance(again, (int, np.integer)) and not isinstance(again, bool) else -2


def _describe(pair, case):
    step, index = (int(v) for v in pair[:2])
    if step < 0:
        return "(None, None): no bad step"
    return f"step {step}, {case.args[0][step][index]['name']!r}"


def _bad_step_compare(got, expected, case):
    if np.array_equal(got, expected):
        return None
    return f"expected {_describe(expected, case)}; your function gave {_describe(got, case)}"


def _wrong_step(test):
    """A first_bad_step whose test of a row is ``test(row, limit)``."""
    def first_bad_step(history, limit=1e3):
        for step, table in enumerate(history):
            for row in table:
                if test(row, limit):
                    return step, row["name"]
        return None, None
    return first_bad_step


def _largest(history, limit=1e3):
    step, _ = first_bad_step_reference(history, limit)
    if step is None:
        return None, None
    norms = [np.inf if not math.isfinite(r["norm"]) else r["norm"] for r in history[step]]
    return step, history[step][int(np.argmax(norms))]["name"]


def _skipping(first, last):
    """first_bad_step whose loop leaves out the first and/or the last step of history."""
    def first_bad_step(history, limit=1e3):
        start, stop = int(first), len(history) - int(last)
        step, name = first_bad_step_reference(history[start:stop], limit)
        return (None, None) if step is None else (step + start, name)
    return first_bad_step


def _parameters_outside(history, limit=1e3):
    """The loops the wrong way round: for each parameter, its first bad step; returns the first parameter's."""
    for j in range(len(history[0]) if history else 0):
        for step, table in enumerate(history):
            norm = table[j]["norm"]
            if not math.isfinite(norm) or norm > limit:
                return step, table[j]["name"]
    return None, None


def _weights_only(history, limit=1e3):
    """Skips the biases (only the rows whose name ends in 'weight')."""
    for step, table in enumerate(history):
        for row in table:
            if row["name"].endswith("weight") and (not math.isfinite(row["norm"]) or row["norm"] > limit):
                return step, row["name"]
    return None, None


def _first_row_only(history, limit=1e3):
    """Tests only the first row of each table."""
    for step, table in enumerate(history):
        if table and (not math.isfinite(table[0]["norm"]) or table[0]["norm"] > limit):
            return step, table[0]["name"]
    return None, None


def _large_rows_first(history, limit=1e3):
    """Two passes over each step's table: a finite norm above limit first, nan/inf only after."""
    for step, table in enumerate(history):
        for row in table:
            if math.isfinite(row["norm"]) and row["norm"] > limit:
                return step, row["name"]
        for row in table:
            if not math.isfinite(row["norm"]):
                return step, row["name"]
    return None, None


def _one_late(history, limit=1e3):
    step, name = first_bad_step_reference(history, limit)
    return (None, None) if step is None else (step + 1, name)


def _last_bad(history, limit=1e3):
    found = (None, None)
    for step in range(len(history)):
        got = first_bad_step_reference(history[step:step + 1], limit)
        if got[0] is not None:
            found = (step, got[1])
    return found


register(Exercise(
    "06.first_bad_step",
    reference=first_bad_step_reference,
    cases=_runs,
    call=after_bad_step,
    answer=BadStepAnswer(),
    compare=_bad_step_compare,
    rtol=0.0,
    atol=0.0,
    generic_hints=(),
    points=2,
    mistakes=[
        _mistake(lambda history, limit=1e3: first_bad_step_reference(history),
                 "your answer is what limit = 1e3 gives, but this case passes another limit: use the argument "
                 "`limit` itself, not a fixed number",
                 "compare each norm with the limit your function receives"),
        _mistake(_wrong_step(lambda row, limit: math.isnan(row["norm"]) or row["norm"] > limit),
                 "an inf gradient slipped through: with limit = inf no norm is above the limit, inf included "
                 "(inf > limit is False, and so is not inf <= limit), so a test that compares with limit and "
                 "catches only nan besides never sees it. inf is not finite, and a norm that is not finite is "
                 "bad whatever the limit",
                 "test for 'not finite' (math.isfinite catches nan and inf), besides the comparison with limit"),
        _any_of((_skipping(True, False), _skipping(False, True), _skipping(True, True)),
                "your loop leaves out a step of history: here the first bad step is the "
                "first (or the last) one, and your function never looked at it",
                "loop over every index of history, from 0 to len(history) - 1 (enumerate gives them all)"),
        _mistake(_parameters_outside,
                 "your loops go the wrong way round: for the first parameter you found its first bad step, but "
                 "an earlier step may be bad in another parameter. The first bad step is the earliest over ALL "
                 "parameters",
                 "loop over the steps outside and over the rows of each step's table inside"),
        _any_of((_weights_only, _first_row_only),
                "you left some rows of the table out (the biases? every row but the first?): every row is a "
                "parameter whose gradient can go bad, and here the first bad one is a row you did not test",
                "loop over every row of each step's table and test each one"),
        _mistake(_large_rows_first,
                 "at this step a nan (or inf) comes earlier in the table than a finite norm above limit, and your "
                 "answer is the later row: you looked for a large norm first and for nan/inf only after. The "
                 "first bad parameter is the first row, in the table's order, that is either",
                 "test each row, in order, for 'not finite' (nan or inf) OR above limit, in one test, and stop "
                 "at the first row that is either"),
        _mistake(_wrong_step(lambda row, limit: row["norm"] > limit),
                 "a nan gradient slipped through: every comparison with nan is False (nan > limit too), so a "
                 "run that turns nan at once never looks large",
                 "test for 'not finite' explicitly (math.isfinite, or np.isfinite), besides the comparison "
                 "with limit"),
        _any_of((_wrong_step(lambda row, limit: not math.isfinite(row["norm"])),
                 _wrong_step(lambda row, limit: math.isnan(row["norm"]))),
                "your answer is the first nan or inf, but a finite norm above limit comes before it (at an "
                "earlier step, or earlier in the same step's table). A finite norm above limit is bad too: it is "
                "the warning that comes several steps before the nan, when the run can still be saved",
                "test each row, in order, for 'not finite' (nan or inf) OR above limit, and stop at the first "
                "row that is either"),
        _mistake(_wrong_step(lambda row, limit: bool(row["flag"])),
                 "the flag column marks anything unusual, including tiny gradients and dead units, and uses its "
                 "own fixed threshold (1e3): it is a hint for reading the table, not the test this exercise asks "
                 "for",
                 "test the norm column: not finite, or above limit"),
        _mistake(_wrong_step(lambda row, limit: not math.isfinite(row["max_abs"]) or row["max_abs"] > limit),
                 "you tested the largest element, max|g|; the test is on the norm, which is larger when the "
                 "gradient is spread over many elements",
                 "use the norm column of each row"),
        _mistake(_largest,
                 "the step is right; at that step several parameters are bad, and the exercise asks for the "
                 "first of them in the table's order (the parameter nearest the input), not the largest",
                 "return the name of the first bad row you meet at that step"),
        _mistake(_wrong_step(lambda row, limit: not math.isfinite(row["norm"]) or row["norm"] >= limit),
                 "a norm exactly equal to limit is not bad: the test is 'above limit', strictly greater, so a "
                 "norm at the limit itself still counts as healthy",
                 "compare the norm with limit using a strict comparison"),
        Mistake(hint="your function gives the example's answer, (10, '0.weight'), for another run: the answer "
                     "must come from the history it receives",
                more="loop over the history argument, step by step, and test each row",
                match=lambda got, expected, case: not case.visible and np.array_equal(got[:2], [10, 0])
                and not np.array_equal(expected[:2], [10, 0])),
        _mistake(_one_late, "your step is one after the first bad step, with the right parameter: steps count "
                            "from 0, as the positions in history do (a count that starts at 1 gives this)",
                 "use the index of the table in history as the step"),
        _mistake(_last_bad, "you returned the LAST bad step; the exercise asks for the first (stop at the first "
                            "bad step you find)",
                 "return as soon as you find a bad row"),
    ],
))


# -------------------------------------------------------------------- 06.diagnose
KINDS = ("healthy", "exploding", "sudden")


def diagnose_reference(history, limit=1e3):
    """What went wrong in a run, judged at its first bad step (first_bad_step): "healthy" when no step is bad,
    "exploding" when the first bad norm is finite (above ``limit``: the norms grew until they passed it), "sudden"
    when it is nan or inf (non-finite at once, with no growth before it)."""
    step, name = first_bad_step_reference(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "exploding" if math.isfinite(norm) else "sudden"


def after_diagnose(fn, args, kwargs):
    """Run the learner's diagnose; a Run of the index of its answer in KINDS."""
    history = args[0] if args else kwargs["history"]
    before = _rows_of(history)
    returned = fn(*args, **kwargs)
    changed = _changed_history(history, before)
    if changed:
        return Run.of([np.nan], changed)
    if not isinstance(returned, str) or returned not in KINDS:
        kinds = ", ".join(map(repr, KINDS))
        return Run.of([np.nan], f"your function returned {returned!r}; one of the strings {kinds} was expected")
    return Run.of([KINDS.index(returned)])


def _diagnose_compare(got, expected, case):
    if np.array_equal(got, expected):
        return None
    return f"expected {KINDS[int(expected[0])]!r}; your function gave {KINDS[int(got[0])]!r}"


def _kind_at(step_of):
    """A wrong diagnose that judges the norm of the row chosen by step_of(history, limit) -> (step, name)."""
    def diagnose(history, limit=1e3):
        step, name = step_of(history, limit)
        if step is None:
            return "healthy"
        norm = next(row["norm"] for row in history[step] if row["name"] == name)
        return "exploding" if math.isfinite(norm) else "sudden"
    return diagnose


def _kind_at_first_row(history, limit=1e3):
    """Judges the first row of the first bad step's table instead of the row first_bad_step names."""
    step, _ = first_bad_step_reference(history, limit)
    if step is None:
        return "healthy"
    return "exploding" if math.isfinite(history[step][0]["norm"]) else "sudden"


def _sudden_at_an_end(got, expected, case):
    """diagnose said "sudden" where the answer is "exploding", at a first bad step that is the run's first or
    last."""
    if not (np.isfinite(got).all() and KINDS[int(got[0])] == "sudden" and KINDS[int(expected[0])] == "exploding"):
        return False
    history = case.args[0]
    step, _ = first_bad_step_reference(history, *case.args[1:], **case.kwargs)
    return step in (0, len(history) - 1)


def _nan_only_sudden(history, limit=1e3):
    """"sudden" only for a nan at the first bad step; an inf counts as exploding."""
    step, name = first_bad_step_reference(history, limit)
    if step is None:
        return "healthy"
    norm = next(row["norm"] for row in history[step] if row["name"] == name)
    return "sudden" if math.isnan(norm) else "exploding"


def _largest_at_bad_step(history, limit=1e3):
    """Judges the largest norm at the first bad step instead of the first bad parameter's."""
    step, _ = first_bad_step_reference(history, limit)
    if step is None:
        return "healthy"
    norms = [row["norm"] for row in history[step]]
    return "exploding" if all(math.isfinite(n) for n in norms) else "sudden"


def _swapped(history, limit=1e3):
    kind = diagnose_reference(history, limit)
    return {"exploding": "sudden", "sudden": "exploding"}.get(kind, kind)


def _healthy_for_a_bad_run(got, expected, case):
    """diagnose said "healthy" (index 0) where the run has a bad step."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return bool(np.isfinite(got).all() and got[0] == 0 and expected[0] != 0)


def _any_nonfinite(history, limit=1e3):
    """"sudden" whenever the run ever has a non-finite norm, "exploding" when only finite ones pass the limit."""
    rows = [row for table in history for row in table]
    if any(not math.isfinite(row["norm"]) for row in rows):
        return "sudden"
    return "exploding" if any(row["norm"] > limit for row in rows) else "healthy"


register(Exercise(
    "06.diagnose",
    reference=diagnose_reference,
    cases=_diagnose_runs,
    call=after_diagnose,
    answer=RunAnswer(),
    compare=_diagnose_compare,
    rtol=0.0,
    atol=0.0,
    generic_hints=(),
    points=1,
    mistakes=[
        _mistake(lambda history, limit=1e3: diagnose_reference(history),
                 "your answer is what limit = 1e3 gives, but this case passes another limit: pass `limit` on",
                 "give first_bad_step the limit your function receives"),
        _any_of((_kind_at(_wrong_step(lambda row, limit: not math.isfinite(row["norm"]) or row["norm"] >= limit)),),
                "a norm exactly equal to limit is not bad: the test is 'above limit', strictly greater. Here a "
                "norm at the limit made your first bad step come too early, at a step that is still healthy",
                "let first_bad_step decide which step is bad, and judge the norm it points to",
                call=after_diagnose),
        Mistake(hint="a finite norm above the limit at the first bad step is 'exploding' wherever that step is, "
                     "the first step of the run or the last: the kind is read from that one norm (finite or "
                     "not), not from the steps around it",
                more="call first_bad_step, read the norm of that step's bad row, and test only whether it is "
                     "finite",
                match=_sudden_at_an_end),
        _any_of((_nan_only_sudden,),
                "an inf at the first bad step is as sudden as a nan: a norm that overflows to inf in one step did "
                "not grow past the limit step by step. 'sudden' means not finite: nan or inf",
                "test whether that norm is finite (math.isfinite), not whether it is nan",
                call=after_diagnose),
        _any_of((_kind_at_first_row,),
                "you judged the norm of the first row of the bad step's table; the kind is read from the row "
                "first_bad_step names, which here is another parameter",
                "take the name first_bad_step returns and read the norm of the row with that name",
                call=after_diagnose),
        _any_of((_largest_at_bad_step,),
                "you judged the whole table of the first bad step; the kind is read from the norm of its first "
                "bad parameter (the one first_bad_step names): here another parameter is inf or nan at the same "
                "step, after a finite norm above the limit in an earlier row",
                "take the name first_bad_step returns and read that row's norm",
                call=after_diagnose),
        _any_of((_swapped, _any_nonfinite, _kind_at(_last_bad)),
                "judge the run at its FIRST bad step: almost every diverging run ends in nan, so the end of the "
                "run (or 'some norm is not finite somewhere') says nothing about how it started. A finite norm "
                "above the limit at the first bad step means the norms grew until they passed it: exploding; a nan "
                "or inf there came at once: sudden",
                "call first_bad_step, read the norm of that step's bad row, and test whether it is finite",
                call=after_diagnose),
        Mistake(hint="your diagnose said 'healthy' for a run whose first bad step is step 0. 0 is a step like any "
                     "other, but it is falsy: a test such as `if not step` treats it as 'no bad step'. Only None "
                     "means that",
                more="test whether the step is None",
                match=lambda got, expected, case: _healthy_for_a_bad_run(got, expected, case)
                and first_bad_step_reference(*case.args, **case.kwargs)[0] == 0),
        Mistake(hint="your diagnose found no bad step in a run that has one: the step it judges is the one "
                     "first_bad_step finds, so if it calls your first_bad_step, make that pass its own check first",
                more="a step is bad when some norm is not finite (nan or inf) or above limit",
                match=_healthy_for_a_bad_run),
    ],
))
