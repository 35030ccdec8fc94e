"""Lesson 04 (optimizers): the answers learners write for each exercise, and the lesson's special cases.

``tests/test_lessons.py`` runs the generic tests on the data here: ``SOLUTIONS`` and ``ALSO_RIGHT`` pass; every
row of ``WRONG`` fails, and of ``ERRORS`` is an error, with the texts it lists; every hint tier is reached. Three
exercises are CLASSES (``Optimizer`` subclasses): their wrong versions are classes a learner writes, each with
one term off. This file adds what is lesson 04's own: the references equal ``torch.optim`` on every case the
checks use (so "compared with torch.optim" holds), the numbers the lesson teaches (momentum on an oscillating
gradient, Adam's first step without bias correction, AdamW's decay, the epoch mean), and the notebook's visible
examples.
"""
import copy
import math

import numpy as np
import pytest
import torch
from lesson_helpers import ALLOWS, assert_fails_with, define, exercise_cells, notebooks, verdict

import tinygrad_lite as tl
from tinygrad_lite import nn, optim
from tinygrad_lite.course.checks import get_exercise
from tinygrad_lite.course.exercises.lesson04 import drive_optimizer, drive_train_epoch
from tinygrad_lite.course.notebooks import read_notebook
from tinygrad_lite.metrics import RunningMean
from tinygrad_lite.optim import Optimizer

LESSON = "04_optimizers"
SOLUTION, RELEASED = notebooks(LESSON)
NAMES = {"np": np, "tl": tl, "nn": nn, "optim": optim, "Optimizer": Optimizer, "RunningMean": RunningMean}


# -------------------------------------------------------------------- solutions, as a learner would write them
def train_epoch(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / count


class MySGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _update(self, p, group):
        g = p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        mu = group["momentum"]
        if mu != 0:
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone()
            else:
                state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - group["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class MyAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        g = p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = tl.zeros_like(p)
            state["exp_avg_sq"] = tl.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        m_hat = state["exp_avg"] / (1 - beta1 ** t)
        v_hat = state["exp_avg_sq"] / (1 - beta2 ** t)
        p -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])


class MyAdamW(MyAdam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        Optimizer.__init__(self, params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p, group):
        p *= 1 - group["lr"] * group["weight_decay"]
        beta1, beta2 = group["betas"]
        state = self.state[p]
        if not state:
            state["step"], state["m"], state["v"] = 0, tl.zeros_like(p), tl.zeros_like(p)
        state["step"] += 1
        state["m"] = beta1 * state["m"] + (1 - beta1) * p.grad
        state["v"] = beta2 * state["v"] + (1 - beta2) * p.grad ** 2
        m_hat = state["m"] / (1 - beta1 ** state["step"])
        v_hat = state["v"] / (1 - beta2 ** state["step"])
        p -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])


SOLUTIONS = {"04.train_epoch": train_epoch, "04.MySGD": MySGD, "04.MyAdam": MyAdam, "04.MyAdamW": MyAdamW}


# -------------------------------------------------------------------- other right answers
def train_epoch_running_mean(model, loader, loss_fn, optimizer):
    model.train()
    mean = RunningMean()
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        mean.update(loss, len(y))
    return mean.mean


class SGDInPlace(MySGD):
    """Buffers updated in place (mul_, add_), and its own step() instead of _update."""

    @tl.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.clone()
                if group["weight_decay"]:
                    d_p.add_(p, alpha=group["weight_decay"])
                if group["momentum"]:
                    buf = self.state[p].get("momentum_buffer")
                    if buf is None:
                        buf = self.state[p]["momentum_buffer"] = d_p.clone()
                    else:
                        buf.mul_(group["momentum"]).add_(d_p, alpha=1 - group["dampening"])
                    d_p = d_p.add(buf, alpha=group["momentum"]) if group["nesterov"] else buf
                p.add_(d_p, alpha=-group["lr"])


class AdamWithData(MyAdam):
    """Through .data, with the step count as a tensor and the moments updated in place."""

    def _update(self, p, group):
        b1, b2 = group["betas"]
        g = p.grad.data + group["weight_decay"] * p.data
        s = self.state[p]
        if "step" not in s:
            s["step"], s["exp_avg"], s["exp_avg_sq"] = tl.tensor(0.0), tl.zeros_like(p), tl.zeros_like(p)
        s["step"] += 1
        s["exp_avg"].mul_(b1).add_((1 - b1) * g)
        s["exp_avg_sq"].mul_(b2).add_((1 - b2) * g * g)
        t = s["step"].item()
        denom = (s["exp_avg_sq"] / (1 - b2 ** t)).sqrt() + group["eps"]
        p.data = p.data - group["lr"] / (1 - b1 ** t) * s["exp_avg"] / denom


class AdamWFromAdam(MyAdam):
    """AdamW as the learner's own Adam with weight_decay 0 after the decoupled shrink."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(self, p, group):
        p.mul_(1 - group["lr"] * group["weight_decay"])
        super()._update(p, {**group, "weight_decay": 0.0})


def train_epoch_detached_sum(model, loader, loss_fn, optimizer):
    """Adds up detached loss tensors (no graph kept), zeroes the gradients in place, counts with shape[0]."""
    model.train()
    total, seen = tl.tensor(0.0), 0
    for batch in loader:
        x, y = batch
        optimizer.zero_grad(set_to_none=False)
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total = total + loss.detach() * x.shape[0]
        seen += x.shape[0]
    return float(total / seen)


def train_epoch_pairs(model, loader, loss_fn, optimizer):
    """Keeps (loss, size) pairs of numbers and averages them with numpy at the end."""
    model.train()
    pairs = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        pairs.append((loss.item(), len(y)))
    values, sizes = np.array(pairs).T
    return float(np.average(values, weights=sizes))


class SGDSetdefault(Optimizer):
    """Buffers through setdefault, the step written with .data and sub_, the groups read once into names."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay))

    def _update(self, p, group):
        lr, mu, damp, wd, nesterov = (group[k] for k in ("lr", "momentum", "dampening", "weight_decay",
                                                          "nesterov"))
        grad = p.grad.data + wd * p.data
        if mu > 0:
            state = self.state[p]
            if "momentum_buffer" in state:
                state["momentum_buffer"] = state["momentum_buffer"] * mu + grad * (1 - damp)
            else:
                state.setdefault("momentum_buffer", grad.clone())
            buf = state["momentum_buffer"]
            grad = grad + buf * mu if nesterov else buf
        p.data.sub_(grad * lr)


class AdamInPlaceMoments(Optimizer):
    """Moments updated in place with mul_/add_(alpha=...), the step count a plain int under its own name."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p, group):
        b1, b2 = group["betas"]
        grad = p.grad if group["weight_decay"] == 0 else p.grad.add(p, alpha=group["weight_decay"])
        st = self.state[p]
        if "t" not in st:
            st["t"], st["m"], st["v"] = 0, tl.zeros_like(p), tl.zeros_like(p)
        st["t"] += 1
        st["m"].mul_(b1).add_(grad, alpha=1 - b1)
        st["v"].mul_(b2).add_(grad * grad, alpha=1 - b2)
        m_hat = st["m"] / (1 - b1 ** st["t"])
        v_hat = st["v"] / (1 - b2 ** st["t"])
        p.sub_(group["lr"] * m_hat / (v_hat ** 0.5 + group["eps"]))


class AdamWTwoStage(Optimizer):
    """The decay through .data, then the moments kept as new tensors and the step written with .data."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p, group):
        lr = group["lr"]
        p.data = p.data * (1.0 - lr * group["weight_decay"])
        beta1, beta2 = group["betas"]
        state = self.state[p]
        step = state.get("step", 0) + 1
        m = beta1 * state.get("exp_avg", 0.0) + (1.0 - beta1) * p.grad
        v = beta2 * state.get("exp_avg_sq", 0.0) + (1.0 - beta2) * p.grad.square()
        state.update(step=step, exp_avg=m, exp_avg_sq=v)
        denom = (v / (1.0 - beta2 ** step)).sqrt() + group["eps"]
        p.data = p.data - (lr / (1.0 - beta1 ** step)) * m / denom


