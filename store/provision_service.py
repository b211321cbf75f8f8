"""Data access for the provision map: interventions, the pupils a plan places in them, and their cost.

Scoped like the register (store/register_service.py): every function takes the caller's `school_id`,
and another school's intervention or pupil is NotFound, exactly as an unknown id. Costs are for a school
year (1 September to 31 August), from the placements recorded in it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from domain.provision import PlanProvision
from store.casework import Case
from store.paging import DEFAULT_LIMIT, Page, paginate
from store.provision import (
    Intervention,
    InterventionBase,
    InterventionCost,
    InterventionCreate,
    InterventionPublic,
    InterventionUpdate,
    PlacedIntervention,
    PlacementPublic,
    ProvisionMapCost,
    PupilCost,
)
from store.register import Pupil, Staff
from store.register_service import HasOpenCases, InvalidInput, NotFound, _get, _merge, _save

PENCE = 2


# --- School years -------------------------------------------------------------------------------------
def school_year_of(day: dt.date) -> int:
    """The year a school year starts in: 1 September to 31 August."""
    return day.year if day.month >= 9 else day.year - 1


def school_year_span(start_year: int) -> tuple[dt.date, dt.date]:
    return dt.date(start_year, 9, 1), dt.date(start_year + 1, 8, 31)


def school_year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


# --- Interventions ------------------------------------------------------------------------------------
def _require_staff(session: Session, staff_id: int | None, school_id: int, field: str = "staff_id") -> None:
    if staff_id is None:
        return
    found = session.exec(select(Staff.id).where(Staff.id == staff_id, Staff.school_id == school_id)).first()
    if found is None:
        raise InvalidInput.at(field, f"no staff member with id {staff_id} at your school")


def _pupil_counts(session: Session, school_id: int, ids: Sequence[int], year: int) -> dict[int, int]:
    """How many distinct pupils each intervention has in the school year."""
    starts, ends = school_year_span(year)
    rows = session.exec(
        select(PlacedIntervention.intervention_id, func.count(func.distinct(PlacedIntervention.pupil_id)))
        .where(
            PlacedIntervention.school_id == school_id,
            col(PlacedIntervention.intervention_id).in_(ids),
            col(PlacedIntervention.placed_on).between(starts, ends),
        )
        .group_by(PlacedIntervention.intervention_id)
    ).all()
    return {intervention_id: count for intervention_id, count in rows}


def _public(
    session: Session, rows: Sequence[Intervention], school_id: int, year: int
) -> list[InterventionPublic]:
    counts = _pupil_counts(session, school_id, [r.id for r in rows if r.id is not None], year)
    return [InterventionPublic.model_validate(r, update={"pupils": counts.get(r.id or 0, 0)}) for r in rows]


def create_intervention(
    session: Session, *, data: InterventionCreate, school_id: int, today: dt.date
) -> InterventionPublic:
    """Add an intervention to the school's provision map (its staff member must be the school's)."""
    _require_staff(session, data.staff_id, school_id)
    row = _save(session, Intervention(**data.model_dump(), school_id=school_id))
    return _public(session, [row], school_id, school_year_of(today))[0]


def list_interventions(
    session: Session, *, school_id: int, today: dt.date, offset: int = 0, limit: int = DEFAULT_LIMIT
) -> Page[InterventionPublic]:
    """The school's interventions by name, each with how many pupils it has this school year."""
    statement = (
        select(Intervention).where(Intervention.school_id == school_id).order_by(col(Intervention.name))
    )
    page = paginate(session, statement, offset, limit)
    items = _public(session, page.items, school_id, school_year_of(today))
    return Page[InterventionPublic](
        items=items, total=page.total, offset=page.offset, limit=page.limit, total_exact=page.total_exact
    )


