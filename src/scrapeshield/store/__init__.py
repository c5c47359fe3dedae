"""Stores: one async protocol (`base.Store`), a bounded in-process `MemoryStore` and the shared
`RedisStore` (redis-py; coalesced pipelines, a deadline and a circuit breaker); `open_store`
picks the one `store_url` names.

Owns counters, bans' storage, the event stream and the breaker. May import `errors` and
`settings` only: every other part of the pipeline may import the store, never the reverse.

The two stores are imported on first use (`from scrapeshield.store import RedisStore` works as
ever): a module that needs only the protocol or `keys` (the operators' commands reading a
log file) then pays for neither redis-py nor the settings (~0.3 s measured).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapeshield.store.base import Store, StoredEvent

if TYPE_CHECKING:
    from scrapeshield.settings import Settings
    from scrapeshield.store.memory import MemoryStore
    from scrapeshield.store.redis import RedisStore


def open_store(settings: Settings) -> Store:
    """Build (without connecting) the store the settings name."""
    if settings.store_url.startswith("memory://"):
        from scrapeshield.store.memory import MemoryStore

        return MemoryStore(
            max_keys=settings.memory_max_keys, max_events=settings.event_stream_maxlen
        )
    from scrapeshield.store.redis import RedisStore

    return RedisStore(
        settings.store_url,
        prefix=settings.store_prefix,
        timeout=settings.store_timeout,
        cooldown=settings.breaker_cooldown,
        fail_mode=settings.fail_mode,
        max_events=settings.event_stream_maxlen,
        max_connections=settings.store_max_connections,
        event_shards=settings.event_stream_shards,
    )


def __getattr__(name: str) -> Any:
    """`MemoryStore` and `RedisStore`, imported when first named (PEP 562)."""
    if name == "MemoryStore":
        from scrapeshield.store.memory import MemoryStore

        return MemoryStore
    if name == "RedisStore":
        from scrapeshield.store.redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MemoryStore", "RedisStore", "Store", "StoredEvent", "open_store"]
