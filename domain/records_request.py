"""A parent's request to see the educational record (TR-RECORDS-ACCESS): its payloads and steps."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from domain.dates import ENGLAND
from domain.schemas import Actor, CaseRef


class RecordsStep(StrEnum):
    preparing = "preparing"
    awaiting_approval = "awaiting-approval"
    disclosing = "disclosing"
    closed = "closed"


class RecordsRequestStart(BaseModel):
    """What the SENDCo gives to open the case: the day the written request arrived."""

    request_received: dt.date

    @field_validator("request_received")
    @classmethod
    def _received_plausible(cls, day: dt.date) -> dt.date:
        if day > dt.datetime.now(ENGLAND).date():
            raise ValueError("the day the request arrived cannot be in the future")
        if day.year < 2000:
            raise ValueError("enter a date from 1 Jan 2000 onwards")
        return day


class RecordsRequestInput(BaseModel):
    case: CaseRef
    request_received: dt.date
    started_by: Actor


class RecordDisclosure(BaseModel):
    """The day the parent was given access to the record."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"disclosed_on": "2026-12-01"}]})

    actor: Actor
    disclosed_on: dt.date
