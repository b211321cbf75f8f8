"""The register: school, staff, pupils, parents and carers, agencies, and API tokens."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import EmailStr, ValidationInfo, field_validator
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.census import NeedType, SenProvision, validate_sen_record
from domain.schemas import Role
from domain.text import one_line
from domain.upn import normalise_upn

# Who may create, change or delete register records.
REGISTER_EDITORS = (Role.sendco, Role.headteacher)


class AgencyKind(StrEnum):
    la_sen = "la_sen"
    ep_service = "ep_service"
    health = "health"
    social_care = "social_care"
    other = "other"


class TermDates(SQLModel):
    start: dt.date
    end: dt.date


# --- School -----------------------------------------------------------------
class SchoolBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    urn: str | None = Field(default=None, max_length=20)
    local_authority: str = Field(min_length=1, max_length=100)
    terms: list[TermDates] = Field(default_factory=list, sa_column=Column(JSON))
    inset_days: list[dt.date] = Field(default_factory=list, sa_column=Column(JSON))
    sendco_working_days: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4],
        sa_column=Column(JSON),
        description="Weekdays the SENDCo works, Monday=0",
    )

    @field_validator("sendco_working_days")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if not days or any(d not in range(7) for d in days):
            raise ValueError("give at least one weekday, Monday=0 to Sunday=6")
        return sorted(set(days))


class School(SchoolBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class SchoolCreate(SchoolBase):
    _one_line = field_validator("name", "urn", "local_authority")(one_line)


class SchoolPublic(SchoolBase):
    id: int


class SchoolUpdate(SQLModel):
    """A partial change: only the fields given are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    urn: str | None = Field(default=None, max_length=20)
    local_authority: str | None = Field(default=None, min_length=1, max_length=100)
    terms: list[TermDates] | None = None
    inset_days: list[dt.date] | None = None
    sendco_working_days: list[int] | None = None

    _one_line = field_validator("name", "urn", "local_authority")(one_line)


# --- Staff ------------------------------------------------------------------
class StaffBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=320)
    role: Role


class Staff(StaffBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    email: str = Field(max_length=320, unique=True)


class StaffCreate(StaffBase):
    school_id: int

    _one_line = field_validator("name")(one_line)


class StaffPublic(StaffBase):
    id: int
    school_id: int


class StaffUpdate(SQLModel):
    """A partial change: only the fields given are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    role: Role | None = None

    _one_line = field_validator("name")(one_line)


class ApiToken(SQLModel, table=True):
    """A bearer token, stored only as its SHA-256 digest, bound to one staff member."""

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True, index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    created_at: dt.datetime
    expires_at: dt.datetime = Field(description="UTC; the token is refused from then on")
    revoked: bool = False


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie's random id, stored only as its SHA-256 digest (store/sessions.py)."""

    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=64, unique=True, index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    token_id: int = Field(
        foreign_key="apitoken.id", index=True, description="The token it was signed in with"
    )
    created_at: dt.datetime
    expires_at: dt.datetime


# --- Pupils -----------------------------------------------------------------
def _reject_statement(provision: object) -> object:
    """Refuse the obsolete census code S with its census reason (the enum alone says only 'E, K or N')."""
    if isinstance(provision, str) and provision.strip().upper() == "S":
        validate_sen_record("S", [])  # raises the reason
    return provision


def _upn(value: object) -> object:
    """A UPN in capitals without spaces, its check letter checked; empty is none (not text: the type says)."""
    if not isinstance(value, str):
        return value
    return normalise_upn(value) if value.strip() else None


class PupilBase(SQLModel):
    upn: str | None = Field(default=None, max_length=13, description="Unique pupil number, as the MIS has it")
    legal_name: str = Field(min_length=1, max_length=200)
    date_of_birth: dt.date
    year_group: int = Field(ge=-2, le=14, description="N1=-2, N2=-1, Reception=0, Year 1..14")
    sen_provision: SenProvision = SenProvision.N
    needs: list[NeedType] = Field(
        default_factory=list,
        sa_column=Column(JSON),
        description="Ranked need codes, at most two",
        schema_extra={"validate_default": True},
    )
    local_authority: str | None = Field(default=None, max_length=100)

    _no_statement = field_validator("sen_provision", mode="before")(_reject_statement)
    _valid_upn = field_validator("upn", mode="before")(_upn)

    @field_validator("needs")
    @classmethod
    def _census_rules(cls, needs: list[NeedType], info: ValidationInfo) -> list[NeedType]:
        """The census rules tying ranked needs to the provision (reported on the needs field)."""
        provision = info.data.get("sen_provision")
        if provision is not None:  # else sen_provision already carries its own error
            validate_sen_record(provision, needs)
        return needs


class Pupil(PupilBase, table=True):
    # A UPN is matched within the school (a CSV import from the MIS); another school may hold it too.
    __table_args__ = (UniqueConstraint("school_id", "upn", name="uq_pupil_school_upn"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)


class PupilCreate(PupilBase):
    school_id: int

    _one_line = field_validator("legal_name", "local_authority")(one_line)


class PupilPublic(PupilBase):
    id: int
    school_id: int


class PupilUpdate(SQLModel):
    """A partial change; the merged record is checked against the census rules as a whole."""

    upn: str | None = Field(default=None, max_length=13)
    legal_name: str | None = Field(default=None, min_length=1, max_length=200)
    date_of_birth: dt.date | None = None
    year_group: int | None = Field(default=None, ge=-2, le=14)
    sen_provision: SenProvision | None = None
    needs: list[NeedType] | None = None
    local_authority: str | None = Field(default=None, max_length=100)

    _no_statement = field_validator("sen_provision", mode="before")(_reject_statement)
    _valid_upn = field_validator("upn", mode="before")(_upn)

    _one_line = field_validator("legal_name", "local_authority")(one_line)


# --- Parents and carers -----------------------------------------------------
class ParentBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=320)
    relationship: str = Field(default="parent", max_length=50)


class Parent(ParentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)


class ParentCreate(ParentBase):
    pupil_ids: list[int] = Field(default_factory=list)

    _one_line = field_validator("name", "relationship")(one_line)


class ParentPublic(ParentBase):
    id: int
    pupil_ids: list[int] = Field(default_factory=list)


class ParentUpdate(SQLModel):
    """A partial change; pupil_ids, when given, replaces the parent's links."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    relationship: str | None = Field(default=None, max_length=50)
    pupil_ids: list[int] | None = None

    _one_line = field_validator("name", "relationship")(one_line)


class PupilParent(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("pupil_id", "parent_id"),)
    id: int | None = Field(default=None, primary_key=True)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    parent_id: int = Field(foreign_key="parent.id", index=True)


# --- Agencies ---------------------------------------------------------------
class AgencyBase(SQLModel):
    kind: AgencyKind
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=320)
    local_authority: str | None = Field(default=None, max_length=100)


class Agency(AgencyBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    # The school that registered it, whose cases alone use it; None: the shared register of the LA
    # (the seed, an administrator), used by every school whose or whose pupils' LA it is.
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)


class AgencyCreate(AgencyBase):
    _one_line = field_validator("name", "local_authority")(one_line)


class AgencyPublic(AgencyBase):
    id: int


class AgencyUpdate(SQLModel):
    """A partial change: only the fields given are changed."""

    kind: AgencyKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    local_authority: str | None = Field(default=None, max_length=100)

    _one_line = field_validator("name", "local_authority")(one_line)
