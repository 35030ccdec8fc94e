r"""Gradients of gradients: ``backward(create_graph=True)`` and ``autograd.grad(..., create_graph=True)``.

The ops' ``backward`` methods (``ops/``) work on arrays: fast, and short to read. But an array remembers nothing, so
a gradient computed from arrays cannot be differentiated again. Some methods need exactly that:
- a gradient penalty (WGAN-GP): the loss contains ||dD/dx||, so training needs d/dw of a gradient;
- meta-learning (MAML): the inner step w' = w - lr dL/dw is itself differentiated with respect to w;
- physics-informed networks: a PDE's residual contains du/dx and d^2u/dx^2 of the network's output u;
- Hessian-vector products: H v = d/dw (dL/dw . v).

With ``create_graph=True`` the engine (``engine.py``) runs the same chain rule, but carries the gradients as Tensors
and computes each op's local step with Tensor ops, which are recorded in the graph like any other. So the gradients
it returns have a ``grad_fn`` and can be differentiated again (any number of times). The local step of each op is
written here a second time, in Tensor ops, beside the name of the op: the same formula as its ``backward`` (whose
docstring states the math), from the op's inputs and output as Tensors of the graph. Where the array version uses
an intermediate that forward kept (a batch norm's statistics, cross-entropy's log-probabilities) this one computes
it again from the inputs, so that its dependence on them is recorded too (PyTorch's double backward does the same).
A 0/1 mask, an argmax or a rounding is a constant here, exactly as its derivative is 0.

A custom ``Function`` written PyTorch's way gets its ``backward`` run on Tensors with the graph recorded (as
PyTorch does), with ``ctx.saved_tensors`` giving back the inputs and outputs themselves; one marked
``@once_differentiable`` gives gradients that refuse to be differentiated again. An op with no formula here (a
custom Function written with arrays, a module's backward hook) raises, naming it.
"""
import math

import numpy as np

from ..device import array_module_of
from ..functions import cat, stack
from ..gamma_numbers import standard_gamma_grad_numbers
from ..kernels.cross_entropy import CrossEntropyCuda
from ..kernels.dropout import DropoutCuda
from ..ops import (
    activation,
    elementwise,
    factorisations,
    gather,
    matmul,
    movement,
    norm,
    reduce,
    rounding,
    scan,
    special,
)
from ..ops.batch_norm import BatchNorm
from ..ops.cross_entropy import CrossEntropy
from ..ops.gather import coordinates
from ..ops.layer_norm import LayerNorm
from ..ops.mse_loss import MseLoss
from ..special import erf, polygamma
from ..special import lgamma as log_gamma
from ..tensor import Tensor, where
from ..triangular import solve_triangular
from ..utils.hooks import BackwardHookFunction
from . import grad_mode
from .engine import unbroadcast
from .function import Function
from .inplace import input_as_used

FORMULAS = {}  # op class -> its local step in Tensor ops: formula(fn, g, out) -> one gradient (or None) per input


def formula(*op_classes):
    """Register the decorated function as the Tensor formula of ``op_classes`` (and of their subclasses: a GPU op
    such as ``ReLUCuda`` computes the same function as ``ReLU``)."""
    def register(function):
        FORMULAS.update(dict.fromkeys(op_classes, function))
        return function
    return register


def formula_of(fn):
    for cls in type(fn).__mro__:
        if cls in FORMULAS:
            return FORMULAS[cls]
    raise NotImplementedError(
        f"{fn.name()}: gradients of gradients (create_graph=True) are not covered for this op: it has no Tensor "
        "formula (autograd/higher_order.py). A custom Function written with arrays has none; write it PyTorch's "
        "way (staticmethods taking ctx and Tensors), or compute the gradient without create_graph=True")


def input_grads(fn, out, g):
    """One gradient (a Tensor of the graph, or None) per input of ``fn``, given ``g`` = dL/d``out`` as a Tensor, each
    fitted to its input's shape and dtype. Replaces ``fn.input_grads`` when the graph of the backward is recorded."""
    _ = fn.saved_tensors  # (refuses a graph already freed, or a saved value changed in place since, as backward does)
    with grad_mode.enable_grad(), np.errstate(divide="ignore", invalid="ignore"):  # (the array steps are quiet too)
        if fn.torch_style:
            grads = custom_function_grads(fn, out, g)
        else:
            grads = formula_of(fn)(fn, g, out)
            grads = fn._one_per_input(tuple(grads) if isinstance(grads, (tuple, list)) else (grads,), len(fn.inputs))
        grads = [None if gx is None else fitted(fn, i, gx, input_as_used(x, fn))
                 for i, (x, gx) in enumerate(zip(fn.inputs, grads))]
        if isinstance(fn, READ_FOR_A_MASK) or getattr(fn, "read_for_a_mask", False):
            grads = [reads(gx, *inputs_of(fn), out) for gx in grads]
        return tuple(grads)


