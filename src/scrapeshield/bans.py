"""Bans: a client key shut out for a duration, from escalation, Python or the CLI."""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import math
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from scrapeshield.store import scripts
from scrapeshield.store.base import Store

# the ban key is defined with the stores (they keep bans apart); named here too, where bans are
from scrapeshield.store.keys import BAN_INDEX, subject_of
from scrapeshield.store.keys import BAN_PREFIX as BAN_PREFIX
from scrapeshield.store.keys import ban_key as ban_key
from scrapeshield.store.memory import MemoryStore
from scrapeshield.store.redis import RedisStore

UNKNOWN_CLIENT = "unknown"  # the client key when the server reports no peer address
logger = logging.getLogger("scrapeshield")
PAGE = 500  # bans read at a time
LIST_LIMIT = 10_000  # the most bans a listing returns (`BanList.count` says how many there are)
_TIES = 16  # bans ending at the same instant as a page's last that a next page can tell apart


@dataclass(frozen=True, slots=True)
class Ban:
    client_key: str
    until: float
    reason: str = ""
    rule: str = "ban/manual"
    created: float = 0.0

    @property
    def remaining(self) -> float:
        return max(0.0, self.until - time.time())

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, client_key: str, raw: str) -> Ban:
        try:
            data = json.loads(raw)
            return cls(
                client_key=client_key,
                until=float(data.get("until", 0)),
                reason=str(data.get("reason", "")),
                rule=str(data.get("rule", "ban/manual")),
                created=float(data.get("created", 0)),
            )
        except (ValueError, TypeError, AttributeError):
            return cls(
                client_key=client_key, until=time.time() + 60, reason="unreadable ban record"
            )


class BanList:
    """Bans kept in the store (so every worker sharing it enforces them) under `ban:{<key>}`,
    listed from an index: on Redis a sorted set of client keys by ban end (`BAN_INDEX`, written
    with each ban and unban), in memory the store's bans' table; never a scan of the keyspace
    (`scan` is the one-off for bans written before the index)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def ban(
        self, client_key: str, duration: float, *, reason: str = "", rule: str = "ban/manual"
    ) -> Ban:
        if duration <= 0:
            raise ValueError("ban duration must be positive")
        now = time.time()
        if client_key == UNKNOWN_CLIENT:
            # No address (a proxy on a Unix socket not listed in trusted_proxies): this key is
            # everyone at once, and banning it would shut the whole site. Report, never store.
            logger.warning(
                "not banning client key %r (%s): requests arrive without a client address; "
                'add "unix" to trusted_proxies if a proxy connects over a Unix socket',
                client_key,
                rule,
            )
            return Ban(client_key, now, reason, rule, now)
        ban = Ban(client_key, now + duration, reason, rule, now)
        store = self.store
        written = store.set(ban_key(client_key), ban.to_json(), ttl=duration)
        if isinstance(store, RedisStore):  # both in one batch
            await asyncio.gather(written, _index(store, [ban]))
        else:
            await written
        return ban

    async def unban(self, client_key: str) -> bool:
        store = self.store
        lifted = store.delete(ban_key(client_key))
        if isinstance(store, RedisStore):
            unindexed = store.execute("ZREM", store.prefix + BAN_INDEX, client_key)
            return bool((await asyncio.gather(lifted, unindexed))[0])
        return await lifted

    async def get(self, client_key: str) -> Ban | None:
        return await self.get_soon(client_key)

    def lookup(self, client_key: str) -> Ban | Awaitable[Ban | None] | None:
        """The request's ban read: at once on the MemoryStore (nothing waits there), else
        queued now so that it joins the request's one round trip (on Redis a `Soon`)."""
        store = self.store
        if isinstance(store, MemoryStore):
            raw = store.peek_ban(client_key)
            return Ban.from_json(client_key, raw) if raw else None
        if isinstance(store, RedisStore):
            return store.queue_get(ban_key(client_key), partial(ban_of, client_key))
        return self.get_soon(client_key)

    def get_soon(self, client_key: str) -> Awaitable[Ban | None]:
        """`get`, its read queued now on Redis (`submit`): await the ban."""
        store, key = self.store, ban_key(client_key)
        reply = store.get_soon(key) if isinstance(store, RedisStore) else store.get(key)
        return _ban_from(client_key, reply)

    async def page(self, after: Ban | None = None, count: int = PAGE) -> list[Ban]:
        """Up to `count` active bans ending after `after` (the last of the previous page),
        soonest to end first. On Redis one read of the index (expired entries pruned first)
        and one of the records it names (an entry whose ban is gone is pruned too)."""
        if count <= 0:
            return []
        store = self.store
        if not isinstance(store, RedisStore):
            bans = await self._unindexed()
            start = 0 if after is None else bisect.bisect_right(bans, _order(after), key=_order)
            return bans[start : start + count]
        while True:  # (again only when every entry read named a ban that is gone)
            found = await _read_index(store, after, count)
            values = await store.get_many([ban_key(member) for member, _ in found])
            gone = [member for (member, _), raw in zip(found, values, strict=True) if not raw]
            if gone:
                await store.execute("ZREM", store.prefix + BAN_INDEX, *gone)
            if len(gone) < len(found) or len(found) < count:
                return [
                    Ban.from_json(member, raw)
                    for (member, _), raw in zip(found, values, strict=True)
                    if raw
                ]

    async def active(self, limit: int = LIST_LIMIT) -> list[Ban]:
        """Active bans, soonest to end first, at most `limit` of them (read `PAGE` at a time)."""
        bans: list[Ban] = []
        while len(bans) < limit:
            page = await self.page(bans[-1] if bans else None, min(PAGE, limit - len(bans)))
            bans.extend(page)
            if not page:
                break
        return bans

    async def count(self) -> int:
        """How many bans are active (on Redis, the index's entries not yet expired)."""
        store = self.store
        if isinstance(store, RedisStore):
            now = time.time()
            return int(await store.execute("ZCOUNT", store.prefix + BAN_INDEX, f"({now!r}", "+inf"))
        return len(await self._unindexed())

    async def scan(self, limit: int = LIST_LIMIT) -> list[Ban]:
        """The one-off for bans written before the index (an earlier version): scan the
        keyspace for them (every primary on Cluster: seconds on a large site), add each to the
        index, and return them all, soonest to end first. `scrapeshield bans --scan`."""
        bans = await self._scanned(limit)
        store = self.store
        if isinstance(store, RedisStore):
            for start in range(0, len(bans), PAGE):
                await _index(store, bans[start : start + PAGE])
        return bans

    async def _unindexed(self) -> list[Ban]:
        """Every ban of a store without an index: the memory store's bans' table (bounded), or
        a scan (any other `Store`)."""
        store = self.store
        if isinstance(store, MemoryStore):
            records = store.ban_records()
            bans = [Ban.from_json(subject_of(key, BAN_PREFIX), raw) for key, raw in records]
            return sorted(bans, key=_order)
        return await self._scanned(LIST_LIMIT)

    async def _scanned(self, limit: int) -> list[Ban]:
        keys = await self.store.keys(BAN_PREFIX, limit=limit)
        values = await self.store.get_many(keys)
        bans = [
            Ban.from_json(subject_of(key, BAN_PREFIX), raw)
            for key, raw in zip(keys, values, strict=True)
            if raw
        ]
        return sorted(bans, key=_order)


