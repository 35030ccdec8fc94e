"""The course on a hosted notebook (Colab, Kaggle, a JupyterHub), as README.md's "On Colab, Kaggle or any hosted
Jupyter" says, word for word but for the wheel's path: a fresh virtual environment stands for the service's
Python (with ipykernel and nbclient, as such a service has; PyTorch, which Colab and Kaggle preinstall, later), the
course's wheel built from this checkout is installed with ``pip install "<wheel>[hosted]"``, ``tinygrad-lite
lessons course`` writes the lessons into an empty folder, and the lessons run there top to bottom with nbclient in
a kernel of that environment, far from this checkout: no error output, and their checks show. numpy there is
the oldest release that pyproject.toml allows, and so are matplotlib and the hosted extra's (a service's may lag
behind constraints.txt's). First without PyTorch (every lesson: each cell marked ``# needs PyTorch`` says how to
install it instead of failing), then with it (08 and 09, which compare with PyTorch the most, and lesson 00: their
comparisons then run). TensorBoard is not installed either (the hosted extra leaves it to the service): lesson
10's one cell that needs it says how to install it, and the rest of that lesson runs.

Then the same wheel on the oldest Python the package allows (3.10) and the newest this machine has, each in a
venv of its own with what a learner's pip gives that Python: every lesson, without PyTorch. (The course and test
extras at their floors: test_floors.py.)

It installs packages (about a minute from a local index) and runs eleven notebooks, so it runs only when asked:
``TINYGRAD_LITE_VENV_TESTS=1 .venv/bin/python -m pytest tests/test_hosted.py`` (``.ci/run`` does, as a step of
its own after the README's test command).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from course_wheel import build_wheel

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

pytestmark = pytest.mark.skipif(os.environ.get("TINYGRAD_LITE_VENV_TESTS") != "1",
                                reason="installs a hosted notebook's environment: set TINYGRAD_LITE_VENV_TESTS=1")
ROOT = Path(__file__).resolve().parents[1]
MOST_PYTORCH = ("08_gpu_training.ipynb", "09_capstone.ipynb")  # they train and time against PyTorch the most
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Runs in the hosted environment: each lesson in its own kernel, two at a time; prints one JSON line per lesson.
RUN_LESSONS = r"""
import json, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import nbformat
from nbclient import NotebookClient
sys.path.insert(0, sys.argv[2])  # this repository's tests/, for what a learner would see wrong (stdlib only)
from notebook_outputs import output_problems

def run(path):
    nb = nbformat.read(path, as_version=4)
    problems = []
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as e:  # the kernel died, or a cell timed out
        problems.append(f"{type(e).__name__}: {e}"[:300])
    for n, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            problems += [f"cell {n}: {problem}" for problem in output_problems(out)]
    outputs = [json.dumps(out) for c in nb.cells for out in c.get("outputs", [])]
    checks = sum("tgl-check" in out for out in outputs)
    skipped = sum("PyTorch is not installed, so this cell is skipped" in out for out in outputs)
    no_tensorboard = sum("TensorBoard is not installed, so this cell is skipped" in out for out in outputs)
    return {"lesson": path.name, "problems": problems, "checks": checks, "skipped": skipped,
            "no_tensorboard": no_tensorboard}

paths = sorted(Path(sys.argv[1]).glob("[0-9][0-9]_*.ipynb"))
with ThreadPoolExecutor(2) as pool:
    for result in pool.map(run, paths):
        print(json.dumps(result), flush=True)
"""


def floors(extra):
    """{package: its floor} of the wheel's dependencies and of ``extra`` (``name>=version``, or a pin ``==``;
    ``dask[distributed]`` as ``dask``). test_floors.py installs the course and test extras at them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    asked = [r.split("#")[0].strip() for r in [*project["dependencies"], *project["optional-dependencies"][extra]]]
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[a-z,]+\])?[>=]=([0-9.]+)", r).groups() for r in asked)


def lowest_allowed():
    """{package: the oldest version allowed} for what the wheel and its hosted extra ask for."""
    found = floors("hosted")
    assert "numpy" in found and "matplotlib" in found, found
    return found


