"""The error messages a learner meets: each must say which op failed, what was wrong (shapes, values) and the fix.

Each case also checks that PyTorch raises the same kind of exception for the same mistake, so code that catches
PyTorch's errors catches ours.
"""
import re

import pytest
import torch

import tinygrad_lite as tl


def raised(fn):
    """The exception ``fn()`` raises (the test fails if it raises none)."""
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def check(make_error, kind, *fragments):
    """Run the same mistake in both libraries: same exception type, and ours mentions every fragment."""
    theirs, ours = raised(lambda: make_error(torch)), raised(lambda: make_error(tl))
    assert isinstance(theirs, kind), f"PyTorch raised {type(theirs).__name__}: {theirs}"
    assert isinstance(ours, kind), f"we raised {type(ours).__name__}: {ours}"
    message = str(ours)
    for fragment in fragments:
        if isinstance(fragment, re.Pattern):
            assert fragment.search(message), f"{fragment.pattern!r} not found in: {message}"
        else:
            assert fragment in message, f"{fragment!r} not found in: {message}"
    return message


# ------------------------------------------------------------------------------------------------ shapes
def test_matmul_shape_mismatch_names_op_shapes_and_suggests_transpose():
    message = check(lambda T: T.ones(4, 3) @ T.ones(4, 3), RuntimeError, "matmul", "(4, 3)", "transpose")
    assert message.count("(4, 3)") >= 2  # both shapes
    check(lambda T: T.ones(2, 5) @ T.ones(3, 2), RuntimeError, "matmul", "(2, 5)", "(3, 2)", "5", "3")
    check(lambda T: T.matmul(T.ones(2, 5), T.ones(3, 2)), RuntimeError, "matmul", "(2, 5)", "(3, 2)")
    check(lambda T: T.ones(3) @ T.ones(4), RuntimeError, "matmul", "(3,)", "(4,)")
    check(lambda T: T.ones(2, 3) @ T.ones(4), RuntimeError, "matmul", "(2, 3)", "(4,)")


def test_matmul_batch_mismatch():
    check(lambda T: T.ones(2, 3, 4) @ T.ones(5, 4, 6), RuntimeError, "matmul", "(2, 3, 4)", "(5, 4, 6)")


def test_matmul_of_a_zero_dim_tensor():
    check(lambda T: T.tensor(2.0) @ T.ones(3), RuntimeError, "matmul", "dimension", "*")


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                      (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div")])
def test_broadcast_mismatch_names_op_and_both_shapes(op, name):
    message = check(lambda T: op(T.ones(2, 3), T.ones(2, 4)), RuntimeError, name, "(2, 3)", "(2, 4)")
    assert "broadcast" in message and "3" in message and "4" in message
    check(lambda T: op(T.ones(5, 3), T.ones(5)), RuntimeError, name, "(5, 3)", "(5,)", "unsqueeze")


def test_broadcast_mismatch_in_maximum_and_where():
    check(lambda T: T.maximum(T.ones(3), T.ones(4)), RuntimeError, "(3,)", "(4,)")


@pytest.mark.parametrize("shape", [(4, 2), (5,), (-1, 4), (7, -1)])
def test_reshape_to_impossible_shape(shape):
    check(lambda T: T.ones(2, 3).reshape(*shape), RuntimeError, "reshape", "(2, 3)", "6",
          str(list(shape)))
    check(lambda T: T.ones(2, 3).view(shape), RuntimeError, "6")


def test_expand_errors():
    check(lambda T: T.ones(2, 3).expand(3, 3), RuntimeError, "expand", "[3, 3]", "[2, 3]", "2", "size 1")
    check(lambda T: T.ones(2, 3).expand(3), RuntimeError, "expand", "number of sizes")


@pytest.mark.parametrize("call, op", [
    (lambda t: t.sum(2), "sum"), (lambda t: t.mean(-3), "mean"), (lambda t: t.softmax(5), "softmax"),
    (lambda t: t.max(2), "max"), (lambda t: t.argmax(3), "argmax"), (lambda t: t.unsqueeze(4), "unsqueeze"),
    (lambda t: t.transpose(0, 2), "transpose"), (lambda t: t.size(2), "size"), (lambda t: t.squeeze(2), "squeeze"),
    (lambda t: t.flatten(0, 2), "flatten"), (lambda t: t.log_softmax(-3), "log_softmax"),
])
def test_out_of_range_dim(call, op):
    message = check(lambda T: call(T.ones(2, 3)), IndexError, op, "out of range")
    assert "2 dims" in message or "range" in message


def test_out_of_range_dim_names_the_valid_range():
    check(lambda T: T.ones(2, 3).sum(2), IndexError, "-2", "1")
    check(lambda T: T.cat([T.ones(2), T.ones(2)], dim=1), IndexError, "cat", "out of range")


@pytest.mark.parametrize("index", [5, -4, (0, 7), (slice(None), 3)], ids=repr)
def test_out_of_range_index(index):
    check(lambda T: T.ones(3, 3)[index], IndexError, "out of bounds", "(3, 3)")


def test_too_many_indices():
    check(lambda T: T.ones(3)[0, 0], IndexError, "(3,)")


def test_cat_shape_mismatch():
    check(lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]), RuntimeError, "cat", "(2, 3)", "(2, 4)", "dim 0")
    check(lambda T: T.cat([T.ones(2, 3), T.ones(2, 4), T.ones(3, 5)], dim=1), RuntimeError, "cat", "(3, 5)",
          "tensor 2")
    check(lambda T: T.cat([T.ones(2, 3), T.ones(3)]), RuntimeError, "cat", "(3,)")
    check(lambda T: T.cat([]), ValueError, "cat", "non-empty")


