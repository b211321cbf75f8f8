"""High needs funding and SENIF applications' money: one row per application attempt.

A row is written when an application is submitted (pending, with the amount asked) and updated when the
LA decides (approved or partly approved with the amount and dates, or declined). The funding page and
`GET /api/v1/funding` read it per pupil and per school year.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class FundingAward(SQLModel, table=True):
    __tablename__ = "funding_award"
    __table_args__ = (
        UniqueConstraint("case_id", "attempt"),
        Index("ix_funding_award_school_submitted", "school_id", "submitted_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", max_length=36)
    attempt: int
    school_id: int = Field(foreign_key="school.id")
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    kind: str = Field(max_length=20, description="top_up or senif")
    status: str = Field(max_length=20, description="pending, approved, partial or declined")
    asked: float = Field(description="GBP asked for")
    awarded: float | None = Field(default=None, description="GBP awarded")
    submitted_on: dt.date
    decided_on: dt.date | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    reason: str = Field(default="", max_length=2000)
    recorded_at: dt.datetime


class FundingLine(SQLModel):
    """One application as the headteacher reads it."""

    case_id: str
    attempt: int
    kind: str
    status: str
    asked: float
    awarded: float | None
    difference: float | None = Field(description="asked less awarded, for a partial award")
    submitted_on: dt.date
    decided_on: dt.date | None
    starts_on: dt.date | None
    ends_on: dt.date | None
    reason: str


class PupilFunding(SQLModel):
    pupil_id: int
    legal_name: str
    year_group: int
    awarded: float = Field(description="GBP awarded in the school year")
    pending: float = Field(description="GBP asked for and not yet decided")
    applications: list[FundingLine]


class FundingSummary(SQLModel):
    """The school year's funding: awarded and pending, in all and per pupil."""

    school_year: str = Field(description="e.g. 2026/27: 1 September to 31 August")
    starts: dt.date
    ends: dt.date
    awarded: float
    pending: float
    pupils: list[PupilFunding]
