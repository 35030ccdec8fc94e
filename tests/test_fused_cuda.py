"""The fused paths of "cuda" (issue 47): what runs as CuPy fused kernels (``cupy.fuse``) when the tensors live on a GPU.

- the stand-in GPU's ``cupy.fuse`` (tinygrad_lite.course.stand_in_gpu.py): the real decorator's three
  forms, the same function run with numpy, what CuPy's fuse refuses refused here too, and a count of each kernel's
  calls (``fused_calls``) that shows which fused path ran;
- each fused path against the CPU's numpy path, on the stand-in: the optimizers' updates (Adam, AdamW, SGD: one
  kernel over all the parameters of a group, in place, for any size), clip_grad_norm_'s total norm, batch norm
  (statistics, running statistics, forward and backward), layer norm, cross-entropy (label smoothing, class
  weights, ignored targets, probabilities), ReLU's backward, dropout, and GradScaler's unscaling and update: the same
  numbers to float32 rounding, the fused kernels ran, nothing was copied between host and device;
- the CPU path takes none of them.

The tests that take the ``gpu`` fixture run again on a real GPU in tests/test_cuda.py (``ran`` then asks the library
which kernels it compiled for CuPy, and the tolerances allow for a GPU's own rounding). tests/test_cupy_contract.py
traces every kernel these tests run with the real CuPy's fuse.
"""
import math

import numpy as np
import pytest
from fake_cupy import FakeCuPy, fused_calls

import tinygrad_lite as tl
import tinygrad_lite.nn as nn
import tinygrad_lite.nn.functional as F
from tinygrad_lite import kernels
from tinygrad_lite.course.stand_in_gpu import StandInCuPy
from tinygrad_lite.optim.optimizer import BLOCK


@pytest.fixture
def gpu():
    """tinygrad_lite with the stand-in as its CuPy, for one test (tests/test_cuda.py: the real CuPy)."""
    with FakeCuPy().install() as fake:
        yield fake


def ran(gpu, name):
    """How many times the fused kernel ``name`` ran (the stand-in counts them); on a real GPU, whether the library
    made it for CuPy (it makes a kernel where it first calls it)."""
    if isinstance(gpu, StandInCuPy):
        return fused_calls(gpu)[name]
    return sum(kernels.kernel_name(make) == name for make, _ in kernels._kernels.get(gpu, {}))


def host(t):
    return t.detach().cpu().numpy()


def close(gpu, ours, expected, dtype=np.float32, what=""):
    """Equal to float32 (float64) rounding: on the stand-in the fused kernels run numpy's own operations (the sums
    are matrix products there); on a real GPU, with the kernels' own rounding (a multiply and an add fused into one).
    The absolute tolerance scales with the numbers' size: a sum rounds in proportion to its terms, not to itself."""
    loose = not isinstance(gpu, StandInCuPy)
    rtol = (1e-5 if dtype == np.float32 else 1e-12) * (10 if loose else 1)
    scale = float(np.max(np.abs(np.nan_to_num(expected, posinf=0, neginf=0)), initial=1.0))
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol * scale / 10, err_msg=what)


# ------------------------------------------------------------------------------------------------ the stand-in's fuse
def test_the_stand_in_fuses_in_the_real_decorators_three_forms_and_counts_the_calls(gpu):
    x, y = tl.arange(4.0, device="cuda").array, tl.ones(4, device="cuda").array

    @gpu.fuse
    def plain(a, b):
        return a * b + 1

    @gpu.fuse()
    def called(a, b):
        return a - b

    @gpu.fuse(kernel_name="named_kernel")
    def named(a, b):
        return gpu.maximum(a, b)

    assert "fuse" in gpu.__class__.__dict__ and plain.__name__ == "plain"
    np.testing.assert_array_equal(plain(x, y).get(), [1, 2, 3, 4])
    np.testing.assert_array_equal(called(x, y).get(), [-1, 0, 1, 2])
    np.testing.assert_array_equal(named(x, y).get(), [1, 1, 2, 3])
    assert isinstance(plain(x, y), type(x)) and plain(2.0, 3.0) == 7.0  # no GPU array: the plain function, as CuPy's
    assert dict(fused_calls(gpu)) == {"plain": 2, "called": 1, "named_kernel": 1}
    assert gpu.transfers.to_device == 0 and gpu.transfers.to_host == 3  # (the three .get() above)