class AdamIntStepAddcdiv(Optimizer):
    """PyTorch's own style: the step a Python int in state["step"], the update one addcdiv_ with the bias corrections
    folded into its value. It must survive the resume (load_state_dict keeps an int an int, as PyTorch does)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p, group):
        b1, b2 = group["betas"]
        lr, eps = group["lr"], group["eps"]
        g = p.grad if group["weight_decay"] == 0 else p.grad + group["weight_decay"] * p
        st = self.state[p]
        if not st:
            st["step"], st["exp_avg"], st["exp_avg_sq"] = 0, tl.zeros_like(p), tl.zeros_like(p)
        st["step"] += 1
        t = st["step"]
        st["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
        st["exp_avg_sq"].mul_(b2).add_(g * g, alpha=1 - b2)
        c = (1 - b2 ** t) ** 0.5
        p.addcdiv_(st["exp_avg"], st["exp_avg_sq"].sqrt() + eps * c, value=-lr / (1 - b1 ** t) * c)


ALSO_RIGHT = [
    ("04.train_epoch", train_epoch_running_mean),
    ("04.train_epoch", train_epoch_detached_sum),
    ("04.train_epoch", train_epoch_pairs),
    ("04.MySGD", SGDInPlace),
    ("04.MySGD", SGDSetdefault),
    ("04.MyAdam", AdamWithData),
    ("04.MyAdam", AdamInPlaceMoments),
    ("04.MyAdam", AdamIntStepAddcdiv),
    ("04.MyAdamW", AdamWFromAdam),
    ("04.MyAdamW", AdamWTwoStage),
]


# -------------------------------------------------------------------- wrong versions
def _loop(zero="before", weigh=True, step_first=False, divide="examples", last=False, keep_tensor=False):
    def wrong_epoch(model, loader, loss_fn, optimizer):
        total, count, n_batches = 0.0, 0, 0
        for x, y in loader:
            if zero == "before" and not step_first:
                optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            if step_first:
                optimizer.step()
                optimizer.zero_grad()
            loss.backward()
            if zero == "between":
                optimizer.zero_grad()
            if not step_first:
                optimizer.step()
            batch_loss = loss if keep_tensor else loss.item()
            total = total + batch_loss * (len(x) if weigh else 1)
            count += len(x)
            n_batches += 1
        if last:
            return loss.item()
        return {"examples": total / count, "batches": total / n_batches, "sum": total,
                "full": total / (n_batches * loader.batch_size)}[divide]
    return wrong_epoch


def epoch_returns_nothing(model, loader, loss_fn, optimizer):
    train_epoch(model, loader, loss_fn, optimizer)


def epoch_returns_numpy(model, loader, loss_fn, optimizer):
    return np.array(train_epoch(model, loader, loss_fn, optimizer))


class SGDZeroBuffer(MySGD):
    """The buffer starts at zeros and always follows the general rule: b_1 = (1 - dampening) g."""

    def _update(self, p, group):
        g = p.grad + group["weight_decay"] * p
        if group["momentum"]:
            buf = self.state[p].setdefault("momentum_buffer", tl.zeros_like(p))
            buf = group["momentum"] * buf + (1 - group["dampening"]) * g
            self.state[p]["momentum_buffer"] = buf
            g = g + group["momentum"] * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class SGDKeepsGrad(MySGD):
    """The first buffer is p.grad itself, not a copy."""

    def _update(self, p, group):
        mu, state = group["momentum"], self.state[p]
        g = p.grad if not group["weight_decay"] else p.grad + group["weight_decay"] * p
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g
            else:
                state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - group["dampening"]) * g
            g = g + mu * state["momentum_buffer"] if group["nesterov"] else state["momentum_buffer"]
        p -= group["lr"] * g


class SGDAverage(MySGD):
    """velocity = momentum * velocity + (1 - momentum) * g, an exponential average."""

    def _update(self, p, group):
        g = p.grad + group["weight_decay"] * p
        mu = group["momentum"]
        if mu:
            v = self.state[p].get("v", tl.zeros_like(p))
            v = mu * v + (1 - mu) * g
            self.state[p]["v"] = v
            g = g + mu * v if group["nesterov"] else v
        p -= group["lr"] * g


class SGDNesterovOld(MySGD):
    def _update(self, p, group):
        g = p.grad + group["weight_decay"] * p
        mu = group["momentum"]
        if mu:
            state = self.state[p]
            old = state.get("momentum_buffer")
            new = g.clone() if old is None else mu * old + (1 - group["dampening"]) * g
            state["momentum_buffer"] = new
            if group["nesterov"]:
                g = g + mu * (old if old is not None else new)
            else:
                g = new
        p -= group["lr"] * g


class SGDDecoupled(MySGD):
    def _update(self, p, group):
        p *= 1 - group["lr"] * group["weight_decay"]
        super()._update(p, {**group, "weight_decay": 0.0})


class SGDAscent(MySGD):
    def _update(self, p, group):
        super()._update(p, {**group, "lr": -group["lr"]})  # p += lr * g


class SGDRebinds(MySGD):
    def _update(self, p, group):
        p = p - group["lr"] * p.grad  # the mistake: this rebinds the local name p


class SGDBuffersOutside(MySGD):
    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.velocity = {}

    def _update(self, p, group):
        g = p.grad + group["weight_decay"] * p
        mu = group["momentum"]
        if mu:
            old = self.velocity.get(p)
            self.velocity[p] = g.clone() if old is None else mu * old + (1 - group["dampening"]) * g
            g = g + mu * self.velocity[p] if group["nesterov"] else self.velocity[p]
        p -= group["lr"] * g


class SGDDefaults(MySGD):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr, momentum, dampening, nesterov, weight_decay)
        self.lr, self.momentum, self.dampening, self.nesterov, self.wd = lr, momentum, dampening, nesterov, \
            weight_decay

    def _update(self, p, group):
        super()._update(p, dict(lr=self.lr, momentum=self.momentum, dampening=self.dampening,
                                nesterov=self.nesterov, weight_decay=self.wd))


class SGDChangesGrad(MySGD):
    def _update(self, p, group):
        g = p.grad
        g += group["weight_decay"] * p  # changes p.grad itself
        super()._update(p, {**group, "weight_decay": 0.0})


class SGDNumpy(MySGD):
    def _update(self, p, group):
        p.data = tl.tensor(p.detach().numpy().astype(np.float64) - group["lr"] * p.grad.numpy())


class SGDBufferNumpy(MySGD):
    """The momentum buffer kept as a numpy array and read back with tl.tensor: the numbers are right, the state is
    not a tensor (it leaves the library, and would not follow the model to another device)."""
    def _update(self, p, group):
        g = p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        mu, state = group["momentum"], self.state[p]
        if mu != 0:
            old = state.get("momentum_buffer")
            buf = g.clone() if old is None else mu * tl.tensor(old) + (1 - group["dampening"]) * g
            state["momentum_buffer"] = buf.numpy().copy()
            g = g + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class SGDBufferFloat64(MySGD):
    """The first buffer made float64 (g.clone().double()) on float32 parameters: every later buffer stays float64."""
    def _update(self, p, group):
        g = p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        mu, state = group["momentum"], self.state[p]
        if mu != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone().double()
            else:
                state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - group["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g.float()


class SGDNotASubclass:
    def __init__(self, params, lr=1e-3, **kwargs):
        self.params, self.lr = list(params), lr

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    def step(self):
        with tl.no_grad():
            for p in self.params:
                p -= self.lr * p.grad


class SGDUpdateMisnamed(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def update(self, p, group):
        p -= group["lr"] * p.grad


def sgd_as_a_function(params, lr=1e-3, **kwargs):
    return None


class SGDStepWithGrad(MySGD):
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                p -= group["lr"] * p.grad


def _adam(how, decoupled=False):
    """A learner's Adam (or AdamW) with one term off."""
    class WrongAdam(MyAdam):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=None):
            if weight_decay is None:
                weight_decay = 1e-2 if decoupled else 0.0
            super().__init__(params, lr, betas, eps, weight_decay)
            self.t, self.moments = 0, {}

        def _update(self, p, group):
            hyper = self.defaults if how == "defaults" else group
            b1, b2 = hyper["betas"][::-1] if how == "swapped_betas" else hyper["betas"]
            lr, eps, wd = hyper["lr"], hyper["eps"], hyper["weight_decay"]
            g = p.grad
            on_weights = decoupled != (how == "swap_decay")
            if on_weights:
                p *= 1 - (wd if how == "unscaled" else lr * wd)
            elif how != "no_decay":  # (on the gradient: a typo, p.grad for p)
                g = g + (tl.tensor(wd) if how == "float32_decay" else wd) * (g if how == "decay_on_grad" else p)
            state = self.moments.setdefault(p, {}) if how == "outside" else self.state[p]
            if not state:
                state.update(step=0, m=tl.zeros_like(p), v=tl.zeros_like(p))
            state["step"] += 1
            self.t += 1
            if how == "t_group" and p is group["params"][0]:  # one count per group, advanced by its first parameter
                group["t"] = group.get("t", 0) + 1
            t = {"t_stuck": 1, "t_shared": self.t, "t_group": group.get("t")}.get(how, state["step"])
            state["m"] = b1 * state["m"] + (1 - b1) * g
            state["v"] = b2 * state["v"] + (1 - b2) * g * g
            m, v = state["m"], state["v"]
            if how not in ("no_correction", "only_v"):
                m = m / (1 - b1 ** t)
            if how not in ("no_correction", "only_m"):
                v = v / (1 - b2 ** t)
            denom = (v + eps).sqrt() if how == "eps_inside" else v.sqrt() + eps
            p -= lr * m / denom
    WrongAdam.__name__ = f"MyAdam{'W' if decoupled else ''}_{how}"
    return WrongAdam


CORRECTION = "no bias correction"
HALF = "both averages need their own bias correction"
STEP_T = "the number of steps THIS parameter has taken"
EPS = "eps goes outside the square root"
STATE = "not in self.state"
GROUPS = "hyperparameters of ITS group"
MOVED = "your parameters never moved"


