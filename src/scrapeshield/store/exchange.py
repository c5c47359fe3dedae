"""A tick's commands sent on one of redis-py's own connections, without a Pipeline object.

The store sends one batch per event-loop tick, and under light load a tick carries one request,
so what a batch costs apart from its commands is paid per request. Through redis-py's `Pipeline`
that was most of the store's client CPU (measured in `benchmarks/bench_store_client.py`, one
request at a time): a pipeline object per batch, a connection checked out of the pool and back
(a condition, a lock, a timeout and pool metrics each way) and a timer per send and per read.
So the store keeps the connections it has used (checked out of the pool, which still bounds
them) and talks to one with redis-py's public connection calls: `pack_commands` (hiredis, see
`packing`), `send_packed_command`, one `read_response` per command, under the connection's own
`Retry` (a connection the server closed is replaced once). The store's deadline bounds the whole
exchange, so the connections carry no socket timeout of their own.

A batch that fails or is cancelled part-way leaves its connection in an unknown state: it is
disconnected and handed back to the pool, never reused as it is. When every connection the pool
allows is out and a batch waits for one, a finished batch hands its connection to the pool
instead of keeping it (kept, the waiting batch would wait out its deadline). Nothing else takes
connections from that pool while the store runs (`RedisStore.keys` scans with the store's own
batches), so the connections kept here can never starve it.

Batches reach Redis in the order the store sent them: one that must wait for a connection
(the pool's, a new one connecting) is written before any later one. Without that, a lease's
settle (a leased request's only command) could be overtaken by the client's next full
evaluation, which then read counts short by the lease's requests (docs/log/store.md, "Batches
in order"). The one exception: a batch re-sent on a fresh connection after the server closed
its kept one is written again after the batches sent meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ResponseError


class Exchange:
    """Batches on the connections of one redis-py pool (one event loop's)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self._idle: list[AbstractConnection] = []  # used, healthy, not in the pool's free list
        self._waiting = 0  # batches waiting for the pool to give them a connection
        self._handing_back: set[asyncio.Task[None]] = set()  # (kept until done: not collected)
        self._unwritten: asyncio.Future[None] | None = None  # the last batch yet to write

    async def run(self, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Each command's reply in order, an error reply as its `ResponseError` (it fails only
        that command); raises if the batch as a whole failed. Written after every batch run
        before it: at once on a kept connection when none is still to write (nothing can
        come between), else in turn (`_unwritten`)."""
        ahead = self._unwritten
        written: asyncio.Future[None] | None = None
        if ahead is None and self._idle and self._idle[-1].is_connected:
            connection = self._idle.pop()
        else:
            written = self._unwritten = asyncio.get_running_loop().create_future()
            try:
                connection = await self._connection(ahead)
            except BaseException:
                self._written(written)
                raise
        try:
            replies = await connection.retry.call_with_retry(
                lambda: _exchange(connection, commands, written),
                lambda _: connection.disconnect(),
            )
        except BaseException:
            self._hand_back(connection, disconnect=True)
            raise
        finally:
            if written is not None:
                self._written(written)
        if self._waiting:  # a batch awaits the pool: this one goes there (it may need it)
            self._hand_back(connection, disconnect=False)
        else:
            self._idle.append(connection)
        return replies

    async def _connection(self, ahead: asyncio.Future[None] | None) -> AbstractConnection:
        """A connection for a batch that must wait: once the batch before it has written
        (`ahead`: waited for, never cancelled, as later batches wait on it too)."""
        if ahead is not None:
            await asyncio.wait((ahead,))
        if self._idle:
            return self._idle.pop()
        self._waiting += 1
        try:  # (redis-py < 8.2 leaves it untyped)
            connection: AbstractConnection = await self.pool.get_connection()  # type: ignore[no-untyped-call,unused-ignore]
        finally:
            self._waiting -= 1
        return connection

    def _written(self, written: asyncio.Future[None]) -> None:
        """The batch has written, or never will (failed first): the next may write."""
        if not written.done():
            written.set_result(None)
        if self._unwritten is written:
            self._unwritten = None

    def _hand_back(self, connection: AbstractConnection, disconnect: bool) -> None:
        """Return to the pool (disconnected first if its state is unknown), in a task of its
        own: safe while the caller is cancelled, so the pool never loses a connection."""
        task = asyncio.get_running_loop().create_task(self._release(connection, disconnect))
        self._handing_back.add(task)
        task.add_done_callback(self._handing_back.discard)

    async def _release(self, connection: AbstractConnection, disconnect: bool) -> None:
        try:
            if disconnect:
                await connection.disconnect(nowait=True)
        finally:
            await self.pool.release(connection)

    async def release_idle(self) -> None:
        """Hand every kept connection back to the pool, before closing."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await self._release(connection, False)
        if self._handing_back:
            await asyncio.gather(*self._handing_back, return_exceptions=True)


async def _exchange(
    connection: AbstractConnection,
    commands: Sequence[tuple[Any, ...]],
    written: asyncio.Future[None] | None = None,
) -> list[Any]:
    await connection.send_packed_command(connection.pack_commands(commands), check_health=False)
    if written is not None and not written.done():  # (the next batch may write now)
        written.set_result(None)
    replies: list[Any] = []
    for _ in commands:
        try:
            replies.append(await connection.read_response())
        except ResponseError as error:  # (read whole: the next reply follows it)
            replies.append(error)
    return replies
