"""Lesson 10, inside training: the checks of its six exercises.

- ``10.ActivationStats``: a class ``ActivationStats(modules)`` that registers one forward hook per module and
  appends the mean and the standard deviation (``Tensor.std()``, divisor n - 1) of each module's OUTPUT to
  ``self.means[i]`` and ``self.stds[i]`` at every forward call; ``remove()`` removes every hook. Judged by driving
  it (``RunAnswer``): a small tanh network with hidden sizes, some forward calls, ``remove()``, then one more call:
  no hook may be left on any module, and the records must not grow. The watched modules are Linear layers in some
  runs and Tanh layers in others, so statistics of the input (what the module receives) differ from those of the
  output everywhere.
- ``10.dead_fraction``: the fraction of units (columns) of a ReLU layer's output that are 0 for every sample of the
  batch. The cases have N != units, exact zeros (as ReLU gives them) and values in (0, 1); one h requires grad.
- ``10.update_ratios``: ``lr * ||W.grad|| / ||W||`` (Frobenius norms) per layer, a numpy array; the layers have
  weights and gradients of very different sizes, so the wrong layer's ``||W||`` or a missing ``lr`` shows.
- ``10.batch_norm_forward``: ``(y, new_running_mean, new_running_var)`` for an (N, C) input, in training mode (the
  batch's mean and biased variance normalise; the running statistics move by ``momentum`` towards the batch's
  mean and UNBIASED variance, PyTorch's convention) and in evaluation mode (the running statistics normalise and
  come back unchanged). Small batches (N = 3, 4) make biased and unbiased variances differ; N != C everywhere;
  momentum and eps vary (eps = 0.5 makes eps outside the square root visible).
- ``10.batch_norm_backward``: dx, dgamma, dbeta of training-mode batch norm, by hand in numpy (the autograds are
  forbidden; the building blocks: arithmetic, sum, mean, the variance, sqrt, a matrix product).
- ``10.layer_norm_forward``: normalise over the last dim (2-D and 3-D inputs), biased variance, eps inside the
  square root, then gamma and beta.
"""
import contextlib
import inspect
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from ... import autograd, manual_seed, nn, no_grad, tensor
from ...autograd.gradcheck import analytic_jacobians
from ...nn import functional as F
from ...nn.modules import module as module_hooks
from ...tensor import Tensor
from ..answers import ArrayAnswer, NumberAnswer, Run, TensorAnswer, TupleAnswer, an, dtype_name, is_tensor, type_name
from ..checks import Case, ErrorHint, compare_arrays
from ..compare import Diagnosed
from .kinds import Within, array_function, as_float64, double, driven, f32, mistake, recognised, tensor_function

AUTOGRAD = (Tensor.backward, autograd.grad, "torch.Tensor.backward", "torch.autograd.grad", "torch.autograd.backward")
HOOK_DICTS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")


# -------------------------------------------------------------------- 10.ActivationStats
class StatsReference:
    """The library's answer: one forward hook per module, the output's mean and std at every call. A wrong
    collector overrides ``_stats`` alone (``_collector``)."""

    def __init__(self, modules):
        self.means = [[] for _ in modules]
        self.stds = [[] for _ in modules]
        self.handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(modules)]

    def _hook(self, i):
        def hook(module, inputs, output):
            mean, std = self._stats(inputs[0].detach(), output.detach())
            self.means[i].append(mean.item())
            self.stds[i].append(std.item())
        return hook

    @staticmethod
    def _stats(received, output):
        return output.mean(), output.std()

    def remove(self):
        for handle in self.handles:
            handle.remove()


def _collector(stats):
    """A wrong collector: StatsReference recording ``stats(received, output)`` as each call's (mean, std)."""
    return type("WrongStats", (StatsReference,), {"_stats": staticmethod(stats)})


def _stats_net(spec):
    """The case's network: a Linear and an activation per layer (and a Dropout, with ``dropout``), seeded."""
    manual_seed(spec["seed"])
    act = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}.get(spec.get("act"), nn.Tanh)
    layers = []
    for n_in, n_out in zip(spec["sizes"][:-1], spec["sizes"][1:]):
        layers += [nn.Linear(n_in, n_out), act()] + ([nn.Dropout(spec["dropout"])] if spec.get("dropout") else [])
    net = nn.Sequential(*layers)
    net = net.double() if spec.get("dtype") == "float64" else net
    if spec.get("offset"):  # the first Linear's outputs far from 0: a mean `offset` times their spread or so
        with no_grad():
            net[0].bias.add_(spec["offset"])
    return net


def _stats_inputs(spec):
    rng = np.random.default_rng(spec["seed"])
    make = double if spec.get("dtype") == "float64" else f32
    xs = [make(spec["scale"] * rng.standard_normal((spec["batch"], spec["sizes"][0]))) for _ in range(spec["calls"])]
    return rng, xs


def _reference_stats(spec):
    """StatsReference's numbers on the case, for the float64 case's own comparison."""
    net = _stats_net(spec)
    stats = StatsReference([net[i] for i in spec["watch"]])
    for x in _stats_inputs(spec)[1]:
        net(x)
    stats.remove()
    return [v for row in stats.means + stats.stds for v in row]


def _watch_returns(modules, before, returned):
    """Wrap the forward hooks registered on ``modules`` since ``before`` (their ids) so that a hook that returns
    something records (it, whether it is the module's output itself) in ``returned``; what it returns still goes
    on, as it would without the check."""
    for module, known in zip(modules, before):
        hooks = module._forward_hooks
        for hook_id in [h for h in hooks if h not in known]:
            def wrapped(*args, _hook=hooks[hook_id], **kwargs):
                if (result := _hook(*args, **kwargs)) is not None:
                    returned.append((result, result is args[-1]))
                return result
            hooks[hook_id] = wrapped


def _returns_problem(returned):
    value, is_output = returned[0]
    if is_output:
        return ("your hook returns the module's output itself: harmless as it is, but what a forward hook returns "
                "REPLACES the module's output, so a hook that returns anything edits the network instead of "
                "watching it (one change, e.g. a .float() or a detach(), and the network computes with something "
                "else). Record the statistics and return nothing")
    return (f"your hook returns {an(type_name(value))}, not None: what a forward hook returns REPLACES the module's "
            "output, so the network then computes (and differentiates) with your object instead of the module's "
            "own, even when it holds the same values (and a copy in another dtype, e.g. .float() in a float64 "
            "network, breaks the next layer). Record the statistics and return nothing")


def _hooks_left(net, names=HOOK_DICTS):
    return sum(len(getattr(m, name, {}) or {}) for m in net.modules() for name in names)


def drive_stats(cls, args, kwargs):
    """Build the case's network, watch the modules it names with ``cls(modules)``, run ``calls`` forward passes,
    ``remove()``, one more pass. Run: every mean, then every std, module after module."""
    spec = args[0]
    net = _stats_net(spec)
    modules = [net[i] for i in spec["watch"]]
    rng, xs = _stats_inputs(spec)

    def one_more_call():  # a batch of 2 new samples
        net(tensor(np.asarray(rng.standard_normal((2, spec["sizes"][0])), dtype=xs[0].numpy().dtype)))
    params = list(net.parameters())
    manual_seed(spec["seed"] + 1)  # the dropout masks: the first watched call draws the same ones
    out = net(xs[0])
    out.sum().backward()  # the output and the gradients without hooks, to compare with those while watched
    plain = (out.detach().numpy().copy(), [p.grad.numpy().copy() for p in params])
    for p in params:
        p.grad = None
    foreign = modules[0].register_forward_hook(lambda module, inputs, output: None)  # someone else's hook
    before = [set(m._forward_hooks) for m in modules]
    global_before = set(module_hooks._global_forward_hooks) | set(module_hooks._global_forward_pre_hooks)
    stats = cls(modules)
    added = (set(module_hooks._global_forward_hooks) | set(module_hooks._global_forward_pre_hooks)) - global_before
    if added:
        for hook_id in added:
            module_hooks._global_forward_hooks.pop(hook_id, None)
            module_hooks._global_forward_pre_hooks.pop(hook_id, None)
        return Run.failed("your collector registered a GLOBAL hook (nn.modules.module.register_module_forward_hook), "
                          "which runs for every module of every network, and which PyTorch's modules never see "
                          "(section 9 runs your class on them). Register one hook on each watched module: "
                          "module.register_forward_hook(hook)")
    if foreign.id not in modules[0]._forward_hooks:
        return Run.failed("your __init__ removed a hook that other code had registered on the module (the module's "
                          "hook dict cleared?): register your hooks beside those already there, and later remove "
                          "only yours, with the handles that register_forward_hook returns")
    unwatched = [i for i, (m, known) in enumerate(zip(modules, before)) if not set(m._forward_hooks) - known]
    lazy = [name for name, value in getattr(stats, "__dict__", {}).items() if isinstance(value, Iterator)]
    if unwatched and lazy:
        return Run.failed(f"your __init__ keeps a lazy iterator in self.{lazy[0]} (a generator expression, or a "
                          "map(...)): it runs nothing until something iterates over it, so no hook was registered "
                          "when __init__ returned. Make it a list: [m.register_forward_hook(...) for m in modules]")
    if unwatched and not any("forward" in vars(m) or "__call__" in vars(m) for m in modules):
        i = unwatched[0]
        backward = any(getattr(modules[i], name, None) for name in ("_backward_hooks", "_backward_pre_hooks"))
        return Run.failed(
            f"when your __init__ returned, modules[{i}] ({an(type(modules[i]).__name__)}) had no forward hook of "
            "yours" + (": you registered a backward hook, which runs during backward(), not at each forward call. "
                       "Use register_forward_hook" if backward else
                       ". Register one forward hook on EACH module in the list, whatever its type, and keep it until "
                       "remove() (a hook registered inside a `with handle:` block is removed when the block ends)"))
    if any("forward" in vars(m) or "__call__" in vars(m) for m in modules):
        return Run.failed("your collector replaced the modules' forward (or __call__) with a function of its own: "
                          "that edits the modules instead of watching them, and stays behind unless put back. "
                          "Register a forward hook on each module (module.register_forward_hook(hook)) and remove it "
                          "with its handle")
    returned = []
    _watch_returns(modules, before, returned)
    later = modules[-1].register_forward_hook(lambda module, inputs, output: None)  # one registered after yours
    modes = spec.get("modes") or ["train"] * len(xs)
    manual_seed(spec["seed"] + 1)
    for k, x in enumerate(xs):
        net.train(modes[k] != "eval")  # every call counts: in evaluation mode and under no_grad too
        try:
            with no_grad() if modes[k] == "no_grad" else contextlib.nullcontext():
                out = net(x)
        except Exception:
            if returned:  # e.g. a float32 copy returned in a float64 network: the next layer refuses it
                return Run.failed(_returns_problem(returned))
            raise
        if k == 0:
            problem = (_watched_changes(out, params, plain, returned)
                       or (_returns_problem(returned) if returned else None))
            if problem:
                return Run.failed(problem)
    lazy = [n for n in ("means", "stds") if isinstance(inspect.getattr_static(type(stats), n, None), property)]
    if lazy:
        return Run.failed(f"self.{lazy[0]} is a property, computed when read: keep plain lists that your hooks append "
                          "numbers to at each call (a collector that keeps the outputs to compute from later keeps "
                          "every batch's tensors, and their graphs, alive)")
    if kept := _tensors_kept(vars(stats) if hasattr(stats, "__dict__") else {}):
        return Run.failed(f"your collector keeps {kept}: a tensor kept keeps its memory (and its graph, if it has "
                          "one) alive for the whole run. Have the hooks turn each output into its two numbers at "
                          "once (.item()) and keep only the numbers")
    for name in ("means", "stds"):
        if not hasattr(stats, name):
            return Run.failed(f"your collector has no attribute {name!r}: keep a list per module in self.{name}")
        rows = getattr(stats, name)
        if not isinstance(rows, (list, tuple)) or not all(isinstance(row, list) for row in rows):
            inner = "" if not isinstance(rows, (list, tuple)) else " whose entries are not all lists"
            return Run.failed(f"self.{name} is {an(type_name(rows))}{inner}: a list of lists is expected, one "
                              f"list per module, in the order of the modules (self.{name}[i] for modules[i]), "
                              "so that zip(stats.means, stats.stds) gives each module's two lists")
    means, stds = list(stats.means), list(stats.stds)
    if len(means) != len(modules) or len(stds) != len(modules):
        return Run.failed(f"{len(modules)} modules were watched, so self.means and self.stds must hold one list per "
                          f"module; they hold {len(means)} and {len(stds)}")
    lengths = [len(m) for m in means] + [len(s) for s in stds]
    if any(n != spec["calls"] for n in lengths):
        held = f"{lengths[:len(modules)]} (means) and {lengths[len(modules):]} (stds)"
        late = (len(modules) > 1 and all(n == 0 for n in lengths[:len(modules) - 1])
                and lengths[len(modules) - 1] == spec["calls"] * len(modules))
        gone = not any(set(m._forward_hooks) - known - {later.id} for m, known in zip(modules, before))
        mine = [len(set(m._forward_hooks) - known - {later.id}) for m, known in zip(modules, before)]
        if stats.means is stats.stds:
            return Run.failed("self.means and self.stds are one and the same list (self.stds = self.means makes no "
                              "copy): make two lists of lists, one for the means and one for the stds")
        rows = [r for r in means + stds if isinstance(r, list)]
        aliased = len(rows) > 1 and len({id(r) for r in rows}) < len(rows)
        twice = not aliased and all(n == 2 * spec["calls"] for n in lengths) and all(k >= 2 for k in mine)
        if aliased or twice:
            return Run.failed(
                f"after {spec['calls']} forward calls each module's list should hold {spec['calls']} numbers, yours "
                f"hold {held}: " + (
                    "several of your lists are one and the same list object, so every hook appends to it ([[]] * n "
                    "repeats ONE inner list n times). Each module needs a list object of its own: a new empty list "
                    "made once per module"
                    if aliased else
                    "every module has two of your hooks, so each call records twice: register one hook per module "
                    "(once, in __init__)"))
        skipped = None  # (the case with modes makes one call of each: training mode, eval mode, under no_grad)
        if {"eval", "no_grad"} <= set(modes) and lengths[0] in (len(modes) - 1, modes.count("train")):
            skipped = f"in eval mode {'or' if lengths[0] == len(modes) - 1 else 'and'} under no_grad"
        why = (". Every number went to the last module's list. The usual cause: hooks that all read one variable i "
               "after the loop ended (a function defined in a loop sees the loop variable's last value); make each "
               "hook in a function called with its own i. Whatever the cause, each hook must append to its own "
               "module's list" if late else
               ". Your hooks were no longer registered when the network ran: they were removed before the first "
               "call (a hook registered inside a `with handle:` block is removed when the block ends); keep the "
               "handles and remove the hooks only in remove()" if gone and not any(lengths) else
               f". Your hooks left out the calls {skipped} (a test of module.training, or of requires_grad?): "
               "a watcher records every forward call, whatever the mode" if len(set(lengths)) == 1 and skipped else
               f". Each list stopped at {lengths[0]}: record every call, however many there are (the case makes "
               f"{spec['calls']}), with no limit of your own"
               if len(set(lengths)) == 1 and 0 < lengths[0] < spec["calls"] else "")
        return Run.failed(f"after {spec['calls']} forward calls each module's list should hold {spec['calls']} "
                          f"numbers, yours hold {held}: one hook per module, appending once per call{why}")
    if not hasattr(stats, "remove"):
        return Run.failed("your collector has no method remove(): it must remove the hooks it registered")
    stats.remove()
    if foreign.id not in modules[0]._forward_hooks or later.id not in modules[-1]._forward_hooks:
        return Run.failed("remove() also removed a hook that other code had registered on the module: remove only "
                          "the hooks your collector registered (keep each handle register_forward_hook returns, "
                          "and call its remove()), so that the modules are left as they were found")
    foreign.remove()
    later.remove()
    if left := _hooks_left(net):
        counts = [(_hooks_left(net, (name,)), kind) for name, kind in zip(HOOK_DICTS, (
            "forward pre-hook", "forward hook", "backward pre-hook", "backward hook"))]
        which = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for n, kind in counts if n)
        return Run.failed(f"after remove() the network still has {left} hook(s) registered ({which}): a hook left "
                          "behind keeps running at every later call, and keeps your collector alive. Keep the "
                          "handle that each register_... call returns (forward, pre- or backward hook alike), and "
                          "remove each one")
    one_more_call()
    after = [len(m) for m in stats.means]
    if after != [spec["calls"]] * len(modules):
        if all(n <= spec["calls"] for n in after):
            return Run.failed(f"after remove() your lists hold {after} numbers, not the {spec['calls']} of each "
                              "module recorded before: remove() threw the records away. It should only remove the "
                              "hooks; the statistics recorded so far stay in self.means and self.stds")
        return Run.failed("after remove() a forward call still added numbers to your lists")
    values = [v for row in means for v in row] + [v for row in stds for v in row]
    odd = next((v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))), None)
    if odd is not None:
        if is_tensor(odd):
            return Run.failed(f"self.means and self.stds must hold plain Python numbers, yours hold a "
                              f"{type(odd).__name__}: a tensor kept in a list keeps its memory (and its graph, if "
                              "it has one) alive for the whole run; .item() gives the number")
        return Run.failed(f"self.means and self.stds must hold plain Python numbers, yours hold {an(type_name(odd))}: "
                          ".item() on the tensor (or float() on a numpy number) gives a Python float")
    if spec.get("dtype") == "float64" and spec.get("offset"):
        right = _reference_stats(spec)
        if not np.allclose(values, right, rtol=STATS_LARGE_RTOL, atol=0.0):
            worst = float(np.max(np.abs(np.subtract(values, right)) / np.abs(right)))
            if worst < 1e-4:
                return Run.failed(
                    f"your numbers differ from the formula's by up to {worst:.0e} relative here, where float64 keeps "
                    "them within 1e-10: the outputs' mean is about 10000 times their spread, and a variance computed "
                    "as mean(x**2) - mean(x)**2 (or a sum of squares minus n * mean**2) subtracts two nearly equal "
                    "numbers, which cancels most of their digits. Subtract the mean first, as Tensor.std does")
    elif spec.get("dtype") == "float64":
        right = _reference_stats(spec)
        if (not np.allclose(values, right, rtol=1e-12, atol=1e-14)
                and np.allclose(values, right, rtol=1e-4, atol=1e-6)):
            rounded = next((d for d in range(1, 12) if all(v == round(v, d) for v in values)), None)
            if rounded is not None:
                return Run.failed(f"your numbers are rounded to {rounded} decimals: keep them as they come "
                                  "(.item() gives the full float64 value); round only when you print them")
            digits = _digits(values, right)
            return Run.failed(f"in a float64 network your statistics agree with the float64 ones to only about "
                              f"{digits} significant digits (float64 keeps about 16): something lowered their "
                              "precision, such as float32 arithmetic (a .float() or a float32 copy before the mean "
                              "and std: about 7 digits), rounding, or a small constant added. Compute them in the "
                              "output's own dtype and keep them as they come")
    kept = [list(row) for row in stats.means] + [list(row) for row in stats.stds]
    other = cls([net[0]])
    one_more_call()
    other.remove()
    if [list(row) for row in stats.means] + [list(row) for row in stats.stds] != kept:
        return Run.failed("a second collector changed the lists of the first: two instances share their lists "
                          "(a module-level list, a class attribute such as means = [] in the class body, or a "
                          "mutable default argument such as def hook_for(self, i, cache={})). Make new lists in "
                          "__init__ (self.means = [...]) and keep nothing shared, so that each collector has its own")
    # two collectors on the same module at once: each records each call once, and removing one leaves the other
    target = modules[0]
    attributes = set(vars(target))
    first, second = cls([target]), cls([target])

    def count(stats):
        rows = getattr(stats, "means", None)
        return len(rows[0]) if isinstance(rows, (list, tuple)) and rows and isinstance(rows[0], list) else 0
    one_more_call()
    both = (count(first), count(second))
    second.remove()
    one_more_call()
    after = (count(first), count(second))
    first.remove()
    if both != (1, 1):
        return Run.failed(f"two collectors watching the same module at once must each record each call once; after "
                          f"one call yours hold {both[0]} and {both[1]} numbers: they share their records (lists "
                          "kept on the module, or in a module-level or class-level dict keyed by the module). Keep "
                          "each collector's records in the instance (self.means = [...] in __init__)")
    if after[0] != 2 or _hooks_left(net):
        return Run.failed("with two collectors on one module, removing the second one stopped the first one "
                          "recording (or left hooks behind): the two share their list of handles (a class "
                          "attribute such as handles = [] in the class body, or a module-level list). Make the list "
                          "in __init__ (self.handles = [...]), so that remove() removes this collector's hooks only")
    if after[1] != 1:
        return Run.failed("after remove() a collector still recorded the next call: remove() must stop it")
    if left := sorted(set(vars(target)) - attributes):
        return Run.failed(f"your collector left an attribute on the module ({left[0]}): keep what a collector "
                          "records in the collector, so that the modules are left as they were found")
    return Run.of(values)


