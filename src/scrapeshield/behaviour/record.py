"""What the MemoryStore keeps of one client for behaviour (a `Tally`, as Redis keeps the hash
`bh:{<client>}`), and the pushes and look-ups of its rings of recent ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from scrapeshield.behaviour.evidence import IMAGE, PAGE

LISTINGS = "listed"  # the listing pages (no id) a client viewed: path hashes (the latest 16)
LISTED_SIZE = 16  # (that ring's size, entries)
RINGS = ("pages", "images", LISTINGS)  # (their names on Redis too)
RING_NAMES = {PAGE: "pages", IMAGE: "images"}  # each kind's ring of ids (script.RING_ENTRY)
Ring = tuple[tuple[int, ...], tuple[int, ...]]  # a memory ring: ids and their whole seconds
Counts = tuple[int, ...]  # a memory record's counters (see `Tally`)


Tally = tuple[Counts, Ring | None, Ring | None, Ring | None]
"""What the MemoryStore keeps of one client (on Redis, the hash `bh:{<client>}`): the counters
of two windows by the parity of the window's index, each followed by the index it holds
(`p0 i0 a0 c0 o0 w0 p1 ... w1`), then the rings of recent ids in `RINGS`' order (ids and their
whole seconds, oldest first; None until the first push; entries older than their memory are
skipped by time). A plain tuple of plain tuples of integers, replaced at each change
(`MemoryStore.replace_record`), never changed in place: a store keeps one per client, and the
garbage collector stops tracking such tuples, where a class instance or lists would be walked
by every full collection (docs/log/store.md, "Per-client state")."""
NEW_TALLY: Tally = ((0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1), None, None, None)


def new_tally() -> Tally:
    return NEW_TALLY


RING_AT = {name: 1 + i for i, name in enumerate(RINGS)}  # each ring's place in a `Tally`


def ring_of(tally: Tally, name: str) -> Ring | None:
    """A tally's ring `name` (one of `RINGS`)."""
    return ring_at(tally, RING_AT[name])


def ring_at(tally: Tally, at: int) -> Ring | None:
    """A tally's ring at `at` (one of `RING_AT`'s places)."""
    return cast("Ring | None", tally[at])


def count(
    counts: Counts, bucket: int, bumps: Sequence[int], requests: int = 1
) -> tuple[Counts, int]:
    """`counts` (a `Tally`'s first item) with `bumps` added to window `bucket`'s counters (for
    each of `requests` alike), anew at the window's first request, and where that window's five
    counters start (6 × its parity)."""
    at = 6 * (bucket % 2)
    new = list(counts)
    if new[at + 5] != bucket:
        new[at : at + 6] = (0, 0, 0, 0, 0, bucket)
    for b in bumps:
        new[at + b] += requests
    return tuple(new), at


def pushed(tally: Tally, counts: Counts, at: int, ident: int, now: int, size: int) -> Tally:
    """`tally` with `counts` for its counters and `ident` pushed to its ring at `at` (one of
    `RING_AT`'s places; the oldest entry dropped past `size`): one new record, built once."""
    ids, times = ring_at(tally, at) or ((), ())
    ring = ((*ids, ident)[-size:], (*times, now)[-size:])
    if at == 1:
        return counts, ring, tally[2], tally[3]
    if at == 2:
        return counts, tally[1], ring, tally[3]
    return counts, tally[1], tally[2], ring


def push(tally: Tally, name: str, ident: int, now: int, size: int) -> Tally:
    """`tally` with `ident` pushed to ring `name` (the oldest entry dropped past `size`)."""
    return pushed(tally, tally[0], RING_AT[name], ident, now, size)


def pushed_all(
    tally: Tally, name: str, ids: Sequence[int], times: Sequence[int], size: int
) -> Tally:
    """`push` of each of `ids` (with its time in `times`) in turn, as one new record."""
    at = RING_AT[name]
    old_ids, old_times = ring_at(tally, at) or ((), ())
    ring = ((*old_ids, *ids)[-size:], (*old_times, *times)[-size:])
    return cast("Tally", (*tally[:at], ring, *tally[at + 1 :]))


def seen(ring: Ring | None, ident: int | None, cut: float) -> bool:
    """Whether `ident` is in the ring at or after `cut`: only its own entries are read (found
    by `list.index`), not every entry of the ring (an original's check, ~1 µs less)."""
    if ring is None or ident not in ring[0]:
        return False
    ids, times = ring
    at = ids.index(ident)
    try:
        while times[at] < cut:  # too old: a later entry of the same id may not be
            at = ids.index(ident, at + 1)
    except ValueError:
        return False
    return True
