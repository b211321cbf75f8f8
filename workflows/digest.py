"""The SENDCo-day digest: a durable schedule per school, one email on the morning of each of the SENDCo's
working days (from their working pattern), each sent by the `send_sendco_digest` activity.

Not a poller: the workflow sleeps on a timer until the next working morning, then sends once; it
continues as new every few weeks so its history stays short.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.dates import english_date, english_moment
    from domain.digest import DIGEST_AT, DigestInput, DigestRequest, DigestSent, next_digest_day

DIGESTS_PER_RUN = 20


def digest_workflow_id(school_id: int) -> str:
    return f"sendco-digest-{school_id}"


@workflow.defn(name="sendco_digest")
class SendcoDigest:
    @workflow.run
    async def run(self, inp: DigestInput) -> None:
        working = inp.working_days
        for _ in range(DIGESTS_PER_RUN):
            now = workflow.now()
            today = english_date(now)
            ahead = now < english_moment(today, DIGEST_AT)
            day = next_digest_day(today, working, today_still_ahead=ahead)
            await workflow.sleep(max(english_moment(day, DIGEST_AT) - now, timedelta(seconds=1)))
            sent: DigestSent = await workflow.execute_activity(
                "send_sendco_digest",
                DigestRequest(school_id=inp.school_id, on=day),
                result_type=DigestSent,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10)),
            )
            working = sent.working_days or working
        workflow.continue_as_new(DigestInput(school_id=inp.school_id, working_days=working))
