"""One escalation email per case, recipient and day, listing every deadline of the case escalated with it.

Each deadline of a case hands its escalation to the case's `Escalations` (made by the process kit) instead
of emailing on its own. The first escalation of an England day opens that day's email to each of its
recipients; whatever else the case escalates within the next second (deadlines missed the same day fire
together) joins it, and it goes as one email listing each deadline (title, rule and citation, days late,
who it waits on). An escalation later the same day waits for the next morning's email (08:00), and is
listed there only if its deadline is still late then; a deadline already listed in today's email is not
listed again; each email also names what is still late from the recipient's earlier emails. The chronology
keeps one note per deadline (written by the deadline).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.dates import english_moment
    from domain.deadline_states import DeadlineState
    from domain.rules import rule
    from domain.schemas import EmailRequest, Recipient
    from workflows.case_io import CaseIO

if TYPE_CHECKING:
    from workflows.deadlines import Deadline

# Escalations within a second of the day's first go in its email: deadlines missed together fire at the
# same moment, though not always in the same workflow task.
GATHER = timedelta(seconds=1)
NEXT_MORNING = time(8, 0)  # an escalation after the day's email waits for the next day's, at 08:00
STILL_LATE = frozenset({DeadlineState.missed, DeadlineState.escalated})
TEMPLATE = "escalation"


class Escalations:
    """A case's escalations waiting for their email, by recipient; at most one email per recipient a day."""

    def __init__(self, io: CaseIO, key: Callable[[str], str]) -> None:
        self.io = io
        self.key = key  # the case's key function: unique across cycles
        self._waiting: dict[str, tuple[Recipient, dict[str, Deadline]]] = {}
        self._sent_on: dict[str, date] = {}
        self._listed: dict[str, set[str]] = {}
        self._told: dict[str, dict[str, Deadline]] = {}  # every deadline each recipient has been told of
        self._sending = False
        self._task: asyncio.Future[None] | None = None

    def add(self, watch: Deadline) -> str:
        """Queue a deadline's escalation to each recipient of its policy; says (for the chronology) when
        it goes, if not in the email going now."""
        today = self.io.today
        later: list[str] = []
        for to in watch.policy.escalate_to:
            sent_today = self._sent_on.get(to.label) == today
            if sent_today and watch.key in self._listed.get(to.label, set()):
                later.append(f"already in today's email to {to.label}")
                continue
            if sent_today:
                later.append(f"in tomorrow's email to {to.label}, one having gone today")
            self._waiting.setdefault(to.label, (to, {}))[1][watch.key] = watch
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        return "; ".join(later)

    async def settle(self) -> None:
        """Wait until any email due now has gone (before the run ends or continues as new)."""
        await workflow.wait_condition(lambda: not self._sending and not self._due_now())

    # --- the sending loop ----------------------------------------------------------------------------
    def _due_now(self) -> list[str]:
        """Recipients with escalations waiting who have had no escalation email today."""
        today = self.io.today
        return [label for label in self._waiting if self._sent_on.get(label) != today]

    def _woken(self, held: int) -> Callable[[], bool]:
        return lambda: bool(self._due_now()) or len(self._waiting) != held

    async def _run(self) -> None:
        while True:
            if not self._due_now():
                # Wait for the first escalation of another day, or for the next morning's email of any
                # held over (a new one held over re-plans the wait).
                tomorrow = english_moment(self.io.today + timedelta(days=1), NEXT_MORNING)
                timeout = tomorrow - workflow.now() if self._waiting else None
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(self._woken(len(self._waiting)), timeout=timeout)
                continue
            self._sending = True
            try:
                await workflow.sleep(GATHER)
                await self._send()
            finally:
                self._sending = False

    async def _send(self) -> None:
        """One email to each recipient due one, listing their deadlines still late now."""
        today = self.io.today
        emails: list[EmailRequest] = []
        for label in self._due_now():
            to, waiting = self._waiting.pop(label)
            late = [w for w in waiting.values() if w.status in STILL_LATE]
            if not late:
                continue
            told = self._told.setdefault(label, {})
            listed = {w.key for w in late}
            before = [w for w in told.values() if w.status in STILL_LATE and w.key not in listed]
            self._sent_on[label], self._listed[label] = today, listed
            told.update((w.key, w) for w in late)
            key = self.key(f"escalate:{label}:{today}")
            emails.append(self.io.email(key, TEMPLATE, [to], escalation_context(late, before, today)))
        await self.io.send_all(emails)


def escalation_context(late: list[Deadline], before: list[Deadline], today: date) -> dict[str, Any]:
    """What the escalation email lists: each deadline escalated now, longest late first, then what is still
    late from earlier emails."""
    items = [_item(w, today) for w in _longest_late_first(late)]
    still = [_item(w, today) for w in _longest_late_first(before)]
    return {
        "late": items,
        "also_late": still,
        "step_title": items[0]["step_title"],
        "days_late": items[0]["days_late"],
    }


def _longest_late_first(deadlines: list[Deadline]) -> list[Deadline]:
    return sorted(deadlines, key=lambda w: (w.due, w.title))


def _item(w: Deadline, today: date) -> dict[str, Any]:
    return {
        "step_title": w.title,
        "due": w.due.isoformat(),
        "days_late": (today - w.due).days,
        "rule_id": w.rule_id,
        "citation": rule(w.rule_id).citation,
        "owner": w.owner.label,
        "escalation_number": w.escalations,
    }
