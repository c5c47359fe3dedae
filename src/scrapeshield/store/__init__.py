"""Stores: `open_store(settings)` picks the backend named by `store_url`."""

from __future__ import annotations

from scrapeshield.settings import Settings
from scrapeshield.store.base import Store, StoredEvent
from scrapeshield.store.memory import MemoryStore
from scrapeshield.store.redis import RedisStore


def open_store(settings: Settings) -> Store:
    """Build (without connecting) the store the settings name."""
    if settings.store_url.startswith("memory://"):
        return MemoryStore(
            max_keys=settings.memory_max_keys, max_events=settings.event_stream_maxlen
        )
    return RedisStore(
        settings.store_url,
        prefix=settings.store_prefix,
        timeout=settings.store_timeout,
        cooldown=settings.breaker_cooldown,
        fail_mode=settings.fail_mode,
        max_events=settings.event_stream_maxlen,
        max_connections=settings.store_max_connections,
    )


__all__ = ["MemoryStore", "RedisStore", "Store", "StoredEvent", "open_store"]
