"""The stand-in GPU held to the real CuPy package, which installs and imports on a machine without a GPU.

The stand-in (tinygrad_lite.course.stand_in_gpu.py, also tests/fake_cupy.py) is where every "cuda" path
is tested on a CPU, so it must not accept what CuPy refuses: the first GPU the course met (a lent H200) could make
no tensor on "cuda", because the library recognised arrays by ``__array_namespace__``, which the stand-in had and
CuPy's ndarray has not. Two parts:

- without CuPy (every run of the suite): the stand-in offers only the API stored in cupy_api.json, and refuses the
  rest as CuPy would;
- with the real CuPy installed (``.ci/run`` installs the version constraints.txt pins and runs this file with
  TINYGRAD_LITE_CUPY_CONTRACT=1, which turns a missing CuPy into a failure): the stored API is the installed
  CuPy's, the stand-in's arrays and module offer no protocol or attribute CuPy's lack, real CuPy arrays (made
  without a GPU: a null pointer, no kernel ever run) behave as the stand-in's where both can be asked, tensors take
  them, every CuPy function the library calls, with the keywords it passes, exists in the real module, and every
  fused kernel of the library (``cupy.fuse``) traces under the real CuPy's fuse as the stand-in ran it.
"""
import ast
import importlib
import json
import os
import weakref
from pathlib import Path

import numpy as np
import pytest
from cupy_api import API_FILE, read_api
from fake_cupy import FakeCuPy

import tinygrad_lite as tl
from tinygrad_lite.course import stand_in_gpu as _stand_in_gpu

LIBRARY = Path(tl.__file__).resolve().parent
STORED = json.loads(API_FILE.read_text())


@pytest.fixture(scope="module")
def cupy():
    """The real CuPy; skipped where it is not installed, unless TINYGRAD_LITE_CUPY_CONTRACT=1 (CI's step)."""
    try:
        return importlib.import_module("cupy")
    except ImportError as e:
        if os.environ.get("TINYGRAD_LITE_CUPY_CONTRACT") == "1":
            pytest.fail(f"TINYGRAD_LITE_CUPY_CONTRACT=1 but CuPy does not import: {e}")
        pytest.skip("the real CuPy is not installed (pip install -c constraints.txt cupy-cuda12x)")


def real_array(cupy, shape=(2, 3), dtype=np.float32):
    """A real cupy.ndarray without a GPU: its memory a null pointer that no kernel ever touches (only what needs no
    GPU may be asked of it: its shape, views, protocols, refusals)."""
    memory = cupy.cuda.UnownedMemory(0, 0, None, 0)
    return cupy.ndarray(shape, dtype=dtype, memptr=cupy.cuda.MemoryPointer(memory, 0))


# ------------------------------------------------------------------------------------------------ without CuPy
@pytest.fixture
def stand_in():
    with FakeCuPy().install() as fake:
        yield fake


def test_the_stand_in_refuses_what_cupy_lacks(stand_in):
    a = tl.ones(2, 3, device="cuda").array
    with pytest.raises(TypeError, match="no implementation found for 'numpy.nanpercentile'"):
        np.nanpercentile(a, 50)                     # numpy has it, CuPy does not
    with pytest.raises(TypeError, match="unexpected keyword argument 'initial'"):
        a.max(initial=0.0)                          # numpy's ndarray.max takes it, CuPy's does not
    with pytest.raises(TypeError, match="unexpected keyword argument 'initial'"):
        np.max(a, initial=0.0)
    for name, message in (("frompyfunc", "has no attribute 'frompyfunc'"),  # not in CuPy
                          ("random", "does not play cupy.random")):         # CuPy's own generator: not numpy's
        with pytest.raises(AttributeError, match=message):
            getattr(stand_in, name)
    assert not hasattr(a, "__array_namespace__")   # CuPy's ndarray has none (13.0 to 14.2)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(a)
    with pytest.raises(TypeError, match="numpy \\(host\\) array"):
        a + np.ones((2, 3), np.float32)
    b = a
    b @= tl.ones(3, 3, device="cuda").array         # CuPy has no __imatmul__: a new array, a untouched
    assert b is not a and b.shape == (2, 3)


def test_the_stand_in_counts_every_way_to_the_host(stand_in):
    a = tl.arange(4.0, device="cuda").array
    reads = [lambda: a.get(), lambda: float(a[0]), lambda: bool(a[1]), lambda: int(a[2]), lambda: a[3].item(),
             lambda: a.tolist(), lambda: repr(a), lambda: f"{a[0]:.2f}"]
    for k, read in enumerate(reads, 1):
        read()
        assert stand_in.transfers.to_host == k
    assert stand_in.transfers.to_device == 0
    a[np.array([0, 1])]                             # a host index array: CuPy copies it to the GPU first
    a[[0, 1]]
    assert stand_in.transfers.to_device == 2
    direction, what, where = stand_in.transfers.log[-1]
    assert direction == "to_device" and "index" in what and where.startswith(__file__)


