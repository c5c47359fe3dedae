"""`Signer` encodes with `binascii` directly and copies a keyed HMAC per MAC (a returning
visitor's first read, a pass on each request): it signs the same tokens `base64` and a new HMAC
per token wrote, accepts exactly the tokens, gives exactly the payloads and refuses with exactly
the reasons that check did, over good, expired, tampered, re-spelt, mis-kinded and malformed
tokens and payloads, bindings right, wrong and empty, with one key and with rotated keys."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
import time
from typing import Any

import msgspec

from scrapeshield.challenge.tokens import MAX_TOKEN_LENGTH, Signer, TokenError
from scrapeshield.identity.token import KIND

NOW = int(time.time())
KEYS = (b"k" * 32, b"old-key-" * 4)
BINDING = "A" * 16


def unb64(text: str) -> bytes:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def by_decoding(keys: tuple[bytes, ...], kind: str, token: str, binding: str, now: float) -> Any:
    """The check as it was (`base64`'s decoder, a new HMAC): the payload, or the reason."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return "malformed"
    body, dot, mac_text = token.partition(".")
    if not dot or not body or not mac_text:
        return "malformed"
    try:
        mac = unb64(mac_text)
        raw = unb64(body)
    except (binascii.Error, ValueError):
        return "malformed"
    valid = False
    for key in keys:
        expected = hmac.new(key, f"{kind}.{body}".encode("ascii"), hashlib.sha256).digest()
        valid |= hmac.compare_digest(mac, expected)
    if not valid:
        return "signature"
    try:
        payload = msgspec.json.decode(raw)
    except (UnicodeDecodeError, ValueError):
        return "malformed"
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int | float):
        return "malformed"
    if now >= payload["exp"]:
        return ("expired", payload)
    if not hmac.compare_digest(str(payload.get("b", "")).encode(), binding.encode()):
        return ("binding", payload)
    return payload


def by_verify(signer: Signer, kind: str, token: str, binding: str, now: float) -> Any:
    try:
        return signer.verify(kind, token, binding=binding, now=now).payload
    except TokenError as exc:
        return exc.reason if exc.payload is None else (exc.reason, exc.payload)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed(key: bytes, kind: str, body: str) -> str:
    return b64(hmac.new(key, f"{kind}.{body}".encode("ascii"), hashlib.sha256).digest())


def payloads(pick: random.Random) -> dict[str, Any]:
    if pick.random() < 0.5:  # as `issue` writes it
        return {"v": "x" * 22, "b": BINDING, "iat": NOW - pick.randrange(9**6), "exp": NOW + 60}
    payload: dict[str, Any] = {
        "v": pick.choice(["abc", "", 7, None, "x" * 22]),
        "b": pick.choice([BINDING, "", None, 3, "é"]),
        "iat": pick.choice([NOW - 90_000, NOW, 1.5, "now", True]),
        "exp": pick.choice([NOW + 3600, NOW - 1, NOW + 0.5, "later", None, True, 10**12]),
    }
    for name in list(payload):
        if pick.random() < 0.1:
            del payload[name]
    return payload


def tokens(pick: random.Random) -> list[str]:
    """Tokens as signed, then each spoilt one way or another."""
    key = pick.choice((*KEYS, b"someone-else's"))
    kind = KIND if pick.random() < 0.9 else "pass"
    raw = msgspec.json.encode(payloads(pick)) if pick.random() < 0.95 else b"[1, 2]"
    body = b64(raw) if pick.random() < 0.97 else "not*base64"
    mac = signed(key, kind, body)
    out = [f"{body}.{mac}"]
    out.append(f"{body}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}")  # one MAC character off
    out.append(f"{body}.{mac}=")  # padded: not as `sign` writes it
    out.append(f"{body}.{mac.replace('-', '+').replace('_', '/')}")  # the other alphabet
    out.append(f"{body}=.{signed(key, kind, body + '=')}")  # a padded body, signed as such
    out.append(f"{body.replace('-', '+').replace('_', '/')}.{mac}")  # the body re-spelt
    out.append(f"{body}.")
    out.append(f".{mac}")
    out.append(body)
    out.append(f"{body}.{mac}é")
    out.append(f"{body}.{mac}.{mac}")
    out.append("")
    out.append(f"{body}.{mac}" + "A" * pick.choice([0, 2100]))
    # the last character's unused low bits set: decodes to the same bytes, another spelling
    last = mac[-1]  # (a 32-byte MAC's last character: its two low bits unused, so 0)
    out.append(f"{body}.{mac[:-1]}{chr(ord(last) + 1) if last in 'AEIMQUYcgkosw048' else last}")
    return out


def test_signs_as_base64_and_a_new_hmac_did() -> None:
    pick = random.Random(7)
    for keys in (KEYS[:1], KEYS, KEYS[::-1]):
        signer = Signer(keys)
        for _ in range(300):
            payload, kind = payloads(pick), pick.choice([KIND, "pass", "wait"])
            body = b64(msgspec.json.Encoder(order="sorted").encode(payload))
            expected = f"{body}.{signed(keys[0], kind, body)}"
            assert signer.sign(kind, payload) == expected  # (again: the keyed HMAC unchanged)
            assert signer.sign(kind, payload) == expected


def test_verify_answers_as_the_decoding_check_did() -> None:
    pick = random.Random(19)
    keyrings = [KEYS[:1], KEYS, KEYS[::-1], KEYS[1:]]
    outcomes: set[str] = set()
    for _ in range(500):
        for token in tokens(pick):
            for keys in keyrings:
                signer = Signer(keys)
                for kind in (KIND, "pass"):
                    for binding in (BINDING, "", "B" * 16):
                        now = pick.choice([NOW, NOW + 7200])
                        expected = by_decoding(keys, kind, token, binding, now)
                        assert by_verify(signer, kind, token, binding, now) == expected, token
                        outcomes.add(
                            expected
                            if isinstance(expected, str)
                            else expected[0]
                            if isinstance(expected, tuple)
                            else "valid"
                        )
    # every answer was met: the comparison is not of one kind of refusal alone
    assert outcomes == {"malformed", "signature", "expired", "binding", "valid"}
