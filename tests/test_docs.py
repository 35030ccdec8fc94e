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
