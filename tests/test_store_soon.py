"""Store calls read when the tick's batch settles (store/soon.py): a request's detectors queue
their commands with the plain function that reads each reply, the request waits once for the
batch, and the ban comes with the rate limiter's reply (real redis-server, both loops)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

import pytest
import redis

import scrapeshield.ratelimit.backends
from scrapeshield import Settings, Shield
from scrapeshield.detector import Found, Immediate, RequestContext, Sent
from scrapeshield.facts import Facts
from scrapeshield.signals import Signal
from scrapeshield.store import RedisStore, combine
from scrapeshield.store.soon import Soon
from tests.servers import LOADED_STORE_TIMEOUT, RedisServer
from tests.test_store_combine import page_view

pytestmark = pytest.mark.both_loops  # on asyncio and on uvloop

SETTINGS = {"challenge": {"secret_keys": ["k" * 32]}}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The sources of each script call's parts, as the store sends them."""
    seen: list[list[str]] = []
    command = combine.command

    def spy(parts: list[combine.Part]) -> tuple[str, tuple[Any, ...]]:
        seen.append([part[0] for part in parts])
        return command(parts)

    monkeypatch.setattr(combine, "command", spy)
    return seen


async def test_a_page_view_takes_its_ban_from_the_rate_limiters_reply(
    own_redis: RedisServer, calls: list[list[str]]
) -> None:
    """No read of the ban key of its own: hit.lua reads it, and a banned client is refused with
    its ban's reason and time left, in one round trip."""
    store = RedisStore(own_redis.url, prefix="soon:", timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(Settings(**SETTINGS), store=store)
    try:
        allowed = await shield.decide(shield.facts(page_view("198.51.100.1")))
        assert allowed.rule == "allow"
        await shield.ban("198.51.100.2", 60, reason="copied the archive")
        calls.clear()
        before = store.round_trips
        banned = await shield.decide(shield.facts(page_view("198.51.100.2")))
        assert store.round_trips - before == 1
        assert banned.rule == "ban/active"
        assert banned.reasons[0].detail == "copied the archive"
        assert banned.retry_after is not None
        assert 50 < banned.retry_after <= 60
        assert calls
        assert all(combine.GET not in sources for sources in calls)
        assert scrapeshield.ratelimit.backends.HIT_SCRIPT in calls[0]
    finally:
        await store.aclose()


async def test_without_a_limit_the_ban_is_read_on_its_own(
    own_redis: RedisServer, calls: list[list[str]]
) -> None:
    """A request the rate limiter does not count (no limit for its group) still meets its ban."""
    store = RedisStore(own_redis.url, prefix="soon-nolimit:", timeout=LOADED_STORE_TIMEOUT)
    settings = Settings(ratelimit={"enabled": False}, **SETTINGS)
    shield = Shield(settings, store=store)
    try:
        await shield.ban("198.51.100.3", 60, reason="manual")
        calls.clear()
        banned = await shield.decide(shield.facts(page_view("198.51.100.3")))
        assert banned.rule == "ban/active"
        assert any(combine.GET in sources for sources in calls)
    finally:
        await store.aclose()


async def test_when_the_limiters_script_fails_the_ban_is_still_read(
    own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The rate limiter's part fails alone (logged) and the ban phase reads the key itself."""
    store = RedisStore(own_redis.url, prefix="soon-broken:", timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(Settings(**SETTINGS), store=store)
    try:
        await shield.ban("198.51.100.4", 60, reason="manual")
        monkeypatch.setattr(
            scrapeshield.ratelimit.backends, "HIT_SCRIPT", "return redis.error_reply('broken')"
        )
        with caplog.at_level(logging.ERROR, logger="scrapeshield"):
            banned = await shield.decide(shield.facts(page_view("198.51.100.4")))
            allowed = await shield.decide(shield.facts(page_view("198.51.100.5")))
        assert banned.rule == "ban/active"
        assert allowed.rule == "allow"
        assert "detector ratelimit failed" in caplog.text
    finally:
        await store.aclose()


async def test_queued_calls_are_read_after_a_flushed_script_cache(own_redis: RedisServer) -> None:
    """A `Soon` whose call is sent again (NOSCRIPT) waits for the next batch, then reads."""
    store = RedisStore(own_redis.url, prefix="soon-flush:", timeout=LOADED_STORE_TIMEOUT)
    admin = redis.Redis.from_url(own_redis.url)
    incr = "return redis.call('INCR', KEYS[1])"
    try:

        async def tick() -> list[Any]:
            queued = [
                store.queue_script(incr, ["n"], [], lambda reply: ("counted", reply)),
                store.queue_get("n", lambda value: ("read", value)),
            ]
            await queued[0].tick
            return [await soon for soon in queued]

        assert await tick() == [("counted", 1), ("read", "1")]
        admin.script_flush()
        assert await tick() == [("counted", 2), ("read", "2")]
    finally:
        admin.close()
        await store.aclose()


async def test_a_failing_part_fails_its_own_soon_only(own_redis: RedisServer) -> None:
    """The tick is done once the batch has settled; a part's error is its caller's alone."""
    store = RedisStore(own_redis.url, prefix="soon-fail:", timeout=LOADED_STORE_TIMEOUT)
    try:
        soons: list[Soon[Any]] = [
            store.queue_script("return 1", ["a"], [], lambda reply: reply),
            store.queue_script("return {err = 'bad'}", ["b"], [], lambda reply: reply),
        ]
        await asyncio.wait_for(asyncio.shield(soons[0].tick), 10)  # (a deadline, not a bound)
        assert await soons[0] == 1
        with pytest.raises(Exception, match="bad"):
            soons[1].result()
    finally:
        await store.aclose()


class _Sent(Immediate):
    """A detector of the awaitable kind (`Sent`), among the built-in ones that answer `Soon`s."""

    name = "sent"
    uses_store = True

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        assert isinstance(ctx.store, RedisStore)
        return Sent(self._later(ctx.store.get_soon("seen")))

    async def _later(self, reply: Awaitable[Any]) -> Sequence[Signal]:
        await reply
        return [Signal("test/sent", 0.0, "read")]


async def test_soons_and_awaitables_share_the_round_trip_in_detector_order(
    own_redis: RedisServer,
) -> None:
    """A detector that hands back an awaitable (`Sent`) among those that hand back `Soon`s: one
    round trip, every detector's signals in detector order; `detect` alone reads a `Soon` too."""
    store = RedisStore(own_redis.url, prefix="soon-mixed:", timeout=LOADED_STORE_TIMEOUT)
    settings = Settings(ratelimit={"groups": {"default": {"limits": "1/day"}}}, **SETTINGS)
    shield = Shield(settings, store=store)
    limiter = next(d for d in shield.detectors if d.name == "ratelimit")
    shield.detectors.insert(shield.detectors.index(limiter) + 1, _Sent())
    try:
        first = await shield.decide(shield.facts(page_view("198.51.100.6")))
        assert first.rule == "allow"
        before = store.round_trips
        ctx = shield.context()
        second = await shield.decide(shield.facts(page_view("198.51.100.6")), ctx)
        assert store.round_trips - before == 1
        names = [s.name for s in second.reasons]
        assert names.index("ratelimit/default/client") < names.index("test/sent")
        alone = await limiter.detect(shield.facts(page_view("198.51.100.6")), shield.context())
        assert [s.name for s in alone] == ["ratelimit/default/client"]
    finally:
        await store.aclose()


def test_a_tick_left_by_a_stopped_loop_does_not_block_the_next(own_redis: RedisServer) -> None:
    """A loop that stops with a command queued and its flush not yet run (a CLI's
    `asyncio.run`, a test's loop) leaves the store usable from the next loop."""
    store = RedisStore(own_redis.url, prefix="soon-loops:", timeout=LOADED_STORE_TIMEOUT)
    first = asyncio.new_event_loop()

    def queue_and_stop() -> None:
        store.queue_get("k", lambda value: value)
        first.stop()  # before the flush it scheduled runs

    async def use() -> Any:
        try:
            return await asyncio.wait_for(store.queue_get("k", lambda value: value or "none"), 5)
        finally:
            await store.aclose()

    first.call_soon(queue_and_stop)
    first.run_forever()
    first.close()
    assert asyncio.run(use()) == "none"
