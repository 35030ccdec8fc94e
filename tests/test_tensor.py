"""Tensors themselves, against PyTorch: creation functions, random numbers, attributes, conversions and printing."""
import copy
import importlib.util
import json
import pickle
import warnings

import numpy as np
import pytest
import torch

import tinygrad_lite as tl

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
NP_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64]


def name(dtype):
    """'float32' for tinygrad_lite.float32 and torch.float32 alike."""
    return str(dtype).split(".")[-1]


def assert_same(ours, theirs, rtol=0, atol=0):
    """Same shape, same dtype, same numbers (exactly, unless told otherwise)."""
    assert isinstance(ours, tl.Tensor)
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    assert name(ours.dtype) == name(theirs.dtype), (ours.dtype, theirs.dtype)
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_allclose(ours.detach().numpy().astype(np.float64),
                               theirs.detach().numpy().astype(np.float64), rtol=rtol, atol=atol)


def torch_repr(t):
    """PyTorch's repr written with our module name, to compare with ours."""
    return repr(t).replace("torch.", "tinygrad_lite.")


# ------------------------------------------------------------------------------------------------ tensor()
@pytest.mark.parametrize("data", [
    [1.0, 2.0, 3.0], [[1, 2], [3, 4]], [True, False], 3, 2.5, True, [], [[1.5]], [1, 2.5], [True, 2], [True, 2.5],
    [[[1.0], [2.0]], [[3.0], [4.0]]], -7, [0, -1, 2 ** 40],
], ids=repr)
def test_tensor_from_python_data(data):
    assert_same(tl.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("np_dtype", NP_DTYPES, ids=lambda d: np.dtype(d).name)
def test_tensor_from_numpy_array_keeps_dtype(np_dtype):
    data = np.array([[0, 1, 2], [3, 4, 5]]).astype(np_dtype)
    assert_same(tl.tensor(data), torch.tensor(data))
    assert_same(tl.from_numpy(data), torch.from_numpy(data))


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.float32(1.5), np.int32(3), np.int64(-4), np.bool_(True)],
                         ids=repr)
