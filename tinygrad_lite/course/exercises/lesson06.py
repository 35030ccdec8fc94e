r"""Lesson 06, gradient clipping and gradient health: the checks of its four exercises.

- ``06.clip_grad_norm_(parameters, max_norm, norm_type=2.0)``, ``06.clip_grad_value_(parameters, clip_value)``: judged,
  as in PyTorch, by what the call leaves behind (``Clipping.drive``): every ``.grad``, the parameters' values (which
  must not change) and clip_grad_norm_'s returned total norm (a 0-d tensor, measured BEFORE clipping). Clipping is in
  place (the trailing ``_``): a new tensor assigned to ``p.grad`` fails even with the right numbers (code that kept
  ``g = p.grad`` would read unclipped ones), and the text says so; ``check_inputs`` is False, as changing the
  gradients is the point. The hidden cases vary every argument (``norm_type`` 1, 3 and inf, by position and by
  keyword) and catch: scaling up below ``max_norm``; the 1e-6 in the denominator (tiny gradients); a factor not
  exactly 1 when there is nothing to clip (``max_norm`` 1e-4); a None ``.grad``, a single tensor, a generator (it can
  be iterated only once); a nan and an inf in a gradient (no special case: PyTorch's numbers). The float64 case is
  judged at float64's precision (issue 32), with a ``max_norm`` (0.7) and a ``clip_value`` (0.3) that float32 cannot
  hold, so that a factor or a bound made in float32 shows. The library's functions (and ``get_total_norm``) are
  forbidden, PyTorch's too, and ``allow`` names the texts' building blocks (issue 32: vector_norm, the factor's
  arithmetic, clamp), so that any other function that measures or clips (PyTorch's ``clip_grads_with_norm_``,
  ``hardtanh``, ``grad_stats``, an optimizer ...) is refused.
- ``06.first_bad_step(history, limit=1e3)``: the first step at which some gradient norm of the run's ``grad_stats``
  tables is not finite or above ``limit``, and the name of the first parameter (in the table's order) that is bad
  there; ``(None, None)`` for a healthy run. The hidden runs are synthetic tables with grad_stats' columns: norms
  that grow, nan at once (nan > limit is False), inf, "tiny" and "dead units" flags (no divergence), other limits
  (inf among them: an inf norm is bad though inf > inf is False), a bad first or last step, a norm exactly at the
  limit (not above it), a norm above the limit whose every element stays below it. history must be left as it was.
- ``06.diagnose(history, limit=1e3)``, on the same runs: "healthy" (no bad step), "exploding" (the first bad norm is
  finite: the norms grew past the limit) or "sudden" (it is nan or inf). Both are driven (``after_bad_step``,
  ``after_diagnose``), with a ``problem`` for an answer of the wrong form (a row instead of a name, None instead of
  (None, None), ...).

The references are the library's own functions (tested against PyTorch's in tests/test_lesson06.py), so that ``use``
can stand in with them. Hints come in two tiers: the concept first, then a more concrete one when the same mistake
comes back; neither is the finished line.
"""
import copy
import functools
import math
from dataclasses import dataclass

import numpy as np

from ... import manual_seed, nn, optim, tensor
from ...datasets import noisy_sine
from ...nn.utils import clip_grad_norm_ as library_clip_grad_norm_
from ...nn.utils import clip_grad_value_ as library_clip_grad_value_
from ...nn.utils import get_total_norm
from ...nn.utils.grad_stats import GradStats, _flag
from ..answers import Run, an, is_tensor, type_name
from ..checks import Case, ErrorHint, compare_arrays
from .kinds import AT_FLOAT64, Within, as_float64, driven, float32_digits, mistake, recognised

EPS = 1e-6  # what PyTorch adds to the total norm before dividing
EXACT = Within(0.0)


# -------------------------------------------------------------------- parameters with gradients
class Parameters:
    """An iterable of parameters that can be iterated only ONCE, like the generator ``model.parameters()``
    (a real generator cannot be copied, and the check copies every case before each call)."""

    def __init__(self, tensors):
        self.tensors, self.used = list(tensors), False

    def __iter__(self):
        used, self.used = self.used, True
        return iter(() if used else self.tensors)

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
    return [parameters] if is_tensor(parameters) else list(parameters)


def _random_parameters(rng, shapes, scale=1.0, none_at=(), dtype=np.float32):
    return [parameter(rng.standard_normal(s), None if i in none_at else scale * rng.standard_normal(s), dtype)
            for i, s in enumerate(shapes)]


