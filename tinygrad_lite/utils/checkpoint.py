"""Activation checkpointing, ``torch.utils.checkpoint``: spend compute to save memory.

Backward needs what forward computed: every op of the graph keeps its inputs and what its backward reads, so a
network holds all its activations until backward has gone past them, and memory grows with depth x batch.
``checkpoint(fn, *args)`` runs ``fn`` without keeping any of its inner results, only its inputs and outputs.
When backward reaches the outputs it runs ``fn`` again on the same inputs, recording the graph this time, and
sends the gradients through that second run. A network cut into k checkpointed parts holds one part's activations
at a time, plus the parts' inputs, for one extra forward pass (``checkpoint_sequential`` cuts a Sequential).

The second run must compute the same numbers. Dropout draws the same mask because the random generators' states
at the first run are put back for the second (``preserve_rng_state=True``, the default; the CPU's generator and
those of the GPUs the tensor arguments are on), and an ``autocast`` region open at the first run is open again.

Two ways to do it, PyTorch's ``use_reentrant``:

- ``use_reentrant=True`` (PyTorch's default while it warns that you should choose): the first run is under
  ``no_grad``; the second run gets a backward pass of its own inside the outer one (re-entrant), which adds into
  every leaf's ``.grad`` directly. So only the tensors passed to ``fn`` are edges of the graph: when none requires
  grad, the output does not either and the parameters get nothing (a warning says so), and ``autograd.grad`` or
  ``backward(inputs=...)`` through it is refused (their gradients would land in ``.grad``). Keyword arguments for
  ``fn`` are refused.
- ``use_reentrant=False`` (PyTorch's advice): the first run records its graph, only to find every tensor it
  reached from outside that requires grad (the inputs, and the parameters ``fn`` used); then the graph is let go.
  The checkpoint is one node whose inputs are those tensors, and its backward asks ``autograd.grad`` for their
  gradients through the second run: it works with ``autograd.grad``, gradients of gradients (``create_graph``),
  keyword arguments and inputs that require no grad. ``context_fn`` gives two context managers, one for each run.

Deliberate differences: PyTorch's non-reentrant way keeps the first run's graph and drops only the tensors saved in
it, so the output's ``grad_fn`` is ``fn``'s last op; ours drops the whole inner graph (in this library an op keeps
its input tensors, so the graph is what holds the activations), and the output's ``grad_fn`` is a
``CheckpointBackward``: the numbers and gradients are the same. As PyTorch's, a parameter changed in place between
forward and backward is not refused: the second run reads its new numbers (without a checkpoint, an op that saved
it would refuse). ``determinism_check`` compares the outputs' shapes
and dtypes of the two runs (PyTorch compares every saved tensor's); ``debug`` and ``early_stop`` change nothing.
The re-entrant way refuses a function that returns a dict (or anything but a tensor or a tuple) when an input
requires grad, where PyTorch returns it with no gradient flowing back through it.
"""
import contextlib
import warnings

from .. import autograd
from ..amp import autocast_mode
from ..autograd import grad_mode
from ..autograd.function import Function, _sequence
from ..autograd.inplace import input_as_used
from ..random import fork_rng, get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "noop_context_fn",
           "set_checkpoint_early_stop", "set_checkpoint_debug_enabled", "detach_variable", "check_backward_validity"]

CHOOSE = ("the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, calling checkpoint "
          "without use_reentrant will raise an exception. use_reentrant=False is recommended, but if you need to "
          "preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more details "
          "on the differences between the two variants.")


class CheckpointError(RuntimeError):
    """The second run of a checkpointed function did not compute what the first one did."""


def noop_context_fn():
    """``context_fn``'s default: no context around either run."""
    return contextlib.nullcontext(), contextlib.nullcontext()


class _Replay:
    """What makes the second run compute what the first did: the random states and the open autocast regions."""

    def __init__(self, args, preserve_rng_state):
        self.gpus = sorted({t.device.index or 0 for t in args if isinstance(t, Tensor) and t.device.type == "cuda"})
        self.cpu = get_rng_state() if preserve_rng_state else None
        self.gpu = {i: _cuda().get_rng_state(i) for i in self.gpus} if preserve_rng_state else {}
        self.autocast = dict(autocast_mode._active)

    @contextlib.contextmanager
    def again(self):
        with fork_rng(devices=self.gpus, enabled=self.cpu is not None), contextlib.ExitStack() as regions:
            if self.cpu is not None:
                set_rng_state(self.cpu)
                for index, state in self.gpu.items():
                    _cuda().set_rng_state(state, index)
            for device_type in ("cpu", "cuda"):
                if device_type in self.autocast or device_type in autocast_mode._active:
                    dtype = self.autocast.get(device_type)
                    regions.enter_context(autocast_mode.autocast(device_type, dtype, enabled=dtype is not None))
            yield


