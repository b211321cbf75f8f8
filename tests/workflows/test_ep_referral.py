"""EP referrals (and LIFT, speech and language therapy) in time-skipping Temporal, with the EP allocation.

Each test has a school of its own (its SENDCo, headteacher and EP allocation), so the allocation figures
are the test's alone. It asserts what people see: the emails on the wire (the SMTP sink) and in the
outbox, the deadline rows with their rule ids, due dates and states, the chronology, the case's next
action, and the allocated, reserved, used and remaining figures.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from domain.dates import SchoolYearCalendar, add_weeks, english_date, last_weekday_on_or_before
from domain.ep_referral import (
    SERVICES,
    ConsentAnswer,
    EPReferralInput,
    EPReferralStart,
    Evidence,
    FollowUpDone,
    LiftMeeting,
    LiftOutcomeRecord,
    PapersSent,
    ReportReceived,
    ServiceAnswer,
    VisitHeld,
    settings_for,
)
from domain.graduated_approach import ReviewOutcome
from domain.schemas import Actor, CaseRef, Role
from store import case_service, ep_allocation
from store.casework import Case, Deadline
from store.provision_service import school_year_of
from store.register import Parent, Pupil, PupilParent, School, Staff
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually
from tests.workflows.test_graduated_approach import support_for  # noqa: F401  (the SEN support fixture)
from workflows.ep_referral import EPReferral
from workflows.registry import PROCESSES

DAY = dt.timedelta(days=1)
PROCESS = "ep_referral"
RECORDED = {  # the scenarios whose first run tests/workflows/test_replay.py replays
    "test_consent_given_late_after_chasing_then_visit_and_report": "consent_late",
    "test_an_overrun_the_headteacher_approves": "overrun_approved",
    "test_a_lift_referral_with_papers_chased_before_the_meeting": "lift",
}
EP_EMAIL = "ep_service@example.org"
HEALTH_EMAIL = "health@example.org"
LIFT_EMAIL = "la_sen@example.org"
EVIDENCE = Evidence(
    support_plans="Two reviewed plans; reading outcomes less than expected",
    provision="Phonics group 3 times a week",
    parents_views="Worried about confidence",
    pupil_views="Reading makes me tired",
)


@dataclass
class Referral(CaseDriver):
    """One pupil's referral under test, at a school of its own."""

    parent_email: str
    sendco_email: str
    head_email: str
    calendar: SchoolYearCalendar
    smtp: object

    def rows(self) -> dict[str, Deadline]:
        with Session(self.engine) as s:
            return {d.key: d for d in s.exec(select(Deadline).where(Deadline.case_id == self.case_id))}

    async def row(self, key: str, status: str) -> Deadline:
        return await eventually(lambda: (d := self.rows().get(key)) is not None and d.status == status and d)

    def figures(self, year: int) -> ep_allocation.AllocationPublic:
        with Session(self.engine) as s:
            return ep_allocation.allocation(s, school_id=self.case.school_id, school_year=year)

    def wire(self, template: str) -> list[EmailMessage]:
        """The messages the SMTP sink received for this case's emails of that template."""
        keys = {m.key for m in self.outbox(template)}
        return [m for m in self.smtp.messages if m["X-Send-Outbox-Key"] in keys]  # type: ignore[attr-defined]

    async def consent(self, given: bool = True) -> None:
        await self.update(
            "record_consent", ConsentAnswer(actor=self.sendco, given=given, answered_on=await self.today())
        )

    async def accept(self, proposed_in: int = 14) -> dt.date:
        today = await self.today()
        proposed = today + proposed_in * DAY
        await self.update(
            "record_service_answer",
            ServiceAnswer(actor=self.sendco, accepted=True, answered_on=today, proposed_on=proposed),
        )
        await self.at_step("visit")
        return proposed