def _set_element(parameters, index, value=np.nan, middle=False):
    """The parameters with one element (the first, or the middle) of parameter ``index``'s gradient set to ``value``."""
    grad = parameters[index].grad.numpy().copy()
    grad.flat[grad.size // 2 if middle else 0] = value
    parameters[index].grad = tensor(grad)
    return parameters


def _dtype(t):  # "float32"; None for None
    return None if t is None else np.asarray(t.detach().numpy()).dtype.name


def _grads(case):
    return [p.grad for p in tensors_of(case.args[0]) if p.grad is not None]


def _case_dtype(case):
    grads = _grads(case)
    return np.float64 if grads and _dtype(grads[0]) == "float64" else np.float32


# -------------------------------------------------------------------- what clipping leaves behind
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
        return (f"you returned {an(type_name(returned))}. clip_grad_norm_ changes the .grad of each parameter "
                "itself and returns one number, the total norm before clipping, as a 0-d tensor"), np.nan
    if isinstance(returned, (float, int, np.generic, np.ndarray)) and not isinstance(returned, bool):
        value = float(np.asarray(returned).ravel()[0]) if np.size(returned) == 1 else np.nan
        source = ("from .numpy() or a numpy function" if isinstance(returned, (np.ndarray, np.generic))
                  else "from .item(), float() or math.sqrt")
        return (f"you returned {an(type_name(returned))} (e.g. {source}) where a 0-d "
                "tensor was expected: PyTorch's clip_grad_norm_ returns a tensor, and code written for it calls "
                ".item() on the result. Keep the total norm a tensor"), value
    return f"you returned {an(type_name(returned))} where a 0-d tensor (the total norm) was expected", np.nan


# The Run's last number, when it is not a parameter's index (a .grad replaced by a new tensor) or -1 (none): a float32
# total or gradient that came out float64. The problem says so; these codes let a Mistake give it its own hint (the
# course's hint for a dtype mismatch is about the opposite, a float32 where a float64 is expected).
WIDER_TOTAL, WIDER_GRAD = -2, -3


def _more_digits(got, expected, rtol, atol):
    """The worst difference to 9 digits (17 in float64), when 6 digits (compare_arrays' message) show the same
    number twice."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        wrong = ~((diff <= atol + rtol * np.abs(expected)) | (got == expected) | (np.isnan(got) & np.isnan(expected)))
    if not wrong.any():
        return ""
    worst = np.unravel_index(int(np.argmax(np.where(wrong, np.nan_to_num(diff, nan=np.inf), -1))), got.shape)
    g, e, digits = float(got[worst]), float(expected[worst]), 17 if got.dtype == np.float64 else 9
    return f"; to {digits} digits: expected {e:.{digits}g}, got {g:.{digits}g}" if f"{g:.6g}" == f"{e:.6g}" else ""


@dataclass(frozen=True)
class Clipping:
    """What the two clipping exercises share: the drive, the comparison and the kinds of mistake row.
    ``returns_norm``: clip_grad_norm_ (returns the total norm) rather than clip_grad_value_ (returns None).
    ``judge`` decides the float32 cases and matches the mistakes' numbers; ``judge64`` decides the float64 case."""
    name: str
    returns_norm: bool
    judge: Within
    judge64: Within

    def drive(self, fn, args, kwargs):
        """Run ``fn`` on a fresh copy of the case's parameters; a Run of [the returned norm (clip_grad_norm_ only),
        every gradient's numbers, every parameter's numbers, the index of the first parameter whose .grad is a new
        tensor (-1: none; reported only once the numbers are right, left out when a mistake's numbers are matched;
        WIDER_TOTAL or WIDER_GRAD: a float32 total or gradient came out float64)]. Its problem says what the numbers
        cannot show: a Python number or a list returned instead of a 0-d tensor, weights changed, a dtype changed."""
        tensors = tensors_of(args[0] if args else kwargs["parameters"])
        values_before, held = [as_float64(p).ravel() for p in tensors], [p.grad for p in tensors]
        dtypes = [_dtype(p.grad) for p in tensors]
        with np.errstate(invalid="ignore"):  # 0 * inf is nan on purpose (a case with an inf gradient): no warning
            returned = fn(*args, **kwargs)
        grads = [as_float64(p.grad).ravel() for p in tensors if p.grad is not None]
        values = [as_float64(p).ravel() for p in tensors]
        problem, code, head = None, None, []
        if self.returns_norm:
            problem, total = _returned_problem(returned)
            head = [np.array([total])]
            own = next((d for d in dtypes if d is not None), _dtype(tensors[0]) if tensors else None)
            if problem is None and own is not None and _dtype(returned) != own:
                problem = (f"your total norm is a {_dtype(returned)} tensor, but the gradients are {own}: the total "
                           "norm has the gradients' dtype, as PyTorch's does (compute it from the gradients "
                           "themselves, without converting them)")
                code = WIDER_TOTAL if (own, _dtype(returned)) == ("float32", "float64") else None
        elif returned is not None:
            problem = (f"your function returned {an(type_name(returned))}. clip_grad_value_ returns nothing (None), "
                       "as PyTorch's does: it clamps the gradients in place, and that is its whole result")
        for i, (p, before) in enumerate(zip(tensors, dtypes)):
            if before is not None and p.grad is not None and _dtype(p.grad) != before:
                problem = (f"parameter {i}'s .grad is {_dtype(p.grad)} after your function; it was {before}. "
                           "Clipping keeps each gradient's dtype (the dtype of its parameter): change the numbers, "
                           "not the dtype")
                code = WIDER_GRAD if (before, _dtype(p.grad)) == ("float32", "float64") else None
                break
        rebound = [i for i, (p, g) in enumerate(zip(tensors, held)) if g is not None and p.grad is not g]
        if changed := [i for i, (b, a) in enumerate(zip(values_before, values)) if not np.array_equal(a, b)]:
            problem = (f"your function changed the values of parameter {changed[0]} (the weights themselves). Clipping "
                       "changes only the gradients, .grad; the optimizer's step moves the weights afterwards")
            code = None
        tail = [np.array([code if code is not None else rebound[0] if rebound else -1])]
        return Run.of(np.concatenate(head + grads + values + tail), problem)

    def split(self, numbers, case):
        """(the returned norm, or None; [each gradient, shaped]) of a Run's numbers."""
        numbers = np.asarray(numbers, dtype=np.float64)
        start, grads = int(self.returns_norm), []
        for g in _grads(case):
            size = int(np.prod(tuple(g.shape)))
            grads.append(numbers[start:start + size].reshape(tuple(g.shape)))
            start += size
        return (numbers[0] if self.returns_norm else None), grads

    def unchanged(self, got, case):
        """Whether every gradient of the Run ``got`` is exactly the case's own."""
        return all(np.array_equal(g, as_float64(b)) for g, b in zip(self.split(got, case)[1], _grads(case)))

    def compare(self, got, expected, case):
        within = self.judge64 if _case_dtype(case) == np.float64 else self.judge
        rtol, atol = within.rtol, within.atol
        if got.shape != expected.shape:
            return "the gradients changed size or a missing gradient (None) was filled in: leave both as they are"
        (got_total, got_grads), (expected_total, expected_grads) = self.split(got, case), self.split(expected, case)
        if self.returns_norm and compare_arrays(np.asarray(got_total), np.asarray(expected_total), rtol, atol):
            return (f"the total norm your function returned is {got_total:.6g}; expected {expected_total:.6g}, the "
                    "norm of all the gradients together (as one long vector), measured before clipping")
        if all(compare_arrays(g, e, rtol, atol) is None for g, e in zip(got_grads, expected_grads)):
            index = int(got[-1])  # right numbers: is each .grad still the tensor it was?
            return None if index < 0 else (
                f"the numbers are right, but parameter {index}'s .grad is a new tensor after your function (you "
                "assigned a new tensor to p.grad): the tensor it held before the call still holds the unclipped "
                "gradient")
        # (with a nan or inf in a gradient, the numbers below say more: which element should have become what)
        if self.unchanged(got, case) and all(np.isfinite(as_float64(b)).all() for b in _grads(case)):
            return ("the .grad of every parameter is unchanged after your function, where clipping should have "
                    "changed it: the optimizer reads p.grad after your call, so that is what must be clipped (not p "
                    "itself, the weights)")
        dtype = _case_dtype(case)
        for i, (g, e) in enumerate(zip(got_grads, expected_grads)):  # in the gradients' own dtype
            failure = compare_arrays(g.astype(dtype), e.astype(dtype), rtol, atol,
                                     f"the gradient of parameter {i} after your function")
            if failure:
                return failure + _more_digits(g.astype(dtype), e.astype(dtype), rtol, atol)
        return None

    def mistake(self, wrong, hint, more=()):
        """A mistake row: the learner's Run has the numbers of ``wrong``'s Run (or of one of them, for a tuple),
        whether the learner changed .grad in place or assigned a new tensor (the Run's last number, which says so, is
        left out: a hint is about the numbers)."""
        def match(got, expected, case, wrong=wrong):
            if isinstance(wrong, tuple):
                return any(match(got, expected, case, one) for one in wrong)
            if not _grads(case):  # no gradient to clip: no mistake about clipping shows here
                return False
            with np.errstate(all="ignore"):
                answer = np.asarray(self.drive(wrong, *copy.deepcopy((case.args, case.kwargs))), dtype=np.float64)
            got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
            if not got.shape == answer.shape == expected.shape:
                return False
            return (compare_arrays(got[:-1], answer[:-1], self.judge.rtol, self.judge.atol) is None
                    and compare_arrays(answer[:-1], expected[:-1], self.judge.rtol, self.judge.atol) is not None)
        return recognised(match, hint, more)

    def rebound(self):
        """The row for right numbers in a new .grad tensor: in place is part of the contract."""
        def match(got, expected, case):
            got, expected = np.array(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
            if got.shape != expected.shape or got[-1] < 0:
                return False
            got[-1] = -1  # the same numbers, changed in place: right?
            return self.compare(got, expected, case) is None
        return recognised(
            match,
            f"{self.name} works in place, as PyTorch's does (the _ at the end of the name says so): code that holds "
            "the gradient tensor (g = p.grad taken before the call, or any other reference kept to it) goes on "
            "reading that tensor, so clipping must change its numbers, not replace it with a new tensor",
            "change p.grad with an in-place operation (a tensor method whose name ends in _)")


# clip_grad_value_ is judged exactly: no arithmetic on elements (each is the input's own or +-clip_value in its dtype)
NORM = Clipping("clip_grad_norm_", True, Within(1e-5, 1e-12), AT_FLOAT64)
VALUE = Clipping("clip_grad_value_", False, EXACT, EXACT)


def _grads_within(got, expected, case, within, clipping=NORM):
    """Whether every clipped gradient of the Run ``got`` is within ``within`` of the reference's (the total aside)."""
    pairs = zip(clipping.split(got, case)[1], clipping.split(expected, case)[1])
    return all(compare_arrays(g, e, within.rtol, within.atol) is None for g, e in pairs)


def _last_number_is(code):
    return lambda got, expected, case: np.asarray(got, dtype=np.float64).ravel()[-1:].tolist() == [code]


GRAD_MADE_FLOAT64 = recognised(
    _last_number_is(WIDER_GRAD),
    "a float64 where a float32 is expected: float64 numbers went into a float32 gradient (a .double() or "
    "a float64 numpy array, assigned through .data or to p.grad). An in-place method (a name ending in _) "
    "changes a gradient's numbers and keeps its dtype")
NO_GRAD = ErrorHint(
    r"'NoneType' object has no attribute",
    "a parameter whose .grad is None (a frozen layer, or one the loss does not use) has nothing to clip: "
    "skip it, as PyTorch does",
    "keep only the parameters whose .grad is not None")


# -------------------------------------------------------------------- 06.clip_grad_norm_
def clip_grad_norm_reference(parameters, max_norm, norm_type=2.0):
    r"""Rescale the gradients of ``parameters`` in place so that their total norm is at most ``max_norm``:
    total = \|(\|g_1\|_p, ..., \|g_k\|_p)\|_p, every g_i <- g_i * min(1, max_norm / (total + 1e-6));
    returns the total norm before clipping. (The library's nn.utils.clip_grad_norm_, as PyTorch's.)"""
    return library_clip_grad_norm_(parameters, max_norm, norm_type)


def norm_example():
    """The notebook's example: a weight and a bias with gradients of total norm 5 (sqrt(1 + 4 + 4 + 16)), clipped to
    max_norm 1."""
    return [parameter([[0.5, -0.3], [0.1, 0.8]], [[1.0, -2.0], [2.0, 0.0]]), parameter([0.0, 0.2], [4.0, 0.0])]


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
        Case((_set_element(_random_parameters(rng, [(4, 3), (4,)], 2.0), 1) + [parameter(np.ones(2), np.zeros(2))],
              1.0), "a gradient holds a nan: the total norm is nan, and so is every clipped gradient (as in PyTorch), "
             "the third one's too, which holds only zeros"),
        Case((_random_parameters(rng, [(3, 2), (3,)], none_at=(0, 1)), 1.0),
             "no parameter has a gradient (every .grad is None, as before the first backward): nothing to clip, "
             "and the total norm is 0, a 0-d tensor (PyTorch returns tensor(0.))"),
    ]
    # a plain case with large gradients right after the example, so that an answer whose numbers are a little off
    # fails first on a case whose description names no special situation (the draws stay in the order above)
    cases.insert(1, cases.pop(9))
    # drawn after the cases above, so that adding them changed none of those
    cases += [
        Case((_set_element(_random_parameters(rng, [(3, 4), (3,)], 2.0), 0, np.inf), 1.0),
             "a gradient holds an inf: the total norm is inf, the factor max_norm / (inf + 1e-6) is 0, so every "
             "finite element becomes 0 and the inf becomes nan (0 * inf), as in PyTorch"),
        Case((_random_parameters(rng, MLP_SHAPES, 6e-6), 1e-4),
             "the total norm (about 4e-5) is below a tiny max_norm = 1e-4: nothing to clip, every gradient stays "
             "exactly as it was"),
        Case((_random_parameters(rng, [(8, 8), (2,)], 1.0), 3.0),
             "the bias's gradient alone (norm about 0.6) is below max_norm = 3, the total (about 8.8) above it"),
        Case(([parameter(rng.standard_normal((3, 4)), np.full((3, 4), (1e-4 - 5e-7) / 12 ** 0.5))], 1e-4),
             "a total norm 5e-7 below max_norm = 1e-4, closer than the 1e-6: the factor max_norm / (total + 1e-6) "
             "is about 0.995, so the gradients shrink a little (in PyTorch too)"),
    ]
    return cases


# wrong clip_grad_norm_s, in numpy's arithmetic
def _norm_of(grads, p, signed=False):
    """The total p-norm of numpy gradients (the p-norm of their p-norms); ``signed``: the formula without the
    absolute values, sum g^p (max g for p = inf)."""
    def norm(a):
        a = np.asarray(a, dtype=np.float64).ravel()
        a = a if signed else np.abs(a)
        return a.max(initial=-np.inf if signed else 0.0) if p == math.inf else (a ** p).sum() ** (1 / p)
    return norm([norm(g) for g in grads])


def _factor(total, max_norm):
    return min(1.0, max_norm / (total + EPS))


def _clip_by(total_of, factor_of):
    """A clip_grad_norm_ whose total is total_of(grads, norm_type) and factor factor_of(total, max_norm): it scales
    each .grad in place and returns the total as a float32 tensor."""
    def clip(parameters, max_norm, norm_type=2.0):
        grads = [p.grad for p in tensors_of(parameters) if p.grad is not None]
        total = total_of([g.numpy() for g in grads], float(norm_type))
        factor = factor_of(total, float(max_norm))
        for g in grads:
            g.mul_(float(factor))
        return tensor(np.float32(total))
    return clip


def _nonfinite_skipped(parameters, max_norm, norm_type=2.0, zero=False):
    """Right, except that a total of inf leaves every gradient as it was (``zero``: sets every one to 0)."""
    tensors = [p for p in tensors_of(parameters) if p.grad is not None]
    if tensors and _norm_of([p.grad.numpy() for p in tensors], float(norm_type)) == math.inf:
        for p in tensors:
            if zero:
                p.grad.zero_()
        return tensor(np.array(np.inf, dtype=tensors[0].grad.numpy().dtype))
    return library_clip_grad_norm_(tensors, max_norm, norm_type)


def _returns_after(parameters, max_norm, norm_type=2.0):
    """Clips right, but returns the norm AFTER clipping."""
    tensors = list(tensors_of(parameters))
    library_clip_grad_norm_(tensors, max_norm, norm_type)
    return tensor(np.float32(_norm_of([p.grad.numpy() for p in tensors if p.grad is not None], float(norm_type))))


def _new_grads(parameters, max_norm, norm_type=2.0):
    """Computes the clipped gradients as new tensors and returns them; .grad stays as it was."""
    tensors = [p for p in tensors_of(parameters) if p.grad is not None]
    total = _norm_of([p.grad.numpy() for p in tensors], float(norm_type))
    return [p.grad * _factor(total, float(max_norm)) for p in tensors]


def _each_separately(parameters, max_norm, norm_type=2.0, only_large=False):
    """Clips each gradient by its own norm; returns the total. ``only_large`` (">" or "not <=", which differ for a
    nan): the total's factor instead, nan for a nan total as a tensor's is, but only for a gradient whose own norm
    passes that test against max_norm."""
    tensors = [p for p in tensors_of(parameters) if p.grad is not None]
    total = _norm_of([t.grad.numpy() for t in tensors], float(norm_type))
    for t in tensors:
        own = _norm_of([t.grad.numpy()], float(norm_type))
        if not only_large or (own > max_norm if only_large == ">" else not own <= max_norm):
            t.grad.mul_(float(np.minimum(1.0, max_norm / (total + EPS))) if only_large else _factor(own, max_norm))
    return tensor(np.float32(total))


driven(
    "06.clip_grad_norm_", clip_grad_norm_reference, _norm_cases, NORM.drive, compare=NORM.compare, match=NORM.judge,
    check_inputs=False, points=3, allow=("arithmetic", "norm", "sqrt", "sum", "max", "min", "clamp", "where"),
    forbid=(library_clip_grad_norm_, get_total_norm, "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.get_total_norm"),
    error_hints=[NO_GRAD, ErrorHint(
        r"non-empty list|empty sequence|list index out of range|zero-size array",
        "an empty list reached an operation that needs at least one element. When no parameter has a gradient "
        "(every .grad is None), the list of gradients is empty: there is nothing to clip then, and the total norm "
        "is 0, returned as a 0-d tensor, as PyTorch's is",
        "test whether the list of gradients is empty before measuring, and return a 0-d tensor holding 0.0 then")],
    mistakes=[
        recognised(_last_number_is(WIDER_TOTAL),
                   "a float64 where a float32 is expected: your total went through float64 on the way (a .double(), "
                   "numpy's float64, dtype=tl.float64). The norm of a float32 tensor is float32: measure the "
                   "gradients as they are"),
        GRAD_MADE_FLOAT64,
        NORM.rebound(),
        recognised(lambda got, expected, case: isinstance(case.args[0], Parameters) and NORM.unchanged(got, case)
                   and np.isclose(NORM.split(got, case)[0], NORM.split(expected, case)[0], rtol=NORM.judge.rtol),
                   "here the parameters come as model.parameters(), a generator, which can be iterated only once: "
                   "your second loop over it found nothing, so no gradient was clipped",
                   "turn the parameters into a list once, at the start, and loop over that list as often as you need"),
        recognised(lambda got, expected, case: is_tensor(case.args[0]) and NORM.split(got, case)[0] == 0.0
                   and NORM.unchanged(got, case),
                   "here parameters is a single tensor, not a list (PyTorch accepts both): a loop over a tensor "
                   "walks its rows, which have no .grad",
                   "when parameters is a Tensor, wrap it in a list first"),
        recognised(lambda got, expected, case: (_case_dtype(case) == np.float64
                                                and float32_digits("").match(got, expected, case)
                                                and not _grads_within(got, expected, case, NORM.judge64)),
                   "this case's gradients are float64, and so are your results, but they carry float32's rounding: "
                   "they are off by about 1e-8 of their size. A float32 tensor in your code rounded a number to 7 "
                   "significant digits before it met the float64 gradients: tl.tensor(max_norm), "
                   "or a tensor of norms made with the default float32 (tl.tensor([...]), tl.zeros(n)). The "
                   "promotion to float64 that follows does not bring the lost digits back",
                   "keep max_norm and 1e-6 Python numbers (max_norm / (total + 1e-6) with total a tensor), and make "
                   "any tensor you create with the gradients' dtype (dtype=g.dtype, or tl.stack of the norms "
                   "themselves)"),
        NORM.mistake(_clip_by(_norm_of, _factor),  # Python's min(1.0, nan) is 1.0: a nan total scales nothing
                     "with a nan in a gradient the total norm is nan, and PyTorch's factor is nan too, so every "
                     "clipped gradient becomes nan: the broken step shows instead of going on quietly. Yours left "
                     "the gradients unscaled here: a factor computed with Python numbers (min(1.0, nan) is 1.0), a "
                     "test such as total > max_norm (every ordering comparison with nan is False), or a skip when "
                     "the total is not finite, each keeps the nan from reaching the gradients",
                     "keep the factor a tensor and clamp it with a tensor operation, which passes nan on"),
        NORM.mistake(_nonfinite_skipped,
                     "with an inf in a gradient the total norm is inf, and PyTorch does not skip the step: the factor "
                     "max_norm / (inf + 1e-6) is 0, so every finite element becomes 0 and the inf becomes nan "
                     "(0 * inf), and the broken step shows. Yours left the gradients as they were when the total "
                     "was not finite",
                     "treat an infinite total as any other: compute the factor and scale the gradients by it"),
        NORM.mistake(functools.partial(_nonfinite_skipped, zero=True),
                     "with an inf in a gradient the total norm is inf, and the factor max_norm / (inf + 1e-6) is 0: "
                     "every finite element becomes 0, but the inf becomes nan (0 * inf is nan), as in PyTorch, so the "
                     "broken step shows. Yours set every gradient to 0 when the total was infinite, which hides it",
                     "treat an infinite total as any other: compute the factor and multiply the gradients by it"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: max_norm / (max(total, max_norm) + EPS)),
                     "when the total norm is below max_norm by more than 1e-6, the gradients must come out exactly as "
                     "they went in (PyTorch's factor is exactly 1 there). Yours still multiplies them by max_norm / "
                     "(max_norm + 1e-6): harmless for max_norm = 1, but with max_norm = 1e-4 it shrinks them by 1%",
                     "the factor is the SMALLER of 1 and max_norm / (total + 1e-6); cap the factor at 1, not the "
                     "total at max_norm"),
        NORM.mistake(_new_grads,
                     "your function returned new, clipped tensors and left every .grad as it was. The optimizer "
                     "reads p.grad, so clipping must change the gradients themselves (that is what the _ in the "
                     "name says), and the function returns the total norm",
                     "multiply each p.grad in place (a method ending in _); return the total norm"),
        # (before the next: on the case that shows it, a test of the total leaves .grad as it was too)
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: 1.0 if total <= max_norm else _factor(total, max_norm)),
                     "you leave the gradients alone when the total is at most max_norm. PyTorch always multiplies by "
                     "min(1, max_norm / (total + 1e-6)), which is below 1 for a total within 1e-6 under max_norm: "
                     "here, where max_norm = 1e-4, it shrinks them by about 0.5%",
                     "compute the factor for every total and cap it at 1, with no test of the total"),
        # the total right, the scaling on local copies (g = g * c): .grad as it was
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: 1.0),
                     "your total norm is right, but every .grad is unchanged, although this total is above "
                     "max_norm: the factor came out as 1 (it is the SMALLER of 1 and max_norm / (total + 1e-6)), "
                     "or a test before the scaling skipped every gradient (a test of each gradient's own size, say: "
                     "clipping scales them all), or the scaling never reached p.grad (g = g * c makes a new tensor "
                     "and binds the name g to it, which leaves p.grad as it was)",
                     "print the factor for this case, and whether each gradient reaches your scaling; then change "
                     "the tensor p.grad itself, with an in-place method (a name ending in _)"),
        NORM.mistake(_each_separately,
                     "you clipped each gradient by its own norm. Clipping by the GLOBAL norm measures all the "
                     "gradients together, as one long vector, and scales every one of them by the same factor: "
                     "only that keeps the direction of the whole update",
                     "compute one total norm from all the gradients first, then one factor, then scale each "
                     "gradient by it"),
        NORM.mistake(tuple(functools.partial(_each_separately, only_large=test) for test in (">", "not <=")),
                     "you scaled only the gradients whose own norm is above max_norm. Clipping by the global norm "
                     "scales EVERY gradient by the one factor, the small ones too: leaving some as they were changes "
                     "the direction of the whole update",
                     "multiply every gradient by the factor, whatever its own norm"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: max_norm / (total + EPS)),
                     "your function also scales gradients UP when their total norm is below max_norm. Clipping "
                     "only ever shrinks: the factor is capped at 1",
                     "take the smaller of 1 and max_norm / (total + 1e-6)"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: min(1.0, max_norm / total) if total else 1.0),
                     "almost: the factor divides by total + 1e-6, as PyTorch's does (the 1e-6 keeps an all-zero "
                     "gradient from dividing by 0). With tiny gradients the difference shows",
                     "add 1e-6 to the total norm in the denominator of the factor"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: min(1.0, max_norm / total + EPS)),
                     "your 1e-6 is added to the factor, after the division: PyTorch adds it to the total norm "
                     "BEFORE dividing, max_norm / (total + 1e-6), where it keeps an all-zero gradient from dividing "
                     "by 0. Added to the factor it changes every clipped gradient a little, and divides by 0 anyway",
                     "write the factor as max_norm / (total + 1e-6), then cap it at 1"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: min(1.0, (max_norm + EPS) / (total + EPS))),
                     "the 1e-6 goes into the denominator only, added to the total norm, where it keeps an all-zero "
                     "gradient from dividing by 0; max_norm stays as it is. Added to max_norm too, it lets the "
                     "clipped norm come out above max_norm: with max_norm = 1e-4, by about 1%",
                     "leave max_norm alone in the numerator; add 1e-6 to the total only"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: min(1.0, max_norm / total - EPS) if total else 1.0),
                     "your 1e-6 is subtracted from the factor (max_norm / total - 1e-6). In the formula it is added "
                     "to the total, inside the denominator, where it keeps an all-zero gradient from dividing by 0. "
                     "With large gradients the factor is small, and a 1e-6 taken off it shows",
                     "move the 1e-6 into the denominator, added to the total norm"),
        # the p-th power formula used for p = inf too: (sum |g|^inf)^(1/inf) is inf ** 0 or 0 ** 0, both 1
        NORM.mistake(_clip_by(lambda grads, p: sum(float((np.abs(g.astype(np.float64)) ** p).sum())
                                                   for g in grads) ** (1 / p), _factor),
                     "for norm_type = inf the norm is the largest |g| (the limit of the p-norm as p grows); the "
                     "power formula (sum |g|^p)^(1/p) breaks there: inf ** 0 and 0 ** 0 are both 1",
                     "handle p = inf on its own: the per-tensor norm is the largest absolute element, and the total "
                     "is the largest of those"),
        NORM.mistake(_clip_by(functools.partial(_norm_of, signed=True), _factor),
                     "the p-norm adds up the ABSOLUTE values raised to the power p, (sum |g|^p)^(1/p), and for "
                     "p = inf it is the largest absolute value: without |.|, negative elements cancel positive ones "
                     "(and a negative sum has no real p-th root)",
                     "take the absolute value of the gradient's elements before the power or the maximum"),
        NORM.mistake(_clip_by(lambda grads, p: _norm_of(grads, p) ** p if p != math.inf else _norm_of(grads, p),
                              _factor),
                     "your total is the sum of |g|^p without its p-th root: the p-norm is (sum |g|^p)^(1/p) (for "
                     "p = 2 the square root of the sum of squares)",
                     "raise the sum to the power 1 / norm_type"),
        NORM.mistake(_clip_by(lambda grads, p: float(np.sqrt(sum(_norm_of([g], p) ** 2 for g in grads))), _factor),
                     "you measured each gradient with norm_type but combined the per-tensor norms with the 2-norm: "
                     "the total is the norm_type-norm of all the gradients as one vector, which is the norm_type-"
                     "norm of the per-tensor norms (for norm_type = 1, their sum; for inf, their largest)",
                     "combine the per-tensor norms with the same norm_type"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: 1.0 / _factor(total, max_norm)),
                     "your gradients grew where they should shrink: you divided them by the factor, min(1, max_norm "
                     "/ (total + 1e-6)), which is at most 1; clipping MULTIPLIES them by it",
                     "multiply each gradient by the factor, in place"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: min(1.0, (max_norm + EPS) / total)),
                     "your 1e-6 is in the numerator, max_norm + 1e-6: PyTorch adds it to the total norm in the "
                     "denominator, max_norm / (total + 1e-6), where it keeps an all-zero gradient from dividing by 0",
                     "move the 1e-6 into the denominator, next to the total"),
        NORM.mistake(_clip_by(lambda grads, p: _norm_of(grads, 2.0), _factor),
                     "your function always measures the 2-norm; this case passes another norm_type. The total is "
                     "the norm_type-norm of all the gradients",
                     "use norm_type both for the norm of each gradient and for combining those norms"),
        NORM.mistake(_clip_by(lambda grads, p: sum(_norm_of([g], p) for g in grads), _factor),
                     "your total adds up the norms of the separate gradients. The total norm is the norm of all "
                     "the gradients as ONE vector: the p-norm of the per-tensor p-norms (for p = 2, the square "
                     "root of the sum of their squares), not their plain sum",
                     "combine the per-tensor norms with the same norm_type-norm (stack them into a tensor and take "
                     "its norm)"),
        NORM.mistake(_clip_by(_norm_of, lambda total, max_norm: _factor(total, 1.0)),
                     "your factor is the one for max_norm = 1 whatever max_norm is: this case passes another "
                     "max_norm. The factor caps the total norm at the max_norm your function receives",
                     "use the argument max_norm in the factor"),
        NORM.mistake(_returns_after,
                     "the gradients are right, but you returned the norm AFTER clipping (which is just max_norm, or "
                     "less). clip_grad_norm_ returns the norm it measured before clipping: the number worth logging, "
                     "whose spikes show an unstable run",
                     "measure the total norm first, keep it, and return that"),
    ])


