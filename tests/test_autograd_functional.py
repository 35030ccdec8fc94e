"""``autograd.functional`` (jacobian, hessian, vjp, jvp, vhp, hvp) against PyTorch's: values, shapes and the structure
of the results (a tensor, a tuple, a tuple of tuples), create_graph, strict mode and the errors."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

rng = np.random.default_rng(0)
A, B, V3, V4 = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(4)


def rows_and_columns(x):
    return (x.exp() * x).sum(1)


def two_inputs(x, y):
    return (x @ y).tanh()


def one_number(x, y):
    return ((x @ y) ** 2).sum() + y.sin().sum()


def two_outputs(x):
    return x.exp(), x.sum() * 2


def flatten(result):
    """The tensors of a result in order, with the structure as a string: 'T' a tensor, '(...)' a tuple."""
    if isinstance(result, tuple):
        inner = [flatten(r) for r in result]
        return "(" + ",".join(s for s, _ in inner) + ")", [t for _, ts in inner for t in ts]
    return "T", [result]


def everything(lib):
    F = lib.autograd.functional

    def t(a):
        return lib.tensor(a)
    ones = t(np.ones((3, 4)))
    return [
        F.jacobian(rows_and_columns, t(A)), F.jacobian(two_inputs, (t(A), t(B))), F.jacobian(two_outputs, t(B)),
        F.jacobian(rows_and_columns, t(A), vectorize=True), F.jacobian(two_outputs, (t(B),)),
        F.jacobian(lambda x, y: x * 2, (t(B), t(V3))),  # an input the output does not depend on: zeros
        F.hessian(one_number, (t(A), t(B))), F.hessian(lambda x: (x ** 3).prod(), t(B)),
        F.hessian(lambda x: (x ** 3).prod(), t(B), vectorize=True, outer_jacobian_strategy="forward-mode"),
        F.vjp(rows_and_columns, t(A), t(V3)), F.vjp(two_inputs, (t(A), t(B)), t(V3)),
        F.vjp(lambda x: (x * 3).sum(), t(B)), F.jvp(two_inputs, (t(A), t(B)), (ones, t(V4))),
        F.jvp(lambda x: x.exp() * 2, t(B[:1])), F.vhp(one_number, (t(A), t(B)), (ones, t(V4))),
        F.hvp(one_number, (t(A), t(B)), (ones, t(V4))), F.hvp(lambda x: x.sin().sum(), t(B), t(V4)),
    ]


def test_every_function_gives_pytorchs_numbers_in_pytorchs_structure():
    for k, (ours, theirs) in enumerate(zip(everything(tl), everything(torch), strict=True)):
        (our_shape, our_tensors), (their_shape, their_tensors) = flatten(ours), flatten(theirs)
        assert our_shape == their_shape, f"case {k}"
        for a, b in zip(our_tensors, their_tensors):
            assert tuple(a.shape) == tuple(b.shape) and not a.requires_grad, f"case {k}"  # (PyTorch's forward-mode
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12,  # hessian keeps a
                                       err_msg=f"case {k}")  # graph by accident: ours is detached, as documented)


def test_create_graph_gives_results_that_can_be_differentiated_again():
    results = {}
    for lib in (tl, torch):
        x = lib.tensor(B, requires_grad=True)
        hessian = lib.autograd.functional.hessian(lambda z: (z ** 4).sum() * z[0], x, create_graph=True)
        assert hessian.requires_grad
        hessian.sum().backward()
        _, product = lib.autograd.functional.hvp(lambda z: z.exp().prod(), x, lib.tensor(V4), create_graph=True)
        gradient, = lib.autograd.grad(product.sum(), x)
        jacobian = lib.autograd.functional.jacobian(lambda z: z.exp(), x)
        assert not jacobian.requires_grad and jacobian.grad_fn is None
        results[lib] = [hessian.detach(), x.grad, gradient]
    for a, b in zip(results[tl], results[torch]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)


CALLS = {
    "inputs not tensors": lambda F, lib: F.jacobian(lambda x: x, [lib.ones(2)]),
    "strict, an independent input": lambda F, lib: F.jacobian(lambda x, y: x * 2, (lib.ones(2), lib.ones(2)),
                                                               strict=True),
    "vjp without v": lambda F, lib: F.vjp(lambda x: x * 2, lib.ones(2)),
    "v of the wrong size": lambda F, lib: F.vjp(lambda x: x * 2, lib.ones(2), lib.ones(3)),
    "hessian of a vector": lambda F, lib: F.hessian(lambda x: x * 2, lib.ones(2)),
    "strict, a linear function's hessian": lambda F, lib: F.hessian(lambda x: (x * 2).sum(), lib.ones(2),
                                                                    strict=True),
    "strict, an output without gradient": lambda F, lib: F.jvp(lambda x: x.detach(), lib.ones(2), lib.ones(2),
                                                               strict=True),
    "v of the wrong length": lambda F, lib: F.hvp(lambda x: (x * x).sum(), (lib.ones(2), lib.ones(2)), lib.ones(2)),
    "forward mode without vectorize": lambda F, lib: F.jacobian(lambda x: x, lib.ones(2), strategy="forward-mode"),
    "an unknown strategy": lambda F, lib: F.jacobian(lambda x: x, lib.ones(2), strategy="sideways"),
    "vhp of two outputs": lambda F, lib: F.vhp(lambda x: (x.sum(), x.sum()), lib.ones(2), lib.ones(2)),
}


@pytest.mark.parametrize("name", CALLS)
def test_bad_calls_raise_pytorchs_errors(name):
    with pytest.raises(Exception) as theirs:
        CALLS[name](torch.autograd.functional, torch)
    with pytest.raises(type(theirs.value)) as ours:
        CALLS[name](tl.autograd.functional, tl)
    message = str(theirs.value).replace("torch.Size", "tinygrad_lite.Size").replace("isonly", "is only")
    assert str(ours.value) == message
