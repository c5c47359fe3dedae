"""Bans: a client key shut out for a duration, from escalation, Python or the CLI."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from functools import partial

from scrapeshield.store.base import Store
from scrapeshield.store.expiring import LIST_LIMIT as LIST_LIMIT
from scrapeshield.store.expiring import PAGE as PAGE
from scrapeshield.store.expiring import Entry, ExpiringIndex

# the ban key is defined with the stores (they keep bans apart); named here too, where bans are
from scrapeshield.store.keys import BAN_INDEX
from scrapeshield.store.keys import BAN_PREFIX as BAN_PREFIX
from scrapeshield.store.keys import ban_key as ban_key
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore

UNKNOWN_CLIENT = "unknown"  # the client key when the server reports no peer address
logger = logging.getLogger("scrapeshield")


@dataclass(frozen=True, slots=True)
class Ban:
    client_key: str
    until: float
    reason: str = ""
    rule: str = "ban/manual"
    created: float = 0.0

    @property
    def remaining(self) -> float:
        return max(0.0, self.until - time.time())

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, client_key: str, raw: str) -> Ban:
        try:
            data = json.loads(raw)
            return cls(
                client_key=client_key,
                until=float(data.get("until", 0)),
                reason=str(data.get("reason", "")),
                rule=str(data.get("rule", "ban/manual")),
                created=float(data.get("created", 0)),
            )
        except (ValueError, TypeError, AttributeError):
            return cls(
                client_key=client_key, until=time.time() + 60, reason="unreadable ban record"
            )


class BanList:
    """Bans kept in the store (so every worker sharing it enforces them) under `ban:{<key>}`,
    listed from an index (`store.expiring`): on Redis a sorted set of client keys by ban end
    (`BAN_INDEX`, written with each ban and unban), in memory the store's bans' table; never a
    scan of the keyspace (`scan` is the one-off for bans written before the index)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.index = ExpiringIndex(store, BAN_PREFIX, BAN_INDEX, _until_of)
        # a client's ban record read at once (the memory store: nothing waits there), truthy
        # when banned, for a leased request (one call, where `lookup` was three); None: none
        self.peek: Callable[[str], str | None] | None = (
            store.peek_ban if isinstance(store, MemoryStore) else None
        )

    async def ban(
        self, client_key: str, duration: float, *, reason: str = "", rule: str = "ban/manual"
    ) -> Ban:
        if duration <= 0:
            raise ValueError("ban duration must be positive")
        now = time.time()
        if client_key == UNKNOWN_CLIENT:
            # No address (a proxy on a Unix socket not listed in trusted_proxies): this key is
            # everyone at once, and banning it would shut the whole site. Report, never store.
            logger.warning(
                "not banning client key %r (%s): requests arrive without a client address; "
                'add "unix" to trusted_proxies if a proxy connects over a Unix socket',
                client_key,
                rule,
            )
            return Ban(client_key, now, reason, rule, now)
        ban = Ban(client_key, now + duration, reason, rule, now)
        written = self.store.set(ban_key(client_key), ban.to_json(), ttl=duration)
        indexed = self.index.add_soon([(client_key, ban.until)])  # (both in one batch)
        await (asyncio.gather(written, indexed) if indexed is not None else written)
        return ban

    async def unban(self, client_key: str) -> bool:
        return await self.index.lift(client_key)

    async def get(self, client_key: str) -> Ban | None:
        return await self.get_soon(client_key)

    def lookup(self, client_key: str) -> Ban | Awaitable[Ban | None] | None:
        """The request's ban read: at once on the MemoryStore (nothing waits there), else
        queued now so that it joins the request's one round trip (on Redis a `Soon`)."""
        store = self.store
        if isinstance(store, MemoryStore):
            raw = store.peek_ban(client_key)
            return Ban.from_json(client_key, raw) if raw else None
        if on_redis(store):
            return store.queue_get(ban_key(client_key), partial(ban_of, client_key))
        return self.get_soon(client_key)

    def get_soon(self, client_key: str) -> Awaitable[Ban | None]:
        """`get`, its read queued now on Redis (`submit`): await the ban."""
        store, key = self.store, ban_key(client_key)
        reply = store.get_soon(key) if on_redis(store) else store.get(key)
        return _ban_from(client_key, reply)

    async def page(self, after: Ban | None = None, count: int = PAGE) -> list[Ban]:
        """Up to `count` active bans ending after `after` (the last of the previous page),
        soonest to end first (`ExpiringIndex.page`)."""
        cursor = None if after is None else (after.until, after.client_key)
        return [_ban(e) for e in await self.index.page(cursor, count)]

    async def active(self, limit: int = LIST_LIMIT) -> list[Ban]:
        """Active bans, soonest to end first, at most `limit` of them (read `PAGE` at a time)."""
        return [_ban(e) for e in await self.index.entries(limit)]

    async def count(self) -> int:
        """How many bans are active (on Redis, the index's entries not yet expired)."""
        return await self.index.count()

    async def scan(self, limit: int = LIST_LIMIT) -> list[Ban]:
        """The one-off for bans written before the index (an earlier version): scan the
        keyspace for them (every primary on Cluster: seconds on a large site), add each to the
        index, and return them all, soonest to end first. `scrapeshield bans --scan`."""
        return [_ban(e) for e in await self.index.scan(limit)]


def _ban(entry: Entry) -> Ban:
    return Ban.from_json(entry.subject, entry.value)


def _until_of(raw: str, expiry: float | None) -> float:
    """When a ban ends, as `ban` indexed it: its record says."""
    return Ban.from_json("", raw).until


async def _ban_from(client_key: str, reply: Awaitable[str | None]) -> Ban | None:
    return ban_of(client_key, await reply)


def ban_of(client_key: str, raw: str | None) -> Ban | None:
    """The ban a stored value records, or None (no value)."""
    return Ban.from_json(client_key, raw) if raw else None
