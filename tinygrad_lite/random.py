r"""Random numbers: a generator per device, all seeded by ``manual_seed``, as in PyTorch.

**On the CPU** we draw with numpy's PCG64 generator (``Generator()``, and the global ``default_generator``).

**On a GPU** ("cuda") the numbers are drawn on the GPU itself, so that a training step (dropout's masks, say) copies
nothing from the host. The generator is *counter-based*: the k-th 64-bit number of a stream is a hash of k,

    z_k = mix(key + (k + 1) \gamma)  (mod 2^64),    key = mix(seed),   \gamma = 0x9E3779B97F4A7C15,

where ``mix`` is SplitMix64's finaliser (three xor-shifts and two multiplications; Steele, Lea and Flood 2014; the
same numbers as Java's SplittableRandom). Drawing n numbers hashes the positions offset .. offset + n - 1, all at
once, with the same array ops on numpy and CuPy (``splitmix64``); the state is two integers on the host, the seed
and the offset. A uniform float32 is the top 24 bits over 2^24, a float64 the top 53 over 2^53; normal numbers use
the Box-Muller transform of two uniforms; integers in [low, high) are z mod (high - low) (biased by less than
(high - low) / 2^64); a permutation sorts random keys. PyTorch's CUDA generator works the same way (with another
hash, Philox). Uniform numbers are one fused kernel (``cupy.fuse``, ``kernels/``), and so is dropout, its mask and
its product with the input together: the positions come in as a column of row numbers and a row of column numbers
(k = row * width + column, broadcast), so that nothing of the size of the output is made but the outputs
themselves; the other draws are a few array ops.

Each device's numbers repeat for a seed on every machine, but **the CPU and a GPU draw different numbers** for the
same seed: PyTorch makes no such promise either (its CPU and CUDA generators differ), and keeping one would mean
drawing on the host and copying every mask to the GPU. Neither device's numbers are PyTorch's: lessons that compare
with PyTorch copy weights across instead of relying on equal seeds.

**A generator's state** (``get_rng_state()``, ``Generator.get_state()``) is a uint8 tensor, as in PyTorch, so that it
goes into a checkpoint beside the weights: here the bytes of a JSON text that holds the seed and numpy's PCG64
state (a GPU generator's: the seed and how many numbers it has drawn). PyTorch's are raw bytes of its own
generator's state, of a fixed size; the two cannot be loaded into each other. The setters also take the plain dict
that ``get_state()`` returned before (checkpoints saved then).
"""
import contextlib
import json

import numpy as np

from . import kernels
from .device import creating_on
from .device import device as Device

DEFAULT_SEED = 67280421310721  # PyTorch's default too: an unseeded run is still repeatable


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, float, np.integer, np.floating)) or \
            isinstance(seed, (float, np.floating)) and not np.isfinite(seed):
        raise TypeError(f"manual_seed(): the seed must be an int, got {type(seed).__name__} {seed!r:.40}")
    if not -2**63 <= int(seed) < 2**64:
        raise ValueError(f"manual_seed(): the seed must fit in 64 bits, got {int(seed)}")
    return int(seed) % 2**64