def epoch_step_before_backward(model, loader, loss_fn, optimizer):
    """zero_grad first, then step() before backward(): every step sees no gradient, and the model never moves."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        optimizer.step()
        loss.backward()
        total += loss.item() * len(x)
        count += len(x)
    return total / count

WRONG = [
    ("04.train_epoch", _loop(weigh=False, divide="batches"), "mean of the batch means is biased", "1.16"),
    ("04.train_epoch", _loop(divide="full"), "the last batch may be smaller"),
    ("04.train_epoch", _loop(zero="never"), "never reset"),
    ("04.train_epoch", _loop(zero="between"), "reset between backward() and step()"),
    ("04.train_epoch", _loop(step_first=True), "step() came before backward()"),
    ("04.train_epoch", epoch_step_before_backward, "step() came before backward() in a batch that starts"),
    ("04.train_epoch", _loop(divide="sum"), "you returned the SUM"),
    ("04.train_epoch", _loop(last=True), "the last batch's loss"),
    ("04.train_epoch", _loop(keep_tensor=True), "you returned a Tensor", ".item()"),
    ("04.train_epoch", epoch_returns_nothing, "returned None"),
    ("04.train_epoch", epoch_returns_numpy, "you returned a ndarray"),
    ("04.MySGD", SGDZeroBuffer, "must start as the first gradient itself"),
    ("04.MySGD", SGDAverage, "a running SUM"),
    ("04.MySGD", SGDKeepsGrad, "your momentum buffer IS p.grad"),
    ("04.MySGD", SGDNesterovOld, "Nesterov looks ahead with the NEW buffer"),
    ("04.MySGD", SGDDecoupled, "SGD's weight_decay is the gradient of the L2 penalty"),
    ("04.MySGD", SGDAscent, "the parameters climbed"),
    ("04.MySGD", SGDRebinds, MOVED),
    ("04.MySGD", SGDBuffersOutside, STATE),
    ("04.MySGD", SGDDefaults, GROUPS),
    ("04.MySGD", SGDChangesGrad, "changed p.grad"),
    ("04.MySGD", SGDNumpy, "not float32"),
    ("04.MySGD", SGDBufferNumpy, "is a numpy array"),
    ("04.MySGD", SGDBufferFloat64, "while the parameter is float32"),
    ("04.MySGD", SGDNotASubclass, "not an instance of Optimizer", "subclasses Optimizer"),
    ("04.MySGD", SGDUpdateMisnamed, "defines none of _update, step"),
    ("04.MySGD", sgd_as_a_function, "gave None"),
    ("04.MyAdam", _adam("no_correction"), CORRECTION, "3.16"),
    ("04.MyAdam", _adam("only_m"), HALF),
    ("04.MyAdam", _adam("only_v"), HALF),
    ("04.MyAdam", _adam("t_stuck"), STEP_T),
    ("04.MyAdam", _adam("t_shared"), STEP_T),
    ("04.MyAdam", _adam("t_group"), STEP_T, "no gradient on every second step"),
    ("04.MyAdam", _adam("eps_inside"), EPS),
    ("04.MyAdam", _adam("swap_decay"), "Adam's weight_decay is the L2 penalty's gradient"),
    ("04.MyAdam", _adam("outside"), STATE),
    ("04.MyAdam", _adam("defaults"), GROUPS),
    ("04.MyAdamW", _adam("no_correction", True), CORRECTION),
    ("04.MyAdamW", _adam("only_m", True), HALF),
    ("04.MyAdamW", _adam("t_shared", True), STEP_T),
    ("04.MyAdamW", _adam("t_group", True), STEP_T, "no gradient on every second step"),
    ("04.MyAdamW", _adam("eps_inside", True), EPS),
    ("04.MyAdamW", _adam("swap_decay", True), "AdamW decays the WEIGHTS, not the gradient"),
    ("04.MyAdamW", _adam("unscaled", True), "scaled by the learning rate"),
    ("04.MyAdamW", _adam("outside", True), STATE),
    ("04.MyAdamW", _adam("defaults", True), GROUPS),
    ("04.MyAdamW", MyAdam, "AdamW decays the WEIGHTS, not the gradient"),
]

ERRORS = [(eid, SGDStepWithGrad, "leaf tensor that requires grad", "no_grad") for eid in ("04.MySGD",)]


class AdamRebinds(MyAdam):
    def _update(self, p, group):
        p = p - group["lr"] * p.grad.sign()


class AdamWRebinds(MyAdamW):
    def _update(self, p, group):
        p = p * 0.5


WRONG += [("04.MyAdam", AdamRebinds, MOVED), ("04.MyAdamW", AdamWRebinds, MOVED)]
# (second round of session 34: the decay made a float32 tensor, tl.tensor(weight_decay), loses digits in float64)
WRONG += [("04.MyAdam", _adam("float32_decay"), "float64 parameters", "float32's rounding")]
# (the decay on the gradient is no decay at all once Adam divides by sqrt(v_hat): one hint names both)
WRONG += [("04.MyAdam", _adam(how), "Adam's without weight decay", "weight_decay times the PARAMETER")
          for how in ("decay_on_grad", "no_decay")]


class AdamWNoDecay(MyAdamW):
    """No decay at all: plain Adam."""
    def _update(self, p, group):
        MyAdam._update(self, p, group.copy() | {"weight_decay": 0.0})


class AdamWDefaultZero(MyAdamW):
    """The default weight_decay changed to 0."""
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        Optimizer.__init__(self, params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))


class AdamStepDict(MyAdam):
    """m and v in self.state[p], the step count in a dict of its own (lost on resume)."""
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.t = {}

    def _update(self, p, group):
        b1, b2 = group["betas"]
        state = self.state[p]
        g = p.grad + group["weight_decay"] * p
        if not state:
            state["m"], state["v"] = tl.zeros_like(p), tl.zeros_like(p)
        self.t[p] = self.t.get(p, 0) + 1
        t = self.t[p]
        state["m"] = b1 * state["m"] + (1 - b1) * g
        state["v"] = b2 * state["v"] + (1 - b2) * g ** 2
        p -= group["lr"] * (state["m"] / (1 - b1 ** t)) / ((state["v"] / (1 - b2 ** t)).sqrt() + group["eps"])


WRONG += [("04.MyAdamW", AdamWNoDecay, "or with no decay at all", "is 1e-2"),
          ("04.MyAdamW", AdamWDefaultZero, "or with no decay at all", "is 1e-2"),
          ("04.MyAdam", AdamStepDict, STATE)]


# -------------------------------------------------------------------- more wrong versions (issue 19)
def epoch_sums_loss_tensors(model, loader, loss_fn, optimizer):
    """The walk-through's answer: right numbers, but every batch's graph stays alive until the end."""
    model.train()
    total, n = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total = total + loss * len(x)
        n += len(x)
    return (total / n).item()


def epoch_keeps_loss_list(model, loader, loss_fn, optimizer):
    model.train()
    losses, sizes = [], []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss)
        sizes.append(len(x))
    return sum(value.item() * n for value, n in zip(losses, sizes)) / sum(sizes)


def epoch_zero_grad_last(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()           # "clean up after the step"
        total += loss.item() * len(x)
        count += len(x)
    return total / count


def epoch_weighs_by_batch_size(model, loader, loss_fn, optimizer):
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * loader.batch_size
        count += len(x)
    return total / count


def epoch_divides_by_dataset(model, loader, loss_fn, optimizer):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
    return total / len(loader.dataset)


def epoch_steps_once(model, loader, loss_fn, optimizer):
    model.train()
    optimizer.zero_grad()
    total, count = 0.0, 0
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        total += loss.item() * len(x)
        count += len(x)
    optimizer.step()
    return total / count


def epoch_never_trains(model, loader, loss_fn, optimizer):
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / count


def epoch_with_the_trainer(model, loader, loss_fn, optimizer):
    return tl.train.Trainer(model, loss_fn, optimizer, progress=False).train_one_epoch(loader)["train_loss"]


class SGDVelocity(MySGD):
    """Sutskever's form: the buffer holds lr * g, and p moves by the buffer."""

    def _update(self, p, group):
        g = p.grad + group["weight_decay"] * p
        mu, lr = group["momentum"], group["lr"]
        if not mu:
            p -= lr * g
            return
        state = self.state[p]
        if "velocity" not in state:
            state["velocity"] = lr * g
        else:
            state["velocity"] = mu * state["velocity"] + (1 - group["dampening"]) * lr * g
        if group["nesterov"]:
            p -= lr * g + mu * state["velocity"]
        else:
            p -= state["velocity"]


class SGDDecayWithMomentumOnly(MySGD):
    def _update(self, p, group):
        mu = group["momentum"]
        if mu == 0:
            p -= group["lr"] * p.grad
            return
        super()._update(p, group)


class SGDNesterovBareGrad(MySGD):
    def _update(self, p, group):
        g = p.grad + group["weight_decay"] * p
        mu, state = group["momentum"], self.state[p]
        if mu:
            buf = state.get("momentum_buffer")
            buf = g.clone() if buf is None else mu * buf + (1 - group["dampening"]) * g
            state["momentum_buffer"] = buf
            g = p.grad + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class SGDDecayOnTheStep(MySGD):
    def _update(self, p, group):
        step_before = p.detach().clone()
        super()._update(p, {**group, "weight_decay": 0.0})
        p -= group["lr"] * group["weight_decay"] * step_before


class SGDStateById(MySGD):
    def _update(self, p, group):
        g = p.grad + group["weight_decay"] * p
        mu = group["momentum"]
        if mu:
            state = self.state[id(p)]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone()
            else:
                state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - group["dampening"]) * g
            g = g + mu * state["momentum_buffer"] if group["nesterov"] else state["momentum_buffer"]
        p -= group["lr"] * g


class SGDMomentumFromDefaults(MySGD):
    def _update(self, p, group):
        super()._update(p, {**group, "momentum": self.defaults["momentum"]})


class SGDFirstGroupsLr(MySGD):
    def _update(self, p, group):
        super()._update(p, {**group, "lr": self.param_groups[0]["lr"]})


class SGDOnLibraryUpdate(Optimizer):
    """A wrapper: the library's own SGD rule does the work."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay, maximize=False))

    def _update(self, p, group):
        optim.SGD._update(self, p, group)


class AdamStepLate(MyAdam):
    def _update(self, p, group):
        b1, b2 = group["betas"]
        g = p.grad + group["weight_decay"] * p
        state = self.state[p]
        t = state.get("step", 0)               # this step's count, before adding 1
        m = b1 * state.get("m", tl.zeros_like(p)) + (1 - b1) * g
        v = b2 * state.get("v", tl.zeros_like(p)) + (1 - b2) * g * g
        state.update(step=t + 1, m=m, v=v)
        p -= group["lr"] * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + group["eps"])


class AdamUnsquared(MyAdam):
    def _update(self, p, group):
        b1, b2 = group["betas"]
        g = p.grad + group["weight_decay"] * p
        state = self.state[p]
        if not state:
            state.update(step=0, m=tl.zeros_like(p), v=tl.zeros_like(p))
        state["step"] += 1
        state["m"] = b1 * state["m"] + (1 - b1) * g
        state["v"] = b2 * state["v"] + (1 - b2) * g
        t = state["step"]
        p -= group["lr"] * (state["m"] / (1 - b1 ** t)) / ((state["v"] / (1 - b2 ** t)).sqrt() + group["eps"])


class AdamBetasFromDefaults(MyAdam):
    def _update(self, p, group):
        super()._update(p, {**group, "betas": self.defaults["betas"]})


class AdamFirstGroupsLr(MyAdam):
    def _update(self, p, group):
        super()._update(p, {**group, "lr": self.param_groups[0]["lr"]})


class AdamStateByName(MyAdam):
    def _update(self, p, group):
        key = f"param{id(p)}"
        saved = self.state[key]
        self.state[p] = saved
        super()._update(p, group)


def decoupled(wrong_adam):
    """An AdamW made of a wrong Adam: the shrink first, then that Adam's step without its L2 term."""
    class WrongAdamW(wrong_adam):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
            super().__init__(params, lr, betas, eps, weight_decay)

        def _update(self, p, group):
            p *= 1 - group["lr"] * group["weight_decay"]
            super()._update(p, {**group, "weight_decay": 0.0})
    WrongAdamW.__name__ = wrong_adam.__name__.replace("Adam", "AdamW", 1)
    return WrongAdamW


class AdamWDecayAfterStep(MyAdamW):
    def _update(self, p, group):
        super()._update(p, {**group, "weight_decay": 0.0})
        p *= 1 - group["lr"] * group["weight_decay"]


