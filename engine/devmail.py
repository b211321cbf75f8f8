"""The embedded development mail server: an aiosmtpd server that keeps every message as a ReceivedMail row."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import threading
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import Session, col, select

from infra.database import session_scope
from infra.settings import get_settings
from store.casework import Case, OutboxMessage, ReceivedMail
from store.register import Parent, Pupil, PupilParent, Staff

log = logging.getLogger(__name__)
HEADERS = BytesHeaderParser(policy=policy.compat32)  # raw values: only the subject needs decoding
# aiosmtpd logs every SMTP command at INFO, each sender's and recipient's address with it: not kept.
SMTP_LOG = "mail.log"


class KeepInDatabase:
    """aiosmtpd handler: store each delivered message (raw text and envelope) in the database."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw_bytes: bytes = envelope.original_content or envelope.content
        if not get_settings().keep_received_mail:
            return "250 Message accepted (not kept: SEND_KEEP_RECEIVED_MAIL is off)"
        # In a thread: while one message waits for the database, the other sessions go on being served.
        await asyncio.to_thread(keep, raw_bytes, envelope.mail_from or "", list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def keep(raw_bytes: bytes, mail_from: str, recipients: list[str]) -> None:
    """Store one received message as a ReceivedMail row of the school it belongs to."""
    message = HEADERS.parsebytes(raw_bytes)  # the headers are all it reads; the raw text is kept
    row = ReceivedMail(
        received_at=dt.datetime.now(dt.UTC),
        mail_from=mail_from[:320],
        recipients=recipients,
        subject=subject(message.get("Subject", ""))[:500],
        message_id=str(message["Message-ID"])[:300] if message["Message-ID"] else None,
        raw=raw_bytes.decode("utf-8", errors="replace"),
    )
    with session_scope() as db:
        row.school_id = school_of(db, str(message.get("X-Send-Outbox-Key", "")).strip(), recipients)
        db.add(row)
        db.flush()
        log.info("devmail stored message %s", row.id)


def subject(raw: str) -> str:
    """The subject in words (RFC 2047 encoded words decoded), on one line."""
    try:
        return " ".join(str(make_header(decode_header(raw))).split())
    except (UnicodeError, LookupError, ValueError):
        return " ".join(raw.split())


def school_of(db: Session, outbox_key: str, recipients: list[str]) -> int | None:
    """Whose mail it is: the school of its outbox key's case, else the one school its recipients belong to.

    A recipient belongs to a school as its staff member or as a parent of one of its pupils; a message
    that belongs to no school, or to more than one, is nobody's (no school reads it).
    """
    if outbox_key:
        school = db.exec(
            select(Case.school_id)
            .join(OutboxMessage, col(OutboxMessage.case_id) == Case.id)
            .where(OutboxMessage.key == outbox_key)
        ).first()
        if school is not None:
            return school
    addresses = [r.strip().lower() for r in recipients if r.strip()]
    if not addresses:
        return None
    schools = set(db.exec(select(Staff.school_id).where(func.lower(Staff.email).in_(addresses))).all())
    schools |= set(
        db.exec(
            select(Pupil.school_id)
            .join(PupilParent, col(PupilParent.pupil_id) == Pupil.id)
            .join(Parent, col(Parent.id) == PupilParent.parent_id)
            .where(func.lower(Parent.email).in_(addresses))
        ).all()
    )
    return schools.pop() if len(schools) == 1 else None


def start_devmail(host: str, port: int) -> Controller:
    """Start the development mail server in its own thread; call .stop() on the result to end it."""
    logging.getLogger(SMTP_LOG).setLevel(logging.WARNING)
    controller = Controller(KeepInDatabase(), hostname=host, port=port)
    controller.start()
    log.info("devmail listening on %s:%s", host, port)
    return controller


def main() -> None:
    """Run the development mail server on 127.0.0.1:SEND_SMTP_PORT until Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    controller = start_devmail("127.0.0.1", get_settings().smtp_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
