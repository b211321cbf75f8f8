"""A deadline's life as a state machine: every status it can have and every move between them, in one place.

    pending --done on time--> met
    pending --done late-----> met_late          (before the breach timer fired)
    pending --breached------> missed --escalated--> escalated --escalated--> escalated
    missed | escalated --done--> met_late
    missed | escalated --moved past today--> pending   (a new due date still ahead: a fresh clock)
    pending | missed | escalated --cancelled--> cancelled
Met, met late and cancelled are final: nothing moves them, and their due date cannot change.
Pure: safe in the Temporal sandbox.
"""

from __future__ import annotations

from enum import StrEnum


class DeadlineState(StrEnum):
    pending = "pending"
    met = "met"
    met_late = "met_late"
    missed = "missed"
    escalated = "escalated"
    cancelled = "cancelled"


class DeadlineEvent(StrEnum):
    done_on_time = "done_on_time"
    done_late = "done_late"
    breached = "breached"
    escalated = "escalated"
    moved_ahead = "moved_ahead"  # the due date changed to one still ahead
    moved_past = "moved_past"  # the due date changed to one already past
    cancelled = "cancelled"


S, E = DeadlineState, DeadlineEvent
OPEN = frozenset({S.pending, S.missed, S.escalated})
FINAL = frozenset({S.met, S.met_late, S.cancelled})
LATE = frozenset({S.missed, S.escalated, S.met_late})

TRANSITIONS: dict[tuple[DeadlineState, DeadlineEvent], DeadlineState] = {
    (S.pending, E.done_on_time): S.met,
    (S.pending, E.done_late): S.met_late,
    (S.pending, E.breached): S.missed,
    (S.pending, E.moved_ahead): S.pending,
    (S.pending, E.moved_past): S.pending,  # the breach timer fires next, at once
    (S.pending, E.cancelled): S.cancelled,
    (S.missed, E.escalated): S.escalated,
    (S.missed, E.done_on_time): S.met_late,  # done after a breach is late, whatever the clock says now
    (S.missed, E.done_late): S.met_late,
    (S.missed, E.moved_ahead): S.pending,
    (S.missed, E.moved_past): S.missed,
    (S.missed, E.cancelled): S.cancelled,
    (S.escalated, E.escalated): S.escalated,
    (S.escalated, E.done_on_time): S.met_late,
    (S.escalated, E.done_late): S.met_late,
    (S.escalated, E.moved_ahead): S.pending,
    (S.escalated, E.moved_past): S.escalated,
    (S.escalated, E.cancelled): S.cancelled,
}


class IllegalMove(ValueError):
    """A move the state machine does not allow (a final deadline, or an event out of order)."""


def after(state: DeadlineState, event: DeadlineEvent) -> DeadlineState:
    """The state a deadline is in after the event; IllegalMove if the event cannot happen in that state."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalMove(f"a {state.value} deadline cannot be {event.value.replace('_', ' ')}") from None
