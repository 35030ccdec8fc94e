"""``SummaryWriter``: the course's own writer of TensorBoard files, with the names and signatures of PyTorch's
``torch.utils.tensorboard.SummaryWriter`` for the calls a training run logs, writing the same files.

A run is a folder; the writer appends records to an event file in it (``events.out.tfevents.<time>.<host>...``),
and TensorBoard, pointed at a parent folder (``tensorboard --logdir runs``), shows every run below it, one curve
per run. Each ``add_*`` call is one record: a tag (the name of a chart), a step (the x axis: an epoch, a batch)
and a value::

    writer = SummaryWriter("runs/lr_0.1")
    for epoch in range(epochs):
        ...
        writer.add_scalar("val_loss", val_loss, epoch)
        writer.add_histogram("weights/0.weight", model[0].weight, epoch)
    writer.close()

The records are written by the ``tensorboard`` package (its ``EventFileWriter``, which queues them and writes
them from a thread of its own; TensorFlow is not needed). That package is an optional extra: this module imports
it only when a writer is made, so that ``import tinygrad_lite`` never needs it.

Covered: ``add_scalar``, ``add_scalars``, ``add_histogram``, ``add_text``, ``add_figure``, ``add_hparams``,
``flush``, ``close``, ``get_logdir``, ``with SummaryWriter() as w:``, with PyTorch's signatures, defaults and
file layout (the run folder ``runs/<date>_<host><comment>``; ``add_scalars`` writes one sub-run per curve,
``add_hparams`` one sub-run of its own), so TensorBoard shows the same dashboards for both libraries' files.
PyTorch's other ``add_*`` methods (``add_image``, ``add_graph``, ``add_embedding`` and the rest of
``NOT_COVERED``) are not here: calling one raises an AttributeError that lists what is covered and points to
``torch.utils.tensorboard``.
"""
import numbers
import os
import re
import socket
import time
from datetime import datetime
from importlib import metadata

import numpy as np

INSTALL = ('pip install tensorboard (or, installing the course from its source, its extra '
           '"tinygrad_lite[tensorboard]": pip install -e ".[tensorboard]" in the course\'s folder)')

COVERED = ("add_scalar", "add_scalars", "add_histogram", "add_text", "add_figure", "add_hparams")
# PyTorch's SummaryWriter methods that this one does not have (torch/utils/tensorboard/writer.py)
NOT_COVERED = ("add_audio", "add_custom_scalars", "add_custom_scalars_marginchart",
               "add_custom_scalars_multilinechart", "add_embedding", "add_graph", "add_histogram_raw", "add_image",
               "add_image_with_boxes", "add_images", "add_mesh", "add_onnx_graph", "add_pr_curve",
               "add_pr_curve_raw", "add_tensor", "add_video")


# the first tensorboard that runs on numpy 2 (this library's floor): older ones use np.string_, which numpy 2 removed,
# and fail on import with an AttributeError (2.14 to 2.17.0, tried)
OLDEST_TENSORBOARD = (2, 17, 1)


def tensorboard_too_old():
    """The installed tensorboard's version when it is older than OLDEST_TENSORBOARD, else None (also when it is not
    installed). Read from the package's metadata, without importing it."""
    try:
        installed = metadata.version("tensorboard")
    except metadata.PackageNotFoundError:
        return None
    release = tuple(int(n) for n in re.findall(r"\d+", installed)[:3])
    return installed if release < OLDEST_TENSORBOARD else None


def require_tensorboard(who="SummaryWriter"):
    """The ``tensorboard`` modules a writer uses (``EventFileWriter``, the event record, our ``summary``
    builders), imported on first use, or an ImportError that names ``who`` needs them and says how to install
    them (or, for a tensorboard too old for numpy 2, how to upgrade it)."""
    if old := tensorboard_too_old():
        raise ImportError(f"{who} needs tensorboard {'.'.join(map(str, OLDEST_TENSORBOARD))} or newer, and this "
                          f"Python has {old}, which numpy 2 cannot run (it uses np.string_, removed in numpy 2): "
                          "pip install -U tensorboard")
    try:
        from tensorboard.compat.proto import event_pb2  # the optional extra: imported when a writer is made
        from tensorboard.summary.writer.event_file_writer import EventFileWriter  # (the same)

        from . import summary  # it imports tensorboard's message classes: here too
    except ImportError as error:
        raise ImportError(f"{who} needs the optional `tensorboard` package: {INSTALL} ({error})") from error
    return EventFileWriter, event_pb2, summary