# -------------------------------------------------------------------- 06.clip_grad_value_
def clip_grad_value_reference(parameters, clip_value):
    """Clamp every element of every gradient to [-clip_value, clip_value], in place. (The library's
    nn.utils.clip_grad_value_, as PyTorch's.)"""
    library_clip_grad_value_(parameters, clip_value)


def value_example():
    """The notebook's example for clip_grad_value_ with clip_value 1."""
    return [parameter([[0.5, -0.3], [0.1, 0.8]], [[0.5, -3.0], [1.5, 0.2]]), parameter([0.0, 0.2], [-0.8, 4.0])]


def _value_cases(rng):
    return [
        Case((value_example(), 1.0), visible=True),
        Case((_random_parameters(rng, MLP_SHAPES, 3.0), 0.5), "large gradients of both signs, clip_value = 0.5"),
        # one element beyond the bounds: a function that changes nothing fails, every other element stays as it was
        Case((_set_element(_random_parameters(rng, MLP_SHAPES, 0.1), 2, -5.0, middle=True), 2.0),
             "every element but one is within [-2, 2]: only that one changes"),
        Case((_random_parameters(rng, MLP_SHAPES, 5.0, none_at=(2,)), 1.0),
             "parameter 2 has no gradient (.grad is None)"),
        Case((parameter(rng.standard_normal((4, 3)), 10 * rng.standard_normal((4, 3))), 3.0),
             "a single tensor instead of a list"),
        Case((Parameters(_random_parameters(rng, [(5, 2), (5,)], 2.0)), 0.25),
             "parameters given as model.parameters(), a generator"),
        Case((_set_element(_random_parameters(rng, [(4, 3), (4,)], 3.0), 0), 1.0),
             "a gradient holds a nan: clamping leaves it nan (as PyTorch's does), so the broken step still shows"),
        # (elements on both sides of the bound: a bound rounded to float32 and a gradient rounded to float32 differ)
        Case((_random_parameters(rng, [(4, 3), (4,)], 0.5, dtype=np.float64), 0.3),
             "float64 parameters and gradients, clip_value = 0.3: an element beyond it becomes float64's 0.3, one "
             "within it keeps its float64 digits"),
    ]