class AdamWBothDecays(MyAdam):
    """MyAdam copied, with the shrink added and the L2 term left in."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(self, p, group):
        p *= 1 - group["lr"] * group["weight_decay"]
        super()._update(p, group)


class AdamWEpsFromDefaults(MyAdamW):
    def _update(self, p, group):
        super()._update(p, {**group, "eps": self.defaults["eps"]})


class AdamWFirstGroupsLr(MyAdamW):
    def _update(self, p, group):
        super()._update(p, {**group, "lr": self.param_groups[0]["lr"]})


class AdamWFixedDecay(MyAdamW):
    """A learner's: the group's lr, but AdamW's default weight decay written in (1e-2)."""

    def _update(self, p, group):
        super()._update(p, {**group, "weight_decay": 1e-2})


class AdamWOnLibraryAdam(MyAdamW):
    """A wrapper: the decoupled shrink, then the library's own Adam rule."""
    _update_block = staticmethod(optim.Adam._update_block)

    def _update(self, p, group):
        p.mul_(1 - group["lr"] * group["weight_decay"])
        optim.Adam._update(self, p, {**group, "weight_decay": 0.0, "amsgrad": False, "maximize": False,
                                     "decoupled_weight_decay": False})


class AdamOnLibraryAdam(MyAdam):
    """A wrapper: the library's own Adam rule does the work, on this optimizer's state."""
    _update_block = staticmethod(optim.Adam._update_block)

    def _update(self, p, group):
        optim.Adam._update(self, p, {**group, "amsgrad": False, "maximize": False,
                                     "decoupled_weight_decay": False})


class SGDSubclass(optim.SGD):
    pass


class AdamSubclass(optim.Adam):
    pass


class AdamFromAdamW(optim.AdamW):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


class AdamWSubclass(optim.AdamW):
    pass


KEPT_ALIVE = "was still alive"
NO_PARAMETER = "self.state is keyed by the parameter itself"
ONE_LR = "one lr for all groups"
YOURSELF = "write it yourself"

WRONG += [
    ("04.train_epoch", epoch_sums_loss_tensors, KEPT_ALIVE, ".item()"),
    ("04.train_epoch", epoch_keeps_loss_list, KEPT_ALIVE),
    ("04.train_epoch", epoch_zero_grad_last, "zero_grad comes FIRST"),
    ("04.train_epoch", epoch_weighs_by_batch_size, "you weighed every batch by batch_size"),
    ("04.train_epoch", epoch_divides_by_dataset, "drop_last=True"),
    ("04.train_epoch", epoch_steps_once, "one optimizer step per BATCH"),
    ("04.train_epoch", epoch_never_trains, "handed to your loop in eval mode"),
    ("04.MySGD", SGDVelocity, "your buffer holds steps"),
    ("04.MySGD", SGDDecayWithMomentumOnly, "whether or not there is momentum"),
    ("04.MySGD", SGDNesterovBareGrad, "with the same g that went into the buffer"),
    ("04.MySGD", SGDDecayOnTheStep, "SGD's weight_decay is the gradient of the L2 penalty"),
    ("04.MySGD", SGDStateById, NO_PARAMETER),
    ("04.MySGD", SGDMomentumFromDefaults, GROUPS),
    ("04.MySGD", SGDFirstGroupsLr, ONE_LR),
    ("04.MyAdam", AdamStepLate, "t is 1 at a parameter's first step"),
    ("04.MyAdam", AdamUnsquared, "SQUARED gradient"),
    ("04.MyAdam", _adam("swapped_betas"), "your betas are swapped"),
    ("04.MyAdam", AdamBetasFromDefaults, GROUPS),
    ("04.MyAdam", AdamFirstGroupsLr, ONE_LR),
    ("04.MyAdam", AdamStateByName, NO_PARAMETER),
    ("04.MyAdamW", AdamWDecayAfterStep, "AdamW's decay comes FIRST"),
    ("04.MyAdamW", decoupled(AdamStepLate), "t is 1 at a parameter's first step"),
    ("04.MyAdamW", decoupled(AdamUnsquared), "SQUARED gradient"),
    ("04.MyAdamW", _adam("swapped_betas", True), "your betas are swapped"),
    ("04.MyAdamW", AdamWBothDecays, "REPLACES Adam's L2 term"),
    ("04.MyAdamW", AdamWEpsFromDefaults, GROUPS),
    ("04.MyAdamW", AdamWFirstGroupsLr, ONE_LR),
    ("04.MyAdamW", AdamWFixedDecay, "or a weight decay of 1e-2, AdamW's default"),
]

# "write it yourself": the library's optimizer, as it is, subclassed, or doing the work inside a wrapper
FORBIDDEN = [
    ("04.train_epoch", epoch_with_the_trainer, YOURSELF, "Trainer"),
    ("04.MySGD", optim.SGD, YOURSELF, "SGD"),
    ("04.MySGD", SGDSubclass, YOURSELF, "SGD"),
    ("04.MySGD", SGDOnLibraryUpdate, YOURSELF, "SGD"),
    ("04.MyAdam", optim.Adam, YOURSELF, "Adam"),
    ("04.MyAdam", AdamSubclass, YOURSELF, "Adam"),
    ("04.MyAdam", AdamFromAdamW, YOURSELF, "Adam"),
    ("04.MyAdam", AdamOnLibraryAdam, YOURSELF, "Adam"),
    ("04.MyAdamW", optim.AdamW, YOURSELF, "AdamW"),
    ("04.MyAdamW", AdamWSubclass, YOURSELF, "AdamW"),
    ("04.MyAdamW", AdamWOnLibraryAdam, YOURSELF, "Adam"),
]
WRONG += FORBIDDEN
ERRORS += [("04.MyAdam", type("AdamStep", (MyAdam,), {"step": SGDStepWithGrad.step}), "no_grad"),
           ("04.MyAdamW", type("AdamWStep", (MyAdamW,), {"step": SGDStepWithGrad.step}), "no_grad")]


# -------------------------------------------------------------------- the references are torch.optim
TORCH = {"04.MySGD": torch.optim.SGD, "04.MyAdam": torch.optim.Adam, "04.MyAdamW": torch.optim.AdamW}


def torch_run(optimizer_class, setup, kwargs):
    """``drive_optimizer`` with torch.optim and torch tensors: the same steps, the same save and resume (into new
    tensors), the same changes of the lr."""
    params = [torch.tensor(s.copy(), requires_grad=True) for s in setup.starts]

    def groups():
        if setup.groups is None:
            return params
        return [{"params": [params[i] for i in idx], **hyper} for idx, hyper in setup.groups]
    opt = optimizer_class(groups(), **kwargs)
    rows = []
    for t in range(setup.steps):
        if t == setup.resume_at:
            saved = copy.deepcopy(opt.state_dict())
            params = [p.detach().clone().requires_grad_(True) for p in params]
            opt = optimizer_class(groups(), **kwargs)
            opt.load_state_dict(saved)
        if t in setup.schedule:
            for group in opt.param_groups:
                group["lr"] = group["lr"] * setup.schedule[t]
        opt.zero_grad(set_to_none=setup.set_to_none)
        setup.loss(*params).backward()
        if setup.skips(t):
            params[setup.skip].grad = None
        opt.step()
        rows.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize("exercise_id", sorted(TORCH))
def test_the_reference_equals_torch_optim_on_every_case(exercise_id):
    exercise = get_exercise(exercise_id)
    for case in exercise.all_cases():
        ours = np.asarray(exercise.run(exercise.reference, copy.deepcopy(case.args), dict(case.kwargs)))
        theirs = torch_run(TORCH[exercise_id], case.args[0], case.kwargs)
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-6, err_msg=f"{exercise_id}: {case.label}")


# -------------------------------------------------------------------- the numbers the lesson teaches
def test_momentum_on_an_oscillating_gradient_settles_at_one_over_one_plus_mu():
    mu, b, seen = 0.9, 0.0, []
    for t in range(200):
        b = mu * b + (1 if t % 2 == 0 else -1)
        seen.append(b)
    np.testing.assert_allclose(seen[:4], [1, -0.1, 0.91, -0.181])
    assert abs(abs(seen[-1]) - 1 / (1 + mu)) < 1e-6


def test_adams_first_step_without_bias_correction_is_316_times_too_large():
    g, b1, b2 = 0.3, 0.9, 0.999
    m, v = (1 - b1) * g, (1 - b2) * g * g
    assert np.isclose((m / np.sqrt(v)) / ((m / (1 - b1)) / np.sqrt(v / (1 - b2))), 3.1623, rtol=1e-4)


def test_adamw_one_step_shrinks_by_lr_times_decay():
    w = tl.tensor([1.0], requires_grad=True)
    w.grad = tl.zeros(1)
    opt = optim.AdamW([w], lr=1e-3, weight_decay=0.01)
    opt.step()
    assert np.isclose(w.item(), 0.99999)


def test_a_wrong_optimizer_names_the_case_and_the_step():
    result = assert_fails_with("04.MySGD", SGDChangesGrad, "after step 1")
    assert "hidden case" in result.message or "example" in result.message


def test_the_epoch_loss_is_weighted_by_batch_size():
    """The lesson's numbers: 3 batches of 32 at loss 1 and one of 4 at loss 5: 1.16, not 2.0."""
    mean = RunningMean()
    for loss, n in [(1.0, 32), (1.0, 32), (1.0, 32), (5.0, 4)]:
        mean.update(loss, n)
    assert np.isclose(mean.mean, 1.16) and np.isclose(np.mean([1, 1, 1, 5]), 2.0)