def _tensorflow_bins():
    """PyTorch's default histogram bins (``bins="tensorflow"``): 0 and, on either side, 1e-12 multiplied by 1.1
    again and again up to 1e20, so that buckets are narrow near 0 and wide far from it. Built by the same repeated
    multiplication, so that the edges equal PyTorch's to the last bit."""
    edges, v = [], 1e-12
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0] + edges


def _to_numpy(values, what):
    """A tensor (ours or PyTorch's), a numpy array or a Python number, as a numpy array."""
    if hasattr(values, "detach"):  # a tensor: leave the graph, come to the CPU
        return values.detach().cpu().numpy()
    if isinstance(values, (np.ndarray, np.generic, numbers.Number)):
        return np.asarray(values)
    raise TypeError(f"{what} must be a tensor, a numpy array or a number, got {type(values).__name__}")


def _check_tag(tag, op):
    if not isinstance(tag, str):
        raise TypeError(f"{op}: tag must be a string (the chart's name), got {type(tag).__name__}")


class SummaryWriter:
    """Writes what you log to event files in ``log_dir``, which TensorBoard shows (PyTorch's signature).

    ``log_dir`` defaults to ``runs/<month><day>_<hour>-<minute>-<second>_<hostname><comment>``, a name that changes
    once a second (runs made in a loop may share it, as with PyTorch's); give runs that you compare names of your
    own below one folder (``runs/lr_0.1``, ``runs/lr_0.01``). ``comment`` is appended to that default name only.
    ``purge_step``: after a crash at step T + X, a run resumed at step T with the same ``log_dir`` passes
    ``purge_step=T``, and TensorBoard hides the first attempt's records from step T on. ``max_queue`` records wait
    in memory before one is written out, ``flush_secs`` is the longest a record waits, ``filename_suffix`` ends the
    event file's name.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        self._event_file_writer, self._event_pb2, self._summary = require_tensorboard()
        if not log_dir:
            when = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{when}_{socket.gethostname()}{comment}")
        if purge_step is not None and not isinstance(purge_step, numbers.Integral):
            raise TypeError(f"SummaryWriter: purge_step must be an int (the step to resume from), got "
                            f"{type(purge_step).__name__}")
        self.log_dir, self.purge_step = log_dir, purge_step
        self.max_queue, self.flush_secs, self.filename_suffix = max_queue, flush_secs, filename_suffix
        self.default_bins = _tensorflow_bins()
        self.file_writer = self.all_writers = None
        self._get_file_writer()

    # ------------------------------------------------------------------ files
    def _new_file_writer(self, folder):
        return self._event_file_writer(str(folder), self.max_queue, self.flush_secs, self.filename_suffix)

    def _get_file_writer(self):
        """The event file of ``log_dir``; after ``close()``, a new one (later records go to a new file)."""
        if self.file_writer is None:
            self.file_writer = self._new_file_writer(self.log_dir)
            self.all_writers = {str(self.log_dir): self.file_writer}
            if self.purge_step is not None:  # a resumed run: TensorBoard drops the records from this step on
                Event, now = self._event_pb2.Event, time.time()
                start = self._event_pb2.SessionLog(status=self._event_pb2.SessionLog.START)
                self.file_writer.add_event(Event(step=self.purge_step, wall_time=now, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=self.purge_step, wall_time=now, session_log=start))
                self.purge_step = None  # only once: a writer reopened after close() purges nothing
        return self.file_writer

    def _write(self, summary, global_step, walltime, file_writer=None):
        event = self._event_pb2.Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = _step(global_step)
        (file_writer or self._get_file_writer()).add_event(event)

    def get_logdir(self):
        """The folder the event files are written to."""
        return self.log_dir

    def flush(self):
        """Write every waiting record to disk now."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self):
        """Flush and close the event files (a second call does nothing; a later ``add_*`` opens a new file)."""
        for writer in (self.all_writers or {}).values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()

    def __getattr__(self, name):
        """Only called for a name the writer does not have: for PyTorch's methods that are not covered here, an
        AttributeError that says so and where to find them."""
        if name in NOT_COVERED:
            raise AttributeError(f"SummaryWriter.{name}: tinygrad_lite's SummaryWriter covers {', '.join(COVERED)} "
                                 f"(and flush, close); for {name}, use PyTorch's: "
                                 "from torch.utils.tensorboard import SummaryWriter", name=name, obj=self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)

    # ------------------------------------------------------------------ what can be logged
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """One number (a Python number, or a one-element tensor or array) at ``global_step``: a point of the
        curve ``tag``. Stored as float32 unless ``new_style=True, double_precision=True``."""
        _check_tag(tag, "add_scalar")
        value = _one_number(scalar_value, "add_scalar")
        self._write(self._summary.scalar(tag, value, new_style, double_precision), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several curves in one chart ``main_tag``: each key of ``tag_scalar_dict`` becomes a run of its own, the
        folder ``<log_dir>/<main_tag>_<key>`` (PyTorch's layout), holding the chart ``main_tag``."""
        _check_tag(main_tag, "add_scalars")
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(f"add_scalars: tag_scalar_dict must be a dict {{curve name: number}}, got "
                            f"{type(tag_scalar_dict).__name__}")
        walltime = time.time() if walltime is None else walltime
        self._get_file_writer()  # after close(), this opens the files again (all_writers)
        base = str(self.log_dir)
        for tag, value in tag_scalar_dict.items():
            if not isinstance(tag, str):  # (PyTorch: a TypeError from joining main_tag and the key)
                raise TypeError(f"add_scalars: the keys of tag_scalar_dict name the curves and must be str, got "
                                f"{tag!r} ({type(tag).__name__}); write {{{str(tag)!r}: ...}}")
            folder = base + "/" + main_tag.replace("/", "_") + "_" + tag
            if folder not in self.all_writers:
                self.all_writers[folder] = self._new_file_writer(folder)
            summary = self._summary.scalar(main_tag, _one_number(value, "add_scalars"))
            self._write(summary, global_step, walltime, self.all_writers[folder])

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """The distribution of ``values`` (a tensor or an array, any shape) at ``global_step``.

        ``bins="tensorflow"`` (the default, PyTorch's): fixed edges, growing by 10% away from 0, so histograms of
        different steps share their buckets; any other ``bins`` is handed to ``np.histogram`` (``"auto"``, a
        number, edges). ``max_bins``: with n buckets, every n // max_bins neighbouring ones are merged into one
        (PyTorch's rule, which may leave a few more than ``max_bins``)."""
        _check_tag(tag, "add_histogram")
        if values is None:
            raise TypeError("add_histogram: values is None, not a tensor; a parameter's .grad is None until "
                            "backward() has run (log gradients after loss.backward(), or skip those that are None)")
        values = _to_numpy(values, "add_histogram: values").astype(float).reshape(-1)
        if values.size == 0:
            raise ValueError("add_histogram: values is empty; a histogram needs at least one value")
        if isinstance(bins, str) and bins == "tensorflow":  # (a nan or an inf falls in no bucket, as in PyTorch, so
            bins = self.default_bins                         # a run whose weights went nan keeps logging)
        if max_bins is not None:
            bins = _merge_bins(values, bins, max_bins)
        self._write(self._summary.histogram(tag, values, bins), global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """A string (Markdown) at ``global_step``, in TensorBoard's Text dashboard."""
        _check_tag(tag, "add_text")
        if not isinstance(text_string, str):
            raise TypeError(f"add_text: text_string must be a str, got {type(text_string).__name__}")
        self._write(self._summary.text(tag, text_string), global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them, laid out in a grid of up to 8 per row) as an image, in the
        Images dashboard; ``close`` closes the figure afterwards (it is not shown in the notebook then)."""
        _check_tag(tag, "add_figure")
        figures = figure if isinstance(figure, list) else [figure]
        if not figures or not all(hasattr(f, "savefig") for f in figures):
            raise TypeError("add_figure: figure must be a matplotlib Figure or a list of them (plt.figure(), "
                            f"plt.subplots()[0]), got {type(figure).__name__}")
        images = [_render(f, close) for f in figures]
        rgb = images[0] if len(images) == 1 else _grid(images)
        self._write(self._summary.image(tag, rgb), global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """One row of TensorBoard's HParams dashboard: the hyperparameters of a run (``{"lr": 0.1, ...}``: numbers,
        strings, bools or one-element tensors; ``None`` values are left out) and its results (``metric_dict``,
        numbers, also logged as scalars). As in PyTorch, they go to a run of their own, the folder
        ``<log_dir>/<run_name>`` (``run_name`` defaults to the current time). Bools are stored as the numbers 1
        and 0, as PyTorch stores them. ``hparam_domain_discrete`` lists the values a hyperparameter can take."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts ({'lr': 0.1} and "
                            "{'hparam/accuracy': 0.9})")
        domains = hparam_domain_discrete or {}
        if not isinstance(domains, dict):
            raise TypeError("add_hparams: hparam_domain_discrete must be a dict {name: [values]}")
        for name, allowed in domains.items():
            if name not in hparam_dict or not isinstance(allowed, list) or \
                    not all(isinstance(a, type(hparam_dict[name])) for a in allowed):
                raise TypeError(f"add_hparams: hparam_domain_discrete[{name!r}] must be a list of values of the "
                                f"type of hparam_dict[{name!r}]")
        values = {name: _hparam_value(name, value) for name, value in hparam_dict.items() if value is not None}
        records = self._summary.hparams(values, list(metric_dict), domains)
        folder = os.path.join(str(self.log_dir), run_name or str(time.time()))
        with SummaryWriter(log_dir=folder) as run:
            for record in records:
                run._write(record, global_step, None)
            for name, value in metric_dict.items():
                run.add_scalar(name, value, global_step)


# ---------------------------------------------------------------------- helpers
def _step(global_step):
    try:
        return int(global_step)
    except (TypeError, ValueError):
        raise TypeError(f"SummaryWriter: global_step must be an int (an epoch, a batch count), got "
                        f"{type(global_step).__name__}") from None


def _one_number(value, op):
    array = _to_numpy(value, f"{op}: the value")
    if array.size != 1:
        raise ValueError(f"{op}: a scalar is one number, got {array.size} values (shape {tuple(array.shape)}); "
                         "log one of them, or their mean (x.mean())")
    return float(array.reshape(()))


def _hparam_value(name, value):
    """A hyperparameter as the hparams plugin stores it: a str, or a float (bools and tensors too)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):  # bool too; not numpy's numbers, which PyTorch refuses as well
        return float(value)
    if hasattr(value, "detach"):
        return _one_number(value, "add_hparams")
    hint = f": {'float' if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) else 'int'}" \
        f"(value) makes it one" if isinstance(value, numbers.Real) else ""
    raise ValueError(f"add_hparams: hparam_dict[{name!r}] must be an int, float, str, bool or one-element tensor, "
                     f"got {type(value).__module__}.{type(value).__name__}{hint}")


def _merge_bins(values, bins, max_bins):
    """The edges of ``np.histogram(values, bins)`` with every k = n // max_bins neighbouring buckets (of n) merged
    into one, the last one taking what is left over (PyTorch's ``max_bins``)."""
    _, edges = np.histogram(values, bins=bins)
    n = len(edges) - 1
    if n <= max_bins:
        return edges
    k = n // max_bins
    return np.append(edges[:-1:k], edges[-1])


def _render(figure, close):
    """A figure drawn into an (H, W, 3) uint8 array, as on screen."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # only figures need matplotlib (slow to import)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
    if close:
        import matplotlib.pyplot as plt  # as above
        plt.close(figure)
    return rgb


def _grid(images, per_row=8):
    """Images of equal size side by side, ``per_row`` to a row (black where the last row is short)."""
    height, width, _ = images[0].shape
    columns = min(len(images), per_row)
    rows = -(-len(images) // columns)
    grid = np.zeros((rows * height, columns * width, 3), dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * height:(r + 1) * height, c * width:(c + 1) * width] = image
    return grid
