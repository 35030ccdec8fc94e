"""Gradients of gradients (``create_graph=True``, ``autograd/higher_order.py``) against PyTorch's.

Every op of the table in registry.py: the first gradient (computed with its graph recorded) and the gradient of a
function of it, in float64, equal to PyTorch's; the rows whose PyTorch backward has no derivative of its own are
checked by ``gradgradcheck`` (finite differences of the first gradient). Then what scripts do with it: a WGAN-GP
gradient penalty, MAML's differentiated inner steps, a physics-informed network's second and third derivatives,
Hessian-vector products, ``.grad`` that keeps its graph, the fused ops with every option, custom Functions, hooks,
and the errors. Every op class of the library has a formula (a new op without one fails here).
"""
import inspect

import numpy as np
import pytest
import torch
from registry import OPS
from test_devices import gpu, host  # noqa: F401  (the stand-in GPU fixture)

import tinygrad_lite as tl
from tinygrad_lite.autograd import higher_order
from tinygrad_lite.autograd.function import Function
from tinygrad_lite.autograd.gradcheck import GradcheckError

NO_DOUBLE_BACKWARD_IN_PYTORCH = {"cdist", "ctc_loss", "embedding_bag"}  # (PyTorch: "not implemented")


def as_numpy(t, like):
    if t is None:
        return np.zeros_like(like)
    return t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else t.detach().cpu().numpy()


def first_and_second(lib, row, x_array, y_array, seed=0):
    """dL/d(x, y) for L = <v, row(x, y)> with its graph, then d/d(x, y) of <u, dL/dx> + <u, dL/dy> + |dL|^2."""
    rng = np.random.default_rng(seed)
    x = lib.tensor(x_array, requires_grad=True)
    y = lib.tensor(y_array, requires_grad=True)
    out = row(lib, lib.nn.functional, x, y, lib.tensor([0, 1, 2, 3]))
    v = lib.tensor(rng.standard_normal(tuple(out.shape)))
    grads = lib.autograd.grad((out * v).sum(), (x, y), create_graph=True, allow_unused=True)
    u = lib.tensor(rng.standard_normal(x_array.shape))
    total = lib.tensor(0.0, dtype=lib.float64)
    for g in grads:
        if g is not None:
            total = total + (g * u).sum() + (g * g).sum()
    second = lib.autograd.grad(total, (x, y), allow_unused=True) if total.requires_grad else (None, None)
    return [as_numpy(g, x_array) for g in (*grads, *second)]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_of_the_table_has_pytorchs_second_derivatives(name):
    x, y = np.random.default_rng(3).standard_normal((2, 4, 4))
    if name in NO_DOUBLE_BACKWARD_IN_PYTORCH:
        with pytest.raises((NotImplementedError, RuntimeError)):
            first_and_second(torch, OPS[name], x, y)
        assert tl.autograd.gradgradcheck(lambda a, b: OPS[name](tl, tl.nn.functional, a, b, tl.tensor([0, 1, 2, 3])),
                                         (tl.tensor(x, requires_grad=True), tl.tensor(y, requires_grad=True)))
        return
    with np.errstate(all="ignore"):
        ours, theirs = first_and_second(tl, OPS[name], x, y), first_and_second(torch, OPS[name], x, y)
    for what, a, b in zip(["dL/dx", "dL/dy", "second x", "second y"], ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=f"{name}: {what}")


class OnDevice:
    """tinygrad_lite with ``tensor(...)`` made on ``device``: the table's rows run there unchanged."""
    def __init__(self, device):
        self.device = device

    def tensor(self, data, **kwargs):
        return tl.tensor(data, **{"device": self.device, **kwargs})

    def __getattr__(self, name):
        return getattr(tl, name)


@pytest.mark.extended  # a sweep: .ci/run runs it after the whole suite (conftest.py)
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_of_the_table_has_the_same_second_derivatives_on_the_gpu(gpu, name):  # noqa: F811
    x, y = np.random.default_rng(3).standard_normal((2, 4, 4))
    with np.errstate(all="ignore"):
        on_cpu, on_gpu = (first_and_second(OnDevice(device), OPS[name], x, y) for device in ("cpu", "cuda"))
    for what, a, b in zip(["dL/dx", "dL/dy", "second x", "second y"], on_cpu, on_gpu):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{name}: {what}")


