"""The stored outputs of the solution notebooks hold nothing of the machine that ran them: no absolute path (a
temporary folder, a home folder, the repository's own place, an installed package's file in a warning). A learner
and an instructor see those outputs; a path in them names someone's machine, and a warning that carries one (numpy's
"RuntimeWarning" line starts with the file's path) is noise of that run. Reads the notebooks' JSON only: cheap."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))

# Where an absolute path shows itself: a Unix folder that holds machines' files, an installed package, a Windows drive.
MACHINE_PATH = re.compile(
    r"(?<![\w.~])/(?:tmp|home|work|root|Users|usr|opt|var|private|mnt|srv|scratch)/"
    r"|site-packages|dist-packages"
    r"|(?<![\w])[A-Za-z]:\\")


def shown_texts(output):
    """Every text of one stored output that a reader can see: a stream, text/* and JSON data, a traceback (not an
    image, whose base64 can hold any characters)."""
    texts = [output.get("text", "")]
    for kind, value in output.get("data", {}).items():
        if kind.startswith("text/") or kind.endswith("json"):
            texts.append(value if isinstance(value, (str, list)) else json.dumps(value))
    texts.append(output.get("traceback", []))
    texts += [str(output.get(key, "")) for key in ("ename", "evalue")]
    return ["".join(text) if isinstance(text, list) else text for text in texts]


def machine_paths(notebook):
    """(cell number, the text around the path) for every absolute path in the stored outputs of ``notebook``."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            for text in shown_texts(output):
                found += [(index, text[max(0, m.start() - 60):m.end() + 60]) for m in MACHINE_PATH.finditer(text)]
    return found


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_no_stored_output_holds_a_path_of_the_machine_that_ran_it(path):
    found = machine_paths(json.loads(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name}: absolute paths in stored outputs (print a name relative to the lesson's " + \
        "folder, or silence the warning that carries one, and execute the notebook again):\n" + \
        "\n".join(f"  cell {index}: ...{text!r}..." for index, text in found)


@pytest.mark.parametrize("text", [
    "/work/main/tinygrad_lite/dtypes.py:184: RuntimeWarning: invalid value encountered in matmul",
    "history file: /tmp/lesson09_iif1_9ug/tinygrad_lite_seed0_history.json",
    "/home/ana/.venv/lib/python3.11/site-packages/numpy/core/fromnumeric.py:88: RuntimeWarning",
    r"C:\Users\ana\course\lessons\checkpoint.ckpt", "/Users/ana/course", "saved in /root/x.ckpt"])
def test_a_path_is_found(text):
    notebook = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stderr",
                                                                  "text": [text]}]}]}
    assert machine_paths(notebook)


@pytest.mark.parametrize("text", [
    "history file: tinygrad_lite_seed0_history.json", "loss 0.5/0.25 (a ratio)", "https://pytorch.org/docs/",
    "pip install torch --index-url https://download.pytorch.org/whl/cpu", "shape (3, 4) / 2", "ratio 3:1, a:b"])
def test_what_is_not_a_path_is_not_found(text):
    notebook = {"cells": [{"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stdout",
                                                                  "text": [text]}]}]}
    assert not machine_paths(notebook)
