"""A link sent again: the SENDCo asked from the case page, so one email goes to that one reader with a new
link for the same purpose (made by the email activity, which also retires the old one).

Not a case: a one-off workflow, so the email is sent by the worker exactly once, never by a web request.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.schemas import EmailRequest, EmailResult
    from workflows.case_io import EMAIL_OPTIONS


def resend_workflow_id(link_id: str, attempt: str) -> str:
    return f"resend-link-{link_id}-{attempt}"


@workflow.defn(name="resend_link")
class ResendLink:
    @workflow.run
    async def run(self, req: EmailRequest) -> str:
        result: EmailResult = await workflow.execute_activity(
            "send_email", req, result_type=EmailResult, **EMAIL_OPTIONS
        )
        return result.status
