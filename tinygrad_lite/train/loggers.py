"""Callbacks that write each epoch's numbers to files: ``CSVLogger`` (a table) and ``TensorBoardLogger``.

``fit`` keeps its numbers in the ``History`` it returns, which is gone when the process ends (or crashes). A logger
writes them out as they come, one epoch at a time, so that a run can be watched while it trains (TensorBoard
reloads its files every few seconds) and compared with other runs afterwards. Both loggers write what
``trainer.logs`` holds at the end of an epoch: ``train_loss``, ``val_loss``, each metric, ``lr`` and whatever the
other callbacks added (``max_grad_norm``), under the same names as the History; the CSV file's ``epoch`` column
and TensorBoard's step are the History's ``epoch`` (0 for the first epoch). So list a logger after the callbacks
that add to the logs (``callbacks=[GradientClipping(1.0), CSVLogger("run.csv")]``), and before ``Checkpoint``: an
epoch is then logged before its checkpoint is saved, never the other way round.

Resuming. A run resumed from a checkpoint (``fit(..., start_epoch=k)``) redoes the epochs from ``k`` on, which the
interrupted run may have logged already (it had got further than its last checkpoint). Both loggers drop those
records, so that the files read as one uninterrupted run: ``CSVLogger`` removes the rows whose epoch is ``k`` or
later, ``TensorBoardLogger`` opens its writer with ``purge_step=k``.
"""
import csv
import numbers
import os

import numpy as np

from ..utils.tensorboard.writer import SummaryWriter, require_tensorboard
from .trainer import Callback


class CSVLogger(Callback):
    """Append one row per epoch to the CSV file ``filename``: a header line with the column names, then the
    epoch's numbers (full precision), written and flushed at the end of each epoch.

    When ``fit`` begins, the rows of epochs at or after its start epoch are removed from the file: a run that starts
    at epoch 0 starts a new file, a resumed run keeps the rows of the epochs before its start and carries on after
    them (no row twice). A row cut short by a crash while it was written is removed too. An existing file without
    an ``epoch`` column is not a log (someone's data): ``fit`` refuses it at its start, whatever its start epoch,
    rather than overwrite it. If an epoch brings a column the file does not have yet (a callback added later, a
    resumed run with another metric), the file is rewritten with the new header, the older rows leaving that
    column empty; a column an epoch lacks stays empty in its row.
    ``separator`` is the character between the values (Keras's name and default).
    """

    def __init__(self, filename, separator=","):
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger: separator must be one character, got {separator!r}")
        self.filename, self.separator = os.fspath(filename), separator
        self.columns, self.rows = [], []

    def on_fit_begin(self, trainer):
        start = trainer.start_epoch
        self.columns, self.rows = self._read()  # refuses a file that is not a log, before writing anything
        if start == 0:  # a new run: a new file
            self.columns, self.rows = [], []
        self.rows = [row for row in self.rows if self._epoch_of(row) < start]
        self._rewrite()

    def on_epoch_end(self, trainer):
        row = {name: _cell(value) for name, value in trainer.logs.items()}
        new = [name for name in row if name not in self.columns]
        self.rows.append(row)
        if new:  # a new column: the whole file again, with the new header (atomically)
            self.columns += new
            self._rewrite()
        else:
            with open(self.filename, "a", newline="", encoding="utf-8") as f:
                self._writer(f).writerow(row)

    # ------------------------------------------------------------------ the file
    def _writer(self, f):
        return csv.DictWriter(f, self.columns, restval="", delimiter=self.separator)

    def _read(self):
        """The file's columns and its complete rows; nothing when there is no file yet."""
        if not os.path.exists(self.filename):
            return [], []
        not_a_log = "so CSVLogger did not write it; log to another file (or delete this one)"
        try:
            with open(self.filename, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f, delimiter=self.separator)
                columns = list(reader.fieldnames or [])
                if columns and "epoch" not in columns:
                    raise ValueError(f"CSVLogger: {self.filename} has no 'epoch' column, {not_a_log}")
                rows = [row for row in reader if None not in row.values()]  # a short last row: cut off by a crash
        except UnicodeDecodeError:
            raise ValueError(f"CSVLogger: {self.filename} is not a text file, {not_a_log}") from None
        return columns, rows

    def _epoch_of(self, row):
        try:
            return float(row["epoch"])
        except ValueError:
            raise ValueError(f"CSVLogger: a row of {self.filename} has the epoch {row['epoch']!r}, not a number; "
                             "log to another file (or repair this one)") from None

    def _rewrite(self):
        """Write the header and every kept row to a new file, then put it in place of the old one."""
        folder = os.path.dirname(self.filename)
        if folder:
            os.makedirs(folder, exist_ok=True)
        partial = self.filename + ".partial"
        with open(partial, "w", newline="", encoding="utf-8") as f:
            if self.columns:
                writer = self._writer(f)
                writer.writeheader()
                writer.writerows(self.rows)
        os.replace(partial, self.filename)


