"""Anomaly detection (``torch.autograd.detect_anomaly``): not covered here, and said so.

PyTorch's anomaly mode checks the gradients every backward function returns and raises at the first nan, naming
the op and the line of the forward pass that made it. Doing that here would mean a check inside the engine's loop
(``engine.run_backward``) for every op, which the engine does not have. So turning it on raises an error that says
how to find a nan gradient without it; turning it off (``set_detect_anomaly(False)``, a common line in scripts that
want speed) is accepted, since it is off.
"""

NOT_COVERED = (
    "anomaly detection (a check of every op's gradient for nan during backward) is not covered by tinygrad_lite. To "
    "find where a nan gradient comes from: register a hook on the tensors you suspect, "
    "t.register_hook(lambda g: print(torch.isnan(g).any())), or check the parameters after backward: "
    "[name for name, p in model.named_parameters() if p.grad is not None and torch.isnan(p.grad).any()]")


def _check_flag(op, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be bool, not {type(value).__name__}")


class detect_anomaly:
    """``with torch.autograd.detect_anomaly():``: refused, with how to find a nan gradient (``NOT_COVERED``)."""

    def __init__(self, check_nan=True):
        _check_flag("detect_anomaly", "check_nan", check_nan)
        raise RuntimeError(f"detect_anomaly(): {NOT_COVERED}")


class set_detect_anomaly:
    """``set_detect_anomaly(False)`` (a call, or ``with``) is accepted: anomaly detection is off here, always.
    ``set_detect_anomaly(True)`` raises, with how to find a nan gradient without it (``NOT_COVERED``)."""

    def __init__(self, mode, check_nan=True):
        _check_flag("set_detect_anomaly", "mode", mode)
        _check_flag("set_detect_anomaly", "check_nan", check_nan)
        if mode:
            raise RuntimeError(f"set_detect_anomaly(True): {NOT_COVERED}")

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def is_anomaly_enabled():
    """Whether anomaly detection is on (``torch.is_anomaly_enabled``): never, here."""
    return False
