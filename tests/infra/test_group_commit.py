"""Group commit: writes that arrive together share one transaction, and each caller gets its own outcome."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import event, select
from sqlmodel import Session, col

from infra.group_commit import GroupCommit
from store.register import School


@pytest.fixture
def commits(engine) -> Iterator[list[object]]:  # type: ignore[no-untyped-def]
    """Every transaction committed on the tests' database while the test runs."""
    seen: list[object] = []

    def committed(connection: object) -> None:
        seen.append(connection)

    event.listen(engine, "commit", committed)
    yield seen
    event.remove(engine, "commit", committed)


def adds(name: str) -> Callable[[Session], int]:
    def write(session: Session) -> int:
        school = School(name=name, local_authority="Kent")
        session.add(school)
        session.flush()
        assert school.id is not None
        return school.id

    return write


def stored(engine, names: list[str]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return dict(s.execute(select(School.id, School.name).where(col(School.name).in_(names))).all())


async def test_writes_that_arrive_together_are_committed_in_one_transaction(engine, commits) -> None:  # type: ignore[no-untyped-def]
    names = [f"Group {uuid.uuid4().hex[:8]} {i}" for i in range(20)]
    group = GroupCommit()

    ids = await asyncio.gather(*(group.write(adds(name)) for name in names))

    assert len(commits) == 1  # twenty writes, one commit
    assert stored(engine, names) == dict(zip(ids, names, strict=True))  # each caller got its own row


async def test_a_write_that_fails_fails_alone(engine, commits) -> None:  # type: ignore[no-untyped-def]
    first, failing, last = (f"Alone {uuid.uuid4().hex[:8]} {i}" for i in range(3))

    def fails(session: Session) -> int:
        adds(failing)(session)
        raise ValueError("this one cannot be written")

    group = GroupCommit()
    outcomes = await asyncio.gather(
        group.write(adds(first)), group.write(fails), group.write(adds(last)), return_exceptions=True
    )

    assert isinstance(outcomes[1], ValueError) and str(outcomes[1]) == "this one cannot be written"
    assert stored(engine, [first, failing, last]) == {outcomes[0]: first, outcomes[2]: last}


async def test_a_write_that_arrives_while_a_group_commits_goes_in_the_next(engine, commits) -> None:  # type: ignore[no-untyped-def]
    early, late = (f"Next {uuid.uuid4().hex[:8]} {i}" for i in range(2))
    group = GroupCommit()
    writing = asyncio.Event()

    def slow(session: Session) -> int:
        row = adds(early)(session)
        loop.call_soon_threadsafe(writing.set)
        return row

    loop = asyncio.get_running_loop()
    first = asyncio.create_task(group.write(slow))
    await writing.wait()  # the first group is being written: this write waits for the next
    second = await group.write(adds(late))

    assert stored(engine, [early, late]) == {await first: early, second: late}
    assert len(commits) == 2


async def test_callers_are_told_when_the_commit_is_cut_short(engine) -> None:  # type: ignore[no-untyped-def]
    group = GroupCommit()
    writing, go_on = asyncio.Event(), threading.Event()
    loop = asyncio.get_running_loop()

    def waits(session: Session) -> None:
        loop.call_soon_threadsafe(writing.set)
        go_on.wait(5)

    caller = asyncio.create_task(group.write(waits))
    await writing.wait()
    later = asyncio.create_task(group.write(adds(f"Cut {uuid.uuid4().hex[:8]}")))
    await asyncio.sleep(0)
    assert group._committer is not None
    group._committer.cancel()  # as when the worker's event loop closes
    go_on.set()
    for waiting in (caller, later):
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 5)
