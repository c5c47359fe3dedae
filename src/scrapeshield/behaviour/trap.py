"""Trap paths: disallowed for everyone in robots.txt and linked invisibly, so only a client that
ignores robots.txt and follows links no person can see or reach ever requests one.

A hit is remembered in the store (`trap:{<client>}` with a TTL) so the client's later requests carry
`trap/flagged`; the default policy blocks both by rule, which a challenge pass never lifts. On
Redis the flag is indexed in the same batch (`TRAP_INDEX`), so operators list flags without a
scan; in memory the store's table of flags is their index.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Awaitable, Sequence
from typing import Any

from scrapeshield.detector import Found, Immediate, RequestContext, Sent
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import UNLIMITED_TERMS, Terms
from scrapeshield.signals import Signal
from scrapeshield.store.expiring import index_soon
from scrapeshield.store.keys import TRAP_INDEX, subject_key
from scrapeshield.store.keys import TRAP_PREFIX as TRAP_PREFIX
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore
from scrapeshield.store.soon import Soon

TRAP_HIT = "trap/hit"
TRAP_FLAGGED = "trap/flagged"
WEIGHTS = {TRAP_HIT: 100.0, TRAP_FLAGGED: 100.0}
TRAP_READ_NOTE = "trap_read"
"""On Redis, the behaviour detector's script call that also read this request's trap flag (the
last element of its answer): the trap detector, which runs after it, takes the flag from that
reply instead of sending a read of its own."""


def trap_key(client_key: str) -> str:
    """`trap:{<client key>}`: in the client's Cluster slot."""
    return subject_key(TRAP_PREFIX, client_key)


def is_trap(path: str, trap_paths: Sequence[str]) -> bool:
    """robots.txt semantics: a Disallow path matches every path it prefixes."""
    return any(path.startswith(p) for p in trap_paths)


class TrapDetector(Immediate):
    """`trap/hit` for a trap path; `trap/flagged` for any request from a client that hit one."""

    name = "trap"
    uses_store = True

    def __init__(self, trap_paths: Sequence[str], flag_ttl: float) -> None:
        self._paths = tuple(trap_paths)
        self._ttl = flag_ttl

    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None:
        """The flag is read only; a hit ends the client's leases (it signals), and a trap
        path is never leased (`lease_covers`)."""
        return UNLIMITED_TERMS

    def lease_covers(self, state: object, facts: Facts) -> bool:
        return not is_trap(facts.path, self._paths)

    def lease_keeps(self, state: object, facts: Facts, ctx: RequestContext) -> bool:
        """A trap hit anywhere in the network ends the leases there (flags are read only)."""
        return not is_trap(facts.path, self._paths)

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        """At once on the MemoryStore; on Redis the GET or SET is queued now (`Sent`), in the
        request's one round trip, or the flag is taken from the behaviour detector's script,
        which read it (`TRAP_READ_NOTE`); on any other store, awaited."""
        store = ctx.store
        key = trap_key(facts.client_key)
        if is_trap(facts.path, self._paths):
            path = facts.path[:200]
            hit = (Signal(TRAP_HIT, WEIGHTS[TRAP_HIT], path),)
            if self._ttl <= 0 or ctx.notes.get("dry_run"):
                return hit
            if isinstance(store, MemoryStore):
                store.put(key, path, ttl=self._ttl)
                return hit
            if on_redis(store):
                written = store.set_soon(key, path, self._ttl)  # (and its index entry: one batch)
                indexed = index_soon(
                    store, TRAP_INDEX, [(facts.client_key, time.time() + self._ttl)]
                )
                return Sent(_after(hit, written, indexed))
            return _after(hit, store.set(key, path, ttl=self._ttl))
        if isinstance(store, MemoryStore):
            return self._flagged(store.peek(key))
        if on_redis(store):
            read: Soon[Any] | None = ctx.notes.pop(TRAP_READ_NOTE, None)
            if read is not None:  # (its error, as a read's of its own, fails this detector)
                return read.derived(self._flagged_last)
            return store.queue_get(key, self._flagged)
        return self._flagged_later(store.get(key))

    async def _flagged_later(self, reply: Awaitable[str | None]) -> Sequence[Signal]:
        return self._flagged(await reply)

    @classmethod
    def _flagged_last(cls, reply: Sequence[Any]) -> Sequence[Signal]:
        return cls._flagged(reply[-1])

    @staticmethod
    def _flagged(flagged: str | None) -> Sequence[Signal]:
        if flagged is None:
            return ()
        return (Signal(TRAP_FLAGGED, WEIGHTS[TRAP_FLAGGED], f"hit {flagged}"),)


async def _after(signals: Sequence[Signal], *replies: Awaitable[Any]) -> Sequence[Signal]:
    """`signals` once the writes are answered (so a failed write reaches the shield)."""
    await asyncio.gather(*replies)
    return signals


def trap_link(path: str, text: str = "Full archive") -> str:
    """An `<a>` to a trap path that people never see, reach by keyboard, or hear read out.

    Hidden three ways (the `hidden` attribute, an inline `display:none`, `aria-hidden`), out of the
    tab order, and `rel=nofollow` so well-behaved crawlers that ignore robots.txt caching still
    skip it. Only a client that parses HTML for every href and ignores robots.txt follows it.
    """
    return (
        f'<a href="{html.escape(path, quote=True)}" hidden aria-hidden="true" tabindex="-1" '
        f'rel="nofollow" style="display:none">{html.escape(text)}</a>'
    )
