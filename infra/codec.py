"""AES-GCM encryption of every Temporal payload, with the key id in the payload metadata."""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"


class EncryptionCodec(PayloadCodec):
    """Encrypts payloads with the current key; decrypts with any key it knows by id."""

    def __init__(self, key_id: str, key: bytes, older_keys: dict[str, bytes] | None = None) -> None:
        self.key_id = key_id
        self._keys = {key_id: AESGCM(key), **{k: AESGCM(v) for k, v in (older_keys or {}).items()}}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        sealed = self._keys[self.key_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, "encryption-key-id": self.key_id.encode()},
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding", b"") != ENCODING:
            return payload
        key_id = payload.metadata["encryption-key-id"].decode()
        if key_id not in self._keys:
            raise ValueError(f"payload encrypted with unknown key id {key_id!r}")
        plain = self._keys[key_id].decrypt(payload.data[:12], payload.data[12:], None)
        return Payload.FromString(plain)