def get_intervention(
    session: Session, *, intervention_id: int, school_id: int, today: dt.date
) -> InterventionPublic:
    """One of the school's interventions (NotFound if unknown or another school's)."""
    row = _get(session, Intervention, intervention_id, school_id)
    return _public(session, [row], school_id, school_year_of(today))[0]


def update_intervention(
    session: Session, *, intervention_id: int, school_id: int, changes: InterventionUpdate, today: dt.date
) -> InterventionPublic:
    """Change some of an intervention's fields (the whole record checked again)."""
    row = _get(session, Intervention, intervention_id, school_id)
    values = _merge(row, InterventionBase, changes)
    if "staff_id" in values:
        _require_staff(session, values["staff_id"], school_id)
    row.sqlmodel_update(values)
    return _public(session, [_save(session, row)], school_id, school_year_of(today))[0]


def delete_intervention(session: Session, *, intervention_id: int, school_id: int) -> None:
    """Delete an intervention no plan has placed a pupil in (HasOpenCases-style refusal, 409, otherwise)."""
    _get(session, Intervention, intervention_id, school_id)
    placed = session.exec(
        select(func.count()).where(PlacedIntervention.intervention_id == intervention_id)
    ).one()
    if placed:
        raise InterventionInUse(
            f"{placed} support plan placement(s) use this intervention, so it stays on the provision map: "
            "change its details instead",
            field="id",
        )
    session.exec(delete(Intervention).where(col(Intervention.id) == intervention_id))
    session.commit()


class InterventionInUse(HasOpenCases):
    """Plans have placed pupils in the intervention: it is evidence of their provision (409)."""


# --- A plan's placements ------------------------------------------------------------------------------
def assign_plan(session: Session, *, plan: PlanProvision, placed_on: dt.date) -> list[int]:
    """Place the pupil in the plan's interventions for its case and cycle, replacing that cycle's earlier
    placements (one transaction); InvalidInput naming any intervention or staff not of the school."""
    case = session.get(Case, plan.case_id)
    if case is None or case.school_id != plan.school_id or case.pupil_id != plan.pupil_id:
        raise NotFound(f"no case {plan.case_id} for that pupil at the school", field="case_id")
    wanted = [p.intervention_id for p in plan.interventions]
    if len(set(wanted)) != len(wanted):
        raise InvalidInput.at("interventions", "each intervention can be in a plan once")
    known = set(
        session.exec(
            select(Intervention.id).where(
                col(Intervention.id).in_(wanted), Intervention.school_id == plan.school_id
            )
        ).all()
    )
    missing = [i for i in wanted if i not in known]
    if missing:
        raise InvalidInput.at(
            "interventions", *(f"no intervention with id {i} on the provision map" for i in missing)
        )
    for planned in plan.interventions:
        _require_staff(session, planned.staff_id, plan.school_id, "interventions")
    session.exec(
        delete(PlacedIntervention).where(
            col(PlacedIntervention.case_id) == plan.case_id, col(PlacedIntervention.cycle) == plan.cycle
        )
    )
    rows = [
        PlacedIntervention(
            school_id=plan.school_id,
            intervention_id=p.intervention_id,
            pupil_id=plan.pupil_id,
            case_id=plan.case_id,
            cycle=plan.cycle,
            sessions_per_week=p.sessions_per_week,
            weeks=p.weeks,
            staff_id=p.staff_id,
            cost_per_week=p.cost_per_week,
            placed_on=placed_on,
        )
        for p in plan.interventions
    ]
    session.add_all(rows)
    session.commit()
    return wanted


