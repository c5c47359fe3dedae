"""Which store the request path has, told without importing redis-py."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from scrapeshield.store.redis import RedisStore


def on_redis(store: object) -> TypeGuard[RedisStore]:
    """Whether `store` is a `RedisStore` (whose commands join the tick's batch: `queue_get`,
    `submit_script`...), as its class says (`RedisStore.on_redis`). The request path asks this
    rather than `isinstance(store, RedisStore)`, which would import redis-py (~90 ms, ~7-8 MB a
    worker) into an app on `memory://`. The class, not the instance, is asked: a wrapper that
    forwards every attribute to a RedisStore is not one."""
    kind: type = type(store)
    return _redis_class(kind)


@cache  # (classes, not clients: a handful a process)
def _redis_class(kind: type) -> bool:
    """Asked once a class: a class without `on_redis` (the memory store, an app's own store)
    makes `getattr` raise and swallow an AttributeError, ~2.3k instructions an ask, several
    asks a request."""
    return getattr(kind, "on_redis", False) is True
