"""The library's extension points as the tests see them: every op in one table, every optimizer from ``optim``.

``OPS[name](lib, F, x, y, labels)`` computes one op (or a short expression around it) with ``lib`` either
tinygrad_lite or torch and ``F`` its ``nn.functional``: x and y are 4x4 float tensors, labels a 4-long int64
tensor of classes 0 to 3. Each op is written once, for both libraries. The tests that cover every op iterate
this table: against PyTorch, values and gradients in float64 (test_registry.py), on the GPU (test_devices.py)
and inside autocast (test_amp.py). Adding an op adds one line here (CONTRIBUTING.md, "Adding an op").

``OPTIMIZERS`` is every optimizer class that ``tinygrad_lite.optim`` exports (its ``__all__``) but LBFGS, by name; the
tests that run every optimizer take them from it, so a new optimizer is tested as soon as it is exported.
``SETTINGS[name]`` gives each one a configuration that uses its options (momentum, amsgrad, centered ...), for
the tests that run all of them the same way; test_registry.py checks that every exported optimizer has one.
"""
import inspect

from tinygrad_lite import optim


def _setitem(lib, x, y):
    out = x * 1
    out[0] = y[1]
    return out


OPS = {
    # elementwise arithmetic (ops/elementwise.py)
    "add": lambda lib, F, x, y, lab: x + y, "sub": lambda lib, F, x, y, lab: x - 2 * y,
    "rsub": lambda lib, F, x, y, lab: 1 - x, "mul": lambda lib, F, x, y, lab: x * y,
    "div": lambda lib, F, x, y, lab: x / (y * y + 1), "rdiv": lambda lib, F, x, y, lab: 3 / (x * x + 1),
    "pow": lambda lib, F, x, y, lab: x ** 2, "pow_float": lambda lib, F, x, y, lab: (x * x + 1) ** 1.5,
    "rpow": lambda lib, F, x, y, lab: 2 ** x, "neg_abs": lambda lib, F, x, y, lab: -x.abs(),
    "exp": lambda lib, F, x, y, lab: x.exp(), "log": lambda lib, F, x, y, lab: x.abs().log(),
    "log1p": lambda lib, F, x, y, lab: x.abs().log1p(), "sqrt": lambda lib, F, x, y, lab: x.abs().sqrt(),
    "sin_cos": lambda lib, F, x, y, lab: x.sin() + x.cos(),
    "maximum": lambda lib, F, x, y, lab: x.maximum(y) + x.minimum(y),
    "clamp": lambda lib, F, x, y, lab: x.clamp(-0.5, 0.5), "clamp_tensor": lambda lib, F, x, y, lab: x.clamp(min=y),
    "where": lambda lib, F, x, y, lab: lib.where(x > 0, x, y),
    "masked_fill": lambda lib, F, x, y, lab: x.masked_fill(x > 0.5, 0.0),
    "compare": lambda lib, F, x, y, lab: (x > y) * x, "clone_detach": lambda lib, F, x, y, lab: x.clone() * x.detach(),
    # activations (ops/activation.py)
    "tanh": lambda lib, F, x, y, lab: x.tanh(), "sigmoid": lambda lib, F, x, y, lab: x.sigmoid(),
    "relu": lambda lib, F, x, y, lab: F.relu(x), "leaky_relu": lambda lib, F, x, y, lab: F.leaky_relu(x),
    "gelu": lambda lib, F, x, y, lab: F.gelu(x), "gelu_tanh": lambda lib, F, x, y, lab: F.gelu(x, approximate="tanh"),
    "softmax": lambda lib, F, x, y, lab: F.softmax(x, dim=1),
    "log_softmax": lambda lib, F, x, y, lab: x.log_softmax(0),
    "expm1": lambda lib, F, x, y, lab: x.expm1(),
    # shapes and selection composed of other ops (composed.py, session 42)
    "broadcast_to": lambda lib, F, x, y, lab: x[0].broadcast_to((3, 4)) * x[:3],
    "tile": lambda lib, F, x, y, lab: x.tile((2,)) + lib.tile(x[0], (2, 1)).sum(),
    "unbind": lambda lib, F, x, y, lab: x.unbind(1)[2] * lib.unbind(x)[0],
    "narrow": lambda lib, F, x, y, lab: x.narrow(1, -3, 2) * lib.narrow(y, 0, 1, 2).T,
    "select": lambda lib, F, x, y, lab: x.select(1, -1) * lib.select(y, 0, 2) + x.select(0, 1).select(0, 3),
    "movedim": lambda lib, F, x, y, lab: (x * y).reshape(2, 2, 4).movedim((0, 2), (2, 1)).reshape(4, 4) @ x,
    "swapaxes": lambda lib, F, x, y, lab: x.swapaxes(0, 1) * lib.swapdims(y, 1, 0) + x.moveaxis(1, 0),
    "unflatten": lambda lib, F, x, y, lab: x.unflatten(1, (2, -1)).sum(1) @ lib.unflatten(y, 0, (2, 2))[1],
    "roll": lambda lib, F, x, y, lab: x.roll(1) * lib.roll(y, (1, -2), (0, 1)) + x.roll(5, 0),
    "diff": lambda lib, F, x, y, lab: lib.diff(x, 2, dim=0, prepend=y[:1]) * x.diff(append=y[:, :1])[:3],
    "diagonal": lambda lib, F, x, y, lab: x.diagonal(1) * lib.diagonal(y, -1)
    + x.reshape(2, 2, 4).diagonal(0, 2, 0).sum(),
    "diag": lambda lib, F, x, y, lab: lib.diag(x[0], 1) @ lib.diag(lib.diag(y, -1), -2) + x.trace(),
    "index_select": lambda lib, F, x, y, lab: x.index_select(1, lab.flip(0)) * lib.index_select(y, 0, lab[1]),
    "masked_select": lambda lib, F, x, y, lab: x.masked_select(y > 0) * 2,
    "take_along_dim": lambda lib, F, x, y, lab: x.take_along_dim(y.argsort(1), 1)
    + lib.take_along_dim(x, lab[:1])[None],
    # math composed of other ops (composed_math.py, session 42)
    "tan": lambda lib, F, x, y, lab: x.tan() + lib.tan(y),
    "log10": lambda lib, F, x, y, lab: x.abs().log10() + lib.log2(y.abs()),
    "frac": lambda lib, F, x, y, lab: (x * 3).frac() * y,
    "logit": lambda lib, F, x, y, lab: x.sigmoid().logit() + lib.logit(y.sigmoid(), eps=0.3),
    "xlogy": lambda lib, F, x, y, lab: lib.xlogy(x.relu(), y.abs()) + x.xlogy(2.0) + lib.xlogy(3.0, y.abs()),
    "nan_to_num": lambda lib, F, x, y, lab: (x.log() * y).nan_to_num(1.0) + lib.nan_to_num(1 / x.relu(), posinf=5.0),
    "nansum": lambda lib, F, x, y, lab: x.log().nansum(1) + lib.nansum(y.log() * x, 0, keepdim=True),
    "nanmean": lambda lib, F, x, y, lab: x.log().nanmean(0) * lib.nanmean(y.sqrt() * x),
    "std_mean": lambda lib, F, x, y, lab: lib.std_mean(x, 1)[0] * lib.std_mean(y)[1] + lib.var_mean(
        x, 0, keepdim=True, correction=0)[0] * lib.var_mean(y, (0, 1))[1],
    "dot": lambda lib, F, x, y, lab: x[0].dot(y[1]) + lib.dot(x[:, 0], y[:, 2]),
    "outer": lambda lib, F, x, y, lab: x[0].outer(y[1]) + lib.outer(x[:3, 0], y[:, 2]).T[0].sum(),
    "mv": lambda lib, F, x, y, lab: x.mv(y[1]) + lib.mv(y, x[:, 0]),
    "addmm": lambda lib, F, x, y, lab: lib.addmm(x[0], x, y) + y.addmm(x, y, beta=0.5, alpha=-2.0),
    "addmv": lambda lib, F, x, y, lab: lib.addmv(x[0], x, y[1]) + y[2].addmv(x, y[1], beta=0, alpha=3),
    "median": lambda lib, F, x, y, lab: x.median() * lib.median(y, 1).values + lib.median(x, 0, keepdim=True)[0],
    "quantile": lambda lib, F, x, y, lab: lib.quantile(x, lib.tensor([0.1, 0.5, 1.0], dtype=x.dtype), dim=1)
    + x.quantile(0.3) + lib.quantile(y, 0.7, dim=0, keepdim=True, interpolation="midpoint"),
    "cdist": lambda lib, F, x, y, lab: lib.cdist(x, y) + lib.cdist(x[:2], y, p=1).sum(0),
    "meshgrid": lambda lib, F, x, y, lab: lib.meshgrid(x[0], y[1], indexing="ij")[0]
    * lib.meshgrid(x[:, 0], y[2], indexing="xy")[1],
    "pad": lambda lib, F, x, y, lab: F.pad(x, (1, -1)) * F.pad(y, (0, 0, 2, -2), value=0.5)
    + F.pad(x[None], (2, 1), mode="reflect")[0, :, 1:5] + F.pad(x[None], (1, 0), mode="replicate")[0, :, :4]
    + F.pad(y[None], (0, 2), mode="circular")[0, :, 2:],
    # convolutions and pooling, composed (nn/functional/conv.py, pooling.py; session 43)
    "conv": lambda lib, F, x, y, lab: F.conv2d(x.reshape(1, 1, 4, 4), y[:2, :3].reshape(2, 1, 1, 3), y[3, :2],
                                               padding=(1, 0), stride=(1, 2)).sum(1)
    + lib.conv1d(x[None], y.reshape(2, 2, 4)[:, :, :2], groups=2, dilation=2).sum(),
    "conv_transpose": lambda lib, F, x, y, lab: F.conv_transpose2d(x.reshape(1, 2, 2, 4), y[:2, :3].reshape(
        2, 1, 3, 1), y[3, :1], stride=2, padding=(1, 0), output_padding=1),
    "unfold_fold": lambda lib, F, x, y, lab: F.fold(F.unfold(x[None, None], (2, 3), padding=1) * 2, (4, 4), (2, 3),
                                                    padding=1) * y,
    "pool": lambda lib, F, x, y, lab: F.max_pool2d(x[None], 2, stride=1) + lib.max_pool1d(x[None], 3, 1, 1)[:, :3, :3]
    + F.avg_pool2d(y[None], 3, stride=1, padding=1, count_include_pad=False)[:, :3, :3],
    "interpolate": lambda lib, F, x, y, lab: F.interpolate(x[None, None], scale_factor=1.5, mode="bilinear")[
        0, 0, :4, :4] + F.interpolate(y[None], size=8)[0, :, ::2],
    "group_norm": lambda lib, F, x, y, lab: F.group_norm(x[None], 2, y[0], y[1]) + F.instance_norm(y[None]),
    "pixel_shuffle": lambda lib, F, x, y, lab: F.pixel_shuffle(x.reshape(4, 2, 2), 2).reshape(4, 4)
    * F.pixel_unshuffle(y[None], 2).reshape(4, 4),
    "max_unpool": lambda lib, F, x, y, lab: F.max_unpool2d(*F.max_pool2d(x[None], 2, return_indices=True), 2)[0] * y,
    "einsum": lambda lib, F, x, y, lab: lib.einsum("ij,jk->ik", x, y) + lib.einsum("ii,ij->j", x, y),
    "sdpa": lambda lib, F, x, y, lab: F.scaled_dot_product_attention(x[None], y[None], y[None] * 2, is_causal=True)[0]
    + F.scaled_dot_product_attention(x, y, x, attn_mask=y.T),
    "baddbmm": lambda lib, F, x, y, lab: lib.baddbmm(x, x[None], y[None])[0]
    + x.baddbmm(x[None], y[None], beta=0.5, alpha=-2.0)[0] + lib.addbmm(y, x.reshape(2, 4, 2), y.reshape(2, 2, 4)),
    "repeat_interleave": lambda lib, F, x, y, lab: x.repeat_interleave(2, dim=1)[:, ::2] * y
    + lib.repeat_interleave(y, lab, dim=0).sum(0),
    "rms_norm_bilinear": lambda lib, F, x, y, lab: F.rms_norm(x, (4,), y[0]) + F.bilinear(x, y, x.reshape(1, 4, 4)
                                                                                         .expand(4, 4, 4), y[1]),
    "ranking_losses": lambda lib, F, x, y, lab: F.margin_ranking_loss(x[0], y[0], y[1].sign())
    + F.triplet_margin_loss(x, y, x.flip(0), swap=True) + F.cosine_embedding_loss(x, y, y[2].sign())
    + F.soft_margin_loss(x, y.sign().detach()) + F.gaussian_nll_loss(x, y, y * y + 0.5) + F.poisson_nll_loss(x, y * y),
    "embedding_bag": lambda lib, F, x, y, lab: F.embedding_bag(lab, x, (lab[:3] >= 0).long().cumsum(0) - 1, mode="max")
    [1:] * F.embedding_bag(lab.reshape(2, 2), y, padding_idx=1) + F.embedding_bag(lab, y, lab[:2] * 0, mode="sum",
                                                                                   per_sample_weights=x[0]),
    "ctc_loss": lambda lib, F, x, y, lab: F.ctc_loss(x.log_softmax(1)[:, None], (lab[:2] % 3 + 1)[None], (4,), (2,))
    + F.ctc_loss(y.log_softmax(1)[:, None].expand(4, 2, 4), lab[:3] % 3 + 1, (4, 3), (2, 1), reduction="sum"),
    "scatter": lambda lib, F, x, y, lab: x.scatter(1, lab[:, None], y[:, :1] * 1) + y.scatter_add(0, lab[None, :],
                                                                                                 x[:1] * 1)
    + x.index_add(0, lab, y, alpha=0.5) + y.index_put((lab, lab.flip(0)), x[0], accumulate=True)
    + x.scatter_reduce(0, lab[None, :], y[:1] * 1, "amax") + y.index_copy(1, lab.flip(0), x),
    "erf": lambda lib, F, x, y, lab: lib.erf(x) * lib.erfc(y) + lib.erfinv(y.tanh() * 0.9),
    "trigonometry": lambda lib, F, x, y, lab: lib.asin(x.tanh() * 0.9) * lib.acos(y.tanh() * 0.9) + lib.atan(x)
    + lib.atan2(x, y) + lib.sinh(x) * lib.cosh(y) + lib.asinh(x) + lib.acosh(x * x + 1.5) + lib.atanh(y.tanh() * 0.5)
    + lib.hypot(x, y) + lib.logaddexp(x, y) + lib.logaddexp2(y, x) + lib.exp2(x) + lib.reciprocal(x * x + 1)
    + lib.sinc(y) + lib.deg2rad(x) * lib.rad2deg(y),
    "mode": lambda lib, F, x, y, lab: lib.mode(x, 1).values * y[0] + x.mode(0, keepdim=True).values.sum(),
    "pad_sequence": lambda lib, F, x, y, lab: lib.nn.utils.rnn.pad_sequence([x[0], y[:2, 1], x[1:, 2]],
                                                                           padding_value=0.5),
    "tensor_unfold": lambda lib, F, x, y, lab: x.unfold(1, 2, 1).sum(-1) * y.unfold(0, 3, 1)[1],
    "adaptive_pool": lambda lib, F, x, y, lab: F.adaptive_avg_pool2d(x[None], (2, 3))
    * F.adaptive_max_pool2d(y[None], (2, 3)),
    # the composed activations (nn/functional/activation.py)
    "elu": lambda lib, F, x, y, lab: F.elu(x, 0.7), "selu": lambda lib, F, x, y, lab: F.selu(x),
    "celu": lambda lib, F, x, y, lab: F.celu(x, 1.5), "hardtanh": lambda lib, F, x, y, lab: F.hardtanh(x, -0.5, 0.8),
    "relu6": lambda lib, F, x, y, lab: F.relu6(x * 4), "hardswish": lambda lib, F, x, y, lab: F.hardswish(x * 3),
    "logsigmoid": lambda lib, F, x, y, lab: F.logsigmoid(x), "softsign": lambda lib, F, x, y, lab: F.softsign(x),
    "mish": lambda lib, F, x, y, lab: F.mish(x), "tanhshrink": lambda lib, F, x, y, lab: F.tanhshrink(x),
    "softshrink": lambda lib, F, x, y, lab: F.softshrink(x, 0.3),
    "hardshrink": lambda lib, F, x, y, lab: F.hardshrink(x),
    "threshold": lambda lib, F, x, y, lab: F.threshold(x, 0.1, -1.0), "glu": lambda lib, F, x, y, lab: F.glu(x, 0),
    "softmin": lambda lib, F, x, y, lab: F.softmin(x, dim=1), "prelu": lambda lib, F, x, y, lab: F.prelu(x, y[0].abs()),
    # reductions and scans (ops/reduce.py, ops/scan.py, ops/norm.py)
    "sum": lambda lib, F, x, y, lab: x.sum(), "sum_dim": lambda lib, F, x, y, lab: x.sum(1),
    "mean": lambda lib, F, x, y, lab: x.mean(), "mean_dim": lambda lib, F, x, y, lab: x.mean(1, keepdim=True),
    "prod": lambda lib, F, x, y, lab: x.prod(1), "max": lambda lib, F, x, y, lab: x.max(),
    "max_dim": lambda lib, F, x, y, lab: x.max(1).values, "min": lambda lib, F, x, y, lab: x.min(0)[0],
    "amax": lambda lib, F, x, y, lab: x.amax(1), "var": lambda lib, F, x, y, lab: x.var(),
    "var_std": lambda lib, F, x, y, lab: x.var(0) + x.std(), "logsumexp": lambda lib, F, x, y, lab: x.logsumexp(1),
    "norm": lambda lib, F, x, y, lab: x.norm(), "normalize": lambda lib, F, x, y, lab: F.normalize(x),
    "cosine_similarity": lambda lib, F, x, y, lab: F.cosine_similarity(x, y),
    "cumsum": lambda lib, F, x, y, lab: x.cumsum(1), "cumprod": lambda lib, F, x, y, lab: x.cumprod(0),
    # sorting and gathering (ops/gather.py)
    "sort": lambda lib, F, x, y, lab: x.sort(1).values, "topk": lambda lib, F, x, y, lab: x.topk(2).values,
    "gather": lambda lib, F, x, y, lab: x.gather(1, x.argsort(1)),
    # rounding (ops/rounding.py)
    "floor_round": lambda lib, F, x, y, lab: x.floor() + x.round() + x.sign() * x,
    "remainder": lambda lib, F, x, y, lab: x % 0.7,
    # matrix products (ops/matmul.py)
    "matmul": lambda lib, F, x, y, lab: x @ y.T, "mm": lambda lib, F, x, y, lab: lib.mm(x, y.T),
    "bmm": lambda lib, F, x, y, lab: lib.bmm(x[None], y.T[None]), "linear": lambda lib, F, x, y, lab: F.linear(x, y),
    # shapes and indexing (ops/movement.py)
    "reshape": lambda lib, F, x, y, lab: x.reshape(-1) * 2,
    "permute": lambda lib, F, x, y, lab: x.permute(1, 0) * y.T,
    "expand": lambda lib, F, x, y, lab: x[:1].expand(4, 4) * y,
    "squeeze": lambda lib, F, x, y, lab: x.unsqueeze(0).squeeze(0) * 2,
    "flatten_t": lambda lib, F, x, y, lab: x.t().flatten(),
    "index": lambda lib, F, x, y, lab: x[1:, ::2] * 3,
    "index_tensor": lambda lib, F, x, y, lab: x[lib.tensor([0, 2, 0], device=x.device)],
    "index_list": lambda lib, F, x, y, lab: x[[2, 0]], "mask": lambda lib, F, x, y, lab: x[x > 0],
    "setitem": lambda lib, F, x, y, lab: _setitem(lib, x, y),
    "cat_stack": lambda lib, F, x, y, lab: lib.cat([x, y]).sum() + lib.stack([x, y]).mean(),
    # losses (nn/functional/loss.py)
    "mse_loss": lambda lib, F, x, y, lab: F.mse_loss(x, y), "l1_loss": lambda lib, F, x, y, lab: F.l1_loss(x, y),
    "smooth_l1_loss": lambda lib, F, x, y, lab: F.smooth_l1_loss(x, y),
    "huber_loss": lambda lib, F, x, y, lab: F.huber_loss(x, y),
    "binary_cross_entropy": lambda lib, F, x, y, lab: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "bce_with_logits": lambda lib, F, x, y, lab: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
    "cross_entropy": lambda lib, F, x, y, lab: F.cross_entropy(x, lab),
    "nll_loss": lambda lib, F, x, y, lab: F.nll_loss(x.log_softmax(1), lab),
}

OPTIMIZERS = [name for name in optim.__all__ if inspect.isclass(getattr(optim, name))
              and issubclass(getattr(optim, name), optim.Optimizer) and getattr(optim, name) is not optim.Optimizer
              and name != "LBFGS"]  # (its step needs a closure and it has no per-parameter update: test_lbfgs.py)

SETTINGS = {
    "SGD": dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.1),
    "Adam": dict(lr=0.05, amsgrad=True, weight_decay=0.1),
    "AdamW": dict(lr=0.05, amsgrad=True, weight_decay=0.1),
    "RMSprop": dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5),
    "NAdam": dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01),
    "RAdam": dict(lr=0.05, weight_decay=0.1, betas=(0.9, 0.99)),
    "Adamax": dict(lr=0.05, weight_decay=0.1),
    "Adadelta": dict(lr=0.5, rho=0.8, weight_decay=0.1),
    "Rprop": dict(lr=0.05, etas=(0.4, 1.3), step_sizes=(1e-3, 0.2)),
    "ASGD": dict(lr=0.05, lambd=1e-3, alpha=0.6, t0=3, weight_decay=0.1),
}
