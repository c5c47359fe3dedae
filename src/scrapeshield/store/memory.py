"""The embedded store for one process: bounded by TTL and by a maximum number of keys.

A flood of distinct clients evicts the least recently used keys instead of growing memory:
with `max_keys` entries the store holds at most that many counters, however many clients come.
Bans live in a table of their own (a tenth of `max_keys`), so such a flood of counters cannot
evict a ban and let the banned client back in.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from typing import Any

from scrapeshield.store.base import StoredEvent

_BAN_PREFIX = "ban:"  # scrapeshield.bans.BAN_PREFIX (not imported: bans imports the stores)


class MemoryStore:
    """`Store` in a dict; safe within one event loop (no awaits inside an operation)."""

    name = "memory"

    def __init__(self, *, max_keys: int = 100_000, max_events: int = 10_000) -> None:
        self._data: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._bans: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._max_keys = max_keys
        self._max_bans = max(100, max_keys // 10)
        self._events: deque[StoredEvent] = deque(maxlen=max_events)
        self._last_event_ms = 0
        self._seq = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data) + len(self._bans)

    def _table(self, key: str) -> tuple[OrderedDict[str, tuple[str, float | None]], int]:
        if key.startswith(_BAN_PREFIX):
            return self._bans, self._max_bans
        return self._data, self._max_keys

    def _live(self, key: str, now: float) -> tuple[str, float | None] | None:
        table, _ = self._table(key)
        entry = table.get(key)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= now:
            del table[key]
            return None
        table.move_to_end(key)
        return entry

    def _put(self, key: str, value: str, expires: float | None) -> None:
        table, bound = self._table(key)
        table[key] = (value, expires)
        table.move_to_end(key)
        while len(table) > bound:
            table.popitem(last=False)
            self.evictions += 1

    async def get(self, key: str) -> str | None:
        entry = self._live(key, time.time())
        return entry[0] if entry else None

    async def get_many(self, keys: list[str]) -> list[str | None]:
        now = time.time()
        out: list[str | None] = []
        for key in keys:
            entry = self._live(key, now)
            out.append(entry[0] if entry else None)
        return out

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._put(key, value, time.time() + ttl if ttl is not None else None)

    async def delete(self, key: str) -> bool:
        live = self._live(key, time.time()) is not None  # an expired key was not there (as Redis)
        self._table(key)[0].pop(key, None)
        return live

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        now = time.time()
        entry = self._live(key, now)
        if entry is None:
            value, expires = amount, (now + ttl if ttl is not None else None)
        else:  # as in Redis: a key without expiry gets the TTL; an existing one keeps its own
            value, expires = int(entry[0]) + amount, entry[1]
            if expires is None and ttl is not None:
                expires = now + ttl
        self._put(key, str(value), expires)
        return value

    async def ttl(self, key: str) -> float | None:
        now = time.time()
        entry = self._live(key, now)
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - now)

    async def keys(self, prefix: str, limit: int = 10_000) -> list[str]:
        now = time.time()
        found = [
            k
            for k, (_, exp) in [*self._data.items(), *self._bans.items()]
            if k.startswith(prefix) and (exp is None or exp > now)
        ]
        return found[:limit]

    async def append_event(self, data: dict[str, Any]) -> None:
        now_ms = int(time.time() * 1000)
        if now_ms == self._last_event_ms:
            self._seq += 1
        else:
            self._last_event_ms, self._seq = now_ms, 0
        record = json.loads(json.dumps(data))
        self._events.append(StoredEvent(f"{now_ms}-{self._seq}", now_ms / 1000, record))

    async def read_events(self, since: float | None = None, limit: int = 1000) -> list[StoredEvent]:
        events = [e for e in self._events if since is None or e.time >= since]
        return events[-limit:] if limit > 0 else []

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
