"""The records TensorBoard reads: one ``Summary`` protocol buffer per ``add_*`` call.

An event file is a sequence of ``Event`` records; an ``Event`` holds a wall time, a step and a ``Summary``, and
a ``Summary`` holds tagged values of one kind each. The kinds used here, and what TensorBoard shows them as:

- ``simple_value``: one float32, a point of a curve (the Scalars dashboard);
- ``histo``: a ``HistogramProto``, the counts of values between bucket limits (Histograms and Distributions);
- ``tensor`` with the ``text`` plugin's metadata: a string, shown as Markdown (Text);
- ``image``: a PNG (Images), here a rendered matplotlib figure;
- the ``hparams`` plugin's three records (the experiment, a session's start with its hyperparameter values, its
  end), which put a run in the HParams dashboard's table.

The message classes come from the ``tensorboard`` package (``tensorboard.compat.proto``, no TensorFlow needed).
This module is imported only by ``SummaryWriter``, after it has checked that the package is installed.
Each builder follows what ``torch.utils.tensorboard`` writes, so that TensorBoard shows both the same way.
"""
import io

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData


def scalar(tag, value, new_style=False, double_precision=False):
    """One number. The old style (``simple_value``, a float32) is what PyTorch writes by default; the new style
    keeps it as a tensor of the ``scalars`` plugin (float32, or float64 with ``double_precision``)."""
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=value)])
    if double_precision:
        tensor = TensorProto(dtype="DT_DOUBLE", double_val=[value])
    else:
        tensor = TensorProto(dtype="DT_FLOAT", float_val=[value])
    plugin = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=plugin)])


def histogram(tag, values, bins):
    """The histogram of ``values`` (a float64 array, finite, not empty) over the bin edges ``bins`` (or any
    ``bins`` that ``np.histogram`` takes), in TensorBoard's form.

    TensorBoard stores only each bucket's right limit. So the buckets kept are those from the first to the last
    non-empty one, plus one empty bucket before them, whose right limit is where the first one starts."""
    counts, edges = np.histogram(values, bins=bins)
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        raise ValueError(f"add_histogram: no value falls between the bins' edges {edges[0]:g} and {edges[-1]:g}; "
                         "pass bins that cover the values (bins='auto' adapts them)")
    first, last = filled[0], filled[-1]
    kept_counts = counts[first - 1:last + 1] if first > 0 else np.concatenate([[0], counts[:last + 1]])
    limits = edges[first:last + 2]
    return Summary(value=[Summary.Value(tag=tag, histo=HistogramProto(
        min=values.min(), max=values.max(), num=len(values), sum=values.sum(), sum_squares=values.dot(values),
        bucket_limit=limits.tolist(), bucket=kept_counts.tolist()))])


def text(tag, string):
    """A string, shown by TensorBoard's Text dashboard as Markdown, under ``tag + "/text_summary"`` (PyTorch's
    tag)."""
    plugin = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    tensor = TensorProto(dtype="DT_STRING", string_val=[string.encode("utf-8")],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=plugin, tensor=tensor)])


def image(tag, rgb):
    """An image from an (H, W, 3) uint8 array, stored as PNG."""
    from PIL import Image  # Pillow comes with matplotlib, which add_figure needs anyway
    png = io.BytesIO()
    Image.fromarray(rgb).save(png, format="PNG")
    height, width, channels = rgb.shape
    encoded = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=png.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=encoded)])


def _hparams_record(tag, **content):
    """One record of the hparams plugin: its data (``experiment=``, ``session_start_info=`` ...) under ``tag``."""
    data = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **content)
    plugin = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name=metadata.PLUGIN_NAME, content=data.SerializeToString()))
    return Summary(value=[Summary.Value(tag=tag, metadata=plugin)])


def hparams(hparam_values, metric_names, domains):
    """The hparams plugin's three records: the experiment (the hyperparameters, their types and discrete domains,
    and the metrics' names), the session's start (each hyperparameter's value) and its end (a success).

    ``hparam_values`` maps each name to a float or a str (``None`` values left out by the caller); ``domains``
    maps a name to the list of values it may take."""
    start = plugin_data_pb2.SessionStartInfo()
    infos = []
    for name, value in hparam_values.items():
        if isinstance(value, str):
            start.hparams[name].string_value = value
            kind, field = "DATA_TYPE_STRING", "string_value"
        else:
            start.hparams[name].number_value = value
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        info = api_pb2.HParamInfo(name=name, type=api_pb2.DataType.Value(kind))
        if name in domains:
            for allowed in domains[name]:
                setattr(info.domain_discrete.values.add(), field, allowed)
        infos.append(info)
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=[
        api_pb2.MetricInfo(name=api_pb2.MetricName(tag=name)) for name in metric_names])
    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.Status.Value("STATUS_SUCCESS"))
    return (_hparams_record(metadata.EXPERIMENT_TAG, experiment=experiment),
            _hparams_record(metadata.SESSION_START_INFO_TAG, session_start_info=start),
            _hparams_record(metadata.SESSION_END_INFO_TAG, session_end_info=end))
