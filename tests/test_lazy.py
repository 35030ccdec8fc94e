"""Lazy layers (nn.LazyLinear, LazyConvNd, LazyConvTransposeNd, LazyBatchNormNd, LazyInstanceNormNd) against PyTorch's:
before and after the first forward, the shapes they learn, a d2l.ai-style model trained with the same numbers,
load_state_dict before the first forward, an optimizer made before it, dtypes and the stand-in GPU."""
import numpy as np
import pytest
import torch
from fake_cupy import FakeCuPy, ndarray

import tinygrad_lite as tl


def lenet(lib):
    """d2l.ai's LeNet, written with lazy layers as the book writes it."""
    nn = lib.nn
    return nn.Sequential(nn.LazyConv2d(6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.LazyConv2d(16, 5),
                         nn.LazyBatchNorm2d(), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(), nn.LazyLinear(12),
                         nn.LazyBatchNorm1d(), nn.Sigmoid(), nn.LazyLinear(10))


def what_lazy_layers_are(lib):
    nn, seen = lib.nn, {}
    layer = nn.LazyLinear(4)
    seen["before"] = (repr(layer), type(layer.weight).__name__, layer.in_features, layer.has_uninitialized_params(),
                      repr(layer.weight), lib.nn.parameter.is_lazy(layer.weight), list(layer.state_dict()))
    for name, ask in {"shape": lambda: layer.weight.shape, "count": lambda: sum(p.numel() for p in layer.parameters())
                      }.items():
        with pytest.raises((RuntimeError, ValueError)) as caught:
            ask()
        seen[name] = (type(caught.value).__name__, str(caught.value)[:40])
    optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
    layer(lib.ones(2, 3)).sum().backward()
    optimizer.step()
    seen["after"] = (repr(layer), type(layer).__name__, type(layer.weight).__name__, tuple(layer.weight.shape),
                     isinstance(layer, nn.Linear), optimizer.param_groups[0]["params"][0] is layer.weight)
    for make, x in ((lambda: nn.LazyConv2d(5, 3, padding=1), lib.ones(1, 2, 4, 4)),
                    (lambda: nn.LazyConvTranspose2d(4, 2, stride=2, groups=2), lib.ones(1, 6, 3, 3)),
                    (lambda: nn.LazyConv1d(3, 2), lib.ones(4, 5)),
                    (lambda: nn.LazyConv3d(2, 1), lib.ones(1, 3, 2, 2, 2)),
                    (lambda: nn.LazyBatchNorm2d(), lib.ones(2, 3, 4, 4)),
                    (lambda: nn.LazyBatchNorm1d(bias=False), lib.ones(2, 3)),
                    (lambda: nn.LazyInstanceNorm2d(), lib.ones(2, 3, 4, 4)),
                    (lambda: nn.LazyInstanceNorm1d(affine=False), lib.ones(2, 3, 5)),
                    (lambda: nn.LazyInstanceNorm3d(bias=False), lib.ones(1, 2, 2, 2, 2)),
                    (lambda: nn.LazyLinear(3, bias=False), lib.ones(3))):
        module = make()
        before = repr(module)
        out = module(x)
        seen[before] = (repr(module), [tuple(t.shape) for t in module.state_dict().values()], tuple(out.shape))
    loaded = nn.LazyLinear(4)
    loaded.load_state_dict(nn.Linear(3, 4).state_dict())
    seen["loaded"] = (type(loaded).__name__, tuple(loaded.weight.shape))
    loaded(lib.ones(1, 3))
    seen["loaded, then run"] = repr(loaded)
    model = lenet(lib)
    model(lib.ones(2, 1, 28, 28))
    seen["lenet"] = (repr(model), sum(p.numel() for p in model.parameters()))
    seen["double"] = nn.LazyLinear(3).double()(lib.ones(2, 2, dtype=lib.float64)).dtype == lib.float64
    seen["isinstance"] = [[isinstance(m, kind) for kind in (nn.BatchNorm1d, nn.modules.batchnorm._BatchNorm,
                                                            nn.Linear, nn.Conv2d)]
                          for m in (nn.LazyBatchNorm1d(), nn.LazyLinear(2), nn.LazyConv2d(2, 1))]
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(lib.ones(1, 3, 5, 5))
    return seen


def test_lazy_layers_are_what_pytorchs_are():
    ours, theirs = what_lazy_layers_are(tl), what_lazy_layers_are(torch)
    assert str(ours).replace("tinygrad_lite.", "") == str(theirs).replace("torch.", "").replace(
        "<method 'numel' of 'torch._C.TensorBase' objects>", "numel")


def test_a_d2l_style_model_trains_as_pytorchs():
    """Initialised by a dry run, then the same weights in both: five SGD steps give the same losses."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 1, 28, 28)).astype("float32"), rng.integers(0, 10, 8)
    weights, losses = None, []
    for lib in (torch, tl):
        model = lenet(lib)
        model(lib.tensor(x[:2]))  # the dry run (a batch of 2, for batch norm)
        if weights is None:
            weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
        optimizer = lib.optim.SGD(model.parameters(), lr=0.5)
        run = []
        for _ in range(5):
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)


def test_a_state_dict_saved_before_the_first_forward_leaves_the_layer_lazy():
    saved = tl.nn.LazyLinear(4).state_dict()
    layer = tl.nn.LazyLinear(4)
    layer.load_state_dict(saved)
    assert layer.has_uninitialized_params()
    layer(tl.ones(2, 5))
    assert layer.weight.shape == (4, 5) and type(layer) is tl.nn.Linear


def test_moved_to_the_gpu_before_the_first_forward():
    with FakeCuPy().install():
        model = tl.nn.Sequential(tl.nn.LazyLinear(3), tl.nn.LazyBatchNorm1d()).to("cuda")
        out = model(tl.ones(4, 2, device="cuda"))
        assert all(isinstance(t.array, ndarray) for t in (out, *model.state_dict().values()))


def test_copies_pickles_and_an_optimizers_state_before_the_first_forward():
    """(r47) A deep copy of a lazy model initialised first leaves the original lazy, to be initialised by its own
    first batch; a lazy model pickles; an optimizer made before the first forward loads a saved state; a lazy
    layer's state_dict holds the uninitialized parameter itself, as PyTorch's."""
    import copy
    import pickle
    for lib in (tl, torch):
        prototype = lib.nn.Sequential(lib.nn.LazyConv2d(2, 1), lib.nn.Flatten(), lib.nn.LazyLinear(3))
        first = copy.deepcopy(prototype)
        first(lib.ones(2, 1, 2, 2))
        prototype(lib.ones(2, 4, 2, 2))
        assert (prototype[0].in_channels, first[0].in_channels, prototype[2].in_features) == (4, 1, 8)
        assert type(pickle.loads(pickle.dumps(lib.nn.LazyLinear(2)))).__name__ == "LazyLinear"
        assert type(lib.nn.LazyLinear(2).state_dict()["weight"]).__name__ == "UninitializedParameter"
        trained = lib.nn.Linear(3, 4)
        optimizer = lib.optim.Adam(trained.parameters())
        trained(lib.ones(1, 3)).sum().backward()
        optimizer.step()
        lazy = lib.nn.LazyLinear(4)
        resumed = lib.optim.Adam(lazy.parameters())
        resumed.load_state_dict(optimizer.state_dict())
        lazy.load_state_dict(trained.state_dict())
        lazy(lib.ones(1, 3)).sum().backward()
        resumed.step()
        assert resumed.state_dict()["state"][0]["step"].item() == 2
    with pytest.raises(RuntimeError, match=r"LazyConv1d: expected 2D \(unbatched\) or 3D \(batched\) input"):
        tl.nn.LazyConv1d(4, 3)(tl.ones(5))