def test_the_stand_ins_fused_outputs_have_the_kernels_shape_and_arguments_are_updated_in_place(gpu):
    x, row = tl.ones(3, 4, device="cuda").array, tl.arange(4.0, device="cuda").array

    @gpu.fuse()
    def shifted(a, b, step):
        a += b * step  # in place: an argument of the kernel's shape
        return b * 2   # computed from b alone, but of the kernel's shape, as CuPy's ElementwiseKernel broadcasts

    out = shifted(x, row, 0.5)
    assert out.shape == (3, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(x.get(), np.ones((3, 4)) + np.arange(4.0) * 0.5)

    @gpu.fuse()
    def local(b):
        y = b * 2
        y += 1  # a value of the kernel's own, changed in place: a variable of the kernel, not an output
        return y

    np.testing.assert_array_equal(local(row).get(), np.arange(4.0) * 2 + 1)
    np.testing.assert_array_equal(row.get(), np.arange(4.0))

    @gpu.fuse()
    def row_sums(a):
        return gpu.log(gpu.sum(gpu.exp(a), axis=1))  # one reduction, then a unary ufunc

    np.testing.assert_allclose(row_sums(x).get(), np.log(np.exp(x.get()).sum(1)), rtol=1e-6)


REFUSED = {
    "shape": (lambda xp: lambda a, b: a * a.shape[0], AttributeError, "cannot read .shape"),
    "indexing": (lambda xp: lambda a, b: a[0], TypeError, "not subscriptable"),
    "if on a value": (lambda xp: lambda a, b: a if a > b else b, TypeError, "Can't cast to bool"),
    "two reductions": (lambda xp: lambda a, b: (xp.sum(a), xp.sum(b)), ValueError, "one reduction at most"),
    "after a reduction": (lambda xp: lambda a, b: xp.sum(a, axis=0) * b, ValueError, "Shape mismatch"),
    "keepdims": (lambda xp: lambda a, b: xp.sum(a, axis=0, keepdims=True), NotImplementedError, "keepdims"),
    "smaller output": (lambda xp: lambda a, b: xp.add(b, 1, out=b), ValueError, "non-broadcastable output"),
    "a write and a reduction": (lambda xp: lambda a, b: (xp.multiply(a, 2, out=a), xp.sum(a))[1], ValueError,
                                "cannot also write an argument in place"),  # (CuPy would drop the write)
    "a reduction, then a write": (lambda xp: lambda a, b: (xp.sum(a), xp.add(a, 1, out=a))[0], ValueError,
                                  "cannot also write an argument in place"),
    "another array": (lambda xp: lambda a, b: a + xp.ones(4, dtype=xp.float32), TypeError, "arguments' arrays"),
    "matmul": (lambda xp: lambda a, b: a @ b, TypeError, "unsupported operand"),
    "a function": (lambda xp: lambda a, b: xp.dot(a, b), TypeError, "not allowed in a fused function"),
    "matmul function": (lambda xp: lambda a, b: xp.matmul(a, b), TypeError, "not one of CuPy's ufuncs"),
}


@pytest.mark.parametrize("what", sorted(REFUSED))
def test_the_stand_in_refuses_in_a_fused_function_what_cupys_fuse_cannot_compile(gpu, what):
    make, error, message = REFUSED[what]
    a, b = tl.ones(3, 4, device="cuda").array, tl.ones(4, device="cuda").array
    with pytest.raises(error, match=message):
        gpu.fuse(make(gpu))(a, b)


def test_the_stand_in_refuses_arguments_a_fused_kernel_does_not_take(gpu):
    kernel = gpu.fuse(lambda a, b: a)
    a = tl.ones(3, device="cuda").array
    for bad in (np.ones(3, np.float32), [1.0, 2.0], tl.ones(3)):
        with pytest.raises(TypeError, match="Invalid argument type"):
            kernel(a, bad)


# ------------------------------------------------------------------------------------------------ optimizers
SHAPES = [(40, 30), (30,), (3, 40), (3,), (BLOCK + 10,)]  # (the last larger than the CPU's update block)
OPTIMIZERS = {
    "AdamW": (lambda ps, foreach: tl.optim.AdamW(ps, lr=0.01, foreach=foreach), "adam_update"),
    "Adam amsgrad L2 maximize": (lambda ps, foreach: tl.optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True,
                                                                   maximize=True, foreach=foreach), "adam_update"),
    "SGD": (lambda ps, foreach: tl.optim.SGD(ps, lr=0.1, weight_decay=0.01, foreach=foreach), "sgd_update"),
    "SGD nesterov": (lambda ps, foreach: tl.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01,
                                                      foreach=foreach), "sgd_update"),
    "SGD dampening maximize": (lambda ps, foreach: tl.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3,
                                                                maximize=True, foreach=foreach), "sgd_update"),
}