def _tensors_kept(attributes, depth=3):
    """A phrase naming a Tensor held in the collector's attributes (in lists, tuples and dicts, a few levels deep),
    or None."""
    for name, value in attributes.items():
        todo = [(value, 0)]
        while todo:
            item, level = todo.pop()
            if is_tensor(item):
                return f"a Tensor in self.{name}"
            if level < depth and isinstance(item, (list, tuple)):
                todo += [(v, level + 1) for v in item]
            elif level < depth and isinstance(item, dict):
                todo += [(v, level + 1) for v in item.values()]
    return None


def _watched_changes(out, params, plain, returned=()):
    """None if the network's output and gradients are those without hooks, else the problem."""
    if not np.array_equal(out.detach().numpy(), plain[0]):
        return ("while your hooks were on, the network's output changed: a hook that changes the output in place "
                "changes the network (output.detach() shares the output's memory, so a -= or *= on it does too); "
                "so does one that returns a value, which REPLACES the module's output, and one that runs the "
                "module again (module(...) or module.forward(...) on its inputs: a Dropout draws another random "
                "mask, so the later layers get other random numbers). Compute the statistics from the output the "
                "hook is given, without changing anything, and return None")
    if out.requires_grad:
        out.sum().backward()
    missing = sum(p.grad is None for p in params)
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in params]
    for p in params:
        p.grad = None
    if missing and not returned:
        return (f"while your hooks were on, {missing} of the network's {len(params)} parameters got no gradient: "
                "something cut the graph (output.detach_() in a hook detaches the tensor the network goes on with; "
                "requires_grad_(False) on the parameters stops their gradients), so backward() does not reach "
                "them. Read the statistics from output.detach(), which makes a new tensor, and change nothing")
    if missing:
        return (f"while your hooks were on, {missing} of the network's {len(params)} parameters got no gradient: "
                "your hook returns a tensor cut from the graph (output.detach()?), and what a forward hook returns "
                "REPLACES the module's output, so backward() stops there. Record the statistics and return None")
    changed = sum(not np.allclose(g, g0, rtol=1e-6, atol=0.0) for g, g0 in zip(grads, plain[1]) if g is not None)
    if changed:
        return (f"while your hooks were on, the gradients of {changed} of the network's {len(params)} parameters "
                "changed: a hook registered on the output (output.register_hook) or on the parameters that returns "
                "a new gradient rescales what backward() passes on. A collector only watches: register nothing on "
                "the tensors, and leave the gradients as they are")
    return None


def _stats_case(label, sizes, watch, calls, batch, seed, scale=1.0, visible=False, dtype="float32", modes=None,
                act="tanh", offset=0.0, dropout=0.0):
    spec = {"sizes": sizes, "watch": watch, "calls": calls, "batch": batch, "seed": seed, "scale": scale,
            "dtype": dtype, "act": act, "offset": offset}
    if dropout:
        spec["dropout"] = dropout
    if modes:
        spec["modes"] = modes  # per call: "train", "eval" (net.eval()) or "no_grad" (training mode, no graph)
    return Case((spec,), label, visible=visible)


STATS_EXAMPLE = {"sizes": [4, 6, 6, 3], "watch": [1, 3, 5], "calls": 2, "batch": 5, "seed": 0, "scale": 1.0}


def _stats_cases(rng):
    return [
        Case((dict(STATS_EXAMPLE),), "the example: the three Tanh layers of a 4-6-6-3 network, two calls",
             visible=True),
        _stats_case("the Linear layers of a 5-8-8-8-2 network, three calls", [5, 8, 8, 8, 2], [0, 2, 4, 6], 3, 7, 1,
                    scale=3.0),
        _stats_case("one Tanh layer, one call, a batch of 2", [3, 4, 2], [3], 1, 2, 2),
        _stats_case("Linear and Tanh layers mixed, four calls", [6, 10, 10, 4], [0, 3, 4], 4, 9, 3, scale=2.0),
        _stats_case("the last Linear layer of a deep 3-5-5-5-5-5-2 network, a batch of 3", [3, 5, 5, 5, 5, 5, 2],
                    [10], 2, 3, 4, scale=0.5),
        _stats_case("a float64 network (as in section 9, Compare with PyTorch): the Tanh layers of a 4-8-8-3 "
                    "network, two calls", [4, 8, 8, 3], [1, 3], 2, 6, 5, dtype="float64"),
        _stats_case("three calls: in training mode, in evaluation mode (net.eval()), under tl.no_grad()",
                    [4, 6, 6, 3], [1, 2], 3, 4, 6, modes=["train", "eval", "no_grad"]),
        _stats_case("a batch of one sample (the std is over the output's 5 values), two calls", [3, 5, 2], [0, 1],
                    2, 1, 7),
        _stats_case("the Tanh layers of a 4-6-6-3 network listed last to first (modules[0] runs last)",
                    [4, 6, 6, 3], [5, 3, 1], 2, 4, 8),
        _stats_case("a Linear and a Sigmoid layer of a 5-7-2 network (any module type can be watched)", [5, 7, 2],
                    [0, 1], 2, 4, 9, act="sigmoid"),
        _stats_case("a dead ReLU layer (every output 0: mean 0, std 0) and the ReLU after it", [4, 6, 3], [1, 3],
                    2, 5, 12, act="relu", offset=-50.0),
        _stats_case("Tanh and Dropout(0.5) layers of an 8-16-16-4 network in training mode, a batch of 48, six "
                    "calls (dropout draws a new mask at each call)", [8, 16, 16, 4], [1, 2, 5, 8], 6, 48, 11,
                    dropout=0.5),
        _stats_case("one Tanh layer, 40 calls (a run of many batches)", [3, 4, 2], [1], 40, 2, 13),
        _stats_case("a float64 Linear layer whose outputs have a mean about 10000 times their spread", [4, 8, 2],
                    [0], 2, 6, 10, dtype="float64", offset=1e4),
    ]


# ActivationStats' large-mean case (float64 outputs about 1e4 + N(0, 1)): right idioms agree with the reference to
# about 1e-12 relative, a one-pass variance is off by about 1e-8; the case's tolerance lies between
# (tests/test_lesson10.py measures both).
STATS_LARGE_RTOL = 1e-10


def _compare_stats(got, expected, case):
    """compare_arrays of the flat numbers, the worst one named as the list and the call it belongs to."""
    failure = compare_arrays(got, expected, 1e-5, 1e-6, "your numbers")
    if not failure or np.shape(got) != np.shape(expected):
        return failure
    g, e = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    wrong = ~np.isclose(g, e, rtol=1e-5, atol=1e-6, equal_nan=True)
    k = int(np.argmax(np.where(wrong, np.abs(g - e), -1)))
    calls, n = case.args[0]["calls"], len(case.args[0]["watch"])
    if g.size == 2 * n * calls and np.allclose(g.reshape(2, -1)[::-1], e.reshape(2, -1), rtol=1e-5, atol=1e-6):
        return ("your means and your stds are swapped: self.means must hold the means and self.stds the standard "
                "deviations")
    if g.size == 2 * n * calls and n > 1:
        mine, right = g.reshape(2, n, calls), e.reshape(2, n, calls)
        if all(any(np.allclose(mine[:, i], right[:, j], rtol=1e-5, atol=1e-6) for j in range(n)) for i in range(n)):
            order = case.args[0]["watch"]
            here = " (here modules[0] runs last)" if list(order) != sorted(order) else ""
            return ("your numbers are right, but in the wrong modules' lists: each list must hold the statistics of "
                    "its own module, modules[i] -> self.means[i] and self.stds[i], whatever order the modules run "
                    f"in{here}. Let each hook know its own module's index (or the module itself), for example "
                    "through a closure over i, rather than counting calls")
    name = "means" if k < n * calls else "stds"
    i, call = divmod(k % (n * calls), calls)
    return (f"{int(wrong.sum())} of your {g.size} numbers differ. The worst is self.{name}[{i}][{call}] (module "
            f"{i} of the {n} watched, forward call {call + 1} of {calls}): expected {e[k]:.6g}, got {g[k]:.6g}")


