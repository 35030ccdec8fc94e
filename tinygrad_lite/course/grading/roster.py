"""Who the class is (the roster), and whose a notebook is when it comes from an LMS's export of submissions.

The roster (``--roster roster.csv``): a CSV file with a header, its columns named in any case::

    id,name,email,due,lms_id,sis_id
    jdoe,Jane Doe,jane.doe@uni.edu,2026-11-20T23:59,123456,S0042
    bsmith,"Smith, Bob",bob.smith@uni.edu,2026-11-22,,S0043

``id`` (required, once per learner) is the learner's id in gradebook.csv, lms.csv and feedback/; ``name`` and
``email`` go into lms.csv and help recognise a notebook; ``due`` (optional, per learner: an extension is a later
date) is when the work graded in this run was due, an ISO date (``2026-11-20``: the end of that day) or date and
time (``2026-11-20T23:59``, ``2026-11-20 23:59``), with or without a UTC offset (``+01:00``, ``Z``; without one,
the time is read in the time zone of the LMS's submission time it is compared with); ``lms_id`` (optional) is the
learner's id in the LMS (Canvas's user id, Moodle's participant id, Gradescope's student id); ``sis_id`` (optional;
a column "SIS User ID", as Canvas's gradebook export names it, is read as it) is the institution's student id,
the column an LMS's grade import matches rows on: lms.csv then has it as "SIS User ID". Every roster learner gets a
row in gradebook.csv and lms.csv: one who handed in nothing gets 0 and the status ``missing``.

LMS exports, recognised by their names (``export_of``):

- Canvas ("Download submissions"): one folder of files named ``<name>[_LATE]_<user id>_<file id>_<file name>``,
  e.g. ``doejane_LATE_123456_7890123_01_forward_pass.ipynb``: ``doejane`` is the learner's sortable name (Doe,
  Jane) in lower case without spaces or punctuation, ``LATE`` says Canvas received it after the due date (how late
  it does not say), ``123456`` is the learner's Canvas user id, ``7890123`` the uploaded file's id (a later upload
  has a larger one), and ``01_forward_pass.ipynb`` the name the learner uploaded, which tells the lesson.
- Moodle (an assignment's "Download all submissions"): one folder per learner,
  ``Jane Doe_12345_assignsubmission_file_/01_forward_pass.ipynb``: the learner's full name, then Moodle's
  participant id of the learner in this assignment.
- Gradescope ("Export Submissions"): one folder per submission, ``submission_123456/01_forward_pass.ipynb``, and
  ``submission_metadata.yml`` beside the folders, which names each folder's submitters (several for a group)::

      submission_123456:
        :submitters:
        - :name: Jane Doe
          :email: jane.doe@uni.edu
          :sid: '20261234'
        :created_at: 2026-11-21 09:30:00.000000000 -08:00

  (Ruby symbols as keys: the colons are part of the names; ``:submitted_at:`` is read as ``:created_at:``). A
  group's submission is graded once and counts for each of its submitters.

Without a roster the learner is the export's name, made an id (``doejane``; ``Jane Doe`` -> ``Jane_Doe``), and the
lesson comes from the file's own name, never from the ids around it. With a roster (``Roster.find``), the first of
these that names exactly one roster learner: the LMS's id of the learner (Canvas and Moodle: ``lms_id``;
Gradescope: the email, then the student id as ``id`` or ``lms_id``), the name as an ``id`` (in any case), then the
name compared with the roster's names without case, accents, spaces or punctuation, in any order of its words
(Jane Doe, "Doe, Jane", doejane and janedoe are one name). A notebook in a plain folder (``alice/``) is compared the
same way, as an id, an email, then a name. A notebook that names no roster learner (or several) is graded all the
same, under its own name, with the note "not on the roster".
"""
import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path


class InputError(Exception):
    """A roster, an overrides file or an LMS export that cannot be used, in one line: the file, the line, the fix."""


