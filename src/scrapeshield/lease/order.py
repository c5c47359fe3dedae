"""One client's requests in flight together, kept in the order they came (docs/leases.md,
"Waiting for the next lease"): what the lease table awaits and what its requests wait for.

On Redis a full evaluation is answered a round trip later, and one client's many connections
(wrk's 32, a busy page's assets) send more meanwhile. A request leased while an earlier one
of its client is evaluated in full, or evaluated in full while an earlier one waits for a
lease, would read counts in another order than without leases. So: while a full evaluation
reserving along for a key's next lease is on its way (`reserving`), every request of that
client waits for its grant; while a lease holder's full evaluation is on its way (`flights`),
a later request whose lease that evaluation may end waits for it; each request keeps its
place (`SEQ_NOTE`) and waits only for earlier ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any, Literal

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.lease.lease import Bindings, Lease, Wakeup, scalars_of
from scrapeshield.lease.protocol import RESERVE_MORE_NOTE, RESERVE_NOTE
from scrapeshield.lease.reservation import SETTLE_TIMEOUT

KEY_NOTE = "lease_key"  # `ctx.notes`: the request's lease key, made once (`Leases.use`)
WAITED_NOTE = "lease_waited"
"""`ctx.notes`: this request waited for its lease's reservation once (never twice)."""
GROW_NOTE = "lease_grow"
"""`ctx.notes`: the requests of the lease this evaluation may be granted, where its client used
up its last lease of this key before its time (twice that one's, at most `max_requests`)."""
SEQ_NOTE = "lease_seq"  # `ctx.notes`: the request's place in the order they came (`Order.place`)
FLIGHT_NOTE = "lease_flight"  # `ctx.notes`: this full evaluation of a lease holder's (`flight`)
RESERVING_NOTE = "lease_reserving"  # `ctx.notes`: this evaluation reserves along (`reserve`)


class Awaited(Wakeup):
    """A full evaluation on its way: until when it is waited for (monotonic), its notes,
    whether the client's requests wait for it (a grant is likely), and its request's place;
    reserving along, its key and its request's header set and other bound inputs, by which a
    request of that key is found without a binding built and hashed (as `Leases.use` finds a
    lease)."""

    __slots__ = ("awaited", "headers", "key", "notes", "scalars", "seq")

    def __init__(
        self, until: float, notes: dict[str, Any], awaited: bool, seq: int, key: Any = None,
        facts: Facts | None = None,
    ) -> None:  # fmt: skip
        super().__init__(until)
        self.notes, self.awaited, self.seq, self.key = notes, awaited, seq, key
        self.headers = None if facts is None else facts.headers
        self.scalars = () if facts is None else scalars_of(facts)


