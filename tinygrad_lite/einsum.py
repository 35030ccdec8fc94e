r"""``einsum``: Einstein summation, composed of the library's ops (``torch.einsum``).

An equation names each operand's dims with letters; a letter shared by operands pairs their dims, and a letter
missing from the output is summed over. ``einsum("ij,jk->ik", a, b)`` is ``a @ b``: out[i, k] = \sum_j a[i, j] b[j, k].
Without ``->`` the output holds the letters that appear once, in alphabetical order (capitals first). ``...``
stands for the dims not named, broadcast between the operands as in arithmetic.

Built in four steps, each of the library's ops, so the gradient is theirs:
1. a letter repeated within one operand takes its diagonal (``"ii->i"``);
2. a letter that only one operand has and the output lacks is summed there;
3. the operands are contracted two at a time, left to right: the letters both share and the output (or a later
   operand) needs are batch dims, the other shared letters are summed by one matrix product, and the rest stay;
4. the result is summed over what the output lacks and permuted into the output's order.
"""
import builtins
import math

from .functions import _check_tensor

__all__ = ["einsum"]


def _parse(equation, operands):
    """(each operand's letters, the output's letters): ``...`` replaced by letters of its own (digits, which an
    equation cannot hold), the broadcast dims right-aligned."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be a str such as 'ij,jk->ik', not "
                        f"{type(equation).__name__}")
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        more = "more" if len(operands) > len(terms) else "fewer"
        raise RuntimeError(f"einsum(): {more} operands were provided than specified in the equation {equation!r} "
                           f"({len(operands)} operands, {len(terms)} terms)")
    for i, char in enumerate(equation):
        if not (char.isascii() and char.isalpha()) and char not in ",.->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts "
                               "must be in [a-zA-Z]")
    widths = [op.ndim - len(term.replace("...", "")) if "..." in term else 0 for term, op in zip(terms, operands)]
    width = builtins.max(widths, default=0)
    spread = [str(k) for k in range(width)]  # the ellipsis's letters
    letters = []
    for k, (term, op) in enumerate(zip(terms, operands)):
        if "..." in term:
            if widths[k] < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term) - 3}) is more "
                                   f"than the number of dimensions ({op.ndim}) for operand {k}")
            head, _, tail = term.partition("...")
            letters.append(list(head) + spread[width - widths[k]:] + list(tail))
        elif len(term) != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match the "
                               f"number of dimensions ({op.ndim}) for operand {k} and no ellipsis was given")
        else:
            letters.append(list(term))
    if arrow:
        head, dots, tail = output.partition("...")
        out = list(head) + (spread if dots else []) + list(tail)
        for char in out:
            if out.count(char) > 1:
                raise RuntimeError(f"einsum(): output subscript {char} appears more than once in the output")
            if not any(char in term for term in letters):
                raise RuntimeError(f"einsum(): output subscript {char} does not appear in the equation for any input "
                                   "operand")
    else:
        counts = [char for term in letters for char in term]
        out = spread + sorted(c for c in set(counts) if counts.count(c) == 1 and not c.isdigit())
    return letters, out


def _diagonals(op, term):
    """op with each letter repeated in ``term`` replaced by its diagonal (the letter once, as the last dim)."""
    term = list(term)
    for char in list(dict.fromkeys(term)):
        while term.count(char) > 1:
            i = term.index(char)
            j = term.index(char, i + 1)
            op = op.diagonal(0, i, j)
            term = [c for k, c in enumerate(term) if k not in (i, j)] + [char]
    return op, term


def _sum_out(op, term, needed):
    """op summed over the letters of ``term`` not in ``needed``."""
    dims = [k for k, char in enumerate(term) if char not in needed]
    if not dims:
        return op, term
    return op.sum(dims), [char for char in term if char in needed]


def _contract(a, ta, b, tb, keep, sizes):
    """a and b (letters ta, tb) as one tensor: the shared letters in ``keep`` are batch dims, the other shared ones
    are summed by a matrix product; each one's own letters stay. Returns (tensor, letters)."""
    batch = [c for c in ta if c in tb and c in keep]
    summed = [c for c in ta if c in tb and c not in keep]
    left, right = [c for c in ta if c not in tb], [c for c in tb if c not in ta]
    a = a.permute([ta.index(c) for c in batch + left + summed])
    b = b.permute([tb.index(c) for c in batch + summed + right])
    if summed:  # (a summed dim of size 1 in one operand broadcasts against the other's)
        a = a.expand(tuple(a.shape[:len(batch) + len(left)]) + tuple(sizes[c] for c in summed))
        b = b.expand(tuple(b.shape[:len(batch)]) + tuple(sizes[c] for c in summed) + tuple(b.shape[len(batch)
                                                                                                     + len(summed):]))
    n_left, n_right = math.prod(sizes[c] for c in left), math.prod(sizes[c] for c in right)
    n_summed = math.prod(sizes[c] for c in summed)
    out = a.reshape(tuple(a.shape[:len(batch)]) + (n_left, n_summed)) @ \
        b.reshape(tuple(b.shape[:len(batch)]) + (n_summed, n_right))
    out = out.reshape(tuple(out.shape[:len(batch)]) + tuple(sizes[c] for c in left + right))
    return out, batch + left + right


def einsum(*args):
    """``einsum(equation, *operands)`` or ``einsum(equation, [operands])``: see the module's docstring."""
    if not args:
        raise TypeError("einsum(): missing the equation, such as einsum('ij,jk->ik', a, b)")
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for op in operands:
        _check_tensor("einsum", op)
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    letters, out = _parse(equation, operands)
    sizes = {}  # each letter's size; 1 broadcasts against any other
    for k, (term, op) in enumerate(zip(letters, operands)):
        for char, n in zip(term, op.shape):
            if sizes.get(char, 1) != 1 and n != 1 and n != sizes[char]:
                raise RuntimeError(f"einsum(): subscript {char} has size {n} for operand {k} which does not "
                                   f"broadcast with previously seen size {sizes[char]}")
            sizes[char] = n if sizes.get(char, 1) == 1 else sizes[char]
    ops, terms = [], []
    for k, (op, term) in enumerate(zip(operands, letters)):
        op, term = _diagonals(op, term)
        others = {c for j, t in enumerate(letters) if j != k for c in t}
        op, term = _sum_out(op, term, set(out) | others)
        ops.append(op)
        terms.append(term)
    result, term = ops[0], terms[0]
    for k in range(1, len(ops)):
        later = {c for t in terms[k + 1:] for c in t}
        result, term = _sum_out(result, term, set(out) | set(terms[k]) | later)
        other, other_term = _sum_out(ops[k], terms[k], set(out) | set(term) | later)
        result, term = _contract(result, term, other, other_term, set(out) | later, sizes)
    result, term = _sum_out(result, term, set(out))
    result = result.permute([term.index(c) for c in out]) if len(out) > 1 else result
    return result.clone() if result is operands[0] else result  # (a tensor of its own, as PyTorch's)
