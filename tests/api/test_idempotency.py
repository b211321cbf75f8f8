"""An action sent again with its Idempotency-Key gets the first answer, not a 409; and when the engine does
not answer, "nothing was done, try again" is said only when the case does not have the action."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from api import temporal_calls
from tests.api.test_cases_api import eventually, start_records_request
from tests.conftest import client_for
from tests.fixtures.temporal import worker_in_thread

SUBMIT = "submit-for-approval"


def submissions(client, case_id: str) -> int:  # type: ignore[no-untyped-def]
    entries = client.get(f"/api/v1/cases/{case_id}/chronology").json()
    return sum(e["action"] == "submitted-for-approval" for e in entries)


def test_the_same_key_again_returns_the_first_answer(live_api, sendco, pupil) -> None:  # type: ignore[no-untyped-def]
    with client_for(live_api, sendco[1]) as desk:
        case_id = start_records_request(desk, pupil.id)
        key = {"Idempotency-Key": f"submit-{uuid.uuid4()}"}
        url = f"/api/v1/cases/{case_id}/actions/{SUBMIT}"
        first = desk.post(url, json={"note": "Record gathered"}, headers=key)
        assert first.status_code == 200, first.text
        again = desk.post(url, json={"note": "Record gathered"}, headers=key)
        assert again.status_code == 200, again.text
        assert again.json()["result"] == first.json()["result"] == "submitted"
        assert eventually(lambda: submissions(desk, case_id)) == 1
        without = desk.post(url, json={"note": "Record gathered"})  # a new action: refused, as done already
        assert without.status_code == 409, without.text
        assert submissions(desk, case_id) == 1
        bad = desk.post(url, json={"note": "x"}, headers={"Idempotency-Key": "no spaces allowed"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.fixture
def own_queue(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """This test's cases start on a queue of their own, whose worker the test can stop and start."""
    before = app.state.task_queue
    app.state.task_queue = f"idempotency-{uuid.uuid4()}"
    try:
        yield app.state.task_queue
    finally:
        app.state.task_queue = before


def test_an_unanswered_action_is_not_called_undone_and_its_retry_gets_the_answer(  # type: ignore[no-untyped-def]
    live_api, dev_env, own_queue, sendco, pupil, monkeypatch
) -> None:
    target = dev_env.client.service_client.config.target_host
    executor = ThreadPoolExecutor(max_workers=4)
    with client_for(live_api, sendco[1]) as desk:
        with worker_in_thread(target, own_queue, executor):
            case_id = start_records_request(desk, pupil.id)
            eventually(lambda: desk.get(f"/api/v1/cases/{case_id}").json()["actions"])
        url = f"/api/v1/cases/{case_id}/actions/{SUBMIT}"
        key = {"Idempotency-Key": f"submit-{uuid.uuid4()}"}

        monkeypatch.setattr(temporal_calls, "ANSWER_WITHIN", temporal_calls.timedelta(seconds=2))
        lost = desk.post(url, json={"note": "Record gathered"}, headers=key)  # the worker is gone
        assert lost.status_code == 503, lost.text
        assert "not carried it out yet" in lost.json()["message"]
        assert "nothing was done" not in lost.json()["message"]
        monkeypatch.undo()

        with worker_in_thread(target, own_queue, executor):  # back: the action is done once, and the retry
            retry = desk.post(url, json={"note": "Record gathered"}, headers=key)  # gets its answer
            assert retry.status_code == 200, retry.text
            assert retry.json()["result"] == "submitted"
            assert eventually(lambda: submissions(desk, case_id)) == 1
