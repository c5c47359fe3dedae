"""Deterministic generative artwork for the demo gallery: PNGs made with zlib, no image library."""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

ARTWORK_COUNT = 300
SIZE = 160
THUMB_STEP = 2  # thumbnails: 80×80

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
    """The original: a SIZE×SIZE RGB PNG of overlapping panels on a vertical gradient."""
    return _encode(b"".join(b"\x00" + row for row in _rows(artwork_id)), SIZE)


@lru_cache(maxsize=ARTWORK_COUNT)
def thumbnail(artwork_id: int) -> bytes:
    """The index's preview: every THUMB_STEP-th pixel of the original, so a person browsing the
    index fetches thumbnails, and only an artwork's own page shows its original."""
    rows = _rows(artwork_id)[::THUMB_STEP]
    small = [b"".join(row[x * 3 : x * 3 + 3] for x in range(0, SIZE, THUMB_STEP)) for row in rows]
    return _encode(b"".join(b"\x00" + row for row in small), SIZE // THUMB_STEP)


def _rows(artwork_id: int) -> list[bytes]:
    """The original's RGB rows. Built a row at a time with bytearray slice assignment (about
    1 ms), so serving a gallery page never stalls the event loop."""
    rng = random.Random(artwork_id * 7919)
    top = [rng.randrange(30, 220) for _ in range(3)]
    bottom = [rng.randrange(30, 220) for _ in range(3)]
    panels = []
    for _ in range(rng.randrange(4, 9)):
        x0, y0 = rng.randrange(0, SIZE - 16), rng.randrange(0, SIZE - 16)
        x1, y1 = rng.randrange(x0 + 12, SIZE + 1), rng.randrange(y0 + 12, SIZE + 1)
        colour = bytes(rng.randrange(0, 256) for _ in range(3))
        panels.append((x0, y0, x1, y1, colour))
    rows: list[bytes] = []
    for y in range(SIZE):
        t = y / (SIZE - 1)
        background = bytes(int(a * (1 - t) + b * t) for a, b in zip(top, bottom, strict=True))
        row = bytearray(background * SIZE)
        for x0, y0, x1, y1, colour in panels:
            if y0 <= y < y1:
                edge = y in (y0, y1 - 1)
                fill = b"\xf5\xf0\xe6" if edge else colour
                row[x0 * 3 : x1 * 3] = fill * (x1 - x0)
                row[x0 * 3 : x0 * 3 + 3] = row[(x1 - 1) * 3 : x1 * 3] = b"\xf5\xf0\xe6"
        rows.append(bytes(row))
    return rows


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _encode(raw: bytes, size: int) -> bytes:
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )
