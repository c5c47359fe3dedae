"""Where events are read from: the store's event stream or a JSON-lines log file, filtered.

Reads are bounded: the stream is paged back `page` events at a time with `read_events(before=)`
(so a filter finds every match in retention, never only the newest few), and a file is read one
line at a time (a line longer than `MAX_LINE` is skipped). Nothing holds more than one page, or
the `n` matches a caller asked for.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scrapeshield.evidence.states import STATE_EVENT, load_states
from scrapeshield.store.base import Store

PAGE = 500
MAX_LINE = 1 << 20  # a JSON-lines record is a few KB; longer lines are not ours
_MAX_FILE_STATES = 1024
_FOLLOW_PAGES = 20
_APPEND_MARGIN = 60.0  # seconds between a request's time and its stream entry, at most


class SourceError(Exception):
    """A source that cannot be read (a missing file, a memory store): the message says why."""


def category_of(event: dict[str, Any]) -> str | None:
    """The event's catalogue category (schema 2), else the one its reasons name (schema 1)."""
    found = event.get("category")
    if found:
        return str(found)
    for reason in event.get("reasons") or ():
        name = str(reason.get("name", "")) if isinstance(reason, dict) else ""
        if name.startswith("ua/category/"):
            return name[12:]
    return None


def agent_of(event: dict[str, Any]) -> str | None:
    """The catalogue agent the event names (schema 2), else from its reasons (`bot/<name>`)."""
    found = event.get("agent")
    if found:
        return str(found)
    for reason in event.get("reasons") or ():
        name = str(reason.get("name", "")) if isinstance(reason, dict) else ""
        if name.startswith("bot/") and "/" not in name[4:]:
            return name[4:]
    return None


