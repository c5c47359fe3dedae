"""The store's bounded event stream as an event source, paged back `page` events at a time with
`read_events(before=)`: a filter finds every match in retention, and no read holds more than
one page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from scrapeshield.operators.filters import EventFilter
from scrapeshield.store.base import Store

PAGE = 500
_FOLLOW_PAGES = 20
_APPEND_MARGIN = 60.0  # seconds between a request's time and its stream entry, at most


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
        # here: evidence.states brings the directives and their settings (pydantic, ~0.2 s)
        from scrapeshield.evidence.states import load_states

        return await load_states(self.store, ids)


def _order(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return -1, -1
