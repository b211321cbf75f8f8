"""Data access for the register: keyword-only create/list/get/update per entity, and delete_pupil.

Schools, staff, pupils and parents are scoped: each function takes the caller's `school_id` and sees
only that school's records (`_of_school` is the rule); another school's record is NotFound, exactly as
an unknown id. Agencies are shared across a local authority and are not scoped.

Every function commits its own change and returns the XPublic model. Refusals are RegisterError
subclasses (NotFound, InvalidInput, HasOpenCases, OtherSchool); a duplicate unique value (a staff
email) raises sqlalchemy's IntegrityError after rolling back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import JSON, ColumnElement, String, Table, cast, delete, exists, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

import store.provision  # noqa: F401  (its placements refer to pupils: delete_pupil's tree must see them)
from domain.census import NeedType, SenProvision
from domain.deadline_states import OPEN
from domain.schemas import Role
from store.casework import Case, CaseStatus, Deadline
from store.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, paginate
from store.register import (
    Agency,
    AgencyBase,
    AgencyCreate,
    AgencyKind,
    AgencyPublic,
    AgencyUpdate,
    Parent,
    ParentBase,
    ParentCreate,
    ParentPublic,
    ParentUpdate,
    Pupil,
    PupilBase,
    PupilCreate,
    PupilParent,
    PupilPublic,
    PupilUpdate,
    School,
    SchoolBase,
    SchoolCreate,
    SchoolPublic,
    SchoolUpdate,
    Staff,
    StaffBase,
    StaffCreate,
    StaffPublic,
    StaffUpdate,
)

R = TypeVar("R", bound=SQLModel)
P = TypeVar("P", bound=SQLModel)


# --- Refusals ---------------------------------------------------------------
class RegisterError(Exception):
    """A register operation refused: the reason, and the field it concerns if there is one."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class NotFound(RegisterError):
    """No record with that id."""


class InvalidInput(RegisterError):
    """The input breaks a rule; `errors` lists every problem in pydantic's shape (loc, msg, type)."""

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        first = errors[0]
        super().__init__(str(first["msg"]), field=".".join(map(str, first["loc"])) or None)
        self.errors = list(errors)

    @classmethod
    def from_validation(cls, exc: ValidationError) -> InvalidInput:
        """The model's errors, each with the validator's own reason as its message."""
        return cls(
            [
                {"type": e["type"], "loc": e["loc"], "msg": e["msg"].removeprefix("Value error, ")}
                for e in exc.errors(include_url=False)
            ]
        )

    @classmethod
    def at(cls, field: str, *reasons: str) -> InvalidInput:
        """One or more problems with one field."""
        return cls([{"type": "value_error", "loc": (field,), "msg": reason} for reason in reasons])


class HasOpenCases(RegisterError):
    """The pupil still has open cases, so the record cannot be deleted."""


class OtherSchool(RegisterError):
    """A record for a school other than the caller's (the API answers 403)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"you can only add {what} to your own school", field="school_id")


# --- Shared helpers ---------------------------------------------------------
def _columns(data: SQLModel, table: type[SQLModel]) -> dict[str, Any]:
    """The data's values for the table's columns; JSON columns get JSON-ready values (dates as text)."""
    columns = table.__table__.columns  # type: ignore[attr-defined]
    python, as_json = data.model_dump(), data.model_dump(mode="json")
    return {
        name: as_json[name] if isinstance(columns[name].type, JSON) else value
        for name, value in python.items()
        if name in columns
    }


def _save(session: Session, row: R) -> R:
    """Commit the row (rolling back and re-raising IntegrityError) and reload it."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise
    session.refresh(row)
    return row


def _of_school(table: type[SQLModel], school_id: int) -> ColumnElement[bool]:
    """The condition that a row of the table is the school's: the one place the register is scoped."""
    if table is School:
        return col(School.id) == school_id
    if table is Parent:  # a parent or carer of at least one of the school's pupils
        return col(Parent.id).in_(
            select(PupilParent.parent_id).join(Pupil).where(_of_school(Pupil, school_id))
        )
    return table.__table__.c.school_id == school_id  # type: ignore[attr-defined, no-any-return]


def _get(session: Session, table: type[R], row_id: int, school_id: int | None) -> R:
    """The row; NotFound, just as for an unknown id, if it is not the school's (None: a shared record)."""
    statement = select(table).where(table.__table__.c.id == row_id)  # type: ignore[attr-defined]
    if school_id is not None:
        statement = statement.where(_of_school(table, school_id))
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(f"no {table.__tablename__} with id {row_id}", field="id")
    return row


