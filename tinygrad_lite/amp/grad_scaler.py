r"""``GradScaler``: loss scaling, so that small float16 gradients do not round to zero (``torch.amp.GradScaler``).

float16's smallest positive number is 2^-24 (about 6e-8); gradients smaller than that become 0 ("underflow"), and
a network's gradients often are that small. Multiply the loss by a scale S (say 2^16) before ``backward()``: by the
chain rule every gradient is S times larger, safely inside float16's range. Then divide the gradients by S
(``unscale_``) before the optimizer uses them, so the update is the same as without scaling.

S is chosen dynamically. A step whose gradients hold an inf or a nan (S was too large: something overflowed) is
skipped, and S is multiplied by ``backoff_factor`` (0.5). After ``growth_interval`` (2000) steps in a row without
inf/nan, S is multiplied by ``growth_factor`` (2), to use as much of the range as is safe. The training step::

    scaler = torch.amp.GradScaler("cuda")
    with torch.autocast("cuda", dtype=torch.float16):
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()       # gradients of S * loss
    scaler.unscale_(optimizer)           # optional: only to clip (or look at) the true gradients
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)               # unscales (if not done yet), skips the step on inf/nan
    scaler.update()                      # backoff or growth of S
    optimizer.zero_grad()

The scale is a float32 number and is updated with PyTorch's arithmetic, so its trace matches PyTorch's step for step.
As PyTorch's, the scaler keeps its state where the loss is: the scale, the count of clean steps and the found-inf
flags are 0-d arrays on the loss's device, updated there, so on a GPU a step reads one thing back, the flag that
decides whether ``step`` calls the optimizer. ``get_scale()`` and ``state_dict()`` read them (outside the step).
"""
import warnings
from collections.abc import Mapping

import numpy as np

from .. import cuda
from .. import tensor as tensors  # (tensors.Tensor: tensor.py imports amp, so its class is looked up when used)
from ..device import array_module_of, creating_on, device_of, move, on_device_of, same_device
from ..kernels import fused_on_gpu

READY, UNSCALED, STEPPED = "ready", "unscaled", "stepped"  # where each optimizer is in the current iteration


def _new_optimizer_state():
    return {"stage": READY, "found_inf": None}


