"""save/load (our no-pickle zip format), safetensors interchange with PyTorch, and the checkpoint helpers."""
import io
import json
import math
import os
import pickle
import warnings
import zipfile
from collections import OrderedDict, namedtuple
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch

import tinygrad_lite as tg
from tinygrad_lite import serialization
from tinygrad_lite.safetensors import load_file, save_file
from tinygrad_lite.serialization import SerializationError
from tinygrad_lite.train import EarlyStopping, load_checkpoint, save_checkpoint


# -------------------------------------------------------------------- helpers
def assert_same_tree(got, want, where="obj"):
    """Same types (containers, keys, scalars), same dtypes and shapes, exactly the same values."""
    assert type(got) is type(want), f"{where}: {type(got)} vs {type(want)}"
    if isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)} vs {list(want)}"
        assert [type(k) for k in got] == [type(k) for k in want], f"{where}: key types differ"
        for k in want:
            assert_same_tree(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), f"{where}: length {len(got)} vs {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_tree(g, w, f"{where}[{i}]")
    elif isinstance(want, tg.Tensor):
        assert got.dtype is want.dtype and got.shape == want.shape, f"{where}: {got.dtype}{got.shape}"
        assert got.requires_grad == want.requires_grad and got.grad_fn is None and got.grad is None, where
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy(), err_msg=where)
    elif isinstance(want, (np.ndarray, np.generic)):
        assert got.dtype == want.dtype and got.shape == want.shape, f"{where}: {got.dtype}{got.shape}"
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, float):
        assert got == want and math.copysign(1, got) == math.copysign(1, want) or (math.isnan(got) and
                                                                                 math.isnan(want)), where
    else:
        assert got == want, f"{where}: {got!r} vs {want!r}"


def round_trip(obj, tmp_path, **load_kwargs):
    path = tmp_path / "obj.pt"
    tg.save(obj, path)
    return tg.load(path, **load_kwargs)


