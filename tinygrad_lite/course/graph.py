"""Draw the autograd graph of a tensor: ``draw_graph(loss)``.

The graph is what ``loss.backward()`` walks. A tensor made by an op remembers the op in ``.grad_fn``, and the
op remembers its input tensors in ``.grad_fn.inputs``; following those links from the output reaches every
tensor the output was computed from. We draw that graph from left to right, data flowing the way the forward
pass ran:

    leaf tensors  ->  op  ->  result  ->  op  ->  ...  ->  output

- a tensor is a rectangle labelled with its name (when you give one) and its shape, e.g. ``w (3,)``;
  a constant that holds one number (the 2 in ``x * 2``) shows that number;
- an op is a rounded box with the op's name, e.g. ``Mul`` (PyTorch would print ``MulBackward0``);
- colours: blue for leaves that require grad (their ``.grad`` is what backward fills), grey for inputs that
  do not (data, constants), white for intermediate results, orange for ops; the output has a thick border.

Layout: the output is in the rightmost column, and every other box one column left of the leftmost box that
uses it, so a side branch (a bias, a penalty term) is drawn where it joins. Within a column, boxes are placed
near the boxes they feed; an arrow that crosses several columns runs between their boxes, not behind them.

Only matplotlib is needed. PyTorch users often draw these graphs with the torchviz package, which needs the
Graphviz program installed on the system; we avoid that on purpose, so this runs wherever the course runs.
"""
import numpy as np

from ..autograd.engine import graph_order, input_as_used
from ..tensor import Tensor

_BOX_W, _BOX_H = 0.84, 0.5  # box size in layout units: columns are 1 apart, rows at least 1 apart
_STYLE = {  # facecolor, edgecolor, linestyle, box style
    "param": ("#cfe2f3", "#3d6fa5", "-", "square,pad=0"),
    "input": ("#eeeeee", "#888888", "--", "square,pad=0"),
    "result": ("#ffffff", "#555555", "-", "square,pad=0"),
    "op": ("#fde3bd", "#c47a1a", "-", "round,pad=0,rounding_size=0.12"),
}
_LEGEND = {"param": "leaf, requires grad", "input": "no grad (data, constant)", "result": "result of an op",
           "op": "op (grad_fn)"}


def _role(kind, obj):
    """Which style a node gets: "op", "result" (made by an op), "param" (a leaf that requires grad) or "input"."""
    if kind == "op":
        return "op"
    return "result" if obj.grad_fn is not None else "param" if obj.requires_grad else "input"


def _shape_text(t):
    return "(" + ", ".join(str(n) for n in t.shape) + ("," if t.ndim == 1 else "") + ")"


def _tensor_label(t, names):
    if id(t) in names:
        return f"{names[id(t)]} {_shape_text(t)}"
    if t.grad_fn is None and not t.requires_grad and t.numel() == 1 and t.ndim == 0:
        return f"{t.item():.4g}"  # a constant such as the 2 in x * 2
    return _shape_text(t)


def _name_map(names):
    if names is None:
        return {}
    pairs = names.items() if isinstance(names, dict) else names
    result = {}
    for pair in pairs:
        try:
            name, t = pair
        except (TypeError, ValueError):
            raise TypeError("draw_graph: names must be a dict {name: tensor} or (name, tensor) pairs such as "
                            f"model.named_parameters(); got an item {pair!r}") from None
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: names[{name!r}] must be a tinygrad_lite Tensor, got {type(t).__name__}")
        result[id(t)] = str(name)
    return result


def _layout(tensors):
    """Nodes (tensors and ops), the route of each arrow, and a position (column, y) for each node.

    Columns: the output is rightmost and every other node sits one column left of its leftmost consumer, so a
    side branch (a bias, a penalty term) is drawn next to where it joins. An arrow that spans several columns
    gets a waypoint in each column it crosses; waypoints take part in the vertical placement like small boxes,
    so that the arrow runs between the boxes, not behind them.
    """
    nodes, order = {}, []  # node key -> ("tensor" | "op", object); keys with every node after its inputs
    inputs = {}
    for t in tensors:
        fn = t.grad_fn
        if fn is not None:
            nodes[id(fn)], inputs[id(fn)] = ("op", fn), list(dict.fromkeys(id(input_as_used(p, fn)) for p in fn.inputs))
            order.append(id(fn))  # (x * x uses x twice: one arrow is enough)
            inputs[id(t)] = [id(fn)]
        nodes[id(t)] = ("tensor", t)
        order.append(id(t))
    consumers = {k: [] for k in order}
    for k in order:
        for p in inputs.get(k, ()):
            consumers[p].append(k)
    column = {}
    for k in reversed(order):  # consumers before inputs
        column[k] = min((column[c] for c in consumers[k]), default=1) - 1
    first = min(column.values())
    column = {k: c - first for k, c in column.items()}
    # routes: a long arrow passes through waypoints ("via", from, to, column)
    routes, next_of, size = {}, {k: list(consumers[k]) for k in order}, {k: 1.0 for k in order}
    for b in order:
        for a in inputs.get(b, ()):
            via = [("via", a, b, c) for c in range(column[a] + 1, column[b])]
            routes[(a, b)] = [a, *via, b]
            for v in via:
                column[v], size[v] = v[3], 0.35
            for u, w in zip(routes[(a, b)], routes[(a, b)][1:]):
                next_of.setdefault(u, [])
                if u == a:
                    next_of[a][next_of[a].index(b)] = w
                else:
                    next_of[u] = [w]
    # y positions, column by column from the output back: each item near the mean height of what it feeds,
    # then pushed apart so that neighbours in a column do not overlap
    y, by_column = {}, {}
    for k in order + [k for k in column if k not in nodes]:  # ties keep the order of the inputs
        by_column.setdefault(column[k], []).append(k)
    for col in sorted(by_column, reverse=True):
        keys = by_column[col]
        want = {k: float(np.mean([y[c] for c in next_of[k]])) if next_of.get(k) else 0.0 for k in keys}
        keys.sort(key=lambda k: want[k])  # a stable sort
        placed = []
        for i, k in enumerate(keys):
            low = placed[-1] + (size[keys[i - 1]] + size[k]) / 2 if placed else -np.inf
            placed.append(max(want[k], low))
        shift = float(np.mean([want[k] - p for k, p in zip(keys, placed)]))
        for k, p in zip(keys, placed):
            y[k] = p + shift
    return nodes, routes, {k: (column[k], y[k]) for k in column}


