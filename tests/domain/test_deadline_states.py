"""domain.deadline_states: every move a deadline can make, and every one it cannot."""

from __future__ import annotations

import itertools

import pytest

from domain.deadline_states import (
    FINAL,
    OPEN,
    TRANSITIONS,
    DeadlineEvent,
    DeadlineState,
    IllegalMove,
    after,
)

S, E = DeadlineState, DeadlineEvent


@pytest.mark.parametrize(
    ("journey", "ends"),
    [
        ([E.done_on_time], S.met),
        ([E.done_late], S.met_late),  # done after the due date, before the breach timer fired
        ([E.breached, E.escalated, E.escalated, E.done_late], S.met_late),
        ([E.breached, E.done_on_time], S.met_late),  # once missed, done is late whatever the clock says
        ([E.breached, E.escalated, E.moved_ahead], S.pending),  # a new date ahead: a fresh clock
        ([E.breached, E.escalated, E.moved_past], S.escalated),
        ([E.breached, E.moved_past], S.missed),
        ([E.moved_past, E.breached], S.missed),
        ([E.breached, E.cancelled], S.cancelled),
        ([E.cancelled], S.cancelled),
    ],
)
def test_a_deadline_s_journeys(journey: list[DeadlineEvent], ends: DeadlineState) -> None:
    state = S.pending
    for event in journey:
        state = after(state, event)
    assert state == ends


@pytest.mark.parametrize(("state", "event"), list(itertools.product(FINAL, DeadlineEvent)))
def test_nothing_moves_a_final_deadline(state: DeadlineState, event: DeadlineEvent) -> None:
    with pytest.raises(IllegalMove, match=f"a {state.value} deadline cannot be"):
        after(state, event)


def test_the_table_covers_exactly_the_open_states() -> None:
    assert {state for state, _ in TRANSITIONS} == set(OPEN)
    assert set(DeadlineState) == OPEN | FINAL and not OPEN & FINAL
    assert (S.pending, E.escalated) not in TRANSITIONS  # escalation only follows a breach
    assert all(TRANSITIONS[(state, E.cancelled)] == S.cancelled for state in OPEN)
