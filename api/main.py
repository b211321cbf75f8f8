"""The FastAPI app: every router under /api/v1, the web pages, and /health."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.body_limit import BodyLimit
from api.errors import ERROR_RESPONSES, install_error_handlers
from infra.database import get_engine
from infra.settings import get_settings

# One router module per resource, each exposing `router` (and web pages under templates/web).
ROUTERS = [
    "api.routes.health",
    "api.routes.cases",
    "api.routes.approvals",
    "api.routes.deadlines",
    "api.routes.outbox",
    "api.routes.timelines",
    "api.routes.codec",
    "api.routes.schools",
    "api.routes.staff",
    "api.routes.pupils",
    "api.routes.parents",
    "api.routes.agencies",
    "api.routes.register",
    "api.routes.provision",
    "api.routes.ep_allocations",
    "api.routes.funding",
    "api.routes.mailbox",
    "api.routes.signin",
    "api.routes.respond",
    "api.routes.respond_staff",
    "api.routes.pages",
    "api.routes.temporal_ui",
]


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        get_engine()
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="SEND case engine",
        version="0.1.0",
        description="Statutory SEND processes as durable cases: deadlines remind and escalate by themselves.",
    )
    # The Temporal Web UI (another origin) calls /codec with the signed-in staff member's cookie.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=get_settings().codec_cors_origins.split(","),
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["*"],
    )
    install_error_handlers(app)
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router, responses=ERROR_RESPONSES)
    app.add_middleware(BodyLimit, max_bytes=get_settings().max_body_bytes)  # outermost: before sign-in

    return app


app = create_app()