def _train(make, device, foreach, dtype=np.float32, steps=4):
    """``steps`` steps of the optimizer ``make`` makes, on parameters of SHAPES with gradients drawn at random."""
    rng = np.random.default_rng(0)
    params = [tl.tensor(rng.standard_normal(s).astype(dtype), device=device, requires_grad=True) for s in SHAPES]
    optimizer = make(params, foreach)
    for _ in range(steps):
        for p in params:
            p.grad = tl.tensor(rng.standard_normal(p.shape).astype(dtype), device=device)
        optimizer.step()
    return params, optimizer


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("foreach", [None, False], ids=["multi-tensor", "per-parameter"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_an_optimizers_fused_update_on_the_gpu_equals_the_cpus_numpy_update(gpu, name, foreach, dtype):
    """Four steps on the GPU and on the CPU: the same parameters and state (to rounding; on the stand-in, the same
    numbers bit for bit: the kernel runs numpy's operations in the CPU's order). The multi-tensor path takes every
    parameter, whatever its size, in one kernel call per step (SGD's first step with momentum is per parameter, as
    on the CPU: b_1 = g_1); the per-parameter path calls the kernel once per parameter."""
    make, kernel = OPTIMIZERS[name]
    cpu_params, cpu_optimizer = _train(make, "cpu", foreach, dtype)
    before = (gpu.transfers.to_device, gpu.transfers.to_host) if isinstance(gpu, StandInCuPy) else None
    params, optimizer = _train(make, "cuda", foreach, dtype)
    if isinstance(gpu, StandInCuPy):  # copied to the GPU: the parameters and each step's gradients; read back: none
        assert (gpu.transfers.to_device, gpu.transfers.to_host) == (before[0] + 5 * len(SHAPES), before[1])
    for p, q in zip(params, cpu_params):
        close(gpu, host(p), host(q), dtype, name)
        for key, value in cpu_optimizer.state[q].items():
            close(gpu, host(optimizer.state[p][key]), host(value), dtype, f"{name}: state {key}")
    if isinstance(gpu, StandInCuPy):
        momentum = optimizer.defaults.get("momentum", 0)  # (the first step: one call per parameter, then one a step)
        assert ran(gpu, kernel) == (4 * len(SHAPES) if foreach is False else len(SHAPES) + 3 if momentum else 4)
    else:
        assert ran(gpu, kernel)


def test_on_the_gpu_a_groups_parameters_become_views_of_one_flat_array_updated_in_place(gpu):
    """The multi-tensor path on a GPU: after the first step each parameter's array is a view of its group's flat
    array (the whole group one kernel's arguments), and stays so: later steps update it in place."""
    params, optimizer = _train(OPTIMIZERS["AdamW"][0], "cuda", None, steps=1)
    arrays = [p.array for p in params]
    assert all(a.base is not None for a in arrays) and len({id(a.base) for a in arrays}) == 1
    assert sum(a.size for a in arrays) == arrays[0].base.size
    for p in params:
        p.grad = tl.ones_like(p)
    before = host(params[0])
    optimizer.step()
    assert all(p.array is a for p, a in zip(params, arrays)) and not np.array_equal(host(params[0]), before)


def test_the_state_dict_of_a_gpu_trained_optimizer_loads_into_a_cpu_one_and_steps_on_alike(gpu):
    params, optimizer = _train(OPTIMIZERS["AdamW"][0], "cuda", None, steps=3)
    cpu_params = [tl.tensor(host(p), requires_grad=True) for p in params]
    cpu_optimizer = tl.optim.AdamW(cpu_params, lr=0.01)
    cpu_optimizer.load_state_dict(optimizer.state_dict())
    rng = np.random.default_rng(5)
    for p, q in zip(params, cpu_params):
        g = rng.standard_normal(p.shape).astype(np.float32)
        p.grad, q.grad = tl.tensor(g, device="cuda"), tl.tensor(g)
    optimizer.step()
    cpu_optimizer.step()
    for p, q in zip(params, cpu_params):
        close(gpu, host(p), host(q))


FLOAT16_OPTIMIZERS = {
    "Adam amsgrad L2 maximize": lambda ps, foreach: tl.optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True,
                                                                  maximize=True, eps=1e-3, foreach=foreach),
    "AdamW": lambda ps, foreach: tl.optim.AdamW(ps, lr=0.01, eps=1e-3, foreach=foreach),
    "RMSprop centered momentum": lambda ps, foreach: tl.optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.9,
                                                                      eps=1e-3, foreach=foreach),
    "Adagrad": lambda ps, foreach: tl.optim.Adagrad(ps, lr=0.1, eps=1e-3, foreach=foreach),
}


