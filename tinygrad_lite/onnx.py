"""``torch.onnx``: there for the scripts that import it (pytorch/examples' word_language_model imports it on its
eighth line, to export only when asked); ``export`` refuses, since tinygrad_lite has no graph to export (every op
runs as it is called). Save the weights with ``save(model.state_dict(), path)`` or, for other tools,
``tinygrad_lite.safetensors.save_file``.
"""
__all__ = ["export", "is_in_onnx_export"]


def export(model, args=(), f=None, *rest, **options):
    raise NotImplementedError("onnx.export is not covered by tinygrad_lite: it runs each op as it is called and "
                              "keeps no graph to export. Save the weights with save(model.state_dict(), path), or "
                              "with tinygrad_lite.safetensors.save_file for other tools")


def is_in_onnx_export():
    """False: there is no ONNX export here (PyTorch's models ask it to choose an export-friendly route)."""
    return False
