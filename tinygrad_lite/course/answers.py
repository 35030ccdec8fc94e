"""What an exercise's answer must be, besides its numbers: the answer kinds a check refuses to be fooled about.

An ``Exercise`` declares ``answer=`` one of these; the check calls ``refuse(got, expected)`` on the learner's raw
result (before any conversion) and fails with the text it returns, which says what was returned and why that
matters. ``expected`` is the reference's raw result on the same case.

- ``TensorAnswer(dtype="reference", graph=True)``: a tinygrad_lite Tensor (not a numpy array, a list, a Python
  number from ``.item()``, or a PyTorch tensor) whose dtype is the reference's; with ``graph``, a result connected
  to the graph of its inputs whenever they require grad (the check then also compares gradients, see checks.py).
- ``ArrayAnswer(dtype=None)``: a numpy array (or numpy scalar) for exercises that work below the Tensor, on arrays.
- ``NumberAnswer(tensor_ok=False)``: a plain Python number (int or float).
- ``TupleAnswer(kind, kind, ...)``: a tuple (or list) of exactly these kinds, e.g. the gradients ``(dx, dw)``.
- ``AnyAnswer()``: no type rule (an exercise with its own ``compare``, e.g. a list of graph nodes).
- ``RunAnswer(base=None, must_define=())``: for exercises whose answer is what happens when the learner's code is
  driven, not what it returns: a CLASS (an Optimizer subclass, a scheduler, an EarlyStopping class) or a function
  with effects (a training loop). The exercise's ``call(fn, args, kwargs)`` builds and drives it (e.g. 50 optimizer
  steps) and returns a ``Run``: the numbers to judge (e.g. the parameters after each step) plus ``problem``, a
  sentence about what the numbers cannot show (not a subclass of ``base``, ``p.grad`` changed in place, a loss
  returned as a tensor ...). ``RunAnswer.problem_with(obj, cls)`` says what is wrong with an instance before it
  is driven. The mistakes are wrong classes (or functions) driven the same way, so hints work as for any answer.
"""
from dataclasses import dataclass

import numpy as np

NO_GRAPH = ("it has no graph, so loss.backward() cannot reach the weights: stay with tensor ops on the inputs "
            "(no .numpy(), .item(), .tolist() or tl.tensor(...) in between)")


def type_name(value):
    """A short, familiar name for the type of ``value``: numpy.ndarray, float, list, torch.Tensor, Tensor ..."""
    cls = type(value)
    module = cls.__module__.split(".")[0]
    if module in ("builtins", "tinygrad_lite"):
        return cls.__name__
    return f"{module}.{cls.__name__}"


def an(name):
    """``name`` with its article, for a sentence: "an int", "an object", "a float", "a numpy.ndarray", "a uint8"."""
    return f"{'an' if name[:1].lower() in 'aeiou' and not name.startswith(('uint', 'uni', 'use')) else 'a'} {name}"


def is_tensor(value):
    """A tinygrad_lite Tensor (not PyTorch's, not numpy's)."""
    from ..tensor import Tensor
    return isinstance(value, Tensor)


def dtype_name(value):
    """numpy's name of the dtype of a tensor or array ("float32"), or None for anything else."""
    if is_tensor(value):
        return np.dtype(value.detach().numpy().dtype).name
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.name
    return None


def _none(what):
    return f"you returned None, where {what} was expected: did you forget the `return`?"


