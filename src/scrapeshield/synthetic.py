"""A made-up ASGI scope: what a request with given properties would look like (`explain`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any


def synthetic_scope(
    *,
    method: str = "GET",
    path: str = "/",
    ip: str = "203.0.113.7",
    user_agent: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    scheme: str = "https",
) -> dict[str, Any]:
    """An ASGI scope for `explain`: what a request with these properties would look like.

    Header order matters (browsers and libraries each have theirs): `headers` keep theirs;
    `user_agent` goes first unless `headers` name a User-Agent, which then keeps its place."""
    raw: list[tuple[bytes, bytes]] = [(b"host", b"localhost")]
    if user_agent is not None and not any(k.lower() == "user-agent" for k, _ in headers):
        raw.append((b"user-agent", user_agent.encode("latin-1", "replace")))
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
    path_only, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": scheme,
        "path": path_only,
        "raw_path": path_only.encode(),
        "query_string": query.encode(),
        "headers": raw,
        "client": (ip, 50000),
        "server": ("localhost", 443),
        "time": time.time(),
    }
