"""The shield's concurrent phase on Redis: the ban read and every store-using detector in one
round trip, each detector's failure kept to itself (fail open) or raised once (fail closed)."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Awaitable, Sequence

import pytest

import scrapeshield.shield
from scrapeshield import Settings, Shield
from scrapeshield.bans import Ban
from scrapeshield.defences import RequestContext
from scrapeshield.detection import detect, runs_for, start_early
from scrapeshield.detector import Found, Immediate, Sent
from scrapeshield.facts import Facts
from scrapeshield.shield import synthetic_scope
from scrapeshield.signals import Action, Signal
from scrapeshield.store import RedisStore
from tests.servers import LOADED_STORE_TIMEOUT


class StoreDetector:
    """Reads the store, then reports a signal or raises."""

    uses_store = True

    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name = name
        self.error = error

    async def detect(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        await ctx.store.get(f"seen:{self.name}")
        if self.error is not None:
            raise self.error
        return [Signal(f"test/{self.name}", 1.0, "seen")]


async def gather(
    shield: Shield, facts: Facts, ctx: RequestContext
) -> tuple[Ban | None, list[Signal]]:
    """The ban read and every detector, as `Shield.decide_now` runs them (one loop)."""
    runs = runs_for(shield.detectors)
    started = start_early(runs, facts, ctx, shield._failed) if runs.early else None
    ban = shield.bans.lookup(facts.client_key)
    signals = detect(runs, facts, ctx, shield._failed, started)
    ban = ban if ban is None or isinstance(ban, Ban) else await ban
    return ban, signals if isinstance(signals, list) else await signals


async def decide(
    monkeypatch: pytest.MonkeyPatch,
    store: RedisStore,
    detectors: list[StoreDetector],
    fail_mode: str = "open",
) -> tuple[Shield, Action, list[str]]:
    monkeypatch.setattr(scrapeshield.shield, "build_detectors", lambda settings: detectors)
    shield = Shield(Settings(fail_mode=fail_mode), store=store)
    await shield.ban("192.0.2.1", 60, reason="test")
    facts = shield.facts(synthetic_scope(ip="192.0.2.2"))
    signals = [s.name for s in (await gather(shield, facts, shield.context()))[1]]
    banned = await shield.decide(shield.facts(synthetic_scope(ip="192.0.2.1")))
    return shield, banned.action, signals


async def test_ban_and_detectors_share_one_round_trip(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    detectors = [StoreDetector("a"), StoreDetector("b"), StoreDetector("c")]
    try:
        shield, banned, signals = await decide(monkeypatch, store, detectors)
        assert banned is Action.BLOCK
        assert signals == ["test/a", "test/b", "test/c"]
        before = store.round_trips
        decision = await shield.decide(shield.facts(synthetic_scope(ip="192.0.2.1")))
        assert decision.rule == "ban/active"
        assert store.round_trips - before == 1
    finally:
        await store.aclose()


async def test_a_failing_detector_fails_open_alone(
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    detectors = [StoreDetector("a", RuntimeError("detector bug")), StoreDetector("b")]
    try:
        _, banned, signals = await decide(monkeypatch, store, detectors)
    finally:
        await store.aclose()
    assert banned is Action.BLOCK  # the ban was still read
    assert signals == ["test/b"]
    assert "detector a failed" in caplog.text


async def test_a_failing_detector_fails_closed(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    detectors = [StoreDetector("a"), StoreDetector("b", RuntimeError("detector bug"))]
    try:
        with pytest.raises(RuntimeError, match="detector bug"):  # the middleware answers 503
            await decide(monkeypatch, store, detectors, fail_mode="closed")
    finally:
        await store.aclose()


class SentDetector(Immediate):
    """Queues its read at once (`Sent`), as the built-in store detectors do on Redis."""

    uses_store = True

    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name = name
        self.error = error

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        assert isinstance(ctx.store, RedisStore)
        return Sent(self._later(ctx.store.get_soon(f"seen:{self.name}")))

    async def _later(self, reply: Awaitable[str | None]) -> Sequence[Signal]:
        await reply
        if self.error is not None:
            raise self.error
        return [Signal(f"test/{self.name}", 1.0, "sent")]


async def test_sent_and_tasked_detectors_share_one_round_trip_in_order(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    """Detectors that queue at once need no task; the others get one, started first, so every
    command still leaves in one pipeline. Signals keep the detectors' order."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    detectors = [SentDetector("a"), StoreDetector("b"), SentDetector("c", RuntimeError("bug"))]
    try:
        monkeypatch.setattr(scrapeshield.shield, "build_detectors", lambda settings: detectors)
        shield = Shield(Settings(), store=store)
        facts = shield.facts(synthetic_scope(ip="192.0.2.2"))
        await gather(shield, facts, shield.context())  # connected
        before = store.round_trips
        ban, signals = await gather(shield, facts, shield.context())
        assert store.round_trips - before == 1
        assert ban is None
        assert [s.name for s in signals] == ["test/a", "test/b"]  # c failed alone (logged)
    finally:
        await store.aclose()


async def test_a_cancelled_request_leaves_nothing_unread(redis_url: str, redis_prefix: str) -> None:
    """Cancelled while its commands are in flight (a shutdown, a timeout), a request leaves no
    coroutine never awaited and no reply unread: what it queued is drained."""
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    shield = Shield(Settings(challenge={"secret_keys": ["k" * 32]}), store=store)
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
    headers = [("accept", "text/html"), ("sec-fetch-dest", "document")]
    scope = synthetic_scope(path="/artworks/7", user_agent=ua, headers=headers)
    try:
        await shield.decide(shield.facts(scope))  # connected
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(10):
                task = asyncio.ensure_future(shield.decide(shield.facts(scope)))
                await asyncio.sleep(0)  # queued, not yet answered
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            await asyncio.sleep(0.2)  # the drained replies arrive
            gc.collect()
        assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
    finally:
        await store.aclose()
