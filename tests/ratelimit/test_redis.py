"""Redis specifics: one round trip per request, key prefix and TTLs, fail-open when it is down."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from scrapeshield import Settings, Shield
from scrapeshield.signals import Action
from scrapeshield.store import RedisStore
from tests.ratelimit.helpers import group, request
from tests.servers import LOADED_STORE_TIMEOUT, RedisServer, free_port
from tests.windows import room

pytestmark = pytest.mark.clock_hour


async def test_one_round_trip_per_request_with_every_limit(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(
        Settings(
            ratelimit={
                "groups": group("100/10 seconds;1000/hour;5000/day", network_limits="900/minute")
            }
        ),
        store=store,
    )
    await request(shield)  # loads the script (EVALSHA misses once, then EVAL)
    before = store.round_trips
    for _ in range(10):
        decision, _ = await request(shield)
        assert decision.action is Action.ALLOW
    assert store.round_trips - before == 10
    # Concurrent requests share pipelines: fewer round trips than requests.
    before = store.round_trips
    await asyncio.gather(*(request(shield, ip=f"198.51.100.{n}") for n in range(50)))
    assert store.round_trips - before < 5
    await store.aclose()


async def test_keys_are_prefixed_and_all_expire(own_redis: RedisServer, redis_prefix: str) -> None:
    # A server of its own: "nothing outside the prefix" then speaks of this shield's keys alone,
    # not of whatever other tests (the efficacy harness's prefixes) left on the shared server.
    redis_url = own_redis.url
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    for strategy in ("sliding-window-counter", "moving-window", "fixed-window"):
        shield = Shield(
            Settings(
                ratelimit={
                    "strategy": strategy,
                    "groups": group("2/minute", network_limits="50/hour"),
                    "escalation": {"throttles": 2},
                }
            ),
            store=store,
        )
        for _ in range(6):
            await request(shield, ip="192.0.2.1")
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    keys = [k async for k in client.scan_iter(match=redis_prefix + "*")]
    kinds = {k.removeprefix(redis_prefix).split(":", 2)[1] for k in keys if ":" in k}
    assert {"client", "network", "bans"} <= kinds  # strikes are deleted by the ban
    assert any(k.startswith(redis_prefix + "ban:") for k in keys)
    for key in keys:
        if key == redis_prefix + "events":  # the block log's stream is capped by length
            continue
        assert await client.pttl(key) > 0, key
    everything = [k async for k in client.scan_iter(match="*")]
    assert everything
    assert all(k.startswith(redis_prefix) for k in everything)
    await client.aclose()
    await store.aclose()


async def test_fails_open_when_redis_is_down(redis_prefix: str) -> None:
    server = RedisServer.start()
    # (the healthy counts below need a loaded machine's timeout; once stopped, the server's
    # connections are refused at once, so the outage does not wait for it)
    store = RedisStore(server.url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT, cooldown=30)
    try:
        shield = Shield(Settings(ratelimit={"groups": group("1/day")}), store=store)
        assert (await request(shield))[0].action is Action.ALLOW
        assert (await request(shield))[0].action is Action.THROTTLE
        server.stop()
        for _ in range(3):
            decision, ctx = await request(shield)
            assert decision.action is Action.ALLOW
            assert ctx.store_failed
    finally:
        await store.aclose()
        server.close()


async def test_fails_closed_when_configured(redis_prefix: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    store = RedisStore(url, prefix=redis_prefix, timeout=0.2, fail_mode="closed")
    shield = Shield(
        Settings(fail_mode="closed", ratelimit={"groups": group("5/minute")}), store=store
    )
    decision, _ = await request(shield)
    assert (decision.action, decision.status, decision.rule) == (
        Action.BLOCK,
        503,
        "store/fail-closed",
    )
    await store.aclose()


@pytest.mark.both_loops
async def test_a_sliding_window_keeps_two_parity_buckets_each_ending_with_the_next(
    redis_url: str, redis_prefix: str
) -> None:
    """A sliding window's buckets are `<key>/0` and `<key>/1` (hit.lua: no key name built
    from a number); the bucket a request counts in expires at the last millisecond of the
    bucket after it, so its parity's name is empty again when that parity comes back."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(Settings(ratelimit={"groups": group("5/minute")}), store=store)
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await room(10.0)  # the hits and the clock's read below within one minute's window
        for _ in range(3):
            await request(shield, ip="192.0.2.9")
        seconds, micros = await client.time()
        index = (seconds * 1000 + micros // 1000) // 60_000
        mine = redis_prefix + "rl:client:"  # (the prefix holds glob characters: [asyncio])
        keys = [k async for k in client.scan_iter(match="*rl:client:*") if k.startswith(mine)]
        assert len(keys) == 1
        assert keys[0].endswith(f"/{index % 2}")
        assert await client.get(keys[0]) == "3"
        expires = await client.pexpiretime(keys[0])
        assert expires == (index + 2) * 60_000 - 1
    finally:
        await client.aclose()
        await store.aclose()
