"""The SENDCo-day digest: one email to the SENDCo on the morning of each working day (what is overdue,
what is due before they are next in, what waits on others), and what falls due while they are out to the
headteacher as cover, recorded on each case it covers. Exactly once per school and day (the outbox key)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlmodel import Session, select
from temporalio import activity

from activities.email import deliver
from activities.recipients import resolve
from domain import words
from domain.digest import DigestRequest, DigestSent
from domain.rules import rule
from domain.schemas import EmailRequest, Recipient
from infra.database import session_scope
from store.chronology import append
from store.register import School, Staff
from store.week import Item, Week, sendco_week


@activity.defn(name="send_sendco_digest")
async def send_sendco_digest(req: DigestRequest) -> DigestSent:
    """Send the morning's digest (and the headteacher's cover), each once; record the cover on its cases."""
    week, context, sendcos, heads = await asyncio.to_thread(_gather, req)
    if week is None:  # the school is gone: nothing to send
        return DigestSent(working_days=[], items=0, covered=0)
    items = len(week.overdue) + len(week.due_soon) + len(week.others)
    if sendcos:
        await deliver(_email(req, "sendco-digest", sendcos, context), notify=False)
    if heads and week.cover:
        await deliver(_email(req, "sendco-digest-cover", heads, context), notify=False)
        await asyncio.to_thread(_record_cover, req, week)
    return DigestSent(working_days=week.working_days, items=items, covered=len(week.cover))


DIGEST_ACTIVITIES = [send_sendco_digest]


def _email(req: DigestRequest, template: str, to: list[int], context: dict[str, Any]) -> EmailRequest:
    return EmailRequest(
        key=f"{template}:school-{req.school_id}:{req.on}",
        case_id=None,
        template=template,
        to=[Recipient(kind="staff", staff_id=s) for s in to],
        context=context,
    )


def _gather(req: DigestRequest) -> tuple[Week | None, dict[str, Any], list[int], list[int]]:
    with session_scope() as session:
        school = session.get(School, req.school_id)
        if school is None:
            return None, {}, [], []
        week = sendco_week(session, req.school_id, req.on)
        staff = session.exec(select(Staff).where(Staff.school_id == req.school_id).order_by(Staff.id)).all()
        sendcos = [s.id for s in staff if s.role == "sendco" and s.id is not None]
        heads = [s.id for s in staff if s.role == "headteacher" and s.id is not None]
        context = {
            "digest_school": school.name,
            "on": words.day(req.on),
            "back_on": words.day(week.back_on),
            "working_days": words.working_pattern(week.working_days),
            "overdue": [_line(session, i, req.on) for i in week.overdue],
            "due_soon": [_line(session, i, req.on) for i in week.due_soon],
            "others": [_line(session, i, req.on) for i in week.others],
            "cover": [_line(session, i, req.on) for i in week.cover],
            "approvals": len(week.approvals),
        }
        return week, context, sendcos, heads


def _line(session: Session, item: Item, on: dt.date) -> dict[str, str]:
    """One deadline as the digest lists it: pupil, what, when, how it stands, who owes it, the rule."""
    row = item.deadline
    found = rule(row.rule_id)
    kind = item.owner_kind
    try:
        owner = " and ".join(
            p.name for p in resolve(session, case=item.case, recipients=[_recipient(row.owner)])
        )
    except Exception:  # nobody in the register for it: the kind alone
        owner = ""
    return {
        "pupil": item.pupil.legal_name if item.pupil else "A pupil",
        "process": words.process(item.case.process),
        "what": words.sentence(found.description).rstrip("."),
        "due": words.day(row.due),
        "status": words.deadline_status(row.status, row.due, None, on),
        "owner": f"{owner} ({words.in_text(kind)})" if owner else words.kind(kind),
        "rule": f"{row.rule_id}, {found.citation}",
    }


def _recipient(label: str) -> Recipient:
    kind, _, ident = label.partition(":")
    if not ident.isdigit():
        return Recipient(kind=kind)
    if kind in ("staff", "sendco", "headteacher"):
        return Recipient(kind=kind, staff_id=int(ident))
    return Recipient(kind=kind, agency_id=int(ident))


def _record_cover(req: DigestRequest, week: Week) -> None:
    """On each case covered: the headteacher was sent it as cover, and why."""
    with session_scope() as session:
        for item in week.cover:
            append(
                session,
                case_id=item.case.id,
                actor="engine",
                action="cover-sent",
                detail=(
                    f"{words.sentence(rule(item.deadline.rule_id).description).rstrip('.')} is due "
                    f"{words.day(item.deadline.due)}, before the SENDCo is next in "
                    f"({words.day(week.back_on)}): sent to the headteacher as cover"
                ),
                key=f"cover:{req.on}:{item.deadline.key}",
            )
