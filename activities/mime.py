"""One recipient's MIME message, written out for SMTP: text and HTML alternatives, and an .ics invitation.

Built with the standard library's compat32 classes (email.mime), which write a message about four times
faster than EmailMessage and the default policy: a step's dozen copies are a large part of its cost. The
price is that compat32 checks no header, so every header value is checked here first: a line break or
another control character in a name, address or subject could otherwise add a header (a Bcc).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import re
from email import charset, encoders
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

from icalendar import Calendar, Event, vCalAddress, vText

from activities.recipients import Person
from domain.dates import ENGLAND
from domain.schemas import Invite

# Bodies as quoted-printable UTF-8: readable on the wire, safe for any text.
UTF8_QP = charset.Charset("utf-8")
UTF8_QP.body_encoding = charset.QP
# Long header lines are allowed up to RFC 5322's 998: folding a subject of about 78 characters puts it
# on a continuation line, which many readers (Python's own parser too) show with a leading space.
WIRE = email.policy.compat32.clone(linesep="\r\n", max_line_length=998)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def header(value: str) -> str | Header:
    """A header value as it may go on the wire: ValueError for a control character (CR, LF, NUL, tab)."""
    if CONTROL.search(value):
        raise ValueError("a name, address or subject has a line break or control character in it")
    return value if value.isascii() else Header(value, "utf-8", maxlinelen=998)


def mailbox(name: str, address: str) -> str:
    """'Name <address>' with the name encoded when it is not ASCII; ValueError for a control character."""
    header(name)
    header(address)
    if not address.isascii():
        raise ValueError("the address has letters the mail server cannot send (outside plain A to Z)")
    return formataddr((name, address), charset="utf-8")


def message(headers: dict[str, str], text: str, html: str, calendar: bytes | None = None) -> bytes:
    """The message as bytes: headers (each checked; From and To made by `mailbox`), text and HTML
    alternatives, the calendar attached."""
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(text, "plain", UTF8_QP))
    body.attach(MIMEText(html, "html", UTF8_QP))
    if calendar is None:
        outer: MIMEBase = body
    else:
        outer = MIMEMultipart("mixed")
        outer.attach(body)
        ics = MIMEBase("text", "calendar", method="REQUEST")
        ics.set_payload(calendar)
        encoders.encode_base64(ics)
        ics.add_header("Content-Disposition", "attachment", filename="invite.ics")
        outer.attach(ics)
    for name, value in headers.items():
        outer[name] = header(value)
    return outer.as_bytes(policy=WIRE)


def invitation(invite: Invite, *, organizer: tuple[str, str], people: list[Person]) -> bytes:
    """An iTIP REQUEST calendar: times in UTC (naive start times are UK local time)."""
    start = invite.start if invite.start.tzinfo else invite.start.replace(tzinfo=ENGLAND)
    start = start.astimezone(dt.UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//SEND case engine//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", start + dt.timedelta(minutes=invite.minutes))
    event.add("summary", invite.summary)
    if invite.location:
        event.add("location", invite.location)
    event.add("organizer", _cal_address(*organizer))
    for person in people:
        attendee = _cal_address(person.name, person.email)
        attendee.params.update(role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp="TRUE")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return calendar.to_ical()


def _cal_address(name: str, email: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["cn"] = vText(name)
    return address