driven(
    "10.ActivationStats", StatsReference, _stats_cases, drive_stats,
    error_hints=[
        ErrorHint(r"takes 2 positional arguments but 4 were given", "a forward call ran your method hook_for(module, "
                  "inputs, output): register_forward_hook was given the method itself, where it needs the hook that "
                  "hook_for(i) makes for module i. Register self.hook_for(i)",
                  "on each module, register the hook that hook_for makes for that module's own index"),
    ],
    compare=_compare_stats, match=Within(1e-5, 1e-6),
    mistakes=[
        mistake(_collector(lambda received, output: (received.mean(), received.std())),
                "these are the statistics of what each module RECEIVES: a forward hook gets (module, inputs, "
                "output), and the activations a module produces are its output",
                "inputs is a tuple of the positional arguments of the call; the third argument of the hook is the "
                "tensor the module returned"),
        mistake(_collector(lambda received, output: (output.mean(), output.std(unbiased=False))),
                "your standard deviations divide by n, the exercise asks for Tensor.std() as it is (divisor n - 1, "
                "PyTorch's default); with a small batch the two differ",
                "the sample standard deviation, divisor n - 1: Tensor.std()'s default (numpy's np.std needs ddof=1)"),
        mistake(_collector(lambda received, output: (output.mean(), output.var())),
                "your standard deviations are variances (the square of the std): Tensor.std() is asked for",
                "std, not var"),
        mistake(_collector(lambda received, output: (output.abs().mean(), output.std())),
                "your means are those of the absolute values: the mean of the output itself is asked for, which may be "
                "negative (a drifting mean is one of the things it shows)", "no abs() before the mean"),
        # the std of each column (dim 0: per feature) or each row (dim 1: per sample), averaged
        *[mistake(_collector(lambda received, output, _dim=dim: (output.mean(), output.std(dim=_dim).mean())),
                  f"your stds are the average of one std per {what}: the exercise asks for ONE std of all the "
                  "output's values together (how widely the layer's activations spread), which also counts how "
                  f"far the {whats} lie apart",
                  "Tensor.std() with no dim takes every value of the tensor at once")
          for dim, what, whats in ((0, "feature (column)", "features' means"), (1, "sample (row)", "samples' means"))],
    ],
    points=2,
)


# -------------------------------------------------------------------- 10.dead_fraction
DEAD_EXAMPLE = [[0.0, 0.5, 0.0, 1.2, 0.0],
                [0.0, 0.0, 0.0, 0.3, 0.7],
                [0.0, 0.2, 0.0, 0.0, 0.0]]   # 3 samples, 5 units: units 0 and 2 are dead


def _relu_output(rng, n, units, dead, p_zero=0.5):
    h = np.maximum(rng.standard_normal((n, units)), 0.0) * rng.uniform(0.2, 0.9)
    h[rng.random((n, units)) < p_zero] = 0.0
    for j in range(units):  # no unit dead by chance: exactly the chosen ones
        if not h[:, j].any():
            h[rng.integers(n), j] = rng.uniform(0.05, 0.9)
    h[:, rng.choice(units, size=dead, replace=False)] = 0.0
    return f32(h)


def _dead_cases(rng):
    def relu(n, units, dead=0, p_zero=0.5):  # as a numpy array, to edit
        return _relu_output(rng, n, units, dead, p_zero).numpy()

    def small_but_alive():
        h = relu(10, 9, p_zero=0.3)
        h[:, [1, 4]] = 0.0
        for j, (low, high) in zip([2, 5, 7], [(1e-7, 1e-6), (1e-4, 1e-3), (1e-3, 1e-2)]):
            h[:, j] = rng.uniform(low, high, 10)
        return f32(h)

    def constant_alive():
        h = relu(6, 8, p_zero=0.3)
        h[:, [0, 6]] = 0.0
        h[:, 3] = 0.5                                  # the same positive value for every sample: alive
        h[:, 1] = 1.25                                 # (two such units: the constant ones are 4 of 8, the dead 2)
        h[:, 5] = rng.uniform(1e-12, 5e-12, 6)         # tiny, but positive: alive
        return f32(h)

    def tiny_alive():
        h = relu(5, 6, 1, p_zero=0.3)
        alive = [j for j in range(6) if h[:, j].any()]
        h[:, alive[0]] = rng.uniform(2e-38, 1e-37, 5)  # positive, however small: alive (a tolerance of 1e-30 says dead)
        return f32(h)

    def tiny_alive64():
        h = relu(5, 4, 1, p_zero=0.3).astype(np.float64)
        alive = [j for j in range(4) if h[:, j].any()]
        h[:, alive[0]] = 0.0
        h[rng.integers(5), alive[0]] = 3e-50
        return double(h)

    def late_alive():
        h = relu(64, 12)
        h[:, [2, 9]] = 0.0
        for j in (0, 5, 11):
            h[:48, j] = 0.0
            h[48 + rng.integers(16), j] = rng.uniform(0.1, 0.9)
        return f32(h)

    def requiring_grad():  # as a ReLU layer's output in a network being trained (a leaf: the check copies it)
        return tensor(relu(7, 9, 2), requires_grad=True)

    def one_sample_in_a_thousand():  # a threshold on the share of zeros (99%, 99.9%) calls these units dead
        h = relu(2000, 6)
        h[:, [1, 4]] = 0.0
        for j in (0, 2, 5):
            h[:, j] = 0.0
            h[rng.integers(2000), j] = rng.uniform(0.1, 0.9)
        return f32(h)
    return [
        Case((f32(DEAD_EXAMPLE),), "h_ex", visible=True),
        Case((_relu_output(rng, 8, 20, 5),), "8 samples, 20 units, 5 of them dead"),
        Case((_relu_output(rng, 30, 6, 1, p_zero=0.8),), "30 samples, 6 units, most outputs 0 but one unit dead"),
        Case((_relu_output(rng, 4, 10, 0),), "4 samples, 10 units, none dead",
             trivial="the edge case with no dead unit: its answer is 0, which a function that always says 0 gives "
                     "too; it catches answers that count a unit dead for one zero"),
        Case((_relu_output(rng, 5, 7, 7),), "every unit dead",
             trivial="the edge case with every unit dead: its answer is 1, which a function that always says 1 "
                     "gives too; it catches a count in place of a fraction"),
        Case((_relu_output(rng, 12, 16, 3, p_zero=0.2),), "values below 1, 3 dead units of 16"),
        Case((small_but_alive(),), "10 samples, 9 units, 2 dead, and 3 alive with every value in (0, 0.01]"),
        Case((constant_alive(),), "6 samples, 8 units, 2 dead, two alive with one value for every sample, one "
                                  "alive with values near 1e-12"),
        Case((tiny_alive(),), "5 samples, 6 units, 1 dead, one alive with values near 1e-37 (float32's smallest "
                              "normal number is 1.2e-38)"),
        Case((tiny_alive64(),), "float64, 4 units, 1 dead, one alive with one value near 1e-50 (float32 "
                                "rounds it to 0)"),
        Case((late_alive(),), "a batch of 64, 12 units, 2 dead, three alive only in the last 16 samples"),
        Case((one_sample_in_a_thousand(),), "2000 samples, 6 units, 2 dead, three positive for one sample each"),
        Case((requiring_grad(),), "an h that requires grad (as the output of a layer being trained does: section "
                                  "8 calls your function on one), 7 samples, 9 units, 2 dead"),
    ]


def _dead_reference(h):
    return float(((h > 0).float().sum(0) == 0).float().mean().item())


_A_TENSOR = ("you returned a {} where a plain Python number was expected (a float): .item() gives the number a "
             "one-element tensor holds")


def drive_dead(fn, args, kwargs):
    """``fn``'s answer; a Run that fails if it changed h in place, values or not: train_watched hands it the
    ReLU's output detached, which shares the output's version counter, so even clamp_(min=0) on it makes the
    backward pass refuse the changed tensor."""
    h = args[0] if args else None
    version = getattr(h, "_version", None)
    got = fn(*args, **kwargs)
    if version is not None and getattr(h, "_version", None) != version:
        return Run.failed("your function changed h in place (an op ending in _, such as clamp_ or abs_, or a write "
                          "h[...] = ...), even if no value moved: when h is a ReLU's output detached (as a hook reads "
                          "it), it shares its memory and version with the output, so the "
                          "backward pass then refuses it ('modified by an inplace operation'). Only read h")
    # a tensor is refused here, in a Run: refused by the answer kind, a float32 one would also get the float32 hint
    if is_tensor(got) or type_name(got).startswith("torch."):
        return Run.failed(_A_TENSOR.format(type_name(got)))
    if is_tensor(h) and h.ndim == 2 and h.shape[0] > 1 and h.shape[1] > 1:  # train_watched: a new batch each step
        other = np.zeros(tuple(h.shape), dtype=h.dtype.np)
        other[:, 1::2] = (np.arange(h.shape[0]) + 1.0)[:, None] / 2   # every other unit alive, not constant
        other = tensor(other)
        want, first = _dead_reference(other), _dead_reference(h)
        try:  # (only a first answer that was right: a wrong one's own failure shows on the cases)
            again = fn(other)
            same = float(got) == first and float(again) == float(got) and float(got) != want
        except Exception:  # noqa: BLE001  (a wrong answer's own failure shows on the cases)
            same = False
        if same:
            return Run.failed(f"called again on another batch of the same shape (every other unit alive: {want:g} "
                              f"dead), your function gave its first answer, {float(got):g}, again: it kept something "
                              "from the earlier call (a cache keyed by the shape?). A training loop that watches its "
                              "layers calls it on a new batch at every step: compute it afresh each time")
    return got


class _FloatAnswer(NumberAnswer):
    """A NumberAnswer that refuses an integer: the exercise asks for a Python float."""

    def refuse(self, got, expected=None):
        if problem := getattr(got, "problem", None):  # a Run from drive_dead
            return problem
        if isinstance(got, (int, np.integer)) and not isinstance(got, bool):
            return (f"you returned the {type_name(got)} {got}; the exercise asks for the fraction as a Python float: "
                    "return float(...) (and if it came from //, integer division rounded it down: divide with /)")
        return super().refuse(got, expected)


def _constant_columns(got, expected, case):
    """The fraction of constant columns (std 0, max == min), where that differs from the dead fraction."""
    h = as_float64(case.args[0])
    constant = float((h.max(axis=0) == h.min(axis=0)).mean())
    value = float(np.asarray(got, dtype=np.float64))
    return abs(constant - float(np.asarray(expected))) > 1e-6 and abs(value - constant) <= 1e-6


def _with_a_tolerance(got, expected, case):
    """The fraction of units whose values are all at most some tolerance in (0, 0.01], where that differs (the
    cases with small live units have them below 0.01; a larger threshold matches other slips by chance)."""
    top = as_float64(case.args[0]).max(axis=0)
    fractions = {float((top <= t).mean()) for t in top[(top > 0) & (top <= 0.01)]}
    return any(abs(float(np.asarray(got)) - f) < 1e-6 for f in fractions if abs(f - float(np.asarray(expected))) > 1e-6)


driven(
    "10.dead_fraction", _dead_reference, _dead_cases, drive_dead, answer=_FloatAnswer(), judge=Within(1e-6, 1e-9),
    mistakes=[
        mistake(lambda h: 1.0 - _dead_reference(h), "your answer equals the fraction of ALIVE units here (1 minus the "
                "dead fraction). If that is what you computed: a dead unit is one that NO sample gave a positive "
                "value, and the fraction asked for is of those",
                "per unit (column): dead when not one sample of the batch gave it a positive value"),
        mistake(lambda h: float((as_float64(h) == 0).mean()),
                "you counted the zero ENTRIES (or divided the number of dead units by the number of samples, "
                "which gives the same number on this case); a dead unit is a column that is 0 for every sample of "
                "the batch (a live unit is 0 for some samples and positive for others: that is ReLU working), and "
                "the fraction is of the units (h.shape[1])",
                "read again what makes a unit dead in section 2 (a statement about a whole column of h, not about "
                "one entry), and what the fraction is taken of: the exercise's example h_ex has 2 dead units of 5"),
        recognised(lambda got, expected, case: float(np.asarray(got, dtype=np.float64)) == 0.0
                   and float(np.asarray(expected)) > 0,
                   "your fraction is 0, but some units of this batch are dead. Slips that give 0: testing h < 0 (a "
                   "ReLU never outputs a negative number, so nothing is found: a dead unit is 0, not below 0, for "
                   "every sample), integer division rounded it down to 0 (// where / was meant), the wrong axis "
                   "(asking per sample, a row, whether all its units are 0), or comparing each column's number of "
                   "zeros with h.shape[1], the number of units, instead of h.shape[0]",
                   "a unit is a column, dead when none of its h.shape[0] values is positive: (h > 0) per column, "
                   "then the fraction of columns with no positive value"),
        recognised(_constant_columns,
                   "you counted the CONSTANT units (columns with one value for every sample) as dead: a unit that "
                   "gives 0.5 for every sample is alive (its weights get a gradient); dead means 0 for every sample",
                   "ask whether any sample gave the unit a positive value (h > 0), not whether its values vary"),
        recognised(_with_a_tolerance, "you counted units with small values as dead (a tolerance, or a cast to a "
                   "smaller dtype such as float16, which rounds tiny values to 0): a dead unit gives exactly 0 for "
                   "every sample; one that gives 0.001 is alive (its weights get a gradient)",
                   "compare h itself with 0 exactly (h > 0), in its own dtype"),
        mistake(lambda h: float((as_float64(h) > 0).any(axis=0).__invert__().sum()),
                "that is the NUMBER of dead units; a fraction is asked for (divide by the number of units)",
                "a mean over units of a 0/1 'dead' flag is the fraction"),
        recognised(lambda got, expected, case: case.args[0].shape[1] != 5 and np.isclose(  # (the example's 5 units)
                   float(np.asarray(got, dtype=np.float64)), float(expected) * case.args[0].shape[1] / 5),
                   "your count of dead units is right, but you divided it by 5, the number of units of the example "
                   "h_ex: divide by the number of units of h itself, h.shape[1]"),
        mistake(lambda h: float((as_float64(h) == 0).any(axis=0).mean()), "your answer equals the fraction of units "
                "that are 0 for SOME sample here. If that is what you computed: dead means 0 for EVERY sample of the "
                "batch; a unit that is 0 for some samples and positive for others is alive, that is ReLU working",
                "per unit, ask whether any sample gave it a positive value"),
    ],
    points=1,
)


# -------------------------------------------------------------------- 10.update_ratios
def _layers_with_grads(rng, sizes, weight_scales, grad_scales, make=f32):
    layers = []
    for (n_in, n_out), ws, gs in zip(zip(sizes[:-1], sizes[1:]), weight_scales, grad_scales):
        layer = nn.Linear(n_in, n_out)
        layer = layer.double() if make is not f32 else layer
        with no_grad():
            layer.weight.copy_(make(ws * rng.standard_normal((n_out, n_in))))
            layer.bias.copy_(make(rng.standard_normal(n_out)))
        layer.weight.grad = make(gs * rng.standard_normal((n_out, n_in)))
        layer.bias.grad = make(10 * rng.standard_normal(n_out))
        layers.append(layer)
    return layers