@pytest.mark.parametrize("foreach", [None, False], ids=["multi-tensor", "per-parameter"])
@pytest.mark.parametrize("name", list(FLOAT16_OPTIMIZERS))
def test_float16_parameters_step_on_the_gpu_as_on_the_cpu(gpu, name, foreach):
    """float16 parameters: each op computes in float32 and rounds where PyTorch's kernels do (test_optim.py), which
    Adam's fused kernel, all in the arrays' dtype, cannot; on a GPU the update takes the CPU's route with CuPy's
    arrays. Four steps: the same parameters and state as on the CPU (on the stand-in bit for bit), all finite."""
    make = FLOAT16_OPTIMIZERS[name]
    cpu_params, cpu_optimizer = _train(make, "cpu", foreach, np.float16)
    params, optimizer = _train(make, "cuda", foreach, np.float16)
    for p, q in zip(params, cpu_params):
        pairs = [("", host(p), host(q))] + [(key, host(optimizer.state[p][key]), host(value))
                                            for key, value in cpu_optimizer.state[q].items() if key != "step"]
        for key, ours, expected in pairs:
            assert ours.dtype == np.float16 and np.isfinite(ours).all(), f"{name} {key}"
            if isinstance(gpu, StandInCuPy):
                np.testing.assert_array_equal(ours, expected, err_msg=f"{name} {key}")
            else:  # (a CuPy op may round its float32 result differently by a unit of float16's last place)
                np.testing.assert_allclose(ours, expected, rtol=2e-3, atol=1e-3, err_msg=f"{name} {key}")


# ------------------------------------------------------------------------------------------------ clip_grad_norm_
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0])
def test_clip_grad_norm_on_the_gpu_is_one_reduction_and_equals_the_cpus(gpu, norm_type):
    """The total norm: one fused reduction over all the gradients (nothing read back to the host), then the scale
    min(1, max_norm / (total + 1e-6)) in one more fused kernel; the same numbers as the CPU's norm of the norms."""
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    totals, clipped = [], []
    for device in ("cpu", "cuda"):
        params = [tl.zeros(g.shape, device=device, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = tl.tensor(g, device=device)
        reads = gpu.transfers.to_host if isinstance(gpu, StandInCuPy) else 0
        totals.append(host(nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)))
        if isinstance(gpu, StandInCuPy) and device == "cuda":
            assert gpu.transfers.to_host == reads + 1  # (host() of the total, above)
        clipped.append([host(p.grad) for p in params])
    close(gpu, totals[1], totals[0], what="total norm")
    for ours, expected in zip(*clipped[::-1]):
        close(gpu, ours, expected, what="clipped gradient")
    assert ran(gpu, "clip_grad_norm") and ran(gpu, "clip_grad_clip_coefficient")


def test_clip_grad_norm_keeps_its_numpy_path_where_the_fused_one_does_not_apply(gpu):
    """float16 gradients, a norm of order 0 or -inf: the per-gradient norms, as on the CPU (on the GPU)."""
    for dtype, norm_type in ((np.float16, 2.0), (np.float32, 0.0), (np.float32, -math.inf)):
        totals = []
        for device in ("cpu", "cuda"):
            params = [tl.ones(n, dtype=getattr(tl, np.dtype(dtype).name), device=device, requires_grad=True)
                      for n in (3, 2)]
            params[0].grad = tl.tensor(np.array([0.0, 3.0, -4.0], dtype), device=device)
            params[1].grad = tl.tensor(np.array([1.0, 2.0], dtype), device=device)
            totals.append(host(nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)))
        assert totals[1].dtype == dtype
        np.testing.assert_allclose(totals[1], totals[0], rtol=1e-3 if dtype == np.float16 else 1e-6)
    if isinstance(gpu, StandInCuPy):
        assert not ran(gpu, "clip_grad_norm")


# ------------------------------------------------------------------------------------------------ batch norm
def _batch_norm(device, shape, dtype, training, affine, running, steps=2):
    rng = np.random.default_rng(0)
    channels = shape[1]

    def make(values):
        return tl.tensor(values.astype(dtype), device=device)
    x = make(rng.standard_normal(shape) * 3 + 2).requires_grad_()
    w, b = (make(rng.standard_normal(channels)).requires_grad_() for _ in range(2)) if affine else (None, None)
    rm, rv = (make(rng.standard_normal(channels)), make(rng.random(channels) + 0.5)) if running else (None, None)
    for _ in range(steps):
        y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.1, eps=1e-5)
    y.backward(make(rng.standard_normal(shape)))
    results = {"y": y, "dx": x.grad, **({"dw": w.grad, "db": b.grad} if affine else {}),
               **({"running_mean": rm, "running_var": rv} if running else {})}
    return {key: host(t) for key, t in results.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(64, 30), (8, 6, 7), (4, 3, 5, 2)], ids=str)
