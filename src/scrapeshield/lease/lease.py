"""One lease and what it is bound to: the inputs a detector reads, and each detector's hooks.

A lease is keyed by client, kind (method, route group, marked route) and binding, so a
person's stylesheet and script (one kind, two header sets) each hold one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import UNLIMITED, Record, Terms, always_keeps
from scrapeshield.signals import CHALLENGE_PASSED, Decision, Signal
from scrapeshield.store.base import Store

if TYPE_CHECKING:
    from scrapeshield.detection import Runs

Use = Callable[[Any, Facts, RequestContext, int], None]
Covers = Callable[[Any, Facts], bool]
Keeps = Callable[[Any, Facts, RequestContext], bool]
Settle = Callable[[Any, Sequence[Record], Store], "Awaitable[Any] | None"]
Flush = Callable[
    [Sequence[tuple[Any, Sequence[Record]]], Store, Facts, RequestContext], "Awaitable[Any] | None"
]
Reserve = Callable[[Any, int, Store], "Awaitable[bool] | bool | None"]
TermsOf = Callable[[Facts, RequestContext], "Terms | None"]
Replay = Callable[[Any, Facts, int], "Signal | Literal[False] | None"]


class Hooks:
    """A detector's lease methods, found once per plan (`hooks_of`)."""

    __slots__ = ("covers", "flush", "keeps", "replay", "reserve", "settle", "terms", "use")

    def __init__(self, detector: object, terms: TermsOf) -> None:
        self.terms = terms
        self.use: Use | None = getattr(detector, "lease_use", None)
        self.covers: Covers | None = getattr(detector, "lease_covers", None)
        self.settle: Settle | None = getattr(detector, "lease_settle", None)
        self.flush: Flush | None = getattr(detector, "lease_flush", None)
        self.reserve: Reserve | None = getattr(detector, "lease_reserve", None)
        self.replay: Replay | None = getattr(detector, "lease_replay", None)
        keeps = getattr(detector, "lease_keeps", None)
        # none: another evaluation of the network ends the lease (the safe answer); always: skip
        self.keeps: Keeps | None = (
            _ends if keeps is None else None if keeps is always_keeps else keeps
        )


def _ends(state: Any, facts: Facts, ctx: RequestContext) -> bool:
    return False


def hooks_of(runs: Runs) -> list[Hooks] | None:
    """Each detector's lease methods; None when one has none (no lease for this plan)."""
    hooks = []
    for detector, _ in runs.entries:
        terms = getattr(detector, "lease_terms", None)
        if terms is None:
            return None
        hooks.append(Hooks(detector, terms))
    return hooks


def binding(facts: Facts) -> tuple[Any, ...]:
    """Every input a detector reads that can differ between two requests of one client of one
    kind, except the path (per-detector `lease_covers`), the time and the request id (recorded
    or irrelevant), the query (read only by Web Bot Auth for a signed request, which gets no
    lease) and the Referer's value (read only for an original, which gets no lease; its name,
    as every field's, is bound: the order of the names is read). tests/lease/
    test_lease_binding.py fails when a detector reads anything else."""
    return (*scalars_of(facts), *_bound_headers(facts.headers))


