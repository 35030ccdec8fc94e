"""The test suite's stand-in for CuPy: the package's GPU played on the CPU (tinygrad_lite/course/exercises/
course/stand_in_gpu.py, which lessons 08 and 09 use too), named for the tests and able to play several GPUs.

Its arrays refuse to mix with numpy arrays and to turn into them silently, offer only what the real CuPy has (its
API is stored in cupy_api.json, and tests/test_cupy_contract.py holds both to the installed CuPy), and count every
copy between host and device. tests/test_devices.py runs every "cuda" path of the library on it.

``fused_calls(fake)`` says how many times each fused kernel (``cupy.fuse``) ran on it, by kernel name: the way a
test sees that a fused path was taken; ``launches(fake)`` how many kernels every op would have launched on a GPU,
by op name (both counts are kept outside the module's public names, which are CuPy's).
"""
from tinygrad_lite.course.stand_in_gpu import StandInCuPy, ndarray, wrap  # noqa: F401

NAME = "Stand-in GPU (numpy)"


def FakeCuPy(devices=1):
    """A stand-in CuPy with ``devices`` GPUs; ``with FakeCuPy().install():`` makes it tinygrad_lite's "cuda"."""
    return StandInCuPy(devices=devices, name=NAME)


def fused_calls(fake):
    """A Counter: fused kernel name -> how many times it ran on the stand-in ``fake``."""
    return fake._fused_calls


def launches(fake):
    """A Counter: op name -> how many kernel launches it made on the stand-in ``fake`` (a fused kernel's name begins
    with "fuse:"; views and shape changes launch nothing and are not counted)."""
    return fake._launches
