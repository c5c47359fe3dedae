"""Stores over other Redis clients, for bench_redis_clients only (not part of the library)."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio.connection import parse_url
from redis.exceptions import NoScriptError

from scrapeshield.errors import StoreError, StoreUnavailable
from scrapeshield.store import RedisStore
from scrapeshield.store.soon import Receiver, fail_all


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return {_text(k): _text(v) for k, v in value.items()}
    return value


class GlideStore(RedisStore):
    """The coalescing RedisStore, each tick's commands sent as one valkey-glide Batch."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self._glide: Any = None
        self._glide_connecting: asyncio.Lock | None = None

    async def _connect_glide(self) -> Any:
        from glide import GlideClient, GlideClientConfiguration, NodeAddress, ProtocolVersion

        if self._glide_connecting is None:
            self._glide_connecting = asyncio.Lock()
        async with self._glide_connecting:
            if self._glide is None:
                options = parse_url(self.url)
                host = options.get("host", "127.0.0.1")
                port = int(options.get("port", 6379))
                config = GlideClientConfiguration(
                    [NodeAddress(host, port)],
                    request_timeout=int(self.timeout * 1000),
                    protocol=ProtocolVersion.RESP2,
                )
                self._glide = await GlideClient.create(config)
        return self._glide

    async def _settle(self, commands: list[tuple[Any, ...]], futures: list[Receiver]) -> None:
        from glide import Batch

        try:
            async with asyncio.timeout(self.timeout):
                client = self._glide or await self._connect_glide()
                batch = Batch(is_atomic=False)
                for args in commands:
                    batch.custom_command([str(a) for a in args])
                self.round_trips += 1
                results = await client.exec(batch, raise_on_error=False)
        except Exception as exc:
            self.breaker.record_failure(exc)
            fail_all(futures, StoreUnavailable(f"store {self.breaker.name}: {exc!r}"))
            return
        self.breaker.record_success()
        for future, result in zip(futures, results or [], strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                message = str(result)
                future.set_exception(
                    NoScriptError(message) if "NOSCRIPT" in message else StoreError(message)
                )
            else:
                future.set_result(_text(result))

    async def aclose(self) -> None:
        await super().aclose()
        if self._glide is not None:
            await self._glide.close()
            self._glide = None
