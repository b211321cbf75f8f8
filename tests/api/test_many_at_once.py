"""Many requests at once: the API's threads and its event loop never wait on each other for a connection."""

from __future__ import annotations

import asyncio

import httpx


def test_a_hundred_requests_at_once_all_answer(api_url, headteacher) -> None:  # type: ignore[no-untyped-def]
    """60 API reads (run in threads) and 60 approvals pages (async, reading on the event loop) at once.

    With fewer pooled connections than the API has threads, the threads held them all, a page waited for
    one on the event loop, and the threads could only hand theirs back through that loop: 500s after 30 s.
    """
    with httpx.Client(base_url=api_url, follow_redirects=False) as signing_in:
        signed = signing_in.post("/signin", data={"token": headteacher[1]}, headers={"Origin": api_url})
        assert signed.status_code == 303, signed.text
        cookies = dict(signing_in.cookies)

    async def all_at_once() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        token = {"Authorization": f"Bearer {headteacher[1]}"}
        async with (
            httpx.AsyncClient(base_url=api_url, timeout=20, limits=limits, headers=token) as api,
            httpx.AsyncClient(base_url=api_url, timeout=20, limits=limits, cookies=cookies) as browser,
        ):
            reads = [api.get("/api/v1/cases") for _ in range(60)]
            pages = [browser.get("/approvals") for _ in range(60)]
            return await asyncio.gather(*reads, *pages)

    answers = asyncio.run(all_at_once())
    assert [a.status_code for a in answers] == [200] * 120
    assert all("Approvals" in a.text for a in answers[60:])
