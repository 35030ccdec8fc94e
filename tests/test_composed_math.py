"""(session 42) tinygrad_lite/composed_math.py against PyTorch: the edge values (0, nan, inf, integers, bools), the
argument forms and the kinds of error. Values and float64 gradients of every function are checked through the
registry's table (tests/registry.py) too."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

EDGES = [0.0, -0.0, 1.0, -2.5, 0.5, np.nan, np.inf, -np.inf, 1e-30, 3.0]
CASES = {
    "xlogy": lambda L, x, y: L.xlogy(x, y), "xlogy, number y": lambda L, x, y: x.xlogy(0.0),
    "xlogy, number x": lambda L, x, y: L.xlogy(0.0, y), "nan_to_num": lambda L, x, y: x.nan_to_num(),
    "nan_to_num, values": lambda L, x, y: L.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0),
    "logit": lambda L, x, y: x.logit(), "logit, eps": lambda L, x, y: L.logit(x, eps=1e-3),
    "tan": lambda L, x, y: x.tan(), "frac": lambda L, x, y: L.frac(x), "logical_and": lambda L, x, y: x.logical_and(y),
    "logical_or": lambda L, x, y: L.logical_or(x, y), "logical_xor": lambda L, x, y: x.logical_xor(y),
    "count_nonzero": lambda L, x, y: L.count_nonzero(x), "nansum": lambda L, x, y: x.nansum(),
    "nanmean": lambda L, x, y: L.nanmean(x), "nanmean of all nans": lambda L, x, y: (x * L.nan).nanmean(),
}


@pytest.mark.parametrize("name", CASES)
def test_edge_values_as_pytorch(name):
    grid = np.array([(a, b) for a in EDGES for b in EDGES]).T
    ours = CASES[name](tl, tl.tensor(grid[0]), tl.tensor(grid[1])).numpy()
    theirs = CASES[name](torch, torch.tensor(grid[0]), torch.tensor(grid[1])).numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0, equal_nan=True)


@pytest.mark.parametrize("call", [
    lambda L: L.count_nonzero(L.tensor([[0, 1, 2], [0, 0, 3]]), dim=1), lambda L: L.count_nonzero(L.eye(3), (0, 1)),
    lambda L: L.tensor([True, False]).logical_and(L.tensor([1.0, 1.0])), lambda L: L.nansum(L.tensor([[1, 2]]), 1),
    lambda L: L.nan_to_num(L.tensor([1, 2])), lambda L: L.tan(L.tensor([1, 2])), lambda L: L.xlogy(L.tensor([1, 0]), 2),
    lambda L: L.std_mean(L.arange(6.0).reshape(2, 3), 1), lambda L: L.std_mean(L.arange(6.0), True),
    lambda L: L.var_mean(L.arange(6.0).reshape(2, 3), dim=0, keepdim=True, correction=0),
    lambda L: L.addmm(L.full((2, 2), L.nan), L.ones(2, 3), L.ones(3, 2), beta=0),
    lambda L: L.addmv(L.ones(2), L.ones(2, 3), L.ones(3), alpha=0.5), lambda L: L.ones(3).outer(L.arange(2.0)),
    lambda L: L.ones(3).ger(L.arange(2.0)), lambda L: L.nanmean(L.tensor([[1.0, L.nan], [2.0, 4.0]]), 1, True),
    lambda L: L.logit(L.tensor([0, 1])), lambda L: L.ones(3).clamp_min(2.0), lambda L: L.clamp_max(L.arange(4), 2),
    # (median, quantile, and the lookups without gradient: searching.py)
    lambda L: L.median(L.tensor([[1.0, L.nan, 0.0], [1.0, 2.0, 3.0], [4.0, 4.0, 1.0]]), 1),
    lambda L: L.median(L.tensor([3, 1, 2, 2])), lambda L: L.tensor([]).median(),
    lambda L: L.median(L.tensor(2.0), 0), lambda L: L.quantile(L.tensor([[1.0, 2.0], [L.nan, 3.0]]), 0.5, dim=1),
    lambda L: L.quantile(L.arange(10.0), L.tensor([0.0, 0.33, 1.0]), interpolation="nearest"),
    lambda L: L.quantile(L.arange(10.0), 0.55, interpolation="lower"),
    lambda L: L.quantile(L.arange(10.0), 0.55, interpolation="higher"),
    lambda L: L.unique(L.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True),
    lambda L: L.unique(L.tensor([[1, 2], [1, 2], [0, 4]]), dim=0, return_counts=True),
    lambda L: L.tensor([[2.0, 1.0], [2.0, 5.0]]).unique(return_inverse=True),
    lambda L: L.searchsorted(L.tensor([1, 3, 5, 7]), L.tensor([[1, 5], [9, 0]])),
    lambda L: L.searchsorted(L.tensor([[1, 3], [2, 4]]), L.tensor([[2], [5]]), side="right", out_int32=True),
    lambda L: L.bucketize(L.tensor([1.0, 5.0, 9.0]), L.tensor([1.0, 3.0, 5.0, 7.0]), right=True),
    lambda L: L.searchsorted(L.tensor([5, 1, 3]), L.tensor([2, 4]), sorter=L.tensor([1, 2, 0])),
])
def test_argument_forms_as_pytorch(call):
    ours, theirs = call(tl), call(torch)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert isinstance(ours, tuple) == isinstance(theirs, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1] and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("bad, words", [
    (lambda L: L.ones(3).dot(L.ones(4)), "same length"), (lambda L: L.ones(3).dot(L.ones(3, dtype=L.float64)), "dtype"),
    (lambda L: L.ones(2, 3).dot(L.ones(3)), "vector"), (lambda L: L.ones(2, 3).outer(L.ones(3)), "vector"),
    (lambda L: L.ones(3).mv(L.ones(3)), "matrix"), (lambda L: L.mv(L.ones(2, 3), L.ones(3, 1)), "vector"),
    (lambda L: L.addmm(L.ones(2), L.ones(3), L.ones(3, 2)), "matrix"),
    (lambda L: L.frac(L.tensor([1, 2])), "floating point"), (lambda L: L.nanmean(L.tensor([1, 2])), "floating point"),
    (lambda L: L.quantile(L.arange(3.0), 1.5), "range"), (lambda L: L.quantile(L.arange(3.0), 0.5,
                                                                              interpolation="mean"), "interpolation"),
    (lambda L: L.cdist(L.ones(2, 3), L.ones(2, 4)), "same M"), (lambda L: L.bucketize(L.ones(2), L.ones(2, 2)), "1-D"),
    (lambda L: L.searchsorted(L.ones(3), L.ones(2), side="middle"), "side"),
])
def test_bad_arguments_raise_pytorchs_kind_of_error(bad, words):
    with pytest.raises(Exception) as theirs:
        bad(torch)
    with pytest.raises(type(theirs.value), match=words):
        bad(tl)


def test_xlogy_gradients_as_pytorchs_and_finite_at_0():
    """Entropy's p log p at p = 0: 0; the gradient in x is log y, at x = 0 too (PyTorch's), and at x = y = 0 both
    gradients are 0 (PyTorch gives nan for y's there)."""
    x, y = tl.tensor([0.0, 0.0, 0.5], requires_grad=True), tl.tensor([0.0, 2.0, 0.25], requires_grad=True)
    tl.xlogy(x, y).sum().backward()
    assert x.grad.tolist() == [0.0, pytest.approx(np.log(2.0)), pytest.approx(np.log(0.25))]
    assert y.grad.tolist() == [0.0, 0.0, 2.0]


@pytest.mark.parametrize("call", [
    lambda L: L.ones(2, 3).tile(2), lambda L: L.ones(2, 3).tile(1, 2), lambda L: L.ones(2, 3).tile((2, 1)),
    lambda L: L.ones(2, 3).swapdims(dim0=0, dim1=1), lambda L: L.swapaxes(L.ones(2, 3), axis0=1, axis1=0),
    lambda L: L.tensor(2.0).index_select(0, L.tensor([0])), lambda L: L.dot(L.ones(3), tensor=L.ones(3)),
    lambda L: L.addmm(L.ones(2), L.ones(2, 3), L.ones(3, 2), out=L.empty(2, 2)),
    lambda L: L.tan(L.ones(2), out=L.empty(2)), lambda L: L.logical_and(L.ones(2), L.zeros(2), out=L.empty(2,
                                                                                                          dtype=L.bool)),
    lambda L: L.index_select(L.ones(2, 3), 1, L.tensor([2, 0]), out=L.empty(2, 2)),
    lambda L: L.searchsorted(L.tensor([1, 3]), L.tensor([2]), out=L.empty(1, dtype=L.int64)),
])
def test_method_forms_keywords_and_out_as_pytorch(call):
    ours, theirs = call(tl), call(torch)
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype)[-5:] == str(theirs.dtype)[-5:]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)  # (tan: PyTorch's kernel varies by CPU)


