"""What a detector states to take part in leases (opt-in: a detector without it gets none).

`lease_terms(facts, ctx)` is asked after the detector's own full evaluation of a request that
was allowed with no signal: the `Terms` of a lease, or None (it cannot state a headroom, so no
lease for this request). `headroom` counts the further requests of the same kind and inputs
that cannot make it signal; `until` (epoch seconds) ends the lease sooner (a window's reset);
`state` is the detector's own, handed back to its optional hooks:

- `lease_use(state, facts, ctx, used)`: per leased request (`used` of them so far, this one
  included), e.g. the RateLimit response fields as they would be without the lease; not
  called for a lease whose terms say it has nothing to do (`Terms.uses` False);
- `lease_covers(state, facts) -> bool`: per leased request, for a detector that reads something the
  binding leaves out (the path): False sends the request to a full evaluation;
- `lease_settle(state, records, store)`: account the deferred requests (`records`: each one's
  time and path) in one batch; returns None when done, or an awaitable of the store's reply
  (on Redis a queued command: it joins the next round trip);
- `lease_flush([(state, records), ...], store, facts, ctx)`: before another full evaluation
  of the client (`facts`, `ctx`: its own), every lease of the client holding records, the
  leases going on: hand over the records that evaluation reads (behaviour: an original reads
  no asset count, so its asset leases wait), into the evaluation's own store call (the
  detector's note in `ctx.notes`: one call, not two), in process, or queued ahead of it
  (then an awaitable of the store's reply, which the table reads as a settle's; else None).
  What is not taken now is a later flush's or the settle's (the detector's state says what
  it took);
- `lease_reserve(state, count, store)`: count the lease's requests across workers now (an
  awaitable of whether they were counted; True when the granting request's own hit already
  did, `RESERVE_NOTE`); the settle gives back the unused part;
- `lease_replay(state, facts, used) -> Signal | None | False`: per leased request (`used`
  of them, this one included), before it is counted, of a lease whose terms name a signal in
  `replays`: that signal as a full evaluation of this request would give it (None: it would
  give none; False: it cannot say, so the request is evaluated in full). Pure: it writes
  nothing (the request may still go to a full evaluation), `lease_use` does;
- `lease_keeps(state, facts, ctx) -> bool`: after a full evaluation of another request of
  the client's network (`facts`, `ctx`: its own), whether this lease's headroom still holds.
  A detector without it ends every such lease (the safe answer); `Stateless` keeps.

A lease is granted after an allow whose every signal comes from a detector that declares
`steady_signals` (`Steady`: its signals follow from the bound inputs alone) or is one the
detector lists in `replay_signals` and replays (`Terms.replays`), every other detector
silent; a leased request then gets the grant's decision, reasons and all, each replayed
signal rebuilt and the decision made from them as the policy makes it (docs/leases.md,
"Replayed signals").
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, ClassVar, NamedTuple, Protocol

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.store.base import Store

UNLIMITED = 1 << 30
"""The headroom of a detector that identical inputs can never make signal (stateless)."""

Record = tuple[float, str]
"""One deferred request: its time and path."""


class Terms(NamedTuple):
    """`steady`: no other request can change this headroom, so the table never asks this
    detector's `lease_keeps` for this lease (an asset's count, a request counted at once).
    `replays`: the name of the grant's signal this detector rebuilds per leased request
    (`lease_replay`; the detector lists it in `replay_signals`); `alone`: that signal reads
    counts the client's other requests move, so any other request of the client, leased or
    not, ends this lease (settled) first. `covered`: the detector's `lease_covers` holds for
    every request the lease's key lets in (what it reads there is fixed by the kind and the
    binding), so the lease never asks it (docs/log/architecture.md, "Lease covering, by
    structure"). `uses`: False where the detector's `lease_use` has nothing to do for this
    lease's requests, so the table never calls it (docs/log/architecture.md, "A leased
    page's hooks, asked only with work")."""

    headroom: int
    until: float | None = None
    state: Any = None
    steady: bool = False
    replays: str = ""
    alone: bool = False
    covered: bool = False
    uses: bool = True


RESERVE_NOTE = "lease_reserve"
"""`ctx.notes`: the requests a full evaluation may reserve along, in its own hit, for the lease
it may be granted (set by the lease table where a lease is likely: docs/leases.md)."""
RESERVE_MORE_NOTE = "lease_reserve_more"
"""`ctx.notes`: set where such a hit is queued, a callable adding `count` requests to what it
reserves while it is still queued (False once sent: then nothing is added), for the requests
of the key that wait for that lease (docs/leases.md, "Waiting for the next lease")."""
GIVE_BACK_NOTE = "lease_give_back"
"""`ctx.notes`: a callable giving back such a reservation when no lease took it (the table calls
it after the grant: an awaitable of the store's reply, or None)."""

UNLIMITED_TERMS = Terms(UNLIMITED)
STEADY_TERMS = Terms(UNLIMITED, steady=True)


class Leasable(Protocol):
    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None: ...


class Settles(Protocol):
    def lease_settle(
        self, state: Any, records: Sequence[Record], store: Store
    ) -> Awaitable[Any] | None: ...


def always_keeps(state: Any, facts: Facts, ctx: RequestContext) -> bool:
    """`lease_keeps` of a detector that no other request can change (the table skips it)."""
    return True


class Stateless:
    """A mixin for detectors that read the request alone when silent: the same inputs, the
    same answer. Their signals may still be counted (an unverified bot's claim), so a client
    they signal for gets no lease, unless the detector is `Steady`."""

    lease_keeps = staticmethod(always_keeps)

    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None:
        return UNLIMITED_TERMS


class Steady(Stateless):
    """A mixin for detectors whose signals, too, follow from the bound inputs alone (the
    binding holds every input they read; no count, time, cache expiry or lookup): a client
    they signal for may be leased, each leased request getting the grant's decision
    (`detector.steady_signals`)."""

    steady_signals: ClassVar[bool] = True