async def _read_index(store: RedisStore, after: Ban | None, count: int) -> list[tuple[str, float]]:
    """The next `count` entries of the index after `after`, `(client key, ban end)`; entries
    of ended bans are pruned first, in the same batch."""
    index, now = store.prefix + BAN_INDEX, time.time()
    low = f"({now!r}" if after is None or after.until < now else repr(after.until)
    _, rows = await asyncio.gather(
        store.execute("ZREMRANGEBYSCORE", index, "-inf", f"({now!r}"),
        store.execute("ZRANGEBYSCORE", index, low, "+inf", "WITHSCORES", "LIMIT", 0, count + _TIES),
    )
    found = _scored(rows)
    if after is not None:  # (members ending with `after` sort by name: skip those before)
        found = [f for f in found if (f[1], f[0]) > (after.until, after.client_key)]
    return found[:count]


async def _index(store: RedisStore, bans: list[Ban]) -> None:
    """Add `bans` to the index, which lives as long as its longest ban."""
    if not bans:
        return
    keep = max(1000, math.ceil((max(b.until for b in bans) - time.time()) * 1000) + 1000)
    pairs = [x for b in bans for x in (repr(b.until), b.client_key)]
    await store.run_script(scripts.INDEX_BANS, [BAN_INDEX], [keep, *pairs])


def _scored(rows: list[Any]) -> list[tuple[str, float]]:
    """ZRANGEBYSCORE ... WITHSCORES as `(member, score)` pairs (a flat list, or pairs)."""
    if rows and not isinstance(rows[0], list | tuple):
        rows = list(zip(rows[::2], rows[1::2], strict=True))
    return [(str(member), float(score)) for member, score in rows]


def _order(ban: Ban) -> tuple[float, str]:
    return ban.until, ban.client_key


async def _ban_from(client_key: str, reply: Awaitable[str | None]) -> Ban | None:
    return ban_of(client_key, await reply)


def ban_of(client_key: str, raw: str | None) -> Ban | None:
    """The ban a stored value records, or None (no value)."""
    return Ban.from_json(client_key, raw) if raw else None
