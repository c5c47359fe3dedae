"""Signed, expiring tokens bound to a client: challenges, no-JS waits and pass cookies.

    token = base64url(JSON payload) "." base64url(HMAC-SHA256(key, kind "." payload))

The kind is part of the MAC input, so a challenge token can never be presented as a pass
cookie. The first key signs and every key verifies (rotation); MACs are compared with
`hmac.compare_digest`. The payload carries a short hash of the client's network and user agent
(the *binding*), so a token copied to another network or browser fails.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from scrapeshield.client import IPAddress
from scrapeshield.facts import client_network

MAX_TOKEN_LENGTH = 2048
# The payload as `json.dumps(payload, separators=(",", ":"), sort_keys=True)` writes it
# (ASCII payloads byte for byte), at a tenth of its cost: a visitor token is signed for every
# page asked without one (~2.5 µs of json.dumps per request under such a load, 0.3 here).
_payload_json = msgspec.json.Encoder(order="sorted").encode
_read_json = msgspec.json.decode
"""A payload read back (only once its MAC holds, so only what `_payload_json` wrote): ~0.2 µs
where `json.loads` took ~2.1, a fourth of a visitor token's first check (docs/log/architecture.md,
"Many clients"); a malformed one raises a `ValueError` as `json.loads` does."""


class TokenError(Exception):
    """Why a token was rejected; `reason` is a short slug used in signal names and the log."""

    def __init__(self, reason: str, payload: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.payload = payload  # set once the signature is valid (expired, binding)


# `base64.urlsafe_b64encode` and `urlsafe_b64decode` as the `binascii` calls they make (the
# module's wrappers, cold, were most of a token's first check: docs/log/architecture.md,
# "What a reader's first sight costs")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Only the canonical form `_b64` writes: the decoder alone also takes `/` for `_`, `+` for
    `-` and other unused low bits in the last character, so one token would have many
    spellings (a pass copied with one character changed would still verify). `text` is ASCII
    (`verify` checks it first; otherwise a `ValueError`, as `urlsafe_b64decode` raises)."""
    padded = (text + "=" * (-len(text) % 4)).encode("ascii")
    data = binascii.a2b_base64(padded.translate(_FROM_URLSAFE))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def network_of(ip: IPAddress | None, ipv4_prefix: int, ipv6_prefix: int) -> str:
    """The client's network as a pass or a visitor token is bound to it (a NAT pool or a
    changing IPv6 suffix stays inside it), in `client_network`'s text (an IPv4 one from its
    masked integer, no parsing)."""
    return "unknown" if ip is None else client_network(ip, ipv4_prefix, ipv6_prefix)


def binding_for(network: str, user_agent: str) -> str:
    """A short, non-secret hash of network and user agent (the MAC protects it)."""
    digest = hashlib.sha256(f"{network}\n{user_agent}".encode("utf-8", "replace")).digest()
    return _b64(digest[:12])


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    payload: dict[str, Any]

    @property
    def expires(self) -> float:
        return float(self.payload["exp"])


class Signer:
    """HMAC signing with key rotation; keys are bytes, the first one signs."""

    __slots__ = ("_keyed", "_keys")

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a Signer needs at least one key")
        self._keys = tuple(keys)
        # each key's HMAC with the key already put in, copied per MAC (never updated itself):
        # a new HMAC per token set its key up again, ~2x a copy's cost on a client's first
        # token (docs/log/architecture.md, "What a reader's first sight costs")
        self._keyed = {key: hmac.new(key, digestmod=hashlib.sha256) for key in self._keys}

    def _mac(self, key: bytes, kind: str, body: str) -> bytes:
        mac = self._keyed[key].copy()
        mac.update(f"{kind}.{body}".encode("ascii"))
        return mac.digest()

    def sign(self, kind: str, payload: dict[str, Any]) -> str:
        body = _b64(_payload_json(payload))
        return f"{body}.{_b64(self._mac(self._keys[0], kind, body))}"

    def verify(self, kind: str, token: str, *, binding: str, now: float | None = None) -> Token:
        """The token's payload, or `TokenError` (malformed, signature, expired, binding)."""
        if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise TokenError("malformed")
        body, dot, mac_text = token.partition(".")
        if not dot or not body or not mac_text:
            raise TokenError("malformed")
        try:
            mac = _unb64(mac_text)
            raw = _unb64(body)
        except (binascii.Error, ValueError):
            raise TokenError("malformed") from None
        valid = False
        for key in self._keys:  # every key is tried, so timing does not reveal which matched
            valid |= hmac.compare_digest(mac, self._mac(key, kind, body))
        if not valid:
            raise TokenError("signature")
        try:
            payload = _read_json(raw)
        except (UnicodeDecodeError, ValueError):
            raise TokenError("malformed") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int | float):
            raise TokenError("malformed")
        now = time.time() if now is None else now
        if now >= payload["exp"]:
            raise TokenError("expired", payload)
        if not hmac.compare_digest(str(payload.get("b", "")).encode(), binding.encode()):
            raise TokenError("binding", payload)
        return Token(kind, payload)
