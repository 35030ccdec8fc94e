"""``tinygrad_lite.utils.tensorboard.SummaryWriter`` writes the event files PyTorch's writes, read back with
TensorBoard's own reader; the ``tensorboard`` package stays an optional extra (never imported with the library,
a clear ImportError when a writer is made without it)."""
import ast
import contextlib
import importlib.util
import io
import re
import socket
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from tensorboard_helpers import next_second

import tinygrad_lite as tl
from tinygrad_lite.utils.tensorboard import SummaryWriter

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
needs_tensorboard = pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None,
                                       reason="the tensorboard package is not installed (the tensorboard extra)")

# A PyTorch script in the style of PyTorch's TensorBoard tutorial (our own): a linear model fitted with SGD and an
# L1 loss, logging what a training run logs. Its numbers are exact in float32 whatever the order of the sums
# (quarters and 64ths with few digits, L1's gradients are signs), so both libraries compute the same bits and the
# files can be compared value for value.
SCRIPT = '''
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter

model = nn.Linear(4, 2)
with torch.no_grad():
    model.weight.copy_(torch.arange(8.0).reshape(2, 4) / 8 - 0.5)
    model.bias.fill_(0.25)
x = torch.arange(12.0).reshape(3, 4) / 4
target = torch.tensor([[1.0, -1.0], [2.0, 0.5], [3.0, 1.5]])
loss_fn = nn.L1Loss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=1 / 64)

losses = []
with SummaryWriter("runs/l1_fit") as writer:
    writer.add_text("about", "a **linear** model, L1 loss", 0)
    writer.add_histogram("inputs", x.numpy(), 0, bins="auto")
    writer.add_histogram("targets", target, 0, max_bins=5)
    for step in range(4):
        loss = loss_fn(model(x), target)
        optimizer.zero_grad()
        loss.backward()
        writer.add_scalar("loss", loss.item(), step)
        writer.add_scalar("loss_tensor", loss, step, new_style=True)
        writer.add_scalars("first_weights", {"w00": model.weight[0, 0], "w10": model.weight[1, 0]}, step)
        for name, p in model.named_parameters():
            writer.add_histogram(name, p, step)
            writer.add_histogram(name + ".grad", p.grad, step)
        optimizer.step()
        losses.append(loss.item())
    figure = plt.figure(figsize=(3, 2), dpi=50)
    plt.plot(losses, marker="o")
    writer.add_figure("loss_curve", figure, 3)
    writer.add_hparams({"lr": 1 / 64, "steps": 4, "loss": "l1", "nesterov": False}, {"hparam/loss": losses[-1]},
                       hparam_domain_discrete={"loss": ["l1", "mse"]}, run_name="hparams")
print("losses", losses)
'''


def run_script(source, folder, monkeypatch):
    folder.mkdir()
    monkeypatch.chdir(folder)
    exec(compile(source, "<script>", "exec"), {"__name__": "__script__"})
    return folder / "runs"


def pixels(png):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)))


