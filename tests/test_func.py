"""``tinygrad_lite.func`` (torch.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call)
against PyTorch's: the per-example-gradient and MAML recipes, compositions, which results keep a graph, random numbers
under vmap, and the errors."""
import collections
import warnings

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

rng = np.random.default_rng(0)
X, Y, W, B = rng.standard_normal((5, 3)), rng.integers(0, 2, 5), rng.standard_normal((2, 3)), rng.standard_normal(2)


def model_and_params(lib):
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape))))
    return model, {name: p.detach() for name, p in model.named_parameters()}


def transforms(lib):
    fn, F = lib.func, lib.nn.functional
    model, params = model_and_params(lib)

    def loss(params, x, y):
        return F.cross_entropy(fn.functional_call(model, params, (x[None],)), y[None])
    per_example = fn.vmap(fn.grad(loss), in_dims=(None, 0, 0))(params, lib.tensor(X), lib.tensor(Y))
    gradient, value = fn.grad_and_value(loss)(params, lib.tensor(X[0]), lib.tensor(Y[0]))
    results = [per_example[k] for k in sorted(per_example)] + [gradient[k] for k in sorted(gradient)] + [value]
    results += fn.grad(lambda w, b, x: (x @ w.T + b).tanh().sum(), argnums=(0, 1))(lib.tensor(W), lib.tensor(B),
                                                                                    lib.tensor(X))
    results.append(fn.grad(fn.grad(lambda a: (a ** 3).sin()))(lib.tensor(0.7)))
    results.append(fn.jacrev(lambda a: (a ** 2).cumsum(0))(lib.tensor(B)))
    results += fn.jacrev(lambda w, x: (w @ x).exp(), argnums=(0, 1))(lib.tensor(W), lib.tensor(X[0]))
    results.append(fn.jacfwd(lambda a: a.sin() * a)(lib.tensor(B)))
    results.append(fn.hessian(lambda a: (a ** 3).prod())(lib.tensor(B)))
    output, vjp_fn = fn.vjp(lambda a, b: (a * b).exp(), lib.tensor(B), lib.tensor(B[::-1].copy()))
    results += [output, *vjp_fn(lib.tensor(np.ones(2)))]
    results += fn.jvp(lambda a: (a ** 2).exp(), (lib.tensor(B),), (lib.tensor(np.ones(2)),))
    results.append(fn.vmap(lambda a, b: (a * b).sum(), in_dims=(0, None))(lib.tensor(X), lib.tensor(X[0])))
    results += fn.vmap(lambda a, b: (a + b, a * b), in_dims=(1, None), out_dims=(0, 1))(lib.tensor(X),
                                                                                        lib.tensor(X[:, 0]))
    results.append(fn.vmap(fn.vmap(lambda a: a.exp().sum()))(lib.tensor(X)))
    results.append(fn.vmap(fn.jacrev(lambda a: a.tanh() * a.sum()))(lib.tensor(X)))
    gradient, aux = fn.grad(lambda x: ((x ** 2).sum(), x * 3), has_aux=True)(lib.tensor(B))
    bn = lib.nn.BatchNorm1d(3).double().eval()
    statistics = {"running_mean": lib.tensor(np.ones(3)), "running_var": lib.tensor(np.full(3, 4.0)),
                  "weight": lib.tensor(np.full(3, 2.0)), "bias": lib.tensor(np.zeros(3))}
    return results + [gradient, aux, fn.functional_call(bn, statistics, lib.tensor(X)), bn.running_mean]


def test_every_transform_gives_pytorchs_numbers():
    ours, theirs = transforms(tl), transforms(torch)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert tuple(a.shape) == tuple(b.shape) and a.requires_grad == b.requires_grad, f"result {k}"
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"{k}")


def test_a_gradient_keeps_the_graph_of_the_tensors_the_function_closes_over():
    """A gradient penalty written with func.grad trains the critic: its weights are not arguments, yet the penalty
    depends on them (as in PyTorch). A gradient of the arguments alone comes back detached."""
    results = []
    for lib in (tl, torch):
        w = lib.tensor(W, requires_grad=True)
        g = lib.func.grad(lambda x, w=w: (x @ w.T).tanh().sum())(lib.tensor(X[0]))
        assert g.requires_grad
        (g ** 2).sum().backward()
        results.append(w.grad.numpy())
        assert not lib.func.grad(lambda x: (x ** 2).sum())(lib.tensor(B)).requires_grad
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_vmap_draws_random_numbers_as_its_randomness_says():
    for lib in (tl, torch):
        with pytest.raises(RuntimeError, match="vmap: called random operation while in randomness error mode"):
            lib.func.vmap(lambda a, lib=lib: a + lib.rand(3))(lib.ones(2, 3))
        lib.manual_seed(0)
        same = lib.func.vmap(lambda a, lib=lib: a + lib.rand(3), randomness="same")(lib.zeros(2, 3))
        different = lib.func.vmap(lambda a, lib=lib: a + lib.rand(3), randomness="different")(lib.zeros(2, 3))
        assert bool((same[0] == same[1]).all()) and bool((different[0] != different[1]).all())
    tl.manual_seed(0)
    first = tl.rand(3)
    tl.manual_seed(0)
    assert tl.func.vmap(lambda a: a + tl.rand(3), randomness="same")(tl.zeros(4, 3))[3].tolist() == first.tolist()


