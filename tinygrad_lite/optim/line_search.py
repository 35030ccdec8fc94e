r"""The strong Wolfe line search (Nocedal and Wright, Numerical Optimization, algorithms 3.5 and 3.6), which
``LBFGS(line_search_fn="strong_wolfe")`` uses to choose how far to go along a direction d.

Along d, the loss is a function of one number, phi(t) = f(x + t d), with slope phi'(t) = g(x + t d) . d. A step t
is accepted when it satisfies both Wolfe conditions:

    sufficient decrease:  phi(t) <= phi(0) + c1 t phi'(0)       (the loss fell at least a little, c1 = 1e-4)
    curvature (strong):   |phi'(t)| <= c2 |phi'(0)|             (the slope flattened, c2 = 0.9)

The search first moves t forward until an interval [lo, hi] must contain such a step (the loss rose, or the slope
turned non-negative: "bracketing"), then shrinks the interval ("zoom"), each new trial at the minimum of the cubic
that fits phi and phi' at the interval's ends, kept away from the ends so that the interval keeps shrinking.
PyTorch's ``_strong_wolfe`` is this algorithm; the order of the arithmetic here is its, so that the steps agree.
"""


def cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """Where the cubic through (x1, f1) with slope g1 and (x2, f2) with slope g2 has its minimum, clamped to
    ``bounds`` (the interval between x1 and x2 when None); the bounds' middle when the cubic has no minimum."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = d2_square.sqrt()
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


class _Point:
    """One trial of the search: the step t, the loss there, the gradient there and its slope along d."""

    def __init__(self, t, loss, grad, slope):
        self.t, self.loss, self.grad, self.slope = t, loss, grad, slope


def strong_wolfe(evaluate, x, t, d, loss, grad, slope, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step along ``d`` from the parameters ``x`` that satisfies the strong Wolfe conditions, starting the search
    at ``t``. ``evaluate(x, t, d)`` returns (loss, flat gradient) at x + t d; ``loss``, ``grad`` and ``slope`` are
    their values at t = 0. Returns (loss, gradient, t, evaluations)."""
    d_norm = d.abs().max()
    start = _Point(0, loss, grad.clone(), slope)
    new_loss, new_grad = evaluate(x, t, d)
    evaluations, trials = 1, 0
    before, bracket, done = start, None, False
    new = _Point(t, new_loss, new_grad, new_grad.dot(d))
    while trials < max_ls:  # bracketing: move forward until an acceptable step must lie between two trials
        if new.loss > (loss + c1 * new.t * slope) or (trials > 1 and new.loss >= before.loss):
            bracket = [before, _Point(new.t, new.loss, new.grad.clone(), new.slope)]
            break
        if abs(new.slope) <= -c2 * slope:
            bracket, done = [new], True
            break
        if new.slope >= 0:
            bracket = [before, _Point(new.t, new.loss, new.grad.clone(), new.slope)]
            break
        t = cubic_minimum(before.t, before.loss, before.slope, new.t, new.loss, new.slope,
                          bounds=(new.t + 0.01 * (new.t - before.t), new.t * 10))
        before = _Point(new.t, new.loss, new.grad.clone(), new.slope)
        new_loss, new_grad = evaluate(x, t, d)
        evaluations += 1
        new = _Point(t, new_loss, new_grad, new_grad.dot(d))
        trials += 1
    if trials == max_ls:
        bracket = [start, new]
    low, high = (0, 1) if bracket[0].loss <= bracket[-1].loss else (1, 0)
    stuck = False  # (the last trial landed near an end of the interval)
    while not done and trials < max_ls:  # zoom: shrink the interval around an acceptable step
        if abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change:
            break
        t = cubic_minimum(bracket[0].t, bracket[0].loss, bracket[0].slope, bracket[1].t, bracket[1].loss,
                          bracket[1].slope)
        top, bottom = max(bracket[0].t, bracket[1].t), min(bracket[0].t, bracket[1].t)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:  # too near an end: step back inside, unless the last one was fine
            if stuck or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                stuck = False
            else:
                stuck = True
        else:
            stuck = False
        new_loss, new_grad = evaluate(x, t, d)
        evaluations += 1
        trials += 1
        new = _Point(t, new_loss, new_grad.clone(), new_grad.dot(d))
        if new.loss > (loss + c1 * t * slope) or new.loss >= bracket[low].loss:
            bracket[high] = new  # not low enough: it becomes the high end
            low, high = (0, 1) if bracket[0].loss <= bracket[1].loss else (1, 0)
        else:
            if abs(new.slope) <= -c2 * slope:
                done = True
            elif new.slope * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]  # the slope points back past the low end: the old low is the new high
            bracket[low] = new
    best = bracket[low]
    return best.loss, best.grad, best.t, evaluations
