"""A leased page of a client without a token while issuance is limited (docs/leases.md,
"Replayed signals"), on the memory store.

Such a page's full evaluation reads the budgets (under half at the grant, and kept so by
`lease_keeps`), adds the client to its fingerprint's pool (a set member: its repeats add
nothing) and increments the three issuance counters (address, network, fingerprint), whose
list of scopes past their limits is the signal's detail. A leased page makes no pool add (a
repeat), and increments at once only the counters still under their limits at the grant
(`count`): the next page's detail, and every other client's, reads them exactly. A counter
past its limit at the grant stays so within its window (counters only rise, and the lease ends
at its turn), so every read of it by another client tells the same (past it) whether or not
this lease's pages are in it: their increments are deferred (`hand_over_now`), one `bump_kept`
per counter at the client's next full evaluation (an original's `identity/amnesia` detail
counts the address's, the client's own) and at the settle, so a store holds up to one lease's
pages less in a counter that no decision reads but as past its limit (~32k instructions of a
leased page, docs/log/architecture.md 2026-12-07). Its signal is rebuilt from the counters as
they stand (`over`), before it is counted. The lease ends at the issuance window's and the
pool window's turn (new counters).

On Redis (`Deferred`) a read or a write per leased page would cost the round trip a lease
removes, so such a page is leased only once every counter is past its limit (the detail cannot
change within the window: the counters only rise) and the pool under half its threshold; its
pool is read per leased page from what this worker's evaluations read of it (`Pools`: only a
full evaluation adds to it); its increments are deferred, handed over before any other full
evaluation of the client in the tick's call (an original's amnesia detail counts the address's
tokens) and at the settle, in one call per counter (`INCRBY`, its TTL set if new).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Literal

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts
from scrapeshield.identity.plan import Plan
from scrapeshield.identity.settings import RotatingPoolSettings
from scrapeshield.lease.protocol import UNLIMITED, Record, Terms
from scrapeshield.signals import Signal
from scrapeshield.store import scripts
from scrapeshield.store.base import Store
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore

ISSUANCE_LIMITED = "identity/issuance-limited"


class Tokenless:
    """A memory lease's writes: the counters not past their limits at the grant (`now`:
    written per leased page), and those past them (`later`: handed over at the next full
    evaluation of the client or the settle, as `done` records say). Its pool's add is a
    repeat (the grant's page added the client): no leased page makes it. `limited`: the
    detector's signal for each set of counters past their limits; `signal`: the one every
    leased page gives where all were past them at the grant (they stay so), else None."""

    __slots__ = (
        "counters",
        "done",
        "identities",
        "later",
        "limited",
        "limits",
        "now",
        "passed",
        "pool",
        "signal",
        "store",
        "ttl",
    )

    def __init__(
        self,
        store: MemoryStore,
        counters: tuple[str, ...],  # the issuance counters: address, network, fingerprint
        limits: tuple[int, ...],
        ttl: float,  # the counters' (set when one is created)
        pool: str,  # the pool's key ("": not counted)
        identities: int,  # more young identities in the pool than this: it signals
        passed: tuple[bool, ...],  # the counters past their limits at the grant: they stay so
        limited: Mapping[tuple[bool, ...], Signal],
    ) -> None:
        self.store, self.counters, self.limits, self.ttl = store, counters, limits, ttl
        self.pool = pool
        self.identities, self.passed, self.done = identities, passed, 0
        self.limited = limited
        self.signal = limited[passed] if all(passed) else None
        self.now = tuple(k for k, p in zip(counters, passed, strict=True) if not p)
        self.later = tuple(k for k, p in zip(counters, passed, strict=True) if p)


class Deferred:
    """A Redis lease's counters, how many of its records were handed over (`done`), its
    pool's key ("": not counted) with the count above which the pool signals, where this
    worker's evaluations note that pool's count (`pools`), and its signal (every counter
    past its limit: `terms`)."""

    __slots__ = ("counters", "done", "identities", "pool", "pools", "signal", "ttl")

    def __init__(
        self,
        counters: tuple[str, ...],
        ttl: float,
        pool: str,
        identities: int,
        pools: Pools | None,
        signal: Signal,
    ) -> None:
        self.counters, self.ttl, self.done = counters, ttl, 0
        self.pool, self.identities, self.pools, self.signal = pool, identities, pools, signal


class Pools:
    """The largest count of each pool this worker's evaluations read, by key (bounded, the
    oldest out first). A pool's count rises only with a full evaluation's add (a leased
    page's is a repeat), so in one worker this is the count a full evaluation would read
    now: a Redis lease's page reads it instead of the store (`lease_replay`). Another
    worker's adds are seen here at this worker's next evaluation of that pool."""

    def __init__(self, size: int = 4096) -> None:
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._size = size

    def note(self, key: str, count: int) -> None:
        seen = self._seen
        if count > seen.get(key, -1):
            seen[key] = count
            seen.move_to_end(key)
            if len(seen) > self._size:
                seen.popitem(last=False)

    def get(self, key: str) -> int | None:
        return self._seen.get(key)


def lease_replay(state: Tokenless | Deferred, facts: Facts, used: int) -> Signal | Literal[False]:
    """A leased tokenless page's issuance signal, as its full evaluation would give it (False:
    it would signal the pool, or give no issuance signal, so it is evaluated in full): in
    memory from the pool and the counters as they stand (`over`), this page counted; on Redis
    every counter is past its limit (so at the grant, and they only rise), unless its pool
    holds more young identities than its threshold, or this worker no longer knows its count
    (`Pools`: forgotten). A plain function, its detector's `lease_replay` (a frame less)."""
    if isinstance(state, Deferred):
        if state.pool:
            seen = state.pools.get(state.pool) if state.pools is not None else None
            if seen is None or seen > state.identities:
                return False
        return state.signal
    if state.pool and state.store.distinct(state.pool, None) > state.identities:
        return False
    if state.signal is not None:  # (most leases: every counter past its limit, as it stays)
        return state.signal
    return state.limited.get(over(state), False)


