"""The school's request for an EHC needs assessment in time-skipping Temporal: the LA's clocks.

Each test opens the request for a pupil of its own on SEN support (provision K) and asserts what people
see: the emails (outbox rows: template, recipients, subject), the deadline rows with their rule ids,
dates and statuses, the chronology, the case page's next action and the register. Dates are chosen
relative to the test server's clock, which moves on from test to test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus

from domain.dates import add_weeks, english_date, inclusive_window_end, within_months
from domain.needs_assessment import (
    AdviceRequested,
    AdviceSent,
    AssessDecision,
    ConsultationReply,
    DraftComments,
    DraftServed,
    FinalPlanIssued,
    LAReceived,
    NeedsAssessmentInput,
    NoPlan,
    RecordException,
    SchoolConsulted,
)
from domain.schemas import CaseRef
from domain.timelines import NeedsAssessmentFacts, needs_assessment_timeline
from store import case_service
from store.casework import Case, ChronologyEntry, Deadline
from store.register import Parent, Pupil, PupilParent, School
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually, people
from workflows.needs_assessment import NeedsAssessment
from workflows.registry import PROCESSES

DAY = dt.timedelta(days=1)
PROCESS = "needs_assessment"
RECORDED = {  # the scenarios whose first run tests/workflows/test_replay.py replays
    "test_la_decides_late_is_chased_escalated_and_the_parents_told": "la_late",
    "test_final_plan_sets_provision_e_and_starts_the_annual_review": "final_plan",
    "test_decision_not_to_assess_shows_the_right_to_appeal_and_closes": "not_assessed",
    "test_exception_moves_the_date_with_its_reason": "exception",
}
LA_EMAIL = "la_sen@example.org"
HEAD_EMAIL = "headteacher1@example.org"
SENDCO_EMAIL = "sendco1@example.org"
DECISION = "The LA's decision whether to carry out an EHC needs assessment"


def at_dates(entries: list[ChronologyEntry]) -> list[dt.date]:
    return [english_date(e.at) for e in entries]


@dataclass
class Request(CaseDriver):
    """One EHC needs assessment request under test, for a pupil (and parent) of its own."""

    parent_email: str

    def rows(self) -> dict[str, Deadline]:
        with Session(self.engine) as s:
            return {d.key: d for d in s.exec(select(Deadline).where(Deadline.case_id == self.case_id))}

    def pupil(self) -> Pupil:
        with Session(self.engine) as s:
            found = s.get(Pupil, self.case.pupil_id)
            assert found is not None
            return found

    async def received(self, on: dt.date) -> None:
        await self.update("record_la_received", LAReceived(actor=self.sendco, received_on=on))
        await self.at_step("awaiting-decision")

    async def decide(self, decision: str, on: dt.date | None = None) -> None:
        on = on or await self.today()
        payload = AssessDecision(actor=self.sendco, decision=decision, decided_on=on)  # type: ignore[arg-type]
        await self.update("record_assess_decision", payload)


@pytest.fixture
async def request_for(
    request, time_env, task_queue, engine, school: School, pupil, smtp, sendco, headteacher, teacher
):  # type: ignore[no-untyped-def]
    """`start(la_received)` opens a request (`pupil` brings the LA agencies); each is stopped after."""
    cases = StartedCases(request, time_env, PROCESS, RECORDED)
    smtp.clear()

    async def start(la_received: dt.date | None) -> Request:
        parent_email = f"parent-{uuid.uuid4().hex[:8]}@example.org"
        with Session(engine, expire_on_commit=False) as s:
            child = Pupil(
                school_id=school.id,
                legal_name="Sam Example",
                date_of_birth=dt.date(2017, 3, 1),
                year_group=4,
                sen_provision="K",
                needs=["SLCN"],
                local_authority="Kent",
            )
            parent = Parent(name="Jo Example", email=parent_email)
            s.add_all([child, parent])
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
            ref = CaseRef(
                case_id=case.id,
                workflow_id=case.workflow_id,
                process=PROCESS,
                pupil_id=child.id,
                school_id=school.id,
                calendar=case_service.school_calendar(s.get(School, school.id)),  # type: ignore[arg-type]
            )
        staff = people(sendco, headteacher, teacher)
        inp = NeedsAssessmentInput(
            case=ref,
            started_by=staff["sendco"],
            year_group=4,
            evidence="Two reviewed support plans, the speech and language therapist's report",
            la_received=la_received,
        )
        handle = await time_env.client.start_workflow(
            NeedsAssessment.run, inp, id=ref.workflow_id, task_queue=task_queue
        )
        r = cases.add(
            Request(env=time_env, engine=engine, case=ref, handle=handle, parent_email=parent_email, **staff)
        )
        await eventually(lambda: r.chronology("request-made"))
        return r

    yield start, cases
    await cases.close()


# --- the scenarios ---------------------------------------------------------------------------------
async def test_la_decides_late_is_chased_escalated_and_the_parents_told(request_for):  # type: ignore[no-untyped-def]
    start, _ = request_for
    r = await start(None)
    today = await r.today()
    await r.at_step("awaiting-receipt")
    assert r.case_row().next_action.startswith("Record the day the LA received the request")
    assert not r.rows()  # no clock runs before the LA has the request

    await r.received(today)
    decide_due = today + 42 * DAY
    found = await eventually(lambda: len(r.rows()) == 3 and r.rows())
    assert {(d.step, d.rule_id, d.due, d.owner, d.status) for d in found.values()} == {
        ("la-decision", "EHCNA-DECIDE", decide_due, "la_sen", "pending"),
        ("no-plan-notice", "EHCNA-NO-PLAN", today + 16 * 7 * DAY, "la_sen", "pending"),
        ("final-plan", "EHCNA-FINAL", today + 20 * 7 * DAY, "la_sen", "pending"),
    }
    preview = PROCESSES[PROCESS].preview({"la_received": today.isoformat()})
    assert {(e.step, e.rule_id, e.due) for e in preview} == {
        (d.step, d.rule_id, d.due) for d in found.values()
    }
    assert f"the LA must decide by {decide_due:%d %b %Y} (EHCNA-DECIDE)" in r.case_row().next_action

    await r.skip_to(decide_due + 8 * DAY)  # a week late: breach, then a second escalation
    await eventually(lambda: len(r.chronology("deadline-escalated")) == 2)
    row = r.rows()["la-decision"]
    assert (row.rule_id, row.due, row.status) == ("EHCNA-DECIDE", decide_due, "escalated")
    [chase] = r.outbox("reminder")
    assert chase.recipients == [LA_EMAIL] and chase.subject.startswith(f"Reminder: {DECISION} due")
    assert at_dates(r.chronology("reminder-sent")) == [decide_due - 7 * DAY]
    assert "(EHCNA-DECIDE)" in r.chronology("reminder-sent")[0].detail
    assert [m.recipients for m in r.outbox("escalation")] == [[HEAD_EMAIL]] * 2
    assert at_dates(r.chronology("deadline-escalated")) == [decide_due + DAY, decide_due + 8 * DAY]
    assert [m.recipients for m in r.outbox("overdue")] == [[LA_EMAIL]] * 2
    [late] = r.outbox("ehcna-la-late")
    assert late.recipients == [r.parent_email]
    assert late.subject.startswith(f"The local authority is late: {DECISION}")
    [told] = r.chronology("la-late-notified")
    assert english_date(told.at) == decide_due + DAY
    assert f"was due {decide_due:%d %b %Y} (EHCNA-DECIDE)" in told.detail
    assert "la-late-EHCNA-DECIDE" in r.case_row().flags

    # The decision arrives late: met late, the assessment goes on with the 16- and 20-week clocks.
    await r.decide("assess")
    await r.at_step("assessing")
    row = await eventually(lambda: (d := r.rows()["la-decision"]).status == "met_late" and d)
    assert row.completed_at is not None
    assert len(r.outbox("ehcna-la-late")) == 1  # told once
    assert r.case_row().next_action.startswith("Record the draft plan when the LA serves it")


async def test_final_plan_sets_provision_e_and_starts_the_annual_review(request_for, time_env, engine):  # type: ignore[no-untyped-def]
    start, _ = request_for
    today = english_date(await time_env.get_current_time())
    r = await start(today)
    await r.at_step("awaiting-decision")
    assert r.pupil().sen_provision == "K"
    await r.skip_to(today + 20 * DAY)
    await r.decide("assess")
    await r.at_step("assessing")

    # The LA asks for the school's advice: the SENDCo owns it, due 6 weeks later (EHCNA-ADVICE).
    asked = today + 21 * DAY
    await r.skip_to(asked)
    await r.update("record_advice_request", AdviceRequested(actor=r.sendco, requested_on=asked))
    advice = await eventually(lambda: r.rows().get("school-advice"))
    assert (advice.rule_id, advice.due, advice.owner) == ("EHCNA-ADVICE", add_weeks(asked, 6), "sendco")
    assert r.case_row().next_action.startswith(f"Send the school's advice to the LA by {advice.due:%d %b %Y}")
    sent = asked + 14 * DAY
    await r.skip_to(sent)
    await r.update("record_advice_sent", AdviceSent(actor=r.sendco, sent_on=sent, summary="Attainment"))
    await eventually(lambda: r.rows()["school-advice"].status == "met")

    # The draft plan (the parents' 15 days inclusive) and the consultation on naming the school.
    served = today + 13 * 7 * DAY
    await r.skip_to(served)
    await r.update("record_draft", DraftServed(actor=r.sendco, served_on=served))
    await r.at_step("draft-plan")
    await r.update("record_consultation", SchoolConsulted(actor=r.sendco, consulted_on=served))
    found = await eventually(lambda: {"draft-comments", "school-consultation"} <= set(r.rows()) and r.rows())
    comments, consult = found["draft-comments"], found["school-consultation"]
    assert (comments.rule_id, comments.due, comments.owner) == (
        "EHCNA-DRAFT-COMMENTS",
        inclusive_window_end(served, 15),
        "parent",
    )
    assert comments.due == served + 14 * DAY
    assert (consult.rule_id, consult.due, consult.owner) == ("SCHOOL-CONSULT", served + 15 * DAY, "sendco")
    assert found["no-plan-notice"].status == "met"  # a draft means the LA will issue a plan
    expected = needs_assessment_timeline(
        NeedsAssessmentFacts(
            la_received=today, advice_requested=asked, draft_served=served, school_consulted=served
        )
    )
    assert {(e.step, e.rule_id, e.due) for e in expected} == {
        (d.step, d.rule_id, d.due) for d in found.values()
    }
    replied = served + 7 * DAY
    await r.skip_to(replied)
    await r.update(
        "record_consultation_reply",
        ConsultationReply(actor=r.sendco, replied_on=replied, summary="The school can meet the needs"),
    )
    await eventually(lambda: r.rows()["school-consultation"].status == "met")
    commented = served + 10 * DAY
    await r.skip_to(commented)
    await r.update("record_draft_comments", DraftComments(actor=r.sendco, received_on=commented))
    await eventually(lambda: r.rows()["draft-comments"].status == "met")
    assert r.case_row().next_action.startswith("Record the final plan when the LA issues it (due by")

    # The final plan: provision E with the plan's needs, and the pupil's annual review case starts.
    issued = today + 19 * 7 * DAY
    await r.skip_to(issued)
    await r.update(
        "record_issued_plan", FinalPlanIssued(actor=r.sendco, issued_on=issued, needs=["SLCN", "SEMH"])
    )
    assert await r.handle.result() == "plan-issued"
    pupil = r.pupil()
    assert (pupil.sen_provision, pupil.needs) == ("E", ["SLCN", "SEMH"])
    found = r.rows()
    assert found["final-plan"].status == "met" and found["draft-comments"].status == "met"
    case = r.case_row()
    assert (case.status, case.step) == ("closed", "closed")
    linked_id = case.view["annual_review_case"]
    with Session(engine) as s:
        linked = s.get(Case, linked_id)
        assert linked is not None
        assert (linked.process, linked.pupil_id) == ("annual_review", r.case.pupil_id)
        assert linked.facts["linked_from"] == r.case_id
        assert linked.facts["cycle_start"] == issued.isoformat()
    review = time_env.client.get_workflow_handle(linked.workflow_id)
    annual_review = CaseDriver(  # stopped here, not by the fixture: only this case's history is saved
        env=time_env,
        engine=engine,
        case=CaseRef(
            case_id=linked.id,
            workflow_id=linked.workflow_id,
            process="annual_review",
            pupil_id=r.case.pupil_id,
            school_id=r.case.school_id,
        ),
        handle=review,
        sendco=r.sendco,
        head=r.head,
        teacher=r.teacher,
    )
    try:
        assert (await review.describe()).status == WorkflowExecutionStatus.RUNNING
        await annual_review.at_step("planning")  # its workflow runs and writes its own case

        def review_due_row() -> Deadline | None:
            with Session(engine) as s:
                query = select(Deadline).where(Deadline.case_id == linked_id, Deadline.step == "review-due")
                return s.exec(query).first()

        row = await eventually(review_due_row)
        assert (row.rule_id, row.due) == ("AR-DUE", within_months(issued, 12))
    finally:
        await annual_review.stop()
    linked_notes = [c.action for c in r.chronology() if c.action in ("annual-review-started", "case-linked")]
    assert linked_notes == ["case-linked", "annual-review-started"]
    assert not r.outbox("ehcna-la-late") and not r.outbox("escalation")


async def test_decision_not_to_assess_shows_the_right_to_appeal_and_closes(request_for):  # type: ignore[no-untyped-def]
    start, _ = request_for
    r = await start(None)
    today = await r.today()
    await r.at_step("awaiting-receipt")
    await r.received(today)
    decided = today + 30 * DAY
    await r.skip_to(decided)
    await r.decide("not_assess")
    assert await r.handle.result() == "not-assessed"

    case = r.case_row()
    assert (case.status, case.step) == ("closed", "closed")
    appeal = case.view["appeal_right"]
    mediation_by, appeal_by = within_months(decided, 2), within_months(decided, 2)
    assert (appeal["decision"], appeal["letter"]) == ("not_assess", decided.isoformat())
    assert (appeal["mediation_by"], appeal["appeal_by"]) == (mediation_by.isoformat(), appeal_by.isoformat())
    assert f"mediation advice by {mediation_by:%d %b %Y}" in case.next_action
    assert f"appeal to the tribunal by {appeal_by:%d %b %Y}" in case.next_action
    [told] = r.outbox("ehcna-appeal-right")
    assert told.recipients == [r.parent_email] and told.subject.startswith("Your right to appeal")
    [recorded] = r.chronology("appeal-right-recorded")
    assert "not to carry out an EHC needs assessment" in recorded.detail and "Regs 33" in recorded.detail
    found = r.rows()
    assert found["la-decision"].status == "met"
    assert found["no-plan-notice"].status == "cancelled" and found["final-plan"].status == "cancelled"
    assert r.pupil().sen_provision == "K"  # nothing changes on the register


async def test_exception_moves_the_date_with_its_reason(request_for, time_env):  # type: ignore[no-untyped-def]
    start, _ = request_for
    today = english_date(await time_env.get_current_time())
    r = await start(today)
    await r.at_step("awaiting-decision")
    old_due = today + 42 * DAY
    new_due = old_due + 28 * DAY
    reason = "The school was closed for four weeks during the decision period"
    await r.update(
        "record_exception", RecordException(actor=r.head, regulation="5(4)", reason=reason, new_due=new_due)
    )
    row = await eventually(lambda: (d := r.rows()["la-decision"]).due == new_due and d)
    assert (row.rule_id, row.status) == ("EHCNA-DECIDE", "pending")
    [recorded] = r.chronology("exception-recorded")
    assert recorded.actor == f"staff:{r.head.staff_id}"
    assert recorded.detail.startswith(f"Exception under Regs 5(4): {reason}")
    assert f"moves to {new_due:%d %b %Y}" in recorded.detail
    [moved] = await eventually(lambda: r.chronology("due-date-changed"))
    assert moved.actor == f"staff:{r.head.staff_id}"
    assert f"from {old_due:%d %b %Y} to {new_due:%d %b %Y}" in moved.detail and reason in moved.detail
    assert f"decide by {new_due:%d %b %Y}" in r.case_row().next_action
    assert r.case_row().view["exceptions"] == [
        {"regulation": "5(4)", "new_due": new_due.isoformat(), "reason": reason}
    ]

    # Past the old date nothing is late; the LA is chased a week before the new one.
    await r.skip_to(old_due + 3 * DAY)
    assert r.rows()["la-decision"].status == "pending"
    assert not r.outbox("escalation") and not r.outbox("ehcna-la-late")
    await r.skip_to(new_due - 6 * DAY)
    assert at_dates(await eventually(lambda: r.chronology("reminder-sent"))) == [new_due - 7 * DAY]
    await r.decide("assess")
    row = await eventually(lambda: (d := r.rows()["la-decision"]).status == "met" and d)
    assert row.due == new_due


async def test_refusals(request_for):  # type: ignore[no-untyped-def]
    start, _ = request_for
    r = await start(None)
    today = await r.today()
    await r.at_step("awaiting-receipt")
    by_teacher = LAReceived(actor=r.teacher, received_on=today)
    assert await r.refused("record_la_received", by_teacher) == "Forbidden"
    tomorrow = LAReceived(actor=r.sendco, received_on=today + DAY)
    assert await r.refused("record_la_received", tomorrow) == "Invalid"
    early = AssessDecision(actor=r.sendco, decision="assess", decided_on=today)
    assert await r.refused("record_assess_decision", early) == "Conflict"  # the LA has not got it yet

    await r.received(today)
    assert await r.refused("record_la_received", LAReceived(actor=r.sendco, received_on=today)) == "Conflict"
    final = FinalPlanIssued(actor=r.sendco, issued_on=today, needs=["SLCN"])
    assert await r.refused("record_issued_plan", final) == "Conflict"  # no assessment yet
    ask = AdviceRequested(actor=r.sendco, requested_on=today)
    assert await r.refused("record_advice_request", ask) == "Conflict"
    before = RecordException(actor=r.sendco, regulation="5(4)", reason="x", new_due=today + 10 * DAY)
    assert await r.refused("record_exception", before) == "Invalid"  # an exception never shortens
    later = RecordException(actor=r.sendco, regulation="13(3)", reason="x", new_due=today + 300 * DAY)
    assert await r.refused("record_exception", later) == "Conflict"  # the final plan is not awaited yet

    await r.skip_to(today + 3 * DAY)
    await r.decide("assess")
    await r.at_step("assessing")
    assert await r.refused("record_assess_decision", early) == "Conflict"  # already decided
    draft_early = DraftServed(actor=r.sendco, served_on=today - DAY)
    assert await r.refused("record_draft", draft_early) == "Invalid"  # before the LA received the request
    assert await r.refused("record_issued_plan", final) == "Conflict"  # the draft comes first
    sent = AdviceSent(actor=r.sendco, sent_on=today, summary="x")
    assert await r.refused("record_advice_sent", sent) == "Conflict"  # nobody asked for it
    reply = ConsultationReply(actor=r.sendco, replied_on=today, summary="x")
    assert await r.refused("record_consultation_reply", reply) == "Conflict"
    gone = RecordException(actor=r.sendco, regulation="5(4)", reason="x", new_due=today + 100 * DAY)
    assert await r.refused("record_exception", gone) == "Conflict"  # the decision is already made
    await r.update("record_draft", DraftServed(actor=r.sendco, served_on=today + DAY))
    await r.at_step("draft-plan")
    no_plan = NoPlan(actor=r.sendco, decided_on=today + 3 * DAY)
    assert await r.refused("record_no_plan", no_plan) == "Conflict"  # a draft was served
    assert not r.chronology("no-plan-recorded") and r.case_row().status == "open"
