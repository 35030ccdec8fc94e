"""The packaging and set-up files agree with each other (stdlib + pytest only)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "tinygrad-lite"
IGNORED = {"python", "pip", PROJECT}
CONDA_TO_PIP = {"pytorch": "torch"}
INSTALLED_EXTRAS = ("course", "test")  # what `.[dev]` installs; `gpu` is optional


def norm(name):
    name = re.sub(r"[-_.]+", "-", name.strip().lower())
    return CONDA_TO_PIP.get(name, name)


def req_name(req):
    """'numpy>=1.24 ; python_version...' -> 'numpy' (also conda's 'numpy >=1.24', 'python=3.11')."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    assert match, f"cannot read a package name from {req!r}"
    return norm(match.group(1))


@pytest.fixture(scope="module")
def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pyproject_requirements(pyproject):
    project = pyproject["project"]
    reqs = list(project["dependencies"])
    for extra in INSTALLED_EXTRAS:
        reqs += project["optional-dependencies"][extra]
    return [r for r in reqs if req_name(r) not in IGNORED]


def conda_dependencies():
    """Entries of environment.yml's `dependencies:` (including its `pip:` list).

    A tiny line parser for the plain layout we use, so that no YAML library is needed."""
    entries, section = [], None
    for line in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        line = line.split(" #")[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            section = line.split(":")[0].strip()
            continue
        item = re.match(r"\s*-\s+(.*)", line)
        if section == "dependencies" and item and item.group(1) != "pip:":
            entries.append(item.group(1).strip())
    return entries


def constraint_pins():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"constraints.txt: {line!r} is not an exact `name==version` pin"
        assert norm(name) not in pins, f"constraints.txt pins {name} twice"
        pins[norm(name)] = version.strip()
    return pins


def test_pyproject_basics(pyproject):
    project = pyproject["project"]
    assert norm(project["name"]) == PROJECT
    assert project["requires-python"] == ">=3.10"
    assert pyproject["build-system"]["build-backend"] == "setuptools.build_meta"
    assert "torch==2.13.0" in project["optional-dependencies"]["course"]
    assert "torch==2.13.0" in project["optional-dependencies"]["test"]
    dev = {req_name(r) for r in project["optional-dependencies"]["dev"]}
    assert dev == {PROJECT}, "dev should be tinygrad_lite[course,test]"
    assert project["scripts"]["tinygrad-lite"] == "tinygrad_lite_cli:main"  # light: see tinygrad_lite_cli


def test_environment_yml_matches_pyproject(pyproject):
    entries = conda_dependencies()
    assert "-e ." in entries, "environment.yml should pip-install the project itself"
    assert "torch==2.13.0" in entries, "environment.yml should pip-install torch==2.13.0"
    conda = {req_name(e) for e in entries if not e.startswith("-")} - IGNORED
    ours = {req_name(r) for r in pyproject_requirements(pyproject)}
    assert conda == ours, (
        f"only in environment.yml: {sorted(conda - ours)}; only in pyproject.toml: {sorted(ours - conda)}"
    )


def test_constraints_pin_everything(pyproject):
    pins = constraint_pins()
    assert pins.get("torch") == "2.13.0"
    assert PROJECT not in pins
    for req in pyproject_requirements(pyproject):
        name = req_name(req)
        assert name in pins, f"constraints.txt does not pin {name} (from pyproject.toml)"
        exact = re.search(r"==\s*([^\s,;]+)", req)
        if exact:
            assert pins[name] == exact.group(1), f"{name}: pyproject says {req}, constraints {pins[name]}"


def test_run_py_help():
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for word in ("lab", "test", "setup"):
        assert f"run.py {word}" in result.stdout


def test_run_py_rejects_unknown_command():
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "nonsense"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown command" in result.stderr


def readme_quick_start_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\s*$(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has no '## Quick start' section"
    block = re.search(r"```[a-z]*\n(.*?)```", section.group(1), re.S)
    assert block, "README.md's Quick start has no code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_quick_start_has_two_commands():
    assert readme_quick_start_commands() == ["python3 run.py lab", "python3 run.py test"]


def test_ci_runs_readme_test_command():
    test_commands = [c for c in readme_quick_start_commands() if c.split()[-1] == "test"]
    assert len(test_commands) == 1, "README's Quick start should have one test command"
    ci = ROOT / ".ci" / "run"
    lines = [line.strip() for line in ci.read_text(encoding="utf-8").splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert "set -euo pipefail" in commands
    assert any(c == test_commands[0] or c.startswith(test_commands[0] + " ") for c in commands), (
        f".ci/run does not run the README's test command {test_commands[0]!r}"
    )
    if os.name == "posix":
        assert os.access(ci, os.X_OK), ".ci/run is not executable"


@pytest.mark.parametrize("args, parallel", [
    ([], True), (["tests/test_ops.py", "-x"], True),
    (["-n", "0"], False), (["-n2"], False), (["--numprocesses=3"], False), (["--dist", "loadfile"], False),
    (["-p", "no:xdist"], False), (["--pdb"], False),
])
def test_run_py_test_uses_every_core_unless_told_otherwise(monkeypatch, args, parallel):
    """`run.py test` spreads the suite over every core with notebooks kept whole (conftest.py groups each one's
    cells); pytest options that choose otherwise are passed on alone."""
    monkeypatch.syspath_prepend(str(ROOT))
    import run
    commands = []
    monkeypatch.setattr(run, "run", lambda command: commands.append(command) or 0)
    assert run.test(Path("python"), args) == 0
    (command,) = commands
    assert command[-len(args):] == args if args else True
    assert (command[3:7] == ["-n", str(run.workers()), "--dist", "loadgroup"]) is parallel
    assert run.workers() >= 2  # one per core, plus one for the time the suite spends waiting
