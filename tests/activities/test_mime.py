"""One recipient's message as it goes on the wire: readable by any mail reader, no header injectable."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from activities import mime
from engine.devmail import subject

HEADERS = {"Subject": "Zoë\u2019s annual review \u2013 invitation", "Message-ID": "<k@school.example>"}


def test_a_name_and_subject_outside_ascii_arrive_as_written() -> None:
    headers = {**HEADERS, "From": mime.mailbox("SEND engine", "send@school.example")}
    headers["To"] = mime.mailbox("Siân O\u2019Brien", "parent@example.org")
    data = mime.message(
        headers, "Dear Siân,\nThe meeting is on Monday.\n", "<p>Dear Siân,</p>", b"BEGIN:X\r\n"
    )

    assert data.isascii()  # encoded words and quoted-printable: no 8-bit data for an old relay
    read = message_from_bytes(data, policy=policy.default)
    assert read["Subject"] == HEADERS["Subject"]
    assert subject(str(message_from_bytes(data)["Subject"])) == HEADERS["Subject"]  # as the mailbox keeps it
    assert read["To"].addresses[0].display_name == "Siân O\u2019Brien"
    text, html = (read.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))
    assert (text, html) == (
        "Dear Siân,\nThe meeting is on Monday.\n",
        "<p>Dear Siân,</p>",
    )  # line ends as a reader shows them
    [ics] = list(read.iter_attachments())
    assert (ics.get_content_type(), ics.get_filename(), ics.get_param("method")) == (
        "text/calendar",
        "invite.ics",
        "REQUEST",
    )


@pytest.mark.parametrize("name", ["Evil\r\nBcc: attacker@evil.example", "Tab\there", "Nul\x00"])
def test_a_control_character_in_a_name_is_refused_before_anything_is_written(name: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        mime.mailbox(name, "parent@example.org")


def test_a_line_break_in_a_subject_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        mime.message({"Subject": "Hello\nBcc: x@evil.example"}, "text", "<p>html</p>")
