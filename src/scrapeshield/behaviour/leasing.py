"""The behaviour detector's part in leases (docs/leases.md), for page views on the memory store.

Headroom: the pages that cannot reach `no_assets_pages` (the weighted page count only falls as
windows turn, so `pages now + k` bounds it). A walk is checked per leased page: its id against
the ids the client's ring held at the grant plus the leased pages' own ids, so a walk reaching
`sequential_run` is sent to a full evaluation at the same request it would signal on without
a lease. Settling replays each leased page, with its time, into the client's record.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Sequence
from typing import Any

from scrapeshield.behaviour.evidence import PAGE, walk_length
from scrapeshield.behaviour.settings import BehaviourSettings


class PageLease:
    """A page lease's state: the bumps its pages make (bound headers fix them), the ids
    a walk may use (the ring's at the grant, then each leased page's), and the id of the page
    `covers` last looked at."""

    __slots__ = ("bumps", "client", "ids", "last", "times")

    def __init__(self, client: str, bumps: list[int], ids: list[int], times: list[int]) -> None:
        self.client, self.bumps, self.ids, self.times = client, bumps, ids, times
        self.last: int | None = None


def page_headroom(s: BehaviourSettings, now: float, current: list[int], previous: list[int]) -> int:
    """Further pages that cannot make `no_assets` signal (this request counted in `current`)."""
    weight = 1.0 - (now % s.window) / s.window
    pages = current[PAGE] + previous[PAGE] * weight
    return max(0, math.ceil(s.no_assets_pages - pages) - 1)


def walks_on(s: BehaviourSettings, lease: PageLease, ident: int | None, now: float) -> bool:
    """Whether the page `ident` could signal a walk: then it is evaluated in full."""
    lease.last = ident
    if ident is None:
        return False
    cut = now - s.sequential_ttl
    ids = lease.ids if not lease.times or lease.times[0] >= cut else _recent(lease, cut)
    return walk_length(ident, ids) >= s.sequential_run


def _recent(lease: PageLease, cut: float) -> list[int]:
    return [i for i, t in zip(lease.ids, lease.times, strict=True) if t >= cut]


def ring_entries(ring: str) -> tuple[list[int], list[int]]:
    """A returned ring's ids and whole seconds, oldest first (malformed entries skipped)."""
    fields = ring.split()
    ids, times = [], []
    for t, i in zip(fields[::2], fields[1::2], strict=False):
        if t.isdigit() and i.isdigit():
            ids.append(int(i))
            times.append(int(t))
    return ids, times


def ignored(reply: Any) -> None:
    return None


async def each(queued: Sequence[Awaitable[Any]]) -> None:
    for soon in queued:
        await soon
