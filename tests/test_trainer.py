"""The fit loop, its callbacks, and reproducible resume from a checkpoint."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import nn
from tinygrad_lite.train import (
    Callback,
    Checkpoint,
    EarlyStop,
    EarlyStopping,
    GradientClipping,
    LRScheduler,
    Trainer,
    fit,
    load_checkpoint,
    plot_history,
)
from tinygrad_lite.utils.data import DataLoader, TensorDataset

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def data(n=96, seed=0):
    rs = np.random.default_rng(seed)
    x = rs.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return TensorDataset(tl.tensor(x), tl.tensor(y))


def model_and_optimizer(lr=0.1):
    tl.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    return model, tl.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_fit_is_exactly_the_hand_written_loop():
    train, val = DataLoader(data(), batch_size=16), DataLoader(data(seed=1), batch_size=32)
    model, optimizer = model_and_optimizer()
    history = fit(model, train, nn.CrossEntropyLoss(), optimizer, epochs=3, val_loader=val, progress=False)
    by_fit = weights(model)

    model, optimizer = model_and_optimizer()
    loss_fn, losses = nn.CrossEntropyLoss(), []
    for _ in range(3):
        model.train()
        total = 0.0
        for x, y in train:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        losses.append(total / 96)
    for name, w in weights(model).items():
        np.testing.assert_array_equal(by_fit[name], w, err_msg=name)
    np.testing.assert_allclose(history["train_loss"], losses, rtol=1e-6)
    assert history["epoch"] == [0, 1, 2] and len(history["val_loss"]) == 3


def test_events_come_in_order_and_metrics_are_averaged():
    class Recorder(Callback):
        def __init__(self):
            self.events = []
        for event in ("on_fit_begin", "on_epoch_begin", "on_batch_begin", "on_after_backward", "on_batch_end",
                      "on_epoch_end", "on_fit_end"):
            locals()[event] = (lambda name: lambda self, trainer: self.events.append(name))(event)

    recorder = Recorder()
    model, optimizer = model_and_optimizer()
    history = fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, epochs=2,
                  metrics={"accuracy": tl.metrics.accuracy}, callbacks=[recorder], progress=False)
    batch = ["on_batch_begin", "on_after_backward", "on_batch_end"]
    epoch = ["on_epoch_begin"] + batch * 2 + ["on_epoch_end"]
    assert recorder.events == ["on_fit_begin"] + epoch * 2 + ["on_fit_end"]
    assert all(0 <= a <= 1 for a in history["train_accuracy"])


def test_evaluate_matches_a_manual_evaluation():
    model, optimizer = model_and_optimizer()
    loader = DataLoader(data(50), batch_size=16)  # a smaller last batch: weighted by its size
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics={"accuracy": tl.metrics.accuracy})
    result = trainer.evaluate(loader)
    x, y = data(50).tensors
    with tl.no_grad():
        out = model(x)
    np.testing.assert_allclose(result["val_loss"], nn.CrossEntropyLoss()(out, y).item(), rtol=1e-5)
    np.testing.assert_allclose(result["val_accuracy"], (out.argmax(1) == y).float().mean().item(), rtol=1e-6)
    assert not model.training


def test_lr_scheduler_callback_epoch_batch_and_plateau():
    model, optimizer = model_and_optimizer()
    scheduler = tl.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, epochs=3,
                  callbacks=[LRScheduler(scheduler)], progress=False)
    assert history["lr"] == [0.1, 0.05, 0.025]

    model, optimizer = model_and_optimizer()
    scheduler = tl.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=4)
    fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, epochs=2,
        callbacks=[LRScheduler(scheduler, interval="batch")], progress=False)
    assert scheduler.last_epoch == 4

    model, optimizer = model_and_optimizer(lr=1e-6)  # too small to improve: the plateau scheduler must cut the lr
    scheduler = tl.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    history = fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, epochs=3,
                  val_loader=DataLoader(data(16), batch_size=16), callbacks=[LRScheduler(scheduler)], progress=False)
    assert history["lr"][-1] < history["lr"][0]
    with pytest.raises(KeyError, match="pass val_loader"):
        fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, epochs=1,
            callbacks=[LRScheduler(scheduler)], progress=False)


def test_gradient_clipping_callback_caps_the_norm_before_the_step():
    class NormAfterClipping(Callback):
        norms = []

        def on_after_backward(self, trainer):
            grads = [p.grad.numpy().ravel() for p in trainer.model.parameters()]
            self.norms.append(np.linalg.norm(np.concatenate(grads)))

    model, optimizer = model_and_optimizer()
    probe = NormAfterClipping()
    history = fit(model, DataLoader(data(64), batch_size=16), nn.CrossEntropyLoss(), optimizer, epochs=2,
                  callbacks=[GradientClipping(0.05), probe], progress=False)
    assert max(probe.norms) <= 0.05 + 1e-6
    assert all(n > 0.05 for n in history["max_grad_norm"])  # the norms before clipping were larger


def test_early_stop_callback_stops_and_restores_the_best_weights():
    model, optimizer = model_and_optimizer(lr=2.0)  # a step size this large makes the validation loss bounce
    stopper = EarlyStopping(patience=1)
    history = fit(model, DataLoader(data(64), batch_size=8, shuffle=True), nn.CrossEntropyLoss(), optimizer, 30,
                  val_loader=DataLoader(data(32, seed=2), batch_size=32), callbacks=[EarlyStop(stopper)],
                  progress=False)
    assert len(history["val_loss"]) < 30
    best = int(np.argmin(history["val_loss"]))
    assert stopper.best_epoch == best
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer)
    np.testing.assert_allclose(trainer.evaluate(DataLoader(data(32, seed=2), batch_size=32))["val_loss"],
                               history["val_loss"][best], rtol=1e-5)


def test_checkpoint_callback_every_epoch_and_best_only(tmp_path):
    model, optimizer = model_and_optimizer()
    fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, 2,
        callbacks=[Checkpoint(tmp_path / "last.pt")], progress=False)
    saved = tl.load(tmp_path / "last.pt")
    assert saved["epoch"] == 1 and set(saved) >= {"model", "optimizer", "rng_state", "logs"}
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(saved["model"][k].numpy(), v.numpy())
    best = Checkpoint(tmp_path / "best.pt", save_best_only=True)
    history = fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, 4,
                  val_loader=DataLoader(data(16, seed=3), batch_size=16), callbacks=[best], progress=False)
    assert tl.load(tmp_path / "best.pt")["epoch"] == int(np.argmin(history["val_loss"]))


def test_checkpoint_callback_saves_the_training_loaders_generator(tmp_path):
    """A training DataLoader(generator=g) shuffles with g alone: Checkpoint saves g's state, and a run resumed with
    load_checkpoint(..., loader=) ends with the uninterrupted run's weights; without g's state it does not."""
    def loader():
        return DataLoader(data(32), batch_size=8, shuffle=True, generator=tl.Generator().manual_seed(5))

    def flat(model):
        return np.concatenate([v.numpy().ravel() for v in model.state_dict().values()])

    model, optimizer = model_and_optimizer()
    fit(model, loader(), nn.CrossEntropyLoss(), optimizer, 4, progress=False)
    straight = flat(model)
    model, optimizer = model_and_optimizer()
    first = loader()
    fit(model, first, nn.CrossEntropyLoss(), optimizer, 2, callbacks=[Checkpoint(tmp_path / "c.pt")],
        progress=False)
    assert "loader_rng_state" in tl.load(tmp_path / "c.pt")
    for with_loader in (True, False):
        model, optimizer = model_and_optimizer()  # a "new process"
        resumed = loader()
        saved = load_checkpoint(tmp_path / "c.pt", model, optimizer, loader=resumed if with_loader else None)
        fit(model, resumed, nn.CrossEntropyLoss(), optimizer, 4, start_epoch=saved["epoch"] + 1, progress=False)
        assert np.array_equal(flat(model), straight) == with_loader


def test_plot_history_draws_losses_and_metrics():
    model, optimizer = model_and_optimizer()
    history = fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, 3,
                  val_loader=DataLoader(data(16), batch_size=16), metrics={"accuracy": tl.metrics.accuracy},
                  progress=False)
    ax = plot_history(history)
    assert {line.get_label() for line in ax.get_lines()} == {"train_loss", "val_loss"}
    other = ax.figure.axes[1]
    assert {line.get_label() for line in other.get_lines()} == {"train_accuracy", "val_accuracy"}
    assert history.plot(["val_loss"]) is not None


RESUME_SCRIPT = textwrap.dedent('''
    import sys
    import tinygrad_lite as tl
    from tinygrad_lite import nn
    from tinygrad_lite.train import load_checkpoint, save_checkpoint
    from tinygrad_lite.utils.data import DataLoader, TensorDataset

    mode, checkpoint, out = sys.argv[1:4]
    tl.manual_seed(0)
    x, y = tl.datasets.two_spirals(200, noise=0.2, seed=0)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)   # shuffled by the global generator
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Dropout(0.2), nn.Linear(32, 2))  # dropout draws too
    optimizer = tl.optim.AdamW(model.parameters(), lr=0.01)
    scheduler = tl.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.7)

    def train(first, last):
        for epoch in range(first, last):
            model.train()
            for xb, yb in loader:
                loss = nn.functional.cross_entropy(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
            scheduler.step()

    if mode == "straight":
        train(0, 5)
    elif mode == "first":
        train(0, 3)
        save_checkpoint(checkpoint, model, optimizer, scheduler, epoch=2)
    else:
        start = load_checkpoint(checkpoint, model, optimizer, scheduler)["epoch"] + 1
        train(start, 5)
    tl.save(model.state_dict(), out)
''')


def test_resume_in_a_fresh_process_is_bit_identical(tmp_path):
    """5 epochs straight == 3 epochs, save, load in a new process, 2 more: the same bits, shuffling and dropout on."""
    script = tmp_path / "train.py"
    script.write_text(RESUME_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for mode, out in (("straight", "straight.pt"), ("first", "first.pt"), ("resume", "resumed.pt")):
        done = subprocess.run([sys.executable, str(script), mode, str(tmp_path / "ckpt.pt"), str(tmp_path / out)],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
    straight, first, resumed = (tl.load(tmp_path / name) for name in ("straight.pt", "first.pt", "resumed.pt"))
    for name in straight:
        np.testing.assert_array_equal(resumed[name].numpy(), straight[name].numpy(), err_msg=name)
    assert any(not np.array_equal(first[n].numpy(), straight[n].numpy()) for n in straight), "training did something"


def test_checkpoint_helpers_restore_everything_in_process(tmp_path):
    model, optimizer = model_and_optimizer()
    scheduler = tl.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(model, DataLoader(data(32), batch_size=16), nn.CrossEntropyLoss(), optimizer, 2,
        callbacks=[LRScheduler(scheduler), Checkpoint(tmp_path / "c.pt", scheduler=scheduler)], progress=False)
    other, other_optimizer = model_and_optimizer()
    other_scheduler = tl.optim.lr_scheduler.StepLR(other_optimizer, step_size=1, gamma=0.5)
    saved = load_checkpoint(tmp_path / "c.pt", other, other_optimizer, other_scheduler)
    assert saved["epoch"] == 1 and other_scheduler.get_last_lr() == scheduler.get_last_lr()
    assert other_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[k].numpy(), v.numpy())


def test_tl_train_is_there_without_importing_it_first():
    """``import tinygrad_lite as tl`` then ``tl.train.fit``: loaded on first use (a fresh interpreter, so that no
    earlier import hides it); an unknown attribute is still an AttributeError."""
    code = textwrap.dedent("""
        import sys
        import tinygrad_lite as tl
        assert "tinygrad_lite.train" not in sys.modules
        assert tl.train.fit is not None and tl.train.EarlyStopping is not None
        try:
            tl.no_such_thing
        except AttributeError as error:
            assert "no_such_thing" in str(error)
        else:
            raise AssertionError("no AttributeError")
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
