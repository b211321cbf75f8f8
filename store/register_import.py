"""Import pupils from a school MIS export (CSV): every row checked, nothing written unless all are sound.

Columns are found by their headings, as MIS exports name them: UPN; the legal name (or forename and
surname); date of birth; year group; SEN provision; the ranked need types (one column, or rank 1 and
rank 2). A pupil is matched by UPN within the school (or, once, a pupil with no UPN yet and the same name
and date of birth), so importing the same file again changes nothing. Reasons name the row and the
column in the words of the file, never the values (no names or dates of birth in an error).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.census import NeedType, SenProvision, validate_sen_record
from domain.upn import normalise_upn
from store.register import Pupil, PupilBase, School

MAX_ROWS = 5_000
EARLIEST_BIRTH = dt.date(1990, 1, 1)

# Headings as MIS exports write them, compared in lower case without spaces or punctuation.
HEADINGS: dict[str, tuple[str, ...]] = {
    "upn": ("upn", "uniquepupilnumber"),
    "legal_name": ("legalname", "name", "fullname", "pupilname", "pupil"),
    "forename": ("forename", "legalforename", "firstname", "givenname"),
    "surname": ("surname", "legalsurname", "lastname", "familyname"),
    "date_of_birth": ("dateofbirth", "dob", "birthdate"),
    "year_group": ("yeargroup", "year", "ncyear", "ncyearactual", "nationalcurriculumyear"),
    "sen_provision": ("senprovision", "senstatus", "sen", "provision"),
    "needs": ("needtypes", "needs", "senneeds", "senneedtypes", "needtype"),
    "need_1": (
        "need1",
        "primaryneed",
        "senneed1",
        "needrank1",
        "rank1need",
        "primarysenneed",
        "senprimaryneed",
    ),
    "need_2": ("need2", "secondaryneed", "senneed2", "needrank2", "rank2need", "secondarysenneed"),
}
WORDS = {  # what changed, in words
    "legal_name": "name",
    "date_of_birth": "date of birth",
    "year_group": "year group",
    "sen_provision": "SEN provision",
    "needs": "need types",
}
PROVISION_WORDS = {
    "E": "E",
    "EHCP": "E",
    "EHCPLAN": "E",
    "K": "K",
    "SENSUPPORT": "K",
    "N": "N",
    "": "N",
    "NONE": "N",
    "NOSEN": "N",
    "S": "S",
    "STATEMENT": "S",
}
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


class RowProblem(BaseModel):
    row: int = Field(description="The row of the file, as a spreadsheet numbers it (the headings are row 1)")
    reason: str


class ImportRefused(Exception):
    """The file, or some of its rows, cannot be imported: nothing was."""

    def __init__(self, message: str, problems: Sequence[RowProblem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


class TooLarge(ImportRefused):
    """More rows than one import takes."""


class ImportedRow(BaseModel):
    row: int
    upn: str
    outcome: Literal["created", "updated", "unchanged"]
    pupil_id: int | None = Field(
        description="The pupil on the register (none yet for a preview of a new one)"
    )
    changes: list[str] = Field(default_factory=list, description="What an update changes, in words")


class ImportResult(BaseModel):
    """What the import did (committed) or would do (a preview), row by row."""

    committed: bool
    created: int
    updated: int
    unchanged: int
    rows: list[ImportedRow]


@dataclass
class _Row:
    row: int
    values: dict[str, Any]


def _key(heading: str) -> str:
    return re.sub(r"[^a-z0-9]", "", heading.lower())


def _columns(headings: list[str]) -> dict[str, int]:
    """Which column holds what; ImportRefused naming the headings the file lacks."""
    found: dict[str, int] = {}
    for index, heading in enumerate(headings):
        key = _key(heading)
        for name, aliases in HEADINGS.items():
            if key in aliases and name not in found:
                found[name] = index
    missing = []
    if "upn" not in found:
        missing.append("UPN")
    if "legal_name" not in found and not {"forename", "surname"} <= set(found):
        missing.append("Legal name (or Forename and Surname)")
    if "date_of_birth" not in found:
        missing.append("Date of birth")
    if "year_group" not in found:
        missing.append("Year group")
    if missing:
        raise ImportRefused(
            f"The file has no column for: {', '.join(missing)}. The first row should name the columns "
            "(UPN, Legal name, Date of birth, Year group, SEN provision, Need 1, Need 2)."
        )
    return found


def _date_of_birth(text: str, today: dt.date) -> dt.date:
    if not text:
        raise ValueError("the date of birth is missing: enter it as 20/01/2015")
    if match := _DATE.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise ValueError("the date of birth is not a date: enter it as 20/01/2015")
    try:
        born = dt.date(year, month, day)
    except ValueError:
        raise ValueError("the date of birth is not a real date: check the day and the month") from None
    if not EARLIEST_BIRTH <= born <= today:
        raise ValueError("the date of birth cannot be right (in the future, or before 1990): check it")
    return born


def _year_group(text: str) -> int:
    key = _key(text)
    named = {"n1": -2, "n2": -1, "r": 0, "rec": 0, "reception": 0}
    if key in named:
        return named[key]
    digits = key.removeprefix("year").removeprefix("y")
    if digits.isdigit() and 1 <= int(digits) <= 14:
        return int(digits)
    raise ValueError("the year group should be N1, N2, R or a year from 1 to 14")


def _provision(text: str) -> str:
    code = PROVISION_WORDS.get(_key(text).upper())
    if code is None:
        raise ValueError("the SEN provision should be E (EHC plan), K (SEN support) or N (no SEN)")
    return code


def _needs(texts: list[str]) -> list[str]:
    codes = [c for text in texts for c in re.split(r"[\s,;/|]+", text.strip().upper()) if c]
    unknown = [c for c in codes if c not in NeedType.__members__]
    if unknown:
        shown = ", ".join(c[:10] for c in unknown[:3])
        raise ValueError(f"{shown} is not a census need type (such as SEMH, SLCN, ASD, MLD or SPLD)")
    return codes


def _parse(number: int, cells: list[str], at: dict[str, int], today: dt.date) -> _Row:
    """One row's values; ValueError with every reason, joined, if any cell is wrong."""

    def cell(name: str) -> str:
        index = at.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    values: dict[str, Any] = {}
    reasons: list[str] = []

    def check(name: str, parse: Any, *args: Any) -> None:
        try:
            values[name] = parse(*args)
        except ValueError as err:
            reasons.append(str(err))

    check("upn", lambda: normalise_upn(cell("upn")) if cell("upn") else _missing("the UPN is missing"))
    name = cell("legal_name") or " ".join(p for p in (cell("forename"), cell("surname")) if p)
    check("legal_name", lambda: name[:200] if name else _missing("the name is missing"))
    check("date_of_birth", _date_of_birth, cell("date_of_birth"), today)
    check("year_group", lambda: _year_group(cell("year_group")))
    if "sen_provision" in at:
        check("sen_provision", _provision, cell("sen_provision"))
        check("needs", _needs, [cell("needs"), cell("need_1"), cell("need_2")])
        if "sen_provision" in values and "needs" in values:
            try:
                validate_sen_record(values["sen_provision"], values["needs"])
            except ValueError as err:
                reasons.append(str(err))
    if not reasons:  # and the register's own validators, as for a pupil added one at a time
        try:
            PupilBase.model_validate({"sen_provision": "N", "needs": [], **values})
        except ValidationError as exc:
            reasons.extend(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors(include_url=False))
    if reasons:
        raise ValueError("; ".join(dict.fromkeys(reasons)))
    return _Row(number, values)