def _ratio_cases(rng):
    example = np.random.default_rng(0)
    return [
        Case((_layers_with_grads(example, [4, 3, 2], [1.0, 0.5], [0.1, 2.0]), 0.1), "layers_ex, lr = 0.1",
             visible=True),
        Case((_layers_with_grads(rng, [5, 8, 8, 3], [0.3, 2.0, 0.05], [1.0, 0.01, 5.0]), 0.01),
             "three layers with weights and gradients of very different sizes, lr = 0.01"),
        Case((_layers_with_grads(rng, [6, 2], [1.0], [1e-3]), 1.0), "one layer, lr = 1"),
        Case((_layers_with_grads(rng, [3, 7, 7, 7, 2], [0.5, 1.5, 0.1, 3.0], [2.0, 0.2, 1.0, 0.05]), 3e-4),
             "four layers, lr = 3e-4"),
        Case((_layers_with_grads(rng, [10, 4, 10], [0.02, 4.0], [0.3, 30.0]), 0.05),
             "two layers, a small weight with a small gradient, a large weight with a large one, lr = 0.05"),
        Case((_layers_with_grads(rng, [6, 5, 4, 3], [2e-4, 1e-4, 3e-4], [1e-3, 2e-2, 1e-4]), 0.1),
             "three layers with tiny weights (norms about 0.001), lr = 0.1"),
        # issue 32: float64 layers (a network made .double()), judged at float64's precision (_compare_ratios)
        Case((_layers_with_grads(rng, [5, 4, 3], [0.7, 1.3], [0.05, 2.0], make=double), 0.02),
             "two float64 layers (a network made .double()), lr = 0.02"),
    ]


def _compare_ratios(got, expected, case):
    """The exercise's tolerance; on float64 layers float64's (a norm taken through float32 is off by about 1e-8)."""
    failure = compare_arrays(got, expected, 1e-5, 1e-12)
    if failure or dtype_name(case.args[0][0].weight) != "float64":
        return failure
    if compare_arrays(got, expected, 1e-12, 0.0):
        return (f"your ratios are right to about {_digits(got, expected)} significant digits, but these layers are "
                "float64 (about 16 digits): something on the way rounded to float32, which keeps about 7: a "
                ".float(), np.float32 or .astype(np.float32) of a weight, a gradient or a norm, a float32 array "
                "returned, or a tl.tensor(list of the ratios), which is float32 by default (as torch.tensor of "
                "Python floats is). Take each norm in the weight's own dtype: .item() gives the full float64 "
                "number, and np.array of Python floats keeps it (float64)")
    return None


def _ratio_reference(layers, lr):
    return np.array([lr * float(layer.weight.grad.norm().item()) / float(layer.weight.norm().item())
                     for layer in layers])


def _norms(layers, of="weight"):
    """The float64 Frobenius norms of each layer's parameter ``of`` and of its gradient: two arrays, a number per
    layer."""
    params = [getattr(layer, of) for layer in layers]
    return (np.array([np.linalg.norm(as_float64(p)) for p in params]),
            np.array([np.linalg.norm(as_float64(p.grad)) for p in params]))


def _from_norms(formula, of="weight"):
    """A wrong update_ratios: ``formula(p, g, lr)`` of the norms ``_norms(layers, of)``."""
    return lambda layers, lr: formula(*_norms(layers, of), lr)


def _per_layer(formula):
    """A wrong update_ratios: ``formula(w, g, lr)`` of each layer's weight and gradient (float64 arrays)."""
    return lambda layers, lr: np.array([formula(as_float64(layer.weight), as_float64(layer.weight.grad), lr)
                                        for layer in layers])


def _ratio_weight_and_bias(layers, lr):
    (w, g), (b, gb) = _norms(layers), _norms(layers, "bias")
    return lr * np.sqrt(g ** 2 + gb ** 2) / np.sqrt(w ** 2 + b ** 2)


def _ratio_padded_norm(got, expected, case):
    """lr * |grad| / (|W| + c) with one small constant c > 0 for every layer (a stability hack)."""
    layers, lr = case.args
    w, g = _norms(layers)
    got = np.asarray(got, dtype=np.float64)
    if got.shape != w.shape or not np.all(got > 0) or np.allclose(got, expected, rtol=1e-5, atol=1e-12):
        return False
    c = lr * g / got - w
    return bool(np.all(c > 0) and np.all(c < 1e-2) and np.allclose(c, c[0], rtol=1e-2, atol=0.0))


def _ratio_by_difference(got, expected, case):
    """The update measured as the change of the weights, (W - lr * grad) - W, in float32: cancellation (a match at
    the exercise's tolerance, as the norms of float32 arrays differ in their last digits from one routine to
    another)."""
    layers, lr = case.args
    wrong = [np.linalg.norm(((w := layer.weight.detach().numpy()) - lr * layer.weight.grad.numpy()) - w)
             / np.linalg.norm(w) for layer in layers]
    return (compare_arrays(got, np.array(wrong, dtype=np.float64), 1e-5, 1e-12) is None  # off by more than
            and compare_arrays(got, expected, 1e-6, 0.0) is not None)                     # float32's rounding


def _snapshot(layers):
    return [(p.detach().numpy().copy(), None if p.grad is None else p.grad.numpy().copy())
            for layer in layers for p in layer.parameters()]


def drive_ratios(fn, args, kwargs):
    """Call ``fn``; a Run that fails if it changed any weight or gradient of the layers (it only reads them)."""
    layers = args[0]
    before = _snapshot(layers)
    flags = [p.requires_grad for layer in layers for p in layer.parameters()]
    got = fn(*args, **kwargs)
    if [p.requires_grad for layer in layers for p in layer.parameters()] != flags:
        return Run.failed("your function changed the layers' requires_grad (requires_grad_(False)?): the next "
                          "forward pass then builds no graph through them, so their weights get no gradient and "
                          "stop training. Read the weights without changing them: .item() on a norm, or numbers "
                          "taken under tl.no_grad()")
    for (w0, g0), (w1, g1) in zip(before, _snapshot(layers)):
        if g0 is not None and g1 is None:
            return Run.failed("your function set the gradients to None: the ratios are computed between "
                              "backward() and optimizer.step(), so the optimizer's step would find no gradient and "
                              "nothing would train. Read .grad, never clear it")
        if not (np.array_equal(w0, w1) and (g0 is None or np.array_equal(g0, g1))):
            return Run.failed("your function changed the layers' weights or gradients: it must only read them (the "
                              "optimizer's step comes after it, and uses them as they were)")
    # train_watched calls it at every step on the same layers, whose weights and gradients change in between
    first = _ratio_reference(*args, **kwargs)
    if not (np.shape(got) == np.shape(first) and np.allclose(np.asarray(got, np.float64), first, rtol=1e-4)):
        return got  # a wrong first answer: the cases say what is wrong with it
    saved = [(layer.weight.detach().numpy().copy(), layer.weight.grad) for layer in layers]
    with no_grad():
        for layer in layers:
            layer.weight.mul_(2.0)
            layer.weight.grad = layer.weight.grad * 3.0
        try:
            again, want = fn(*args, **kwargs), _ratio_reference(layers, *args[1:], **kwargs)
        finally:
            for layer, (w0, g0) in zip(layers, saved):
                layer.weight.copy_(tensor(w0))
                layer.weight.grad = g0
    if np.shape(again) == np.shape(want) and not np.allclose(np.asarray(again, np.float64), want, rtol=1e-4):
        return Run.failed("called again on the same layers after their weights doubled and their gradients "
                          "tripled (as after a training step), your function did not give the new ratios (1.5 "
                          "times the old): it kept something from the earlier call (a cache keyed by the layer?). "
                          "Compute every norm afresh at each call")
    return got


class _RatioAnswer(ArrayAnswer):
    def refuse(self, got, expected=None):
        if problem := getattr(got, "problem", None):  # a Run from drive_ratios (decoded as a look-alike class)
            return problem
        if is_tensor(got) or type_name(got).startswith("torch."):
            return (f"you returned {an(type_name(got))}; this exercise works on numpy arrays: take each norm as a "
                    "number (.item()) and wrap the list of ratios in np.array(...)")
        if isinstance(got, (list, tuple)):
            return (f"you returned {an(type_name(got))} where a numpy array was expected: wrap it in np.array(...)")
        if isinstance(got, np.ndarray) and got.dtype == np.float16:
            return ("you returned a float16 array: float16 keeps about 3 significant digits, too few for these "
                    "ratios. Return float32 or float64 (np.array of Python floats gives float64)")
        return super().refuse(got, expected)


array_function(
    "10.update_ratios", _ratio_reference, _ratio_cases, answer=_RatioAnswer(), call=drive_ratios,
    compare=_compare_ratios, match=Within(1e-5, 1e-12),
    error_hints=[
        ErrorHint(r"numpy\(\) on a tensor that requires grad",
                  "np.array(...) was given tensors (the norms, or the ratios computed from them), which numpy "
                  "cannot take while they are in a graph: turn each norm into a Python number with .item() first, "
                  "then compute the ratio from the numbers",
                  "each layer gives two norms, its weight gradient's and its weight's: .item() of each is a Python "
                  "float, and lr times their quotient is that layer's entry of the list you hand to np.array"),
    ],
    mistakes=[
        mistake(_from_norms(lambda w, g, lr: np.log10(lr * g / w)), "you returned log10 of the ratios: the plots take "
                "the log, the function returns the ratios themselves", "no np.log10 in the function"),
        mistake(_from_norms(lambda w, g, lr: g / w), "your ratios are those without the learning rate (is lr missing, "
                "or does it cancel, as in (lr * grad) / (lr * W)?): the step SGD takes is lr times the gradient, and "
                "the ratio compares that step with the weight as it is", "lr multiplies the gradient's norm only"),
        mistake(_from_norms(lambda w, g, lr: lr * w / g), "your ratio is upside down: the size of the update goes on "
                "top, the size of the weight below", "the update is lr times the gradient"),
        recognised(_ratio_padded_norm, "your ratios are lr * |grad| / (|W| + c) with a small constant c added to the "
                   "weight's norm: that changes them, most where the weights are small, and here beyond the check's "
                   "tolerance. A layer's weight norm is not 0 in practice: divide by the norm as it is",
                   "lr * |grad| / |W|, nothing added"),
        mistake(_from_norms(lambda w, g, lr: lr * g / np.roll(w, 1)), "each ratio must compare a layer's update with "
                "THAT layer's weight; yours divides by the weight of another layer",
                "take the gradient and the weight from the same layer in each step of the loop"),
        mistake(_from_norms(lambda w, g, lr: (lr * g / w)[::-1]), "your ratios are in reverse order (the list "
                "reversed, or sorted?): one per layer, in the order of `layers`", "the i-th ratio is the i-th layer's"),
        mistake(_from_norms(lambda w, g, lr: lr * g / w[0]), "each ratio must compare a layer's update with THAT "
                "layer's weight; yours divides every layer's by the first layer's weight",
                "take the gradient and the weight from the same layer in each step of the loop"),
        mistake(_from_norms(lambda b, gb, lr: lr * gb / b, of="bias"), "you measured the biases; the ratio is of the "
                "WEIGHT matrix: lr * ||W.grad|| / ||W|| with W = layer.weight",
                "layer.weight and layer.weight.grad, not layer.bias"),
        mistake(_ratio_weight_and_bias, "you took the weight and the bias together; the ratio is of the weight matrix "
                "alone, lr * ||W.grad|| / ||W|| with W = layer.weight", "layer.weight and layer.weight.grad only"),
        mistake(_from_norms(lambda w, g, lr: lr * g ** 2 / w ** 2), "your norms are squared (a sum of squares without "
                "the square root): the norm is the square root of the sum of squares of all entries",
                "Tensor.norm() is that norm"),
        mistake(_from_norms(lambda w, g, lr: (lr * g / w) ** 2), "your ratio is squared: lr * ||W.grad|| / ||W||, with "
                "each norm the square root of a sum of squares", "Tensor.norm() is that norm"),
        mistake(_per_layer(lambda w, g, lr: lr * np.linalg.norm(g, 2) / np.linalg.norm(w, 2)),
                "you took the spectral norm (np.linalg.norm(W, 2): the largest singular value, for a matrix); the "
                "exercise asks for the Frobenius norm, the square root of the sum of squares of all entries",
                "np.linalg.norm(W) with no second argument, or Tensor.norm()"),
        mistake(_from_norms(lambda w, g, lr: 0.1 * g / w), "you used lr = 0.1 (the example's) instead of the argument "
                "lr: use the learning rate the function is given", "multiply by the parameter lr"),
        mistake(_from_norms(lambda w, g, lr: w / (lr * g)), "your ratio is upside down: the size of the update, lr * "
                "||W.grad||, goes on top, the size of the weight below", "lr * ||W.grad|| / ||W||"),
        mistake(_per_layer(lambda w, g, lr: lr * np.linalg.norm(g) / np.linalg.norm(w + lr * g)),
                "you divided by W + lr * grad: the ratio compares the update with the weight as it is now, before any "
                "step", "||W|| of layer.weight as it is"),
        mistake(_per_layer(lambda w, g, lr: lr * np.linalg.norm(g) / np.linalg.norm(w - lr * g)),
                "you divided by the weight after the step (W - lr * grad); the ratio compares the update with the "
                "weight as it is now, before the optimizer's step", "||W|| of layer.weight as it is"),
        recognised(_ratio_by_difference,
                "you measured the update as the change of the weights, (W - lr * grad) - W, in float32: W - lr * grad "
                "keeps float32's 7 digits, and subtracting W back cancels most of them when the update is small "
                "next to W. SGD's update is lr * grad itself: take its norm directly",
                "lr * ||W.grad|| / ||W||, with no weights subtracted"),
        mistake(_per_layer(lambda w, g, lr: lr * g.std() / w.std()), "you divided standard deviations (Karpathy's "
                "std(lr * grad) / std(W)); the exercise asks for the norms, lr * ||W.grad|| / ||W||. The two are "
                "nearly equal only when the weight and its gradient both have many entries whose means are near 0, and "
                "these cases have small matrices", "Tensor.norm() of a matrix is the norm the exercise asks for"),
        mistake(lambda layers, lr: np.array([lr * np.abs(layer.weight.grad.numpy()).mean()
                                             / np.abs(layer.weight.detach().numpy()).mean() for layer in layers]),
                "you used mean absolute values (or sums of absolute values: the ratio is the same); the exercise "
                "asks for the norms (the square root of the sum of "
                "squares of all entries). Both give a size, but not the same number",
                "Tensor.norm() of a matrix is that norm"),
    ],
    points=1,
)


# -------------------------------------------------------------------- 10.batch_norm_forward
BN_EXAMPLE = ([[1.0, 2.0, 0.0], [3.0, 0.0, 1.0], [2.0, 4.0, -1.0], [6.0, 2.0, 0.0]],  # x: N = 4 samples, C = 3 features
              [1.0, 2.0, 0.5], [0.0, -1.0, 1.0],    # gamma, beta
              [0.5, 0.0, 0.0], [1.0, 2.0, 1.0])     # running_mean, running_var


