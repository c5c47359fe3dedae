"""The demo: a small art gallery protected by scrapeshield with the given (default) settings."""

from __future__ import annotations

import contextlib
import html
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from scrapeshield.behaviour.trap import trap_link
from scrapeshield.demo.art import ARTWORK_COUNT, artwork, png, thumbnail
from scrapeshield.middleware import ScrapeShield
from scrapeshield.settings import Settings
from scrapeshield.shield import Shield

PER_PAGE = 48
_STATIC = {"gallery.css": "text/css", "gallery.js": "text/javascript"}
DASHBOARD_PATH = "/_scrapeshield"
"""Where the demo mounts the operators' dashboard when `dashboard.tokens` are set."""
TRAP_PATH = "/artworks/archive-all"
"""The demo's trap: disallowed in robots.txt and linked invisibly from every page."""
_TRAP_LINK = trap_link(TRAP_PATH)  # (the same on every page: built once)


def _layout(title: str, body: str, meta: str = "") -> HTMLResponse:
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)} · Gallery</title>{meta}"
        '<link rel=stylesheet href="/static/gallery.css"><script src="/static/gallery.js" defer>'
        "</script></head><body><header><a href='/'><strong>Demo Art Gallery</strong></a>"
        " · protected by scrapeshield</header>"
        f"<main>{body}</main>{_TRAP_LINK}"
        "<footer>Artworks are the artists' own. Scraping, and use for AI "
        "training, is not permitted: <a href='/terms'>terms of service</a>.</footer></body></html>"
    )
    return HTMLResponse(page)


async def index(request: Request) -> Response:
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    pages = (ARTWORK_COUNT + PER_PAGE - 1) // PER_PAGE
    page = min(page, pages)
    first = (page - 1) * PER_PAGE + 1
    cards = []
    for artwork_id in range(first, min(first + PER_PAGE, ARTWORK_COUNT + 1)):
        art = artwork(artwork_id)
        assert art is not None
        cards.append(
            f'<a href="/artworks/{art.id}"><img src="/thumbs/{art.id}.png" loading=lazy '
            f'alt="{html.escape(art.title)}" width=160 height=160><br>'
            f"{html.escape(art.title)}<br><small>{html.escape(art.artist)}</small></a>"
        )
    nav = " ".join(
        f'<a href="/?page={n}">{n}</a>' if n != page else f"<strong>{n}</strong>"
        for n in range(1, pages + 1)
    )
    body = (
        f"<h1>Latest artworks</h1><p id=count></p><div class=grid>{''.join(cards)}</div>"
        f"<nav class=pages>Page: {nav}</nav>"
    )
    return _layout("Latest artworks", body)


async def artwork_page(request: Request) -> Response:
    art = artwork(int(request.path_params["artwork_id"]))
    if art is None:
        return _layout("Not found", "<h1>No such artwork</h1>")
    links = []
    if art.id > 1:
        links.append(f'<a href="/artworks/{art.id - 1}">← previous</a>')
    if art.id < ARTWORK_COUNT:
        links.append(f'<a href="/artworks/{art.id + 1}">next →</a>')
    body = (
        f"<article class=artwork><h1>{html.escape(art.title)}</h1>"
        f"<p>by {html.escape(art.artist)}, {art.year}</p>"
        f'<img src="/images/{art.id}.png" alt="{html.escape(art.title)}" width=480 height=480>'
        f"<p>{' · '.join(links)}</p></article>"
    )
    return _layout(art.title, body, _open_graph(art.title, f"by {art.artist}, {art.year}"))


def _open_graph(title: str, description: str) -> str:
    """The Open Graph tags link previews read (https://ogp.me). No og:image: originals are
    refused to unverified preview bots; a site serves a preview image from a route group it
    lists in `fingerprint.unverified_bot_groups`."""
    tags = {
        "og:type": "article",
        "og:site_name": "Demo Art Gallery",
        "og:title": title,
        "og:description": description,
    }
    return "".join(
        f'<meta property="{name}" content="{html.escape(value, quote=True)}">'
        for name, value in tags.items()
    )


async def image(request: Request) -> Response:
    artwork_id = int(request.path_params["artwork_id"])
    if artwork(artwork_id) is None:
        return PlainTextResponse("not found", 404)
    return Response(
        png(artwork_id), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )


async def thumb(request: Request) -> Response:
    artwork_id = int(request.path_params["artwork_id"])
    if artwork(artwork_id) is None:
        return PlainTextResponse("not found", 404)
    return Response(
        thumbnail(artwork_id),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC:
        return PlainTextResponse("not found", 404)
    text = resources.files("scrapeshield.demo").joinpath("static", name).read_text("utf-8")
    # cached, as a real site's assets are: a browser fetches them once, not with every page
    return Response(
        text, media_type=_STATIC[name], headers={"Cache-Control": "public, max-age=3600"}
    )


async def api_artworks(request: Request) -> Response:
    items = [artwork(i) for i in range(1, ARTWORK_COUNT + 1)]
    return JSONResponse(
        [{"id": a.id, "title": a.title, "artist": a.artist} for a in items if a is not None]
    )


async def terms(request: Request) -> Response:
    return _layout(
        "Terms of service",
        "<h1>Terms of service</h1><p>Automated collection of artworks (scraping) and their use "
        "to train machine-learning models are not permitted.</p>",
    )


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_gallery(lifespan: Any = None) -> Starlette:
    """The bare gallery, without protection (benchmarks compare against it)."""
    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", index),
            Route("/artworks/{artwork_id:int}", artwork_page),
            Route("/images/{artwork_id:int}.png", image),
            Route("/thumbs/{artwork_id:int}.png", thumb),
            Route("/static/{name}", static),
            Route("/api/artworks", api_artworks),
            Route("/terms", terms),
            Route("/healthz", healthz),
        ],
    )


def create_app(settings: Settings | None = None) -> Starlette:
    """The gallery protected by scrapeshield; with no settings, the demo's defaults."""
    if settings is None:
        settings = Settings(
            site_name="Demo Art Gallery",
            terms_url="/terms",
            directives={"trap_paths": [TRAP_PATH]},
        )
    shield = Shield(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        """Close the store on shutdown (a Redis store's connections), on the server's loop."""
        yield
        await shield.aclose()

    if not settings.dashboard.tokens:
        app = create_gallery(lifespan)
        app.add_middleware(ScrapeShield, shield=shield)
        return app
    # With dashboard tokens: the dashboard beside the gallery, outside the shield (so a scraper
    # of the gallery is not judged by the operators' page views, nor Prometheus by the policy).
    from scrapeshield.dashboard.app import dashboard_app

    gallery = create_gallery()
    gallery.add_middleware(ScrapeShield, shield=shield)
    return Starlette(
        lifespan=lifespan,
        routes=[Mount(DASHBOARD_PATH, dashboard_app(shield)), Mount("/", gallery)],
    )
