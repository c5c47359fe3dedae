"""The shared store on Redis: every worker and host sees the same counters and bans.

Round trips, not the server, are the cost, so commands are *coalesced*: every command issued in
the same event-loop tick, by one request or by many concurrent ones, leaves in one batch on one
connection (`exchange`), its script calls as one combined call (`combine`). The request path
queues with `queue_script`/`queue_get`: each reply settles a `Soon` (`soon`), read by the
caller's function once the tick's batch is done (one future per tick). Redis Cluster
(`redis+cluster://`) takes redis-py's cluster pipeline, which routes each command to its shard.
A deadline on every batch and a circuit breaker bound what a slow or dead Redis can cost:
whatever goes wrong, every command waiting on a batch is failed with `StoreUnavailable`, so
`fail_mode` applies and no request waits forever.

redis-py, not a protocol client of our own: measured side by side (docs/log/store.md), a
hand-written hiredis link was 1.2x faster over HTTP with every defence, short of the 1.5x that
would pay for owning a protocol client across event loops, TLS, RESP3, Sentinel and proxies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import NoScriptError, RedisError

from scrapeshield.errors import StoreError, StoreUnavailable
from scrapeshield.store import combine, keys, scripts, sentinel, stream
from scrapeshield.store.base import StoredEvent
from scrapeshield.store.breaker import CircuitBreaker
from scrapeshield.store.connect import open_client
from scrapeshield.store.exchange import Exchange
from scrapeshield.store.packing import packed_in_c
from scrapeshield.store.soon import Receiver, Soon, fail_all
from scrapeshield.store.urls import check_url, safe_url

_UNAVAILABLE = (RedisError, OSError, TimeoutError, asyncio.TimeoutError)
_ARGUMENT_TYPES = (str, bytes, int, float)  # what redis-py encodes (bool excluded below)
_PLAIN_TYPES = frozenset(_ARGUMENT_TYPES)  # exactly these (a subclass, bool, is checked in turn)
T = TypeVar("T")


class RedisStore:
    """`Store` on Redis (Redis Cluster via `redis+cluster://`, Sentinel via `redis+sentinel://`),
    with coalesced pipelines."""

    name = "redis"
    on_redis: ClassVar[bool] = True
    """What `store.kind.on_redis` reads: the request path tells this store without redis-py."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "scrapeshield:",
        timeout: float = 0.25,
        cooldown: float = 5.0,
        fail_mode: str = "open",
        max_events: int = 10_000,
        max_connections: int = 32,
        event_shards: int = stream.SHARDS,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self.max_events = max_events
        self.max_connections = max_connections
        # Half a timeout: one moment's calls fail within it; a call made after the streak's first
        # failure fails a whole timeout later, on uvloop's millisecond clock too (store/breaker.py).
        self.breaker = CircuitBreaker(
            safe_url(url), cooldown=cooldown, fail_mode=fail_mode, tolerance=timeout / 2
        )
        self._cluster = url.startswith("redis+cluster://")
        self._sentinel = url.startswith(sentinel.SCHEME)
        # (a Cluster URL is otherwise a redis:// URL, naming the node to discover the cluster from)
        self._redis_url = (
            "redis://" + url.removeprefix("redis+cluster://") if self._cluster else url
        )
        if self._sentinel:
            sentinel.parse(url)
        else:
            check_url(self._redis_url)
        self._client: aioredis.Redis | RedisCluster | None = None
        self._sentinels: Sentinel | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._exchange: Exchange | None = None  # batches without a Pipeline (not on Cluster)
        self._commands: list[tuple[Any, ...]] = []
        self._futures: list[Receiver] = []  # each command's: a caller's future, or a _Call
        self._parts: list[combine.Part] = []  # script calls of this tick (combine)
        self._part_replies: list[Receiver] = []  # their callers' futures (or Soons), in turn
        self._tick: asyncio.Future[None] | None = None  # done once this tick's batch settled
        self._loaded: set[str] = set()  # scripts this store has sent (EVALSHA, not EVAL)
        self._flushes: set[asyncio.Task[None]] = set()  # pipelines in flight
        self.split = self._cluster and keys.tag_of(prefix) == prefix
        """Whether a script's keys must be grouped by subject (`keys.by_tag`), one call per
        group: on Cluster, unless the prefix pins every key to one slot with a tag of its own."""
        self.events = stream.EventStreams(prefix, event_shards if self.split else 1, max_events)
        """The block log's stream(s): `event_shards` shards where keys spread, else one key."""
        self._legacy_aged = not self.split  # (the pre-shard stream is given its TTL once)
        self.round_trips = 0

    @property
    def client(self) -> aioredis.Redis | RedisCluster:
        """The redis-py client of the running event loop, created on first use (no I/O).

        Connections belong to the loop that opened them, so a store used from another loop (a
        test client's, a CLI's `asyncio.run`) gets a client of its own there."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # built outside a loop (nothing connects until it is used)
            loop = None
        if self._client is None or self._client_loop is not loop:
            self._client, self._sentinels = open_client(
                self.url,
                self._redis_url,
                timeout=self.timeout,
                max_connections=self.max_connections,
            )
            self._exchange = None
            if isinstance(self._client, aioredis.Redis):  # (Cluster pipelines pack their own)
                own = self._client.connection_pool
                own.connection_class = packed_in_c(own.connection_class)
                self._exchange = Exchange(own)
            self._client_loop = loop
        return self._client

    @property
    def available(self) -> bool:
        return self.breaker.allow()

    # -- coalescing ---------------------------------------------------------------------------

    async def execute(self, *args: Any) -> Any:
        """Run one command in the next shared pipeline; keys in `args` must already be prefixed."""
        return await self.submit(*args)

    def submit(self, *args: Any) -> asyncio.Future[Any]:
        """Queue one command in the next shared pipeline now, and return its reply's future:
        commands submitted in one turn of the event loop leave together, with no task each."""
        self._check(args)
        future: asyncio.Future[Any] = self._schedule().get_loop().create_future()
        self._commands.append(args)
        self._futures.append(future)
        return future

    def _check(self, args: tuple[Any, ...] | list[Any]) -> None:
        if not self.breaker.allow():
            raise StoreUnavailable(f"store {self.breaker.name} unavailable (circuit open)")
        if set(map(type, args)) <= _PLAIN_TYPES:  # (one pass in C: most calls)
            return
        for arg in args:  # checked now: a bad argument fails its own caller, not a whole batch
            if not isinstance(arg, _ARGUMENT_TYPES) or isinstance(arg, bool):
                raise StoreError(f"{args[0]}: cannot send a {type(arg).__name__} to Redis")

    def queued(self, tick: asyncio.Future[None]) -> bool:
        """Whether that tick's batch is still being queued (not sent: a queued call's
        arguments may still change)."""
        return self._tick is tick

    def _schedule(self) -> asyncio.Future[None]:
        """This tick's future (on the running loop), with the tick's flush scheduled. A tick
        left by a loop that stopped before its flush ran is dropped with what it queued (no
        one on this loop waits for it)."""
        loop = asyncio.get_running_loop()
        tick = self._tick
        if tick is None or tick.get_loop() is not loop:
            self._drop_stale(loop)
            tick = self._tick = loop.create_future()
            loop.call_soon(self._flush)
        return tick

    def _drop_stale(self, loop: asyncio.AbstractEventLoop) -> None:
        """Forget what another (stopped or closed) loop left: its tick and what it queued, and
        its pipelines in flight. Their callers wait on that loop; nothing here can settle them."""
        tick = self._tick
        if tick is not None and tick.get_loop() is not loop:
            self._tick = None
            self._commands, self._futures, self._parts, self._part_replies = [], [], [], []
        stale = [task for task in self._flushes if task.get_loop() is not loop]
        self._flushes.difference_update(stale)

    def _flush(self) -> None:
        """Send what this tick queued as one pipeline, in a task of its own; the script parts
        first become their calls (`combine`: one call per `MAX_PARTS` of them)."""
        tick, self._tick = self._tick, None
        parts, self._parts = self._parts, []
        replies, self._part_replies = self._part_replies, []
        for start in range(0, len(parts), combine.MAX_PARTS):
            end = start + combine.MAX_PARTS
            self._send_parts(parts[start:end], replies[start:end])
        if not self._commands:
            if tick is not None:
                tick.set_result(None)
            return
        commands, futures = self._commands, self._futures
        self._commands, self._futures = [], []
        task = asyncio.get_running_loop().create_task(self._pipeline(commands, futures, tick))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    def _send_parts(self, parts: list[combine.Part], replies: list[Receiver]) -> None:
        """Queue the call running `parts` in this pipeline: EVALSHA once this store has sent
        the script, else EVAL (its source). Only the callers' futures are kept for the reply:
        the parts' keys and arguments are free once packed into the call."""
        source, args = combine.command(parts)
        sha = args[1] if args[0] == "EVALSHA" else None
        if sha is not None and sha not in self._loaded:
            args = ("EVAL", source, *args[2:])
        self._queue_call(args, _Call(self, replies, sha, source, args))

    def _queue_call(self, args: tuple[Any, ...], call: _Call) -> None:
        self._commands.append(args)
        self._futures.append(call)

    async def _pipeline(
        self,
        commands: list[tuple[Any, ...]],
        futures: list[Receiver],
        tick: asyncio.Future[None] | None = None,
    ) -> None:
        """Send one batch and settle every reply in it; then `tick` (the requests that queued
        `Soon`s wait on it), whatever happened."""
        try:
            await self._settle(commands, futures)
        finally:
            if tick is not None and not tick.done():
                tick.set_result(None)

    async def _settle(self, commands: list[tuple[Any, ...]], futures: list[Receiver]) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                client = self.client
                self.round_trips += 1
                if self._exchange is not None:
                    results = await self._exchange.run(commands)
                else:  # Cluster: redis-py's pipeline routes each command to its node
                    pipe = client.pipeline(transaction=False)
                    for args in commands:
                        pipe.execute_command(*args)
                    results = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            fail_all(futures, StoreUnavailable(f"store {self.breaker.name}: cancelled"))
            raise
        except Exception as exc:  # an outage, a timeout, or a bug: nobody is left waiting
            self.breaker.record_failure(exc)
            fail_all(futures, self._unavailable(exc))
            return
        self.breaker.record_success()
        for future, result in zip(futures, results, strict=True):
            if future.done():  # its request was cancelled
                continue
            if isinstance(result, NoScriptError):
                future.set_exception(result)
            elif isinstance(result, Exception):
                future.set_exception(StoreError(str(result)))
            else:
                future.set_result(result)

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        """The error every waiting command gets: the store (password masked) and the cause."""
        detail = str(exc) or f"no answer within {self.timeout:g}s"
        return StoreUnavailable(f"store {self.breaker.name}: {type(exc).__name__}: {detail}")

    async def run_script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA in the shared pipeline, falling back to EVAL once after a server restart."""
        return await self.submit_script(source, keys, args)

    def submit_script(self, source: str, keys: list[str], args: list[Any]) -> Awaitable[Any]:
        """`run_script` queued now (see `submit`); await the result. On one server a part of
        this tick's combined script call (`combine`); on a spreading Cluster its own EVALSHA,
        routed to its keys' slot."""
        prefixed = [self.prefix + k for k in keys]
        if not self.split:
            return self._part(source, prefixed, args)
        sent = self.submit("EVALSHA", combine.sha(source), len(prefixed), *prefixed, *args)
        return self._script_reply(sent, source, prefixed, args)

    def _part(self, source: str, keys: list[str], args: list[Any]) -> asyncio.Future[Any]:
        """Queue a part of this tick's script call (`keys` prefixed: text by construction)."""
        self._check_part(args)
        reply: asyncio.Future[Any] = self._schedule().get_loop().create_future()
        self._parts.append((source, keys, args))
        self._part_replies.append(reply)
        return reply

    def _check_part(self, args: list[Any]) -> None:
        if not self.breaker.allow():
            raise StoreUnavailable(f"store {self.breaker.name} unavailable (circuit open)")
        if args and not set(map(type, args)) <= _PLAIN_TYPES:
            self._check(["EVALSHA", *args])

    def queue_script(
        self, source: str, keys: list[str], args: list[Any], then: Callable[[Any], T]
    ) -> Soon[T]:
        """`submit_script` without a future for the caller to await: the reply settles the
        `Soon` with the tick's batch, and `then` turns it into what the caller wants when the
        caller reads it (`Soon.result`, after awaiting `Soon.tick` once for all its commands).
        On a spreading Cluster the call is its own EVALSHA, routed to its keys' slot."""
        self._check_part(args)
        soon = Soon(then, self._schedule())
        part = (source, [self.prefix + k for k in keys], args)
        if self.split:  # a call of one part: its own command (`combine.command`)
            self._send_parts([part], [soon])
        else:
            self._parts.append(part)
            self._part_replies.append(soon)
        return soon

    def queue_get(self, key: str, then: Callable[[str | None], T]) -> Soon[T]:
        """`get` as `queue_script` queues a script: the value, turned by `then`."""
        if not self.split:
            return self.queue_script(combine.GET, [key], [], then)
        self._check(())
        soon = Soon(then, self._schedule())
        self._commands.append(("GET", self.prefix + key))
        self._futures.append(soon)
        return soon

    async def _script_reply(
        self, sent: asyncio.Future[Any], source: str, prefixed: list[str], args: list[Any]
    ) -> Any:
        try:
            return await sent
        except NoScriptError:
            return await self.execute("EVAL", source, len(prefixed), *prefixed, *args)

    # -- the Store protocol ------------------------------------------------------------------

    async def get(self, key: str) -> str | None:
        value: str | None = await self.submit("GET", self.prefix + key)
        return value

    def get_soon(self, key: str) -> asyncio.Future[Any]:
        """`get` with its command queued now (see `submit`): await the value. On one server a
        part of this tick's script call (`combine`), so a request's ban and trap reads add no
        command of their own."""
        if not self.split:
            return self._part(combine.GET, [self.prefix + key], [])
        return self.submit("GET", self.prefix + key)

    def set_soon(self, key: str, value: str, ttl: float) -> asyncio.Future[Any]:
        """`set` (with a ttl) queued now (see `submit`)."""
        return self.submit("SET", self.prefix + key, value, "PX", max(1, int(ttl * 1000)))

    async def get_many(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []
        return list(await asyncio.gather(*(self.get(k) for k in keys)))

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        if ttl is None:
            await self.execute("SET", self.prefix + key, value)
        else:
            await self.execute("SET", self.prefix + key, value, "PX", max(1, int(ttl * 1000)))

    async def delete(self, key: str) -> bool:
        return bool(await self.execute("DEL", self.prefix + key))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        if ttl is None:
            return int(await self.execute("INCRBY", self.prefix + key, amount))
        millis = max(1, int(ttl * 1000))
        return int(await self.run_script(scripts.INCR_WITH_TTL, [key], [amount, millis]))

    async def add_distinct(self, key: str, member: str, ttl: float | None = None) -> int:
        millis = 0 if ttl is None else max(1, int(ttl * 1000))
        return int(await self.run_script(scripts.ADD_DISTINCT, [key], [member, millis]))

    async def count_distinct(self, key: str, *others: str) -> int:
        names = [self.prefix + k for k in (key, *others)]
        if self.split and len({keys.tag_of(k) for k in names}) > 1:
            # Cluster refuses a count over slots: the sum (an upper bound of the union)
            counts = await asyncio.gather(*(self.execute("PFCOUNT", k) for k in names))
            return sum(int(c) for c in counts)
        return int(await self.execute("PFCOUNT", *names))

    async def ttl(self, key: str) -> float | None:
        millis = int(await self.execute("PTTL", self.prefix + key))
        return None if millis < 0 else millis / 1000

    async def keys(self, prefix: str, limit: int = 10_000) -> list[str]:
        if not self.breaker.allow():
            raise StoreUnavailable(f"store {self.breaker.name} unavailable (circuit open)")
        pattern = _escape_glob(self.prefix + prefix) + "*"
        found: list[str] = []
        try:
            async with asyncio.timeout(max(self.timeout, 5.0)):
                client = self.client
                if self._exchange is None:  # Cluster: redis-py scans every primary
                    async for key in client.scan_iter(match=pattern, count=1000):
                        found.append(str(key)[len(self.prefix) :])
                        if len(found) >= limit:
                            break
                    return found
                # Off Cluster each SCAN is a command of the store's own batches: through the
                # client's pool a scan waited, between two SCANs, for a connection the store
                # had kept for its batches (a pool of 2, the dashboard's, hung).
                cursor = "0"
                while len(found) < limit:
                    cursor, page = await self.execute(
                        "SCAN", cursor, "MATCH", pattern, "COUNT", 1000
                    )
                    found.extend(str(key)[len(self.prefix) :] for key in page)
                    if str(cursor) == "0":
                        break
                del found[limit:]
        except _UNAVAILABLE as exc:
            self.breaker.record_failure(exc)
            raise self._unavailable(exc) from exc
        return found

    async def append_event(self, data: dict[str, Any]) -> None:
        appended = self.submit(*self.events.append(data))
        if not self._legacy_aged:  # once per store: the stream no store writes any more
            self._legacy_aged = True
            aged = self.submit("EVAL", scripts.AGE_OUT, 1, self.events.legacy, stream.LEGACY_TTL)
            await asyncio.gather(appended, aged)
            return
        await appended

    async def read_events(
        self, since: float | None = None, limit: int = 1000, before: str | None = None
    ) -> list[StoredEvent]:
        """The sources' entries merged in id order (`stream.Merge`): one key off a spreading
        Cluster, the shards and the pre-shard stream on it."""
        return await self.events.read(self.submit, since, limit, before)

    async def ping(self) -> None:
        await self.execute("PING")

    async def aclose(self) -> None:
        """Send what is queued, let every pipeline in flight finish, then close. What a loop
        that has stopped left queued or in flight is dropped, not awaited (`_drop_stale`)."""
        self._drop_stale(asyncio.get_running_loop())
        self._flush()
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        client, self._client = self._client, None
        sentinels, self._sentinels = self._sentinels, None
        exchange, self._exchange = self._exchange, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            if exchange is not None:
                await exchange.release_idle()
            await client.aclose()
            if isinstance(client, aioredis.Redis):
                await client.connection_pool.disconnect()
            if sentinels is not None:
                await sentinels.aclose()


class _Call:
    """Takes one script call's reply and settles its callers' futures there and then (no
    future of its own, no extra turn of the loop); after a server restart or a script flush
    (NOSCRIPT), sends the call once more as EVAL (its source), in the next pipeline."""

    __slots__ = ("args", "replies", "sha", "source", "store")

    def __init__(
        self,
        store: RedisStore,
        replies: list[Receiver],
        sha: str | None,
        source: str,
        args: tuple[Any, ...],
    ) -> None:
        self.store, self.replies, self.sha, self.source = store, replies, sha, source
        self.args = args

    def done(self) -> bool:
        return False  # (each caller's own future says whether it still waits)

    def set_result(self, reply: Any, /) -> None:
        loaded, sha = self.store._loaded, self.sha
        if sha is not None and sha not in loaded:
            if len(loaded) >= 256:  # bounded whatever scripts come and go
                loaded.clear()
            loaded.add(sha)
        combine.settle(self.replies, reply)

    def set_exception(self, error: BaseException, /) -> None:
        store = self.store
        if isinstance(error, NoScriptError) and self.args[0] == "EVALSHA":
            store._loaded.discard(self.args[1])
            tick = store._schedule()
            for reply in self.replies:  # their callers now wait for the next batch
                if isinstance(reply, Soon):
                    reply.moved(tick)
            args = ("EVAL", self.source, *self.args[2:])
            store._queue_call(args, _Call(store, self.replies, self.sha, self.source, args))
        else:
            fail_all(self.replies, error)


def _escape_glob(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