def _bn_case(rng, n, c, training, label, momentum=None, eps=None, scale=1.0, make=f32, offset=0.0, gamma_low=0.5,
             gamma_zero=False, shift=1.0, running_var_scale=1.0):
    x = make(scale * rng.standard_normal((n, c)) + shift * rng.standard_normal(c) + offset)
    g = rng.uniform(gamma_low, 2.0, c)
    g[:1] = 0.0 if gamma_zero else g[:1]  # a feature switched off (zero-initialised gammas exist in practice)
    gamma, beta = make(g), make(rng.standard_normal(c))
    rm = make(running_var_scale ** 0.5 * rng.standard_normal(c))  # the running mean on the same scale
    rv = make(running_var_scale * rng.uniform(0.5, 3.0, c))
    # every argument by position, as the notebook calls the function (a signature with two arguments swapped fails)
    given = (momentum if momentum is not None else 0.1, eps) if eps is not None else (
        (momentum,) if momentum is not None else ())
    return Case((x, gamma, beta, rm, rv, training, *given), label)


def _bn_cases(rng):
    return [
        Case((*(f32(a) for a in BN_EXAMPLE), True), "the example in training mode", visible=True),
        _bn_case(rng, 3, 5, True, "training, a batch of 3, 5 features"),
        _bn_case(rng, 6, 2, True, "training, momentum 0.3", momentum=0.3),
        _bn_case(rng, 4, 3, True, "training, eps 0.5 and values of spread about 0.3", eps=0.5, scale=0.3),
        _bn_case(rng, 5, 4, False, "evaluation mode"),
        _bn_case(rng, 3, 6, False, "evaluation mode, eps 0.5, momentum 0.3", momentum=0.3, eps=0.5),
        _bn_case(rng, 8, 3, True, "training, momentum 0.01, eps 1e-3", momentum=0.01, eps=1e-3),
        _bn_case(rng, 5, 3, True, "training, float64 tensors (a network made .double())", make=double),
        _bn_case(rng, 4, 3, False, "evaluation mode, float64 tensors", make=double),
        _bn_case(rng, 5, 6, True, "training, gamma with negative entries", gamma_low=-2.0),
        _bn_case(rng, 4, 6, False, "evaluation mode, gamma with negative entries", gamma_low=-2.0),
        _bn_case(rng, 5, 3, True, "training, the first gamma 0 (its feature's output is beta)", gamma_zero=True),
        _bn_case(rng, 4, 3, True, "training, momentum 0 (the running statistics stay where they are)", momentum=0.0),
        _bn_case(rng, 6, 3, True, "training, momentum 0.9 and eps 1e-10, values of spread about 0.001", momentum=0.9,
                 eps=1e-10, scale=1e-3, shift=1e-3),
        _bn_case(rng, 4, 4, True, "training, a batch of 4, 4 features (as many samples as features)", gamma_low=-2.0),
        _bn_case(rng, 5, 1, True, "training, one feature (C = 1)"),
        _bn_case(rng, 64, 4, True, "training, a batch of 64 (as in the lesson's networks)"),
        _bn_case(rng, 1, 4, False, "evaluation mode, one sample (a batch of 1, as when a model serves one input)"),
        _bn_case(rng, 5, 3, False, "evaluation mode, eps 1e-10, running variances about 1e-7 (features of spread "
                 "3e-4)", eps=1e-10, scale=3e-4, shift=3e-4, running_var_scale=1e-7),
        _bn_case(rng, 6, 3, True, "training, eps 1e-10, running variances about 1e-7 and a batch of spread 1e-4 "
                 "(the new running variances stay below 1e-6)", eps=1e-10, scale=1e-4, shift=1e-4,
                 running_var_scale=1e-7),
        _bn_case(rng, 2, 3, True, "training, a batch of 2 (the smallest batch training accepts), eps 0.5", eps=0.5,
                 shift=0.0),
        _bn_case(rng, 6, 3, True, LARGE_MEAN, make=double, offset=LARGE_OFFSET),
    ]


# A float64 case whose features (batch norm) or samples (layer norm) have a mean about 3e4 times their spread. The
# variance as mean(x^2) - mean(x)^2 subtracts two numbers that agree in their first 9 digits: over 100 draws of the
# case its results were off by 4e-8 or more, where right answers (ours, other orders of operations, PyTorch's)
# stayed within 4.5e-11 (the input's own rounding, 3e4 * 2.2e-16 = 7e-12 per value, bounds how close any formula
# gets). The case's float64 tolerance, 3e-10 absolute plus 1e-10 relative, lies between the two with a factor of 6
# or more on each side; tests/test_lesson10.py measures both.
LARGE_OFFSET = 3e4
LARGE_MEAN = "float64, each mean about 30000 times the spread (activations far from 0)"


CANCELLATION = ("every mean is about {scale} times the spread, and a variance computed as mean(x**2) - mean(x)**2 "
                "subtracts two nearly equal numbers, which cancels most of their digits (catastrophic cancellation). "
                "Subtract the mean first and average the squared deviations (divided by n, or by n - 1 for the "
                "unbiased variance), as Tensor.var and PyTorch do")
FLOAT32_ON_THE_WAY = ("a float32 number on the way, which rounds at about 6e-8 of the value: a constant made with "
                      "np.float32 or tl.tensor(...) (float32 by default), such as n / (n - 1)")


def _cancellation(got, expected, within="3e-10", scale="30000", names=(), running_only=False):
    pairs = list(zip(got, expected)) if isinstance(got, tuple) else [(got, expected)]
    errors = [(float(np.max(np.abs(np.asarray(g, np.float64) - np.asarray(e, np.float64)))), k)
              for k, (g, e) in enumerate(pairs) if np.shape(g) == np.shape(e) and np.size(g)]
    worst, k = max(errors)
    where = f" (the worst in {names[k]})" if len(pairs) > 1 and k < len(names) else ""
    head = (f"your numbers differ from the formula's by up to {worst:.0e}{where} here, where float64 computes the "
            f"formula to within {within}")
    cancelled = CANCELLATION.format(scale=scale)
    # Diagnosed: the cause is named, so no generic hint (float32's rounding, whose size these errors have)
    if running_only:  # (y is right, so its variance is: what only the running variance has comes first)
        return Diagnosed(f"{head}, and y is right: look first at what only the running variance has, for "
                         f"{FLOAT32_ON_THE_WAY}. If its factor is a Python float, look at how its variance is "
                         f"computed: on this case {cancelled}")
    return Diagnosed(f"{head}: on this case {cancelled}. If your variance is already computed that way, look for "
                     f"{FLOAT32_ON_THE_WAY}")


def _digits(got, expected):
    """About how many significant digits ``got`` shares with ``expected`` (arrays, or tuples of them)."""
    pairs = zip(got, expected) if isinstance(got, tuple) else [(got, expected)]
    worst = max((float(np.max(np.abs(np.asarray(g, np.float64) - np.asarray(e, np.float64))
                              / np.maximum(np.abs(np.asarray(e, np.float64)), 1e-300)))
                 for g, e in pairs if np.shape(g) == np.shape(e) and np.size(g)), default=0.0)
    return max(1, int(round(-np.log10(worst)))) if worst > 0 else 16


def _float64_kept(rtol, atol, names=()):
    """compare_arrays at the exercise's tolerance (a tuple's results named by ``names``); on a case with float64
    inputs also to float64 rounding, so that a float32 detour inside (whose result may come back float64 again,
    e.g. times a float64 gamma) shows, and, on the LARGE_MEAN case, a variance computed as mean(x^2) - mean(x)^2."""
    def compare(got, expected, case):
        failure = compare_arrays(got, expected, rtol, atol, names=names)
        x = case.args[0] if case.args else None
        if failure or not (is_tensor(x) and dtype_name(x) == "float64"):
            return failure
        large_mean = case.label == LARGE_MEAN
        floor = 3e-10 if large_mean else 1e-12
        if compare_arrays(got, expected, 1e-10, floor):
            off = [n for n, g, e in zip(names, got, expected) if compare_arrays(g, e, 1e-10, floor)]
            if large_mean:
                return _cancellation(got, expected, names=names,
                                     running_only=len(off) == 1 and "running_var" in off[0])
            which = f" ({' and '.join(off)})" if off else ""
            return (f"your numbers{which} are right to about {_digits(got, expected)} significant "
                    "digits, but the inputs are float64 (about 16 digits): something on the way lowered the precision, "
                    "most often float32 (a .float(), or a float32 tensor made inside the function: float32's precision "
                    "is about 7 digits), or a small change to a value. Keep the inputs' dtype throughout, as PyTorch "
                    "does, and change nothing else")
        return None
    return compare


class _KeepsDtype(TensorAnswer):
    """A TensorAnswer that says so when a float64 input came back as float32."""

    def refuse(self, got, expected=None):
        if is_tensor(got) and dtype_name(expected) == "float64" and dtype_name(got) == "float32":
            return ("you returned a float32 tensor for float64 inputs: the result must keep the inputs' dtype, as "
                    "PyTorch's does (a .float() on the way, or a float32 tensor made inside the function, lowers "
                    "it): stay with tensor ops on the inputs")
        if not self.graph and isinstance(got, (list, tuple, float, int)) and not isinstance(got, bool):
            return (f"you returned {an(type_name(got))} where a tensor was expected (.tolist() or .item() drop the "
                    "tensor): a running statistic needs no graph, but it must be a tinygrad_lite Tensor, like the "
                    "argument it replaces")
        return super().refuse(got, expected)


def _bn_reference(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    rm, rv = running_mean.detach().clone(), running_var.detach().clone()
    y = F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=momentum, eps=eps)
    return y, rm, rv


def _bn_np(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5, ddof=0, run_ddof=1,
           reversed_momentum=False, axis=0, eps_outside=False, eval_batch=False, eval_updates=False,
           no_update=False, eval_mixed=None, normalise_with_new=False, eval_rescale=False, normalise_with_old=False,
           run_inverted=False, eval_no_eps=False, eval_no_affine=False, train_no_eps=False, reversed_which=None,
           var_not_updated=False, gamma_first=False, bessel_features=False, beta_first=False, run_with_eps=False,
           std_as_var=False, gamma_on_x=False):
    x, gamma, beta, rm, rv = (as_float64(a) for a in (x, gamma, beta, running_mean, running_var))
    batch = training or eval_batch
    if batch:
        mean, var = x.mean(axis, keepdims=True), x.var(axis, ddof=ddof, keepdims=True)
        var = np.sqrt(var) if std_as_var else var  # the std where the variance belongs
    else:
        mean, var = rm, rv
        if eval_mixed == "mean":
            mean = x.mean(0)
        elif eval_mixed == "var":
            var = x.var(0)
        if eval_rescale:
            var = var * (x.shape[0] - 1) / x.shape[0]
    if normalise_with_new == "biased" and training:
        m = momentum
        mean, var = (1 - m) * rm + m * x.mean(0), (1 - m) * rv + m * x.var(0)
    if normalise_with_old and training:
        mean, var = rm, rv
    if (eval_no_eps and not batch) or (train_no_eps and batch):
        eps = 0.0
    y = (x - mean) / _std_with_eps(var, eps, eps_outside) * gamma + beta
    if beta_first:
        x_hat = (y - beta) / gamma
        y = (x_hat + beta) * gamma
    if gamma_on_x:  # (gamma * x - mean) / std + beta: gamma on x alone, the mean subtracted unscaled
        y = (x * gamma - mean) / _std_with_eps(var, eps) + beta
    if gamma_first and batch:
        xg = x * gamma
        y = (xg - xg.mean(0)) / np.sqrt(xg.var(0) + eps) + beta
    if eval_no_affine and not batch:
        y = (y - beta) / gamma if eval_no_affine == "both" else y - beta if eval_no_affine == "beta" else (
            (y - beta) / gamma + beta)
    if (training or eval_updates) and not no_update:
        n = x.shape[0]
        bm, bv = x.mean(0), x.var(0, ddof=run_ddof) if n > run_ddof else x.var(0)
        if bessel_features:
            bv = x.var(0) * x.shape[1] / (x.shape[1] - 1)
        if run_with_eps:
            bv = (x.var(0) + eps) * n / (n - 1)
        if run_inverted:
            bv = x.var(0) * (n - 1) / n
        m = 1 - momentum if reversed_momentum else momentum
        m_mean = 1 - momentum if reversed_which == "mean" else m
        m_var = 1 - momentum if reversed_which == "var" else m
        rm, rv = (1 - m_mean) * rm + m_mean * bm, rv if var_not_updated else (1 - m_var) * rv + m_var * bv
        if normalise_with_new is True or (normalise_with_new == "eval" and not training):
            y = (x - rm) / np.sqrt(rv + eps) * gamma + beta
    return y, rm, rv


def _bn_slip(**slip):
    """A wrong batch_norm_forward: ``_bn_np`` with ``slip``."""
    return lambda *a, **k: _bn_np(*a, **k, **slip)


def _std_with_eps(var, eps, outside=False):
    """The denominator: sqrt(var + eps); with ``outside``, the slips sqrt(var) + eps, or sqrt(var) + sqrt(eps) when
    ``outside`` is "sqrt" (as if the square root split over the sum)."""
    if outside == "sqrt":
        return np.sqrt(var) + np.sqrt(eps)
    if outside == "none":  # no square root at all: the variance divides
        return var + eps
    return np.sqrt(var) + eps if outside else np.sqrt(var + eps)


RUNNING_VAR_UPDATE = ("the running variance takes the same update as the mean: (1 - momentum) of its old value "
                      "plus momentum times the batch's UNBIASED variance")
NO_ROOT = ("your y is divided by the variance (plus eps), not by its square root, the standard deviation: "
           "(x - mean) / var makes the spread 1 / std instead of 1",
           "the denominator is sqrt(var + eps)")
SQRT_EPS = ("your denominator is sqrt(var) + sqrt(eps): a square root does not split over a sum, so that is not "
            "sqrt(var + eps), and it differs most where the variance is small. Add eps to the variance, then take the "
            "square root")


def _gamma_per_row(what, features):
    """The hint for a gamma lined up with the rows, (C, 1): it broadcasts only when N equals C."""
    return (f"your {what} multiplies each SAMPLE (row) by an entry of gamma: gamma has one entry per feature, so it "
            f"scales the columns. A gamma reshaped to a column, ({features}, 1), broadcasts along the rows, which "
            "runs only when there are as many samples as features, as in this case")


ABS_GAMMA = ("your output uses |gamma| (an abs(), or gamma**2 under a square root): gamma is a learned scale and may "
             "be negative, which flips the sign of its feature's output. Multiply x_hat by gamma itself")


