"""Stopping a process a test started (a TensorBoard server, a Dask worker): asked first, then made to."""
import subprocess


def stop(process, timeout):
    """``terminate()`` it, wait up to ``timeout`` seconds for it to exit, else ``kill()`` it; either way reap it."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