# --- Costs ----------------------------------------------------------------------------------------------
def _placements(
    session: Session,
    school_id: int,
    year: int,
    *,
    pupil_id: int | None = None,
    intervention_id: int | None = None,
) -> list[PlacementPublic]:
    """The school year's placements (optionally one pupil's or one intervention's), each costed."""
    starts, ends = school_year_span(year)
    in_year = (PlacedIntervention.school_id == school_id) & col(PlacedIntervention.placed_on).between(
        starts, ends
    )
    statement = (
        select(PlacedIntervention, Intervention, Pupil.legal_name, Pupil.year_group)
        .join(Intervention, col(Intervention.id) == PlacedIntervention.intervention_id)
        .join(Pupil, col(Pupil.id) == PlacedIntervention.pupil_id)
        .where(in_year)
        .order_by(col(Intervention.name), col(Pupil.legal_name), col(PlacedIntervention.id))
    )
    if pupil_id is not None:
        statement = statement.where(PlacedIntervention.pupil_id == pupil_id)
    if intervention_id is not None:
        statement = statement.where(PlacedIntervention.intervention_id == intervention_id)
    rows = session.exec(statement).all()
    counts = _pupil_counts(session, school_id, list({i.id for _, i, _, _ in rows if i.id is not None}), year)
    placed: list[PlacementPublic] = []
    for p, i, name, year_group in rows:
        if p.cost_per_week is not None:
            weekly = p.cost_per_week
        elif i.delivery == "group":
            weekly = i.cost_per_week / max(counts.get(p.intervention_id, 1), 1)
        else:
            weekly = i.cost_per_week
        placed.append(
            PlacementPublic(
                intervention_id=p.intervention_id,
                intervention=i.name,
                delivery=i.delivery,
                pupil_id=p.pupil_id,
                legal_name=name,
                year_group=year_group,
                case_id=p.case_id,
                cycle=p.cycle,
                sessions_per_week=p.sessions_per_week,
                weeks=p.weeks,
                staff_id=p.staff_id if p.staff_id is not None else i.staff_id,
                placed_on=p.placed_on,
                cost_per_week=round(weekly, PENCE),
                cost=round(weekly * p.weeks, PENCE),
            )
        )
    return placed


def intervention_pupils(
    session: Session, *, intervention_id: int, school_id: int, year: int
) -> list[PlacementPublic]:
    """The pupils in one of the school's interventions in the school year, with what each costs."""
    _get(session, Intervention, intervention_id, school_id)
    return _placements(session, school_id, year, intervention_id=intervention_id)


def pupil_cost(session: Session, *, pupil_id: int, school_id: int, year: int) -> PupilCost:
    """One of the school's pupils: their interventions in the school year and the total cost."""
    pupil = _get(session, Pupil, pupil_id, school_id)
    placements = _placements(session, school_id, year, pupil_id=pupil_id)
    return PupilCost(
        pupil_id=pupil_id,
        legal_name=pupil.legal_name,
        year_group=pupil.year_group,
        sen_provision=pupil.sen_provision,
        needs=list(pupil.needs),
        school_year=school_year_label(year),
        placements=placements,
        total=round(sum(p.cost for p in placements), PENCE),
    )


def provision_map_cost(session: Session, *, school_id: int, year: int) -> ProvisionMapCost:
    """The provision map's cost for the school year: the whole, each intervention's, and how many pupils."""
    placements = _placements(session, school_id, year)
    by_intervention: dict[int, list[PlacementPublic]] = defaultdict(list)
    for p in placements:
        by_intervention[p.intervention_id].append(p)
    interventions = session.exec(
        select(Intervention).where(Intervention.school_id == school_id).order_by(col(Intervention.name))
    ).all()
    starts, ends = school_year_span(year)
    return ProvisionMapCost(
        school_year=school_year_label(year),
        starts=starts,
        ends=ends,
        pupils=len({p.pupil_id for p in placements}),
        total=round(sum(p.cost for p in placements), PENCE),
        interventions=[
            InterventionCost(
                intervention_id=i.id or 0,
                name=i.name,
                delivery=i.delivery,
                pupils=len({p.pupil_id for p in by_intervention[i.id or 0]}),
                cost=round(sum(p.cost for p in by_intervention[i.id or 0]), PENCE),
            )
            for i in interventions
        ],
    )