def run(*command, **options):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def readme_recipe():
    """The two commands of README's hosted section, as a notebook cell holds them."""
    section = re.search(r"^## On Colab, Kaggle or any hosted Jupyter\s*$(.*?)(?=^## )", README, re.M | re.S)
    assert section, "README.md has no '## On Colab, Kaggle or any hosted Jupyter' section"
    block = re.search(r"```[a-z]*\n(.*?)```", section.group(1), re.S)
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_recipe_is_an_install_and_the_lessons_command():
    pip, lessons = readme_recipe()
    assert re.fullmatch(r'%pip install "tinygrad_lite\[hosted\] @ \S+"', pip), pip
    assert lessons == "!tinygrad-lite lessons course"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The course's wheel, built from this checkout (course_wheel.py)."""
    return build_wheel(tmp_path_factory.mktemp("dist"))


def environment_of(venv):
    """This process's environment variables as a shell in ``venv`` has them: without pytest's, coverage's and
    Python's own, the venv's bin/ first on PATH."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV", "PYTHON", "VIRTUAL_ENV"))}
    clean["PATH"] = f"{venv / 'bin'}{os.pathsep}{clean.get('PATH', '')}"
    return clean


def lessons_run(python, course, names, place, **options):
    """{lesson: its result}: the lessons ``names`` of the folder ``course`` run with ``python`` (RUN_LESSONS), copied
    into a new folder of ``place``, each with its checks' boxes shown and nothing a learner would see wrong: no
    error output, no printed traceback, no line that JupyterLab wraps, no figure it shrinks (notebook_outputs.py)."""
    folder = place / f"run-{len(list(place.glob('run-*')))}"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes((course / name).read_bytes())
    done = run(python, "-c", RUN_LESSONS, folder, ROOT / "tests", timeout=1800, **options)
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [r["lesson"] for r in results] == sorted(names)
    assert {r["lesson"]: r["problems"] for r in results if r["problems"]} == {}
    assert all(r["checks"] > 0 for r in results), results  # each lesson's checks showed their boxes
    return {r["lesson"]: r for r in results}


def test_every_lesson_runs_from_the_wheel_in_an_empty_folder_with_and_without_pytorch(wheel):
    place = Path(tempfile.mkdtemp(prefix="tgl-hosted-"))
    env, empty = place / "venv", place / "empty"
    empty.mkdir()
    run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", env)
    python = env / "bin" / "python"
    # the tested versions, but what the wheel and its hosted extra ask for at the oldest release they allow (a
    # service's may lag behind constraints.txt's): the lessons run on numpy 2.0.0, matplotlib 3.9.0, ...
    lowest = lowest_allowed()
    pins = (ROOT / "constraints.txt").read_text()
    for name, version in lowest.items():
        pins = re.sub(rf"(?mi)^{re.escape(name)}==.*$", f"{name}=={version}", pins)
    (place / "constraints.txt").write_text(pins)
    constraints = ("-c", place / "constraints.txt")
    # the service's own Python: a Jupyter kernel and nbclient; first without PyTorch
    run(python, "-m", "pip", "install", "-q", *constraints, "ipykernel", "nbclient", timeout=1200)
    pip, lessons = readme_recipe()
    # README, word for word but for the wheel's path (a notebook's %pip and ! run in the kernel's environment)
    requirement = re.fullmatch(r'%pip install "(tinygrad_lite\[hosted\]) @ \S+"', pip).group(1)
    run(python, "-m", "pip", "install", "-q", *constraints, requirement.replace("tinygrad_lite", str(wheel)),
        timeout=1200)
    assert run(python, "-c", "import importlib.util; print(importlib.util.find_spec('torch'))").stdout.strip() == \
        "None", "the hosted extra must not install PyTorch"
    clean = environment_of(env)
    done = run(*lessons.lstrip("!").split(), cwd=empty, env=clean, timeout=120)
    assert "11 written" in done.stdout, done.stdout
    # the README's way where the shell does not find the command: the kernel's Python (and no nbformat needed)
    assert "!{sys.executable} -m tinygrad_lite.course lessons" in " ".join(README.split())
    plain = dict(clean, PATH=clean["PATH"].split(os.pathsep, 1)[1])
    again = run(python, "-m", "tinygrad_lite.course", "lessons", "course", cwd=empty, env=plain, timeout=120)
    assert "0 written, 11 kept in course" in again.stdout, again.stdout
    course = empty / "course"
    written = sorted(p.name for p in course.glob("*.ipynb"))
    assert written == sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    where = run(python, "-c", "import tinygrad_lite; print(tinygrad_lite.__file__)", cwd=empty, env=clean)
    assert str(env) in where.stdout and str(ROOT) not in where.stdout  # the wheel's, not this checkout's
    versions = run(python, "-c", "from importlib.metadata import version; import sys; "
                   "print(*(version(name) for name in sys.argv[1:]))", *lowest, cwd=empty, env=clean).stdout.split()
    assert dict(zip(lowest, versions)) == {name: f"{v}.0" if v.count(".") == 1 else v for name, v in lowest.items()}
    # pyplot in IPython's own shell (a grading kernel's, the `ipython` terminal's) at the matplotlib floor, with the
    # IPython that constraints.txt pins: matplotlib 3.8 imported IPython's backend2gui, which IPython 9 removed
    shell = run(python, "-c", "from IPython.core.interactiveshell import InteractiveShell as S; print(S.instance()"
                ".run_cell('import matplotlib.pyplot as plt; plt.subplots()').success)", cwd=empty,
                env=dict(clean, MPLBACKEND="agg"))
    assert shell.stdout.split()[-1] == "True", shell.stdout
    # the wheel carries the stored GPU measurement that lesson 08 draws for a learner without a GPU
    stored = run(python, "-c", "from tinygrad_lite.course import stored_gpu_results as s; r = s(); "
                 "print(r['gpu'], r['machine'], r['date'], sep='|')", cwd=empty, env=clean)
    expected = json.loads((ROOT / "benchmarks" / "gpu_results.json").read_text())
    assert stored.stdout.strip() == f"{expected['gpu']}|{expected['machine']}|{expected['date']}", stored.stdout

    def run_lessons(names):
        return lessons_run(python, course, names, place, cwd=empty, env=clean)

    # without PyTorch: every lesson; each comparison says how to install it
    without = run_lessons(written)
    assert all(r["skipped"] > 0 for r in without.values()), without
    # nor TensorBoard (not in the hosted extra): lesson 10's cell that reads the event files says how to install it
    assert {name for name, r in without.items() if r["no_tensorboard"]} == {"10_inside_training.ipynb"}, without
    # with PyTorch (the version constraints.txt pins; Colab and Kaggle preinstall one): the comparisons run
    run(python, "-m", "pip", "install", "-q", *constraints, "torch", timeout=1200)
    with_torch = run_lessons([*MOST_PYTORCH, written[0]])
    assert all(r["skipped"] == 0 for r in with_torch.values()), with_torch
    subprocess.run(["rm", "-rf", str(place)], check=False)


def pythons_here():
    """{(3, minor): a Python of that version on this machine}, from PATH's python3.N and pyenv's versions."""
    candidates = [shutil.which(f"python3.{minor}") for minor in range(10, 20)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob("3.*/bin/python3")) if pyenv.is_dir() else []
    found = {}
    for path in filter(None, candidates):
        done = subprocess.run([path, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                              text=True)  # (a pyenv shim of a version not selected fails here)
        if done.returncode == 0:
            found.setdefault(tuple(map(int, done.stdout.split())), path)
    return found


def test_every_lesson_runs_on_the_oldest_python_the_package_allows_and_the_newest_here(wheel, tmp_path):
    """The wheel on Python 3.10 (pyproject's requires-python) and on the newest Python of this machine, when either
    is here and is not this one: installed as a learner's pip would (the newest releases that Python gets, no
    constraints.txt: numpy 2.4, which it pins, needs 3.11), every lesson runs without PyTorch (there is none here
    for another Python short of a CUDA build's GBs). Skipped where neither is found (a fresh CI machine may have
    one Python only)."""
    found, this = pythons_here(), sys.version_info[:2]
    chosen = {version: path for version, path in found.items()
              if version != this and (version == (3, 10) or version == max(found))}
    if not chosen:
        pytest.skip(f"no other Python here (found {sorted(found)}, this is {this})")
    for (major, minor), path in sorted(chosen.items()):
        place = tmp_path / f"python{major}.{minor}"
        env, empty = place / "venv", place / "empty"
        empty.mkdir(parents=True)
        run(path, "-m", "venv", env)
        python = env / "bin" / "python"
        run(python, "-m", "pip", "install", "-q", f"{wheel}[hosted]", "ipykernel", "nbclient", timeout=1200)
        clean = environment_of(env)
        run(python, "-m", "tinygrad_lite.course", "lessons", "course", cwd=empty, env=clean, timeout=120)
        course = empty / "course"
        names = sorted(p.name for p in course.glob("*.ipynb"))
        assert len(names) == 11, names
        results = lessons_run(python, course, names, place, cwd=empty, env=clean)
        assert all(r["skipped"] > 0 for r in results.values()), results  # (each PyTorch cell said how to install it)

