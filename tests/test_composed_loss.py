"""The composed losses and layers that scripts use beside the lessons' (``nn/functional/composed_loss.py``,
``rms_norm``, ``bilinear``, ``PairwiseDistance``, ``CosineSimilarity``) against PyTorch: values and gradients in
float64 for every reduction, the modules' reprs and state_dicts, and their errors."""
import math

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
X, Z = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
LABELS = (RNG.random((4, 5)) > 0.5).astype(np.float64)
COUNTS = RNG.poisson(2.0, (4, 5)).astype(np.float64)
VAR = RNG.random((4, 5)) + 0.1
VAR[0, 0] = 1e-9  # (below eps: clamped, its gradient kept)
CLASSES = np.array([1, 0, 4, 2])
LISTS = np.array([[3, 0, -1, 1, 2], [1, 1, 3, -1, -1], [-1, 1, 2, 3, 0], [0, 1, 2, 3, 4]])  # (up to the first -1)

# name: (arguments, which of them require grad, options)
CASES = {
    "margin_ranking_loss": ((X[:, 0], Z[:, 0], SIGNS), (0, 1), {"margin": 0.3}),
    "hinge_embedding_loss": ((np.abs(X), np.sign(Z)), (0,), {"margin": 1.5}),
    "soft_margin_loss": ((X, np.sign(Z)), (0,), {}),
    "multilabel_soft_margin_loss": ((X, LABELS), (0,), {"weight": np.linspace(0.5, 2.0, 5)}),
    "cosine_embedding_loss": ((X, Z, SIGNS), (0, 1), {"margin": 0.2}),
    "triplet_margin_loss": ((X, Z, X[::-1].copy()), (0, 1, 2), {"margin": 0.5, "p": 1.5, "swap": True}),
    "gaussian_nll_loss": ((X, Z, VAR), (0, 2), {"full": True}),
    "poisson_nll_loss": ((X, COUNTS), (0,), {"full": True}),
    "poisson_nll_loss__rates": ((np.abs(X) + 0.1, COUNTS), (0,), {"log_input": False}),
    "cosine_embedding_loss__broadcast": ((X, Z[:1], SIGNS), (0, 1), {}),
    "gaussian_nll_loss__one_var_per_column": ((X, Z, VAR[:1]), (0, 2), {}),
    "multi_margin_loss": ((X, CLASSES), (0,), {"p": 2, "margin": 0.7, "weight": np.linspace(0.5, 2.0, 5)}),
    "multilabel_margin_loss": ((X, LISTS), (0,), {}),
    "triplet_margin_with_distance_loss": ((X, Z, X[::-1].copy()), (0, 1, 2), {"margin": 0.5, "swap": True}),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", CASES)
def test_each_loss_matches_pytorch(name, reduction):
    arguments, learned, options = CASES[name]
    function = name.split("__")[0]
    ours = [tl.tensor(a, requires_grad=i in learned) for i, a in enumerate(arguments)]
    theirs = [torch.tensor(a, requires_grad=i in learned) for i, a in enumerate(arguments)]
    our_options = {k: (tl.tensor(v) if k == "weight" else v) for k, v in options.items()}
    their_options = {k: (torch.tensor(v) if k == "weight" else v) for k, v in options.items()}
    mine = getattr(tl.nn.functional, function)(*ours, **our_options, reduction=reduction)
    its = getattr(torch.nn.functional, function)(*theirs, **their_options, reduction=reduction)
    np.testing.assert_allclose(mine.detach().numpy(), its.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(tuple(its.shape))
    its.backward(torch.tensor(g))
    mine.backward(tl.tensor(g))
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, arguments", [
    ("MarginRankingLoss", {"margin": 0.3}), ("HingeEmbeddingLoss", {"margin": 2.0}), ("SoftMarginLoss", {}),
    ("MultiLabelSoftMarginLoss", {}), ("CosineEmbeddingLoss", {"margin": 0.1}),
    ("TripletMarginLoss", {"margin": 0.5, "swap": True}), ("GaussianNLLLoss", {"full": True}),
    ("PoissonNLLLoss", {"log_input": False}), ("MultiMarginLoss", {"p": 2}), ("MultiLabelMarginLoss", {}),
    ("TripletMarginWithDistanceLoss", {"swap": True})])
def test_the_loss_modules_match_pytorchs(name, arguments):
    ours, theirs = getattr(tl.nn, name)(**arguments), getattr(torch.nn, name)(**arguments)
    assert str(ours) == str(theirs)
    inputs = {"MarginRankingLoss": (X[:, 0], Z[:, 0], SIGNS), "CosineEmbeddingLoss": (X, Z, SIGNS),
              "TripletMarginLoss": (X, Z, X[::-1].copy()), "GaussianNLLLoss": (X, Z, VAR),
              "PoissonNLLLoss": (np.abs(X) + 0.1, COUNTS), "MultiLabelSoftMarginLoss": (X, LABELS),
              "MultiMarginLoss": (X, CLASSES), "MultiLabelMarginLoss": (X, LISTS),
              "TripletMarginWithDistanceLoss": (X, Z, X[::-1].copy())}.get(
                  name, (np.abs(X), np.sign(Z)))
    mine, its = ours(*map(tl.tensor, inputs)), theirs(*map(torch.tensor, inputs))
    np.testing.assert_allclose(mine.item(), its.item(), rtol=1e-12)