# wrong clip_grad_value_s
def _elementwise(f):
    """A clip_grad_value_ that replaces each .grad by a new float32 tensor of f(g, clip_value) (g in float64)."""
    def clip(parameters, clip_value):
        for p in tensors_of(parameters):
            if p.grad is not None:
                p.grad = tensor(f(p.grad.numpy().astype(np.float64), clip_value).astype(np.float32))
    return clip


def _clamped(bound_of=lambda clip_value: clip_value, where=lambda grad, clip_value: True):
    """A clip_grad_value_ that clamps in place, to +-bound_of(clip_value), each .grad where(grad, clip_value)."""
    def clip(parameters, clip_value):
        for p in tensors_of(parameters):
            if p.grad is not None and where(p.grad, clip_value):
                p.grad.clamp_(-bound_of(clip_value), bound_of(clip_value))
    return clip


def _clamped_through_float32(parameters, clip_value):
    """A clip_grad_value_ that clamps a float32 copy of each .grad and writes it back (a .float() on the way)."""
    for p in tensors_of(parameters):
        if p.grad is not None:
            p.grad.copy_(tensor(np.clip(p.grad.numpy(), -clip_value, clip_value).astype(np.float32)))


def _by_norm(parameters, clip_value):
    library_clip_grad_norm_(tensors_of(parameters), clip_value)


