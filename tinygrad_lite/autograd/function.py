"""``Function``: one differentiable operation, its forward and its backward side by side.

An op is a subclass with two methods::

    class Mul(Function):
        def forward(self, x, y):          # arrays in, array out
            self.save_for_backward(x, y)   # keep what backward will need
            return x * y
        def backward(self, grad):          # dL/d(output) in, one dL/d(input) per input out
            x, y = self.saved_tensors
            return grad * y, grad * x

``Mul.apply(a, b)`` runs forward on the tensors' arrays and, when gradients are wanted, records the
Function object as the result's ``grad_fn``: a node of the computation graph that remembers its inputs.
``Tensor.backward`` later walks these nodes from the output back to the leaves (``engine.py``).

Saved values must still hold the numbers forward saw when backward runs. Every tensor counts its in-place
changes in a version counter (``x._version``; views of the same numbers share one), ``apply`` notes the
version of each input or output whose array was saved, and ``saved_tensors`` refuses to hand back a value
whose version has moved on: the gradient would silently use the new numbers. ``inplace.py`` holds this
machinery, and how an in-place op is recorded in the graph.

Deliberate difference from PyTorch: our built-in ops receive and return plain numpy/CuPy arrays, which keeps
them short. A subclass written PyTorch's way (``@staticmethod def forward(ctx, ...)``) also works: it is
given Tensors, exactly as in PyTorch's "custom autograd Function" tutorial (``apply_torch_style``); its ctx is
the Function object, a ``FunctionCtx`` (``function_ctx.py``, with ``once_differentiable``).
"""
import functools
import inspect
import itertools
import weakref

import numpy as np

from ..device import array_module_of, check_same_device, on_device_of
from ..dtypes import FLOAT16, quietly_in_float16
from . import grad_mode
from .function_ctx import FunctionCtx, once_differentiable  # noqa: F401  (torch.autograd.function has both)
from .inplace import check_saved, fresh, input_as_used, remember_versions, track_view

Tensor = None  # the Tensor class; tensor.py sets it once defined (it imports the ops, so we cannot import it here)
_sequence = itertools.count()  # numbers the recorded ops in the order they were made (see engine.input_as_used)


