"""Process-wide switches that "seed everything" snippets set at the top of a script, with PyTorch's names.

- ``use_deterministic_algorithms(True)``: PyTorch then picks deterministic kernels, or raises for an op that has
  none. Our CPU ops are deterministic already (numpy: the same bits on every run), so on the CPU the flag is
  stored and changes nothing. On a GPU (CuPy) a few backward passes add into one array with atomic operations
  (``add.at``: indexing with an index tensor, embeddings included, ``gather``, and ``bincount`` with weights),
  whose order, and so whose last bits, can vary between runs where an index repeats; the flag does not change
  that, and says so with a warning when a GPU is present.
- ``set_float32_matmul_precision("high")``: lets PyTorch multiply float32 matrices with TensorFloat32 on a GPU
  that has it. It changes nothing on PyTorch's CPU, nor here on either device: float32 products are computed in
  float32 (as with "highest"). The value is checked and stored as PyTorch does.
- ``set_num_threads(n)``: numpy's matrix products run on its BLAS library's threads (every other op runs on one
  thread). Python can limit those threads in a running process only through the ``threadpoolctl`` package; when
  it is installed we use it. Without it (it is not a dependency) ``set_num_threads`` changes nothing and warns,
  saying how to get the effect: install threadpoolctl, or set ``OMP_NUM_THREADS`` before numpy is imported.
"""
import os
import warnings

from . import cuda

_deterministic = {"mode": False, "warn_only": False}
_matmul_precision = ["highest"]
PRECISIONS = ("highest", "high", "medium")
_ATOMIC_OPS = ("the backward of indexing with an index tensor (embeddings included) and of gather, and bincount "
               "with weights")


def _check_bool(op, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be bool, not {type(value).__name__}")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms (``torch.use_deterministic_algorithms``): stored, for
    ``are_deterministic_algorithms_enabled()``. Our CPU ops are deterministic anyway; on a GPU, see the module
    docstring (a warning names the ops whose last bits can vary)."""
    _check_bool("use_deterministic_algorithms", "mode", mode)
    _check_bool("use_deterministic_algorithms", "warn_only", warn_only)
    _deterministic.update(mode=mode, warn_only=warn_only)
    if mode and cuda.is_available():
        warnings.warn(f"use_deterministic_algorithms(True): on 'cuda', {_ATOMIC_OPS} add with CuPy's atomic add.at, "
                      "whose last bits can vary between runs where an index repeats; tinygrad_lite has no "
                      "deterministic version of them (PyTorch would use one, or raise). On the CPU every op is "
                      "deterministic.", stacklevel=2)


def are_deterministic_algorithms_enabled():
    """What ``use_deterministic_algorithms`` was last given (False at first)."""
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    """The ``warn_only`` that ``use_deterministic_algorithms`` was last given (False at first)."""
    return _deterministic["warn_only"]


def set_float32_matmul_precision(precision):
    """Store "highest", "high" or "medium" (``torch.set_float32_matmul_precision``). It changes nothing here, as on
    PyTorch's CPU: float32 products are computed in float32 on both devices. Another string warns and is ignored,
    as in PyTorch."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", stacklevel=2)
        return
    _matmul_precision[0] = precision


def get_float32_matmul_precision():
    """What ``set_float32_matmul_precision`` stored: "highest" at first."""
    return _matmul_precision[0]


def _check_threads(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if not 1 <= n < 2**31:
        raise RuntimeError(f"set_num_threads expects a positive integer (below 2**31), got {n}")


def _threadpoolctl():
    try:
        import threadpoolctl  # optional: the one way to limit a running process's BLAS threads
    except ImportError:
        return None
    return threadpoolctl


def set_num_threads(n):
    """Limit numpy's matrix products to ``n`` threads (``torch.set_num_threads``), through ``threadpoolctl`` when it
    is installed. Without it this changes nothing and warns, saying how to get the effect (module docstring)."""
    _check_threads(n)
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is None:
        warnings.warn(f"set_num_threads({n}) changed nothing: numpy's matrix products run on its BLAS library's "
                      "threads, which a running process can limit only through the threadpoolctl package (pip "
                      f"install threadpoolctl: tinygrad_lite then uses it), or before numpy is imported: "
                      f"os.environ['OMP_NUM_THREADS'] = '{n}' at the top of the script (OMP_NUM_THREADS={n} in the "
                      "shell). Every other op runs on one thread already.", stacklevel=2)
        return
    threadpoolctl.threadpool_limits(limits=n, user_api="blas")


def get_num_threads():
    """How many threads numpy's matrix products may use (``torch.get_num_threads``): what ``threadpoolctl`` reports
    for numpy's BLAS when it is installed (1 for a numpy without one). Without threadpoolctl an estimate: the
    thread variable set before the start (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS), else the
    number of CPUs this process may run on, which is what OpenBLAS starts with."""
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is not None:
        blas = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
        return max(blas, default=1)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(variable, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
