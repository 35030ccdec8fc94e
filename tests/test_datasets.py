"""tinygrad_lite.datasets: shapes, dtypes, value ranges, class balance, repeatability, and the shipped digits file."""
import math
from importlib import resources

import numpy as np
import pytest

import tinygrad_lite as tg
from tinygrad_lite import datasets

CLASSIFICATION = {"xor": datasets.xor, "two_moons": datasets.two_moons, "two_spirals": datasets.two_spirals}


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("n", [1, 7, 200])
def test_classification_sets_shapes_dtypes_and_balance(name, n):
    X, y = CLASSIFICATION[name](n)
    assert X.shape == (n, 2) and X.dtype is tg.float32
    assert y.shape == (n,) and y.dtype is tg.int64
    assert np.bincount(y.numpy(), minlength=2).tolist() == [n - n // 2, n // 2]
    assert np.isfinite(X.numpy()).all()


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_are_repeatable_and_seeded(name):
    make = CLASSIFICATION[name]
    (a, ya), (b, yb), (c, _) = make(50), make(50, seed=0), make(50, seed=1)
    assert np.array_equal(a.numpy(), b.numpy()) and np.array_equal(ya.numpy(), yb.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    tg.manual_seed(2)
    d, _ = make(50, seed=None)
    tg.manual_seed(2)
    e, _ = make(50, seed=None)
    f, _ = make(50, generator=tg.Generator().manual_seed(2))
    assert np.array_equal(d.numpy(), e.numpy()) and np.array_equal(d.numpy(), f.numpy())


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_are_shuffled(name):
    _, y = CLASSIFICATION[name](100)
    assert 0 < y[:50].sum().item() < 50, "both classes should appear in the first half"


def test_xor_without_noise_is_the_truth_table():
    X, y = datasets.xor(8, noise=0.0)
    X, y = X.numpy(), y.numpy()
    assert set(map(tuple, X.tolist())) == {(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)}
    np.testing.assert_array_equal(y, np.logical_xor(X[:, 0], X[:, 1]).astype(np.int64))
    assert sorted(map(tuple, X.tolist())).count((1.0, 1.0)) == 2  # each corner twice


def test_two_moons_without_noise_lies_on_the_two_half_circles():
    X, y = datasets.two_moons(101, noise=0.0)
    X, y = X.numpy().astype(np.float64), y.numpy()
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all() and (lower[:, 1] <= 0.5 + 1e-6).all()


def test_two_spirals_without_noise_are_point_reflections_inside_the_unit_disc():
    X, y = datasets.two_spirals(400, noise=0.0, turns=2)
    X, y = X.numpy().astype(np.float64), y.numpy()
    r = np.hypot(X[:, 0], X[:, 1])
    assert (r <= 1 + 1e-6).all()
    theta = np.arctan2(X[:, 1], X[:, 0])
    # on class 0, theta = 2 pi * turns * r (mod 2 pi); class 1 is turned by pi
    for label, shift in ((0, 0.0), (1, math.pi)):
        on = (y == label) & (r > 0.01)  # (the angle of a point very near the centre is not precise in float32)
        diff = np.angle(np.exp(1j * (theta[on] - 2 * math.pi * 2 * r[on] - shift)))
        np.testing.assert_allclose(diff, 0, atol=1e-4)


def test_noisy_sine_shapes_range_and_noise():
    X, y = datasets.noisy_sine(500, noise=0.1, x_range=(-2.0, 3.0))
    assert X.shape == y.shape == (500, 1) and X.dtype is tg.float32 and y.dtype is tg.float32
    x, t = X.numpy()[:, 0].astype(np.float64), y.numpy()[:, 0].astype(np.float64)
    assert x.min() >= -2.0 and x.max() < 3.0
    residual = t - np.sin(x)
    assert abs(residual.mean()) < 0.02 and 0.08 < residual.std() < 0.12
    X0, y0 = datasets.noisy_sine(20, noise=0.0)
    np.testing.assert_allclose(y0.numpy(), np.sin(X0.numpy()), atol=1e-6)


def test_default_dtype_is_followed():
    tg.set_default_dtype(tg.float64)
    try:
        assert datasets.two_moons(4)[0].dtype is tg.float64
        assert datasets.digits()[0].dtype is tg.float64
    finally:
        tg.set_default_dtype(tg.float32)


@pytest.mark.parametrize("call, message", [
    (lambda: datasets.xor(0), "xor: n is the number of points"),
    (lambda: datasets.two_moons(10.5), "two_moons: n"),
    (lambda: datasets.two_spirals(10, noise=-1), "two_spirals: noise .* >= 0"),
    (lambda: datasets.two_spirals(10, turns=0), "turns must be > 0"),
    (lambda: datasets.noisy_sine(10, x_range=(1, 1)), "low < high"),
])
def test_bad_arguments_are_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -------------------------------------------------------------------- digits
DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_shapes_dtypes_ranges_and_class_counts():
    images, labels = datasets.digits()
    assert images.shape == (1797, 8, 8) and images.dtype is tg.float32
    assert labels.shape == (1797,) and labels.dtype is tg.int64
    assert images.min().item() == 0.0 and images.max().item() == 1.0
    assert np.bincount(labels.numpy()).tolist() == DIGIT_COUNTS


def test_digits_raw_and_flat():
    raw, labels = datasets.digits(as_float=False)
    flat, _ = datasets.digits(flatten=True)
    assert raw.dtype is tg.uint8 and raw.numpy().max() == 16 and raw.numpy().min() == 0
    assert flat.shape == (1797, 64)
    np.testing.assert_allclose(flat.numpy(), raw.numpy().reshape(1797, 64) / 16, rtol=1e-6)
    # the first image of the file is a 0 (scikit-learn's load_digits().images[0])
    assert labels[0].item() == 0
    assert raw[0].tolist()[1] == [0, 0, 13, 15, 10, 15, 5, 0]


def test_digits_file_is_package_data_and_small():
    data = resources.files("tinygrad_lite.datasets") / "data"
    npz = data / "digits.npz"
    assert npz.is_file()
    assert len(npz.read_bytes()) < 100_000
    with npz.open("rb") as f, np.load(f, allow_pickle=False) as arrays:
        assert sorted(arrays.files) == ["images", "labels"]
        assert arrays["images"].dtype == np.uint8 and arrays["labels"].dtype == np.uint8
    readme = (data / "README.md").read_text(encoding="utf-8")
    for needed in ("CC BY 4.0", "Alpaydin", "Kaynak", "digits.csv.gz", "savez_compressed"):
        assert needed in readme


def test_package_data_globs_cover_the_shipped_files():
    tomllib = pytest.importorskip("tomllib")
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["tinygrad_lite"]
    for path in (root / "tinygrad_lite" / "datasets" / "data").iterdir():
        assert any(path.match(g.removeprefix("**/")) for g in globs), f"{path.name} is not in package-data {globs}"
