"""What judging says of one case: a ``Verdict`` (a check's and a grade's alike), and a ``GradedCase``, the verdict
of one case among an exercise's in a grade.

``pipeline.judge_case`` makes a Verdict: ``status`` (passed, failed, not attempted, error, not run), ``title`` (the
message's first line, what a check shows first), ``details`` (the lines under it), ``hints`` (the tiers shown so
far) and ``detail`` (what a grade's feedback shows beside the case: a sentence the title holds, then the details).
``pipeline.judge_exercise`` places each case's verdict among the exercise's cases, a GradedCase: also its
``index``, ``where`` ("hidden case 3 of 8"), whether it is ``visible`` (the example the notebook shows) and
``informative`` (no trivial answer passes it; else ``trivial`` says which does).

A grade's exercises (``grading/graded.py``: ``GradedExercise``, in a ``GradedSubmission``) hold GradedCases; they
cross into JSON (a stored grade, results.json) with ``to_json``, whose keys are the ones results.json has always
had, and come back with ``from_json`` (an old run's stored grade too).
What a learner may see of a case, ``shown`` (its detail) and ``masked_hints``, is set once for every case before
any report is written (``grading/judge.py``, ``mask_hidden``); it is never written to JSON.
"""
from dataclasses import dataclass, field, fields


@dataclass
class Verdict:
    """The verdict on one case (see the module's docstring)."""
    status: str
    title: str
    details: list = field(default_factory=list)
    hints: list = field(default_factory=list)
    detail: str = ""

    def to_json(self):
        """The verdict as JSON-safe data (a dict of its fields)."""
        return record_to_json(self)

    @classmethod
    def from_json(cls, data):
        """The verdict ``to_json`` gave ``data`` for (a field it lacks keeps its default)."""
        return cls(**record_fields(cls, data))


@dataclass
class GradedCase(Verdict):
    """The verdict of one case of an exercise, as a grade holds it (see the module's docstring)."""
    index: int = None
    where: str = ""
    visible: bool = False
    informative: bool = True
    trivial: str = None
    # what the learner may see of it: set by grading/judge.py's mask_hidden before the reports, never stored
    shown: str = field(default=None, compare=False, repr=False, metadata={"json": False})
    masked_hints: list = field(default=None, compare=False, repr=False, metadata={"json": False})
    shown_where: str = field(default=None, compare=False, repr=False, metadata={"json": False})

    @classmethod
    def of(cls, verdict, index, where, visible, trivial):
        """``verdict`` placed as case ``index`` of its exercise."""
        return cls(verdict.status, verdict.title, verdict.details, verdict.hints, verdict.detail, index=index,
                   where=where, visible=visible, informative=trivial is None, trivial=trivial)


# -------------------------------------------------------------------- a record's fields as JSON (here and graded.py)
# A field's metadata says how it crosses into JSON: {"json": False}, never written (what is set for the reports
# only); {"optional": True}, left out while it is None ("does not apply").
def record_to_json(record):
    """The fields of the dataclass ``record`` as JSON-safe data (lists copied: the JSON does not share them), without
    those never written and the optional ones that do not apply."""
    return {f.name: _plain(getattr(record, f.name)) for f in fields(record) if f.metadata.get("json", True)
            and not (f.metadata.get("optional") and getattr(record, f.name) is None)}


def record_fields(cls, data):
    """The items of ``data`` that name a JSON field of the dataclass ``cls`` (a key it does not know is left out)."""
    names = {f.name for f in fields(cls) if f.metadata.get("json", True)}
    return {k: v for k, v in data.items() if k in names}


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value
