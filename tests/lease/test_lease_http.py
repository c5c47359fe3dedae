"""Leases through a real uvicorn, both loops, memory and a real Redis: granted, used, settled;
a limit still enforced at the same request; changed inputs evaluated in full; `aclose` settles."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import redis
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scrapeshield import Settings, Shield
from scrapeshield.metrics.settings import MetricsSettings
from tests.browsers import chrome
from tests.servers import LOOPS, RedisServer, closing_app, redis_store_settings, serve
from tests.test_metrics import _read_redis, stored_events
from tests.windows import wait_for_room

pytestmark = pytest.mark.slow
QUOTA = 40
"""A lease is a reservation (memory and Redis), made only with 4 leases' worth of room left
(16 at 4 requests a lease): near a limit no lease, so a limit large enough for leases."""
API = {**chrome(), "Accept": "application/json"}
QUIRK = "headers/no-accept-language"


async def items(request: Request) -> Response:
    return JSONResponse({"items": []})


def _settings(backend: str, redis_server: RedisServer, prefix: str) -> Settings:
    store: dict[str, Any] = (
        redis_store_settings(redis_server.url, prefix) if backend == "redis" else {}
    )
    return Settings(
        **store,
        lease={"enabled": True, "requests": 4, "seconds": 5.0},
        ratelimit={
            "strategy": "fixed-window",
            "groups": {
                "default": {"limits": "100/minute"},
                "api": {"limits": f"{QUOTA}/minute", "headers": True},
            },
        },
    )


def _limit_keys(raw: redis.Redis, prefix: str) -> list[str]:
    """The api group's counters (the test's prefix holds glob characters: matched here)."""
    return [k for k in raw.scan_iter("*rl:client:api:*") if k.startswith(prefix)]


def _serve(settings: Settings, loop: str) -> tuple[Any, Shield]:
    app = closing_app(settings, [Route("/api/items", items)])
    shield: Shield = app.user_middleware[0].kwargs["shield"]
    return serve(app, loop=loop, lifespan="on"), shield


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_limit_enforced_at_the_same_request_with_leases(
    loop: str, backend: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    server_cm, shield = _serve(_settings(backend, redis_server, redis_prefix), loop)
    with server_cm as server, httpx.Client(base_url=server.url, headers=API) as client:
        remaining = []
        quota = QUOTA
        for _ in range(quota):
            response = client.get("/api/items")
            assert response.status_code == 200, response.text
            remaining.append(response.headers["ratelimit"].split(";r=")[1].split(";")[0])
        assert remaining == [str(left) for left in range(quota - 1, -1, -1)]
        assert client.get("/api/items").status_code == 429  # the 11th: as without leases
        assert client.get("/api/items").status_code == 429
        leases = shield.leases
        assert leases is not None
        assert leases.granted >= 2
        assert leases.used >= 6
        assert leases.settled == leases.used  # each counted before the limit was judged
        # changed inputs: a full evaluation, not a lease's allow (then refused: the limit)
        assert client.get("/api/items", headers={"user-agent": "other"}).status_code in (403, 429)
    assert len(leases) == 0


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_changed_inputs_are_evaluated_in_full(
    loop: str, backend: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    server_cm, shield = _serve(_settings(backend, redis_server, redis_prefix), loop)
    with server_cm as server, httpx.Client(base_url=server.url, headers=API) as client:
        assert client.get("/api/items").status_code == 200  # the first: in full, no lease
        leases = shield.leases
        assert leases is not None
        assert leases.granted == 0
        assert client.get("/api/items").status_code == 200  # seen again: granted
        assert leases.granted == 1
        assert client.get("/api/items").status_code == 200
        assert leases.used == 1
        # another language: a different input, so a full evaluation, which grants a lease of
        # its own at once (its kind and Accept were seen within a second: `_seen_again`); the
        # first one is kept, nothing it holds changed
        german = {"accept-language": "de-DE,de;q=0.9"}
        assert client.get("/api/items", headers=german).status_code == 200
        assert (leases.used, leases.granted) == (1, 2)
        assert client.get("/api/items", headers=german).status_code == 200
        assert (leases.used, leases.granted) == (2, 2)
        assert client.get("/api/items").status_code == 200
        assert client.get("/api/items", headers=german).status_code == 200
        assert (leases.used, leases.granted, leases.settled) == (4, 2, 0)
        # a Referer: a new field (its name is bound: in full at /a, and granted), then only its
        # value changes (no detector reads it for this kind: leased at /b, /c and /d)
        for page in ("/a", "/b", "/c", "/d"):
            referred = {**chrome(Referer=f"{server.url}{page}"), "Accept": "application/json"}
            assert client.get("/api/items", headers=referred).status_code == 200
        assert (leases.used, leases.granted) == (7, 3)
        # a curl user agent signals: no lease, and the client's leases end
        assert client.get("/api/items", headers={"user-agent": "curl/8.5.0"}).status_code != 200
        assert len(leases) == 0


@pytest.mark.parametrize("loop", LOOPS)
def test_aclose_settles_on_redis(loop: str, redis_server: RedisServer, redis_prefix: str) -> None:
    """Six requests, four of them leased and never followed: shutdown counts them all."""
    server_cm, shield = _serve(_settings("redis", redis_server, redis_prefix), loop)
    with server_cm as server, httpx.Client(base_url=server.url, headers=API) as client:
        for _ in range(6):
            assert client.get("/api/items").status_code == 200
        leases = shield.leases
        assert leases is not None
        assert leases.used == 4
    assert leases.settled == leases.used
    assert len(leases) == 0
    raw = redis.Redis.from_url(redis_server.url, decode_responses=True)
    keys = _limit_keys(raw, redis_prefix)
    assert keys, "the limiter's key"
    assert sum(int(raw.get(k) or 0) for k in keys) == 6
    raw.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_sweep_settles_a_lease_nobody_followed(
    loop: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    settings = _settings("redis", redis_server, redis_prefix)
    settings = settings.model_copy(
        # (1 s: the 2nd to 4th requests come within the lease on a loaded machine too)
        update={"lease": settings.lease.model_copy(update={"seconds": 1.0})}
    )
    server_cm, shield = _serve(settings, loop)
    raw = redis.Redis.from_url(redis_server.url, decode_responses=True)
    with server_cm as server, httpx.Client(base_url=server.url, headers=API) as client:
        for _ in range(4):  # in full, granted, 2 leased
            assert client.get("/api/items").status_code == 200
        leases = shield.leases
        assert leases is not None
        assert leases.used == 2
        # the sweep runs every 1 s; a loaded machine may delay it, so the wait is long
        deadline = time.monotonic() + 10
        while leases.settled < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leases.settled == 2  # by the sweep, the server still running
        keys = _limit_keys(raw, redis_prefix)
        assert sum(int(raw.get(k) or 0) for k in keys) == 4
    raw.close()


async def artwork(request: Request) -> Response:
    """A page that says which signals its request's decision named."""
    decision = request.state.scrapeshield
    reasons = ",".join(signal.name for signal in decision.reasons)
    return Response("<html>art</html>", media_type="text/html", headers={"x-reasons": reasons})


