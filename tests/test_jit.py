"""``jit`` (torch.jit in eager mode): model code written for TorchScript runs as it does in eager PyTorch (its
markers leave functions as they are, ``is_scripting`` is False, ``fork`` runs at once, ``isinstance`` checks
containers with what they hold), and compiling refuses with what to do instead."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl


def make_model(lib):
    class Block(lib.nn.Module):
        """The shape of torchvision's code: a branch for scripting, an unused helper, an annotated list."""

        def __init__(self):
            super().__init__()
            self.linear = lib.nn.Linear(3, 2)

        @lib.jit.unused
        def describe(self):
            return "eager"

        @lib.jit.ignore
        def scale(self, x):
            return x * 2

        def forward(self, x):
            outputs = lib.jit.annotate(list[lib.Tensor], [])
            if lib.jit.is_scripting() or lib.jit.is_tracing():
                return self.linear(x)
            future = lib.jit.fork(self.scale, self.linear(x))
            outputs.append(lib.jit.wait(future))
            return outputs[0] + (1.0 if lib.jit.isinstance(outputs, list[lib.Tensor]) else 0.0)
    return Block()


@pytest.mark.filterwarnings("ignore:`torch.jit.(fork|wait)` is deprecated")  # (both libraries warn)
@pytest.mark.filterwarnings("ignore:The inner type of a container is lost")  # (PyTorch's)
def test_model_code_with_torchscript_markers_runs_as_in_eager_pytorch():
    weights = np.arange(6.0).reshape(2, 3) / 10
    results = []
    for lib in (tl, torch):
        model = make_model(lib)
        with lib.no_grad():
            model.linear.weight.copy_(lib.tensor(weights, dtype=lib.float32))
            model.linear.bias.zero_()
        results.append(model(lib.ones(4, 3)).detach().numpy())
        assert model.describe() == "eager" and lib.jit.fork(lambda a: a + 1, 2).wait() == 3
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@pytest.mark.parametrize("value, kind", [([1, 2], list[int]), ([1, "a"], list[int]), ({"a": 1}, dict[str, int]),
                                         ({"a": "b"}, dict[str, int]), ((1, "a"), tuple[int, str]),
                                         ((1, 2, 3), tuple[int, str]), (None, int | None), (3, int | None),
                                         ("x", int | None), (3, int), ([], list[int])])
@pytest.mark.filterwarnings("ignore:The inner type of a container is lost")  # (PyTorch's, for an empty list)
def test_isinstance_is_torchscripts(value, kind):
    assert tl.jit.isinstance(value, kind) == torch.jit.isinstance(value, kind)


def test_compiling_refuses_and_says_what_to_do_instead():
    with pytest.raises(RuntimeError, match="without a contained type"):
        tl.jit.isinstance([1], list)
    for name in ("script", "trace", "save", "load", "freeze"):
        with pytest.raises(NotImplementedError, match=f"jit.{name}: TorchScript .* save its state_dict"):
            getattr(tl.jit, name)(tl.nn.Linear(2, 2))
    assert tl.jit.ignore(drop=True)(len) is len and tl.jit.export(len) is len and tl.jit.Final is not None


def test_what_round_r55_found():
    """ignore's argument checked, a bare typing container refused as a bare list is, wait of something else."""
    import typing  # (the older spellings, typing.List ..., which scripts still use)
    for lib in (tl, torch):
        with pytest.raises(RuntimeError, match="must be a bool or a function"):
            lib.jit.ignore(3)
        bare_kinds = {"List": typing.List, "Dict": typing.Dict, "Tuple": typing.Tuple,  # noqa: UP006
                      "list": list, "dict": dict, "tuple": tuple}
        for bare, kind in bare_kinds.items():
            with pytest.raises(RuntimeError, match=f"Attempted to use {bare} without (a )?contained type"):
                lib.jit.isinstance([1], kind)
    with pytest.raises(TypeError, match="the Future that fork returns"):
        tl.jit.wait(3)
