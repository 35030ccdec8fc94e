"""``save_checkpoint`` and ``load_checkpoint``: everything a run needs to carry on, in one file.

Resuming a run exactly where it stopped takes more than the weights: the optimizer's state (momentum buffers,
Adam's moment estimates and step counts), the scheduler's position, the epoch, and the state of the random
generator, so that shuffling and dropout go on drawing the numbers an uninterrupted run would have drawn.
The file is this dict, written with ``tinygrad_lite.save`` (no pickle; atomic, so a crash mid-save keeps the
previous checkpoint)::

    {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
     "epoch": epoch, "rng_state": tinygrad_lite.get_rng_state(), **extra}

PyTorch has no such helper: this is the dict its tutorials build by hand, so ``tinygrad_lite.load(path)["model"]``
works too. Use::

    for epoch in range(start, epochs):
        ...
        save_checkpoint("last.pt", model, optimizer, scheduler, epoch=epoch, val_loss=val_loss)

    # later, in a fresh process, after building the same model, optimizer and scheduler:
    start = load_checkpoint("last.pt", model, optimizer, scheduler)["epoch"] + 1

``extra`` holds anything ``save`` accepts (numbers, strings, tensors, dicts): for an ``EarlyStopping`` pass
``stopper=stopper.state_dict()`` and later call ``stopper.load_state_dict(checkpoint["stopper"])``.
"""
from ..random import get_rng_state, set_rng_state
from ..serialization import load, save


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=None, **extra):
    """Save the state of ``model`` (and ``optimizer``, ``scheduler``), ``epoch``, the RNG state and ``extra``.

    Returns the dict that was saved.
    """
    if not hasattr(model, "state_dict"):
        raise TypeError(f"save_checkpoint: model must be an nn.Module (something with state_dict()), got "
                        f"{type(model).__name__}")
    if "rng_state" in extra:
        raise TypeError("save_checkpoint: 'rng_state' is saved automatically; give your value another name")
    checkpoint = {"model": model.state_dict()}
    if optimizer is not None:
        checkpoint["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        checkpoint["scheduler"] = scheduler.state_dict()
    checkpoint.update(epoch=epoch, rng_state=get_rng_state(), **extra)
    save(checkpoint, path)
    return checkpoint


def load_checkpoint(path, model, optimizer=None, scheduler=None, restore_rng=True, map_location=None, strict=True):
    """Load a file written by ``save_checkpoint`` into ``model`` (and ``optimizer``, ``scheduler``), in place.

    With ``restore_rng`` the global random generator continues from where it was at the save. ``map_location``
    and ``strict`` are passed on to ``load`` and ``model.load_state_dict``. Returns the whole saved dict
    (``checkpoint["epoch"]``, your extra values, ...).
    """
    checkpoint = load(path, map_location=map_location)
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ValueError(f"load_checkpoint: {path!r} holds a {type(checkpoint).__name__} without a 'model' entry, so "
                         "it was not written by save_checkpoint; read it with tinygrad_lite.load(path) instead")
    model.load_state_dict(checkpoint["model"], strict=strict)
    for name, target in (("optimizer", optimizer), ("scheduler", scheduler)):
        if target is not None:
            if name not in checkpoint:
                raise ValueError(f"load_checkpoint: {path!r} holds no {name} state (it was saved without one); "
                                 f"leave {name}=None, or save the {name} too")
            target.load_state_dict(checkpoint[name])
    if restore_rng and "rng_state" in checkpoint:
        set_rng_state(checkpoint["rng_state"])
    return checkpoint
