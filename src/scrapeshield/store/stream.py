"""The event stream on Redis: its entries, where they are written, and how reads merge them.

An entry is one JSON record in the field `e` of a stream entry, whose id
(`<milliseconds>-<sequence>`) gives its time.

Every refused request appends one, so on a Cluster that spreads keys (`RedisStore.split`) the
stream is `shards` streams, `<prefix>events:{<tag>}`, each tag in its own run of slots
(`keys.spread_tags`): a flood's appends land on every primary instead of all on one. A client's
events go to one shard (chosen from its client key), so they stay in order. Each shard keeps
`max_events // shards` entries, trimmed exactly, so the shards together hold at most
`max_events`. On one server and on a Cluster pinned to one slot by the prefix's own tag,
shards would only add reads to every page (one core or one slot takes every append anyway):
there the stream stays the one key `<prefix>events`, trimmed approximately as before.

Reads merge the sources newest first, a few entries of each at a time (`Merge`), so a page
costs about one page of entries, never whole shards. The single stream that stores of earlier
versions wrote (`<prefix>events`) is one of the sources on a sharded Cluster: its events stay
readable until it expires (`LEGACY_TTL` after the first sharded append). An id a merged read
returns is `<ms>-<seq * sources + source>`: unique and in the same order as the entries' own
ids (two shards may hand out the same id), and it pages back (`before=`) exactly.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from scrapeshield.store.base import StoredEvent
from scrapeshield.store.keys import spread_tags

FIELD = "e"
SHARDS = 16
"""The default number of shards on a spreading Cluster (setting `event_stream_shards`)."""
LEGACY_TTL = 7 * 86400
"""Seconds the pre-shard stream is kept once a sharded store appends (the dashboard's widest
window): nothing writes or trims it any more."""
_FIRST_CHUNK = 16  # the least a source is asked for, per read

Submit = Callable[..., Awaitable[Any]]


def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


def entry(event_id: str, fields: Any, time_ms: int) -> StoredEvent:
    """One entry as read; a record that is not JSON is kept as `unreadable`."""
    raw = fields.get(FIELD) if isinstance(fields, dict) else _pairs(fields).get(FIELD)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {"unreadable": raw}
    return StoredEvent(event_id, time_ms / 1000, data)


def _pairs(fields: list[Any]) -> dict[str, Any]:
    return {str(fields[i]): fields[i + 1] for i in range(0, len(fields) - 1, 2)}


def parse_id(event_id: str) -> tuple[int, int] | None:
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return None


class EventStreams:
    """Where a store's events are appended, and the sources a read merges."""

    def __init__(self, prefix: str, shards: int, max_events: int) -> None:
        if shards < 1:
            raise ValueError(f"event_stream_shards must be at least 1, not {shards}")
        self.legacy = prefix + "events"
        self.shards = shards
        if shards == 1:
            self.keys = [self.legacy]
            self.sources = self.keys
            self._trim = ("MAXLEN", "~", max_events)
        else:
            self.keys = [f"{prefix}events:{{{tag}}}" for tag in spread_tags(shards)]
            self.sources = [*self.keys, self.legacy]  # the legacy stream last
            self._trim = ("MAXLEN", "=", max(1, max_events // shards))

    def key_for(self, data: dict[str, Any]) -> str:
        """The shard of the event's client (crc32 of its client key: the same in every
        process)."""
        if self.shards == 1:
            return self.legacy
        client = str(data.get("client_key", ""))
        return self.keys[zlib.crc32(client.encode("utf-8", "replace")) % self.shards]

    def append(self, data: dict[str, Any]) -> tuple[Any, ...]:
        """The XADD command that appends `data`."""
        return ("XADD", self.key_for(data), *self._trim, "*", FIELD, encode(data))

    async def read(
        self, submit: Submit, since: float | None, limit: int, before: str | None
    ) -> list[StoredEvent]:
        """`Store.read_events` over every source (see `Merge`)."""
        if limit <= 0:
            return []
        bound = None if before is None else parse_id(before)
        if before is not None and bound is None:
            return []  # not an id this store gave: nothing is known to be older
        return await Merge(self.sources, submit, since, limit, bound).run()


class Merge:
    """The newest `limit` entries of several streams, oldest first, in id order.

    Each source is asked for a few entries (twice its share of the page, at least
    `_FIRST_CHUNK`); a source whose entries are used up before the page is full is asked for
    more (twice as many, up to what the page still lacks), all such sources in one batch. A
    page thus reads about `2 * limit` entries when clients spread over the shards, and a few
    more round trips, never more than `limit` entries each, when one shard holds them all."""

    def __init__(
        self,
        sources: list[str],
        submit: Submit,
        since: float | None,
        limit: int,
        bound: tuple[int, int] | None,
    ) -> None:
        self.sources, self.submit, self.limit = sources, submit, limit
        self.low = "-" if since is None else str(int(since * 1000))
        count = len(sources)
        self.highs: list[str | None] = [_exclusive(bound, i, count) for i in range(count)]
        share = -(-limit // count)
        self.sizes = [min(limit, max(_FIRST_CHUNK, 2 * share))] * count
        self.buffers: list[deque[tuple[tuple[int, int], StoredEvent]]] = [deque() for _ in sources]
        self.heads: list[tuple[int, int, int]] = []  # (-ms, -mapped seq, source)

    async def run(self) -> list[StoredEvent]:
        out: list[StoredEvent] = []
        wanting = [i for i, high in enumerate(self.highs) if high is not None]
        while True:
            if len(out) >= self.limit:
                break
            if wanting:
                await self._fetch(wanting, self.limit - len(out))
                wanting = []
            if not self.heads:
                break
            _, _, i = heapq.heappop(self.heads)
            buffer = self.buffers[i]
            out.append(buffer.popleft()[1])
            if buffer:
                self._push(i)
            elif self.highs[i] is not None:  # more may be there: ask before going on
                wanting.append(i)
        out.reverse()
        return out

    async def _fetch(self, wanting: list[int], missing: int) -> None:
        """Ask each source in `wanting` for its next entries, in one batch."""
        count = len(self.sources)
        replies = await asyncio.gather(
            *(
                self.submit(
                    "XREVRANGE", self.sources[i], self.highs[i], self.low, "COUNT", self.sizes[i]
                )
                for i in wanting
            )
        )
        for i, rows in zip(wanting, replies, strict=True):
            rows = rows or []
            asked = self.sizes[i]
            self.sizes[i] = max(1, min(2 * asked, missing))
            self.highs[i] = "(" + str(rows[-1][0]) if len(rows) >= asked else None
            buffer = self.buffers[i]
            for event_id, fields in rows:
                own = parse_id(str(event_id))
                if own is None:
                    continue
                mapped = (own[0], own[1] * count + i)
                buffer.append((mapped, entry(f"{mapped[0]}-{mapped[1]}", fields, own[0])))
            if buffer:
                self._push(i)

    def _push(self, i: int) -> None:
        ms, seq = self.buffers[i][0][0]
        heapq.heappush(self.heads, (-ms, -seq, i))


def _exclusive(bound: tuple[int, int] | None, source: int, count: int) -> str | None:
    """The exclusive high end, in `source`'s own ids, of the entries whose merged id is below
    `bound` (None: no entry of it is): own `(ms, q)` maps to `(ms, q * count + source)`."""
    if bound is None:
        return "+"
    ms, seq = bound
    below = max(0, -(-(seq - source) // count))  # the least own seq at or above the bound
    if below == 0 and ms <= 0:
        return None
    return f"({ms}-{below}"