def _value_grads(got, expected, case):
    """[(the learner's gradient, the right one)] of clip_grad_value_'s Runs."""
    return list(zip(VALUE.split(got, case)[1], VALUE.split(expected, case)[1]))


def _both_grads(got, expected, case):
    """The pairs of ``_value_grads`` where both are arrays of one shape, as float64."""
    return [(np.asarray(g, dtype=np.float64), np.asarray(e, dtype=np.float64)) for g, e in _value_grads(
        got, expected, case) if g is not None and e is not None and np.shape(g) == np.shape(e)]


def _off_by_rounding(got, expected, case):
    """Every number within 1e-5 of the right one (nan where it is nan), but not all of them exactly equal."""
    pairs = _value_grads(got, expected, case)
    return (all(compare_arrays(g, e, 1e-5, 0.0) is None for g, e in pairs)
            and not all(compare_arrays(g, e, 0.0, 0.0) is None for g, e in pairs))


driven(
    "06.clip_grad_value_", clip_grad_value_reference, _value_cases, VALUE.drive, compare=VALUE.compare,
    match=VALUE.judge, check_inputs=False, points=1, error_hints=[NO_GRAD],
    forbid=(library_clip_grad_value_, "torch.nn.utils.clip_grad_value_"),
    allow=("arithmetic", "clamp", "where", "max", "min"),
    mistakes=[
        GRAD_MADE_FLOAT64,
        VALUE.rebound(),
        recognised(lambda got, expected, case: is_tensor(case.args[0]) and VALUE.unchanged(got, case),
                   "here parameters is a single tensor, not a list (PyTorch accepts both): a loop over a tensor "
                   "walks its rows, which have no .grad, so nothing was clamped, however you clamp",
                   "when parameters is a Tensor, wrap it in a list first"),
        recognised(lambda got, expected, case: isinstance(case.args[0], Parameters) and VALUE.unchanged(got, case),
                   "here the parameters come as model.parameters(), a generator, which can be iterated only once: "
                   "a first pass over it (a loop, any(), list()) used it up, so your clamping loop found nothing",
                   "turn the parameters into a list once, at the start, and loop over that list"),
        # a nan of the gradients came out as a number (nan_to_num, np.fmin / np.fmax, Python's min and max)
        recognised(lambda got, expected, case: any((np.isnan(e) & ~np.isnan(g)).any()
                                                   for g, e in _value_grads(got, expected, case)),
                   "a nan in a gradient must stay nan after clipping, as it does in PyTorch: clamping a nan gives "
                   "nan, so the broken step shows (in the gradients, the weights and the loss) instead of training "
                   "going on with a made-up number. Yours turned the nan into a number",
                   "clamp with an operation that passes nan on (a tensor's clamp does; nan_to_num, np.fmin / "
                   "np.fmax and Python's min and max do not)"),
        VALUE.mistake(_clamped(where=lambda grad, clip_value: np.abs(grad.numpy()).max() > clip_value),
                      "the gradient that holds a nan was not clamped at all: a test such as abs().max() > clip_value "
                      "is False when the largest element is nan (every ordering comparison with nan is False), so "
                      "its other elements kept their size. Clamping needs no test first: an element within the "
                      "bounds stays as it is anyway",
                      "clamp every gradient, with no test before it"),
        VALUE.mistake(_clamped(lambda clip_value: float(np.float32(clip_value))),  # tl.tensor(clip_value)
                      "this case's gradients are float64, and the elements you clamped became clip_value rounded to "
                      "float32 (0.3 became 0.30000001192...): your bound went through float32, e.g. a float32 tensor "
                      "such as tl.tensor(clip_value) made with the default float32. Clamping does no arithmetic: an "
                      "element beyond the bound becomes clip_value itself, in the gradient's dtype",
                      "pass clip_value to the clamp as a Python number, or make the bound with the gradient's dtype "
                      "(tl.full_like(g, clip_value))"),
        VALUE.mistake(_clamped_through_float32,
                      "this case's gradients are float64, and every element of yours carries float32's rounding, "
                      "also those within the bounds, which clipping leaves exactly as they are: your gradient went "
                      "through float32 on the way (a .float(), or a float32 copy clipped and written back), which "
                      "keeps about 7 significant digits where float64 keeps about 16. Clamping does no arithmetic: "
                      "each element stays as it was or becomes clip_value itself, in the gradient's own dtype",
                      "clamp p.grad itself, in place, with no .float() and no float32 copy on the way"),
        recognised(_off_by_rounding,
                   "clamping does no arithmetic: an element beyond the bounds becomes +clip_value or -clip_value "
                   "(in its dtype), and every other element stays exactly as it was, so the result equals "
                   "PyTorch's to the bit. Yours is off by a rounding error (bounds moved by a tiny amount, or "
                   "arithmetic on the elements)",
                   "clamp to the bounds -clip_value and clip_value themselves, with no arithmetic on the elements"),
        VALUE.mistake(_clamped(where=lambda grad, clip_value: grad.numpy().max() > clip_value),
                      "a gradient whose only large elements are negative was not clamped at all: a test such as "
                      "g.max() > clip_value, or (g > clip_value).any(), looks at the positive side only. Clamping "
                      "needs no test first: an element within the bounds stays as it is anyway",
                      "clamp every gradient, with no test before it"),
        VALUE.mistake(lambda parameters, clip_value: [p.grad.clamp(-clip_value, clip_value)
                                                      for p in tensors_of(parameters) if p.grad is not None],
                      "every .grad is as it was after your function: the optimizer reads p.grad, so that is what "
                      "must change (clamped copies, or clamped weights, leave the gradients as they were, and so "
                      "does a test before the clamp that finds nothing to do: clamping needs no test)",
                      "clamp each p.grad itself, in place (a method ending in _), with no test before it"),
        VALUE.mistake(_elementwise(np.minimum),
                      "you capped only the large positive elements; large negative ones must be clipped too, to "
                      "-clip_value: the interval is [-clip_value, clip_value]",
                      "give the clamp both bounds"),
        VALUE.mistake(_elementwise(lambda g, clip_value: np.maximum(g, -clip_value)),
                      "you raised only the large negative elements to -clip_value; large positive ones must be "
                      "clipped too, to +clip_value: the interval is [-clip_value, clip_value]",
                      "give the clamp both bounds"),
        VALUE.mistake(_elementwise(lambda g, clip_value: np.minimum(np.maximum(g, clip_value), -clip_value)),
                      "every element of your gradients became -clip_value (a nan stays nan), as when the two bounds "
                      "are swapped (clamp takes the lower bound first, and when min > max every element ends at max), "
                      "both are -clip_value, or a where() puts the bound where the element should stay",
                      "clamp(-clip_value, clip_value) (or by name, min= and max=) moves only the elements beyond "
                      "the bounds"),
        VALUE.mistake(_elementwise(lambda g, clip_value: np.minimum(np.maximum(g, clip_value), clip_value)),
                      "every element of your gradients became +clip_value (a nan stays nan), as when both bounds are "
                      "+clip_value, or a where() puts the bound where the element should stay. The lower bound is "
                      "-clip_value, and the elements within the bounds stay as they are",
                      "clamp(-clip_value, clip_value)"),
        VALUE.mistake(_elementwise(lambda g, clip_value: np.where(np.abs(g) > clip_value, clip_value, g)),
                      "the large negative elements became +clip_value: they lost their sign. An element below "
                      "-clip_value becomes -clip_value",
                      "clamp(-clip_value, clip_value) does both sides, each with its own sign"),
        VALUE.mistake(_elementwise(lambda g, clip_value: np.clip(g, 0.0, clip_value)),
                      "your lower bound is 0, so every negative element became 0: a gradient's negative elements "
                      "are as real as its positive ones. The interval is [-clip_value, clip_value]",
                      "give the clamp the bounds -clip_value and clip_value"),
        VALUE.mistake(_elementwise(np.maximum),
                      "your lower bound is +clip_value, so every element below it was raised to +clip_value, and "
                      "nothing was capped from above. The interval is [-clip_value, clip_value]",
                      "give the clamp both bounds: min=-clip_value and max=clip_value"),
        VALUE.mistake(_elementwise(lambda g, clip_value: np.clip(g, -1.0, 1.0)),
                      "your gradients are clamped to [-1, 1] whatever clip_value is: this case passes another "
                      "clip_value. Use the argument for both bounds",
                      "the bounds are -clip_value and +clip_value"),
        VALUE.mistake(_elementwise(lambda g, clip_value: np.where(np.abs(g) > clip_value, 0.0, g)),
                      "you set the elements beyond clip_value to 0; clipping moves them to the edge of the interval "
                      "(+clip_value or -clip_value) and keeps their sign",
                      "clamp to the interval instead of masking"),
        VALUE.mistake(_elementwise(lambda g, clip_value: np.minimum(np.abs(g), clip_value)),
                      "your clipped gradients lost their sign: clipping by value clamps each element into "
                      "[-clip_value, clip_value], so a negative element stays negative",
                      "clamp the elements themselves, not their absolute values"),
        VALUE.mistake(_by_norm,
                      "you rescaled the whole gradient (clipping by norm). clip_grad_value_ clamps each element on "
                      "its own: the small ones stay as they are",
                      "clamp every element to [-clip_value, clip_value]; no norm is involved"),
        # two slips of any spelling (a where with its values swapped, a stray minus, bounds of one sign)
        recognised(lambda got, expected, case: any((np.sign(g) * np.sign(e) < 0).any()
                                                   for g, e in _both_grads(got, expected, case)),
                   "some elements of your gradients changed sign: clipping keeps each element's sign and only "
                   "shrinks those beyond the bounds",
                   "an element above clip_value becomes clip_value, one below -clip_value becomes -clip_value, and "
                   "every other element stays as it is"),
        recognised(lambda got, expected, case: any(((np.abs(e) < case.args[1]) & (g != e)).any()
                                                   for g, e in _both_grads(got, expected, case)),
                   "an element that was within [-clip_value, clip_value] changed: clipping leaves those exactly as "
                   "they are, and moves only the elements beyond the bounds",
                   "clamp each element on its own, clamp(-clip_value, clip_value): one within the bounds stays as it "
                   "is, whatever the others are"),
    ])


