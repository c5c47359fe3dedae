"""A settled lease's requests counted into the memory record at once (`count_leased`): the
record is the one a count and a ring push per request, in turn, would leave."""

from __future__ import annotations

import random

from scrapeshield.behaviour.evidence import ASSET, PAGE
from scrapeshield.behaviour.leasing import PageLease, count_leased
from scrapeshield.behaviour.record import (
    LISTED_SIZE,
    LISTINGS,
    NEW_TALLY,
    RING_NAMES,
    Tally,
    count,
    push,
)
from scrapeshield.behaviour.works import item_id, path_hash
from scrapeshield.lease.protocol import Record

WINDOW = 60.0


def one_by_one(
    tally: Tally, leases: list[tuple[PageLease, list[Record]]], window: float, size: int
) -> Tally:
    """Each leased request counted and pushed in turn, the long way."""
    for state, records in leases:
        for now, path in records:
            tally = (count(tally[0], int(now // window), state.bumps)[0], *tally[1:])
            if state.kind == ASSET:
                continue
            ident = item_id(path)
            if ident is not None:
                tally = push(tally, RING_NAMES[PAGE], ident, int(now), size)
            else:
                tally = push(tally, LISTINGS, path_hash(path), int(now), LISTED_SIZE)
    return tally


def test_it_leaves_the_record_one_request_at_a_time_would() -> None:
    draw = random.Random(19)
    paths = ["/artworks/7", "/artworks/12", "/", "/tags/cats", "/artworks/3", "/ranking"]
    for _ in range(3_000):
        size = draw.randint(1, 12)
        tally: Tally = NEW_TALLY
        now = 1_800_000_000.0 + draw.random() * 300
        if draw.random() < 0.7:  # a record with rings and counts already
            tally = one_by_one(
                tally, [(_lease(draw), _records(draw, paths, now - 90))], WINDOW, size
            )
        leases = [(_lease(draw), _records(draw, paths, now)) for _ in range(draw.randint(1, 3))]
        expected = one_by_one(tally, leases, WINDOW, size)
        assert count_leased(tally, leases, WINDOW, size) == expected


def _lease(draw: random.Random) -> PageLease:
    kind = draw.choice([PAGE, PAGE, ASSET])
    bumps = [PAGE] if kind == PAGE else draw.choice([[ASSET], [2, 3]])
    return PageLease("c", bumps, [], [], kind)


def _records(draw: random.Random, paths: list[str], start: float) -> list[Record]:
    """Requests over a minute and a half: windows turn among them."""
    times = sorted(start + draw.random() * 90 for _ in range(draw.randint(0, 40)))
    return [(t, draw.choice(paths)) for t in times]
