"""A notebook's kernel that dies while starting (a TCP port taken by another process between jupyter_client's choice
and the kernel's bind) is started again, and only then: other errors are not retried. The root conftest.py does it
for nbval's kernels, the course's runner (``check``) for its own."""
import asyncio
import importlib.util
from pathlib import Path

import pytest

from tinygrad_lite.course import runner

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
root_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(root_conftest)


def _flaky(failures, message):
    calls = []

    def start(*args, **kwargs):
        calls.append(args)
        if len(calls) <= failures:
            raise RuntimeError(message)
        return "manager", "client"
    return start, calls


def test_a_kernel_that_died_while_starting_is_started_again():
    start, calls = _flaky(2, "Kernel died before replying to kernel_info")
    assert root_conftest._retrying(start)("python") == ("manager", "client") and len(calls) == 3


def test_it_gives_up_after_three_starts_and_other_errors_are_not_retried():
    start, calls = _flaky(3, "Kernel died before replying to kernel_info")
    with pytest.raises(RuntimeError, match="died"):
        root_conftest._retrying(start)()
    assert len(calls) == 3
    start, calls = _flaky(1, "No such kernel named python5")
    with pytest.raises(RuntimeError, match="No such kernel"):
        root_conftest._retrying(start)()
    assert len(calls) == 1


def test_nbvals_kernel_start_is_the_retrying_one():
    nbval_kernel = pytest.importorskip("nbval.kernel")
    assert getattr(nbval_kernel.start_new_kernel, "retrying", False)


class _Client:
    """nbclient's NotebookClient as far as ``runner._start_kernel`` uses it, its kernel dying ``deaths`` times."""

    def __init__(self, deaths, message="Kernel died before replying to kernel_info"):
        self.deaths, self.message, self.starts, self.log, self.km = deaths, message, 0, None, None

    def create_kernel_manager(self):
        return type("Manager", (), {})()

    async def async_start_new_kernel(self, **kwargs):
        self.starts += 1

    async def async_start_new_kernel_client(self):
        if self.starts <= self.deaths:
            self.km = None  # (as nbclient's clean-up leaves it)
            raise RuntimeError(self.message)


def test_the_runners_kernel_is_started_again_when_it_died_while_starting():
    client = _Client(deaths=2)
    asyncio.run(runner._start_kernel(client, env={}))
    assert client.starts == 3 and client.km is not None
    for client, starts in ((_Client(deaths=3), 3), (_Client(deaths=1, message="No such kernel named python3"), 1)):
        with pytest.raises(RuntimeError, match="died|No such kernel"):
            asyncio.run(runner._start_kernel(client, env={}))
        assert client.starts == starts  # (three tries, then the error; another error at once)
