"""A lease's end read from what the lease holds (behaviour/leasing.py): `kept` from the ids and
times `lease_use` appended, where no leased page was a listing, and `runs` from the earliest
and latest request, give what reading every record in turn gives: the records made as
`Leases.use` makes them (each page covered, recorded, then used), taken in parts (flushes
before full evaluations, then the settle), listings among them or not, times in any order."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import pytest

from scrapeshield.behaviour.detector import BehaviourDetector
from scrapeshield.behaviour.evidence import ASSET, PAGE
from scrapeshield.behaviour.leasing import (
    PageLease,
    _kept_by_paths,
    count_leased,
    kept,
    page_covers,
    runs,
    taken,
)
from scrapeshield.behaviour.record import NEW_TALLY
from scrapeshield.behaviour.settings import BehaviourSettings
from scrapeshield.lease.protocol import Record
from tests.behaviour.test_count_leased import one_by_one

WINDOW = 60.0
START = 1_800_000_000.0
DETECTOR = BehaviourDetector(BehaviourSettings(window=WINDOW), leases=True)
WORKS = [f"/artworks/{i}" for i in (3, 7, 12, 40)]
LISTINGS = ["/", "/tags/cats", "/ranking"]


def _used(rng: random.Random, state: PageLease, records: list[Record], paths: list[str]) -> None:
    """A few requests leased as `Leases.use` leases them: a page lease's covered (`page_covers`
    may refuse a walk: then evaluated in full, not recorded), each recorded, then used."""
    for _ in range(rng.randrange(0, 50)):
        now = START + rng.random() * 90  # (windows turn among them; any order)
        facts: Any = SimpleNamespace(path=rng.choice(paths), time=now)
        if state.kind == PAGE and not page_covers(state, facts):
            continue
        records.append((facts.time, facts.path))
        DETECTOR.lease_use(state, facts, facts, len(records))


@pytest.mark.parametrize("seed", range(4))
def test_kept_from_what_the_leases_hold_is_kept_from_their_paths(seed: int) -> None:
    rng = random.Random(seed)
    held = read = 0
    for _ in range(400):
        size = rng.choice([1, 3, 32, 40])
        paths = WORKS + (LISTINGS if rng.random() < 0.3 else [])
        leases: list[tuple[PageLease, list[Record]]] = []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.2:  # an asset lease: not covered, nothing appended
                leases.append((PageLease("c", [ASSET], [], [], ASSET), []))
                continue
            ring = [rng.randrange(1, 50) for _ in range(rng.randrange(0, size + 1))]
            times = sorted(int(START) - rng.randrange(0, 100) for _ in ring)
            leases.append((PageLease("c", [PAGE], ring, times, PAGE, (20, 120.0)), []))
        tally = NEW_TALLY
        for _ in range(rng.randint(1, 3)):  # flushes, then the settle
            for state, records in leases:
                _used(rng, state, records, paths)
            parts = taken([(state, list(records)) for state, records in leases])
            expected = _kept_by_paths(parts, size)
            assert kept(parts, size) == expected
            if parts and any(s.kind == PAGE for s, _ in parts):
                listed = any(p in LISTINGS for s, r in parts if s.kind == PAGE for _, p in r)
                held += not listed
                read += listed
            counted = count_leased(tally, parts, WINDOW, size)
            assert counted == one_by_one(tally, [(s, list(r)) for s, r in parts], WINDOW, size)
            tally = counted
    assert held > 200  # (both ways are taken)
    assert read > 50


def test_a_leased_listing_makes_kept_read_the_paths() -> None:
    """One listing among a lease's pages: its entry is in the listings' ring, read from the
    path, not from the ids the lease holds (which have none for it)."""
    state, records = PageLease("c", [PAGE], [], []), []
    for i, path in enumerate(["/artworks/1", "/tags/cats", "/artworks/2"]):
        facts: Any = SimpleNamespace(path=path, time=START + i)
        assert page_covers(state, facts)
        records.append((facts.time, path))
        DETECTOR.lease_use(state, facts, facts, len(records))
    pages, listed = kept(taken([(state, records)]), 32)
    assert pages == [(int(START), 1), (int(START) + 2, 2)]
    assert len(listed) == 1


def _runs_in_turn(records: list[Record], window: float) -> list[tuple[int, int]]:
    """Each request's window in turn: a run per stretch of one window."""
    out: list[tuple[int, int]] = []
    for now, _ in records:
        within = int(now // window)
        if out and out[-1][0] == within:
            out[-1] = (within, out[-1][1] + 1)
        else:
            out.append((within, 1))
    return out


def test_runs_hold_for_records_out_of_order() -> None:
    """A request that waited is recorded after later ones, its time in the window before:
    the first and last requests share a window, the runs are three."""
    start = (START // WINDOW) * WINDOW
    records = [(start + 1.0, "/artworks/1"), (start - 0.5, "/artworks/2"), (start + 2.0, "/")]
    first = int(start // WINDOW)
    assert runs(records, WINDOW) == [(first, 1), (first - 1, 1), (first, 1)]
    rng = random.Random(5)
    for _ in range(2_000):
        base = start + rng.choice([0.0, WINDOW - 1.0, WINDOW / 2])
        records = [(base + rng.random() * 2.0, "/") for _ in range(rng.randrange(0, 20))]
        if rng.random() < 0.5:
            records.sort()
        assert runs(records, WINDOW) == _runs_in_turn(records, WINDOW)