# -------------------------------------------------------------------- 06.first_bad_step
def _is_bad(row, limit):
    return not math.isfinite(row["norm"]) or row["norm"] > limit


def first_bad_step_reference(history, limit=1e3):
    """The first step t whose table history[t] has a gradient norm that is not finite or above ``limit``, and the
    name of the first such parameter in that table: (t, name); (None, None) when no step is bad."""
    for step, table in enumerate(history):
        for row in table:
            if _is_bad(row, limit):
                return step, row["name"]
    return None, None


def _named_by_the_first_row(history, limit=1e3):
    """A wrong first_bad_step: the right step, with the name of that step's FIRST row."""
    step, _ = first_bad_step_reference(history, limit)
    return (None, None) if step is None else (step, history[step][0]["name"])


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


def _edited(norms, *edits):
    """``norms`` with ``norms[index] = value`` for each ``(index, value)`` of ``edits``, in order."""
    for index, value in edits:
        norms[index] = value
    return norms


@functools.lru_cache(maxsize=1)
def _recorded_run():
    """The grad_stats tables of the notebook's diverging run (section 2): full-batch SGD at lr 0.17 on the noisy
    sine over [-3 pi, 3 pi] with the lesson's model (1 -> 32 -> 32 -> 1, tanh, weights drawn after manual_seed(0)),
    its first 40 steps. The first bad step is 10, at 0.weight, on every machine; the step at which the loss turns
    nan (in the 30s) depends on the low-order bits of the machine's BLAS."""
    x, y = noisy_sine(200, x_range=(-3 * math.pi, 3 * math.pi), seed=0)
    manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
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
    s_ = np.s_
    sudden_nan = _edited(_healthy(rng, 10, scales), (s_[6:], np.nan))  # a log(0) at step 6: all nan at once
    inf_first = _edited(_healthy(rng, 9, scales), ((4, 2), np.inf), (s_[5:], np.nan))  # an overflow in one layer
    vanishing = _edited(_healthy(rng, 15, [1e-9, 1e-10, 1e-6, 1e-7, 0.5, 0.1]), ((12, 4), 4e3))
    dead = _edited(np.zeros((15, 6)), (s_[:, 2:4], 0.7))  # most units dead in layer 2: flagged, not a divergence
    grows = _healthy(rng, 10, scales, 0.05) * (2.0 ** np.arange(10))[:, None]  # 2.weight passes 10 at step 3
    big_limit = _healthy(rng, 12, scales, 0.05) * (6.0 ** np.arange(12))[:, None]
    two_bad = _edited(_healthy(rng, 8, scales, 0.05), ((5, 0), 5e3), ((5, 4), np.inf), (s_[6:], np.nan))
    from_start = _edited(_healthy(rng, 6, scales), (s_[:, 3], np.nan))  # nan in the data: bad from step 0
    long_run = _edited(_healthy(rng, 200, [0.5, 0.1, 0.8, 0.2], 0.4), (s_[150:, 2], 10.0 ** np.linspace(3.1, 6, 50)))
    four = [("0.weight", (32, 64)), ("0.bias", (32,)), ("2.weight", (10, 32)), ("2.bias", (10,))]
    spread = _edited(_healthy(rng, 8, [200.0, 20.0, 150.0, 10.0], 0.05), ((4, 2), 1.5e3))
    at_limit = _edited(_healthy(rng, 9, scales), ((3, 2), 1e3), (s_[6:, 3:], np.nan))
    at_limit_10 = _edited(_healthy(rng, 7, scales, 0.05), ((1, 0), 10.0), ((1, 4), 10.0), ((4, 5), np.inf))
    last_only = _edited(_healthy(rng, 12, scales), ((11, 5), np.inf))  # the last row of the last table
    inf_at_start = _edited(_healthy(rng, 5, scales), ((0, 5), np.inf))
    return [
        Case((copy.deepcopy(_recorded_run()),), "the notebook's run at lr 0.17", visible=True),
        Case((make_run(rng, vanishing),), "tiny (flagged) gradients in the first layer, which are not bad; "
             "4.weight passes the limit at step 12"),
        Case((make_run(rng, sudden_nan),), "every gradient turns nan at once at step 6, with no warning"),
        Case((make_run(rng, _edited(_healthy(rng, 8, scales), ((5, 2), np.nan), (s_[6:], np.nan))),),
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
        Case((make_run(rng, _edited(_healthy(rng, 6, scales), ((0, 2), 3e3), (s_[2:], np.nan))),),
             "a finite norm above the limit at the very first step (nothing came before it)"),
        Case((make_run(rng, _edited(_healthy(rng, 7, scales), ((4, 0), np.nan), ((4, 2), 5e3), (s_[5:], np.nan))),),
             "at the first bad step a nan comes earlier in the table than a finite norm above the limit"),
        Case((make_run(rng, _edited(_healthy(rng, 7, scales, 0.05) * np.r_[np.ones(4), 10.0 ** np.arange(3)][:, None],
                                    ((6, 2), 5e3))),),
             "norms that grow step by step and pass the limit at the last step only (finite)"),
        Case((make_run(rng, _edited(_healthy(rng, 8, scales), ((3, 0), 5e4), ((4, 2), np.inf), (s_[6:], np.nan))),
              math.inf),
             "limit = inf (only nan and inf are bad): a finite 5e4 at step 3 is not bad, an inf at step 4 is; "
             "nan from step 6", {}),
        Case((make_run(rng, _edited(_healthy(rng, 8, scales), ((5, 1), 1e20), (s_[6:], np.nan))),),
             "a norm that jumps to 1e20 in one step: huge, but finite (a finite norm above the limit is exploding, "
             "however large); nan after it"),
    ]


def _reading(fn, args, kwargs):
    """Run ``fn`` (a first_bad_step or a diagnose) on the case's history: (history, what it returned, the problem
    when it changed history, else None). The rows are compared as tuples (the same float objects compare equal, nan
    included: Python compares the items of a tuple by identity first)."""
    history = args[0] if args else kwargs["history"]

    def rows():
        return [[tuple(row.items()) for row in table] for table in history]
    before = rows()
    returned = fn(*args, **kwargs)
    if rows() != before:
        return history, returned, ("your function changed history (a row, a table or the list itself): it only "
                                   "reads the recorded statistics. Whoever calls it still needs them as they were")
    return history, returned, None


def _form_problem(returned, history):
    if returned is None:
        return "your function returned None: return a pair, (step, name), and (None, None) when every step is healthy"
    if isinstance(returned, dict) or not isinstance(returned, (tuple, list)) or len(returned) != 2:
        return f"you returned {an(type_name(returned))}; a pair (step, name) was expected, e.g. return t, name"
    if not isinstance(returned, tuple):
        return (f"you returned {an(type_name(returned))} of two items; the pair is a tuple, (step, name), as the "
                "text asks (return t, name makes one)")
    step, name = returned
    if isinstance(name, dict):
        return "the second item of your pair is a whole row of the table (a dict); return the parameter's name"
    if name is not None and not isinstance(name, str):
        return (f"the second item of your pair is {an(type_name(name))}; the parameter's name (a str such as "
                "'0.weight') was expected")
    if step is not None and not (isinstance(step, (int, np.integer)) and not isinstance(step, bool)):
        return f"the step is {an(type_name(step))}; an int (the index into history) was expected"
    if (step is None) != (name is None):
        return "return (None, None) for a healthy run, and a step and a name together otherwise"
    if step is not None and not 0 <= step < len(history):
        return f"step {step} is not a step of this run: history has steps 0 to {len(history) - 1}"
    if name is not None and name not in [row["name"] for row in history[step]]:
        return f"{name!r} is not the name of a parameter in this run's table"
    return None


def after_bad_step(fn, args, kwargs):
    """Run the learner's first_bad_step, whose answer is a pair (step, name); a Run of (step, index of the name in
    the table, step on a cut history), -1 standing for None, with a problem for an answer of the wrong form.

    The third number tells a count that starts at 1 from another mistake that also lands one step late: when the
    step returned is one after the first bad step, the function runs again on the history cut just before that
    step. A count from 1 still finds the bad step there and again answers one late; a test of the wrong column,
    say, finds nothing. Otherwise (every right answer) the third number is -1."""
    history, returned, problem = _reading(fn, args, kwargs)
    problem = problem or _form_problem(returned, history)
    if problem:
        return Run.of([np.nan, np.nan, np.nan], problem)
    step, name = returned
    if step is None:
        return Run.of([-1, -1, -1])
    index = [row["name"] for row in history[step]].index(name)
    return Run.of([step, index, _step_on_cut(fn, history, step, args, kwargs)])


def _step_on_cut(fn, history, step, args, kwargs):
    """fn's step on history[:step] when ``step`` is one after the first bad step (-1: None or not asked; -2: not
    a step)."""
    rest = {k: v for k, v in kwargs.items() if k != "history"}
    first, _ = first_bad_step_reference(copy.deepcopy(history), *args[1:], **rest)
    if first is None or step != first + 1:
        return -1
    try:
        with np.errstate(all="ignore"):
            again = fn(copy.deepcopy(history[:step]), *args[1:], **rest)[0]
    except Exception:  # noqa: BLE001  (the learner's code on a shorter history: any failure just means "not late")
        return -2
    if again is None:
        return -1
    return int(again) if isinstance(again, (int, np.integer)) and not isinstance(again, bool) else -2


def _described(describe):
    """A compare that says "expected ...; your function gave ..." with ``describe(numbers, case)`` of each Run."""
    def compare(got, expected, case):
        if np.array_equal(got, expected):
            return None
        return f"expected {describe(expected, case)}; your function gave {describe(got, case)}"
    return compare


def _step_and_name(numbers, case):
    step, index = (int(v) for v in numbers[:2])
    return "(None, None): no bad step" if step < 0 else f"step {step}, {case.args[0][step][index]['name']!r}"


def _any_of(wrongs, hint, more=(), call=None):
    """A mistake row recognised when the learner's answer is that of any of the wrong functions ``wrongs`` (each run
    through ``call``, by default first_bad_step's)."""
    def match(got, expected, case):
        answers = [(call or after_bad_step)(w, *copy.deepcopy((case.args, case.kwargs))) for w in wrongs]
        return any(compare_arrays(got, np.asarray(a), 0.0, 0.0) is None
                   and compare_arrays(np.asarray(a), expected, 0.0, 0.0) is not None for a in answers)
    return recognised(match, hint, more)


# wrong first_bad_steps
def _first_where(test, rows=lambda table: table):
    """A first_bad_step whose test of a row is ``test(row, limit)``, over the rows ``rows(table)`` of each table."""
    def first_bad_step(history, limit=1e3):
        for step, table in enumerate(history):
            for row in rows(table):
                if test(row, limit):
                    return step, row["name"]
        return None, None
    return first_bad_step


def _moved(cut, step_of):
    """A first_bad_step that searches ``cut(history)`` and answers (``step_of(history, step)``, name)."""
    def first_bad_step(history, limit=1e3):
        step, name = first_bad_step_reference(cut(history), limit)
        return (None, None) if step is None else (step_of(history, step), name)
    return first_bad_step


def _parameters_outside(history, limit=1e3):
    """The loops the wrong way round: for each parameter, its first bad step; returns the first parameter's."""
    for j in range(len(history[0]) if history else 0):
        for step, table in enumerate(history):
            if _is_bad(table[j], limit):
                return step, table[j]["name"]
    return None, None


_last_bad = _moved(lambda history: history[::-1], lambda history, step: len(history) - 1 - step)


driven(
    "06.first_bad_step", first_bad_step_reference, _runs, after_bad_step, compare=_described(_step_and_name),
    match=EXACT, points=2,
    mistakes=[
        mistake(lambda history, limit=1e3: first_bad_step_reference(history),
                "your answer is what limit = 1e3 gives, but this case passes another limit: use the argument "
                "`limit` itself, not a fixed number",
                "compare each norm with the limit your function receives"),
        mistake(_first_where(lambda row, limit: math.isnan(row["norm"]) or row["norm"] > limit),
                "an inf gradient slipped through: with limit = inf no norm is above the limit, inf included (inf > "
                "limit is False, and so is not inf <= limit), so a test that compares with limit and catches only nan "
                "besides never sees it. inf is not finite, and a norm that is not finite is bad whatever the limit",
                "test for 'not finite' (math.isfinite catches nan and inf), besides the comparison with limit"),
        _any_of((_moved(lambda history: history[1:], lambda history, step: step + 1),
                 _moved(lambda history: history[:-1], lambda history, step: step),
                 _moved(lambda history: history[1:-1], lambda history, step: step + 1)),
                "your loop leaves out a step of history: here the first bad step is the "
                "first (or the last) one, and your function never looked at it",
                "loop over every index of history, from 0 to len(history) - 1 (enumerate gives them all)"),
        mistake(_parameters_outside,
                "your loops go the wrong way round: for the first parameter you found its first bad step, but an "
                "earlier step may be bad in another parameter. The first bad step is the earliest over ALL parameters",
                "loop over the steps outside and over the rows of each step's table inside"),
        _any_of((_first_where(_is_bad, lambda table: [row for row in table if row["name"].endswith("weight")]),
                 _first_where(_is_bad, lambda table: table[:1])),
                "you left some rows of the table out (the biases? every row but the first?): every row is a "
                "parameter whose gradient can go bad, and here the first bad one is a row you did not test",
                "loop over every row of each step's table and test each one"),
        # (a finite norm above limit looked for first, nan/inf only after: the finite rows first, in a stable sort)
        mistake(_first_where(_is_bad, lambda table: sorted(table, key=lambda row: not math.isfinite(row["norm"]))),
                "at this step a nan (or inf) comes earlier in the table than a finite norm above limit, and your "
                "answer is the later row: you looked for a large norm first and for nan/inf only after. The "
                "first bad parameter is the first row, in the table's order, that is either",
                "test each row, in order, for 'not finite' (nan or inf) OR above limit, in one test, and stop "
                "at the first row that is either"),
        mistake(_first_where(lambda row, limit: row["norm"] > limit),
                "a nan gradient slipped through: every comparison with nan is False (nan > limit too), so a "
                "run that turns nan at once never looks large",
                "test for 'not finite' explicitly (math.isfinite, or np.isfinite), besides the comparison with limit"),
        _any_of((_first_where(lambda row, limit: not math.isfinite(row["norm"])),
                 _first_where(lambda row, limit: math.isnan(row["norm"]))),
                "your answer is the first nan or inf, but a finite norm above limit comes before it (at an "
                "earlier step, or earlier in the same step's table). A finite norm above limit is bad too: it is "
                "the warning that comes several steps before the nan, when the run can still be saved",
                "test each row, in order, for 'not finite' (nan or inf) OR above limit, and stop at the first "
                "row that is either"),
        mistake(_named_by_the_first_row,
                "your step is right, but the name is that of the step's first row, not of its first BAD row: "
                "return the name of the row whose norm made the step bad",
                "keep the row you found bad, and return its name with the step"),
        mistake(_first_where(lambda row, limit: bool(row["flag"])),
                "the flag column marks anything unusual, including tiny gradients and dead units, and uses its own "
                "fixed threshold (1e3): it is a hint for reading the table, not the test this exercise asks for",
                "test the norm column: not finite, or above limit"),
        mistake(_first_where(lambda row, limit: not math.isfinite(row["max_abs"]) or row["max_abs"] > limit),
                "you tested the largest element, max|g|; the test is on the norm, which is larger when the "
                "gradient is spread over many elements",
                "use the norm column of each row"),
        # (the largest norm first, nan and inf as the largest: a stable sort)
        mistake(_first_where(_is_bad, lambda table: sorted(
                    table, key=lambda row: -row["norm"] if math.isfinite(row["norm"]) else -math.inf)),
                "the step is right; at that step several parameters are bad, and the exercise asks for the "
                "first of them in the table's order (the parameter nearest the input), not the largest",
                "return the name of the first bad row you meet at that step"),
        mistake(_first_where(lambda row, limit: not math.isfinite(row["norm"]) or row["norm"] >= limit),
                "a norm exactly equal to limit is not bad: the test is 'above limit', strictly greater, so a "
                "norm at the limit itself still counts as healthy",
                "compare the norm with limit using a strict comparison"),
        recognised(lambda got, expected, case: not case.visible and np.array_equal(got[:2], [10, 0])
                   and not np.array_equal(expected[:2], [10, 0]),
                   "your function gives the example's answer, (10, '0.weight'), for another run: the answer "
                   "must come from the history it receives",
                   "loop over the history argument, step by step, and test each row"),
        mistake(_moved(lambda history: history, lambda history, step: step + 1),
                "your step is one after the first bad step, with the right parameter: steps count "
                "from 0, as the positions in history do (a count that starts at 1 gives this)",
                "use the index of the table in history as the step"),
        mistake(_last_bad, "you returned the LAST bad step; the exercise asks for the first (stop at the first "
                           "bad step you find)",
                "return as soon as you find a bad row"),
    ])


# -------------------------------------------------------------------- 06.diagnose
KINDS = ("healthy", "exploding", "sudden")


def _norm_at(history, step, name):
    return next(row["norm"] for row in history[step] if row["name"] == name)


def diagnose_reference(history, limit=1e3):
    """What went wrong in a run, judged at its first bad step (first_bad_step): "healthy" when no step is bad,
    "exploding" when the first bad norm is finite (above ``limit``: the norms grew until they passed it), "sudden"
    when it is nan or inf (non-finite at once, with no growth before it)."""
    step, name = first_bad_step_reference(history, limit)
    if step is None:
        return "healthy"
    return "exploding" if math.isfinite(_norm_at(history, step, name)) else "sudden"


def _diagnose_runs(rng):
    """first_bad_step's runs, an "exploding" one trivial (one label of three)."""
    cases = _runs(rng)
    for case in cases:
        if not case.visible and not case.trivial and diagnose_reference(*case.args, **case.kwargs) == "exploding":
            case.trivial = ("a classification: its answer is one of three labels, 'exploding' here, which a "
                            "function that always gives that label gives too")
    return cases


def _own_first_bad_step(fn, args, kwargs):
    """The problem when ``fn`` (a diagnose) calls the learner's own first_bad_step and that is wrong on this run."""
    own = getattr(fn, "__globals__", {}).get("first_bad_step")
    if not callable(own) or "first_bad_step" not in getattr(getattr(fn, "__code__", None), "co_names", ()):
        return None
    right = first_bad_step_reference(*args, **kwargs)
    try:
        found = own(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        if tuple(found) == right:
            return None
    except Exception:  # noqa: BLE001  (one that raises: its own check names the error)
        return None
    return (f"your diagnose calls your first_bad_step, which gives {found!r} on this run where the first bad step "
            f"is {right!r}: make 06.first_bad_step pass its own check first, then check diagnose again")


def after_diagnose(fn, args, kwargs):
    """Run the learner's diagnose; a Run of the index of its answer in KINDS (failed when it is wrong because the
    learner's own first_bad_step, which it calls, is)."""
    _, returned, problem = _reading(fn, args, kwargs)
    if problem is None and (not isinstance(returned, str) or returned not in KINDS):
        problem = f"your function returned {returned!r}; one of the strings {', '.join(map(repr, KINDS))} was expected"
    if problem is None and returned != diagnose_reference(*args, **kwargs):
        problem = _own_first_bad_step(fn, args, kwargs)
    return Run.failed(problem) if problem else Run.of([KINDS.index(returned)])


# wrong diagnoses
def _diagnosed(sudden, step_of=first_bad_step_reference):
    """A diagnose of the (step, name) that ``step_of(history, limit)`` finds: "sudden" where ``sudden(history, step,
    name)``, else "exploding"."""
    def diagnose(history, limit=1e3):
        step, name = step_of(history, limit)
        if step is None:
            return "healthy"
        return "sudden" if sudden(history, step, name) else "exploding"
    return diagnose


def _not_finite_at(history, step, name):
    return not math.isfinite(_norm_at(history, step, name))


def _sudden_at_an_end(got, expected, case):
    """diagnose said "sudden" where the answer is "exploding", at a first bad step that is the run's first or
    last."""
    if not (np.isfinite(got).all() and KINDS[int(got[0])] == "sudden" and KINDS[int(expected[0])] == "exploding"):
        return False
    history = case.args[0]
    step, _ = first_bad_step_reference(history, *case.args[1:], **case.kwargs)
    return step in (0, len(history) - 1)


def _first_row_or_extreme(got, expected, case):
    """diagnose gave the kind of the first row's norm at the first bad step, which is also that of Python's max or
    min over the step's norms (a nan after the first row is skipped: every comparison with nan is False)."""
    def like(sudden):
        answer = np.asarray(after_diagnose(_diagnosed(sudden), *copy.deepcopy((case.args, case.kwargs))))
        return compare_arrays(got, answer, 0.0, 0.0) is None and compare_arrays(answer, expected, 0.0, 0.0) is not None

    def extreme(pick):
        return lambda history, step, name: not math.isfinite(pick(row["norm"] for row in history[step]))
    return (like(lambda history, step, name: not math.isfinite(history[step][0]["norm"]))
            and (like(extreme(max)) or like(extreme(min))))


def _healthy_for_a_bad_run(got, expected, case):
    """diagnose said "healthy" (index 0) where the run has a bad step."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return bool(np.isfinite(got).all() and got[0] == 0 and expected[0] != 0)


driven(
    "06.diagnose", diagnose_reference, _diagnose_runs, after_diagnose, match=EXACT, points=1,
    compare=_described(lambda numbers, case: repr(KINDS[int(numbers[0])])),
    mistakes=[
        mistake(lambda history, limit=1e3: diagnose_reference(history),
                "your answer is what limit = 1e3 gives, but this case passes another limit: pass `limit` on",
                "give first_bad_step the limit your function receives"),
        mistake(_diagnosed(_not_finite_at, _first_where(lambda row, limit: not math.isfinite(row["norm"])
                                                        or row["norm"] >= limit)),
                "a norm exactly equal to limit is not bad: the test is 'above limit', strictly greater. Here a "
                "norm at the limit made your first bad step come too early, at a step that is still healthy",
                "let first_bad_step decide which step is bad, and judge the norm it points to"),
        recognised(_sudden_at_an_end,
                   "a finite norm above the limit at the first bad step is 'exploding' wherever that step is, "
                   "the first step of the run or the last: the kind is read from that one norm (finite or "
                   "not), not from the steps around it",
                   "call first_bad_step, read the norm of that step's bad row, and test only whether it is finite"),
        mistake(_diagnosed(lambda history, step, name: math.isnan(_norm_at(history, step, name))),
                "an inf at the first bad step is as sudden as a nan: a norm that overflows to inf in one step did "
                "not grow past the limit step by step. 'sudden' means not finite: nan or inf",
                "test whether that norm is finite (math.isfinite): nan and inf alike are sudden; a test for nan "
                "alone, or a comparison of the norm with the limit, puts inf on the exploding side"),
        # (the first row's norm and a max() or min() of the step's norms give the same kind wherever one of them
        # shows first: the row names both)
        recognised(_first_row_or_extreme,
                   "you judged another row's norm (the first or last row of the bad step's table), or the max() (or "
                   "min()) of its norms, which give the same kind here: Python's max and min compare a nan as False, "
                   "so a nan after the first row slips by. The kind is read from the row first_bad_step names, which "
                   "here is another parameter",
                   "take the name first_bad_step returns and read the norm of the row with that name (no max or "
                   "min over the rows)"),
        mistake(_diagnosed(lambda history, step, name: not all(math.isfinite(row["norm"]) for row in history[step])),
                "the kind is read from one norm, that of the row first_bad_step names at the step it returns; your "
                "code read others (the whole table of that step, or a later step): here that row's norm is finite "
                "and above the limit, and another parameter of the same step is inf or nan",
                "take the step and the name first_bad_step returns and read that row's norm"),
        _any_of((_diagnosed(lambda history, step, name: not _not_finite_at(history, step, name)),  # swapped
                 # "sudden" whenever the run has a non-finite norm anywhere
                 _diagnosed(lambda history, step, name: not all(math.isfinite(row["norm"]) for table in history
                                                                for row in table)),
                 _diagnosed(_not_finite_at, _last_bad)),
                "the kind is read at the FIRST bad step, from its bad row: a finite norm above the limit there "
                "means the norms grew until they passed it, exploding; a nan or inf there came at once, sudden. "
                "Check both which row your code reads (not the end of the run: almost every diverging run ends in "
                "nan, so 'some norm is not finite somewhere' says nothing about how it started) and which kind "
                "each outcome of its test gives",
                "call first_bad_step, read the norm of that step's bad row, and test whether it is finite: finite "
                "is exploding", call=after_diagnose),
        recognised(lambda got, expected, case: _healthy_for_a_bad_run(got, expected, case)
                   and first_bad_step_reference(*case.args, **case.kwargs)[0] == 0,
                   "your diagnose said 'healthy' for a run whose first bad step is step 0. 0 is a step like any other, "
                   "but it is falsy: a test such as `if not step` treats it as 'no bad step'. Only None means that",
                   "test whether the step is None"),
        recognised(_healthy_for_a_bad_run,
                   "your diagnose found no bad step in a run that has one: the step it judges is the one "
                   "first_bad_step finds, so if it calls your first_bad_step, make that pass its own check first",
                   "a step is bad when some norm is not finite (nan or inf) or above limit"),
    ])
