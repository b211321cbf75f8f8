"""The EHCP annual review in time-skipping Temporal: every path of issue 3, year after year.

Each test asserts what people would see: the emails (outbox rows: template, recipients, subject; the
chronology entry's `at` dates the send), the deadline rows with their rule ids and statuses, and the
chronology. Facts are chosen relative to the test server's clock, which moves on from test to test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.annual_review import (
    AdviceReceived,
    AmendmentNotice,
    AnnualReviewInput,
    FinalPlan,
    LADecision,
    MeetingRecord,
    ParentComments,
    ParentViews,
    ReportDraft,
    RescheduleMeeting,
    SetMeeting,
    dispute_window,
)
from domain.dates import english_date, within_12_months, within_months
from domain.schemas import Actor, ApprovalDecision, Recipient
from domain.timelines import AnnualReviewFacts, annual_review_timeline
from store.casework import ChronologyEntry, Deadline, OutboxMessage
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually, people, until_idle
from workflows.annual_review import AnnualReview

DAY = dt.timedelta(days=1)
RECORDED = {  # the scenarios whose first run test_replay.py replays
    "test_on_time_year": "on_time",
    "test_rescheduled_meeting_replans_every_date_and_resends_invitations": "rescheduled",
    "test_year_6_phase_transfer_against_15_february": "phase_transfer_late_la_escalation_emails",
    # tests/workflows/test_annual_review_links.py: parents and agencies acting through emailed links
    "test_parents_and_agencies_take_only_the_actions_their_links_are_for": "link_answers",
}
EP = Recipient(kind="ep_service")
HEALTH = Recipient(kind="health")
SOCIAL_CARE = Recipient(kind="social_care")
ADVISERS = [HEALTH, SOCIAL_CARE, EP]
PARENT_EMAIL = "parent@example.org"
LA_EMAIL = "la_sen@example.org"
EVERYONE = {
    PARENT_EMAIL,
    "headteacher1@example.org",
    LA_EMAIL,
    "health@example.org",
    "social_care@example.org",
    "ep_service@example.org",
}


# --- reading what the case wrote ---------------------------------------------------------------------
def rows(engine, case_id: str) -> dict[str, Deadline]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return {d.key: d for d in s.exec(select(Deadline).where(Deadline.case_id == case_id))}


def recipients(messages: list[OutboxMessage]) -> set[str]:
    return {address for m in messages for address in m.recipients}


def at_dates(entries: list[ChronologyEntry]) -> list[dt.date]:
    return [english_date(e.at) for e in entries]


# --- driving a case ----------------------------------------------------------------------------------
@dataclass
class Review(CaseDriver):
    """One annual review case under test: the case driver and the annual review's steps."""

    def rows(self) -> dict[str, Deadline]:
        return rows(self.engine, self.case_id)

    def meeting(self, day: dt.date, reason: str = "") -> SetMeeting:
        return SetMeeting(
            actor=self.sendco,
            meeting_at=dt.datetime.combine(day, dt.time(10)),
            location="Room 4",
            breach_reason=reason,
        )

    async def set_meeting(self, day: dt.date, reason: str = "") -> None:
        await self.update("set_meeting", self.meeting(day, reason))
        await self.at_step("meeting-set")  # shown with the action; the invitations and requests follow
        await until_idle(self.handle)

    async def record_advice(self, adviser: Recipient, on: dt.date | None = None) -> None:
        on = on or await self.today()
        advice = AdviceReceived(
            actor=self.sendco, adviser=adviser, received_on=on, summary=f"{adviser.kind} advice"
        )
        await self.update("record_advice", advice)

    async def gather_advice(self) -> None:
        """The parents' views and every adviser's advice: the pack goes at once."""
        today = await self.today()
        await self.update(
            "record_parent_views", ParentViews(actor=self.sendco, received_on=today, views="Happy")
        )
        for adviser in ADVISERS:
            await self.record_advice(adviser)
        await eventually(lambda: self.chronology("advice-pack-sent"))

    async def hold_meeting(self, recommendation: str = "maintain", adulthood: str = "") -> None:
        record = MeetingRecord(
            actor=self.sendco,
            attended=[Recipient(kind="parent"), Recipient(kind="headteacher"), Recipient(kind="la_sen")],
            pupil_views="Likes maths",
            parent_views="Settled",
            outcomes_progress="Good progress on three of four outcomes",
            recommendation=recommendation,  # type: ignore[arg-type]
            proposed_changes="Update section F" if recommendation == "amend" else "",
            preparing_for_adulthood=adulthood,
        )
        await self.update("record_meeting", record)
        await self.at_step("report")

    async def send_report(self) -> None:
        """The SENDCo submits the report and the headteacher approves it: it goes out."""
        await self.update("submit_report", ReportDraft(actor=self.sendco, report="Report text"))
        approval = await eventually(self.pending_approval)
        await self.update(
            "decide_approval", ApprovalDecision(key=approval.key, approve=True, actor=self.head)
        )
        await self.at_step("awaiting-la-decision")

    async def decide(self, decision: str, notice: bool = False) -> None:
        today = await self.today()
        payload = LADecision(
            actor=self.sendco,
            decision=decision,  # type: ignore[arg-type]
            decided_on=today,
            amendment_notice_served=today if notice else None,
        )
        await self.update("record_la_decision", payload)

    async def next_cycle(self, cycle: int) -> None:
        await eventually(lambda: f"c{cycle}:set-meeting-date" in self.rows())

    async def through_the_meeting(self, meeting: dt.date, recommendation: str = "maintain") -> None:
        """Set the meeting, gather the advice, hold the meeting and send the approved report."""
        await self.set_meeting(meeting)
        await self.gather_advice()
        await self.skip_to(meeting)
        await self.hold_meeting(recommendation)
        await self.send_report()