def _merge(row: SQLModel, base: type[SQLModel], changes: SQLModel) -> dict[str, Any]:
    """The given changes as column values, after checking the whole merged record (InvalidInput if not)."""
    given = changes.model_dump(exclude_unset=True)
    current = {name: getattr(row, name) for name in base.model_fields}
    try:
        merged = base.model_validate({**current, **given})
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None
    return {name: value for name, value in _columns(merged, type(row)).items() if name in given}


def _update(
    session: Session,
    table: type[R],
    row_id: int,
    school_id: int | None,
    base: type[SQLModel],
    changes: SQLModel,
) -> R:
    row = _get(session, table, row_id, school_id)
    row.sqlmodel_update(_merge(row, base, changes))
    return _save(session, row)


def _require_own_school(session: Session, given: int, school_id: int, what: str) -> None:
    """OtherSchool unless the record is for the caller's school; InvalidInput if that school is unknown."""
    if given != school_id:
        raise OtherSchool(what)
    if session.get(School, school_id) is None:
        raise InvalidInput.at("school_id", f"no school with id {school_id}")


def _require_pupils(session: Session, pupil_ids: Sequence[int], school_id: int) -> list[int]:
    """The distinct pupil ids, in order; InvalidInput naming any not of the school, as for an unknown id."""
    if not pupil_ids:
        raise InvalidInput.at("pupil_ids", "link at least one pupil")
    wanted = list(dict.fromkeys(pupil_ids))
    known = set(
        session.exec(select(Pupil.id).where(col(Pupil.id).in_(wanted), _of_school(Pupil, school_id))).all()
    )
    missing = [pid for pid in wanted if pid not in known]
    if missing:
        raise InvalidInput.at("pupil_ids", *(f"no pupil with id {pid}" for pid in missing))
    return wanted


# --- Schools ----------------------------------------------------------------
def create_school(session: Session, *, data: SchoolCreate) -> SchoolPublic:
    """Add a school."""
    return SchoolPublic.model_validate(_save(session, School(**_columns(data, School))))


def list_schools(
    session: Session, *, school_id: int, offset: int = 0, limit: int = DEFAULT_LIMIT
) -> Page[SchoolPublic]:
    """The caller's school, as a page."""
    statement = select(School).where(_of_school(School, school_id))
    return paginate(session, statement, offset, limit, to=SchoolPublic.model_validate)


def get_school(session: Session, *, target_id: int, school_id: int) -> SchoolPublic:
    """The school `target_id` if it is the caller's school `school_id` (NotFound otherwise)."""
    return SchoolPublic.model_validate(_get(session, School, target_id, school_id))


def update_school(session: Session, *, target_id: int, school_id: int, changes: SchoolUpdate) -> SchoolPublic:
    """Change some of the caller's school's fields (NotFound for any other school)."""
    return SchoolPublic.model_validate(_update(session, School, target_id, school_id, SchoolBase, changes))


# --- Staff ------------------------------------------------------------------
def create_staff(session: Session, *, data: StaffCreate, school_id: int) -> StaffPublic:
    """Add a staff member to the caller's school (OtherSchool for another; IntegrityError if email used)."""
    _require_own_school(session, data.school_id, school_id, "staff")
    return StaffPublic.model_validate(_save(session, Staff(**_columns(data, Staff))))


