"""High needs funding and SENIF applications in time-skipping Temporal: evidence to award reviews.

Each test gives a pupil of its own what the engine would hold (a SEN support case with reviewed support
plans, an intervention on the provision map) and asserts what people see: the checklist with where each
piece came from, the amount asked and its working, the emails (outbox rows and the message on the wire),
the deadline rows with their rule ids, dates and statuses, the chronology, and the award rows the
headteacher's funding page reads. Dates are relative to the test server's clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from domain.dates import (
    SchoolYearCalendar,
    add_months,
    add_weeks,
    english_date,
    english_moment,
    last_weekday_on_or_before,
)
from domain.funding_application import (
    AwardReview,
    CheckEvidence,
    ConsentGiven,
    EvidenceReceived,
    FundingApplicationInput,
    FundingDecision,
    NeedsAssessmentInstead,
    Reapplication,
    Resubmission,
    SignOffRequest,
    Submission,
    award_end,
    award_review_terms,
    funding_rules,
)
from domain.schemas import ApprovalDecision, CaseRef
from store import case_service, chronology
from store.casework import Case, Deadline
from store.funding import FundingAward
from store.provision import Intervention, PlacedIntervention
from store.provision_service import school_year_label, school_year_of
from store.register import Parent, Pupil, PupilParent, School
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually, people
from workflows.deadlines import REMIND_AT
from workflows.funding_application import FundingApplication

DAY = dt.timedelta(days=1)
PROCESS = "funding_application"
RECORDED = {  # the scenarios whose first run tests/workflows/test_replay.py replays
    "test_a_complete_application_approved_with_termly_reviews_and_a_reapplication_reminder": "approved",
    "test_a_submission_refused_for_missing_evidence_then_completed": "refused_then_completed",
    "test_a_late_la_decision_is_chased_then_escalated": "late_decision",
    "test_a_decline_then_a_resubmission_then_a_needs_assessment_request": "declined",
    "test_a_senif_application_for_an_early_years_child": "senif",
}
HEAD_EMAIL = "headteacher1@example.org"
SENDCO_EMAIL = "sendco1@example.org"
LA_EMAIL = "la_sen@example.org"  # the Kent SEN team of tests/conftest.py's `pupil` fixture


def long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def short(d: dt.date) -> str:
    return f"{d:%d %b %Y}"


@dataclass
class Application(CaseDriver):
    """One pupil's funding application under test, with what the engine holds for the pupil."""

    parent_email: str
    support_case: str
    calendar: SchoolYearCalendar
    kind: str

    def view(self) -> dict[str, Any]:
        return self.case_row().view

    def rows(self) -> dict[str, Deadline]:
        with Session(self.engine) as s:
            return {d.key: d for d in s.exec(select(Deadline).where(Deadline.case_id == self.case_id))}

    def awards(self) -> list[FundingAward]:
        with Session(self.engine) as s:
            query = select(FundingAward).where(FundingAward.case_id == self.case_id)
            return list(s.exec(query.order_by(FundingAward.attempt)))

    def held(self) -> list[str]:
        return self.view()["evidence_held"]

    def missing(self) -> list[str]:
        return self.view()["evidence_missing"]

    async def refusal(self, name: str, payload: Any) -> tuple[str, str]:
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await self.handle.execute_update(name, payload)
        cause = err.value.cause
        return cause.type, cause.message  # type: ignore[union-attr]

    async def add_review(self, on: dt.date) -> None:
        """A support plan reviewed on the pupil's SEN support case, as the graduated approach records it."""
        with Session(self.engine) as s:
            chronology.append(
                s,
                case_id=self.support_case,
                actor=f"staff:{self.sendco.staff_id}",
                action="review-recorded",
                detail="Review: Outcome 1: less than expected. Decision: another cycle of SEN support",
                at=dt.datetime.combine(on, dt.time(12), dt.UTC),
            )
            s.commit()

    async def placed_this_school_year(self) -> None:
        """The pupil's intervention placed again if the school year has turned since the case began."""
        today = await self.today()
        with Session(self.engine) as s:
            placed = list(
                s.exec(select(PlacedIntervention).where(PlacedIntervention.case_id == self.support_case))
            )
            if all(school_year_of(p.placed_on) == school_year_of(today) for p in placed[-1:]):
                return
            last = placed[-1]
            again = last.model_copy(update={"id": None, "cycle": last.cycle + 1, "placed_on": today})
            s.add(PlacedIntervention.model_validate(again.model_dump()))
            s.commit()

    async def complete(self, item: str = "lift-outcome") -> None:
        today = await self.today()
        await self.update("record_consent", ConsentGiven(actor=self.sendco, given_on=today))
        received = EvidenceReceived(
            actor=self.sendco, item=item, received_on=today, description="LIFT outcome"
        )
        await self.update("record_evidence", received)
        await eventually(lambda: not self.missing())

    async def sign_off(self, approve: bool = True, comment: str = "") -> None:
        await self.update("request_sign_off", SignOffRequest(actor=self.sendco))
        approval = await eventually(self.pending_approval)
        decision = ApprovalDecision(key=approval.key, approve=approve, comment=comment, actor=self.head)
        await self.update("decide_approval", decision)
        await self.at_step("ready" if approve else "evidence")

    async def submit(self, method: str = "email", reference: str = "") -> dt.date:
        await self.update("submit", Submission(actor=self.sendco, method=method, reference=reference))  # type: ignore[arg-type]
        await self.at_step("submitted")
        await eventually(lambda: self.awards() and self.awards()[-1].status == "pending")
        return await self.today()

    async def decide(self, outcome: str, amount: float | None = None, reason: str = "") -> FundingDecision:
        today = await self.today()
        decision = FundingDecision(
            actor=self.sendco,
            outcome=outcome,  # type: ignore[arg-type]
            decided_on=today,
            amount=amount,
            starts_on=today if outcome != "declined" else None,
            reason=reason,
        )
        await self.update("record_decision", decision)
        return decision


