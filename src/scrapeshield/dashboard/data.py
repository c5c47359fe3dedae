"""Everything the dashboard reads or changes, over the store's own read methods (the event
stream, bans, trap flags, escalation counters) and `Support`. One small seam, so the pages can
later read through a shared operators' API instead.

On Redis every page reads through a store of its own (`reading`), opened for the request with a
longer deadline and closed after it: reading the whole event stream can take longer than the
site's `store_timeout`, and a slow read must never open the circuit breaker that the site's
requests go through.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from scrapeshield.bans import Ban, BanList, ban_key
from scrapeshield.behaviour.trap import trap_key
from scrapeshield.blocklog import summarise
from scrapeshield.ratelimit.escalation import level_key, strike_key
from scrapeshield.settings import Settings
from scrapeshield.store.base import Store, StoredEvent
from scrapeshield.store.kind import on_redis
from scrapeshield.support import Lifted, Support, TrapFlag

WINDOWS = {"1h": 3600.0, "6h": 6 * 3600.0, "24h": 86400.0, "7d": 7 * 86400.0}
BUCKETS = 24  # bars of the blocks-over-time chart
TOP = 10
CLIENT_EVENTS = 100  # a client's most recent events shown
TAIL_LIMIT = 100
BANS_SHOWN = 500  # bans listed on the page, ending soonest first
READ_TIMEOUT = 5.0  # seconds: one read of the whole stream (10,000 events: a few MB)


@dataclass
class Overview:
    """The events of one window, counted: over time by action, by rule, by client."""

    window: str
    start: float
    end: float
    total: int
    by_action: dict[str, int]
    by_rule: dict[str, int]
    by_client: dict[str, int]
    timeline: list[dict[str, Any]]  # per bucket: {"start": t, "counts": {action: n}}
    oldest: float | None  # the oldest event the stream still holds
    retained: int


@dataclass
class Counters:
    """A client's escalation counters: value and seconds until they are forgotten."""

    strikes: int = 0
    strikes_ttl: float | None = None
    ban_level: int = 0
    ban_level_ttl: float | None = None


@dataclass
class ClientView:
    client_key: str
    events: list[dict[str, Any]]  # newest first, at most CLIENT_EVENTS
    total: int
    by_action: dict[str, int]
    by_rule: dict[str, int]
    ban: Ban | None
    trap: TrapFlag | None
    counters: Counters = field(default_factory=Counters)


