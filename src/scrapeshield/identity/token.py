"""The visitor token: a signed cookie naming one browser, issued with pages.

    payload = {"v": 128-bit random id, "b": binding (network /24 or /48 + user-agent hash),
               "iat": issued at, "exp": iat + max_age}

Signed by `challenge.tokens.Signer` under the kind `visitor`, which is part of the MAC input, so a
challenge pass can never be presented as a visitor token, nor a visitor token as a pass. A token
copied to another network or user agent fails its binding and counts as none.

Verifying is cached per token string (bounded): a browser presents the same cookie on every
request, and an HMAC plus a JSON parse per request would cost more than the rest of the detector.
What the cache keeps is a plain tuple of strings and numbers, which the garbage collector stops
tracking (a named tuple or a class instance, one per client, would be walked by every full
collection: docs/store.md); a request's `Visitor` is made from it.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from typing import Any

from scrapeshield.challenge.tokens import Signer, TokenError, binding_for, network_of
from scrapeshield.facts import Facts
from scrapeshield.identity.settings import IdentitySettings

KIND = "visitor"
_CACHE_SIZE = 4096
_MISSING = object()
_MAX_CACHED_HEADER = 1024


class Visitor:
    """A valid token's id and issue time."""

    __slots__ = ("id", "issued")

    def __init__(self, ident: str, issued: float) -> None:
        self.id = ident
        self.issued = issued


class VisitorTokens:
    """Issues and verifies visitor tokens; compiled once from settings."""

    def __init__(self, settings: IdentitySettings, keys: list[bytes]) -> None:
        self.settings = settings
        self.signer = Signer(keys)
        self.cookie = settings.cookie_name
        self._needle = settings.cookie_name + "="
        # Clients choose these: each bounded, its oldest entry dropped for a new one (tables
        # emptied when full made every returning client miss at once under a flood).
        self._verified: OrderedDict[str, Verified | None] = OrderedDict()  # by token
        self._bindings: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._values: OrderedDict[str, str | None] = OrderedDict()  # Cookie field -> value
        self._attributes = f"; Path=/; Max-Age={int(settings.max_age)}; HttpOnly; SameSite=Lax"

    def binding(self, facts: Facts) -> str:
        key = (facts.client_key, facts.user_agent)
        found = self._bindings.get(key)
        if found is None:
            s = self.settings
            network = network_of(facts.client_ip, s.network_ipv4_prefix, s.network_ipv6_prefix)
            found = self._bindings[key] = binding_for(network, key[1])
            _bound(self._bindings)
        return found

    def presented(self, facts: Facts) -> str | None:
        """The cookie's value, read without parsing the whole header (most requests: one
        substring test)."""
        header = facts.headers.get("cookie")
        if not header or self._needle not in header:
            return None
        found = self._values.get(header, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        value = None
        for part in header.split(";"):
            name, eq, text = part.strip().partition("=")
            if eq and name == self.cookie:
                value = text.strip('"') or None
                break
        if len(header) <= _MAX_CACHED_HEADER:
            self._values[header] = value
            _bound(self._values)
        return value

    def validate(self, facts: Facts) -> Visitor | None:
        """The visitor a valid token names; None without one (or with a bad one)."""
        value = self.presented(facts)
        if value is None:
            return None
        verified = self._verified
        found = verified.get(value)
        if found is None and value not in verified:
            found = verified[value] = _verified(self.signer, value)
            _bound(verified)
        if found is None:
            return None
        ident, issued, expires, binding = found
        if facts.time >= expires or binding != self.binding(facts):
            return None
        return Visitor(ident, issued)

    def issue(self, facts: Facts, issued: float | None = None) -> tuple[bytes, bytes]:
        """A new token as a Set-Cookie field (Secure over HTTPS, as the challenge pass).
        `issued`: its issue time (default now), for a benchmark's or a test's returning visitor."""
        return self.issued(facts, issued)[1]

    def issued(self, facts: Facts, issued: float | None = None) -> tuple[str, tuple[bytes, bytes]]:
        """`issue`, with the new token's visitor id."""
        now = int(time.time() if issued is None else issued)
        ident, binding = secrets.token_urlsafe(16), self.binding(facts)
        expires = now + int(self.settings.max_age)
        token = self.signer.sign(KIND, {"v": ident, "b": binding, "iat": now, "exp": expires})
        # known good: its first return is not verified again (an HMAC and a parse per client)
        self._verified[token] = (ident, float(now), float(expires), binding)
        _bound(self._verified)
        value = f"{self.cookie}={token}{self._attributes}"
        if facts.scheme == "https":
            value += "; Secure"
        return ident, (b"set-cookie", value.encode("latin-1"))


Verified = tuple[str, float, float, str]
"""What a token with a good signature says: its visitor's id, its issue and expiry times, its
binding (the expiry and binding are checked per request)."""


def _bound(table: OrderedDict[Any, Any]) -> None:
    """Keep a table to `_CACHE_SIZE` entries: its oldest out (O(1) each, an `OrderedDict`)."""
    while len(table) > _CACHE_SIZE:
        table.popitem(last=False)


def _verified(signer: Signer, token: str) -> Verified | None:
    """The token's visitor, expiry and binding when its signature holds and its payload is
    well formed: verified against an empty binding, which a signed token never has, so a good
    signature ends in the `binding` error that carries the payload."""
    try:
        signer.verify(KIND, token, binding="")
    except TokenError as exc:
        payload = exc.payload if exc.reason == "binding" else None
        if payload is not None:
            ident, issued, expires = payload.get("v"), payload.get("iat"), payload.get("exp")
            binding = payload.get("b")
            if (
                isinstance(ident, str)
                and ident  # ("" would read as no token)
                and isinstance(binding, str)
                and isinstance(issued, int | float)
                and isinstance(expires, int | float)
            ):
                return ident, float(issued), float(expires), binding
    return None
