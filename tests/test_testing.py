"""tinygrad_lite.testing against torch.testing: assert_close passes and fails on the same inputs with the same
exception and message (PyTorch's module names aside), make_tensor draws in the same ranges and refuses the same
arguments, and assert_allclose keeps its own tolerances."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

NAN, INF = float("nan"), float("inf")

# each a function of (library, assert_close): what a test or a notebook compares, and the mistakes it meets
CASES = [
    lambda L, ac: ac(L.tensor([1.0, 2.0, 3.0]), L.tensor([1.0, 2.5, 3.0])),
    lambda L, ac: ac(L.tensor([[1.0, 2.0], [3.0, 4.0]]), L.tensor([[1.0, 2.0], [3.0, 5.0]])),
    lambda L, ac: ac(L.tensor([[1, 5], [7, 8]]), L.tensor([[0, 0], [7, 1]])),
    lambda L, ac: ac(L.tensor([True, False]), L.tensor([True, True])),
    lambda L, ac: ac(L.tensor([1, 2], dtype=L.uint8), L.tensor([3, 2], dtype=L.uint8)),
    lambda L, ac: ac(1.0, 1.5),
    lambda L, ac: ac(1, 2),
    lambda L, ac: ac(1.0, 1),
    lambda L, ac: ac(1, 1.0, check_dtype=False),
    lambda L, ac: ac(L.tensor(1.0), L.tensor(2.0)),
    lambda L, ac: ac(L.ones(2), L.ones(3)),
    lambda L, ac: ac(L.ones(2), L.ones(2, dtype=L.float64)),
    lambda L, ac: ac(L.ones(2), L.ones(2, dtype=L.float64), check_dtype=False),
    lambda L, ac: ac(L.tensor([1.0, 2.5], dtype=L.float16), L.tensor([1.0, 2.0]), check_dtype=False),
    lambda L, ac: ac(L.tensor([1.0, 2.0], dtype=L.float64), L.tensor([1, 3]), check_dtype=False),
    lambda L, ac: ac(L.ones(2, dtype=L.float16), L.ones(2, dtype=L.float16) * 1.002),
    lambda L, ac: ac(L.ones(2), 1.0),
    lambda L, ac: ac(L.ones(2), np.ones(2, dtype=np.float32)),
    lambda L, ac: ac(np.ones(2), np.zeros(2)),
    lambda L, ac: ac([L.ones(2), L.zeros(2)], [L.ones(2), L.ones(2)]),
    lambda L, ac: ac([[L.ones(1)], [L.ones(1)]], [[L.ones(1)], [L.zeros(1)]]),
    lambda L, ac: ac({"a": [1.0, 2.0]}, {"a": [1.0, 2.5]}),
    lambda L, ac: ac({"a": L.ones(2)}, {"b": L.zeros(2)}),
    lambda L, ac: ac({1: 1.0, 10: 2.0, 2: 3.0}, {1: 1.0, 10: 2.0, 2: 4.0}),
    lambda L, ac: ac([1.0, 2.0], [1.0, 2.0, 3.0]),
    lambda L, ac: ac((L.ones(1),), [L.ones(1)]),
    lambda L, ac: ac(L.tensor([1.0, NAN]), L.tensor([2.0, NAN])),
    lambda L, ac: ac(L.tensor([[1.0, NAN]]), L.tensor([[NAN, 2.0]])),
    lambda L, ac: ac(L.tensor([NAN, 1.0]), L.tensor([NAN, 1.0]), equal_nan=True),
    lambda L, ac: ac(L.tensor([INF, -INF]), L.tensor([INF, -INF])),
    lambda L, ac: ac(L.tensor([INF]), L.tensor([-INF])),
    lambda L, ac: ac(INF, -INF),
    lambda L, ac: ac(NAN, NAN),
    lambda L, ac: ac(L.tensor([0.0, 5.0]), L.tensor([0.0, 0.0])),
    lambda L, ac: ac(L.tensor([1e-30]), L.tensor([0.0])),
    lambda L, ac: ac(L.ones(1000), L.ones(1000) * 1.1),
    lambda L, ac: ac(L.tensor([1.0, 2.0]), L.tensor([1.0, 3.0]), rtol=0.1, atol=0.1),
    lambda L, ac: ac(L.tensor([1, 2]), L.tensor([1, 3]), rtol=0.5, atol=0),
    lambda L, ac: ac(L.tensor([1.0, 2.0]), L.tensor([1.5, 2.5]), rtol=0, atol=0),
    lambda L, ac: ac(L.ones(2), L.ones(2), rtol=1e-3),
    lambda L, ac: ac(L.ones(2), L.ones(2) * 1.01, msg="the weights moved"),
    lambda L, ac: ac(L.ones(2), L.ones(2) * 1.01, msg=lambda m: f"after step 3: {m}"),
    lambda L, ac: ac([L.ones(2)], [1.0], msg="ignored for a type error"),
    lambda L, ac: ac(L.ones(2, requires_grad=True), L.ones(2)),
    lambda L, ac: ac(L.nn.Parameter(L.ones(2)), L.ones(2)),
    lambda L, ac: ac(L.nn.Parameter(L.ones(2)), L.ones(2), allow_subclasses=False),
    lambda L, ac: ac(L.tensor(3), 3),
    lambda L, ac: ac(True, False),
    lambda L, ac: ac(None, 1),
    lambda L, ac: ac("a", "a"),
    lambda L, ac: ac(np.float32(1.0), 2.0),
    lambda L, ac: ac(1 + 1j, 1 + 1j + 1e-9j),
    lambda L, ac: ac(1 + 1j, 1 + 2j),
]


def outcome(lib, assert_close, case):
    """What a case does: "passes", or the exception's type and message with the library's name taken out."""
    try:
        case(lib, assert_close)
        return "passes"
    except (AssertionError, TypeError, ValueError) as error:  # (the exception is what is compared)
        text = str(error).replace("tinygrad_lite.tensor.Tensor", "torch.Tensor").replace("tinygrad_lite.", "torch.")
        return type(error).__name__, text.replace("torch.nn.parameter.Parameter", "Parameter")


def test_assert_close_passes_and_fails_as_pytorchs_with_its_messages():
    for number, case in enumerate(CASES):
        ours, theirs = (outcome(lib, lib.testing.assert_close, case) for lib in (tl, torch))
        assert ours == theirs, f"case {number}:\n ours:  {ours}\n torch: {theirs}"


def test_assert_close_refuses_one_tolerance_and_strides():
    with pytest.raises(ValueError, match="but got no atol"):
        tl.testing.assert_close(tl.ones(1), tl.ones(1), rtol=1e-3)
    with pytest.raises(NotImplementedError, match="do not expose strides"):
        tl.testing.assert_close(tl.ones(1), tl.ones(1), check_stride=True)


def test_assert_allclose_warns_and_keeps_its_looser_tolerances():
    for lib in (tl, torch):
        with pytest.warns(FutureWarning, match="assert_close"):
            lib.testing.assert_allclose(lib.tensor([1.0, 2.0]), [1.0, 2.0001])  # (rtol 1e-4 for float32)
        with warnings.catch_warnings(), pytest.raises(AssertionError, match="not close"):
            warnings.simplefilter("ignore")
            lib.testing.assert_allclose(lib.tensor([1.0, 2.0]), [1.0, 2.001])


def draws(lib, **arguments):
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = lib.testing.make_tensor(2000, device="cpu", **arguments)
    values = x.detach().numpy().astype(np.float64)
    return str(x.dtype).split(".")[1], x.requires_grad, values.min(), values.max()


@pytest.mark.parametrize("arguments, low, high", [
    (dict(dtype="float32"), -9, 9), (dict(dtype="int64"), -9, 9), (dict(dtype="uint8"), 0, 9),
    (dict(dtype="bool"), False, True), (dict(dtype="int8", low=-1000, high=1000), -128, 127),
    (dict(dtype="int64", low=0.5, high=2.5), 1, 2), (dict(dtype="float64", low=0, high=1, requires_grad=True), 0, 1),
    (dict(dtype="float16", low=-1e6, high=1e6), -65504, 65504), (dict(dtype="int64", low=0, high=1,
                                                                       exclude_zero=True), 1, 1)])
def test_make_tensor_draws_in_pytorchs_ranges(arguments, low, high):
    ours = draws(tl, **{**arguments, "dtype": getattr(tl, arguments["dtype"])})
    theirs = draws(torch, **{**arguments, "dtype": getattr(torch, arguments["dtype"])})
    assert ours[:2] == theirs[:2]
    for name, values in (("ours", ours), ("torch", theirs)):
        assert low <= values[2] and values[3] <= high, (name, values)
        assert values[3] - values[2] >= 0.9 * (high - low), (name, values)  # (the whole range drawn from)


def test_make_tensor_refuses_what_pytorchs_refuses():
    for arguments in (dict(dtype="float32", low=2, high=1), dict(dtype="float32", low=NAN),
                      dict(dtype="int64", requires_grad=True), dict(dtype="uint8", low=-5, high=-1)):
        errors = []
        for lib in (tl, torch):
            with pytest.raises(ValueError) as error:
                lib.testing.make_tensor(3, device="cpu", **{**arguments, "dtype": getattr(lib, arguments["dtype"])})
            errors.append(str(error.value).replace("tinygrad_lite.", "torch."))
        assert errors[0] == errors[1]
    assert tl.testing.make_tensor((), dtype=tl.float32, device="cpu").shape == ()
    assert tl.testing.make_tensor([2, 3], dtype=tl.float32, device="cpu").shape == (2, 3)