def test_every_op_class_has_a_formula_for_its_gradient_as_a_graph():
    import tinygrad_lite.kernels.activation
    import tinygrad_lite.kernels.batch_norm
    import tinygrad_lite.kernels.layer_norm  # noqa: F401

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)
    ops = [c for c in subclasses(Function) if c.__module__.startswith(("tinygrad_lite.ops", "tinygrad_lite.kernels",
                                                                        "tinygrad_lite.utils"))
           and not c.torch_style]  # (one written PyTorch's way, as the checkpoint's, runs its own backward recorded)
    assert len(ops) > 60
    missing = [c.__name__ for c in ops if not any(k in higher_order.FORMULAS for k in inspect.getmro(c))]
    assert not missing, f"ops without a Tensor formula in autograd/higher_order.py: {missing}"


def test_gradgradcheck_passes_right_second_derivatives_and_catches_a_wrong_one():
    x = tl.tensor(np.random.default_rng(0).standard_normal(3), requires_grad=True)
    assert tl.autograd.gradgradcheck(lambda t: (t.sin() * t.exp()).sum() + t.pow(3), (x,))

    class DetachedCube(tl.autograd.Function):  # first derivative right, second wrong: x detached in backward
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t ** 3

        @staticmethod
        def backward(ctx, g):
            t, = ctx.saved_tensors
            return g * 3 * t.detach() ** 2

    assert tl.autograd.gradcheck(DetachedCube.apply, (x,))
    assert not tl.autograd.gradgradcheck(DetachedCube.apply, (x,), raise_exception=False)
    with pytest.raises(GradcheckError, match="gradient mismatch"):
        tl.autograd.gradgradcheck(DetachedCube.apply, (x,))
    assert list(inspect.signature(tl.autograd.gradgradcheck).parameters) == \
        list(inspect.signature(torch.autograd.gradgradcheck).parameters)


# ------------------------------------------------------------------------------------ what scripts do with it
def set_weights(lib, module, seed):
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in module.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.4))
    return module