def _y_only(variant):
    """A Mistake's match on y alone (result 0): the slip in y is named even when the running statistics are wrong
    in some other way too."""
    def match(got, expected, case):
        if not isinstance(got, tuple) or not got:
            return False
        wrong = _bn_np(*case.args, **case.kwargs, **variant)[0]
        right = np.asarray(expected[0], dtype=np.float64)
        y = np.asarray(got[0], dtype=np.float64)
        return (y.shape == wrong.shape and not np.allclose(wrong, right, rtol=1e-5, atol=1e-6)
                and bool(np.allclose(y, wrong, rtol=1e-5, atol=1e-6)))
    return match


RUNNING_GRAPH = ("your running statistics carry a graph when x requires grad: a layer that keeps them chains every "
                 "step's graph onto the next. Compute them under tl.no_grad() or from detached tensors")


def drive_bn(fn, args, kwargs):
    """``fn``'s answer; first a call on copies with x requiring grad, whose running statistics must have no graph."""
    x = args[0] if args else None
    if is_tensor(x) and not x.requires_grad and x.is_floating_point():
        copy = lambda a: a.detach().clone() if is_tensor(a) else a  # noqa: E731
        copies, kw = [copy(a) for a in args], {k: copy(v) for k, v in kwargs.items()}
        copies[0].requires_grad_(True)
        try:
            probe = fn(*copies, **kw)
        except Exception:  # noqa: BLE001  (e.g. .numpy() of a tensor that requires grad: the real call says it)
            probe = None
        if isinstance(probe, (tuple, list)) and len(probe) == 3 and any(
                getattr(part, "requires_grad", False) for part in probe[1:]):
            return (probe[0], Run.failed(RUNNING_GRAPH), Run.failed(RUNNING_GRAPH))
    return fn(*args, **kwargs)


class _BnAnswer(TupleAnswer):
    def refuse(self, got, expected=None):
        if isinstance(got, list):
            return ("you returned a list; the exercise asks for the tuple (y, new_running_mean, new_running_var): "
                    "return y, new_running_mean, new_running_var (no brackets)")
        if isinstance(got, (tuple, list)):
            problem = next((getattr(part, "problem", None) for part in got if getattr(part, "problem", None)), None)
            if problem:
                return problem
            names = ("y", "new_running_mean", "new_running_var")
            missing = [name for name, part in zip(names, got) if part is None]
            if missing and len(got) == 3:
                return (f"your tuple holds None for {missing[0]}: return all three, (y, new_running_mean, "
                        "new_running_var); in evaluation mode the running statistics come back unchanged (return "
                        "the ones you were given)")
        return super().refuse(got, expected)


tensor_function(
    "10.batch_norm_forward", _bn_reference, _bn_cases, dtype_mistakes=(), grad=("x", "gamma", "beta"),
    answer=_BnAnswer(_KeepsDtype(), _KeepsDtype(graph=False), _KeepsDtype(graph=False)), call=drive_bn,
    compare=_float64_kept(1e-5, 1e-6, names=("y", "the new running_mean", "the new running_var")),
    match=Within(1e-5, 1e-6),
    mistakes=[
        mistake(_bn_slip(run_ddof=0), "the running variance must be updated with the UNBIASED variance of the batch "
                "(divisor n - 1, PyTorch's convention), while the batch itself is normalised with the biased one "
                "(divisor n)", "two variances of the same batch: one for normalising, one for the running estimate"),
        mistake(_bn_slip(reversed_momentum=True), "the momentum convention is reversed: in PyTorch momentum is the "
                "weight of the NEW batch statistic, so momentum = 0.1 moves the running value a tenth of the way "
                "towards the batch's", "new = (1 - momentum) * old + momentum * batch statistic"),
        mistake(_bn_slip(ddof=1), "the batch is normalised with its unbiased variance; batch norm normalises with the "
                "biased one (divisor n), the unbiased one only goes into the running estimate",
                "the variance that divides x - mean has divisor n"),
        mistake(lambda x, gamma, beta, *rest, **kwargs: _bn_np(x, beta, gamma, *rest, **kwargs),
                "gamma and beta are swapped: gamma, the learned scale, multiplies the normalised x, and beta, the "
                "learned shift, is added after it", "y = gamma * x_hat + beta"),
        mistake(_bn_slip(axis=1), "you normalised over the wrong axis: batch norm takes each FEATURE's (column's) "
                "statistics over the samples of the batch (dim 0); per sample over its features is layer norm",
                "one mean and one variance per column"),
        recognised(_y_only({"eps_outside": "sqrt"}), SQRT_EPS, "(x - mean) / sqrt(var + eps)"),
        recognised(_y_only({"eps_outside": "none"}), *NO_ROOT),
        recognised(_y_only({"axis": None}), "your y is normalised with one mean and one variance over ALL the entries "
                   "of x: batch norm keeps one per feature (column), each over the samples of the batch (dim 0)",
                   "x.mean(dim=0) has one entry per feature"),
        recognised(_y_only({"axis": 1}), "your y is normalised over the wrong axis: batch norm takes each FEATURE's "
                   "(column's) statistics over the samples of the batch (dim 0); per sample over its features (dim "
                   "1) is layer norm", "one mean and one variance per column: x.mean(dim=0)"),
        mistake(_bn_slip(eps_outside=True), "eps belongs inside the square root: divide by sqrt(var + eps), as PyTorch "
                "does; added outside it changes the result whenever eps is not tiny",
                "look at where eps enters the denominator"),
        mistake(_bn_slip(eval_batch=True, eval_updates=True), "in evaluation mode you did what training does: "
                "normalised with the batch's statistics and moved the running ones. With training=False batch norm "
                "does not look at the batch: it normalises with the running statistics and returns them unchanged",
                "branch on training: the batch's statistics (and the update) only when it is True"),
        mistake(_bn_slip(eval_batch=True), "in evaluation mode batch norm does not look at the batch: it normalises "
                "with the running statistics, so that a sample's output does not depend on the other samples with it",
                "training=False: the running mean and variance take the place of the batch's"),
        *[mistake(_bn_slip(eval_mixed=which), f"in evaluation mode you {what}: both statistics must be the running "
                  "ones (the running mean and the running variance), so that a sample's output does not depend on "
                  "the other samples with it", "training=False: no statistic of the batch at all")
          for which, what in (("mean", "centred with the batch's mean"), ("var", "divided by the batch's variance"))],
        mistake(_bn_slip(no_update=True), "in training mode the running statistics must move towards the batch's mean "
                "and unbiased variance; you returned them unchanged",
                "new = (1 - momentum) * old + momentum * batch statistic, when training is True"),
        mistake(_bn_slip(eval_updates=True, normalise_with_new="eval"), "in evaluation mode the running statistics "
                "stay as they are: yours moved them towards this batch's statistics, then normalised with the moved "
                "ones, so a sample's output depends on the other samples with it. Only training updates them; "
                "evaluation normalises with the running statistics as given and returns them unchanged",
                "branch on training before the update: with training=False, no statistic of the batch at all"),
        mistake(_bn_slip(eval_updates=True), "in evaluation mode the running statistics stay as they are: only "
                "training updates them", "return the running statistics unchanged when training is False"),
        mistake(_bn_slip(normalise_with_new=True), "in training mode your y is the batch normalised with the updated "
                "running statistics (with momentum 0 those are the ones you were given): training normalises the batch "
                "with the batch's OWN mean and biased variance; the running statistics are only stored, for evaluation",
                "y from mean and var of x; the update only produces the two other results"),
        mistake(lambda x, g, b, rm, rv, training, momentum=0.1, eps=1e-5: _bn_np(x, g, b, rm, rv, training, 0.1, eps),
                "your running statistics move by 0.1 of the way whatever momentum is given: use the argument "
                "momentum itself, not a fixed value",
                "new = (1 - momentum) * old + momentum * batch statistic, with the function's momentum"),
        mistake(_bn_slip(normalise_with_new="biased"), "in training mode you normalised with running statistics "
                "updated from the batch: training normalises the batch with the batch's OWN mean and biased variance; "
                "the running statistics are only stored, for evaluation",
                "y from mean and var of x; the update only produces the two other results"),
        mistake(_bn_slip(ddof=1, run_ddof=0),
                "the two variances are swapped: the batch is normalised with its BIASED variance (divisor n), and "
                "the running variance is updated with the UNBIASED one (divisor n - 1), PyTorch's convention",
                "y takes the variance that divides by n, the running estimate the one that divides by n - 1: "
                "the var method has an argument that chooses"),
        mistake(_bn_slip(normalise_with_old=True),
                "in training mode you normalised with the running statistics: training normalises the batch with "
                "its OWN mean and biased variance; the running statistics are only updated, for evaluation",
                "training=True: y from the batch's own mean and its variance with divisor n"),
        mistake(_bn_slip(var_not_updated=True),
                "your running mean moves, but your running variance comes back unchanged: in training mode both "
                "move towards the batch's statistics (the variance towards its unbiased variance)", RUNNING_VAR_UPDATE),
        mistake(_bn_slip(bessel_features=True), "your running variance's n / (n - 1) uses the number of features, "
                "x.shape[1]: n is the batch size, x.shape[0], the number of samples each variance is taken over",
                "count the samples (the length of dim 0), not the features"),
        mistake(_bn_slip(run_with_eps=True),
                "your running variance includes eps: the running estimate is of the variance itself, eps is only "
                "added where the formula divides, sqrt(var + eps)", RUNNING_VAR_UPDATE),
        mistake(_bn_slip(beta_first=True), "you shifted by beta before scaling by gamma, so beta came out multiplied "
                "by gamma: scale first, then shift, y = gamma * x_hat + beta", "beta is added last"),
        mistake(_bn_slip(gamma_first=True), "you scaled x by gamma before normalising: the normalisation then divides "
                "gamma out again. Normalise x first, then scale x_hat by gamma and shift it by beta",
                "y = gamma * x_hat + beta, with x_hat from x alone"),
        recognised(_y_only({"gamma_on_x": True}), "your y is (gamma * x - mean) / std + beta: gamma multiplied x "
                   "alone, so the mean was subtracted unscaled. Normalise first, then scale the whole normalised "
                   "value: y = gamma * (x - mean) / std + beta", "x_hat = (x - mean) / std first; then gamma * x_hat"),
        mistake(_bn_slip(run_inverted=True), "your running variance is updated with the biased variance times (n - 1) "
                "/ n: the unbiased variance is the biased one times n / (n - 1)",
                "the unbiased variance divides by n - 1, so it is the larger of the two"),
        *[mistake(_bn_slip(reversed_which=which),
                  f"the momentum convention is reversed for the running {which} (and right for the other): "
                  "momentum is the weight of the NEW batch statistic in both updates",
                  "new = (1 - momentum) * old + momentum * batch statistic, for the mean and the variance")
          for which in ("mean", "var")],
        mistake(_bn_slip(train_no_eps=True), "in training mode your result matches the formula without eps, to the "
                "check's tolerance (is eps missing, not the argument eps, or not added to the variance?): divide by "
                "sqrt(var + eps), with the eps the function is given", "(x - mean) / sqrt(var + eps)"),
        mistake(_bn_slip(eval_no_eps=True), "in evaluation mode your result matches the formula without eps, to the "
                "check's tolerance (is eps missing, not the argument eps, or not added to the variance?): the running "
                "variance gets eps too, (x - running_mean) / sqrt(running_var + eps)",
                "the same formula as training, with the running statistics in place of the batch's"),
        *[mistake(_bn_slip(eval_no_affine=kind), f"in evaluation mode {what} missing: both modes end with gamma * "
                  f"x_hat + beta", "the same formula as training, with the running statistics in place of the batch's")
          for kind, what in (("both", "gamma and beta are"), ("beta", "beta is"), ("gamma", "gamma is"))],
        mistake(lambda x, g, *a, **k: _bn_np(x, np.abs(as_float64(g)), *a, **k),
                ABS_GAMMA, "gamma multiplies x_hat as it is, sign included"),
        mistake(lambda x, g, *a, **k: _bn_np(x, as_float64(g).reshape(-1, 1), *a, **k), _gamma_per_row("y", "C"),
                "gamma of shape (C,) broadcasts along the last dim as it is: no reshape"),
        *[recognised(_y_only(variant), hint, more) for variant, hint, more in (
            ({"ddof": 1}, "your y is that of a batch normalised with its UNBIASED variance (divisor n - 1): batch norm "
                          "normalises with the biased one (divisor n); the unbiased one only goes into the running "
                          "estimate", "for y, the variance with divisor n: the var method has an argument that "
                                      "chooses the divisor"),
            ({"eval_batch": True}, "in evaluation mode your y comes from the batch's own statistics: with "
                                   "training=False batch norm normalises with the running mean and variance",
             "training=False: (x - running_mean) / sqrt(running_var + eps), then gamma and beta"))],
        recognised(lambda got, expected, case: any(_y_only({"std_as_var": True, "ddof": d})(got, expected, case)
                                                   for d in (0, 1)),
                   "your y divides x - mean by the square root of the batch's STANDARD DEVIATION (plus eps): the "
                   "formula divides by sqrt(var + eps), the square root of the VARIANCE, which is the std squared",
                   "the var method gives the variance; std is already its square root"),
        mistake(_bn_slip(eval_rescale=True), "in evaluation mode you rescaled the running variance by (N - 1) / N: use "
                "it as it is. It estimates the variance of the whole data, and evaluation normalises with that "
                "estimate, whatever the size of the batch being evaluated",
                "training=False: (x - running_mean) / sqrt(running_var + eps), then gamma and beta"),
    ],
    forbid=(F.batch_norm, nn.BatchNorm1d, F.layer_norm, nn.LayerNorm, "torch.nn.functional.batch_norm",
            "torch.nn.BatchNorm1d", "torch.nn.functional.layer_norm", "torch.nn.LayerNorm"),
    # the text's building blocks (any other normalisation, F.normalize, group_norm, instance_norm ..., is refused)
    allow=("arithmetic", "mean", "sum", "std", "sqrt"),
    # a floor under a variance, or a clip of x_hat, is a mistake with a hint of its own, never a right answer
    tolerate=("clamp", "max", "min"),
    # float32 gradients through a batch's mean and variance cancel: eps = 1e-5 outside the square root moves
    # them by a few 1e-4 relative, which the cases with a large eps show as a mistake of values, with its hint
    points=2, grad_rtol=2e-3, grad_atol=1e-5,
)


# -------------------------------------------------------------------- 10.batch_norm_backward
BNB_EXAMPLE = (np.array([[0.5, -1.0, 0.0], [1.0, 0.5, -0.5], [-0.5, 0.0, 1.0], [0.0, 1.0, 0.5]]),   # dy
               np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 1.0], [2.0, 4.0, -1.0], [6.0, 2.0, 0.0]]),    # x
               np.array([1.0, 2.0, 0.5]))                                                           # gamma


