"""``nn.functional.grid_sample`` and ``affine_grid`` (nn/functional/sampling.py) against PyTorch: every mode,
padding mode and ``align_corners``, 4-D and 5-D, values and the gradients of the input, the grid and theta; a grid
that lands exactly on the edges (the identity map), float32, the stand-in GPU, PyTorch's warning and errors."""
import itertools
import warnings

import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
IMAGE, GRID = RNG.standard_normal((2, 3, 5, 6)), RNG.uniform(-1.3, 1.3, (2, 4, 7, 2))
VOLUME, GRID3 = RNG.standard_normal((2, 2, 3, 4, 5)), RNG.uniform(-1.2, 1.2, (2, 3, 2, 4, 3))
THETA, THETA3 = RNG.standard_normal((2, 2, 3)) * 0.5, RNG.standard_normal((2, 3, 4))


def sampled(lib, image, grid, dtype="float64", **options):
    """(the output, the input's gradient, the grid's gradient) of a weighted sum of grid_sample's output."""
    x = lib.tensor(image, dtype=getattr(lib, dtype), requires_grad=True)
    g = lib.tensor(grid, dtype=getattr(lib, dtype), requires_grad=True)
    y = lib.nn.functional.grid_sample(x, g, **options)
    (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(y.shape), dtype=y.dtype)).sum().backward()
    return [y.detach().numpy(), x.grad.numpy(), g.grad.numpy()]


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_every_padding_mode_and_alignment_matches_pytorch_in_2d_and_3d(mode):
    for padding_mode, align_corners in itertools.product(["zeros", "border", "reflection"], [False, True]):
        options = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
        cases = [(IMAGE, GRID)] + ([(VOLUME, GRID3)] if mode != "bicubic" else [])
        for image, grid in cases:
            for ours, theirs in zip(sampled(tl, image, grid, **options), sampled(torch, image, grid, **options)):
                np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=str(options))


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_and_a_spatial_transformer_step_match_pytorch(align_corners):
    """The grid of theta, and the gradient of theta through grid_sample (a spatial transformer's localisation
    net learns from it); the identity map reads the pixels back. Its gradient is not compared: every point sits
    exactly on a pixel, where the bilinear weights have a kink and either one-sided derivative is right; which one
    a library gives turns on the last bit of the grid, and PyTorch's linspace rounds by the CPU's vector width."""
    results = []
    for lib in (tl, torch):
        theta, theta3 = lib.tensor(THETA, requires_grad=True), lib.tensor(THETA3, requires_grad=True)
        F = lib.nn.functional
        grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners=align_corners)
        grid3 = F.affine_grid(theta3, (2, 1, 2, 3, 4), align_corners=align_corners)
        moved = F.grid_sample(lib.tensor(IMAGE), grid, align_corners=align_corners, padding_mode="border")
        identity = lib.tensor([[[1.0, 0, 0], [0, 1, 0]]], dtype=lib.float64, requires_grad=True)
        same = F.grid_sample(lib.tensor(IMAGE[:1]), F.affine_grid(identity, (1, 3, 5, 6), align_corners=align_corners),
                             align_corners=align_corners, padding_mode="reflection")
        (moved.sum() + (grid3 ** 2).sum()).backward()  # (not through the identity's reads: they sit on the kinks
        results.append([grid.detach().numpy(), grid3.detach().numpy(), moved.detach().numpy(),  # of the bilinear
                        theta.grad.numpy(), theta3.grad.numpy(), same.detach().numpy()])  # weights, see below)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[0][5], IMAGE[:1], atol=1e-12)  # (the identity map reads the image back)