def test_gaussian_nll_takes_a_variance_per_sample_and_refuses_a_negative_one():
    mean, target = tl.tensor(X), tl.tensor(Z)
    per_sample = VAR[:, 0]
    theirs = torch.nn.functional.gaussian_nll_loss(torch.tensor(X), torch.tensor(Z), torch.tensor(per_sample))
    assert math.isclose(tl.nn.functional.gaussian_nll_loss(mean, target, tl.tensor(per_sample)).item(), theirs.item(),
                        rel_tol=1e-12)
    with pytest.raises(ValueError, match="negative"):
        tl.nn.functional.gaussian_nll_loss(mean, target, tl.tensor(-VAR))
    with pytest.raises(ValueError, match="incorrect size"):
        tl.nn.functional.gaussian_nll_loss(mean, target, tl.tensor(VAR[:2]))


def test_rms_norm_and_its_layer():
    ours, theirs = tl.nn.RMSNorm(5, dtype=tl.float64), torch.nn.RMSNorm(5, dtype=torch.float64)
    assert str(ours) == str(theirs) and list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    w = RNG.standard_normal(5)
    ours.weight.data, theirs.weight.data = tl.tensor(w), torch.tensor(w)
    (tx, lx) = torch.tensor(X, requires_grad=True), tl.tensor(X, requires_grad=True)
    mine, its = ours(lx), theirs(tx)
    np.testing.assert_allclose(mine.detach().numpy(), its.detach().numpy(), rtol=1e-12)
    its.sum().backward(), mine.sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10)
    x32 = X.astype(np.float32)  # eps=None: float32's machine epsilon, as PyTorch's
    np.testing.assert_allclose(tl.nn.functional.rms_norm(tl.tensor(x32), (4, 5)).numpy(),
                               torch.nn.functional.rms_norm(torch.tensor(x32), (4, 5)).numpy(), rtol=1e-6)
    assert tl.nn.RMSNorm([2, 3], eps=1e-5, elementwise_affine=False).weight is None


@pytest.mark.filterwarnings("ignore:Mismatch dtype between input and weight")  # (PyTorch's, about its kernel)
def test_rms_norm_keeps_the_inputs_dtype_and_computes_float16_in_float32():
    """As PyTorch's: the result has the input's dtype whatever the weight's, and a float16 input is normalised in
    float32 (with float32's epsilon), so that x * x neither overflows (900 squared) nor drowns in eps (1e-4)."""
    for values in ([[900.0, 1200.0, 300.0]], [[1e-4, 2e-4, -1e-4]]):
        for weight in (None, [1.0, 2.0, 3.0]):
            mine, its = (lib.nn.functional.rms_norm(lib.tensor(values, dtype=lib.float16), (3,),
                                                    None if weight is None else lib.tensor(weight))
                         for lib in (tl, torch))
            assert mine.dtype == tl.float16 and mine.tolist() == its.tolist()
    assert tl.nn.RMSNorm(3).double()(tl.ones(1, 3)).dtype == tl.float32


def test_bilinear_pairwise_distance_and_cosine_similarity_layers():
    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(5, 3, 2, dtype=torch.float64)
    ours = tl.nn.Bilinear(5, 3, 2, dtype=tl.float64)
    assert str(ours) == str(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: tl.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x2 = RNG.standard_normal((4, 3))
    (tx, lx) = torch.tensor(X, requires_grad=True), tl.tensor(X, requires_grad=True)
    mine, its = ours(lx, tl.tensor(x2)), theirs(tx, torch.tensor(x2))
    np.testing.assert_allclose(mine.detach().numpy(), its.detach().numpy(), rtol=1e-12)
    its.sum().backward(), mine.sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10)
    for layer, args in (("PairwiseDistance", {"p": 3.0, "keepdim": True}), ("CosineSimilarity", {"dim": 0})):
        mine = getattr(tl.nn, layer)(**args)(tl.tensor(X), tl.tensor(Z))
        its = getattr(torch.nn, layer)(**args)(torch.tensor(X), torch.tensor(Z))
        np.testing.assert_allclose(mine.numpy(), its.numpy(), rtol=1e-12)
        assert str(getattr(tl.nn, layer)(**args)) == str(getattr(torch.nn, layer)(**args))
    with pytest.raises(RuntimeError, match=r"weight \(out, in1, in2\)"):
        ours(lx, tl.tensor(X))


def test_targets_may_hold_integers_as_in_pytorch():
    """Labels 1 and -1, multi-hot 0/1 labels and counts come as int64 in many scripts: PyTorch takes them."""
    x, z = (RNG.standard_normal((3, 4)) for _ in range(2))
    signs, hot, counts = np.array([1, -1, 1]), RNG.integers(0, 2, (3, 4)), RNG.integers(0, 5, (3, 4))
    for name, args in (("cosine_embedding_loss", (x, z, signs)), ("hinge_embedding_loss", (x, hot * 2 - 1)),
                       ("margin_ranking_loss", (x[:, 0], z[:, 0], signs)), ("soft_margin_loss", (x, hot * 2 - 1)),
                       ("multilabel_soft_margin_loss", (x, hot)), ("poisson_nll_loss", (x, counts))):
        mine = getattr(tl.nn.functional, name)(*map(tl.tensor, args))
        its = getattr(torch.nn.functional, name)(*map(torch.tensor, args))
        np.testing.assert_allclose(mine.item(), its.item(), rtol=1e-12, err_msg=name)


def test_a_triplet_margin_must_be_positive_and_the_top_level_names():
    for make in (lambda lib: lib.nn.TripletMarginLoss(margin=0.0), lambda lib: lib.nn.functional.triplet_margin_loss(
            lib.ones(1, 2), lib.ones(1, 2), lib.ones(1, 2), margin=-1.0)):
        for lib in (tl, torch):
            with pytest.raises(ValueError, match="margin"):
                make(lib)
    for name in ("pairwise_distance", "rms_norm", "bilinear"):  # (torch.pairwise_distance is F.pairwise_distance)
        assert getattr(tl, name) is getattr(tl.nn.functional, name) and hasattr(torch, name)