def test_addmm_with_beta_0_ignores_the_input_but_gives_it_a_zero_gradient():
    for L in (tl, torch):
        c = L.tensor([[float("nan"), 1.0], [2.0, 3.0]], requires_grad=True)
        out = L.addmm(c, L.ones(2, 3), L.ones(3, 2), beta=0)
        out.sum().backward()
        assert out.tolist() == [[3.0, 3.0], [3.0, 3.0]] and c.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize("bad", [lambda L: L.ones(3, 4).masked_select(L.tensor([True, False])),
                                 lambda L: L.ones(3).index_select(0, L.tensor([-1])),
                                 lambda L: L.ones(3).index_select(0, L.tensor([3])), lambda L: L.tensor(1.0).unbind(),
                                 lambda L: L.xlogy(L.ones(3), L.ones(2)), lambda L: L.logical_and(L.ones(3), L.ones(2)),
                                 lambda L: L.mv(L.ones(2, 3), L.ones(2)),
                                 lambda L: L.ones(2, 3).unflatten(1, (-1, -1))])
def test_errors_of_pytorchs_kind_that_name_the_function(bad):
    with pytest.raises(Exception) as theirs:
        bad(torch)
    with pytest.raises(type(theirs.value)) as ours:
        bad(tl)
    assert str(ours.value).split("(")[0].split(":")[0] in ("masked_select", "index_select", "unbind", "xlogy",
                                                            "logical_and", "mv", "unflatten"), str(ours.value)