def reads(grad, *tensors):
    """``grad``, recorded as a function of ``tensors`` too (those that require grad), with derivative 0 in them."""
    read = [t for t in tensors if isinstance(t, Tensor) and t.requires_grad]
    if grad is None or not read:
        return grad
    return ReadsWithoutDerivative.apply(grad, *read)


class ReadsWithoutDerivative(Function):
    r"""z = g, as a function of g and of the tensors ``read``, whose derivative in them is 0.

    Where PyTorch's backward formula reads an op's input or output only for a mask or a sign (relu's, abs's,
    hardtanh's, nll_loss's...), its gradient still counts as a function of that tensor: differentiating it with
    respect to that tensor gives zeros rather than an error ("does not require grad", "was not used"); a ReLU
    network's d^2u/dx^2 is 0, not a failure. A formula here that uses such a mask as a constant is followed by this
    op, so that the gradient is linked to the op's inputs in the same way."""
    def forward(self, g, *read):
        self.like = [(r.shape, r.dtype) for r in read]
        return g.copy()

    def backward(self, grad):
        xp = array_module_of(grad)
        return (grad, *(xp.zeros(shape, dtype) for shape, dtype in self.like))


def as_tensors(grads):
    """The roots' gradients as Tensors: an array (the ones of ``loss.backward()``) becomes a constant."""
    return [g if isinstance(g, Tensor) else Tensor._make(g, None) for g in grads]


def fitted(fn, i, grad, x):
    """``engine.fit_gradient`` for a Tensor: ``grad`` summed down to x's shape (the backward of broadcasting: the
    engine's ``unbroadcast``, whose sum and reshape are Tensor ops here), in x's dtype; a shape that broadcasting
    does not explain is an error."""
    grad = grad if isinstance(grad, Tensor) else constant(grad, x)
    shape = tuple(x.shape)
    if tuple(grad.shape) != shape:
        lead = grad.ndim - len(shape)
        if lead < 0 or any(n != 1 and n != grad.shape[lead + k] for k, n in enumerate(shape)):
            raise RuntimeError(f"function {fn.name()} returned an invalid gradient at index {i} - got "
                               f"{list(grad.shape)} but expected shape compatible with {list(shape)}")
        grad = unbroadcast(grad, shape)
    return grad if grad.dtype is x.dtype else grad.to(x.dtype)


def accumulate(t, g, held):
    """Add ``g`` into ``t.grad`` out of place, so that ``.grad`` keeps its graph: the first gradient is ``g`` itself
    (a copy, if someone else holds it), the next ones are added with ``+``, as PyTorch's AccumulateGrad does when
    the graph is recorded."""
    with grad_mode.enable_grad():
        t._grad = (g.clone() if id(g) in held else g) if t._grad is None else t._grad + g


def constant(array, like):
    """``array`` (or a number) as a Tensor outside the graph, on ``like``'s device: a mask, counts, target weights."""
    xp = array_module_of(like.array)
    return Tensor._make(xp.asarray(array, dtype=getattr(array, "dtype", like.array.dtype)), None)


def pick(mask, a, b):
    """``where`` with an array as the condition (a mask computed from the forward's numbers: a constant)."""
    return where(Tensor._make(mask, None), a, b)


def inputs_of(fn):
    return [input_as_used(x, fn) for x in fn.inputs]


def saved_of(fn, out):
    """What ``fn`` saved for backward, with each input's and the output's array replaced by that Tensor of the graph,
    and any other array (an index, a mask, a constant's numbers) as a constant Tensor; None and numbers as they are."""
    tensors = {id(x.array): x for x in inputs_of(fn)}
    tensors[id(out.array)] = out

    def in_the_graph(value):
        if id(value) in tensors:
            return tensors[id(value)]
        return constant(value, out) if hasattr(value, "shape") else value
    return [in_the_graph(value) for value in fn._saved]


# ---------------------------------------------------------------- elementwise (ops/elementwise.py)
@formula(elementwise.Add, elementwise.Clone, movement.Expand)  # (Expand: the fitting above sums the copies)
def passes_through(fn, g, out):
    return (g,) * len(fn.inputs)


@formula(elementwise.Sub)
def sub(fn, g, out):
    return g, -g


@formula(elementwise.Rsub, elementwise.Neg)
def negated(fn, g, out):
    return 0 - g


@formula(elementwise.Mul)
def mul(fn, g, out):
    x, y = saved_of(fn, out)
    return (None if y is None else g * y), (None if x is None else g * x)


