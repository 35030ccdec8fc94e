"""What a custom ``Function`` written PyTorch's way may ask of its ``ctx``, beyond saving values for backward.

In PyTorch the ``ctx`` that ``forward(ctx, ...)`` and ``backward(ctx, ...)`` receive is an instance of
``torch.autograd.function.FunctionCtx`` (scripts annotate it: ``def forward(ctx: FunctionCtx, x)``). Here the ctx is
the ``Function`` object itself (``function.py``: ``apply_torch_style`` makes one per call), and ``Function``
subclasses ``FunctionCtx``, so ``isinstance(ctx, FunctionCtx)`` holds as in PyTorch. This class holds the ctx's
methods that only custom Functions use; ``save_for_backward``, ``saved_tensors``, ``needs_input_grad`` and
``mark_non_differentiable`` are in ``function.py``, beside the built-in ops that use them too.

``once_differentiable``, PyTorch's decorator for a backward that cannot itself be differentiated, is here too.
"""
import functools


class FunctionCtx:
    """The ctx of a custom Function (``torch.autograd.function.FunctionCtx``); ``Function`` inherits these."""

    def set_materialize_grads(self, value):
        """PyTorch's ``ctx.set_materialize_grads``: False gives backward None, not zeros, for an unused output."""
        self.materialize_grads = value

    def mark_dirty(self, *tensors):
        raise NotImplementedError(f"{type(self).__name__}: ctx.mark_dirty (a custom Function that changes its input "
                                  "in place) is not supported here: compute into a new tensor (x.clone(), then change "
                                  "the clone) and return it")


def once_differentiable(backward):
    """``@once_differentiable`` on a custom Function's backward (``torch.autograd.function.once_differentiable``).

    It marks a backward whose own result cannot be differentiated again (one written with numpy, say): with
    ``create_graph=True`` backward then runs without recording a graph, and differentiating the gradients it gave
    raises, as in PyTorch (``higher_order.py``). Without ``create_graph`` it changes nothing.
    """
    @functools.wraps(backward)
    def once(ctx, *grads):
        return backward(ctx, *grads)
    once.once_differentiable = True
    return once
