"""Serving a small generated document: ETag, Last-Modified, conditional GET (304) and HEAD."""

from __future__ import annotations

import hashlib
import time
from email.utils import formatdate, parsedate_to_datetime

from starlette.types import Receive, Scope, Send

from scrapeshield.facts import Facts

#: The wrapped application, placed in the scope handed to endpoints (never in the app's scope).
APP_SCOPE_KEY = "scrapeshield.app"


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(facts: Facts, etag: str, last_modified: float) -> bool:
    """RFC 9110 §13.1: If-None-Match wins over If-Modified-Since when both are sent."""
    if_none_match = facts.header("if-none-match")
    if if_none_match:
        candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
        return "*" in candidates or etag in candidates
    if_modified_since = facts.header("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(last_modified) <= since
    return False


async def send_document(
    facts: Facts,
    send: Send,
    body: bytes,
    media_type: str,
    *,
    etag: str | None = None,
    last_modified: float | None = None,
    max_age: int = 3600,
) -> None:
    """200 with the body (HEAD: headers only) or 304 when the client's copy is current."""
    etag = etag or etag_for(body)
    last_modified = last_modified if last_modified is not None else time.time()
    headers = [
        (b"etag", etag.encode()),
        (b"last-modified", formatdate(last_modified, usegmt=True).encode()),
        (b"cache-control", f"public, max-age={max_age}".encode()),
    ]
    if not_modified(facts, etag, last_modified):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    headers += [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if facts.method == "HEAD" else body})


class StaticDocument:
    """An endpoint serving one document rendered once at start-up."""

    def __init__(self, path: str, body: str, media_type: str, *, max_age: int = 3600) -> None:
        self.path = path
        self.body = body.encode("utf-8")
        self.media_type = media_type
        self.max_age = max_age
        self.etag = etag_for(self.body)
        self.last_modified = float(int(time.time()))

    def matches(self, facts: Facts) -> bool:
        return facts.path == self.path and facts.method in ("GET", "HEAD")

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None:
        await send_document(
            facts,
            send,
            self.body,
            self.media_type,
            etag=self.etag,
            last_modified=self.last_modified,
            max_age=self.max_age,
        )
