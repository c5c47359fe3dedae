"""The operators' read side, shared by the CLI (`scrapeshield log`, `evidence`) and a dashboard:
events from the store's stream or a JSON-lines log file, filtered over the whole retention
(paged, bounded), followed live; summaries; one client's report; export.

Every function is async and typed, and reads through an `EventSource`:

    source = StoreSource(store)                  # or FileSource("blocklog.jsonl")
    async for event in source.newest_first(EventFilter(client="198.51.100.4")): ...
    summary = await summarise(source.any_order(EventFilter(since=time.time() - 3600)))
    report = await client_report(source, "198.51.100.4", store=store)

May import the library (`blocklog`, `bans`, `store`, `evidence`...); nothing in the request path
imports it.
"""

from __future__ import annotations

from scrapeshield.operators.clients import ClientReport, client_report
from scrapeshield.operators.export import export
from scrapeshield.operators.sources import (
    EventFilter,
    EventSource,
    FileSource,
    SourceError,
    StoreSource,
    newest,
)
from scrapeshield.operators.summary import Summary, summarise

__all__ = [
    "ClientReport",
    "EventFilter",
    "EventSource",
    "FileSource",
    "SourceError",
    "StoreSource",
    "Summary",
    "client_report",
    "export",
    "newest",
    "summarise",
]
