r"""Gradient statistics per parameter: the first thing to look at when training misbehaves.

For each parameter's gradient g (n elements) we report

    norm = \|g\|_2,   mean = \frac{1}{n} \sum_i g_i,   max|g| = \max_i |g_i|,   zeros = \frac{\#\{i: g_i = 0\}}{n}

Vanishing gradients show as norms many orders of magnitude smaller in the first layers than in the last;
exploding ones as huge or non-finite norms; dead ReLUs as a large fraction of zeros. This helper is ours:
PyTorch has no equivalent (people write this loop by hand).
"""
import numpy as np

from ...tensor import Tensor

TINY, HUGE = 1e-7, 1e3  # rough thresholds for the "look here" flags; what is normal depends on the model


class GradStats(list):
    """A list of rows (dicts with name, shape, norm, mean, max_abs, zero_fraction, flag) that prints as a table."""

    def __str__(self):
        if not self:
            return "no gradients yet: call loss.backward() first"
        width = max(len("parameter"), *(len(r["name"]) for r in self))
        lines = [f"{'parameter':<{width}}  {'shape':<14}{'norm':>11}{'mean':>12}{'max|g|':>11}{'zeros':>8}  flag"]
        for r in self:
            lines.append(f"{r['name']:<{width}}  {str(r['shape']):<14}{r['norm']:>11.3e}{r['mean']:>12.3e}"
                         f"{r['max_abs']:>11.3e}{r['zero_fraction']:>8.1%}  {r['flag']}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # how IPython shows it
        printer.text(str(self))


def _flag(norm, zero_fraction):
    if not np.isfinite(norm):
        return "nan/inf!"
    if norm > HUGE:
        return "huge: exploding?"
    if norm < TINY:
        return "tiny: vanishing?"
    if zero_fraction > 0.5:
        return "mostly zeros: dead units?"
    return ""


def grad_stats(parameters):
    """Gradient statistics of a Module (``model``), of ``model.named_parameters()``, or of a list of tensors."""
    if hasattr(parameters, "named_parameters"):
        parameters = parameters.named_parameters()
    elif isinstance(parameters, Tensor):
        parameters = [parameters]
    rows = GradStats()
    for i, item in enumerate(parameters):
        name, p = item if isinstance(item, tuple) else (str(i), item)
        if p.grad is None:
            continue
        g = p.grad.array.astype(np.float64)
        norm = float(np.sqrt((g * g).sum()))
        zeros = float((g == 0).mean()) if g.size else 0.0
        rows.append({"name": name, "shape": tuple(g.shape), "norm": norm, "mean": float(g.mean()) if g.size else 0.0,
                     "max_abs": float(np.abs(g).max()) if g.size else 0.0, "zero_fraction": zeros,
                     "flag": _flag(norm, zeros)})
    return rows
