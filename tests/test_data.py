"""tinygrad_lite.utils.data against torch.utils.data: datasets, samplers, collation, DataLoader, random_split."""
import collections
import importlib
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from helpers import assert_same

import tinygrad_lite as tg
from tinygrad_lite.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)

N = 10


def data(n=N):
    """The same features (float32, (n, 3)) and labels (int64, (n,)) in both libraries."""
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3) / 7
    y = np.arange(n, dtype=np.int64) % 3
    return (tg.tensor(x), tg.tensor(y)), (torch.tensor(x), torch.tensor(y))


def assert_same_batch(ours, theirs, where="batch"):
    """The same structure, with equal tensors (shape, dtype, values) at the leaves."""
    if isinstance(theirs, torch.Tensor):
        assert_same(ours, theirs, where)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), f"{where}: keys {list(ours)} vs {list(theirs)}"
        for key in theirs:
            assert_same_batch(ours[key], theirs[key], f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) or (isinstance(theirs, list) and type(ours) is list), \
            f"{where}: {type(ours).__name__} vs torch {type(theirs).__name__}"
        assert len(ours) == len(theirs), f"{where}: {len(ours)} entries vs {len(theirs)}"
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert_same_batch(a, b, f"{where}[{k}]")
    else:
        assert ours == theirs, f"{where}: {ours!r} vs torch {theirs!r}"


def assert_same_epochs(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs), f"{len(ours)} batches vs torch {len(theirs)}"
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert_same_batch(a, b, f"batch {k}")


# -------------------------------------------------------------------- datasets
def test_tensor_dataset_items_and_len():
    (x, y), (tx, ty) = data()
    ours, theirs = TensorDataset(x, y), tud.TensorDataset(tx, ty)
    assert len(ours) == len(theirs) == N
    for i in (0, 3, -1):
        assert_same_batch(ours[i], theirs[i], f"item {i}")
    assert isinstance(ours[0], tuple)