@pytest.mark.parametrize("mode", ["train", "train without running statistics", "train plain", "eval", "eval plain"])
def test_batch_norm_on_the_gpu_runs_fused_and_equals_the_cpu(gpu, mode, shape, dtype):
    """Forward, backward, and the running statistics (updated on the GPU, in place) after two steps."""
    training, affine, running = mode.startswith("train"), "plain" not in mode, "without" not in mode
    expected = _batch_norm("cpu", shape, dtype, training, affine, running)
    ours = _batch_norm("cuda", shape, dtype, training, affine, running)
    for key in expected:
        assert ours[key].shape == expected[key].shape and ours[key].dtype == expected[key].dtype
        close(gpu, ours[key], expected[key], dtype, f"batch norm {mode}: {key}")
    # (in training the statistics' kernel computes the inverse std too; in evaluation a kernel of its own does)
    for kernel in ("normalise", "input_gradient") + (("centred_squares", "statistics") if training
                                                     else ("inverse_std",)):
        assert ran(gpu, f"batch_norm_{kernel}"), kernel


def test_a_batch_norm_layer_trains_on_the_gpu_as_on_the_cpu(gpu):
    """BatchNorm1d in a model, a few AdamW steps (num_batches_tracked, momentum=None: the cumulative average).

    The Linear before the batch norm has no bias (as such layers are usually made): batch norm subtracts the batch's
    mean, so such a bias changes nothing and its gradient is 0 up to rounding, which Adam divides by its own size:
    a step of about lr whichever way the rounding fell, and a real GPU rounds other than numpy (seen on an H100:
    0.007 apart after three steps, in the bias and the running mean it shifts)."""
    results = {}
    for device in ("cpu", "cuda"):
        tl.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16, bias=False), nn.BatchNorm1d(16, momentum=None), nn.ReLU(),
                              nn.Linear(16, 3))
        model.to(device)
        optimizer = tl.optim.AdamW(model.parameters(), lr=0.01)
        rng = np.random.default_rng(2)
        for _ in range(3):
            x = tl.tensor(rng.standard_normal((32, 6)).astype(np.float32), device=device)
            y = tl.tensor(rng.integers(0, 3, 32), device=device)
            optimizer.zero_grad()
            F.cross_entropy(model(x), y, label_smoothing=0.1).backward()
            optimizer.step()
        results[device] = {k: host(v) for k, v in model.state_dict().items()}
    for key, expected in results["cpu"].items():
        close(gpu, results["cuda"][key], expected, what=key)


@pytest.mark.parametrize("route", ["matrix products", "reductions"])
def test_sums_over_rows_are_a_matrix_product_when_large_and_a_reduction_when_small(gpu, monkeypatch, route):
    """``kernels.leading_sums`` and ``trailing_sums`` (batch norm's statistics and gradients, layer norm's): a product
    with a vector of ones (cuBLAS's) at ``SMALL`` numbers and more, CuPy's reduction below; both routes give the
    numpy path's numbers. Here each route is forced on the same small arrays."""
    monkeypatch.setattr(kernels, "SMALL", 0 if route == "matrix products" else 2 ** 62)
    monkeypatch.setattr(kernels, "_CONSTANTS", {})
    x = tl.tensor(np.random.default_rng(4).standard_normal((6, 5, 4)).astype(np.float32), device="cuda").array
    close(gpu, kernels.leading_sums(x, 2).get(), x.get().sum(axis=(0, 1)))
    close(gpu, kernels.trailing_sums(x, 1).get(), x.get().sum(axis=2))
    assert any(key[0] == "ones" for key in kernels._CONSTANTS) == (route == "matrix products")
    test_batch_norm_on_the_gpu_runs_fused_and_equals_the_cpu(gpu, "train", (64, 30), np.float32)
    test_layer_norm_on_the_gpu_runs_fused_and_equals_the_cpu(gpu, "both", (5, 6, 7), 2, np.float32)