@formula(elementwise.Div)
def div(fn, g, out):
    x, y = saved_of(fn, out)
    need_x, need_y = fn.needs_input_grad
    return (g / y if need_x else None), (-g * x / (y * y) if need_y else None)


@formula(elementwise.Reciprocal)
def reciprocal(fn, g, out):
    return g * -(out * out)


@formula(elementwise.Pow)
def power(fn, g, out):
    x, y, z = saved_of(fn, out)
    gx = gy = None  # (a number as the base or the exponent was saved as a 0-d array: here a constant)
    if fn.needs_input_grad[0]:  # y x^{y-1}, taken as 0 where y = 0 (where x^{y-1} is not formed)
        zero = y.array == 0
        gx = pick(zero, 0.0, g * y * x ** pick(zero, 1.0, y - 1))
    if fn.needs_input_grad[1]:  # x^y ln x, taken as 0 where x = 0 and y >= 0
        gy = pick((x.array == 0) & (y.array >= 0), 0.0, g * z * x.log())
    return (gx, gy) if fn.number_first is None else gy if fn.number_first else gx


@formula(elementwise.Maximum)
def maximum(fn, g, out):
    x, y = inputs_of(fn)
    both = pick(x.array == y.array, g * 0.5, g)
    return pick(x.array < y.array, 0.0, both), pick(x.array > y.array, 0.0, both)


@formula(elementwise.Abs)
def absolute(fn, g, out):
    x, = inputs_of(fn)
    return g * constant(np.sign(x.array), x)


@formula(elementwise.Exp)
def exp(fn, g, out):
    return g * out


@formula(elementwise.Expm1)
def expm1(fn, g, out):
    return g * inputs_of(fn)[0].exp()


@formula(elementwise.Log)
def log(fn, g, out):
    return g / inputs_of(fn)[0]


@formula(elementwise.Log1p)
def log1p(fn, g, out):
    return g / (1 + inputs_of(fn)[0])


@formula(elementwise.Sqrt)
def sqrt(fn, g, out):
    return g / (2 * out)


@formula(elementwise.Sin)
def sin(fn, g, out):
    return g * inputs_of(fn)[0].cos()


@formula(elementwise.Cos)
def cos(fn, g, out):
    return -g * inputs_of(fn)[0].sin()


@formula(elementwise.Asin)
def asin(fn, g, out):
    x, = inputs_of(fn)
    return g / (1 - x * x).sqrt()


@formula(elementwise.Atan2)
def atan2(fn, g, out):
    y, x = inputs_of(fn)
    r2 = x * x + y * y
    origin = r2.array == 0  # (0 there, as PyTorch's: 1 / r2 is formed where r2 is not 0 only)
    inverse = pick(origin, 0.0, 1 / pick(origin, 1.0, r2))
    return g * x * inverse, -g * y * inverse


@formula(elementwise.Clamp)
def clamp(fn, g, out):
    x = inputs_of(fn)[0].array
    inside = (x <= fn.hi) if fn.lo is None else (x >= fn.lo)
    if fn.lo is not None and fn.hi is not None:
        inside &= x <= fn.hi
    return pick(inside, g, 0.0)


@formula(elementwise.ClampTensor)
def clamp_tensor(fn, g, out):
    x, lo, hi = (getattr(v, "array", v) for v in fn._saved)
    lo_, hi_ = (-np.inf if lo is None else lo), (np.inf if hi is None else hi)
    grads = [pick((x >= lo_) & (x <= hi_), g, 0.0)]
    if lo is not None:
        grads.append(pick((x < lo) & (lo < hi_), g, 0.0))
    if hi is not None:
        grads.append(pick((x > hi) | (hi < lo_), g, 0.0))
    return grads


@formula(elementwise.Where)
def where_(fn, g, out):
    return pick(fn.cond, g, 0.0), pick(fn.cond, 0.0, g)


@formula(elementwise.Cast, elementwise.ToDevice)
def converted_back(fn, g, out):
    x, = inputs_of(fn)
    return g.to(device=x.device, dtype=x.dtype)


@formula(rounding.StepFunction)
def flat(fn, g, out):  # floor, ceil, round, sign, //: 0 wherever the derivative exists
    return (constant(array_module_of(g.array).zeros_like(g.array), g),) * len(fn.inputs)


@formula(rounding.Remainder, rounding.Fmod)
def remainder(fn, g, out):
    a, b = (getattr(v, "array", v) for v in fn._saved)
    whole = np.floor_divide(a, b) if isinstance(fn, rounding.Remainder) else np.trunc(a / b)  # (a constant)
    return g, (-g * constant(whole, g) if fn.needs_input_grad[1] else None)


