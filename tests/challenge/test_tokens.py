"""Signing and verifying: every forgery, wrong binding, expiry and tampering is rejected."""

from __future__ import annotations

import base64
import ipaddress
import json
import time
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapeshield.challenge import pow
from scrapeshield.challenge.page import safe_return_path
from scrapeshield.challenge.tokens import Signer, TokenError, binding_for, network_of

pytestmark = pytest.mark.clock_hour

KEY_A = b"a" * 32
KEY_B = b"b" * 32
BIND = binding_for("198.51.100.0/24", "Mozilla/5.0")


def payload(**extra: object) -> dict[str, object]:
    return {"n": "nonce", "d": 16, "exp": time.time() + 60, "b": BIND, "r": "/", **extra}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def reason(signer: Signer, kind: str, token: str, binding: str = BIND) -> str:
    with pytest.raises(TokenError) as info:
        signer.verify(kind, token, binding=binding)
    return info.value.reason


def test_round_trip() -> None:
    signer = Signer([KEY_A])
    token = signer.sign("pow", payload())
    assert signer.verify("pow", token, binding=BIND).payload["n"] == "nonce"


def test_payload_written_as_sorted_compact_json() -> None:
    """The body is the JSON `json.dumps(sort_keys=True)` writes (msgspec writes it faster):
    tokens signed before the change read the same, and a path with a non-ASCII character
    still round-trips (written as UTF-8 rather than escaped)."""
    signer = Signer([KEY_A])
    data = payload(m="pow", z=0.1, a=1796419206)
    body = signer.sign("pass", data).split(".")[0]
    assert body == b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    token = signer.sign("pass", payload(r="/galerie/été"))
    assert signer.verify("pass", token, binding=BIND).payload["r"] == "/galerie/été"


def test_forged_signature_with_another_key() -> None:
    forged = Signer([KEY_B]).sign("pow", payload())
    assert reason(Signer([KEY_A]), "pow", forged) == "signature"


def test_kind_is_signed_so_a_challenge_is_not_a_pass() -> None:
    signer = Signer([KEY_A])
    assert reason(signer, "pass", signer.sign("pow", payload())) == "signature"


def test_expired() -> None:
    signer = Signer([KEY_A])
    token = signer.sign("pass", payload(exp=time.time() - 1))
    assert reason(signer, "pass", token) == "expired"


def test_wrong_binding() -> None:
    signer = Signer([KEY_A])
    token = signer.sign("pass", payload())
    other_network = binding_for("203.0.113.0/24", "Mozilla/5.0")
    other_agent = binding_for("198.51.100.0/24", "python-requests/2.32")
    assert reason(signer, "pass", token, other_network) == "binding"
    assert reason(signer, "pass", token, other_agent) == "binding"


def test_tampered_difficulty_is_rejected() -> None:
    signer = Signer([KEY_A])
    token = signer.sign("pow", payload(d=20))
    body, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["d"] = 1
    tampered = b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    assert reason(signer, "pow", f"{tampered}.{mac}") == "signature"


def test_rotation_first_key_signs_all_verify() -> None:
    old = Signer([KEY_A]).sign("pass", payload())
    rotated = Signer([KEY_B, KEY_A])
    assert rotated.verify("pass", old, binding=BIND)
    new = rotated.sign("pass", payload())
    assert reason(Signer([KEY_A]), "pass", new) == "signature"  # signed with the new key
    assert reason(Signer([KEY_B]), "pass", old) == "signature"  # old key dropped: old pass ends


@pytest.mark.parametrize(
    "token", ["", ".", "abc", "a.b.c", "é.é", "!!!.???", "x" * 5000, "e30.AAAA", "bnVsbA.AAAA"]
)
def test_malformed_tokens_are_rejected_not_raised(token: str) -> None:
    assert reason(Signer([KEY_A]), "pow", token) in {"malformed", "signature"}


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_any_single_character_change_is_rejected(position: int, replacement: str) -> None:
    signer = Signer([KEY_A])
    token = signer.sign("pow", payload())
    index = position % len(token)
    tampered = token[:index] + replacement + token[index + 1 :]
    if tampered == token:
        return
    # Every other spelling is refused, those naming the same bytes too (`/` for `_`, `+` for
    # `-`, other unused low bits in the MAC's last character).
    with pytest.raises(TokenError):
        signer.verify("pow", tampered, binding=BIND)


