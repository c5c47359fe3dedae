"""behaviour/leasing.py's `page_covers`: a leased page's walk check gives, on every sequence, what
the full check gives (`item_id` of the path, the lease's ids within `sequential_ttl`,
`walk_length` against `sequential_run`), on random walks of every stride and direction,
interleaved with noise, repeats, listing pages and entries past their time, at any time a
lease granted then can cover (`aging`: whether the times are read at all)."""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import pytest

from scrapeshield.behaviour.evidence import PAGE, walk_length
from scrapeshield.behaviour.leasing import PageLease, aging, page_covers
from scrapeshield.behaviour.works import item_id
from scrapeshield.lease.settings import MAX_SECONDS

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


def _time(rng: random.Random) -> float:
    """A leased request's time: the grant's, any within `MAX_SECONDS`, or the last float
    before its end."""
    return rng.choice([NOW, NOW + rng.uniform(0, MAX_SECONDS), math.nextafter(END, 0)])


END = NOW + MAX_SECONDS


@pytest.mark.parametrize("seed", range(6))
def test_page_covers_is_the_full_walk_check(seed: int) -> None:
    rng = random.Random(seed)
    walks = aged = 0
    for _ in range(1500):
        ids = _ids(rng)
        old = rng.random() < 0.3  # some of the ring past `sequential_ttl`
        ages = sorted((rng.randrange(0, 400 if old else 60) for _ in ids), reverse=True)
        times = [int(NOW) - age for age in ages]  # (oldest first, as the ring keeps them)
        run, ttl = rng.choice([3, 4, 5, 15]), rng.choice([5.0, 61.0, 120.0, 120.4])
        lease = PageLease("c", [PAGE], ids, times, PAGE, (run, ttl))
        lease.aging = aging(times, NOW, ttl)  # (as the grant at NOW sets it)
        path, now = _path(rng, ids), _time(rng)
        facts = SimpleNamespace(path=path, time=now)
        assert page_covers(lease, facts) is _full(lease, path, now)  # type: ignore[arg-type]
        assert lease.last == item_id(path)  # (what `lease_use` records)
        walks += not _full(lease, path, now)
        aged += bool(times) and times[0] < now - ttl
    assert walks > 100  # (walks are found, not only their absence)
    assert aged > 100  # (and ids past their time)


@pytest.mark.parametrize("ttl", [61.0, 120.0, 120.4, 86_400.0])
def test_ids_that_pass_their_time_within_a_lease_are_aging(ttl: float) -> None:
    """Wherever an id granted at NOW is past `ttl` at a time a lease then covers (before
    NOW + `MAX_SECONDS`, to its last float), `aging` says so; ids that cannot pass are not."""
    edge = int(END - ttl)
    young = 0
    for oldest in range(edge - 50, min(edge + 50, int(NOW)) + 1):
        if not aging([oldest], NOW, ttl):
            young += 1
            for at in (NOW, NOW + 30.5, math.nextafter(END, 0)):
                assert oldest >= at - ttl
    assert young  # (`aging` is not always True)


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