@pytest.mark.parametrize("args", [((1, 2),), ((1, 2, 0, 1),), ((-1, 2),), ((2, 1), "reflect"), ((3, 3), "replicate"),
                                  ((2, 4), "circular"), ((1, 1, 2, 0), "reflect"), ((1, 1), "constant", 5.0),
                                  ((-1, -1, 1, 0),), ((0, 0),), ((-1, 2), "circular"), ((-1, 2), "reflect"),
                                  ((2, -1), "replicate"), ((1, -2, -1, 1), "circular"), ((6, 0), "replicate"),
                                  ((0, 9, 5, 0), "replicate")])
def test_pad_as_pytorchs_with_its_gradient(args):
    x = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = tl.nn.functional.pad(ours, *args), torch.nn.functional.pad(theirs, *args)
    w = np.random.default_rng(0).normal(size=tuple(y_theirs.shape))
    (y_ours * tl.tensor(w)).sum().backward()
    (y_theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(y_ours.detach().numpy(), y_theirs.detach().numpy())
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("bad", [lambda L: L.nn.functional.pad(L.ones(2, 3), (1,)),
                                 lambda L: L.nn.functional.pad(L.ones(3), (1, 1, 1, 1)),
                                 lambda L: L.nn.functional.pad(L.ones(1, 3), (3, 0), mode="reflect"),
                                 lambda L: L.nn.functional.pad(L.ones(1, 3), (1, 0), mode="wrap"),
                                 lambda L: L.meshgrid(L.ones(2, 2), indexing="ij")])
def test_pad_and_meshgrid_refuse_what_pytorch_refuses(bad):
    with pytest.raises(Exception) as theirs:
        bad(torch)
    with pytest.raises(type(theirs.value), match="pad|meshgrid"):
        bad(tl)


def test_meshgrid_without_indexing_warns_as_pytorch():
    for L in (tl, torch):
        with pytest.warns(UserWarning, match="indexing argument"):
            grids = L.meshgrid(L.arange(2), L.arange(3))
        assert [tuple(g.shape) for g in grids] == [(2, 3), (2, 3)]


@pytest.mark.parametrize("call", [
    lambda L, x: x.median(), lambda L, x: L.median(x[:, :2].reshape(-1)),
    lambda L, x: L.cdist(x[:1], x[1:], p=float("inf")), lambda L, x: L.cdist(x, x, p=float("inf")),
])
def test_ties_share_or_take_the_gradient_as_pytorchs(call):
    """median() spreads its gradient evenly over the items equal to it; cdist's inf-norm gives it in full to each
    coordinate that ties for the largest difference (PyTorch's two conventions)."""
    data = [[3.0, 1.0, 2.0, 5.0], [4.0, 4.0, 1.0, 0.5], [2.0, 7.0, 7.0, 2.0]]
    grads = []
    for L in (tl, torch):
        x = L.tensor(data, requires_grad=True)
        out = call(L, x)
        (out * L.arange(out.numel(), dtype=out.dtype).reshape(out.shape).add(1)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda L: L.unique(L.tensor([1.5, -0.0, 0.0, L.nan, 1.5, L.nan, -2.0]), return_counts=True),
    lambda L: L.quantile(L.tensor([-L.inf, 1.0, 2.0]), L.tensor([0.2, 0.25, 0.5])),
    lambda L: L.bucketize(L.tensor([1, 5, 9]), L.tensor([1, 3, 5, 7]), out_int32=True),
])
def test_nan_and_infinite_data_as_pytorch(call):
    ours, theirs = call(tl), call(torch)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    for a, b in zip(ours, theirs, strict=True):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("bad", [
    lambda L: L.quantile(L.arange(3.0), float("nan")), lambda L: L.quantile(L.zeros(0), 0.3),
    lambda L: L.unique(L.tensor(1.0), dim=0), lambda L: L.searchsorted(L.tensor(1), L.tensor([1])),
    lambda L: L.searchsorted(L.tensor([1, 2, 3]), L.tensor([1]), sorter=L.tensor([0, 1])),
    lambda L: L.searchsorted(L.tensor([1, 2]), L.tensor([1]), side=True),
    lambda L: L.nn.functional.pad(L.ones(1, 3), (1, 0), mode="reflect", value=1.0),
    lambda L: L.nn.functional.pad(L.ones(3), (1, 0), mode=None), lambda L: L.meshgrid(L.ones(2), indexing="yx"),
    lambda L: L.nn.functional.leaky_relu(L.tensor([1])), lambda L: L.cdist(L.ones(2, 2, 3), L.ones(3, 2, 3)),
])
def test_more_errors_of_pytorchs_kind(bad):
    with pytest.raises(Exception) as theirs:
        bad(torch)
    with pytest.raises(type(theirs.value)):
        bad(tl)