@pytest.fixture
async def review(request, time_env, task_queue, new_case, engine, smtp, sendco, headteacher, teacher):  # type: ignore[no-untyped-def]
    """Start cases with `await review(facts)`; each is stopped after the test (RECORDED ones saved)."""
    cases = StartedCases(request, time_env, "annual_review", RECORDED)
    smtp.clear()

    async def start(facts: AnnualReviewFacts, **extra: Any) -> Review:
        case = new_case("annual_review")
        staff = people(sendco, headteacher, teacher)
        inp = AnnualReviewInput(
            case=case,
            facts=facts,
            started_by=staff["sendco"],
            optional_invitees=[EP],
            **extra,
        )
        handle = await time_env.client.start_workflow(
            AnnualReview.run, inp, id=case.workflow_id, task_queue=task_queue
        )
        r = cases.add(Review(env=time_env, engine=engine, case=case, handle=handle, **staff))
        await r.next_cycle(inp.cycle)
        return r

    yield start
    await cases.close()


def assert_rows_match_timeline(found: dict[str, Deadline], facts: AnnualReviewFacts, cycle: int = 1) -> None:
    """The preview's dates are the workflow's: each timeline step is a row with the same rule and date."""
    expected = {(e.step, e.rule_id, e.due) for e in annual_review_timeline(facts)}
    steps = {e[0] for e in expected}
    written = {
        (d.step, d.rule_id, d.due) for k, d in found.items() if k.startswith(f"c{cycle}:") and d.step in steps
    }
    assert written == expected


