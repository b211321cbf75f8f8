"""Case projections the workflows write, and the queries that list them, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import Session

from activities.records import write_case_record
from domain.schemas import ApprovalRecord, CaseProgress, CaseRecord, ChronologyNote, DeadlineRecord, Role
from store import case_service
from store.casework import Case, CaseStatus
from store.paging import listed, paginate
from store.register import Pupil, School, Staff

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def a_case(session: Session, school_name: str) -> str:
    school = School(name=school_name, local_authority="Kent")
    session.add(school)
    session.commit()
    staff = Staff(school_id=school.id, name="S", email=f"{uuid.uuid4().hex}@example.org", role=Role.sendco)
    pupil = Pupil(school_id=school.id, legal_name="P", date_of_birth=dt.date(2015, 1, 1), year_group=6)
    session.add_all([staff, pupil])
    session.commit()
    case = case_service.open_case(
        session,
        case_id=str(uuid.uuid4()),
        process="records_request",
        pupil_id=pupil.id,
        school_id=school.id,
        started_by=staff.id,
        facts={},
    )
    return case.id


def deadline(key: str, due: dt.date, status: str, at: dt.datetime = T0) -> DeadlineRecord:
    return DeadlineRecord(
        key=key, step=key, rule_id="AR-REPORT", owner="sendco", due=due, status=status, at=at
    )


def test_a_deadline_goes_pending_missed_escalated_then_met_late(db_session: Session) -> None:
    case_id = a_case(db_session, "A")
    due = dt.date(2026, 11, 10)
    for status, at in [
        ("pending", T0),
        ("missed", T0 + dt.timedelta(days=9)),
        ("escalated", T0 + dt.timedelta(days=9)),
    ]:
        write_case_record(
            db_session, CaseRecord(case_id=case_id, at=at, deadlines=[deadline("report", due, status, at)])
        )
        db_session.commit()
    [row] = db_session.exec(case_service.deadlines_query(case_id=case_id)).all()
    assert (row.status, row.missed_at.date(), row.escalated_at.date()) == (
        "escalated",
        due + dt.timedelta(days=1),
        due + dt.timedelta(days=1),
    )
    assert case_service.next_deadline(db_session, case_id=case_id).key == "report"

    done = T0 + dt.timedelta(days=12)
    write_case_record(
        db_session,
        CaseRecord(case_id=case_id, at=done, deadlines=[deadline("report", due, "met_late", done)]),
    )
    db_session.commit()
    db_session.refresh(row)
    assert row.status == "met_late" and row.completed_at.date() == done.date() and row.met_at is None
    assert row.missed_at.date() == due + dt.timedelta(days=1)  # its history is kept
    assert case_service.next_deadline(db_session, case_id=case_id) is None


def test_an_older_write_never_overwrites_a_newer_state(db_session: Session) -> None:
    case_id = a_case(db_session, "G")
    due, later = dt.date(2026, 11, 10), T0 + dt.timedelta(hours=1)
    newer = CaseRecord(
        case_id=case_id,
        at=later,
        progress=CaseProgress(step="report", next_action="Draft the report"),
        deadlines=[deadline("report", due, "met", later)],
    )
    older = CaseRecord(  # delivered after it: a retry of an earlier step's write
        case_id=case_id,
        at=T0,
        progress=CaseProgress(step="planning", next_action="Set the date"),
        deadlines=[deadline("report", due, "pending", T0)],
        notes=[ChronologyNote(at=T0, actor="engine", action="cycle-started", key="run-1:1")],
    )
    for record in (newer, older):
        write_case_record(db_session, record)
        db_session.commit()
    case = db_session.get(Case, case_id)
    [row] = db_session.exec(case_service.deadlines_query(case_id=case_id)).all()
    assert (case.step, case.next_action, row.status) == ("report", "Draft the report", "met")
    assert [e.action for e in case_service.chronology(db_session, case_id=case_id)] == ["cycle-started"]


def test_progress_chronology_and_approvals_land_in_one_record(db_session: Session) -> None:
    case_id = a_case(db_session, "B")
    record = CaseRecord(
        case_id=case_id,
        at=T0,
        progress=CaseProgress(
            step="awaiting-approval", next_action="The headteacher approves", flags=["breach"]
        ),
        notes=[ChronologyNote(at=T0, actor="staff:1", action="submitted-for-approval", detail="pack")],
        approvals=[
            ApprovalRecord(key="release-1", step="awaiting-approval", summary="pack", status="pending", at=T0)
        ],
        deadlines=[
            deadline("respond", dt.date(2026, 11, 20), "pending"),
            deadline("later", dt.date(2026, 12, 1), "pending"),
        ],
    )
    write_case_record(db_session, record)
    db_session.commit()
    case = db_session.get(Case, case_id)
    assert case is not None and (case.step, case.flags) == ("awaiting-approval", ["breach"])
    assert [e.action for e in case_service.chronology(db_session, case_id=case_id)] == [
        "submitted-for-approval"
    ]
    assert case_service.next_deadline(db_session, case_id=case_id).key == "respond"
    [approval] = db_session.exec(case_service.approvals_query(school_id=case.school_id)).all()
    assert approval.key == "release-1"

    decided = T0 + dt.timedelta(hours=3)
    write_case_record(
        db_session,
        CaseRecord(
            case_id=case_id,
            at=decided,
            approvals=[
                ApprovalRecord(
                    key="release-1",
                    step="awaiting-approval",
                    summary="pack",
                    status="approved",
                    at=decided,
                    decided_by=case.started_by,
                    comment="fine",
                )
            ],
        ),
    )
    db_session.commit()
    assert db_session.exec(case_service.approvals_query(school_id=case.school_id)).all() == []


def two_schools_cases(session: Session) -> tuple[str, str]:
    """A case with one pending deadline at each of two schools: (mine, theirs)."""
    mine, theirs = a_case(session, "Mine"), a_case(session, "Theirs")
    for case_id in (mine, theirs):
        write_case_record(
            session,
            CaseRecord(case_id=case_id, at=T0, deadlines=[deadline("d", dt.date(2026, 12, 1), "pending")]),
        )
    session.commit()
    return mine, theirs


def test_staff_see_only_their_own_schools_cases(db_session: Session) -> None:
    mine, theirs = two_schools_cases(db_session)
    school_id = db_session.get(Case, mine).school_id
    assert [c.id for c in db_session.exec(case_service.cases_query(school_id=school_id))] == [mine]
    deadlines = db_session.exec(case_service.deadlines_query(school_id=school_id)).all()
    assert {d.case_id for d in deadlines} == {mine}
    assert case_service.case_at_school(db_session, case_id=theirs, school_id=school_id) is None
    assert case_service.case_at_school(db_session, case_id=mine, school_id=school_id) is not None


def test_a_listing_is_built_once_and_each_school_still_sees_only_its_own(db_session: Session) -> None:
    mine, theirs = two_schools_cases(db_session)
    schools = {case_id: db_session.get(Case, case_id).school_id for case_id in (mine, theirs)}
    columns = ("id", "status")
    pages = {
        case_id: listed(case_service.cases_query, columns, school_id=school_id, process="", status=None)
        for case_id, school_id in schools.items()
    }
    assert pages[mine].listing is pages[theirs].listing  # one statement pair, built once, for both
    assert pages[mine].params == {"school_id": schools[mine]}  # "" and None are not filters
    for case_id, page in pages.items():
        assert [row.id for row in paginate(db_session, page, 0, 50).items] == [case_id]
    # A filter given is a bind parameter of a listing of its own; a value that matches nothing lists nothing.
    closed = listed(case_service.cases_query, columns, school_id=schools[mine], status=CaseStatus.closed)
    assert closed.listing is not pages[mine].listing
    assert paginate(db_session, closed, 0, 50).items == []
    due = listed(
        case_service.deadlines_query,
        ("case_id", "key"),
        school_id=schools[theirs],
        due_before=dt.date(2026, 12, 1),
    )
    assert [row.case_id for row in paginate(db_session, due, 0, 50).items] == [theirs]


def test_a_retried_write_adds_each_chronology_entry_once(db_session: Session) -> None:
    case_id = a_case(db_session, "C")
    note = ChronologyNote(at=T0, actor="engine", action="reminder-sent", detail="d", key="run-1:7")
    for _attempt in range(2):  # the activity committed, then was retried
        write_case_record(db_session, CaseRecord(case_id=case_id, at=T0, notes=[note]))
        db_session.commit()
    assert [e.key for e in case_service.chronology(db_session, case_id=case_id)] == ["run-1:7"]
