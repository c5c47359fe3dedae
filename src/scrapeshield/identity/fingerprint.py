"""The header fingerprint: what one client build sends the same way on every request of a kind.

    fingerprint = blake2b(names in order, minus the volatile ones; then the values of
                          Accept, Accept-Language, Accept-Encoding, Sec-CH-UA, User-Agent)

A browser fixes these: the order it writes its fields, its Accept for a kind of request (a
page's differs from an image's, so a page and its image have different fingerprints, which is
why each is counted with its own kind), its languages, encodings, brand list and user agent.
Fields that come and go from one request to the next (a cookie, a Referer, cache validators,
`Sec-Fetch-User` on clicks only) and those a proxy adds are left out, so the fingerprint stays
the same through a visit. ASGI servers keep the order the client sent; `Facts.headers` is a
dict built in that order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from scrapeshield.fingerprint.memo import Memo

VOLATILE = frozenset(
    {
        "cookie",
        "referer",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-range",
        "cache-control",
        "pragma",
        "range",
        "priority",
        "content-length",
        "content-type",
        "origin",
        "authorization",
        "sec-fetch-user",
        "sec-purpose",
        "purpose",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-real-ip",
        "forwarded",
        "x-request-id",
        "via",
    }
)
FIXED = ("accept", "accept-language", "accept-encoding", "sec-ch-ua", "user-agent")


def header_fingerprint(headers: Mapping[str, str]) -> str:
    """16 hex digits; the same for every request of one kind from one client build."""
    names = ",".join([name for name in headers if name not in VOLATILE])
    values = "\n".join([headers.get(name, "")[:512] for name in FIXED])
    text = f"{names}\n{values}".encode("latin-1", "replace")
    return hashlib.blake2b(text, digest_size=8).hexdigest()


class Fingerprints:
    """`header_fingerprint`, kept per exact input: a browser repeats its header set, so a
    repeat costs building the key and one lookup, not a join and a hash of ~400 characters.
    The key holds every field name in order and the values of `FIXED`, all the function reads,
    so no request is given another header set's fingerprint; bounded by `Memo`."""

    def __init__(self, entries: int = 4096, chars: int = 4_000_000) -> None:
        self._memo: Memo[str] = Memo(entries, chars)

    def __call__(self, headers: Mapping[str, str]) -> str:
        key = (tuple(headers), *map(headers.get, FIXED))  # (no comprehension's frame: 3.2k)
        found = self._memo.get(key)
        if found is None:
            found = header_fingerprint(headers)
            chars = sum(map(len, headers)) + sum(len(v) for v in key[1:] if v is not None)
            self._memo.put(key, found, chars)
        return found