# --- the scenarios ---------------------------------------------------------------------------------
async def test_on_time_year(review, time_env, smtp, as_sendco):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    facts = AnnualReviewFacts(cycle_start=today - 300 * DAY, year_group=5)
    r = await review(facts)
    due = within_12_months(facts.cycle_start)
    case = r.step()
    assert case == "planning"
    planning = r.case_row()
    assert "Set the date of the annual review meeting" in planning.next_action
    found = r.rows()
    assert (found["c1:review-due"].rule_id, found["c1:review-due"].due) == ("AR-DUE", due)
    assert found["c1:set-meeting-date"].due == due - 8 * 7 * DAY
    view = as_sendco.get(f"/api/v1/cases/{r.case_id}").json()  # what the SENDCo sees
    assert view["step"] == "planning" and view["next_action"].startswith("Set the date of the annual review")
    assert (view["next_deadline"]["step"], view["next_deadline"]["rule_id"]) == (
        "set-meeting-date",
        "AR-ADVICE-REQUEST",
    )
    assert (
        "set-meeting" in view["actions"] and "record-la-decision" not in view["actions"]
    )  # only what can be done now

    # 2. Meeting set six weeks ahead: the case shows it in the SENDCo's answer, and what to do next in
    # words; invitations (.ics) to every invitee and advice requests to each adviser follow.
    meeting = today + 42 * DAY
    await r.update("set_meeting", r.meeting(meeting))
    answered = r.case_row()
    assert answered.step == "meeting-set"
    assert answered.next_action.startswith(
        "Record the advice as it arrives (still waiting for: health, social care, EP service)"
    )
    await until_idle(r.handle)
    invitations = r.outbox("ar-invitation")
    assert recipients(invitations) == EVERYONE and len(invitations) == 6
    assert all(
        m.subject.startswith(f"Invitation: annual review meeting on {meeting:%A} ") for m in invitations
    )
    [to_parent] = [m for m in smtp.messages if m["X-Send-Outbox-Key"].endswith("invite-1:parent")]
    ics = [p for p in to_parent.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(ics) == 1 and "SEQUENCE:0" in str(ics[0].get_content())
    requests = r.outbox("ar-advice-request")
    assert recipients(requests) == {"health@example.org", "social_care@example.org", "ep_service@example.org"}
    assert all(f"advice due {meeting - 14 * DAY:%A}" in m.subject for m in requests)
    assert at_dates(r.chronology("invitations-sent")) == [today]
    assert at_dates(r.chronology("advice-requested")) == [today]
    # The kit at work: both steps' emails went in one activity, every record write ran as a local one, and
    # each workflow task wrote once (the start; set-meeting with the step it moved on; the emails sent).
    scheduled, local = await r.activities()
    assert scheduled == ["send_emails"] and local == 3
    sent = [c.action for c in r.chronology() if c.action in ("invitations-sent", "advice-requested")]
    assert sent == ["invitations-sent", "advice-requested"]

    # 3. All advice in: the pack goes to every invitee at once, nobody missing.
    await r.gather_advice()
    pack = r.outbox("ar-advice-pack")
    assert recipients(pack) == EVERYONE and all("missing" not in m.subject for m in pack)
    assert not r.outbox("ar-advice-missing")

    # 4. Meeting held, 5. report approved and sent, 6. the LA decides on time: maintain.
    await r.skip_to(meeting)
    await r.hold_meeting("maintain")
    await r.send_report()
    assert recipients(r.outbox("ar-report")) == EVERYONE
    assert at_dates(r.chronology("report-sent")) == [meeting]
    await r.skip_to(meeting + 20 * DAY)
    await r.decide("maintain")
    await r.next_cycle(2)

    found = r.rows()
    statuses = {k: v.status for k, v in found.items() if k.startswith("c1:")}
    assert statuses == {
        "c1:review-due": "met",
        "c1:set-meeting-date": "met",
        "c1:request-advice": "met",
        "c1:send-invitations": "met",
        "c1:circulate-advice": "met",
        "c1:advice:health": "met",
        "c1:advice:social_care": "met",
        "c1:advice:ep_service": "met",
        "c1:send-report": "met",
        "c1:la-decision": "met",
        "c1:amend-proposal": "cancelled",
    }
    assert_rows_match_timeline(found, facts.model_copy(update={"meeting": meeting}))
    decided = meeting + 20 * DAY
    assert (found["c2:review-due"].rule_id, found["c2:review-due"].due) == (
        "AR-DUE",
        within_12_months(decided),
    )
    actions = [c.action for c in r.chronology()]
    for action in (
        "cycle-started",
        "meeting-set",
        "advice-recorded",
        "meeting-held",
        "report-submitted",
        "approval-approved",
        "la-decision-recorded",
        "review-concluded",
        "next-cycle",
    ):
        assert action in actions, action
    assert not r.chronology("reminder-sent") and not r.chronology("deadline-escalated")
    window = r.case_row().view["dispute_window"]
    assert window["mediation_by"] == dispute_window(decided).mediation_by.isoformat()


async def test_late_adviser_is_reminded_named_in_the_pack_and_escalated(review, time_env, smtp):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    r = await review(AnnualReviewFacts(cycle_start=today - 300 * DAY, year_group=5))
    meeting = today + 42 * DAY
    circulate = meeting - 14 * DAY
    await r.set_meeting(meeting)
    await r.record_advice(HEALTH)
    await r.record_advice(SOCIAL_CARE)

    # The EP is reminded a week and a day before the advice is due; the pack goes on the day, naming the gap.
    await r.skip_to(circulate)
    reminders = [m for m in r.outbox("reminder") if m.recipients == ["ep_service@example.org"]]
    assert len(reminders) == 2
    assert at_dates(r.chronology("reminder-sent")) == [circulate - 7 * DAY, circulate - DAY]
    pack = r.outbox("ar-advice-pack")
    assert recipients(pack) == EVERYONE and all("(1 still missing)" in m.subject for m in pack)
    [pack_to_parent] = [m for m in smtp.messages if m["X-Send-Outbox-Key"].endswith("advice-pack:parent")]
    text = pack_to_parent.get_body(("plain",)).get_content()
    assert "Still missing: the EP service" in text and "health advice" in text
    [sent] = r.chronology("advice-pack-sent")
    assert english_date(sent.at) == circulate and "missing: ep_service" in sent.detail
    missing = r.outbox("ar-advice-missing")
    assert recipients(missing) == {"sendco1@example.org", "headteacher1@example.org"}
    assert at_dates(r.chronology("advice-missing-notified")) == [circulate]
    assert "advice-missing" in r.case_row().flags
    assert r.rows()["c1:circulate-advice"].status == "met"

    # The day after, the EP's advice is overdue: the headteacher is told, the EP chased.
    await r.skip_to(circulate + 2 * DAY)
    found = r.rows()["c1:advice:ep_service"]
    assert (found.rule_id, found.status, found.due) == ("AR-ADVICE-REQUEST", "escalated", circulate)
    [escalation] = r.outbox("escalation")
    assert (
        escalation.recipients == ["headteacher1@example.org"]
        and "Overdue: Written advice" in escalation.subject
    )
    assert recipients(r.outbox("overdue")) == {"ep_service@example.org"}
    assert at_dates(r.chronology("deadline-escalated")) == [circulate + DAY]

    # The advice arrives late: recorded as completed late and sent on to every invitee.
    await r.record_advice(EP)
    await eventually(lambda: r.chronology("late-advice-circulated"))
    late = r.outbox("ar-advice-late")
    assert recipients(late) == EVERYONE and all(m.subject.startswith("Late advice") for m in late)
    found = await eventually(lambda: (d := r.rows()["c1:advice:ep_service"]).completed_at and d)
    assert found.status == "met_late"  # done late: shown as done, never as outstanding
    assert [c.action for c in r.chronology() if c.action == "deadline-completed-late"] == [
        "deadline-completed-late"
    ]


async def test_la_decides_late_is_chased_and_the_parent_told(review, time_env):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    facts = AnnualReviewFacts(cycle_start=today - 250 * DAY, year_group=5)
    r = await review(facts)
    meeting = today + 42 * DAY
    await r.through_the_meeting(meeting)
    la_due = meeting + 28 * DAY
    assert "the LA must decide by" in r.case_row().next_action

    await r.skip_to(la_due + 8 * DAY)  # a week late: breach, then a second escalation
    found = r.rows()["c1:la-decision"]
    assert (found.rule_id, found.due, found.status) == ("AR-LA-DECISION", la_due, "escalated")
    chase = [m for m in r.outbox("reminder") if m.recipients == [LA_EMAIL]]
    assert len(chase) == 1 and "The LA's decision" in chase[0].subject
    assert at_dates(r.chronology("reminder-sent")) == [la_due - 7 * DAY]
    escalations = r.outbox("escalation")
    assert [m.recipients for m in escalations] == [["headteacher1@example.org"]] * 2
    assert at_dates(r.chronology("deadline-escalated")) == [la_due + DAY, la_due + 8 * DAY]
    assert len([m for m in r.outbox("overdue") if m.recipients == [LA_EMAIL]]) == 2
    [late] = r.outbox("ar-la-late")
    assert late.recipients == [PARENT_EMAIL] and late.subject.startswith("The local authority is late")
    assert at_dates(r.chronology("la-late-notified")) == [la_due + DAY]
    assert "la-late-AR-LA-DECISION" in r.case_row().flags

    await r.skip_to(la_due + 10 * DAY)
    await r.decide("maintain")
    await r.next_cycle(2)
    found = r.rows()
    assert found["c1:la-decision"].status == "met_late" and found["c1:la-decision"].completed_at is not None
    assert found["c1:review-due"].status == "met"
    assert found["c2:review-due"].due == within_12_months(la_due + 10 * DAY)
    assert len(r.outbox("ar-la-late")) == 1  # told once; the chasing went on


async def test_amend_path_with_the_15_day_window_and_the_final_plan(review, time_env):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    facts = AnnualReviewFacts(cycle_start=today - 250 * DAY, year_group=7)
    r = await review(facts)
    meeting = today + 42 * DAY
    await r.through_the_meeting(meeting, "amend")
    assert recipients(r.outbox("ar-report")) == EVERYONE
    assert all("recommendation to amend" in m.subject for m in r.outbox("ar-report"))

    decided = meeting + 20 * DAY
    await r.skip_to(decided)
    await r.decide("amend")
    await r.at_step("amending")
    assert "proposed amendments" in r.case_row().next_action
    assert await r.refused("record_final_plan", FinalPlan(actor=r.sendco, issued_on=decided)) == "Conflict"

    served = decided + 5 * DAY
    await r.skip_to(served)
    await r.update("record_amendment_notice", AmendmentNotice(actor=r.sendco, served_on=served))
    await eventually(lambda: "c1:final-amended-plan" in r.rows())
    found = r.rows()
    assert (found["c1:amend-comments"].rule_id, found["c1:amend-comments"].due) == (
        "AR-AMEND-COMMENTS",
        served + 14 * DAY,
    )
    assert (found["c1:final-amended-plan"].rule_id, found["c1:final-amended-plan"].due) == (
        "AR-FINAL-AMENDED",
        served + 56 * DAY,
    )
    await eventually(lambda: "parents' comments" in r.case_row().next_action)

    await r.skip_to(served + 10 * DAY)
    comments = ParentComments(actor=r.sendco, received_on=served + 10 * DAY, summary="Agree")
    await r.update("record_parent_comments", comments)
    await r.skip_to(served + 40 * DAY)
    await r.update("record_final_plan", FinalPlan(actor=r.sendco, issued_on=served + 40 * DAY))
    await r.next_cycle(2)

    found = r.rows()
    for key in ("amend-proposal", "amend-comments", "final-amended-plan", "la-decision", "review-due"):
        assert found[f"c1:{key}"].status == "met", key
    assert_rows_match_timeline(
        found, facts.model_copy(update={"meeting": meeting, "amendment_notice": served})
    )
    assert found["c2:review-due"].due == within_12_months(decided)
    assert r.case_row().view["dispute_window"] is None
    actions = [c.action for c in r.chronology()]
    assert actions.index("amendment-notice-recorded") < actions.index("parent-comments-recorded")
    assert actions.index("parent-comments-recorded") < actions.index("final-plan-recorded")
    assert not r.outbox("ar-la-late") and not r.outbox("escalation")


async def transfer_window(env: WorkflowEnvironment, month: int, day: int) -> tuple[dt.date, int]:
    """A start day (moving the clock on if needed) and a transfer year whose PT date is 150-400 days ahead."""
    today = english_date(await env.get_current_time())
    year = today.year
    while dt.date(year, month, day) - today < 150 * DAY:
        year += 1
    pt = dt.date(year, month, day)
    if pt - today > 400 * DAY:
        start = pt - 300 * DAY
        await env.sleep(dt.datetime.combine(start, dt.time(9), dt.UTC) - await env.get_current_time())
        return start, year
    return today, year


async def test_year_6_phase_transfer_against_15_february(review, time_env):  # type: ignore[no-untyped-def]
    start, year = await transfer_window(time_env, 2, 15)
    pt = dt.date(year, 2, 15)
    latest = pt - 12 * 7 * DAY
    facts = AnnualReviewFacts(
        cycle_start=start - 30 * DAY, year_group=6, transfer="phase", transfer_year=year
    )
    r = await review(facts)
    found = r.rows()
    assert (found["c1:phase-transfer"].rule_id, found["c1:phase-transfer"].due) == ("PT-15FEB", pt)
    assert (found["c1:latest-meeting"].rule_id, found["c1:latest-meeting"].due) == (
        "PT-LATEST-MEETING",
        latest,
    )
    assert found["c1:set-meeting-date"].due == latest - 8 * 7 * DAY
    assert "(PT-LATEST-MEETING)" in r.case_row().next_action

    # The phase-transfer review is this year's review: a meeting after PT-LATEST-MEETING is refused.
    too_late = SetMeeting(actor=r.sendco, meeting_at=dt.datetime.combine(latest + DAY, dt.time(10)))
    assert await r.refused("set_meeting", too_late) == "Invalid"
    await r.through_the_meeting(latest, "amend")
    decided = latest + 20 * DAY
    await r.skip_to(decided)
    await r.decide("amend", notice=True)
    await eventually(lambda: "c1:final-amended-plan" in r.rows())
    await r.skip_to(decided + 7 * DAY)
    await r.update("record_parent_comments", ParentComments(actor=r.sendco, received_on=decided + 7 * DAY))

    # The LA misses AR-FINAL-AMENDED and then 15 February: both escalate; the late plan is a breach.
    final_due = decided + 56 * DAY
    issued = pt + 5 * DAY
    await r.skip_to(issued)
    await r.update("record_final_plan", FinalPlan(actor=r.sendco, issued_on=issued))
    await r.next_cycle(2)

    found = r.rows()
    assert found["c1:latest-meeting"].status == "met"
    for key in ("c1:phase-transfer", "c1:final-amended-plan"):
        assert found[key].status == "met_late" and found[key].completed_at is not None, key
    pt_escalations = [m for m in r.outbox("escalation") if "naming the next setting" in m.subject]
    assert recipients(pt_escalations) == {"headteacher1@example.org", LA_EMAIL}  # each their own copy
    escalated = [e for e in r.chronology("deadline-escalated") if "naming the next setting" in e.detail]
    assert english_date(escalated[0].at) == pt + DAY
    [breach] = r.chronology("final-plan-breach-notified")
    assert english_date(breach.at) == issued and "PT-15FEB" in breach.detail
    notices = r.outbox("ar-final-plan-breach")
    assert recipients(notices) == {"headteacher1@example.org", LA_EMAIL}
    assert all(m.subject.startswith("Phase transfer breach: final plan issued 5 days after") for m in notices)
    [late] = r.outbox("ar-la-late")
    assert late.recipients == [PARENT_EMAIL] and "final amended plan" in late.subject
    assert at_dates(r.chronology("la-late-notified")) == [final_due + DAY]
    assert "c1:final-plan-after-PT-15FEB" in r.case_row().flags
    assert_rows_match_timeline(
        found, facts.model_copy(update={"meeting": latest, "amendment_notice": decided})
    )
    assert "c2:phase-transfer" not in found and r.case_row().view["transfer"] == "none"


async def test_year_11_phase_transfer_against_31_march(review, time_env):  # type: ignore[no-untyped-def]
    start, year = await transfer_window(time_env, 3, 31)
    pt = dt.date(year, 3, 31)
    latest = pt - 12 * 7 * DAY
    facts = AnnualReviewFacts(
        cycle_start=start - 30 * DAY, year_group=11, transfer="post16", transfer_year=year
    )
    r = await review(facts)
    assert (r.rows()["c1:phase-transfer"].rule_id, r.rows()["c1:phase-transfer"].due) == ("PT-31MAR", pt)

    meeting = latest - 7 * DAY
    await r.set_meeting(meeting)
    await r.gather_advice()
    await r.skip_to(meeting)
    # Year 11: the review must cover preparing for adulthood.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await r.hold_meeting("amend")
    assert refused.value.cause.type == "Invalid"  # type: ignore[union-attr]
    assert "preparing for adulthood" in str(refused.value.cause)
    await r.hold_meeting("amend", adulthood="College course and travel training")
    await r.send_report()
    report = r.outbox("ar-report")
    [to_parent] = [m for m in report if m.recipients == [PARENT_EMAIL]]
    assert recipients(report) == EVERYONE and "recommendation to amend" in to_parent.subject

    decided = meeting + 21 * DAY
    await r.skip_to(decided)
    await r.decide("amend", notice=True)
    await eventually(lambda: "c1:final-amended-plan" in r.rows())
    issued = decided + 30 * DAY
    await r.skip_to(issued)
    await r.update("record_final_plan", FinalPlan(actor=r.sendco, issued_on=issued))
    await r.next_cycle(2)

    found = r.rows()
    assert issued <= pt
    for key in ("phase-transfer", "final-amended-plan", "la-decision", "latest-meeting", "review-due"):
        assert found[f"c1:{key}"].status == "met", key
    assert not r.outbox("ar-final-plan-breach") and not r.chronology("final-plan-breach-notified")
    # The parents did not comment: when their window closed the SENDCo was told (nobody else).
    assert [m.recipients for m in r.outbox("escalation")] == [["sendco1@example.org"]]
    assert found["c1:amend-comments"].status == "met_late" and found["c1:amend-comments"].completed_at
    assert at_dates(r.chronology("deadline-escalated")) == [decided + 15 * DAY]
    assert_rows_match_timeline(
        found, facts.model_copy(update={"meeting": meeting, "amendment_notice": decided})
    )
    held = r.chronology("meeting-held")[0]
    assert "preparing for adulthood considered" in held.detail


async def test_under_5_reviewed_on_a_6_month_cadence(review, time_env):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    facts = AnnualReviewFacts(cycle_start=today - 60 * DAY, year_group=-1, under5=True)
    r = await review(facts)
    due = within_months(facts.cycle_start, 6)
    found = r.rows()
    assert (found["c1:review-due"].rule_id, found["c1:review-due"].due) == ("AR-UNDER5", due)
    assert found["c1:set-meeting-date"].due == due - 8 * 7 * DAY
    assert "(AR-UNDER5)" in r.case_row().next_action

    meeting = today + 42 * DAY
    await r.through_the_meeting(meeting)
    decided = meeting + 10 * DAY
    await r.skip_to(decided)
    await r.decide("maintain")
    await r.next_cycle(2)

    found = r.rows()
    assert found["c1:review-due"].status == "met"
    assert (found["c2:review-due"].rule_id, found["c2:review-due"].due) == (
        "AR-UNDER5",
        within_months(decided, 6),
    )
    assert_rows_match_timeline(found, facts.model_copy(update={"meeting": meeting}))
    assert r.case_row().view["under5"] is True


async def test_rescheduled_meeting_replans_every_date_and_resends_invitations(review, time_env, smtp):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    facts = AnnualReviewFacts(cycle_start=today - 250 * DAY, year_group=5)
    r = await review(facts)
    first, moved = today + 42 * DAY, today + 56 * DAY
    await r.set_meeting(first)
    await r.record_advice(HEALTH)
    await r.skip_to(today + 3 * DAY)

    def moving(actor: Actor) -> RescheduleMeeting:
        when = dt.datetime.combine(moved, dt.time(14))
        return RescheduleMeeting(actor=actor, meeting_at=when, reason="The EP cannot come", location="Room 4")

    assert await r.refused("reschedule_meeting", moving(r.teacher)) == "Forbidden"
    await r.update("reschedule_meeting", moving(r.sendco))
    await eventually(lambda: len(r.chronology("advice-requested")) == 2)
    # The circulation and the two advisers still to answer (the report and the LA's clocks start later,
    # at the meeting: AR-REPORT and AR-LA-DECISION count from the meeting that is held).
    await eventually(lambda: len(r.chronology("due-date-changed")) == 3)
    await eventually(lambda: r.rows()["c1:amend-proposal"].due == moved + 28 * DAY)  # the last one written

    changed = [m for m in r.outbox("ar-invitation") if m.key.split(":")[-2] == "invite-2"]
    assert recipients(changed) == EVERYONE
    assert all(m.subject.startswith(f"Changed: annual review meeting now on {moved:%A}") for m in changed)
    [to_parent] = [m for m in smtp.messages if m["X-Send-Outbox-Key"].endswith("invite-2:parent")]
    [ics] = [p for p in to_parent.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert "SEQUENCE:1" in str(ics.get_content())
    again = [m for m in r.outbox("ar-advice-request") if "advice-request-2" in m.key]
    assert recipients(again) == {"social_care@example.org", "ep_service@example.org"}  # health has answered
    assert at_dates(r.chronology("invitations-sent")) == [today, today + 3 * DAY]

    moves = r.chronology("due-date-changed")
    assert len(moves) == 3 and all(m.actor == f"staff:{r.sendco.staff_id}" for m in moves)
    assert all("The EP cannot come" in m.detail for m in moves)
    found = r.rows()
    assert_rows_match_timeline(found, facts.model_copy(update={"meeting": moved}))
    assert found["c1:advice:ep_service"].due == moved - 14 * DAY
    assert found["c1:advice:health"].status == "met"

    # Nothing happens on the old dates: the pack waits for the new one.
    await r.skip_to(first - 13 * DAY)
    assert not r.outbox("ar-advice-pack") and not r.chronology("deadline-escalated")
    await r.record_advice(SOCIAL_CARE)
    await r.record_advice(EP)
    await eventually(lambda: r.chronology("advice-pack-sent"))
    assert all(f"on {moved:%A}" in m.subject for m in r.outbox("ar-advice-pack"))

    await r.skip_to(first)
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await r.hold_meeting()
    assert early.value.cause.type == "Conflict"  # type: ignore[union-attr]
    await r.skip_to(moved, hour=15)
    await r.hold_meeting()
    assert await r.refused("reschedule_meeting", moving(r.sendco)) == "Conflict"


async def test_two_consecutive_years_continue_as_new_from_the_la_decision(review, time_env):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    facts = AnnualReviewFacts(cycle_start=today - 250 * DAY, year_group=4)
    r = await review(facts)
    meeting1 = today + 42 * DAY
    await r.through_the_meeting(meeting1)
    decided1 = meeting1 + 10 * DAY
    await r.skip_to(decided1)
    await r.decide("maintain")
    await r.next_cycle(2)

    due2 = within_12_months(decided1)
    found = r.rows()
    assert (found["c2:review-due"].rule_id, found["c2:review-due"].due) == ("AR-DUE", due2)
    first_run = time_env.client.get_workflow_handle(
        r.case.workflow_id, run_id=r.handle.first_execution_run_id
    )
    assert (await first_run.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    facts2 = AnnualReviewFacts(**{**facts.model_dump(), "cycle_start": decided1, "year_group": 5})
    assert r.case_row().view["cycle"] == 2

    await r.skip_to(due2 - 70 * DAY)
    meeting2 = due2 - 28 * DAY
    await r.through_the_meeting(meeting2)
    decided2 = meeting2 + 7 * DAY
    await r.skip_to(decided2)
    await r.decide("maintain")
    await r.next_cycle(3)

    found = r.rows()
    assert found["c3:review-due"].due == within_12_months(decided2)
    assert_rows_match_timeline(found, facts.model_copy(update={"meeting": meeting1}), cycle=1)
    facts2 = facts2.model_copy(update={"year_group": r.case_row().view["year_group"] - 1})
    assert_rows_match_timeline(found, facts2.model_copy(update={"meeting": meeting2}), cycle=2)
    started = r.chronology("cycle-started")
    assert [english_date(c.at) for c in started] == [today, decided1, decided2]
    assert "review due by" in started[1].detail and started[1].actor == "engine"
    invitations = r.outbox("ar-invitation")
    assert len(invitations) == 12 and {m.key.split(":")[1] for m in invitations} == {"c1", "c2"}
    assert all(d.status in ("met", "cancelled") for k, d in found.items() if k.startswith(("c1:", "c2:")))


async def test_rejected_actions(review, time_env, smtp):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    facts = AnnualReviewFacts(cycle_start=today - 300 * DAY, year_group=5)
    r = await review(facts)
    due = within_12_months(facts.cycle_start)

    def meeting(day: dt.date, actor: Actor | None = None, reason: str = "") -> SetMeeting:
        when = dt.datetime.combine(day, dt.time(10))
        return SetMeeting(actor=actor or r.sendco, meeting_at=when, breach_reason=reason)

    assert await r.refused("set_meeting", meeting(due + DAY)) == "Invalid"  # after AR-DUE
    assert await r.refused("set_meeting", meeting(today + 10 * DAY)) == "Invalid"  # under 2 weeks' notice
    assert await r.refused("set_meeting", meeting(today + 30 * DAY, r.teacher)) == "Forbidden"
    decision = LADecision(actor=r.sendco, decision="maintain", decided_on=today)
    assert await r.refused("record_la_decision", decision) == "Conflict"  # nothing to decide on yet
    assert not r.chronology("meeting-set")

    # Accepted with a reason: flagged as a breach and the headteacher told.
    short = today + 10 * DAY
    await r.update("set_meeting", meeting(short, reason="Parent available only then"))
    await r.at_step("meeting-set")
    assert await r.refused("set_meeting", meeting(today + 30 * DAY)) == "Conflict"
    await eventually(lambda: r.chronology("meeting-breach-notified"))
    assert "meeting-breach" in r.case_row().flags
    [notice] = r.outbox("ar-meeting-breach")
    assert notice.recipients == ["headteacher1@example.org"] and notice.subject.startswith("Breach accepted")
    [sent] = [m for m in smtp.messages if m["X-Send-Outbox-Key"].endswith("meeting-breach-1:headteacher")]
    assert "(rule AR-INVITE: Regs 20(3))" in sent.get_body(("plain",)).get_content()
    [accepted] = r.chronology("meeting-set")
    assert "less than 2 weeks' notice" in accepted.detail and "Parent available only then" in accepted.detail
    pack = await eventually(lambda: r.outbox("ar-advice-pack"))  # the circulation date has passed: at once
    assert all("(3 still missing)" in m.subject for m in pack)

    # The report: only the headteacher approves; a rejection needs a comment and sends it back.
    await r.skip_to(short)
    await r.hold_meeting("amend")
    await r.update("submit_report", ReportDraft(actor=r.sendco, report="Draft"))
    assert await r.refused("submit_report", ReportDraft(actor=r.sendco, report="Again")) == "Conflict"
    approval = await eventually(lambda: r.pending_approval())
    by_sendco = ApprovalDecision(key=approval.key, approve=True, actor=r.sendco)
    assert await r.refused("decide_approval", by_sendco) == "Forbidden"
    by_teacher = ApprovalDecision(key=approval.key, approve=True, actor=r.teacher)
    assert await r.refused("decide_approval", by_teacher) == "Forbidden"
    bare = ApprovalDecision(key=approval.key, approve=False, actor=r.head)
    assert await r.refused("decide_approval", bare) == "Invalid"
    back = ApprovalDecision(key=approval.key, approve=False, comment="Add the EP's view", actor=r.head)
    await r.update("decide_approval", back)
    await r.at_step("report")
    assert not r.outbox("ar-report")
    await r.send_report()
    assert recipients(r.outbox("ar-report")) == EVERYONE

    # The LA's decision, recorded twice.
    await r.decide("amend")
    assert await r.refused("record_la_decision", decision) == "Conflict"
    future = AmendmentNotice(actor=r.sendco, served_on=(await r.today()) + 3 * DAY)
    assert await r.refused("record_amendment_notice", future) == "Invalid"
    assert len(r.chronology("la-decision-recorded")) == 1


async def test_cease_ends_the_case_with_the_dispute_window_shown(review, time_env):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    r = await review(AnnualReviewFacts(cycle_start=today - 250 * DAY, year_group=10))
    meeting = today + 42 * DAY
    await r.set_meeting(meeting)
    await r.update(
        "record_advice", AdviceReceived(actor=r.sendco, adviser=HEALTH, received_on=today, summary="x")
    )
    waiting = await eventually(lambda: "social care, EP service" in (c := r.case_row()).next_action and c)
    assert "still waiting for: social care, EP service" in waiting.next_action
    await r.update(
        "record_advice", AdviceReceived(actor=r.sendco, adviser=SOCIAL_CARE, received_on=today, summary="x")
    )
    await r.update(
        "record_advice", AdviceReceived(actor=r.sendco, adviser=EP, received_on=today, summary="x")
    )
    await eventually(lambda: r.chronology("advice-pack-sent"))
    await r.skip_to(meeting)
    await r.hold_meeting("cease", adulthood="Moving to an apprenticeship")
    await r.send_report()
    decided = meeting + 14 * DAY
    await r.skip_to(decided)
    await r.decide("cease")
    assert await r.handle.result() == "ceased"

    case = r.case_row()
    assert case.status == "closed" and case.step == "closed"
    window = dispute_window(decided)
    assert case.view["dispute_window"]["mediation_by"] == window.mediation_by.isoformat()
    assert case.view["dispute_window"]["appeal_by"] == window.appeal_by.isoformat()
    assert f"mediation by {window.mediation_by:%d %b %Y}" in case.next_action
    found = r.rows()
    assert not any(k.startswith("c2:") for k in found)
    assert found["c1:amend-proposal"].status == "cancelled" and found["c1:la-decision"].status == "met"
    assert at_dates(r.chronology("case-closed")) == [decided]
