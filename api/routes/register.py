"""The SEND register: every pupil with SEN provision, their needs, open cases and next deadline; its CSV
export; and the import of pupils from a school MIS export (a preview first, then all rows or none)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from api.deps import CurrentStaff, SessionDep, current_staff, require_role
from api.errors import ApiError, ErrorBody
from api.paging import Page, PageDep
from api.public import page_of, today
from domain.census import NeedType, SenProvision
from store import register_import, register_service
from store.register import REGISTER_EDITORS
from store.register_import import ImportResult
from store.register_service import RegisterEntry
from workflows.registry import PROCESSES

router = APIRouter(prefix="/api/v1", tags=["register"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)

MAX_BYTES = 2 * 1024 * 1024
PROVISION_WORDS = {"E": "EHC plan (E)", "K": "SEN support (K)", "N": "No SEN (N)"}
CSV_HEADINGS = [
    "UPN",
    "Name",
    "Year group",
    "SEN provision",
    "Need (rank 1)",
    "Need (rank 2)",
    "Open cases",
    "Next deadline",
    "Rule",
]


class RegisterFilters:
    """The register's filters, shared by the list and its CSV export."""

    def __init__(
        self,
        provision: Annotated[
            SenProvision | None, Query(description="E or K (both when not given), or N for those with none")
        ] = None,
        need: Annotated[NeedType | None, Query(description="A need of either rank")] = None,
        year_group: Annotated[
            int | None, Query(ge=-2, le=14, description="N1=-2, N2=-1, Reception=0")
        ] = None,
        has_open_case: Annotated[
            bool | None, Query(description="Only pupils with (or without) an open case")
        ] = None,
    ) -> None:
        self.values = {
            "provision": provision,
            "need": need,
            "year_group": year_group,
            "has_open_case": has_open_case,
        }


Filters = Annotated[RegisterFilters, Depends()]


@router.get("/register", response_model=Page[RegisterEntry])
def read_register(session: SessionDep, staff: CurrentStaff, page: PageDep, filters: Filters) -> Any:
    """Your school's SEND register by name: provision, ranked needs, open cases and the next deadline."""
    found = register_service.register(
        session, school_id=staff.school_id, offset=page.offset, limit=page.limit, **filters.values
    )
    return page_of(found, lambda entry: entry)


def year_words(year_group: int) -> str:
    return {-2: "N1", -1: "N2", 0: "Reception"}.get(year_group, f"Year {year_group}")


def date_words(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_row(entry: RegisterEntry) -> list[str]:
    needs = [n.value for n in entry.needs] + ["", ""]
    processes = [
        PROCESSES[c.process].title if c.process in PROCESSES else c.process for c in entry.open_cases
    ]
    deadline = entry.next_deadline
    return [
        _cell(value)
        for value in (
            entry.upn or "",
            entry.legal_name,
            year_words(entry.year_group),
            PROVISION_WORDS[entry.sen_provision.value],
            needs[0],
            needs[1],
            "; ".join(processes),
            date_words(deadline.due) if deadline else "",
            deadline.rule_id if deadline else "",
        )
    ]


@router.get(
    "/register.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The register"}},
)
def export_register(session: SessionDep, staff: CurrentStaff, filters: Filters) -> Response:
    """The same register as CSV (the same filters, every page), with no more than the register shows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADINGS)
    for entry in register_service.whole_register(session, school_id=staff.school_id, **filters.values):
        writer.writerow(_csv_row(entry))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="send-register-{today():%Y-%m-%d}.csv"'},
    )


# --- import from the MIS ---------------------------------------------------------------------------------
TOO_LARGE = (
    f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: export fewer columns, or split it, and import "
    "each part."
)


async def _bounded_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes MAX_BYTES (declared or as it arrives)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise ApiError(status.HTTP_413_CONTENT_TOO_LARGE, TOO_LARGE)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise ApiError(status.HTTP_413_CONTENT_TOO_LARGE, TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


def _text(raw: bytes) -> str:
    """The file as text: UTF-8 (with or without a byte order mark), else Windows-1252 as older MIS export."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


@router.post(
    "/register/import",
    dependencies=[editor],
    response_model=ImportResult,
    responses={413: {"model": ErrorBody, "description": "The file is over 2 MB or 5,000 pupils"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The MIS export as CSV, its first row the headings",
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "UPN,Legal forename,Legal surname,Date of birth,Year group,SEN provision,"
                    "Need 1,Need 2\nA123456789012,Sam,Pupil,01/03/2016,4,K,SLCN,\n",
                }
            },
        }
    },
)
async def import_register(
    request: Request,
    session: SessionDep,
    staff: Annotated[Any, editor],
    commit: Annotated[bool, Query(description="false: a preview that changes nothing; true: import")] = False,
) -> Any:
    """Import pupils from a school MIS export (CSV), matched by UPN within your school.

    Every row is checked first; if any is wrong, nothing is imported and each bad row is listed with its
    row number and the reason (422). `commit=false` shows what would be created, updated or left
    unchanged, and writes nothing. Importing the same file again changes nothing.
    """
    text = _text(await _bounded_body(request))
    try:
        return await run_in_threadpool(
            register_import.import_pupils,
            session,
            school_id=staff.school_id,
            text=text,
            commit=commit,
            today=today(),
        )
    except register_import.TooLarge as refused:
        raise ApiError(status.HTTP_413_CONTENT_TOO_LARGE, refused.message) from None
    except register_import.ImportRefused as refused:
        problems = [{"field": f"row {p.row}", "reason": p.reason} for p in refused.problems]
        raise ApiError(status.HTTP_422_UNPROCESSABLE_CONTENT, refused.message, problems) from None