class Generator:
    """A seeded source of random numbers for one device (``torch.Generator``): ``Generator()`` draws on the CPU (a
    DataLoader's shuffling, say), ``Generator("cuda")`` on the GPU."""

    def __init__(self, device="cpu"):
        self.device = Device(device)
        if self.device.type == "cuda" and self.device.index is None:
            self.device = Device("cuda", 0)  # (the current GPU: GPU 0 here, as tensors' devices say)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        self._seed = _check_seed(seed)
        if self.device.type == "cpu":
            self.rng = np.random.default_rng(self._seed)
        else:
            self.offset = 0  # how many numbers of the stream are used up
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        """Reseed from the operating system's entropy and return the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy) % 2**63).initial_seed()

    def get_state(self):
        """The generator's state as a uint8 tensor (on the CPU, as PyTorch's): the bytes of a JSON text (module
        docstring); ``set_state`` puts it back."""
        from .tensor import Tensor  # (tensor.py imports this module, so it cannot come first)
        text = json.dumps(self._state(), sort_keys=True, separators=(",", ":"))
        return Tensor._make(np.frombuffer(text.encode(), dtype=np.uint8).copy(), None)

    def _state(self):
        """The state as a plain dict of numbers."""
        if self.device.type == "cpu":
            return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}
        return {"seed": self._seed, "offset": self.offset}

    def set_state(self, new_state):
        """Put back a state that ``get_state()`` returned: the uint8 tensor, or the plain dict it was before."""
        return self._set_state(new_state, "set_state")

    def clone_state(self):
        """A new generator on the same device in the same state: it draws what this one would draw next."""
        twin = Generator(self.device)
        twin._set_state(self._state(), "clone_state")
        return twin

    def _set_state(self, new_state, op):
        """``set_state``, its errors naming ``op`` (the public function called)."""
        state = _state_dict(new_state, op)
        expected = {"seed", "bit_generator"} if self.device.type == "cpu" else {"seed", "offset"}
        if set(state) != expected:
            kind = "a CPU generator's" if self.device.type == "cpu" else "a GPU generator's (seed and offset)"
            raise TypeError(f"{op}(): expected {kind} state, what get_state() of a generator on {self.device} "
                            f"returned, got one with the entries {sorted(state)}")
        if self.device.type == "cpu":  # (the new generator made first: a state numpy refuses changes nothing)
            rng = np.random.default_rng()
            try:
                rng.bit_generator.state = state["bit_generator"]
            except (TypeError, ValueError, KeyError) as e:
                raise ValueError(f"{op}(): the state's bit_generator is not a PCG64 state that get_state() made "
                                 f"({e})") from None
            self.rng = rng
        else:
            self.offset = int(state["offset"])
        self._seed = state["seed"]
        return self

    # ---------------------------------------------------------------- drawing on the GPU (a counter-based stream)
    def _words(self, xp, n):
        """The next n 64-bit numbers of this GPU generator's stream, as a uint64 array made on the GPU."""
        start, self.offset = self.offset, self.offset + n
        return splitmix64(xp.arange(n, dtype=np.uint64), _mix(self._seed), start)

    def _grid(self, xp, shape):
        """The next numbers of this GPU generator's stream, one per element of ``shape``, as the arguments of a fused
        kernel: (rows, columns, width, base), position k = row * width + column (rows a column vector, columns a row
        vector, width the last dim), hashed as ``hashed(k, base)``: the same numbers as ``_words``."""
        n = _size(shape)
        width = shape[-1] if isinstance(shape, tuple) and shape and shape[-1] else max(n, 1)
        start, self.offset = self.offset, self.offset + n
        base = np.uint64((_mix(self._seed) + (start + 1) * GAMMA) & MASK)
        return (kernels.counting(xp, n // width, (-1, 1), np.uint64), kernels.counting(xp, width, (1, -1), np.uint64),
                np.uint64(width), base)

    def __repr__(self):
        return f"<tinygrad_lite.Generator on {self.device}>"


def _state_dict(state, op):
    """The plain dict of a generator's state given as ``get_state()``'s uint8 tensor (JSON bytes) or as a dict."""
    from .tensor import Tensor  # (tensor.py imports this module, so it cannot come first)
    if isinstance(state, dict):
        return state
    if not isinstance(state, Tensor) or state.array.dtype != np.uint8 or state.ndim != 1:
        raise TypeError(f"{op}(): expected a state from get_state() or get_rng_state() (a 1-d uint8 tensor), got "
                        f"{type(state).__name__} {getattr(state, 'dtype', '')}".rstrip())
    try:
        found = json.loads(bytes(state.cpu().numpy()).decode())
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise RuntimeError(f"{op}(): this uint8 tensor is not a state that tinygrad_lite's get_state() or "
                           "get_rng_state() made (a JSON text); PyTorch's generator states cannot be loaded here, "
                           "nor ours into PyTorch: the generators differ")
    return found


GAMMA = 0x9E3779B97F4A7C15  # 2^64 / the golden ratio, odd: k -> k gamma (mod 2^64) visits every 64-bit number
M1, M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # SplitMix64's two multipliers
MASK = 2**64 - 1


def _mix(z):
    """SplitMix64's finaliser on a Python int: every input bit changes about half of the output bits."""
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def splitmix64(k, key, start=0):
    """z = mix(key + (start + k + 1) gamma) for a uint64 array of positions ``k``: the same array ops on numpy and CuPy
    (uint64 arithmetic wraps around mod 2^64), the same numbers as ``_mix`` on Python ints."""
    return hashed(k, np.uint64((key + (start + 1) * GAMMA) & MASK))


def hashed(k, base):
    """mix(base + k gamma) for uint64 positions ``k`` (``base``: a uint64 number), in array ops that also fuse."""
    u64 = np.uint64
    z = k * u64(GAMMA) + base
    z = (z ^ (z >> u64(30))) * u64(M1)
    z = (z ^ (z >> u64(27))) * u64(M2)
    return z ^ (z >> u64(31))


def _uniform_at(rows, columns, width, base, float64):
    """Uniform numbers in [0, 1) at the positions k = row * width + column of a stream (``Generator._grid``)."""
    return _unit_floats(hashed(rows * width + columns, base), np.float64 if float64 else np.float32)


def make_uniform(xp, float64):
    r"""The fused kernel of ``uniform`` on a GPU: u = the top bits of hashed(k, base) / 2^bits at the positions
    k = row * width + column (``Generator._grid``)."""
    return lambda rows, columns, width, base: _uniform_at(rows, columns, width, base, float64)


def make_dropout(xp, dtype):
    r"""The fused kernel of dropout on a GPU (``dropout_on_gpu``): the mask m = [u >= p] scale, u as ``make_uniform``'s
    (float64 for a float64 x, else float32), in ``dtype`` (x's), and y = x m: both outputs of one kernel, the mask
    written once and not read back for y."""
    float64 = dtype == np.float64

    def dropout(x, rows, columns, width, base, p, scale):
        mask = ((_uniform_at(rows, columns, width, base, float64) >= p) * scale).astype(dtype)
        return x * mask, mask
    return dropout


# -------------------------------------------------------------------- the generators in use
default_generator = Generator()
_cuda_generators = {}  # GPU index -> its default generator, made the first time that GPU draws
_cuda_seed = DEFAULT_SEED  # what a GPU's default generator is seeded with when it is made


def cuda_generator(index=0):
    """The default generator of GPU ``index`` (``torch.cuda.default_generators[index]``)."""
    if index not in _cuda_generators:
        _cuda_generators[index] = Generator(Device("cuda", index)).manual_seed(_cuda_seed)
    return _cuda_generators[index]


def manual_seed(seed):
    """Seed the CPU's generator and every GPU's; every later ``randn``/``rand``/init/dropout draw is then repeatable
    (on each device: the CPU and a GPU draw different numbers)."""
    seed_cuda(seed)
    return default_generator.manual_seed(seed)


def seed_cuda(seed, index=None):
    """Seed the default generator of GPU ``index``, or of every GPU (``torch.cuda.manual_seed(_all)``)."""
    global _cuda_seed
    seed = _check_seed(seed)
    if index is None:
        _cuda_seed = seed
        for generator in _cuda_generators.values():
            generator.manual_seed(seed)
    else:
        cuda_generator(index).manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """The CPU generator's state, a uint8 tensor (``torch.get_rng_state``); a GPU's is
    ``tinygrad_lite.cuda.get_rng_state()``."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Put back the CPU generator's state: ``get_rng_state()``'s uint8 tensor (or the dict it was before)."""
    default_generator._set_state(new_state, "set_rng_state")


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True):
    """``with fork_rng():`` draws inside the block leave the global generators as they were (``torch.random.fork_rng``):
    the CPU's, and the GPUs' in ``devices`` (GPU indices; None: every GPU), are put back when the block ends, also
    after an exception. ``enabled=False`` makes it do nothing."""
    if not enabled:
        yield
        return
    global _cuda_seed
    gpus = sorted(_cuda_generators) if devices is None else _gpu_indices(devices)
    saved_cpu, saved_seed = default_generator._state(), _cuda_seed
    saved_gpus = {index: _cuda_generators[index]._state() for index in gpus if index in _cuda_generators}
    try:
        yield
    finally:
        default_generator._set_state(saved_cpu, "fork_rng")
        for index in gpus:  # a GPU's generator made inside the block is dropped: the next draw makes it afresh
            if index in saved_gpus:
                _cuda_generators[index]._set_state(saved_gpus[index], "fork_rng")
            else:
                _cuda_generators.pop(index, None)
        if devices is None:
            for index in set(_cuda_generators) - set(saved_gpus):
                del _cuda_generators[index]
            _cuda_seed = saved_seed


