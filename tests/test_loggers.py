"""The loggers of ``fit``: ``CSVLogger`` (one row per epoch, flushed; a run resumed from a checkpoint leaves no row
twice and reads as the uninterrupted run) and ``TensorBoardLogger`` (the History's numbers as scalars, histograms
of the weights and gradients every N epochs; a resumed run purges the crashed run's tail)."""
import csv
import math
import re

import numpy as np
import pytest
from tensorboard_helpers import next_second

import tinygrad_lite as tl
from tinygrad_lite import nn
from tinygrad_lite.train import (
    Callback,
    Checkpoint,
    CSVLogger,
    GradientClipping,
    TensorBoardLogger,
    fit,
    load_checkpoint,
)
from tinygrad_lite.utils.data import DataLoader, TensorDataset


def accuracy(output, target):
    return (output.argmax(dim=1) == target).float().mean().item()


def setup(seed=1):
    """A model, its optimizer, and loaders (the training one shuffling with a generator of its own)."""
    rs = np.random.default_rng(0)
    x = rs.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] - x[:, 2] > 0).astype(np.int64)
    generator = tl.Generator().manual_seed(0)
    train = DataLoader(TensorDataset(tl.tensor(x[:48]), tl.tensor(y[:48])), batch_size=16, shuffle=True,
                       generator=generator)
    val = DataLoader(TensorDataset(tl.tensor(x[48:]), tl.tensor(y[48:])), batch_size=16)
    tl.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    return model, tl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), train, val


