"""The embedded store for one process: bounded by TTL and by a maximum number of keys.

A flood of distinct clients evicts the least recently used keys instead of growing memory:
with `max_keys` entries the store holds at most that many counters, however many clients come.
Bans live in a table of their own (a tenth of `max_keys`), so such a flood of counters cannot
evict a ban and let the banned client back in. Counter rows (`counters`, several counters under
one key, for in-process callers) have a table of their own too, bounded by `max_keys` like keys.
Distinct-count sets (`add_distinct`, the memory stand-in for Redis' HyperLogLog) hold member
hashes, at most `DISTINCT_CAP` per key and `8 * max_keys` in all (least recently used sets go
first), so counting the originals of a flood of clients stays bounded too.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import Any

from scrapeshield.store.base import DISTINCT_CAP, StoredEvent
from scrapeshield.store.keys import BAN_PREFIX, ban_key


class MemoryStore:
    """`Store` in a dict; safe within one event loop (no awaits inside an operation)."""

    name = "memory"

    def __init__(self, *, max_keys: int = 100_000, max_events: int = 10_000) -> None:
        self._data: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._bans: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._rows: OrderedDict[str, tuple[list[int], float]] = OrderedDict()
        self._sets: OrderedDict[str, tuple[set[int], float | None]] = OrderedDict()
        self._members = 0  # in every set together, bounded by `_max_members`
        self._max_members = 8 * max_keys
        self._max_keys = max_keys
        self._max_bans = max(100, max_keys // 10)
        self._events: deque[StoredEvent] = deque(maxlen=max_events)
        self._last_event_ms = 0
        self._seq = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data) + len(self._bans) + len(self._rows) + len(self._sets)

    def _table(self, key: str) -> OrderedDict[str, tuple[str, float | None]]:
        return self._bans if key.startswith(BAN_PREFIX) else self._data

    def _live(self, key: str, now: float) -> tuple[str, float | None] | None:
        table = self._bans if key.startswith(BAN_PREFIX) else self._data
        entry = table.get(key)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= now:
            del table[key]
            return None
        table.move_to_end(key)
        return entry

    # -- synchronous API: the same operations without a coroutine, for in-process callers on
    # the hot path (the limiter's ban check, the behaviour counters); this store never waits.

    def peek(self, key: str) -> str | None:
        """`get`, synchronously."""
        entry = self._live(key, time.time())
        return entry[0] if entry else None

    def peek_ban(self, client_key: str) -> str | None:
        """`peek` of a client's ban record: every request asks, and most sites have no ban."""
        if not self._bans:
            return None
        entry = self._live(ban_key(client_key), time.time())
        return entry[0] if entry else None

    def put(self, key: str, value: str, ttl: float | None = None) -> None:
        """`set`, synchronously."""
        if key.startswith(BAN_PREFIX):
            table, bound = self._bans, self._max_bans
        else:
            table, bound = self._data, self._max_keys
        table[key] = (value, time.time() + ttl if ttl is not None else None)
        table.move_to_end(key)
        while len(table) > bound:
            table.popitem(last=False)
            self.evictions += 1

    def bump(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """`incr`, synchronously."""
        now = time.time()
        entry = self._live(key, now)
        if entry is None:
            self.put(key, str(amount), ttl)
            return amount
        # As in Redis: a key without expiry gets the TTL; an existing one keeps its own.
        value, expires = int(entry[0]) + amount, entry[1]
        if expires is None and ttl is not None:
            expires = now + ttl
        self._table(key)[key] = (str(value), expires)  # `_live` made it the most recent
        return value

    def counters(self, key: str, size: int, add: Sequence[int], ttl: float) -> list[int]:
        """A row of `size` counters under one key: one lookup where separate keys cost several.

        Adds 1 to the counter at each index in `add` (creating the row, which expires `ttl`
        seconds later as an `incr`ed key would) and returns the row, which callers only read.
        A missing row reads as zeros and is not created when nothing is added. Rows are
        in-process only (no Store protocol method reads them); `keys` lists them and `delete`
        removes them.
        """
        now = time.time()
        entry = self._live_row(key, now)
        if entry is None:
            if not add:
                return [0] * size
            entry = self._new_row(key, [0] * size, now + ttl)
        else:
            self._rows.move_to_end(key)
        row = entry[0]
        for index in add:
            row[index] += 1
        return row

    def recent(self, key: str, value: int | None, size: int, ttl: float) -> list[int]:
        """The latest `size` values under one key, oldest first, with `value` appended (Redis:
        RPUSH + LTRIM + PEXPIRE, then LRANGE). Each push renews the TTL; `None` only reads.
        Lives in the rows' table (bounded by `max_keys`); callers only read the list, at once."""
        now = time.time()
        entry = self._live_row(key, now)
        if value is None:
            return entry[0] if entry is not None else []
        if entry is None:
            return self._new_row(key, [value], now + ttl)[0]
        values = entry[0]
        values.append(value)
        if len(values) > size:
            del values[: len(values) - size]
        self._rows[key] = (values, now + ttl)
        self._rows.move_to_end(key)
        return values

    def _live_row(self, key: str, now: float) -> tuple[list[int], float] | None:
        """The row under `key`, or None when there is none or it expired (then it is dropped)."""
        entry = self._rows.get(key)
        if entry is not None and entry[1] <= now:
            del self._rows[key]
            return None
        return entry

    def _new_row(self, key: str, values: list[int], expires: float) -> tuple[list[int], float]:
        """Store a new row, evicting the least recently used past `max_keys`."""
        entry = self._rows[key] = (values, expires)
        while len(self._rows) > self._max_keys:
            self._rows.popitem(last=False)
            self.evictions += 1
        return entry

    def distinct_union(self, keys: list[str]) -> int:
        """How many distinct members the sets at `keys` hold together (expired ones: none)."""
        union: set[int] = set()
        for key in keys:
            if self.distinct(key, None):  # drops an expired set
                union |= self._sets[key][0]
        return len(union)

    def distinct(self, key: str, member: str | None, ttl: float | None = None) -> int:
        """`add_distinct` synchronously; with `member` None, `count_distinct`."""
        now = time.time()
        sets = self._sets
        entry = sets.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= now:
            del sets[key]
            self._members -= len(entry[0])
            entry = None
        if member is None:
            return len(entry[0]) if entry is not None else 0
        if entry is None:
            entry = sets[key] = (set(), now + ttl if ttl is not None else None)
        else:
            sets.move_to_end(key)
        members = entry[0]
        if len(members) < DISTINCT_CAP:
            before = len(members)
            members.add(hash(member))
            if len(members) != before:
                self._members += 1
                while self._members > self._max_members and len(sets) > 1:
                    _, (old, _) = sets.popitem(last=False)
                    self._members -= len(old)
                    self.evictions += 1
        return len(members)

    # -- the Store protocol ---------------------------------------------------------------------

    async def get(self, key: str) -> str | None:
        return self.peek(key)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        now = time.time()
        out: list[str | None] = []
        for key in keys:
            entry = self._live(key, now)
            out.append(entry[0] if entry else None)
        return out

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self.put(key, value, ttl)

    async def delete(self, key: str) -> bool:
        now = time.time()
        live = self._live(key, now) is not None  # an expired key was not there (as Redis)
        self._table(key).pop(key, None)
        row = self._rows.pop(key, None)
        members = self._sets.pop(key, None)
        if members is not None:
            self._members -= len(members[0])
            live = live or members[1] is None or members[1] > now
        return live or (row is not None and row[1] > now)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        return self.bump(key, amount, ttl)

    async def add_distinct(self, key: str, member: str, ttl: float | None = None) -> int:
        return self.distinct(key, member, ttl)

    async def count_distinct(self, key: str, *others: str) -> int:
        return self.distinct_union([key, *others]) if others else self.distinct(key, None)

    async def ttl(self, key: str) -> float | None:
        now = time.time()
        entry = self._live(key, now)
        if entry is None and key in self._sets and self.distinct(key, None):
            entry = (key, self._sets[key][1])
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - now)

    async def keys(self, prefix: str, limit: int = 10_000) -> list[str]:
        now = time.time()
        found = [
            k
            for k, (_, exp) in [
                *self._data.items(),
                *self._bans.items(),
                *self._rows.items(),
                *self._sets.items(),
            ]
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

    async def read_events(
        self, since: float | None = None, limit: int = 1000, before: str | None = None
    ) -> list[StoredEvent]:
        events = [e for e in self._events if since is None or e.time >= since]
        if before is not None:
            bound = _event_order(before)
            events = [e for e in events if _event_order(e.id) < bound]
        return events[-limit:] if limit > 0 else []

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def _event_order(event_id: str) -> tuple[int, int]:
    """`<ms>-<seq>` as a sortable pair (as Redis orders stream ids); garbage sorts first."""
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return -1, -1
