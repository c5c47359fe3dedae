"""Which work a request is about: the id at the end of its path, the page an original's
Referer names, a listing page's hash. Behaviour counts and walks by these (docs/behaviour.md)."""

from __future__ import annotations

import functools
import re
import zlib

from scrapeshield.behaviour.evidence import PAGE
from scrapeshield.behaviour.record import LISTINGS, RING_NAMES
from scrapeshield.facts import Facts

ITEM_ID = re.compile(r"/(\d{1,12})(?:\.[A-Za-z0-9]{1,8})?/?$")
"""Where a path names a work (its id: group 1): `item_id` reads what this matches, with string
methods (a third of a search's cost); tests/behaviour/test_works.py holds them to the same."""
ITEM_TAIL = 32  # the id is at the end: only this tail is read (a match is <= 24 characters)


def item_id(path: str) -> int | None:
    """The work id at the end of a path (`/artworks/7`, `/images/0001.png`: 1), else None, as
    `ITEM_ID` finds it: the last segment is 1 to 12 digits, with an extension or not (`.` and
    1 to 8 ASCII letters or digits), before one `/` or none (or, as `$` allows, a newline).
    Read once per path's tail (the only part it reads): most requests repeat a few paths
    (a page 5.1k instructions less; docs/log/architecture.md, 2026-12-07)."""
    return _tail_id(path[-ITEM_TAIL:])


@functools.lru_cache(maxsize=4096)  # (tails come from clients: bounded, each <= 32 chars)
def _tail_id(tail: str) -> int | None:
    if tail[-1:] == "\n":
        tail = tail[:-1]
    if tail[-1:] == "/":
        tail = tail[:-1]
    _, slash, last = tail.rpartition("/")
    digits, dot, extension = last.partition(".")
    if not slash or not 0 < len(digits) <= 12 or not digits.isdecimal():
        return None
    if dot and not (0 < len(extension) <= 8 and extension.isascii() and extension.isalnum()):
        return None
    return int(digits)


def claim_of(facts: Facts) -> tuple[str, int] | None:
    """The page of this site that the Referer says shows this original: (LISTINGS, the hash
    of a page without an id) or (the page ring, a work's id); None when it names none. Only a
    claim: the detector checks that this client viewed that page within `page_memory`."""
    referer = facts.headers.get("referer", "")
    _, sep, rest = referer.partition("://")
    if not sep:
        return None
    host, _, path = rest.partition("/")
    if host.lower() != facts.host:
        return None
    path = "/" + path.split("?", 1)[0].split("#", 1)[0]
    if path == facts.path:
        return None
    ident = item_id(path)
    if ident is not None:
        return RING_NAMES[PAGE], ident
    return LISTINGS, path_hash(path)


def path_hash(path: str) -> int:
    """A page's path as a small int (a listing page's place in its ring)."""
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) & 0x7FFFFFFF
