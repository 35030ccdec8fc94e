"""Hooks against PyTorch in float64: each scenario runs the same code on both libraries and compares what the hooks
saw and did: module forward pre-hooks, forward hooks (prepend, with_kwargs, always_call), full backward hooks and
pre-hooks (grad_input and grad_output as PyTorch has them), tensor hooks on leaves and results, handles (removal,
also from inside a hook, as a context manager), hooks surviving state_dict and to(), the errors of misuse, and that
a removed hook is not kept alive by the module or the graph."""
import gc
import warnings
import weakref

import numpy as np
import pytest
import torch

import tinygrad_lite as tl
from tinygrad_lite.utils.hooks import RemovableHandle

LIBS = {"tinygrad_lite": tl, "torch": torch}


def values(t):
    """A tensor (or None) of either library as nested lists; anything else as it is."""
    if t is None or not hasattr(t, "detach"):
        return t
    return np.round(t.detach().numpy(), 12).tolist()


def same_in_both(scenario):
    """Run ``scenario(lib)`` with each library; the traces must be equal."""
    ours, theirs = scenario(tl), scenario(torch)
    assert ours == theirs


def mlp(lib, seed=0):
    """Linear(3, 4), ReLU, Linear(4, 2) in float64 with the same weights in both libraries."""
    rng = np.random.default_rng(seed)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2)).double()
    model.load_state_dict({name: lib.tensor(rng.normal(size=tuple(p.shape))) for name, p in
                           model.state_dict().items()})
    return model


def batch(lib, requires_grad=False, seed=1):
    return lib.tensor(np.random.default_rng(seed).normal(size=(5, 3)), requires_grad=requires_grad)


class Scale(tl.nn.Module):
    def forward(self, x, scale=1.0):
        return x * scale


class TorchScale(torch.nn.Module):
    def forward(self, x, scale=1.0):
        return x * scale


def scale_module(lib):
    return Scale() if lib is tl else TorchScale()


# -------------------------------------------------------------------- forward hooks
def test_forward_hooks_run_in_registration_order_and_prepend_puts_one_first():
    def scenario(lib):
        trace, layer = [], lib.nn.Linear(3, 2).double()
        layer.register_forward_pre_hook(lambda m, args: trace.append("pre a"))
        layer.register_forward_pre_hook(lambda m, args: trace.append("pre b"))
        layer.register_forward_pre_hook(lambda m, args: trace.append("pre first"), prepend=True)
        layer.register_forward_hook(lambda m, args, out: trace.append("fwd a"))
        layer.register_forward_hook(lambda m, args, out: trace.append("fwd first"), prepend=True)
        layer.register_forward_hook(lambda m, args, out: trace.append("fwd b"))
        layer(lib.ones(2, 3, dtype=lib.float64))
        return trace
    same_in_both(scenario)


def test_forward_pre_hook_may_replace_the_input_with_a_tuple_or_a_single_value():
    def scenario(lib):
        trace, layer = [], scale_module(lib)
        layer.register_forward_pre_hook(lambda m, args: args[0] + 1)  # one value: wrapped in a tuple
        layer.register_forward_pre_hook(lambda m, args: trace.append(type(args).__name__) or (args[0] * 10, 2.0))
        layer.register_forward_hook(lambda m, args, out: trace.append((len(args), values(args[0]), args[1])))
        return trace + [values(layer(lib.ones(2, dtype=lib.float64)))]
    same_in_both(scenario)


def test_forward_hook_may_replace_the_output_even_with_another_shape():
    def scenario(lib):
        layer = lib.nn.Linear(3, 2).double()
        layer.register_forward_hook(lambda m, args, out: lib.zeros(7, dtype=lib.float64))
        layer.register_forward_hook(lambda m, args, out: out + 1)  # given the replacement
        return values(layer(lib.ones(1, 3, dtype=lib.float64)))
    same_in_both(scenario)


def test_with_kwargs_hooks_receive_and_may_replace_the_keyword_arguments():
    def scenario(lib):
        trace, layer = [], scale_module(lib)

        def pre(module, args, kwargs):
            trace.append(("pre", sorted(kwargs.items())))
            return args, {"scale": kwargs["scale"] * 3}

        layer.register_forward_pre_hook(pre, with_kwargs=True)
        layer.register_forward_hook(lambda m, args, kwargs, out: trace.append(("fwd", kwargs)) or out * 2,
                                    with_kwargs=True)
        trace.append(values(layer(lib.ones(2, dtype=lib.float64), scale=5.0)))
        return trace
    same_in_both(scenario)


