"""TensorBoard itself, over the runs lesson 10 logs: the real server (``python -m tensorboard.main``, as a learner
starts it with ``tensorboard --logdir runs``) reads the event files our ``SummaryWriter`` wrote, and its HTTP data
API (what its web page draws from) gives back the lesson's three runs, their charts and their numbers. One server
for the module, started over a folder that the lesson's own cells wrote, and always stopped."""
import csv

import numpy as np
import pytest
from tensorboard_helpers import get, tensorboard_server, write_lesson_runs

pytest.importorskip("tensorboard")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(the server's address, the lesson's namespace) for the runs of lesson 10, section 8."""
    lesson = write_lesson_runs(tmp_path_factory.mktemp("lesson10"))
    runs = [f"lr_{lr}" for lr in lesson["LEARNING_RATES"]]
    with tensorboard_server(lesson["LOG_DIR"].parent, [f"lr_compare/{run}" for run in runs]) as url:
        yield url, lesson


def test_tensorboard_lists_the_three_runs_and_their_charts(served):
    url, lesson = served
    runs = [f"lr_compare/lr_{lr}" for lr in lesson["LEARNING_RATES"]]
    assert sorted(get(url, "/data/runs")) == runs
    tags = get(url, "/data/plugin/scalars/tags")
    assert {run: sorted(tags[run]) for run in runs} == {
        run: ["lr", "train_accuracy", "train_loss", "val_accuracy", "val_loss"] for run in runs}
    histograms = get(url, "/data/plugin/histograms/tags")
    assert "weights/0.weight" in histograms[runs[0]] and "gradients/2.bias" in histograms[runs[0]]


def test_a_scalar_series_read_over_http_holds_the_numbers_of_the_csv_log(served):
    url, lesson = served
    for lr in lesson["LEARNING_RATES"]:
        with open(lesson["LOG_DIR"] / f"lr_{lr}" / "log.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        # each point: [wall time, step, value]
        points = get(url, f"/data/plugin/scalars/scalars?tag=val_loss&run=lr_compare/lr_{lr}")
        assert [step for _, step, _ in points] == [int(row["epoch"]) for row in rows]
        assert [value for _, _, value in points] == [float(np.float32(row["val_loss"])) for row in rows]
        histograms = get(url, f"/data/plugin/histograms/histograms?tag=weights/0.weight&run=lr_compare/lr_{lr}")
        assert [step for _, step, _ in histograms] == [0, 4, 8]  # the lesson's histogram_freq=4, 9 epochs