def draw_graph(output, ax=None, names=None, legend=True):
    """Draw the autograd graph that ``output.backward()`` would walk, and return the matplotlib Axes.

    ``output`` is a tinygrad_lite Tensor, usually a loss. ``ax`` is the Axes to draw on (a new figure sized
    to the graph when None). ``names`` labels tensors: a dict ``{"x": x, "w": w}`` or (name, tensor) pairs
    such as ``model.named_parameters()``; other tensors are labelled by their shape. Each tensor and each op
    becomes one box (a ``FancyBboxPatch`` in ``ax.patches``, its label in ``ax.texts``); each arrow (a
    ``FancyArrowPatch``) goes from an op's input to the op, or from an op to its result. Graphs of any depth
    work (the walk is iterative), though beyond a few dozen ops the labels get small.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
    from matplotlib.path import Path
    from matplotlib.transforms import TransformedPatchPath

    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph: expected a tinygrad_lite Tensor (e.g. a loss), got {type(output).__name__}")
    names = _name_map(names)
    nodes, routes, pos = _layout(graph_order(output, everything=True))
    columns = max(c for c, _ in pos.values()) + 1
    ys = [pos[k][1] for k in nodes]
    low, high = min(ys), max(ys)
    if ax is None:
        width = min(1.55 * columns + 0.4, 22.0)
        height = min(0.8 * (high - low + 1) + (0.7 if legend else 0.3), 14.0)
        fig, ax = plt.subplots(figsize=(width, height))
        fig.subplots_adjust(left=0.01, right=0.99, top=0.98, bottom=0.12 if legend else 0.02)
    ax.set_xlim(-0.5, columns - 0.5)
    ax.set_ylim(high + 0.6, low - 0.6)  # the first row at the top
    ax.axis("off")

    labels = {k: type(obj).__name__ if kind == "op" else _tensor_label(obj, names)
              for k, (kind, obj) in nodes.items()}
    # a font size that fits the longest label into a box, given the axes' size on the page
    box = ax.get_window_extent().transformed(ax.figure.dpi_scale_trans.inverted())
    points_per_column = 72 * box.width / columns
    points_per_row = 72 * box.height / (high - low + 1.2)
    longest = max(len(s) for s in labels.values())
    fontsize = float(np.clip(min(9.0, 0.88 * _BOX_W * points_per_column / (0.7 * longest),
                                 0.6 * _BOX_H * points_per_row), 2.0, 9.0))

    clip = TransformedPatchPath(ax.patch)  # one clip path shared by all boxes (matplotlib makes one per artist)
    for key, (kind, obj) in nodes.items():
        face, edge, style, boxstyle = _STYLE[_role(kind, obj)]
        x, y = pos[key]
        ax.add_artist(FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H, boxstyle=boxstyle,
                                    facecolor=face, edgecolor=edge, linestyle=style,
                                    linewidth=2.2 if obj is output else 1.0, zorder=2, clip_path=clip))
        ax.text(x, y, labels[key], ha="center", va="center", fontsize=fontsize, zorder=3, clip_path=clip,
                fontfamily="monospace" if kind == "tensor" else None)
    for route in routes.values():
        (xa, ya), (xb, yb) = pos[route[0]], pos[route[-1]]
        points = [(xa + _BOX_W / 2, ya)]
        for v in route[1:-1]:  # a long arrow runs straight through the columns it crosses
            xv, yv = pos[v]
            points += [(xv - _BOX_W / 2, yv), (xv + _BOX_W / 2, yv)]
        points.append((xb - _BOX_W / 2, yb))
        ax.add_artist(FancyArrowPatch(path=Path(points), arrowstyle="-|>", mutation_scale=max(4.0, fontsize * 1.1),
                                      color="#555555", linewidth=0.9, zorder=1, clip_path=clip))
    if legend:
        roles = {_role(kind, obj) for kind, obj in nodes.values()}
        handles = [Patch(facecolor=_STYLE[r][0], edgecolor=_STYLE[r][1], linestyle=_STYLE[r][2], label=_LEGEND[r])
                   for r in _LEGEND if r in roles]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles),
                  frameon=False, fontsize=8.0, handlelength=1.2)  # (8 pt: the smallest text a figure may have)
    return ax