def read_runs(root):
    """Every run below ``root`` (each folder holding event files), as {run: {what: [records]}}, read by
    TensorBoard's EventAccumulator."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
    runs = {}
    for folder in sorted({p.parent for p in root.rglob("events.out.tfevents.*")}):
        events = EventAccumulator(str(folder), size_guidance={"images": 0, "histograms": 0, "scalars": 0}).Reload()
        tags = events.Tags()
        run = {"tags": {k: sorted(v) for k, v in tags.items() if isinstance(v, list)}}
        for tag in tags["scalars"]:
            run[f"scalar {tag}"] = [(e.step, e.value) for e in events.Scalars(tag)]
        for tag in tags["histograms"]:
            run[f"histogram {tag}"] = [(e.step, e.histogram_value) for e in events.Histograms(tag)]
        for tag in tags["tensors"]:
            run[f"tensor {tag}"] = [(e.step, e.tensor_proto) for e in events.Tensors(tag)]
        for tag in tags["images"]:
            run[f"image {tag}"] = [(e.step, e.width, e.height, pixels(e.encoded_image_string))
                                   for e in events.Images(tag)]
        with contextlib.suppress(KeyError):  # a run without hparams records
            for tag, content in events.PluginTagToContent("hparams").items():
                run[f"hparams {tag}"] = HParamsPluginData.FromString(content)
        runs[folder.relative_to(root).as_posix()] = run
    return runs


@needs_tensorboard
def test_a_pytorch_script_writes_the_same_event_files_under_tinygrad_lite(tmp_path, monkeypatch, capsys):
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
    from test_pytorch_idioms_scripts import swap_imports  # (a module that needs PyTorch)
    assert torch_tensorboard.SummaryWriter is not SummaryWriter
    theirs = read_runs(run_script(SCRIPT, tmp_path / "torch", monkeypatch))
    ours = read_runs(run_script(swap_imports(SCRIPT), tmp_path / "ours", monkeypatch))
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == printed[1] and printed[0].startswith("losses [")  # the same training, to the bit

    assert sorted(ours) == sorted(theirs) == ["l1_fit", "l1_fit/first_weights_w00", "l1_fit/first_weights_w10",
                                              "l1_fit/hparams"]
    for run in theirs:
        assert sorted(ours[run]) == sorted(theirs[run]), run
        for what in theirs[run]:
            assert_same(ours[run][what], theirs[run][what], f"{run}: {what}")
    main = ours["l1_fit"]
    assert main["tags"]["scalars"] == ["loss"] and main["tags"]["tensors"] == ["about/text_summary",
                                                                               "loss_tensor"]
    assert [step for step, _ in main["scalar loss"]] == [0, 1, 2, 3]
    assert len(main["histogram weight.grad"]) == 4 and main["tensor about/text_summary"][0][1].string_val == [
        b"a **linear** model, L1 loss"]
    hparams = ours["l1_fit/hparams"]["hparams _hparams_/session_start_info"].session_start_info.hparams
    assert {k: (v.number_value, v.string_value) for k, v in hparams.items()} == {
        "lr": (1 / 64, ""), "steps": (4.0, ""), "loss": (0.0, "l1"), "nesterov": (0.0, "")}


def assert_same(ours, theirs, where):
    """Equal records: numbers exactly (histograms: every field, bucket limits and counts), images pixel for pixel."""
    if isinstance(theirs, list):
        assert len(ours) == len(theirs), where
        for a, b in zip(ours, theirs):
            assert_same(a, b, where)
    elif isinstance(theirs, tuple):
        assert len(ours) == len(theirs), where
        for a, b in zip(ours, theirs):
            assert_same(a, b, where)
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        assert ours == theirs, f"{where}:\nours:    {ours}\nPyTorch: {theirs}"


def test_importing_the_library_or_the_module_never_imports_tensorboard():
    code = ("import sys, tinygrad_lite, tinygrad_lite.train\n"
            "from tinygrad_lite.utils.tensorboard import SummaryWriter\n"
            "import tinygrad_lite as torch\n"
            "assert torch.utils.tensorboard.SummaryWriter is SummaryWriter\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'tensorboard'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_a_writer_says_how_to_install_it(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m.split(".")[0] == "tensorboard"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    with pytest.raises(ImportError, match="SummaryWriter needs the optional `tensorboard` package: "
                                          "pip install tensorboard ") as error:
        SummaryWriter(tmp_path / "run")
    assert '"tinygrad_lite[tensorboard]"' in str(error.value)  # the extra, for an install from the course's source
    assert not (tmp_path / "run").exists()
    from tinygrad_lite.train import TensorBoardLogger
    with pytest.raises(ImportError, match="^TensorBoardLogger needs the optional `tensorboard` package: pip install "
                                          "tensorboard "):
        TensorBoardLogger(tmp_path / "run")


def test_a_tensorboard_too_old_for_numpy_2_is_named_with_its_fix(monkeypatch, tmp_path):
    """TensorBoard before 2.17.1 uses np.string_, which numpy 2 removed: its import fails with an AttributeError far
    from the cause. A writer says which version is there and how to upgrade it, and a lesson's cell marked
    ``# needs TensorBoard`` says so instead of running (read from the package's metadata: nothing imported)."""
    from tinygrad_lite.course import pytorch
    from tinygrad_lite.utils.tensorboard import writer
    for installed, old in (("2.14.0", "2.14.0"), ("2.17.0", "2.17.0"), ("2.17.1", None), ("2.20.0rc1", None)):
        monkeypatch.setattr(writer.metadata, "version", lambda name, v=installed: v)
        assert writer.tensorboard_too_old() == old
    monkeypatch.setattr(writer.metadata, "version", lambda name: "2.14.0")
    with pytest.raises(ImportError, match=r"^SummaryWriter needs tensorboard 2\.17\.1 or newer, and this Python has "
                                          r"2\.14\.0, which numpy 2 cannot run .*: pip install -U tensorboard$"):
        SummaryWriter(tmp_path / "run")
    assert not (tmp_path / "run").exists()
    monkeypatch.setattr(pytorch, "installed", lambda package: True)
    (line,) = pytorch.skip_without_tensorboard(["# needs TensorBoard\n", "import tensorboard\n"])
    assert eval(line.removeprefix("print(").removesuffix(")\n")) == (
        "TensorBoard 2.14.0 is too old for numpy 2, so this cell is skipped. To run it:\n"
        "  %pip install -U tensorboard   (then restart the kernel)")
    monkeypatch.setattr(writer.metadata, "version", lambda name: (_ for _ in ()).throw(
        writer.metadata.PackageNotFoundError(name)))
    assert writer.tensorboard_too_old() is None  # not installed: the ImportError above says how to install it


