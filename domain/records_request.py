"""A parent's request to see the educational record (TR-RECORDS-ACCESS): its payloads and steps."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel

from domain.schemas import Actor, CaseRef


class RecordsStep(StrEnum):
    preparing = "preparing"
    awaiting_approval = "awaiting-approval"
    disclosing = "disclosing"
    closed = "closed"


class RecordsRequestStart(BaseModel):
    """What the SENDCo gives to open the case: the day the written request arrived."""

    request_received: dt.date


class RecordsRequestInput(BaseModel):
    case: CaseRef
    request_received: dt.date
    started_by: Actor


class RecordDisclosure(BaseModel):
    actor: Actor
    disclosed_on: dt.date