def _gpu_indices(devices):
    """fork_rng's ``devices``: GPU indices, or devices such as "cuda:1"."""
    if isinstance(devices, (str, int)) or not hasattr(devices, "__iter__"):
        raise TypeError(f"fork_rng(): devices must be a list of GPU indices (such as [0]) or None for every GPU, "
                        f"got {type(devices).__name__}")
    return [device if isinstance(device, int) else Device(device).index or 0 for device in devices]


def rng(generator=None):
    """The numpy generator to draw from on the CPU: the given Generator's, else the global one."""
    return _generator(generator, Device("cpu"), "rng").rng


_vmap_randomness = [None]  # inside func.vmap: its randomness argument ("error" refuses every draw)


@contextlib.contextmanager
def vmap_randomness(mode):
    """``func.vmap``'s ``randomness`` for the draws made inside it (nested vmaps: the innermost one's)."""
    _vmap_randomness.append(mode)
    try:
        yield
    finally:
        _vmap_randomness.pop()


def _generator(generator, device, op):
    """The generator that draws for a tensor on ``device``: the given one (which must be of that device, as PyTorch
    asks), else the device's default."""
    if _vmap_randomness[-1] == "error":
        raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use the "
                           "'same' or 'different' randomness flags on vmap or perform the randomness operation out "
                           "of vmap")
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tinygrad_lite.Generator, got {type(generator).__name__}")
    if generator is None:
        if device.type == "cpu":
            return default_generator
        with creating_on(device):  # (a GPU that is not there raises here, before a generator is made for it)
            return cuda_generator(device.index or 0)
    if generator.device.type != device.type:
        raise RuntimeError(f"{op}: Expected a '{device.type}' device type for generator but found "
                           f"'{generator.device.type}'; draw {device.type} tensors with "
                           f"tinygrad_lite.Generator('{device.type}') (or no generator)")
    return generator