# -------------------------------------------------------------------- einsum (tinygrad_lite/einsum.py, session 43)
def _r(*shape):
    return np.random.default_rng(len(shape) * 7 + sum(shape)).standard_normal(shape)


EINSUMS = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("Ab,bc", [(2, 3), (3, 4)]), ("ii", [(3, 3)]),
           ("ii->i", [(3, 3)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ij,kj->", [(2, 3), (5, 3)]),
           ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]), ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
           ("i,j->ij", [(3,), (4,)]), ("ij,j->i", [(2, 3), (1,)]), ("i...", [(2, 3)]),
           ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]), ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)]), ("iij->j", [(3, 3, 2)]),
           ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]), (",ij->ij", [(), (2, 3)]), ("ji,ij->j", [(3, 2), (2, 3)])]


@pytest.mark.parametrize("equation, shapes", EINSUMS)
def test_einsum_matches_pytorch_in_value_and_gradient(equation, shapes):
    arrays = [_r(*s) if s else np.array(2.0) for s in shapes]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [tl.tensor(a, requires_grad=True) for a in arrays]
    expected, got = torch.einsum(equation, *theirs), tl.einsum(equation, ours)  # (a list of operands too)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed = np.random.default_rng(0).standard_normal(tuple(expected.shape))
    expected.backward(torch.tensor(seed))
    got.backward(tl.tensor(seed))
    for t, o in zip(theirs, ours):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk->ix", [(2, 3), (3, 4)], "output subscript x does not appear"),
    ("ij,jk", [(2, 3)], "fewer operands"), ("ijk", [(2, 3)], "does not match the number of dimensions"),
    ("i1", [(2, 3)], "must be in \\[a-zA-Z\\]"), ("ij,jk->ii", [(2, 3), (3, 4)], "appears more than once"),
    ("ij,jk", [(2, 3), (4, 4)], "subscript j has size 4")])