@formula(special.Erf)
def erf_(fn, g, out):
    x, = inputs_of(fn)
    return g * (2 / math.sqrt(math.pi)) * (-x * x).exp()


@formula(special.Erfinv)
def erfinv(fn, g, out):
    return g * (fn.sign * math.sqrt(math.pi) / 2) * (out * out).exp()


@formula(special.Lgamma)
def lgamma(fn, g, out):
    x, = inputs_of(fn)
    return g * polygamma(0, x)


@formula(special.Polygamma)  # (and Digamma, n = 0)
def polygamma_(fn, g, out):
    x, = inputs_of(fn)
    return g * polygamma(fn.n + 1, x)


@formula(special.Gammainc)
def gammainc_(fn, g, out):
    a, x = inputs_of(fn)
    if fn.needs_input_grad[0]:
        raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
    return None, g * fn.sign * ((a.detach() - 1) * x.log() - x - log_gamma(a.detach())).exp()


@formula(special.StandardGamma)
def standard_gamma_(fn, g, out):
    a, draw = fn.saved_tensors  # (the slope's own derivative in a: PyTorch has none either)
    return g * NoDerivative.of(standard_gamma_grad_numbers(a, draw), inputs_of(fn), "_standard_gamma_grad")


# ---------------------------------------------------------------- factorisations (ops/factorisations.py)
# Each is factored again from its input, recorded, so that the gradient's dependence on A is in the graph (LAPACK
# gives the same vectors for the same numbers); then the backward's formula in Tensor ops.
def on_the_diagonal(n, like):
    return constant(array_module_of(like.array).eye(n, dtype=bool), like)


@formula(factorisations.Eigh)
def eigh(fn, g, out):
    (A,), (gL, gV) = inputs_of(fn), g
    L, V = factorisations.Eigh.apply(A, UPLO=fn.UPLO)
    if gV is None:
        return (V * gL.unsqueeze(-2)) @ V.mT
    diagonal, VgV = on_the_diagonal(L.shape[-1], L), V.mT @ gV
    E = where(diagonal, 1.0, L.unsqueeze(-2) - L.unsqueeze(-1))
    M = where(diagonal, 0.0 if gL is None else gL.diag_embed(), (VgV - VgV.mT) / 2 / E)
    return V @ M @ V.mT


@formula(factorisations.Svd)
def svd(fn, g, out):
    (A,), (gU, gS, gVh), (k, m, n) = inputs_of(fn), g, (fn.k, fn.m, fn.n)
    U, S, Vh = factorisations.Svd.apply(A, full_matrices=fn.full_matrices)
    U, Vh = U[..., :k], Vh[..., :k, :]  # (with full_matrices, the completion's columns get no gradient)
    gU, gVh = gU if gU is None else gU[..., :k], gVh if gVh is None else gVh[..., :k, :]
    if gU is None and gVh is None:
        return (U * gS.unsqueeze(-2)) @ Vh
    diagonal, S2 = on_the_diagonal(k, S), S * S
    inner = 0.0
    if gU is not None:
        UgU = U.mT @ gU
        inner = (UgU - UgU.mT) * S.unsqueeze(-2)
    if gVh is not None:
        VgV = Vh @ gVh.mT
        inner = inner + S.unsqueeze(-1) * (VgV - VgV.mT)
    inner = where(diagonal, 0.0 if gS is None else gS.diag_embed(),
                  inner / where(diagonal, 1.0, S2.unsqueeze(-2) - S2.unsqueeze(-1)))
    gA = U @ inner @ Vh
    if m > n and gU is not None:
        outside = gU / S.unsqueeze(-2)
        gA = gA + (outside - U @ (U.mT @ outside)) @ Vh
    if m < n and gVh is not None:
        outside = gVh / S.unsqueeze(-1)
        gA = gA + U @ (outside - (outside @ Vh.mT) @ Vh)
    return gA


@formula(factorisations.Qr)
def qr(fn, g, out):
    (A,), (gQ, gR), (m, n) = inputs_of(fn), g, fn.shape
    fn.check_differentiable(m, n)
    Q, R = factorisations.Qr.apply(A, mode=fn.mode)
    gQ, gR = Q * 0 if gQ is None else gQ, R * 0 if gR is None else gR
    if m >= n:
        return qr_square_or_tall(Q, R, gQ, gR)
    Y, gR_Y = A[..., m:], gR[..., m:]
    return cat([qr_square_or_tall(Q, R[..., :m], gQ + Y @ gR_Y.mT, gR[..., :m]), Q @ gR_Y], -1)


def qr_square_or_tall(Q, R, gQ, gR):
    M = R @ gR.mT - gQ.mT @ Q
    lower = M.tril(-1)
    return solve_triangular(R, (gQ + Q @ (lower + lower.mT + M.tril().triu())).mT, upper=True).mT


