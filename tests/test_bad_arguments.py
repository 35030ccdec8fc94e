"""Random bad arguments to every public function: the library's own clear error, or a result, never a raw one.

The rule, checked for every call below. Calling a public function with arguments drawn from a pool of good and
bad values (wrong types, None, negative, float, nan and beyond-int64 sizes, strings, ragged and mixed nested lists,
out-of-range dims, empty tensors and tensors of the wrong shape or dtype) either

- returns (a bad-looking value may be valid: ``sum(dim=-1)``), or
- raises an exception that
  1. is a ``TypeError``, ``ValueError``, ``IndexError``, ``KeyError`` or ``RuntimeError`` (subclasses included, such as
     ``NotImplementedError`` and ``SerializationError``): the standard types PyTorch raises, so that code catching
     PyTorch's errors catches ours; ``save`` and ``load`` may also raise an ``OSError`` such as FileNotFoundError
     (a missing file), as PyTorch's do;
  2. was raised by tinygrad_lite's own code: the innermost frame of its traceback is in the ``tinygrad_lite``
     package, so it is a ``raise`` we wrote, not numpy or Python failing inside us (numpy's ``AxisError`` is an
     IndexError and a ValueError, but an error that names numpy's axis, not our dim, is not the clear error we want);
  3. names in its message (case-insensitive) the function (its name, its class's name, an operator's op name such
     as "add" for ``x + "a"``, or the one op it hands its arguments to, see ALIASES), or the argument at fault by
     its parameter name (``dtype must be a tinygrad_lite dtype ...``).

Calls whose arguments do not fit the signature at all (too many, a required one missing) are not made: Python itself
reports those. Everything is derandomized (the profile in conftest.py), so the examples are the same on every run.
"""
import inspect
import math
import os
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from registry import OPTIMIZERS

import tinygrad_lite as tl
from tinygrad_lite import nn, optim
from tinygrad_lite.nn import functional as F
from tinygrad_lite.optim import lr_scheduler
from tinygrad_lite.utils import data

PACKAGE = os.path.dirname(tl.__file__)
ALLOWED = (TypeError, ValueError, IndexError, KeyError, RuntimeError)
FILE_FUNCTIONS = ("tinygrad_lite.save", "tinygrad_lite.load")
# where PyTorch itself raises another type, ours raises that type too (issue 21): TensorDataset's size check is an
# AssertionError in PyTorch ("Size mismatch between tensors")
PYTORCHS_TYPE = {"utils.data.TensorDataset": (AssertionError,),
                 "tinygrad_lite.compile": (AssertionError,)}  # ("A callable function is expected", as PyTorch's)
OPERATOR_NAMES = {"truediv": "div", "rtruediv": "div", "floordiv": "floor_divide", "rfloordiv": "floor_divide",
                  "mod": "remainder", "rmod": "remainder", "getitem": "index", "setitem": "setitem",
                  "radd": "add", "rsub": "sub", "rmul": "mul", "rpow": "pow", "rmatmul": "matmul",
                  "iadd": "add", "isub": "sub", "imul": "mul", "itruediv": "div", "and": "and", "or": "or",
                  "invert": "invert", "neg": "neg"}


def tensors():
    """Fresh tensors for each call: good ones and awkward ones (empty, int, bool, 0-d, float64, requiring grad)."""
    return [tl.ones(2, 3), tl.arange(6).reshape(2, 3), tl.zeros(0), tl.tensor(1.5), tl.ones(3, dtype=tl.float64),
            tl.tensor([True, False]), tl.randn(2, 3, requires_grad=True), tl.zeros(3, 0)]


BAD = [None, "abc", "", -1, 0, 1, 2, -5, 2.5, -0.5, math.nan, math.inf, 2**63, -(2**63) - 1, 10**30, True,
       (0, 0), (1, -1), [1, 2], [[1, 2], [3]], [1, "a"], [None], {}, {"a": 1}, (2.5,), [2**64], np.float64(2.5),
       np.array([1, 2])]


def pool():
    return BAD + tensors()


# A function that is another under a second name, or that hands its arguments straight to one op, may speak as
# that one: ``x.view(2.5)`` failing with "reshape(): argument 'size' must be an int" names what went wrong.
ALIASES = {"concat": "cat", "clip": "clamp", "clip_": "clamp", "clamp_": "clamp", "mm": "matmul", "bmm": "matmul",
           "view": "reshape", "std": "var", "empty": "zeros", "empty_like": "zeros_like", "new_empty": "new_zeros",
           "full_like": "full", "masked_fill": "where", "minimum": "maximum", "logsumexp": "amax", "fix": "trunc",
           "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal", "eq": "equal",
           "ne": "not_equal", "floor_divide": "floordivide", "rfloordiv": "floordivide", "clamp_max": "clamp",
           "clamp_min": "clamp", "inverse": "inv",
           # (aliases.py: PyTorch's second names, numpy's spellings)
           "negative": "neg", "subtract": "sub", "multiply": "mul", "greater": "gt", "greater_equal": "ge",
           "less": "lt", "less_equal": "le", "not_equal": "ne", "absolute": "abs"}


