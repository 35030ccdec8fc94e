"""A tensor prints as PyTorch prints it, character for character (tinygrad_lite/_tensor_str.py).

Each case makes the same tensor in both libraries; the texts must be equal once torch's module name reads as ours
(``dtype=torch.float64`` is ``dtype=tinygrad_lite.float64`` here) and torch's grad_fn names lose their overload
number (``<MulBackward0>`` is ``<MulBackward>`` here; those cases are kept clear of the line's end, where the one
character would move a wrap).
"""
import re
import time

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

nan, inf = float("nan"), float("inf")
rng = np.random.default_rng(0)
normal = {shape: rng.standard_normal(shape) for shape in
          [(5,), (30,), (2000,), (5, 5), (3, 4, 5), (2, 3, 4, 5), (40, 40), (1000, 1000), (20, 20, 20),
           (10, 10, 10, 10), (1, 2000), (2000, 1), (3, 400), (7, 7, 30)]}


def torch_text(t):
    """PyTorch's repr as ours reads: our module name, grad_fn names without torch's overload number."""
    return re.sub(r"(Backward)\d+>", r"\1>", repr(t).replace("torch.", "tinygrad_lite."))


def data(values, dtype=None, requires_grad=False):
    """A case from a list or numpy array; dtype by name ("float64"), None for the library's own choice."""
    def make(T):
        array = np.asarray(values)
        return T.tensor(array.tolist() if dtype is None else array, dtype=dtype and getattr(T, dtype),
                        requires_grad=requires_grad)
    return make


def randn(shape, dtype="float32", scale=1.0, requires_grad=False):
    return data(normal[shape] * scale, dtype, requires_grad)


CASES = {
    # 0-d
    "0d float": data(3.5), "0d whole": data(2.0), "0d zero": data(0.0), "0d negative zero": data(-0.0),
    "0d nan": data(nan), "0d -inf": data(-inf), "0d int": data(7), "0d bool": data(True), "0d tiny": data(1e-5),
    "0d float64 requires_grad": data(1.25, "float64", True), "0d uint8": data(200, "uint8"),
    # 1-d floats: the choice of form and width
    "whole": data([1.0, 2.0]), "half and one": data([0.5, 1.0]), "negative zero unpadded": data([-0.0, 1.5]),
    "mixed whole and not": data([1.0, 2.5, 3.0]), "pi and e": data([3.14159265, -2.71828]),
    "tiny makes sci": data([1e-5, 1.0]), "ratio over 1000": data([0.001, 1000.0]),
    "ratio exactly 1000": data([0.01, 10.0]), "1e-4 in float32 is under 1e-4": data([1e-4, 1.0]),
    "1e-4 in float64": data([1e-4, 1.0], "float64"), "over 1e8": data([123456789.0, 1.0]),
    "whole but sci": data([1e9, 2.0]), "large magnitudes": data([1e10, -2.5e10]), "tiny magnitudes":
    data([1e-10, -2e-10, 3e-10]), "huge float64": data([1e300, -1e-300], "float64"),
    "wide fixed": data([100000.5, -1.25]), "whole wide": data([-12345.0, 7.0, 0.0]),
    "nan inf and fixed": data([nan, inf, 0.5]), "only nonfinite": data([nan, inf, -inf]),
    "nan beside whole": data([nan, 1.0, -0.0]), "sci with nan": data([nan, 1e-7, 1.0]), "zeros": data([0.0, 0.0]),
    "float64": data([1.0, 2.0], "float64"), "float16": data([1.5, 2.0], "float16"),
    "float16 rounding": data([0.1, 65504.0, -3.3], "float16"), "float16 sci": data([1e-5, 1000.0], "float16"),
    # 1-d ints and bools
    "int64": data([1, 2, 3]), "int negatives": data([-100, 5, 3]), "int32": data([1, 2], "int32"),
    "uint8": data([0, 255, 7], "uint8"), "bool": data([True, False, True]),
    "int row wraps": data(list(range(-10, 30))), "int summarized": data(list(range(1001))),
    "bool summarized": data([True, False] * 600),
    # wrapping and summarizing
    "float row wraps": randn((30,)), "float summarized": randn((2000,)), "float64 wraps": randn((30,), "float64"),
    "2d": randn((5, 5)), "2d summarized": randn((40, 40)), "1000x1000": randn((1000, 1000)),
    "3d blank lines": randn((3, 4, 5)), "4d blank lines": randn((2, 3, 4, 5)), "3d summarized": randn((20, 20, 20)),
    "4d summarized": randn((10, 10, 10, 10)), "one long row": randn((1, 2000)), "one long column": randn((2000, 1)),
    "only columns cut": randn((3, 400)), "3d rows wrap": randn((7, 7, 30)), "2d sci": randn((5, 5), scale=1e-6),
    "2d wide": randn((5, 5), "float64", scale=1e5), "2d whole": data(np.arange(25.0).reshape(5, 5) * 1000),
    "exactly 1000": data(np.arange(1000.0).reshape(10, 100)), "2d ints": data(rng.integers(-10**6, 10**6, (5, 5))),
    "2d int32 summarized": data(np.arange(1200).reshape(30, 40), "int32"),
    "2d bool": data(rng.standard_normal((3, 4)) > 0), "2d uint8": data(rng.integers(0, 256, (4, 6)), "uint8"),
    "3d float16": randn((3, 4, 5), "float16"),
    # empty
    "empty": data([]), "empty (0, 3)": data(np.zeros((0, 3))),
    "empty (3, 0) float64": data(np.zeros((3, 0)), "float64"),
    "empty int64": data([], "int64"), "empty bool": data(np.zeros((0, 2), bool), "bool"),
    "empty float16 requires_grad": data(np.zeros((2, 0, 1)), "float16", True),
    # graph facts and their wrapping
    "requires_grad": data([1.0, 2.0], requires_grad=True), "2d requires_grad": randn((5, 5), requires_grad=True),
    "float64 requires_grad": randn((5, 5), "float64", requires_grad=True),
    "float16 requires_grad": randn((5,), "float16", requires_grad=True),
    "summarized requires_grad": randn((40, 40), requires_grad=True),
    "4d float64 requires_grad": randn((2, 3, 4, 5), "float64", requires_grad=True),
    "grad_fn": lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    "0d grad_fn": lambda T: (T.tensor([1.0, 2.0], requires_grad=True) * 2).sum(),
    "float64 grad_fn": lambda T: T.tensor([[0.5, -1.0], [2.0, 3.0]], dtype=T.float64, requires_grad=True) + 1,
    "2d grad_fn": lambda T: T.tensor(normal[(5, 5)], dtype=T.float32, requires_grad=True) * 3,
    "parameter": lambda T: T.nn.Parameter(T.tensor([[1.0, -2.0], [0.25, 4.0]])),
}
# a float64 row that requires grad, of every length: where "dtype=..., requires_grad=True" wraps
CASES.update({f"suffix wrap {n}": data(np.linspace(-1, 2, n), "float64", True) for n in range(1, 14)})
# a summarized int32 tensor of 1 to 7 columns: the dtype after the last block
CASES.update({f"int32 summarized suffix {n}": data(np.arange(1001 * n).reshape(1001, n), "int32")
              for n in range(1, 8)})


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_prints_as_torch(make):
    ours, theirs = make(tl), make(torch)
    assert repr(ours) == torch_text(theirs)
    assert str(ours) == repr(ours)


