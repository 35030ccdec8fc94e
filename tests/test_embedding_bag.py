"""``F.embedding_bag`` and ``nn.EmbeddingBag`` against PyTorch: each bag's sum, mean or max, in float64, with the
gradients of the weight and of ``per_sample_weights``; bags given by offsets or as the rows of a 2-D input, empty
bags, ``padding_idx``, ``include_last_offset``, ``max_norm``; PyTorch's exception types for bad arguments; the
module's repr, state_dict and ``from_pretrained``."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
WEIGHT = RNG.standard_normal((10, 3))
TOKENS = np.array([1, 2, 4, 5, 4, 3, 2, 9, 9, 0])


def _bags(lib, tokens, offsets=None, weights=None, **options):
    """(output, weight's gradient, per_sample_weights' gradient) for a loss that weighs each output number
    differently, so that a gradient sent to the wrong bag or column shows."""
    weight = lib.tensor(WEIGHT, requires_grad=True)
    per_sample = None if weights is None else lib.tensor(weights, requires_grad=True)
    out = lib.nn.functional.embedding_bag(lib.tensor(tokens), weight, None if offsets is None else lib.tensor(offsets),
                                          per_sample_weights=per_sample, **options)
    if out.numel():
        (out * lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))).sum().backward()
    grads = [None if t is None or t.grad is None else t.grad.numpy() for t in (weight, per_sample)]
    return [out.detach().numpy()] + grads


CASES = {
    "mean": (TOKENS, [0, 4, 4, 7], None, {}),
    "sum": (TOKENS, [0, 4, 4, 7], None, {"mode": "sum"}),
    "max": (TOKENS, [0, 4, 4, 7], None, {"mode": "max"}),
    "max with ties": (np.array([2, 2, 7, 7, 7]), [0, 2], None, {"mode": "max"}),
    "per_sample_weights": (TOKENS, [0, 3], np.linspace(-1, 2, 10), {"mode": "sum"}),
    "padding_idx mean": (TOKENS, [0, 4, 4, 7], None, {"padding_idx": 4}),
    "padding_idx max": (np.array([4, 4, 1, 4]), [0, 2], None, {"mode": "max", "padding_idx": 4}),
    "padding_idx sum weighted": (TOKENS, [0, 3], np.linspace(-1, 2, 10), {"mode": "sum", "padding_idx": -1}),
    "include_last_offset": (TOKENS, [0, 4, 10], None, {"include_last_offset": True}),
    "2-D rows mean": (TOKENS.reshape(5, 2), None, None, {}),
    "2-D rows max": (TOKENS.reshape(2, 5), None, None, {"mode": "max"}),
    "2-D weighted": (TOKENS.reshape(2, 5), None, np.linspace(0, 1, 10).reshape(2, 5), {"mode": "sum"}),
    "empty bags": (np.array([1, 2]), [0, 0, 1, 1], None, {"mode": "max"}),
    "no entries": (np.array([], dtype=np.int64), [0, 0], None, {}),
    "int32": (TOKENS.astype(np.int32), np.array([0, 5], dtype=np.int32), None, {}),
}


@pytest.mark.parametrize("case", CASES)
def test_each_bag_matches_pytorch_in_value_and_gradient(case):
    tokens, offsets, weights, options = CASES[case]
    offsets = None if offsets is None else np.asarray(offsets)
    ours, theirs = _bags(tl, tokens, offsets, weights, **options), _bags(torch, tokens, offsets, weights, **options)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None) and (a is None or (a.shape == b.shape and np.allclose(a, b, atol=1e-12)))


def test_max_norm_renormalises_the_picked_rows_in_place_as_pytorch():
    weights = [lib.tensor(WEIGHT * 2) for lib in (tl, torch)]
    outs = [lib.nn.functional.embedding_bag(lib.tensor([1, 2, 2, 3]), w, lib.tensor([0, 2]), max_norm=1.0)
            for lib, w in zip((tl, torch), weights)]
    assert np.allclose(outs[0].numpy(), outs[1].numpy()) and np.allclose(weights[0].numpy(), weights[1].numpy())


def test_the_module_is_pytorchs_layer():
    for lib in (tl, torch):
        lib.manual_seed(0)
        bag = lib.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-1)
        assert list(bag.state_dict()) == ["weight"] and not bag.weight[9].abs().sum().item()
        assert repr(bag) == "EmbeddingBag(10, 3, mode='sum', padding_idx=9)"
        assert repr(lib.nn.EmbeddingBag(4, 2, max_norm=1.0, norm_type=1, mode="max")) == \
            "EmbeddingBag(4, 2, max_norm=1.0, norm_type=1, mode='max')"
        out = bag(lib.tensor([1, 9, 3]), lib.tensor([0, 2]))
        assert np.allclose(out.detach().numpy(), np.stack([bag.weight[1].detach().numpy(), bag.weight[3].detach()
                                                           .numpy()]))
        frozen = lib.nn.EmbeddingBag.from_pretrained(lib.ones(4, 2), mode="max")
        assert not frozen.weight.requires_grad and frozen(lib.tensor([[0, 1]])).tolist() == [[1.0, 1.0]]
        assert lib.nn.EmbeddingBag.from_pretrained(lib.ones(4, 2), freeze=False).weight.requires_grad


BAD = {
    "offsets[0] is not 0": (RuntimeError, lambda lib, F, w: F.embedding_bag(lib.tensor([1, 2]), w, lib.tensor([1]))),
    "offsets past the end": (RuntimeError, lambda lib, F, w: F.embedding_bag(lib.tensor([1]), w, lib.tensor([0, 2]))),
    "1-D without offsets": (ValueError, lambda lib, F, w: F.embedding_bag(lib.tensor([1, 2]), w)),
    "2-D with offsets": (ValueError, lambda lib, F, w: F.embedding_bag(lib.tensor([[1]]), w, lib.tensor([0]))),
    "3-D input": (ValueError, lambda lib, F, w: F.embedding_bag(lib.zeros(1, 1, 1, dtype=lib.long), w)),
    "a mode it lacks": (ValueError, lambda lib, F, w: F.embedding_bag(lib.tensor([[1]]), w, mode="avg")),
    "float indices": (RuntimeError, lambda lib, F, w: F.embedding_bag(lib.tensor([[1.0]]), w)),
    "an index out of range": (RuntimeError, lambda lib, F, w: F.embedding_bag(lib.tensor([[12]]), w)),
    "weights with max": (NotImplementedError, lambda lib, F, w: F.embedding_bag(
        lib.tensor([[1]]), w, mode="max", per_sample_weights=lib.ones(1, 1, dtype=lib.float64))),
    "weights of another shape": (ValueError, lambda lib, F, w: F.embedding_bag(
        lib.tensor([[1]]), w, mode="sum", per_sample_weights=lib.ones(2, dtype=lib.float64))),
    "weights of another dtype": (RuntimeError, lambda lib, F, w: F.embedding_bag(
        lib.tensor([[1]]), w, mode="sum", per_sample_weights=lib.ones(1, 1))),
    "2-D offsets": (ValueError, lambda lib, F, w: F.embedding_bag(lib.tensor([1]), w, lib.tensor([[0]]))),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_raise_pytorchs_exception_type_naming_the_function(case):
    kind, call = BAD[case]
    for lib in (torch, tl):
        with pytest.raises(kind) as error:
            call(lib, lib.nn.functional, lib.tensor(WEIGHT))
        assert lib is torch or "embedding_bag" in str(error.value)


def test_decreasing_offsets_and_the_old_argument_order():
    """A decreasing offset is a clear error here (PyTorch's kernel fails on an internal check); the old order
    ``embedding_bag(weight, input)`` warns and works, as in PyTorch."""
    F, weight = tl.nn.functional, tl.tensor(WEIGHT)
    with pytest.raises(RuntimeError, match="offsets must never decrease"):
        F.embedding_bag(tl.tensor([1, 2, 3]), weight, tl.tensor([0, 2, 1]))
    with pytest.warns(UserWarning, match="Argument order"):
        swapped = F.embedding_bag(weight, tl.tensor([[1, 2]]))
    assert np.allclose(swapped.numpy(), WEIGHT[[1, 2]].mean(0))