# -------------------------------------------------------------------- drawing arrays on a device
def _check_floating(dtype, op):
    """Random floats for an integer tensor would be cut to whole numbers (mostly 0): PyTorch refuses, so do we."""
    if np.dtype(dtype).kind != "f":
        raise NotImplementedError(f"{op}: draws random floats, and the tensor's dtype is {np.dtype(dtype).name} "
                                  "(PyTorch refuses it too); make it a float tensor, e.g. dtype=torch.float32")


def uniform(shape, low=0.0, high=1.0, *, device="cpu", dtype=np.float64, generator=None, op="uniform_"):
    """U[low, high) numbers of ``shape``, made on ``device``: numpy's PCG64 on the CPU (always float64 there, the
    caller casts), the counter-based stream on a GPU (float32, or float64 when ``dtype`` is)."""
    _check_floating(dtype, op)
    device = Device(device)
    generator = _generator(generator, device, op)
    if device.type == "cpu":
        return generator.rng.uniform(low, high, shape)
    with creating_on(device) as xp:
        float64 = np.dtype(dtype) == np.float64
        u = kernels.fused(xp, make_uniform, float64)(*generator._grid(xp, shape)).reshape(shape)
        return u if (low, high) == (0.0, 1.0) else u * (high - low) + low


def dropout_mask(shape, p, dtype, *, generator=None):
    """Dropout's mask of ``shape`` on the CPU: 1 / (1 - p) with probability 1 - p, else 0, in ``dtype`` (on a GPU the
    mask is drawn in the kernel that applies it: ``dropout_on_gpu``)."""
    generator = _generator(generator, Device("cpu"), "dropout")
    return ((generator.rng.uniform(0.0, 1.0, shape) >= p) * _dropout_scale(p, dtype)).astype(dtype, copy=False)