def wgan_gp_step(lib):
    nn = lib.nn
    critic = set_weights(lib, nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(),
                                            nn.Linear(75, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 1)).double(), 0)
    rng = np.random.default_rng(1)
    real, fake = (lib.tensor(rng.standard_normal((4, 2, 5, 5))) for _ in range(2))
    alpha = lib.tensor(rng.uniform(size=(4, 1, 1, 1)))
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(mixed)
    g, = lib.autograd.grad(out, mixed, grad_outputs=lib.ones_like(out), create_graph=True, retain_graph=True)
    penalty = ((g.reshape(4, -1).norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    optimizer = lib.optim.Adam(critic.parameters(), lr=1e-2)
    optimizer.zero_grad()
    loss.backward()
    grads = [p.grad.clone() for p in critic.parameters()]
    optimizer.step()
    return [loss, penalty, *grads, *critic.parameters()]


def maml_outer_gradients(lib):
    rng = np.random.default_rng(2)
    F = lib.nn.functional
    params = [lib.tensor(a, requires_grad=True) for a in (rng.standard_normal((16, 3)) * 0.5, np.zeros(16),
                                                          rng.standard_normal((4, 16)) * 0.5, np.zeros(4))]

    def net(x, p):
        return F.linear(F.relu(F.linear(x, p[0], p[1])), p[2], p[3])
    support, query = (lib.tensor(rng.standard_normal((10, 3))) for _ in range(2))
    support_labels, query_labels = (lib.tensor(rng.integers(0, 4, 10)) for _ in range(2))
    fast = params
    for _ in range(2):  # two inner steps, differentiated through
        inner = F.cross_entropy(net(support, fast), support_labels, label_smoothing=0.1)
        fast = [p - 0.4 * g for p, g in zip(fast, lib.autograd.grad(inner, fast, create_graph=True))]
    outer = F.cross_entropy(net(query, fast), query_labels)
    outer.backward()
    return [outer, *(p.grad for p in params)]


def pinn_residual(lib):
    nn = lib.nn
    net = set_weights(lib, nn.Sequential(nn.Linear(1, 12), nn.Tanh(), nn.Linear(12, 12), nn.GELU(), nn.Linear(12, 1),
                                         nn.Sigmoid()).double(), 3)
    x = lib.tensor(np.linspace(-1, 1, 9)[:, None], requires_grad=True)
    u = net(x)
    du, = lib.autograd.grad(u.sum(), x, create_graph=True)
    d2u, = lib.autograd.grad(du.sum(), x, create_graph=True)
    d3u, = lib.autograd.grad(d2u.sum(), x, create_graph=True)
    residual = ((d2u + u * du - lib.sin(x)) ** 2).mean() + 0.01 * (d3u ** 2).mean()
    residual.backward()
    return [residual, du, d2u, d3u, x.grad, *(p.grad for p in net.parameters())]


def hessian_vector_and_grad_with_graph(lib):
    rng = np.random.default_rng(4)
    x = lib.tensor(rng.standard_normal(5), requires_grad=True)
    v = lib.tensor(rng.standard_normal(5))
    f = (x.exp() * x.roll(1)).sum() + x.prod() + lib.logsumexp(2 * x, 0) + x.norm() ** 3 + x.cumprod(0).sum()
    g, = lib.autograd.grad(f, x, create_graph=True)
    hv, = lib.autograd.grad(g @ v, x)
    (x ** 3).sum().backward(create_graph=True)  # .grad keeps its graph, and the next backward adds out of place
    first = x.grad
    (x.sin() ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad is not first and x.grad.grad_fn is not None
    total = x.grad
    (total * total).sum().backward()
    return [g, hv, first, total, x.grad]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # (PyTorch's, on a cycle)
@pytest.mark.parametrize("script", [wgan_gp_step, maml_outer_gradients, pinn_residual,
                                    hessian_vector_and_grad_with_graph])
def test_scripts_that_differentiate_gradients_match_pytorch(script):
    ours, theirs = script(tl), script(torch)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=f"{k}")


def fused_ops(lib):
    """Batch norm (training and evaluation, with and without gamma and beta), every option of cross-entropy and
    nll_loss, and mse_loss: the first gradients and a gradient of each."""
    rng = np.random.default_rng(5)
    F = lib.nn.functional
    results = []
    for training in (True, False):
        for affine in (True, False):
            bn = set_weights(lib, lib.nn.BatchNorm1d(3, affine=affine).double().train(training), 6)
            bn.running_mean.copy_(lib.tensor(rng.standard_normal(3)))
            bn.running_var.copy_(lib.tensor(rng.uniform(0.5, 2, 3)))
            x = lib.tensor(rng.standard_normal((5, 3, 2)), requires_grad=True)
            g, = lib.autograd.grad((bn(x) ** 3).sum(), x, create_graph=True)
            (g ** 2).sum().backward()
            results += [g, x.grad, *(p.grad for p in bn.parameters())]
    ln = set_weights(lib, lib.nn.LayerNorm((3, 2)).double(), 7)
    x = lib.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    g, = lib.autograd.grad((ln(x) ** 3).sum() + F.layer_norm(x, (2,)).pow(3).sum(), x, create_graph=True)
    (g ** 2).sum().backward()
    results += [g, x.grad, *(p.grad for p in ln.parameters())]
    x = lib.tensor(rng.standard_normal((6, 4, 3)), requires_grad=True)
    target = lib.tensor(rng.integers(0, 4, (6, 3)))
    weight = lib.tensor(rng.uniform(0.5, 2, 4))
    probabilities = lib.tensor(rng.dirichlet(np.ones(4), (6, 3)).transpose(0, 2, 1).copy())
    for target_, options in [(target, {}), (target, {"reduction": "none"}), (target, {"reduction": "sum",
                             "weight": weight}), (target, {"label_smoothing": 0.2, "ignore_index": 2}),
                             (probabilities, {"weight": weight, "label_smoothing": 0.1}),
                             (probabilities, {"reduction": "none"})]:
        loss = F.cross_entropy(x, target_, **options)
        g, = lib.autograd.grad((loss ** 2).sum(), x, create_graph=True)
        results += [loss, g, lib.autograd.grad((g * g).sum(), x)[0]]
    loss = F.nll_loss(x.log_softmax(1), target, reduction="none")
    g, = lib.autograd.grad((loss ** 2).sum(), x, create_graph=True)
    results += [g, lib.autograd.grad((g * g).sum(), x)[0]]
    y = lib.tensor(rng.standard_normal((6, 4, 3)), requires_grad=True)
    loss = F.mse_loss(x, y) * F.mse_loss(x.tanh(), y, reduction="sum")
    gx, gy = lib.autograd.grad(loss, (x, y), create_graph=True)
    return results + [gx, gy, *lib.autograd.grad((gx * gy).sum(), (x, y))]


def test_the_fused_ops_second_derivatives_match_pytorch_with_every_option():
    ours, theirs = fused_ops(tl), fused_ops(torch)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-8, atol=1e-11, err_msg=f"{k}")


def op_names(fn):
    """The class names of the ops in the graph below ``fn`` (a depth-first walk over ``next_functions``)."""
    names, stack, seen = set(), [fn], set()
    while stack:
        node = stack.pop()
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            names.add(type(node).__name__)
            stack.extend(below for below, _ in node.next_functions)
    return names


def test_on_the_gpu_the_fused_kernels_second_derivatives_equal_the_cpus(gpu):  # noqa: F811
    nn, F = tl.nn, tl.nn.functional
    rng = np.random.default_rng(8)
    x_array, labels = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    results = {}
    for device in ("cpu", "cuda"):
        model = set_weights(tl, nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 5),
                                              nn.LayerNorm(5), nn.Tanh(), nn.Linear(5, 3)), 9).to(device)
        x = tl.tensor(x_array, dtype=tl.float32, device=device, requires_grad=True)
        loss = F.cross_entropy(model(x), tl.tensor(labels, device=device), label_smoothing=0.1)
        if device == "cuda":  # (the GPU's fused kernels, whose formulas are the CPU ops')
            assert {"BatchNormCuda", "ReLUCuda", "LayerNormCuda", "CrossEntropyCuda"} <= op_names(loss.grad_fn)
        g, = tl.autograd.grad(loss, x, create_graph=True)
        (g ** 2).sum().backward()
        results[device] = [g, x.grad, *(p.grad for p in model.parameters())]
        assert all(t.device.type == device for t in results[device])
    for k, (a, b) in enumerate(zip(results["cpu"], results["cuda"])):
        np.testing.assert_allclose(host(b), host(a), rtol=1e-4, atol=1e-6, err_msg=f"{k}")
    x = tl.tensor(x_array, device="cuda", requires_grad=True)
    y = F.dropout(x, 0.5)  # one kernel draws the mask m: y = x m, dL/dx = 2 y m for L = |y|^2, so d/dx of it = 2 m^2
    assert "DropoutCuda" in op_names(y.grad_fn)
    g, = tl.autograd.grad((y ** 2).sum(), x, create_graph=True)
    second, = tl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(host(second), 2 * (host(y) / x_array) ** 2, rtol=1e-12)