@needs_tensorboard
def test_the_default_run_folder_is_named_as_pytorch_names_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as writer:
        name = Path(writer.get_logdir())
    assert name.parent == Path("runs")
    assert re.fullmatch(r"[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_" + re.escape(socket.gethostname()) + r"_lr0\.1", name.name)
    assert list((tmp_path / name).glob("events.out.tfevents.*"))
    with SummaryWriter(tmp_path / "given", comment="_ignored", filename_suffix=".v2") as writer:
        writer.add_scalar("x", 1.0)
    (event_file,) = (tmp_path / "given").iterdir()
    assert event_file.name.endswith(".v2") and writer.get_logdir() == tmp_path / "given"


@needs_tensorboard
def test_close_then_log_again_opens_a_new_file_and_purge_step_hides_a_crashed_runs_tail(tmp_path):
    folder = tmp_path / "run"
    writer = SummaryWriter(folder)
    for step in range(5):  # the first attempt got to step 4, its last checkpoint was at step 2
        writer.add_scalar("loss", 10.0 - step, step)
    writer.close()
    writer.close()  # twice: nothing
    next_second()  # (the resumed run comes later: its event file is read after the crashed one's)
    with SummaryWriter(folder, purge_step=3) as resumed:
        for step in range(3, 6):
            resumed.add_scalar("loss", 20.0 - step, step)
    writer.add_scalar("late", 1.0, 0)  # after close(): a new event file
    writer.close()
    assert len(list(folder.iterdir())) == 3
    run = read_runs(folder)["."]
    assert run["scalar loss"] == [(0, 10.0), (1, 9.0), (2, 8.0), (3, 17.0), (4, 16.0), (5, 15.0)]


@needs_tensorboard
def test_bad_arguments_raise_clear_errors(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"add_scalar: a scalar is one number, got 3 values"):
            writer.add_scalar("x", tl.ones(3))
        with pytest.raises(TypeError, match="add_scalar: tag must be a string"):
            writer.add_scalar(3, 1.0)
        with pytest.raises(TypeError, match="add_scalar: the value must be a tensor, a numpy array or a number"):
            writer.add_scalar("x", "1.0")
        with pytest.raises(TypeError, match="global_step must be an int"):
            writer.add_scalar("x", 1.0, global_step="first")
        writer.add_histogram("h", np.array([1.0, np.nan, np.inf]))  # (round r63: logged, nan and inf in no bucket)
        with pytest.raises(ValueError, match="no value falls between the bins' edges"):
            writer.add_histogram("h", np.array([np.nan]))
        with pytest.raises(ValueError, match="add_histogram: values is empty"):
            writer.add_histogram("h", tl.zeros(0))
        with pytest.raises(ValueError, match="no value falls between the bins' edges"):
            writer.add_histogram("h", np.array([1e30]))
        with pytest.raises(TypeError, match="add_figure: figure must be a matplotlib Figure"):
            writer.add_figure("f", np.zeros((3, 3)))
        with pytest.raises(TypeError, match="add_hparams: hparam_dict and metric_dict must be dicts"):
            writer.add_hparams([("lr", 0.1)], {})
        with pytest.raises(ValueError, match=r"add_hparams: hparam_dict\['opt'\] must be"):
            writer.add_hparams({"opt": [1]}, {})
        with pytest.raises(TypeError, match=r"hparam_domain_discrete\['lr'\] must be a list"):
            writer.add_hparams({"lr": 0.1}, {}, hparam_domain_discrete={"lr": [1, 2]})
        with pytest.raises(TypeError, match="add_text: text_string must be a str"):
            writer.add_text("t", 3)
        with pytest.raises(TypeError, match=r"add_histogram: values is None.*\.grad is None until backward\(\)"):
            writer.add_histogram("weights/0.weight.grad", tl.ones(2, requires_grad=True).grad, 0)


@needs_tensorboard
def test_pytorchs_methods_that_are_not_covered_say_where_to_find_them(tmp_path):
    from tinygrad_lite.utils.tensorboard.writer import COVERED, NOT_COVERED
    with SummaryWriter(tmp_path) as writer:
        for name in NOT_COVERED:
            with pytest.raises(AttributeError, match=rf"^SummaryWriter\.{name}: .* covers {', '.join(COVERED)} .*"
                                                     rf"for {name}, use PyTorch's: from torch\.utils\.tensorboard "
                                                     "import SummaryWriter$"):
                getattr(writer, name)
        with pytest.raises(AttributeError, match="^'SummaryWriter' object has no attribute 'add_scalarz'$"):
            writer.add_scalarz("x", 1.0)
        assert not hasattr(writer, "add_image") and hasattr(writer, "add_scalar")
    torch = importlib.util.find_spec("torch")  # PyTorch's writer.py, read without importing PyTorch (slow)
    if torch is None:
        pytest.skip("PyTorch is not installed")
    source = Path(torch.submodule_search_locations[0], "utils", "tensorboard", "writer.py").read_text()
    (theirs,) = [node for node in ast.parse(source).body if getattr(node, "name", "") == "SummaryWriter"]
    methods = {node.name for node in theirs.body if isinstance(node, ast.FunctionDef) and node.name[:4] == "add_"}
    assert methods == set(COVERED) | set(NOT_COVERED)  # every one of PyTorch's: here, or named as not covered