def test_the_tested_cupy_is_named_alike_everywhere():
    """constraints.txt pins the CuPy the course is tested with; the README, environment.yml and the library's install
    hint (lesson 08 shows it) name the same one, and the stored API is that version's."""
    from tinygrad_lite.cuda import INSTALL_CUPY, TESTED_CUPY
    root = LIBRARY.parent
    assert f"cupy-cuda12x=={TESTED_CUPY}\n" in (root / "constraints.txt").read_text()
    assert f"cupy-cuda12x=={TESTED_CUPY}" in (root / "environment.yml").read_text()
    readme = (root / "README.md").read_text()
    assert f"%pip install cupy-cuda12x=={TESTED_CUPY}" in readme and f"tested CuPy,\n{TESTED_CUPY}" in readme
    assert INSTALL_CUPY == f"pip install cupy-cuda12x=={TESTED_CUPY}" and STORED["cupy_version"] == TESTED_CUPY
    with pytest.raises(RuntimeError, match=f"needs CuPy and an NVIDIA GPU: {INSTALL_CUPY} "):
        with _stand_in_gpu.no_gpu():
            tl.ones(1, device="cuda")


# ------------------------------------------------------------------------------------------------ with the real CuPy
def test_the_stored_api_is_the_installed_cupys(cupy):
    if cupy.__version__ != STORED["cupy_version"]:
        pytest.skip(f"the stored API is CuPy {STORED['cupy_version']}'s, this is {cupy.__version__} (the tests "
                    "below still hold the stand-in and the library to it); python tests/cupy_api.py rewrites it")
    assert read_api() == STORED


def own_attributes(cls):
    """The names a class defines itself (not object's), less Python's plumbing and the class's private fields."""
    plumbing = {"__dict__", "__weakref__", "__slots__", "__module__", "__doc__", "__qualname__", "__firstlineno__",
                "__static_attributes__"}
    names = set()
    for klass in cls.__mro__:
        if klass is not object:
            names |= {n for n in vars(klass) if n not in plumbing and not (n.startswith("_") and not n.endswith("__"))}
    return names


def test_the_stand_ins_arrays_offer_nothing_cupys_lack(cupy):
    # (its __getattr__ is how it passes on numpy's methods: only those the stored API lists, with their keywords)
    extra = own_attributes(_stand_in_gpu.ndarray) - {"__getattr__"} - set(dir(cupy.ndarray))
    assert not extra, f"the stand-in's ndarray has {sorted(extra)}, which cupy.ndarray {cupy.__version__} lacks"
    for name in NDARRAY_PASSED_THROUGH:  # found through __getattr__: in CuPy's ndarray too
        assert hasattr(cupy.ndarray, name), name


NDARRAY_PASSED_THROUGH = ("astype", "reshape", "sum", "max", "copy", "ravel", "transpose", "view", "fill", "clip")


def test_the_stand_in_module_offers_nothing_cupys_lacks(cupy):
    fake = FakeCuPy()
    ours = {"install", "devices", "transfers", "synchronized", "current"}  # the stand-in's own controls
    extra = {n for n in own_attributes(type(fake)) | set(vars(fake)) if not n.startswith("_")} - ours - set(dir(cupy))
    assert not extra, f"the stand-in module has {sorted(extra)}, which cupy {cupy.__version__} lacks"
    assert hasattr(cupy.cuda, "Device") and hasattr(cupy.cuda.Device, "synchronize")
    for name in vars(fake.cuda.runtime):
        assert hasattr(cupy.cuda.runtime, name), name
    for name in ("used_bytes", "free_all_blocks"):
        assert hasattr(cupy.get_default_memory_pool(), name), name


def test_real_cupy_arrays_behave_as_the_stand_ins_where_no_gpu_is_needed(cupy):
    real = real_array(cupy)
    with FakeCuPy().install():
        played = tl.zeros(2, 3, device="cuda").array
        for a, kind in ((real, cupy.ndarray), (played, _stand_in_gpu.ndarray)):
            with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
                np.asarray(a)
            assert not hasattr(a, "__array_namespace__") and not hasattr(a, "__array_interface__")
            assert weakref.ref(a)() is a
            for view in (a.T, a.reshape(3, 2), a[0]):  # (views at an offset need real memory)
                assert isinstance(view, kind)
            assert (a.T.shape, a[0].shape, len(a), a.device.id) == ((3, 2), (3,), 2, 0)


