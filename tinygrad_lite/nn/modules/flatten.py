"""``Flatten``: merge dims into one, e.g. a batch of images (N, 1, 28, 28) into rows (N, 784) for a Linear layer;
``Unflatten``, its inverse: split one dim into several."""
from ...shapes import as_int
from .module import Module


class Flatten(Module):
    """Merge dims ``start_dim`` .. ``end_dim`` into one. The default start_dim=1 keeps dim 0, the batch."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = as_int(start_dim, "Flatten", "start_dim"), as_int(end_dim, "Flatten", "end_dim")

    def forward(self, input):
        if input.ndim <= self.start_dim and not (input.ndim == 0 and self.start_dim in (0, -1)):  # (0-d: as flatten)
            raise IndexError(f"Flatten(start_dim={self.start_dim}): the input of shape {tuple(input.shape)} has no dim "
                             f"{self.start_dim}. Flatten keeps dim 0 as the batch; for a single sample add a batch dim "
                             "first with x.unsqueeze(0)")
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (one size may be -1): ``Unflatten(1, (1, 28, 28))`` turns rows
    (N, 784) back into images (N, 1, 28, 28), the inverse of ``Flatten``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = as_int(dim, "Unflatten", "dim")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints such as (1, 28, 28), got "
                            f"{type(unflattened_size).__name__}")
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