def names_for(name, owner=None):
    """The words a message may use to name the function: its name, its class, and an operator's op name."""
    bare = name.strip("_")
    words = {bare, bare.rstrip("_"), OPERATOR_NAMES.get(bare, bare), ALIASES.get(bare, bare)}
    words.add(ALIASES.get(OPERATOR_NAMES.get(bare, bare), bare))
    if owner is not None:
        words.add(owner)
    if bare.endswith("Tensor"):  # the legacy typed constructors (FloatTensor ...) speak as Tensor()
        words.add("tensor")
    return {w.lower() for w in words if w}


def raised_by_us(error):
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return bool(frames) and os.path.abspath(frames[-1]).startswith(PACKAGE + os.sep)


def check_call(function, args, kwargs, words, what):
    """Call, and apply the rule in the module docstring to whatever it raises."""
    try:
        signature = inspect.signature(function)
        signature.bind(*args, **kwargs)
    except (TypeError, ValueError):  # wrong arity, or a builtin without a signature: Python's own business
        return
    words = set(words) | {name.lower() for name in signature.parameters if len(name) > 2 and name not in ("args",
                                                                                                         "kwargs")}
    allowed = ALLOWED + (OSError,) if what in FILE_FUNCTIONS else ALLOWED
    allowed += PYTORCHS_TYPE.get(what, ())
    default_dtype, state, grad_mode = tl.get_default_dtype(), tl.get_rng_state(), tl.is_grad_enabled()
    default_device = tl.get_default_device() if hasattr(tl, "get_default_device") else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = function(*args, **kwargs)
            if isinstance(result, data.DataLoader):
                next(iter(result), None)  # a DataLoader checks its dataset when it is iterated
    except allowed as e:
        message = str(e).lower()
        assert raised_by_us(e), f"{what} raised a raw {type(e).__name__} from outside tinygrad_lite: {e}"
        assert any(word in message for word in words), f"{what} raised {type(e).__name__} not naming {words}: {e}"
    except Exception as e:
        raise AssertionError(f"{what} raised {type(e).__module__}.{type(e).__name__}: {e}") from e
    finally:
        tl.set_default_dtype(default_dtype)  # (the functions that set global state may have set it)
        tl.set_rng_state(state)
        tl.set_grad_enabled(grad_mode)
        if default_device is not None:
            tl.set_default_device(default_device)


def arguments(count):
    """Up to ``count`` positional arguments, each drawn from the pool by index (so each call gets fresh tensors)."""
    return st.lists(st.integers(0, len(BAD) + len(tensors()) - 1), max_size=count)


def keyword(draw):
    """Maybe one keyword-only argument too (``dtype=``, ``device=`` ...): (which of them, which pool value)."""
    return draw.draw(st.one_of(st.none(), st.tuples(st.integers(0, 9), st.integers(0, len(BAD) + len(tensors()) - 1))))


def call_with(function, indices, words, what, first=(), kw=None):
    values = pool()
    kwargs = {}
    if kw is not None:
        try:
            names = [p.name for p in inspect.signature(function).parameters.values()
                     if p.kind is inspect.Parameter.KEYWORD_ONLY and not p.name.startswith("_")]
        except (TypeError, ValueError):
            names = []
        if names:
            kwargs[names[kw[0] % len(names)]] = values[kw[1]]
    check_call(function, (*first, *(values[i] for i in indices)), kwargs, words, what)


def positional_count(function):
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 3
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    count = sum(p.kind in kinds for p in parameters)
    return count + 2 if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters) else count


