"""Small Starlette apps and a helper to wrap them in ScrapeShield for the directive tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from scrapeshield import ScrapeShield, Settings, Shield
from scrapeshield.directives.build import build_endpoints
from tests.directives.catalogue_fixture import fixture_catalogue

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PAGE = "<!doctype html><html><head><title>Gallery</title></head><body>art</body></html>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def image(request: Request) -> Response:
    return Response(PNG, media_type="image/png")


async def api(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def missing(request: Request) -> Response:
    return HTMLResponse("<html><head></head>gone</html>", status_code=404)


async def own_headers(request: Request) -> Response:
    return HTMLResponse(
        PAGE,
        headers={
            "X-Robots-Tag": "noindex, noai",
            "tdm-reservation": "0",
            "Content-Usage": "train-ai=y",
        },
    )


def split_page(cut: str) -> Any:
    """A streaming HTML response whose chunks are cut inside `cut` (e.g. `<head>`)."""

    async def endpoint(request: Request) -> Response:
        at = PAGE.index(cut) + len(cut) // 2
        pieces = [PAGE[:at], PAGE[at : at + 1], PAGE[at + 1 :]]

        async def chunks() -> AsyncIterator[bytes]:
            for piece in pieces:
                yield piece.encode()

        return StreamingResponse(chunks(), media_type="text/html")

    return endpoint


async def robots(request: Request) -> Response:
    return PlainTextResponse(
        "User-agent: *\nDisallow: /app-private/\n\nUser-agent: Googlebot\nAllow: /\n"
        "Sitemap: https://art.example/app-sitemap.xml\n"
    )


ROUTES = [
    Route("/gallery/{n}", page),
    Route("/images/{name}", image),
    Route("/open/{n}", page),
    Route("/artists/{name}", page),
    Route("/api/x", api),
    Route("/missing", missing),
    Route("/own", own_headers),
    Route("/stream/head", split_page("<head>")),
    Route("/stream/title", split_page("<title>")),
]


def make_app(*, app_robots: bool = False, catalogue: bool = True, **directives: Any) -> Any:
    """The test app wrapped in ScrapeShield with these `directives` settings."""
    routes = [*ROUTES, Route("/robots.txt", robots)] if app_robots else list(ROUTES)
    settings = Settings(
        directives=directives, blocklist=[{"name": "no-gptbot", "user_agents": ["*GPTBot*"]}]
    )
    shield = Shield(settings)
    if catalogue:
        shield.endpoints = build_endpoints(settings, catalogue=fixture_catalogue())
    return ScrapeShield(Starlette(routes=routes), shield=shield)
