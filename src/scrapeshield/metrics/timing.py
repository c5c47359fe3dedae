"""Timing a metered request: the app, wrapped, marks in the scope when it is entered. No
prometheus_client here, so the middleware imports it without the extra.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

ENTERED = "scrapeshield.entered"
"""Scope key: when the metered middleware handed the request to the app (perf_counter)."""


def entered(app: ASGIApp) -> ASGIApp:
    """`app`, marking in the scope when it is entered (the end of scrapeshield's part)."""

    async def mark(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[ENTERED] = time.perf_counter()
        await app(scope, receive, send)

    return mark
