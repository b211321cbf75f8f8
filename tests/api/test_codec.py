"""The codec endpoint and the payload codec: who may decode, whose payloads, key rotation, the UI's origin.

Payloads come from a real case's history on the Temporal dev server, started through the API.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from sqlmodel import Session
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest

from domain.schemas import Role
from infra.codec import SCHOOL, EncryptionCodec, UnreadablePayload
from infra.settings import Settings
from store.register import School, Staff
from store.tokens import issue_token
from tests.conftest import client_for


def key(n: int) -> str:
    return base64.b64encode(bytes([n]) * 32).decode()


def as_json(payloads: list[Payload]) -> dict[str, Any]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


def from_json(body: dict[str, Any]) -> list[Payload]:
    return list(json_format.ParseDict(body, Payloads()).payloads)


@pytest.fixture
def other_sendco(api_url, engine) -> httpx.Client:  # type: ignore[no-untyped-def]
    """The SENDCo of another school of the trust."""
    with Session(engine, expire_on_commit=False) as s:
        school = School(name="Other Academy", local_authority="Kent")
        s.add(school)
        s.commit()
        staff = Staff(
            school_id=school.id, name="Other SENDCo", email=f"{uuid.uuid4().hex}@o.example", role=Role.sendco
        )
        s.add(staff)
        s.commit()
        token = issue_token(s, staff.id)
    return client_for(api_url, token)


async def started_case_input(live_api, dev_env, as_sendco, pupil) -> tuple[str, Payload]:  # type: ignore[no-untyped-def]
    """Start a records request through the API; its workflow's input payload as the server keeps it."""
    received = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    body = {"process": "records_request", "pupil_id": pupil.id, "facts": {"request_received": received}}
    started = as_sendco.post("/api/v1/cases", json=body)
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    history = await dev_env.client.workflow_service.get_workflow_execution_history(
        GetWorkflowExecutionHistoryRequest(
            namespace=dev_env.client.namespace, execution={"workflow_id": workflow_id}
        )
    )
    first = history.history.events[0].workflow_execution_started_event_attributes
    return started.json()["id"], first.input.payloads[0]


async def test_decode_only_for_the_sendco_and_head_of_the_cases_school(  # type: ignore[no-untyped-def]
    live_api, dev_env, as_sendco, as_head, as_teacher, other_sendco, pupil, school
) -> None:
    case_id, payload = await started_case_input(live_api, dev_env, as_sendco, pupil)
    assert payload.metadata[SCHOOL] == str(school.id).encode()  # the case's school, in the metadata
    assert case_id.encode() not in payload.data  # and encrypted

    for client in (as_sendco, as_head):
        decoded = client.post("/codec/decode", json=as_json([payload]))
        assert decoded.status_code == 200, decoded.text
        (plain,) = from_json(decoded.json())
        assert case_id.encode() in plain.data

    teacher = as_teacher.post("/codec/decode", json=as_json([payload]))
    assert teacher.status_code == 403 and case_id not in teacher.text
    other = other_sendco.post("/codec/decode", json=as_json([payload]))
    assert other.status_code == 403 and case_id not in other.text

    # Relabelled as the other school's, it no longer decrypts: the school is bound to the ciphertext.
    other_school = other_sendco.get("/api/v1/schools").json()["items"][0]["id"]
    forged = Payload()
    forged.CopyFrom(payload)
    forged.metadata[SCHOOL] = str(other_school).encode()
    refused = other_sendco.post("/codec/decode", json=as_json([forged]))
    assert refused.status_code == 422 and case_id not in refused.text
    assert as_sendco.post("/codec/decode", content=b"not json").status_code == 422


def test_encode_is_for_the_sendco_and_head_as_their_school(as_sendco, as_teacher, school) -> None:  # type: ignore[no-untyped-def]
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')
    encoded = as_sendco.post("/codec/encode", json=as_json([plain]))
    assert encoded.status_code == 200
    (sealed,) = from_json(encoded.json())
    assert sealed.metadata[SCHOOL] == str(school.id).encode() and b"hello" not in sealed.data
    assert from_json(as_sendco.post("/codec/decode", json=encoded.json()).json()) == [plain]
    assert as_teacher.post("/codec/encode", json=as_json([plain])).status_code == 403
    assert httpx.post(f"{as_sendco.base_url}/codec/decode", json=encoded.json()).status_code == 401


async def test_older_keys_still_decrypt_and_new_payloads_use_the_current_key() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"case": 1}')
    before = EncryptionCodec.from_settings(Settings(codec_key=key(1), codec_key_id="k1"))
    old = [before.encrypt(plain, 7), *(await before.encode([plain]))]

    after = EncryptionCodec.from_settings(
        Settings(codec_key=key(2), codec_key_id="k2", codec_old_keys=f"k1:{key(1)}")
    )
    assert await after.decode(old) == [plain, plain]
    (new,) = await after.encode([plain])
    assert new.metadata["encryption-key-id"] == b"k2"

    forgotten = EncryptionCodec.from_settings(Settings(codec_key=key(2), codec_key_id="k2"))
    with pytest.raises(UnreadablePayload):
        await forgotten.decode(old[:1])
    for bad in ("k1", f"k1:{base64.b64encode(b'short').decode()}", f"k2:{key(1)}", f":{key(1)}"):
        with pytest.raises(ValueError, match="SEND_CODEC_OLD_KEYS"):
            Settings(codec_key=key(2), codec_key_id="k2", codec_old_keys=bad)


def test_the_ui_origin_comes_from_the_port_that_starts_it(api_url) -> None:  # type: ignore[no-untyped-def]
    assert Settings(temporal_ui_port=9233).codec_cors_origins.split(",") == [
        "http://localhost:9233",
        "http://127.0.0.1:9233",
    ]
    assert Settings(temporal_ui_port=9233, codec_cors_origins="https://ui.example").codec_cors_origins == (
        "https://ui.example"
    )
    ui = f"http://localhost:{Settings().temporal_ui_port}"  # the tests' app runs on the default settings
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = httpx.options(f"{api_url}/codec/decode", headers={"Origin": ui, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ui
    assert allowed.headers["access-control-allow-credentials"] == "true"
    elsewhere = httpx.options(
        f"{api_url}/codec/decode", headers={"Origin": "http://localhost:9999", **preflight}
    )
    assert "access-control-allow-origin" not in elsewhere.headers
