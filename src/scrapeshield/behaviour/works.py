"""Which work a request is about: the id at the end of its path, the page an original's
Referer names, a listing page's hash. Behaviour counts and walks by these (docs/behaviour.md)."""

from __future__ import annotations

import re
import zlib

from scrapeshield.behaviour.evidence import PAGE
from scrapeshield.behaviour.record import LISTINGS, RING_NAMES
from scrapeshield.facts import Facts

ITEM_ID = re.compile(r"/(\d{1,12})(?:\.[A-Za-z0-9]{1,8})?/?$")
ITEM_TAIL = 32  # the id is at the end: only this tail is searched (a match is <= 24 characters)


def item_id(path: str) -> int | None:
    """The work id at the end of a path (`/artworks/7`, `/images/0001.png`: 1), else None."""
    item = ITEM_ID.search(path, max(0, len(path) - ITEM_TAIL))
    return int(item.group(1)) if item is not None else None


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
    item = ITEM_ID.search(path)
    if item is not None:
        return RING_NAMES[PAGE], int(item.group(1))
    return LISTINGS, path_hash(path)


def path_hash(path: str) -> int:
    """A page's path as a small int (a listing page's place in its ring)."""
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) & 0x7FFFFFFF