@pytest.fixture
async def application_for(
    request, time_env, task_queue, engine, school: School, smtp, sendco, headteacher, teacher, pupil
):  # type: ignore[no-untyped-def]
    """`start()` opens an application for a new pupil; each case is stopped after the test."""
    cases = StartedCases(request, time_env, PROCESS, RECORDED)
    smtp.clear()

    async def start(
        kind: str = "top_up",
        reviews: int = 2,
        cost_per_week: float = 250.0,
        weeks: int = 38,
        age_years: int = 9,
        year_group: int = 4,
    ) -> Application:
        today = english_date(await time_env.get_current_time())
        parent_email = f"parent-{uuid.uuid4().hex[:8]}@example.org"
        with Session(engine, expire_on_commit=False) as s:
            child = Pupil(
                school_id=school.id,
                legal_name="Kit Example",
                date_of_birth=add_months(today, -12 * age_years - 3),
                year_group=year_group,
                sen_provision="K",
                needs=["SLCN"],
                local_authority="Kent",
            )
            parent = Parent(name="Lee Example", email=parent_email)
            therapy = Intervention(
                school_id=school.id,
                name="Speech therapy",
                delivery="individual",
                sessions_per_week=3,
                weeks=weeks,
                cost_per_week=cost_per_week,
            )
            s.add_all([child, parent, therapy])
            s.commit()
            s.add(PupilParent(pupil_id=child.id, parent_id=parent.id))
            support = case_service.open_case(
                s,
                case_id=str(uuid.uuid4()),
                process="graduated_approach",
                pupil_id=child.id,
                school_id=school.id,
                started_by=sendco[0].id,
                facts={},
            )
            s.add(
                PlacedIntervention(
                    school_id=school.id,
                    intervention_id=therapy.id,
                    pupil_id=child.id,
                    case_id=support.id,
                    cycle=1,
                    sessions_per_week=3,
                    weeks=weeks,
                    placed_on=today,
                )
            )
            s.commit()
            case = case_service.open_case(
                s,
                case_id=str(uuid.uuid4()),
                process=PROCESS,
                pupil_id=child.id,
                school_id=school.id,
                started_by=sendco[0].id,
                facts={"kind": kind, "year_group": year_group},
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
        r = Application(
            env=time_env,
            engine=engine,
            case=ref,
            handle=None,  # type: ignore[arg-type]
            parent_email=parent_email,
            support_case=support.id,
            calendar=SchoolYearCalendar.from_school(calendar.terms, calendar.inset_days),
            kind=kind,
            **staff,
        )
        for n in range(reviews):
            await r.add_review(today - (90 - 60 * n) * DAY)
        inp = FundingApplicationInput(
            case=ref,
            started_by=staff["sendco"],
            kind=kind,  # type: ignore[arg-type]
            year_group=year_group,
            needs=["SLCN"],
            summary="Daily 1:1 speech and language support",
        )
        r.handle = await time_env.client.start_workflow(
            FundingApplication.run, inp, id=ref.workflow_id, task_queue=task_queue
        )
        cases.add(r)
        await eventually(lambda: r.view().get("working"))
        return r

    yield start, cases
    await cases.close()


def linked_case(r: Application, process: str, cases: StartedCases) -> Case:
    """The case this one opened for the pupil; its workflow is stopped after the test."""
    with Session(r.engine) as s:
        [linked] = [
            c
            for c in s.exec(select(Case).where(Case.process == process))
            if c.facts.get("linked_from") == r.case_id
        ]
    ref = CaseRef(
        case_id=linked.id,
        workflow_id=linked.workflow_id,
        process=process,
        pupil_id=linked.pupil_id,
        school_id=linked.school_id,
    )
    handle = r.env.client.get_workflow_handle(linked.workflow_id)
    # Stopped before the application, so a recorded scenario's saved history stays the application's own.
    cases.started.insert(
        0,
        CaseDriver(
            env=r.env,
            engine=r.engine,
            case=ref,
            handle=handle,
            sendco=r.sendco,
            head=r.head,
            teacher=r.teacher,
        ),
    )
    return linked


def sendco_reminder_days(r: Application, due: dt.date) -> list[dt.date]:
    """The days the deadline engine reminds the SENDCo: 7 days and 1 day before, on a working day."""
    working = r.case.calendar.sendco_working_days
    return sorted({last_weekday_on_or_before(due - n * DAY, working) for n in (7, 1)})


def case_row(r: Application, case_id: str) -> Case:
    with Session(r.engine) as s:
        found = s.get(Case, case_id)
        assert found is not None
        return found


WORKING = [
    "Speech therapy (individual): £250.00 a week for 38 weeks = £9,500.00",
    "Less the school's notional SEN threshold £6,000.00 (HNF-THRESHOLD): £3,500.00 asked for",
]


# --- the scenarios ---------------------------------------------------------------------------------
async def test_a_complete_application_approved_with_termly_reviews_and_a_reapplication_reminder(
    application_for, smtp
):  # type: ignore[no-untyped-def]
    start, cases = application_for
    r = await start()
    today = await r.today()

    # The checklist from Kent's requirements: what the engine holds is attached with its source.
    support = f"SEN support case {r.support_case[:8]}: support plan reviewed"
    assert r.held() == [
        "The last two reviewed support plans (assess, plan, do, review): "
        f"{support} {short(today - 30 * DAY)}; {support} {short(today - 90 * DAY)}",
        f"The costed provision map: Provision map {school_year_label(school_year_of(today))}: £9,500.00",
    ]
    assert r.missing() == [
        "The LIFT outcome or a specialist report (EP, specialist teacher): not recorded yet "
        "(record it as lift-outcome)",
        "The parents' signed consent to the application: the parents have not given their consent yet",
    ]
    view = r.view()
    assert (view["amount_asked"], view["costed_provision"], view["threshold"]) == (
        "£3,500.00",
        "£9,500.00",
        "£6,000.00",
    )
    assert view["working"] == (
        f"{WORKING[0]}; Provision map {school_year_label(school_year_of(today))}: total £9,500.00; "
        f"{WORKING[1]}"
    )
    assert view["funding"] == "high needs top-up funding"
    assert r.case_row().next_action == (
        "Complete the evidence for the LA. Still missing: The LIFT outcome or a specialist report (EP, "
        "specialist teacher); The parents' signed consent to the application"
    )

    # The parents are asked for consent, chased by a deadline (HNF-EVIDENCE, Kent's 10 days).
    [consent] = await eventually(lambda: r.outbox("hnf-consent"))
    assert consent.recipients == [r.parent_email]
    consent_due = today + 10 * DAY
    assert consent.subject.startswith(
        f"Your consent, please, by {long_date(consent_due)}: an application for Kit's funding"
    )
    row = (await eventually(lambda: r.rows().get("c1:consent"))) and r.rows()["c1:consent"]
    assert (row.rule_id, row.due, row.owner, row.status) == ("HNF-EVIDENCE", consent_due, "parent", "pending")

    # Evidence completed, signed off by the headteacher (who sees the evidence and the amount), submitted.
    await r.complete()
    await r.update("request_sign_off", SignOffRequest(actor=r.sendco, note="For the January panel"))
    approval = await eventually(r.pending_approval)
    assert approval.summary.startswith("Amount asked: £3,500.00. Working: Speech therapy (individual)")
    assert (
        "The last two reviewed support plans (assess, plan, do, review): "
        f"SEN support case {r.support_case[:8]}" in approval.summary
    )
    assert (
        "The LIFT outcome or a specialist report (EP, specialist teacher): Recorded by the SENDCo: "
        "LIFT outcome" in approval.summary
    )
    assert approval.summary.endswith("Note from the SENDCo: For the January panel")
    [asked] = await eventually(lambda: r.outbox("approval-request"))
    assert asked.recipients == [HEAD_EMAIL]
    await r.update("decide_approval", ApprovalDecision(key=approval.key, approve=True, actor=r.head))
    await r.at_step("ready")
    assert r.rows()["c1:consent"].status == "met"
    submitted = await r.submit()
    [sent] = await eventually(lambda: r.outbox("hnf-submission"))
    assert sent.recipients == [LA_EMAIL]
    assert sent.subject.startswith("Application for high needs top-up funding: £3,500.00 asked for (KE, case")
    [wire] = smtp.to(LA_EMAIL)
    body = wire.get_body(preferencelist=("plain",)).get_content()
    assert "for Kent's High Needs Funding team" in body
    for line in WORKING:
        assert f"- {line}" in body
    assert f"SEN support case {r.support_case[:8]}: support plan reviewed {short(today - 30 * DAY)}" in body
    assert (
        f"What the support plan reviews found:\r\n- {short(today - 30 * DAY)}: Review: Outcome 1: less than "
        "expected. Decision: another cycle of SEN support\r\n"
    ) in body
    [pending] = r.awards()
    assert (pending.status, pending.asked, pending.awarded, pending.submitted_on) == (
        "pending",
        3500.0,
        None,
        submitted,
    )
    decision_row = await eventually(lambda: r.rows().get("c1:la-decision"))
    assert (decision_row.rule_id, decision_row.due, decision_row.owner) == (
        "HNF-DECISION",
        add_weeks(submitted, 6),
        "la_sen",
    )
    assert r.case_row().next_action == (
        f"Record the LA's decision when it comes: it aims to decide by {short(add_weeks(submitted, 2))} "
        "(HNF-DECISION)"
    )

    # Approved in full: the amount and dates kept, the parents and the headteacher told.
    await r.skip_to(submitted + 5 * DAY)
    decided_at = await r.env.get_current_time()
    decision = await r.decide("approved", 3500.0)
    await r.at_step("awarded")
    starts = decision.starts_on
    assert starts is not None
    ends = award_end(starts, 12)
    award = await eventually(lambda: (a := r.awards()[0]).status == "approved" and a)
    assert (award.awarded, award.starts_on, award.ends_on, award.decided_on) == (3500.0, starts, ends, starts)
    told = await eventually(lambda: r.outbox("hnf-decision"))
    assert sorted(m.recipients[0] for m in told) == sorted([r.parent_email, HEAD_EMAIL])
    assert told[0].subject.startswith(f"Funding approved in full: £3,500.00 from {long_date(starts)}")
    assert r.rows()["c1:la-decision"].status == "met"
    [recorded] = r.chronology("decision-recorded")
    assert recorded.detail == (
        f"Approved in full on {short(starts)}: £3,500.00 awarded of £3,500.00 asked, from {short(starts)} to "
        f"{short(ends)}"
    )

    # Termly reviews through the award, and the reapplication reminder 8 weeks before it ends (HNF-AWARD).
    terms = award_review_terms(starts, ends, r.calendar)
    assert len(terms) >= 3
    rows = await eventually(lambda: len(r.rows()) >= 3 + len(terms) and r.rows())
    for label, due in terms:
        row = rows[f"c1:award-review:{label}"]
        assert (row.step, row.rule_id, row.due, row.owner) == ("award-review", "HNF-AWARD", due, "sendco")
    reapply_due = add_weeks(ends, -8)
    assert (rows["c1:reapply"].rule_id, rows["c1:reapply"].due, rows["c1:reapply"].owner) == (
        "HNF-AWARD",
        reapply_due,
        "sendco",
    )
    events = sorted([(due, "review", label) for label, due in terms] + [(reapply_due, "reapply", "")])
    for due, what, label in events:
        await r.skip_to(due)
        if what == "review":
            # Reminded 7 days and 1 day before, on the SENDCo's working days, from when the award began.
            expected = [d for d in sendco_reminder_days(r, due) if english_moment(d, REMIND_AT) >= decided_at]
            reminders = [m for m in r.outbox("reminder") if f"in the {label} term" in m.subject]
            assert len(reminders) == len(expected) and all(m.recipients == [SENDCO_EMAIL] for m in reminders)
            note = AwardReview(actor=r.sendco, reviewed_on=due, note="Speech targets on track")
            assert await r.update("record_award_review", note) == label
            await eventually(lambda label=label: r.rows()[f"c1:award-review:{label}"].status == "met")
        else:
            reminders = [m for m in r.outbox("reminder") if "Reapply for funding" in m.subject]
            assert reminders and reminders[0].subject.startswith(
                f"Reminder: Reapply for funding before the award ends due {long_date(reapply_due)}"
            )
            assert all(m.recipients == [SENDCO_EMAIL] for m in reminders)
            await r.update("reapply", Reapplication(actor=r.sendco, summary="Continue the 1:1 support"))
            await eventually(lambda: r.rows()["c1:reapply"].status == "met")
            linked = linked_case(r, PROCESS, cases)
            [opened] = r.chronology("reapplication-opened")
            assert opened.detail == (
                f"Reapplication opened as case {linked.id[:8]} before the award ends on {short(ends)}"
            )
            # The next application holds this one's LIFT report, named so; it asks for consent afresh.
            next_case = await eventually(lambda i=linked.id: (c := case_row(r, i)).view and c)
            assert (
                "The LIFT outcome or a specialist report (EP, specialist teacher): Recorded by the SENDCo: "
                f"LIFT outcome (from application {r.case_id[:8]}), {short(today)}"
            ) in next_case.view["evidence_held"]
            assert any(
                m.startswith("The parents' signed consent") for m in next_case.view["evidence_missing"]
            )
    assert [e.detail.split(":")[0] for e in r.chronology("award-reviewed")] == [
        f"Review of the {label} term on {short(due)}" for label, due in terms
    ]
    assert not r.outbox("escalation")

    # The award ends: the case closes.
    await r.skip_to(ends + DAY)
    closed = await r.at_step("closed")
    assert closed.status == "closed"
    assert (await r.handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_a_submission_refused_for_missing_evidence_then_completed(application_for):  # type: ignore[no-untyped-def]
    start, _ = application_for
    r = await start(reviews=1)
    today = await r.today()
    assert r.missing()[0] == (
        "The last two reviewed support plans (assess, plan, do, review): 1 of 2 reviewed support plans held"
    )

    # Refused, with the reason, while evidence is missing.
    kind, message = await r.refusal("submit", Submission(actor=r.sendco))
    assert kind == "Conflict"
    assert message == (
        "The application cannot go to the LA yet: the evidence is not complete. Still missing: The last two "
        "reviewed support plans (assess, plan, do, review) (1 of 2 reviewed support plans held); The LIFT "
        "outcome or a specialist report (EP, specialist teacher) (not recorded yet); The parents' signed "
        "consent to the application (the parents have not given their consent yet)"
    )
    kind, message = await r.refusal("request_sign_off", SignOffRequest(actor=r.sendco))
    assert kind == "Conflict" and message.startswith("The headteacher cannot sign it off yet")
    assert await r.refused("submit", Submission(actor=r.teacher)) == "Forbidden"
    wrong = EvidenceReceived(actor=r.sendco, item="costed-provision", received_on=today, description="x")
    kind, message = await r.refusal("record_evidence", wrong)
    assert kind == "Invalid" and "lift-outcome" in message

    # The parents do not answer: reminded, then the SENDCo told and the parents chased (HNF-EVIDENCE).
    consent_due = today + 10 * DAY
    await r.skip_to(consent_due + DAY, hour=12)
    [reminder] = await eventually(lambda: r.outbox("reminder"))
    assert reminder.recipients == [r.parent_email]
    [escalated] = await eventually(lambda: r.outbox("escalation"))
    assert escalated.recipients == [SENDCO_EMAIL]
    [chased] = await eventually(lambda: r.outbox("overdue"))
    assert chased.recipients == [r.parent_email]
    assert await eventually(lambda: r.rows()["c1:consent"].status == "escalated")

    # A second support plan is reviewed; the SENDCo asks the engine to look again; the rest is recorded.
    await r.add_review(await r.today())
    await r.placed_this_school_year()  # the provision map is costed for the school year it is now
    await r.update("check_evidence", CheckEvidence(actor=r.sendco))
    await eventually(lambda: len(r.missing()) == 2)
    await r.complete()
    assert await eventually(lambda: r.rows()["c1:consent"].status == "met_late")

    # Still refused without the headteacher's sign-off; a sign-off sent back, then given.
    kind, message = await r.refusal("submit", Submission(actor=r.sendco))
    assert (kind, message) == (
        "Conflict",
        "The application cannot go to the LA yet: the headteacher has not signed it off. Ask for the "
        "sign-off first",
    )
    await r.sign_off(approve=False, comment="Add the attendance figures to the summary")
    assert (
        r.case_row().next_action
        == "The evidence is complete: ask the headteacher to sign the application off"
    )
    await r.sign_off()

    # Submitted on the LA's portal: recorded with its reference, no email to the LA.
    await r.submit(method="portal", reference="KCC-HNF-2291")
    [portal] = r.chronology("application-submitted")
    assert portal.detail.endswith("reference KCC-HNF-2291")
    assert portal.actor == f"staff:{r.sendco.staff_id}"
    assert not r.outbox("hnf-submission")
    assert r.view()["portal_reference"] == "KCC-HNF-2291"
    assert [e.action for e in r.chronology() if e.action.startswith("approval-")] == [
        "approval-requested",
        "approval-rejected",
        "approval-requested",
        "approval-approved",
    ]


async def test_a_late_la_decision_is_chased_then_escalated(application_for, smtp):  # type: ignore[no-untyped-def]
    start, _ = application_for
    r = await start()
    await r.complete()
    await r.sign_off()
    submitted = await r.submit()
    target, limit = add_weeks(submitted, 2), add_weeks(submitted, 6)

    # At the LA's target (2 weeks, HNF-DECISION): the LA is chased, nobody else told yet.
    await r.skip_to(target, hour=12)
    [chase] = await eventually(lambda: r.outbox("hnf-chase"))
    assert chase.recipients == [LA_EMAIL]
    assert chase.subject.startswith(
        f"Decision awaited: the application for high needs top-up funding sent {long_date(submitted)}"
    )
    [wire] = [m for m in smtp.messages if m["X-Send-Outbox-Key"] == chase.key]
    text = wire.get_body(preferencelist=("plain",)).get_content()
    assert f"Your target for a decision was {long_date(target)}" in text
    assert f"If there is no decision by {long_date(limit)}, the headteacher will be told." in text
    assert not r.outbox("escalation")
    assert r.rows()["c1:la-decision"].status == "pending"

    # At 6 weeks: escalated to the headteacher, the LA chased again.
    await r.skip_to(limit + DAY, hour=12)
    [escalation] = await eventually(lambda: r.outbox("escalation"))
    assert escalation.recipients == [HEAD_EMAIL]
    assert escalation.subject.startswith("Overdue: The LA's decision on the funding application, 1 day late")
    [overdue] = await eventually(lambda: r.outbox("overdue"))
    assert overdue.recipients == [LA_EMAIL]
    assert await eventually(lambda: r.rows()["c1:la-decision"].status == "escalated")
    assert len(r.outbox("hnf-chase")) == 1

    # The decision arrives late: met late, the award runs.
    await r.decide("approved", 3500.0)
    await r.at_step("awarded")
    assert await eventually(lambda: r.rows()["c1:la-decision"].status == "met_late")
    [late] = r.chronology("deadline-completed-late")
    assert late.detail.startswith("The LA's decision on the funding application: done late")


async def test_a_decline_then_a_resubmission_then_a_needs_assessment_request(application_for, smtp):  # type: ignore[no-untyped-def]
    start, cases = application_for
    r = await start()
    await r.complete()
    await r.sign_off()
    await r.submit()
    await r.decide("declined", reason="The provision is within what SEN support should give")
    await r.at_step("declined")
    [award] = await eventually(lambda: (a := r.awards()) and a[0].status == "declined" and a)
    assert (award.reason, award.awarded) == ("The provision is within what SEN support should give", None)
    told = await eventually(lambda: r.outbox("hnf-decision"))
    assert told[0].subject.startswith("Funding application declined")
    assert r.case_row().next_action.startswith("The LA declined the application: resubmit it")

    # Resubmitted: attempt 2 keeps the consent and the reports; it needs the sign-off again.
    await r.update("resubmit_application", Resubmission(actor=r.sendco, note="Adding the EP report"))
    await eventually(lambda: r.view().get("attempt") == 2 and r.step() == "evidence")
    assert len(r.outbox("hnf-consent")) == 1
    assert r.missing() == [] and len(r.held()) == 4
    kind, message = await r.refusal("submit", Submission(actor=r.sendco))
    assert kind == "Conflict" and "has not signed it off" in message
    await r.sign_off()
    await r.submit()
    second = await eventually(lambda: len(r.outbox("hnf-submission")) == 2 and r.outbox("hnf-submission")[1])
    assert second.key.endswith(":c2:submission:la_sen")
    [wire] = [m for m in smtp.messages if m["X-Send-Outbox-Key"] == second.key]
    assert (
        "It is a resubmission (attempt 2). The reasons the LA gave when it declined it before: The provision "
        "is within what SEN support should give"
    ) in wire.get_body(preferencelist=("plain",)).get_content()
    assert [(a.attempt, a.status) for a in r.awards()] == [(1, "declined"), (2, "pending")]

    # Declined again: the SENDCo moves to a request for an EHC needs assessment (a linked case).
    await r.decide("declined", reason="Apply for an EHC needs assessment")
    await r.at_step("declined")
    note = NeedsAssessmentInstead(actor=r.sendco, note="Needs exceed what SEN support can give")
    await r.update("request_needs_assessment", note)
    closed = await r.at_step("closed")
    assert closed.status == "closed"
    linked = linked_case(r, "needs_assessment", cases)
    assert linked.pupil_id == r.case.pupil_id
    [requested] = r.chronology("needs-assessment-requested")
    assert requested.detail == f"Request for an EHC needs assessment opened as case {linked.id[:8]}"
    assert requested.actor == f"staff:{r.sendco.staff_id}"
    assert r.view()["declined_reasons"] == [
        "The provision is within what SEN support should give",
        "Apply for an EHC needs assessment",
    ]
    assert "was declined" in linked.facts["evidence"]


async def test_a_partial_award_records_the_difference(application_for, smtp):  # type: ignore[no-untyped-def]
    start, _ = application_for
    r = await start()
    await r.complete()
    await r.sign_off()
    await r.submit()
    today = await r.today()
    too_little = FundingDecision(
        actor=r.sendco, outcome="approved", decided_on=today, amount=2000.0, starts_on=today
    )
    kind, message = await r.refusal("record_decision", too_little)
    assert (kind, message) == (
        "Invalid",
        "£2,000.00 is less than the £3,500.00 asked for: record it as partly approved",
    )
    await r.decide("partial", 2000.0)
    await r.at_step("awarded")
    assert (r.view()["amount_awarded"], r.view()["difference"]) == ("£2,000.00", "£1,500.00")
    [recorded] = r.chronology("decision-recorded")
    assert recorded.detail.startswith("Partly approved on")
    assert recorded.detail.endswith("; £1,500.00 less than asked")
    award = await eventually(lambda: (a := r.awards()[0]).status == "partial" and a)
    assert (award.asked, award.awarded) == (3500.0, 2000.0)
    told = await eventually(lambda: r.outbox("hnf-decision"))
    [to_parent] = [m for m in told if m.recipients == [r.parent_email]]
    assert to_parent.subject.startswith("Funding partly approved: £2,000.00 from")
    [wire] = [m for m in smtp.messages if m["X-Send-Outbox-Key"] == to_parent.key]
    assert (
        "The school asked for £3,500.00: that is £1,500.00 less than asked."
        in wire.get_body(preferencelist=("plain",)).get_content()
    )


async def test_a_senif_application_for_an_early_years_child(application_for):  # type: ignore[no-untyped-def]
    start, _ = application_for
    r = await start(kind="senif", reviews=1, cost_per_week=40.0, weeks=30, age_years=3, year_group=-1)

    # Kent's SENIF checklist: a reviewed early years plan, an observation, the whole cost (no threshold).
    assert [line.split(":")[0] for line in r.held()] == [
        "A reviewed early years SEN support plan",
        "The costed provision map",
    ]
    assert [line.split(":")[0] for line in r.missing()] == [
        "An observation of the child in the setting by the early years practitioner",
        "The parents' signed consent to the application",
    ]
    assert r.view()["amount_asked"] == "£1,200.00"
    assert r.view()["working"].endswith("; Less what the setting meets itself £0.00: £1,200.00 asked for")
    await r.complete(item="setting-observation")
    await r.sign_off()
    submitted = await r.submit()

    # Heard at the LA's next SENIF panel (SENIF): the decision is due 2 weeks after it (HNF-DECISION).
    panel = funding_rules("Kent").next_panel("senif", submitted)
    assert panel is not None and panel.weekday() == 3
    assert r.case_row().next_action == (
        f"Record the LA's decision when it comes: it aims to decide at its panel on {short(panel)} by "
        f"{short(add_weeks(panel, 2))} (HNF-DECISION)"
    )
    [awaited] = r.chronology("decision-awaited")
    assert awaited.detail.startswith(f"The LA aims to decide at the panel of {short(panel)}")
    row = r.rows()["c1:la-decision"]
    assert (row.rule_id, row.due) == ("HNF-DECISION", add_weeks(panel, 6))
    [sent] = r.outbox("hnf-submission")
    assert sent.subject.startswith("Application for SEN inclusion funding (SENIF): £1,200.00 asked for")

    await r.skip_to(panel + DAY)
    await r.decide("approved", 1200.0)
    await r.at_step("awarded")
    award = await eventually(lambda: (a := r.awards()[0]).status == "approved" and a)
    assert (award.kind, award.awarded) == ("senif", 1200.0)


async def test_senif_is_only_for_a_two_to_four_year_old_without_an_ehc_plan(application_for):  # type: ignore[no-untyped-def]
    start, _ = application_for
    r = await start(kind="senif", reviews=1, age_years=5, year_group=0)
    assert r.missing()[0] == "Eligibility: SENIF is for a funded 2 to 4 year old, and this child is 5"
    today = await r.today()
    await r.update("record_consent", ConsentGiven(actor=r.sendco, given_on=today))
    seen = EvidenceReceived(
        actor=r.sendco, item="setting-observation", received_on=today, description="Notes"
    )
    await r.update("record_evidence", seen)
    await eventually(lambda: [m.split(":")[0] for m in r.missing()] == ["Eligibility"])
    kind, message = await r.refusal("request_sign_off", SignOffRequest(actor=r.sendco))
    assert kind == "Conflict" and "Eligibility (SENIF is for a funded 2 to 4 year old" in message