@dataclass
class TensorAnswer:
    """The answer is a tinygrad_lite Tensor; ``dtype`` "reference" (its dtype must be the reference's), a numpy
    dtype name, or None (any); ``graph``: connected to the inputs' graph when they require grad."""
    dtype: object = "reference"
    graph: bool = True

    def refuse(self, got, expected=None):
        if got is None:
            return _none("a tensor")
        if is_tensor(got):
            want = dtype_name(expected) if self.dtype == "reference" else self.dtype
            have = dtype_name(got)
            if want and have != want:
                why = (" (the inputs are float32: a .double(), or a tensor made from a numpy array, which keeps "
                       "numpy's float64, changes the dtype; stay with tensor ops on the float32 inputs)"
                       if have == "float64" and want == "float32" else "")
                if have == "bool":
                    why = " (a comparison like x > 0 gives a bool mask, not the values)"
                return f"you returned a {have} tensor; a {want} tensor was expected{why}"
            return None
        name = type_name(got)
        if isinstance(got, np.ndarray) and not self.graph:  # e.g. running statistics: no graph, but a Tensor
            return ("you returned a numpy.ndarray where a tensor was expected: this result needs no graph, but it "
                    "must be a tinygrad_lite Tensor, like the argument it replaces (stay with tensor ops)")
        if isinstance(got, np.ndarray):
            return f"you returned a numpy.ndarray where a tensor was expected: {NO_GRAPH}"
        if isinstance(got, np.generic) or isinstance(got, (float, int, bool)):
            return (f"you returned a Python number ({name}, e.g. from .item()) where a tensor was expected: "
                    f"a plain number {NO_GRAPH.replace('it has no graph', 'has no graph')}. Return the tensor itself")
        if isinstance(got, tuple) and getattr(got, "_fields", None) == ("values", "indices"):
            bound = {"max": "min", "min": "max"}.get(name)  # (x.max(0) read as "the larger of x and 0": an
            if expected is not None and np.shape(expected) == tuple(np.shape(got.values)):  # element-wise answer)
                bound = None
            if bound:  # (its .values would be the reduction's values: no better)
                return (f"you returned the pair (values, indices) that {name}(dim=...) gives, where one tensor was "
                        f"expected. x.{name}(dim) REDUCES over that dim: the {name} along it, and where each was "
                        f"found; it does not compare each element with a number: that is x.clamp({bound}=number)")
            return (f"you returned the pair (values, indices) that {name}(dim=...) gives, where one tensor was "
                    "expected: a reduction along a dim also reports where each value was found. Take the part you "
                    "need (its .values), or use a function that returns only the values")
        if isinstance(got, (list, tuple)):
            return (f"you returned a {name} where a tensor was expected: {NO_GRAPH}. Return the tensor itself "
                    "(no .tolist(), no Python loop building a list)")
        if name.startswith("torch."):
            return ("you returned a PyTorch tensor; this course builds its own: use tinygrad_lite's tensor ops "
                    "(tl.*), which mirror PyTorch's")
        return f"you returned a {name} where a tinygrad_lite tensor was expected"


@dataclass
class ArrayAnswer:
    """The answer is a numpy array (a numpy scalar such as np.float64 counts as a 0-d array); ``dtype`` None
    (any real number type), "reference" or a numpy dtype name. ``says_float32_fix``: a subclass whose refusal of a
    float32 array says how to fix it, so that the check adds no generic float32 hint (pipeline.judge_case)."""
    dtype: object = None
    says_float32_fix = False

    def refuse(self, got, expected=None):
        if got is None:
            return _none("a numpy array")
        if is_tensor(got) or type_name(got).startswith("torch."):
            return (f"you returned {an(type_name(got))}; this exercise works on numpy arrays (below the Tensor, "
                    "where the backward pass itself lives): use numpy operations and return an np.ndarray")
        if isinstance(got, (list, tuple)):
            return (f"you returned {an(type_name(got))} where a numpy array was expected: build the result with "
                    "numpy operations on the whole array (no Python list)")
        if isinstance(got, (float, int)) and not isinstance(got, (bool, np.generic)):
            return (f"you returned a Python {type_name(got)} where a numpy array was expected (.item() or float() "
                    "drop the array): return the array")
        if not isinstance(got, (np.ndarray, np.generic)):
            return f"you returned {an(type_name(got))} where a numpy array was expected"
        want = dtype_name(expected) if self.dtype == "reference" else self.dtype
        if want and got.dtype.name != want:
            why = (" (float32 keeps about 7 significant digits where float64 keeps about 16: keep the precision "
                   "of the float64 inputs)" if want == "float64" and got.dtype.kind == "f" else "")
            article = "an" if got.dtype.name[0] in "aeiou" else "a"
            return f"you returned {article} {got.dtype.name} array; a {want} array was expected{why}"
        if want is None and got.dtype.kind not in "fiu":
            return f"you returned an array of {got.dtype.name}; an array of numbers was expected"
        return None


@dataclass
class NumberAnswer:
    """The answer is a plain Python number (int or float); ``tensor_ok`` also accepts a 1-element tensor or array."""
    tensor_ok: bool = False

    def refuse(self, got, expected=None):
        if got is None:
            return _none("a number")
        if isinstance(got, (float, int)) and not isinstance(got, bool):
            return None  # np.float64 is a float too
        if self.tensor_ok and (is_tensor(got) or isinstance(got, np.ndarray)) and int(np.prod(np.shape(got))) == 1:
            return None
        if is_tensor(got) or isinstance(got, np.ndarray):
            return (f"you returned {an(type_name(got))} where a plain Python number was expected: compute it with "
                    "Python's math (or call float() on a one-element result)")
        return f"you returned {an(type_name(got))} where a plain Python number was expected"


