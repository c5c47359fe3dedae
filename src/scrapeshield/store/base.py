"""The Store seam: one async protocol every backend implements and one contract suite checks.

Keys are given without the store's prefix; the backend namespaces them. Values are strings.
Every key written with a TTL expires; `incr` sets its TTL only when it creates the key, which
makes fixed windows and decaying counters cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

DISTINCT_CAP = 4096
"""The most distinct members a memory store counts per key: above every budget a caller reads
(a count is exact up to here, which is all a budget needs), so a key's memory stays bounded."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One entry of the bounded event stream: an id, its time (epoch seconds), and the record."""

    id: str
    time: float
    data: dict[str, Any]


@runtime_checkable
class Store(Protocol):
    """Async key/value + counters + bounded event stream, shared by every worker using it."""

    name: str

    async def get(self, key: str) -> str | None: ...

    async def get_many(self, keys: list[str]) -> list[str | None]: ...

    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    async def delete(self, key: str) -> bool: ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int: ...

    async def add_distinct(self, key: str, member: str, ttl: float | None = None) -> int:
        """Add `member` to the distinct-count set at `key` and return how many distinct
        members it holds (TTL set only when the key is created, as with `incr`). Redis: a
        HyperLogLog (about 1% error); memory: exact up to `DISTINCT_CAP`, then that cap."""
        ...

    async def count_distinct(self, key: str, *others: str) -> int:
        """How many distinct members `add_distinct` put at `key` (0 when missing); with
        `others`, the size of the union of all those keys' members (a member in two counts
        once)."""
        ...

    async def ttl(self, key: str) -> float | None:
        """Seconds until the key expires; None if it is missing or never expires."""
        ...

    async def keys(self, prefix: str, limit: int = 10_000) -> list[str]:
        """Keys (without the store prefix) starting with `prefix`, at most `limit` of them."""
        ...

    async def append_event(self, data: dict[str, Any]) -> None: ...

    async def read_events(
        self, since: float | None = None, limit: int = 1000, before: str | None = None
    ) -> list[StoredEvent]:
        """Events at or after `since` (epoch seconds), oldest first, the newest `limit` of them;
        with `before` (an event id), only events older than it: a reader pages back through the
        whole stream `limit` at a time (scrapeshield.operators)."""
        ...

    async def ping(self) -> None: ...

    async def aclose(self) -> None: ...
