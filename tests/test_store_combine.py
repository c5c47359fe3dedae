"""One Redis call per tick: the script calls and key reads a tick queues leave as one call of a
combined script (store/combine.py), each part isolated, the counts exact (real redis-server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from benchmarks.run import BROWSER_HEADERS

from scrapeshield import Settings, Shield
from scrapeshield.errors import StoreError
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action
from scrapeshield.store import RedisStore
from scrapeshield.store.combine import MAX_PARTS
from tests.servers import LOADED_STORE_TIMEOUT, RedisServer, redis_store_settings

pytestmark = pytest.mark.both_loops  # on asyncio and on uvloop

_ADMIN = {"slowlog", "config", "script", "info", "hello", "client"}  # (and handshakes)
INCR = "return redis.call('INCR', KEYS[1])"


@pytest.fixture
def admin(own_redis: RedisServer) -> Iterator[redis.Redis]:
    """A client that has the server log every command (SLOWLOG, threshold 0); a script's own
    calls are logged without a client address (`?:0`), so `sent` tells them apart."""
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    client.config_set("slowlog-log-slower-than", 0)
    client.config_set("slowlog-max-len", 100_000)
    try:
        yield client
    finally:
        client.close()


def sent(admin: redis.Redis) -> list[str]:
    """Top-level commands since the last call (oldest first), the admin's own left out."""
    entries = admin.slowlog_get(100_000)
    admin.slowlog_reset()
    names = [
        bytes(e["command"]).split()[0].decode().lower()
        for e in reversed(entries)
        if bytes(e["client_address"]) != b"?:0"  # (a script's own call)
    ]
    return [n for n in names if n not in _ADMIN]


def page_view(ip: str) -> dict[str, Any]:
    headers = [(name, value) for name, value in (h.split(": ", 1) for h in BROWSER_HEADERS)]
    return synthetic_scope(
        path="/artworks/7", ip=ip, headers=headers, scheme="http", host="127.0.0.1"
    )


async def test_a_page_view_sends_one_command_and_its_limit_counts_exactly(
    own_redis: RedisServer, admin: redis.Redis
) -> None:
    """Every defence on: the ban read and the rate-limit, identity and behaviour scripts of a
    page view leave as ONE call; a limit of 5 admits exactly 5 page views across two shields
    (two workers), and the sixth is throttled."""
    settings = Settings(
        **redis_store_settings(own_redis.url, "combine:"),
        ratelimit={"groups": {"default": {"limits": "5/day"}}},
        challenge={"secret_keys": ["k" * 32]},
    )
    shields = [Shield(settings), Shield(settings)]
    try:
        for shield in shields:  # each loads the combined script once (EVAL)
            await shield.decide(shield.facts(page_view("198.51.100.1")))
        sent(admin)
        actions = []
        for n in range(6):
            shield = shields[n % 2]
            decision = await shield.decide(shield.facts(page_view("198.51.100.2")))
            actions.append((decision.action, decision.rule))
        assert [a for a, _ in actions] == [Action.ALLOW] * 5 + [Action.THROTTLE]
        assert actions[-1][1] == "rate-limit"
        assert sent(admin) == ["evalsha"] * 6
    finally:
        for shield in shields:
            await shield.aclose()


async def test_concurrent_calls_share_calls_and_each_part_keeps_its_own_error(
    own_redis: RedisServer, admin: redis.Redis
) -> None:
    """Reads and scripts queued in one tick are one call (at most MAX_PARTS parts each); a
    part whose command fails (WRONGTYPE) or whose Lua fails fails its own caller only."""
    store = RedisStore(own_redis.url, prefix="parts:", timeout=LOADED_STORE_TIMEOUT)
    try:
        await store.execute("HSET", "parts:hash", "f", "v")
        await store.set("text", "t", ttl=60)
        sent(admin)
        broken = "return nil + 1"
        queued = [  # in one tick
            store.get_soon("text"),
            store.get_soon("hash"),  # WRONGTYPE
            store.submit_script(INCR, ["n"], []),
            store.submit_script(broken, ["x"], []),
            store.get_soon("missing"),
            *(store.submit_script(INCR, [f"c{i % 10}"], []) for i in range(2 * MAX_PARTS)),
        ]
        results = await asyncio.gather(*queued, return_exceptions=True)
        text, hashed, counted, failed, missing, *counts = results
        assert text == "t"
        assert isinstance(hashed, StoreError)
        assert "WRONGTYPE" in str(hashed)
        assert counted == 1
        assert isinstance(failed, StoreError)
        assert missing is None
        assert sorted(int(str(c)) for c in counts) == sorted(
            i // 10 + 1 for i in range(2 * MAX_PARTS)
        )
        parts = 5 + 2 * MAX_PARTS
        calls = sent(admin)  # one round trip: the first use of each script set is an EVAL
        assert len(calls) == -(-parts // MAX_PARTS)
        assert set(calls) <= {"eval", "evalsha"}
        assert store.round_trips == 3  # HSET, SET, then the one batch
    finally:
        await store.aclose()


async def test_a_flushed_script_cache_costs_one_more_round_trip(
    own_redis: RedisServer, admin: redis.Redis
) -> None:
    """After SCRIPT FLUSH (or a restart) the combined call is sent again with its source."""
    store = RedisStore(own_redis.url, prefix="flush:", timeout=LOADED_STORE_TIMEOUT)
    try:

        async def tick() -> list[Any]:
            queued = [store.submit_script(INCR, ["a"], []), store.get_soon("a")]  # one tick
            return list(await asyncio.gather(*queued))

        assert await tick() == [1, "1"]
        assert await tick() == [2, "2"]
        sent(admin)
        admin.script_flush()
        assert await tick() == [3, "3"]
        assert sent(admin) == ["evalsha", "eval"]
    finally:
        await store.aclose()


async def test_requests_of_different_limits_in_one_call_each_count_their_own(
    own_redis: RedisServer, admin: redis.Redis
) -> None:
    """The parts of one call share the server's time and each parsed limits string
    (`ARGV.shared`): two shields with different limits on one store, their requests queued in
    one tick, admit exactly 3 and exactly 5."""
    store = RedisStore(own_redis.url, prefix="shared:", timeout=LOADED_STORE_TIMEOUT)
    shields = [
        Shield(
            Settings(
                ratelimit={"groups": {"default": {"limits": limits}}},
                challenge={"secret_keys": ["k" * 32]},
            ),
            store=store,
        )
        for limits in ("3/minute", "5/minute")
    ]
    try:
        for shield in shields:  # loads the scripts
            await shield.decide(shield.facts(page_view("198.51.100.1")))
        sent(admin)
        decisions = await asyncio.gather(
            *(
                shield.decide(shield.facts(page_view(ip)))
                for shield, ip in ((shields[0], "198.51.100.3"), (shields[1], "198.51.100.4"))
                for _ in range(8)
            )
        )
        allowed = [d.action is Action.ALLOW for d in decisions]
        assert sum(allowed[:8]) == 3
        assert sum(allowed[8:]) == 5
        assert sent(admin) == ["evalsha"]  # 16 requests' parts: one call
    finally:
        await store.aclose()