class CrashAfter(Callback):
    """Raises at the end of epoch ``epoch``: after the loggers before it wrote that epoch, before a checkpoint."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer):
        if trainer.epoch == self.epoch:
            raise KeyboardInterrupt("the machine went down")


def train(loggers, checkpoint, epochs=5, crash_after=None, resume=False, extra=()):
    """``fit`` with the ``extra`` callbacks, the loggers after them (they log what the callbacks before them added),
    then a checkpoint after each epoch; with ``resume``, from that checkpoint."""
    model, optimizer, loader, val = setup()
    callbacks = [*extra, *loggers]
    start = load_checkpoint(checkpoint, model, optimizer, loader=loader)["epoch"] + 1 if resume else 0
    if crash_after is not None:
        callbacks.append(CrashAfter(crash_after))
    callbacks.append(Checkpoint(checkpoint))
    try:
        return fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs, val_loader=val,
                   metrics={"accuracy": accuracy}, callbacks=callbacks, progress=False, start_epoch=start)
    except KeyboardInterrupt:
        return None


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_writes_one_row_per_epoch_flushed_at_once(tmp_path):
    path = tmp_path / "logs" / "run.csv"
    seen = []

    class Reader(Callback):  # after the logger: the file already holds this epoch's row
        def on_epoch_end(self, trainer):
            seen.append(len(read_csv(path)))

    model, optimizer, loader, val = setup()
    history = fit(model, loader, nn.CrossEntropyLoss(), optimizer, 3, val_loader=val,
                  metrics={"accuracy": accuracy}, callbacks=[CSVLogger(path), Reader()], progress=False)
    rows = read_csv(path)
    assert seen == [2, 3, 4]  # the header once, then one row per epoch
    assert rows[0] == ["epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy"]
    for i, name in enumerate(rows[0]):
        assert [float(row[i]) for row in rows[1:]] == history[name], name  # every digit
    with pytest.raises(ValueError, match="separator must be one character"):
        CSVLogger(path, separator="; ")


def test_csv_logger_a_resumed_run_reads_as_the_uninterrupted_one(tmp_path):
    straight, crashed, checkpoint = tmp_path / "straight.csv", tmp_path / "crashed.csv", tmp_path / "c.pt"
    train([CSVLogger(straight)], tmp_path / "straight.pt")
    assert train([CSVLogger(crashed)], checkpoint, crash_after=3) is None
    assert [row[0] for row in read_csv(crashed)] == ["epoch", "0", "1", "2", "3"]  # row 3: no checkpoint of it
    with open(crashed, "a") as f:
        f.write("4,0.1,0.5")  # and a row cut short by the crash
    train([CSVLogger(crashed)], checkpoint, resume=True)
    assert crashed.read_text() == straight.read_text()  # no row twice; resume is bit-identical, so are the rows

    train([CSVLogger(crashed)], checkpoint, epochs=2)  # a new run from epoch 0 starts a new file
    assert [row[0] for row in read_csv(crashed)] == ["epoch", "0", "1"]


def test_csv_logger_a_new_column_rewrites_the_header_and_leaves_older_rows_empty_there(tmp_path):
    path, checkpoint = tmp_path / "run.csv", tmp_path / "c.pt"
    train([CSVLogger(path)], checkpoint, crash_after=1)  # its last checkpoint: epoch 0
    train([CSVLogger(path)], checkpoint, epochs=3, resume=True, extra=[GradientClipping(1.0)])
    rows = read_csv(path)
    assert rows[0][-1] == "max_grad_norm" and [row[0] for row in rows[1:]] == ["0", "1", "2"]
    assert rows[1][-1] == "" and float(rows[2][-1]) > 0 and float(rows[3][-1]) > 0



class Stop(Callback):
    """Ends ``fit`` as it begins (after the callbacks before it): what the loggers do at the start, and no more."""

    def on_fit_begin(self, trainer):
        raise KeyboardInterrupt


def begin_fit(callbacks, start_epoch=0):
    model, optimizer, loader, _ = setup()
    with pytest.raises(KeyboardInterrupt):
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, 2, callbacks=[*callbacks, Stop()], progress=False,
            start_epoch=start_epoch)


@pytest.mark.parametrize("start_epoch", [0, 1])
def test_csv_logger_refuses_a_file_that_is_not_a_log_and_starts_an_old_log_afresh(tmp_path, start_epoch):
    data = tmp_path / "data.csv"
    data.write_text("step,loss\n0,1.0\n")  # someone's data, not a log
    with pytest.raises(ValueError, match=re.escape(f"CSVLogger: {data} has no 'epoch' column, so CSVLogger did not "
                                                   "write it; log to another file")):
        begin_fit([CSVLogger(data)], start_epoch)
    assert data.read_text() == "step,loss\n0,1.0\n"  # left as it was
    binary = tmp_path / "weights.csv"
    binary.write_bytes(b"\x80\x81\xfe\xff")
    with pytest.raises(ValueError, match="is not a text file, so CSVLogger did not write it"):
        begin_fit([CSVLogger(binary)], start_epoch)

    log = tmp_path / "log.csv"
    log.write_text("epoch,train_loss\n0,2.5\n1,2.0\n")  # an earlier run's log
    begin_fit([CSVLogger(log)], start_epoch)
    assert log.read_text() == ("" if start_epoch == 0 else "epoch,train_loss\n0,2.5\n")  # (read_text: \r\n as \n)


@pytest.fixture
def read_run():
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def read(folder):
        events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0}).Reload()
        tags = events.Tags()
        scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in tags["scalars"]}
        histograms = {tag: [e.step for e in events.Histograms(tag)] for tag in tags["histograms"]}
        return scalars, histograms
    return read


def test_tensorboard_logger_logs_the_history_and_histograms_every_n_epochs(tmp_path, read_run):
    model, optimizer, loader, val = setup()
    history = fit(model, loader, nn.CrossEntropyLoss(), optimizer, 5, val_loader=val,
                  metrics={"accuracy": accuracy}, progress=False,
                  callbacks=[TensorBoardLogger(tmp_path / "run", histogram_freq=2)])
    scalars, histograms = read_run(tmp_path / "run")
    assert sorted(scalars) == sorted(name for name in history if name != "epoch")
    for name, points in scalars.items():
        assert points == [(e, np.float32(v)) for e, v in zip(history["epoch"], history[name])], name
    names = [name for name, _ in model.named_parameters()]
    assert sorted(histograms) == sorted([f"weights/{n}" for n in names] + [f"gradients/{n}" for n in names])
    assert all(steps == [0, 2, 4] for steps in histograms.values())
    with pytest.raises(ValueError, match="histogram_freq must be an int >= 0"):
        TensorBoardLogger(tmp_path, histogram_freq=-1)
    for wrong in (2.0, "2", True):
        with pytest.raises(TypeError, match=f"histogram_freq must be an int .*, got {type(wrong).__name__}"):
            TensorBoardLogger(tmp_path, histogram_freq=wrong)
    assert TensorBoardLogger(tmp_path, histogram_freq=np.int64(2)).histogram_freq == 2


def test_tensorboard_logger_a_resumed_run_purges_the_crashed_runs_tail(tmp_path, read_run):
    history = train([TensorBoardLogger(tmp_path / "straight")], tmp_path / "straight.pt")
    train([TensorBoardLogger(tmp_path / "crashed")], tmp_path / "c.pt", crash_after=3)
    next_second()  # (the resumed run comes later: its event file is read after the crashed one's)
    train([TensorBoardLogger(tmp_path / "crashed")], tmp_path / "c.pt", resume=True)
    scalars, _ = read_run(tmp_path / "crashed")
    assert len(list((tmp_path / "crashed").iterdir())) == 2  # one event file per attempt
    assert scalars["val_loss"] == [(e, np.float32(v)) for e, v in enumerate(history["val_loss"])]
    assert scalars == read_run(tmp_path / "straight")[0]


def test_tensorboard_logger_with_a_writer_of_your_own_and_non_finite_weights(tmp_path, read_run):
    from tinygrad_lite.utils.tensorboard import SummaryWriter

    class Poison(Callback):
        def on_epoch_end(self, trainer):
            with tl.no_grad():
                trainer.model[0].bias[0] = math.nan

    model, optimizer, loader, _ = setup()
    writer = SummaryWriter(tmp_path / "run")
    fit(model, loader, nn.CrossEntropyLoss(), optimizer, 1, progress=False,
        callbacks=[Poison(), TensorBoardLogger(writer=writer, histogram_freq=1)])
    writer.add_text("notes", "still open after fit", 0)  # the logger leaves a writer it did not make open
    writer.close()
    scalars, histograms = read_run(tmp_path / "run")
    assert scalars["nonfinite/0.bias"] == [(0, 1.0)]
    assert "weights/0.bias" not in histograms and "weights/0.weight" in histograms