def rewrite_header(path, change):
    """Rewrite archive.json of a saved file through ``change(header_dict)``, keeping the other entries."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(entries["archive.json"])
    change(header)
    entries["archive.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


ALL_DTYPES = [tg.bool, tg.uint8, tg.int8, tg.int16, tg.int32, tg.int64, tg.float16, tg.float32, tg.float64]


def sample(dtype, shape=(2, 3)):
    values = np.random.default_rng(0).normal(size=shape) * 100
    return tg.tensor(values > 0 if dtype is tg.bool else values.astype(dtype.np))


# -------------------------------------------------------------------- round trips
@pytest.mark.parametrize("value", [0, -7, 2**200, -(2**100), 1.5, -0.0, math.inf, -math.inf, 5e-324, 0.1 + 0.2,
                                   1e308, True, False, "", "héllo ✓ \n\"quoted\"", None])
def test_python_scalars_round_trip_exactly(tmp_path, value):
    assert_same_tree(round_trip({"v": value}, tmp_path), {"v": value})


def test_nan_round_trips(tmp_path):
    assert math.isnan(round_trip(math.nan, tmp_path))


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(), (0, 3), (5,), (2, 3, 4)], ids=str)
def test_tensors_of_every_dtype_and_shape(tmp_path, dtype, shape):
    t = sample(dtype, shape)
    got = round_trip(t, tmp_path)
    assert_same_tree(got, t)
    assert got.array is not t.array and got.array.flags.writeable


def test_extreme_values_and_non_contiguous_tensors(tmp_path):
    obj = {"int64": tg.tensor([2**63 - 1, -(2**63)]), "f16": tg.tensor(np.array([65504, 6e-8, -0.0], np.float16)),
           "f64": tg.tensor([math.inf, -math.inf, 1e-310, math.nan], dtype=tg.float64),
           "transposed": tg.arange(12.0).reshape(3, 4).T, "strided": tg.arange(10)[::3]}
    got = round_trip(obj, tmp_path)
    assert_same_tree(got, obj)
    assert got["transposed"].tolist() == obj["transposed"].tolist()


def test_a_view_saved_beside_its_base_loads_as_a_copy_and_save_says_so():
    """Rounds r57 and r59: PyTorch keeps a view and its base shared through save and load (it saves storages);
    here they load as copies, so save warns, naming both; an optimizer's per-parameter steps (0-d views of
    different elements of one array) and a state_dict draw no warning."""
    t, buf = tg.arange(4.0), io.BytesIO()
    with pytest.warns(UserWarning, match=r"obj\['t'\] and obj\['v'\] share memory"):
        tg.save({"t": t, "v": t[1:3], "u": tg.ones(2), "again": t}, buf)
    buf.seek(0)
    loaded = tg.load(buf)
    loaded["t"][1] = 99.0
    assert loaded["v"][0].item() == 1.0 and loaded["again"] is loaded["t"]
    model = tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.BatchNorm1d(8), tg.nn.Linear(8, 2))
    optimizer = tg.optim.Adam(model.parameters())
    for _ in range(2):
        optimizer.zero_grad()
        model(tg.ones(16, 4)).pow(2).mean().backward()
        optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, io.BytesIO())


def test_loading_from_a_buffer_not_rewound_says_to_seek_back():
    buf = io.BytesIO()
    tg.save({"a": 1}, buf)
    with pytest.raises(SerializationError, match=r"rewound .*f\.seek\(0\)"):
        tg.load(buf)
    buf.seek(0)
    assert tg.load(buf) == {"a": 1}


def test_sizes_dtypes_devices_and_sets_round_trip_and_configs_get_a_hint():
    """Round r57: nanoGPT-style checkpoints hold a Size, a dtype, a device, a set; build-nanogpt saves its config
    dataclass, which needs pickle (PyTorch's); here the message says to save dataclasses.asdict(config)."""
    import argparse
    import dataclasses

    obj = {"shape": tg.Size([2, 3]), "dtype": tg.float16, "device": tg.device("cpu"), "tags": {"a", "b"},
           "frozen": frozenset([1, 2]), "nested": (tg.Size([]), [tg.int64])}
    buf = io.BytesIO()
    tg.save(obj, buf)
    buf.seek(0)
    back = tg.load(buf)
    assert back == obj and type(back["shape"]) is tg.Size and back["dtype"] is tg.float16

    @dataclasses.dataclass
    class Config:
        n_layer: int = 12

    for config, hint in ((Config(), r"dataclasses\.asdict"), (argparse.Namespace(lr=0.1), r"vars\(x\)")):
        with pytest.raises(TypeError, match=hint):
            tg.save({"config": config}, io.BytesIO())


def test_numpy_arrays_and_scalars(tmp_path):
    obj = [np.arange(6, dtype=np.uint16).reshape(2, 3), np.asfortranarray(np.ones((2, 3))), np.array(["a", "bc"]),
           np.array([1 + 2j]), np.float32(1.25), np.int64(-3), np.bool_(True), np.float64(0.1)]
    assert_same_tree(round_trip(obj, tmp_path), obj)


def test_nesting_container_types_and_key_types(tmp_path):
    obj = {0: "int key", "0": "str key", 2.5: "float key", None: "None key", True: "bool key",
           "list": [1, [2, (3, 4)], [], ()], "tuple": (1, "a", None, (2.0,)), "empty": {},
           "ordered": OrderedDict([("b", 1), ("a", tg.ones(2)), ("c", OrderedDict())]),
           "deep": {"x": [{"y": ({"z": [tg.zeros(1, dtype=tg.int64)]},)}]}}
    got = round_trip(obj, tmp_path)
    assert_same_tree(got, obj)
    assert list(got["ordered"]) == ["b", "a", "c"]


def test_pytorch_shaped_checkpoint(tmp_path):
    model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4), tg.nn.Linear(4, 2))
    tg.randn(5)  # move the generator away from its seed, so the saved state is not the initial one
    optimizer = {"state": {0: {"step": tg.tensor(3.0), "exp_avg": tg.randn(4, 3), "exp_avg_sq": tg.rand(4, 3)},
                           1: {"step": tg.tensor(3.0), "exp_avg": tg.randn(4), "exp_avg_sq": tg.rand(4)}},
                 "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                                   "amsgrad": False, "foreach": None, "params": [0, 1, 2, 3, 4, 5, 6, 7]}]}
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer, "epoch": 3, "rng": tg.get_rng_state(),
                  "old_rng": json.loads(bytes(tg.get_rng_state().numpy()))}  # the plain dict older versions saved
    got = round_trip(checkpoint, tmp_path)
    assert_same_tree(got, checkpoint)
    assert type(got["model"]) is OrderedDict and list(got["optimizer"]["state"]) == [0, 1]
    assert tg.equal(got["rng"], checkpoint["rng"]) and got["rng"].dtype is tg.uint8  # a uint8 tensor, as PyTorch's
    assert got["old_rng"] == checkpoint["old_rng"]  # 128-bit PCG64 integers, exact
    expected = tg.randn(3, 3)
    tg.set_rng_state(got["rng"])
    np.testing.assert_array_equal(tg.randn(3, 3).numpy(), expected.numpy())
    tg.set_rng_state(got["old_rng"])  # a checkpoint saved before the state became a tensor still loads
    np.testing.assert_array_equal(tg.randn(3, 3).numpy(), expected.numpy())
    fresh = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4), tg.nn.Linear(4, 2)).eval()
    fresh.load_state_dict(got["model"])
    x = tg.randn(6, 3)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model.eval()(x).detach().numpy())


def test_parameters_requires_grad_and_shared_objects(tmp_path):
    w = tg.nn.Parameter(tg.randn(2, 2))
    x = tg.randn(3, requires_grad=True)
    y = x * 2  # a non-leaf: it loads as a leaf that requires grad, as in PyTorch
    y.sum().backward()
    frozen = tg.nn.Parameter(tg.ones(2), requires_grad=False)
    got = round_trip({"w": w, "again": w, "x": x, "y": y, "frozen": frozen, "plain": tg.ones(2)}, tmp_path)
    assert type(got["w"]) is tg.nn.Parameter and got["w"].requires_grad and got["w"] is got["again"]
    assert type(got["frozen"]) is tg.nn.Parameter and not got["frozen"].requires_grad
    assert type(got["x"]) is tg.Tensor and got["x"].requires_grad and got["x"].grad is None  # .grad is not saved
    assert got["y"].requires_grad and got["y"].is_leaf
    assert not got["plain"].requires_grad
    np.testing.assert_array_equal(got["y"].detach().numpy(), y.detach().numpy())