def refused(event: dict[str, Any]) -> bool:
    """The client was refused (an enforced decision other than allow)."""
    return event.get("action", "allow") != "allow" and bool(event.get("enforced", True))


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to keep; every given field must match. `rule` and `path` are prefixes,
    `agent` matches the catalogue name or, failing that, a substring of the user agent."""

    client: str | None = None
    action: str | None = None
    rule: str | None = None
    category: str | None = None
    path: str | None = None
    agent: str | None = None
    event: str | None = None
    request_id: str | None = None
    since: float | None = None
    until: float | None = None

    def matches(self, e: dict[str, Any]) -> bool:
        if e.get("event") == STATE_EVENT:
            return False
        if self.client is not None and e.get("client_key") != self.client:
            return False
        if self.action is not None and e.get("action") != self.action:
            return False
        if self.rule is not None and not str(e.get("rule", "")).startswith(self.rule):
            return False
        if self.path is not None and not str(e.get("path", "")).startswith(self.path):
            return False
        if self.event is not None and e.get("event", "decision") != self.event:
            return False
        if self.request_id is not None and e.get("request_id") != self.request_id:
            return False
        if self.category is not None and category_of(e) != self.category:
            return False
        if self.agent is not None and not self._agent(e):
            return False
        t = _time(e)
        return (self.since is None or t >= self.since) and (self.until is None or t <= self.until)

    def _agent(self, e: dict[str, Any]) -> bool:
        wanted = str(self.agent).lower()
        named = agent_of(e)
        if named is not None:
            return named.lower() == wanted
        return wanted in str(e.get("user_agent", "")).lower()


def _time(e: dict[str, Any]) -> float:
    try:
        return float(e.get("time", 0.0))
    except (TypeError, ValueError):
        return 0.0


class EventSource(Protocol):
    """What the read API needs from a source of events."""

    description: str

    async def cursor(self) -> str:
        """Where the source ends now: `newest_first(upto=)` stops there, `follow(after=)` starts
        there, so a `tail -f` neither misses nor repeats an event appended in between."""
        ...

    def newest_first(
        self, flt: EventFilter, upto: str | None = None
    ) -> AsyncIterator[dict[str, Any]]: ...

    def oldest_first(self, flt: EventFilter) -> AsyncIterator[dict[str, Any]]: ...

    def any_order(self, flt: EventFilter) -> AsyncIterator[dict[str, Any]]:
        """Every match, in the order cheapest for the source (one pass): for summaries."""
        ...

    def follow(
        self, flt: EventFilter, interval: float = 1.0, after: str | None = None
    ) -> AsyncGenerator[dict[str, Any], None]: ...

    async def states(self, ids: list[str]) -> dict[str, dict[str, Any]]: ...


def _next_id(event_id: str) -> str:
    """The smallest stream id after `event_id` (an exclusive bound that includes it)."""
    ms, _, seq = event_id.partition("-")
    return f"{ms}-{int(seq or 0) + 1}"


class StoreSource:
    """The store's bounded event stream, paged."""

    def __init__(self, store: Store, *, page: int = PAGE) -> None:
        self.store = store
        self.page = page
        self.description = f"the {store.name} store's event stream"

    def _first_bound(self, flt: EventFilter) -> str | None:
        """Entries are stamped when appended, a little after the request's `time`: the bound
        leaves a margin, and the filter decides on `time` itself."""
        return None if flt.until is None else f"{int((flt.until + _APPEND_MARGIN) * 1000)}-0"

    async def _pages(self, flt: EventFilter, before: str | None) -> AsyncIterator[list[Any]]:
        while True:
            rows = await self.store.read_events(since=flt.since, limit=self.page, before=before)
            if not rows:
                return
            yield rows
            if len(rows) < self.page:
                return
            before = rows[0].id

    async def cursor(self) -> str:
        rows = await self.store.read_events(limit=1)
        return rows[-1].id if rows else "0-0"

    async def newest_first(
        self, flt: EventFilter, upto: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        bound = self._first_bound(flt)
        if upto is not None and (bound is None or _order(_next_id(upto)) < _order(bound)):
            bound = _next_id(upto)
        async for rows in self._pages(flt, bound):
            for row in reversed(rows):
                if flt.matches(row.data):
                    yield row.data

    def any_order(self, flt: EventFilter) -> AsyncIterator[dict[str, Any]]:
        return self.newest_first(flt)

    async def oldest_first(self, flt: EventFilter) -> AsyncIterator[dict[str, Any]]:
        """Two passes: back through the stream noting where each page starts (ids only), then
        forward page by page from the oldest: one page in memory, chronological order."""
        bounds: list[str | None] = []
        before = self._first_bound(flt)
        async for rows in self._pages(flt, before):
            if not bounds:  # events newer than the first pass's are left for `follow`
                before = _next_id(rows[-1].id)
            bounds.append(before)
            before = rows[0].id
        for bound in reversed(bounds):
            rows = await self.store.read_events(since=flt.since, limit=self.page, before=bound)
            for row in rows:
                if flt.matches(row.data):
                    yield row.data

    async def follow(
        self, flt: EventFilter, interval: float = 1.0, after: str | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Events after the `after` cursor (default: now) as they arrive, polling every
        `interval` seconds, forever."""
        last = after if after is not None else await self.cursor()
        while True:
            await asyncio.sleep(interval)
            fresh = await self._after(last)
            for row in fresh:
                if flt.matches(row.data):
                    yield row.data
            if fresh:
                last = fresh[-1].id

    async def _after(self, last: str) -> list[Any]:
        """The entries after id `last`, oldest first: pages back until it is reached (at most
        `_FOLLOW_PAGES` pages: a burst larger than that is skipped, not held)."""
        since = int(last.split("-", 1)[0]) / 1000
        pages: list[list[Any]] = []
        before: str | None = None
        for _ in range(_FOLLOW_PAGES):
            rows = await self.store.read_events(since=since, limit=self.page, before=before)
            fresh = [r for r in rows if _order(r.id) > _order(last)]
            pages.append(fresh)
            if len(fresh) < len(rows) or len(rows) < self.page:
                break
            before = rows[0].id
        return [row for page in reversed(pages) for row in page]

    async def states(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return await load_states(self.store, ids)


def _order(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return -1, -1


def parse_line(line: str) -> dict[str, Any] | None:
    """A block-log record from one log line: the JSON object itself, or after a prefix a text
    formatter added (`2026-... WARNING {...}`); None for any other line."""
    start = line.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(line[start:])
    except ValueError:
        return None
    if not isinstance(data, dict) or not ("client_key" in data or data.get("event") == STATE_EVENT):
        return None
    return data


class FileSource:
    """A JSON-lines log file of block-log records (other lines are skipped)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"no such log file: {self.path}")
        self.description = f"the log file {self.path}"
        self._states: dict[str, dict[str, Any]] = {}

    def _lines(self, handle: Any) -> Iterator[bytes]:
        while True:
            line = handle.readline(MAX_LINE)
            if not line:
                return
            if not line.endswith(b"\n") and len(line) >= MAX_LINE:
                while (rest := handle.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass  # a line past the bound: skipped whole
                continue
            yield line

    def _open(self) -> Any:
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror}") from None

    def _record(self, raw: bytes) -> dict[str, Any] | None:
        data = parse_line(raw.decode("utf-8", "replace"))
        if data is not None and data.get("event") == STATE_EVENT:
            sid, state = data.get("directives"), data.get("state")
            fits = len(self._states) < _MAX_FILE_STATES
            if isinstance(sid, str) and isinstance(state, dict) and fits:
                self._states[sid] = state
            return None
        return data

    async def cursor(self) -> str:
        return str(self.path.stat().st_size)

    def any_order(self, flt: EventFilter) -> AsyncIterator[dict[str, Any]]:
        return self.oldest_first(flt)

    async def oldest_first(
        self, flt: EventFilter, end: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Records in file order (up to byte `end`, when given)."""
        with self._open() as handle:
            for count, line in enumerate(self._lines(handle)):
                if end is not None and handle.tell() > end:
                    return
                data = self._record(line)
                if data is not None and flt.matches(data):
                    yield data
                if count % 2000 == 1999:
                    await asyncio.sleep(0)  # a long file: let a dashboard's loop breathe

    async def newest_first(
        self, flt: EventFilter, upto: str | None = None, keep: int = PAGE * 20
    ) -> AsyncIterator[dict[str, Any]]:
        """A file is read forwards; this holds the newest `keep` matches and yields no more
        (use `any_order` or `oldest_first` for every match)."""
        kept: deque[dict[str, Any]] = deque(maxlen=keep)
        async for data in self.oldest_first(flt, None if upto is None else int(upto)):
            kept.append(data)
        while kept:
            yield kept.pop()

    async def follow(
        self, flt: EventFilter, interval: float = 1.0, after: str | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Lines appended after the `after` cursor (default: now); starts over when the file
        is truncated or replaced."""
        stat = self.path.stat()
        position = int(after) if after is not None else stat.st_size
        inode = stat.st_ino
        while True:
            await asyncio.sleep(interval)
            try:
                stat = self.path.stat()
            except OSError:
                continue  # rotated away: wait for the new file
            if stat.st_ino != inode or stat.st_size < position:
                inode, position = stat.st_ino, 0
            if stat.st_size == position:
                continue
            with self._open() as handle:
                handle.seek(position)
                for line in self._lines(handle):
                    if not line.endswith(b"\n"):
                        break  # half-written: read it whole next time
                    position = handle.tell()
                    data = self._record(line)
                    if data is not None and flt.matches(data):
                        yield data

    async def states(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The `directives` records seen so far in the file (read it first)."""
        return {i: self._states[i] for i in ids if i in self._states}


async def newest(
    source: EventSource, flt: EventFilter, n: int, upto: str | None = None
) -> list[dict[str, Any]]:
    """The newest `n` matching events (up to the `upto` cursor), oldest first (a `tail`)."""
    out: list[dict[str, Any]] = []
    if n <= 0:
        return out
    found = (
        source.newest_first(flt, upto, keep=n)
        if isinstance(source, FileSource)
        else source.newest_first(flt, upto)
    )
    async for data in found:
        out.append(data)
        if len(out) >= n:
            break
    out.reverse()
    return out