def _missing(reason: str) -> str:
    raise ValueError(reason)


def read_rows(text: str, today: dt.date) -> list[_Row]:
    """Every row of the file parsed; ImportRefused listing each bad row (and TooLarge past MAX_ROWS)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise ImportRefused(
            "The file could not be read as CSV: save it from the MIS as CSV and try again."
        ) from None
    while records and not any(c.strip() for c in records[0]):
        records.pop(0)
    if not records:
        raise ImportRefused(
            "The file is empty: export the pupils from the MIS as CSV, with a row of headings."
        )
    at = _columns(records[0])
    data = [(n, cells) for n, cells in enumerate(records[1:], start=2) if any(c.strip() for c in cells)]
    if len(data) > MAX_ROWS:
        raise TooLarge(
            f"The file has {len(data):,} pupils; one import takes up to {MAX_ROWS:,}: split the file."
        )
    if not data:
        raise ImportRefused("The file has headings but no pupils.")
    rows: list[_Row] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, cells in data:
        try:
            row = _parse(number, cells, at, today)
        except ValueError as err:
            problems.append(RowProblem(row=number, reason=str(err)))
            continue
        upn = row.values["upn"]
        if upn in seen:
            problems.append(
                RowProblem(row=number, reason=f"the UPN is also on row {seen[upn]}: list each pupil once")
            )
            continue
        seen[upn] = number
        rows.append(row)
    if problems:
        shown = ", ".join(str(p.row) for p in problems[:10]) + (" and more" if len(problems) > 10 else "")
        noun = "row needs" if len(problems) == 1 else "rows need"
        raise ImportRefused(
            f"Nothing was imported: {len(problems)} {noun} correcting (row {shown}). "
            "Correct them in the file and import it again.",
            problems,
        )
    return rows


def import_pupils(
    session: Session, *, school_id: int, text: str, commit: bool, today: dt.date
) -> ImportResult:
    """Preview (commit False: nothing written) or import the file's pupils into the school, all or none."""
    if session.get(School, school_id) is None:
        raise ImportRefused("Your school is not on the register.")
    rows = read_rows(text, today)
    upns = [r.values["upn"] for r in rows]
    pupils = session.exec(select(Pupil).where(Pupil.school_id == school_id, col(Pupil.upn).in_(upns))).all()
    by_upn: dict[str, Pupil] = {p.upn: p for p in pupils if p.upn}
    unnumbered = session.exec(
        select(Pupil).where(Pupil.school_id == school_id, col(Pupil.upn).is_(None))
    ).all()
    by_person: dict[tuple[str, dt.date], list[Pupil]] = {}
    for p in unnumbered:
        by_person.setdefault((p.legal_name.casefold(), p.date_of_birth), []).append(p)

    done: list[tuple[ImportedRow, Pupil | None]] = []
    for row in rows:
        values = row.values
        pupil = by_upn.get(values["upn"])
        if pupil is None:
            same = by_person.get((values["legal_name"].casefold(), values["date_of_birth"]), [])
            pupil = same.pop(0) if len(same) == 1 else None
        if pupil is None:
            new = Pupil(school_id=school_id, **{"sen_provision": "N", "needs": [], **values})
            done.append((ImportedRow(row=row.row, upn=values["upn"], outcome="created", pupil_id=None), new))
            continue
        changes = {k: v for k, v in values.items() if _differs(getattr(pupil, k), v)}
        outcome = "updated" if changes else "unchanged"
        words = [WORDS.get(k, "UPN") for k in changes]
        if changes and commit:
            pupil.sqlmodel_update(changes)
        done.append(
            (
                ImportedRow(
                    row=row.row, upn=values["upn"], outcome=outcome, pupil_id=pupil.id, changes=words
                ),
                pupil,
            )
        )
    if commit:
        session.add_all(p for _, p in done if p is not None)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            raise
        for imported, pupil in done:
            imported.pupil_id = pupil.id if pupil is not None else None
    else:
        session.rollback()
    outcomes = [i.outcome for i, _ in done]
    return ImportResult(
        committed=commit,
        created=outcomes.count("created"),
        updated=outcomes.count("updated"),
        unchanged=outcomes.count("unchanged"),
        rows=[i for i, _ in done],
    )


def _differs(stored: Any, given: Any) -> bool:
    if isinstance(stored, SenProvision):
        stored = stored.value
    if isinstance(stored, list):
        stored = [str(getattr(s, "value", s)) for s in stored]
    return bool(stored != given)