class Function(FunctionCtx):
    inputs = ()            # the input Tensors, in order: the edges of the graph
    torch_style = False    # forward/backward written PyTorch's way, as staticmethods taking ctx and Tensors
    needs_input_grad = ()  # per input (per argument, if torch_style): does it require grad? (skip work if not)
    sequence_nr = -1       # when it was recorded: ops made later have larger numbers
    n_outputs = 1          # a custom Function may return a tuple: then backward takes one gradient per output
    materialize_grads = True  # an output that gets no gradient gets zeros (False: None), as in PyTorch
    _saved = ()
    _saved_versions = ()   # (array, version counter, version) of each input and the output, when saved
    _not_differentiable = frozenset()  # ids of the outputs' arrays that ``mark_non_differentiable`` named

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.torch_style = isinstance(inspect.getattr_static(cls, "forward"), staticmethod)
        # PyTorch 2's second style, forward without ctx and then setup_context: forward's signature, else None
        own_setup = inspect.getattr_static(cls, "setup_context") is not Function.__dict__["setup_context"]
        cls._forward_signature = inspect.signature(cls.forward) if cls.torch_style and own_setup else None

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on the Tensors' arrays and, if any input requires grad, record it in the graph.

        This runs for every op, so it is kept lean (it is most of an op's cost on small tensors): one plain loop
        over the arguments, the flags read directly. Under ``no_grad`` no input needs a gradient, so forward saves
        nothing.
        """
        if cls.torch_style:
            return cls.apply_torch_style(*args, **kwargs)
        ctx = cls()
        inputs, arrays, needs = [], [], []  # the Tensor arguments; every argument, Tensors as arrays; a flag per input
        enabled = grad_mode._enabled
        half = kwargs.get("dtype") is FLOAT16  # float16 in or out: silent about overflow, as PyTorch (dtypes.py)
        for a in args:
            if isinstance(a, Tensor):
                inputs.append(a if a._base is None else fresh(a))  # (a view of a tensor changed since: inplace.py)
                arrays.append(a.array)
                needs.append(enabled and a._requires_grad)
                half = half or a.array.dtype is FLOAT16
            else:
                arrays.append(a)
        ctx.inputs, ctx.needs_input_grad = tuple(inputs), tuple(needs)
        forward = ctx.forward if not half else functools.partial(quietly_in_float16, ctx.forward)
        try:  # on a GPU with its GPU current, as PyTorch's device guard: what the op makes is made on cuda:1 too
            if inputs and type(inputs[0].array) is not np.ndarray:
                with on_device_of(inputs[0].array):
                    out = forward(*arrays, **kwargs)
            else:
                out = forward(*arrays, **kwargs)
        except Exception:  # inputs (or an index, a condition) on two devices? Say so, rather than CuPy's error
            check_same_device(cls.__name__, ctx.inputs, arrays + list(kwargs.values()))
            raise
        return ctx.wrap_outputs(out) if isinstance(out, tuple) else ctx.wrap_output(out)

    def wrap_output(self, array):
        """The op's result as a Tensor, with this op as its ``grad_fn`` if the graph is being recorded. As in
        PyTorch, only a floating-point (or complex) result can require grad: an integer or bool one (a cast with
        ``.long()``, an index a custom Function returns) is a constant, with no ``grad_fn``."""
        record = (grad_mode._enabled and True in self.needs_input_grad and array.dtype.kind in "fc"
                  and id(array) not in self._not_differentiable)
        out = Tensor._make(array, self if record else None)
        track_view(out, self)  # a view of an input's numbers (reshape, slicing) shares its version counter
        if record:
            self.sequence_nr = next(_sequence)
            if self._saved:
                remember_versions(self, (*self.inputs, out))  # saved_tensors checks them (inplace.py)
        return out

    def wrap_outputs(self, results):
        """Several outputs (forward returned a tuple): a Tensor each, numbered 0, 1, ... by ``_output_nr``.

        The op keeps weak references to them: backward waits for the gradients of all of them (``gather``).
        Anything else in the tuple (a number, a string) is returned as it is, as in PyTorch; its gradient is None.
        """
        outputs = tuple(self.wrap_output(getattr(r, "array", r)) if hasattr(getattr(r, "array", r), "dtype") else r
                        for r in results)
        tensors = [out for out in outputs if isinstance(out, Tensor)]
        for i, out in enumerate(outputs):
            if isinstance(out, Tensor):
                out._output_nr = i
        self.n_outputs, self._grads_of_outputs = len(outputs), [None] * len(outputs)
        self._outputs = [weakref.ref(out) if isinstance(out, Tensor) else _nothing for out in outputs]
        self._output_like = [(o.shape, o.array.dtype) if isinstance(o, Tensor) else None for o in outputs]
        if self.sequence_nr >= 0 and self._saved:  # recorded: check the versions of all the outputs, not just the last
            remember_versions(self, (*self.inputs, *tensors))
        return outputs

    def output_tensors(self):
        """The op's outputs that still exist, in order (only for an op with several outputs)."""
        return [out for out in (ref() for ref in self._outputs) if out is not None]

    def output_moved_to(self, tensor):
        """An in-place op on output ``tensor._output_nr`` moved that output's earlier state to ``tensor``
        (``inplace.record_inplace``): it is the op's output from now on."""
        self._outputs[tensor._output_nr] = weakref.ref(tensor)

    def gather(self, output, grad):
        """Note ``grad``, the gradient of ``output`` (one of the op's several outputs). The engine reaches them one
        after another, the first one last: then return one gradient per output, else None. An output that got no
        gradient gets zeros, or None after ``set_materialize_grads(False)``."""
        self._grads_of_outputs[output._output_nr] = grad
        if output is not next(out for out in self.output_tensors() if out.grad_fn is self):  # (not an integer one)
            return None
        grads, self._grads_of_outputs = self._grads_of_outputs, [None] * self.n_outputs
        arrived = [g for g in grads if g is not None]
        if not arrived or not self.materialize_grads:
            return grads if arrived else None
        xp = array_module_of(getattr(arrived[0], "array", arrived[0]))  # (a Tensor with create_graph=True)
        return [xp.zeros(*like) if g is None and like is not None else g
                for g, like in zip(grads, self._output_like)]

    def save_for_backward(self, *values):
        if self.torch_style and any(v is not None and not isinstance(v, Tensor) for v in values):  # (PyTorch's
            bad = next(i for i, v in enumerate(values) if v is not None and not isinstance(v, Tensor))  # check)
            raise TypeError(f"save_for_backward can only save tensors (and None), but argument {bad} is of type "
                            f"{type(values[bad]).__name__}; keep other values on ctx: ctx.k = 3")
        self._saved = values

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"Legacy autograd function with non-static forward method is deprecated: make forward "
                           f"and backward @staticmethods taking ctx, and call {type(self).__name__}.apply(...), not an "
                           "instance (as PyTorch asks)")

    @property
    def saved_tensors(self):
        """What forward saved, provided that no in-place op has changed it since (else the gradient would be wrong)."""
        if self._saved is None:
            raise RuntimeError(
                f"{type(self).__name__}: trying to backward through the graph a second time: its saved values were "
                "freed by the first .backward(). Pass retain_graph=True to the first backward call if you need to "
                "backward twice, or recompute the forward pass.")
        check_saved(self)  # no in-place change since forward (inplace.py)
        return self._saved

    def release(self):
        """Free the saved values once backward has used them (what ``retain_graph=False`` means)."""
        if self._saved:
            self._saved = None

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"

    def name(self):
        return f"{type(self).__name__}Backward"

    @property
    def next_functions(self):
        """The graph as PyTorch shows it: one ``(node, 0)`` per input, where the node is the input's ``grad_fn``,
        an ``AccumulateGrad`` for a leaf that requires grad (it adds into ``.grad``), or None for a constant."""
        inputs = (input_as_used(t, self) for t in self.inputs)
        return tuple((AccumulateGrad.of(t) if t.grad_fn is None else t.grad_fn, getattr(t, "_output_nr", 0))
                     for t in inputs)

    def input_grads(self, grad):
        """Call backward; return one gradient (or None) per input Tensor, holding backward to that contract."""
        if self.torch_style:
            return self.input_grads_torch_style(grad)
        grads = self.backward(*grad) if self.n_outputs > 1 else self.backward(grad)
        grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
        return grads if len(grads) == len(self.inputs) else self._one_per_input(grads, len(self.inputs))

    def _one_per_input(self, grads, expected):
        """``grads`` if there is one per input (extra trailing Nones are dropped, as PyTorch does), else an error."""
        if len(grads) > expected and all(g is None for g in grads[expected:]):
            grads = grads[:expected]
        if len(grads) != expected:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                               f"{expected}, got {len(grads)}): backward must return one gradient per input of "
                               "forward, in order, with None for an input that needs none")
        return tuple(grads)

    # ---------------------------------------------------------------- PyTorch's style: staticmethods, ctx, Tensors
    @classmethod
    def apply_torch_style(cls, *args, **kwargs):
        """``forward(ctx, *args)`` runs on the Tensors given, with grad mode off (so it records nothing); the result is
        then recorded as usual. As in PyTorch, what forward keeps (``ctx.save_for_backward(x)``, or ``ctx.x = x``) is
        then the caller's tensor itself, so that a backward run with ``create_graph=True`` reaches it.

        As in PyTorch, ``ctx.needs_input_grad`` has a flag for every argument of forward, Tensor or not.
        """
        ctx = cls()
        ctx.inputs = tuple(a for a in args if isinstance(a, Tensor))
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        with grad_mode.no_grad():
            if cls._forward_signature is not None:
                result = cls.forward(*args, **kwargs)  # PyTorch 2's style: forward without ctx, then this,
                given = cls._forward_signature.bind(*args, **kwargs)  # given every argument of forward
                given.apply_defaults()  # in order, defaults included, as PyTorch's ``inputs``
                cls.setup_context(ctx, tuple(given.arguments.values()), result)
            else:
                result = cls.forward(ctx, *args, **kwargs)
        if isinstance(result, tuple):  # several outputs (an input that forward changed in place, mark_dirty: itself)
            return ctx.take_dirty_places(ctx.wrap_outputs(result))
        return ctx.take_dirty_places(ctx.wrap_output(result.array if isinstance(result, Tensor) else result))

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's second style: ``forward(*args)`` without ``ctx``, then ``setup_context(ctx, inputs,
        output)`` saves what backward needs. A subclass that defines it is called that way."""

    def mark_non_differentiable(self, *outputs):
        """``ctx.mark_non_differentiable(out)`` in forward: that output (e.g. an argmax as floats) gets no
        ``grad_fn`` and does not require grad; backward receives zeros for it (None without materialized grads)."""
        for t in outputs:
            if not isinstance(t, Tensor):
                raise TypeError(f"{type(self).__name__}: mark_non_differentiable takes the output tensors that "
                                f"forward returns, not a value of type {type(t).__name__}")
        self._not_differentiable = self._not_differentiable | {id(t.array) for t in outputs}

    def input_grads_torch_style(self, grad, record=False):
        """``backward(ctx, *grads)`` on Tensors, a gradient per output: one gradient per argument of forward, None
        for a non-Tensor. With ``record`` (create_graph=True: ``higher_order.py``) backward's own ops are recorded,
        and the gradients come back as those Tensors."""
        grads = [grad] if self.n_outputs == 1 else grad
        with grad_mode.set_grad_enabled(record):  # (as PyTorch runs a backward: recorded only with create_graph)
            grads = type(self).backward(self, *[g if g is None or isinstance(g, Tensor) else Tensor._make(g, None)
                                                for g in grads])
        grads = self._one_per_input(grads if isinstance(grads, (tuple, list)) else (grads,), len(self._arg_is_tensor))
        for k, (g, is_tensor) in enumerate(zip(grads, self._arg_is_tensor)):
            if g is not None and not is_tensor:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                   f"{k + 1}, but the corresponding forward input was not a Tensor: return None there")
        return tuple(g.array if isinstance(g, Tensor) and not record else g
                     for g, is_tensor in zip(grads, self._arg_is_tensor) if is_tensor)


def _nothing():
    """Stands for the weak reference of an output that is not a Tensor (a number returned by forward): none."""
    return None


class AccumulateGrad:
    """The graph node of a leaf that requires grad: backward adds what arrives into ``variable.grad``.

    Only for looking at the graph (``grad_fn.next_functions``): one node per leaf, as in PyTorch.
    """
    _nodes = weakref.WeakValueDictionary()  # id(leaf) -> its node; the node keeps the leaf alive, so ids stay unique
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    @classmethod
    def of(cls, tensor):
        if not tensor.requires_grad:
            return None
        node = cls._nodes.get(id(tensor))
        if node is None or node.variable is not tensor:
            node = cls._nodes[id(tensor)] = cls(tensor)
        return node

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return "<AccumulateGrad>"