def test_a_with_kwargs_pre_hook_returning_something_else_raises():
    for lib in LIBS.values():
        layer = scale_module(lib)
        layer.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
        with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of \(new_args, new_kw"):
            layer(lib.ones(2), scale=2.0)


def test_always_call_hooks_run_when_forward_raises_and_the_error_goes_on():
    def scenario(lib):
        trace, layer = [], lib.nn.Linear(3, 2)
        layer.register_forward_hook(lambda m, args, out: trace.append("plain"))
        layer.register_forward_hook(lambda m, args, out: trace.append(("always", out)), always_call=True)

        def broken(m, args, out):
            raise ValueError("broken hook")

        layer.register_forward_hook(broken, always_call=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError):
                layer(lib.ones(2, 4))  # wrong number of features: forward raises, its error goes on
        # the always_call hooks ran with output None; the broken one's error became a warning
        return trace + [str(w.message).split(":")[0] for w in caught]
    same_in_both(scenario)


def test_always_call_hooks_that_ran_before_a_later_hook_raised_do_not_run_again():
    def scenario(lib):
        trace, layer = [], lib.nn.ReLU()
        layer.register_forward_hook(lambda m, args, out: trace.append("always"), always_call=True)
        layer.register_forward_hook(lambda m, args, out: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            layer(lib.ones(1))
        return trace
    same_in_both(scenario)


def test_global_module_hooks_run_on_every_module_before_its_own():
    def scenario(lib):
        trace, model, where = [], mlp(lib), lib.nn.modules.module
        model[0].register_forward_hook(lambda m, args, out: trace.append("own forward"))
        model[0].register_full_backward_hook(lambda m, gi, go: trace.append("own backward"))
        handles = [where.register_module_forward_pre_hook(lambda m, args: trace.append(("pre", type(m).__name__))),
                   where.register_module_forward_hook(lambda m, args, out: trace.append(("fwd", type(m).__name__))),
                   where.register_module_full_backward_hook(
                       lambda m, gi, go: trace.append(("bwd", type(m).__name__, values(go[0])))),
                   where.register_module_full_backward_pre_hook(lambda m, go: trace.append(("bwd pre",
                                                                                            type(m).__name__)))]
        try:
            model(batch(lib, True)).sum().backward()
        finally:
            for handle in handles:
                handle.remove()
        model(batch(lib))  # removed: only the module's own hook runs
        return trace
    same_in_both(scenario)


# -------------------------------------------------------------------- handles
def test_handles_remove_hooks_once_and_work_as_context_managers():
    def scenario(lib):
        trace, layer = [], lib.nn.ReLU()
        first = layer.register_forward_hook(lambda m, args, out: trace.append("first"))
        with layer.register_forward_pre_hook(lambda m, args: trace.append("scoped")):
            layer(lib.ones(1))
        layer(lib.ones(1))
        first.remove()
        first.remove()  # removing twice does nothing
        layer(lib.ones(1))
        return trace + [len(layer._forward_hooks), len(layer._forward_pre_hooks)]
    same_in_both(scenario)
    handle = tl.nn.ReLU().register_forward_hook(lambda *a: None)
    assert isinstance(handle, RemovableHandle) and isinstance(handle.id, int)


def test_a_hook_may_remove_itself_while_the_hooks_run():
    def scenario(lib):
        trace, layer, handles = [], lib.nn.ReLU(), []

        def once(module, args, out):
            trace.append("once")
            handles[0].remove()

        handles.append(layer.register_forward_hook(once))
        layer.register_forward_hook(lambda m, args, out: trace.append("every time"))
        layer(lib.ones(1))
        layer(lib.ones(1))
        x = lib.ones(2, requires_grad=True)
        tensor_handles = []
        tensor_handles.append(x.register_hook(lambda g: trace.append("tensor once") or tensor_handles[0].remove()))
        x.register_hook(lambda g: trace.append("tensor every time"))
        for _ in range(2):
            (x * 2).sum().backward()
        return trace
    same_in_both(scenario)


def test_hooks_survive_state_dict_load_state_dict_to_train_and_eval():
    def scenario(lib):
        trace, model = [], mlp(lib)
        model[0].register_forward_hook(lambda m, args, out: trace.append(tuple(out.shape)))
        model[2].register_full_backward_hook(lambda m, gi, go: trace.append(values(go[0])))
        model.load_state_dict(model.state_dict())
        model.float().double().eval().train()
        model(batch(lib)).sum().backward()
        return trace
    same_in_both(scenario)


# -------------------------------------------------------------------- backward hooks of modules
@pytest.mark.parametrize("input_requires_grad", [False, True])
def test_full_backward_hooks_see_pytorchs_grad_input_and_grad_output(input_requires_grad):
    def scenario(lib):
        trace, model = [], mlp(lib)
        for name, module in [("model", model), *((str(i), m) for i, m in enumerate(model))]:
            module.register_full_backward_hook(
                lambda m, gi, go, name=name: trace.append((name, [values(g) for g in gi], [values(g) for g in go])))
            module.register_full_backward_pre_hook(lambda m, go, name=name: trace.append((name + " pre",
                                                                                          [values(g) for g in go])))
        x = batch(lib, input_requires_grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Full backward hook is firing when ... no inputs require gradients"
            (model(x) ** 2).sum().backward()
        return trace + [values(x.grad), values(model[0].weight.grad)]
    same_in_both(scenario)


def test_backward_hooks_may_replace_grad_input_and_pre_hooks_grad_output():
    def scenario(lib):
        model = mlp(lib)
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * -2,))
        x = batch(lib, True)
        model(x).sum().backward()
        return [values(x.grad), values(model[0].weight.grad), values(model[2].weight.grad)]
    same_in_both(scenario)


def test_backward_hooks_of_a_module_with_several_inputs_and_outputs():
    def scenario(lib):
        class Pair(lib.nn.Module):
            def forward(self, a, b, k):
                return a * b * k, a + 1, "not a tensor"

        trace, module = [], Pair()
        module.register_full_backward_hook(
            lambda m, gi, go: trace.append(([values(g) for g in gi], [values(g) for g in go])))
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0, 4.0], dtype=lib.float64)  # does not require grad: zeros in grad_input, as PyTorch
        out = module(a, b, 5.0)
        out[0].sum().backward()  # the second output gets no gradient: None in grad_output
        return trace + [values(a.grad)]
    same_in_both(scenario)


