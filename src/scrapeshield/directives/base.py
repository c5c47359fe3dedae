"""The directive seams: endpoints answered before any blocking, and filters on app responses.

A crawler must always be able to read the rules it is held to, so `robots.txt` and friends are
served ahead of the safelist/blocklist/ban phases. Response filters add headers (such as
`X-Robots-Tag`) to what the application sends.
"""

from __future__ import annotations

from typing import Protocol

from starlette.types import Receive, Scope, Send

from scrapeshield.facts import Facts
from scrapeshield.signals import Decision

Headers = list[tuple[bytes, bytes]]


class Endpoint(Protocol):
    def matches(self, facts: Facts) -> bool: ...

    async def __call__(self, facts: Facts, scope: Scope, receive: Receive, send: Send) -> None: ...


class ResponseFilter(Protocol):
    def headers_for(
        self, facts: Facts, decision: Decision, status: int, headers: Headers
    ) -> Headers:
        """Headers to append to the app's response (may inspect what the app already set)."""
        ...