@formula(factorisations.Pinv)
def pinv(fn, g, out):
    (A,), P = inputs_of(fn), out
    m, n = A.shape[-2:]
    gT, PT = g.mT, P.mT
    if m <= n:
        K = gT @ P
        KPT = K @ PT
        return -(P @ K).mT + KPT - (A @ P) @ KPT + (PT @ P) @ (gT - K @ A)
    K = P @ gT
    PTK = PT @ K
    return -(K @ P).mT + (gT - A @ K) @ P @ PT + PTK - PTK @ P @ A


# ---------------------------------------------------------------- activations (ops/activation.py)
@formula(activation.ReLU)
def relu(fn, g, out):
    return pick(out.array <= 0, 0.0, g)


@formula(activation.LeakyReLU)
def leaky_relu(fn, g, out):
    x, = inputs_of(fn)
    return pick(x.array > 0, g, g * fn.a)


@formula(activation.Sigmoid)
def sigmoid(fn, g, out):
    return g * out * (1 - out)


@formula(activation.Tanh)
def tanh(fn, g, out):
    return g * (1 - out * out)


@formula(activation.GELU)
def gelu(fn, g, out):
    x, = inputs_of(fn)
    if fn.approximate == "tanh":
        t = (math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)).tanh()
        du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
    cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
    pdf = (-0.5 * x * x).exp() / math.sqrt(2 * math.pi)
    return g * (cdf + x * pdf)


@formula(activation.Softmax)
def softmax(fn, g, out):
    return out * (g - (g * out).sum(fn.dim, keepdim=True))


@formula(activation.LogSoftmax)
def log_softmax(fn, g, out):
    return g - out.exp() * g.sum(fn.dim, keepdim=True)