def test_a_backward_hook_returning_the_wrong_number_of_gradients_raises():
    for lib in LIBS.values():
        layer = lib.nn.Linear(3, 2).double()
        layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
            layer(batch(lib, True)).sum().backward()


def test_a_backward_hook_returning_a_gradient_of_the_wrong_shape_raises():
    for lib in LIBS.values():
        layer = lib.nn.Linear(3, 2).double()
        layer.register_full_backward_hook(lambda m, gi, go: (gi[0][:2],))
        with pytest.raises(RuntimeError, match="has changed the size of value"):
            layer(batch(lib, True)).sum().backward()
    layer = tl.nn.Linear(3, 2).double()
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0][:2],))
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*grad_input\[0\].*shape \(5, 3\)"):
        layer(batch(tl, True)).sum().backward()


def test_a_backward_hook_of_a_module_whose_inputs_need_no_gradient_may_not_replace_them():
    for lib in LIBS.values():
        layer = lib.nn.Linear(3, 2).double()
        layer.register_full_backward_hook(lambda m, gi, go, lib=lib: (lib.zeros(5, 3, dtype=lib.float64),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="no input requires gradient should always return None"):
                layer(batch(lib)).sum().backward()


def test_the_output_of_a_module_with_backward_hooks_cannot_be_changed_in_place():
    for lib in LIBS.values():
        layer = lib.nn.Linear(3, 2).double()
        layer.register_full_backward_hook(lambda m, gi, go: None)
        out = layer(batch(lib, True))
        with pytest.raises(RuntimeError, match="view"):
            out.add_(1)
    layer = tl.nn.Linear(3, 2).double()
    layer.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(RuntimeError, match="module with backward hooks"):  # ours says why it is a view
        layer(batch(tl, True)).add_(1)


# -------------------------------------------------------------------- tensor hooks
def test_tensor_hooks_on_a_leaf_run_in_order_and_replace_the_gradient_before_it_reaches_grad():
    def scenario(lib):
        trace = []
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        x.register_hook(lambda g: trace.append(("first", values(g))))
        x.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: trace.append(("third", values(g))))
        (x * x).sum().backward()
        (x * x).sum().backward()  # accumulated: each backward's gradient goes through the hooks
        return trace + [values(x.grad)]
    same_in_both(scenario)


def test_tensor_hooks_on_a_result_change_what_flows_below_and_what_retain_grad_keeps():
    def scenario(lib):
        trace = []
        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: trace.append(values(g)) or g + 1)
        z = y * y
        (z.sum() + y.sum()).backward()  # y's hook sees the complete gradient, both consumers added
        return trace + [values(y.grad), values(x.grad)]
    same_in_both(scenario)


