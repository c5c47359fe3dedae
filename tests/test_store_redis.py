"""What only the Redis store does: coalescing, a bounded Stream, unix sockets, timeouts, breaker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import pytest
import redis
from redis.asyncio.cluster import RedisCluster

from scrapeshield import Settings, StoreUnavailable
from scrapeshield.store import RedisStore, open_store
from scrapeshield.store.breaker import BreakerState
from tests.servers import LOADED_STORE_TIMEOUT, RedisServer, redis_store_settings

pytestmark = pytest.mark.both_loops  # on asyncio and on uvloop


async def test_concurrent_commands_share_one_round_trip(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        await store.incr("warm", ttl=10)  # loads the script (EVALSHA, then EVAL once)
        before = store.round_trips
        results = await asyncio.gather(*(store.incr(f"k{n % 5}", ttl=10) for n in range(50)))
        assert sorted(results) == sorted([n // 5 + 1 for n in range(50)])
        assert store.round_trips - before == 1
    finally:
        await store.aclose()


async def test_event_stream_is_capped_in_redis(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, max_events=100, timeout=LOADED_STORE_TIMEOUT)
    try:
        for batch in range(6):
            await asyncio.gather(*(store.append_event({"n": batch}) for _ in range(500)))
    finally:
        await store.aclose()
    raw = redis.Redis.from_url(redis_url)
    try:
        length = raw.xlen(redis_prefix + "events")
    finally:
        raw.close()
    # MAXLEN ~ trims whole stream nodes (100 entries each by default): never near 3,000.
    assert 100 <= length <= 200


async def test_unix_socket_url() -> None:
    server = RedisServer.start(unix_socket=True)
    try:
        assert server.url.startswith("unix://")
        store = open_store(Settings(**redis_store_settings(server.url)))
        assert isinstance(store, RedisStore)
        try:
            await store.set("a", "1", ttl=10)
            assert await store.get("a") == "1"
            assert await store.incr("c", ttl=10) == 1
            await store.append_event({"ok": True})
            assert [e.data for e in await store.read_events()] == [{"ok": True}]
        finally:
            await store.aclose()
    finally:
        server.close()


def test_cluster_url_builds_a_cluster_client_without_io() -> None:
    store = open_store(
        Settings(store_url="redis+cluster://127.0.0.1:7000/0", store_prefix="s:{s}:")
    )
    assert isinstance(store, RedisStore)
    assert isinstance(store.client, RedisCluster)


async def test_password_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisStore("redis://:s3cret@127.0.0.1:1/0", timeout=0.2)
    for _ in range(2):  # failures for longer than the store's timeout open the breaker: logged
        with pytest.raises(StoreUnavailable):
            await store.get("x")
        await asyncio.sleep(0.25)
    assert store.breaker.state is BreakerState.OPEN
    await store.aclose()
    assert "s3cret" not in caplog.text
    assert "***@127.0.0.1:1" in caplog.text


@contextlib.asynccontextmanager
async def _paused(
    server: RedisServer, ms: int, *, store_timeout: float, cooldown: float
) -> AsyncIterator[RedisStore]:
    """A connected store on `server`, whose clients (this store's too) are then paused for `ms`.
    Connected within five tries: on a loaded machine a first connection and its PING can take
    longer than a short `store_timeout` (each try a new store: its breaker counts nothing)."""
    for _ in range(5):
        redis_store = RedisStore(server.url, timeout=store_timeout, cooldown=cooldown)
        try:
            await redis_store.ping()
            break
        except StoreUnavailable:
            await redis_store.aclose()
    else:
        raise AssertionError(f"no PING answered within {store_timeout} s in five tries")
    admin = redis.Redis.from_url(server.url)
    try:
        admin.client_pause(ms, all=True)
        yield redis_store
    finally:
        admin.close()
        await redis_store.aclose()


async def test_slow_redis_costs_two_timeouts_then_fails_fast(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="scrapeshield")
    # (a pause of 1.2 s: the second call times out well within it, on a loaded machine too)
    async with _paused(own_redis, 1200, store_timeout=0.2, cooldown=1.0) as store:
        for _ in range(2):  # the first failure may be a moment's: the second opens the breaker
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await store.get("x")
            assert 0.15 < time.monotonic() - started < 1.0  # one store_timeout (0.2 s) each
        assert store.breaker.state is BreakerState.OPEN
        failures = store.breaker.failures
        started = time.monotonic()
        for _ in range(20):
            with pytest.raises(StoreUnavailable):
                await store.get("x")
        # the breaker answers without touching Redis: a call that reached the paused server
        # would time out and count a failure (counted, not timed: a loaded machine may stall
        # the loop for longer than a timeout), and 20 of them would take 4 s
        assert store.breaker.failures == failures
        assert time.monotonic() - started < 1.0
        await asyncio.sleep(1.3)  # the pause (1.2 s) is over, and so is the cooldown (1.0 s)
        assert await store.get("x") is None
        assert str(store.breaker.state) == "closed"  # (mypy keeps the narrowing above)
    messages = [r.getMessage() for r in caplog.records if r.name == "scrapeshield"]
    assert len([m for m in messages if "unavailable" in m]) == 1
    assert len([m for m in messages if "available again" in m]) == 1


async def test_a_moment_s_stall_costs_only_the_calls_that_waited_on_it(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis held up once (a snapshot's fork, a network hiccup) for longer than the timeout: the
    call in flight fails, and the next one, after the stall, is answered (the breaker did not
    open and switch the store off for its cooldown)."""
    caplog.set_level(logging.WARNING, logger="scrapeshield")
    # (a stall of 1 s, not 0.3: the call must time out within it, on a loaded machine too)
    async with _paused(own_redis, 1000, store_timeout=0.2, cooldown=30) as store:
        with pytest.raises(StoreUnavailable):
            await store.get("x")
        await asyncio.sleep(1.0)  # the stall is over
        assert await store.get("x") is None
        assert store.breaker.state is BreakerState.CLOSED
        assert store.breaker.failures == 1
    assert not [r for r in caplog.records if r.name == "scrapeshield"]


async def test_a_failed_probe_opens_the_breaker_again_at_once(own_redis: RedisServer) -> None:
    """In half-open state there is no tolerance: the probe that fails re-opens the breaker."""
    async with _paused(own_redis, 1500, store_timeout=0.2, cooldown=0.3) as store:
        for _ in range(2):
            with pytest.raises(StoreUnavailable):
                await store.get("x")
        assert store.breaker.state is BreakerState.OPEN
        await asyncio.sleep(0.35)  # past the cooldown: the next call is a probe
        with pytest.raises(StoreUnavailable):
            await store.get("x")  # it times out, the pause still on
        assert store.breaker.state is BreakerState.OPEN


async def test_the_matrix_runs_on_the_loop_it_names(request: pytest.FixtureRequest) -> None:
    """`both_loops` really runs on uvloop, not twice on asyncio."""
    on_uvloop = type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    assert on_uvloop == ("[uvloop" in request.node.name)


def test_the_second_timeout_in_a_row_opens_the_breaker_on_a_millisecond_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The unit under `test_slow_redis_costs_two_timeouts_then_fails_fast` (which failed in CI
    on uvloop): a call made after the streak's first failure fails a timeout later, less the
    millisecond an early timer can take; that second failure opens the breaker, and failures
    of one moment (a few milliseconds apart) do not."""
    now = [1000.0]
    monkeypatch.setattr("scrapeshield.store.breaker.time.monotonic", lambda: now[0])
    store = RedisStore("redis://127.0.0.1:1", timeout=0.2)  # (never connected)
    breaker = store.breaker
    breaker.record_failure(TimeoutError())
    now[0] += 0.005
    breaker.record_failure(TimeoutError())  # the same moment: another call in flight
    assert breaker.state is BreakerState.CLOSED
    now[0] += 0.2 - 0.005 - 0.001  # the next call's timeout, its timer a millisecond early
    breaker.record_failure(TimeoutError())
    assert str(breaker.state) == "open"  # (mypy keeps the narrowing above)
