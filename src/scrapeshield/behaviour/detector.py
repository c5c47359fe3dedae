"""Behaviour: what an art scraper does that a person's browser does not (docs/behaviour.md).

Per client the detector keeps, over a sliding window (this fixed window and the previous one,
weighted), how many pages, originals (the `images` route group), assets and conditional
requests it made, and how many originals came without their own artwork page shortly before
and without being embedded; and the latest ids of its pages and of its originals (normalised
with `int()`, so `/images/0001.png` is work 1), each with its time. `evidence.judge` turns
that into signals. A client's footprint is two small counter rows and two lists of at most
`ring_size` ids, whatever it fetches.

Every store command of one request goes to Redis as one script in the request's shared
pipeline (queued at once: `Sent`); on the MemoryStore nothing is awaited.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Sequence
from functools import partial
from typing import Any

from scrapeshield.bans import UNKNOWN_CLIENT
from scrapeshield.behaviour import leasing
from scrapeshield.behaviour.evidence import (
    ASSET,
    COND,
    FIELDS,
    IMAGE,
    NO_ASSETS,
    ORPHAN,
    PAGE,
    judge,
    walk_length,
)
from scrapeshield.behaviour.record import (
    LISTED_SIZE,
    LISTINGS,
    NEW_TALLY,
    RING_AT,
    RING_NAMES,
    Ring,
    count,
    new_tally,
    pushed,
    ring_at,
    ring_of,
    seen,
)
from scrapeshield.behaviour.script import BUMP_DIGITS, RING_ENTRY, SCRIPT, SECONDS, SETTLE, SOUGHT
from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.behaviour.trap import TRAP_READ_NOTE, trap_key
from scrapeshield.behaviour.works import claim_of, item_id, path_hash
from scrapeshield.detector import Found, Immediate, RequestContext, replayed_names
from scrapeshield.facts import Facts
from scrapeshield.lease.protocol import UNLIMITED, Record, Terms
from scrapeshield.route_index import RouteMark
from scrapeshield.signals import Signal
from scrapeshield.store.base import Store
from scrapeshield.store.keys import subject_key
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore

_SUBRESOURCE_DEST = frozenset({"style", "script", "font", "image"})
_PAGE_DEST = frozenset({"", "document", "iframe", "frame"})
_ZEROS = [0] * len(FIELDS)  # read only
_LISTED_AT = RING_AT[LISTINGS]
_UNREAD = Terms(UNLIMITED, steady=True, covered=True)  # (a request it counts nothing for)
_COUNTS_NOTE = "behaviour_counts"  # a page's counters and record, for its lease
_LEASED_NOTE = "behaviour_leased"  # the client's leased requests this evaluation reads


class BehaviourDetector(Immediate):
    """Counts a client's page/original/asset mix and its id walks; signals past thresholds."""

    name = "behaviour"
    uses_store = True
    replay_signals = frozenset({NO_ASSETS})
    """A page's no-assets signal is leased, its page count rebuilt per leased page
    (`lease_replay`)."""

    def __init__(
        self, settings: BehaviourSettings, *, reads_trap: bool = False, leases: bool = False
    ) -> None:
        self._s = settings
        self.reads_trap = reads_trap
        self.lease_ring = leases
        """On Redis, have the script return a page's ring of ids (a lease checks walks on it)."""
        """On Redis, read the client's trap flag in this detector's script, for the trap
        detector that runs after it (`trap.TRAP_READ_NOTE`): one part of the tick's call less."""
        self.ring_size = max(32, 2 * settings.sequential_run)
        # (script.py) two windows' counters and the longest a ring entry counts, in ms
        longest = max(settings.sequential_ttl, settings.page_memory)
        self._record_ttl = 2 * settings.window + longest
        self._hash_ttl = int(self._record_ttl * 1000)

    def _kind(self, facts: Facts) -> int | None:
        """PAGE, IMAGE or ASSET; None for anything else (API, non-GET, HEAD)."""
        if facts.method != "GET":
            return None
        group = facts.route_group
        if group == "images":
            return IMAGE
        dest = facts.headers.get("sec-fetch-dest", "").lower()
        if group == "assets" or dest in _SUBRESOURCE_DEST:
            return ASSET
        if group == "default" and dest in _PAGE_DEST:
            return PAGE
        return None

    def runs_on(self, method: str, route_group: str, route: RouteMark | None) -> bool:
        """Only GETs have a kind (`_kind`): other methods never meet this detector
        (`detection.Plans`), rather than each being asked and answering nothing."""
        return method == "GET"

    # -- leases (docs/leases.md; leasing.py) ----------------------------------------------------

    def lease_terms(self, facts: Facts, ctx: RequestContext) -> Terms | None:
        """Requests it counts nothing for (decided by the kind and bound headers): unlimited.
        Page views on the memory store: the pages that cannot signal (`leasing`); originals,
        assets, and pages on other stores state none (yet)."""
        kind = self._kind(facts)
        if kind is None or facts.client_key == UNKNOWN_CLIENT:
            return _UNREAD
        if kind == ASSET:  # (its route group and Sec-Fetch-Dest are in the lease's key)
            state = leasing.PageLease(facts.client_key, _bumps(ASSET, facts), [], [], ASSET)
            return Terms(UNLIMITED, None, state, steady=True, covered=True)
        seen = ctx.notes.get(_COUNTS_NOTE)
        if kind != PAGE or seen is None:
            return None
        current, previous, record = seen
        headroom, until = leasing.page_headroom(self._s, facts.time, current, previous)
        if record is not None and isinstance(record[0], str):
            text, ident, now = record  # Redis: the ring before this request, then its own id
            ids, times = leasing.ring_entries(text)
            ids.append(ident)
            times.append(int(now))
        else:  # the memory store: the ring after this request (None: empty)
            ids, times = (list(record[0]), list(record[1])) if record else ([], [])
        bumps = _bumps(PAGE, facts)
        walk = (self._s.sequential_run, self._s.sequential_ttl)
        state = leasing.PageLease(facts.client_key, bumps, ids, times, PAGE, walk)
        state.aging = leasing.aging(times, facts.time, walk[1])
        if NO_ASSETS in (replayed_names(ctx) or ()):
            # replayed from this window's counts (the lease ends with it); any other request of
            # the client (an asset) moves them, so it ends the lease first (`alone`)
            state.no_assets = leasing.NoAssets(self._s, current, previous, bumps)
            return Terms(UNLIMITED, until, state, replays=NO_ASSETS, alone=True)
        return Terms(headroom, until, state)

    # a leased page's no-assets signal, from the grant's counts (`leasing.NoAssets`), and a
    # page lease's walk check (plain functions, a frame less); a request of no kind and an
    # asset read nothing here that the lease's key leaves out: their terms are `covered`
    lease_replay = staticmethod(leasing.replay_no_assets)
    lease_covers = staticmethod(leasing.page_covers)

    def lease_keeps(
        self, state: leasing.PageLease | None, facts: Facts, ctx: RequestContext
    ) -> bool:
        """Counts are per client, and its leased requests are flushed before its other full
        evaluations; only another page of its own (a count and an id the page lease's headroom
        and walk check do not hold) ends a page lease."""
        if state is None or state.kind != PAGE or facts.client_key != state.client:
            return True
        return self._kind(facts) != PAGE

    def lease_use(
        self, state: leasing.PageLease | None, facts: Facts, ctx: RequestContext, used: int
    ) -> None:
        """A leased page's id and time, appended only here (`leasing.kept` reads them as the
        records' own entries)."""
        if state is not None and state.last is not None:
            state.ids.append(state.last)
            state.times.append(int(facts.time))  # whole seconds, as the ring keeps them

    def lease_settle(
        self, state: leasing.PageLease | None, records: Sequence[Record], store: Store
    ) -> Awaitable[Any] | None:
        """Each leased page (or asset) not yet in the client's record, with its time, as it
        would have been (on Redis: one script call for all of them, queued now, in this tick's
        round trip)."""
        taken = leasing.taken([(state, records)])
        if not taken:
            return None
        if on_redis(store):
            return store.queue_script(SETTLE, *self._settled(taken), int)  # (the count)
        if isinstance(store, MemoryStore):
            key = subject_key("bh:", taken[0][0].client)
            tally = store.record(key, self._record_ttl, new_tally)
            assert tally is not None  # (created)
            counted = leasing.count_leased(tally, taken, self._s.window, self.ring_size)
            store.replace_record(key, counted)
        return None

    def lease_flush(
        self,
        leases: Sequence[tuple[leasing.PageLease | None, Sequence[Record]]],
        store: Store,
        facts: Facts,
        ctx: RequestContext,
    ) -> None:
        """Before a full evaluation of the client: the leased requests it reads, counted first
        by its own pass over the client's record (`_LEASED_NOTE`; on Redis in its own script
        call: one call, one read and one write of the hash). An original reads no asset count,
        so asset leases wait (for a page's evaluation, or their settle); an asset, or a
        request this detector does not count, reads nothing of them."""
        kind = self._kind(facts)
        if kind is None or kind == ASSET or facts.client_key == UNKNOWN_CLIENT:
            return
        client = facts.client_key
        ctx.notes[_LEASED_NOTE] = [
            (state, records)
            for state, records in leases
            if state is not None and state.client == client and (kind == PAGE or state.kind == PAGE)
        ]

    def _settled(
        self, leases: Sequence[tuple[leasing.PageLease, Sequence[Record]]]
    ) -> tuple[list[str], list[Any]]:
        """`SETTLE`'s keys and arguments: the client's leased requests alone."""
        args = leasing.script_args(leases, self._s.window, self.ring_size)
        return [subject_key("bh:", leases[0][0].client)], [self._hash_ttl, *args]

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Found:
        kind = self._kind(facts)
        if kind is None or facts.client_key == UNKNOWN_CLIENT:
            return ()  # without an address, everyone's requests would add up as one client's
        headers = facts.headers
        bumps = _bumps(kind, facts)
        path = facts.path
        ident = item_id(path) if kind != ASSET else None
        claim = claim_of(facts) if kind == IMAGE and ident is not None else None
        # embedded in a page of this site only if this client viewed that page lately; an
        # <img> without a Referer of this site (a no-referrer policy, another site) cannot say
        check = (
            kind == IMAGE
            and ident is not None
            and (claim is not None or headers.get("sec-fetch-dest") != "image")
        )
        request = _Request(facts.client_key, facts.time, kind, bumps, ident, check)
        request.claim = claim
        if kind == PAGE and ident is None:
            request.listing = path_hash(path)
        dry_run = bool(ctx.notes.get("dry_run"))
        store = ctx.store
        if isinstance(store, MemoryStore):
            return self._in_memory(store, request, dry_run, ctx.notes, _taken(ctx))
        if on_redis(store):  # the script queued now, read with the batch
            keys, args = self._script(request, dry_run)
            if leased := _taken(ctx):  # counted first, in this one call
                args += leasing.script_args(leased, self._s.window, self.ring_size)
            then = partial(self._read, request, ctx.notes if kind == PAGE else None)
            soon = store.queue_script(SCRIPT, keys, args, then)
            if self.reads_trap:  # the trap detector (after this one) takes the flag from it
                ctx.notes[TRAP_READ_NOTE] = soon
            return soon
        return self._on_any_store(store, request, dry_run)

    # -- the MemoryStore: one record per client, in process -----------------------------------

    def _in_memory(
        self,
        store: MemoryStore,
        r: _Request,
        dry_run: bool,
        notes: dict[str, Any] | None,
        leased: Sequence[tuple[leasing.PageLease, Sequence[Record]]] | None = None,
    ) -> list[Signal]:
        """The client's one record (a `Tally`, as its one hash on Redis): one lookup, the
        client's `leased` requests counted first, and the record after this request put in its
        place (not in a dry run). `notes`: the request's, where a page's counts are left for its
        lease (`lease_terms`)."""
        s, key, now = self._s, subject_key("bh:", r.client), r.now
        tally = store.record(key, self._record_ttl, new_tally, create=not dry_run) or NEW_TALLY
        if leased:
            tally = leasing.count_leased(tally, leased, s.window, self.ring_size)
        bucket = int(now // s.window)
        bumps = r.bumps
        if r.check:
            look, wanted = r.looked_up()
            if not seen(ring_of(tally, look), wanted, now - s.page_memory):
                bumps = [*bumps, ORPHAN]
        counts, at = count(tally[0], bucket, bumps)
        current = counts[at : at + 5]
        other = 6 - at
        previous = counts[other : other + 5] if counts[other + 5] == bucket - 1 else _ZEROS
        walk = 1
        if r.ident is not None:
            place = RING_AT[RING_NAMES[r.kind]]
            ring = ring_at(tally, place)
            # a walk is never longer than the ring plus this id: a short ring cannot signal
            if ring is not None and len(ring[0]) + 1 >= s.sequential_run:
                walk = self._walk(r.ident, ring, now)
            tally = pushed(tally, counts, place, r.ident, int(now), self.ring_size)
        elif r.listing is not None:
            tally = pushed(tally, counts, _LISTED_AT, r.listing, int(now), LISTED_SIZE)
        else:
            tally = (counts, tally[1], tally[2], tally[3])
        if not dry_run:  # (a dry run counts a copy)
            store.replace_record(key, tally)
        if notes is not None and r.kind == PAGE:
            notes[_COUNTS_NOTE] = (current, previous, tally[1])
        return judge(s, r.kind, now, current, previous, walk)

    def _walk(self, ident: int, ring: Ring, now: float) -> int:
        """The walk ending at `ident` among the ring's ids fetched within `sequential_ttl`."""
        ids, times = ring
        cut = now - self._s.sequential_ttl
        if times[0] >= cut:  # oldest first: all of them are recent
            return walk_length(ident, ids)
        return walk_length(ident, [i for i, t in zip(ids, times, strict=True) if t >= cut])

    # -- Redis: one script --------------------------------------------------------------------

    def _script(self, r: _Request, dry_run: bool) -> tuple[list[str], list[Any]]:
        """The keys and arguments of the client's one script call (script.py): its hash, and
        its trap flag when the trap detector reads it along. Both are in the client's Cluster
        slot."""
        s = self._s
        bucket = int(r.now // s.window)
        ring = look = push = check = ident = ""
        size = self.ring_size
        if r.ident is not None:
            ring = RING_NAMES[r.kind]
            push = RING_ENTRY % (int(r.now), r.ident)
            ident = str(r.ident)
            if r.check:
                look, wanted = r.looked_up()
                check = SOUGHT % (wanted or 0)
        elif r.listing is not None:  # a listing page: remembered in its own short ring
            ring = LISTINGS
            push = RING_ENTRY % (int(r.now), r.listing)
            size = LISTED_SIZE
        args: list[Any] = [
            self._hash_ttl,
            bucket,
            bucket % 2,
            "".join(BUMP_DIGITS[b] for b in r.bumps),
            ring,
            push,
            size,
            look,
            check,
            _since(r.now - s.page_memory),
            "1" if dry_run else "0",
            ident,
            _since(r.now - s.sequential_ttl),
            "1" if self.lease_ring else "0",
        ]
        keys = [subject_key("bh:", r.client)]
        if self.reads_trap:
            keys.append(trap_key(r.client))
        return keys, args

    def _read(self, r: _Request, notes: dict[str, Any] | None, reply: Any) -> list[Signal]:
        """The signals from the script's answer: this window's counters (this request
        counted), the previous window's, the walk length (or, for a walk longer than two ids,
        or when leases want it, the ring, measured here). `notes`: a page's, where its counts
        and ring are left for its lease."""
        walk = reply[10]
        ring = None
        if not isinstance(walk, int):
            ring = str(walk)
            if ring[:1] == "W":  # a short walk, and the ring for a lease (`lease_ring`)
                walk, ring = int(ring[1]), ring[2:]
            else:
                recent = _ring_ids(ring, r.now - self._s.sequential_ttl)
                walk = walk_length(r.ident or 0, recent)
        if notes is not None and ring is not None and self.lease_ring:
            notes[_COUNTS_NOTE] = (reply[:5], reply[5:10], (ring, r.ident, r.now))
        return judge(self._s, r.kind, r.now, reply[:5], reply[5:10], walk)

    def _judged(
        self, r: _Request, current: list[int], previous: list[int], recent: list[int]
    ) -> list[Signal]:
        """The signals, given the ids of this kind fetched within `sequential_ttl`."""
        walk = 1 if r.ident is None else walk_length(r.ident, recent)
        return judge(self._s, r.kind, r.now, current, previous, walk)

    # -- any other store: the Store protocol, awaited -------------------------------------------

    async def _on_any_store(self, store: Store, r: _Request, dry_run: bool) -> Sequence[Signal]:
        s = self._s
        bucket = int(r.now // s.window)
        base = subject_key("bh:", r.client, ":")
        orphan = False
        if r.check:
            look, wanted = r.looked_up()
            pages = _split(await store.get(base + look))
            cut = r.now - s.page_memory
            orphan = not any(i == wanted and t >= cut for i, t in _entries(pages))
        if r.listing is not None and not dry_run:
            listed = _split(await store.get(base + LISTINGS))
            kept = [*listed, f"{r.listing}:{int(r.now)}"][-LISTED_SIZE:]
            await store.set(base + LISTINGS, ",".join(kept), ttl=s.page_memory)
        bumps = [*r.bumps, ORPHAN] if orphan else r.bumps
        current = []
        for i, field in enumerate(FIELDS):
            key = f"{base}{bucket}:{field}"
            if i in bumps and not dry_run:
                current.append(await store.incr(key, 1, ttl=2 * s.window))
            else:
                current.append(_int(await store.get(key)) + (i in bumps))
        previous = [_int(await store.get(f"{base}{bucket - 1}:{f}")) for f in FIELDS]
        recent: list[int] = []
        if r.ident is not None:
            key = base + RING_NAMES[r.kind]
            ring = _split(await store.get(key))
            if not dry_run:
                kept = [*ring, f"{r.ident}:{int(r.now)}"][-self.ring_size :]
                await store.set(key, ",".join(kept), ttl=s.sequential_ttl)
            cut = r.now - s.sequential_ttl
            recent = [i for i, t in _entries(ring) if t >= cut]
        return self._judged(r, current, previous, recent)


class _Request:
    __slots__ = ("bumps", "check", "claim", "client", "ident", "kind", "listing", "now")

    def __init__(
        self, client: str, now: float, kind: int, bumps: list[int], ident: int | None, check: bool
    ) -> None:
        self.client, self.now, self.kind, self.bumps = client, now, kind, bumps
        self.ident, self.check = ident, check
        self.claim: tuple[str, int] | None = None  # an original: the page its Referer names
        self.listing: int | None = None  # a page without an id: its path's hash

    def looked_up(self) -> tuple[str, int | None]:
        """Which list proves this original was shown, and what to find there: the page its
        Referer names (a listing by its path's hash, a work by its id) among those viewed, else
        its own page."""
        if self.claim is not None:
            return self.claim
        return RING_NAMES[PAGE], self.ident


def _taken(ctx: RequestContext) -> list[tuple[leasing.PageLease, Sequence[Record]]]:
    """The client's leased requests this evaluation reads (`lease_flush`), taken now (never
    in a dry run: it ends the client's leases first)."""
    leased = ctx.notes.pop(_LEASED_NOTE, None)
    return leasing.taken(leased) if leased else []


def _bumps(kind: int, facts: Facts) -> list[int]:
    """The counters a request adds to: its kind's, and the conditional requests' if it is one."""
    headers = facts.headers
    if headers.get("if-none-match") or headers.get("if-modified-since"):
        return [kind, COND]
    return [kind]


def _split(value: str | None) -> list[str]:
    return value.split(",") if value else []


def _ring_ids(ring: str, cut: float) -> list[int]:
    """The ids of a ring the script returned (`script.RING_ENTRY`, oldest first) fetched at or
    after `cut`: split once, times compared as ten-digit text; a malformed entry is skipped."""
    fields = ring.split()
    since = _since(cut)
    try:
        return [int(i) for t, i in zip(fields[::2], fields[1::2], strict=False) if t >= since]
    except ValueError:  # (only a foreign writer could leave one)
        return [
            int(i)
            for t, i in zip(fields[::2], fields[1::2], strict=False)
            if len(t) == 10 and t.isdigit() and t >= since and i.isdigit()
        ]


def _since(cut: float) -> str:
    """The earliest whole second at or after `cut`, as the script compares it (ten digits)."""
    return SECONDS % max(0, math.ceil(cut))


def _entries(ring: Sequence[Any]) -> list[tuple[int, float]]:
    """`id:seconds` strings as (id, seconds); anything malformed is skipped."""
    out = []
    for entry in ring:
        ident, _, seconds = str(entry).partition(":")
        try:
            out.append((int(ident), float(seconds)))
        except ValueError:
            continue
    return out


def _int(value: Any) -> int:
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
