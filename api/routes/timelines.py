"""Timeline preview: every deadline a process would set, from its key facts, without starting anything."""

from __future__ import annotations

from typing import Any

from domain.timelines import TimelineEntry, UnknownProcess, preview
from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ValidationError

from api.deps import CurrentStaff

router = APIRouter(prefix="/api/v1", tags=["timelines"])


class PreviewRequest(BaseModel):
    process: str
    facts: dict[str, Any]


@router.post("/timelines/preview", response_model=list[TimelineEntry])
def preview_timeline(body: PreviewRequest, _staff: CurrentStaff) -> Any:
    try:
        return preview(body.process, body.facts)
    except UnknownProcess as err:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [{"field": "process", "reason": str(err)}]
        ) from err
    except ValidationError as err:
        detail = [
            {"field": ".".join(["facts", *map(str, e["loc"])]), "reason": e["msg"]} for e in err.errors()
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from err
