"""The embedded store for one process: bounded by TTL and by a maximum number of keys.

A flood of distinct clients evicts the least recently used keys instead of growing memory:
with `max_keys` entries the store holds at most that many counters, however many clients come.
Bans live in a table of their own (a tenth of `max_keys`), so such a flood of counters cannot
evict a ban and let the banned client back in; so do trap flags (a table of the same size).
Each table is also its records' index: listing bans or flags reads it, never the counters.
Records (`record`: a detector's state of one client under one key, for in-process callers)
have a table of their own too, bounded by half of `max_keys` (each holds what would take
several keys).
Distinct-count sets (`add_distinct`, the memory stand-in for Redis' HyperLogLog) hold member
hashes, at most `DISTINCT_CAP` per key and `8 * max_keys` in all (least recently used sets go
first), so counting the originals of a flood of clients stays bounded too.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, TypeVar

from scrapeshield.store.base import DISTINCT_CAP, StoredEvent
from scrapeshield.store.keys import BAN_PREFIX, TRAP_PREFIX, ban_key

T = TypeVar("T")


class MemoryStore:
    """`Store` in a dict; safe within one event loop (no awaits inside an operation)."""

    name = "memory"

    def __init__(self, *, max_keys: int = 100_000, max_events: int = 10_000) -> None:
        self._data: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._bans: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._traps: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._rows: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        # A distinct count's members as a dict's keys (values None) and its expiry apart: a
        # dict of numbers is no container the garbage collector tracks, where a set, or a tuple
        # holding one, is (a few per client: identity's budgets; docs/store.md).
        self._sets: OrderedDict[str, dict[int, None]] = OrderedDict()
        self._set_expiry: dict[str, float | None] = {}
        self._members = 0  # in every set together, bounded by `_max_members`
        self._max_members = 8 * max_keys
        self._max_keys = max_keys
        self._max_records = max(1, max_keys // 2)
        self._max_bans = max(100, max_keys // 10)
        self._events: deque[StoredEvent] = deque(maxlen=max_events)
        self._last_event_ms = 0
        self._seq = 0
        self.evictions = 0

    def __len__(self) -> int:
        tables = len(self._data) + len(self._bans) + len(self._traps)
        return tables + len(self._rows) + len(self._sets)

    def _table(self, key: str) -> OrderedDict[str, tuple[str, float | None]]:
        if key.startswith(BAN_PREFIX):
            return self._bans
        return self._traps if key.startswith(TRAP_PREFIX) else self._data

    def _live(self, key: str, now: float) -> tuple[str, float | None] | None:
        table = self._table(key)
        entry = table.get(key)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= now:
            del table[key]
            return None
        table.move_to_end(key)
        return entry

    def records(self, prefix: str) -> list[tuple[str, str, float | None]]:
        """Every live ban (`BAN_PREFIX`) or trap flag (`TRAP_PREFIX`), `(key, value, expiry)`:
        their tables are their index here (each bounded by a tenth of `max_keys`), so listing
        them never walks the counters."""
        table = self._bans if prefix == BAN_PREFIX else self._traps if prefix == TRAP_PREFIX else {}
        now = time.time()
        return [
            (key, value, expires)
            for key, (value, expires) in table.items()
            if expires is None or expires > now
        ]

    # -- synchronous API: the same operations without a coroutine, for in-process callers on
    # the hot path (the limiter's ban check, the behaviour counters); this store never waits.

    def peek(self, key: str) -> str | None:
        """`get`, synchronously."""
        entry = self._live(key, time.time())
        return entry[0] if entry else None

    def peek_ban(self, client_key: str) -> str | None:
        """`peek` of a client's ban record: every request asks, and most sites have no ban (an
        empty table answers 5.8k instructions sooner than the key's lookup, 2026-12-07)."""
        if not self._bans:
            return None
        entry = self._live(ban_key(client_key), time.time())
        return entry[0] if entry else None

    def put(self, key: str, value: str, ttl: float | None = None) -> None:
        """`set`, synchronously."""
        table = self._table(key)
        bound = self._max_keys if table is self._data else self._max_bans
        table[key] = (value, time.time() + ttl if ttl is not None else None)
        table.move_to_end(key)
        while len(table) > bound:
            table.popitem(last=False)
            self.evictions += 1

    def bump(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """`incr`, synchronously."""
        now = time.time()
        table = self._table(key)  # (found once: three issuance counters per tokenless page)
        entry = table.get(key)
        if entry is None or (entry[1] is not None and entry[1] <= now):
            self.put(key, str(amount), ttl)  # new, or expired: anew (and the most recent)
            return amount
        # As in Redis: a key without expiry gets the TTL; an existing one keeps its own.
        value, expires = int(entry[0]) + amount, entry[1]
        if expires is None and ttl is not None:
            expires = now + ttl
        table[key] = (str(value), expires)
        table.move_to_end(key)
        return value

    def bump_kept(self, key: str, amount: int) -> None:
        """`bump` of a key as it stands, its expiry kept, expired or not (an expired entry no
        read sees, made at once, would hold these too); a missing one is left missing. A
        lease's deferred increments: the key was there at the grant."""
        table = self._table(key)
        entry = table.get(key)
        if entry is not None:
            table[key] = (str(int(entry[0]) + amount), entry[1])
            table.move_to_end(key)

    def record(
        self, key: str, ttl: float, new: Callable[[], T], *, create: bool = True
    ) -> T | None:
        """A caller's own record under one key (a detector's whole state of one client),
        mutable or a plain value replaced with `replace_record`: one lookup per request where
        separate keys cost several. Made by `new` when
        missing or expired (unless `create` is false: then None), and kept `ttl` seconds from
        this call. Lives in the records' table, bounded by half of `max_keys` (least recently
        used go first): a record holds what would take several keys. In-process only (no
        Store protocol method reads it); `keys` lists it and `delete` removes it."""
        now = time.time()
        rows = self._rows
        entry = rows.get(key)
        if entry is not None and entry[1] > now:
            rows[key] = (entry[0], now + ttl)
            rows.move_to_end(key)
            return entry[0]  # type: ignore[no-any-return]
        if not create:
            return None
        value = new()
        rows[key] = (value, now + ttl)  # (a new key goes last: the most recent)
        while len(rows) > self._max_records:
            rows.popitem(last=False)
            self.evictions += 1
        return value

    def replace_record(self, key: str, value: object) -> None:
        """Put `value` in place of the record at `key` (a record that is a plain value, never
        changed in place), which keeps its expiry and its place among the most recently used;
        nothing when there is none."""
        entry = self._rows.get(key)
        if entry is not None:
            self._rows[key] = (value, entry[1])

    def distinct_union(self, keys: list[str]) -> int:
        """How many distinct members the sets at `keys` hold together (expired ones: none)."""
        found = [self._sets[key] for key in keys if self.distinct(key, None)]  # (drops
        if len(found) == 1:  # an expired set) most unions: one side is empty, nothing to build
            return len(found[0])
        return len(set().union(*found))

    def distinct(self, key: str, member: str | None, ttl: float | None = None) -> int:
        """`add_distinct` synchronously; with `member` None, `count_distinct`."""
        now = time.time()
        sets, expiry = self._sets, self._set_expiry
        members = sets.get(key)
        if members is not None and (expires := expiry[key]) is not None and expires <= now:
            self._drop_set(key)
            members = None
        if member is None:
            return len(members) if members is not None else 0
        if members is None:
            members = sets[key] = {}
            expiry[key] = now + ttl if ttl is not None else None
        else:
            sets.move_to_end(key)
        if len(members) < DISTINCT_CAP:
            before = len(members)
            members[hash(member)] = None
            if len(members) != before:
                self._members += 1
                while self._members > self._max_members and len(sets) > 1:
                    self._drop_set(next(iter(sets)))  # the least recently used
                    self.evictions += 1
        return len(members)

    def _drop_set(self, key: str) -> None:
        self._members -= len(self._sets.pop(key))
        del self._set_expiry[key]

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
        if key in self._sets:
            expires = self._set_expiry[key]
            self._drop_set(key)
            live = live or expires is None or expires > now
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
            entry = (key, self._set_expiry[key])
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
                *self._traps.items(),
                *self._rows.items(),
                *[(k, (k, expires)) for k, expires in self._set_expiry.items()],
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