# ------------------------------------------------------------------------------------------------ random numbers
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4), (0, 3), (3, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_numbers_and_dropout_on_the_gpu_are_one_kernel_each(gpu, shape, dtype):
    """On "cuda", ``rand`` and dropout (its mask and the product) are one fused kernel each, given the positions as a
    column of row numbers and a row of column numbers (nothing else of the output's size is made), and they draw the
    generator's stream: splitmix64 at the positions offset .. offset + n - 1, the offset then advanced by n. The
    gradient of dropout is the mask."""
    from tinygrad_lite.random import _mix, _unit_floats, cuda_generator, splitmix64
    n = math.prod(shape)
    tl.manual_seed(5)
    tl_dtype = tl.float32 if dtype is np.float32 else tl.float64
    u = tl.rand(*shape, device="cuda", dtype=tl_dtype)
    expected = _unit_floats(splitmix64(np.arange(n, dtype=np.uint64), _mix(5), 0), dtype).reshape(shape)
    assert u.shape == shape and u.dtype == tl_dtype and u.device.type == "cuda"
    np.testing.assert_array_equal(host(u), expected)
    x = tl.tensor(np.arange(n).reshape(shape).astype(dtype), device="cuda", requires_grad=True)
    y = F.dropout(x, p=0.3)
    keep = _unit_floats(splitmix64(np.arange(n, dtype=np.uint64), _mix(5), n), dtype) >= dtype(0.3)
    mask = np.where(keep, dtype(1 / 0.7), 0).reshape(shape).astype(dtype)
    np.testing.assert_array_equal(host(y), host(x) * mask)
    assert y.dtype == tl_dtype and cuda_generator(0).offset == 2 * n
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), mask)
    assert ran(gpu, "random_uniform") and ran(gpu, "random_dropout")


def test_dropout_in_float16_on_the_gpu_equals_its_mask_drawn_in_float32_and_cast(gpu):
    """Under autocast the input of dropout is float16: the kernel casts the mask to it (1 / 0.7 rounded to float16),
    as a mask drawn in float32 and cast, and multiplies in float16."""
    tl.manual_seed(3)
    x32 = tl.tensor(np.linspace(-2, 2, 24).reshape(4, 6).astype(np.float32), device="cuda")
    y32 = F.dropout(x32, p=0.3)
    tl.manual_seed(3)
    y16 = F.dropout(x32.half(), p=0.3)
    mask16 = np.where(host(y32) != 0, np.float16(1 / 0.7), np.float16(0))
    assert y16.dtype == tl.float16
    np.testing.assert_array_equal(host(y16), host(x32).astype(np.float16) * mask16)
    assert ran(gpu, "random_dropout")


# ------------------------------------------------------------------------------------------------ ReLU
@pytest.mark.parametrize("how", ["F.relu", "nn.ReLU", "Tensor.relu"])
def test_relu_on_the_gpu_has_a_one_kernel_backward_equal_to_the_cpus(gpu, how):
    """g where z > 0 as one kernel, whichever way ReLU is called; 0 at x = 0, also where g holds a nan or an inf, as
    on the CPU (and in PyTorch)."""
    relu = {"F.relu": F.relu, "nn.ReLU": nn.ReLU(), "Tensor.relu": lambda t: t.relu()}[how]
    x = np.array([[-1.0, 0.0, 2.0, 3.0], [0.5, -0.0, -2.0, 1e-30]], dtype=np.float32)
    g = np.array([[1.0, 2.0, np.inf, -3.0], [np.nan, 4.0, np.inf, 5.0]], dtype=np.float32)
    grads = []
    for device in ("cpu", "cuda"):
        t = tl.tensor(x, device=device, requires_grad=True)
        with np.errstate(invalid="ignore"):
            relu(t).backward(tl.tensor(g, device=device))
        grads.append(host(t.grad))
    np.testing.assert_array_equal(grads[1], grads[0])
    assert ran(gpu, "activation_relu_gradient")


# ------------------------------------------------------------------------------------------------ GradScaler
def _scaled_steps(device):
    """Five GradScaler steps of SGD on two parameters (growth every 2 clean steps): clean, clean (the scale grows),
    an inf in the second parameter's gradient only (skipped, the scale backs off), a nan in the first one's only
    (the same: the flag found in one gradient is carried through the next one's check), clean. The scale, the count
    of clean steps and the parameters after each step."""
    params = [tl.tensor([[1.0, -2.0], [0.5, 3.0]], device=device, requires_grad=True),
              tl.tensor([0.25, -1.0], device=device, requires_grad=True)]
    optimizer = tl.optim.SGD(params, lr=0.1)
    scaler = tl.amp.GradScaler(device, init_scale=2.0 ** 10, growth_interval=2)
    trace = []
    for bad in (None, None, (1, np.inf), (0, np.nan), None):
        optimizer.zero_grad()
        factors = [tl.tensor(1.0, device=device) for _ in params]
        if bad is not None:
            factors[bad[0]] = tl.tensor(bad[1], device=device)
        loss = (params[0] * params[0] * factors[0]).sum() + (params[1] * 3.0 * factors[1]).sum()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        scaler.step(optimizer)
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(), *(host(p).copy() for p in params)))
    return trace


