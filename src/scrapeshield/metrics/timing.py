"""Timing a metered request: when it started, when the app was entered, when scrapeshield's
own response started. No prometheus_client here, so the middleware imports it without the extra.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ENTERED = "scrapeshield.entered"
"""Scope key: when the metered middleware handed the request to the app (perf_counter)."""


def entered(app: ASGIApp) -> ASGIApp:
    """`app`, marking in the scope when it is entered (the end of scrapeshield's part)."""

    async def mark(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[ENTERED] = time.perf_counter()
        await app(scope, receive, send)

    return mark


class Timer:
    """One metered request: its start, and when scrapeshield's own response started."""

    __slots__ = ("responded", "send", "started")

    def __init__(self, send: Send) -> None:
        self.started = time.perf_counter()
        self.responded: float | None = None
        self.send = send

    async def __call__(self, message: Message) -> None:
        if self.responded is None and message["type"] == "http.response.start":
            self.responded = time.perf_counter()
        await self.send(message)
