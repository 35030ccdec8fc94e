"""``save_checkpoint`` and ``load_checkpoint``: everything a run needs to carry on, in one file.

Resuming a run exactly where it stopped takes more than the weights: the optimizer's state (momentum buffers,
Adam's moment estimates and step counts), the scheduler's position, the epoch, and the state of every random
generator the run draws from, so that shuffling and dropout go on drawing the numbers an uninterrupted run would
have drawn: the global generator (dropout, and the shuffling of a loader without a generator of its own), the
GPUs' generators when the run drew on a GPU (dropout there), and, for a ``DataLoader(..., generator=g)``, that
loader's generator ``g``, which alone decides its shuffling.
The file is this dict, written with ``tinygrad_lite.save`` (no pickle; atomic, so a crash mid-save keeps the
previous checkpoint)::

    {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
     "epoch": epoch, "rng_state": tinygrad_lite.get_rng_state(),
     "cuda_rng_state": tinygrad_lite.cuda.get_rng_state_all(),   # only once something was drawn on a GPU
     "loader_rng_state": loader.generator.get_state(),   # only with loader=, for a loader with a generator
     **extra}

PyTorch has no such helper: this is the dict its tutorials build by hand, so ``tinygrad_lite.load(path)["model"]``
works too. Use::

    for epoch in range(start, epochs):
        ...
        save_checkpoint("last.pt", model, optimizer, scheduler, epoch=epoch, loader=loader, val_loss=val_loss)

    # later, in a fresh process, after building the same model, optimizer, scheduler and loader:
    start = load_checkpoint("last.pt", model, optimizer, scheduler, loader=loader)["epoch"] + 1

``extra`` holds anything ``save`` accepts (numbers, strings, tensors, dicts): for an ``EarlyStopping`` pass
``stopper=stopper.state_dict()`` and later call ``stopper.load_state_dict(checkpoint["stopper"])``.
"""
from .. import cuda
from ..cuda import get_rng_state_all, set_rng_state_all
from ..random import get_rng_state, set_rng_state
from ..serialization import load, save


def _loader_generator(loader, who):
    """The generator that shuffles ``loader`` (None: it draws from the global one, or does not shuffle)."""
    if not hasattr(loader, "sampler"):
        raise TypeError(f"{who}: loader must be a DataLoader, got {type(loader).__name__}")
    return getattr(loader.sampler, "generator", None)


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=None, loader=None, **extra):
    """Save the state of ``model`` (and ``optimizer``, ``scheduler``), ``epoch``, the RNG state and ``extra``.

    With ``loader`` (a ``DataLoader`` built with ``generator=g``), the state of the generator that shuffles it is
    saved too, as ``"loader_rng_state"``; a loader without a generator of its own draws from the global
    generator, whose state is always saved. Returns the dict that was saved.
    """
    if not hasattr(model, "state_dict"):
        raise TypeError(f"save_checkpoint: model must be an nn.Module (something with state_dict()), got "
                        f"{type(model).__name__}")
    for key in ("rng_state", "cuda_rng_state", "loader_rng_state"):
        if key in extra:
            raise TypeError(f"save_checkpoint: {key!r} is saved automatically; give your value another name")
    checkpoint = {"model": model.state_dict()}
    if optimizer is not None:
        checkpoint["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        checkpoint["scheduler"] = scheduler.state_dict()
    checkpoint.update(epoch=epoch, rng_state=get_rng_state())
    if get_rng_state_all() and cuda.is_available():  # (a GPU's generator that drew: dropout on the GPU)
        checkpoint["cuda_rng_state"] = get_rng_state_all()
    generator = None if loader is None else _loader_generator(loader, "save_checkpoint")
    if generator is not None:
        checkpoint["loader_rng_state"] = generator.get_state()
    checkpoint.update(extra)
    save(checkpoint, path)
    return checkpoint


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng=True, map_location=None, strict=True,
                    loader=None):
    """Load a file written by ``save_checkpoint`` into ``model`` (and ``optimizer``, ``scheduler``), in place.

    With ``restore_rng`` the global random generators (the CPU's, and the GPUs' where the run drew on one) continue
    from where they were at the save, and so does the generator that shuffles ``loader`` (its state goes into that
    generator object, the one the loader's sampler holds; the file must have been saved with the loader's generator
    state). ``map_location`` and ``strict`` are passed on to ``load`` and ``model.load_state_dict``. Returns the
    whole saved dict (``checkpoint["epoch"]``, your extra values, ...).
    """
    checkpoint = load(path, map_location=map_location)
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ValueError(f"load_checkpoint: {path!r} holds an object of type {type(checkpoint).__name__} without a "
                         "'model' entry, so it was not written by save_checkpoint; read it with "
                         "tinygrad_lite.load(path) instead")
    model.load_state_dict(checkpoint["model"], strict=strict)
    for name, target in (("optimizer", optimizer), ("scheduler", scheduler)):
        if target is not None:
            if name not in checkpoint:
                raise ValueError(f"load_checkpoint: {path!r} holds no {name} state (it was saved without one); "
                                 f"leave {name}=None, or save the {name} too")
            target.load_state_dict(checkpoint[name])
    generator = None if loader is None else _loader_generator(loader, "load_checkpoint")
    if restore_rng and generator is not None:
        if "loader_rng_state" not in checkpoint:
            raise ValueError(f"load_checkpoint: {path!r} holds no state of a loader's generator (it was saved "
                             "without loader=), so this loader's shuffling cannot go on where it stopped")
        generator.set_state(checkpoint["loader_rng_state"])
    if restore_rng and "rng_state" in checkpoint:
        set_rng_state(checkpoint["rng_state"])
    if restore_rng and "cuda_rng_state" in checkpoint:
        set_rng_state_all(checkpoint["cuda_rng_state"])
    return checkpoint
