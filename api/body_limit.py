"""Request bodies over the limit are refused with 413 before anything else reads them, sign-in included.

A declared Content-Length over the limit is answered at once, the body never read. A body without one
(chunked) is read as it arrives, at most the limit, and answered 413 as soon as it passes it; one within the
limit is handed on as it came.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import refusal

TOO_LARGE = "The request is too large: send at most {limit} MB."


class BodyLimit:
    """ASGI middleware: the outermost check on every HTTP request's body size."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if headers.get(b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = TOO_LARGE.format(limit=round(self.max_bytes / 1024 / 1024, 1))
        response = refusal(413, message, [{"field": None, "reason": message}], {"Connection": "close"})
        await response(scope, receive, send)
