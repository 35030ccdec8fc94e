"""What grading on a Dask cluster costs: a generated class graded on this machine (``--jobs 2``) and on a
LocalCluster (``--cluster local:2``), in notebooks per core-minute.

    python benchmarks/grade_scale.py                 # a class of 200 notebooks, each mode once
    python benchmarks/grade_scale.py --size 20       # a quick check of the script
    python benchmarks/grade_scale.py --rounds 2      # each mode twice, in alternating order

The class is built with tests/test_grading.py's builders, cycling through these kinds of notebook: for each of
lessons 00-03 a solved, an unsolved and a partly solved one and two with known mistakes (the WRONG lists of
tests/test_lessonNN.py), each twice, and once each of the hostile ones (lesson 00's: a loop, a memory bomb,
sys.exit, os._exit, a segfault, a crash at the top of the cell, a fork bomb, 100 MB of output, a network call,
reading the solutions, reaching for the references, monkeypatching; lesson 03's four misbehaving exercises in a
row). Both modes grade with the same limits (``--timeout 5``: the loops cost 5 s, not 30) and the same secret.

Cost. Each mode runs as a child process (``python -m tinygrad_lite.course grade ...``) in a control group of its own
(cgroup v1 ``cpuacct`` or cgroup v2 ``cpu.stat``, as root): its cost is the CPU time (user + system) of everything
that ran in that group, i.e. its whole process tree: the grader, every kernel, and the Dask scheduler, nannies and
workers. (``getrusage(RUSAGE_CHILDREN)`` would miss the kernels: the grader kills a kernel's process group when it
is done, so bubblewrap never waits for the kernel, whose CPU time is then counted nowhere; the script falls back
to it, and says so, only where no control group can be made.) CPU time, unlike wall time, hardly grows with what
other programs run on the machine. Notebooks per core-minute = notebooks / (CPU seconds / 60); the cluster path's
cost per notebook is compared with local grading's (the issue allows at most 10% more).
The two gradebooks are compared too: they are the same except where a time limit decides a verdict (a fork
bomb's, a memory bomb's on a loaded machine), which the script lists.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

SECRET = "grade_scale benchmark\n"
TIMEOUT = 5  # seconds per cell and per exercise (tests/test_grading.py's HOSTILE_TIMEOUT)
MODES = {"local --jobs 2": ["--jobs", "2"], "cluster local:2": ["--cluster", "local:2"]}


def kinds():
    """[(kind, lesson, notebook)]: every kind of notebook the class cycles through, honest ones twice, in a
    mixed order."""
    import test_grading as t  # the tests' builders (tests/ is on sys.path)

    from tinygrad_lite.course.grading import layout
    L00, L01, L02, L03, notebook, submission = t.L00, t.L01, t.L02, t.L03, t.notebook, t.submission
    lessons = layout.load_lessons(ROOT / "solutions")
    honest = []
    for lesson in (L00, L01, L02, L03):
        number, names = lesson[:2], lessons[lesson].functions
        first = lessons[lesson].exercises[0]
        honest += [("solved", lesson, submission(lesson)), ("unsolved", lesson, notebook(lesson, "lessons")),
                   ("partial", lesson, submission(lesson, {first: "".join(t.exercise_cell(notebook(lesson), first)
                                                                           ["source"])}, base="lessons"))]
        wrong = t._wrong_sources(number)
        for k in range(2):
            replace = {e: t._function_from_lambda(names[e], v[k][0]) for e, v in wrong.items() if k < len(v)}
            honest.append(("mistakes", lesson, submission(lesson, replace)))
    hostile = [(f"hostile:{name}", L00, submission(L00, replace)) for name, replace in t.HOSTILE_00.items()]
    names = lessons[L03].functions
    row = {e: f"def {names[e]}(*args, **kwargs):\n" + "".join("    " + line + "\n" for line in body.splitlines())
           for e, body in zip(lessons[L03].exercises, t.HOSTILE_BODIES)}
    hostile.append(("hostile:four in a row", L03, submission(L03, row)))
    mixed = []  # a hostile notebook after every third honest one, so that a small class has some too
    for k, item in enumerate(honest + honest):
        mixed.append(item)
        if k % 3 == 2 and hostile:
            mixed.append(hostile.pop(0))
    return mixed + hostile


def build_class(folder, size):
    """``size`` notebooks in ``folder``/learnerNNN/, cycling through ``kinds()``; {kind: count}."""
    templates, counts = kinds(), {}
    for k in range(size):
        kind, lesson, nb = templates[k % len(templates)]
        path = folder / f"learner{k:03d}" / f"{lesson}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(nb), encoding="utf-8")
        counts[kind.split(":")[0]] = counts.get(kind.split(":")[0], 0) + 1
    return counts


class Meter:
    """The CPU seconds of a process tree: a control group of its own (``start`` puts the calling process in it, in
    the child before it runs the command), else getrusage(RUSAGE_CHILDREN) (which misses what was never waited
    for)."""

    def __init__(self, name):
        self.group = None
        for root, usage in (("/sys/fs/cgroup/cpuacct", "cpuacct.usage"), ("/sys/fs/cgroup/unified", "cpu.stat"),
                            ("/sys/fs/cgroup", "cpu.stat")):
            group = Path(root) / f"tinygrad-lite-grade-scale-{os.getpid()}-{name}"
            try:
                group.mkdir()
            except OSError:
                continue
            if (group / usage).exists():
                self.group, self.usage = group, usage
                break
            group.rmdir()
        self.how = (f"control group {self.group.parent}" if self.group else
                    "getrusage(RUSAGE_CHILDREN): kernels that were never waited for are missed")
        self.rusage_before = self._rusage()

    @staticmethod
    def _rusage():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def enter(self):
        """In the child, before it runs the command."""
        if self.group:
            (self.group / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self):
        if not self.group:
            return self._rusage() - self.rusage_before
        text = (self.group / self.usage).read_text()
        if self.usage == "cpuacct.usage":
            return int(text) / 1e9
        return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6

    def close(self):
        if self.group:
            for _ in range(100):  # the group is removable once its last process has ended
                try:
                    self.group.rmdir()
                    return
                except OSError:
                    time.sleep(0.2)


def run_mode(name, folder, out):
    """Grade the class in one mode: (wall seconds, CPU seconds of the process tree, exit status, how measured)."""
    shutil.rmtree(out, ignore_errors=True)
    (out / ".work").mkdir(parents=True)
    (out / ".work" / "secret").write_text(SECRET)
    command = [sys.executable, "-m", "tinygrad_lite.course", "grade", str(folder), "--out", str(out),
               "--timeout", str(TIMEOUT), "--total-timeout", "120", "--max-output", "5", *MODES[name]]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    meter = Meter(name.split()[0])
    start = time.monotonic()
    with open(out.parent / f"{out.name}.log", "w") as log:
        status = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=False,
                                preexec_fn=meter.enter).returncode
    wall = time.monotonic() - start
    time.sleep(2)  # the last processes of the tree (a worker closing) end
    cpu = meter.seconds()
    meter.close()
    return wall, cpu, status, meter.how


def differences(a, b):
    """The learners whose row differs between two gradebooks."""
    rows = [{line.split(",", 1)[0]: line for line in (out / "gradebook.csv").read_text().splitlines()[1:]}
            for out in (a, b)]
    return sorted(learner for learner in rows[0].keys() | rows[1].keys()
                  if rows[0].get(learner) != rows[1].get(learner))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200, help="notebooks in the class (default 200)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each mode, alternating (default 1)")
    parser.add_argument("--work", default=None, help="folder for the class and the outputs (default: a temporary "
                                                     "one, removed at the end)")
    args = parser.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="grade-scale-"))
    folder = work / "class"
    shutil.rmtree(folder, ignore_errors=True)
    counts = build_class(folder, args.size)
    print(f"class of {args.size} notebooks: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    measured = {name: [] for name in MODES}
    for k in range(args.rounds):
        for name in (list(MODES) if k % 2 == 0 else list(reversed(MODES))):
            out = work / f"out-{name.split()[0]}-{k}"
            wall, cpu, status, how = run_mode(name, folder, out)
            measured[name].append((wall, cpu))
            print(f"round {k + 1}, {name}: exit {status}, wall {wall:.1f} s, CPU {cpu:.1f} s, "
                  f"{args.size / (cpu / 60):.1f} notebooks per core-minute, {args.size / (wall / 60):.1f} per "
                  f"wall minute (load average {os.getloadavg()[0]:.1f}; CPU from the {how})", flush=True)
            if status != 0:
                sys.exit(f"grading failed in mode {name}: see {out.parent / (out.name + '.log')}")
    print("\n| mode | notebooks | wall s | CPU s | notebooks per core-minute | CPU s per notebook |")
    print("|---|---|---|---|---|---|")
    per_notebook = {}
    for name, runs in measured.items():
        wall, cpu = sum(w for w, _ in runs) / len(runs), sum(c for _, c in runs) / len(runs)
        per_notebook[name] = cpu / args.size
        print(f"| {name} | {args.size} | {wall:.1f} | {cpu:.1f} | {args.size / (cpu / 60):.1f} | "
              f"{cpu / args.size:.2f} |")
    local, cluster = per_notebook.values()
    print(f"\ncluster / local CPU per notebook: {cluster / local:.3f} ({(cluster / local - 1) * 100:+.1f}%; "
          "the issue allows at most +10%)")
    differ = differences(work / "out-local-0", work / "out-cluster-0")
    print(f"gradebooks (round 1): {'identical' if not differ else 'differ for ' + ', '.join(differ)}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":  # a LocalCluster's workers start by importing this file again (spawn): not its main
    main()
