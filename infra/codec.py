"""AES-GCM encryption of every Temporal payload: the key id and the case's school in the payload metadata.

- The current key encrypts; older keys (SEND_CODEC_OLD_KEYS) still decrypt what they encrypted, so a key
  can be rotated while cases run.
- The school of the payload's case (found from the workflow id the SDK gives as serialization context)
  is kept in the metadata and bound to the ciphertext as associated data: changing it breaks decryption.
  The codec endpoint decodes a payload only for staff of that school.
- A payload encoded without a case (no workflow id, or a case not yet written) carries no school.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from infra.database import get_engine
from infra.settings import Settings

log = logging.getLogger(__name__)
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
SCHOOL = "school-id"
SchoolOf = Callable[[str], Awaitable[int | None]]


class UnreadablePayload(ValueError):
    """A payload this codec cannot decrypt: an unknown key id, or altered data or metadata."""


def _aad(school_id: int | None) -> bytes | None:
    return f"school:{school_id}".encode() if school_id is not None else None


def school_of_payload(payload: Payload) -> int | None:
    """The school an encrypted payload says it belongs to (None: no school, or not encrypted)."""
    raw = payload.metadata.get(SCHOOL)
    try:
        return int(raw.decode()) if raw else None
    except (UnicodeDecodeError, ValueError):
        return None


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding", b"") == ENCODING


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """Encrypts payloads with the current key (and their case's school); decrypts with any key it knows."""

    def __init__(
        self,
        key_id: str,
        key: bytes,
        older_keys: dict[str, bytes] | None = None,
        *,
        school_of: SchoolOf | None = None,
        workflow_id: str | None = None,
    ) -> None:
        self.key_id = key_id
        self._key_bytes = {key_id: key, **(older_keys or {})}
        self._keys = {k: AESGCM(v) for k, v in self._key_bytes.items()}
        self._school_of = school_of
        self.workflow_id = workflow_id

    @classmethod
    def from_settings(cls, settings: Settings, *, school_of: SchoolOf | None = None) -> EncryptionCodec:
        """The current key and every older key of the settings; schools looked up in the case table."""
        return cls(
            settings.codec_key_id,
            settings.codec_key_bytes,
            settings.codec_old_key_bytes,
            school_of=school_of or school_of_workflow,
        )

    def with_context(self, context: SerializationContext) -> Self:
        """A copy that knows the workflow the payloads belong to (the SDK calls this for each one)."""
        workflow_id = None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = context.workflow_id
        if workflow_id == self.workflow_id:
            return self
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.workflow_id = workflow_id
        return copy

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        school_id = None
        if self.workflow_id and self._school_of is not None:
            school_id = await self._school_of(self.workflow_id)
        return [self.encrypt(p, school_id) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload, school_id: int | None) -> Payload:
        """The payload sealed with the current key, bound to the school (if any)."""
        nonce = os.urandom(12)
        sealed = self._keys[self.key_id].encrypt(nonce, payload.SerializeToString(), _aad(school_id))
        metadata = {"encoding": ENCODING, KEY_ID: self.key_id.encode()}
        if school_id is not None:
            metadata[SCHOOL] = str(school_id).encode()
        return Payload(metadata=metadata, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """The payload opened with the key its metadata names (a plain payload comes back as it is)."""
        if not is_encrypted(payload):
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        if key_id not in self._keys:
            raise UnreadablePayload("payload encrypted with a key id this engine does not have")
        try:
            plain = self._keys[key_id].decrypt(
                payload.data[:12], payload.data[12:], _aad(school_of_payload(payload))
            )
        except (InvalidTag, ValueError) as err:
            raise UnreadablePayload("payload data or metadata altered, or not ours") from err
        return Payload.FromString(plain)


# --- the case's school, from its workflow id ---------------------------------------------------------
_SCHOOLS: dict[str, int] = {}
_CACHE_SIZE = 50_000


def _lookup(workflow_id: str) -> int | None:
    with get_engine().connect() as connection:
        row = connection.execute(
            text('SELECT school_id FROM "case" WHERE workflow_id = :workflow_id'),
            {"workflow_id": workflow_id},
        ).first()
    return int(row[0]) if row else None


async def school_of_workflow(workflow_id: str) -> int | None:
    """The school of the case a workflow runs (cached: it never changes); None before its row is written."""
    if (known := _SCHOOLS.get(workflow_id)) is not None:
        return known
    try:
        school_id = await asyncio.to_thread(_lookup, workflow_id)
    except Exception as err:  # no database here (a bare test server): the payload carries no school
        log.debug("no school for a workflow's payloads: %s", type(err).__name__)
        return None
    if school_id is not None:
        if len(_SCHOOLS) >= _CACHE_SIZE:
            _SCHOOLS.clear()
        _SCHOOLS[workflow_id] = school_id
    return school_id