def body(message: EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    return text.replace("\r\n", "\n")


@pytest.fixture
async def referral_for(request, time_env, task_queue, engine, pupil, smtp):  # type: ignore[no-untyped-def]
    """`start(service, allocated=...)` makes a school, its staff and a pupil, and refers the pupil."""
    cases = StartedCases(request, time_env, PROCESS, RECORDED)
    smtp.clear()

    async def start(
        service: str = "ep", *, allocated: float | None = 20, estimate: float | None = None, **extra: object
    ) -> Referral:
        tag = uuid.uuid4().hex[:8]
        emails = {k: f"{k}-{tag}@example.org" for k in ("parent", "sendco", "head")}
        today = english_date(await time_env.get_current_time())
        with Session(engine, expire_on_commit=False) as s:
            school = School(name=f"Referral Primary {tag}", local_authority="Kent", sendco_working_days=[1])
            s.add(school)
            s.commit()
            staff = [
                Staff(school_id=school.id, name="Sam Sendco", email=emails["sendco"], role=Role.sendco),
                Staff(school_id=school.id, name="Hana Head", email=emails["head"], role=Role.headteacher),
                Staff(
                    school_id=school.id, name="Tom Teacher", email=f"staff-{tag}@example.org", role=Role.staff
                ),
            ]
            child = Pupil(
                school_id=school.id,
                legal_name="Kit Example",
                date_of_birth=dt.date(2016, 9, 1),
                year_group=4,
                sen_provision="K",
                needs=["SPLD"],
                local_authority="Kent",
            )
            parent = Parent(name="Lee Example", email=emails["parent"])
            s.add_all([*staff, child, parent])
            s.commit()
            s.add(PupilParent(pupil_id=child.id, parent_id=parent.id))
            if allocated is not None:
                ep_allocation.set_allocation(
                    s,
                    school_id=school.id,  # type: ignore[arg-type]
                    school_year=school_year_of(today),
                    agreement=ep_allocation.AllocationAgreement(allocated=allocated),
                )
            s.commit()
            case = case_service.open_case(
                s,
                case_id=str(uuid.uuid4()),
                process=PROCESS,
                pupil_id=child.id,
                school_id=school.id,
                started_by=staff[0].id,
                facts={"service": service},
            )
            calendar = case_service.school_calendar(school)
            ref = CaseRef(
                case_id=case.id,
                workflow_id=case.workflow_id,
                process=PROCESS,
                pupil_id=child.id,  # type: ignore[arg-type]
                school_id=school.id,  # type: ignore[arg-type]
                calendar=calendar,
            )
            actors = {
                "sendco": Actor(staff_id=staff[0].id, role=Role.sendco),
                "head": Actor(staff_id=staff[1].id, role=Role.headteacher),
                "teacher": Actor(staff_id=staff[2].id, role=Role.staff),
            }
        settings = settings_for(service)
        inp = EPReferralInput(
            case=ref,
            started_by=actors["sendco"],
            settings=settings,
            question="Why does reading not improve despite two cycles of phonics support?",
            evidence=EVIDENCE,
            year_group=extra.pop("year_group", 4),
            estimate=estimate if estimate is not None else settings.default_estimate,
            **extra,  # type: ignore[arg-type]
        )
        handle = await time_env.client.start_workflow(
            EPReferral.run, inp, id=ref.workflow_id, task_queue=task_queue
        )
        r = cases.add(
            Referral(
                env=time_env,
                engine=engine,
                case=ref,
                handle=handle,
                parent_email=emails["parent"],
                sendco_email=emails["sendco"],
                head_email=emails["head"],
                calendar=SchoolYearCalendar.from_school(calendar.terms, calendar.inset_days),
                smtp=smtp,
                **actors,
            )
        )
        return r

    yield start, cases
    await cases.close()


# --- the scenarios ---------------------------------------------------------------------------------
async def test_consent_given_late_after_chasing_then_visit_and_report(referral_for):  # type: ignore[no-untyped-def]
    start, _ = referral_for
    r = await start("ep", allocated=20)
    today = await r.today()
    year = school_year_of(today)

    # The estimate is reserved at once (EP-ALLOCATION); the parents are asked for consent (EP-CONSENT).
    await r.at_step("consent")
    figures = r.figures(year)
    assert (figures.allocated, figures.reserved, figures.used, figures.remaining) == (20, 6, 0, 14)
    [reserved] = r.chronology("allocation-reserved")
    label = figures.label
    assert (
        reserved.detail
        == f"6 hours reserved of the {label} EP allocation (EP-ALLOCATION): 14 hours of 20 hours remain"
    )
    chase_on, escalate_on = r.calendar.add_school_days(today, 5), r.calendar.add_school_days(today, 10)
    rows = await eventually(lambda: len(r.rows()) == 2 and r.rows())
    assert {k: (d.rule_id, d.due, d.owner, d.status) for k, d in rows.items()} == {
        "consent": ("EP-CONSENT", chase_on, "parent", "pending"),
        "consent-escalation": ("EP-CONSENT", escalate_on, "sendco", "pending"),
    }
    preview = PROCESSES[PROCESS].preview({"consent_asked": today.isoformat()}, r.calendar)
    assert {e.step: (e.rule_id, e.due) for e in preview} == {k: (d.rule_id, d.due) for k, d in rows.items()}
    [asked] = await eventually(lambda: r.wire("ep-consent-request"))
    assert asked["To"].addresses[0].addr_spec == r.parent_email
    assert asked["Subject"].startswith("Your consent, please, for Kit's referral to the EP service, by")
    assert "Why does reading not improve" in body(asked)
    assert "Record the parents' answer to the request for consent" in r.case_row().next_action

    # After 5 school days: the parents chased, the SENDCo told. After 10: the headteacher.
    await r.skip_to(chase_on + DAY)
    await r.row("consent", "escalated")
    [chase] = await eventually(lambda: r.wire("ep-consent-chase"))
    assert chase["To"].addresses[0].addr_spec == r.parent_email
    assert "we still need your answer" in chase["Subject"]
    [told] = r.outbox("escalation")
    assert told.recipients == [r.sendco_email]
    assert not r.outbox("overdue")  # the parents get the chase, not the engine's overdue notice
    assert "they have been chased" in r.case_row().next_action
    await r.skip_to(escalate_on + DAY)
    await r.row("consent-escalation", "escalated")
    escalations = await eventually(lambda: len(r.outbox("escalation")) == 2 and r.outbox("escalation"))
    assert escalations[1].recipients == [r.head_email]
    assert "Consent to the referral, chased and still not answered" in escalations[1].subject
    assert len(r.outbox("ep-consent-chase")) == 1  # chased once

    # Consent given late: both rows met late; the referral goes to the EP service, no more than it needs.
    await r.consent(given=True)
    await r.at_step("with-service")
    assert {k: d.status for k, d in r.rows().items()} == {
        "consent": "met_late",
        "consent-escalation": "met_late",
    }
    [sent] = await eventually(lambda: r.wire("ep-referral"))
    assert sent["To"].addresses[0].addr_spec == EP_EMAIL
    text = body(sent)
    assert "Pupil: KE, Year 4" in text and "Reviewed support plans: Two reviewed plans" in text
    assert "The parents' views: Worried about confidence" in text
    assert r.parent_email not in text and "Kit" not in text and "2016" not in text  # no name, address or DOB

    # Accepted with a date; the visit within EP-VISIT of acceptance; what it used is booked.
    accepted_on = await r.today()
    proposed = await r.accept()
    visit = await eventually(lambda: r.rows().get("visit"))
    assert (visit.rule_id, visit.due, visit.owner) == (
        "EP-VISIT",
        r.calendar.add_school_days(accepted_on, 30),
        "ep_service",
    )
    await r.skip_to(proposed)
    await r.update("record_visit", VisitHeld(actor=r.sendco, held_on=proposed, used=5))
    await r.at_step("report")
    assert (await r.row("visit", "met")).status == "met"
    figures = await eventually(lambda: (f := r.figures(year)).used == 5 and f)
    assert (figures.reserved, figures.used, figures.remaining) == (0, 5, 15)
    report = await eventually(lambda: r.rows().get("report"))
    assert (report.rule_id, report.due) == ("EP-REPORT", add_weeks(proposed, 6))

    # The report on time: shared with the parents; the case closes.
    await r.skip_to(proposed + 20 * DAY)
    received = await r.today()
    await r.update(
        "record_report",
        ReportReceived(
            actor=r.sendco, received_on=received, summary="Working memory", recommendations=["Chunk tasks"]
        ),
    )
    case = await r.at_step("closed")
    assert case.status == "closed" and case.next_action.startswith("Report received")
    assert r.rows()["report"].status == "met"
    [shared] = await eventually(lambda: r.wire("ep-report"))
    assert shared["To"].addresses[0].addr_spec == r.parent_email and "- Chunk tasks" in body(shared)
    assert await r.handle.result() == "done"
    actions = [e.action for e in r.chronology() if not e.action.startswith(("deadline-", "reminder"))]
    assert actions[:4] == ["referral-made", "allocation-reserved", "consent-requested", "consent-chased"]
    assert actions[-2:] == ["report-received", "report-shared"]
    consented = r.chronology("consent-recorded")[0]
    assert consented.actor == f"staff:{r.sendco.staff_id}" and consented.detail.startswith(
        "The parents consented on"
    )


async def test_consent_refused_closes_and_releases_the_reservation(referral_for):  # type: ignore[no-untyped-def]
    start, _ = referral_for
    r = await start("ep", allocated=20)
    year = school_year_of(await r.today())
    await r.at_step("consent")
    await eventually(lambda: r.figures(year).reserved == 6)
    await r.consent(given=False)
    case = await r.at_step("closed")
    assert case.next_action == "The parents did not consent: the referral is closed"
    figures = await eventually(lambda: (f := r.figures(year)).reserved == 0 and f)
    assert (figures.used, figures.remaining) == (0, 20)
    assert [d.status for d in r.figures(year).referrals] == ["released"]
    assert {d.status for d in r.rows().values()} == {"met"}
    assert not r.outbox("ep-referral")  # nothing went to the EP service
    [refused] = r.chronology("consent-refused")
    assert refused.actor == f"staff:{r.sendco.staff_id}"
    assert r.chronology("allocation-released")
    assert await r.handle.result() == "consent-refused"


async def test_an_overrun_the_headteacher_approves(referral_for):  # type: ignore[no-untyped-def]
    start, _ = referral_for
    r = await start("ep", allocated=4)
    year = school_year_of(await r.today())
    approval = await eventually(r.pending_approval)
    assert r.step() == "awaiting-approval"
    assert approval.summary.startswith("This referral needs 6 hours; 4 hours of 4 hours remain of the")
    [asked] = await eventually(lambda: r.outbox("approval-request"))  # written a moment after the approval
    assert asked.recipients == [r.head_email]
    assert r.figures(year).reserved == 0  # nothing reserved before the decision
    assert not r.outbox("ep-consent-request")
    assert await r.refused("decide_approval", _decision(approval.key, r.sendco, True)) == "Forbidden"
    await r.update("decide_approval", _decision(approval.key, r.head, True, "Urgent: worth it"))
    await r.at_step("consent")
    figures = await eventually(lambda: (f := r.figures(year)).reserved == 6 and f)
    assert (figures.allocated, figures.remaining) == (4, -2)
    assert [(d.reserved, d.overrun) for d in figures.referrals] == [(6, True)]
    assert "allocation-overrun" in r.case_row().flags
    [reserved] = r.chronology("allocation-reserved")
    assert reserved.detail.endswith("EP allocation (EP-ALLOCATION): 2 hours over the 4 hours agreed")
    await eventually(lambda: r.outbox("ep-consent-request"))
    [approved] = r.chronology("approval-approved")
    assert approved.actor == f"staff:{r.head.staff_id}"


async def test_an_overrun_the_headteacher_rejects_is_refused_with_the_reason(referral_for):  # type: ignore[no-untyped-def]
    start, _ = referral_for
    r = await start("ep", allocated=None)  # nothing agreed for the school year: any referral overruns
    year = school_year_of(await r.today())
    approval = await eventually(r.pending_approval)
    assert (
        await r.refused("decide_approval", _decision(approval.key, r.head, False)) == "Invalid"
    )  # no reason
    await r.update("decide_approval", _decision(approval.key, r.head, False, "Save the hours for Year 6"))
    case = await r.at_step("closed")
    assert case.next_action.startswith("Refused: it needs 6 hours and 0 hours of 0 hours")
    assert case.next_action.endswith("the headteacher did not approve the overrun: Save the hours for Year 6")
    [refused] = r.chronology("referral-refused")
    assert refused.actor == f"staff:{r.head.staff_id}"
    figures = r.figures(year)
    assert (figures.agreed, figures.reserved, figures.referrals) == (False, 0, [])
    assert not r.outbox("ep-consent-request")
    [decided] = r.outbox("approval-decided")
    assert decided.recipients == [r.sendco_email]
    assert await r.handle.result() == "refused"


async def test_a_declined_referral_releases_the_reservation(referral_for):  # type: ignore[no-untyped-def]
    start, _ = referral_for
    r = await start("ep", allocated=20)
    year = school_year_of(await r.today())
    await r.at_step("consent")
    await r.consent()
    await r.at_step("with-service")
    with pytest.raises(ValidationError, match="give the reason the service declined"):
        ServiceAnswer(actor=r.sendco, accepted=False, answered_on=await r.today())
    await r.update(
        "record_service_answer",
        ServiceAnswer(
            actor=r.sendco, accepted=False, answered_on=await r.today(), reason="Needs a LIFT meeting first"
        ),
    )
    case = await r.at_step("closed")
    assert case.next_action == "The EP service declined the referral: Needs a LIFT meeting first"
    figures = await eventually(lambda: (f := r.figures(year)).reserved == 0 and f)
    assert figures.remaining == 20 and [d.status for d in figures.referrals] == ["released"]
    [answered] = r.chronology("service-answered")
    assert answered.detail.endswith(": Needs a LIFT meeting first")
    assert "visit" not in r.rows()
    assert await r.handle.result() == "declined"


async def test_a_late_ep_report_is_chased_and_escalated(referral_for):  # type: ignore[no-untyped-def]
    start, _ = referral_for
    r = await start("ep", allocated=20)
    year = school_year_of(await r.today())
    await r.at_step("consent")
    await r.consent()
    await r.at_step("with-service")
    proposed = await r.accept(proposed_in=7)
    await r.skip_to(proposed)
    await r.update("record_visit", VisitHeld(actor=r.sendco, held_on=proposed))  # used: the estimate
    await r.at_step("report")
    due = add_weeks(proposed, 6)

    # The EP service chased a week and a day before; once late, the headteacher told and the service chased.
    await r.skip_to(due + 2 * DAY)
    row = await r.row("report", "escalated")
    assert (row.rule_id, row.due, row.owner) == ("EP-REPORT", due, "ep_service")
    reminders = [m for m in r.outbox("reminder") if "Send the written report" in m.subject]
    assert [m.recipients for m in reminders] == [[EP_EMAIL], [EP_EMAIL]]
    [escalation] = [m for m in r.outbox("escalation") if "Send the written report" in m.subject]
    assert escalation.recipients == [r.head_email]
    [overdue] = [m for m in r.outbox("overdue") if "Send the written report" in m.subject]
    assert overdue.recipients == [EP_EMAIL]
    [wired] = [m for m in r.wire("escalation") if "written report" in m["Subject"]]
    assert "Waiting on: the EP service" in body(wired)
    [missed] = r.chronology("deadline-missed")
    assert f"was due {due:%d %b %Y} (EP-REPORT)" in missed.detail

    await r.update(
        "record_report",
        ReportReceived(
            actor=r.sendco, received_on=await r.today(), summary="Late but thorough", recommendations=[]
        ),
    )
    await r.at_step("closed")
    assert (await r.row("report", "met_late")).status == "met_late"
    [late] = r.chronology("deadline-completed-late")
    assert "2 days late" in late.detail
    assert (r.figures(year).used, r.figures(year).remaining) == (6, 14)


async def test_a_review_referral_brings_the_reports_recommendations_to_the_support_case(  # type: ignore[no-untyped-def]
    support_for,  # noqa: F811
    engine,
    pupil,  # the register's agencies, the EP service among them
    smtp,
):
    start_support, cases = support_for
    support = await start_support()
    await support.assess()
    await support.plan(outcomes=1)
    meeting = await support.today() + 7 * DAY
    from domain.graduated_approach import ReviewMeeting

    await support.update(
        "set_review_meeting",
        ReviewMeeting(actor=support.sendco, meeting_at=dt.datetime.combine(meeting, dt.time(15, 30))),
    )
    await support.at_step("review")
    await support.skip_to(meeting, hour=17)
    await support.update(
        "record_review",
        ReviewOutcome(
            actor=support.sendco,
            progress=["less"],
            decision="specialist",
            specialist="ep",
            note="What blocks reading?",
        ),
    )
    await support.in_cycle(2)

    # The review opened the EP referral, linked, with the review's question and evidence.
    with Session(engine) as s:
        [linked] = [
            c
            for c in s.exec(select(Case).where(Case.process == PROCESS))
            if c.facts.get("linked_from") == support.case_id
        ]
    [opened] = support.chronology("ep-referral-opened")
    assert opened.detail == f"EP referral opened as case {linked.id[:8]}"
    ref = CaseRef(
        case_id=linked.id,
        workflow_id=linked.workflow_id,
        process=PROCESS,
        pupil_id=linked.pupil_id,
        school_id=linked.school_id,
    )
    r = cases.add(
        Referral(
            env=support.env,
            engine=engine,
            case=ref,
            handle=support.env.client.get_workflow_handle(linked.workflow_id),
            parent_email=support.parent_email,
            sendco_email="sendco1@example.org",
            head_email="headteacher1@example.org",
            calendar=support.calendar,
            smtp=smtp,
            sendco=support.sendco,
            head=support.head,
            teacher=support.teacher,
        )
    )
    [made] = await eventually(lambda: r.chronology("referral-made"))
    assert made.detail == "Referral to the EP service. Question: What blocks reading?"
    # The test school has no EP allocation this year: the headteacher approves the overrun.
    approval = await eventually(r.pending_approval)
    await r.update("decide_approval", _decision(approval.key, r.head, True, "Approved"))
    await r.at_step("consent")
    await r.consent()
    await r.at_step("with-service")
    [sent] = r.outbox("ep-referral")
    assert sent.recipients == [EP_EMAIL]
    proposed = await r.accept(proposed_in=3)
    await r.skip_to(proposed)
    await r.update("record_visit", VisitHeld(actor=r.sendco, held_on=proposed, used=4))
    await r.at_step("report")
    await support.env.sleep(dt.timedelta(days=1))
    recommendations = ["Pre-teach key vocabulary", "Short, chunked instructions"]
    await r.update(
        "record_report",
        ReportReceived(
            actor=r.sendco, received_on=await r.today(), summary="Memory", recommendations=recommendations
        ),
    )
    await r.at_step("closed")
    [added] = await eventually(lambda: r.chronology("recommendations-added"))
    assert added.detail == "2 recommendations added to the pupil's SEN support case for its next plan"

    # On the support case: its view, its chronology, its next action, then the next plan to the parents.
    await eventually(lambda: support.view().get("recommendations") == recommendations)
    [noted] = support.chronology("specialist-recommendations")
    assert noted.detail.endswith("recommends: Pre-teach key vocabulary; Short, chunked instructions")
    await support.assess()
    await support.at_step("plan")
    assert support.case_row().next_action.endswith("build in the specialist's 2 recommendations on the case")
    await support.plan(outcomes=1)
    plans = await eventually(lambda: len(support.outbox("ga-plan")) == 2 and support.outbox("ga-plan"))
    [wired] = [m for m in smtp.messages if m["X-Send-Outbox-Key"] == plans[1].key]
    assert "It builds on the specialist's recommendations:\n- Pre-teach key vocabulary" in body(wired)


async def test_a_lift_referral_with_papers_chased_before_the_meeting(referral_for):  # type: ignore[no-untyped-def]
    start, _ = referral_for
    r = await start("lift", allocated=20)
    year = school_year_of(await r.today())
    await r.at_step("consent")
    assert r.figures(year).reserved == 0  # LIFT does not draw on the EP allocation
    [asked] = await eventually(lambda: r.wire("ep-consent-request"))
    assert "For a LIFT meeting we also need your signed agreement." in body(asked)
    await r.consent()
    await r.at_step("lift-meeting")
    assert r.case_row().next_action == "Set the date of the LIFT meeting the referral goes to"
    assert (
        await r.refused("send_lift_papers", PapersSent(actor=r.sendco, sent_on=await r.today())) == "Conflict"
    )
    meeting = await r.today() + 28 * DAY
    await r.update("set_lift_meeting", LiftMeeting(actor=r.sendco, meeting_on=meeting))
    papers_due = meeting - 7 * DAY
    row = await eventually(lambda: r.rows().get("lift-papers"))
    assert (row.rule_id, row.due, row.owner, row.status) == ("EP-VISIT", papers_due, "sendco", "pending")
    assert (
        f"by {papers_due:%d %b %Y} (the meeting is on {meeting:%d %b %Y})"
        in (await r.at_step("lift-meeting")).next_action
    )

    # The SENDCo chased before the papers are due (on the SENDCo's working day, a Tuesday).
    tuesdays = sorted({last_weekday_on_or_before(papers_due - n * DAY, [1]) for n in (5, 1)})
    await r.skip_to(papers_due - DAY)
    reminders = await eventually(lambda: len(r.outbox("reminder")) == len(tuesdays) and r.outbox("reminder"))
    assert [m.recipients for m in reminders] == [[r.sendco_email]] * len(tuesdays)
    assert all("Send the LIFT papers with the signed parental agreement" in m.subject for m in reminders)
    assert [english_date(e.at) for e in r.chronology("reminder-sent")] == tuesdays
    await r.update("send_lift_papers", PapersSent(actor=r.sendco, sent_on=await r.today()))
    await r.row("lift-papers", "met")
    [papers] = await eventually(lambda: r.wire("ep-referral"))
    assert papers["To"].addresses[0].addr_spec == LIFT_EMAIL
    assert papers["Subject"].startswith("LIFT papers from Referral Primary")

    # The outcome once the meeting is held; its follow-ups tracked until each is done.
    outcome = LiftOutcomeRecord(
        actor=r.sendco,
        outcome="outreach",
        advice=["Visual timetable"],
        follow_ups=[
            {"action": "Book the outreach visit", "by": "SENDCo"},
            {"action": "Share the advice with staff"},
        ],  # type: ignore[list-item]
    )
    assert await r.refused("record_lift_outcome", outcome) == "Conflict"  # the meeting is not held yet
    await r.skip_to(meeting)
    await r.update("record_lift_outcome", outcome)
    await r.at_step("follow-up")
    [shared] = await eventually(lambda: r.wire("ep-report"))
    assert shared["Subject"].startswith("What the LIFT meeting advised for Kit")
    assert "The LIFT meeting decided on outreach support" in body(shared)
    assert r.case_row().next_action == (
        "Record each follow-up action when done: 1. Book the outreach visit; 2. Share the advice with staff"
    )
    await r.update("complete_follow_up", FollowUpDone(actor=r.sendco, number=2, done_on=await r.today()))
    assert (
        await r.refused("complete_follow_up", FollowUpDone(actor=r.sendco, number=2, done_on=await r.today()))
        == "Conflict"
    )
    assert (
        await r.refused("complete_follow_up", FollowUpDone(actor=r.sendco, number=3, done_on=await r.today()))
        == "Invalid"
    )
    await eventually(lambda: r.case_row().next_action.endswith("1. Book the outreach visit"))
    await r.update("complete_follow_up", FollowUpDone(actor=r.sendco, number=1, done_on=await r.today()))
    case = await r.at_step("closed")
    assert case.next_action == "LIFT outcome: outreach support; every follow-up action done"
    done = f"{await r.today():%d %b %Y}"
    assert case.view["follow_ups"] == [
        f"1. Book the outreach visit (done {done})",
        f"2. Share the advice with staff (done {done})",
    ]


@pytest.mark.parametrize("service", ["salt", "paediatrician"])
async def test_a_speech_and_language_referral_takes_the_same_steps(referral_for, service):  # type: ignore[no-untyped-def]
    """Speech and language therapy (and a community paediatrician): consent, submission, visit and report,
    on the service's own settings."""
    settings = SERVICES[service]
    start, _ = referral_for
    r = await start(service, allocated=20)
    year = school_year_of(await r.today())
    await r.at_step("consent")
    assert r.figures(year).reserved == 0  # only the EP service draws on the allocation
    [asked] = await eventually(lambda: r.wire("ep-consent-request"))
    assert f"referral to {settings.title}" in asked["Subject"]
    await r.consent()
    await r.at_step("with-service")
    [sent] = await eventually(lambda: r.wire("ep-referral"))
    assert sent["To"].addresses[0].addr_spec == HEALTH_EMAIL
    accepted_on = await r.today()
    proposed = await r.accept(proposed_in=10)
    visit = await eventually(lambda: r.rows().get("visit"))
    assert (visit.rule_id, visit.due, visit.owner) == (
        "EP-VISIT",
        r.calendar.add_school_days(accepted_on, settings.visit_school_days),
        "health",
    )
    await r.skip_to(proposed)
    await r.update("record_visit", VisitHeld(actor=r.sendco, held_on=proposed))
    report = await eventually(lambda: r.rows().get("report"))
    assert (report.rule_id, report.due) == ("EP-REPORT", add_weeks(proposed, settings.report_weeks))
    await r.update(
        "record_report",
        ReportReceived(actor=r.sendco, received_on=await r.today(), summary="Expressive language delay"),
    )
    await r.at_step("closed")
    [shared] = await eventually(lambda: r.wire("ep-report"))
    assert shared["Subject"].startswith(f"The report from {settings.title} for Kit")
    assert r.figures(year).referrals == []


async def test_acting_out_of_turn_is_refused(referral_for):  # type: ignore[no-untyped-def]
    start, _ = referral_for
    r = await start("ep", allocated=20)
    await r.at_step("consent")
    today = await r.today()
    visit = VisitHeld(actor=r.sendco, held_on=today)
    assert await r.refused("record_visit", visit) == "Conflict"
    report = ReportReceived(actor=r.sendco, received_on=today, summary="x")
    assert await r.refused("record_report", report) == "Conflict"
    answer = ServiceAnswer(actor=r.sendco, accepted=True, answered_on=today, proposed_on=today + DAY)
    assert await r.refused("record_service_answer", answer) == "Conflict"
    assert (
        await r.refused("set_lift_meeting", LiftMeeting(actor=r.sendco, meeting_on=today + DAY)) == "Conflict"
    )
    teacher = ConsentAnswer(actor=r.teacher, given=True, answered_on=today)
    assert await r.refused("record_consent", teacher) == "Forbidden"
    future = ConsentAnswer(actor=r.sendco, given=True, answered_on=today + DAY)
    assert await r.refused("record_consent", future) == "Invalid"
    await r.consent()
    await r.at_step("with-service")
    assert (
        await r.refused("record_consent", ConsentAnswer(actor=r.sendco, given=True, answered_on=today))
        == "Conflict"
    )
    assert not r.chronology("visit-held")


def _decision(key: str, actor: Actor, approve: bool, comment: str = ""):  # type: ignore[no-untyped-def]
    from domain.schemas import ApprovalDecision

    return ApprovalDecision(key=key, approve=approve, comment=comment, actor=actor)


async def test_a_young_person_of_16_consents_for_themselves(referral_for):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="the young person consents at 16 or over"):
        EPReferralStart(question="q", evidence=EVIDENCE, year_group=10, consent_from="young_person")
    start, _ = referral_for
    r = await start("ep", allocated=20, consent_from="young_person", year_group=12)
    await r.at_step("consent")
    rows = await eventually(lambda: len(r.rows()) == 2 and r.rows())
    assert rows["consent"].owner == "sendco"  # the SENDCo asks them: the register holds no address for them
    [asked] = await eventually(lambda: r.chronology("consent-requested"))
    assert asked.detail.startswith("Ask the young person (16 or over) for their consent by")
    assert not r.outbox("ep-consent-request")
    assert "Record the young person's answer" in r.case_row().next_action
    await r.consent()
    [sent] = await eventually(lambda: r.wire("ep-referral"))
    assert "The young person consented on" in body(sent)
    assert r.chronology("consent-recorded")[0].detail.startswith("The young person consented on")