def test_file_objects_and_path_types(tmp_path):
    obj = {"t": tg.arange(5), "n": 1}
    buffer = io.BytesIO()
    tg.save(obj, buffer)
    buffer.seek(0)
    assert_same_tree(tg.load(buffer), obj)

    class ReadOnly:  # a stream that cannot seek (e.g. a socket or a pipe)
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def read(self, n=-1):
            return self.data.read(n)

    assert_same_tree(tg.load(ReadOnly(buffer.getvalue())), obj)
    with open(tmp_path / "f.pt", "wb") as f:
        tg.save(obj, f)
    with open(tmp_path / "f.pt", "rb") as f:
        assert_same_tree(tg.load(f), obj)
    tg.save(obj, str(tmp_path / "s.pt"))
    assert_same_tree(tg.load(str(tmp_path / "s.pt")), obj)
    assert_same_tree(tg.load(Path(tmp_path / "s.pt"), weights_only=False), obj)


def test_saved_model_weights_give_identical_outputs(tmp_path):
    model = tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.Tanh(), tg.nn.Linear(8, 3))
    tg.save(model.state_dict(), tmp_path / "model.pt")
    other = tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.Tanh(), tg.nn.Linear(8, 3))
    other.load_state_dict(tg.load(tmp_path / "model.pt"))
    x = tg.randn(5, 4)
    np.testing.assert_array_equal(other(x).detach().numpy(), model(x).detach().numpy())


# -------------------------------------------------------------------- atomic writes
DISK_FULL = OSError("disk full (simulated)")


def crash_on_second_array(monkeypatch, error=DISK_FULL):
    real, calls = serialization._write_array, []

    def write_then_crash(archive, name, array):
        calls.append(name)
        if len(calls) == 2:
            raise error
        real(archive, name, array)
    monkeypatch.setattr(serialization, "_write_array", write_then_crash)
    return calls


@pytest.mark.parametrize("error", [DISK_FULL, KeyboardInterrupt()], ids=["OSError", "Ctrl-C"])
def test_crash_mid_save_keeps_the_previous_file(tmp_path, monkeypatch, error):
    path = tmp_path / "ckpt.pt"
    old = {"epoch": 1, "w": tg.ones(3), "b": tg.zeros(2)}
    tg.save(old, path)
    before = path.read_bytes()
    calls = crash_on_second_array(monkeypatch, error)
    with pytest.raises(type(error)):
        tg.save({"epoch": 2, "w": tg.full((3,), 2.0), "b": tg.ones(2)}, path)
    assert len(calls) == 2  # it really crashed halfway, after writing one tensor
    assert path.read_bytes() == before
    assert_same_tree(tg.load(path), old)
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary file left behind


