"""``backends.mps``: Apple's Metal GPUs. Not supported: both checks say False, so scripts choose another device::

    device = "mps" if torch.backends.mps.is_available() else "cpu"
"""


def is_available():
    return False


def is_built():
    return False