def terms(
    plan: Plan,
    store: Store,
    now: float,
    window: float,
    limits: tuple[int, ...],
    pool: RotatingPoolSettings,
    seen: tuple[tuple[bool, ...] | None, int],
    limited: Mapping[tuple[bool, ...], Signal],
    pools: Pools | None,
) -> Terms | None:
    """The lease's terms: until the issuance window (`window`) or the pool's turns (new
    counters), its signal replayed (`limited`: the detector's signal for each set of counters
    past their limits); on Redis only where `seen` (this page's counters past their limits,
    and the pool's count) allows (`Deferred`, its pool read from `pools`)."""
    until = (now // window + 1) * window
    if plan.pool:
        until = min(until, (now // pool.window + 1) * pool.window)
    if isinstance(store, MemoryStore):
        state: Tokenless | Deferred = state_of(plan, store, limits, pool.identities, limited)
    elif on_redis(store):
        over, pooled = seen
        if over is None or not all(over) or (plan.pool and 2 * pooled > pool.identities):
            return None
        _, keys, _, ttls = plan.ops
        counted = increments(plan)
        pooled_key = keys[plan.rest_at] if plan.pool else ""
        state = Deferred(
            tuple(keys[i] for i in counted),
            ttls[counted[0]],
            pooled_key,
            pool.identities,
            pools,
            limited[over],
        )
    else:
        return None
    # (`lease_use` writes only a memory lease's counters under their limits: `count`)
    uses = type(state) is Tokenless and bool(state.now)
    return Terms(UNLIMITED, until, state, replays=ISSUANCE_LIMITED, uses=uses)


def hand_over(state: Deferred, records: Sequence[Record], store: Store) -> Awaitable[Any] | None:
    """The increments of the records not yet handed over, queued now (the tick's call): one
    `INCRBY` a counter, its TTL set where it is new, as the page's own script would."""
    count = len(records) - state.done
    if count <= 0 or not on_redis(store):
        return None
    state.done = len(records)
    millis = max(1, int(state.ttl * 1000))
    submit = store.submit_script
    return asyncio.gather(
        *[submit(scripts.INCR_WITH_TTL, [key], [count, millis]) for key in state.counters]
    )


def lease_use(state: object, facts: Facts, ctx: RequestContext, used: int) -> None:
    """A leased tokenless page in memory: the writes a later read could tell, at once
    (`count`)."""
    if type(state) is Tokenless and state.now:
        count(state)


def lease_settle(state: object, records: Sequence[Record], store: Store) -> Awaitable[Any] | None:
    """The increments not handed over yet: a Redis lease's (`hand_over`), a memory one's
    (`hand_over_now`)."""
    if type(state) is Tokenless:
        hand_over_now(state, records)
        return None
    return hand_over(state, records, store) if type(state) is Deferred else None


def lease_flush(
    pairs: Sequence[tuple[Any, Sequence[Record]]], store: Store, facts: Facts, ctx: RequestContext
) -> Awaitable[Any] | None:
    """Before another full evaluation of the client: every lease's increments, a memory
    lease's written now, a Redis one's queued ahead of that evaluation's own call (the table
    reads their replies)."""
    for state, records in pairs:
        if type(state) is Tokenless:
            hand_over_now(state, records)
    replies = [
        reply
        for state, records in pairs
        if isinstance(state, Deferred) and (reply := hand_over(state, records, store))
    ]
    return asyncio.gather(*replies) if replies else None


def increments(plan: Plan) -> list[int]:
    """The places of the page's issuance counters among its plan's operations."""
    return [i for i, code in enumerate(plan.ops[0]) if code == "I"]


def state_of(
    plan: Plan,
    store: MemoryStore,
    limits: tuple[int, ...],
    identities: int,
    limited: Mapping[tuple[bool, ...], Signal],
) -> Tokenless:
    """The writes of the page's plan (a tokenless page's: its pool add, then its three
    increments), as a lease replays them."""
    _, keys, _, ttls = plan.ops
    counted = increments(plan)
    at = plan.rest_at if plan.pool else -1
    passed = tuple(  # (this page counted: a counter only rises within its window)
        int(store.peek(keys[i]) or 0) > limit for i, limit in zip(counted, limits, strict=True)
    )
    return Tokenless(
        store,
        tuple(keys[i] for i in counted),
        limits,
        ttls[counted[0]],
        keys[at] if at >= 0 else "",
        identities,
        passed,
        limited,
    )


def over(state: Tokenless) -> tuple[bool, ...]:
    """Which counters the next page takes past their limits (each counter as it stands, plus
    this page)."""
    store = state.store
    return tuple(
        passed or int(store.peek(key) or 0) + 1 > limit
        for key, limit, passed in zip(state.counters, state.limits, state.passed, strict=True)
    )


def count(state: Tokenless) -> None:
    """A leased page's increments of the counters under their limits at the grant (`now`): the
    next page's detail, and another client's, reads them."""
    store = state.store
    for key in state.now:
        store.bump(key, 1, state.ttl)


def hand_over_now(state: Tokenless, records: Sequence[Record]) -> None:
    """A memory lease's deferred increments of the records not handed over yet: one per
    counter past its limit at the grant (`bump_kept`: an expired counter, which no read sees,
    takes them as it would have at once; none is made anew)."""
    pending = len(records) - state.done
    if pending <= 0:
        return
    state.done = len(records)
    for key in state.later:
        state.store.bump_kept(key, pending)
