"""Files that come with a case (advice, reports uploaded through an emailed link), kept under var/.

The bytes are in <var>/uploads/<case id>/<file id>, readable by the engine's user only; the row holds
what staff see (the name, type and size) and who sent it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from sqlmodel import Field, Session, SQLModel, col, select

from infra.link_signing import new_link_id
from infra.settings import Settings, private_var_dir


class CaseFile(SQLModel, table=True):
    __tablename__ = "case_file"
    id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    link_id: str | None = Field(default=None, foreign_key="action_link.id", max_length=64)
    name: str = Field(max_length=100, description="The file's name as shown, made safe")
    content_type: str = Field(max_length=100, description="Sniffed from the bytes")
    size: int
    sha256: str = Field(max_length=64)
    sent_by: str = Field(max_length=40, description="parent:<id>, agency:<id> or staff:<id>")
    purpose: str = Field(default="", max_length=40)
    stored_at: dt.datetime


def _path(settings: Settings, case_id: str, file_id: str) -> Path:
    return private_var_dir(settings) / "uploads" / case_id / file_id


def keep(
    session: Session,
    settings: Settings,
    *,
    case_id: str,
    link_id: str | None,
    name: str,
    content_type: str,
    data: bytes,
    sent_by: str,
    purpose: str,
) -> CaseFile:
    """Write the bytes (owner-only) and the row; the caller commits."""
    file_id = new_link_id()
    path = _path(settings, case_id, file_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    row = CaseFile(
        id=file_id,
        case_id=case_id,
        link_id=link_id,
        name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sent_by=sent_by,
        purpose=purpose,
        stored_at=dt.datetime.now(dt.UTC),
    )
    session.add(row)
    session.flush()
    return row


def of_case(session: Session, *, case_id: str) -> list[CaseFile]:
    return list(
        session.exec(
            select(CaseFile).where(CaseFile.case_id == case_id).order_by(col(CaseFile.stored_at).desc())
        )
    )


def read(
    session: Session, settings: Settings, *, case_id: str, file_id: str
) -> tuple[CaseFile, bytes] | None:
    """A file of the case and its bytes (None if the case has no such file)."""
    row = session.get(CaseFile, file_id)
    if row is None or row.case_id != case_id:
        return None
    return row, _path(settings, case_id, file_id).read_bytes()


def discard(session: Session, settings: Settings, row: CaseFile) -> None:
    """Remove a kept file, row and bytes: the case refused what came with it."""
    found = session.get(CaseFile, row.id)
    if found is not None:
        session.delete(found)
        session.commit()
    _path(settings, row.case_id, row.id).unlink(missing_ok=True)
