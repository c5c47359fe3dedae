"""The behaviour detector's part in leases (docs/leases.md), for page views and assets.

An asset only adds to the asset count, which no signal fires on (it can only keep `no_assets`
away): unlimited, its records counted before any other full evaluation of the client.

Headroom: the pages that cannot reach `no_assets_pages` (the weighted page count only falls as
windows turn, so `pages now + k` bounds it). A walk is checked per leased page: its id against
the ids the client's ring held at the grant plus the leased pages' own ids, so a walk reaching
`sequential_run` is sent to a full evaluation at the same request it would signal on without
a lease. Settling counts each leased page, with its time, into the client's record (on Redis:
one script call per lease, `script.SETTLE`); before a full evaluation of the client, its own
pass over the record counts the leased requests it reads first (`lease_flush`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from scrapeshield.behaviour.evidence import (
    ASSET,
    COND,
    IMAGE,
    NO_ASSETS,
    PAGE,
    WEIGHTS,
    no_assets_detail,
    walk_length,
)
from scrapeshield.behaviour.record import (
    LISTED_SIZE,
    LISTINGS,
    RING_NAMES,
    Tally,
    count,
    pushed_all,
)
from scrapeshield.behaviour.script import BUMP_DIGITS, RING_ENTRY
from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.behaviour.works import item_id, path_hash
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import Record
from scrapeshield.lease.settings import MAX_SECONDS
from scrapeshield.signals import Signal

_RENDERED = (IMAGE, ASSET, COND)


class PageLease:
    """A page's (or an asset's: `kind`) lease state: the bumps its requests make (bound
    headers fix them), the ids a walk may use (the ring's at the grant, then each leased
    page's), the id of the page `covers` last looked at, how many of the lease's records
    are already in the client's record (`done`: flushed before another full evaluation), and
    a lease replaying no-assets: its replay (`NoAssets`, the counts at the grant). `run` and
    `ttl`: the settings' `sequential_run` and `sequential_ttl`, which `page_covers` reads;
    `aging`: whether an id it holds can pass `ttl` while the lease lives (`aging`);
    `granted`: how many of `ids` (and `times`) the ring held at the grant (`kept` reads the
    leased pages' entries after them)."""

    __slots__ = (
        "aging",
        "bumps",
        "client",
        "done",
        "granted",
        "ids",
        "kind",
        "last",
        "no_assets",
        "run",
        "times",
        "ttl",
    )

    def __init__(
        self,
        client: str,
        bumps: list[int],
        ids: list[int],
        times: list[int],
        kind: int = PAGE,
        walk: tuple[int, float] = (3, 0.0),
    ) -> None:
        self.client, self.bumps, self.ids, self.times = client, bumps, ids, times
        self.granted = len(ids)
        self.kind = kind
        self.run, self.ttl = walk
        self.aging = bool(times)  # (the safe answer: read the times wherever there are any)
        self.last: int | None = None
        self.done = 0
        self.no_assets: NoAssets | None = None  # a replaying lease's


class NoAssets:
    """A leased page's no-assets counts (`replay_no_assets`), for the signal `evidence.judge`
    gives a page on the grant's counts (this window's, the page counted, and the previous
    one's) with the lease's `used` pages added: judge's arithmetic, in its order (so the same
    floats), on counts taken apart once at the grant. Where the previous window rendered
    nothing (a client that loads no assets) the rendered count is a whole number judge's
    floats hold exactly, so it is counted in ints, and where a leased page adds nothing to it
    the detail's end is made once.
    The replay was ~13k instructions of a leased page's ~26k (docs/log/architecture.md, "The
    replay, measured"). A walk is never judged here: `judge` is given one id, and
    `sequential_run` is at least 3."""

    __slots__ = ("at_least", "fields", "page", "rendered", "tail", "window")

    def __init__(
        self,
        s: BehaviourSettings,
        current: Sequence[int],
        previous: Sequence[int],
        bumps: list[int],
    ) -> None:
        # each counter: (this window's count, what a leased page adds to it, the previous one's)
        def field(at: int) -> tuple[int, int, int]:
            return current[at], bumps.count(at), previous[at]

        self.window, self.at_least = float(s.window), float(s.no_assets_pages)
        self.page = field(PAGE)
        self.fields = tuple(map(field, _RENDERED))  # (judge's order)
        # (int + 0.0 is the int's float, and sums of whole floats under 2**53 are exact)
        whole = (sum(f[0] for f in self.fields), sum(f[1] for f in self.fields))
        self.rendered = None if any(f[2] for f in self.fields) else whole
        fixed = self.rendered is not None and not whole[1]  # (the same count every page)
        self.tail = no_assets_detail(0, whole[0]).removeprefix("0") if fixed else ""


def replay_no_assets(state: PageLease, facts: Facts, used: int) -> Signal | Literal[False] | None:
    """A leased page's no-assets signal: judged on the grant's counts (`NoAssets`: this
    window's, the page counted) with the lease's `used` pages counted too, at this request's
    time (the previous window's weight falls), as `judge` does; False for a lease that does
    not replay it (it cannot say: in full). Its walk is checked by `page_covers`. A plain
    function, the detector's `lease_replay`: a frame less than a method calling the counts'
    own (a callable object's call cost ~1k instructions more)."""
    counts = state.no_assets
    if counts is None:
        return False
    window = counts.window
    weight = 1.0 - (facts.time % window) / window
    count, step, before = counts.page
    pages = (count + step * used) + before * weight
    if pages < counts.at_least:
        return None
    if counts.rendered is None:
        (ci, si, pi), (ca, sa, pa), (cc, sc, pc) = counts.fields
        rendered: float = (
            ((ci + si * used) + pi * weight)
            + ((ca + sa * used) + pa * weight)
            + ((cc + sc * used) + pc * weight)
        )
    else:
        rendered = counts.rendered[0] + counts.rendered[1] * used
    if rendered * 10 < pages:
        tail = counts.tail
        detail = f"{round(pages)}{tail}" if tail else no_assets_detail(pages, rendered)
        return Signal(NO_ASSETS, _NO_ASSETS_WEIGHT, detail)
    return None


_NO_ASSETS_WEIGHT = WEIGHTS[NO_ASSETS]


def page_headroom(
    s: BehaviourSettings, now: float, current: list[int], previous: list[int]
) -> tuple[int, float]:
    """Further pages that cannot make `no_assets` signal (this request counted in `current`),
    and the end of this window, which the lease must not outlive. Either the pages stay
    under `no_assets_pages` (their weighted count only falls), or the CSS/JS/image requests
    stay at a tenth of them (`evidence.judge`): `10 × rendered − pages`, at the weight that
    makes it least of the previous window's now and its lowest in this window (0): the
    expression is linear in the weight, so its least over the window is at one end."""
    window = s.window
    weight = 1.0 - (now % window) / window
    pages = current[PAGE] + previous[PAGE] * weight
    under = math.ceil(s.no_assets_pages - pages) - 1
    ten = 10 * sum(current[f] for f in _RENDERED) - current[PAGE]
    ten_before = 10 * sum(previous[f] for f in _RENDERED) - previous[PAGE]
    rendered = ten + min(0.0, weight * ten_before)
    return max(0, under, math.floor(rendered)), (now // window + 1) * window


def page_covers(lease: PageLease, facts: Facts) -> bool:
    """A page lease's `lease_covers`: False where the page's id could signal a walk (then it
    is evaluated in full), on the ids its walk reads (the lease's, those within `ttl`). The
    id is kept for `lease_use` (`last`). A plain function with the settings it reads on the
    lease: `lease_covers` and `walks_on` were two frames more. tests/behaviour/
    test_walk_covers.py holds it to the full check on random walks."""
    ident = lease.last = item_id(facts.path)
    if ident is None:
        return True
    ids = lease.ids
    if lease.aging and lease.times[0] < (cut := facts.time - lease.ttl):
        ids = _recent(lease, cut)
    return walk_length(ident, ids) < lease.run


def aging(times: Sequence[int], now: float, ttl: float) -> bool:
    """Whether the oldest of a page lease's ids (the ring's at the grant, `now`) can be past
    `ttl` at a request the lease covers (`page_covers` then reads their times; ~1.4k
    instructions of a leased page). Exact: a lease covers only requests before its `until`,
    which is at most `now + seconds` (`Leases.grant`, `reservation.refresh`: it only
    shrinks), `seconds` at most `MAX_SECONDS`; rounding is monotone, so at any such request
    `time - ttl` is at most `(now + MAX_SECONDS) - ttl`, which the oldest time is not below
    (the ids are only appended to, so the oldest stays)."""
    return bool(times) and times[0] < (now + MAX_SECONDS) - ttl


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


def taken(
    leases: Sequence[tuple[PageLease | None, Sequence[Record]]],
) -> list[tuple[PageLease, Sequence[Record]]]:
    """Each lease's records not yet in the client's record, marked taken now (`done`)."""
    out = []
    for state, records in leases:
        if state is not None and len(records) > state.done:
            out.append((state, records[state.done :]))
            state.done = len(records)
    return out


def count_leased(
    tally: Tally, leases: Sequence[tuple[PageLease, Sequence[Record]]], window: float, size: int
) -> Tally:
    """The client's record in memory with its leased requests, as the detector counts each
    (`window`: behaviour's, seconds; `size`: the page ring's): a lease's requests by runs
    (`runs`), each ring's kept entries at once (`kept`), as a count and a push per request
    would leave them (a lease of 128 pages rebuilt the ring 128 times: docs/log/
    architecture.md, "A leased request's own cost")."""
    counts = tally[0]
    for state, records in leases:
        for bucket, run in runs(records, window):
            counts = count(counts, bucket, state.bumps, run)[0]
    tally = (counts, *tally[1:])
    pages, listed = kept(leases, size)
    for ring, entries, most in ((RING_NAMES[PAGE], pages, size), (LISTINGS, listed, LISTED_SIZE)):
        if entries:
            times, ids = zip(*entries, strict=True)
            tally = pushed_all(tally, ring, ids, times, most)
    return tally


def runs(records: Sequence[Record], window: float) -> list[tuple[int, int]]:
    """A lease's requests as runs: (window index, requests) per stretch of consecutive
    requests in one window. A lease's bumps are fixed, so a run's requests bump the same
    counters, and counting a run at once (its window's counters started again at its first
    request, then each bumped counter added its length) is counting each in turn. A lease
    lives a second or so and a window is minutes, so its earliest and latest requests nearly
    always share a window (found by `min` and `max`, in C, whatever the records' order: the
    wall clock can be set back): then every request is in it, one run;
    else each request's window in turn (~1k instructions a leased page less: docs/log/
    architecture.md, "A lease's end, by structure")."""
    if records and int(min(records)[0] // window) == (last := int(max(records)[0] // window)):
        return [(last, len(records))]
    out: list[tuple[int, int]] = []
    bucket, run = -1, 0
    for now, _ in records:
        if (within := int(now // window)) != bucket:
            if run:
                out.append((bucket, run))
            bucket, run = within, 0
        run += 1
    if run:
        out.append((bucket, run))
    return out


def kept(
    leases: Sequence[tuple[PageLease, Sequence[Record]]], size: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The ring entries the leased pages push that their rings keep, as (seconds, id), oldest
    first: a ring keeps its last entries (the pages' `size`, the listings' `LISTED_SIZE`), so
    of the entries of all the leases, in the order they would have been pushed, only each
    ring's last ones can survive. Where no leased page was a listing, they are the last of
    the entries the leases already hold (`_held`); else they are read from the paths."""
    pages: list[tuple[int, int]] = []
    for state, records in leases:
        if state.kind == PAGE and records:
            held = _held(state, len(records), size)
            if held is None:
                return _kept_by_paths(leases, size)
            pages += held
    return pages[-size:], []


def _held(state: PageLease, fresh: int, size: int) -> zip[tuple[int, int]] | None:
    """The entries of a page lease's `fresh` records (just taken: its last ones), at most its
    last `size`, from the ids and times `lease_use` appended after the `granted` ones; None
    where a record has none (a listing page has no id; records not from `taken`). An id is
    appended only for a record, so as many as the records taken (`done`) is one for each of
    them, in order (an `item_id` per path was ~3k instructions a leased page: docs/log/
    architecture.md, "A lease's end, by structure")."""
    if len(state.ids) - state.granted != state.done or fresh > state.done:
        return None
    last = min(fresh, size)
    return zip(state.times[-last:], state.ids[-last:], strict=True)


def _kept_by_paths(
    leases: Sequence[tuple[PageLease, Sequence[Record]]], size: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """`kept` read from the records' paths: from the newest back, until both rings are full."""
    pages: list[tuple[int, int]] = []
    listed: list[tuple[int, int]] = []
    for state, records in reversed(leases):
        if state.kind != PAGE:
            continue
        for now, path in reversed(records):
            ident = item_id(path)
            if ident is not None:
                if len(pages) < size:
                    pages.append((int(now), ident))
                elif len(listed) >= LISTED_SIZE:
                    break
            elif len(listed) < LISTED_SIZE:  # a listing page: its own short ring
                listed.append((int(now), path_hash(path)))
            elif len(pages) >= size:
                break
        else:
            continue
        break  # (both rings full)
    pages.reverse()
    listed.reverse()
    return pages, listed


def script_args(
    leases: Sequence[tuple[PageLease, Sequence[Record]]], window: float, size: int
) -> list[Any]:
    """The client's leased requests as the scripts take them (`script._LEASED`), however
    many: each ring's kept entries (`kept`), then each lease's runs (`runs`: its window's
    index, the counters it bumps, its requests). The record they leave is the one a call
    per request (SCRIPT) would leave; a lease of 128 pages was ~260 arguments, each counted
    by the script in turn, and 128 entries formatted (docs/log/architecture.md, "Behaviour's
    leased requests as runs")."""
    pages, listed = kept(leases, size)
    args: list[Any] = [
        RING_NAMES[PAGE] if pages else "",
        "".join([RING_ENTRY % entry for entry in pages]),
        size,
        LISTINGS if listed else "",
        "".join([RING_ENTRY % entry for entry in listed]),
        LISTED_SIZE,
    ]
    for state, records in leases:
        bumps = "".join([BUMP_DIGITS[b] for b in state.bumps])
        for bucket, run in runs(records, window):
            args += (bucket, bumps, run)
    return args