def kinks_and_edges(lib):
    """Where a formula is easy to get wrong: a tie of logaddexp, a zero residual of the robust losses (their square
    is smooth there), a product over one number, to the third derivative."""
    F = lib.nn.functional
    results = []
    for f in (lambda x: lib.logaddexp(x, x.detach().flip(0)), lambda x: lib.logaddexp2(x, -x),
              lambda x: F.smooth_l1_loss(x, x.detach() * 0, reduction="none", beta=0.5),
              lambda x: F.huber_loss(x, x.detach() * 0, delta=2.0), lambda x: lib.prod(x[:1] ** 3, 0),
              lambda x: x[:1].cumprod(0) ** 3, lambda x: x.reshape(1, 3).prod(0) ** 2):
        x = lib.tensor([0.0, 1.5, 0.0], dtype=lib.float64, requires_grad=True)
        g, = lib.autograd.grad(f(x).sum(), x, create_graph=True)
        h, = lib.autograd.grad(g.sum(), x, create_graph=True)
        third = lib.autograd.grad(h.sum(), x, allow_unused=True)[0] if h.requires_grad else None
        results += [g, h, lib.zeros(3, dtype=lib.float64) if third is None else third]
    return results


def test_second_derivatives_at_ties_zero_residuals_and_single_numbers_match_pytorch():
    for k, (a, b) in enumerate(zip(kinks_and_edges(tl), kinks_and_edges(torch), strict=True)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, err_msg=f"{k}")


