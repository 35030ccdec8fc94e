"""``backends.cudnn``: NVIDIA's cuDNN library. We do not use it; the flags scripts set are accepted and ignored
(our ops are deterministic, and our convolutions have one algorithm, im2col: nothing to benchmark)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