def _notebook_namespace():
    """What the solution notebook defines up to its trajectory helpers (the cells that define functions)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    namespace = dict(NAMES, plt=plt, DataLoader=tl.utils.data.DataLoader,
                     TensorDataset=tl.utils.data.TensorDataset)
    for cell in read_notebook(SOLUTION).cells:
        if cell.cell_type == "code" and cell.source.startswith(("def epoch_example", "def bowl")):
            define(cell.source, namespace, "<example cell>")
    plt.close("all")
    return namespace


def test_the_visible_examples_are_the_notebooks():
    """The example each check names is the one the notebook shows: the same numbers."""
    namespace = _notebook_namespace()
    case = get_exercise("04.train_epoch").all_cases()[0]
    expected = np.asarray(drive_train_epoch(train_epoch, case.args, {}))
    model, loader, loss_fn, optimizer = namespace["epoch_example"]()
    loss = train_epoch(model, loader, loss_fn, optimizer)
    got = np.concatenate([[loss]] + [p.detach().numpy().ravel() for p in model.parameters()])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    for exercise_id, make in (("04.MySGD", lambda ps: optim.SGD(ps, lr=0.04, momentum=0.9)),
                              ("04.MyAdam", lambda ps: optim.Adam(ps, lr=0.1)),
                              ("04.MyAdamW", lambda ps: optim.AdamW(ps, lr=0.1))):
        case = get_exercise(exercise_id).all_cases()[0]
        assert case.visible
        expected = np.asarray(drive_optimizer(get_exercise(exercise_id).reference, case.args, case.kwargs))
        points, _ = namespace["trajectory"](make, namespace["bowl"], [-2.0, 1.0])
        np.testing.assert_allclose(points[1:], expected, rtol=1e-5, atol=1e-6, err_msg=exercise_id)
    source = "\n".join(c.source for c in read_notebook(SOLUTION).cells)
    assert "optim.SGD(ps, lr=0.04, momentum=0.9), bowl, [-2.0, 1.0]" in source
    assert "optim.Adam(ps, lr=0.1), bowl, [-2.0, 1.0]" in source
    assert "optim.AdamW(ps, lr=0.1), bowl, [-2.0, 1.0]" in source      # MyAdamW's example (review 46)


def test_no_exercise_text_holds_its_solution_lines():
    """The text of each exercise (its markdown cell, from the heading on) never contains a line of its solution."""
    cells = read_notebook(SOLUTION).cells
    markdown = "\n".join(c.source[c.source.index("### Exercise"):] for c in cells
                         if c.cell_type == "markdown" and "### Exercise" in c.source)
    for cell in exercise_cells(SOLUTION).values():
        body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
        for line in body.splitlines():
            code = line.split("#")[0].strip()
            if len(code) > 12:
                assert code not in markdown, code


# -------------------------------------------------------------------- review 0405 (second round)
def epoch_skips_the_short_batch(model, loader, loss_fn, optimizer):
    """Leaves out the smaller last batch, and takes .item() at once: no graph is kept, the weights are off."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        if len(x) < loader.batch_size:
            continue
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / count


class SGDNesterovZeroOld(MySGD):
    """Nesterov's look-ahead with the buffer from before this step, which starts at zeros: g + mu b_(t-1) is the
    plain-momentum buffer b_t when dampening is 0, so the run is nesterov=False's."""
    def _update(self, p, group):
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        g = p.grad + group["weight_decay"] * p
        if mu != 0:
            state = self.state[p]
            old = state.get("momentum_buffer")
            if old is None:
                new, old = g.clone(), tl.zeros_like(p)
            else:
                new = mu * old + (1 - tau) * g
            state["momentum_buffer"] = new
            g = g + mu * old if group["nesterov"] else new
        p -= lr * g


def _floored_adam(denominator, base=MyAdam):
    """MyAdam (or MyAdamW) with a 'stability' floor in the denominator."""
    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        g = p.grad if base is MyAdamW else p.grad + group["weight_decay"] * p
        if base is MyAdamW:
            p *= 1 - group["lr"] * group["weight_decay"]
        state = self.state[p]
        if not state:
            state["step"], state["m"], state["v"] = 0, tl.zeros_like(p), tl.zeros_like(p)
        state["step"] += 1
        state["m"] = beta1 * state["m"] + (1 - beta1) * g
        state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
        m_hat = state["m"] / (1 - beta1 ** state["step"])
        v_hat = state["v"] / (1 - beta2 ** state["step"])
        p -= group["lr"] * m_hat / denominator(v_hat, group["eps"])
    return type(f"{base.__name__}Floored", (base,), {"_update": _update})


TINY = "tiny gradients"
WRONG += [
    ("04.train_epoch", epoch_skips_the_short_batch, "left out the smaller last batch"),
    ("04.MySGD", SGDNesterovZeroOld, "the look-ahead takes the buffer from BEFORE"),
    ("04.MyAdam", _floored_adam(lambda v, eps: v.clamp(min=1e-8).sqrt() + eps), TINY, "a clamp on v_hat"),
    ("04.MyAdam", _floored_adam(lambda v, eps: v.clamp(min=1e-12).sqrt() + eps), TINY),
    ("04.MyAdam", _floored_adam(lambda v, eps: (v + 1e-8).sqrt() + eps), TINY),
    ("04.MyAdam", _floored_adam(lambda v, eps: (v + 1e-6).sqrt() + eps), TINY),
    ("04.MyAdamW", _floored_adam(lambda v, eps: v.clamp(min=1e-8).sqrt() + eps, MyAdamW), TINY),
    ("04.MyAdamW", _floored_adam(lambda v, eps: (v + 1e-8).sqrt() + eps, MyAdamW), TINY),
    # floors at eps itself: they act only where |g| < eps (review 5), on the case "gradients below eps"
    ("04.MyAdam", _floored_adam(lambda v, eps: v.clamp(min=eps ** 2).sqrt() + eps), TINY, "below eps"),
    ("04.MyAdam", _floored_adam(lambda v, eps: v.sqrt().clamp(min=eps) + eps), TINY, "below eps"),
    ("04.MyAdamW", _floored_adam(lambda v, eps: v.clamp(min=eps ** 2).sqrt() + eps, MyAdamW), TINY),
]


def test_a_trajectory_message_shows_the_numbers_that_differ():
    """Only the weight decay read from the defaults: the first numbers agree, and the message shows from the
    first one that differs (not six equal numbers under "expected" and "got")."""
    nesterov_from_defaults = type("SGDNesterovFromDefaults", (MySGD,), {"_update": lambda self, p, group: MySGD._update(
        self, p, {**group, "nesterov": self.defaults["nesterov"]})})
    result = assert_fails_with("04.MySGD", nesterov_from_defaults, GROUPS)
    text = result.message
    expected, got = text.split("expected ")[1].split(", got ")[0], text.split(", got ")[1].split("]")[0] + "]"
    assert expected != got, text


class AdamWRebindsThenReads(MyAdamW):
    """Shrinks p by rebinding it (a new tensor), then reads its gradient: None."""
    def _update(self, p, group):
        p = p * (1 - group["lr"] * group["weight_decay"])
        MyAdam._update(self, p, {**group, "weight_decay": 0.0})


class SGDRebindsThenReads(MySGD):
    def _update(self, p, group):
        p = p * (1 - group["lr"] * group["weight_decay"])
        p -= group["lr"] * p.grad


REBOUND = "a value in your update is None"
ERRORS += [("04.MyAdamW", AdamWRebindsThenReads, "TypeError", REBOUND),
           ("04.MyAdam", type("AdamRebindsThenReads", (AdamWRebindsThenReads,), {}), "TypeError", REBOUND),
           ("04.MySGD", SGDRebindsThenReads, "TypeError", REBOUND)]


class SGDOneBuffer(MySGD):
    """One momentum buffer for all the parameters (an attribute of the optimizer): the bias meets the weight's."""
    buffer = None

    def _update(self, p, group):
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        g = p.grad + group["weight_decay"] * p
        if mu != 0:
            self.buffer = g.clone() if self.buffer is None else mu * self.buffer + (1 - tau) * g
            g = g + mu * self.buffer if group["nesterov"] else self.buffer
        p -= lr * g


ERRORS += [("04.MySGD", SGDOneBuffer, "cannot be broadcast", "got mixed up between parameters")]


# -------------------------------------------------------------------- float64 parameters (issue 19, third review)
class SGDBufferFloat32(MySGD):
    """The buffer made with tl.zeros(*p.shape) (float32 whatever p is) and updated in place: on float64
    parameters it rounds the momentum to float32 at every step."""
    def _update(self, p, group):
        mu, tau = group["momentum"], group["dampening"]
        g = p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        if mu != 0:
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = tl.zeros(*p.shape)
                state["momentum_buffer"].copy_(g)
            else:
                state["momentum_buffer"].mul_(mu)
                state["momentum_buffer"].add_((1 - tau) * g)
            buf = state["momentum_buffer"]
            g = g + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g


def _adam_float32_state(decoupled):
    """m and v made with tl.zeros(*p.shape) (float32) and updated in place."""
    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        g = p.grad
        if decoupled:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            g = g + wd * p
        state = self.state[p]
        if len(state) == 0:
            state["step"] = 0
            state["exp_avg"] = tl.zeros(*p.shape)
            state["exp_avg_sq"] = tl.zeros(*p.shape)
        state["step"] += 1
        t = state["step"]
        state["exp_avg"].mul_(beta1).add_(g, alpha=1 - beta1)
        state["exp_avg_sq"].mul_(beta2).add_(g * g, alpha=1 - beta2)
        denom = (state["exp_avg_sq"] / (1 - beta2 ** t)).sqrt() + eps
        p.sub_(lr / (1 - beta1 ** t) * state["exp_avg"] / denom)
    base = MyAdamW if decoupled else MyAdam
    return type(f"{base.__name__}StateFloat32", (base,), {"_update": _update})


def _adam_step_tensor(decoupled):
    """The step kept as a float32 0-d tensor (as PyTorch keeps it) and used in the bias correction as it is:
    beta ** t is then float32."""
    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        g = p.grad
        if decoupled:
            p *= 1 - group["lr"] * group["weight_decay"]
        elif group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        s = self.state[p]
        if not s:
            s["step"] = tl.tensor(0.0)
            s["exp_avg"] = tl.zeros_like(p)
            s["exp_avg_sq"] = tl.zeros_like(p)
        s["step"] += 1
        t = s["step"]
        s["exp_avg"] = beta1 * s["exp_avg"] + (1 - beta1) * g
        s["exp_avg_sq"] = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
        m_hat = s["exp_avg"] / (1 - beta1 ** t)
        v_hat = s["exp_avg_sq"] / (1 - beta2 ** t)
        p -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])
    base = MyAdamW if decoupled else MyAdam
    return type(f"{base.__name__}StepTensor", (base,), {"_update": _update})