def relu_family(lib):
    """d^2/dx^2 and d/d(bias) of a gradient through ops whose gradient uses a mask of their input: PyTorch's backward
    reads the input, so these are zeros, not "was not used" (a ReLU network's second derivative, a dead critic)."""
    F = lib.nn.functional
    results = []
    for f in (F.relu, F.leaky_relu, F.relu6, F.hardtanh, F.hardshrink, lambda x: F.threshold(x, 0.1, 20.0),
              lambda x: F.prelu(x, lib.tensor([0.25], dtype=lib.float64)), lambda x: x.abs(),
              lambda x: F.max_pool1d(x[None], 2), lambda x: x.norm(1)):
        x = lib.tensor([0.3, -1.0, 2.0, 0.7], dtype=lib.float64, requires_grad=True)
        bias = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
        g, = lib.autograd.grad(f(x + bias).sum(), x, create_graph=True)
        results += [lib.autograd.grad((g * g).sum(), (x, bias))]
    return results


def test_a_gradient_through_a_mask_differentiates_to_zeros_as_pytorchs():
    for k, (ours, theirs) in enumerate(zip(relu_family(tl), relu_family(torch), strict=True)):
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(as_numpy(a, None), as_numpy(b, None), err_msg=f"{k}")
    for name, f in {"clamp": lambda x: x.clamp(-0.5, 0.5), "maximum": lambda x: x.maximum(x.detach() * 0),
                    "amax": lambda x: x.amax(), "where": lambda x: x.where(x > 0, 0.0)}.items():
        for lib in (tl, torch):  # these ops' backward does not read the input: the gradient is a constant
            x = lib.tensor([0.3, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
            g, = lib.autograd.grad(f(x).sum(), x, create_graph=True)
            assert not g.requires_grad, (name, lib.__name__)
    for lib in (tl, torch):  # batch norm in evaluation: its gradient depends on gamma, not on x (None, not zeros)
        x = lib.tensor([[0.3], [-1.0], [2.0]], dtype=lib.float64, requires_grad=True)
        gamma = lib.tensor([2.0], dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.batch_norm(x, lib.zeros(1, dtype=lib.float64), lib.ones(1, dtype=lib.float64), gamma,
                                         training=False)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        assert lib.autograd.grad(g.sum(), x, allow_unused=True) == (None,), lib.__name__


# ------------------------------------------------------------------------------------ custom Functions and hooks
def custom_functions(lib):
    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)  # an output: saved_tensors gives back the output itself
            return result

        @staticmethod
        def backward(ctx, g):
            result, = ctx.saved_tensors
            return g * result

    class ScaledCube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)  # an input: saved_tensors gives back the input itself
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.k, None

    class Weighted(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.x = x  # a tensor kept as an attribute of ctx: the caller's own, so its graph is reached too
            ctx.save_for_backward(w)
            return x ** 3 * w

        @staticmethod
        def backward(ctx, g):
            w, = ctx.saved_tensors
            return 3 * g * ctx.x ** 2 * w, g * ctx.x ** 3

    class Unchanged(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)  # an input returned as it is: saved_tensors is the input, not the output
            return x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 2 * x

    x = lib.tensor(np.random.default_rng(6).standard_normal(4), requires_grad=True)
    g, = lib.autograd.grad((MyExp.apply(x) * ScaledCube.apply(x, 2.0) + Unchanged.apply(x) * 3).sum(), x,
                           create_graph=True)
    h, = lib.autograd.grad(g.sum(), x, create_graph=True)
    w = lib.tensor([0.5, 1.5, -1.0, 2.0], requires_grad=True)
    gx, gw = lib.autograd.grad(Weighted.apply(x, w).sum(), (x, w), create_graph=True)
    return [g, h, lib.autograd.grad(h.sum(), x)[0], gx, gw, *lib.autograd.grad((gx * gw).sum(), (x, w))]


def hooks_and_grad_outputs(lib):
    rng = np.random.default_rng(7)
    x = lib.tensor(rng.standard_normal(4), requires_grad=True)
    h = x.tanh()
    h.register_hook(lambda grad: grad * h.detach() * 3)  # a tensor hook replacing a gradient of the graph
    seen = []
    x.register_hook(lambda grad: seen.append(grad.requires_grad))
    g, = lib.autograd.grad((h ** 2).sum(), x, create_graph=True)
    assert seen == [True]
    second, = lib.autograd.grad(g.sum(), x)
    linear = set_weights(lib, lib.nn.Linear(4, 3).double(), 10)
    linear.register_full_backward_hook(lambda module, grad_input, grad_output: (grad_input[0] * 2,))
    g2, = lib.autograd.grad(linear(x[None]).sigmoid().sum(), x, create_graph=True)
    u = lib.zeros(3, dtype=lib.float64, requires_grad=True)  # the double-vjp trick: J v from two reverse passes
    w = lib.tensor(rng.standard_normal((3, 4)))
    vjp, = lib.autograd.grad((w @ x).sigmoid(), x, grad_outputs=u, create_graph=True)
    jv, = lib.autograd.grad(vjp, u, grad_outputs=lib.tensor(rng.standard_normal(4)))
    return [g, second, g2, lib.autograd.grad(g2.sum(), x)[0], jv]


@pytest.mark.parametrize("case", [custom_functions, hooks_and_grad_outputs])
def test_custom_functions_and_hooks_under_create_graph_match_pytorch(case):
    for a, b in zip(case(tl), case(torch)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_a_once_differentiable_backward_gives_constants_or_refuses_as_pytorchs():
    for lib in (tl, torch):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * g * x

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        g, = lib.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        assert not g.requires_grad and g.tolist() == [2.0, 4.0]  # the gradient it was given needs none: a constant
        u = lib.ones(2, requires_grad=True)
        g, = lib.autograd.grad(Square.apply(x), x, grad_outputs=u, create_graph=True)
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with "
                                               "@once_differentiable"):
            g.sum().backward()


def test_what_cannot_be_differentiated_twice_is_refused_with_the_reason():
    class ArrayExp(Function):  # the library's own style: backward on arrays has no graph to record
        def forward(self, x):
            self.save_for_backward(x)
            return np.exp(x)

        def backward(self, g):
            x, = self.saved_tensors
            return g * np.exp(x)

    x = tl.tensor([0.5, 1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="ArrayExpBackward: gradients of gradients .* write it PyTorch's way"):
        tl.autograd.grad(ArrayExp.apply(x).sum(), x, create_graph=True)
    y = x * 1
    z = y.exp()
    z.add_(1)  # forward's output changed in place: its gradient would use the new numbers
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tl.autograd.grad(z.sum(), x, create_graph=True)
    g, = tl.autograd.grad(x.exp().sum(), x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        g.sum().backward()
    with pytest.raises(RuntimeError, match="gradgradcheck: no output of the function requires grad"):
        tl.autograd.gradgradcheck(lambda t: t.detach() * 2, (x,))
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        tl.autograd.grad(x.exp().sum(), x, is_grads_batched=True)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_keeps_the_graph_by_default_and_fills_only_the_inputs_asked_for():
    for lib in (tl, torch):
        x, w = lib.tensor([0.5, -1.0], requires_grad=True), lib.tensor([2.0, 3.0], requires_grad=True)
        loss = ((x * w) ** 2).sum()
        loss.backward(inputs=[x], create_graph=True)
        assert w.grad is None and x.grad.requires_grad and x.grad.tolist() == [4.0, -18.0]
        loss.backward(inputs=[x], create_graph=True)  # the graph was kept (retain_graph defaults to create_graph)
        assert x.grad.tolist() == [8.0, -36.0]
        x.grad.sum().backward()
        assert w.grad.tolist() == [8.0, -24.0]
        lib.autograd.backward([(x * x).sum()], create_graph=True)  # autograd.backward takes it too
        assert x.grad.requires_grad
        cube = (x ** 3).sum()
        with lib.no_grad():  # PyTorch records the backward when asked to, even inside no_grad
            g, = lib.autograd.grad(cube, x, create_graph=True, only_inputs=True)  # (an old argument, ignored)
        assert g.requires_grad
        layer = set_weights(lib, lib.nn.Linear(2, 1).double(), 11)
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        for zero_grad in (layer.zero_grad, optimizer.zero_grad) * 2:
            zero_grad(set_to_none=False)  # cuts .grad from the graph it was given, then zeros it
            assert layer.weight.grad is None or not layer.weight.grad.requires_grad
            layer(x.double()[None]).pow(2).sum().backward(create_graph=True)
            layer.weight.grad.pow(2).sum().backward()
        assert layer.weight.grad.grad_fn is not None