def test_tensor_dataset_errors_name_the_sizes():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):  # PyTorch's type: an `except` agrees
        tud.TensorDataset(torch.zeros(10, 3), torch.zeros(9))
    with pytest.raises(AssertionError, match=r"size mismatch between tensors.*\[10, 9\].*\(10, 3\).*\(9,\)"):
        TensorDataset(tg.zeros(10, 3), tg.zeros(9))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match="argument 1 is of type ndarray.*torch.tensor"):
        TensorDataset(tg.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(tg.tensor(1.0))


def test_subset_concat_and_add():
    (x, y), (tx, ty) = data()
    ours, theirs = TensorDataset(x, y), tud.TensorDataset(tx, ty)
    sub, tsub = Subset(ours, [4, 1, 7]), tud.Subset(theirs, [4, 1, 7])
    assert len(sub) == 3
    for i in range(3):
        assert_same_batch(sub[i], tsub[i])
    cat, tcat = ours + sub, theirs + tsub
    assert isinstance(cat, ConcatDataset) and len(cat) == len(tcat) == N + 3
    for i in (0, 9, 10, 12, -1, -13):
        assert_same_batch(cat[i], tcat[i], f"item {i}")
    with pytest.raises(IndexError):
        cat[13]
    with pytest.raises(ValueError):  # (PyTorch's type for an index below -len)
        cat[-14]
    with pytest.raises(AssertionError, match="empty"):  # (PyTorch's type)
        ConcatDataset([])


def test_dataset_base_class_requires_getitem():
    class NoItems(Dataset):
        def __len__(self):
            return 2

    with pytest.raises(NotImplementedError, match="NoItems must define __getitem__"):
        NoItems()[0]


# -------------------------------------------------------------------- collation
def test_default_collate_matches_torch():
    samples = [
        [(np.float32(i), i, float(i) / 2, True) for i in range(3)],  # numpy scalar, int, float, bool
        [{"x": np.arange(3, dtype=np.int32) + i, "name": f"s{i}", "t": float(i)} for i in range(4)],
        [[np.ones((2, 2)) * i, [i, i + 1]] for i in range(2)],  # nested lists
    ]
    for batch in samples:
        theirs = tud.default_collate(batch)
        assert_same_batch(default_collate(batch), theirs)
    # strings in tuple samples stay a tuple per position, as PyTorch's (a list only at the top)
    for batch in ([("a", 1), ("b", 2)], ["x", "y"]):
        mine, theirs = default_collate(batch), tud.default_collate(batch)
        assert type(mine[0]) is type(theirs[0]) and list(mine[0]) == list(theirs[0])
    assert default_collate([1.5, 2.0]).dtype == tg.float64  # Python floats are doubles, as in PyTorch
    assert default_collate([1, 2]).dtype == tg.int64


def test_default_collate_stacks_tensors_keeping_dtype():
    for dtype in ("float32", "float64", "int64", "uint8", "bool"):
        arrays = [np.arange(4).reshape(2, 2).astype(dtype) for _ in range(3)]
        ours = default_collate([tg.tensor(a) for a in arrays])
        assert_same(ours, tud.default_collate([torch.tensor(a) for a in arrays]), dtype)


def test_default_collate_of_mixed_dtypes_promotes_like_torch():
    for a, b in (("float32", "float64"), ("int64", "float32"), ("uint8", "int64")):
        arrays = [np.zeros(2, dtype=a), np.ones(2, dtype=b)]
        assert_same(default_collate([tg.tensor(v) for v in arrays]),
                    tud.default_collate([torch.tensor(v) for v in arrays]), f"{a} with {b}")


def test_default_collate_keeps_the_graph_of_samples_that_require_grad():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    assert batch.requires_grad and batch.shape == (2, 2)
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


def test_default_collate_namedtuple_keeps_type():
    Point = collections.namedtuple("Point", "x y")
    ours = default_collate([Point(tg.tensor(1.0), 2), Point(tg.tensor(3.0), 4)])
    assert type(ours) is Point
    assert ours.x.tolist() == [1.0, 3.0] and ours.y.tolist() == [2, 4]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"sample 0 has shape \(2,\) but sample 1 has \(3,\).*collate_fn"):
        default_collate([tg.zeros(2), tg.zeros(3)])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="dtype <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="same number of entries"):
        default_collate([(1, 2), (3,)])


def test_default_convert_matches_torch():
    sample = {"a": np.arange(3), "b": (np.float32(2.0), "text", 7)}
    assert_same_batch(default_convert(sample), tud.default_convert(sample))


# -------------------------------------------------------------------- DataLoader without shuffling
@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 16])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_matches_torch_in_order(batch_size, drop_last):
    (x, y), (tx, ty) = data()
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(tud.TensorDataset(tx, ty), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_same_epochs(ours, theirs)


def test_loader_attributes():
    (x, y), _ = data()
    dataset = TensorDataset(x, y)
    loader = DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2)
    assert loader.dataset is dataset and loader.batch_size == 4 and loader.num_workers == 2
    assert isinstance(loader.sampler, RandomSampler) and isinstance(loader.batch_sampler, BatchSampler)
    assert loader.collate_fn is default_collate and len(loader) == 3