def _bound_headers(headers: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The binding's header names, and their values but the Referer's."""
    names, values = tuple(headers), tuple(headers.values())
    if UNBOUND in headers:
        at = names.index(UNBOUND)
        values = values[:at] + values[at + 1 :]
    return names, values


def scalars_of(facts: Facts) -> tuple[Any, ...]:
    """The binding's inputs but the header names and values."""
    return (
        facts.client_ip,
        facts.peer,
        facts.scheme,
        facts.http_version,
        facts.host,
        facts.secure_context,
        facts.via_proxy,
        facts.user_agent,
        facts.user_agent_truncated,
    )


UNBOUND = "referer"
"""The field whose value the binding leaves out (its name and place are bound)."""
_MAX_BOUND = 1024


class Bindings:
    """`binding`, kept per header set: a repeated request's facts share their headers dict
    (`FactsBuilder`'s memo), so its binding is found and its other inputs compared, rather than
    its tuples of every header name and value built again (~4% of a leased page's
    instructions: docs/log/architecture.md, "A leased request's own cost"). Bounded: cleared
    when full (each entry holds its dict, so no other takes its id meanwhile)."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: dict[int, tuple[Mapping[str, str], tuple[Any, ...], tuple[Any, ...]]] = {}

    def __call__(self, facts: Facts) -> tuple[Any, ...]:
        headers = facts.headers
        found = self._kept.get(id(headers))
        scalars = scalars_of(facts)
        if found is not None and found[0] is headers and found[1] == scalars:
            return found[2]
        bound = (*scalars, *_bound_headers(headers))
        if len(self._kept) >= _MAX_BOUND:
            self._kept.clear()
        self._kept[id(headers)] = (headers, scalars, bound)
        return bound


class Wakeup:
    """What the requests waiting for one thing (a grant, a reservation, a full evaluation) wait
    for: a future each (a waiter cancelled cancels only its own), woken together, with one
    timer for all of them at the thing's deadline `until` (monotonic), made when the first
    waits, rather than a timer, a future and a coroutine apiece (`asyncio.wait`: ~31 per lease
    turnover on Redis, docs/log/architecture.md, "A lease's turnover"). A request that comes
    after the deadline (or the wake) is not held."""

    __slots__ = ("_timer", "_waiters", "until", "woken")

    def __init__(self, until: float) -> None:
        self.until, self.woken = until, False
        self._waiters: list[asyncio.Future[None]] | None = None  # (most have none: made then)
        self._timer: asyncio.TimerHandle | None = None

    def waiting(self) -> asyncio.Future[None]:
        """What one more request waiting for it waits for (done at once past its deadline)."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if self.woken or (left := self.until - time.monotonic()) <= 0:
            waiter.set_result(None)
            return waiter
        if self._waiters is None:
            self._timer, self._waiters = loop.call_later(left, self._expire), [waiter]
        else:
            self._waiters.append(waiter)
        return waiter

    def wake(self) -> None:
        """The requests waiting for it go on (leased, or in full)."""
        self.woken = True
        self._release()

    def _expire(self) -> None:
        """Its timer: the deadline has come by the loop's clock, which may run a little ahead
        of `time.monotonic` (uvloop's is libuv's, in milliseconds), so it is `until` from now
        on: a request that comes after its waiters were released is not held either."""
        self.until = min(self.until, time.monotonic())
        self._release()

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiters, self._waiters = self._waiters or (), None
        for waiter in waiters:
            if not waiter.done():  # (cancelled: its request is gone)
                waiter.set_result(None)


class Lease:
    """`pending` while a reservation (docs/leases.md, across workers) is on its way: not used
    until the store has counted it; `ended` when it was settled meanwhile (the reservation is
    then given back whole when it lands). `records` (at most `lease.requests`): every leased
    request (each detector's state says how many it has taken: `lease_flush`).
    `decision`: the grant's, which each leased request gets (its action, rule, score and
    reasons: a full evaluation's, the inputs being bound and every reason steady), but for
    the signals in `replays` (each its detector's replay, its state and the signal's place in
    the grant's reasons), rebuilt per leased request; `alone`: any other request of the
    client ends this lease (a replayed signal reads counts it may move)."""

    __slots__ = (
        "alone",
        "cap",
        "covers",
        "decision",
        "ended",
        "flushes",
        "headers",
        "keeps",
        "key",
        "left",
        "pending",
        "plain",
        "ready",
        "records",
        "releases",
        "replays",
        "scalars",
        "settles",
        "size",
        "until",
        "uses",
    )

    def __init__(self, left: int, until: float, decision: Decision) -> None:
        self.left, self.until, self.decision = left, until, decision
        self.size = left  # the requests it was granted at most (before any detector's headroom)
        self.cap = UNLIMITED  # the headroom of the detectors that do not reserve (`refresh`)
        self.uses: list[tuple[Use, Any]] = []
        self.covers: list[tuple[Covers, Any]] = []
        self.keeps: list[tuple[Keeps, Any]] = []
        self.settles: list[tuple[Settle, Any]] = []
        self.flushes: list[tuple[Flush, Any]] = []
        self.records: list[Record] = []
        self.pending = self.ended = False
        self.ready: Wakeup | None = None  # woken when the reservation landed
        self.releases: list[tuple[Settle, Any]] = []  # the settles that give a reservation back
        self.replays: list[tuple[Replay, Any, int]] = []
        self.alone = False
        self.key: tuple[Any, ...] = ()  # its key in its client's leases (`Leases.grant`)
        # the header set and other bound inputs (`scalars_of`) of the last request that matched
        # its key: the next request of that set is matched by them (`Leases.use`)
        self.headers: Mapping[str, str] | None = None
        self.scalars: tuple[Any, ...] = ()
        # the grant's verdict holds for a replayed signal of the same weight (no challenge pass,
        # which rewrites the details of the signals it answers): `replay.replayed`
        self.plain = all(s.name != CHALLENGE_PASSED for s in decision.reasons)

    def take(self, hook: Hooks, terms: Terms) -> None:
        """A detector's hooks, with the state its terms gave (`steady`: never asked whether
        it keeps the lease; `uses` False: its `lease_use` never called)."""
        state = terms.state
        if hook.use is not None and terms.uses:
            self.uses.append((hook.use, state))
        if hook.covers is not None and not terms.covered:
            self.covers.append((hook.covers, state))
        if hook.keeps is not None and not terms.steady:
            self.keeps.append((hook.keeps, state))
        if hook.settle is not None:
            self.settles.append((hook.settle, state))
        if hook.flush is not None:
            self.flushes.append((hook.flush, state))
        if terms.alone:
            self.alone = True

    def replaying(self, hook: Hooks, terms: Terms) -> bool:
        """Rebuild the grant's signal its terms name (`replays`) per leased request; False when
        the detector cannot (no `lease_replay`) or the grant gave no such signal."""
        at = next((i for i, s in enumerate(self.decision.reasons) if s.name == terms.replays), -1)
        if hook.replay is None or at < 0:
            return False
        self.replays.append((hook.replay, terms.state, at))
        return True

    def covering(self, facts: Facts) -> bool:
        """Whether the lease is live for this request (its binding matched by the key), each
        path-reading detector covering it (a loop: `all` of a generator cost a leased page
        ~1k instructions; a detector whose answer the key fixes is not asked: `Terms.covered`)."""
        if not self.left or facts.time >= self.until:
            return False
        for covers, state in self.covers:  # noqa: SIM110 (no generator per request)
            if not covers(state, facts):
                return False
        return True

    def live(self, facts: Facts) -> bool:
        """Whether it still has requests and time left (its paths aside)."""
        return self.left > 0 and facts.time < self.until

    def unused(self) -> bool:
        """Whether it has leased nothing yet (pending, or just counted): a full evaluation of
        its key in flight with its grant refreshes it (`reservation.refresh`)."""
        return self.pending or not self.records

    def kept(self, facts: Facts, ctx: RequestContext) -> bool:
        """After another full evaluation in the client's network: still exact."""
        return all(keeps(state, facts, ctx) for keeps, state in self.keeps)
