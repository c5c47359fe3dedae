"""What a detector states to take part in leases (opt-in: a detector without it gets none).

`lease_terms(facts, ctx)` is asked after the detector's own full evaluation of a request that
was allowed with no signal: the `Terms` of a lease, or None (it cannot state a headroom, so no
lease for this request). `headroom` counts the further requests of the same kind and inputs
that cannot make it signal; `until` (epoch seconds) ends the lease sooner (a window's reset);
`state` is the detector's own, handed back to its optional hooks:

- `lease_use(state, facts, ctx, used)`: per leased request (`used` of them so far, this one
  included), e.g. the RateLimit response fields as they would be without the lease;
- `lease_covers(state, facts) -> bool`: per leased request, for a detector that reads something the
  binding leaves out (the path): False sends the request to a full evaluation;
- `lease_settle(state, records, store)`: account the deferred requests (`records`: each one's
  time and path) in one batch; returns None when done, or an awaitable of the store's reply
  (on Redis a queued command: it joins the next round trip).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, NamedTuple, Protocol

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.store.base import Store

UNLIMITED = 1 << 30
"""The headroom of a detector that identical inputs can never make signal (stateless)."""

Record = tuple[float, str]
"""One deferred request: its time and path."""


class Terms(NamedTuple):
    headroom: int
    until: float | None = None
    state: Any = None


UNLIMITED_TERMS = Terms(UNLIMITED)


class Leasable(Protocol):
    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None: ...


class Settles(Protocol):
    def lease_settle(
        self, state: Any, records: Sequence[Record], store: Store
    ) -> Awaitable[Any] | None: ...


class Stateless:
    """A mixin for detectors that read the request alone: the same inputs, the same answer."""

    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None:
        return UNLIMITED_TERMS