def list_staff(
    session: Session,
    *,
    school_id: int,
    role: Role | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[StaffPublic]:
    """The school's staff by id, optionally of one role."""
    statement = select(Staff).where(_of_school(Staff, school_id))
    if role is not None:
        statement = statement.where(Staff.role == role)
    return paginate(session, statement, offset, limit, to=StaffPublic.model_validate)


def get_staff(session: Session, *, staff_id: int, school_id: int) -> StaffPublic:
    """One of the school's staff (NotFound if unknown or at another school)."""
    return StaffPublic.model_validate(_get(session, Staff, staff_id, school_id))


def update_staff(session: Session, *, staff_id: int, school_id: int, changes: StaffUpdate) -> StaffPublic:
    """Change the name, email or role of one of the school's staff."""
    return StaffPublic.model_validate(_update(session, Staff, staff_id, school_id, StaffBase, changes))


# --- Pupils -----------------------------------------------------------------
def create_pupil(session: Session, *, data: PupilCreate, school_id: int) -> PupilPublic:
    """Add a pupil to the caller's school (OtherSchool for another; PupilCreate checked the census rules)."""
    _require_own_school(session, data.school_id, school_id, "pupils")
    return PupilPublic.model_validate(_save(session, Pupil(**_columns(data, Pupil))))


def list_pupils(
    session: Session,
    *,
    school_id: int,
    year_group: int | None = None,
    sen_provision: SenProvision | None = None,
    need: NeedType | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[PupilPublic]:
    """The school's pupils by id, filtered by year group, provision, or a need of either rank."""
    statement = select(Pupil).where(_of_school(Pupil, school_id))
    if year_group is not None:
        statement = statement.where(Pupil.year_group == year_group)
    if sen_provision is not None:
        statement = statement.where(Pupil.sen_provision == sen_provision)
    if need is not None:
        # The JSON list as text contains the quoted code; portable across SQLite and PostgreSQL, and exact
        # because codes are capital letters only ('"MLD"' does not occur inside '"PMLD"').
        statement = statement.where(cast(Pupil.needs, String).like(f'%"{NeedType(need).value}"%'))
    return paginate(session, statement, offset, limit, to=PupilPublic.model_validate)


def get_pupil(session: Session, *, pupil_id: int, school_id: int) -> PupilPublic:
    """One of the school's pupils (NotFound if unknown or at another school)."""
    return PupilPublic.model_validate(_get(session, Pupil, pupil_id, school_id))


def update_pupil(session: Session, *, pupil_id: int, school_id: int, changes: PupilUpdate) -> PupilPublic:
    """Change some of a pupil's fields; the merged record must meet the census rules (InvalidInput)."""
    return PupilPublic.model_validate(_update(session, Pupil, pupil_id, school_id, PupilBase, changes))


def delete_pupil(session: Session, *, pupil_id: int, school_id: int) -> None:
    """Delete a pupil with its parent links and closed cases' records; HasOpenCases while a case is open."""
    _get(session, Pupil, pupil_id, school_id)
    is_open = (Case.pupil_id == pupil_id) & (Case.status == CaseStatus.open)
    open_cases = session.exec(select(func.count()).select_from(Case).where(is_open)).one()
    if open_cases:
        reason = f"pupil {pupil_id} has {open_cases} open case(s): close them before deleting the pupil"
        raise HasOpenCases(reason, field="id")
    _delete_tree(session, Pupil.__table__, [pupil_id])  # type: ignore[attr-defined]
    session.commit()


def _delete_tree(session: Session, table: Table, ids: Sequence[Any]) -> None:
    """Delete rows by primary key after every row of any table that refers to them, depth first."""
    (key,) = table.primary_key.columns
    for child in SQLModel.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table and child is not table:
                (child_key,) = child.primary_key.columns
                child_ids = session.exec(select(child_key).where(fk.parent.in_(ids))).all()
                if child_ids:
                    _delete_tree(session, child, child_ids)
    session.exec(delete(table).where(key.in_(ids)))


# --- Parents and carers -----------------------------------------------------
def _school_links(school_id: int) -> ColumnElement[bool]:
    """The condition that a parent link is to one of the school's pupils."""
    return col(PupilParent.pupil_id).in_(select(Pupil.id).where(_of_school(Pupil, school_id)))


def _parents_public(session: Session, parents: Sequence[Parent], school_id: int) -> list[ParentPublic]:
    """Parents with their linked pupil ids at the school (no other school's), in one query for the lot."""
    links = session.exec(
        select(PupilParent)
        .where(col(PupilParent.parent_id).in_([p.id for p in parents]), _school_links(school_id))
        .order_by(col(PupilParent.pupil_id))
    ).all()
    pupils_of: dict[int, list[int]] = defaultdict(list)
    for link in links:
        pupils_of[link.parent_id].append(link.pupil_id)
    return [ParentPublic.model_validate(p, update={"pupil_ids": pupils_of[p.id or 0]}) for p in parents]


def _link(session: Session, parent_id: int, pupil_ids: Sequence[int], school_id: int) -> None:
    """Replace the parent's links to the school's pupils, keeping any other school's (not committed)."""
    session.exec(delete(PupilParent).where(col(PupilParent.parent_id) == parent_id, _school_links(school_id)))
    session.add_all(PupilParent(pupil_id=pid, parent_id=parent_id) for pid in pupil_ids)


def create_parent(session: Session, *, data: ParentCreate, school_id: int) -> ParentPublic:
    """Add a parent or carer linked to the school's pupils (InvalidInput naming any other id as unknown)."""
    pupil_ids = _require_pupils(session, data.pupil_ids, school_id)
    parent = Parent(**_columns(data, Parent))
    session.add(parent)
    session.flush()
    _link(session, parent.id or 0, pupil_ids, school_id)
    (public,) = _parents_public(session, [_save(session, parent)], school_id)
    return public


def list_parents(
    session: Session,
    *,
    school_id: int,
    pupil_id: int | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[ParentPublic]:
    """Parents and carers of the school's pupils by id, optionally only those of one pupil."""
    statement = select(Parent).where(_of_school(Parent, school_id))
    if pupil_id is not None:
        linked = select(PupilParent.parent_id).where(PupilParent.pupil_id == pupil_id)
        statement = statement.where(col(Parent.id).in_(linked))
    page = paginate(session, statement, offset, limit)
    items = _parents_public(session, page.items, school_id)
    return Page[ParentPublic](items=items, total=page.total, offset=page.offset, limit=page.limit)


def get_parent(session: Session, *, parent_id: int, school_id: int) -> ParentPublic:
    """One parent or carer of the school's pupils, with those pupils' ids (NotFound otherwise)."""
    (public,) = _parents_public(session, [_get(session, Parent, parent_id, school_id)], school_id)
    return public


def update_parent(session: Session, *, parent_id: int, school_id: int, changes: ParentUpdate) -> ParentPublic:
    """Change a parent's details; pupil_ids, when given, replaces their links to the school's pupils."""
    parent = _get(session, Parent, parent_id, school_id)
    values = _merge(parent, ParentBase, changes)
    if changes.pupil_ids is not None:
        _link(session, parent_id, _require_pupils(session, changes.pupil_ids, school_id), school_id)
    parent.sqlmodel_update(values)
    (public,) = _parents_public(session, [_save(session, parent)], school_id)
    return public


# --- Agencies ---------------------------------------------------------------
def create_agency(session: Session, *, data: AgencyCreate, school_id: int | None) -> AgencyPublic:
    """Add an agency (LA SEN team, EP service, health, social care...): the school's own, or (None) shared."""
    agency = Agency(**_columns(data, Agency), school_id=school_id)
    return AgencyPublic.model_validate(_save(session, agency))


def sendco_of(session: Session, school_id: int) -> Staff | None:
    """The school's SENDCo (the first, if it has several): whom parents and agencies are told to contact."""
    return session.exec(
        select(Staff).where(Staff.school_id == school_id, Staff.role == "sendco").order_by(Staff.id)
    ).first()


def agencies_seen_by(school_id: int | None) -> ColumnElement[bool]:
    """The agencies a school uses and reads: the shared register's and those it registered itself."""
    return or_(col(Agency.school_id).is_(None), col(Agency.school_id) == school_id)


def agency_seen_by(session: Session, agency_id: int, school_id: int | None) -> Agency | None:
    """The agency, if the school sees it (None for an id beyond any row's, too)."""
    if not 0 < agency_id < 2**63:
        return None
    return session.exec(select(Agency).where(Agency.id == agency_id, agencies_seen_by(school_id))).first()


def list_agencies(
    session: Session,
    *,
    school_id: int,
    kind: AgencyKind | None = None,
    local_authority: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[AgencyPublic]:
    """The agencies the school sees by id, optionally of one kind or one local authority."""
    statement = select(Agency).where(agencies_seen_by(school_id))
    if kind is not None:
        statement = statement.where(Agency.kind == kind)
    if local_authority is not None:
        statement = statement.where(Agency.local_authority == local_authority)
    return paginate(session, statement, offset, limit, to=AgencyPublic.model_validate)


def get_agency(session: Session, *, agency_id: int, school_id: int) -> AgencyPublic:
    """One agency the school sees (NotFound if unknown or another school's)."""
    agency = agency_seen_by(session, agency_id, school_id)
    if agency is None:
        raise NotFound(f"no agency with id {agency_id}", field="id")
    return AgencyPublic.model_validate(agency)


def update_agency(session: Session, *, agency_id: int, school_id: int, changes: AgencyUpdate) -> AgencyPublic:
    """Change some fields of an agency the school registered (the shared register is not its to change)."""
    return AgencyPublic.model_validate(_update(session, Agency, agency_id, school_id, AgencyBase, changes))


# --- The SEND register ------------------------------------------------------
class RegisterCase(BaseModel):
    """An open case of the pupil: its process and id."""

    id: str
    process: str


class RegisterDeadline(BaseModel):
    """The soonest deadline still waiting across the pupil's open cases."""

    due: dt.date
    rule_id: str
    step: str
    case_id: str


class RegisterEntry(BaseModel):
    """A pupil on the SEND register: provision, ranked needs, open cases and the next deadline."""

    pupil_id: int
    upn: str | None
    legal_name: str
    year_group: int
    sen_provision: SenProvision
    needs: list[NeedType] = Field(description="Ranked: rank 1 first")
    open_cases: list[RegisterCase]
    next_deadline: RegisterDeadline | None


ON_REGISTER = (SenProvision.E, SenProvision.K)  # pupils with special educational needs


def _register_query(
    school_id: int,
    provision: SenProvision | None,
    need: NeedType | None,
    year_group: int | None,
    has_open_case: bool | None,
) -> Any:
    """The school's pupils on the register (E and K; or those of one provision, N included), by name."""
    statement = select(Pupil).where(_of_school(Pupil, school_id))
    if provision is None:
        statement = statement.where(col(Pupil.sen_provision).in_(ON_REGISTER))
    else:
        statement = statement.where(Pupil.sen_provision == provision)
    if year_group is not None:
        statement = statement.where(Pupil.year_group == year_group)
    if need is not None:  # as list_pupils: the quoted code in the JSON list's text
        statement = statement.where(cast(Pupil.needs, String).like(f'%"{NeedType(need).value}"%'))
    if has_open_case is not None:
        is_open = exists().where(Case.pupil_id == Pupil.id, Case.status == CaseStatus.open)
        statement = statement.where(is_open if has_open_case else ~is_open)
    return statement.order_by(col(Pupil.legal_name))


def _register_entries(session: Session, pupils: Sequence[Pupil]) -> list[RegisterEntry]:
    """The pupils with their open cases and next deadline, in two queries for the lot."""
    ids = [p.id for p in pupils]
    cases: dict[int, list[RegisterCase]] = defaultdict(list)
    for case_id, process, pupil_id in session.exec(
        select(Case.id, Case.process, Case.pupil_id)
        .where(col(Case.pupil_id).in_(ids), Case.status == CaseStatus.open)
        .order_by(col(Case.started_at), col(Case.id))
    ):
        cases[pupil_id].append(RegisterCase(id=case_id, process=process))
    soonest: dict[int, RegisterDeadline] = {}
    for due, rule_id, step, case_id, pupil_id in session.exec(
        select(Deadline.due, Deadline.rule_id, Deadline.step, Deadline.case_id, Case.pupil_id)
        .join(Case, col(Case.id) == Deadline.case_id)
        .where(
            col(Case.pupil_id).in_(ids),
            Case.status == CaseStatus.open,
            col(Deadline.status).in_(OPEN),
            col(Deadline.completed_at).is_(None),
        )
        .order_by(col(Deadline.due), col(Deadline.id))
    ):
        soonest.setdefault(pupil_id, RegisterDeadline(due=due, rule_id=rule_id, step=step, case_id=case_id))
    return [
        RegisterEntry(
            pupil_id=p.id or 0,
            upn=p.upn,
            legal_name=p.legal_name,
            year_group=p.year_group,
            sen_provision=p.sen_provision,
            needs=list(p.needs),
            open_cases=cases[p.id or 0],
            next_deadline=soonest.get(p.id or 0),
        )
        for p in pupils
    ]


def register(
    session: Session,
    *,
    school_id: int,
    provision: SenProvision | None = None,
    need: NeedType | None = None,
    year_group: int | None = None,
    has_open_case: bool | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[RegisterEntry]:
    """A page of the school's SEND register, by name: E and K unless `provision` says which."""
    statement = _register_query(school_id, provision, need, year_group, has_open_case)
    page = paginate(session, statement, offset, limit)
    return Page[RegisterEntry](
        items=_register_entries(session, page.items),
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        total_exact=page.total_exact,
    )


def whole_register(
    session: Session,
    *,
    school_id: int,
    provision: SenProvision | None = None,
    need: NeedType | None = None,
    year_group: int | None = None,
    has_open_case: bool | None = None,
) -> Iterator[RegisterEntry]:
    """Every entry of the register with those filters, a page at a time (for the CSV export)."""
    offset = 0
    while True:
        page = register(
            session,
            school_id=school_id,
            provision=provision,
            need=need,
            year_group=year_group,
            has_open_case=has_open_case,
            offset=offset,
            limit=MAX_LIMIT,
        )
        yield from page.items
        if not page.has_more:
            return
        offset += len(page.items)
