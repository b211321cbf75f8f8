"""The Temporal Web UI of `make run`, served under the engine's own address at /temporal (development only).

`make run` starts the dev server's UI with `--ui-public-path /temporal` on a loopback port, and this
router passes the signed-in SENDCo's or headteacher's requests on to it. The UI's calls to the codec
(`{public URL}/codec`) are then from the engine's own origin, so the browser sends the staff member's
session cookie with them and the codec decodes the payloads of their own school's cases, out of the box.

- Only a signed-in SENDCo or headteacher opens it (anyone else: sign in, or 403): it lists every school's
  workflows, whose ids carry no personal data; their payloads stay encrypted unless the codec decodes
  them for the caller's own school.
- Read only: the UI's own actions (terminate, cancel, signal, reset ...) would act on any school's case,
  so nothing but GET and HEAD is passed on (405 otherwise); cases move on through the engine's actions.
- Not in production (404): a production engine deploys a Temporal UI of its own.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from api.deps import SESSION_COOKIE, SessionDep
from api.web import page, web_staff
from domain.schemas import Role
from infra.settings import TEMPORAL_UI_PATH, get_settings

router = APIRouter(prefix=TEMPORAL_UI_PATH, tags=["temporal-ui"], include_in_schema=False)
READERS = (Role.sendco, Role.headteacher)
NOT_YOURS = "Only the SENDCo or the headteacher can open the Temporal UI."
# Hop-by-hop headers (RFC 9110 7.6.1) are the connection's own, never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
NOT_PASSED_ON = HOP_BY_HOP | {"authorization", "cookie"}


def _cookies_for_ui(request: Request) -> str:
    """The browser's cookies without the engine's session (the UI has no use for it)."""
    return "; ".join(f"{k}={v}" for k, v in request.cookies.items() if k != SESSION_COOKIE)


def _upstream(request: Request) -> str:
    """The same path and query (as the browser sent them, still encoded) at the UI's loopback port."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    target = get_settings().temporal_ui_url + raw_path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


async def _pass_on(request: Request) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_PASSED_ON}
    if cookies := _cookies_for_ui(request):
        headers["cookie"] = cookies
    client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
    try:
        answer = await client.send(
            client.build_request(request.method, _upstream(request), headers=headers), stream=True
        )
    except httpx.TransportError:
        await client.aclose()
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "The Temporal UI is not answering just now: try again soon."
        ) from None

    async def close() -> None:
        await answer.aclose()
        await client.aclose()

    passed = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in HOP_BY_HOP]
    response = StreamingResponse(
        answer.aiter_raw(), status_code=answer.status_code, background=BackgroundTask(close)
    )
    response.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in passed]
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.api_route("", methods=["GET", "HEAD"], response_model=None)
@router.api_route("/{path:path}", methods=["GET", "HEAD"], response_model=None)
async def temporal_ui(request: Request, session: SessionDep) -> Response | HTMLResponse:
    """The Temporal UI, for the signed-in SENDCo or headteacher (development only)."""
    if get_settings().environment == "production":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not found")
    staff = await run_in_threadpool(web_staff, request, session)  # a database read: off the event loop
    if Role(staff.role) not in READERS:
        context = {"staff": staff, "heading": "Temporal UI", "message": NOT_YOURS}
        return page(request, "message.html", context, status_code=status.HTTP_403_FORBIDDEN)
    return await _pass_on(request)
