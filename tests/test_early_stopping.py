"""EarlyStopping: when it stops in both modes, min_delta and patience, keeping and restoring the best weights."""
import math

import numpy as np
import pytest

import tinygrad_lite as tg
from tinygrad_lite.train import EarlyStopping


def decisions(stopper, values):
    return [stopper.step(v) for v in values]


def test_min_mode_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping(patience=3)
    assert decisions(stopper, [1.0, 0.9, 0.95, 0.91, 0.92]) == [False, False, False, False, True]
    assert (stopper.best, stopper.best_epoch, stopper.wait, stopper.should_stop) == (0.9, 1, 3, True)


def test_an_improvement_resets_the_wait():
    stopper = EarlyStopping(patience=2)
    assert decisions(stopper, [1.0, 1.1, 0.8, 0.9, 0.7, 0.75]) == [False] * 6
    assert (stopper.best, stopper.best_epoch, stopper.wait) == (0.7, 4, 1)
    assert stopper.step(0.71) is True


def test_an_equal_value_is_no_improvement():
    stopper = EarlyStopping(patience=1)
    assert decisions(stopper, [0.5, 0.5]) == [False, True]
    assert stopper.best_epoch == 0


def test_max_mode_for_accuracies():
    stopper = EarlyStopping(monitor="val_acc", mode="max", patience=2)
    assert decisions(stopper, [0.5, 0.6, 0.6, 0.55]) == [False, False, False, True]
    assert (stopper.best, stopper.best_epoch) == (0.6, 1)


@pytest.mark.parametrize("mode, values, best", [
    ("min", [1.0, 0.75, 0.5], 0.5),   # 0.75 improves by exactly min_delta: not enough; 0.5 improves by 0.5
    ("max", [0.5, 0.75, 1.0], 1.0),
])
def test_an_improvement_must_exceed_min_delta(mode, values, best):
    stopper = EarlyStopping(mode=mode, min_delta=0.25, patience=5)
    decisions(stopper, values)
    assert (stopper.best, stopper.best_epoch, stopper.wait) == (best, 2, 0)
    stopper = EarlyStopping(mode=mode, min_delta=0.25, patience=1)
    assert decisions(stopper, values[:2]) == [False, True]  # the exact-min_delta step counts as waiting


def test_patience_zero_stops_at_the_first_epoch_without_improvement():
    assert decisions(EarlyStopping(patience=0), [3.0, 2.0, 2.5]) == [False, False, True]


def test_should_stop_stays_true():
    stopper = EarlyStopping(patience=1)
    assert decisions(stopper, [1.0, 2.0, 0.1]) == [False, True, True]
    assert stopper.best == 0.1  # the better value is still recorded


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_diverged_value_stops_at_once(value):
    stopper = EarlyStopping(patience=10)
    assert decisions(stopper, [1.0, value]) == [False, True]
    assert stopper.best == 1.0


def test_values_from_tensors_numpy_and_dicts():
    stopper = EarlyStopping(monitor="val_loss", patience=3)
    stopper.step(tg.tensor(2.0))
    stopper.step(np.float32(1.5))
    stopper.step({"val_loss": tg.tensor([1.0]), "val_acc": 0.3})
    assert (stopper.best, stopper.best_epoch) == (1.0, 2)
    with pytest.raises(KeyError, match="monitor='val_loss' is not among .*'loss'"):
        stopper.step({"loss": 0.1})
    with pytest.raises(TypeError, match=r"expected one number such as val_loss\.item\(\), got str"):
        stopper.step("low")
    with pytest.raises(ValueError, match="3 elements"):
        stopper.step(tg.ones(3))


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "avg"}, "mode must be 'min'"), ({"patience": -1}, "patience must be an int >= 0"),
    ({"patience": 2.5}, "patience must be"), ({"min_delta": -0.1}, "min_delta must be >= 0"),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)


def test_restore_puts_back_a_copy_of_the_best_weights():
    model = tg.nn.Linear(3, 2)
    stopper = EarlyStopping(patience=2)
    stopper.step(1.0, model)
    best = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with tg.no_grad():
        model.weight += 1.0  # training goes on changing the same arrays in place
    stopper.step(1.5, model)
    assert stopper.step(1.2, model) is True
    assert not np.array_equal(model.weight.detach().numpy(), best["weight"])
    stopper.restore(model)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), best[name])


def test_a_hand_written_loop_uses_it_in_three_lines():
    model = tg.nn.Linear(1, 1)
    val_losses = [5.0, 3.0, 2.0, 2.5, 2.1, 2.2, 1.0, 0.5]  # stops at epoch 5; the best epoch was 2
    stopper = EarlyStopping(patience=3)
    snapshots = []
    for epoch, val_loss in enumerate(val_losses):
        with tg.no_grad():
            model.weight.fill_(float(epoch))  # "training"
        snapshots.append(model.weight.item())
        if stopper.step(val_loss, model):
            break
    stopper.restore(model)
    assert (epoch, stopper.best_epoch) == (5, 2)
    assert model.weight.item() == snapshots[2]


def test_restore_errors():
    model = tg.nn.Linear(2, 2)
    stopper = EarlyStopping(restore_best_weights=False)
    stopper.step(1.0, model)
    assert stopper.best_state is None
    with pytest.raises(RuntimeError, match="restore_best_weights=False"):
        stopper.restore(model)
    stopper = EarlyStopping()
    stopper.step(1.0)
    with pytest.raises(RuntimeError, match=r"pass the model to every step, stopper\.step\(val_loss, model\)"):
        stopper.restore(model)


def test_state_dict_round_trip_through_a_file(tmp_path):
    model = tg.nn.Linear(2, 2)
    stopper = EarlyStopping(mode="max", patience=3)
    decisions(stopper, [0.1, 0.2])
    stopper.step(0.4, model)
    stopper.step(0.3, model)
    tg.save({"stopper": stopper.state_dict()}, tmp_path / "s.pt")
    resumed = EarlyStopping(mode="max", patience=3)
    resumed.load_state_dict(tg.load(tmp_path / "s.pt")["stopper"])
    for name in ("best", "best_epoch", "wait", "epoch", "should_stop"):
        assert getattr(resumed, name) == getattr(stopper, name), name
    assert decisions(resumed, [0.35, 0.39]) == decisions(stopper, [0.35, 0.39]) == [False, True]
    with tg.no_grad():
        model.weight.zero_()
    resumed.restore(model)
    np.testing.assert_array_equal(model.weight.detach().numpy(), stopper.best_state["weight"].numpy())
    with pytest.raises(ValueError, match="saved state is for mode='max'"):
        EarlyStopping(mode="min").load_state_dict(stopper.state_dict())


def test_verbose_messages(capsys):
    stopper = EarlyStopping(monitor="val_loss", patience=1, verbose=True)
    decisions(stopper, [1.0, 0.5, 0.7])
    out = capsys.readouterr().out
    assert "val_loss improved from inf to 1 at epoch 0" in out
    assert "val_loss improved from 1 to 0.5 at epoch 1" in out
    assert "did not improve for 1 epoch(s) (best 0.5 at epoch 1)" in out and "stopping" in out
    assert "EarlyStopping(monitor='val_loss', mode='min', patience=1" in repr(stopper)
    decisions(EarlyStopping(), [1.0])
    assert capsys.readouterr().out == ""  # quiet by default


def test_restore_works_for_a_pytorch_model_too():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(2, 1)
    stopper = EarlyStopping(patience=1)
    stopper.step(1.0, model)
    best = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    assert stopper.step(2.0, model)
    stopper.restore(model)
    assert all(torch.equal(model.state_dict()[k], best[k]) for k in best)
