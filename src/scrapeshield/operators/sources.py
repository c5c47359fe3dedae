"""Where events are read from: the `EventSource` protocol, its two sources (the store's stream,
`stream.StoreSource`; a JSON-lines log file, `files.FileSource`), and `newest` (a tail).

Reads are bounded: the stream is paged back `PAGE` events at a time with `read_events(before=)`
(so a filter finds every match in retention, never only the newest few), and a file is read one
line at a time. Nothing holds more than one page, or the `n` matches a caller asked for.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Protocol

from scrapeshield.errors import SourceError
from scrapeshield.operators.files import MAX_LINE, FileSource
from scrapeshield.operators.filters import EventFilter, agent_of, category_of, refused
from scrapeshield.operators.stream import PAGE, StoreSource


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


__all__ = [
    "MAX_LINE",
    "PAGE",
    "EventFilter",
    "EventSource",
    "FileSource",
    "SourceError",
    "StoreSource",
    "agent_of",
    "category_of",
    "newest",
    "refused",
]