def test_stack_shape_mismatch():
    check(lambda T: T.stack([T.ones(2, 3), T.ones(2, 4)]), RuntimeError, "stack", "(2, 3)", "(2, 4)", "entry 1")
    check(lambda T: T.stack([T.ones(3), T.ones(3), T.ones(2)], dim=1), RuntimeError, "stack", "entry 2")
    check(lambda T: T.stack([]), RuntimeError, "stack", "non-empty")


def test_t_of_a_3d_tensor():
    check(lambda T: T.ones(2, 3, 4).t(), RuntimeError, "t", "transpose")


def test_permute_with_wrong_dims():
    check(lambda T: T.ones(2, 3).permute(0, 0), RuntimeError, "permute")


# ------------------------------------------------------------------------------------------------ autograd
def test_backward_on_tensor_that_does_not_require_grad():
    check(lambda T: (T.ones(3) * 2).sum().backward(), RuntimeError, "does not require grad", "requires_grad=True",
          "no_grad")


def test_backward_on_result_computed_under_no_grad():
    def mistake(T):
        w = T.ones(3, requires_grad=True)
        with T.no_grad():
            loss = (w * 2).sum()
        loss.backward()

    check(mistake, RuntimeError, "does not require grad")


def test_backward_twice():
    def mistake(T):
        w = T.ones(3, requires_grad=True)
        loss = (w * w).sum()
        loss.backward()
        loss.backward()

    check(mistake, RuntimeError, "second time", "retain_graph=True")


def test_non_scalar_backward():
    check(lambda T: (T.ones(2, 3, requires_grad=True) * 2).backward(), RuntimeError, "scalar outputs", "(2, 3)",
          ".sum()", ".mean()", "ones_like")


def test_item_on_many_elements():
    check(lambda T: T.ones(2, 3).item(), RuntimeError, "6 elements", "(2, 3)")


def test_matmul_dtype_mismatch():
    check(lambda T: T.ones(2, 3) @ T.ones(3, 2, dtype=T.float64), RuntimeError, "matmul", "dtype", "float32",
          "float64", ".float()")
    check(lambda T: T.ones(2, 3) @ T.ones(3, 2, dtype=T.int64), RuntimeError, "matmul", "int64")


def test_in_place_on_leaf_requiring_grad():
    def mistake(T):
        w = T.ones(3, requires_grad=True)
        w -= 0.1 * T.ones(3)

    check(mistake, RuntimeError, "leaf", "in-place", "no_grad")


def test_in_place_on_leaf_setitem():
    def mistake(T):
        w = T.ones(3, requires_grad=True)
        w[0] = 2.0

    check(mistake, RuntimeError, "in-place", "no_grad")


def test_mean_of_int_tensor_suggests_float():
    check(lambda T: T.tensor([1, 2, 3]).mean(), RuntimeError, "mean", "int64", ".float()")
    check(lambda T: (T.tensor([1, 2]) == T.tensor([1, 3])).mean(), RuntimeError, "mean", "bool", ".float()")


def test_int_tensor_requiring_grad():
    check(lambda T: T.tensor([1, 2], requires_grad=True), RuntimeError, "floating point", "int64", ".float()")


def test_numpy_of_tensor_requiring_grad():
    check(lambda T: T.ones(2, requires_grad=True).numpy(), RuntimeError, "requires grad", "detach().numpy()")


def test_changing_requires_grad_of_non_leaf():
    def mistake(T):
        (T.ones(2, requires_grad=True) * 2).requires_grad_(False)

    check(mistake, RuntimeError, "leaf", "detach()")


def test_bool_of_many_elements():
    check(lambda T: bool(T.ones(3) > 0), RuntimeError, "ambiguous", ".any()", ".all()")


def test_len_and_iteration_of_zero_dim_tensor():
    check(lambda T: len(T.tensor(1.0)), TypeError, "0-d")
    check(lambda T: iter(T.tensor(1.0)), TypeError, "0-d")


def test_gradient_of_wrong_shape():
    check(lambda T: (T.ones(3, requires_grad=True) * 2).backward(T.ones(4)), RuntimeError, "shape", "(4,)", "(3,)")


def test_assigning_grad_of_wrong_shape():
    def mistake(T):
        T.ones(3, requires_grad=True).grad = T.ones(2)

    check(mistake, RuntimeError, "(2,)", "(3,)")


def test_autograd_grad_unused_input():
    def mistake(T):
        a, b = T.ones(2, requires_grad=True), T.ones(2, requires_grad=True)
        T.autograd.grad((a * 2).sum(), [a, b])

    check(mistake, RuntimeError, "allow_unused=True")


# ------------------------------------------------------------------------------------------------ values and types
def test_randint_with_empty_range():
    check(lambda T: T.randint(5, 5, (2,)), RuntimeError, "randint", "5")


def test_clamp_without_bounds():
    check(lambda T: T.ones(2).clamp(), RuntimeError, "clamp", "min", "max")


def test_set_default_dtype_to_an_int_type():
    check(lambda T: T.set_default_dtype(T.int64), TypeError, "floating point")


def test_unknown_device():
    check(lambda T: T.device("tpu"), RuntimeError, "cpu", "cuda", "tpu")


def test_in_place_result_that_does_not_fit_the_dtype():
    def mistake(T):
        t = T.tensor([1, 2])
        t += 0.5

    check(mistake, RuntimeError, "int64", ".float()")


def test_unsupported_numpy_dtype_lists_the_supported_ones():
    import numpy as np
    message = str(raised(lambda: tl.tensor(np.array(["a", "b"]))))
    assert "expected numbers" in message or "unsupported" in message
    message = str(raised(lambda: tl.from_numpy(np.ones(2, dtype=np.complex64))))
    assert "complex64" in message and "float32" in message
