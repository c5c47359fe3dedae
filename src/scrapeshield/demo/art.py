"""Deterministic generative artwork for the demo gallery: PNGs made with zlib, no image library."""

from __future__ import annotations

import math
import random
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

ARTWORK_COUNT = 300
SIZE = 160

_ADJECTIVES = (
    "Quiet",
    "Amber",
    "Drifting",
    "Hollow",
    "Luminous",
    "Paper",
    "Velvet",
    "Sunken",
    "Restless",
    "Glass",
    "Wandering",
    "Folded",
    "Crimson",
    "Silent",
    "Northern",
    "Electric",
    "Faded",
    "Tidal",
)
_NOUNS = (
    "Harbour",
    "Lanterns",
    "Orchard",
    "Meridian",
    "Foxes",
    "Staircase",
    "Monsoon",
    "Atlas",
    "Cathedral",
    "Moths",
    "Signal",
    "Garden",
    "Reverie",
    "Comet",
    "Archive",
    "Tides",
    "Kite",
)
_ARTISTS = (
    "Aiko Mori",
    "Lena Vogt",
    "Tomás Reyes",
    "Priya Nair",
    "Kenji Sato",
    "Maya Lindqvist",
    "Omar Haddad",
    "Yuki Tanaka",
    "Chloé Martin",
    "Ravi Menon",
    "Hana Kim",
    "Sofia Rossi",
)


@dataclass(frozen=True, slots=True)
class Artwork:
    id: int
    title: str
    artist: str
    year: int


def artwork(artwork_id: int) -> Artwork | None:
    if not 1 <= artwork_id <= ARTWORK_COUNT:
        return None
    rng = random.Random(artwork_id)
    title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    return Artwork(artwork_id, title, rng.choice(_ARTISTS), 2015 + rng.randrange(11))


@lru_cache(maxsize=ARTWORK_COUNT)
def png(artwork_id: int) -> bytes:
    """A SIZE×SIZE RGB PNG: overlapping soft rings on a gradient, seeded by the artwork id."""
    rng = random.Random(artwork_id * 7919)
    base = [rng.randrange(40, 200) for _ in range(3)]
    tint = [rng.randrange(60, 255) for _ in range(3)]
    rings = [
        (rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(8, SIZE / 2)) for _ in range(5)
    ]
    rows = bytearray()
    for y in range(SIZE):
        rows.append(0)
        for x in range(SIZE):
            glow = 0.0
            for cx, cy, radius in rings:
                distance = math.hypot(x - cx, y - cy)
                glow += max(0.0, 1 - abs(distance - radius) / 12)
            glow = min(1.0, glow)
            t = (x + y) / (2 * SIZE)
            for channel in range(3):
                value = base[channel] * (1 - t) + tint[channel] * t
                rows.append(int(value * (1 - glow) + 250 * glow) & 0xFF)
    return _encode(bytes(rows))


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _encode(raw: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )
