"""How a tensor prints: character for character as PyTorch prints it, ``tensor([[1., 2.], [3., 4.]])``, but for the
name of a ``grad_fn`` (``<MulBackward>``; PyTorch's ``<MulBackward0>``).

The print options are PyTorch's, with its defaults, and ``set_printoptions`` changes them as PyTorch's does. The
numbers are written by Python's ``format``, never by numpy's ``array2string``, so a notebook's
``np.set_printoptions`` cannot change how a tensor prints. The rules, in the order a tensor meets them:

1. A tensor of more than THRESHOLD numbers is *summarized*: along every dimension longer than 2 * EDGEITEMS only
   the first and last EDGEITEMS entries are shown, with ``...`` between them. Only the shown numbers are
   formatted (a GPU tensor is copied to the host whole first).
2. One format serves all shown numbers (``_Numbers``), each padded on the left to the widest: see there.
3. The rows of a 1-D tensor wrap to fit LINEWIDTH; blocks of an n-D tensor are separated by n - 1 line breaks
   and indented one column per dimension under ``tensor(``.
4. Then come the facts not seen in the numbers: the device when not the CPU, the size of an empty tensor that is
   not 1-D, the dtype when not guessable (``_facts``), the grad_fn or requires_grad; ``_close`` wraps them.
"""
import math

import numpy as np

from . import dtypes as dt
from .device import move

PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = 4, 1000, 3, 80  # torch.set_printoptions' defaults
SCI_MODE = None  # None: scientific notation when the numbers call for it (_Numbers); True or False: always, never
PREFIX = "tensor("
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print from now on, as ``torch.set_printoptions``: ``precision`` (decimals), ``threshold`` (more
    numbers than this are summarized with ``...``), ``edgeitems`` (shown at each end when summarized), ``linewidth``,
    ``profile`` ("default", "short" or "full": all four at once, then the others given override them) and
    ``sci_mode`` (True, False, or None to choose from the numbers; like PyTorch's, every call sets it)."""
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH, SCI_MODE
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): profile must be one of {', '.join(map(repr, _PROFILES))}, got "
                             f"{profile!r}")
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = _PROFILES[profile]
    PRECISION = PRECISION if precision is None else precision
    THRESHOLD = THRESHOLD if threshold is None else threshold
    EDGEITEMS = EDGEITEMS if edgeitems is None else edgeitems
    LINEWIDTH = LINEWIDTH if linewidth is None else linewidth
    SCI_MODE = sci_mode


class _Numbers:
    """The format of a tensor's numbers, chosen from the shown ones.

    Integers and bools print as Python does (``7``, ``True``). Floats have one of three forms, chosen from the
    nonzero finite numbers only (zeros, nan and inf print as they come: ``0.``, ``nan``, ``-inf``):

    - *whole* when they all are whole: ``2.``, ``-30.`` (a dot tells a float from an int);
    - *scientific* when the largest is over 1e8, the smallest under 1e-4, or the largest over 1000 times the
      smallest: ``1.0000e-05`` (this wins over *whole*: ``1.0000e+09``); ``set_printoptions(sci_mode=...)``
      makes it always or never;
    - otherwise *fixed*, PRECISION decimals: ``0.5000``.

    The width is that of the widest nonzero finite number (at least 1), so that a wider zero (``-0.0000``) or nan
    is not padded, and the numbers beside it are not padded for it either.
    """

    def __init__(self, shown):
        values = shown.ravel().tolist()
        self.floating, self.whole, self.scientific = shown.dtype.kind == "f", True, False
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in values])
            return
        chosen_by = [v for v in values if v != 0 and math.isfinite(v)]
        self.width = 1
        if chosen_by:
            big, small = max(map(abs, chosen_by)), min(map(abs, chosen_by))
            self.whole = all(v.is_integer() for v in chosen_by)
            self.scientific = (big / small > 1000 or big > 1e8 or small < 1e-4) if SCI_MODE is None else SCI_MODE
            self.width = max(len(self.bare(v)) for v in chosen_by)

    def bare(self, v):
        """One number in this format, unpadded."""
        if not self.floating:
            return str(v)
        if self.scientific:
            return f"{v:.{PRECISION}e}"
        if self.whole:
            return f"{v:.0f}" + ("." if math.isfinite(v) else "")
        return f"{v:.{PRECISION}f}"

    def __call__(self, v):
        return self.bare(v).rjust(self.width)


