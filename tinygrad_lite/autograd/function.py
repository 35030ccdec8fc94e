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
``Tensor.backward`` later walks these nodes from the output back to the leaves.

Deliberate difference from PyTorch: our built-in ops receive and return plain numpy/CuPy arrays, which keeps
them short. A subclass written PyTorch's way (``@staticmethod def forward(ctx, ...)``) also works: it is
given Tensors, exactly as in PyTorch's "custom autograd Function" tutorial.
"""
import inspect

from . import grad_mode


class Function:
    inputs = ()            # the input Tensors, in order: the edges of the graph
    torch_style = False    # forward/backward written PyTorch's way, as staticmethods taking ctx and Tensors
    needs_input_grad = ()  # per input (per argument, if torch_style): does it require grad? (skip work if not)
    _saved = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.torch_style = isinstance(inspect.getattr_static(cls, "forward"), staticmethod)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__} must define backward")

    def save_for_backward(self, *values):
        self._saved = values

    @property
    def saved_tensors(self):
        if self._saved is None:
            raise RuntimeError(
                f"{type(self).__name__}: trying to backward through the graph a second time: its saved values were "
                "freed by the first .backward(). Pass retain_graph=True to the first backward call if you need to "
                "backward twice, or recompute the forward pass.")
        return self._saved

    def release(self):
        """Free the saved values once backward has used them (what ``retain_graph=False`` means)."""
        if self._saved:
            self._saved = None

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Tensors and, if any input requires grad, record it in the graph."""
        from ..tensor import Tensor
        ctx = cls()
        ctx.inputs = tuple(a for a in args if isinstance(a, Tensor))
        flagged = args if cls.torch_style else ctx.inputs  # PyTorch's ctx has a flag for every argument of forward
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in flagged)
        if cls.torch_style:
            with grad_mode.no_grad():
                out = cls.forward(ctx, *[a.detach() if isinstance(a, Tensor) else a for a in args], **kwargs)
            out = out.array if isinstance(out, Tensor) else out
            ctx._arg_is_tensor = [isinstance(a, Tensor) for a in args]
        else:
            out = ctx.forward(*[a.array if isinstance(a, Tensor) else a for a in args], **kwargs)
        tracked = grad_mode.is_grad_enabled() and any(ctx.needs_input_grad)
        return Tensor._make(out, ctx if tracked else None)

    def input_grads(self, grad):
        """Call backward and return a tuple with one gradient array (or None) per input Tensor."""
        if not self.torch_style:
            grads = self.backward(grad)
            return grads if isinstance(grads, tuple) else (grads,)
        from ..tensor import Tensor
        grads = type(self).backward(self, Tensor._make(grad, None))
        grads = grads if isinstance(grads, tuple) else (grads,)
        grads = [g for g, is_t in zip(grads, self._arg_is_tensor) if is_t]
        return tuple(g.array if isinstance(g, Tensor) else g for g in grads)
