"""High needs funding and SENIF: what your school has been awarded and what is still pending.

Only the SENDCo and the headteacher see it (403 for anyone else): per pupil and for the school year
(1 September to 31 August, the current one by default), read from the applications' award rows. Another
school's applications are never in it. The same figures as a page at /funding.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse

from api.deps import CurrentStaff, SessionDep, check_role, current_staff, require_role
from api.errors import ApiError
from api.public import today
from api.web import page, web_staff
from domain.funding_application import FUNDING_WORDS, OUTCOME_WORDS, money
from domain.schemas import Role
from store import funding_service
from store.funding import FundingSummary
from store.provision_service import school_year_label, school_year_of

router = APIRouter(tags=["funding"])
FUNDING_READERS = (Role.sendco, Role.headteacher)

SchoolYear = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="The year the school year starts: 2026 for 2026/27 (default: now)"),
]


def _year(school_year: int | None) -> int:
    return school_year if school_year is not None else school_year_of(today())


@router.get(
    "/api/v1/funding",
    dependencies=[Depends(current_staff), require_role(*FUNDING_READERS)],
)
def funding(session: SessionDep, staff: CurrentStaff, school_year: SchoolYear = None) -> FundingSummary:
    """Funding awarded and pending for your school's school year, in all and per pupil."""
    return funding_service.funding_summary(session, school_id=staff.school_id, year=_year(school_year))


STATUS_WORDS = {"pending": "waiting for the LA's decision", **OUTCOME_WORDS}


@router.get("/funding", response_class=HTMLResponse, include_in_schema=False)
def funding_page(request: Request, session: SessionDep, school_year: SchoolYear = None) -> HTMLResponse:
    """The headteacher's and SENDCo's page: awarded and pending, per pupil, for the school year."""
    staff = web_staff(request, session)
    try:
        check_role(staff, FUNDING_READERS)
    except ApiError as err:
        context = {"staff": staff, "heading": "Not for your role", "message": err.message}
        return page(request, "message.html", context, active="funding", status_code=status.HTTP_403_FORBIDDEN)
    year = _year(school_year)
    summary = funding_service.funding_summary(session, school_id=staff.school_id, year=year)
    context = {
        "staff": staff,
        "summary": summary,
        "money": money,
        "kind_words": FUNDING_WORDS,
        "status_words": STATUS_WORDS,
        "previous": (year - 1, school_year_label(year - 1)),
        "following": (year + 1, school_year_label(year + 1)),
    }
    return page(request, "funding.html", context, active="funding")