def _halves(arr, summarize):
    """The entries of ``arr``'s first dimension that are shown: all, or (summarized, when longer than
    2 * EDGEITEMS) the first and the last EDGEITEMS, between which ``...`` is printed."""
    if summarize and len(arr) > 2 * EDGEITEMS:
        return [arr[:EDGEITEMS], arr[-EDGEITEMS:]]
    return [arr]


def _shown(arr, summarize):
    """The numbers printed (rule 1), from which ``_Numbers`` chooses the format: never more than a few thousand."""
    for axis, n in enumerate(arr.shape):
        if summarize and n > 2 * EDGEITEMS:
            arr = np.take(arr, [*range(EDGEITEMS), *range(n - EDGEITEMS, n)], axis=axis)
    return arr


def _block(arr, number, indent, summarize):
    """``arr`` laid out from column ``indent`` on (rule 3). A row of a 1-D tensor holds as many numbers as fit in
    LINEWIDTH - indent, counting 2 more columns per number (for ", "); ``...`` counts as a number there and
    reads ``,  ...,``. In n-D, ``...`` stands on a line of its own, in place of the hidden blocks."""
    if arr.ndim == 0:
        return number(arr.item())
    halves = _halves(arr, summarize)
    if arr.ndim == 1:
        parts = [[number(v) for v in half.tolist()] for half in halves]
        items = parts[0] + [" ..."] + parts[1] if len(parts) == 2 else parts[0]
        per_line = max(1, (LINEWIDTH - indent) // (number.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = [[_block(sub, number, indent + 1, summarize) for sub in half] for half in halves]
    blocks = parts[0] + ["..."] + parts[1] if len(parts) == 2 else parts[0]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(blocks) + "]"


def _facts(t, arr):
    """What the numbers do not show (rule 4). The dtype is shown unless it is the default float type, int64 or bool
    (those a reader guesses from the numbers); an empty tensor has no numbers to guess from, so it shows every
    dtype but the default float type, and its size unless it is 1-D: ``tensor([], size=(0, 3))``."""
    facts = [f"device='{t.device}'"] if t.device.type != "cpu" else []
    if arr.size == 0:
        facts += [f"size={tuple(arr.shape)}"] if arr.ndim != 1 else []
        show_dtype = t.dtype is not dt.get_default_dtype()
    else:
        show_dtype = t.dtype not in (dt.get_default_dtype(), dt.int64, dt.bool)
    facts += [f"dtype={t.dtype}"] if show_dtype else []
    if t.grad_fn is not None:
        facts.append(f"grad_fn={t.grad_fn!r}")
    elif t.requires_grad:
        facts.append("requires_grad=True")
    return facts


def _close(text, facts):
    """Append each fact after ", ", or on a new line indented under the numbers when the line would pass
    LINEWIDTH. PyTorch counts the last line of numbers as 2 columns longer than it is (so wraps a little early),
    and a fact's own line as it is; both counts are kept, to wrap where PyTorch does. A dtype is measured as
    PyTorch spells it (``torch.float64``, 8 letters shorter), so that the lines break where PyTorch's do."""
    used = len(text) - text.rfind("\n") + 1
    for fact in facts:
        size = len(fact.replace("tinygrad_lite.", "torch."))
        if used + size + 2 > LINEWIDTH:
            text += ",\n" + " " * len(PREFIX) + fact
            used = len(PREFIX) + size
        else:
            text += ", " + fact
            used += size + 2
    return text + ")"


def tensor_repr(t):
    """``repr(t)`` and ``str(t)``: the numbers laid out as PyTorch lays them out, then the facts worth showing."""
    arr = move(t.array, "cpu")
    summarize = arr.size > THRESHOLD
    body = "[]" if arr.size == 0 else _block(arr, _Numbers(_shown(arr, summarize)), len(PREFIX), summarize)
    return _close(PREFIX + body, _facts(t, arr))
