"""Redis behind Sentinel: `redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]`.

The store asks the sentinels which server is the primary of `service` whenever it opens a
connection, so after a failover new connections go to the new primary; the commands in flight
during the switch fail, the breaker applies `fail_mode` for that window, and nothing else
changes. The URL's user and password are the primary's; `?sentinel_password=` (and
`sentinel_username=`) authenticate to the sentinels when they have `requirepass` of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.connection import BlockingConnectionPool
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from scrapeshield.errors import ConfigurationError

SCHEME = "redis+sentinel://"
_DEFAULT_PORT = 26379


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's primary lookup with the blocking pool's bound: past `max_connections` a
    pipeline waits (within its deadline) instead of opening ever more sockets."""


@dataclass(frozen=True)
class SentinelURL:
    sentinels: list[tuple[str, int]]
    service: str
    db: int
    username: str | None
    password: str | None
    sentinel_username: str | None
    sentinel_password: str | None


def parse(url: str) -> SentinelURL:
    """Parse without I/O; a bad URL is a `ConfigurationError` naming `store_url`."""
    parts = urlsplit("redis://" + url.removeprefix(SCHEME))
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":") if userinfo else ("", "", "")
    sentinels: list[tuple[str, int]] = []
    try:
        for host in hosts.split(","):
            sentinels.append(_address(host.strip()))
        path = [unquote(p) for p in parts.path.split("/") if p]
        if not path or len(path) > 2:
            raise ValueError("the path must be /<service name>[/<db>]")
        db = int(path[1]) if len(path) == 2 else 0
    except ValueError as exc:
        raise ConfigurationError(
            [f"store_url: {exc} (expected {SCHEME}host:port/service)"]
        ) from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return SentinelURL(
        sentinels=sentinels,
        service=path[0],
        db=db,
        username=unquote(username) or None,
        password=unquote(password) or None,
        sentinel_username=query.get("sentinel_username"),
        sentinel_password=query.get("sentinel_password"),
    )


def _address(host: str) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]` or `[v6]:port`."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        name, _, port = host.partition(":")
    if not name:
        raise ValueError(f"sentinel address {host!r} has no host")
    return name, int(port) if port else _DEFAULT_PORT


def primary_client(
    url: str, *, max_connections: int, options: dict[str, Any], retry: Any
) -> tuple[aioredis.Redis, Sentinel]:
    """A client of the service's current primary, and the Sentinel handle (to close it too)."""
    parsed = parse(url)
    sentinel_options: dict[str, Any] = {
        "socket_timeout": options["socket_timeout"],
        "socket_connect_timeout": options["socket_connect_timeout"],
    }
    if parsed.sentinel_password is not None:
        sentinel_options["password"] = parsed.sentinel_password
    if parsed.sentinel_username is not None:
        sentinel_options["username"] = parsed.sentinel_username
    # redis-py < 8.2 leaves Sentinel's __init__ untyped: called through a typed name on both
    make: Callable[..., Sentinel] = Sentinel
    sentinel = make(parsed.sentinels, sentinel_kwargs=sentinel_options)
    client = sentinel.master_for(
        parsed.service,
        redis_class=aioredis.Redis,
        connection_pool_class=BlockingSentinelPool,
        max_connections=max_connections,
        timeout=None,
        retry=retry,
        db=parsed.db,
        username=parsed.username,
        password=parsed.password,
        **options,
    )
    return client, sentinel
