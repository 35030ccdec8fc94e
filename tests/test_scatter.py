"""``scatter`` and its relatives (tinygrad_lite/scatter.py, ``masked_scatter`` too) against PyTorch: values and
gradients in float64 of the input and of the numbers written, in place and not, with positions named twice;
PyTorch's exception types for a bad index; the one-hot idiom."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl

RNG = np.random.default_rng(0)
X, S = RNG.standard_normal((3, 4)), RNG.standard_normal((2, 4))


def _run(lib, case):
    """(result, the input's gradient, src's gradient) for a loss that weighs each output number differently."""
    x, s = lib.tensor(X, requires_grad=True), lib.tensor(S, requires_grad=True)
    out = CASES[case](lib, lambda v: lib.tensor(v), x * 1, s * 1)
    if out.requires_grad:
        (out * lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))).sum().backward()
    return [out.detach().numpy()] + [None if t.grad is None else t.grad.numpy() for t in (x, s)]


CASES = {
    "scatter": lambda lib, at, x, s: x.scatter(1, at([[1, 0], [3, 2]]), s[:, :2]),
    "scatter, a position named twice": lambda lib, at, x, s: x.scatter(1, at([[1, 1], [3, 0]]), s[:, :2]),
    "scatter a number": lambda lib, at, x, s: x.scatter(0, at([[2, 0, 1, 1]]), 7.0),
    "scatter_ in place": lambda lib, at, x, s: x.scatter_(1, at([[1, 0], [3, 2]]), s[:, :2]),
    "scatter_add": lambda lib, at, x, s: x.scatter_add(0, at([[1, 1, 0, 0], [1, 1, 1, 1]]), s),
    "scatter_add_ in place": lambda lib, at, x, s: x.scatter_add_(1, at([[1, 1, 0, 0], [3, 3, 3, 3]]), s),
    "scatter_reduce sum": lambda lib, at, x, s: x.scatter_reduce(1, at([[1, 1, 0], [3, 0, 0]]), s[:, :3], "sum"),
    "scatter_reduce mean": lambda lib, at, x, s: x.scatter_reduce(1, at([[1, 1, 0], [3, 0, 0]]), s[:, :3], "mean",
                                                                 include_self=False),
    "scatter_reduce amax": lambda lib, at, x, s: x.scatter_reduce(1, at([[1, 1, 0], [3, 0, 0]]), s[:, :3], "amax"),
    "scatter_reduce amin, ties": lambda lib, at, x, s: (x * 0).scatter_reduce(1, at([[1, 1, 0], [3, 0, 0]]),
                                                                             s[:, :3] * 0, "amin"),
    "index_add": lambda lib, at, x, s: x.index_add(0, at([0, 0]), s, alpha=2),
    "index_add_ along dim 1": lambda lib, at, x, s: x.index_add_(1, at([3, 1]), s.T[:3]),
    "index_copy, a slice named twice": lambda lib, at, x, s: x.index_copy(0, at([1, 1]), s),
    "index_fill with a 0-d tensor": lambda lib, at, x, s: x.index_fill(1, at([0, 2]), s[0, 0]),
    "index_put accumulate": lambda lib, at, x, s: x.index_put((at([0, 0, 2]), at([1, 1, 3])), s[0, :3],
                                                             accumulate=True),
    "index_put_ a mask": lambda lib, at, x, s: x.index_put_((at([True, False, True]),), s[0, 0]),
    "torch.scatter_add": lambda lib, at, x, s: lib.scatter_add(x, 0, at([[2, 2, 2, 2]]), s[:1]),
    "masked_scatter": lambda lib, at, x, s: x.masked_scatter(x > 0, s),
    "masked_scatter_, a row mask broadcast": lambda lib, at, x, s: x.masked_scatter_(at([True, False, False, True]),
                                                                                     s),
    "torch.masked_scatter, a column mask": lambda lib, at, x, s: lib.masked_scatter(x, at([[True], [False], [True]]),
                                                                                    s.reshape(-1)[:8]),
}


@pytest.mark.parametrize("case", CASES)
def test_each_matches_pytorch_in_value_and_gradient(case):
    for a, b in zip(_run(tl, case), _run(torch, case)):
        assert (a is None) == (b is None) and (a is None or np.allclose(a, b, atol=1e-12))


def test_the_one_hot_idiom_and_integer_tensors():
    labels = [[1], [3], [0]]
    for lib in (tl, torch):
        assert lib.zeros(3, 4).scatter_(1, lib.tensor(labels), 1.0).tolist() == np.eye(4)[[1, 3, 0]].tolist()
    counts = [lib.zeros(5, dtype=lib.long).scatter_add(0, lib.tensor([1, 1, 4]), lib.ones(3, dtype=lib.long))
              for lib in (tl, torch)]
    assert counts[0].tolist() == counts[1].tolist() and counts[0].dtype == tl.int64


BAD = {
    "an index out of range": lambda lib, x: x.scatter(1, lib.tensor([[4]]), 1.0),
    "a negative index": lambda lib, x: x.scatter(1, lib.tensor([[-1]]), 1.0),
    "an index with fewer dims": lambda lib, x: x.scatter(1, lib.tensor([1, 3]), 1.0),
    "a float index": lambda lib, x: x.scatter(1, lib.tensor([[1.0]]), 1.0),
    "src of another dtype": lambda lib, x: x.scatter(1, lib.tensor([[1]]), lib.ones(1, 1)),
    "an index larger than src": lambda lib, x: x.scatter(0, lib.tensor([[1, 2, 0, 0]]),
                                                         lib.ones(1, 2, dtype=lib.float64)),
    "a source of the wrong length": lambda lib, x: x.index_add(0, lib.tensor([0]), x[:2]),
    "in place on a leaf that requires grad": lambda lib, x: lib.ones(2, requires_grad=True).scatter_(
        0, lib.tensor([0]), 2.0),
    "masked_scatter with a float mask": lambda lib, x: x.masked_scatter(x, x),
    "masked_scatter with too few numbers": lambda lib, x: x.masked_scatter(x > -10, x[0]),
    "masked_scatter of another dtype": lambda lib, x: x.masked_scatter(x > 0, x.float()),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_call_raises_pytorchs_runtime_error(case):
    for lib in (torch, tl):
        with pytest.raises(RuntimeError):
            BAD[case](lib, lib.tensor(X))


@pytest.mark.parametrize("reduce, hint", [("max", "the maximum is 'amax'"), ("min", "the minimum is 'amin'"),
                                          ("foo", "got 'foo'$")])
def test_scatter_reduce_names_the_reduction_meant(reduce, hint):
    """Round r59: reduce='max' got a message about 'prod'; PyTorch's forward takes 'max' but its backward refuses."""
    with pytest.raises(RuntimeError, match=hint):
        tl.zeros(3).scatter_reduce(0, tl.tensor([0, 0]), tl.tensor([1.0, 2.0]), reduce=reduce)
    with pytest.raises(NotImplementedError, match="'prod' is not covered"):
        tl.zeros(3).scatter_reduce(0, tl.tensor([0, 0]), tl.tensor([1.0, 2.0]), reduce="prod")
