"""The codec endpoint the Temporal Web UI calls to show decrypted payloads to the school's SENDCo and head.

Only the SENDCo and the headteacher use it, and only for their own school's cases: every payload carries
its case's school in its metadata (bound to the ciphertext), and one of another school, or of none, is
refused. The Temporal UI calls it from its own origin with the staff member's session cookie (CORS in
api/main.py, from the settings that start the UI).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.deps import require_role
from api.errors import ApiError
from domain.schemas import Role
from infra.codec import UnreadablePayload, is_encrypted, school_of_payload
from infra.temporal import codec
from store.register import Staff

router = APIRouter(prefix="/codec", tags=["codec"])
Reader = Annotated[Staff, require_role(Role.sendco, Role.headteacher)]
NOT_YOUR_SCHOOL = "These payloads are not of a case at your school, so they cannot be shown to you."


async def _payloads(request: Request) -> list[Payload]:
    raw = await request.body()
    try:
        if not raw.lstrip().startswith(b"{"):
            raise json_format.ParseError("not a JSON object")
        return list(json_format.Parse(raw, Payloads()).payloads)
    except json_format.ParseError as err:
        reason = 'send the payloads as the Temporal codec protocol describes: {"payloads": [...]}'
        raise ApiError(422, "The payloads could not be read.", [{"field": None, "reason": reason}]) from err


def _answer(payloads: list[Payload]) -> dict[str, Any]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


@router.post("/encode")
async def encode(request: Request, staff: Reader) -> dict[str, Any]:
    """Encrypt payloads as your school's (the SENDCo and headteacher only)."""
    c = codec()
    return _answer([c.encrypt(p, staff.school_id) for p in await _payloads(request)])


@router.post("/decode")
async def decode(request: Request, staff: Reader) -> dict[str, Any]:
    """Decrypt payloads of your school's cases (403 if any is another school's, or of no school)."""
    payloads = await _payloads(request)
    if any(is_encrypted(p) and school_of_payload(p) != staff.school_id for p in payloads):
        raise ApiError(status.HTTP_403_FORBIDDEN, NOT_YOUR_SCHOOL)
    c = codec()
    try:
        return _answer([c.decrypt(p) for p in payloads])
    except UnreadablePayload as err:
        reason = "a payload was encrypted with a key this engine does not have, or was altered"
        raise ApiError(
            422, "The payloads could not be decrypted.", [{"field": None, "reason": reason}]
        ) from err
