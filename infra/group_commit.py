"""Group commit: the small writes that many coroutines ask for at once, in one transaction.

SQLite lets one transaction write at a time, and each waits its turn for the lock. An email batch
records each copy's delivery before it sends the next, so dozens of batches running together each wait
their turn for a write of one row. Here the writes that arrive while one transaction commits go to the
database together in the next one: each caller still returns only once its own write has committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel import Session

from infra.database import session_scope

T = TypeVar("T")
Write = Callable[[Session], Any]


@dataclass
class GroupCommit:
    """Writes (functions of a session) from the coroutines of one event loop, committed in groups."""

    _waiting: list[tuple[Write, asyncio.Future[Any]]] = field(default_factory=list)
    _committer: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None  # the loop its futures belong to (tests run many)

    async def write(self, write: Callable[[Session], T]) -> T:
        """Run `write` in a transaction and return what it returns, once that transaction has committed;
        what it raises is raised here, and the other writes of its group are committed without it."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._waiting, self._committer = loop, [], None
        done: asyncio.Future[T] = loop.create_future()
        self._waiting.append((write, done))
        if self._committer is None or self._committer.done():
            self._committer = loop.create_task(self._commit_while_waiting())
        return await done  # a caller cancelled meanwhile does not stop its write (it may be under way)

    async def _commit_while_waiting(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                outcomes = await asyncio.to_thread(commit_group, [write for write, _ in group])
            except asyncio.CancelledError:  # the loop is closing: nobody is left waiting for ever
                for _, done in [*group, *self._waiting]:
                    done.cancel()
                raise
            for (_, done), (ok, value) in zip(group, outcomes, strict=True):
                if done.done():
                    continue
                if ok:
                    done.set_result(value)
                else:
                    done.set_exception(value)


def commit_group(writes: list[Write]) -> list[tuple[bool, Any]]:
    """Each write's (True, result) or (False, exception): all in one transaction, or, if any of them
    fails, each in its own (so one write that fails takes no other with it)."""
    try:
        with session_scope() as session:
            results = [write(session) for write in writes]
    except Exception as err:
        if len(writes) == 1:
            return [(False, err)]
        return [outcome for write in writes for outcome in commit_group([write])]
    return [(True, result) for result in results]


WRITES = GroupCommit()  # the process's own: its record writes and its email deliveries, together
