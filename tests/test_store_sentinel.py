"""Redis behind Sentinel (`redis+sentinel://`): real sentinels, a real failover under load."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import redis
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from scrapeshield import ConfigurationError, Settings
from scrapeshield.store import RedisStore, open_store
from scrapeshield.store.sentinel import parse
from tests.servers import (
    LOADED_STORE_TIMEOUT,
    LOOPS,
    RedisSentinelServers,
    closing_app,
    redis_store_settings,
    serve,
)


@pytest.fixture(scope="module")
def sentinels() -> Iterator[RedisSentinelServers]:
    servers = RedisSentinelServers.start()
    try:
        yield servers
    finally:
        servers.close()


def test_url_forms() -> None:
    url = parse("redis+sentinel://u:p%40ss@10.0.0.1:26380,[::1],host/art/2?sentinel_password=x")
    assert url.sentinels == [("10.0.0.1", 26380), ("::1", 26379), ("host", 26379)]
    assert (url.service, url.db, url.username, url.password) == ("art", 2, "u", "p@ss")
    assert url.sentinel_password == "x"
    assert parse("redis+sentinel://h:1/art").db == 0


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://h:1",  # no service
        "redis+sentinel://h:1/art/0/extra",
        "redis+sentinel://h:port/art",
        "redis+sentinel://:1/art",
        "redis+sentinel://h:1/art/db",
    ],
)
def test_bad_urls_fail_at_start_up(url: str) -> None:
    with pytest.raises(ConfigurationError, match="store_url"):
        open_store(Settings(store_url=url))


@pytest.mark.both_loops
async def test_the_store_works_through_the_sentinels(sentinels: RedisSentinelServers) -> None:
    prefix = f"sentinel-basic-{uuid.uuid4().hex}:"
    store = RedisStore(sentinels.url, prefix=prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        assert await store.incr("n", ttl=60) == 1
        await store.set("k", "v", ttl=60)
        assert await store.get("k") == "v"
    finally:
        await store.aclose()
    with redis.Redis(port=sentinels.primary_port()) as primary:
        assert primary.get(f"{prefix}k") == b"v"


@pytest.mark.slow
@pytest.mark.parametrize("loop", LOOPS)
def test_a_failover_under_load_costs_no_5xx(loop: str) -> None:
    """The primary dies while requests flow; the sentinels promote the replica. Every answer is
    the app's (fail open while no primary answers), and afterwards the limits count on the new
    primary."""
    sentinels = RedisSentinelServers.start()
    try:
        failover_under_load(sentinels, loop)
    finally:
        sentinels.close()


def failover_under_load(sentinels: RedisSentinelServers, loop: str) -> None:
    settings = Settings(
        # (the lost primary's connections are refused at once: the outage does not wait for
        # the timeout, which gives the counts afterwards a loaded machine's round trips)
        **redis_store_settings(sentinels.url, f"sentinel-failover-{loop}:"),
        breaker_cooldown=0.5,
        trusted_proxies=["127.0.0.1"],
        challenge={"secret_keys": ["sentinel-test-key-0123456789"]},
        fingerprint={"enabled": False},
        behaviour={"enabled": False},
        identity={"enabled": False},
        ratelimit={"groups": {"default": {"limits": "5/day"}}},
    )

    async def ok(_: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = closing_app(settings, [Route("/", ok)])
    statuses: Counter[int] = Counter()
    stop = threading.Event()
    before = sentinels.primary_port()

    def load(base: str) -> None:
        n = 0
        with httpx.Client(base_url=base, timeout=5) as client:
            while not stop.is_set():
                n += 1  # a new client each time: limits never refuse the load itself
                address = f"10.9.{n // 250 % 250}.{n % 250 + 1}"
                response = client.get("/", headers={"X-Forwarded-For": address})
                statuses[response.status_code] += 1

    with serve(app, loop=loop, lifespan="on") as server:
        worker = threading.Thread(target=load, args=(server.url,))
        worker.start()
        try:
            time.sleep(0.5)
            sentinels.primary.stop()  # the primary is lost
            deadline = time.monotonic() + 30
            while sentinels.primary_port() == before:
                assert time.monotonic() < deadline, "no failover within 30 s"
                time.sleep(0.1)
            time.sleep(2.0)  # requests keep flowing on the new primary
        finally:
            stop.set()
            worker.join(10)
        after = sentinels.primary_port()
        with httpx.Client(base_url=server.url, timeout=5) as client:
            codes = [
                client.get("/", headers={"X-Forwarded-For": "198.51.100.9"}).status_code
                for _ in range(7)
            ]
    assert sum(statuses.values()) > 20
    assert set(statuses) == {200}, statuses
    assert codes[:5] == [200] * 5
    assert codes[5:] == [429, 429], codes  # the limit holds, counted on the new primary
    with redis.Redis(port=after) as primary:
        assert primary.keys(f"sentinel-failover-{loop}:*")