def dropout_on_gpu(x, p, generator=None):
    """Dropout on a GPU (``kernels/dropout.py``): (x m, m) for dropout's mask m of x's shape and dtype (1 / (1 - p)
    where the stream's uniform number u >= p, else 0), both made by one fused kernel, ``make_dropout``."""
    number = np.float64 if x.dtype == np.float64 else np.float32  # (what the kernel compares and multiplies with)
    device = Device("cuda", x.device.id)
    generator = _generator(generator, device, "dropout")
    with creating_on(device) as xp:
        rows, columns, width, base = generator._grid(xp, x.shape)
        y, mask = kernels.fused(xp, make_dropout, x.dtype)(x.reshape(-1, int(width)), rows, columns, width, base,
                                                           number(p), number(_dropout_scale(p, x.dtype)))
        return y.reshape(x.shape), mask.reshape(x.shape)


def _dropout_scale(p, dtype):
    """1 / (1 - p) rounded to ``dtype``, what a kept number is multiplied by (0 for p = 1: nothing is kept)."""
    return np.dtype(dtype).type(0.0 if p == 1 else 1 / (1 - p))


def normal(shape, mean=0.0, std=1.0, *, device="cpu", dtype=np.float64, generator=None, op="normal_"):
    """N(mean, std^2) numbers of ``shape``, made on ``device`` (on a GPU by the Box-Muller transform: two uniforms
    u, v give sqrt(-2 ln(1 - u)) cos(2 pi v) and sqrt(-2 ln(1 - u)) sin(2 pi v), two independent N(0, 1))."""
    _check_floating(dtype, op)
    device = Device(device)
    generator = _generator(generator, device, op)
    if device.type == "cpu":
        return generator.rng.normal(mean, std, shape)
    n = _size(shape)
    half = (n + 1) // 2
    with creating_on(device) as xp:
        u = _unit_floats(generator._words(xp, 2 * half), dtype)
        radius = xp.sqrt(-2 * xp.log1p(-u[:half]))  # 1 - u is in (0, 1]: its log is finite
        angle = (2 * np.pi) * u[half:]
        z = xp.concatenate([radius * xp.cos(angle), radius * xp.sin(angle)])[:n]
        return (z if (mean, std) == (0.0, 1.0) else z * std + mean).reshape(shape)


def integers(low, high, shape, *, device="cpu", generator=None, op="randint"):
    """int64 numbers drawn uniformly from [low, high), made on ``device``."""
    device = Device(device)
    generator = _generator(generator, device, op)
    if device.type == "cpu":
        return generator.rng.integers(low, high, shape)
    span = high - low
    with creating_on(device) as xp:
        z = generator._words(xp, _size(shape))
        if span < 2**64:  # (z mod span) + low, in uint64 arithmetic that wraps around, read back as int64
            z = z % np.uint64(span) + np.uint64(low % 2**64)
        return z.view(np.int64).reshape(shape)


def permutation(n, *, device="cpu", generator=None, op="randperm"):
    """A random permutation of 0 .. n-1, made on ``device`` (on a GPU: the order that sorts n random keys)."""
    device = Device(device)
    generator = _generator(generator, device, op)
    if device.type == "cpu":
        return generator.rng.permutation(n)
    with creating_on(device) as xp:
        return xp.argsort(generator._words(xp, n)).astype(np.int64)


def _unit_floats(words, dtype):
    """Uniform numbers in [0, 1) from random 64-bit words: the top 24 bits / 2^24 (float32) or 53 / 2^53 (float64)."""
    if np.dtype(dtype) == np.float64:
        return (words >> np.uint64(11)).astype(np.float64) * np.float64(2.0 ** -53)
    return (words >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def _size(shape):
    return int(np.prod(shape, dtype=np.int64)) if isinstance(shape, tuple) else int(shape)