def test_tensor_from_numpy_scalar(scalar):
    assert_same(tl.tensor(scalar), torch.tensor(scalar))


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")  # (PyTorch: slow)
def test_numpy_numbers_arrays_and_tensors_inside_lists_keep_their_dtypes_as_in_pytorch():
    """PyTorch takes each element's own dtype (a Python float the default float type) and promotes them together:
    ``tensor([0.0, np.float64(1.0)])`` is float64, not float32 (issue 34, item 12)."""
    f16, f32, f64, i8, u8, i32 = np.float16, np.float32, np.float64, np.int8, np.uint8, np.int32
    cases = [[0.0, f64(0.1)], [f32(0.1), 0.1], [f16(1), 1.0], [f16(1), 2], [f16(1), np.int64(2)], [f32(1), f64(2)],
             [i32(1)], [i32(1), 2], [i8(1), u8(2)], [np.int16(3), 1.0], [np.bool_(True), True], [u8(7)],
             [[1.0, 2.0], [f64(3), 4.0]], (f64(0.1), 2.0), [np.array([1, 2], dtype=i32), [3, 4]],
             [np.array([0.5, 1.5], dtype=f32), [1.0, 2.0]], [[0.1], [0.2]], [1, 2.5], [True, 1]]
    for data in cases:
        assert_same(tl.tensor(data), torch.tensor(data))
    assert_same(tl.tensor([1.0, tl.tensor(2.0, dtype=tl.float64)]), torch.tensor([1.0, torch.tensor(2.0).double()]))
    assert_same(tl.tensor([tl.tensor(2, dtype=tl.int32)]), torch.tensor([torch.tensor(2, dtype=torch.int32)]))
    for library in (tl, torch):  # under a float64 default, Python floats are float64 too
        library.set_default_dtype(library.float64)
    try:
        for data in ([f32(1), 1.0], [f32(1)], [f16(1), 1]):
            assert_same(tl.tensor(data), torch.tensor(data))
    finally:
        for library in (tl, torch):
            library.set_default_dtype(library.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_with_dtype_argument(dtype):
    data = [0.0, 1.0, 2.0]
    assert_same(tl.tensor(data, dtype=getattr(tl, dtype)), torch.tensor(data, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("py_type", [float, int, bool])
def test_python_types_as_dtype(py_type):
    assert_same(tl.tensor([0, 1, 2], dtype=py_type), torch.tensor([0, 1, 2], dtype=py_type))
    assert_same(tl.zeros(2, dtype=py_type), torch.zeros(2, dtype=py_type))
    assert_same(tl.ones(2).to(py_type), torch.ones(2).to(py_type))


def test_dtype_aliases():
    for alias in ("half", "float", "double", "short", "int", "long"):
        assert name(getattr(tl, alias)) == name(getattr(torch, alias))


def test_tensor_copies_its_input():
    data = np.array([1.0, 2.0], dtype=np.float32)
    t = tl.tensor(data)
    data[0] = 100.0
    assert t[0].item() == 1.0
    u = tl.tensor(t)
    t[1] = 50.0
    assert u[1].item() == 2.0


def test_from_numpy_shares_memory():
    data = np.array([1.0, 2.0, 3.0])
    t = tl.from_numpy(data)
    assert t.dtype is tl.float64
    data[0] = 10.0
    assert t[0].item() == 10.0
    t[1] = 20.0
    assert data[1] == 20.0
    assert np.shares_memory(t.numpy(), data)


def test_numpy_of_a_cpu_tensor_shares_memory():
    t = tl.zeros(3)
    view = t.numpy()
    view[0] = 5.0
    assert t[0].item() == 5.0


def test_tensor_from_ragged_lists_explains():
    with pytest.raises(ValueError, match="ragged"):
        tl.tensor([[1, 2], [3]])


@pytest.mark.parametrize("T", [torch, tl], ids=["torch", "tinygrad_lite"])
def test_tensor_requires_grad_argument(T):
    t = T.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None


# ------------------------------------------------------------------------------------------------ creation functions
@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("args, kwargs", [((2, 3), {}), (((2, 3),), {}), (([4],), {}), (((),), {}), ((0,), {}),
                                          ((2,), {"dtype": "int32"}), ((1, 2, 3), {"dtype": "float64"}),
                                          ((2,), {"dtype": "bool"}), ((3,), {"requires_grad": True})])
def test_zeros_ones_empty(fn, args, kwargs):
    tk = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    lk = {k: getattr(tl, v) if k == "dtype" else v for k, v in kwargs.items()}
    theirs, ours = getattr(torch, fn)(*args, **tk), getattr(tl, fn)(*args, **lk)
    if fn == "empty":  # uninitialised in PyTorch: compare everything but the numbers
        assert tuple(ours.shape) == tuple(theirs.shape) and name(ours.dtype) == name(theirs.dtype)
        assert ours.requires_grad == theirs.requires_grad
    else:
        assert_same(ours, theirs)


@pytest.mark.parametrize("fill", [7.5, 3, True, -2, 0.0])
def test_full_infers_dtype_from_fill_value(fill):
    assert_same(tl.full((2, 3), fill), torch.full((2, 3), fill))
    assert_same(tl.full((2,), fill, dtype=tl.float64), torch.full((2,), fill, dtype=torch.float64))
    assert_same(tl.full([3], fill), torch.full([3], fill))


@pytest.mark.parametrize("source_dtype", ["float32", "float64", "int64", "int32", "bool", "float16"])
def test_like_functions_keep_shape_and_dtype(source_dtype):
    src_t = torch.ones(2, 3, dtype=getattr(torch, source_dtype))
    src_l = tl.ones(2, 3, dtype=getattr(tl, source_dtype))
    assert_same(tl.zeros_like(src_l), torch.zeros_like(src_t))
    assert_same(tl.ones_like(src_l), torch.ones_like(src_t))
    assert_same(tl.full_like(src_l, 1), torch.full_like(src_t, 1))
    assert_same(tl.zeros_like(src_l, dtype=tl.float64), torch.zeros_like(src_t, dtype=torch.float64))


def test_like_functions_do_not_copy_requires_grad():
    src_t, src_l = torch.ones(2, requires_grad=True), tl.ones(2, requires_grad=True)
    assert_same(tl.zeros_like(src_l), torch.zeros_like(src_t))
    assert_same(tl.ones_like(src_l, requires_grad=True), torch.ones_like(src_t, requires_grad=True))


@pytest.mark.parametrize("args, kwargs", [
    ((5,), {}), ((2, 9), {}), ((0, 10, 3), {}), ((10, 0, -2), {}), ((-3, 3), {}), ((5.0,), {}), ((0, 1, 0.25), {}),
    ((1.0, 4), {}), ((0, 2.5, 0.5), {}), ((5,), {"dtype": "float32"}), ((0, 6, 2), {"dtype": "float64"}),
    ((4,), {"dtype": "int32"}), ((4,), {"requires_grad": False}),
])
def test_arange(args, kwargs):
    tk = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    lk = {k: getattr(tl, v) if k == "dtype" else v for k, v in kwargs.items()}
    assert_same(tl.arange(*args, **lk), torch.arange(*args, **tk), atol=1e-7)


@pytest.mark.parametrize("args, kwargs", [((0, 1, 5), {}), ((-1, 1, 7), {}), ((0, 10, 3), {"dtype": "float64"}),
                                          ((3, 3, 1), {}), ((-np.pi, np.pi, 2000), {}), ((2, -2, 4), {})])
def test_linspace(args, kwargs):
    tk = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    lk = {k: getattr(tl, v) if k == "dtype" else v for k, v in kwargs.items()}
    assert_same(tl.linspace(*args, **lk), torch.linspace(*args, **tk), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("args", [(1,), (3,), (2, 4), (4, 2), (0,)])
def test_eye(args):
    assert_same(tl.eye(*args), torch.eye(*args))
    assert_same(tl.eye(*args, dtype=tl.float64), torch.eye(*args, dtype=torch.float64))


def test_creation_requires_grad_keyword():
    for fn in ("zeros", "ones", "randn", "rand"):
        t = getattr(tl, fn)(2, 2, requires_grad=True)
        assert t.requires_grad and t.is_leaf
    assert tl.eye(2, requires_grad=True).requires_grad
    assert tl.linspace(0, 1, 3, requires_grad=True).requires_grad
    assert tl.full((2,), 1.0, requires_grad=True).requires_grad


# ------------------------------------------------------------------------------------------------ random numbers
@pytest.mark.parametrize("fn", ["randn", "rand"])
def test_random_float_shapes_and_dtypes(fn):
    for args, kwargs in (((2, 3), {}), (((4,),), {}), ((5,), {"dtype": tl.float64}), (((),), {})):
        ours = getattr(tl, fn)(*args, **kwargs)
        theirs = getattr(torch, fn)(*args, **{k: getattr(torch, v.name) for k, v in kwargs.items()})
        assert tuple(ours.shape) == tuple(theirs.shape) and name(ours.dtype) == name(theirs.dtype)


def test_rand_is_in_unit_interval_and_randn_is_standard_normal():
    u = tl.rand(20000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    z = tl.randn(20000).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03


def test_randint_forms_range_and_dtype():
    a = tl.randint(0, 10, (1000,))
    assert a.dtype is tl.int64 and tuple(a.shape) == (1000,)
    assert a.numpy().min() >= 0 and a.numpy().max() <= 9 and len(np.unique(a.numpy())) == 10
    b = tl.randint(5, (2, 3))  # randint(high, size)
    assert tuple(b.shape) == (2, 3) and b.numpy().min() >= 0 and b.numpy().max() < 5
    c = tl.randint(-3, 3, size=(500,))
    assert c.numpy().min() == -3 and c.numpy().max() == 2
    assert tl.randint(0, 2, (3,), dtype=tl.int32).dtype is tl.int32
    assert tuple(torch.randint(5, (2, 3)).shape) == tuple(b.shape)


@pytest.mark.parametrize("call", [
    lambda m: m.zeros(size=(2, 3)), lambda m: m.ones(size=[4]), lambda m: m.empty(size=(2,)),
    lambda m: m.rand(size=(2, 4)), lambda m: m.randn(size=(3,), dtype=m.float64),
    lambda m: m.randint(high=3, size=(2,)), lambda m: m.randint(5, size=(3,)), lambda m: m.arange(end=3),
    lambda m: m.normal(0, 0.01, size=(2, 1), requires_grad=True), lambda m: m.normal(2.0, 3.0, (4,)),
    lambda m: m.normal(m.zeros(3), 1.0), lambda m: m.normal(2.0, m.ones(2, 2, dtype=m.float64)),
    lambda m: m.normal(m.arange(3.0), m.ones(2, 1)), lambda m: m.multinomial(m.tensor([0.2, 0.8]), 3, True),
    lambda m: m.multinomial(m.ones(4, 6), 2), lambda m: m.tensor([1.0, 2.0]).multinomial(1),
    lambda m: m.normal(m.zeros(2, dtype=m.float16), m.ones(2)), lambda m: m.normal(m.zeros(2), m.ones(2).double()),
    lambda m: m.normal(m.zeros(3), 1.0, out=m.zeros(3)), lambda m: m.multinomial(m.ones(3), 2, out=m.zeros(3).long()),
    lambda m: m.randint(0, 256, (4,), dtype=m.uint8), lambda m: m.randint(-2**63, 2**63 - 1, (2,)),
    lambda m: m.where(m.tensor([True, False]), 1, 0.5), lambda m: m.where(m.tensor([True, False]), True, 2),
], ids=["zeros", "ones", "empty", "rand", "randn", "randint high=", "randint size=", "arange end=", "normal d2l",
        "normal size", "normal tensor mean", "normal tensor std", "normal broadcast", "multinomial replacement",
        "multinomial rows", "Tensor.multinomial", "normal float16 mean", "normal float64 std", "normal out=",
        "multinomial out=", "randint uint8", "randint int64's range", "where(c, 1, 0.5)", "where(c, True, 2)"])
def test_pytorchs_keyword_spellings_and_normal_and_multinomial_make_what_pytorchs_make(call):
    """The shapes, dtypes and requires_grad of PyTorch's calls as d2l and makemore write them (size= keywords,
    torch.normal for parameters, multinomial for sampling); the numbers differ (another generator)."""
    ours, theirs = call(tl), call(torch)
    assert tuple(ours.shape) == tuple(theirs.shape) and name(ours.dtype) == name(theirs.dtype)
    assert ours.requires_grad == theirs.requires_grad and ours.is_leaf


@pytest.mark.parametrize("call", [
    lambda m: m.zeros(2, size=(2,)), lambda m: m.randint(0, 5, 3), lambda m: m.randint(0, 5),
    lambda m: m.normal(0, 1), lambda m: m.normal(0, -1, size=(2,)), lambda m: m.normal(m.zeros(2), m.tensor([1.0, -1])),
    lambda m: m.multinomial(m.tensor([0.5, -0.5]), 1), lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1),
    lambda m: m.multinomial(m.tensor([1.0, float("nan")]), 1), lambda m: m.multinomial(m.tensor([1.0, 2.0]), 3),
    lambda m: m.multinomial(m.tensor([1, 2]), 1),
    lambda m: m.multinomial(m.ones(2, 2, 2), 1),
    # (session 40's second round)
    lambda m: m.normal(0, float("nan"), size=(2,)), lambda m: m.normal(m.zeros(2), m.tensor([1.0, float("nan")])),
    lambda m: m.normal(m.zeros(4), m.ones(3)), lambda m: m.normal(m.zeros(2, dtype=m.long), 1.0),
    lambda m: m.normal(1.0, m.ones(2, dtype=m.long)), lambda m: m.randint(-200, 0, (3,), dtype=m.int8),
    lambda m: m.randint(-1, 5, (3,), dtype=m.uint8), lambda m: m.randint(0, 3, (3,), dtype=m.bool),
    lambda m: m.randint(0, 70000, (3,), dtype=m.float16), lambda m: m.randint(high=10),
    lambda m: m.zeros(3, dtype=m.float64, out=m.zeros(3)), lambda m: m.multinomial(m.ones(3), 0),
    lambda m: m.multinomial(m.ones(3), 1, replacement="yes"),
], ids=["size twice", "randint int size", "randint no size", "normal no size", "normal std < 0",
        "normal tensor std < 0", "multinomial negative", "multinomial zero sum", "multinomial nan",
        "multinomial too many", "multinomial ints", "multinomial 3-D", "normal std nan", "normal tensor std nan",
        "normal shapes", "normal int mean", "normal int std", "randint int8", "randint uint8", "randint bool",
        "randint float16", "randint high only", "out of another dtype", "multinomial 0 samples",
        "multinomial replacement str"])
def test_bad_calls_of_the_creation_functions_raise_pytorchs_exception_types(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(tl)
    assert len(str(ours.value)) > 30, ours.value  # (ours say what to write: e.g. randint(0, 10, (3,)))


def test_multinomial_draws_each_category_with_its_share_of_the_weights():
    """With replacement: each category with probability w_j / sum(w), zero weights never; without: a row's draws
    are distinct, the first one drawn with those probabilities and the second from what is left; a generator
    repeats its draws."""
    tl.manual_seed(0)
    w = tl.tensor([1.0, 0.0, 6.0, 3.0])  # weights that do not sum to 1
    counts = np.bincount(tl.multinomial(w, 40000, replacement=True).numpy(), minlength=4) / 40000
    np.testing.assert_allclose(counts, [0.1, 0.0, 0.6, 0.3], atol=0.01)
    rows = tl.multinomial(tl.tensor([[5.0, 0, 0, 0], [0, 0, 0, 1]]), 3, replacement=True).tolist()
    assert rows == [[0, 0, 0], [3, 3, 3]]
    pairs = tl.multinomial(w.expand(20000, 4), 2).numpy()  # 20,000 rows of the same weights
    assert (pairs[:, 0] != pairs[:, 1]).all() and not (pairs == 1).any()
    np.testing.assert_allclose(np.bincount(pairs[:, 0], minlength=4) / 20000, [0.1, 0, 0.6, 0.3], atol=0.015)
    after_2 = pairs[pairs[:, 0] == 2, 1]  # P(0 | 2 first) = 1/4, P(3 | 2 first) = 3/4
    np.testing.assert_allclose(np.bincount(after_2, minlength=4) / len(after_2), [0.25, 0, 0, 0.75], atol=0.02)
    assert sorted(tl.multinomial(tl.ones(7), 7).tolist()) == list(range(7))
    assert tl.multinomial(tl.tensor([0.0, 2.0, 0.0]), 3)[0].item() == 1  # (zero weights last, as PyTorch's)
    g = tl.Generator().manual_seed(4)
    first = tl.multinomial(w, 5, True, generator=g)
    g.manual_seed(4)
    assert tl.equal(first, tl.multinomial(w, 5, True, generator=g))


def test_normal_draws_from_each_elements_mean_and_std():
    tl.manual_seed(0)
    x = tl.normal(3.0, 2.0, size=(40000,))
    assert abs(x.mean().item() - 3) < 0.05 and abs(x.std().item() - 2) < 0.05
    means = tl.arange(4.0).reshape(4, 1) * 10
    y = tl.normal(means, tl.tensor([0.0, 1.0]).expand(4, 2))  # std 0: the mean itself
    np.testing.assert_array_equal(y[:, 0].numpy(), [0, 10, 20, 30])
    assert not tl.equal(y[:, 1], means[:, 0])
    w = tl.normal(0, 0.01, size=(200, 50), requires_grad=True)  # d2l's parameters
    assert w.is_leaf and w.requires_grad and abs(w.detach().std().item() - 0.01) < 0.001


def test_creation_functions_resize_out_quietly_as_pytorchs_and_arange_with_a_warning():
    for make in (lambda m, c: m.zeros(3, out=c), lambda m, c: m.full((3,), 1.0, out=c),
                 lambda m, c: m.randn(3, out=c), lambda m, c: m.arange(3.0, out=c)):
        warned = []
        for m in (tl, torch):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                c = m.empty(2)
                assert make(m, c) is c and tuple(c.shape) == (3,)
            warned.append(len(caught))
        assert warned[0] == warned[1], warned


def test_out_takes_requires_grad_and_a_random_draw_refuses_an_integer_out_as_pytorchs():
    for m in (tl, torch):
        c = m.empty(2)
        assert m.zeros(3, out=c, requires_grad=True) is c and c.requires_grad and c.is_leaf and c.shape == (3,)
        assert m.rand(2, out=m.empty(2), requires_grad=True).requires_grad
        for draw in (m.rand, m.randn):
            with pytest.raises(NotImplementedError):
                draw(3, out=m.empty(3, dtype=m.int64))


def test_in_asks_whether_any_number_equals_it_at_any_shape():
    x, t = tl.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    for element in (3, 7, 2.5, -0.0):
        assert (element in x) == (element in t)
    assert (tl.tensor(2.0) in x) and (tl.tensor([0.0, 1.0, 9.0]) in x) == (torch.tensor([0.0, 1.0, 9.0]) in t)
    with pytest.raises(RuntimeError, match="must be a number or a tensor, not str"):
        "a" in x  # noqa: B015


def test_views_size_errors_name_view():
    for shape in ((4, 2), (-1, -1), (-2, 3)):
        with pytest.raises(RuntimeError, match=r"^view: "):
            tl.ones(6).view(*shape)
        with pytest.raises(RuntimeError):
            torch.ones(6).view(*shape)


def test_randperm_is_a_permutation():
    p = tl.randperm(50)
    assert p.dtype is tl.int64 and name(torch.randperm(3).dtype) == "int64"
    assert sorted(p.tolist()) == list(range(50))
    assert p.tolist() != list(range(50))


def test_randn_like_and_rand_like():
    src = tl.zeros(3, 2, dtype=tl.float64)
    for fn in (tl.randn_like, tl.rand_like):
        t = fn(src)
        assert t.shape == (3, 2) and t.dtype is tl.float64


@pytest.mark.parametrize("draw", [lambda: tl.randn(5), lambda: tl.rand(2, 2), lambda: tl.randint(0, 100, (6,)),
                                  lambda: tl.randperm(10)], ids=["randn", "rand", "randint", "randperm"])
def test_same_seed_gives_same_numbers(draw):
    tl.manual_seed(123)
    first, second = draw(), draw()
    tl.manual_seed(123)
    again = draw()
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(first.numpy(), second.numpy())
    tl.manual_seed(124)
    assert not np.array_equal(first.numpy(), draw().numpy())


def test_manual_seed_returns_a_generator_and_initial_seed():
    g = tl.manual_seed(7)
    assert isinstance(g, tl.Generator)
    assert tl.initial_seed() == 7


def test_generator_objects():
    g1, g2 = tl.Generator().manual_seed(5), tl.Generator().manual_seed(5)
    assert g1.initial_seed() == 5
    tl.manual_seed(0)
    global_before = tl.get_rng_state()
    a = tl.randn(4, generator=g1)
    b = tl.randn(4, generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tl.equal(tl.get_rng_state(), global_before)  # a generator's draws leave the global one alone
    np.testing.assert_array_equal(tl.randperm(8, generator=tl.Generator().manual_seed(1)).numpy(),
                                  tl.randperm(8, generator=tl.Generator().manual_seed(1)).numpy())
    np.testing.assert_array_equal(tl.randint(0, 9, (5,), generator=tl.Generator().manual_seed(2)).numpy(),
                                  tl.randint(0, 9, (5,), generator=tl.Generator().manual_seed(2)).numpy())


def test_rng_state_round_trip():
    tl.manual_seed(42)
    tl.randn(3)
    state = tl.get_rng_state()
    a = tl.randn(5)
    b = tl.rand(2)
    tl.set_rng_state(state)
    np.testing.assert_array_equal(tl.randn(5).numpy(), a.numpy())
    np.testing.assert_array_equal(tl.rand(2).numpy(), b.numpy())
    g = tl.Generator().manual_seed(3)
    s = g.get_state()
    x = tl.rand(3, generator=g)
    g.set_state(s)
    np.testing.assert_array_equal(tl.rand(3, generator=g).numpy(), x.numpy())


def test_in_place_random_fills_use_the_seed():
    tl.manual_seed(9)
    a = tl.zeros(4).normal_()
    b = tl.zeros(4).uniform_(-1, 1)
    tl.manual_seed(9)
    np.testing.assert_array_equal(tl.zeros(4).normal_().numpy(), a.numpy())
    np.testing.assert_array_equal(tl.zeros(4).uniform_(-1, 1).numpy(), b.numpy())
    assert b.numpy().min() >= -1 and b.numpy().max() < 1


# ------------------------------------------------------------------------------------------------ attributes
def test_shape_is_a_tuple_like_size():
    for T in (torch, tl):
        t = T.zeros(2, 3)
        assert isinstance(t.shape, tuple) and isinstance(t.shape, T.Size)
        assert t.shape == (2, 3) and t.shape == T.Size([2, 3]) and t.size() == t.shape
        assert t.shape[0] == 2 and t.shape[-1] == 3 and list(t.shape) == [2, 3]
        assert t.size(0) == 2 and t.size(-1) == 3 and t.size(1) == 3
        assert t.shape.numel() == 6
        rows, cols = t.shape
        assert (rows, cols) == (2, 3)
        s = T.zeros(2, 3, 4).shape  # a slice and a join are Sizes too
        for size, want in ((s[1:], [3, 4]), (s[::-1], [4, 3, 2]), (s + (5,), [2, 3, 4, 5]), ((5,) + s, [5, 2, 3, 4]),
                           (s[:0], [])):
            assert type(size) is T.Size and list(size) == want
        with pytest.raises(TypeError):
            s + [5]
    assert repr(tl.zeros(2, 3).shape) == "tinygrad_lite.Size([2, 3])"
    assert repr(torch.zeros(2, 3).shape) == "torch.Size([2, 3])"
    assert tl.zeros(()).shape == () and tl.zeros(()).dim() == 0


@pytest.mark.parametrize("T", [torch, tl], ids=["torch", "tinygrad_lite"])
def test_basic_attributes(T):
    t = T.ones(2, 3, 4)
    assert t.dtype == T.float32 and t.dtype is T.float32
    assert t.device.type == "cpu" and str(t.device) == "cpu" and t.device == T.device("cpu")
    assert not t.requires_grad and t.grad is None and t.is_leaf and t.grad_fn is None
    assert t.dim() == 3 and t.ndim == 3 and t.numel() == 24 and len(t) == 2
    assert t.is_floating_point() and not T.tensor([1]).is_floating_point()
    assert not t.is_cuda
    assert isinstance(t.data, T.Tensor) and not t.data.requires_grad


def test_float16_var_and_std_add_up_in_float32_as_pytorchs_do():
    """10,000 values of spread 3: their float16 sum of squares (90,000) is past float16's largest number, 65,504;
    PyTorch computes in float32 and rounds once, and so do we (the gradient too)."""
    results = []
    for T in (torch, tl):
        x = T.tensor([-3.0, 3.0] * 5000, dtype=T.float16, requires_grad=True)
        v, s = x.var(), x.std(correction=0)
        s.backward()
        rows = T.tensor([[1.0, 2.0, 4.0], [0.5, 0.25, 9.0]], dtype=T.float16)
        results.append((v.item(), s.item(), v.dtype == T.float16, rows.var(1).tolist(), rows.std(0).tolist(),
                        x.grad[:2].tolist()))
    assert results[1][:-1] == results[0][:-1] and results[0][:2] == (9.0, 3.0)
    # (1e-4 each; PyTorch's float16 backward rounds on the way, one float16 step below ours)
    np.testing.assert_allclose(results[1][-1], results[0][-1], rtol=1e-3)


def test_dtypes_say_what_pytorchs_do():
    for name in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"):
        ours, theirs = getattr(tl, name), getattr(torch, name)
        assert ((ours.is_floating_point, ours.is_signed, ours.is_complex, ours.itemsize)
                == (theirs.is_floating_point, theirs.is_signed, theirs.is_complex, theirs.itemsize)), name


def test_device_compares_equal_to_its_name():
    """An extension: PyTorch's device("cpu") == "cpu" is False; ours is True (fewer surprises for learners)."""
    assert tl.ones(1).device == "cpu"
    assert tl.ones(1).device != "cuda"


def test_data_shares_memory_with_the_tensor():
    w = tl.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    d[0] = 5.0
    assert w[0].item() == 5.0 and w.requires_grad


# ------------------------------------------------------------------------------------------------ conversions
@pytest.mark.parametrize("data", [3.5, 7, True, [2.5], [[4]]], ids=repr)
def test_item_and_python_numbers(data):
    ours, theirs = tl.tensor(data), torch.tensor(data)
    assert ours.item() == theirs.item() and type(ours.item()) is type(theirs.item())
    assert float(ours) == float(theirs) and int(ours) == int(theirs) and bool(ours) == bool(theirs)


def test_numpy_and_tolist():
    data = [[1.5, 2.0], [3.0, -4.25]]
    ours, theirs = tl.tensor(data), torch.tensor(data)
    assert isinstance(ours.numpy(), np.ndarray) and ours.numpy().dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.tolist() == theirs.tolist() == data
    assert tl.tensor([1, 2]).tolist() == [1, 2] and isinstance(tl.tensor([1, 2]).tolist()[0], int)
    assert tl.tensor(2.5).tolist() == 2.5
    assert np.asarray(ours).dtype == np.float32


@pytest.mark.parametrize("method", ["float", "double", "long", "int", "bool", "half"])
@pytest.mark.parametrize("source", [[1.7, -2.2, 0.0], [1, 0, 3], [True, False, True]], ids=["float", "int", "bool"])
def test_conversion_methods(method, source):
    assert_same(getattr(tl.tensor(source), method)(), getattr(torch.tensor(source), method)())


@pytest.mark.parametrize("dtype", DTYPES)
def test_type_names_and_to_dtype(dtype):
    src_l, src_t = tl.tensor([1.5, 0.0, 3.0]), torch.tensor([1.5, 0.0, 3.0])
    assert_same(src_l.to(getattr(tl, dtype)), src_t.to(getattr(torch, dtype)))
    assert_same(src_l.type(getattr(tl, dtype)), src_t.type(getattr(torch, dtype)))
    assert_same(src_l.to(dtype=getattr(tl, dtype)), src_t.to(dtype=getattr(torch, dtype)))
    ours = src_l.to(getattr(tl, dtype)).type()
    theirs = src_t.to(getattr(torch, dtype)).type()
    assert ours.split(".")[-1] == theirs.split(".")[-1]


def test_to_same_dtype_or_cpu_returns_the_same_tensor():
    for T in (torch, tl):
        t = T.ones(2)
        assert t.to("cpu") is t and t.to(T.float32) is t and t.cpu() is t and t.to(T.device("cpu")) is t
        assert t.to("cpu", T.float64).dtype == T.float64
        assert t.to(T.zeros(1, dtype=T.float64)).dtype == T.float64


def test_to_keeps_the_graph():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(tl.float64)
    assert y.requires_grad and not y.is_leaf
    (y * y).sum().backward()
    assert x.grad.dtype is tl.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_size_dim_numel_len_iter():
    for T in (torch, tl):
        t = T.arange(12).reshape(3, 4)
        assert t.size() == (3, 4) and t.size(1) == 4 and t.dim() == 2 and t.numel() == 12 and len(t) == 3
        rows = list(t)
        assert len(rows) == 3 and rows[1].tolist() == [4, 5, 6, 7]
        assert [int(v) for v in T.tensor([5, 6])] == [5, 6]


@pytest.mark.parametrize("T", [torch, tl], ids=["torch", "tinygrad_lite"])
def test_bool_of_tensors(T):
    assert bool(T.tensor(1.0)) and not bool(T.tensor([0])) and bool(T.tensor([[True]]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(T.tensor([1, 2]))
    assert (1 if T.tensor(3) > 2 else 0) == 1


@pytest.mark.parametrize("value", [0.123456, 2.0, -1.5])
def test_format_like_torch(value):
    ours, theirs = tl.tensor(value), torch.tensor(value)
    for spec in (".3f", ".2e", "", "8.2f"):
        assert format(ours, spec) == format(theirs, spec)
    assert f"loss {ours:.4f}" == f"loss {theirs:.4f}"
    assert f"{ours}" == f"{theirs}"
    assert f"{tl.tensor([1.0, 2.0])}" == repr(tl.tensor([1.0, 2.0]))


@pytest.mark.parametrize("shape", [(1,), (2,), (1, 1)])
def test_a_format_spec_for_a_tensor_with_dims_is_a_type_error_as_in_torch(shape):
    """f"{t:.2f}" of a 1-D tensor printed its repr (of a one-element one: its number); PyTorch raises a TypeError,
    and only a 0-d tensor formats as its number (issue 34, item 16)."""
    for T in (torch, tl):
        with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
            f"{T.ones(shape):.2f}"
    assert f"{tl.ones(shape)}" == repr(tl.ones(shape))
    with pytest.raises(TypeError, match=r"has shape \(2,\); format x\.item\(\)"):
        f"{tl.ones(2):>8}"


@pytest.mark.parametrize("T", [torch, tl], ids=["torch", "tinygrad_lite"])
def test_numpy_on_tensor_requiring_grad_errors(T):
    t = T.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        t.numpy()
    np.testing.assert_array_equal(t.detach().numpy(), [1.0, 1.0])
    (t * 2).detach().numpy()


def test_numpy_scalars_on_the_left_give_tensors():
    t = tl.tensor([1.0, 2.0])
    for left in (np.float32(2), np.float64(2), np.int64(2)):
        for result in (left * t, left + t, left - t, left / t):
            assert isinstance(result, tl.Tensor) and result.dtype is tl.float32
    np.testing.assert_array_equal((np.float32(2) * t).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal((np.float32(2) - t).numpy(), [1.0, 0.0])
    assert isinstance(t * np.float32(2), tl.Tensor)


def test_setitem():
    for T in (torch, tl):
        t = T.zeros(2, 3)
        t[0] = 1.0
        t[1, 2] = 5.0
        t[:, 0] = T.tensor([7.0, 8.0])
        t[t == 5.0] = -1.0
        assert t.tolist() == [[7.0, 1.0, 1.0], [8.0, 0.0, -1.0]]


# ------------------------------------------------------------------------------------------------ printing
@pytest.mark.parametrize("make", [
    lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    lambda T: T.tensor([1.0, 2.0]),
    lambda T: T.tensor([0.5, 1.0]),
    lambda T: T.tensor([[1.5, -2.25], [100.0, 0.125]]),
    lambda T: T.tensor(3.5),
    lambda T: T.tensor(2.0),
    lambda T: T.tensor([1, 2, 3]),
    lambda T: T.tensor([1.0, 2.0], dtype=T.float64),
    lambda T: T.tensor([1.5, 2.0], dtype=T.float16),
    lambda T: T.tensor([1, 2], dtype=T.int32),
    lambda T: T.tensor([1, 2], dtype=T.uint8),
    lambda T: T.tensor([True, False]),
    lambda T: T.tensor([0.001, 1000.0]),
    lambda T: T.tensor([1e-5, 1.0]),
    lambda T: T.tensor([float("nan"), 1.5, float("inf")]),
    lambda T: T.zeros(2, 2),
    lambda T: T.tensor([3.14159265, -2.71828]),
    lambda T: T.arange(6).reshape(2, 3),
    lambda T: T.ones(2, dtype=T.float64, requires_grad=True),
], ids=lambda f: "")
def test_repr_reads_like_torch(make):
    assert repr(make(tl)) == torch_repr(make(torch))
    assert str(make(tl)) == torch_repr(make(torch))


def test_repr_shows_grad_fn():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr((x * 2).sum()) == "tensor(6., grad_fn=<SumBackward>)"
    assert repr(x.double() * 2).endswith("dtype=tinygrad_lite.float64, grad_fn=<MulBackward>)")
    assert repr((x * 2).detach()) == "tensor([2., 4.])"


def test_dtype_and_device_reprs():
    assert repr(tl.float32) == "tinygrad_lite.float32" and str(tl.int64) == "tinygrad_lite.int64"
    for spec in ("cpu", "cuda", "cuda:1"):
        assert repr(tl.device(spec)) == repr(torch.device(spec))
        assert str(tl.device(spec)) == str(torch.device(spec))
    assert tl.device("cpu") == tl.device("cpu") and tl.device("cuda:0") == tl.device("cuda", 0)
    assert tl.device("cpu") != tl.device("cuda")
    assert len({tl.device("cpu"), tl.device("cpu")}) == 1
    assert tl.device("cuda", 1).index == 1 and tl.device("cpu").type == "cpu"
    with pytest.raises(RuntimeError, match="cpu, cuda"):
        tl.device("tpu")


# ------------------------------------------------------------------------------------------------ default dtype
def test_default_dtype_is_float32():
    assert tl.get_default_dtype() is tl.float32
    assert tl.tensor([1.5]).dtype is tl.float32 and tl.zeros(2).dtype is tl.float32
    assert tl.arange(0.0, 2.0).dtype is tl.float32 and (tl.tensor([1, 2]) / 2).dtype is tl.float32


def test_set_default_dtype_round_trip():
    old = tl.get_default_dtype()
    old_torch = torch.get_default_dtype()
    try:
        tl.set_default_dtype(tl.float64)
        torch.set_default_dtype(torch.float64)
        assert tl.get_default_dtype() is tl.float64
        for make in (lambda T: T.tensor([1.5]), lambda T: T.zeros(2), lambda T: T.randn(2), lambda T: T.rand(2),
                     lambda T: T.arange(0.0, 2.0), lambda T: T.linspace(0, 1, 3), lambda T: T.eye(2),
                     lambda T: T.full((2,), 1.5), lambda T: T.tensor([1, 2]) / 2, lambda T: T.tensor([1]) * 0.5):
            assert name(make(tl).dtype) == name(make(torch).dtype) == "float64"
        assert repr(tl.tensor([1.0, 2.0])) == "tensor([1., 2.])"  # float64 is now the default: not shown
        assert repr(tl.tensor([1.0], dtype=tl.float32)) == "tensor([1.], dtype=tinygrad_lite.float32)"
        with pytest.raises(TypeError):
            tl.set_default_dtype(tl.int64)
    finally:
        tl.set_default_dtype(old)
        torch.set_default_dtype(old_torch)
    assert tl.get_default_dtype() is tl.float32 and tl.tensor([1.5]).dtype is tl.float32


# ------------------------------------------------------------------------------------------------ CUDA on a CPU machine
HAS_CUPY = importlib.util.find_spec("cupy") is not None


def test_cuda_is_not_available_without_a_gpu():
    if HAS_CUPY:
        pytest.skip("CuPy is installed here")
    assert tl.cuda.is_available() is False
    assert tl.cuda.device_count() == 0


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
@pytest.mark.parametrize("move", [lambda t: t.to("cuda"), lambda t: t.cuda(), lambda t: t.to(tl.device("cuda")),
                                  lambda t: tl.zeros(2, device="cuda"), lambda t: tl.tensor([1.0], device="cuda")],
                         ids=["to", "cuda", "to_device", "zeros", "tensor"])
def test_cuda_without_cupy_gives_a_clear_error(move):
    with pytest.raises(RuntimeError) as info:
        move(tl.ones(2))
    assert "CuPy" in str(info.value) and "cpu" in str(info.value)


# -------------------------------------------------------------------- views share memory or raise (issue 21)
VIEWS = {  # (a function of a 3x4 tensor a of 0..11 and the library L, does PyTorch give a view?)
    "transpose then view(12)": (lambda a, L: a.t().view(12), False),
    "transpose then view(2, 6)": (lambda a, L: a.t().view(2, 6), False),
    "transpose then view_as": (lambda a, L: a.t().view_as(L.zeros(12)), False),
    "transpose then view with a size-1 dim": (lambda a, L: a.t().view(4, 1, 3), True),
    "column slice then view(4)": (lambda a, L: a[:2, 1:3].view(4), False),
    "every other column then view(6)": (lambda a, L: a[:, ::2].view(6), True),
    "rows then view(8)": (lambda a, L: a[1:].view(8), True),
    "expand then view(6)": (lambda a, L: a[:, :1].expand(3, 2).view(6), False),
    "expand then view(3, 2, 1)": (lambda a, L: a[:, :1].expand(3, 2).view(3, 2, 1), True),
    "permute then view": (lambda a, L: a.view(3, 2, 2).permute(1, 0, 2).view(2, 6), False),
    "contiguous then view": (lambda a, L: a.t().contiguous().view(12), True),
    "view(-1, 6)": (lambda a, L: a.view(-1, 6), True),
}


@pytest.mark.parametrize("name", VIEWS)
def test_every_view_shares_memory_or_raises_as_pytorch(name):
    make, shares = VIEWS[name]
    results = []
    for L in (torch, tl):
        a = L.arange(12.0).reshape(3, 4)
        if not shares:
            with pytest.raises(RuntimeError, match="(?i)view") as info:
                make(a, L)
            results.append(None)
            assert L is torch or ".reshape(...)" in str(info.value)
            continue
        v = make(a, L)
        a += 100.0  # a view sees the change; a copy (made by contiguous()) does not
        results.append(v.tolist())
    assert results[0] == results[1]


def test_view_error_names_the_shapes_and_the_fix():
    a = tl.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError) as info:
        a.t().view(6)
    message = str(info.value)
    for words in ("view: shape [6]", "tensor of shape (3, 2)", "transpose", ".reshape(...)", ".contiguous().view"):
        assert words in message
    assert a.t().reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]  # reshape copies instead


def test_contiguous_copies_only_when_needed_and_keeps_the_gradient():
    for L in (torch, tl):
        w = L.arange(6.0, requires_grad=True)
        a = w.view(2, 3)
        assert a.is_contiguous() and not a.t().is_contiguous() and a.contiguous() is a
        c = a.t().contiguous()
        assert c.is_contiguous() and c.grad_fn.name().startswith("CloneBackward")
        (c * L.arange(6.0).view(3, 2)).sum().backward()
        assert w.grad.tolist() == [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]


# -------------------------------------------------------------------- in-place methods learners reach for (issue 21)
def test_addcmul_and_addcdiv_match_pytorch_in_and_out_of_place():
    """Hand-written Adam: v.mul_(b2).addcmul_(g, g, value=1 - b2); p.addcdiv_(m, v.sqrt().add_(eps), value=-lr)."""
    rs = np.random.default_rng(3)
    p0, g0, m0 = (rs.standard_normal((3, 4)).astype(np.float32) for _ in range(3))
    results = []
    for L in (torch, tl):
        p, g, m, v = L.tensor(p0), L.tensor(g0), L.tensor(m0), L.zeros(3, 4)
        for _ in range(3):
            m.mul_(0.9).add_(g, alpha=0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            same = p.addcdiv_(m, v.sqrt().add_(1e-8), value=-0.01)
            assert same is p
        out = p.addcmul(g, m[:1], value=0.5), L.addcdiv(p, g, m.abs() + 1)  # broadcasting tensor2; a function
        results.append([x.numpy().copy() for x in (p, v, *out)])
    for ours, theirs in zip(results[1], results[0]):
        assert ours.dtype == theirs.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_addcmul_records_its_gradient_and_addcdiv_refuses_integer_division():
    for L in (torch, tl):
        w = L.tensor([1.0, 2.0], requires_grad=True)
        y = (w * 1.0).addcmul_(w, L.tensor([3.0, 4.0]), value=2)  # y = w + 2 w t: dy/dw = 1 + 2 t
        y.sum().backward()
        assert w.grad.tolist() == [7.0, 9.0]
        with pytest.raises(RuntimeError, match="(?i)integer"):
            L.ones(2).addcdiv_(L.tensor([1, 2]), L.tensor([1, 2]))
        with pytest.raises(RuntimeError):  # a result that does not fit self's shape
            L.ones(3).addcmul_(L.ones(2, 3), L.ones(3))
    with pytest.raises(TypeError, match="addcmul_.*tensor2"):
        tl.ones(2).addcmul_(tl.ones(2), [1.0, 2.0])


def test_abs_relu_and_unsqueeze_in_place_as_pytorch():
    results = []
    for L in (torch, tl):
        a = L.tensor([[-1.5, 0.0], [2.0, -3.0]])
        row = a[1]  # a view: sees the change, and shares the version counter
        a.abs_()
        b = L.tensor([-2, 0, 5]).relu_()  # integers stay integers
        c = L.arange(6.0).reshape(2, 3)
        c_row = c[0]
        c_row.unsqueeze_(0)  # only the view's shape changes; both versions move on
        w = L.tensor([-1.0, 2.0, 3.0], requires_grad=True)
        y = w * 2.0
        y.abs_()
        y.unsqueeze_(1)  # recorded in the graph: y is (3, 1) now
        (y * L.tensor([[1.0], [2.0], [3.0]])).sum().backward()
        z = w * 1.0
        z.relu_()
        z.sum().backward()
        results.append((a.tolist(), row.tolist(), a._version, b.tolist(), tuple(c_row.shape), c._version,
                        c_row._version, tuple(y.shape), w.grad.tolist()))
        for method, args in (("abs_", ()), ("relu_", ()), ("unsqueeze_", (0,))):  # a leaf that requires grad
            with pytest.raises(RuntimeError, match="leaf"):
                getattr(L.ones(2, requires_grad=True), method)(*args)
    assert results[0] == results[1]
    assert results[1][-1] == [-2.0, 5.0, 7.0]


# -------------------------------------------------------------------- memory_format=, bfloat16, the RNG state tensor
LIKE = {"zeros_like": (), "ones_like": (), "empty_like": (), "full_like": (2.5,), "rand_like": (), "randn_like": ()}


def test_memory_format_is_accepted_where_pytorch_takes_it():
    """preserve_format and contiguous_format give the same row-major result here (the numbers are PyTorch's)."""
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    for fmt in ("preserve_format", "contiguous_format"):
        ours, theirs = getattr(tl, fmt), getattr(torch, fmt)
        x, t = tl.tensor(data), torch.tensor(data)
        assert repr(ours) == repr(theirs).replace("torch", "tinygrad_lite") and isinstance(ours, tl.memory_format)
        for name, args in LIKE.items():
            got = getattr(tl, name)(x, *args, memory_format=ours)
            expected = getattr(torch, name)(t, *args, memory_format=theirs)
            assert got.shape == expected.shape and str(got.dtype)[-7:] == str(expected.dtype)[-7:]
            if name not in ("empty_like", "rand_like", "randn_like"):
                np.testing.assert_array_equal(got.numpy(), expected.numpy())
        np.testing.assert_array_equal(x.clone(memory_format=ours).numpy(), t.clone(memory_format=theirs).numpy())
        np.testing.assert_array_equal(x.contiguous(memory_format=ours).numpy(),
                                      t.contiguous(memory_format=theirs).numpy())
        assert x.to(tl.float64, memory_format=ours).dtype is tl.float64
        assert x.t().clone(memory_format=ours).is_contiguous()  # (PyTorch's preserve_format keeps x.t()'s strides)
        for cast in ("float", "double", "half", "long", "int", "bool"):
            got, expected = getattr(x, cast)(memory_format=ours), getattr(t, cast)(memory_format=theirs)
            np.testing.assert_array_equal(got.numpy(), expected.numpy())
    assert tl.zeros_like(tl.ones(2), memory_format=None).shape == (2,)


def test_channels_last_and_bad_memory_formats_are_refused_with_the_reason():
    x = tl.ones(2, 3, 4, 5)
    calls = {"zeros_like": lambda f: tl.zeros_like(x, memory_format=f), "clone": lambda f: x.clone(memory_format=f),
             "contiguous": lambda f: x.contiguous(memory_format=f), "to": lambda f: x.to(memory_format=f),
             "full_like": lambda f: tl.full_like(x, 1.0, memory_format=f)}
    for name, call in calls.items():
        for fmt in (tl.channels_last, tl.channels_last_3d):
            with pytest.raises(RuntimeError, match=rf"{name}\(\): memory_format=tinygrad_lite\.{fmt.name} is not "
                                                   "supported: tinygrad_lite keeps every tensor row-major"):
                call(fmt)
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'memory_format' must be "
                                            r"tinygrad_lite\.memory_format .*not str"):
            call("channels_last")
    with pytest.raises(TypeError, match="cannot create memory_format instances"):
        tl.memory_format("channels_last")
    assert copy.deepcopy(tl.preserve_format) is tl.preserve_format
    assert pickle.loads(pickle.dumps(tl.channels_last)) is tl.channels_last


def test_bfloat16_exists_and_every_use_says_to_use_float16():
    assert isinstance(tl.bfloat16, tl.dtype) and repr(tl.bfloat16) == "tinygrad_lite.bfloat16"
    assert tl.ones(2).dtype != tl.bfloat16 and copy.deepcopy(tl.bfloat16) is tl.bfloat16
    uses = [lambda: tl.zeros(2, dtype=tl.bfloat16), lambda: tl.tensor([1.0], dtype=tl.bfloat16),
            lambda: tl.ones(2).to(tl.bfloat16), lambda: tl.ones(2).type(tl.bfloat16),
            lambda: tl.set_default_dtype(tl.bfloat16), lambda: tl.promote_types(tl.bfloat16, tl.float32),
            lambda: tl.bfloat16.itemsize]
    for use in uses:
        with pytest.raises(RuntimeError, match=r"bfloat16, which numpy \(and so this library\) does not have\. Use "
                                               r"tl\.float16 .*round_to_bfloat16"):
            use()
    assert tl.get_default_dtype() is tl.float32


def test_rng_states_are_uint8_tensors_as_pytorchs_and_old_dicts_still_load():
    for state, theirs in ((tl.get_rng_state(), torch.get_rng_state()),
                          (tl.Generator().manual_seed(3).get_state(), torch.Generator().manual_seed(3).get_state())):
        assert isinstance(state, tl.Tensor) and state.dtype is tl.uint8 and state.ndim == 1 and state.device.type == \
            "cpu" and theirs.dtype == torch.uint8 and theirs.ndim == 1
        assert json.loads(bytes(state.numpy()))["seed"] >= 0  # the bytes of a JSON text: no pickle
    tl.manual_seed(7)
    state = tl.get_rng_state()
    old_form = json.loads(bytes(state.numpy()))  # the dict that get_rng_state() returned before, in old checkpoints
    first = tl.rand(4)
    tl.set_rng_state(state)
    np.testing.assert_array_equal(tl.rand(4).numpy(), first.numpy())
    tl.set_rng_state(old_form)
    np.testing.assert_array_equal(tl.rand(4).numpy(), first.numpy())
    g = tl.Generator().manual_seed(3)
    g.set_state(json.loads(bytes(g.get_state().numpy())))
    with pytest.raises(RuntimeError, match="not a state that tinygrad_lite's get_state.*PyTorch's generator states"):
        tl.set_rng_state(tl.tensor(torch.get_rng_state().numpy()))
    with pytest.raises(TypeError, match=r"set_rng_state\(\): expected a state .*1-d uint8 tensor.*float32"):
        tl.set_rng_state(tl.zeros(3))
    with pytest.raises(TypeError, match=r"set_state\(\): expected a CPU generator's state.*\['offset', 'seed'\]"):
        g.set_state({"seed": 1, "offset": 0})


def test_fork_rng_puts_the_global_generator_back_as_pytorchs_does():
    for lib in (tl, torch):
        lib.manual_seed(0)
        before = lib.rand(3)
        lib.manual_seed(0)
        with lib.random.fork_rng():
            inside = lib.rand(3)
            lib.manual_seed(123)
        assert lib.equal(inside, before) and lib.equal(lib.rand(3), before)
        with pytest.raises(ZeroDivisionError), lib.random.fork_rng():  # restored after an exception too
            lib.rand(5), 1 / 0
        assert not lib.equal(lib.rand(3), before)
        state = lib.get_rng_state()
        with lib.random.fork_rng(enabled=False):
            lib.rand(2)
        assert not lib.equal(lib.get_rng_state(), state)
    with pytest.raises(TypeError, match=r"fork_rng\(\): devices must be a list of GPU indices"):
        with tl.random.fork_rng(devices=0):
            pass


def test_lerp_matches_pytorch_in_and_out_of_place_with_its_gradient():
    """Adam as PyTorch writes it: m.lerp_(g, 1 - beta1); a weight of 0.5 or more, and a tensor of weights, too."""
    rs = np.random.default_rng(5)
    a0, b0, w0 = rs.standard_normal((3, 4)), rs.standard_normal((3, 4)), rs.uniform(0.0, 1.0, (3, 4))
    results = []
    for L in (torch, tl):
        a, b = L.tensor(a0, dtype=L.float32, requires_grad=True), L.tensor(b0, dtype=L.float32)
        w = L.tensor(w0, dtype=L.float32, requires_grad=True)
        m = L.zeros(3, 4)
        for _ in range(3):
            same = m.lerp_(b, 0.1)
            assert same is m
        out = [a.lerp(b, 0.1), a.lerp(b, 0.75), L.lerp(a, b, w), a.lerp(b, 1.0)]
        sum(o.sum() for o in out).backward()
        results.append([t.detach().numpy().copy() for t in (m, *out, a.grad, w.grad)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    assert np.array_equal(results[1][4], b0.astype(np.float32))  # a weight of 1 gives end itself, as in PyTorch


# ------------------------------------------------------------------------------------------------ keyword names
@pytest.mark.parametrize("call", [
    lambda m, x: x.reshape(shape=(3, 2)), lambda m, x: m.reshape(input=x, shape=(3, 2)),
    lambda m, x: x.view(size=(3, 2)), lambda m, x: x.permute(dims=(1, 0)),
    lambda m, x: x[:1].expand(size=(2, 3)), lambda m, x: x.split(split_size=2, dim=1)[1],
    lambda m, x: m.matmul(input=x, other=x.T), lambda m, x: m.max(x, other=x.flip(0)),
    lambda m, x: x.min(other=x.flip(0)), lambda m, x: x.new_zeros(size=(2, 2), dtype=m.float64),
    lambda m, x: x.new_ones(size=(1,)), lambda m, x: m.linalg.vector_norm(input=x, axis=1, keepdims=True),
    lambda m, x: m.linalg.matrix_norm(input=x), lambda m, x: m.linalg.norm(input=x),
    lambda m, x: x.gather(axis=1, index=m.tensor([[0], [1]])), lambda m, x: m.chunk(x, 2, axis=1)[0],
    lambda m, x: m.nn.functional.cosine_similarity(x, x.flip(0), axis=1), lambda m, x: x.clone().unsqueeze_(axis=0),
    lambda m, x: m.tensor(x.size(axis=1)),
    lambda m, x: m.rand_like(x, generator=m.Generator().manual_seed(1)).shape and x,
    lambda m, x: m.randperm(3, dtype=m.float32, requires_grad=True).sort().values,
    lambda m, x: m.tensor(len(list(m.nn.Sequential(m.nn.ReLU(), m.nn.ReLU()).modules(remove_duplicate=False)))),
], ids=["reshape(shape=)", "torch.reshape(input=, shape=)", "view(size=)", "permute(dims=)", "expand(size=)",
        "split(split_size=)", "matmul(input=, other=)", "max(other=)", "min(other=)", "new_zeros(size=)",
        "new_ones(size=)", "vector_norm(input=, axis=, keepdims=)", "matrix_norm(input=)", "linalg.norm(input=)",
        "gather(axis=)", "chunk(axis=)", "cosine_similarity(axis=)", "unsqueeze_(axis=)", "size(axis=)",
        "rand_like(generator=)", "randperm(requires_grad=)", "modules(remove_duplicate=)"])
def test_pytorchs_keyword_names_give_pytorchs_results(call):
    """(session 40) A sweep of PyTorch's keyword names over the covered calls found these refused here."""
    assert_same(call(tl, tl.arange(6.0).reshape(2, 3)), call(torch, torch.arange(6.0).reshape(2, 3)), rtol=1e-6)


def test_a_size_given_twice_is_refused():
    for call in (lambda: tl.ones(6).reshape(2, 3, shape=(2, 3)), lambda: tl.ones(2).permute(0, dims=(0,))):
        with pytest.raises(TypeError, match="twice"):
            call()


def test_the_in_place_forms_of_the_elementwise_methods_match_pytorch():
    """x.exp_() is x.copy_(x.exp()) in the graph (inplace_methods.py): the same numbers and gradients as PyTorch's,
    and an integer x refuses a float result, as PyTorch's does."""
    arguments = {"clamp_min": (0.3,), "clamp_max": (0.3,), "fmod": (0.3,), "remainder": (0.3,), "pow": (2,)}
    for name in ("exp", "log", "sqrt", "rsqrt", "sigmoid", "tanh", "sin", "cos", "log1p", "expm1", "neg", "floor",
                 "round", "sign", "square", "clamp_min", "clamp_max", "fmod", "remainder", "pow"):
        results = []
        for lib in (tl, torch):
            weight = lib.tensor([0.2, 0.7, 1.5], dtype=lib.float64, requires_grad=True)
            x = weight * 1
            getattr(x, name + "_")(*arguments.get(name, ()))
            (x * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
            results.append((x.detach().numpy(), weight.grad.numpy()))
        for ours, theirs in zip(*results):
            np.testing.assert_allclose(ours, theirs, rtol=1e-14, err_msg=name)
    with pytest.raises(RuntimeError, match="can't be cast"):
        tl.tensor([1, 2]).exp_()
    assert tl.tensor([1, -2]).neg_().tolist() == [-1, 2]