def test_functional_call_swaps_parameters_for_one_call_only():
    for lib in (tl, torch):
        linear = lib.nn.Linear(2, 2)
        tied = lib.nn.Linear(2, 2)
        tied.weight = linear.weight
        both = lib.nn.Sequential(linear, tied)
        x = lib.ones(1, 2)
        out = lib.func.functional_call(both, {"0.weight": lib.zeros(2, 2)}, x)  # the tied weight is zeros too
        assert out.tolist() == [tied.bias.tolist()]
        assert linear.weight is tied.weight and isinstance(linear.weight, lib.nn.Parameter)
        assert lib.nn.utils.stateless.functional_call is not None


def test_an_ensemble_stacked_with_stack_module_state_runs_as_one_function():
    outputs = []
    for lib in (tl, torch):
        models = [lib.nn.Linear(2, 2).double() for _ in range(3)]
        with lib.no_grad():
            for i, model in enumerate(models):
                for j, p in enumerate(model.parameters()):
                    p.copy_(lib.tensor(np.random.default_rng(10 * i + j).standard_normal(tuple(p.shape))))
        params, buffers = lib.func.stack_module_state(models)
        assert all(p.is_leaf and p.requires_grad for p in params.values()) and params["weight"].shape == (3, 2, 2)
        out = lib.func.vmap(lambda p, b, x, m=models[0], lib=lib: lib.func.functional_call(m, (p, b), (x,)),
                            in_dims=(0, 0, None))(params, buffers, lib.tensor(np.arange(8.0).reshape(4, 2)))
        out.sum().backward()
        outputs.append([out.detach().numpy(), params["weight"].grad.numpy()])
        with pytest.raises(RuntimeError, match="Expected all models to be of the same class"):
            lib.func.stack_module_state([lib.nn.Linear(2, 2), lib.nn.Tanh()])
    for a, b in zip(*outputs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def edges(lib):
    """Structures (dicts by key, named tuples, nested in_dims, dict out_dims), an empty batch, outputs that do not
    depend on the input (zeros, not errors), and which results keep a graph."""
    fn, arange = lib.func, lib.arange
    a, b = lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])
    pair = collections.namedtuple("pair", "w b")
    w, x = lib.tensor(0.5), lib.tensor(0.3)
    mixed = fn.grad(lambda w: fn.grad(lambda x: (w * x).sin())(x))(w)
    closed_over = lib.tensor(0.5, requires_grad=True)
    with lib.no_grad():
        under_no_grad = fn.grad(lambda x: (closed_over * x).sin())(x)
    return [fn.jvp(lambda d: d["a"] + 100 * d["b"], ({"a": a, "b": b},), ({"a": a * 0 + 1, "b": b * 0},))[1],
            fn.vmap(lambda r: r.max(0))(arange(6.0).reshape(2, 3)).values,
            fn.vmap(lambda d: d["a"] * d["b"], in_dims=({"a": 0, "b": None},))({"a": arange(6.0).reshape(3, 2),
                                                                               "b": b}),
            fn.vmap(lambda p: p[0] + p[1], in_dims=((0, None),))((arange(6.0).reshape(3, 2), b)),
            fn.vmap(lambda x: {"s": x * 2}, out_dims={"s": 1})(arange(6.0).reshape(3, 2))["s"],
            *fn.vmap(lambda x: {"z": x * 2, "a": x + 100}, out_dims={"z": 0, "a": 1})(arange(6.0).reshape(3, 2))
            .values(), fn.vmap(lambda x: x * 2, out_dims=(1,))(arange(6.0).reshape(3, 2)),
            fn.vmap(lambda x: x.sum())(lib.zeros(0, 3)), fn.vmap(lambda x: (x * 2, x), out_dims=(1, 0))(
                lib.zeros(0, 3))[0], fn.hessian(lambda v: (2 * v).sum())(lib.ones(3)),
            fn.hessian(lambda v: v.max())(lib.tensor([1.0, 3, 2])), fn.grad(lambda v: v.detach().sum())(lib.ones(3)),
            *fn.jacrev(lambda v: (v * 2, lib.ones(2)))(lib.ones(2)),
            fn.jvp(lambda v: v.sign(), (lib.ones(2),), (lib.ones(2),))[1],
            fn.jvp(lambda v: v > 0, (lib.ones(2),), (lib.ones(2),))[1],
            fn.grad(lambda p: (p.w * p.b).sum())(pair(lib.ones(2), b)).b, mixed, under_no_grad]


def test_structures_empty_batches_and_constant_outputs_as_pytorchs():
    ours, theirs = edges(tl), edges(torch)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert tuple(a.shape) == tuple(b.shape) and a.requires_grad == b.requires_grad, f"result {k}"
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=f"{k}")
    assert tl.func.grad(lambda d: tl.tensor(1.0))({}) == {}
    with pytest.raises(ValueError, match="same keys in the same order"):  # (PyTorch pairs them by position)
        tl.func.vmap(lambda x: {"z": x, "a": x}, out_dims={"a": 0, "z": 1})(tl.ones(3, 2))


