"""The root conftest.py starts a notebook's kernel again when it dies while starting (a TCP port taken by another
process between jupyter_client's choice and the kernel's bind), and only then: other errors are not retried."""
import importlib.util
from pathlib import Path

import pytest

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