# ---------------------------------------------------------------- reductions (ops/reduce.py, ops/norm.py)
def restored(g, shape, dim, keepdim):
    """``g`` with the reduced dims put back as size 1 (``reduce._restore_dims``), so that it broadcasts to ``shape``."""
    if dim is None:
        return g.reshape((1,) * len(shape))
    if keepdim:
        return g
    reduced = {d % len(shape) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    return g.reshape(tuple(1 if i in reduced else n for i, n in enumerate(shape)))


@formula(reduce.Sum)
def sum_(fn, g, out):
    return restored(g, fn.shape, fn.dim, fn.keepdim).expand(fn.shape)


@formula(reduce.Mean)
def mean(fn, g, out):
    return (restored(g, fn.shape, fn.dim, fn.keepdim) / fn.n).expand(fn.shape)


@formula(reduce.Amax)
def amax(fn, g, out):
    x = inputs_of(fn)[0].array
    z = restored(out, x.shape, fn.dim, fn.keepdim).array
    is_max = (x == z) | (np.isnan(x) & np.isnan(z)) if x.dtype.kind == "f" and not fn.spread else x == z
    g = restored(g, x.shape, fn.dim, fn.keepdim) / constant(is_max.sum(axis=fn.dim, keepdims=True), out)
    return g * constant(is_max, out) if fn.spread else pick(is_max, g, 0.0)


@formula(reduce.MaxAlongDim)
def max_along_dim(fn, g, out):
    dim = fn.dim % len(fn.shape)
    positions = array_module_of(fn.index).arange(fn.shape[dim])
    positions = positions.reshape([-1 if d == dim else 1 for d in range(len(fn.shape))])
    return pick(positions == fn.index, restored(g, fn.shape, dim, fn.keepdim), 0.0)


def products_of_the_others(x, dim):
    r"""p_i = \prod_{k \ne i} x_k along ``dim`` (``reduce._products_of_the_others``): the running product before i
    times the running product after i, no division (so zeros are exact)."""
    x = x.movedim(dim, -1)
    ones = x.new_ones(x.shape[:-1] + (1,))
    before = cat([ones, x[..., :-1].cumprod(-1)], -1)
    after = cat([x[..., 1:].flip(-1).cumprod(-1).flip(-1), ones], -1)
    return (before * after).movedim(-1, dim)


@formula(reduce.Prod)
def prod(fn, g, out):
    x, = inputs_of(fn)
    if fn.dim is None:
        return g * products_of_the_others(x.reshape(-1), 0).reshape(x.shape)
    return restored(g, x.shape, fn.dim, fn.keepdim) * products_of_the_others(x, fn.dim)


@formula(norm.VectorNorm)
def vector_norm(fn, g, out):
    x, = inputs_of(fn)
    p = fn.ord
    g, n = restored(g, x.shape, fn.dim, fn.keepdim), restored(out, x.shape, fn.dim, fn.keepdim)
    if p == 0:
        return x.new_zeros(x.shape)
    sign = constant(np.sign(x.array), x)
    if p == 1:
        return sign * g
    zero = n.array == 0  # (where the norm is 0 the gradient is 0; 1 stands in for n there, so no 0/0 is formed)
    safe_n = pick(zero, 1.0, n)
    if p == 2:
        return g * pick(zero, 0.0, x / safe_n)
    if math.isinf(p):  # the extreme elements share the gradient
        hit = np.abs(x.array) == n.array
        return sign * constant(hit, x) * (g / constant(hit.sum(axis=fn.dim, keepdims=True), x))
    if p < 1:  # |x_i|^{p-1} is infinite at x_i = 0, where the gradient is taken as 0
        at_zero = x.array == 0
        scaled = pick(at_zero, 0.0, sign * pick(at_zero, 1.0, x.abs()) ** (p - 1))
        return scaled * g * n ** (1 - p)
    return sign * x.abs() ** (p - 1) * pick(zero, 0.0, g / safe_n ** (p - 1))


# ---------------------------------------------------------------- scans (ops/scan.py)
@formula(scan.CumSum)
def cumsum(fn, g, out):
    return g.flip(fn.dim).cumsum(fn.dim).flip(fn.dim)


@formula(scan.CumProd)
def cumprod(fn, g, out):
    r"""P_i S_i, with S_i = g_i + x_{i+1} S_{i+1} run from the end (``scan.CumProd``), one step at a time."""
    x, = inputs_of(fn)
    x, g = x.movedim(fn.dim, -1), g.movedim(fn.dim, -1)
    n = x.shape[-1]
    if n == 0:  # (an empty scan: nothing to send back)
        return g.movedim(-1, fn.dim)
    before = cat([x.new_ones(x.shape[:-1] + (1,)), x[..., :-1].cumprod(-1)], -1)
    s = [g[..., n - 1]]
    for i in reversed(range(n - 1)):
        s.insert(0, g[..., i] + x[..., i + 1] * s[0])
    return (before * stack(s, -1)).movedim(-1, fn.dim)


# ---------------------------------------------------------------- movement, indexing, gather (ops/movement.py ...)
@formula(movement.Reshape)
def reshape(fn, g, out):
    return g.reshape(fn.shape)


@formula(movement.Permute)
def permute(fn, g, out):
    return g.permute(fn.inverse)


def scattered(g, positions, shape):
    """Zeros of ``shape`` with each number of g added at its flat position (``positions``, an int array of g's
    shape): the scatter-add that is a gather's backward, as the op ``Bincount`` (whose own backward is a gather)."""
    flat = gather.Bincount.apply(g.reshape(-1), positions.reshape(-1), math.prod(shape))
    return flat.reshape(shape)


def flat_positions(array, shape):
    return array_module_of(array).arange(math.prod(shape)).reshape(shape)


@formula(movement.Index)
def index(fn, g, out):  # x[index] read each position it picked: dL/dx adds g at those positions
    return scattered(g, flat_positions(out.array, fn.shape)[fn.index], fn.shape)


@formula(gather.Gather)
def gather_(fn, g, out):
    return scattered(g, flat_positions(out.array, fn.shape)[coordinates(fn.index, fn.dim)], fn.shape)


@formula(gather.Bincount)
def bincount(fn, g, out):
    return g[fn.bins]


@formula(gather.NllLoss)
def nll_loss(fn, g, out):
    picked = array_module_of(out.array).zeros(fn.shape, dtype=out.array.dtype)
    picked[fn.rows] = 1
    return constant(picked, out) * (-g / len(fn.rows[1]))


@formula(movement.SetItem)
def set_item(fn, g, out):
    x, v = inputs_of(fn)
    written = array_module_of(g.array).zeros(g.shape, dtype=bool)
    written[fn.index] = True
    gv = None
    if fn.needs_input_grad[1]:
        gv = g[fn.index]
        gv = gv.reshape((1,) * (fn.v_ndim - gv.ndim) + tuple(gv.shape))
    return (pick(written, 0.0, g) if fn.needs_input_grad[0] else None), gv


@formula(movement.Cat)
def cat_(fn, g, out):
    dim = fn.dim % g.ndim
    bounds = [0, *fn.ends.tolist(), g.shape[dim]]
    return [g[(slice(None),) * dim + (slice(start, stop),)] for start, stop in zip(bounds, bounds[1:])]


# ---------------------------------------------------------------- matrix products (ops/matmul.py)
@formula(matmul.MatMul)
def matmul_(fn, g, out):
    x, w = saved_of(fn, out)
    g2 = g.unsqueeze(-1) if fn.w_ndim == 1 else g  # a 1-D x is a row vector, a 1-D w a column vector
    g2 = g2.unsqueeze(-2) if fn.x_ndim == 1 else g2
    gx = gw = None
    if w is not None:                                                    # dL/dX = G W^T
        gx = g2 @ (w.unsqueeze(-1) if w.ndim == 1 else w).transpose(-1, -2)
        gx = gx.squeeze(-2) if fn.x_ndim == 1 else gx
    if x is not None:                                                    # dL/dW = X^T G
        gw = (x.unsqueeze(0) if x.ndim == 1 else x).transpose(-1, -2) @ g2
        gw = gw.squeeze(-1) if fn.w_ndim == 1 else gw
    return gx, gw


@formula(matmul.Linear)
def linear(fn, g, out):
    x, w = saved_of(fn, out)[:2]
    g = g.reshape(-1, fn.n_out)                                          # the leading dims as rows
    gx = None if w is None else (g @ w).reshape(fn.x_shape)              # dL/dX = G W
    gw = None if x is None else g.T @ x.reshape(g.shape[0], x.shape[-1])  # dL/dW = G^T X
    if len(fn.inputs) == 2:
        return gx, gw
    return gx, gw, (g.sum(0) if fn.needs_input_grad[2] else None)


# ---------------------------------------------------------------- the fused ops (ops/batch_norm.py ...)
@formula(BatchNorm)
def batch_norm(fn, g, out):
    x, *affine = inputs_of(fn)
    weight = affine[0] if fn.inputs[1:] and fn._saved[1] is not None else None
    dims = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if fn.training:  # the batch's statistics depend on x: computed again, recorded
        mean = x.mean(dims, keepdim=True)
        inv_std = 1 / (((x - mean) ** 2).mean(dims, keepdim=True) + fn.eps).sqrt()
    else:  # the running statistics: constants
        mean, inv_std = constant(fn._saved[2], x), constant(fn._saved[3], x)
    x_hat = (x - mean) * inv_std
    d_beta, d_gamma = g.sum(dims, keepdim=True), (g * x_hat).sum(dims, keepdim=True)
    scale = inv_std if weight is None else weight.reshape(shape) * inv_std
    if fn.training:
        n = x.numel() // x.shape[1]
        dx = scale * (g - d_beta / n - x_hat * (d_gamma / n))
    else:
        dx = scale * g
    grads = [dx]
    if weight is not None:
        grads.append(d_gamma.reshape(weight.shape))
    if fn.bias_shape is not None:
        grads.append(d_beta.reshape(fn.bias_shape))
    return grads


@formula(LayerNorm)
def layer_norm(fn, g, out):
    x, *affine = inputs_of(fn)
    weight = affine[0] if fn._saved[1] is not None else None
    mean = x.mean(fn.dims, keepdim=True)
    centred = x - mean
    inv_std = 1 / ((centred * centred).mean(fn.dims, keepdim=True) + fn.eps).sqrt()
    x_hat = centred * inv_std
    h = g if weight is None else g * weight
    grads = [inv_std * (h - h.mean(fn.dims, keepdim=True) - x_hat * (h * x_hat).mean(fn.dims, keepdim=True))]
    samples = tuple(range(x.ndim - len(fn.dims)))
    if weight is not None:
        grads.append((g * x_hat).sum(samples) if samples else g * x_hat)
    if fn.has_bias:
        grads.append(g.sum(samples) if samples else g)
    return grads


@formula(CrossEntropy)
def cross_entropy(fn, g, out):
    x, = inputs_of(fn)
    a = constant(target_weights(fn), x)
    g = g / fn.denominator if fn.reduction == "mean" else g
    g = g.unsqueeze(fn.dim) if fn.reduction == "none" and x.ndim > 1 else g
    if fn._saved[0] is None:  # nll: the input was the log-probabilities
        return -g * a
    return g * (x.log_softmax(fn.dim).exp() * a.sum(fn.dim, keepdim=True) - a)


def target_weights(fn):
    """Cross-entropy's target weights a (a constant) in x's layout: forward kept them with the classes first (the
    CPU's ``classes_first``) or as rows of classes (the GPU's ``_rows``)."""
    a = fn._saved[1]
    if isinstance(fn, CrossEntropyCuda):
        dim = fn.dim % len(fn.shape)
        rows_shape = fn.shape[:dim] + fn.shape[dim + 1:] + (fn.shape[dim],)
        return array_module_of(a).moveaxis(a.reshape(rows_shape), -1, dim)
    return activation.classes_back(a, fn.dim, fn.shape)


@formula(MseLoss)
def mse_loss(fn, g, out):
    x, y = saved_of(fn, out)
    gx = fn.norm * (x - y) * g
    return gx, (-gx if fn.needs_input_grad[1] else None)


@formula(DropoutCuda)
def dropout(fn, g, out):  # the GPU's dropout (kernels/dropout.py): y = x m, so dL/dx = g m, the mask m a constant
    return g * constant(fn._saved[0], out)


@formula(BackwardHookFunction)
def module_backward_hooks(fn, g, out):  # the identity that runs a module's backward hooks (utils/hooks.py)
    return fn.on_backward([g] if fn.n_outputs == 1 else [h if h is None or isinstance(h, Tensor) else
                                                         Tensor._make(h, None) for h in g])


@formula(ReadsWithoutDerivative)
def reads_without_derivative(fn, g, out):
    return (g, *(constant(array_module_of(g.array).zeros(shape, dtype), g) for shape, dtype in fn.like))


# The ops whose PyTorch backward reads their input or output for a mask or a sign (see ``reads``). Clamp's,
# maximum's, amax's, max(dim)'s and where's do not (their gradient's gradient is "does not require grad" there too),
# and a link there would send zeros into places where a 0 times an infinite local derivative makes nan. (The
# normalisations' gradients depend on their input where PyTorch's do, and only there: no link either.)
READ_FOR_A_MASK = (activation.ReLU, activation.LeakyReLU, elementwise.Abs, norm.VectorNorm, rounding.Remainder,
                   rounding.Fmod, gather.NllLoss, CrossEntropy)


def read_for_a_mask(out):
    """Mark the op that made ``out`` as one whose recorded gradient is linked to its inputs (``reads``): for a
    function composed of ops (a where, a max) that stands for one of PyTorch's ops whose backward reads its input
    for a mask: hardtanh and relu6, threshold, hardshrink, softshrink, prelu, max pooling. Returns ``out``."""
    if out.grad_fn is not None:
        out.grad_fn.read_for_a_mask = True
    return out


# ---------------------------------------------------------------- custom Functions written PyTorch's way
def custom_function_grads(fn, out, grad):
    """Run a PyTorch-style ``backward(ctx, *grads)`` on Tensors with the graph recorded (``Function
    .input_grads_torch_style``), ``ctx.saved_tensors`` giving back the inputs and outputs themselves (not the
    detached copies forward saw), as in PyTorch. A ``@once_differentiable`` backward runs without recording: its
    gradients are constants, or, where the gradients it was given require grad, refuse to be differentiated again
    (PyTorch's rule)."""
    outputs = [out] if fn.n_outputs == 1 else fn.output_tensors()
    # forward was given the inputs themselves, so a saved input is one of them; a saved output is a tensor that
    # forward made, whose numbers the op's output holds (an input returned as it is stays the input)
    inputs = {id(x) for x in inputs_of(fn)}
    made = {id(t.array): t for t in outputs}
    kept, fn._saved = fn._saved, tuple(v if v is None or id(v) in inputs else made.get(id(v.array), v)
                                       for v in fn._saved)
    once = getattr(type(fn).backward, "once_differentiable", False)
    try:
        result = fn.input_grads_torch_style(grad, record=not once)
    finally:
        fn._saved = kept
    given = [grad] if fn.n_outputs == 1 else grad
    if once and any(isinstance(g, Tensor) and g.requires_grad for g in given):  # (else constants, as PyTorch's)
        return [OnceDifferentiable.wrap(fn, gx) for gx in result]
    return result


class NoDerivative(Function):
    """The identity on numbers computed from ``inputs`` whose own derivative is not recorded: differentiating them
    raises, as PyTorch does, where a constant would give a silently wrong 0."""
    error, message = NotImplementedError, "the derivative for '{}' is not implemented."

    @classmethod
    def of(cls, array, inputs, op):
        if array is None:
            return array
        node = cls()
        node.inputs = tuple(x for x in inputs if x.requires_grad)
        node.needs_input_grad = (True,) * len(node.inputs)
        node.op = op
        return node.wrap_output(getattr(array, "array", array))  # (an array: computed unrecorded)

    def backward(self, g):
        raise self.error(self.message.format(self.op))


class OnceDifferentiable(NoDerivative):
    """The identity, standing for a gradient computed by a ``@once_differentiable`` backward: differentiating it
    raises, as in PyTorch (its backward was not recorded, so a gradient of it would be silently wrong)."""
    error = RuntimeError
    message = ("trying to differentiate twice a function that was marked with @once_differentiable ({}): its "
               "backward was not recorded; remove the decorator and write backward with Tensor ops to differentiate "
               "its gradient")

    @classmethod
    def wrap(cls, fn, gx):
        return cls.of(gx, inputs_of(fn), fn.name())

