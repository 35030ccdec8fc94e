"""Parametrizations (``nn.utils.parametrize``), spectral and weight normalisation in both of PyTorch's forms
(``nn.utils.parametrizations`` and the forward-pre-hook ``nn.utils.spectral_norm``/``weight_norm``), against
PyTorch: outputs, gradients, the power iteration's vectors after steps, state_dict keys, class names, removal, a
custom parametrization, caching, and the errors. The power iteration starts from random vectors, drawn differently
in the two libraries: ours are given PyTorch's."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

rng = np.random.default_rng(0)
W1, W2 = rng.standard_normal((4, 3)), rng.standard_normal((3, 2, 2, 2))
X, IMAGES = rng.standard_normal((5, 3)), rng.standard_normal((2, 2, 5, 5))


def filled(lib, module, *arrays):
    with lib.no_grad():
        for p, a in zip(module.parameters(), arrays):
            p.copy_(lib.tensor(a, dtype=p.dtype))
    return module


def given(lib, tensor, array, vectors):
    """PyTorch's random start (noted in ``vectors``), given to ours."""
    if lib is torch:
        vectors.append(tensor.detach().numpy().copy())
    else:
        with tl.no_grad():
            tensor.copy_(tl.tensor(vectors.pop(0), dtype=tensor.dtype))


def normalised(lib, vectors):
    nn, x, results = lib.nn, lib.tensor(X), []
    old = nn.utils.spectral_norm(filled(lib, nn.Linear(3, 4).double(), W1, np.zeros(4)))
    given(lib, old.weight_u, None, vectors), given(lib, old.weight_v, None, vectors)
    old(x)
    y = old(x)  # (two training steps of power iteration)
    y.sum().backward()
    results += [y, old.weight_orig.grad, old.weight_u, old.weight_v, old.eval()(x)]
    results.append(sorted(old.state_dict()))
    nn.utils.remove_spectral_norm(old)
    results += [old.weight, sorted(old.state_dict())]
    new = filled(lib, nn.Linear(3, 4).double(), W1, np.zeros(4))
    nn.utils.parametrizations.spectral_norm(new)
    power = new.parametrizations.weight[0]
    given(lib, power._u, None, vectors), given(lib, power._v, None, vectors)
    y = new(x)
    y.sum().backward()
    results += [y, new.parametrizations.weight.original.grad, power._u, sorted(new.state_dict()), type(new).__name__,
                nn.utils.parametrize.is_parametrized(new), nn.utils.parametrize.is_parametrized(new, "bias"),
                nn.utils.parametrize.type_before_parametrizations(new).__name__]
    nn.utils.parametrize.remove_parametrizations(new, "weight")
    results += [new.weight, type(new).__name__, sorted(new.state_dict())]
    conv = nn.utils.parametrizations.weight_norm(filled(lib, nn.Conv2d(2, 3, 2).double(), W2, np.zeros(3)))
    conv(lib.tensor(IMAGES)).pow(2).sum().backward()
    results += [conv.parametrizations.weight.original0, conv.parametrizations.weight.original0.grad,
                conv.parametrizations.weight.original1.grad, conv.weight]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # (deprecated in both, in favour of the parametrization)
        conv = nn.utils.weight_norm(filled(lib, nn.Conv2d(2, 3, 2).double(), W2, np.zeros(3)), dim=None)
    conv(lib.tensor(IMAGES)).pow(2).sum().backward()
    results += [conv.weight_g, conv.weight_g.grad, conv.weight_v.grad, sorted(conv.state_dict())]
    nn.utils.remove_weight_norm(conv)
    results.append(sorted(conv.state_dict()))
    return results


def test_spectral_and_weight_norm_match_pytorch_in_both_forms():
    vectors = []
    theirs = normalised(torch, vectors)
    ours = normalised(tl, vectors)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if isinstance(b, torch.Tensor):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, err_msg=f"result {k}")
        else:
            assert a == b, f"result {k}"