@dataclass
class TupleAnswer:
    """The answer is a tuple (a list is accepted too) of exactly these kinds, e.g. ``TupleAnswer(ArrayAnswer(),
    ArrayAnswer())`` for the gradients (dx, dw)."""
    kinds: tuple = ()

    def __init__(self, *kinds):
        self.kinds = kinds

    def refuse(self, got, expected=None):
        n = len(self.kinds)
        if got is None:
            return _none(f"a tuple of {n} results")
        if not isinstance(got, (tuple, list)):
            return f"you returned {an(type_name(got))}; a tuple of {n} results was expected, e.g. return a, b"
        if len(got) != n:
            return f"you returned {len(got)} results; {n} were expected, in the order the exercise lists them"
        expected = expected if isinstance(expected, (tuple, list)) and len(expected) == n else [None] * n
        for i, (kind, g, e) in enumerate(zip(self.kinds, got, expected)):
            failure = kind.refuse(g, e)
            if failure:
                return f"result {i}: {failure}"
        return None

    def parts(self, got):
        """``(kind, item)`` for each tensor part of ``got`` (for the graph checks)."""
        return list(zip(self.kinds, got))


@dataclass
class AnyAnswer:
    """No type rule: the exercise's own ``compare`` judges the answer."""

    def refuse(self, got, expected=None):
        return None


def tensor_parts(answer, value):
    """The parts of ``value`` that ``answer`` declares as tensors with a graph: [(index or None, tensor)]."""
    if isinstance(answer, TensorAnswer) and answer.graph and is_tensor(value):
        return [(None, value)]
    if isinstance(answer, TupleAnswer) and isinstance(value, (tuple, list)):
        return [(i, v) for i, (kind, v) in enumerate(zip(answer.kinds, value))
                if isinstance(kind, TensorAnswer) and kind.graph and is_tensor(v)]
    return []


class Run(np.ndarray):
    """What an exercise's ``call`` recorded while driving the learner's code (see ``RunAnswer``): a float64 array
    of the numbers to judge, with ``problem`` (a sentence, or None) about what the numbers cannot show.

    ``Run.of(values)`` is a run to compare; ``Run.failed(problem)`` stops at a problem (its numbers are nan). A
    check turns a Run into a plain array before comparing (``np.asarray``), so mistakes compare as arrays.
    """
    problem = None

    @classmethod
    def of(cls, values, problem=None):
        run = np.array(values, dtype=np.float64).view(cls)
        run.problem = problem
        return run

    @classmethod
    def failed(cls, problem):
        return cls.of([np.nan], problem)

    def __array_finalize__(self, obj):
        self.problem = getattr(obj, "problem", None)


@dataclass
class RunAnswer:
    """The answer is a ``Run`` made by the exercise's ``call``; ``refuse`` reports its ``problem``.

    ``base``: the class the learner's class must subclass (e.g. ``optim.Optimizer``); ``must_define``: methods
    of which the class must define at least one itself, not only inherit (e.g. ``("_update", "step")``).
    """
    base: object = None
    must_define: tuple = ()

    def problem_with(self, obj, cls=None):
        """None when ``obj`` (what ``cls(...)`` made) is an instance of ``base`` that defines one of
        ``must_define``; otherwise a sentence that says what is wrong."""
        if self.base is None:
            return None
        name = getattr(cls, "__name__", "your class")
        base = self.base.__name__
        if obj is None:
            return (f"{name}(...) gave None: write a class (class {name}({base}): ...), not a function; calling a "
                    "class makes an instance")
        if not isinstance(obj, self.base):
            return (f"{name}(...) made {an(type_name(obj))}, which is not an instance of {base}: write a class that "
                    f"subclasses {base} (class {name}({base}): ...), so that it gets the base class's methods")
        if self.must_define and isinstance(cls, type):
            own = [m for m in self.must_define if any(m in vars(k) for k in cls.__mro__ if k not in
                                                      self.base.__mro__)]
            if not own:
                return (f"{name} defines none of {', '.join(self.must_define)}: only the base class's version runs, "
                        f"which does nothing useful. Define {self.must_define[0]} in your class (check its name)")
        return None

    def refuse(self, got, expected=None):
        if got is None:
            return _none("a run")
        return getattr(got, "problem", None)
