"""The README tells a new learner what each lesson teaches: its table must list every lesson, once, in order."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readmes_lesson_table_lists_every_lesson_once_in_order():
    rows = re.findall(r"^\| `(\d\d_\w+)` \| (.+) \|$", (ROOT / "README.md").read_text(encoding="utf-8"), re.M)
    listed = [name for name, _ in rows]
    lessons = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    assert listed == lessons, f"README's lesson table lists {listed}, lessons/ holds {lessons}"
    assert all(len(what) > 40 for _, what in rows), "each row says what the lesson teaches"


def test_the_readmes_benchmark_rows_are_those_of_the_latest_table_in_benchmarks_readme():
    """The README quotes a few rows of benchmarks/README.md's Results table (its 1-thread columns): a new run of
    bench.py that updates that table must update the README too, instead of leaving an older run's numbers there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.findall(r"^\| `(\w+)`: [^|]+ \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", readme, re.M)
    assert len(quoted) >= 3, "the README's benchmark table"
    bench = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    results = bench[bench.index("## Results"):]
    results = results[:results.index("\n\n", results.index("\n|"))]  # its first table
    latest = {name: cells for name, *cells in re.findall(
        r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| [^|]+ \| [^|]+ \| ([^|]+) \|$", results, re.M)}
    for name, *cells in quoted:
        assert name in latest, f"README quotes {name}, which benchmarks/README.md's Results table does not have"
        assert [c.strip() for c in cells] == [c.strip() for c in latest[name]], \
            f"README's row of {name} ({cells}) differs from benchmarks/README.md's ({latest[name]})"