def _cell(value):
    """A number as the CSV shows it: ints as they are, floats with every digit (``repr``), a one-element tensor
    as its number."""
    if hasattr(value, "item"):
        value = value.item()
    return repr(value) if isinstance(value, float) else value


class TensorBoardLogger(Callback):
    """Log each epoch's numbers (loss, metrics, lr: everything in ``trainer.logs``) to TensorBoard as scalars, at
    step ``epoch``; with ``histogram_freq=N``, every N epochs (the first one included) also a histogram of each
    parameter, ``weights/<name>``, and of its gradient as the epoch's last batch left it, ``gradients/<name>``
    (Keras's name: 0, the default, writes none).

    ``log_dir`` is the run's folder (when None, PyTorch's default ``runs/<date>_<time>_<host>``, which changes once
    a second: name the runs of a loop yourself); or give a ``SummaryWriter`` of your own as ``writer`` to log more
    to the same run (then it is yours to close). The writer the logger makes is opened when ``fit`` begins (with
    ``purge_step`` at the start epoch of a resumed run) and closed when it ends. ``histogram_freq`` is an int (a
    TypeError otherwise); the epochs it counts are the History's, from 0. A weight or gradient that holds nan or inf
    gets no histogram that epoch (TensorBoard cannot draw one): its count of non-finite values is logged instead, as
    ``nonfinite/<name>``.
    """

    def __init__(self, log_dir=None, histogram_freq=0, writer=None):
        if not isinstance(histogram_freq, numbers.Integral) or isinstance(histogram_freq, bool):
            raise TypeError(f"TensorBoardLogger: histogram_freq must be an int (every how many epochs; 0: no "
                            f"histograms), got {type(histogram_freq).__name__} {histogram_freq!r}")
        if histogram_freq < 0:
            raise ValueError(f"TensorBoardLogger: histogram_freq must be an int >= 0 (0: no histograms), got "
                             f"{histogram_freq!r}")
        if writer is not None and not all(hasattr(writer, m) for m in ("add_scalar", "add_histogram", "flush")):
            raise TypeError(f"TensorBoardLogger: writer must be a SummaryWriter (or None: the logger makes one), got "
                            f"{type(writer).__name__} {writer!r:.60}; for a run's folder pass log_dir={writer!r:.40}")
        if writer is None:
            require_tensorboard("TensorBoardLogger")  # without the package: its ImportError now, not in fit
        self.log_dir, self.histogram_freq = log_dir, int(histogram_freq)
        self.writer, self._own_writer = writer, writer is None

    def on_fit_begin(self, trainer):
        if self._own_writer:
            start = trainer.start_epoch
            self.writer = SummaryWriter(self.log_dir, purge_step=start if start > 0 else None)
            self.log_dir = self.writer.get_logdir()

    def on_epoch_end(self, trainer):
        epoch = trainer.epoch
        for name, value in trainer.logs.items():
            if name != "epoch" and (isinstance(value, numbers.Real) or hasattr(value, "item")):
                self.writer.add_scalar(name, value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, parameter in trainer.model.named_parameters():
                self._histogram(f"weights/{name}", parameter, epoch)
                if parameter.grad is not None:
                    self._histogram(f"gradients/{name}", parameter.grad, epoch)
        self.writer.flush()  # TensorBoard sees the epoch now, not when the writer's queue fills up

    def _histogram(self, tag, tensor, epoch):
        values = tensor.detach().cpu().numpy()
        nonfinite = int(np.count_nonzero(~np.isfinite(values)))
        if nonfinite:
            self.writer.add_scalar(f"nonfinite/{tag.split('/', 1)[1]}", nonfinite, epoch)
        else:
            self.writer.add_histogram(tag, values, epoch)

    def on_fit_end(self, trainer):
        if self._own_writer:
            self.writer.close()