def test_numpys_global_print_options_do_not_apply():
    with np.printoptions(suppress=True, threshold=5, precision=2, edgeitems=1, linewidth=20, nanstr="NaN",
                         formatter={"float": lambda v: f"<{v:.1f}>"}):
        printed = [repr(make(tl)) for make in (data([1e-5, 1.0, nan]), data(list(range(10))), randn((30,)))]
    assert printed == [torch_text(make(torch)) for make in (data([1e-5, 1.0, nan]), data(list(range(10))),
                                                             randn((30,)))]


def test_printing_reads_only_the_shown_edges():
    """A million numbers print at once: only the 36 shown are formatted (a loose bound, for a busy machine)."""
    big = tl.tensor(np.ones((1000, 1000), np.float32))
    start = time.perf_counter()
    repr(big)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("options", [dict(precision=2), dict(sci_mode=False), dict(threshold=5, edgeitems=1),
                                     dict(linewidth=40), dict(profile="full"), dict(profile="short"),
                                     dict(precision=6, sci_mode=True)])
def test_set_printoptions_changes_printing_as_pytorchs(options):
    """(session 41) a tutorial's ``torch.set_printoptions(precision=2)`` or ``sci_mode=False``: the same text."""
    data = [np.array([[1e-5, 0.5, 123.456], [2.0, -3.25, 1e5]], dtype=np.float32),
            np.linspace(0, 1, 30, dtype=np.float32), np.arange(2000, dtype=np.float32).reshape(40, 50) / 7]
    try:
        for lib in (tl, torch):
            lib.set_printoptions(**options)
        for d in data:
            assert repr(tl.tensor(d)) == repr(torch.tensor(d)), options
    finally:
        for lib in (tl, torch):
            lib.set_printoptions(profile="default")
    assert repr(tl.tensor(data[0])) == repr(torch.tensor(data[0]))
    with pytest.raises(ValueError, match="profile must be one of"):
        tl.set_printoptions(profile="long")


def test_sizes_repeat_and_take_numpys_integers_as_pytorchs():
    for lib in (tl, torch):
        size = lib.zeros(2, 3).shape
        assert type(size * 2) is type(size) and type(2 * size) is type(size) and list(size * 2) == [2, 3, 2, 3]
        made = lib.Size(np.array([2, 3]))
        assert made == (2, 3) and repr(made).endswith("Size([2, 3])")
        assert type(lib.nn.Sequential(lib.nn.Linear(2, 2))._modules) is dict
