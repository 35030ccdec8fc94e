"""Random numbers: one global generator, seeded with ``manual_seed`` as in PyTorch.

We draw with numpy's PCG64 generator, so the same seed gives the same numbers on every machine and on both
devices (GPU tensors are drawn on the CPU and copied). They are *not* the numbers PyTorch draws for that seed:
lessons that compare with PyTorch copy weights across instead of relying on equal seeds.
"""
import numpy as np

DEFAULT_SEED = 67280421310721  # PyTorch's default too: an unseeded run is still repeatable


class Generator:
    """A seeded source of random numbers (``torch.Generator``), e.g. for a DataLoader's shuffling."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        if isinstance(seed, bool) or not isinstance(seed, (int, float, np.integer, np.floating)) or \
                isinstance(seed, (float, np.floating)) and not np.isfinite(seed):
            raise TypeError(f"manual_seed(): the seed must be an int, got {type(seed).__name__} {seed!r:.40}")
        if not -2**63 <= int(seed) < 2**64:
            raise ValueError(f"manual_seed(): the seed must fit in 64 bits, got {int(seed)}")
        self._seed = int(seed) % 2**64
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        """Reseed from the operating system's entropy and return the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy) % 2**63).initial_seed()

    def get_state(self):
        """The generator's state as a plain dict of numbers (PyTorch returns a uint8 tensor instead)."""
        return {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}

    def set_state(self, state):
        self._seed = state["seed"]
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = state["bit_generator"]
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed the global generator; every later ``randn``/``rand``/init/dropout draw is then repeatable."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    if not isinstance(state, dict) or "seed" not in state:
        raise TypeError(f"set_rng_state(): expected a state from get_rng_state() (a dict), got {type(state).__name__}")
    default_generator.set_state(state)


def rng(generator=None):
    """The numpy generator to draw from: the given Generator's, else the global one."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tinygrad_lite.Generator, got {type(generator).__name__}")
    return (generator or default_generator).rng
