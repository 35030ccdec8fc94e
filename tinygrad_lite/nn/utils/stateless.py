"""``nn.utils.stateless.functional_call``: PyTorch's older place (before 2.0) of ``torch.func.functional_call``, which
scripts written for it still import. The same function (``func.py``)."""
from ...func import functional_call

__all__ = ["functional_call"]
