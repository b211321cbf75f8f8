"""The annual review's own checks on parents and agencies acting through emailed links (issue 13): each
may take only the actions their links are for, attributed to them in the chronology."""

from __future__ import annotations

from domain.annual_review import AdviceReceived, AttendanceReply, MeetingRecord, ParentViews
from domain.dates import english_date
from domain.schemas import Actor, Recipient
from domain.timelines import AnnualReviewFacts
from tests.workflows.case_driver import eventually
from tests.workflows.test_annual_review import DAY, EP, HEALTH, review  # noqa: F401  (the fixture)

PARENT = Actor(responder="parent:41")
EP_SERVICE = Actor(responder="agency:7")


async def test_parents_and_agencies_take_only_the_actions_their_links_are_for(review, time_env) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    today = english_date(await time_env.get_current_time())
    r = await review(AnnualReviewFacts(cycle_start=today - 300 * DAY, year_group=5))
    coming = AttendanceReply(actor=PARENT, invitee=Recipient(kind="parent"), attending=True)
    assert await r.refused("record_attendance_reply", coming) == "Conflict"  # no meeting yet
    await r.set_meeting(today + 42 * DAY)

    # What their links are for: the parent's views and reply, the EP's advice.
    await r.update("record_parent_views", ParentViews(actor=PARENT, received_on=today, views="Settled"))
    await r.update("record_attendance_reply", coming)
    advice = AdviceReceived(actor=EP_SERVICE, adviser=EP, received_on=today, summary="Sent as report.pdf")
    await r.update("record_advice", advice)
    by = {e.action: e.actor for e in r.chronology()}
    assert by["parent-views-recorded"] == "parent:41"
    assert by["attendance-reply"] == "parent:41"
    assert by["advice-recorded"] == "agency:7"
    assert "parent will come to the meeting on" in r.chronology("attendance-reply")[0].detail
    assert await eventually(lambda: r.deadline_at("c1:advice:ep_service").status == "met")  # type: ignore[union-attr]

    # Nothing else: a parent cannot record advice, an agency cannot give the parents' views, neither
    # can record the meeting; and an answer for someone not invited is refused.
    refusals = [
        ("record_advice", AdviceReceived(actor=PARENT, adviser=HEALTH, received_on=today, summary="x")),
        ("record_parent_views", ParentViews(actor=EP_SERVICE, received_on=today, views="x")),
        (
            "record_meeting",
            MeetingRecord(
                actor=PARENT,
                attended=[Recipient(kind="parent")],
                pupil_views="x",
                parent_views="x",
                outcomes_progress="x",
                recommendation="maintain",
            ),
        ),
    ]
    for update, payload in refusals:
        assert await r.refused(update, payload) == "Forbidden", update
    stranger = AttendanceReply(actor=EP_SERVICE, invitee=Recipient(kind="other"), attending=False)
    assert await r.refused("record_attendance_reply", stranger) == "Invalid"
    assert r.deadline_at("c1:advice:health").status == "pending"  # type: ignore[union-attr]
