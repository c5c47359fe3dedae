"""The detector seam: small objects that read `Facts` (and the store) and yield `Signal`s.

Adding a detector never touches the middleware: it is listed in `build_detectors`. Detectors
that touch the store set `uses_store = True`; they run concurrently so their store commands share
one round trip. A detector may also offer `detect_now` (see `Immediate`): on the MemoryStore,
where nothing waits, the shield calls it and awaits only what it hands back unfinished.
A detector that raises yields no signals (logged), or with `fail_mode="closed"` fails the
request closed (503); one whose store is unavailable marks the request so fail-closed mode can
act on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Sequence
from typing import Any, Protocol, TypeGuard

import msgspec

from scrapeshield.facts import Facts
from scrapeshield.signals import Signal
from scrapeshield.store.base import Store
from scrapeshield.store.soon import Soon


class RequestContext(msgspec.Struct):
    """Per-request scratch space shared by the stages (never stored on the middleware)."""

    store: Store
    response_headers: list[tuple[bytes, bytes]] = msgspec.field(default_factory=list)
    store_failed: bool = False
    notes: dict[str, Any] = msgspec.field(default_factory=dict)
    banned: bool | None = None
    """Whether the ban phase found a ban, once it has run (before the store detectors on the
    memory store; None while unknown, e.g. on Redis, where they run concurrently)."""
    ban_read: Soon[Any] | None = None
    """The client's ban as a detector's store call reads it (on Redis the rate limiter's
    script reads the ban key): the ban phase takes this answer rather than a read of its own."""
    app_headers: list[tuple[bytes, bytes]] | None = None
    """Fields for the app's response only, never for one the shield answers itself (the visitor
    token: issued with pages, not with refusals or challenges)."""


class Detector(Protocol):
    name: str
    uses_store: bool

    async def detect(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]: ...


UNSTEADY_NOTE = "unsteady_signal"
"""`ctx.notes`: a detector that does not declare `steady_signals` signalled on this request (set
by the detection loop), so its allow is not leased (docs/leases.md)."""
REPLAY_NOTE = "replayed_signals"
"""`ctx.notes`: the signals given on this request by detectors that may replay some
(`replay_signals`), as (detector, signals) pairs, read by name only where a lease may be granted
(`replayed_names`): with leases off a flagged request pays one append, not the check."""
_NAMES_NOTE = "replayed_names"  # `replayed_names`' answer, once worked out


def signalled(detector: object, ctx: RequestContext, found: Sequence[Signal]) -> None:
    """A detector gave signals (`found`): noted unless it declares them steady
    (`steady_signals`: they follow from the lease's bound inputs alone, `lease.protocol.Steady`);
    a detector that may replay some of its signals (`replay_signals`) has them noted for the
    grant to check (`REPLAY_NOTE`)."""
    if getattr(detector, "steady_signals", False) is True:
        return
    if getattr(detector, "replay_signals", None) is None:
        ctx.notes[UNSTEADY_NOTE] = True
    else:
        ctx.notes.setdefault(REPLAY_NOTE, []).append((detector, found))


def replayed_names(ctx: RequestContext) -> frozenset[str] | None:
    """The names of this request's signals noted in `REPLAY_NOTE` (empty: none), or None when
    one of them is not among its detector's `replay_signals` (then the request is as unsteady
    as any other detector's signal makes it: not leased). Worked out once a request."""
    notes = ctx.notes
    if _NAMES_NOTE in notes:
        known: frozenset[str] | None = notes[_NAMES_NOTE]
        return known
    names: set[str] = set()
    for detector, signals in notes.get(REPLAY_NOTE, ()):
        for signal in signals:
            if signal.name not in detector.replay_signals:
                notes[_NAMES_NOTE] = None
                return None
            names.add(signal.name)
    notes[_NAMES_NOTE] = found = frozenset(names)
    return found


Found = Sequence[Signal] | Awaitable[Sequence[Signal]] | Soon[Any]
"""What `detect_now` returns: the signals, or an awaitable of them when it must wait: on Redis
a `Soon` of them (its command queued; its reply becomes the signals, which may themselves be
awaitable, when the tick's batch has settled: `detection.Pending`)."""


def settled(found: Found) -> TypeGuard[Sequence[Signal]]:
    """True when `found` is the signals themselves (detectors return tuples or lists)."""
    return type(found) is tuple or type(found) is list  # (not isinstance: 3.8-4.1k on Redis)


class Sent:
    """An awaitable whose store commands are already queued (`RedisStore.submit`): the shield
    awaits it in turn, without a task of its own. Any other awaitable a store-using detector
    hands back gets a task, so that its commands still join the request's one round trip.
    (The built-in detectors hand back a `Soon` on one Redis server instead: no coroutine.)"""

    __slots__ = ("_awaitable",)

    def __init__(self, awaitable: Awaitable[Sequence[Signal]]) -> None:
        self._awaitable = awaitable

    def __await__(self) -> Generator[Any, None, Sequence[Signal]]:
        return self._awaitable.__await__()


class Immediate:
    """Base for detectors that can usually answer without waiting.

    A subclass writes `detect_now`, which returns its signals, or, when it must wait (a store
    that is not in memory, a DNS lookup), an awaitable of them: the work is done once either
    way. `detect` follows from it. The shield calls `detect_now` on its sequential path, which
    saves a coroutine per detector (this runs on every request).
    """

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        raise NotImplementedError

    async def detect(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        found: Any = self.detect_now(facts, ctx)
        while not settled(found):  # (a `Soon`'s signals may be awaitable in turn)
            found = await found
        return found