def _walk(loop: str, enabled: bool, store: dict[str, Any]) -> tuple[list[int], Shield]:
    """24 artwork pages in id order: the pages whose decision named the walk."""
    settings = Settings(
        **store,
        lease={"enabled": enabled, "seconds": 30.0},
        identity={"rotating_pool": {"enabled": False}},  # a young token is counted: no lease
    )
    app = closing_app(settings, [Route("/art/{n:int}", artwork)])
    shield: Shield = app.user_middleware[0].kwargs["shield"]
    walked: list[int] = []
    with (
        serve(app, loop=loop, lifespan="on") as server,
        httpx.Client(base_url=server.url, headers=chrome()) as client,
    ):
        for n in range(1, 25):
            response = client.get(f"/art/{n}")
            assert response.status_code == 200
            if "behaviour/sequential-ids" in response.headers["x-reasons"]:
                walked.append(n)
    return walked, shield


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_a_walk_is_caught_at_the_same_page_with_leases(
    loop: str, backend: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    def store(run: str) -> dict[str, Any]:
        if backend == "memory":
            return {}
        # not about timeouts: a loaded machine's Redis may answer after the default 0.25 s,
        # and a failed-open page would drop out of the walk
        return redis_store_settings(redis_server.url, f"{redis_prefix}{run}:")

    without, _ = _walk(loop, False, store("off"))
    wait_for_room(3.0, 10.0)  # no 10 s bucket's end cuts the leases short (test_lease_person)
    walked, shield = _walk(loop, True, store("on"))
    assert without[0] == Settings().behaviour.sequential_run  # the 15th id in a row
    assert walked == without
    assert shield.leases is not None
    assert shield.leases.used >= 8  # pages were leased before the walk showed
    assert shield.leases.settled == shield.leases.used


async def told(request: Request) -> Response:
    """The decision the app was handed (`request.state.scrapeshield`): score and reasons."""
    decision = request.state.scrapeshield
    reasons = ";".join(f"{s.name}={s.weight:g}:{s.detail}" for s in decision.reasons)
    return JSONResponse(
        {"items": []}, headers={"x-told": f"{decision.rule}|{decision.score:g}|{reasons}"}
    )


def _decisions(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    """The metrics' decision counts, by action and rule."""
    return {
        (sample.labels["action"], sample.labels["rule"]): sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "scrapeshield_decisions_total"
    }


@pytest.mark.parametrize("backend", ["memory", "redis"])
@pytest.mark.parametrize("loop", LOOPS)
def test_a_steady_signal_is_leased_with_its_reasons_fields_and_metrics(
    loop: str, backend: str, redis_server: RedisServer, redis_prefix: str
) -> None:
    """A browser without Accept-Language (20, allowed) is leased: every response, leased or
    not, hands the app the same decision (its reason and score), the RateLimit fields count
    down exactly, the limit refuses the 41st, the metrics count every request, and the block
    log holds only the refusal (allows are not logged)."""
    registry = CollectorRegistry()
    settings = _settings(backend, redis_server, redis_prefix).model_copy(
        update={"metrics": MetricsSettings(enabled=True, registry=registry)}
    )
    app = closing_app(settings, [Route("/api/items", told)])
    shield: Shield = app.user_middleware[0].kwargs["shield"]
    quirky = {k: v for k, v in API.items() if k != "Accept-Language"}
    quirk = "headers/no-accept-language=20:Chrome always sends it"
    with (
        serve(app, loop=loop, lifespan="on") as server,
        httpx.Client(base_url=server.url, headers=quirky) as client,
    ):
        remaining = []
        leases = shield.leases
        assert leases is not None
        for _ in range(QUOTA):
            response = client.get("/api/items")
            assert response.status_code == 200, response.text
            assert response.headers["x-told"] == f"allow|20|{quirk}"
            remaining.append(response.headers["ratelimit"].split(";r=")[1].split(";")[0])
        assert remaining == [str(left) for left in range(QUOTA - 1, -1, -1)]
        assert client.get("/api/items").status_code == 429
        assert leases.used >= 6
        expected = {("allow", "allow"): QUOTA, ("throttle", "rate-limit"): 1}
        deadline = time.monotonic() + 10.0  # (counted once the response is sent: a moment)
        while (decisions := _decisions(registry)) != expected and time.monotonic() < deadline:
            time.sleep(0.01)
    assert decisions == expected
    if backend == "memory":
        events = asyncio.run(stored_events(shield.store))
    else:
        events = asyncio.run(_read_redis(redis_server.url, redis_prefix))
    assert [(e["action"], e["rule"]) for e in events] == [("throttle", "rate-limit")]
