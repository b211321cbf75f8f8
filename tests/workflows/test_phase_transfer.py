"""Moving to the next phase, in time-skipping Temporal: an EHC plan on the annual review's PT-* dates, and a
pupil on SEN support with a transition meeting in the summer term of the school's own calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from domain.dates import SchoolYearCalendar, add_weeks, english_date
from domain.phase_transfer import (
    AmendedPlanIssued,
    MeetingHeld,
    PhaseTransferInput,
    PhaseTransferStart,
    TransitionMeeting,
)
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually, people
from tests.workflows.school_calendars import DAY
from workflows.phase_transfer import PhaseTransfer

PROCESS = "phase_transfer"
RECORDED = {
    "test_ehc_plan_transfer_follows_the_pt_dates_and_a_late_la_is_told": "ehc_plan_la_late",
    "test_sen_support_transition_meeting_is_set_in_the_summer_term": "sen_support_meeting",
}
HEAD_EMAIL = "headteacher1@example.org"
LA_EMAIL = "la_sen@example.org"


@dataclass
class Mover(CaseDriver):
    parent_email: str

    def status(self, key: str) -> str:
        row = self.deadline_at(key)
        assert row is not None, f"no {key} deadline"
        return row.status


@pytest.fixture
async def mover(  # type: ignore[no-untyped-def]
    request, time_env, task_queue, case_for, make_pupil, engine, smtp, sendco, headteacher, teacher, pupil
):
    """`await mover(calendar, provision, **start)`: a new pupil moves on (`pupil`: the agencies)."""
    from sqlmodel import Session, select

    from store.register import Parent, PupilParent

    cases = StartedCases(request, time_env, PROCESS, RECORDED)
    smtp.clear()
    staff = people(sendco, headteacher, teacher)

    async def start(calendar: SchoolYearCalendar, provision: str, **given: object) -> Mover:
        child = make_pupil(provision=provision, needs=("ASD",) if provision == "E" else ("SPLD",))
        case = case_for(PROCESS, child, calendar)
        inp = PhaseTransferInput(
            case=case, started_by=staff["sendco"], start=PhaseTransferStart.model_validate(given)
        )
        handle = await time_env.client.start_workflow(
            PhaseTransfer.run, inp, id=case.workflow_id, task_queue=task_queue
        )
        with Session(engine) as s:
            parent = s.exec(select(Parent).join(PupilParent).where(PupilParent.pupil_id == child.id)).one()
        r = cases.add(
            Mover(env=time_env, engine=engine, case=case, handle=handle, parent_email=parent.email, **staff)
        )
        await eventually(lambda: r.chronology("case-opened"))
        return r

    yield start
    await cases.close()


async def test_ehc_plan_transfer_follows_the_pt_dates_and_a_late_la_is_told(mover, time_env, smtp):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    year = (
        today.year + 1
        if add_weeks(dt.date(today.year + 1, 2, 15), -12) > today + 14 * DAY
        else today.year + 2
    )
    final_due = dt.date(year, 2, 15)
    latest = add_weeks(final_due, -12)
    r = await mover(SchoolYearCalendar(), "E", plan="ehc_plan", transfer="phase", transfer_year=year)
    review = await eventually(lambda: r.deadline_at("review-meeting"))
    final = await eventually(lambda: r.deadline_at("final-plan"))
    assert (review.rule_id, review.due, review.owner) == ("PT-LATEST-MEETING", latest, "sendco")
    assert (final.rule_id, final.due, final.owner) == ("PT-15FEB", final_due, "la_sen")
    [opened] = r.chronology("case-opened")
    assert opened.detail.endswith(f"the amended plan is final by {final_due:%d %b %Y} (PT-15FEB)")
    meeting = TransitionMeeting(actor=r.sendco, meeting_at=dt.datetime.combine(latest, dt.time(10)))
    assert await r.refused("set_transition_meeting", meeting) == "Conflict"  # an EHC plan: its review

    # The review meeting is held in time; the LA then misses 15 February.
    held_on = latest - 3 * DAY
    await r.skip_to(held_on)
    await r.update("record_meeting_held", MeetingHeld(actor=r.sendco, held_on=held_on))
    await eventually(lambda: r.status("review-meeting") == "met")
    await r.skip_to(final_due + DAY)
    [escalation] = await eventually(lambda: r.outbox("escalation"))
    assert escalation.recipients == [HEAD_EMAIL] and ", 1 day late (" in escalation.subject
    [told] = await eventually(lambda: smtp.to(r.parent_email))
    assert told["Subject"].startswith("The local authority is late: The LA issues the amended EHC plan")
    assert "la-late-PT-15FEB" in r.case_row().flags
    assert [m.recipients for m in r.outbox("overdue")] == [[LA_EMAIL]]

    # The plan comes two days late: done late, and the case closes.
    await r.skip_to(final_due + 2 * DAY)
    issued = AmendedPlanIssued(actor=r.sendco, issued_on=final_due + 2 * DAY, setting="Oakfield Secondary")
    await r.update("record_amended_plan", issued)
    assert await r.outcome() == "transferred"
    assert r.status("final-plan") == "met_late" and r.case_row().status == "closed"
    [noted] = r.chronology("final-plan")
    assert noted.detail == f"Amended plan issued on {final_due + 2 * DAY:%d %b %Y}, naming Oakfield Secondary"


async def test_sen_support_transition_meeting_is_set_in_the_summer_term(mover, time_env, smtp, other_school):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    year = today.year + 1
    inset = dt.date(year, 4, 12)  # the summer term starts with an INSET day
    school = SchoolYearCalendar(
        terms=(
            (dt.date(year - 1, 9, 2), dt.date(year - 1, 12, 18)),
            (dt.date(year, 1, 5), dt.date(year, 3, 26)),
            (inset, dt.date(year, 7, 16)),
        ),
        inset_days=frozenset({inset}),
    )
    receiving = other_school("secondary")
    r = await mover(school, "K", plan="sen_support", transfer_year=year, receiving_school_id=receiving.id)
    summer_end = dt.date(year, 7, 16)
    while not school.is_school_day(summer_end):
        summer_end -= DAY
    case = await r.at_step("planning")
    assert case.next_action == (
        f"Set the transition meeting with the receiving school, in the summer term ({inset:%d %b %Y} to "
        f"{summer_end:%d %b %Y})"
    )
    assert r.deadline_at("final-plan") is None  # no statutory date for SEN support

    # Outside the summer term, or on its INSET day: refused, with the term's dates.
    spring = TransitionMeeting(actor=r.sendco, meeting_at=dt.datetime(year, 3, 10, 15, 30))
    assert await r.refused("set_transition_meeting", spring) == "Invalid"
    on_inset = TransitionMeeting(actor=r.sendco, meeting_at=dt.datetime.combine(inset, dt.time(15, 30)))
    assert await r.refused("set_transition_meeting", on_inset) == "Invalid"
    day = dt.date(year, 6, 16)
    while not school.is_school_day(day):
        day += DAY
    meeting = TransitionMeeting(
        actor=r.sendco, meeting_at=dt.datetime.combine(day, dt.time(15, 30)), location="SENDCo's room"
    )
    await r.update("set_transition_meeting", meeting)
    await r.at_step("meeting-set")

    # The receiving school and the parents are invited, each with a calendar file.
    for address in (receiving.email, r.parent_email):
        [invitation] = await eventually(lambda address=address: smtp.to(address))
        assert invitation["Subject"].startswith(f"Transition meeting on {day:%A} {day.day} {day:%B %Y} (")
        parts = [p.get_content_type() for p in invitation.walk()]
        assert "text/calendar" in parts
    early = MeetingHeld(actor=r.sendco, held_on=today)
    assert await r.refused("record_meeting_held", early) == "Invalid"  # before the meeting's date

    await r.skip_to(day)
    await r.update("record_meeting_held", MeetingHeld(actor=r.sendco, held_on=day, note="Visit booked"))
    assert await r.outcome() == "transferred"
    assert r.case_row().status == "closed"
    [held] = r.chronology("meeting-held")
    assert held.detail == f"Transition meeting held on {day:%d %b %Y}: Visit booked"
    assert held.actor == f"staff:{r.sendco.staff_id}"
