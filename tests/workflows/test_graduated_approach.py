"""SEN support (the graduated approach) in time-skipping Temporal: cycles, the register and the parents.

Each test places a pupil of its own on SEN support and asserts what people see: the emails (outbox rows:
template, recipients, subject; the .ics on the wire), the deadline rows with their rule ids, dates and
statuses, the chronology, the case page's next action, the register's provision and the provision map.
Dates are relative to the test server's clock, which moves on from test to test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus

from domain.dates import (
    SchoolYearCalendar,
    add_months,
    english_date,
    english_moment,
    last_weekday_on_or_before,
)
from domain.graduated_approach import (
    SOURCES,
    AnnualReport,
    Assessment,
    GraduatedApproachInput,
    ParentMeeting,
    PlanSeen,
    ReviewMeeting,
    ReviewOutcome,
    SessionLog,
    SupportPlan,
)
from domain.provision import PlannedIntervention
from domain.schemas import CaseRef
from domain.timelines import GraduatedApproachFacts, graduated_approach_timeline, school_term
from store import case_service
from store.casework import Case, Deadline
from store.provision import Intervention, PlacedIntervention
from store.register import Parent, Pupil, PupilParent, School
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually, people
from workflows.graduated_approach import GraduatedApproach
from workflows.registry import PROCESSES

DAY = dt.timedelta(days=1)
PROCESS = "graduated_approach"
RECORDED = {  # the scenarios whose first run tests/workflows/test_replay.py replays
    "test_three_cycles_stepping_up_to_a_specialist": "three_cycles",
    "test_a_review_that_ends_sen_support_sets_provision_n": "ended",
    "test_a_term_without_a_parent_meeting_reminds_then_escalates": "no_parent_meeting",
    "test_two_cycles_without_expected_progress_prompt_a_specialist": "specialist_prompt",
}
HEAD_EMAIL = "headteacher1@example.org"
SENDCO_EMAIL = "sendco1@example.org"
TEACHER_EMAIL = "staff1@example.org"


def long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


@dataclass
class Support(CaseDriver):
    """One pupil's SEN support case under test, with a parent and a provision map intervention."""

    parent_email: str
    intervention_id: int
    calendar: SchoolYearCalendar

    def rows(self) -> dict[str, Deadline]:
        with Session(self.engine) as s:
            return {d.key: d for d in s.exec(select(Deadline).where(Deadline.case_id == self.case_id))}

    def pupil(self) -> Pupil:
        with Session(self.engine) as s:
            found = s.get(Pupil, self.case.pupil_id)
            assert found is not None
            return found

    def placements(self) -> list[tuple[int, int]]:
        with Session(self.engine) as s:
            query = select(PlacedIntervention).where(PlacedIntervention.case_id == self.case_id)
            return sorted((p.cycle, p.intervention_id) for p in s.exec(query))

    def view(self) -> dict:
        return self.case_row().view

    async def assess(self, sources: tuple[str, ...] = SOURCES) -> None:
        today = await self.today()
        for source in sources:
            actor = self.teacher if source in ("class_teacher", "pupil") else self.sendco
            payload = Assessment(actor=actor, source=source, received_on=today, summary=f"{source} summary")  # type: ignore[arg-type]
            await self.update("record_assessment", payload)

    async def plan(self, outcomes: int = 2, review_on: dt.date | None = None) -> None:
        planned = PlannedIntervention(intervention_id=self.intervention_id, sessions_per_week=2, weeks=10)
        payload = SupportPlan(
            actor=self.sendco,
            outcomes=[f"Outcome {n}" for n in range(1, outcomes + 1)],
            interventions=[planned],
            review_on=review_on,
        )
        await self.update("record_plan", payload)
        await self.at_step("do")

    async def review(self, progress: list[str], decision: str, specialist: str | None = None) -> None:
        """The review meeting a week ahead (invitation), then progress and the decision once held."""
        meeting = await self.today() + 7 * DAY
        at = dt.datetime.combine(meeting, dt.time(15, 30))
        await self.update("set_review_meeting", ReviewMeeting(actor=self.sendco, meeting_at=at))
        await self.at_step("review")
        await self.skip_to(meeting, hour=17)
        payload = ReviewOutcome(
            actor=self.sendco, progress=progress, decision=decision, specialist=specialist
        )  # type: ignore[arg-type]
        await self.update("record_review", payload)

    async def cycle(self, progress: list[str], decision: str, specialist: str | None = None) -> None:
        await self.assess()
        await self.plan(outcomes=len(progress))
        await self.review(progress, decision, specialist)

    async def in_cycle(self, n: int) -> None:
        await eventually(lambda: (c := self.case_row()).view.get("cycle") == n and c.step == "assess")


