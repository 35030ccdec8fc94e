"""The device paths on a real GPU with real CuPy. Skipped without them (run them where a GPU is lent).

The tests of tests/test_devices.py that do not count the stand-in's copies run here again, on CuPy: every op and
its gradient against the CPU, training loops with each optimizer, optimizer state following the model, checkpoints
across devices, autocast and GradScaler on "cuda", random numbers drawn on the GPU (their distributions, seeds,
generators, a resumed run's dropout masks), and the capstone-style step. Then what only a GPU can show: CuPy's own
kernels (erf in exact GELU, scatter-add in indexing backward), float16 matmuls on the GPU (float16 operands to
cuBLAS under autocast, against PyTorch CUDA's), ``synchronize`` and the versions ``tinygrad_lite.cuda`` reports.
benchmarks/gpu_check.sh runs this file on a lent GPU machine.

The fused paths (issue 47: tests/test_fused_cuda.py) run here as CuPy fused kernels compiled for the GPU: each
optimizer's update over a group, clip_grad_norm_'s total norm, batch norm (statistics, running statistics, forward
and backward), layer norm and cross-entropy, against the CPU's numpy path, to float32 rounding (a GPU's kernels round
a little differently: a multiply and an add fused into one, sums in another order).
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
from test_fused_cuda import (  # noqa: E402, F401
    test_a_batch_norm_layer_trains_on_the_gpu_as_on_the_cpu,
    test_a_target_out_of_range_still_poisons_the_fused_loss_on_the_gpu,
    test_an_optimizers_fused_update_on_the_gpu_equals_the_cpus_numpy_update,
    test_batch_norm_on_the_gpu_runs_fused_and_equals_the_cpu,
    test_clip_grad_norm_keeps_its_numpy_path_where_the_fused_one_does_not_apply,
    test_clip_grad_norm_on_the_gpu_is_one_reduction_and_equals_the_cpus,
    test_cross_entropy_on_the_gpu_runs_fused_and_equals_the_cpu,
    test_dropout_in_float16_on_the_gpu_equals_its_mask_drawn_in_float32_and_cast,
    test_float16_parameters_step_on_the_gpu_as_on_the_cpu,
    test_grad_scaler_on_the_gpu_runs_fused_and_steps_as_on_the_cpu,
    test_layer_norm_on_the_gpu_runs_fused_and_equals_the_cpu,
    test_on_the_gpu_a_groups_parameters_become_views_of_one_flat_array_updated_in_place,
    test_relu_on_the_gpu_has_a_one_kernel_backward_equal_to_the_cpus,
    test_sums_over_rows_are_a_matrix_product_when_large_and_a_reduction_when_small,
    test_the_state_dict_of_a_gpu_trained_optimizer_loads_into_a_cpu_one_and_steps_on_alike,
    test_uniform_numbers_and_dropout_on_the_gpu_are_one_kernel_each,
)
from test_higher_order import (  # noqa: E402, F401
    test_every_op_of_the_table_has_the_same_second_derivatives_on_the_gpu,
    test_on_the_gpu_the_fused_kernels_second_derivatives_equal_the_cpus,
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


def test_float16_products_under_autocast_take_float16_operands_and_match_pytorch_cuda(monkeypatch):
    """Issue 47: under autocast("cuda", float16) matmul, linear and bmm, forward and backward, hand CuPy float16
    operands (cuBLAS: float16 products accumulated in float32, rounded once). On numbers whose float32 sums are exact
    in any order, every result equals the exact value rounded to float16 once, and PyTorch CUDA's; on a Linear
    stack with random numbers, PyTorch CUDA's within float16's precision (the sums may add up in another order)."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch here has no CUDA")
    from test_amp import PRODUCT_CASES, exact_products, linear_stack_under_autocast, record_products

    seen = record_products(monkeypatch, cupy)
    ours = linear_stack_under_autocast(tl, "cuda")
    assert len(seen) == 8 and set(seen) == {("float16", "float16")}, seen
    for got, expected in zip(ours, linear_stack_under_autocast(torch, "cuda")):
        np.testing.assert_allclose(got, expected, rtol=1e-2, atol=1e-2)
    for case in PRODUCT_CASES:
        seen.clear()
        ours = exact_products(tl, "cuda", case)
        assert len(seen) == 3 and set(seen) == {("float16", "float16")}, (case, seen)
        theirs = exact_products(torch, "cuda", case)
        for name, (got, exact) in ours.items():
            np.testing.assert_array_equal(got, exact, err_msg=f"{case}: {name}")
            np.testing.assert_array_equal(theirs[name][0], exact, err_msg=f"{case}: PyTorch's {name}")


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