def test_a_custom_parametrization_with_a_right_inverse_and_caching():
    for lib in (tl, torch):
        nn = lib.nn

        class Symmetric(nn.Module):
            def forward(self, a):
                return a.triu() + a.triu(1).transpose(0, 1)

            def right_inverse(self, a):
                return a.triu()

        layer = filled(lib, nn.Linear(3, 3).double(), W1[:3], np.zeros(3))
        nn.utils.parametrize.register_parametrization(layer, "weight", Symmetric())
        assert (layer.weight == layer.weight.T).all() and layer.weight[0, 1].item() == W1[0, 1]
        layer.weight = lib.tensor(np.eye(3) * 2)  # assigning sets the original through right_inverse
        assert layer.parametrizations.weight.original.tolist() == (np.eye(3) * 2).tolist()
        with nn.utils.parametrize.cached():
            assert layer.weight is layer.weight
        assert layer.weight is not layer.weight
        class FirstRow(nn.Module):
            def forward(self, a):
                return a[:1]

        with pytest.raises(ValueError, match="may not change the shape of the tensor"):
            nn.utils.parametrize.register_parametrization(nn.Linear(3, 2), "weight", FirstRow())
        with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
            nn.utils.parametrize.register_parametrization(nn.Linear(3, 3), "kernel", Symmetric())
        class Flat(nn.Module):  # a right_inverse may change the original's shape: the result's counts
            def forward(self, a):
                return a.reshape(4, 4)

            def right_inverse(self, a):
                return a.reshape(16)

        flat = nn.utils.parametrize.register_parametrization(nn.Linear(4, 4), "weight", Flat())
        assert tuple(flat.parametrizations.weight.original.shape) == (16,) and tuple(flat.weight.shape) == (4, 4)
        doubled = nn.utils.parametrize.register_parametrization(nn.Linear(4, 4), "weight", Symmetric())
        with pytest.raises(ValueError, match="returned by parametrization.right_inverse must have the same shape"):
            nn.utils.parametrize.register_parametrization(doubled, "weight", Flat())  # (second: checked)
        with pytest.raises(IndexError, match="Dimension out of range"):
            nn.utils.parametrizations.weight_norm(nn.Linear(4, 3), dim=2)
        with pytest.raises(KeyError, match="nope"):
            nn.utils.spectral_norm(nn.Linear(4, 3), name="nope")
        with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
            nn.utils.spectral_norm(nn.utils.spectral_norm(nn.Linear(3, 3)))
        with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
            nn.utils.remove_spectral_norm(nn.Linear(3, 3))


ORTHOGONAL_CASES = [((4, 4), None, True), ((4, 4), "cayley", True), ((4, 4), "householder", True),
                    ((6, 3), None, True), ((3, 6), None, True), ((5, 3), "householder", False),
                    ((4, 4), "householder", False), ((5, 3), "matrix_exp", True)]


@pytest.mark.parametrize("shape, orthogonal_map, use_trivialization", ORTHOGONAL_CASES)
def test_orthogonal_starts_where_pytorch_starts_and_trains_as_it_does(shape, orthogonal_map, use_trivialization):
    """parametrizations.orthogonal with each map, square, tall and wide, with and without the trivialization: the
    starting weight (W made orthogonal), three SGD steps, the parameter and buffer names, and the weight still
    orthogonal after training. (A non-square W's random completion is drawn from each library's generator: it
    does not change the starting weight, and here not the path either.)"""
    W = np.random.default_rng(0).standard_normal(shape)
    x = np.linspace(-1, 1, 5 * shape[1]).reshape(5, shape[1])
    results = []
    for lib in (tl, torch):
        layer = lib.nn.Linear(shape[1], shape[0], bias=False)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(W, dtype=lib.float32))
        lib.nn.utils.parametrizations.orthogonal(layer, orthogonal_map=orthogonal_map,
                                                 use_trivialization=use_trivialization)
        start = layer.weight.detach().numpy().copy()
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            (layer(lib.tensor(x, dtype=lib.float32)) ** 3).sum().backward()
            optimizer.step()
        results.append((start, layer.weight.detach().numpy(), [n for n, _ in layer.named_parameters()],
                        [n for n, _ in layer.named_buffers()]))
    (start, trained, parameters, buffers), theirs = results
    np.testing.assert_allclose(start, theirs[0], atol=1e-6)
    np.testing.assert_allclose(trained, theirs[1], atol=1e-5)
    assert (parameters, buffers) == theirs[2:]
    np.testing.assert_allclose(np.linalg.svd(trained, compute_uv=False), 1, atol=1e-6)


def test_orthogonal_refuses_as_pytorch_does():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions"):
        tl.nn.utils.parametrizations.orthogonal(tl.nn.Linear(3, 2), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder"'):
        tl.nn.utils.parametrizations.orthogonal(tl.nn.Linear(3, 2), orthogonal_map="qr")
    layer = tl.nn.utils.parametrizations.orthogonal(tl.nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError, match="not possible to assign to the matrix exponential"):
        layer.weight = tl.eye(3)
    with pytest.raises(ValueError, match=r"Expected a matrix or batch of matrices of shape \(3, 3\)"):
        tl.nn.utils.parametrizations.orthogonal(tl.nn.Linear(3, 3)).weight = tl.eye(2)


def test_orthogonal_refuses_an_integer_weight():
    layer = tl.nn.Linear(3, 3)
    layer.weight = tl.nn.Parameter(tl.ones(3, 3, dtype=tl.int64), requires_grad=False)
    with pytest.raises(TypeError, match="floating-point"):
        tl.nn.utils.parametrizations.orthogonal(layer)
