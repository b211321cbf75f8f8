"""Data access for the register: keyword-only create/list/get/update per entity, and delete_pupil.

Every function commits its own change and returns the XPublic model. Refusals are RegisterError
subclasses (NotFound, InvalidInput, HasOpenCases); a duplicate unique value (a staff email) raises
sqlalchemy's IntegrityError after rolling back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import JSON, String, Table, cast, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from api.paging import DEFAULT_LIMIT, Page, paginate
from domain.census import NeedType, SenProvision
from domain.schemas import Role
from store.casework import Case, CaseStatus
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


def _get(session: Session, table: type[R], row_id: int) -> R:
    row = session.get(table, row_id)
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


def _update(session: Session, table: type[R], row_id: int, base: type[SQLModel], changes: SQLModel) -> R:
    row = _get(session, table, row_id)
    row.sqlmodel_update(_merge(row, base, changes))
    return _save(session, row)


def _require_school(session: Session, school_id: int) -> None:
    if session.get(School, school_id) is None:
        raise InvalidInput.at("school_id", f"no school with id {school_id}")


def _require_pupils(session: Session, pupil_ids: Sequence[int]) -> list[int]:
    """The distinct pupil ids, in the order given; InvalidInput naming every unknown one."""
    wanted = list(dict.fromkeys(pupil_ids))
    known = set(session.exec(select(Pupil.id).where(col(Pupil.id).in_(wanted))).all())
    missing = [pid for pid in wanted if pid not in known]
    if missing:
        raise InvalidInput.at("pupil_ids", *(f"no pupil with id {pid}" for pid in missing))
    return wanted


# --- Schools ----------------------------------------------------------------
def create_school(session: Session, *, data: SchoolCreate) -> SchoolPublic:
    """Add a school."""
    return SchoolPublic.model_validate(_save(session, School(**_columns(data, School))))


def list_schools(session: Session, *, offset: int = 0, limit: int = DEFAULT_LIMIT) -> Page[SchoolPublic]:
    """Schools by id."""
    return paginate(session, select(School), offset, limit, to=SchoolPublic.model_validate)


def get_school(session: Session, *, school_id: int) -> SchoolPublic:
    """One school (NotFound if unknown)."""
    return SchoolPublic.model_validate(_get(session, School, school_id))


def update_school(session: Session, *, school_id: int, changes: SchoolUpdate) -> SchoolPublic:
    """Change some of a school's fields."""
    return SchoolPublic.model_validate(_update(session, School, school_id, SchoolBase, changes))


# --- Staff ------------------------------------------------------------------
def create_staff(session: Session, *, data: StaffCreate) -> StaffPublic:
    """Add a staff member (InvalidInput for an unknown school; IntegrityError for a used email)."""
    _require_school(session, data.school_id)
    return StaffPublic.model_validate(_save(session, Staff(**_columns(data, Staff))))