def test_loader_over_custom_dataset_of_dicts_and_numbers():
    class Squares(Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return {"x": np.array([i, i * i], dtype=np.float32), "y": i % 2, "w": 0.5 * i}

    class TorchSquares(tud.Dataset):
        __len__, __getitem__ = Squares.__len__, Squares.__getitem__

    assert_same_epochs(DataLoader(Squares(), batch_size=3), tud.DataLoader(TorchSquares(), batch_size=3))


def test_loader_over_a_tensor_a_list_and_a_subset():
    (x, _), (tx, _) = data()
    assert_same_epochs(DataLoader(x, batch_size=4), tud.DataLoader(tx, batch_size=4))
    pairs = [(i, float(i)) for i in range(5)]
    assert_same_epochs(DataLoader(pairs, batch_size=2), tud.DataLoader(pairs, batch_size=2))
    (x, y), (tx, ty) = data()
    idx = [9, 0, 5, 5, 2]
    sub = Subset(Subset(TensorDataset(x, y), list(range(N))[::-1]), idx)
    tsub = tud.Subset(tud.Subset(tud.TensorDataset(tx, ty), list(range(N))[::-1]), idx)
    assert_same_epochs(DataLoader(sub, batch_size=2), tud.DataLoader(tsub, batch_size=2))


def test_tensor_shortcut_gives_the_same_batches_as_collating_item_by_item():
    """The fast path (indexing each tensor with all the batch's indices) equals stacking the samples."""
    (x, y), _ = data()
    dataset = Subset(TensorDataset(x, y.to(tg.uint8)), [3, 1, 4, 1, 5, 9, 2, 6])
    fast = list(DataLoader(dataset, batch_size=3))
    slow = list(DataLoader(dataset, batch_size=3, collate_fn=lambda batch: default_collate(batch)))
    for a, b in zip(fast, slow, strict=True):
        assert isinstance(a, list) and len(a) == len(b) == 2
        for u, v in zip(a, b):
            assert u.shape == v.shape and u.dtype is v.dtype and np.array_equal(u.numpy(), v.numpy())


def test_tensor_dataset_subclass_keeps_its_getitem():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return (self.tensors[0][i] * 2,)

    (x, _), _ = data()
    (batch,) = next(iter(DataLoader(Doubled(x), batch_size=N)))
    np.testing.assert_array_equal(batch.numpy(), x.numpy() * 2)


def test_batch_size_none_and_custom_samplers():
    (x, y), (tx, ty) = data(5)
    arrays = [np.full(2, i) for i in range(3)]
    assert_same_epochs(DataLoader(arrays, batch_size=None), tud.DataLoader(arrays, batch_size=None))
    assert len(DataLoader(arrays, batch_size=None)) == 3
    order = [4, 0, 3]
    assert_same_epochs(DataLoader(TensorDataset(x, y), batch_size=2, sampler=order),
                       tud.DataLoader(tud.TensorDataset(tx, ty), batch_size=2, sampler=order))
    batches = [[0, 1], [4], [2, 3]]
    ours = DataLoader(TensorDataset(x, y), batch_sampler=batches)
    assert len(ours) == 3 and ours.batch_size is None
    assert_same_epochs(ours, tud.DataLoader(tud.TensorDataset(tx, ty), batch_sampler=batches))


def test_loader_argument_errors():
    dataset = list(range(5))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(dataset, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(dataset, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(dataset, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="batch_size=0"):
        DataLoader(dataset, batch_size=0)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(dataset, num_workers=-1)
    with pytest.raises(TypeError, match="no __len__"):
        DataLoader(iter(dataset))


def test_num_workers_runs_in_process_with_the_same_batches():
    (x, y), _ = data()
    loader0 = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True, generator=tg.Generator().manual_seed(1))
    loader2 = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True, generator=tg.Generator().manual_seed(1),
                         num_workers=2, pin_memory=True, persistent_workers=True)
    for a, b in zip(loader0, loader2, strict=True):
        assert a[1].tolist() == b[1].tolist()


# -------------------------------------------------------------------- shuffling
def epoch_orders(loader, epochs):
    """The label order of each epoch (labels are the sample indices)."""
    return [[i for _, yb in loader for i in yb.tolist()] for _ in range(epochs)]


def index_dataset(n=20):
    return TensorDataset(tg.zeros(n, 2), tg.arange(n))


def test_shuffle_with_a_generator_is_a_repeatable_permutation_that_changes_each_epoch():
    orders = epoch_orders(DataLoader(index_dataset(), batch_size=6, shuffle=True,
                                     generator=tg.Generator().manual_seed(7)), 3)
    for order in orders:
        assert sorted(order) == list(range(20))
    assert orders[0] != list(range(20)) and orders[0] != orders[1] != orders[2]
    again = epoch_orders(DataLoader(index_dataset(), batch_size=6, shuffle=True,
                                    generator=tg.Generator().manual_seed(7)), 3)
    assert again == orders
    other = epoch_orders(DataLoader(index_dataset(), batch_size=6, shuffle=True,
                                    generator=tg.Generator().manual_seed(8)), 1)
    assert other[0] != orders[0]


def test_shuffle_with_a_generator_does_not_touch_the_global_generator():
    before = tg.get_rng_state()
    epoch_orders(DataLoader(index_dataset(), batch_size=4, shuffle=True, generator=tg.Generator()), 2)
    after = tg.get_rng_state()
    assert tg.equal(after, before)


def test_shuffle_without_a_generator_follows_manual_seed():
    tg.manual_seed(3)
    first = epoch_orders(DataLoader(index_dataset(), batch_size=5, shuffle=True), 2)
    tg.manual_seed(3)
    second = epoch_orders(DataLoader(index_dataset(), batch_size=5, shuffle=True), 2)
    assert first == second and first[0] != first[1]


def test_restoring_the_global_rng_state_replays_the_same_epochs():
    """What bit-identical resumption needs: the shuffling order comes from the saved global RNG state."""
    loader = DataLoader(index_dataset(), batch_size=4, shuffle=True)
    tg.manual_seed(11)
    epoch_orders(loader, 1)                                 # some training already happened
    state = tg.get_rng_state()
    orders = epoch_orders(loader, 2)
    after_two_epochs = tg.randn(3).tolist()                 # later draws (dropout, init) continue from there
    tg.manual_seed(999)                                     # a new process, seeded differently ...
    tg.set_rng_state(state)                                 # ... that restores the checkpoint's state
    assert epoch_orders(loader, 2) == orders
    assert tg.randn(3).tolist() == after_two_epochs


def test_each_shuffled_epoch_draws_one_seed_from_the_global_generator():
    """As PyTorch's RandomSampler: one draw per epoch, then a private generator seeded with it does the shuffling."""
    loader = DataLoader(index_dataset(), batch_size=4, shuffle=True)
    tg.manual_seed(5)
    order = epoch_orders(loader, 1)[0]
    after_epoch = tg.randn(2).tolist()
    tg.manual_seed(5)
    seed = int(tg.random.rng().integers(2**63))
    assert tg.randn(2).tolist() == after_epoch
    assert order == tg.randperm(20, generator=tg.Generator().manual_seed(seed)).tolist()


def test_an_unshuffled_loader_draws_no_random_numbers():
    before = tg.get_rng_state()
    epoch_orders(DataLoader(index_dataset(), batch_size=4), 2)
    assert tg.equal(tg.get_rng_state(), before)


def test_random_sampler_options():
    g = tg.Generator().manual_seed(0)
    with_replacement = list(RandomSampler(range(5), replacement=True, num_samples=50, generator=g))
    assert len(with_replacement) == 50 and set(with_replacement) <= set(range(5)) and len(set(with_replacement)) == 5
    endless = iter(RandomSampler(range(10), replacement=True, num_samples=10**10, generator=g))  # (makemore's: r57)
    assert all(0 <= next(endless) < 10 for _ in range(100))  # (drawn as asked for, 32 at a time, not 10^10 at once)
    longer = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3] and len(longer) == 10
    assert len(RandomSampler(range(4), num_samples=10)) == 10
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler(range(4), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(4), replacement=1)


