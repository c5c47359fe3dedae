"""First-party credentials, compiled from `Settings.credentials` once and checked per request.

A request that carries none of the configured headers costs one dict lookup per credential. An
invalid credential is ignored: the request is decided as if it carried none (it is never an
allow, and never a reason to block a person whose app clock is wrong).

The signed form, made by the app's client for each request (`sign` here does the same):

    X-App-Signature: t=1767225600,v1=<hex HMAC-SHA256(key, "GET\\n/api/artworks\\n1767225600")>
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Sequence

from scrapeshield.credentials.settings import CredentialSpec
from scrapeshield.facts import Facts

logger = logging.getLogger("scrapeshield")

SIGNATURE_VERSION = "v1"
_MAX_VALUE = 1024  # longer header values are not parsed at all (bounded work per request)
_MAX_TIMESTAMP_DIGITS = 12

Check = Callable[[str, Facts], bool]


def signed_message(method: str, path: str, timestamp: int) -> bytes:
    """What the HMAC covers: the method, the path (as the app sees it, without the query) and
    the timestamp, one per line."""
    return f"{method.upper()}\n{path}\n{timestamp}".encode()


def sign(key: str | bytes, method: str, path: str, timestamp: int | None = None) -> str:
    """The header value a client sends: `t=<timestamp>,v1=<hex digest>` (now, by default)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    raw = key.encode("utf-8") if isinstance(key, str) else key
    digest = hmac.new(raw, signed_message(method, path, stamp), hashlib.sha256).hexdigest()
    return f"t={stamp},{SIGNATURE_VERSION}={digest}"


class _Signed:
    """Checks `t=...,v1=...` against every key, in constant time per key."""

    __slots__ = ("_keys", "_max_age")

    def __init__(self, keys: Sequence[bytes], max_age: float) -> None:
        self._keys = tuple(keys)
        self._max_age = max_age

    def __call__(self, value: str, facts: Facts) -> bool:
        if len(value) > _MAX_VALUE:
            return False
        fields: dict[str, str] = {}
        for part in value.split(","):
            label, sep, item = part.strip().partition("=")
            if sep:
                fields[label] = item
        stamp, signature = fields.get("t", ""), fields.get(SIGNATURE_VERSION, "")
        if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > _MAX_TIMESTAMP_DIGITS:
            return False
        timestamp = int(stamp)
        if abs(time.time() - timestamp) > self._max_age:
            return False
        if not signature.isascii():  # compare_digest refuses non-ASCII str
            return False
        message = signed_message(facts.method, facts.path, timestamp)
        found = False
        for key in self._keys:  # every key, so the time taken does not say which one matched
            expected = hmac.new(key, message, hashlib.sha256).hexdigest()
            found |= hmac.compare_digest(expected, signature.lower())
        return found


class _Verified:
    """The operator's callable; one that raises rejects the credential (logged)."""

    __slots__ = ("_name", "_verify")

    def __init__(self, name: str, verify: Callable[[str], bool]) -> None:
        self._name = name
        self._verify = verify

    def __call__(self, value: str, facts: Facts) -> bool:
        try:
            return self._verify(value) is True
        except Exception:
            logger.exception("credential %r: its verify callable raised; not valid", self._name)
            return False


class Credentials:
    """The configured credentials, in order; `first_valid` names the first one that holds."""

    __slots__ = ("_checks",)

    def __init__(self, specs: Sequence[CredentialSpec]) -> None:
        checks: list[tuple[str, str, Check]] = []
        for spec in specs:
            check: Check
            if spec.verify is not None:
                check = _Verified(spec.name, spec.verify)
            else:
                keys = [k.get_secret_value().encode("utf-8") for k in spec.secret_keys]
                check = _Signed(keys, spec.max_age)
            checks.append((spec.name, spec.header, check))
        self._checks = tuple(checks)

    def __bool__(self) -> bool:
        return bool(self._checks)

    def first_valid(self, facts: Facts) -> str | None:
        headers = facts.headers
        for name, header, check in self._checks:
            value = headers.get(header)
            if value is not None and check(value, facts):
                return name
        return None