def list_staff(
    session: Session,
    *,
    school_id: int | None = None,
    role: Role | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[StaffPublic]:
    """Staff by id, optionally of one school or one role."""
    statement = select(Staff)
    if school_id is not None:
        statement = statement.where(Staff.school_id == school_id)
    if role is not None:
        statement = statement.where(Staff.role == role)
    return paginate(session, statement, offset, limit, to=StaffPublic.model_validate)


def get_staff(session: Session, *, staff_id: int) -> StaffPublic:
    """One staff member (NotFound if unknown)."""
    return StaffPublic.model_validate(_get(session, Staff, staff_id))


def update_staff(session: Session, *, staff_id: int, changes: StaffUpdate) -> StaffPublic:
    """Change a staff member's name, email or role."""
    return StaffPublic.model_validate(_update(session, Staff, staff_id, StaffBase, changes))


# --- Pupils -----------------------------------------------------------------
def create_pupil(session: Session, *, data: PupilCreate) -> PupilPublic:
    """Add a pupil (the census rules were checked by PupilCreate)."""
    _require_school(session, data.school_id)
    return PupilPublic.model_validate(_save(session, Pupil(**_columns(data, Pupil))))


def list_pupils(
    session: Session,
    *,
    school_id: int | None = None,
    year_group: int | None = None,
    sen_provision: SenProvision | None = None,
    need: NeedType | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[PupilPublic]:
    """Pupils by id, filtered by school, year group, provision, or a need of either rank."""
    statement = select(Pupil)
    if school_id is not None:
        statement = statement.where(Pupil.school_id == school_id)
    if year_group is not None:
        statement = statement.where(Pupil.year_group == year_group)
    if sen_provision is not None:
        statement = statement.where(Pupil.sen_provision == sen_provision)
    if need is not None:
        # The JSON list as text contains the quoted code; portable across SQLite and PostgreSQL, and exact
        # because codes are capital letters only ('"MLD"' does not occur inside '"PMLD"').
        statement = statement.where(cast(Pupil.needs, String).like(f'%"{NeedType(need).value}"%'))
    return paginate(session, statement, offset, limit, to=PupilPublic.model_validate)


def get_pupil(session: Session, *, pupil_id: int) -> PupilPublic:
    """One pupil (NotFound if unknown)."""
    return PupilPublic.model_validate(_get(session, Pupil, pupil_id))


def update_pupil(session: Session, *, pupil_id: int, changes: PupilUpdate) -> PupilPublic:
    """Change some of a pupil's fields; the merged record must meet the census rules (InvalidInput)."""
    return PupilPublic.model_validate(_update(session, Pupil, pupil_id, PupilBase, changes))


def delete_pupil(session: Session, *, pupil_id: int) -> None:
    """Delete a pupil with its parent links and closed cases' records; HasOpenCases while a case is open."""
    _get(session, Pupil, pupil_id)
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
def _parents_public(session: Session, parents: Sequence[Parent]) -> list[ParentPublic]:
    """Parents with their linked pupil ids, in one query for the lot."""
    links = session.exec(
        select(PupilParent)
        .where(col(PupilParent.parent_id).in_([p.id for p in parents]))
        .order_by(col(PupilParent.pupil_id))
    ).all()
    pupils_of: dict[int, list[int]] = defaultdict(list)
    for link in links:
        pupils_of[link.parent_id].append(link.pupil_id)
    return [ParentPublic.model_validate(p, update={"pupil_ids": pupils_of[p.id or 0]}) for p in parents]


def _link(session: Session, parent_id: int, pupil_ids: Sequence[int]) -> None:
    """Replace the parent's pupil links (not committed)."""
    session.exec(delete(PupilParent).where(col(PupilParent.parent_id) == parent_id))
    session.add_all(PupilParent(pupil_id=pid, parent_id=parent_id) for pid in pupil_ids)


def create_parent(session: Session, *, data: ParentCreate) -> ParentPublic:
    """Add a parent or carer linked to the given pupils (InvalidInput naming any unknown pupil id)."""
    pupil_ids = _require_pupils(session, data.pupil_ids)
    parent = Parent(**_columns(data, Parent))
    session.add(parent)
    session.flush()
    _link(session, parent.id or 0, pupil_ids)
    (public,) = _parents_public(session, [_save(session, parent)])
    return public


def list_parents(
    session: Session, *, pupil_id: int | None = None, offset: int = 0, limit: int = DEFAULT_LIMIT
) -> Page[ParentPublic]:
    """Parents and carers by id, optionally only those of one pupil."""
    statement = select(Parent)
    if pupil_id is not None:
        linked = select(PupilParent.parent_id).where(PupilParent.pupil_id == pupil_id)
        statement = statement.where(col(Parent.id).in_(linked))
    page = paginate(session, statement, offset, limit)
    return Page[ParentPublic](
        items=_parents_public(session, page.items), total=page.total, offset=page.offset, limit=page.limit
    )


def get_parent(session: Session, *, parent_id: int) -> ParentPublic:
    """One parent or carer with their pupil ids (NotFound if unknown)."""
    (public,) = _parents_public(session, [_get(session, Parent, parent_id)])
    return public


def update_parent(session: Session, *, parent_id: int, changes: ParentUpdate) -> ParentPublic:
    """Change a parent's details; pupil_ids, when given, replaces their links."""
    parent = _get(session, Parent, parent_id)
    values = _merge(parent, ParentBase, changes)
    if changes.pupil_ids is not None:
        _link(session, parent_id, _require_pupils(session, changes.pupil_ids))
    parent.sqlmodel_update(values)
    (public,) = _parents_public(session, [_save(session, parent)])
    return public


# --- Agencies ---------------------------------------------------------------
def create_agency(session: Session, *, data: AgencyCreate) -> AgencyPublic:
    """Add an agency (LA SEN team, EP service, health, social care...)."""
    return AgencyPublic.model_validate(_save(session, Agency(**_columns(data, Agency))))


def list_agencies(
    session: Session,
    *,
    kind: AgencyKind | None = None,
    local_authority: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[AgencyPublic]:
    """Agencies by id, optionally of one kind or one local authority."""
    statement = select(Agency)
    if kind is not None:
        statement = statement.where(Agency.kind == kind)
    if local_authority is not None:
        statement = statement.where(Agency.local_authority == local_authority)
    return paginate(session, statement, offset, limit, to=AgencyPublic.model_validate)


def get_agency(session: Session, *, agency_id: int) -> AgencyPublic:
    """One agency (NotFound if unknown)."""
    return AgencyPublic.model_validate(_get(session, Agency, agency_id))


def update_agency(session: Session, *, agency_id: int, changes: AgencyUpdate) -> AgencyPublic:
    """Change some of an agency's fields."""
    return AgencyPublic.model_validate(_update(session, Agency, agency_id, AgencyBase, changes))
