"""A process a test starts (a TensorBoard server, a Dask worker, JupyterLab): a free port for it to listen on,
and stopping it, asked first, then made to."""
import socket
import subprocess


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process, timeout):
    """``terminate()`` it, wait up to ``timeout`` seconds for it to exit, else ``kill()`` it; either way reap it."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
