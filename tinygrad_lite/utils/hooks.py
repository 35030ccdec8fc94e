"""Module backward hooks, at PyTorch's path (``torch.utils.hooks``): ``RemovableHandle`` and ``BackwardHook``.

``module.register_full_backward_hook(hook)`` asks for ``hook(module, grad_input, grad_output)`` once backward has
computed the gradients with respect to the module's inputs (its positional arguments) from those with respect to
its outputs. A module is not one op but any number of them, so no single node of the graph sees both; ``BackwardHook``
makes two, as PyTorch does. When the module is called with hooks, its tensor inputs go through an identity op
(``BackwardHookFunction``) before ``forward`` and its tensor outputs through another one after; in backward the
output one runs first and notes ``grad_output`` (a ``register_full_backward_pre_hook`` may replace it there), the
input one runs last, when every gradient with respect to the inputs is complete, and calls the hooks, which may
return a replacement ``grad_input``. Both tuples have an entry per positional argument (per output): None for one
that is not a Tensor and for an output that got no gradient, zeros for a Tensor input that does not require grad
(as in PyTorch), else the gradient.

If no input requires grad (the first layer, fed data) there is no input op: the hooks run when ``grad_output`` is
known, with ``grad_input`` all None, and may return nothing else; if no output requires grad, they never run.
"""
import warnings

from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.hooks import RemovableHandle, checked_gradient
from ..device import array_module_of
from ..tensor import Tensor

__all__ = ["RemovableHandle", "BackwardHook"]


class BackwardHookFunction(Function):
    """The identity on several tensors at once (its outputs share their inputs' numbers), which hands the gradients
    of its outputs to ``on_backward`` and passes on what that returns. Backward: dL/d(input i) = dL/d(output i)."""

    def forward(self, *arrays, on_backward, materialize_grads):
        self.on_backward, self.materialize_grads = on_backward, materialize_grads
        return arrays

    def backward(self, *grads):
        return self.on_backward(grads)


class BackwardHook:
    """Sets up the two identity ops of one call of ``module`` with backward hooks, and runs the hooks."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module, self.user_hooks, self.user_pre_hooks = module, user_hooks, user_pre_hooks
        self.grad_outputs = None
        self.n_inputs, self.input_tensors_index, self.input_wrapped, self.input_like = -1, None, [], {}
        self.n_outputs, self.output_tensors_index, self.output_wrapped = -1, None, []

    def _apply_on_tensors(self, on_backward, args, materialize_grads):
        """``args`` with each Tensor that requires grad replaced by an output of one BackwardHookFunction; the
        positions of the Tensors (None if none requires grad, or grad mode is off: then nothing is replaced), and
        the positions of those replaced."""
        index = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        wrapped = [i for i in index if args[i].requires_grad]
        if not wrapped or not grad_mode.is_grad_enabled():
            return args, None, []
        new = BackwardHookFunction.apply(*[args[i] for i in wrapped], on_backward=on_backward,
                                         materialize_grads=materialize_grads)
        args = list(args)
        for i, t in zip(wrapped, new):
            args[i] = t
        return tuple(args), index, wrapped

    def setup_input_hook(self, args):
        self.input_like = {i: (array_module_of(arg.array), arg.array.shape, arg.array.dtype)
                           for i, arg in enumerate(args) if isinstance(arg, Tensor)}
        args, self.input_tensors_index, self.input_wrapped = self._apply_on_tensors(self._on_input_grads, args, True)
        self.n_inputs = len(args)
        return args

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        outputs = result if is_tuple else (result,)
        outputs, self.output_tensors_index, self.output_wrapped = self._apply_on_tensors(self._on_output_grads,
                                                                                         outputs, False)
        self.n_outputs = len(outputs)
        return outputs if is_tuple else outputs[0]

    def _on_output_grads(self, grads):
        """The output op's backward: note grad_output, let the pre-hooks replace it; with no input op, run the
        hooks now."""
        self.grad_outputs = given = _as_tensors(self.output_wrapped, grads, self.n_outputs)
        for pre_hook in self.user_pre_hooks:
            replaced = pre_hook(self.module, self.grad_outputs)
            if replaced is None:
                continue
            if not isinstance(replaced, Tensor):
                replaced = tuple(replaced)
            if isinstance(replaced, Tensor) or len(replaced) != len(given):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got {len(replaced)}, "
                                   f"but expected {len(given)}: a tuple with one gradient per output of "
                                   f"{self.module._get_name()} (None where the output is not a Tensor)")
            _check(pre_hook, replaced, given, self.output_wrapped, "grad_output")
            self.grad_outputs = replaced
        local_grad_outputs = self.grad_outputs
        if self.input_tensors_index is None:
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients (grad_input is all None)", stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None and not (isinstance(result, tuple) and all(g is None for g in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients: there is no grad_input to replace")
            self.grad_outputs = None
        return _as_arrays(local_grad_outputs, self.output_wrapped, grads)

    def _on_input_grads(self, grads):
        """The input op's backward: every gradient with respect to the inputs is known; run the hooks."""
        if self.grad_outputs is None:  # the gradient reached the inputs without passing through the outputs
            return grads
        result = given = tuple(_zeros(*self.input_like[i]) if g is None and i in self.input_like else g
                               for i, g in enumerate(_as_tensors(self.input_wrapped, grads, self.n_inputs)))
        for hook in self.user_hooks:  # (a Tensor input that does not require grad gets zeros, as in PyTorch)
            out = hook(self.module, result, self.grad_outputs)
            if out is None:
                continue
            if isinstance(out, Tensor) or len(out) != len(result):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, but "
                                   f"expected {len(result)}: return a tuple with one gradient per positional "
                                   f"argument of {self.module._get_name()}.forward (None where it is not a Tensor)")
            _check(hook, out, given, self.input_wrapped, "grad_input")
            result = tuple(out)
        self.grad_outputs = None
        return _as_arrays(result, self.input_wrapped, grads)


def _as_tensors(wrapped, grads, size):
    """One entry per argument: the gradient (a Tensor) of each wrapped one, in order, None for the others."""
    res = [None] * size
    for i, g in zip(wrapped, grads):  # (with create_graph=True they are Tensors of the graph already)
        res[i] = None if g is None else g if isinstance(g, Tensor) else Tensor._make(g, None)
    return tuple(res)


def _zeros(xp, shape, dtype):
    return Tensor._make(xp.zeros(shape, dtype), None)


def _check(hook, values, given, wrapped, what):
    """Raise unless each gradient ``hook`` returned for a wrapped argument can stand in for the one it was given."""
    for i in wrapped:
        if values[i] is not None and given[i] is not None:
            checked_gradient(hook, values[i], given[i].array, f"{what}[{i}]")


def _as_arrays(values, wrapped, grads):
    """The gradients of the wrapped arguments as arrays, for the engine. Copies: the hooks may have kept the Tensors
    they were given, and the engine may make an array the ``.grad`` that later backward calls add into in place.
    With create_graph=True (``grads``, those the op was given, are Tensors of the graph: ``autograd/higher_order.py``)
    the Tensors themselves."""
    if any(isinstance(g, Tensor) for g in grads):
        return tuple(values[i] for i in wrapped)
    return tuple(None if values[i] is None else values[i].array.copy() for i in wrapped)
