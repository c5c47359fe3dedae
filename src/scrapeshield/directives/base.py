"""The directive seams: endpoints answered before any blocking, and filters on app responses.

A crawler must always be able to read the rules it is held to, so `robots.txt` and friends are
served ahead of the safelist/blocklist/ban phases. Response filters add headers (such as
`X-Robots-Tag`) to what the application sends.

Two optional extensions, both backward compatible:
- `headers_for` may return an awaitable (the artist preference hook may be async);
- a filter may also offer `body_rewriter(...)` (sync or async) returning a `BodyRewriter`,
  which then receives the response start and every body message in place of `send`
  (the HTML injector uses it). The first filter offering a rewriter for a response wins.
Endpoints find the wrapped application in their scope under `APP_SCOPE_KEY` (robots merge).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from starlette.types import Message, Receive, Scope, Send

from scrapeshield.facts import Facts
from scrapeshield.signals import Decision

Headers = list[tuple[bytes, bytes]]


class Endpoint(Protocol):
    """Answers some requests itself. One that sets `path` (a str) answers no other path: the
    shield then skips it, and every endpoint like it, with one set lookup per request."""

    def matches(self, facts: Facts) -> bool: ...

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None: ...


class ResponseFilter(Protocol):
    def headers_for(
        self, facts: Facts, decision: Decision, status: int, headers: Headers
    ) -> Headers | Awaitable[Headers]:
        """Headers to append to the app's response (may inspect what the app already set)."""
        ...


class BodyRewriter(Protocol):
    """Takes over one response: gets its start and every later message (body, and extensions
    such as `http.response.pathsend`) and sends what it chooses."""

    async def start(self, message: Message, send: Send) -> None: ...

    async def body(self, message: Message, send: Send) -> None: ...


def index_endpoints(
    endpoints: list[Endpoint],
) -> tuple[list[Endpoint], frozenset[str] | None]:
    """A copy of the list, and the paths its endpoints answer (None if one does not say
    which): the shield skips every endpoint by one set lookup when none can match."""
    paths = [getattr(endpoint, "path", None) for endpoint in endpoints]
    known = [path for path in paths if isinstance(path, str)]
    return list(endpoints), frozenset(known) if len(known) == len(paths) else None