class DashboardData:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.support = Support(store, settings)

    async def retained(self) -> list[StoredEvent]:
        """The whole retained event stream, oldest first (it is bounded by
        `event_stream_maxlen`; Redis trims approximately, so ask for a margin)."""
        return await self.store.read_events(limit=self.settings.event_stream_maxlen + 1000)

    async def overview(self, window: str, now: float | None = None) -> Overview:
        now = time.time() if now is None else now
        span = WINDOWS.get(window, WINDOWS["24h"])
        start = now - span
        stored = await self.retained()
        events = [e.data for e in stored if e.time >= start]
        summary = summarise(events, top=TOP)
        width = span / BUCKETS
        counts: list[Counter[str]] = [Counter() for _ in range(BUCKETS)]
        for stored_event in stored:
            if stored_event.time >= start:
                index = min(BUCKETS - 1, int((stored_event.time - start) / width))
                counts[index][str(stored_event.data.get("action"))] += 1
        timeline = [{"start": start + i * width, "counts": c} for i, c in enumerate(counts)]
        return Overview(
            window=window if window in WINDOWS else "24h",
            start=start,
            end=now,
            total=summary["total"],
            by_action=summary["by_action"],
            by_rule=summary["by_rule"],
            by_client=summary["by_client"],
            timeline=timeline,
            oldest=stored[0].time if stored else None,
            retained=len(stored),
        )

    async def client(self, client_key: str) -> ClientView:
        stored = await self.retained()
        mine = [e.data for e in stored if e.data.get("client_key") == client_key]
        summary = summarise(mine, top=TOP)
        store = self.store
        ban_raw, trap_path, strikes, level = await store.get_many(
            [
                ban_key(client_key),
                trap_key(client_key),
                strike_key(client_key),
                level_key(client_key),
            ]
        )
        trap_ttl, strikes_ttl, level_ttl = await asyncio.gather(
            store.ttl(trap_key(client_key)),
            store.ttl(strike_key(client_key)),
            store.ttl(level_key(client_key)),
        )
        now = time.time()
        trap = None
        if trap_path is not None:
            trap = TrapFlag(client_key, trap_path, now + (trap_ttl or 0.0))
        return ClientView(
            client_key=client_key,
            events=list(reversed(mine[-CLIENT_EVENTS:])),
            total=summary["total"],
            by_action=summary["by_action"],
            by_rule=summary["by_rule"],
            ban=Ban.from_json(client_key, ban_raw) if ban_raw else None,
            trap=trap,
            counters=Counters(_int(strikes), strikes_ttl, _int(level), level_ttl),
        )

    async def holds(self) -> tuple[list[Ban], list[TrapFlag]]:
        """Current bans and trap flags, soonest to expire first: the `BANS_SHOWN` ending
        soonest of each, from their indexes (never a scan of the keyspace)."""
        bans, traps = await asyncio.gather(
            self.support.bans(BANS_SHOWN), self.support.trap_flags(BANS_SHOWN)
        )
        return bans, traps

    async def ban_count(self) -> int:
        """How many bans are active (more than `holds` shows, on a busy day)."""
        return await BanList(self.store).count()

    async def trap_count(self) -> int:
        """How many clients are flagged by a trap (more than `holds` shows, on a busy day)."""
        return await self.support.trap_count()

    async def tail(self, after: str | None, limit: int = TAIL_LIMIT) -> list[StoredEvent]:
        """Events newer than the one with id `after` (all recent ones without it), oldest
        first, at most `limit`."""
        since = _id_time(after)
        events = await self.store.read_events(since=since, limit=limit)
        if after is None or since is None:
            return events
        mark = _id_key(after)
        return [e for e in events if _id_key(e.id) > mark]

    def store_state(self) -> tuple[str, str]:
        """The store's kind and its circuit breaker's state ('' without a breaker)."""
        breaker = getattr(getattr(self.store, "breaker", None), "state", None)
        return str(self.store.name), str(breaker) if breaker is not None else ""

    def client_key(self, target: str) -> str:
        """The client key for an address or network (`support.TargetError` otherwise)."""
        return self.support.client_key(target)

    async def lift(self, client_key: str, *, forget: bool = False) -> Lifted:
        return await self.support.lift(client_key, forget=forget)


def _int(raw: str | None) -> int:
    try:
        return int(raw) if raw is not None else 0
    except ValueError:
        return 0


def _id_key(event_id: str) -> tuple[int, int]:
    """A stream id (`<ms>-<seq>`) as a sortable pair; (0, 0) when malformed."""
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return 0, 0


def _id_time(event_id: str | None) -> float | None:
    if not event_id:
        return None
    ms = _id_key(event_id)[0]
    return ms / 1000 if ms else None


@contextlib.asynccontextmanager
async def reading(store: Store, settings: Settings) -> AsyncIterator[DashboardData]:
    """`DashboardData` for one request: over the site's store in memory (nothing to wait for),
    over a Redis store of its own otherwise (its own breaker and deadline), closed after."""
    if not on_redis(store):  # (not `isinstance`: a dashboard on memory imports no redis-py)
        yield DashboardData(store, settings)
        return
    from scrapeshield.store.redis import RedisStore  # imported already: the site's store is one

    own = RedisStore(
        store.url,
        prefix=store.prefix,
        timeout=max(store.timeout, READ_TIMEOUT),
        cooldown=store.breaker.cooldown,
        fail_mode=store.breaker.fail_mode,
        max_events=store.max_events,
        max_connections=2,
        event_shards=store.events.shards,
    )
    try:
        yield DashboardData(own, settings)
    finally:
        await own.aclose()
