"""The OpenAPI: each action its own operation with its schema and an example; schemathesis over it all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlmodel import Session

from api.main import create_app
from domain.schemas import Role
from store.casework import ReceivedMail
from store.register import School, Staff
from store.tokens import issue_token
from workflows.registry import PROCESSES

ERROR_STATUSES = {"400", "401", "403", "404", "409", "422", "500", "503"}


@pytest.fixture(scope="module")
def spec(api_url: str) -> dict[str, Any]:
    return httpx.get(f"{api_url}/openapi.json").json()


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def test_every_action_is_its_own_operation_with_its_schema_and_an_example(spec) -> None:  # type: ignore[no-untyped-def]
    for process in PROCESSES.values():
        for name, action in process.actions.items():
            operation = spec["paths"][f"/api/v1/cases/{{case_id}}/actions/{name}"]["post"]
            sharing = [p.actions[name].title for p in PROCESSES.values() if name in p.actions]
            assert operation["summary"] in sharing  # a name processes share is one operation
            assert process.title in operation["description"]
            content = operation["requestBody"]["content"]["application/json"]
            schema = resolve(spec, content["schema"])
            fields = set(action.payload.model_fields) - {"actor"}
            if "anyOf" in schema:  # a name processes share with different payloads: this one is among them
                alternatives = [resolve(spec, a) for a in schema["anyOf"]]
                [schema] = [a for a in alternatives if set(a.get("properties", {})) == fields]
            assert set(schema["properties"]) == fields, name  # the payload, less the actor
            assert schema["additionalProperties"] is False  # so an actor in the body is refused
            required = {f for f, info in action.payload.model_fields.items() if info.is_required()} - {
                "actor"
            }
            assert set(schema.get("required", [])) == required, name
            examples = [e["value"] for e in content["examples"].values()]
            [example] = [e for e in examples if set(e) <= fields and e]
            action.payload.model_validate({**example, "actor": {"staff_id": 1, "role": "sendco"}})
            response = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert response["$ref"].endswith("/ActionTaken")
            assert set(operation["responses"]) >= ERROR_STATUSES
    assert "/api/v1/cases/{case_id}/actions/{action}" not in spec["paths"]  # no generic, untyped route


def test_every_operation_documents_the_error_body(spec) -> None:  # type: ignore[no-untyped-def]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert set(responses) >= ERROR_STATUSES, (method, path)
            for code in ERROR_STATUSES - {"500"}:
                schema = responses[code]["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/ErrorBody"), (method, path, code)
            assert responses["500"]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/InternalError"
            )
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["properties"]) == {"code", "message", "errors"}


@pytest.fixture(scope="module")
def fuzz_token(engine) -> str:  # type: ignore[no-untyped-def]
    """A SENDCo of a school of its own: whatever schemathesis writes touches no other test's school."""
    with Session(engine, expire_on_commit=False) as s:
        school = School(name="Fuzz Academy", local_authority="Kent")
        s.add(school)
        s.commit()
        staff = Staff(school_id=school.id, name="Fuzz SENDCo", email="fuzz@example.org", role=Role.sendco)
        s.add(staff)
        s.commit()
        # A message in the development mailbox, so reading one answers 200 with its whole schema too.
        raw = "From: engine@example.org\r\nTo: fuzz@example.org\r\nSubject: Hello\r\n\r\nBody\r\n"
        s.add(
            ReceivedMail(
                received_at=dt.datetime.now(dt.UTC),
                mail_from="engine@example.org",
                recipients=["fuzz@example.org"],
                subject="Hello",
                raw=raw,
            )
        )
        s.commit()
        return issue_token(s, staff.id)


# What the fuzzing sent and got, printed at the end of the run (tests/conftest.py).
FUZZED = {"cases": 0, "server errors": 0}

# The schema the app publishes (the same app the live server runs); the calls go over HTTP to that server.
schema = schemathesis.openapi.from_dict(create_app().openapi())


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_documented_schema(case, live_api, fuzz_token) -> None:  # type: ignore[no-untyped-def]
    response = case.call(base_url=live_api, headers={"Authorization": f"Bearer {fuzz_token}"}, timeout=30)
    FUZZED["cases"] += 1
    FUZZED["server errors"] += response.status_code >= 500
    case.validate_response(
        response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
    )
