"""What scripts written for a compiler, several GPUs or several processes meet, against PyTorch's: torch.compile
and torch.compiler (no compiler here: the same objects and keys, run eagerly), torch.distributed's one-process
path, nn.DataParallel (CPU and the stand-in GPU) and DistributedDataParallel's refusal."""
import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy, ndarray

import tinygrad_lite as tl


class GPT:
    """A model class with its own attributes and methods, as nanoGPT's, made for either library."""

    @staticmethod
    def make(lib):
        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.config, self.head = {"n_layer": 1}, lib.nn.Linear(2, 3)

            def forward(self, x):
                return self.head(x).tanh()

            def generate(self):
                return "tokens"
        return Model()


def what_compile_gives(lib):
    model = GPT.make(lib)
    model.load_state_dict({"head.weight": lib.tensor(np.arange(6.0, dtype="float32").reshape(3, 2) / 10),
                           "head.bias": lib.zeros(3)})
    compiled = lib.compile(model, backend="eager")  # (PyTorch's: traced, without generating kernels: seconds less)
    seen = {"type": type(compiled).__name__, "wraps": compiled._orig_mod is model, "keys": list(compiled.state_dict()),
            "module": isinstance(compiled, lib.nn.Module), "attributes": (compiled.config, compiled.generate()),
            "out": compiled(lib.ones(1, 2)).tolist(), "disable": lib.compile(model, disable=True) is model,
            "function": lib.compile(lambda x: x * 2, backend="eager")(lib.ones(1)).tolist(),
            "decorator": lib.compile(backend="eager", fullgraph=True)(lambda x: x + 1)(lib.zeros(1)).tolist(),
            "in place": (model.compile(), list(model.state_dict())), "is_compiling": lib.compiler.is_compiling()}
    compiled.eval()
    seen["eval reaches the model"] = model.training
    for name, bad in {"not callable": lambda: lib.compile(3), "mode": lambda: lib.compile(model, mode="fast"),
                      "backend": lambda: lib.compile(model, backend="nope"),
                      "mode and options": lambda: lib.compile(model, mode="max-autotune", options={"a": 1})}.items():
        with pytest.raises((RuntimeError, AssertionError)) as caught:
            bad()
        seen[name] = (type(caught.value).__name__, str(caught.value)[:40])
    return seen


@pytest.mark.extended  # (PyTorch's compile imports and runs its tracer: 4 s, most of it once per process)
def test_compile_gives_what_pytorchs_gives():
    ours, theirs = what_compile_gives(tl), what_compile_gives(torch)
    assert ours.pop("out")[0] == pytest.approx(theirs.pop("out")[0])
    assert ours == theirs


def test_compile_gives_pytorchs_objects_and_keys():
    """The whole suite's share of the comparison above: what PyTorch 2.13 gives, written down."""
    seen = what_compile_gives(tl)
    assert seen["type"] == "OptimizedModule" and seen["wraps"] and seen["module"] and seen["disable"]
    assert seen["keys"] == ["_orig_mod.head.weight", "_orig_mod.head.bias"]
    assert seen["attributes"] == ({"n_layer": 1}, "tokens") and not seen["eval reaches the model"]
    assert seen["function"] == [2.0] and seen["decorator"] == [1.0] and seen["in place"] == (
        None, ["head.weight", "head.bias"])
    assert seen["backend"][0] == "InvalidBackend" and seen["not callable"][0] == "AssertionError"


def test_a_compiled_models_checkpoint_loads_into_the_plain_model_once_the_prefix_goes():
    """nanoGPT's recipe: a compiled model's state_dict, with '_orig_mod.' stripped, loads into the plain model."""
    model = tl.nn.Linear(2, 2)
    saved = tl.compile(model).state_dict()
    fresh = tl.nn.Linear(2, 2)
    fresh.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in saved.items()})
    assert tl.equal(fresh.weight, model.weight)


def what_one_process_meets(lib):
    dist, seen = lib.distributed, {}
    seen["is_initialized"] = dist.is_initialized()
    for name in ("get_rank", "get_world_size", "barrier", "destroy_process_group"):
        with pytest.raises((ValueError, AssertionError)) as caught:
            getattr(dist, name)()
        seen[name] = (type(caught.value).__name__, str(caught.value)[:50])
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        lib.nn.parallel.DistributedDataParallel(lib.nn.Linear(2, 2))
    wrapped = lib.nn.DataParallel(lib.nn.Linear(2, 3))
    seen["DataParallel"] = (list(wrapped.state_dict()), tuple(wrapped(lib.ones(4, 2)).shape), wrapped.device_ids)
    seen["ReduceOp"] = dist.ReduceOp.SUM is not dist.ReduceOp.MAX
    return seen


def test_a_one_process_run_meets_what_pytorchs_meets():
    assert what_one_process_meets(tl) == what_one_process_meets(torch)
    assert not tl.distributed.is_available()  # (so that a script asking first takes its one-process path)
    with pytest.raises(ValueError, match="one process"):
        tl.distributed.init_process_group("nccl")


def test_data_parallel_on_the_gpu_runs_the_model_on_its_first_device():
    with FakeCuPy(devices=2).install():
        wrapped = tl.nn.DataParallel(tl.nn.Linear(2, 3))
        assert wrapped.device_ids == [0, 1] and wrapped.output_device == 0
        with pytest.raises(RuntimeError, match=r"on device cuda:0 \(device_ids\[0\]\) but found one of them on "
                                               "device: cpu"):
            wrapped(tl.ones(4, 2))
        wrapped.to("cuda")
        out = wrapped(tl.ones(4, 2))  # (the batch moved to the model's GPU, as PyTorch's scatter does)
        assert isinstance(out.array, ndarray) and out.shape == (4, 3)
        out.sum().backward()
        assert isinstance(wrapped.module.weight.grad.array, ndarray)


def test_an_attribute_set_or_deleted_through_the_compiled_model_is_the_models():
    """(r46, r47) Set through the wrapper, a flag or a layer lands on the model (its forward sees it, its keys keep
    the prefix); deleted through it, it goes from the model."""
    model = GPT.make(tl)
    compiled = tl.compile(model)
    compiled.config = {"n_layer": 2}
    compiled.head = tl.nn.Linear(2, 5)
    assert model.config == {"n_layer": 2} and compiled(tl.ones(1, 2)).shape == (1, 5)
    assert list(compiled.state_dict()) == ["_orig_mod.head.weight", "_orig_mod.head.bias"]
    del compiled.config
    assert not hasattr(model, "config")
    compiled.eval()
    assert not model.training and not compiled.training