def test_subset_random_sampler_and_sequential_sampler():
    g = tg.Generator().manual_seed(0)
    picked = list(SubsetRandomSampler([10, 20, 30, 40], generator=g))
    assert sorted(picked) == [10, 20, 30, 40]
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3] and len(SequentialSampler(range(4))) == 4
    with pytest.raises(NotImplementedError):
        iter(Sampler())


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(drop_last):
    for n in (0, 1, 6, 7):
        ours, theirs = BatchSampler(range(n), 3, drop_last), tud.BatchSampler(range(n), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    with pytest.raises(ValueError, match="batch_size=-1"):
        BatchSampler(range(3), -1, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 1, "no")


# -------------------------------------------------------------------- random_split
def test_random_split_sizes_disjoint_and_covering():
    dataset = list(range(30))
    parts = random_split(dataset, [10, 15, 5], generator=tg.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [10, 15, 5]
    seen = [p[i] for p in parts for i in range(len(p))]
    assert sorted(seen) == dataset
    assert all(isinstance(p, Subset) and p.dataset is dataset for p in parts)


@pytest.mark.parametrize("n, fractions", [(10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]),
                                          (101, [0.8, 0.1, 0.1]), (5, [1 / 3, 1 / 3, 1 / 3])])
def test_random_split_fractions_round_like_torch(n, fractions):
    ours = random_split(range(n), fractions, generator=tg.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = tud.random_split(range(n), fractions, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in ours] == [len(p) for p in theirs]


def test_random_split_is_repeatable_and_follows_the_global_seed():
    a = random_split(range(20), [0.5, 0.5], generator=tg.Generator().manual_seed(4))
    b = random_split(range(20), [0.5, 0.5], generator=tg.Generator().manual_seed(4))
    assert list(a[0].indices) == list(b[0].indices)
    tg.manual_seed(1)
    c = random_split(range(20), [10, 10])
    tg.manual_seed(1)
    d = random_split(range(20), [10, 10])
    assert list(c[1].indices) == list(d[1].indices) and list(c[0].indices) != list(range(10))


def test_random_split_of_a_tensor_dataset_feeds_a_loader():
    (x, y), _ = data()
    train, val = random_split(TensorDataset(x, y), [0.8, 0.2], generator=tg.Generator().manual_seed(0))
    xb, yb = next(iter(DataLoader(val, batch_size=8)))
    assert xb.shape == (2, 3) and yb.tolist() == [int(i) % 3 for i in val.indices]


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"add up to 9, but the dataset has 10"):
        random_split(range(10), [4, 5])
    with pytest.raises(ValueError, match=r"fractions \[0.5, 0.6\] add up to 1.1"):
        random_split(range(10), [0.5, 0.6])
    with pytest.raises(ValueError, match="fraction at index 0 is 1.5, not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    with pytest.raises(ValueError, match="index 0 is -2"):
        random_split(range(10), [-2, 12])
    with pytest.warns(UserWarning, match="index 1 has length 0"):
        random_split(range(3), [1.0, 0.0])


# -------------------------------------------------------------------- a PyTorch training loop, run on both
def train_one_epoch(lib, images, labels, state):
    """Plain PyTorch code: it runs unchanged with `lib` = torch or tinygrad_lite."""
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(images, labels), batch_size=32, drop_last=False)
    model = lib.nn.Linear(64, 10)
    model.load_state_dict(state)
    losses = []
    for xb, yb in loader:
        loss = lib.nn.functional.cross_entropy(model(xb), yb)
        model.zero_grad()
        loss.backward()
        with lib.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
        losses.append(loss.item())
    return losses


def test_the_same_training_loop_gives_the_same_losses_in_both_libraries():
    images, labels = tg.datasets.digits(flatten=True)
    images, labels = images[:200], labels[:200]
    torch_state = torch.nn.Linear(64, 10).state_dict()
    ours = train_one_epoch(tg, images, labels, {k: tg.tensor(v.numpy()) for k, v in torch_state.items()})
    theirs = train_one_epoch(torch, torch.tensor(images.numpy()), torch.tensor(labels.numpy()), torch_state)
    assert len(ours) == len(theirs) == 7
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert ours[-1] < ours[0]


# ------------------------------------------------------------------------------------------------ session 40
class _ManyAtOnce:
    """A dataset with ``__getitems__``, which PyTorch's DataLoader calls with a batch's indices."""
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return i

    def __getitems__(self, indices):
        return [i * 10 for i in indices]


def test_a_datasets_getitems_fetches_the_batch_and_an_ordered_dict_stays_one_as_in_pytorch():
    for module in (tg.utils.data, tud):
        assert [b.tolist() for b in module.DataLoader(_ManyAtOnce(), batch_size=2)] == [[0, 10], [20, 30]]
        samples = [collections.OrderedDict(x=1.0, y=2), collections.OrderedDict(x=3.0, y=4)]
        batch = next(iter(module.DataLoader(samples, batch_size=2)))
        assert type(batch) is collections.OrderedDict and list(batch) == ["x", "y"]


@pytest.mark.parametrize("call", [
    lambda d: d.ConcatDataset([[1, 2]])[-5], lambda d: d.ConcatDataset([]), lambda d: d.default_collate([]),
    lambda d: d.DataLoader([1], prefetch_factor=2), lambda d: d.DataLoader([1], persistent_workers=True),
], ids=["ConcatDataset's index below -len", "no datasets", "an empty batch", "prefetch_factor without workers",
        "persistent_workers without workers"])
def test_bad_data_arguments_raise_pytorchs_exception_types(call):
    with pytest.raises(Exception) as theirs:
        call(tud)
    with pytest.raises(type(theirs.value)):
        call(tg.utils.data)


# ---------------------------------------------------------------- (session 42) streams, stacks, weighted sampling
def _stream(L, n, with_len=True):
    """The same iterable dataset in either library: sample i is (a row of two floats, i % 3)."""
    base = L.utils.data.IterableDataset

    class Stream(base):
        def __iter__(self):
            for i in range(n):
                yield L.tensor([float(i), -float(i)]), i % 3

    if with_len:
        Stream.__len__ = lambda self: n
    return Stream()


@pytest.mark.parametrize("options", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=7),
                                     dict(batch_size=None), dict(batch_size=4, collate_fn=lambda batch: len(batch))])
