"""A made-up ASGI scope: what a request with given properties would look like (`explain`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote


def synthetic_scope(
    *,
    method: str = "GET",
    path: str = "/",
    ip: str = "203.0.113.7",
    user_agent: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    scheme: str = "https",
    host: str = "localhost",
) -> dict[str, Any]:
    """An ASGI scope for `explain`: what a request with these properties would look like.

    Header order matters (browsers and libraries each have theirs): `headers` keep theirs;
    `user_agent` goes first unless `headers` name a User-Agent, which then keeps its place.
    `host` is sent first unless `headers` name a Host. `path` is as sent (percent-encoded, with
    its query): `scope["path"]` is decoded as ASGI servers decode it, `raw_path` is not."""
    named_host = any(k.lower() == "host" for k, _ in headers)
    raw: list[tuple[bytes, bytes]] = (
        [] if named_host else [(b"host", host.encode("latin-1", "replace"))]
    )
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
        "path": unquote(path_only),
        "raw_path": path_only.encode("latin-1", "replace"),
        "query_string": query.encode("latin-1", "replace"),
        "headers": raw,
        "client": (ip, 50000),
        "server": ("localhost", 443),
        "time": time.time(),
    }
