"""docs/coverage.md, the table of where each seed concept is taught, must point at sections that exist.

Every ``Lnn §k`` in it must name a solution notebook ``solutions/nn_*.ipynb`` that has a section ``## k. ...``;
a row marked COVERED must say where; and no concept whose home is a lesson that exists may be left untaught.
"""
import re

import pytest
from lesson_helpers import ROOT

from tinygrad_lite.course.notebooks import read_notebook

COVERAGE = ROOT / "docs" / "coverage.md"
ROW = re.compile(r"^\| ([A-Q]\d+) \| (.*?) \| ([A-Z-]+) \| (.*) \|$")
REF = re.compile(r"L(\d\d) §(\d+)")


def sections(lesson):
    """The numbers k of the ``## k. Title`` sections of solution notebook ``lesson`` ("04"), or None."""
    found = sorted((ROOT / "solutions").glob(f"{lesson}_*.ipynb"))
    if not found:
        return None
    numbers = set()
    for cell in read_notebook(found[0]).cells:
        if cell.cell_type == "markdown":
            numbers |= {int(k) for k in re.findall(r"^## (\d+)\.", cell.source, re.M)}
    return numbers


def rows():
    return [ROW.match(line).groups() for line in COVERAGE.read_text().splitlines() if ROW.match(line)]


def test_the_table_lists_the_seed_concepts():
    keys = [key for key, *_ in rows()]
    assert len(keys) > 100 and len(keys) == len(set(keys))


@pytest.mark.parametrize("lesson", sorted({m[0] for m in REF.findall(COVERAGE.read_text())}))
def test_every_reference_names_a_section_that_exists(lesson):
    numbers = sections(lesson)
    assert numbers is not None, f"docs/coverage.md refers to lesson {lesson}, which has no solution notebook"
    missing = sorted({int(k) for n, k in REF.findall(COVERAGE.read_text()) if n == lesson} - numbers)
    assert missing == [], f"lesson {lesson} has no section(s) {missing}"


def test_covered_rows_say_where_and_no_written_lesson_leaves_its_concepts_untaught():
    written = {p.name[:2] for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")}
    problems = []
    for key, _item, status, where in rows():
        if status == "COVERED" and not REF.search(where):
            problems.append(f"{key}: COVERED but no 'Lnn §k' says where")
        homes = set(re.findall(r"→ (\d\d)(?!/)", where))
        if status != "COVERED" and homes & written:
            problems.append(f"{key}: its home lesson {sorted(homes & written)} exists but does not teach it")
    assert problems == []
