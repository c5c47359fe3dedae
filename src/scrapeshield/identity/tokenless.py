"""A leased page of a client without a token while issuance is limited (docs/leases.md,
"Replayed signals"), on the memory store.

Such a page's full evaluation reads the budgets (under half at the grant, and kept so by
`lease_keeps`), adds the client to its fingerprint's pool (a set member: its repeats add
nothing) and increments the three issuance counters (address, network, fingerprint), whose
list of scopes past their limits is the signal's detail. A leased page does the same writes
at once (`count`), so every other client's evaluation reads the counts it would read without
leases, and its signal is rebuilt from the counters as they stand (`over`), before it is
counted: the network and fingerprint counters are shared, so another client may have moved
them (a counter past its limit at the grant stays so within its window: not read again). The
lease ends at the issuance window's and the pool window's turn (new counters).
"""

from __future__ import annotations

from typing import NamedTuple

from scrapeshield.identity.plan import Plan
from scrapeshield.identity.settings import RotatingPoolSettings
from scrapeshield.lease.protocol import UNLIMITED, Terms
from scrapeshield.store.memory import MemoryStore

ISSUANCE_LIMITED = "identity/issuance-limited"


class Tokenless(NamedTuple):
    store: MemoryStore
    counters: tuple[str, ...]  # the issuance counters: address, network, fingerprint
    limits: tuple[int, ...]
    ttl: float  # the counters' (set when one is created)
    pool: str  # the pool's key ("": not counted)
    member: str  # the client, the pool's member
    pool_ttl: float
    identities: int  # more young identities in the pool than this: it signals
    passed: tuple[bool, ...]  # the counters past their limits at the grant: they stay so


def terms(
    plan: Plan,
    store: MemoryStore,
    now: float,
    window: float,
    limits: tuple[int, ...],
    pool: RotatingPoolSettings,
) -> Terms:
    """The lease's terms: until the issuance window (`window`) or the pool's turns (new
    counters), its signal replayed."""
    until = (now // window + 1) * window
    if plan.pool:
        until = min(until, (now // pool.window + 1) * pool.window)
    state = state_of(plan, store, limits, pool.identities)
    return Terms(UNLIMITED, until, state, replays=ISSUANCE_LIMITED)


def state_of(plan: Plan, store: MemoryStore, limits: tuple[int, ...], identities: int) -> Tokenless:
    """The writes of the page's plan (a tokenless page's: its pool add, then its three
    increments), as a lease replays them."""
    codes, keys, members, ttls = plan.ops
    counted = [i for i, code in enumerate(codes) if code == "I"]
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
        members[at] if at >= 0 else "",
        ttls[at] if at >= 0 else 0.0,
        identities,
        passed,
    )


def over(state: Tokenless) -> tuple[bool, ...] | None:
    """Which counters the next page takes past their limits (each counter as it stands, plus
    this page); None when the pool holds more young identities than its threshold (the full
    evaluation would signal it)."""
    store = state.store
    if state.pool and store.distinct(state.pool, None) > state.identities:
        return None
    if all(state.passed):  # (most leases: every counter past its limit, as it stays)
        return state.passed
    return tuple(
        passed or int(store.peek(key) or 0) + 1 > limit
        for key, limit, passed in zip(state.counters, state.limits, state.passed, strict=True)
    )


def count(state: Tokenless) -> None:
    """The page's writes, in its plan's order: its pool add, then the three increments."""
    store = state.store
    if state.pool:
        store.distinct(state.pool, state.member, state.pool_ttl)
    for key in state.counters:
        store.bump(key, 1, state.ttl)
