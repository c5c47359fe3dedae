"""An index of expiring subjects: records `<prefix>{<subject>}` with a time to live (bans, trap
flags) that operators list, so a listing reads pages of an index instead of the keyspace.

On Redis a sorted set of subjects scored by when their record ends, written in the same batch
as the record (`index_soon`: the caller's round trip) and when one is lifted (`remove_soon`).
Entries whose time has passed are pruned by every read and every write (so the index holds
only live entries whether or not anyone lists them); an entry whose record is gone (deleted
behind the index's back: an earlier version's unban, a manual DEL) when a page meets it. One
key, so one Cluster slot: only writes of such records touch it (a ban, a trap hit), never an
ordinary request. In memory the store keeps these records in bounded tables of their own
(`MemoryStore.records`), which are the index. Any other store: a scan. `scan` is the one-off
for records written before the index (an earlier version).
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapeshield.store import scripts
from scrapeshield.store.base import Store
from scrapeshield.store.keys import subject_key, subject_of
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore

if TYPE_CHECKING:
    from scrapeshield.store.redis import RedisStore

PAGE = 500  # entries read at a time
LIST_LIMIT = 10_000  # the most entries a listing returns (`count` says how many there are)
_TIES = 16  # entries ending at the same instant as a page's last that a next page can tell apart

Cursor = tuple[float, str]
"""Where a page ends: `(until, subject)` of its last entry (pages come in that order)."""


@dataclass(frozen=True, slots=True)
class Entry:
    subject: str
    until: float
    value: str

    @property
    def cursor(self) -> Cursor:
        return self.until, self.subject


def index_soon(
    store: RedisStore, index: str, entries: Sequence[tuple[str, float]]
) -> Awaitable[Any]:
    """Queue now the index write of `entries`, `(subject, until)`, in this tick's batch (so it
    joins the record's write); await the reply. The index lives as long as its longest entry,
    and the write prunes ended entries (bounded by the live ones, read or not)."""
    now = time.time()
    keep = max(1000, math.ceil((max(u for _, u in entries) - now) * 1000) + 1000)
    pairs = [x for subject, until in entries for x in (repr(until), subject)]
    return store.submit_script(scripts.INDEX_EXPIRING, [index], [keep, repr(now), *pairs])


class ExpiringIndex:
    """The records under `prefix` and their index `index` (a key name, unprefixed) in `store`;
    `until_of(value, expiry)` is when a record ends, as its writer indexed it (a ban's record
    says; a trap flag's expiry does), for the memory store's tables and for `scan`."""

    def __init__(
        self,
        store: Store,
        prefix: str,
        index: str,
        until_of: Callable[[str, float | None], float],
    ) -> None:
        self.store, self.prefix, self.index, self.until_of = store, prefix, index, until_of

    def key(self, subject: str) -> str:
        return subject_key(self.prefix, subject)

    def add_soon(self, entries: Sequence[tuple[str, float]]) -> Awaitable[Any] | None:
        """`index_soon` on Redis (None elsewhere: nothing to write)."""
        store = self.store
        if not entries or not on_redis(store):
            return None
        return index_soon(store, self.index, entries)

    def remove_soon(self, subjects: Sequence[str]) -> Awaitable[Any] | None:
        """Queue now the removal of `subjects` from the index (Redis; None elsewhere)."""
        store = self.store
        if not subjects or not on_redis(store):
            return None
        return store.submit("ZREM", store.prefix + self.index, *subjects)

    async def lift(self, subject: str) -> bool:
        """Delete a subject's record and its index entry, in one batch: whether it was there."""
        lifted = self.store.delete(self.key(subject))
        unindexed = self.remove_soon([subject])
        if unindexed is None:
            return await lifted
        return bool((await asyncio.gather(lifted, unindexed))[0])

    async def page(self, after: Cursor | None = None, count: int = PAGE) -> list[Entry]:
        """Up to `count` live entries after `after`, soonest to end first. On Redis one read of
        the index (ended entries pruned in the same batch) and one of the records it names
        (an entry whose record is gone is pruned too, and the page reads on)."""
        if count <= 0:
            return []
        store = self.store
        if not on_redis(store):
            entries = await self._unindexed()
            start = 0 if after is None else bisect.bisect_right(entries, after, key=_order)
            return entries[start : start + count]
        while True:  # (again only when every entry read named a record that is gone)
            found = await self._read(store, after, count)
            values = await store.get_many([self.key(subject) for subject, _ in found])
            gone = [subject for (subject, _), raw in zip(found, values, strict=True) if not raw]
            if gone:
                await store.execute("ZREM", store.prefix + self.index, *gone)
            if len(gone) < len(found) or len(found) < count:
                return [
                    Entry(subject, until, raw)
                    for (subject, until), raw in zip(found, values, strict=True)
                    if raw
                ]

    async def entries(self, limit: int = LIST_LIMIT) -> list[Entry]:
        """Live entries, soonest to end first, at most `limit` (read `PAGE` at a time)."""
        out: list[Entry] = []
        while len(out) < limit:
            page = await self.page(out[-1].cursor if out else None, min(PAGE, limit - len(out)))
            out.extend(page)
            if not page:
                break
        return out

    async def count(self) -> int:
        """How many entries are live (on Redis, the index's entries not yet ended)."""
        store = self.store
        if on_redis(store):
            key, now = store.prefix + self.index, time.time()
            return int(await store.execute("ZCOUNT", key, f"({now!r}", "+inf"))
        return len(await self._unindexed())

    async def scan(self, limit: int = LIST_LIMIT) -> list[Entry]:
        """The one-off for records written before the index: scan the keyspace for them (every
        primary on Cluster: seconds on a large site), index each, and return them all, soonest
        to end first."""
        found = await self._scanned(limit)
        store = self.store
        if on_redis(store):
            for start in range(0, len(found), PAGE):
                await index_soon(
                    store, self.index, [(e.subject, e.until) for e in found[start : start + PAGE]]
                )
        return found

    async def _unindexed(self) -> list[Entry]:
        """Every record of a store without an index: the memory store's table (bounded), or
        a scan (any other `Store`)."""
        store = self.store
        if isinstance(store, MemoryStore):
            entries = [
                Entry(subject_of(key, self.prefix), self.until_of(value, expires), value)
                for key, value, expires in store.records(self.prefix)
            ]
            return sorted(entries, key=_order)
        return await self._scanned(LIST_LIMIT)

    async def _scanned(self, limit: int) -> list[Entry]:
        store = self.store
        keys = await store.keys(self.prefix, limit=limit)
        values, ttls = await asyncio.gather(
            store.get_many(keys), asyncio.gather(*(store.ttl(key) for key in keys))
        )
        now = time.time()
        entries = [
            Entry(subject_of(key, self.prefix), self.until_of(raw, _expiry(now, ttl)), raw)
            for key, raw, ttl in zip(keys, values, ttls, strict=True)
            if raw
        ]
        return sorted(entries, key=_order)

    async def _read(
        self, store: RedisStore, after: Cursor | None, count: int
    ) -> list[tuple[str, float]]:
        """The next `count` index entries after `after`, `(subject, until)`; ended entries are
        pruned first, in the same batch."""
        index, now = store.prefix + self.index, time.time()
        low = f"({now!r}" if after is None or after[0] < now else repr(after[0])
        _, rows = await asyncio.gather(
            store.execute("ZREMRANGEBYSCORE", index, "-inf", f"({now!r}"),
            store.execute(
                "ZRANGEBYSCORE", index, low, "+inf", "WITHSCORES", "LIMIT", 0, count + _TIES
            ),
        )
        found = _scored(rows)
        if after is not None:  # (subjects ending with `after` sort by name: skip those before)
            found = [f for f in found if (f[1], f[0]) > after]
        return found[:count]


def _expiry(now: float, ttl: float | None) -> float | None:
    return now + ttl if ttl is not None else None


def _scored(rows: list[Any]) -> list[tuple[str, float]]:
    """ZRANGEBYSCORE ... WITHSCORES as `(member, score)` pairs (a flat list, or pairs)."""
    if rows and not isinstance(rows[0], list | tuple):
        rows = list(zip(rows[::2], rows[1::2], strict=True))
    return [(str(member), float(score)) for member, score in rows]


def _order(entry: Entry) -> Cursor:
    return entry.until, entry.subject