def _adam_step_tensor_item(decoupled):
    """The same float32 step tensor, its number taken out with .item(): right."""
    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        g = p.grad
        if decoupled:
            p *= 1 - group["lr"] * group["weight_decay"]
        elif group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        s = self.state[p]
        if not s:
            s["step"], s["exp_avg"], s["exp_avg_sq"] = tl.tensor(0.0), tl.zeros_like(p), tl.zeros_like(p)
        s["step"] += 1
        t = s["step"].item()
        s["exp_avg"].mul_(beta1).add_(g, alpha=1 - beta1)
        s["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
        step_size = group["lr"] / (1 - beta1 ** t)
        denom = (s["exp_avg_sq"].sqrt() / (1 - beta2 ** t) ** 0.5).add_(group["eps"])
        p.addcdiv_(s["exp_avg"], denom, value=-step_size)
    base = MyAdamW if decoupled else MyAdam
    return type(f"{base.__name__}StepItem", (base,), {"_update": _update})


FLOAT32_BUFFER = "while the parameter is float64"
FLOAT32_STEP = "your bias correction was computed in float32"
WRONG += [
    ("04.MySGD", SGDBufferFloat32, FLOAT32_BUFFER, "tl.zeros_like(p)"),
    ("04.MyAdam", _adam_float32_state(False), FLOAT32_BUFFER, "tl.zeros_like(p)"),
    ("04.MyAdam", _adam_step_tensor(False), FLOAT32_STEP, "Python number"),
    ("04.MyAdamW", _adam_float32_state(True), FLOAT32_BUFFER),
    ("04.MyAdamW", _adam_step_tensor(True), FLOAT32_STEP),
]
ALSO_RIGHT += [("04.MyAdam", _adam_step_tensor_item(False)), ("04.MyAdamW", _adam_step_tensor_item(True))]


def epoch_loss_after_the_step(model, loader, loss_fn, optimizer):
    """Each batch's loss evaluated again after the step, under no_grad: the weights are right, the number is not
    (and the training loss, still named, is no graph kept alive: the message must be about the number)."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        with tl.no_grad():
            total += loss_fn(model(x), y).item() * len(x)
        count += len(x)
    return total / count


def epoch_two_losses_kept(model, loader, loss_fn, optimizer):
    """Two loss tensors a batch (a training loss and a no_grad one), both kept in a list: the graphs stay alive."""
    model.train()
    kept, count = [], 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        with tl.no_grad():
            loss_fn(model(x), y)
        kept.append(loss * len(x))
        count += len(x)
    return sum(k.item() for k in kept) / count


WRONG += [("04.train_epoch", epoch_loss_after_the_step, "computed again AFTER the step", "the weights are right"),
          ("04.train_epoch", epoch_two_losses_kept, KEPT_ALIVE)]


class SGDSharedFirstStep(MySGD):
    """The first step told by a counter on the optimizer (self.t), shared by every parameter: only the first
    parameter's buffer starts as its gradient, the others' are dampened."""
    def _update(self, p, group):
        self.t = getattr(self, "t", 0) + 1
        mu, tau = group["momentum"], group["dampening"]
        g = p.grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        if mu != 0:
            state = self.state[p]
            if self.t == 1 or "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone() if self.t == 1 else (1 - tau) * g
            else:
                state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - tau) * g
            buf = state["momentum_buffer"]
            g = g + mu * buf if group["nesterov"] else buf
        p -= group["lr"] * g


WRONG += [("04.MySGD", SGDSharedFirstStep, "for EVERY parameter", "a counter on self")]


# -------------------------------------------------------------------- more wrong versions (review 4)
def epoch_returns_detached_tensor(model, loader, loss_fn, optimizer):
    model.train()
    total, n = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total = total + loss.detach() * len(x)
        n += len(x)
    return total / n


def _adam_denominator(denominator):
    """A learner's MyAdam whose denominator is ``denominator(v_hat, eps)``."""
    class AdamDenominator(MyAdam):
        def _update(self, p, group):
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            g = p.grad + wd * p if wd else p.grad
            st = self.state[p]
            if not st:
                st.update(step=0, m=tl.zeros_like(p), v=tl.zeros_like(p))
            st["step"] += 1
            t = st["step"]
            st["m"] = b1 * st["m"] + (1 - b1) * g
            st["v"] = b2 * st["v"] + (1 - b2) * g * g
            p -= lr * (st["m"] / (1 - b1 ** t)) / denominator(st["v"] / (1 - b2 ** t), eps)
    return AdamDenominator


TINY_AFTER = "a second small constant added after the square root"
UNDER_ROOT = "a small constant added under the square root"
WRONG += [
    ("04.train_epoch", epoch_returns_detached_tensor, "(detached, so it holds no graph)", ".item()"),
    ("04.MyAdam", _adam_denominator(lambda v, eps: v.sqrt() + eps + 1e-12), TINY_AFTER),
    ("04.MyAdam", _adam_denominator(lambda v, eps: v.sqrt() + eps + 1e-11), TINY_AFTER),
    ("04.MyAdam", _adam_denominator(lambda v, eps: v.sqrt() + eps + 3e-10), TINY_AFTER),
    ("04.MyAdam", _adam_denominator(lambda v, eps: (v + 1e-20).sqrt() + eps), UNDER_ROOT),
    ("04.MyAdam", _adam_denominator(lambda v, eps: v.sqrt().clamp(min=eps)), "not used as a floor under it"),
]


def _adamw_denominator(denominator):
    """A learner's MyAdamW whose denominator is ``denominator(v_hat, eps)``."""
    adam = _adam_denominator(denominator)

    class AdamWDenominator(MyAdamW):
        def _update(self, p, group):
            p.mul_(1 - group["lr"] * group["weight_decay"])
            adam._update(self, p, {**group, "weight_decay": 0.0})
    return AdamWDenominator


WRONG += [
    ("04.MyAdamW", _adamw_denominator(lambda v, eps: v.sqrt() + eps + 1e-12), TINY_AFTER),
    ("04.MyAdamW", _adamw_denominator(lambda v, eps: v.sqrt().clamp(min=eps)), "not used as a floor under it"),
]


class AdamEpsFromDefaults(MyAdam):
    def _update(self, p, group):
        super()._update(p, {**group, "eps": self.defaults["eps"]})


WRONG += [("04.MyAdam", AdamEpsFromDefaults, "hyperparameters of ITS group")]
WRONG += [("04.MyAdamW", _adamw_denominator(lambda v, eps: (v + 1e-20).sqrt() + eps), UNDER_ROOT)]

# review 6: a constant under the square root (or a clamp on v_hat) of about 1e-15 was told "added AFTER the square
# root". Decade values are recognised exactly (the tiny-gradients hint); others, on the float32 case, get a hint
# that names both places, and never the "after the square root" one
WRONG += [
    ("04.MyAdam", _adam_denominator(lambda v, eps: (v + 1e-15).sqrt() + eps), TINY, "under the square root"),
    ("04.MyAdam", _adam_denominator(lambda v, eps: v.clamp(min=1e-15).sqrt() + eps), TINY, "a clamp on v_hat"),
    ("04.MyAdam", _adam_denominator(lambda v, eps: (v + 1e-14).sqrt() + eps), TINY),
    ("04.MyAdam", _adam_denominator(lambda v, eps: (v + 3e-15).sqrt() + eps), "or under it (sqrt(v_hat + c)"),
    ("04.MyAdam", _adam_denominator(lambda v, eps: v.clamp(min=3e-16).sqrt() + eps), "or a clamp on v_hat"),
    ("04.MyAdamW", _adamw_denominator(lambda v, eps: (v + 3e-15).sqrt() + eps), "or under it (sqrt(v_hat + c)"),
    ("04.MyAdamW", _adamw_denominator(lambda v, eps: (v + 1e-15).sqrt() + eps), TINY),
]


@pytest.mark.parametrize("floor", [3e-16, 1e-15, 3e-15, 1e-14, 1e-13])
def test_a_constant_under_the_root_is_never_said_to_be_after_it(floor):
    for denominator in (lambda v, eps: (v + floor).sqrt() + eps, lambda v, eps: v.clamp(min=floor).sqrt() + eps):
        result = assert_fails_with("04.MyAdam", _adam_denominator(denominator))
        assert "added after the square root, besides eps" not in result.message


# -------------------------------------------------------------------- issue 32: allowlists, and a float64 epoch
# The optimizers' texts name their building blocks (tensor arithmetic; and sqrt for Adam): another optimizer, or a
# functional one of PyTorch working on views of the tensors, is refused by name. Each of these passed before.
def _view(t):
    return torch.from_numpy(t.detach().numpy())  # (the same memory as t)


class SGDThroughTorchFunctional(Optimizer):
    """PyTorch's functional SGD (torch.optim.sgd.sgd) on views of the parameter, its gradient and its buffer."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay))

    def _update(self, p, group):
        from torch.optim.sgd import sgd
        state = self.state[p]
        buffers = [_view(state["momentum_buffer"]) if "momentum_buffer" in state else None]
        sgd([_view(p)], [_view(p.grad).clone()], buffers, weight_decay=group["weight_decay"],
            momentum=group["momentum"], lr=group["lr"], dampening=group["dampening"], nesterov=group["nesterov"],
            maximize=False)
        if buffers[0] is not None and "momentum_buffer" not in state:
            state["momentum_buffer"] = tl.tensor(buffers[0].numpy())


def _adam_through_torch_functional(decoupled):
    class AdamThroughTorchFunctional(Optimizer):
        """PyTorch's functional Adam (torch.optim.adam.adam) on views of the parameter and of m and v."""

        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2 if decoupled else 0.0):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

        def _update(self, p, group):
            from torch.optim.adam import adam
            state = self.state[p]
            if not state:
                state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, tl.zeros_like(p), tl.zeros_like(p)
            adam([_view(p)], [_view(p.grad).clone()], [_view(state["exp_avg"])], [_view(state["exp_avg_sq"])], [],
                 [torch.tensor(float(state["step"]))], foreach=False, decoupled_weight_decay=decoupled,
                 amsgrad=False, beta1=group["betas"][0], beta2=group["betas"][1], lr=group["lr"],
                 weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)
            state["step"] += 1
    return AdamThroughTorchFunctional


