"""``tinygrad_lite.cuda``: is a GPU usable? Mirrors the small part of ``torch.cuda`` that scripts check."""


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001  (not installed, no driver, no device: CuPy raises several kinds of error)
        return False


def device_count():
    if not is_available():
        return 0
    import cupy
    return cupy.cuda.runtime.getDeviceCount()


def manual_seed(seed):
    """Seed GPU random numbers. Ours are drawn on the CPU and copied, so this seeds the one global generator."""
    from .random import manual_seed as _seed
    _seed(seed)


def manual_seed_all(seed):
    manual_seed(seed)


def synchronize():
    """Wait for queued GPU work to finish (for honest timings)."""
    if is_available():
        import cupy
        cupy.cuda.Device().synchronize()