CALLS = {
    "a vector to grad": lambda fn, lib: fn.grad(lambda x: x * 2)(lib.ones(2)),
    "no argnums": lambda fn, lib: fn.grad(lambda x: x.sum(), argnums=())(lib.ones(2)),
    "argnums twice": lambda fn, lib: fn.grad(lambda x: x.sum(), argnums=(0, 0))(lib.ones(2)),
    "a number returned": lambda fn, lib: fn.grad(lambda x: 3.0)(lib.ones(2)),
    "has_aux without aux": lambda fn, lib: fn.grad(lambda x: x.sum(), has_aux=True)(lib.ones(2)),
    "two batch sizes": lambda fn, lib: fn.vmap(lambda a, b: a + b)(lib.ones(2), lib.ones(3)),
    "randomness unknown": lambda fn, lib: fn.vmap(lambda a: a, randomness="sometimes")(lib.ones(2)),
    "vmap returning a number": lambda fn, lib: fn.vmap(lambda a: 3.0)(lib.ones(2)),
    "jvp without a tuple": lambda fn, lib: fn.jvp(lambda a: a, lib.ones(2), lib.ones(2)),
    "strict, a missing key": lambda fn, lib: fn.functional_call(lib.nn.Linear(2, 2), {"weight": lib.zeros(2, 2)},
                                                                (lib.ones(1, 2),), strict=True),
    "a key in two dicts": lambda fn, lib: fn.functional_call(lib.nn.Linear(2, 2), ({"weight": lib.zeros(2, 2)},
                                                             {"weight": lib.zeros(2, 2)}), lib.ones(1, 2)),
    "a number to differentiate": lambda fn, lib: fn.grad(lambda x: x.sum())(3.0),
    "tangents by other keys": lambda fn, lib: fn.jvp(lambda d: d["a"] * 2, ({"a": lib.ones(2), "b": lib.ones(2)},),
                                                     ({"b": lib.ones(2), "a": lib.ones(2)},)),
    "a batched output for out_dims None": lambda fn, lib: fn.vmap(lambda x: x * 2, out_dims=None)(
        lib.arange(6.0).reshape(3, 2)),
    "an integer primal": lambda fn, lib: fn.jvp(lambda x: x * 2, (lib.tensor([1, 2]),), (lib.tensor([1, 2]),)),
    "two values for tied weights": lambda fn, lib: fn.functional_call(tied_pair(lib), {"0.weight": lib.zeros(2, 2),
                                                                      "1.weight": lib.ones(2, 2)}, lib.ones(1, 2)),
    "a module that is not there": lambda fn, lib: fn.functional_call(lib.nn.Sequential(lib.nn.Linear(2, 2)),
                                                                     {"9.weight": lib.zeros(2, 2)}, lib.ones(1, 2)),
    "a module's name as a key": lambda fn, lib: fn.functional_call(lib.nn.Sequential(lib.nn.Linear(2, 2)),
                                                                   {"0": lib.zeros(2, 2)}, lib.ones(1, 2)),
    "a number as a parameter": lambda fn, lib: fn.functional_call(lib.nn.Linear(2, 2), {"weight": 3.0},
                                                                  lib.ones(1, 2)),
}


def tied_pair(lib):
    first = lib.nn.Linear(2, 2)
    both = lib.nn.Sequential(first, lib.nn.Linear(2, 2))
    both[1].weight = first.weight
    return both


@pytest.mark.parametrize("name", CALLS)
def test_bad_calls_raise_pytorchs_errors(name):
    with pytest.raises(Exception) as theirs:
        CALLS[name](torch.func, torch)
    with pytest.raises(type(theirs.value)) as ours:
        CALLS[name](tl.func, tl)
    assert str(ours.value).split(":")[0].split("(")[0].strip() == str(theirs.value).split(":")[0].split("(")[0].strip()


def more_func(L):
    """Round r59: linearize, functionalize and replace_all_batch_norm_modules_ (the ensembling tutorial's)."""
    x = L.tensor([0.3, 1.2, -0.7], dtype=L.float64)
    out, jvp_fn = L.func.linearize(lambda v: (v.sin() * v).sum(0), x)
    same = L.func.functionalize(lambda v: v.clone().add_(1))(x)
    model = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.BatchNorm1d(4))
    assert L.func.replace_all_batch_norm_modules_(model) is model
    norm = model[1]
    return [out.item(), jvp_fn(L.tensor([1.0, 0.5, 2.0], dtype=L.float64)).item(), same.tolist(),
            norm.running_mean is None and norm.num_batches_tracked is None, norm.track_running_stats,
            tuple(model(L.ones(2, 3)).shape)]


def test_linearize_functionalize_and_batch_norm_without_running_stats_as_pytorchs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's linearize warns from torch.fx)
        theirs = more_func(torch)
    ours = more_func(tl)
    np.testing.assert_allclose(ours[:2], theirs[:2], rtol=1e-12)
    assert ours[2:] == theirs[2:]