def test_crash_on_first_save_leaves_nothing(tmp_path, monkeypatch):
    crash_on_second_array(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        tg.save([tg.ones(1), tg.ones(1)], tmp_path / "new.pt")
    assert os.listdir(tmp_path) == []


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    tg.save({"epoch": 1}, path)
    tg.save({"epoch": 2}, path)
    assert tg.load(path) == {"epoch": 2} and os.listdir(tmp_path) == ["ckpt.pt"]


def test_save_into_a_missing_folder_or_onto_a_folder(tmp_path):
    with pytest.raises(RuntimeError, match="does not exist.*makedirs"):
        tg.save({}, tmp_path / "no" / "such" / "ckpt.pt")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        tg.save({}, tmp_path)


@pytest.mark.parametrize("path", ["missing_folder/file.pt", "a/b/c.pt", Path("missing_folder") / "file.pt"],
                         ids=["folder", "nested", "pathlib"])
def test_save_into_a_missing_folder_raises_pytorchs_runtime_error(tmp_path, monkeypatch, path):
    """PyTorch: RuntimeError("Parent directory missing_folder does not exist."); ours says the same, and the fix."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError) as theirs:
        torch.save({}, path)
    folder = os.path.dirname(os.fspath(path))
    with pytest.raises(RuntimeError) as ours:
        tg.save({}, path)
    assert type(ours.value) is type(theirs.value) is RuntimeError
    assert str(theirs.value) in str(ours.value)  # "Parent directory missing_folder does not exist."
    assert f"os.makedirs({folder!r}, exist_ok=True)" in str(ours.value)
    assert os.listdir(tmp_path) == []  # nothing written, nothing created
    os.makedirs(folder, exist_ok=True)  # the fix it names works
    tg.save({"epoch": 1}, path)
    assert tg.load(path) == {"epoch": 1}


# -------------------------------------------------------------------- what cannot be saved
class Thing:
    pass


Point = namedtuple("Point", ["x", "y"])


@pytest.mark.parametrize("obj, where, what", [
    ({"model": {"extra": Thing()}}, r"obj\['model'\]\['extra'\]", "Thing"),
    ({"model": tg.nn.Linear(2, 2)}, r"obj\['model'\]", "state_dict"),
    ({"loader_rng": tg.Generator()}, r"obj\['loader_rng'\]", "get_state()"),
    ([1, [2, lambda x: x]], r"obj\[1\]\[1\]", "function"),
    ({"p": Point(1, 2)}, r"obj\['p'\]", "Point"),
    ({"s": {1, Thing()}}, r"obj\['s'\] item", "Thing"),
    ({"a": np.array([object()])}, r"obj\['a'\]", "dtype object"),
    ({(1, 2): 3}, r"obj has a key \(1, 2\) of type tuple", "dict keys must be"),
])
def test_unsavable_objects_name_their_place(tmp_path, obj, where, what):
    with pytest.raises(TypeError, match=where) as info:
        tg.save(obj, tmp_path / "x.pt")
    assert what in str(info.value)
    assert os.listdir(tmp_path) == []  # checked before any file is written


def test_a_container_that_holds_itself(tmp_path):
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"obj\[1\] contains itself"):
        tg.save(loop, tmp_path / "x.pt")


def test_save_rejects_a_bad_target():
    with pytest.raises(TypeError, match="path .* or a binary file object"):
        tg.save({}, 42)


# -------------------------------------------------------------------- files that cannot be loaded
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.pt"
    tg.save({"w": tg.arange(1000, dtype=tg.float64), "epoch": 3}, path)
    return path


def test_serialization_error_is_a_runtime_error():
    assert issubclass(SerializationError, RuntimeError)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        tg.load(tmp_path / "missing.pt")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        tg.load(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(SerializationError, match="is empty"):
        tg.load(tmp_path / "empty.pt")


@pytest.mark.parametrize("keep", [0.5, 0.99, 30 / 8000])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[:max(4, int(len(data) * keep))])
    with pytest.raises(SerializationError, match="cut short or damaged.*Save it again"):
        tg.load(saved)


def test_flipped_byte_in_tensor_data_fails_the_checksum(saved):
    data = bytearray(saved.read_bytes())
    at = bytes(data).find(np.arange(1000, dtype=np.float64).tobytes()) + 4000
    data[at] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match=r"is damaged: .*CRC.*earlier checkpoint"):
        tg.load(saved)


def test_flipped_byte_in_the_header_fails_the_checksum(saved):
    data = bytearray(saved.read_bytes())
    at = bytes(data).find(b'"epoch"') + 2
    data[at] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match=r"is damaged.*CRC"):
        tg.load(saved)


def test_any_damaged_byte_gives_a_clear_error_or_the_saved_object():
    obj = {"w": tg.arange(6.0), 0: [1, (2, "x")], "p": tg.nn.Parameter(tg.ones(2))}
    buffer = io.BytesIO()
    tg.save(obj, buffer)
    data = buffer.getvalue()
    errors = 0
    for at in range(len(data)):  # zip fields that nothing reads (timestamps, ...) may change without harm
        damaged = bytearray(data)
        damaged[at] ^= 0xFF
        try:
            assert_same_tree(tg.load(io.BytesIO(bytes(damaged))), obj)
        except SerializationError:
            errors += 1
    assert errors > len(data) // 2


def test_text_file(tmp_path):
    (tmp_path / "notes.pt").write_text("just some notes\n")
    with pytest.raises(SerializationError, match=r"not a tinygrad_lite checkpoint.*b'just som'"):
        tg.load(tmp_path / "notes.pt")


def test_pytorch_files(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "new.pt")
    with pytest.raises(SerializationError, match=r"torch\.save.*safetensors\.torch\.save_file"):
        tg.load(tmp_path / "new.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(SerializationError, match="is a pickle.*never unpickles"):
        tg.load(tmp_path / "old.pt")


def test_pickle_npz_npy_safetensors_and_other_zips(tmp_path):
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"a": 1}))
    np.savez(tmp_path / "a.npz", x=np.ones(2))
    np.save(tmp_path / "a.npy", np.ones(2))
    safetensors.torch.save_file({"w": torch.ones(2)}, tmp_path / "w.safetensors")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    for name, message in [("p.pkl", "is a pickle"), ("a.npz", r"numpy \.npz"), ("a.npy", r"numpy \.npy"),
                          ("w.safetensors", "safetensors.load_file"), ("other.zip", r"no archive\.json")]:
        with pytest.raises(SerializationError, match=message):
            tg.load(tmp_path / name)


def test_newer_version_and_other_format(saved):
    rewrite_header(saved, lambda h: h.update(version=99))
    with pytest.raises(SerializationError, match="format version 99 by a newer tinygrad_lite.*Upgrade"):
        tg.load(saved)
    rewrite_header(saved, lambda h: h.update(version="one"))
    with pytest.raises(SerializationError, match="no valid format version"):
        tg.load(saved)
    rewrite_header(saved, lambda h: h.update(format="somebody.else", version=1))
    with pytest.raises(SerializationError, match="names the format 'somebody.else'"):
        tg.load(saved)


def test_load_never_unpickles(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")
    for name in ("load", "loads", "Unpickler", "dump", "dumps", "Pickler"):
        monkeypatch.setattr(pickle, name, refuse)
    obj = {"t": tg.randn(3), "p": tg.nn.Parameter(tg.ones(2)), "a": np.arange(3), "s": np.float32(2),
           "nested": OrderedDict(x=(1, [2.5, None, "s"])), 7: tg.get_rng_state()}
    assert_same_tree(round_trip(obj, tmp_path), obj)


# -------------------------------------------------------------------- map_location
def test_map_location_cpu(tmp_path):
    obj = {"w": tg.randn(2, 3)}
    for location in ("cpu", tg.device("cpu"), {"cuda:0": "cpu"}, None):
        got = round_trip(obj, tmp_path, map_location=location)
        assert got["w"].device == tg.device("cpu")
        assert_same_tree(got, obj)


def test_map_location_function_as_pytorchs(tmp_path):
    """PyTorch's old idiom ``map_location=lambda storage, loc: storage`` (everything on the CPU) works: the function
    gets each tensor, on the CPU, and its saved location; None keeps that location; anything else is refused."""
    obj = {"w": tg.randn(2, 3), "p": tg.nn.Parameter(tg.ones(2)), "epoch": 3}
    seen = []
    got = round_trip(obj, tmp_path, map_location=lambda storage, location: seen.append(location) or storage)
    assert_same_tree(got, obj)
    assert got["w"].device == tg.device("cpu") and seen == ["cpu", "cpu"] and isinstance(got["p"], tg.nn.Parameter)
    assert_same_tree(round_trip(obj, tmp_path, map_location=lambda storage, location: None), obj)
    assert round_trip(obj, tmp_path, map_location=lambda storage, location: storage * 2)["w"].equal(obj["w"] * 2)
    with pytest.raises(TypeError, match=r"returned a value of type str for a tensor of shape \(2, 3\)"):
        round_trip(obj, tmp_path, map_location=lambda storage, location: "cpu")


def test_bad_map_location(tmp_path):
    tg.save({"epoch": 1}, tmp_path / "x.pt")  # checked even when the file holds no tensor
    with pytest.raises(TypeError, match="map_location must be a device .*, a dict like .* or a function, got int"):
        tg.load(tmp_path / "x.pt", map_location=3)
    for location in ("tpu", {"cuda:0": "tpu"}):
        with pytest.raises(RuntimeError, match="device type.*tpu"):
            tg.load(tmp_path / "x.pt", map_location=location)


@pytest.mark.skipif(tg.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_tensors_saved_on_a_gpu_load_on_a_cpu_only_machine(saved):
    rewrite_header(saved, lambda h: h["object"]["dict"][0][1].update(device="cuda:0"))  # as if saved on a GPU
    with pytest.raises(RuntimeError, match="saved on cuda:0, but CUDA is not available.*map_location='cpu'"):
        tg.load(saved)
    for location in ("cpu", {"cuda:0": "cpu"}):
        got = tg.load(saved, map_location=location)
        np.testing.assert_array_equal(got["w"].numpy(), np.arange(1000.0))


@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs CUDA (CuPy and a GPU)")
def test_map_location_moves_to_and_from_the_gpu(tmp_path):
    obj = {"w": tg.randn(2, 3, device="cuda"), "c": tg.randn(2)}
    got = round_trip(obj, tmp_path)
    assert got["w"].device == tg.device("cuda:0") and got["c"].device == tg.device("cpu")
    moved = round_trip(obj, tmp_path, map_location="cpu")
    assert moved["w"].device == tg.device("cpu")
    np.testing.assert_array_equal(moved["w"].numpy(), obj["w"].cpu().numpy())
    assert round_trip(obj, tmp_path, map_location="cuda")["c"].device == tg.device("cuda:0")


# -------------------------------------------------------------------- safetensors interchange with PyTorch
def torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def our_mlp():
    return tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.ReLU(), tg.nn.Linear(8, 3))


def test_every_dtype_to_pytorch(tmp_path):
    tensors = {d.name: sample(d) for d in ALL_DTYPES}
    tensors["scalar"], tensors["empty"] = tg.tensor(2.5), tg.zeros(0, 3)
    tensors["transposed"] = tg.arange(6.0).reshape(2, 3).T.contiguous()  # (a strided view itself is refused, as
    # safetensors.torch refuses it: tests/test_pytorch_pieces.py)
    save_file(tensors, tmp_path / "t.safetensors")
    theirs = safetensors.torch.load_file(tmp_path / "t.safetensors")
    assert set(theirs) == set(tensors)
    for name, ours in tensors.items():
        assert str(theirs[name].dtype) == f"torch.{ours.dtype.name}" and tuple(theirs[name].shape) == ours.shape
        np.testing.assert_array_equal(theirs[name].numpy(), ours.numpy(), err_msg=name)
    back = load_file(tmp_path / "t.safetensors")
    for name, ours in tensors.items():
        assert back[name].dtype is ours.dtype and back[name].shape == ours.shape
        np.testing.assert_array_equal(back[name].numpy(), ours.numpy(), err_msg=name)
        assert back[name].array.flags.writeable and not back[name].requires_grad


def test_every_dtype_from_pytorch(tmp_path):
    tensors = {"f32": torch.randn(3, 2), "f64": torch.randn(4, dtype=torch.float64), "f16": torch.randn(2).half(),
               "i64": torch.tensor([2**62, -5]), "i32": torch.arange(3, dtype=torch.int32), "bool": torch.rand(3) > 0.5,
               "u8": torch.arange(4, dtype=torch.uint8), "i8": torch.tensor([-128, 127], dtype=torch.int8),
               "i16": torch.tensor([-3], dtype=torch.int16), "scalar": torch.tensor(1.5)}
    safetensors.torch.save_file(tensors, tmp_path / "t.safetensors")
    ours = load_file(tmp_path / "t.safetensors", device="cpu")
    for name, theirs in tensors.items():
        assert f"torch.{ours[name].dtype.name}" == str(theirs.dtype) and ours[name].shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours[name].numpy(), theirs.numpy(), err_msg=name)


def test_model_weights_ours_to_pytorch(tmp_path):
    ours = our_mlp()
    save_file(ours.state_dict(), tmp_path / "m.safetensors", metadata={"epoch": "3"})
    theirs = torch_mlp()
    theirs.load_state_dict(safetensors.torch.load_file(tmp_path / "m.safetensors"))
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ours.state_dict()[name].numpy())  # bit for bit
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), ours(tg.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-7)
    with safetensors.safe_open(tmp_path / "m.safetensors", framework="np") as f:
        assert f.metadata() == {"epoch": "3"}


def test_model_weights_pytorch_to_ours(tmp_path):
    theirs = torch_mlp()
    safetensors.torch.save_file(theirs.state_dict(), tmp_path / "m.safetensors")
    ours = our_mlp()
    ours.load_state_dict(load_file(tmp_path / "m.safetensors"))
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), theirs.state_dict()[name].numpy())
    x = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-7)


def test_safetensors_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="load_file: no such file"):
        load_file(tmp_path / "missing.safetensors")
    safetensors.torch.save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf16.safetensors")
    with pytest.raises(TypeError, match=r"'w' .* has dtype BF16.*v\.float\(\)"):
        load_file(tmp_path / "bf16.safetensors")
    (tmp_path / "text.safetensors").write_text("not safetensors at all")
    with pytest.raises(SerializationError, match="cannot read .* as safetensors.*not safetensors"):
        load_file(tmp_path / "text.safetensors")
    tg.save({"w": tg.ones(2)}, tmp_path / "ckpt.pt")
    with pytest.raises(SerializationError, match=r"zip archive.*tinygrad_lite\.load"):
        load_file(tmp_path / "ckpt.pt")
    with pytest.raises(TypeError, match="model.state_dict()"):
        save_file(our_mlp(), tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="the value for 'epoch' is of type int, not a Tensor"):
        save_file({"epoch": 3}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="names must be str"):
        save_file({0: tg.ones(1)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        save_file({"w": tg.ones(1)}, tmp_path / "x.safetensors", metadata={"epoch": 3})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_file({"w": tg.ones(1)}, tmp_path / "missing" / "x.safetensors")
    assert sorted(os.listdir(tmp_path)) == ["bf16.safetensors", "ckpt.pt", "text.safetensors"]


def test_safetensors_refuses_tensors_that_share_memory_as_pytorchs_does(tmp_path):
    """One tensor under two names (tied weights), or a view of another, is refused with a RuntimeError as by
    safetensors.torch.save_file; parts of one tensor that do not overlap are saved (issue 34, item 14b)."""
    path = tmp_path / "w.safetensors"
    for lib, save in ((torch, safetensors.torch.save_file), (tg, save_file)):
        w = lib.arange(8.0).reshape(4, 2)
        for shared in ({"enc.weight": w, "dec.weight": w}, {"w": w, "row": w[1]}):
            with pytest.raises(RuntimeError, match="share memory"):
                save(shared, path)
        save({"top": w[:2], "bottom": w[2:], "other": lib.ones(3)}, path)
        assert load_file(path)["bottom"].tolist() == [[4.0, 5.0], [6.0, 7.0]]
    with pytest.raises(RuntimeError, match=r"'dec.weight' and 'enc.weight' share memory .* tie the weights again"):
        save_file({"enc.weight": w, "dec.weight": w}, path)
    with pytest.raises(RuntimeError, match="'t' and 'w' share memory"):  # (PyTorch's fails to view w.T, also a
        save_file({"w": w, "t": w.T}, path)                               # RuntimeError)


# -------------------------------------------------------------------- checkpoint helpers
def training_setup():
    model = tg.nn.Sequential(tg.nn.Linear(3, 8), tg.nn.Dropout(0.3), tg.nn.ReLU(), tg.nn.Linear(8, 1))
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01)
    scheduler = tg.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


def train_epoch(model, optimizer, scheduler):
    x = tg.randn(16, 3)  # fresh random data and dropout masks each epoch: the RNG state matters
    loss = ((model(x) - x.sum(dim=1, keepdim=True)) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    return loss.item()


def test_resuming_from_a_checkpoint_continues_exactly(tmp_path):
    path = tmp_path / "last.pt"
    model, optimizer, scheduler = training_setup()
    for _ in range(3):
        train_epoch(model, optimizer, scheduler)
    stopper = EarlyStopping(patience=2)
    stopper.step(0.5, model)
    saved = save_checkpoint(path, model, optimizer, scheduler, epoch=2, val_loss=0.5, stopper=stopper.state_dict())
    assert set(saved) == {"model", "optimizer", "scheduler", "epoch", "rng_state", "val_loss", "stopper"}
    straight_on = [train_epoch(model, optimizer, scheduler) for _ in range(3)]

    tg.manual_seed(123)  # a fresh process: other weights, other RNG state
    model2, optimizer2, scheduler2 = training_setup()
    checkpoint = load_checkpoint(path, model2, optimizer2, scheduler2)
    assert checkpoint["epoch"] == 2 and checkpoint["val_loss"] == 0.5
    stopper2 = EarlyStopping(patience=2)
    stopper2.load_state_dict(checkpoint["stopper"])
    assert stopper2.best == 0.5 and stopper2.best_epoch == 0
    resumed = [train_epoch(model2, optimizer2, scheduler2) for _ in range(3)]
    assert resumed == straight_on
    for (name, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_a_checkpoint_with_loader_resumes_the_loaders_own_generator(tmp_path):
    """A DataLoader(generator=g) shuffles with g alone: save_checkpoint(loader=) saves g's state and
    load_checkpoint(loader=) puts it back into the loader's generator, so the resumed epoch is shuffled as the
    uninterrupted run's; without it, the fresh g replays epoch 0's order."""
    from tinygrad_lite.utils.data import DataLoader, TensorDataset

    def loader():
        return DataLoader(TensorDataset(tg.arange(10.0)), batch_size=10, shuffle=True,
                          generator=tg.Generator().manual_seed(3))

    def order(data):
        return next(iter(data))[0].tolist()

    model = tg.nn.Linear(1, 1)
    straight = loader()
    orders = [order(straight) for _ in range(4)]
    interrupted = loader()
    for _ in range(2):
        order(interrupted)
    saved = save_checkpoint(tmp_path / "c.pt", model, epoch=1, loader=interrupted)
    assert "loader_rng_state" in saved
    resumed, forgotten = loader(), loader()
    load_checkpoint(tmp_path / "c.pt", model, loader=resumed)
    load_checkpoint(tmp_path / "c.pt", model)
    assert [order(resumed), order(resumed)] == orders[2:]
    assert order(forgotten) == orders[0] != orders[2]
    save_checkpoint(tmp_path / "no_loader.pt", model)
    with pytest.raises(ValueError, match="saved without loader="):
        load_checkpoint(tmp_path / "no_loader.pt", model, loader=loader())
    assert "loader_rng_state" not in save_checkpoint(tmp_path / "d.pt", model, loader=DataLoader(tg.arange(4.0)))
    with pytest.raises(TypeError, match="'loader_rng_state' is saved automatically"):
        save_checkpoint(tmp_path / "c.pt", model, loader_rng_state=1)
    with pytest.raises(TypeError, match="loader must be a DataLoader"):
        save_checkpoint(tmp_path / "c.pt", model, loader=tg.Generator())


def test_load_checkpoint_options_and_errors(tmp_path):
    model, optimizer, _ = training_setup()
    save_checkpoint(tmp_path / "c.pt", model)  # model only
    tg.randn(2)
    state = tg.get_rng_state()
    checkpoint = load_checkpoint(tmp_path / "c.pt", model, restore_rng=False)
    assert tg.equal(tg.get_rng_state(), state) and checkpoint["epoch"] is None and "optimizer" not in checkpoint
    with pytest.raises(ValueError, match="no optimizer state"):
        load_checkpoint(tmp_path / "c.pt", model, optimizer)
    tg.save({"weights": model.state_dict()}, tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="without a 'model' entry.*tinygrad_lite.load"):
        load_checkpoint(tmp_path / "plain.pt", model)
    with pytest.raises(TypeError, match="'rng_state' is saved automatically"):
        save_checkpoint(tmp_path / "c.pt", model, rng_state=1)
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        save_checkpoint(tmp_path / "c.pt", model.state_dict())
    with pytest.raises(TypeError, match=r"obj\['stopper'\]: cannot save .*EarlyStopping.*state_dict"):
        save_checkpoint(tmp_path / "c.pt", model, stopper=EarlyStopping())
    with pytest.raises(RuntimeError, match="Missing key"):
        load_checkpoint(tmp_path / "c.pt", tg.nn.Linear(3, 8))


# -------------------------------------------------------------------- files crafted or damaged on purpose, read-only
# targets, and temporary files left by a killed save
def test_flipped_bits_in_the_zip_directory_of_a_file_on_disk(tmp_path):
    """Every bit pattern we flip in the central directory (read through a real file, where a bad offset makes seek
    fail with OSError) gives the saved object or a SerializationError, never a raw OSError or BadZipFile."""
    obj = {"w": tg.arange(6.0), 0: [1, (2, "x")], "p": tg.nn.Parameter(tg.ones(2))}
    path = tmp_path / "x.pt"
    tg.save(obj, path)
    data = path.read_bytes()
    errors = 0
    for at in range(data.find(b"PK\x01\x02"), len(data)):
        for mask in (0x01, 0x10, 0x80, 0xFF):
            damaged = bytearray(data)
            damaged[at] ^= mask
            path.write_bytes(bytes(damaged))
            try:
                assert_same_tree(tg.load(path), obj)
            except SerializationError:
                errors += 1
    assert errors > 100


def write_archive(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def header(tree):
    return json.dumps({"format": "tinygrad_lite.save", "version": 1, "object": tree})


@pytest.mark.parametrize("depth", [serialization.MAX_DEPTH * 3 + 10, 100_000])  # (RecursionError before)
def test_a_deeply_nested_header(tmp_path, depth):
    tree = header("REPLACE").replace('"REPLACE"', "[" * depth + "]" * depth)
    write_archive(tmp_path / "deep.pt", {"archive.json": tree})
    with pytest.raises(SerializationError, match=f"nests {depth + 1} levels deep"):
        tg.load(tmp_path / "deep.pt")


def test_nesting_that_save_writes_loads_back(tmp_path):
    obj = 1
    for _ in range(serialization.MAX_DEPTH + 1):  # the deepest that save writes: dicts, the deepest in JSON
        obj = {"a": obj}
    assert round_trip(obj, tmp_path) == obj
    with pytest.raises(ValueError, match=f"nested more than {serialization.MAX_DEPTH} containers deep"):
        tg.save([obj], tmp_path / "deeper.pt")
    assert os.listdir(tmp_path) == ["obj.pt"]


def test_a_header_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_HEADER_BYTES", 1000)
    write_archive(tmp_path / "big.pt", {"archive.json": header(["x" * 10] * 200)})
    with pytest.raises(SerializationError, match="declares .* bytes, more than the 1000"):
        tg.load(tmp_path / "big.pt")


def npy_header(shape, dtype="<f8"):
    text = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text += " " * (63 - len(text) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode()


@pytest.mark.parametrize("shape", [(10**12,), (2**40, 2**40), (3,)])
def test_an_array_that_declares_more_than_it_holds(tmp_path, shape):
    tree = {"tensor": "tensors/0.npy", "requires_grad": False, "parameter": False, "device": "cpu"}
    write_archive(tmp_path / "x.pt", {"archive.json": header(tree), "tensors/0.npy": npy_header(shape) + b"\0" * 16})
    with pytest.raises(SerializationError, match=r"declares the shape .* bytes\) but holds 16 bytes"):
        tg.load(tmp_path / "x.pt")


def test_a_compressed_entry_is_refused(tmp_path):
    path = tmp_path / "x.pt"
    tg.save({"w": tg.zeros(1000)}, path)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(SerializationError, match="compressed"):
        tg.load(path)


@pytest.mark.parametrize("writer", ["save", "save_file"])
def test_saving_refuses_a_read_only_target(tmp_path, writer):
    path = tmp_path / "ckpt"
    tg.save({"epoch": 1}, path)
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        with pytest.raises(PermissionError, match="read-only, so it was left unchanged.*chmod"):
            if writer == "save":
                tg.save({"epoch": 2}, path)
            else:
                save_file({"w": tg.ones(2)}, path)
        assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt"]
    finally:
        path.chmod(0o644)
    tg.save({"epoch": 2}, path)  # writable again: saved as usual
    assert tg.load(path) == {"epoch": 2}


KILLED_SAVE = """
import os, sys, time
import tinygrad_lite as tg
from tinygrad_lite import serialization
real = serialization._write_array
def slow(archive, name, array):
    real(archive, name, array)
    if name == "tensors/0.npy":
        print("writing", flush=True)
        time.sleep(60)
serialization._write_array = slow
tg.save({"a": tg.zeros(100_000), "b": tg.ones(3)}, sys.argv[1])
"""


def temporary_files(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def test_a_killed_save_leaves_no_temporary_file_beyond_the_next_save(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "ckpt.pt"
    tg.save({"epoch": 1}, path)
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"  # it is halfway through the save
        left = temporary_files(tmp_path)
        assert len(left) == 1 and left[0].startswith(f".ckpt.pt.{child.pid}.")
        assert os.path.getsize(tmp_path / left[0]) > 400_000  # the big tensor is in it
    finally:
        child.kill()
        child.wait()
    assert temporary_files(tmp_path) == left  # a killed process cleans up nothing
    assert tg.load(path) == {"epoch": 1}  # the old checkpoint is intact
    tg.save({"epoch": 2}, path)  # the next save of the same target removes the stale file
    assert temporary_files(tmp_path) == [] and tg.load(path) == {"epoch": 2}


def test_temporary_files_of_live_saves_and_other_targets_are_kept(tmp_path):
    import subprocess
    import sys
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        names = {"live": f".ckpt.pt.{alive.pid}.00ff00ff.tmp", "dead": f".ckpt.pt.{dead.pid}.00ff00ff.tmp",
                 "other target": f".other.pt.{dead.pid}.00ff00ff.tmp", "not ours": ".ckpt.pt.notes.tmp"}
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        tg.save({"epoch": 1}, tmp_path / "ckpt.pt")
        assert temporary_files(tmp_path) == sorted(names[k] for k in ("live", "other target", "not ours"))
    finally:
        alive.kill()
        alive.wait()


LYING = b'{"w": {"dtype": "F32", "shape": [1000000000000], "data_offsets": [0, 8]}}'


@pytest.mark.parametrize("head", [
    (2**40).to_bytes(8, "little") + b"{}",  # a header length of a terabyte
    (200_001).to_bytes(8, "little") + b"[" * 100_000 + b"]" * 100_000 + b" ",  # nested 100,000 deep
    len(LYING).to_bytes(8, "little") + LYING,  # a shape of 10**12 floats with 4 bytes of data
], ids=["huge header", "deep header", "lying shape"])
def test_crafted_safetensors_headers(tmp_path, head):
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(head + b"\0" * 8)
    with pytest.raises(SerializationError, match="load_file: cannot read"):
        load_file(path)
