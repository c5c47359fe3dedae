"""The app's own API and mobile clients through a real server: the `api` group never challenges,
and a valid first-party credential is allowed without fingerprinting (still rate limited)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from scrapeshield import ConfigurationError, RouteGroupSpec, ScrapeShield, Settings, Shield
from scrapeshield.credentials.verify import sign
from tests.browsers import chrome
from tests.servers import LOOPS, serve

pytestmark = pytest.mark.clock_hour

IOS_APP = "MyArtApp/1.0 (iOS)"
OKHTTP = "okhttp/4.12.0"
KEY = "a-shared-secret-of-the-app-0001"
OLD_KEY = "the-previous-shared-secret-0002"
API_KEYS = {"k-1234567890"}


async def decision(request: Request) -> JSONResponse:
    found = request.state.scrapeshield
    return JSONResponse({"action": found.action.value, "rule": found.rule})


ROUTES = [Route("/api/artworks", decision), Route("/artworks/1", decision)]


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "trusted_proxies": ["127.0.0.1/32"],  # each test picks its client with X-Forwarded-For
        "challenge": {"secret_keys": ["k" * 32]},
        "ratelimit": {
            "strategy": "fixed-window",
            "groups": {"default": {"limits": "100/minute"}, "api": {"limits": "5/minute"}},
        },
        "credentials": [
            {"name": "ios", "header": "x-app-signature", "secret_keys": [KEY, OLD_KEY]},
            {"name": "partner", "header": "x-api-key", "verify": API_KEYS.__contains__},
        ],
    }
    values.update(overrides)
    return Settings(**values)


def app_for(config: Settings) -> Starlette:
    app = Starlette(routes=ROUTES)
    app.add_middleware(ScrapeShield, settings=config)
    return app


def get(client: httpx.Client, path: str, ip: str, agent: str, **headers: str) -> httpx.Response:
    return client.get(path, headers={"user-agent": agent, "x-forwarded-for": ip, **headers})


@pytest.mark.parametrize("loop", LOOPS)
def test_unknown_app_on_the_api_is_limited_never_challenged(loop: str) -> None:
    with serve(app_for(settings()), loop=loop) as server, httpx.Client(base_url=server.url) as c:
        answers = [get(c, "/api/artworks", "198.51.100.1", IOS_APP) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert answers[0].json() == {"action": "allow", "rule": "no-challenge/score/challenge"}
        assert int(answers[-1].headers["retry-after"]) >= 1
        # The same client on a page is still challenged: only the api group waives it.
        page = get(c, "/artworks/1", "198.51.100.2", IOS_APP, accept="text/html")
        assert page.status_code == 403
        assert "/.scrapeshield/challenge" in page.text
        # Rule-based refusals still apply on the api: AI crawlers and scraper tools.
        for agent in ("GPTBot/1.2", OKHTTP, "python-requests/2.32.3"):
            refused = get(c, "/api/artworks", "198.51.100.3", agent)
            assert refused.status_code == 403, agent
            assert refused.json()["error"] == "block"


@pytest.mark.parametrize("loop", LOOPS)
def test_an_over_budget_challenge_group_becomes_a_throttle(loop: str) -> None:
    config = settings(
        ratelimit={
            "strategy": "fixed-window",
            "groups": {
                "default": {"limits": "100/minute"},
                "api": {"limits": "2/minute", "action": "challenge"},
            },
        }
    )
    with serve(app_for(config), loop=loop) as server, httpx.Client(base_url=server.url) as c:
        browser = chrome()
        answers = [c.get("/api/artworks", headers=browser) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert "retry-after" in answers[-1].headers


@pytest.mark.parametrize("loop", LOOPS)
def test_on_challenge_block(loop: str) -> None:
    api = RouteGroupSpec(name="api", paths=["/api/*"], on_challenge="block")
    with (
        serve(app_for(settings(route_groups=[api])), loop=loop) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        refused = get(c, "/api/artworks", "198.51.100.1", IOS_APP)
        assert refused.status_code == 403
        assert refused.json()["error"] == "block"


@pytest.mark.parametrize("loop", LOOPS)
def test_first_party_credentials(loop: str) -> None:
    with serve(app_for(settings()), loop=loop) as server, httpx.Client(base_url=server.url) as c:
        # okhttp is a scraper tool: refused without a credential ...
        assert get(c, "/api/artworks", "198.51.100.1", OKHTTP).status_code == 403
        # ... allowed with one, named after it, on the api and on pages alike.
        for key in (KEY, OLD_KEY):  # rotation: every configured key verifies
            for path in ("/api/artworks", "/artworks/1"):
                signature = sign(key, "GET", path)
                ok = get(c, path, "198.51.100.1", OKHTTP, **{"x-app-signature": signature})
                assert ok.status_code == 200, (key, path)
                assert ok.json() == {"action": "allow", "rule": "first-party/ios"}
        partner = get(c, "/artworks/1", "198.51.100.4", "", **{"x-api-key": "k-1234567890"})
        assert partner.json() == {"action": "allow", "rule": "first-party/partner"}

        # Invalid credentials are ignored: decided as if there were none.
        # 30 s outside the 300 s window: int() drops up to a second and the requests before
        # the future one take time, so a stamp one second out can fall back inside it.
        stale = sign(KEY, "GET", "/api/artworks", int(time.time()) - 330)
        future = sign(KEY, "GET", "/api/artworks", int(time.time()) + 330)
        other_path = sign(KEY, "GET", "/api/other")
        other_method = sign(KEY, "POST", "/api/artworks")
        wrong_key = sign("not-the-key-of-this-app", "GET", "/api/artworks")
        good = sign(KEY, "GET", "/api/artworks")
        mangled = good[:-1] + ("1" if good.endswith("0") else "0")  # one hex digit changed
        bad_ones = (stale, future, other_path, other_method, wrong_key, mangled, "", "t=1,v1=")
        for n, bad in enumerate(bad_ones):  # one client each: refusals count towards the limit
            ip = f"198.51.100.{20 + n}"
            refused = get(c, "/api/artworks", ip, OKHTTP, **{"x-app-signature": bad})
            assert refused.status_code == 403, bad
            assert refused.json()["error"] == "block"
        wrong = get(c, "/artworks/1", "198.51.100.5", "", **{"x-api-key": "k-guess"})
        assert wrong.status_code == 403
        # Inside the window, early or late, a clock that drifts a little still verifies.
        for n, drift in enumerate((-270, 270)):
            late = sign(KEY, "GET", "/api/artworks", int(time.time()) + drift)
            drifted = get(
                c, "/api/artworks", f"198.51.100.{40 + n}", OKHTTP, **{"x-app-signature": late}
            )
            assert drifted.status_code == 200, drift


@pytest.mark.parametrize("loop", LOOPS)
def test_first_party_clients_are_still_rate_limited_and_banned(loop: str) -> None:
    shield = Shield(settings())
    asyncio.run(shield.ban("198.51.100.7", 60, reason="test"))  # the memory store: before serving
    app = Starlette(routes=ROUTES)
    app.add_middleware(ScrapeShield, shield=shield)
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as c:
        statuses = []
        for _ in range(6):
            signature = {"x-app-signature": sign(KEY, "GET", "/api/artworks")}
            statuses.append(get(c, "/api/artworks", "198.51.100.6", OKHTTP, **signature))
        assert [s.status_code for s in statuses] == [200] * 5 + [429]
        assert "retry-after" in statuses[-1].headers

        signature = {"x-app-signature": sign(KEY, "GET", "/artworks/1")}
        banned = get(c, "/artworks/1", "198.51.100.7", OKHTTP, **signature)
        assert banned.status_code == 403


def test_credential_settings_are_checked_at_start_up() -> None:
    async def verify_async(value: str) -> bool:
        return True

    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "a", "header": "x-k"}, "either `verify`"),
        (
            {"name": "a", "header": "x-k", "secret_keys": [KEY], "verify": bool},
            "not both",
        ),
        ({"name": "a", "header": "x-k", "secret_keys": ["short"]}, "shorter than 16"),
        ({"name": "a", "header": "x k", "secret_keys": [KEY]}, "credentials.0.header"),
        ({"name": "a", "header": "x-k", "verify": verify_async}, "coroutine"),
        ({"name": "a b", "header": "x-k", "verify": bool}, "credentials.0.name"),
        ({"name": "a", "header": "x-k", "secret_keys": [KEY], "max_age": 0}, "max_age"),
    ]
    for spec, expected in cases:
        with pytest.raises(ConfigurationError) as error:
            Settings(credentials=[spec])
        assert "credentials" in str(error.value)
        assert expected in str(error.value), (spec, str(error.value))
    twice = {"name": "a", "header": "x-k", "verify": bool}
    with pytest.raises(ConfigurationError, match="unique"):
        Settings(credentials=[twice, twice])
    with pytest.raises(ConfigurationError, match=r"route_groups\.0\.on_challenge"):
        Settings(route_groups=[{"name": "api", "paths": ["/api/*"], "on_challenge": "later"}])