@pytest.fixture
async def support_for(
    request, time_env, task_queue, engine, school: School, smtp, sendco, headteacher, teacher
):  # type: ignore[no-untyped-def]
    """`start()` places a new pupil on SEN support; each case is stopped after the test."""
    cases = StartedCases(request, time_env, PROCESS, RECORDED)
    smtp.clear()

    async def start(**extra: object) -> Support:
        parent_email = f"parent-{uuid.uuid4().hex[:8]}@example.org"
        with Session(engine, expire_on_commit=False) as s:
            child = Pupil(
                school_id=school.id,
                legal_name="Kit Example",
                date_of_birth=dt.date(2017, 9, 1),
                year_group=4,
                sen_provision="N",
                needs=[],
                local_authority="Kent",
            )
            parent = Parent(name="Lee Example", email=parent_email)
            lego = Intervention(
                school_id=school.id,
                name="Lego therapy",
                delivery="group",
                sessions_per_week=2,
                weeks=10,
                cost_per_week=45.0,
            )
            s.add_all([child, parent, lego])
            s.commit()
            s.add(PupilParent(pupil_id=child.id, parent_id=parent.id))
            s.commit()
            case = case_service.open_case(
                s,
                case_id=str(uuid.uuid4()),
                process=PROCESS,
                pupil_id=child.id,
                school_id=school.id,
                started_by=sendco[0].id,
                facts={},
            )
            calendar = case_service.school_calendar(s.get(School, school.id))  # type: ignore[arg-type]
            ref = CaseRef(
                case_id=case.id,
                workflow_id=case.workflow_id,
                process=PROCESS,
                pupil_id=child.id,
                school_id=school.id,
                calendar=calendar,
            )
        staff = people(sendco, headteacher, teacher)
        inp = GraduatedApproachInput(
            case=ref,
            started_by=staff["sendco"],
            needs=["SLCN", "SEMH"],
            reason="Speech and language difficulties affect reading",
            class_teacher_id=teacher[0].id,
            year_group=4,
            **extra,
        )
        handle = await time_env.client.start_workflow(
            GraduatedApproach.run, inp, id=ref.workflow_id, task_queue=task_queue
        )
        r = cases.add(
            Support(
                env=time_env,
                engine=engine,
                case=ref,
                handle=handle,
                parent_email=parent_email,
                intervention_id=lego.id,  # type: ignore[arg-type]
                calendar=SchoolYearCalendar.from_school(calendar.terms, calendar.inset_days),
                **staff,
            )
        )
        await r.in_cycle(1)
        return r

    yield start, cases
    await cases.close()