def test_an_iterable_dataset_is_batched_in_order_as_pytorchs(options):
    def epoch(L):
        loader = L.utils.data.DataLoader(_stream(L, 7), **options)
        batches = [[np.asarray(v) for v in b] if isinstance(b, (list, tuple)) else b for b in loader]
        return len(loader), batches
    (n_ours, ours), (n_theirs, theirs) = epoch(tg), epoch(torch)
    assert n_ours == n_theirs and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(a, list):
            assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
        else:
            assert a == b


def test_an_iterable_dataset_has_no_sampler_and_may_have_no_len():
    for name, value in (("shuffle", True), ("sampler", [0, 1]), ("batch_sampler", [[0]])):
        for L in (tg, torch):
            with pytest.raises(ValueError, match=f"expected unspecified {name} option"):
                L.utils.data.DataLoader(_stream(L, 3), **{name: value})
    for L in (tg, torch):
        loader = L.utils.data.DataLoader(_stream(L, 5, with_len=False), batch_size=2)
        assert sum(1 for _ in loader) == 3
        with pytest.raises(TypeError):
            len(loader)
    assert tg.utils.data.get_worker_info() is None


def test_chained_streams_and_stacked_datasets_as_pytorchs():
    for L in (tg, torch):
        D = L.utils.data
        chained = _stream(L, 2) + _stream(L, 3)
        assert isinstance(chained, D.ChainDataset) and len(chained) == 5
        assert [label for _, label in chained] == [0, 1, 0, 1, 2]
        with pytest.raises(AssertionError):
            list(D.ChainDataset([_stream(L, 1), [1, 2]]))
        pairs, named = D.StackDataset(L.arange(3), L.arange(3) * 2), D.StackDataset(x=L.arange(3), y=L.arange(3) + 5)
        assert [int(v) for v in pairs[2]] == [2, 4] and len(pairs) == 3
        assert {k: int(v) for k, v in named[1].items()} == {"x": 1, "y": 6}
        batch = next(iter(D.DataLoader(named, batch_size=2)))
        assert sorted(batch) == ["x", "y"] and batch["y"].tolist() == [5, 6]
        for args, kwargs in (((L.arange(3), L.arange(4)), {}), ((L.arange(3),), {"y": [1]}), ((), {})):
            with pytest.raises(ValueError):
                D.StackDataset(*args, **kwargs)