def batch_norm_backward_reference(dy, x, gamma, eps=1e-5):
    n = x.shape[0]
    mean = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mean) * inv_std
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    dx = gamma * inv_std / n * (n * dy - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def _bnb_variant(dy, x, gamma, eps=1e-5, ddof=0, eps_outside=False, var_sign=1, n_minus_1=False, n_features=False,
                 eps_in=("x_hat", "factor")):
    """The boxed formula with one slip: the unbiased variance, eps outside the square root, N - 1 or the number of
    features for N, the variance term's sign, or eps left out of x_hat or of the factor in front (``eps_in``)."""
    n = x.shape[0]
    mean, var = x.mean(axis=0), x.var(axis=0, ddof=ddof)
    inv_std = 1.0 / _std_with_eps(var, eps, eps_outside)
    x_hat = (x - mean) * (inv_std if "x_hat" in eps_in else 1.0 / np.sqrt(var))
    factor = inv_std if "factor" in eps_in else 1.0 / np.sqrt(var)
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    n = n - 1 if n_minus_1 else x.shape[1] if n_features else n
    return gamma * factor / n * (n * dy - dbeta - var_sign * x_hat * dgamma), dgamma, dbeta


def _bnb_slip(**slip):
    """A wrong batch_norm_backward: ``_bnb_variant`` with ``slip``."""
    return lambda dy, x, gamma, eps=1e-5: _bnb_variant(dy, x, gamma, eps, **slip)


def _bnb_wrong(dx=None, dgamma=None, dbeta=None):
    """A wrong batch_norm_backward: each result given, a function of ``q`` (the case's dy, x, gamma and eps, n, s =
    sqrt(var + eps), x_hat, and the right dx, dgamma and dbeta), replaces the right one."""
    def wrong(dy, x, gamma, eps=1e-5):
        right = batch_norm_backward_reference(dy, x, gamma, eps)
        s = np.sqrt(x.var(axis=0) + eps)
        q = SimpleNamespace(dy=dy, x=x, gamma=gamma, eps=eps, n=x.shape[0], s=s, x_hat=(x - x.mean(axis=0)) / s,
                            dx=right[0], dgamma=right[1], dbeta=right[2])
        return tuple(r if f is None else f(q) for r, f in zip(right, (dx, dgamma, dbeta)))
    return wrong


def _bnb_divisor_slip(got, expected, case):
    """N - 1, or the number of features, in place of the batch size N (on the notebook's 4 x 3 example the two
    agree, so one hint names both)."""
    for slip in ({"n_minus_1": True}, {"n_features": True}):
        wrong = _bnb_variant(*case.args, **case.kwargs, **slip)
        if not all(np.allclose(w, e, rtol=1e-12, atol=1e-14) for w, e in zip(wrong, expected)) and all(
                np.shape(g) == np.shape(w) and np.allclose(g, w, rtol=1e-10, atol=1e-12) for g, w in zip(got, wrong)):
            return True
    return False


def _bnb_cases(rng):
    def r(*shape, scale=1.0):
        return scale * rng.standard_normal(shape)
    return [
        Case(tuple(a.copy() for a in BNB_EXAMPLE), visible=True),
        Case((r(5, 3), r(5, 3) + 2.0, rng.uniform(0.5, 2.0, 3)), "a batch of 5, 3 features"),
        Case((r(3, 6), r(3, 6, scale=4.0), rng.uniform(0.5, 2.0, 6)), "a batch of 3, 6 features"),
        Case((r(8, 2), r(8, 2, scale=0.2), rng.uniform(0.5, 2.0, 2)), "a batch of 8, eps 0.1", {"eps": 0.1}),
        Case((r(6, 4), r(6, 4), rng.uniform(-2.0, 2.0, 4)), "gamma with negative entries, eps 1e-3",
             {"eps": 1e-3}),
        Case((r(5, 3), r(5, 3), np.array([0.0, *rng.uniform(0.5, 2.0, 2)])), "the first gamma 0"),
        Case((r(4, 3), r(4, 3, scale=1e-3), rng.uniform(0.5, 2.0, 3)), "eps 1e-10, x of spread about 0.001",
             {"eps": 1e-10}),
        Case((r(4, 4), r(4, 4), rng.uniform(-2.0, 2.0, 4)), "a batch of 4, 4 features (as many samples as features)"),
        Case((r(5, 1), r(5, 1), rng.uniform(0.5, 2.0, 1)), "a batch of 5, one feature (C = 1)"),
        Case((r(32, 3), r(32, 3), rng.uniform(0.5, 2.0, 3)), "a batch of 32, 3 features"),
        Case((r(6, 3), np.where(np.arange(3) == 1, 0.5, r(6, 3)), rng.uniform(0.5, 2.0, 3)),
             "a batch of 6 whose second feature is constant (variance 0: x_hat is 0, s is sqrt(eps))"),
        Case((r(6, 3), r(6, 3) + BNB_LARGE_OFFSET, rng.uniform(-2.0, 2.0, 3)), BNB_LARGE_MEAN),
    ]


# The backward's large-mean case: x about 10^4 + N(0, 1). Over 100 draws, five right idioms (the boxed line, step by
# step, the Jacobian per feature, torch tensors, PyTorch's autograd) stayed within 1.7e-11 of the reference,
# relative to each result's largest entry, and the variance as mean(x^2) - mean(x)^2 was off by 1.1e-9 or more. The
# case's tolerance, 1.3e-10 of each result's largest entry, lies between the two with a factor of 8 on each side.
BNB_LARGE_OFFSET = 1e4
BNB_LARGE_MEAN = "x with a mean about 10000 times its spread (activations far from 0)"
BNB_LARGE_TOLERANCE = 1.3e-10


BNB_NAMES = ("dx", "dgamma", "dbeta")


def _compare_bnb(got, expected, case):
    """The exercise's tolerance (float64 rounding); on the large-mean case, one relative to each result's scale."""
    if case.label != BNB_LARGE_MEAN:
        if isinstance(got, tuple) and isinstance(expected, tuple) and len(got) == len(expected) == 3:
            # dx is built from dbeta and dgamma: when one of them is wrong, say so first
            for k in (2, 1):
                if part := compare_arrays(got[k], expected[k], 1e-12, 1e-14, f"result {k} ({BNB_NAMES[k]})"):
                    return part + (" (and dx, which is built from it, is wrong too)" if compare_arrays(
                        got[0], expected[0], 1e-12, 1e-14) else "")
        return compare_arrays(got, expected, 1e-12, 1e-14, names=BNB_NAMES)
    failure = compare_arrays(got, expected, 0.0, 0.0)
    if failure is None or not isinstance(got, tuple) or len(got) != len(expected):
        return failure
    for k, (g, e) in enumerate(zip(got, expected)):
        scale = float(np.max(np.abs(e))) if np.size(e) else 0.0
        if part := compare_arrays(g, e, 0.0, BNB_LARGE_TOLERANCE * scale, f"result {k}"):
            close = compare_arrays(g, e, 0.0, 1e-4 * scale)
            return _cancellation(got, expected, "1e-10 of its scale", "10000") if close is None else part
    return None


def _bnb_sums_over_features(got, expected, case):
    """dx whose bracket takes its sums, one or both, over axis 1 (each sample's features, keepdims=True) instead
    of over the batch; dgamma and dbeta may be right or not."""
    if not isinstance(got, tuple) or not got:
        return False
    dy, x, gamma = case.args[:3]
    eps = case.args[3] if len(case.args) > 3 else case.kwargs.get("eps", 1e-5)
    n, s = x.shape[0], np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) / s
    mine = np.asarray(got[0], dtype=np.float64)
    for mean_axis, var_axis in ((1, 1), (1, 0), (0, 1)):
        wrong = gamma / (n * s) * (n * dy - dy.sum(axis=mean_axis, keepdims=True)
                                   - x_hat * (dy * x_hat).sum(axis=var_axis, keepdims=True))
        if (mine.shape == wrong.shape and not np.allclose(wrong, expected[0], rtol=1e-8, atol=1e-12)
                and np.allclose(mine, wrong, rtol=1e-8, atol=1e-12)):
            return True
    return False


# PyTorch's function transforms and forward-mode AD: a Jacobian or a vector-Jacobian product without .backward()
TORCH_TRANSFORMS = tuple(f"torch.func.{name}" for name in ("jacfwd", "jacrev", "jvp", "vjp", "grad", "grad_and_value",
                                                             "hessian", "linearize")) + tuple(
    f"torch.autograd.functional.{name}" for name in ("jacobian", "hessian", "vjp", "jvp", "vhp", "hvp")) + (
    "torch.autograd.forward_ad.make_dual",)


class _ATuple(TupleAnswer):
    """A TupleAnswer that refuses a list: the exercise, like PyTorch's autograd.grad, returns a tuple."""

    def refuse(self, got, expected=None):
        if isinstance(got, tuple) and len(got) == 3:
            for i, part in enumerate(got):
                dtype = getattr(part, "dtype", None)
                if isinstance(part, np.ndarray) and dtype is not None and dtype.kind == "f" and dtype.itemsize > 8:
                    return (f"result {i}: you returned a {dtype.name} array; a float64 array was expected (the "
                            "inputs' dtype): a longer float is fine for the arithmetic, but cast the result back "
                            "with .astype(np.float64)")
        if isinstance(got, list):
            return ("you returned a list; the exercise asks for the tuple (dx, dgamma, dbeta), as "
                    "torch.autograd.grad returns its gradients: return dx, dgamma, dbeta (no brackets)")
        return super().refuse(got, expected)


def _estimated(got, expected, case):
    """dx within about 1e-4 of the formula's, but not to float64 rounding: a numerical estimate (finite
    differences) or float32 arithmetic, where the exercise asks for the formula itself."""
    got_dx, dx = np.asarray(got[0], dtype=np.float64), np.asarray(expected[0], dtype=np.float64)
    if got_dx.shape != dx.shape or case.label == BNB_LARGE_MEAN:  # (there the message names the cancellation)
        return False
    if not all(np.shape(g) == np.shape(e) and np.allclose(g, e, rtol=1e-4, atol=1e-4 * np.abs(e).max())
               for g, e in zip(got[1:], expected[1:])):  # dgamma or dbeta far off too: not a near miss of dx
        return False
    if np.allclose(got_dx, dx, rtol=1e-12, atol=1e-14):   # dx is right (the exercise's tolerance): not this
        return False
    error = float(np.abs(got_dx - dx).max()) / max(float(np.abs(dx).max()), 1e-300)
    return error < 1e-4


