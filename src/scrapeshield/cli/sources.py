"""Opening what the operators' commands read: a `--file` (JSON-lines log) or the store."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from scrapeshield.blocklog import parse_since
from scrapeshield.cli.common import load_settings
from scrapeshield.client import TargetError, client_key_of
from scrapeshield.operators import EventFilter, EventSource, FileSource, SourceError, StoreSource

if TYPE_CHECKING:
    from scrapeshield.settings import Settings
    from scrapeshield.store import Store

T = TypeVar("T")

MEMORY_STORE = (
    "the store is memory://, which keeps events inside the site's own process: another process "
    "(this command) has none to read. Give --store redis://... (or SCRAPESHIELD_STORE_URL, or "
    "--config) naming the store your site uses, or --file LOG naming its block-log file"
)


def client_key(target: str, settings: Settings) -> str:
    """An IP address as requests are keyed (IPv6 to its /64); anything else as given."""
    try:
        return client_key_of(target, settings)
    except TargetError:
        return target.strip()


def event_filter(
    args: argparse.Namespace, settings: Settings | None = None, **more: object
) -> EventFilter:
    """The filter the options name; `ValueError` naming the option for a bad time. With
    `settings`, `--client` given as an IP address is grouped as requests are."""
    times: dict[str, float | None] = {}
    for name in ("since", "until"):
        text = getattr(args, name, None)
        try:
            times[name] = parse_since(text) if text else None
        except ValueError:
            raise ValueError(
                f"--{name} {text!r} is not like 15m, 1h, 2d, an epoch time or 2026-12-01"
            ) from None
    fields = {
        name: getattr(args, name, None)
        for name in ("client", "action", "rule", "category", "path", "agent", "event")
    }
    if fields["client"] and settings is not None:
        fields["client"] = client_key(str(fields["client"]), settings)
    return EventFilter(**fields, **times, **more)  # type: ignore[arg-type]


async def with_source(
    args: argparse.Namespace,
    action: Callable[[EventSource, Store | None, Settings], Awaitable[T]],
    *,
    settings: Settings | None = None,
) -> T:
    """Run `action` on the `--file`, else on the store (closed afterwards). A memory store
    raises `SourceError`: its events live in another process."""
    settings = settings if settings is not None else load_settings(args)
    if getattr(args, "file", None):
        return await action(FileSource(args.file), None, settings)
    if settings.store_url.startswith("memory://"):
        raise SourceError(MEMORY_STORE)
    from scrapeshield.store import open_store

    store = open_store(settings)
    try:
        return await action(StoreSource(store), store, settings)
    finally:
        await store.aclose()


async def read_events(
    args: argparse.Namespace,
    read: Callable[[EventSource], Awaitable[T]],
    *,
    settings: Settings | None = None,
) -> T:
    """Run `read` on the `--file`, else on the store's stream (as `with_source`). A file is read
    without the settings: loading them costs more than reading a thousand events."""
    if getattr(args, "file", None):
        return await read(FileSource(args.file))
    return await with_source(args, lambda source, _store, _s: read(source), settings=settings)