def test_tensors_take_real_cupy_arrays(cupy):
    """The check that failed on the first real GPU: as_tensor of a CuPy array (no copy, so no kernel runs here)."""
    t = tl.as_tensor(real_array(cupy))
    assert isinstance(t.array, cupy.ndarray) and t.dtype is tl.float32 and t.device == tl.device("cuda:0")
    assert tl.as_tensor(real_array(cupy, (4,), np.int64)).dtype is tl.int64


ARRAY_MODULE_CALLS = {"array_module", "array_module_of", "cupy_or_error"}


def cupy_calls(tree):
    """(line, attribute chain, keywords) of every call the source makes on CuPy: on a name bound to
    ``array_module(...)``, ``array_module_of(...)`` or ``cupy_or_error()`` (``xp``, ``cupy``), on such a call itself,
    or on cupyx."""
    found = []
    for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Module))]:
        bound = {"cupyx"}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and is_array_module_call(node.value):
                bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                chain, base = [], node.func
                while isinstance(base, ast.Attribute):
                    chain.insert(0, base.attr)
                    base = base.value
                if (isinstance(base, ast.Name) and base.id in bound) or is_array_module_call(base):
                    root = ["cupyx"] if isinstance(base, ast.Name) and base.id == "cupyx" else []
                    found.append((node.lineno, root + chain, [k.arg for k in node.keywords if k.arg]))
    return found


def is_array_module_call(node):
    if not isinstance(node, ast.Call):
        return False
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
    return name in ARRAY_MODULE_CALLS


def test_every_cupy_function_the_library_calls_exists_with_its_keywords(cupy):
    import cupyx.scipy.special  # noqa: F401  (the library imports it for exact GELU)
    calls, missing = 0, []
    for path in sorted(LIBRARY.rglob("*.py")):
        if "course" in path.relative_to(LIBRARY).parts:
            continue
        for line, chain, keywords in cupy_calls(ast.parse(path.read_text())):
            calls += 1
            target = importlib.import_module("cupyx") if chain[0] == "cupyx" else cupy
            for attr in chain[1:] if chain[0] == "cupyx" else chain:
                target = getattr(target, attr, None)
            where = f"{path.relative_to(LIBRARY)}:{line}: {'.'.join(chain)}"
            if target is None:
                missing.append(f"{where} (no such function in CuPy {cupy.__version__})")
                continue
            accepted = keywords_of(target)
            missing += [f"{where}({k}=...) (CuPy's takes no '{k}')" for k in keywords
                        if accepted != "any" and k not in accepted]
    assert calls > 30, f"only {calls} CuPy calls found: the scan no longer sees the library's calls"
    assert not missing, "\n".join(missing)


def keywords_of(function):
    from cupy_api import keywords
    return keywords(function) if callable(function) and not isinstance(function, type) else "any"


# ------------------------------------------------------------------------------------------------ fused kernels
FUSED_KERNEL_MODULES = ("tinygrad_lite.kernels.batch_norm", "tinygrad_lite.kernels.layer_norm",
                        "tinygrad_lite.kernels.cross_entropy", "tinygrad_lite.kernels.activation",
                        "tinygrad_lite.optim.adam", "tinygrad_lite.optim.sgd", "tinygrad_lite.nn.utils.clip_grad",
                        "tinygrad_lite.random", "tinygrad_lite.amp.grad_scaler")