class GradScaler:
    """Dynamic loss scaling for float16 training; ``enabled=False`` makes every method a pass-through."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = str(device)
        self._enabled = bool(enabled)
        if self._enabled and self._device.startswith("cuda"):
            if not cuda.is_available():
                warnings.warn("tinygrad_lite.amp.GradScaler is enabled, but CUDA is not available.  Disabling. "
                              "(On a CPU, use GradScaler(\"cpu\").)", stacklevel=2)
                self._enabled = False
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: the growth factor must be > 1.0, got {growth_factor}")
            if not backoff_factor < 1.0:
                raise ValueError(f"GradScaler: the backoff factor must be < 1.0, got {backoff_factor}")
        self._init_scale, self._growth_factor, self._backoff_factor = init_scale, growth_factor, backoff_factor
        self._growth_interval = growth_interval
        self._scale = None           # a 0-d float32 array on the loss's device, made by the first scale()
        self._growth_tracker = None  # clean steps in a row since the last growth or backoff (0-d int32, there too)
        self._init_growth_tracker = 0
        self._per_optimizer = {}

    # ---------------------------------------------------------------- the training step
    def scale(self, outputs):
        """``outputs`` (the loss; or a list or tuple of tensors) multiplied by the current scale S."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if not isinstance(outputs, tensors.Tensor):
            raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of Tensors, got "
                             f"{type(outputs).__name__}")
        if self._scale is None:  # made on the loss's device, as PyTorch's
            with creating_on(outputs.device) as xp:
                self._scale = xp.full((), self._init_scale, np.float32)
                self._growth_tracker = xp.full((), self._init_growth_tracker, np.int32)
        # a 0-d tensor: the loss keeps its dtype (float16 stays float16), as with PyTorch's 0-d scale
        return outputs * tensors.Tensor._make(self._scale, None)

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), _new_optimizer_state())

    def unscale_(self, optimizer):
        """Divide every gradient ``optimizer`` holds by S, in place, and note whether any is inf or nan.

        Call it at most once per step, after ``backward`` and before anything that reads the gradients (clipping).
        """
        if not self._enabled:
            return
        self._check_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] is UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # as PyTorch: the reciprocal in float64, then float32 (on the scale's device, like everything below)
        inv_scale = fused_on_gpu(array_module_of(self._scale), make_inverse_scale)(self._scale)
        found_inf = None  # stays None when no parameter has a gradient: nothing was checked
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad.array
                if grad.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients. Keep the parameters in float32 (master "
                                     "weights) and let autocast run the ops in float16.")
                xp = array_module_of(grad)
                if not same_device(grad, inv_scale):  # (a model split over two GPUs: each part on its own)
                    inv_scale = move(inv_scale, device_of(grad))
                    found_inf = None if found_inf is None else move(found_inf, device_of(grad))
                found_inf = fused_on_gpu(xp, make_found_inf)(grad, found_inf)  # a 0-d bool array: not read here
                xp.multiply(grad, inv_scale.astype(grad.dtype, copy=False), out=grad)
        if found_inf is not None and not same_device(found_inf, self._scale):
            found_inf = move(found_inf, device_of(self._scale))  # (where step and update read it)
        state["found_inf"], state["stage"] = found_inf, UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless a gradient was inf or nan (then the step is skipped and None returned).

        Unscales the gradients first if ``unscale_`` was not called this iteration. As in PyTorch, an optimizer
        none of whose parameters has a gradient (``backward`` was not called) is an AssertionError.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale("step")
        state = self._state(optimizer)
        if state["stage"] is STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer. (None of its parameters has a "
                                 "gradient: call scaler.scale(loss).backward() before scaler.step(optimizer).)")
        result = None if bool(state["found_inf"]) else optimizer.step(*args, **kwargs)  # (the step's one read)
        state["stage"] = STEPPED
        return result

    def update(self, new_scale=None):
        """Back off (S * backoff_factor) if this iteration found inf/nan, else grow S after growth_interval clean
        steps; or set S to ``new_scale``. Call it once per iteration, after ``step``."""
        if not self._enabled:
            return
        self._check_scale("update")
        if new_scale is not None:
            if hasattr(new_scale, "numel") and new_scale.numel() != 1:
                raise ValueError("new_scale should be a float or a 1-element tensor with requires_grad=False.")
            value = new_scale.to(device_of(self._scale)).array if isinstance(new_scale, tensors.Tensor) else \
                float(new_scale)
            self._set_state(value, self._growth_tracker)
        else:
            found = [s["found_inf"] for s in self._per_optimizer.values() if s["found_inf"] is not None]
            if not found:
                raise RuntimeError("No inf checks were recorded prior to update(): call scaler.step(optimizer) "
                                   "(after scaler.scale(loss).backward()) before scaler.update().")
            # on the device, without a read: back off if any optimizer found inf/nan; else count the clean step and
            # grow the scale (unless that overflows float32) when the count reaches growth_interval
            xp = array_module_of(self._scale)
            found_inf = found[0] if len(found) == 1 else xp.stack(found).any()
            self._scale, self._growth_tracker = fused_on_gpu(xp, make_update)(
                self._scale, self._growth_tracker, found_inf, self._growth_factor, self._backoff_factor,
                self._growth_interval)
        self._per_optimizer = {}

    def _set_state(self, scale, growth_tracker):
        """The scale and the count of clean steps, as 0-d arrays on the scale's device."""
        with on_device_of(self._scale):
            xp = array_module_of(self._scale)
            self._scale = xp.asarray(scale, dtype=np.float32).reshape(())
            self._growth_tracker = xp.asarray(growth_tracker, dtype=np.int32).reshape(())

    def _check_scale(self, what):
        if self._scale is None:
            raise RuntimeError(f"GradScaler.{what}: the scale is not set yet. This may indicate your script did not "
                               "use scaler.scale(loss) earlier in the iteration: scaler.scale(loss).backward()")

    # ---------------------------------------------------------------- settings and state
    def get_scale(self):
        """The current scale S as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return float(self._init_scale if self._scale is None else self._scale)

    def get_growth_factor(self): return self._growth_factor
    def set_growth_factor(self, new_factor): self._growth_factor = new_factor
    def get_backoff_factor(self): return self._backoff_factor
    def set_backoff_factor(self, new_factor): self._backoff_factor = new_factor
    def get_growth_interval(self): return self._growth_interval
    def set_growth_interval(self, new_interval): self._growth_interval = new_interval
    def is_enabled(self): return self._enabled

    def _get_growth_tracker(self):  # (before the first scale(): the count it will start from, a loaded one too)
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker)

    def state_dict(self):
        """PyTorch's keys: scale, growth_factor, backoff_factor, growth_interval, _growth_tracker ({} if disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"GradScaler.load_state_dict: expected the dict scaler.state_dict() returned, got "
                            f"{type(state_dict).__name__}")
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        keys = ("scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker")
        missing = [key for key in keys if key not in state_dict]
        if missing:  # (PyTorch's KeyError names only the first key, and not what the dict should be)
            raise KeyError(f"GradScaler.load_state_dict: the state_dict has no {', '.join(map(repr, missing))}; a "
                           f"GradScaler's state_dict() has {', '.join(keys)}. Pass what scaler.state_dict() returned "
                           "(e.g. checkpoint['scaler']), not another object's state_dict")
        self._init_scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._scale is not None:
            self._set_state(self._init_scale, self._init_growth_tracker)


# ------------------------------------------------------------------------ the arithmetic, one kernel each on a GPU
def make_inverse_scale(xp):
    """1 / S in float64, then rounded to float32 (as PyTorch computes it)."""
    return lambda scale: (1.0 / scale.astype(xp.float64)).astype(xp.float32)


def make_found_inf(xp):
    """Whether an inf or a nan was found so far: in the gradient g, or before it (``found``, a 0-d bool; None for the
    first gradient). One reduction, found or not all(isfinite(g)) written as not all(isfinite(g) and not found): the
    flag of the gradients before joins the reduction instead of costing a kernel of its own."""
    def found_inf(g, found):
        finite = xp.isfinite(g)
        return xp.logical_not(xp.all(finite if found is None else finite & xp.logical_not(found)))
    return found_inf


def make_update(xp):
    """The new scale and count of clean steps: back off (S * backoff, in float64 then float32) if inf/nan was found;
    else count the step, and grow the scale (S * growth, unless that overflows float32) when the count reaches the
    interval, the count then starting again from 0."""
    def update(scale, tracker, found_inf, growth, backoff, interval):
        wide = scale.astype(xp.float64)
        grown = (wide * growth).astype(xp.float32)
        growing = tracker + 1 == interval
        new_scale = xp.where(found_inf, (wide * backoff).astype(xp.float32),
                             xp.where(growing & xp.isfinite(grown), grown, scale))
        return new_scale, xp.where(found_inf | growing, 0, tracker + 1).astype(xp.int32)
    return update