def test_einsum_refuses_what_pytorch_refuses(equation, shapes, message):
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.zeros(s) for s in shapes])
    with pytest.raises(RuntimeError, match=rf"einsum\(\): .*{message}"):
        tl.einsum(equation, *[tl.zeros(s) for s in shapes])


def test_mode_is_pytorchs_smallest_most_frequent_value_at_its_last_occurrence():
    rng = np.random.default_rng(0)
    for _ in range(30):
        a = rng.integers(0, 4, (3, 4, 5)).astype(float)
        d = int(rng.integers(-3, 3))
        expected, got = torch.mode(torch.tensor(a), d), tl.mode(tl.tensor(a), d)
        np.testing.assert_array_equal(got.values.numpy(), expected.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())
    assert tl.mode(tl.tensor(4.0)).indices.item() == 0 and tl.mode(tl.tensor([[2, 2, 1]]), 1).values.tolist() == [2]


@pytest.mark.parametrize("batch_first, side", [(False, "right"), (True, "left")])
def test_pad_sequence_batches_sequences_of_different_lengths(batch_first, side):
    arrays = [np.random.default_rng(n).standard_normal((n, 3)) for n in (2, 5, 4)]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [tl.tensor(a, requires_grad=True) for a in arrays]
    expected = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -1.0, side)
    got = tl.nn.utils.rnn.pad_sequence(ours, batch_first, -1.0, side)
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
    (expected * expected).sum().backward()
    (got * got).sum().backward()
    for t, o in zip(theirs, ours):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())
    with pytest.raises(RuntimeError, match="empty list"):
        tl.nn.utils.rnn.pad_sequence([])


def test_cov_and_corrcoef_match_pytorch():
    data = np.random.default_rng(0).standard_normal((3, 10))
    results = []
    for lib in (tl, torch):
        x = lib.tensor(data, requires_grad=True)
        (lib.cov(x).sum() + lib.corrcoef(x).sum()).backward()
        results.append([lib.cov(x).detach().numpy(), lib.corrcoef(x).detach().numpy(), x.grad.numpy(),
                        lib.cov(x, correction=0).detach().numpy(), lib.cov(lib.tensor(data[0])).numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
