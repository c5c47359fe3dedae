"""An app with the operators' views for tests: a small protected site, and the dashboard
mounted beside it (outside the shield, as docs/dashboard.md shows), closing the store on
shutdown (serve it with the default lifespan)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from scrapeshield import ScrapeShield, Settings, Shield
from scrapeshield.dashboard.app import dashboard_app
from tests.servers import RedisServer, redis_store_settings

TOKEN = "dashboard-test-token-0123456789abcdef"
MOUNT = "/_scrapeshield"
CHALLENGE_KEY = "challenge-test-key-0123456789abcdef"


def operators_app(settings: Settings, **dashboard: Any) -> tuple[Starlette, Shield]:
    shield = Shield(settings)

    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("art")

    site = Starlette(routes=[Route("/", page), Route("/artworks/{n:int}", page)])

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await shield.aclose()

    app = Starlette(
        routes=[
            Mount(MOUNT, dashboard_app(shield, **dashboard)),
            Mount("/", ScrapeShield(site, shield=shield)),
        ],
        lifespan=lifespan,
    )
    return app, shield


STORES = ("memory", "redis")


def store_settings(kind: str, redis_server: RedisServer, prefix: str) -> dict[str, Any]:
    """Store settings: the memory store, or a real Redis under the test's own prefix."""
    if kind == "memory":
        return {"store_url": "memory://"}
    return redis_store_settings(redis_server.url, prefix)


async def flag(store: Any, client_key: str, path: str, ttl: float) -> None:
    """Flag `client_key` as the trap detector does on a hit: the flag, and on Redis its index
    entry (which the dashboard and `scrapeshield bans` list)."""
    import time

    from scrapeshield.behaviour.trap import trap_key
    from scrapeshield.support import trap_index

    indexed = trap_index(store).add_soon([(client_key, time.time() + ttl)])
    await store.set(trap_key(client_key), path, ttl=ttl)
    if indexed is not None:
        await indexed


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


async def stored_events(settings: Settings) -> list[dict[str, Any]]:
    """The block-log events the store holds, read over a store of this loop's own."""
    from scrapeshield.store import open_store

    store = open_store(settings)
    try:
        return [e.data for e in await store.read_events(limit=settings.event_stream_maxlen)]
    finally:
        await store.aclose()