def test_a_weighted_sampler_draws_in_proportion_to_the_weights():
    from tinygrad_lite.utils.data import WeightedRandomSampler
    weights = [0.0, 1.0, 3.0, 4.0]
    sampler = WeightedRandomSampler(weights, 8000, generator=tg.Generator().manual_seed(0))
    assert len(sampler) == 8000
    counts = np.bincount(list(sampler), minlength=4) / 8000
    np.testing.assert_allclose(counts, np.array(weights) / 8, atol=0.02)  # (about 5 standard deviations)
    distinct = list(WeightedRandomSampler(weights, 3, replacement=False, generator=tg.Generator().manual_seed(1)))
    assert sorted(distinct) == [1, 2, 3]
    tg.manual_seed(3)
    first = list(WeightedRandomSampler(weights, 20))
    tg.manual_seed(3)
    assert list(WeightedRandomSampler(weights, 20)) == first  # (the global generator, when none is given)
    loader = DataLoader(TensorDataset(tg.arange(4)), batch_size=5, sampler=WeightedRandomSampler(weights, 10))
    assert [len(b[0]) for b in loader] == [5, 5]


@pytest.mark.parametrize("bad, error", [
    (lambda S: S([1.0, 2.0], 0), ValueError), (lambda S: S([1.0, 2.0], 3, replacement=1), ValueError),
    (lambda S: S([[1.0, 2.0]], 3), ValueError), (lambda S: S([1.0, 2.0], True), ValueError),
])
def test_a_weighted_sampler_refuses_what_pytorchs_refuses(bad, error):
    with pytest.raises(error):
        bad(tud.WeightedRandomSampler)
    with pytest.raises(error, match="WeightedRandomSampler"):
        bad(tg.utils.data.WeightedRandomSampler)


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 2, False), (10, 3, False), (10, 3, True), (2, 5, False),
                                                    (7, 3, True)])