@pytest.mark.parametrize("inputs", ["x", "y", "x, y", "y, x"])
def test_tensor_hooks_apply_to_autograd_grad_too(inputs):
    """What autograd.grad returns for a result y passed as an input includes y's hooks only if y's op does not
    run (PyTorch's engine captures the gradient before the hooks of an op it runs): so (y,) gets 10x, (x, y) not."""
    def scenario(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: g + 1)
        chosen = {"x": x, "y": y}
        return [values(g) for g in lib.autograd.grad((y * y).sum(), [chosen[n] for n in inputs.split(", ")])]
    same_in_both(scenario)


def test_hooks_registered_before_an_in_place_change_see_the_gradient_of_the_tensor_as_it_was():
    def scenario(lib):
        trace = []
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: trace.append(("before", values(g))) or g * 10)
        y.mul_(3)
        y.register_hook(lambda g: trace.append(("after", values(g))))
        (y * 5).sum().backward()
        return trace + [values(x.grad)]
    same_in_both(scenario)


def test_a_gradient_a_hook_kept_is_not_changed_by_later_backward_calls():
    def scenario(lib):
        kept = []
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        x.register_hook(kept.append)
        for _ in range(3):
            (x * 2).sum().backward()
        return [values(g) for g in kept] + [values(x.grad)]
    same_in_both(scenario)


def test_tensor_hook_misuse_raises_pytorchs_error_types():
    for lib in LIBS.values():
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
            lib.ones(2).register_hook(lambda g: g)
        for bad, error, message in [(lambda g: g[:1], RuntimeError, "has changed the size of value"),
                                    (lambda g: g.float(), RuntimeError, "has changed the type of value"),
                                    (lambda g: 3, TypeError, "returned")]:
            x = lib.ones(2, dtype=lib.float64, requires_grad=True)
            x.register_hook(bad)
            with pytest.raises(error, match=message):
                (x * 2).sum().backward()


# -------------------------------------------------------------------- nothing kept alive after remove
class Payload:
    """Something big a hook's closure holds (a stand-in for saved activations)."""


def test_removed_hooks_and_their_closures_are_not_kept_alive():
    model = mlp(tl)
    payloads = [Payload() for _ in range(4)]
    refs = [weakref.ref(p) for p in payloads]
    a, b, c, d = payloads
    x = batch(tl, True)
    handles = [model[0].register_forward_hook(lambda m, args, out, a=a: None),
               model[0].register_forward_pre_hook(lambda m, args, b=b: None),
               model[2].register_full_backward_hook(lambda m, gi, go, c=c: None)]
    y = model(x)  # the graph of this call holds the backward hook
    h = y.register_hook(lambda g, d=d: None)
    del a, b, c, d, payloads
    for handle in handles + [h]:
        handle.remove()
    y.sum().backward()
    gc.collect()
    assert [ref() for ref in refs[:2] + refs[3:]] == [None, None, None]  # gone while the model and y live on
    del y
    gc.collect()
    assert refs[2]() is None  # the graph that held the backward hook's set-up is gone with y
    assert not any(len(getattr(model[i], name)) for i in range(3) for name in
                   ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks"))


def test_no_hooks_means_forward_is_called_directly():
    layer = tl.nn.Linear(3, 2)
    assert all(len(getattr(layer, name)) == 0 for name in ("_forward_pre_hooks", "_forward_hooks",
                                                           "_backward_hooks", "_backward_pre_hooks"))
    out = layer(tl.ones(1, 3))
    assert out.grad_fn.name() != "BackwardHookFunctionBackward"


def test_a_forward_hook_that_returns_a_tuple_gets_a_type_error_naming_our_api():
    net = tl.nn.Sequential(tl.nn.Linear(3, 2), tl.nn.Tanh())
    net[0].register_forward_hook(lambda module, inputs, output: (output,))
    with pytest.raises(TypeError, match=r"^tanh\(\): argument 'input' must be a Tensor, not tuple; convert it first "
                                        r"with tinygrad_lite\.tensor\(x\)$"):
        net(tl.randn(2, 3))


def test_a_hook_on_a_one_number_tensor_runs_as_pytorchs():
    """r40: numpy gives a 0-d gradient as a scalar, which the check of what a hook returns took for another
    device."""
    for lib in (tl, torch):
        x = lib.tensor(2.0, requires_grad=True)
        x.register_hook(lambda g: g * 2)
        (x * 3).backward()
        assert x.grad.item() == 6.0

