"""Forward-confirmed reverse DNS, async and cached: is this IP really `*.googlebot.com`?

The address's PTR name must end in one of the operator's published suffixes, and that name must
resolve back to the same address (a PTR record alone is set by whoever owns the IP block).
Lookups run through the event loop's resolver (a thread pool: the loop never blocks), bounded by
a timeout; answers (including "no") are cached with a TTL in a bounded map. The resolver is
injectable so tests need no DNS.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol


class Resolver(Protocol):
    async def reverse(self, ip: str) -> str | None: ...

    async def forward(self, host: str) -> Sequence[str]: ...


class SystemResolver:
    """The operating system's resolver, via the running loop's executor."""

    async def reverse(self, ip: str) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            host, _ = await loop.getnameinfo((ip, 0), socket.NI_NAMEREQD)
        except (OSError, UnicodeError):
            return None
        return str(host)

    async def forward(self, host: str) -> Sequence[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return ()
        return [str(info[4][0]) for info in infos]


class FCrDNS:
    """`verify(ip, suffixes)` -> the confirmed host name, or None; cached per (ip, suffixes)."""

    def __init__(
        self,
        resolver: Resolver | None = None,
        *,
        timeout: float = 1.0,
        ttl: float = 3600.0,
        max_entries: int = 10_000,
        max_concurrent: int = 16,
    ) -> None:
        self.resolver: Resolver = resolver or SystemResolver()
        self.timeout = timeout
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_concurrent = max_concurrent
        self._inflight: dict[tuple[str, tuple[str, ...]], asyncio.Future[str | None]] = {}
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], tuple[float, str | None]] = (
            OrderedDict()
        )

    async def verify(self, ip: str, suffixes: tuple[str, ...]) -> str | None:
        key = (ip, suffixes)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        pending = self._inflight.get(key)
        if pending is not None:  # the same claim from the same address: share one lookup
            return await asyncio.shield(pending)
        if len(self._inflight) >= self.max_concurrent:
            return None  # a flood of claims must not exhaust the resolver's thread pool
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            host = await asyncio.wait_for(self._lookup(ip, suffixes), self.timeout)
        except TimeoutError:
            future.set_result(None)  # not cached: a slow resolver is not proof of spoofing forever
            return None
        except BaseException:
            future.set_result(None)  # waiters see "unverified"; the error is the leader's to log
            raise
        finally:
            del self._inflight[key]
        future.set_result(host)
        self._cache[key] = (now + self.ttl, host)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return host

    async def _lookup(self, ip: str, suffixes: tuple[str, ...]) -> str | None:
        host = await self.resolver.reverse(ip)
        if not host:
            return None
        host = host.rstrip(".").lower()
        if not any(host == s or host.endswith("." + s) for s in suffixes):
            return None
        addresses = await self.resolver.forward(host)
        return host if ip in addresses else None