FAST = settings(max_examples=20, derandomize=True, deadline=None,
                phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking: stays fast
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -------------------------------------------------------------------- the top-level namespace
SKIP_TOP = {"set_printoptions",
            "dtype", "Size"}  # types that users receive, never build (torch.Size(5) is a bare TypeError too)
TOP = sorted(name for name, value in vars(tl).items()
             if not name.startswith("_") and callable(value) and not inspect.ismodule(value)
             and not isinstance(value, tl.dtype) and name not in SKIP_TOP)


@pytest.fixture(autouse=True, scope="module")
def _scratch_folder():
    """save() and friends may write files named by a string from the pool: keep them in a scratch folder."""
    before = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        yield
        os.chdir(before)


@pytest.mark.parametrize("name", TOP)
@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@FAST
@given(indices=st.data())
def test_top_level_functions(name, indices):
    function = getattr(tl, name)
    chosen = indices.draw(arguments(positional_count(function)))
    call_with(function, chosen, names_for(name), f"tinygrad_lite.{name}", kw=keyword(indices))


# -------------------------------------------------------------------- linalg
@pytest.mark.parametrize("name", sorted(set(tl.linalg.__all__) - {"LinAlgError"}))
@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@FAST
@given(indices=st.data())
def test_linalg_functions(name, indices):
    function = getattr(tl.linalg, name)
    chosen = indices.draw(arguments(positional_count(function)))
    call_with(function, chosen, names_for(name), f"tinygrad_lite.linalg.{name}", kw=keyword(indices))


# -------------------------------------------------------------------- Tensor methods and operators
SKIP_METHODS = {"register_hook"}
METHODS = sorted(name for name, value in vars(tl.Tensor).items()
                 if callable(value) and (not name.startswith("_") or name.strip("_") in OPERATOR_NAMES
                                         or name in ("__add__", "__sub__", "__mul__", "__pow__", "__matmul__",
                                                     "__lt__", "__eq__", "__getitem__"))
                 and name not in SKIP_METHODS)


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@FAST
@given(draw=st.data())
def test_tensor_methods(name, draw):
    which = draw.draw(st.integers(0, len(tensors()) - 1))
    target = tensors()[which]
    chosen = draw.draw(arguments(max(positional_count(getattr(tl.Tensor, name)) - 1, 0)))
    call_with(getattr(target, name), chosen, names_for(name, "tensor"), f"Tensor.{name}", kw=keyword(draw))


# -------------------------------------------------------------------- nn.functional and the layers
FUNCTIONAL = sorted(name for name, value in vars(F).items()
                    if not name.startswith("_") and inspect.isfunction(value) and value.__module__.startswith(
                        "tinygrad_lite.nn.functional"))  # (not the helpers it imports, such as rng)


@pytest.mark.parametrize("name", FUNCTIONAL)
@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@FAST
@given(draw=st.data())
def test_functional(name, draw):
    function = getattr(F, name)
    chosen = draw.draw(arguments(positional_count(function)))
    call_with(function, chosen, names_for(name), f"F.{name}", kw=keyword(draw))


LAYERS = sorted(name for name in nn.modules.__all__ if name != "Module")


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@FAST
@given(draw=st.data())
def test_layer_constructors(name, draw):
    layer = getattr(nn, name)
    chosen = draw.draw(arguments(positional_count(layer.__init__) - 1))
    call_with(layer, chosen, names_for(name), f"nn.{name}", kw=keyword(draw))


# -------------------------------------------------------------------- optimizers, schedules, data
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@FAST
@given(draw=st.data(), good_params=st.booleans())
def test_optimizer_constructors(name, draw, good_params):
    optimizer = getattr(optim, name)
    chosen = draw.draw(arguments(positional_count(optimizer.__init__) - 1 - good_params))
    first = ([nn.Parameter(tl.ones(2))],) if good_params else ()
    call_with(optimizer, chosen, names_for(name), f"optim.{name}", first=first, kw=keyword(draw))


SCHEDULERS = sorted(name for name, value in vars(lr_scheduler).items()
                    if inspect.isclass(value) and issubclass(value, lr_scheduler.LRScheduler)
                    and value is not lr_scheduler.LRScheduler)


@pytest.mark.parametrize("name", SCHEDULERS)
@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@FAST
@given(draw=st.data())
def test_scheduler_constructors(name, draw):
    scheduler = getattr(lr_scheduler, name)
    chosen = draw.draw(arguments(positional_count(scheduler.__init__) - 2))
    first = (optim.SGD([nn.Parameter(tl.ones(2))], lr=0.1),)
    call_with(scheduler, chosen, names_for(name), f"lr_scheduler.{name}", first=first)


DATA = sorted(name for name in data.__all__ if name not in ("Dataset", "Sampler", "get_worker_info"))  # (no args)


@pytest.mark.parametrize("name", DATA)
@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@FAST
@given(draw=st.data(), good_dataset=st.booleans())
def test_data_utilities(name, draw, good_dataset):
    function = getattr(data, name)
    init = function.__init__ if inspect.isclass(function) else function
    first = (data.TensorDataset(tl.ones(4, 2), tl.arange(4)),) if good_dataset else ()
    chosen = draw.draw(arguments(positional_count(init) - inspect.isclass(function) - good_dataset))
    call_with(function, chosen, names_for(name), f"utils.data.{name}", first=first)


# -------------------------------------------------------------------- the rule itself
def test_the_rule_accepts_a_clear_error_and_rejects_raw_or_unnamed_ones():
    check_call(tl.zeros, (-1,), {}, names_for("zeros"), "zeros")  # our RuntimeError naming zeros: fine
    with pytest.raises(AssertionError, match="raw ValueError"):  # numpy's own error
        check_call(lambda size: np.zeros(size), (-1,), {}, {"zeros"}, "np.zeros")
    with pytest.raises(AssertionError, match="not naming"):
        check_call(tl.ones(3).item, (), {}, {"other_name"}, "Tensor.item")
    with pytest.raises(AssertionError, match="AttributeError"):  # a type PyTorch's code would not raise here
        check_call(lambda x: x.shape, (3,), {}, {"shape"}, "shape")
    with pytest.raises(AssertionError, match="FileNotFoundError"):  # only save and load may raise OSError
        check_call(lambda path: open(path), ("/no/such/file",), {}, {"open"}, "open")
