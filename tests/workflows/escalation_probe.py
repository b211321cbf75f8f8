"""A minimal case waiting on several deadlines at once, so one escalation email a day can be tested."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.schemas import CaseRef, Recipient
    from workflows.kit import CaseWorkflow


class Step(BaseModel):
    key: str
    title: str
    rule_id: str
    due: date
    owner: Recipient


class SeveralInput(BaseModel):
    case: CaseRef
    steps: list[Step]


@workflow.defn(name="escalation_probe")
class SeveralDeadlines(CaseWorkflow):
    @workflow.init
    def __init__(self, inp: SeveralInput) -> None:
        self.open_case(inp.case)
        self.done: set[str] = set()

    @workflow.run
    async def run(self, inp: SeveralInput) -> dict[str, str]:
        for s in inp.steps:
            watch = self.deadline(s.key, s.key, s.title, s.rule_id, s.due, s.owner)
            self.watch(watch, lambda key=s.key: key in self.done)
        await workflow.wait_condition(lambda: len(self.done) == len(inp.steps))
        outcomes = {key: await task for key, task in self.tasks.items()}
        await self.settle()
        return outcomes

    @workflow.update
    async def complete(self, key: str) -> None:
        self.done.add(key)
