"""``torch._foreach_*`` (foreach.py) against PyTorch: the EMA idiom of rounds r58 and r59 (``_foreach_mul_`` then
``_foreach_add_``, or ``_foreach_lerp_``) and every form of the second argument (a list of tensors, a list of
numbers, a number, one tensor), in place (the very list returned) and not (autograd through them)."""
import numpy as np
import pytest
import torch

import tinygrad_lite as tl


def run(L):
    seen = []
    xs = [L.tensor(np.linspace(-1, 2, 4), dtype=L.float32), L.tensor(np.arange(6.0).reshape(2, 3), dtype=L.float32)]
    ys = [L.ones(4) * 0.5, L.full((2, 3), 2.0)]
    steps = [lambda: L._foreach_add_(xs, ys, alpha=0.1), lambda: L._foreach_mul_(xs, 0.9),
             lambda: L._foreach_lerp_(xs, ys, 0.25), lambda: L._foreach_lerp_(xs, ys, [L.tensor(0.5), L.tensor(0.1)]),
             lambda: L._foreach_addcmul_(xs, ys, ys, value=0.5),
             lambda: L._foreach_addcdiv_(xs, ys, [y + 1 for y in ys], [0.1, 0.2]),
             lambda: L._foreach_sub_(xs, [1.0, -2.0]), lambda: L._foreach_div_(xs, L.tensor(2.0))]
    for step in steps:
        assert step() is xs
        seen += [x.clone() for x in xs]
    seen += L._foreach_maximum(xs, 0.5) + L._foreach_clamp_max(xs, 1.5) + L._foreach_sqrt([x.abs() for x in xs])
    seen += L._foreach_norm(xs) + L._foreach_norm(xs, 1) + L._foreach_pow(xs, 2) + L._foreach_exp(xs)
    L._foreach_clamp_min_(xs, 0.5)
    seen += [x.clone() for x in xs]
    assert L._foreach_zero_(xs) is xs and all(bool((x == 0).all()) for x in xs)
    L._foreach_copy_(xs, ys)
    seen += [x.clone() for x in xs]
    w = [L.ones(3, requires_grad=True), L.full((2,), 2.0, requires_grad=True)]
    sum(t.sum() for t in L._foreach_mul(L._foreach_add(w, 1.0), [3.0, 4.0])).backward()
    return seen + [t.grad for t in w]


def test_foreach_functions_match_pytorch():
    ours, theirs = run(tl), run(torch)
    assert len(ours) == len(theirs) == 36
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


def test_the_ema_idiom_and_bad_lists():
    ema, model = [tl.zeros(2), tl.zeros(3)], [tl.ones(2), tl.full((3,), 2.0)]
    tl._foreach_mul_(ema, 0.9)
    tl._foreach_add_(ema, model, alpha=0.1)
    np.testing.assert_allclose(np.concatenate([e.numpy() for e in ema]), [0.1, 0.1, 0.2, 0.2, 0.2], rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"_foreach_add_\(\): tensor lists must have the same number"):
        tl._foreach_add_([tl.ones(2)], [tl.ones(2), tl.ones(2)])
    with pytest.raises(TypeError, match="a list of tensors"):
        tl._foreach_mul_(tl.ones(2), 2.0)
