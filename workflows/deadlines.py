"""The deadline engine every process shares: remind before, mark met, escalate after, re-plan on change."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.dates import add_working_days, english_moment, last_weekday_on_or_before
    from domain.deadline_states import FINAL, LATE, DeadlineEvent, DeadlineState, after
    from domain.rules import rule
    from domain.schemas import Actor, DeadlineRecord, Recipient
    from workflows.case_io import CaseIO

if TYPE_CHECKING:
    from workflows.escalations import Escalations

REMIND_AT = time(8, 0)  # reminders go out at 08:00 in England on their day
# A deadline already past when it is set is shown missed, but nobody is told it is late the same instant:
# its owner is asked (by the step that set it) and chased, with the escalation, on the owner's next
# working day if it is still not done.
LATE_WHEN_SET = "late-when-set-chased-next-working-day"
# The escalations of one case go out as one email a day to each recipient (workflows/escalations.py),
# not one email per deadline.
ONE_ESCALATION_EMAIL_A_DAY = "one-escalation-email-per-case-a-day"
HEADTEACHER = Recipient(kind="headteacher")
SENDCO = Recipient(kind="sendco")
PARENT = Recipient(kind="parent")  # every parent or carer linked to the pupil


def remind_at() -> time:
    """REMIND_AT, unless the scale bench started this worker with SEND_BENCH_REMIND_AT.

    The setting is declared and checked in infra/settings.py, where production refuses it: the worker
    reads its settings as it starts, so no production worker runs with it. A workflow module reads no
    settings module (tests/test_layers.py), hence the environment here.
    """
    with workflow.unsafe.sandbox_unrestricted():
        bench = os.environ.get("SEND_BENCH_REMIND_AT")
    return time.fromisoformat(bench) if bench else REMIND_AT


def days(delta: timedelta) -> str:
    """'1 day', '3 days'."""
    n = abs(delta.days)
    return f"{n} day" if n == 1 else f"{n} days"


@dataclass(frozen=True)
class Policy:
    """When to remind and whom to escalate to; processes may configure their own."""

    remind_days_before: tuple[int, ...] = (7, 1)
    escalate_to: tuple[Recipient, ...] = (HEADTEACHER,)
    escalate_every: timedelta = timedelta(days=7)
    chase_owner_after_breach: bool = True


@dataclass
class _Change:
    old: date
    new: date
    actor: Actor
    reason: str
    tell_owner: bool


@dataclass
class Deadline:
    """Waits for one step that has a due date, keeping its deadline row and the chronology current."""

    io: CaseIO
    key: str
    step: str
    title: str
    rule_id: str
    due: date
    owner: Recipient
    policy: Policy = field(default_factory=Policy)
    collector: Escalations | None = None  # the case's escalation emails, one a day (the kit's)
    status: DeadlineState = DeadlineState.pending
    escalations: int = 0
    _last_escalation: datetime | None = None
    _sent: set[str] = field(default_factory=set)
    _changes: list[_Change] = field(default_factory=list)
    _cancelled: bool = False
    _grace_until: datetime | None = None  # set when the deadline was already past as it was set

    # --- what handlers call -------------------------------------------------
    def move(self, due: date, actor: Actor, reason: str, *, tell_owner: bool = False) -> None:
        """Re-plan the due date (every timer follows); recorded with who and why, the owner told if asked."""
        self._changes.append(_Change(self.due, due, actor, reason, tell_owner))
        self.due = due

    def cancel(self) -> None:
        """The step is no longer needed."""
        self._cancelled = True

    @property
    def is_final(self) -> bool:
        """Met, met late or cancelled: nothing moves it any more."""
        return self.status in FINAL

    @property
    def is_late(self) -> bool:
        return self.status in LATE

    def _go(self, event: DeadlineEvent) -> None:
        self.status = after(self.status, event)

    # --- the wait -----------------------------------------------------------
    async def until(self, done: Callable[[], bool]) -> str:
        """Wait until done() is true; returns the final state: met, met_late or cancelled."""
        self.io.stage(deadlines=[self._row()])
        if self.breach_at <= workflow.now() and workflow.patched(LATE_WHEN_SET):
            self._grace_until = english_moment(self._next_working_day(), REMIND_AT)
        while True:
            if done():
                return self._complete()
            if self._cancelled:
                self._go(DeadlineEvent.cancelled)
                self.io.stage(deadlines=[self._row()], notes=[self.io.note("deadline-cancelled", self.title)])
                return self.status
            if self._changes:
                await self._replanned()
                continue
            when, fire = self._next_event()
            try:
                await workflow.wait_condition(
                    lambda: done() or self._cancelled or bool(self._changes),
                    timeout=max(when - workflow.now(), timedelta(seconds=1)),
                )
            except TimeoutError:
                await fire()

    @property
    def breach_at(self) -> datetime:
        """The first moment after the due date."""
        return english_moment(self.due + timedelta(days=1), time(0, 0))

    def _next_working_day(self) -> date:
        """The owner's next working day: the SENDCo's own pattern for the SENDCo, else England's."""
        day = add_working_days(self.io.today, 1)
        if self.owner.kind == "sendco":
            working = set(self.io.case.calendar.sendco_working_days) or {0, 1, 2, 3, 4}
            while day.weekday() not in working:
                day += timedelta(days=1)
        return day

    def reminder_dates(self) -> list[date]:
        """Reminder days, moved onto the SENDCo's working days when the SENDCo must act."""
        days = [self.due - timedelta(days=n) for n in self.policy.remind_days_before]
        if self.owner.kind == "sendco":
            working = self.io.case.calendar.sendco_working_days
            days = [last_weekday_on_or_before(d, working) for d in days]
        return sorted(set(days))

    def _next_event(self) -> tuple[datetime, Callable[[], object]]:
        now = workflow.now()
        if self.status == DeadlineState.pending:
            for day in self.reminder_dates():
                at = english_moment(day, remind_at())
                if at >= now and self._reminder_key(day) not in self._sent:
                    return at, lambda day=day: self._remind(day)
            return self.breach_at, self._breach
        assert self._last_escalation is not None
        return self._last_escalation + self.policy.escalate_every, self._escalate

    def _reminder_key(self, day: date) -> str:
        return f"{self.key}:remind:{self.due}:{day}"

    async def _remind(self, day: date) -> None:
        key = self._reminder_key(day)
        self._sent.add(key)
        days_left = (self.due - self.io.today).days
        await self.io.send(key, "reminder", [self.owner], self._context(days_left=days_left))
        self.io.remark(
            "reminder-sent", f"{self.title}: due {self.due:%d %b %Y} ({self.rule_id}), to {self.owner.label}"
        )

    async def _breach(self) -> None:
        self._go(DeadlineEvent.breached)
        self.io.stage(
            deadlines=[self._row()],
            notes=[
                self.io.note("deadline-missed", f"{self.title}: was due {self.due:%d %b %Y} ({self.rule_id})")
            ],
        )
        if self._grace_until is not None and workflow.now() < self._grace_until:
            # Late as it was set: shown missed now, chased and escalated on the owner's next working day.
            self._last_escalation = self._grace_until - self.policy.escalate_every
            return
        await self._escalate()

    async def _escalate(self) -> None:
        self.escalations += 1
        self._last_escalation = workflow.now()
        n = self.escalations
        days_late = (self.io.today - self.due).days
        context = self._context(owner=self.owner.label, days_late=days_late, escalation_number=n)
        emails, listed = [], ""
        if self.collector is not None and workflow.patched(ONE_ESCALATION_EMAIL_A_DAY):
            listed = self.collector.add(self)  # before any await: deadlines late together share an email
        else:
            key = f"{self.key}:escalate:{self.due}:{n}"
            emails.append(self.io.email(key, "escalation", list(self.policy.escalate_to), context))
        if self.policy.chase_owner_after_breach and self.owner not in self.policy.escalate_to:
            emails.append(
                self.io.email(f"{self.key}:overdue:{self.due}:{n}", "overdue", [self.owner], context)
            )
        await self.io.send_all(emails)
        self._go(DeadlineEvent.escalated)
        to = ", ".join(r.label for r in self.policy.escalate_to)
        self.io.stage(
            deadlines=[self._row()],
            notes=[
                self.io.note(
                    "deadline-escalated",
                    f"{self.title}: escalation {n} to {to}, {days_late} days late"
                    + (listed and f"; {listed}"),
                )
            ],
        )

    async def _replanned(self) -> None:
        notes, emails = [], []
        while self._changes:
            change = self._changes.pop(0)
            if change.tell_owner:
                moved = {
                    "old_due": change.old.isoformat(),
                    "new_due": change.new.isoformat(),
                    "reason": change.reason,
                }
                key = f"{self.key}:moved:{change.old}:{change.new}"
                emails.append(self.io.email(key, "due-date-changed", [self.owner], self._context(**moved)))
            notes.append(
                self.io.note(
                    "due-date-changed",
                    f"{self.title}: from {change.old:%d %b %Y} to {change.new:%d %b %Y}. "
                    f"Reason: {change.reason}",
                    change.actor,
                )
            )
        ahead = self.breach_at > workflow.now()
        self._go(DeadlineEvent.moved_ahead if ahead else DeadlineEvent.moved_past)
        if self.status == DeadlineState.pending:
            self.escalations, self._last_escalation = 0, None
        await self.io.send_all(emails)
        self.io.stage(deadlines=[self._row()], notes=notes)

    def _complete(self) -> DeadlineState:
        on_time = workflow.now() < self.breach_at
        self._go(DeadlineEvent.done_on_time if on_time else DeadlineEvent.done_late)
        met = self.status == DeadlineState.met
        late = "" if met else f", {days(self.io.today - self.due)} late"
        when = "on time" if met else "late"
        detail = f"{self.title}: done {when} (due {self.due:%d %b %Y}{late}, {self.rule_id})"
        self.io.stage(
            deadlines=[self._row()],
            notes=[self.io.note("deadline-met" if met else "deadline-completed-late", detail)],
        )
        return self.status

    def _row(self) -> DeadlineRecord:
        return DeadlineRecord(
            key=self.key,
            step=self.step,
            rule_id=self.rule_id,
            owner=self.owner.label,
            due=self.due,
            status=self.status,
            at=workflow.now(),
        )

    def _context(self, **extra: object) -> dict:
        r = rule(self.rule_id)
        return {
            "step_title": self.title,
            "due": self.due.isoformat(),
            "rule_id": r.id,
            "citation": r.citation,
            **extra,
        }
