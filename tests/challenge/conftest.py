"""A gallery behind a Shield whose every request is challenged, served by a real uvicorn.

The Shield's store is closed on uvicorn's own event loop before the server stops, so a Redis
store's connections do not outlive the loop they belong to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from scrapeshield.demo.app import create_gallery
from scrapeshield.middleware import ScrapeShield
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield
from scrapeshield.store import RedisStore
from tests.servers import LOADED_STORE_TIMEOUT, UvicornThread, serve


class LoopRecorder:
    """Remembers the event loop the server runs the app on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


def shield_of(app: Any) -> Shield:
    """The Shield inside a Starlette app that has served at least one request."""
    layer = app.middleware_stack
    while not isinstance(layer, ScrapeShield):
        layer = layer.app
    return layer.shield


class Served:
    def __init__(self, server: UvicornThread, shield: Shield) -> None:
        self.server = server
        self.shield = shield
        self.url = server.url

    def events(self) -> list[dict[str, Any]]:
        """The block log as written (the memory store is a plain structure, safe to read; a
        Redis store is read with a client of its own)."""
        store = self.shield.store
        if isinstance(store, RedisStore):
            settings = self.shield.settings
            return redis_events(settings.store_url, settings.store_prefix)
        stored = asyncio.run(store.read_events(limit=10_000))
        return [e.data for e in stored]

    def event_names(self) -> list[str]:
        return [str(e["event"]) for e in self.events()]


@contextlib.contextmanager
def serve_closing(app: ASGIApp, find_shield: Any, **options: Any) -> Iterator[UvicornThread]:
    """Serve `app` (`options` for uvicorn, e.g. `loop`); on exit close its Shield's store on
    the server's loop."""
    recorder = LoopRecorder(app)
    with serve(recorder, **options) as server:
        try:
            yield server
        finally:
            if recorder.loop is not None:
                future = asyncio.run_coroutine_threadsafe(find_shield().aclose(), recorder.loop)
                future.result(timeout=5)


@contextlib.contextmanager
def gallery(
    settings: Settings, *, detectors: Sequence[Any] = (), **options: Any
) -> Iterator[Served]:
    """The demo gallery behind a Shield (with extra `detectors` appended), served by uvicorn."""
    shield = Shield(settings)
    shield.detectors.extend(detectors)
    app = ScrapeShield(create_gallery(), shield=shield)
    with serve_closing(app, lambda: shield, **options) as server:
        yield Served(server, shield)


def redis_events(url: str, prefix: str) -> list[dict[str, Any]]:
    """Read the block log from Redis in a thread of its own (the caller may run a loop)."""

    async def read() -> list[dict[str, Any]]:
        store = RedisStore(url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
        try:
            return [e.data for e in await store.read_events(limit=10_000)]
        finally:
            await store.aclose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()