def test_distributed_sampler_shares_as_pytorchs(n, replicas, drop_last):
    """(session 48) Each rank's share, in order (PyTorch's, index for index: padding and drop_last included), and
    shuffled (the same permutation in every rank, a new one after set_epoch, every index once over the ranks)."""
    from tinygrad_lite.utils.data.distributed import DistributedSampler  # (PyTorch's module path)
    for rank in range(replicas):
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                                                     drop_last=drop_last)
        assert (list(ours), len(ours)) == (list(theirs), len(theirs))
    shares = [DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=3) for r in range(replicas)]
    first = [list(s) for s in shares]
    assert first == [list(s) for s in shares]
    if not drop_last and n % replicas == 0:
        assert sorted(sum(first, [])) == list(range(n))
    for s in shares:
        s.set_epoch(1)
    assert [list(s) for s in shares] != first or n < 3
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
        DistributedSampler(range(4))  # (one process: no world size to ask)


def round_r63(L):
    """Round r63: typed datasets (Dataset[...]), a Subset's batched fetch through the dataset's __getitems__,
    numpy scalars collated in their own dtype, a list subclass kept, a generator of datasets, PyTorch's old
    cummulative_sizes, and a tensor with a numpy array in one batch refused with a TypeError."""
    data = importlib.import_module(L.__name__ + ".utils.data")

    class Typed(data.Dataset[tuple[L.Tensor, int]]):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return L.ones(2) * i, i

    class Stream(data.IterableDataset[int]):
        def __iter__(self):
            return iter(range(3))

    calls = []

    class Batched(data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            calls.append(("one", i))
            return i

        def __getitems__(self, indices):
            calls.append(("many", list(indices)))
            return list(indices)

    class Pair(list):
        pass

    list(data.DataLoader(data.Subset(Batched(), [1, 3]), batch_size=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old_name = data.ConcatDataset([[1], [2, 3]]).cummulative_sizes
    with pytest.raises(TypeError):
        data.default_collate([L.ones(2), np.ones(2)])
    return [next(iter(data.DataLoader(Typed(), batch_size=2)))[1].tolist(), next(iter(data.DataLoader(
        Stream(), batch_size=2))).tolist(), str(data.default_collate([np.float32(0.5), 1.0]).dtype).split(".")[-1],
        type(data.default_collate([Pair([1, 2]), Pair([3, 4])])).__name__,
        len(data.ConcatDataset(d for d in [[1], [2, 3]])), calls, old_name, data.Sampler[int] is not None]


def test_round_r63_data_idioms_as_pytorchs():
    assert round_r63(tg) == round_r63(torch)
