"""Redis specifics: one round trip per request, key prefix and TTLs, fail-open when it is down."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from scrapeshield import Settings, Shield
from scrapeshield.signals import Action
from scrapeshield.store import RedisStore
from tests.ratelimit.helpers import group, request
from tests.servers import RedisServer, free_port


async def test_one_round_trip_per_request_with_every_limit(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=2.0)
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
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=2.0)
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
    store = RedisStore(server.url, prefix=redis_prefix, timeout=0.2, cooldown=30)
    try:
        shield = Shield(Settings(ratelimit={"groups": group("1/minute")}), store=store)
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


async def _hash_of(client: aioredis.Redis, redis_prefix: str) -> tuple[str, dict[str, str]]:
    """The test's one client hash and its fields (the prefix holds glob characters)."""
    mine = redis_prefix + "rl:client:"
    keys = [k async for k in client.scan_iter(match="*rl:client:*") if k.startswith(mine)]
    assert len(keys) == 1
    fields = await client.hgetall(keys[0])
    return keys[0], {str(k): str(v) for k, v in fields.items()}


@pytest.mark.both_loops
async def test_a_clients_sliding_windows_are_one_hash_lasting_to_its_longest_reach(
    redis_url: str, redis_prefix: str
) -> None:
    """A client's sliding windows count in one hash, `rl:client:<group>:{<client>}:sliding`:
    per window its bucket's index, that bucket's count, the count before it. The hash expires
    at the last millisecond of its longest window's next bucket (Redis 7.0 has no TTL per
    field)."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=2.0)
    shield = Shield(Settings(ratelimit={"groups": group("5/minute;50/hour")}), store=store)
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        for _ in range(3):
            await request(shield, ip="192.0.2.9")
        seconds, micros = await client.time()
        now = seconds * 1000 + micros // 1000
        minute, hour = now // 60_000, now // 3_600_000
        key, fields = await _hash_of(client, redis_prefix)
        assert key == redis_prefix + "rl:client:default:{192.0.2.9}:sliding"
        assert fields["5/60s:i"] == str(minute)
        assert fields["50/3600s:i"] == str(hour)
        assert fields["5/60s:c"] == fields["50/3600s:c"] == "3"
        assert fields["5/60s:p"] == fields["50/3600s:p"] == "0"
        assert await client.pexpiretime(key) == (hour + 2) * 3_600_000 - 1
    finally:
        await client.aclose()
        await store.aclose()


@pytest.mark.both_loops
async def test_a_stale_bucket_reads_as_0_after_its_window(
    redis_url: str, redis_prefix: str
) -> None:
    """The hour's window keeps the hash alive while the second's buckets go stale: a bucket
    two windows old still holds its count in the hash, and reads as 0 by its index."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=2.0)
    shield = Shield(Settings(ratelimit={"groups": group("2/second;100/hour")}), store=store)
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        for _ in range(2):
            await request(shield, ip="192.0.2.9")
        key, fields = await _hash_of(client, redis_prefix)
        await asyncio.sleep(2.2)  # both of the second's buckets are over
        assert await client.hgetall(key) == fields  # still there, stale
        seconds, _ = await client.time()
        assert int(fields["2/1s:i"]) < seconds - 1
        decision, ctx = await request(shield, ip="192.0.2.9")
        assert decision.action is Action.ALLOW
        states = {s.limit.window: s.remaining for s in ctx.notes["ratelimit"]["outcome"].states}
        assert states == {1: 1, 3600: 97}  # the second's window counts from zero again
        _, fields = await _hash_of(client, redis_prefix)
        assert (fields["2/1s:c"], fields["2/1s:p"]) == ("1", "0")
    finally:
        await client.aclose()
        await store.aclose()


@pytest.mark.both_loops
async def test_a_deploy_over_keys_of_the_old_layout_counts_from_zero(
    redis_url: str, redis_prefix: str
) -> None:
    """Before, each sliding window's buckets were keys of their own (`<key>/0`, `<key>/1`): a
    deploy finds them, leaves them to expire, and counts in the new hash from zero (for at most
    one window a client may spend its quota once more)."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    old = redis_prefix + "rl:client:default:{192.0.2.9}:5/60s:3"
    for parity in (0, 1):
        await client.set(f"{old}/{parity}", "5", px=120_000)
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=2.0)
    shield = Shield(Settings(ratelimit={"groups": group("5/minute")}), store=store)
    try:
        decision, ctx = await request(shield, ip="192.0.2.9")
        assert decision.action is Action.ALLOW
        assert ctx.notes["ratelimit"]["outcome"].states[0].remaining == 4
        assert await client.get(f"{old}/0") == "5"  # untouched: it expires as it was
        assert 0 < await client.pttl(f"{old}/0") <= 120_000
    finally:
        await client.aclose()
        await store.aclose()