def test_grad_scaler_on_the_gpu_runs_fused_and_steps_as_on_the_cpu(gpu):
    """unscale_ (1 / S, each gradient's inf/nan check) and update (backoff, growth) are fused kernels on "cuda",
    and take the CPU's steps: the same scales, counts and parameters, the bad steps skipped."""
    expected, ours = _scaled_steps("cpu"), _scaled_steps("cuda")
    assert [t[:2] for t in expected] == [(1024.0, 1), (2048.0, 0), (1024.0, 0), (512.0, 0), (512.0, 1)]
    for want, got in zip(expected, ours):
        assert got[:2] == want[:2]
        for a, b in zip(got[2:], want[2:]):
            close(gpu, a, b)
    for kernel in ("inverse_scale", "found_inf", "update"):
        assert ran(gpu, f"grad_scaler_{kernel}"), kernel


# ------------------------------------------------------------------------------------------------ layer norm
def _layer_norm(device, shape, k, dtype, affine):
    rng = np.random.default_rng(0)
    normalized = shape[len(shape) - k:]

    def make(values):
        return tl.tensor(values.astype(dtype), device=device, requires_grad=True)
    x = make(rng.standard_normal(shape) * 3 + 2)
    w = make(rng.standard_normal(normalized)) if affine in ("both", "weight") else None
    b = make(rng.standard_normal(normalized)) if affine in ("both", "bias") else None
    y = F.layer_norm(x, normalized, w, b, eps=1e-5)
    y.backward(tl.tensor(rng.standard_normal(shape).astype(dtype), device=device))
    results = {"y": y, "dx": x.grad, **({"dw": w.grad} if w is not None else {}),
               **({"db": b.grad} if b is not None else {})}
    return {key: host(t) for key, t in results.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape,k", [((64, 30), 1), ((5, 6, 7), 2), ((3, 4, 5, 2), 3), ((0, 8), 1)], ids=str)
@pytest.mark.parametrize("affine", ["both", "none", "weight", "bias"])
def test_layer_norm_on_the_gpu_runs_fused_and_equals_the_cpu(gpu, affine, shape, k, dtype):
    expected = _layer_norm("cpu", shape, k, dtype, affine)
    ours = _layer_norm("cuda", shape, k, dtype, affine)
    for key in expected:
        assert ours[key].shape == expected[key].shape and ours[key].dtype == expected[key].dtype
        close(gpu, ours[key], expected[key], dtype, f"layer norm: {key}")
    for kernel in ("layer_norm_statistics", "layer_norm_normalise", "batch_norm_times_normalised",
                   "layer_norm_input_gradient"):  # (g \hat{x} is batch norm's kernel: the same formula)
        assert ran(gpu, kernel), kernel


# ------------------------------------------------------------------------------------------------ cross-entropy
def _cross_entropy(device, shape, dtype, case, reduction):
    rng = np.random.default_rng(0)
    classes = shape[1] if len(shape) > 1 else shape[0]
    positions = shape[:1] + shape[2:] if len(shape) > 1 else ()
    x = tl.tensor((rng.standard_normal(shape) * 3).astype(dtype), device=device, requires_grad=True)
    weight = tl.tensor(rng.random(classes).astype(dtype) + 0.5, device=device) if "weights" in case else None
    if "probabilities" in case:
        q = rng.random(shape).astype(dtype)
        target = tl.tensor(q / q.sum(axis=1 if len(shape) > 1 else 0, keepdims=True), device=device)
    else:
        t = rng.integers(0, classes, positions)
        if "ignored" in case:
            t.reshape(-1)[::3] = -100
        target = tl.tensor(t, device=device)
    smoothing = 0.1 if "smoothing" in case else 0.0
    if case == "nll_loss":
        loss = F.nll_loss(x.log_softmax(1 if len(shape) > 1 else 0), target, reduction=reduction)
    else:
        loss = F.cross_entropy(x, target, weight=weight, label_smoothing=smoothing, reduction=reduction)
    loss.backward(tl.tensor(rng.standard_normal(loss.shape).astype(dtype), device=device))
    return host(loss), host(x.grad)


CROSS_ENTROPY_CASES = ["smoothing", "smoothing, weights, ignored", "plain", "ignored", "weights",
                       "probabilities", "probabilities, smoothing, weights", "nll_loss"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(64, 10), (5, 4, 3), (7,)], ids=str)
