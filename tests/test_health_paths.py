"""Health checks through a real server: probes are passed to the app before anything else.

Load balancers and orchestrators probe with user agents the fingerprinting would challenge or
block (curl, kube-probe, ELB-HealthChecker, GoogleHC), and must get 200 even while Redis is down
with fail_mode = "closed", or they take every instance out of service.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from scrapeshield import ConfigurationError, ScrapeShield, Settings, Shield
from scrapeshield.demo.app import create_app
from scrapeshield.store import MemoryStore
from tests.browsers import firefox
from tests.servers import LOOPS, RedisServer, closing_app, redis_store_settings, serve

pytestmark = pytest.mark.clock_hour

PROBES = ["curl/8.5.0", "kube-probe/1.31", "ELB-HealthChecker/2.0", "GoogleHC/1.0"]
NAIVE = "python-requests/2.32.3"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
BROWSER = firefox(**{"User-Agent": FIREFOX})


async def decision(request: Request) -> JSONResponse:
    found = request.state.scrapeshield
    return JSONResponse({"action": found.action.value, "rule": found.rule})


async def page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("a page")


ROUTES = [
    Route("/healthz", decision),
    Route("/livez", decision),
    Route("/readyz", decision),
    Route("/health", decision),
    Route("/ready", decision),
    Route("/artworks/1", page),
]


def shielded(settings: Settings) -> ScrapeShield:
    return ScrapeShield(Starlette(routes=ROUTES), settings=settings)


@pytest.mark.parametrize("loop", LOOPS)
def test_demo_healthz_answers_probes_and_pages_stay_protected(loop: str) -> None:
    with serve(create_app(), loop=loop) as server, httpx.Client(base_url=server.url) as client:
        for agent in PROBES:
            for _ in range(3):
                response = client.get("/healthz", headers={"user-agent": agent})
                assert response.status_code == 200, agent
                assert response.text == "ok"
                # Nothing of the shield's on a probe's answer: no RateLimit fields, no directives.
                assert not [h for h in response.headers if h.startswith("ratelimit")]
                assert "x-robots-tag" not in response.headers
        blocked = client.get("/artworks/1", headers={"user-agent": NAIVE})
        assert blocked.status_code == 403
        probe_on_a_page = client.get("/artworks/1", headers={"user-agent": "kube-probe/1.31"})
        assert probe_on_a_page.status_code == 403  # only the health paths are passed through


@pytest.mark.parametrize("loop", LOOPS)
def test_every_default_health_path_is_an_allow_named_health(loop: str) -> None:
    app = shielded(Settings())
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        for path in ("/healthz", "/livez", "/readyz", "/health"):
            for agent in PROBES:
                response = client.get(path, headers={"user-agent": agent})
                assert response.status_code == 200, (path, agent)
                assert response.json() == {"action": "allow", "rule": "health"}
        # Exact paths: neither a near miss nor a sub-path is a health path.
        for path in ("/ready", "/healthz/", "/artworks/1"):
            assert client.get(path, headers={"user-agent": NAIVE}).status_code == 403, path


@pytest.mark.parametrize("loop", LOOPS)
def test_configured_list_and_empty_list(loop: str) -> None:
    custom = shielded(Settings(health_paths=["/ready"]))
    disabled = shielded(Settings(health_paths=[]))
    with serve(custom, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/ready", headers={"user-agent": NAIVE}).status_code == 200
        assert client.get("/healthz", headers={"user-agent": NAIVE}).status_code == 403
    with serve(disabled, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/healthz", headers={"user-agent": NAIVE}).status_code == 403


@pytest.mark.parametrize("loop", LOOPS)
def test_health_requests_are_never_counted_nor_logged(
    loop: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="scrapeshield.blocklog")
    store = MemoryStore(max_keys=1000, max_events=100)
    settings = Settings(
        ratelimit={"strategy": "fixed-window", "groups": {"default": {"limits": "3/minute"}}},
        trusted_proxies=["127.0.0.1/32"],
    )
    app = ScrapeShield(Starlette(routes=ROUTES), shield=Shield(settings, store=store))
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        for _ in range(20):  # a naive UA, a banned-looking one, all over the limit of 3
            for agent in (NAIVE, "GPTBot/1.2"):
                headers = {"user-agent": agent, "x-forwarded-for": "198.51.100.9"}
                assert client.get("/healthz", headers=headers).status_code == 200
        assert asyncio.run(store.read_events(limit=100)) == []
        assert not [r for r in caplog.records if r.name == "scrapeshield.blocklog"]
        # The same client's pages still have their whole budget of 3.
        headers = BROWSER | {"x-forwarded-for": "198.51.100.9"}
        statuses = [client.get("/artworks/1", headers=headers).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]


@pytest.mark.slow
@pytest.mark.parametrize("loop", LOOPS)
def test_fail_closed_store_down_health_still_200(loop: str, own_redis: RedisServer) -> None:
    settings = Settings(
        # (a loaded machine's timeout for the first, stored, request; once the server is
        # stopped its connections are refused at once, so the 503s do not wait for it)
        **redis_store_settings(own_redis.url),
        breaker_cooldown=0.3,
        fail_mode="closed",
    )
    app = closing_app(settings, ROUTES)
    with (
        serve(app, loop=loop, lifespan="on") as server,
        httpx.Client(base_url=server.url, timeout=5) as client,
    ):
        assert client.get("/artworks/1", headers=BROWSER).status_code == 200
        own_redis.stop()
        for _ in range(5):
            assert client.get("/artworks/1", headers=BROWSER).status_code == 503
            for agent in PROBES:
                response = client.get("/healthz", headers={"user-agent": agent})
                assert response.status_code == 200, agent
                assert response.json()["rule"] == "health"


@pytest.mark.parametrize(
    "value",
    ["healthz", "/health*", "/health?x=1", "/a b", "/" + "x" * 300, "/ok#frag"],
)
def test_bad_health_paths_are_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        Settings(health_paths=[value])
    assert "health_paths" in str(error.value)


def test_health_paths_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPESHIELD_HEALTH_PATHS", "/ping, /status/live")
    assert Settings().health_paths == ["/ping", "/status/live"]
    monkeypatch.setenv("SCRAPESHIELD_HEALTH_PATHS", "")
    assert Settings().health_paths == []
    monkeypatch.setenv("SCRAPESHIELD_HEALTH_PATHS", "nope")
    with pytest.raises(ConfigurationError, match="SCRAPESHIELD_HEALTH_PATHS"):
        Settings()


def test_explain_names_health_paths_and_api_waivers(capsys: pytest.CaptureFixture[str]) -> None:
    from scrapeshield.cli import main

    def explain(*args: str) -> dict[str, object]:
        assert main(["explain", "--json", *args]) == 0
        found: dict[str, object] = json.loads(capsys.readouterr().out)
        return found

    health = explain("--ua", "kube-probe/1.31", "--path", "/healthz")
    assert (health["action"], health["rule"], health["health_path"]) == ("allow", "health", True)
    page = explain("--ua", "kube-probe/1.31", "--path", "/artworks/1")
    assert (page["action"], page["health_path"]) == ("challenge", False)
    api = explain("--ua", "MyArtApp/1.0 (iOS)", "--path", "/api/artworks")
    assert (api["action"], api["rule"]) == ("allow", "no-challenge/score/challenge")
    preflight = explain(
        "--method", "OPTIONS", "--ua", "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 "
        "Firefox/132.0", "--path", "/artworks/1",
        "--header", "Origin: https://app.example", "--header", "Access-Control-Request-Method: GET",
    )  # fmt: skip
    assert (preflight["action"], preflight["rule"]) == ("allow", "cors-preflight")
