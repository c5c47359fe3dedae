"""The memory record's ring look-up (`record.seen`): an id counts as viewed when any of its
entries is recent enough, whatever entries of it or of other ids come before or after."""

from __future__ import annotations

import random

from scrapeshield.behaviour.record import Ring, seen


def every_entry(ring: Ring | None, ident: int | None, cut: float) -> bool:
    """What `seen` answers, read the long way: each entry of the ring in turn."""
    return ring is not None and any(i == ident and t >= cut for i, t in zip(*ring, strict=True))


def test_an_old_entry_of_an_id_does_not_hide_a_recent_one() -> None:
    ring = ((7, 3, 7, 5), (100, 150, 200, 250))
    assert seen(ring, 7, 180)  # the first 7 is too old, the second is not
    assert not seen(ring, 7, 201)  # both too old
    assert seen(ring, 5, 250)
    assert not seen(ring, 3, 151)
    assert not seen(ring, 9, 0)
    assert not seen(None, 7, 0)
    assert not seen(((), ()), 7, 0)


def test_it_answers_as_reading_every_entry() -> None:
    draw = random.Random(5)
    for _ in range(20_000):
        size = draw.randint(0, 40)
        ring = (
            tuple(draw.randint(0, 10) for _ in range(size)),
            tuple(draw.randint(0, 100) for _ in range(size)),
        )
        ident, cut = draw.choice([None, draw.randint(0, 12)]), draw.randint(0, 110)
        assert seen(ring, ident, cut) == every_entry(ring, ident, cut), (ring, ident, cut)
