"""What the library does not cover, said clearly.

tinygrad_lite mirrors a part of PyTorch's API. A name outside that part raises ``AttributeError``, as any missing
name does in Python, but its message says what to write instead when the library has another way:

- an in-place method whose out-of-place twin exists: ``x.cumsum_(0)`` says to write ``x = x.cumsum(0)`` (or ``copy_``);
- a name the library has in another place: ``nn.mse_loss`` points to ``nn.functional.mse_loss``;
- anything else: the library does not cover it, and the README's "Using tinygrad_lite like PyTorch" says what it
  covers and where it differs.

The error keeps ``name`` and ``obj``, so Python still adds its own "Did you mean" for a typo (``x.unsqeeze``).
Tensor's ``__getattr__`` and the packages' module ``__getattr__`` (``__getattr__ = missing_names(__name__)``) raise
it; Python calls them only for a name that normal lookup did not find, so a name that exists costs nothing more.
"""
import importlib.abc
import sys

# where the library keeps its public functions and classes, searched in this order for a name asked elsewhere
PLACES = ("tinygrad_lite", "tinygrad_lite.nn", "tinygrad_lite.nn.functional", "tinygrad_lite.nn.init",
          "tinygrad_lite.linalg", "tinygrad_lite.optim", "tinygrad_lite.optim.lr_scheduler",
          "tinygrad_lite.utils.data")


# PyTorch's top-level names whose namesake elsewhere here is another thing: not a hint to follow
NAMESAKES = {
    "embedding": "torch.embedding takes (weight, indices); nn.functional.embedding(indices, weight) is the same "
                 "lookup with the arguments the other way round",
    "batch_norm": "torch.batch_norm takes (input, weight, bias, running_mean, running_var, ...); "
                  "nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps) "
                  "is the same op with its arguments in another order",
    "functional": "torch.functional is not covered (its einsum is tinygrad_lite.einsum, its norm "
                  "tinygrad_lite.norm); nn.functional is another module",
}


# PyTorch's private modules that scripts reach into (torch._dynamo.config.suppress_errors = True, ...)
PRIVATE = {
    "_dynamo": "torch._dynamo (the graph capture of torch.compile) is not covered: tinygrad_lite has no compiler, "
               "and its torch.compile runs the model eagerly (compiler.py); leave these settings out",
    "_inductor": "torch._inductor (torch.compile's code generator) is not covered: tinygrad_lite has no compiler "
                 "(compiler.py); leave these settings out",
}


def _found_in(name, asked_in):
    """The first place, other than ``asked_in``, whose module exports ``name`` (in its ``__all__``; the top level,
    which has none, by a public callable of its own namespace). nn.init's deprecated spellings without the final
    underscore (``nn.init.normal``) are not offered: ``torch.normal`` is something else; nor is a module
    (``autograd.functional`` is not ``nn.functional``)."""
    for place in PLACES:
        module = sys.modules.get(place)
        if place == asked_in or module is None or (place.endswith(".init") and hasattr(module, name + "_")):
            continue
        exported = getattr(module, "__all__", None)
        if isinstance(vars(module).get(name), type(sys)):  # a module of that name (nn.functional) is another thing
            continue
        if name in exported if exported is not None else callable(vars(module).get(name)):
            return place
    return None


def not_covered(owner, name, obj=None):
    """The AttributeError for ``owner.name``: ``owner`` is "Tensor" (for a tensor ``obj``) or a module's name."""
    obj = obj if owner == "Tensor" else sys.modules.get(owner)
    what = f"'{type(obj).__name__}' object" if owner == "Tensor" else f"module {owner!r}"
    plain = f"{what} has no attribute {name!r}"
    if owner == "tinygrad_lite" and name in PRIVATE:
        return AttributeError(f"{plain}: {PRIVATE[name]}", name=name, obj=obj)
    if name.startswith("_") or (owner == "Tensor" and hasattr(type(obj), name)):
        return AttributeError(plain, name=name, obj=obj)  # (private names, and properties that failed inside)
    tensor = sys.modules["tinygrad_lite"].Tensor
    place = _found_in(name, owner)
    if owner == "Tensor" and name.endswith("_") and callable(getattr(tensor, name[:-1], None)):
        hint = (f"tinygrad_lite has {name[:-1]}, not the in-place {name}: write x = x.{name[:-1]}(...), or "
                f"x.copy_(x.{name[:-1]}(...)) to change x's own numbers (a parameter's, under no_grad)")
    elif owner == "tinygrad_lite" and name in NAMESAKES:
        hint = NAMESAKES[name]
    elif place is not None:
        hint = f"tinygrad_lite has it as {place}.{name}"
    elif owner != "Tensor" and callable(getattr(tensor, name, None)):
        hint = f"tinygrad_lite has it as a Tensor method: x.{name}(...)"
    else:
        hint = ("tinygrad_lite covers a part of PyTorch's API, and not this; its README's \"Using tinygrad_lite "
                "like PyTorch\" lists what it covers")
    return AttributeError(f"{plain}: {hint}", name=name, obj=obj)


def missing_names(module_name):
    """The ``__getattr__`` of a package's module: ``__getattr__ = missing_names(__name__)`` makes a name it lacks
    raise ``not_covered``'s error."""
    def __getattr__(name):
        raise not_covered(module_name, name)
    return __getattr__


# PyTorch's submodules that the library does not have: ``import torch.fft`` says so (a plain ModuleNotFoundError
# otherwise); what it would need is named where there is something to say
SUBMODULES = {
    "fft": "torch.fft needs complex tensors, which tinygrad_lite does not have",
    "hub": "torch.hub downloads models, and tinygrad_lite loads no weights from the internet",
    "fx": "torch.fx traces programs into graphs, for compilers; tinygrad_lite runs every op as it is called",
    "export": "torch.export traces programs into graphs, for compilers; tinygrad_lite runs every op eagerly",
    "_dynamo": PRIVATE["_dynamo"], "_inductor": PRIVATE["_inductor"],
    "ao": "torch.ao (quantization, pruning) is not covered", "quantization": "quantization is not covered",
    "sparse": "sparse tensors are not covered", "mps": "the 'mps' device (Apple GPUs) is not covered",
    "xpu": "the 'xpu' device is not covered", "package": "torch.package is not covered",
    "types": "torch.types (type hints) is not covered", "overrides": "torch.overrides is not covered",
    "utils.model_zoo": "it downloads weights, and tinygrad_lite loads no weights from the internet",
    "autograd.forward_ad": "forward-mode AD is not covered; torch.func.jvp computes a Jacobian-vector product",
}


class MissingSubmodules(importlib.abc.MetaPathFinder):
    """Last on ``sys.meta_path``: an import of a PyTorch submodule the library lacks (``import tinygrad_lite.fft``)
    raises ModuleNotFoundError with the reason, where Python would say only that there is no such module."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, rest = fullname.partition(".")
        if package == "tinygrad_lite" and rest in SUBMODULES:
            raise ModuleNotFoundError(f"No module named {fullname!r}: {SUBMODULES[rest]} (tinygrad_lite covers a "
                                      f"part of PyTorch; its README lists it)", name=fullname)
        return None


if not any(isinstance(finder, MissingSubmodules) for finder in sys.meta_path):
    sys.meta_path.append(MissingSubmodules())
