"""A minimal case that waits on one deadline, so the deadline engine can be tested on its own."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.schemas import CaseRef, Recipient
    from workflows.kit import CaseWorkflow


class ProbeInput(BaseModel):
    case: CaseRef
    due: date
    owner: Recipient
    rule_id: str = "AR-REPORT"


@workflow.defn(name="deadline_probe")
class DeadlineProbe(CaseWorkflow):
    @workflow.init
    def __init__(self, inp: ProbeInput) -> None:
        self.open_case(inp.case)
        self.done = False

    @workflow.run
    async def run(self, inp: ProbeInput) -> str:
        watch = self.deadline("step", "report", "Send the review report", inp.rule_id, inp.due, inp.owner)
        outcome = await watch.until(lambda: self.done)
        await self.settle()
        return outcome

    @workflow.update
    async def complete(self) -> None:
        self.done = True
