"""Read the API of the installed CuPy, as the stand-in GPU keeps it (tinygrad_lite/course/cupy_api.json).

The stand-in (``_stand_in_gpu.py``) offers only what this file lists, so that a "cuda" path which calls a function
CuPy lacks, or passes a keyword CuPy's function does not take, fails on a CPU as it would on a GPU. The file is
written from a real CuPy, which installs and imports on a machine without a GPU (only running kernels needs one):

    pip install -c constraints.txt "cupy-cuda12x"       # the tested version
    python tests/cupy_api.py                             # rewrites cupy_api.json from it

tests/test_cupy_contract.py holds the stored file, and the stand-in, to the installed CuPy.
"""
import inspect
import json
import re
import sys
from pathlib import Path

API_FILE = Path(__file__).resolve().parents[1] / "tinygrad_lite" / "course" / "cupy_api.json"

# the modules whose functions numpy's functions dispatch to (numpy.linalg.norm -> cupy.linalg.norm), the device
# queries (cupy.cuda), and cupyx's erf
MODULES = ("cupy", "cupy.linalg", "cupy.fft", "cupy.cuda", "cupy.cuda.runtime", "cupyx.scipy.special")
UFUNC_METHODS = ("reduce", "accumulate", "reduceat", "outer", "at")


def keywords(function):
    """The names a function takes (its keywords), or "any" when it takes ``**kwargs`` or its signature is unknown.

    CuPy's Cython methods have no signature object, but the first line of their docstring is one:
    ``_ndarray_base.sum(self, axis=None, dtype=None, out=None, keepdims=False) -> _ndarray_base``."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        first = ((getattr(function, "__doc__", None) or "").strip().splitlines() or [""])[0]
        found = re.match(r"[\w.]+\((.*)\)", first)
        if not found:
            return "any"
        names = [p.strip().split("=")[0].strip() for p in found.group(1).split(",") if p.strip()]
        if any(name.startswith("**") for name in names):
            return "any"
        return [name.lstrip("*") for name in names if name not in ("self", "*", "/") and not name.startswith("*")]
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return "any"
    return [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY)]


def describe(obj, ufunc_type):
    if isinstance(obj, ufunc_type):
        return "ufunc"
    if inspect.ismodule(obj):
        return "module"
    if callable(obj) and not isinstance(obj, type):
        return keywords(obj)
    return "value"


def read_api():
    """{"cupy_version", "modules": {module: {name: description}}, "ndarray": {...}, "ufunc_methods": [...]}"""
    import importlib

    import cupy
    modules = {}
    for name in MODULES:
        module = importlib.import_module(name)
        modules[name] = {attr: describe(getattr(module, attr), cupy.ufunc)
                         for attr in sorted(dir(module)) if not attr.startswith("_")}
    ndarray = {}
    for attr in sorted(dir(cupy.ndarray)):
        if attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__")):
            continue
        if not any(attr in vars(cls) for cls in cupy.ndarray.__mro__ if cls is not object):
            continue  # (object's own: every class has them)
        member = inspect.getattr_static(cupy.ndarray, attr)
        is_method = inspect.ismethoddescriptor(member) or inspect.isfunction(member)
        ndarray[attr] = keywords(getattr(cupy.ndarray, attr)) if is_method and not attr.startswith("__") else \
            "method" if is_method else "value"
    return {"cupy_version": cupy.__version__, "written_by": "python tests/cupy_api.py", "modules": modules,
            "ndarray": ndarray, "ufunc_methods": [m for m in UFUNC_METHODS if hasattr(cupy.add, m)]}


if __name__ == "__main__":
    api = read_api()
    API_FILE.write_text(json.dumps(api, indent=1, sort_keys=True) + "\n")
    print(f"wrote {API_FILE} from CuPy {api['cupy_version']}: {sum(map(len, api['modules'].values()))} names in "
          f"{len(api['modules'])} modules, {len(api['ndarray'])} of ndarray", file=sys.stderr)
