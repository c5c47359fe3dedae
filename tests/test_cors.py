"""ScrapeShield with Starlette's CORSMiddleware, in both orders, through a real server.

Documented order: CORS outside (added after ScrapeShield), so its headers are on the shield's
own 403/429 too and a browser app on another origin can read them; preflights are answered by
CORS and never reach the shield. The other order cannot put CORS headers on the shield's
answers (the shield answers before CORS runs); preflights then pass through the shield, which
neither counts them nor judges their (minimal) headers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from scrapeshield import ScrapeShield, Settings, Shield
from scrapeshield.credentials.verify import sign
from tests.servers import LOOPS, RedisServer, redis_store_settings, serve

ORIGIN = "https://app.example"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
# What Chrome sends with a cross-origin fetch() from a page of ORIGIN (a secure context).
FETCH = {
    "user-agent": CHROME,
    "origin": ORIGIN,
    "accept": "*/*",
    "accept-language": "en-GB,en;q=0.9",
    "accept-encoding": "gzip, deflate, br",
    "sec-fetch-site": "cross-site",
    "sec-fetch-mode": "cors",
    "sec-fetch-dest": "empty",
    "sec-ch-ua": '"Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Linux"',
}
# Chrome's preflight: no Accept-Language, no client hints, no cookies.
PREFLIGHT = {
    "user-agent": CHROME,
    "origin": ORIGIN,
    "accept": "*/*",
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type,x-app-signature",
    "sec-fetch-mode": "cors",
    "sec-fetch-site": "cross-site",
    "sec-fetch-dest": "empty",
}
KEY = "a-shared-secret-of-the-app-0001"


async def artworks(request: Request) -> JSONResponse:
    return JSONResponse({"rule": request.state.scrapeshield.rule})


ROUTES = [Route("/api/artworks", artworks, methods=["GET", "POST"])]
CORS: dict[str, Any] = {
    "allow_origins": [ORIGIN],
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["content-type", "x-app-signature"],
}


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ratelimit": {
            "strategy": "fixed-window",
            "groups": {"default": {"limits": "100/minute"}, "api": {"limits": "3/minute"}},
        },
        "blocklist": [{"name": "banned-app-version", "headers": {"x-app-version": "0.*"}}],
        "credentials": [{"name": "web", "header": "x-app-signature", "secret_keys": [KEY]}],
    }
    values.update(overrides)
    return Settings(**values)


def cors_outside(config: Settings) -> Starlette:
    app = Starlette(routes=ROUTES)
    app.add_middleware(ScrapeShield, settings=config)
    app.add_middleware(CORSMiddleware, **CORS)  # added last: the outermost
    return app


def shield_outside(config: Settings) -> Starlette:
    app = Starlette(routes=ROUTES)
    app.add_middleware(CORSMiddleware, **CORS)
    app.add_middleware(ScrapeShield, settings=config)
    return app


def preflight(client: httpx.Client, **headers: str) -> httpx.Response:
    return client.options("/api/artworks", headers={**PREFLIGHT, **headers})


@pytest.mark.parametrize("loop", LOOPS)
def test_cors_outside_makes_the_shields_refusals_readable(loop: str) -> None:
    with (
        serve(cors_outside(settings()), loop=loop) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        for _ in range(10):
            answer = preflight(c)
            assert answer.status_code == 200
            assert answer.headers["access-control-allow-origin"] == ORIGIN
        statuses = []
        for _ in range(4):
            response = c.get("/api/artworks", headers=FETCH)
            statuses.append(response.status_code)
            assert response.headers["access-control-allow-origin"] == ORIGIN
        assert statuses == [200, 200, 200, 429]  # the preflights spent nothing
        assert "retry-after" in response.headers
        assert response.json()["error"] == "throttle"  # readable by the page's script

        blocked = c.get("/api/artworks", headers={**FETCH, "x-app-version": "0.9"})
        assert blocked.status_code == 403
        assert blocked.headers["access-control-allow-origin"] == ORIGIN


@pytest.mark.parametrize("loop", LOOPS)
def test_shield_outside_preflights_pass_uncounted_but_refusals_lack_cors(loop: str) -> None:
    with (
        serve(shield_outside(settings()), loop=loop) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        for _ in range(10):
            answer = preflight(c)
            assert answer.status_code == 200  # through the shield, answered by CORS inside
            assert answer.headers["access-control-allow-origin"] == ORIGIN
            assert not [h for h in answer.headers if h.startswith("ratelimit")]
        statuses = [c.get("/api/artworks", headers=FETCH).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]  # the 10 preflights spent nothing
        refused = c.get("/api/artworks", headers=FETCH)
        assert refused.status_code == 429
        # The limitation of this order: the shield answered before CORS could add its headers,
        # so a browser hides this 429 from the page (docs/quickstart.md#cors).
        assert "access-control-allow-origin" not in refused.headers

        # Preflights are still judged by user agent, the blocklist and bans.
        ai = preflight(c, **{"user-agent": "GPTBot/1.2"})
        assert ai.status_code == 403
        assert "access-control-allow-origin" not in ai.headers
        listed = preflight(c, **{"x-app-version": "0.1"})
        assert listed.status_code == 403


@pytest.mark.parametrize("loop", LOOPS)
def test_preflights_and_first_party_on_redis(
    loop: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    shield = Shield(settings(**redis_store_settings(redis_server.url, f"{redis_prefix}{loop}:")))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await shield.aclose()

    app = Starlette(routes=ROUTES, lifespan=lifespan)
    app.add_middleware(CORSMiddleware, **CORS)
    app.add_middleware(ScrapeShield, shield=shield)  # outside: it sees the preflights
    with (
        serve(app, loop=loop, lifespan="on") as server,
        httpx.Client(base_url=server.url) as c,
    ):
        for _ in range(10):
            assert preflight(c).status_code == 200
        signed = {**FETCH, "user-agent": "okhttp/4.12.0"}
        statuses = []
        for _ in range(4):
            signed["x-app-signature"] = sign(KEY, "GET", "/api/artworks")
            response = c.get("/api/artworks", headers=signed)
            statuses.append(response.status_code)
        assert statuses == [200, 200, 200, 429]  # first-party: allowed, and still counted
        assert response.headers.get("retry-after")
        assert preflight(c, **{"user-agent": "GPTBot/1.2"}).status_code == 403