# --- the scenarios ---------------------------------------------------------------------------------
async def test_three_cycles_stepping_up_to_a_specialist(support_for, smtp):  # type: ignore[no-untyped-def]
    start, cases = support_for
    r = await start()
    today = await r.today()

    # Start: provision K with the ranked needs; the parents told at once (GA-INFORM), naming the SENDCo.
    assert (r.pupil().sen_provision, r.pupil().needs) == ("K", ["SLCN", "SEMH"])
    informed = await eventually(lambda: r.outbox("ga-inform"))
    [inform] = informed
    assert inform.recipients == [r.parent_email]
    assert inform.subject.startswith("Kit is now getting SEN support at school")
    wires = smtp.to(r.parent_email)
    assert len(wires) == 1, [(m["Subject"], m["Message-ID"]) for m in wires]
    [wire] = wires
    body = wire.get_body(preferencelist=("plain",)).get_content()
    assert "speech, language and communication needs and social, emotional and mental health needs" in body
    assert f"please contact sendco 1, the school's SENDCo, at {SENDCO_EMAIL}" in body
    assert "SLCN" not in body
    found = await eventually(lambda: len(r.rows()) >= 7 and r.rows())
    assert (found["inform"].rule_id, found["inform"].status) == ("GA-INFORM", "met")

    # Assess: four requests, each chased by a deadline 10 school days on (GA-REVIEW).
    assess_due = r.calendar.add_school_days(today, 10)
    assert {k: (d.rule_id, d.due, d.owner) for k, d in found.items() if k.startswith("c1:assess:")} == {
        "c1:assess:class_teacher": ("GA-REVIEW", assess_due, f"staff:{r.teacher.staff_id}"),
        "c1:assess:sendco": ("GA-REVIEW", assess_due, "sendco"),
        "c1:assess:parents": ("GA-REVIEW", assess_due, "parent"),
        "c1:assess:pupil": ("GA-REVIEW", assess_due, f"staff:{r.teacher.staff_id}"),
    }
    asked = r.outbox("ga-assessment-request")
    assert sorted(m.recipients[0] for m in asked) == sorted(
        [TEACHER_EMAIL, TEACHER_EMAIL, SENDCO_EMAIL, r.parent_email]
    )
    [to_parents] = [m for m in asked if m.recipients == [r.parent_email]]
    assert to_parents.subject.startswith(f"Your views on Kit's support, please, by {long_date(assess_due)}")
    assert "Gather" not in r.case_row().next_action and "still waiting for" in r.case_row().next_action

    # Plan: the review defaults to the end of term (the term's last school day); the parents get the plan.
    await r.assess()
    await r.at_step("plan")
    await r.plan()
    review = await eventually(lambda: r.rows().get("c1:review"))
    facts = GraduatedApproachFacts(cycle_start=today)
    expected_review = next(
        e.due for e in graduated_approach_timeline(facts, r.calendar) if e.step == "review"
    )
    assert (review.rule_id, review.due, review.status) == ("GA-REVIEW", expected_review, "pending")
    assert r.calendar.is_school_day(review.due)
    assert {k: d.status for k, d in r.rows().items() if k.startswith("c1:assess:")} == dict.fromkeys(
        ["c1:assess:class_teacher", "c1:assess:sendco", "c1:assess:parents", "c1:assess:pupil"], "met"
    )
    [plan] = await eventually(lambda: r.outbox("ga-plan"))
    assert plan.recipients == [r.parent_email]
    assert plan.subject.startswith(f"Kit's support plan: review on {long_date(expected_review)}")
    assert r.placements() == [(1, r.intervention_id)]
    await r.update("confirm_plan_seen", PlanSeen(actor=r.sendco, seen_on=await r.today()))
    await r.update(
        "log_session",
        SessionLog(actor=r.teacher, on=await r.today(), intervention_id=r.intervention_id, minutes=30),
    )
    await eventually(lambda: r.chronology("session-logged"))

    # Review: the parents invited with an .ics; as expected on one outcome of two: another cycle.
    await r.review(["as", "less"], "another_cycle")
    await r.in_cycle(2)
    [invite] = r.outbox("ga-invitation")
    assert invite.recipients == [r.parent_email] and invite.subject.startswith(
        "Invitation: SEN support review on"
    )
    [wired] = [m for m in smtp.messages if m["X-Send-Outbox-Key"] == invite.key]
    ics = [p for p in wired.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(ics) == 1 and "SEQUENCE:0" in str(ics[0].get_content())
    assert r.rows()["c1:review"].status == "met"
    assert r.view()["cycles_without_expected_progress"] == 0

    # Cycles 2 and 3 without expected progress; at the third review a step up to an EP.
    await r.cycle(["less", "less"], "another_cycle")
    await r.in_cycle(3)
    await r.cycle(["less", "less"], "specialist", "ep")
    await r.in_cycle(4)
    case = r.case_row()
    assert case.view["referrals"] == ["an educational psychologist"]
    assert "referral-ep" in case.flags
    [referral] = r.chronology("specialist-referral")
    assert referral.detail.startswith(
        "Referral to an educational psychologist recorded at the review of cycle 3"
    )
    # The EP referral is a linked case of its own (tests/workflows/test_ep_referral.py follows it).
    with Session(r.engine) as s:
        [ep] = [
            c
            for c in s.exec(select(Case).where(Case.process == "ep_referral"))
            if c.facts.get("linked_from") == r.case_id
        ]
    [opened] = r.chronology("ep-referral-opened")
    assert opened.detail == f"EP referral opened as case {ep.id[:8]}"
    ep_ref = CaseRef(
        case_id=ep.id,
        workflow_id=ep.workflow_id,
        process="ep_referral",
        pupil_id=ep.pupil_id,
        school_id=ep.school_id,
    )
    handle = r.env.client.get_workflow_handle(ep.workflow_id)
    cases.add(CaseDriver(r.env, r.engine, ep_ref, handle, r.sendco, r.head, r.teacher))
    assert [e.detail.split(".")[0] for e in r.chronology("next-cycle")] == [
        "Decision: another cycle of SEN support",
        "Decision: another cycle of SEN support",
        "Decision: involve a specialist",
    ]
    assert r.placements() == [(1, r.intervention_id), (2, r.intervention_id), (3, r.intervention_id)]
    assert len(r.outbox("ga-inform")) == 1  # told once, at the start
    assert r.pupil().sen_provision == "K"
    first = r.env.client.get_workflow_handle(r.case.workflow_id, run_id=r.handle.first_execution_run_id)
    assert (await first.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW


async def test_a_review_that_ends_sen_support_sets_provision_n(support_for):  # type: ignore[no-untyped-def]
    start, _ = support_for
    r = await start()
    assert r.pupil().sen_provision == "K"
    await r.cycle(["more", "as"], "end_support")
    case = await r.at_step("closed")
    assert (
        case.status == "closed"
        and case.next_action == "Nothing more: SEN support has ended and the parents have been told"
    )
    assert (r.pupil().sen_provision, r.pupil().needs) == ("N", [])
    [ended] = r.outbox("ga-ended")
    assert ended.recipients == [r.parent_email]
    assert ended.subject.startswith("Kit no longer needs SEN support")
    rows = r.rows()
    assert rows["c1:review"].status == "met"
    meeting = english_date(r.chronology("review-recorded")[0].at)
    term = school_term(r.calendar, meeting)
    assert rows[f"parent-meeting:{term.label}"].status == "met"  # the review was this term's meeting
    assert rows["annual-report:1"].status == "cancelled"
    assert await r.handle.result() == "ended"


async def test_a_term_without_a_parent_meeting_reminds_then_escalates(support_for, time_env, engine, school):  # type: ignore[no-untyped-def]
    start, _ = support_for
    # Start with three weeks of the term ahead, so its reminders (14 and 3 days before its end) are to come:
    # the shared test clock may stand anywhere in a term when this test begins.
    with Session(engine) as s:
        held = case_service.school_calendar(s.get(School, school.id))  # type: ignore[arg-type]
    calendar = SchoolYearCalendar.from_school(held.terms, held.inset_days)
    now = await time_env.get_current_time()
    term = school_term(calendar, english_date(now))
    if term.end - english_date(now) < 21 * DAY:
        following = school_term(calendar, term.end + DAY)
        await time_env.sleep(dt.datetime.combine(following.start, dt.time(12), dt.UTC) - now)
    r = await start()
    today, started = await r.today(), await r.env.get_current_time()
    term = school_term(r.calendar, today)
    key = f"parent-meeting:{term.label}"
    row = await eventually(lambda: r.rows().get(key))
    assert (row.rule_id, row.due, row.owner, row.status) == (
        "GA-PARENT-MEETINGS",
        term.end,
        "sendco",
        "pending",
    )
    await r.assess()
    next_term = school_term(r.calendar, term.end + DAY)
    await r.plan(review_on=r.calendar.add_school_days(next_term.start, 20))

    # No meeting with the parents all term: the SENDCo reminded (on a working day), the headteacher told.
    await r.skip_to(term.end + 2 * DAY)
    row = await eventually(lambda: (d := r.rows()[key]).status == "escalated" and d)
    title = f"Meet the parents at least once in the {term.label} term"
    reminders = [m for m in r.outbox("reminder") if title in m.subject]
    tuesdays = {last_weekday_on_or_before(term.end - n * DAY, [1]) for n in (14, 3)}  # the SENDCo's day
    due_reminders = sorted(d for d in tuesdays if english_moment(d, dt.time(8)) >= started)
    assert due_reminders and [m.recipients for m in reminders] == [[SENDCO_EMAIL]] * len(due_reminders)
    sent_on = [english_date(e.at) for e in r.chronology("reminder-sent") if title in e.detail]
    assert sent_on == due_reminders
    escalations = [m for m in r.outbox("escalation") if title in m.subject]
    assert [m.recipients for m in escalations] == [[HEAD_EMAIL]]
    [missed] = [e for e in r.chronology("deadline-missed") if title in e.detail]
    assert f"was due {term.end:%d %b %Y} (GA-PARENT-MEETINGS)" in missed.detail
    assert f"no-parent-meeting-{term.label.replace(' ', '-')}" in r.case_row().flags

    # The next term has its own deadline; a meeting in it meets it; the past term stays escalated.
    following = await eventually(lambda: r.rows().get(f"parent-meeting:{next_term.label}"))
    assert (following.due, following.status) == (next_term.end, "pending")
    await r.skip_to(next_term.start + DAY)
    await r.update(
        "record_parent_meeting", ParentMeeting(actor=r.sendco, met_on=await r.today(), note="Phone call")
    )
    await eventually(lambda: r.rows()[f"parent-meeting:{next_term.label}"].status == "met")
    assert r.rows()[key].status == "escalated"
    assert len([m for m in r.outbox("escalation") if title in m.subject]) == 1  # told once


async def test_two_cycles_without_expected_progress_prompt_a_specialist(support_for, time_env):  # type: ignore[no-untyped-def]
    start, _ = support_for
    r = await start()
    await r.cycle(["less"], "another_cycle")
    await r.in_cycle(2)
    assert not r.outbox("ga-specialist") and "specialist-suggested" not in r.case_row().flags
    await r.cycle(["less"], "another_cycle")
    await r.in_cycle(3)
    [prompt] = r.outbox("ga-specialist")
    assert prompt.recipients == [SENDCO_EMAIL]
    assert prompt.subject.startswith("Consider a specialist: 2 support cycles without expected progress")
    case = r.case_row()
    assert "specialist-suggested" in case.flags
    assert case.next_action.startswith(
        "Consider involving a specialist: 2 cycles in a row without expected progress (GA-SPECIALIST)."
    )
    [noted] = r.chronology("specialist-suggested")
    assert "GA-SPECIALIST: 2 cycles in a row without expected progress" in noted.detail


async def test_annual_report_is_due_a_year_on_and_met_when_recorded(support_for):  # type: ignore[no-untyped-def]
    start, _ = support_for
    r = await start()
    today = await r.today()
    row = await eventually(lambda: r.rows().get("annual-report:1"))
    assert (row.rule_id, row.due, row.owner) == ("GA-ANNUAL-REPORT", add_months(today, 12), "sendco")
    preview = PROCESSES[PROCESS].preview({"cycle_start": today.isoformat()}, r.calendar)
    assert {e.step: e.due for e in preview}["annual-report"] == row.due
    await r.update("record_annual_report", AnnualReport(actor=r.sendco, sent_on=today))
    await eventually(lambda: r.rows()["annual-report:1"].status == "met")
    nxt = await eventually(lambda: r.rows().get("annual-report:2"))
    assert nxt.due == add_months(row.due, 12)


async def test_refusals(support_for):  # type: ignore[no-untyped-def]
    start, _ = support_for
    r = await start()
    today = await r.today()
    plan = SupportPlan(actor=r.sendco, outcomes=["Outcome 1"])
    assert await r.refused("record_plan", plan) == "Conflict"  # no staff assessments yet
    parents = Assessment(actor=r.teacher, source="parents", received_on=today, summary="views")
    assert await r.refused("record_assessment", parents) == "Forbidden"
    future = Assessment(actor=r.teacher, source="class_teacher", received_on=today + DAY, summary="x")
    assert await r.refused("record_assessment", future) == "Invalid"
    await r.assess(("class_teacher", "sendco"))
    twice = Assessment(actor=r.teacher, source="class_teacher", received_on=today, summary="again")
    assert await r.refused("record_assessment", twice) == "Conflict"
    assert await r.refused("record_plan", plan.model_copy(update={"actor": r.teacher})) == "Forbidden"
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    assert await r.refused("record_plan", plan.model_copy(update={"review_on": saturday})) == "Invalid"
    await r.plan(outcomes=1)  # the parents' and pupil's views not in: the plan may still be recorded

    # The class teacher logs a session against the plan, but cannot decide the review.
    await r.update("log_session", SessionLog(actor=r.teacher, on=today, note="Good focus today"))
    stranger = SessionLog(actor=r.teacher, on=today, intervention_id=r.intervention_id + 999)
    assert await r.refused("log_session", stranger) == "Invalid"
    meeting = dt.datetime.combine(today + 3 * DAY, dt.time(9, 0))
    assert (
        await r.refused(
            "record_review", ReviewOutcome(actor=r.sendco, progress=["as"], decision="another_cycle")
        )
        == "Conflict"
    )
    await r.update("set_review_meeting", ReviewMeeting(actor=r.sendco, meeting_at=meeting))
    await r.at_step("review")
    decide = ReviewOutcome(actor=r.teacher, progress=["as"], decision="another_cycle")
    assert await r.refused("record_review", decide) == "Forbidden"
    early = ReviewOutcome(actor=r.sendco, progress=["as"], decision="another_cycle")
    assert await r.refused("record_review", early) == "Conflict"  # the meeting is not held yet
    await r.skip_to(today + 3 * DAY, hour=12)
    wrong = ReviewOutcome(actor=r.sendco, progress=["as", "less"], decision="another_cycle")
    assert await r.refused("record_review", wrong) == "Invalid"
    sessions = r.chronology("session-logged")
    assert len(sessions) == 1 and sessions[0].actor == f"staff:{r.teacher.staff_id}"
    assert not r.chronology("review-recorded")
    case: Case = r.case_row()
    assert case.step == "review" and case.view["sessions_logged"] == 1


async def test_a_review_requesting_an_ehc_needs_assessment_opens_the_linked_case(support_for):  # type: ignore[no-untyped-def]
    start, cases = support_for
    r = await start()
    await r.cycle(["less", "less"], "needs_assessment")
    await r.in_cycle(2)
    with Session(r.engine) as s:
        [linked] = [
            c
            for c in s.exec(select(Case).where(Case.process == "needs_assessment"))
            if c.facts.get("linked_from") == r.case_id
        ]
    request = CaseRef(
        case_id=linked.id,
        workflow_id=linked.workflow_id,
        process="needs_assessment",
        pupil_id=linked.pupil_id,
        school_id=linked.school_id,
    )
    handle = r.env.client.get_workflow_handle(linked.workflow_id)
    cases.add(
        CaseDriver(
            env=r.env,
            engine=r.engine,
            case=request,
            handle=handle,
            sendco=r.sendco,
            head=r.head,
            teacher=r.teacher,
        )
    )
    assert linked.pupil_id == r.case.pupil_id
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    [requested] = r.chronology("needs-assessment-requested")
    assert requested.detail.startswith(f"Request for an EHC needs assessment opened as case {linked.id[:8]}")
    assert [e.detail for e in r.chronology("case-linked")] == [
        f"Linked to case {linked.id} (needs_assessment)"
    ]
    opened = await eventually(lambda: CaseDriver.chronology(cases.started[-1], "request-made"))
    assert "from a graduated-approach review" in opened[0].detail
    assert (
        "Evidence: SEN support for 1 cycle; latest outcomes: Outcome 1 (less than expected)"
        in opened[0].detail
    )
    assert r.pupil().sen_provision == "K"  # SEN support goes on while the LA decides