@pytest.mark.parametrize("swap", [("_", "/"), ("-", "+")])
def test_a_token_has_one_spelling(swap: tuple[str, str]) -> None:
    """The url-safe alphabet's two letters in the standard alphabet's spelling decode to the
    same bytes; verify refuses them (found by the test above, at random, on a loaded CI)."""
    signer = Signer([KEY_A])
    tokens = (signer.sign("pow", payload(n=str(n))) for n in range(500))
    body, mac = next(t.split(".") for t in tokens if swap[0] in t.split(".")[1])
    assert signer.verify("pow", f"{body}.{mac}", binding=BIND)
    respelled = f"{body}.{mac.replace(swap[0], swap[1])}"  # the MAC's bytes unchanged
    assert reason(signer, "pow", respelled) == "malformed"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.text(max_size=300))
def test_garbage_never_verifies_and_never_crashes(raw: bytes, text: str) -> None:
    signer = Signer([KEY_A])
    for token in (b64(raw), text, f"{b64(raw)}.{b64(raw[:32])}"):
        with pytest.raises(TokenError):
            signer.verify("pass", token, binding=BIND)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_bindings_differ_when_agents_differ(agent_a: str, agent_b: str) -> None:
    if agent_a != agent_b:
        assert binding_for("n", agent_a) != binding_for("n", agent_b)


def test_network_prefixes() -> None:
    v4 = ipaddress.ip_address("198.51.100.77")
    v6 = ipaddress.ip_address("2001:db8:1:2:3::9")
    assert network_of(v4, 24, 48) == "198.51.100.0/24"
    assert network_of(v6, 24, 48) == "2001:db8:1::/48"
    assert network_of(None, 24, 48) == "unknown"


# -- proof of work ----------------------------------------------------------------------------


def test_leading_zero_bits() -> None:
    assert pow.leading_zero_bits(b"\x00\x00\x01" + b"\xff" * 29) == 23
    assert pow.leading_zero_bits(b"\x80" + b"\x00" * 31) == 0
    assert pow.leading_zero_bits(b"\x00" * 32) == 256


@settings(max_examples=30, deadline=None)
@given(nonce=st.text(alphabet="abcdefXYZ0123456789-_", min_size=8, max_size=24))
def test_a_solution_satisfies_its_difficulty_and_not_much_more(nonce: str) -> None:
    counter = pow.solve(nonce, 8)
    assert counter is not None
    assert pow.check(nonce, counter, 8)
    assert pow.solve(nonce, 8, limit=counter) is None  # solve returns the first one


@pytest.mark.parametrize("text", ["", "-1", "1e5", "١٢", "12 ", "9" * 21, "0x10"])
def test_bad_counters_are_refused(text: str) -> None:
    assert pow.parse_counter(text) is None


def test_difficulty_grows_with_score_and_is_capped() -> None:
    def bits(score: float) -> int:
        return pow.difficulty_for(score, 40, base=16, step=20, maximum=22)

    assert bits(40) == 16
    assert bits(10) == 16
    assert bits(60) == 17
    assert bits(100) == 19
    assert bits(1e9) == 22
    assert bits(float("inf")) == 22
    assert bits(float("nan")) == 16


def test_difficulty_grows_with_budget_use_and_is_capped() -> None:
    def bits(score: float, use: float) -> int:
        return pow.difficulty_for(score, 40, base=16, step=10, maximum=20, budget_use=use)

    assert [bits(40, use) for use in (0, 0.5, 0.74, 0.75, 1.0, 1.25)] == [16, 16, 16, 17, 18, 19]
    assert bits(60, 1.0) == 20  # +2 for the score, +2 for the budget
    assert bits(79, 1.5) == 20
    assert bits(40, float("inf")) == 20
    assert bits(40, float("nan")) == 16
    assert bits(40, -3) == 16


@settings(max_examples=500, deadline=None)
@given(path=st.text(max_size=80), query=st.text(max_size=40))
def test_return_paths_always_stay_on_this_origin(path: str, query: str) -> None:
    back = safe_return_path(path, query)
    assert back.startswith("/")
    assert not back.startswith("//")
    assert back.isascii()
    assert not any(c in back for c in "\\\r\n\t\0 ")
    assert urllib.parse.urlsplit(back).netloc == ""