# -------------------------------------------------------------------- CSV files with a header
def read_table(path, what, required, known):
    """[(line number, {column: text})] of the CSV file ``path``, a ``what`` ("the roster"): its header names the
    columns, in any case and with spaces or hyphens for underscores ("LMS ID" is ``lms_id``); columns other than
    ``known`` are ignored; a blank row is skipped. Excel's "CSV UTF-8" (a byte-order mark) and ";" or tab as
    separator are read too. An InputError names the line that cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} {path} is not UTF-8 text (save it as \"CSV UTF-8\")") from None
    except OSError as e:
        raise InputError(f"{what} {path} cannot be read ({e.strerror or e})") from None
    if "\0" in text:
        line = text[:text.index("\0")].count("\n") + 1
        raise InputError(f"{what} {path} line {line}: a NUL byte, which no CSV file holds (is it a spreadsheet saved "
                         "in another format? Export it as \"CSV UTF-8\")")
    first = text.split("\n", 1)[0]
    declared = re.fullmatch(r"sep=(.)\r?", first)  # Excel's first line that names the separator: "sep=;"
    separator = declared[1] if declared else ";" if ";" in first and "," not in first else (
        "\t" if "\t" in first and "," not in first else ",")
    reader = csv.reader(io.StringIO(text), delimiter=separator, strict=True)
    start = 1  # the line the record being read starts on
    try:
        if declared:
            next(reader)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise InputError(f"{what} {path} is empty: its first line names the columns ({', '.join(required)})")
        names = [re.sub(r"[\s-]+", "_", h.strip().lower()) for h in header]
        for column in required:
            if column not in names:
                raise InputError(f"{what} {path} has no {column} column (its first line names the columns: "
                                 f"{', '.join(required)} are needed; it has {', '.join(h.strip() for h in header)})")
        for column in known:
            if names.count(column) > 1:
                raise InputError(f"{what} {path}: the column {column} is named twice on line 1")
        rows = []
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(names):
                raise InputError(f"{what} {path} line {line}: {len(values)} fields, but the header names "
                                 f"{len(names)} columns (a name with a comma in it must be in double quotes)")
            row = dict(zip(names, (v.strip() for v in values)))
            rows.append((line, {column: row.get(column, "") for column in known}))
    except csv.Error as e:
        if "unexpected end of data" in str(e):  # (strict: a quote left open would swallow the rest of the file)
            raise InputError(f"{what} {path} line {start}: a field opens a double quote (\") that is never closed, "
                             "so the rest of the file would be read as one field: close the quote") from None
        raise InputError(f"{what} {path} line {start}: not CSV ({e})") from None
    return rows


# -------------------------------------------------------------------- the roster
@dataclass
class Learner:
    """One row of the roster."""
    id: str
    name: str = ""
    email: str = ""
    due: datetime = None
    lms_id: str = ""
    line: int = 0
    sis_id: str = ""


def parse_due(text):
    """The due time an ISO date or date and time says: a date alone is the end of that day; a trailing Z is UTC.
    None for an empty text; ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.combine(datetime.fromisoformat(text).date(), time.max)
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def words(text):
    """The words of a name, without case or accents: "Doe, José" -> ["doe", "jose"]."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", str(text)) if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", plain.lower())


def simple(text):
    """A name compared without case, accents, spaces or punctuation: "Doe, Jane" -> "doejane"."""
    return "".join(words(text))


def name_forms(name):
    """The ways an LMS may write a roster name, as ``simple`` makes them: its words in any rotation (Jane Doe ->
    janedoe, doejane; "van der Berg, Mary" -> vanderbergmary, maryvanderberg)."""
    parts = words(name)
    return {"".join(parts[k:] + parts[:k]) for k in range(len(parts))}


class Roster:
    """The learners of the class (``load``), and ``find``, which tells which of them a notebook is."""

    def __init__(self, learners, path=""):
        self.learners, self.path = learners, str(path)
        self.by_id = {x.id: x for x in learners}
        self._index = {"id": {}, "lms_id": {}, "email": {}, "name": {}}
        for x in learners:
            self._add("id", x.id.lower(), x)
            self._add("lms_id", x.lms_id.lower(), x)
            self._add("email", x.email.lower(), x)
            for form in name_forms(x.name):
                self._add("name", form, x)

    def _add(self, key, value, learner):
        if value:
            found = self._index[key].setdefault(value, [])
            if learner not in found:
                found.append(learner)

    @classmethod
    def load(cls, path):
        """The roster in the CSV file ``path``; an InputError names a missing id column, an empty or repeated id,
        a repeated lms_id or email, or a due that is not an ISO date, with its line."""
        what = "the roster"
        rows = read_table(path, what, ("id",), ("id", "name", "email", "due", "lms_id", "sis_id", "sis_user_id"))
        learners, seen = [], {}
        for line, row in rows:
            if not row["id"]:
                raise InputError(f"{what} {path} line {line}: no id (every learner needs one: it names their row "
                                 "in gradebook.csv and their feedback)")
            for column in ("id", "lms_id", "email"):
                key = (column, row[column].lower() if column != "id" else row[column])
                if row[column] and key in seen:
                    raise InputError(f"{what} {path} line {line}: the {column} {row[column]} is also on line "
                                     f"{seen[key]} (each learner once)")
                seen[key] = line
            try:
                due = parse_due(row["due"])
            except ValueError:
                raise InputError(f"{what} {path} line {line}: due {row['due']!r} is not an ISO date or date and "
                                 "time (e.g. 2026-11-20 or 2026-11-20T23:59)") from None
            learners.append(Learner(row["id"], row["name"], row["email"], due, row["lms_id"], line,
                                    row["sis_id"] or row["sis_user_id"]))
        return cls(learners, path)

    def find(self, keys):
        """(the roster Learner that ``keys`` name, or None; why not, when the reason is worth a note). ``keys``:
        [(column, value)] in the order to try, column one of id, lms_id, email, name; the first that names exactly
        one learner wins (an id is compared in any case, a name as ``simple`` makes it)."""
        several = None
        for column, value in keys:
            if not value:
                continue
            if column == "id" and value in self.by_id:
                return self.by_id[value], None
            found = self._index[column].get(simple(value) if column == "name" else str(value).lower(), [])
            if len(found) == 1:
                return found[0], None
            if len(found) > 1 and several is None:
                several = (f"its {column} {value} matches {len(found)} roster learners "
                           f"({', '.join(x.id for x in found)})")
        return None, several

    def closest(self, text):
        """The roster learner whose id or name is closest to ``text`` (a folder's or an export's name that matched
        none), for a "did you mean" in the note; None when none is close."""
        candidates = {learner.id.lower(): learner for learner in self.learners}
        candidates.update({simple(learner.name): learner for learner in self.learners if learner.name})
        # (a typo's or a missing letter's ratio is 0.8 or more; at difflib's 0.6, "zedzoe" would be "janedoe")
        close = difflib.get_close_matches(simple(text) or str(text).lower(), list(candidates), n=1, cutoff=0.75)
        return candidates[close[0]] if close else None


# -------------------------------------------------------------------- LMS exports
@dataclass
class Export:
    """What an LMS's export says of a notebook: ``kind`` (canvas, moodle, gradescope), the learner's ``name`` as
    the export writes it, their id in the LMS (``lms_id``), ``email`` and ``sid`` (Gradescope), the ``late`` flag
    (Canvas), the ``submitted`` time (Gradescope), ``order`` (larger is later: Canvas's file id, Gradescope's
    time), the notebook's own file name (``original``), the ``folder`` of the export that holds it, and the other
    ``members`` of a group ([(name, email, sid)], Gradescope)."""
    kind: str
    name: str
    lms_id: str = ""
    email: str = ""
    sid: str = ""
    late: bool = False
    submitted: datetime = None
    order: float = None
    original: str = ""
    folder: str = ""
    members: list = field(default_factory=list)

    @property
    def learner(self):
        """The learner id the export gives without a roster: its name, made an id (Jane Doe -> Jane_Doe)."""
        return learner_id(self.name) or learner_id(Path(self.folder).name)

    def keys(self):
        """The keys ``Roster.find`` tries for this notebook, in order."""
        if self.kind == "gradescope":
            return [("email", self.email), ("id", self.sid), ("lms_id", self.sid), ("id", self.name),
                    ("name", self.name)]
        return [("lms_id", self.lms_id), ("id", self.name), ("name", self.name)]


CANVAS = re.compile(r"(?P<name>[^\W_]+)_(?:(?P<late>LATE)_)?(?P<user>\d{3,})_(?P<file>\d{3,})_(?P<original>.+)")
MOODLE = re.compile(r"(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_[a-z]+_?")
GRADESCOPE = re.compile(r"submission_\d+")
METADATA = "submission_metadata.yml"


def learner_id(text):
    """A name as a learner id: its spaces and punctuation as one "_" each, letters, digits, ".", "-" and "@" kept."""
    return re.sub(r"[^\w.@-]+", "_", str(text)).strip("_.")


def _gradescope_folder(path):
    """(the Gradescope submission folder that holds the notebook ``path``, its export's metadata file), or None."""
    for folder in Path(Path(path).absolute()).parents:
        if GRADESCOPE.fullmatch(folder.name) and (folder.parent / METADATA).is_file():
            return folder, folder.parent / METADATA
    return None


def export_of(path):
    """The Export the notebook ``path`` comes from (a Gradescope submission folder with its metadata beside it, a
    Moodle learner folder, a Canvas file name), or None for a notebook in plain folders. A metadata file that
    cannot be read counts as none here (``identify`` then stops with its InputError)."""
    path = Path(path)
    folders = Path(path.absolute()).parents
    gradescope = _gradescope_folder(path)
    if gradescope:
        folder, metadata = gradescope
        found = _gradescope(metadata)
        entry = None if isinstance(found, InputError) else found.get(folder.name)
        if entry is not None:
            people, submitted = entry
            (name, email, sid), members = (people[0] if people else ("", "", "")), people[1:]
            order = submitted.timestamp() if submitted else None
            return Export("gradescope", name, "", email, sid, False, submitted, order, path.name, str(folder),
                          members)
    for folder in folders:
        match = MOODLE.fullmatch(folder.name)
        if match:
            return Export("moodle", match["name"].strip(), match["participant"], original=path.name,
                          folder=str(folder))
    match = CANVAS.fullmatch(path.name)
    if match:
        return Export("canvas", match["name"], match["user"], late=bool(match["late"]), order=int(match["file"]),
                      original=match["original"], folder=str(path.parent))
    return None


_METADATA_CACHE = {}


def _gradescope(path):
    """{submission folder name: ([(name, email, sid)], submitted time or None)} from a Gradescope export's
    submission_metadata.yml (read once per version of the file), or the InputError that says why it cannot be."""
    try:
        stat = path.stat()
    except OSError:
        return {}
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _METADATA_CACHE:
        try:
            _METADATA_CACHE[key] = _read_gradescope(path)
        except InputError as e:
            _METADATA_CACHE[key] = e
    return _METADATA_CACHE[key]


def _read_gradescope(path):
    try:
        import yaml
    except ImportError:
        raise InputError(f"{path}: reading a Gradescope export's metadata needs PyYAML: pip install pyyaml") from None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        first = (str(e).strip().splitlines() or [""])[0]
        raise InputError(f"{path}: not a Gradescope export's metadata ({first}); fix or remove it") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a Gradescope export's metadata (expected submission_NNN: entries)")
    found = {}
    for folder, entry in data.items():
        if not isinstance(entry, dict):
            continue
        people = []
        for person in entry.get(":submitters") or []:
            if isinstance(person, dict):
                people.append(tuple(str(person.get(key) or "").strip() for key in (":name", ":email", ":sid")))
        when = entry.get(":submitted_at", entry.get(":created_at"))
        if isinstance(when, str):
            try:
                when = parse_due(when)
            except ValueError:
                when = None
        found[str(folder)] = (people, when if isinstance(when, datetime) else None)
    return found


def late_by(submitted, due):
    """How long after ``due`` the work was ``submitted`` (a timedelta, negative when on time), or None when either
    is unknown. A time without a UTC offset is read in the other's time zone (a roster's due, in the LMS's)."""
    if submitted is None or due is None:
        return None
    if (submitted.tzinfo is None) != (due.tzinfo is None):
        if due.tzinfo is None:
            due = due.replace(tzinfo=submitted.tzinfo)
        else:
            submitted = submitted.replace(tzinfo=due.tzinfo)
    return submitted - due


# -------------------------------------------------------------------- whose each submission is
def identify(subs, roster=None):
    """Tell whose each submission is, in place (``strangers`` says which are not on the roster). Each Submission
    gets its
    ``owner``, the key its learner's notebooks share (the roster id; else the LMS's id of the learner; else the
    learner id and the notebook's folder), its ``person`` (the roster Learner, or None) and, for a Gradescope
    group, its other ``members`` ([(owner, learner id, roster Learner or None, name, email)]); with a roster, a
    learner found in it takes its id, and a notebook that names no roster learner gets the note "not on the
    roster" (added to its result after grading: stored grades never depend on the roster). A Gradescope export's
    metadata that cannot be read raises its InputError."""
    for sub in subs:
        gradescope = _gradescope_folder(sub.path)
        if gradescope and isinstance(_gradescope(gradescope[1]), InputError):
            raise _gradescope(gradescope[1])
        export = sub.export
        keys = export.keys() if export else [("id", sub.learner), ("email", sub.learner), ("name", sub.learner)]
        person, why = roster.find(keys) if roster else (None, None)
        sub.person = person
        if person:
            sub.learner, sub.owner = person.id, ("roster", person.id)
        elif export:
            sub.owner = ("lms", export.kind, export.lms_id or export.email.lower() or export.sid or simple(export.name)
                         or export.folder)
        else:
            sub.owner = ("folder", sub.learner, str(sub.path.parent.resolve()))
        if roster and not person:
            sub.on_roster = False
            said = export.name if export else sub.learner
            sub.suggested = None if why else roster.closest(said)
            fix = ("give that learner's roster row the LMS's name, email or id" if export else
                   f"rename the {'folder' if sub.path.parent.name == sub.learner else 'file'}, or give the roster "
                   "that id")
            guess = f"; did you mean {sub.suggested.id}" + (f" ({sub.suggested.name})" if sub.suggested.name else "") \
                + f"? {fix[0].upper()}{fix[1:]}, and grade again" if sub.suggested else ""
            sub.later.append(f"not on the roster ({said}{': ' + why if why else ' matches no roster learner'}{guess})")
        sub.members = []
        for name, email, sid in export.members if export else []:
            member, _ = roster.find([("email", email), ("id", sid), ("lms_id", sid), ("id", name), ("name", name)]) \
                if roster else (None, None)
            owner = ("roster", member.id) if member else ("lms", "gradescope", email.lower() or sid or simple(name))
            sub.members.append((owner, member.id if member else learner_id(name) or learner_id(email), member, name,
                                email))


def strangers(subs):
    """A line to print for each submission (of those to grade) whose learner is not on the roster."""
    return [f"{sub.shown}: {next(n for n in sub.later if n.startswith('not on the roster'))}: graded as "
            f"{sub.learner}" for sub in subs if sub.on_roster is False]
