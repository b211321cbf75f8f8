"""The Temporal client and its data converter (pydantic JSON, encrypted), and the server binaries' paths."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from infra.codec import EncryptionCodec
from infra.settings import Settings, get_settings

BIN = Path(sys.prefix) / "bin"
TEMPORAL_CLI = BIN / "temporal"
TEMPORAL_TEST_SERVER = BIN / "temporal-test-server"


def codec(settings: Settings | None = None) -> EncryptionCodec:
    settings = settings or get_settings()
    return EncryptionCodec.from_settings(settings)


def data_converter(settings: Settings | None = None) -> DataConverter:
    """Pydantic-aware JSON, every payload encrypted with AES-GCM."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec(settings))


async def connect(settings: Settings | None = None) -> Client:
    settings = settings or get_settings()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )
