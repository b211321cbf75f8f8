"""The codec endpoint the Temporal Web UI calls to show decrypted payloads to signed-in staff."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.deps import CurrentStaff
from api.errors import ApiError
from infra.temporal import codec

router = APIRouter(prefix="/codec", tags=["codec"])


async def _apply(request: Request, encode: bool) -> dict[str, Any]:
    try:
        payloads = json_format.Parse(await request.body(), Payloads())
    except json_format.ParseError as err:
        reason = 'send the payloads as the Temporal codec protocol describes: {"payloads": [...]}'
        raise ApiError(422, "The payloads could not be read.", [{"field": None, "reason": reason}]) from err
    c = codec()
    result = await (c.encode if encode else c.decode)(payloads.payloads)
    return json_format.MessageToDict(Payloads(payloads=result))


@router.post("/encode")
async def encode(request: Request, _staff: CurrentStaff) -> dict[str, Any]:
    return await _apply(request, encode=True)


@router.post("/decode")
async def decode(request: Request, _staff: CurrentStaff) -> dict[str, Any]:
    return await _apply(request, encode=False)