def _cuda():
    from .. import cuda  # (here: only a GPU run needs it)
    return cuda


def _as_tuple(outputs):
    return outputs if isinstance(outputs, tuple) else (outputs,)


def _kinds(outputs):
    """(shape, dtype) of each tensor a run returned (None for anything else): what the two runs must agree on."""
    return [(tuple(t.shape), t.dtype) if isinstance(t, Tensor) else None for t in _as_tuple(outputs)]


def _check_same(first, second, determinism_check):
    """The second run's outputs must have the first's shapes and dtypes (PyTorch's ``determinism_check``)."""
    if determinism_check == "none":
        return
    like = _kinds(second)
    if like != first:
        raise CheckpointError(f"torch.utils.checkpoint: the recomputed outputs differ from the first run's: {first} "
                              f"then {like} (shape, dtype). The checkpointed function must compute the same thing "
                              "when run again: does it depend on a global that changed, or on the random numbers "
                              "with preserve_rng_state=False?")


class CheckpointFunction(Function):
    """``use_reentrant=True``: the first run under ``no_grad`` keeps only the inputs; backward runs ``fn`` again
    and calls ``autograd.backward`` on its outputs, which adds into the parameters' ``.grad`` on the way."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function, ctx.replay = run_function, _Replay(args, preserve_rng_state)
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a if isinstance(a, Tensor) else None for a in args])
        outputs = run_function(*args)
        if not isinstance(outputs, (Tensor, tuple)):  # (a deliberate difference: PyTorch's is silent)
            raise RuntimeError(f"checkpoint(use_reentrant=True): the function returned a {type(outputs).__name__}; "
                               "this way tracks only tensors returned alone or in a tuple (PyTorch returns the "
                               f"{type(outputs).__name__} with no gradient flowing back through it). Pass "
                               "use_reentrant=False, which tracks tensors in any structure, or return a tuple")
        ctx.like = _kinds(outputs)
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        if autograd._for_some_inputs[0]:
            raise RuntimeError("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or "
                               "passing an `inputs` parameter to .backward(). To resolve this error, you can either "
                               "set use_reentrant=False, or call .backward() without passing the `inputs` argument.")
        inputs = detach_variable(tuple(o if t is None else t for t, o in zip(ctx.saved_tensors, ctx.others)))
        with ctx.replay.again(), grad_mode.enable_grad():
            outputs = ctx.run_function(*inputs)
        _check_same(ctx.like, outputs, "default")
        pairs = [(o, g) for o, g in zip(_as_tuple(outputs), grads) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None, *[t.grad if isinstance(t, Tensor) else None for t in inputs])


def _reached_from_outside(outputs, start):
    """The tensors that require grad which the graph of ``outputs`` reaches from outside the ops recorded since
    ``start`` (a ``sequence_nr``): leaves (parameters, inputs) and results of earlier ops. Each once, in order."""
    found, seen = {}, set()
    stack = [t for t in outputs if isinstance(t, Tensor) and t.requires_grad]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        fn = t.grad_fn
        if fn is None or fn.sequence_nr < start:
            found[id(t)] = t
            continue
        stack.extend(x for x in (input_as_used(x, fn) for x in fn.inputs) if x.requires_grad)
    return list(found.values())


class Checkpoint(Function):
    """``use_reentrant=False``: one node whose inputs are the tensors that ``fn``'s first run reached from outside.
    Its backward runs ``fn`` again and returns their gradients through that run (``autograd.grad``)."""

    @staticmethod
    def forward(ctx, run, *reached):
        ctx.run = run
        for t, differentiable in zip(_as_tuple(run.outputs), run.differentiable):
            if isinstance(t, Tensor) and not differentiable:
                ctx.mark_non_differentiable(t)
        return run.outputs

    @staticmethod
    def backward(ctx, *grads):
        run, reached = ctx.run, ctx.inputs
        if run is None:
            raise RuntimeError("Checkpoint: trying to backward through the graph a second time: the first .backward() "
                               "let its inputs go. Pass retain_graph=True to the first backward call if you need to "
                               "backward twice, or recompute the forward pass.")
        for i, (a, version) in enumerate(zip(run.args, run.versions)):
            if version is not None and a._version != version:
                raise RuntimeError(f"checkpoint: argument {i} (shape {tuple(a.shape)}) was changed in place since the "
                                   "first run began (by the function itself, or after it), so the second run would "
                                   "read other numbers and the gradient would be wrong; change a copy (x.clone()) "
                                   "instead")
        # grad mode on: a backward with create_graph, whose gradients must be functions of the inputs themselves;
        # otherwise the second run reads detached copies, at which the walk of autograd.grad stops
        record = grad_mode.is_grad_enabled()
        copies = run.args if record else detach_variable(tuple(run.args))
        with run.replay.again(), grad_mode.enable_grad(), run.context:
            outputs = run.function(*copies, **run.kwargs)
        _check_same(run.like, outputs, run.determinism_check)
        pairs = [(o, g) for o, g in zip(_as_tuple(outputs), grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        passed = [(a, c) for a, c in zip(run.args, copies) if a is not c and c.requires_grad]
        if not pairs:
            return (None, *[None] * len(reached))
        found = autograd.grad([o for o, _ in pairs], [c for _, c in passed] + list(reached), [g for _, g in pairs],
                              allow_unused=True, create_graph=record)
        through_copies = {}  # an argument's gradient through its copy (the same tensor passed twice: the sum)
        for (a, _), g in zip(passed, found):
            if g is not None:
                through_copies[id(a)] = g + through_copies[id(a)] if id(a) in through_copies else g
        grads_of_reached = []
        for t, g in zip(reached, found[len(passed):]):  # (g: its gradient where fn reads it directly, not passed)
            copy = through_copies.get(id(t))
            grads_of_reached.append(copy if g is None else g if copy is None else g + copy)
        return (None, *grads_of_reached)

    def release(self):
        """After a backward without ``retain_graph``: the run goes (a second backward is refused, as PyTorch's)."""
        self.run = None


class _Run:
    """One checkpointed call: the function, its arguments, the first run's outputs and how to replay it."""

    def __init__(self, function, args, kwargs, preserve_rng_state, context_fn, determinism_check):
        self.function, self.args, self.kwargs, self.determinism_check = function, args, kwargs, determinism_check
        self.replay = _Replay(args, preserve_rng_state)
        self.versions = [a._version if isinstance(a, Tensor) else None for a in args]
        first, self.context = context_fn()
        start = next(_sequence)
        with first:
            outputs = function(*args, **kwargs)
        self.like = _kinds(outputs)
        self.differentiable = [isinstance(t, Tensor) and t.requires_grad for t in _as_tuple(outputs)]
        self.reached = _reached_from_outside(_as_tuple(outputs), start) if grad_mode.is_grad_enabled() else []
        if not self.reached:  # nothing from outside requires grad (or grad mode is off): there is no graph to keep
            self.outputs = outputs
            return
        detached = tuple(t.detach() if isinstance(t, Tensor) else t for t in _as_tuple(outputs))
        self.outputs = detached if isinstance(outputs, tuple) else detached[0]  # (the first run's graph goes now)


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """PyTorch stops a recomputation once it has the tensors backward needs; ours runs ``fn`` whole: no change."""
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """PyTorch's debug traces of a failed determinism check; ours says what differed: no change."""
    yield


def detach_variable(inputs):
    """Each tensor of the tuple ``inputs`` detached, keeping its ``requires_grad`` (others as they are)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    return tuple(t.detach().requires_grad_(t.requires_grad) if isinstance(t, Tensor) else t for t in inputs)


def check_backward_validity(inputs):
    """The re-entrant way's warning when no tensor argument requires grad."""
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=3)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, with its activations recomputed in backward instead of kept (module docstring).
    ``use_reentrant``: choose (None warns, as PyTorch's, and means True)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: " + CHOOSE, UserWarning, stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if grad_mode.is_grad_enabled():
            check_backward_validity(args)
        if not (grad_mode.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args)):
            with grad_mode.no_grad():  # (nothing to differentiate: the outputs as they are, with no graph)
                return function(*args)
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    run = _Run(function, args, kwargs, preserve_rng_state, context_fn, determinism_check)
    return Checkpoint.apply(run, *run.reached) if run.reached else run.outputs


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a ``Sequential`` (or a list of modules) on ``input`` in ``segments`` parts, each checkpointed but the
    last (its activations are needed at once by backward): memory for one part's activations plus ``segments``
    inputs. Each part but the last holds len // segments modules, as PyTorch's."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(functions) // segments

    def run_part(start, end):
        def forward(x):
            for f in functions[start:end + 1]:
                x = f(x)
            return x
        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_part(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_part(end + 1, len(functions) - 1)(input)