array_function(
    "10.batch_norm_backward", batch_norm_backward_reference, _bnb_cases,
    answer=_ATuple(ArrayAnswer("reference"), ArrayAnswer("reference"), ArrayAnswer("reference")),
    generic_hints=("mean_vs_sum", "sign", "factor"),
    compare=_compare_bnb, match=Within(1e-12, 1e-14),
    # autograd, ours and PyTorch's (the library's Jacobian helper included), and the library's batch norm: the
    # exercise is to derive the backward by hand
    forbid=AUTOGRAD + (autograd.backward, autograd.run_backward, analytic_jacobians, F.batch_norm, nn.BatchNorm1d,
                       "torch.nn.functional.batch_norm", "torch.nn.BatchNorm1d") + TORCH_TRANSFORMS,
    allow=("arithmetic", "sum", "mean", "std", "sqrt", "matmul"),  # the text's building blocks
    mistakes=[
        mistake(_bnb_slip(ddof=1), "you used the unbiased variance (divisor N - 1): training-mode batch norm "
                "normalises with the biased one (divisor N), as in the forward pass",
                "x.var(axis=0) in numpy divides by N"),
        mistake(_bnb_slip(eps_outside="sqrt"), SQRT_EPS, "s = sqrt(var + eps), as in the forward pass"),
        mistake(_bnb_slip(eps_outside=True), "eps belongs inside the square root: 1 / sqrt(var + eps), as in the "
                "forward pass", "eps is added to the variance, not to the standard deviation"),
        mistake(_bnb_wrong(dx=lambda q: _bnb_variant(q.dy, q.x, np.ones_like(q.gamma), q.eps)[0]),
                "your dx is the formula's with gamma = 1 for every feature (gamma missing, or one feature's gamma used "
                "for all?): y = gamma * x_hat + beta, so the gradient reaching x_hat is gamma * dy, with each "
                "feature's own gamma", "the boxed formula starts with gamma"),
        mistake(_bnb_wrong(dx=lambda q: _bnb_variant(q.dy, q.x, np.reshape(q.gamma, (-1, 1)), q.eps)[0]),
                _gamma_per_row("dx", "C"),
                "gamma of shape (C,) broadcasts along the last axis of an (N, C) array as it is"),
        mistake(_bnb_wrong(dx=lambda q: q.n * q.dx), "your dx is N times too large: the factor in front of the bracket "
                "is gamma / (N s), with the 1 / N that the derivatives of the mean and the variance bring",
                "compare your factor in front of the bracket with the boxed formula's: it divides by N"),
        recognised(_bnb_divisor_slip, "your dx uses N - 1 where the formula has N, the batch size x.shape[0]: N - 1 "
                   "itself, or a count taken elsewhere (x.shape[1], the number of features, is N - 1 on the notebook's "
                   "4 x 3 example; a fixed number fits one batch size only). The biased variance (divisor N) "
                   "normalises, so the derivatives of the mean and of the variance each bring a 1/N",
                   "N is the number of samples, the length of dim 0, in both places of the boxed formula"),
        mistake(_bnb_wrong(dgamma=lambda q: (q.dy * q.x).sum(axis=0)), "your dgamma multiplies dy by x; gamma scales "
                "the NORMALISED input, so dgamma = sum(dy * x_hat)", "x_hat = (x - mean) / sqrt(var + eps)"),
        mistake(_bnb_wrong(dx=lambda q: batch_norm_backward_reference(q.dy, q.x, np.abs(q.gamma), q.eps)[0]),
                "your dx uses |gamma|: gamma may be negative, and its sign carries into the gradient",
                "gamma / (n * s) with gamma itself"),
        mistake(_bnb_wrong(dgamma=lambda q: q.gamma * q.dgamma), "your dgamma is multiplied by gamma: dgamma = sum(dy "
                "* x_hat), since the slope of y = gamma * x_hat + beta in gamma is x_hat", "no gamma in dgamma"),
        mistake(_bnb_wrong(dgamma=lambda q: q.dbeta, dbeta=lambda q: q.dgamma),
                "your dgamma and dbeta are swapped: return (dx, dgamma, dbeta), in that order",
                "the section's first two formulas: dbeta sums dy alone, dgamma sums dy times x_hat"),
        mistake(_bnb_wrong(dx=lambda q: 1 / (q.n * q.s) * (q.n * q.gamma * q.dy - q.dbeta - q.x_hat * q.dgamma)),
                "gamma multiplies only the first term of your bracket: the gradient reaching x_hat is gamma * dy, "
                "so gamma multiplies all three paths, the factor gamma / (N s) in front of the whole bracket",
                "in the boxed formula gamma stands outside the bracket, so it scales all three terms"),
        mistake(_bnb_wrong(dgamma=lambda q: (q.dy * (q.x - q.x.mean(axis=0)) / np.sqrt(q.x.var(axis=0))).sum(axis=0)),
                "eps is missing from your dgamma: its x_hat is (x - mean) / sqrt(var + eps), the same x_hat as the "
                "forward pass (and the one in dx)", "compute x_hat once, with eps, and use it for dgamma and for dx"),
        *[mistake(_bnb_slip(eps_in=kept),
                  f"eps is missing from your {where}: the forward pass divides by s = sqrt(var + eps), so every 1 / "
                  "sqrt(var) of the backward is 1 / sqrt(var + eps), in x_hat and in the factor gamma / (N s) alike",
                  "compute s, the square root of the variance plus eps, once, and use that one s wherever the "
                  "formulas divide by a standard deviation")
          for kept, where in (((), "x_hat and from the factor in front (so dgamma and dx are off)"),
                              (("factor",), "x_hat (so dgamma, and dx built from it, are off)"),
                              (("x_hat",), "dx's factor in front, gamma / (N s)"))],
        mistake(_bnb_slip(var_sign=-1), "the sign of the variance term is flipped: the gradient that reaches x through "
                "the batch's variance takes away from dx, as the one through the batch's mean does (compare your "
                "bracket with the formula of section 5)",
                "moving x away from the mean widens the spread, which shrinks every x_hat"),
        mistake(_bnb_wrong(dx=lambda q: q.gamma * q.dy / q.s),
                "your dx treats the batch's mean and variance as constants: they are computed FROM x, so every "
                "sample's output depends on every sample's input, and two more paths carry gradient back to x",
                "the derivation in section 5 has three terms in the bracket; yours has only the first"),
        mistake(_bnb_wrong(dx=lambda q: q.gamma / q.s / q.n * (q.n * q.dy - q.x_hat * q.dgamma)),
                "the path through the batch mean is missing: moving one x shifts the mean of its column, which moves "
                "every x_hat of that column", "that term is the sum of dy over the batch"),
        mistake(_bnb_wrong(dx=lambda q: q.gamma / q.s / q.n * (q.n * q.dy - q.dbeta)),
                "the path through the batch variance is missing: moving one x changes the spread of its column, which "
                "rescales every x_hat of that column", "that term is x_hat times the sum over the batch of dy * x_hat"),
        mistake(_bnb_wrong(dx=lambda q: q.gamma / (q.n * q.s) * (q.dy - q.dbeta - q.x_hat * q.dgamma)),
                "the first term of your bracket is dy where the boxed formula has N * dy: the factor gamma / (N s) in "
                "front divides every term by N, so the direct path, gamma * dy / s, needs N * dy inside the bracket",
                "the boxed formula's bracket: N g_i minus the two sums"),
        recognised(_bnb_sums_over_features, "your dx takes the bracket's sums over axis 1, across each sample's "
                   "features: the sums run over the batch, axis 0, one per feature (they are dbeta and dgamma "
                   "themselves), since batch norm's mean and variance are each feature's over the samples",
                   "each feature is a column: its sums add up its N entries, over axis 0"),
        mistake(_bnb_wrong(dgamma=lambda q: q.dy.sum(0)), "dgamma multiplies each dy by the normalised input x_hat "
                "that gamma scaled", "y = gamma * x_hat + beta, so dy/dgamma = x_hat"),
        recognised(_estimated, "your result (dx, or dgamma and the dx built from it) is close to the formula's, but "
                   "not equal up to float64 rounding (rtol 1e-12): something in it differs slightly from the boxed "
                   "formula computed in float64, for example eps left out of one place, a float32 step, or a numerical "
                   "estimate such as finite differences",
                   "compute dx exactly as the boxed formula says, in float64, with s = sqrt(var + eps) everywhere"),
    ],
    # A formula agrees with the reference to float64 rounding: five idioms (the boxed line, step by step, the
    # Jacobian per feature...) stay within 3% of this tolerance over 30 seeds. Finite differences do not: central
    # ones (h from 1e-7 to 1e-4) and Richardson-extrapolated ones (h from 1e-4 to 1e-2) miss it by 80x or more (the
    # rounding error grows as 1/h, the truncation error with h); tests/test_lesson10.py keeps them refused.
    points=3,
)


# -------------------------------------------------------------------- 10.layer_norm_forward
LN_EXAMPLE = ([[1.0, 2.0, 3.0, 6.0], [0.0, -1.0, 1.0, 0.0], [2.0, 2.0, 4.0, 0.0]],  # x: 3 samples, 4 features
              [1.0, 0.5, 2.0, 1.0], [0.0, 1.0, 0.0, -1.0])  # gamma, beta


def _ln_case(rng, shape, label, eps=None, scale=1.0, make=f32, offset=0.0, gamma_low=0.5, outlier=0.0,
             gamma_zero=False):
    d = shape[-1]
    kwargs = {} if eps is None else {"eps": eps}
    x = scale * rng.standard_normal(shape) + rng.standard_normal(d) + offset
    x[..., 0] += outlier
    g = rng.uniform(gamma_low, 2.0, d)
    g[:1] = 0.0 if gamma_zero else g[:1]
    return Case((make(x), make(g), make(rng.standard_normal(d))), label, kwargs=kwargs)


def _ln_cases(rng):
    return [
        Case(tuple(f32(a) for a in LN_EXAMPLE), "x_ln, gamma_ln, beta_ln", visible=True),
        _ln_case(rng, (5, 3), "5 samples, 3 features"),
        _ln_case(rng, (2, 6, 4), "a batch of 2 sequences of 6 positions, 4 features each"),
        _ln_case(rng, (1, 7), "one sample (batch size 1)"),
        _ln_case(rng, (4, 5), "eps 0.5, values of spread about 0.3", eps=0.5, scale=0.3),
        _ln_case(rng, (3, 5), "float64 tensors (a network made .double())", make=double),
        _ln_case(rng, (3, 6), "gamma with negative entries", gamma_low=-2.0),
        _ln_case(rng, (3, 5), "the first gamma 0 (that feature's output is beta)", gamma_zero=True),
        Case((f32(1e-3 * rng.standard_normal((3, 4))), f32(rng.uniform(0.5, 2.0, 4)), f32(rng.standard_normal(4))),
             "eps 1e-12 (as in BERT), values of spread about 0.001", kwargs={"eps": 1e-12}),
        _ln_case(rng, (2, 64), "64 features, the first one far from the others (an x_hat near 8)", outlier=40.0),
        _ln_case(rng, (4, 4), "4 samples, 4 features (as many samples as features)", gamma_low=-2.0),
        _ln_case(rng, (2, 3, 2, 5), "a 4-D input (2, 3, 2, 5): any number of leading dims"),
        _ln_case(rng, (6,), "a 1-D input: one sample of 6 features, no batch dim"),
        _ln_case(rng, (4, 6), LARGE_MEAN, make=double, offset=LARGE_OFFSET),
    ]


def _ln_np(x, gamma, beta, eps=1e-5, ddof=0, axis=-1, eps_outside=False):
    x, gamma, beta = (as_float64(a) for a in (x, gamma, beta))
    mean, var = x.mean(axis, keepdims=True), x.var(axis, ddof=ddof, keepdims=True)
    return (x - mean) / _std_with_eps(var, eps, eps_outside) * gamma + beta


def _ln_gamma_on_x_only(x, gamma, beta, eps=1e-5):
    """(gamma * x - mean) / s + beta: gamma on x, the mean and the spread of x unscaled."""
    x, gamma, beta = (as_float64(a) for a in (x, gamma, beta))
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (gamma * x - mean) / np.sqrt(var + eps) + beta


def _ln_count_of_dim_1(x, gamma, beta, eps=1e-5):
    """Sums over the last dim divided by x.shape[1]: the number of features only for a 2-D input."""
    x, gamma, beta = (as_float64(a) for a in (x, gamma, beta))
    mean = x.sum(-1, keepdims=True) / x.shape[1]
    var = ((x - mean) ** 2).sum(-1, keepdims=True) / x.shape[1]
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _ln_rms(x, gamma, beta, eps=1e-5):
    x, gamma, beta = (as_float64(a) for a in (x, gamma, beta))
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * gamma + beta


def _ln_other_axis(got, expected, case):
    """Normalised over one dim that is not the last (e.g. dim 2 of a 4-D input), where that differs."""
    x = case.args[0]
    if len(x.shape) < 3:
        return False
    for axis in range(len(x.shape) - 1):
        wrong = _ln_np(*case.args, **case.kwargs, axis=axis)
        if got.shape == wrong.shape and np.allclose(got, wrong, rtol=1e-5, atol=1e-6):
            return True
    return False


def _ln_divisor_ambiguous(got, expected, case):
    """The unbiased variance on a case where it is also the sum of squares over x.shape[0] (N = D - 1)."""
    x = case.args[0]
    if len(x.shape) != 2 or x.shape[0] != x.shape[-1] - 1:
        return False
    wrong = _ln_np(*case.args, **case.kwargs, ddof=1)
    return got.shape == wrong.shape and bool(np.allclose(got, wrong, rtol=1e-5, atol=1e-6))


tensor_function(
    "10.layer_norm_forward", lambda x, gamma, beta, eps=1e-5: F.layer_norm(x, (x.shape[-1],), gamma, beta, eps),
    _ln_cases, dtype_mistakes=(), answer=_KeepsDtype(), compare=_float64_kept(1e-5, 1e-6), match=Within(1e-5, 1e-6),
    mistakes=[
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, eps, axis=0), "you normalised over the batch (dim 0): that "
                "is batch norm. Layer norm takes each sample's statistics over its own features, the last dim",
                "one mean and one variance per sample (per row), not per column"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, eps, axis=1), "you normalised over dim 1; layer norm "
                "normalises over the LAST dim (dim=-1), the features, which for a 3-D input (batch, sequence, "
                "features) is dim 2", "dim=-1 works for 2-D and 3-D inputs alike"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, eps, axis=tuple(range(1, len(x.shape)))),
                "you took each sample's statistics over all its dims but the first (a reshape to (N, -1), or dims 1, "
                "2, ...): for a (batch, positions, features) input that mixes the positions of a sequence. Layer norm "
                "normalises over the LAST dim only: one mean and one variance per position, over its features",
                "the statistics over dim=-1 alone, with keepdim=True, whatever the number of dims"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, eps, axis=None), "your mean and variance are over ALL the "
                "entries of x at once: layer norm keeps one pair per sample (per position, in a sequence), each over "
                "that sample's own features, the last dim", "x.mean(dim=-1, keepdim=True): one mean per row"),
        mistake(_ln_count_of_dim_1, "your mean and variance divide a sum over the last dim by x.shape[1], which is the "
                "number of features only for a 2-D input: for (batch, positions, features) it counts the positions",
                "divide by x.shape[-1], the size of the dim you sum over (or use mean(dim=-1))"),
        recognised(_ln_other_axis, "you normalised over a dim that is not the last one (a dim chosen from the number "
                   "of dims?): layer norm normalises over the LAST dim, the features, whatever the number of leading "
                   "dims (1-D, 2-D, 3-D, 4-D...)", "dim=-1 is the last dim of any input"),
        recognised(_ln_divisor_ambiguous, "your variance divides by D - 1 where layer norm divides by D, the number of "
                   "features: layer norm uses the biased variance, as batch norm does to normalise. The unbiased "
                   "variance (unbiased=True, Tensor.var's default) divides by D - 1, and on this case so does a count "
                   "taken from the wrong dim: x.shape[0], the number of samples, is D - 1 here too",
                   "the variance's divisor is x.shape[-1], the size of the dim normalised over"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, eps, eps_outside="none"), *NO_ROOT),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, eps, eps_outside="sqrt"),
                SQRT_EPS, "(x - mean) / sqrt(var + eps)"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, eps, eps_outside=True), "eps belongs inside the square root: "
                "divide by sqrt(var + eps)", "look at where eps enters the denominator"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, eps, ddof=1, eps_outside=True),
                "two differences from the formula at once, as with x.std() + eps: Tensor.std() divides by n - 1 "
                "(layer norm uses the biased variance, divisor n), and eps belongs inside the square root",
                "compute the biased variance first, add eps, then take the square root"),
        mistake(_ln_rms, "you divided x by its root mean square without subtracting the mean (that is RMSNorm); layer "
                "norm first centres each sample, x - mean, then divides by the standard deviation",
                "subtract the mean over the last dim before dividing"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, as_float64(g).reshape(-1, 1), b, eps),
                _gamma_per_row("output", "D"),
                "gamma of shape (D,) broadcasts along the last dim as it is: no reshape"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, b, g, eps), "gamma scales and beta shifts: y = gamma * x_hat + "
                "beta", "check which of the two multiplies"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, g, b, 0.0), "your result matches the formula without eps, to the "
                "check's tolerance (is eps missing, not the argument eps, or not added to the variance?): divide by "
                "sqrt(var + eps), with the eps the function is given", "(x - mean) / sqrt(var + eps)"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(x, np.abs(as_float64(g)), b, eps),
                ABS_GAMMA, "gamma multiplies x_hat as it is, sign included"),
        mistake(_ln_gamma_on_x_only, "you multiplied x by gamma before subtracting the mean: gamma scales the "
                "normalised x_hat, y = gamma * (x - mean) / sqrt(var + eps) + beta",
                "normalise first, then scale by gamma and shift by beta"),
        mistake(lambda x, g, b, eps=1e-5: _ln_np(as_float64(x) * as_float64(g), 1.0, b, eps),
                "you scaled x by gamma before normalising: each feature's scale then changes the sample's mean and "
                "variance, and the normalisation undoes part of gamma. Normalise x first, then scale the normalised "
                "x_hat by gamma and shift it by beta", "y = gamma * x_hat + beta, with x_hat from x alone"),
        mistake(lambda x, g, b, eps=1e-5: (_ln_np(x, 1.0, 0.0, eps) + as_float64(b)) * as_float64(g),
                "you shifted by beta before scaling by gamma, so beta came out multiplied by gamma: scale first, then "
                "shift, y = gamma * x_hat + beta", "beta is added last"),
    ],
    forbid=(F.layer_norm, nn.LayerNorm, F.batch_norm, "torch.nn.functional.layer_norm", "torch.nn.LayerNorm"),
    # the text's building blocks (a group_norm of one group, F.normalize, zscore ... are refused)
    allow=("arithmetic", "mean", "sum", "std", "sqrt"),
    # a floor under a variance, or a clip of x_hat, is a mistake with a hint of its own, never a right answer
    tolerate=("clamp", "max", "min"),
    points=1,
)
