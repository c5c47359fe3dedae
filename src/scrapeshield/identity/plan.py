"""What one identity request reads and writes (its plan, made once per kind of request and
cached by the detector), apart from the detector that makes and reads it."""

from __future__ import annotations

from typing import Any, NamedTuple

from scrapeshield.identity import ops


class Budget(NamedTuple):
    scope: str
    period: str
    seconds: float
    allowed: int
    refuse_above: float  # 0: never refused
    name: str  # of its signal: budget/<scope>/<period>


Read = tuple[int, int, int, int, int, int, tuple[str, ...]]
"""A budget (its index in the detector's budgets: a plain tuple of numbers and strings, which
the garbage collector stops tracking, where a `Budget` in it would keep it tracked), where its
count is in the reply, where the previous hour's is (-1: not read), the previous hour's when
known, where the refused tokens' count is (-1: none), the count above which it signals, and its
subjects (its keys without the period; a young token's visitor budget has two: the token's and
its address's tokenless originals)."""


class Plan(NamedTuple):
    """What one request queued, and where its answers are in the reply. Kept per client (the
    detector's plan cache) as a plain tuple of its fields (`tuple(plan)`), each a string, a
    number or a plain tuple of them, which the garbage collector stops tracking, where a named
    tuple stays tracked (docs/store.md, "Garbage collection"); a request makes its `Plan` from
    it (`Plan._make`)."""

    kind: str
    ops: tuple[ops.Op, ...]
    path_at: tuple[int, ...]  # the adds that take an original's path (per request)
    visitor: str  # a valid token's id ("": none)
    pool: bool
    issuance: bool  # three counters: address, network, fingerprint
    amnesia: bool  # two reads: issued to the address, returned from it
    newcomers_at: int  # where the young identities' count of this network is (-1: not counted)
    prev_at: tuple[int, ...]  # per budget, where the previous hour's count is (-1: not read)
    rest_at: int  # where the answers of the pool, issuance and amnesia counters start
    prev_keys: tuple[str, ...]  # per budget, the previous hour's key ("" for a day budget)
    cache_key: tuple[object, ...]  # its key in the plan cache
    reads: tuple[Read, ...]  # per budget, where its counts are, and the count that signals
    learns: bool  # whether it reads a previous hour's count (then kept: `_learn`)
    call: ops.Call  # its script call on Redis, made once (the path put in per request)
    subjects: tuple[str, ...]  # the budgets' subjects a page may trust (empty: never trusted)
    lean: tuple[Any, ...] | None  # the same page without its budgets' reads (a `Plan`'s
    # fields), made the first time they are trusted (None: not yet)