class SGDThroughTorchFused(Optimizer):
    """PyTorch's fused SGD kernel (torch._fused_sgd_: the whole update in one call) on views of the tensors."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay))

    def _update(self, p, group):
        state = self.state[p]
        first = "momentum_buffer" not in state
        if first:
            state["momentum_buffer"] = tl.zeros_like(p)
        buffers = [_view(state["momentum_buffer"])] if group["momentum"] != 0 else []
        torch._fused_sgd_([_view(p)], [_view(p.grad).clone()], buffers, weight_decay=group["weight_decay"],
                          momentum=group["momentum"], lr=group["lr"], dampening=group["dampening"],
                          nesterov=group["nesterov"], maximize=False, is_first_step=first)


def _adam_through_torch_fused(decoupled):
    class AdamThroughTorchFused(Optimizer):
        """PyTorch's fused Adam or AdamW kernel (torch._fused_adam_, torch._fused_adamw_) on views of the tensors."""

        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2 if decoupled else 0.0):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

        def _update(self, p, group):
            state = self.state[p]
            if not state:
                state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, tl.zeros_like(p), tl.zeros_like(p)
            state["step"] += 1
            kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_
            kernel([_view(p)], [_view(p.grad).clone()], [_view(state["exp_avg"])], [_view(state["exp_avg_sq"])], [],
                   [torch.tensor(float(state["step"]))], lr=group["lr"], beta1=group["betas"][0],
                   beta2=group["betas"][1], weight_decay=group["weight_decay"], eps=group["eps"], amsgrad=False,
                   maximize=False)
    return AdamThroughTorchFused


def epoch_sums_in_a_float32_tensor(model, loader, loss_fn, optimizer):
    """Detached losses added in place into tl.tensor(0.0), float32: right for a float32 model only."""
    model.train()
    total, count = tl.tensor(0.0), 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(x)
        count += len(x)
    return total.item() / count


def epoch_sums_in_a_numpy_float32(model, loader, loss_fn, optimizer):
    """The numbers added up in np.float32(0), a numpy float32 scalar: the sum stays float32."""
    model.train()
    total, count = np.float32(0), 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x)
        count += len(x)
    return float(total) / count


WRONG += [
    ("04.MySGD", SGDThroughTorchFunctional, "your code uses torch.optim.sgd.sgd", ALLOWS + ";"),
    ("04.MyAdam", _adam_through_torch_functional(False), "your code uses torch.optim.adam.adam",
     ALLOWS + ", sqrt;"),
    ("04.MyAdamW", _adam_through_torch_functional(True), "your code uses torch.optim.adam.adam",
     ALLOWS + ", sqrt;"),
    # issue 32 review: PyTorch's fused kernels, one call for the whole update
    ("04.MySGD", SGDThroughTorchFused, "your code uses torch._fused_sgd_"),
    ("04.MyAdam", _adam_through_torch_fused(False), "your code uses torch._fused_adam"),
    ("04.MyAdamW", _adam_through_torch_fused(True), "your code uses torch._fused_adam"),
    ("04.train_epoch", epoch_sums_in_a_float32_tensor, "hidden case 9 of 9", "carries float32's rounding",
     "tl.tensor(0.0)"),
    ("04.train_epoch", epoch_sums_in_a_numpy_float32, "hidden case 9 of 9", "carries float32's rounding",
     "a numpy float32 scalar (np.float32(0))"),
]


# -------------------------------------------------------------------- review 46 (a learner's review of the core path)
def epoch_counts_batch_size(model, loader, loss_fn, optimizer):
    """Weighs and counts every batch as loader.batch_size: the mean of the batch means, by another road."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * loader.batch_size
        count += loader.batch_size
    return total / count


class SGDFrame(Optimizer):
    """The notebook's frame of MySGD, with part 2, 3 or 4 written as ``how`` says."""
    how = None

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay))

    def _update(self, p, group):
        lr, mu, dampening = group["lr"], group["momentum"], group["dampening"]
        state = self.state[p]
        g = p.grad + group["weight_decay"] * p
        if mu != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone()
            elif self.how == "local":  # the new buffer in a local name, not stored
                b = mu * state["momentum_buffer"] + (1 - dampening) * g
            elif self.how == "damp_times":
                state["momentum_buffer"] = mu * state["momentum_buffer"] + dampening * g
            else:
                state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - dampening) * g
            b = state["momentum_buffer"]
            if self.how == "swapped":
                g = b + mu * g if group["nesterov"] else b
            elif self.how == "unscaled":  # Nesterov's buffer added without its momentum
                g = g + b if group["nesterov"] else b
            else:
                g = g + mu * b if group["nesterov"] else b
        p -= lr * g


def _sgd_frame(how):
    return type(f"MySGD_{how}", (SGDFrame,), {"how": how})


class AdamFrame(Optimizer):
    """The notebook's frame of MyAdam (_update hands g to _adam_step), with _adam_step written as ``how`` says."""
    how = None

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p, group):
        self._adam_step(p, p.grad + group["weight_decay"] * p, group)

    def _adam_step(self, p, g, group):
        beta1, beta2 = group["betas"]
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = tl.zeros_like(p)
            state["exp_avg_sq"] = tl.zeros_like(p)
        if self.how == "stub":
            raise NotImplementedError("04.MyAdam: not written yet")
        state["step"] += 1
        t = state["step"]
        if self.how == "grad":  # p.grad read again: the g handed over (with its weight decay) is dropped
            g = p.grad
        if self.how == "local":  # m and v rebound locally: the stored averages stay 0
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
        else:
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
            m, v = state["exp_avg"], state["exp_avg_sq"]
        if self.how == "div_":  # the correction in place: the stored m becomes m_hat
            m_hat = m.div_(1 - beta1 ** t)
        else:
            m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        if self.how == "eps_on_v":  # the paper's "efficient" form: eps on the uncorrected sqrt(v)
            p -= group["lr"] * (1 - beta2 ** t) ** 0.5 / (1 - beta1 ** t) * m / (v.sqrt() + group["eps"])
        elif self.how == "no_correction":
            p -= group["lr"] * m / (v.sqrt() + group["eps"])
        else:
            p -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])


class AdamWFrame(AdamFrame):
    """The notebook's frame of MyAdamW on an AdamFrame, its shrink written as ``decay`` says."""
    decay = None

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, p, group):
        if self.decay == "subtract":
            p -= group["lr"] * group["weight_decay"]
        elif self.decay == "lr_1e-3":
            p *= 1 - 1e-3 * group["weight_decay"]
        elif self.decay == "lr_defaults":
            p *= 1 - self.defaults["lr"] * group["weight_decay"]
        elif self.decay == "rebinds":  # a new tensor: p.grad is None, and add_ says so in its own words
            p = p * (1 - group["lr"] * group["weight_decay"])
            state = self.state[p]
            state["exp_avg"] = tl.zeros_like(p).add_(p.grad, alpha=0.1)
            return
        else:
            p *= 1 - group["lr"] * group["weight_decay"]
        self._adam_step(p, p.grad, group)


def _adam_frame(how=None, decay=None, decoupled=False):
    base = AdamWFrame if decoupled else AdamFrame
    return type(f"{base.__name__}_{how}_{decay}", (base,), {"how": how, "decay": decay})


INHERITED = "(in MyAdam._adam_step, which MyAdamW inherits"
KEPT = "must be STORED in self.state[p]"
WRONG += [
    ("04.train_epoch", epoch_counts_batch_size, "mean of the batch means is biased", "use len(x)"),
    ("04.MySGD", _sgd_frame("local"), "never changed after step 1", 'STORED in state["momentum_buffer"]'),
    ("04.MySGD", _sgd_frame("damp_times"), "the weight (1 - dampening)"),
    ("04.MySGD", _sgd_frame("swapped"), "the roles of g and b swapped"),
    ("04.MySGD", _sgd_frame("unscaled"), "Yours adds the buffer unscaled"),
    ("04.MyAdam", _adam_frame("local"), KEPT),
    ("04.MyAdam", _adam_frame("div_"), "the bias correction changed the stored average"),
    ("04.MyAdam", _adam_frame("eps_on_v"), "eps is added to sqrt(v_hat), the CORRECTED average"),
    # a learner's, in review: the hint must not say only "use weight_decay itself" (it is used, then dropped)
    ("04.MyAdam", _adam_frame("grad"), "Adam's without weight decay", "never reaches the step"),
    ("04.MyAdamW", _adam_frame("local", decoupled=True), KEPT, INHERITED),
    ("04.MyAdamW", _adam_frame("div_", decoupled=True), "changed the stored average", INHERITED),
    ("04.MyAdamW", _adam_frame("eps_on_v", decoupled=True), "the CORRECTED average", INHERITED),
    ("04.MyAdamW", _adam_frame("no_correction", decoupled=True), CORRECTION, INHERITED),
    ("04.MyAdamW", _adam_frame("stub", decoupled=True), "inherits _adam_step from your MyAdam",
     "finish 04.MyAdam"),
    ("04.MyAdamW", _adam_frame(decay="subtract", decoupled=True), "MULTIPLIES each weight"),
    ("04.MyAdamW", _adam_frame(decay="lr_1e-3", decoupled=True), "the weight_decay of the parameter's GROUP"),
    ("04.MyAdamW", _adam_frame(decay="lr_defaults", decoupled=True), "the weight_decay of the parameter's GROUP"),
]
ALSO_RIGHT += [("04.MySGD", _sgd_frame(None)), ("04.MyAdam", _adam_frame()),
               ("04.MyAdamW", _adam_frame(decoupled=True))]
ERRORS += [("04.MyAdamW", _adam_frame(decay="rebinds", decoupled=True), "expected numbers, got NoneType",
            REBOUND)]


def test_the_released_stubs_say_their_own_part():
    """Each stub of MySGD and MyAdam names its own part (the comment above it), not 'the next part of the task'."""
    for exercise_id, cell in exercise_cells(RELEASED).items():
        if exercise_id in ("04.MySGD", "04.MyAdam"):
            stubs = [line.strip() for line in cell.source.splitlines() if "YOUR CODE HERE" in line]
            parts = 4 if exercise_id == "04.MySGD" else 2
            assert stubs == [f"# YOUR CODE HERE: part {k} (the comment above)" for k in range(1, parts + 1)], stubs


