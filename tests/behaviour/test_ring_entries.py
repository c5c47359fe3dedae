"""A Redis ring's entries (`leasing.ring_entries`, read at each page lease's grant): any ring
gives the lists the field-by-field reading gives (a malformed entry skipped, an odd field left,
a non-ASCII digit refused)."""

from __future__ import annotations

import random

import pytest

from scrapeshield.behaviour.leasing import ring_entries


def field_by_field(ring: str) -> tuple[list[int], list[int]]:
    """What `ring_entries` answers, read the long way: each whole pair of fields in turn."""
    fields = ring.split()
    pairs = [(fields[k], fields[k + 1]) for k in range(0, len(fields) - 1, 2)]
    kept = [(int(i), int(t)) for t, i in pairs if t.isdigit() and i.isdigit()]
    return [i for i, _ in kept], [t for _, t in kept]


def test_a_written_ring_is_read_whole() -> None:
    ring = "1796679827 000000000007 1796679828 000000000012"
    assert ring_entries(ring) == ([7, 12], [1796679827, 1796679828])
    assert ring_entries("") == ([], [])


def test_any_ring_reads_as_field_by_field() -> None:
    draw = random.Random(19)
    pieces = ["17", "000000000007", "x", "-3", "²", "٣", "", "12a", "1796679827"]
    for _ in range(20_000):
        fields = [draw.choice(pieces) for _ in range(draw.randint(0, 9))]
        ring = draw.choice([" ", "  ", "\t"]).join(fields)
        try:
            expected = field_by_field(ring)
        except ValueError:  # ('²' is a digit int() refuses: refused either way)
            with pytest.raises(ValueError, match="invalid literal"):
                ring_entries(ring)
            continue
        assert ring_entries(ring) == expected, ring
