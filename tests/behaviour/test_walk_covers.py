"""behaviour/leasing.py's `page_covers`: a leased page's walk check gives, on every sequence, what
the full check gives (`item_id` of the path, the lease's ids within `sequential_ttl`,
`walk_length` against `sequential_run`), on random walks of every stride and direction,
interleaved with noise, repeats, listing pages and entries past their time."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from scrapeshield.behaviour.evidence import PAGE, walk_length
from scrapeshield.behaviour.leasing import PageLease, page_covers
from scrapeshield.behaviour.works import item_id

NOW = 1_800_000_000.0


def _full(lease: PageLease, path: str, now: float) -> bool:
    """The check as the detector made it before `page_covers`: a walk reaching `run` is not
    covered (evaluated in full)."""
    ident = item_id(path)
    if ident is None:
        return True
    cut = now - lease.ttl
    ids = [i for i, t in zip(lease.ids, lease.times, strict=True) if t >= cut]
    return walk_length(ident, ids) < lease.run


def _ids(rng: random.Random) -> list[int]:
    """Ids a client may have fetched: walks (any stride, either way), repeats, noise, mixed."""
    out: list[int] = []
    while len(out) < rng.randrange(0, 60):
        shape = rng.randrange(4)
        if shape == 0:  # a walk
            start, stride = rng.randrange(1, 60), rng.choice([-3, -2, -1, 1, 2, 3, 5])
            out += [start + k * stride for k in range(rng.randrange(2, 20))]
        elif shape == 1:  # one page again
            out += [rng.randrange(1, 60)] * rng.randrange(1, 6)
        elif shape == 2:  # noise
            out += [rng.randrange(1, 60) for _ in range(rng.randrange(1, 6))]
        else:  # two walks interleaved
            a, b = rng.randrange(1, 30), rng.randrange(30, 60)
            for k in range(rng.randrange(2, 10)):
                out += [a + k, b - k]
    return out


def _path(rng: random.Random, ids: list[int]) -> str:
    """The next page: one that extends a walk, repeats, or anything (a listing page too)."""
    shape = rng.randrange(5)
    if shape == 0 and len(ids) >= 2:
        ident = 2 * ids[-1] - ids[-2]
    elif shape == 1 and ids:
        ident = ids[-1]
    elif shape == 2:
        return rng.choice(["/artworks", "/", "/artworks?page=2", "/search/x"])
    else:
        ident = rng.randrange(-2, 70)
    return f"/artworks/{ident}" if ident >= 0 else "/artworks/x"


@pytest.mark.parametrize("seed", range(6))
def test_page_covers_is_the_full_walk_check(seed: int) -> None:
    rng = random.Random(seed)
    agreed = walks = 0
    for _ in range(1500):
        ids = _ids(rng)
        old = rng.random() < 0.3  # some of the ring past `sequential_ttl`
        ages = sorted((rng.randrange(0, 400 if old else 60) for _ in ids), reverse=True)
        times = [int(NOW) - age for age in ages]  # (oldest first, as the ring keeps them)
        run, ttl = rng.choice([3, 4, 5, 15]), rng.choice([5.0, 120.0])
        lease = PageLease("c", [PAGE], ids, times, PAGE, (run, ttl))
        path = _path(rng, ids)
        facts = SimpleNamespace(path=path, time=NOW)
        assert page_covers(lease, facts) is _full(lease, path, NOW)  # type: ignore[arg-type]
        assert lease.last == item_id(path)  # (what `lease_use` records)
        agreed += 1
        walks += not _full(lease, path, NOW)
    assert agreed == 1500
    assert walks > 100


def test_a_walk_through_a_lease_is_caught_at_its_run() -> None:
    """A crawler walking ids one by one under a lease: covered up to the page that makes the
    run, not from it, as the full check says (`lease_use` appends each covered page's id)."""
    lease = PageLease("c", [PAGE], [100], [int(NOW)], PAGE, (15, 120.0))
    covered = []
    for ident in range(101, 120):
        facts = SimpleNamespace(path=f"/artworks/{ident}", time=NOW)
        covered.append(page_covers(lease, facts))  # type: ignore[arg-type]
        if covered[-1]:
            lease.ids.append(ident)
            lease.times.append(int(NOW))
    assert covered.index(False) == 13  # id 114: 100..114 is 15 ids