def test_every_fused_kernel_of_the_library_traces_under_the_real_cupy_fuse(cupy, monkeypatch):
    """The library's fused kernels (``tinygrad_lite/kernels``: ``cupy.fuse``) run on the stand-in with numpy, which
    plays the rules of CuPy's fuse (no ``.shape``, one reduction, outputs of the kernel's shape...) as far as it can
    see them. Here each kernel, as the "cuda" paths call it in tests/test_fused_cuda.py (every optimizer, clipping,
    batch norm, layer norm, cross-entropy, ReLU, dropout and GradScaler case), is traced by the real CuPy's fuse,
    the same function given the real module as its ``xp``, on arrays of the same shapes and dtypes (null pointers:
    tracing writes the kernel's code and runs nothing, so no GPU is needed). The kernel must trace; write in place
    exactly the arguments the stand-in's run wrote (CuPy declares them non-const); and return outputs of the
    stand-in's dtypes. The tracer is CuPy's own (``cupy._core.fusion``, private: the version constraints.txt
    pins), called as ``cupy.fuse`` calls it.
    """
    import types

    from cupy._core import _fusion_thread_local, fusion
    from test_fused_cuda import every_fused_path

    from tinygrad_lite.kernels import kernel_name

    calls, run = {}, _stand_in_gpu._Fused.__call__

    def recording(self, *args):
        result = run(self, *args)
        function = self.function
        flags = tuple(c.cell_contents for c in function.__closure__ or () if not isinstance(c.cell_contents,
                                                                                          types.ModuleType))
        kinds = tuple((a.dtype.str, a.ndim) if isinstance(a, _stand_in_gpu.ndarray) else (type(a), a is None)
                      for a in args)
        outputs = result if isinstance(result, tuple) else () if result is None else (result,)
        calls.setdefault((self.name, function.__code__, flags, kinds), (function, args, self._written,
                                                                        [o.dtype for o in outputs]))
        return result
    monkeypatch.setattr(_stand_in_gpu._Fused, "__call__", recording)
    every_fused_path()

    made = {name for name, *_ in calls}
    library = {kernel_name(factory) for module in map(importlib.import_module, FUSED_KERNEL_MODULES)
               for name, factory in vars(module).items()
               if name.startswith("make_") and factory.__module__ == module.__name__}  # 28 kernels
    assert len(library) >= 28 and len(calls) > 100, f"only {len(calls)} calls of {sorted(made)} recorded"
    for kernel in sorted(library):
        assert kernel in made, f"{kernel} ran in no case of test_fused_cuda.py"
    for (name, *_), (function, args, written, dtypes) in calls.items():
        cells = [types.CellType(cupy) if free == "xp" else cell
                 for free, cell in zip(function.__code__.co_freevars, function.__closure__ or ())]
        assert all(not isinstance(c.cell_contents, types.ModuleType) or free == "xp"
                   for free, c in zip(function.__code__.co_freevars, cells)), f"{name}: its module must be its xp"
        real = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                                  tuple(cells))
        arguments = [real_array(cupy, a.shape, a.dtype) if isinstance(a, _stand_in_gpu.ndarray) else a for a in args]
        history = fusion._FusionHistory()
        _fusion_thread_local.thread_local.history, _fusion_thread_local.thread_local.is_old_fusing = history, True
        try:
            kernel, _ = history.get_fusion(real, arguments, name)
        except Exception as e:  # noqa: BLE001 (any failure to trace is the finding)
            pytest.fail(f"the fused kernel {name} does not trace under CuPy {cupy.__version__}'s fuse with "
                        f"{[(type(a).__name__, getattr(a, 'dtype', a)) for a in args]}: {type(e).__name__}: {e}")
        finally:
            _fusion_thread_local.thread_local.history, _fusion_thread_local.thread_local.is_old_fusing = None, False
        positions = [i for i, a in enumerate(args) if a is not None]  # (None arguments are no kernel parameters)
        non_const = [positions[i] for i, p in enumerate(kernel.in_params) if not p.is_const]
        assert non_const == list(written), f"{name}: CuPy writes arguments {non_const}, the stand-in {list(written)}"
        assert [p.dtype for p in kernel.out_params] == dtypes, f"{name}: output dtypes"


def test_a_write_in_place_in_a_kernel_that_reduces_is_lost_under_the_real_fuse_and_refused_by_the_stand_in(cupy):
    """CuPy's fuse makes a function that reduces one ReductionKernel. An argument written in place before the
    reduction (``g *= s``, then ``all(isfinite(...))``: GradScaler's unscaling and its check in one kernel) traces,
    and is declared non-const, but the kernel's map step takes it by value (``_pre_map(float v0, ...)``) and assigns
    the copy: on a GPU the write would be lost, silently. The stand-in refuses such a kernel, so that none of the
    library's counts on it; if a later CuPy passes its argument by reference, this test says so."""
    import re

    from cupy._core import _fusion_thread_local, fusion

    def unscale_and_check(xp):
        def function(g, s):
            finite = xp.isfinite(g)
            g *= s
            return xp.all(finite)
        return function
    history = fusion._FusionHistory()
    _fusion_thread_local.thread_local.history, _fusion_thread_local.thread_local.is_old_fusing = history, True
    try:
        kernel, _ = history.get_fusion(unscale_and_check(cupy), [real_array(cupy, (3, 4)), np.float32(0.5)], "k")
    finally:
        _fusion_thread_local.thread_local.history, _fusion_thread_local.thread_local.is_old_fusing = None, False
    assert type(kernel).__name__ == "ReductionKernel" and not kernel.in_params[0].is_const
    assert re.search(r"_pre_map\(float v0\b", kernel.preamble), "the map step takes g by reference now"
    with FakeCuPy().install() as fake, pytest.raises(ValueError, match="cannot also write an argument in place"):
        fake.fuse(unscale_and_check(fake))(fake.ones((3, 4), dtype=np.float32), np.float32(0.5))