class Order:
    """The full evaluations on their way that a client's later requests wait for; bounded
    (`max_clients` clients each, at most `max_keys` keys reserving along per client)."""

    def __init__(self, max_clients: int, max_keys: int, bindings: Bindings | None = None) -> None:
        self.reserving: dict[str, dict[Any, Awaited]] = {}  # by client and key
        self.flights: dict[str, Awaited] = {}  # each lease holder's latest full evaluation
        self._seq = 0  # requests placed so far
        self._max_clients, self._max_keys = max_clients, max_keys
        self._binding = Bindings() if bindings is None else bindings  # (the table's: shared)

    def place(self, ctx: RequestContext) -> int:
        """The request's place in the order they came, kept from its first ask."""
        self._seq += 1
        seq: int = ctx.notes.setdefault(SEQ_NOTE, self._seq)
        return seq

    def successor(
        self, facts: Facts, kind: Any, ctx: RequestContext
    ) -> asyncio.Future[None] | Literal[False]:
        """A request of a client whose next lease of a key is on its way (a full evaluation
        reserving along for it, `reserve`): it waits for that evaluation's grant, once (one
        round trip, which its own full evaluation's call would take), then is leased or
        evaluated in full. Every request of the client meanwhile waits, whatever its key, so
        each is leased or evaluated after those that came before it, on counts that include
        them; one of that key is counted into the grant's reservation while its hit is
        queued. False: nothing on its way (or it waited once): as without."""
        if ctx.notes.get(WAITED_NOTE):
            return False
        keys, now, latest, coming = self.reserving[facts.client_key], time.monotonic(), None, None
        headers, scalars = facts.headers, None
        for found in keys.values():  # (the latest awaited: no list of them per waiter)
            if found.awaited and found.until > now:
                latest = found
                if found.headers is headers and found.key[0] == kind:  # (its header set)
                    scalars = scalars_of(facts) if scalars is None else scalars
                    coming = found if found.scalars == scalars else coming
        if latest is None:
            return False
        if coming is None:  # not by its header set: by its binding
            key = ctx.notes[KEY_NOTE] = (kind, self._binding(facts))
            coming = keys.get(key)
            if coming is None or not coming.awaited or coming.until <= now:  # another key's
                return latest.waiting()
        ctx.notes[KEY_NOTE] = coming.key
        # counted into its hit while that is still queued: older than its ban read, and in
        # flight already (each holds more memory than its record), so past `max_requests`
        notes = coming.notes
        more = notes.get(RESERVE_MORE_NOTE)
        if more is not None and more(1):
            notes[RESERVE_NOTE] = notes[GROW_NOTE] = notes[RESERVE_NOTE] + 1
        return coming.waiting()

    def reserves(self, client_key: str, key: Any) -> bool:
        """Whether a full evaluation reserving along for this key's next lease is on its way."""
        keys = self.reserving.get(client_key)
        coming = keys.get(key) if keys is not None else None
        return coming is not None and coming.until > time.monotonic()

    def reserve(
        self, client_key: str, key: Any, ctx: RequestContext, awaited: bool,
        facts: Facts | None = None,
    ) -> bool:  # fmt: skip
        """This full evaluation reserves along for its key's next lease (False: another does
        already); `awaited`: the client's requests wait for its grant; `facts`: its request's
        (a request of the same header set found by it)."""
        if self.reserves(client_key, key):
            return False
        keys = self.reserving.get(client_key)
        if keys is None:
            if len(self.reserving) >= self._max_clients:  # (clients choose keys: bounded)
                for stale in self.reserving.values():
                    _wake(stale)
                self.reserving.clear()
            keys = self.reserving[client_key] = {}
        elif len(keys) >= self._max_keys:
            _wake(keys)
            keys.clear()
        seq = ctx.notes.get(SEQ_NOTE, 0)
        keys[key] = Awaited(time.monotonic() + SETTLE_TIMEOUT, ctx.notes, awaited, seq, key, facts)
        ctx.notes[RESERVING_NOTE] = (client_key, key)
        return True

    def flight(self, client_key: str, ctx: RequestContext) -> Literal[False]:
        """A full evaluation of a lease holder follows (False): until it is judged, its
        client's later requests whose lease it may end (`alone`, or asked whether it keeps)
        wait for it, so each is leased after it as it came after it."""
        if len(self.flights) >= self._max_clients:  # (bounded: woken, forgotten)
            _wake(self.flights)
            self.flights.clear()
        until = time.monotonic() + SETTLE_TIMEOUT  # (one never judged, e.g. failed: forgotten)
        flight = self.flights[client_key] = Awaited(until, ctx.notes, True, ctx.notes[SEQ_NOTE])
        ctx.notes[FLIGHT_NOTE] = flight
        return False

    def before(self, client_key: str, ctx: RequestContext) -> Awaited | None:
        """A lease holder's full evaluation on its way from an earlier request, if any."""
        flight = self.flights.get(client_key)
        if flight is None or flight.seq >= ctx.notes[SEQ_NOTE]:
            return None
        return flight if flight.until > time.monotonic() else None

    def judged(self, client_key: str, ctx: RequestContext) -> Awaited | None:
        """A full evaluation answered: the requests waiting for it as a lease holder's go on
        now; if it reserved along, it is no longer on its way (the requests waiting for its
        grant are the caller's to wake, after the grant: returned)."""
        if (flight := ctx.notes.get(FLIGHT_NOTE)) is not None:
            if self.flights.get(client_key) is flight:
                del self.flights[client_key]
            flight.wake()
        if (reserving := ctx.notes.get(RESERVING_NOTE)) is None:
            return None
        keys = self.reserving.get(reserving[0])
        if keys is None:
            return None
        coming = keys.pop(reserving[1], None)
        if not keys:
            del self.reserving[reserving[0]]
        return coming


def pending(leases: Iterable[Lease], ctx: RequestContext) -> asyncio.Future[None] | None:
    """What a request of a client holding a lease not counted yet (its reservation on its
    way) waits for, whatever its key, so that it comes after that lease's requests; None: it
    waited once already, or none is pending."""
    if not ctx.notes.get(WAITED_NOTE):
        for lease in leases:
            if lease.pending and lease.ready is not None:
                return lease.ready.waiting()
    return None


def _wake(found: dict[Any, Awaited]) -> None:
    for coming in found.values():
        coming.wake()
