"""An email that cannot be built (a name forced into the database with a line break in it) fails for good:
never retried, the outbox row and the case say so, the SENDCo is told, and other recipients get theirs."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from store.register import Parent, PupilParent
from tests.activities.test_email import body, chronology, new_case, outbox, probe, reminder, uid

INJECTED = "Evil\r\nBcc: attacker@evil.example"


@pytest.mark.parametrize("others", [0, 1])
async def test_a_header_injection_name_in_the_database_fails_its_copy_and_tells_the_sendco(  # type: ignore[no-untyped-def]
    engine, smtp, school, sendco, time_env, others
) -> None:
    smtp.clear()
    the_case, pupil, parents = new_case(engine, school, sendco[0], parents=others)
    forced_email = f"forced-{uid()}@example.org"
    with Session(engine, expire_on_commit=False) as s:  # past the register's check, as an old row might be
        forced = Parent(name=INJECTED, email=forced_email)
        s.add(forced)
        s.commit()
        s.add(PupilParent(pupil_id=pupil.id, parent_id=forced.id))
        s.commit()
    req = reminder(the_case, f"unbuildable:{others}", "parent")

    outcome = await probe(time_env.client, req)

    received = {m["X-RcptTo"]: m for m in smtp.messages}
    assert forced_email not in received and not any("evil.example" in m.as_string() for m in smtp.messages)
    assert [p.email for p in parents if p.email in received] == [p.email for p in parents]
    row = outbox(engine, req.key)
    assert row.attempts == 1 and row.error and "cannot be built" in row.error and "@" not in row.error
    if others:  # the other parent's copy went; the case shows the one that could not
        assert outcome.error_type is None and row.status == "sent"
        [entry] = [e for e in chronology(engine, the_case.id) if e.action == "email-partly-refused"]
    else:
        assert (outcome.error_type, outcome.non_retryable) == ("EmailRejected", True)
        assert row.status == "failed"
        [entry] = [e for e in chronology(engine, the_case.id) if e.action == "email-failed"]
    assert "cannot be built" in entry.detail and "@" not in entry.detail
    notice = received[sendco[0].email]
    assert notice["Subject"].startswith("Email not delivered")
    assert "cannot be built" in body(notice, "plain")