@pytest.mark.parametrize("case", CROSS_ENTROPY_CASES)
def test_cross_entropy_on_the_gpu_runs_fused_and_equals_the_cpu(gpu, case, shape, reduction, dtype):
    """Every target form and option: the same loss and gradient as the CPU's. Ignored targets (-100) in the usual
    case too, which the GPU once picked as class 0 (-100 wrapped around by CuPy's indexing)."""
    expected = _cross_entropy("cpu", shape, dtype, case, reduction)
    reads = gpu.transfers.to_host if isinstance(gpu, StandInCuPy) else 0
    ours = _cross_entropy("cuda", shape, dtype, case, reduction)
    if isinstance(gpu, StandInCuPy):
        assert gpu.transfers.to_host == reads + 2  # (host() of the loss and the gradient)
    for got, want, what in zip(ours, expected, ("loss", "gradient")):
        assert got.shape == want.shape and got.dtype == want.dtype, what
        close(gpu, got, want, dtype, f"{case}, {reduction}: {what}")
    if case != "nll_loss":
        assert ran(gpu, "cross_entropy_log_softmax") and ran(gpu, "cross_entropy_logits_gradient")
    if "probabilities" not in case:
        assert ran(gpu, "cross_entropy_target_weights")


def test_a_target_out_of_range_still_poisons_the_fused_loss_on_the_gpu(gpu):
    x = tl.randn(3, 4, device="cuda", requires_grad=True)
    loss = F.cross_entropy(x, tl.tensor([0, 4, -100], device="cuda"), label_smoothing=0.1)
    with pytest.raises(IndexError, match="class index 4, out of range for 4 classes"):
        loss.item()
    loss.backward()
    assert np.isnan(host(x.grad)).all()


# ------------------------------------------------------------------------------------------------ the CPU's path
def test_the_cpu_takes_no_fused_path(gpu):
    """With a GPU at hand, CPU tensors still run the CPU's numpy code: no fused kernel is called."""
    _batch_norm("cpu", (8, 4), np.float32, True, True, True)
    _layer_norm("cpu", (8, 4), 1, np.float32, "both")
    _cross_entropy("cpu", (8, 4), np.float32, "smoothing", "mean")
    _train(OPTIMIZERS["AdamW"][0], "cpu", None, steps=2)
    _train(OPTIMIZERS["SGD nesterov"][0], "cpu", None, steps=2)
    params = [tl.ones(3, requires_grad=True)]
    params[0].grad = tl.ones(3)
    nn.utils.clip_grad_norm_(params, 1.0)
    assert not fused_calls(gpu)


# ------------------------------------------------------------------------------------------------ all of them
def every_fused_path():
    """Each test above that runs a fused path, with each of its parameters, on a fresh stand-in:
    tests/test_cupy_contract.py records the kernels they call and traces each with the real CuPy's fuse."""
    runs = [(test_an_optimizers_fused_update_on_the_gpu_equals_the_cpus_numpy_update, OPTIMIZERS, (None, False),
             (np.float32, np.float64)),
            (test_clip_grad_norm_on_the_gpu_is_one_reduction_and_equals_the_cpus, (2.0, math.inf, 1.0, 3.0)),
            (test_batch_norm_on_the_gpu_runs_fused_and_equals_the_cpu,
             ("train", "train without running statistics", "train plain", "eval", "eval plain"),
             ((64, 30), (4, 3, 5, 2)), (np.float32, np.float64)),
            (test_layer_norm_on_the_gpu_runs_fused_and_equals_the_cpu, ("both", "none", "weight", "bias"),
             (((5, 6, 7), 2),), (np.float32, np.float64)),
            (test_cross_entropy_on_the_gpu_runs_fused_and_equals_the_cpu, CROSS_ENTROPY_CASES, ((5, 4, 3), (7,)),
             ("mean", "sum", "none"), (np.float32, np.float64)),
            (test_uniform_numbers_and_dropout_on_the_gpu_are_one_kernel_each, ((4, 5),), (np.float32, np.float64))]
    for test, *choices in runs:
        for arguments in _product(choices):
            if test is test_layer_norm_on_the_gpu_runs_fused_and_equals_the_cpu:
                arguments = (arguments[0], *arguments[1], arguments[2])
            with FakeCuPy().install() as fake:
                test(fake, *arguments)
    for test in (test_a_batch_norm_layer_trains_on_the_gpu_as_on_the_cpu,
                 test_a_target_out_of_range_still_poisons_the_fused_loss_on_the_gpu,
                 test_dropout_in_float16_on_the_gpu_equals_its_mask_drawn_in_float32_and_cast,
                 test_grad_scaler_on_the_gpu_runs_fused_and_steps_as_on_the_cpu):
        with FakeCuPy().install() as fake:
            test(fake)


def _product(choices):
    if not choices:
        return [()]
    return [(first, *rest) for first in choices[0] for rest in _product(choices[1:])]
