"""Whatever a client sends, the whole pipeline (every component on) answers without an error.

The component-level fuzz tests cover each detector; this one sends arbitrary methods, paths,
queries and binary header values through the ScrapeShield middleware itself, with rate limiting,
fingerprinting, directives and the challenge all enabled and a trusted proxy configured, and
fails on any 5xx or any error the middleware had to swallow and log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from scrapeshield import ScrapeShield, Settings

latin1 = st.binary(max_size=400) | st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=400
).map(lambda s: s.encode("latin-1"))
HEADER_NAMES = [
    b"user-agent",
    b"accept",
    b"accept-language",
    b"accept-encoding",
    b"cookie",
    b"x-forwarded-for",
    b"forwarded",
    b"x-forwarded-proto",
    b"sec-ch-ua",
    b"sec-fetch-mode",
    b"signature",
    b"signature-input",
    b"signature-agent",
    b"from",
    b"host",
]
PATHS = st.sampled_from(
    ["/", "/images/1.png", "/robots.txt", "/.scrapeshield/challenge", "/api/x", "/ai.txt"]
) | st.text(max_size=60).map(lambda s: "/" + s)


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"<html><head></head></html>"})


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


SHIELDS = {
    mode: ScrapeShield(
        _app,
        settings=Settings(
            fail_mode=mode,
            trusted_proxies=["127.0.0.0/8", "::1"],
            challenge={"secret_keys": ["k" * 32]},
        ),
    )
    for mode in ("open", "closed")
}


async def _call(shield: ScrapeShield, scope: dict[str, Any], body: bytes) -> list[Message]:
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await shield(scope, receive, send)
    return sent


@settings(max_examples=250, deadline=None)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS", "BREW"]),
    path=PATHS,
    query=st.binary(max_size=200),
    headers=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), latin1), max_size=10),
    peer=st.sampled_from(["127.0.0.1", "::1", "203.0.113.9", "2001:db8::1", "not-an-ip"]),
    body=st.binary(max_size=300),
    mode=st.sampled_from(["open", "closed"]),
)
def test_the_pipeline_never_errors(
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    peer: str,
    body: bytes,
    mode: str,
) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode("utf-8", "replace"),
        "query_string": query,
        "headers": headers,
        "client": (peer, 1234),
        "server": ("localhost", 443),
    }
    errors = _Errors()
    logger = logging.getLogger("scrapeshield")
    logger.addHandler(errors)
    try:
        sent = asyncio.run(_call(SHIELDS[mode], scope, body))
    finally:
        logger.removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1
    assert starts[0]["status"] < 500, starts[0]
