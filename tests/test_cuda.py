"""The device paths on a real GPU with real CuPy. Skipped without them (run them where a GPU is lent).

The tests of tests/test_devices.py that do not count the stand-in's copies run here again, on CuPy: every op and
its gradient against the CPU, training loops with each optimizer, optimizer state following the model, checkpoints
across devices, autocast and GradScaler on "cuda", random numbers drawn on the GPU (their distributions, seeds,
generators, a resumed run's dropout masks), and the capstone-style step. Then what only a GPU can show: CuPy's own
kernels (erf in exact GELU, scatter-add in indexing backward), float16 matmuls on the GPU, ``synchronize`` and the
versions ``tinygrad_lite.cuda`` reports. benchmarks/gpu_check.sh runs this file on a lent GPU machine.
"""
import numpy as np
import pytest

import tinygrad_lite as tl

cupy = pytest.importorskip("cupy")
if tl.cuda.device_count() == 0:
    pytest.skip("CuPy is installed but sees no GPU", allow_module_level=True)

from test_devices import (  # noqa: E402, F401
    RANDOM,
    _capstone_step,
    check_distribution,
    test_a_generator_must_be_of_the_tensors_device,
    test_a_resumed_run_on_the_gpu_draws_the_dropout_masks_an_uninterrupted_one_would,
    test_a_training_loop_on_the_device_matches_the_cpu,
    test_autocast_on_the_device_uses_pytorchs_cuda_lists,
    test_checkpoints_load_across_devices_with_map_location,
    test_each_device_repeats_its_numbers_for_a_seed_and_the_two_differ,
    test_every_op_runs_on_the_device_with_the_same_numbers_and_gradients,
    test_index_ops_without_gradients_stay_on_the_device,
    test_mixing_devices_is_refused_with_a_clear_error,
    test_optimizer_state_follows_the_model_to_another_device,
)

import tinygrad_lite.nn.functional as F  # noqa: E402


@pytest.fixture
def gpu():
    """The real CuPy (the tests imported above take the stand-in's place with this fixture)."""
    return cupy


def test_real_cupy_arrays_and_moves():
    x = tl.randn(3, 4, device="cuda", requires_grad=True)
    assert isinstance(x.array, cupy.ndarray) and x.device == tl.device("cuda:0") and x.is_cuda
    y = (x * 2).sum()
    y.backward()
    assert isinstance(x.grad.array, cupy.ndarray)
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.full((3, 4), 2.0, np.float32))
    assert tl.cuda.is_available() and tl.accelerator.current_accelerator() == tl.device("cuda")
    assert isinstance(tl.cuda.get_device_name(), str) and tl.cuda.memory_allocated() > 0
    tl.cuda.empty_cache()
    versions = tl.cuda.versions()
    assert versions["cupy"] == cupy.__version__ and versions["cuda_runtime"] and versions["cuda_driver"]


def test_exact_gelu_uses_cupyx_erf_and_indexing_backward_scatters():
    x = tl.linspace(-3, 3, 101, device="cuda", requires_grad=True)
    F.gelu(x).sum().backward()
    cpu = tl.linspace(-3, 3, 101, requires_grad=True)
    F.gelu(cpu).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), cpu.grad.numpy(), rtol=1e-5, atol=1e-6)
    w = tl.zeros(5, device="cuda", requires_grad=True)
    w[tl.tensor([0, 0, 3], device="cuda")].sum().backward()  # repeated indices: the gradient adds up
    assert w.grad.tolist() == [2.0, 0.0, 0.0, 1.0, 0.0]


def test_float16_matmul_on_the_gpu_and_synchronize():
    a = tl.randn(256, 256, device="cuda")
    with tl.amp.autocast("cuda"):
        c = a @ a
    tl.cuda.synchronize()
    assert c.dtype is tl.float16 and isinstance(c.array, cupy.ndarray)
    np.testing.assert_allclose(c.float().cpu().numpy(), (a.cpu() @ a.cpu()).numpy(), rtol=2e-2, atol=0.3)


def test_grad_scaler_defaults_to_cuda_and_is_enabled_here():
    assert tl.amp.GradScaler().is_enabled()


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_tensors_are_drawn_on_the_gpu_with_their_distribution(name):
    tl.manual_seed(0)
    t = RANDOM[name](cupy)
    assert isinstance(t.array, cupy.ndarray)
    check_distribution(name, t)


@pytest.mark.parametrize("amp", [False, True], ids=["float32", "autocast+GradScaler"])
def test_the_capstone_step_trains_on_the_gpu(amp):
    step = _capstone_step(amp)
    losses = [step() for _ in range(20)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