class _AdamWDecayAfterTheStep(MyAdam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        Optimizer.__init__(self, params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _update(self, p, group):
        super()._update(p, {**group, "weight_decay": 0.0})
        p -= group["lr"] * group["weight_decay"] * p


def test_the_checks_replays_of_wrong_versions_warn_nothing():
    """A review saw "RuntimeWarning: overflow encountered in divide" under a check of a slightly wrong AdamW: the
    check's matching replays known-wrong optimizers (a bias correction at t = 0, ...), which overflow on purpose.
    The learner's own code may warn; the check's diagnosis must not."""
    import warnings

    from tinygrad_lite.course.checks import run_check
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_check(get_exercise("04.MyAdamW"), _AdamWDecayAfterTheStep)
    assert result.status == "failed" and "AdamW's decay comes FIRST" in result.message
    assert [str(w.message) for w in caught] == []


# learner-attack 0304: a float32 parameter (or buffer) made float64 got the course's hint for the opposite, a
# float32 where a float64 is expected; the step count off by one in the bias correction got numbers only
class SGDParameterDouble(MySGD):
    def _update(self, p, group):
        p.data = (p.data - group["lr"] * p.grad).double()   # a float64 tensor assigned through .data


def _made_float64(base, what):
    """``base``'s update, then its float32 parameter (``what`` "parameter") or first moment ("buffer") made
    float64 with .double()."""
    def _update(self, p, group):
        base._update(self, p, group)
        if what == "parameter":
            p.data = p.data.double()
        else:
            key = next(k for k, v in self.state[p].items() if isinstance(v, tl.Tensor) and v.shape == p.shape)
            self.state[p][key] = self.state[p][key].double()
    return type(f"{base.__name__}{what.title()}Float64", (base,), {"_update": _update})


def _adam_counting(name, t_of, count_first=True):
    """A learner's MyAdam whose bias correction divides by 1 - beta^t with t = t_of(the step count), the count
    advanced before the update (or, with ``count_first=False``, after it); t = 0 skips the correction."""
    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        g = p.grad + group["weight_decay"] * p
        state = self.state[p]
        if not state:
            state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, tl.zeros_like(p), tl.zeros_like(p)
        state["step"] += count_first
        t = t_of(state["step"])
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        bc1, bc2 = (1 - beta1 ** t, 1 - beta2 ** t) if t else (1.0, 1.0)
        p -= group["lr"] * (state["exp_avg"] / bc1) / ((state["exp_avg_sq"] / bc2).sqrt() + group["eps"])
        state["step"] += not count_first
    return type(name, (MyAdam,), {"_update": _update})


AdamStepAhead = _adam_counting("AdamStepAhead", lambda t: t + 1)  # t already advanced: one ahead
AdamStepBehindGuarded = _adam_counting("AdamStepBehindGuarded", lambda t: t - 1)  # one behind, its 0 guarded
# counted after the step, its 0 raised to 1
AdamStepNotYetCounted = _adam_counting("AdamStepNotYetCounted", lambda t: max(t, 1), count_first=False)


PARAMETER_FLOAT64 = "your update turned the float32 parameter into float64"
BUFFER_FLOAT64 = "a buffer in self.state[p] became float64 while its parameter is float32"
AHEAD, BEHIND = "is one ahead", "is one behind"
WRONG += [
    ("04.MySGD", SGDParameterDouble, "parameter 0 is tinygrad_lite.float64, not float32", PARAMETER_FLOAT64),
    ("04.MySGD", SGDBufferFloat64, "while the parameter is float32", BUFFER_FLOAT64),
    ("04.MyAdam", _made_float64(MyAdam, "parameter"), "not float32", PARAMETER_FLOAT64),
    ("04.MyAdam", _made_float64(MyAdam, "buffer"), "while the parameter is float32", BUFFER_FLOAT64),
    ("04.MyAdamW", _made_float64(MyAdamW, "parameter"), "not float32", PARAMETER_FLOAT64),
    ("04.MyAdamW", _made_float64(MyAdamW, "buffer"), "while the parameter is float32", BUFFER_FLOAT64),
    ("04.MyAdam", AdamStepAhead, "at step 1 of 50", AHEAD, "t + 1"),
    ("04.MyAdam", AdamStepBehindGuarded, BEHIND, "skipped or raised to 1"),
    ("04.MyAdam", AdamStepNotYetCounted, "at step 2 of 50", BEHIND),
    ("04.MyAdamW", decoupled(AdamStepAhead), AHEAD, "which MyAdamW inherits"),
    ("04.MyAdamW", decoupled(AdamStepBehindGuarded), BEHIND),
]


@pytest.mark.parametrize("exercise_id, fn", [("04.MySGD", SGDParameterDouble), ("04.MySGD", SGDBufferFloat64),
                                             ("04.MyAdam", _made_float64(MyAdam, "buffer"))])
def test_a_float32_made_float64_gets_no_hint_about_the_opposite(exercise_id, fn):
    """Learner-attack 0304: the course's hint for a float32 where a float64 is expected was given for the
    opposite (as lesson 06's review 46 found there)."""
    message = verdict(exercise_id, fn, times=2).message
    assert "a float32 where a float64" not in message, message
    assert "keeps its dtype" in message or "keeps their dtype" in message, message


class _AdamWDecaysByExp(MyAdamW):
    """(attack of session 32) the decay as exp(-lr wd), the continuous-time factor."""

    def _update(self, p, group):
        p *= math.exp(-group["lr"] * group["weight_decay"])
        MyAdamW._update(self, p, dict(group, weight_decay=0.0))  # (the rest of the step as MyAdamW's)


WRONG += [("04.MyAdamW", _AdamWDecaysByExp, "the decay's factor is exactly 1 - lr weight_decay", "exp(-lr")]


class _SGDAveragesItsBuffer(MySGD):
    """(attack of session 32) the buffer as an average, mu b + (1 - mu) g, after a first buffer of g itself:
    PyTorch's dampening = momentum."""

    def _update(self, p, group):
        mu, state = group["momentum"], self.state[p]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = p.grad.clone()
        else:
            state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - mu) * p.grad
        p -= group["lr"] * (state["momentum_buffer"] if mu else p.grad)


class _SGDScalesItsStepInPlace(MySGD):
    """(attack of session 32) g.mul_(lr), where g is the stored momentum buffer."""

    def _update(self, p, group):
        mu, state = group["momentum"], self.state[p]
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = p.grad.clone()
            else:
                state["momentum_buffer"] = mu * state["momentum_buffer"] + (1 - group["dampening"]) * p.grad
            g = state["momentum_buffer"]
        else:
            g = p.grad.clone()
        g.mul_(group["lr"])
        p -= g


def _train_epoch_logs_with_a_second_forward(model, loader, loss_fn, optimizer):
    """(attack of session 32) the loss logged from a second forward pass under no_grad: batch norm's buffers move
    twice per batch."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        with tl.no_grad():
            loss_fn(model(x), y)
        total += loss.item() * len(x)
        count += len(x)
    return total / count


WRONG += [("04.MySGD", _SGDScalesItsStepInPlace, "your step scaled the momentum buffer itself"),
          ("04.MySGD", _SGDAveragesItsBuffer, "dampening = momentum"),
          ("04.train_epoch", _train_epoch_logs_with_a_second_forward, "batch norm's buffers are not",
           "a second forward pass")]


class _AdamEps(MyAdam):
    """(third attack of session 32) eps left out (None) or fixed; or only v's new average left in a local name."""
    eps, store_v = "group", True

    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        state = self.state[p]
        if not state:
            state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, tl.zeros_like(p), tl.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * p.grad
        v = beta2 * state["exp_avg_sq"] + (1 - beta2) * p.grad * p.grad
        if self.store_v:
            state["exp_avg_sq"] = v
        eps = group["eps"] if self.eps == "group" else self.eps or 0.0
        p -= group["lr"] * (state["exp_avg"] / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)).sqrt() + eps)


_AdamNoEps = type("_AdamNoEps", (_AdamEps,), {"eps": None})
_AdamFixedEps = type("_AdamFixedEps", (_AdamEps,), {"eps": 1e-8})
_AdamUnstoredV = type("_AdamUnstoredV", (_AdamEps,), {"store_v": False})
WRONG += [("04.MyAdam", _AdamNoEps, "without eps, with a fixed one (1e-8, say), or with eps as a floor"),
          ("04.MyAdam", _AdamFixedEps, "without eps, with a fixed one (1e-8, say), or with eps as a floor"),
          ("04.MyAdam", _AdamUnstoredV, "your averages (m, v, or both) do not carry over")]


class AdamWDecayByInitialLr(MyAdamW):
    """The decay scaled by the lr the scheduler started from (its initial_lr key), not the group's lr now (an
    attack of session 38: it passed before the lr-change case left initial_lr, as a scheduler does)."""
    def _update(self, p, group):
        p *= 1 - group.get("initial_lr", group["lr"]) * group["weight_decay"]
        MyAdam._update(self, p, group.copy() | {"weight_decay": 0.0})


WRONG += [("04.MyAdamW", AdamWDecayByInitialLr, "the lr changes during the run", "as they are at this step")]


class AdamByLerp(MyAdam):
    """PyTorch's own arrangement of the averages: m.lerp_(g, 1 - beta1), v.mul_(beta2).addcmul_(g, g, ...) (an
    attack of session 38: the library had no lerp_). With ``stored`` False (round 2 of that attack, whose hint had
    blamed a rebound p only): m.lerp(...) and v.lerp(...) make new tensors that are never stored, so the averages
    stay 0 and p never moves."""
    stored = True

    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        g = p.grad + group["weight_decay"] * p
        state = self.state[p]
        if not state:
            state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, tl.zeros_like(p), tl.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        if self.stored:
            state["exp_avg"].lerp_(g, 1 - beta1)
            state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
        else:
            state["exp_avg"].lerp(g, 1 - beta1)
            state["exp_avg_sq"].lerp(g * g, 1 - beta2)
        p -= group["lr"] * (state["exp_avg"] / (1 - beta1 ** t)) / ((state["exp_avg_sq"] / (1 - beta2 ** t)).sqrt()
                                                                   + group["eps"])


ALSO_RIGHT += [("04.MyAdam", AdamByLerp)]


class AdamWDecayByFirstGroupsLr(MyAdamW):
    """The decay scaled by the first group's lr, whatever the parameter's group (round 2 of session 38's attack: it
    passed while only one group of the cases had a weight decay)."""
    def _update(self, p, group):
        p *= 1 - self.param_groups[0]["lr"] * group["weight_decay"]
        MyAdam._update(self, p, group.copy() | {"weight_decay": 0.0})


WRONG += [("04.MyAdamW", AdamWDecayByFirstGroupsLr, "two parameter groups that set every option")]


AdamLerpNotStored = type("AdamLerpNotStored", (AdamByLerp,), {"stored": False})
WRONG += [("04.MyAdam", AdamLerpNotStored, "what it subtracts stays 0")]
