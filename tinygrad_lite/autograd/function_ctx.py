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
import weakref

from .inplace import _into_base, _snapshot, _takes_place_of, _view_again, records_inplace


class FunctionCtx:
    """The ctx of a custom Function (``torch.autograd.function.FunctionCtx``); ``Function`` inherits these."""

    def set_materialize_grads(self, value):
        """PyTorch's ``ctx.set_materialize_grads``: False gives backward None, not zeros, for an unused output."""
        self.materialize_grads = value

    _dirty = ()  # the inputs that forward changed in place (mark_dirty)

    def mark_dirty(self, *tensors):
        """PyTorch's ``ctx.mark_dirty(x)`` in forward: forward changed its input x in place and returns it. The
        output is then x itself, which takes its place in the graph after this op, as after any in-place op
        (``take_dirty_places``)."""
        self._dirty = tensors

    def take_dirty_places(self, outputs):
        """After forward: each input that ``mark_dirty`` named takes the place of the output that shows its numbers.

        Its state until now moves to a snapshot, which becomes this op's input (``inplace.py``: ops recorded before
        keep theirs); x gets this op as its grad_fn. A view x writes the change into the tensor it views, as any
        change through a view (``x[1:]`` changed by the Function: its base records ``base[1:] = output``)."""
        many = isinstance(outputs, tuple)
        outs = list(outputs) if many else [outputs]
        for x in self._dirty:
            places = [i for i, out in enumerate(outs) if getattr(out, "array", None) is getattr(x, "array", 0)]
            if not places:
                raise RuntimeError(f"{type(self).__name__}: Some elements marked as dirty during the forward method "
                                   "were not returned as output. The inputs that are modified inplace must all be "
                                   "outputs of the Function (return x after changing it)")
            out = outs[places[0]]
            if out.grad_fn is None and x.requires_grad:  # not recorded (under no_grad, or marked non-differentiable):
                continue                                 # the output shows x's numbers without its graph, as PyTorch's
            for i in places:
                outs[i] = x
            if out.grad_fn is None:  # not recorded: nothing requires grad
                continue
            records_inplace(x, f"{type(self).__name__} (mark_dirty)", out)  # (refuses a leaf, an expanded view ...)
            before = _snapshot(x)
            self.inputs = tuple(before if t is x else t for t in self.inputs)
            if x._base is not None:  # (a view: written into its base, which records it; that write is this op's
                _into_base(x)(out)   # own, so what it saved of x's numbers stays valid)
                _takes_place_of(x, _view_again(x), before)
                self._saved_versions = [(a, n, n[0] if n is x._version_counter else v) for a, n, v in
                                        self._saved_versions]
            else:
                x.grad_fn, x._requires_grad, x._previous = out.grad_fn, True, before
            if many:
                x._output_nr = places[0]
                for i in places:
                    self._outputs[i] = weakref.ref(x)
        return tuple(outs) if many else outs[0]


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