def test_float32_and_the_stand_in_gpu():
    for ours, theirs in zip(sampled(tl, IMAGE, GRID, "float32", align_corners=False),
                            sampled(torch, IMAGE, GRID, "float32", align_corners=False)):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    with FakeCuPy().install():
        x = tl.tensor(IMAGE, device="cuda", requires_grad=True)
        g = tl.tensor(GRID, device="cuda", requires_grad=True)
        y = tl.nn.functional.grid_sample(x, g, mode="bicubic", padding_mode="reflection", align_corners=True)
        y.sum().backward()
        assert y.device.type == "cuda" and g.grad.device.type == "cuda"
        expected = sampled(torch, IMAGE, GRID, mode="bicubic", padding_mode="reflection", align_corners=True)
        np.testing.assert_allclose(y.detach().cpu().numpy(), expected[0], rtol=1e-10)


def test_pytorchs_warning_and_errors():
    F, x, g = tl.nn.functional, tl.tensor(IMAGE), tl.tensor(GRID)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, g)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(tl.tensor(THETA), (2, 3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.grid_sample(x, g, align_corners=False)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'cubic'"):
        F.grid_sample(x, g, mode="cubic", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
        F.grid_sample(x, g, padding_mode="mirror", align_corners=False)
    with pytest.raises(RuntimeError, match=r"grid of \(N, H_out, W_out, 2\).*grid \(2, 4, 7, 1\)"):
        F.grid_sample(x, g[..., :1], align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(tl.tensor(VOLUME), tl.tensor(GRID3), mode="bicubic", align_corners=False)
    with pytest.raises(RuntimeError, match=r"one floating-point dtype.*\.to\(input\.dtype\)"):
        F.grid_sample(x, g.float(), align_corners=False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(tl.tensor(THETA), (2, 3, 4), align_corners=False)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(tl.tensor(THETA3), (2, 3, 4, 5), align_corners=False)


def test_linspace_rounds_as_pytorchs_kernel_one_value_at_a_time():
    """affine_grid's coordinates come from linspace: the first half from start, the second from end (PyTorch's
    scalar kernel), so a symmetric range is exactly symmetric, both ends are exact, and each floating dtype
    computes in itself; an integer dtype truncates the ends first. (PyTorch's vectorised kernel, used for longer
    ranges by its CPU's vector width, may round the last bit differently, so the comparison is of short ones.)"""
    for steps in (1, 2, 3):
        for dtype in ("float64", "float32", "float16", "int64"):
            for start, end in ((-1, 1), (0.1, 7.3), (5, -5), (-3, 2.5)):
                ours = tl.linspace(start, end, steps, dtype=getattr(tl, dtype)).numpy()
                assert np.array_equal(ours, torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy())
    values = tl.linspace(-1, 1, 101, dtype=tl.float64).numpy()
    assert np.array_equal(values, -values[::-1]) and values[0] == -1 and values[-1] == 1
    assert tl.linspace(-3, 2.5, 6, dtype=tl.int64).tolist() == [-3, -2, -1, 0, 1, 2]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's inf - inf: nan, as intended)
def test_nan_and_inf_in_the_grid_and_empty_batches_are_pytorchs():
    """r53: a nan or an inf in the grid reads what PyTorch's kernel reads (nan for zeros padding, the clipped pixel
    for border and reflection), an empty batch or no channels give an empty result, and a size of 0 is refused."""
    inf, nan = float("inf"), float("nan")
    grid = [[[[nan, 0.0], [inf, 0.3], [-inf, 0.1], [0.2, nan]]]]
    results = []
    for lib in (tl, torch):
        F, row = lib.nn.functional, []
        for mode, padding in itertools.product(["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"]):
            row.append(F.grid_sample(lib.arange(12.0).reshape(1, 1, 3, 4), lib.tensor(grid), mode=mode,
                                     padding_mode=padding, align_corners=False).numpy())
        row.append(np.array(F.grid_sample(lib.zeros(0, 1, 3, 3), lib.zeros(0, 2, 2, 2), align_corners=False).shape))
        row.append(np.array(F.grid_sample(lib.zeros(1, 0, 3, 3), lib.zeros(1, 2, 2, 2), align_corners=False).shape))
        results.append(row)
        with pytest.raises(ValueError, match="Expected non-zero, positive output size"):
            F.affine_grid(lib.zeros(0, 2, 3), (0, 1, 2, 2), align_corners=False)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, equal_nan=True)
