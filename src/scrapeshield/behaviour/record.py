"""What the MemoryStore keeps of one client for behaviour (a `Tally`, as Redis keeps the hash
`bh:{<client>}`), and the pushes and look-ups of its rings of recent ids."""

from __future__ import annotations

from collections.abc import Sequence

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
by every full collection (docs/store.md, "Per-client state")."""
NEW_TALLY: Tally = ((0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1), None, None, None)


def new_tally() -> Tally:
    return NEW_TALLY


def ring_of(tally: Tally, name: str) -> Ring | None:
    """A tally's ring `name` (one of `RINGS`)."""
    return tally[1:][RINGS.index(name)]


def count(counts: Counts, bucket: int, bumps: Sequence[int]) -> tuple[Counts, int]:
    """`counts` (a `Tally`'s first item) with `bumps` added to window `bucket`'s counters,
    anew at the window's first request, and where that window's five counters start (6 × its
    parity)."""
    at = 6 * (bucket % 2)
    window = list(counts[at : at + 6]) if counts[at + 5] == bucket else [0, 0, 0, 0, 0, bucket]
    for b in bumps:
        window[b] += 1
    return (*counts[:at], *window, *counts[at + 6 :]), at


def push(tally: Tally, name: str, ident: int, now: int, size: int) -> Tally:
    """`tally` with `ident` pushed to ring `name` (the oldest entry dropped past `size`)."""
    rings = list(tally[1:])
    at = RINGS.index(name)
    ids, times = rings[at] or ((), ())
    rings[at] = ((*ids, ident)[-size:], (*times, now)[-size:])
    return tally[0], rings[0], rings[1], rings[2]


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
